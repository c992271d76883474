//! Pre-flight checks: is a failover (or a failback) safe to make right now?
//!
//! Five checks (six with an access controller), each pass or fail with a reason that names the fix (issue 4 §1):
//! - `sources`: every configured source answers and is synced (ledger sources no further
//!   behind than `policy.max_source_lag`, System APIs `UP`). The sources of the node we move
//!   *away from* (for a failover: the primary's Core and System APIs) are reported but do not
//!   fail the check: that node being down is the reason to fail over, not a reason to block it.
//! - `validator`: our validator is registered and the key on ledger is the one we rotate away
//!   from. If it is already the target key, the check fails ("nothing to do") and
//!   [`PreflightReport::key_on_ledger_is_backup`] tells the runner to start failed over.
//! - `account`: the account holds the owner badge (unless a manifest template proves it
//!   another way) and at least `fee_lock_xrd` XRD, read from every page of the account's
//!   listings. Needs a gateway: without one it fails.
//! - `controller` (only with the badge in an access controller, `badge_holder`): the
//!   controller holds the badge, the daemon's key meets its primary role, the role is not
//!   locked and no recovery is in progress (`access_controller.rs`, policy.md rule 13).
//! - `backup` (for a failback: `primary`): the target node's System API says `UP`, its
//!   identity names our validator, its key is the configured target key, and its consensus
//!   status is one this version knows.
//! - `preview`: the gateway previews the exact transaction (same manifest, window, nonce,
//!   notary; no free credit, no assumed signatures) and its receipt is `Succeeded`.
//!
//! The checks read; they never submit. They run concurrently; a source that hangs costs at
//! most the request timeout.

use std::str::FromStr;

use radix_api::gateway as gw;
use radix_common::crypto::PublicKey;
use radix_common::math::{CheckedAdd, Decimal};
use radix_common::prelude::{EntityType, VALIDATOR_OWNER_BADGE, XRD};

use crate::access_controller;
use crate::config::Config;
use crate::keys::encode_address;
use crate::observe::{NodeConsensus, NodeHealth, NodeReading, SourceError, SourceObservation};
use crate::sources::{LedgerClient, Sources};
use crate::tx::{owner_badge_id, BuiltTransaction};

/// Which way the key rotates: the checks are the same, aimed at the node we move to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aim {
    /// Failover: primary key -> backup key; the backup node must be ready.
    Backup,
    /// Failback: backup key -> primary key; the primary node must be ready.
    Primary,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// "sources", "validator", "account", "controller" (with the badge in an access
    /// controller), "backup" (or "primary" for a failback), "preview".
    pub name: &'static str,
    pub pass: bool,
    /// Why it passed, or why it failed and how to fix it.
    pub detail: String,
    /// It failed because its sources could not be read, not because of what they said: an
    /// epoch's re-check of a passed pre-flight keeps the pass then (`preflight_recheck.rs`).
    pub unread: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightReport {
    pub checks: Vec<Check>,
    /// Every ledger source that answered says the key on ledger is the configured backup key
    /// (and at least one answered): the validator is already failed over.
    pub key_on_ledger_is_backup: bool,
}

impl PreflightReport {
    /// All checks passed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.pass)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.pass)
    }
}

fn check(name: &'static str, pass: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        pass,
        detail: detail.into(),
        unread: false,
    }
}

/// A failed check whose sources could not be read.
fn unread(name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        unread: true,
        ..check(name, false, detail)
    }
}

fn hex_of(k: &radix_common::crypto::Secp256k1PublicKey) -> String {
    hex::encode(k.0)
}

/// Runs every check for a rotation to the `aim` node with transaction `tx`, whose fee and
/// badge come from `account_address`.
pub async fn run(
    config: &Config,
    sources: &Sources,
    account_address: &str,
    tx: &BuiltTransaction,
    aim: Aim,
) -> PreflightReport {
    let (
        sources_check,
        (validator_check, is_backup),
        account_check,
        controller_check,
        node_check,
        preview_check,
    ) = tokio::join!(
        check_sources(config, sources, aim),
        check_validator(config, sources, aim),
        check_account(config, sources, account_address),
        check_controller(config, sources, account_address, None),
        check_target_node(config, sources, aim),
        check_preview(sources, tx),
    );
    let mut checks = vec![sources_check, validator_check, account_check];
    checks.extend(controller_check.map(|(c, _)| c));
    checks.extend([node_check, preview_check]);
    PreflightReport {
        checks,
        key_on_ledger_is_backup: is_backup,
    }
}

