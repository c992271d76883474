//! `radix-sim demo --json` end to end: the real radix-failover binary fails a simulated
//! validator over, the demo exits 0, and its JSON result holds together with the timeline.

mod common;

use common::failover_bin;
use std::process::Command;

#[test]
fn demo_fails_over_and_reports_consistent_json() {
    demo_fails_over(&[]);
}

#[test]
fn demo_fails_over_through_the_tls_fronts() {
    // The daemon watches every node through its HTTPS front (pinned self-signed certificate,
    // basic auth), as an operator's watcher reaches a node behind the node CLI's nginx; the
    // killed primary answers 502 there.
    let Some(stdout) = demo_fails_over(&["--tls-front"]) else {
        return;
    };
    let fronts = stdout
        .lines()
        .filter(|l| l.contains("behind a TLS front: https://127.0.0.1:"))
        .count();
    assert!(fronts >= 2, "the demo did not use the fronts:\n{stdout}");
}

#[test]
fn demo_fails_over_through_an_access_controller() {
    // The owner badge sits in a native access controller from genesis, so the failover commits
    // only if the daemon proves the badge through the controller's create_proof (its key is the
    // primary role); the owner account no longer holds the badge.
    let Some(stdout) = demo_fails_over(&["--badge-in", "access-controller"]) else {
        return;
    };
    let ac = stdout
        .lines()
        .find_map(|l| l.split("our owner badge is in access controller ").nth(1))
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("the demo does not name the controller:\n{stdout}"))
        .to_string();
    assert!(ac.starts_with("accesscontroller_sim1"), "{ac}");
}

/// Runs the demo with these extra arguments, checks its result and timeline, returns stdout
/// (`None`: no daemon binary, see `failover_bin`).
fn demo_fails_over(extra: &[&str]) -> Option<String> {
    let bin = failover_bin()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_radix-sim"))
        .args(["demo", "--json", "--seed", "8", "--fault-round", "5"])
        .args(extra)
        .args(["--rounds-per-epoch", "40", "--round-ms", "100"])
        .arg("--failover-bin")
        .arg(&bin)
        .arg("--dir")
        .arg(dir.path())
        .env_remove("CARGO")
        .output()
        .expect("run radix-sim demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().expect("output");
    let v: serde_json::Value = serde_json::from_str(last).expect("last line is JSON");
    assert_eq!(v["failover_committed"], true, "{v}");
    assert!(
        v["intent_hash"]
            .as_str()
            .is_some_and(|s| s.starts_with("txid_sim1")),
        "{v}"
    );
    assert_eq!(v["fault_round"], 5, "{v}");
    let fault_epoch = v["fault_epoch"].as_u64().expect("fault_epoch");
    // A fault at round 5 of 40 leaves the rest of the epoch to detect and commit.
    assert_eq!(v["commit_epoch"].as_u64(), Some(fault_epoch), "{v}");
    assert_eq!(
        v["backup_validating_epoch"].as_u64(),
        Some(fault_epoch + 1),
        "{v}"
    );
    let missed = v["missed_proposals"].as_u64().expect("missed");
    let unavoidable = v["unavoidable_missed_proposals"]
        .as_u64()
        .expect("unavoidable");
    assert_eq!(
        missed, unavoidable,
        "a failover in the fault's epoch misses only the unavoidable: {v}"
    );
    // The timeline printed every step, in order.
    let order = [
        "radix-failover armed",
        "FAULT: the primary node is killed",
        "radix-failover decides to fail over",
        "transaction submitted",
        "committed (CommittedSuccess)",
        "epoch change: the backup's key in force",
        "our proposal made again, by the backup",
        "failover worked",
    ];
    let mut at = 0;
    for step in order {
        let pos = stdout[at..]
            .find(step)
            .unwrap_or_else(|| panic!("{step:?} missing or out of order:\n{stdout}"));
        at += pos;
    }
    if extra.contains(&"--tls-front") {
        let config = std::fs::read_to_string(dir.path().join("failover.toml")).expect("config");
        assert!(
            config.contains("tls_pin_sha256") && config.contains("/system\""),
            "the daemon's config does not go through the fronts:\n{config}"
        );
    }
    if extra.contains(&"access-controller") {
        let config = std::fs::read_to_string(dir.path().join("failover.toml")).expect("config");
        assert!(
            config.contains("badge_holder = \"accesscontroller_sim1"),
            "the daemon's config does not name the controller:\n{config}"
        );
        let log = std::fs::read_to_string(dir.path().join("radix-failover.log")).expect("log");
        assert!(
            log.contains("pre-flight controller: pass: access controller"),
            "the daemon did not check the controller:\n{log}"
        );
        assert!(
            dir.path().join("recovery.key").exists(),
            "no recovery key beside the owner key"
        );
    }
    Some(stdout.into_owned())
}
