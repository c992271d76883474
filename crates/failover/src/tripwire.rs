//! Rule 11: the authority tripwire. On every poll the validator's key, fee, registration and
//! whether it accepts delegated stake (they come with the poll's readings), and once per
//! epoch whether the owner badge is still in the account (a gateway read), are compared
//! with what the daemon expects: what it saw last time, plus the key changes it
//! made itself. A change it did not make is reported, naming what changed, from what to
//! what, and when (the epoch it was first seen, and the last epoch it was still as before).
//!
//! There is no automatic reaction: the hot key that signs `update_key` can also change the
//! fee, unregister the validator or move the badge, so a change nobody here made is the sign
//! of a stolen key (or of a colleague's wallet session), and a person must look.
//!
//! Pure: the runner reads the sources (`observe::ValidatorSettings`, the account's badge) and
//! persists the [`Tripwire`] in the state file, so a change made while the daemon was stopped
//! is seen at its next start.

use std::str::FromStr;

use radix_common::math::{CheckedMul, Decimal};
use serde::{Deserialize, Serialize};

use crate::observe::ValidatorSettings;

/// What the tripwire compares: the validator as the ledger shows it in one epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    /// The key on ledger, 66 lowercase hex.
    pub key_hex: String,
    pub registered: bool,
    pub accepts_delegated_stake: bool,
    /// The fee factor in force in this epoch (a request whose epoch has come counts).
    pub fee_in_force: String,
    /// A fee change requested and not yet in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_pending: Option<PendingFee>,
    pub badge: Badge,
    /// Owner stake units being unlocked, and unlocked ones (`owner_stake_unlocks`); `None`
    /// when no source shows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_stake: Option<String>,
    /// The access controller's state ([`crate::access_controller::summary`]), read with the
    /// badge once per epoch; `None` without one, or between the reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    /// The XRD in the controller's recovery fee vault, read with it; `None` without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_fee_xrd: Option<String>,
    /// Where the badge is when it is not where it should be (the owner of its vault, or
    /// `burned`), as the gateway locates it; named in the alert, not compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge_location: Option<String>,
}

/// A requested fee change, in force from `epoch_effective`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingFee {
    pub fee_factor: String,
    pub epoch_effective: u64,
}

/// Where the owner badge is, as far as the tripwire can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "where", content = "account", rename_all = "snake_case")]
pub enum Badge {
    /// In the account (or access controller) the failover transaction proves it from.
    InAccount(String),
    /// No longer there.
    NotInAccount(String),
    /// Not watched (no gateway, or a manifest template proves the badge from elsewhere) or
    /// not readable this epoch.
    Unknown,
}

impl Badge {
    /// Where it is, if that was read.
    fn known(&self) -> Option<&Badge> {
        (*self != Badge::Unknown).then_some(self)
    }
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    Key,
    Fee,
    FeeRequest,
    Registration,
    DelegatedStake,
    OwnerBadge,
    OwnerStakeUnlock,
    AccessController,
}

impl What {
    pub const ALL: [What; 8] = [
        What::Key,
        What::Fee,
        What::FeeRequest,
        What::Registration,
        What::DelegatedStake,
        What::OwnerBadge,
        What::OwnerStakeUnlock,
        What::AccessController,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            What::Key => "key",
            What::Fee => "fee",
            What::FeeRequest => "fee_request",
            What::Registration => "registration",
            What::DelegatedStake => "delegated_stake",
            What::OwnerBadge => "owner_badge",
            What::OwnerStakeUnlock => "owner_stake_unlock",
            What::AccessController => "access_controller",
        }
    }

    /// The words every output uses.
    pub fn describe(self) -> &'static str {
        match self {
            What::Key => "key on ledger",
            What::Fee => "fee in force",
            What::FeeRequest => "fee change request",
            What::Registration => "registration",
            What::DelegatedStake => "acceptance of delegated stake",
            What::OwnerBadge => "owner badge",
            What::OwnerStakeUnlock => "owner stake units unlocking",
            What::AccessController => "owner badge's access controller",
        }
    }

    /// What to do about a change nobody here made: the changes only a holder of the owner
    /// badge's proof can make.
    pub fn advice(self) -> &'static str {
        match self {
            What::Key => "",
            _ => "; if no one here did this, the hot key may be stolen: with the badge in an access controller, run `radix-failover badge lock --config <file>` and have the recovery key sign the manifest it prints, then recover the controller with a new hot key (docs/safety.md)",
        }
    }
}

