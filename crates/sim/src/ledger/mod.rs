//! The engine half of radix-sim: genesis on the real Radix Engine, the round clock,
//! the stake-weighted leader schedule, nodes (up/down, synced), and the mempool.
//!
//! Everything the API half reads is published as an immutable [`types::LedgerSnapshot`]
//! after every round; see [`types`] for that contract. The engine and its database live
//! behind one mutex inside [`Sim`]; reads of the snapshot never wait for a round.

pub mod types;

use std::path::PathBuf;
use std::sync::Arc;

use types::{
    AccountView, IntentStatus, LedgerSnapshot, PreviewOutcome, PreviewRequest, RoundRecord,
    SubmitOutcome,
};

/// How to build the simulated network.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of every generated key and of the leader schedule.
    pub seed: u64,
    /// Stake of each validator at genesis, XRD. Its length is the number of validators.
    pub validator_stakes_xrd: Vec<u64>,
    /// Which of them is ours (index into `validator_stakes_xrd`).
    pub our_validator_index: usize,
    /// Wall-clock length of one round for [`Sim::start_clock`].
    pub round_length_ms: u64,
    /// Epoch length in rounds (the engine's epoch change condition, min = max).
    pub rounds_per_epoch: u64,
    /// The owner account's Ed25519 private key file (64 hex chars). If the file exists
    /// it is read (the key "given to" the sim); otherwise a key is derived from the seed
    /// and written there with mode 0600.
    pub owner_key_file: PathBuf,
    /// XRD the owner account holds at genesis.
    pub owner_xrd_balance: u64,
}

impl SimConfig {
    /// 8 validators with unequal stakes, ours first, 100 ms rounds, 20 rounds per epoch
    /// (an epoch every 2 s, so ten epochs pass in 20 s).
    pub fn new(seed: u64, owner_key_file: PathBuf) -> Self {
        Self {
            seed,
            validator_stakes_xrd: DEFAULT_STAKES_XRD.to_vec(),
            our_validator_index: 0,
            round_length_ms: 100,
            rounds_per_epoch: 20,
            owner_key_file,
            owner_xrd_balance: 10_000,
        }
    }
}

/// Default genesis stakes: unequal so the leader schedule's stake weighting shows.
pub const DEFAULT_STAKES_XRD: [u64; 8] = [
    1_000_000, 2_000_000, 1_500_000, 800_000, 1_200_000, 600_000, 900_000, 1_100_000,
];

/// Errors of the engine half.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid sim config: {0}")]
    Config(String),
    #[error("owner key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error("unknown node {0:?}; nodes are \"primary\", \"backup\" and \"validator-<i>\"")]
    UnknownNode(String),
    #[error("invalid address {0:?}: {1}")]
    BadAddress(String, String),
    #[error("invalid preview request: {0}")]
    BadPreview(String),
    #[error("engine: {0}")]
    Engine(String),
}

/// Public facts about the running network, for the start-up printout and info file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimInfo {
    pub network_id: u8,
    pub network_name: String,
    pub our_validator: String,
    pub owner_account: String,
    pub owner_public_key_hex: String,
    pub owner_key_file: PathBuf,
    pub primary_public_key_hex: String,
    pub backup_public_key_hex: String,
    pub xrd_resource: String,
    pub owner_badge_resource: String,
    /// Our validator's owner badge local id, `[<hex>]`.
    pub owner_badge_local_id: String,
    /// Node names in order: "primary", "backup", then "validator-<i>".
    pub nodes: Vec<String>,
    pub round_length_ms: u64,
    pub rounds_per_epoch: u64,
}

/// Called at the start of each round, before the leader's proposal is decided, with
/// (epoch, round) of the round about to happen. Scenario faults at round R apply to R.
pub type RoundHook = Box<dyn FnMut(&Sim, u64, u64) + Send>;

/// The simulated network. Cheap to clone; all clones share one ledger.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

struct Inner {}

/// The running round clock; stops when stopped or dropped.
pub struct ClockHandle {}

impl ClockHandle {
    /// Stop the clock and wait for its thread.
    pub fn stop(self) {
        todo!()
    }
}

impl Sim {
    /// Run genesis on a fresh in-memory engine.
    pub fn genesis(_cfg: SimConfig) -> Result<Sim, SimError> {
        todo!()
    }
    /// The last published view (never waits for a round in progress).
    pub fn snapshot(&self) -> Arc<LedgerSnapshot> {
        todo!()
    }
    /// A receiver that sees every published snapshot.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<LedgerSnapshot>> {
        todo!()
    }
    /// Run one round synchronously (tests drive rounds this way).
    pub fn step_round(&self) -> Result<RoundRecord, SimError> {
        todo!()
    }
    /// Step a round every `round_length_ms` on a background thread.
    pub fn start_clock(&self) -> ClockHandle {
        todo!()
    }
    pub fn add_round_hook(&self, _hook: RoundHook) {
        todo!()
    }
    pub fn set_node_up(&self, _node: &str, _up: bool) -> Result<(), SimError> {
        todo!()
    }
    pub fn set_node_synced(&self, _node: &str, _synced: bool) -> Result<(), SimError> {
        todo!()
    }
    /// Holdings of an account, from engine state; `None` if no such account exists.
    pub fn account(&self, _address: &str) -> Result<Option<AccountView>, SimError> {
        todo!()
    }
    /// Validate a notarized transaction and put it in the mempool.
    pub fn submit(&self, _notarized_payload: &[u8]) -> SubmitOutcome {
        todo!()
    }
    pub fn intent_status(&self, _intent_hash_bech32: &str) -> IntentStatus {
        todo!()
    }
    /// Execute without committing.
    pub fn preview(&self, _req: &PreviewRequest) -> Result<PreviewOutcome, SimError> {
        todo!()
    }
    /// The last `last_n` rounds, oldest first.
    pub fn round_history(&self, _last_n: usize) -> Vec<RoundRecord> {
        todo!()
    }
    pub fn info(&self) -> SimInfo {
        todo!()
    }
}
