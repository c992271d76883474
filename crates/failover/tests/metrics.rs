//! Metrics: the exposition text parses back (names, labels, escaping, types) with the values
//! that were set; the server answers /metrics and /healthz over real HTTP on loopback; the
//! shipped alert rules and Grafana dashboard parse and only use metric names we export. (Real
//! Prometheus tools check the same files and a live scrape in tests/prometheus.rs.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use radix_failover::alerts::AlertStats;
use radix_failover::metrics::{
    health, health_max_age, FailoverTxStatus, Metrics, MetricsServer, RawMetrics, PHASES,
};
use radix_failover::observe::{
    LedgerReading, NodeConsensus, NodeHealth, NodeReading, Observation, SourceError, SourceKind,
    SourceObservation,
};
use radix_failover::state::{InFlight, Phase};

mod support;
use support::SimNet;

/// A parsed sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn is_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// A strict reader of the text format 0.0.4 (what Prometheus' parser accepts for these
/// lines): returns the samples and each family's TYPE; panics on anything malformed.
fn parse(text: &str) -> (Vec<Sample>, BTreeMap<String, String>) {
    let mut types = BTreeMap::new();
    let mut helps = BTreeSet::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "the last line ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has text");
            assert!(is_metric_name(name) && !help.is_empty(), "{line}");
            assert!(helps.insert(name.to_string()), "HELP twice for {name}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert!(is_metric_name(name), "{line}");
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            assert!(helps.contains(name), "TYPE before HELP for {name}");
            assert!(
                types.insert(name.to_string(), kind.to_string()).is_none(),
                "TYPE twice: {name}"
            );
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let name_end = line.find(['{', ' ']).expect("sample has a value");
        let name = &line[..name_end];
        assert!(is_metric_name(name), "{line}");
        assert!(types.contains_key(name), "sample before its TYPE: {line}");
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(r) = rest.strip_prefix('{') {
            let mut chars = r.char_indices().peekable();
            let end = loop {
                // label name
                let start = chars.peek().expect("label").0;
                let mut eq = None;
                for (i, c) in chars.by_ref() {
                    if c == '=' {
                        eq = Some(i);
                        break;
                    }
                }
                let eq = eq.expect("label has =");
                let lname = &r[start..eq];
                assert!(is_label_name(lname), "label {lname:?} in {line}");
                assert_eq!(chars.next().map(|x| x.1), Some('"'), "{line}");
                let mut value = String::new();
                loop {
                    match chars.next().expect("unterminated label value").1 {
                        '\\' => match chars.next().expect("escape").1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            other => panic!("bad escape \\{other} in {line}"),
                        },
                        '"' => break,
                        '\n' => panic!("raw newline in {line}"),
                        c => value.push(c),
                    }
                }
                assert!(labels.insert(lname.to_string(), value).is_none(), "{line}");
                match chars.next().expect("label list end").1 {
                    ',' => continue,
                    '}' => break chars.peek().map(|x| x.0),
                    other => panic!("unexpected {other:?} in {line}"),
                }
            };
            rest = &r[end.expect("value after labels")..];
        }
        let v = rest.strip_prefix(' ').expect("one space before the value");
        let value = match v {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("value {v:?} in {line}")),
        };
        samples.push((name.to_string(), labels, value));
    }
    (samples, types)
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let found: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| n == name && *l == want)
        .map(|s| s.2)
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} twice");
    found.first().copied()
}

fn reading(epoch: u64, ledger_time_ms: i64) -> LedgerReading {
    LedgerReading {
        epoch,
        round: 7,
        state_version: 100,
        ledger_time_ms,
        key_in_force: None,
        key_on_ledger: None,
        current_epoch: None,
        finished: None,
        others_current_epoch: None,
        settings: None,
    }
}

const NOW: i64 = 1_795_525_200_000;
/// A source name that needs every escape the format has.
const ODD: &str = "core \"odd\" \\ name\nline2";

