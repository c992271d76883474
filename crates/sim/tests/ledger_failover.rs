//! An `update_key` failover on the real engine, driven round by round: misses with the
//! primary down, the key change, the key in force at the next epoch, and the
//! mempool's answers for replays, expired windows and failing transactions.

use radix_common::prelude::*;
use radix_sim::ledger::types::{IntentStatus, PreviewRequest, SubmitOutcome};
use radix_sim::ledger::{Sim, SimConfig};
use radix_transactions::builder::{ManifestBuilder, TransactionBuilder};
use radix_transactions::model::TransactionHeaderV1;
use radix_transactions::prelude::*;

struct Net {
    sim: Sim,
    owner: Ed25519PrivateKey,
    _dir: tempfile::TempDir,
}

fn net(seed: u64) -> Net {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("owner.key");
    let mut cfg = SimConfig::new(seed, path.clone());
    cfg.rounds_per_epoch = 12;
    // Ours has a large share so it leads often.
    cfg.validator_stakes_xrd = vec![
        3_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000,
    ];
    let sim = Sim::genesis(cfg).unwrap();
    let hexkey = std::fs::read_to_string(&path).unwrap();
    let owner = Ed25519PrivateKey::from_bytes(&hex::decode(hexkey.trim()).unwrap()).unwrap();
    Net {
        sim,
        owner,
        _dir: dir,
    }
}

fn component(s: &str) -> ComponentAddress {
    let dec = AddressBech32Decoder::new(&NetworkDefinition::simulator());
    ComponentAddress::try_from_bech32(&dec, s).unwrap()
}

/// The failover transaction as the daemon builds it.
fn update_key_tx(
    n: &Net,
    new_key_hex: &str,
    badge_id: NonFungibleLocalId,
    window: (u64, u64),
    nonce: u32,
    fee: Decimal,
) -> Vec<u8> {
    update_key_tx_signed_by(n, &n.owner, new_key_hex, badge_id, window, nonce, fee)
}

/// As [`update_key_tx`], with the notary signature made by `signer` (the header
/// still names the owner key as notary).
fn update_key_tx_signed_by(
    n: &Net,
    signer: &Ed25519PrivateKey,
    new_key_hex: &str,
    badge_id: NonFungibleLocalId,
    window: (u64, u64),
    nonce: u32,
    fee: Decimal,
) -> Vec<u8> {
    let info = n.sim.info();
    let account = component(&info.owner_account);
    let validator = component(&info.our_validator);
    let key = Secp256k1PublicKey::try_from(hex::decode(new_key_hex).unwrap().as_slice()).unwrap();
    let manifest = ManifestBuilder::new()
        .lock_fee(account, fee)
        .create_proof_from_account_of_non_fungibles(account, VALIDATOR_OWNER_BADGE, [badge_id])
        .call_method(validator, "update_key", (key,))
        .build();
    let tx = TransactionBuilder::new()
        .header(TransactionHeaderV1 {
            network_id: 242,
            start_epoch_inclusive: Epoch::of(window.0),
            end_epoch_exclusive: Epoch::of(window.1),
            nonce,
            notary_public_key: n.owner.public_key().into(),
            notary_is_signatory: true,
            tip_percentage: 0,
        })
        .manifest(manifest)
        .notarize(signer)
        .build();
    tx.to_raw().unwrap().to_vec()
}

fn our_badge(n: &Net) -> NonFungibleLocalId {
    let info = n.sim.info();
    NonFungibleLocalId::bytes(component(&info.our_validator).as_node_id().0.to_vec()).unwrap()
}

fn ours_active(n: &Net) -> radix_sim::ledger::types::ActiveInEpoch {
    let s = n.sim.snapshot();
    s.validators
        .iter()
        .find(|v| v.address == s.our_validator)
        .unwrap()
        .active
        .clone()
        .unwrap()
}

fn step_to_next_epoch(n: &Net) -> Vec<radix_sim::ledger::types::RoundRecord> {
    let e = n.sim.snapshot().position.epoch;
    let mut out = vec![];
    while n.sim.snapshot().position.epoch == e {
        out.push(n.sim.step_round().unwrap());
    }
    out
}

/// Asserts a permanent rejection whose reason names `expected`; returns its intent hash.
fn assert_rejected_for_good(outcome: SubmitOutcome, expected: &str) -> Option<String> {
    match outcome {
        SubmitOutcome::Rejected {
            reason,
            permanent: true,
            intent_hash_bech32,
        } => {
            assert!(reason.contains(expected), "{reason}");
            intent_hash_bech32
        }
        other => panic!("expected a permanent rejection for {expected}: {other:?}"),
    }
}

