//! The real Radix Engine over an in-memory substate database: genesis, round changes,
//! user transactions, and typed reads of the state the snapshot needs.
//!
//! Nothing here keeps its own idea of epochs, rounds, keys or proposal counts: they are
//! written by the engine's consensus manager and read back from its substates.

use radix_common::prelude::*;
use radix_engine::blueprints::consensus_manager::{
    ConsensusManagerConfigurationFieldPayload,
    ConsensusManagerCurrentProposalStatisticFieldPayload,
    ConsensusManagerCurrentValidatorSetFieldPayload, ConsensusManagerField,
    ConsensusManagerProposerMilliTimestampFieldPayload, ConsensusManagerStateFieldPayload,
    ValidatorEmissionAppliedEvent, ValidatorField, ValidatorStateFieldPayload,
};
use radix_engine::blueprints::resource::{FungibleVaultBalanceFieldPayload, FungibleVaultField};
use radix_engine::system::bootstrap::{GenesisDataChunk, GenesisStakeAllocation, GenesisValidator};
use radix_engine::system::system_db_reader::SystemDatabaseReader;
use radix_engine::transaction::{
    execute_and_commit_transaction, execute_transaction, ExecutionConfig, TransactionReceipt,
};
use radix_engine::updates::{BabylonSettings, ProtocolBuilder};
use radix_engine::vm::DefaultVmModules;
use radix_engine_interface::blueprints::consensus_manager::{
    ConsensusManagerConfig, ConsensusManagerNextRoundInput, EpochChangeCondition,
    LeaderProposalHistory, CONSENSUS_MANAGER_NEXT_ROUND_IDENT,
};
use radix_engine_interface::prelude::*;
use radix_substate_store_impls::memory_db::InMemorySubstateDatabase;
use radix_transactions::builder::ManifestBuilder;
use radix_transactions::manifest::BuildableManifest;
use radix_transactions::validation::TransactionValidator;

use super::SimError;

/// One validator at genesis.
pub(crate) struct GenesisValidatorSpec {
    pub key: Secp256k1PublicKey,
    pub owner: ComponentAddress,
    pub stake_xrd: u64,
}

/// The engine, its database and the validator config read from it.
pub(crate) struct Engine {
    pub db: InMemorySubstateDatabase,
    vm: DefaultVmModules,
    pub validator: TransactionValidator,
    pub network: NetworkDefinition,
    /// Unique id for each system transaction (their hash is derived from it).
    system_nonce: u32,
}

/// The engine's consensus-manager view after a round.
pub(crate) struct ConsensusView {
    pub epoch: u64,
    pub epoch_start_ms: i64,
    pub current_leader: Option<u8>,
    pub round: u64,
    pub timestamp_ms: i64,
    /// Active set in stake order: (address, key, stake).
    pub active: Vec<(ComponentAddress, Secp256k1PublicKey, Decimal)>,
    /// (made, missed) per active-set index, this epoch.
    pub stats: Vec<(u64, u64)>,
}

/// Validator state on ledger.
pub(crate) struct ValidatorState {
    pub key: Secp256k1PublicKey,
    pub is_registered: bool,
    pub accepts_delegated_stake: bool,
    pub stake_xrd: Decimal,
    pub stake_unit_resource: ResourceAddress,
    pub claim_nft: ResourceAddress,
    pub fee_factor: Decimal,
    /// The latest `update_fee` request: (epoch it is effective from, new fee factor). The
    /// engine keeps it here, not in `fee_factor`, even once it is effective.
    pub fee_change_request: Option<(u64, Decimal)>,
    /// (vault id, balance) of: stake XRD, pending XRD withdraw, locked owner stake
    /// units, pending owner stake unit unlock.
    pub stake_vault: (NodeId, Decimal),
    pub pending_xrd_withdraw_vault: (NodeId, Decimal),
    pub locked_owner_stake_unit_vault: (NodeId, Decimal),
    pub pending_owner_stake_unit_unlock_vault: (NodeId, Decimal),
    /// Owner stake units being unlocked: (epoch they unlock at, amount).
    pub pending_owner_stake_unit_withdrawals: Vec<(u64, Decimal)>,
    pub already_unlocked_owner_stake_unit_amount: Decimal,
}

/// Holdings of one vault.
pub(crate) struct VaultHolding {
    pub vault: NodeId,
    pub resource: ResourceAddress,
    pub amount: Decimal,
    pub ids: Vec<NonFungibleLocalId>,
}

#[derive(Default)]
struct VaultCollector {
    vaults: Vec<VaultHolding>,
}

impl radix_substate_store_queries::query::StateTreeVisitor for VaultCollector {
    fn visit_fungible_vault(
        &mut self,
        vault_id: NodeId,
        address: &ResourceAddress,
        resource: &LiquidFungibleResource,
    ) {
        self.vaults.push(VaultHolding {
            vault: vault_id,
            resource: *address,
            amount: resource.amount(),
            ids: vec![],
        });
    }

