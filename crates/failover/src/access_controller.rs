//! Rule 13: the owner badge in a native access controller. What the gateway shows of the
//! controller (its state and role rules, as the Core API models them), whether the daemon's
//! key meets its primary role, and what blocks an automatic failover through it.
//!
//! A failover proves the badge with the controller's `create_proof`, which needs the primary
//! role and an unlocked primary role. So pre-flight (and its re-check every epoch) fails, with
//! who can undo it, when:
//! - the controller does not hold our validator's owner badge;
//! - the daemon's key does not meet the primary role's rule;
//! - the primary role is locked (only the recovery role can unlock it);
//! - a recovery is in progress (new rules are proposed; they may replace the daemon's key).
//!
//! The [`summary`] of the state is what the authority tripwire (rule 11) compares each epoch.
//!
//! Pure: the preflight reads the gateway.

use serde_json::Value;

/// The non-fungible the daemon's signature proves: its signature badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub resource_address: String,
    /// The local id's simple representation, e.g. `[3c1f…]`.
    pub local_id: String,
}

/// An access controller as the gateway's entity details show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerView {
    pub holds_badge: bool,
    pub primary_locked: bool,
    /// The primary role proposed new rules (`initiate_recovery_as_primary`).
    pub primary_recovery_proposed: bool,
    /// The recovery role proposed new rules; `Some(t)` when a timed recovery may be
    /// confirmed from `t` (unix seconds).
    pub recovery_proposed: Option<Option<i64>>,
    pub primary_withdraw_attempt: bool,
    pub recovery_withdraw_attempt: bool,
    /// Whether the daemon's key meets the primary role's rule; `None` when the gateway does
    /// not show the rule.
    pub primary_ours: Option<bool>,
    /// The XRD in its recovery fee vault (`badge secure --recovery-fee-xrd`); `None`: it has
    /// no such vault.
    pub recovery_fee_xrd: Option<String>,
}

/// Reads a controller from an entity details item's `details` object (`state` and
/// `role_assignments`). The error names what is missing.
pub fn view_of(details: &Value, holds_badge: bool, ours: &Proof) -> Result<ControllerView, String> {
    let state = details
        .get("state")
        .filter(|s| s.is_object())
        .ok_or("the gateway shows no state for it (is it an access controller?)")?;
    let flag = |name: &str| {
        state
            .get(name)
            .and_then(Value::as_bool)
            .ok_or_else(|| format!("its state has no boolean `{name}`"))
    };
    let recovery_proposed = state.get("recovery_role_recovery_attempt").map(|a| {
        a.get("allow_timed_recovery_after")
            .and_then(|t| t.get("unix_timestamp_seconds"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    });
    let primary_ours = primary_rule(details)
        .map(|r| rule_met(r, ours))
        .transpose()?;
    Ok(ControllerView {
        holds_badge,
        primary_locked: flag("is_primary_role_locked")?,
        primary_recovery_proposed: state.get("primary_role_recovery_attempt").is_some(),
        recovery_proposed,
        primary_withdraw_attempt: flag("has_primary_role_badge_withdraw_attempt")?,
        recovery_withdraw_attempt: flag("has_recovery_role_badge_withdraw_attempt")?,
        primary_ours,
        recovery_fee_xrd: None,
    })
}

/// Whether the state shows a recovery fee vault (`xrd_fee_vault`, created by the first
/// `contribute_recovery_fee`).
pub fn has_recovery_fee_vault(details: &Value) -> bool {
    details
        .get("state")
        .and_then(|s| s.get("xrd_fee_vault"))
        .is_some_and(|v| !v.is_null())
}

/// The recovery fee vault in words, for pre-flight and `status`.
pub fn recovery_fee_text(v: &ControllerView) -> String {
    match &v.recovery_fee_xrd {
        Some(x) => format!("recovery fee vault {x} XRD"),
        None => "no recovery fee vault".into(),
    }
}

/// The primary role's explicit rule in `role_assignments.entries`.
fn primary_rule(details: &Value) -> Option<&Value> {
    details
        .get("role_assignments")?
        .get("entries")?
        .as_array()?
        .iter()
        .find(|e| {
            e["role_key"]["name"] == "primary"
                && e["role_key"]["module"] == "Main"
                && e["assignment"]["resolution"] == "Explicit"
        })
        .map(|e| &e["assignment"]["explicit_rule"])
}

/// Whether a proof of `ours` alone meets `rule` (the Core API's `AccessRule` JSON).
pub fn rule_met(rule: &Value, ours: &Proof) -> Result<bool, String> {
    match kind(rule)? {
        "AllowAll" => Ok(true),
        "DenyAll" => Ok(false),
        "Protected" => composite_met(&rule["access_rule"], ours),
        other => Err(format!("unknown access rule type {other:?}")),
    }
}

fn kind(v: &Value) -> Result<&str, String> {
    v.get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("a rule without a `type`: {v}"))
}

fn list<'a>(v: &'a Value, field: &str) -> Result<&'a Vec<Value>, String> {
    v.get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("a rule without a `{field}` list: {v}"))
}

