//! Tests of legacy.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

// ---------------------------------------------------------------------------------------------
// Legacy

fn legacy() -> Scenario {
    Scenario::with(PolicyParams {
        name: PolicyName::Legacy,
        ..PolicyParams::default()
    })
    .without_primary()
}

#[test]
fn legacy_fires_above_five_finished_misses_not_at_five() {
    let mut s = legacy();
    s.lead(20, 3).poll();
    s.epoch_change();
    s.lead(20, 2).poll();
    s.epoch_change();
    // Finished epochs 10..=11 (window of 3 incl. the current 12): 5 missed.
    let a = s.lead(0, 10).poll();
    assert_eq!(a.view.finished_missed, Some(5));
    assert!(
        matches!(&a.decision, Decision::Suspect { .. }),
        "{:?}",
        a.decision
    );
    // Current-epoch misses (10 so far) do not count in the legacy rule; the next epoch's do.
    s.epoch_change();
    // Window now 11..=12: 2 + 10 = 12 missed.
    let a = s.poll();
    assert_eq!(a.view.finished_missed, Some(12));
    let reason = failover_reason(&a);
    assert!(
        reason.contains("12 missed proposals in finished epochs 11..=12"),
        "{reason}"
    );

    let mut s = legacy();
    s.lead(20, 6).poll();
    s.epoch_change();
    assert!(s.poll().decision.is_fail_over(), "6 > 5");
}

#[test]
fn legacy_ignores_core_counts_and_the_early_signal_and_keeps_the_gates() {
    let mut s = legacy();
    s.primary = Some(Err(unreachable()));
    for a in s.run(10, 0, 1) {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
    s.epoch_change();
    s.backup = Some(Err(unreachable()));
    let a = s.poll();
    assert!(blocker(&a).contains("backup not ready"));
    s.key_on_ledger = BACKUP_KEY.into();
    assert_eq!(s.poll().decision, Decision::AlreadyFailedOver);
}

#[test]
fn legacy_needs_a_majority_of_the_trusted_gateways() {
    let mut s = legacy().sources(&[
        ("gateway g", SourceKind::Gateway),
        ("gateway h", SourceKind::Gateway),
        ("gateway i", SourceKind::Gateway),
    ]);
    s.lead(20, 0).poll();
    s.epoch_change();
    s.fault("gateway h", Fault::FinishedMissed(9));
    let a = s.poll();
    assert!(
        matches!(&a.decision, Decision::Suspect { reason } if reason.contains("1 of 3")),
        "{:?}",
        a.decision
    );
    s.fault("gateway i", Fault::FinishedMissed(7));
    let a = s.poll();
    assert!(a.decision.is_fail_over(), "{:?}", a.decision);
    // A lagging gateway counts for nothing.
    s.stale("gateway i", 60_000);
    assert!(!s.poll().decision.is_fail_over());
}

#[test]
fn legacy_without_a_gateway_is_unknown() {
    let mut s = legacy().sources(&[("core a", SourceKind::Core), ("core b", SourceKind::Core)]);
    let a = s.poll();
    assert!(
        matches!(&a.decision, Decision::Unknown { reason } if reason.contains("no trusted Gateway"))
    );
}
