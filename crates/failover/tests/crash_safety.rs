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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Daemon, Harness, Position, WebhookReceiver, ROUNDS_PER_EPOCH};
use radix_sim::ledger::types::IntentStatus;
use serde_json::{json, Value};

/// Waits for decisions, commits, epoch changes and log lines: generous for a loaded 2-core
/// machine, while a passing test only waits as long as the scenario needs.
const LONG: Duration = Duration::from_secs(60);
/// A clean exit on SIGTERM: the loop finishes its poll (at most a request timeout, 400 ms)
/// and drains its alert queue (5 s at most) first; 15 s allows for load.
const EXIT: Duration = Duration::from_secs(15);
/// Rounds a mempool stall holds a submitted transaction pending: 30 rounds (1.5 epochs) is
/// far longer than decide-submit-kill takes, and ends before the 2-epoch window of an intent
/// decided in the stall's epoch, so even a stall that runs out never expires the intent. The
/// tests end it early (`rounds: 0`) once the restarted daemon runs.
const STALL_ROUNDS: u64 = 30;

// ---- Steps the scenarios share. ----

/// Starts the daemon again with the same config and waits for it to load `phase` from the
/// state file (the start-up line `state file ... (phase X)`).
async fn restart(h: &Harness, phase: &str) -> Daemon {
    let mut d = Daemon::spawn(&h.config, &[], "restarted");
    d.wait_line(&format!("(phase {phase})"), LONG).await;
    d
}

/// The primary dies in the first rounds of an epoch; with `stall_rounds`, the mempool then
/// holds every user transaction pending that long (the decision takes several polls, so the
/// stall is in force before any submit).
async fn primary_dies(h: &Harness, stall_rounds: Option<u64>) -> Position {
    let at = h
        .fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    if let Some(rounds) = stall_rounds {
        stall(h, rounds).await;
    }
    at
}

/// `rounds` rounds execute no user transaction; 0 ends a stall.
async fn stall(h: &Harness, rounds: u64) {
    h.fault(json!({"action": "mempool_stall", "rounds": rounds}))
        .await;
}

/// Polls `cond` until it holds; fails naming `what` after [`LONG`].
async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + LONG;
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn wait_for_epoch(h: &Harness, epoch: u64) {
    wait_until(&format!("epoch {epoch}"), || h.epoch() >= epoch).await;
}

async fn wait_pending(h: &Harness, intent: &str) {
    wait_until(&format!("{intent} pending on the engine"), || {
        matches!(h.sim.intent_status(intent), IntentStatus::Pending { .. })
    })
    .await;
}

/// The committed intents, for failure messages (the engine's full records are long).
fn committed_ids(h: &Harness) -> Vec<String> {
    h.committed().into_iter().map(|(id, _)| id).collect()
}

fn intent_of(phase: &Value) -> String {
    let intent = phase["intent_hash"]
        .as_str()
        .unwrap_or_else(|| panic!("no intent_hash in the phase {phase}"))
        .to_string();
    assert!(intent.starts_with("txid_"), "an intent hash: {intent}");
    intent
}

/// Waits until the state file says `failing_over` with the intent submitted AND the engine
/// has that intent pending (the state says submitted just before the send, so that a crash in
/// between is covered). Returns the phase and the intent.
async fn wait_submitted_and_pending(h: &Harness) -> (Value, String) {
    let phase = h
        .wait_for_phase_where(
            &h.state_file(),
            "failing_over with submitted == true",
            |p| p["phase"] == "failing_over" && p["submitted"] == true,
            LONG,
        )
        .await;
    let intent = intent_of(&phase);
    wait_pending(h, &intent).await;
    (phase, intent)
}