    fn visit_non_fungible_vault(
        &mut self,
        vault_id: NodeId,
        address: &ResourceAddress,
        resource: &LiquidNonFungibleVault,
    ) {
        self.vaults.push(VaultHolding {
            vault: vault_id,
            resource: *address,
            amount: resource.amount,
            ids: vec![],
        });
    }

    fn visit_non_fungible(
        &mut self,
        vault_id: NodeId,
        _address: &ResourceAddress,
        id: &NonFungibleLocalId,
    ) {
        if let Some(v) = self.vaults.iter_mut().rev().find(|v| v.vault == vault_id) {
            v.ids.push(id.clone());
        }
    }
}

/// Emission event of one validator for a finished epoch.
pub(crate) struct Emission {
    pub validator: ComponentAddress,
    pub epoch: u64,
    pub made: u64,
    pub missed: u64,
}

fn engine_err(what: &str, e: impl std::fmt::Debug) -> SimError {
    SimError::Engine(format!("{what}: {e:?}"))
}

impl Engine {
    /// Bootstrap a fresh ledger to the latest protocol version with our genesis.
    pub(crate) fn genesis(
        validators: &[GenesisValidatorSpec],
        staker: ComponentAddress,
        xrd_balances: Vec<(ComponentAddress, Decimal)>,
        rounds_per_epoch: u64,
        round_length_ms: u64,
        genesis_time_ms: i64,
    ) -> Result<Self, SimError> {
        let network = NetworkDefinition::simulator();
        let config = ConsensusManagerConfig::mainnet_genesis()
            // Room for every configured validator in the active set.
            .with_max_validators(validators.len().max(1) as u32)
            // min = max: the epoch changes after exactly this many rounds, whatever
            // the clock says, so a test stepping rounds as fast as it can sees the
            // same epochs as the timed clock.
            .with_epoch_change_condition(EpochChangeCondition {
                min_round_count: rounds_per_epoch,
                max_round_count: rounds_per_epoch,
                target_duration_millis: rounds_per_epoch.saturating_mul(round_length_ms),
            })
            // As on mainnet: a single miss forfeits the epoch's emission.
            .with_min_validator_reliability(Decimal::one())
            // Unstaking in a few epochs keeps stake changes observable in a test.
            .with_num_unstake_epochs(2);
        let genesis_validators = validators
            .iter()
            .map(|v| GenesisValidator {
                key: v.key,
                accept_delegated_stake: true,
                is_registered: true,
                fee_factor: Decimal::ONE,
                metadata: vec![],
                owner: v.owner,
            })
            .collect();
        let allocations = validators
            .iter()
            .map(|v| {
                (
                    v.key,
                    vec![GenesisStakeAllocation {
                        account_index: 0,
                        xrd_amount: Decimal::from(v.stake_xrd),
                    }],
                )
            })
            .collect();
        let settings = BabylonSettings {
            genesis_data_chunks: vec![
                GenesisDataChunk::Validators(genesis_validators),
                GenesisDataChunk::Stakes {
                    accounts: vec![staker],
                    allocations,
                },
                GenesisDataChunk::XrdBalances(xrd_balances),
            ],
            genesis_epoch: Epoch::of(1),
            consensus_manager_config: config,
            initial_time_ms: genesis_time_ms,
            initial_current_leader: Some(0),
            // The faucet is unused by the sim; a billion XRD keeps it from ever running dry.
            faucet_supply: Decimal::from(1_000_000_000u64),
        };
        let mut db = InMemorySubstateDatabase::standard();
        ProtocolBuilder::for_network(&network)
            .configure_babylon(|_| settings)
            .from_bootstrap_to_latest()
            .commit_each_protocol_update(&mut db);
        let validator = TransactionValidator::new(&db, &network);
        Ok(Self {
            db,
            vm: DefaultVmModules::default(),
            validator,
            network,
            system_nonce: 1,
        })
    }

    /// Record one round with the consensus manager's `next_round`, as a node's
    /// round-change system transaction does.
    pub(crate) fn next_round(
        &mut self,
        round: u64,
        timestamp_ms: i64,
        history: LeaderProposalHistory,
    ) -> Result<TransactionReceipt, SimError> {
        let manifest = ManifestBuilder::new_system_v1()
            .call_method(
                CONSENSUS_MANAGER,
                CONSENSUS_MANAGER_NEXT_ROUND_IDENT,
                ConsensusManagerNextRoundInput {
                    round: Round::of(round),
                    proposer_timestamp_ms: timestamp_ms,
                    leader_proposal_history: history,
                },
            )
            .build();
        self.system_nonce = self.system_nonce.wrapping_add(1);
        let executable = manifest
            .into_executable_with_proofs(
                self.system_nonce,
                btreeset![system_execution(SystemExecution::Validator)],
                &self.validator,
            )
            .map_err(|e| engine_err("round change transaction", e))?;
        let receipt = execute_and_commit_transaction(
            &mut self.db,
            &self.vm,
            &ExecutionConfig::for_system_transaction(self.network.clone()),
            executable,
        );
        match &receipt.result {
            radix_engine::transaction::TransactionResult::Commit(c) => match &c.outcome {
                radix_engine::transaction::TransactionOutcome::Success(_) => Ok(receipt),
                radix_engine::transaction::TransactionOutcome::Failure(e) => {
                    Err(engine_err("round change failed", e))
                }
            },
            other => Err(engine_err("round change not committed", other)),
        }
    }