fn composite_met(c: &Value, ours: &Proof) -> Result<bool, String> {
    match kind(c)? {
        "ProofRule" => basic_met(&c["proof_rule"], ours),
        "AnyOf" => any(list(c, "access_rules")?, |r| composite_met(r, ours)),
        "AllOf" => all(list(c, "access_rules")?, |r| composite_met(r, ours)),
        other => Err(format!("unknown composite requirement {other:?}")),
    }
}

fn basic_met(b: &Value, ours: &Proof) -> Result<bool, String> {
    match kind(b)? {
        "Require" => requirement_met(&b["requirement"], ours),
        // One proof of a non-fungible is an amount of 1 of its resource.
        "AmountOf" => Ok(b["resource"] == ours.resource_address.as_str()
            && b["amount"]
                .as_str()
                .and_then(|a| a.parse::<f64>().ok())
                .is_some_and(|a| a <= 1.0)),
        "CountOf" => {
            let need = b["count"]
                .as_u64()
                .ok_or("a CountOf rule without a count")?;
            let mut met = 0;
            for r in list(b, "list")? {
                met += u64::from(requirement_met(r, ours)?);
            }
            Ok(met >= need)
        }
        "AllOf" => all(list(b, "list")?, |r| requirement_met(r, ours)),
        "AnyOf" => any(list(b, "list")?, |r| requirement_met(r, ours)),
        other => Err(format!("unknown proof rule {other:?}")),
    }
}

fn requirement_met(r: &Value, ours: &Proof) -> Result<bool, String> {
    match kind(r)? {
        "Resource" => Ok(r["resource"] == ours.resource_address.as_str()),
        "NonFungible" => {
            let nf = &r["non_fungible"];
            Ok(nf["resource_address"] == ours.resource_address.as_str()
                && nf["local_id"]["simple_rep"] == ours.local_id.as_str())
        }
        other => Err(format!("unknown requirement {other:?}")),
    }
}

