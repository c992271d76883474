//! The daemon's config sections: the nodes, the sources, the policy and the daemon itself.
//!
//! All optional in the file so `tx update-key` works with the four top-level keys alone;
//! `Config::require_watch` says what `run`, `status`, `failover` and `failback` need and how to
//! add it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::conn::{self, conn_fields, redact_url_text, ConnFields, RawConn, SharedConn};
pub use crate::field::FieldProblem;
pub(crate) use crate::field::{duration_text, problem, url_text};
use crate::observe::SourceKind;
pub use crate::policy::params::*;

/// One request's timeout: under the poll interval, so one slow source cannot stall a poll past
/// the next; a healthy local node answers in milliseconds, a remote gateway in well under 1 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the daemon keeps retrying a failover transaction (rebuilding when its window ends)
/// before it stops and alerts: 30 min is six mainnet epochs, long past any transient outage.
pub const DEFAULT_SUBMIT_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// A node: its two APIs and how to connect to them (one nginx serves both, so one set of
/// connection keys; see `config/conn.rs`). The keys are repeated from [`RawConn`] because serde
/// cannot refuse unknown keys through a flattened struct.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub system_api: Option<String>,
    pub core_api: Option<String>,
    pub tls_ca_file: Option<PathBuf>,
    pub tls_pin_sha256: Option<String>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_file: Option<PathBuf>,
    pub headers: Option<BTreeMap<String, String>>,
    pub insecure_skip_tls_verify: Option<bool>,
}

