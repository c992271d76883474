//! The owner badge in a native access controller (issue 15, `--badge-in access-controller`).
//!
//! At genesis our validator's owner badge is moved from the owner account into an access
//! controller, in one real engine transaction signed by the owner account's key (as an
//! operator's wallet signs the `radix-failover badge secure` manifest):
//! - **primary** role: the owner account key's signature (the key the daemon holds);
//! - **recovery** and **confirmation** roles: a separate recovery key's signature, written to
//!   the state dir (mode 0600): the operator's cold key;
//! - timed recovery after [`TIMED_RECOVERY_MINUTES`].
//!
//! The controller's state and its role rules are read back from the engine for the gateway's
//! entity details, and the recovery key can sign the manifests `radix-failover badge lock`
//! prints.

use radix_common::prelude::*;
use radix_engine::blueprints::access_controller::latest::{
    AccessControllerV2Field, AccessControllerV2StateFieldPayload,
};
use radix_engine::blueprints::access_controller::{
    PrimaryRoleBadgeWithdrawAttemptState, PrimaryRoleLockingState, PrimaryRoleRecoveryAttemptState,
    RecoveryRoleBadgeWithdrawAttemptState, RecoveryRoleRecoveryAttemptState,
    RecoveryRoleRecoveryState,
};
use radix_engine::object_modules::role_assignment::{
    RoleAssignmentAccessRuleEntryPayload, RoleAssignmentCollection,
};
use radix_engine::system::system_db_reader::{ObjectCollectionKey, SystemDatabaseReader};
use radix_engine::system::type_info::TypeInfoSubstate;
use radix_engine_interface::blueprints::access_controller::{
    RecoveryProposal, ACCESS_CONTROLLER_BLUEPRINT,
};
use radix_engine_interface::prelude::*;
use radix_engine_interface::rule;
use radix_transactions::builder::ManifestBuilder;
use radix_transactions::manifest::BuildableManifest;
use radix_transactions::model::TransactionManifestV1;
use radix_transactions::validation::TransactionValidator;

use super::engine::Engine;
use super::{lock, Sim, SimError};

/// Two weeks: the delay `badge secure` suggests for an operator who can be away.
pub const TIMED_RECOVERY_MINUTES: u32 = 14 * 24 * 60;

/// XRD the recovery key's account gets at genesis: its manifests (`badge lock`) lock their
/// fee from it, as the operator's wallet account pays for them.
pub const RECOVERY_XRD_BALANCE: u64 = 1_000;

/// The fee a recovery-key manifest locks when it has none.
const RECOVERY_FEE_XRD: u64 = 10;

/// The roles of an access controller, in the order the gateway lists them.
pub const ROLES: [&str; 3] = ["primary", "recovery", "confirmation"];

/// An access controller's state, read from the engine (the Core API's
/// `AccessControllerFieldStateValue`, with addresses still typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessControllerState {
    pub controlled_vault: NodeId,
    pub xrd_fee_vault: Option<NodeId>,
    pub timed_recovery_delay_minutes: Option<u32>,
    pub recovery_badge: ResourceAddress,
    pub is_primary_role_locked: bool,
    pub primary_role_recovery_attempt: Option<RecoveryProposal>,
    pub has_primary_role_badge_withdraw_attempt: bool,
    /// The recovery role's proposal, and when a timed one may be confirmed (unix seconds).
    pub recovery_role_recovery_attempt: Option<(RecoveryProposal, Option<i64>)>,
    pub has_recovery_role_badge_withdraw_attempt: bool,
    /// Each of [`ROLES`] with its rule (a role never set is absent).
    pub roles: Vec<(String, AccessRule)>,
}

