//! Crash safety end to end (issue 6 §3): the real `radix-failover run` binary against a real
//! radix-sim network, killed without warning (SIGKILL) in each phase of a failover, stopped by
//! SIGTERM in the middle of one, and unable to write its state file (disk full). After each,
//! the outcome is checked on the engine: exactly one committed `update_key`, the intent the
//! first daemon persisted, the backup's key in force and the backup validating; and the state
//! file shows the right phase.
//!
//! Timing: the harness's sim has 4 s epochs (20 rounds of 200 ms), the daemon polls every
//! 200 ms with a 400 ms request timeout (the config radix-sim writes). To stop the daemon in a
//! phase that lasts only milliseconds, the test widens it with a sim fault (a slow gateway
//! holds the first status query; a mempool stall keeps a submitted transaction pending) and
//! pauses the sim's clock while the daemon is down, so the restart finds the ledger where the
//! first daemon left it. Assertions are on states, never on how long something took.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Daemon, Harness, WebhookReceiver};
use radix_sim::ledger::types::IntentStatus;
use serde_json::{json, Value};

/// Waits for decisions, commits, epoch changes and log lines: generous for a loaded 2-core
/// machine, while a passing test only waits as long as the scenario needs.
const LONG: Duration = Duration::from_secs(60);
/// A clean exit on SIGTERM: the loop finishes its poll (at most a request timeout, 400 ms)
/// and its alert queue (5 s at most, none configured here) first; 10 s allows for load.
const EXIT: Duration = Duration::from_secs(10);
/// Rounds a mempool stall holds a submitted transaction pending: 30 rounds (1.5 epochs) is
/// far longer than decide-submit-kill takes, and ends before the 2-epoch window of an intent
/// decided in the stall's epoch, so even a stall that runs out never expires the intent. The
/// tests end it early (`rounds: 0`) once the restarted daemon runs.
const STALL_ROUNDS: u64 = 30;

/// Starts the daemon and waits until it is armed (pre-flight passed) and watching.
async fn armed(h: &Harness, name: &str) -> Daemon {
    let mut d = Daemon::spawn(&h.config, &[], name);
    d.wait_line("pre-flight passed", LONG).await;
    d.wait_line("| phase watching", LONG).await;
    d
}

/// Starts the daemon again with the same config and waits for it to load `phase` from the
/// state file (the start-up line `state file ... (phase X)`).
async fn restart(h: &Harness, name: &str, phase: &str) -> Daemon {
    let mut d = Daemon::spawn(&h.config, &[], name);
    d.wait_line(&format!("(phase {phase})"), LONG).await;
    d
}

fn intent_of(phase: &Value) -> String {
    let intent = phase["intent_hash"]
        .as_str()
        .unwrap_or_else(|| panic!("no intent_hash in the phase {phase}"))
        .to_string();
    assert!(intent.starts_with("txid_"), "an intent hash: {intent}");
    intent
}

/// The engine's view after a failover: exactly one committed user transaction, a success,
/// the intent `expected` (when the first daemon had persisted one); the backup's key reached
/// the ledger and the backup validates. Then the state file reaches `failed_over`.
async fn assert_failed_over_once(h: &Harness, expected: Option<&str>) -> String {
    let phase = h.wait_for_state(&h.state_file(), "failed_over", LONG).await;
    let committed = h.committed();
    assert_eq!(
        committed.len(),
        1,
        "exactly one committed update_key: {committed:?}"
    );
    let (intent, status) = &committed[0];
    assert!(
        matches!(status, IntentStatus::CommittedSuccess(_)),
        "committed with success: {status:?}"
    );
    if let Some(expected) = expected {
        assert_eq!(
            intent, expected,
            "the committed intent is the one the first daemon persisted"
        );
    }
    assert_eq!(
        phase["intent_hash"].as_str(),
        Some(intent.as_str()),
        "the state file names the committed intent: {phase}"
    );
    let key_epoch = h.wait_key_change_epoch().await;
    assert!(
        h.epoch() > key_epoch,
        "failed_over only after an epoch change (key changed in {key_epoch}, now {})",
        h.epoch()
    );
    assert_eq!(
        h.identity("backup").await["consensus_status"],
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    intent.clone()
}

/// A restart in `failed_over` takes no action: nothing new commits over a whole epoch, and the
/// state stays `failed_over`.
async fn assert_restart_in_failed_over_is_quiet(h: &Harness, name: &str) {
    let before = h.committed();
    let mut d = restart(h, name, "failed_over").await;
    d.wait_line("| phase failed_over", LONG).await;
    h.wait_epochs(1).await;
    assert!(d.is_running(), "the restarted daemon keeps running");
    assert_eq!(h.committed(), before, "a restart in failed_over submitted");
    assert!(
        !d.has_line("FAILOVER DECIDED"),
        "a restart in failed_over decided again"
    );
    assert_eq!(h.state_phase(&h.state_file()), "failed_over");
    d.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d);
}

