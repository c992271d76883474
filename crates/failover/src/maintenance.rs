//! The maintenance pause: while it is in force, the daemon makes no automatic switch.
//!
//! What it protects against: a planned restart of the primary (an upgrade, a resync) looks
//! exactly like an outage, and the daemon would fail over during it. The operator pauses first
//! (`radix-failover pause --for 20m --reason "node upgrade"`), and the daemon watches, reports
//! and alerts, but does not switch.
//!
//! Caveats, on purpose:
//! - Every pause ends by itself: one without `--for` lasts `[daemon] max_pause`, and a longer
//!   one is refused. A forgotten pause must not leave the validator unprotected for good.
//! - It gates the *automatic* failover only. A manual `failover`/`failback` still works while
//!   paused: the operator who paused is the one who may need to switch by hand.
//! - An intent already in flight is not stopped by a pause (that is `cancel`).
//!
//! Pure: the clock comes in as `now_ms`; the runner and the commands do the I/O. The pause is
//! stored in the state file, so it survives a restart.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[daemon] max_pause` default: a planned restart of a Radix node (stop, upgrade, start,
/// catch up) takes minutes to a few tens of minutes; one hour covers it, and a forgotten pause
/// leaves the validator unprotected for at most one hour.
pub const DEFAULT_MAX_PAUSE: Duration = Duration::from_secs(3600);

/// The reason recorded when `pause` is given none.
pub const DEFAULT_REASON: &str = "maintenance (no reason given)";

/// A pause in force (or expired, until the runner notices). Stored in the state file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    /// When it was set, unix ms.
    pub since_ms: i64,
    /// When it ends by itself, unix ms.
    pub until_ms: i64,
    /// Why (the operator's text, or [`DEFAULT_REASON`]).
    pub reason: String,
}

/// Whether an automatic failover may go ahead now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseGate<'a> {
    /// No pause: automatic failover is armed.
    Armed,
    /// Paused: no automatic switch until `until_ms`.
    Paused(&'a Pause),
    /// The pause's time is up: armed again (the runner clears it and says so).
    Expired(&'a Pause),
}

impl PauseGate<'_> {
    /// An automatic failover may go ahead.
    pub fn allows_automatic_failover(&self) -> bool {
        !matches!(self, PauseGate::Paused(_))
    }
}

/// The rule: paused while `now_ms < until_ms`.
pub fn pause_gate(pause: Option<&Pause>, now_ms: i64) -> PauseGate<'_> {
    match pause {
        None => PauseGate::Armed,
        Some(p) if now_ms < p.until_ms => PauseGate::Paused(p),
        Some(p) => PauseGate::Expired(p),
    }
}

/// A new pause for `requested` (or `max` when none is given), from `now_ms`. A request longer
/// than `max`, or of zero length, is refused with the fix.
pub fn new_pause(
    now_ms: i64,
    requested: Option<Duration>,
    reason: Option<&str>,
    max: Duration,
) -> Result<Pause, String> {
    let length = requested.unwrap_or(max);
    if length.is_zero() {
        return Err("a pause of zero length; fix: give a duration such as --for 20m (or use `resume` to end a pause)".into());
    }
    if length > max {
        return Err(format!(
            "--for {} is longer than [daemon] max_pause ({}); fix: pause for at most {}, pause again when it ends, or raise max_pause in the config",
            humantime::format_duration(length),
            humantime::format_duration(max),
            humantime::format_duration(max)
        ));
    }
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_REASON);
    Ok(Pause {
        since_ms: now_ms,
        until_ms: now_ms.saturating_add(length.as_millis().min(i64::MAX as u128) as i64),
        reason: reason.to_string(),
    })
}

/// `2026-12-02T07:30:00Z` for a unix-ms time (logs, `status`, alerts).
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("{ms} ms"))
}

impl Pause {
    /// `until 2026-12-02T07:30:00Z (in 12m 3s): node upgrade`.
    pub fn describe(&self, now_ms: i64) -> String {
        // Whole seconds, rounded up: "12m 3s", not "12m 2s 417ms".
        let left_ms = self.until_ms.saturating_sub(now_ms).max(0) as u64;
        let left = Duration::from_secs(left_ms.div_ceil(1000));
        format!(
            "until {} (in {}): {}",
            utc(self.until_ms),
            humantime::format_duration(left),
            self.reason
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn no_pause_is_armed() {
        assert_eq!(pause_gate(None, 5), PauseGate::Armed);
        assert!(pause_gate(None, 5).allows_automatic_failover());
    }

    #[test]
    fn paused_until_the_end_then_expired_by_itself() {
        let p = new_pause(1_000, Some(MIN), Some("node upgrade"), DEFAULT_MAX_PAUSE)
            .expect("a minute is allowed");
        assert_eq!(p.until_ms, 61_000);
        assert_eq!(pause_gate(Some(&p), 1_000), PauseGate::Paused(&p));
        assert!(!pause_gate(Some(&p), 60_999).allows_automatic_failover());
        assert_eq!(pause_gate(Some(&p), 61_000), PauseGate::Expired(&p));
        assert!(pause_gate(Some(&p), 61_000).allows_automatic_failover());
        // A clock that jumps back keeps it paused; one that jumps ahead ends it: never stuck.
        assert!(!pause_gate(Some(&p), -5).allows_automatic_failover());
        assert!(pause_gate(Some(&p), i64::MAX).allows_automatic_failover());
    }

    #[test]
    fn without_for_the_pause_is_the_configured_maximum_with_a_default_reason() {
        let p = new_pause(0, None, None, 20 * MIN).expect("default length");
        assert_eq!(p.until_ms, 20 * 60_000);
        assert_eq!(p.reason, DEFAULT_REASON);
        let p = new_pause(0, None, Some("   "), 20 * MIN).expect("blank reason");
        assert_eq!(p.reason, DEFAULT_REASON);
    }

    #[test]
    fn longer_than_the_maximum_or_zero_is_refused_with_the_fix() {
        let e = new_pause(0, Some(2 * DEFAULT_MAX_PAUSE), None, DEFAULT_MAX_PAUSE)
            .expect_err("too long");
        assert!(e.contains("max_pause") && e.contains("fix"), "{e}");
        let e = new_pause(0, Some(Duration::ZERO), None, DEFAULT_MAX_PAUSE).expect_err("zero");
        assert!(e.contains("resume"), "{e}");
        assert!(new_pause(0, Some(DEFAULT_MAX_PAUSE), None, DEFAULT_MAX_PAUSE).is_ok());
    }

    #[test]
    fn describe_says_until_when_and_why() {
        let p = new_pause(0, Some(MIN), Some("upgrade"), DEFAULT_MAX_PAUSE).expect("pause");
        let d = p.describe(30_500);
        assert_eq!(d, "until 1970-01-01T00:01:00Z (in 30s): upgrade");
        assert!(p.describe(60_000).contains("(in 0s)"));
    }
}
