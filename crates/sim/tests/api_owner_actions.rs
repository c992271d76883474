//! Changes to our validator behind the watcher's back: real owner transactions committed by the
//! engine through the fault API, and what the Core and Gateway APIs then show, as a node and a
//! gateway show them.

mod common;

use common::*;
use radix_api::gateway as gw;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Our validator's state substate value on a node's Core API `/state/validator`.
async fn core_state(t: &TestNet) -> Value {
    let a = t
        .core(
            "backup",
            "/state/validator",
            json!({"network": "simulator", "validator_address": t.info.our_validator}),
        )
        .await
        .ok();
    a.json["state"]["value"].clone()
}

async fn our_gateway_item(t: &TestNet) -> gw::ValidatorCollectionItem {
    let list: gw::StateValidatorsListResponse =
        t.gw("/state/validators/list", json!({})).await.ok().parse();
    our_item(&list, &t.info.our_validator).clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_change_shows_as_the_change_request_and_takes_effect_at_its_epoch() {
    let t = TestNet::start(71).await;
    t.step(3).await;
    let epoch = t.epoch();

    // Genesis sets every fee to 1; a decrease is effective from the next epoch.
    t.fault(json!({"action": "validator_fee_changed", "fee_factor": "0.05"}))
        .await;
    let state = core_state(&t).await;
    assert_eq!(state["validator_fee_factor"], "1", "{state}");
    assert_eq!(
        state["validator_fee_change_request"],
        json!({"epoch_effective": epoch + 1, "new_fee_factor": "0.05"}),
        "{state}"
    );
    let item = our_gateway_item(&t).await;
    assert_eq!(
        item.state
            .as_ref()
            .map(|s| &s["validator_fee_change_request"]),
        Some(&state["validator_fee_change_request"]),
        "the gateway's state is the Core API's substate"
    );
    assert_eq!(item.effective_fee_factor.current.fee_factor, "1");
    assert_eq!(
        item.effective_fee_factor.pending,
        Some(gw::FeeFactorPending {
            fee_factor: "0.05".into(),
            effective_at_epoch: epoch + 1,
        })
    );

    // From that epoch on the new fee is the one in force; the substate keeps the old factor.
    t.step_to_next_epoch().await;
    assert_eq!(t.epoch(), epoch + 1);
    let item = our_gateway_item(&t).await;
    assert_eq!(item.effective_fee_factor.current.fee_factor, "0.05");
    assert_eq!(item.effective_fee_factor.pending, None);
    assert_eq!(core_state(&t).await["validator_fee_factor"], "1");

    // An increase waits `num_fee_increase_delay_epochs`; asking for it promotes the effective
    // request into the substate's factor.
    let delay = t
        .sim
        .snapshot()
        .consensus_config
        .num_fee_increase_delay_epochs;
    assert!(delay > 1, "the engine's delay, not the next epoch: {delay}");
    t.fault(json!({"action": "validator_fee_changed", "fee_factor": "0.1"}))
        .await;
    let state = core_state(&t).await;
    assert_eq!(state["validator_fee_factor"], "0.05", "{state}");
    assert_eq!(
        state["validator_fee_change_request"],
        json!({"epoch_effective": epoch + 1 + delay, "new_fee_factor": "0.1"}),
        "{state}"
    );
    let item = our_gateway_item(&t).await;
    assert_eq!(item.effective_fee_factor.current.fee_factor, "0.05");
    assert_eq!(
        item.effective_fee_factor.pending,
        Some(gw::FeeFactorPending {
            fee_factor: "0.1".into(),
            effective_at_epoch: epoch + 1 + delay,
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_fee_factor_is_refused_naming_the_field() {
    let t = TestNet::start(72).await;
    let url = format!("{}/faults", t.net.control_url());
    for bad in ["five", "1.5", "-0.1"] {
        let body = json!({"action": "validator_fee_changed", "fee_factor": bad}).to_string();
        let (status, text) = t.post_raw(&url, &body).await.expect("control answers");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {text}");
        assert!(text.contains("fee_factor"), "{bad}: {text}");
    }
    // Nothing was asked of the engine.
    assert_eq!(
        core_state(&t).await.get("validator_fee_change_request"),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegation_off_and_unregister_show_on_core_and_gateway() {
    let t = TestNet::start(73).await;
    t.step(3).await;
    let state = core_state(&t).await;
    assert_eq!(state["accepts_delegated_stake"], true);
    assert_eq!(state["is_registered"], true);

    t.fault(json!({"action": "validator_delegation_set", "accept": false}))
        .await;
    let state = core_state(&t).await;
    assert_eq!(state["accepts_delegated_stake"], false, "{state}");
    assert_eq!(state["is_registered"], true, "{state}");
    let item = our_gateway_item(&t).await;
    assert_eq!(
        item.state.as_ref().map(|s| &s["accepts_delegated_stake"]),
        Some(&json!(false))
    );

    t.fault(json!({"action": "validator_unregistered"})).await;
    let state = core_state(&t).await;
    assert_eq!(state["is_registered"], false, "{state}");
    assert_eq!(state["accepts_delegated_stake"], false, "{state}");
    let item = our_gateway_item(&t).await;
    assert_eq!(
        item.state.as_ref().map(|s| &s["is_registered"]),
        Some(&json!(false))
    );
    // Still validating this epoch; out of the active set from the next.
    assert!(item.active_in_epoch.is_some());
    t.step_to_next_epoch().await;
    let item = our_gateway_item(&t).await;
    assert!(
        item.active_in_epoch.is_none(),
        "an unregistered validator leaves the active set at the epoch change"
    );
}

/// Where the gateway's `/state/non-fungible/location` says our owner badge is.
async fn badge_location(t: &TestNet) -> gw::StateNonFungibleLocationResponseItem {
    let r: gw::StateNonFungibleLocationResponse = t
        .gw(
            "/state/non-fungible/location",
            json!({
                "resource_address": t.info.owner_badge_resource,
                "non_fungible_ids": [t.info.owner_badge_local_id],
            }),
        )
        .await
        .ok()
        .parse();
    assert_eq!(r.non_fungible_ids.len(), 1, "{r:?}");
    r.non_fungible_ids[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_locates_the_owner_badge_before_and_after_it_is_moved() {
    let t = TestNet::start(73).await;
    let at = badge_location(&t).await;
    assert!(!at.is_burned, "{at:?}");
    assert_eq!(
        at.owning_vault_global_ancestor_address.as_deref(),
        Some(t.info.owner_account.as_str()),
        "{at:?}"
    );
    let vault = at.owning_vault_address.clone().expect("a vault");
    assert!(vault.starts_with("internal_vault_sim1"), "{vault}");

    t.fault(json!({"action": "owner_badge_moved"})).await;
    let moved = badge_location(&t).await;
    let to = moved
        .owning_vault_global_ancestor_address
        .clone()
        .expect("still held somewhere");
    assert!(
        to.starts_with("account_sim1") && to != t.info.owner_account,
        "{moved:?}"
    );
    assert_ne!(moved.owning_vault_address.as_deref(), Some(vault.as_str()));
    // The account the gateway names holds it, by its own entity details.
    let details: gw::StateEntityDetailsResponse = t
        .gw(
            "/state/entity/details",
            json!({
                "addresses": [to],
                "aggregation_level": "Vault",
                "opt_ins": {"non_fungible_include_nfids": true},
            }),
        )
        .await
        .ok()
        .parse();
    let text = serde_json::to_string(&details.items[0].non_fungible_resources).unwrap();
    assert!(
        text.contains(&t.info.owner_badge_resource) && text.contains(&t.info.owner_badge_local_id),
        "{text}"
    );

    // Bad input: a 400 naming the problem.
    let bad = t
        .gw(
            "/state/non-fungible/location",
            json!({"resource_address": t.info.owner_badge_resource, "non_fungible_ids": ["nope"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.json);
    assert!(
        bad.json.to_string().contains("not a non-fungible local id"),
        "{}",
        bad.json
    );
}
