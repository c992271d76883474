//! The engine half of radix-sim. See [`types`] for the contract with the API half.

pub mod types;
