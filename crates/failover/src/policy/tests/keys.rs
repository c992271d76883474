//! Tests of keys.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

// ---------------------------------------------------------------------------------------------
// Never twice, never back

#[test]
fn backup_key_on_ledger_is_already_failed_over() {
    let mut s = Scenario::new();
    s.key_on_ledger = BACKUP_KEY.into();
    s.kill_primary();
    for a in s.run(10, 0, 1) {
        assert_eq!(a.decision, Decision::AlreadyFailedOver);
        assert_eq!(a.view.key_on_ledger, KeyOwner::Backup);
        assert_eq!(a.view.key_in_force, KeyOwner::Primary);
    }
    s.epoch_change();
    s.backup_node(|n| n.consensus = NodeConsensus::ValidatingInCurrentEpoch);
    let a = s.poll();
    assert_eq!(a.decision, Decision::AlreadyFailedOver);
    assert_eq!(a.view.key_in_force, KeyOwner::Backup);
    assert!(a.view.backup_validating);
    assert_eq!(events_of(&a, EventKind::KeyChanged).len(), 1);
    assert_eq!(events_of(&a, EventKind::EpochChanged).len(), 1);
}

#[test]
fn a_minority_saying_backup_blocks_instead_of_a_second_failover() {
    let a = outage_with(|s| {
        s.fault(
            "core a",
            Fault::Keys(Some(PRIMARY_KEY.into()), Some(BACKUP_KEY.into())),
        );
    });
    assert_blocked_by(&a, "a failover may already have happened");
    assert!(has_warning(&a, "key-disagreement:key on ledger"));
}

#[test]
fn an_unexpected_key_on_ledger_blocks() {
    let a = outage_with(|s| s.key_on_ledger = OTHER_KEY.into());
    assert_blocked_by(&a, "neither the primary's nor the backup's");
    assert!(has_warning(&a, "key-unexpected"));
}

#[test]
fn a_pending_failback_is_not_failed_over_again() {
    // Failed over earlier, then a manual fail-back: the primary's key is on ledger, the
    // backup's in force until the epoch ends. Misses now are the backup node's business.
    let mut s = Scenario::new();
    s.key_in_force = Some(BACKUP_KEY.into());
    s.kill_primary();
    let list = s.run(5, 0, 1);
    assert!(list.iter().all(|a| !a.decision.is_fail_over()));
    assert!(blocker(&list[4]).contains("fail-back is pending"));
    // The fail-back takes effect: the windows held the backup's misses and start afresh for
    // the primary, which is not failed over for the other node's misses.
    s.primary = Some(Ok(node(PRIMARY_KEY)));
    s.epoch_change();
    let a = s.lead(1, 0).poll();
    assert_eq!(a.view.key_in_force, KeyOwner::Primary);
    assert_eq!((a.view.recent_missed, a.view.recent_tracked), (0, 1));
    assert_eq!(a.decision, Decision::Healthy);
}

#[test]
fn validator_out_of_the_active_set_is_said() {
    let mut s = Scenario::new();
    s.key_in_force = None;
    let a = s.poll();
    assert_eq!(a.view.key_in_force, KeyOwner::NotInActiveSet);
    assert!(has_warning(&a, "not-in-active-set"));
    // The early signal needs the primary's key in force.
    s.kill_primary();
    for a in s.run(6, 0, 0) {
        assert!(!a.decision.is_fail_over(), "{:?}", a.decision);
    }
}