fn observation(at_ms: i64) -> Observation {
    Observation {
        at_ms,
        ledger: vec![
            SourceObservation {
                name: "gateway 127.0.0.1:5308".into(),
                kind: SourceKind::Gateway,
                result: Ok(reading(42, at_ms - 2_500)),
            },
            SourceObservation {
                name: ODD.into(),
                kind: SourceKind::Core,
                result: Err(SourceError::Timeout(3000)),
            },
        ],
        primary: Some(SourceObservation {
            name: "system primary".into(),
            kind: SourceKind::System,
            result: Err(SourceError::Unreachable("connection refused".into())),
        }),
        backup: Some(SourceObservation {
            name: "system backup".into(),
            kind: SourceKind::System,
            result: Ok(NodeReading {
                health: NodeHealth::Up,
                detail: String::new(),
                recent_missed: 0,
                recent_tracked: 10,
                public_key_hex: "02".repeat(33),
                validator_address: None,
                consensus: NodeConsensus::NotValidatingInCurrentEpoch,
            }),
        }),
    }
}

fn inflight() -> InFlight {
    InFlight {
        intent_hash: "txid_x".into(),
        notarized_hex: String::new(),
        new_key_hex: String::new(),
        start_epoch: 42,
        end_epoch: 44,
        attempt: 1,
        decided_at_ms: NOW,
        reason: "r".into(),
        submitted: false,
        previous_intents: vec![],
        next_try_at_ms: NOW,
        last_status: Default::default(),
    }
}

