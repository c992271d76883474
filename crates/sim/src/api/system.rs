//! System API server of one node (`GET /system/health`, `GET /system/identity`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bech32::ToBase32;
use radix_api::system as sys;

use super::Ctx;
use crate::faults::SyncStatus;
use crate::ledger::types::NodeView;

#[derive(Clone)]
struct NodeCtx {
    ctx: Ctx,
    node: String,
}

pub fn router(ctx: Ctx, node: String) -> Router {
    Router::new()
        .route("/system/health", get(health))
        .route("/system/identity", get(identity))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "No such System API endpoint on radix-sim",
            )
        })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "System API endpoints take GET",
            )
        })
        .with_state(NodeCtx { ctx, node })
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(sys::Error {
            code: i32::from(status.as_u16()),
            message: message.to_string(),
        }),
    )
        .into_response()
}

impl NodeCtx {
    fn view(&self) -> Result<NodeView, Box<Response>> {
        self.ctx
            .sim
            .snapshot()
            .nodes
            .iter()
            .find(|n| n.name == self.node)
            .cloned()
            .ok_or_else(|| {
                Box::new(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "node vanished from the ledger view",
                ))
            })
    }
}

async fn health(State(n): State<NodeCtx>) -> Response {
    let view = match n.view() {
        Ok(v) => v,
        Err(e) => return *e,
    };
    let (snap, sync) = n.ctx.faults.node_snapshot(&n.ctx.sim, &n.node);
    let (status, detail) = match sync {
        // A stuck node does not know it is stuck: it reports itself healthy.
        None | Some(SyncStatus::Stuck) => (
            sys::HealthStatus::Up,
            "The node is up and in sync with the network.".to_string(),
        ),
        Some(SyncStatus::Syncing) => (
            sys::HealthStatus::Syncing,
            format!(
                "The node is catching up; its ledger is at epoch {} round {}.",
                snap.position.epoch, snap.position.round
            ),
        ),
        Some(SyncStatus::OutOfSync) => (
            sys::HealthStatus::OutOfSync,
            format!(
                "The node has fallen behind the network; its ledger is at epoch {} round {}.",
                snap.position.epoch, snap.position.round
            ),
        ),
    };
    Json(sys::HealthResponse {
        status,
        detail,
        recent_self_proposal_miss_statistic: sys::RecentSelfProposalMissStatistic {
            missed_count: view.recent_missed,
            recent_proposals_tracked_count: view.recent_tracked,
        },
        current_protocol_version: snap.position.protocol_version.clone(),
        enacted_protocol_updates: vec![],
        pending_protocol_updates: vec![],
        unknown_reported_pending_protocol_updates: vec![],
    })
    .into_response()
}

/// The node's bech32m address (`node_<network suffix>1…` over its compressed key).
pub fn node_address(hrp_suffix: &str, public_key_hex: &str) -> String {
    let bytes = hex::decode(public_key_hex).unwrap_or_default();
    bech32::encode(
        &format!("node_{hrp_suffix}"),
        bytes.to_base32(),
        bech32::Variant::Bech32m,
    )
    .unwrap_or_else(|_| format!("node_{hrp_suffix}_{public_key_hex}"))
}

/// Port of the simulated peer-to-peer endpoint shown in `node_uri` (no gossip happens; 30000 is
/// the real node's default).
const P2P_PORT: u16 = 30000;

async fn identity(State(n): State<NodeCtx>) -> Response {
    let view = match n.view() {
        Ok(v) => v,
        Err(e) => return *e,
    };
    let address = node_address("sim", &view.public_key_hex);
    let consensus_status = if view.validating_in_current_epoch {
        sys::ConsensusStatus::ValidatingInCurrentEpoch
    } else {
        sys::ConsensusStatus::NotValidatingInCurrentEpoch
    };
    Json(sys::IdentityResponse {
        public_key_hex: view.public_key_hex.clone(),
        node_uri: format!("radix://{address}@127.0.0.1:{P2P_PORT}"),
        node_address: address,
        node_name: view.name.clone(),
        node_id: None,
        validator_address: Some(view.validator_address.clone()),
        validator_name: Some(view.name.clone()),
        consensus_status,
    })
    .into_response()
}
