//! Alerts delivered over real loopback HTTP to a recording receiver: each channel's path,
//! headers and body as its API expects them; dedupe and the resend interval; a hanging or
//! failing channel delays neither the caller nor the other channels.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use radix_failover::alerts::{AlertEvent, Alerter, AlertsConfig, RawAlerts};
use serde_json::Value;

mod support;
use support::SimNet;

const VALIDATOR: &str = "validator_tdx_2_1sd5368vqdmjk0y2w7ymdts02cz9gvxlq5ylaeq6a94gnhv9dc02yy9";
const NETWORK: &str = "stokenet";
const TG_TOKEN: &str = "123456789:AAE-secret_token_for_tests_0123456789";
const PD_KEY: &str = "R0UT1NGKEY0123456789abcdefABCDEF";
const HOOK_SECRET: &str = "Bearer hook-secret-42";
const WATCHER: &str = "watcher-fra1";
/// 2026-11-24T13:00:00Z: any fixed instant works; the test checks it comes back in `at`.
const T0: i64 = 1_795_525_200_000;

#[derive(Debug, Clone)]
struct Req {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Value,
    at: Instant,
}

#[derive(Clone, Copy)]
enum Mode {
    Answer(u16),
    /// Never answers within the test (sleeps this long first).
    Hang(Duration),
    /// Answers the n-th request with the n-th status (429s with `Retry-After: 2`), then 200.
    Sequence(&'static [u16]),
    /// 401 with the request's path as the body (an API echoing what it got, token included).
    EchoPath401,
    /// 500 for the webhook bodies of this event, 200 for the others.
    FailEvent(&'static str),
}

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Vec<Req>>>,
    mode: Mode,
}

async fn record(
    State(r): State<Receiver>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n = {
        let mut seen = r.seen.lock().unwrap();
        seen.push(Req {
            method,
            path: uri.path().to_string(),
            headers,
            body,
            at: Instant::now(),
        });
        seen.len()
    };
    let mut h = HeaderMap::new();
    if let Mode::EchoPath401 = r.mode {
        let path = r.seen.lock().unwrap()[n - 1].path.clone();
        return (StatusCode::UNAUTHORIZED, h, path).into_response();
    }
    let code = match r.mode {
        Mode::EchoPath401 => 401,
        Mode::FailEvent(name) => {
            let failing = r.seen.lock().unwrap()[n - 1].body["event"] == name;
            if failing {
                500
            } else {
                200
            }
        }
        Mode::Answer(code) => code,
        Mode::Hang(d) => {
            tokio::time::sleep(d).await;
            200
        }
        Mode::Sequence(codes) => {
            let code = codes.get(n - 1).copied().unwrap_or(200);
            if code == 429 {
                h.insert("retry-after", "2".parse().unwrap());
            }
            code
        }
    };
    (StatusCode::from_u16(code).unwrap(), h, "{\"ok\":true}").into_response()
}

/// Starts a recording receiver on 127.0.0.1:<free port>; returns its base URL and log.
async fn receiver(mode: Mode) -> (String, Arc<Mutex<Vec<Req>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new().fallback(record).with_state(Receiver {
        seen: seen.clone(),
        mode,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

fn config(toml_text: &str) -> AlertsConfig {
    let raw: RawAlerts = toml::from_str(toml_text).expect("alerts TOML parses");
    raw.validate().expect("alerts config is valid")
}

fn all_channels(base: &str) -> String {
    format!(
        r#"
watcher = "{WATCHER}"

[webhook]
url = "{base}/hook?token=query-secret"
headers = {{ Authorization = "{HOOK_SECRET}", X-Team = "validators" }}

[telegram]
bot_token = "{TG_TOKEN}"
chat_id = -1001234567890
api_url = "{base}/tg"

[discord]
webhook_url = "{base}/api/webhooks/42/discord-secret"

[slack]
webhook_url = "{base}/services/T0/B0/slack-secret"

[pagerduty]
routing_key = "{PD_KEY}"
events_url = "{base}/v2/enqueue"
"#
    )
}

fn by_path<'a>(reqs: &'a [Req], prefix: &str) -> Vec<&'a Req> {
    reqs.iter().filter(|r| r.path.starts_with(prefix)).collect()
}

/// Waits until `n` requests arrived (or 10 s: far above loopback delivery, well under the
/// test harness's patience).
async fn wait_for(seen: &Arc<Mutex<Vec<Req>>>, n: usize) -> Vec<Req> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = seen.lock().unwrap().clone();
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_channel_receives_what_its_api_expects() {
    let (base, seen) = receiver(Mode::Answer(200)).await;
    let alerter = Alerter::new(config(&all_channels(&base)), VALIDATOR, NETWORK);
    let handle = alerter.start();

    alerter.send(
        AlertEvent::FailoverDecided {
            reason: "3 of the last 5 proposals missed".into(),
        },
        T0,
    );
    assert!(
        handle.flush(Duration::from_secs(10)).await,
        "delivered in time"
    );
    let reqs = seen.lock().unwrap().clone();
    assert_eq!(reqs.len(), 5, "one request per channel: {reqs:#?}");
    for r in &reqs {
        assert_eq!(r.method, Method::POST, "{}", r.path);
        assert_eq!(
            r.headers.get("content-type").unwrap(),
            "application/json",
            "{}",
            r.path
        );
    }

    // Generic webhook: the documented body, its headers, its query kept.
    let hook = by_path(&reqs, "/hook")[0];
    assert_eq!(hook.headers.get("authorization").unwrap(), HOOK_SECRET);
    assert_eq!(hook.headers.get("x-team").unwrap(), "validators");
    let b = &hook.body;
    assert_eq!(b["event"], "failover_decided");
    assert_eq!(b["severity"], "critical");
    assert_eq!(b["validator"], VALIDATOR);
    assert_eq!(b["network"], NETWORK);
    assert_eq!(b["details"]["reason"], "3 of the last 5 proposals missed");
    assert!(b["message"].as_str().unwrap().contains("FAILOVER DECIDED"));
    let at = chrono::DateTime::parse_from_rfc3339(b["at"].as_str().unwrap()).unwrap();
    assert_eq!(at.timestamp_millis(), T0);
    let keys: Vec<&String> = b.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "at",
            "details",
            "event",
            "message",
            "network",
            "severity",
            "validator",
            "watcher"
        ]
    );
    assert_eq!(b["watcher"], WATCHER, "every alert names the watcher");

