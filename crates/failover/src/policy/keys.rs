//! Rule 5: the keys, and never twice.
//!
//! The key in force and the key on ledger are what a strict majority of the trusted sources
//! report. When that is the backup's key the failover has happened: the decision is
//! `already_failed_over`, never a second failover and never a fail-back.

use serde::Serialize;

use super::assessment::Warning;
use super::source_trust::Seen;
use super::Policy;
use crate::observe::LedgerReading;

/// Whose key a source reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "owner", content = "key", rename_all = "snake_case")]
pub enum KeyOwner {
    Primary,
    Backup,
    /// Neither configured key (someone else rotated it, or the config is wrong).
    Other(String),
    /// Our validator is not in the current active set (key in force only).
    NotInActiveSet,
    /// No trusted source reports it, or they do not agree.
    Unknown,
}

impl KeyOwner {
    /// The owner as every output names it: the node's config section (`Primary` is the
    /// `active` node's key, `Backup` the standby's; roles.rs).
    pub fn as_text(&self, active: crate::roles::Node) -> String {
        match self {
            KeyOwner::Primary => active.name().into(),
            KeyOwner::Backup => active.other().name().into(),
            KeyOwner::Other(k) => format!("other ({k})"),
            KeyOwner::NotInActiveSet => "not in active set".into(),
            KeyOwner::Unknown => "unknown".into(),
        }
    }
}

impl Policy {
    pub(super) fn owner(&self, key: &str) -> KeyOwner {
        let k = key.trim().to_ascii_lowercase();
        if k == self.keys.primary_key_hex {
            KeyOwner::Primary
        } else if k == self.keys.backup_key_hex {
            KeyOwner::Backup
        } else {
            KeyOwner::Other(k)
        }
    }

    /// Rule 5: the keys the trusted sources agree on (a strict majority of those reporting),
    /// and a problem that blocks any failover (a minority says backup; an unexpected key; a
    /// fail-back in progress).
    pub(super) fn agree_keys(
        &self,
        seen: &[Seen<'_>],
        trusted: &[usize],
        warnings: &mut Vec<Warning>,
    ) -> (KeyOwner, KeyOwner, Option<String>) {
        let readings: Vec<&LedgerReading> =
            trusted.iter().filter_map(|&i| seen[i].reading).collect();
        let in_force: Vec<KeyOwner> = readings
            .iter()
            .map(|r| {
                r.key_in_force
                    .as_deref()
                    .map_or(KeyOwner::NotInActiveSet, |k| self.owner(k))
            })
            .collect();
        let on_ledger: Vec<KeyOwner> = readings
            .iter()
            .filter_map(|r| r.key_on_ledger.as_deref().map(|k| self.owner(k)))
            .collect();
        let in_force_agreed = majority(&in_force);
        let on_ledger_agreed = majority(&on_ledger);
        let mut problem = None;
        // A minority saying the backup's key is warned about but blocks nothing: re-sending
        // update_key(backup) is harmless, and a block would let one source suppress a failover.
        for (what, votes) in [("key in force", &in_force), ("key on ledger", &on_ledger)] {
            if votes.iter().any(|v| v != &votes[0]) {
                let list = votes
                    .iter()
                    .map(|v| v.as_text(self.roles.active))
                    .collect::<Vec<_>>()
                    .join(", ");
                warnings.push(Warning {
                    key: format!("key-disagreement:{what}"),
                    message: format!("trusted sources disagree on the {what}: {list}"),
                });
            }
        }
        if let KeyOwner::Other(k) = &on_ledger_agreed {
            warnings.push(Warning {
                key: "key-unexpected".into(),
                message: format!("the key on ledger is {k}, neither the primary's nor the backup's: check primary_public_key/backup_public_key"),
            });
            problem.get_or_insert_with(|| {
                format!("the key on ledger is {k}, neither the primary's nor the backup's")
            });
        } else if on_ledger_agreed == KeyOwner::Primary && in_force_agreed == KeyOwner::Backup {
            let (active, standby) = (self.roles.active.name(), self.roles.standby().name());
            warnings.push(Warning {
                key: "failback-pending".into(),
                message: format!("the {active}'s key is on ledger but the {standby}'s is in force until the epoch ends: a switch back to the {active} is pending"),
            });
            problem.get_or_insert_with(|| {
                format!("a switch back to the {active} is pending (the {standby}'s key is in force until the epoch ends)")
            });
        }
        if in_force_agreed == KeyOwner::NotInActiveSet {
            warnings.push(Warning {
                key: "not-in-active-set".into(),
                message:
                    "our validator is not in the current active set: it proposes nothing this epoch"
                        .into(),
            });
        }
        (in_force_agreed, on_ledger_agreed, problem)
    }
}

/// Never twice: the trusted sources say the backup's key is on ledger, or, when none reports
/// the key on ledger, that it is in force.
pub(super) fn already_failed_over(key_in_force: &KeyOwner, key_on_ledger: &KeyOwner) -> bool {
    key_on_ledger == &KeyOwner::Backup
        || (key_on_ledger == &KeyOwner::Unknown && key_in_force == &KeyOwner::Backup)
}

/// A key that names one of our two nodes (not unknown, not someone else's).
pub(super) fn is_known(k: &KeyOwner) -> bool {
    matches!(k, KeyOwner::Primary | KeyOwner::Backup)
}

/// The value held by a strict majority of the votes, else `Unknown` (also for no votes).
fn majority(votes: &[KeyOwner]) -> KeyOwner {
    strict_majority(votes).cloned().unwrap_or(KeyOwner::Unknown)
}

/// The value held by a strict majority of the votes, if one is (none for no votes). Also the
/// authority tripwire's agreement on the validator's settings (`tripwire.rs`).
pub(crate) fn strict_majority<T: PartialEq>(votes: &[T]) -> Option<&T> {
    votes
        .iter()
        .find(|v| votes.iter().filter(|w| w == v).count() * 2 > votes.len())
}

#[cfg(test)]
#[path = "tests/keys.rs"]
mod tests;