/// SIGKILL while deciding: the state file already says `failing_over` with the intent, but
/// nothing has been submitted. A slow gateway holds the daemon's first status query of the
/// new intent for a request timeout (400 ms), which is when it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_deciding_then_restart_submits_the_persisted_intent_once() {
    let h = Harness::start(61).await;
    let state = h.state_file();
    let mut d = armed(&h, "first").await;
    // After the pre-flight (which needs the gateway) has passed; the Core sources still give
    // the quorum, and the gateway's status answer now takes longer than the request timeout.
    h.fault(json!({"action": "gateway_slow", "latency_ms": 3000}))
        .await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    let phase = h
        .wait_for_phase_where(
            &state,
            "failing_over with submitted == false",
            |p| p["phase"] == "failing_over",
            LONG,
        )
        .await;
    d.kill();
    assert_eq!(
        phase["submitted"], false,
        "caught the decision before the submit: {phase}"
    );
    let intent = intent_of(&phase);
    h.clock("pause").await;
    assert!(h.committed().is_empty(), "nothing committed yet");
    // On the engine: the killed daemon never sent it.
    assert!(
        matches!(h.sim.intent_status(&intent), IntentStatus::Unknown),
        "the intent reached the network before the kill: {:?}",
        h.sim.intent_status(&intent)
    );
    // The file on disk after the kill is whole and still names that intent.
    let on_disk = Harness::phase_of(&h.state(&state).expect("state file is valid JSON"));
    assert_eq!(on_disk["phase"], "failing_over");
    assert_eq!(intent_of(&on_disk), intent);
    h.assert_no_secrets(&d);

    h.fault(json!({"action": "gateway_healthy"})).await;
    let mut d2 = restart(&h, "restarted", "failing_over").await;
    h.clock("resume").await;
    d2.wait_line("COMMITTED", LONG).await;
    assert_failed_over_once(&h, Some(&intent)).await;
    d2.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d2);
}

