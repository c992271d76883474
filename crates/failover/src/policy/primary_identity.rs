//! Rule 3's input from the primary's identity: a node that answers, healthy, but cannot
//! propose for our validator while its key is in force (restarted with another key, pointed
//! at another validator, or saying it is not validating). The real node shows this at once in
//! `/system/identity`, so it counts like a System API that is down: from the first poll.

use super::keys::KeyOwner;
use super::Policy;
use crate::observe::{NodeConsensus, NodeReading};

impl Policy {
    /// Why the primary's identity says it cannot propose for us now, if it does. Only while
    /// the primary's key is in force: before a fail-back, or after a failover, the primary is
    /// rightly not validating.
    pub(super) fn identity_problem(
        &self,
        node: &NodeReading,
        key_in_force: &KeyOwner,
    ) -> Option<String> {
        if key_in_force != &KeyOwner::Primary {
            return None;
        }
        let key = node.public_key_hex.trim().to_ascii_lowercase();
        if key != self.keys.primary_key_hex {
            return Some(format!(
                "its identity holds key {key}, not the primary key in force ({}): it cannot propose (restarted with another key?)",
                self.keys.primary_key_hex
            ));
        }
        match node.validator_address.as_deref().map(str::trim) {
            Some(v) if v == self.keys.validator_address => {}
            Some(v) => {
                return Some(format!(
                    "its identity is configured for validator {v}, not ours"
                ))
            }
            None => return Some("its identity is not configured as a validator".into()),
        }
        match &node.consensus {
            NodeConsensus::ValidatingInCurrentEpoch => None,
            // Not known to this version: no evidence it cannot propose (see `early_signal`).
            NodeConsensus::Other(_) => None,
            other => Some(format!(
                "its identity says {} while its key is in force",
                other.as_str()
            )),
        }
    }
}

#[cfg(test)]
#[path = "tests/primary_identity.rs"]
mod tests;