/// The state file as it is on disk: whole JSON (never half-written), in `phase`, naming
/// `intent`. Returns the phase object.
fn assert_state_on_disk(h: &Harness, phase: &str, intent: &str) -> Value {
    let text = std::fs::read_to_string(h.state_file()).expect("state file");
    let on_disk: Value = serde_json::from_str(&text).expect("the state file is whole JSON");
    let on_disk = Harness::phase_of(&on_disk);
    assert_eq!(on_disk["phase"], phase, "{on_disk}");
    assert_eq!(intent_of(&on_disk), intent);
    on_disk
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
        "exactly one committed update_key: {:?}",
        committed_ids(h)
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

/// After a restart: the sim's clock runs again (it may have been paused while the daemon was
/// down) and any mempool stall ends; the failover completes with `intent` (see
/// [`assert_failed_over_once`]) without a new decision; the daemon exits cleanly.
async fn complete_after_restart(h: &Harness, mut d: Daemon, intent: Option<&str>) {
    h.clock("resume").await;
    stall(h, 0).await;
    assert_failed_over_once(h, intent).await;
    assert!(!d.has_line("FAILOVER DECIDED"), "the restart decided again");
    d.sigterm_and_wait(EXIT).await.expect("clean exit");
    h.assert_no_secrets(&d);
}

/// SIGTERM, asserting exit 0; prints how long the exit took (a printout, not a timed test).
async fn sigterm(d: &mut Daemon, when: &str) {
    let t = Instant::now();
    d.sigterm_and_wait(EXIT)
        .await
        .unwrap_or_else(|e| panic!("no clean exit on SIGTERM {when}: {e}"));
    eprintln!("SIGTERM {when} -> exit 0 in {:?}", t.elapsed());
}

/// `<state file>.tmp`, where `StateFile::save` writes before renaming.
fn tmp_of(state: &Path) -> PathBuf {
    let mut s = state.as_os_str().to_os_string();
    s.push(".tmp");
    s.into()
}

// ---- SIGKILL in each phase. ----

/// SIGKILL while deciding: the state file already says `failing_over` with the intent, but
/// nothing has been submitted. A slow gateway holds the daemon's first status query of the
/// new intent for a request timeout (400 ms), which is when it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_deciding_then_restart_submits_the_persisted_intent_once() {
    let h = Harness::start(61).await;
    let mut d = h.armed("first").await;
    // After the pre-flight (which needs the gateway) has passed; the Core sources still give
    // the quorum, and the gateway's status answer now takes longer than the request timeout.
    h.fault(json!({"action": "gateway_slow", "latency_ms": 3000}))
        .await;
    primary_dies(&h, None).await;
    let phase = h
        .wait_for_phase_where(
            &h.state_file(),
            "failing_over",
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
    assert_state_on_disk(&h, "failing_over", &intent);
    h.assert_no_secrets(&d);

    h.fault(json!({"action": "gateway_healthy"})).await;
    let d2 = restart(&h, "failing_over").await;
    complete_after_restart(&h, d2, Some(&intent)).await;
}

/// SIGKILL after the submit (`failing_over`, submitted == true), the transaction pending (a
/// mempool stall) and the ledger frozen while the daemon is down, a half-written temp file
/// left beside the state file: the restart follows the same intent, which commits once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_submit_then_restart_commits_the_same_intent_once() {
    let h = Harness::start(62).await;
    let mut d = h.armed("first").await;
    primary_dies(&h, Some(STALL_ROUNDS)).await;
    let (_, intent) = wait_submitted_and_pending(&h).await;
    h.clock("pause").await;
    d.kill();
    assert!(h.committed().is_empty(), "the stall holds the transaction");
    h.assert_no_secrets(&d);
    // What a SIGKILL in the middle of a save leaves: a half-written temp file beside the good
    // state file. The restart must read the good file and clear the leftover.
    let tmp = tmp_of(&h.state_file());
    const LEFTOVER: &str = "{\"format\": 1, \"validator\": \"LEFTOVER-OF-A-KILLED-SAVE";
    std::fs::write(&tmp, LEFTOVER).expect("write leftover");

    let d2 = restart(&h, "failing_over").await;
    // The running daemon may be in the middle of its own save (its own `.tmp`): only the
    // leftover's content must be gone.
    let now = std::fs::read_to_string(&tmp).unwrap_or_default();
    assert!(
        !now.contains("LEFTOVER"),
        "the restart removed the half-written temp file: {now}"
    );
    complete_after_restart(&h, d2, Some(&intent)).await;
}

