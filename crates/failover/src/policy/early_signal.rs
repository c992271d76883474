//! Rule 3: the early signal from the primary's System API.
//!
//! The primary is unhealthy on a poll when its System API does not answer, its health is not
//! UP, or its own `recent_self_proposal_miss_statistic` rose. When that lasts
//! `primary_down_polls` consecutive polls with the primary's key in force, one confirmed miss
//! is enough, and a quorum of trusted sources showing the ledger advancing fails over alone.

use super::backup_readiness::health_text;
use super::keys::KeyOwner;
use super::{Policy, PrimaryState};
use crate::observe::{NodeHealth, NodeReading, SourceObservation};

impl Policy {
    /// Rule 3's input: streaks of bad polls of the primary's System API.
    pub(super) fn assess_primary(
        &mut self,
        primary: Option<&SourceObservation<NodeReading>>,
    ) -> PrimaryState {
        let Some(p) = primary else {
            self.primary_down_streak = 0;
            self.primary_rising_streak = 0;
            return PrimaryState::NotConfigured;
        };
        let (down, rising) = match &p.result {
            Err(e) => (Some(format!("System API {e}")), None),
            Ok(node) => {
                let down = (node.health != NodeHealth::Up)
                    .then(|| format!("health {} ({})", health_text(node.health), node.detail));
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
