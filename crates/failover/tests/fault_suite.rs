//! The fault suite (issue 6 §3): each scenario runs the real `radix-failover run` binary against
//! a real radix-sim network (real Radix Engine, loopback HTTP), injects one fault through the
//! sim's control API and asserts the outcome on the sim's ledger (what committed, when the key
//! changed), on the daemon's state file, its log and the alerts a loopback webhook receives;
//! never on the daemon's claims alone.
//!
//! Every scenario also checks that the badge account's private key appears in no log line, no
//! state file and no alert (`Harness::stop`, `Harness::assert_no_secret_in_alerts`).
//!
//! Timing: the harness's sim has 4 s epochs (20 rounds of 200 ms); the daemon polls every
//! 200 ms (the config radix-sim writes). Each test takes roughly 5–25 s. SIGKILL in each phase,
//! SIGTERM and a full disk are in `crash_safety.rs`.

mod common;

use std::time::Duration;

use common::{Daemon, Harness, STEP};
use radix_sim::ledger::types::IntentStatus;
use serde_json::json;

/// The intent the state file records for the failover in flight.
async fn decided_intent(h: &Harness) -> String {
    let decided = h
        .wait_for_state(&h.state_file(), "failing_over", STEP)
        .await;
    decided["intent_hash"]
        .as_str()
        .expect("the intent is in the state file")
        .to_string()
}

/// How many log lines contain `pat`.
fn count_lines(d: &Daemon, pat: &str) -> usize {
    d.lines().iter().filter(|l| l.contains(pat)).count()
}

/// Makes the Core APIs of `liars` lie (+10 misses for our validator: far above the miss
/// threshold of 3 and the tolerance of 2 between honest sources, so believing them would fail
/// over at once) and checks, over two epoch changes (a liar's count restarts from 10 each
/// epoch), that each is named as contradicted, that no poll trusts every source again, and
/// that nothing fails over. `all_trusted` is the summary's text when every ledger source is
/// trusted.
async fn lie_and_check_nothing_happens(
    h: &Harness,
    d: &mut Daemon,
    liars: &[&str],
    all_trusted: &str,
) {
    let from = d.line_count();
    for node in liars {
        h.fault(json!({"action": "core_lies", "node": node, "extra_missed": 10}))
            .await;
    }
    // Under load a source may also time out now and then; the warning that matters is the
    // one that finds the lie.
    let mut last = from;
    for node in liars {
        let liar = format!("core {}", h.core_host(node));
        let (at, warning) = d
            .wait_line_after(
                from,
                &format!("source {liar} is not trusted: contradicted"),
                STEP,
            )
            .await;
        assert!(
            warning.contains("reports 1"),
            "the warning gives the lying count (10 or more): {warning}"
        );
        last = last.max(at);
    }
    let start = h.epoch();
    h.wait_epochs(2).await;
    assert!(h.epoch() >= start + 2);
    h.assert_no_failover(d, "lying sources");
    // From then on no poll trusted every source: the liars stayed untrusted. (One may be
    // "trusted" on a poll where the other Core sources time out under load; then too few
    // sources remain to confirm anything, which the no-failover checks cover.)
    let polls = d.polls_after_with(last + 1, "").len();
    assert!(polls >= 10, "the daemon kept polling ({polls} polls)");
    let trusted = d.polls_after_with(last + 1, all_trusted);
    assert!(trusted.is_empty(), "a liar was trusted: {trusted:?}");
}

/// 1. One of the Core sources lies, reporting misses that did not happen: it is found out
///    (contradicted by the others), named in a warning, and nothing fails over. The real
///    outage afterwards still fails over, with the liar still lying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_source_is_contradicted_and_causes_no_failover() {
    let h = Harness::start(31).await;
    let mut d = h.armed("daemon").await;
    lie_and_check_nothing_happens(&h, &mut d, &["validator-1"], "sources 5/5 trusted").await;
    // The liar cannot block a real failover: the honest sources still form a quorum.
    h.primary_dies_and_one_commits(&mut d).await;
    h.stop(&mut d).await;
}

/// 1b. Exactly three real-time sources (the Core APIs of one independent node, the primary and
///     the backup), one of which lies: it is outvoted and nothing fails over; the real outage
///     afterwards still fails over (by the early signal: with the primary's Core API down, the
///     liar and the backup's disagree, so no miss can be confirmed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_three_core_sources_lies_and_nothing_fails_over() {
    let h = Harness::start(43).await;
    let v1 = h
        .info
        .node("validator-1")
        .expect("node")
        .core_api_url
        .clone();
    h.set_config("core_apis", &format!("[\"{v1}\"]"));
    let mut d = h.armed("daemon").await;
    assert!(
        d.has_line("/4 trusted"),
        "a gateway and three Core APIs are the ledger sources"
    );
    lie_and_check_nothing_happens(&h, &mut d, &["validator-1"], "sources 4/4 trusted").await;
    h.primary_dies_and_one_commits(&mut d).await;
    h.stop(&mut d).await;
}

