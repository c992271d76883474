//! Tests of primary_ledger.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

fn with_primary_core() -> Scenario {
    Scenario::new().sources(&[
        ("core primary", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("core c", SourceKind::Core),
        ("gateway g", SourceKind::Gateway),
    ])
}

#[test]
fn a_stuck_primary_whose_health_still_says_up_is_failed_over() {
    // Its APIs answer and its health says UP (a stuck node does not know it is stuck), but its
    // own ledger stands still while the network's goes on. No proposal of ours is due.
    let mut s = with_primary_core();
    s.run(3, 0, 0);
    s.stale("core primary", 0);
    let list = s.run(4, 0, 0);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
    assert!(
        failover_reason(&list[2]).contains("stood still"),
        "{}",
        failover_reason(&list[2])
    );
}

#[test]
fn polls_within_one_round_are_no_stall() {
    // Nothing moves on these polls, the network's ledger neither: no evidence either way.
    let mut s = with_primary_core();
    s.run(3, 0, 0);
    for _ in 0..6 {
        let a = s.poll_same_round();
        assert_eq!(a.view.primary, PrimaryState::Healthy, "{:?}", a.decision);
    }
    let a = s.poll();
    assert_eq!(a.view.primary, PrimaryState::Healthy);
}

#[test]
fn a_primary_core_api_that_moves_again_ends_the_stall() {
    let mut s = with_primary_core();
    s.run(3, 0, 0);
    s.stale("core primary", 0);
    let list = s.run(2, 0, 0);
    assert!(matches!(
        list[1].view.primary,
        PrimaryState::Unhealthy {
            consecutive_polls: 2,
            ..
        }
    ));
    s.fault("core primary", Fault::None);
    let a = s.poll();
    assert_eq!(
        a.view.primary,
        PrimaryState::Healthy,
        "{:?}",
        a.view.primary
    );
    assert!(!a.decision.is_fail_over());
}

#[test]
fn after_a_rearm_the_backups_own_core_api_is_the_one_watched_for_a_stall() {
    // Rule 10: the roles swapped, the configured backup is the active node, so its own Core
    // API (`core backup`) is the one whose stall fails over, and messages name it.
    use crate::roles::{Node, Roles};
    let mut s = Scenario::new().sources(&[
        ("core backup", SourceKind::Core),
        ("core primary", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("core c", SourceKind::Core),
        ("gateway g", SourceKind::Gateway),
    ]);
    s.policy = s.policy.clone().with_roles(Roles::new(Node::Backup));
    s.run(3, 0, 0);
    s.stale("core backup", 0);
    let list = s.run(4, 0, 0);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
    assert!(failover_reason(&list[2]).contains("stood still"));
    assert!(
        list[2].view.summary_line().contains("| backup DOWN"),
        "{}",
        list[2].view.summary_line()
    );
    assert_eq!(list[2].view.active_node, Node::Backup);

    // The configured primary's Core API standing still is the standby's problem, not the
    // active node's: no early signal.
    let mut s = Scenario::new().sources(&[
        ("core backup", SourceKind::Core),
        ("core primary", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("core c", SourceKind::Core),
        ("gateway g", SourceKind::Gateway),
    ]);
    s.policy = s.policy.clone().with_roles(Roles::new(Node::Backup));
    s.run(3, 0, 0);
    s.stale("core primary", 0);
    let list = s.run(4, 0, 0);
    assert_eq!(first_failover(&list), None);
    assert!(list.iter().all(|a| a.view.primary == PrimaryState::Healthy));
}
