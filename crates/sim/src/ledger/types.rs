//! Plain-data view of the simulated ledger, as the HTTP layer needs it.
//!
//! This is the contract between the engine half of radix-sim (`ledger/`, which owns the
//! real Radix Engine, the round clock and the mempool) and the API half (`api/`, which
//! serves the Gateway, Core and System APIs). No engine types cross it: addresses are
//! bech32 strings, keys are hex, decimals are strings in the engine's canonical
//! `Decimal` display form, times are milliseconds since the Unix epoch.
//!
//! The engine half publishes one immutable [`LedgerSnapshot`] after every round (and
//! every commit); the API half serves reads from a snapshot, which also makes "stale"
//! faults trivial: keep serving an old one.

use std::sync::Arc;

/// Where the ledger is. Matches the `ledger_state` of the Gateway API and the
/// `current_state_identifier` / epoch-round of the Core API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerPosition {
    pub network_id: u8,
    /// Logical network name, e.g. "simulator".
    pub network_name: String,
    pub state_version: u64,
    pub epoch: u64,
    pub round: u64,
    /// Proposer timestamp of the last round change, ms since the Unix epoch.
    pub proposer_round_timestamp_ms: i64,
    /// Ledger state tree root / transaction accumulator, hex; used only for Core API
    /// identifiers (any stable 32-byte hex per state version is acceptable).
    pub state_tree_hash_hex: String,
    pub transaction_tree_hash_hex: String,
    pub receipt_tree_hash_hex: String,
    /// Actual start of the current epoch (proposer timestamp of its first round
    /// change), from the consensus manager state, ms since the Unix epoch.
    pub epoch_start_ms: i64,
    /// The consensus manager's `current_leader` (index into the active set).
    pub current_leader_index: Option<usize>,
    /// The engine's protocol version, e.g. "eagleray".
    pub protocol_version: String,
}

/// One validator, as read from the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorView {
    pub address: String,
    /// Key set on ledger now (`state.public_key`; applies from the next epoch), hex of
    /// the 33-byte compressed secp256k1 key.
    pub ledger_key_hex: String,
    /// Stake vault balance in XRD.
    pub stake_xrd: String,
    pub is_registered: bool,
    pub accepts_delegated_stake: bool,
    /// Present when the validator is in the current epoch's active set.
    pub active: Option<ActiveInEpoch>,
    /// The owner badge's non-fungible local id, as the manifest shows it:
    /// `[<60 hex>]` (the validator node id bytes).
    pub owner_badge_local_id: String,
    pub stake_unit_resource: String,
    pub claim_token_resource: String,
    /// Vault / account holding the owner badge, if known (ours: the owner account).
    pub owner_account: Option<String>,
    /// Internal vault addresses (`internal_vault_sim1…`) from the validator substate.
    pub stake_xrd_vault_address: String,
    pub pending_xrd_withdraw_vault_address: String,
    pub locked_owner_stake_unit_vault_address: String,
    pub pending_owner_stake_unit_unlock_vault_address: String,
    /// Balances of the three non-stake vaults above, decimal strings.
    pub pending_xrd_withdraw_balance: String,
    pub locked_owner_stake_unit_balance: String,
    pub pending_owner_stake_unit_unlock_balance: String,
    /// Owner stake units being unlocked: (epoch they unlock at, amount as a decimal string),
    /// and those unlocked and not yet withdrawn.
    pub pending_owner_stake_unit_withdrawals: Vec<(u64, String)>,
    pub already_unlocked_owner_stake_unit_amount: String,
    /// Fee factor (0..1), decimal string: the substate's `validator_fee_factor`, which the
    /// engine only replaces by an effective change request at the next `update_fee`.
    pub validator_fee_factor: String,
    /// The latest fee change the owner asked for, effective or not yet.
    pub validator_fee_change_request: Option<FeeChangeRequest>,
}