/// SIGKILL after the submit, and the daemon stays down until the intent's epoch window has
/// ended (the transaction held pending by a mempool stall meanwhile): the restart finds an
/// intent that can never commit, rebuilds it, and only the new intent commits; the old one is
/// rejected by the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_down_past_the_window_then_restart_rebuilds_and_only_the_new_intent_commits() {
    let h = Harness::start(69).await;
    let mut d = h.armed("first").await;
    // From round 1-2 of epoch E: an intent decided in E has the window E..E+2. The stall holds
    // everything past that window (it is ended by hand once the restart has rebuilt).
    let fault = primary_dies(&h, Some(4 * ROUNDS_PER_EPOCH)).await;
    let (phase, old) = wait_submitted_and_pending(&h).await;
    let end_epoch = phase["end_epoch"].as_u64().expect("end_epoch");
    assert!(
        end_epoch <= fault.epoch + 2,
        "window ends by {}: {phase}",
        fault.epoch + 2
    );
    d.kill();
    h.assert_no_secrets(&d);
    // Down while the window ends.
    wait_for_epoch(&h, end_epoch).await;
    assert!(h.committed().is_empty(), "{:?}", committed_ids(&h));

    let mut d2 = restart(&h, "failing_over").await;
    let rebuilt = d2.wait_line("REBUILT the transaction", LONG).await;
    assert!(rebuilt.contains(&old), "names the old intent: {rebuilt}");
    let phase = h
        .wait_for_phase_where(
            &h.state_file(),
            "the rebuilt intent",
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
    complete_after_restart(&h, d2, Some(&new)).await;
    let old_status = h.sim.intent_status(&old);
    assert!(
        matches!(old_status, IntentStatus::PermanentlyRejected { .. }),
        "the old intent never commits: {old_status:?}"
    );
}

/// SIGKILL in `committed`, before the epoch change (the clock paused at once): the restart
/// submits nothing, waits for the epoch change and confirms the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_when_committed_before_the_epoch_change_then_restart_completes() {
    let h = Harness::start(63).await;
    let mut d = h.armed("first").await;
    primary_dies(&h, None).await;
    let phase = h.wait_for_state(&h.state_file(), "committed", LONG).await;
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
    assert_eq!(committed.len(), 1, "{:?}", committed_ids(&h));
    assert_eq!(
        committed[0].0, intent,
        "the engine committed the persisted intent"
    );
    h.assert_no_secrets(&d);

    let d2 = restart(&h, "committed").await;
    complete_after_restart(&h, d2, Some(&intent)).await;
}

/// SIGKILL in `committed` while waiting for the epoch, and the epoch changes while the daemon
/// is down: the restart finds the backup's key in force and completes without a transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_waiting_for_the_epoch_and_restart_after_it_completes() {
    let h = Harness::start(64).await;
    let mut d = h.armed("first").await;
    primary_dies(&h, None).await;
    let phase = h.wait_for_state(&h.state_file(), "committed", LONG).await;
    d.kill();
    let intent = intent_of(&phase);
    let commit_epoch = phase["commit_epoch"].as_u64().expect("commit_epoch");
    h.assert_no_secrets(&d);
    // Down across the epoch change.
    wait_for_epoch(&h, commit_epoch + 1).await;
    assert_eq!(
        h.state_phase(&h.state_file()),
        "committed",
        "the state file keeps the phase the killed daemon wrote"
    );

    let d2 = restart(&h, "committed").await;
    complete_after_restart(&h, d2, Some(&intent)).await;
}

