//! Issue 10 on the real binaries: the daemon reaches every node the way a node set up by the
//! Radix node CLI is reached, through an HTTPS front at `/core` and `/system` with basic auth
//! (radix-sim's `--tls-front`: a self-signed CN=localhost certificate without SAN, user
//! `admin`), and fails over through it. A wrong pin or password names the source and its fix
//! and never causes a failover; no password or header value leaks anywhere.
//!
//! Timing as in fault_suite.rs: 4 s epochs of 20 rounds of 200 ms, a poll every 200 ms.

mod common;

use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use common::{scrape, Daemon, Harness, STEP};

/// Header values no output may show (an API key for a gateway, a token for a node's proxy).
const GATEWAY_KEY: &str = "gw-key-6f1d0c9a3b7e";
const NODE_TOKEN: &str = "node-token-1c5a8e2f94d7";

/// Through the fronts with pinned certificates, a secret header on the gateway and on the
/// primary: the dead primary is failed over (on the engine), and neither a front password nor
/// a header value appears in the daemon's log, its state files, `status`, the metrics or an
/// alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_through_pinned_fronts_and_no_secret_appears_anywhere() {
    let h = Harness::start(61).await.with_tls_fronts(false).await;
    let gw = h.info.gateway_url.clone();
    h.edit_config(|t| {
        let t = t.replace(
            &format!("gateways = [\"{gw}\"]"),
            &format!("gateways = [{{ url = \"{gw}\", headers = {{ \"X-Api-Key\" = \"{GATEWAY_KEY}\" }} }}]"),
        );
        assert!(t.contains(GATEWAY_KEY), "the gateway entry took the header");
        t.replacen(
            "[primary]\n",
            &format!("[primary]\nheaders = {{ \"X-Node-Token\" = \"{NODE_TOKEN}\" }}\n"),
            1,
        )
    });
    h.config_private();
    let text = std::fs::read_to_string(&h.config).expect("config");
    assert!(
        text.contains("/core\"") && text.contains("tls_pin_sha256") && text.contains("https://"),
        "the config goes through the fronts: {text}"
    );
    let hook = h.webhook().await;
    h.config_private();

    let (ok, check) = h.connect_check().await;
    assert!(ok, "every source connects through its front:\n{check}");
    assert!(check.contains("pinned certificate"), "{check}");

    let mut d = h.armed("daemon").await;
    let metrics = d.metrics_url().await;
    h.primary_dies_and_one_commits(&mut d).await;
    d.wait_line("FAILOVER COMPLETE", STEP).await;
    h.wait_key_change_epoch().await;
    let status = h.cli(&["status"]).await;
    let status_json = h.cli(&["status", "--json"]).await;
    let m = scrape(&metrics).await;
    hook.wait_event("committed", "", STEP).await;
    h.stop(&mut d).await;

    let mut secrets = h.front_passwords();
    assert_eq!(secrets.len(), h.info.nodes.len(), "one password per front");
    secrets.push(GATEWAY_KEY.into());
    secrets.push(NODE_TOKEN.into());
    let mut outputs: Vec<(String, String)> = vec![
        ("the daemon's log".into(), d.lines().join("\n")),
        ("status".into(), status),
        ("status --json".into(), status_json),
        ("metrics".into(), m),
        ("config check --connect".into(), check),
    ];
    for (p, text) in h.files_with(&[".json", ".log", ".txt"]) {
        outputs.push((p.display().to_string(), text));
    }
    for b in hook.bodies() {
        outputs.push(("an alert".into(), b.to_string()));
    }
    for (what, text) in &outputs {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "a secret in {what}:\n{text}");
        }
    }
    // The state file was among what was searched.
    assert!(outputs
        .iter()
        .any(|(w, _)| w.ends_with("radix-failover-state.json")));
}

