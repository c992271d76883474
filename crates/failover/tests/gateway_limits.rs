//! Issue 10, item 3: the daemon is a good citizen of the public gateway. It reads the whole
//! validator list at start, once per epoch and while a key change is expected, not on every
//! poll; it backs off as long as a `429` with `Retry-After` asks (the source counts as
//! "throttled", untrusted, meanwhile); and a dead primary is failed over all the same.
//!
//! Timing as in fault_suite.rs: 4 s epochs of 20 rounds of 200 ms, a poll every 200 ms.

mod common;

use std::time::Duration;

use common::{scrape, Harness, STEP};
use serde_json::json;

const LIST: &str = "/state/validators/list";
const STATUS: &str = "/status/gateway-status";

fn requests(t: &std::collections::BTreeMap<String, (u64, u64)>, path: &str) -> u64 {
    t.get(path).map_or(0, |(r, _)| *r)
}

/// Over three epochs of polls every 200 ms (about 60), the validator list is read about once
/// per epoch and the small status on every poll; the daemon's metrics count the gateway's
/// requests and bytes, and the gateway saw only the `radix-failover/<version>` User-Agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_list_is_read_once_per_epoch_not_on_every_poll() {
    let h = Harness::start(71).await;
    let mut d = h.armed("daemon").await;
    let metrics = d.metrics_url().await;
    let before = h.gateway_traffic().await;
    let polls_before = d.polls_after_with(0, "").len();
    h.wait_epochs(3).await;
    let after = h.gateway_traffic().await;
    let polls = d.polls_after_with(0, "").len() - polls_before;
    let lists = requests(&after, LIST) - requests(&before, LIST);
    let statuses = requests(&after, STATUS) - requests(&before, STATUS);
    assert!(polls >= 20, "the daemon polled: {polls}");
    // 3 epoch changes, each seen once (a poll around the change may read it twice).
    assert!(
        (2..=6).contains(&lists),
        "the validator list was read {lists} times in {polls} polls over 3 epochs"
    );
    assert!(
        statuses + 6 >= polls as u64,
        "the status is read on every poll: {statuses} in {polls} polls"
    );
    let agents = h.gateway_user_agents().await;
    assert_eq!(
        agents,
        vec![format!("radix-failover/{}", env!("CARGO_PKG_VERSION"))],
        "the User-Agent names the tool and its version"
    );
    let m = scrape(&metrics).await;
    let gw = h.gateway_host();
    let line = m
        .lines()
        .find(|l| l.starts_with("radix_failover_source_requests_total") && l.contains(&gw))
        .unwrap_or_else(|| panic!("a request counter for the gateway:\n{m}"));
    let n: f64 = line
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a value");
    assert!(n >= polls as f64, "{line}");
    assert!(
        m.lines().any(
            |l| l.starts_with("radix_failover_source_response_bytes_total") && l.contains(&gw)
        ),
        "{m}"
    );
    h.stop(&mut d).await;
}

/// The gateway answers every request with 429 and `Retry-After: 2`: the daemon asks it about
/// once per 2 s (not on every 200 ms poll), says it is throttled, and when the primary dies
/// the Core API sources alone still fail it over (submitting through Core).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_gateway_is_backed_off_and_a_dead_primary_is_still_failed_over() {
    let h = Harness::start(72).await;
    let mut d = h.armed("daemon").await;
    h.fault(json!({"action": "gateway_rate_limited", "retry_after_s": 2}))
        .await;
    let line = d.wait_line("throttled", STEP).await;
    assert!(
        line.contains(&h.gateway_host()),
        "names the gateway: {line}"
    );
    assert!(line.contains("Retry-After"), "says why: {line}");
    let first = h.faults_view().await["gateway_rate_limited"]["refused"]
        .as_u64()
        .expect("refused count");
    let from = d.line_count();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let refused = h.faults_view().await["gateway_rate_limited"]["refused"]
        .as_u64()
        .expect("refused count")
        - first;
    let polls = d.polls_after_with(from, "").len();
    assert!(polls >= 15, "the daemon kept polling: {polls}");
    // 6 s at one request per 2 s: 3, maybe 4; without the back-off it would be one per poll.
    assert!(
        refused <= 5,
        "{refused} requests reached the rate-limited gateway in 6 s ({polls} polls)"
    );
    h.primary_dies_and_one_commits(&mut d).await;
    h.wait_key_change_epoch().await;
    h.fault(json!({"action": "gateway_healthy"})).await;
    h.stop(&mut d).await;
}
