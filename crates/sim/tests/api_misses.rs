//! With the primary down, our leader rounds are missed: the Core API shows the misses in the
//! current epoch at once; the gateway's uptime endpoint only after the epoch ends.

mod common;

use common::*;
use radix_api::gateway as gw;
use serde_json::json;

fn our_core_counts(cm: &serde_json::Value, index: usize) -> (u64, u64) {
    let v = &cm["current_proposal_statistic"]["value"];
    (
        v["completed"][index].as_u64().expect("completed count"),
        v["missed"][index].as_u64().expect("missed count"),
    )
}

async fn uptime(t: &TestNet, body: serde_json::Value) -> gw::ValidatorUptimeCollectionItem {
    let r: gw::ValidatorsUptimeResponse = t
        .gw("/statistics/validators/uptime", body)
        .await
        .ok()
        .parse();
    assert_eq!(r.validators.items.len(), 1);
    r.validators.items[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_down_shows_in_core_at_once_and_in_gateway_uptime_after_the_epoch() {
    let t = TestNet::start(5).await;
    let ours = t.info.our_validator.clone();
    let body = json!({"validator_addresses": [ours]});

    // Finish one clean epoch first: uptime then has a record with no misses.
    t.step_to_next_epoch().await;
    let clean = uptime(&t, body.clone()).await;
    assert_eq!(clean.proposals_missed, Some(0));
    let made_before = clean
        .proposals_made
        .expect("a finished epoch gives a count");

    // The primary goes down: its ports refuse connections.
    let primary_core = t.node("primary").core_api_url.clone();
    t.fault(json!({"action": "node_down", "node": "primary"}))
        .await;
    let err = t
        .post_raw(
            &format!("{primary_core}/status/network-status"),
            r#"{"network":"simulator"}"#,
        )
        .await
        .expect_err("a down node refuses connections");
    assert!(err.is_connect(), "{err}");

    // Step until one of our leader rounds is missed with the epoch still running.
    let mut missed_in_epoch = None;
    for _ in 0..400 {
        let r = t.step(1).await.remove(0);
        if r.leader_address == ours {
            assert!(
                !r.made,
                "with the primary down our round {r:?} must be missed"
            );
            if t.epoch() == r.epoch {
                missed_in_epoch = Some(r.epoch);
                break;
            }
        }
    }
    let epoch = missed_in_epoch.expect("our validator led a round within 400 rounds");

    // Core API (the backup node serves it): the miss is there now, matching the round trace.
    let cm = t
        .core("backup", "/state/consensus-manager", network_body())
        .await
        .ok();
    let idx = t.our_index();
    let trace_missed = t
        .sim
        .round_history(1000)
        .iter()
        .filter(|r| r.epoch == epoch && r.leader_address == ours && !r.made)
        .count() as u64;
    let (_, core_missed) = our_core_counts(&cm.json, idx);
    assert!(core_missed >= 1);
    assert_eq!(
        core_missed, trace_missed,
        "Core API counts come from the engine, per round"
    );
    // The gateway does not show it yet: the epoch has not finished.
    let mid = uptime(&t, body.clone()).await;
    assert_eq!(
        mid.proposals_missed,
        Some(0),
        "uptime shows finished epochs only"
    );

    // After the epoch ends, the emission record carries the misses.
    t.step_to_next_epoch().await;
    let after = uptime(&t, body.clone()).await;
    let total_missed = t
        .sim
        .round_history(1000)
        .iter()
        .filter(|r| r.epoch == epoch && r.leader_address == ours && !r.made)
        .count() as u64;
    assert_eq!(after.proposals_missed, Some(total_missed));
    assert_eq!(
        after.proposals_made,
        Some(made_before),
        "no made proposals while down"
    );

    // from/at semantics: from the epoch that had the misses counts only later epochs.
    let from = uptime(
        &t,
        json!({"validator_addresses": [ours], "from_ledger_state": {"epoch": epoch}}),
    )
    .await;
    assert_eq!(
        from.proposals_missed, None,
        "nothing finished after the first record ≥ from"
    );
    let window = uptime(
        &t,
        json!({"validator_addresses": [ours], "from_ledger_state": {"epoch": epoch - 1}, "at_ledger_state": {"epoch": epoch + 1}}),
    )
    .await;
    assert_eq!(window.proposals_missed, Some(total_missed));
    assert_eq!(window.epochs_active_in, 1);
    let before = uptime(
        &t,
        json!({"validator_addresses": [ours], "at_ledger_state": {"epoch": epoch}}),
    )
    .await;
    assert_eq!(
        before.proposals_missed,
        Some(0),
        "at the start of that epoch its misses were not visible"
    );

    // The node comes back on the same port and answers again.
    t.fault(json!({"action": "node_up", "node": "primary"}))
        .await;
    let status = t
        .core("primary", "/status/network-status", network_body())
        .await
        .ok();
    assert_eq!(status.json["current_epoch_round"]["epoch"], t.epoch());
}