/// With `--tls-front-san` certificates trusted through `tls_ca_file` (no pin): hostname and
/// chain checked the normal way, and the dead primary is failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_through_fronts_trusted_by_a_ca_file() {
    let h = Harness::start(62).await.with_tls_fronts(true).await;
    let fronts = h.info.fronts.clone();
    h.edit_config(|mut t| {
        for f in &fronts {
            t = t.replace(
                &format!("tls_pin_sha256 = \"{}\"", f.cert_sha256),
                &format!("tls_ca_file = \"{}\"", f.cert_file.display()),
            );
        }
        assert!(!t.contains("tls_pin_sha256"), "no pin left: {t}");
        t
    });
    let (ok, check) = h.connect_check().await;
    assert!(ok, "every source connects through its front:\n{check}");
    assert!(check.contains("from tls_ca_file"), "{check}");
    let mut d = h.armed("daemon").await;
    h.primary_dies_and_one_commits(&mut d).await;
    h.wait_key_change_epoch().await;
    h.stop(&mut d).await;
}

/// A pin that does not match the primary's certificate and a wrong password for another
/// node's Core API: `config check --connect` and the daemon's log each name the source, the
/// fingerprint actually seen (pin) and the password file (401); and for two epochs, with the
/// primary unreachable to the daemon and one source refusing it, nothing is failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_or_password_names_the_source_and_never_fails_over() {
    let h = Harness::start(63).await.with_tls_fronts(false).await;
    let primary = h.info.front("primary").expect("primary front").clone();
    let backup = h.info.front("backup").expect("backup front").clone();
    let other = h
        .info
        .front("validator-1")
        .expect("validator-1 front")
        .clone();
    let wrong_password = h.dir.path().join("wrong.password");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&wrong_password)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"not-the-password\n"))
        .expect("write the wrong password file");
    let other_file = other.password_file.display().to_string();
    h.edit_config(|t| {
        // The primary "pinned" to the backup's certificate: something else answers there.
        let t = t.replacen(
            &format!("tls_pin_sha256 = \"{}\"", primary.cert_sha256),
            &format!("tls_pin_sha256 = \"{}\"", backup.cert_sha256),
            1,
        );
        let t = t.replace(
            &format!("basic_auth_password_file = \"{other_file}\""),
            &format!(
                "basic_auth_password_file = \"{}\"",
                wrong_password.display()
            ),
        );
        assert!(t.contains("wrong.password"), "validator-1's entry changed");
        t
    });

    let (ok, check) = h.connect_check().await;
    assert!(!ok, "config check --connect fails:\n{check}");
    let pin_line = check
        .lines()
        .find(|l| l.contains("pin mismatch"))
        .unwrap_or_else(|| panic!("a pin mismatch is reported:\n{check}"));
    assert!(
        pin_line.contains(&primary.cert_sha256),
        "it shows the fingerprint seen: {pin_line}"
    );
    assert!(check.contains("connect system primary: "), "{check}");
    let auth = check
        .lines()
        .find(|l| l.contains("refused the credentials"))
        .unwrap_or_else(|| panic!("the 401 is reported:\n{check}"));
    assert!(auth.contains("wrong.password"), "names the file: {auth}");
    let other_port = other.url.rsplit(':').next().expect("port");
    assert!(auth.contains(other_port), "names the source: {auth}");

    let mut d = Daemon::spawn(&h.config, &[], "daemon");
    d.wait_line("| phase watching", STEP).await;
    let line = d.wait_line("pin mismatch", STEP).await;
    assert!(line.contains("primary"), "names the source: {line}");
    assert!(
        line.contains(&primary.cert_sha256),
        "shows the fingerprint seen: {line}"
    );
    let line = d.wait_line("HTTP 401", STEP).await;
    assert!(line.contains(other_port), "names the source: {line}");
    h.wait_epochs(2).await;
    h.assert_no_failover(&d, "a wrong pin and a wrong password");
    d.sigterm_and_wait(Duration::from_secs(10))
        .await
        .expect("clean exit");
}