#[test]
fn render_parses_back_with_the_values_set() {
    let m = Metrics::new();
    // Before anything is known: the families are there, unknown values are absent.
    let (s, types) = parse(&m.render());
    assert_eq!(value(&s, "radix_failover_polls_total", &[]), Some(0.0));
    assert_eq!(value(&s, "radix_failover_epoch", &[]), None);
    assert_eq!(value(&s, "radix_failover_preflight_ok", &[]), None);
    assert!(types.contains_key("radix_failover_epoch"));

    m.observe(&observation(NOW - 5_000));
    m.observe(&observation(NOW));
    m.set_epoch(Some(42), Some(3), Some(2));
    m.set_phase(&Phase::Committed {
        intent_hash: "txid_x".into(),
        commit_epoch: 42,
        committed_at_ms: NOW,
    });
    m.set_preflight(Some(false));
    m.record_decision("healthy", NOW - 60_000);
    m.record_decision("fail_over", NOW - 10_000);
    m.record_decision("fail_over", NOW); // unchanged: the time stays at the change
    m.set_alert_stats(AlertStats {
        delivered: 7,
        failed: 1,
        dropped: 2,
        ..Default::default()
    });
    let text = m.render();
    println!("{text}");
    let (s, types) = parse(&text);

    // Conventions: prefix, counters end in _total and only they do.
    for (name, kind) in &types {
        assert!(name.starts_with("radix_failover_"), "{name}");
        assert_eq!(
            kind == "counter",
            name.ends_with("_total"),
            "{name} is a {kind}"
        );
    }
    let gw = [("source", "gateway 127.0.0.1:5308"), ("kind", "gateway")];
    let odd = [("source", ODD), ("kind", "core")];
    assert_eq!(value(&s, "radix_failover_source_up", &gw), Some(1.0));
    assert_eq!(
        value(&s, "radix_failover_source_lag_seconds", &gw),
        Some(2.5)
    );
    assert_eq!(
        value(&s, "radix_failover_source_errors_total", &gw),
        Some(0.0)
    );
    // The escaped name comes back intact; a down source has no lag, and its errors count up.
    assert_eq!(value(&s, "radix_failover_source_up", &odd), Some(0.0));
    assert_eq!(value(&s, "radix_failover_source_lag_seconds", &odd), None);
    assert_eq!(
        value(&s, "radix_failover_source_errors_total", &odd),
        Some(2.0)
    );
    let primary = [("source", "system primary"), ("kind", "system")];
    let backup = [("source", "system backup"), ("kind", "system")];
    assert_eq!(value(&s, "radix_failover_source_up", &primary), Some(0.0));
    assert_eq!(value(&s, "radix_failover_source_up", &backup), Some(1.0));
    assert_eq!(value(&s, "radix_failover_epoch", &[]), Some(42.0));
    assert_eq!(
        value(&s, "radix_failover_epoch_proposals_made", &[]),
        Some(3.0)
    );
    assert_eq!(
        value(&s, "radix_failover_epoch_proposals_missed", &[]),
        Some(2.0)
    );
    for p in PHASES {
        let want = if p == "committed" { 1.0 } else { 0.0 };
        assert_eq!(
            value(&s, "radix_failover_phase", &[("phase", p)]),
            Some(want),
            "{p}"
        );
    }
    for st in FailoverTxStatus::ALL {
        let want = if st == FailoverTxStatus::Committed {
            1.0
        } else {
            0.0
        };
        assert_eq!(
            value(
                &s,
                "radix_failover_failover_tx_status",
                &[("status", st.as_str())]
            ),
            Some(want)
        );
    }
    assert_eq!(value(&s, "radix_failover_preflight_ok", &[]), Some(0.0));
    assert_eq!(
        value(&s, "radix_failover_last_decision_timestamp_seconds", &[]),
        Some((NOW - 10_000) as f64 / 1000.0)
    );
    assert_eq!(
        value(&s, "radix_failover_decision", &[("decision", "fail_over")]),
        Some(1.0)
    );
    assert_eq!(value(&s, "radix_failover_polls_total", &[]), Some(2.0));
    assert_eq!(
        value(&s, "radix_failover_last_poll_timestamp_seconds", &[]),
        Some(NOW as f64 / 1000.0)
    );
    assert_eq!(
        value(
            &s,
            "radix_failover_alert_deliveries_total",
            &[("result", "dropped")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &s,
            "radix_failover_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
}

#[test]
fn every_phase_is_exported_and_maps_to_a_tx_status() {
    let phases = [
        (Phase::Watching, FailoverTxStatus::None),
        (Phase::FailingOver(inflight()), FailoverTxStatus::InFlight),
        (
            Phase::Committed {
                intent_hash: "t".into(),
                commit_epoch: 1,
                committed_at_ms: 0,
            },
            FailoverTxStatus::Committed,
        ),
        (
            Phase::FailedOver {
                intent_hash: Some("t".into()),
                since_epoch: 2,
            },
            FailoverTxStatus::Committed,
        ),
        (
            Phase::FailedOver {
                intent_hash: None,
                since_epoch: 2,
            },
            FailoverTxStatus::None,
        ),
        (
            Phase::Halted {
                reason: "x".into(),
                intent_hash: None,
            },
            FailoverTxStatus::Failed,
        ),
        (Phase::FailingBack(inflight()), FailoverTxStatus::InFlight),
    ];
    let mut names = BTreeSet::new();
    for (p, st) in phases {
        assert!(PHASES.contains(&p.name()), "{} not in PHASES", p.name());
        names.insert(p.name());
        assert_eq!(FailoverTxStatus::of_phase(&p), st, "{}", p.name());
        let m = Metrics::new();
        m.set_phase(&p);
        let (s, _) = parse(&m.render());
        let ones: Vec<&BTreeMap<String, String>> = s
            .iter()
            .filter(|(n, _, v)| n == "radix_failover_phase" && *v == 1.0)
            .map(|x| &x.1)
            .collect();
        assert_eq!(ones.len(), 1);
        assert_eq!(ones[0]["phase"], p.name());
    }
    assert_eq!(names.len(), PHASES.len(), "PHASES lists exactly the phases");
}

#[test]
fn metrics_listen_is_loopback_by_default_and_validated() {
    let parse_raw = |t: &str| toml::from_str::<RawMetrics>(t).unwrap().validate();
    assert_eq!(
        parse_raw("").unwrap(),
        Some("127.0.0.1:9464".parse().unwrap())
    );
    assert_eq!(parse_raw("listen = \"off\"").unwrap(), None);
    assert_eq!(parse_raw("listen = \"\"").unwrap(), None);
    assert_eq!(
        parse_raw("listen = \"0.0.0.0:9100\"").unwrap(),
        Some("0.0.0.0:9100".parse().unwrap())
    );
    assert_eq!(
        parse_raw("listen = \"[::1]:9464\"").unwrap(),
        Some("[::1]:9464".parse().unwrap())
    );
    let (field, value, problem, fix) = parse_raw("listen = \"localhost:9464\"").unwrap_err();
    assert_eq!(
        (field, value.as_str()),
        ("metrics.listen", "localhost:9464")
    );
    assert!(
        problem.contains("host names") && fix.contains("127.0.0.1:9464"),
        "{problem} {fix}"
    );
    assert!(
        toml::from_str::<RawMetrics>("port = 1").is_err(),
        "unknown keys are refused"
    );
}

#[test]
fn health_turns_503_when_the_last_poll_is_too_old() {
    let max = Duration::from_secs(45);
    assert!(!health(None, NOW, max).0);
    assert!(health(Some(NOW - 44_000), NOW, max).0);
    let (ok, why) = health(Some(NOW - 46_000), NOW, max);
    assert!(!ok && why.contains("46.0 s"), "{why}");
    // Defaults: 5 s polls, 3 s requests -> 45 s.
    assert_eq!(
        health_max_age(Duration::from_secs(5), Duration::from_secs(3)),
        max
    );
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn serves_metrics_and_healthz_over_http() {
    let m = Metrics::new();
    let server = MetricsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        m.clone(),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("http://{addr}{path}")).send();

    // No poll yet: unhealthy.
    let r = get("/healthz").await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("no poll"));

    m.record_poll(unix_ms());
    m.set_epoch(Some(9), Some(1), Some(0));
    let r = get("/healthz").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap().trim(), "ok");

    let r = get("/metrics").await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        ct.starts_with("text/plain") && ct.contains("version=0.0.4"),
        "{ct}"
    );
    let body = r.text().await.unwrap();
    let (s, _) = parse(&body);
    assert_eq!(value(&s, "radix_failover_epoch", &[]), Some(9.0));
    assert_eq!(value(&s, "radix_failover_polls_total", &[]), Some(1.0));

    // Prometheus asks for OpenMetrics first (its 2.x Accept header, verbatim): it gets what
    // prometheus-client encodes, the same samples with OpenMetrics' metadata and terminator.
    let r = http
        .get(format!("http://{addr}/metrics"))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        )
        .send()
        .await
        .unwrap();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        ct.starts_with("application/openmetrics-text") && ct.contains("version=1.0.0"),
        "{ct}"
    );
    let om = r.text().await.unwrap();
    assert!(om.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    assert!(om.contains("# TYPE radix_failover_polls counter\n"), "{om}");
    assert!(
        om.contains("# UNIT radix_failover_last_poll_timestamp_seconds seconds\n"),
        "{om}"
    );
    let samples = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        samples(&om),
        samples(&body),
        "the same samples in both formats"
    );
    // Refusing OpenMetrics (q=0) gets the text format.
    let r = http
        .get(format!("http://{addr}/metrics"))
        .header("accept", "application/openmetrics-text;q=0, text/plain")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("version=0.0.4"));

    // A stale poll: the loop is stuck.
    m.record_poll(unix_ms() - 31_000);
    let r = get("/healthz").await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("stuck"));

    // HEAD answers without a body, and the kept-alive connection still works after it.
    let r = http
        .head(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().is_empty());
    assert_eq!(get("/healthz").await.unwrap().status(), 503);

    assert_eq!(get("/nope").await.unwrap().status(), 404);
    let r = http
        .post(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");

    // Shutdown ends the server, and the port stops answering.
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let fresh = reqwest::Client::new();
    assert!(fresh
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .is_err());
    // A taken port is reported at bind time.
    let busy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let e = MetricsServer::bind(
        busy.local_addr().unwrap(),
        Metrics::new(),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(
        e.err().map(|e| e.kind()),
        Some(std::io::ErrorKind::AddrInUse)
    );
}

fn docs(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(name)
}

/// Every `radix_failover_*` identifier in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("radix_failover_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

fn exported() -> BTreeSet<String> {
    let (_, types) = parse(&Metrics::new().render());
    types.into_keys().collect()
}

fn collect_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == "expr" || k == "query" {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                }
                collect_exprs(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_exprs(x, out)),
        _ => {}
    }
}

