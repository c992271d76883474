//! The failover transaction: `update_key` on the validator, signed offline.
//!
//! Manifest (built in): lock the fee from the badge account, prove the validator's owner badge
//! (local id = the validator's node id as bytes), call `update_key` with the new consensus key.
//! Operators whose badge sits in an access-manager component give a manifest template instead.
//!
//! The header is notarized by the key-file key with `notary_is_signatory = true`, so that one
//! Ed25519 signature both notarizes and satisfies the account's owner rule. Ed25519 signatures
//! are deterministic, and the nonce is derived from the inputs (see `derive_nonce`), so two
//! watchers on different hosts build byte-identical transactions with one intent hash: the
//! ledger commits it once and rejects the second as `IntentHashPreviouslyCommitted`.
//!
//! `build_update_key` is pure (no I/O, no clock) and cheap, so the daemon can call it whenever
//! it rebuilds. Every transaction is checked by the official validator before it is returned.

use std::path::PathBuf;

use radix_common::crypto::{hash, Ed25519PrivateKey, PublicKey, Secp256k1PublicKey};
use radix_common::network::NetworkDefinition;
use radix_common::prelude::{NonFungibleLocalId, VALIDATOR_OWNER_BADGE};
use radix_common::types::{ComponentAddress, Epoch};
use radix_transactions::builder::{ManifestBuilder, TransactionBuilder};
use radix_transactions::manifest::{
    compile_error_diagnostics, compile_manifest_v1, decompile, BlobProvider, CompileError,
    CompileErrorDiagnosticsStyle,
};
use radix_transactions::model::{
    HasTransactionIntentHash, NotarizedTransactionV1, TransactionHashBech32Encoder,
    TransactionHeaderV1, TransactionIntentHash, TransactionManifestV1, TransactionPayload,
};
use radix_transactions::validation::TransactionValidator;

use crate::config::Config;
use crate::keys::encode_address;
use crate::manifest_guard::{check_manifest, ManifestRefusal, ManifestRules};
pub use crate::manifest_template::{ManifestTemplate, TemplateError, TemplateValues, PLACEHOLDERS};

/// Default validity window in epochs (~10 minutes on mainnet at 5 min/epoch). Short on purpose:
/// a failover transaction that could not commit must not linger in mempools and commit much
/// later (e.g. after an operator failed back by hand); the daemon rebuilds a fresh window anyway.
pub const DEFAULT_VALID_EPOCHS: u64 = 2;
/// Largest window we build. The ledger allows up to 8640 epochs (30 days); anything near that
/// defeats the point of a short window, so cap it at ~1 day of mainnet epochs.
pub const MAX_VALID_EPOCHS: u64 = 288;
// A trusted reading's epoch leaves this much room (observe::EPOCH_HEADROOM): a window, the
// commit's confirmation epochs and the next epoch can be added to it without overflow.
const _: () = assert!(MAX_VALID_EPOCHS + 2 < crate::observe::EPOCH_HEADROOM);
/// Domain tag for the derived nonce, versioned so a future change cannot collide silently.
pub const NONCE_DOMAIN: &[u8] = b"radix-failover/nonce/v1";

#[derive(Debug, thiserror::Error)]
pub enum TxError {
    #[error("manifest template {path}: {error}")]
    Template { path: PathBuf, error: TemplateError },
    #[error("the built-in manifest: {0}")]
    Refused(ManifestRefusal),
    #[error("--valid-epochs {0} is out of range; fix: use 1 to {MAX_VALID_EPOCHS}")]
    ValidEpochs(u64),
    #[error("start epoch {0} is too large")]
    EpochOverflow(u64),
    #[error("the transaction failed offline validation: {0}")]
    Invalid(String),
    #[error("cannot encode the transaction: {0}")]
    Encode(String),
    #[error("the bytes are not a V1 notarized transaction: {0}")]
    Decode(String),
}

/// The validator owner badge's local id: the validator's node id as a bytes id (this is how
/// the engine mints it when the validator is created).
pub fn owner_badge_id(validator: &ComponentAddress) -> Result<NonFungibleLocalId, TxError> {
    // A node id is 30 bytes, within the 1..=64 bytes a bytes id allows; fail closed anyway.
    NonFungibleLocalId::bytes(validator.as_node_id().0.to_vec())
        .map_err(|e| TxError::Encode(format!("owner badge id: {e:?}")))
}

