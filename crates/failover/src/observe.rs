//! What the watcher sees in one poll: plain data, no I/O.
//!
//! This is the contract between the sources (`sources/`, HTTP clients that fill these types)
//! and the policy (`policy/`, a pure state machine that reads them). Everything the policy
//! needs to know about the outside world arrives here, including the time (`at_ms`), so the
//! policy can be tested with scenarios and no clock.

use serde::{Deserialize, Serialize};

/// Which API a source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A Gateway API: current ledger state, keys, finished-epoch uptime; takes transactions.
    Gateway,
    /// A node's Core API: real-time proposal statistics of the current epoch; takes transactions.
    Core,
    /// A node's System API: that node's own health and identity.
    System,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Gateway => "gateway",
            SourceKind::Core => "core",
            SourceKind::System => "system",
        }
    }
}

/// Why a source gave no usable answer. Never carries secrets; URLs are shown without
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceError {
    /// Connection refused, DNS failure, TLS failure, reset.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// TLS refused the server: its certificate is not one this watcher trusts (not the pinned
    /// one, no trusted root). Something answers at that address, but it is not proven to be the
    /// node. Shown as `unreachable:` (as before it had its own variant).
    #[error("unreachable: {0}")]
    Tls(String),
    /// No complete answer within the request timeout.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The source says it is not synced (Gateway `NotSyncedUpError`, node not UP).
    #[error("not synced: {0}")]
    NotSynced(String),
    /// An HTTP error status with the API's error message, if it sent one.
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// A 2xx answer that does not parse or does not make sense (wrong network, missing field).
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The source is rate-limiting us (HTTP 429, or 503 with `Retry-After`): no request is sent
    /// to it until `retry_after_ms` from when it said so. Counts as an untrusted source (policy
    /// rule 1: never a trigger, never a quorum member), like one that is down.
    #[error("throttled: HTTP {status}, it asked us to wait {} s (Retry-After); no requests until then", retry_after_ms.div_ceil(1000))]
    Throttled { status: u16, retry_after_ms: u64 },
}

impl SourceError {
    /// The server answered, but trust or credentials failed (TLS refused its certificate, or it
    /// answered 401/403 to ours): a problem of this watcher's setup (a wrong pin, CA file,
    /// password or API key), which says nothing about the node's health.
    pub fn is_setup_refusal(&self) -> bool {
        matches!(
            self,
            SourceError::Tls(_)
                | SourceError::Http {
                    status: 401 | 403,
                    ..
                }
        )
    }
}

/// A poll result of one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceObservation<T> {
    /// Stable display name, e.g. `gateway 127.0.0.1:5308`, `core backup`.
    pub name: String,
    pub kind: SourceKind,
    pub result: Result<T, SourceError>,
}

/// Proposal counts of our validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProposalCounts {
    pub made: u64,
    pub missed: u64,
}

/// Finished-epoch counts from the Gateway's uptime endpoint: epochs `from_epoch ..= to_epoch`
/// (finished ones only; the current epoch is never in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedEpochs {
    pub from_epoch: u64,
    pub to_epoch: u64,
    /// `None` when the gateway has no data (the spec makes the counts nullable).
    pub counts: Option<ProposalCounts>,
}

/// What a ledger source (Gateway or Core API) says about the ledger and our validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerReading {
    pub epoch: u64,
    pub round: u64,
    pub state_version: u64,
    /// Proposer timestamp of the source's latest ledger state, unix milliseconds.
    pub ledger_time_ms: i64,
    /// Key our validator signs with in the current epoch (from the active set), 66 hex,
    /// lowercase. `None`: our validator is not in the current active set.
    pub key_in_force: Option<String>,
    /// Key set on ledger (validator state; applies from the next epoch change), 66 hex.
    /// `None` when this source does not report it.
    pub key_on_ledger: Option<String>,
    /// Our validator's made/missed proposals in the current epoch so far (Core API).
    /// `None` when the source cannot see them (Gateway) or we are not in the active set.
    pub current_epoch: Option<ProposalCounts>,
    /// Finished-epoch counts (Gateway only, when asked for); `None` otherwise.
    pub finished: Option<FinishedEpochs>,
    /// Made/missed proposals of the current epoch summed over every *other* validator of the
    /// active set (Core API): tells a network-wide problem from our node's.
    #[serde(default)]
    pub others_current_epoch: Option<ProposalCounts>,
    /// Our validator's settings on ledger (registration, delegated stake, fee), for the
    /// authority tripwire (`tripwire.rs`). `None` when this source does not show them.
    #[serde(default)]
    pub settings: Option<ValidatorSettings>,
}

