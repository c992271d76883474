//! The re-armed pair (issue 12 item 2, docs/policy.md rule 10): after a failover the node
//! that validates is watched, the old primary becomes its standby once it is ready, and a
//! second failure is failed over back to it, at most once per `policy.flap_limit_epochs`.
//!
//! Real `radix-failover run` against a real radix-sim network (real Radix Engine, loopback
//! HTTP); outcomes are read off the sim's ledger (what committed, who proposes), the
//! daemon's log, its state file, its metrics and a loopback webhook.
//!
//! Timing: 4 s epochs (20 rounds of 200 ms), polls every 200 ms; each test takes about
//! 30-60 s.

mod common;

use common::{Daemon, Harness, STEP};
use radix_sim::ledger::types::IntentStatus;
use serde_json::json;

/// The update_key transactions that committed successfully.
fn commits(h: &Harness) -> usize {
    h.committed()
        .iter()
        .filter(|(_, s)| matches!(s, IntentStatus::CommittedSuccess(_)))
        .count()
}

async fn status_json(h: &Harness) -> serde_json::Value {
    let out = h.cli(&["status", "--json"]).await;
    // Log lines (stderr) come after the JSON object (stdout).
    let end = out.rfind("\n}").map(|i| i + 2).unwrap_or(out.len());
    serde_json::from_str(&out[..end]).unwrap_or_else(|e| panic!("status --json: {e}:\n{out}"))
}

fn set_policy(h: &Harness, lines: &str) {
    h.edit_config(|t| t.replace("\n[policy]\n", &format!("\n[policy]\n{lines}\n")));
}

/// The primary dies and the backup takes over. The primary is still dead, so the pair is not
/// re-armed yet: the phase stays `failed_over` (unprotected, and `status` says why).
async fn first_failover(h: &Harness, d: &mut Daemon) {
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    d.wait_line("FAILOVER COMPLETE: the backup validates", STEP)
        .await;
    assert_eq!(commits(h), 1, "one update_key so far");
    h.wait_for_state(&h.state_file(), "failed_over", STEP).await;
    let state = h.state(&h.state_file()).expect("state file");
    assert!(
        !d.has_line("RE-ARMED"),
        "not re-armed while the primary is dead"
    );
    assert_eq!(
        state["active"], "primary",
        "the slot switches on re-arm: {state}"
    );
    let status = status_json(h).await;
    let data = &status["daemon_process"];
    assert_eq!(data["active_node"], "backup", "{status}");
    assert_eq!(data["standby_node"], "primary", "{status}");
    assert_eq!(data["standby_ready"], false, "{status}");
    assert_eq!(data["armed"], false, "{status}");
}

/// The old primary comes back and passes the readiness gate: the pair is re-armed, the
/// backup active and watched, the primary its standby.
async fn primary_back_as_standby(h: &Harness, d: &mut Daemon) {
    let from = d.line_count();
    h.fault(json!({"action": "node_up", "node": "primary"}))
        .await;
    let (_, line) = d.wait_line_after(from, "RE-ARMED", STEP).await;
    assert!(
        line.contains("the backup node validates and is watched now")
            && line.contains("the primary node is ready again and is its standby"),
        "{line}"
    );
    d.wait_line_after(from, "pre-flight passed", STEP).await;
    let state = h.state(&h.state_file()).expect("state file");
    assert_eq!(state["active"], "backup", "{state}");
    assert_eq!(Harness::phase_of(&state)["phase"], "watching", "{state}");
    assert_eq!(commits(h), 1, "re-arming sends nothing");
}

