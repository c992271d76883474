//! The failover itself, end to end over HTTP: an `update_key` transaction submitted through the
//! simulated gateway commits on the real engine; the ledger key changes at once, the key in
//! force at the next epoch; then the backup validates and our leader rounds are made again.

mod common;

use common::*;
use radix_api::gateway as gw;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_key_through_the_gateway_moves_validation_to_the_backup() {
    let t = TestNet::start(11).await;
    t.step(2).await;
    let primary = t.info.primary_public_key_hex.clone();
    let backup = t.info.backup_public_key_hex.clone();
    assert_ne!(primary, backup);
    assert_eq!(
        t.identity_status("primary").await,
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    assert_eq!(
        t.identity_status("backup").await,
        "NOT_VALIDATING_IN_CURRENT_EPOCH"
    );

    // Construction gives the epoch the transaction window starts at.
    let c: gw::TransactionConstructionResponse = t
        .gw("/transaction/construction", json!({}))
        .await
        .ok()
        .parse();
    let epoch = c.ledger_state.epoch;
    let tx = build_update_key(&t.info, &backup, epoch, 10, 7);

    // The preview runs the same manifest on the engine without committing.
    let preview: gw::TransactionPreviewResponse = t
        .gw(
            "/transaction/preview",
            json!({
                "manifest": tx.manifest,
                "start_epoch_inclusive": epoch,
                "end_epoch_exclusive": epoch + 10,
                "notary_public_key": {"key_type": "EddsaEd25519", "key_hex": t.info.owner_public_key_hex},
                "notary_is_signatory": true,
                "tip_percentage": 0,
                "nonce": 8,
                "signer_public_keys": [],
                "flags": {"use_free_credit": false, "assume_all_signature_proofs": false, "skip_epoch_check": false}
            }),
        )
        .await
        .ok()
        .parse();
    assert_eq!(
        preview.receipt_status(),
        Some("Succeeded"),
        "{:?}",
        preview.receipt
    );
    let list: gw::StateValidatorsListResponse =
        t.gw("/state/validators/list", json!({})).await.ok().parse();
    assert_eq!(
        our_item(&list, &t.info.our_validator).ledger_public_key_hex(),
        Some(primary.as_str()),
        "a preview must not change the ledger"
    );

    // Submit: accepted, pending until the next round commits it.
    let sub: gw::TransactionSubmitResponse = t.submit(&tx.hex).await.ok().parse();
    assert!(!sub.duplicate);
    let again: gw::TransactionSubmitResponse = t.submit(&tx.hex).await.ok().parse();
    assert!(
        again.duplicate,
        "a second submit of a pending intent is a duplicate"
    );
    let st: gw::TransactionStatusResponse = t.status(&tx.intent_hash).await;
    assert_eq!(st.intent_status, gw::TransactionIntentStatus::Pending);
    assert_eq!(st.known_payloads.len(), 1, "the pending payload is listed");
    assert_eq!(st.known_payloads[0].status, gw::TransactionStatus::Pending);
    let pending_payload = st.known_payloads[0].payload_hash.clone();
    assert!(pending_payload.starts_with("notarizedtransaction_sim1"));
    let core_st = t.core_status("backup", &tx.intent_hash).await;
    assert_eq!(core_st.json["intent_status"], "InMempool");
    assert_eq!(
        core_st.json["known_payloads"][0]["payload_hash_bech32m"],
        pending_payload.as_str()
    );
    assert_eq!(core_st.json["known_payloads"][0]["status"], "InMempool");

    let st = t.step_until_decided(&tx.intent_hash, 20).await;
    assert_eq!(
        st.intent_status,
        gw::TransactionIntentStatus::CommittedSuccess,
        "{st:?}"
    );
    assert_eq!(st.status, gw::TransactionStatus::CommittedSuccess);
    assert!(st.committed_state_version.is_some());
    assert_eq!(
        st.known_payloads[0].payload_hash, pending_payload,
        "same payload, now committed"
    );
    let commit_epoch = t.epoch();

    // The ledger key changed at once; the key in force has not (unless the epoch just turned).
    let list: gw::StateValidatorsListResponse =
        t.gw("/state/validators/list", json!({})).await.ok().parse();
    let ours = our_item(&list, &t.info.our_validator);
    assert_eq!(ours.ledger_public_key_hex(), Some(backup.as_str()));
    if t.epoch() == commit_epoch {
        assert_eq!(
            ours.active_in_epoch.as_ref().map(|a| a.key.key_hex()),
            Some(primary.as_str())
        );
        assert_eq!(
            t.identity_status("primary").await,
            "VALIDATING_IN_CURRENT_EPOCH"
        );
    }
    let core_v = t
        .core(
            "backup",
            "/state/validator",
            json!({"network": "simulator", "validator_address": t.info.our_validator}),
        )
        .await
        .ok();
    assert_eq!(
        core_v.json["state"]["value"]["public_key"]["key_hex"],
        backup.as_str()
    );

    // Committed details and the Core API's view of the same intent.
    let details: gw::TransactionCommittedDetailsResponse = t
        .gw(
            "/transaction/committed-details",
            json!({"intent_hash": tx.intent_hash, "opt_ins": {"raw_hex": true, "manifest_instructions": true}}),
        )
        .await
        .ok()
        .parse();
    assert_eq!(
        details.transaction.transaction_status,
        gw::TransactionStatus::CommittedSuccess
    );
    assert_eq!(
        details.transaction.raw_hex.as_deref(),
        Some(tx.hex.as_str())
    );
    assert!(details
        .transaction
        .manifest_instructions
        .as_deref()
        .is_some_and(|m| m.contains("update_key")));
    let fee: f64 = details
        .transaction
        .fee_paid
        .as_deref()
        .unwrap_or("0")
        .parse()
        .expect("decimal fee");
    assert!(fee > 0.0 && fee < 10.0, "fee {fee} XRD");
    let core_st = t
        .core(
            "primary",
            "/lts/transaction/status",
            json!({"network": "simulator", "intent_hash": tx.intent_hash}),
        )
        .await
        .ok();
    assert_eq!(core_st.json["intent_status"], "CommittedSuccess");

    // A replay of the committed intent is rejected, as on the real network.
    let replay = t.submit(&tx.hex).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(replay.json["details"]["type"], "InvalidTransactionError");
    assert!(replay.json["message"]
        .as_str()
        .unwrap_or("")
        .contains("IntentHashPreviouslyCommitted"));
    let core_replay = t
        .core(
            "backup",
            "/lts/transaction/submit",
            json!({"network": "simulator", "notarized_transaction_hex": tx.hex}),
        )
        .await;
    assert_eq!(core_replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        core_replay.json["details"]["type"],
        "IntentAlreadyCommitted"
    );
    assert_eq!(
        core_replay.json["details"]["committed_as"]["is_same_transaction"],
        true
    );

    // Next epoch: the backup's key is in force.
    if t.epoch() == commit_epoch {
        t.step_to_next_epoch().await;
    }
    let list: gw::StateValidatorsListResponse =
        t.gw("/state/validators/list", json!({})).await.ok().parse();
    let ours = our_item(&list, &t.info.our_validator);
    assert_eq!(
        ours.active_in_epoch.as_ref().map(|a| a.key.key_hex()),
        Some(backup.as_str())
    );
    assert_eq!(
        t.identity_status("backup").await,
        "VALIDATING_IN_CURRENT_EPOCH"
    );
    assert_eq!(
        t.identity_status("primary").await,
        "NOT_VALIDATING_IN_CURRENT_EPOCH"
    );
    let cm = t
        .core("primary", "/state/consensus-manager", network_body())
        .await
        .ok();
    let set = cm.json["current_validator_set"]["value"]["validator_set"]
        .as_array()
        .expect("set")
        .clone();
    assert!(set
        .iter()
        .any(|v| v["address"] == t.info.our_validator.as_str()
            && v["key"]["key_hex"] == backup.as_str()));

    // Our leader rounds are made again, now by the backup.
    let mut ours_made = 0;
    for _ in 0..300 {
        let r = t.step(1).await.remove(0);
        if r.leader_address == t.info.our_validator {
            assert!(
                r.made,
                "our leader round {r:?} was missed after the key change"
            );
            ours_made += 1;
            if ours_made == 2 {
                break;
            }
        }
    }
    assert_eq!(
        ours_made, 2,
        "our validator led at least twice in 300 rounds"
    );
    let health = t.system("backup", "/health").await.ok();
    assert_eq!(health.json["status"], "UP");
    assert_eq!(
        health.json["recent_self_proposal_miss_statistic"]["missed_count"],
        0
    );
    assert!(
        health.json["recent_self_proposal_miss_statistic"]["recent_proposals_tracked_count"]
            .as_u64()
            >= Some(2)
    );
}
