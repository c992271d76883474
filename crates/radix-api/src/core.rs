//! Core API (`core-api-schema.yaml`, served under `/core` on the node's core port): network
//! status, the consensus manager and validator state, and the LTS transaction endpoints.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::PublicKey;

/// `ErrorResponse`: every error of the Core API. `details` is present for
/// `error_type = "LtsTransactionSubmit"` (see [`LtsTransactionSubmitErrorDetails`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error_type: ErrorResponseType,
    pub code: i32,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<LtsTransactionSubmitErrorDetails>,
}

/// A value the spec does not list (a newer node) parses as [`Self::Other`] with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorResponseType {
    Basic,
    TransactionSubmit,
    LtsTransactionSubmit,
    TransactionPreviewV2,
    StreamTransactions,
    StreamProofs,
    #[serde(untagged)]
    Other(String),
}

/// `InstantMs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstantMs {
    pub unix_timestamp_ms: i64,
    /// ISO-8601.
    pub date_time: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochRound {
    pub epoch: u64,
    pub round: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerHashes {
    pub state_tree_hash: String,
    pub transaction_tree_hash: String,
    pub receipt_tree_hash: String,
}

/// `CommittedStateIdentifier` (allOf state_version + `LedgerHashes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedStateIdentifier {
    pub state_version: u64,
    #[serde(flatten)]
    pub hashes: LedgerHashes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerHeaderSummary {
    pub epoch_round: EpochRound,
    pub ledger_hashes: LedgerHashes,
    pub proposer_timestamp: InstantMs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerStateSummary {
    pub state_version: u64,
    pub header_summary: LedgerHeaderSummary,
}

// ---------------------------------------------------------------- status

/// `NetworkStatusRequest`, also the body of `LtsTransactionConstructionRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStatusRequest {
    /// Logical network name, e.g. "mainnet", "stokenet", "simulator".
    pub network: String,
}

pub type LtsTransactionConstructionRequest = NetworkStatusRequest;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStatusResponse {
    pub pre_genesis_state_identifier: CommittedStateIdentifier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis_epoch_round: Option<EpochRound>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_genesis_state_identifier: Option<CommittedStateIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_genesis_epoch_round: Option<EpochRound>,
    pub current_state_identifier: CommittedStateIdentifier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_epoch_round: Option<EpochRound>,
    pub current_protocol_version: String,
}

// ---------------------------------------------------------------- state

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateConsensusManagerRequest {
    pub network: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_readiness_signals: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateConsensusManagerResponse {
    pub at_ledger_state: LedgerStateSummary,
    pub config: Substate,
    pub state: Substate,
    /// Made / missed proposals of the current epoch, indexed like `current_validator_set`.
    pub current_proposal_statistic: Substate,
    pub current_validator_set: Substate,
    pub current_time: Substate,
    pub current_time_rounded_to_minutes: Substate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateValidatorRequest {
    pub network: String,
    pub validator_address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateValidatorResponse {
    pub at_ledger_state: LedgerStateSummary,
    pub address: String,
    pub state: Substate,
    pub protocol_update_readiness_signal: Substate,
    pub owner_role: Substate,
    pub vaults: Vec<VaultBalance>,
    pub descendent_nodes: Vec<Value>,
}

/// A field substate: `is_locked` + `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSubstate<T> {
    pub is_locked: bool,
    pub value: T,
}

/// `Substate`, discriminated by `substate_type`. Only the substates the listed endpoints return
/// are modelled; any other parses as [`Substate::Other`].
// Variants differ in size; it is a wire model built once per request, boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "substate_type")]
pub enum Substate {
    ConsensusManagerFieldConfig(FieldSubstate<ConsensusManagerFieldConfigValue>),
    ConsensusManagerFieldState(FieldSubstate<ConsensusManagerFieldStateValue>),
    ConsensusManagerFieldCurrentProposalStatistic(
        FieldSubstate<ConsensusManagerFieldCurrentProposalStatisticValue>,
    ),
    ConsensusManagerFieldCurrentValidatorSet(
        FieldSubstate<ConsensusManagerFieldCurrentValidatorSetValue>,
    ),
    ConsensusManagerFieldCurrentTime(FieldSubstate<ConsensusManagerFieldCurrentTimeValue>),
    ConsensusManagerFieldCurrentTimeRoundedToMinutes(
        FieldSubstate<ConsensusManagerFieldCurrentTimeRoundedToMinutesValue>,
    ),
    ValidatorFieldState(FieldSubstate<ValidatorFieldStateValue>),
    ValidatorFieldProtocolUpdateReadinessSignal(
        FieldSubstate<ValidatorFieldProtocolUpdateReadinessSignalValue>,
    ),
    RoleAssignmentModuleFieldOwnerRole(FieldSubstate<RoleAssignmentModuleFieldOwnerRoleValue>),
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusManagerFieldConfigValue {
    pub max_validators: u64,
    pub epoch_change_condition: EpochChangeCondition,
    pub num_unstake_epochs: u64,
    pub total_emission_xrd_per_epoch: String,
    pub min_validator_reliability: String,
    pub num_owner_stake_units_unlock_epochs: u64,
    pub num_fee_increase_delay_epochs: u64,
    pub validator_creation_usd_equivalent_cost: String,
    pub validator_creation_xrd_cost: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochChangeCondition {
    pub min_round_count: u64,
    pub max_round_count: u64,
    pub target_duration_millis: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusManagerFieldStateValue {
    pub epoch: u64,
    pub round: u64,
    pub is_started: bool,
    pub effective_epoch_start: InstantMs,
    pub actual_epoch_start: InstantMs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_leader: Option<ActiveValidatorIndex>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveValidatorIndex {
    pub index: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusManagerFieldCurrentProposalStatisticValue {
    /// Proposals made this epoch, by validator index.
    pub completed: Vec<u64>,
    /// Proposals missed this epoch, by validator index.
    pub missed: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusManagerFieldCurrentValidatorSetValue {
    /// In index order (the index of `current_proposal_statistic`).
    pub validator_set: Vec<ActiveValidator>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveValidator {
    pub address: String,
    /// The key in force this epoch (always `EcdsaSecp256k1`).
    pub key: PublicKey,
    pub stake: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusManagerFieldCurrentTimeValue {
    pub proposer_timestamp: InstantMs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusManagerFieldCurrentTimeRoundedToMinutesValue {
    pub proposer_timestamp_rounded_down_to_minute: InstantMs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorFieldStateValue {
    /// Key set on ledger now; in force from the next epoch.
    pub public_key: PublicKey,
    pub is_registered: bool,
    pub accepts_delegated_stake: bool,
    pub validator_fee_factor: String,
    /// The latest fee change asked for; the engine applies it from its epoch on, while
    /// `validator_fee_factor` keeps the older value until the next change request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_fee_change_request: Option<ValidatorFeeChangeRequest>,
    pub stake_unit_resource_address: String,
    pub stake_xrd_vault: EntityReference,
    pub claim_token_resource_address: String,
    pub pending_xrd_withdraw_vault: EntityReference,
    pub locked_owner_stake_unit_vault: EntityReference,
    pub pending_owner_stake_unit_unlock_vault: EntityReference,
    pub pending_owner_stake_unit_withdrawals: Vec<Value>,
    pub already_unlocked_owner_stake_unit_amount: String,
}

/// `ValidatorFeeChangeRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorFeeChangeRequest {
    pub epoch_effective: u64,
    /// Decimal string.
    pub new_fee_factor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorFieldProtocolUpdateReadinessSignalValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleAssignmentModuleFieldOwnerRoleValue {
    pub owner_role: OwnerRole,
}

/// `OwnerRole`; the rule is kept as JSON (an `AccessRule` tree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerRole {
    pub rule: Value,
    /// "None" | "Owner" | "Object".
    pub updater: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityReference {
    /// `EntityType`, e.g. "InternalFungibleVault", "GlobalValidator".
    pub entity_type: String,
    pub is_global: bool,
    pub entity_address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultBalance {
    pub vault_entity: EntityReference,
    pub resource_amount: ResourceAmount,
}

/// `ResourceAmount`, discriminated by `resource_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "resource_type")]
pub enum ResourceAmount {
    Fungible {
        resource_address: String,
        amount: String,
    },
    #[serde(other)]
    Other,
}

// ---------------------------------------------------------------- LTS transactions

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtsTransactionConstructionResponse {
    pub current_epoch: u64,
    pub ledger_clock: InstantMs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtsTransactionSubmitRequest {
    pub network: String,
    pub notarized_transaction_hex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_recalculate: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtsTransactionSubmitResponse {
    pub duplicate: bool,
}

/// `LtsTransactionSubmitErrorDetails`, discriminated by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum LtsTransactionSubmitErrorDetails {
    Rejected {
        error_message: String,
        is_fresh: bool,
        is_payload_rejection_permanent: bool,
        is_intent_rejection_permanent: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_from_timestamp: Option<InstantMs>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_from_epoch: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid_from_epoch: Option<u64>,
    },
    IntentAlreadyCommitted {
        committed_as: CommittedIntentMetadata,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedIntentMetadata {
    pub state_version: u64,
    /// 64 hex characters.
    pub payload_hash: String,
    pub payload_hash_bech32m: String,
    pub is_same_transaction: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtsTransactionStatusRequest {
    pub network: String,
    /// Hex or bech32m intent hash.
    pub intent_hash: String,
}

/// A value the spec does not list (a newer node) parses as [`Self::Other`] with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LtsTransactionIntentStatus {
    CommittedSuccess,
    CommittedFailure,
    PermanentRejection,
    InMempool,
    NotSeen,
    FateUncertain,
    FateUncertainButLikelyRejection,
    #[serde(untagged)]
    Other(String),
}

/// A value the spec does not list (a newer node) parses as [`Self::Other`] with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LtsTransactionPayloadStatus {
    CommittedSuccess,
    CommittedFailure,
    PermanentlyRejected,
    TransientlyRejected,
    InMempool,
    NotInMempool,
    #[serde(untagged)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtsTransactionStatusResponse {
    pub intent_status: LtsTransactionIntentStatus,
    pub status_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_state_version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_from_epoch: Option<u64>,
    pub known_payloads: Vec<LtsTransactionPayloadDetails>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LtsTransactionPayloadDetails {
    /// 64 hex characters.
    pub payload_hash: String,
    pub payload_hash_bech32m: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_version: Option<u64>,
    pub status: LtsTransactionPayloadStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}