/// One change the daemon did not make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub what: What,
    pub from: String,
    pub to: String,
    /// The last epoch (and unix ms) the old value was seen in.
    pub last_seen_epoch: u64,
    #[serde(default)]
    pub last_seen_at_ms: i64,
    /// The epoch (and unix ms) the new value was first seen in.
    pub seen_epoch: u64,
    pub seen_at_ms: i64,
}

impl Change {
    /// One line: what changed, from what to what, and when.
    pub fn message(&self) -> String {
        format!(
            "the validator's {} changed from {} to {}, and radix-failover did not change it (seen in epoch {} at {}; it was still {} in epoch {} at {}){}",
            self.what.describe(),
            self.from,
            self.to,
            self.seen_epoch,
            crate::maintenance::utc(self.seen_at_ms),
            self.from,
            self.last_seen_epoch,
            crate::maintenance::utc(self.last_seen_at_ms),
            self.what.advice(),
        )
    }
}

/// The tripwire's memory, kept in the state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tripwire {
    /// What the validator looked like when last checked, and in which epoch.
    pub baseline: Authority,
    pub baseline_epoch: u64,
    #[serde(default)]
    pub baseline_at_ms: i64,
    /// Keys this daemon rotated to (intents it signed) not yet seen on ledger: seeing one of
    /// them is the daemon's own change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub own_keys: Vec<String>,
    /// The last change found, for `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change: Option<Change>,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub tripwire: Tripwire,
    /// Changes the daemon did not make, to alert on.
    pub changes: Vec<Change>,
}

/// The first check sets the baseline (nothing to compare with yet); later ones compare.
pub fn check(previous: Option<&Tripwire>, now: Authority, epoch: u64, at_ms: i64) -> Checked {
    let Some(prev) = previous else {
        return Checked {
            tripwire: Tripwire {
                baseline: now,
                baseline_epoch: epoch,
                baseline_at_ms: at_ms,
                own_keys: Vec::new(),
                last_change: None,
            },
            changes: Vec::new(),
        };
    };
    let change = |what: What, from: String, to: String| Change {
        what,
        from,
        to,
        last_seen_epoch: prev.baseline_epoch,
        last_seen_at_ms: prev.baseline_at_ms,
        seen_epoch: epoch,
        seen_at_ms: at_ms,
    };
    let base = &prev.baseline;
    let mut changes = Vec::new();
    let mut own_keys = prev.own_keys.clone();
    if let Some(c) = key_changed(base, &now, &mut own_keys) {
        changes.push(change(What::Key, c.0, c.1));
    }
    if base.registered != now.registered {
        changes.push(change(
            What::Registration,
            registered_text(base.registered),
            registered_text(now.registered),
        ));
    }
    if base.accepts_delegated_stake != now.accepts_delegated_stake {
        changes.push(change(
            What::DelegatedStake,
            accepts_text(base.accepts_delegated_stake),
            accepts_text(now.accepts_delegated_stake),
        ));
    }
    for (what, from, to) in fee_changes(base, &now) {
        changes.push(change(what, from, to));
    }
    let (badge, moved) = kept_or_changed(base.badge.known(), now.badge.known());
    if let Some((was, seen)) = moved {
        changes.push(change(
            What::OwnerBadge,
            badge_text(&was),
            badge_moved_text(&seen, now.badge_location.as_deref()),
        ));
    }
    let badge = badge.unwrap_or(Badge::Unknown);
    let mut watched = |what: What, was: &Option<String>, seen: &Option<String>| {
        let (kept, changed) = kept_or_changed(was.as_ref(), seen.as_ref());
        if let Some((from, to)) = changed {
            changes.push(change(what, from, to));
        }
        kept
    };
    let owner_stake = watched(What::OwnerStakeUnlock, &base.owner_stake, &now.owner_stake);
    let controller = watched(What::AccessController, &base.controller, &now.controller);
    let (recovery_fee_xrd, spent) = kept_or_changed(
        base.recovery_fee_xrd.as_ref(),
        now.recovery_fee_xrd.as_ref(),
    );
    if let Some((from, to)) = spent.filter(|(from, to)| recovery_fee_shrunk(from, to)) {
        changes.push(change(
            What::AccessController,
            format!("recovery fee vault {from} XRD"),
            format!("recovery fee vault {to} XRD (withdrawn by the primary role, or a fee locked from it)"),
        ));
    }
    let baseline = Authority {
        badge,
        owner_stake,
        controller,
        recovery_fee_xrd,
        ..now
    };
    Checked {
        tripwire: Tripwire {
            baseline,
            baseline_epoch: epoch,
            baseline_at_ms: at_ms,
            own_keys,
            last_change: changes.last().cloned().or_else(|| prev.last_change.clone()),
        },
        changes,
    }
}