    // Telegram: the token in the path, chat_id as a number, plain text.
    let tg = by_path(&reqs, "/tg/")[0];
    assert_eq!(tg.path, format!("/tg/bot{TG_TOKEN}/sendMessage"));
    assert_eq!(tg.body["chat_id"], -1001234567890i64);
    assert_eq!(tg.body["disable_web_page_preview"], true);
    let text = tg.body["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "[CRITICAL] radix-failover on {WATCHER}: {VALIDATOR}"
        )) && text.contains("3 of the last 5"),
        "{text}"
    );

    // Discord and Slack: their one text field.
    let dc = by_path(&reqs, "/api/webhooks/42/discord-secret")[0];
    assert_eq!(dc.body["content"].as_str().unwrap(), text);
    assert_eq!(dc.body["allowed_mentions"]["parse"], serde_json::json!([]));
    let sl = by_path(&reqs, "/services/T0/B0/slack-secret")[0];
    assert_eq!(sl.body["text"].as_str().unwrap(), text);

    // PagerDuty Events v2 trigger.
    let pd = by_path(&reqs, "/v2/enqueue")[0];
    let p = &pd.body;
    assert_eq!(p["routing_key"], PD_KEY);
    assert_eq!(p["event_action"], "trigger");
    let dedup = p["dedup_key"].as_str().unwrap().to_string();
    assert!(
        dedup.contains(VALIDATOR) && dedup.ends_with("failover_decided"),
        "{dedup}"
    );
    assert_eq!(p["payload"]["severity"], "critical");
    assert_eq!(p["payload"]["source"], VALIDATOR);
    assert_eq!(p["payload"]["component"], "radix-failover");
    assert_eq!(
        p["payload"]["custom_details"]["reason"],
        "3 of the last 5 proposals missed"
    );
    let ts =
        chrono::DateTime::parse_from_rfc3339(p["payload"]["timestamp"].as_str().unwrap()).unwrap();
    assert_eq!(ts.timestamp_millis(), T0);
    let summary = p["payload"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("FAILOVER DECIDED") && summary.contains(&format!("seen by {WATCHER}")),
        "{summary}"
    );

    // A condition and its recovery: PagerDuty triggers, then resolves the same dedup_key.
    seen.lock().unwrap().clear();
    alerter.send(
        AlertEvent::PreflightFailed {
            detail: "backup not synced".into(),
        },
        T0 + 1000,
    );
    alerter.send(AlertEvent::PreflightRecovered, T0 + 2000);
    assert!(handle.flush(Duration::from_secs(10)).await);
    let reqs = seen.lock().unwrap().clone();
    assert_eq!(reqs.len(), 10, "both events on all five channels");
    let pds = by_path(&reqs, "/v2/enqueue");
    assert_eq!(pds[0].body["event_action"], "trigger");
    assert_eq!(pds[1].body["event_action"], "resolve");
    assert_eq!(pds[0].body["dedup_key"], pds[1].body["dedup_key"]);
    assert!(
        pds[1].body.get("payload").is_none(),
        "a resolve carries no payload"
    );
    let hooks = by_path(&reqs, "/hook");
    assert_eq!(hooks[1].body["event"], "preflight_recovered");
    assert!(by_path(&reqs, "/services/")[1].body["text"]
        .as_str()
        .unwrap()
        .starts_with("[RESOLVED]"));

    // Info events go to chat and the webhook, not to PagerDuty (no incident for good news).
    seen.lock().unwrap().clear();
    alerter.send(
        AlertEvent::Started {
            version: "0.1.0".into(),
            dry_run: false,
        },
        T0 + 3000,
    );
    assert!(handle.flush(Duration::from_secs(10)).await);
    let reqs = seen.lock().unwrap().clone();
    assert_eq!(reqs.len(), 4, "{reqs:#?}");
    assert!(by_path(&reqs, "/v2/enqueue").is_empty());

    // Over-long text is cut to each API's limit, in characters.
    seen.lock().unwrap().clear();
    let long = "é".repeat(5000);
    alerter.send(
        AlertEvent::GaveUp {
            reason: long.clone(),
        },
        T0 + 4000,
    );
    assert!(handle.flush(Duration::from_secs(10)).await);
    let reqs = seen.lock().unwrap().clone();
    let chars = |v: &Value| v.as_str().unwrap().chars().count();
    assert_eq!(
        chars(&by_path(&reqs, "/api/webhooks/")[0].body["content"]),
        2000
    );
    assert_eq!(chars(&by_path(&reqs, "/tg/")[0].body["text"]), 4096);
    assert_eq!(
        chars(&by_path(&reqs, "/v2/enqueue")[0].body["payload"]["summary"]),
        1024
    );
    // The webhook keeps the full reason in its details.
    assert_eq!(
        by_path(&reqs, "/hook")[0].body["details"]["reason"],
        long.as_str()
    );
    assert_eq!(alerter.stats().failed, 0);
    assert_eq!(alerter.stats().delivered, 5 + 10 + 4 + 5);
}

