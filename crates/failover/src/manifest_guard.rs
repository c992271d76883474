//! What a failover transaction may do, checked on the compiled manifest before it is signed.
//!
//! Protects against: a manifest template (or a config pointing at one) that someone other than
//! the operator edited, or that the operator got wrong, turning the daemon's hot key into a
//! signer for something else: a withdrawal, a deposit elsewhere, a burn, a call on a component
//! nobody reviewed. The daemon signs without a human looking, so the manifest is checked
//! instruction by instruction with the official instruction types (`InstructionV1` and its
//! `effect()`), never by reading the text.
//!
//! Allowed, and nothing else:
//! - on the key-file account: `lock_fee` and `create_proof_of_amount` / `_of_non_fungibles`
//!   (the fee and the owner-badge proof);
//! - proofs: creating them from the auth zone, cloning, dropping, pushing to and popping from the
//!   auth zone;
//! - `update_key` on our validator, with exactly the key the daemon means to set, once;
//! - the methods the config lists in `manifest_allowed_calls` (an access manager that produces
//!   the badge proof), on those components only.
//!
//! Every argument is checked too: a bucket, an address reservation or an expression (such as
//! `ENTIRE_WORKTOP`) in an argument hands resources or rights to the callee, so it is refused.
//! Anything that takes from or returns to the worktop, burns, asserts on the worktop, calls a
//! function (blueprint), a module method (metadata, royalty, roles), a vault directly, or any
//! other component is refused, naming the instruction.
//!
//! Caveat: an allowed access-manager method is trusted to do what its name says; the check
//! cannot see inside it. List only components you deployed or reviewed.

use radix_common::crypto::Secp256k1PublicKey;
use radix_common::data::manifest::{to_manifest_value, ManifestCustomValue, ManifestValue};
use radix_common::network::NetworkDefinition;
use radix_common::prelude::{ManifestGlobalAddress, Value};
use radix_common::types::ComponentAddress;
use radix_engine_interface::api::ModuleId;
use radix_engine_interface::blueprints::account::{
    ACCOUNT_CREATE_PROOF_OF_AMOUNT_IDENT, ACCOUNT_CREATE_PROOF_OF_NON_FUNGIBLES_IDENT,
    ACCOUNT_LOCK_FEE_IDENT,
};
use radix_engine_interface::blueprints::consensus_manager::VALIDATOR_UPDATE_KEY_IDENT;
use radix_transactions::manifest::{
    InstructionRefMapper, InvocationKind, ManifestInstruction, ManifestInstructionEffect,
    ManifestInstructionSet, ProofDestination,
};
use radix_transactions::model::InstructionV1;

use crate::keys::encode_address;

/// Methods of the key-file account a failover needs: the fee and the badge proof. Withdrawals,
/// deposits and everything else an account can do are not here on purpose.
const ACCOUNT_METHODS: [&str; 3] = [
    ACCOUNT_LOCK_FEE_IDENT,
    ACCOUNT_CREATE_PROOF_OF_AMOUNT_IDENT,
    ACCOUNT_CREATE_PROOF_OF_NON_FUNGIBLES_IDENT,
];

/// A component the config allows the manifest to call, and which of its methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedCall {
    pub component: ComponentAddress,
    pub methods: Vec<String>,
}

/// Who is who in the manifest being checked.
#[derive(Debug, Clone, Copy)]
pub struct ManifestRules<'a> {
    pub network: &'a NetworkDefinition,
    /// The key-file account (pays the fee, holds the badge).
    pub account: ComponentAddress,
    pub validator: ComponentAddress,
    /// The key `update_key` must set.
    pub new_key: &'a Secp256k1PublicKey,
    pub allowed_calls: &'a [AllowedCall],
}

/// Why a manifest is refused. `index` counts from 1, as an operator reads the manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestRefusal {
    #[error("instruction {index} ({instruction}) is refused: {reason}; a failover transaction may only lock the fee and create proofs on the key-file account, handle proofs, call update_key on the validator and call the methods listed in manifest_allowed_calls (fix: remove the instruction from the template; for an access-manager component, list it and the method in manifest_allowed_calls, see docs/config.md)")]
    Instruction {
        index: usize,
        instruction: String,
        reason: String,
    },
    #[error("the manifest calls update_key on the validator {count} times; fix: call it exactly once, as `CALL_METHOD Address(\"{{validator}}\") \"update_key\" Bytes(\"{{new_key}}\");`")]
    UpdateKeyCount { count: usize },
}

