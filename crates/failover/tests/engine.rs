//! The failover transaction on the real Radix Engine: a fresh in-memory ledger whose genesis
//! validator is owned by the key-file account; the transaction built by this crate must commit,
//! change the validator's key, and be rejected when replayed.

use radix_common::prelude::*;
use radix_engine::blueprints::consensus_manager::{
    ConsensusManagerCurrentValidatorSetFieldPayload, ConsensusManagerField,
    ConsensusManagerStateFieldPayload, ValidatorField, ValidatorStateFieldPayload,
};
use radix_engine::system::bootstrap::{
    GenesisDataChunk, GenesisResourceAllocation, GenesisValidator,
};
use radix_engine::system::system_db_reader::SystemDatabaseReader;
use radix_engine::transaction::{
    execute_and_commit_transaction, ExecutionConfig, TransactionReceipt,
};
use radix_engine::updates::{BabylonSettings, ProtocolBuilder};
use radix_engine::vm::DefaultVmModules;
use radix_engine_interface::blueprints::consensus_manager::ConsensusManagerConfig;
use radix_engine_interface::prelude::ModuleId;
use radix_failover::config::{parse_secp256k1_public_key, Config};
use radix_failover::tx::{build_update_key, ManifestTemplate, UpdateKeyRequest};
use radix_substate_store_impls::memory_db::InMemorySubstateDatabase;
use radix_transactions::validation::TransactionValidator;

const PRIMARY: &str = "02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004";
const BACKUP: &str = "029932e6683332a3c0d8cd2862c129e0c2501f45c17c88eecac27cc22baf7f80ed";

struct Ledger {
    db: InMemorySubstateDatabase,
    vm: DefaultVmModules,
    network: NetworkDefinition,
}

impl Ledger {
    /// Genesis with one validator (key PRIMARY) owned by `owner`; `owner` and `also_funded`
    /// get 1000 XRD each.
    fn new(owner: ComponentAddress, also_funded: Option<ComponentAddress>) -> Ledger {
        let network = NetworkDefinition::simulator();
        let primary = parse_secp256k1_public_key(PRIMARY).unwrap();
        let mut settings = BabylonSettings::single_validator_and_staker(
            primary,
            Decimal::one(),
            Decimal::from(1000),
            owner,
            Epoch::of(1),
            ConsensusManagerConfig::test_default(),
        );
        settings.genesis_data_chunks[0] = GenesisDataChunk::Validators(vec![GenesisValidator {
            key: primary,
            accept_delegated_stake: true,
            is_registered: true,
            fee_factor: Decimal::ONE,
            metadata: vec![],
            owner,
        }]);
        if let Some(other) = also_funded {
            settings.genesis_data_chunks[2] = GenesisDataChunk::ResourceBalances {
                accounts: vec![owner, other],
                allocations: vec![(
                    XRD,
                    vec![
                        GenesisResourceAllocation {
                            account_index: 0,
                            amount: Decimal::from(1000),
                        },
                        GenesisResourceAllocation {
                            account_index: 1,
                            amount: Decimal::from(1000),
                        },
                    ],
                )],
            };
        }
        let mut db = InMemorySubstateDatabase::standard();
        ProtocolBuilder::for_network(&network)
            .configure_babylon(|_| settings)
            .from_bootstrap_to_latest()
            .commit_each_protocol_update(&mut db);
        Ledger {
            db,
            vm: DefaultVmModules::default(),
            network,
        }
    }

    fn epoch(&self) -> u64 {
        SystemDatabaseReader::new(&self.db)
            .read_typed_object_field::<ConsensusManagerStateFieldPayload>(
                CONSENSUS_MANAGER.as_node_id(),
                ModuleId::Main,
                ConsensusManagerField::State.field_index(),
            )
            .unwrap()
            .fully_update_and_into_latest_version()
            .epoch
            .number()
    }

    fn validator_address(&self) -> ComponentAddress {
        let set = SystemDatabaseReader::new(&self.db)
            .read_typed_object_field::<ConsensusManagerCurrentValidatorSetFieldPayload>(
                CONSENSUS_MANAGER.as_node_id(),
                ModuleId::Main,
                ConsensusManagerField::CurrentValidatorSet.field_index(),
            )
            .unwrap()
            .fully_update_and_into_latest_version();
        *set.validator_set
            .validators_by_stake_desc
            .keys()
            .next()
            .unwrap()
    }

    fn validator_key(&self, v: ComponentAddress) -> Secp256k1PublicKey {
        SystemDatabaseReader::new(&self.db)
            .read_typed_object_field::<ValidatorStateFieldPayload>(
                v.as_node_id(),
                ModuleId::Main,
                ValidatorField::State.field_index(),
            )
            .unwrap()
            .fully_update_and_into_latest_version()
            .key
    }

    /// Validates against the ledger's own config (as a node does), then executes and commits.
    fn submit(&mut self, bytes: &[u8]) -> Result<TransactionReceipt, String> {
        let tx = radix_failover::tx::decode_notarized(bytes).map_err(|e| e.to_string())?;
        let validator = TransactionValidator::new(&self.db, &self.network);
        let executable = tx
            .prepare_and_validate(&validator)
            .map_err(|e| format!("{e:?}"))?
            .create_executable();
        Ok(execute_and_commit_transaction(
            &mut self.db,
            &self.vm,
            &ExecutionConfig::for_notarized_transaction(self.network.clone()),
            executable,
        ))
    }
}

