//! Prometheus metrics and the `/metrics` + `/healthz` endpoint.
//!
//! The runner updates a [`Metrics`] after each poll (cheap: one mutex, no I/O). On each scrape
//! the Prometheus project's own Rust client, `prometheus-client`, encodes them from one
//! snapshot: OpenMetrics 1.0 for a client that asks for it (the Prometheus server does), the
//! text format 0.0.4 for the rest (curl, `promtool check metrics`). Names follow the
//! Prometheus conventions: prefix `radix_failover_`, base units (`_seconds`), `_total` for
//! counters, labels `source`, `kind`, `phase`, `status`.
//!
//! `/healthz` answers 200 while the last poll is recent and 503 once it is older than the
//! configured age: a hung loop shows there (and, under systemd, the watchdog restarts it).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use serde::Deserialize;
use tracing::{debug, warn};

use crate::alerts::AlertStats;
use crate::field::FieldProblem;
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
    /// The maintenance pause's end (unix ms) while one is in force.
    paused_until_ms: Option<i64>,
    decision: Option<String>,
    decision_changed_ms: Option<i64>,
    tx_status: Option<FailoverTxStatus>,
    polls_total: u64,
    last_poll_ms: Option<i64>,
    alerts: AlertStats,
    /// Per source: (requests sent, response bytes received, back-offs asked for).
    traffic: BTreeMap<String, (u64, u64, u64)>,
    /// The pair (rule 10): the active node and the standby, by config section.
    active_node: Option<String>,
    standby_node: Option<String>,
    protection: Option<Protection>,
    /// The authority tripwire (rule 11): changes the daemon did not make, per kind, and the
    /// last epoch checked.
    authority_changes: BTreeMap<&'static str, u64>,
    authority_checked_epoch: Option<u64>,
}

/// What protects the validator now, set by the runner on every poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protection {
    /// The standby passes the readiness gate (rule 4).
    pub standby_ready: bool,
    /// An automatic switch could happen now (watching, not paused, pre-flight passed, the
    /// standby ready, within the flap limit).
    pub armed: bool,
    /// Automatic switches the flap limit allows now (rule 10b): 1, or 0 until the epoch in
    /// `flap_next_epoch`.
    pub flap_budget: u64,
    pub flap_next_epoch: Option<u64>,
    /// The last switch that took effect: its epoch and unix ms.
    pub last_switch: Option<(u64, i64)>,
}

/// The daemon's metrics. Cheap to clone (`Arc`s inside); every setter is a short mutex.
#[derive(Clone)]
pub struct Metrics {
    state: Arc<Mutex<State>>,
    registry: Arc<Registry>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

impl Metrics {
    pub fn new() -> Metrics {
        let state = Arc::new(Mutex::new(State::default()));
        let mut registry = Registry::default();
        registry.register_collector(Box::new(StateCollector(state.clone())));
        Metrics {
            state,
            registry: Arc::new(registry),
        }
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

    /// A source's traffic so far (counters kept by its HTTP client).
    pub fn set_traffic(&self, name: &str, requests: u64, bytes: u64, throttled: u64) {
        self.with(|s| {
            s.traffic
                .insert(name.to_string(), (requests, bytes, throttled));
        });
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

    /// The pair's roles: which configured node is active, which stands by.
    pub fn set_active(&self, active: &str, standby: &str) {
        self.with(|s| {
            s.active_node = Some(active.to_string());
            s.standby_node = Some(standby.to_string());
        });
    }

    /// What protects the validator now (every poll).
    pub fn set_protection(&self, p: Protection) {
        self.with(|s| s.protection = Some(p));
    }

    /// The maintenance pause: its end while one is in force, `None` when armed.
    pub fn set_paused(&self, until_ms: Option<i64>) {
        self.with(|s| s.paused_until_ms = until_ms);
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

    /// The authority tripwire checked the validator in `epoch`.
    pub fn set_authority_checked(&self, epoch: u64) {
        self.with(|s| s.authority_checked_epoch = Some(epoch));
    }

    /// The tripwire found a change the daemon did not make.
    pub fn record_authority_change(&self, what: crate::tripwire::What) {
        self.with(|s| *s.authority_changes.entry(what.as_str()).or_default() += 1);
    }

    pub fn set_alert_stats(&self, stats: AlertStats) {
        self.with(|s| s.alerts = stats);
    }

    /// Unix ms of the last poll, if any.
    pub fn last_poll_ms(&self) -> Option<i64> {
        self.with(|s| s.last_poll_ms)
    }

    /// The OpenMetrics 1.0 text exposition, as prometheus-client encodes it (what Prometheus
    /// asks for when it scrapes).
    pub fn render_openmetrics(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail; our collector only fails when the writer does.
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            warn!("metrics: encoding failed: {e}");
        }
        out
    }

    /// Prometheus' text format 0.0.4: the same families and samples, for every other client.
    pub fn render(&self) -> String {
        openmetrics_to_text(&self.render_openmetrics())
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
}

/// The families, encoded on each scrape from one consistent snapshot of [`State`]: the values
/// are set by the runner as plain data, so a [`Collector`] (not live `Gauge`s) fits, and a
/// value that is unknown is simply not encoded (absent), never a made-up 0.
#[derive(Debug)]
struct StateCollector(Arc<Mutex<State>>);

impl Collector for StateCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.encode(&mut enc)
    }
}

/// Picks one counter of a source's (requests, bytes, throttled).
type TrafficField = fn(&(u64, u64, u64)) -> u64;

/// 0/1 gauges: integers, so they render as `1`, not `1.0`.
fn flag(v: bool) -> ConstGauge<i64> {
    ConstGauge::new(i64::from(v))
}

fn count(v: u64) -> ConstCounter<u64> {
    ConstCounter::new(v)
}

fn int(v: u64) -> ConstGauge<i64> {
    // An epoch or a proposal count beyond i64 is not a real ledger; saturate, never wrap.
    ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX))
}

