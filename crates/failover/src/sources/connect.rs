//! `config check --connect`: ask every source once and say, for each, how TLS and auth went
//! and what it answered, or the exact problem and its fix.

use url::Url;

use super::http::Http;
use super::{redacted, system, LedgerClient, NodeClient, Sources};
use crate::config::conn::{fingerprint_text, BasicAuth, PasswordFrom};
use crate::observe::{SourceError, SourceKind};

/// One source's report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectReport {
    pub name: String,
    /// Without credentials.
    pub url: String,
    /// How the certificate was checked, and the one the server sent.
    pub tls: String,
    pub auth: String,
    /// What it answered (`Ok`), or the problem (`Err`).
    pub answer: Result<String, String>,
    /// What to do about an error.
    pub fix: Option<String>,
}

impl Sources {
    /// Connects to every ledger source and both System APIs, one request set each.
    pub async fn connect_report(&self) -> Vec<ConnectReport> {
        let ledger = futures_util::future::join_all(self.ledger.iter().map(ledger_report));
        let nodes = futures_util::future::join_all(
            [self.primary.as_ref(), self.backup.as_ref()]
                .into_iter()
                .flatten()
                .map(node_report),
        );
        let (mut a, b) = tokio::join!(ledger, nodes);
        a.extend(b);
        a
    }
}

async fn ledger_report(c: &LedgerClient) -> ConnectReport {
    let answer = c.reading().await.map(|r| {
        format!(
            "{} API: epoch {} round {} state version {}, our validator's key in force {}",
            c.kind.as_str(),
            r.epoch,
            r.round,
            r.state_version,
            r.key_in_force
                .as_deref()
                .unwrap_or("(not in the active set)")
        )
    });
    report(&c.name, c.kind, &c.base, &c.http, answer)
}

async fn node_report(n: &NodeClient) -> ConnectReport {
    let answer = system::node_reading(&n.http, &n.base, &n.name)
        .await
        .map(|r| {
            format!(
                "System API: health {}, key {}, {}",
                r.health.as_str(),
                r.public_key_hex,
                r.consensus.as_str()
            )
        });
    report(&n.name, SourceKind::System, &n.base, &n.http, answer)
}

fn report(
    name: &str,
    kind: SourceKind,
    url: &Url,
    http: &Http,
    answer: Result<String, SourceError>,
) -> ConnectReport {
    let tls = if url.scheme() == "https" {
        let seen = http
            .seen_certificate()
            .map(|fp| {
                format!(
                    "; the server sent the certificate {}",
                    fingerprint_text(&fp)
                )
            })
            .unwrap_or_default();
        format!("checked against {}{seen}", http.trusted())
    } else {
        "none (plain http)".to_string()
    };
    let fix = answer
        .as_ref()
        .err()
        .map(|e| fix_for(e, kind, http.conn().basic_auth.as_ref(), name));
    ConnectReport {
        name: name.to_string(),
        url: redacted(url),
        tls,
        auth: http.conn().auth_mode(),
        answer: answer.map_err(|e| e.to_string()),
        fix,
    }
}

/// Where a source's connection keys go in the config, for fixes.
fn place_of(name: &str) -> &'static str {
    if name.ends_with("primary") {
        "[primary]"
    } else if name.ends_with("backup") {
        "[backup]"
    } else {
        "its entry under [sources] (an inline table { url = \"…\", … })"
    }
}

/// The fix for a source's error, from what the error is.
pub fn fix_for(e: &SourceError, kind: SourceKind, auth: Option<&BasicAuth>, name: &str) -> String {
    let place = place_of(name);
    match e {
        SourceError::Http { status: 401 | 403, .. } => match auth {
            Some(BasicAuth {
                user,
                from: PasswordFrom::File(p),
                ..
            }) => format!(
                "{name} refused the credentials: check basic_auth_user ({user:?}) and the password in {} (for a node's nginx: the password set with `babylonnode auth set-admin-password`)",
                p.display()
            ),
            Some(BasicAuth { user, .. }) => format!(
                "{name} refused the credentials: check the user ({user:?}) and password in the URL; better, move them to basic_auth_user and basic_auth_password_file in {place}"
            ),
            None => format!(
                "{name} asks for credentials: add basic_auth_user = \"admin\" and basic_auth_password_file = \"FILE\" to {place} (or, for a commercial gateway, its API key under headers)"
            ),
        },
        SourceError::Http { status: 404, .. } => match kind {
            SourceKind::Gateway => "check the URL: a gateway's base URL has no path, e.g. https://mainnet.radixdlt.com".into(),
            _ => "check the URL's path: a node behind its nginx serves https://HOST/core and https://HOST/system; a node reached directly http://HOST:3333/core and http://HOST:3334/system".into(),
        },
        SourceError::Http { status: 502..=504, .. } => {
            "the proxy in front answered, but the node behind it did not: check the node is running (its nginx answers 502 while it is down)".into()
        }
        SourceError::Http { status: 429, .. } | SourceError::Throttled { .. } => "the source is rate-limiting us: the daemon backs off as long as it asks (Retry-After) and counts it as untrusted meanwhile; if it keeps doing so, use an API key (headers) or another gateway, or run fewer watchers against it".into(),
        SourceError::Http { .. } => "see the message; check the URL points at the right API".into(),
        SourceError::Tls(_) => {
            // The TLS message carries its own fix (the fingerprint seen, what to set).
            "see the TLS message above".into()
        }
        SourceError::Unreachable(_) => "check the host, the port and the firewall (and that the URL's scheme, http or https, is what the port serves)".into(),
        SourceError::Timeout(_) => "check the host is reachable from here; if it is only slow, raise [sources] request_timeout".into(),
        SourceError::NotSynced(_) => "wait for the source to catch up, or use another one".into(),
        SourceError::Malformed(_) => match kind {
            SourceKind::Gateway => "check the URL is a Gateway API (not a Core API) for the configured network".into(),
            SourceKind::Core => "check the URL is a Core API (…/core) of a node on the configured network".into(),
            SourceKind::System => "check the URL is a System API (…/system) of the node".into(),
        },
    }
}
