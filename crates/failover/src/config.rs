//! Configuration, in two stages: the raw TOML (`RawConfig`, unknown keys rejected so a typo
//! cannot pass silently) and one validated `Config` whose fields are domain types.
//!
//! Every error names the field, the bad value and the fix. Relative `key_file` and
//! `manifest_template` paths are resolved against the directory of the config file, so a
//! config works the same whatever the daemon's working directory is.
//!
//! The daemon's sections (`[primary]`, `[backup]`, `[sources]`, `[policy]`, `[daemon]`) live in
//! `config/sections.rs`; they are optional in the file, and `Config::require_watch` says what
//! the watching commands need.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use radix_common::address::{AddressBech32Decoder, HrpSet};
use radix_common::crypto::Secp256k1PublicKey;
use radix_common::math::Decimal;
use radix_common::network::NetworkDefinition;
use radix_common::types::{ComponentAddress, EntityType};
use serde::Deserialize;

use crate::file_trust::{read_trusted, ReadTrustedError};
use crate::manifest_guard::AllowedCall;
use crate::manifest_template::ManifestTemplate;
use crate::network::{self, known_networks};
use crate::observe::SourceKind;

pub mod conn;
mod failover_reach;
mod sections;
pub mod template;
pub use sections::*;

/// Fee locked when the config does not say: ~40x the ~0.26 XRD the update_key transaction
/// costs on a fresh ledger, so fee spikes do not fail the failover; unused fee is not charged.
pub const DEFAULT_FEE_LOCK_XRD: &str = "10";
/// Upper bound on `fee_lock_xrd`: far above any real cost; a larger value is almost surely a
/// typo (extra zeros) and would make the lock fail on an account holding a normal float.
pub const MAX_FEE_LOCK_XRD: u32 = 1000;

/// A network given either as a name or a numeric id.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawNetwork {
    Id(i64),
    Name(String),
}

/// A decimal given as a string (preferred: exact) or a TOML number.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawDecimal {
    Text(String),
    Int(i64),
    Float(f64),
}

impl fmt::Display for RawDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawDecimal::Text(s) => f.write_str(s),
            RawDecimal::Int(i) => write!(f, "{i}"),
            RawDecimal::Float(x) => write!(f, "{x}"),
        }
    }
}

/// The config file as written. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub network: RawNetwork,
    pub validator: String,
    pub backup_public_key: String,
    pub key_file: PathBuf,
    pub fee_lock_xrd: Option<RawDecimal>,
    pub manifest_template: Option<PathBuf>,
    /// The access controller that holds the owner badge (`badge secure`).
    pub badge_holder: Option<String>,
    /// Components (an access manager) and methods a manifest template may call.
    #[serde(default)]
    pub manifest_allowed_calls: Vec<RawAllowedCall>,
    /// The key the primary node signs with (66 hex); needed by the watching commands.
    pub primary_public_key: Option<String>,
    #[serde(default)]
    pub primary: RawNode,
    #[serde(default)]
    pub backup: RawNode,
    #[serde(default)]
    pub sources: RawSources,
    #[serde(default)]
    pub policy: RawPolicy,
    #[serde(default)]
    pub daemon: RawDaemon,
    pub alerts: Option<crate::alerts::RawAlerts>,
    #[serde(default)]
    pub metrics: crate::metrics::RawMetrics,
    #[serde(default)]
    pub hooks: crate::hooks::RawHooks,
}

/// One `manifest_allowed_calls` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAllowedCall {
    pub component: String,
    pub methods: Vec<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was loaded from (for messages).
    pub source: PathBuf,
    pub network: NetworkDefinition,
    pub validator: ComponentAddress,
    pub backup_public_key: Secp256k1PublicKey,
    /// Absolute (or config-relative resolved) path of the notary / badge-account key file.
    pub key_file: PathBuf,
    pub fee_lock_xrd: Decimal,
    pub manifest_template: Option<ManifestTemplate>,
    /// The access controller that holds the owner badge, whose primary role is the key file's
    /// key: the built-in manifest then proves the badge with its `create_proof`. `None`: the
    /// badge is in the key-file account (or a template proves it).
    pub badge_holder: Option<ComponentAddress>,
    /// What a template may call besides the account and the validator (`manifest_guard`).
    pub manifest_allowed_calls: Vec<AllowedCall>,
    pub primary_public_key: Option<Secp256k1PublicKey>,
    pub primary: NodeEndpoints,
    pub backup: NodeEndpoints,
    /// Which configured node the `primary` slot holds: [`Node::Primary`] as loaded,
    /// [`Node::Backup`] once a re-arm swapped the roles ([`Config::swapped`]).
    pub active: crate::roles::Node,
    /// Ledger sources (Gateways and Core APIs), in a fixed order.
    pub sources: Vec<SourceSpec>,
    pub policy: PolicyParams,
    pub daemon: DaemonParams,
    /// Alert channels (`[alerts]`); `None`: no alerts.
    pub alerts: Option<crate::alerts::AlertsConfig>,
    /// Where the Prometheus endpoint listens (`[metrics] listen`); `None`: off.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `[hooks]`: commands around a switch (rule 12, `hooks.rs`).
    pub hooks: crate::hooks::Hooks,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error} (fix: check the path given to --config)")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("config file refused: {problem}; fix: {fix}")]
    Untrusted { problem: String, fix: String },
    #[error("config file {path} is not valid: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("config file {path}: `{field}` = {value:?}: {problem}; fix: {fix}")]
    Field {
        path: PathBuf,
        field: &'static str,
        value: String,
        problem: String,
        fix: String,
    },
}

impl Config {
    /// Reads, parses and validates a config file. Does not read the key file (see
    /// `keyfile::load_ed25519_key`), but does read and check the manifest template.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read_trusted(path).map_err(|e| match e {
            ReadTrustedError::Io(error) => ConfigError::Read {
                path: path.to_path_buf(),
                error,
            },
            ReadTrustedError::Untrusted(u) => ConfigError::Untrusted {
                problem: u.problem(path),
                fix: u.fix(path),
            },
        })?;
        // Absolute, so relative key_file/manifest_template resolve against the config's
        // directory and messages show paths that work from anywhere.
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let raw = RawConfig::parse(&path, &text)?;
        raw.validate(&path)
    }
}

