//! Faults of sources that lie or half-fail, and of the network as a whole: a gateway that lies
//! about transactions, a System API down on a node that keeps proposing, many validators
//! missing at once, and a validator list whose pages come slowly.

mod common;

use std::time::{Duration, Instant};

use common::*;
use radix_api::gateway as gw;
use radix_sim::faults::change_ports;
use radix_sim::scenario::Scenario;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn refused(t: &TestNet, action: Value) -> String {
    let r = t
        .http
        .post(format!("{}/faults", t.net.control_url()))
        .json(&action)
        .send()
        .await
        .expect("control answers");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{action} was accepted");
    let body: Value = r.json().await.expect("json");
    body["error"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_lies_tx_swallows_submits_and_claims_every_commit() {
    let t = TestNet::start(61).await;
    let e = t.epoch();
    let tx = build_update_key(&t.info, &t.info.backup_public_key_hex, e, 10, 1);
    let never_sent = build_update_key(&t.info, &t.info.backup_public_key_hex, e, 10, 2);
    t.fault(json!({"action": "gateway_lies_tx"})).await;

    let a = t.submit(&tx.hex).await.ok();
    assert_eq!(a.json["duplicate"], false, "the lie looks like an accept");
    t.step(5).await;
    assert!(
        t.sim.committed_intents().is_empty(),
        "the swallowed submit never reached the mempool"
    );
    for intent in [&tx.intent_hash, &never_sent.intent_hash] {
        let st = t.status(intent).await;
        assert_eq!(
            st.intent_status,
            gw::TransactionIntentStatus::CommittedSuccess
        );
        assert!(st.committed_state_version.is_some());
        let d = t
            .gw(
                "/transaction/committed-details",
                json!({ "intent_hash": intent }),
            )
            .await
            .ok();
        assert_eq!(
            d.json["transaction"]["transaction_status"],
            "CommittedSuccess"
        );
        // The Core API tells the truth: it never saw the intent.
        let core = t.core_status("backup", intent).await;
        assert_eq!(core.json["intent_status"], "NotSeen", "{}", core.json);
    }

    // A Core API submit goes through for real, and the Core status shows the true commit.
    let c = t
        .core(
            "validator-1",
            "/lts/transaction/submit",
            json!({"network": "simulator", "notarized_transaction_hex": tx.hex}),
        )
        .await
        .ok();
    assert_eq!(c.json["duplicate"], false);
    for _ in 0..30 {
        t.step(1).await;
        if !t.sim.committed_intents().is_empty() {
            break;
        }
    }
    assert_eq!(t.sim.committed_intents().len(), 1);
    let core = t.core_status("backup", &tx.intent_hash).await;
    assert_eq!(core.json["intent_status"], "CommittedSuccess");

    // gateway_healthy makes it honest again.
    t.fault(json!({"action": "gateway_healthy"})).await;
    assert!(!t.faults.view().gateway_lies_tx);
    let st = t.status(&never_sent.intent_hash).await;
    assert_eq!(st.intent_status, gw::TransactionIntentStatus::Unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_api_down_closes_only_that_port_while_the_node_proposes() {
    let t = TestNet::start(62).await;
    let health = format!("{}/health", t.node("primary").system_api_url);
    let pooled = reqwest::Client::new();
    let ok = pooled.get(&health).send().await.expect("up");
    assert!(ok.status().is_success());
    let _ = ok.bytes().await;

    t.fault(json!({"action": "system_api_down", "node": "primary"}))
        .await;
    let err = t.http.get(&health).send().await.expect_err("refused");
    assert!(err.is_connect(), "{err}");
    let err = pooled
        .get(&health)
        .send()
        .await
        .expect_err("the open keep-alive connection was dropped");
    assert!(err.is_connect() || err.is_request(), "{err}");
    // Its Core API answers, the backup's System API too.
    t.core("primary", "/status/network-status", network_body())
        .await
        .ok();
    t.system("backup", "/health").await.ok();
    assert_eq!(t.faults.view().system_api_down, vec!["primary".to_string()]);

    // It keeps proposing: every one of our leader rounds is made.
    let rounds = t.step(6 * TEST_ROUNDS_PER_EPOCH).await;
    let ours: Vec<_> = rounds
        .iter()
        .filter(|r| r.leader_address == t.info.our_validator)
        .collect();
    assert!(!ours.is_empty(), "the seed gives our validator rounds");
    assert!(ours.iter().all(|r| r.made), "{ours:?}");

    t.fault(json!({"action": "system_api_up", "node": "primary"}))
        .await;
    t.system("primary", "/health").await.ok();
    assert!(t.faults.view().system_api_down.is_empty());
    assert!(
        refused(&t, json!({"action": "system_api_down", "node": "nobody"}))
            .await
            .contains("nobody")
    );
}

/// (validator address -> (completed, missed)) from a node's consensus-manager answer.
async fn counts(t: &TestNet, node: &str) -> Vec<(String, u64, u64)> {
    let cm = t
        .core(node, "/state/consensus-manager", network_body())
        .await
        .ok()
        .json;
    let set = cm["current_validator_set"]["value"]["validator_set"]
        .as_array()
        .expect("validator set")
        .clone();
    let stat = &cm["current_proposal_statistic"]["value"];
    set.iter()
        .enumerate()
        .map(|(i, v)| {
            (
                v["address"].as_str().unwrap_or_default().to_string(),
                stat["completed"][i].as_u64().expect("completed"),
                stat["missed"][i].as_u64().expect("missed"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_missing_fails_many_validators_at_once_but_not_ours() {
    let t = TestNet::start(63).await;
    t.step_to_next_epoch().await;
    let applied = t
        .fault(json!({"action": "validators_missing", "percent": 50}))
        .await;
    let missing: Vec<String> =
        serde_json::from_value(applied["faults"]["validators_missing"].clone()).expect("list");
    // 50 % of 8 active validators, all from the others.
    assert_eq!(missing.len(), 4, "{missing:?}");
    assert!(!missing.iter().any(|n| n == "primary" || n == "backup"));
    let missing_addrs: Vec<String> = missing
        .iter()
        .map(|n| t.node(n).validator_address.clone())
        .collect();

    let rounds = t.step(TEST_ROUNDS_PER_EPOCH - 2).await;
    for r in &rounds {
        let targeted = missing_addrs.contains(&r.leader_address);
        assert_eq!(r.made, !targeted, "round {r:?}");
    }
    // The Core API's per-validator counts show every targeted validator that led missing, and
    // no miss anywhere else.
    let c = counts(&t, "validator-7").await;
    let missing_now = c.iter().filter(|(_, _, missed)| *missed > 0).count();
    let led_targeted = missing_addrs
        .iter()
        .filter(|a| rounds.iter().any(|r| &r.leader_address == *a))
        .count();
    assert!(
        led_targeted >= 2,
        "the seed gives targeted validators rounds"
    );
    assert_eq!(missing_now, led_targeted, "{c:?}");
    for (addr, _, missed) in &c {
        if !missing_addrs.contains(addr) {
            assert_eq!(*missed, 0, "{addr} is healthy");
        }
    }

    // A list can name our primary too; count picks the first others.
    t.fault(json!({"action": "validators_missing", "nodes": ["primary", "validator-2"]}))
        .await;
    assert_eq!(
        t.faults.view().validators_missing,
        vec!["primary".to_string(), "validator-2".to_string()]
    );
    t.fault(json!({"action": "validators_missing", "count": 2}))
        .await;
    assert_eq!(t.faults.view().validators_missing.len(), 2);

    t.fault(json!({"action": "validators_healthy"})).await;
    assert!(t.faults.view().validators_missing.is_empty());
    let rounds = t.step(TEST_ROUNDS_PER_EPOCH).await;
    assert!(rounds.iter().all(|r| r.made), "healthy again: {rounds:?}");

    assert!(refused(
        &t,
        json!({"action": "validators_missing", "percent": 50, "count": 1})
    )
    .await
    .contains("exactly one"));
    assert!(
        refused(&t, json!({"action": "validators_missing", "count": 99}))
            .await
            .contains("count 99")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_slow_pages_delays_each_page_of_the_validator_list_only() {
    let t = TestNet::start(64).await;
    let full: gw::StateValidatorsListResponse =
        t.gw("/state/validators/list", json!({})).await.ok().parse();
    assert_eq!(
        full.validators.next_cursor, None,
        "one page without the fault"
    );

    const LATENCY_MS: u64 = 200;
    t.fault(json!({"action": "gateway_slow_pages", "latency_ms": LATENCY_MS, "page_size": 3}))
        .await;
    // Other endpoints are not delayed.
    let started = Instant::now();
    t.gw("/status/gateway-status", json!({})).await.ok();
    assert!(started.elapsed() < Duration::from_millis(LATENCY_MS));

    let mut body = json!({});
    let mut items = Vec::new();
    let mut pages = 0;
    let mut first_state = None;
    loop {
        let started = Instant::now();
        let page: gw::StateValidatorsListResponse = t
            .gw("/state/validators/list", body.clone())
            .await
            .ok()
            .parse();
        assert!(started.elapsed() >= Duration::from_millis(LATENCY_MS));
        pages += 1;
        let sv = page.ledger_state.state_version;
        assert_eq!(
            *first_state.get_or_insert(sv),
            sv,
            "pages share one ledger state"
        );
        items.extend(page.validators.items);
        // The ledger moves on between pages; later pages still answer at the first one's state.
        t.step(2).await;
        match page.validators.next_cursor {
            Some(c) => body = json!({"cursor": c, "at_ledger_state": {"state_version": sv}}),
            None => break,
        }
    }
    assert_eq!(pages, 3, "8 validators in pages of 3");
    let addrs =
        |v: &[gw::ValidatorCollectionItem]| v.iter().map(|i| i.address.clone()).collect::<Vec<_>>();
    assert_eq!(addrs(&items), addrs(&full.validators.items));

    let a = t
        .gw("/state/validators/list", json!({"cursor": "garbage"}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(refused(
        &t,
        json!({"action": "gateway_slow_pages", "latency_ms": 1, "page_size": 0})
    )
    .await
    .contains("page_size"));
    t.fault(json!({"action": "gateway_healthy"})).await;
    assert!(t.faults.view().gateway_slow_pages.is_none());
}

/// `gateway_account_pages`: an account's resource lists and each vault's ids come in pages,
/// the fillers first; following every `next_cursor` gives the unpaged listing after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_account_pages_pages_an_account_and_the_page_endpoints_serve_the_rest() {
    let t = TestNet::start(66).await;
    let account = t.info.owner_account.clone();
    async fn details(t: &TestNet, account: &str) -> gw::StateEntityDetailsResponseItem {
        let r: gw::StateEntityDetailsResponse = t
            .gw(
                "/state/entity/details",
                json!({"addresses": [account], "aggregation_level": "Vault",
                       "opt_ins": {"non_fungible_include_nfids": true}}),
            )
            .await
            .ok()
            .parse();
        r.items.into_iter().next().expect("the account")
    }
    let full = details(&t, &account).await;
    let fungibles = full.fungible_resources.clone().expect("fungibles");
    let non_fungibles = full.non_fungible_resources.clone().expect("non-fungibles");
    assert_eq!(fungibles.next_cursor, None, "one page without the fault");
    assert_eq!(non_fungibles.next_cursor, None);
    let resources_f = |items: &[gw::FungibleResourcesCollectionItem]| -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                gw::FungibleResourcesCollectionItem::Vault {
                    resource_address, ..
                }
                | gw::FungibleResourcesCollectionItem::Global {
                    resource_address, ..
                } => resource_address.clone(),
            })
            .collect()
    };
    let vault_ids = |items: &[gw::NonFungibleResourcesCollectionItem]| -> Vec<(String, String, Vec<String>, Option<String>)> {
        items
            .iter()
            .filter_map(|i| match i {
                gw::NonFungibleResourcesCollectionItem::Vault { resource_address, vaults } => {
                    let v = vaults.items.first()?;
                    Some((
                        resource_address.clone(),
                        v.vault_address.clone(),
                        v.items.clone().unwrap_or_default(),
                        v.next_cursor.clone(),
                    ))
                }
                _ => None,
            })
            .collect()
    };
    let real_f = resources_f(&fungibles.items);
    let real_n = vault_ids(&non_fungibles.items);
    assert!(
        !real_f.is_empty() && !real_n.is_empty(),
        "the owner holds XRD and the badge"
    );

    t.fault(json!({"action": "gateway_account_pages", "page_size": 1, "filler": 2}))
        .await;
    let paged = details(&t, &account).await;
    let sv = t.sim.snapshot().position.state_version;
    // Fungible resources: page by page, the two fillers first.
    let mut f = paged.fungible_resources.clone().expect("fungibles");
    assert_eq!(f.items.len(), 1);
    let mut all_f = resources_f(&f.items);
    while let Some(c) = f.next_cursor.clone() {
        let page: gw::StateEntityFungiblesPageResponse = t
            .gw(
                "/state/entity/page/fungibles/",
                json!({"address": account, "cursor": c, "aggregation_level": "Vault",
                       "at_ledger_state": {"state_version": sv}}),
            )
            .await
            .ok()
            .parse();
        assert_eq!(page.resources.items.len(), 1);
        all_f.extend(resources_f(&page.resources.items));
        f = page.resources;
    }
    assert_eq!(all_f.len(), real_f.len() + 2);
    assert_eq!(all_f[2..], real_f[..]);
    assert_ne!(all_f[0], all_f[1], "two distinct fillers");
    // Non-fungible resources, and the ids in each vault.
    let mut n = paged.non_fungible_resources.clone().expect("non-fungibles");
    let mut all_n = vault_ids(&n.items);
    while let Some(c) = n.next_cursor.clone() {
        let page: gw::StateEntityNonFungiblesPageResponse = t
            .gw(
                "/state/entity/page/non-fungibles/",
                json!({"address": account, "cursor": c, "aggregation_level": "Vault",
                       "opt_ins": {"non_fungible_include_nfids": true}}),
            )
            .await
            .ok()
            .parse();
        all_n.extend(vault_ids(&page.resources.items));
        n = page.resources;
    }
    assert_eq!(all_n.len(), real_n.len() + 2);
    for ((resource, vault, first_ids, mut cursor), (r, v, real_ids, _)) in
        all_n.into_iter().skip(2).zip(real_n)
    {
        assert_eq!((&resource, &vault), (&r, &v));
        assert_eq!(first_ids.len(), 1, "ids in pages of one");
        let mut ids = first_ids;
        while let Some(c) = cursor {
            let page: gw::StateEntityNonFungibleIdsPageResponse = t
                .gw(
                    "/state/entity/page/non-fungible-vault/ids",
                    json!({"address": account, "vault_address": vault, "resource_address": resource, "cursor": c}),
                )
                .await
                .ok()
                .parse();
            ids.extend(page.items);
            cursor = page.next_cursor;
        }
        assert_eq!(ids.len(), real_ids.len() + 2, "two filler ids first");
        assert_eq!(ids[2..], real_ids[..]);
    }
    // A cursor it did not give out, and a page size of 0, are refused.
    let a = t
        .gw(
            "/state/entity/page/fungibles/",
            json!({"address": account, "cursor": "garbage"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(refused(
        &t,
        json!({"action": "gateway_account_pages", "page_size": 0})
    )
    .await
    .contains("page_size"));
    t.fault(json!({"action": "gateway_healthy"})).await;
    assert!(t.faults.view().gateway_account_pages.is_none());
    let again = details(&t, &account).await;
    assert_eq!(again.fungible_resources.and_then(|f| f.next_cursor), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_faults_work_from_a_scenario_file() {
    let t = TestNet::start(65).await;
    let scenario = Scenario::parse(
        r#"
[[event]]
at_round = 2
action = "gateway_lies_tx"

[[event]]
at_round = 2
action = "system_api_down"
node = "backup"

[[event]]
at_round = 3
action = "validators_missing"
count = 3

[[event]]
at_round = 4
action = "gateway_slow_pages"
latency_ms = 50
"#,
    )
    .expect("scenario parses");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    scenario.install(&t.sim, t.faults.clone(), tx);
    t.step(4).await;
    let v = t.faults.view();
    assert!(v.gateway_lies_tx);
    assert_eq!(v.system_api_down, vec!["backup".to_string()]);
    assert_eq!(v.validators_missing.len(), 3);
    assert_eq!(v.gateway_slow_pages.map(|p| p.page_size), Some(10));
    let change = rx.recv().await.expect("a port change for the System API");
    change_ports(&t.net.state.servers, change)
        .await
        .expect("port change");
    let err = t
        .http
        .get(format!("{}/health", t.node("backup").system_api_url))
        .send()
        .await
        .expect_err("refused");
    assert!(err.is_connect(), "{err}");
    let e = Scenario::parse(
        "[[event]]\nat_round = 1\naction = \"validators_missing\"\nfraction = 0.5\n",
    )
    .expect_err("unknown field")
    .to_string();
    assert!(
        e.contains("fraction") && e.contains("validators_missing"),
        "{e}"
    );
}
