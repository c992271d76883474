//! Alerts: tell the operator what the daemon sees and does, on a generic JSON webhook,
//! Telegram, Discord, Slack and PagerDuty Events v2.
//!
//! What it guarantees:
//! - `Alerter::send` never blocks and never fails: it dedupes, then pushes onto one bounded
//!   queue per channel and returns. A slow, hanging or failing channel can never delay the
//!   failover loop, nor the other channels (each has its own delivery task).
//! - Dedupe: an event whose key was sent within `resend_interval` is dropped; a condition that
//!   still holds is re-sent once per interval. A recovery event (`*_recovered`) ends its
//!   condition: it is delivered only if the condition was alerted, and PagerDuty resolves the
//!   incident the trigger opened.
//! - Each delivery has its own timeout and a couple of retries; failures are logged at warn
//!   without tokens (the URLs that hold them are never printed).
//! - Urgent first: the failover's own events (decided, submitted, committed, commit failed,
//!   gave up) jump the queue ahead of every warning waiting in it, so a burst of source
//!   warnings on an outage never delays the news that the daemon acted. Among equals, the
//!   order is the order sent. A warning already being delivered is not cut short, but its
//!   retry pauses deliver the failover's events that arrived meanwhile.
//! - A full queue drops its oldest non-urgent alert (and counts it): the newest news matters
//!   most, and the failover's events go last of all.
//! - An error answer's body is read with a bound ([`MAX_ERROR_BODY_BYTES`]), never whole: a
//!   channel (or whatever answers at its URL) cannot make the daemon buffer a huge body.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::sync::Notify;
use tracing::{debug, warn};

mod config;
mod dedupe_file;
pub mod discord;
mod event;
mod from_policy;
pub mod heartbeat;
pub mod pagerduty;
pub mod slack;
pub mod telegram;
pub mod webhook;

pub use config::{
    host_name, redact_url, AlertsConfig, Channel, ChatId, FieldProblem, HeartbeatConfig, RawAlerts,
    RawChatId, RawDiscord, RawHeartbeat, RawPagerDuty, RawSlack, RawTelegram, RawWebhook,
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_PAGERDUTY_EVENTS_URL,
    DEFAULT_RESEND_INTERVAL, DEFAULT_TELEGRAM_API, MIN_RESEND_INTERVAL,
};
pub use dedupe_file::beside as dedupe_file_beside;
pub use event::{truncate_chars, AlertEvent, Severity};
pub use from_policy::from_assessment;

/// Alerts waiting per channel: a burst (every source degrading at once on a network outage,
/// plus the failover events) is a few dozen; beyond 256 the channel is down for good and
/// older alerts are stale anyway.
pub const QUEUE_CAPACITY: usize = 256;
/// Retry a failed delivery after these pauses: a reset connection or a 5xx usually clears in
/// seconds; three attempts bound one alert's worst case to about 35 s at the default timeout.
const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];
/// A 429's Retry-After is honoured up to this: longer and the alert would be stale.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Error bodies are logged up to this many characters: enough for the API's message.
const MAX_LOGGED_BODY: usize = 300;
/// At most this much of an error answer's body is read (then the connection is dropped):
/// every channel API's error is a short JSON or text message, far below 4 KiB, and reading
/// more only lets a broken or hostile endpoint hold memory and the delivery task.
pub const MAX_ERROR_BODY_BYTES: usize = 4 * 1024;
/// Dedupe entries are pruned past this many (keys include intent hashes and source names;
/// a long-running daemon must not grow without bound).
const MAX_DEDUPE_KEYS: usize = 1024;

/// One alert as delivered: the event, when, and for which validator.
#[derive(Debug, Clone)]
pub struct Alert {
    pub event: AlertEvent,
    pub at_ms: i64,
    pub validator: String,
    pub network: String,
    /// Which watcher sent it (`alerts.watcher`, else the host name).
    pub watcher: String,
}

