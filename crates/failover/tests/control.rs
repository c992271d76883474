//! Issue 12, item 1 on the real binaries: the daemon's control socket, the maintenance pause,
//! and no racing between a manual command and the running daemon. The real
//! `radix-failover run` and the real CLI against radix-sim (real Radix Engine, loopback HTTP),
//! each outcome asserted on the sim's ledger, the state file and the daemon's log.
//!
//! Timing as in fault_suite.rs: 4 s epochs of 20 rounds of 200 ms, a poll every 200 ms.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use common::{Daemon, Harness, ROUNDS_PER_EPOCH, STEP};
use serde_json::{json, Value};

fn socket(h: &Harness) -> std::path::PathBuf {
    h.dir.path().join("radix-failover-state.json.sock")
}

async fn status_json(h: &Harness) -> Value {
    let out = h.cli(&["status", "--json"]).await;
    // Log lines (stderr) come after the JSON object (stdout).
    let end = out.rfind("\n}").map(|i| i + 2).unwrap_or(out.len());
    serde_json::from_str(&out[..end]).unwrap_or_else(|e| panic!("status --json: {e}:\n{out}"))
}

/// The daemon's /metrics, from the URL of its start-up line (the sim's config uses port 0).
async fn scrape_metrics(d: &mut Daemon) -> String {
    let line = d.wait_line("metrics on http://", STEP).await;
    let url = line
        .split("metrics on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("a URL in the metrics line")
        .to_string();
    reqwest::get(url)
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text")
}

/// Maintenance: `pause --for` while the primary is down for several epochs gives no
/// failover; the pause ends by itself, and the still-dead primary is then failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_holds_the_failover_for_its_time_then_a_dead_primary_is_failed_over() {
    let h = Harness::start(61).await;
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    // Three epochs of maintenance.
    let out = h
        .cli(&["pause", "--for", "12s", "--reason", "planned restart"])
        .await;
    assert!(
        out.contains("paused until") && out.contains("planned restart"),
        "{out}"
    );
    let v = status_json(&h).await;
    assert_eq!(v["paused"], true, "{v}");
    assert_eq!(v["pause"]["reason"], "planned restart", "{v}");
    assert!(v["pause"]["until"].as_str().is_some(), "{v}");
    assert_eq!(v["daemon_process"]["running"], true, "{v}");
    hook.wait_event("paused", "planned restart", STEP).await;
    let metrics = scrape_metrics(&mut d).await;
    assert!(metrics.contains("radix_failover_paused 1"), "{metrics}");
    assert!(
        metrics.contains("radix_failover_pause_end_timestamp_seconds "),
        "{metrics}"
    );

    let from = d.line_count();
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    d.wait_line_after(from, "automatic failover is PAUSED", STEP)
        .await;
    h.wait_epochs(2).await;
    assert!(
        !d.has_line("FAILOVER DECIDED"),
        "no automatic failover while paused"
    );
    assert!(h.committed().is_empty(), "nothing committed while paused");
    assert_eq!(h.state_phase(&h.state_file()), "watching");

    // The pause ends by itself; the primary is still dead: now it is failed over.
    let (ended, _) = d
        .wait_line_after(from, "maintenance pause ENDED", STEP)
        .await;
    let (decided, _) = d.wait_line_after(from, "FAILOVER DECIDED", STEP).await;
    assert!(decided > ended, "the failover comes after the pause ended");
    d.wait_line("COMMITTED", STEP).await;
    assert_eq!(h.committed().len(), 1, "exactly one transaction");
    h.wait_key_change_epoch().await;
    hook.wait_event("resumed", "ended by itself", STEP).await;
    let v = status_json(&h).await;
    assert_eq!(v["paused"], false, "{v}");
    let metrics = scrape_metrics(&mut d).await;
    assert!(metrics.contains("radix_failover_paused 0"), "{metrics}");
    h.stop(&mut d).await;
}

