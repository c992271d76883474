//! The one HTTP client every source shares, and the mapping of transport failures to
//! [`SourceError`].
//!
//! Everything that comes back is untrusted: bodies are capped, never echoed in full, and a
//! request URL is never shown with credentials (messages name the source and the path only).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::redirect;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::tls;
use crate::config::conn::{fingerprint_text, SharedConn};
use crate::observe::SourceError;

/// Largest answer body read: the biggest answer we ask for (a gateway validator-list page) is
/// well under 1 MiB on mainnet; 8 MiB leaves room and still caps what a hostile or broken
/// source can make us hold in memory.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// How much of an unparseable error body is shown in a message: enough to recognise an HTML
/// error page or a proxy's text, short enough for one log line.
const SNIPPET_CHARS: usize = 160;
/// Redirects followed (same origin only): a reverse proxy may add a trailing slash or similar;
/// more than a few is a loop.
const MAX_REDIRECTS: usize = 3;
/// Back-off after a 429 that gives no `Retry-After`: a public gateway's limits are per minute,
/// so half a minute is a polite first pause (6 polls at the default 5 s).
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured: a mainnet epoch is about 5 minutes; a source silenced
/// for longer than 15 minutes by one odd header (or a hostile one) would be lost for far too
/// long, so longer asks are read as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// Requests sent and response bytes received by one client, for metrics and `bench-footprint`.
#[derive(Debug, Default)]
pub struct Traffic {
    pub requests: AtomicU64,
    /// Body bytes plus the status line and headers as received (an estimate of what crossed
    /// the wire, without TLS framing).
    pub bytes: AtomicU64,
    /// Answers that asked us to back off (429, or 503 with `Retry-After`).
    pub throttled: AtomicU64,
}

impl Traffic {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

/// A raw HTTP answer: status and (capped) body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Parses a 2xx body; anything that does not parse is `Malformed` (with what was expected).
    pub fn parse<T: DeserializeOwned>(&self, what: &str) -> Result<T, SourceError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            SourceError::Malformed(format!(
                "{what}: the answer is not a valid {} ({e}); body starts with {:?}",
                std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("answer"),
                snippet(&self.body)
            ))
        })
    }
}

/// The first characters of a body, lossily decoded, for messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_CHARS * 4)]);
    let mut s: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().count() > SNIPPET_CHARS {
        s.push('…');
    }
    s
}

/// The client of one node or source: its own TLS trust, credentials and connection pool.
/// Cheap to clone (all shared).
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    conn: SharedConn,
    /// What the TLS verifier trusts, in words, for error texts.
    trusted: Arc<str>,
    /// The leaf certificate the server sent last (fingerprint), for error texts.
    seen: Arc<Mutex<Option<[u8; 32]>>>,
    /// Until when the source asked us not to call it (429/503 with `Retry-After`), and with
    /// which status.
    throttled_until: Arc<Mutex<Option<(Instant, u16)>>>,
    traffic: Arc<Traffic>,
}