/// The validator substate's `validator_fee_change_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeChangeRequest {
    /// The epoch from which the engine applies `new_fee_factor`.
    pub epoch_effective: u64,
    /// Decimal string.
    pub new_fee_factor: String,
}

impl ValidatorView {
    /// The fee factor in force at `epoch`, as the engine applies it to emissions: the change
    /// request's once its epoch has come, the substate's fee factor before.
    pub fn fee_factor_at(&self, epoch: u64) -> &str {
        match &self.validator_fee_change_request {
            Some(r) if r.epoch_effective <= epoch => &r.new_fee_factor,
            _ => &self.validator_fee_factor,
        }
    }

    /// The change request not yet in force at `epoch`, if any.
    pub fn pending_fee_change_at(&self, epoch: u64) -> Option<&FeeChangeRequest> {
        self.validator_fee_change_request
            .as_ref()
            .filter(|r| r.epoch_effective > epoch)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveInEpoch {
    /// Position in the current validator set (stake order), the index used by
    /// `current_proposal_statistic`.
    pub index: usize,
    /// The key in force this epoch (snapshotted at the epoch change), hex.
    pub key_hex: String,
    /// Stake snapshotted for this epoch, XRD.
    pub stake_xrd: String,
    /// Share of the active set's stake, in percent (0..100), as a decimal string.
    pub stake_percentage: String,
    /// Made / missed proposals in the current epoch so far (from the engine's
    /// `CurrentProposalStatistic`).
    pub proposals_made: u64,
    pub proposals_missed: u64,
}

/// The engine's `ValidatorEmissionAppliedEvent` for one validator at one epoch change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmissionRecord {
    /// The epoch that finished.
    pub epoch: u64,
    pub validator_address: String,
    pub proposals_made: u64,
    pub proposals_missed: u64,
    /// State version of the round-change transaction that emitted it.
    pub state_version: u64,
}

/// One round as the sim decided it (for logs, the System API's recent-miss statistic,
/// and tests). The engine is the authority for counts; this is the per-round trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundRecord {
    pub epoch: u64,
    pub round: u64,
    pub leader_address: String,
    pub made: bool,
    pub timestamp_ms: i64,
    /// How long the round lasted on the running clock: the round length, or for a missed round
    /// the scaled pacemaker timeout (when `timeout_base_ms` is set).
    pub duration_ms: u64,
}

/// A node of the simulated network. Every validator has one; ours has `primary` and
/// `backup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// Stable name: "primary", "backup", or "validator-<i>" for the others.
    pub name: String,
    /// Validator address this node is configured for.
    pub validator_address: String,
    /// The node's own secp256k1 key, hex (33-byte compressed).
    pub public_key_hex: String,
    pub up: bool,
    /// False while a fault holds the node out of sync (SYNCING / OUT_OF_SYNC). An
    /// out-of-sync node cannot propose, and its APIs serve a stale snapshot.
    pub synced: bool,
    /// Whether the node's key is the one in force for its validator this epoch.
    pub validating_in_current_epoch: bool,
    /// Over the last [`RECENT_PROPOSALS_TRACKED`] leader rounds of its validator
    /// during which this node could have proposed (mirrors the real node's
    /// `recent_self_proposal_miss_statistic`).
    pub recent_missed: u64,
    pub recent_tracked: u64,
}

/// How many recent own-leader rounds a node's miss statistic covers.
pub const RECENT_PROPOSALS_TRACKED: u64 = 100;

/// Everything the read-only endpoints need, published after each round.
#[derive(Debug, Clone, Default)]
pub struct LedgerSnapshot {
    pub position: LedgerPosition,
    /// All validators, registered or not, in stake order (the active ones first, by
    /// their index).
    pub validators: Vec<ValidatorView>,
    pub nodes: Vec<NodeView>,
    /// Every emission record so far, oldest first.
    pub emissions: Arc<Vec<EmissionRecord>>,
    /// Epoch length in rounds and round length, for the status endpoints.
    pub rounds_per_epoch: u64,
    pub round_length_ms: u64,
    /// Our validator's address, owner account address and the XRD resource address.
    pub our_validator: String,
    pub owner_account: String,
    pub xrd_resource: String,
    pub owner_badge_resource: String,
    /// The consensus manager's configuration as the engine holds it.
    pub consensus_config: ConsensusConfigView,
}

