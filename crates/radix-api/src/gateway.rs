//! Gateway API (`gateway-api-schema.yaml`): the endpoints this project uses.
//!
//! Names follow the spec's component schemas. Optional fields that the spec does not mark
//! `nullable` are left out when `None` (sending `null` there would break a strict client);
//! nullable ones are `Option` and may be `null`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::PublicKey;

/// `LedgerState`: where the gateway's view of the ledger is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerState {
    pub network: String,
    pub state_version: u64,
    /// ISO-8601 timestamp of the proposer of the round the ledger is at.
    pub proposer_round_timestamp: String,
    pub epoch: u64,
    pub round: u64,
}

/// `LedgerStateSelector`: every field nullable; the whole selector too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerStateSelector {
    #[serde(default)]
    pub state_version: Option<u64>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub epoch: Option<u64>,
    #[serde(default)]
    pub round: Option<u64>,
}

/// `ErrorResponse`: every 4xx/5xx answer of the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<GatewayError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// `GatewayError`, discriminated by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum GatewayError {
    /// The gateway's ledger view lags too far behind; retry elsewhere.
    NotSyncedUpError {
        request_type: String,
        current_sync_delay_seconds: i64,
        max_allowed_sync_delay_seconds: i64,
    },
    InvalidRequestError {
        validation_errors: Vec<ValidationErrorsAtPath>,
    },
    InvalidTransactionError {},
    TransactionNotFoundError {
        intent_hash: String,
    },
    InternalServerError {
        exception: String,
        cause: String,
    },
    EntityNotFoundError {
        address: String,
    },
    InvalidEntityError {
        address: String,
    },
    /// Any error type this crate does not model (a client must not fail on it).
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrorsAtPath {
    pub path: String,
    pub errors: Vec<String>,
}

// ---------------------------------------------------------------- status

/// `GatewayStatusResponse` (`POST /status/gateway-status`, no body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayStatusResponse {
    pub ledger_state: LedgerState,
    pub release_info: GatewayInfoResponseReleaseInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayInfoResponseReleaseInfo {
    pub release_version: String,
    pub open_api_schema_version: String,
    pub image_tag: String,
}

/// `TransactionConstructionResponse` (`POST /transaction/construction`, no body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionConstructionResponse {
    pub ledger_state: LedgerState,
}

// ---------------------------------------------------------------- statistics

/// `ValidatorsUptimeRequest` (`POST /statistics/validators/uptime`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorsUptimeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ledger_state: Option<LedgerStateSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ledger_state: Option<LedgerStateSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_addresses: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorsUptimeResponse {
    pub ledger_state: LedgerState,
    pub validators: ValidatorUptimeCollection,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorUptimeCollection {
    pub items: Vec<ValidatorUptimeCollectionItem>,
}

/// Counts are `null` when the gateway has no emission record for the validator in the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorUptimeCollectionItem {
    pub address: String,
    #[serde(default)]
    pub proposals_made: Option<u64>,
    #[serde(default)]
    pub proposals_missed: Option<u64>,
    pub epochs_active_in: u64,
}

// ---------------------------------------------------------------- validators list

/// `StateValidatorsListRequest` (`POST /state/validators/list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateValidatorsListRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ledger_state: Option<LedgerStateSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateValidatorsListResponse {
    pub ledger_state: LedgerState,
    pub validators: ValidatorCollection,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorCollection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub items: Vec<ValidatorCollectionItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorCollectionItem {
    pub address: String,
    pub stake_vault: ValidatorVaultItem,
    pub pending_xrd_withdraw_vault: ValidatorVaultItem,
    pub locked_owner_stake_unit_vault: ValidatorVaultItem,
    pub pending_owner_stake_unit_unlock_vault: ValidatorVaultItem,
    /// The validator's state substate as JSON (untyped in the spec). Its `public_key` is the key
    /// set on ledger, which applies from the next epoch: see [`Self::ledger_public_key_hex`].
    #[serde(default)]
    pub state: Option<Value>,
    /// Present only while the validator is in the current epoch's active set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_in_epoch: Option<ValidatorCollectionItemActiveInEpoch>,
    pub metadata: EntityMetadataCollection,
    pub effective_fee_factor: EffectiveFeeFactor,
}

