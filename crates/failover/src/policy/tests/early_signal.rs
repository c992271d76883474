//! Tests of early_signal.

#[allow(unused_imports)]
use super::*;
use crate::observe::NodeConsensus;
use crate::policy::tests::scenario::*;

#[test]
fn dead_primary_with_misses_fails_over_at_the_first_confirmed_miss_once_the_signal_holds() {
    let mut s = Scenario::new();
    s.run(3, 1, 0);
    s.kill_primary();
    // A big validator: it leads (and misses) every poll. 3 polls of System API down make the
    // signal; the standalone rule and the 1-miss threshold both hold by then.
    let list = s.run(6, 0, 1);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter()
            .map(|a| a.decision.describe())
            .collect::<Vec<_>>()
    );
    assert_eq!(list[2].view.miss_threshold, 1);
    assert_eq!(events_of(&list[0], EventKind::PrimaryUnhealthy).len(), 1);
    assert!(events_of(&list[1], EventKind::PrimaryUnhealthy).is_empty());
    assert!(has_warning(&list[0], "primary-unhealthy"));
}

#[test]
fn dead_primary_that_leads_nothing_fails_over_after_primary_down_polls() {
    // A small validator: no proposal in the whole outage so far; the ledger goes on.
    let mut s = Scenario::new();
    s.run(2, 0, 0);
    s.kill_primary();
    let list = s.run(5, 0, 0);
    assert_eq!(first_failover(&list), Some(2));
    let reason = failover_reason(&list[2]);
    assert!(
        reason.contains("3 polls") && reason.contains("advancing"),
        "{reason}"
    );
    assert!(matches!(list[0].decision, Decision::Suspect { .. }));
}

