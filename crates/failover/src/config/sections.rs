//! The daemon's config sections: the nodes, the sources, the policy and the daemon itself.
//!
//! All optional in the file so `tx update-key` works with the four top-level keys alone;
//! `Config::require_watch` says what `run`, `status`, `failover` and `failback` need and how to
//! add it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::observe::SourceKind;

/// Poll every 5 s: a round on mainnet takes well under a second, so misses show up within one
/// poll; 5 s is under 2 % of a 5-minute epoch, leaving the rest of the epoch to detect, submit
/// and commit (a commit takes a few seconds); and a handful of small HTTP requests every 5 s
/// is nothing for a node or a gateway.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// One request's timeout: under the poll interval, so one slow source cannot stall a poll past
/// the next; a healthy local node answers in milliseconds, a remote gateway in well under 1 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Misses that confirm a failure (N) among our most recent leader proposals (M). See
/// docs/policy.md: N of M counts proposals, not time, so the evidence needed is the same for a
/// validator that leads 5 rounds an epoch and one that leads 50; random misses of a healthy
/// node (well under 1 %) almost never reach 3 of 5, while a dead node reaches it in 3 rounds.
pub const DEFAULT_MISSED_PROPOSALS: u32 = 3;
pub const DEFAULT_RECENT_PROPOSALS: u32 = 5;
/// Ledger sources that must agree before misses count: 2, so one lying or broken source can
/// never cause a failover by itself.
pub const DEFAULT_MIN_CONFIRMING_SOURCES: u32 = 2;
/// Consecutive polls with the primary's System API down or unhealthy before that early signal
/// counts: 3 polls (15 s at the default interval, 5 % of an epoch) rides out a node restart's
/// first seconds or one lost request, and still leaves most of the epoch to fail over in.
pub const DEFAULT_PRIMARY_DOWN_POLLS: u32 = 3;
/// A source whose ledger is older than this (proposer timestamp against the watcher's clock) is
/// lagging and not trusted: mainnet's ledger clock advances every round (well under a second),
/// so 30 s behind means the source is stuck or far behind, not just a slow round.
pub const DEFAULT_MAX_SOURCE_LAG: Duration = Duration::from_secs(30);
/// How long the daemon keeps retrying a failover transaction (rebuilding when its window ends)
/// before it stops and alerts: 30 min is six mainnet epochs, long past any transient outage.
pub const DEFAULT_SUBMIT_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// The old community script's rule: more than 5 misses over the finished epochs of a 3-epoch
/// window, polled every 4 minutes.
pub const LEGACY_MISSED_THRESHOLD: u64 = 5;
pub const LEGACY_WINDOW_EPOCHS: u64 = 3;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub system_api: Option<String>,
    pub core_api: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSources {
    #[serde(default)]
    pub gateways: Vec<String>,
    #[serde(default)]
    pub core_apis: Vec<String>,
    pub request_timeout: Option<String>,
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
    pub legacy_missed_threshold: Option<u64>,
    pub legacy_window_epochs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    pub state_file: Option<PathBuf>,
    pub submit_deadline: Option<String>,
}

/// One node's API endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeEndpoints {
    /// Base URL of the System API, e.g. `http://10.0.0.1:3334/system`.
    pub system_api: Option<Url>,
    /// Base URL of the Core API, e.g. `http://10.0.0.1:3333/core`; also a ledger source.
    pub core_api: Option<Url>,
}

/// A ledger source (Gateway or Core API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    /// Display name: `gateway <host:port>`, `core <host:port>`, `core primary`, `core backup`.
    pub name: String,
    pub kind: SourceKind,
    pub url: Url,
}

/// Which decision rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyName {
    /// N of the last M leader proposals missed, confirmed by a quorum; early signal from the
    /// primary's System API (docs/policy.md).
    Default,
    /// The old community script's rule, for operators who want it.
    Legacy,
}

impl PolicyName {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyName::Default => "default",
            PolicyName::Legacy => "legacy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyParams {
    pub name: PolicyName,
    pub poll_interval: Duration,
    pub missed_proposals: u32,
    pub recent_proposals: u32,
    pub min_confirming_sources: u32,
    /// 0 disables the early signal.
    pub primary_down_polls: u32,
    pub max_source_lag: Duration,
    pub legacy_missed_threshold: u64,
    pub legacy_window_epochs: u64,
}