/// Second failure: the primary dies and the backup takes over; the primary comes back and is
/// re-armed as the standby; then the backup dies and the daemon switches to the primary.
/// Exactly two update_key commits, and the primary proposes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_failure_is_failed_over_back_to_the_rearmed_primary() {
    let h = Harness::start(61).await;
    // Short epochs: allow the second switch two epochs after the first.
    set_policy(&h, "flap_limit_epochs = 2");
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    first_failover(&h, &mut d).await;
    primary_back_as_standby(&h, &mut d).await;
    hook.wait_event("rearmed", "the backup node validates", STEP)
        .await;
    // The roles survive a crash: SIGKILL, and the restarted daemon watches the backup.
    d.kill();
    let mut d = Daemon::spawn(&h.config, &[], "restarted");
    let line = d.wait_line(" starting: ", STEP).await;
    assert!(
        line.contains(", backup key ") && line.contains("(active), primary key "),
        "the restart watches the backup, the primary standing by: {line}"
    );
    d.wait_line("pre-flight passed", STEP).await;
    d.wait_line("| phase watching", STEP).await;
    let status = status_json(&h).await;
    let data = &status["daemon_process"];
    assert_eq!(data["active_node"], "backup", "{status}");
    assert_eq!(data["standby_node"], "primary", "{status}");
    assert_eq!(data["standby_ready"], true, "{status}");

    // Now the backup, the active node, dies early in an epoch.
    let from = d.line_count();
    let fault = h
        .fault_early_in_epoch(json!({"action": "node_down", "node": "backup"}))
        .await;
    d.wait_line_after(from, "FAILOVER DECIDED", STEP).await;
    let (_, done) = d
        .wait_line_after(from, "FAILOVER COMPLETE: the primary validates", STEP)
        .await;
    assert!(done.contains("our proposals are made again"), "{done}");
    assert_eq!(commits(&h), 2, "exactly two update_key commits");
    assert_eq!(
        h.identity("primary").await["consensus_status"],
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    // The backup is still dead: failed over, not re-armed.
    h.wait_for_state(&h.state_file(), "failed_over", STEP).await;
    assert!(
        !d.lines_from(from).iter().any(|l| l.contains("RE-ARMED")),
        "not re-armed while the backup is dead"
    );
    // The backup comes back: re-armed again, the primary active; the key change came in
    // the fault's epoch.
    let from = d.line_count();
    h.fault(json!({"action": "node_up", "node": "backup"}))
        .await;
    let (_, line) = d.wait_line_after(from, "RE-ARMED", STEP).await;
    assert!(
        line.contains("the primary node validates and is watched now")
            && line.contains("the backup node is ready again and is its standby"),
        "{line}"
    );
    let state = h.state(&h.state_file()).expect("state file");
    assert_eq!(state["active"], "primary", "{state}");
    let switched = state["last_switch"]["epoch"].as_u64().expect("last switch");
    assert_eq!(
        switched,
        fault.epoch + 1,
        "the switch took effect the next epoch"
    );
    let rounds = h.our_rounds_in(switched);
    assert!(
        !rounds.is_empty() && rounds.iter().all(|r| r.made),
        "the primary proposes every round of the epoch after the switch: {rounds:?}"
    );
    h.stop(&mut d).await;
    h.assert_no_secret_in_alerts(&hook);
}

/// Flap limit: a pair that keeps dying is switched once; the second failure inside
/// `flap_limit_epochs` is BLOCKED with a critical alert asking a person to act, and nothing
/// more commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_that_keeps_dying_is_switched_once_then_a_person_is_asked_to_act() {
    let h = Harness::start(62).await;
    set_policy(&h, "flap_limit_epochs = 1000");
    let hook = h.webhook().await;
    let mut d = h.armed("daemon").await;
    first_failover(&h, &mut d).await;
    primary_back_as_standby(&h, &mut d).await;

    let from = d.line_count();
    h.fault_early_in_epoch(json!({"action": "node_down", "node": "backup"}))
        .await;
    let (_, blocked) = d.wait_line_after(from, "BLOCKED", STEP).await;
    assert!(
        blocked.contains("flap limit") && blocked.contains("A person must act"),
        "{blocked}"
    );
    let alert = hook
        .wait_event("failover_blocked", "flap limit", STEP)
        .await;
    assert_eq!(alert["severity"], "critical", "{alert}");
    h.wait_epochs(3).await;
    assert_eq!(
        commits(&h),
        1,
        "no second automatic switch inside the flap limit"
    );
    assert!(
        !d.lines_from(from)
            .iter()
            .any(|l| l.contains("FAILOVER DECIDED")),
        "nothing decided past the limit"
    );
    let status = status_json(&h).await;
    let flap = &status["daemon_process"]["flap_limit"];
    assert!(
        flap["blocked"]
            .as_str()
            .is_some_and(|b| b.contains("flap limit")),
        "{status}"
    );
    assert_eq!(status["daemon_process"]["armed"], false, "{status}");

    // A person acts: the switch by hand goes through the daemon (it is not limited).
    let out = h.cli(&["failback", "--yes"]).await;
    assert!(
        out.contains("confirmed") || out.contains("switching"),
        "{out}"
    );
    d.wait_line_after(from, "FAILOVER COMPLETE: the primary validates", STEP)
        .await;
    assert_eq!(commits(&h), 2, "the manual switch committed");
    h.stop(&mut d).await;
}
