//! A config that can never fail over is refused; one that is only weak is warned about.
//!
//! Once the primary is dead, its own Core API (`core primary`) is gone with it. What is left
//! must be able to act:
//! - the early signal (rule 3) needs the primary's System API and `min_confirming_sources`
//!   ledger sources (Gateways count) showing the ledger advancing;
//! - the miss rule (rule 2, and 2b/2c) needs `min_confirming_sources` Core APIs that see the
//!   misses in real time.
//!
//! If neither can, no failover will ever happen: the config is refused at `config check` and
//! at start-up, naming what to add. If only the early signal can, a primary that stays up but
//! stops proposing (it answers, healthy, and misses its rounds) is never failed over: a warning.

use super::Config;
use crate::observe::SourceKind;
use crate::policy::PRIMARY_CORE_SOURCE;

/// What is left to decide a failover once the primary is dead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reach {
    /// Ledger sources other than the primary's own Core API.
    pub ledger: Vec<String>,
    /// Of those, the Core APIs.
    pub core: usize,
    pub min_confirming: usize,
    /// The early signal is on (`primary_down_polls > 0`) and the primary's System API is set.
    pub early_signal: bool,
}

impl Reach {
    pub(super) fn of(config: &Config) -> Reach {
        let left: Vec<_> = config
            .sources
            .iter()
            .filter(|s| s.name != PRIMARY_CORE_SOURCE)
            .collect();
        Reach {
            ledger: left.iter().map(|s| s.name.clone()).collect(),
            core: left.iter().filter(|s| s.kind == SourceKind::Core).count(),
            min_confirming: config.policy.min_confirming_sources as usize,
            early_signal: config.policy.primary_down_polls > 0
                && config.primary.system_api.is_some(),
        }
    }

    /// The early signal can fail a dead primary over.
    fn early_signal_can_act(&self) -> bool {
        self.early_signal && self.ledger.len() >= self.min_confirming
    }

    /// The miss rule can confirm a dead or silent primary's misses.
    fn miss_rule_can_act(&self) -> bool {
        self.core >= self.min_confirming
    }

    fn left(&self) -> String {
        if self.ledger.is_empty() {
            "none".into()
        } else {
            self.ledger.join(", ")
        }
    }

    /// Why this config can never fail over, if it cannot.
    pub(super) fn never_fails_over(&self) -> Option<String> {
        if self.early_signal_can_act() || self.miss_rule_can_act() {
            return None;
        }
        let early = if self.early_signal {
            format!(
                "the early signal needs {} ledger sources besides the primary's own Core API",
                self.min_confirming
            )
        } else {
            "the early signal is off (no [primary] system_api, or policy.primary_down_polls = 0)"
                .to_string()
        };
        Some(format!(
            "this config can never fail over: once the primary is dead, {} ledger source(s) are left ({}), {} of them Core APIs; {early}, and the miss rule needs {} Core APIs besides the primary's",
            self.ledger.len(),
            self.left(),
            self.core,
            self.min_confirming
        ))
    }

    /// Why this config is weak, if it is (it can fail over, but not every failure).
    pub(super) fn weaknesses(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.never_fails_over().is_some() {
            return out;
        }
        if !self.miss_rule_can_act() {
            out.push(format!(
                "only {} Core API(s) besides the primary's can confirm its misses (policy.min_confirming_sources = {}): a primary that stays up but stops proposing is never failed over, only a dead one (fix: add the Core API of the backup as [backup] core_api, or other nodes' under [sources] core_apis)",
                self.core, self.min_confirming
            ));
        }
        if !self.early_signal_can_act() {
            out.push("the early signal cannot act (no [primary] system_api, policy.primary_down_polls = 0, or too few ledger sources besides the primary's): a dead primary is failed over only on its confirmed misses, which for a small validator can take minutes (fix: set [primary] system_api, and keep primary_down_polls above 0)".to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(ledger: &[&str], core: usize, early_signal: bool) -> Reach {
        Reach {
            ledger: ledger.iter().map(|s| s.to_string()).collect(),
            core,
            min_confirming: 2,
            early_signal,
        }
    }

    #[test]
    fn only_one_source_besides_the_primary_can_never_fail_over() {
        let r = reach(&["gateway g"], 0, true);
        let why = r.never_fails_over().expect("refused");
        assert!(
            why.contains("1 ledger source(s) are left (gateway g)"),
            "{why}"
        );
        assert!(r.weaknesses().is_empty(), "refused, not warned");
    }

    #[test]
    fn no_early_signal_and_too_few_core_apis_can_never_fail_over() {
        let r = reach(&["gateway g", "gateway h", "core backup"], 1, false);
        let why = r.never_fails_over().expect("refused");
        assert!(why.contains("the early signal is off"), "{why}");
    }

    #[test]
    fn gateways_alone_fail_over_a_dead_primary_but_not_a_silent_one() {
        let r = reach(&["gateway g", "gateway h"], 0, true);
        assert_eq!(r.never_fails_over(), None);
        let w = r.weaknesses();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("stays up but stops proposing"), "{w:?}");
    }

    #[test]
    fn two_core_apis_besides_the_primary_can_do_everything() {
        let r = reach(&["gateway g", "core backup", "core a"], 2, true);
        assert_eq!(r.never_fails_over(), None);
        assert!(r.weaknesses().is_empty());
        // Without the early signal: it still can, on the misses, but slowly.
        let r = reach(&["gateway g", "core backup", "core a"], 2, false);
        assert_eq!(r.never_fails_over(), None);
        let w = r.weaknesses();
        assert!(
            w.len() == 1 && w[0].contains("early signal cannot act"),
            "{w:?}"
        );
    }
}
