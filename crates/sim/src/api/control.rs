//! Control API (its own port): inject and inspect faults, read the network's info.
//!
//! - `POST /faults` with a [`FaultAction`] body (`{"action": "node_down", "node": "primary"}`):
//!   applied at once; answers the faults now in force.
//! - `GET /faults`: the faults in force.
//! - `GET /info`: the same JSON as `--info-file`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;
use crate::faults::{change_ports, FaultAction};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/faults", get(get_faults).post(post_fault))
        .route("/info", get(info))
        .fallback(|| async {
            bad(
                StatusCode::NOT_FOUND,
                "no such control endpoint; see docs/simulator.md".into(),
            )
        })
        .with_state(state)
}

fn bad(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn get_faults(State(st): State<AppState>) -> Response {
    Json(st.faults.view()).into_response()
}

async fn post_fault(State(st): State<AppState>, body: Bytes) -> Response {
    let action: FaultAction = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return bad(
                StatusCode::BAD_REQUEST,
                format!(
                    "invalid fault: {e}. Send {{\"action\": \"<name>\", ...}} with one of node_down, node_up, \
                     node_out_of_sync, node_in_sync, gateway_down, gateway_up, gateway_slow, gateway_failing, \
                     gateway_garbage, gateway_stale, gateway_healthy, submit_failing"
                ),
            )
        }
    };
    let change = match st.faults.apply(&st.sim, &action) {
        Ok(c) => c,
        Err(e) => return bad(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Some(change) = change {
        if let Err(e) = change_ports(&st.servers, change).await {
            return bad(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot re-open the port: {e}"),
            );
        }
    }
    Json(json!({ "applied": action, "faults": st.faults.view() })).into_response()
}

async fn info(State(st): State<AppState>) -> Response {
    match st.info.get() {
        Some(i) => Json(i).into_response(),
        None => bad(StatusCode::SERVICE_UNAVAILABLE, "still starting".into()),
    }
}
