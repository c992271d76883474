//! Rule 3: the early signal from the primary's System API.
//!
//! The primary is unhealthy on a poll when its System API does not answer, its health is a
//! known status other than UP, or its own `recent_self_proposal_miss_statistic` rose. When
//! that lasts `primary_down_polls` consecutive polls with the primary's key in force, one
//! confirmed miss is enough, and a quorum of trusted sources showing the ledger advancing fails
//! over alone. So a health or consensus status this version does not know (`Other`) is no
//! signal either way: an unreadable status is no evidence of a dead node, and this signal can
//! fail over on its own (the miss rule still acts).
//! A System API that refuses us on trust or credentials (a wrong pin or password) gives no
//! signal at all: that is this watcher's setup problem, not the node's health.

use super::keys::KeyOwner;
use super::source_trust::Seen;
use super::{Policy, PrimaryState};
use crate::observe::{NodeHealth, NodeReading, SourceError, SourceObservation};

/// How many polls back the primary's own Core API must have shown its ledger advancing for
/// the veto: the current poll and the two before it. A dead node's Core API stops answering
/// at once (no veto); a stuck one lapses after these polls, or sooner when its ledger grows
/// older than `max_source_lag` and it is no longer trusted.
pub(super) const OWN_CORE_ALIVE_POLLS: u32 = 3;

impl Policy {
    /// Rule 3's input: streaks of bad polls of the primary's System API.
    pub(super) fn assess_primary(
        &mut self,
        primary: Option<&SourceObservation<NodeReading>>,
        key_in_force: &KeyOwner,
    ) -> PrimaryState {
        let Some(p) = primary else {
            self.primary_down_streak = 0;
            self.primary_rising_streak = 0;
            return PrimaryState::NotConfigured;
        };
        self.primary_unreachable = false;
        if p.result
            .as_ref()
            .err()
            .is_some_and(SourceError::is_setup_refusal)
        {
            // A wrong pin or password (TLS refused its certificate, or it refused ours) says
            // nothing about the node: no streak either way, as without a System API (the miss
            // rule still acts). Else a watcher's own setup error would fail over a healthy
            // primary, whose nginx serves both of its APIs and so fails both alike.
            self.primary_down_streak = 0;
            self.primary_rising_streak = 0;
            return PrimaryState::NotConfigured;
        }
        let (down, rising) = match &p.result {
            Err(e) => {
                self.primary_unreachable = true;
                (Some(format!("System API {e}")), None)
            }
            Ok(node) => {
                let down = match &node.health {
                    // A status this version does not know is no evidence the node is down, and
                    // this signal can fail over on its own: none (the source logs the value).
                    NodeHealth::Up | NodeHealth::Other(_) => None,
                    h => Some(format!("health {} ({})", h.as_str(), node.detail)),
                }
                .or_else(|| self.identity_problem(node, key_in_force))
                .or_else(|| self.ledger_problem());
                let rising = match self.primary_last_missed {
                    Some(prev) if node.recent_missed > prev => Some(format!(
                        "its own miss statistic rose from {prev} to {} of {}",
                        node.recent_missed, node.recent_tracked
                    )),
                    _ => None,
                };
                self.primary_last_missed = Some(node.recent_missed);
                (down, rising)
            }
        };
        self.primary_down_streak = if down.is_some() {
            self.primary_down_streak + 1
        } else {
            0
        };
        self.primary_rising_streak = if rising.is_some() {
            self.primary_rising_streak + 1
        } else {
            0
        };
        match (down, rising) {
            (Some(reason), _) => PrimaryState::Unhealthy {
                reason,
                consecutive_polls: self.primary_down_streak,
            },
            (None, Some(reason)) => PrimaryState::Unhealthy {
                reason,
                consecutive_polls: self.primary_rising_streak,
            },
            (None, None) => PrimaryState::Healthy,
        }
    }

    /// Our proposals made during the primary's unhealthy streak, per source. Counted from the
    /// streak's second poll: the first poll's delta may hold a proposal made before the fault.
    pub(super) fn track_made_during_streak(&mut self, seen: &[Seen<'_>]) {
        let streak = self.primary_down_streak.max(self.primary_rising_streak);
        for s in seen {
            let Some(mem) = self.sources.get_mut(s.name) else {
                continue;
            };
            if streak == 0 {
                mem.made_in_streak = 0;
            } else if streak >= 2 && s.trust.is_trusted() {
                let made = mem.last_delta.map_or(0, |d| d.made);
                mem.made_in_streak = mem.made_in_streak.saturating_add(made);
            }
        }
    }

    /// The veto of the early signal: a strict majority of the trusted real-time sources saw
    /// the primary make proposals during the streak. Its System API is unreachable (an nginx
    /// reload, a firewall change) but the node validates: a failover would be for nothing.
    ///
    /// Also when only the System API is unreachable while the primary's own Core API (served
    /// by the same node process) is trusted and its ledger advanced within the last
    /// [`OWN_CORE_ALIVE_POLLS`] polls: the node is alive and synced. (Not "this poll": two
    /// polls may fall within one round, and a veto that lapsed on such a poll would let the
    /// early signal through for a node that is proposing.) A small validator may not lead for minutes, so its made count alone
    /// would come too late. If such a node stops proposing, the miss rule (N of M) still acts.
    pub(super) fn primary_still_proposing(
        &self,
        seen: &[Seen<'_>],
        realtime: &[usize],
    ) -> Option<String> {
        if self.primary_unreachable {
            let own = self.roles.active.core_source();
            let own_core_alive = seen.iter().any(|s| {
                s.name == own
                    && s.trust.is_trusted()
                    && self
                        .sources
                        .get(s.name)
                        .and_then(|m| m.polls_since_advance)
                        .is_some_and(|n| n < OWN_CORE_ALIVE_POLLS)
            });
            if own_core_alive {
                return Some(format!(
                    "the {}'s System API is unreachable but its own Core API ({own}) answers, fresh, with its ledger advancing",
                    self.roles.active.name()
                ));
            }
        }
        let proposing = realtime
            .iter()
            .filter(|&&i| {
                self.sources
                    .get(seen[i].name)
                    .is_some_and(|m| m.made_in_streak > 0)
            })
            .count();
        (!realtime.is_empty() && proposing * 2 > realtime.len()).then(|| {
            format!(
                "{proposing} of {} trusted Core sources see the {} making proposals while its System API looks unhealthy",
                realtime.len(),
                self.roles.active.name()
            )
        })
    }

    /// The early signal holds: the primary's System API has been unhealthy for
    /// `primary_down_polls` consecutive polls while its key is in force.
    pub(super) fn early_signal_holds(&self, key_in_force: &KeyOwner) -> bool {
        self.params.primary_down_polls > 0
            && key_in_force == &KeyOwner::Primary
            && self.primary_down_streak.max(self.primary_rising_streak)
                >= self.params.primary_down_polls
    }
}

#[cfg(test)]
#[path = "tests/early_signal.rs"]
mod tests;
