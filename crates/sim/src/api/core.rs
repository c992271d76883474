//! Core API server of one node (paths under `/core`, as in `core-api-schema.yaml`).
//!
//! A node that is out of sync answers from the snapshot frozen when it fell out of sync.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use radix_api::core as c;
use radix_api::PublicKey;
use radix_common::prelude::{scrypto_encode, NonFungibleLocalId};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::{iso_ms, Ctx};
use crate::ledger::types::{IntentStatus, LedgerSnapshot, SubmitOutcome, ValidatorView};

#[derive(Clone)]
struct NodeCtx {
    ctx: Ctx,
    node: String,
}

pub fn router(ctx: Ctx, node: String) -> Router {
    Router::new()
        .route("/core/status/network-status", post(network_status))
        .route("/core/state/consensus-manager", post(consensus_manager))
        .route("/core/state/validator", post(validator))
        .route("/core/lts/transaction/construction", post(lts_construction))
        .route("/core/lts/transaction/submit", post(lts_submit))
        .route("/core/lts/transaction/status", post(lts_status))
        .fallback(|| async {
            basic(
                StatusCode::NOT_FOUND,
                "No such Core API endpoint on radix-sim",
            )
        })
        .method_not_allowed_fallback(|| async {
            basic(
                StatusCode::METHOD_NOT_ALLOWED,
                "Core API endpoints take POST with a JSON body",
            )
        })
        .with_state(NodeCtx { ctx, node })
}

#[derive(Debug)]
pub struct CoreError(StatusCode, Box<c::ErrorResponse>);

impl IntoResponse for CoreError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

fn basic(status: StatusCode, message: impl Into<String>) -> CoreError {
    CoreError(
        status,
        Box::new(c::ErrorResponse {
            error_type: c::ErrorResponseType::Basic,
            code: i32::from(status.as_u16()),
            message: message.into(),
            trace_id: None,
            details: None,
        }),
    )
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, CoreError> {
    serde_json::from_slice(body).map_err(|e| {
        basic(
            StatusCode::BAD_REQUEST,
            format!("Invalid request body: {e}"),
        )
    })
}

fn check_network(network: &str, s: &LedgerSnapshot) -> Result<(), CoreError> {
    if network == s.position.network_name {
        Ok(())
    } else {
        Err(basic(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid network: this node is on network {:?} (id {}), the request names {network:?}",
                s.position.network_name, s.position.network_id
            ),
        ))
    }
}

pub fn instant(ms: i64) -> c::InstantMs {
    c::InstantMs {
        unix_timestamp_ms: ms.max(0),
        date_time: iso_ms(ms),
    }
}

fn hashes(s: &LedgerSnapshot) -> c::LedgerHashes {
    c::LedgerHashes {
        state_tree_hash: s.position.state_tree_hash_hex.clone(),
        transaction_tree_hash: s.position.transaction_tree_hash_hex.clone(),
        receipt_tree_hash: s.position.receipt_tree_hash_hex.clone(),
    }
}

fn ledger_summary(s: &LedgerSnapshot) -> c::LedgerStateSummary {
    c::LedgerStateSummary {
        state_version: s.position.state_version,
        header_summary: c::LedgerHeaderSummary {
            epoch_round: c::EpochRound {
                epoch: s.position.epoch,
                round: s.position.round,
            },
            ledger_hashes: hashes(s),
            proposer_timestamp: instant(s.position.proposer_round_timestamp_ms),
        },
    }
}

impl NodeCtx {
    fn snapshot(&self) -> std::sync::Arc<LedgerSnapshot> {
        self.ctx.faults.node_snapshot(&self.ctx.sim, &self.node).0
    }
}

async fn network_status(
    State(n): State<NodeCtx>,
    body: Bytes,
) -> Result<Json<c::NetworkStatusResponse>, CoreError> {
    let req: c::NetworkStatusRequest = parse(&body)?;
    let s = n.snapshot();
    check_network(&req.network, &s)?;
    let zero = "0".repeat(64);
    Ok(Json(c::NetworkStatusResponse {
        // The spec's StateVersion has minimum 1, so the pre-genesis identifier (no commit yet)
        // is given as version 1 with zero hashes.
        pre_genesis_state_identifier: c::CommittedStateIdentifier {
            state_version: 1,
            hashes: c::LedgerHashes {
                state_tree_hash: zero.clone(),
                transaction_tree_hash: zero.clone(),
                receipt_tree_hash: zero,
            },
        },
        genesis_epoch_round: None,
        post_genesis_state_identifier: None,
        post_genesis_epoch_round: None,
        current_state_identifier: c::CommittedStateIdentifier {
            state_version: s.position.state_version,
            hashes: hashes(&s),
        },
        current_epoch_round: Some(c::EpochRound {
            epoch: s.position.epoch,
            round: s.position.round,
        }),
        current_protocol_version: s.position.protocol_version.clone(),
    }))
}

