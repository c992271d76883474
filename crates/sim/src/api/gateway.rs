//! Gateway API server (paths as in `gateway-api-schema.yaml`, no prefix).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use radix_api::gateway as gw;
use radix_api::PublicKey;
use radix_common::prelude::{
    AddressBech32Decoder, AddressBech32Encoder, EntityType, NetworkDefinition, NodeId,
};
use serde::de::DeserializeOwned;

use super::{iso_ms, Ctx};
use crate::faults::{AccountPages, FailMode};
use crate::ledger::types::{
    CommitInfo, EmissionRecord, IntentStatus, LedgerSnapshot, PreviewRequest, SubmitOutcome,
    ValidatorView,
};

/// The real gateway refuses answers when its ledger view is this far behind (its default).
const MAX_ALLOWED_SYNC_DELAY_SECONDS: i64 = 60;
/// Lag reported by an injected NotSyncedUp fault: well past the limit above, as a real lagging
/// gateway would report it.
const INJECTED_SYNC_DELAY_SECONDS: i64 = 600;

pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/status/gateway-status", post(gateway_status))
        .route("/transaction/construction", post(construction))
        .route("/statistics/validators/uptime", post(uptime))
        .route("/state/validators/list", post(validators_list))
        .route("/state/entity/details", post(entity_details))
        .route("/state/non-fungible/location", post(non_fungible_location))
        .route("/state/entity/page/fungibles/", post(fungibles_page))
        .route(
            "/state/entity/page/non-fungibles/",
            post(non_fungibles_page),
        )
        .route(
            "/state/entity/page/non-fungible-vault/ids",
            post(non_fungible_ids_page),
        )
        .route("/transaction/submit", post(submit))
        .route("/transaction/status", post(status))
        .route("/transaction/preview", post(preview))
        .route("/transaction/committed-details", post(committed_details))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            invalid_request_status(
                StatusCode::METHOD_NOT_ALLOWED,
                "method",
                "gateway endpoints take POST with a JSON body",
            )
        })
        .layer(middleware::from_fn_with_state(ctx.clone(), faults_layer))
        .with_state(ctx)
}

/// An error answer: HTTP status + the spec's `ErrorResponse`.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub Box<gw::ErrorResponse>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

fn error(status: StatusCode, message: impl Into<String>, details: gw::GatewayError) -> ApiError {
    ApiError(
        status,
        Box::new(gw::ErrorResponse {
            message: message.into(),
            code: Some(i32::from(status.as_u16())),
            details: Some(details),
            trace_id: None,
        }),
    )
}

fn invalid_request(path: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    error(
        StatusCode::BAD_REQUEST,
        format!("Invalid request: {message}"),
        gw::GatewayError::InvalidRequestError {
            validation_errors: vec![gw::ValidationErrorsAtPath {
                path: path.to_string(),
                errors: vec![message],
            }],
        },
    )
}

fn invalid_request_status(status: StatusCode, path: &str, message: &str) -> ApiError {
    let mut e = invalid_request(path, message);
    e.0 = status;
    e.1.code = Some(i32::from(status.as_u16()));
    e
}

fn internal(cause: impl Into<String>) -> ApiError {
    let cause = cause.into();
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("Internal server error: {cause}"),
        gw::GatewayError::InternalServerError {
            exception: "RadixSimError".into(),
            cause,
        },
    )
}

/// Parses a JSON body; malformed JSON or a wrong shape gives a 400 naming the problem.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| invalid_request("$", format!("request body is not a valid request: {e}")))
}

async fn not_found() -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "No such endpoint on this gateway (radix-sim serves the endpoints listed in docs/simulator.md)",
        gw::GatewayError::InvalidRequestError {
            validation_errors: vec![],
        },
    )
}

/// Applies gateway faults: latency first, then a failing answer, or garbage instead of the
/// real body.
async fn faults_layer(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let resp = faulty(&ctx, req, next).await;
    // Counted as served (a JSON body's size is exact); `GET /stats` of the control API.
    let bytes = axum::body::HttpBody::size_hint(resp.body())
        .exact()
        .unwrap_or(0);
    ctx.faults.count_gateway(&path, bytes, &agent);
    resp
}

async fn faulty(ctx: &Ctx, req: Request, next: Next) -> Response {
    let fx = ctx.faults.gateway_effects();
    if fx.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fx.latency_ms)).await;
    }
    if let Some(retry_after_s) = fx.rate_limited {
        ctx.faults.count_rate_limited();
        let mut resp = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests: rate limit exceeded (injected fault gateway_rate_limited)",
            gw::GatewayError::InternalServerError {
                exception: "RateLimited".into(),
                cause: "radix-sim fault gateway_rate_limited".into(),
            },
        )
        .into_response();
        if let Ok(v) = header::HeaderValue::from_str(&retry_after_s.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    if let Some(f) = fx.failing {
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return match f.mode {
            FailMode::Status5xx => error(
                status,
                "Injected fault: the gateway is failing",
                gw::GatewayError::InternalServerError {
                    exception: "InjectedFault".into(),
                    cause: "radix-sim fault gateway_failing".into(),
                },
            )
            .into_response(),
            FailMode::NotSyncedUp => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The Network Gateway is not synced up with the network",
                gw::GatewayError::NotSyncedUpError {
                    request_type: "Read".into(),
                    current_sync_delay_seconds: INJECTED_SYNC_DELAY_SECONDS,
                    max_allowed_sync_delay_seconds: MAX_ALLOWED_SYNC_DELAY_SECONDS,
                },
            )
            .into_response(),
        };
    }
    let resp = next.run(req).await;
    if fx.garbage {
        // Truncated JSON: looks like an answer, parses as nothing.
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"ledger_state\": {\"network\": \"simulator\", \"state_vers",
        )
            .into_response();
    }
    resp
}

pub fn ledger_state(s: &LedgerSnapshot) -> gw::LedgerState {
    gw::LedgerState {
        network: s.position.network_name.clone(),
        state_version: s.position.state_version,
        proposer_round_timestamp: iso_ms(s.position.proposer_round_timestamp_ms),
        epoch: s.position.epoch,
        round: s.position.round,
    }
}

async fn gateway_status(State(ctx): State<Ctx>) -> Json<gw::GatewayStatusResponse> {
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    Json(gw::GatewayStatusResponse {
        ledger_state: ledger_state(&s),
        release_info: gw::GatewayInfoResponseReleaseInfo {
            release_version: format!("radix-sim {}", env!("CARGO_PKG_VERSION")),
            open_api_schema_version: "v1.10.6".into(),
            image_tag: "radix-sim".into(),
        },
    })
}