#[test]
fn alert_rules_parse_and_use_only_exported_metrics() {
    let text = std::fs::read_to_string(docs("prometheus-alerts.yml")).unwrap();
    let y: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let exported = exported();
    let mut alerts = BTreeSet::new();
    let groups = y["groups"].as_sequence().expect("groups");
    assert!(!groups.is_empty());
    for g in groups {
        assert!(g["name"].as_str().is_some());
        for r in g["rules"].as_sequence().expect("rules") {
            let name = r["alert"]
                .as_str()
                .expect("every rule is an alert")
                .to_string();
            let expr = r["expr"].as_str().expect("expr");
            assert!(
                ["critical", "warning", "info"]
                    .contains(&r["labels"]["severity"].as_str().unwrap_or("")),
                "{name}"
            );
            assert!(r["annotations"]["summary"].as_str().is_some(), "{name}");
            let used = metric_names(expr);
            for m in &used {
                assert!(
                    exported.contains(m),
                    "{name} uses {m}, which is not exported"
                );
            }
            // The daemon-down rule uses Prometheus' own `up`/absent(); the others our metrics.
            assert!(!used.is_empty() || expr.contains("up{"), "{name}: {expr}");
            alerts.insert(name);
        }
    }
    for needed in [
        "RadixFailoverDown",
        "RadixFailoverUnhealthy",
        "RadixFailoverSourceDown",
        "RadixFailoverPreflightFailing",
        "RadixFailoverMissedProposals",
        "RadixFailoverFailoverFailed",
    ] {
        assert!(alerts.contains(needed), "{needed} missing: {alerts:?}");
    }
}