fn seconds(ms: i64) -> ConstGauge<f64> {
    ConstGauge::new(secs(ms))
}

impl State {
    fn encode(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauge = MetricType::Gauge;
        let counter = MetricType::Counter;
        let sec = Some(&Unit::Seconds);

        let mut m = enc.encode_descriptor(
            "radix_failover_build_info",
            "radix-failover version; always 1.",
            None,
            gauge,
        )?;
        flag(true).encode(m.encode_family(&[("version", env!("CARGO_PKG_VERSION"))])?)?;

        let mut m = enc.encode_descriptor(
            "radix_failover_source_up",
            "1 if the source answered the last poll, else 0.",
            None,
            gauge,
        )?;
        for (name, src) in &self.sources {
            flag(src.up).encode(m.encode_family(&source_labels(name, src))?)?;
        }

        // Unit seconds: the family is named radix_failover_source_lag_seconds.
        let mut m = enc.encode_descriptor(
            "radix_failover_source_lag",
            "Age of the source's ledger state (proposer timestamp) at the last poll; absent when down or not a ledger source.",
            sec,
            gauge,
        )?;
        for (name, src) in &self.sources {
            if let Some(lag) = src.lag_seconds {
                ConstGauge::new(lag).encode(m.encode_family(&source_labels(name, src))?)?;
            }
        }

        // A counter: the samples are radix_failover_source_errors_total.
        let mut m = enc.encode_descriptor(
            "radix_failover_source_errors",
            "Polls in which the source gave no usable answer.",
            None,
            counter,
        )?;
        for (name, src) in &self.sources {
            count(src.errors_total).encode(m.encode_family(&source_labels(name, src))?)?;
        }

        // Counters: radix_failover_source_requests_total, …_response_bytes_total,
        // …_throttled_total. What a source (a public gateway above all) costs, per hour.
        let traffic: [(&str, &str, TrafficField); 3] = [
            (
                "radix_failover_source_requests",
                "HTTP requests sent to the source.",
                |t| t.0,
            ),
            (
                "radix_failover_source_response_bytes",
                "Bytes of the source's answers (headers and bodies, before TLS).",
                |t| t.1,
            ),
            (
                "radix_failover_source_throttled",
                "Answers in which the source asked us to back off (HTTP 429, or 503 with Retry-After).",
                |t| t.2,
            ),
        ];
        for (name, help, get) in traffic {
            let mut m = enc.encode_descriptor(name, help, None, counter)?;
            for (source, t) in &self.traffic {
                count(get(t)).encode(m.encode_family(&[("source", Escaped(source))])?)?;
            }
        }

        let m = enc.encode_descriptor(
            "radix_failover_epoch",
            "The current epoch as the trusted sources agree on it.",
            None,
            gauge,
        )?;
        if let Some(v) = self.epoch {
            int(v).encode(m)?;
        }
        let m = enc.encode_descriptor(
            "radix_failover_epoch_proposals_made",
            "Our validator's proposals made in the current epoch.",
            None,
            gauge,
        )?;
        if let Some(v) = self.made {
            int(v).encode(m)?;
        }
        let m = enc.encode_descriptor(
            "radix_failover_epoch_proposals_missed",
            "Our validator's proposals missed in the current epoch.",
            None,
            gauge,
        )?;
        if let Some(v) = self.missed {
            int(v).encode(m)?;
        }

        let mut phases: Vec<&str> = PHASES.to_vec();
        if let Some(p) = &self.phase {
            if !phases.contains(&p.as_str()) {
                phases.push(p);
            }
        }
        let mut m = enc.encode_descriptor(
            "radix_failover_phase",
            "1 for the daemon's current phase, 0 for the others.",
            None,
            gauge,
        )?;
        for p in phases {
            flag(self.phase.as_deref() == Some(p))
                .encode(m.encode_family(&[("phase", Escaped(p))])?)?;
        }

        let m = enc.encode_descriptor(
            "radix_failover_preflight_ok",
            "1 if every pre-flight check passed, 0 if one failed (automatic failover blocked); absent before the first run.",
            None,
            gauge,
        )?;
        if let Some(ok) = self.preflight_ok {
            flag(ok).encode(m)?;
        }

        let m = enc.encode_descriptor(
            "radix_failover_paused",
            "1 while a maintenance pause is in force (no automatic switch; radix-failover pause), 0 when armed.",
            None,
            gauge,
        )?;
        flag(self.paused_until_ms.is_some()).encode(m)?;

        let m = enc.encode_descriptor(
            "radix_failover_pause_end_timestamp",
            "Unix time the maintenance pause ends by itself; absent when not paused.",
            sec,
            gauge,
        )?;
        if let Some(ms) = self.paused_until_ms {
            seconds(ms).encode(m)?;
        }

        let m = enc.encode_descriptor(
            "radix_failover_last_decision_timestamp",
            "Unix time the policy's decision last changed (to the one in radix_failover_decision).",
            sec,
            gauge,
        )?;
        if let Some(ms) = self.decision_changed_ms {
            seconds(ms).encode(m)?;
        }

        let mut m = enc.encode_descriptor(
            "radix_failover_decision",
            "1 for the policy's current decision.",
            None,
            gauge,
        )?;
        if let Some(d) = &self.decision {
            flag(true).encode(m.encode_family(&[("decision", Escaped(d))])?)?;
        }

        let mut m = enc.encode_descriptor(
            "radix_failover_failover_tx_status",
            "1 for the failover transaction's status (none, in_flight, committed, failed), 0 for the others.",
            None,
            gauge,
        )?;
        for st in FailoverTxStatus::ALL {
            flag(self.tx_status == Some(st))
                .encode(m.encode_family(&[("status", st.as_str())])?)?;
        }

        let m = enc.encode_descriptor("radix_failover_polls", "Polls completed.", None, counter)?;
        count(self.polls_total).encode(m)?;

        let m = enc.encode_descriptor(
            "radix_failover_last_poll_timestamp",
            "Unix time of the last completed poll.",
            sec,
            gauge,
        )?;
        if let Some(ms) = self.last_poll_ms {
            seconds(ms).encode(m)?;
        }

        self.encode_pair(enc)?;
        self.encode_authority(enc)?;

        let mut m = enc.encode_descriptor(
            "radix_failover_alert_deliveries",
            "Alert deliveries by result: delivered, failed (after retries), dropped (queue full).",
            None,
            counter,
        )?;
        for (result, n) in [
            ("delivered", self.alerts.delivered),
            ("failed", self.alerts.failed),
            ("dropped", self.alerts.dropped),
        ] {
            count(n).encode(m.encode_family(&[("result", result)])?)?;
        }
        Ok(())
    }
}

