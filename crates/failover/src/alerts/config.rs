//! The `[alerts]` config section: raw TOML, then validated channels with their secrets typed.
//!
//! Tokens, routing keys, webhook header values and the Discord/Slack webhook URLs (their path
//! is the token) are `SecretString`s: never Debug-printed, never logged; messages show them as
//! `REDACTED`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use url::Url;

use super::truncate_chars;
/// A field problem: (field, value, problem, fix), the shape `config.rs` turns into
/// `ConfigError::Field`. Secret values are given as `REDACTED`.
pub use crate::field::FieldProblem;
use crate::field::{duration_text, problem, url_text};

/// Re-send a condition that still holds once an hour: a reminder that something is still
/// wrong, without flooding a channel with one message per poll.
pub const DEFAULT_RESEND_INTERVAL: Duration = Duration::from_secs(3600);
/// Below a minute the "reminder" would fire every few polls, which is the flood dedupe exists
/// to prevent.
pub const MIN_RESEND_INTERVAL: Duration = Duration::from_secs(60);
pub const DEFAULT_TELEGRAM_API: &str = "https://api.telegram.org";
pub const DEFAULT_PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

const REDACTED: &str = "REDACTED";

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

fn secret_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, SecretString>>, D::Error> {
    let m = Option::<BTreeMap<String, String>>::deserialize(d)?;
    Ok(m.map(|m| {
        m.into_iter()
            .map(|(k, v)| (k, SecretString::from(v)))
            .collect()
    }))
}

/// `[alerts]` as written. Every channel is optional; at least one must be configured.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    pub resend_interval: Option<String>,
    /// Names this watcher in every alert; the host name when absent.
    pub watcher: Option<String>,
    pub heartbeat: Option<RawHeartbeat>,
    pub webhook: Option<RawWebhook>,
    pub telegram: Option<RawTelegram>,
    pub discord: Option<RawDiscord>,
    pub slack: Option<RawSlack>,
    pub pagerduty: Option<RawPagerDuty>,
}

/// `[alerts.webhook]`: a generic JSON POST. Header values may carry credentials (secret).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    /// May hold a token in its path or query: secret.
    #[serde(deserialize_with = "secret")]
    pub url: SecretString,
    #[serde(default, deserialize_with = "secret_map")]
    pub headers: Option<BTreeMap<String, SecretString>>,
}

/// `[alerts.telegram]`: a bot's sendMessage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTelegram {
    #[serde(deserialize_with = "secret")]
    pub bot_token: SecretString,
    pub chat_id: RawChatId,
    /// Only for tests and self-hosted Bot API servers.
    pub api_url: Option<String>,
}

/// A Telegram chat id: a number (`-1001234567890`) or a public `@channelname`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawChatId {
    Number(i64),
    Text(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscord {
    /// The URL's path holds the webhook token: secret.
    #[serde(deserialize_with = "secret")]
    pub webhook_url: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlack {
    /// The URL's path holds the webhook token: secret.
    #[serde(deserialize_with = "secret")]
    pub webhook_url: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPagerDuty {
    #[serde(deserialize_with = "secret")]
    pub routing_key: SecretString,
    /// Only for tests and PagerDuty's EU endpoint (`https://events.eu.pagerduty.com/v2/enqueue`).
    pub events_url: Option<String>,
}

/// `[alerts.heartbeat]`: a dead-man's switch (healthchecks.io, Cronitor, Better Stack, Uptime
/// Kuma push monitors...). The URL usually holds the check's token: secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeartbeat {
    #[serde(deserialize_with = "secret")]
    pub url: SecretString,
    pub interval: Option<String>,
}

/// The validated heartbeat: GET `url` every `interval` while the loop is healthy.
#[derive(Clone)]
pub struct HeartbeatConfig {
    pub url: SecretString,
    pub interval: Duration,
}

impl HeartbeatConfig {
    /// Where it pings, without the token (for logs).
    pub fn describe(&self) -> String {
        redact_secret_url(self.url.expose_secret())
    }
}

impl fmt::Debug for HeartbeatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "heartbeat {} every {:?}", self.describe(), self.interval)
    }
}

