//! `radix-failover badge secure` (issue 15 item 1): the manifest that puts the validator's
//! owner badge in a native access controller, built with the official manifest builder and
//! checked by a round trip through the official decompiler and compiler.
//!
//! Afterwards the daemon's key is the controller's **primary** role: it can create a proof of
//! the badge (so `update_key`, through the manifest template this module also prints), but no
//! one can take the badge out of the controller. The operator's cold account (or a badge they
//! name) is the **recovery** role: it can lock the primary role and replace the rules.
//!
//! Pure: the command (commands.rs) loads the key and prints.

use radix_common::prelude::*;
use radix_engine_interface::blueprints::access_controller::{
    AccessControllerCreateManifestInput, AccessControllerLockRecoveryFeeManifestInput,
    ManifestRuleSet, ACCESS_CONTROLLER_BLUEPRINT, ACCESS_CONTROLLER_CREATE_IDENT,
};
use radix_engine_interface::prelude::{require, AccessRule};
use radix_engine_interface::rule;
use radix_transactions::builder::ManifestBuilder;
use radix_transactions::manifest::{compile_manifest_v1, decompile, BlobProvider};
use radix_transactions::prelude::TransactionManifestV1;

use crate::tx::owner_badge_id;

/// Who holds a role of the access controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleHolder {
    /// A wallet's account: its owner (the signature of its key, or its owner badge).
    Account {
        address: String,
        badge: NonFungibleGlobalId,
    },
    /// A named non-fungible badge (`resource_...:#1#`).
    Badge(NonFungibleGlobalId),
    /// Any amount of a resource (`resource_...`).
    Resource(ResourceAddress),
}

impl RoleHolder {
    pub fn rule(&self) -> AccessRule {
        match self {
            RoleHolder::Account { badge, .. } | RoleHolder::Badge(badge) => {
                rule!(require(badge.clone()))
            }
            RoleHolder::Resource(r) => rule!(require(*r)),
        }
    }

    /// How every output names it.
    pub fn describe(&self, network: &NetworkDefinition) -> String {
        let enc = AddressBech32Encoder::new(network);
        match self {
            RoleHolder::Account { address, .. } => {
                format!("the account {address} (its owner's signature)")
            }
            RoleHolder::Badge(id) => format!("the badge {}", id.to_canonical_string(&enc)),
            RoleHolder::Resource(r) => format!(
                "any amount of {}",
                enc.encode(r.as_node_id().as_bytes()).unwrap_or_default()
            ),
        }
    }
}

/// Parses `--recovery` / `--confirmation`: an account address, `resource_...:<local id>`, or
/// a resource address. Errors name the value and what is accepted.
pub fn parse_holder(text: &str, network: &NetworkDefinition) -> Result<RoleHolder, String> {
    let t = text.trim();
    let accepted = "give an account address (account_...), a badge (resource_...:#1# or resource_...:<id>) or a resource address (resource_...)";
    let dec = AddressBech32Decoder::new(network);
    if t.contains(':') {
        return NonFungibleGlobalId::try_from_canonical_string(&dec, t)
            .map(RoleHolder::Badge)
            .map_err(|e| {
                format!(
                    "{t:?} is not a badge of network {} ({e:?}); {accepted}",
                    network.logical_name
                )
            });
    }
    let (entity, bytes) = dec.validate_and_decode(t).map_err(|e| {
        format!(
            "{t:?} is not an address of network {} ({e:?}); {accepted}",
            network.logical_name
        )
    })?;
    let node: [u8; NodeId::LENGTH] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("{t:?} does not decode to an entity; {accepted}"))?;
    let node = NodeId(node);
    let hash = || NonFungibleLocalId::bytes(node.as_bytes()[1..].to_vec());
    let badge = match entity {
        EntityType::GlobalPreallocatedSecp256k1Account => NonFungibleGlobalId::new(
            SECP256K1_SIGNATURE_RESOURCE,
            hash().map_err(|e| format!("{e:?}"))?,
        ),
        EntityType::GlobalPreallocatedEd25519Account => NonFungibleGlobalId::new(
            ED25519_SIGNATURE_RESOURCE,
            hash().map_err(|e| format!("{e:?}"))?,
        ),
        EntityType::GlobalAccount => NonFungibleGlobalId::new(
            ACCOUNT_OWNER_BADGE,
            NonFungibleLocalId::bytes(node.as_bytes().to_vec()).map_err(|e| format!("{e:?}"))?,
        ),
        EntityType::GlobalFungibleResourceManager
        | EntityType::GlobalNonFungibleResourceManager => {
            return Ok(RoleHolder::Resource(
                ResourceAddress::try_from(bytes.as_slice()).map_err(|e| format!("{e:?}"))?,
            ))
        }
        other => {
            return Err(format!(
                "{t:?} is a {other:?}, not an account or a resource; {accepted}"
            ))
        }
    };
    Ok(RoleHolder::Account {
        address: t.to_string(),
        badge,
    })
}

