//! radix-failover: keys, config, the failover transaction, and (later) the watch loop.
//!
//! Data flows one way: keys/config -> transaction. Each module is usable on its own by the
//! daemon: `keys` (mnemonic -> keys -> addresses), `keyfile` (0600 key files), `network`
//! (names/ids), `config` (TOML -> validated `Config`), `tx` (the `update_key` transaction).

pub mod access_controller;
pub mod alerts;
pub mod badge;
pub mod config;
pub mod control;
pub mod field;
pub mod file_trust;
pub mod hardening;
pub mod hooks;
pub mod keyfile;
pub mod keys;
pub mod maintenance;
pub mod manifest_guard;
pub mod manifest_template;
pub mod metrics;
pub mod network;
pub mod observe;
pub mod policy;
pub mod preflight;
pub mod preflight_recheck;
pub mod roles;
pub mod runner;
pub mod secret_file;
pub mod sources;
pub mod state;
pub mod submit;
pub mod systemd;
pub mod tripwire;
pub mod tx;
