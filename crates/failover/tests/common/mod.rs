//! Shared harness of the daemon's end-to-end tests: an in-process radix-sim network on its
//! own round clock, the config it writes, and the real `radix-failover` binary as a child
//! process whose log lines the test reads.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use radix_sim::api::{Network, Ports};
use radix_sim::faults::Faults;
use radix_sim::info::Info;
use radix_sim::ledger::types::{IntentStatus, RoundRecord};
use radix_sim::ledger::{Sim, SimConfig};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_radix-failover");
/// 200 ms rounds, 20 rounds an epoch: 4 s epochs, long enough for a loaded 2-core CI machine
/// to detect, submit and commit inside one epoch, short enough for a test to see several.
pub const ROUND_MS: u64 = 200;
pub const ROUNDS_PER_EPOCH: u64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub epoch: u64,
    pub round: u64,
}

pub struct Harness {
    pub sim: Sim,
    pub net: Network,
    pub info: Info,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    http: reqwest::Client,
    /// The epoch in which our validator's key on ledger first became the backup's.
    key_change: Arc<Mutex<Option<u64>>>,
}

impl Harness {
    pub async fn start(seed: u64) -> Harness {
        Harness::start_with(seed, |_| {}).await
    }

    /// A network whose genesis `f` adjusts (e.g. the owner badge in an access controller).
    pub async fn start_with(seed: u64, f: impl FnOnce(&mut SimConfig)) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cfg = SimConfig::new(seed, dir.path().join("owner.key"));
        cfg.round_length_ms = ROUND_MS;
        cfg.rounds_per_epoch = ROUNDS_PER_EPOCH;
        f(&mut cfg);
        let sim = tokio::task::spawn_blocking(move || Sim::genesis(cfg))
            .await
            .expect("genesis task")
            .expect("genesis");
        let net = Network::start(sim.clone(), Arc::new(Faults::new()), &Ports::default())
            .await
            .expect("servers bind on loopback");
        let info = Info::gather(&net, seed);
        let config = dir.path().join("failover.toml");
        std::fs::write(&config, info.failover_config()).expect("write config");

