//! Tests of network_degraded (rule 8).

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

#[test]
fn many_validators_missing_at_once_is_the_network_not_our_primary() {
    let mut s = Scenario::new();
    s.run(3, 1, 0);
    // Half of every other validator's rounds time out, and so do ours: a network problem.
    s.network_miss_percent = 50;
    let list = s.run(8, 0, 1);
    assert!(
        first_failover(&list).is_none(),
        "{:?}",
        list.last().map(|a| &a.decision)
    );
    let a = list.last().unwrap_or_else(|| unreachable!());
    assert!(has_warning(a, "network-degraded"), "{:?}", a.warnings);
    assert_blocked_by(a, "the network is degraded");
    // The network recovers and our node still misses: now it is ours, fail over.
    s.network_miss_percent = 0;
    let list = s.run(6, 0, 1);
    assert!(
        first_failover(&list).is_some(),
        "{:?}",
        list.last().map(|a| &a.decision)
    );
}

#[test]
fn a_few_validators_missing_is_not_a_degraded_network() {
    let mut s = Scenario::new();
    s.run(3, 1, 0);
    // 20 % of the others' rounds missed (below a third): our own misses still fail over.
    s.network_miss_percent = 20;
    let list = s.run(6, 0, 1);
    assert!(list.iter().all(|a| !has_warning(a, "network-degraded")));
    assert!(first_failover(&list).is_some());
}

#[test]
fn one_source_cannot_claim_a_degraded_network() {
    let mut s = Scenario::new();
    s.run(3, 1, 0);
    s.fault("core a", Fault::OthersMissed(1_000));
    let list = s.run(6, 0, 1);
    assert!(list.iter().all(|a| !has_warning(a, "network-degraded")));
    assert!(first_failover(&list).is_some());
}