#[tokio::test]
async fn dedupe_drops_repeats_within_the_resend_interval_and_recovery_ends_a_condition() {
    let (base, seen) = receiver(Mode::Answer(200)).await;
    let cfg = config(&format!(
        "resend_interval = \"1m\"\n[webhook]\nurl = \"{base}/hook\"\n"
    ));
    let alerter = Alerter::new(cfg, VALIDATOR, NETWORK);
    let handle = alerter.start();
    let degraded = |s: &str| AlertEvent::SourceDegraded {
        source: s.into(),
        why: "timed out after 3000 ms".into(),
    };
    let recovered = |s: &str| AlertEvent::SourceRecovered { source: s.into() };
    let sec = 1000;

    alerter.send(degraded("gateway a"), T0); // sent
    alerter.send(degraded("gateway a"), T0 + 30 * sec); // repeat within 1 min: dropped
    alerter.send(degraded("gateway b"), T0 + 30 * sec); // another source: sent
    alerter.send(degraded("gateway a"), T0 + 59 * sec); // still within: dropped
    alerter.send(degraded("gateway a"), T0 + 60 * sec); // interval over: re-sent (reminder)
    alerter.send(recovered("gateway a"), T0 + 61 * sec); // ends the condition: sent
    alerter.send(recovered("gateway a"), T0 + 62 * sec); // nothing to recover: dropped
    alerter.send(recovered("core x"), T0 + 62 * sec); // never degraded: dropped
    alerter.send(degraded("gateway a"), T0 + 63 * sec); // a new episode: sent at once
    alerter.send(degraded("gateway a"), T0 + 10 * sec); // clock went back: dropped

    assert!(handle.flush(Duration::from_secs(10)).await);
    let got: Vec<(String, String, i64)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            let at = chrono::DateTime::parse_from_rfc3339(r.body["at"].as_str().unwrap())
                .unwrap()
                .timestamp_millis();
            (
                r.body["event"].as_str().unwrap().to_string(),
                r.body["details"]["source"].as_str().unwrap().to_string(),
                (at - T0) / sec,
            )
        })
        .collect();
    let want: Vec<(String, String, i64)> = [
        ("source_degraded", "gateway a", 0),
        ("source_degraded", "gateway b", 30),
        ("source_degraded", "gateway a", 60),
        ("source_recovered", "gateway a", 61),
        ("source_degraded", "gateway a", 63),
    ]
    .iter()
    .map(|(e, s, t)| (e.to_string(), s.to_string(), *t))
    .collect();
    assert_eq!(got, want);
    let stats = alerter.stats();
    assert_eq!(
        (stats.accepted, stats.suppressed, stats.delivered),
        (5, 5, 5)
    );
}

#[tokio::test]
async fn a_hanging_channel_delays_neither_send_nor_the_other_channels() {
    let test_start = Instant::now();
    // The hanging receiver would answer after 30 s; everything below must finish long before.
    let (hang, hang_seen) = receiver(Mode::Hang(Duration::from_secs(30))).await;
    let (ok, ok_seen) = receiver(Mode::Answer(200)).await;
    let cfg = config(&format!(
        "[webhook]\nurl = \"{hang}/hook\"\n[slack]\nwebhook_url = \"{ok}/services/x\"\n"
    ));
    let alerter = Alerter::new(cfg, VALIDATOR, NETWORK);
    let _handle = alerter.start();

    // The hanging channel takes its first request and never answers.
    alerter.send(
        AlertEvent::Submitted {
            intent: "txid_0".into(),
        },
        T0,
    );
    assert_eq!(wait_for(&hang_seen, 1).await.len(), 1);

    // 300 more alerts while it hangs: each send returns at once.
    let n = 300;
    let mut slowest = Duration::ZERO;
    for i in 1..=n {
        let t = Instant::now();
        alerter.send(
            AlertEvent::Submitted {
                intent: format!("txid_{i}"),
            },
            T0 + i,
        );
        slowest = slowest.max(t.elapsed());
    }
    println!("slowest send while a channel hangs: {slowest:?}");
    // A send is a mutex and a queue push; 200 ms is generous for a loaded 2-core machine and
    // 150x below the hanging receiver's 30 s.
    assert!(
        slowest < Duration::from_millis(200),
        "send blocked for {slowest:?}"
    );

    // Slack got every alert up to the newest while the webhook hangs.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let last = ok_seen
            .lock()
            .unwrap()
            .last()
            .map(|r| r.body["text"].as_str().unwrap_or("").to_string());
        if last.is_some_and(|t| t.contains(&format!("txid_{n}"))) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slack did not get the newest alert while the webhook hung"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The hanging channel's queue is bounded: its oldest alerts were dropped and counted.
    let s = alerter.stats();
    assert!(
        s.dropped >= (n as u64 + 1) - radix_failover::alerts::QUEUE_CAPACITY as u64 - 1,
        "{s:?}"
    );
    assert_eq!(
        hang_seen.lock().unwrap().len(),
        1,
        "the hanging channel is still on its first alert"
    );
    assert!(
        test_start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        test_start.elapsed()
    );
}