/// The recovery fee vault lost XRD: only the primary role can withdraw it, and a role's
/// transaction can pay its fee from it, so a loss is someone's act. Anyone may add XRD
/// (`contribute_recovery_fee` is public), so a gain is no alert: it only moves the baseline.
fn recovery_fee_shrunk(from: &str, to: &str) -> bool {
    use std::str::FromStr;
    match (
        radix_common::math::Decimal::from_str(from),
        radix_common::math::Decimal::from_str(to),
    ) {
        (Ok(f), Ok(t)) => t < f,
        // Not amounts: any difference is worth a look.
        _ => from != to,
    }
}

/// A value that is not read on every check (the badge and the controller once per epoch, the
/// owner stake when a source shows it): unread now, it keeps what was known; read, it is the
/// new baseline, and a change `(from, to)` when it differs from the known one.
fn kept_or_changed<T: Clone + PartialEq>(
    was: Option<&T>,
    seen: Option<&T>,
) -> (Option<T>, Option<(T, T)>) {
    match (was, seen) {
        (known, None) => (known.cloned(), None),
        (None, seen) => (seen.cloned(), None),
        (Some(w), Some(s)) => (Some(s.clone()), (w != s).then(|| (w.clone(), s.clone()))),
    }
}

/// The key changed to one the daemon did not rotate to: `(from, to)`. A key the daemon did
/// rotate to is taken off `own_keys` once seen.
fn key_changed(
    base: &Authority,
    now: &Authority,
    own_keys: &mut Vec<String>,
) -> Option<(String, String)> {
    if base.key_hex == now.key_hex {
        return None;
    }
    if let Some(i) = own_keys.iter().position(|k| *k == now.key_hex) {
        own_keys.remove(i);
        return None;
    }
    Some((base.key_hex.clone(), now.key_hex.clone()))
}

/// The fee in force changing by more than a seen request coming into force, and a new
/// request.
fn fee_changes(base: &Authority, now: &Authority) -> Vec<(What, String, String)> {
    let mut out = Vec::new();
    if now.fee_pending.is_some()
        && !same_request(base.fee_pending.as_ref(), now.fee_pending.as_ref())
    {
        out.push((
            What::FeeRequest,
            pending_text(base.fee_pending.as_ref(), &base.fee_in_force),
            pending_text(now.fee_pending.as_ref(), &now.fee_in_force),
        ));
    }
    let came_into_force = base
        .fee_pending
        .as_ref()
        .is_some_and(|p| same_decimal(&p.fee_factor, &now.fee_in_force));
    if !same_decimal(&base.fee_in_force, &now.fee_in_force) && !came_into_force {
        out.push((
            What::Fee,
            fee_text(&base.fee_in_force),
            fee_text(&now.fee_in_force),
        ));
    }
    out
}

fn same_request(a: Option<&PendingFee>, b: Option<&PendingFee>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.epoch_effective == b.epoch_effective && same_decimal(&a.fee_factor, &b.fee_factor)
        }
        _ => false,
    }
}

/// Two decimals are the same number ("0.5" and "0.500000000000000000"); text that is not a
/// decimal compares as text.
fn same_decimal(a: &str, b: &str) -> bool {
    match (Decimal::from_str(a.trim()), Decimal::from_str(b.trim())) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

/// A fee factor as a percentage: "0.05" is "5 %".
pub fn fee_text(factor: &str) -> String {
    match Decimal::from_str(factor.trim())
        .ok()
        .and_then(|d| d.checked_mul(100))
    {
        Some(p) => format!("{p} %"),
        None => format!("factor {factor:?}"),
    }
}

fn pending_text(p: Option<&PendingFee>, in_force: &str) -> String {
    match p {
        None => format!("none (fee {})", fee_text(in_force)),
        Some(p) => format!(
            "{} from epoch {}",
            fee_text(&p.fee_factor),
            p.epoch_effective
        ),
    }
}

fn holder_kind(address: &str) -> &'static str {
    if address.starts_with("accesscontroller_") {
        "access controller"
    } else {
        "account"
    }
}

/// What an address is, by its prefix, as a word before it ("" when not known).
fn entity_kind(address: &str) -> &'static str {
    [
        ("accesscontroller_", "access controller "),
        ("account_", "account "),
        ("component_", "component "),
        ("validator_", "validator "),
    ]
    .into_iter()
    .find(|(prefix, _)| address.starts_with(prefix))
    .map_or("", |(_, kind)| kind)
}