/// SIGKILL after the submit (`failing_over`, submitted == true), the transaction pending (a
/// mempool stall) and the ledger frozen while the daemon is down, a half-written temp file
/// left beside the state file: the restart follows the same intent, which commits once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_submit_then_restart_commits_the_same_intent_once() {
    let h = Harness::start(62).await;
    let state = h.state_file();
    let mut d = armed(&h, "first").await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    // The decision needs several polls after the fault: the stall is in force before any
    // submit.
    h.fault(json!({"action": "mempool_stall", "rounds": STALL_ROUNDS}))
        .await;
    let phase = h
        .wait_for_phase_where(
            &state,
            "failing_over with submitted == true",
            |p| p["phase"] == "failing_over" && p["submitted"] == true,
            LONG,
        )
        .await;
    let intent = intent_of(&phase);
    // The state says submitted before the send (so that a crash in between is covered);
    // wait until the engine has it too: pending, held by the stall.
    let deadline = std::time::Instant::now() + LONG;
    while !matches!(h.sim.intent_status(&intent), IntentStatus::Pending { .. }) {
        assert!(
            std::time::Instant::now() < deadline,
            "the persisted intent never reached the network: {:?}",
            h.sim.intent_status(&intent)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    h.clock("pause").await;
    d.kill();
    assert!(
        h.committed().is_empty(),
        "the stall holds the transaction: {:?}",
        h.committed()
    );
    h.assert_no_secrets(&d);
    // What a SIGKILL in the middle of a save leaves: a half-written temp file beside the good
    // state file. The restart must read the good file and clear the leftover.
    let tmp = tmp_of(&state);
    const LEFTOVER: &str = "{\"format\": 1, \"validator\": \"LEFTOVER-OF-A-KILLED-SAVE";
    std::fs::write(&tmp, LEFTOVER).expect("write leftover");

    let mut d2 = restart(&h, "restarted", "failing_over").await;
    // The running daemon may be in the middle of its own save (its own `.tmp`): only the
    // leftover's content must be gone.
    let now = std::fs::read_to_string(&tmp).unwrap_or_default();
    assert!(
        !now.contains("LEFTOVER"),
        "the restart removed the half-written temp file: {now}"
    );
    h.clock("resume").await;
    h.fault(json!({"action": "mempool_stall", "rounds": 0}))
        .await;
    d2.wait_line("COMMITTED", LONG).await;
    assert_failed_over_once(&h, Some(&intent)).await;
    d2.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d2);
}

/// SIGKILL after the submit, and the daemon stays down until the intent's epoch window has
/// ended (the transaction held pending by a mempool stall meanwhile): the restart finds an
/// intent that can never commit, rebuilds it, and only the new intent commits; the old one is
/// rejected by the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_down_past_the_window_then_restart_rebuilds_and_only_the_new_intent_commits() {
    let h = Harness::start(69).await;
    let state = h.state_file();
    let mut d = armed(&h, "first").await;
    // From round 1-2 of epoch E: an intent decided in E has the window E..E+2. The stall holds
    // everything past that window (it is ended by hand once the restart has rebuilt).
    let fault = h
        .fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    h.fault(json!({"action": "mempool_stall", "rounds": 4 * common::ROUNDS_PER_EPOCH}))
        .await;
    let phase = h
        .wait_for_phase_where(
            &state,
            "failing_over with submitted == true",
            |p| p["phase"] == "failing_over" && p["submitted"] == true,
            LONG,
        )
        .await;
    let old = intent_of(&phase);
    let end_epoch = phase["end_epoch"].as_u64().expect("end_epoch");
    assert!(
        end_epoch <= fault.epoch + 2,
        "window ends by {}: {phase}",
        fault.epoch + 2
    );
    let deadline = std::time::Instant::now() + LONG;
    while !matches!(h.sim.intent_status(&old), IntentStatus::Pending { .. }) {
        assert!(
            std::time::Instant::now() < deadline,
            "the intent never reached the network: {:?}",
            h.sim.intent_status(&old)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    d.kill();
    h.assert_no_secrets(&d);
    // Down while the window ends.
    let deadline = std::time::Instant::now() + LONG;
    while h.epoch() < end_epoch {
        assert!(
            std::time::Instant::now() < deadline,
            "the sim's clock stalled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(h.committed().is_empty(), "{:?}", h.committed());

    let mut d2 = restart(&h, "restarted", "failing_over").await;
    let rebuilt = d2.wait_line("REBUILT the transaction", LONG).await;
    assert!(rebuilt.contains(&old), "names the old intent: {rebuilt}");
    let phase = h
        .wait_for_phase_where(
            &state,
            "the rebuilt intent, submitted",
            |p| p["phase"] == "failing_over" && p["intent_hash"] != old.as_str(),
            LONG,
        )
        .await;
    let new = intent_of(&phase);
    assert!(
        phase["previous_intents"]
            .as_array()
            .is_some_and(|a| a.iter().any(|i| i == old.as_str())),
        "the state file remembers the old intent: {phase}"
    );
    h.fault(json!({"action": "mempool_stall", "rounds": 0}))
        .await;
    d2.wait_line("COMMITTED", LONG).await;
    assert_failed_over_once(&h, Some(&new)).await;
    let old_status = h.sim.intent_status(&old);
    assert!(
        matches!(old_status, IntentStatus::PermanentlyRejected { .. }),
        "the old intent never commits: {old_status:?}"
    );
    d2.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d2);
}

/// SIGKILL in `committed`, before the epoch change (the clock paused at once): the restart
/// submits nothing, waits for the epoch change and confirms the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_when_committed_before_the_epoch_change_then_restart_completes() {
    let h = Harness::start(63).await;
    let state = h.state_file();
    let mut d = armed(&h, "first").await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    let phase = h.wait_for_state(&state, "committed", LONG).await;
    h.clock("pause").await;
    d.kill();
    let intent = intent_of(&phase);
    let commit_epoch = phase["commit_epoch"].as_u64().expect("commit_epoch");
    assert_eq!(
        h.epoch(),
        commit_epoch,
        "killed before the epoch change (the fault was early in the epoch)"
    );
    let committed = h.committed();
    assert_eq!(committed.len(), 1, "{committed:?}");
    assert_eq!(
        committed[0].0, intent,
        "the engine committed the persisted intent"
    );
    h.assert_no_secrets(&d);

    let mut d2 = restart(&h, "restarted", "committed").await;
    h.clock("resume").await;
    d2.wait_line("FAILOVER COMPLETE", LONG).await;
    assert_failed_over_once(&h, Some(&intent)).await;
    assert!(
        !d2.has_line("FAILOVER DECIDED"),
        "the restart decided again"
    );
    d2.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d2);
}