#[tokio::test]
async fn failing_channels_are_retried_or_not_and_never_stop_the_others() {
    let (e500, seen500) = receiver(Mode::Answer(500)).await;
    let (e400, seen400) = receiver(Mode::Answer(400)).await;
    let (ok, ok_seen) = receiver(Mode::Answer(200)).await;
    let mut cfg = config(&format!(
        "[webhook]\nurl = \"{e500}/hook\"\n[discord]\nwebhook_url = \"{e400}/api/webhooks/1/t\"\n[slack]\nwebhook_url = \"{ok}/services/x\"\n"
    ));
    cfg.attempt_timeout = Duration::from_secs(2);
    let alerter = Alerter::new(cfg, VALIDATOR, NETWORK);
    let handle = alerter.start();
    let t = Instant::now();
    alerter.send(
        AlertEvent::CommitFailed {
            message: "fee".into(),
        },
        T0,
    );
    assert_eq!(wait_for(&ok_seen, 1).await.len(), 1);
    // Slack is not held back by the 500's retry pauses (1 s + 3 s).
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "slack waited {:?}",
        t.elapsed()
    );
    assert!(
        handle.flush(Duration::from_secs(15)).await,
        "retries finish"
    );
    // 5xx: three attempts; 4xx (bad token, bad chat): one, retrying cannot help.
    assert_eq!(seen500.lock().unwrap().len(), 3);
    assert_eq!(seen400.lock().unwrap().len(), 1);
    let s = alerter.stats();
    assert_eq!((s.delivered, s.failed), (1, 2), "{s:?}");
}

#[tokio::test]
async fn disabled_alerter_sends_nothing_and_never_fails() {
    let a = Alerter::disabled();
    let h = a.start();
    a.send(AlertEvent::FailoverDecided { reason: "x".into() }, T0);
    assert!(!a.is_enabled());
    assert_eq!(a.stats(), Default::default());
    assert!(h.shutdown(Duration::from_millis(10)).await);
}

fn problem(text: &str) -> (String, String, String, String) {
    let raw: RawAlerts = toml::from_str(text).expect("parses");
    let (f, v, p, x) = raw.validate().expect_err("must be refused");
    (f.to_string(), v, p, x)
}

/// The URL and duration parsing shared with the main config (`config::sections`) keeps the
/// alerts section's own wording: the problem, then what to write instead.
#[test]
fn an_unparsable_url_or_duration_says_what_to_write() {
    let (f, v, p, fix) =
        problem("[slack]\nwebhook_url = \"hooks.slack.com/services/slack-token\"\n");
    assert_eq!(f, "alerts.slack.webhook_url");
    assert!(p.starts_with("not a URL ("), "{p}");
    assert_eq!(
        fix,
        "write the full URL, such as https://hooks.slack.com/services/T…/B…/…"
    );
    assert!(!v.contains("slack-token"), "{v}");
    let (f, v, p, fix) =
        problem("resend_interval = \"soon\"\n[webhook]\nurl = \"https://example.com/h\"\n");
    assert_eq!((f.as_str(), v.as_str()), ("alerts.resend_interval", "soon"));
    assert!(p.starts_with("not a duration ("), "{p}");
    assert_eq!(fix, "write a duration such as \"1h\" or \"30m\"");
}

#[test]
fn config_errors_name_the_field_and_never_show_a_secret() {
    let base = "https://example.com";
    let cases = [
        (
            "[telegram]\nbot_token = \"not-a-token-value\"\nchat_id = 1\n".to_string(),
            "alerts.telegram.bot_token",
            Some("not-a-token-value"),
        ),
        (
            format!("[telegram]\nbot_token = \"{TG_TOKEN}\"\nchat_id = \"my chat\"\n"),
            "alerts.telegram.chat_id",
            Some(TG_TOKEN),
        ),
        (
            "[discord]\nwebhook_url = \"http://discord.com/api/webhooks/1/discord-token\"\n".to_string(),
            "alerts.discord.webhook_url",
            Some("discord-token"),
        ),
        (
            "[slack]\nwebhook_url = \"hooks.slack.com/services/slack-token\"\n".to_string(),
            "alerts.slack.webhook_url",
            Some("slack-token"),
        ),
        (
            "[pagerduty]\nrouting_key = \"short-key\"\n".to_string(),
            "alerts.pagerduty.routing_key",
            Some("short-key"),
        ),
        (
            format!("[webhook]\nurl = \"{base}/h\"\nheaders = {{ \"Bad Header\" = \"v\" }}\n"),
            "alerts.webhook.headers",
            None,
        ),
        (
            format!("[webhook]\nurl = \"{base}/h\"\nheaders = {{ Authorization = \"line\\nbreak-secret\" }}\n"),
            "alerts.webhook.headers",
            Some("break-secret"),
        ),
        (
            format!("resend_interval = \"10s\"\n[webhook]\nurl = \"{base}/h\"\n"),
            "alerts.resend_interval",
            None,
        ),
        ("resend_interval = \"1h\"\n".to_string(), "alerts", None),
        (
            format!("watcher = \"\"\n[webhook]\nurl = \"{base}/h\"\n"),
            "alerts.watcher",
            None,
        ),
        (
            format!("watcher = \"two\\nlines\"\n[webhook]\nurl = \"{base}/h\"\n"),
            "alerts.watcher",
            None,
        ),
        (
            format!("watcher = \"{}\"\n[webhook]\nurl = \"{base}/h\"\n", "w".repeat(65)),
            "alerts.watcher",
            None,
        ),
        (
            "[heartbeat]\nurl = \"http://hc-ping.example.com/ping/hb-secret-uuid\"\n".to_string(),
            "alerts.heartbeat.url",
            Some("hb-secret-uuid"),
        ),
        (
            "[heartbeat]\nurl = \"https://hc-ping.com/hb-secret-uuid\"\ninterval = \"500ms\"\n".to_string(),
            "alerts.heartbeat.interval",
            Some("hb-secret-uuid"),
        ),
        (
            "[heartbeat]\nurl = \"https://hc-ping.com/hb-secret-uuid\"\ninterval = \"2h\"\n".to_string(),
            "alerts.heartbeat.interval",
            Some("hb-secret-uuid"),
        ),
    ];
    for (text, field, secret) in cases {
        let (f, v, p, fix) = problem(&text);
        assert_eq!(f, field, "{text}: {p}");
        assert!(!fix.is_empty() && !p.is_empty());
        // `secret`: a value that must not appear in the message (None: the field has none).
        for s in [&v, &p, &fix] {
            assert!(
                secret.is_none_or(|x| !s.contains(x)),
                "{field}: secret shown in {s:?}"
            );
        }
    }
    // Unknown keys are refused (a typo cannot silently disable a channel).
    let e = toml::from_str::<RawAlerts>("[slack]\nwebhook = \"https://x\"\n").unwrap_err();
    assert!(e.to_string().contains("unknown field `webhook`"), "{e}");

    // Debug output of the raw and validated config shows no secret.
    let text = format!(
        "{}\n[heartbeat]\nurl = \"https://hc-ping.com/hb-secret-uuid\"\n",
        all_channels("http://127.0.0.1:1")
    );
    let raw: RawAlerts = toml::from_str(&text).unwrap();
    let cfg = raw.clone().validate().unwrap();
    for dbg in [format!("{raw:?}"), format!("{cfg:?}")] {
        for s in [
            TG_TOKEN,
            PD_KEY,
            HOOK_SECRET,
            "discord-secret",
            "slack-secret",
            "query-secret",
            "hb-secret-uuid",
        ] {
            assert!(!dbg.contains(s), "{s} in {dbg}");
        }
    }
    assert_eq!(cfg.channels.len(), 5);
    assert_eq!(
        cfg.resend_interval,
        radix_failover::alerts::DEFAULT_RESEND_INTERVAL
    );
    assert_eq!(cfg.watcher, WATCHER);
    assert_eq!(
        cfg.heartbeat.as_ref().map(|h| h.interval),
        Some(radix_failover::alerts::DEFAULT_HEARTBEAT_INTERVAL)
    );
    // Without `watcher`, alerts name the host.
    let cfg = config("[webhook]\nurl = \"https://example.com/h\"\n");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(cfg.watcher, host.trim());
    // @channel names are taken as names, numbers given as text as numbers.
    let cfg = config(&format!(
        "[telegram]\nbot_token = \"{TG_TOKEN}\"\nchat_id = \"@radix_ops\"\n"
    ));
    assert!(format!("{cfg:?}").contains("@radix_ops"));
}