impl State {
    /// The pair's metrics: the active node, the standby's readiness, armed, the flap budget
    /// and the last switch.
    fn encode_pair(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauge = MetricType::Gauge;
        let mut m = enc.encode_descriptor(
            "radix_failover_active_node",
            "1 for the configured node that validates and is watched (primary or backup), 0 for its standby.",
            None,
            gauge,
        )?;
        if let (Some(a), Some(s)) = (&self.active_node, &self.standby_node) {
            flag(true).encode(m.encode_family(&[("node", Escaped(a))])?)?;
            flag(false).encode(m.encode_family(&[("node", Escaped(s))])?)?;
        }
        // Every family is described from the first scrape; its samples come with the first
        // poll that sets the protection.
        let p = self.protection.as_ref();
        let mut m = enc.encode_descriptor(
            "radix_failover_standby_ready",
            "1 if the standby passes the readiness gate (UP, synced, our validator, its key), else 0.",
            None,
            gauge,
        )?;
        if let (Some(s), Some(p)) = (&self.standby_node, p) {
            flag(p.standby_ready).encode(m.encode_family(&[("node", Escaped(s))])?)?;
        }
        let m = enc.encode_descriptor(
            "radix_failover_armed",
            "1 if an automatic switch could happen now (watching, not paused, pre-flight passed, standby ready, within the flap limit), else 0.",
            None,
            gauge,
        )?;
        if let Some(p) = p {
            flag(p.armed).encode(m)?;
        }
        let m = enc.encode_descriptor(
            "radix_failover_flap_budget",
            "Automatic switches the flap limit allows now (policy.flap_limit_epochs): 1, or 0 until radix_failover_flap_next_epoch.",
            None,
            gauge,
        )?;
        if let Some(p) = p {
            int(p.flap_budget).encode(m)?;
        }
        let m = enc.encode_descriptor(
            "radix_failover_flap_next_epoch",
            "The epoch from which the flap limit allows the next automatic switch; absent when one is allowed now.",
            None,
            gauge,
        )?;
        if let Some(e) = p.and_then(|p| p.flap_next_epoch) {
            int(e).encode(m)?;
        }
        let m = enc.encode_descriptor(
            "radix_failover_last_switch_epoch",
            "The epoch from which the last switch took effect; absent before the first.",
            None,
            gauge,
        )?;
        if let Some((e, _)) = p.and_then(|p| p.last_switch) {
            int(e).encode(m)?;
        }
        let m = enc.encode_descriptor(
            "radix_failover_last_switch_timestamp",
            "Unix time the last switch was seen taking effect; absent before the first.",
            Some(&Unit::Seconds),
            gauge,
        )?;
        if let Some((_, ms)) = p.and_then(|p| p.last_switch) {
            seconds(ms).encode(m)?;
        }
        Ok(())
    }