impl Alert {
    /// `at` as RFC 3339 UTC with milliseconds.
    pub fn at_rfc3339(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.at_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// Counters for logs, metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertStats {
    /// Events that passed dedupe (each counted once, whatever the number of channels).
    pub accepted: u64,
    /// Events dropped by dedupe (within the resend interval, or a recovery of nothing).
    pub suppressed: u64,
    /// Deliveries (event x channel) that a channel took.
    pub delivered: u64,
    /// Deliveries that failed after every retry (or that the channel refused for good).
    pub failed: u64,
    /// Deliveries dropped because a channel's queue was full.
    pub dropped: u64,
}

struct ChannelQueue {
    channel: Channel,
    items: Mutex<Pending>,
    notify: Notify,
    /// A delivery of this channel is under way (for `flush`).
    busy: AtomicUsize,
}

struct Inner {
    validator: String,
    network: String,
    watcher: String,
    /// Where the dedupe map is kept across restarts (dedupe_file.rs); none in tests.
    dedupe_file: Option<std::path::PathBuf>,
    resend_interval_ms: i64,
    attempt_timeout: Duration,
    /// Dedupe key -> when it was last sent (unix ms).
    sent: Mutex<HashMap<String, i64>>,
    queues: Vec<Arc<ChannelQueue>>,
    started: AtomicBool,
    accepted: AtomicU64,
    suppressed: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// The alert dispatcher. Cheap to clone (an `Arc` inside); `Alerter::disabled()` when no
/// `[alerts]` section is configured, so the runner calls `send` unconditionally.
#[derive(Clone)]
pub struct Alerter {
    inner: Option<Arc<Inner>>,
}

/// The delivery tasks. Dropping it leaves them running until the runtime stops; `shutdown`
/// gives pending alerts a bounded time to go out first.
pub struct AlerterHandle {
    alerter: Alerter,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Alerter {
    pub fn new(cfg: AlertsConfig, validator: &str, network: &str) -> Alerter {
        let queues = cfg
            .channels
            .into_iter()
            .map(|channel| {
                Arc::new(ChannelQueue {
                    channel,
                    items: Mutex::new(Pending::default()),
                    notify: Notify::new(),
                    busy: AtomicUsize::new(0),
                })
            })
            .collect();
        Alerter {
            inner: Some(Arc::new(Inner {
                validator: validator.to_string(),
                network: network.to_string(),
                watcher: cfg.watcher,
                dedupe_file: None,
                resend_interval_ms: i64::try_from(cfg.resend_interval.as_millis())
                    .unwrap_or(i64::MAX),
                attempt_timeout: cfg.attempt_timeout,
                sent: Mutex::new(HashMap::new()),
                queues,
                started: AtomicBool::new(false),
                accepted: AtomicU64::new(0),
                suppressed: AtomicU64::new(0),
                delivered: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            })),
        }
    }

    /// Keeps the dedupe map in `path` (beside the state file), loaded now and written on every
    /// alert that goes out, so a restart (or a crash loop) does not resend what was sent
    /// within `resend_interval`. An unreadable file is warned about and started afresh: at
    /// worst a condition is alerted once more.
    pub fn with_dedupe_file(mut self, path: std::path::PathBuf) -> Alerter {
        if let Some(inner) = self.inner.as_mut().and_then(Arc::get_mut) {
            *lock(&inner.sent) = dedupe_file::load(&path);
            inner.dedupe_file = Some(path);
        }
        self
    }

    /// The label every alert carries (for the start-up log).
    pub fn watcher(&self) -> Option<&str> {
        self.inner.as_ref().map(|i| i.watcher.as_str())
    }

    /// An alerter with no channel: `send` does nothing.
    pub fn disabled() -> Alerter {
        Alerter { inner: None }
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The channels, without secrets (for the startup log).
    pub fn describe_channels(&self) -> Vec<String> {
        self.inner
            .iter()
            .flat_map(|i| i.queues.iter().map(|q| q.channel.describe()))
            .collect()
    }

    /// Spawns one delivery task per channel on the current tokio runtime. Alerts sent before
    /// are queued and go out now. Call once; later calls return an empty handle. Without a
    /// runtime nothing is spawned (a warning says so) and alerts stay queued.
    pub fn start(&self) -> AlerterHandle {
        let mut tasks = Vec::new();
        let Some(inner) = &self.inner else {
            return AlerterHandle {
                alerter: self.clone(),
                tasks,
            };
        };
        if inner.started.swap(true, Ordering::SeqCst) {
            return AlerterHandle {
                alerter: self.clone(),
                tasks,
            };
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            warn!("alerts: no async runtime to deliver on; alerts are queued but not sent");
            inner.started.store(false, Ordering::SeqCst);
            return AlerterHandle {
                alerter: self.clone(),
                tasks,
            };
        };
        let client = match http_client(inner.attempt_timeout) {
            Ok(c) => c,
            Err(e) => {
                warn!("alerts: cannot create the HTTP client ({e}); alerts will not be delivered");
                return AlerterHandle {
                    alerter: self.clone(),
                    tasks,
                };
            }
        };
        for q in &inner.queues {
            let q = q.clone();
            let inner = inner.clone();
            let client = client.clone();
            tasks.push(rt.spawn(async move { deliver_loop(inner, q, client).await }));
        }
        AlerterHandle {
            alerter: self.clone(),
            tasks,
        }
    }

    /// `radix-failover alerts test`: delivers one test alert to each channel now (with the
    /// channel's retries, no dedupe, no queue) and returns each channel's description and
    /// result. Empty when no channel is configured.
    pub async fn test_each_channel(
        &self,
        from: &str,
        now_ms: i64,
    ) -> Vec<(String, Result<(), String>)> {
        let Some(inner) = &self.inner else {
            return Vec::new();
        };
        let client = match http_client(inner.attempt_timeout) {
            Ok(c) => c,
            Err(e) => {
                return inner
                    .queues
                    .iter()
                    .map(|q| {
                        (
                            q.channel.describe(),
                            Err(format!("cannot create the HTTP client: {e}")),
                        )
                    })
                    .collect()
            }
        };
        let alert = Alert {
            event: AlertEvent::Test {
                from: from.to_string(),
            },
            at_ms: now_ms,
            validator: inner.validator.clone(),
            network: inner.network.clone(),
            watcher: inner.watcher.clone(),
        };
        let mut out = Vec::new();
        for q in &inner.queues {
            let result = match deliver(&client, &q.channel, &alert, None).await {
                Ok(Delivered::Sent) => Ok(()),
                Ok(Delivered::NotForThisChannel) => {
                    Err("this channel does not take the test alert's severity".to_string())
                }
                Err(e) => Err(e),
            };
            out.push((q.channel.describe(), result));
        }
        out
    }

    /// Queues `event` for every channel, unless dedupe drops it. Never blocks on the network,
    /// never fails. `now_ms` is the caller's clock (unix ms), so tests can drive dedupe.
    pub fn send(&self, event: AlertEvent, now_ms: i64) {
        let Some(inner) = &self.inner else { return };
        if !inner.admit(&event, now_ms) {
            inner.suppressed.fetch_add(1, Ordering::Relaxed);
            debug!(
                "alert {} ({}) suppressed by dedupe",
                event.name(),
                event.dedupe_key()
            );
            return;
        }
        inner.accepted.fetch_add(1, Ordering::Relaxed);
        let alert = Arc::new(Alert {
            event,
            at_ms: now_ms,
            validator: inner.validator.clone(),
            network: inner.network.clone(),
            watcher: inner.watcher.clone(),
        });
        for q in &inner.queues {
            let dropped = lock(&q.items).push(alert.clone());
            if let Some(old) = dropped {
                let total = inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // Logged at the 1st, 2nd, 4th, 8th... drop: a channel down for hours must not
                // flood the log with one line per alert.
                if total.is_power_of_two() {
                    warn!(
                        "alerts: {} queue full ({QUEUE_CAPACITY}); dropped the oldest alert ({}); {total} dropped so far",
                        q.channel.kind(),
                        old.event.name()
                    );
                }
            }
            q.notify.notify_one();
        }
    }

    pub fn stats(&self) -> AlertStats {
        match &self.inner {
            None => AlertStats::default(),
            Some(i) => AlertStats {
                accepted: i.accepted.load(Ordering::Relaxed),
                suppressed: i.suppressed.load(Ordering::Relaxed),
                delivered: i.delivered.load(Ordering::Relaxed),
                failed: i.failed.load(Ordering::Relaxed),
                dropped: i.dropped.load(Ordering::Relaxed),
            },
        }
    }

    /// True when no alert is queued or being delivered.
    pub fn is_idle(&self) -> bool {
        self.inner.as_ref().is_none_or(|i| {
            i.queues
                .iter()
                .all(|q| q.busy.load(Ordering::SeqCst) == 0 && lock(&q.items).is_empty())
        })
    }
}

/// One channel's waiting alerts, in two lanes: the failover's own events
/// ([`AlertEvent::is_urgent`]) and everything else. Each lane is first in, first out.
#[derive(Default)]
struct Pending {
    urgent: VecDeque<Arc<Alert>>,
    normal: VecDeque<Arc<Alert>>,
}

impl Pending {
    fn len(&self) -> usize {
        self.urgent.len() + self.normal.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `alert`; when the queue is full, drops and returns the oldest non-urgent alert
    /// (the oldest urgent one only when nothing else is left to drop).
    fn push(&mut self, alert: Arc<Alert>) -> Option<Arc<Alert>> {
        let dropped = if self.len() >= QUEUE_CAPACITY {
            self.normal.pop_front().or_else(|| self.urgent.pop_front())
        } else {
            None
        };
        if alert.event.is_urgent() {
            self.urgent.push_back(alert);
        } else {
            self.normal.push_back(alert);
        }
        dropped
    }

    /// The next alert to deliver: the oldest urgent one, else the oldest other.
    fn pop(&mut self) -> Option<Arc<Alert>> {
        self.urgent.pop_front().or_else(|| self.normal.pop_front())
    }
}

impl AlerterHandle {
    /// Waits until every queued alert is delivered (or failed), at most `within`. Returns
    /// whether everything went out.
    pub async fn flush(&self, within: Duration) -> bool {
        // Polled, not signalled: flush runs once at shutdown; 20 ms is invisible there.
        const STEP: Duration = Duration::from_millis(20);
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.alerter.is_idle() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(STEP).await;
        }
    }

    /// Flushes (at most `within`), then stops the delivery tasks.
    pub async fn shutdown(self, within: Duration) -> bool {
        let done = self.tasks.is_empty() || self.flush(within).await;
        for t in &self.tasks {
            t.abort();
        }
        done
    }
}

impl Inner {
    /// Dedupe: true if the event should go out now (and records it).
    fn admit(&self, event: &AlertEvent, now_ms: i64) -> bool {
        let key = event.dedupe_key();
        let mut sent = lock(&self.sent);
        if event.is_recovery() {
            // A recovery is news only if its condition was alerted.
            let alerted = sent.remove(&key).is_some();
            if alerted {
                if let Some(path) = &self.dedupe_file {
                    dedupe_file::save(path, &sent);
                }
            }
            return alerted;
        }
        if let Some(&last) = sent.get(&key) {
            // A clock that went backwards counts as "within the interval".
            if now_ms.saturating_sub(last) < self.resend_interval_ms {
                return false;
            }
        }
        if sent.len() >= MAX_DEDUPE_KEYS {
            let horizon = now_ms.saturating_sub(self.resend_interval_ms);
            sent.retain(|_, t| *t > horizon);
        }
        sent.insert(key, now_ms);
        if let Some(path) = &self.dedupe_file {
            dedupe_file::save(path, &sent);
        }
        true
    }
}

/// The channels' HTTP client: no redirects (webhook URLs hold tokens; a redirect would hand
/// the request to another host), a User-Agent, the attempt timeout.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("radix-failover/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.without_url().to_string())
}

/// A mutex poisoned by a panicking holder still guards plain data that is valid at every
/// step; alerts must keep flowing.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn deliver_loop(inner: Arc<Inner>, q: Arc<ChannelQueue>, client: reqwest::Client) {
    loop {
        let next = {
            let mut items = lock(&q.items);
            let next = items.pop();
            if next.is_some() {
                q.busy.fetch_add(1, Ordering::SeqCst);
            }
            next
        };
        match next {
            None => q.notify.notified().await,
            Some(alert) => {
                // A warning's retry pauses serve the failover's events that arrive meanwhile.
                let lane = (!alert.event.is_urgent()).then_some((&*inner, &*q));
                let result = deliver(&client, &q.channel, &alert, lane).await;
                record(&inner, &q, &alert, result);
                q.busy.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

/// Counts and logs one delivery's result.
fn record(inner: &Inner, q: &ChannelQueue, alert: &Alert, result: Result<Delivered, String>) {
    match result {
        Ok(Delivered::Sent) => {
            inner.delivered.fetch_add(1, Ordering::Relaxed);
            debug!(
                "alert {} delivered to {}",
                alert.event.name(),
                q.channel.kind()
            );
        }
        Ok(Delivered::NotForThisChannel) => {}
        Err(why) => {
            inner.failed.fetch_add(1, Ordering::Relaxed);
            warn!(
                "alert {} to {} FAILED: {why}",
                alert.event.name(),
                q.channel.describe()
            );
        }
    }
}

/// A retry pause of a warning, during which the failover's events queued meanwhile are
/// delivered (each with its own retries, never interleaved again): a warning retrying
/// against a failing channel never holds back the news that the daemon acted.
async fn pause_serving_urgent(
    client: &reqwest::Client,
    inner: &Inner,
    q: &ChannelQueue,
    pause: Duration,
) {
    let until = tokio::time::Instant::now() + pause;
    loop {
        loop {
            let urgent = lock(&q.items).urgent.pop_front();
            let Some(alert) = urgent else { break };
            // Boxed: this future is inside `deliver`'s.
            let result = Box::pin(deliver(client, &q.channel, &alert, None)).await;
            record(inner, q, &alert, result);
        }
        tokio::select! {
            _ = tokio::time::sleep_until(until) => return,
            _ = q.notify.notified() => {}
        }
    }
}

enum Delivered {
    Sent,
    /// This channel does not take this event (PagerDuty and info events).
    NotForThisChannel,
}

/// What one attempt came to.
enum Attempt {
    Ok,
    /// Worth retrying (network error, timeout, 5xx, 429), with a server-given delay if any.
    Retry(String, Option<Duration>),
    /// Retrying will not help (4xx other than 429: bad token, bad chat id, ...).
    Permanent(String),
}

/// Builds the request for a channel. The URL may hold a token: it is never logged.
fn request(
    client: &reqwest::Client,
    channel: &Channel,
    alert: &Alert,
) -> Option<(reqwest::RequestBuilder, Vec<String>)> {
    match channel {
        Channel::Webhook { url, headers } => {
            let mut rb = client.post(url.clone()).json(&webhook::body(alert));
            let mut secrets = Vec::new();
            for (name, value) in headers {
                rb = rb.header(name.clone(), value.expose_secret());
                secrets.push(value.expose_secret().to_string());
            }
            Some((rb, secrets))
        }
        Channel::Telegram {
            api_url,
            bot_token,
            chat_id,
        } => {
            let token = bot_token.expose_secret();
            let rb = client
                .post(telegram::send_message_url(api_url, token))
                .json(&telegram::body(alert, chat_id));
            Some((rb, vec![token.to_string()]))
        }
        Channel::Discord { webhook_url } => {
            let url = webhook_url.expose_secret();
            let rb = client.post(url).json(&discord::body(alert));
            Some((rb, vec![url.to_string()]))
        }
        Channel::Slack { webhook_url } => {
            let url = webhook_url.expose_secret();
            let rb = client.post(url).json(&slack::body(alert));
            Some((rb, vec![url.to_string()]))
        }
        Channel::PagerDuty {
            events_url,
            routing_key,
        } => {
            let key = routing_key.expose_secret();
            let body = pagerduty::body(alert, key)?;
            Some((
                client.post(events_url.clone()).json(&body),
                vec![key.to_string()],
            ))
        }
    }
}

/// Replaces every secret in `text` (an API may echo the token back in its error).
fn scrub(mut text: String, secrets: &[String]) -> String {
    for s in secrets {
        if !s.is_empty() {
            text = text.replace(s.as_str(), "REDACTED");
        }
    }
    text
}

/// At most `max` bytes of an answer's body, as (lossy) UTF-8: read chunk by chunk and stop
/// there, so the rest is never buffered (dropping the response closes the connection). A body
/// that breaks off gives what arrived.
async fn read_bounded(mut resp: reqwest::Response, max: usize) -> String {
    let mut body: Vec<u8> = Vec::new();
    while body.len() < max {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = max - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// One alert to one channel, with its retries. `urgent_lane`: the channel's queue, whose
/// failover events are delivered during this alert's retry pauses (for a non-urgent alert).
async fn deliver(
    client: &reqwest::Client,
    channel: &Channel,
    alert: &Alert,
    urgent_lane: Option<(&Inner, &ChannelQueue)>,
) -> Result<Delivered, String> {
    let mut last = String::new();
    for attempt in 0..=RETRY_DELAYS.len() {
        let Some((rb, secrets)) = request(client, channel, alert) else {
            return Ok(Delivered::NotForThisChannel);
        };
        let outcome = match rb.send().await {
            // `without_url`: reqwest's errors print the URL, which may hold a token. The
            // causes say what went wrong ("connection refused"), and are scrubbed too.
            Err(e) => {
                let e = e.without_url();
                let mut msg = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    msg.push_str(": ");
                    msg.push_str(&c.to_string());
                    cause = c.source();
                }
                Attempt::Retry(scrub(msg, &secrets), None)
            }
            Ok(resp) => {
                let status = resp.status();
                if status.is_success() {
                    Attempt::Ok
                } else {
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(|s| Duration::from_secs_f64(s).min(MAX_RETRY_AFTER));
                    let text = read_bounded(resp, MAX_ERROR_BODY_BYTES).await;
                    let text = scrub(truncate_chars(text.trim(), MAX_LOGGED_BODY), &secrets);
                    let msg = format!("HTTP {status}: {text}");
                    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    {
                        Attempt::Retry(msg, retry_after)
                    } else {
                        Attempt::Permanent(msg)
                    }
                }
            }
        };
        match outcome {
            Attempt::Ok => return Ok(Delivered::Sent),
            Attempt::Permanent(msg) => {
                return Err(format!("{msg} (not retried: fix the channel's settings)"))
            }
            Attempt::Retry(msg, after) => {
                last = msg;
                if let Some(delay) = RETRY_DELAYS.get(attempt) {
                    debug!("alert to {} failed ({last}); retrying", channel.kind());
                    let pause = after.unwrap_or(*delay).max(*delay);
                    match urgent_lane {
                        Some((inner, q)) => pause_serving_urgent(client, inner, q, pause).await,
                        None => tokio::time::sleep(pause).await,
                    }
                }
            }
        }
    }
    Err(format!(
        "{last} (after {} attempts)",
        RETRY_DELAYS.len() + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(event: AlertEvent) -> Arc<Alert> {
        Arc::new(Alert {
            event,
            at_ms: 0,
            validator: "v".into(),
            network: "n".into(),
            watcher: "w".into(),
        })
    }

    fn warning(i: usize) -> AlertEvent {
        AlertEvent::SourceDegraded {
            source: format!("gateway {i}"),
            why: "timed out".into(),
        }
    }

    fn drain(p: &mut Pending) -> Vec<String> {
        std::iter::from_fn(|| p.pop())
            .map(|a| a.event.dedupe_key())
            .collect()
    }

    /// An outage: sources degrade one after another, then the daemon decides and submits.
    /// The failover's events go out first, in the order sent, then the warnings in theirs.
    #[test]
    fn the_failover_events_jump_the_queue_ahead_of_warnings() {
        let mut p = Pending::default();
        for i in 0..5 {
            assert!(p.push(alert(warning(i))).is_none());
        }
        p.push(alert(AlertEvent::FailoverDecided {
            reason: "8 of 10 missed".into(),
        }));
        p.push(alert(warning(5)));
        p.push(alert(AlertEvent::Submitted {
            intent: "txid_1".into(),
        }));
        p.push(alert(AlertEvent::Committed {
            intent: "txid_1".into(),
            epoch: 9,
        }));
        let order = drain(&mut p);
        assert_eq!(
            order[..3],
            ["failover_decided", "submitted:txid_1", "committed:txid_1"]
        );
        let warnings: Vec<String> = (0..6).map(|i| format!("source:gateway {i}")).collect();
        assert_eq!(order[3..], warnings[..]);
        assert!(p.is_empty());
    }

    #[test]
    fn a_full_queue_drops_the_oldest_warning_never_a_failover_event_while_one_is_left() {
        let mut p = Pending::default();
        p.push(alert(AlertEvent::GaveUp {
            reason: "deadline".into(),
        }));
        for i in 0..QUEUE_CAPACITY - 1 {
            assert!(p.push(alert(warning(i))).is_none());
        }
        assert_eq!(p.len(), QUEUE_CAPACITY);
        let dropped = p.push(alert(AlertEvent::CommitFailed {
            message: "fee".into(),
        }));
        assert_eq!(
            dropped.map(|a| a.event.dedupe_key()),
            Some("source:gateway 0".into()),
            "the oldest warning goes, not the older failover event"
        );
        assert_eq!(p.len(), QUEUE_CAPACITY);
        let order = drain(&mut p);
        assert_eq!(order[..2], ["gave_up", "commit_failed"]);
        // Only failover events left: the oldest of them goes.
        for _ in 0..QUEUE_CAPACITY {
            p.push(alert(AlertEvent::Submitted {
                intent: "txid_a".into(),
            }));
        }
        let dropped = p.push(alert(AlertEvent::Submitted {
            intent: "txid_b".into(),
        }));
        assert!(dropped.is_some());
        assert_eq!(p.len(), QUEUE_CAPACITY);
    }

    #[test]
    fn only_the_failover_events_are_urgent() {
        let urgent = [
            AlertEvent::FailoverDecided { reason: "r".into() },
            AlertEvent::Submitted { intent: "i".into() },
            AlertEvent::Committed {
                intent: "i".into(),
                epoch: 1,
            },
            AlertEvent::CommitFailed {
                message: "m".into(),
            },
            AlertEvent::GaveUp { reason: "r".into() },
        ];
        assert!(urgent.iter().all(AlertEvent::is_urgent));
        let not = [
            warning(0),
            AlertEvent::MissesApproaching {
                missed: 4,
                threshold: 8,
            },
            AlertEvent::Problem {
                key: "k".into(),
                message: "m".into(),
            },
            AlertEvent::PreflightFailed { detail: "d".into() },
        ];
        assert!(!not.iter().any(AlertEvent::is_urgent));
    }
}
