//! What the validator's owner (or whoever holds the owner account's key) can do on ledger
//! behind the watcher's back: real engine transactions, authorised by the owner account's
//! signature, for the tests of the daemon's per-epoch pre-flight re-check.

use radix_common::prelude::*;
use radix_transactions::builder::ManifestBuilder;
use radix_transactions::manifest::BuildableManifest;

use super::{lock, Sim, SimError};

impl Sim {
    /// Moves our validator's owner badge out of the owner account, to the genesis staker's
    /// account, in one committed transaction. The daemon can then no longer sign `update_key`
    /// (the badge proof is gone): its next pre-flight re-check must say so. Returns the
    /// account the badge went to.
    pub fn move_owner_badge_away(&self) -> Result<String, SimError> {
        let i = self.inner.cfg.our_validator_index;
        let owner = self.inner.owner_accounts[i];
        let validator = self.inner.validators[i];
        let id = NonFungibleLocalId::bytes(validator.as_node_id().0.to_vec())
            .map_err(|e| SimError::Engine(format!("owner badge id: {e:?}")))?;
        let manifest = ManifestBuilder::new()
            .lock_fee(owner, 10)
            .withdraw_non_fungibles_from_account(owner, VALIDATOR_OWNER_BADGE, [id])
            .try_deposit_entire_worktop_or_abort(self.inner.staker_account, None)
            .build();
        let proofs = btreeset![NonFungibleGlobalId::from_public_key(
            &self.inner.owner_public_key
        )];
        let mut ledger = lock(&self.inner.ledger);
        let nonce = ledger.engine.next_test_nonce();
        let executable = manifest
            .into_executable_with_proofs(nonce, proofs, &self.inner.tx_validator)
            .map_err(|e| SimError::Engine(format!("move the owner badge: {e}")))?;
        let receipt = ledger.engine.execute_user(executable);
        if !receipt.is_commit_success() {
            let why: String = format!("{:?}", receipt.result).chars().take(400).collect();
            return Err(SimError::Engine(format!(
                "move the owner badge: not committed: {why}"
            )));
        }
        drop(ledger);
        let to = AddressBech32Encoder::new(&self.inner.network)
            .encode(self.inner.staker_account.as_node_id().as_bytes())
            .map_err(|e| SimError::Engine(format!("address: {e:?}")))?;
        tracing::info!(to = %to, "the owner badge was moved out of the owner account");
        Ok(to)
    }
}