/// 2. Every gateway is down while the primary is fine: no failover, and a `source_degraded`
///    alert naming the gateway reaches the operator's webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gateway_down_is_no_failover_and_an_alert() {
    let h = Harness::start(32).await;
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;

    h.fault(json!({"action": "gateway_down"})).await;
    let gateway = format!("gateway {}", h.gateway_host());
    let alert = hook.wait_event("source_degraded", &gateway, STEP).await;
    assert_ne!(
        alert["severity"], "info",
        "a degraded source is no info: {alert}"
    );
    assert_eq!(alert["validator"], h.info.our_validator.as_str());

    h.wait_epochs(2).await;
    h.assert_no_failover(&d, "every gateway down");
    let events = hook.events();
    assert!(
        !events.iter().any(|e| e == "failover_decided"),
        "{events:?}"
    );
    h.stop(&mut d).await;
    h.assert_no_secret_in_alerts(&hook);
}

/// 3. A stale gateway (it keeps serving an old ledger) is not trusted, and the failover is
///    decided and committed from the fresh Core sources, in the epoch of the fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_gateway_is_ignored_and_the_fresh_sources_decide() {
    let h = Harness::start(33).await;
    let mut d = h.armed("daemon").await;

    let from = d.line_count();
    h.fault(json!({"action": "gateway_stale"})).await;
    let gateway = format!("gateway {}", h.gateway_host());
    let (stale_at, line) = d
        .wait_line_after(
            from,
            &format!("source {gateway} is not trusted: lagging"),
            STEP,
        )
        .await;
    assert!(line.contains("old"), "says how old: {line}");

    let fault = h.primary_dies_and_one_commits(&mut d).await;
    let commit = h.wait_key_change_epoch().await;
    assert_eq!(
        commit, fault.epoch,
        "committed in epoch {commit}, the fault was in epoch {}",
        fault.epoch
    );
    // The stale gateway was never trusted again meanwhile: the decision came from the others.
    let again = format!("source {gateway} is trusted again");
    let trusted: Vec<String> = d
        .lines_from(stale_at + 1)
        .into_iter()
        .filter(|l| l.contains(&again))
        .collect();
    assert!(
        trusted.is_empty(),
        "the stale gateway was trusted: {trusted:?}"
    );
    d.wait_line("FAILOVER COMPLETE", STEP).await;
    // The state file follows the log line within the same poll.
    h.wait_for_state(&h.state_file(), "failed_over", STEP).await;
    h.stop(&mut d).await;
}

/// 4. The submit fails transiently three times in a row on every endpoint: the same intent is
///    re-sent and still commits, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_transient_submit_failures_still_commit_one_transaction() {
    let h = Harness::start(34).await;
    let mut d = h.armed("daemon").await;

    // The daemon sends to every ledger source at once: the gateway and 4 Core APIs, of which
    // the dead primary's refuses connections (no sim failure consumed). 4 reachable endpoints
    // x 3 = three whole rounds of submits fail.
    const REACHABLE_TX_ENDPOINTS: u32 = 4;
    const FAILURES: u32 = REACHABLE_TX_ENDPOINTS * 3;
    h.fault(json!({"action": "submit_failing", "count": FAILURES}))
        .await;
    let fault = h.primary_dies_and_one_commits(&mut d).await;

    let committed = h.committed();
    let decided = d.wait_line("FAILOVER DECIDED", STEP).await;
    assert!(
        decided.contains(&format!("intent {} ", committed[0].0)),
        "the intent decided first is the one committed: {decided}"
    );
    assert_eq!(
        count_lines(&d, "REBUILT"),
        0,
        "no rebuild for transient failures"
    );
    assert!(matches!(committed[0].1, IntentStatus::CommittedSuccess(_)));
    // Every injected failure was consumed: the daemon really submitted more than 12 times.
    let view = h.faults_view().await;
    assert_eq!(view["submit_failures_remaining"], 0, "{view}");
    let failed = count_lines(&d, "fault submit_failing");
    assert!(
        failed >= FAILURES as usize,
        "each failed submit is logged ({failed} of {FAILURES})"
    );
    let commit = h.wait_key_change_epoch().await;
    assert_eq!(commit, fault.epoch, "the retries fit in the fault's epoch");
    h.stop(&mut d).await;
}