fn field<T>(value: T) -> c::FieldSubstate<T> {
    c::FieldSubstate {
        is_locked: false,
        value,
    }
}

async fn consensus_manager(
    State(n): State<NodeCtx>,
    body: Bytes,
) -> Result<Json<c::StateConsensusManagerResponse>, CoreError> {
    let req: c::StateConsensusManagerRequest = parse(&body)?;
    let s = n.snapshot();
    check_network(&req.network, &s)?;
    let mut active: Vec<(usize, &ValidatorView)> = s
        .validators
        .iter()
        .filter_map(|v| v.active.as_ref().map(|a| (a.index, v)))
        .collect();
    active.sort_by_key(|(i, _)| *i);
    let cfg = &s.consensus_config;
    let now = s.position.proposer_round_timestamp_ms;
    const MINUTE_MS: i64 = 60_000;
    // Fault `core_lies`: this node adds misses to our validator's count (only the count).
    let extra_missed = n.ctx.faults.core_extra_missed(&n.node);
    let liar_target = (extra_missed > 0).then(|| n.ctx.sim.info().our_validator);
    Ok(Json(c::StateConsensusManagerResponse {
        at_ledger_state: ledger_summary(&s),
        config: c::Substate::ConsensusManagerFieldConfig(field(
            c::ConsensusManagerFieldConfigValue {
                max_validators: u64::from(cfg.max_validators),
                epoch_change_condition: c::EpochChangeCondition {
                    min_round_count: cfg.min_round_count,
                    max_round_count: cfg.max_round_count,
                    target_duration_millis: cfg.target_duration_millis,
                },
                num_unstake_epochs: cfg.num_unstake_epochs,
                total_emission_xrd_per_epoch: cfg.total_emission_xrd_per_epoch.clone(),
                min_validator_reliability: cfg.min_validator_reliability.clone(),
                num_owner_stake_units_unlock_epochs: cfg.num_owner_stake_units_unlock_epochs,
                num_fee_increase_delay_epochs: cfg.num_fee_increase_delay_epochs,
                validator_creation_usd_equivalent_cost: cfg.validator_creation_usd_cost.clone(),
                // radix-sim has no XRD/USD price feed: the USD figure is shown for both.
                validator_creation_xrd_cost: cfg.validator_creation_usd_cost.clone(),
            },
        )),
        state: c::Substate::ConsensusManagerFieldState(field(c::ConsensusManagerFieldStateValue {
            epoch: s.position.epoch,
            round: s.position.round,
            is_started: true,
            effective_epoch_start: instant(s.position.epoch_start_ms),
            actual_epoch_start: instant(s.position.epoch_start_ms),
            current_leader: s
                .position
                .current_leader_index
                .and_then(|i| u8::try_from(i).ok())
                .map(|index| c::ActiveValidatorIndex { index }),
        })),
        current_proposal_statistic: c::Substate::ConsensusManagerFieldCurrentProposalStatistic(
            field(c::ConsensusManagerFieldCurrentProposalStatisticValue {
                completed: active
                    .iter()
                    .map(|(_, v)| v.active.as_ref().map_or(0, |a| a.proposals_made))
                    .collect(),
                missed: active
                    .iter()
                    .map(|(_, v)| {
                        let missed = v.active.as_ref().map_or(0, |a| a.proposals_missed);
                        if liar_target.as_deref() == Some(v.address.as_str()) {
                            missed.saturating_add(extra_missed)
                        } else {
                            missed
                        }
                    })
                    .collect(),
            }),
        ),
        current_validator_set: c::Substate::ConsensusManagerFieldCurrentValidatorSet(field(
            c::ConsensusManagerFieldCurrentValidatorSetValue {
                validator_set: active
                    .iter()
                    .filter_map(|(_, v)| {
                        let a = v.active.as_ref()?;
                        Some(c::ActiveValidator {
                            address: v.address.clone(),
                            key: PublicKey::EcdsaSecp256k1 {
                                key_hex: a.key_hex.clone(),
                            },
                            stake: a.stake_xrd.clone(),
                        })
                    })
                    .collect(),
            },
        )),
        current_time: c::Substate::ConsensusManagerFieldCurrentTime(field(
            c::ConsensusManagerFieldCurrentTimeValue {
                proposer_timestamp: instant(now),
            },
        )),
        current_time_rounded_to_minutes:
            c::Substate::ConsensusManagerFieldCurrentTimeRoundedToMinutes(field(
                c::ConsensusManagerFieldCurrentTimeRoundedToMinutesValue {
                    proposer_timestamp_rounded_down_to_minute: instant(
                        now - now.rem_euclid(MINUTE_MS),
                    ),
                },
            )),
    }))
}

