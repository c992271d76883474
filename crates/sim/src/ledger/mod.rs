//! The engine half of radix-sim: genesis on the real Radix Engine, the round clock,
//! the stake-weighted leader schedule, nodes (up/down, synced), and the mempool.
//!
//! Everything the API half reads is published as an immutable [`types::LedgerSnapshot`]
//! after every round; see [`types`] for that contract. The engine and its database live
//! behind one mutex inside [`Sim`]; reads of the snapshot never wait for a round.
//!
//! Each round ([`Sim::step_round`]): run the round hooks; pick the leader from the
//! engine's current validator set, stake-weighted and deterministic from (seed, epoch,
//! round); the proposal is *made* iff a node that is up and synced is configured for
//! that validator and holds the key the set has for it; record the round with the
//! consensus manager's `next_round` (a missed proposal is a fallback round, which the
//! engine counts as a miss for the leader at once); in a made round, execute and
//! commit the mempool; publish a snapshot read back from the engine. Epoch changes,
//! the key in force, proposal counts and emission events all come from the engine.

mod access_controller;
mod engine;
mod keys;
pub mod leaders;
mod owner_actions;
mod preview;
pub mod types;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use radix_common::prelude::*;
use radix_engine_interface::blueprints::consensus_manager::LeaderProposalHistory;
use radix_transactions::manifest::decompile;
use radix_transactions::model::{
    HasNotarizedTransactionHash, HasTransactionIntentHash, RawNotarizedTransaction,
    TransactionManifestV1, UserTransaction,
};
use radix_transactions::prelude::{TransactionHashBech32Decoder, TransactionHashBech32Encoder};
use radix_transactions::validation::TransactionValidator;
use tracing::{debug, error, info, warn};

pub use access_controller::{AccessControllerState, TIMED_RECOVERY_MINUTES};
use engine::{Engine, GenesisValidatorSpec};
use types::{
    AccountView, ActiveInEpoch, CommitInfo, ConsensusConfigView, EmissionRecord, FeeChangeRequest,
    FungibleHolding, IntentStatus, LedgerPosition, LedgerSnapshot, NodeView, NonFungibleHolding,
    PreviewOutcome, PreviewRequest, RoundRecord, SubmitOutcome, ValidatorView,
    RECENT_PROPOSALS_TRACKED,
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
    /// Base pacemaker timeout on the sim's clock (the node's 3 s, scaled): a missed round lasts
    /// this, × 1.2 per consecutive timeout. 0: a missed round lasts a normal round.
    pub timeout_base_ms: u64,
    /// Probability that a healthy leader's round is missed anyway (0..1), drawn
    /// deterministically from (seed, epoch, round).
    pub background_miss_rate: f64,
    /// Where our validator's owner badge is at genesis.
    pub badge_in: BadgeIn,
}

/// Where our validator's owner badge is at genesis (`radix-sim run --badge-in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BadgeIn {
    /// In the owner account, whose key the daemon holds.
    #[default]
    Account,
    /// In a native access controller: the daemon's key is its primary role, a recovery key
    /// (written beside the owner key file, `recovery.key`) its recovery and confirmation roles.
    AccessController,
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
            timeout_base_ms: 0,
            background_miss_rate: 0.0,
            badge_in: BadgeIn::Account,
        }
    }

    /// The recovery key's file with `--badge-in access-controller`: beside the owner key file.
    pub fn recovery_key_file(&self) -> PathBuf {
        self.owner_key_file.with_file_name("recovery.key")
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
    /// `--badge-in access-controller`: the controller that holds the owner badge, the recovery
    /// key's file and its account.
    pub access_controller: Option<String>,
    pub recovery_key_file: Option<PathBuf>,
    pub recovery_account: Option<String>,
}

/// Called at the start of each round, before the leader's proposal is decided, with
/// (epoch, round) of the round about to happen. Scenario faults at round R apply to R.
/// Hooks may call any `Sim` method except [`Sim::step_round`] (that would deadlock).
pub type RoundHook = Box<dyn FnMut(&Sim, u64, u64) + Send>;

/// The most validators the sim accepts: the engine indexes the active set with a u8,
/// and mainnet's active set is 100.
const MAX_VALIDATORS: usize = 100;

/// Round records kept for [`Sim::round_history`]: ~17 minutes of 100 ms rounds, a
/// few hundred KB.
const ROUND_HISTORY_CAP: usize = 10_000;

/// A node of the simulated network.
struct Node {
    name: String,
    validator: ComponentAddress,
    key: Secp256k1PublicKey,
    up: bool,
    synced: bool,
    /// Fault `validators_missing`: a network-wide problem makes this node's proposals miss
    /// while it stays up and in sync.
    missing: bool,
    /// Fault `node_silent`: up, healthy and synced, but its proposals are missed.
    silent: bool,
    /// Fault `node_flaky`: half of its proposals time out.
    flaky: bool,
    /// The key the node was configured with; `key` differs while fault `node_wrong_key` holds.
    configured_key: Secp256k1PublicKey,
    /// Outcome of this node's validator's recent leader rounds while it validated.
    recent: VecDeque<bool>,
}

/// What the mempool knows about one intent.
struct IntentEntry {
    status: IntentStatus,
    raw: Vec<u8>,
    payload_hash: String,
    manifest: String,
}

#[derive(Default)]
struct Mempool {
    entries: HashMap<String, IntentEntry>,
    /// Intent hashes waiting for the next made round, in submission order.
    pending: VecDeque<String>,
    /// Rounds left in which nothing is executed (fault `mempool_stall`).
    stall_rounds: u64,
}

/// The engine and what is derived from its receipts.
struct Ledger {
    engine: Engine,
    /// Count of committed transactions (round changes and user transactions); the
    /// engine itself has no state version, a node's ledger does.
    state_version: u64,
    emissions: Arc<Vec<EmissionRecord>>,
    /// Leader schedule of one epoch: (epoch, active index leading round r at r - 1).
    schedule: Option<(u64, Vec<usize>)>,
    /// Timeouts in a row so far (for the pacemaker's backoff).
    consecutive_timeouts: u32,
}

