//! Tests of small_validator.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

/// A validator that leads `turns` rounds in each warm-up epoch (12 polls each, two of them),
/// healthy: the policy has seen an epoch change and knows its size.
fn warmed_up(turns: u64) -> Scenario {
    let mut s = Scenario::new();
    for _ in 0..2 {
        for poll in 0..12u64 {
            let made = turns / 12 + u64::from(poll < turns % 12);
            s.run(1, made, 0);
        }
        s.epoch_change();
    }
    s.run(1, 0, 0);
    s
}

#[test]
fn two_misses_in_a_row_fail_over_a_small_validator() {
    // 7 turns an epoch (0.5 % of mainnet's stake). The primary's System API says UP: only the
    // ledger shows it (a silent failure).
    let mut s = warmed_up(7);
    s.run(2, 0, 0);
    let a = s.lead(0, 1).poll();
    assert!(
        matches!(a.decision, Decision::Suspect { .. }),
        "{:?}",
        a.decision
    );
    s.run(3, 0, 0);
    let a = s.lead(0, 1).poll();
    let reason = failover_reason(&a);
    assert!(
        reason.contains("last 2 leader turns") && reason.contains("7 turns"),
        "{reason}"
    );
}

#[test]
fn a_made_proposal_between_two_misses_is_no_failover() {
    // Misses never two in a row, and never 3 of the last 5 (N of M would act).
    let mut s = warmed_up(7);
    for (made, missed) in [(0, 1), (1, 0), (1, 0), (0, 1), (1, 0), (1, 0), (0, 1)] {
        let a = s.lead(made, missed).poll();
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
}

#[test]
fn a_large_validator_needs_n_of_m() {
    // 60 turns an epoch: two misses in a row are not enough, 3 of 5 is.
    let mut s = warmed_up(60);
    let a = s.lead(0, 2).poll();
    assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    let a = s.lead(0, 1).poll();
    assert!(
        failover_reason(&a).contains("3 of our last"),
        "{}",
        failover_reason(&a)
    );
}

#[test]
fn one_source_alone_cannot_show_two_misses_in_a_row() {
    let mut s = warmed_up(7);
    s.fault("core a", Fault::ExtraMissed(2));
    for a in s.run(6, 0, 0) {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
}

#[test]
fn the_rule_is_off_with_zero_turns_and_before_the_size_is_known() {
    let params = PolicyParams {
        small_validator_turns: 0,
        ..PolicyParams::default()
    };
    let mut s = Scenario::with(params);
    s.run(12, 0, 0);
    s.epoch_change();
    s.run(1, 0, 0);
    let a = s.lead(0, 1).poll();
    assert!(!a.decision.is_fail_over());
    let a = s.lead(0, 1).poll();
    assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    // No epoch change seen yet: the size is unknown, N of M rules.
    let mut s = Scenario::new();
    s.run(2, 0, 0);
    let list = s.run(2, 0, 1);
    assert!(list.iter().all(|a| !a.decision.is_fail_over()));
}