/// No racing: `failback` while the daemon is failing over is answered by the daemon, and only
/// one intent is in flight (and committed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failback_while_the_daemon_fails_over_is_answered_by_the_daemon() {
    let h = Harness::start(62).await;
    let mut d = h.armed("daemon").await;
    // Hold every transaction for over a second epoch, so the failover stays in flight while
    // the command runs; the intent's window (two epochs) still covers its commit.
    h.fault_early_in_epoch(json!({"action": "mempool_stall", "rounds": ROUNDS_PER_EPOCH + 5}))
        .await;
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    let inflight = h
        .wait_for_state(&h.state_file(), "failing_over", STEP)
        .await;
    let intent = inflight["intent_hash"]
        .as_str()
        .expect("intent in the state file")
        .to_string();

    let out = h.cli_fails(&["failback", "--yes"]).await;
    assert!(
        out.contains("a radix-failover daemon runs"),
        "the command goes to the daemon: {out}"
    );
    assert!(
        out.contains("refused by the running daemon") && out.contains(&intent),
        "the daemon answers, naming the intent in flight: {out}"
    );
    assert!(out.contains("only one intent is ever in flight"), "{out}");
    assert!(
        !out.contains("nothing to do"),
        "the old answer is gone: {out}"
    );
    // A second manual failover is refused the same way.
    let out = h.cli_fails(&["failover", "--yes"]).await;
    assert!(out.contains("refused by the running daemon"), "{out}");
    d.wait_line("control: refused", STEP).await;

    d.wait_line("COMMITTED", STEP).await;
    let committed = h.committed();
    assert_eq!(committed.len(), 1, "one intent committed: {committed:?}");
    assert_eq!(committed[0].0, intent, "the daemon's own intent committed");
    d.wait_line("FAILOVER COMPLETE", STEP).await;
    h.wait_epochs(1).await;
    assert_eq!(h.committed().len(), 1, "and nothing after it");
    h.stop(&mut d).await;
}

/// The socket: beside the state file, a socket of mode 0600; a stale socket of a dead daemon
/// is replaced; a file in its place is refused with the fix; a command with no daemon takes
/// the lock and acts on the state file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_socket_is_0600_replaces_a_stale_socket_and_refuses_a_file() {
    let h = Harness::start(63).await;
    let sock = socket(&h);
    std::fs::write(&sock, b"someone's file").expect("write");
    let out = h.cli_fails(&["run"]).await;
    assert!(
        out.contains("radix-failover-state.json.sock")
            && out.contains("not a socket")
            && out.contains("fix"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(&sock).expect("kept"),
        b"someone's file",
        "never removed"
    );
    std::fs::remove_file(&sock).expect("rm");

    // A dead daemon's socket (bound, never cleaned up).
    drop(std::os::unix::net::UnixListener::bind(&sock).expect("stale socket"));
    let mut d = h.armed("daemon").await;
    assert!(d.has_line("removing the socket a stopped daemon left"));
    let meta = std::fs::symlink_metadata(&sock).expect("socket");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let out = h.cli(&["resume"]).await;
    assert!(out.contains("not paused"), "{out}");
    h.stop(&mut d).await;
    assert!(!sock.exists(), "a clean stop removes the socket");

    // No daemon: the command takes the lock and writes the state file itself.
    let out = h.cli(&["pause", "--for", "5m"]).await;
    assert!(out.contains("no daemon runs"), "{out}");
    let state = h.state(&h.state_file()).expect("state");
    assert_eq!(state["pause"]["reason"], "maintenance (no reason given)");
    let out = h.cli_fails(&["pause", "--for", "2h"]).await;
    assert!(out.contains("max_pause") && out.contains("fix"), "{out}");
}

/// The pause is in the state file: it survives a restart of the daemon, which keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pause_survives_a_daemon_restart() {
    let h = Harness::start(64).await;
    let mut d = h.armed("first").await;
    h.cli(&["pause", "--for", "10m", "--reason", "kernel upgrade"])
        .await;
    let before = h.state(&h.state_file()).expect("state")["pause"].clone();
    assert_eq!(before["reason"], "kernel upgrade");
    h.stop(&mut d).await;

    let mut d2 = Daemon::spawn(&h.config, &[], "restarted");
    d2.wait_line("maintenance pause from the state file", STEP)
        .await;
    d2.wait_line("| PAUSED", STEP).await;
    let v = status_json(&h).await;
    assert_eq!(v["paused"], true, "{v}");
    assert_eq!(v["pause"]["reason"], "kernel upgrade", "{v}");
    assert_eq!(v["pause"]["until_ms"], before["until_ms"], "the same pause");
    let text = h.cli(&["status"]).await;
    assert!(text.contains("PAUSED until"), "{text}");

    // Still paused after the restart: a dead primary is not failed over.
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    d2.wait_line("automatic failover is PAUSED", STEP).await;
    h.wait_epochs(1).await;
    assert!(h.committed().is_empty());
    let out = h.cli(&["resume"]).await;
    assert!(out.contains("resumed"), "{out}");
    d2.wait_line("COMMITTED", STEP).await;
    assert_eq!(h.committed().len(), 1);
    h.stop(&mut d2).await;
}

