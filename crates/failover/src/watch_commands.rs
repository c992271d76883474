//! The watching commands: `run` (the daemon), `status`, the manual `failover` / `failback`, and
//! the maintenance commands `pause` / `resume` / `cancel`.
//!
//! No racing: a command that changes something either goes through the running daemon (its
//! control socket; the daemon acts, between two polls) or, when no daemon runs, takes the state
//! file's lock itself for as long as it acts. The lock decides which: a daemon holds it for
//! its whole life.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;

use radix_failover::config::Config;
use radix_failover::control::{self, ControlServer, Request, Response};
use radix_failover::hooks::{self, Hook, SwitchInfo};
use radix_failover::maintenance::{self, PauseGate};
use radix_failover::observe::Observation;
use radix_failover::policy::{Gates, KeyOwner, View};
use radix_failover::preflight::{self, Aim};
use radix_failover::roles::Node;
use radix_failover::runner::{agreed_epoch, policy_for, Clock, RunOptions, Runner, SystemClock};
use radix_failover::sources::Sources;
use radix_failover::state::{DaemonState, StateError, StateFile, StateLock};
use radix_failover::submit::{self, SubmitParams, TickOutcome};
use radix_failover::tx::{build_update_key, UpdateKeyRequest, DEFAULT_VALID_EPOCHS};

use crate::cli::{
    ControlArgs, PauseArgs, RunArgs, ServiceArgs, StatusArgs, SwitchArgs, SwitchoverArgs,
};

/// One thread is plenty: the daemon waits on a handful of HTTP requests per poll, and a
/// single-threaded runtime keeps its memory and CPU footprint small.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn load(path: &std::path::Path, need_state: bool) -> Result<Config> {
    let config = Config::load(path)?;
    config.require_watch(need_state)?;
    Ok(config)
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub fn run(args: &RunArgs) -> Result<()> {
    let config = load(&args.config, true)?;
    let key = config.load_notary_key()?;
    let rt = runtime()?;
    rt.block_on(async {
        let opts = RunOptions {
            dry_run: args.dry_run,
            max_polls: None,
        };
        let metrics_listen = config.metrics_listen;
        let health_age = radix_failover::metrics::health_max_age(
            config.policy.poll_interval,
            config.daemon.request_timeout,
        );
        let state_path = config.daemon.state_file.clone();
        let control_group = config.daemon.control_group.clone();
        let (mut runner, _lock) = Runner::new(config, key, SystemClock, opts)?;
        // The control socket, bound only now that this daemon holds the state file's lock.
        let (control_stop_tx, control_stop_rx) = tokio::sync::oneshot::channel::<()>();
        let control_task = match &state_path {
            Some(p) => {
                let path = control::socket_path(p);
                let server = ControlServer::bind(&path, control_group.as_deref())?;
                tracing::info!(
                    "control socket {} (mode {}): radix-failover status/pause/resume/failover/failback/cancel talk to this daemon",
                    path.display(),
                    if control_group.is_some() { "0660" } else { "0600" }
                );
                let (tx, rx) = tokio::sync::mpsc::channel(4);
                runner.attach_control(rx);
                Some(tokio::spawn(server.run(tx, async {
                    let _ = control_stop_rx.await;
                })))
            }
            None => None,
        };
        // The metrics server runs beside the loop and stops with it.
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        // Not fatal when the address is taken: the server keeps trying beside the loop (see
        // `serve_retrying`), and the watching never waits for it.
        let server = metrics_listen.map(|addr| {
            tokio::spawn(radix_failover::metrics::serve_retrying(
                addr,
                runner.metrics(),
                health_age,
                radix_failover::metrics::METRICS_BIND_RETRY,
                runner.alerter(),
                async {
                    let _ = stop_rx.await;
                },
            ))
        });
        let result = runner.run(shutdown_signal()).await;
        let _ = stop_tx.send(());
        let _ = control_stop_tx.send(());
        if let Some(task) = control_task {
            let _ = task.await;
        }
        if let Some(task) = server {
            let _ = task.await;
        }
        result?;
        Ok(())
    })
}

async fn observe(sources: &Sources) -> Observation {
    let mut obs = sources.poll().await;
    obs.at_ms = SystemClock.now_ms();
    obs
}

fn owner(k: &KeyOwner) -> String {
    match k {
        KeyOwner::Primary => "primary".into(),
        KeyOwner::Backup => "backup".into(),
        KeyOwner::Other(h) => format!("another key ({h})"),
        KeyOwner::NotInActiveSet => "none (our validator is not in the active set)".into(),
        KeyOwner::Unknown => "unknown".into(),
    }
}