#[test]
fn every_event_has_a_unique_name_and_recoveries_end_their_condition() {
    let s = |x: &str| x.to_string();
    let all = vec![
        AlertEvent::Started {
            version: s("0.1.0"),
            dry_run: true,
        },
        AlertEvent::PreflightFailed { detail: s("d") },
        AlertEvent::PreflightRecovered,
        AlertEvent::SourceDegraded {
            source: s("gateway a"),
            why: s("w"),
        },
        AlertEvent::SourceRecovered {
            source: s("gateway a"),
        },
        AlertEvent::MissesApproaching {
            missed: 2,
            threshold: 3,
        },
        AlertEvent::FailoverDecided { reason: s("r") },
        AlertEvent::FailoverBlocked {
            reason: s("r"),
            blocker: s("b"),
        },
        AlertEvent::Submitted {
            intent: s("txid_1"),
        },
        AlertEvent::Committed {
            intent: s("txid_1"),
            epoch: 9,
        },
        AlertEvent::CommitFailed { message: s("m") },
        AlertEvent::GaveUp { reason: s("r") },
        AlertEvent::BackupValidating {
            node: s("backup"),
            epoch: 10,
        },
        AlertEvent::BackupUnhealthy {
            node: s("backup"),
            why: s("w"),
        },
        AlertEvent::BackupRecovered,
        AlertEvent::Failback { detail: s("d") },
        AlertEvent::StateFileError {
            error: s("disk full"),
        },
        AlertEvent::StateFileRecovered,
        AlertEvent::PrimaryUnhealthy { why: s("w") },
        AlertEvent::PrimaryRecovered,
        AlertEvent::BackupNotReady { why: s("w") },
        AlertEvent::BackupReady,
        AlertEvent::Problem {
            key: s("no-quorum"),
            message: s("m"),
        },
        AlertEvent::ProblemCleared {
            key: s("no-quorum"),
        },
    ];
    let names: std::collections::BTreeSet<&str> = all.iter().map(|e| e.name()).collect();
    assert_eq!(names.len(), all.len(), "names are unique");
    let conditions: Vec<String> = all
        .iter()
        .filter(|e| !e.is_recovery())
        .map(|e| e.dedupe_key())
        .collect();
    for e in all.iter().filter(|e| e.is_recovery()) {
        assert!(
            conditions.contains(&e.dedupe_key()),
            "{} resolves nothing",
            e.name()
        );
        assert_eq!(e.severity(), radix_failover::alerts::Severity::Info);
    }
    for e in &all {
        let alert = radix_failover::alerts::Alert {
            event: e.clone(),
            at_ms: T0,
            validator: VALIDATOR.into(),
            network: NETWORK.into(),
            watcher: WATCHER.into(),
        };
        let text = e.chat_text(&alert);
        assert!(!e.message().is_empty() && text.contains(VALIDATOR) && text.contains(WATCHER));
    }
    // Through a real alerter: condition, recovery, and the recovery's second copy dropped.
    let a = Alerter::new(
        config("[webhook]\nurl = \"http://127.0.0.1:9/h\"\n"),
        VALIDATOR,
        NETWORK,
    );
    a.send(
        AlertEvent::StateFileError {
            error: s("disk full"),
        },
        T0,
    );
    a.send(AlertEvent::StateFileRecovered, T0 + 1);
    a.send(AlertEvent::StateFileRecovered, T0 + 2);
    assert_eq!((a.stats().accepted, a.stats().suppressed), (2, 1));
}

