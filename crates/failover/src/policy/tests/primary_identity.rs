//! Tests of primary_identity.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

/// The primary answers UP but its identity says it cannot propose for us: the early signal
/// holds from the first poll, and with the ledger advancing it fails over after
/// `primary_down_polls` polls even though the validator has not led a round yet.
fn fails_over_when_identity_is(f: impl Fn(&mut NodeReading)) -> Vec<Assessment> {
    let mut s = Scenario::new();
    s.run(3, 0, 0);
    if let Some(Ok(n)) = &mut s.primary {
        f(n);
    }
    let list = s.run(4, 0, 0);
    assert_eq!(
        first_failover(&list),
        Some(2),
        "{:?}",
        list.iter().map(|a| &a.decision).collect::<Vec<_>>()
    );
    list
}

#[test]
fn a_primary_restarted_with_another_key_is_the_early_signal() {
    let list = fails_over_when_identity_is(|n| {
        n.public_key_hex = OTHER_KEY.into();
        n.consensus = NodeConsensus::NotValidatingInCurrentEpoch;
    });
    let reason = failover_reason(&list[2]);
    assert!(
        reason.contains(OTHER_KEY) && reason.contains("another key"),
        "{reason}"
    );
}

#[test]
fn a_primary_not_validating_while_its_key_is_in_force_is_the_early_signal() {
    let list = fails_over_when_identity_is(|n| {
        n.consensus = NodeConsensus::NotValidatingInCurrentEpoch;
    });
    assert!(failover_reason(&list[2]).contains("NOT_VALIDATING_IN_CURRENT_EPOCH"));
}

#[test]
fn a_primary_configured_for_another_validator_is_the_early_signal() {
    let list = fails_over_when_identity_is(|n| n.validator_address = Some("validator_x".into()));
    assert!(failover_reason(&list[2]).contains("validator_x"));
}

#[test]
fn a_primary_not_validating_after_the_failover_is_no_signal() {
    // The backup's key is in force: the primary rightly does not validate (it is the standby).
    let mut s = Scenario::new();
    s.key_in_force = Some(BACKUP_KEY.into());
    s.key_on_ledger = BACKUP_KEY.into();
    if let Some(Ok(n)) = &mut s.primary {
        n.consensus = NodeConsensus::NotValidatingInCurrentEpoch;
    }
    for a in s.run(6, 0, 0) {
        assert_eq!(a.decision, Decision::AlreadyFailedOver);
        assert!(
            !matches!(a.view.primary, PrimaryState::Unhealthy { .. }),
            "{:?}",
            a.view.primary
        );
    }
}