/// SIGKILL in `committed` while waiting for the epoch, and the epoch changes while the daemon
/// is down: the restart finds the backup's key in force and completes without a transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_waiting_for_the_epoch_and_restart_after_it_completes() {
    let h = Harness::start(64).await;
    let state = h.state_file();
    let mut d = armed(&h, "first").await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    let phase = h.wait_for_state(&state, "committed", LONG).await;
    d.kill();
    let intent = intent_of(&phase);
    let commit_epoch = phase["commit_epoch"].as_u64().expect("commit_epoch");
    h.assert_no_secrets(&d);
    // Down across the epoch change, and until the backup's key is in force.
    let deadline = std::time::Instant::now() + LONG;
    while h.epoch() <= commit_epoch {
        assert!(
            std::time::Instant::now() < deadline,
            "the sim's clock stalled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        h.state_phase(&state),
        "committed",
        "the state file keeps the phase the killed daemon wrote"
    );

    let mut d2 = restart(&h, "restarted", "committed").await;
    d2.wait_line("FAILOVER COMPLETE", LONG).await;
    assert_failed_over_once(&h, Some(&intent)).await;
    assert!(
        !d2.has_line("FAILOVER DECIDED"),
        "the restart decided again"
    );
    d2.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d2);
}

/// SIGKILL after the failover completed (`failed_over`): restarts take no action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_when_failed_over_then_restart_submits_nothing() {
    let h = Harness::start(65).await;
    let mut d = armed(&h, "first").await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    let intent = assert_failed_over_once(&h, None).await;
    d.kill();
    h.assert_no_secrets(&d);
    assert_restart_in_failed_over_is_quiet(&h, "restarted").await;
    // The file still names the intent that committed.
    let phase = Harness::phase_of(&h.state(&h.state_file()).expect("state"));
    assert_eq!(intent_of(&phase), intent);
}

/// Adds `[alerts] webhook` pointing at a fresh loopback receiver to the harness's config.
async fn with_webhook(h: &Harness) -> WebhookReceiver {
    let hook = WebhookReceiver::start().await;
    let url = hook.url.clone();
    h.edit_config(|t| format!("{t}\n[alerts]\nwebhook = {{ url = \"{url}\" }}\n"));
    hook
}

/// `<state file>.tmp`, where `StateFile::save` writes before renaming.
fn tmp_of(state: &Path) -> std::path::PathBuf {
    let mut s = state.as_os_str().to_os_string();
    s.push(".tmp");
    s.into()
}