    /// The authority tripwire's metrics (rule 11). Every kind is exported from the first
    /// scrape at 0, so Prometheus' `increase()` sees the first change.
    fn encode_authority(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut m = enc.encode_descriptor(
            "radix_failover_authority_changes",
            "Changes to the validator (key, fee, registration, delegated stake, owner badge) that this daemon did not make, by kind, since it started.",
            None,
            MetricType::Counter,
        )?;
        for what in crate::tripwire::What::ALL {
            let n = self
                .authority_changes
                .get(what.as_str())
                .copied()
                .unwrap_or(0);
            count(n).encode(m.encode_family(&[("what", what.as_str())])?)?;
        }
        let m = enc.encode_descriptor(
            "radix_failover_authority_checked_epoch",
            "The last epoch the authority tripwire compared the validator with what the daemon expects; absent before the first check.",
            None,
            MetricType::Gauge,
        )?;
        if let Some(e) = self.authority_checked_epoch {
            int(e).encode(m)?;
        }
        Ok(())
    }
}

fn source_labels<'a>(name: &'a str, src: &'a SourceState) -> [(&'static str, Escaped<'a>); 2] {
    [("source", Escaped(name)), ("kind", Escaped(&src.kind))]
}

/// A label value escaped as both text formats require (backslash, double quote, line feed).
/// prometheus-client writes label values verbatim (its issue #151), so a source named with a
/// quote would otherwise corrupt the whole scrape, and Prometheus drops a scrape it cannot
/// parse: every metric would vanish.
struct Escaped<'a>(&'a str);

