//! Core API client (a node's `/core`): the real-time proposal statistics of the current epoch,
//! our validator's state, and the LTS submit and status endpoints.

use radix_api::core as c;

use super::http::{endpoint, http_error, Answer};
use super::{unknown, LedgerClient};
use crate::observe::{
    FeeChangeRequest, LedgerReading, ProposalCounts, SourceError, SubmitAnswer, TxStatus,
    ValidatorSettings,
};

/// A Core API error answer as `Http` with the node's message.
pub(super) fn error_of(ans: &Answer) -> SourceError {
    match serde_json::from_slice::<c::ErrorResponse>(&ans.body) {
        Ok(e) => http_error(ans, Some(e.message)),
        Err(_) => http_error(ans, None),
    }
}

fn not_substate(name: &str, what: &str) -> SourceError {
    SourceError::Malformed(format!("{name}: {what} is not the expected substate"))
}

impl LedgerClient {
    async fn core_post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(u16, Result<T, SourceError>), SourceError> {
        let what = format!("{} {path}", self.name);
        let ans = self
            .http
            .post(&endpoint(&self.base, path), body, &what)
            .await?;
        if !ans.is_success() {
            return Ok((ans.status, Err(error_of(&ans))));
        }
        Ok((ans.status, ans.parse(&what)))
    }

    /// Our validator's state substate (key on ledger, registration).
    pub(super) async fn core_validator_state(
        &self,
    ) -> Result<c::ValidatorFieldStateValue, SourceError> {
        let req = c::StateValidatorRequest {
            network: self.network.clone(),
            validator_address: self.validator.clone(),
        };
        let (status, r) = self
            .core_post::<_, c::StateValidatorResponse>("/state/validator", &req)
            .await?;
        let r = match r {
            Ok(r) => r,
            // The node knows no such validator: a config mistake (address or network), not a
            // transport problem.
            Err(SourceError::Http { message, .. }) if status == 404 => {
                return Err(SourceError::Malformed(format!(
                    "{}: validator {} is not on this node's ledger ({message}); check `validator` and `network` in the config",
                    self.name, self.validator
                )))
            }
            Err(e) => return Err(e),
        };
        match r.state {
            c::Substate::ValidatorFieldState(f) => Ok(f.value),
            _ => Err(not_substate(&self.name, "/state/validator `state`")),
        }
    }

    pub(super) async fn core_reading(&self) -> Result<LedgerReading, SourceError> {
        let req = c::StateConsensusManagerRequest {
            network: self.network.clone(),
            include_readiness_signals: None,
        };
        let (cm, validator) = tokio::join!(
            self.core_post::<_, c::StateConsensusManagerResponse>("/state/consensus-manager", &req),
            self.core_validator_state()
        );
        let cm = cm?.1?;
        let validator = validator?;
        let name = &self.name;
        let c::Substate::ConsensusManagerFieldCurrentValidatorSet(set) = &cm.current_validator_set
        else {
            return Err(not_substate(name, "current_validator_set"));
        };
        let c::Substate::ConsensusManagerFieldCurrentProposalStatistic(stats) =
            &cm.current_proposal_statistic
        else {
            return Err(not_substate(name, "current_proposal_statistic"));
        };
        let ours = set
            .value
            .validator_set
            .iter()
            .position(|v| v.address == self.validator);
        let (key_in_force, current_epoch) = match ours {
            None => (None, None),
            Some(i) => {
                let counts = match (stats.value.completed.get(i), stats.value.missed.get(i)) {
                    (Some(&made), Some(&missed)) => ProposalCounts { made, missed },
                    _ => {
                        return Err(SourceError::Malformed(format!(
                            "{name}: current_proposal_statistic has no entry for validator index {i} (the set has {} validators)",
                            set.value.validator_set.len()
                        )))
                    }
                };
                (
                    Some(
                        set.value.validator_set[i]
                            .key
                            .key_hex()
                            .to_ascii_lowercase(),
                    ),
                    Some(counts),
                )
            }
        };
        let others_current_epoch = Some(
            others_counts(&stats.value.completed, &stats.value.missed, ours).ok_or_else(|| {
                SourceError::Malformed(format!(
                    "{name}: current_proposal_statistic: the other validators' completed or missed counts sum past u64::MAX: not a real count"
                ))
            })?,
        );
        let header = &cm.at_ledger_state.header_summary;
        let settings = Some(ValidatorSettings {
            registered: validator.is_registered,
            accepts_delegated_stake: validator.accepts_delegated_stake,
            fee_factor: validator.validator_fee_factor.clone(),
            fee_change: validator
                .validator_fee_change_request
                .as_ref()
                .map(|r| FeeChangeRequest {
                    new_fee_factor: r.new_fee_factor.clone(),
                    epoch_effective: r.epoch_effective,
                }),
            owner_stake_unlocks: crate::tripwire::owner_stake_unlocks(
                &validator.pending_owner_stake_unit_withdrawals,
                &validator.already_unlocked_owner_stake_unit_amount,
            ),
        });
        Ok(LedgerReading {
            epoch: header.epoch_round.epoch,
            round: header.epoch_round.round,
            state_version: cm.at_ledger_state.state_version,
            ledger_time_ms: header.proposer_timestamp.unix_timestamp_ms,
            key_in_force,
            key_on_ledger: Some(validator.public_key.key_hex().to_ascii_lowercase()),
            current_epoch,
            finished: None,
            others_current_epoch,
            settings,
        })
    }