fn vault_ref(address: &str, entity_type: &str) -> c::EntityReference {
    c::EntityReference {
        entity_type: entity_type.into(),
        is_global: false,
        entity_address: address.into(),
    }
}

/// The validator's state substate value, as the Core API (and the gateway's `state`) shows it.
pub fn validator_state_value(v: &ValidatorView) -> c::ValidatorFieldStateValue {
    c::ValidatorFieldStateValue {
        public_key: PublicKey::EcdsaSecp256k1 {
            key_hex: v.ledger_key_hex.clone(),
        },
        is_registered: v.is_registered,
        accepts_delegated_stake: v.accepts_delegated_stake,
        validator_fee_factor: v.validator_fee_factor.clone(),
        validator_fee_change_request: v.validator_fee_change_request.as_ref().map(|r| {
            c::ValidatorFeeChangeRequest {
                epoch_effective: r.epoch_effective,
                new_fee_factor: r.new_fee_factor.clone(),
            }
        }),
        stake_unit_resource_address: v.stake_unit_resource.clone(),
        stake_xrd_vault: vault_ref(&v.stake_xrd_vault_address, "InternalFungibleVault"),
        claim_token_resource_address: v.claim_token_resource.clone(),
        pending_xrd_withdraw_vault: vault_ref(
            &v.pending_xrd_withdraw_vault_address,
            "InternalFungibleVault",
        ),
        locked_owner_stake_unit_vault: vault_ref(
            &v.locked_owner_stake_unit_vault_address,
            "InternalFungibleVault",
        ),
        pending_owner_stake_unit_unlock_vault: vault_ref(
            &v.pending_owner_stake_unit_unlock_vault_address,
            "InternalFungibleVault",
        ),
        pending_owner_stake_unit_withdrawals: v
            .pending_owner_stake_unit_withdrawals
            .iter()
            .map(|(epoch, amount)| json!({ "epoch_unlocked": epoch, "stake_unit_amount": amount }))
            .collect(),
        already_unlocked_owner_stake_unit_amount: v
            .already_unlocked_owner_stake_unit_amount
            .clone(),
    }
}

/// The owner rule of a validator: a proof of its owner badge (`AccessRule` JSON).
pub fn owner_badge_rule(badge_resource: &str, local_id: &str) -> Value {
    let sbor_hex = local_id
        .parse::<NonFungibleLocalId>()
        .ok()
        .and_then(|id| scrypto_encode(&id).ok())
        .map(hex::encode)
        .unwrap_or_default();
    json!({
        "type": "Protected",
        "access_rule": {
            "type": "ProofRule",
            "proof_rule": {
                "type": "Require",
                "requirement": {
                    "type": "NonFungible",
                    "non_fungible": {
                        "resource_address": badge_resource,
                        "local_id": { "simple_rep": local_id, "id_type": "Bytes", "sbor_hex": sbor_hex }
                    }
                }
            }
        }
    })
}

