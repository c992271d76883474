//! Tests of miss_window.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

// ---------------------------------------------------------------------------------------------
// Healthy

#[test]
fn healthy_forever_never_fails_over() {
    let mut s = Scenario::new();
    for poll in 0..600 {
        if poll % 60 == 59 {
            s.epoch_change();
        }
        let a = s.lead(1, 0).poll();
        assert_eq!(
            a.decision,
            Decision::Healthy,
            "poll {poll}: {:?}",
            a.warnings
        );
        assert!(a.warnings.is_empty(), "poll {poll}: {:?}", a.warnings);
    }
    let a = s.poll();
    assert_eq!(a.view.trusted_sources, 4);
    assert_eq!(a.view.realtime_sources, 3);
    assert_eq!(a.view.quorum, 2);
    assert_eq!(a.view.key_in_force, KeyOwner::Primary);
    assert_eq!(a.view.key_on_ledger, KeyOwner::Primary);
    assert_eq!(a.view.recent_tracked, 5);
    assert_eq!(a.view.recent_missed, 0);
    assert_eq!(a.view.primary, PrimaryState::Healthy);
    assert_eq!(a.view.backup_ready, Ok(()));
    assert!(!a.view.backup_validating);
}

#[test]
fn counts_seen_at_start_are_a_baseline_not_misses() {
    // The daemon starts late in an epoch in which the primary missed 10 (long ago, or now:
    // their order is unknown). That alone must not fail over; new misses do.
    let mut s = Scenario::new();
    s.made = 40;
    s.missed = 10;
    let a = s.poll();
    assert_eq!(a.decision, Decision::Healthy);
    assert_eq!(a.view.epoch_missed, Some(10));
    assert_eq!(a.view.recent_tracked, 0);
    let list = s.run(3, 0, 1);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// The primary dies

#[test]
fn misses_alone_fail_over_at_the_nth_miss_with_approaching_event() {
    let mut s = Scenario::new().without_primary();
    s.run(3, 2, 0);
    let a1 = s.lead(0, 1).poll();
    assert!(
        matches!(a1.decision, Decision::Suspect { .. }),
        "{:?}",
        a1.decision
    );
    assert!(events_of(&a1, EventKind::MissesApproaching).is_empty());
    let a2 = s.lead(0, 1).poll();
    assert!(matches!(a2.decision, Decision::Suspect { .. }));
    assert_eq!(
        events_of(&a2, EventKind::MissesApproaching).len(),
        1,
        "N-1 = 2 misses: {:?}",
        a2.events
    );
    let a3 = s.lead(0, 1).poll();
    let reason = failover_reason(&a3);
    assert!(reason.contains("3 of our last 5"), "{reason}");
    assert_eq!(a3.view.recent_missed, 3);
    // It keeps saying so until the key changes on ledger; then never again.
    assert!(s.lead(0, 1).poll().decision.is_fail_over());
    s.key_on_ledger = BACKUP_KEY.into();
    for a in s.run(20, 0, 1) {
        assert_eq!(a.decision, Decision::AlreadyFailedOver);
    }
}

#[test]
fn made_before_missed_within_a_poll_is_pessimistic() {
    // One poll with 2 made and 3 missed: whatever the true order, 3 of the last 5 are missed.
    let mut s = Scenario::new().without_primary();
    s.run(2, 3, 0);
    let a = s.lead(2, 3).poll();
    assert!(a.decision.is_fail_over(), "{:?}", a.decision);
}

// ---------------------------------------------------------------------------------------------
// Epochs

#[test]
fn epoch_change_mid_outage_keeps_the_window() {
    let mut s = Scenario::new().without_primary();
    s.run(3, 2, 0);
    let before = s.run(2, 0, 1);
    assert!(before.iter().all(|a| !a.decision.is_fail_over()));
    s.epoch_change();
    let a = s.lead(0, 1).poll();
    assert_eq!(a.view.epoch_missed, Some(1));
    assert_eq!(a.view.recent_missed, 3);
    assert!(a.decision.is_fail_over(), "{:?}", a.decision);
}

#[test]
fn counters_restart_from_zero_in_a_new_epoch() {
    let mut s = Scenario::new().without_primary();
    s.run(3, 10, 0);
    s.lead(5, 1).poll();
    // New epoch: counts 3 made, 0 missed. Deltas from 0, not from the old epoch's 35/1.
    s.epoch_change();
    let a = s.lead(3, 0).poll();
    assert_eq!(a.view.epoch_made, Some(3));
    assert_eq!(a.view.epoch_missed, Some(0));
    assert_eq!(a.view.recent_tracked, 5);
    // Window: ..., made, made(5th of the poll), missed, then 3 made: 1 missed of the last 5.
    assert_eq!(a.view.recent_missed, 1);
    let a = s.lead(2, 0).poll();
    assert_eq!(a.view.recent_missed, 0);
    assert_eq!(a.decision, Decision::Healthy);
}

#[test]
fn sources_straddling_an_epoch_change_stay_trusted() {
    let mut s = Scenario::new();
    s.run(2, 1, 0);
    s.fault("core a", Fault::WrongEpoch(9));
    let a = s.lead(1, 0).poll();
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(a.decision, Decision::Healthy);
}

#[test]
fn a_long_gap_with_scattered_misses_is_not_a_burst() {
    // The watcher loses every source for 2 minutes; meanwhile the healthy validator made 40
    // and missed 2, scattered. Back online, the delta is spread, not piled up at the end.
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    for name in ["core a", "core b", "core c", "gateway g"] {
        s.fault(name, Fault::Down(unreachable()));
    }
    s.run(23, 2, 0);
    s.lead(0, 2);
    for name in ["core a", "core b", "core c", "gateway g"] {
        s.fault(name, Fault::None);
    }
    let a = s.poll();
    assert!(a.view.recent_missed <= 1, "{}", a.view.summary_line());
    assert!(!a.decision.is_fail_over());
    // While a gap made of misses only is still a burst.
    let mut s = Scenario::new().without_primary();
    s.run(2, 1, 0);
    for name in ["core a", "core b", "core c"] {
        s.fault(name, Fault::Down(unreachable()));
    }
    s.run(5, 0, 1);
    for name in ["core a", "core b", "core c"] {
        s.fault(name, Fault::None);
    }
    assert!(s.poll().decision.is_fail_over());
}

// ---------------------------------------------------------------------------------------------
// Helpers, checked by hand

#[test]
fn feed_window_orders_as_documented() {
    let fed = |made, missed, one_poll| {
        let mut w = VecDeque::new();
        feed_window(&mut w, ProposalCounts { made, missed }, 5, one_poll);
        w.into_iter()
            .map(|x| if x { 'x' } else { '.' })
            .collect::<String>()
    };
    // One poll: made first, misses last.
    assert_eq!(fed(2, 2, true), "..xx");
    assert_eq!(fed(9, 1, true), "....x");
    // A gap: misses spread evenly; of 20 with 5 missed (every 4th), the last 5 hold 1.
    assert_eq!(fed(15, 5, false), "..x..");
    assert_eq!(fed(0, 7, false), "xxxxx");
    assert_eq!(fed(3, 0, false), "...");
    assert_eq!(fed(0, 0, true), "");
}

#[test]
fn kth_largest_is_what_k_sources_all_reach() {
    assert_eq!(kth_largest(vec![3, 0, 3], 2), Some(3));
    assert_eq!(kth_largest(vec![3, 0, 1], 2), Some(1));
    assert_eq!(kth_largest(vec![5], 2), Some(5));
    assert_eq!(kth_largest(vec![], 2), None);
}

// ---------------------------------------------------------------------------------------------
// Numbers from answers (issue 11 item 12): any u64 counts, never a panic or a wrap.

#[test]
fn feed_window_takes_any_u64_counts() {
    let fed = |made, missed, one_poll| {
        let mut w = VecDeque::new();
        feed_window(&mut w, ProposalCounts { made, missed }, 5, one_poll);
        w.into_iter()
            .map(|x| if x { 'x' } else { '.' })
            .collect::<String>()
    };
    // 2 * i * missed would overflow u128 here; the rounding is done without the factor 2.
    assert_eq!(fed(0, u64::MAX, false), "xxxxx");
    assert_eq!(fed(0, u64::MAX - 1, false), "xxxxx");
    // Half missed: every other one, as for small counts (fed(2, 2, false) is "x.x.").
    assert_eq!(fed(2, 2, false), "x.x.");
    assert_eq!(fed(u64::MAX / 2, u64::MAX / 2, false), ".x.x.");
    assert_eq!(fed(u64::MAX - 1, 1, false), ".....");
    // made + missed past u64::MAX saturates; the misses still go last (pessimistic).
    assert_eq!(fed(u64::MAX, u64::MAX, true), "xxxxx");
    assert_eq!(fed(u64::MAX, 3, true), "..xxx");
}

#[test]
fn count_delta_of_u64_extremes_neither_panics_nor_wraps() {
    let c = |made, missed| ProposalCounts { made, missed };
    // Backwards counts are no delta, whatever their size.
    assert_eq!(count_delta(Some((7, c(u64::MAX, 0))), 7, c(0, 0)), None);
    assert_eq!(
        count_delta(Some((7, c(0, 0))), 7, c(u64::MAX, u64::MAX)),
        Some(c(u64::MAX, u64::MAX))
    );
    assert_eq!(
        count_delta(Some((u64::MAX - 1, c(1, 1))), u64::MAX, c(0, u64::MAX)),
        Some(c(0, u64::MAX))
    );
}

/// One Core source answers a next epoch with our missed count at u64::MAX - 1 (and the other
/// validators' too): the policy takes it without a panic, and that one source does not fail
/// the validator over.
#[test]
fn a_source_with_huge_counts_is_no_panic_and_no_failover_alone() {
    let mut s = Scenario::new();
    s.run(3, 1, 0);
    let mut liar = s.truth(SourceKind::Core);
    liar.epoch += 1;
    liar.current_epoch = Some(ProposalCounts {
        made: 0,
        missed: u64::MAX - 1,
    });
    liar.others_current_epoch = Some(ProposalCounts {
        made: 1,
        missed: u64::MAX - 1,
    });
    s.fault("core a", Fault::Frozen(liar));
    for poll in 0..5 {
        let a = s.lead(1, 0).poll();
        assert!(
            !matches!(a.decision, Decision::FailOver { .. }),
            "poll {poll}: {:?}",
            a.decision
        );
    }
}