    pub(super) async fn core_submit(
        &self,
        notarized_hex: &str,
    ) -> Result<SubmitAnswer, SourceError> {
        let what = format!("{} /lts/transaction/submit", self.name);
        let req = c::LtsTransactionSubmitRequest {
            network: self.network.clone(),
            notarized_transaction_hex: notarized_hex.to_string(),
            force_recalculate: None,
        };
        let ans = self
            .http
            .post(
                &endpoint(&self.base, "/lts/transaction/submit"),
                &req,
                &what,
            )
            .await?;
        if ans.is_success() {
            let r: c::LtsTransactionSubmitResponse = ans.parse(&what)?;
            return Ok(SubmitAnswer::Accepted {
                duplicate: r.duplicate,
            });
        }
        if let Some(answer) = submit_answer_of_error(&ans) {
            return Ok(answer);
        }
        Err(error_of(&ans))
    }

    pub(super) async fn core_status(&self, intent_hash: &str) -> Result<TxStatus, SourceError> {
        let req = c::LtsTransactionStatusRequest {
            network: self.network.clone(),
            intent_hash: intent_hash.to_string(),
        };
        let r: c::LtsTransactionStatusResponse =
            self.core_post("/lts/transaction/status", &req).await?.1?;
        let status = tx_status_of(&r);
        unknown::note_tx_status(&self.name, &status);
        Ok(status)
    }
}

/// Every other validator's made and missed proposals this epoch, summed; `None` when a sum
/// overflows u64 (the numbers come from an answer: such an answer is malformed, see
/// `LedgerReading::arithmetic_problem`).
fn others_counts(completed: &[u64], missed: &[u64], ours: Option<usize>) -> Option<ProposalCounts> {
    let sum = |v: &[u64]| {
        v.iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != ours)
            .try_fold(0u64, |a, (_, &x)| a.checked_add(x))
    };
    Some(ProposalCounts {
        made: sum(completed)?,
        missed: sum(missed)?,
    })
}

/// A Core API submit error that is an answer about the transaction (rejected, or its intent
/// already committed) rather than a failure of the source.
fn submit_answer_of_error(ans: &Answer) -> Option<SubmitAnswer> {
    let e = serde_json::from_slice::<c::ErrorResponse>(&ans.body).ok()?;
    match e.details? {
        c::LtsTransactionSubmitErrorDetails::Rejected {
            error_message,
            is_payload_rejection_permanent,
            ..
        } => {
            // Our rebuilds of the same inputs give the same payload, so what matters is
            // whether this payload can ever commit.
            Some(SubmitAnswer::Rejected {
                permanent: is_payload_rejection_permanent,
                message: error_message,
            })
        }
        c::LtsTransactionSubmitErrorDetails::IntentAlreadyCommitted { .. } => {
            // The intent hash covers everything we sign, so an intent already committed is
            // OUR intent (possibly from another watcher): the submit has done its job;
            // `status` tells whether it committed as a success or a failure.
            Some(SubmitAnswer::Accepted { duplicate: true })
        }
        c::LtsTransactionSubmitErrorDetails::Other => None,
    }
}