/// Checks every instruction of a compiled manifest against the rules above.
pub fn check_manifest(
    instructions: &[InstructionV1],
    rules: &ManifestRules,
) -> Result<(), ManifestRefusal> {
    let mut update_keys = 0;
    for (i, instruction) in instructions.iter().enumerate() {
        let refuse = |instruction: String, reason: &str| ManifestRefusal::Instruction {
            index: i + 1,
            instruction,
            reason: reason.to_string(),
        };
        let name = instruction.map_ref(IdentOf).to_string();
        match instruction.effect() {
            ManifestInstructionEffect::CreateProof { .. }
            | ManifestInstructionEffect::CloneProof { .. }
            | ManifestInstructionEffect::DropManyProofs { .. } => {}
            ManifestInstructionEffect::ConsumeProof { destination, .. } => match destination {
                ProofDestination::AuthZone | ProofDestination::Drop => {}
                ProofDestination::Invocation(_) => {
                    return Err(refuse(name, "it passes a proof to a call"))
                }
            },
            ManifestInstructionEffect::Invocation { kind, args } => {
                let call = describe_call(&name, &kind, rules.network);
                if let Some(reason) = refused_argument(args) {
                    return Err(refuse(call, reason));
                }
                match allowed_invocation(&kind, args, rules) {
                    Ok(is_update_key) => update_keys += usize::from(is_update_key),
                    Err(reason) => return Err(refuse(call, reason)),
                }
            }
            ManifestInstructionEffect::CreateBucket { .. } => {
                return Err(refuse(
                    name,
                    "it takes resources from the worktop (to move them somewhere)",
                ))
            }
            ManifestInstructionEffect::ConsumeBucket { .. } => {
                return Err(refuse(name, "it moves or burns a bucket of resources"))
            }
            ManifestInstructionEffect::ResourceAssertion { .. } => {
                return Err(refuse(
                    name,
                    "it asserts on resources on the worktop, which only a withdrawal puts there",
                ))
            }
            ManifestInstructionEffect::CreateAddressAndReservation { .. } => {
                return Err(refuse(name, "it allocates an address for a new component"))
            }
            ManifestInstructionEffect::Verification { .. } => {
                return Err(refuse(name, "it is not part of a failover transaction"))
            }
        }
    }
    if update_keys != 1 {
        return Err(ManifestRefusal::UpdateKeyCount { count: update_keys });
    }
    Ok(())
}

/// `Ok(true)`: the `update_key` call; `Ok(false)`: another allowed call; `Err`: why refused.
fn allowed_invocation(
    kind: &InvocationKind,
    args: &ManifestValue,
    rules: &ManifestRules,
) -> Result<bool, &'static str> {
    let (address, module_id, method) = match kind {
        InvocationKind::Method {
            address,
            module_id,
            method,
        } => (address, module_id, *method),
        InvocationKind::Function { .. } => return Err("it calls a blueprint function"),
        InvocationKind::DirectMethod { .. } => return Err("it calls a vault directly"),
        InvocationKind::YieldToParent | InvocationKind::YieldToChild { .. } => {
            return Err("it yields to another intent")
        }
    };
    if *module_id != ModuleId::Main {
        return Err("it calls a metadata, royalty or role-assignment method");
    }
    let Some(component) = static_component(address) else {
        return Err("it calls a component by a name allocated in the manifest, or not a component");
    };
    if component == rules.validator {
        if method != VALIDATOR_UPDATE_KEY_IDENT {
            return Err("the only validator method a failover calls is update_key");
        }
        return match to_manifest_value(&(*rules.new_key,)) {
            Ok(expected) if &expected == args => Ok(true),
            _ => Err("update_key must set exactly the configured key, {new_key}"),
        };
    }
    if component == rules.account {
        return if ACCOUNT_METHODS.contains(&method) {
            Ok(false)
        } else {
            Err("on the key-file account only lock_fee and create_proof_of_* are allowed")
        };
    }
    match rules.allowed_calls.iter().find(|c| c.component == component) {
        Some(c) if c.methods.iter().any(|m| m == method) => Ok(false),
        Some(_) => Err("this method of the component is not listed in manifest_allowed_calls"),
        None => Err("it calls a component that is not the account, the validator or listed in manifest_allowed_calls"),
    }
}

