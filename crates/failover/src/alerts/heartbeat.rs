//! The heartbeat (a dead-man's switch): while the watch loop is healthy it GETs
//! `alerts.heartbeat.url` every `alerts.heartbeat.interval`, so a service such as
//! healthchecks.io tells someone when the pings stop: the daemon died, hung, lost its
//! network, or went blind to every source. A watcher cannot report its own death; this is how
//! someone else notices.
//!
//! Rules (`ping_due`, pure): the loop pings from its own poll, so a hung loop stops the
//! pings (a separate timer would go on pinging for a dead loop); only after a poll in which
//! at least one trusted source answered (a watcher blind to the network is not watching);
//! at most once per interval; never two pings at once (a slow service cannot pile them up).
//!
//! A ping that fails is warned about once per episode (the URL without its token), and its
//! recovery is logged; the loop never waits for a ping.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use tracing::{info, warn};

use super::HeartbeatConfig;

/// One ping's timeout: the services answer in milliseconds; a ping later than this is lost
/// and the next interval tries again.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Rule: ping now. `last_ping_ms` is when the last ping started (none yet: due at once).
pub fn ping_due(
    last_ping_ms: Option<i64>,
    now_ms: i64,
    interval: Duration,
    trusted_sources: usize,
) -> bool {
    if trusted_sources == 0 {
        return false;
    }
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    match last_ping_ms {
        None => true,
        // A clock that went backwards pings (the interval restarts from the new time): better
        // a ping too many than a dead-man's switch tripped by a clock step.
        Some(last) => now_ms.saturating_sub(last) >= interval_ms || now_ms < last,
    }
}

/// Counters for metrics and tests.
#[derive(Debug, Default)]
pub struct HeartbeatStats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
}

/// The heartbeat of one daemon.
pub struct Heartbeat {
    cfg: HeartbeatConfig,
    client: reqwest::Client,
    last_ping_ms: Option<i64>,
    in_flight: Arc<AtomicBool>,
    failing: Arc<AtomicBool>,
    stats: Arc<HeartbeatStats>,
}

impl Heartbeat {
    pub fn new(cfg: HeartbeatConfig) -> Result<Heartbeat, String> {
        let client = super::http_client(PING_TIMEOUT)?;
        Ok(Heartbeat {
            cfg,
            client,
            last_ping_ms: None,
            in_flight: Arc::new(AtomicBool::new(false)),
            failing: Arc::new(AtomicBool::new(false)),
            stats: Arc::new(HeartbeatStats::default()),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "{} every {}",
            self.cfg.describe(),
            humantime::format_duration(self.cfg.interval)
        )
    }

    pub fn stats(&self) -> Arc<HeartbeatStats> {
        self.stats.clone()
    }

    /// Called once per completed poll: pings in the background when due (rule above).
    pub fn beat(&mut self, now_ms: i64, trusted_sources: usize) {
        if !ping_due(
            self.last_ping_ms,
            now_ms,
            self.cfg.interval,
            trusted_sources,
        ) {
            return;
        }
        if self.in_flight.swap(true, Ordering::AcqRel) {
            return;
        }
        self.last_ping_ms = Some(now_ms);
        let request = self.client.get(self.cfg.url.expose_secret());
        let (in_flight, failing, stats) = (
            self.in_flight.clone(),
            self.failing.clone(),
            self.stats.clone(),
        );
        let shown = self.cfg.describe();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.in_flight.store(false, Ordering::Release);
            return;
        };
        runtime.spawn(async move {
            let result = match request.send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status())),
                Err(e) => Err(e.without_url().to_string()),
            };
            match result {
                Ok(()) => {
                    stats.sent.fetch_add(1, Ordering::Relaxed);
                    if failing.swap(false, Ordering::AcqRel) {
                        info!("heartbeat {shown} answers again");
                    }
                }
                Err(why) => {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                    if !failing.swap(true, Ordering::AcqRel) {
                        warn!("heartbeat ping to {shown} failed: {why}. The check will report this watcher as down if it goes on; retried every interval");
                    }
                }
            }
            in_flight.store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn the_first_healthy_poll_pings_then_once_per_interval() {
        assert!(ping_due(None, 1_000, MIN, 1));
        assert!(!ping_due(Some(1_000), 1_000 + 59_999, MIN, 3));
        assert!(ping_due(Some(1_000), 1_000 + 60_000, MIN, 3));
    }

    #[test]
    fn a_watcher_blind_to_every_source_does_not_ping() {
        assert!(!ping_due(None, 1_000, MIN, 0));
        assert!(!ping_due(Some(0), 10 * 60_000, MIN, 0));
    }

    #[test]
    fn a_clock_that_went_backwards_pings_rather_than_falling_silent() {
        assert!(ping_due(Some(1_000_000), 5_000, MIN, 1));
    }
}
