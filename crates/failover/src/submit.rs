//! Follow a key-rotation transaction to a commit: submit to every endpoint, follow its status,
//! rebuild with a fresh epoch window when it can never commit, stop on CommittedFailure or at
//! a deadline.
//!
//! Two halves: [`next`] is a pure step function (the in-flight record and the facts of this
//! tick in, a decision out; no I/O, no clock), tested for every status combination; [`tick`] is
//! the thin async driver that asks every endpoint for the status, calls [`next`] and does what
//! it says, reporting everything it did in a [`TickOutcome`].
//!
//! # At most one `update_key` commits
//! A new intent (a different transaction) is built ONLY when the current one can never commit:
//! - its epoch window has ended: `current_epoch >= end_epoch` (the engine rejects an intent
//!   outside its window, in a mempool or not) and at least one source answers its status (with
//!   none answering it might have committed unseen; nothing could be sent anyway), or
//! - every source that answered says `PermanentlyRejected` (and at least one answered); this
//!   rebuild waits for the backoff, and in the same epoch it gives the same intent again.
//!
//! A source that errors, says `NotSeen`, `Pending`, `LikelyRejected` or a status this version
//! does not know (`Other`) never leads to a rebuild: the intent is kept, re-sent every
//! `resubmit_every`, and followed. While its window is open, nothing else is built. Every intent is persisted (the `persist` callback, i.e. the
//! state file) before its first submit, so a restart resumes the same intent instead of
//! building a second one; and `tx::build_update_key` is deterministic, so a rebuild in the same
//! epoch (on this host after a lost write, or on another watcher's host) gives the same bytes
//! and the same intent, which the ledger commits at most once.
//!
//! Several watchers on different hosts: before any (new) intent is submitted the caller reads
//! the key on ledger and passes `key_on_ledger_is_target`; when it is already the target key,
//! [`next`] says [`Next::AlreadyDone`] and nothing is submitted.
//!
//! Caveats, stated so the caller can act on them:
//! - The window check trusts `current_epoch`; the caller must pass the epoch of sources it
//!   trusts (a source reporting a future epoch could cause an early rebuild).
//! - A single lying source that is the only one answering could report `PermanentlyRejected`
//!   and cause a rebuild while the first intent is still valid; both set the same key, so the
//!   worst case is a second, harmless key update (and a fee), never a wrong key.
//! - [`Next::GaveUp`] at the deadline stops submitting, but an intent whose window is still
//!   open may still commit; the reason says until which epoch. The caller keeps watching the key.
//! - A failed `persist` (disk full) does not stop the submit: completing the failover matters
//!   more. The outcome carries the error so the runner alerts. The cost: if the daemon also
//!   dies before a write succeeds, it resumes the older intent from the file; should that one
//!   have expired, its rebuild in a later epoch differs from the unrecorded one, and both could
//!   commit. Both set the same key, so again the worst case is a harmless second key update.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tracing::{info, warn};

use crate::observe::{SourceError, SubmitAnswer, TxEndpoint, TxStatus};
use crate::state::{InFlight, StateError};
use crate::tx::BuiltTransaction;

/// Timing of the submit loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitParams {
    /// Give up this long after the decision (`[daemon] submit_deadline`).
    pub deadline: Duration,
    /// Wait after a submit that no endpoint accepted, and the first step of the backoff
    /// between rebuilds after rejections.
    pub backoff_initial: Duration,
    /// Cap of the backoff.
    pub backoff_max: Duration,
    /// Re-send a submitted intent this often while it is not committed: a mempool may drop it.
    pub resubmit_every: Duration,
}

/// Default first backoff: a transient refusal (a node a few rounds behind, a 5xx from a load
/// balancer) usually clears within seconds, and during an outage every round costs proposals.
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_secs(2);
/// Default backoff cap: keeps retries several per mainnet epoch (5 min), so a retry that
/// works still lands in the same epoch.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Default re-send interval: a few mainnet rounds; mempools relay and keep transactions, so
/// more often only adds load, and much less often could lose most of an epoch to a dropped one.
pub const DEFAULT_RESUBMIT_EVERY: Duration = Duration::from_secs(10);

impl SubmitParams {
    /// The given deadline, other fields at their defaults.
    pub fn for_deadline(deadline: Duration) -> SubmitParams {
        SubmitParams {
            deadline,
            backoff_initial: DEFAULT_BACKOFF_INITIAL,
            backoff_max: DEFAULT_BACKOFF_MAX,
            resubmit_every: DEFAULT_RESUBMIT_EVERY,
        }
    }

    /// Scaled to the poll interval, for networks whose epochs are shorter than mainnet's (the
    /// simulator): the defaults are for a 5 s poll; a faster poll scales every wait down by the
    /// same factor (a tick runs once per poll, so waits shorter than that mean "every tick").
    /// Never longer than the defaults.
    pub fn scaled(deadline: Duration, poll_interval: Duration) -> SubmitParams {
        /// The poll interval the defaults are made for (the config's default).
        const REFERENCE_POLL: Duration = Duration::from_secs(5);
        let scale = |d: Duration| {
            if poll_interval >= REFERENCE_POLL {
                d
            } else {
                d.mul_f64(poll_interval.as_secs_f64() / REFERENCE_POLL.as_secs_f64())
            }
        };
        SubmitParams {
            deadline,
            backoff_initial: scale(DEFAULT_BACKOFF_INITIAL),
            backoff_max: scale(DEFAULT_BACKOFF_MAX),
            resubmit_every: scale(DEFAULT_RESUBMIT_EVERY),
        }
    }

