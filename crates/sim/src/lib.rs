//! radix-sim: a local Radix network on the real Radix Engine, served over the Gateway,
//! Core and System APIs on loopback, with fault injection.
//!
//! - [`ledger`]: the engine half — genesis, round clock, leader schedule, mempool, and the
//!   plain-data [`ledger::types`] view it publishes.
//! - the API half builds on that view only: [`api`] (gateway, core, system and control
//!   servers), [`faults`], [`scenario`] files, the start-up [`info`], and the [`cli`].

pub mod ledger;

pub mod api;
pub mod bench;
pub mod cli;
pub mod demo;
pub mod faults;
pub mod harness;
pub mod info;
pub mod profile;
pub mod scenario;
// --tls-front: the nodes' APIs behind HTTPS + basic auth, as their nginx serves them.
pub mod front;