fn registered_text(r: bool) -> String {
    if r { "registered" } else { "unregistered" }.into()
}

fn accepts_text(a: bool) -> String {
    if a {
        "accepts delegated stake"
    } else {
        "does not accept delegated stake"
    }
    .into()
}

fn badge_text(b: &Badge) -> String {
    match b {
        Badge::InAccount(a) => format!("in {} {a}", holder_kind(a)),
        Badge::NotInAccount(a) => format!("not in {} {a}", holder_kind(a)),
        Badge::Unknown => "unknown".into(),
    }
}

/// Where the badge went, when the gateway could locate it: `not in account A; now held by
/// B` (or `; burned`).
fn badge_moved_text(seen: &Badge, location: Option<&str>) -> String {
    match (seen, location) {
        (Badge::NotInAccount(_), Some("burned")) => format!("{}; burned", badge_text(seen)),
        (Badge::NotInAccount(_), Some(to)) => {
            format!("{}; now held by {}{to}", badge_text(seen), entity_kind(to))
        }
        _ => badge_text(seen),
    }
}

/// The validator's settings as the sources agree on them: the value a strict majority of the
/// readings give, else `None` (no answer, or they disagree: checked again next poll).
pub fn agreed_settings(
    readings: &[(String, ValidatorSettings)],
) -> Option<(String, ValidatorSettings)> {
    crate::policy::strict_majority(readings).cloned()
}

/// The [`Authority`] of one epoch from the agreed key and settings: a fee request whose epoch
/// has come is the fee in force (the engine applies it at the epoch change without rewriting
/// the stored factor).
pub fn authority_at(key_hex: &str, s: &ValidatorSettings, epoch: u64, badge: Badge) -> Authority {
    let (fee_in_force, fee_pending) = match &s.fee_change {
        Some(r) if r.epoch_effective <= epoch => (r.new_fee_factor.clone(), None),
        Some(r) => (
            s.fee_factor.clone(),
            Some(PendingFee {
                fee_factor: r.new_fee_factor.clone(),
                epoch_effective: r.epoch_effective,
            }),
        ),
        None => (s.fee_factor.clone(), None),
    };
    Authority {
        key_hex: key_hex.to_ascii_lowercase(),
        registered: s.registered,
        accepts_delegated_stake: s.accepts_delegated_stake,
        fee_in_force,
        fee_pending,
        badge,
        owner_stake: s.owner_stake_unlocks.clone(),
        controller: None,
        recovery_fee_xrd: None,
        badge_location: None,
    }
}

/// The owner stake units being unlocked (`pending_owner_stake_unit_withdrawals`: the epoch
/// each unlocks at, and its amount) and those unlocked (`already_unlocked_owner_stake_unit_amount`),
/// in one line. `None` if the entries are not what the Core API specifies.
pub fn owner_stake_unlocks(
    withdrawals: &[serde_json::Value],
    already_unlocked: &str,
) -> Option<String> {
    let mut pending = Vec::new();
    for w in withdrawals {
        let epoch = w.get("epoch_unlocked")?.as_u64()?;
        let amount = Decimal::from_str(w.get("stake_unit_amount")?.as_str()?).ok()?;
        pending.push(format!("{amount} unlocking at epoch {epoch}"));
    }
    let unlocked = Decimal::from_str(already_unlocked.trim()).ok()?;
    let pending = if pending.is_empty() {
        "none unlocking".to_string()
    } else {
        pending.join(", ")
    };
    Some(format!("{pending}; {unlocked} unlocked"))
}