/// The checks of what can change after a pre-flight passed, for its re-check once per epoch:
/// the validator (registered, the key on ledger) and the account (the owner badge, the XRD
/// for the fee). The sources, the backup's readiness and the backup key in force are watched
/// on every poll by the policy already; the preview needs a fresh transaction.
///
/// `known`: the access controller as already read in this epoch (by the authority tripwire),
/// checked instead of read again. Returns the checks and the controller as read.
pub async fn recheck(
    config: &Config,
    sources: &Sources,
    account_address: &str,
    known: Option<&access_controller::ControllerView>,
) -> (Vec<Check>, Option<access_controller::ControllerView>) {
    let ((validator_check, _), account_check, controller_check) = tokio::join!(
        check_validator(config, sources, Aim::Backup),
        check_account(config, sources, account_address),
        check_controller(config, sources, account_address, known),
    );
    let mut checks = vec![validator_check, account_check];
    let (controller_check, view) = controller_check.unzip();
    checks.extend(controller_check);
    (checks, view.flatten())
}

/// With Core APIs only, what pre-flight cannot check (only a Gateway shows an account's
/// holdings and previews a transaction). Not a failure: a Core-only watcher still fails over,
/// and says what it could not check (here, in `config check` and at every start).
pub const NOT_CHECKED_ACCOUNT: &str = "NOT CHECKED: no gateway is configured, and only a gateway shows the account's owner badge and XRD; the failover is armed without knowing that its transaction can pay and prove the badge (fix: add a gateway under [sources] gateways)";
pub const NOT_CHECKED_PREVIEW: &str = "NOT CHECKED: no gateway is configured, and only a gateway previews the failover transaction; it is first tried when it is needed (fix: add a gateway under [sources] gateways)";

/// Is `name` one of the sources of the node we rotate away from?
fn belongs_to_source_node(name: &str, aim: Aim, config: &Config) -> bool {
    // The `primary` slot holds the active node (`Config::active`, after a re-arm the
    // configured backup).
    let from = match aim {
        Aim::Backup => config.active,
        Aim::Primary => config.active.other(),
    };
    name == from.core_source() || name == from.system_source()
}

async fn check_sources(config: &Config, sources: &Sources, aim: Aim) -> Check {
    let obs = sources.poll().await;
    let max_lag_ms = i64::try_from(config.policy.max_source_lag.as_millis()).unwrap_or(i64::MAX);
    let mut bad = Vec::new();
    let mut ignored = Vec::new();
    let mut good = 0usize;
    let mut note = |name: &str, problem: Option<String>| match problem {
        None => good += 1,
        Some(p) if belongs_to_source_node(name, aim, config) => {
            ignored.push(format!("{name}: {p}"))
        }
        Some(p) => bad.push(format!("{name}: {p}")),
    };
    for o in &obs.ledger {
        let problem = match &o.result {
            Err(e) => Some(e.to_string()),
            Ok(r) => {
                let lag = obs.at_ms.saturating_sub(r.ledger_time_ms);
                (lag > max_lag_ms).then(|| {
                    format!(
                        "its ledger is {:.1} s behind the clock (limit policy.max_source_lag = {:.1} s)",
                        lag as f64 / 1000.0,
                        max_lag_ms as f64 / 1000.0
                    )
                })
            }
        };
        note(&o.name, problem);
    }
    for n in [&obs.primary, &obs.backup].into_iter().flatten() {
        let problem = match &n.result {
            Err(e) => Some(e.to_string()),
            Ok(r) if r.health != NodeHealth::Up => {
                Some(format!("health {}: {}", r.health.as_str(), r.detail))
            }
            Ok(_) => None,
        };
        note(&n.name, problem);
    }
    let mut detail = if bad.is_empty() {
        format!("{good} source(s) reachable and synced")
    } else {
        format!(
            "{}; fix: bring these sources back, or correct their URLs under [sources], [primary] and [backup]",
            bad.join("; ")
        )
    };
    if !ignored.is_empty() {
        detail.push_str(&format!(
            " (not counted, they belong to the node we move away from: {})",
            ignored.join("; ")
        ));
    }
    check("sources", bad.is_empty(), detail)
}