    /// A fresh nonce for a test transaction (the sim's own owner actions): unique intents.
    pub(crate) fn next_test_nonce(&mut self) -> u32 {
        self.system_nonce = self.system_nonce.wrapping_add(1);
        self.system_nonce
    }

    /// Execute a user transaction and commit it if the receipt says so.
    pub(crate) fn execute_user(
        &mut self,
        executable: radix_transactions::model::ExecutableTransaction,
    ) -> TransactionReceipt {
        execute_and_commit_transaction(
            &mut self.db,
            &self.vm,
            &ExecutionConfig::for_notarized_transaction(self.network.clone()),
            executable,
        )
    }

    /// Execute without committing (preview).
    pub(crate) fn execute_no_commit(
        &self,
        executable: radix_transactions::model::ExecutableTransaction,
        config: &ExecutionConfig,
    ) -> TransactionReceipt {
        execute_transaction(&self.db, &self.vm, config, executable)
    }

    pub(crate) fn consensus(&self) -> Result<ConsensusView, SimError> {
        let reader = SystemDatabaseReader::new(&self.db);
        let node = CONSENSUS_MANAGER.as_node_id();
        let state = reader
            .read_typed_object_field::<ConsensusManagerStateFieldPayload>(
                node,
                ModuleId::Main,
                ConsensusManagerField::State.field_index(),
            )
            .map_err(|e| engine_err("read consensus manager state", e))?
            .fully_update_and_into_latest_version();
        let set = reader
            .read_typed_object_field::<ConsensusManagerCurrentValidatorSetFieldPayload>(
                node,
                ModuleId::Main,
                ConsensusManagerField::CurrentValidatorSet.field_index(),
            )
            .map_err(|e| engine_err("read current validator set", e))?
            .fully_update_and_into_latest_version();
        let stats = reader
            .read_typed_object_field::<ConsensusManagerCurrentProposalStatisticFieldPayload>(
                node,
                ModuleId::Main,
                ConsensusManagerField::CurrentProposalStatistic.field_index(),
            )
            .map_err(|e| engine_err("read current proposal statistic", e))?
            .fully_update_and_into_latest_version();
        let ts = reader
            .read_typed_object_field::<ConsensusManagerProposerMilliTimestampFieldPayload>(
                node,
                ModuleId::Main,
                ConsensusManagerField::ProposerMilliTimestamp.field_index(),
            )
            .map_err(|e| engine_err("read proposer timestamp", e))?
            .fully_update_and_into_latest_version();
        Ok(ConsensusView {
            epoch: state.epoch.number(),
            epoch_start_ms: state.actual_epoch_start_milli,
            current_leader: state.current_leader,
            round: state.round.number(),
            timestamp_ms: ts.epoch_milli,
            active: set
                .validator_set
                .validators_by_stake_desc
                .iter()
                .map(|(a, v)| (*a, v.key, v.stake))
                .collect(),
            stats: stats
                .validator_statistics
                .iter()
                .map(|s| (s.made, s.missed))
                .collect(),
        })
    }