impl Engine {
    /// The access controller at `address`, or `None` if there is none there.
    pub(crate) fn access_controller(&self, address: &NodeId) -> Option<AccessControllerState> {
        let reader = SystemDatabaseReader::new(&self.db);
        let info = reader.get_type_info(address).ok()?;
        let TypeInfoSubstate::Object(o) = info else {
            return None;
        };
        if o.blueprint_info.blueprint_id.blueprint_name != ACCESS_CONTROLLER_BLUEPRINT {
            return None;
        }
        let s = reader
            .read_typed_object_field::<AccessControllerV2StateFieldPayload>(
                address,
                ModuleId::Main,
                AccessControllerV2Field::State.field_index(),
            )
            .ok()?
            .fully_update_and_into_latest_version();
        let (locking, primary_recovery, primary_withdraw, recovery_recovery, recovery_withdraw) =
            s.state;
        let roles = ROLES
            .iter()
            .filter_map(|name| {
                let key = ModuleRoleKey::new(ModuleId::Main, *name);
                reader
                    .read_object_collection_entry::<_, RoleAssignmentAccessRuleEntryPayload>(
                        address,
                        ModuleId::RoleAssignment,
                        ObjectCollectionKey::KeyValue(
                            RoleAssignmentCollection::AccessRuleKeyValue.collection_index(),
                            &key,
                        ),
                    )
                    .ok()
                    .flatten()
                    .map(|r| (name.to_string(), r.fully_update_and_into_latest_version()))
            })
            .collect();
        Some(AccessControllerState {
            controlled_vault: *s.controlled_asset.0.as_node_id(),
            xrd_fee_vault: s.xrd_fee_vault.map(|v| *v.0.as_node_id()),
            timed_recovery_delay_minutes: s.timed_recovery_delay_in_minutes,
            recovery_badge: s.recovery_badge,
            is_primary_role_locked: locking == PrimaryRoleLockingState::Locked,
            primary_role_recovery_attempt: match primary_recovery {
                PrimaryRoleRecoveryAttemptState::NoRecoveryAttempt => None,
                PrimaryRoleRecoveryAttemptState::RecoveryAttempt(p) => Some(p),
            },
            has_primary_role_badge_withdraw_attempt: primary_withdraw
                == PrimaryRoleBadgeWithdrawAttemptState::BadgeWithdrawAttempt,
            recovery_role_recovery_attempt: match recovery_recovery {
                RecoveryRoleRecoveryAttemptState::NoRecoveryAttempt => None,
                RecoveryRoleRecoveryAttemptState::RecoveryAttempt(
                    RecoveryRoleRecoveryState::UntimedRecovery(p),
                ) => Some((p, None)),
                RecoveryRoleRecoveryAttemptState::RecoveryAttempt(
                    RecoveryRoleRecoveryState::TimedRecovery {
                        proposal,
                        timed_recovery_allowed_after,
                    },
                ) => Some((
                    proposal,
                    Some(timed_recovery_allowed_after.seconds_since_unix_epoch),
                )),
            },
            has_recovery_role_badge_withdraw_attempt: recovery_withdraw
                == RecoveryRoleBadgeWithdrawAttemptState::BadgeWithdrawAttempt,
            roles,
        })
    }
}

/// Genesis step: moves `validator`'s owner badge from `owner_account` into a new access
/// controller (primary: the owner key; recovery and confirmation: the recovery key), signed
/// by the owner key. Returns the controller's address.
pub(crate) fn secure_badge_at_genesis(
    engine: &mut Engine,
    tx_validator: &TransactionValidator,
    owner_account: ComponentAddress,
    owner_key: &PublicKey,
    validator: ComponentAddress,
    recovery_key: &PublicKey,
) -> Result<ComponentAddress, SimError> {
    let badge_id = NonFungibleLocalId::bytes(validator.as_node_id().0.to_vec())
        .map_err(|e| SimError::Engine(format!("owner badge id: {e:?}")))?;
    let recovery = rule!(require(NonFungibleGlobalId::from_public_key(recovery_key)));
    let manifest = ManifestBuilder::new()
        .lock_fee(owner_account, RECOVERY_FEE_XRD)
        .withdraw_non_fungibles_from_account(owner_account, VALIDATOR_OWNER_BADGE, [badge_id])
        .take_all_from_worktop(VALIDATOR_OWNER_BADGE, "owner_badge")
        .create_access_controller(
            "owner_badge",
            rule!(require(NonFungibleGlobalId::from_public_key(owner_key))),
            recovery.clone(),
            recovery,
            Some(TIMED_RECOVERY_MINUTES),
        )
        .build();
    let created = commit_signed(
        engine,
        tx_validator,
        manifest,
        owner_key,
        "put the owner badge in an access controller",
    )?;
    created
        .into_iter()
        .find(|c| c.as_node_id().entity_type() == Some(EntityType::GlobalAccessController))
        .ok_or_else(|| SimError::Engine("no access controller was created".into()))
}

