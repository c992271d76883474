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
fn a_single_vote_for_the_backup_key_against_a_majority_does_not_block_a_failover() {
    // One source (lying, or ahead) says the backup's key is on ledger; the majority says the
    // primary's. Re-sending update_key(backup) is harmless, so it must not suppress the failover.
    for liar in ["core a", "gateway g"] {
        let mut s = Scenario::new();
        s.run(2, 1, 0);
        s.fault(
            liar,
            Fault::Keys(Some(PRIMARY_KEY.into()), Some(BACKUP_KEY.into())),
        );
        s.kill_primary();
        let list = s.run(4, 0, 1);
        let a = list.last().unwrap_or_else(|| unreachable!());
        assert!(first_failover(&list).is_some(), "{liar}: {:?}", a.decision);
        assert!(has_warning(a, "key-disagreement:key on ledger"));
    }
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
    assert!(blocker(&list[4]).contains("a switch back to the primary is pending"));
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