/// 5. The mempool executes nothing until the transaction's epoch window has ended: the daemon
///    rebuilds a new intent with a later window, the new one commits, the old one never does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_window_is_rebuilt_and_only_the_new_intent_commits() {
    let h = Harness::start(35).await;
    let mut d = h.armed("daemon").await;

    // From round 1-2 of epoch E: the window of an intent built in E is E..E+2 (2 epochs), so a
    // stall of 2 epochs + 8 rounds outlives it by about 8 rounds, giving the daemon time to
    // see the end of the window and to rebuild before the mempool runs again.
    let rounds = 2 * common::ROUNDS_PER_EPOCH + 8;
    let fault = h
        .fault_early_in_epoch(json!({"action": "mempool_stall", "rounds": rounds}))
        .await;
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    let old = decided_intent(&h).await;
    assert_eq!(h.epoch(), fault.epoch, "decided in the fault's epoch");

    let rebuilt = d.wait_line("REBUILT the transaction", STEP).await;
    assert!(rebuilt.contains(&old), "names the old intent: {rebuilt}");
    assert!(rebuilt.contains("window ended"), "says why: {rebuilt}");
    d.wait_line("COMMITTED", STEP).await;

    let committed = h.committed();
    assert_eq!(committed.len(), 1, "exactly one transaction: {committed:?}");
    let new = &committed[0].0;
    assert_ne!(new, &old, "the committed intent is the rebuilt one");
    assert!(
        rebuilt.contains(new.as_str()),
        "the rebuilt intent committed: {rebuilt}"
    );
    let commit = h.wait_key_change_epoch().await;
    assert!(
        commit >= fault.epoch + 2,
        "committed in epoch {commit}, after the old window (ends at {})",
        fault.epoch + 2
    );
    // The old intent reached the mempool but was refused once the stall ended: it never
    // commits, not even later.
    h.wait_epochs(1).await;
    assert_eq!(h.committed().len(), 1);
    let old_status = h.sim.intent_status(&old);
    assert!(
        matches!(old_status, IntentStatus::PermanentlyRejected { .. }),
        "old intent: {old_status:?}"
    );
    d.wait_line("FAILOVER COMPLETE", STEP).await;
    h.stop(&mut d).await;
}

/// 6. With `policy.rearm = false`, the backup dies after the failover (the primary is dead
///    too): the daemon says so loudly and does not switch back on its own: no new
///    transaction, the phase stays failed over. (With re-arm, the default, see
///    tests/rearm.rs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_dies_after_failover_is_reported_and_nothing_switches_back() {
    let h = Harness::start(36).await;
    h.edit_config(|t| t.replace("\n[policy]\n", "\n[policy]\nrearm = false\n"));
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    h.primary_dies_and_one_commits(&mut d).await;
    d.wait_line("FAILOVER COMPLETE", STEP).await;

    h.fault(json!({"action": "node_down", "node": "backup"}))
        .await;
    let line = d.wait_line("BACKUP IS NOT HEALTHY", STEP).await;
    assert!(line.contains("No automatic switch back"), "{line}");
    let alert = hook
        .wait_event("backup_unhealthy", "BACKUP IS NOT HEALTHY", STEP)
        .await;
    assert_eq!(alert["severity"], "critical", "{alert}");
    h.wait_epochs(2).await;
    assert_eq!(
        h.committed().len(),
        1,
        "no automatic switch back: {:?}",
        h.committed()
    );
    assert_eq!(h.state_phase(&h.state_file()), "failed_over");
    assert_eq!(count_lines(&d, "FAILOVER DECIDED"), 1, "one decision only");
    // Said once per episode, not on every poll.
    assert_eq!(
        count_lines(&d, "BACKUP IS NOT HEALTHY"),
        1,
        "the backup alarm repeats every poll"
    );
    let events = hook.events();
    assert!(
        !events.iter().any(|e| e == "failback"),
        "no fail back: {events:?}"
    );
    let decided = events.iter().filter(|e| *e == "failover_decided").count();
    assert_eq!(decided, 1, "{events:?}");
    h.stop(&mut d).await;
    h.assert_no_secret_in_alerts(&hook);
}

