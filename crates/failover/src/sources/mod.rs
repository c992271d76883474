//! The sources: HTTP clients of the Gateway, Core and System APIs that fill
//! [`crate::observe`]'s types.
//!
//! Built once from the config ([`Sources::new`]); one `reqwest` client (rustls, see `tls.rs`)
//! per node and per other source, each with that place's TLS trust and credentials. A poll asks every source at once and never fails as a whole: each
//! source's problem is its own [`SourceError`], for the policy to weigh. Nothing here panics on
//! what a source sends: bodies are capped ([`http::MAX_BODY_BYTES`]), answers that do not parse
//! or do not make sense (wrong network, our validator missing) are `Malformed`.
//!
//! - Gateway ([`SourceKind::Gateway`]): `/state/validators/list` (key in force, key on ledger,
//!   ledger state), `/statistics/validators/uptime` (finished epochs, once per epoch),
//!   `/transaction/submit|status`.
//! - Core API ([`SourceKind::Core`]): `/state/consensus-manager` (this epoch's made/missed per
//!   validator index, key in force) and `/state/validator` (key on ledger), concurrently;
//!   `/lts/transaction/submit|status`.
//! - System API: `/health` and `/identity` of the primary and the backup node.

mod connect;
mod core;
mod gateway;
pub mod http;
mod system;
pub mod tls;
mod unknown;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use url::Url;

use crate::config::{Config, PolicyName};
use crate::observe::{
    FinishedEpochs, LedgerReading, NodeHealth, NodeReading, Observation, SourceError, SourceKind,
    SourceObservation, SubmitAnswer, TxEndpoint, TxStatus,
};
pub use connect::{fix_for, ConnectReport};
use http::Http;

#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("cannot set up the HTTP client: {0} (fix: this is a TLS/system problem; check the system's certificate store)")]
    Client(String),
    #[error("source {name}: kind {kind} is not a ledger source (fix: list gateways under [sources] gateways, Core APIs under core_apis or [primary]/[backup] core_api)")]
    NotLedger { name: String, kind: &'static str },
}

/// Every source of the config, ready to poll. Cheap to clone (the client and caches are shared).
#[derive(Debug, Clone)]
pub struct Sources {
    ledger: Vec<LedgerClient>,
    /// The active node's System API (the config's `primary` slot) and the standby's.
    primary: Option<NodeClient>,
    backup: Option<NodeClient>,
    /// Which configured node is active (`Config::active`).
    active: crate::roles::Node,
    /// The most one poll of one source may take, all its requests together.
    poll_deadline: Duration,
    key_change_expected: Arc<AtomicBool>,
}

/// One source's whole poll (a Gateway's reading is several requests: status, the validator
/// list page by page, uptime) may take at most this many request timeouts: enough for a
/// reading's requests when each is slow but answers, short enough that one slow source
/// cannot hold up the decision of the others for long.
pub const POLL_DEADLINE_REQUESTS: u32 = 2;

/// The poll deadline: [`POLL_DEADLINE_REQUESTS`] request timeouts, and never more than a
/// quarter of systemd's watchdog interval (the loop pings at half of it, so a poll always ends,
/// and the loop pings, well before systemd would kill a daemon that is about to act).
pub fn poll_deadline(request_timeout: Duration, watchdog: Option<Duration>) -> Duration {
    let d = request_timeout.saturating_mul(POLL_DEADLINE_REQUESTS);
    match watchdog {
        Some(w) => d.min(w / 4),
        None => d,
    }
}

/// `fut`, or a timeout error once `deadline` has passed.
async fn within<T>(
    deadline: Duration,
    fut: impl std::future::Future<Output = Result<T, SourceError>>,
) -> Result<T, SourceError> {
    match tokio::time::timeout(deadline, fut).await {
        Ok(r) => r,
        Err(_) => Err(SourceError::Timeout(
            u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
        )),
    }
}

