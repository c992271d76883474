//! Slack incoming webhook: `POST <webhook_url>` with `{text, unfurl_links, unfurl_media}`.
//!
//! The text is neutralised as Slack documents for text from elsewhere ("Escaping text"):
//! `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`. Every Slack control sequence starts
//! with `<` (`<!channel>`, `<!here>`, `<!everyone>`, `<@U…>`, `<#C…>`, `<!subteam^…>`,
//! `<http://…|label>`), so text from a source (an error message holding `<!channel>`) shows
//! as written and can never ping a channel or hide a link behind a label, as Discord's
//! `allowed_mentions` ensures there. Bare `@channel` is no mention for an incoming webhook
//! (that would need `link_names`, which is not sent). Unfurling is off: a URL in an alert is
//! never fetched by Slack for a preview.

use serde_json::{json, Value};

use super::event::truncate_chars;
use super::Alert;

/// Slack truncates messages past 40 000 characters and advises staying under 4 000 for
/// readability; alert text is far shorter except for a pathological source error.
pub const MAX_TEXT_CHARS: usize = 4000;

pub fn body(a: &Alert) -> Value {
    // Cut first, then escape: an escape sequence is never cut in half.
    let text = truncate_chars(&a.event.chat_text(a), MAX_TEXT_CHARS);
    json!({
        "text": escape(&text),
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// Slack's escaping of the three control characters: afterwards no `<` or `>` is left to
/// open a mention or a link, and a literal `&lt;` in the text stays literal.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertEvent;

    fn alert(why: &str) -> Alert {
        Alert {
            event: AlertEvent::SourceDegraded {
                source: "gateway x".into(),
                why: why.into(),
            },
            at_ms: 0,
            validator: "validator_tdx_2_1x".into(),
            network: "stokenet".into(),
            watcher: "watcher-1".into(),
        }
    }

    #[test]
    fn mentions_and_links_from_a_source_are_shown_not_acted_on() {
        let hostile = "<!channel> <!here> <!everyone> <@U024BE7LH> <#C024BE7LR> \
                       <!subteam^SAZ94GDB8> <https://evil.example|your dashboard> a & b > c &lt;";
        let b = body(&alert(hostile));
        let text = b["text"].as_str().expect("text");
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert!(text.contains("&lt;@U024BE7LH&gt;"), "{text}");
        assert!(
            text.contains("&lt;https://evil.example|your dashboard&gt;"),
            "{text}"
        );
        // `&` first, so an entity in the source text stays literal rather than decoding.
        assert!(text.contains("a &amp; b &gt; c &amp;lt;"), "{text}");
        assert_eq!(b["unfurl_links"], false);
        assert_eq!(b["unfurl_media"], false);
    }

    #[test]
    fn plain_text_is_unchanged_and_long_text_is_cut_before_escaping() {
        assert_eq!(escape("epoch 12: 3 of 5 missed"), "epoch 12: 3 of 5 missed");
        let long = "<".repeat(MAX_TEXT_CHARS * 2);
        let b = body(&alert(&long));
        let text = b["text"].as_str().expect("text");
        assert!(text.ends_with('…'), "cut, and the cut is marked");
        // Every `<` became a whole `&lt;`: no entity was cut in half.
        assert!(!text.contains('<'));
        assert!(!text.replace("&lt;", "").contains('&'), "{text}");
    }
}