async fn validator(
    State(n): State<NodeCtx>,
    body: Bytes,
) -> Result<Json<c::StateValidatorResponse>, CoreError> {
    let req: c::StateValidatorRequest = parse(&body)?;
    let s = n.snapshot();
    check_network(&req.network, &s)?;
    let v = s
        .validators
        .iter()
        .find(|v| v.address == req.validator_address)
        .ok_or_else(|| {
            basic(
                StatusCode::NOT_FOUND,
                format!(
                    "Validator {} not found on network {}",
                    req.validator_address, s.position.network_name
                ),
            )
        })?;
    Ok(Json(c::StateValidatorResponse {
        at_ledger_state: ledger_summary(&s),
        address: v.address.clone(),
        state: c::Substate::ValidatorFieldState(field(validator_state_value(v))),
        protocol_update_readiness_signal: c::Substate::ValidatorFieldProtocolUpdateReadinessSignal(
            field(c::ValidatorFieldProtocolUpdateReadinessSignalValue {
                protocol_version_name: None,
            }),
        ),
        owner_role: c::Substate::RoleAssignmentModuleFieldOwnerRole(field(
            c::RoleAssignmentModuleFieldOwnerRoleValue {
                owner_role: c::OwnerRole {
                    rule: owner_badge_rule(&s.owner_badge_resource, &v.owner_badge_local_id),
                    updater: "None".into(),
                },
            },
        )),
        vaults: vec![c::VaultBalance {
            vault_entity: vault_ref(&v.stake_xrd_vault_address, "InternalFungibleVault"),
            resource_amount: c::ResourceAmount::Fungible {
                resource_address: s.xrd_resource.clone(),
                amount: v.stake_xrd.clone(),
            },
        }],
        descendent_nodes: vec![],
    }))
}

async fn lts_construction(
    State(n): State<NodeCtx>,
    body: Bytes,
) -> Result<Json<c::LtsTransactionConstructionResponse>, CoreError> {
    let req: c::LtsTransactionConstructionRequest = parse(&body)?;
    let s = n.snapshot();
    check_network(&req.network, &s)?;
    Ok(Json(c::LtsTransactionConstructionResponse {
        current_epoch: s.position.epoch,
        ledger_clock: instant(s.position.proposer_round_timestamp_ms),
    }))
}

fn submit_error(
    status: StatusCode,
    message: String,
    details: Option<c::LtsTransactionSubmitErrorDetails>,
) -> CoreError {
    CoreError(
        status,
        Box::new(c::ErrorResponse {
            error_type: c::ErrorResponseType::LtsTransactionSubmit,
            code: i32::from(status.as_u16()),
            message,
            trace_id: None,
            details,
        }),
    )
}

/// Hex of the 32-byte hash inside a bech32m transaction hash (`txid_…`/`notarizedtransaction_…`).
fn hash_hex_of_bech32(s: &str) -> String {
    use radix_transactions::prelude::*;
    let network = radix_common::network::NetworkDefinition::simulator();
    let dec = TransactionHashBech32Decoder::new(&network);
    dec.validate_and_decode::<NotarizedTransactionHash>(s)
        .map(|h| hex::encode(h.0 .0))
        .unwrap_or_else(|_| "0".repeat(64))
}