/// Registration and key on ledger as every ledger source sees it; they must agree.
async fn check_validator(config: &Config, sources: &Sources, aim: Aim) -> (Check, bool) {
    let clients = sources.ledger_clients();
    let answers =
        futures_util::future::join_all(clients.iter().map(LedgerClient::registration)).await;
    let backup = hex_of(&config.backup_public_key);
    let primary = config.primary_public_key.as_ref().map(hex_of);
    let mut seen: Vec<(&str, Option<bool>, String)> = Vec::new();
    let mut errors = Vec::new();
    for (c, a) in clients.iter().zip(answers) {
        match a {
            Ok((registered, key)) => seen.push((c.name(), registered, key)),
            Err(e) => errors.push(format!("{}: {e}", c.name())),
        }
    }
    let validator = config.validator_bech32();
    let Some((_, _, key)) = seen.first() else {
        let why = if errors.is_empty() {
            "no ledger source is configured".to_string()
        } else {
            errors.join("; ")
        };
        return (
            unread(
                "validator",
                format!("could not read validator {validator} from any source ({why}); fix: configure a reachable gateway or Core API"),
            ),
            false,
        );
    };
    let key = key.clone();
    let is_backup = seen.iter().all(|(_, _, k)| *k == backup);
    if let Some((name, _, other)) = seen.iter().find(|(_, _, k)| *k != key) {
        return (
            check(
                "validator",
                false,
                format!(
                    "the sources disagree on the key on ledger ({} says {key}, {name} says {other}); fix: find the source that is behind or on another network",
                    seen[0].0
                ),
            ),
            false,
        );
    }
    if let Some((name, _, _)) = seen.iter().find(|(_, r, _)| *r == Some(false)) {
        return (
            check(
                "validator",
                false,
                format!("validator {validator} is not registered ({name}); fix: register it (owner action) before relying on a failover"),
            ),
            is_backup,
        );
    }
    let (from, to, from_name, to_name) = match aim {
        Aim::Backup => (
            primary.clone(),
            Some(backup.clone()),
            config.active.name(),
            config.active.other().name(),
        ),
        Aim::Primary => (
            Some(backup.clone()),
            primary.clone(),
            config.active.other().name(),
            config.active.name(),
        ),
    };
    let Some(from) = from else {
        return (
            check(
                "validator",
                false,
                "primary_public_key is not in the config, so the key on ledger cannot be checked; fix: add primary_public_key = \"<66 hex>\" from the primary's System API /identity",
            ),
            is_backup,
        );
    };
    let c = if key == from {
        let unread = if errors.is_empty() {
            String::new()
        } else {
            format!(
                " ({} could not be read: {})",
                errors.len(),
                errors.join("; ")
            )
        };
        check(
            "validator",
            true,
            format!("validator {validator} is registered; key on ledger is the {from_name}'s ({key}){unread}"),
        )
    } else if Some(&key) == to.as_ref() {
        check(
            "validator",
            false,
            format!("the key on ledger is already the {to_name}'s ({key}): nothing to rotate"),
        )
    } else {
        check(
            "validator",
            false,
            format!(
                "the key on ledger ({key}) is neither the primary's nor the backup's: someone rotated it outside this tool; fix: find out who, then set primary_public_key/backup_public_key to the real node keys"
            ),
        )
    };
    (c, is_backup)
}

