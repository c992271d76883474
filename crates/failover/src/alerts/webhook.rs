//! Generic JSON webhook: one POST per alert with a stable, documented body.
//!
//! ```json
//! {"event": "failover_decided", "severity": "critical", "message": "FAILOVER DECIDED: ...",
//!  "validator": "validator_rdx1...", "network": "mainnet", "watcher": "watcher-fra1",
//!  "at": "2026-01-01T00:00:00.000Z",
//!  "details": {"reason": "..."}}
//! ```
//! Recovery events (`*_recovered`) have severity `info` and the same `details` shape.

use serde_json::{json, Value};

use super::Alert;

pub fn body(a: &Alert) -> Value {
    json!({
        "event": a.event.name(),
        "severity": a.event.severity().as_str(),
        "message": a.event.message(),
        "validator": a.validator,
        "network": a.network,
        "watcher": a.watcher,
        "at": a.at_rfc3339(),
        "details": a.event.details(),
    })
}