/// Our validator's settings as its state substate shows them (Core `/state/validator`, the
/// gateway's validator `state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSettings {
    pub registered: bool,
    pub accepts_delegated_stake: bool,
    /// `validator_fee_factor`, as the ledger stores it (a requested change is in `fee_change`
    /// until a later update promotes it).
    pub fee_factor: String,
    pub fee_change: Option<FeeChangeRequest>,
    /// `tripwire::owner_stake_unlocks` of the state; `None` when the source does not show it.
    pub owner_stake_unlocks: Option<String>,
}

/// `validator_fee_change_request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeChangeRequest {
    pub new_fee_factor: String,
    pub epoch_effective: u64,
}

/// Epochs a reading's epoch must leave below `u64::MAX`: more than every epoch offset the
/// daemon adds to one (a transaction's window of at most `tx::MAX_VALID_EPOCHS` = 288, the
/// commit's confirmation 2 epochs later, the next epoch). No real ledger comes near: at
/// mainnet's 5 minutes an epoch, 2^64 epochs are 10^14 years.
pub const EPOCH_HEADROOM: u64 = 1024;

impl LedgerReading {
    /// The numbers of an answer leave room for the arithmetic done on them, or the field that
    /// does not (then the answer is malformed: never a panic, never a wrap). Checked: the epoch
    /// plus [`EPOCH_HEADROOM`], the round and the state version plus one (the next ones the
    /// ledger would show), and every made + missed sum (the miss window adds them).
    /// Everything later may then add what it needs with plain or saturating arithmetic, as
    /// documented where it does.
    pub fn arithmetic_problem(&self) -> Option<String> {
        let too_big = |field: &str, v: u64, headroom: u64| {
            v.checked_add(headroom).is_none().then(|| {
                format!("{field} {v} leaves no room for the next {headroom} (more than u64::MAX - {headroom}): not a real ledger")
            })
        };
        let sum = |field: &str, c: Option<ProposalCounts>| {
            c.filter(|c| c.made.checked_add(c.missed).is_none())
                .map(|c| {
                    format!(
                        "{field} made {} + missed {} overflows u64: not a real count",
                        c.made, c.missed
                    )
                })
        };
        too_big("epoch", self.epoch, EPOCH_HEADROOM)
            .or_else(|| too_big("round", self.round, 1))
            .or_else(|| too_big("state_version", self.state_version, 1))
            .or_else(|| sum("current_proposal_statistic (ours)", self.current_epoch))
            .or_else(|| {
                sum(
                    "current_proposal_statistic (the other validators)",
                    self.others_current_epoch,
                )
            })
            .or_else(|| sum("uptime proposals", self.finished.and_then(|f| f.counts)))
    }
}

/// What a node's System API says about that node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeReading {
    pub health: NodeHealth,
    /// `detail` of `/health`, for messages.
    pub detail: String,
    /// `recent_self_proposal_miss_statistic`: the node's own view of its recent proposals.
    pub recent_missed: u64,
    pub recent_tracked: u64,
    /// `/identity` `public_key_hex`, lowercase.
    pub public_key_hex: String,
    /// `/identity` `validator_address` (the validator the node is configured for).
    pub validator_address: Option<String>,
    pub consensus: NodeConsensus,
}

/// `/health` `status`.
///
/// [`Self::Other`] is a value this version does not know (a newer node), with its text. It is
/// read as "not UP" wherever UP is a condition: a backup with it is not ready, the pre-flight
/// of its node fails, and its node's Core API is no trusted ledger source. It is never read as
/// "the primary is down": that early signal can fail over a primary on its own, and a status
/// we cannot read is no evidence of a dead node (the miss rule still acts on missed proposals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeHealth {
    Up,
    Syncing,
    OutOfSync,
    BootingPreGenesis,
    #[serde(untagged)]
    Other(String),
}