/// What `badge secure` is asked for.
#[derive(Debug, Clone)]
pub struct SecureRequest {
    pub network: NetworkDefinition,
    pub validator: ComponentAddress,
    /// The account that holds the badge now (the daemon key's account).
    pub account: ComponentAddress,
    /// The daemon's key: the primary role.
    pub daemon_key: PublicKey,
    pub recovery: RoleHolder,
    /// Default: the recovery role's holder.
    pub confirmation: Option<RoleHolder>,
    pub timed_recovery_days: Option<u32>,
    pub fee_xrd: Decimal,
    /// XRD moved from the account into the controller's recovery fee vault (zero: none), so
    /// the recovery role can pay a lock or a recovery from there (`badge lock
    /// --fee-from-controller`) even when its own account is empty.
    pub recovery_fee_xrd: Decimal,
}

/// The manifest, as the official decompiler prints it, compiled back to the same instructions.
#[derive(Debug, Clone)]
pub struct SecureManifest {
    pub text: String,
    pub manifest: TransactionManifestV1,
}

/// The longest timed recovery accepted (the engine counts minutes in a u32).
pub const MAX_TIMED_RECOVERY_DAYS: u32 = 365;

pub fn secure_manifest(r: &SecureRequest) -> Result<SecureManifest, String> {
    let id = owner_badge_id(&r.validator).map_err(|e| e.to_string())?;
    let minutes = match r.timed_recovery_days {
        None => None,
        Some(d) if d == 0 || d > MAX_TIMED_RECOVERY_DAYS => {
            return Err(format!(
                "--timed-recovery-days {d}: give 1 to {MAX_TIMED_RECOVERY_DAYS} days (or leave it out: then every recovery needs the confirmation role too)"
            ))
        }
        Some(d) => Some(d * 24 * 60),
    };
    let primary = rule!(require(NonFungibleGlobalId::from_public_key(r.daemon_key)));
    let recovery = r.recovery.rule();
    let confirmation = r.confirmation.as_ref().unwrap_or(&r.recovery).rule();
    if r.recovery_fee_xrd.is_negative() {
        return Err(format!(
            "--recovery-fee-xrd {}: give zero (no fee vault) or more",
            r.recovery_fee_xrd
        ));
    }
    // The controller's address is reserved first, so the same manifest can fund its fee vault.
    let builder = ManifestBuilder::new()
        .lock_fee(r.account, r.fee_xrd)
        .withdraw_non_fungibles_from_account(r.account, VALIDATOR_OWNER_BADGE, [id])
        .take_all_from_worktop(VALIDATOR_OWNER_BADGE, "owner_badge")
        .allocate_global_address(
            ACCESS_CONTROLLER_PACKAGE,
            ACCESS_CONTROLLER_BLUEPRINT,
            "controller_reservation",
            "controller",
        )
        .call_function_with_name_lookup(
            ACCESS_CONTROLLER_PACKAGE,
            ACCESS_CONTROLLER_BLUEPRINT,
            ACCESS_CONTROLLER_CREATE_IDENT,
            |lookup| AccessControllerCreateManifestInput {
                controlled_asset: lookup.bucket("owner_badge"),
                rule_set: ManifestRuleSet {
                    primary_role: primary.into(),
                    recovery_role: recovery.into(),
                    confirmation_role: confirmation.into(),
                },
                timed_recovery_delay_in_minutes: minutes,
                address_reservation: Some(lookup.address_reservation("controller_reservation")),
            },
        );
    let builder = if r.recovery_fee_xrd.is_positive() {
        builder
            .withdraw_from_account(r.account, XRD, r.recovery_fee_xrd)
            .take_all_from_worktop(XRD, "recovery_fee")
            .call_method_with_name_lookup("controller", "contribute_recovery_fee", |lookup| {
                (lookup.bucket("recovery_fee"),)
            })
    } else {
        builder
    };
    round_trip(builder.build(), &r.network)
}

/// What `badge lock` is asked for.
#[derive(Debug, Clone)]
pub struct LockRequest {
    pub network: NetworkDefinition,
    pub controller: ComponentAddress,
    /// The recovery role's holder, as `badge secure --recovery` took it.
    pub recovery: RoleHolder,
    /// Pays the fee and, for a badge or resource, holds it.
    pub fee_account: ComponentAddress,
    pub fee_xrd: Decimal,
    /// Lock the fee from the controller's recovery fee vault (`lock_recovery_fee`, which the
    /// recovery role may call) instead of from the fee account.
    pub fee_from_controller: bool,
}