impl RawConfig {
    pub fn parse(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml {
            path: path.to_path_buf(),
            message: toml_message(&e, text),
        })
    }

    /// Turns the raw config into a `Config`; `path` is the config file (for relative paths).
    pub fn validate(self, path: &Path) -> Result<Config, ConfigError> {
        let field_err =
            |field: &'static str, value: &str, problem: String, fix: String| ConfigError::Field {
                path: path.to_path_buf(),
                field,
                value: value.to_string(),
                problem,
                fix,
            };
        let network = match &self.network {
            RawNetwork::Name(s) => network::parse_network(s),
            RawNetwork::Id(id) => u8::try_from(*id)
                .map_err(|_| network::NetworkError::Unknown(id.to_string()))
                .and_then(network::from_id),
        }
        .map_err(|e| {
            let value = match &self.network {
                RawNetwork::Name(s) => s.clone(),
                RawNetwork::Id(i) => i.to_string(),
            };
            field_err(
                "network",
                &value,
                "not a supported network".into(),
                format!("use one of {}", network::supported_list()) + &hint_of(&e),
            )
        })?;

        let validator = parse_validator_address(&self.validator, &network).map_err(|problem| {
            field_err(
                "validator",
                &self.validator,
                problem,
                format!(
                    "use your validator's address on {} (it starts with `validator_{}1`)",
                    network.logical_name, network.hrp_suffix
                ),
            )
        })?;

        let backup_public_key =
            parse_secp256k1_public_key(&self.backup_public_key).map_err(|problem| {
                field_err(
                    "backup_public_key",
                    &self.backup_public_key,
                    problem,
                    "use the backup node's key as its System API /identity reports it (`public_key_hex`: 66 hex characters, starting with 02 or 03)".into(),
                )
            })?;

        let base = path.parent().unwrap_or_else(|| Path::new("."));
        // `$CREDENTIALS_DIRECTORY/<name>`: a systemd credential, expanded when the key is read
        // (the variable is set only inside the unit), so not resolved against the config's dir.
        let key_file = match crate::keyfile::credential_name(&self.key_file) {
            Some(name) if !crate::keyfile::valid_credential_name(name) => {
                return Err(field_err(
                    "key_file",
                    &self.key_file.display().to_string(),
                    "is not a valid credential name after $CREDENTIALS_DIRECTORY/".into(),
                    "use one file name of letters, digits, '.', '_' or '-', such as \"$CREDENTIALS_DIRECTORY/owner.key\"".into(),
                ))
            }
            Some(_) => self.key_file.clone(),
            None => resolve(base, &self.key_file),
        };
        if self.key_file.as_os_str().is_empty() {
            return Err(field_err(
                "key_file",
                "",
                "is empty".into(),
                "give the path of the key file written by `radix-failover keys derive --out FILE`"
                    .into(),
            ));
        }

        let fee_raw = self
            .fee_lock_xrd
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_else(|| DEFAULT_FEE_LOCK_XRD.to_string());
        let fee_lock_xrd = parse_fee(&fee_raw).map_err(|problem| {
            field_err(
                "fee_lock_xrd",
                &fee_raw,
                problem,
                format!("give an XRD amount above 0 and at most {MAX_FEE_LOCK_XRD}, as a string, e.g. fee_lock_xrd = \"10\""),
            )
        })?;

        let manifest_template = match &self.manifest_template {
            None => None,
            Some(p) => {
                let resolved = resolve(base, p);
                let shown = p.display().to_string();
                let text = read_trusted(&resolved).map_err(|e| match e {
                    ReadTrustedError::Io(e) => field_err(
                        "manifest_template",
                        &shown,
                        format!("cannot read {}: {e}", resolved.display()),
                        "check the path (relative paths are resolved against the config file's directory)".into(),
                    ),
                    ReadTrustedError::Untrusted(u) => field_err(
                        "manifest_template",
                        &shown,
                        u.problem(&resolved),
                        u.fix(&resolved),
                    ),
                })?;
                Some(ManifestTemplate::parse(resolved, text).map_err(|e| {
                    field_err(
                        "manifest_template",
                        &shown,
                        e.to_string(),
                        "edit the template; see docs/keys-and-transaction.md for the placeholders"
                            .into(),
                    )
                })?)
            }
        };

        let badge_holder = match &self.badge_holder {
            None => None,
            Some(s) => Some(
                parse_badge_holder(s, &network, manifest_template.is_some())
                    .map_err(|(problem, fix)| field_err("badge_holder", s, problem, fix))?,
            ),
        };
        let mut manifest_allowed_calls = allowed_calls(
            &self.manifest_allowed_calls,
            &network,
            manifest_template.is_some(),
        )
        .map_err(|(value, problem, fix)| {
            field_err("manifest_allowed_calls", &value, problem, fix)
        })?;
        // The built-in manifest calls the controller's `create_proof`, and nothing else of it.
        if let Some(ac) = badge_holder {
            manifest_allowed_calls.push(AllowedCall {
                component: ac,
                methods: vec!["create_proof".into()],
            });
        }

        let primary_public_key = match &self.primary_public_key {
            None => None,
            Some(s) => Some(parse_secp256k1_public_key(s).map_err(|problem| {
                field_err(
                    "primary_public_key",
                    s,
                    problem,
                    "use the primary node's key as its System API /identity reports it (`public_key_hex`: 66 hex characters)".into(),
                )
            })?),
        };
        if primary_public_key == Some(backup_public_key) {
            return Err(field_err(
                "primary_public_key",
                self.primary_public_key.as_deref().unwrap_or_default(),
                "is the same key as backup_public_key".into(),
                "the backup node must have its own key: take each from that node's System API /identity".into(),
            ));
        }
        let sec = |(field, value, problem, fix): FieldProblem| ConfigError::Field {
            path: path.to_path_buf(),
            field,
            value,
            problem,
            fix,
        };
        let (primary, backup) = sections::nodes(&self.primary, &self.backup, base).map_err(sec)?;
        let sources = sections::sources(&self.sources, &primary, &backup, base).map_err(sec)?;
        secrets_need_a_private_config(path, &primary, &backup, &sources).map_err(sec)?;
        let policy = sections::policy(&self.policy).map_err(sec)?;
        let daemon = sections::daemon(&self.daemon, &self.sources, base).map_err(sec)?;
        let alerts = self
            .alerts
            .as_ref()
            .map(|a| a.validate())
            .transpose()
            .map_err(sec)?;
        let metrics_listen = self.metrics.validate().map_err(sec)?;
        let hooks = self.hooks.validate().map_err(sec)?;

        Ok(Config {
            source: path.to_path_buf(),
            network,
            validator,
            backup_public_key,
            key_file,
            fee_lock_xrd,
            manifest_template,
            badge_holder,
            manifest_allowed_calls,
            primary_public_key,
            primary,
            backup,
            active: crate::roles::Node::Primary,
            sources,
            policy,
            daemon,
            alerts,
            metrics_listen,
            hooks,
        })
    }
}

