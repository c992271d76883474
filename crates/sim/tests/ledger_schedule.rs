//! The real node's leader schedule and round timing, background misses, and the failure kinds
//! of the benchmark (silent, stuck, wrong key, flaky) as sim faults.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_validator_leads_once_at_the_start_of_every_epoch() {
    let t = TestNet::start_with(71, |c| c.rounds_per_epoch = 24).await;
    let e0 = t.epoch();
    while t.epoch() == e0 {
        t.step(1).await;
    }
    for _ in 0..2 {
        let e = t.epoch();
        let rounds: Vec<_> = t
            .step(24)
            .await
            .into_iter()
            .filter(|r| r.epoch == e)
            .collect();
        let first: BTreeSet<_> = rounds[..8]
            .iter()
            .map(|r| r.leader_address.clone())
            .collect();
        assert_eq!(
            first.len(),
            8,
            "all 8 lead once first in epoch {e}: {rounds:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_round_lasts_the_pacemaker_timeout_with_backoff() {
    let t = TestNet::start_with(72, |c| c.timeout_base_ms = 100).await;
    // Every round misses: all other validators and our primary.
    t.fault(json!({"action": "validators_missing", "percent": 100}))
        .await;
    t.fault(json!({"action": "node_silent", "node": "primary"}))
        .await;
    let rounds = t.step(9).await;
    assert!(rounds.iter().all(|r| !r.made));
    let d: Vec<u64> = rounds.iter().map(|r| r.duration_ms).collect();
    // 100 ms x 1.2^k, the exponent capped at 6.
    assert_eq!(d, [100, 120, 144, 173, 207, 249, 299, 299, 299]);
    // A made round resets the backoff and lasts a normal round (20 ms in tests).
    t.fault(json!({"action": "validators_healthy"})).await;
    t.fault(json!({"action": "node_proposing", "node": "primary"}))
        .await;
    let r = t.step(2).await;
    assert_eq!((r[0].made, r[0].duration_ms), (true, 20));

    // The running clock really waits: 5 missed rounds take at least their timeouts.
    t.fault(json!({"action": "validators_missing", "percent": 100}))
        .await;
    t.fault(json!({"action": "node_silent", "node": "primary"}))
        .await;
    let start_sv = t.sim.snapshot().position.state_version;
    let started = Instant::now();
    t.net.state.clock.resume();
    while t.sim.snapshot().position.state_version < start_sv + 5 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let clock = t.net.state.clock.clone();
    tokio::task::spawn_blocking(move || clock.pause())
        .await
        .expect("pause");
    // The first four timeouts (100+120+144+173) pass before the fifth round is recorded.
    assert!(
        started.elapsed() >= Duration::from_millis(100 + 120 + 144 + 173),
        "{:?}",
        started.elapsed()
    );
}

async fn trace(seed: u64, rate: f64) -> Vec<(u64, u64, String, bool)> {
    let t = TestNet::start_with(seed, move |c| c.background_miss_rate = rate).await;
    t.step(60)
        .await
        .into_iter()
        .map(|r| (r.epoch, r.round, r.leader_address, r.made))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_misses_are_deterministic_and_near_their_rate() {
    let a = trace(73, 0.25).await;
    assert_eq!(a, trace(73, 0.25).await, "same seed, same trace");
    let missed = a.iter().filter(|r| !r.3).count();
    assert!((5..=30).contains(&missed), "{missed} of 60 at 25 %");
    assert!(trace(73, 0.0).await.iter().all(|r| r.3));
}

async fn our_rounds(t: &TestNet, n: u64) -> Vec<bool> {
    t.step(n)
        .await
        .into_iter()
        .filter(|r| r.leader_address == t.info.our_validator)
        .map(|r| r.made)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_stuck_wrong_key_and_flaky_primaries() {
    // Ours holds half the stake, so it leads often.
    let t = TestNet::start_with(74, |c| {
        c.validator_stakes_xrd = vec![
            7_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000,
        ]
    })
    .await;
    assert!(our_rounds(&t, 20).await.iter().all(|m| *m));

    // Silent: health UP, validating, but every proposal missed.
    t.fault(json!({"action": "node_silent", "node": "primary"}))
        .await;
    let r = our_rounds(&t, 20).await;
    assert!(!r.is_empty() && r.iter().all(|m| !m), "{r:?}");
    assert_eq!(
        t.system("primary", "/health").await.ok().json["status"],
        "UP"
    );
    assert_eq!(
        t.identity_status("primary").await,
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    t.fault(json!({"action": "node_proposing", "node": "primary"}))
        .await;
    assert!(our_rounds(&t, 10).await.iter().all(|m| *m));

    // Stuck: health still UP, the Core API frozen, proposals missed.
    t.fault(json!({"action": "node_stuck", "node": "primary"}))
        .await;
    let frozen = t
        .core("primary", "/status/network-status", network_body())
        .await
        .ok()
        .json["current_state_identifier"]["state_version"]
        .clone();
    let r = our_rounds(&t, 20).await;
    assert!(!r.is_empty() && r.iter().all(|m| !m), "{r:?}");
    assert_eq!(
        t.system("primary", "/health").await.ok().json["status"],
        "UP"
    );
    let later = t
        .core("primary", "/status/network-status", network_body())
        .await
        .ok()
        .json["current_state_identifier"]["state_version"]
        .clone();
    assert_eq!(frozen, later, "the stuck node's ledger does not advance");
    t.fault(json!({"action": "node_in_sync", "node": "primary"}))
        .await;

    // Wrong key: identity shows another key and NOT_VALIDATING; proposals missed.
    t.fault(json!({"action": "node_wrong_key", "node": "primary"}))
        .await;
    let id = t.system("primary", "/identity").await.ok().json;
    assert_ne!(id["public_key_hex"], t.info.primary_public_key_hex.as_str());
    assert_eq!(id["consensus_status"], "NOT_VALIDATING_IN_CURRENT_EPOCH");
    let r = our_rounds(&t, 20).await;
    assert!(!r.is_empty() && r.iter().all(|m| !m), "{r:?}");
    t.fault(json!({"action": "node_key_restored", "node": "primary"}))
        .await;
    assert_eq!(
        t.identity_status("primary").await,
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    assert!(our_rounds(&t, 10).await.iter().all(|m| *m));

    // Flaky: about half of the proposals time out.
    t.fault(json!({"action": "node_flaky", "node": "primary"}))
        .await;
    let r = our_rounds(&t, 200).await;
    let missed = r.iter().filter(|m| !**m).count();
    assert!(
        missed * 4 >= r.len() && missed * 4 <= 3 * r.len(),
        "{missed} of {} missed",
        r.len()
    );
    t.fault(json!({"action": "node_proposing", "node": "primary"}))
        .await;
    assert!(our_rounds(&t, 10).await.iter().all(|m| *m));
}