impl RawNode {
    fn conn(&self) -> RawConn {
        RawConn {
            tls_ca_file: self.tls_ca_file.clone(),
            tls_pin_sha256: self.tls_pin_sha256.clone(),
            basic_auth_user: self.basic_auth_user.clone(),
            basic_auth_password_file: self.basic_auth_password_file.clone(),
            headers: self.headers.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSources {
    #[serde(default)]
    pub gateways: Vec<RawSourceEntry>,
    #[serde(default)]
    pub core_apis: Vec<RawSourceEntry>,
    pub request_timeout: Option<String>,
}

/// A `[sources]` list entry: a URL string, or `{ url = "…", tls_pin_sha256 = "…", … }`.
#[derive(Debug, Clone)]
pub enum RawSourceEntry {
    Url(String),
    Table(RawSourceTable),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSourceTable {
    pub url: String,
    pub tls_ca_file: Option<PathBuf>,
    pub tls_pin_sha256: Option<String>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_file: Option<PathBuf>,
    pub headers: Option<BTreeMap<String, String>>,
    pub insecure_skip_tls_verify: Option<bool>,
}

impl RawSourceEntry {
    pub fn url(&self) -> &str {
        match self {
            RawSourceEntry::Url(u) => u,
            RawSourceEntry::Table(t) => &t.url,
        }
    }

    fn conn(&self) -> RawConn {
        match self {
            RawSourceEntry::Url(_) => RawConn::default(),
            RawSourceEntry::Table(t) => RawConn {
                tls_ca_file: t.tls_ca_file.clone(),
                tls_pin_sha256: t.tls_pin_sha256.clone(),
                basic_auth_user: t.basic_auth_user.clone(),
                basic_auth_password_file: t.basic_auth_password_file.clone(),
                headers: t.headers.clone(),
                insecure_skip_tls_verify: t.insecure_skip_tls_verify,
            },
        }
    }
}

impl From<&str> for RawSourceEntry {
    fn from(s: &str) -> Self {
        RawSourceEntry::Url(s.to_string())
    }
}

// By hand: a string or a table, each with its own error (an untagged enum would only say
// "did not match any variant", hiding which key is wrong).
impl<'de> Deserialize<'de> for RawSourceEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawSourceEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a URL string or an inline table { url = \"…\", tls_pin_sha256 = \"…\", … }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawSourceEntry::Url(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                RawSourceTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawSourceEntry::Table)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub name: Option<String>,
    pub poll_interval: Option<String>,
    pub missed_proposals: Option<u32>,
    pub recent_proposals: Option<u32>,
    pub min_confirming_sources: Option<u32>,
    pub primary_down_polls: Option<u32>,
    pub max_source_lag: Option<String>,
    pub small_validator_turns: Option<u32>,
    pub epoch_end_polls: Option<u32>,
    pub legacy_missed_threshold: Option<u64>,
    pub legacy_window_epochs: Option<u64>,
    pub rearm: Option<bool>,
    pub flap_limit_epochs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    pub state_file: Option<PathBuf>,
    pub submit_deadline: Option<String>,
    pub max_pause: Option<String>,
    pub control_group: Option<String>,
}

/// One node's API endpoints. The URLs never carry credentials (userinfo is moved to `conn`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeEndpoints {
    /// Base URL of the System API, e.g. `http://10.0.0.1:3334/system`.
    pub system_api: Option<Url>,
    /// Base URL of the Core API, e.g. `http://10.0.0.1:3333/core`; also a ledger source.
    pub core_api: Option<Url>,
    /// How to connect to both (TLS trust, basic auth, headers).
    pub conn: SharedConn,
}

/// A ledger source (Gateway or Core API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    /// Display name: `gateway <host:port>`, `core <host:port>`, `core primary`, `core backup`.
    pub name: String,
    pub kind: SourceKind,
    /// Without credentials.
    pub url: Url,
    /// The node's settings for `core primary`/`core backup`, the entry's own otherwise.
    pub conn: SharedConn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonParams {
    /// Where the daemon records its phase and the transaction in flight.
    pub state_file: Option<PathBuf>,
    pub submit_deadline: Duration,
    pub request_timeout: Duration,
    /// The longest maintenance pause, and the length of one given without `--for`.
    pub max_pause: Duration,
    /// A group allowed to use the control socket (mode 0660); `None`: the service user
    /// only (0600).
    pub control_group: Option<String>,
}

/// Parses an API URL (http or https, with a host). It may still carry `user:password@`: the
/// callers move that into the connection settings. Errors quote it with userinfo redacted.
pub fn parse_url(field: &'static str, raw: &str, api: &str) -> Result<Url, FieldProblem> {
    let example = match api {
        "system" => "http://10.0.0.1:3334/system",
        "core" => "http://10.0.0.1:3333/core",
        _ => "https://mainnet.radixdlt.com",
    };
    let shown = redact_url_text(raw);
    let s = shown.as_str();
    let url = url_text(
        field,
        raw,
        s,
        &format!("write a full URL such as {example}"),
    )?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(problem(
            field,
            s,
            format!("scheme `{}` is not http or https", url.scheme()),
            format!("write a full URL such as {example}"),
        ));
    }
    if url.host_str().is_none() {
        return Err(problem(
            field,
            s,
            "has no host",
            format!("write a full URL such as {example}"),
        ));
    }
    Ok(url)
}

/// `host:port` of a URL, without credentials or path: for names and logs.
pub fn display_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

pub(super) fn parse_duration(field: &'static str, s: &str) -> Result<Duration, FieldProblem> {
    let d = duration_text(
        field,
        s,
        "write a duration such as \"5s\", \"500ms\" or \"2m\"",
    )?;
    if d.is_zero() {
        return Err(problem(
            field,
            s,
            "is zero",
            "give a duration above zero, such as \"5s\"",
        ));
    }
    Ok(d)
}

pub(super) fn nodes(
    primary: &RawNode,
    backup: &RawNode,
    base: &Path,
) -> Result<(NodeEndpoints, NodeEndpoints), FieldProblem> {
    Ok((
        node(
            primary,
            ("primary.system_api", "primary.core_api"),
            &conn_fields!("primary"),
            base,
        )?,
        node(
            backup,
            ("backup.system_api", "backup.core_api"),
            &conn_fields!("backup"),
            base,
        )?,
    ))
}

fn node(
    n: &RawNode,
    (sys, core): (&'static str, &'static str),
    fields: &ConnFields,
    base: &Path,
) -> Result<NodeEndpoints, FieldProblem> {
    let mut system_api = n
        .system_api
        .as_deref()
        .map(|s| parse_url(sys, s, "system"))
        .transpose()?;
    let mut core_api = n
        .core_api
        .as_deref()
        .map(|s| parse_url(core, s, "core"))
        .transpose()?;
    // One nginx serves both APIs: userinfo in either URL is the node's credentials.
    let sys_auth = system_api.as_mut().and_then(conn::take_userinfo);
    let core_auth = core_api.as_mut().and_then(conn::take_userinfo);
    let c = conn::conn(&n.conn(), fields, sys_auth.or(core_auth), base)?;
    for (field, url) in [(sys, &system_api), (core, &core_api)] {
        if let Some(u) = url {
            tls_keys_need_https(field, u, &c)?;
        }
    }
    Ok(NodeEndpoints {
        system_api,
        core_api,
        conn: Arc::new(c),
    })
}

/// A pin or a CA file on a plain-http URL would be ignored: refuse it, so nobody believes a
/// connection is protected when it is not.
fn tls_keys_need_https(field: &'static str, url: &Url, c: &conn::Conn) -> Result<(), FieldProblem> {
    if url.scheme() == "http"
        && (c.pin_sha256.is_some() || c.ca_file.is_some() || c.insecure_skip_tls_verify)
    {
        return Err(problem(
            field,
            url.as_str(),
            "is plain http://, but TLS settings (tls_pin_sha256, tls_ca_file or insecure_skip_tls_verify) are given for it",
            "use the https:// URL (a node behind its nginx: https://HOST/core and https://HOST/system), or remove the TLS settings",
        ));
    }
    Ok(())
}

/// Ledger sources in a fixed order: gateways, extra Core APIs, then the primary's and the
/// backup's Core APIs. A URL given twice is an error: it would count twice towards a quorum.
pub(super) fn sources(
    raw: &RawSources,
    primary: &NodeEndpoints,
    backup: &NodeEndpoints,
    base: &Path,
) -> Result<Vec<SourceSpec>, FieldProblem> {
    let mut out: Vec<SourceSpec> = Vec::new();
    let lists = [
        (
            &raw.gateways,
            "sources.gateways",
            conn_fields!("sources.gateways"),
            SourceKind::Gateway,
        ),
        (
            &raw.core_apis,
            "sources.core_apis",
            conn_fields!("sources.core_apis"),
            SourceKind::Core,
        ),
    ];
    for (entries, field, fields, kind) in lists {
        for e in entries {
            let api = if kind == SourceKind::Gateway {
                "gateway"
            } else {
                "core"
            };
            let mut url = parse_url(field, e.url(), api)?;
            let auth = conn::take_userinfo(&mut url);
            let c = conn::conn(&e.conn(), &fields, auth, base)?;
            tls_keys_need_https(field, &url, &c)?;
            out.push(SourceSpec {
                name: format!("{} {}", kind.as_str(), display_host(&url)),
                kind,
                url,
                conn: Arc::new(c),
            });
        }
    }
    if let Some(url) = &primary.core_api {
        out.push(SourceSpec {
            name: "core primary".into(),
            kind: SourceKind::Core,
            url: url.clone(),
            conn: primary.conn.clone(),
        });
    }
    if let Some(url) = &backup.core_api {
        out.push(SourceSpec {
            name: "core backup".into(),
            kind: SourceKind::Core,
            url: url.clone(),
            conn: backup.conn.clone(),
        });
    }
    for (i, a) in out.iter().enumerate() {
        if let Some(b) = out[i + 1..].iter().find(|b| same_endpoint(&a.url, &b.url)) {
            return Err(problem(
                "sources",
                b.url.as_str(),
                format!("is configured twice ({} and {})", a.name, b.name),
                "list each source once: a duplicate would count twice towards the quorum",
            ));
        }
    }
    Ok(out)
}

fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
}

pub(super) fn policy(raw: &RawPolicy) -> Result<PolicyParams, FieldProblem> {
    let mut p = PolicyParams::default();
    if let Some(n) = &raw.name {
        p.name = match n.trim() {
            "default" => PolicyName::Default,
            "legacy" => PolicyName::Legacy,
            _ => {
                return Err(problem(
                    "policy.name",
                    n,
                    "not a known policy",
                    "use \"default\" (recommended) or \"legacy\" (the old script's rule)",
                ))
            }
        };
    }
    if let Some(s) = &raw.poll_interval {
        p.poll_interval = parse_duration("policy.poll_interval", s)?;
    }
    if let Some(s) = &raw.max_source_lag {
        p.max_source_lag = parse_duration("policy.max_source_lag", s)?;
    }
    if let Some(m) = raw.recent_proposals {
        if m == 0 || m > 1000 {
            return Err(problem(
                "policy.recent_proposals",
                &m.to_string(),
                "must be 1 to 1000",
                "use the default 5 unless you have a reason",
            ));
        }
        p.recent_proposals = m;
    }
    if let Some(n) = raw.missed_proposals {
        p.missed_proposals = n;
    }
    if p.missed_proposals == 0 || p.missed_proposals > p.recent_proposals {
        return Err(problem(
            "policy.missed_proposals",
            &p.missed_proposals.to_string(),
            format!(
                "must be between 1 and policy.recent_proposals ({})",
                p.recent_proposals
            ),
            "lower missed_proposals or raise recent_proposals (defaults: 3 of 5)",
        ));
    }
    if let Some(q) = raw.min_confirming_sources {
        if q == 0 {
            return Err(problem(
                "policy.min_confirming_sources",
                "0",
                "must be at least 1",
                "use 2 (the default) so one bad source cannot trigger a failover",
            ));
        }
        p.min_confirming_sources = q;
    }
    if let Some(k) = raw.primary_down_polls {
        p.primary_down_polls = k;
    }
    if let Some(t) = raw.small_validator_turns {
        p.small_validator_turns = t;
    }
    if let Some(k) = raw.epoch_end_polls {
        if k > 60 {
            return Err(problem(
                "policy.epoch_end_polls",
                &k.to_string(),
                "must be 0 to 60 (polls before the epoch's end)",
                "use the default 3 (15 s at the default poll interval), or 0 to turn the rule off",
            ));
        }
        p.epoch_end_polls = k;
    }
    if let Some(t) = raw.legacy_missed_threshold {
        p.legacy_missed_threshold = t;
    }
    if let Some(w) = raw.legacy_window_epochs {
        if w < 2 {
            return Err(problem(
                "policy.legacy_window_epochs",
                &w.to_string(),
                "must be at least 2 (the window includes the current, unfinished epoch)",
                "use 3, the old script's window",
            ));
        }
        p.legacy_window_epochs = w;
    }
    if let Some(r) = raw.rearm {
        p.rearm = r;
    }
    if let Some(f) = raw.flap_limit_epochs {
        if f == 0 || f > 100_000 {
            return Err(problem(
                "policy.flap_limit_epochs",
                &f.to_string(),
                "must be 1 to 100000 (epochs from one automatic switch to the next)",
                "use the default 12 (about an hour on mainnet); to stop switching back at all, set policy.rearm = false instead",
            ));
        }
        p.flap_limit_epochs = f;
    }
    Ok(p)
}

pub(super) fn daemon(
    raw: &RawDaemon,
    raw_sources: &RawSources,
    base: &Path,
) -> Result<DaemonParams, FieldProblem> {
    let submit_deadline = match &raw.submit_deadline {
        Some(s) => parse_duration("daemon.submit_deadline", s)?,
        None => DEFAULT_SUBMIT_DEADLINE,
    };
    let request_timeout = match &raw_sources.request_timeout {
        Some(s) => parse_duration("sources.request_timeout", s)?,
        None => DEFAULT_REQUEST_TIMEOUT,
    };
    let state_file = match &raw.state_file {
        Some(p) if p.as_os_str().is_empty() => {
            return Err(problem("daemon.state_file", "", "is empty", "give a path in a directory the daemon can write, e.g. /var/lib/radix-failover/state.json"))
        }
        Some(p) => Some(super::resolve(base, p)),
        None => None,
    };
    // parse_duration refuses zero: a max_pause of zero would make every pause impossible.
    let max_pause = match &raw.max_pause {
        Some(s) => parse_duration("daemon.max_pause", s)?,
        None => crate::maintenance::DEFAULT_MAX_PAUSE,
    };
    let control_group = match &raw.control_group {
        None => None,
        Some(g) => {
            let g = g.trim();
            let valid = !g.is_empty()
                && g.len() <= 32
                && g.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !valid {
                return Err(problem("daemon.control_group", g, "is not a group name", "give the name of an existing group, e.g. \"radix-ops\", or remove the key (the socket is then for the service user only)"));
            }
            Some(g.to_string())
        }
    };
    Ok(DaemonParams {
        state_file,
        submit_deadline,
        request_timeout,
        max_pause,
        control_group,
    })
}