impl ValidatorCollectionItem {
    /// `state.public_key.key_hex`, if the state carries it.
    pub fn ledger_public_key_hex(&self) -> Option<&str> {
        self.state
            .as_ref()?
            .get("public_key")?
            .get("key_hex")?
            .as_str()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorCollectionItemActiveInEpoch {
    pub stake: String,
    /// Percent of the active set's stake (the spec's `number`/`double`).
    pub stake_percentage: f64,
    /// The key in force this epoch.
    pub key: PublicKey,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorVaultItem {
    pub balance: String,
    pub last_changed_at_state_version: u64,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveFeeFactor {
    pub current: FeeFactorCurrent,
    #[serde(default)]
    pub pending: Option<FeeFactorPending>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeFactorCurrent {
    pub fee_factor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeFactorPending {
    pub fee_factor: String,
    pub effective_at_epoch: u64,
}

/// `EntityMetadataCollection`; items are kept as raw JSON (this project reads no metadata).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityMetadataCollection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub items: Vec<Value>,
}

// ---------------------------------------------------------------- entity details

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceAggregationLevel {
    Global,
    Vault,
}

/// `StateEntityDetailsRequest` (`POST /state/entity/details`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntityDetailsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ledger_state: Option<LedgerStateSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_ins: Option<StateEntityDetailsOptIns>,
    pub addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_level: Option<ResourceAggregationLevel>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntityDetailsOptIns {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_fungible_include_nfids: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit_metadata: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEntityDetailsResponse {
    pub ledger_state: LedgerState,
    pub items: Vec<StateEntityDetailsResponseItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEntityDetailsResponseItem {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fungible_resources: Option<FungibleResourcesCollection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_fungible_resources: Option<NonFungibleResourcesCollection>,
    pub metadata: EntityMetadataCollection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StateEntityDetailsResponseItemDetails>,
}

/// `StateEntityDetailsResponseItemDetails`, discriminated by `type`. Only components are modelled
/// (validators and accounts); other entity kinds parse as [`Self::Other`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum StateEntityDetailsResponseItemDetails {
    Component(StateEntityDetailsResponseComponentDetails),
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEntityDetailsResponseComponentDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_address: Option<String>,
    pub blueprint_name: String,
    pub blueprint_version: String,
    /// Component state as JSON (for a validator: its state substate, with `public_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_assignments: Option<ComponentEntityRoleAssignments>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentEntityRoleAssignments {
    /// The owner role (rule + updater) as JSON.
    pub owner: Value,
    pub entries: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FungibleResourcesCollection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub items: Vec<FungibleResourcesCollectionItem>,
}

/// Discriminated by `aggregation_level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "aggregation_level")]
pub enum FungibleResourcesCollectionItem {
    Global {
        resource_address: String,
        amount: String,
        last_updated_at_state_version: u64,
    },
    Vault {
        resource_address: String,
        vaults: FungibleVaultCollection,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FungibleVaultCollection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub items: Vec<FungibleVaultItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FungibleVaultItem {
    pub vault_address: String,
    pub amount: String,
    pub last_updated_at_state_version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NonFungibleResourcesCollection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub items: Vec<NonFungibleResourcesCollectionItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "aggregation_level")]
pub enum NonFungibleResourcesCollectionItem {
    Global {
        resource_address: String,
        amount: u64,
        last_updated_at_state_version: u64,
    },
    Vault {
        resource_address: String,
        vaults: NonFungibleVaultCollection,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonFungibleVaultCollection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub items: Vec<NonFungibleVaultItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonFungibleVaultItem {
    pub total_count: u64,
    /// Present when `non_fungible_include_nfids` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub vault_address: String,
    pub last_updated_at_state_version: u64,
}

// ---------------------------------------------------------------- entity pages
//
// The later pages of the collections in an entity details answer: follow a `next_cursor`
// there with the same address (and resource, vault) and `cursor`.

/// `StateEntityFungiblesPageRequest` (`POST /state/entity/page/fungibles/`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntityFungiblesPageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ledger_state: Option<LedgerStateSelector>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit_per_page: Option<u32>,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_level: Option<ResourceAggregationLevel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEntityFungiblesPageResponse {
    pub ledger_state: LedgerState,
    #[serde(flatten)]
    pub resources: FungibleResourcesCollection,
    pub address: String,
}

/// `StateEntityNonFungiblesPageRequest` (`POST /state/entity/page/non-fungibles/`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntityNonFungiblesPageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ledger_state: Option<LedgerStateSelector>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit_per_page: Option<u32>,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_level: Option<ResourceAggregationLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_ins: Option<StateEntityNonFungiblesPageRequestOptIns>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntityNonFungiblesPageRequestOptIns {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_fungible_include_nfids: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEntityNonFungiblesPageResponse {
    pub ledger_state: LedgerState,
    #[serde(flatten)]
    pub resources: NonFungibleResourcesCollection,
    pub address: String,
}

/// `StateEntityNonFungibleIdsPageRequest` (`POST /state/entity/page/non-fungible-vault/ids`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntityNonFungibleIdsPageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ledger_state: Option<LedgerStateSelector>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit_per_page: Option<u32>,
    pub address: String,
    pub vault_address: String,
    pub resource_address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateEntityNonFungibleIdsPageResponse {
    pub ledger_state: LedgerState,
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    pub items: Vec<String>,
    pub address: String,
    pub resource_address: String,
}

/// `StateNonFungibleLocationRequest` (`POST /state/non-fungible/location`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateNonFungibleLocationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ledger_state: Option<LedgerStateSelector>,
    pub resource_address: String,
    pub non_fungible_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateNonFungibleLocationResponse {
    pub ledger_state: LedgerState,
    pub resource_address: String,
    pub non_fungible_ids: Vec<StateNonFungibleLocationResponseItem>,
}

/// Where one non-fungible is: its vault and the vault's ancestors (absent when burned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateNonFungibleLocationResponseItem {
    pub non_fungible_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owning_vault_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owning_vault_parent_ancestor_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owning_vault_global_ancestor_address: Option<String>,
    pub is_burned: bool,
    pub last_updated_at_state_version: u64,
}

// ---------------------------------------------------------------- transactions

/// `TransactionSubmitRequest` (`POST /transaction/submit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionSubmitRequest {
    pub notarized_transaction_hex: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionSubmitResponse {
    /// True if the payload was already known (in the mempool or committed).
    pub duplicate: bool,
}

/// `TransactionStatusRequest` (`POST /transaction/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionStatusRequest {
    /// Bech32m intent hash, `txid_<network>1…`.
    pub intent_hash: String,
}

/// A value the spec does not list (a newer gateway) parses as [`Self::Other`] with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionStatus {
    Unknown,
    CommittedSuccess,
    CommittedFailure,
    Pending,
    Rejected,
    #[serde(untagged)]
    Other(String),
}

/// A value the spec does not list (a newer gateway) parses as [`Self::Other`] with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionIntentStatus {
    Unknown,
    CommittedSuccess,
    CommittedFailure,
    CommitPendingOutcomeUnknown,
    PermanentlyRejected,
    LikelyButNotCertainRejection,
    Pending,
    #[serde(untagged)]
    Other(String),
}

/// A value the spec does not list (a newer gateway) parses as [`Self::Other`] with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionPayloadStatus {
    Unknown,
    CommittedSuccess,
    CommittedFailure,
    CommitPendingOutcomeUnknown,
    PermanentlyRejected,
    TemporarilyRejected,
    Pending,
    #[serde(untagged)]
    Other(String),
}

/// A value the spec does not list (a newer gateway) parses as [`Self::Other`] with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionPayloadGatewayHandlingStatus {
    HandlingSubmission,
    Concluded,
    #[serde(untagged)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionStatusResponse {
    pub ledger_state: LedgerState,
    pub status: TransactionStatus,
    pub intent_status: TransactionIntentStatus,
    pub intent_status_description: String,
    pub known_payloads: Vec<TransactionStatusResponseKnownPayloadItem>,
    #[serde(default)]
    pub committed_state_version: Option<u64>,
    #[serde(default)]
    pub permanently_rejects_at_epoch: Option<u64>,
    #[serde(default)]
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionStatusResponseKnownPayloadItem {
    pub payload_hash: String,
    pub status: TransactionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_status: Option<TransactionPayloadStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_status_description: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub latest_error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_status: Option<TransactionPayloadGatewayHandlingStatus>,
    #[serde(default)]
    pub handling_status_reason: Option<String>,
    #[serde(default)]
    pub submission_error: Option<String>,
}

/// `TransactionPreviewRequest` (`POST /transaction/preview`). Only `manifest` is required by the
/// spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionPreviewRequest {
    pub manifest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobs_hex: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_epoch_inclusive: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_epoch_exclusive: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notary_public_key: Option<PublicKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notary_is_signatory: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip_percentage: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_public_keys: Option<Vec<PublicKey>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<PreviewFlags>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewFlags {
    #[serde(default)]
    pub use_free_credit: bool,
    #[serde(default)]
    pub assume_all_signature_proofs: bool,
    #[serde(default)]
    pub skip_epoch_check: bool,
    #[serde(default)]
    pub disable_auth_checks: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionPreviewResponse {
    /// Deprecated in the spec; hex of the SBOR-encoded receipt.
    pub encoded_receipt: String,
    /// The Core API's receipt as JSON: `status` ("Succeeded" | "Failed" | "Rejected"),
    /// `error_message`, `fee_summary`, ...
    pub receipt: Value,
    pub resource_changes: Vec<Value>,
    pub logs: Vec<PreviewLog>,
}

impl TransactionPreviewResponse {
    /// `receipt.status`, if present.
    pub fn receipt_status(&self) -> Option<&str> {
        self.receipt.get("status")?.as_str()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewLog {
    pub level: String,
    pub message: String,
}

/// `TransactionCommittedDetailsRequest` (`POST /transaction/committed-details`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionCommittedDetailsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ledger_state: Option<LedgerStateSelector>,
    pub intent_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_ins: Option<TransactionDetailsOptIns>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionDetailsOptIns {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_hex: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_output: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_instructions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_global_entities: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionCommittedDetailsResponse {
    pub ledger_state: LedgerState,
    pub transaction: CommittedTransactionInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommittedTransactionInfo {
    pub state_version: u64,
    pub epoch: u64,
    pub round: u64,
    pub round_timestamp: String,
    pub transaction_status: TransactionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_paid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_global_entities: Option<Vec<String>>,
    #[serde(default)]
    pub confirmed_at: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<TransactionReceipt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_instructions: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionReceipt {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TransactionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(default)]
    pub error_message: Option<String>,
}