/// SIGKILL after the failover completed (`failed_over`): a restart takes no action, nothing
/// new commits over a whole epoch, and the state stays `failed_over` with the intent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_when_failed_over_then_restart_submits_nothing() {
    let h = Harness::start(65).await;
    let mut d = h.armed("first").await;
    primary_dies(&h, None).await;
    let intent = assert_failed_over_once(&h, None).await;
    d.kill();
    h.assert_no_secrets(&d);

    let mut d2 = restart(&h, "failed_over").await;
    d2.wait_line("| phase failed_over", LONG).await;
    h.wait_epochs(1).await;
    assert!(d2.is_running(), "the restarted daemon keeps running");
    assert_eq!(h.committed().len(), 1, "a restart in failed_over submitted");
    let phase = h.wait_for_state(&h.state_file(), "failed_over", LONG).await;
    assert_eq!(intent_of(&phase), intent);
    complete_after_restart(&h, d2, Some(&intent)).await;
}

// ---- Disk full. ----

/// Puts a directory where the state file's save writes its temp file, so that every save
/// fails. The daemon writes the state file now and then while watching (the authority
/// tripwire's baseline, once per epoch), so its own temp file may sit at that path for a
/// moment: waits for that write to finish. Returns the blocker's path.
async fn put_blocker(state: &Path) -> PathBuf {
    let blocker = tmp_of(state);
    let deadline = std::time::Instant::now() + LONG;
    loop {
        match std::fs::create_dir(&blocker) {
            Ok(()) => return blocker,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the daemon's temp file {} never went away",
                    blocker.display()
                );
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(e) => panic!("mkdir the blocker: {e:?}"),
        }
    }
}

/// Fails over with the disk full when the state is written: a directory where the save's temp
/// file goes makes every save fail (as root, chmod would not). Checks that the daemon neither
/// crashes nor stops, logs and alerts the error, and that the failover still commits (once)
/// and completes, on the engine. Returns the blocker directory and the committed intent.
async fn fail_over_with_a_full_disk(
    h: &Harness,
    hook: &WebhookReceiver,
    d: &mut Daemon,
) -> (PathBuf, String) {
    let state = h.state_file();
    let blocker = put_blocker(&state).await;

    let from = d.line_count();
    primary_dies(h, None).await;
    d.wait_line_after(from, "FAILOVER DECIDED", LONG).await;
    d.wait_line_after(from, "cannot write the state file", LONG)
        .await;
    hook.wait_event("state_file_error", "", LONG).await;
    d.wait_line_after(from, "COMMITTED", LONG).await;
    d.wait_line_after(from, "FAILOVER COMPLETE", LONG).await;
    assert!(d.is_running(), "the daemon survived the failed writes");

    // On the engine: one committed success, the backup's key, the backup validating.
    let committed = h.committed();
    assert_eq!(committed.len(), 1, "{:?}", committed_ids(h));
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

/// Disk full during the failover: it still completes; and no crash loop: a daemon restarted
/// (after a SIGKILL) with the disk still full starts, keeps running, finds the backup's key on
/// ledger and submits nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_while_writing_the_state_still_fails_over_and_a_restart_runs() {
    let h = Harness::start(66).await;
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    let (blocker, _) = fail_over_with_a_full_disk(&h, &hook, &mut d).await;
    d.kill();
    h.assert_no_secrets(&d);

    // Nothing could be saved, so the restart starts from "watching" and must learn from the
    // ledger that the failover is done.
    let mut d2 = restart(&h, "watching").await;
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
    sigterm(&mut d2, "with the disk full").await;
    h.assert_no_secrets(&d2);
    h.assert_no_secret_in_alerts(&hook);
}