/// Asks the gateways in config order; the first that answers decides (an answer that fails the
/// check is still an answer), and one that does not answer is no reason to stop. `Err`: every
/// gateway's error, `name: error; ...`.
async fn first_gateway_answer<'a, T>(
    sources: &'a Sources,
    ask: impl AsyncFn(&'a LedgerClient) -> Result<T, SourceError>,
) -> Result<(&'a LedgerClient, T), String> {
    let mut errors = Vec::new();
    for gw in sources.gateways() {
        match ask(gw).await {
            Ok(answer) => return Ok((gw, answer)),
            Err(e) => errors.push(format!("{}: {e}", gw.name())),
        }
    }
    Err(errors.join("; "))
}

/// Sum of an account's fungible amounts of `resource` (vault or global aggregation).
fn fungible_amount(
    item: &gw::StateEntityDetailsResponseItem,
    resource: &str,
) -> Result<Decimal, String> {
    let mut total = Decimal::ZERO;
    for f in item.fungible_resources.iter().flat_map(|c| &c.items) {
        let amounts: Vec<&str> = match f {
            gw::FungibleResourcesCollectionItem::Global {
                resource_address,
                amount,
                ..
            } if resource_address == resource => vec![amount.as_str()],
            gw::FungibleResourcesCollectionItem::Vault {
                resource_address,
                vaults,
            } if resource_address == resource => {
                vaults.items.iter().map(|v| v.amount.as_str()).collect()
            }
            _ => vec![],
        };
        for a in amounts {
            let d = Decimal::from_str(a).map_err(|_| format!("amount {a:?} is not a decimal"))?;
            total = total
                .checked_add(d)
                .ok_or_else(|| "amounts overflow".to_string())?;
        }
    }
    Ok(total)
}

/// Does the account hold the non-fungible `resource`:`local_id`?
fn holds_non_fungible(
    item: &gw::StateEntityDetailsResponseItem,
    resource: &str,
    local_id: &str,
) -> bool {
    item.non_fungible_resources
        .iter()
        .flat_map(|c| &c.items)
        .any(|n| match n {
            gw::NonFungibleResourcesCollectionItem::Vault {
                resource_address,
                vaults,
            } if resource_address == resource => vaults
                .items
                .iter()
                .flat_map(|v| v.items.iter().flatten())
                .any(|id| id.eq_ignore_ascii_case(local_id)),
            _ => false,
        })
}

/// Where the owner badge should be: the key-file account with the built-in manifest, or the
/// access controller a manifest template proves it from (`badge secure`: the controller is
/// listed in `manifest_allowed_calls`). `None`: a template that proves it from elsewhere.
pub fn badge_holder(config: &Config, account: &str) -> Option<String> {
    if let Some(ac) = config.badge_holder {
        return Some(encode_address(ac.as_node_id().as_bytes(), &config.network));
    }
    if config.manifest_template.is_none() {
        return Some(account.to_string());
    }
    config
        .manifest_allowed_calls
        .iter()
        .find(|c| {
            c.component.as_node_id().entity_type() == Some(EntityType::GlobalAccessController)
        })
        .map(|c| encode_address(c.component.as_node_id().as_bytes(), &config.network))
}

/// The access controller that holds the owner badge, if the failover proves it from one.
pub fn controller_address(config: &Config, account: &str) -> Option<String> {
    badge_holder(config, account).filter(|h| h != account)
}

/// The signature badge a transaction signed by the key-file account's key proves: the
/// preallocated account's id is that key's hash, as the signature badge's local id is.
fn signature_proof(config: &Config, account: &str) -> Option<access_controller::Proof> {
    let crate::badge::RoleHolder::Account { badge, .. } =
        crate::badge::parse_holder(account, &config.network).ok()?
    else {
        return None;
    };
    Some(access_controller::Proof {
        resource_address: encode_address(
            badge.resource_address().as_node_id().as_bytes(),
            &config.network,
        ),
        local_id: badge.local_id().to_string(),
    })
}

