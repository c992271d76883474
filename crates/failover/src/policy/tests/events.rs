//! Tests of events.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;

// ---------------------------------------------------------------------------------------------
// Events and output

#[test]
fn events_only_on_change() {
    let mut s = Scenario::new();
    let a = s.poll();
    assert_eq!(
        a.events.len(),
        1,
        "first poll: the backup's state is news: {:?}",
        a.events
    );
    assert_eq!(a.events[0].kind, EventKind::BackupReady);
    for a in s.run(5, 1, 0) {
        assert!(a.events.is_empty(), "{:?}", a.events);
    }
    s.backup_node(|n| n.health = NodeHealth::OutOfSync);
    let a = s.poll();
    assert_eq!(events_of(&a, EventKind::BackupNotReady).len(), 1);
    assert!(s.poll().events.is_empty());
    s.epoch_change();
    let a = s.poll();
    assert_eq!(
        a.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![EventKind::EpochChanged]
    );
    s.kill_primary();
    let a = s.poll();
    let kinds: Vec<EventKind> = a.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EventKind::PrimaryUnhealthy, EventKind::DecisionChanged]
    );
    assert!(s.poll().events.is_empty());
}

#[test]
fn summary_line_and_json() {
    let mut s = Scenario::new();
    s.run(3, 2, 0);
    s.fault("gateway g", Fault::Down(unreachable()));
    let a = s.lead(1, 1).poll();
    let line = a.view.summary_line();
    for part in [
        "epoch 10 round 140",
        "key in force primary, on ledger primary",
        "this epoch 7 made 1 missed",
        "last 5 proposals: 1 missed (threshold 3)",
        "sources 3/4 trusted, 3 real-time (quorum 2)",
        "primary up",
        "backup ready",
    ] {
        assert!(line.contains(part), "{part:?} not in {line:?}");
    }
    let json = serde_json::to_value(&a).unwrap_or_default();
    assert_eq!(json["decision"]["decision"], "suspect");
    assert_eq!(json["view"]["sources"][3]["trust"]["trust"], "failing");
    assert_eq!(json["warnings"][0]["key"], "source-failing:gateway g");
}