/// Deterministic nonce: the first 4 bytes (little endian) of
/// `blake2b_256("radix-failover/nonce/v1" || network id || validator node id || new key || start epoch LE)`.
/// Same inputs on any host give the same nonce, hence the same intent hash; a different epoch
/// window or key gives a different one.
pub fn derive_nonce(
    network_id: u8,
    validator: &ComponentAddress,
    new_key: &Secp256k1PublicKey,
    start_epoch: u64,
) -> u32 {
    let mut data = Vec::with_capacity(NONCE_DOMAIN.len() + 1 + 30 + 33 + 8);
    data.extend_from_slice(NONCE_DOMAIN);
    data.push(network_id);
    data.extend_from_slice(validator.as_node_id().as_bytes());
    data.extend_from_slice(&new_key.0);
    data.extend_from_slice(&start_epoch.to_le_bytes());
    let h = hash(&data);
    let b = h.0;
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct UpdateKeyRequest {
    pub new_key: Secp256k1PublicKey,
    pub start_epoch: u64,
    pub valid_epochs: u64,
    /// `None`: derived with `derive_nonce`.
    pub nonce: Option<u32>,
}

/// A built, notarized and offline-validated failover transaction.
#[derive(Debug, Clone)]
pub struct BuiltTransaction {
    pub network: NetworkDefinition,
    /// Canonical manifest text, as the official decompiler prints it.
    pub manifest: String,
    pub intent_hash: TransactionIntentHash,
    /// `txid_…` bech32 of the intent hash.
    pub intent_hash_bech32: String,
    /// Compiled notarized transaction (what `/transaction/submit` takes, hex-encoded).
    pub notarized_bytes: Vec<u8>,
    pub header: TransactionHeaderV1,
    pub account: ComponentAddress,
    pub account_address: String,
    pub validator_address: String,
    pub new_key: Secp256k1PublicKey,
}

impl BuiltTransaction {
    pub fn notarized_hex(&self) -> String {
        hex::encode(&self.notarized_bytes)
    }
    pub fn start_epoch_inclusive(&self) -> u64 {
        self.header.start_epoch_inclusive.number()
    }
    pub fn end_epoch_exclusive(&self) -> u64 {
        self.header.end_epoch_exclusive.number()
    }
    pub fn nonce(&self) -> u32 {
        self.header.nonce
    }
    pub fn new_key_hex(&self) -> String {
        hex::encode(self.new_key.0)
    }

    /// The JSON object `tx update-key --json` prints.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "network": self.network.logical_name,
            "network_id": self.network.id,
            "manifest": self.manifest,
            "intent_hash": self.intent_hash_bech32,
            "intent_hash_hex": hex::encode(self.intent_hash.0 .0),
            "notarized_transaction_hex": self.notarized_hex(),
            "start_epoch_inclusive": self.start_epoch_inclusive(),
            "end_epoch_exclusive": self.end_epoch_exclusive(),
            "nonce": self.nonce(),
            "account_address": self.account_address,
            "validator_address": self.validator_address,
            "new_key": self.new_key_hex(),
            "notary_public_key": crate::keys::public_key_hex(&self.header.notary_public_key),
            "notary_is_signatory": self.header.notary_is_signatory,
            "tip_percentage": self.header.tip_percentage,
        })
    }
}

