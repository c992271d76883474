//! Control API clock: pause, resume and step the round clock of a running network.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn clock(t: &TestNet, verb: &str, body: Option<Value>) -> (StatusCode, Value) {
    let url = format!("{}/clock{verb}", t.net.control_url());
    let req = match body {
        Some(b) => t.http.post(&url).json(&b),
        None if verb.is_empty() => t.http.get(&url),
        None => t.http.post(&url),
    };
    let r = req.send().await.expect("control answers");
    let status = r.status();
    (status, r.json().await.expect("JSON"))
}

fn state_version(v: &Value) -> u64 {
    v["state_version"].as_u64().expect("state_version")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_pauses_resumes_and_steps() {
    let t = TestNet::start(51).await;
    let (_, c) = clock(&t, "", None).await;
    assert_eq!(
        c["running"], false,
        "the test network starts with the clock stopped"
    );

    // Step while paused: exactly that many rounds (one commit each, no user transactions).
    let before = state_version(&c);
    let (status, c) = clock(&t, "/step", Some(json!({"rounds": 5}))).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(state_version(&c), before + 5);

    // Resume: rounds advance on their own (20 ms rounds in the test network).
    let (_, c) = clock(&t, "/resume", None).await;
    assert_eq!(c["running"], true);
    let start = state_version(&c);
    let mut advanced = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if t.sim.snapshot().position.state_version >= start + 3 {
            advanced = true;
            break;
        }
    }
    assert!(advanced, "the running clock advances the ledger");
    let (status, _) = clock(&t, "/step", Some(json!({"rounds": 1}))).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "no manual steps while the clock runs"
    );

    // Pause: the ledger holds still.
    let (_, c) = clock(&t, "/pause", None).await;
    assert_eq!(c["running"], false);
    let held = t.sim.snapshot().position.state_version;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(t.sim.snapshot().position.state_version, held);

    // Bad bodies are refused with a reason.
    for bad in [
        json!({"rounds": 0}),
        json!({"rounds": 1_000_000}),
        json!({"round": 1}),
    ] {
        let (status, body) = clock(&t, "/step", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["error"].as_str().is_some_and(|m| m.contains("rounds")),
            "{body}"
        );
    }
}
