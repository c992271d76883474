//! PagerDuty Events API v2: `POST https://events.pagerduty.com/v2/enqueue`.
//!
//! Warning and critical events `trigger` an alert whose `dedup_key` is the event's dedupe key
//! prefixed with the validator, so a re-sent condition updates the same incident and a
//! recovery event `resolve`s it. Info events are not sent: each would open an incident for
//! good news.

use serde_json::{json, Value};

use super::event::{truncate_chars, Severity};
use super::Alert;

/// Events v2 refuses a `summary` over 1024 characters.
pub const MAX_SUMMARY_CHARS: usize = 1024;
/// Events v2 refuses a `dedup_key` over 255 characters.
pub const MAX_DEDUP_KEY_CHARS: usize = 255;

pub fn dedup_key(a: &Alert) -> String {
    truncate_chars(
        &format!("radix-failover/{}/{}", a.validator, a.event.dedupe_key()),
        MAX_DEDUP_KEY_CHARS,
    )
}

/// The request body, or `None` when PagerDuty does not get this event (info, not a recovery).
pub fn body(a: &Alert, routing_key: &str) -> Option<Value> {
    if a.event.is_recovery() {
        return Some(json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key(a),
        }));
    }
    if a.event.severity() == Severity::Info {
        return None;
    }
    Some(json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(a),
        "client": "radix-failover",
        "payload": {
            "summary": truncate_chars(&format!("{} ({}), seen by {}: {}", a.validator, a.network, a.watcher, a.event.message()), MAX_SUMMARY_CHARS),
            "source": a.validator,
            "severity": a.event.severity().as_str(),
            "timestamp": a.at_rfc3339(),
            "component": "radix-failover",
            "group": a.network,
            "class": a.event.name(),
            "custom_details": a.event.details(),
        },
    }))
}