/// `ConsensusManagerConfig`, read from the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsensusConfigView {
    pub max_validators: u32,
    pub min_round_count: u64,
    pub max_round_count: u64,
    pub target_duration_millis: u64,
    pub num_unstake_epochs: u64,
    pub total_emission_xrd_per_epoch: String,
    pub min_validator_reliability: String,
    pub num_owner_stake_units_unlock_epochs: u64,
    pub num_fee_increase_delay_epochs: u64,
    pub validator_creation_usd_cost: String,
}

/// Fungible and non-fungible holdings of an account, for `/state/entity/details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    pub address: String,
    /// One entry per vault, sorted by resource address.
    pub fungibles: Vec<FungibleHolding>,
    pub non_fungibles: Vec<NonFungibleHolding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FungibleHolding {
    pub resource_address: String,
    /// Decimal string.
    pub amount: String,
    pub vault_address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonFungibleHolding {
    pub resource_address: String,
    pub vault_address: String,
    /// Local ids as `[hex]`/`#n#`/`<s>`/`{..}` strings, sorted.
    pub ids: Vec<String>,
}

/// The status of an intent, as tracked by the mempool and the committed-transaction
/// index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentStatus {
    /// Never seen.
    Unknown,
    /// In the mempool, waiting for the next round.
    Pending {
        submitted_at_ms: i64,
    },
    CommittedSuccess(CommitInfo),
    /// Committed with a failure receipt (fee paid, nothing else applied).
    CommittedFailure {
        commit: CommitInfo,
        error_message: String,
    },
    /// Rejected, never to be committed (e.g. bad signature, epoch window expired,
    /// replay), with the engine's / validator's reason.
    PermanentlyRejected {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub state_version: u64,
    pub epoch: u64,
    pub round: u64,
    pub confirmed_at_ms: i64,
    pub intent_hash_bech32: String,
    pub payload_hash_bech32: String,
    pub fee_paid_xrd: String,
    /// Hex of the notarized transaction payload.
    pub raw_hex: String,
    /// Manifest in canonical text, for committed-details.
    pub manifest: String,
}

/// Answer to a submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Accepted into the mempool (or already there: `duplicate = true`).
    Accepted {
        intent_hash_bech32: String,
        duplicate: bool,
    },
    /// Rejected by static validation or the pre-commit check, with the reason. The real
    /// gateway answers these as a 4xx `TransactionSubmitError`/`InvalidTransaction`.
    Rejected {
        intent_hash_bech32: Option<String>,
        reason: String,
        permanent: bool,
    },
}

/// Result of executing a transaction without committing it (`/transaction/preview`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewOutcome {
    /// "Succeeded", "Failed" or "Rejected" (gateway receipt status names).
    pub status: String,
    pub error_message: Option<String>,
    pub fee_xrd: String,
    pub logs: Vec<(String, String)>,
}

/// Parameters of a preview, as the Gateway's `TransactionPreviewRequest` gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRequest {
    pub manifest: String,
    pub blobs_hex: Vec<String>,
    pub start_epoch_inclusive: u64,
    pub end_epoch_exclusive: u64,
    pub notary_public_key: Option<(String, String)>, // (key_type "EcdsaSecp256k1"|"EddsaEd25519", hex)
    pub notary_is_signatory: bool,
    pub tip_percentage: u16,
    pub nonce: u32,
    pub signer_public_keys: Vec<(String, String)>,
    pub use_free_credit: bool,
    pub assume_all_signature_proofs: bool,
    pub skip_epoch_check: bool,
}
