//! Tests of source_trust.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

// ---------------------------------------------------------------------------------------------
// Untrusted sources

#[test]
fn one_lying_core_source_never_fails_over_and_is_named() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("core b", Fault::ExtraMissed(5));
    let list = s.run(30, 1, 0);
    for a in &list {
        assert_eq!(a.decision, Decision::Healthy);
        assert!(
            has_warning(a, "source-contradicted:core b"),
            "{:?}",
            a.warnings
        );
        assert_eq!(a.view.trusted_sources, 3);
    }
    assert_eq!(events_of(&list[0], EventKind::SourceDegraded).len(), 1);
    assert!(
        list[1..].iter().all(|a| a.events.is_empty()),
        "events only on change"
    );
    // A liar that climbs slowly (within the tolerance per poll) is caught once it is above.
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    for x in 1..=6 {
        s.fault("core c", Fault::ExtraMissed(x));
        let a = s.lead(1, 0).poll();
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
}

#[test]
fn a_liar_does_not_block_the_honest_sources_from_failing_over() {
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    s.fault("core a", Fault::ExtraMissed(7));
    let list = s.run(3, 0, 1);
    assert_eq!(first_failover(&list), Some(2));
    assert_eq!(list[2].view.realtime_sources, 2);
}

#[test]
fn two_core_sources_that_disagree_are_neither_believed() {
    let mut s = Scenario::new()
        .sources(&[("core a", SourceKind::Core), ("core b", SourceKind::Core)])
        .without_primary();
    s.run(2, 1, 0);
    s.fault("core b", Fault::ExtraMissed(1));
    // core b sees its fake misses grow; core a sees none.
    let mut last = None;
    for x in 1..=6 {
        s.fault("core b", Fault::ExtraMissed(x));
        let a = s.lead(1, 0).poll();
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
        last = Some(a);
    }
    let a = last.unwrap_or_else(|| unreachable!());
    assert!(
        has_warning(&a, "sources-disagree:core a|core b"),
        "{:?}",
        a.warnings
    );
}

#[test]
fn gateway_down_is_a_warning_only() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("gateway g", Fault::Down(SourceError::Timeout(3000)));
    let list = s.run(10, 1, 0);
    for a in &list {
        assert_eq!(a.decision, Decision::Healthy);
        assert!(has_warning(a, "source-failing:gateway g"));
        assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    }
    assert_eq!(events_of(&list[0], EventKind::SourceDegraded).len(), 1);
    assert!(list[1..].iter().all(|a| a.events.is_empty()));
    s.fault("gateway g", Fault::None);
    let a = s.lead(1, 0).poll();
    assert_eq!(events_of(&a, EventKind::SourceRecovered).len(), 1);
    assert!(a.warnings.is_empty());
}

#[test]
fn gateway_down_during_an_outage_then_the_quorum_decides() {
    // The e2e story: the gateway goes down during the outage; the Core quorum still decides.
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    s.fault("gateway g", Fault::Down(unreachable()));
    s.fault("core c", Fault::Down(unreachable()));
    let list = s.run(3, 0, 1);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter()
            .map(|a| a.decision.describe())
            .collect::<Vec<_>>()
    );
}

#[test]
fn lagging_source_is_ignored_and_fresh_ones_decide() {
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    s.stale("core a", 60_000);
    let a = s.lead(1, 0).poll();
    assert!(has_warning(&a, "source-lagging:core a"), "{:?}", a.warnings);
    assert_eq!(a.view.trusted_sources, 3);
    let list = s.run(3, 0, 1);
    assert_eq!(first_failover(&list), Some(2));
    let st = &list[2].view.sources[0];
    assert_eq!(st.name, "core a");
    assert!(matches!(st.trust, SourceTrust::Lagging { lag_ms } if lag_ms > 60_000));
}

#[test]
fn a_stuck_source_becomes_lagging_after_max_source_lag() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.stale("core b", 0);
    // 30 s of lag at 5 s polls: trusted for 6 polls, lagging from the 7th.
    let list = s.run(8, 1, 0);
    let lagging: Vec<bool> = list
        .iter()
        .map(|a| has_warning(a, "source-lagging:core b"))
        .collect();
    assert_eq!(
        lagging,
        vec![false, false, false, false, false, false, true, true]
    );
}

#[test]
fn a_source_in_another_epoch_is_not_trusted() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("core a", Fault::WrongEpoch(99));
    let a = s.lead(1, 0).poll();
    assert!(has_warning(&a, "source-epoch:core a"), "{:?}", a.warnings);
    assert_eq!(a.view.epoch, Some(10));
    assert_eq!(a.decision, Decision::Healthy);
}

