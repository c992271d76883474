//! What the validator's owner (or whoever holds the owner account's key) can do on ledger
//! behind the watcher's back: real engine transactions, authorised by the owner account's
//! signature, for the tests of the daemon's per-epoch pre-flight re-check.
//!
//! Each action is committed at once, outside the round loop, and counted as one committed
//! transaction of the ledger; the snapshot is republished so every API shows it straight
//! away, as a node shows a transaction once it is committed.

use radix_common::prelude::*;
use radix_engine_interface::blueprints::consensus_manager::{
    ValidatorUnregisterInput, ValidatorUpdateAcceptDelegatedStakeInput, ValidatorUpdateFeeInput,
    VALIDATOR_UNREGISTER_IDENT, VALIDATOR_UPDATE_ACCEPT_DELEGATED_STAKE_IDENT,
    VALIDATOR_UPDATE_FEE_IDENT,
};
use radix_transactions::builder::{ManifestBuilder, ResolvableArguments};
use radix_transactions::model::TransactionManifestV1;

use super::{lock, Sim, SimError};

/// The fee the owner account locks for each action: far above what these small manifests
/// cost, far below the owner account's genesis balance.
const OWNER_ACTION_FEE_XRD: u64 = 10;

impl Sim {
    /// Moves our validator's owner badge out of the owner account, to the genesis staker's
    /// account, in one committed transaction. The daemon can then no longer sign `update_key`
    /// (the badge proof is gone): its next pre-flight re-check must say so. Returns the
    /// account the badge went to.
    pub fn move_owner_badge_away(&self) -> Result<String, SimError> {
        let owner = self.our_owner_account();
        let manifest = ManifestBuilder::new()
            .lock_fee(owner, OWNER_ACTION_FEE_XRD)
            .withdraw_non_fungibles_from_account(
                owner,
                VALIDATOR_OWNER_BADGE,
                [self.our_owner_badge_id()?],
            )
            .try_deposit_entire_worktop_or_abort(self.inner.staker_account, None)
            .build();
        self.commit_as_owner(manifest, "move the owner badge")?;
        let to = AddressBech32Encoder::new(&self.inner.network)
            .encode(self.inner.staker_account.as_node_id().as_bytes())
            .map_err(|e| SimError::Engine(format!("address: {e:?}")))?;
        tracing::info!(to = %to, "the owner badge was moved out of the owner account");
        Ok(to)
    }

    /// Asks for a new fee factor (0..=1) for our validator (`update_fee`). The engine stores it
    /// as the validator's `validator_fee_change_request`: a decrease is effective from the next
    /// epoch, an increase after the consensus manager's `num_fee_increase_delay_epochs`.
    pub fn update_validator_fee(&self, fee_factor: Decimal) -> Result<(), SimError> {
        self.call_with_owner_badge(
            VALIDATOR_UPDATE_FEE_IDENT,
            ValidatorUpdateFeeInput {
                new_fee_factor: fee_factor,
            },
            "update the validator fee",
        )?;
        tracing::info!(%fee_factor, "our validator's fee change was requested");
        Ok(())
    }

    /// Lets our validator accept delegated stake, or not (`update_accept_delegated_stake`).
    pub fn set_validator_accepts_delegated_stake(&self, accept: bool) -> Result<(), SimError> {
        self.call_with_owner_badge(
            VALIDATOR_UPDATE_ACCEPT_DELEGATED_STAKE_IDENT,
            ValidatorUpdateAcceptDelegatedStakeInput {
                accept_delegated_stake: accept,
            },
            "update accept_delegated_stake",
        )?;
        tracing::info!(accept, "our validator's accept_delegated_stake was changed");
        Ok(())
    }

    /// Unregisters our validator (`unregister`): it leaves the active set at the next epoch
    /// change.
    pub fn unregister_validator(&self) -> Result<(), SimError> {
        self.call_with_owner_badge(
            VALIDATOR_UNREGISTER_IDENT,
            ValidatorUnregisterInput {},
            "unregister the validator",
        )?;
        tracing::info!("our validator was unregistered");
        Ok(())
    }