/// Fails over with the disk full when the state is written: a directory where the save's temp
/// file goes makes every save fail (as root, chmod would not). Checks that the daemon neither
/// crashes nor stops, logs and alerts the error, and that the failover still commits (once)
/// and completes, on the engine. Returns the blocker directory and the committed intent.
async fn fail_over_with_a_full_disk(
    h: &Harness,
    hook: &WebhookReceiver,
    d: &mut Daemon,
) -> (std::path::PathBuf, String) {
    let state = h.state_file();
    let blocker = tmp_of(&state);
    std::fs::create_dir(&blocker).expect("mkdir the blocker");

    let from = d.line_count();
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    d.wait_line_after(from, "FAILOVER DECIDED", LONG).await;
    d.wait_line_after(from, "cannot write the state file", LONG)
        .await;
    hook.wait_event("state_file_error", "", LONG).await;
    d.wait_line_after(from, "COMMITTED", LONG).await;
    d.wait_line_after(from, "FAILOVER COMPLETE", LONG).await;
    assert!(d.is_running(), "the daemon survived the failed writes");

    // On the engine: one committed success, the backup's key, the backup validating.
    let committed = h.committed();
    assert_eq!(committed.len(), 1, "{committed:?}");
    assert!(matches!(committed[0].1, IntentStatus::CommittedSuccess(_)));
    let key_epoch = h.wait_key_change_epoch().await;
    assert!(h.epoch() > key_epoch);
    assert_eq!(
        h.identity("backup").await["consensus_status"],
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    // Positive control: the blocker really stopped the writes (nothing was saved before the
    // fault, and nothing could be since).
    assert!(
        h.state(&state)
            .map(|s| Harness::phase_of(&s)["phase"] != "failed_over")
            .unwrap_or(true),
        "the state file was written despite the blocker"
    );
    (blocker, committed[0].0.clone())
}

fn assert_no_secret_in_alerts(h: &Harness, hook: &WebhookReceiver) {
    let key = std::fs::read_to_string(h.dir.path().join("owner.key")).expect("key file");
    let key = key.trim().to_lowercase();
    assert_eq!(key.len(), 64);
    for b in hook.bodies() {
        assert!(
            !b.to_string().to_lowercase().contains(&key),
            "secret in an alert: {b}"
        );
    }
}

/// Disk full during the failover: it still completes; and no crash loop: a daemon restarted
/// (after a SIGKILL) with the disk still full starts, keeps running, finds the backup's key on
/// ledger and submits nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_while_writing_the_state_still_fails_over_and_a_restart_runs() {
    let h = Harness::start(66).await;
    let hook = with_webhook(&h).await;
    let mut d = armed(&h, "daemon").await;
    let (blocker, _) = fail_over_with_a_full_disk(&h, &hook, &mut d).await;
    d.kill();
    h.assert_no_secrets(&d);

    // Nothing could be saved, so the restart starts from "watching" and must learn from the
    // ledger that the failover is done.
    let mut d2 = restart(&h, "restarted", "watching").await;
    d2.wait_line("already the backup's: failed over", LONG)
        .await;
    d2.wait_line("cannot write the state file", LONG).await;
    h.wait_epochs(1).await;
    assert!(d2.is_running(), "no exit (crash loop) with the disk full");
    assert!(blocker.is_dir(), "the daemon left the blocker alone");
    assert_eq!(h.committed().len(), 1, "the restart submitted something");
    assert!(
        !d2.has_line("FAILOVER DECIDED"),
        "the restart decided again"
    );
    d2.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d2);
    assert_no_secret_in_alerts(&h, &hook);
}

/// Disk full during the failover, then room again once it is complete: the daemon writes the
/// state file again (`failed_over`, the committed intent), says so, and resolves the alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_then_room_again_the_state_file_is_written_again() {
    let h = Harness::start(68).await;
    let hook = with_webhook(&h).await;
    let state = h.state_file();
    let mut d = armed(&h, "daemon").await;
    let (blocker, intent) = fail_over_with_a_full_disk(&h, &hook, &mut d).await;

    let from = d.line_count();
    std::fs::remove_dir(&blocker).expect("rmdir the blocker");
    d.wait_line_after(from, "state file written again", LONG)
        .await;
    let phase = h.wait_for_state(&state, "failed_over", LONG).await;
    assert_eq!(intent_of(&phase), intent);
    hook.wait_event("state_file_recovered", "", LONG).await;
    assert!(d.is_running());
    assert_eq!(h.committed().len(), 1);
    d.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d);
    assert_no_secret_in_alerts(&h, &hook);
}