/// A header value or URL userinfo lives in the config file itself: then the file must be as
/// private as a password file (others could read the secret), checked like it.
fn secrets_need_a_private_config(
    path: &Path,
    primary: &NodeEndpoints,
    backup: &NodeEndpoints,
    sources: &[SourceSpec],
) -> Result<(), FieldProblem> {
    use std::os::unix::fs::PermissionsExt;
    let holder = [("primary", &primary.conn), ("backup", &backup.conn)]
        .into_iter()
        .chain(sources.iter().map(|s| (s.name.as_str(), &s.conn)))
        .find(|(_, c)| c.secret_in_config());
    let Some((holder, _)) = holder else {
        return Ok(());
    };
    // A config that is not a file on disk (built in a test) has no mode to check.
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(sections::problem(
            "headers",
            holder,
            format!("the config file holds a secret (a header value or user:password@ in a URL, for {holder}) but is readable or writable by group/others (mode {mode:04o})"),
            format!("chmod 600 {}, or move the password to basic_auth_password_file", path.display()),
        ));
    }
    Ok(())
}

fn hint_of(e: &network::NetworkError) -> String {
    match e {
        network::NetworkError::UnknownId(id) => format!(" (id {id} is not one of them)"),
        network::NetworkError::Unknown(_) => String::new(),
    }
}

/// True for `localhost` and loopback addresses (where plain http stays on the machine).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    }
}

pub(crate) fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The toml error as one line: "line N: unknown field `netwrk`, expected one of ..." + the fix.
fn toml_message(e: &toml::de::Error, text: &str) -> String {
    let mut msg = e.message().trim().to_string();
    if let Some(span) = e.span() {
        let start = span.start.min(text.len());
        let line = text[..start].matches('\n').count() + 1;
        // Name the key, never the value: the value may be a secret.
        let key = text[..start]
            .rsplit('\n')
            .next()
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim())
            .filter(|k| !k.is_empty());
        msg = match key {
            Some(k) => format!("line {line}, key `{k}`: {msg}"),
            None => format!("line {line}: {msg}"),
        };
    }
    if e.message().contains("unknown field") {
        msg.push_str(" (fix: correct the key's spelling or remove it; unknown keys are refused so typos cannot pass silently)");
    } else if e.message().contains("missing field") {
        msg.push_str(
            " (fix: add the key; see docs/keys-and-transaction.md for a complete example)",
        );
    }
    msg
}

fn parse_fee(s: &str) -> Result<Decimal, String> {
    let d = Decimal::from_str(s.trim()).map_err(|_| "not a decimal number".to_string())?;
    if d <= Decimal::ZERO {
        return Err("must be above 0".into());
    }
    if d > Decimal::from(MAX_FEE_LOCK_XRD) {
        return Err(format!(
            "more than {MAX_FEE_LOCK_XRD} XRD (almost surely a typo)"
        ));
    }
    Ok(d)
}

/// Parses a validator address and checks it is for `network`; a wrong-network address is named
/// with the network it belongs to.
pub fn parse_validator_address(
    s: &str,
    network: &NetworkDefinition,
) -> Result<ComponentAddress, String> {
    let (hrp, entity, data) = AddressBech32Decoder::validate_and_decode_ignore_hrp(s.trim())
        .map_err(|_| "not a valid Radix (bech32m) address".to_string())?;
    if entity != EntityType::GlobalValidator {
        return Err(format!(
            "this is a {} address, not a validator address",
            entity_name(entity)
        ));
    }
    let expected = HrpSet::from(network).get_entity_hrp(&entity).to_string();
    if hrp != expected {
        let belongs = known_networks()
            .find(|n| HrpSet::from(n).get_entity_hrp(&entity) == hrp)
            .map(|n| format!("a {} address", n.logical_name))
            .unwrap_or_else(|| format!("an address with prefix `{hrp}`"));
        return Err(format!(
            "this is {belongs}, but the configured network is {} (addresses start with `{expected}1`)",
            network.logical_name
        ));
    }
    ComponentAddress::try_from(data.as_slice())
        .map_err(|_| "not a valid component address".to_string())
}

/// Validates `manifest_allowed_calls`: components on this network, never an account or a
/// validator (their methods include withdrawals and fee changes), at least one method each.
fn allowed_calls(
    raw: &[RawAllowedCall],
    network: &NetworkDefinition,
    has_template: bool,
) -> Result<Vec<AllowedCall>, (String, String, String)> {
    if !raw.is_empty() && !has_template {
        return Err((
            format!("{} entries", raw.len()),
            "is only used by a manifest_template, and there is none".into(),
            "remove manifest_allowed_calls, or set manifest_template".into(),
        ));
    }
    raw.iter()
        .map(|c| {
            let component = parse_allowed_component(&c.component, network).map_err(|problem| {
                (
                    c.component.clone(),
                    problem,
                    "give the address of the access-manager component your template calls".into(),
                )
            })?;
            let bad_method = c
                .methods
                .iter()
                .find(|m| m.trim().is_empty() || m.trim() != m.as_str());
            if c.methods.is_empty() || bad_method.is_some() {
                return Err((
                    c.component.clone(),
                    "needs `methods`, a list of method names without spaces".into(),
                    "list the methods the template calls on it, e.g. methods = [\"create_proof\"]"
                        .into(),
                ));
            }
            Ok(AllowedCall {
                component,
                methods: c.methods.clone(),
            })
        })
        .collect()
}

/// Validates `badge_holder`: an access controller on this network, and no manifest template
/// (the template would prove the badge its own way). Errors are (problem, fix).
fn parse_badge_holder(
    s: &str,
    network: &NetworkDefinition,
    has_template: bool,
) -> Result<ComponentAddress, (String, String)> {
    let fix = "give the accesscontroller_... address that the `radix-failover badge secure` transaction created (its receipt, or the Dashboard's view of the validator's owner badge, shows it); leave badge_holder out while the badge is in the key file's account".to_string();
    let ac = parse_allowed_component(s, network).map_err(|p| (p, fix.clone()))?;
    if ac.as_node_id().entity_type() != Some(EntityType::GlobalAccessController) {
        let kind = ac
            .as_node_id()
            .entity_type()
            .map(entity_name)
            .unwrap_or_else(|| "unknown".into());
        return Err((
            format!("this is a {kind} address, not an access controller"),
            fix,
        ));
    }
    if has_template {
        return Err((
            "is set together with manifest_template; with badge_holder the built-in manifest proves the badge from the access controller".into(),
            "remove manifest_template (and its manifest_allowed_calls entry for the controller), or remove badge_holder".into(),
        ));
    }
    Ok(ac)
}

