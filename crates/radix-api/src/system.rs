//! System API (`system-api-schema.yaml`, served under `/system` on the node's system port):
//! `GET /system/health` and `GET /system/identity`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `/health` `status`. A value the spec does not list (a newer node) parses as
/// [`Self::Other`] with its text: an answer with it is still an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HealthStatus {
    BootingPreGenesis,
    Syncing,
    Up,
    OutOfSync,
    #[serde(untagged)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: HealthStatus,
    /// Human-readable explanation of `status`.
    pub detail: String,
    pub recent_self_proposal_miss_statistic: RecentSelfProposalMissStatistic,
    pub current_protocol_version: String,
    pub enacted_protocol_updates: Vec<EnactedProtocolUpdate>,
    /// Kept raw: this project never has pending protocol updates.
    pub pending_protocol_updates: Vec<Value>,
    pub unknown_reported_pending_protocol_updates: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentSelfProposalMissStatistic {
    /// Missed proposals among the `recent_proposals_tracked_count` most recent ones.
    pub missed_count: u64,
    pub recent_proposals_tracked_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnactedProtocolUpdate {
    pub state_version: u64,
    pub resultant_protocol_version: String,
}

/// `/identity` `consensus_status`; a value the spec does not list parses as [`Self::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsensusStatus {
    ValidatingInCurrentEpoch,
    NotValidatingInCurrentEpoch,
    NotConfiguredAsValidator,
    #[serde(untagged)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityResponse {
    /// The node's own compressed secp256k1 key, 66 hex characters.
    pub public_key_hex: String,
    pub node_address: String,
    pub node_uri: String,
    pub node_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// The validator the node is configured for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_name: Option<String>,
    pub consensus_status: ConsensusStatus,
}

/// `Error`: the System API's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub code: i32,
    pub message: String,
}