/// The worst case of a full disk: the daemon submits (the state file cannot record it), is
/// killed, and restarts in a later epoch, while its transaction is still pending (a mempool
/// stall). The restart knows nothing of the pending intent from its state file; still, exactly
/// one `update_key` may commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_then_sigkill_after_submit_and_restart_next_epoch_commits_once() {
    let h = Harness::start(70).await;
    let state = h.state_file();
    let mut d = armed(&h, "first").await;
    std::fs::create_dir(tmp_of(&state)).expect("mkdir the blocker");
    let fault = h
        .fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    h.fault(json!({"action": "mempool_stall", "rounds": 4 * common::ROUNDS_PER_EPOCH}))
        .await;
    let decided = d.wait_line("FAILOVER DECIDED", LONG).await;
    let first = decided
        .split_whitespace()
        .find(|w| w.starts_with("txid_"))
        .unwrap_or_else(|| panic!("no intent in {decided}"))
        .to_string();
    let deadline = std::time::Instant::now() + LONG;
    while !matches!(h.sim.intent_status(&first), IntentStatus::Pending { .. }) {
        assert!(
            std::time::Instant::now() < deadline,
            "the intent never reached the network: {:?}",
            h.sim.intent_status(&first)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    d.kill();
    assert!(d.has_line("cannot write the state file"));
    h.assert_no_secrets(&d);
    // Down into the next epoch; the first intent's window (2 epochs) is still open.
    let deadline = std::time::Instant::now() + LONG;
    while h.epoch() <= fault.epoch {
        assert!(
            std::time::Instant::now() < deadline,
            "the sim's clock stalled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut d2 = restart(&h, "restarted", "watching").await;
    // Whatever the restart does (adopt the pending intent or decide anew), give it time to
    // act, then let the mempool run.
    d2.wait_line("phase failing_over", LONG).await;
    // Let the mempool run while the first intent's window is still open (it was built for
    // the fault's epoch and is valid for 2 epochs): it can still commit.
    h.clock("pause").await;
    assert!(
        h.epoch() < fault.epoch + 2,
        "the first intent's window is still open (epoch {}, fault in {})",
        h.epoch(),
        fault.epoch
    );
    h.fault(json!({"action": "mempool_stall", "rounds": 0}))
        .await;
    h.clock("resume").await;
    d2.wait_line("FAILOVER COMPLETE", LONG).await;
    h.wait_epochs(1).await;
    let committed = h.committed();
    assert_eq!(
        committed.len(),
        1,
        "exactly one update_key committed (first daemon's intent {first}): {committed:?}"
    );
    d2.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d2);
}

/// SIGTERM during a failover (`failing_over`, submitted, pending): a clean exit (0) within a
/// few seconds, the state file whole and naming the intent, no temp file left, and a restart
/// completes the same intent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_failing_over_exits_cleanly_and_restart_completes() {
    let h = Harness::start(67).await;
    let state = h.state_file();
    let mut d = armed(&h, "first").await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    h.fault(json!({"action": "mempool_stall", "rounds": STALL_ROUNDS}))
        .await;
    let phase = h
        .wait_for_phase_where(
            &state,
            "failing_over with submitted == true",
            |p| p["phase"] == "failing_over" && p["submitted"] == true,
            LONG,
        )
        .await;
    let intent = intent_of(&phase);
    let t = std::time::Instant::now();
    d.sigterm_and_wait(EXIT)
        .await
        .expect("exit 0 on SIGTERM during a failover");
    eprintln!("SIGTERM -> exit 0 in {:?} during a failover", t.elapsed());
    h.clock("pause").await;
    assert!(
        d.has_line("shutting down (signal); phase failing_over"),
        "says it stops in failing_over"
    );
    assert!(h.committed().is_empty(), "{:?}", h.committed());
    let text = std::fs::read_to_string(&state).expect("state file");
    let on_disk: Value = serde_json::from_str(&text).expect("the state file is whole JSON");
    let on_disk = Harness::phase_of(&on_disk);
    assert_eq!(on_disk["phase"], "failing_over", "{on_disk}");
    assert_eq!(intent_of(&on_disk), intent);
    assert_eq!(on_disk["submitted"], true);
    assert!(!tmp_of(&state).exists(), "no temp file left behind");
    assert!(
        matches!(h.sim.intent_status(&intent), IntentStatus::Pending { .. }),
        "the intent is pending on the network: {:?}",
        h.sim.intent_status(&intent)
    );
    h.assert_no_secrets(&d);

    let mut d2 = restart(&h, "restarted", "failing_over").await;
    h.clock("resume").await;
    h.fault(json!({"action": "mempool_stall", "rounds": 0}))
        .await;
    d2.wait_line("COMMITTED", LONG).await;
    assert_failed_over_once(&h, Some(&intent)).await;
    d2.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d2);
}