        let key_change = Arc::new(Mutex::new(None));
        let backup = info.backup_public_key_hex.clone();
        let ours = info.our_validator.clone();
        let kc = key_change.clone();
        sim.add_round_hook(Box::new(move |sim, _, _| {
            let mut slot = kc.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                let snap = sim.snapshot();
                let changed = snap
                    .validators
                    .iter()
                    .any(|v| v.address == ours && v.ledger_key_hex == backup);
                if changed {
                    *slot = Some(snap.position.epoch);
                }
            }
        }));
        net.state.clock.resume();
        Harness {
            sim,
            net,
            info,
            dir,
            config,
            http: reqwest::Client::new(),
            key_change,
        }
    }

    pub fn position(&self) -> Position {
        let p = &self.sim.snapshot().position;
        Position {
            epoch: p.epoch,
            round: p.round,
        }
    }

    pub fn epoch(&self) -> u64 {
        self.position().epoch
    }

    pub async fn wait_epochs(&self, n: u64) {
        let target = self.epoch() + n;
        let deadline = Instant::now() + Duration::from_secs(30 + 5 * n);
        while self.epoch() < target {
            assert!(Instant::now() < deadline, "the sim's clock stalled");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn fault(&self, action: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/faults", self.info.control_url))
            .json(&action)
            .send()
            .await
            .expect("control API answers");
        assert!(r.status().is_success(), "fault {action} refused");
        r.json().await.expect("control JSON")
    }

    /// Applies a fault in the first rounds of an epoch, so a good tool has the rest of the
    /// epoch to fail over in. Returns where it happened.
    pub async fn fault_early_in_epoch(&self, action: Value) -> Position {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let p = self.position();
            if (1..=2).contains(&p.round) {
                self.fault(action).await;
                return p;
            }
            assert!(Instant::now() < deadline, "never saw the start of an epoch");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn clock(&self, what: &str) {
        let r = self
            .http
            .post(format!("{}/clock/{what}", self.info.control_url))
            .send()
            .await
            .expect("control API answers");
        assert!(r.status().is_success(), "clock {what} refused");
    }

    pub async fn identity(&self, node: &str) -> Value {
        let url = format!(
            "{}/identity",
            self.info.node(node).expect("node").system_api_url
        );
        self.http
            .get(url)
            .send()
            .await
            .expect("system API answers")
            .json()
            .await
            .expect("identity JSON")
    }

    /// Every committed user transaction, in commit order.
    pub fn committed(&self) -> Vec<(String, IntentStatus)> {
        self.sim.committed_intents()
    }

    pub fn ledger_key_change_epoch(&self) -> Option<u64> {
        *self.key_change.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The epoch the backup's key reached the ledger in, waiting for the round hook that
    /// records it (it runs at the start of the round after the commit).
    pub async fn wait_key_change_epoch(&self) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.ledger_key_change_epoch() {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "the backup's key never reached the ledger"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Our validator's leader rounds in `epoch`.
    pub fn our_rounds_in(&self, epoch: u64) -> Vec<RoundRecord> {
        self.sim
            .round_history(100_000)
            .into_iter()
            .filter(|r| r.epoch == epoch && r.leader_address == self.info.our_validator)
            .collect()
    }

    /// A second config for another watcher: same network and key, its own state file.
    pub fn second_config(&self, name: &str) -> PathBuf {
        let text = std::fs::read_to_string(&self.config).expect("config");
        let text = text.replace(
            "state_file = \"radix-failover-state.json\"",
            &format!("state_file = \"{name}-state.json\""),
        );
        assert!(text.contains(&format!("{name}-state.json")));
        let p = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&p, text).expect("write config");
        p
    }

    pub fn state(&self, path: &Path) -> Option<Value> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The phase object of the state file (`{"phase": "failing_over", ...}`).
    pub fn phase_of(state: &Value) -> Value {
        match &state["phase"] {
            Value::String(s) => serde_json::json!({ "phase": s }),
            other => other.clone(),
        }
    }

    pub fn state_phase(&self, path: &Path) -> String {
        let s = self.state(path).expect("state file readable");
        Self::phase_of(&s)["phase"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn wait_for_state(&self, path: &Path, phase: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.state(path) {
                let p = Self::phase_of(&s);
                if p["phase"] == phase {
                    return p;
                }
            }
            assert!(Instant::now() < deadline, "state never reached {phase}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Runs a radix-failover subcommand with `--config`; returns stdout + stderr. Panics if it
    /// fails.
    pub async fn cli(&self, args: &[&str]) -> String {
        let (ok, out) = self.cli_raw(args).await;
        assert!(ok, "radix-failover {args:?} failed:\n{out}");
        out
    }

    pub async fn cli_fails(&self, args: &[&str]) -> String {
        let (ok, out) = self.cli_raw(args).await;
        assert!(!ok, "radix-failover {args:?} should have failed:\n{out}");
        out
    }

    pub async fn cli_raw(&self, args: &[&str]) -> (bool, String) {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg("--config")
            .arg(&self.config)
            .stdin(Stdio::null());
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("task")
            .expect("run radix-failover");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// The badge account's private key never appears in a log line, nor in the state files.
    pub fn assert_no_secrets(&self, d: &Daemon) {
        let key = std::fs::read_to_string(self.dir.path().join("owner.key")).expect("key file");
        let key = key.trim().to_lowercase();
        assert_eq!(key.len(), 64, "the key file holds a 32-byte hex key");
        for l in d.lines() {
            assert!(
                !l.to_lowercase().contains(&key),
                "secret in a log line: {l}"
            );
        }
        for e in std::fs::read_dir(self.dir.path()).expect("dir").flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(".json") {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                assert!(!text.to_lowercase().contains(&key), "secret in {name}");
            }
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.net.state.clock.pause();
    }
}

/// A running `radix-failover run` with its output collected line by line.
pub struct Daemon {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    name: String,
}

impl Daemon {
    pub fn spawn(config: &Path, extra: &[&str], name: &str) -> Daemon {
        Self::spawn_with_env(config, extra, name, &[])
    }

    /// As `spawn`, with extra environment variables (e.g. systemd's NOTIFY_SOCKET).
    pub fn spawn_with_env(
        config: &Path,
        extra: &[&str],
        name: &str,
        env: &[(&str, &str)],
    ) -> Daemon {
        let mut child = Command::new(BIN)
            .arg("run")
            .arg("--config")
            .arg(config)
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn radix-failover run");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let lines = lines.clone();
            let name = name.to_string();
            std::thread::spawn(move || {
                for l in BufReader::new(stream).lines().map_while(Result::ok) {
                    if std::env::var_os("E2E_ECHO").is_some() {
                        eprintln!("[{name}] {l}");
                    }
                    lines.lock().unwrap_or_else(|p| p.into_inner()).push(l);
                }
            });
        }
        Daemon {
            child,
            lines,
            name: name.to_string(),
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn has_line(&self, pat: &str) -> bool {
        self.lines().iter().any(|l| l.contains(pat))
    }

    /// Waits for the first line containing `pat`; on timeout, fails with the log's tail.
    pub async fn wait_line(&mut self, pat: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| l.contains(pat)) {
                return l;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let lines = self.lines();
                panic!(
                    "[{}] exited ({status}) before logging {pat:?}:\n{}",
                    self.name,
                    lines.join("\n")
                );
            }
            if Instant::now() > deadline {
                let lines = self.lines();
                let tail = &lines[lines.len().saturating_sub(60)..];
                panic!(
                    "[{}] no line with {pat:?} within {timeout:?}; last lines:\n{}",
                    self.name,
                    tail.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process id (to send it real signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean (0) exit.
    pub async fn sigterm_and_wait(&mut self, timeout: Duration) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let st = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("kill: {e}"))?;
        if !st.success() {
            return Err("kill -TERM failed".into());
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!(
                        "exited with {status}:\n{}",
                        self.lines().join("\n")
                    ))
                }
                Ok(None) if Instant::now() > deadline => {
                    return Err("still running after SIGTERM".into())
                }
                Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- Added for the fault suite (tests/fault_suite.rs) and the hostile-input tests. ----

impl Harness {
    /// Rewrites the written config with `f` (e.g. to add `[alerts]` or drop a source).
    pub fn edit_config(&self, f: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(&self.config).expect("config");
        std::fs::write(&self.config, f(text)).expect("write config");
    }

    /// `GET /faults` of the control API: the faults in force.
    pub async fn faults_view(&self) -> Value {
        self.http
            .get(format!("{}/faults", self.info.control_url))
            .send()
            .await
            .expect("control API answers")
            .json()
            .await
            .expect("control JSON")
    }

    /// `host:port` of a node's Core API: what the daemon's source names show
    /// (`core 127.0.0.1:PORT`).
    pub fn core_host(&self, node: &str) -> String {
        let url = &self.info.node(node).expect("node").core_api_url;
        let u = url::Url::parse(url).expect("core URL");
        format!(
            "{}:{}",
            u.host_str().unwrap_or_default(),
            u.port_or_known_default().unwrap_or_default()
        )
    }

    /// `host:port` of the gateway.
    pub fn gateway_host(&self) -> String {
        let u = url::Url::parse(&self.info.gateway_url).expect("gateway URL");
        format!(
            "{}:{}",
            u.host_str().unwrap_or_default(),
            u.port_or_known_default().unwrap_or_default()
        )
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("radix-failover-state.json")
    }
}

/// A loopback webhook receiver: every JSON body POSTed to `/hook` is kept, in order.
pub struct WebhookReceiver {
    pub url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        use axum::routing::post;
        let bodies: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
        let b = bodies.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |body: axum::body::Bytes| {
                let b = b.clone();
                async move {
                    let v = serde_json::from_slice::<Value>(&body)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
                    b.lock().unwrap_or_else(|p| p.into_inner()).push(v);
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookReceiver {
            url: format!("http://{addr}/hook"),
            bodies,
            task,
        }
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Events (the webhook body's `event` field) received so far.
    pub fn events(&self) -> Vec<String> {
        self.bodies()
            .iter()
            .filter_map(|b| b["event"].as_str().map(str::to_string))
            .collect()
    }

    /// Waits for a body with `event` = `name` whose JSON text contains `needle`.
    pub async fn wait_event(&self, name: &str, needle: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(b) = self
                .bodies()
                .into_iter()
                .find(|b| b["event"] == name && b.to_string().contains(needle))
            {
                return b;
            }
            assert!(
                Instant::now() < deadline,
                "no {name:?} alert mentioning {needle:?} within {timeout:?}; received: {:?}",
                self.bodies()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Daemon {
    /// The name its log lines are shown under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Lines logged so far: pass it to [`Daemon::wait_line_after`] to look only at what comes
    /// after an action.
    pub fn line_count(&self) -> usize {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Like [`Daemon::wait_line`], but only among the lines logged after the first `from`;
    /// returns the line's index and text.
    pub async fn wait_line_after(
        &mut self,
        from: usize,
        pat: &str,
        timeout: Duration,
    ) -> (usize, String) {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.lines();
            if let Some((i, l)) = lines
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, l)| l.contains(pat))
            {
                return (i, l.clone());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "[{}] exited ({status}) before logging {pat:?}:\n{}",
                    self.name,
                    lines.join("\n")
                );
            }
            if Instant::now() > deadline {
                let tail = &lines[lines.len().saturating_sub(60)..];
                panic!(
                    "[{}] no line with {pat:?} within {timeout:?}; last lines:\n{}",
                    self.name,
                    tail.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The lines logged after the first `from`.
    pub fn lines_from(&self, from: usize) -> Vec<String> {
        self.lines().into_iter().skip(from).collect()
    }
}

// ---- Added for the crash-safety tests (tests/crash_safety.rs). ----

impl Daemon {
    /// The process has not exited (no crash, no exit on an error).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Harness {
    /// Waits until the state file parses and `pred` holds for its phase object; returns it.
    /// Polls every 2 ms: some phases (a decision not yet submitted) last a few hundred ms.
    pub async fn wait_for_phase_where(
        &self,
        path: &Path,
        what: &str,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.state(path) {
                let p = Self::phase_of(&s);
                if pred(&p) {
                    return p;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the state file never showed {what} within {timeout:?}; last: {:?}",
                self.state(path)
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

// ---- Shared steps of the end-to-end scenarios (fault suite; usable by any E2E test). ----

/// Waits in scenario steps: generous for a loaded 2-core machine; a passing test only waits
/// as long as the scenario needs.
pub const STEP: Duration = Duration::from_secs(60);

impl Harness {
    /// `radix-failover run` on this harness's config, armed (pre-flight passed) and watching.
    pub async fn armed(&self, name: &str) -> Daemon {
        let mut d = Daemon::spawn(&self.config, &[], name);
        d.wait_line("pre-flight passed", STEP).await;
        d.wait_line("| phase watching", STEP).await;
        d
    }

    /// Replaces every `key = ...` line of the written config with `key = value` (TOML text).
    pub fn set_config(&self, key: &str, value: &str) {
        let prefix = format!("{key} = ");
        self.edit_config(|t| {
            assert!(
                t.lines().any(|l| l.starts_with(&prefix)),
                "no {key} in the config"
            );
            t.lines()
                .map(|l| {
                    if l.starts_with(&prefix) {
                        format!("{prefix}{value}")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    /// A loopback receiver wired into the config as `[alerts] webhook`.
    pub async fn webhook(&self) -> WebhookReceiver {
        let hook = WebhookReceiver::start().await;
        let url = hook.url.clone();
        self.edit_config(|t| format!("{t}\n[alerts]\nwebhook = {{ url = \"{url}\" }}\n"));
        hook
    }

    /// SIGTERM, a clean exit, and the key in no log line and no state file.
    pub async fn stop(&self, d: &mut Daemon) {
        d.sigterm_and_wait(Duration::from_secs(10))
            .await
            .expect("clean exit on SIGTERM");
        self.assert_no_secrets(d);
    }

    /// The badge account's key is in no alert either (and alerts were received).
    pub fn assert_no_secret_in_alerts(&self, hook: &WebhookReceiver) {
        let key = std::fs::read_to_string(self.dir.path().join("owner.key")).expect("key file");
        let key = key.trim().to_lowercase();
        assert_eq!(key.len(), 64, "the key file holds a 32-byte hex key");
        let bodies = hook.bodies();
        assert!(!bodies.is_empty(), "the webhook received alerts");
        for b in bodies {
            let text = b.to_string().to_lowercase();
            assert!(!text.contains(&key), "secret in an alert: {b}");
        }
    }

    /// Nothing failed over: no decision (acted on or blocked), nothing committed, the state
    /// file (if any) still watching.
    pub fn assert_no_failover(&self, d: &Daemon, why: &str) {
        assert!(
            !d.has_line("FAILOVER DECIDED"),
            "{why}: the daemon failed over"
        );
        assert!(
            !d.has_line("failover needed"),
            "{why}: the daemon wanted a failover (blocked or not)"
        );
        assert!(
            self.committed().is_empty(),
            "{why}: something was committed"
        );
        if let Some(state) = self.state(&self.state_file()) {
            assert_eq!(
                Self::phase_of(&state)["phase"],
                "watching",
                "{why}: {state}"
            );
        }
    }

    /// The primary dies early in an epoch; the daemon decides and commits exactly one
    /// transaction. Returns where the fault happened.
    pub async fn primary_dies_and_one_commits(&self, d: &mut Daemon) -> Position {
        let fault = self
            .fault_early_in_epoch(serde_json::json!({"action": "node_down", "node": "primary"}))
            .await;
        d.wait_line("FAILOVER DECIDED", STEP).await;
        d.wait_line("COMMITTED", STEP).await;
        assert_eq!(self.committed().len(), 1, "exactly one transaction");
        fault
    }

    /// With the primary down, `run` refuses to start: the error names the state file and the
    /// fix, and nothing is committed over the next epoch.
    pub async fn assert_run_refuses_blind(&self) -> String {
        self.fault(serde_json::json!({"action": "node_down", "node": "primary"}))
            .await;
        let out = self.cli_fails(&["run"]).await;
        assert!(
            out.contains("radix-failover-state.json"),
            "names the file: {out}"
        );
        assert!(
            out.to_lowercase().contains("fix"),
            "says how to fix it: {out}"
        );
        self.wait_epochs(1).await;
        assert!(self.committed().is_empty(), "no action taken blind");
        out
    }
}

impl Daemon {
    /// The per-poll summary lines (`... | phase ...`) logged after `from` that contain `pat`.
    pub fn polls_after_with(&self, from: usize, pat: &str) -> Vec<String> {
        self.lines_from(from)
            .into_iter()
            .filter(|l| l.contains("| phase ") && l.contains(pat))
            .collect()
    }
}

// ---- Added for the node-front tests (tests/node_fronts.rs, tests/nginx.rs). ----

impl Harness {
    /// Puts every node's Core and System API behind the sim's TLS front (as `radix-sim run
    /// --tls-front [--tls-front-san]`) and rewrites the config to reach the nodes through them:
    /// pinned certificates, basic auth as `admin`, each password in a 0600 file.
    pub async fn with_tls_fronts(mut self, with_san: bool) -> Harness {
        let fronts = radix_sim::front::start_fronts(
            self.net.state.servers.clone(),
            &self.dir.path().join("fronts"),
            radix_sim::front::FrontOptions { with_san },
        )
        .await
        .expect("the TLS fronts start on loopback");
        self.info.fronts = fronts;
        std::fs::write(&self.config, self.info.failover_config()).expect("write config");
        self
    }

    /// Every front password, as the password files hold them.
    pub fn front_passwords(&self) -> Vec<String> {
        self.info
            .fronts
            .iter()
            .map(|f| {
                std::fs::read_to_string(&f.password_file)
                    .expect("password file")
                    .trim()
                    .to_string()
            })
            .collect()
    }

    /// Makes the config private (mode 0600), as a config holding a header value must be.
    pub fn config_private(&self) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.config, std::fs::Permissions::from_mode(0o600))
            .expect("chmod config");
    }

    /// `radix-failover config check --connect`: (exit ok, stdout + stderr).
    pub async fn connect_check(&self) -> (bool, String) {
        self.cli_raw(&["config", "check", "--connect"]).await
    }

    /// Every file under the harness's directory (recursively) whose name ends with one of
    /// `exts`, with its text.
    pub fn files_with(&self, exts: &[&str]) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        let mut dirs = vec![self.dir.path().to_path_buf()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if exts.iter().any(|x| p.to_string_lossy().ends_with(x)) {
                    out.push((p.clone(), std::fs::read_to_string(&p).unwrap_or_default()));
                }
            }
        }
        out
    }
}

impl Daemon {
    /// The metrics URL the daemon logged (`metrics on http://…/metrics`).
    pub async fn metrics_url(&mut self) -> String {
        let line = self.wait_line("metrics on http://", STEP).await;
        line.split("metrics on ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .expect("a URL in the metrics line")
            .to_string()
    }
}

/// One scrape of a metrics URL.
pub async fn scrape(url: &str) -> String {
    let r = reqwest::get(url).await.expect("metrics answer");
    assert_eq!(r.status(), 200);
    r.text().await.expect("metrics text")
}

impl Harness {
    /// The sim's gateway traffic so far (control API `GET /stats`): path -> (requests, bytes).
    pub async fn gateway_traffic(&self) -> std::collections::BTreeMap<String, (u64, u64)> {
        let v: Value = self
            .http
            .get(format!("{}/stats", self.info.control_url))
            .send()
            .await
            .expect("control API answers")
            .json()
            .await
            .expect("stats JSON");
        v["gateway"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(p, t)| {
                        (
                            p.clone(),
                            (
                                t["requests"].as_u64().unwrap_or(0),
                                t["bytes"].as_u64().unwrap_or(0),
                            ),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every User-Agent the sim's gateway has seen.
    pub async fn gateway_user_agents(&self) -> Vec<String> {
        let v: Value = self
            .http
            .get(format!("{}/stats", self.info.control_url))
            .send()
            .await
            .expect("control API answers")
            .json()
            .await
            .expect("stats JSON");
        v["gateway_user_agents"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}
