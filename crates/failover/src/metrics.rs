//! Prometheus metrics and the `/metrics` + `/healthz` endpoint.
//!
//! The runner updates a [`Metrics`] after each poll (cheap: one mutex, no I/O); the server
//! renders the text exposition format 0.0.4 on each scrape. Names follow the Prometheus
//! conventions: prefix `radix_failover_`, base units (`_seconds`), `_total` for counters,
//! labels `source`, `kind`, `phase`, `status`.
//!
//! `/healthz` answers 200 while the last poll is recent and 503 once it is older than the
//! configured age: a hung loop shows there (and, under systemd, the watchdog restarts it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tracing::{debug, warn};

use crate::alerts::{AlertStats, FieldProblem};
use crate::observe::Observation;
use crate::state::Phase;

/// Loopback by default: the metrics say which validator we run and when it is in trouble;
/// exposing them beyond the host is an explicit choice. Port 9464 is free of the common
/// exporters' defaults on a node host (node_exporter 9100, the Radix node's own 3333-3335).
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9464));
/// Concurrent scrape connections: Prometheus uses one per target; 64 leaves room for humans
/// with curl and bounds what a misbehaving client can hold.
const MAX_CONNECTIONS: usize = 64;
/// A client must send its request headers within this: stops idle/slow connections from
/// pinning the connection slots; any real scraper sends them at once.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Every phase name `state::Phase::name` returns, so each is exported (0 or 1) and a query
/// never sees a series appear or vanish.
pub const PHASES: [&str; 6] = [
    "watching",
    "failing_over",
    "committed",
    "failed_over",
    "halted",
    "failing_back",
];

/// The failover transaction's status, as exported by `radix_failover_failover_tx_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverTxStatus {
    /// No failover transaction (watching, or failed over without one of ours).
    None,
    /// Built and being submitted/followed.
    InFlight,
    /// Committed successfully.
    Committed,
    /// Committed with a failure or given up: an operator must act.
    Failed,
}

