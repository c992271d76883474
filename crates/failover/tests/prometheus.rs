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