/// The owner badge is read once per epoch (a gateway request; the settings come with every
/// poll's readings): on the first poll of an epoch after the last read.
pub fn badge_read_due(last_checked_epoch: Option<u64>, epoch: u64) -> bool {
    last_checked_epoch.is_none_or(|e| epoch > e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::FeeChangeRequest;

    const K1: &str = "02aa";
    const K2: &str = "03bb";
    const THIEF: &str = "02ff";

    fn settings(fee: &str, change: Option<(&str, u64)>) -> ValidatorSettings {
        ValidatorSettings {
            registered: true,
            accepts_delegated_stake: true,
            fee_factor: fee.into(),
            fee_change: change.map(|(f, e)| FeeChangeRequest {
                new_fee_factor: f.into(),
                epoch_effective: e,
            }),
            owner_stake_unlocks: Some("none unlocking; 0 unlocked".into()),
        }
    }

    fn base(epoch: u64) -> Tripwire {
        check(
            None,
            authority_at(
                K1,
                &settings("0.01", None),
                epoch,
                Badge::InAccount("acc".into()),
            ),
            epoch,
            0,
        )
        .tripwire
    }

    fn whats(c: &Checked) -> Vec<What> {
        c.changes.iter().map(|c| c.what).collect()
    }

    #[test]
    fn a_recovery_fee_vault_that_shrinks_is_reported_and_one_that_grows_is_not() {
        let mut t = base(7);
        t.baseline.recovery_fee_xrd = Some("30".into());
        let at = |epoch, fee: Option<&str>| {
            let mut a = t.baseline.clone();
            a.recovery_fee_xrd = fee.map(String::from);
            check(Some(&t), a, epoch, 0)
        };
        // Someone added XRD (anyone may): the baseline follows, no alert.
        let grew = at(8, Some("35"));
        assert!(grew.changes.is_empty());
        assert_eq!(
            grew.tripwire.baseline.recovery_fee_xrd.as_deref(),
            Some("35")
        );
        // Unread this poll: the known amount is kept, no alert.
        let unread = at(8, None);
        assert!(unread.changes.is_empty());
        assert_eq!(
            unread.tripwire.baseline.recovery_fee_xrd.as_deref(),
            Some("30")
        );
        // Withdrawn by the primary role (or a fee locked from it): an alert with both amounts.
        let spent = at(8, Some("0"));
        assert_eq!(whats(&spent), vec![What::AccessController]);
        assert_eq!(spent.changes[0].from, "recovery fee vault 30 XRD");
        assert!(spent.changes[0].to.starts_with("recovery fee vault 0 XRD"));
        assert_eq!(
            spent.tripwire.baseline.recovery_fee_xrd.as_deref(),
            Some("0")
        );
    }

    #[test]
    fn a_moved_badge_is_reported_with_where_it_went() {
        let t = base(7);
        let moved = |location: Option<&str>| {
            let mut a = t.baseline.clone();
            a.badge = Badge::NotInAccount("acc".into());
            a.badge_location = location.map(String::from);
            check(Some(&t), a, 8, 0).changes
        };
        let c = moved(Some("account_thief"));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].what, What::OwnerBadge);
        assert_eq!(
            c[0].to,
            "not in account acc; now held by account account_thief"
        );
        assert_eq!(moved(Some("burned"))[0].to, "not in account acc; burned");
        assert_eq!(
            moved(Some("component_x"))[0].to,
            "not in account acc; now held by component component_x"
        );
        // Not located (no gateway answered): the change alone.
        assert_eq!(moved(None)[0].to, "not in account acc");
    }

    #[test]
    fn the_first_check_sets_the_baseline_and_reports_nothing() {
        let c = check(
            None,
            authority_at(K1, &settings("0.01", None), 7, Badge::Unknown),
            7,
            5,
        );
        assert!(c.changes.is_empty());
        assert_eq!(c.tripwire.baseline_epoch, 7);
        assert_eq!(c.tripwire.baseline.key_hex, K1);
    }

    #[test]
    fn nothing_changed_is_nothing_reported_and_the_baseline_moves_on() {
        let t = base(7);
        let c = check(Some(&t), t.baseline.clone(), 8, 9);
        assert!(c.changes.is_empty());
        assert_eq!(c.tripwire.baseline_epoch, 8);
    }

    #[test]
    fn a_key_nobody_here_rotated_to_is_reported_with_when() {
        let t = base(7);
        let now = authority_at(
            THIEF,
            &settings("0.01", None),
            9,
            Badge::InAccount("acc".into()),
        );
        let c = check(Some(&t), now, 9, 1234);
        assert_eq!(whats(&c), vec![What::Key]);
        let ch = &c.changes[0];
        assert_eq!((ch.from.as_str(), ch.to.as_str()), (K1, THIEF));
        assert_eq!(
            (ch.last_seen_epoch, ch.seen_epoch, ch.seen_at_ms),
            (7, 9, 1234)
        );
        assert!(
            ch.message()
                .contains("seen in epoch 9 at 1970-01-01T00:00:01Z")
                && ch.message().contains("in epoch 7 at 1970-01-01T00:00:00Z"),
            "{}",
            ch.message()
        );
        assert_eq!(c.tripwire.last_change.as_ref(), Some(ch));
    }

    #[test]
    fn the_daemons_own_rotation_is_not_reported_and_is_consumed() {
        let mut t = base(7);
        t.own_keys.push(K2.into());
        let now = authority_at(
            K2,
            &settings("0.01", None),
            8,
            Badge::InAccount("acc".into()),
        );
        let c = check(Some(&t), now, 8, 0);
        assert!(c.changes.is_empty(), "{:?}", c.changes);
        assert!(c.tripwire.own_keys.is_empty());
        // Rotated back by someone else later: that is reported.
        let back = authority_at(
            K1,
            &settings("0.01", None),
            9,
            Badge::InAccount("acc".into()),
        );
        assert_eq!(
            whats(&check(Some(&c.tripwire), back, 9, 0)),
            vec![What::Key]
        );
    }

    #[test]
    fn a_fee_request_is_reported_once_and_its_coming_into_force_is_not() {
        let t = base(7);
        let req = authority_at(K1, &settings("0.01", Some(("0.5", 20))), 8, Badge::Unknown);
        let c = check(Some(&t), req, 8, 0);
        assert_eq!(whats(&c), vec![What::FeeRequest]);
        assert_eq!(c.changes[0].to, "50 % from epoch 20");
        assert_eq!(c.changes[0].from, "none (fee 1 %)");
        // Still pending: nothing new.
        let still = authority_at(K1, &settings("0.01", Some(("0.5", 20))), 12, Badge::Unknown);
        let c2 = check(Some(&c.tripwire), still, 12, 0);
        assert!(c2.changes.is_empty());
        // Its epoch comes: the engine applies it without rewriting the stored factor.
        let in_force = authority_at(K1, &settings("0.01", Some(("0.5", 20))), 20, Badge::Unknown);
        assert_eq!(in_force.fee_in_force, "0.5");
        assert!(in_force.fee_pending.is_none());
        let c3 = check(Some(&c2.tripwire), in_force, 20, 0);
        assert!(c3.changes.is_empty(), "{:?}", c3.changes);
        // The unknown badge kept the known one.
        assert_eq!(c3.tripwire.baseline.badge, Badge::InAccount("acc".into()));
    }

    #[test]
    fn a_fee_in_force_changed_without_a_seen_request_is_reported() {
        // A decrease requested and in force within one check interval (the daemon was down).
        let t = base(7);
        let now = authority_at(K1, &settings("0.01", Some(("0", 8))), 9, Badge::Unknown);
        let c = check(Some(&t), now, 9, 0);
        assert_eq!(whats(&c), vec![What::Fee]);
        assert_eq!(
            (c.changes[0].from.as_str(), c.changes[0].to.as_str()),
            ("1 %", "0 %")
        );
    }

    #[test]
    fn equal_decimals_written_differently_are_no_change() {
        let t = base(7);
        let now = authority_at(
            K1,
            &settings("0.010000000000000000", None),
            8,
            Badge::InAccount("acc".into()),
        );
        assert!(check(Some(&t), now, 8, 0).changes.is_empty());
    }

    #[test]
    fn registration_delegation_and_badge_changes_are_each_reported() {
        let t = base(7);
        let mut s = settings("0.01", None);
        s.registered = false;
        s.accepts_delegated_stake = false;
        let now = authority_at(K1, &s, 8, Badge::NotInAccount("acc".into()));
        let c = check(Some(&t), now, 8, 0);
        assert_eq!(
            whats(&c),
            vec![What::Registration, What::DelegatedStake, What::OwnerBadge]
        );
        assert_eq!(c.changes[0].to, "unregistered");
        assert_eq!(c.changes[1].to, "does not accept delegated stake");
        assert_eq!(c.changes[2].to, "not in account acc");
    }

    #[test]
    fn sources_must_agree_by_a_strict_majority() {
        let a = (K1.to_string(), settings("0.01", None));
        let b = (K1.to_string(), settings("0.02", None));
        assert_eq!(
            agreed_settings(&[a.clone(), a.clone(), b.clone()]),
            Some(a.clone())
        );
        assert_eq!(agreed_settings(&[a.clone(), b.clone()]), None);
        assert_eq!(agreed_settings(&[]), None);
        assert_eq!(agreed_settings(std::slice::from_ref(&b)), Some(b));
    }

    #[test]
    fn the_badge_is_read_once_per_epoch() {
        assert!(badge_read_due(None, 3));
        assert!(!badge_read_due(Some(3), 3));
        assert!(badge_read_due(Some(3), 4));
        assert!(!badge_read_due(Some(5), 4));
    }
}