impl Default for PolicyParams {
    fn default() -> Self {
        PolicyParams {
            name: PolicyName::Default,
            poll_interval: DEFAULT_POLL_INTERVAL,
            missed_proposals: DEFAULT_MISSED_PROPOSALS,
            recent_proposals: DEFAULT_RECENT_PROPOSALS,
            min_confirming_sources: DEFAULT_MIN_CONFIRMING_SOURCES,
            primary_down_polls: DEFAULT_PRIMARY_DOWN_POLLS,
            max_source_lag: DEFAULT_MAX_SOURCE_LAG,
            legacy_missed_threshold: LEGACY_MISSED_THRESHOLD,
            legacy_window_epochs: LEGACY_WINDOW_EPOCHS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonParams {
    /// Where the daemon records its phase and the transaction in flight.
    pub state_file: Option<PathBuf>,
    pub submit_deadline: Duration,
    pub request_timeout: Duration,
}

/// A field problem: (field, value, problem, fix).
pub type FieldProblem = (&'static str, String, String, String);

pub(crate) fn problem(
    field: &'static str,
    value: &str,
    p: impl Into<String>,
    fix: impl Into<String>,
) -> FieldProblem {
    (field, value.to_string(), p.into(), fix.into())
}

pub fn parse_url(field: &'static str, s: &str, api: &str) -> Result<Url, FieldProblem> {
    let example = match api {
        "system" => "http://10.0.0.1:3334/system",
        "core" => "http://10.0.0.1:3333/core",
        _ => "https://mainnet.radixdlt.com",
    };
    let url = url_text(field, s, s, &format!("write a full URL such as {example}"))?;
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

/// A URL as written; `shown` is the value an error quotes (`REDACTED` for a secret one) and
/// `fix` what to write instead. Each caller then checks its own schemes.
pub(crate) fn url_text(
    field: &'static str,
    raw: &str,
    shown: &str,
    fix: &str,
) -> Result<Url, FieldProblem> {
    Url::parse(raw.trim()).map_err(|e| problem(field, shown, format!("not a URL ({e})"), fix))
}

/// `host:port` of a URL, without credentials or path: for names and logs.
pub fn display_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// A duration as written (`"5s"`, `"500ms"`, `"2m"`); `fix` shows what to write instead. Each
/// caller then checks its own lower bound.
pub(crate) fn duration_text(
    field: &'static str,
    s: &str,
    fix: &str,
) -> Result<Duration, FieldProblem> {
    humantime::parse_duration(s.trim())
        .map_err(|e| problem(field, s, format!("not a duration ({e})"), fix))
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
) -> Result<(NodeEndpoints, NodeEndpoints), FieldProblem> {
    let one = |n: &RawNode,
               sys: &'static str,
               core: &'static str|
     -> Result<NodeEndpoints, FieldProblem> {
        Ok(NodeEndpoints {
            system_api: n
                .system_api
                .as_deref()
                .map(|s| parse_url(sys, s, "system"))
                .transpose()?,
            core_api: n
                .core_api
                .as_deref()
                .map(|s| parse_url(core, s, "core"))
                .transpose()?,
        })
    };
    Ok((
        one(primary, "primary.system_api", "primary.core_api")?,
        one(backup, "backup.system_api", "backup.core_api")?,
    ))
}

/// Ledger sources in a fixed order: gateways, extra Core APIs, then the primary's and the
/// backup's Core APIs. A URL given twice is an error: it would count twice towards a quorum.
pub(super) fn sources(
    raw: &RawSources,
    primary: &NodeEndpoints,
    backup: &NodeEndpoints,
) -> Result<Vec<SourceSpec>, FieldProblem> {
    let mut out: Vec<SourceSpec> = Vec::new();
    for g in &raw.gateways {
        let url = parse_url("sources.gateways", g, "gateway")?;
        out.push(SourceSpec {
            name: format!("gateway {}", display_host(&url)),
            kind: SourceKind::Gateway,
            url,
        });
    }
    for c in &raw.core_apis {
        let url = parse_url("sources.core_apis", c, "core")?;
        out.push(SourceSpec {
            name: format!("core {}", display_host(&url)),
            kind: SourceKind::Core,
            url,
        });
    }
    if let Some(url) = &primary.core_api {
        out.push(SourceSpec {
            name: "core primary".into(),
            kind: SourceKind::Core,
            url: url.clone(),
        });
    }
    if let Some(url) = &backup.core_api {
        out.push(SourceSpec {
            name: "core backup".into(),
            kind: SourceKind::Core,
            url: url.clone(),
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
    Ok(DaemonParams {
        state_file,
        submit_deadline,
        request_timeout,
    })
}
