//! A passed pre-flight is checked again once per epoch for what can change behind the
//! watcher's back: the owner badge leaving the account, the XRD for the fee running low, the
//! validator unregistered or its key rotated by someone else. A pre-flight that passed at
//! start-up would otherwise stay "armed" for months while the failover it promises can no
//! longer commit.
//!
//! A re-check that finds such a change disarms: the pre-flight counts as failed (the
//! `preflight-failed` warning and alert name the change and its fix), and the full pre-flight
//! is retried as after any failure, re-arming once it passes. A re-check that could not read
//! its sources keeps the last pass: a gateway down for a poll says nothing about the badge,
//! and must not disarm a failover the quorum still allows.
//!
//! Pure: the runner reads the checks (`preflight::recheck`) and applies the outcome.

use crate::preflight::{Check, PreflightReport};

/// What one re-check does to a passed pre-flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecheckOutcome {
    /// Everything re-checked still passes.
    StillPasses,
    /// Some check could not read its sources: the last pass stands. The reasons, for the log.
    Unread(Vec<String>),
    /// What the sources said breaks the pre-flight: the report with the re-checked results in
    /// place of the old ones (it no longer passes).
    Broken(PreflightReport),
}

/// A re-check is due on the first poll of an epoch after the one the pre-flight last ran in.
pub fn recheck_due(last_run_epoch: Option<u64>, epoch: u64) -> bool {
    last_run_epoch.is_some_and(|e| epoch > e)
}

/// The outcome of re-checking `passed` with the fresh results `rechecked`.
pub fn recheck_outcome(passed: &PreflightReport, rechecked: Vec<Check>) -> RecheckOutcome {
    if rechecked.iter().all(|c| c.pass) {
        return RecheckOutcome::StillPasses;
    }
    if rechecked.iter().any(|c| !c.pass && !c.unread) {
        let mut report = passed.clone();
        for fresh in rechecked {
            match report.checks.iter_mut().find(|c| c.name == fresh.name) {
                Some(old) => *old = fresh,
                None => report.checks.push(fresh),
            }
        }
        return RecheckOutcome::Broken(report);
    }
    RecheckOutcome::Unread(
        rechecked
            .into_iter()
            .filter(|c| !c.pass)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &'static str, pass: bool, unread: bool) -> Check {
        Check {
            name,
            pass,
            detail: format!("{name} detail"),
            unread,
        }
    }

    fn passed() -> PreflightReport {
        PreflightReport {
            checks: ["sources", "validator", "account", "backup", "preview"]
                .into_iter()
                .map(|n| c(n, true, false))
                .collect(),
            key_on_ledger_is_backup: false,
        }
    }

    #[test]
    fn due_once_per_epoch_after_the_last_run() {
        assert!(!recheck_due(None, 7), "never before a first pre-flight");
        assert!(!recheck_due(Some(7), 7));
        assert!(recheck_due(Some(7), 8));
        assert!(recheck_due(Some(7), 10));
        assert!(
            !recheck_due(Some(7), 6),
            "an epoch seen going back is no new epoch"
        );
    }

    #[test]
    fn a_recheck_that_passes_keeps_the_pass() {
        let out = recheck_outcome(
            &passed(),
            vec![c("validator", true, false), c("account", true, false)],
        );
        assert_eq!(out, RecheckOutcome::StillPasses);
    }

    #[test]
    fn a_moved_badge_disarms_with_the_fresh_reason() {
        let mut gone = c("account", false, false);
        gone.detail = "it does not hold the validator's owner badge".into();
        let out = recheck_outcome(&passed(), vec![c("validator", true, false), gone]);
        let RecheckOutcome::Broken(report) = out else {
            panic!("a definite failure must disarm: {out:?}");
        };
        assert!(!report.ok());
        let failures: Vec<_> = report.failures().collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].name, "account");
        assert!(failures[0].detail.contains("owner badge"));
        // The other checks of the pass are kept as they were, in their order.
        let names: Vec<_> = report.checks.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            ["sources", "validator", "account", "backup", "preview"]
        );
    }

    #[test]
    fn an_unreadable_source_keeps_the_pass() {
        let out = recheck_outcome(
            &passed(),
            vec![c("validator", true, false), c("account", false, true)],
        );
        assert_eq!(
            out,
            RecheckOutcome::Unread(vec!["account: account detail".into()])
        );
    }

    #[test]
    fn a_definite_failure_wins_over_an_unreadable_one() {
        let out = recheck_outcome(
            &passed(),
            vec![c("validator", false, false), c("account", false, true)],
        );
        assert!(matches!(out, RecheckOutcome::Broken(r) if !r.ok()));
    }
}