impl EncodeLabelValue for Escaped<'_> {
    fn encode(&self, enc: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        for c in self.0.chars() {
            match c {
                '\\' => enc.write_str("\\\\")?,
                '"' => enc.write_str("\\\"")?,
                '\n' => enc.write_str("\\n")?,
                c => enc.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Prometheus' text format 0.0.4 from prometheus-client's OpenMetrics 1.0 text, for scrapers
/// that do not ask for OpenMetrics (curl, `promtool check metrics`, older agents). The two
/// formats differ, for what we export, only in three ways: 0.0.4 names a counter family by
/// its `_total` sample, and it has no `# UNIT` line and no `# EOF` terminator. Samples, labels
/// and their escaping are the same text.
pub fn openmetrics_to_text(openmetrics: &str) -> String {
    let counters: BTreeSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|t| t.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
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

/// How often a metrics address that cannot be bound is tried again. A bind is one syscall,
/// so trying costs nothing; the usual cause is another process on the port (a second daemon,
/// an exporter restarted at the same time) that goes away within seconds to minutes, and a
/// Prometheus scraping every 15 to 60 s then misses at most a scrape or two after it does.
pub const METRICS_BIND_RETRY: Duration = Duration::from_secs(5);

/// The alert `Problem` key while the metrics endpoint is not served.
pub const METRICS_UNAVAILABLE_KEY: &str = "metrics-unavailable";

/// Serves `/metrics` and `/healthz` on `addr` until `shutdown`, binding it first, and while
/// the address cannot be bound (the port is in use, the address is not on this host), trying
/// again every `retry`. Never fails: the metrics are not worth a restart loop of the daemon
/// that protects the validator. The first failure is logged at warn and alerted as the
/// problem [`METRICS_UNAVAILABLE_KEY`] (re-alerted once per resend interval while it lasts);
/// the bind that works is logged and clears the problem.
pub async fn serve_retrying(
    addr: SocketAddr,
    metrics: Metrics,
    health_max_age: Duration,
    retry: Duration,
    alerter: crate::alerts::Alerter,
    shutdown: impl Future<Output = ()>,
) {
    use crate::alerts::AlertEvent;
    tokio::pin!(shutdown);
    let mut failures = 0u64;
    let server = loop {
        match MetricsServer::bind(addr, metrics.clone(), health_max_age).await {
            Ok(server) => break server,
            Err(e) => {
                failures = failures.saturating_add(1);
                let message = bind_problem(addr, &e, retry);
                if failures == 1 {
                    warn!("{message}");
                } else {
                    debug!("metrics: bind {addr} failed again ({e})");
                }
                alerter.send(
                    AlertEvent::Problem {
                        key: METRICS_UNAVAILABLE_KEY.into(),
                        message,
                    },
                    now_ms(),
                );
            }
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(retry) => {}
        }
    };
    match server.local_addr() {
        Ok(a) if failures > 0 => tracing::info!(
            "metrics available again: http://{a}/metrics and /healthz (bound after {failures} failed attempts)"
        ),
        Ok(a) => tracing::info!("metrics on http://{a}/metrics and /healthz"),
        Err(e) => warn!("metrics: bound {addr}, but cannot read the local address: {e}"),
    }
    if failures > 0 {
        alerter.send(
            AlertEvent::ProblemCleared {
                key: METRICS_UNAVAILABLE_KEY.into(),
            },
            now_ms(),
        );
    }
    if let Err(e) = server.run(shutdown).await {
        warn!("metrics: the server stopped: {e}");
    }
}

/// What a failed bind means for the operator: the problem, that the daemon carries on, and
/// the fix.
fn bind_problem(addr: SocketAddr, e: &io::Error, retry: Duration) -> String {
    let fix = match e.kind() {
        io::ErrorKind::AddrInUse => format!(
            "another process listens there (find it with `ss -ltnp 'sport = :{}'`); stop it, or choose a free port in [metrics] listen",
            addr.port()
        ),
        io::ErrorKind::AddrNotAvailable => {
            "that IP address is not on this host; fix [metrics] listen".to_string()
        }
        io::ErrorKind::PermissionDenied => {
            "ports below 1024 need privileges; choose a port above 1024 in [metrics] listen"
                .to_string()
        }
        _ => "fix [metrics] listen, or set listen = \"off\"".to_string(),
    };
    format!(
        "metrics UNAVAILABLE: cannot listen on {addr} ({e}); the daemon keeps watching and failing over without /metrics and /healthz, and tries again every {} s. Fix: {fix}",
        retry.as_secs()
    )
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

const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Content negotiation, as the Prometheus server does it: it lists OpenMetrics first in
/// `Accept` when it can parse it. Anything else (no `Accept`, `*/*`, `text/plain`) gets 0.0.4.
fn wants_openmetrics(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(hyper::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            let mut parts = media.split(';').map(str::trim);
            let is_om = parts
                .next()
                .is_some_and(|t| t.eq_ignore_ascii_case("application/openmetrics-text"));
            // `q=0` means "not this one" (RFC 9110 12.4.2).
            let refused = parts.any(|p| matches!(p.strip_prefix("q="), Some(q) if q.parse::<f64>().is_ok_and(|q| q == 0.0)));
            is_om && !refused
        })
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
            let (body, content_type) = if wants_openmetrics(req.headers()) {
                (metrics.render_openmetrics(), OPENMETRICS_CONTENT_TYPE)
            } else {
                (metrics.render(), TEXT_CONTENT_TYPE)
            };
            let mut r = text(StatusCode::OK, body);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(content_type),
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