fn static_component(address: &ManifestGlobalAddress) -> Option<ComponentAddress> {
    match address {
        ManifestGlobalAddress::Static(g) => ComponentAddress::try_from(g.as_node_id().0).ok(),
        ManifestGlobalAddress::Named(_) => None,
    }
}

/// Buckets, address reservations and expressions passed to a call give the callee resources
/// (or the right to create a component); proofs, addresses and plain values do not.
fn refused_argument(value: &ManifestValue) -> Option<&'static str> {
    match value {
        Value::Custom { value } => match value {
            ManifestCustomValue::Bucket(_) => Some("it passes a bucket of resources to the call"),
            ManifestCustomValue::Expression(_) => {
                Some("it passes a worktop or auth-zone expression to the call")
            }
            ManifestCustomValue::AddressReservation(_) => {
                Some("it passes an address reservation to the call")
            }
            _ => None,
        },
        Value::Tuple { fields } | Value::Enum { fields, .. } => {
            fields.iter().find_map(refused_argument)
        }
        Value::Array { elements, .. } => elements.iter().find_map(refused_argument),
        Value::Map { entries, .. } => entries
            .iter()
            .find_map(|(k, v)| refused_argument(k).or_else(|| refused_argument(v))),
        _ => None,
    }
}

/// `CALL_METHOD "withdraw" on account_…` for messages.
fn describe_call(name: &str, kind: &InvocationKind, network: &NetworkDefinition) -> String {
    match kind {
        InvocationKind::Method {
            address, method, ..
        } => match address {
            ManifestGlobalAddress::Static(g) => format!(
                "{name} \"{method}\" on {}",
                encode_address(g.as_node_id().as_bytes(), network)
            ),
            ManifestGlobalAddress::Named(_) => format!("{name} \"{method}\" on a named address"),
        },
        InvocationKind::Function {
            blueprint,
            function,
            ..
        } => format!("{name} {blueprint}::{function}"),
        InvocationKind::DirectMethod { method, .. } => format!("{name} \"{method}\""),
        _ => name.to_string(),
    }
}

/// The instruction's manifest name (`TAKE_FROM_WORKTOP`, `CALL_METHOD`, ...), from the official
/// instruction types.
struct IdentOf;
impl InstructionRefMapper for IdentOf {
    type Output<'i> = &'static str;
    fn apply<'i>(self, instruction: &'i impl ManifestInstruction) -> Self::Output<'i> {
        ident_of(instruction)
    }
}