async fn lts_submit(
    State(n): State<NodeCtx>,
    body: Bytes,
) -> Result<Json<c::LtsTransactionSubmitResponse>, CoreError> {
    let req: c::LtsTransactionSubmitRequest = parse(&body)?;
    let s = n.snapshot();
    check_network(&req.network, &s)?;
    let payload = hex::decode(req.notarized_transaction_hex.trim()).map_err(|e| {
        basic(
            StatusCode::BAD_REQUEST,
            format!("notarized_transaction_hex is not valid hex ({e}); send the notarized transaction bytes hex-encoded"),
        )
    })?;
    if n.ctx.faults.take_submit_failure() {
        return Err(submit_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Injected fault submit_failing: this submit was dropped".into(),
            None,
        ));
    }
    let sim = n.ctx.sim.clone();
    let (outcome, payload) = tokio::task::spawn_blocking(move || (sim.submit(&payload), payload))
        .await
        .map_err(|e| basic(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match outcome {
        SubmitOutcome::Accepted {
            duplicate,
            intent_hash_bech32,
        } => {
            n.ctx.remember_payload(&intent_hash_bech32, &payload);
            Ok(Json(c::LtsTransactionSubmitResponse { duplicate }))
        }
        SubmitOutcome::Rejected {
            intent_hash_bech32,
            reason,
            permanent,
        } => {
            let committed = intent_hash_bech32
                .as_deref()
                .map(|h| n.ctx.sim.intent_status(h));
            let details = match committed {
                Some(IntentStatus::CommittedSuccess(ci))
                | Some(IntentStatus::CommittedFailure { commit: ci, .. }) => {
                    c::LtsTransactionSubmitErrorDetails::IntentAlreadyCommitted {
                        committed_as: c::CommittedIntentMetadata {
                            state_version: ci.state_version,
                            payload_hash: hash_hex_of_bech32(&ci.payload_hash_bech32),
                            payload_hash_bech32m: ci.payload_hash_bech32.clone(),
                            is_same_transaction: ci.raw_hex == req.notarized_transaction_hex.trim(),
                        },
                    }
                }
                _ => c::LtsTransactionSubmitErrorDetails::Rejected {
                    error_message: reason.clone(),
                    is_fresh: true,
                    is_payload_rejection_permanent: permanent,
                    is_intent_rejection_permanent: permanent,
                    retry_from_timestamp: None,
                    retry_from_epoch: None,
                    invalid_from_epoch: None,
                },
            };
            Err(submit_error(
                StatusCode::BAD_REQUEST,
                format!("Transaction rejected: {reason}"),
                Some(details),
            ))
        }
    }
}

async fn lts_status(
    State(n): State<NodeCtx>,
    body: Bytes,
) -> Result<Json<c::LtsTransactionStatusResponse>, CoreError> {
    let req: c::LtsTransactionStatusRequest = parse(&body)?;
    let s = n.snapshot();
    check_network(&req.network, &s)?;
    if !n.ctx.sim.is_valid_intent_hash(&req.intent_hash) {
        return Err(basic(
            StatusCode::BAD_REQUEST,
            format!(
                "{:?} is not a transaction intent hash of this network (txid_sim1…)",
                req.intent_hash
            ),
        ));
    }
    use c::{LtsTransactionIntentStatus as I, LtsTransactionPayloadStatus as P};
    let payload = |ci: &crate::ledger::types::CommitInfo, status: P, err: Option<String>| {
        c::LtsTransactionPayloadDetails {
            payload_hash: hash_hex_of_bech32(&ci.payload_hash_bech32),
            payload_hash_bech32m: ci.payload_hash_bech32.clone(),
            state_version: Some(ci.state_version),
            status,
            error_message: err,
        }
    };
    let st = n.ctx.sim.intent_status(&req.intent_hash);
    // An out-of-sync node does not know commits beyond its frozen state.
    let st = match st {
        IntentStatus::CommittedSuccess(ci) | IntentStatus::CommittedFailure { commit: ci, .. }
            if ci.state_version > s.position.state_version =>
        {
            IntentStatus::Unknown
        }
        other => other,
    };
    Ok(Json(match st {
        IntentStatus::Unknown => c::LtsTransactionStatusResponse {
            intent_status: I::NotSeen,
            status_description: "The node has not seen this intent.".into(),
            committed_state_version: None,
            invalid_from_epoch: None,
            known_payloads: vec![],
        },
        IntentStatus::Pending { .. } => c::LtsTransactionStatusResponse {
            intent_status: I::InMempool,
            status_description: "The intent is in the mempool.".into(),
            committed_state_version: None,
            invalid_from_epoch: None,
            known_payloads: n
                .ctx
                .payload_of(&req.intent_hash)
                .map(|bech32| c::LtsTransactionPayloadDetails {
                    payload_hash: hash_hex_of_bech32(&bech32),
                    payload_hash_bech32m: bech32,
                    state_version: None,
                    status: P::InMempool,
                    error_message: None,
                })
                .into_iter()
                .collect(),
        },
        IntentStatus::CommittedSuccess(ci) => c::LtsTransactionStatusResponse {
            intent_status: I::CommittedSuccess,
            status_description: "The intent was committed successfully.".into(),
            committed_state_version: Some(ci.state_version),
            invalid_from_epoch: None,
            known_payloads: vec![payload(&ci, P::CommittedSuccess, None)],
        },
        IntentStatus::CommittedFailure {
            commit,
            error_message,
        } => c::LtsTransactionStatusResponse {
            intent_status: I::CommittedFailure,
            status_description: format!("The intent was committed as a failure: {error_message}"),
            committed_state_version: Some(commit.state_version),
            invalid_from_epoch: None,
            known_payloads: vec![payload(&commit, P::CommittedFailure, Some(error_message))],
        },
        IntentStatus::PermanentlyRejected { reason } => c::LtsTransactionStatusResponse {
            intent_status: I::PermanentRejection,
            status_description: format!("The intent was permanently rejected: {reason}"),
            committed_state_version: None,
            invalid_from_epoch: None,
            known_payloads: vec![],
        },
    }))
}