async fn construction(State(ctx): State<Ctx>) -> Json<gw::TransactionConstructionResponse> {
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    Json(gw::TransactionConstructionResponse {
        ledger_state: ledger_state(&s),
    })
}

// ---------------------------------------------------------------- uptime

/// Which emission records a ledger-state selector sees, as the real gateway resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtPoint {
    Latest,
    /// The ledger as at the start of this epoch: records of earlier epochs only.
    Epoch(u64),
    StateVersion(u64),
}

fn at_point(
    sel: Option<&gw::LedgerStateSelector>,
    s: &LedgerSnapshot,
    field: &str,
) -> Result<AtPoint, ApiError> {
    let Some(sel) = sel else {
        return Ok(AtPoint::Latest);
    };
    if sel.timestamp.is_some() {
        return Err(invalid_request(
            field,
            "timestamp selectors are not supported by radix-sim; select by epoch or state_version",
        ));
    }
    if let Some(v) = sel.state_version {
        if v > s.position.state_version {
            return Err(invalid_request(
                field,
                format!(
                    "state_version {v} is beyond the ledger tip {}",
                    s.position.state_version
                ),
            ));
        }
        return Ok(AtPoint::StateVersion(v));
    }
    if let Some(e) = sel.epoch {
        if e > s.position.epoch {
            return Err(invalid_request(
                field,
                format!("epoch {e} is beyond the current epoch {}", s.position.epoch),
            ));
        }
        return Ok(AtPoint::Epoch(e));
    }
    Ok(AtPoint::Latest)
}

fn visible(r: &EmissionRecord, at: AtPoint) -> bool {
    match at {
        AtPoint::Latest => true,
        AtPoint::Epoch(e) => r.epoch < e,
        AtPoint::StateVersion(v) => r.state_version <= v,
    }
}

/// Uptime of one validator from the emission records: finished epochs only. With a `from`
/// epoch, the count is cumulative(at) − cumulative(first record with epoch ≥ from), i.e. the
/// epochs after that first record, as the real gateway computes it. `None` when no record
/// falls in the range.
pub fn uptime_of(
    records: &[EmissionRecord],
    validator: &str,
    from_epoch: Option<u64>,
    at: AtPoint,
) -> (Option<u64>, Option<u64>, u64) {
    let mine: Vec<&EmissionRecord> = records
        .iter()
        .filter(|r| r.validator_address == validator && visible(r, at))
        .collect();
    let in_range: Vec<&EmissionRecord> = match from_epoch {
        None => mine,
        Some(f) => match mine.iter().position(|r| r.epoch >= f) {
            Some(first) => mine[first + 1..].to_vec(),
            None => Vec::new(),
        },
    };
    if in_range.is_empty() {
        return (None, None, 0);
    }
    let made = in_range.iter().map(|r| r.proposals_made).sum();
    let missed = in_range.iter().map(|r| r.proposals_missed).sum();
    (Some(made), Some(missed), in_range.len() as u64)
}

async fn uptime(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::ValidatorsUptimeResponse>, ApiError> {
    let req: gw::ValidatorsUptimeRequest = parse(&body)?;
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    let at = at_point(req.at_ledger_state.as_ref(), &s, "at_ledger_state")?;
    let from_epoch = match req.from_ledger_state.as_ref() {
        None => None,
        Some(sel) => match at_point(Some(sel), &s, "from_ledger_state")? {
            AtPoint::Latest => None,
            AtPoint::Epoch(e) => Some(e),
            AtPoint::StateVersion(v) => Some(epoch_at_state_version(&s, v)),
        },
    };
    let addresses: Vec<String> = match req.validator_addresses {
        Some(a) => {
            for addr in &a {
                if !s.validators.iter().any(|v| &v.address == addr) {
                    return Err(entity_not_found(addr));
                }
            }
            a
        }
        None => s.validators.iter().map(|v| v.address.clone()).collect(),
    };
    let items = addresses
        .into_iter()
        .map(|address| {
            let (made, missed, epochs) = uptime_of(&s.emissions, &address, from_epoch, at);
            gw::ValidatorUptimeCollectionItem {
                address,
                proposals_made: made,
                proposals_missed: missed,
                epochs_active_in: epochs,
            }
        })
        .collect();
    Ok(Json(gw::ValidatorsUptimeResponse {
        ledger_state: at_ledger_state(&s, at),
        validators: gw::ValidatorUptimeCollection { items },
    }))
}

/// The epoch the ledger was in at state version `v`: one more than the last epoch whose
/// emission (emitted by the epoch change) is at or before `v`.
fn epoch_at_state_version(s: &LedgerSnapshot, v: u64) -> u64 {
    s.emissions
        .iter()
        .filter(|r| r.state_version <= v)
        .map(|r| r.epoch + 1)
        .max()
        .unwrap_or(1)
}

/// The ledger state the answer is "at": the tip for `Latest`, else the epoch change that
/// started the selected epoch when it is known.
fn at_ledger_state(s: &LedgerSnapshot, at: AtPoint) -> gw::LedgerState {
    let mut ls = ledger_state(s);
    match at {
        AtPoint::Latest => {}
        AtPoint::Epoch(e) if e < s.position.epoch => {
            if let Some(r) = s.emissions.iter().find(|r| r.epoch + 1 == e) {
                ls.state_version = r.state_version;
                ls.epoch = e;
                ls.round = 0;
            }
        }
        AtPoint::Epoch(_) => {}
        AtPoint::StateVersion(v) => {
            ls.state_version = v;
            ls.epoch = epoch_at_state_version(s, v);
        }
    }
    ls
}

fn entity_not_found(address: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        format!("Entity {address} not found on this network"),
        gw::GatewayError::EntityNotFoundError {
            address: address.to_string(),
        },
    )
}

// ---------------------------------------------------------------- validators

fn vault(balance: &str, address: &str, sv: u64) -> gw::ValidatorVaultItem {
    gw::ValidatorVaultItem {
        balance: balance.to_string(),
        last_changed_at_state_version: sv,
        address: address.to_string(),
    }
}

