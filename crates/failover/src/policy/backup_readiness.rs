//! Rule 4: the backup must be ready, and every gate a failover passes.
//!
//! A failover to a backup that is not synced, not configured for our validator or not holding
//! the configured key would take the validator down: every failover is gated on it, on the
//! keys (rule 5) and on the runner's pre-flight checks.

use super::source_trust::Seen;
use super::{Decision, Gates, Policy};
use crate::observe::{NodeConsensus, NodeHealth, NodeReading, SourceObservation};
use crate::roles::Roles;

impl Policy {
    /// Rule 4: the backup node (the standby) can take over now.
    pub(super) fn backup_readiness(
        &self,
        backup: Option<&SourceObservation<NodeReading>>,
        seen: &[Seen<'_>],
    ) -> Result<(), String> {
        self.node_readiness(
            backup,
            &self.keys.backup_key_hex,
            self.roles.standby(),
            seen,
        )
    }

    /// Rule 10's gate: after a failover, the old active node (still in the `primary` slot
    /// until the roles swap) would be a ready standby: the same readiness as rule 4, against
    /// its own key.
    pub(super) fn old_active_readiness(
        &self,
        primary: Option<&SourceObservation<NodeReading>>,
        seen: &[Seen<'_>],
    ) -> Result<(), String> {
        self.node_readiness(primary, &self.keys.primary_key_hex, self.roles.active, seen)
    }

    /// Rule 4 for any node: UP, a known consensus status, configured for our validator,
    /// holding `key_hex`, and its Core API (if any) trusted.
    fn node_readiness(
        &self,
        reading: Option<&SourceObservation<NodeReading>>,
        key_hex: &str,
        which: crate::roles::Node,
        seen: &[Seen<'_>],
    ) -> Result<(), String> {
        let Some(b) = reading else {
            let n = which.name();
            return Err(format!("the {n}'s System API is not configured: add [{n}] system_api so its readiness can be checked"));
        };
        let node = match &b.result {
            Err(e) => return Err(format!("its System API ({}) gives no answer: {e}", b.name)),
            Ok(n) => n,
        };
        if node.health != NodeHealth::Up {
            let unknown = match node.health {
                NodeHealth::Other(_) => " (a status this version does not know)",
                _ => "",
            };
            return Err(format!(
                "its health is {}{unknown} ({}), not UP: wait until it is synced",
                node.health.as_str(),
                node.detail
            ));
        }
        // A consensus status this version does not know: it may be one a node cannot take
        // over from, so the backup is not ready (fail closed) until a version that knows it.
        if let NodeConsensus::Other(raw) = &node.consensus {
            return Err(format!(
                "its consensus status is {raw}, which this version does not know (read as not validating): check the {} node, or use a newer radix-failover",
                which.name()
            ));
        }
        match node.validator_address.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(format!(
                    "it is not configured for a validator: set its validator address to {}",
                    self.keys.validator_address
                ))
            }
            Some(v) if v != self.keys.validator_address => {
                return Err(format!(
                    "it is configured for validator {v}, not ours ({}): fix the {} node's validator address",
                    self.keys.validator_address,
                    which.name()
                ))
            }
            Some(_) => {}
        }
        let key = node.public_key_hex.trim().to_ascii_lowercase();
        if key != key_hex {
            return Err(format!(
                "its key is {key}, not the configured {}_public_key {key_hex}: the failover would hand our validator to a key no node holds",
                which.name(),
            ));
        }
        let standby_core = which.core_source();
        if let Some(s) = seen.iter().find(|s| s.name == standby_core) {
            if !s.trust.is_trusted() {
                return Err(format!(
                    "its Core API is not trusted ({})",
                    s.trust.describe()
                ));
            }
        }
        Ok(())
    }
}

/// The gates every failover passes (rules 4 and 5 and the pre-flight): all blockers are named.
pub(super) fn gate(
    reason: String,
    key_problem: Option<String>,
    gates: &Gates,
    backup_ready: &Result<(), String>,
    roles: Roles,
) -> Decision {
    let mut blockers: Vec<String> = key_problem.into_iter().collect();
    if !gates.preflight_ok {
        blockers.push(format!(
            "pre-flight failed: {}",
            gates
                .preflight_problem
                .as_deref()
                .unwrap_or("(no reason given)")
        ));
    }
    if let Err(e) = backup_ready {
        blockers.push(format!("{} not ready: {e}", roles.standby().name()));
    }
    if let Some(why) = &gates.switch_limit {
        blockers.push(why.clone());
    }
    if blockers.is_empty() {
        Decision::FailOver { reason }
    } else {
        Decision::Blocked {
            reason,
            blocker: blockers.join("; "),
        }
    }
}

#[cfg(test)]
#[path = "tests/backup_readiness.rs"]
mod tests;