/// Cancel: the daemon stops sending, says plainly that the submitted intent may still commit,
/// and keeps watching: when the held intent commits after all, it says so and follows the
/// ledger (failed over), and nothing else is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_sending_and_a_late_commit_is_still_seen() {
    let h = Harness::start(65).await;
    let mut d = h.armed("daemon").await;
    h.fault_early_in_epoch(json!({"action": "mempool_stall", "rounds": ROUNDS_PER_EPOCH}))
        .await;
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    let inflight = h
        .wait_for_phase_where(
            &h.state_file(),
            "a submitted intent",
            |p| p["phase"] == "failing_over" && p["submitted"] == true,
            STEP,
        )
        .await;
    let intent = inflight["intent_hash"]
        .as_str()
        .expect("intent")
        .to_string();
    let out = h.cli(&["cancel"]).await;
    assert!(
        out.contains(&format!("stopped sending intent {intent}")),
        "{out}"
    );
    assert!(out.contains("MAY STILL COMMIT"), "{out}");
    assert!(out.contains("paused"), "{out}");
    let state = h.state(&h.state_file()).expect("state");
    assert_eq!(
        state["cancelled"]["intent_hash"],
        intent.as_str(),
        "{state}"
    );
    assert_eq!(Harness::phase_of(&state)["phase"], "watching");

    // The stall ends and the already-submitted intent commits: seen, said, followed.
    d.wait_line("committed after all", STEP).await;
    h.wait_for_state(&h.state_file(), "failed_over", STEP).await;
    let committed = h.committed();
    assert_eq!(committed.len(), 1, "{committed:?}");
    assert_eq!(committed[0].0, intent);
    let out = h.cli_fails(&["cancel"]).await;
    assert!(out.contains("nothing to cancel"), "{out}");
    h.stop(&mut d).await;
}

/// A manual failover and failback while the daemon runs: the daemon does both, the command
/// follows it to the confirmation, and the primary validates again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_failover_and_failback_go_through_the_daemon() {
    let h = Harness::start(66).await;
    // `rearm = false`: the pair is not re-armed, so `failback` is the switch back to the
    // configured primary (FailingBack). The re-armed pair's switches are tests/rearm.rs.
    h.edit_config(|t| t.replace("\n[policy]\n", "\n[policy]\nrearm = false\n"));
    let mut d = h.armed("daemon").await;
    let out = h.cli(&["failover", "--yes"]).await;
    assert!(out.contains("asking it to failover"), "{out}");
    assert!(out.contains("confirmed"), "{out}");
    d.wait_line("FAILOVER DECIDED by an operator", STEP).await;
    assert_eq!(h.committed().len(), 1);

    let out = h.cli(&["failback", "--yes"]).await;
    assert!(out.contains("confirmed"), "{out}");
    d.wait_line("FAILBACK COMMITTED", STEP).await;
    d.wait_line("watching again", STEP).await;
    assert_eq!(
        h.identity("primary").await["consensus_status"],
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    assert_eq!(h.committed().len(), 2, "one failover and one failback");
    h.wait_for_state(&h.state_file(), "watching", STEP).await;
    h.stop(&mut d).await;
}

/// A planned switchover early in an epoch, while the daemon runs: it says from which epoch it
/// takes effect, and costs no proposal (both nodes stay up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_switchover_early_in_an_epoch_misses_no_proposal() {
    let h = Harness::start(67).await;
    let mut d = h.armed("daemon").await;
    // Wait for the first rounds of an epoch.
    let deadline = std::time::Instant::now() + STEP;
    while !(1..=2).contains(&h.position().round) {
        assert!(
            std::time::Instant::now() < deadline,
            "never saw an epoch start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let start = h.epoch();
    let out = h.cli(&["switchover", "--yes"]).await;
    assert!(
        out.contains("switchover from the primary to the backup")
            && out.contains("takes effect from epoch"),
        "{out}"
    );
    assert!(out.contains("confirmed"), "{out}");
    let commit = h.wait_key_change_epoch().await;
    assert_eq!(commit, start, "committed in the epoch it was asked in");
    h.wait_epochs(1).await;
    for e in start..=commit + 1 {
        let rounds = h.our_rounds_in(e);
        assert!(!rounds.is_empty(), "we lead rounds in epoch {e}");
        assert!(
            rounds.iter().all(|r| r.made),
            "missed in epoch {e}: {rounds:?}"
        );
    }
    assert_eq!(h.committed().len(), 1);
    d.wait_line("FAILOVER DECIDED by an operator", STEP).await;
    let out = h
        .cli_fails(&["switchover", "--to", "backup", "--yes"])
        .await;
    assert!(out.contains("validates already"), "{out}");
    h.stop(&mut d).await;
}