/// One Gateway or Core API.
#[derive(Clone)]
pub struct LedgerClient {
    name: String,
    kind: SourceKind,
    base: Url,
    http: Http,
    /// Logical network name (what the Core API's `network` field takes, what a gateway's
    /// `ledger_state.network` says), e.g. "mainnet", "simulator".
    network: String,
    /// Our validator, bech32m.
    validator: String,
    /// `policy.legacy_window_epochs`: how many epochs (with the current) the finished-epoch
    /// counts cover.
    window_epochs: u64,
    /// The legacy rule decides on finished epochs: a gateway reading without them fails.
    needs_finished: bool,
    /// Gateway only: (epoch asked at, counts), so the uptime request runs once per epoch.
    uptime_cache: Arc<Mutex<Option<(u64, FinishedEpochs)>>>,
    /// Gateway only: what the validator list said last, so it is read once per epoch.
    list_cache: Arc<Mutex<Option<gateway::ListCache>>>,
    /// Shared by every source: the runner sets it while a key change is on its way (a
    /// failover or failback in flight), when the validator list is read on every poll.
    key_change_expected: Arc<AtomicBool>,
}

/// One node's System API.
#[derive(Clone)]
struct NodeClient {
    name: String,
    base: Url,
    http: Http,
}

/// `url` without credentials, for Debug output and messages.
pub fn redacted(url: &Url) -> String {
    let mut u = url.clone();
    if !u.username().is_empty() || u.password().is_some() {
        // Both only fail for URLs that cannot have credentials, which then have none.
        let _ = u.set_username("");
        let _ = u.set_password(None);
        return format!("{u} (credentials hidden)");
    }
    u.to_string()
}

// Debug by hand: the derived one would print a URL's credentials.
impl std::fmt::Debug for LedgerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerClient")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base", &redacted(&self.base))
            .field("network", &self.network)
            .field("validator", &self.validator)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NodeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeClient")
            .field("name", &self.name)
            .field("base", &redacted(&self.base))
            .finish()
    }
}