#[test]
fn early_signal_needs_the_ledger_advancing() {
    // The watcher's whole view is stuck (sources frozen but still fresh): the primary's System
    // API being down is no evidence by itself.
    let mut s = Scenario::new();
    s.run(2, 0, 0);
    s.kill_primary();
    for name in ["core a", "core b", "core c", "gateway g"] {
        s.stale(name, 0);
    }
    let list = s.run(4, 0, 0);
    for a in &list {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
    assert!(matches!(list[1].decision, Decision::Suspect { .. }));
    // Once the signal is long enough to act on, it says loudly why it does not.
    assert!(
        blocker(&list[3])
            .contains("only 0 of 4 trusted sources show the ledger advancing, 3 needed"),
        "{}",
        blocker(&list[3])
    );
}

#[test]
fn early_signal_lowers_the_threshold_to_one_confirmed_miss() {
    // Three gateways stuck but still fresh keep the ledger-advancing quorum (3 of 5) from
    // forming, so the signal cannot act alone; one miss confirmed by both Core sources can.
    let mut s = Scenario::new().sources(&[
        ("core a", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("gateway g", SourceKind::Gateway),
        ("gateway h", SourceKind::Gateway),
        ("gateway i", SourceKind::Gateway),
    ]);
    s.run(2, 1, 0);
    for g in ["gateway g", "gateway h", "gateway i"] {
        s.stale(g, 0);
    }
    s.kill_primary();
    let list = s.run(3, 0, 0);
    assert!(
        list.iter().all(|a| !a.decision.is_fail_over()),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
    assert_eq!(list[2].view.miss_threshold, 1);
    let a = s.lead(0, 1).poll();
    let reason = failover_reason(&a);
    assert!(
        reason.contains("1 of our last") && reason.contains("threshold lowered to 1"),
        "{reason}"
    );
}

#[test]
fn early_signal_off_with_zero_primary_down_polls() {
    let mut s = Scenario::with(PolicyParams {
        primary_down_polls: 0,
        ..PolicyParams::default()
    });
    s.run(2, 1, 0);
    s.kill_primary();
    for a in s.run(20, 0, 0) {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
    // Misses still count, at the full threshold of 3.
    let list = s.run(3, 0, 1);
    assert_eq!(first_failover(&list), Some(2));
    assert_eq!(list[2].view.miss_threshold, 3);
}

/// A health or consensus status this version does not know is no early signal: that signal
/// fails over alone (with the ledger advancing), and a status we cannot read is no evidence
/// of a dead primary. The miss rule still acts.
#[test]
fn an_unknown_primary_health_or_consensus_status_is_no_early_signal() {
    let edits: [fn(&mut NodeReading); 2] = [
        |n| n.health = NodeHealth::Other("UP_BUT_DEGRADED".into()),
        |n| n.consensus = NodeConsensus::Other("VALIDATING_HARDER".into()),
    ];
    for edit in edits {
        let mut s = Scenario::new();
        s.run(2, 0, 0);
        if let Some(Ok(n)) = &mut s.primary {
            edit(n);
        }
        for a in s.run(10, 0, 0) {
            assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
            assert_eq!(a.view.primary, PrimaryState::Healthy);
        }
        let list = s.run(6, 0, 1);
        assert!(first_failover(&list).is_some(), "the miss rule still acts");
    }
}

#[test]
fn primary_not_up_or_its_own_misses_rising_is_the_early_signal_too() {
    let mut s = Scenario::new();
    s.run(2, 0, 0);
    if let Some(Ok(n)) = &mut s.primary {
        n.health = NodeHealth::Syncing;
    }
    let list = s.run(3, 0, 0);
    assert!(list[2].decision.is_fail_over(), "{:?}", list[2].decision);

    let mut s = Scenario::new();
    s.run(2, 0, 0);
    let mut list = Vec::new();
    for i in 1..=3 {
        if let Some(Ok(n)) = &mut s.primary {
            n.recent_missed = i;
        }
        list.push(s.poll());
    }
    assert!(
        matches!(&list[0].view.primary, PrimaryState::Unhealthy { reason, .. } if reason.contains("rose from 0 to 1"))
    );
    assert!(list[2].decision.is_fail_over(), "{:?}", list[2].decision);
}

#[test]
fn short_primary_blips_do_not_fail_over() {
    let mut s = Scenario::new();
    for round in 0..50 {
        s.kill_primary();
        s.run(2, 1, 0); // down 2 polls, one short of primary_down_polls
        s.primary = Some(Ok(node(PRIMARY_KEY)));
        let a = s.lead(1, 0).poll();
        assert!(
            !a.decision.is_fail_over(),
            "round {round}: {:?}",
            a.decision
        );
        assert_eq!(events_of(&a, EventKind::PrimaryRecovered).len(), 1);
    }
}

#[test]
fn system_api_down_while_the_primary_keeps_proposing_is_no_failover_and_a_warning() {
    let mut s = Scenario::new();
    s.run(3, 1, 0);
    // Its System API refuses connections for two minutes (24 polls): an nginx reload or a
    // firewall change; the node keeps proposing, as every Core source sees.
    s.kill_primary();
    let list = s.run(24, 1, 0);
    assert!(
        first_failover(&list).is_none(),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
    let a = list.last().unwrap_or_else(|| unreachable!());
    assert!(has_warning(a, "primary-proposing"), "{:?}", a.warnings);
    assert!(has_warning(a, "primary-unhealthy"));
}

#[test]
fn a_proposal_made_just_before_the_primary_died_does_not_veto_the_early_signal() {
    let mut s = Scenario::new();
    s.run(3, 1, 0);
    s.kill_primary();
    // The first poll after the death still carries a proposal made before it.
    s.lead(1, 0).poll();
    let list = s.run(4, 0, 0);
    assert!(
        first_failover(&list).is_some(),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
}

#[test]
fn system_api_unreachable_while_the_primarys_own_core_api_advances_is_no_failover() {
    // A small validator that does not lead for minutes: only its own Core API shows it alive.
    let mut s = Scenario::new().sources(&[
        ("core primary", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("core c", SourceKind::Core),
        ("gateway g", SourceKind::Gateway),
    ]);
    s.run(3, 1, 0);
    s.kill_primary();
    let list = s.run(24, 0, 0);
    assert!(
        first_failover(&list).is_none(),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
    assert!(has_warning(
        list.last().unwrap_or_else(|| unreachable!()),
        "primary-proposing"
    ));
    // Its Core API goes too (the node died): the early signal acts.
    s.fault("core primary", Fault::Down(unreachable()));
    let list = s.run(4, 0, 0);
    assert!(
        first_failover(&list).is_some(),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
}

#[test]
fn the_own_core_veto_holds_on_polls_that_fall_within_one_round() {
    // Found by the fault suite (review_fixes): with short rounds two polls can see the same
    // ledger; the veto must not lapse on such a poll, or the early signal decides (or blocks on
    // "ledger not advancing") for a node that is proposing.
    let mut s = Scenario::new().sources(&[
        ("core primary", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("core c", SourceKind::Core),
        ("gateway g", SourceKind::Gateway),
    ]);
    s.run(3, 1, 0);
    s.kill_primary();
    let mut list = Vec::new();
    for _ in 0..12 {
        list.push(s.poll());
        list.push(s.poll_same_round());
        list.push(s.poll_same_round());
    }
    for a in &list {
        assert!(
            matches!(a.decision, Decision::Suspect { .. } | Decision::Healthy),
            "{:?}",
            a.decision
        );
        assert!(has_warning(a, "primary-proposing"), "{:?}", a.warnings);
    }
    // The node's ledger stops for good (a stuck node, still answering): the veto lapses
    // after OWN_CORE_ALIVE_POLLS polls and the early signal is there again.
    let later: Vec<Assessment> = (0..4).map(|_| s.poll_same_round()).collect();
    assert!(
        later.iter().any(|a| !has_warning(a, "primary-proposing")),
        "{:?}",
        later.iter().map(|a| &a.warnings).collect::<Vec<_>>()
    );
}

#[test]
fn a_primary_refusing_our_pin_or_password_is_no_early_signal() {
    // The primary's nginx refuses our TLS pin (or our password) while the primary validates:
    // however long, that is no sign of the node's health, so the ledger advancing alone never
    // fails it over.
    for refusal in [
        SourceError::Tls("system primary /health: TLS pin mismatch".into()),
        SourceError::Http {
            status: 401,
            message: "401 Authorization Required".into(),
        },
    ] {
        let mut s = Scenario::new();
        s.run(2, 0, 0);
        s.primary = Some(Err(refusal.clone()));
        let list = s.run(8, 0, 0);
        for a in &list {
            assert!(!a.decision.is_fail_over(), "{refusal}: {:?}", a.decision);
            assert!(
                !matches!(a.decision, Decision::Suspect { .. }),
                "{refusal}: {:?}",
                a.decision
            );
        }
    }
}