    pub(crate) fn validator_state(
        &self,
        address: &ComponentAddress,
    ) -> Result<ValidatorState, SimError> {
        let reader = SystemDatabaseReader::new(&self.db);
        let s = reader
            .read_typed_object_field::<ValidatorStateFieldPayload>(
                address.as_node_id(),
                ModuleId::Main,
                ValidatorField::State.field_index(),
            )
            .map_err(|e| engine_err("read validator state", e))?
            .fully_update_and_into_latest_version();
        let balance = |own: &Own| -> Result<(NodeId, Decimal), SimError> {
            let b = reader
                .read_typed_object_field::<FungibleVaultBalanceFieldPayload>(
                    own.as_node_id(),
                    ModuleId::Main,
                    FungibleVaultField::Balance.field_index(),
                )
                .map_err(|e| engine_err("read validator vault", e))?
                .fully_update_and_into_latest_version();
            Ok((*own.as_node_id(), b.amount()))
        };
        Ok(ValidatorState {
            key: s.key,
            is_registered: s.is_registered,
            accepts_delegated_stake: s.accepts_delegated_stake,
            stake_xrd: balance(&s.stake_xrd_vault_id)?.1,
            stake_unit_resource: s.stake_unit_resource,
            claim_nft: s.claim_nft,
            fee_factor: s.validator_fee_factor,
            fee_change_request: s
                .validator_fee_change_request
                .as_ref()
                .map(|r| (r.epoch_effective.number(), r.new_fee_factor)),
            stake_vault: balance(&s.stake_xrd_vault_id)?,
            pending_xrd_withdraw_vault: balance(&s.pending_xrd_withdraw_vault_id)?,
            locked_owner_stake_unit_vault: balance(&s.locked_owner_stake_unit_vault_id)?,
            pending_owner_stake_unit_unlock_vault: balance(
                &s.pending_owner_stake_unit_unlock_vault_id,
            )?,
            pending_owner_stake_unit_withdrawals: s
                .pending_owner_stake_unit_withdrawals
                .iter()
                .map(|(e, a)| (e.number(), *a))
                .collect(),
            already_unlocked_owner_stake_unit_amount: s.already_unlocked_owner_stake_unit_amount,
        })
    }

    /// Every vault a component (an account) owns, with its holdings, or `None` if the
    /// entity does not exist on ledger.
    pub(crate) fn holdings(&self, address: &ComponentAddress) -> Option<Vec<VaultHolding>> {
        let reader = SystemDatabaseReader::new(&self.db);
        // An entity that was never created (e.g. an unused preallocated account) has
        // no type info.
        reader.get_type_info(address.as_node_id()).ok()?;
        let mut collector = VaultCollector::default();
        // Depth 100 is the engine's own accounter's bound; accounts are shallow.
        radix_substate_store_queries::query::StateTreeTraverser::new(&self.db, &mut collector, 100)
            .traverse_subtree(None, *address.as_node_id());
        let mut vaults = collector.vaults;
        for v in &mut vaults {
            v.ids.sort();
        }
        vaults.sort_by_key(|v| (v.resource, v.vault));
        Some(vaults)
    }

    /// Where the non-fungible `id` of `resource` is: `(its vault, the global entity that owns
    /// the vault)`, searched over every global component on ledger (the gateway's
    /// `/state/non-fungible/location`); `None` when no vault holds it (burned, or never
    /// minted).
    pub(crate) fn non_fungible_location(
        &self,
        resource: &ResourceAddress,
        id: &NonFungibleLocalId,
    ) -> Option<(NodeId, ComponentAddress)> {
        use radix_substate_store_interface::db_key_mapper::{
            DatabaseKeyMapper, SpreadPrefixKeyMapper,
        };
        use radix_substate_store_interface::interface::ListableSubstateDatabase;
        let mut components: Vec<ComponentAddress> = self
            .db
            .list_partition_keys()
            .map(|k| SpreadPrefixKeyMapper::from_db_partition_key(&k).0)
            .filter(|n| n.is_global_component())
            .filter_map(|n| ComponentAddress::try_from(n.as_bytes()).ok())
            .collect();
        components.sort();
        components.dedup();
        components.into_iter().find_map(|c| {
            self.holdings(&c)?
                .into_iter()
                .find(|v| &v.resource == resource && v.ids.contains(id))
                .map(|v| (v.vault, c))
        })
    }

    pub(crate) fn config(&self) -> Result<ConsensusManagerConfig, SimError> {
        let reader = SystemDatabaseReader::new(&self.db);
        Ok(reader
            .read_typed_object_field::<ConsensusManagerConfigurationFieldPayload>(
                CONSENSUS_MANAGER.as_node_id(),
                ModuleId::Main,
                ConsensusManagerField::Configuration.field_index(),
            )
            .map_err(|e| engine_err("read consensus manager config", e))?
            .fully_update_and_into_latest_version()
            .config)
    }
}

/// The emission events of a round-change receipt (present at an epoch change).
pub(crate) fn emissions_of(receipt: &TransactionReceipt) -> Vec<Emission> {
    let radix_engine::transaction::TransactionResult::Commit(c) = &receipt.result else {
        return vec![];
    };
    let mut out = vec![];
    for (id, data) in &c.application_events {
        if id.1 != "ValidatorEmissionAppliedEvent" {
            continue;
        }
        let Emitter::Method(node, ModuleId::Main) = &id.0 else {
            continue;
        };
        let (Ok(validator), Ok(ev)) = (
            ComponentAddress::try_from(node.as_bytes()),
            scrypto_decode::<ValidatorEmissionAppliedEvent>(data),
        ) else {
            continue;
        };
        out.push(Emission {
            validator,
            epoch: ev.epoch.number(),
            made: ev.proposals_made,
            missed: ev.proposals_missed,
        });
    }
    out
}
