//! `/transaction/preview`: compile a manifest, build a preview intent, and execute it
//! against the current state without committing, as the real node's preview does.

use radix_common::prelude::*;
use radix_engine::transaction::{ExecutionConfig, TransactionOutcome, TransactionResult};
use radix_transactions::manifest::{compile_manifest, BlobProvider};
use radix_transactions::model::{
    IntentV1, MessageV1, PreviewFlags, PreviewIntentV1, TransactionHeaderV1, TransactionManifestV1,
};
use radix_transactions::validation::TransactionValidator;

use super::engine::Engine;
use super::types::{PreviewOutcome, PreviewRequest};
use super::SimError;

fn public_key(kind: &str, hex_key: &str) -> Result<PublicKey, SimError> {
    let bytes = hex::decode(hex_key)
        .map_err(|_| SimError::BadPreview(format!("public key {hex_key:?} is not hex")))?;
    match kind {
        "EcdsaSecp256k1" => Secp256k1PublicKey::try_from(bytes.as_slice())
            .map(PublicKey::from)
            .map_err(|_| {
                SimError::BadPreview(format!(
                    "{hex_key:?} is not a 33-byte compressed secp256k1 key"
                ))
            }),
        "EddsaEd25519" => Ed25519PublicKey::try_from(bytes.as_slice())
            .map(PublicKey::from)
            .map_err(|_| SimError::BadPreview(format!("{hex_key:?} is not a 32-byte Ed25519 key"))),
        other => Err(SimError::BadPreview(format!(
            "key_type {other:?} is unknown; use EcdsaSecp256k1 or EddsaEd25519"
        ))),
    }
}

pub(crate) fn run(
    engine: &Engine,
    validator: &TransactionValidator,
    req: &PreviewRequest,
    _epoch: u64,
) -> Result<PreviewOutcome, SimError> {
    let blobs = req
        .blobs_hex
        .iter()
        .map(|b| hex::decode(b).map_err(|_| SimError::BadPreview("a blob is not hex".into())))
        .collect::<Result<Vec<_>, _>>()?;
    let manifest: TransactionManifestV1 = compile_manifest(
        &req.manifest,
        &engine.network,
        BlobProvider::new_with_blobs(blobs),
    )
    .map_err(|e| SimError::BadPreview(format!("manifest does not compile: {e:?}")))?;
    let notary = match &req.notary_public_key {
        Some((kind, key)) => public_key(kind, key)?,
        // The real gateway allows previews without a notary; any key will do since
        // the notary signature is not checked in a preview.
        None => PublicKey::Secp256k1(Secp256k1PublicKey([2u8; 33])),
    };
    let signers = req
        .signer_public_keys
        .iter()
        .map(|(k, h)| public_key(k, h))
        .collect::<Result<Vec<_>, _>>()?;
    let (instructions, blobs) = manifest.for_intent();
    let intent = PreviewIntentV1 {
        intent: IntentV1 {
            header: TransactionHeaderV1 {
                network_id: engine.network.id,
                start_epoch_inclusive: Epoch::of(req.start_epoch_inclusive),
                end_epoch_exclusive: Epoch::of(req.end_epoch_exclusive),
                nonce: req.nonce,
                notary_public_key: notary,
                notary_is_signatory: req.notary_is_signatory,
                tip_percentage: req.tip_percentage,
            },
            instructions,
            blobs,
            message: MessageV1::None,
        },
        signer_public_keys: signers,
        flags: PreviewFlags {
            use_free_credit: req.use_free_credit,
            assume_all_signature_proofs: req.assume_all_signature_proofs,
            skip_epoch_check: req.skip_epoch_check,
            disable_auth: false,
        },
    };
    let validated = match validator.validate_preview_intent_v1(intent) {
        Ok(v) => v,
        Err(e) => {
            return Ok(PreviewOutcome {
                status: "Rejected".into(),
                error_message: Some(format!("{e:?}")),
                fee_xrd: "0".into(),
                logs: vec![],
            })
        }
    };
    let receipt = engine.execute_no_commit(
        validated.create_executable(),
        &ExecutionConfig::for_preview(engine.network.clone()),
    );
    let fee_xrd = receipt.fee_summary.total_cost().to_string();
    Ok(match &receipt.result {
        TransactionResult::Commit(c) => PreviewOutcome {
            status: match &c.outcome {
                TransactionOutcome::Success(_) => "Succeeded".into(),
                TransactionOutcome::Failure(_) => "Failed".into(),
            },
            error_message: match &c.outcome {
                TransactionOutcome::Success(_) => None,
                TransactionOutcome::Failure(e) => Some(format!("{e:?}")),
            },
            fee_xrd,
            logs: c
                .application_logs
                .iter()
                .map(|(l, m)| (format!("{l:?}"), m.clone()))
                .collect(),
        },
        TransactionResult::Reject(r) => PreviewOutcome {
            status: "Rejected".into(),
            error_message: Some(format!("{:?}", r.reason)),
            fee_xrd,
            logs: vec![],
        },
        TransactionResult::Abort(a) => PreviewOutcome {
            status: "Rejected".into(),
            error_message: Some(format!("{:?}", a.reason)),
            fee_xrd,
            logs: vec![],
        },
    })
}
