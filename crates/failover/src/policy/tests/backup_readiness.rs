//! Tests of backup_readiness.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

// ---------------------------------------------------------------------------------------------
// Gates

#[test]
fn backup_not_synced_blocks() {
    let a = outage_with(|s| {
        s.backup_node(|n| {
            n.health = NodeHealth::Syncing;
            n.detail = "12 versions behind".into();
        });
    });
    assert_blocked_by(
        &a,
        "backup not ready: its health is SYNCING (12 versions behind)",
    );
    assert!(has_warning(&a, "backup-not-ready"));
}

#[test]
fn backup_with_an_unknown_health_or_consensus_status_blocks_with_its_text() {
    let a = outage_with(|s| {
        s.backup_node(|n| n.health = NodeHealth::Other("UP_BUT_DEGRADED".into()));
    });
    assert_blocked_by(
        &a,
        "backup not ready: its health is UP_BUT_DEGRADED (a status this version does not know)",
    );
    let a = outage_with(|s| {
        s.backup_node(|n| n.consensus = NodeConsensus::Other("VALIDATING_AS_BACKUP".into()));
    });
    assert_blocked_by(
        &a,
        "backup not ready: its consensus status is VALIDATING_AS_BACKUP, which this version does not know",
    );
}

#[test]
fn backup_for_another_validator_blocks() {
    let a = outage_with(|s| {
        s.backup_node(|n| n.validator_address = Some("validator_sim1other".into()));
    });
    assert_blocked_by(&a, "configured for validator validator_sim1other, not ours");
    let a = outage_with(|s| {
        s.backup_node(|n| n.validator_address = None);
    });
    assert_blocked_by(&a, "not configured for a validator");
}

#[test]
fn backup_with_the_wrong_key_blocks() {
    let a = outage_with(|s| {
        s.backup_node(|n| n.public_key_hex = OTHER_KEY.into());
    });
    assert_blocked_by(
        &a,
        &format!("its key is {OTHER_KEY}, not the configured backup_public_key"),
    );
}

#[test]
fn backup_unreachable_or_unwatched_blocks() {
    let a = outage_with(|s| s.backup = Some(Err(unreachable())));
    assert_blocked_by(&a, "gives no answer: unreachable: connection refused");
    let a = outage_with(|s| s.backup = None);
    assert_blocked_by(&a, "add [backup] system_api");
}

#[test]
fn backup_core_api_not_trusted_blocks() {
    let mut s = Scenario::new().sources(&[
        ("core a", SourceKind::Core),
        ("core b", SourceKind::Core),
        ("core c", SourceKind::Core),
        (BACKUP_CORE_SOURCE, SourceKind::Core),
    ]);
    s.run(2, 1, 0);
    s.stale(BACKUP_CORE_SOURCE, 120_000);
    s.kill_primary();
    let list = s.run(4, 0, 1);
    let a = &list[3];
    assert!(
        blocker(a).contains("its Core API is not trusted (lagging"),
        "{}",
        blocker(a)
    );
    // And the backup becoming ready unblocks it at once.
    s.fault(BACKUP_CORE_SOURCE, Fault::None);
    let a = s.lead(0, 1).poll();
    assert!(a.decision.is_fail_over(), "{:?}", a.decision);
    assert_eq!(events_of(&a, EventKind::BackupReady).len(), 1);
}

#[test]
fn preflight_failure_blocks() {
    let a = outage_with(|s| {
        s.gates = Gates::failed("the account holds 0.1 XRD, below the 10 XRD fee lock")
    });
    assert_eq!(
        blocker(&a),
        "pre-flight failed: the account holds 0.1 XRD, below the 10 XRD fee lock"
    );
    assert!(has_warning(&a, "preflight-failed"));
}

#[test]
fn every_blocking_gate_is_named() {
    let a = outage_with(|s| {
        s.gates = Gates::failed("preview failed");
        s.backup = Some(Err(unreachable()));
    });
    let b = blocker(&a);
    assert!(
        b.contains("pre-flight failed: preview failed") && b.contains("backup not ready"),
        "{b}"
    );
}