    /// Longest wait this schedule ever sets; a `next_try_at_ms` further ahead than this comes
    /// from a wall clock that jumped back (or a hand-edited file) and is treated as due.
    fn longest_wait(&self) -> Duration {
        self.resubmit_every.max(self.backoff_max)
    }

    /// Backoff after `attempt` (1-based) was rejected: initial × 2^(attempt-1), capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(20);
        self.backoff_initial
            .checked_mul(1u32 << shift)
            .unwrap_or(self.backoff_max)
            .min(self.backoff_max)
    }
}

/// What the caller knows at this tick, besides the in-flight record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub now_ms: i64,
    /// The ledger's current epoch per the sources the caller trusts.
    pub current_epoch: u64,
    /// The key on ledger is already the key this transaction sets.
    pub key_on_ledger_is_target: bool,
    /// Status of the current intent per endpoint.
    pub statuses: Vec<(String, Result<TxStatus, SourceError>)>,
}

/// What to do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send the current intent to every endpoint.
    Submit,
    /// Nothing to do until the next tick.
    Wait,
    /// The current intent can never commit: build a new one from `start_epoch`.
    Rebuild { start_epoch: u64, reason: String },
    /// CommittedSuccess: the key is rotated.
    Committed { intent_hash: String },
    /// The key on ledger is already the target (another watcher or an operator did it).
    AlreadyDone,
    /// CommittedFailure: the engine's message. Stop; the operator must act.
    Failed { message: String },
    /// The deadline passed.
    GaveUp { reason: String },
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The pure decision. Order matters: a commit seen anywhere wins over everything; then the
/// ledger key (never submit what is already done); then the deadline; then the rules for a
/// rebuild (see the module doc); else submit when due, or wait.
pub fn next(inflight: &InFlight, facts: &Facts, params: &SubmitParams) -> Next {
    let answers: Vec<&TxStatus> = facts
        .statuses
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .collect();
    if commit_believed(facts) {
        return Next::Committed {
            intent_hash: inflight.intent_hash.clone(),
        };
    }
    if let Some(message) = failure_believed(facts) {
        return Next::Failed { message };
    }
    if facts.key_on_ledger_is_target {
        return Next::AlreadyDone;
    }
    let deadline_at = inflight.decided_at_ms.saturating_add(ms(params.deadline));
    if facts.now_ms >= deadline_at {
        let tail = if facts.current_epoch < inflight.end_epoch {
            format!(
                "; intent {} may still commit until epoch {} (its window ends there): check its status and the key on ledger before acting by hand",
                inflight.intent_hash, inflight.end_epoch
            )
        } else {
            format!("; intent {} can no longer commit", inflight.intent_hash)
        };
        return Next::GaveUp {
            reason: format!(
                "no commit within the submit deadline of {} (attempt {}, decided at {} ms){tail}",
                humantime::format_duration(params.deadline),
                inflight.attempt,
                inflight.decided_at_ms
            ),
        };
    }
    if facts.current_epoch >= inflight.end_epoch {
        if answers.is_empty() {
            // No source answers: it may have committed just before its window ended without
            // us seeing it (and then the key reading is stale too). A new intent could not be
            // sent anywhere now anyway; wait until a source answers.
            return Next::Wait;
        }
        // Can never commit: the engine refuses an intent past its window. A fresh one is
        // built at once, without backoff: an epoch has just been lost.
        return Next::Rebuild {
            start_epoch: facts.current_epoch,
            reason: format!(
                "its window ended (epoch {} >= end {})",
                facts.current_epoch, inflight.end_epoch
            ),
        };
    }
    let all_rejected = !answers.is_empty()
        && answers
            .iter()
            .all(|s| matches!(s, TxStatus::PermanentlyRejected { .. }));
    let wait_ms = inflight.next_try_at_ms.saturating_sub(facts.now_ms);
    if wait_ms > 0 && wait_ms <= ms(params.longest_wait()) {
        return Next::Wait;
    }
    if all_rejected {
        let why = answers
            .iter()
            .find_map(|s| match s {
                TxStatus::PermanentlyRejected { message } => Some(message.as_str()),
                _ => None,
            })
            .unwrap_or_default();
        return Next::Rebuild {
            start_epoch: facts.current_epoch,
            reason: format!(
                "every answering source says PermanentlyRejected ({} of {}): {why}",
                answers.len(),
                facts.statuses.len()
            ),
        };
    }
    Next::Submit
}

/// How many of the answering endpoints say this; and how many answered.
fn claims(facts: &Facts, pred: impl Fn(&TxStatus) -> bool) -> (usize, usize) {
    let answers = facts.statuses.iter().filter_map(|(_, r)| r.as_ref().ok());
    let answering = answers.clone().count();
    (answers.filter(|s| pred(s)).count(), answering)
}

/// A commit is believed only when the ledger shows it: a strict majority of the endpoints
/// answering the status say CommittedSuccess, or the trusted key vote shows the target key on
/// ledger and at least one says so. One endpoint alone (a lying or broken Gateway) cannot end
/// a failover that never happened.
pub fn commit_believed(facts: &Facts) -> bool {
    let (success, answering) = claims(facts, |s| matches!(s, TxStatus::CommittedSuccess));
    success * 2 > answering || (success > 0 && facts.key_on_ledger_is_target)
}

/// CommittedFailure halts the daemon only when a strict majority of the answering endpoints
/// say so (and no commit is believed): one endpoint cannot stop a failover. The engine's
/// message of the first.
pub fn failure_believed(facts: &Facts) -> Option<String> {
    let (failure, answering) = claims(facts, |s| matches!(s, TxStatus::CommittedFailure { .. }));
    if failure * 2 <= answering {
        return None;
    }
    facts.statuses.iter().find_map(|(_, r)| match r {
        Ok(TxStatus::CommittedFailure { message }) => Some(message.clone()),
        _ => None,
    })
}