/// Submits, steps rounds until the intent leaves Pending (at most two epochs' worth), and
/// returns its final status.
fn submit_and_decide(n: &Net, raw: &[u8]) -> IntentStatus {
    let SubmitOutcome::Accepted {
        intent_hash_bech32: h,
        ..
    } = n.sim.submit(raw)
    else {
        panic!("submit was not accepted")
    };
    for _ in 0..2 * n.sim.info().rounds_per_epoch {
        match n.sim.intent_status(&h) {
            IntentStatus::Pending { .. } => {
                n.sim.step_round().unwrap();
            }
            decided => return decided,
        }
    }
    panic!("{h} still Pending after two epochs of rounds")
}

#[test]
fn primary_down_misses_then_update_key_moves_validation_to_the_backup() {
    let n = net(11);
    let info = n.sim.info();
    // Start on a fresh epoch so this epoch's counts are ours to reason about.
    step_to_next_epoch(&n);
    let e1 = n.sim.snapshot().position.epoch;
    let tracked_before = n
        .sim
        .snapshot()
        .nodes
        .iter()
        .find(|x| x.name == "primary")
        .unwrap()
        .recent_tracked;
    n.sim.set_node_up("primary", false).unwrap();
    assert!(
        !n.sim
            .snapshot()
            .nodes
            .iter()
            .find(|x| x.name == "primary")
            .unwrap()
            .up
    );

    // Step until our validator has led (and missed) at least once in this epoch.
    let mut missed_rounds = 0;
    while missed_rounds == 0 {
        let r = n.sim.step_round().unwrap();
        assert_eq!(r.epoch, e1, "ours should lead within an epoch at 37% stake");
        if r.leader_address == info.our_validator {
            assert!(!r.made, "primary down, backup not in the set: missed");
            missed_rounds += 1;
        } else {
            assert!(r.made);
        }
    }
    // The engine's current statistic shows it at once...
    let a = ours_active(&n);
    assert_eq!(a.proposals_missed, 1);
    // ...but no emission record for this epoch yet (uptime only after it ends).
    let snap = n.sim.snapshot();
    assert!(!snap.emissions.iter().any(|e| e.epoch == e1));
    let rest = step_to_next_epoch(&n);
    let missed_total = 1 + rest
        .iter()
        .filter(|r| r.leader_address == info.our_validator && !r.made)
        .count() as u64;
    let snap = n.sim.snapshot();
    let em = snap
        .emissions
        .iter()
        .find(|e| e.epoch == e1 && e.validator_address == info.our_validator)
        .expect("emission record after the epoch change");
    assert_eq!(em.proposals_missed, missed_total);
    assert_eq!(em.proposals_made, 0);
    let primary = snap.nodes.iter().find(|x| x.name == "primary").unwrap();
    assert_eq!(
        primary.recent_tracked, tracked_before,
        "a down node observes nothing"
    );

    // Fail over: update_key to the backup's key, signed by the owner.
    let e2 = n.sim.snapshot().position.epoch;
    let raw = update_key_tx(
        &n,
        &info.backup_public_key_hex,
        our_badge(&n),
        (e2, e2 + 10),
        1,
        Decimal::from(10u64),
    );
    let SubmitOutcome::Accepted {
        intent_hash_bech32: intent,
        duplicate: false,
    } = n.sim.submit(&raw)
    else {
        panic!("not accepted")
    };
    assert!(intent.starts_with("txid_sim1"));
    assert!(n.sim.is_valid_intent_hash(&intent));
    assert!(matches!(
        n.sim.intent_status(&intent),
        IntentStatus::Pending { .. }
    ));
    // A second submit while pending is a duplicate.
    assert!(matches!(
        n.sim.submit(&raw),
        SubmitOutcome::Accepted {
            duplicate: true,
            ..
        }
    ));
    // Commits at the next made round.
    loop {
        let r = n.sim.step_round().unwrap();
        if r.made {
            break;
        }
        assert!(matches!(
            n.sim.intent_status(&intent),
            IntentStatus::Pending { .. }
        ));
    }
    let IntentStatus::CommittedSuccess(c) = n.sim.intent_status(&intent) else {
        panic!("{:?}", n.sim.intent_status(&intent))
    };
    assert!(c.manifest.contains("update_key"), "{}", c.manifest);
    // Committed in the round just stepped, as the last transaction of the ledger.
    let pos = n.sim.snapshot().position.clone();
    assert_eq!(
        (c.epoch, c.round, c.state_version),
        (pos.epoch, pos.round, pos.state_version)
    );
    assert!(c
        .payload_hash_bech32
        .starts_with("notarizedtransaction_sim1"));
    let fee: f64 = c.fee_paid_xrd.parse().unwrap();
    assert!(fee > 0.05 && fee < 2.0, "fee {fee}");
    // The ledger key changes at once; the key in force only at the next epoch.
    let snap = n.sim.snapshot();
    let v = snap
        .validators
        .iter()
        .find(|v| v.address == info.our_validator)
        .unwrap();
    assert_eq!(v.ledger_key_hex, info.backup_public_key_hex);
    assert_eq!(
        v.active.as_ref().unwrap().key_hex,
        info.primary_public_key_hex
    );
    assert!(
        !snap
            .nodes
            .iter()
            .find(|x| x.name == "backup")
            .unwrap()
            .validating_in_current_epoch
    );
    // The owner paid the fee.
    let acct = n.sim.account(&info.owner_account).unwrap().unwrap();
    let xrd = acct
        .fungibles
        .iter()
        .find(|h| h.resource_address == info.xrd_resource)
        .unwrap();
    assert!(xrd.amount.parse::<f64>().unwrap() < 10_000.0);

    // Replay of a committed intent is rejected for good, status stays committed.
    assert_rejected_for_good(n.sim.submit(&raw), "IntentHashPreviouslyCommitted");
    assert!(matches!(
        n.sim.intent_status(&intent),
        IntentStatus::CommittedSuccess(_)
    ));

    step_to_next_epoch(&n);
    let snap = n.sim.snapshot();
    assert_eq!(ours_active(&n).key_hex, info.backup_public_key_hex);
    let backup = snap.nodes.iter().find(|x| x.name == "backup").unwrap();
    let primary = snap.nodes.iter().find(|x| x.name == "primary").unwrap();
    assert!(backup.validating_in_current_epoch);
    assert!(!primary.validating_in_current_epoch);

    // From now on, with the primary still down, our leader rounds are made.
    let e4 = n.sim.snapshot().position.epoch;
    let t = step_to_next_epoch(&n);
    let ours: Vec<_> = t
        .iter()
        .filter(|r| r.leader_address == info.our_validator)
        .collect();
    assert!(!ours.is_empty());
    assert!(ours.iter().all(|r| r.made));
    let snap = n.sim.snapshot();
    let em = snap
        .emissions
        .iter()
        .find(|e| e.epoch == e4 && e.validator_address == info.our_validator)
        .unwrap();
    assert_eq!(em.proposals_missed, 0);
    assert_eq!(em.proposals_made, ours.len() as u64);
    let backup = snap.nodes.iter().find(|x| x.name == "backup").unwrap();
    assert_eq!(backup.recent_missed, 0);
    assert_eq!(backup.recent_tracked, ours.len() as u64);
}

