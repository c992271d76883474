//! Control API (its own port): inject and inspect faults, read the network's info.
//!
//! - `POST /faults` with a [`FaultAction`] body (`{"action": "node_down", "node": "primary"}`):
//!   applied at once; answers the faults now in force.
//! - `GET /faults`: the faults in force.
//! - `GET /info`: the same JSON as `--info-file`.
//! - `GET /stats`: `{"gateway": {PATH: {"requests": n, "bytes": n}}}`: what clients asked of the
//!   gateway (answers and their body bytes per endpoint), for footprint tests and benchmarks;
//!   `"gateway_user_agents"`: the distinct User-Agents it was called with.
//! - `GET /clock`, `POST /clock/pause`, `POST /clock/resume`, `POST /clock/step {"rounds": n}`
//!   (step only while paused): hold the network still, or walk it round by round.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::AppState;
use crate::faults::{change_ports, FaultAction};
use crate::ledger::{ClockHandle, Sim};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/faults", get(get_faults).post(post_fault))
        .route("/info", get(info))
        .route("/stats", get(stats))
        .route("/clock", get(clock_state))
        .route("/clock/pause", post(clock_pause))
        .route("/clock/resume", post(clock_resume))
        .route("/clock/step", post(clock_step))
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

async fn stats(State(st): State<AppState>) -> Response {
    Json(json!({
        "gateway": st.faults.gateway_traffic(),
        "gateway_user_agents": st.faults.gateway_user_agents(),
    }))
    .into_response()
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
                     gateway_garbage, gateway_stale, gateway_healthy, submit_failing, core_lies, mempool_stall, \
                     gateway_lies_tx, system_api_down, system_api_up, validators_missing, validators_healthy, \
                     gateway_slow_pages, gateway_rate_limited, gateway_account_pages, node_silent, node_proposing, node_stuck, node_wrong_key, node_key_restored, node_flaky, \
                     owner_badge_moved, validator_fee_changed, validator_delegation_set, validator_unregistered"
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

/// The round clock, switchable at run time.
pub struct Clock {
    sim: Sim,
    handle: std::sync::Mutex<Option<ClockHandle>>,
}

impl Clock {
    pub fn new(sim: Sim) -> Clock {
        Clock {
            sim,
            handle: std::sync::Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ClockHandle>> {
        // Only an Option swap happens under the lock; a poisoned one is still consistent.
        self.handle.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn running(&self) -> bool {
        self.lock().is_some()
    }

    /// Starts the clock; a no-op if it runs.
    pub fn resume(&self) {
        let mut h = self.lock();
        if h.is_none() {
            *h = Some(self.sim.start_clock());
            tracing::info!("clock running");
        }
    }

    /// Stops the clock after the round in progress (blocks until then); a no-op if stopped.
    pub fn pause(&self) {
        let handle = self.lock().take();
        if let Some(h) = handle {
            h.stop();
            tracing::info!("clock paused");
        }
    }
}

/// Most rounds one `POST /clock/step` may run: a few seconds of engine work at debug speed.
const MAX_STEP_ROUNDS: u64 = 1_000;

fn clock_json(st: &AppState) -> serde_json::Value {
    let p = st.sim.snapshot().position.clone();
    json!({ "running": st.clock.running(), "epoch": p.epoch, "round": p.round, "state_version": p.state_version })
}

async fn clock_state(State(st): State<AppState>) -> Response {
    Json(clock_json(&st)).into_response()
}

async fn clock_pause(State(st): State<AppState>) -> Response {
    let clock = st.clock.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || clock.pause()).await {
        return bad(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot pause: {e}"),
        );
    }
    Json(clock_json(&st)).into_response()
}

async fn clock_resume(State(st): State<AppState>) -> Response {
    st.clock.resume();
    Json(clock_json(&st)).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    rounds: u64,
}

async fn clock_step(State(st): State<AppState>, body: Bytes) -> Response {
    let req: StepBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad(
                StatusCode::BAD_REQUEST,
                format!("invalid body: {e}. Send {{\"rounds\": N}}"),
            )
        }
    };
    if req.rounds == 0 || req.rounds > MAX_STEP_ROUNDS {
        return bad(
            StatusCode::BAD_REQUEST,
            format!("rounds must be 1..={MAX_STEP_ROUNDS}"),
        );
    }
    if st.clock.running() {
        return bad(
            StatusCode::CONFLICT,
            "the clock is running; POST /clock/pause first, then step".into(),
        );
    }
    let sim = st.sim.clone();
    let stepped = tokio::task::spawn_blocking(move || -> Result<(), String> {
        for _ in 0..req.rounds {
            sim.step_round().map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .await;
    match stepped {
        Ok(Ok(())) => Json(clock_json(&st)).into_response(),
        Ok(Err(e)) => bad(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("round failed: {e}"),
        ),
        Err(e) => bad(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("step task failed: {e}"),
        ),
    }
}
