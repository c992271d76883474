//! The observability files against Prometheus' own tools (Debian's `prometheus` package):
//! `promtool` checks the alert rules, runs their unit tests and lints a live scrape of the
//! daemon watching radix-sim.
//!
//! On CI (`CI=true`) a missing tool fails the test: `.ci/run` installs the package. Elsewhere
//! the tests say how to run them and pass without checking anything.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Daemon, Harness};

const LONG: Duration = Duration::from_secs(60);

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `name` on the PATH; on CI its absence is a failure, elsewhere a skip with the way to run it.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let how = "install Debian's prometheus package (`apt-get install -y prometheus`), or run \
                   `bash .ci/run`, which installs it";
        assert!(
            !on_ci(),
            "{name} is not installed and CI must run this test: {how}"
        );
        eprintln!("SKIPPED: {name} not found; to run this test, {how}");
    }
    found
}

fn docs(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(name)
}

/// Runs `promtool args...` with `stdin`; returns (success, stdout + stderr).
fn promtool(bin: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(docs(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .expect("write promtool's stdin");
    drop(input);
    let out = child.wait_with_output().expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn promtool_checks_the_alert_rules() {
    let Some(bin) = tool("promtool") else { return };
    let (ok, out) = promtool(&bin, &["check", "rules", "prometheus-alerts.yml"], None);
    assert!(ok, "promtool check rules failed:\n{out}");
    assert!(out.contains("SUCCESS"), "{out}");
}

/// The unit tests of every alert, firing and not (their coverage is checked in
/// tests/metrics.rs without promtool).
#[test]
fn promtool_runs_the_alert_unit_tests() {
    let Some(bin) = tool("promtool") else { return };
    let (ok, out) = promtool(&bin, &["test", "rules", "prometheus-alerts.test.yml"], None);
    assert!(ok, "promtool test rules failed:\n{out}");
    assert!(out.contains("SUCCESS"), "{out}");
}

/// The URL the daemon logs for its metrics endpoint.
async fn metrics_url(d: &mut Daemon) -> String {
    let line = d.wait_line("metrics on http://", LONG).await;
    line.split("metrics on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("a URL in the metrics line")
        .to_string()
}

async fn scrape(url: &str) -> String {
    let r = reqwest::get(url).await.expect("metrics answer");
    assert_eq!(r.status(), 200);
    r.text().await.expect("metrics text")
}

/// `promtool check metrics` (Prometheus' own parser and linter: names, HELP, counter suffixes,
/// units) finds nothing to say about what the daemon serves while it watches radix-sim, with
/// every source up and with the primary down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_lints_a_live_scrape_of_the_daemon_watching_radix_sim() {
    let Some(bin) = tool("promtool") else { return };
    let h = Harness::start(51).await;
    let mut d = h.armed("daemon").await;
    let url = metrics_url(&mut d).await;
    let text = scrape(&url).await;
    assert!(text.contains("radix_failover_epoch "), "{text}");
    let (ok, out) = promtool(&bin, &["check", "metrics"], Some(&text));
    assert!(ok && out.trim().is_empty(), "promtool: {out}\n---\n{text}");

    h.fault(serde_json::json!({"action": "node_down", "node": "primary"}))
        .await;
    // The primary's own Core API (`[primary] core_api`) is the source named "core primary".
    let down = "radix_failover_source_up{source=\"core primary\",kind=\"core\"} 0\n";
    let deadline = std::time::Instant::now() + LONG;
    let text = loop {
        let text = scrape(&url).await;
        if text.contains(down) {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{down} never scraped; last:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (ok, out) = promtool(&bin, &["check", "metrics"], Some(&text));
    assert!(ok && out.trim().is_empty(), "promtool: {out}\n---\n{text}");
    h.stop(&mut d).await;
}

/// A real Prometheus server (Debian's binary) on a loopback port, with its own config and
/// storage in a temp dir, scraping one target and evaluating docs/prometheus-alerts.yml.
struct Prometheus {
    child: std::process::Child,
    url: String,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

/// Scrape and rule evaluation every 500 ms: fast enough to see a sim epoch (4 s) change phase,
/// slow enough for a loaded 2-core machine.
const SCRAPE: &str = "500ms";

impl Prometheus {
    async fn start(bin: &Path, target: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        // A free port: bind :0, read it, release it. Prometheus binds it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let rules = docs("prometheus-alerts.yml");
        let config = format!(
            "global:\n  scrape_interval: {SCRAPE}\n  scrape_timeout: 400ms\n  evaluation_interval: {SCRAPE}\n\
             rule_files:\n  - {rules:?}\n\
             scrape_configs:\n  - job_name: radix-failover\n    static_configs:\n      - targets: [{target:?}]\n",
            rules = rules.display().to_string(),
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        let mut p = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            dir,
        };
        let deadline = std::time::Instant::now() + LONG;
        loop {
            if let Ok(r) = p.http.get(format!("{}/-/ready", p.url)).send().await {
                if r.status().is_success() {
                    return p;
                }
            }
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!("prometheus exited ({status}):\n{}", p.log());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "prometheus not ready:\n{}",
                p.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET /api/v1/<path>`; returns `data`, failing on an API error.
    async fn api(&self, path: &str, params: &[(&str, String)]) -> serde_json::Value {
        let r: serde_json::Value = self
            .http
            .get(format!("{}/api/v1/{path}", self.url))
            .query(params)
            .send()
            .await
            .expect("prometheus answers")
            .json()
            .await
            .expect("prometheus JSON");
        assert_eq!(r["status"], "success", "{path} {params:?}: {r}");
        r["data"].clone()
    }

    /// An instant query: each series' labels and value.
    async fn query(&self, q: &str) -> Vec<(serde_json::Value, f64)> {
        let data = self.api("query", &[("query", q.to_string())]).await;
        data["result"]
            .as_array()
            .expect("a vector")
            .iter()
            .map(|s| {
                let v = s["value"][1].as_str().and_then(|v| v.parse().ok());
                (s["metric"].clone(), v.expect("a numeric value"))
            })
            .collect()
    }

    /// The one value of `q`, once it has exactly one series.
    async fn value(&self, q: &str) -> Option<f64> {
        let r = self.query(q).await;
        (r.len() == 1).then(|| r[0].1)
    }

    /// Waits until `q` has one series with value `want`.
    async fn wait_value(&self, q: &str, want: f64) {
        let deadline = std::time::Instant::now() + LONG;
        loop {
            let got = self.value(q).await;
            if got == Some(want) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{q} never became {want} (last {got:?}); prometheus log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The alerts in `state` ("firing", "pending") right now.
    async fn alerts(&self, state: &str) -> Vec<serde_json::Value> {
        let data = self.api("alerts", &[]).await;
        data["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter(|a| a["state"] == state)
            .cloned()
            .collect()
    }

    /// For `q` (a selector of 0/1 series with label `label`), the values of `label` whose
    /// series was 1, in time order with repeats merged, as Prometheus stored them from `start`.
    async fn sequence(&self, q: &str, label: &str, start: f64) -> Vec<String> {
        let now = unix_s();
        let data = self
            .api(
                "query_range",
                &[
                    ("query", format!("{q} == 1")),
                    ("start", format!("{start:.3}")),
                    ("end", format!("{now:.3}")),
                    ("step", "0.25".into()),
                ],
            )
            .await;
        let mut points: Vec<(f64, String)> = Vec::new();
        for s in data["result"].as_array().expect("a matrix") {
            let name = s["metric"][label].as_str().unwrap_or_default().to_string();
            for v in s["values"].as_array().expect("values") {
                points.push((v[0].as_f64().expect("a time"), name.clone()));
            }
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut seq: Vec<String> = Vec::new();
        for (_, name) in points {
            if seq.last() != Some(&name) {
                seq.push(name);
            }
        }
        seq
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unix_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// `seq` lists only names from `order`, in that order (each at most once), from its first
/// to its last element. Phases between two scrapes may be missed; none may come out of order.
fn assert_in_order(seq: &[String], order: &[&str], what: &str) {
    let idx: Vec<usize> = seq
        .iter()
        .map(|s| {
            order
                .iter()
                .position(|o| o == s)
                .unwrap_or_else(|| panic!("{what}: {s} is not in {order:?} ({seq:?})"))
        })
        .collect();
    assert!(
        idx.windows(2).all(|w| w[0] < w[1]),
        "{what} went out of order: {seq:?}"
    );
    assert_eq!(
        seq.first().map(String::as_str),
        order.first().copied(),
        "{what}: {seq:?}"
    );
    assert_eq!(
        seq.last().map(String::as_str),
        order.last().copied(),
        "{what}: {seq:?}"
    );
}

/// The whole monitoring path, with nothing of ours in the middle: a real Prometheus scrapes
/// the daemon while it watches radix-sim and evaluates the shipped alert rules. The primary
/// dies; through Prometheus' HTTP API the test sees the failover alert fire, the phase move
/// watching -> (failing_over -> committed ->) failed_over and the transaction status
/// none -> (in_flight ->) committed, as docs/config.md describes, and no failure alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_prometheus_sees_the_failover_alert_and_the_phase_move() {
    let Some(bin) = tool("prometheus") else {
        return;
    };
    let h = Harness::start(52).await;
    let mut d = h.armed("daemon").await;
    let url = metrics_url(&mut d).await;
    let target = url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_string();
    let start = unix_s();
    let prom = Prometheus::start(&bin, &target).await;

    prom.wait_value("up{job=\"radix-failover\"}", 1.0).await;
    prom.wait_value("radix_failover_phase{phase=\"watching\"}", 1.0)
        .await;
    prom.wait_value("radix_failover_failover_tx_status{status=\"none\"}", 1.0)
        .await;
    prom.wait_value("radix_failover_preflight_ok", 1.0).await;
    // Scraped with labels intact: every configured source is a series, all up.
    let up = prom.query("radix_failover_source_up").await;
    assert!(up.len() >= 5, "{up:?}");
    assert!(up.iter().all(|(_, v)| *v == 1.0), "{up:?}");
    // Prometheus negotiated OpenMetrics, prometheus-client's own encoding: only that format
    // carries units, and Prometheus keeps them in its metadata.
    let meta = prom
        .api(
            "metadata",
            &[(
                "metric",
                "radix_failover_last_poll_timestamp_seconds".to_string(),
            )],
        )
        .await;
    let meta = &meta["radix_failover_last_poll_timestamp_seconds"][0];
    assert_eq!(meta["unit"], "seconds", "{meta}");
    assert_eq!(meta["type"], "gauge", "{meta}");
    let failover_alerts = [
        "RadixFailoverFailoverInProgress",
        "RadixFailoverFailedOver",
        "RadixFailoverFailoverFailed",
    ];
    for a in prom.alerts("firing").await {
        let name = a["labels"]["alertname"].as_str().unwrap_or_default();
        assert!(
            !failover_alerts.contains(&name),
            "{name} before any fault: {a}"
        );
    }

    h.primary_dies_and_one_commits(&mut d).await;
    d.wait_line("FAILOVER COMPLETE", LONG).await;

    // The failover alert fires, from our metrics, with the labels the rule gives it.
    let deadline = std::time::Instant::now() + LONG;
    let alert = loop {
        let firing = prom.alerts("firing").await;
        if let Some(a) = firing
            .iter()
            .find(|a| a["labels"]["alertname"] == "RadixFailoverFailedOver")
        {
            break a.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "RadixFailoverFailedOver never fired; firing: {firing:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(alert["labels"]["job"], "radix-failover", "{alert}");
    assert_eq!(alert["labels"]["instance"], target.as_str(), "{alert}");
    assert_eq!(alert["labels"]["phase"], "failed_over", "{alert}");
    assert_eq!(alert["labels"]["severity"], "warning", "{alert}");

    assert_eq!(
        prom.value("radix_failover_phase{phase=\"failed_over\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        prom.value("radix_failover_phase{phase=\"watching\"}").await,
        Some(0.0)
    );
    assert_eq!(
        prom.value("radix_failover_failover_tx_status{status=\"committed\"}")
            .await,
        Some(1.0)
    );
    // The primary's sources are down and counted as errors.
    assert_eq!(
        prom.value("radix_failover_source_up{source=\"core primary\"}")
            .await,
        Some(0.0)
    );
    let errors = prom
        .value("radix_failover_source_errors_total{source=\"core primary\"}")
        .await
        .expect("the error counter is scraped");
    assert!(errors >= 1.0, "{errors}");

    // What Prometheus stored over the test: the documented order, from start to end.
    // A range query ending now may not yet include the newest samples (it ended in
    // `committed` once on CI while an instant query already gave `failed_over`): ask again for
    // a few seconds until the stored run reaches its end; the order is checked on the result.
    let mut phases = prom.sequence("radix_failover_phase", "phase", start).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while phases.last().map(String::as_str) != Some("failed_over")
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        phases = prom.sequence("radix_failover_phase", "phase", start).await;
    }
    assert_in_order(
        &phases,
        &["watching", "failing_over", "committed", "failed_over"],
        "phase",
    );
    let tx = prom
        .sequence("radix_failover_failover_tx_status", "status", start)
        .await;
    assert_in_order(&tx, &["none", "in_flight", "committed"], "tx status");
    eprintln!("Prometheus saw phases {phases:?}, tx statuses {tx:?}");

    // Nothing failed: no failure alert fired in the whole run. (RadixFailoverDown is pending
    // for the instant before Prometheus' first scrape, when `up` is still absent; its
    // `for: 2m` is what keeps that from firing.)
    let failed = prom
        .api(
            "query_range",
            &[
                (
                    "query",
                    "ALERTS{alertstate=\"firing\",alertname=~\"RadixFailoverFailoverFailed|RadixFailoverDown|RadixFailoverUnhealthy\"}".into(),
                ),
                ("start", format!("{start:.3}")),
                ("end", format!("{:.3}", unix_s())),
                ("step", "0.25".into()),
            ],
        )
        .await;
    assert_eq!(failed["result"], serde_json::json!([]), "{failed}");
    h.stop(&mut d).await;
}