fn ident_of<T: ManifestInstruction>(_: &T) -> &'static str {
    T::IDENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use radix_common::crypto::{Ed25519PrivateKey, PublicKey};
    use radix_common::types::EntityType;
    use radix_transactions::manifest::{compile_manifest_v1, BlobProvider};

    const BACKUP: &str = "029932e6683332a3c0d8cd2862c129e0c2501f45c17c88eecac27cc22baf7f80ed";
    const OTHER_KEY: &str = "02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004";

    fn component(entity: EntityType, fill: u8) -> ComponentAddress {
        let mut id = [fill; 30];
        id[0] = entity as u8;
        ComponentAddress::try_from(id).unwrap()
    }

    struct Fixture {
        network: NetworkDefinition,
        account: ComponentAddress,
        validator: ComponentAddress,
        manager: ComponentAddress,
        stranger: ComponentAddress,
        key: Secp256k1PublicKey,
    }

    impl Fixture {
        fn new() -> Fixture {
            let notary = Ed25519PrivateKey::from_u64(42).unwrap();
            Fixture {
                network: NetworkDefinition::simulator(),
                account: ComponentAddress::preallocated_account_from_public_key(
                    &PublicKey::Ed25519(notary.public_key()),
                ),
                validator: component(EntityType::GlobalValidator, 9),
                manager: component(EntityType::GlobalGenericComponent, 7),
                stranger: component(EntityType::GlobalGenericComponent, 8),
                key: crate::config::parse_secp256k1_public_key(BACKUP).unwrap(),
            }
        }
        fn addr(&self, c: ComponentAddress) -> String {
            encode_address(c.as_node_id().as_bytes(), &self.network)
        }
        /// `{account}`, `{validator}`, `{manager}`, `{stranger}`, `{new_key}` filled in.
        fn check(&self, text: &str, allowed: &[AllowedCall]) -> Result<(), ManifestRefusal> {
            let text = text
                .replace("{account}", &self.addr(self.account))
                .replace("{validator}", &self.addr(self.validator))
                .replace("{manager}", &self.addr(self.manager))
                .replace("{stranger}", &self.addr(self.stranger))
                .replace("{new_key}", BACKUP)
                .replace(
                    "{xrd}",
                    &encode_address(
                        radix_common::prelude::XRD.as_node_id().as_bytes(),
                        &self.network,
                    ),
                )
                .replace(
                    "{badge}",
                    &encode_address(
                        radix_common::prelude::VALIDATOR_OWNER_BADGE
                            .as_node_id()
                            .as_bytes(),
                        &self.network,
                    ),
                );
            let manifest = compile_manifest_v1(&text, &self.network, BlobProvider::new())
                .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
            check_manifest(
                &manifest.instructions,
                &ManifestRules {
                    network: &self.network,
                    account: self.account,
                    validator: self.validator,
                    new_key: &self.key,
                    allowed_calls: allowed,
                },
            )
        }
        fn manager_allows(&self, method: &str) -> Vec<AllowedCall> {
            vec![AllowedCall {
                component: self.manager,
                methods: vec![method.to_string()],
            }]
        }
    }

    const FEE: &str = "CALL_METHOD Address(\"{account}\") \"lock_fee\" Decimal(\"10\");\n";
    const UPDATE: &str =
        "CALL_METHOD Address(\"{validator}\") \"update_key\" Bytes(\"{new_key}\");\n";

    /// The refused instruction's number and the words naming it, or a panic if it passed.
    fn refused(r: Result<(), ManifestRefusal>) -> (usize, String) {
        match r {
            Err(ManifestRefusal::Instruction {
                index,
                instruction,
                reason,
            }) => (index, format!("{instruction}: {reason}")),
            other => panic!("expected a refused instruction, got {other:?}"),
        }
    }

    #[test]
    fn the_built_in_shape_and_proof_handling_pass() {
        let f = Fixture::new();
        let builtin = format!(
            "{FEE}CALL_METHOD Address(\"{{account}}\") \"create_proof_of_non_fungibles\" Address(\"{{badge}}\") Array<NonFungibleLocalId>(NonFungibleLocalId(\"[01]\"));\n{UPDATE}"
        );
        f.check(&builtin, &[]).unwrap();
        let proofs = format!(
            "{FEE}CALL_METHOD Address(\"{{account}}\") \"create_proof_of_amount\" Address(\"{{badge}}\") Decimal(\"1\");
POP_FROM_AUTH_ZONE Proof(\"p\");
CLONE_PROOF Proof(\"p\") Proof(\"q\");
DROP_PROOF Proof(\"q\");
PUSH_TO_AUTH_ZONE Proof(\"p\");
CREATE_PROOF_FROM_AUTH_ZONE_OF_ALL Address(\"{{badge}}\") Proof(\"r\");
DROP_NAMED_PROOFS;
{UPDATE}DROP_ALL_PROOFS;\n"
        );
        f.check(&proofs, &[]).unwrap();
    }

    #[test]
    fn moving_resources_is_refused_naming_the_instruction() {
        let f = Fixture::new();
        let withdraw = format!(
            "{FEE}CALL_METHOD Address(\"{{account}}\") \"withdraw\" Address(\"{{xrd}}\") Decimal(\"100\");
TAKE_ALL_FROM_WORKTOP Address(\"{{xrd}}\") Bucket(\"b\");
CALL_METHOD Address(\"{{stranger}}\") \"try_deposit_or_abort\" Bucket(\"b\") None;
{UPDATE}"
        );
        let (i, what) = refused(f.check(&withdraw, &[]));
        assert_eq!(i, 2, "{what}");
        assert!(
            what.contains("CALL_METHOD \"withdraw\" on account_sim1"),
            "{what}"
        );

        // Each resource-moving instruction on its own, after an (allowed) prefix.
        let cases = [
            ("TAKE_ALL_FROM_WORKTOP Address(\"{xrd}\") Bucket(\"b\");", "TAKE_ALL_FROM_WORKTOP"),
            ("TAKE_FROM_WORKTOP Address(\"{xrd}\") Decimal(\"1\") Bucket(\"b\");", "TAKE_FROM_WORKTOP"),
            ("ASSERT_WORKTOP_CONTAINS Address(\"{xrd}\") Decimal(\"1\");", "ASSERT_WORKTOP_CONTAINS"),
            ("ASSERT_WORKTOP_CONTAINS_ANY Address(\"{xrd}\");", "ASSERT_WORKTOP_CONTAINS_ANY"),
            ("CALL_METHOD Address(\"{account}\") \"deposit_batch\" Expression(\"ENTIRE_WORKTOP\");", "\"deposit_batch\""),
            ("CALL_METHOD Address(\"{account}\") \"lock_fee_and_withdraw\" Decimal(\"1\") Address(\"{xrd}\") Decimal(\"1\");", "\"lock_fee_and_withdraw\""),
            ("CALL_METHOD Address(\"{stranger}\") \"free_xrd\";", "\"free_xrd\" on component_sim1"),
            ("CALL_FUNCTION Address(\"package_sim1pkgxxxxxxxxxfaucetxxxxxxxxx000034355863xxxxxxxxxhkrefh\") \"Faucet\" \"new\" Address(\"{xrd}\") Decimal(\"1\");", "CALL_FUNCTION Faucet::new"),
            ("CALL_METHOD Address(\"{validator}\") \"update_fee\" Decimal(\"1\");", "\"update_fee\""),
            ("SET_METADATA Address(\"{validator}\") \"name\" Enum<Metadata::String>(\"x\");", "CALL_METADATA_METHOD"),
            ("ALLOCATE_GLOBAL_ADDRESS Address(\"package_sim1pkgxxxxxxxxxfaucetxxxxxxxxx000034355863xxxxxxxxxhkrefh\") \"Faucet\" AddressReservation(\"r\") NamedAddress(\"a\");", "ALLOCATE_GLOBAL_ADDRESS"),
        ];
        for (instruction, named) in cases {
            let text = format!("{FEE}{instruction}\n{UPDATE}");
            let (i, what) = refused(f.check(&text, &[]));
            assert_eq!(i, 2, "{instruction}: {what}");
            assert!(what.contains(named), "{instruction}: {what}");
        }
        let burn = format!(
            "{FEE}TAKE_ALL_FROM_WORKTOP Address(\"{{xrd}}\") Bucket(\"b\");\nBURN_RESOURCE Bucket(\"b\");\n{UPDATE}"
        );
        assert!(refused(f.check(&burn, &[]))
            .1
            .contains("TAKE_ALL_FROM_WORKTOP"));
    }

    #[test]
    fn update_key_is_ours_exactly_once_with_the_configured_key() {
        let f = Fixture::new();
        let other_key = UPDATE.replace("{new_key}", OTHER_KEY);
        let (_, what) = refused(f.check(&format!("{FEE}{other_key}"), &[]));
        assert!(what.contains("configured key"), "{what}");
        assert_eq!(
            f.check(FEE, &[]),
            Err(ManifestRefusal::UpdateKeyCount { count: 0 })
        );
        assert_eq!(
            f.check(&format!("{FEE}{UPDATE}{UPDATE}"), &[]),
            Err(ManifestRefusal::UpdateKeyCount { count: 2 })
        );
        // update_key on someone else's validator is a call on a stranger component.
        let elsewhere = UPDATE.replace("{validator}", "{stranger}");
        let (_, what) = refused(f.check(&format!("{FEE}{elsewhere}{UPDATE}"), &[]));
        assert!(what.contains("\"update_key\" on component_sim1"), "{what}");
    }

    #[test]
    fn an_access_manager_is_callable_only_as_listed() {
        let f = Fixture::new();
        let text = format!("{FEE}CALL_METHOD Address(\"{{manager}}\") \"create_proof\";\n{UPDATE}");
        refused(f.check(&text, &[]));
        f.check(&text, &f.manager_allows("create_proof")).unwrap();
        let (_, what) = refused(f.check(&text, &f.manager_allows("withdraw_badge")));
        assert!(what.contains("not listed"), "{what}");
        // Even a listed method cannot be handed the worktop.
        let handed = format!(
            "{FEE}CALL_METHOD Address(\"{{manager}}\") \"create_proof\" Expression(\"ENTIRE_WORKTOP\");\n{UPDATE}"
        );
        let (_, what) = refused(f.check(&handed, &f.manager_allows("create_proof")));
        assert!(what.contains("expression"), "{what}");
    }
}
