//! Discord webhook: `POST <webhook_url>` with `{content}` (at most 2000 characters).
//! `allowed_mentions` is empty so text from a source (an error message containing
//! `@everyone`) can never ping a whole server.

use serde_json::{json, Value};

use super::event::truncate_chars;
use super::Alert;

/// Discord refuses `content` over 2000 characters.
pub const MAX_CONTENT_CHARS: usize = 2000;

pub fn body(a: &Alert) -> Value {
    json!({
        "content": truncate_chars(&a.event.chat_text(a), MAX_CONTENT_CHARS),
        "allowed_mentions": { "parse": [] },
    })
}
