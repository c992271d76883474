//! Rule 1: which ledger sources count this poll.
//!
//! A source is trusted only when it answered, its ledger is fresh (not older than
//! `max_source_lag`), it is in step with the others' epoch, and its miss count is not
//! contradicted by most of the other Core sources. An untrusted source never triggers
//! anything: it feeds no window and counts towards no quorum.

use serde::Serialize;

use super::assessment::Warning;
use crate::observe::{LedgerReading, Observation, SourceError, SourceKind, SourceObservation};
use crate::policy::params::PolicyParams;

/// Misses by which a Core source may exceed the other Core sources of the same epoch before it
/// is contradicted: sources are asked within one request timeout of each other, and even a
/// validator leading 50 rounds an epoch leads about every 6 s on mainnet, so honest sources
/// differ by 0 or 1; 2 leaves room for one slow answer without letting a liar add a burst.
pub const MISSED_TOLERANCE: u64 = 2;
/// Epochs a source may be away from the others' (median) epoch and still be trusted: around an
/// epoch change honest sources straddle it by one; two apart means stuck or on another network.
pub const EPOCH_TOLERANCE: u64 = 1;
/// How far a source's ledger timestamp may be ahead of the watcher's clock and still be
/// trusted. Proposer timestamps come from the leaders' clocks, which consensus keeps within a
/// few seconds of real time, and NTP keeps the watcher's within milliseconds: 10 s ahead is a
/// wrong clock (the source's or ours) or a forged answer, never jitter. A source whose clock
/// runs ahead would otherwise pass the freshness check while stuck.
pub const CLOCK_AHEAD_TOLERANCE_MS: u64 = 10_000;

/// Why a ledger source is (not) used this poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "trust", rename_all = "snake_case")]
pub enum SourceTrust {
    Trusted,
    /// No usable answer.
    Failing {
        error: String,
    },
    /// The source asked us to back off (HTTP 429, or 503 with `Retry-After`) and is not asked
    /// until then. Untrusted like a failing source, for the same reason: it feeds no window,
    /// counts towards no quorum and vetoes nothing, so a rate limit can neither trigger nor
    /// (while other sources form a quorum) prevent a failover.
    Throttled {
        error: String,
    },
    /// Its ledger is older than `max_source_lag`.
    Lagging {
        lag_ms: i64,
    },
    /// Its ledger timestamp is ahead of the watcher's clock by more than
    /// [`CLOCK_AHEAD_TOLERANCE_MS`].
    ClockAhead {
        ahead_ms: i64,
    },
    /// Its epoch is more than [`EPOCH_TOLERANCE`] away from the others' median epoch.
    EpochMismatch {
        epoch: u64,
        reference_epoch: u64,
    },
    /// It reports more misses than most other Core sources of the same epoch see.
    Contradicted {
        missed: u64,
        others_missed: Vec<u64>,
    },
}

impl SourceTrust {
    pub fn is_trusted(&self) -> bool {
        matches!(self, SourceTrust::Trusted)
    }

    /// Stable short name, used in warning keys: `failing`, `lagging`, `epoch`, `contradicted`.
    pub fn label(&self) -> &'static str {
        match self {
            SourceTrust::Trusted => "trusted",
            SourceTrust::Failing { .. } => "failing",
            SourceTrust::Throttled { .. } => "throttled",
            SourceTrust::Lagging { .. } => "lagging",
            SourceTrust::ClockAhead { .. } => "clock-ahead",
            SourceTrust::EpochMismatch { .. } => "epoch",
            SourceTrust::Contradicted { .. } => "contradicted",
        }
    }

    /// One human line: why the source is (not) trusted.
    pub fn describe(&self) -> String {
        match self {
            SourceTrust::Trusted => "trusted".into(),
            SourceTrust::Failing { error } => format!("failing: {error}"),
            SourceTrust::Throttled { error } => error.clone(),
            SourceTrust::Lagging { lag_ms } => format!("lagging: its ledger is {:.1} s old", *lag_ms as f64 / 1000.0),
            SourceTrust::ClockAhead { ahead_ms } => format!(
                "its ledger time is {:.1} s ahead of this machine's clock",
                *ahead_ms as f64 / 1000.0
            ),
            SourceTrust::EpochMismatch { epoch, reference_epoch } => {
                format!("at epoch {epoch} while the other sources are at epoch {reference_epoch}")
            }
            SourceTrust::Contradicted { missed, others_missed } => format!(
                "contradicted: it reports {missed} missed proposals this epoch, the other sources {others_missed:?}"
            ),
        }
    }
}