fn any(l: &[Value], f: impl Fn(&Value) -> Result<bool, String>) -> Result<bool, String> {
    for v in l {
        if f(v)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn all(l: &[Value], f: impl Fn(&Value) -> Result<bool, String>) -> Result<bool, String> {
    for v in l {
        if !f(v)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What stops a failover through controller `ac`, each with who can undo it. Empty: none.
pub fn blockers(v: &ControllerView, ac: &str) -> Vec<String> {
    let mut out = Vec::new();
    if !v.holds_badge {
        out.push(format!("the access controller {ac} does not hold the validator's owner badge; fix: check that the `badge secure` transaction committed and that badge_holder is the controller it created"));
    }
    if v.primary_ours == Some(false) {
        out.push(format!("the daemon's key does not meet the primary role of {ac}, so it cannot create the badge's proof; fix: point key_file at the key `badge secure` made primary, or have the recovery role set a primary rule for this key (a recovery)"));
    }
    if v.primary_locked {
        out.push(format!("the primary role of {ac} is LOCKED, so automatic failover is disabled; only the recovery role can undo it (`unlock_primary_role`, signed by the recovery key), after a recovery if the hot key was stolen"));
    }
    if v.primary_recovery_proposed {
        out.push(format!("a recovery proposed by the primary role (the daemon's key) is in progress on {ac}; if no one here proposed it, the hot key is stolen: run `radix-failover badge lock` and have the recovery key sign it; the recovery or confirmation role can also cancel it"));
    }
    if v.recovery_proposed.is_some() {
        out.push(format!("a recovery proposed by the recovery role is in progress on {ac} (new rules may replace the daemon's key); automatic failover waits until it is confirmed or cancelled by the recovery role's holder"));
    }
    out
}

/// The state in one line: what the tripwire compares, and what `status` shows.
pub fn summary(v: &ControllerView) -> String {
    let mut parts = vec![if v.primary_locked {
        "primary role LOCKED".to_string()
    } else {
        "primary role unlocked".to_string()
    }];
    match (v.primary_recovery_proposed, &v.recovery_proposed) {
        (false, None) => parts.push("no recovery proposed".into()),
        (p, r) => {
            if p {
                parts.push("recovery proposed by the primary role".into());
            }
            match r {
                Some(Some(t)) => parts.push(format!(
                    "timed recovery proposed by the recovery role (confirmable from {})",
                    crate::maintenance::utc(t.saturating_mul(1000))
                )),
                Some(None) => parts.push("recovery proposed by the recovery role".into()),
                None => {}
            }
        }
    }
    match (v.primary_withdraw_attempt, v.recovery_withdraw_attempt) {
        (false, false) => parts.push("no badge withdraw attempt".into()),
        (p, r) => {
            if p {
                parts.push("badge withdraw asked by the primary role".into());
            }
            if r {
                parts.push("badge withdraw asked by the recovery role".into());
            }
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ours() -> Proof {
        Proof {
            resource_address: "resource_sig".into(),
            local_id: "[aa]".into(),
        }
    }

    fn nf(resource: &str, id: &str) -> Value {
        json!({"type": "NonFungible", "non_fungible": {"resource_address": resource, "local_id": {"simple_rep": id, "id_type": "Bytes", "sbor_hex": ""}}})
    }

    fn require(r: Value) -> Value {
        json!({"type": "Protected", "access_rule": {"type": "ProofRule", "proof_rule": {"type": "Require", "requirement": r}}})
    }

    #[test]
    fn rules_are_evaluated_for_the_daemons_proof_alone() {
        let me = ours();
        assert!(rule_met(&require(nf("resource_sig", "[aa]")), &me).unwrap());
        assert!(!rule_met(&require(nf("resource_sig", "[bb]")), &me).unwrap());
        assert!(!rule_met(&require(nf("resource_other", "[aa]")), &me).unwrap());
        assert!(rule_met(&json!({"type": "AllowAll"}), &me).unwrap());
        assert!(!rule_met(&json!({"type": "DenyAll"}), &me).unwrap());
        let two = |t: &str, count: Option<u64>| {
            let mut p = json!({"type": t, "list": [nf("resource_sig", "[aa]"), nf("resource_sig", "[bb]")]});
            if let Some(c) = count {
                p["count"] = json!(c);
            }
            json!({"type": "Protected", "access_rule": {"type": "ProofRule", "proof_rule": p}})
        };
        assert!(rule_met(&two("AnyOf", None), &me).unwrap());
        assert!(
            !rule_met(&two("AllOf", None), &me).unwrap(),
            "needs the other key too"
        );
        assert!(rule_met(&two("CountOf", Some(1)), &me).unwrap());
        assert!(!rule_met(&two("CountOf", Some(2)), &me).unwrap());
        let composite = |t: &str| {
            json!({"type": "Protected", "access_rule": {"type": t, "access_rules": [
                {"type": "ProofRule", "proof_rule": {"type": "Require", "requirement": nf("resource_sig", "[aa]")}},
                {"type": "ProofRule", "proof_rule": {"type": "Require", "requirement": {"type": "Resource", "resource": "resource_x"}}}
            ]}})
        };
        assert!(rule_met(&composite("AnyOf"), &me).unwrap());
        assert!(!rule_met(&composite("AllOf"), &me).unwrap());
        let amount = |a: &str| json!({"type": "Protected", "access_rule": {"type": "ProofRule", "proof_rule": {"type": "AmountOf", "amount": a, "resource": "resource_sig"}}});
        assert!(rule_met(&amount("1"), &me).unwrap());
        assert!(!rule_met(&amount("2"), &me).unwrap());
        let e = rule_met(&json!({"type": "Sometimes"}), &me).unwrap_err();
        assert!(e.contains("Sometimes"), "{e}");
    }

    fn details(state: Value, primary: Value) -> Value {
        json!({"state": state, "role_assignments": {"owner": {}, "entries": [
            {"role_key": {"module": "Main", "name": "primary"}, "assignment": {"resolution": "Explicit", "explicit_rule": primary}}
        ]}})
    }

    fn quiet_state() -> Value {
        json!({"is_primary_role_locked": false, "has_primary_role_badge_withdraw_attempt": false, "has_recovery_role_badge_withdraw_attempt": false})
    }

    #[test]
    fn a_healthy_controller_blocks_nothing() {
        let v = view_of(
            &details(quiet_state(), require(nf("resource_sig", "[aa]"))),
            true,
            &ours(),
        )
        .unwrap();
        assert_eq!(v.primary_ours, Some(true));
        assert!(blockers(&v, "ac").is_empty());
        assert_eq!(
            summary(&v),
            "primary role unlocked, no recovery proposed, no badge withdraw attempt"
        );
    }

    #[test]
    fn each_broken_prerequisite_is_named_with_who_can_undo_it() {
        let mut state = quiet_state();
        state["is_primary_role_locked"] = json!(true);
        state["recovery_role_recovery_attempt"] = json!({"recovery_proposal": {}, "allow_timed_recovery_after": {"unix_timestamp_seconds": "1800000000"}});
        state["primary_role_recovery_attempt"] = json!({"recovery_proposal": {}});
        let v = view_of(
            &details(state, require(nf("resource_sig", "[bb]"))),
            false,
            &ours(),
        )
        .unwrap();
        let b = blockers(&v, "accesscontroller_x").join("\n");
        for needle in [
            "does not hold the validator's owner badge",
            "does not meet the primary role",
            "LOCKED",
            "only the recovery role can undo it",
            "radix-failover badge lock",
            "proposed by the recovery role",
        ] {
            assert!(b.contains(needle), "{needle} missing:\n{b}");
        }
        let s = summary(&v);
        assert!(
            s.contains("primary role LOCKED") && s.contains("2027-01-15"),
            "{s}"
        );
    }

    #[test]
    fn an_unreadable_state_is_an_error_not_a_pass() {
        let e = view_of(
            &json!({"state": {"is_primary_role_locked": "no"}}),
            true,
            &ours(),
        )
        .unwrap_err();
        assert!(e.contains("is_primary_role_locked"), "{e}");
        assert!(view_of(&json!({}), true, &ours()).is_err());
        // No role assignments shown: the key is not judged (the preview is).
        let v = view_of(&json!({"state": quiet_state()}), true, &ours()).unwrap();
        assert_eq!(v.primary_ours, None);
    }
}