/// `docs/prometheus-alerts.test.yml` (run by `promtool test rules` in tests/prometheus.rs) has,
/// for every alert in the rules file, a case where it fires and one where it does not.
#[test]
fn alert_unit_tests_cover_every_alert_firing_and_not() {
    let read = |name: &str| -> serde_yaml_ng::Value {
        serde_yaml_ng::from_str(&std::fs::read_to_string(docs(name)).unwrap()).unwrap()
    };
    let rules = read("prometheus-alerts.yml");
    let tests = read("prometheus-alerts.test.yml");
    assert_eq!(
        tests["rule_files"][0].as_str(),
        Some("prometheus-alerts.yml")
    );
    let mut fires = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for t in tests["tests"].as_sequence().expect("tests") {
        for case in t["alert_rule_test"].as_sequence().expect("alert_rule_test") {
            let name = case["alertname"].as_str().expect("alertname").to_string();
            let firing = case["exp_alerts"]
                .as_sequence()
                .is_some_and(|a| !a.is_empty());
            if firing {
                fires.insert(name);
            } else {
                quiet.insert(name);
            }
        }
    }
    let mut alerts = BTreeSet::new();
    for g in rules["groups"].as_sequence().expect("groups") {
        for r in g["rules"].as_sequence().expect("rules") {
            alerts.insert(r["alert"].as_str().expect("alert").to_string());
        }
    }
    assert!(alerts.len() >= 10, "{alerts:?}");
    for a in &alerts {
        assert!(fires.contains(a), "no unit test where {a} fires");
        assert!(quiet.contains(a), "no unit test where {a} stays quiet");
    }
    for t in fires.union(&quiet) {
        assert!(
            alerts.contains(t),
            "a unit test names {t}, which is no alert"
        );
    }
}

#[test]
fn grafana_dashboard_parses_and_uses_only_exported_metrics() {
    let text = std::fs::read_to_string(docs("grafana-dashboard.json")).unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(d["title"].as_str().is_some());
    let panels = d["panels"].as_array().expect("panels");
    assert!(panels.len() >= 6, "{} panels", panels.len());
    let mut exprs = Vec::new();
    collect_exprs(&d, &mut exprs);
    let exported = exported();
    let mut used = BTreeSet::new();
    for e in &exprs {
        for m in metric_names(e) {
            assert!(
                exported.contains(&m),
                "dashboard uses {m}, which is not exported ({e})"
            );
            used.insert(m);
        }
    }
    // Every exported family (but build info) is on the dashboard.
    for m in &exported {
        assert!(
            m == "radix_failover_build_info" || used.contains(m),
            "{m} not on the dashboard"
        );
    }
}