/// The access controller `ac` as the first gateway that answers shows it. `Err((why,
/// unread))`: `unread` when no gateway answered (or none is configured).
pub async fn read_controller(
    config: &Config,
    sources: &Sources,
    ac: &str,
    account: &str,
) -> Result<access_controller::ControllerView, (String, bool)> {
    let badge = encode_address(
        VALIDATOR_OWNER_BADGE.as_node_id().as_bytes(),
        &config.network,
    );
    let id = owner_badge_id(&config.validator)
        .map_err(|e| (format!("cannot compute the owner badge id: {e}"), false))?
        .to_string();
    let ours = signature_proof(config, account).ok_or_else(|| {
        (
            format!("{account} is not an account preallocated from a key"),
            false,
        )
    })?;
    if sources.gateways().next().is_none() {
        return Err(("no gateway is configured, and only a gateway shows an access controller's state; fix: add a gateway under [sources] gateways".into(), true));
    }
    let xrd = encode_address(XRD.as_node_id().as_bytes(), &config.network);
    let (gw, item) = first_gateway_answer(sources, async |gw| {
        gw.account_details(ac, &[&badge, &xrd]).await
    })
    .await
    .map_err(|errors| {
        (
            format!("could not read access controller {ac} from any gateway ({errors})"),
            true,
        )
    })?;
    let details = item
        .details
        .as_ref()
        .and_then(|d| serde_json::to_value(d).ok())
        .unwrap_or_default();
    let mut view =
        access_controller::view_of(&details, holds_non_fungible(&item, &badge, &id), &ours)
            .map_err(|e| (format!("{}: access controller {ac}: {e}", gw.name()), false))?;
    if access_controller::has_recovery_fee_vault(&details) {
        // The controller's only XRD vault is its recovery fee vault (the controlled asset
        // is the owner badge).
        let xrd_held = fungible_amount(&item, &xrd)
            .map_err(|e| (format!("{}: access controller {ac}: {e}", gw.name()), false))?;
        view.recovery_fee_xrd = Some(xrd_held.to_string());
    }
    Ok(view)
}

/// Rule 13: with the owner badge in an access controller, the controller holds it, the
/// daemon's key meets its primary role, the role is not locked and no recovery is in
/// progress. `None` when the badge is not in a controller; else the check and the controller
/// as read (`known`: as already read, not read again).
async fn check_controller(
    config: &Config,
    sources: &Sources,
    account: &str,
    known: Option<&access_controller::ControllerView>,
) -> Option<(Check, Option<access_controller::ControllerView>)> {
    let ac = controller_address(config, account)?;
    let read = match known {
        Some(v) => Ok(v.clone()),
        None => read_controller(config, sources, &ac, account).await,
    };
    let view = read.as_ref().ok().cloned();
    Some((controller_check(&ac, read), view))
}

/// The `controller` check of a reading of controller `ac`.
fn controller_check(
    ac: &str,
    read: Result<access_controller::ControllerView, (String, bool)>,
) -> Check {
    match read {
        Err((why, true)) => unread("controller", why),
        Err((why, false)) => check("controller", false, why),
        Ok(v) => {
            let blockers = access_controller::blockers(&v, ac);
            if blockers.is_empty() {
                let key = match v.primary_ours {
                    Some(_) => "the daemon's key meets its primary role",
                    None => "its primary rule is not shown (the preview proves the key)",
                };
                check(
                    "controller",
                    true,
                    format!(
                        "access controller {ac} holds the owner badge, {key}; {}; {}",
                        access_controller::summary(&v),
                        access_controller::recovery_fee_text(&v)
                    ),
                )
            } else {
                check("controller", false, blockers.join("; "))
            }
        }
    }
}

/// Whether the owner badge is held by `holder` (an account or an access controller), for the
/// authority tripwire (rule 11). `None` when no gateway is configured (only a gateway shows
/// an entity's holdings) or when no gateway answers.
pub async fn owner_badge_in(config: &Config, sources: &Sources, holder: &str) -> Option<bool> {
    // Only a gateway shows an entity's holdings.
    sources.gateways().next()?;
    let badge = encode_address(
        VALIDATOR_OWNER_BADGE.as_node_id().as_bytes(),
        &config.network,
    );
    let id = owner_badge_id(&config.validator).ok()?.to_string();
    let (_, item) = first_gateway_answer(sources, async |gw| {
        gw.account_details(holder, &[&badge]).await
    })
    .await
    .ok()?;
    Some(holds_non_fungible(&item, &badge, &id))
}

