//! System API client (a node's `/system`): that node's health and identity.

use radix_api::system as sys;
use url::Url;

use super::http::{endpoint, http_error, Answer, Http};
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
        health: match health.status {
            sys::HealthStatus::Up => NodeHealth::Up,
            sys::HealthStatus::Syncing => NodeHealth::Syncing,
            sys::HealthStatus::OutOfSync => NodeHealth::OutOfSync,
            sys::HealthStatus::BootingPreGenesis => NodeHealth::BootingPreGenesis,
        },
        detail: health.detail,
        recent_missed: health.recent_self_proposal_miss_statistic.missed_count,
        recent_tracked: health
            .recent_self_proposal_miss_statistic
            .recent_proposals_tracked_count,
        public_key_hex: identity.public_key_hex.to_ascii_lowercase(),
        validator_address: identity.validator_address,
        consensus: match identity.consensus_status {
            sys::ConsensusStatus::ValidatingInCurrentEpoch => {
                NodeConsensus::ValidatingInCurrentEpoch
            }
            sys::ConsensusStatus::NotValidatingInCurrentEpoch => {
                NodeConsensus::NotValidatingInCurrentEpoch
            }
            sys::ConsensusStatus::NotConfiguredAsValidator => {
                NodeConsensus::NotConfiguredAsValidator
            }
        },
    })
}