/// One trusted-or-not ledger source during a poll.
pub(super) struct Seen<'a> {
    pub name: &'a str,
    pub kind: SourceKind,
    pub reading: Option<&'a LedgerReading>,
    pub trust: SourceTrust,
}

/// Rule 1: answered, fresh, in step, not contradicted. Pushes a warning for each source that
/// is not trusted.
pub(super) fn judge_sources<'a>(
    params: &PolicyParams,
    obs: &'a Observation,
    previous_epoch: Option<u64>,
    warnings: &mut Vec<Warning>,
) -> Vec<Seen<'a>> {
    let mut seen = answered_and_fresh(params, obs);
    warn_if_the_watchers_clock_is_wrong(&seen, warnings);
    mark_out_of_step(&mut seen, previous_epoch);
    mark_contradicted(&mut seen, warnings);
    for s in &seen {
        if !s.trust.is_trusted() {
            warnings.push(Warning {
                key: format!("source-{}:{}", s.trust.label(), s.name),
                message: format!("source {} is not trusted: {}", s.name, s.trust.describe()),
            });
        }
    }
    seen
}

/// Answered at all, and its ledger not older than `max_source_lag`.
fn answered_and_fresh<'a>(params: &PolicyParams, obs: &'a Observation) -> Vec<Seen<'a>> {
    let lag_limit = i64::try_from(params.max_source_lag.as_millis()).unwrap_or(i64::MAX);
    obs.ledger
        .iter()
        .map(|s: &'a SourceObservation<LedgerReading>| match &s.result {
            Err(e) => Seen {
                name: &s.name,
                kind: s.kind,
                reading: None,
                trust: match e {
                    SourceError::Throttled { .. } => SourceTrust::Throttled {
                        error: e.to_string(),
                    },
                    _ => SourceTrust::Failing {
                        error: e.to_string(),
                    },
                },
            },
            Ok(r) => {
                let lag_ms = obs.at_ms.saturating_sub(r.ledger_time_ms);
                let ahead_limit = i64::try_from(CLOCK_AHEAD_TOLERANCE_MS).unwrap_or(i64::MAX);
                let trust = if lag_ms > lag_limit {
                    SourceTrust::Lagging { lag_ms }
                } else if lag_ms < -ahead_limit {
                    SourceTrust::ClockAhead { ahead_ms: -lag_ms }
                } else {
                    SourceTrust::Trusted
                };
                Seen {
                    name: &s.name,
                    kind: s.kind,
                    reading: Some(r),
                    trust,
                }
            }
        })
        .collect()
}

