//! The other transaction outcomes over HTTP: committed as a failure (fee paid, engine error
//! text), and permanently rejected (epoch window over), as the Gateway and Core APIs report them.

mod common;

use common::*;
use radix_api::gateway as gw;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_failure_carries_the_engine_error() {
    let t = TestNet::start(41).await;
    let tx = build_update_key_with(
        &t.info,
        &t.info.backup_public_key_hex,
        t.epoch(),
        10,
        5,
        false,
    );
    let sub: gw::TransactionSubmitResponse = t.submit(&tx.hex).await.ok().parse();
    assert!(!sub.duplicate);
    let st = t.step_until_decided(&tx.intent_hash, 20).await;
    assert_eq!(
        st.intent_status,
        gw::TransactionIntentStatus::CommittedFailure,
        "{st:?}"
    );
    assert_eq!(st.status, gw::TransactionStatus::CommittedFailure);
    let err = st.error_message.clone().expect("engine error text");
    assert!(!err.is_empty());
    // The key did not change.
    let list: gw::StateValidatorsListResponse =
        t.gw("/state/validators/list", json!({})).await.ok().parse();
    assert_eq!(
        our_item(&list, &t.info.our_validator).ledger_public_key_hex(),
        Some(t.info.primary_public_key_hex.as_str())
    );
    let details: gw::TransactionCommittedDetailsResponse = t
        .gw(
            "/transaction/committed-details",
            json!({"intent_hash": tx.intent_hash}),
        )
        .await
        .ok()
        .parse();
    assert_eq!(
        details.transaction.transaction_status,
        gw::TransactionStatus::CommittedFailure
    );
    assert_eq!(
        details.transaction.error_message.as_deref(),
        Some(err.as_str())
    );
    let fee: f64 = details
        .transaction
        .fee_paid
        .as_deref()
        .unwrap_or("0")
        .parse()
        .expect("fee");
    assert!(fee > 0.0, "a committed failure still pays its fee");
    let core = t.core_status("backup", &tx.intent_hash).await;
    assert_eq!(core.json["intent_status"], "CommittedFailure");
    assert_eq!(core.json["known_payloads"][0]["status"], "CommittedFailure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_window_is_permanently_rejected() {
    let t = TestNet::start(42).await;
    let start = t.epoch();
    let tx = build_update_key(&t.info, &t.info.backup_public_key_hex, start, 1, 6);
    t.step_to_next_epoch().await;
    let a = t.submit(&tx.hex).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap_or("")
            .contains("TransactionEpochNoLongerValid"),
        "{}",
        a.json
    );
    let st: gw::TransactionStatusResponse = t.status(&tx.intent_hash).await;
    assert_eq!(
        st.intent_status,
        gw::TransactionIntentStatus::PermanentlyRejected
    );
    assert_eq!(st.status, gw::TransactionStatus::Rejected);
    assert!(st
        .error_message
        .is_some_and(|m| m.contains("TransactionEpochNoLongerValid")));
    let core = t
        .core(
            "primary",
            "/lts/transaction/status",
            json!({"network": "simulator", "intent_hash": tx.intent_hash}),
        )
        .await
        .ok();
    assert_eq!(core.json["intent_status"], "PermanentRejection");
    let core_submit = t
        .core(
            "primary",
            "/lts/transaction/submit",
            json!({"network": "simulator", "notarized_transaction_hex": tx.hex}),
        )
        .await;
    assert_eq!(core_submit.status, StatusCode::BAD_REQUEST);
    assert_eq!(core_submit.json["details"]["type"], "Rejected");
    assert_eq!(
        core_submit.json["details"]["is_intent_rejection_permanent"],
        true
    );
}
