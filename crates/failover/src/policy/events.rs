//! Events: what changed since the previous poll (logs and alerts), and the memory of that poll.

use std::collections::BTreeSet;

use super::keys::KeyOwner;
use super::source_trust::Seen;
use super::{Decision, EventKind, Policy, PolicyEvent, PrimaryState, View, Warning};

/// The previous poll, for events.
#[derive(Debug, Clone)]
pub(super) struct Previous {
    pub epoch: Option<u64>,
    pub key_in_force: KeyOwner,
    pub key_on_ledger: KeyOwner,
    pub primary_bad: bool,
    pub backup_ready: Result<(), String>,
    pub recent_missed: u32,
    pub decision: &'static str,
    pub warnings: BTreeSet<String>,
}

impl Policy {
    /// What changed since the previous poll: sources, the two nodes, misses, epoch, keys,
    /// the decision, and the other warnings raised or cleared.
    pub(super) fn events(
        &self,
        view: &View,
        seen: &[Seen<'_>],
        decision: &Decision,
        warnings: &[Warning],
        n: u32,
    ) -> Vec<PolicyEvent> {
        let mut ev = Vec::new();
        let mut push = |kind, subject: &str, message: String| {
            ev.push(PolicyEvent {
                kind,
                subject: subject.to_string(),
                message,
            })
        };
        let prev = self.previous.as_ref();
        for s in seen {
            let last = self.sources.get(s.name).and_then(|m| m.last_trust.as_ref());
            let was_trusted = last.is_none_or(|t| t.is_trusted());
            let changed_kind = last.is_none_or(|t| t.label() != s.trust.label());
            if !s.trust.is_trusted() && changed_kind {
                push(
                    EventKind::SourceDegraded,
                    s.name,
                    format!("source {} is not trusted: {}", s.name, s.trust.describe()),
                );
            } else if s.trust.is_trusted() && !was_trusted {
                push(
                    EventKind::SourceRecovered,
                    s.name,
                    format!("source {} is trusted again", s.name),
                );
            }
        }
        let bad = matches!(view.primary, PrimaryState::Unhealthy { .. });
        let was_bad = prev.is_some_and(|p| p.primary_bad);
        if let PrimaryState::Unhealthy { reason, .. } = &view.primary {
            if !was_bad {
                push(
                    EventKind::PrimaryUnhealthy,
                    "primary",
                    format!("the {} looks unhealthy: {reason}", self.roles.active.name()),
                );
            }
        } else if was_bad && !bad {
            push(
                EventKind::PrimaryRecovered,
                "primary",
                format!("the {} looks healthy again", self.roles.active.name()),
            );
        }
        match (prev.map(|p| &p.backup_ready), &view.backup_ready) {
            (Some(Ok(())), Ok(())) => {}
            (_, Ok(())) => push(
                EventKind::BackupReady,
                "backup",
                format!(
                    "the {} node is ready to take over",
                    self.roles.standby().name()
                ),
            ),
            (Some(Err(a)), Err(b)) if a == b => {}
            (_, Err(e)) => push(
                EventKind::BackupNotReady,
                "backup",
                format!("the {} node is not ready: {e}", self.roles.standby().name()),
            ),
        }
        let approach = n.saturating_sub(1);
        if approach > 0
            && view.recent_missed >= approach
            && prev.is_none_or(|p| p.recent_missed < approach)
        {
            push(
                EventKind::MissesApproaching,
                "misses",
                format!(
                    "{} of our last {} proposals missed: {} fails over",
                    view.recent_missed, view.recent_tracked, n
                ),
            );
        }
        if let (Some(p), Some(e)) = (prev.and_then(|p| p.epoch), view.epoch) {
            if p != e {
                push(
                    EventKind::EpochChanged,
                    "epoch",
                    format!("epoch {p} -> {e}"),
                );
            }
        }
        if let Some(p) = prev {
            for (what, before, now) in [
                ("key in force", &p.key_in_force, &view.key_in_force),
                ("key on ledger", &p.key_on_ledger, &view.key_on_ledger),
            ] {
                if before != now && now != &KeyOwner::Unknown {
                    push(
                        EventKind::KeyChanged,
                        what,
                        format!(
                            "{what}: {} -> {}",
                            before.as_text(self.roles.active),
                            now.as_text(self.roles.active)
                        ),
                    );
                }
            }
            if p.decision != decision.label() {
                push(
                    EventKind::DecisionChanged,
                    "decision",
                    format!("decision {} -> {}", p.decision, decision.describe()),
                );
            }
        }
        let covered = |k: &str| {
            k.starts_with("source-") || k == "primary-unhealthy" || k == "backup-not-ready"
        };
        let now: BTreeSet<&str> = warnings.iter().map(|w| w.key.as_str()).collect();
        for w in warnings.iter().filter(|w| !covered(&w.key)) {
            if prev.is_none_or(|p| !p.warnings.contains(&w.key)) {
                push(EventKind::ProblemRaised, &w.key, w.message.clone());
            }
        }
        if let Some(p) = prev {
            for k in p
                .warnings
                .iter()
                .filter(|k| !covered(k) && !now.contains(k.as_str()))
            {
                push(EventKind::ProblemCleared, k, format!("resolved: {k}"));
            }
        }
        ev
    }
}

#[cfg(test)]
#[path = "tests/events.rs"]
mod tests;