struct Inner {
    cfg: SimConfig,
    info: SimInfo,
    network: NetworkDefinition,
    validators: Vec<ComponentAddress>,
    owner_accounts: Vec<ComponentAddress>,
    /// The owner account's key (its signature proof authorises the owner's own actions).
    owner_public_key: PublicKey,
    /// The genesis staker's account: where `move_owner_badge_away` sends the badge.
    staker_account: ComponentAddress,
    /// `--badge-in access-controller`: the controller holding the owner badge, and the
    /// recovery key (its recovery and confirmation roles).
    access_controller: Option<ComponentAddress>,
    recovery_public_key: Option<PublicKey>,
    xrd: String,
    badge: String,
    tx_validator: TransactionValidator,
    ledger: Mutex<Ledger>,
    nodes: Mutex<Vec<Node>>,
    mempool: Mutex<Mempool>,
    hooks: Mutex<Vec<RoundHook>>,
    /// Serialises rounds (the clock and tests may both step).
    step: Mutex<()>,
    history: Mutex<VecDeque<RoundRecord>>,
    snapshot_tx: tokio::sync::watch::Sender<Arc<LedgerSnapshot>>,
}

/// The simulated network. Cheap to clone; all clones share one ledger.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

/// The running round clock; stops when stopped or dropped.
pub struct ClockHandle {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ClockHandle {
    /// Stop the clock and wait for its thread (a round in progress finishes first).
    pub fn stop(self) {
        drop(self)
    }
}

impl Drop for ClockHandle {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread's wait with Disconnected.
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Lock a mutex, recovering the data if a panicking thread poisoned it: every
/// structure here is left consistent between statements that can panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Engine decimals as the gateway prints them.
fn dec(d: Decimal) -> String {
    d.to_string()
}

/// Whole XRD of a decimal, for leader weights (sub-XRD stake does not matter there).
fn whole(d: Decimal) -> u128 {
    d.to_string()
        .split('.')
        .next()
        .and_then(|s| s.parse::<u128>().ok())
        .unwrap_or(0)
}

impl Sim {
    /// Run genesis on a fresh in-memory engine.
    pub fn genesis(cfg: SimConfig) -> Result<Sim, SimError> {
        let n = cfg.validator_stakes_xrd.len();
        if n == 0 || n > MAX_VALIDATORS {
            return Err(SimError::Config(format!(
                "{n} validators configured; give between 1 and {MAX_VALIDATORS} stakes"
            )));
        }
        if cfg.our_validator_index >= n {
            return Err(SimError::Config(format!(
                "our_validator_index {} is out of range for {n} validators; use 0..{}",
                cfg.our_validator_index,
                n - 1
            )));
        }
        if let Some(i) = cfg.validator_stakes_xrd.iter().position(|s| *s == 0) {
            return Err(SimError::Config(format!(
                "validator {i} has stake 0; every validator needs stake to be in the active set"
            )));
        }
        if !(0.0..1.0).contains(&cfg.background_miss_rate) {
            return Err(SimError::Config(format!(
                "background miss rate {} is outside 0..1; give a probability such as 0.01",
                cfg.background_miss_rate
            )));
        }
        if cfg.round_length_ms == 0 || cfg.rounds_per_epoch == 0 {
            return Err(SimError::Config(
                "round_length_ms and rounds_per_epoch must be at least 1".into(),
            ));
        }
        let network = NetworkDefinition::simulator();
        let enc = AddressBech32Encoder::new(&network);
        let addr = |bytes: &[u8]| enc.encode(bytes).unwrap_or_else(|_| hex::encode(bytes));

        // Key order is fixed so the same seed gives the same network, whether or
        // not an owner key file is given.
        let mut ks = keys::KeySource::new(cfg.seed);
        let validator_keys: Vec<_> = (0..n).map(|_| ks.secp256k1()).collect();
        let other_owner_keys: Vec<_> = (0..n).map(|_| ks.ed25519()).collect();
        let generated_owner = ks.ed25519();
        let backup_key = ks.secp256k1().public_key();
        let staker_key = ks.ed25519().public_key();
        let generated_recovery = ks.ed25519();
        let owner_key = keys::load_or_write_owner_key(&cfg.owner_key_file, generated_owner)?;
        let owner_pk = owner_key.public_key();
        drop(owner_key);
        let owner_account = ComponentAddress::preallocated_account_from_public_key(&owner_pk);
        let recovery_pk: Option<PublicKey> = match cfg.badge_in {
            BadgeIn::Account => None,
            BadgeIn::AccessController => {
                let k =
                    keys::load_or_write_owner_key(&cfg.recovery_key_file(), generated_recovery)?;
                Some(k.public_key().into())
            }
        };
        let mut balances = vec![(owner_account, Decimal::from(cfg.owner_xrd_balance))];
        if let Some(k) = &recovery_pk {
            balances.push((
                ComponentAddress::preallocated_account_from_public_key(k),
                Decimal::from(access_controller::RECOVERY_XRD_BALANCE),
            ));
        }

        let owner_accounts: Vec<ComponentAddress> = (0..n)
            .map(|i| {
                if i == cfg.our_validator_index {
                    owner_account
                } else {
                    ComponentAddress::preallocated_account_from_public_key(
                        &other_owner_keys[i].public_key(),
                    )
                }
            })
            .collect();
        let specs: Vec<_> = (0..n)
            .map(|i| GenesisValidatorSpec {
                key: validator_keys[i].public_key(),
                owner: owner_accounts[i],
                stake_xrd: cfg.validator_stakes_xrd[i],
            })
            .collect();
        let mut engine = Engine::genesis(
            &specs,
            ComponentAddress::preallocated_account_from_public_key(&staker_key),
            balances,
            cfg.rounds_per_epoch,
            cfg.round_length_ms,
            now_ms(),
        )?;
        // Validator addresses are assigned by genesis; find them by their keys.
        let cv = engine.consensus()?;
        let validators: Vec<ComponentAddress> = specs
            .iter()
            .map(|s| {
                cv.active
                    .iter()
                    .find(|(_, k, _)| *k == s.key)
                    .map(|(a, _, _)| *a)
                    .ok_or_else(|| {
                        SimError::Engine(format!(
                            "validator with key {} is not in the genesis active set",
                            hex::encode(s.key.0)
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        let ours = validators[cfg.our_validator_index];
        let primary_key = specs[cfg.our_validator_index].key;
        let tx_validator = TransactionValidator::new(&engine.db, &network);
        let access_controller = match &recovery_pk {
            None => None,
            Some(recovery) => Some(access_controller::secure_badge_at_genesis(
                &mut engine,
                &tx_validator,
                owner_account,
                &owner_pk.into(),
                ours,
                recovery,
            )?),
        };

        let mut nodes = vec![
            Node {
                name: "primary".into(),
                validator: ours,
                key: primary_key,
                configured_key: primary_key,
                up: true,
                synced: true,
                missing: false,
                silent: false,
                flaky: false,
                recent: VecDeque::new(),
            },
            Node {
                name: "backup".into(),
                validator: ours,
                key: backup_key,
                configured_key: backup_key,
                up: true,
                synced: true,
                missing: false,
                silent: false,
                flaky: false,
                recent: VecDeque::new(),
            },
        ];
        for i in (0..n).filter(|i| *i != cfg.our_validator_index) {
            nodes.push(Node {
                name: format!("validator-{i}"),
                validator: validators[i],
                key: specs[i].key,
                configured_key: specs[i].key,
                up: true,
                synced: true,
                missing: false,
                silent: false,
                flaky: false,
                recent: VecDeque::new(),
            });
        }
        let info = SimInfo {
            network_id: network.id,
            network_name: network.logical_name.to_string(),
            our_validator: addr(ours.as_node_id().as_bytes()),
            owner_account: addr(owner_account.as_node_id().as_bytes()),
            owner_public_key_hex: hex::encode(owner_pk.0),
            owner_key_file: cfg.owner_key_file.clone(),
            primary_public_key_hex: hex::encode(primary_key.0),
            backup_public_key_hex: hex::encode(backup_key.0),
            xrd_resource: addr(XRD.as_node_id().as_bytes()),
            owner_badge_resource: addr(VALIDATOR_OWNER_BADGE.as_node_id().as_bytes()),
            owner_badge_local_id: NonFungibleLocalId::bytes(ours.as_node_id().0.to_vec())
                .map(|id| id.to_string())
                .unwrap_or_default(),
            nodes: nodes.iter().map(|n| n.name.clone()).collect(),
            round_length_ms: cfg.round_length_ms,
            rounds_per_epoch: cfg.rounds_per_epoch,
            access_controller: access_controller.map(|a| addr(a.as_node_id().as_bytes())),
            recovery_key_file: recovery_pk.map(|_| cfg.recovery_key_file()),
            recovery_account: recovery_pk.map(|k| {
                addr(
                    ComponentAddress::preallocated_account_from_public_key(&k)
                        .as_node_id()
                        .as_bytes(),
                )
            }),
        };
        let ledger = Ledger {
            engine,
            // The badge's move into the controller is a committed transaction.
            state_version: 1 + u64::from(access_controller.is_some()),
            emissions: Arc::new(vec![]),
            schedule: None,
            consecutive_timeouts: 0,
        };
        // Replaced by the genesis snapshot before `genesis` returns.
        let (snapshot_tx, _) = tokio::sync::watch::channel(Arc::new(LedgerSnapshot::default()));
        let xrd = info.xrd_resource.clone();
        let badge = info.owner_badge_resource.clone();
        let inner = Inner {
            cfg,
            info,
            network,
            validators,
            owner_accounts,
            owner_public_key: owner_pk.into(),
            staker_account: ComponentAddress::preallocated_account_from_public_key(&staker_key),
            access_controller,
            recovery_public_key: recovery_pk,
            xrd,
            badge,
            tx_validator,
            ledger: Mutex::new(ledger),
            nodes: Mutex::new(nodes),
            mempool: Mutex::new(Mempool::default()),
            hooks: Mutex::new(vec![]),
            step: Mutex::new(()),
            history: Mutex::new(VecDeque::new()),
            snapshot_tx,
        };
        let sim = Sim {
            inner: Arc::new(inner),
        };
        {
            let l = lock(&sim.inner.ledger);
            let snap = sim.build_snapshot(&l)?;
            let nodes = lock(&sim.inner.nodes);
            sim.publish(snap, &nodes);
        }
        let s = sim.snapshot();
        info!(
            network = %s.position.network_name,
            epoch = s.position.epoch,
            validators = s.validators.len(),
            our_validator = %sim.inner.info.our_validator,
            "genesis done"
        );
        Ok(sim)
    }

    /// The last published view (never waits for a round in progress).
    pub fn snapshot(&self) -> Arc<LedgerSnapshot> {
        self.inner.snapshot_tx.borrow().clone()
    }

    /// A receiver that sees every published snapshot.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<LedgerSnapshot>> {
        self.inner.snapshot_tx.subscribe()
    }

    /// Public facts about the network.
    pub fn info(&self) -> SimInfo {
        self.inner.info.clone()
    }

    /// The last `last_n` rounds, oldest first.
    pub fn round_history(&self, last_n: usize) -> Vec<RoundRecord> {
        let h = lock(&self.inner.history);
        h.iter()
            .skip(h.len().saturating_sub(last_n))
            .cloned()
            .collect()
    }

    pub fn add_round_hook(&self, hook: RoundHook) {
        lock(&self.inner.hooks).push(hook);
    }

    /// Bring a node up or down. Applies from the next round decided.
    pub fn set_node_up(&self, node: &str, up: bool) -> Result<(), SimError> {
        self.update_node(node, |n| n.up = up)?;
        info!(node, up, "node {}", if up { "up" } else { "down" });
        Ok(())
    }

    /// Put a node in or out of sync. An out-of-sync node cannot propose.
    pub fn set_node_synced(&self, node: &str, synced: bool) -> Result<(), SimError> {
        self.update_node(node, |n| n.synced = synced)?;
        info!(
            node,
            synced,
            "node {}",
            if synced { "in sync" } else { "out of sync" }
        );
        Ok(())
    }

    /// Fault `validators_missing`: the node stays up and in sync but its proposals miss.
    pub fn set_node_missing(&self, node: &str, missing: bool) -> Result<(), SimError> {
        self.update_node(node, |n| n.missing = missing)?;
        info!(
            node,
            missing,
            "node proposals {}",
            if missing { "missing" } else { "back" }
        );
        Ok(())
    }

    fn update_node(&self, name: &str, f: impl FnOnce(&mut Node)) -> Result<(), SimError> {
        let mut nodes = lock(&self.inner.nodes);
        let n = nodes
            .iter_mut()
            .find(|n| n.name == name)
            .ok_or_else(|| SimError::UnknownNode(name.to_string()))?;
        f(n);
        // Republish at once so the APIs see the node's new state without waiting
        // for a round; the rest of the snapshot is unchanged.
        let views = self.node_views(&nodes, &self.snapshot());
        self.inner.snapshot_tx.send_modify(|s| {
            let mut next = (**s).clone();
            next.nodes = views;
            *s = Arc::new(next);
        });
        Ok(())
    }

    /// A made-up resource address of this network (for listings padded by the fault
    /// `gateway_account_pages`): entity type `fungible` or not, numbered `i`. No such
    /// resource exists on ledger.
    pub fn filler_resource_address(&self, fungible: bool, i: u32) -> String {
        let kind = if fungible {
            EntityType::GlobalFungibleResourceManager
        } else {
            EntityType::GlobalNonFungibleResourceManager
        };
        let mut bytes = [0u8; NodeId::LENGTH];
        bytes[0] = kind as u8;
        bytes[1..5].copy_from_slice(b"fill");
        bytes[5..9].copy_from_slice(&i.to_be_bytes());
        AddressBech32Encoder::new(&self.inner.network)
            .encode(&bytes)
            .unwrap_or_else(|_| hex::encode(bytes))
    }

    /// Where a non-fungible is (`resource_...`, its local id as `#1#`, `[..]`, `<..>` or
    /// `{..}`): `(vault address, owning component address)`, or `None` when no vault holds
    /// it. The error names a malformed resource or id.
    pub fn non_fungible_location(
        &self,
        resource: &str,
        local_id: &str,
    ) -> Result<Option<(String, String)>, SimError> {
        let decoder = AddressBech32Decoder::new(&self.inner.network);
        let res = ResourceAddress::try_from_bech32(&decoder, resource).ok_or_else(|| {
            SimError::BadAddress(
                resource.to_string(),
                format!(
                    "not a resource address of network {}",
                    self.inner.network.logical_name
                ),
            )
        })?;
        let id = NonFungibleLocalId::from_str(local_id).map_err(|e| {
            SimError::BadAddress(
                local_id.to_string(),
                format!("not a non-fungible local id ({e:?}); e.g. #1# or [0a1b]"),
            )
        })?;
        let enc = AddressBech32Encoder::new(&self.inner.network);
        let a = |b: &[u8]| enc.encode(b).unwrap_or_else(|_| hex::encode(b));
        Ok(lock(&self.inner.ledger)
            .engine
            .non_fungible_location(&res, &id)
            .map(|(vault, owner)| (a(vault.as_bytes()), a(owner.as_node_id().as_bytes()))))
    }

    /// Holdings of an account, from engine state. A valid account address that was
    /// never used on ledger (a preallocated account) gives an empty view, as the
    /// gateway shows it; `None` means the address is no account at all.
    pub fn account(&self, address: &str) -> Result<Option<AccountView>, SimError> {
        let decoder = AddressBech32Decoder::new(&self.inner.network);
        let component = ComponentAddress::try_from_bech32(&decoder, address).ok_or_else(|| {
            SimError::BadAddress(
                address.to_string(),
                format!(
                    "not a component address of network {} (expected account_{}1…)",
                    self.inner.network.logical_name, self.inner.network.hrp_suffix
                ),
            )
        })?;
        let enc = AddressBech32Encoder::new(&self.inner.network);
        let a = |b: &[u8]| enc.encode(b).unwrap_or_else(|_| hex::encode(b));
        let vaults = lock(&self.inner.ledger).engine.holdings(&component);
        let Some(vaults) = vaults else {
            return Ok(if component.as_node_id().is_global_preallocated() {
                Some(AccountView {
                    address: address.to_string(),
                    fungibles: vec![],
                    non_fungibles: vec![],
                })
            } else {
                None
            });
        };
        let mut view = AccountView {
            address: address.to_string(),
            fungibles: vec![],
            non_fungibles: vec![],
        };
        for v in vaults {
            if v.resource.is_fungible() {
                view.fungibles.push(FungibleHolding {
                    resource_address: a(v.resource.as_node_id().as_bytes()),
                    amount: dec(v.amount),
                    vault_address: a(v.vault.as_bytes()),
                });
            } else {
                view.non_fungibles.push(NonFungibleHolding {
                    resource_address: a(v.resource.as_node_id().as_bytes()),
                    vault_address: a(v.vault.as_bytes()),
                    ids: v.ids.iter().map(|id| id.to_string()).collect(),
                });
            }
        }
        Ok(Some(view))
    }

    /// Validate a notarized transaction and put it in the mempool; it is executed at
    /// the next made round.
    ///
    /// A transaction whose epoch window has not started yet is rejected as not
    /// permanent and not tracked (the real node's mempool also refuses it for now);
    /// the submitter may retry once the window opens.
    pub fn submit(&self, notarized_payload: &[u8]) -> SubmitOutcome {
        let raw = RawNotarizedTransaction::from_slice(notarized_payload);
        let validator = &self.inner.tx_validator;
        let prepared = match raw.prepare(validator.preparation_settings()) {
            Ok(p) => p,
            Err(e) => {
                return SubmitOutcome::Rejected {
                    intent_hash_bech32: None,
                    reason: format!("transaction payload cannot be decoded: {e:?}"),
                    permanent: true,
                }
            }
        };
        let hashes = TransactionHashBech32Encoder::new(&self.inner.network);
        let intent_hash = hashes
            .encode(&prepared.transaction_intent_hash())
            .unwrap_or_default();
        let payload_hash = hashes
            .encode(&prepared.notarized_transaction_hash())
            .unwrap_or_default();
        let known = |status: &IntentStatus| match status {
            IntentStatus::Pending { .. } | IntentStatus::Unknown => SubmitOutcome::Accepted {
                intent_hash_bech32: intent_hash.clone(),
                duplicate: true,
            },
            IntentStatus::CommittedSuccess(c)
            | IntentStatus::CommittedFailure { commit: c, .. } => SubmitOutcome::Rejected {
                intent_hash_bech32: Some(intent_hash.clone()),
                reason: format!(
                    "IntentHashPreviouslyCommitted: this intent was committed at state version {}",
                    c.state_version
                ),
                permanent: true,
            },
            IntentStatus::PermanentlyRejected { reason } => SubmitOutcome::Rejected {
                intent_hash_bech32: Some(intent_hash.clone()),
                reason: reason.clone(),
                permanent: true,
            },
        };
        if let Some(e) = lock(&self.inner.mempool).entries.get(&intent_hash) {
            return known(&e.status);
        }
        let typed = raw.into_typed();
        let manifest = match &typed {
            Ok(UserTransaction::V1(t)) => decompile(
                &TransactionManifestV1::from_intent(&t.signed_intent.intent),
                &self.inner.network,
            )
            .unwrap_or_default(),
            _ => String::new(),
        };
        let window = match &typed {
            Ok(UserTransaction::V1(t)) => Some((
                t.signed_intent.intent.header.start_epoch_inclusive.number(),
                t.signed_intent.intent.header.end_epoch_exclusive.number(),
            )),
            _ => None,
        };
        let status = match prepared.validate(validator) {
            Err(e) => IntentStatus::PermanentlyRejected {
                reason: format!("{e:?}"),
            },
            Ok(_) => {
                let epoch = self.snapshot().position.epoch;
                match window {
                    Some((_, end)) if epoch >= end => IntentStatus::PermanentlyRejected {
                        reason: format!(
                            "TransactionEpochNoLongerValid {{ valid_until_epoch: {}, current_epoch: {epoch} }}",
                            end.saturating_sub(1)
                        ),
                    },
                    Some((start, _)) if epoch < start => {
                        return SubmitOutcome::Rejected {
                            intent_hash_bech32: Some(intent_hash),
                            reason: format!(
                                "TransactionEpochNotYetValid {{ valid_from_epoch: {start}, current_epoch: {epoch} }}; submit again from epoch {start}"
                            ),
                            permanent: false,
                        };
                    }
                    _ => IntentStatus::Pending {
                        submitted_at_ms: now_ms(),
                    },
                }
            }
        };
        let mut pool = lock(&self.inner.mempool);
        // Another submit of the same intent may have raced us here.
        if let Some(e) = pool.entries.get(&intent_hash) {
            return known(&e.status);
        }
        let outcome = match &status {
            IntentStatus::PermanentlyRejected { reason } => {
                debug!(intent = %intent_hash, %reason, "submit rejected");
                SubmitOutcome::Rejected {
                    intent_hash_bech32: Some(intent_hash.clone()),
                    reason: reason.clone(),
                    permanent: true,
                }
            }
            _ => {
                pool.pending.push_back(intent_hash.clone());
                info!(intent = %intent_hash, "transaction accepted into the mempool");
                SubmitOutcome::Accepted {
                    intent_hash_bech32: intent_hash.clone(),
                    duplicate: false,
                }
            }
        };
        pool.entries.insert(
            intent_hash,
            IntentEntry {
                status,
                raw: notarized_payload.to_vec(),
                payload_hash,
                manifest,
            },
        );
        outcome
    }

    /// Status of an intent by its bech32 hash (`txid_sim1…`); `Unknown` if never seen
    /// (or not a valid intent hash).
    pub fn intent_status(&self, intent_hash_bech32: &str) -> IntentStatus {
        lock(&self.inner.mempool)
            .entries
            .get(intent_hash_bech32)
            .map(|e| e.status.clone())
            .unwrap_or(IntentStatus::Unknown)
    }

    /// Every committed user transaction (success or failure), by intent hash, in commit
    /// order: what tests count to prove "exactly one update_key committed".
    pub fn committed_intents(&self) -> Vec<(String, IntentStatus)> {
        let mut out: Vec<(u64, String, IntentStatus)> = lock(&self.inner.mempool)
            .entries
            .iter()
            .filter_map(|(id, e)| match &e.status {
                IntentStatus::CommittedSuccess(c)
                | IntentStatus::CommittedFailure { commit: c, .. } => {
                    Some((c.state_version, id.clone(), e.status.clone()))
                }
                _ => None,
            })
            .collect();
        out.sort_by_key(|(v, _, _)| *v);
        out.into_iter().map(|(_, id, s)| (id, s)).collect()
    }

    /// Whether a string is a valid intent hash of this network (for 4xx answers).
    pub fn is_valid_intent_hash(&self, intent_hash_bech32: &str) -> bool {
        TransactionHashBech32Decoder::new(&self.inner.network)
            .validate_and_decode::<radix_transactions::model::TransactionIntentHash>(
                intent_hash_bech32,
            )
            .is_ok()
    }

    /// Execute without committing.
    pub fn preview(&self, req: &PreviewRequest) -> Result<PreviewOutcome, SimError> {
        let epoch = self.snapshot().position.epoch;
        let ledger = lock(&self.inner.ledger);
        preview::run(&ledger.engine, &self.inner.tx_validator, req, epoch)
    }

    /// Fault `node_silent`: up, healthy and synced, but its proposals are missed.
    pub fn set_node_silent(&self, node: &str, silent: bool) -> Result<(), SimError> {
        self.update_node(node, |n| n.silent = silent)?;
        info!(node, silent, "node silent: {silent}");
        Ok(())
    }

    /// Fault `node_flaky`: half of the node's proposals time out.
    pub fn set_node_flaky(&self, node: &str, flaky: bool) -> Result<(), SimError> {
        self.update_node(node, |n| n.flaky = flaky)?;
        info!(node, flaky, "node flaky: {flaky}");
        Ok(())
    }

    /// Fault `node_wrong_key`: the node restarts with another key (one derived from the seed and
    /// its name, so replays match); `false` restores the configured key.
    pub fn set_node_wrong_key(&self, node: &str, wrong: bool) -> Result<(), SimError> {
        let seed = self.inner.cfg.seed;
        self.update_node(node, |n| {
            n.key = if wrong {
                let h = hash(format!("radix-sim wrong key/{seed}/{}", n.name));
                keys::KeySource::new(u64::from_le_bytes(h.0[..8].try_into().unwrap_or([0u8; 8])))
                    .secp256k1()
                    .public_key()
            } else {
                n.configured_key
            };
            // A restarted node has no recent proposals of its own yet.
            n.recent.clear();
        })?;
        info!(
            node,
            wrong,
            "node key {}",
            if wrong { "replaced" } else { "restored" }
        );
        Ok(())
    }

    /// Run one round synchronously (tests drive rounds this way). A missed round does not wait
    /// for its pacemaker timeout here; the running clock does.
    pub fn step_round(&self) -> Result<RoundRecord, SimError> {
        self.step_round_paced(false)
    }

    /// One round; with `pace`, a missed round waits out the rest of its pacemaker timeout before
    /// it is recorded, as the network does before its fallback round.
    fn step_round_paced(&self, pace: bool) -> Result<RoundRecord, SimError> {
        let _step = lock(&self.inner.step);
        let before = self.snapshot();
        let (next_epoch, next_round) = (before.position.epoch, before.position.round + 1);
        // Hooks run without any other lock held, so they may flip nodes, submit, read.
        let mut hooks = std::mem::take(&mut *lock(&self.inner.hooks));
        for h in hooks.iter_mut() {
            h(self, next_epoch, next_round);
        }
        {
            let mut slot = lock(&self.inner.hooks);
            hooks.append(&mut slot);
            *slot = hooks;
        }

        let mut ledger = lock(&self.inner.ledger);
        let cv = ledger.engine.consensus()?;
        if cv.active.is_empty() {
            return Err(SimError::Engine("the active validator set is empty".into()));
        }
        let round = cv.round + 1;
        let cfg = &self.inner.cfg;
        if ledger.schedule.as_ref().map(|(e, _)| *e) != Some(cv.epoch) {
            let stakes: Vec<u128> = cv.active.iter().map(|(_, _, s)| whole(*s)).collect();
            let sched = leaders::epoch_schedule(cfg.seed, cv.epoch, &stakes, cfg.rounds_per_epoch);
            ledger.schedule = Some((cv.epoch, sched));
        }
        let leader = match ledger.schedule.as_ref().map(|(_, s)| s.as_slice()) {
            Some(s) if !s.is_empty() => s[((round.max(1) - 1) % s.len() as u64) as usize],
            _ => 0,
        };
        let (leader_addr, leader_key, _) = cv.active[leader];
        let (seed, epoch) = (cfg.seed, cv.epoch);
        let flaky_miss =
            || leaders::chance(&format!("radix-sim flaky/{seed}/{epoch}/{round}"), 0.5);
        let background_miss = leaders::chance(
            &format!("radix-sim background/{seed}/{epoch}/{round}"),
            cfg.background_miss_rate,
        );
        let made = {
            let mut nodes = lock(&self.inner.nodes);
            let made = !background_miss
                && nodes.iter().any(|n| {
                    n.up && n.synced
                        && !n.missing
                        && !n.silent
                        && !(n.flaky && flaky_miss())
                        && n.validator == leader_addr
                        && n.key == leader_key
                });
            for n in nodes.iter_mut() {
                // A node tracks its own leader rounds while it validates and runs.
                if n.up && n.validator == leader_addr && n.key == leader_key {
                    n.recent.push_back(made);
                    while n.recent.len() as u64 > RECENT_PROPOSALS_TRACKED {
                        n.recent.pop_front();
                    }
                }
            }
            made
        };
        let duration_ms = if !made && cfg.timeout_base_ms > 0 {
            let t = leaders::timeout_ms(cfg.timeout_base_ms, ledger.consecutive_timeouts);
            ledger.consecutive_timeouts = ledger.consecutive_timeouts.saturating_add(1);
            t
        } else {
            ledger.consecutive_timeouts = 0;
            cfg.round_length_ms
        };
        if pace && duration_ms > cfg.round_length_ms {
            // Reads (previews, accounts) may use the engine while the network waits.
            drop(ledger);
            std::thread::sleep(Duration::from_millis(duration_ms - cfg.round_length_ms));
            ledger = lock(&self.inner.ledger);
        }
        // Timestamps must never go back on ledger.
        let ts = now_ms().max(cv.timestamp_ms);
        let receipt = ledger.engine.next_round(
            round,
            ts,
            LeaderProposalHistory {
                gap_round_leaders: vec![],
                current_leader: leader as u8,
                // A missed proposal: the network moved on in a fallback round, and
                // the engine counts a miss for the leader at once.
                is_fallback: !made,
            },
        )?;
        ledger.state_version += 1;
        let enc = AddressBech32Encoder::new(&self.inner.network);
        let emissions = engine::emissions_of(&receipt);
        if !emissions.is_empty() {
            let sv = ledger.state_version;
            let mut all = (*ledger.emissions).clone();
            for e in &emissions {
                all.push(EmissionRecord {
                    epoch: e.epoch,
                    validator_address: enc
                        .encode(e.validator.as_node_id().as_bytes())
                        .unwrap_or_default(),
                    proposals_made: e.made,
                    proposals_missed: e.missed,
                    state_version: sv,
                });
            }
            ledger.emissions = Arc::new(all);
        }
        let leader_address = enc
            .encode(leader_addr.as_node_id().as_bytes())
            .unwrap_or_default();
        let ours = leader_addr == self.inner.validators[self.inner.cfg.our_validator_index];
        let record = RoundRecord {
            epoch: cv.epoch,
            round,
            leader_address: leader_address.clone(),
            made,
            timestamp_ms: ts,
            duration_ms,
        };
        if !made {
            info!(epoch = cv.epoch, round, leader = %leader_address, ours, "proposal missed");
        } else {
            debug!(epoch = cv.epoch, round, leader = %leader_address, "proposal made");
        }
        if let Some(e) = emissions
            .iter()
            .find(|e| e.validator == self.inner.validators[self.inner.cfg.our_validator_index])
        {
            info!(
                epoch = e.epoch,
                our_made = e.made,
                our_missed = e.missed,
                "epoch {} ended",
                e.epoch
            );
        }
        let stalled = self.take_stalled_round();
        if made && !stalled {
            // User transactions run after the round change, so at an epoch change
            // they execute (and are reported) in the new epoch.
            let after = ledger.engine.consensus()?;
            self.execute_pending(&mut ledger, after.epoch, after.round, ts);
        }
        let snap = self.build_snapshot(&ledger)?;
        drop(ledger);
        {
            let nodes = lock(&self.inner.nodes);
            self.publish(snap, &nodes);
        }
        let mut h = lock(&self.inner.history);
        h.push_back(record.clone());
        while h.len() > ROUND_HISTORY_CAP {
            h.pop_front();
        }
        Ok(record)
    }

    /// Fault `mempool_stall`: the next `rounds` rounds execute no user transaction; what is
    /// submitted meanwhile stays pending (and is executed, or rejected if its epoch window has
    /// ended, at the first made round after the stall). 0 ends a stall.
    pub fn stall_mempool(&self, rounds: u64) {
        lock(&self.inner.mempool).stall_rounds = rounds;
    }

    /// Rounds left in a mempool stall.
    pub fn mempool_stall_remaining(&self) -> u64 {
        lock(&self.inner.mempool).stall_rounds
    }

    /// Counts one round of a stall down; true if this round is stalled.
    fn take_stalled_round(&self) -> bool {
        let mut pool = lock(&self.inner.mempool);
        if pool.stall_rounds > 0 {
            pool.stall_rounds -= 1;
            true
        } else {
            false
        }
    }

    fn execute_pending(&self, ledger: &mut Ledger, epoch: u64, round: u64, ts: i64) {
        let pending: Vec<(String, Vec<u8>)> = {
            let mut pool = lock(&self.inner.mempool);
            let ids: Vec<String> = pool.pending.drain(..).collect();
            ids.into_iter()
                .filter_map(|id| pool.entries.get(&id).map(|e| (id, e.raw.clone())))
                .collect()
        };
        for (id, raw) in pending {
            let raw = RawNotarizedTransaction::from_vec(raw);
            let status = match raw.validate(&self.inner.tx_validator) {
                Err(e) => IntentStatus::PermanentlyRejected {
                    reason: format!("{e:?}"),
                },
                Ok(v) => {
                    let receipt = ledger.engine.execute_user(v.create_executable());
                    match &receipt.result {
                        radix_engine::transaction::TransactionResult::Commit(c) => {
                            ledger.state_version += 1;
                            let pool = lock(&self.inner.mempool);
                            let (payload_hash, manifest) = pool
                                .entries
                                .get(&id)
                                .map(|e| (e.payload_hash.clone(), e.manifest.clone()))
                                .unwrap_or_default();
                            drop(pool);
                            let commit = CommitInfo {
                                state_version: ledger.state_version,
                                epoch,
                                round,
                                confirmed_at_ms: ts,
                                intent_hash_bech32: id.clone(),
                                payload_hash_bech32: payload_hash,
                                fee_paid_xrd: dec(receipt.fee_summary.total_cost()),
                                raw_hex: hex::encode(raw.as_slice()),
                                manifest,
                            };
                            match &c.outcome {
                                radix_engine::transaction::TransactionOutcome::Success(_) => {
                                    IntentStatus::CommittedSuccess(commit)
                                }
                                radix_engine::transaction::TransactionOutcome::Failure(e) => {
                                    IntentStatus::CommittedFailure {
                                        commit,
                                        error_message: format!("{e:?}"),
                                    }
                                }
                            }
                        }
                        radix_engine::transaction::TransactionResult::Reject(r) => {
                            IntentStatus::PermanentlyRejected {
                                reason: format!("{:?}", r.reason),
                            }
                        }
                        radix_engine::transaction::TransactionResult::Abort(a) => {
                            IntentStatus::PermanentlyRejected {
                                reason: format!("{:?}", a.reason),
                            }
                        }
                    }
                }
            };
            match &status {
                IntentStatus::CommittedSuccess(c) => {
                    info!(intent = %id, state_version = c.state_version, fee = %c.fee_paid_xrd, "transaction committed")
                }
                IntentStatus::CommittedFailure { error_message, .. } => {
                    info!(intent = %id, error = %error_message, "transaction committed with failure")
                }
                IntentStatus::PermanentlyRejected { reason } => {
                    info!(intent = %id, %reason, "transaction rejected")
                }
                _ => {}
            }
            if let Some(e) = lock(&self.inner.mempool).entries.get_mut(&id) {
                e.status = status;
            }
        }
    }

    /// Step a round every `round_length_ms` on a background thread. Round k is due at
    /// start + k × round length, so lateness never accumulates; a round that overruns
    /// is logged, and if the clock falls more than a round behind it skips the lost
    /// slots instead of bursting to catch up.
    pub fn start_clock(&self) -> ClockHandle {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let sim = self.clone();
        let len = Duration::from_millis(self.inner.cfg.round_length_ms);
        let thread = std::thread::Builder::new()
            .name("radix-sim-clock".into())
            .spawn(move || {
                let mut t0 = Instant::now();
                let mut k: u32 = 1;
                loop {
                    let due = t0 + len * k;
                    let wait = due.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                    let started = Instant::now();
                    let mut slept = Duration::ZERO;
                    match sim.step_round_paced(true) {
                        Ok(r) => {
                            slept = Duration::from_millis(
                                r.duration_ms.saturating_sub(len.as_millis() as u64),
                            );
                        }
                        Err(e) => error!(error = %e, "round failed"),
                    }
                    let took = started.elapsed().saturating_sub(slept);
                    if took > len {
                        warn!(?took, round_length = ?len, "round overran its slot");
                    }
                    // A timeout's extra wait moves the whole schedule on.
                    t0 += slept;
                    k = k.saturating_add(1);
                    let behind = Instant::now().saturating_duration_since(t0 + len * k);
                    if behind > len {
                        let skip = (behind.as_nanos() / len.as_nanos().max(1)) as u32;
                        warn!(skipped = skip, "clock fell behind; skipping round slots");
                        k = k.saturating_add(skip);
                    }
                }
            });
        match thread {
            Ok(t) => ClockHandle {
                stop: Some(tx),
                thread: Some(t),
            },
            Err(e) => {
                error!(error = %e, "cannot start the round clock thread");
                ClockHandle {
                    stop: None,
                    thread: None,
                }
            }
        }
    }

    fn node_views(&self, nodes: &[Node], snap: &LedgerSnapshot) -> Vec<NodeView> {
        let enc = AddressBech32Encoder::new(&self.inner.network);
        nodes
            .iter()
            .map(|n| {
                let va = enc
                    .encode(n.validator.as_node_id().as_bytes())
                    .unwrap_or_default();
                let key_hex = hex::encode(n.key.0);
                let validating = snap.validators.iter().any(|v| {
                    v.address == va && v.active.as_ref().is_some_and(|a| a.key_hex == key_hex)
                });
                NodeView {
                    name: n.name.clone(),
                    validator_address: va,
                    public_key_hex: key_hex,
                    up: n.up,
                    synced: n.synced,
                    validating_in_current_epoch: validating,
                    recent_missed: n.recent.iter().filter(|m| !**m).count() as u64,
                    recent_tracked: n.recent.len() as u64,
                }
            })
            .collect()
    }

    fn publish(&self, mut snap: LedgerSnapshot, nodes: &[Node]) {
        snap.nodes = self.node_views(nodes, &snap);
        // An owner action commits between a round's snapshot and its publication: never
        // let the older ledger replace the newer one.
        self.inner.snapshot_tx.send_if_modified(|current| {
            if current.position.state_version > snap.position.state_version {
                return false;
            }
            *current = Arc::new(snap);
            true
        });
    }

    /// Read everything the snapshot holds from the engine (nodes are filled in by
    /// [`Self::publish`]).
    fn build_snapshot(&self, ledger: &Ledger) -> Result<LedgerSnapshot, SimError> {
        let enc = AddressBech32Encoder::new(&self.inner.network);
        let a = |b: &[u8]| enc.encode(b).unwrap_or_else(|_| hex::encode(b));
        let cv = ledger.engine.consensus()?;
        let config = ledger.engine.config()?;
        let total: Decimal = cv.active.iter().fold(Decimal::ZERO, |acc, (_, _, s)| {
            acc.checked_add(*s).unwrap_or(acc)
        });
        let mut validators = Vec::with_capacity(self.inner.validators.len());
        for (i, addr) in self.inner.validators.iter().enumerate() {
            let st = ledger.engine.validator_state(addr)?;
            let active = cv.active.iter().position(|(x, _, _)| x == addr).map(|idx| {
                let (_, key, stake) = cv.active[idx];
                let (made, missed) = cv.stats.get(idx).copied().unwrap_or((0, 0));
                let pct = if total.is_positive() {
                    stake
                        .checked_mul(Decimal::from(100))
                        .and_then(|x| x.checked_div(total))
                        .unwrap_or(Decimal::ZERO)
                } else {
                    Decimal::ZERO
                };
                ActiveInEpoch {
                    index: idx,
                    key_hex: hex::encode(key.0),
                    stake_xrd: dec(stake),
                    stake_percentage: dec(pct),
                    proposals_made: made,
                    proposals_missed: missed,
                }
            });
            validators.push(ValidatorView {
                address: a(addr.as_node_id().as_bytes()),
                ledger_key_hex: hex::encode(st.key.0),
                stake_xrd: dec(st.stake_xrd),
                is_registered: st.is_registered,
                accepts_delegated_stake: st.accepts_delegated_stake,
                active,
                owner_badge_local_id: NonFungibleLocalId::bytes(addr.as_node_id().0.to_vec())
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                stake_unit_resource: a(st.stake_unit_resource.as_node_id().as_bytes()),
                claim_token_resource: a(st.claim_nft.as_node_id().as_bytes()),
                owner_account: self
                    .inner
                    .owner_accounts
                    .get(i)
                    .map(|o| a(o.as_node_id().as_bytes())),
                stake_xrd_vault_address: a(st.stake_vault.0.as_bytes()),
                pending_xrd_withdraw_vault_address: a(st.pending_xrd_withdraw_vault.0.as_bytes()),
                locked_owner_stake_unit_vault_address: a(st
                    .locked_owner_stake_unit_vault
                    .0
                    .as_bytes()),
                pending_owner_stake_unit_unlock_vault_address: a(st
                    .pending_owner_stake_unit_unlock_vault
                    .0
                    .as_bytes()),
                pending_xrd_withdraw_balance: dec(st.pending_xrd_withdraw_vault.1),
                locked_owner_stake_unit_balance: dec(st.locked_owner_stake_unit_vault.1),
                pending_owner_stake_unit_unlock_balance: dec(st
                    .pending_owner_stake_unit_unlock_vault
                    .1),
                pending_owner_stake_unit_withdrawals: st
                    .pending_owner_stake_unit_withdrawals
                    .iter()
                    .map(|(e, a)| (*e, dec(*a)))
                    .collect(),
                already_unlocked_owner_stake_unit_amount: dec(
                    st.already_unlocked_owner_stake_unit_amount
                ),
                validator_fee_factor: dec(st.fee_factor),
                validator_fee_change_request: st.fee_change_request.map(|(epoch, factor)| {
                    FeeChangeRequest {
                        epoch_effective: epoch,
                        new_fee_factor: dec(factor),
                    }
                }),
            });
        }
        // Active ones first by their index, then the rest by stake.
        validators.sort_by(|x, y| match (&x.active, &y.active) {
            (Some(p), Some(q)) => p.index.cmp(&q.index),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => {
                let sx = Decimal::try_from(x.stake_xrd.as_str()).unwrap_or(Decimal::ZERO);
                let sy = Decimal::try_from(y.stake_xrd.as_str()).unwrap_or(Decimal::ZERO);
                sy.cmp(&sx)
            }
        });
        let sv = ledger.state_version;
        let tree = |what: &str| hex::encode(hash(format!("radix-sim {what} {sv}")).0);
        let cfg = &self.inner.cfg;
        Ok(LedgerSnapshot {
            position: LedgerPosition {
                network_id: self.inner.network.id,
                network_name: self.inner.network.logical_name.to_string(),
                state_version: sv,
                epoch: cv.epoch,
                round: cv.round,
                proposer_round_timestamp_ms: cv.timestamp_ms,
                state_tree_hash_hex: tree("state"),
                transaction_tree_hash_hex: tree("transaction"),
                receipt_tree_hash_hex: tree("receipt"),
                epoch_start_ms: cv.epoch_start_ms,
                current_leader_index: cv.current_leader.map(usize::from),
                protocol_version: radix_engine::updates::ProtocolVersion::LATEST
                    .logical_name()
                    .to_string(),
            },
            validators,
            nodes: vec![],
            emissions: ledger.emissions.clone(),
            rounds_per_epoch: cfg.rounds_per_epoch,
            round_length_ms: cfg.round_length_ms,
            our_validator: self.inner.info.our_validator.clone(),
            owner_account: self.inner.info.owner_account.clone(),
            xrd_resource: self.inner.xrd.clone(),
            owner_badge_resource: self.inner.badge.clone(),
            consensus_config: ConsensusConfigView {
                max_validators: config.max_validators,
                min_round_count: config.epoch_change_condition.min_round_count,
                max_round_count: config.epoch_change_condition.max_round_count,
                target_duration_millis: config.epoch_change_condition.target_duration_millis,
                num_unstake_epochs: config.num_unstake_epochs,
                total_emission_xrd_per_epoch: dec(config.total_emission_xrd_per_epoch),
                min_validator_reliability: dec(config.min_validator_reliability),
                num_owner_stake_units_unlock_epochs: config.num_owner_stake_units_unlock_epochs,
                num_fee_increase_delay_epochs: config.num_fee_increase_delay_epochs,
                validator_creation_usd_cost: dec(config.validator_creation_usd_cost),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_xrd_of_decimals() {
        assert_eq!(whole(Decimal::from(1_500_000u64)), 1_500_000);
        assert_eq!(
            whole(Decimal::try_from("12.75").unwrap_or(Decimal::ZERO)),
            12
        );
        assert_eq!(whole(Decimal::ZERO), 0);
    }
}