/// An alerter on `cfg` that was sent one GaveUp alert and has finished delivering it, retries
/// included (15 s: the three attempts' pauses and timeouts fit well within).
async fn gave_up_delivered(cfg: AlertsConfig) -> Alerter {
    let alerter = Alerter::new(cfg, VALIDATOR, NETWORK);
    let handle = alerter.start();
    alerter.send(
        AlertEvent::GaveUp {
            reason: "deadline".into(),
        },
        T0,
    );
    assert!(handle.flush(Duration::from_secs(15)).await);
    alerter
}

#[tokio::test]
async fn a_transient_failure_is_retried_until_delivered_honouring_retry_after() {
    // 429 (Retry-After: 2 s), then 503, then 200.
    let (base, seen) = receiver(Mode::Sequence(&[429, 503])).await;
    let alerter = gave_up_delivered(config(&format!(
        "[slack]\nwebhook_url = \"{base}/services/x\"\n"
    )))
    .await;
    let reqs = seen.lock().unwrap().clone();
    assert_eq!(reqs.len(), 3, "two failures, then delivered");
    assert!(
        reqs.iter().all(|r| r.body == reqs[0].body),
        "the same alert each time"
    );
    // After the 429 the server's 2 s beats the first fixed pause (1 s); after the 503 the
    // second fixed pause (3 s) applies.
    assert!(reqs[1].at - reqs[0].at >= Duration::from_secs(2));
    assert!(reqs[2].at - reqs[1].at >= Duration::from_secs(3));
    let s = alerter.stats();
    assert_eq!((s.delivered, s.failed), (1, 0), "{s:?}");
}

/// The whole path on a real radix-sim network: its APIs polled by the daemon's sources, the
/// real policy's assessment turned into alerts (`from_assessment`), delivered to a loopback
/// webhook. A failing pre-flight and its recovery, then the primary dying: the webhook gets
/// preflight_failed, preflight_recovered, source_degraded for the primary's Core API and
/// primary_unhealthy, in that order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_events_of_a_real_network_become_alerts() {
    use radix_failover::alerts::from_assessment;
    use radix_failover::policy::{Gates, Policy, PolicyKeys};
    use radix_failover::sources::Sources;
    use radix_sim::faults::FaultAction;

    let dir = tempfile::tempdir().unwrap();
    let network = SimNet::start(dir.path(), 11, |cfg| {
        // 200 ms rounds, 20 an epoch (as the daemon's end-to-end harness): the ledger moves
        // between polls, so sources stay fresh.
        cfg.round_length_ms = 200;
        cfg.rounds_per_epoch = 20;
    })
    .await;
    let daemon = network.daemon_config(dir.path());
    let clock = network.sim.start_clock();

    let sources = Sources::new(&daemon).unwrap();
    let hex = |k: &radix_common::crypto::Secp256k1PublicKey| hex::encode(k.0);
    let mut policy = Policy::new(
        daemon.policy.clone(),
        PolicyKeys {
            validator_address: daemon.validator_bech32(),
            primary_key_hex: daemon
                .primary_public_key
                .as_ref()
                .map(hex)
                .unwrap_or_default(),
            backup_key_hex: hex(&daemon.backup_public_key),
        },
    );
    let (base, seen) = receiver(Mode::Answer(200)).await;
    let alerter = Alerter::new(
        config(&format!("[webhook]\nurl = \"{base}/hook\"\n")),
        &daemon.validator_bech32(),
        "simulator",
    );
    let handle = alerter.start();
    let failing = Gates {
        preflight_ok: false,
        preflight_problem: Some("preview: fee lock failed".into()),
        switch_limit: None,
    };
    // One poll of the daemon's loop as far as alerts go: observe, assess, alert.
    async fn poll(sources: &Sources, policy: &mut Policy, alerter: &Alerter, gates: Gates) {
        let obs = sources.poll().await;
        let a = policy.observe(&obs, &gates);
        for e in from_assessment(&a) {
            alerter.send(e, obs.at_ms);
        }
        // A couple of the sim's 200 ms rounds between polls.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    poll(&sources, &mut policy, &alerter, failing).await;
    poll(&sources, &mut policy, &alerter, Gates::ok()).await;
    network
        .fault(FaultAction::NodeDown {
            node: "primary".into(),
        })
        .await;
    // The early signal needs `primary_down_polls` polls in a row; a few more for margin.
    for _ in 0..daemon.policy.primary_down_polls + 3 {
        poll(&sources, &mut policy, &alerter, Gates::ok()).await;
    }
    assert!(handle.flush(Duration::from_secs(10)).await);
    clock.stop();
    network.net.shutdown().await;

    let got: Vec<(String, Value)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.body["event"].as_str().unwrap().to_string(),
                r.body["details"].clone(),
            )
        })
        .collect();
    println!("{got:#?}");
    let pos = |event: &str, pred: &dyn Fn(&Value) -> bool| {
        got.iter()
            .position(|(e, d)| e == event && pred(d))
            .unwrap_or_else(|| panic!("no {event} in {got:#?}"))
    };
    let failed = pos("preflight_failed", &|d| {
        d["detail"].as_str().unwrap().contains("fee lock failed")
    });
    let recovered = pos("preflight_recovered", &|_| true);
    // Its death (a lag on a loaded machine could degrade it briefly before).
    let degraded = pos("source_degraded", &|d| {
        d["source"] == "core primary" && d["why"].as_str().unwrap_or("").contains("unreachable")
    });
    let unhealthy = pos("primary_unhealthy", &|_| true);
    // The reasons come without the policy's lead-ins (the alert text adds its own).
    let text = |i: usize, k: &str| got[i].1[k].as_str().unwrap().to_string();
    assert!(
        text(failed, "detail").starts_with("preview: fee lock failed"),
        "{got:#?}"
    );
    assert!(
        text(degraded, "why").starts_with("failing: unreachable"),
        "{got:#?}"
    );
    assert!(
        text(unhealthy, "why").starts_with("System API unreachable"),
        "{got:#?}"
    );
    assert!(
        failed < recovered && recovered < degraded && degraded < unhealthy,
        "{got:#?}"
    );
    // Conditions that held for several polls were alerted once (the policy reports changes,
    // dedupe drops repeats). Other sources may flap on a loaded machine: not checked.
    for once in [
        "preflight_failed",
        "preflight_recovered",
        "primary_unhealthy",
    ] {
        assert_eq!(
            got.iter().filter(|(e, _)| e == once).count(),
            1,
            "{once}: {got:#?}"
        );
    }
}