/// Ping once a minute: with the check's period set to 1 minute and a grace of 2, a dead
/// watcher is reported within about 3 minutes, inside one 5-minute mainnet epoch.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(60);
/// Faster than a second would only load the service (tests use 1 s).
pub const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);
/// Slower than an hour, a dead watcher would go unnoticed for a dozen epochs.
pub const MAX_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3600);
/// A watcher label is a name in a chat line, not a paragraph.
pub const MAX_WATCHER_CHARS: usize = 64;

/// A Telegram chat id as the Bot API takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatId {
    Number(i64),
    Name(String),
}

/// One configured channel, validated.
#[derive(Clone)]
pub enum Channel {
    Webhook {
        url: Url,
        headers: Vec<(reqwest::header::HeaderName, SecretString)>,
    },
    Telegram {
        api_url: Url,
        bot_token: SecretString,
        chat_id: ChatId,
    },
    Discord {
        webhook_url: SecretString,
    },
    Slack {
        webhook_url: SecretString,
    },
    PagerDuty {
        events_url: Url,
        routing_key: SecretString,
    },
}

impl Channel {
    /// Short name for logs and metrics: `webhook`, `telegram`, `discord`, `slack`, `pagerduty`.
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Webhook { .. } => "webhook",
            Channel::Telegram { .. } => "telegram",
            Channel::Discord { .. } => "discord",
            Channel::Slack { .. } => "slack",
            Channel::PagerDuty { .. } => "pagerduty",
        }
    }

    /// Where it posts, without secrets (for logs).
    pub fn describe(&self) -> String {
        match self {
            Channel::Webhook { url, .. } => format!("webhook {}", redact_url(url)),
            Channel::Telegram {
                api_url, chat_id, ..
            } => {
                let chat = match chat_id {
                    ChatId::Number(n) => n.to_string(),
                    ChatId::Name(s) => s.clone(),
                };
                format!("telegram chat {chat} via {}", redact_url(api_url))
            }
            Channel::Discord { webhook_url } => {
                format!("discord {}", redact_secret_url(webhook_url.expose_secret()))
            }
            Channel::Slack { webhook_url } => {
                format!("slack {}", redact_secret_url(webhook_url.expose_secret()))
            }
            Channel::PagerDuty { events_url, .. } => {
                format!("pagerduty {}", redact_url(events_url))
            }
        }
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The validated `[alerts]` section.
#[derive(Clone, Debug)]
pub struct AlertsConfig {
    pub resend_interval: Duration,
    pub channels: Vec<Channel>,
    /// Names this watcher in every alert: `alerts.watcher`, else the host name.
    pub watcher: String,
    pub heartbeat: Option<HeartbeatConfig>,
    /// One delivery attempt's timeout (not in the file; tests shorten it).
    pub attempt_timeout: Duration,
}

/// One delivery attempt: the chat APIs and PagerDuty answer in well under a second; 10 s rides
/// out a slow moment and still lets the retries finish within a minute.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// `scheme://host[:port]/…`: enough to recognise the endpoint, no path, query or credentials.
pub fn redact_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(p) => format!("{}://{host}:{p}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

fn redact_secret_url(s: &str) -> String {
    Url::parse(s)
        .map(|u| redact_url(&u))
        .unwrap_or_else(|_| REDACTED.into())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Parses an endpoint URL. Plain `http` is refused except on loopback: these requests carry
/// tokens, and over http anyone on the path could read them.
fn endpoint(
    field: &'static str,
    raw: &str,
    shown: &str,
    example: &str,
) -> Result<Url, FieldProblem> {
    let url = url_text(
        field,
        raw,
        shown,
        &format!("write the full URL, such as {example}"),
    )?;
    if url.host_str().is_none() {
        return Err(problem(
            field,
            shown,
            "has no host",
            format!("write the full URL, such as {example}"),
        ));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(problem(
            field,
            shown,
            "plain http to a remote host would send the alert (and any token) unencrypted",
            format!("use https, such as {example}"),
        )),
        other => Err(problem(
            field,
            shown,
            format!("scheme `{other}` is not https"),
            format!("use https, such as {example}"),
        )),
    }
}

impl RawAlerts {
    /// Validates the section. Errors name the field, its value (`REDACTED` for secrets), the
    /// problem and the fix.
    pub fn validate(&self) -> Result<AlertsConfig, FieldProblem> {
        let resend_interval = match &self.resend_interval {
            None => DEFAULT_RESEND_INTERVAL,
            Some(s) => {
                let d = duration_text(
                    "alerts.resend_interval",
                    s,
                    "write a duration such as \"1h\" or \"30m\"",
                )?;
                if d < MIN_RESEND_INTERVAL {
                    return Err(problem(
                        "alerts.resend_interval",
                        s,
                        "is under one minute: a condition that holds would be re-sent every few polls",
                        "use at least \"1m\"; the default \"1h\" suits most operators",
                    ));
                }
                d
            }
        };
        let watcher = match &self.watcher {
            None => host_name(),
            Some(w) => watcher_label(w)?,
        };
        let heartbeat = self.heartbeat.as_ref().map(heartbeat).transpose()?;
        let mut channels = Vec::new();
        if let Some(w) = &self.webhook {
            let raw = w.url.expose_secret();
            let url = endpoint(
                "alerts.webhook.url",
                raw,
                &redact_secret_url(raw),
                "https://alerts.example.com/radix",
            )?;
            let mut headers = Vec::new();
            for (name, value) in w.headers.iter().flatten() {
                let hn =
                    reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                        problem(
                            "alerts.webhook.headers",
                            name,
                            "is not a valid HTTP header name",
                            "use letters, digits and '-', such as \"Authorization\"",
                        )
                    })?;
                if reqwest::header::HeaderValue::from_str(value.expose_secret()).is_err() {
                    return Err(problem(
                        "alerts.webhook.headers",
                        REDACTED,
                        format!("the value of header `{name}` is not a valid HTTP header value (control characters or non-ASCII)"),
                        "use printable ASCII, such as \"Bearer <token>\"",
                    ));
                }
                headers.push((hn, value.clone()));
            }
            channels.push(Channel::Webhook { url, headers });
        }
        if let Some(t) = &self.telegram {
            let api_url = endpoint(
                "alerts.telegram.api_url",
                t.api_url.as_deref().unwrap_or(DEFAULT_TELEGRAM_API),
                t.api_url.as_deref().unwrap_or(DEFAULT_TELEGRAM_API),
                DEFAULT_TELEGRAM_API,
            )?;
            let token = t.bot_token.expose_secret().trim();
            // BotFather tokens are `<bot id>:<secret>`; checking the shape catches a chat id or
            // a URL pasted into the wrong field.
            let shape_ok = token.split_once(':').is_some_and(|(id, rest)| {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && rest.len() >= 20
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            if !shape_ok {
                return Err(problem(
                    "alerts.telegram.bot_token",
                    REDACTED,
                    "does not look like a bot token (`<digits>:<secret>`)",
                    "paste the token @BotFather gave you, such as \"123456789:AAE...\"",
                ));
            }
            let chat_id = match &t.chat_id {
                RawChatId::Number(n) => ChatId::Number(*n),
                RawChatId::Text(s) => {
                    let s = s.trim();
                    if let Ok(n) = s.parse::<i64>() {
                        ChatId::Number(n)
                    } else if s.len() > 1
                        && s.starts_with('@')
                        && s[1..]
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        ChatId::Name(s.to_string())
                    } else {
                        return Err(problem(
                            "alerts.telegram.chat_id",
                            s,
                            "is neither a numeric chat id nor a @channelname",
                            "use the chat's numeric id (for groups it starts with -100) or a public channel's @name",
                        ));
                    }
                }
            };
            channels.push(Channel::Telegram {
                api_url,
                bot_token: SecretString::from(token.to_string()),
                chat_id,
            });
        }
        if let Some(d) = &self.discord {
            let raw = d.webhook_url.expose_secret();
            endpoint(
                "alerts.discord.webhook_url",
                raw,
                &redact_secret_url(raw),
                "https://discord.com/api/webhooks/<id>/<token>",
            )?;
            channels.push(Channel::Discord {
                webhook_url: SecretString::from(raw.trim().to_string()),
            });
        }
        if let Some(s) = &self.slack {
            let raw = s.webhook_url.expose_secret();
            endpoint(
                "alerts.slack.webhook_url",
                raw,
                &redact_secret_url(raw),
                "https://hooks.slack.com/services/T…/B…/…",
            )?;
            channels.push(Channel::Slack {
                webhook_url: SecretString::from(raw.trim().to_string()),
            });
        }
        if let Some(p) = &self.pagerduty {
            let events_url = endpoint(
                "alerts.pagerduty.events_url",
                p.events_url
                    .as_deref()
                    .unwrap_or(DEFAULT_PAGERDUTY_EVENTS_URL),
                p.events_url
                    .as_deref()
                    .unwrap_or(DEFAULT_PAGERDUTY_EVENTS_URL),
                DEFAULT_PAGERDUTY_EVENTS_URL,
            )?;
            let key = p.routing_key.expose_secret().trim();
            // Events v2 integration keys are 32 alphanumeric characters.
            if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(problem(
                    "alerts.pagerduty.routing_key",
                    REDACTED,
                    format!(
                        "is {} characters; an Events API v2 integration key is 32 letters and digits",
                        key.chars().count()
                    ),
                    "copy the Integration Key of the service's \"Events API V2\" integration",
                ));
            }
            channels.push(Channel::PagerDuty {
                events_url,
                routing_key: SecretString::from(key.to_string()),
            });
        }
        if channels.is_empty() && heartbeat.is_none() {
            return Err(problem(
                "alerts",
                "",
                "the section configures no channel",
                "add at least one of [alerts.webhook], [alerts.telegram], [alerts.discord], [alerts.slack], [alerts.pagerduty], or remove [alerts]",
            ));
        }
        Ok(AlertsConfig {
            resend_interval,
            channels,
            watcher,
            heartbeat,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
        })
    }
}

/// This host's name, the default watcher label. Never fails: a host without one is named by
/// what it is, and the operator can set `alerts.watcher`.
pub fn host_name() -> String {
    let uname = rustix::system::uname();
    let name = uname.nodename().to_string_lossy().trim().to_string();
    if name.is_empty() {
        "unnamed-host".into()
    } else {
        truncate_chars(&name, MAX_WATCHER_CHARS)
    }
}

/// `alerts.watcher`: printable, at most [`MAX_WATCHER_CHARS`].
fn watcher_label(raw: &str) -> Result<String, FieldProblem> {
    let w = raw.trim();
    let fix = "name the host or role in a few words, such as \"watcher-fra1\", or remove the key to use the host name";
    if w.is_empty() {
        return Err(problem("alerts.watcher", raw, "is empty", fix));
    }
    if w.chars().any(char::is_control) {
        return Err(problem(
            "alerts.watcher",
            raw,
            "holds control characters (a newline?)",
            fix,
        ));
    }
    if w.chars().count() > MAX_WATCHER_CHARS {
        return Err(problem(
            "alerts.watcher",
            raw,
            format!("is over {MAX_WATCHER_CHARS} characters"),
            fix,
        ));
    }
    Ok(w.to_string())
}

/// `[alerts.heartbeat]`: an https URL (http on loopback only) and an interval in bounds.
fn heartbeat(raw: &RawHeartbeat) -> Result<HeartbeatConfig, FieldProblem> {
    let url = raw.url.expose_secret().trim();
    endpoint(
        "alerts.heartbeat.url",
        url,
        &redact_secret_url(url),
        "https://hc-ping.com/<uuid>",
    )?;
    let interval = match &raw.interval {
        None => DEFAULT_HEARTBEAT_INTERVAL,
        Some(s) => {
            let fix = "write a duration such as \"1m\" (the check's period)";
            let d = duration_text("alerts.heartbeat.interval", s, fix)?;
            if d < MIN_HEARTBEAT_INTERVAL || d > MAX_HEARTBEAT_INTERVAL {
                return Err(problem(
                    "alerts.heartbeat.interval",
                    s,
                    "is outside 1s..1h: faster only loads the service, slower leaves a dead watcher unnoticed for many epochs",
                    "use \"1m\" (the default) and set the same period on the check",
                ));
            }
            d
        }
    };
    Ok(HeartbeatConfig {
        url: SecretString::from(url.to_string()),
        interval,
    })
}