/// Wall clock in unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Sources {
    pub fn new(config: &Config) -> Result<Sources, SourcesError> {
        let timeout = config.daemon.request_timeout;
        let client = |name: &str, conn| {
            Http::new(timeout, conn).map_err(|e| SourcesError::Client(format!("{name}: {e}")))
        };
        // One client per node: its nginx serves both APIs with the same certificate and
        // credentials. Every other source has its own.
        // After a re-arm the `primary` slot holds the configured backup (roles.rs): the
        // sources keep their nodes' names.
        let (active, standby) = (config.active, config.active.other());
        let primary_http = client(active.name(), &config.primary.conn)?;
        let backup_http = client(standby.name(), &config.backup.conn)?;
        let validator = config.validator_bech32();
        let key_change_expected = Arc::new(AtomicBool::new(false));
        let mut ledger = Vec::with_capacity(config.sources.len());
        for s in &config.sources {
            if s.kind == SourceKind::System {
                return Err(SourcesError::NotLedger {
                    name: s.name.clone(),
                    kind: s.kind.as_str(),
                });
            }
            let http = if s.name == active.core_source() {
                primary_http.counted_apart()
            } else if s.name == standby.core_source() {
                backup_http.counted_apart()
            } else {
                client(&s.name, &s.conn)?
            };
            ledger.push(LedgerClient {
                name: s.name.clone(),
                kind: s.kind,
                base: s.url.clone(),
                http,
                network: config.network.logical_name.to_string(),
                validator: validator.clone(),
                window_epochs: config.policy.legacy_window_epochs,
                needs_finished: config.policy.name == PolicyName::Legacy,
                uptime_cache: Arc::default(),
                list_cache: Arc::default(),
                key_change_expected: key_change_expected.clone(),
            });
        }
        let node = |name: &str, url: &Option<Url>, http: &Http| {
            url.as_ref().map(|u| NodeClient {
                name: name.to_string(),
                base: u.clone(),
                http: http.clone(),
            })
        };
        Ok(Sources {
            poll_deadline: poll_deadline(
                config.daemon.request_timeout,
                crate::systemd::watchdog_interval(),
            ),
            ledger,
            primary: node(
                active.system_source(),
                &config.primary.system_api,
                &primary_http,
            ),
            backup: node(
                standby.system_source(),
                &config.backup.system_api,
                &backup_http,
            ),
            active,
            key_change_expected,
        })
    }

    /// The pair's roles swapped (a re-arm, `runner/rearm.rs`): the System APIs change slots
    /// and [`Sources::poll`] pairs each Core API with its own node again. The ledger sources,
    /// their clients, caches and traffic counters stay as they are.
    pub fn swap_roles(&mut self) {
        std::mem::swap(&mut self.primary, &mut self.backup);
        self.active = self.active.other();
    }

    /// While a key change is on its way (a failover or failback in flight, its commit not yet
    /// confirmed), gateways read the validator list on every poll to see it land; otherwise
    /// once per epoch (the keys it gives change only at an epoch change or by our own
    /// transaction).
    pub fn set_key_change_expected(&self, expected: bool) {
        self.key_change_expected.store(expected, Ordering::Relaxed);
    }

    /// Requests, bytes and back-offs so far, per source (the System APIs as `system primary`
    /// and `system backup`).
    pub fn traffic(&self) -> Vec<(String, Arc<http::Traffic>)> {
        let ledger = self
            .ledger
            .iter()
            .map(|c| (c.name.clone(), c.http.traffic().clone()));
        let nodes = [self.primary.as_ref(), self.backup.as_ref()]
            .into_iter()
            .flatten()
            .map(|n| (n.name.clone(), n.http.traffic().clone()));
        ledger.chain(nodes).collect()
    }

    /// Polls every ledger source and both System APIs concurrently. Never fails: errors are
    /// per source. `at_ms` is the wall clock when the poll finished.
    pub async fn poll(&self) -> Observation {
        let ledger = join_all(self.ledger.iter().map(|c| async move {
            SourceObservation {
                name: c.name.clone(),
                kind: c.kind,
                result: within(self.poll_deadline, c.reading()).await,
            }
        }));
        let (mut ledger, primary, backup) =
            tokio::join!(ledger, self.primary_node(), self.backup_node());
        // A node that says it is not synced is no trustworthy ledger source, however fresh its
        // Core API's answer looks (a node catching up serves an old ledger).
        for o in &mut ledger {
            let node = if o.name == self.active.core_source() {
                &primary
            } else if o.name == self.active.other().core_source() {
                &backup
            } else {
                continue;
            };
            if let (Ok(_), Some(Ok(n))) = (&o.result, node.as_ref().map(|n| &n.result)) {
                if n.health != NodeHealth::Up {
                    o.result = Err(SourceError::NotSynced(format!(
                        "its node's System API says {}: {}",
                        n.health.as_str(),
                        n.detail
                    )));
                }
            }
        }
        Observation {
            at_ms: now_ms(),
            ledger,
            primary,
            backup,
        }
    }

    /// The ledger sources, in config order.
    pub fn ledger_clients(&self) -> &[LedgerClient] {
        &self.ledger
    }

    /// Every ledger source: Gateways and Core APIs both take transactions.
    pub fn tx_endpoints(&self) -> Vec<&LedgerClient> {
        self.ledger.iter().collect()
    }

    /// The first Gateway, for the calls only a gateway serves (account details, preview).
    /// The Gateways, in config order (pre-flight asks the next when one does not answer).
    pub fn gateways(&self) -> impl Iterator<Item = &LedgerClient> {
        self.ledger.iter().filter(|c| c.kind == SourceKind::Gateway)
    }

    pub fn first_gateway(&self) -> Option<&LedgerClient> {
        self.ledger.iter().find(|c| c.kind == SourceKind::Gateway)
    }

    /// The primary node's System API (`/health` + `/identity`); `None` when not configured.
    pub async fn primary_node(&self) -> Option<SourceObservation<NodeReading>> {
        self.node_observation(self.primary.as_ref()).await
    }

    /// The backup node's System API; `None` when not configured.
    pub async fn backup_node(&self) -> Option<SourceObservation<NodeReading>> {
        self.node_observation(self.backup.as_ref()).await
    }

    async fn node_observation(
        &self,
        node: Option<&NodeClient>,
    ) -> Option<SourceObservation<NodeReading>> {
        let n = node?;
        Some(SourceObservation {
            name: n.name.clone(),
            kind: SourceKind::System,
            result: within(
                self.poll_deadline,
                system::node_reading(&n.http, &n.base, &n.name),
            )
            .await,
        })
    }
}