/// Every source that answered is ahead of the watcher's clock: the likely cause is this
/// machine's clock, not all of them.
fn warn_if_the_watchers_clock_is_wrong(seen: &[Seen<'_>], warnings: &mut Vec<Warning>) {
    let answered: Vec<&Seen<'_>> = seen.iter().filter(|s| s.reading.is_some()).collect();
    let ahead = answered
        .iter()
        .filter(|s| matches!(s.trust, SourceTrust::ClockAhead { .. }))
        .count();
    if ahead > 0 && ahead == answered.len() {
        warnings.push(Warning {
            key: "watcher-clock".into(),
            message: format!(
                "every source that answered ({ahead}) has a ledger time ahead of this machine's clock by more than {} s: this machine's clock is probably behind; fix its time sync (timedatectl, chrony or systemd-timesyncd)",
                CLOCK_AHEAD_TOLERANCE_MS / 1000
            ),
        });
    }
}

/// In step: within EPOCH_TOLERANCE of the reference epoch, the epoch most fresh sources are
/// near. Not the maximum, so one source claiming a far epoch cannot push out the others; on a
/// tie (two sources, one of them lying) the epoch nearest to the last agreed one wins, then the
/// lower, so a liar cannot push out the honest source either way.
fn mark_out_of_step(seen: &mut [Seen<'_>], previous_epoch: Option<u64>) {
    let epochs: Vec<u64> = seen
        .iter()
        .filter(|s| s.trust.is_trusted())
        .filter_map(|s| s.reading.map(|r| r.epoch))
        .collect();
    let Some(reference_epoch) = reference_epoch(&epochs, previous_epoch) else {
        return;
    };
    for s in seen.iter_mut().filter(|s| s.trust.is_trusted()) {
        if let Some(r) = s.reading {
            if r.epoch.abs_diff(reference_epoch) > EPOCH_TOLERANCE {
                s.trust = SourceTrust::EpochMismatch {
                    epoch: r.epoch,
                    reference_epoch,
                };
            }
        }
    }
}

/// The epoch with the most sources within EPOCH_TOLERANCE of it; ties go to the one nearest
/// the previous poll's epoch, then to the lower.
fn reference_epoch(epochs: &[u64], previous_epoch: Option<u64>) -> Option<u64> {
    let support = |e: u64| {
        epochs
            .iter()
            .filter(|&&x| x.abs_diff(e) <= EPOCH_TOLERANCE)
            .count()
    };
    epochs.iter().copied().min_by_key(|&e| {
        (
            std::cmp::Reverse(support(e)),
            previous_epoch.map_or(0, |p| p.abs_diff(e)),
            e,
        )
    })
}

/// Not contradicted: compare current-epoch misses with the other fresh Core sources of the
/// same epoch. Judged only with at least two others, so that "the others" can be a majority;
/// with one other, a disagreement is a warning and neither is believed alone (the quorum then
/// cannot form).
fn mark_contradicted(seen: &mut [Seen<'_>], warnings: &mut Vec<Warning>) {
    let counts: Vec<Option<(u64, u64)>> = seen
        .iter()
        .map(|s| {
            if !s.trust.is_trusted() || s.kind != SourceKind::Core {
                return None;
            }
            s.reading
                .and_then(|r| r.current_epoch.map(|c| (r.epoch, c.missed)))
        })
        .collect();
    let mut verdicts: Vec<Option<SourceTrust>> = vec![None; seen.len()];
    for (i, c) in counts.iter().enumerate() {
        let Some((epoch, missed)) = *c else { continue };
        let others: Vec<u64> = counts
            .iter()
            .enumerate()
            .filter(|&(j, o)| j != i && o.is_some_and(|(e, _)| e == epoch))
            .filter_map(|(_, o)| o.map(|(_, x)| x))
            .collect();
        let above = others
            .iter()
            .filter(|&&x| missed > x.saturating_add(MISSED_TOLERANCE))
            .count();
        if others.len() >= 2 && above * 2 > others.len() {
            verdicts[i] = Some(SourceTrust::Contradicted {
                missed,
                others_missed: others,
            });
        } else if others.len() == 1 && missed.abs_diff(others[0]) > MISSED_TOLERANCE {
            if let Some(j) =
                (0..counts.len()).find(|&j| j > i && counts[j].is_some_and(|(e, _)| e == epoch))
            {
                warnings.push(Warning {
                    key: format!("sources-disagree:{}|{}", seen[i].name, seen[j].name),
                    message: format!(
                        "{} and {} disagree on our missed proposals this epoch ({} vs {}); with no third Core source neither is believed",
                        seen[i].name, seen[j].name, missed, others[0]
                    ),
                });
            }
        }
    }
    for (s, v) in seen.iter_mut().zip(verdicts) {
        if let Some(v) = v {
            s.trust = v;
        }
    }
}

#[cfg(test)]
#[path = "tests/source_trust.rs"]
mod tests;