// By hand: never the credentials (the `Conn` Debug hides them too; this keeps it short).
impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("timeout", &self.timeout)
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// `timeout` bounds each whole request (connect, send, read the body); `conn` says how to
    /// connect (TLS trust, basic auth, headers).
    pub fn new(timeout: Duration, conn: &SharedConn) -> Result<Http, String> {
        let tls = tls::client_config(conn).map_err(|e| e.to_string())?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("radix-failover/", env!("CARGO_PKG_VERSION")))
            .use_preconfigured_tls(tls.config)
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(redirect::Policy::custom(|attempt| {
                // Never follow a redirect to another origin: a source is trusted for its own
                // host only, and POST bodies (signed transactions) must not go elsewhere.
                let same_origin = attempt.previous().first().is_some_and(|first| {
                    first.scheme() == attempt.url().scheme()
                        && first.host_str() == attempt.url().host_str()
                        && first.port_or_known_default() == attempt.url().port_or_known_default()
                });
                if !same_origin || attempt.previous().len() > MAX_REDIRECTS {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Http {
            client,
            timeout,
            conn: conn.clone(),
            trusted: tls.trusted.into(),
            seen: tls.seen,
            throttled_until: Arc::default(),
            traffic: Arc::default(),
        })
    }

    /// Requests and bytes so far.
    pub fn traffic(&self) -> &Arc<Traffic> {
        &self.traffic
    }

    /// The same client (connections, TLS, credentials, back-off: one server) counting its
    /// traffic apart, for a second API of the same node.
    pub fn counted_apart(&self) -> Http {
        Http {
            traffic: Arc::default(),
            ..self.clone()
        }
    }

    /// `Some` while backing off as the source asked: the error to give instead of calling it.
    fn backing_off(&self) -> Option<SourceError> {
        let mut t = self
            .throttled_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match *t {
            Some((until, status)) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    *t = None;
                    None
                } else {
                    Some(SourceError::Throttled {
                        status,
                        retry_after_ms: millis(left),
                    })
                }
            }
            None => None,
        }
    }

    /// Records a back-off request, if the answer is one.
    fn throttle_if_asked(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
    ) -> Option<SourceError> {
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| parse_retry_after(v, chrono::Utc::now()));
        let wait = backoff_of(status, retry_after)?;
        self.traffic.throttled.fetch_add(1, Ordering::Relaxed);
        *self
            .throttled_until
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((Instant::now() + wait, status));
        Some(SourceError::Throttled {
            status,
            retry_after_ms: millis(wait),
        })
    }

    /// The settings this client connects with.
    pub fn conn(&self) -> &SharedConn {
        &self.conn
    }

    /// What the TLS verifier trusts, in words.
    pub fn trusted(&self) -> &str {
        &self.trusted
    }

    /// The fingerprint of the leaf certificate the server sent last, if any was seen.
    pub fn seen_certificate(&self) -> Option<[u8; 32]> {
        self.seen.lock().ok().and_then(|s| *s)
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs `body` as JSON to `url`; `what` names the source and endpoint for messages.
    pub async fn post<B: Serialize + ?Sized>(
        &self,
        url: &str,
        body: &B,
        what: &str,
    ) -> Result<Answer, SourceError> {
        self.send(self.client.post(url).json(body), what).await
    }

    /// GETs `url`.
    pub async fn get(&self, url: &str, what: &str) -> Result<Answer, SourceError> {
        self.send(self.client.get(url), what).await
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<Answer, SourceError> {
        let mut req = req;
        if let Some(a) = &self.conn.basic_auth {
            // reqwest marks the Authorization header sensitive (kept out of its Debug output).
            req = req.basic_auth(&a.user, Some(a.password.expose_secret()));
        }
        for (name, value) in &self.conn.headers {
            // Both were checked when the config was loaded; a failure here cannot happen, and
            // would only drop the header (the source then answers 401/403, naming itself).
            if let (Ok(n), Ok(mut v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value.expose_secret()),
            ) {
                v.set_sensitive(true);
                req = req.header(n, v);
            }
        }
        if let Some(e) = self.backing_off() {
            return Err(e);
        }
        self.traffic.requests.fetch_add(1, Ordering::Relaxed);
        let mut resp = req.send().await.map_err(|e| self.transport(e, what))?;
        let status = resp.status().as_u16();
        let head: usize = resp
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum::<usize>()
            + 17;
        self.traffic.bytes.fetch_add(head as u64, Ordering::Relaxed);
        if let Some(e) = self.throttle_if_asked(status, resp.headers()) {
            return Err(e);
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_big(what));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(e, what))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_big(what));
            }
            self.traffic
                .bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, body })
    }

    fn transport(&self, e: reqwest::Error, what: &str) -> SourceError {
        let ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
        if e.is_timeout() {
            return SourceError::Timeout(ms);
        }
        // The innermost cause says it best ("Connection refused (os error 111)"); the URL is
        // left out on purpose (it could carry credentials) and `what` names the source.
        let e = e.without_url();
        let mut cause = e.to_string();
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(s) = src {
            cause = s.to_string();
            src = s.source();
        }
        // A timeout deep in the stack (connect) reports itself only in the cause chain.
        if cause.to_ascii_lowercase().contains("timed out") {
            return SourceError::Timeout(ms);
        }
        if is_tls_error(&e) || is_tls_text(&cause) || self.pin_refused() {
            return SourceError::Tls(format!("{what}: {}", self.tls_problem(&cause)));
        }
        SourceError::Unreachable(format!("{what}: {cause}"))
    }

    /// True when a pin is set and the last certificate the server sent is not the pinned one:
    /// whatever the error chain says, the pin refused it.
    fn pin_refused(&self) -> bool {
        matches!((self.conn.pin_sha256, self.seen_certificate()), (Some(pin), Some(seen)) if pin != seen)
    }

    /// A TLS failure in words: the certificate seen, what was trusted, and the fix.
    fn tls_problem(&self, cause: &str) -> String {
        let seen = self.seen_certificate();
        let seen_text = seen
            .map(|fp| fingerprint_text(&fp))
            .unwrap_or_else(|| "(none received)".into());
        if let (Some(pin), Some(fp)) = (self.conn.pin_sha256, seen) {
            if pin != fp {
                return format!(
                    "TLS pin mismatch: the server's certificate has SHA-256 fingerprint {seen_text}, but tls_pin_sha256 is {} (fix: if the node's certificate was renewed, check the new one on the node with `openssl x509 -noout -fingerprint -sha256 -in CERT.pem` and update tls_pin_sha256; if not, something else answers at this address)",
                    fingerprint_text(&pin)
                );
            }
        }
        let fix = if self.conn.pin_sha256.is_some() {
            "check that the URL points at the node's https port".to_string()
        } else {
            format!("for a node's self-signed nginx certificate, check its fingerprint on the node (`openssl x509 -noout -fingerprint -sha256 -in CERT.pem`) and, if it is {seen_text}, set tls_pin_sha256 = \"{seen_text}\"; or set tls_ca_file to the CA that signed it")
        };
        format!(
            "TLS failed: {cause}; trusted: {}; the server's certificate has SHA-256 fingerprint {seen_text} (fix: {fix})",
            self.trusted
        )
    }
}