impl LedgerClient {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// What this source says about the ledger and our validator now.
    /// A reading whose numbers leave no room for the daemon's arithmetic (an epoch near
    /// `u64::MAX`, counts that overflow when summed) is `Malformed`, naming the field.
    pub async fn reading(&self) -> Result<LedgerReading, SourceError> {
        let r = match self.kind {
            SourceKind::Gateway => self.gw_reading().await,
            _ => self.core_reading().await,
        }?;
        match r.arithmetic_problem() {
            None => Ok(r),
            Some(why) => Err(SourceError::Malformed(format!("{}: {why}", self.name))),
        }
    }

    /// Our validator's registration and key on ledger, as this source sees it:
    /// `(is_registered, key_on_ledger)`, the key 66 lowercase hex. A gateway that does not show
    /// the registration flag gives `None` for it.
    pub async fn registration(&self) -> Result<(Option<bool>, String), SourceError> {
        match self.kind {
            SourceKind::Gateway => {
                let (_, item) = self.gw_our_validator().await?;
                let key = item.ledger_public_key_hex().ok_or_else(|| {
                    SourceError::Malformed(format!(
                        "{}: validator {} has no state.public_key in the validator list",
                        self.name, self.validator
                    ))
                })?;
                let registered = item
                    .state
                    .as_ref()
                    .and_then(|s| s.get("is_registered"))
                    .and_then(|v| v.as_bool());
                Ok((registered, key.to_ascii_lowercase()))
            }
            _ => {
                let v = self.core_validator_state().await?;
                Ok((
                    Some(v.is_registered),
                    v.public_key.key_hex().to_ascii_lowercase(),
                ))
            }
        }
    }
}

impl TxEndpoint for LedgerClient {
    fn name(&self) -> &str {
        &self.name
    }

    /// Gateway `/transaction/submit` or Core `/lts/transaction/submit`.
    ///
    /// `Rejected { permanent: true }` from a gateway also covers an intent that is already
    /// committed (the gateway does not say which): follow up with `status`. A Core API that
    /// reports `IntentAlreadyCommitted` gives `Accepted { duplicate: true }`: the intent hash
    /// covers everything we sign, so that commit is ours.
    async fn submit(&self, notarized_hex: &str) -> Result<SubmitAnswer, SourceError> {
        match self.kind {
            SourceKind::Gateway => self.gw_submit(notarized_hex).await,
            _ => self.core_submit(notarized_hex).await,
        }
    }

    /// Gateway `/transaction/status` or Core `/lts/transaction/status`, mapped to [`TxStatus`].
    async fn status(&self, intent_hash_bech32: &str) -> Result<TxStatus, SourceError> {
        match self.kind {
            SourceKind::Gateway => self.gw_status(intent_hash_bech32).await,
            _ => self.core_status(intent_hash_bech32).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_deadline_is_two_requests_and_well_inside_the_watchdog() {
        let t = Duration::from_secs(5);
        assert_eq!(poll_deadline(t, None), Duration::from_secs(10));
        assert_eq!(
            poll_deadline(t, Some(Duration::from_secs(60))),
            Duration::from_secs(10)
        );
        // A short watchdog: a quarter of it, so the loop still pings at half.
        assert_eq!(
            poll_deadline(t, Some(Duration::from_secs(20))),
            Duration::from_secs(5)
        );
    }
}
