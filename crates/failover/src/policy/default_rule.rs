//! The default policy's trigger: rules 2 and 3 together, in the order they decide.
//!
//! A confirmed N-of-M window fails over (N drops to 1 while the early signal holds); the early
//! signal with the ledger seen advancing fails over alone; anything less is `suspect`,
//! `blocked` (no quorum, or the ledger not seen advancing) or `unknown`.

use super::small_validator::SMALL_VALIDATOR_MISSES_IN_A_ROW;
use super::{Decision, Policy, PrimaryState};

/// What the default policy's trigger weighs, computed by `observe`.
pub(super) struct Evidence<'a> {
    /// (missed, tracked) of each trusted real-time source's window.
    pub windows: &'a [(u32, u32)],
    /// Real-time sources that must confirm: `min_confirming_sources` and a majority.
    pub quorum: usize,
    /// Misses that count as a failure now: N, or 1 while the early signal holds.
    pub threshold: u32,
    /// The early signal holds (rule 3).
    pub early: bool,
    /// Trusted ledger sources whose ledger moved since their last answer, and how many must.
    pub advancing: usize,
    pub ledger_quorum: usize,
    pub trusted: usize,
    pub primary: &'a PrimaryState,
    pub recent_missed: u32,
    pub recent_tracked: u32,
    /// Rule 2b applies: our turns in the last epoch, at most `small_validator_turns`.
    pub small_validator: Option<u64>,
    /// Confirmed misses in a row at the end of the window.
    pub misses_in_a_row: u32,
    /// Rule 2c applies: ms left until the epoch's expected end.
    pub epoch_ending: Option<i64>,
}

impl Policy {
    /// Rules 2 and 3: the default policy's trigger. `Ok(Some(reason))`: fail over if the gates
    /// pass; `Ok(None)`: healthy; `Err(decision)`: a decision short of failing over.
    pub(super) fn default_trigger(&self, e: &Evidence<'_>) -> Result<Option<String>, Decision> {
        let m = self.params.recent_proposals;
        let min_confirm = self.params.min_confirming_sources.max(1) as usize;
        let realtime = e.windows.len();
        let no_quorum = realtime < min_confirm;
        let threshold = e.threshold;
        let confirming = e.windows.iter().filter(|w| w.0 >= threshold).count();
        let primary_reason = match e.primary {
            PrimaryState::Unhealthy {
                reason,
                consecutive_polls,
            } => {
                format!(
                    "the {} has looked unhealthy for {consecutive_polls} polls: {reason}",
                    self.roles.active.name()
                )
            }
            _ => String::new(),
        };
        let no_quorum_blocker = || {
            format!(
                "no quorum: {realtime} trusted real-time source(s), {min_confirm} needed to confirm misses"
            )
        };
        if !no_quorum && confirming >= e.quorum {
            let early_note = if e.early {
                format!(
                    " (threshold lowered to 1: the {}'s System API looks unhealthy)",
                    self.roles.active.name()
                )
            } else {
                String::new()
            };
            return Ok(Some(format!(
                "{} of our last {} proposals missed, seen by {confirming} of {realtime} trusted real-time sources{early_note}",
                e.recent_missed, e.recent_tracked
            )));
        }
        if !no_quorum {
            if let Some(reason) = self.misses_in_a_row_trigger(e) {
                return Ok(Some(reason));
            }
        }
        if e.early && e.advancing >= e.ledger_quorum {
            return Ok(Some(format!(
                "{primary_reason}; {} of {} trusted sources show the ledger advancing with the {}'s key in force",
                e.advancing, e.trusted, self.roles.active.name()
            )));
        }
        if e.early {
            // Long enough to act on, but the watcher cannot see the ledger go on: a stalled
            // network (where a transaction would not commit either) or a blind watcher.
            let mut blocker = format!(
                "only {} of {} trusted sources show the ledger advancing, {} needed",
                e.advancing, e.trusted, e.ledger_quorum
            );
            if no_quorum {
                blocker = format!("{}; {blocker}", no_quorum_blocker());
            }
            return Err(Decision::Blocked {
                reason: primary_reason,
                blocker,
            });
        }
        if no_quorum && confirming > 0 {
            return Err(Decision::Blocked {
                reason: format!(
                    "{confirming} source(s) see at least {threshold} of our last {m} proposals missed"
                ),
                blocker: no_quorum_blocker(),
            });
        }
        if no_quorum {
            return Err(Decision::Unknown {
                reason: format!(
                    "only {realtime} trusted Core source(s) see misses in real time; {min_confirm} needed"
                ),
            });
        }
        if confirming > 0 {
            return Err(Decision::Suspect {
                reason: format!(
                    "{confirming} of {realtime} trusted real-time sources see at least {threshold} of our last {m} proposals missed; {} must",
                    e.quorum
                ),
            });
        }
        if !primary_reason.is_empty() {
            return Err(Decision::Suspect {
                reason: primary_reason,
            });
        }
        if e.recent_missed > 0 {
            return Err(Decision::Suspect {
                reason: format!(
                    "{} of our last {} proposals missed",
                    e.recent_missed, e.recent_tracked
                ),
            });
        }
        Ok(None)
    }

    /// Rules 2b and 2c: a small validator's two misses in a row, or one unanswered miss as the
    /// epoch ends.
    /// Both only for a small validator: a larger one leads every few seconds, so N of M is
    /// about as fast, and in an epoch's last polls it leads often enough that one background
    /// miss among them would be a false failover in a few epochs of every hundred.
    fn misses_in_a_row_trigger(&self, e: &Evidence<'_>) -> Option<String> {
        let turns = e.small_validator?;
        if e.misses_in_a_row >= SMALL_VALIDATOR_MISSES_IN_A_ROW {
            return Some(format!(
                "our last {} leader turns were missed, confirmed by a quorum (a small validator: {turns} turns last epoch, policy.small_validator_turns = {})",
                e.misses_in_a_row, self.params.small_validator_turns
            ));
        }
        let left = e.epoch_ending?;
        (e.misses_in_a_row >= 1).then(|| {
            format!(
                "our last leader turn was missed, confirmed by a quorum, and the epoch is expected to end in {:.1} s: waiting for another turn would cost the next epoch (policy.epoch_end_polls = {})",
                left.max(0) as f64 / 1000.0,
                self.params.epoch_end_polls
            )
        })
    }
}