/// A real poll of a radix-sim network (real engine, real HTTP) through the daemon's sources,
/// scraped over HTTP: every configured source is up with the lag the engine's round timestamp
/// gives; with the primary down its Core and System APIs go down and count an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_of_real_polls_against_radix_sim() {
    use radix_failover::sources::Sources;
    use radix_sim::faults::FaultAction;

    let dir = tempfile::tempdir().unwrap();
    // Short epochs: genesis and a few rounds stay quick.
    let network = SimNet::start(dir.path(), 5, |cfg| cfg.rounds_per_epoch = 10).await;
    let config = network.daemon_config(dir.path());
    network.step(3).await;

    let metrics = Metrics::new();
    let server = MetricsServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        metrics.clone(),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    let scrape = || async {
        let text = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        parse(&text).0
    };

    let sources = Sources::new(&config).unwrap();
    let obs = sources.poll().await;
    metrics.observe(&obs);
    let engine_ts = network.sim.snapshot().position.proposer_round_timestamp_ms;
    let s = scrape().await;
    assert!(!config.sources.is_empty());
    for src in &config.sources {
        let l = [("source", src.name.as_str()), ("kind", src.kind.as_str())];
        assert_eq!(
            value(&s, "radix_failover_source_up", &l),
            Some(1.0),
            "{}",
            src.name
        );
        assert_eq!(
            value(&s, "radix_failover_source_lag_seconds", &l),
            Some((obs.at_ms - engine_ts) as f64 / 1000.0),
            "{}",
            src.name
        );
        assert_eq!(
            value(&s, "radix_failover_source_errors_total", &l),
            Some(0.0)
        );
    }
    let system = |s: &[Sample], who: &str| {
        s.iter()
            .find(|(n, l, _)| {
                n == "radix_failover_source_up"
                    && l["kind"] == "system"
                    && l["source"].contains(who)
            })
            .map(|x| x.2)
    };
    assert_eq!(system(&s, "primary"), Some(1.0));
    assert_eq!(system(&s, "backup"), Some(1.0));

    // The primary node dies: its ports close.
    network
        .fault(FaultAction::NodeDown {
            node: "primary".into(),
        })
        .await;
    let obs = sources.poll().await;
    metrics.observe(&obs);
    let s = scrape().await;
    let core_primary = [("source", "core primary"), ("kind", "core")];
    assert_eq!(
        value(&s, "radix_failover_source_up", &core_primary),
        Some(0.0)
    );
    assert_eq!(
        value(&s, "radix_failover_source_errors_total", &core_primary),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "radix_failover_source_lag_seconds", &core_primary),
        None
    );
    assert_eq!(system(&s, "primary"), Some(0.0));
    assert_eq!(system(&s, "backup"), Some(1.0));
    assert_eq!(value(&s, "radix_failover_polls_total", &[]), Some(2.0));
    network.net.shutdown().await;
}

/// Issue 11 item 10, the server alone: while a real listener holds the port, the server
/// alerts `metrics-unavailable` (once: dedupe) naming the address and the fix, and keeps
/// trying; once the port is free it serves /metrics there and the alert resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_retried_alerted_and_served_once_free() {
    use radix_failover::alerts::{Alerter, RawAlerts};
    use radix_failover::metrics::{serve_retrying, METRICS_UNAVAILABLE_KEY};
    use std::sync::{Arc, Mutex};

    // A loopback webhook that records the alerts' bodies.
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let rec = seen.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let rec = rec.clone();
        async move {
            if let Ok(v) = serde_json::from_slice(&body) {
                rec.lock().unwrap().push(v);
            }
            "ok"
        }
    });
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = hook.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(hook, app).await;
    });
    let raw: RawAlerts = toml::from_str(&format!(
        "webhook = {{ url = \"http://{hook_addr}/hook\" }}"
    ))
    .unwrap();
    let alerter = Alerter::new(raw.validate().unwrap(), "validator_x", "simulator");
    let _delivery = alerter.start();

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_retrying(
        addr,
        Metrics::new(),
        Duration::from_secs(30),
        Duration::from_millis(100),
        alerter.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    let events = |name: &str| -> Vec<serde_json::Value> {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|b| b["event"] == name && b["details"]["key"] == METRICS_UNAVAILABLE_KEY)
            .cloned()
            .collect()
    };
    let wait = |name: &'static str| {
        let events = &events;
        async move {
            for _ in 0..200 {
                if !events(name).is_empty() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            panic!("no {name} alert for {METRICS_UNAVAILABLE_KEY}");
        }
    };
    wait("problem").await;
    let problem = events("problem").remove(0);
    let msg = problem["message"].as_str().unwrap();
    assert!(
        msg.contains(&addr.to_string()) && msg.contains("in use") && msg.contains("Fix:"),
        "{msg}"
    );
    // Several retries (100 ms apart) while the port stays taken: still one alert, still bound
    // by the other listener.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(events("problem").len(), 1, "deduped while it lasts");
    assert!(
        !server.is_finished(),
        "the server keeps trying, it does not give up"
    );

    drop(taken);
    wait("problem_cleared").await;
    let r = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("radix_failover_build_info"));
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("stops on shutdown")
        .unwrap();
}
