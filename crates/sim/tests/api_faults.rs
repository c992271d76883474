//! Each fault behaves as described, and bad requests get the spec's error answers.

mod common;

use std::time::{Duration, Instant};

use common::*;
use radix_api::gateway as gw;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_down_refuses_connections_and_comes_back_on_the_same_port() {
    let t = TestNet::start(21).await;
    let url = format!("{}/status/gateway-status", t.net.gateway_url());
    t.gw("/status/gateway-status", json!({})).await.ok();
    t.fault(json!({"action": "gateway_down"})).await;
    let err = t.post_raw(&url, "{}").await.expect_err("refused");
    assert!(err.is_connect(), "{err}");
    // Nodes are unaffected.
    t.core("backup", "/status/network-status", network_body())
        .await
        .ok();
    t.fault(json!({"action": "gateway_up"})).await;
    t.gw("/status/gateway-status", json!({})).await.ok();

    // A client holding a keep-alive connection must not keep talking to a downed server.
    let pooled = reqwest::Client::new();
    let ok = pooled.post(&url).body("{}").send().await.expect("up");
    assert!(ok.status().is_success());
    let _ = ok.bytes().await;
    t.fault(json!({"action": "gateway_down"})).await;
    let err = pooled
        .post(&url)
        .body("{}")
        .send()
        .await
        .expect_err("the open connection was dropped and the port is closed");
    assert!(err.is_connect() || err.is_request(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_slow_failing_garbage_and_healthy() {
    let t = TestNet::start(22).await;
    let url = format!("{}/status/gateway-status", t.net.gateway_url());

    // Slow: every answer is delayed by at least the injected latency.
    const LATENCY_MS: u64 = 300;
    t.fault(json!({"action": "gateway_slow", "latency_ms": LATENCY_MS}))
        .await;
    let started = Instant::now();
    t.gw("/status/gateway-status", json!({})).await.ok();
    assert!(started.elapsed() >= Duration::from_millis(LATENCY_MS));
    t.fault(json!({"action": "gateway_healthy"})).await;

    // Failing with a 5xx.
    t.fault(json!({"action": "gateway_failing", "status": 502}))
        .await;
    let a = t.gw("/status/gateway-status", json!({})).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    let e: gw::ErrorResponse = a.parse();
    assert!(matches!(
        e.details,
        Some(gw::GatewayError::InternalServerError { .. })
    ));

    // Failing with the spec's NotSyncedUpError.
    t.fault(json!({"action": "gateway_failing", "mode": "not_synced_up"}))
        .await;
    let a = t.gw("/state/validators/list", json!({})).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    let e: gw::ErrorResponse = a.parse();
    assert!(
        matches!(e.details, Some(gw::GatewayError::NotSyncedUpError { .. })),
        "{e:?}"
    );

    // A 5xx status outside 500..=599 is refused by the control API.
    let r = t
        .http
        .post(format!("{}/faults", t.net.control_url()))
        .json(&json!({"action": "gateway_failing", "status": 200}))
        .send()
        .await
        .expect("control answers");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    t.fault(json!({"action": "gateway_healthy"})).await;

    // Garbage: a 200 whose body is not JSON.
    t.fault(json!({"action": "gateway_garbage"})).await;
    let (status, body) = t.post_raw(&url, "{}").await.expect("answers");
    assert_eq!(status, StatusCode::OK);
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "garbage parsed: {body}"
    );
    t.fault(json!({"action": "gateway_healthy"})).await;
    t.gw("/status/gateway-status", json!({})).await.ok();

    let faults: serde_json::Value = t
        .http
        .get(format!("{}/faults", t.net.control_url()))
        .send()
        .await
        .expect("control answers")
        .json()
        .await
        .expect("json");
    assert_eq!(faults["gateway_garbage"], false);
    assert!(faults["gateway_failing"].is_null());
}

/// `gateway_rate_limited`: every gateway answer is a 429 with `Retry-After`, counted in
/// `GET /faults`; `gateway_healthy` ends it; `GET /stats` counts what each endpoint served and
/// who asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_rate_limited_answers_429_with_retry_after_and_counts_the_refusals() {
    let t = TestNet::start(27).await;
    let url = format!("{}/state/validators/list", t.net.gateway_url());
    t.fault(json!({"action": "gateway_rate_limited", "retry_after_s": 7}))
        .await;
    for _ in 0..3 {
        let r = t
            .http
            .post(&url)
            .header("user-agent", "tester/1")
            .json(&json!({}))
            .send()
            .await
            .expect("answers");
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
            Some("7")
        );
        let e: gw::ErrorResponse = r.json().await.expect("an ErrorResponse");
        assert!(e.message.contains("rate limit"), "{}", e.message);
    }
    let control = t.net.control_url();
    let faults: serde_json::Value = t
        .http
        .get(format!("{control}/faults"))
        .send()
        .await
        .expect("control answers")
        .json()
        .await
        .expect("json");
    assert_eq!(faults["gateway_rate_limited"]["refused"], 3);
    assert_eq!(faults["gateway_rate_limited"]["retry_after_s"], 7);
    t.fault(json!({"action": "gateway_healthy"})).await;
    t.gw("/state/validators/list", json!({})).await.ok();

    let stats: serde_json::Value = t
        .http
        .get(format!("{control}/stats"))
        .send()
        .await
        .expect("control answers")
        .json()
        .await
        .expect("json");
    let list = &stats["gateway"]["/state/validators/list"];
    assert_eq!(list["requests"], 4, "{stats}");
    assert!(list["bytes"].as_u64().unwrap_or(0) > 100, "{stats}");
    assert!(
        stats["gateway_user_agents"]
            .as_array()
            .is_some_and(|a| a.iter().any(|u| u == "tester/1")),
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_stale_freezes_the_ledger_state() {
    let t = TestNet::start(23).await;
    t.step(3).await;
    t.fault(json!({"action": "gateway_stale"})).await;
    let frozen: gw::GatewayStatusResponse =
        t.gw("/status/gateway-status", json!({})).await.ok().parse();
    t.step(TEST_ROUNDS_PER_EPOCH + 2).await;
    let later: gw::GatewayStatusResponse =
        t.gw("/status/gateway-status", json!({})).await.ok().parse();
    assert_eq!(
        later.ledger_state, frozen.ledger_state,
        "a stale gateway does not move"
    );
    let now = t.sim.snapshot().position.clone();
    assert!(now.state_version > frozen.ledger_state.state_version);
    // The nodes' Core APIs are live.
    let status = t
        .core("backup", "/status/network-status", network_body())
        .await
        .ok();
    assert_eq!(
        status.json["current_state_identifier"]["state_version"],
        now.state_version
    );
    t.fault(json!({"action": "gateway_healthy"})).await;
    let live: gw::GatewayStatusResponse =
        t.gw("/status/gateway-status", json!({})).await.ok().parse();
    assert_eq!(live.ledger_state.state_version, now.state_version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_failing_counts_down_on_gateway_and_core() {
    let t = TestNet::start(24).await;
    let tx = build_update_key(&t.info, &t.info.backup_public_key_hex, t.epoch(), 10, 1);
    t.fault(json!({"action": "submit_failing", "count": 2}))
        .await;
    let a = t.submit(&tx.hex).await;
    assert!(a.status.is_server_error(), "{a:?}");
    let b = t
        .core(
            "primary",
            "/lts/transaction/submit",
            json!({"network": "simulator", "notarized_transaction_hex": tx.hex}),
        )
        .await;
    assert!(b.status.is_server_error(), "{b:?}");
    // The failed submits never reached the mempool.
    let st: gw::TransactionStatusResponse = t.status(&tx.intent_hash).await;
    assert_eq!(st.intent_status, gw::TransactionIntentStatus::Unknown);
    // The third goes through.
    let ok: gw::TransactionSubmitResponse = t.submit(&tx.hex).await.ok().parse();
    assert!(!ok.duplicate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_out_of_sync_reports_health_and_serves_stale_core_answers() {
    let t = TestNet::start(25).await;
    t.step(2).await;
    let before = t
        .core("primary", "/status/network-status", network_body())
        .await
        .ok();
    t.fault(json!({"action": "node_out_of_sync", "node": "primary", "status": "syncing"}))
        .await;
    let h = t.system("primary", "/health").await.ok();
    assert_eq!(h.json["status"], "SYNCING");
    t.fault(json!({"action": "node_out_of_sync", "node": "backup"}))
        .await;
    assert_eq!(
        t.system("backup", "/health").await.ok().json["status"],
        "OUT_OF_SYNC"
    );
    t.fault(json!({"action": "node_in_sync", "node": "backup"}))
        .await;

    t.step(5).await;
    let stale = t
        .core("primary", "/status/network-status", network_body())
        .await
        .ok();
    assert_eq!(
        stale.json["current_state_identifier"],
        before.json["current_state_identifier"]
    );
    let live = t
        .core("backup", "/status/network-status", network_body())
        .await
        .ok();
    assert_ne!(
        live.json["current_state_identifier"],
        before.json["current_state_identifier"]
    );
    // An out-of-sync primary cannot propose: our leader rounds are missed.
    let mut saw_ours = false;
    for _ in 0..300 {
        let r = t.step(1).await.remove(0);
        if r.leader_address == t.info.our_validator {
            assert!(!r.made, "an out-of-sync node must not propose: {r:?}");
            saw_ours = true;
            break;
        }
    }
    assert!(saw_ours);
    t.fault(json!({"action": "node_in_sync", "node": "primary"}))
        .await;
    assert_eq!(
        t.system("primary", "/health").await.ok().json["status"],
        "UP"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_spec_error_answers() {
    let t = TestNet::start(26).await;
    // Malformed JSON.
    let url = format!("{}/transaction/status", t.net.gateway_url());
    let (status, body) = t.post_raw(&url, "{not json").await.expect("answers");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON error body");
    common::spec(radix_api::spec_check::Api::Gateway)
        .validate("ErrorResponse", &v)
        .expect("spec ErrorResponse");
    assert_eq!(v["details"]["type"], "InvalidRequestError");
    // Bad hex.
    let a = t.submit("zz").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json["message"].as_str().unwrap_or("").contains("hex"));
    // Not a transaction at all.
    let a = t.submit("00ff").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json["details"]["type"], "InvalidTransactionError");
    // Malformed intent hash.
    let a = t
        .gw(
            "/transaction/status",
            json!({"intent_hash": "txid_rdx1nope"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // Unknown and invalid addresses.
    let a = t
        .gw(
            "/statistics/validators/uptime",
            json!({"validator_addresses": ["validator_sim1nope"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json["details"]["type"], "EntityNotFoundError");
    let a = t
        .gw(
            "/state/entity/details",
            json!({"addresses": ["account_rdx1nope"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json["details"]["type"], "InvalidEntityError");
    // A committed-details lookup of an intent never seen.
    let tx = build_update_key(&t.info, &t.info.backup_public_key_hex, t.epoch(), 10, 3);
    let a = t
        .gw(
            "/transaction/committed-details",
            json!({"intent_hash": tx.intent_hash}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json["details"]["type"], "TransactionNotFoundError");
    // Core: wrong network name, unknown validator.
    let a = t
        .core(
            "backup",
            "/status/network-status",
            json!({"network": "mainnet"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json["message"]
        .as_str()
        .unwrap_or("")
        .contains("simulator"));
    let a = t
        .core(
            "backup",
            "/state/validator",
            json!({"network": "simulator", "validator_address": "validator_sim1nope"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = t
        .core(
            "backup",
            "/lts/transaction/submit",
            json!({"network": "simulator", "notarized_transaction_hex": "00ff"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json["details"]["type"], "Rejected");
    // A manifest that does not compile.
    let a = t
        .gw(
            "/transaction/preview",
            json!({"manifest": "CALL_METHOD nonsense;", "start_epoch_inclusive": t.epoch(),
                   "end_epoch_exclusive": t.epoch() + 2, "nonce": 1, "signer_public_keys": [],
                   "flags": {"use_free_credit": true}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.json);
    assert_eq!(a.json["details"]["type"], "InvalidRequestError");
    // Wrong HTTP method: still the spec's error bodies.
    let r = t
        .http
        .get(format!("{}/status/gateway-status", t.net.gateway_url()))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let v: serde_json::Value = r.json().await.expect("JSON");
    common::spec(radix_api::spec_check::Api::Gateway)
        .validate("ErrorResponse", &v)
        .expect("spec ErrorResponse");
    let r = t
        .http
        .get(format!(
            "{}/status/network-status",
            t.node("backup").core_api_url
        ))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let v: serde_json::Value = r.json().await.expect("JSON");
    common::spec(radix_api::spec_check::Api::Core)
        .validate("BasicErrorResponse", &v)
        .expect("spec BasicErrorResponse");
    let r = t
        .http
        .post(format!("{}/health", t.node("backup").system_api_url))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let v: serde_json::Value = r.json().await.expect("JSON");
    common::spec(radix_api::spec_check::Api::System)
        .validate("Error", &v)
        .expect("spec Error");
    // Control API: unknown action and unknown node.
    for bad in [
        json!({"action": "melt"}),
        json!({"action": "node_down", "node": "nobody"}),
    ] {
        let r = t
            .http
            .post(format!("{}/faults", t.net.control_url()))
            .json(&bad)
            .send()
            .await
            .expect("control answers");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = r.json().await.expect("json");
        assert!(body["error"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_endpoints_answer_field_for_field() {
    let t = TestNet::start(27).await;
    t.step(TEST_ROUNDS_PER_EPOCH + 3).await;
    t.gw("/status/gateway-status", json!({})).await.ok();
    let list: gw::StateValidatorsListResponse =
        t.gw("/state/validators/list", json!({})).await.ok().parse();
    assert_eq!(
        list.validators.items.len(),
        t.sim.snapshot().validators.len()
    );
    let all: gw::ValidatorsUptimeResponse = t
        .gw("/statistics/validators/uptime", json!({}))
        .await
        .ok()
        .parse();
    assert_eq!(all.validators.items.len(), list.validators.items.len());

    // Entity details: the owner account holds XRD and the owner badge (with its id when asked).
    let d: gw::StateEntityDetailsResponse = t
        .gw(
            "/state/entity/details",
            json!({"addresses": [t.info.owner_account, t.info.our_validator], "aggregation_level": "Vault",
                   "opt_ins": {"non_fungible_include_nfids": true}}),
        )
        .await
        .ok()
        .parse();
    let acct = &d.items[0];
    let badge = acct
        .non_fungible_resources
        .as_ref()
        .expect("non-fungibles")
        .items
        .iter()
        .find_map(|i| match i {
            gw::NonFungibleResourcesCollectionItem::Vault {
                resource_address,
                vaults,
            } if *resource_address == t.info.owner_badge_resource => {
                Some(vaults.items[0].items.clone())
            }
            _ => None,
        })
        .expect("owner badge listed");
    assert_eq!(badge, Some(vec![t.info.owner_badge_local_id.clone()]));
    let xrd = acct
        .fungible_resources
        .as_ref()
        .expect("fungibles")
        .items
        .iter()
        .any(|i| matches!(i, gw::FungibleResourcesCollectionItem::Vault { resource_address, .. } if *resource_address == t.info.xrd_resource));
    assert!(xrd, "owner account holds XRD");
    let validator_state = match &d.items[1].details {
        Some(gw::StateEntityDetailsResponseItemDetails::Component(c)) => {
            c.state.clone().expect("state")
        }
        other => panic!("validator details missing: {other:?}"),
    };
    assert_eq!(
        validator_state["public_key"]["key_hex"],
        t.info.primary_public_key_hex.as_str()
    );
    t.gw(
        "/state/entity/details",
        json!({"addresses": [t.info.owner_account]}),
    )
    .await
    .ok();

    // Core and System of every node.
    for n in t.info.nodes.clone() {
        t.core(&n.name, "/status/network-status", network_body())
            .await
            .ok();
        t.core(&n.name, "/state/consensus-manager", network_body())
            .await
            .ok();
        t.core(&n.name, "/lts/transaction/construction", network_body())
            .await
            .ok();
        t.core(
            &n.name,
            "/state/validator",
            json!({"network": "simulator", "validator_address": n.validator_address}),
        )
        .await
        .ok();
        t.system(&n.name, "/health").await.ok();
        let id: radix_api::system::IdentityResponse =
            t.system(&n.name, "/identity").await.ok().parse();
        assert_eq!(id.public_key_hex, n.public_key_hex);
        assert_eq!(
            id.validator_address.as_deref(),
            Some(n.validator_address.as_str())
        );
        assert!(
            id.node_address.starts_with("node_sim1"),
            "{}",
            id.node_address
        );
    }
    let info: radix_sim::info::Info = t
        .http
        .get(format!("{}/info", t.net.control_url()))
        .send()
        .await
        .expect("control answers")
        .json()
        .await
        .expect("info JSON");
    assert_eq!(info, t.info);
}

/// Our validator's (completed, missed) in one node's `/state/consensus-manager`.
async fn our_counts_on(t: &TestNet, node: &str) -> (u64, u64) {
    let cm = t
        .core(node, "/state/consensus-manager", network_body())
        .await
        .ok()
        .json;
    let set = cm["current_validator_set"]["value"]["validator_set"]
        .as_array()
        .expect("validator set");
    let i = set
        .iter()
        .position(|v| v["address"] == t.info.our_validator.as_str())
        .expect("our validator is active");
    let stat = &cm["current_proposal_statistic"]["value"];
    (
        stat["completed"][i].as_u64().expect("completed"),
        stat["missed"][i].as_u64().expect("missed"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_lies_adds_misses_to_our_validator_on_that_node_only() {
    let t = TestNet::start(27).await;
    t.step(3).await;
    let honest = our_counts_on(&t, "validator-2").await;
    t.fault(json!({"action": "core_lies", "node": "validator-1", "extra_missed": 7}))
        .await;
    let lied = our_counts_on(&t, "validator-1").await;
    // Same ledger (no round stepped in between), only our miss count differs.
    assert_eq!(lied.0, honest.0, "completed untouched");
    assert_eq!(lied.1, honest.1 + 7, "missed +7");
    assert_eq!(our_counts_on(&t, "validator-2").await, honest);
    assert_eq!(our_counts_on(&t, "primary").await, honest);
    // Other validators' counts stay true on the liar.
    let mut missed = Vec::new();
    for node in ["validator-1", "validator-2"] {
        let cm = t
            .core(node, "/state/consensus-manager", network_body())
            .await
            .ok()
            .json;
        missed.push(cm["current_proposal_statistic"]["value"]["missed"].clone());
    }
    let (a, b) = (&missed[0], &missed[1]);
    let diffs = a
        .as_array()
        .expect("array")
        .iter()
        .zip(b.as_array().expect("array"))
        .filter(|(x, y)| x != y)
        .count();
    assert_eq!(diffs, 1, "only our entry differs: {a} vs {b}");
    let view = t.faults.view();
    assert_eq!(view.core_lies.get("validator-1"), Some(&7));
    // 0 makes it honest again; an unknown node is refused.
    t.fault(json!({"action": "core_lies", "node": "validator-1", "extra_missed": 0}))
        .await;
    assert_eq!(our_counts_on(&t, "validator-1").await, honest);
    let r = t
        .http
        .post(format!("{}/faults", t.info.control_url))
        .json(&json!({"action": "core_lies", "node": "nobody", "extra_missed": 1}))
        .send()
        .await
        .expect("control answers");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mempool_stall_holds_transactions_and_expired_ones_are_rejected_after_it() {
    let t = TestNet::start(28).await;
    let e = t.epoch();
    // Valid for this epoch only; the other for a long window.
    let short = build_update_key(&t.info, &t.info.backup_public_key_hex, e, 1, 1);
    let long = build_update_key(&t.info, &t.info.backup_public_key_hex, e, 10, 2);
    let stall = 3 * TEST_ROUNDS_PER_EPOCH;
    t.fault(json!({"action": "mempool_stall", "rounds": stall}))
        .await;
    assert_eq!(t.sim.mempool_stall_remaining(), stall);
    t.submit(&short.hex).await.ok();
    t.submit(&long.hex).await.ok();
    let records = t.step(stall).await;
    assert!(
        records.iter().any(|r| r.made),
        "made rounds happened during the stall"
    );
    assert!(t.epoch() > e, "the short window ended during the stall");
    assert_eq!(t.sim.mempool_stall_remaining(), 0);
    for tx in [&short, &long] {
        let st = t.status(&tx.intent_hash).await;
        assert_eq!(
            st.intent_status,
            gw::TransactionIntentStatus::Pending,
            "held: {st:?}"
        );
    }
    assert!(t.sim.committed_intents().is_empty());
    // After the stall: the expired one is rejected, the other commits.
    let st = t.step_until_decided(&long.intent_hash, 50).await;
    assert_eq!(
        st.intent_status,
        gw::TransactionIntentStatus::CommittedSuccess
    );
    let st = t.status(&short.intent_hash).await;
    assert_eq!(
        st.intent_status,
        gw::TransactionIntentStatus::PermanentlyRejected,
        "{st:?}"
    );
    let committed = t.sim.committed_intents();
    assert_eq!(committed.len(), 1);
    assert_eq!(committed[0].0, long.intent_hash);
}
