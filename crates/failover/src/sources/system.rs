//! System API client (a node's `/system`): that node's health and identity.

use radix_api::system as sys;
use url::Url;

use super::http::{endpoint, http_error, Answer, Http};
use super::unknown;
use crate::observe::{NodeConsensus, NodeHealth, NodeReading, SourceError};

fn error_of(ans: &Answer) -> SourceError {
    match serde_json::from_slice::<sys::Error>(&ans.body) {
        Ok(e) => http_error(ans, Some(e.message)),
        Err(_) => http_error(ans, None),
    }
}

async fn get<T: serde::de::DeserializeOwned>(
    http: &Http,
    base: &Url,
    name: &str,
    path: &str,
) -> Result<T, SourceError> {
    let what = format!("{name} {path}");
    let ans = http.get(&endpoint(base, path), &what).await?;
    if !ans.is_success() {
        return Err(error_of(&ans));
    }
    ans.parse(&what)
}

/// `GET /health` and `GET /identity`, concurrently.
pub(super) async fn node_reading(
    http: &Http,
    base: &Url,
    name: &str,
) -> Result<NodeReading, SourceError> {
    let (health, identity) = tokio::join!(
        get::<sys::HealthResponse>(http, base, name, "/health"),
        get::<sys::IdentityResponse>(http, base, name, "/identity"),
    );
    let (health, identity) = (health?, identity?);
    Ok(NodeReading {
        health: node_health(name, health.status),
        detail: health.detail,
        recent_missed: health.recent_self_proposal_miss_statistic.missed_count,
        recent_tracked: health
            .recent_self_proposal_miss_statistic
            .recent_proposals_tracked_count,
        public_key_hex: identity.public_key_hex.to_ascii_lowercase(),
        validator_address: identity.validator_address,
        consensus: node_consensus(name, identity.consensus_status),
    })
}

/// `/health` `status` as a [`NodeHealth`]; a value this version does not know is kept (see
/// [`NodeHealth::Other`]) and logged once.
fn node_health(name: &str, s: sys::HealthStatus) -> NodeHealth {
    match s {
        sys::HealthStatus::Up => NodeHealth::Up,
        sys::HealthStatus::Syncing => NodeHealth::Syncing,
        sys::HealthStatus::OutOfSync => NodeHealth::OutOfSync,
        sys::HealthStatus::BootingPreGenesis => NodeHealth::BootingPreGenesis,
        sys::HealthStatus::Other(raw) => {
            let raw = unknown::clip(&raw);
            unknown::note(
                name,
                "health status",
                &raw,
                "not UP (a backup with it is not ready; no early signal for the primary)",
            );
            NodeHealth::Other(raw)
        }
    }
}

/// `/identity` `consensus_status` as a [`NodeConsensus`]; see [`NodeConsensus::Other`].
fn node_consensus(name: &str, s: sys::ConsensusStatus) -> NodeConsensus {
    match s {
        sys::ConsensusStatus::ValidatingInCurrentEpoch => NodeConsensus::ValidatingInCurrentEpoch,
        sys::ConsensusStatus::NotValidatingInCurrentEpoch => {
            NodeConsensus::NotValidatingInCurrentEpoch
        }
        sys::ConsensusStatus::NotConfiguredAsValidator => NodeConsensus::NotConfiguredAsValidator,
        sys::ConsensusStatus::Other(raw) => {
            let raw = unknown::clip(&raw);
            unknown::note(
                name,
                "consensus status",
                &raw,
                "not validating (a backup with it is not ready; no early signal for the primary)",
            );
            NodeConsensus::Other(raw)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_node_statuses_map_and_unknown_ones_keep_their_text() {
        let h = |s: &str| {
            node_health(
                "system test",
                serde_json::from_value(s.into()).expect("parses"),
            )
        };
        assert_eq!(h("UP"), NodeHealth::Up);
        assert_eq!(h("SYNCING"), NodeHealth::Syncing);
        assert_eq!(h("OUT_OF_SYNC"), NodeHealth::OutOfSync);
        assert_eq!(h("BOOTING_PRE_GENESIS"), NodeHealth::BootingPreGenesis);
        assert_eq!(
            h("UP_BUT_DEGRADED"),
            NodeHealth::Other("UP_BUT_DEGRADED".into())
        );
        assert_ne!(h("UP_BUT_DEGRADED"), NodeHealth::Up);
        assert_eq!(h("UP_BUT_DEGRADED").as_str(), "UP_BUT_DEGRADED");
        let c = |s: &str| {
            node_consensus(
                "system test",
                serde_json::from_value(s.into()).expect("parses"),
            )
        };
        assert_eq!(
            c("VALIDATING_IN_CURRENT_EPOCH"),
            NodeConsensus::ValidatingInCurrentEpoch
        );
        assert_eq!(
            c("NOT_VALIDATING_IN_CURRENT_EPOCH"),
            NodeConsensus::NotValidatingInCurrentEpoch
        );
        assert_eq!(
            c("NOT_CONFIGURED_AS_VALIDATOR"),
            NodeConsensus::NotConfiguredAsValidator
        );
        assert_eq!(
            c("VALIDATING_AS_BACKUP"),
            NodeConsensus::Other("VALIDATING_AS_BACKUP".into())
        );
        // A hostile value is clipped before it reaches a message.
        let long = "Z".repeat(5_000);
        assert!(h(&long).as_str().chars().count() < 100);
    }

    /// The whole answers: a `/health` and an `/identity` with values the spec does not list
    /// still parse (before this they were malformed answers).
    #[test]
    fn answers_with_unknown_statuses_parse() {
        let health: sys::HealthResponse = serde_json::from_value(serde_json::json!({
            "status": "UP_BUT_DEGRADED", "detail": "d",
            "recent_self_proposal_miss_statistic": {"missed_count": 0, "recent_proposals_tracked_count": 10},
            "current_protocol_version": "v", "enacted_protocol_updates": [],
            "pending_protocol_updates": [], "unknown_reported_pending_protocol_updates": []
        }))
        .expect("an unknown health status parses");
        assert_eq!(
            health.status,
            sys::HealthStatus::Other("UP_BUT_DEGRADED".into())
        );
        let identity: sys::IdentityResponse = serde_json::from_value(serde_json::json!({
            "public_key_hex": "02aa", "node_address": "n", "node_uri": "u", "node_name": "x",
            "consensus_status": "VALIDATING_AS_BACKUP"
        }))
        .expect("an unknown consensus status parses");
        assert_eq!(
            identity.consensus_status,
            sys::ConsensusStatus::Other("VALIDATING_AS_BACKUP".into())
        );
    }
}