impl NodeHealth {
    /// As the System API spells it.
    pub fn as_str(&self) -> &str {
        match self {
            NodeHealth::Up => "UP",
            NodeHealth::Syncing => "SYNCING",
            NodeHealth::OutOfSync => "OUT_OF_SYNC",
            NodeHealth::BootingPreGenesis => "BOOTING_PRE_GENESIS",
            NodeHealth::Other(s) => s,
        }
    }
}

/// `/identity` `consensus_status`.
///
/// [`Self::Other`] is a value this version does not know, with its text: "not validating" as
/// far as readiness goes (a backup with it is not ready, with the text in the reason), and, as
/// for [`NodeHealth::Other`], no early signal that the primary is down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeConsensus {
    ValidatingInCurrentEpoch,
    NotValidatingInCurrentEpoch,
    NotConfiguredAsValidator,
    #[serde(untagged)]
    Other(String),
}

impl NodeConsensus {
    /// As the System API spells it.
    pub fn as_str(&self) -> &str {
        match self {
            NodeConsensus::ValidatingInCurrentEpoch => "VALIDATING_IN_CURRENT_EPOCH",
            NodeConsensus::NotValidatingInCurrentEpoch => "NOT_VALIDATING_IN_CURRENT_EPOCH",
            NodeConsensus::NotConfiguredAsValidator => "NOT_CONFIGURED_AS_VALIDATOR",
            NodeConsensus::Other(s) => s,
        }
    }
}

/// Everything one poll saw. Built by the runner from the sources; read by the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The watcher's wall clock when the poll finished, unix milliseconds (the policy has no
    /// clock of its own).
    pub at_ms: i64,
    /// Every configured ledger source (Gateways and Core APIs), in config order.
    pub ledger: Vec<SourceObservation<LedgerReading>>,
    /// The primary node's System API; `None` when not configured.
    pub primary: Option<SourceObservation<NodeReading>>,
    /// The backup node's System API; `None` when not configured.
    pub backup: Option<SourceObservation<NodeReading>>,
}

/// A transaction's fate as a source reports it, Gateway and Core statuses mapped to one set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    /// Committed and succeeded: the key is rotated.
    CommittedSuccess,
    /// Committed and failed (fee paid, nothing else): the engine's message.
    CommittedFailure { message: String },
    /// Can never commit (bad signature, expired window, replay, ...).
    PermanentlyRejected { message: String },
    /// Probably rejected, but it could still commit (Gateway `LikelyButNotCertainRejection`,
    /// Core `FateUncertainButLikelyRejection`). Keep following it.
    LikelyRejected { message: String },
    /// In a mempool or otherwise pending (`Pending`, `InMempool`, `FateUncertain`,
    /// `CommitPendingOutcomeUnknown`).
    Pending,
    /// The source has never seen it (`Unknown`, `NotSeen`).
    NotSeen,
    /// An intent status this version does not know (a newer Gateway or node), with its text.
    /// Not known yet: followed like `Pending` (an answer that claims neither a commit nor a
    /// rejection), never a commit, never a failure, never a reason to rebuild.
    Other { raw: String },
}

/// A source's answer to a submit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SubmitAnswer {
    /// Taken (`duplicate`: it already knew the payload).
    Accepted { duplicate: bool },
    /// Refused for good (already committed intent, expired window, invalid): the message.
    Rejected { permanent: bool, message: String },
}

/// A source that takes transactions (Gateway or Core API). Implemented by the HTTP clients in
/// `sources/`; the submit logic (`submit.rs`) is written against this trait.
pub trait TxEndpoint: Send + Sync {
    /// The source's display name (as in [`SourceObservation::name`]).
    fn name(&self) -> &str;
    /// Submits a compiled notarized transaction (hex).
    fn submit(
        &self,
        notarized_hex: &str,
    ) -> impl std::future::Future<Output = Result<SubmitAnswer, SourceError>> + Send;
    /// The status of an intent, by its bech32m intent hash (`txid_…`).
    fn status(
        &self,
        intent_hash_bech32: &str,
    ) -> impl std::future::Future<Output = Result<TxStatus, SourceError>> + Send;
}
