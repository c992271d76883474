//! `radix-sim bench-failover --faults 2 --json` end to end: two fault positions, each run with
//! the real radix-failover binary (default policy and the legacy baseline) against a fresh
//! simulated network, and a JSON summary whose figures hold together.

mod common;

use common::failover_bin;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn bench_failover_runs_two_faults_and_prints_json() {
    let Some(bin) = failover_bin() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_radix-sim"))
        .args([
            "bench-failover",
            "--faults",
            "2",
            "--json",
            // 100 ms rounds (4 s epochs): the debug daemon must pass pre-flight before the fault
            // even while the machine builds something else; 50 ms failed that once under load.
            "--round-ms",
            "100",
            "--rounds-per-epoch",
            "40",
            "--parallel",
            "2",
            "--baseline-wait-epochs",
            "6",
            "--failover-bin",
        ])
        .arg(&bin)
        .arg("--dir")
        .arg(dir.path())
        // Do not let the bench rebuild the daemon: it was just built.
        .env_remove("CARGO")
        .output()
        .expect("run radix-sim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("total missed: ours"), "{stdout}");
    assert!(
        stdout.contains("target: ours missed <= 1.15 x unavoidable: "),
        "{stdout}"
    );
    let last = stdout.lines().last().expect("output");
    let v: serde_json::Value = serde_json::from_str(last).expect("last line is JSON");

    assert_eq!(v["faults"], 2);
    assert_eq!(v["fault"], "down", "the default fault: the primary dies");
    let n = |k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("{k} is not a count: {}", v[k]))
    };
    let (ours, base, unavoidable) = (
        n("ours_missed"),
        n("baseline_missed"),
        n("unavoidable_missed"),
    );
    n("ours_extra_epochs");
    // The daemons really ran with the poll intervals the bench reports (their start-up line).
    for (rule, key) in [("ours", "ours_poll_ms"), ("baseline", "baseline_poll_ms")] {
        let said = format!("{:?}", std::time::Duration::from_millis(n(key)));
        assert_eq!(
            v[format!("{rule}_daemon_poll")].as_str(),
            Some(said.as_str()),
            "{last}"
        );
    }
    assert!(v["median_detection_rounds"].is_number(), "{last}");
    // Both daemons failed over at both positions, and nobody beats the minimum.
    assert_eq!(n("ours_failed_over"), 2, "{stdout}\n{stderr}");
    assert!(
        unavoidable > 0,
        "our validator leads rounds in every epoch: {last}"
    );
    assert!(ours >= unavoidable && base >= unavoidable, "{last}");
    let positions = v["positions"].as_array().expect("positions");
    let rounds: Vec<u64> = positions
        .iter()
        .map(|p| p["fault_round"].as_u64().expect("round"))
        .collect();
    assert_eq!(rounds, [1, 21], "evenly through a 40-round epoch");
    let mut sum = 0;
    for p in positions {
        let o = &p["ours"];
        assert_eq!(o["recovered"], true, "{p}");
        assert!(o["missed"].as_u64() >= o["unavoidable"].as_u64(), "{p}");
        // The same seed gives the same leader schedule to both rules up to the fault.
        assert_eq!(o["unavoidable"], p["baseline"]["unavoidable"], "{p}");
        assert!(
            o["detection_rounds"].is_u64() && o["commit_rounds"].is_u64(),
            "{p}"
        );
        sum += o["missed"].as_u64().expect("missed");
        // Each run left its daemon's log, with the decision in it.
        let log = PathBuf::from(o["daemon_log"].as_str().expect("log"));
        let text = std::fs::read_to_string(&log).expect("daemon log");
        assert!(text.contains("FAILOVER DECIDED"), "{}", log.display());
    }
    assert_eq!(sum, ours, "the total is the sum of the positions");
}