/// `lock_primary_role` on the controller, signed by the recovery role: the fee from the fee
/// account, a proof of the recovery badge from it when the role is a badge (an account's
/// signature proves itself), the call. Checked by a round trip through the official
/// decompiler and compiler.
pub fn lock_manifest(r: &LockRequest) -> Result<SecureManifest, String> {
    let builder = if r.fee_from_controller {
        ManifestBuilder::new().call_method(
            r.controller,
            "lock_recovery_fee",
            AccessControllerLockRecoveryFeeManifestInput { amount: r.fee_xrd },
        )
    } else {
        ManifestBuilder::new().lock_fee(r.fee_account, r.fee_xrd)
    };
    let builder = match &r.recovery {
        RoleHolder::Account { .. } => builder,
        RoleHolder::Badge(id) => builder.create_proof_from_account_of_non_fungibles(
            r.fee_account,
            id.resource_address(),
            [id.local_id().clone()],
        ),
        RoleHolder::Resource(res) => {
            builder.create_proof_from_account_of_amount(r.fee_account, *res, 1)
        }
    };
    let manifest = builder
        .call_method(r.controller, "lock_primary_role", ())
        .build();
    round_trip(manifest, &r.network)
}

/// The manifest as the official decompiler prints it, refused unless the official compiler
/// gives back the same instructions.
fn round_trip(
    manifest: TransactionManifestV1,
    network: &NetworkDefinition,
) -> Result<SecureManifest, String> {
    let text = decompile(&manifest, network).map_err(|e| format!("decompile: {e:?}"))?;
    let compiled = compile_manifest_v1(&text, network, BlobProvider::new())
        .map_err(|e| format!("the official compiler refuses the printed manifest: {e:?}"))?;
    if compiled.instructions != manifest.instructions {
        return Err("the printed manifest does not compile back to the same instructions".into());
    }
    Ok(SecureManifest { text, manifest })
}

/// An account address of `network`.
pub fn parse_account(text: &str, network: &NetworkDefinition) -> Result<ComponentAddress, String> {
    let t = text.trim();
    let (entity, bytes) = AddressBech32Decoder::new(network)
        .validate_and_decode(t)
        .map_err(|e| {
            format!(
                "{t:?} is not an address of network {} ({e:?}); give an account address (account_...)",
                network.logical_name
            )
        })?;
    if !entity.is_global_account() {
        return Err(format!(
            "{t:?} is a {entity:?}, not an account; give an account address (account_...)"
        ));
    }
    ComponentAddress::try_from(bytes.as_slice()).map_err(|e| format!("{t:?}: {e:?}"))
}