pub fn validator_item(v: &ValidatorView, s: &LedgerSnapshot) -> gw::ValidatorCollectionItem {
    let sv = s.position.state_version;
    gw::ValidatorCollectionItem {
        address: v.address.clone(),
        stake_vault: vault(&v.stake_xrd, &v.stake_xrd_vault_address, sv),
        pending_xrd_withdraw_vault: vault(
            &v.pending_xrd_withdraw_balance,
            &v.pending_xrd_withdraw_vault_address,
            sv,
        ),
        locked_owner_stake_unit_vault: vault(
            &v.locked_owner_stake_unit_balance,
            &v.locked_owner_stake_unit_vault_address,
            sv,
        ),
        pending_owner_stake_unit_unlock_vault: vault(
            &v.pending_owner_stake_unit_unlock_balance,
            &v.pending_owner_stake_unit_unlock_vault_address,
            sv,
        ),
        state: serde_json::to_value(super::core::validator_state_value(v)).ok(),
        active_in_epoch: v
            .active
            .as_ref()
            .map(|a| gw::ValidatorCollectionItemActiveInEpoch {
                stake: a.stake_xrd.clone(),
                stake_percentage: a.stake_percentage.parse().unwrap_or(0.0),
                key: PublicKey::EcdsaSecp256k1 {
                    key_hex: a.key_hex.clone(),
                },
            }),
        metadata: gw::EntityMetadataCollection::default(),
        // As the gateway resolves it: the change request once its epoch has come.
        effective_fee_factor: gw::EffectiveFeeFactor {
            current: gw::FeeFactorCurrent {
                fee_factor: v.fee_factor_at(s.position.epoch).to_string(),
            },
            pending: v
                .pending_fee_change_at(s.position.epoch)
                .map(|r| gw::FeeFactorPending {
                    fee_factor: r.new_fee_factor.clone(),
                    effective_at_epoch: r.epoch_effective,
                }),
        },
    }
}