/// Where our owner badge is now, for the tripwire's alert when it left its holder: the
/// address of the entity that owns its vault, or "burned". `None` when no gateway answers.
pub async fn owner_badge_location(config: &Config, sources: &Sources) -> Option<String> {
    sources.gateways().next()?;
    let badge = encode_address(
        VALIDATOR_OWNER_BADGE.as_node_id().as_bytes(),
        &config.network,
    );
    let id = owner_badge_id(&config.validator).ok()?.to_string();
    let (_, owner) =
        first_gateway_answer(sources, async |gw| gw.non_fungible_owner(&badge, &id).await)
            .await
            .ok()?;
    Some(owner.unwrap_or_else(|| "burned".into()))
}

async fn check_account(config: &Config, sources: &Sources, account: &str) -> Check {
    if sources.gateways().next().is_none() {
        return check("account", true, NOT_CHECKED_ACCOUNT);
    }
    let xrd = encode_address(XRD.as_node_id().as_bytes(), &config.network);
    let badge = encode_address(
        VALIDATOR_OWNER_BADGE.as_node_id().as_bytes(),
        &config.network,
    );
    // Every page: the badge or the XRD may be on a later one. The first gateway that answers
    // decides; one that does not is no reason to stop.
    let answer = first_gateway_answer(sources, async |gw| {
        gw.account_details(account, &[&xrd, &badge]).await
    })
    .await;
    let (gw, item) = match answer {
        Ok(a) => a,
        Err(errors) => {
            return unread(
                "account",
                format!("could not read account {account} from any gateway ({errors})"),
            )
        }
    };
    let mut problems = Vec::new();
    let balance = match fungible_amount(&item, &xrd) {
        Ok(b) => {
            if b < config.fee_lock_xrd {
                problems.push(format!(
                    "it holds {b} XRD, less than fee_lock_xrd = {}; fix: send XRD to {account}",
                    config.fee_lock_xrd
                ));
            }
            b.to_string()
        }
        Err(e) => {
            problems.push(format!("{}: unreadable XRD balance ({e})", gw.name()));
            "?".into()
        }
    };
    let badge_note = if let Some(ac) = controller_address(config, account) {
        format!("(the owner badge is in access controller {ac}: see the controller check)")
    } else if config.manifest_template.is_some() {
        "the owner badge is proven by the manifest template (the preview checks it)".to_string()
    } else {
        match owner_badge_id(&config.validator) {
            Ok(id) => {
                let id = id.to_string();
                if holds_non_fungible(&item, &badge, &id) {
                    format!("holds the owner badge {id}")
                } else {
                    problems.push(format!(
                        "it does not hold the validator's owner badge ({badge} {id}); fix: move the badge to {account}, or use a manifest_template that proves it from where it is"
                    ));
                    String::new()
                }
            }
            Err(e) => {
                problems.push(format!("cannot compute the owner badge id: {e}"));
                String::new()
            }
        }
    };
    if problems.is_empty() {
        check(
            "account",
            true,
            format!(
                "account {account} {badge_note} and {balance} XRD (fee lock {} XRD)",
                config.fee_lock_xrd
            ),
        )
    } else {
        check(
            "account",
            false,
            format!("account {account}: {}", problems.join("; ")),
        )
    }
}

