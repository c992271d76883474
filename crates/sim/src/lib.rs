//! radix-sim: a local Radix network on the real Radix Engine, served over the Gateway,
//! Core and System APIs on loopback, with fault injection.
//!
//! - [`ledger`]: the engine half — genesis, round clock, leader schedule, mempool, and the
//!   plain-data [`ledger::types`] view it publishes.
//! - the API half (gateway, core, system and control servers, faults, scenarios) builds
//!   on that view only.

pub mod ledger;