fn parse_allowed_component(
    s: &str,
    network: &NetworkDefinition,
) -> Result<ComponentAddress, String> {
    let (hrp, entity, data) = AddressBech32Decoder::validate_and_decode_ignore_hrp(s.trim())
        .map_err(|_| "not a valid Radix (bech32m) address".to_string())?;
    let expected = HrpSet::from(network).get_entity_hrp(&entity).to_string();
    if hrp != expected {
        return Err(format!(
            "this address is not for the configured network {} (addresses start with `{expected}1`)",
            network.logical_name
        ));
    }
    if entity.is_global_account() || entity == EntityType::GlobalValidator {
        return Err(format!(
            "this is a {} address: allowing its methods would allow withdrawals or validator changes",
            entity_name(entity)
        ));
    }
    ComponentAddress::try_from(data.as_slice()).map_err(|_| {
        format!(
            "this is a {} address, not a component address",
            entity_name(entity)
        )
    })
}

fn entity_name(e: EntityType) -> String {
    let s = format!("{e:?}");
    s.strip_prefix("Global").unwrap_or(&s).to_string()
}

/// Parses a validator consensus key: 33-byte compressed secp256k1 as 66 hex characters, and
/// checks it is a point on the curve (a wrong key would take the validator offline).
pub fn parse_secp256k1_public_key(s: &str) -> Result<Secp256k1PublicKey, String> {
    let t = s.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let bytes = hex::decode(t).map_err(|_| "not hexadecimal".to_string())?;
    if bytes.len() != Secp256k1PublicKey::LENGTH {
        return Err(format!(
            "{} bytes; a compressed secp256k1 key has 33 bytes (66 hex characters)",
            bytes.len()
        ));
    }
    if bytes[0] != 0x02 && bytes[0] != 0x03 {
        return Err("not a compressed secp256k1 key (must start with 02 or 03)".into());
    }
    secp256k1::PublicKey::from_slice(&bytes)
        .map_err(|_| "not a valid secp256k1 curve point".to_string())?;
    Secp256k1PublicKey::try_from(bytes.as_slice())
        .map_err(|_| "not a valid secp256k1 public key".to_string())
}

