//! The alerts one poll's policy assessment calls for, so the runner needs one line for them:
//! `for e in alerts::from_assessment(&a) { alerter.send(e, now) }`.
//!
//! The policy reports state changes as events (a source degraded, the backup not ready, a
//! problem raised or cleared, misses approaching the threshold); each maps to an alert, and a
//! blocked failover is alerted on every poll (dedupe turns that into one alert per resend
//! interval). What the runner itself does (failover decided, submitted, committed, ...) it
//! alerts where it does it.

use super::AlertEvent;
use crate::policy::{Assessment, Decision, EventKind};

/// The policy's warning key for a failed pre-flight: alerted as `PreflightFailed`.
const PREFLIGHT_KEY: &str = "preflight-failed";

/// The reason alone: the policy's messages are whole sentences (`the primary looks unhealthy:
/// <why>`) and the alert adds its own lead-in. If the wording changes, the full message is
/// kept (a repeated phrase, never a lost reason).
fn reason(message: &str, lead_in: &str) -> String {
    message.strip_prefix(lead_in).unwrap_or(message).to_string()
}

pub fn from_assessment(a: &Assessment) -> Vec<AlertEvent> {
    let mut out = Vec::new();
    for e in &a.events {
        let event = match e.kind {
            EventKind::SourceDegraded => AlertEvent::SourceDegraded {
                source: e.subject.clone(),
                why: reason(
                    &e.message,
                    &format!("source {} is not trusted: ", e.subject),
                ),
            },
            EventKind::SourceRecovered => AlertEvent::SourceRecovered {
                source: e.subject.clone(),
            },
            EventKind::PrimaryUnhealthy => AlertEvent::PrimaryUnhealthy {
                why: reason(&e.message, "the primary looks unhealthy: "),
            },
            EventKind::PrimaryRecovered => AlertEvent::PrimaryRecovered,
            EventKind::BackupNotReady => AlertEvent::BackupNotReady {
                why: reason(&e.message, "the backup node is not ready: "),
            },
            EventKind::BackupReady => AlertEvent::BackupReady,
            EventKind::MissesApproaching => AlertEvent::MissesApproaching {
                missed: u64::from(a.view.recent_missed),
                threshold: u64::from(a.view.miss_threshold),
            },
            EventKind::ProblemRaised if e.subject == PREFLIGHT_KEY => AlertEvent::PreflightFailed {
                detail: reason(&e.message, "pre-flight failed: "),
            },
            EventKind::ProblemCleared if e.subject == PREFLIGHT_KEY => {
                AlertEvent::PreflightRecovered
            }
            EventKind::ProblemRaised => AlertEvent::Problem {
                key: e.subject.clone(),
                message: e.message.clone(),
            },
            EventKind::ProblemCleared => AlertEvent::ProblemCleared {
                key: e.subject.clone(),
            },
            // Epoch, key and decision changes are logged by the runner; the ones that matter
            // reach the operator as the runner's own events (decided, committed, ...).
            _ => continue,
        };
        out.push(event);
    }
    if let Decision::Blocked { reason, blocker } = &a.decision {
        out.push(AlertEvent::FailoverBlocked {
            reason: reason.clone(),
            blocker: blocker.clone(),
        });
    }
    out
}
