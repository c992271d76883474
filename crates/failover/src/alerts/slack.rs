//! Slack incoming webhook: `POST <webhook_url>` with `{text}`.

use serde_json::{json, Value};

use super::event::truncate_chars;
use super::Alert;

/// Slack truncates messages past 40 000 characters and advises staying under 4 000 for
/// readability; alert text is far shorter except for a pathological source error.
pub const MAX_TEXT_CHARS: usize = 4000;

pub fn body(a: &Alert) -> Value {
    json!({
        "text": truncate_chars(&a.event.chat_text(&a.validator, &a.network), MAX_TEXT_CHARS),
    })
}
