//! Enum values an answer may carry that this version does not know: the APIs grow (a new
//! health status, a new transaction status), and a watcher that called such an answer
//! malformed would go blind the day a node or Gateway is upgraded.
//!
//! The typed answers (`radix_api`) parse every such value as `Other(text)`; the clients map it
//! to the observation's own `Other` (see `observe`, where each one's meaning is stated) and
//! call [`note`], which logs it as a warning once per source, field and value, not on every
//! poll.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// Distinct (source, field, value) triples remembered as already warned about. Bounded: a
/// source sending a new value in every answer cannot grow it without end; past the bound the
/// values are logged at debug level only (the first 256 warnings said enough).
const MAX_REMEMBERED: usize = 256;

/// The characters of an unknown value kept for messages: enough for any real enum name
/// (the longest in the specs has 33), short enough that a hostile one cannot flood a log line.
const MAX_VALUE_CHARS: usize = 64;

static SEEN: Mutex<BTreeSet<(String, String, String)>> = Mutex::new(BTreeSet::new());

/// `raw` as shown in messages and kept in the observation: control characters dropped, at most
/// [`MAX_VALUE_CHARS`] characters (then `…`).
pub(crate) fn clip(raw: &str) -> String {
    let mut chars = raw.chars().filter(|c| !c.is_control());
    let mut out: String = chars.by_ref().take(MAX_VALUE_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Whether `source` sends `value` in `field` for the first time (as far as the bounded memory
/// reaches).
fn first_sighting(source: &str, field: &str, value: &str) -> bool {
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let key = (source.to_string(), field.to_string(), value.to_string());
    if seen.contains(&key) || seen.len() >= MAX_REMEMBERED {
        return false;
    }
    seen.insert(key);
    true
}

/// Notes an intent status `source` (a Gateway or a Core API) answered that this version does
/// not know; nothing for a known one.
pub(crate) fn note_tx_status(source: &str, status: &crate::observe::TxStatus) {
    if let crate::observe::TxStatus::Other { raw } = status {
        note(
            source,
            "intent_status",
            raw,
            "not known yet: the transaction is followed as pending",
        );
    }
}

/// Logs that `source` answered `value` (already [`clip`]ped) in `field`, a value this version
/// does not know, and how it is read: a warning the first time, debug after that.
pub(crate) fn note(source: &str, field: &str, value: &str, read_as: &str) {
    if first_sighting(source, field, value) {
        tracing::warn!(
            source,
            field,
            value,
            "the answer has a {field} this version does not know ({value:?}); read as {read_as}. A newer API? Check for a newer radix-failover; logged once per value"
        );
    } else {
        tracing::debug!(
            source,
            field,
            value,
            "unknown {field} again; read as {read_as}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_value_is_warned_about_once_per_source_field_and_value() {
        // Names no other test uses: the memory is process-wide.
        assert!(first_sighting(
            "gw unknown-test",
            "intent_status",
            "Deferred"
        ));
        assert!(!first_sighting(
            "gw unknown-test",
            "intent_status",
            "Deferred"
        ));
        assert!(first_sighting("gw unknown-test", "intent_status", "Queued"));
        assert!(first_sighting(
            "core unknown-test",
            "intent_status",
            "Deferred"
        ));
        assert!(first_sighting("gw unknown-test", "status", "Deferred"));
        assert!(!first_sighting(
            "core unknown-test",
            "intent_status",
            "Deferred"
        ));
    }

    #[test]
    fn unknown_values_are_clipped_for_messages() {
        assert_eq!(clip("UP_BUT_DEGRADED"), "UP_BUT_DEGRADED");
        assert_eq!(clip("A\nB\u{1b}[31mC"), "AB[31mC");
        let long = "X".repeat(10_000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(c.ends_with('…'));
    }
}
