//! Tests of epoch_deadline.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

#[test]
fn the_clock_learns_an_epoch_from_two_changes_seen() {
    let mut c = EpochClock::default();
    c.observe(5, 1_000);
    assert_eq!(
        c.time_left_ms(2_000),
        None,
        "the start of epoch 5 was not seen"
    );
    c.observe(6, 10_000);
    assert_eq!(c.time_left_ms(12_000), None, "no whole epoch seen yet");
    c.observe(6, 50_000);
    c.observe(7, 70_000);
    assert_eq!(c.time_left_ms(80_000), Some(50_000), "60 s epochs");
    // A jump of two epochs: the start is unknown again, the length is kept.
    c.observe(9, 200_000);
    assert_eq!(c.time_left_ms(210_000), None);
    c.observe(10, 260_000);
    assert_eq!(c.time_left_ms(300_000), Some(20_000));
}

/// A small validator (7 turns an epoch) watched through three epochs of 12 polls (60 s), then
/// into the fourth epoch by `polls` polls.
fn into_an_epoch(polls: usize) -> Scenario {
    let mut s = Scenario::new();
    for _ in 0..3 {
        for poll in 0..12 {
            s.run(1, u64::from(poll % 2 == 0 && poll < 14), 0);
        }
        s.epoch_change();
    }
    s.run(polls, 0, 0);
    s
}

#[test]
fn one_miss_in_the_last_polls_of_an_epoch_fails_over_a_small_validator() {
    // 60 s epochs: after 10 polls of the new one, 10 s are left (within 3 polls of 5 s).
    let mut s = into_an_epoch(9);
    let a = s.lead(0, 1).poll();
    let reason = failover_reason(&a);
    assert!(
        reason.contains("expected to end in") && reason.contains("next epoch"),
        "{reason}"
    );
}

#[test]
fn one_miss_early_in_the_epoch_waits_for_more() {
    let mut s = into_an_epoch(3);
    let a = s.lead(0, 1).poll();
    assert!(
        matches!(a.decision, Decision::Suspect { .. }),
        "{:?}",
        a.decision
    );
    // The next turn is made: it was a background miss, and the epoch's end finds none.
    s.lead(1, 0).poll();
    for a in s.run(7, 0, 0) {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
}

#[test]
fn the_rule_is_off_with_zero_polls() {
    let params = PolicyParams {
        epoch_end_polls: 0,
        ..PolicyParams::default()
    };
    let mut s = Scenario::with(params);
    for _ in 0..3 {
        s.run(12, 0, 0);
        s.epoch_change();
    }
    s.run(9, 0, 0);
    let a = s.lead(0, 1).poll();
    assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
}
