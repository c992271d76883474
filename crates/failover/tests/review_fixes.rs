//! Issue 11's scenarios on the real binaries: the real `radix-failover run` against radix-sim
//! (real Radix Engine, loopback HTTP), each fault injected through the sim's control API, each
//! outcome asserted on the sim's ledger, the state file and the daemon's log.
//!
//! Timing as in fault_suite.rs: 4 s epochs of 20 rounds of 200 ms, a poll every 200 ms.

mod common;

use std::time::Duration;

use common::{Harness, STEP};
use radix_sim::ledger::types::IntentStatus;
use serde_json::json;

/// The gateway swallows every submit and says `CommittedSuccess` for every intent, and the
/// Core APIs' submits fail three times: the lie is not believed (the gateway is named as
/// contradicted), the daemon keeps submitting through the Core APIs, and the dead primary is
/// failed over for real, on the engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_lying_about_the_commit_does_not_end_the_failover() {
    let h = Harness::start(51).await;
    let mut d = h.armed("daemon").await;
    h.fault(json!({"action": "gateway_lies_tx"})).await;
    // 3 reachable Core endpoints (the dead primary's refuses connections) x 3 rounds.
    h.fault(json!({"action": "submit_failing", "count": 9}))
        .await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    d.wait_line("FAILOVER DECIDED", STEP).await;
    d.wait_line("CONTRADICTED", STEP).await;
    // The key really changes on the engine, through the Core APIs.
    let changed = h.wait_key_change_epoch().await;
    let committed = h.committed();
    assert_eq!(committed.len(), 1, "exactly one update_key committed");
    assert!(matches!(committed[0].1, IntentStatus::CommittedSuccess(_)));
    d.wait_line("COMMITTED", STEP).await;
    h.wait_for_state(&h.state_file(), "failed_over", STEP).await;
    assert!(changed > 0);
    h.stop(&mut d).await;
}

/// The primary's System API alone refuses connections for two epochs (an nginx reload, a
/// firewall change) while the node keeps proposing: no failover, and a warning that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_api_down_while_the_primary_proposes_is_no_failover() {
    let h = Harness::start(52).await;
    let mut d = h.armed("daemon").await;
    h.fault(json!({"action": "system_api_down", "node": "primary"}))
        .await;
    h.wait_epochs(2).await;
    h.assert_no_failover(&d, "System API down, node proposing");
    assert!(
        d.has_line("System API is unreachable but its own Core API"),
        "the daemon says why it does not fail over"
    );
    // The node then really dies: now it is failed over.
    h.fault(json!({"action": "system_api_up", "node": "primary"}))
        .await;
    h.primary_dies_and_one_commits(&mut d).await;
    h.stop(&mut d).await;
}

/// Most of the other validators' rounds fail together, and ours too: a network-wide problem,
/// not our primary's. No failover, and a network-degraded warning; once the network heals and
/// our primary is dead for real, it is failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_wide_outage_is_not_failed_over() {
    let h = Harness::start(53).await;
    let mut d = h.armed("daemon").await;
    let others = ["validator-1", "validator-2", "validator-3", "validator-4"];
    h.fault(json!({"action": "validators_missing", "nodes": others}))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut all = vec!["primary"];
    all.extend(others);
    h.fault(json!({"action": "validators_missing", "nodes": all}))
        .await;
    h.wait_epochs(2).await;
    assert!(
        d.has_line("the network is degraded"),
        "the daemon names the network as the cause"
    );
    assert!(
        !d.has_line("FAILOVER DECIDED"),
        "no failover while the network is degraded"
    );
    assert!(h.committed().is_empty(), "nothing committed");
    h.fault(json!({"action": "validators_healthy"})).await;
    h.primary_dies_and_one_commits(&mut d).await;
    h.stop(&mut d).await;
}

/// The backup dies while the failover's intent is stuck (the mempool stalls past its window):
/// readiness is checked again before the rebuild, so no new intent is aimed at the dead backup,
/// and the daemon says why. Once the backup is back, the rebuilt intent commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rebuild_is_aimed_at_a_backup_that_died_mid_failover() {
    let h = Harness::start(54).await;
    let mut d = h.armed("daemon").await;
    let rounds = 2 * common::ROUNDS_PER_EPOCH + 8;
    h.fault_early_in_epoch(json!({"action": "mempool_stall", "rounds": rounds}))
        .await;
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    d.wait_line("FAILOVER DECIDED", STEP).await;
    h.fault(json!({"action": "node_down", "node": "backup"}))
        .await;
    d.wait_line("no new intent is aimed at it", STEP).await;
    assert!(!d.has_line("REBUILT"), "no rebuild for a dead backup");
    assert!(h.committed().is_empty());
    h.fault(json!({"action": "node_up", "node": "backup"}))
        .await;
    d.wait_line("REBUILT the transaction", STEP).await;
    d.wait_line("COMMITTED", STEP).await;
    assert_eq!(h.committed().len(), 1);
    h.stop(&mut d).await;
}