impl FailoverTxStatus {
    pub const ALL: [FailoverTxStatus; 4] = [
        FailoverTxStatus::None,
        FailoverTxStatus::InFlight,
        FailoverTxStatus::Committed,
        FailoverTxStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailoverTxStatus::None => "none",
            FailoverTxStatus::InFlight => "in_flight",
            FailoverTxStatus::Committed => "committed",
            FailoverTxStatus::Failed => "failed",
        }
    }

    /// What a daemon phase says about the transaction.
    pub fn of_phase(phase: &Phase) -> FailoverTxStatus {
        match phase {
            Phase::Watching => FailoverTxStatus::None,
            Phase::FailingOver(_) | Phase::FailingBack(_) => FailoverTxStatus::InFlight,
            Phase::Committed { .. } => FailoverTxStatus::Committed,
            Phase::FailedOver { intent_hash, .. } => match intent_hash {
                Some(_) => FailoverTxStatus::Committed,
                None => FailoverTxStatus::None,
            },
            Phase::Halted { .. } => FailoverTxStatus::Failed,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct SourceState {
    kind: String,
    up: bool,
    lag_seconds: Option<f64>,
    errors_total: u64,
}

#[derive(Debug, Default)]
struct State {
    sources: BTreeMap<String, SourceState>,
    epoch: Option<u64>,
    made: Option<u64>,
    missed: Option<u64>,
    phase: Option<String>,
    preflight_ok: Option<bool>,
    decision: Option<String>,
    decision_changed_ms: Option<i64>,
    tx_status: Option<FailoverTxStatus>,
    polls_total: u64,
    last_poll_ms: Option<i64>,
    alerts: AlertStats,
}

/// The daemon's metrics. Cheap to clone (an `Arc` inside); every setter is a short mutex.
#[derive(Clone, Default)]
pub struct Metrics {
    state: Arc<Mutex<State>>,
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        // A poisoned lock still holds consistent plain data; metrics must keep working.
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s)
    }

    /// Everything one poll says about the sources: each ledger source's up state and lag (its
    /// ledger's proposer time against `obs.at_ms`), each System API's up state, an error count
    /// per failing source, the poll counter and the last poll time.
    pub fn observe(&self, obs: &Observation) {
        self.with(|s| {
            for o in &obs.ledger {
                let lag = o
                    .result
                    .as_ref()
                    .ok()
                    .map(|r| secs(obs.at_ms.saturating_sub(r.ledger_time_ms)));
                s.set_source(&o.name, o.kind.as_str(), o.result.is_ok(), lag);
            }
            for o in [&obs.primary, &obs.backup].into_iter().flatten() {
                // A System API answering with a node that is not UP is a reachable source:
                // the node's health is the policy's business, not the source's.
                s.set_source(&o.name, o.kind.as_str(), o.result.is_ok(), None);
            }
            s.polls_total += 1;
            s.last_poll_ms = Some(obs.at_ms);
        });
    }

    /// One source by hand: up (answered) and its lag, if known. A source that is down gets
    /// its error counter incremented.
    pub fn set_source(&self, name: &str, kind: &str, up: bool, lag: Option<Duration>) {
        self.with(|s| s.set_source(name, kind, up, lag.map(|d| d.as_secs_f64())));
    }

    /// A poll finished at `now_ms` (when not using `observe`).
    pub fn record_poll(&self, now_ms: i64) {
        self.with(|s| {
            s.polls_total += 1;
            s.last_poll_ms = Some(now_ms);
        });
    }

    /// The current epoch and our made/missed proposals in it (`None`: unknown, not exported).
    pub fn set_epoch(&self, epoch: Option<u64>, made: Option<u64>, missed: Option<u64>) {
        self.with(|s| {
            s.epoch = epoch;
            s.made = made;
            s.missed = missed;
        });
    }

    /// The daemon's phase, and the failover transaction's status that follows from it.
    pub fn set_phase(&self, phase: &Phase) {
        self.with(|s| {
            s.phase = Some(phase.name().to_string());
            s.tx_status = Some(FailoverTxStatus::of_phase(phase));
        });
    }

    /// The transaction status, when it must differ from what the phase says.
    pub fn set_tx_status(&self, status: FailoverTxStatus) {
        self.with(|s| s.tx_status = Some(status));
    }

    /// Pre-flight result (`None`: not run yet).
    pub fn set_preflight(&self, ok: Option<bool>) {
        self.with(|s| s.preflight_ok = ok);
    }

    /// The policy's decision this poll (`Decision::label()`); the exported time is when the
    /// decision last changed, e.g. when it first said `fail_over`.
    pub fn record_decision(&self, label: &str, now_ms: i64) {
        self.with(|s| {
            if s.decision.as_deref() != Some(label) {
                s.decision = Some(label.to_string());
                s.decision_changed_ms = Some(now_ms);
            }
        });
    }

    pub fn set_alert_stats(&self, stats: AlertStats) {
        self.with(|s| s.alerts = stats);
    }

    /// Unix ms of the last poll, if any.
    pub fn last_poll_ms(&self) -> Option<i64> {
        self.with(|s| s.last_poll_ms)
    }

    /// The text exposition format 0.0.4.
    pub fn render(&self) -> String {
        self.with(|s| s.render())
    }
}

impl State {
    fn set_source(&mut self, name: &str, kind: &str, up: bool, lag_seconds: Option<f64>) {
        let e = self.sources.entry(name.to_string()).or_default();
        e.kind = kind.to_string();
        e.up = up;
        e.lag_seconds = if up { lag_seconds } else { None };
        if !up {
            e.errors_total += 1;
        }
    }

    fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let b = |v: bool| if v { 1.0 } else { 0.0 };
        let src = |n: &str, k: &str| vec![("source", n.to_string()), ("kind", k.to_string())];