#[test]
fn bench_footprint_samples_the_daemon_and_prints_json() {
    let Some(bin) = failover_bin() else { return };
    let out = Command::new(env!("CARGO_BIN_EXE_radix-sim"))
        // 9 s: a few polls at the default 5 s interval (the real run is 3 minutes or more).
        .args([
            "bench-footprint",
            "--minutes",
            "0.15",
            "--json",
            "--failover-bin",
        ])
        .arg(&bin)
        .env_remove("CARGO")
        .output()
        .expect("run radix-sim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("resident memory"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("output")).expect("last line is JSON");
    let size = std::fs::metadata(&bin).expect("stat").len();
    assert_eq!(v["binary_bytes"].as_u64(), Some(size));
    // The test builds the dev profile, and the bench must say it is not a release build.
    assert_eq!(v["release_build"], false, "{v}");
    assert!(stdout.contains("DEBUG build"), "{stdout}");
    // A poll right at start and one every 5 s after it.
    let polls = v["polls"].as_u64().expect("polls");
    assert!((2..=3).contains(&polls), "{v}");
    let f = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k}: {v}"));
    assert!(
        f("rss_steady_mb") > 1.0 && f("rss_peak_mb") >= f("rss_steady_mb"),
        "{v}"
    );
    assert!(f("startup_to_first_poll_ms") > 0.0 && f("startup_to_first_poll_ms") < 60_000.0);
    assert!(f("cpu_seconds") >= 0.0 && f("core_percent") < 100.0, "{v}");
    assert_eq!(v["rss_pass"], f("rss_peak_mb") < 15.0);
    // What the daemon asked of the gateway: the validator list (100 validators) at start, the
    // small status on every poll after it; scaled to an hour and judged against 5 MB.
    assert_eq!(v["validators"], 100, "{v}");
    let list = &v["gateway"]["/state/validators/list"];
    assert!(list["requests"].as_u64().unwrap_or(0) >= 1, "{v}");
    assert!(
        v["gateway"]["/status/gateway-status"]["requests"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{v}"
    );
    assert!(f("gateway_requests_per_hour") > 0.0, "{v}");
    assert_eq!(v["gateway_pass"], f("gateway_mb_per_hour") < 5.0);
    assert!(
        stdout.contains("MB per hour with 100 validators"),
        "{stdout}"
    );
}

#[test]
fn bench_failover_runs_a_small_mainnet_profile_case() {
    let Some(bin) = failover_bin() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // 100 validators, ours at 10 %, 150 rounds of 40 ms: small enough for a debug engine on
    // CI, and still the real schedule (everyone once, then by stake) and scaled timeouts.
    let out = Command::new(env!("CARGO_BIN_EXE_radix-sim"))
        .args([
            "bench-failover",
            "--profile",
            "mainnet",
            "--our-stake",
            "10",
            "--fault",
            "stuck",
            "--faults",
            "1",
            "--skip-baseline",
            "--json",
            "--round-ms",
            "40",
            "--rounds-per-epoch",
            "150",
            "--parallel",
            "1",
            "--failover-bin",
        ])
        .arg(&bin)
        .arg("--dir")
        .arg(dir.path())
        .env_remove("CARGO")
        .output()
        .expect("run radix-sim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("APPROXIMATION"),
        "150 of 1300 rounds is stated: {stderr}"
    );
    let v: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("output")).expect("last line is JSON");
    assert_eq!(v["fault"], "stuck");
    assert_eq!(v["profile"], "mainnet");
    assert_eq!(v["our_stake_percent"], 10.0);
    let n = |k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("{k} is not a count: {}", v[k]))
    };
    // Stuck is visible at the fault: the ideal watcher's limit is the one from the fault.
    assert_eq!(n("unavoidable_missed"), n("unavoidable_from_fault"), "{v}");
    assert!(n("unavoidable_missed") > 0, "{v}");
    assert!(n("ours_missed") >= n("unavoidable_missed"), "{v}");
    assert!(v["baseline_missed"].is_null());
    // The scaled pacemaker timeout: 3 s x (40 ms / ~231 ms).
    assert_eq!(n("timeout_base_ms"), 520, "{v}");
    assert!(
        stdout.contains("stake%"),
        "the summary row is printed: {stdout}"
    );
}

#[test]
fn bench_false_failovers_watches_a_healthy_network_and_counts() {
    let Some(bin) = failover_bin() else { return };
    let out = Command::new(env!("CARGO_BIN_EXE_radix-sim"))
        .args([
            "bench-false-failovers",
            "--epochs",
            "2",
            "--restarts",
            "1",
            "--background-miss-rate",
            "0.05",
            "--our-stake",
            "10",
            "--round-ms",
            "40",
            "--rounds-per-epoch",
            "150",
            "--json",
            "--failover-bin",
        ])
        .arg(&bin)
        .env_remove("CARGO")
        .output()
        .expect("run radix-sim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("false failovers: "), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("output")).expect("last line is JSON");
    let n = |k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("{k} is not a count: {}", v[k]))
    };
    assert_eq!(n("epochs"), 2);
    assert_eq!(n("restarts"), 1, "the planned restart happened: {v}");
    assert!(
        n("our_rounds") > 0 && n("our_missed") <= n("our_rounds"),
        "{v}"
    );
    // Watched from the arming (within the first epoch) to the end of the second: every round
    // of the second epoch and some of the first, each counted once.
    assert!(
        n("watched_rounds") > 150 && n("watched_rounds") <= 300,
        "{v}"
    );
    // A key change commits only after a decision.
    assert!(n("committed_key_changes") <= n("false_failovers"), "{v}");
}