async fn check_target_node(config: &Config, sources: &Sources, aim: Aim) -> Check {
    let (name, obs, key) = match aim {
        Aim::Backup => (
            config.active.other().name(),
            sources.backup_node().await,
            Some(config.backup_public_key),
        ),
        Aim::Primary => (
            config.active.name(),
            sources.primary_node().await,
            config.primary_public_key,
        ),
    };
    let Some(SourceObservation { result, .. }) = obs else {
        return check(
            name,
            false,
            format!("the {name} node's System API is not configured, so its readiness cannot be checked; fix: add [{name}] system_api = \"http://<host>:3334/system\""),
        );
    };
    let Some(key) = key.as_ref().map(hex_of) else {
        return check(
            name,
            false,
            format!("{name}_public_key is not in the config; fix: add it from the {name} node's System API /identity"),
        );
    };
    let r: NodeReading = match result {
        Ok(r) => r,
        Err(e) => {
            return check(
                name,
                false,
                format!("the {name} node's System API does not answer: {e}; fix: start the node or correct [{name}] system_api"),
            )
        }
    };
    let validator = config.validator_bech32();
    let mut problems = Vec::new();
    if r.health != NodeHealth::Up {
        problems.push(format!(
            "it is not UP but {} ({}); fix: wait until it is synced",
            r.health.as_str(),
            r.detail
        ));
    }
    if let NodeConsensus::Other(raw) = &r.consensus {
        problems.push(format!(
            "its consensus status is {raw}, which this version does not know (read as not validating); fix: check the node, or a newer radix-failover"
        ));
    }
    if r.validator_address.as_deref() != Some(validator.as_str()) {
        problems.push(format!(
            "it is configured for validator {} instead of {validator}; fix: set the node's validator address to {validator} and restart it",
            r.validator_address.as_deref().unwrap_or("(none)")
        ));
    }
    if r.public_key_hex != key {
        problems.push(format!(
            "its key is {}, not the configured {name}_public_key {key}; fix: correct {name}_public_key or point [{name}] at the right node",
            r.public_key_hex
        ));
    }
    if problems.is_empty() {
        check(
            name,
            true,
            format!("the {name} node is UP, configured for {validator}, key {key}"),
        )
    } else {
        check(
            name,
            false,
            format!("the {name} node: {}", problems.join("; ")),
        )
    }
}

async fn check_preview(sources: &Sources, tx: &BuiltTransaction) -> Check {
    if sources.gateways().next().is_none() {
        return check("preview", true, NOT_CHECKED_PREVIEW);
    }
    let notary = match &tx.header.notary_public_key {
        PublicKey::Ed25519(k) => radix_api::PublicKey::EddsaEd25519 {
            key_hex: hex::encode(k.0),
        },
        PublicKey::Secp256k1(k) => radix_api::PublicKey::EcdsaSecp256k1 {
            key_hex: hex::encode(k.0),
        },
    };
    let req = gw::TransactionPreviewRequest {
        manifest: tx.manifest.clone(),
        blobs_hex: Some(vec![]),
        start_epoch_inclusive: Some(tx.start_epoch_inclusive()),
        end_epoch_exclusive: Some(tx.end_epoch_exclusive()),
        notary_public_key: Some(notary),
        notary_is_signatory: Some(tx.header.notary_is_signatory),
        tip_percentage: Some(tx.header.tip_percentage),
        nonce: Some(tx.nonce()),
        signer_public_keys: Some(vec![]),
        // Real fee payment and real signature proofs: the preview must fail where the
        // transaction would.
        flags: Some(gw::PreviewFlags {
            use_free_credit: false,
            assume_all_signature_proofs: false,
            skip_epoch_check: false,
            disable_auth_checks: false,
        }),
    };
    // The first gateway that answers decides (a failed receipt is an answer).
    let (gw, p) = match first_gateway_answer(sources, async |gw| gw.preview(&req).await).await {
        Ok(a) => a,
        Err(errors) => {
            return unread(
                "preview",
                format!("could not preview the transaction on any gateway ({errors})"),
            )
        }
    };
    if p.receipt_status() == Some("Succeeded") {
        return check(
            "preview",
            true,
            format!(
                "{} previews the transaction (epochs {}..{}): Succeeded",
                gw.name(),
                tx.start_epoch_inclusive(),
                tx.end_epoch_exclusive()
            ),
        );
    }
    let msg = p
        .receipt
        .get("error_message")
        .and_then(|m| m.as_str())
        .unwrap_or("no error message");
    check(
        "preview",
        false,
        format!(
            "{}: the preview's receipt is {} ({msg}); fix: see the account, validator and backup checks, or the manifest template",
            gw.name(),
            p.receipt_status().unwrap_or("missing")
        ),
    )
}