#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Failed deliveries are logged at warn, naming the channel and the HTTP status, and never
/// the token: not from the URL (reqwest's errors print it), nor from an error body that
/// echoes it back.
#[tokio::test]
async fn delivery_failures_are_logged_without_secrets() {
    let logs = LogBuf::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    // This test's runtime has one thread: the delivery tasks log through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let (echo, seen) = receiver(Mode::EchoPath401).await;
    // A port nothing listens on: connection refused, an error that names the URL in reqwest.
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = config(&format!(
        "[telegram]\nbot_token = \"{TG_TOKEN}\"\nchat_id = 1\napi_url = \"{echo}/tg\"\n\
         [discord]\nwebhook_url = \"http://{refused}/api/webhooks/9/discord-secret\"\n"
    ));
    cfg.attempt_timeout = Duration::from_secs(2);
    let alerter = gave_up_delivered(cfg).await;
    assert_eq!(seen.lock().unwrap().len(), 1, "a 401 is not retried");
    assert_eq!(alerter.stats().failed, 2);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    println!("{text}");
    let warns: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
    assert!(
        warns
            .iter()
            .any(|l| l.contains("telegram") && l.contains("401")),
        "{text}"
    );
    assert!(
        warns.iter().any(|l| l.contains("discord")
            && l.contains("after 3 attempts")
            && l.to_lowercase().contains("refused")),
        "the cause is named: {text}"
    );
    for secret in [TG_TOKEN, "discord-secret", "123456789:"] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}