#[test]
fn only_one_trusted_source_is_blocked_or_unknown_never_fail_over() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("core b", Fault::Down(unreachable()));
    s.fault("core c", Fault::Down(unreachable()));
    s.fault("gateway g", Fault::Down(unreachable()));
    let a = s.lead(1, 0).poll();
    assert!(
        matches!(&a.decision, Decision::Unknown { reason } if reason.contains("only 1")),
        "{:?}",
        a.decision
    );
    assert!(has_warning(&a, "no-quorum"));
    assert_eq!(events_of(&a, EventKind::ProblemRaised).len(), 1);
    s.kill_primary();
    let list = s.run(10, 0, 1);
    for a in &list {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
    assert!(
        blocker(&list[9]).contains("no quorum"),
        "{:?}",
        list[9].decision
    );
}

#[test]
fn no_trusted_source_at_all_is_unknown() {
    let mut s = Scenario::new();
    for name in ["core a", "core b", "core c", "gateway g"] {
        s.fault(name, Fault::Down(unreachable()));
    }
    s.kill_primary();
    for a in s.run(5, 0, 1) {
        assert!(
            matches!(a.decision, Decision::Unknown { .. }),
            "{:?}",
            a.decision
        );
        assert!(has_warning(&a, "no-trusted-source"));
    }
}

#[test]
fn a_gateway_only_setup_cannot_confirm_misses_but_the_early_signal_acts() {
    // Gateways cannot see misses in real time.
    let mut s = Scenario::new()
        .sources(&[
            ("gateway g", SourceKind::Gateway),
            ("gateway h", SourceKind::Gateway),
        ])
        .without_primary();
    let list = s.run(6, 0, 1);
    for a in &list {
        assert!(
            matches!(a.decision, Decision::Unknown { .. }),
            "{:?}",
            a.decision
        );
    }
    // The early signal still acts: two Gateways are a quorum for "the ledger advances".
    s.primary = Some(Ok(node(PRIMARY_KEY)));
    s.poll();
    s.kill_primary();
    let list = s.run(3, 0, 0);
    assert!(!list[1].decision.is_fail_over());
    assert!(list[2].decision.is_fail_over(), "{:?}", list[2].decision);
}

#[test]
fn with_two_sources_one_claiming_a_far_epoch_does_not_push_out_the_honest_one() {
    for liar_epoch in [99, 1] {
        let mut s =
            Scenario::new().sources(&[("core a", SourceKind::Core), ("core b", SourceKind::Core)]);
        s.run(2, 1, 0);
        s.fault("core b", Fault::WrongEpoch(liar_epoch));
        let a = s.lead(1, 0).poll();
        assert!(has_warning(&a, "source-epoch:core b"), "{:?}", a.warnings);
        assert!(!has_warning(&a, "source-epoch:core a"), "{:?}", a.warnings);
        assert_eq!(a.view.sources[0].trust, SourceTrust::Trusted);
        assert_eq!(a.view.epoch, Some(10));
    }
}

#[test]
fn a_source_whose_ledger_is_ahead_of_the_watchers_clock_is_not_trusted() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    // A little ahead is clock jitter between the proposer and the watcher: still trusted.
    s.fault(
        "core a",
        Fault::ClockAhead(CLOCK_AHEAD_TOLERANCE_MS as i64 - 1_000),
    );
    let a = s.lead(1, 0).poll();
    assert_eq!(
        a.view.sources[0].trust,
        SourceTrust::Trusted,
        "{:?}",
        a.warnings
    );
    s.fault("core a", Fault::ClockAhead(60_000));
    let a = s.lead(1, 0).poll();
    assert!(
        has_warning(&a, "source-clock-ahead:core a"),
        "{:?}",
        a.warnings
    );
    assert!(!has_warning(&a, "watcher-clock"), "{:?}", a.warnings);
    assert_eq!(a.view.trusted_sources, 3);
}

#[test]
fn when_every_source_is_ahead_the_watchers_clock_is_named() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    for n in ["core a", "core b", "core c", "gateway g"] {
        s.fault(n, Fault::ClockAhead(120_000));
    }
    let a = s.lead(1, 0).poll();
    assert_eq!(a.view.trusted_sources, 0);
    let w = a
        .warnings
        .iter()
        .find(|w| w.key == "watcher-clock")
        .expect("watcher-clock warning");
    assert!(w.message.contains("this machine's clock"), "{}", w.message);
    assert!(!a.decision.is_fail_over());
}