/// The manifest for `config` and `new_key`, from the template if there is one.
pub fn build_manifest(
    config: &Config,
    account: ComponentAddress,
    new_key: &Secp256k1PublicKey,
) -> Result<TransactionManifestV1, TxError> {
    let badge_id = owner_badge_id(&config.validator)?;
    let rules = ManifestRules {
        network: &config.network,
        account,
        validator: config.validator,
        new_key,
        allowed_calls: &config.manifest_allowed_calls,
    };
    let manifest = match (&config.manifest_template, config.badge_holder) {
        // The badge in an access controller whose primary role is this key: its proof.
        (None, Some(ac)) => ManifestBuilder::new_v1()
            .lock_fee(account, config.fee_lock_xrd)
            .call_method(ac, "create_proof", ())
            .call_method(config.validator, "update_key", (*new_key,))
            .build(),
        (None, None) => ManifestBuilder::new_v1()
            .lock_fee(account, config.fee_lock_xrd)
            .create_proof_from_account_of_non_fungibles(account, VALIDATOR_OWNER_BADGE, [badge_id])
            .call_method(config.validator, "update_key", (*new_key,))
            .build(),
        (Some(t), _) => {
            let values = TemplateValues {
                account: encode_address(account.as_node_id().as_bytes(), &config.network),
                validator: config.validator_bech32(),
                new_key: hex::encode(new_key.0),
                fee: config.fee_lock_xrd.to_string(),
                owner_badge: encode_address(
                    VALIDATOR_OWNER_BADGE.as_node_id().as_bytes(),
                    &config.network,
                ),
                owner_badge_id: badge_id.to_string(),
            };
            compile_template(t, &values, &config.network).map_err(|error| TxError::Template {
                path: t.path.clone(),
                error,
            })?
        }
    };
    // Before anything signs it: the manifest may only do what a failover needs. The built-in
    // one is checked too, so the rules and the manifest the daemon ships cannot drift apart.
    check_manifest(&manifest.instructions, &rules).map_err(|e| {
        match &config.manifest_template {
            Some(t) => TxError::Template {
                path: t.path.clone(),
                error: TemplateError::Refused(e),
            },
            None => TxError::Refused(e),
        }
    })?;
    Ok(manifest)
}

/// Renders and compiles a template with the official compiler, naming the line of any error.
pub fn compile_template(
    t: &ManifestTemplate,
    values: &TemplateValues,
    network: &NetworkDefinition,
) -> Result<TransactionManifestV1, TemplateError> {
    let text = t.render(values);
    compile_manifest_v1(&text, network, BlobProvider::new()).map_err(|e| {
        let (line, kind) = match &e {
            CompileError::LexerError(l) => (l.span.start.line_idx, format!("{:?}", l.error_kind)),
            CompileError::ParserError(p) => (p.span.start.line_idx, format!("{:?}", p.error_kind)),
            CompileError::GeneratorError(g) => {
                (g.span.start.line_idx, format!("{:?}", g.error_kind))
            }
        };
        TemplateError::Compile {
            line: line + 1,
            kind,
            diagnostics: compile_error_diagnostics(
                &text,
                e,
                CompileErrorDiagnosticsStyle::PlainText,
            ),
        }
    })
}

/// Builds, notarizes and validates the failover transaction. Pure: no I/O, no clock.
pub fn build_update_key(
    config: &Config,
    notary: &Ed25519PrivateKey,
    req: &UpdateKeyRequest,
) -> Result<BuiltTransaction, TxError> {
    if req.valid_epochs == 0 || req.valid_epochs > MAX_VALID_EPOCHS {
        return Err(TxError::ValidEpochs(req.valid_epochs));
    }
    let end_epoch = req
        .start_epoch
        .checked_add(req.valid_epochs)
        .ok_or(TxError::EpochOverflow(req.start_epoch))?;

    let notary_public_key = PublicKey::Ed25519(notary.public_key());
    let account = ComponentAddress::preallocated_account_from_public_key(&notary_public_key);
    let manifest = build_manifest(config, account, &req.new_key)?;

    let nonce = req.nonce.unwrap_or_else(|| {
        derive_nonce(
            config.network.id,
            &config.validator,
            &req.new_key,
            req.start_epoch,
        )
    });
    let header = TransactionHeaderV1 {
        network_id: config.network.id,
        start_epoch_inclusive: Epoch::of(req.start_epoch),
        end_epoch_exclusive: Epoch::of(end_epoch),
        nonce,
        notary_public_key,
        notary_is_signatory: true,
        tip_percentage: 0,
    };
    let notarized: NotarizedTransactionV1 = TransactionBuilder::new()
        .header(header.clone())
        .manifest(manifest)
        .notarize(notary)
        .build();

    let validator = TransactionValidator::new_with_latest_config(&config.network);
    let validated = notarized
        .prepare_and_validate(&validator)
        .map_err(|e| TxError::Invalid(format!("{e:?}")))?;
    let intent_hash = validated.transaction_intent_hash();

    let raw = notarized
        .to_raw()
        .map_err(|e| TxError::Encode(format!("{e:?}")))?;
    let manifest_text = decompile(
        &TransactionManifestV1::from_intent(&notarized.signed_intent.intent),
        &config.network,
    )
    .map_err(|e| TxError::Encode(format!("decompile: {e:?}")))?;
    let intent_hash_bech32 = TransactionHashBech32Encoder::new(&config.network)
        .encode(&intent_hash)
        .map_err(|e| TxError::Encode(format!("intent hash: {e:?}")))?;

    Ok(BuiltTransaction {
        network: config.network.clone(),
        manifest: manifest_text,
        intent_hash,
        intent_hash_bech32,
        notarized_bytes: raw.to_vec(),
        header,
        account,
        account_address: encode_address(account.as_node_id().as_bytes(), &config.network),
        validator_address: config.validator_bech32(),
        new_key: req.new_key,
    })
}