/// A Core API status answer as a [`TxStatus`], with the payload's error message if any.
fn tx_status_of(r: &c::LtsTransactionStatusResponse) -> TxStatus {
    let message = || {
        r.known_payloads
            .iter()
            .find_map(|p| p.error_message.clone())
            .unwrap_or_else(|| r.status_description.clone())
    };
    use c::LtsTransactionIntentStatus as I;
    match &r.intent_status {
        I::CommittedSuccess => TxStatus::CommittedSuccess,
        I::CommittedFailure => TxStatus::CommittedFailure { message: message() },
        I::PermanentRejection => TxStatus::PermanentlyRejected { message: message() },
        I::FateUncertainButLikelyRejection => TxStatus::LikelyRejected { message: message() },
        I::InMempool | I::FateUncertain => TxStatus::Pending,
        I::NotSeen => TxStatus::NotSeen,
        I::Other(raw) => TxStatus::Other {
            raw: unknown::clip(raw),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_core_intent_status_maps_and_keeps_the_payload_message() {
        let status = |intent: &str, payload_error: Option<&str>| {
            let r: c::LtsTransactionStatusResponse = serde_json::from_value(json!({
                "intent_status": intent, "status_description": "described",
                "known_payloads": [{"payload_hash": "00", "payload_hash_bech32m": "p",
                                    "status": "NotInMempool", "error_message": payload_error}]
            }))
            .expect("a spec-shaped answer");
            tx_status_of(&r)
        };
        let m = |s: &str| s.to_string();
        assert_eq!(status("CommittedSuccess", None), TxStatus::CommittedSuccess);
        assert_eq!(
            status("CommittedFailure", Some("engine says no")),
            TxStatus::CommittedFailure {
                message: m("engine says no")
            }
        );
        assert_eq!(
            status("PermanentRejection", None),
            TxStatus::PermanentlyRejected {
                message: m("described")
            }
        );
        assert_eq!(
            status("FateUncertainButLikelyRejection", Some("x")),
            TxStatus::LikelyRejected { message: m("x") }
        );
        assert_eq!(status("InMempool", None), TxStatus::Pending);
        assert_eq!(status("FateUncertain", None), TxStatus::Pending);
        assert_eq!(status("NotSeen", None), TxStatus::NotSeen);
        // A status a newer node may send: kept with its text, neither a commit nor a
        // rejection (it was a malformed answer before).
        assert_eq!(
            status("CommittedAfterAll", Some("x")),
            TxStatus::Other {
                raw: m("CommittedAfterAll")
            }
        );
        // An unknown payload status alone does not make the answer malformed.
        let r: c::LtsTransactionStatusResponse = serde_json::from_value(json!({
            "intent_status": "InMempool", "status_description": "d",
            "known_payloads": [{"payload_hash": "00", "payload_hash_bech32m": "p", "status": "InSomeNewPool"}]
        }))
        .expect("an unknown payload status parses");
        assert_eq!(tx_status_of(&r), TxStatus::Pending);
    }

    #[test]
    fn submit_errors_that_are_answers() {
        let ans = |details: serde_json::Value| {
            Answer {
            status: 400,
            body: json!({"error_type": "LtsTransactionSubmit", "code": 400, "message": "m", "details": details})
                .to_string()
                .into_bytes(),
        }
        };
        let rejected = |payload_permanent: bool| {
            json!({"type": "Rejected", "error_message": "TransactionEpochNotYetValid", "is_fresh": true,
                   "is_payload_rejection_permanent": payload_permanent, "is_intent_rejection_permanent": false})
        };
        assert_eq!(
            submit_answer_of_error(&ans(rejected(false))),
            Some(SubmitAnswer::Rejected {
                permanent: false,
                message: "TransactionEpochNotYetValid".into()
            })
        );
        assert_eq!(
            submit_answer_of_error(&ans(rejected(true))),
            Some(SubmitAnswer::Rejected {
                permanent: true,
                message: "TransactionEpochNotYetValid".into()
            })
        );
        let committed = json!({"type": "IntentAlreadyCommitted", "committed_as": {
            "state_version": 9, "payload_hash": "00", "payload_hash_bech32m": "p", "is_same_transaction": false}});
        assert_eq!(
            submit_answer_of_error(&ans(committed)),
            Some(SubmitAnswer::Accepted { duplicate: true })
        );
        assert_eq!(
            submit_answer_of_error(&ans(json!({"type": "MempoolFull"}))),
            None
        );
        let plain = Answer {
            status: 500,
            body: b"oops".to_vec(),
        };
        assert_eq!(submit_answer_of_error(&plain), None);
        assert_eq!(
            error_of(&plain),
            SourceError::Http {
                status: 500,
                message: "oops".into()
            }
        );
    }
}
