//! Hooks (issue 12 item 4, docs/policy.md rule 12): `pre_switch`, `post_switch` and
//! `on_confirmed` commands around a switch. A failing `pre_switch` fence blocks the switch
//! with the hook's own message; a failing plain hook does not.
//!
//! Real `radix-failover run` against a real radix-sim network (real Radix Engine, loopback
//! HTTP), with real `/bin/sh` hooks that write what they were told to files.
//!
//! Timing: 4 s epochs; each test takes about 20-40 s.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Harness, STEP};
use radix_sim::ledger::types::IntentStatus;
use serde_json::json;

fn commits(h: &Harness) -> Vec<String> {
    h.committed()
        .into_iter()
        .filter(|(_, s)| matches!(s, IntentStatus::CommittedSuccess(_)))
        .map(|(i, _)| i)
        .collect()
}

/// A hook line for the config: `/bin/sh -c SCRIPT`, in a TOML literal string.
fn sh(script: &str) -> String {
    assert!(!script.contains('\''));
    format!("[\"/bin/sh\", \"-c\", '{script}']")
}

/// The `KEY=value` lines a hook wrote with `env`.
async fn wait_env_file(path: &Path) -> Vec<String> {
    let deadline = Instant::now() + STEP;
    loop {
        if let Ok(t) = std::fs::read_to_string(path) {
            if t.contains("RADIX_FAILOVER_REASON=") {
                return t.lines().map(str::to_string).collect();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} was never written",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn value<'a>(env: &'a [String], key: &str) -> &'a str {
    env.iter()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {env:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_fence_blocks_the_switch_with_its_message_until_it_succeeds() {
    let h = Harness::start(61).await;
    let hook = h.webhook().await;
    let dir = h.dir.path().to_path_buf();
    let ok = dir.join("fence-ok");
    let post = dir.join("post.env");
    let confirmed = dir.join("confirmed.env");
    let fence = format!(
        "if [ -f {} ]; then echo fenced the $RADIX_FAILOVER_OLD_NODE node; else echo cannot reach the $RADIX_FAILOVER_OLD_NODE host to stop it >&2; exit 4; fi",
        ok.display()
    );
    let config = format!(
        "\n[hooks]\npre_switch = {{ command = {}, fence = true, timeout = \"5s\" }}\npost_switch = {{ command = {} }}\non_confirmed = {{ command = {} }}\n",
        sh(&fence),
        sh(&format!("env > {}", post.display())),
        sh(&format!("env > {}", confirmed.display())),
    );
    h.edit_config(|t| format!("{t}{config}"));
    let mut d = h.armed("fence").await;

    h.fault_early_in_epoch(json!({"action": "node_down", "node": "primary"}))
        .await;
    let line = d
        .wait_line(
            "but BLOCKED: the pre_switch fence /bin/sh exited with status 4",
            STEP,
        )
        .await;
    assert!(
        line.contains("cannot reach the primary host to stop it"),
        "the blocker carries the hook's own message: {line}"
    );
    let alert = hook
        .wait_event("failover_blocked", "cannot reach the primary host", STEP)
        .await;
    assert_eq!(alert["severity"], "critical", "{alert}");
    // Blocked for real: nothing is sent while the fence fails, through a retry.
    let from = d.line_count();
    d.wait_line_after(from, "hook pre_switch FAILED", STEP)
        .await;
    assert!(commits(&h).is_empty(), "{:?}", h.committed());
    assert!(!d.has_line("FAILOVER DECIDED"));

    // The operator fixes what the fence needs: at the next retry it succeeds and the switch goes.
    std::fs::write(&ok, "").unwrap();
    d.wait_line("hook pre_switch: fenced the primary node", STEP)
        .await;
    d.wait_line("FAILOVER DECIDED", STEP).await;
    d.wait_line("FAILOVER COMPLETE: the backup validates", STEP)
        .await;
    let committed = commits(&h);
    assert_eq!(committed.len(), 1, "{committed:?}");

    let env = wait_env_file(&post).await;
    assert_eq!(value(&env, "RADIX_FAILOVER_HOOK"), "post_switch");
    assert_eq!(value(&env, "RADIX_FAILOVER_OLD_NODE"), "primary");
    assert_eq!(value(&env, "RADIX_FAILOVER_NEW_NODE"), "backup");
    assert_eq!(
        value(&env, "RADIX_FAILOVER_NEW_KEY"),
        h.info.backup_public_key_hex.to_lowercase()
    );
    assert_eq!(
        value(&env, "RADIX_FAILOVER_OLD_KEY"),
        h.info.primary_public_key_hex.to_lowercase()
    );
    assert_eq!(value(&env, "RADIX_FAILOVER_INTENT_HASH"), committed[0]);
    assert_eq!(
        value(&env, "RADIX_FAILOVER_VALIDATOR"),
        h.info.our_validator
    );
    assert!(
        env.iter()
            .all(|l| !l.contains("KEY_FILE") && !l.starts_with("RUST")),
        "nothing of the daemon's environment: {env:?}"
    );
    let commit_epoch: u64 = value(&env, "RADIX_FAILOVER_EPOCH").parse().unwrap();
    let env = wait_env_file(&confirmed).await;
    assert_eq!(value(&env, "RADIX_FAILOVER_HOOK"), "on_confirmed");
    let confirmed_epoch: u64 = value(&env, "RADIX_FAILOVER_EPOCH").parse().unwrap();
    assert!(
        confirmed_epoch > commit_epoch,
        "{confirmed_epoch} after {commit_epoch}"
    );
    h.stop(&mut d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_plain_hook_does_not_block_the_switch() {
    let h = Harness::start(62).await;
    let hook = h.webhook().await;
    let config = format!(
        "\n[hooks]\npre_switch = {{ command = {} }}\n",
        sh("echo the old node did not answer >&2; exit 1")
    );
    h.edit_config(|t| format!("{t}{config}"));
    let mut d = h.armed("plain").await;
    h.primary_dies_and_one_commits(&mut d).await;
    let line = d.wait_line("hook pre_switch FAILED", STEP).await;
    assert!(
        line.contains("exited with status 1: the old node did not answer")
            && line.contains("the switch goes on"),
        "{line}"
    );
    hook.wait_event("problem", "the old node did not answer", STEP)
        .await;
    d.wait_line("FAILOVER COMPLETE: the backup validates", STEP)
        .await;
    assert_eq!(commits(&h).len(), 1);
    assert!(!d.has_line("BLOCKED: the pre_switch"));
    h.stop(&mut d).await;
}