async fn validators_list(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::StateValidatorsListResponse>, ApiError> {
    // An empty body is allowed: every field is optional.
    let req: gw::StateValidatorsListRequest = if body.is_empty() {
        Default::default()
    } else {
        parse(&body)?
    };
    let paging = ctx.faults.gateway_slow_pages();
    if let Some(p) = paging {
        tokio::time::sleep(Duration::from_millis(p.latency_ms)).await;
    }
    let (s, offset) = match req.cursor.as_deref() {
        None => {
            let s = ctx.faults.gateway_snapshot(&ctx.sim);
            if let Some(AtPoint::Epoch(_) | AtPoint::StateVersion(_)) = req
                .at_ledger_state
                .as_ref()
                .map(|sel| at_point(Some(sel), &s, "at_ledger_state"))
                .transpose()?
            {
                return Err(invalid_request(
                    "at_ledger_state",
                    "historical validator lists are not kept by radix-sim; omit at_ledger_state",
                ));
            }
            (s, 0)
        }
        Some(cursor) => later_page(&ctx, cursor, req.at_ledger_state.as_ref())?,
    };
    let all: Vec<_> = s.validators.iter().map(|v| validator_item(v, &s)).collect();
    let total = all.len();
    // Without the paging fault (or once it is cleared) the rest comes in one page.
    let page_size = paging.map_or(total.max(1), |p| p.page_size);
    let end = offset.saturating_add(page_size).min(total);
    let items: Vec<_> = all.into_iter().take(end).skip(offset).collect();
    let next_cursor = (end < total).then(|| {
        remember_listing(&ctx, &s);
        format!("{}:{end}", s.position.state_version)
    });
    Ok(Json(gw::StateValidatorsListResponse {
        ledger_state: ledger_state(&s),
        validators: gw::ValidatorCollection {
            total_count: Some(total as u64),
            next_cursor,
            items,
        },
    }))
}

/// Paged listings whose ledger state is kept for their later pages: enough for a few clients
/// polling at once, and a bounded amount of memory.
const LISTINGS_KEPT: usize = 64;

fn remember_listing(ctx: &Ctx, s: &std::sync::Arc<LedgerSnapshot>) {
    let mut kept = ctx.list_pages.lock().unwrap_or_else(|p| p.into_inner());
    let sv = s.position.state_version;
    if !kept.iter().any(|k| k.position.state_version == sv) {
        kept.push_back(s.clone());
        while kept.len() > LISTINGS_KEPT {
            kept.pop_front();
        }
    }
}

/// A later page of a paged listing: the cursor (`<state version>:<offset>`) names the listing's
/// ledger state, which the request's `at_ledger_state` must repeat if it gives one.
fn later_page(
    ctx: &Ctx,
    cursor: &str,
    at: Option<&gw::LedgerStateSelector>,
) -> Result<(std::sync::Arc<LedgerSnapshot>, usize), ApiError> {
    let parsed = cursor
        .split_once(':')
        .and_then(|(sv, off)| Some((sv.parse::<u64>().ok()?, off.parse::<usize>().ok()?)));
    let Some((sv, offset)) = parsed else {
        return Err(invalid_request(
            "cursor",
            "not a cursor this gateway gave out; send the next_cursor of the previous page",
        ));
    };
    if let Some(sel) = at {
        if sel.state_version != Some(sv) || sel.epoch.is_some() || sel.timestamp.is_some() {
            return Err(invalid_request(
                "at_ledger_state",
                format!("later pages are served at the first page's ledger state; send state_version {sv} or omit at_ledger_state"),
            ));
        }
    }
    let kept = ctx.list_pages.lock().unwrap_or_else(|p| p.into_inner());
    kept.iter()
        .find(|k| k.position.state_version == sv)
        .map(|k| (k.clone(), offset))
        .ok_or_else(|| {
            invalid_request(
                "cursor",
                "this listing has expired; list again without a cursor",
            )
        })
}

// ---------------------------------------------------------------- entity details

async fn entity_details(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::StateEntityDetailsResponse>, ApiError> {
    let req: gw::StateEntityDetailsRequest = parse(&body)?;
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    if req
        .at_ledger_state
        .as_ref()
        .is_some_and(|sel| sel != &gw::LedgerStateSelector::default())
    {
        return Err(invalid_request(
            "at_ledger_state",
            "historical entity state is not kept by radix-sim; omit at_ledger_state",
        ));
    }
    const MAX_ADDRESSES: usize = 20; // the real gateway's default page limit for this endpoint
    if req.addresses.is_empty() || req.addresses.len() > MAX_ADDRESSES {
        return Err(invalid_request(
            "addresses",
            format!("give between 1 and {MAX_ADDRESSES} addresses"),
        ));
    }
    let by_vault = req.aggregation_level == Some(gw::ResourceAggregationLevel::Vault);
    let with_ids = req
        .opt_ins
        .as_ref()
        .and_then(|o| o.non_fungible_include_nfids)
        .unwrap_or(false);
    let sv = s.position.state_version;
    let mut items = Vec::new();
    for address in &req.addresses {
        if let Some(v) = s.validators.iter().find(|v| &v.address == address) {
            items.push(gw::StateEntityDetailsResponseItem {
                address: address.clone(),
                fungible_resources: Some(fungibles(
                    vec![(s.xrd_resource.clone(), v.stake_xrd.clone(), v.stake_xrd_vault_address.clone())],
                    by_vault,
                    sv,
                    None,
                )),
                non_fungible_resources: Some(non_fungibles(vec![], by_vault, with_ids, sv, None, None)),
                metadata: gw::EntityMetadataCollection::default(),
                details: Some(gw::StateEntityDetailsResponseItemDetails::Component(
                    gw::StateEntityDetailsResponseComponentDetails {
                        package_address: None,
                        blueprint_name: "Validator".into(),
                        blueprint_version: "1.0.0".into(),
                        state: serde_json::to_value(super::core::validator_state_value(v)).ok(),
                        role_assignments: Some(gw::ComponentEntityRoleAssignments {
                            owner: serde_json::json!({
                                "rule": super::core::owner_badge_rule(&s.owner_badge_resource, &v.owner_badge_local_id),
                                "updater": "None"
                            }),
                            entries: vec![],
                        }),
                    },
                )),
            });
            continue;
        }
        let a = account_of(&ctx, address).await?;
        let (blueprint_name, state, role_assignments) = match controller_of(&ctx, address).await? {
            // An access controller: its state and its roles' rules, as Core models them.
            Some(c) => {
                let enc = AddressBech32Encoder::new(&NetworkDefinition::simulator());
                (
                    "AccessController",
                    Some(super::access_controller::state_json(&c, &enc)),
                    Some(gw::ComponentEntityRoleAssignments {
                        owner: serde_json::json!({ "rule": { "type": "DenyAll" }, "updater": "None" }),
                        entries: super::access_controller::role_entries(&c, &enc),
                    }),
                )
            }
            None => ("Account", None, None),
        };
        let pages = ctx.faults.gateway_account_pages();
        items.push(gw::StateEntityDetailsResponseItem {
            address: address.clone(),
            fungible_resources: Some(fungibles(
                fungible_listing(&ctx, &a, pages),
                by_vault,
                sv,
                pages.map(|p| (p.page_size, 0)),
            )),
            non_fungible_resources: Some(non_fungibles(
                non_fungible_listing(&ctx, &a, pages),
                by_vault,
                with_ids,
                sv,
                pages.map(|p| (p.page_size, 0)),
                pages.map(|p| p.page_size),
            )),
            metadata: gw::EntityMetadataCollection::default(),
            details: Some(gw::StateEntityDetailsResponseItemDetails::Component(
                gw::StateEntityDetailsResponseComponentDetails {
                    package_address: None,
                    blueprint_name: blueprint_name.into(),
                    blueprint_version: "1.0.0".into(),
                    state,
                    role_assignments,
                },
            )),
        });
    }
    Ok(Json(gw::StateEntityDetailsResponse {
        ledger_state: ledger_state(&s),
        items,
    }))
}

/// `/state/non-fungible/location`: the vault that holds each id and the component that owns
/// the vault, searched in the engine's state. An id no vault holds is shown burned.
async fn non_fungible_location(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::StateNonFungibleLocationResponse>, ApiError> {
    let req: gw::StateNonFungibleLocationRequest = parse(&body)?;
    if req
        .at_ledger_state
        .as_ref()
        .is_some_and(|sel| sel != &gw::LedgerStateSelector::default())
    {
        return Err(invalid_request(
            "at_ledger_state",
            "historical state is not kept by radix-sim; omit at_ledger_state",
        ));
    }
    const MAX_IDS: usize = 100; // the spec's limit
    if req.non_fungible_ids.is_empty() || req.non_fungible_ids.len() > MAX_IDS {
        return Err(invalid_request(
            "non_fungible_ids",
            format!("give between 1 and {MAX_IDS} ids"),
        ));
    }
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    let sim = ctx.sim.clone();
    let resource = req.resource_address.clone();
    let ids = req.non_fungible_ids.clone();
    let found = tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|id| sim.non_fungible_location(&resource, id))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| internal(e.to_string()))?
    .map_err(|e| invalid_request("$", e.to_string()))?;
    let items = req
        .non_fungible_ids
        .iter()
        .zip(found)
        .map(|(id, at)| gw::StateNonFungibleLocationResponseItem {
            non_fungible_id: id.clone(),
            is_burned: at.is_none(),
            owning_vault_parent_ancestor_address: at.as_ref().map(|(_, owner)| owner.clone()),
            owning_vault_global_ancestor_address: at.as_ref().map(|(_, owner)| owner.clone()),
            owning_vault_address: at.map(|(vault, _)| vault),
            last_updated_at_state_version: s.position.state_version,
        })
        .collect();
    Ok(Json(gw::StateNonFungibleLocationResponse {
        ledger_state: ledger_state(&s),
        resource_address: req.resource_address,
        non_fungible_ids: items,
    }))
}

/// The access controller at `address`, if that is one.
async fn controller_of(
    ctx: &Ctx,
    address: &str,
) -> Result<Option<crate::ledger::AccessControllerState>, ApiError> {
    let decoder = AddressBech32Decoder::new(&NetworkDefinition::simulator());
    let Ok((_, bytes)) = decoder.validate_and_decode(address) else {
        return Ok(None);
    };
    let Ok(node) = <[u8; NodeId::LENGTH]>::try_from(bytes.as_slice()) else {
        return Ok(None);
    };
    if NodeId(node).entity_type() != Some(EntityType::GlobalAccessController) {
        return Ok(None);
    }
    let sim = ctx.sim.clone();
    tokio::task::spawn_blocking(move || sim.access_controller_state(&NodeId(node)))
        .await
        .map_err(|e| internal(e.to_string()))
}

/// The account `address`, or the error answer the gateway gives for it.
async fn account_of(
    ctx: &Ctx,
    address: &str,
) -> Result<crate::ledger::types::AccountView, ApiError> {
    let sim = ctx.sim.clone();
    let addr = address.to_string();
    let account = tokio::task::spawn_blocking(move || sim.account(&addr))
        .await
        .map_err(|e| internal(e.to_string()))?;
    match account {
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("Invalid entity address {address}: {e}"),
            gw::GatewayError::InvalidEntityError {
                address: address.to_string(),
            },
        )),
        Ok(None) => Err(entity_not_found(address)),
        Ok(Some(a)) => Ok(a),
    }
}

