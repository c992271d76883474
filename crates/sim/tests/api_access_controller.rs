//! `--badge-in access-controller`: our validator's owner badge in a native access controller at
//! genesis, on the real engine, and the controller as the gateway's entity details show it
//! (its state and role rules checked against the Core API's schemas, field for field).

mod common;

use common::*;
use radix_api::spec_check::Api;
use radix_sim::ledger::{BadgeIn, TIMED_RECOVERY_MINUTES};
use serde_json::{json, Value};

async fn start(seed: u64) -> TestNet {
    TestNet::start_with(seed, |c| c.badge_in = BadgeIn::AccessController).await
}

/// The gateway's entity details item of `address`.
async fn details(t: &TestNet, address: &str) -> Value {
    let a = t
        .gw(
            "/state/entity/details",
            json!({
                "addresses": [address],
                "aggregation_level": "Vault",
                "opt_ins": { "non_fungible_include_nfids": true }
            }),
        )
        .await
        .ok();
    a.json["items"][0].clone()
}

fn holds_owner_badge(item: &Value, t: &TestNet) -> bool {
    item["non_fungible_resources"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["resource_address"] == t.info.owner_badge_resource)
        .flat_map(|r| r["vaults"]["items"].as_array().cloned().unwrap_or_default())
        .flat_map(|v| v["items"].as_array().cloned().unwrap_or_default())
        .any(|id| id == t.info.owner_badge_local_id.as_str())
}

/// The owner key's manifest: the fee from the owner account, then `method` of controller `ac`.
fn owner_calls(t: &TestNet, ac: &str, method: &str) -> String {
    format!(
        "CALL_METHOD Address(\"{owner}\") \"lock_fee\" Decimal(\"10\");\nCALL_METHOD Address(\"{ac}\") \"{method}\";\n",
        owner = t.info.owner_account,
    )
}

fn role<'a>(item: &'a Value, name: &str) -> &'a Value {
    item["details"]["role_assignments"]["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["role_key"]["name"] == name))
        .map(|e| &e["assignment"]["explicit_rule"])
        .unwrap_or_else(|| panic!("no {name} role in {item:#}"))
}