/// A webhook that accepts connections and never answers: what a hung alert endpoint looks like.
/// Holds every connection open until dropped.
struct HangingWebhook {
    url: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl HangingWebhook {
    async fn start() -> HangingWebhook {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let n = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(sock);
            }
        });
        HangingWebhook {
            url: format!("http://{addr}/hook"),
            accepted,
            task,
        }
    }
}

impl Drop for HangingWebhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// SIGTERM during a failover while the alert channel hangs (its webhook accepts and never
/// answers, so deliveries are stuck): the daemon still exits 0 promptly with its state whole,
/// and a restart completes the same intent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_failing_over_with_a_hung_alert_channel_still_exits_promptly() {
    let h = Harness::start(71).await;
    let hook = HangingWebhook::start().await;
    let url = hook.url.clone();
    h.edit_config(|t| format!("{t}\n[alerts]\nwebhook = {{ url = \"{url}\" }}\n"));
    let state = h.state_file();
    let mut d = armed(&h, "first").await;
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    h.fault(json!({"action": "mempool_stall", "rounds": STALL_ROUNDS}))
        .await;
    let phase = h
        .wait_for_phase_where(
            &state,
            "failing_over with submitted == true",
            |p| p["phase"] == "failing_over" && p["submitted"] == true,
            LONG,
        )
        .await;
    let intent = intent_of(&phase);
    assert!(
        hook.accepted.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the daemon tried to deliver alerts to the hung webhook"
    );
    // The loop ends after its poll, then gives stuck alerts at most 5 s: 15 s allows for load.
    let t = std::time::Instant::now();
    d.sigterm_and_wait(Duration::from_secs(15))
        .await
        .expect("exit 0 on SIGTERM with a hung alert channel");
    eprintln!(
        "SIGTERM -> exit 0 in {:?} with a hung alert channel",
        t.elapsed()
    );
    h.clock("pause").await;
    let text = std::fs::read_to_string(&state).expect("state file");
    let on_disk: Value = serde_json::from_str(&text).expect("the state file is whole JSON");
    let on_disk = Harness::phase_of(&on_disk);
    assert_eq!(on_disk["phase"], "failing_over", "{on_disk}");
    assert_eq!(intent_of(&on_disk), intent);
    assert!(h.committed().is_empty(), "{:?}", h.committed());
    h.assert_no_secrets(&d);

    let mut d2 = restart(&h, "restarted", "failing_over").await;
    h.clock("resume").await;
    h.fault(json!({"action": "mempool_stall", "rounds": 0}))
        .await;
    d2.wait_line("COMMITTED", LONG).await;
    assert_failed_over_once(&h, Some(&intent)).await;
    d2.sigterm_and_wait(Duration::from_secs(15))
        .await
        .expect("clean exit");
    h.assert_no_secrets(&d2);
}