        family(
            &mut out,
            "radix_failover_build_info",
            "radix-failover version; always 1.",
            "gauge",
            vec![(
                vec![("version", env!("CARGO_PKG_VERSION").to_string())],
                1.0,
            )],
        );
        family(
            &mut out,
            "radix_failover_source_up",
            "1 if the source answered the last poll, else 0.",
            "gauge",
            self.sources
                .iter()
                .map(|(n, s)| (src(n, &s.kind), b(s.up)))
                .collect(),
        );
        family(
            &mut out,
            "radix_failover_source_lag_seconds",
            "Age of the source's ledger state (proposer timestamp) at the last poll; absent when down or not a ledger source.",
            "gauge",
            self.sources
                .iter()
                .filter_map(|(n, s)| s.lag_seconds.map(|l| (src(n, &s.kind), l)))
                .collect(),
        );
        family(
            &mut out,
            "radix_failover_source_errors_total",
            "Polls in which the source gave no usable answer.",
            "counter",
            self.sources
                .iter()
                .map(|(n, s)| (src(n, &s.kind), s.errors_total as f64))
                .collect(),
        );
        let one = |v: Option<u64>| v.map(|v| vec![(vec![], v as f64)]).unwrap_or_default();
        family(
            &mut out,
            "radix_failover_epoch",
            "The current epoch as the trusted sources agree on it.",
            "gauge",
            one(self.epoch),
        );
        family(
            &mut out,
            "radix_failover_epoch_proposals_made",
            "Our validator's proposals made in the current epoch.",
            "gauge",
            one(self.made),
        );
        family(
            &mut out,
            "radix_failover_epoch_proposals_missed",
            "Our validator's proposals missed in the current epoch.",
            "gauge",
            one(self.missed),
        );
        let mut phases: Vec<&str> = PHASES.to_vec();
        if let Some(p) = &self.phase {
            if !phases.contains(&p.as_str()) {
                phases.push(p);
            }
        }
        family(
            &mut out,
            "radix_failover_phase",
            "1 for the daemon's current phase, 0 for the others.",
            "gauge",
            phases
                .iter()
                .map(|p| {
                    (
                        vec![("phase", p.to_string())],
                        b(self.phase.as_deref() == Some(*p)),
                    )
                })
                .collect(),
        );
        family(
            &mut out,
            "radix_failover_preflight_ok",
            "1 if every pre-flight check passed, 0 if one failed (automatic failover blocked); absent before the first run.",
            "gauge",
            self.preflight_ok
                .map(|ok| vec![(vec![], b(ok))])
                .unwrap_or_default(),
        );
        family(
            &mut out,
            "radix_failover_last_decision_timestamp_seconds",
            "Unix time the policy's decision last changed (to the one in radix_failover_decision).",
            "gauge",
            self.decision_changed_ms
                .map(|ms| vec![(vec![], secs(ms))])
                .unwrap_or_default(),
        );
        family(
            &mut out,
            "radix_failover_decision",
            "1 for the policy's current decision.",
            "gauge",
            self.decision
                .iter()
                .map(|d| (vec![("decision", d.clone())], 1.0))
                .collect(),
        );
        family(
            &mut out,
            "radix_failover_failover_tx_status",
            "1 for the failover transaction's status (none, in_flight, committed, failed), 0 for the others.",
            "gauge",
            FailoverTxStatus::ALL
                .iter()
                .map(|st| {
                    (
                        vec![("status", st.as_str().to_string())],
                        b(self.tx_status == Some(*st)),
                    )
                })
                .collect(),
        );
        family(
            &mut out,
            "radix_failover_polls_total",
            "Polls completed.",
            "counter",
            vec![(vec![], self.polls_total as f64)],
        );
        family(
            &mut out,
            "radix_failover_last_poll_timestamp_seconds",
            "Unix time of the last completed poll.",
            "gauge",
            self.last_poll_ms
                .map(|ms| vec![(vec![], secs(ms))])
                .unwrap_or_default(),
        );
        family(
            &mut out,
            "radix_failover_alert_deliveries_total",
            "Alert deliveries by result: delivered, failed (after retries), dropped (queue full).",
            "counter",
            [
                ("delivered", self.alerts.delivered),
                ("failed", self.alerts.failed),
                ("dropped", self.alerts.dropped),
            ]
            .iter()
            .map(|(r, n)| (vec![("result", r.to_string())], *n as f64))
            .collect(),
        );
        out
    }
}

type Sample = (Vec<(&'static str, String)>, f64);

/// One metric family: HELP, TYPE and its samples.
fn family(out: &mut String, name: &str, help: &str, kind: &str, samples: Vec<Sample>) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        out.push_str(name);
        if !labels.is_empty() {
            out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}=\"{}\"", escape_label(v));
            }
            out.push('}');
        }
        let _ = writeln!(out, " {}", format_value(value));
    }
}