/// Filler ids come first in every non-fungible vault under `gateway_account_pages`: integer
/// ids far from the small ones the sim mints.
fn filler_ids(pages: Option<AccountPages>) -> Vec<String> {
    let n = pages.map_or(0, |p| p.filler);
    (0..n).map(|i| format!("#{}#", 900_000 + i)).collect()
}

/// (resource, amount, vault) of every fungible vault of the account, after the fault's fillers.
fn fungible_listing(
    ctx: &Ctx,
    a: &crate::ledger::types::AccountView,
    pages: Option<AccountPages>,
) -> Vec<(String, String, String)> {
    let n = pages.map_or(0, |p| p.filler);
    let filler = (0..n).map(|i| {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let r = ctx.sim.filler_resource_address(true, i);
        (r.clone(), "1".to_string(), format!("{r}_vault"))
    });
    filler
        .chain(a.fungibles.iter().map(|f| {
            (
                f.resource_address.clone(),
                f.amount.clone(),
                f.vault_address.clone(),
            )
        }))
        .collect()
}

/// (resource, ids, vault) of every non-fungible vault of the account, after the fault's
/// fillers; every vault's ids after the filler ids.
fn non_fungible_listing(
    ctx: &Ctx,
    a: &crate::ledger::types::AccountView,
    pages: Option<AccountPages>,
) -> Vec<(String, Vec<String>, String)> {
    let n = pages.map_or(0, |p| p.filler);
    let ids = |real: &[String]| {
        let mut v = filler_ids(pages);
        v.extend(real.iter().cloned());
        v
    };
    let filler = (0..n).map(|i| {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let r = ctx.sim.filler_resource_address(false, i);
        (r.clone(), ids(&[]), format!("{r}_vault"))
    });
    filler
        .chain(a.non_fungibles.iter().map(|h| {
            (
                h.resource_address.clone(),
                ids(&h.ids),
                h.vault_address.clone(),
            )
        }))
        .collect()
}

/// Items `offset..` of `all`, at most `page_size` of them (all without paging), and the cursor
/// (`<tag>:<next offset>`) of the rest.
fn page_of<T>(
    all: Vec<T>,
    paging: Option<(usize, usize)>,
    tag: &str,
) -> (Vec<T>, Option<String>, u64) {
    let total = all.len();
    let (size, offset) = paging.unwrap_or((total.max(1), 0));
    let end = offset.saturating_add(size.max(1)).min(total);
    let next = (end < total).then(|| format!("{tag}:{end}"));
    let items = all.into_iter().take(end).skip(offset).collect();
    (items, next, total as u64)
}

/// The offset a cursor this gateway gave out (`<tag>:<offset>`) names; 0 without one.
fn cursor_offset(cursor: Option<&str>, tag: &str) -> Result<usize, ApiError> {
    let Some(c) = cursor else { return Ok(0) };
    c.strip_prefix(tag)
        .and_then(|r| r.strip_prefix(':'))
        .and_then(|o| o.parse().ok())
        .ok_or_else(|| {
            invalid_request(
                "cursor",
                "not a cursor this gateway gave out; send the next_cursor of the previous page",
            )
        })
}

/// Later pages may name the first page's ledger state: radix-sim keeps no history and serves
/// the current holdings (which change only by a transaction), so only a selector by state
/// version no later than now is taken.
fn check_page_at(s: &LedgerSnapshot, at: Option<&gw::LedgerStateSelector>) -> Result<(), ApiError> {
    match at {
        None => Ok(()),
        Some(sel) if sel == &gw::LedgerStateSelector::default() => Ok(()),
        Some(sel)
            if sel.epoch.is_none()
                && sel.round.is_none()
                && sel.timestamp.is_none()
                && sel.state_version.is_some_and(|v| v <= s.position.state_version) =>
        {
            Ok(())
        }
        Some(_) => Err(invalid_request(
            "at_ledger_state",
            "radix-sim serves later pages by state_version only (that of the first page); omit the other fields",
        )),
    }
}

/// (resource, amount, vault) per vault, aggregated per resource or listed per vault; `paging`
/// (page size, offset) serves one page of the resources.
fn fungibles(
    holdings: Vec<(String, String, String)>,
    by_vault: bool,
    sv: u64,
    paging: Option<(usize, usize)>,
) -> gw::FungibleResourcesCollection {
    let (holdings, next_cursor, total) = page_of(holdings, paging, "f");
    let items: Vec<_> = holdings
        .into_iter()
        .map(|(resource_address, amount, vault_address)| {
            if by_vault {
                gw::FungibleResourcesCollectionItem::Vault {
                    resource_address,
                    vaults: gw::FungibleVaultCollection {
                        total_count: Some(1),
                        next_cursor: None,
                        items: vec![gw::FungibleVaultItem {
                            vault_address,
                            amount,
                            last_updated_at_state_version: sv,
                        }],
                    },
                }
            } else {
                gw::FungibleResourcesCollectionItem::Global {
                    resource_address,
                    amount,
                    last_updated_at_state_version: sv,
                }
            }
        })
        .collect();
    gw::FungibleResourcesCollection {
        total_count: Some(total),
        next_cursor,
        items,
    }
}

/// As [`fungibles`]; `ids_page_size` pages each vault's ids.
fn non_fungibles(
    holdings: Vec<(String, Vec<String>, String)>,
    by_vault: bool,
    with_ids: bool,
    sv: u64,
    paging: Option<(usize, usize)>,
    ids_page_size: Option<usize>,
) -> gw::NonFungibleResourcesCollection {
    let (holdings, next_cursor, total) = page_of(holdings, paging, "n");
    let items: Vec<_> = holdings
        .into_iter()
        .map(|(resource_address, ids, vault_address)| {
            if by_vault {
                let count = ids.len() as u64;
                let (ids, ids_cursor, _) = page_of(ids, ids_page_size.map(|size| (size, 0)), "i");
                gw::NonFungibleResourcesCollectionItem::Vault {
                    resource_address,
                    vaults: gw::NonFungibleVaultCollection {
                        total_count: Some(1),
                        next_cursor: None,
                        items: vec![gw::NonFungibleVaultItem {
                            total_count: count,
                            items: with_ids.then_some(ids),
                            next_cursor: ids_cursor.filter(|_| with_ids),
                            vault_address,
                            last_updated_at_state_version: sv,
                        }],
                    },
                }
            } else {
                gw::NonFungibleResourcesCollectionItem::Global {
                    resource_address,
                    amount: ids.len() as u64,
                    last_updated_at_state_version: sv,
                }
            }
        })
        .collect();
    gw::NonFungibleResourcesCollection {
        total_count: Some(total),
        next_cursor,
        items,
    }
}