/// Disk full during the failover, then room again once it is complete: the daemon writes the
/// state file again (`failed_over`, the committed intent), says so, and resolves the alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_then_room_again_the_state_file_is_written_again() {
    let h = Harness::start(68).await;
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    let (blocker, intent) = fail_over_with_a_full_disk(&h, &hook, &mut d).await;

    let from = d.line_count();
    std::fs::remove_dir(&blocker).expect("rmdir the blocker");
    d.wait_line_after(from, "state file written again", LONG)
        .await;
    let phase = h.wait_for_state(&h.state_file(), "failed_over", LONG).await;
    assert_eq!(intent_of(&phase), intent);
    hook.wait_event("state_file_recovered", "", LONG).await;
    assert!(d.is_running());
    assert_eq!(h.committed().len(), 1);
    sigterm(&mut d, "after the disk recovered").await;
    h.assert_no_secrets(&d);
    h.assert_no_secret_in_alerts(&hook);
}

/// The worst case of a full disk: the daemon submits (the state file cannot record it), is
/// killed, and restarts in a later epoch, while its transaction is still pending (a mempool
/// stall). The restart knows nothing of the pending intent from its state file; still, exactly
/// one `update_key` may commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_then_sigkill_after_submit_and_restart_next_epoch_commits_once() {
    let h = Harness::start(70).await;
    let mut d = h.armed("first").await;
    put_blocker(&h.state_file()).await;
    primary_dies(&h, Some(4 * ROUNDS_PER_EPOCH)).await;
    let decided = d.wait_line("FAILOVER DECIDED", LONG).await;
    let first = decided
        .split_whitespace()
        .find(|w| w.starts_with("txid_"))
        .unwrap_or_else(|| panic!("no intent in {decided}"))
        .to_string();
    // "(valid epochs S..E)": the first intent's window.
    let window: Vec<u64> = decided
        .rsplit("valid epochs ")
        .next()
        .and_then(|w| w.split(')').next())
        .map(|w| w.split("..").filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_default();
    let [start, end] = window[..] else {
        panic!("no window in {decided}")
    };
    wait_pending(&h, &first).await;
    d.kill();
    assert!(d.has_line("cannot write the state file"));
    h.assert_no_secrets(&d);
    // Down into the next epoch: a new decision builds another intent, while the first one's
    // window is still open.
    wait_for_epoch(&h, start + 1).await;

    let mut d2 = restart(&h, "watching").await;
    // Whatever the restart does (adopt the pending intent or decide anew), give it time to
    // act, then let the mempool run while the first intent's window is still open: it can
    // still commit.
    d2.wait_line("phase failing_over", LONG).await;
    h.clock("pause").await;
    assert!(
        h.epoch() < end,
        "the first intent's window {start}..{end} is still open (epoch {})",
        h.epoch()
    );
    stall(&h, 0).await;
    h.clock("resume").await;
    d2.wait_line("FAILOVER COMPLETE", LONG).await;
    h.wait_epochs(1).await;
    let committed = h.committed();
    assert_eq!(
        committed.len(),
        1,
        "exactly one update_key committed (first daemon's intent {first}): {:?}",
        committed_ids(&h)
    );
    assert_eq!(
        committed[0].0, first,
        "the pending intent (still valid) is the one that commits"
    );
    sigterm(&mut d2, "after the failover").await;
    h.assert_no_secrets(&d2);
}

// ---- SIGTERM during a failover. ----

/// Stops a daemon in `failing_over` (submitted, pending in a mempool stall) with SIGTERM:
/// exit 0, the state file whole and naming the intent, no temp file left behind, the intent
/// still pending on the network. Leaves the sim's clock paused; returns the intent.
async fn sigterm_while_failing_over(h: &Harness, d: &mut Daemon) -> String {
    primary_dies(h, Some(STALL_ROUNDS)).await;
    let (_, intent) = wait_submitted_and_pending(h).await;
    sigterm(d, "during a failover").await;
    h.clock("pause").await;
    assert!(
        d.has_line("shutting down (signal); phase failing_over"),
        "says it stops in failing_over"
    );
    assert!(h.committed().is_empty(), "{:?}", committed_ids(h));
    let on_disk = assert_state_on_disk(h, "failing_over", &intent);
    assert_eq!(on_disk["submitted"], true);
    assert!(
        !tmp_of(&h.state_file()).exists(),
        "no temp file left behind"
    );
    assert!(
        matches!(h.sim.intent_status(&intent), IntentStatus::Pending { .. }),
        "the intent is pending on the network: {:?}",
        h.sim.intent_status(&intent)
    );
    h.assert_no_secrets(d);
    intent
}

