//! An access controller as the gateway's entity details show it: `details.state` is the Core
//! API's `AccessControllerFieldStateValue`, and `role_assignments.entries` hold its primary,
//! recovery and confirmation rules as the Core API's `AccessRule` JSON.

use radix_common::prelude::*;
use radix_engine_interface::blueprints::access_controller::RecoveryProposal;
use radix_engine_interface::prelude::{
    AccessRule, BasicRequirement, CompositeRequirement, ResourceOrNonFungible,
};
use serde_json::{json, Value};

use crate::ledger::AccessControllerState;

/// `AccessControllerFieldStateValue`.
pub fn state_json(s: &AccessControllerState, enc: &AddressBech32Encoder) -> Value {
    let mut v = json!({
        "controlled_vault": internal_vault(&s.controlled_vault, enc),
        "recovery_badge_resource_address": address(s.recovery_badge.as_node_id(), enc),
        "is_primary_role_locked": s.is_primary_role_locked,
        "has_primary_role_badge_withdraw_attempt": s.has_primary_role_badge_withdraw_attempt,
        "has_recovery_role_badge_withdraw_attempt": s.has_recovery_role_badge_withdraw_attempt,
    });
    if let Some(f) = &s.xrd_fee_vault {
        v["xrd_fee_vault"] = internal_vault(f, enc);
    }
    if let Some(m) = s.timed_recovery_delay_minutes {
        v["timed_recovery_delay_minutes"] = json!(m);
    }
    if let Some(p) = &s.primary_role_recovery_attempt {
        v["primary_role_recovery_attempt"] = json!({ "recovery_proposal": proposal(p, enc) });
    }
    if let Some((p, after)) = &s.recovery_role_recovery_attempt {
        let mut a = json!({ "recovery_proposal": proposal(p, enc) });
        if let Some(secs) = after {
            a["allow_timed_recovery_after"] = instant(*secs);
        }
        v["recovery_role_recovery_attempt"] = a;
    }
    v
}

/// `role_assignments.entries`: each role with its explicit rule.
pub fn role_entries(s: &AccessControllerState, enc: &AddressBech32Encoder) -> Vec<Value> {
    s.roles
        .iter()
        .map(|(name, rule)| {
            json!({
                "role_key": { "module": "Main", "name": name },
                "assignment": { "resolution": "Explicit", "explicit_rule": access_rule(rule, enc) },
                "updater_roles": [],
            })
        })
        .collect()
}

/// The Core API's `AccessRule`.
pub fn access_rule(rule: &AccessRule, enc: &AddressBech32Encoder) -> Value {
    match rule {
        AccessRule::AllowAll => json!({ "type": "AllowAll" }),
        AccessRule::DenyAll => json!({ "type": "DenyAll" }),
        AccessRule::Protected(c) => {
            json!({ "type": "Protected", "access_rule": composite(c, enc) })
        }
    }
}

fn composite(c: &CompositeRequirement, enc: &AddressBech32Encoder) -> Value {
    match c {
        CompositeRequirement::BasicRequirement(b) => {
            json!({ "type": "ProofRule", "proof_rule": basic(b, enc) })
        }
        CompositeRequirement::AnyOf(l) => json!({
            "type": "AnyOf",
            "access_rules": l.iter().map(|c| composite(c, enc)).collect::<Vec<_>>(),
        }),
        CompositeRequirement::AllOf(l) => json!({
            "type": "AllOf",
            "access_rules": l.iter().map(|c| composite(c, enc)).collect::<Vec<_>>(),
        }),
    }
}

fn basic(b: &BasicRequirement, enc: &AddressBech32Encoder) -> Value {
    let list =
        |l: &[ResourceOrNonFungible]| l.iter().map(|r| requirement(r, enc)).collect::<Vec<_>>();
    match b {
        BasicRequirement::Require(r) => {
            json!({ "type": "Require", "requirement": requirement(r, enc) })
        }
        BasicRequirement::AmountOf(amount, resource) => json!({
            "type": "AmountOf",
            "amount": amount.to_string(),
            "resource": address(resource.as_node_id(), enc),
        }),
        BasicRequirement::CountOf(count, l) => {
            json!({ "type": "CountOf", "count": count, "list": list(l) })
        }
        BasicRequirement::AllOf(l) => json!({ "type": "AllOf", "list": list(l) }),
        BasicRequirement::AnyOf(l) => json!({ "type": "AnyOf", "list": list(l) }),
    }
}

fn requirement(r: &ResourceOrNonFungible, enc: &AddressBech32Encoder) -> Value {
    match r {
        ResourceOrNonFungible::Resource(res) => {
            json!({ "type": "Resource", "resource": address(res.as_node_id(), enc) })
        }
        ResourceOrNonFungible::NonFungible(id) => json!({
            "type": "NonFungible",
            "non_fungible": {
                "resource_address": address(id.resource_address().as_node_id(), enc),
                "local_id": {
                    "simple_rep": id.local_id().to_string(),
                    "id_type": id_type(id.local_id()),
                    "sbor_hex": scrypto_encode(id.local_id()).map(hex::encode).unwrap_or_default(),
                },
            },
        }),
    }
}

fn id_type(id: &NonFungibleLocalId) -> &'static str {
    match id {
        NonFungibleLocalId::String(_) => "String",
        NonFungibleLocalId::Integer(_) => "Integer",
        NonFungibleLocalId::Bytes(_) => "Bytes",
        NonFungibleLocalId::RUID(_) => "RUID",
    }
}

fn proposal(p: &RecoveryProposal, enc: &AddressBech32Encoder) -> Value {
    let mut v = json!({
        "primary_role": access_rule(&p.rule_set.primary_role, enc),
        "recovery_role": access_rule(&p.rule_set.recovery_role, enc),
        "confirmation_role": access_rule(&p.rule_set.confirmation_role, enc),
    });
    if let Some(m) = p.timed_recovery_delay_in_minutes {
        v["timed_recovery_delay_minutes"] = json!(m);
    }
    v
}

fn instant(secs: i64) -> Value {
    let mut v = json!({ "unix_timestamp_seconds": secs.to_string() });
    if let Some(t) = chrono::DateTime::from_timestamp(secs, 0) {
        v["date_time"] = json!(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    v
}

/// `EntityReference` of an internal vault.
fn internal_vault(id: &NodeId, enc: &AddressBech32Encoder) -> Value {
    let entity_type = match id.entity_type() {
        Some(EntityType::InternalFungibleVault) => "InternalFungibleVault",
        Some(EntityType::InternalNonFungibleVault) => "InternalNonFungibleVault",
        _ => "InternalGenericComponent",
    };
    json!({ "entity_type": entity_type, "is_global": false, "entity_address": address(id, enc) })
}

fn address(id: &NodeId, enc: &AddressBech32Encoder) -> String {
    enc.encode(id.as_bytes())
        .unwrap_or_else(|_| hex::encode(id.as_bytes()))
}