/// The non-fungible a rule requires, when it is a single `Require`.
fn required_badge(rule: &Value) -> (String, String) {
    let nf = &rule["access_rule"]["proof_rule"]["requirement"]["non_fungible"];
    (
        nf["resource_address"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        nf["local_id"]["simple_rep"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_puts_the_owner_badge_in_an_access_controller_the_owner_key_is_primary() {
    let t = start(81).await;
    let ac = t
        .info
        .access_controller
        .clone()
        .expect("the info names the access controller");
    assert!(ac.starts_with("accesscontroller_sim1"), "{ac}");
    let recovery_file = t.info.recovery_key_file.clone().expect("recovery key file");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&recovery_file)
            .expect("recovery key written")
            .permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "the recovery key is not world-readable"
    );

    // The badge left the owner account for the controller.
    assert!(!holds_owner_badge(
        &details(&t, &t.info.owner_account).await,
        &t
    ));
    let item = details(&t, &ac).await;
    assert!(holds_owner_badge(&item, &t), "{item:#}");
    assert_eq!(item["details"]["blueprint_name"], "AccessController");

    // Its state, as the Core API models it.
    let state = &item["details"]["state"];
    check(Api::Core, "AccessControllerFieldStateValue", state);
    assert_eq!(state["is_primary_role_locked"], false);
    assert_eq!(
        state["timed_recovery_delay_minutes"],
        TIMED_RECOVERY_MINUTES
    );
    assert!(
        state.get("primary_role_recovery_attempt").is_none(),
        "{state}"
    );
    assert!(
        state.get("recovery_role_recovery_attempt").is_none(),
        "{state}"
    );

    // Primary: the owner key's signature; recovery and confirmation: the recovery key's.
    for name in ["primary", "recovery", "confirmation"] {
        check(Api::Core, "AccessRule", role(&item, name));
    }
    let owner_sig = required_badge(role(&item, "primary"));
    let recovery_sig = required_badge(role(&item, "recovery"));
    assert_eq!(required_badge(role(&item, "confirmation")), recovery_sig);
    assert_ne!(owner_sig, recovery_sig);
    // The Ed25519 signature badge of the owner key: what the daemon's signature proves.
    let owner_key = radix_common::crypto::Ed25519PublicKey::try_from(
        hex::decode(&t.info.owner_public_key_hex)
            .expect("hex")
            .as_slice(),
    )
    .expect("the owner key");
    let expected = <radix_common::prelude::NonFungibleGlobalId as radix_engine_interface::prelude::FromPublicKey>::from_public_key(owner_key);
    let enc = radix_common::prelude::AddressBech32Encoder::new(
        &radix_common::prelude::NetworkDefinition::simulator(),
    );
    assert_eq!(
        format!("{}:{}", owner_sig.0, owner_sig.1),
        expected.to_canonical_string(&enc)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recovery_key_locks_the_primary_role_and_the_owner_key_cannot_take_the_badge() {
    let t = start(82).await;
    let ac = t.info.access_controller.clone().expect("access controller");

    // The owner key (the hot key) cannot withdraw the badge: it is not in the account any more,
    // and the controller has no method that gives it out to the primary role.
    let steal = format!(
        r#"CALL_METHOD Address("{owner}") "lock_fee" Decimal("10");
CALL_METHOD Address("{owner}") "withdraw_non_fungibles" Address("{badge}") Array<NonFungibleLocalId>(NonFungibleLocalId("{id}"));
CALL_METHOD Address("{owner}") "deposit_batch" Expression("ENTIRE_WORKTOP");
"#,
        owner = t.info.owner_account,
        badge = t.info.owner_badge_resource,
        id = t.info.owner_badge_local_id,
    );
    let e = t.sim.commit_owner_manifest_text(&steal).unwrap_err();
    assert!(e.to_string().contains("not committed"), "{e}");
    let quick = format!(
        r#"CALL_METHOD Address("{owner}") "lock_fee" Decimal("10");
CALL_METHOD Address("{ac}") "quick_confirm_primary_role_badge_withdraw_attempt";
CALL_METHOD Address("{owner}") "deposit_batch" Expression("ENTIRE_WORKTOP");
"#,
        owner = t.info.owner_account,
    );
    let e = t.sim.commit_owner_manifest_text(&quick).unwrap_err();
    assert!(e.to_string().contains("not committed"), "{e}");
    assert!(holds_owner_badge(&details(&t, &ac).await, &t));

    // The recovery key locks the primary role: the state says so at once.
    t.sim
        .recovery_locks_primary_role()
        .expect("lock_primary_role commits");
    let state = details(&t, &ac).await["details"]["state"].clone();
    check(Api::Core, "AccessControllerFieldStateValue", &state);
    assert_eq!(state["is_primary_role_locked"], true, "{state}");

    // The owner key's proof now fails.
    let prove = owner_calls(&t, &ac, "create_proof");
    let e = t.sim.commit_owner_manifest_text(&prove).unwrap_err();
    assert!(e.to_string().contains("not committed"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_withdraw_attempt_shows_in_the_state() {
    let t = start(83).await;
    let ac = t.info.access_controller.clone().expect("access controller");
    // The primary role may ask for the badge: the state shows the attempt (only the recovery
    // or confirmation role can confirm it).
    let ask = owner_calls(&t, &ac, "initiate_badge_withdraw_attempt_as_primary");
    t.sim
        .commit_owner_manifest_text(&ask)
        .expect("the attempt commits");
    let state = details(&t, &ac).await["details"]["state"].clone();
    check(Api::Core, "AccessControllerFieldStateValue", &state);
    assert_eq!(
        state["has_primary_role_badge_withdraw_attempt"], true,
        "{state}"
    );
    assert!(holds_owner_badge(&details(&t, &ac).await, &t));
}
