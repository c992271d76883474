//! End to end: the real `radix-failover` daemon binary against a real radix-sim network (real
//! Radix Engine, real HTTP on loopback, real signals, real files). Each test runs one outage.
//!
//! The sim's rounds run on its own clock, the daemon polls at the interval the sim's written
//! config gives (scaled to the sim's epoch), and every assertion is checked against the sim's
//! ledger, not against the daemon's own claims.

mod common;

use std::time::Duration;

use common::{Daemon, Harness};
use serde_json::json;

/// Outage tests wait for commits and epoch changes: generous against a loaded CI machine,
/// while a pass takes a few seconds.
const LONG: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_dies_failover_commits_in_the_same_epoch_and_backup_validates() {
    let h = Harness::start(21).await;
    let mut d = h.armed("daemon").await;
    let metrics_url = metrics_url(&mut d).await;
    let m = scrape(&metrics_url).await;
    assert!(
        m.contains("radix_failover_phase{phase=\"watching\"} 1"),
        "{m}"
    );
    assert!(m.contains("radix_failover_preflight_ok 1"), "{m}");

    let fault = h
        .fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    d.wait_line("FAILOVER DECIDED", LONG).await;
    d.wait_line("COMMITTED", LONG).await;
    d.wait_line(
        "confirmed on ledger: the validator's key is the backup's",
        LONG,
    )
    .await;
    d.wait_line("FAILOVER COMPLETE", LONG).await;

    let commit = h.wait_key_change_epoch().await;
    assert_eq!(
        commit, fault.epoch,
        "the failover committed in epoch {commit}, not in the fault's epoch {}",
        fault.epoch
    );
    // From the next epoch, every one of our leader rounds is made (by the backup).
    let rounds = h.our_rounds_in(commit + 1);
    assert!(
        rounds.iter().all(|r| r.made),
        "missed after the switch: {rounds:?}"
    );
    assert_eq!(
        h.identity("backup").await["consensus_status"],
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    assert_eq!(h.committed().len(), 1, "exactly one transaction committed");
    // The state file follows the log line within the same poll.
    h.wait_for_state(
        &h.dir.path().join("radix-failover-state.json"),
        "failed_over",
        Duration::from_secs(5),
    )
    .await;

    let m = scrape(&metrics_url).await;
    assert!(
        m.contains("radix_failover_phase{phase=\"failed_over\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("radix_failover_failover_tx_status{status=\"committed\"} 1"),
        "{m}"
    );
    let health = reqwest::get(metrics_url.replace("/metrics", "/healthz"))
        .await
        .expect("healthz answers");
    assert_eq!(health.status(), 200);

    h.stop(&mut d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_down_alone_is_no_failover_and_the_quorum_still_acts() {
    let h = Harness::start(22).await;
    let mut d = h.armed("daemon").await;

    h.fault(json!({"action": "gateway_down"})).await;
    // Several polls with the gateway refusing connections: a warning, no decision.
    h.wait_epochs(1).await;
    assert!(d.has_line("gateway"), "the gateway outage is reported");
    assert!(
        !d.has_line("FAILOVER DECIDED"),
        "no failover from a gateway outage alone"
    );
    assert!(h.committed().is_empty());

    // The real outage: the Core API sources still form a quorum and submit through Core.
    let fault = h
        .fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    d.wait_line("COMMITTED", LONG).await;
    let commit = h.wait_key_change_epoch().await;
    assert_eq!(commit, fault.epoch);
    assert_eq!(h.committed().len(), 1);
    h.stop(&mut d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_not_synced_blocks_the_failover_loudly() {
    let h = Harness::start(23).await;
    let mut d = h.armed("daemon").await;

    h.fault(json!({"action": "node_out_of_sync", "node": "backup"}))
        .await;
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    let line = d.wait_line("BLOCKED", LONG).await;
    assert!(
        line.to_lowercase().contains("backup"),
        "the reason names the backup: {line}"
    );
    h.wait_epochs(1).await;
    assert!(!d.has_line("FAILOVER DECIDED"));
    assert!(
        h.committed().is_empty(),
        "nothing submitted to a backup that is not ready"
    );

    // Fail closed, not fail forever: once the backup is back in sync the failover proceeds.
    h.fault(json!({"action": "node_in_sync", "node": "backup"}))
        .await;
    d.wait_line("COMMITTED", LONG).await;
    assert_eq!(h.committed().len(), 1);
    h.stop(&mut d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_submit_resumes_the_same_intent() {
    let h = Harness::start(24).await;
    let state = h.dir.path().join("radix-failover-state.json");
    let mut d = h.armed("first").await;

    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    // The moment the decision is on disk, freeze the ledger so the transaction cannot commit
    // yet, and kill the daemon without warning.
    let intent = h.wait_for_state(&state, "failing_over", LONG).await;
    h.clock("pause").await;
    d.kill();
    let intent = intent["intent_hash"]
        .as_str()
        .expect("intent in state")
        .to_string();

    let mut d2 = Daemon::spawn(&h.config, &[], "restarted");
    d2.wait_line("phase failing_over", LONG).await;
    h.clock("resume").await;
    d2.wait_line("COMMITTED", LONG).await;
    let committed = h.committed();
    assert_eq!(committed.len(), 1, "one transaction: {committed:?}");
    assert_eq!(
        committed[0].0, intent,
        "the restart committed the intent it had persisted"
    );
    d2.sigterm_and_wait(Duration::from_secs(10))
        .await
        .expect("clean exit");
    h.assert_no_secrets(&d);
    h.assert_no_secrets(&d2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_commit_one_transaction() {
    let h = Harness::start(25).await;
    let other = h.second_config("other");
    let mut a = Daemon::spawn(&h.config, &[], "a");
    let mut b = Daemon::spawn(&other, &[], "b");
    a.wait_line("pre-flight passed", LONG).await;
    b.wait_line("pre-flight passed", LONG).await;

    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    // Each watcher either submitted the same intent (same bytes, committed once) and saw it
    // through, or decided a poll later and found the key already on ledger: both are right,
    // and which one happens to which daemon depends on how their polls fall (a loaded machine
    // shifts them). What must never happen is a second transaction.
    let deadline = std::time::Instant::now() + LONG;
    let done = |d: &Daemon| {
        d.has_line("FAILOVER COMPLETE")
            || d.has_line("the key on ledger is already the backup's: failed over")
    };
    while !(done(&a) && done(&b)) {
        for d in [&a, &b] {
            assert!(
                std::time::Instant::now() < deadline || done(d),
                "[{}] neither completed the failover nor found it done:\n{}",
                d.name(),
                d.lines().join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        a.has_line("FAILOVER COMPLETE") || b.has_line("FAILOVER COMPLETE"),
        "one of the two saw its own intent through"
    );
    let committed = h.committed();
    assert_eq!(
        committed.len(),
        1,
        "two watchers, one commit: {committed:?}"
    );
    a.sigterm_and_wait(Duration::from_secs(10))
        .await
        .expect("clean exit");
    b.sigterm_and_wait(Duration::from_secs(10))
        .await
        .expect("clean exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_logs_the_transaction_and_submits_nothing() {
    let h = Harness::start(26).await;
    let mut d = Daemon::spawn(&h.config, &["--dry-run"], "dry");
    d.wait_line("pre-flight passed", LONG).await;
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    let line = d.wait_line("DRY RUN: failover decided", LONG).await;
    assert!(line.contains("txid_sim1"), "the intent is logged: {line}");
    d.wait_line("notarized transaction hex: ", LONG).await;
    h.wait_epochs(2).await;
    assert!(h.committed().is_empty(), "dry run submitted something");
    assert!(h.ledger_key_change_epoch().is_none());
    h.stop(&mut d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_failover_then_failback_leaves_the_primary_validating() {
    let h = Harness::start(27).await;
    // Let the network run a little: right after genesis its ledger clock lags.
    h.wait_epochs(1).await;
    let out = h.cli(&["failover", "--yes"]).await;
    assert!(out.contains("confirmed"), "{out}");
    assert_eq!(
        h.identity("backup").await["consensus_status"],
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    assert_eq!(
        h.identity("primary").await["consensus_status"],
        "NOT_VALIDATING_IN_CURRENT_EPOCH"
    );

    let out = h.cli(&["failback", "--yes"]).await;
    assert!(out.contains("confirmed"), "{out}");
    assert_eq!(
        h.identity("primary").await["consensus_status"],
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    assert_eq!(
        h.identity("backup").await["consensus_status"],
        "NOT_VALIDATING_IN_CURRENT_EPOCH"
    );
    let e = h.epoch();
    h.wait_epochs(1).await;
    let rounds = h.our_rounds_in(e + 1);
    assert!(
        rounds.iter().all(|r| r.made),
        "primary proposes again: {rounds:?}"
    );
    assert_eq!(
        h.committed().len(),
        2,
        "one failover and one failback transaction"
    );

    // Without --yes and without a terminal, nothing is submitted.
    let err = h.cli_fails(&["failover"]).await;
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(h.committed().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_who_validates_sources_and_phase() {
    let h = Harness::start(28).await;
    h.wait_epochs(1).await;
    let out = h.cli(&["status", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).expect("status --json is JSON");
    assert_eq!(v["key_in_force"], "primary");
    assert_eq!(v["backup_ready"], true);
    let sources = v["sources"].as_array().expect("sources");
    assert_eq!(
        sources.len(),
        7,
        "gateway, 4 Core APIs, 2 System APIs: {sources:?}"
    );
    assert!(sources.iter().all(|s| s["ok"] == true), "{sources:?}");
    let epoch = v["epoch"].as_u64().expect("epoch");
    assert!(
        epoch + 1 >= h.epoch() && epoch <= h.epoch(),
        "epoch {epoch} vs the sim's {}",
        h.epoch()
    );

    // A source down is shown, and status still answers.
    h.fault(json!({"action": "gateway_down"})).await;
    let out = h.cli(&["status", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let gw = v["sources"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["kind"] == "gateway").cloned())
        .expect("gateway entry");
    assert_eq!(gw["ok"], false);
    assert!(
        gw["error"]
            .as_str()
            .unwrap_or_default()
            .contains("unreachable"),
        "{gw}"
    );
    let text = h.cli(&["status"]).await;
    assert!(
        text.contains("primary key in force") && text.contains("ERROR"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_state_file_stops_the_daemon_before_any_action() {
    let h = Harness::start(29).await;
    let state = h.dir.path().join("radix-failover-state.json");
    std::fs::write(&state, "{\"format\": 1, \"phase\": tru").expect("write");
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    let out = h.cli_fails(&["run"]).await;
    assert!(
        out.contains("radix-failover-state.json"),
        "names the file: {out}"
    );
    assert!(
        out.to_lowercase().contains("fix"),
        "says how to fix it: {out}"
    );
    h.wait_epochs(1).await;
    assert!(h.committed().is_empty(), "no action taken blind");
    // The file is left as it was, for the operator to inspect.
    assert!(std::fs::read_to_string(&state)
        .expect("still there")
        .ends_with("tru"));
}

/// The daemon's metrics URL, from its start-up line (the sim's config listens on port 0).
async fn metrics_url(d: &mut Daemon) -> String {
    let line = d.wait_line("metrics on http://", LONG).await;
    let url = line
        .split("metrics on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("a URL in the metrics line");
    url.to_string()
}

async fn scrape(url: &str) -> String {
    let r = reqwest::get(url).await.expect("metrics answer");
    assert_eq!(r.status(), 200);
    r.text().await.expect("metrics text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_systemd_it_reports_ready_after_preflight_and_pings_the_watchdog() {
    let h = Harness::start(30).await;
    let sock_path = h.dir.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut d = Daemon::spawn_with_env(
        &h.config,
        &[],
        "systemd",
        &[
            ("NOTIFY_SOCKET", sock_path.to_str().expect("utf-8 path")),
            // 2 s: the daemon must ping at least every second from its loop.
            ("WATCHDOG_USEC", "2000000"),
        ],
    );
    let mut got: Vec<String> = Vec::new();
    let deadline = std::time::Instant::now() + LONG;
    while std::time::Instant::now() < deadline {
        let mut buf = [0u8; 4096];
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
        let ready = got.iter().position(|m| m.lines().any(|l| l == "READY=1"));
        let pings = got
            .iter()
            .filter(|m| m.lines().any(|l| l == "WATCHDOG=1"))
            .count();
        if ready.is_some() && pings >= 3 {
            break;
        }
    }
    let ready = got
        .iter()
        .position(|m| m.lines().any(|l| l == "READY=1"))
        .unwrap_or_else(|| panic!("no READY=1 in {got:?}"));
    assert!(
        d.has_line("pre-flight passed"),
        "READY comes after the pre-flight ran"
    );
    let pings_after = got[ready..]
        .iter()
        .filter(|m| m.lines().any(|l| l == "WATCHDOG=1"))
        .count();
    assert!(pings_after >= 1, "watchdog pings after READY: {got:?}");
    assert!(
        got.iter().any(|m| m.starts_with("STATUS=phase watching")),
        "status line: {got:?}"
    );
    d.sigterm_and_wait(Duration::from_secs(10))
        .await
        .expect("clean exit");
    let mut buf = [0u8; 4096];
    let mut stopping = false;
    while let Ok(n) = sock.recv(&mut buf) {
        if String::from_utf8_lossy(&buf[..n])
            .lines()
            .any(|l| l == "STOPPING=1")
        {
            stopping = true;
        }
    }
    assert!(stopping, "STOPPING=1 on SIGTERM");
}
