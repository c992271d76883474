//! Telegram Bot API: `POST {api_url}/bot<token>/sendMessage` with
//! `{chat_id, text, disable_web_page_preview}`. Plain text (no `parse_mode`): source error
//! messages can hold `*`, `_` or `<` that Markdown/HTML modes would reject.

use serde_json::{json, Value};
use url::Url;

use super::config::ChatId;
use super::event::truncate_chars;
use super::Alert;

/// sendMessage takes at most 4096 characters of text.
pub const MAX_TEXT_CHARS: usize = 4096;

/// The sendMessage URL. It holds the token: never log it.
pub fn send_message_url(api_url: &Url, token: &str) -> String {
    format!(
        "{}/bot{token}/sendMessage",
        api_url.as_str().trim_end_matches('/')
    )
}

pub fn body(a: &Alert, chat_id: &ChatId) -> Value {
    let chat: Value = match chat_id {
        ChatId::Number(n) => json!(n),
        ChatId::Name(s) => json!(s),
    };
    json!({
        "chat_id": chat,
        "text": truncate_chars(&a.event.chat_text(a), MAX_TEXT_CHARS),
        "disable_web_page_preview": true,
    })
}