/// Label values escape backslash, double quote and newline (exposition format 0.0.4).
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// `/healthz` fails once the last poll is older than this. Three missed polls plus the
/// longest a poll can take when every request times out (pre-flight and the submit step make
/// several requests in a row) means the loop is stuck, not slow.
pub fn health_max_age(poll_interval: Duration, request_timeout: Duration) -> Duration {
    poll_interval * 3 + request_timeout * 10
}

/// `[metrics]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// `host:port` to serve on; `"off"` or `""` disables. Default `127.0.0.1:9464`.
    pub listen: Option<String>,
}

impl RawMetrics {
    /// The address to serve on, or `None` when disabled. Any address is allowed when given
    /// explicitly (a non-loopback one exposes the metrics to the network: the operator's call).
    pub fn validate(&self) -> Result<Option<SocketAddr>, FieldProblem> {
        let Some(s) = &self.listen else {
            return Ok(Some(DEFAULT_LISTEN));
        };
        let t = s.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        t.parse::<SocketAddr>().map(Some).map_err(|_| {
            (
                "metrics.listen",
                s.clone(),
                "is not an IP address with a port (host names are not resolved here)".into(),
                "write an address such as \"127.0.0.1:9464\" or \"[::1]:9464\", or \"off\" to disable the endpoint".into(),
            )
        })
    }
}

/// The `/metrics` and `/healthz` server, bound (so the address is known, port 0 resolved,
/// and a taken port reported at startup) but not yet serving.
pub struct MetricsServer {
    listener: tokio::net::TcpListener,
    metrics: Metrics,
    health_max_age: Duration,
}

impl MetricsServer {
    pub async fn bind(
        addr: SocketAddr,
        metrics: Metrics,
        health_max_age: Duration,
    ) -> io::Result<MetricsServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(MetricsServer {
            listener,
            metrics,
            health_max_age,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; open connections are closed then.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        tokio::pin!(shutdown);
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let accepted = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some(_) = conns.join_next(), if !conns.is_empty() => continue,
                a = self.listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: transient; do not spin on it.
                    warn!("metrics: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                debug!("metrics: {MAX_CONNECTIONS} connections open; refusing {peer}");
                continue;
            };
            let metrics = self.metrics.clone();
            let max_age = self.health_max_age;
            conns.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let resp = respond(&req, &metrics, max_age);
                    async move { Ok::<_, std::convert::Infallible>(resp) }
                });
                let mut b = hyper::server::conn::http1::Builder::new();
                b.timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT);
                if let Err(e) = b.serve_connection(TokioIo::new(stream), service).await {
                    debug!("metrics: connection from {peer}: {e}");
                }
                drop(permit);
            });
        }
        conns.abort_all();
        Ok(())
    }
}

/// Binds `addr` and serves `/metrics` and `/healthz` until `shutdown`.
pub async fn serve(
    addr: SocketAddr,
    metrics: Metrics,
    health_max_age: Duration,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    MetricsServer::bind(addr, metrics, health_max_age)
        .await?
        .run(shutdown)
        .await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `/healthz`: (healthy, text) for the last poll at `last_poll_ms`, seen at `now_ms`.
pub fn health(last_poll_ms: Option<i64>, now_ms: i64, max_age: Duration) -> (bool, String) {
    match last_poll_ms {
        None => (false, "no poll completed yet\n".into()),
        Some(t) => {
            let age_ms = now_ms.saturating_sub(t);
            let max_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
            if age_ms > max_ms {
                (
                    false,
                    format!(
                        "last poll {:.1} s ago, more than {:.1} s: the watch loop is stuck\n",
                        secs(age_ms),
                        max_age.as_secs_f64()
                    ),
                )
            } else {
                (true, "ok\n".into())
            }
        }
    }
}

fn respond<B>(
    req: &hyper::Request<B>,
    metrics: &Metrics,
    max_age: Duration,
) -> hyper::Response<String> {
    use hyper::{header, Method, Response, StatusCode};
    let text = |code: StatusCode, body: String| {
        let mut r = Response::new(body);
        *r.status_mut() = code;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n".into());
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match req.uri().path() {
        "/metrics" => {
            let mut r = text(StatusCode::OK, metrics.render());
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        "/healthz" => {
            let (ok, body) = health(metrics.last_poll_ms(), now_ms(), max_age);
            let code = if ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            text(code, body)
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /metrics or /healthz\n".into(),
        ),
    }
}
