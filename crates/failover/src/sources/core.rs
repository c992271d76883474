//! Core API client (a node's `/core`): the real-time proposal statistics of the current epoch,
//! our validator's state, and the LTS submit and status endpoints.

use radix_api::core as c;

use super::http::{endpoint, http_error, Answer};
use super::LedgerClient;
use crate::observe::{LedgerReading, ProposalCounts, SourceError, SubmitAnswer, TxStatus};

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
        let header = &cm.at_ledger_state.header_summary;
        Ok(LedgerReading {
            epoch: header.epoch_round.epoch,
            round: header.epoch_round.round,
            state_version: cm.at_ledger_state.state_version,
            ledger_time_ms: header.proposer_timestamp.unix_timestamp_ms,
            key_in_force,
            key_on_ledger: Some(validator.public_key.key_hex().to_ascii_lowercase()),
            current_epoch,
            finished: None,
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
        if let Ok(e) = serde_json::from_slice::<c::ErrorResponse>(&ans.body) {
            match e.details {
                Some(c::LtsTransactionSubmitErrorDetails::Rejected {
                    error_message,
                    is_payload_rejection_permanent,
                    ..
                }) => {
                    // Our rebuilds of the same inputs give the same payload, so what matters is
                    // whether this payload can ever commit.
                    return Ok(SubmitAnswer::Rejected {
                        permanent: is_payload_rejection_permanent,
                        message: error_message,
                    });
                }
                Some(c::LtsTransactionSubmitErrorDetails::IntentAlreadyCommitted { .. }) => {
                    // The intent hash covers everything we sign, so an intent already committed
                    // is OUR intent (possibly from another watcher): the submit has done its
                    // job; `status` tells whether it committed as a success or a failure.
                    return Ok(SubmitAnswer::Accepted { duplicate: true });
                }
                _ => {}
            }
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
        let message = || {
            r.known_payloads
                .iter()
                .find_map(|p| p.error_message.clone())
                .unwrap_or_else(|| r.status_description.clone())
        };
        use c::LtsTransactionIntentStatus as I;
        Ok(match r.intent_status {
            I::CommittedSuccess => TxStatus::CommittedSuccess,
            I::CommittedFailure => TxStatus::CommittedFailure { message: message() },
            I::PermanentRejection => TxStatus::PermanentlyRejected { message: message() },
            I::FateUncertainButLikelyRejection => TxStatus::LikelyRejected { message: message() },
            I::InMempool | I::FateUncertain => TxStatus::Pending,
            I::NotSeen => TxStatus::NotSeen,
        })
    }
}