/// The state file cannot be read at start (here it is a directory): a clear error naming it,
/// and nothing is done blind, even with the primary down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_state_file_stops_the_daemon_before_any_action() {
    let h = Harness::start(42).await;
    std::fs::create_dir(h.state_file()).expect("a directory where the state file goes");
    h.assert_run_refuses_blind().await;
    assert!(h.state_file().is_dir(), "left as it was");
}

/// While the failover transaction is in flight the policy's view may turn to Blocked (here
/// the backup falls out of sync for a second while the mempool holds the transaction). The
/// daemon keeps submitting all along, so it must not tell the operator "failover NEEDED but
/// BLOCKED ... Nothing is submitted until this is fixed" (a `failover_blocked` alert) about the
/// failover it is carrying out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_failover_blocked_alert_while_the_failover_is_in_flight() {
    let h = Harness::start(44).await;
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    // Nothing commits until the check below is done.
    h.fault(json!({"action": "mempool_stall", "rounds": 100_000}))
        .await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    decided_intent(&h).await;
    let from = d.line_count();
    h.fault(json!({"action": "node_out_of_sync", "node": "backup"}))
        .await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    h.fault(json!({"action": "node_in_sync", "node": "backup"}))
        .await;
    h.fault(json!({"action": "mempool_stall", "rounds": 0}))
        .await;
    let polls = d.polls_after_with(from, "| phase failing_over").len();
    assert!(
        polls >= 3,
        "the daemon kept polling while failing over ({polls})"
    );
    d.wait_line("FAILOVER COMPLETE", STEP).await;
    assert_eq!(h.committed().len(), 1);
    let events = hook.events();
    assert!(events.iter().any(|e| e == "failover_decided"), "{events:?}");
    let blocked: Vec<_> = hook
        .bodies()
        .into_iter()
        .filter(|b| b["event"] == "failover_blocked")
        .collect();
    assert!(
        blocked.is_empty(),
        "a failover_blocked alert while the failover was being submitted: {blocked:?}"
    );
    h.stop(&mut d).await;
    h.assert_no_secret_in_alerts(&hook);
}

/// The submit never gets through before the submit deadline: the daemon gives up loudly (a
/// `gave_up` alert, phase halted), keeps running, and submits nothing more on its own even once
/// the endpoints work again; an operator's manual failover then commits, and the daemon
/// follows the ledger to failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_deadline_gives_up_halts_and_follows_a_manual_failover() {
    let h = Harness::start(45).await;
    // 3 s: a short deadline keeps the test short (the written config has 6 epochs).
    h.set_config("submit_deadline", "\"3s\"");
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    h.fault(json!({"action": "submit_failing", "count": 1_000_000}))
        .await;
    h.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    d.wait_line("FAILOVER DECIDED", STEP).await;
    let line = d.wait_line("GAVE UP", STEP).await;
    assert!(line.contains("deadline"), "says why: {line}");
    hook.wait_event("gave_up", "GAVE UP", STEP).await;
    h.wait_for_state(&h.state_file(), "halted", STEP).await;

    // The endpoints work again: a halted daemon still sends nothing by itself.
    h.fault(json!({"action": "submit_failing", "count": 0}))
        .await;
    h.wait_epochs(1).await;
    assert!(
        h.committed().is_empty(),
        "a halted daemon submitted: {:?}",
        h.committed()
    );
    assert_eq!(h.state_phase(&h.state_file()), "halted");

    // The operator fails over by hand. The daemon runs, so the command goes through it (its
    // control socket): the halted daemon carries out the operator's failover itself, and
    // follows it to the ledger. (Without a running daemon the CLI would act under the state
    // file's lock, and a daemon started later says "no longer halted".)
    // --no-wait: the CLI's own wait for the backup to validate would use the 3 s deadline.
    let out = h.cli(&["failover", "--yes", "--no-wait"]).await;
    assert!(out.to_lowercase().contains("committed"), "{out}");
    d.wait_line("control: failover requested", STEP).await;
    h.wait_for_state(&h.state_file(), "failed_over", STEP).await;
    assert_eq!(h.committed().len(), 1, "{:?}", h.committed());
    h.stop(&mut d).await;
    h.assert_no_secret_in_alerts(&hook);
}

/// 1c. Two of the four Core sources tell the same lie (colluding, or one bad upstream behind
///     both): each is still contradicted by most of the others, and nothing fails over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_four_core_sources_telling_the_same_lie_cause_no_failover() {
    let h = Harness::start(46).await;
    let mut d = h.armed("daemon").await;
    lie_and_check_nothing_happens(
        &h,
        &mut d,
        &["validator-1", "validator-2"],
        "sources 5/5 trusted",
    )
    .await;
    h.stop(&mut d).await;
}