/// SIGTERM during a failover: a clean exit (0) within a few seconds, the state file whole,
/// and a restart completes the same intent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_failing_over_exits_cleanly_and_restart_completes() {
    let h = Harness::start(67).await;
    let mut d = h.armed("first").await;
    let intent = sigterm_while_failing_over(&h, &mut d).await;
    let d2 = restart(&h, "failing_over").await;
    complete_after_restart(&h, d2, Some(&intent)).await;
}

/// A webhook that accepts connections and never answers: what a hung alert endpoint looks like.
/// Holds every connection open until dropped.
struct HangingWebhook {
    url: String,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl HangingWebhook {
    async fn start() -> HangingWebhook {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let n = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                n.fetch_add(1, Ordering::SeqCst);
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
/// answers, so deliveries are stuck): the daemon still exits 0 promptly (its alert drain is
/// bounded) with its state whole, and a restart completes the same intent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_failing_over_with_a_hung_alert_channel_still_exits_promptly() {
    let h = Harness::start(71).await;
    let hook = HangingWebhook::start().await;
    let url = hook.url.clone();
    h.edit_config(|t| format!("{t}\n[alerts]\nwebhook = {{ url = \"{url}\" }}\n"));
    let mut d = h.armed("first").await;
    let intent = sigterm_while_failing_over(&h, &mut d).await;
    assert!(
        hook.accepted.load(Ordering::SeqCst) > 0,
        "the daemon tried to deliver alerts to the hung webhook"
    );
    let d2 = restart(&h, "failing_over").await;
    complete_after_restart(&h, d2, Some(&intent)).await;
}

/// The backup is rebuilt with a new key mid-failover, the config is edited and the daemon
/// restarts: the stored intent (to the old key) is never sent again. While its window is open
/// the daemon refuses to go on and names what changed; once the window has ended, the intent is
/// set aside and the daemon watches with the new config.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_intent_for_an_old_backup_key_is_never_sent_after_the_config_changes() {
    let h = Harness::start(70).await;
    let mut d = h.armed("first").await;
    primary_dies(&h, Some(4 * ROUNDS_PER_EPOCH)).await;
    let (phase, old) = wait_submitted_and_pending(&h).await;
    let end_epoch = phase["end_epoch"].as_u64().expect("end_epoch");
    d.kill();
    // The operator rebuilt the backup with a new key and edited the config.
    const NEW_KEY: &str = "02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004";
    h.set_config("backup_public_key", &format!("\"{NEW_KEY}\""));

    let mut d2 = Daemon::spawn(&h.config, &[], "edited");
    let refused = d2.wait_line("no longer matches the config", LONG).await;
    assert!(
        refused.contains("target key"),
        "names what changed: {refused}"
    );
    assert!(refused.contains(&old), "names the stored intent: {refused}");
    let deadline = std::time::Instant::now() + EXIT;
    while d2.is_running() {
        assert!(std::time::Instant::now() < deadline, "the daemon stops");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !d2.lines()
            .iter()
            .any(|l| l.contains("status:") || l.contains("submit")),
        "nothing was sent: {:?}",
        d2.lines()
    );

    wait_for_epoch(&h, end_epoch).await;
    let mut d3 = Daemon::spawn(&h.config, &[], "after the window");
    let aside = d3.wait_line("SET ASIDE the stored intent", LONG).await;
    assert!(aside.contains(&old), "{aside}");
    h.wait_for_state(&h.state_file(), "watching", LONG).await;
    assert!(
        h.committed().iter().all(|(id, _)| id != &old),
        "the old intent never commits"
    );
    d3.kill();
}