/// A decoded and validated notarized transaction (for reviewing bytes before they are sent).
#[derive(Debug, Clone)]
pub struct InspectedTransaction {
    pub header: TransactionHeaderV1,
    pub manifest: String,
    pub intent_hash: TransactionIntentHash,
    pub intent_hash_bech32: String,
}

/// Decodes `bytes`, validates them with the official validator for `network`, and returns
/// the header, canonical manifest and intent hash. Invalid bytes or signatures are errors.
pub fn inspect(bytes: &[u8], network: &NetworkDefinition) -> Result<InspectedTransaction, TxError> {
    let tx = decode_notarized(bytes)?;
    let validator = TransactionValidator::new_with_latest_config(network);
    let intent_hash = tx
        .prepare_and_validate(&validator)
        .map_err(|e| TxError::Invalid(format!("{e:?}")))?
        .transaction_intent_hash();
    let manifest = decompile(
        &TransactionManifestV1::from_intent(&tx.signed_intent.intent),
        network,
    )
    .map_err(|e| TxError::Encode(format!("decompile: {e:?}")))?;
    let intent_hash_bech32 = TransactionHashBech32Encoder::new(network)
        .encode(&intent_hash)
        .map_err(|e| TxError::Encode(format!("intent hash: {e:?}")))?;
    Ok(InspectedTransaction {
        header: tx.signed_intent.intent.header,
        manifest,
        intent_hash,
        intent_hash_bech32,
    })
}

/// Decodes compiled notarized-transaction bytes (e.g. to review what will be sent).
pub fn decode_notarized(bytes: &[u8]) -> Result<NotarizedTransactionV1, TxError> {
    let raw = radix_transactions::model::RawNotarizedTransaction::from_slice(bytes);
    NotarizedTransactionV1::from_raw(&raw).map_err(|e| TxError::Decode(format!("{e:?}")))
}

/// What a stored intent is checked against when the daemon resumes it: the current config.
pub struct ResumeExpectation<'a> {
    pub network: &'a NetworkDefinition,
    pub validator_address: &'a str,
    /// The key the failover rotates to now (66 hex).
    pub target_key_hex: &'a str,
    pub notary: &'a radix_common::crypto::Ed25519PublicKey,
}