/// A channel that answers an error with an endless body (a broken proxy, a hostile endpoint at
/// the configured URL): the daemon reads at most `MAX_ERROR_BODY_BYTES` of it, reports the
/// failure at once with a short excerpt, and does not wait for (or buffer) the rest.
#[tokio::test]
async fn a_huge_error_body_is_read_with_a_bound() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let logs = LogBuf::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // 400 (not retried) and 64 KiB chunks of 'x' for ever.
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let app = axum::Router::new().fallback(move || {
        let count = count.clone();
        async move {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let endless = futures_util::stream::repeat_with(move || {
                count.fetch_add(chunk.len(), Ordering::Relaxed);
                Ok::<_, std::io::Error>(chunk.clone())
            });
            (
                StatusCode::BAD_REQUEST,
                axum::body::Body::from_stream(endless),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let mut cfg = config(&format!(
        "[slack]\nwebhook_url = \"http://{addr}/services/T0/B0/slack-secret\"\n"
    ));
    // Long enough that reading the whole body until the timeout would show.
    cfg.attempt_timeout = Duration::from_secs(20);
    let alerter = Alerter::new(cfg, VALIDATOR, NETWORK);
    let handle = alerter.start();
    let t = Instant::now();
    alerter.send(
        AlertEvent::FailoverDecided {
            reason: "8 of 10 missed".into(),
        },
        T0,
    );
    assert!(
        handle.flush(Duration::from_secs(15)).await,
        "the failure is reported without reading the endless body"
    );
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(alerter.stats().failed, 1);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("WARN") && l.contains("slack") && l.contains("400"))
        .unwrap_or_else(|| panic!("no warning for the 400: {text}"));
    assert!(line.contains("xxxx"), "an excerpt of the body: {line}");
    assert!(line.len() < 1_000, "a bounded line: {} chars", line.len());
    // What the server pushed before the client hung up: socket buffers, not the stream.
    let pushed = served.load(Ordering::Relaxed);
    println!("served {pushed} bytes in {took:?}");
    assert!(pushed < 64 * 1024 * 1024, "{pushed} bytes pushed");
}

/// Issue 11 item 13 over real HTTP: a warning is being retried against a channel that fails it
/// (500, pauses of 1 s and 3 s) when the daemon decides to fail over. The decision and the
/// submit go out during the warning's first retry pause, not after its retries.
#[tokio::test]
async fn failover_events_go_out_during_a_warnings_retry_pauses() {
    let (base, seen) = receiver(Mode::FailEvent("source_degraded")).await;
    let mut cfg = config(&format!("[webhook]\nurl = \"{base}/hook\"\n"));
    cfg.attempt_timeout = Duration::from_secs(2);
    let alerter = Alerter::new(cfg, VALIDATOR, NETWORK);
    let handle = alerter.start();
    alerter.send(
        AlertEvent::SourceDegraded {
            source: "gateway a".into(),
            why: "timed out".into(),
        },
        T0,
    );
    assert_eq!(
        wait_for(&seen, 1).await.len(),
        1,
        "the warning's first attempt"
    );
    let t = Instant::now();
    alerter.send(
        AlertEvent::FailoverDecided {
            reason: "8 of 10 missed".into(),
        },
        T0 + 1,
    );
    alerter.send(
        AlertEvent::Submitted {
            intent: "txid_1".into(),
        },
        T0 + 2,
    );
    let got = wait_for(&seen, 3).await;
    let events: Vec<&str> = got
        .iter()
        .map(|r| r.body["event"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        events[..3],
        ["source_degraded", "failover_decided", "submitted"],
        "{events:?}"
    );
    // Well before the warning's first retry (1 s later), let alone its last (4 s).
    assert!(
        got[2].at.duration_since(t) < Duration::from_millis(900),
        "took {:?}",
        got[2].at.duration_since(t)
    );
    assert!(handle.flush(Duration::from_secs(15)).await);
    let events: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.body["event"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        events.iter().filter(|e| *e == "source_degraded").count(),
        3,
        "the warning still gets its three attempts: {events:?}"
    );
    let s = alerter.stats();
    assert_eq!((s.delivered, s.failed), (2, 1), "{s:?}");
}

/// Dedupe survives a restart: a second alerter on the same dedupe file (the daemon started
/// again, as in a crash loop) does not resend "started" or a condition that still holds
/// within the resend interval, and still delivers the recovery of a condition the first one
/// alerted (PagerDuty resolves the incident).
#[tokio::test]
async fn dedupe_survives_a_restart_through_the_dedupe_file() {
    let (base, seen) = receiver(Mode::Answer(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = radix_failover::alerts::dedupe_file_beside(&dir.path().join("state.json"));
    let cfg = || config(&format!("[webhook]\nurl = \"{base}/hook\"\n"));
    let started = || AlertEvent::Started {
        version: "0.1.0".into(),
        dry_run: false,
    };
    let degraded = AlertEvent::SourceDegraded {
        source: "gateway a".into(),
        why: "timed out".into(),
    };
    let sec = 1000;
    {
        let a = Alerter::new(cfg(), VALIDATOR, NETWORK).with_dedupe_file(file.clone());
        let h = a.start();
        a.send(started(), T0);
        a.send(degraded.clone(), T0 + sec);
        assert!(h.flush(Duration::from_secs(10)).await);
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Restarted 5 s later, and again 10 s later.
    for restart in [5, 10] {
        let a = Alerter::new(cfg(), VALIDATOR, NETWORK).with_dedupe_file(file.clone());
        let h = a.start();
        a.send(started(), T0 + restart * sec);
        a.send(degraded.clone(), T0 + (restart + 1) * sec);
        assert!(h.flush(Duration::from_secs(10)).await);
        assert_eq!(a.stats().suppressed, 2, "restart after {restart} s");
    }
    let a = Alerter::new(cfg(), VALIDATOR, NETWORK).with_dedupe_file(file.clone());
    let h = a.start();
    a.send(
        AlertEvent::SourceRecovered {
            source: "gateway a".into(),
        },
        T0 + 20 * sec,
    );
    // Past the resend interval (1 h), "started" goes out again: a daemon restarted after
    // hours says so.
    a.send(started(), T0 + 3_700 * sec);
    assert!(h.flush(Duration::from_secs(10)).await);
    let events: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.body["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        events,
        ["started", "source_degraded", "source_recovered", "started"]
    );
    // Without the file (a daemon that never wrote one) every start is news.
    let a = Alerter::new(cfg(), VALIDATOR, NETWORK)
        .with_dedupe_file(dir.path().join("other.alerts.json"));
    let h = a.start();
    a.send(started(), T0);
    assert!(h.flush(Duration::from_secs(10)).await);
    assert_eq!(a.stats().accepted, 1);
}

/// The heartbeat GETs its URL when due: at once on the first healthy poll, then once per
/// interval; never from a poll in which no trusted source answered; a failing check is
/// counted, and the loop never waits for it.
#[tokio::test]
async fn the_heartbeat_pings_once_per_interval_while_the_loop_is_healthy() {
    let (base, seen) = receiver(Mode::Answer(200)).await;
    let cfg = config(&format!(
        "[heartbeat]\nurl = \"{base}/ping/hb-uuid\"\ninterval = \"1s\"\n"
    ));
    assert!(
        cfg.channels.is_empty(),
        "a heartbeat alone is a valid section"
    );
    let mut hb = radix_failover::alerts::heartbeat::Heartbeat::new(cfg.heartbeat.unwrap()).unwrap();
    assert!(!hb.describe().contains("hb-uuid"), "{}", hb.describe());
    hb.beat(T0, 2); // due: the first healthy poll
    let got = wait_for(&seen, 1).await;
    assert_eq!(got[0].method, Method::GET);
    assert_eq!(got[0].path, "/ping/hb-uuid");
    hb.beat(T0 + 500, 2); // within the interval
    hb.beat(T0 + 1000, 0); // due, but blind: no trusted source answered
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.lock().unwrap().len(), 1);
    hb.beat(T0 + 1100, 1); // due and healthy
    let sent = hb.stats();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sent.sent.load(std::sync::atomic::Ordering::Relaxed) < 2 {
        assert!(Instant::now() < deadline, "the second ping was not sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen.lock().unwrap().len(), 2, "one ping per due beat");

    let (bad, _) = receiver(Mode::Answer(500)).await;
    let cfg = config(&format!("[heartbeat]\nurl = \"{bad}/ping/x\"\n"));
    let mut hb = radix_failover::alerts::heartbeat::Heartbeat::new(cfg.heartbeat.unwrap()).unwrap();
    let stats = hb.stats();
    let t = Instant::now();
    hb.beat(T0, 1);
    assert!(t.elapsed() < Duration::from_millis(50), "beat never waits");
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.failed.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline, "the failed ping was not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