impl Config {
    /// Human-readable resolved config (no secrets: the key file's path only).
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "network",
                format!("{} (id {})", self.network.logical_name, self.network.id),
            ),
            ("validator", self.validator_bech32()),
            ("backup_public_key", hex::encode(self.backup_public_key.0)),
            ("key_file", self.key_file.display().to_string()),
            ("fee_lock_xrd", self.fee_lock_xrd.to_string()),
            (
                "manifest_template",
                self.manifest_template
                    .as_ref()
                    .map(|t| t.path.display().to_string())
                    .unwrap_or_else(|| "(built in)".into()),
            ),
        ]
    }

    /// A config with only what a transaction needs (the daemon sections at their defaults,
    /// no sources): for tools and tests that build transactions without a config file.
    pub fn transaction_only(
        network: NetworkDefinition,
        validator: ComponentAddress,
        backup_public_key: Secp256k1PublicKey,
        key_file: PathBuf,
    ) -> Config {
        Config {
            source: PathBuf::from("(built in code)"),
            network,
            validator,
            backup_public_key,
            key_file,
            fee_lock_xrd: Decimal::from(10),
            manifest_template: None,
            badge_holder: None,
            manifest_allowed_calls: Vec::new(),
            primary_public_key: None,
            primary: NodeEndpoints::default(),
            backup: NodeEndpoints::default(),
            active: crate::roles::Node::Primary,
            sources: Vec::new(),
            policy: PolicyParams::default(),
            daemon: DaemonParams {
                state_file: None,
                submit_deadline: DEFAULT_SUBMIT_DEADLINE,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                max_pause: crate::maintenance::DEFAULT_MAX_PAUSE,
                control_group: None,
            },
            alerts: None,
            metrics_listen: None,
            hooks: Default::default(),
        }
    }

    /// The config with the pair's roles swapped: the other node in the `primary` slot (its
    /// endpoints and key) and this one in the `backup` slot. `None` when the primary's key is
    /// not configured (the standby's key must be known to rotate to it). The sources keep
    /// their names (`core primary` stays the configured primary's Core API), so logs name
    /// the real node; [`Config::active`] says which node the `primary` slot now holds.
    pub fn swapped(&self) -> Option<Config> {
        let primary_key = self.primary_public_key?;
        let mut c = self.clone();
        c.primary_public_key = Some(self.backup_public_key);
        c.backup_public_key = primary_key;
        std::mem::swap(&mut c.primary, &mut c.backup);
        c.active = self.active.other();
        Some(c)
    }

    /// What is allowed but risky: `config check` prints these and the daemon logs them at every
    /// start. Each names the risk and the fix.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = |name: &str, url: &url::Url, conn: &conn::Conn| {
            if conn.insecure_skip_tls_verify {
                out.push(format!("{name}: insecure_skip_tls_verify = true: its TLS certificate is NOT checked, so anyone on the network path can pose as it and fake its answers (for a lab only; fix: set tls_pin_sha256 to the certificate's fingerprint instead)"));
            }
            if url.scheme() == "http" && !is_loopback(url) {
                out.push(format!("{name}: plain http:// to {}: its answers (and any password) cross the network unprotected, so anyone on the path can read or fake them (fix: reach it over https, e.g. through the node's nginx at https://HOST/core and https://HOST/system)", sections::display_host(url)));
            }
        };
        for (name, node) in [("primary", &self.primary), ("backup", &self.backup)] {
            if let Some(u) = &node.system_api {
                seen(&format!("system {name}"), u, &node.conn);
            }
        }
        for s in &self.sources {
            seen(&s.name, &s.url, &s.conn);
        }
        out.extend(failover_reach::Reach::of(self).weaknesses());
        if self.policy.rearm && self.primary_public_key.is_none() {
            out.push("policy.rearm = true, but primary_public_key is not set: after a failover the daemon cannot aim a switch back at the primary, so the pair is NOT re-armed and stays unprotected until someone acts (fix: add primary_public_key = \"<66 hex>\" from the primary's System API /identity)".to_string());
        }
        if self.watches_anything() && !self.sources.iter().any(|s| s.kind == SourceKind::Gateway) {
            out.push("no gateway under [sources] gateways: pre-flight cannot check the account's owner badge and XRD or preview the failover transaction (only a gateway can), so they are first tried when a failover is needed (fix: add a gateway, e.g. https://mainnet.radixdlt.com)".to_string());
        }
        out
    }

    /// It names sources or System APIs to watch (not a config for the offline `tx` alone).
    pub fn watches_anything(&self) -> bool {
        !self.sources.is_empty()
            || self.primary.system_api.is_some()
            || self.backup.system_api.is_some()
    }

    /// Refuses a config that can never fail over: once the primary is dead, too few sources
    /// are left for the early signal and for the miss rule (`config/failover_reach.rs`).
    /// Checked by `config check` and by every watching command.
    pub fn require_reach(&self) -> Result<(), ConfigError> {
        match failover_reach::Reach::of(self).never_fails_over() {
            None => Ok(()),
            Some(why) => Err(ConfigError::Field {
                path: self.source.clone(),
                field: "sources",
                value: self.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
                problem: why,
                fix: "add Core APIs that do not run on the primary: the backup's as [backup] core_api = \"https://<backup host>/core\", or other nodes' under [sources] core_apis; or set [primary] system_api and enough gateways for the early signal".into(),
            }),
        }
    }

    /// Loads the notary / badge-account key from `key_file` (mode and content checked).
    pub fn load_notary_key(
        &self,
    ) -> Result<radix_common::crypto::Ed25519PrivateKey, crate::keyfile::KeyFileError> {
        crate::keyfile::load_ed25519_key(&self.key_file)
    }

    pub fn validator_bech32(&self) -> String {
        crate::keys::encode_address(self.validator.as_node_id().as_bytes(), &self.network)
    }

    /// Checks the config has what the watching commands (`run`, `status`, `failover`,
    /// `failback`) need: the primary's key, at least one ledger source, the backup's System
    /// API, and (for `run`, `need_state`) a state file. Each missing piece is named with the
    /// lines to add.
    pub fn require_watch(&self, need_state: bool) -> Result<(), ConfigError> {
        let missing = |field: &'static str, fix: &str| ConfigError::Field {
            path: self.source.clone(),
            field,
            value: String::new(),
            problem: "is missing; the watching commands need it".into(),
            fix: fix.to_string(),
        };
        if self.primary_public_key.is_none() {
            return Err(missing("primary_public_key", "add primary_public_key = \"<66 hex>\", the primary node's key from its System API /identity"));
        }
        if self.sources.is_empty() {
            return Err(missing("sources", "add [sources] gateways = [\"https://mainnet.radixdlt.com\"] and core_apis = [...], or [primary]/[backup] core_api URLs"));
        }
        if self.backup.system_api.is_none() {
            return Err(missing("backup.system_api", "add [backup] system_api = \"http://<backup host>:3334/system\": without it the backup's readiness cannot be checked, and no failover happens blind"));
        }
        self.require_reach()?;
        if need_state && self.daemon.state_file.is_none() {
            return Err(missing("daemon.state_file", "add [daemon] state_file = \"/var/lib/radix-failover/state.json\" (a directory the daemon can write)"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const BACKUP_KEY: &str =
        "029932e6683332a3c0d8cd2862c129e0c2501f45c17c88eecac27cc22baf7f80ed";

    /// A validator address (arbitrary node id with the validator entity byte) for `network`.
    pub(crate) fn validator_for(network: &NetworkDefinition) -> String {
        let mut node_id = [7u8; 30];
        node_id[0] = EntityType::GlobalValidator as u8;
        let v = ComponentAddress::try_from(node_id).unwrap();
        crate::keys::encode_address(v.as_node_id().as_bytes(), network)
    }

    fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).unwrap();
        Config::load(&p)
    }

    fn good() -> String {
        let mainnet_validator = validator_for(&NetworkDefinition::mainnet());
        format!(
            "network = \"mainnet\"\nvalidator = \"{mainnet_validator}\"\nbackup_public_key = \"{BACKUP_KEY}\"\nkey_file = \"owner.key\"\n"
        )
    }

    #[test]
    fn good_config_resolves() {
        let c = load(&good()).unwrap();
        assert_eq!(c.network.id, 1);
        assert_eq!(
            c.validator_bech32(),
            validator_for(&NetworkDefinition::mainnet())
        );
        assert_eq!(hex::encode(c.backup_public_key.0), BACKUP_KEY);
        assert_eq!(c.fee_lock_xrd, Decimal::from(10));
        assert!(c.key_file.is_absolute() && c.key_file.ends_with("owner.key"));
        let c = load(&format!("{}fee_lock_xrd = \"2.5\"\n", good())).unwrap();
        assert_eq!(c.fee_lock_xrd, Decimal::from_str("2.5").unwrap());
        let c = load(&format!("{}fee_lock_xrd = 3\n", good())).unwrap();
        assert_eq!(c.fee_lock_xrd, Decimal::from(3));
    }

    #[test]
    fn simulator_and_numeric_networks() {
        for (net, text) in [
            (NetworkDefinition::simulator(), "\"simulator\""),
            (NetworkDefinition::stokenet(), "2"),
            (NetworkDefinition::stokenet(), "\"2\""),
        ] {
            let cfg = good().replace("\"mainnet\"", text).replace(
                &validator_for(&NetworkDefinition::mainnet()),
                &validator_for(&net),
            );
            let c = load(&cfg).unwrap();
            assert_eq!(c.network.id, net.id);
        }
    }

    fn err(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let e = err(&format!("{}fee_lock = \"10\"\n", good()));
        assert!(
            e.contains("unknown field `fee_lock`") && e.contains("fix:"),
            "{e}"
        );
    }

    #[test]
    fn wrong_network_address_names_both_networks() {
        let stokenet = validator_for(&NetworkDefinition::stokenet());
        let e = err(&good().replace(&validator_for(&NetworkDefinition::mainnet()), &stokenet));
        assert!(e.contains("`validator`") && e.contains(&stokenet), "{e}");
        assert!(
            e.contains("stokenet address") && e.contains("network is mainnet"),
            "{e}"
        );
        assert!(e.contains("fix:"), "{e}");
    }

    #[test]
    fn wrong_entity_type_is_named() {
        let account = crate::keys::account_address(
            &radix_common::crypto::Ed25519PrivateKey::from_u64(1)
                .unwrap()
                .public_key()
                .into(),
            &NetworkDefinition::mainnet(),
        );
        let e = err(&good().replace(&validator_for(&NetworkDefinition::mainnet()), &account));
        assert!(
            e.contains("not a validator address") && e.contains("Account"),
            "{e}"
        );
        let e = err(&good().replace(
            &validator_for(&NetworkDefinition::mainnet()),
            "validator_rdx1xyz",
        ));
        assert!(e.contains("not a valid Radix"), "{e}");
    }

    #[test]
    fn bad_backup_keys() {
        for (bad, expect) in [
            ("02abc", "not hexadecimal"),
            (&BACKUP_KEY[..64], "32 bytes"),
            (
                &format!("05{}", &BACKUP_KEY[2..]),
                "must start with 02 or 03",
            ),
            // x = 5 has no point on secp256k1 (5^3 + 7 = 132 is not a square mod p).
            (
                "020000000000000000000000000000000000000000000000000000000000000005",
                "curve point",
            ),
        ] {
            let e = err(&good().replace(BACKUP_KEY, bad));
            assert!(
                e.contains("`backup_public_key`") && e.contains(expect),
                "{bad}: {e}"
            );
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn bad_network_and_fee() {
        let e = err(&good().replace("\"mainnet\"", "\"mainet\""));
        assert!(
            e.contains("`network`") && e.contains("mainet") && e.contains("mainnet (1)"),
            "{e}"
        );
        let e = err(&good().replace("\"mainnet\"", "77"));
        assert!(e.contains("id 77"), "{e}");
        for fee in ["\"0\"", "\"-1\"", "\"abc\"", "\"5000\""] {
            let e = err(&format!("{}fee_lock_xrd = {fee}\n", good()));
            assert!(
                e.contains("`fee_lock_xrd`") && e.contains("fix:"),
                "{fee}: {e}"
            );
        }
    }

    fn daemon_sections() -> String {
        format!(
            "{}primary_public_key = \"{}\"\n\n[primary]\nsystem_api = \"http://10.0.0.1:3334/system\"\ncore_api = \"http://10.0.0.1:3333/core\"\n\n[backup]\nsystem_api = \"http://10.0.0.2:3334/system\"\ncore_api = \"http://10.0.0.2:3333/core\"\n\n[sources]\ngateways = [\"https://mainnet.radixdlt.com\"]\ncore_apis = [\"http://10.0.0.3:3333/core\"]\n\n[policy]\npoll_interval = \"2s\"\nmissed_proposals = 2\nrecent_proposals = 4\n\n[daemon]\nstate_file = \"state/failover.json\"\n",
            good(),
            "02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004"
        )
    }

    #[test]
    fn daemon_sections_resolve_in_a_fixed_source_order() {
        let c = load(&daemon_sections()).unwrap();
        c.require_watch(true).unwrap();
        let names: Vec<&str> = c.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "gateway mainnet.radixdlt.com:443",
                "core 10.0.0.3:3333",
                "core primary",
                "core backup"
            ]
        );
        assert_eq!(c.policy.poll_interval, std::time::Duration::from_secs(2));
        assert_eq!(
            (c.policy.missed_proposals, c.policy.recent_proposals),
            (2, 4)
        );
        // Untouched keys keep their documented defaults.
        assert_eq!(
            c.policy.min_confirming_sources,
            DEFAULT_MIN_CONFIRMING_SOURCES
        );
        assert_eq!(c.daemon.submit_deadline, DEFAULT_SUBMIT_DEADLINE);
        let state = c.daemon.state_file.clone().unwrap();
        assert!(state.is_absolute() && state.ends_with("state/failover.json"));
    }

    #[test]
    fn daemon_section_errors_name_field_and_fix() {
        for (from, to, field) in [
            (
                "poll_interval = \"2s\"",
                "poll_interval = \"often\"",
                "policy.poll_interval",
            ),
            (
                "poll_interval = \"2s\"",
                "poll_interval = \"0s\"",
                "policy.poll_interval",
            ),
            (
                "missed_proposals = 2",
                "missed_proposals = 5",
                "policy.missed_proposals",
            ),
            (
                "gateways = [\"https://mainnet.radixdlt.com\"]",
                "gateways = [\"mainnet.radixdlt.com\"]",
                "sources.gateways",
            ),
            (
                "system_api = \"http://10.0.0.2:3334/system\"",
                "system_api = \"ftp://10.0.0.2/system\"",
                "backup.system_api",
            ),
            (
                "core_apis = [\"http://10.0.0.3:3333/core\"]",
                "core_apis = [\"http://10.0.0.1:3333/core/\"]",
                "sources",
            ),
        ] {
            let text = daemon_sections().replace(from, to);
            assert_ne!(text, daemon_sections(), "{from} not in the fixture");
            let e = err(&text);
            assert!(
                e.contains(&format!("`{field}`")) && e.contains("fix:"),
                "{to}: {e}"
            );
        }
        let e = err(&daemon_sections().replace("[policy]\n", "[policy]\nmisssed = 1\n"));
        assert!(e.contains("unknown field `misssed`"), "{e}");
        // The same key for both nodes is refused.
        let e = err(&daemon_sections().replace(
            "02ce938064729003a391c5bbf50c5b1968958eb2dd56c8f22c8accdf7502cc3004",
            BACKUP_KEY,
        ));
        assert!(
            e.contains("`primary_public_key`") && e.contains("same key"),
            "{e}"
        );
    }

    #[test]
    fn rearm_and_the_flap_limit_parse_and_bad_values_name_the_fix() {
        let c = load(&daemon_sections()).unwrap();
        assert!(c.policy.rearm, "re-arm is on by default");
        assert_eq!(c.policy.flap_limit_epochs, 12);
        let c = load(&daemon_sections().replace(
            "[policy]\n",
            "[policy]\nrearm = false\nflap_limit_epochs = 3\n",
        ))
        .unwrap();
        assert!(!c.policy.rearm);
        assert_eq!(c.policy.flap_limit_epochs, 3);
        for bad in ["flap_limit_epochs = 0", "flap_limit_epochs = 100001"] {
            let e = err(&daemon_sections().replace("[policy]\n", &format!("[policy]\n{bad}\n")));
            assert!(
                e.contains("`policy.flap_limit_epochs`") && e.contains("fix:"),
                "{bad}: {e}"
            );
        }
        let e = err(&daemon_sections().replace("[policy]\n", "[policy]\nrearm = \"yes\"\n"));
        assert!(e.contains("rearm"), "{e}");
    }

    #[test]
    fn swapping_the_roles_swaps_nodes_and_keys_and_twice_is_the_config() {
        let c = load(&daemon_sections()).unwrap();
        let s = c.swapped().expect("both keys are configured");
        assert_eq!(s.active, crate::roles::Node::Backup);
        assert_eq!(s.primary, c.backup);
        assert_eq!(s.backup, c.primary);
        assert_eq!(s.primary_public_key, Some(c.backup_public_key));
        assert_eq!(Some(s.backup_public_key), c.primary_public_key);
        // The sources keep their names: `core primary` is still the primary's Core API.
        assert_eq!(s.sources, c.sources);
        let back = s.swapped().unwrap();
        assert_eq!(back.active, crate::roles::Node::Primary);
        assert_eq!(
            (back.primary, back.backup),
            (c.primary.clone(), c.backup.clone())
        );
        assert_eq!(back.backup_public_key, c.backup_public_key);
        // Without the primary's key there is nothing to swap to, and a warning says so.
        let c = load(&good()).unwrap();
        assert!(c.primary_public_key.is_none());
        assert!(c.swapped().is_none());
        assert!(
            c.warnings()
                .iter()
                .any(|w| w.contains("NOT re-armed") && w.contains("fix:")),
            "{:?}",
            c.warnings()
        );
    }

    #[test]
    fn watching_commands_name_what_is_missing() {
        let c = load(&good()).unwrap();
        let e = c.require_watch(false).unwrap_err().to_string();
        assert!(
            e.contains("`primary_public_key`") && e.contains("fix:"),
            "{e}"
        );
        let c = load(
            &daemon_sections().replace("[daemon]\nstate_file = \"state/failover.json\"\n", ""),
        )
        .unwrap();
        c.require_watch(false).unwrap();
        let e = c.require_watch(true).unwrap_err().to_string();
        assert!(e.contains("`daemon.state_file`"), "{e}");
    }

    #[test]
    fn max_pause_and_control_group_have_defaults_and_bad_values_name_the_key() {
        let c = load(&daemon_sections()).unwrap();
        assert_eq!(c.daemon.max_pause, crate::maintenance::DEFAULT_MAX_PAUSE);
        assert_eq!(c.daemon.control_group, None);
        let with =
            |extra: &str| daemon_sections().replace("[daemon]\n", &format!("[daemon]\n{extra}\n"));
        let c = load(&with("max_pause = \"20m\"\ncontrol_group = \"radix-ops\"")).unwrap();
        assert_eq!(c.daemon.max_pause, std::time::Duration::from_secs(1200));
        assert_eq!(c.daemon.control_group.as_deref(), Some("radix-ops"));
        let e = load(&with("max_pause = \"0s\"")).unwrap_err().to_string();
        assert!(e.contains("daemon.max_pause") && e.contains("zero"), "{e}");
        let e = load(&with("control_group = \"ops; rm -rf\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("daemon.control_group"), "{e}");
    }

    /// A config in `dir` (mode 0600) with `extra` appended to the daemon sections.
    fn load_in(dir: &Path, text: &str) -> Result<Config, ConfigError> {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("c.toml");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        Config::load(&p)
    }

    const PIN: &str = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

    fn secret_file(dir: &Path, name: &str, content: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn behind_nginx() -> String {
        daemon_sections()
            .replace("http://10.0.0.1:3334/system", "https://10.0.0.1/system")
            .replace("http://10.0.0.1:3333/core", "https://10.0.0.1/core")
            .replace(
                "[primary]\n",
                &format!("[primary]\ntls_pin_sha256 = \"{PIN}\"\nbasic_auth_user = \"admin\"\nbasic_auth_password_file = \"nginx.pw\"\n"),
            )
            .replace(
                "gateways = [\"https://mainnet.radixdlt.com\"]",
                "gateways = [\"https://mainnet.radixdlt.com\", { url = \"https://gw.example.com\", headers = { x-api-key = \"key-secret-42\" } }]",
            )
    }

    #[test]
    fn connection_settings_per_node_and_per_source_entry() {
        let dir = tempfile::tempdir().unwrap();
        secret_file(dir.path(), "nginx.pw", "hunter2-secret\n", 0o600);
        let c = load_in(dir.path(), &behind_nginx()).unwrap();
        let pc = &c.primary.conn;
        assert_eq!(pc.pin_sha256, Some(conn::parse_pin(PIN).unwrap()));
        let auth = pc.basic_auth.as_ref().unwrap();
        assert_eq!(auth.user, "admin");
        assert!(matches!(&auth.from, conn::PasswordFrom::File(p) if p.ends_with("nginx.pw")));
        // The primary's Core API source shares the node's settings; the gateway entry has its own.
        let core_primary = c.sources.iter().find(|s| s.name == "core primary").unwrap();
        assert!(std::sync::Arc::ptr_eq(&core_primary.conn, &c.primary.conn));
        let gw = c
            .sources
            .iter()
            .find(|s| s.name == "gateway gw.example.com:443")
            .unwrap();
        assert_eq!(gw.conn.headers.len(), 1);
        assert!(c.backup.conn.is_default());
        // No secret in Debug output of the whole config.
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("key-secret-42"),
            "{debug}"
        );
        // The remaining plain-http URLs are warned about, the https ones are not.
        let w = c.warnings().join("\n");
        assert!(
            w.contains("system backup: plain http:// to 10.0.0.2:3334"),
            "{w}"
        );
        assert!(!w.contains("primary: plain"), "{w}");
    }

    #[test]
    fn an_unknown_key_in_a_source_table_is_named() {
        let dir = tempfile::tempdir().unwrap();
        secret_file(dir.path(), "nginx.pw", "pw\n", 0o600);
        let e = load_in(
            dir.path(),
            &behind_nginx().replace("headers = {", "tls_pin = \"x\", headers = {"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field `tls_pin`"), "{e}");
    }

    #[test]
    fn password_file_checked_like_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        secret_file(dir.path(), "nginx.pw", "hunter2-secret\n", 0o644);
        let e = load_in(dir.path(), &behind_nginx())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`primary.basic_auth_password_file`") && e.contains("chmod 600"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        let e = load_in(
            dir.path(),
            &behind_nginx().replace("basic_auth_password_file = \"nginx.pw\"\n", ""),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`primary.basic_auth_password_file`") && e.contains("is missing"),
            "{e}"
        );
    }

    #[test]
    fn bad_pins_and_tls_on_plain_http_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        secret_file(dir.path(), "nginx.pw", "pw\n", 0o600);
        let e = load_in(dir.path(), &behind_nginx().replace(PIN, "AB:CD"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`primary.tls_pin_sha256`") && e.contains("openssl x509"),
            "{e}"
        );
        let e = load_in(
            dir.path(),
            &behind_nginx().replace("https://10.0.0.1/system", "http://10.0.0.1/system"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`primary.system_api`") && e.contains("https://"),
            "{e}"
        );
    }

    #[test]
    fn url_userinfo_becomes_basic_auth_and_never_shows() {
        let dir = tempfile::tempdir().unwrap();
        let text = daemon_sections().replace(
            "http://10.0.0.2:3334/system",
            "http://admin:hunter2-secret@127.0.0.1:3334/system",
        );
        let c = load_in(dir.path(), &text).unwrap();
        let auth = c.backup.conn.basic_auth.as_ref().unwrap();
        assert_eq!(auth.user, "admin");
        let url = c.backup.system_api.as_ref().unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:3334/system");
        assert!(!format!("{c:?}").contains("hunter2"));
        // A URL that does not parse is quoted with its userinfo redacted.
        let e = load_in(
            dir.path(),
            &daemon_sections().replace(
                "http://10.0.0.2:3334/system",
                "http://admin:hunter2-secret@[bad/system",
            ),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("REDACTED") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_secret_in_a_readable_config_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        secret_file(dir.path(), "nginx.pw", "pw\n", 0o600);
        let p = dir.path().join("c.toml");
        std::fs::write(&p, behind_nginx()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("holds a secret") && e.contains("chmod 600"),
            "{e}"
        );
        assert!(!e.contains("key-secret-42"), "{e}");
    }

    #[test]
    fn insecure_skip_tls_verify_warns() {
        let dir = tempfile::tempdir().unwrap();
        let text = daemon_sections()
            .replace("http://10.0.0.2:3334/system", "https://10.0.0.2/system")
            .replace("http://10.0.0.2:3333/core", "https://10.0.0.2/core")
            .replace("[backup]\n", "[backup]\ninsecure_skip_tls_verify = true\n");
        let c = load_in(dir.path(), &text).unwrap();
        let w = c.warnings().join("\n");
        assert!(
            w.contains("system backup: insecure_skip_tls_verify = true"),
            "{w}"
        );
        assert!(
            w.contains("core backup: insecure_skip_tls_verify = true"),
            "{w}"
        );
    }

    #[test]
    fn missing_field_is_named() {
        let e = err(&good().replace("key_file = \"owner.key\"\n", ""));
        assert!(e.contains("missing field `key_file`"), "{e}");
    }

    const TEMPLATE: &str = "CALL_METHOD Address(\"{account}\") \"lock_fee\" Decimal(\"{fee}\");\nCALL_METHOD Address(\"{validator}\") \"update_key\" Bytes(\"{new_key}\");\n";

    /// A config with a template beside it; `mode` for the template.
    fn with_template(extra: &str, mode: u32) -> (tempfile::TempDir, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("failover.rtm");
        std::fs::write(&t, TEMPLATE).unwrap();
        std::fs::set_permissions(&t, std::fs::Permissions::from_mode(mode)).unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            format!("{}manifest_template = \"failover.rtm\"\n{extra}", good()),
        )
        .unwrap();
        (dir, p)
    }

    #[test]
    fn config_or_template_others_can_write_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, p) = with_template("", 0o644);
        Config::load(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("writable by group or others")
                && e.contains(&format!("fix: chmod go-w {}", p.display())),
            "{e}"
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let t = dir.path().join("failover.rtm");
        std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o620)).unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("`manifest_template`")
                && e.contains(&format!("fix: chmod go-w {}", t.display())),
            "{e}"
        );
        // Owned by another (non-root) user: only testable as root, as on CI.
        if crate::file_trust::effective_uid() == 0 {
            std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&t, Some(4242), None).unwrap();
            let e = Config::load(&p).unwrap_err().to_string();
            assert!(
                e.contains("belongs to uid 4242") && e.contains("fix: chown 0"),
                "{e}"
            );
            std::os::unix::fs::chown(&p, Some(4242), None).unwrap();
            let e = Config::load(&p).unwrap_err().to_string();
            assert!(
                e.contains("config file refused") && e.contains("uid 4242"),
                "{e}"
            );
        } else {
            eprintln!("skipped the other-owner case: run the tests as root to cover it");
        }
    }

    #[test]
    fn badge_holder_is_an_access_controller_that_the_built_in_manifest_proves_from() {
        let mut id = [9u8; 30];
        id[0] = EntityType::GlobalAccessController as u8;
        let ac = crate::keys::encode_address(&id, &NetworkDefinition::mainnet());
        let c = load(&format!("{}badge_holder = \"{ac}\"\n", good())).unwrap();
        assert_eq!(c.badge_holder.map(|a| a.as_node_id().0), Some(id));
        assert_eq!(
            c.manifest_allowed_calls.len(),
            1,
            "its create_proof, and only that"
        );
        assert_eq!(c.manifest_allowed_calls[0].methods, ["create_proof"]);

        let mut acc = [9u8; 30];
        acc[0] = EntityType::GlobalAccount as u8;
        let account = crate::keys::encode_address(&acc, &NetworkDefinition::mainnet());
        let e = err(&format!("{}badge_holder = \"{account}\"\n", good()));
        assert!(
            e.contains("`badge_holder`")
                && e.contains("Account address")
                && e.contains("badge secure"),
            "{e}"
        );
        let mut comp = [9u8; 30];
        comp[0] = EntityType::GlobalGenericComponent as u8;
        let component = crate::keys::encode_address(&comp, &NetworkDefinition::mainnet());
        let e = err(&format!("{}badge_holder = \"{component}\"\n", good()));
        assert!(e.contains("not an access controller"), "{e}");
        let stokenet = crate::keys::encode_address(&id, &NetworkDefinition::stokenet());
        let e = err(&format!("{}badge_holder = \"{stokenet}\"\n", good()));
        assert!(e.contains("not for the configured network mainnet"), "{e}");
        let (_d, p) = with_template(&format!("badge_holder = \"{ac}\"\n"), 0o600);
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("together with manifest_template"), "{e}");
    }

    #[test]
    fn manifest_allowed_calls_name_components_never_accounts() {
        let mut id = [7u8; 30];
        id[0] = EntityType::GlobalGenericComponent as u8;
        let manager = crate::keys::encode_address(&id, &NetworkDefinition::mainnet());
        let entry = |c: &str, m: &str| {
            format!("manifest_allowed_calls = [{{ component = \"{c}\", methods = [{m}] }}]\n")
        };
        let (_d, p) = with_template(&entry(&manager, "\"create_proof\""), 0o600);
        let c = Config::load(&p).unwrap();
        assert_eq!(c.manifest_allowed_calls.len(), 1);
        assert_eq!(c.manifest_allowed_calls[0].methods, ["create_proof"]);
        assert_eq!(c.manifest_allowed_calls[0].component.as_node_id().0, id);

        let mut acc = [7u8; 30];
        acc[0] = EntityType::GlobalAccount as u8;
        let account = crate::keys::encode_address(&acc, &NetworkDefinition::mainnet());
        let (_d, p) = with_template(&entry(&account, "\"withdraw\""), 0o600);
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("`manifest_allowed_calls`") && e.contains("Account address"),
            "{e}"
        );
        let (_d, p) = with_template(&entry(&manager, ""), 0o600);
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("needs `methods`"), "{e}");
        let e = err(&format!(
            "{}{}",
            good(),
            entry(&manager, "\"create_proof\"")
        ));
        assert!(e.contains("only used by a manifest_template"), "{e}");
        let stokenet = crate::keys::encode_address(&id, &NetworkDefinition::stokenet());
        let (_d, p) = with_template(&entry(&stokenet, "\"create_proof\""), 0o600);
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("not for the configured network mainnet"), "{e}");
    }
}