#[test]
fn mempool_rejects_expired_bad_signature_and_commits_failures_with_the_engine_error() {
    let n = net(5);
    let info = n.sim.info();
    step_to_next_epoch(&n);
    step_to_next_epoch(&n);
    let e = n.sim.snapshot().position.epoch;

    // Window already over.
    let raw = update_key_tx(
        &n,
        &info.backup_public_key_hex,
        our_badge(&n),
        (e - 2, e),
        2,
        Decimal::from(10u64),
    );
    let h = assert_rejected_for_good(n.sim.submit(&raw), "TransactionEpochNoLongerValid")
        .expect("an expired transaction is tracked by its intent hash");
    assert!(matches!(
        n.sim.intent_status(&h),
        IntentStatus::PermanentlyRejected { .. }
    ));
    // Window not yet open: refused for now, not for good.
    let raw = update_key_tx(
        &n,
        &info.backup_public_key_hex,
        our_badge(&n),
        (e + 3, e + 5),
        3,
        Decimal::from(10u64),
    );
    assert!(matches!(
        n.sim.submit(&raw),
        SubmitOutcome::Rejected {
            permanent: false,
            ..
        }
    ));
    // Signed by the wrong key: the official validator refuses it.
    let wrong_key = Ed25519PrivateKey::from_u64(12345).unwrap();
    let raw = update_key_tx_signed_by(
        &n,
        &wrong_key,
        &info.backup_public_key_hex,
        our_badge(&n),
        (e, e + 5),
        6,
        Decimal::from(10u64),
    );
    assert_rejected_for_good(n.sim.submit(&raw), "InvalidNotarySignature");
    // Window longer than the engine allows.
    let raw = update_key_tx(
        &n,
        &info.backup_public_key_hex,
        our_badge(&n),
        (e, e + 10_000),
        7,
        Decimal::from(10u64),
    );
    assert_rejected_for_good(n.sim.submit(&raw), "InvalidEpochRange");
    // Garbage payload.
    assert!(matches!(
        n.sim.submit(b"not a transaction"),
        SubmitOutcome::Rejected {
            permanent: true,
            intent_hash_bech32: None,
            ..
        }
    ));

    // Wrong badge id (another validator's): the engine fails it after the fee lock,
    // so it commits as a failure with the engine's error.
    let other = n
        .sim
        .snapshot()
        .validators
        .iter()
        .find(|v| v.address != info.our_validator)
        .unwrap()
        .address
        .clone();
    let wrong = NonFungibleLocalId::bytes(component(&other).as_node_id().0.to_vec()).unwrap();
    let raw = update_key_tx(
        &n,
        &info.backup_public_key_hex,
        wrong,
        (e, e + 5),
        4,
        Decimal::from(10u64),
    );
    match submit_and_decide(&n, &raw) {
        IntentStatus::CommittedFailure {
            error_message,
            commit,
        } => {
            assert!(error_message.contains("MissingId"), "{error_message}");
            assert!(commit.fee_paid_xrd.parse::<f64>().unwrap() > 0.0);
        }
        other => panic!("{other:?}"),
    }
    // Key unchanged.
    let snap = n.sim.snapshot();
    let v = snap
        .validators
        .iter()
        .find(|v| v.address == info.our_validator)
        .unwrap();
    assert_eq!(v.ledger_key_hex, info.primary_public_key_hex);

    // A fee lock the account cannot pay: rejected by the engine, never committed.
    let raw = update_key_tx(
        &n,
        &info.backup_public_key_hex,
        our_badge(&n),
        (e, e + 5),
        5,
        Decimal::from(1000000u64),
    );
    match submit_and_decide(&n, &raw) {
        IntentStatus::PermanentlyRejected { reason } => {
            assert!(reason.contains("LockFeeInsufficientBalance"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn round_hook_applies_from_that_very_round_and_nodes_out_of_sync_cannot_propose() {
    let n = net(21);
    let start = n.sim.snapshot().position.clone();
    let target = (start.epoch, start.round + 3);
    let names = n.sim.info().nodes;
    n.sim.add_round_hook(Box::new(move |sim, epoch, round| {
        if (epoch, round) == target {
            for name in &names {
                sim.set_node_synced(name, false).unwrap();
            }
        }
    }));
    let t: Vec<_> = (0..5).map(|_| n.sim.step_round().unwrap()).collect();
    assert!(t[0].made && t[1].made);
    assert_eq!((t[2].epoch, t[2].round), target);
    assert!(!t[2].made, "the fault applies to round R itself");
    assert!(!t[3].made && !t[4].made);
    assert!(n.sim.set_node_up("nope", true).is_err());
}

#[test]
fn preview_executes_without_committing() {
    let n = net(9);
    let info = n.sim.info();
    let e = n.sim.snapshot().position.epoch;
    let manifest = format!(
        "CALL_METHOD Address(\"{acct}\") \"lock_fee\" Decimal(\"10\");\n\
         CALL_METHOD Address(\"{acct}\") \"create_proof_of_non_fungibles\" Address(\"{badge}\") Array<NonFungibleLocalId>(NonFungibleLocalId(\"{id}\"));\n\
         CALL_METHOD Address(\"{val}\") \"update_key\" Bytes(\"{key}\");\n",
        acct = info.owner_account,
        badge = info.owner_badge_resource,
        id = info.owner_badge_local_id,
        val = info.our_validator,
        key = info.backup_public_key_hex,
    );
    let req = |notary: bool| PreviewRequest {
        manifest: manifest.clone(),
        blobs_hex: vec![],
        start_epoch_inclusive: e,
        end_epoch_exclusive: e + 2,
        notary_public_key: Some(("EddsaEd25519".into(), hex::encode(n.owner.public_key().0))),
        notary_is_signatory: notary,
        tip_percentage: 0,
        nonce: 1,
        signer_public_keys: vec![],
        use_free_credit: false,
        assume_all_signature_proofs: false,
        skip_epoch_check: false,
    };
    let ok = n.sim.preview(&req(true)).unwrap();
    assert_eq!(ok.status, "Succeeded", "{:?}", ok.error_message);
    assert!(ok.fee_xrd.parse::<f64>().unwrap() > 0.0);
    // Nothing committed: the ledger key is still the primary's.
    let snap = n.sim.snapshot();
    let v = snap
        .validators
        .iter()
        .find(|v| v.address == info.our_validator)
        .unwrap();
    assert_eq!(v.ledger_key_hex, info.primary_public_key_hex);
    // Without the owner's signature the account refuses the fee lock.
    let denied = n.sim.preview(&req(false)).unwrap();
    assert_ne!(denied.status, "Succeeded");
    assert!(denied.error_message.unwrap().contains("Unauthorized"));
    // A manifest that does not compile is a bad request.
    let mut bad = req(true);
    bad.manifest = "CALL_METHOD nonsense".into();
    assert!(n.sim.preview(&bad).is_err());
}