/// Endpoints that claim a commit (success or failure) the others and the ledger do not show:
/// contradicted, to be alerted.
pub fn contradicted_claims(facts: &Facts) -> Vec<String> {
    if commit_believed(facts) || failure_believed(facts).is_some() {
        return Vec::new();
    }
    facts
        .statuses
        .iter()
        .filter(|(_, r)| {
            matches!(
                r,
                Ok(TxStatus::CommittedSuccess | TxStatus::CommittedFailure { .. })
            )
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// A fresh in-flight record for a just-built transaction (attempt 1, due at once).
pub fn new_inflight(tx: &BuiltTransaction, reason: &str, now_ms: i64) -> InFlight {
    InFlight {
        intent_hash: tx.intent_hash_bech32.clone(),
        notarized_hex: tx.notarized_hex(),
        new_key_hex: tx.new_key_hex(),
        start_epoch: tx.start_epoch_inclusive(),
        end_epoch: tx.end_epoch_exclusive(),
        attempt: 1,
        decided_at_ms: now_ms,
        reason: reason.to_string(),
        submitted: false,
        previous_intents: Vec::new(),
        next_try_at_ms: now_ms,
        last_status: BTreeMap::new(),
    }
}

/// The record after a rebuild: the new transaction, due at once. A rebuild in the same epoch
/// gives the same intent (deterministic build); it is then kept, not listed as previous.
pub fn rebuilt_inflight(old: &InFlight, tx: &BuiltTransaction, now_ms: i64) -> InFlight {
    let mut previous_intents = old.previous_intents.clone();
    let same = tx.intent_hash_bech32 == old.intent_hash;
    if !same {
        previous_intents.push(old.intent_hash.clone());
    }
    InFlight {
        intent_hash: tx.intent_hash_bech32.clone(),
        notarized_hex: tx.notarized_hex(),
        new_key_hex: tx.new_key_hex(),
        start_epoch: tx.start_epoch_inclusive(),
        end_epoch: tx.end_epoch_exclusive(),
        attempt: old.attempt.saturating_add(1),
        decided_at_ms: old.decided_at_ms,
        reason: old.reason.clone(),
        submitted: same && old.submitted,
        previous_intents,
        next_try_at_ms: now_ms,
        last_status: if same {
            old.last_status.clone()
        } else {
            BTreeMap::new()
        },
    }
}

/// When to act on the intent again after a submit round: re-send after `resubmit_every` if an
/// endpoint took it; else retry after the backoff for this attempt (a round nobody took is
/// either transient, retried soon, or a rejection, retried with growing delays).
pub fn after_submit(
    inflight: &InFlight,
    answers: &[(String, Result<SubmitAnswer, SourceError>)],
    now_ms: i64,
    params: &SubmitParams,
) -> i64 {
    let accepted = answers
        .iter()
        .any(|(_, a)| matches!(a, Ok(SubmitAnswer::Accepted { .. })));
    let wait = if accepted {
        params.resubmit_every
    } else {
        params.backoff(inflight.attempt)
    };
    now_ms.saturating_add(ms(wait))
}

/// A rebuild this tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// What a tick did while the transaction is still being followed.
#[derive(Debug, Default)]
pub struct Progress {
    /// Status per endpoint, as asked at the start of the tick.
    pub statuses: Vec<(String, Result<TxStatus, SourceError>)>,
    /// Submit answers per endpoint, when this tick submitted.
    pub submits: Vec<(String, Result<SubmitAnswer, SourceError>)>,
    pub rebuilt: Option<Rebuilt>,
    /// The rebuild failed (the old intent is kept; retried next tick).
    pub rebuild_error: Option<String>,
    /// State writes that failed (the tick carried on; alert the operator).
    pub persist_errors: Vec<StateError>,
    /// Endpoints that claim a commit nobody else and no ledger shows (contradicted).
    pub contradicted: Vec<String>,
}

/// What one tick came to.
#[derive(Debug)]
pub enum TickOutcome {
    /// CommittedSuccess of the current intent.
    Committed { intent_hash: String },
    /// The key on ledger is already the target; nothing was submitted this tick.
    AlreadyDone,
    /// CommittedFailure: the engine's message.
    Failed { message: String },
    /// The deadline passed (see [`Next::GaveUp`]).
    GaveUp { reason: String },
    /// Still following (submitted, waited or rebuilt).
    Following(Progress),
}

/// Polls every future at once and returns their outputs in order. (Endpoints are asked in
/// parallel so that one that hangs until its timeout does not delay the others.)
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

fn status_text(r: &Result<TxStatus, SourceError>) -> String {
    match r {
        Ok(TxStatus::CommittedSuccess) => "committed_success".into(),
        Ok(TxStatus::CommittedFailure { message }) => format!("committed_failure: {message}"),
        Ok(TxStatus::PermanentlyRejected { message }) => format!("permanently_rejected: {message}"),
        Ok(TxStatus::LikelyRejected { message }) => format!("likely_rejected: {message}"),
        Ok(TxStatus::Pending) => "pending".into(),
        Ok(TxStatus::NotSeen) => "not_seen".into(),
        Ok(TxStatus::Other { raw }) => format!("unknown_status: {raw}"),
        Err(e) => format!("error: {e}"),
    }
}

async fn statuses<E: TxEndpoint>(
    endpoints: &[&E],
    intent: &str,
) -> Vec<(String, Result<TxStatus, SourceError>)> {
    let answers = join_all(endpoints.iter().map(|e| e.status(intent)).collect()).await;
    endpoints
        .iter()
        .map(|e| e.name().to_string())
        .zip(answers)
        .collect()
}

async fn submit_all<E: TxEndpoint>(
    endpoints: &[&E],
    inflight: &InFlight,
) -> Vec<(String, Result<SubmitAnswer, SourceError>)> {
    let answers = join_all(
        endpoints
            .iter()
            .map(|e| e.submit(&inflight.notarized_hex))
            .collect(),
    )
    .await;
    let out: Vec<_> = endpoints
        .iter()
        .map(|e| e.name().to_string())
        .zip(answers)
        .collect();
    for (name, answer) in &out {
        match answer {
            Ok(SubmitAnswer::Accepted { duplicate }) => info!(
                intent = %inflight.intent_hash,
                source = %name,
                "submit accepted{}",
                if *duplicate { " (already known)" } else { "" }
            ),
            Ok(SubmitAnswer::Rejected { permanent, message }) => warn!(
                intent = %inflight.intent_hash,
                source = %name,
                "submit rejected ({}): {message}",
                if *permanent { "permanently" } else { "for now" }
            ),
            Err(e) => warn!(intent = %inflight.intent_hash, source = %name, "submit failed: {e}"),
        }
    }
    out
}

/// Marks the intent submitted and persists it BEFORE the first send of this intent, then
/// sends it to every endpoint and schedules the next try.
async fn submit_round<E: TxEndpoint>(
    endpoints: &[&E],
    inflight: &mut InFlight,
    now_ms: i64,
    params: &SubmitParams,
    persist: &mut dyn FnMut(&InFlight) -> Result<(), StateError>,
    progress: &mut Progress,
) {
    if !inflight.submitted {
        inflight.submitted = true;
        if let Err(e) = persist(inflight) {
            warn!(intent = %inflight.intent_hash, "could not write the state file before the submit (submitting anyway): {e}");
            progress.persist_errors.push(e);
        }
    }
    let answers = submit_all(endpoints, inflight).await;
    inflight.next_try_at_ms = after_submit(inflight, &answers, now_ms, params);
    progress.submits = answers;
}

/// One tick: asks every endpoint for the status, decides with [`next`] and does it (submit to
/// all, or rebuild via `rebuild` and submit the new intent), updating `inflight`.
///
/// `persist` is called before any send of an intent not sent before (new or rebuilt), and once
/// more at the end when the record changed; its errors are reported, not fatal. `rebuild`
/// builds the transaction for a start epoch (with the caller's key and config). `endpoints`
/// must time out on their own (each client has the configured request timeout). The caller
/// persists terminal outcomes itself (it changes the phase).
#[allow(clippy::too_many_arguments)]
pub async fn tick<E: TxEndpoint, RE: Display>(
    endpoints: &[&E],
    inflight: &mut InFlight,
    current_epoch: u64,
    key_on_ledger_is_target: bool,
    now_ms: i64,
    params: &SubmitParams,
    rebuild: &dyn Fn(u64) -> Result<BuiltTransaction, RE>,
    persist: &mut dyn FnMut(&InFlight) -> Result<(), StateError>,
) -> TickOutcome {
    let before = inflight.clone();
    let statuses = statuses(endpoints, &inflight.intent_hash).await;
    for (name, status) in &statuses {
        let text = status_text(status);
        if inflight.last_status.get(name) != Some(&text) {
            info!(intent = %inflight.intent_hash, source = %name, "status: {text}");
            inflight.last_status.insert(name.clone(), text);
        }
    }
    let facts = Facts {
        now_ms,
        current_epoch,
        key_on_ledger_is_target,
        statuses,
    };
    let decision = next(inflight, &facts, params);
    let contradicted = contradicted_claims(&facts);
    for name in &contradicted {
        warn!(intent = %inflight.intent_hash, source = %name, "CONTRADICTED: {name} says the intent committed, but the other endpoints and the ledger do not show it; it is not believed");
    }
    let mut progress = Progress {
        statuses: facts.statuses,
        contradicted,
        ..Progress::default()
    };
    match decision {
        Next::Committed { intent_hash } => return TickOutcome::Committed { intent_hash },
        Next::AlreadyDone => return TickOutcome::AlreadyDone,
        Next::Failed { message } => return TickOutcome::Failed { message },
        Next::GaveUp { reason } => return TickOutcome::GaveUp { reason },
        Next::Wait => {}
        Next::Submit => {
            submit_round(endpoints, inflight, now_ms, params, persist, &mut progress).await
        }
        Next::Rebuild {
            start_epoch,
            reason,
        } => match rebuild(start_epoch) {
            Ok(tx) => {
                let new = rebuilt_inflight(inflight, &tx, now_ms);
                if new.intent_hash == inflight.intent_hash {
                    warn!(
                        intent = %new.intent_hash,
                        attempt = new.attempt,
                        "rebuilt at epoch {start_epoch}: the same intent (same window), re-sending it; because {reason}"
                    );
                } else {
                    warn!(
                        old = %inflight.intent_hash,
                        new = %new.intent_hash,
                        attempt = new.attempt,
                        "REBUILT the transaction with window {}..{} because the old intent {reason}",
                        new.start_epoch,
                        new.end_epoch
                    );
                }
                progress.rebuilt = Some(Rebuilt {
                    from: inflight.intent_hash.clone(),
                    to: new.intent_hash.clone(),
                    reason,
                });
                *inflight = new;
                // Persist the new intent before it is sent (submit_round does, as it is new).
                submit_round(endpoints, inflight, now_ms, params, persist, &mut progress).await;
            }
            Err(e) => {
                warn!(intent = %inflight.intent_hash, "cannot rebuild the transaction for epoch {start_epoch}: {e} (keeping the old intent, retrying next tick)");
                progress.rebuild_error = Some(e.to_string());
            }
        },
    }
    if *inflight != before {
        if let Err(e) = persist(inflight) {
            warn!(intent = %inflight.intent_hash, "could not write the state file: {e}");
            progress.persist_errors.push(e);
        }
    }
    TickOutcome::Following(progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn params() -> SubmitParams {
        SubmitParams {
            deadline: Duration::from_secs(1800),
            backoff_initial: Duration::from_secs(2),
            backoff_max: Duration::from_secs(60),
            resubmit_every: Duration::from_secs(10),
        }
    }

    fn inflight() -> InFlight {
        InFlight {
            intent_hash: "txid_sim1current".into(),
            notarized_hex: "00".into(),
            new_key_hex: "02".repeat(33),
            start_epoch: 10,
            end_epoch: 12,
            attempt: 1,
            decided_at_ms: NOW - 60_000,
            reason: "test".into(),
            submitted: true,
            previous_intents: vec![],
            next_try_at_ms: NOW,
            last_status: BTreeMap::new(),
        }
    }

    fn facts(statuses: Vec<Result<TxStatus, SourceError>>) -> Facts {
        Facts {
            now_ms: NOW,
            current_epoch: 10,
            key_on_ledger_is_target: false,
            statuses: statuses
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("source {i}"), s))
                .collect(),
        }
    }

    fn rejected(m: &str) -> Result<TxStatus, SourceError> {
        Ok(TxStatus::PermanentlyRejected { message: m.into() })
    }
    fn down() -> Result<TxStatus, SourceError> {
        Err(SourceError::Unreachable("connection refused".into()))
    }

    #[test]
    fn one_source_claiming_a_commit_the_others_do_not_see_is_contradicted_not_believed() {
        let mut f = facts(vec![
            Ok(TxStatus::NotSeen),
            Ok(TxStatus::CommittedSuccess),
            down(),
        ]);
        assert_eq!(next(&inflight(), &f, &params()), Next::Submit);
        assert_eq!(contradicted_claims(&f), vec![f.statuses[1].0.clone()]);
        // The ledger shows the target key: now the claim is believed.
        f.key_on_ledger_is_target = true;
        assert_eq!(
            next(&inflight(), &f, &params()),
            Next::Committed {
                intent_hash: "txid_sim1current".into()
            }
        );
        assert!(contradicted_claims(&f).is_empty());
        // A majority of the answering endpoints agree: believed too.
        let f = facts(vec![
            Ok(TxStatus::CommittedSuccess),
            Ok(TxStatus::CommittedSuccess),
            Ok(TxStatus::Pending),
        ]);
        assert!(matches!(
            next(&inflight(), &f, &params()),
            Next::Committed { .. }
        ));
    }

    #[test]
    fn one_source_claiming_a_committed_failure_does_not_halt() {
        let f = facts(vec![
            Ok(TxStatus::Pending),
            Ok(TxStatus::CommittedFailure {
                message: "lie".into(),
            }),
            Ok(TxStatus::NotSeen),
        ]);
        assert!(!matches!(
            next(&inflight(), &f, &params()),
            Next::Failed { .. }
        ));
        assert_eq!(contradicted_claims(&f).len(), 1);
    }

    #[test]
    fn committed_wins_even_past_the_deadline_and_window() {
        let mut f = facts(vec![Ok(TxStatus::CommittedSuccess)]);
        f.now_ms = NOW + 10_000_000;
        f.current_epoch = 99;
        assert!(matches!(
            next(&inflight(), &f, &params()),
            Next::Committed { .. }
        ));
    }

    #[test]
    fn committed_failure_stops_with_the_engine_message() {
        let f = facts(vec![
            Ok(TxStatus::CommittedFailure {
                message: "ApplicationError(InsufficientBalance)".into(),
            }),
            Ok(TxStatus::CommittedFailure {
                message: "ApplicationError(InsufficientBalance)".into(),
            }),
            down(),
        ]);
        assert_eq!(
            next(&inflight(), &f, &params()),
            Next::Failed {
                message: "ApplicationError(InsufficientBalance)".into()
            }
        );
    }

    #[test]
    fn all_permanently_rejected_rebuilds_only_after_the_backoff() {
        let mut fl = inflight();
        fl.next_try_at_ms = NOW + 2_000;
        let f = facts(vec![
            rejected("InvalidNotarySignature"),
            rejected("InvalidNotarySignature"),
        ]);
        assert_eq!(next(&fl, &f, &params()), Next::Wait, "backoff not over");
        let mut later = f.clone();
        later.now_ms = NOW + 2_000;
        match next(&fl, &later, &params()) {
            Next::Rebuild {
                start_epoch,
                reason,
            } => {
                assert_eq!(start_epoch, 10);
                assert!(reason.contains("InvalidNotarySignature"), "{reason}");
            }
            other => panic!("expected a rebuild, got {other:?}"),
        }
    }

    #[test]
    fn rejected_everywhere_that_answers_counts_errors_do_not() {
        let f = facts(vec![rejected("x"), down(), Err(SourceError::Timeout(3000))]);
        assert!(matches!(
            next(&inflight(), &f, &params()),
            Next::Rebuild { .. }
        ));
    }

    #[test]
    fn one_rejection_while_another_source_has_it_pending_keeps_the_intent() {
        for other in [
            Ok(TxStatus::Pending),
            Ok(TxStatus::NotSeen),
            Ok(TxStatus::LikelyRejected {
                message: "m".into(),
            }),
        ] {
            let f = facts(vec![rejected("x"), other.clone()]);
            assert_eq!(
                next(&inflight(), &f, &params()),
                Next::Submit,
                "with {other:?}"
            );
        }
    }

    #[test]
    fn window_ended_rebuilds_at_once_from_the_current_epoch() {
        let mut fl = inflight();
        fl.next_try_at_ms = NOW + 5_000; // backoff does not delay a window rebuild
        let mut f = facts(vec![Ok(TxStatus::Pending)]);
        f.current_epoch = 12; // end is exclusive
        match next(&fl, &f, &params()) {
            Next::Rebuild {
                start_epoch,
                reason,
            } => {
                assert_eq!(start_epoch, 12);
                assert!(reason.contains("window ended"), "{reason}");
            }
            other => panic!("expected a rebuild, got {other:?}"),
        }
        f.current_epoch = 11; // last epoch of the window: keep it
        assert_eq!(next(&fl, &f, &params()), Next::Wait);
    }

    #[test]
    fn window_ended_but_no_source_answers_waits() {
        let mut f = facts(vec![down(), Err(SourceError::Timeout(3000))]);
        f.current_epoch = 12;
        assert_eq!(next(&inflight(), &f, &params()), Next::Wait);
    }

    #[test]
    fn a_next_try_far_in_the_future_is_a_clock_jump_and_counts_as_due() {
        let mut fl = inflight();
        fl.next_try_at_ms = NOW + 60_000; // = backoff_max: a real wait
        let f = facts(vec![Ok(TxStatus::Pending)]);
        assert_eq!(next(&fl, &f, &params()), Next::Wait);
        fl.next_try_at_ms = NOW + 3_600_000; // the clock went back an hour
        assert_eq!(next(&fl, &f, &params()), Next::Submit);
    }

    #[test]
    fn scaled_params_follow_the_poll_interval_and_never_exceed_the_defaults() {
        let d = Duration::from_secs(60);
        let fast = SubmitParams::scaled(d, Duration::from_millis(500));
        assert_eq!(fast.deadline, d);
        assert_eq!(fast.backoff_initial, Duration::from_millis(200));
        assert_eq!(fast.backoff_max, Duration::from_secs(6));
        assert_eq!(fast.resubmit_every, Duration::from_secs(1));
        assert_eq!(
            SubmitParams::scaled(d, Duration::from_secs(30)),
            SubmitParams::for_deadline(d)
        );
    }

    #[test]
    fn likely_rejected_is_followed_not_rebuilt() {
        let f = facts(vec![Ok(TxStatus::LikelyRejected {
            message: "m".into(),
        })]);
        assert_eq!(next(&inflight(), &f, &params()), Next::Submit);
        let mut fl = inflight();
        fl.next_try_at_ms = NOW + 1;
        assert_eq!(next(&fl, &f, &params()), Next::Wait);
    }

    #[test]
    fn key_already_target_is_done_before_any_submit_or_rebuild() {
        for statuses in [
            vec![Ok(TxStatus::NotSeen)],
            vec![rejected("x")],
            vec![down()],
        ] {
            let mut f = facts(statuses);
            f.key_on_ledger_is_target = true;
            f.current_epoch = 50;
            let mut fl = inflight();
            fl.submitted = false;
            assert_eq!(next(&fl, &f, &params()), Next::AlreadyDone);
        }
    }

    #[test]
    fn deadline_gives_up_and_says_whether_the_intent_may_still_commit() {
        let fl = inflight();
        let mut f = facts(vec![Ok(TxStatus::Pending)]);
        f.now_ms = fl.decided_at_ms + 1_800_000;
        match next(&fl, &f, &params()) {
            Next::GaveUp { reason } => {
                assert!(reason.contains("30m"), "{reason}");
                assert!(
                    reason.contains("may still commit until epoch 12"),
                    "{reason}"
                );
            }
            other => panic!("expected GaveUp, got {other:?}"),
        }
        f.now_ms -= 1;
        assert_eq!(
            next(&fl, &f, &params()),
            Next::Submit,
            "one ms before the deadline"
        );
    }

    #[test]
    fn all_sources_erroring_never_rebuilds_while_the_window_is_open() {
        let f = facts(vec![down(), Err(SourceError::Timeout(3000))]);
        assert_eq!(
            next(&inflight(), &f, &params()),
            Next::Submit,
            "re-send when due"
        );
        let mut fl = inflight();
        fl.next_try_at_ms = NOW + 1;
        assert_eq!(next(&fl, &f, &params()), Next::Wait);
        let mut no_sources = facts(vec![]);
        no_sources.now_ms = NOW - 1;
        assert_eq!(next(&inflight(), &no_sources, &params()), Next::Wait);
    }

    #[test]
    fn pending_and_not_seen_resubmit_when_due_else_wait() {
        for s in [Ok(TxStatus::Pending), Ok(TxStatus::NotSeen)] {
            let f = facts(vec![s]);
            assert_eq!(next(&inflight(), &f, &params()), Next::Submit);
            let mut fl = inflight();
            fl.next_try_at_ms = NOW + 10_000;
            assert_eq!(next(&fl, &f, &params()), Next::Wait);
        }
    }

    /// A status this version does not know (a newer API): followed like Pending. Not a
    /// commit, not a failure, not a rejection; it counts as an answer that claims nothing.
    #[test]
    fn an_unknown_status_is_not_known_yet_and_followed() {
        let other = || {
            Ok(TxStatus::Other {
                raw: "CommittedOnAnotherShard".into(),
            })
        };
        let f = facts(vec![other()]);
        assert_eq!(next(&inflight(), &f, &params()), Next::Submit);
        let mut fl = inflight();
        fl.next_try_at_ms = NOW + 10_000;
        assert_eq!(next(&fl, &f, &params()), Next::Wait);
        assert!(!commit_believed(&f));
        assert_eq!(failure_believed(&f), None);
        assert!(contradicted_claims(&f).is_empty());
        // Beside a rejection it prevents the rebuild a rejection everywhere would give.
        let f = facts(vec![other(), rejected("expired")]);
        assert_eq!(next(&inflight(), &f, &params()), Next::Submit);
        // Beside one success claim it is an answer that does not agree: no majority.
        let f = facts(vec![other(), Ok(TxStatus::CommittedSuccess)]);
        assert!(!commit_believed(&f));
        assert_eq!(
            status_text(&other()),
            "unknown_status: CommittedOnAnotherShard"
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = params();
        let got: Vec<u64> = (1..=8).map(|a| p.backoff(a).as_secs()).collect();
        assert_eq!(got, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(p.backoff(u32::MAX).as_secs(), 60);
        assert_eq!(p.backoff(0).as_secs(), 2);
    }

    #[test]
    fn after_submit_resends_later_when_taken_and_backs_off_when_not() {
        let p = params();
        let mut fl = inflight();
        fl.attempt = 3;
        let taken = vec![
            ("a".to_string(), Err(SourceError::Timeout(1))),
            (
                "b".to_string(),
                Ok(SubmitAnswer::Accepted { duplicate: true }),
            ),
        ];
        assert_eq!(after_submit(&fl, &taken, NOW, &p), NOW + 10_000);
        let refused = vec![
            (
                "a".to_string(),
                Err(SourceError::Http {
                    status: 503,
                    message: "x".into(),
                }),
            ),
            (
                "b".to_string(),
                Ok(SubmitAnswer::Rejected {
                    permanent: true,
                    message: "m".into(),
                }),
            ),
        ];
        assert_eq!(
            after_submit(&fl, &refused, NOW, &p),
            NOW + 8_000,
            "attempt 3: 2 s x 4"
        );
    }

    /// An in-memory endpoint that records what it was asked, in order, into a shared log.
    struct Fake {
        name: String,
        status: TxStatus,
        answer: Result<SubmitAnswer, SourceError>,
        log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    }

    impl TxEndpoint for Fake {
        fn name(&self) -> &str {
            &self.name
        }
        async fn submit(&self, hex: &str) -> Result<SubmitAnswer, SourceError> {
            if let Ok(mut l) = self.log.lock() {
                l.push(format!("submit {} {hex}", self.name));
            }
            self.answer.clone()
        }
        async fn status(&self, intent: &str) -> Result<TxStatus, SourceError> {
            if let Ok(mut l) = self.log.lock() {
                l.push(format!("status {} {intent}", self.name));
            }
            Ok(self.status.clone())
        }
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    /// One `tick` at `NOW` with the test params and the key not yet on ledger, which must leave
    /// the intent in flight: its progress.
    fn following(
        endpoints: &[&Fake],
        fl: &mut InFlight,
        current_epoch: u64,
        rebuild: &dyn Fn(u64) -> Result<BuiltTransaction, String>,
        persist: &mut dyn FnMut(&InFlight) -> Result<(), StateError>,
    ) -> Progress {
        let out = run(tick(
            endpoints,
            fl,
            current_epoch,
            false,
            NOW,
            &params(),
            rebuild,
            persist,
        ));
        let TickOutcome::Following(p) = out else {
            panic!("expected Following, got {out:?}")
        };
        p
    }

    #[test]
    fn tick_persists_a_fresh_intent_before_sending_it_and_sends_to_every_endpoint() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mk = |name: &str, answer| Fake {
            name: name.into(),
            status: TxStatus::NotSeen,
            answer,
            log: log.clone(),
        };
        let a = mk("gw", Ok(SubmitAnswer::Accepted { duplicate: false }));
        let b = mk(
            "core",
            Err(SourceError::Http {
                status: 503,
                message: "busy".into(),
            }),
        );
        let mut fl = inflight();
        fl.submitted = false;
        let no_rebuild =
            |_: u64| -> Result<BuiltTransaction, String> { Err("not in this test".into()) };
        let mut persisted: Vec<InFlight> = Vec::new();
        let plog = log.clone();
        let mut persist = |f: &InFlight| {
            if let Ok(mut l) = plog.lock() {
                l.push(format!("persist submitted={}", f.submitted));
            }
            persisted.push(f.clone());
            Ok(())
        };
        let p = following(&[&a, &b], &mut fl, 10, &no_rebuild, &mut persist);
        assert_eq!(p.submits.len(), 2);
        let log = log.lock().map(|l| l.clone()).unwrap_or_default();
        let first_submit = log
            .iter()
            .position(|l| l.starts_with("submit"))
            .expect("submitted");
        let first_persist = log
            .iter()
            .position(|l| l == "persist submitted=true")
            .expect("persisted");
        assert!(first_persist < first_submit, "persist before send: {log:?}");
        assert!(
            log.contains(&"submit gw 00".to_string())
                && log.contains(&"submit core 00".to_string()),
            "{log:?}"
        );
        assert!(fl.submitted);
        assert_eq!(
            fl.next_try_at_ms,
            NOW + 10_000,
            "one endpoint took it: re-send in 10 s"
        );
        assert_eq!(persisted.last(), Some(&fl), "the final record is persisted");
        assert_eq!(
            fl.last_status.get("gw").map(String::as_str),
            Some("not_seen")
        );
    }

    #[test]
    fn tick_reports_a_failed_rebuild_and_keeps_the_old_intent() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let a = Fake {
            name: "gw".into(),
            status: TxStatus::Pending,
            answer: Ok(SubmitAnswer::Accepted { duplicate: true }),
            log: log.clone(),
        };
        let mut fl = inflight();
        let before = fl.intent_hash.clone();
        let failing =
            |_: u64| -> Result<BuiltTransaction, String> { Err("key file unreadable".into()) };
        let mut persist = |_: &InFlight| -> Result<(), StateError> { Ok(()) };
        let p = following(&[&a], &mut fl, 12, &failing, &mut persist);
        assert_eq!(p.rebuild_error.as_deref(), Some("key file unreadable"));
        assert_eq!(fl.intent_hash, before);
        let sent = log
            .lock()
            .map(|l| l.iter().any(|x| x.starts_with("submit")))
            .unwrap_or(true);
        assert!(!sent, "an expired intent is not re-sent");
    }

    #[test]
    fn tick_persist_errors_are_reported_and_the_submit_still_happens() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let a = Fake {
            name: "gw".into(),
            status: TxStatus::NotSeen,
            answer: Ok(SubmitAnswer::Accepted { duplicate: false }),
            log: log.clone(),
        };
        let mut fl = inflight();
        fl.submitted = false;
        let no_rebuild = |_: u64| -> Result<BuiltTransaction, String> { Err("unused".into()) };
        let mut persist = |_: &InFlight| -> Result<(), StateError> {
            Err(StateError::Write {
                path: "/x/state.json".into(),
                op: "write the temporary file",
                source: std::io::Error::from(std::io::ErrorKind::StorageFull),
            })
        };
        let p = following(&[&a], &mut fl, 10, &no_rebuild, &mut persist);
        assert_eq!(p.persist_errors.len(), 2, "before the send and at the end");
        assert_eq!(p.submits.len(), 1, "submitted anyway");
    }

    /// Every combination of 3 sources x 7 answers, window open or ended, key already target or
    /// not, due or not: the safety rules hold for all of them.
    #[test]
    fn exhaustive_combinations_keep_the_safety_rules() {
        let kinds: Vec<Result<TxStatus, SourceError>> = vec![
            Ok(TxStatus::CommittedSuccess),
            Ok(TxStatus::CommittedFailure {
                message: "f".into(),
            }),
            rejected("r"),
            Ok(TxStatus::LikelyRejected {
                message: "l".into(),
            }),
            Ok(TxStatus::Pending),
            Ok(TxStatus::NotSeen),
            down(),
        ];
        let mut checked = 0;
        for a in &kinds {
            for b in &kinds {
                for c in &kinds {
                    let statuses = vec![a.clone(), b.clone(), c.clone()];
                    let oks: Vec<&TxStatus> =
                        statuses.iter().filter_map(|s| s.as_ref().ok()).collect();
                    let n_success = oks
                        .iter()
                        .filter(|s| matches!(s, TxStatus::CommittedSuccess))
                        .count();
                    let n_failure = oks
                        .iter()
                        .filter(|s| matches!(s, TxStatus::CommittedFailure { .. }))
                        .count();
                    let all_rejected = !oks.is_empty()
                        && oks
                            .iter()
                            .all(|s| matches!(s, TxStatus::PermanentlyRejected { .. }));
                    for window_ended in [false, true] {
                        for target in [false, true] {
                            for due in [false, true] {
                                // Believed: a strict majority of the answers, or one with the
                                // target key on ledger.
                                let success =
                                    n_success * 2 > oks.len() || (n_success > 0 && target);
                                let failure = !success && n_failure * 2 > oks.len();
                                let mut f = facts(statuses.clone());
                                f.current_epoch = if window_ended { 12 } else { 11 };
                                f.key_on_ledger_is_target = target;
                                let mut fl = inflight();
                                fl.next_try_at_ms = if due { NOW } else { NOW + 1_000 };
                                let got = next(&fl, &f, &params());
                                let case = format!("{statuses:?} ended={window_ended} target={target} due={due}: {got:?}");
                                match &got {
                                    Next::Committed { intent_hash } => {
                                        assert!(success, "{case}");
                                        assert_eq!(intent_hash, &fl.intent_hash);
                                    }
                                    Next::Failed { .. } => assert!(!success && failure, "{case}"),
                                    Next::AlreadyDone => {
                                        assert!(!success && !failure && target, "{case}")
                                    }
                                    Next::Rebuild { start_epoch, .. } => {
                                        assert!(!success && !failure && !target, "{case}");
                                        assert!(
                                            (window_ended && !oks.is_empty()) || (all_rejected && due),
                                            "a rebuild while the old intent could still commit: {case}"
                                        );
                                        assert_eq!(*start_epoch, f.current_epoch, "{case}");
                                    }
                                    Next::Submit => {
                                        assert!(!success && !failure && !target && due, "{case}");
                                        assert!(!window_ended && !all_rejected, "{case}");
                                    }
                                    Next::Wait => {
                                        assert!(!success && !failure && !target, "{case}")
                                    }
                                    Next::GaveUp { .. } => panic!("deadline is far: {case}"),
                                }
                                // Nothing is ever left undone when it must be done.
                                if success {
                                    assert!(matches!(got, Next::Committed { .. }), "{case}");
                                }
                                if !success
                                    && !failure
                                    && !target
                                    && window_ended
                                    && !oks.is_empty()
                                {
                                    assert!(matches!(got, Next::Rebuild { .. }), "{case}");
                                }
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 7 * 7 * 7 * 8);
    }
}