/// rustls' own words for a refused certificate or a failed handshake, for when its error is
/// boxed too deep in hyper's connector errors to be found by type.
fn is_tls_text(cause: &str) -> bool {
    let c = cause.to_ascii_lowercase();
    [
        "invalid peer certificate",
        "peer is incompatible",
        "received fatal alert",
        "handshake",
    ]
    .iter()
    .any(|w| c.contains(w))
}

/// Whether a request failed in TLS (a rustls error somewhere in the chain; an `io::Error`
/// wrapping one hides it from `source()`, so look inside those too).
fn is_tls_error(e: &reqwest::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if s.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if inner.is::<rustls::Error>() {
                return true;
            }
        }
        src = s.source();
    }
    false
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// How long to back off after an answer with `status` and a parsed `Retry-After` (`None`:
/// no header; `Some(None)`: a header that does not parse), or `None` when the answer does not
/// ask for it. 429 always does (default [`DEFAULT_RETRY_AFTER`]); 503 only with a readable
/// `Retry-After` (a 503 without one is an outage, reported as an HTTP error, not a limit).
/// Capped at [`MAX_RETRY_AFTER`]; a zero wait still skips one request (at least 1 s).
pub fn backoff_of(status: u16, retry_after: Option<Option<Duration>>) -> Option<Duration> {
    let asked = match (status, retry_after) {
        (429, Some(Some(d))) => d,
        (429, _) => DEFAULT_RETRY_AFTER,
        (503, Some(Some(d))) => d,
        _ => return None,
    };
    Some(asked.clamp(Duration::from_secs(1), MAX_RETRY_AFTER))
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); `None` if neither.
pub fn parse_retry_after(v: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = at.timestamp_millis().saturating_sub(now.timestamp_millis());
    Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

fn too_big(what: &str) -> SourceError {
    SourceError::Malformed(format!(
        "{what}: the answer is larger than {} MiB; refusing to read it",
        MAX_BODY_BYTES / (1024 * 1024)
    ))
}

/// `base` + `path`, whatever the base's trailing slash (`Url::join` would drop a last segment
/// such as `/core` without one).
pub fn endpoint(base: &url::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// A non-2xx answer as `Http { status, message }`, with the API's message when the body has
/// one (`message` field), else a snippet of the body.
pub fn http_error(ans: &Answer, message: Option<String>) -> SourceError {
    SourceError::Http {
        status: ans.status,
        message: message.unwrap_or_else(|| {
            if ans.body.is_empty() {
                "(empty body)".into()
            } else {
                snippet(&ans.body)
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keeps_the_base_path() {
        let core = url::Url::parse("http://10.0.0.1:3333/core").expect("url");
        assert_eq!(
            endpoint(&core, "/state/validator"),
            "http://10.0.0.1:3333/core/state/validator"
        );
        let core = url::Url::parse("http://10.0.0.1:3333/core/").expect("url");
        assert_eq!(
            endpoint(&core, "/state/validator"),
            "http://10.0.0.1:3333/core/state/validator"
        );
        let gw = url::Url::parse("https://mainnet.radixdlt.com").expect("url");
        assert_eq!(
            endpoint(&gw, "/status/gateway-status"),
            "https://mainnet.radixdlt.com/status/gateway-status"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_the_back_off_is_bounded() {
        let now = chrono::DateTime::parse_from_rfc2822("Wed, 21 Oct 2015 07:28:00 GMT")
            .expect("date")
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        // A date in the past: no wait asked (the floor of 1 s applies below).
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);

        let s = Duration::from_secs;
        assert_eq!(backoff_of(429, Some(Some(s(7)))), Some(s(7)));
        assert_eq!(backoff_of(429, None), Some(DEFAULT_RETRY_AFTER));
        assert_eq!(backoff_of(429, Some(None)), Some(DEFAULT_RETRY_AFTER));
        assert_eq!(backoff_of(503, Some(Some(s(5)))), Some(s(5)));
        // A 503 without a usable Retry-After is an outage, not a limit.
        assert_eq!(backoff_of(503, None), None);
        assert_eq!(backoff_of(503, Some(None)), None);
        assert_eq!(backoff_of(500, Some(Some(s(5)))), None);
        assert_eq!(backoff_of(200, Some(Some(s(5)))), None);
        assert_eq!(
            backoff_of(429, Some(Some(s(86_400)))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(backoff_of(429, Some(Some(s(0)))), Some(s(1)));
    }

    #[test]
    fn snippet_is_bounded_and_lossy() {
        let long = vec![b'x'; 10_000];
        let s = snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn unparseable_answer_is_malformed_not_a_panic() {
        let a = Answer {
            status: 200,
            body: b"{\"ledger_state\": {\"netw".to_vec(),
        };
        let e = a.parse::<radix_api::gateway::GatewayStatusResponse>("gateway x /status");
        assert!(matches!(e, Err(SourceError::Malformed(m)) if m.contains("gateway x /status")));
    }
}