/// Decodes a stored notarized transaction and names everything in it that no longer matches
/// the config: network, validator, target key, notary. Empty when it matches. A transaction
/// that cannot be decoded is one difference (it is never sent blind).
pub fn resumed_intent_mismatches(notarized_hex: &str, want: &ResumeExpectation<'_>) -> Vec<String> {
    let bytes = match hex::decode(notarized_hex.trim()) {
        Ok(b) => b,
        Err(e) => return vec![format!("the stored transaction is not hex ({e})")],
    };
    let tx = match decode_notarized(&bytes) {
        Ok(t) => t,
        Err(e) => return vec![format!("the stored transaction cannot be decoded ({e})")],
    };
    let header = &tx.signed_intent.intent.header;
    let mut diffs = Vec::new();
    if header.network_id != want.network.id {
        diffs.push(format!(
            "network: the stored transaction is for network id {}, the config for {} (id {})",
            header.network_id, want.network.logical_name, want.network.id
        ));
        return diffs;
    }
    let notary = PublicKey::Ed25519(*want.notary);
    if header.notary_public_key != notary {
        diffs.push(format!(
            "notary: the stored transaction is notarized by {}, the config's key file is {}",
            crate::keys::public_key_hex(&header.notary_public_key),
            crate::keys::public_key_hex(&notary)
        ));
    }
    let manifest = match decompile(
        &TransactionManifestV1::from_intent(&tx.signed_intent.intent),
        want.network,
    ) {
        Ok(m) => m.to_ascii_lowercase(),
        Err(e) => {
            diffs.push(format!("the stored manifest cannot be read ({e:?})"));
            return diffs;
        }
    };
    if !manifest.contains(&want.validator_address.to_ascii_lowercase()) {
        diffs.push(format!(
            "validator: the stored transaction does not call {}",
            want.validator_address
        ));
    }
    if !manifest.contains(&want.target_key_hex.to_ascii_lowercase()) {
        diffs.push(format!(
            "target key: the stored transaction does not rotate to {} (backup_public_key)",
            want.target_key_hex
        ));
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_secp256k1_public_key;
    use radix_common::types::EntityType;
    use radix_transactions::model::InstructionV1;

    const BACKUP: &str = "029932e6683332a3c0d8cd2862c129e0c2501f45c17c88eecac27cc22baf7f80ed";
    const OTHER: &str = "02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004";

    fn config(network: NetworkDefinition, template: Option<&str>) -> Config {
        let mut node_id = [9u8; 30];
        node_id[0] = EntityType::GlobalValidator as u8;
        let mut c = Config::transaction_only(
            network,
            ComponentAddress::try_from(node_id).unwrap(),
            parse_secp256k1_public_key(BACKUP).unwrap(),
            PathBuf::from("/nonexistent"),
        );
        c.manifest_template = template
            .map(|t| ManifestTemplate::parse(PathBuf::from("t.rtm"), t.to_string()).unwrap());
        c
    }

    fn notary() -> Ed25519PrivateKey {
        Ed25519PrivateKey::from_u64(42).unwrap()
    }

    fn req(epoch: u64) -> UpdateKeyRequest {
        UpdateKeyRequest {
            new_key: parse_secp256k1_public_key(BACKUP).unwrap(),
            start_epoch: epoch,
            valid_epochs: DEFAULT_VALID_EPOCHS,
            nonce: None,
        }
    }

    #[test]
    fn builds_validates_and_decodes_back() {
        let c = config(NetworkDefinition::mainnet(), None);
        let b = build_update_key(&c, &notary(), &req(1000)).unwrap();
        assert!(
            b.intent_hash_bech32.starts_with("txid_rdx1"),
            "{}",
            b.intent_hash_bech32
        );
        assert!(b.account_address.starts_with("account_rdx1"));
        assert_eq!(b.start_epoch_inclusive(), 1000);
        assert_eq!(b.end_epoch_exclusive(), 1002);
        assert_eq!(
            b.nonce(),
            derive_nonce(1, &c.validator, &c.backup_public_key, 1000)
        );

        let decoded = decode_notarized(&b.notarized_bytes).unwrap();
        let h = &decoded.signed_intent.intent.header;
        assert_eq!(h, &b.header);
        assert_eq!(h.network_id, 1);
        assert!(h.notary_is_signatory);
        assert_eq!(h.tip_percentage, 0);
        assert_eq!(
            h.notary_public_key,
            PublicKey::Ed25519(notary().public_key())
        );
        assert!(decoded
            .signed_intent
            .intent_signatures
            .signatures
            .is_empty());

        let expected = build_manifest(&c, b.account, &c.backup_public_key).unwrap();
        let instructions = &decoded.signed_intent.intent.instructions.0;
        assert_eq!(instructions, &expected.instructions);
        assert_eq!(instructions.len(), 3);
        match &instructions[2] {
            InstructionV1::CallMethod(cm) => assert_eq!(cm.method_name, "update_key"),
            other => panic!("unexpected {other:?}"),
        }
        // Decoded bytes pass the official validator again and give the same intent hash.
        let v = TransactionValidator::new_with_latest_config(&NetworkDefinition::mainnet());
        let again = decoded.prepare_and_validate(&v).unwrap();
        assert_eq!(again.transaction_intent_hash(), b.intent_hash);
        // And the wrong network's validator rejects it.
        let s = TransactionValidator::new_with_latest_config(&NetworkDefinition::stokenet());
        assert!(decoded.prepare_and_validate(&s).is_err());
    }

    #[test]
    fn a_resumed_intent_is_checked_against_the_config() {
        let c = config(NetworkDefinition::mainnet(), None);
        let b = build_update_key(&c, &notary(), &req(1000)).unwrap();
        let hex = b.notarized_hex();
        let validator = c.validator_bech32();
        let pk = notary().public_key();
        let want = ResumeExpectation {
            network: &c.network,
            validator_address: &validator,
            target_key_hex: BACKUP,
            notary: &pk,
        };
        assert!(resumed_intent_mismatches(&hex, &want).is_empty());
        // The backup was rebuilt with a new key and the config edited.
        let diffs = resumed_intent_mismatches(
            &hex,
            &ResumeExpectation {
                target_key_hex: OTHER,
                ..want
            },
        );
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert!(
            diffs[0].contains("target key") && diffs[0].contains(OTHER),
            "{diffs:?}"
        );
        // Another key file (notary), another network, another validator.
        let other_pk = Ed25519PrivateKey::from_u64(7).unwrap().public_key();
        let diffs = resumed_intent_mismatches(
            &hex,
            &ResumeExpectation {
                notary: &other_pk,
                ..want
            },
        );
        assert!(diffs.iter().any(|d| d.starts_with("notary")), "{diffs:?}");
        let stokenet = NetworkDefinition::stokenet();
        let diffs = resumed_intent_mismatches(
            &hex,
            &ResumeExpectation {
                network: &stokenet,
                ..want
            },
        );
        assert!(diffs.iter().any(|d| d.starts_with("network")), "{diffs:?}");
        let diffs = resumed_intent_mismatches(
            &hex,
            &ResumeExpectation {
                validator_address:
                    "validator_rdx1sd5368vqdmjk0y2w7ymdts02cz9c52858gpyny56xdvzuheepdeyy0",
                ..want
            },
        );
        assert!(
            diffs.iter().any(|d| d.starts_with("validator")),
            "{diffs:?}"
        );
        // Garbage is never resumed.
        assert!(!resumed_intent_mismatches("zz", &want).is_empty());
        assert!(!resumed_intent_mismatches("00ff", &want).is_empty());
    }

    #[test]
    fn manifest_text_is_canonical_and_complete() {
        let c = config(NetworkDefinition::mainnet(), None);
        let b = build_update_key(&c, &notary(), &req(7)).unwrap();
        let m = &b.manifest;
        assert!(
            m.contains("\"lock_fee\"") && m.contains("Decimal(\"10\")"),
            "{m}"
        );
        assert!(m.contains("\"create_proof_of_non_fungibles\""), "{m}");
        assert!(
            m.contains(&format!(
                "NonFungibleLocalId(\"{}\")",
                owner_badge_id(&c.validator).unwrap()
            )),
            "{m}"
        );
        assert!(
            m.contains(&b.validator_address) && m.contains(&b.account_address),
            "{m}"
        );
        assert!(
            m.contains("\"update_key\"") && m.contains(&format!("Bytes(\"{BACKUP}\")")),
            "{m}"
        );
        assert!(
            m.contains("resource_rdx1nfxxxxxxxxxxvdrwnrxxxxxxxxx004365253834xxxxxxxxxvdrwnr"),
            "{m}"
        );
        // Canonical text compiles back to the same instructions.
        let recompiled = compile_manifest_v1(m, &c.network, BlobProvider::new()).unwrap();
        let expected = build_manifest(&c, b.account, &c.backup_public_key).unwrap();
        assert_eq!(recompiled.instructions, expected.instructions);
    }

    #[test]
    fn deterministic_across_builds_and_distinct_per_input() {
        let c = config(NetworkDefinition::simulator(), None);
        let a = build_update_key(&c, &notary(), &req(50)).unwrap();
        let b = build_update_key(&c, &notary(), &req(50)).unwrap();
        assert_eq!(a.notarized_bytes, b.notarized_bytes);
        assert_eq!(a.intent_hash, b.intent_hash);
        let later = build_update_key(&c, &notary(), &req(51)).unwrap();
        assert_ne!(later.nonce(), a.nonce());
        assert_ne!(later.intent_hash, a.intent_hash);
        let mut other = req(50);
        other.new_key = parse_secp256k1_public_key(OTHER).unwrap();
        let o = build_update_key(&c, &notary(), &other).unwrap();
        assert_ne!(o.nonce(), a.nonce());
        assert!(o.manifest.contains(OTHER));
        let mut fixed = req(50);
        fixed.nonce = Some(12345);
        assert_eq!(
            build_update_key(&c, &notary(), &fixed).unwrap().nonce(),
            12345
        );
    }

    #[test]
    fn window_bounds() {
        let c = config(NetworkDefinition::simulator(), None);
        for bad in [0, MAX_VALID_EPOCHS + 1] {
            let mut r = req(10);
            r.valid_epochs = bad;
            assert!(matches!(
                build_update_key(&c, &notary(), &r),
                Err(TxError::ValidEpochs(_))
            ));
        }
        let mut r = req(u64::MAX);
        r.valid_epochs = 1;
        assert!(build_update_key(&c, &notary(), &r).is_err());
    }

    const TEMPLATE: &str = r#"# same as the built-in manifest
CALL_METHOD
    Address("{account}")
    "lock_fee"
    Decimal("{fee}")
;
CALL_METHOD
    Address("{account}")
    "create_proof_of_non_fungibles"
    Address("{owner_badge}")
    Array<NonFungibleLocalId>(NonFungibleLocalId("{owner_badge_id}"))
;
CALL_METHOD
    Address("{validator}")
    "update_key"
    Bytes("{new_key}")
;
"#;

    #[test]
    fn template_equal_to_builtin_gives_same_transaction() {
        let builtin = config(NetworkDefinition::mainnet(), None);
        let templ = config(NetworkDefinition::mainnet(), Some(TEMPLATE));
        let a = build_update_key(&builtin, &notary(), &req(99)).unwrap();
        let b = build_update_key(&templ, &notary(), &req(99)).unwrap();
        assert_eq!(a.intent_hash, b.intent_hash);
        assert_eq!(a.notarized_bytes, b.notarized_bytes);
    }

    #[test]
    fn a_template_that_moves_resources_is_never_signed() {
        // Same as the built-in one, plus a withdrawal of the account's XRD to someone else.
        let thief = ComponentAddress::preallocated_account_from_public_key(&PublicKey::Ed25519(
            Ed25519PrivateKey::from_u64(7).unwrap().public_key(),
        ));
        let thief = encode_address(thief.as_node_id().as_bytes(), &NetworkDefinition::mainnet());
        let stealing = TEMPLATE.to_string()
            + &format!(
                r#"CALL_METHOD Address("{{account}}") "withdraw"
    Address("resource_rdx1tknxxxxxxxxxradxrdxxxxxxxxx009923554798xxxxxxxxxradxrd") Decimal("1000");
CALL_METHOD Address("{thief}") "try_deposit_batch_or_abort" Expression("ENTIRE_WORKTOP") None;
"#
            );
        let c = config(NetworkDefinition::mainnet(), Some(&stealing));
        let e = build_update_key(&c, &notary(), &req(1)).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                e,
                TxError::Template {
                    error: TemplateError::Refused(ManifestRefusal::Instruction { index: 4, .. }),
                    ..
                }
            ),
            "{msg}"
        );
        assert!(
            msg.contains("t.rtm") && msg.contains("instruction 4 (CALL_METHOD \"withdraw\""),
            "{msg}"
        );
        // The built-in manifest passes the same check.
        let builtin = config(NetworkDefinition::mainnet(), None);
        build_update_key(&builtin, &notary(), &req(1)).unwrap();
    }

    #[test]
    fn template_errors_name_the_line() {
        let bad = TEMPLATE.replace("Decimal(\"{fee}\")", "Decimal(\"{fees}\")");
        let e = ManifestTemplate::parse(PathBuf::from("t.rtm"), bad).unwrap_err();
        assert!(
            matches!(e, TemplateError::UnknownPlaceholder { line: 5, ref name } if name == "fees"),
            "{e}"
        );
        assert!(e.to_string().contains("line 5") && e.to_string().contains("{fees}"));

        let no_key = TEMPLATE.replace("{new_key}", "02ab");
        assert!(matches!(
            ManifestTemplate::parse(PathBuf::from("t.rtm"), no_key),
            Err(TemplateError::NoNewKey)
        ));

        let typo = TEMPLATE.replace("\"update_key\"\n    Bytes", "\"update_key\"\n    Bytez");
        let c = config(NetworkDefinition::mainnet(), Some(&typo));
        let e = build_update_key(&c, &notary(), &req(1)).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("t.rtm") && msg.contains("line 16"), "{msg}");
    }
}
