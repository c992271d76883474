//! The watching commands: `run` (the daemon), `status`, and the manual `failover` / `failback`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;

use radix_failover::config::Config;
use radix_failover::observe::Observation;
use radix_failover::policy::{Gates, KeyOwner, View};
use radix_failover::preflight::{self, Aim};
use radix_failover::runner::{agreed_epoch, policy_for, Clock, RunOptions, Runner, SystemClock};
use radix_failover::sources::Sources;
use radix_failover::state::StateFile;
use radix_failover::submit::{self, SubmitParams, TickOutcome};
use radix_failover::tx::{build_update_key, UpdateKeyRequest, DEFAULT_VALID_EPOCHS};

use crate::cli::{RunArgs, ServiceArgs, StatusArgs, SwitchArgs};

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
        let (mut runner, _lock) = Runner::new(config, key, SystemClock, opts)?;
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

pub fn status(args: &StatusArgs) -> Result<()> {
    let config = load(&args.config, false)?;
    let rt = runtime()?;
    let (obs, view) = rt.block_on(async {
        let sources = Sources::new(&config).map_err(|e| anyhow!("{e}"))?;
        let obs = observe(&sources).await;
        let mut policy = policy_for(&config);
        let a = policy.observe(
            &obs,
            &Gates {
                preflight_ok: true,
                preflight_problem: None,
            },
        );
        Ok::<_, anyhow::Error>((obs, a.view))
    })?;
    let phase = match &config.daemon.state_file {
        None => json!({"phase": null, "note": "no [daemon] state_file configured"}),
        Some(p) => match StateFile::new(p.clone()).load(
            &config.validator_bech32(),
            config.network.logical_name.as_ref(),
        ) {
            Ok(Some(s)) => serde_json::to_value(&s.phase).unwrap_or(json!(null)),
            Ok(None) => {
                json!({"phase": null, "note": "no state file yet (the daemon has not run)"})
            }
            Err(e) => json!({"phase": null, "error": e.to_string()}),
        },
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
        "key_in_force": owner(&view.key_in_force),
        "key_on_ledger": owner(&view.key_on_ledger),
        "epoch_made": view.epoch_made,
        "epoch_missed": view.epoch_missed,
        "finished_epochs_missed": view.finished_missed,
        "trusted_sources": view.trusted_sources,
        "ledger_sources": view.ledger_sources,
        "backup_ready": view.backup_ready.is_ok(),
        "backup_problem": view.backup_ready.as_ref().err(),
        "sources": sources,
        "daemon": phase,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    print_status(&v, &view);
    Ok(())
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
    rt.block_on(async {
        let sources = Sources::new(&config).map_err(|e| anyhow!("{e}"))?;
        let mut policy = policy_for(&config);
        let gates = Gates { preflight_ok: true, preflight_problem: None };
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
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("committed, but the {} node does not report validating by the deadline; check it (radix-failover status)", owner(&target));
            }
            tokio::time::sleep(config.policy.poll_interval.min(Duration::from_secs(5))).await;
        }
    })
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
