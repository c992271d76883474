//! Rule 3's input from the primary's own ledger: its Core API (`core primary`, served by the
//! same node process) answers, but its ledger stands still while the network's goes on. A
//! stuck node does not know it is stuck (its health may still say UP for a minute), and it
//! cannot propose: this shows it within a poll of the network moving on.

use super::source_trust::Seen;
use super::Policy;

impl Policy {
    /// Counts the polls in which the network's ledger advanced (another trusted source moved)
    /// but the primary's own did not. A poll in which nothing moved (two polls within one
    /// round) neither counts nor resets. No answer from `core primary`: no count (a dead node
    /// shows on its System API instead).
    pub(super) fn track_primary_ledger(&mut self, seen: &[Seen<'_>]) {
        let own = self.roles.active.core_source();
        let answered = seen.iter().any(|s| s.name == own && s.reading.is_some());
        if !answered {
            self.primary_stalled_polls = 0;
            return;
        }
        let network_moved = seen.iter().any(|s| {
            s.name != own
                && self
                    .sources
                    .get(s.name)
                    .is_some_and(|m| m.advanced_last_poll)
        });
        let primary_moved = self.sources.get(own).is_some_and(|m| m.moved_last_poll);
        if primary_moved {
            self.primary_stalled_polls = 0;
        } else if network_moved {
            self.primary_stalled_polls = self.primary_stalled_polls.saturating_add(1);
        }
    }

    /// Why the primary's own ledger says it cannot propose, if it does.
    pub(super) fn ledger_problem(&self) -> Option<String> {
        (self.primary_stalled_polls > 0).then(|| {
            let at = self
                .sources
                .get(self.roles.active.core_source())
                .and_then(|m| m.position)
                .map(|(e, r, sv)| format!(" (epoch {e} round {r}, state version {sv})"))
                .unwrap_or_default();
            format!(
                "its own ledger{at} stood still for {} poll(s) while the network's advanced",
                self.primary_stalled_polls
            )
        })
    }
}

#[cfg(test)]
#[path = "tests/primary_ledger.rs"]
mod tests;