/// A key owner of the policy's roles (`Primary` is the active node's key), by node name.
fn owner_in(k: &KeyOwner, active: Node) -> String {
    match k {
        KeyOwner::Primary => active.name().into(),
        KeyOwner::Backup => active.other().name().into(),
        other => owner(other),
    }
}

/// The node the daemon watches as the active one: its own answer, else the state file's.
fn active_node(
    config: &Config,
    answer: Option<&Result<control::Response, control::ControlError>>,
) -> Node {
    if let Some(Ok(r)) = answer {
        return match r.data["active_node"].as_str() {
            Some("backup") => Node::Backup,
            _ => Node::Primary,
        };
    }
    config
        .daemon
        .state_file
        .as_ref()
        .and_then(|p| {
            StateFile::new(p.clone())
                .load(
                    &config.validator_bech32(),
                    config.network.logical_name.as_ref(),
                )
                .ok()
                .flatten()
        })
        .map(|s| s.active)
        .unwrap_or_default()
}

pub fn status(args: &StatusArgs) -> Result<()> {
    let config = load(&args.config, false)?;
    let rt = runtime()?;
    // The running daemon's own answer, else the state file's last word.
    let answer = config.daemon.state_file.as_ref().map(|p| {
        let sock = control::socket_path(p);
        let r = rt.block_on(control::request(&sock, &Request::Status, STATUS_TIMEOUT));
        (sock, r)
    });
    // After a re-arm the backup is the active node: look at the pair in the daemon's roles.
    let active = active_node(&config, answer.as_ref().map(|(_, r)| r));
    let config = match active {
        Node::Backup => config.swapped().unwrap_or(config),
        Node::Primary => config,
    };
    let (obs, view) = rt.block_on(async {
        let sources = Sources::new(&config).map_err(|e| anyhow!("{e}"))?;
        let obs = observe(&sources).await;
        let mut policy = policy_for(&config);
        let a = policy.observe(&obs, &Gates::ok());
        Ok::<_, anyhow::Error>((obs, a.view))
    })?;
    let now = SystemClock.now_ms();
    let (phase, daemon_info, pause) = match (&config.daemon.state_file, answer) {
        (None, _) | (_, None) => (
            json!({"phase": null, "note": "no [daemon] state_file configured"}),
            json!({"running": false, "note": "no [daemon] state_file configured, so no control socket"}),
            None,
        ),
        (Some(_), Some((sock, Ok(r)))) => (
            r.data["phase"].clone(),
            json!({"running": true, "pid": r.data["pid"], "control_socket": sock, "message": r.message,
                   "epoch": r.data["epoch"], "decision": r.data["decision"], "cancelled": r.data["cancelled"],
                   "active_node": r.data["active_node"], "standby_node": r.data["standby_node"],
                   "standby_ready": r.data["standby_ready"], "standby_not_ready_why": r.data["standby_not_ready_why"],
                   "armed": r.data["armed"], "rearm": r.data["rearm"], "flap_limit": r.data["flap_limit"],
                   "last_switch": r.data["last_switch"], "authority": r.data["authority"]}),
            r.data["pause"].as_object().map(|_| r.data["pause"].clone()),
        ),
        (Some(p), Some((sock, Err(e)))) => {
            let (phase, pause) = match StateFile::new(p.clone()).load(
                &config.validator_bech32(),
                config.network.logical_name.as_ref(),
            ) {
                Ok(Some(s)) => {
                    let pause = match maintenance::pause_gate(s.pause.as_ref(), now) {
                        PauseGate::Paused(p) => {
                            Some(json!({"since_ms": p.since_ms, "until_ms": p.until_ms,
                            "until": maintenance::utc(p.until_ms), "reason": p.reason}))
                        }
                        _ => None,
                    };
                    (serde_json::to_value(&s.phase).unwrap_or(json!(null)), pause)
                }
                Ok(None) => (
                    json!({"phase": null, "note": "no state file yet (the daemon has not run)"}),
                    None,
                ),
                Err(e) => (json!({"phase": null, "error": e.to_string()}), None),
            };
            (
                phase,
                json!({"running": false, "control_socket": sock, "note": e.to_string()}),
                pause,
            )
        }
    };
    let sources: Vec<_> = obs
        .ledger
        .iter()
        .map(|s| match &s.result {
            Ok(r) => json!({
                "name": s.name, "kind": s.kind.as_str(), "ok": true,
                "epoch": r.epoch, "round": r.round,
                "lag_ms": obs.at_ms - r.ledger_time_ms,
                "current_epoch": r.current_epoch,
            }),
            Err(e) => json!({"name": s.name, "kind": s.kind.as_str(), "ok": false, "error": e.to_string()}),
        })
        .chain(
            [("primary", &obs.primary), ("backup", &obs.backup)]
                .into_iter()
                .filter_map(|(role, o)| o.as_ref().map(|o| (role, o)))
                .map(|(role, o)| match &o.result {
                    Ok(n) => json!({"name": o.name, "kind": "system", "node": role, "ok": true,
                        "health": n.health, "consensus": n.consensus, "public_key_hex": n.public_key_hex,
                        "recent_missed": n.recent_missed, "recent_tracked": n.recent_tracked}),
                    Err(e) => json!({"name": o.name, "kind": "system", "node": role, "ok": false, "error": e.to_string()}),
                }),
        )
        .collect();
    let finished = obs
        .ledger
        .iter()
        .filter_map(|s| s.result.as_ref().ok().and_then(|r| r.finished))
        .next();
    let v = json!({
        "finished_epochs": finished.map(|f| json!({
            "from_epoch": f.from_epoch, "to_epoch": f.to_epoch,
            "made": f.counts.map(|c| c.made), "missed": f.counts.map(|c| c.missed),
        })),
        "validator": config.validator_bech32(),
        "network": config.network.logical_name,
        "epoch": view.epoch,
        "round": view.round,
        "key_in_force": owner_in(&view.key_in_force, view.active_node),
        "key_on_ledger": owner_in(&view.key_on_ledger, view.active_node),
        "active_node": view.active_node.name(),
        "standby_node": view.active_node.other().name(),
        "epoch_made": view.epoch_made,
        "epoch_missed": view.epoch_missed,
        "finished_epochs_missed": view.finished_missed,
        "trusted_sources": view.trusted_sources,
        "ledger_sources": view.ledger_sources,
        "backup_ready": view.backup_ready.is_ok(),
        "backup_problem": view.backup_ready.as_ref().err(),
        "sources": sources,
        "daemon": phase,
        "daemon_process": daemon_info,
        "paused": pause.is_some(),
        "pause": pause,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    print_status(&v, &view);
    Ok(())
}

/// The pair as the daemon sees it: who is active, the standby's readiness, armed, the flap
/// limit and the last switch.
fn print_pair(p: &serde_json::Value) {
    if p["running"] != true {
        return;
    }
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_string();
    let ready = match &p["standby_ready"] {
        serde_json::Value::Bool(true) => "ready".to_string(),
        serde_json::Value::Bool(false) => {
            format!("NOT READY ({})", text(&p["standby_not_ready_why"]))
        }
        _ => "not checked yet".to_string(),
    };
    println!(
        "pair           the {} node is active; the {} node stands by, {ready}",
        text(&p["active_node"]),
        text(&p["standby_node"])
    );
    let armed = if p["armed"] == true {
        "armed"
    } else {
        "NOT armed"
    };
    let flap = &p["flap_limit"];
    let limit = match flap["blocked"].as_str() {
        Some(why) => format!("; {why}"),
        None => format!(
            "; at most one automatic switch per {} epochs",
            flap["epochs"]
        ),
    };
    let rearm = if p["rearm"] == true {
        "re-armed after each failover"
    } else {
        "not re-armed (policy.rearm = false)"
    };
    println!("protection     automatic failover {armed}, {rearm}{limit}");
    if let Some(s) = p["last_switch"].as_object() {
        println!(
            "last switch    to the {} node, in force from epoch {}",
            s.get("to").and_then(|t| t.as_str()).unwrap_or("?"),
            s.get("epoch")
                .map(|e| e.to_string())
                .unwrap_or_else(|| "?".into())
        );
    }
}

/// The authority tripwire's line (rule 11): the last check, and the last change nobody here
/// made.
fn print_authority(p: &serde_json::Value) {
    let a = &p["authority"];
    if !a.is_object() {
        return;
    }
    println!(
        "authority      checked in epoch {}: {}",
        a["checked_epoch"],
        a["baseline"].as_str().unwrap_or("?")
    );
    if let Some(m) = a["last_change"]["message"].as_str() {
        println!("               LAST UNEXPECTED CHANGE: {m}");
    }
}

fn print_status(v: &serde_json::Value, view: &View) {
    let s = |k: &str| match &v[k] {
        serde_json::Value::Null => "-".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    println!("validator      {} ({})", s("validator"), s("network"));
    println!("epoch/round    {}/{}", s("epoch"), s("round"));
    println!(
        "validating     {} key in force; {} key on ledger (applies next epoch)",
        s("key_in_force"),
        s("key_on_ledger")
    );
    println!(
        "this epoch     {} made, {} missed",
        s("epoch_made"),
        s("epoch_missed")
    );
    match &v["finished_epochs"] {
        serde_json::Value::Object(f) => println!(
            "recent epochs  {} made, {} missed in epochs {}..={} (finished epochs, gateway)",
            f["made"], f["missed"], f["from_epoch"], f["to_epoch"]
        ),
        _ => println!("recent epochs  - (no gateway answered)"),
    }
    match &view.backup_ready {
        Ok(()) => println!("backup         ready"),
        Err(e) => println!("backup         NOT READY: {e}"),
    }
    println!(
        "sources        {} of {} ledger sources trusted",
        s("trusted_sources"),
        s("ledger_sources")
    );
    if let Some(list) = v["sources"].as_array() {
        for src in list {
            let name = src["name"].as_str().unwrap_or("?");
            if src["ok"].as_bool() == Some(true) {
                if src["kind"] == "system" {
                    println!(
                        "  {name:<28} ok  {} {}",
                        src["health"].as_str().unwrap_or("?"),
                        src["consensus"].as_str().unwrap_or("?")
                    );
                } else {
                    println!(
                        "  {name:<28} ok  epoch {} round {} lag {} ms",
                        src["epoch"], src["round"], src["lag_ms"]
                    );
                }
            } else {
                println!(
                    "  {name:<28} ERROR {}",
                    src["error"].as_str().unwrap_or("?")
                );
            }
        }
    }
    let p = &v["daemon_process"];
    if p["running"] == true {
        println!(
            "daemon         running (pid {}), answering on {}",
            p["pid"],
            p["control_socket"].as_str().unwrap_or("?")
        );
    } else {
        println!(
            "daemon         not answering ({}); phase from the state file",
            p["note"].as_str().unwrap_or("?")
        );
    }
    match &v["pause"] {
        serde_json::Value::Object(pause) => println!(
            "maintenance    PAUSED until {}: {} (no automatic switch; radix-failover resume ends it)",
            pause["until"].as_str().unwrap_or("?"),
            pause["reason"].as_str().unwrap_or("?")
        ),
        _ => println!("maintenance    not paused"),
    }
    print_pair(p);
    print_authority(p);
    let d = &v["daemon"];
    match d.get("phase") {
        Some(serde_json::Value::String(p)) => println!("daemon phase   {p}"),
        _ => println!(
            "daemon phase   - ({})",
            d.get("note")
                .or_else(|| d.get("error"))
                .and_then(|x| x.as_str())
                .unwrap_or("unknown")
        ),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ToBackup,
    ToPrimary,
}

/// `failover` / `failback`: the same checks as the daemon, aimed at the target node; then
/// submit, follow to the commit and (unless --no-wait) confirm the target validates.
pub fn switch(args: &SwitchArgs, dir: Direction) -> Result<()> {
    let config = load(&args.config, false)?;
    let key = config.load_notary_key()?;
    let (target_key, target, aim) = match dir {
        Direction::ToBackup => (config.backup_public_key, KeyOwner::Backup, Aim::Backup),
        Direction::ToPrimary => (
            config
                .primary_public_key
                .ok_or_else(|| anyhow!("primary_public_key is not configured"))?,
            KeyOwner::Primary,
            Aim::Primary,
        ),
    };
    let what = if dir == Direction::ToBackup {
        "failover"
    } else {
        "failback"
    };
    let rt = runtime()?;
    // Held until this command returns: no daemon starts acting meanwhile.
    let lock = match actor(&config, false)? {
        Actor::Daemon(sock) => return switch_through_daemon(&rt, &config, &sock, args, dir),
        Actor::Local(lock) => lock,
    };
    rt.block_on(async {
        let sources = Sources::new(&config).map_err(|e| anyhow!("{e}"))?;
        let mut policy = policy_for(&config);
        let gates = Gates::ok();
        let obs = observe(&sources).await;
        let a = policy.observe(&obs, &gates);
        let epoch = agreed_epoch(&obs).ok_or_else(|| {
            anyhow!("no two ledger sources agree on the current epoch; check the sources (radix-failover status)")
        })?;
        if a.view.key_on_ledger == target {
            println!("{what}: the {} key is already on ledger; nothing to do", owner(&target));
            return Ok(());
        }
        let build = |start: u64| {
            build_update_key(
                &config,
                &key,
                &UpdateKeyRequest { new_key: target_key, start_epoch: start, valid_epochs: DEFAULT_VALID_EPOCHS, nonce: None },
            )
        };
        let tx = build(epoch)?;
        let report = preflight::run(&config, &sources, &tx.account_address, &tx, aim).await;
        for c in &report.checks {
            eprintln!("pre-flight {:<10} {} {}", c.name, if c.pass { "pass" } else { "FAIL" }, c.detail);
        }
        if !report.ok() {
            bail!("{what} refused: pre-flight failed ({}); nothing was submitted",
                report.failures().map(|c| c.name).collect::<Vec<_>>().join(", "));
        }
        println!("{what}: rotate validator {} to the {} key {}", config.validator_bech32(), owner(&target), hex::encode(target_key.0));
        println!("intent {} (valid epochs {}..{})\n{}", tx.intent_hash_bech32, tx.start_epoch_inclusive(), tx.end_epoch_exclusive(), tx.manifest.trim_end());
        if !args.yes {
            if !std::io::stdin().is_terminal() {
                bail!("standard input is not a terminal, so {what} cannot ask for confirmation; add --yes to confirm on the command line");
            }
            print!("Submit this transaction? Type yes to confirm: ");
            std::io::stdout().flush().ok();
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer).context("cannot read the confirmation")?;
            if answer.trim() != "yes" {
                bail!("{what} not confirmed; nothing was submitted");
            }
        }

        // The config is not re-oriented here: its active node is the configured primary.
        let back = dir == Direction::ToPrimary;
        let mut info = hooks::switch_info(&config, back, epoch, &tx.intent_hash_bech32, &format!("manual {what}"));
        if let Some(h) = &config.hooks.pre_switch {
            let o = run_hook_here(h, &info).await;
            if let Some(blocker) = hooks::fence_blocker(h, &o) {
                bail!("{what} refused: {blocker}; nothing was submitted");
            }
        }
        note_own_key(&config, lock.as_ref().map(|l| &l.0), &hex::encode(target_key.0))?;
        let params = SubmitParams::scaled(config.daemon.submit_deadline, config.policy.poll_interval);
        let mut inflight = submit::new_inflight(&tx, &format!("manual {what}"), SystemClock.now_ms());
        let endpoints = sources.tx_endpoints();
        let commit_epoch = loop {
            let obs = observe(&sources).await;
            let a = policy.observe(&obs, &gates);
            let Some(epoch) = agreed_epoch(&obs) else {
                eprintln!("waiting: no two sources agree on the epoch");
                tokio::time::sleep(config.policy.poll_interval).await;
                continue;
            };
            let mut persist = |_: &radix_failover::state::InFlight| Ok(());
            match submit::tick(&endpoints, &mut inflight, epoch, a.view.key_on_ledger == target, SystemClock.now_ms(), &params, &build, &mut persist).await {
                TickOutcome::Committed { intent_hash } => {
                    println!("committed: {intent_hash} in epoch {epoch}; the {} key applies from epoch {}", owner(&target), epoch.saturating_add(1));
                    info.epoch = epoch;
                    info.intent_hash = intent_hash;
                    if let Some(h) = &config.hooks.post_switch {
                        run_hook_here(h, &info).await;
                    }
                    break epoch;
                }
                TickOutcome::AlreadyDone => {
                    println!("the {} key is on ledger (set by someone else meanwhile)", owner(&target));
                    break epoch;
                }
                TickOutcome::Failed { message } => bail!("{what} transaction committed with FAILURE: {message}"),
                TickOutcome::GaveUp { reason } => bail!("{what}: gave up: {reason}"),
                _ => tokio::time::sleep(config.policy.poll_interval).await,
            }
        };
        if args.no_wait {
            return Ok(());
        }
        // Confirm at the next epoch: the target key in force, the target node validating.
        let deadline = tokio::time::Instant::now() + config.daemon.submit_deadline;
        loop {
            let obs = observe(&sources).await;
            let a = policy.observe(&obs, &gates);
            let node = match dir {
                Direction::ToBackup => &obs.backup,
                Direction::ToPrimary => &obs.primary,
            };
            let validating = node.as_ref().and_then(|n| n.result.as_ref().ok()).is_some_and(|n| {
                n.consensus == radix_failover::observe::NodeConsensus::ValidatingInCurrentEpoch
            });
            let epoch = agreed_epoch(&obs).unwrap_or(commit_epoch);
            if epoch > commit_epoch && a.view.key_in_force == target && validating {
                println!("confirmed: epoch {epoch}: the {} key is in force and that node reports VALIDATING_IN_CURRENT_EPOCH", owner(&target));
                if let Some(h) = &config.hooks.on_confirmed {
                    info.epoch = epoch;
                    run_hook_here(h, &info).await;
                }
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("committed, but the {} node does not report validating by the deadline; check it (radix-failover status)", owner(&target));
            }
            tokio::time::sleep(config.policy.poll_interval.min(Duration::from_secs(5))).await;
        }
    })
}

/// A hook of a manual switch made without a daemon: waited for, its output on stderr.
async fn run_hook_here(hook: &Hook, info: &SwitchInfo) -> hooks::Outcome {
    let kind = hook.kind.as_str();
    eprintln!("running the {kind} hook: {:?}", hook.argv);
    let o = hooks::run(hook, info).await;
    for line in &o.lines {
        eprintln!("hook {kind}: {line}");
    }
    eprintln!("{}", hooks::ending_line(hook, &o).1);
    o
}

/// A manual switch made while no daemon runs is ours too: the state file's tripwire baseline
/// (rule 11) learns the key, so the daemon does not report it as a change nobody made.
fn note_own_key(config: &Config, file: Option<&StateFile>, key_hex: &str) -> Result<()> {
    let Some(file) = file else { return Ok(()) };
    let Some(mut state) = file.load(&config.validator_bech32(), &config.network.logical_name)?
    else {
        return Ok(());
    };
    if state.tripwire.is_some() {
        state.note_own_key(key_hex);
        file.save(&state)?;
    }
    Ok(())
}

/// `switchover`: a planned switch to the node that does not validate now (or `--to`). The
/// ledger says which one validates; then it is `failover` or `failback`, through the daemon when
/// one runs.
pub fn switchover(args: &SwitchoverArgs) -> Result<()> {
    let config = load(&args.switch.config, false)?;
    let rt = runtime()?;
    let (in_force, epoch) = rt.block_on(async {
        let sources = Sources::new(&config).map_err(|e| anyhow!("{e}"))?;
        let obs = observe(&sources).await;
        let mut policy = policy_for(&config);
        let a = policy.observe(&obs, &Gates::ok());
        Ok::<_, anyhow::Error>((a.view.key_in_force, agreed_epoch(&obs)))
    })?;
    let active = match in_force {
        KeyOwner::Primary => "primary",
        KeyOwner::Backup => "backup",
        other => bail!("switchover refused: the key in force is {}, so it is not clear which node is the standby; check radix-failover status", owner(&other)),
    };
    let to = args
        .to
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase);
    let target = match to.as_deref() {
        None => {
            if active == "primary" {
                "backup"
            } else {
                "primary"
            }
        }
        Some(t @ ("primary" | "backup")) if t == active => {
            bail!("switchover refused: the {t} node validates already; nothing to do")
        }
        Some(t @ ("primary" | "backup")) => {
            if t == "primary" {
                "primary"
            } else {
                "backup"
            }
        }
        Some(other) => bail!("--to {other:?}: no such node; fix: give primary or backup"),
    };
    if let Some(e) = epoch {
        eprintln!(
            "switchover from the {active} to the {target}: submitted in epoch {e}; once it commits in this epoch it takes effect from epoch {} (the {active} keeps validating until then, so no proposal is lost)",
            e + 1
        );
    }
    let dir = if target == "backup" {
        Direction::ToBackup
    } else {
        Direction::ToPrimary
    };
    switch(&args.switch, dir)
}

/// `status` asks the daemon with this: a daemon answers between polls, well within it.
const STATUS_TIMEOUT: Duration = Duration::from_secs(10);

/// Who acts for a command that changes something.
enum Actor {
    /// A daemon runs (it holds the state file's lock): ask it, on its control socket.
    Daemon(std::path::PathBuf),
    /// No daemon runs: act here, holding the lock (none without a state file).
    Local(Option<(StateFile, StateLock)>),
}

fn actor(config: &Config, need_state: bool) -> Result<Actor> {
    let Some(path) = config.daemon.state_file.clone() else {
        if need_state {
            bail!("[daemon] state_file is not set, and the pause is kept there; fix: add [daemon] state_file = \"/var/lib/radix-failover/state.json\" (the daemon's)");
        }
        return Ok(Actor::Local(None));
    };
    let file = StateFile::new(path.clone());
    match file.lock() {
        Ok(lock) => Ok(Actor::Local(Some((file, lock)))),
        Err(StateError::Locked { .. }) => Ok(Actor::Daemon(control::socket_path(&path))),
        // No state directory here (a manual switch from another host's copy of the config):
        // no daemon can run on it, and a switch needs no state file.
        Err(StateError::MissingDir { .. }) if !need_state => Ok(Actor::Local(None)),
        Err(e) => Err(e.into()),
    }
}

fn ask_daemon(
    rt: &tokio::runtime::Runtime,
    sock: &std::path::Path,
    req: Request,
) -> Result<Response> {
    rt.block_on(control::request(sock, &req, control::ANSWER_TIMEOUT + Duration::from_secs(5)))
        .map_err(|e| match e {
            control::ControlError::NotRunning { .. } => anyhow!("a radix-failover daemon holds the state file's lock, but {e}; it may be starting up; fix: try again in a few seconds (or stop the daemon to act without it)"),
            other => other.into(),
        })
}

/// Prints the daemon's answer; a refusal is this command's error.
fn print_answer(r: &Response, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else if r.ok {
        println!("{}", r.message);
    }
    if !r.ok {
        bail!("{}", r.message);
    }
    Ok(())
}

fn load_or_new(file: &StateFile, config: &Config) -> Result<DaemonState> {
    let validator = config.validator_bech32();
    let network = config.network.logical_name.to_string();
    Ok(file
        .load(&validator, &network)?
        .unwrap_or_else(|| DaemonState::new(&validator, &network, SystemClock.now_ms())))
}

/// `pause`: through the daemon, or into the state file when none runs.
pub fn pause(args: &PauseArgs) -> Result<()> {
    let config = load(&args.config, true)?;
    match actor(&config, true)? {
        Actor::Daemon(sock) => {
            let rt = runtime()?;
            let r = ask_daemon(
                &rt,
                &sock,
                Request::Pause {
                    for_ms: args
                        .for_
                        .map(|d| d.as_millis().min(u64::MAX as u128) as u64),
                    reason: args.reason.clone(),
                },
            )?;
            print_answer(&r, args.json)
        }
        Actor::Local(Some((file, _lock))) => {
            let now = SystemClock.now_ms();
            let p = maintenance::new_pause(
                now,
                args.for_,
                args.reason.as_deref(),
                config.daemon.max_pause,
            )
            .map_err(|e| anyhow!("{e}"))?;
            let mut state = load_or_new(&file, &config)?;
            state.record(now, format!("paused {} (no daemon ran)", p.describe(now)));
            state.pause = Some(p.clone());
            file.save(&state)?;
            let r = Response::ok(format!(
                "paused {} (no daemon runs: the pause is in the state file {}, and a daemon started before it ends keeps it)",
                p.describe(now),
                file.path().display()
            ));
            print_answer(&r, args.json)
        }
        Actor::Local(None) => unreachable!("actor(need_state) has a state file"),
    }
}

/// `resume`.
pub fn resume(args: &ControlArgs) -> Result<()> {
    let config = load(&args.config, true)?;
    match actor(&config, true)? {
        Actor::Daemon(sock) => {
            let rt = runtime()?;
            let r = ask_daemon(&rt, &sock, Request::Resume)?;
            print_answer(&r, args.json)
        }
        Actor::Local(Some((file, _lock))) => {
            let now = SystemClock.now_ms();
            let mut state = load_or_new(&file, &config)?;
            let message = match state.pause.take() {
                Some(p) => {
                    state.record(
                        now,
                        format!("pause over: resumed by an operator (it was: {})", p.reason),
                    );
                    file.save(&state)?;
                    "resumed: automatic failover is armed again (no daemon runs; the state file says so)".to_string()
                }
                None => "not paused; automatic failover is armed".to_string(),
            };
            print_answer(&Response::ok(message), args.json)
        }
        Actor::Local(None) => unreachable!("actor(need_state) has a state file"),
    }
}

/// `cancel`.
pub fn cancel(args: &ControlArgs) -> Result<()> {
    let config = load(&args.config, true)?;
    match actor(&config, true)? {
        Actor::Daemon(sock) => {
            let rt = runtime()?;
            let r = ask_daemon(&rt, &sock, Request::Cancel)?;
            print_answer(&r, args.json)
        }
        Actor::Local(Some((file, _lock))) => {
            let now = SystemClock.now_ms();
            let mut state = load_or_new(&file, &config)?;
            let Some(c) = state.cancel_inflight(now, None) else {
                bail!(
                    "nothing to cancel: no intent is in flight (phase {} in {})",
                    state.phase.name(),
                    file.path().display()
                );
            };
            file.save(&state)?;
            let mut message = format!("cancelled intent {} in the state file (no daemon runs): a daemon started later will not send it", c.intent_hash);
            if c.submitted {
                message.push_str(&format!("; it was already submitted, so it MAY STILL COMMIT until its window ends at epoch {}, and a daemon started meanwhile watches for that", c.end_epoch));
            }
            message.push_str(". Note: with the primary still down, a daemon started now decides a failover again unless paused (radix-failover pause)");
            print_answer(&Response::ok(message), args.json)
        }
        Actor::Local(None) => unreachable!("actor(need_state) has a state file"),
    }
}

/// `failover`/`failback` while a daemon runs: the daemon acts (one intent in flight, ever).
fn switch_through_daemon(
    rt: &tokio::runtime::Runtime,
    config: &Config,
    sock: &std::path::Path,
    args: &SwitchArgs,
    dir: Direction,
) -> Result<()> {
    let (what, req) = match dir {
        Direction::ToBackup => ("failover", Request::Failover),
        Direction::ToPrimary => ("failback", Request::Failback),
    };
    eprintln!(
        "a radix-failover daemon runs: asking it to {what} (on {})",
        sock.display()
    );
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("standard input is not a terminal, so {what} cannot ask for confirmation; add --yes to confirm on the command line");
        }
        print!("Ask the running daemon to {what} now? Type yes to confirm: ");
        std::io::stdout().flush().ok();
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .context("cannot read the confirmation")?;
        if answer.trim() != "yes" {
            bail!("{what} not confirmed; nothing was asked");
        }
    }
    let r = ask_daemon(rt, sock, req)?;
    print_answer(&r, false)?;
    if args.no_wait || r.data.is_null() {
        return Ok(());
    }
    // Follow the daemon's progress until the switch is done (or stops).
    let deadline =
        std::time::Instant::now() + config.daemon.submit_deadline * 2 + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let s = ask_daemon(rt, sock, Request::Status)?;
        let phase = s.data["phase"]["phase"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if phase != last {
            eprintln!("daemon phase {phase}");
            last = phase.clone();
        }
        // Done once the target node's key is in force and the daemon settled: `failed_over`,
        // or `watching` again (a switch back, or a re-armed pair watching the new node).
        let target = match dir {
            Direction::ToBackup => "backup",
            Direction::ToPrimary => "primary",
        };
        let done = matches!(phase.as_str(), "failed_over" | "watching")
            && s.data["key_in_force"] == target;
        if done {
            println!("confirmed: the daemon reports the {what} done (phase {phase})");
            return Ok(());
        }
        if phase == "halted" {
            bail!("the daemon halted during the {what}: {}", s.message);
        }
        if std::time::Instant::now() > deadline {
            bail!("the {what} is not done by the deadline (phase {phase}); check radix-failover status");
        }
    }
}

/// `service print` / `service install`.
pub fn service(args: &ServiceArgs, install: bool) -> Result<()> {
    let config = load(&args.config, true)?;
    let opts = radix_failover::systemd::UnitOptions::for_config(
        &config,
        &args.user,
        &args.group,
        args.binary.as_deref(),
        args.watchdog_sec,
        args.key_credential.as_deref(),
    )?;
    if !install {
        opts.validate()?;
        print!("{}", radix_failover::systemd::unit_file(&opts));
        return Ok(());
    }
    let text = radix_failover::systemd::install(&opts, &args.path, args.dry_run)?;
    if args.dry_run {
        println!("# would write {}:\n{text}", args.path.display());
    } else {
        println!(
            "wrote {}\nnext: systemctl daemon-reload && systemctl enable --now radix-failover\nthen: journalctl -u radix-failover -f",
            args.path.display()
        );
    }
    Ok(())
}