async fn fungibles_page(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::StateEntityFungiblesPageResponse>, ApiError> {
    let req: gw::StateEntityFungiblesPageRequest = parse(&body)?;
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    check_page_at(&s, req.at_ledger_state.as_ref())?;
    let offset = cursor_offset(req.cursor.as_deref(), "f")?;
    let a = account_of(&ctx, &req.address).await?;
    let pages = ctx.faults.gateway_account_pages();
    let listing = fungible_listing(&ctx, &a, pages);
    let size = pages.map_or(listing.len().max(1), |p| p.page_size);
    let by_vault = req.aggregation_level == Some(gw::ResourceAggregationLevel::Vault);
    Ok(Json(gw::StateEntityFungiblesPageResponse {
        ledger_state: ledger_state(&s),
        resources: fungibles(
            listing,
            by_vault,
            s.position.state_version,
            Some((size, offset)),
        ),
        address: req.address,
    }))
}

async fn non_fungibles_page(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::StateEntityNonFungiblesPageResponse>, ApiError> {
    let req: gw::StateEntityNonFungiblesPageRequest = parse(&body)?;
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    check_page_at(&s, req.at_ledger_state.as_ref())?;
    let offset = cursor_offset(req.cursor.as_deref(), "n")?;
    let a = account_of(&ctx, &req.address).await?;
    let pages = ctx.faults.gateway_account_pages();
    let listing = non_fungible_listing(&ctx, &a, pages);
    let size = pages.map_or(listing.len().max(1), |p| p.page_size);
    let by_vault = req.aggregation_level == Some(gw::ResourceAggregationLevel::Vault);
    let with_ids = req
        .opt_ins
        .as_ref()
        .and_then(|o| o.non_fungible_include_nfids)
        .unwrap_or(false);
    Ok(Json(gw::StateEntityNonFungiblesPageResponse {
        ledger_state: ledger_state(&s),
        resources: non_fungibles(
            listing,
            by_vault,
            with_ids,
            s.position.state_version,
            Some((size, offset)),
            pages.map(|p| p.page_size),
        ),
        address: req.address,
    }))
}

async fn non_fungible_ids_page(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::StateEntityNonFungibleIdsPageResponse>, ApiError> {
    let req: gw::StateEntityNonFungibleIdsPageRequest = parse(&body)?;
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    check_page_at(&s, req.at_ledger_state.as_ref())?;
    let offset = cursor_offset(req.cursor.as_deref(), "i")?;
    let a = account_of(&ctx, &req.address).await?;
    let pages = ctx.faults.gateway_account_pages();
    let Some((_, ids, _)) = non_fungible_listing(&ctx, &a, pages)
        .into_iter()
        .find(|(r, _, v)| r == &req.resource_address && v == &req.vault_address)
    else {
        return Err(invalid_request(
            "vault_address",
            format!(
                "{} holds no vault {} of resource {}",
                req.address, req.vault_address, req.resource_address
            ),
        ));
    };
    let size = pages.map_or(ids.len().max(1), |p| p.page_size);
    let (items, next_cursor, total) = page_of(ids, Some((size, offset)), "i");
    Ok(Json(gw::StateEntityNonFungibleIdsPageResponse {
        ledger_state: ledger_state(&s),
        total_count: Some(total),
        next_cursor,
        items,
        address: req.address,
        resource_address: req.resource_address,
    }))
}

// ---------------------------------------------------------------- transactions

fn decode_payload_hex(hex_str: &str, field: &str) -> Result<Vec<u8>, ApiError> {
    hex::decode(hex_str.trim()).map_err(|e| {
        invalid_request(
            field,
            format!("not valid hex ({e}); send the notarized transaction bytes hex-encoded"),
        )
    })
}

async fn submit(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::TransactionSubmitResponse>, ApiError> {
    let req: gw::TransactionSubmitRequest = parse(&body)?;
    let payload = decode_payload_hex(&req.notarized_transaction_hex, "notarized_transaction_hex")?;
    if ctx.faults.gateway_lies_tx() {
        // Swallowed: "accepted", but it never reaches the mempool.
        let intent = intent_hash_of(&payload);
        if let Some(intent) = intent {
            ctx.remember_payload(&intent, &payload);
        }
        return Ok(Json(gw::TransactionSubmitResponse { duplicate: false }));
    }
    if ctx.faults.take_submit_failure() {
        return Err(internal(
            "injected fault submit_failing: this submit was dropped",
        ));
    }
    let sim = ctx.sim.clone();
    let (outcome, payload) = tokio::task::spawn_blocking(move || (sim.submit(&payload), payload))
        .await
        .map_err(|e| internal(e.to_string()))?;
    match outcome {
        SubmitOutcome::Accepted {
            duplicate,
            intent_hash_bech32,
        } => {
            ctx.remember_payload(&intent_hash_bech32, &payload);
            Ok(Json(gw::TransactionSubmitResponse { duplicate }))
        }
        SubmitOutcome::Rejected { reason, .. } => Err(error(
            StatusCode::BAD_REQUEST,
            format!("Transaction rejected: {reason}"),
            gw::GatewayError::InvalidTransactionError {},
        )),
    }
}

/// The bech32 intent hash of a notarized payload, if it decodes.
fn intent_hash_of(payload: &[u8]) -> Option<String> {
    use radix_transactions::prelude::*;
    let network = radix_common::network::NetworkDefinition::simulator();
    let prepared = RawNotarizedTransaction::from_slice(payload)
        .prepare(PreparationSettings::latest_ref())
        .ok()?;
    TransactionHashBech32Encoder::new(&network)
        .encode(&prepared.transaction_intent_hash())
        .ok()
}

/// What a gateway lying about transactions (fault `gateway_lies_tx`) claims: committed with
/// success at its current state version. The payload hash is the submitted one if it saw the
/// submit, else one made up from the intent hash.
fn lying_commit(ctx: &Ctx, s: &LedgerSnapshot, intent_hash: &str) -> CommitInfo {
    let payload_hash = ctx.payload_of(intent_hash).unwrap_or_else(|| {
        use radix_transactions::prelude::*;
        let network = radix_common::network::NetworkDefinition::simulator();
        use radix_common::crypto::IsHash;
        let made_up = NotarizedTransactionHash::from_hash(radix_common::crypto::hash(format!(
            "radix-sim lying payload {intent_hash}"
        )));
        TransactionHashBech32Encoder::new(&network)
            .encode(&made_up)
            .unwrap_or_default()
    });
    CommitInfo {
        state_version: s.position.state_version,
        epoch: s.position.epoch,
        round: s.position.round,
        confirmed_at_ms: s.position.proposer_round_timestamp_ms,
        intent_hash_bech32: intent_hash.to_string(),
        payload_hash_bech32: payload_hash,
        fee_paid_xrd: LYING_FEE_XRD.into(),
        raw_hex: String::new(),
        manifest: String::new(),
    }
}

/// A typical fee of an update_key transaction, so the lie looks like a real commit.
const LYING_FEE_XRD: &str = "0.3";

fn intent_hash_checked(ctx: &Ctx, intent_hash: &str) -> Result<(), ApiError> {
    if ctx.sim.is_valid_intent_hash(intent_hash) {
        Ok(())
    } else {
        Err(invalid_request(
            "intent_hash",
            format!(
                "{intent_hash:?} is not a transaction intent hash of this network (txid_sim1…)"
            ),
        ))
    }
}

fn committed_payload(
    c: &CommitInfo,
    status: gw::TransactionStatus,
) -> gw::TransactionStatusResponseKnownPayloadItem {
    let payload_status = match status {
        gw::TransactionStatus::CommittedSuccess => gw::TransactionPayloadStatus::CommittedSuccess,
        _ => gw::TransactionPayloadStatus::CommittedFailure,
    };
    gw::TransactionStatusResponseKnownPayloadItem {
        payload_hash: c.payload_hash_bech32.clone(),
        status,
        payload_status: Some(payload_status),
        payload_status_description: Some("Committed to the ledger".into()),
        error_message: None,
        latest_error_message: None,
        handling_status: Some(gw::TransactionPayloadGatewayHandlingStatus::Concluded),
        handling_status_reason: None,
        submission_error: None,
    }
}

async fn status(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::TransactionStatusResponse>, ApiError> {
    let req: gw::TransactionStatusRequest = parse(&body)?;
    intent_hash_checked(&ctx, &req.intent_hash)?;
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    let st = if ctx.faults.gateway_lies_tx() {
        IntentStatus::CommittedSuccess(lying_commit(&ctx, &s, &req.intent_hash))
    } else {
        ctx.sim.intent_status(&req.intent_hash)
    };
    // A stale gateway does not know about commits after its frozen state version.
    let st = match st {
        IntentStatus::CommittedSuccess(c) | IntentStatus::CommittedFailure { commit: c, .. }
            if c.state_version > s.position.state_version =>
        {
            IntentStatus::Pending {
                submitted_at_ms: c.confirmed_at_ms,
            }
        }
        other => other,
    };
    use gw::{TransactionIntentStatus as I, TransactionStatus as T};
    let mut resp = gw::TransactionStatusResponse {
        ledger_state: ledger_state(&s),
        status: T::Unknown,
        intent_status: I::Unknown,
        intent_status_description: String::new(),
        known_payloads: vec![],
        committed_state_version: None,
        permanently_rejects_at_epoch: None,
        error_message: None,
    };
    match st {
        IntentStatus::Unknown => {
            resp.intent_status_description =
                "The transaction intent is not known to this gateway.".into();
        }
        IntentStatus::Pending { .. } => {
            resp.status = T::Pending;
            resp.intent_status = I::Pending;
            resp.intent_status_description =
                "The transaction is in the mempool and has not been committed yet.".into();
            if let Some(payload_hash) = ctx.payload_of(&req.intent_hash) {
                resp.known_payloads = vec![gw::TransactionStatusResponseKnownPayloadItem {
                    payload_hash,
                    status: T::Pending,
                    payload_status: Some(gw::TransactionPayloadStatus::Pending),
                    payload_status_description: Some(
                        "In the mempool, waiting for the next round".into(),
                    ),
                    error_message: None,
                    latest_error_message: None,
                    handling_status: Some(
                        gw::TransactionPayloadGatewayHandlingStatus::HandlingSubmission,
                    ),
                    handling_status_reason: None,
                    submission_error: None,
                }];
            }
        }
        IntentStatus::CommittedSuccess(c) => {
            resp.status = T::CommittedSuccess;
            resp.intent_status = I::CommittedSuccess;
            resp.intent_status_description =
                "The transaction has been committed successfully.".into();
            resp.committed_state_version = Some(c.state_version);
            resp.known_payloads = vec![committed_payload(&c, T::CommittedSuccess)];
        }
        IntentStatus::CommittedFailure {
            commit,
            error_message,
        } => {
            resp.status = T::CommittedFailure;
            resp.intent_status = I::CommittedFailure;
            resp.intent_status_description =
                "The transaction has been committed as a failure: fees were paid, nothing else applied.".into();
            resp.committed_state_version = Some(commit.state_version);
            let mut p = committed_payload(&commit, T::CommittedFailure);
            p.error_message = Some(error_message.clone());
            resp.known_payloads = vec![p];
            resp.error_message = Some(error_message);
        }
        IntentStatus::PermanentlyRejected { reason } => {
            resp.status = T::Rejected;
            resp.intent_status = I::PermanentlyRejected;
            resp.intent_status_description =
                "The transaction has been permanently rejected.".into();
            resp.error_message = Some(reason);
        }
    }
    Ok(Json(resp))
}

fn key_pair(k: &PublicKey) -> (String, String) {
    match k {
        PublicKey::EcdsaSecp256k1 { key_hex } => ("EcdsaSecp256k1".into(), key_hex.clone()),
        PublicKey::EddsaEd25519 { key_hex } => ("EddsaEd25519".into(), key_hex.clone()),
    }
}

/// Default epoch window for a preview that gives none (the real core requires one; a short
/// window from the current epoch is what a client would send).
const DEFAULT_PREVIEW_WINDOW_EPOCHS: u64 = 10;

async fn preview(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::TransactionPreviewResponse>, ApiError> {
    let req: gw::TransactionPreviewRequest = parse(&body)?;
    let epoch = ctx.sim.snapshot().position.epoch;
    let start = req.start_epoch_inclusive.unwrap_or(epoch);
    let flags = req.flags.clone().unwrap_or_default();
    let preq = PreviewRequest {
        manifest: req.manifest.clone(),
        blobs_hex: req.blobs_hex.clone().unwrap_or_default(),
        start_epoch_inclusive: start,
        end_epoch_exclusive: req
            .end_epoch_exclusive
            .unwrap_or(start + DEFAULT_PREVIEW_WINDOW_EPOCHS),
        notary_public_key: req.notary_public_key.as_ref().map(key_pair),
        notary_is_signatory: req.notary_is_signatory.unwrap_or(false),
        tip_percentage: req.tip_percentage.unwrap_or(0),
        nonce: req.nonce.unwrap_or(0),
        signer_public_keys: req
            .signer_public_keys
            .iter()
            .flatten()
            .map(key_pair)
            .collect(),
        use_free_credit: flags.use_free_credit,
        assume_all_signature_proofs: flags.assume_all_signature_proofs,
        skip_epoch_check: flags.skip_epoch_check,
    };
    let sim = ctx.sim.clone();
    let outcome = tokio::task::spawn_blocking(move || sim.preview(&preq))
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| invalid_request("manifest", e.to_string()))?;
    let mut receipt = serde_json::json!({ "status": outcome.status });
    if let Some(m) = &outcome.error_message {
        receipt["error_message"] = serde_json::Value::String(m.clone());
    }
    Ok(Json(gw::TransactionPreviewResponse {
        // The SBOR-encoded receipt is deprecated in the spec and not produced by radix-sim.
        encoded_receipt: String::new(),
        receipt,
        resource_changes: vec![],
        logs: outcome
            .logs
            .into_iter()
            .map(|(level, message)| gw::PreviewLog { level, message })
            .collect(),
    }))
}

async fn committed_details(
    State(ctx): State<Ctx>,
    body: Bytes,
) -> Result<Json<gw::TransactionCommittedDetailsResponse>, ApiError> {
    let req: gw::TransactionCommittedDetailsRequest = parse(&body)?;
    intent_hash_checked(&ctx, &req.intent_hash)?;
    let s = ctx.faults.gateway_snapshot(&ctx.sim);
    let truth = if ctx.faults.gateway_lies_tx() {
        IntentStatus::CommittedSuccess(lying_commit(&ctx, &s, &req.intent_hash))
    } else {
        ctx.sim.intent_status(&req.intent_hash)
    };
    let (c, status, err) = match truth {
        IntentStatus::CommittedSuccess(c) => (c, gw::TransactionStatus::CommittedSuccess, None),
        IntentStatus::CommittedFailure {
            commit,
            error_message,
        } => (
            commit,
            gw::TransactionStatus::CommittedFailure,
            Some(error_message),
        ),
        _ => {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("Transaction {} is not committed", req.intent_hash),
                gw::GatewayError::TransactionNotFoundError {
                    intent_hash: req.intent_hash.clone(),
                },
            ))
        }
    };
    if c.state_version > s.position.state_version {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!(
                "Transaction {} is not committed as of this gateway's ledger state",
                req.intent_hash
            ),
            gw::GatewayError::TransactionNotFoundError {
                intent_hash: req.intent_hash.clone(),
            },
        ));
    }
    let opt = req.opt_ins.unwrap_or_default();
    Ok(Json(gw::TransactionCommittedDetailsResponse {
        ledger_state: ledger_state(&s),
        transaction: gw::CommittedTransactionInfo {
            state_version: c.state_version,
            epoch: c.epoch,
            round: c.round,
            round_timestamp: iso_ms(c.confirmed_at_ms),
            transaction_status: status.clone(),
            payload_hash: Some(c.payload_hash_bech32.clone()),
            intent_hash: Some(c.intent_hash_bech32.clone()),
            fee_paid: Some(c.fee_paid_xrd.clone()),
            affected_global_entities: None,
            confirmed_at: Some(iso_ms(c.confirmed_at_ms)),
            error_message: err.clone(),
            raw_hex: opt.raw_hex.unwrap_or(false).then(|| c.raw_hex.clone()),
            receipt: Some(gw::TransactionReceipt {
                status: Some(status),
                output: None,
                error_message: err,
            }),
            manifest_instructions: opt
                .manifest_instructions
                .unwrap_or(false)
                .then(|| c.manifest.clone()),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: u64, sv: u64, made: u64, missed: u64) -> EmissionRecord {
        EmissionRecord {
            epoch,
            validator_address: "v".into(),
            proposals_made: made,
            proposals_missed: missed,
            state_version: sv,
        }
    }

    #[test]
    fn uptime_counts_follow_gateway_semantics() {
        // Epochs 1..=4 finished; epoch E's record is emitted at state version 10·(E+1).
        let r = vec![
            rec(1, 20, 5, 0),
            rec(2, 30, 4, 1),
            rec(3, 40, 3, 2),
            rec(4, 50, 2, 3),
        ];
        // No range: everything finished.
        assert_eq!(
            uptime_of(&r, "v", None, AtPoint::Latest),
            (Some(14), Some(6), 4)
        );
        // from epoch 2: cumulative(at) − cumulative(epoch 2) = epochs 3 and 4.
        assert_eq!(
            uptime_of(&r, "v", Some(2), AtPoint::Latest),
            (Some(5), Some(5), 2)
        );
        // at the start of epoch 4: epoch 4 is not finished, so only epoch 3 after from=2.
        assert_eq!(
            uptime_of(&r, "v", Some(2), AtPoint::Epoch(4)),
            (Some(3), Some(2), 1)
        );
        // at a state version before epoch 2's record.
        assert_eq!(
            uptime_of(&r, "v", None, AtPoint::StateVersion(29)),
            (Some(5), Some(0), 1)
        );
        // Nothing in range, or an unknown validator: null counts.
        assert_eq!(
            uptime_of(&r, "v", Some(4), AtPoint::Latest),
            (None, None, 0)
        );
        assert_eq!(uptime_of(&r, "w", None, AtPoint::Latest), (None, None, 0));
    }
}