/// A component's address text.
pub fn address_text(c: &ComponentAddress, network: &NetworkDefinition) -> String {
    AddressBech32Encoder::new(network)
        .encode(c.as_node_id().as_bytes())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> NetworkDefinition {
        NetworkDefinition::stokenet()
    }

    fn enc(node: &[u8]) -> String {
        AddressBech32Encoder::new(&net()).encode(node).unwrap()
    }

    fn key(seed: u64) -> PublicKey {
        PublicKey::Ed25519(Ed25519PrivateKey::from_u64(seed).unwrap().public_key())
    }

    fn request(recovery: RoleHolder) -> SecureRequest {
        let validator =
            ComponentAddress::new_or_panic([EntityType::GlobalValidator as u8; NodeId::LENGTH]);
        SecureRequest {
            network: net(),
            validator,
            account: ComponentAddress::preallocated_account_from_public_key(&key(1)),
            daemon_key: key(1),
            recovery,
            confirmation: None,
            timed_recovery_days: Some(14),
            fee_xrd: Decimal::from(10),
            recovery_fee_xrd: Decimal::from(30),
        }
    }

    #[test]
    fn a_cold_account_is_its_owners_signature() {
        let cold = key(7);
        let account = ComponentAddress::preallocated_account_from_public_key(&cold);
        let h = parse_holder(&enc(account.as_node_id().as_bytes()), &net()).unwrap();
        match &h {
            RoleHolder::Account { badge, .. } => {
                assert_eq!(badge, &NonFungibleGlobalId::from_public_key(cold))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn badges_resources_and_bad_values() {
        let xrd = enc(XRD.as_node_id().as_bytes());
        assert_eq!(
            parse_holder(&xrd, &net()).unwrap(),
            RoleHolder::Resource(XRD)
        );
        let badge = format!("{}:#1#", enc(VALIDATOR_OWNER_BADGE.as_node_id().as_bytes()));
        assert!(matches!(
            parse_holder(&badge, &net()).unwrap(),
            RoleHolder::Badge(_)
        ));
        let e = parse_holder("account_rdx1nope", &net()).unwrap_err();
        assert!(
            e.contains("is not an address of network stokenet")
                && e.contains("give an account address"),
            "{e}"
        );
        let mainnet_xrd = AddressBech32Encoder::new(&NetworkDefinition::mainnet())
            .encode(XRD.as_node_id().as_bytes())
            .unwrap();
        assert!(
            parse_holder(&mainnet_xrd, &net()).is_err(),
            "another network's address"
        );
    }

    #[test]
    fn the_manifest_moves_the_badge_into_an_access_controller_and_compiles() {
        let cold = ComponentAddress::preallocated_account_from_public_key(&key(7));
        let h = parse_holder(&enc(cold.as_node_id().as_bytes()), &net()).unwrap();
        let m = secure_manifest(&request(h)).unwrap();
        for needle in [
            "lock_fee",
            "\"withdraw_non_fungibles\"",
            "TAKE_ALL_FROM_WORKTOP",
            "ALLOCATE_GLOBAL_ADDRESS",
            "CREATE_ACCESS_CONTROLLER",
            "20160u32",
            "Decimal(\"30\")",
            "\"contribute_recovery_fee\"",
        ] {
            assert!(m.text.contains(needle), "{needle} missing:\n{}", m.text);
        }
        // The controller created is the one funded: its reserved address, by name.
        assert!(
            m.text
                .contains("AddressReservation(\"controller_reservation\")")
                && m.text.contains("NamedAddress(\"controller\")"),
            "{}",
            m.text
        );
        let e = AddressBech32Encoder::new(&net());
        let daemon = NonFungibleGlobalId::from_public_key(key(1)).to_canonical_string(&e);
        let cold_sig = NonFungibleGlobalId::from_public_key(key(7)).to_canonical_string(&e);
        assert_eq!(
            m.text.matches(&daemon).count(),
            1,
            "primary: the daemon key\n{}",
            m.text
        );
        assert_eq!(
            m.text.matches(&cold_sig).count(),
            2,
            "recovery and confirmation: the cold account\n{}",
            m.text
        );
    }

    #[test]
    fn no_fee_vault_when_asked_for_none_and_a_negative_amount_is_refused() {
        let mut r = request(RoleHolder::Resource(XRD));
        r.recovery_fee_xrd = Decimal::ZERO;
        let m = secure_manifest(&r).unwrap();
        assert!(
            !m.text.contains("contribute_recovery_fee") && !m.text.contains("\"withdraw\""),
            "{}",
            m.text
        );
        r.recovery_fee_xrd = Decimal::from(-1);
        assert!(secure_manifest(&r)
            .unwrap_err()
            .contains("--recovery-fee-xrd -1"));
    }

    #[test]
    fn timed_recovery_is_bounded() {
        let mut r = request(RoleHolder::Resource(XRD));
        r.timed_recovery_days = Some(0);
        assert!(secure_manifest(&r)
            .unwrap_err()
            .contains("give 1 to 365 days"));
        r.timed_recovery_days = None;
        assert!(
            !secure_manifest(&r).unwrap().text.contains("u32"),
            "no timed recovery"
        );
    }

    #[test]
    fn the_lock_manifest_locks_the_primary_role_with_the_recovery_badges_proof() {
        let ac = ComponentAddress::new_or_panic(
            [EntityType::GlobalAccessController as u8; NodeId::LENGTH],
        );
        let cold = ComponentAddress::preallocated_account_from_public_key(&key(7));
        let cold_text = enc(cold.as_node_id().as_bytes());
        let r = LockRequest {
            network: net(),
            controller: ac,
            recovery: parse_holder(&cold_text, &net()).unwrap(),
            fee_account: parse_account(&cold_text, &net()).unwrap(),
            fee_xrd: Decimal::from(10),
            fee_from_controller: false,
        };
        let m = lock_manifest(&r).unwrap();
        assert!(m.text.contains("\"lock_primary_role\""), "{}", m.text);
        assert!(
            m.text.contains(&enc(ac.as_node_id().as_bytes())),
            "{}",
            m.text
        );
        assert!(
            !m.text.contains("create_proof"),
            "an account's signature proves itself"
        );
        let badge = format!("{}:#1#", enc(VALIDATOR_OWNER_BADGE.as_node_id().as_bytes()));
        let with_badge = LockRequest {
            recovery: parse_holder(&badge, &net()).unwrap(),
            ..r
        };
        let m = lock_manifest(&with_badge).unwrap();
        assert!(
            m.text.contains("create_proof_of_non_fungibles"),
            "{}",
            m.text
        );
        assert!(parse_account(&badge, &net()).is_err());

        // The fee from the controller's recovery fee vault instead of the account.
        let from_vault = LockRequest {
            fee_from_controller: true,
            ..with_badge
        };
        let m = lock_manifest(&from_vault).unwrap();
        assert!(
            m.text.contains("\"lock_recovery_fee\"") && !m.text.contains("\"lock_fee\""),
            "{}",
            m.text
        );
    }
}