/// A gateway that answers each page of the validator list slowly (each request well inside the
/// request timeout, the whole reading far outside it): the poll's deadline cuts that source off
/// for the poll, the other sources decide, and the dead primary is failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_with_slow_pages_fails_the_poll_and_the_others_decide() {
    let h = Harness::start(55).await;
    let mut d = h.armed("daemon").await;
    // The harness's request timeout is 400 ms (poll deadline 800 ms); 8 validators in pages
    // of one at 300 ms each take 2.4 s.
    h.fault(json!({"action": "gateway_slow_pages", "latency_ms": 300, "page_size": 1}))
        .await;
    let cut = d.wait_line("failing: timed out after 800 ms", STEP).await;
    assert!(cut.contains("gateway"), "the gateway is cut off: {cut}");
    h.primary_dies_and_one_commits(&mut d).await;
    h.wait_key_change_epoch().await;
    h.stop(&mut d).await;
}

/// The metrics port is taken by another process when the daemon starts: it does not exit. It
/// watches, says (log and alert) that the metrics are unavailable and retries the bind; once
/// the port is free `/metrics` comes up (and the alert clears), and a dead primary is still
/// failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_port_in_use_is_not_fatal_and_the_metrics_come_back() {
    let h = Harness::start(56).await;
    // A real listener on the port, as another exporter or a second daemon would hold it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("addr");
    h.set_config("listen", &format!("\"{addr}\""));
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    let warned = d.wait_line("metrics UNAVAILABLE", STEP).await;
    assert!(
        warned.contains(&addr.to_string()) && warned.contains("tries again every"),
        "names the address and the retry: {warned}"
    );
    let alert = hook
        .wait_event("problem", "metrics-unavailable", STEP)
        .await;
    assert!(
        alert["message"]
            .as_str()
            .is_some_and(|m| m.contains("Fix:")),
        "the alert says the fix: {alert}"
    );
    // It keeps polling while the port is taken (and says it once, not on every retry).
    let from = d.line_count();
    d.wait_line_after(from, "| phase watching", STEP).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(d.is_running(), "the daemon runs without its metrics");
    let warnings = d
        .lines()
        .iter()
        .filter(|l| l.contains("metrics UNAVAILABLE"))
        .count();
    assert_eq!(warnings, 1, "warned once, not on every retry");

    // The port is freed: within a retry interval the metrics are served there.
    drop(taken);
    let back = d.wait_line("metrics available again", STEP).await;
    assert!(back.contains(&addr.to_string()), "{back}");
    let r = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("metrics answer");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("text");
    assert!(text.contains("radix_failover_polls_total"), "{text}");
    hook.wait_event("problem_cleared", "metrics-unavailable", STEP)
        .await;

    h.primary_dies_and_one_commits(&mut d).await;
    h.stop(&mut d).await;
}

/// The owner badge leaves the account after the pre-flight passed (a real transaction signed
/// for the owner account, committed by the engine): the pre-flight re-check of the next epoch
/// notices, the failover is disarmed with the reason and the fix, and that is alerted. A dead
/// primary is then not failed over (without the badge the transaction could not commit);
/// the block names the pre-flight (issue 10 item 4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_badge_moved_after_the_preflight_disarms_at_the_next_epoch() {
    let h = Harness::start(57).await;
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    assert!(
        !d.has_line("pre-flight re-check FAILED"),
        "armed with the badge in place"
    );
    h.fault(json!({"action": "owner_badge_moved"})).await;
    let failed = d.wait_line("pre-flight re-check account: FAIL", STEP).await;
    assert!(
        failed.contains("does not hold the validator's owner badge") && failed.contains("fix:"),
        "names the badge and the fix: {failed}"
    );
    let alert = hook
        .wait_event("preflight_failed", "owner badge", STEP)
        .await;
    assert!(alert.to_string().contains("fix:"), "{alert}");
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    // The dead primary is seen, and the failover it calls for is blocked by the pre-flight.
    let blocked = hook
        .wait_event("failover_blocked", "owner badge", STEP)
        .await;
    assert!(
        blocked.to_string().contains("pre-flight failed"),
        "{blocked}"
    );
    h.wait_epochs(2).await;
    assert!(
        !d.has_line("FAILOVER DECIDED"),
        "no failover without the badge"
    );
    assert!(h.committed().is_empty(), "nothing committed");
    h.stop(&mut d).await;
}