fn config(validator: ComponentAddress, template: Option<&str>) -> Config {
    let mut c = Config::transaction_only(
        NetworkDefinition::simulator(),
        validator,
        parse_secp256k1_public_key(BACKUP).unwrap(),
        "/unused".into(),
    );
    c.manifest_template =
        template.map(|t| ManifestTemplate::parse("t.rtm".into(), t.to_string()).unwrap());
    c
}

fn owner_key() -> Ed25519PrivateKey {
    Ed25519PrivateKey::from_u64(7).unwrap()
}

fn owner_account() -> ComponentAddress {
    ComponentAddress::preallocated_account_from_public_key(&owner_key().public_key())
}

#[test]
fn update_key_commits_changes_the_key_and_commits_once() {
    let mut ledger = Ledger::new(owner_account(), None);
    let v = ledger.validator_address();
    assert_eq!(hex::encode(ledger.validator_key(v).0), PRIMARY);
    let cfg = config(v, None);
    let req = UpdateKeyRequest {
        new_key: cfg.backup_public_key,
        start_epoch: ledger.epoch(),
        valid_epochs: 2,
        nonce: None,
    };
    let built = build_update_key(&cfg, &owner_key(), &req).unwrap();
    let receipt = ledger.submit(&built.notarized_bytes).unwrap();
    assert!(receipt.is_commit_success(), "{receipt:?}");
    assert_eq!(hex::encode(ledger.validator_key(v).0), BACKUP);

    // A second watcher builds the same bytes; the ledger refuses the second commit.
    let again = build_update_key(&cfg, &owner_key(), &req).unwrap();
    assert_eq!(again.notarized_bytes, built.notarized_bytes);
    let replay = ledger.submit(&again.notarized_bytes).unwrap();
    assert!(replay.is_rejection(), "{replay:?}");
    assert!(format!("{replay:?}").contains("IntentHashPreviouslyCommitted"));

    // Fail back with --to-key semantics: the primary key again.
    let back = UpdateKeyRequest {
        new_key: parse_secp256k1_public_key(PRIMARY).unwrap(),
        ..req
    };
    let built = build_update_key(&cfg, &owner_key(), &back).unwrap();
    assert!(ledger
        .submit(&built.notarized_bytes)
        .unwrap()
        .is_commit_success());
    assert_eq!(hex::encode(ledger.validator_key(v).0), PRIMARY);
}

#[test]
fn wrong_notary_cannot_update_the_key() {
    // Another key whose account can pay fees but does not hold the owner badge.
    let stranger = Ed25519PrivateKey::from_u64(8).unwrap();
    let stranger_account =
        ComponentAddress::preallocated_account_from_public_key(&stranger.public_key());
    let mut ledger = Ledger::new(owner_account(), Some(stranger_account));
    let v = ledger.validator_address();
    let cfg = config(v, None);
    let req = UpdateKeyRequest {
        new_key: cfg.backup_public_key,
        start_epoch: ledger.epoch(),
        valid_epochs: 2,
        nonce: None,
    };
    let built = build_update_key(&cfg, &stranger, &req).unwrap();
    let receipt = ledger.submit(&built.notarized_bytes).unwrap();
    // The fee is locked, so the failure is committed (the stranger pays), but the key stays.
    assert!(
        !receipt.is_commit_success() && !receipt.is_rejection(),
        "{receipt:?}"
    );
    assert_eq!(hex::encode(ledger.validator_key(v).0), PRIMARY);
}

#[test]
fn template_transaction_commits() {
    let template = r#"CALL_METHOD Address("{account}") "lock_fee" Decimal("{fee}");
CALL_METHOD Address("{account}") "create_proof_of_non_fungibles"
    Address("{owner_badge}") Array<NonFungibleLocalId>(NonFungibleLocalId("{owner_badge_id}"));
CALL_METHOD Address("{validator}") "update_key" Bytes("{new_key}");
"#;
    let mut ledger = Ledger::new(owner_account(), None);
    let v = ledger.validator_address();
    let cfg = config(v, Some(template));
    let req = UpdateKeyRequest {
        new_key: cfg.backup_public_key,
        start_epoch: ledger.epoch(),
        valid_epochs: 1,
        nonce: Some(1),
    };
    let built = build_update_key(&cfg, &owner_key(), &req).unwrap();
    assert!(ledger
        .submit(&built.notarized_bytes)
        .unwrap()
        .is_commit_success());
    assert_eq!(hex::encode(ledger.validator_key(v).0), BACKUP);
}

#[test]
fn expired_window_is_rejected() {
    let mut ledger = Ledger::new(owner_account(), None);
    let v = ledger.validator_address();
    let cfg = config(v, None);
    let now = ledger.epoch();
    assert!(now >= 1);
    let req = UpdateKeyRequest {
        new_key: cfg.backup_public_key,
        start_epoch: now + 1,
        valid_epochs: 2,
        nonce: None,
    };
    let built = build_update_key(&cfg, &owner_key(), &req).unwrap();
    let receipt = ledger.submit(&built.notarized_bytes).unwrap();
    assert!(receipt.is_rejection(), "{receipt:?}");
    assert!(format!("{receipt:?}").contains("TransactionEpochNotYetValid"));
}