/// Executes `manifest` with `signer`'s signature proof and commits it; an error unless the
/// engine committed it with success. Returns the components it created.
pub(crate) fn commit_signed(
    engine: &mut Engine,
    tx_validator: &TransactionValidator,
    manifest: TransactionManifestV1,
    signer: &PublicKey,
    what: &str,
) -> Result<Vec<ComponentAddress>, SimError> {
    let proofs = btreeset![NonFungibleGlobalId::from_public_key(signer)];
    let nonce = engine.next_test_nonce();
    let executable = manifest
        .into_executable_with_proofs(nonce, proofs, tx_validator)
        .map_err(|e| SimError::Engine(format!("{what}: {e}")))?;
    let receipt = engine.execute_user(executable);
    if !receipt.is_commit_success() {
        // The whole receipt can run to many kilobytes; its start names the failure.
        let why: String = format!("{:?}", receipt.result).chars().take(600).collect();
        return Err(SimError::Engine(format!("{what}: not committed: {why}")));
    }
    Ok(receipt
        .expect_commit_success()
        .new_component_addresses()
        .iter()
        .copied()
        .collect())
}

impl Sim {
    /// The access controller that holds our owner badge (`--badge-in access-controller`).
    pub fn access_controller(&self) -> Option<ComponentAddress> {
        self.inner.access_controller
    }

    /// The state of the access controller at `address` (any, not only ours), from the engine.
    pub fn access_controller_state(&self, address: &NodeId) -> Option<AccessControllerState> {
        lock(&self.inner.ledger).engine.access_controller(address)
    }

    /// The recovery key locks the primary role of our access controller (`lock_primary_role`),
    /// as the operator does after a tripwire alert.
    pub fn recovery_locks_primary_role(&self) -> Result<(), SimError> {
        let ac = self.access_controller().ok_or_else(|| {
            SimError::Config(
                "the badge is not in an access controller (run with --badge-in access-controller)"
                    .into(),
            )
        })?;
        let account = self.recovery_account()?;
        let manifest = ManifestBuilder::new()
            .lock_fee(account, RECOVERY_FEE_XRD)
            .call_method(ac, "lock_primary_role", ())
            .build();
        self.commit_as_recovery(manifest, "lock the primary role")?;
        tracing::info!("the recovery key locked the access controller's primary role");
        Ok(())
    }

    /// Compiles `text` with the official compiler and commits it signed by the recovery key,
    /// as the operator's cold wallet would sign what `radix-failover badge lock` prints.
    pub fn commit_recovery_manifest_text(&self, text: &str) -> Result<(), SimError> {
        let manifest = self.compile_manifest_text(text)?;
        self.commit_as_recovery(manifest, "the recovery key's manifest")
            .map(|_| ())
    }

    /// The recovery key's account (preallocated from its key).
    pub fn recovery_account(&self) -> Result<ComponentAddress, SimError> {
        self.recovery_key()
            .map(|k| ComponentAddress::preallocated_account_from_public_key(&k))
    }

    fn recovery_key(&self) -> Result<PublicKey, SimError> {
        self.inner.recovery_public_key.ok_or_else(|| {
            SimError::Config("no recovery key: run with --badge-in access-controller".into())
        })
    }

    fn commit_as_recovery(
        &self,
        manifest: TransactionManifestV1,
        what: &str,
    ) -> Result<Vec<ComponentAddress>, SimError> {
        let key = self.recovery_key()?;
        self.commit_signed_and_publish(manifest, &key, what)
    }
}