    fn our_owner_account(&self) -> ComponentAddress {
        self.inner.owner_accounts[self.inner.cfg.our_validator_index]
    }

    fn our_validator(&self) -> ComponentAddress {
        self.inner.validators[self.inner.cfg.our_validator_index]
    }

    /// The owner badge's local id: the validator's node id bytes.
    fn our_owner_badge_id(&self) -> Result<NonFungibleLocalId, SimError> {
        NonFungibleLocalId::bytes(self.our_validator().as_node_id().0.to_vec())
            .map_err(|e| SimError::Engine(format!("owner badge id: {e:?}")))
    }

    /// Calls a method of our validator that its owner role guards, as the owner does: the fee
    /// locked from the owner account, a proof of the owner badge from that account, the call.
    fn call_with_owner_badge(
        &self,
        method: &str,
        args: impl ResolvableArguments,
        what: &str,
    ) -> Result<(), SimError> {
        let owner = self.our_owner_account();
        let manifest = ManifestBuilder::new()
            .lock_fee(owner, OWNER_ACTION_FEE_XRD)
            .create_proof_from_account_of_non_fungibles(
                owner,
                VALIDATOR_OWNER_BADGE,
                [self.our_owner_badge_id()?],
            )
            .call_method(self.our_validator(), method, args)
            .build();
        self.commit_as_owner(manifest, what).map(|_| ())
    }

    /// Compiles `text` with the official compiler and commits it signed by the owner account's
    /// key, as the operator's wallet would (for `radix-failover badge secure`). Returns the
    /// addresses of the components it created.
    pub fn commit_owner_manifest_text(&self, text: &str) -> Result<Vec<String>, SimError> {
        let key = self.inner.owner_public_key;
        self.commit_manifest_text_signed_by(text, &key)
    }

    /// Compiles `text` with the official compiler and commits it signed by `signer` alone
    /// (any key: an operator's cold wallet, or a thief's). Returns the addresses of the
    /// components it created.
    pub fn commit_manifest_text_signed_by(
        &self,
        text: &str,
        signer: &PublicKey,
    ) -> Result<Vec<String>, SimError> {
        let manifest = self.compile_manifest_text(text)?;
        let created = self.commit_signed_and_publish(manifest, signer, "the manifest")?;
        let enc = AddressBech32Encoder::new(&self.inner.network);
        created
            .iter()
            .map(|c| {
                enc.encode(c.as_node_id().as_bytes())
                    .map_err(|e| SimError::Engine(format!("address: {e:?}")))
            })
            .collect()
    }

    /// Compiles manifest text with the official compiler, for this network.
    pub(super) fn compile_manifest_text(
        &self,
        text: &str,
    ) -> Result<TransactionManifestV1, SimError> {
        radix_transactions::manifest::compile_manifest_v1(
            text,
            &self.inner.network,
            radix_transactions::manifest::BlobProvider::new(),
        )
        .map_err(|e| SimError::Engine(format!("compile the manifest: {e:?}")))
    }

    fn commit_as_owner(
        &self,
        manifest: TransactionManifestV1,
        what: &str,
    ) -> Result<Vec<ComponentAddress>, SimError> {
        let key = self.inner.owner_public_key;
        self.commit_signed_and_publish(manifest, &key, what)
    }

    /// Executes `manifest` signed by `signer` and commits it; an error unless the engine
    /// committed it with success. Publishes the new ledger state.
    pub(super) fn commit_signed_and_publish(
        &self,
        manifest: TransactionManifestV1,
        signer: &PublicKey,
        what: &str,
    ) -> Result<Vec<ComponentAddress>, SimError> {
        let mut ledger = lock(&self.inner.ledger);
        let created = super::access_controller::commit_signed(
            &mut ledger.engine,
            &self.inner.tx_validator,
            manifest,
            signer,
            what,
        )?;
        ledger.state_version += 1;
        let snap = self.build_snapshot(&ledger)?;
        // Ledger before nodes, the lock order of the round loop.
        let nodes = lock(&self.inner.nodes);
        self.publish(snap, &nodes);
        Ok(created)
    }
}
