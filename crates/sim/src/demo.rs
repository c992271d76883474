//! `radix-sim demo`: a real failover on your machine, in about half a minute.
//!
//! Starts a simulated network (real Radix Engine, APIs on loopback), writes a radix-failover
//! config for it, runs the real `radix-failover run` binary against it, kills our primary node
//! at a random round, and prints the timeline as it happens: the fault, our first missed
//! proposal, the daemon's decision, the submit, the commit, the epoch change, the backup
//! validating and our proposals made again, each with its epoch, round and the running count
//! of our missed proposals. It exits 0 only if the failover worked.
//!
//! Everything is measured on the sim's ledger (the engine's round records and keys), not
//! taken from the daemon's word; the daemon's log lines only time its decision and submit.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use rand::Rng;
use serde::Serialize;

use crate::api::{Network, Ports};
use crate::faults::{change_ports, FaultAction, Faults};
pub use crate::harness::unavoidable;
use crate::harness::{
    backup_validating, find_failover_binary, install_marks, our_share, DaemonProcess, Marks,
};
use crate::info::Info;
use crate::ledger::types::RoundRecord;
use crate::ledger::{BadgeIn, Sim, SimConfig};
use crate::profile::{mainnet_clock, mainnet_stakes, Profile, DEFAULT_OUR_STAKE_PERCENT};
use crate::scenario::{Event, Scenario, Trigger};

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Seed of the network and of the fault's round (default: from the clock; printed, so a
    /// run can be repeated).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Round length in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub round_ms: u64,
    /// Epoch length in rounds (50 x 100 ms: a 5 s epoch, so the whole demo takes ~30 s).
    #[arg(long, default_value_t = 50)]
    pub rounds_per_epoch: u64,
    /// Kill the primary at this round of the fault epoch instead of a random one.
    #[arg(long)]
    pub fault_round: Option<u64>,
    /// The radix-failover binary (default: next to this one; built first when run by cargo).
    #[arg(long, value_name = "PATH")]
    pub failover_bin: Option<PathBuf>,
    /// Keep the network's files (config, key, state, daemon log) in this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Also print every line the daemon logs.
    #[arg(long)]
    pub verbose: bool,
    /// Print one JSON object with the results as the last line.
    #[arg(long)]
    pub json: bool,
    /// `mainnet`: 100 validators with long-tailed stakes, ours at --our-stake, the pacemaker
    /// timeout scaled to --round-ms (give --rounds-per-epoch 1300 --round-ms 25 for mainnet's
    /// ratios: with fewer rounds than validators a small validator may not lead in an epoch).
    /// Watch the nodes through TLS fronts as the node CLI's nginx serves them: one HTTPS port
    /// per node with /core and /system, basic auth and a self-signed certificate (CN=localhost,
    /// no SAN), pinned in the daemon's config. A killed node answers 502 there, as nginx does.
    #[arg(long)]
    pub tls_front: bool,
    #[arg(long, value_enum, default_value_t = Profile::Default)]
    pub profile: Profile,
    /// Our share of the stake in percent, with --profile mainnet.
    #[arg(long, default_value_t = DEFAULT_OUR_STAKE_PERCENT)]
    pub our_stake: f64,
    /// Where our validator's owner badge is at genesis: in the owner account, or in a native
    /// access controller whose primary role is the daemon's key and whose recovery role is a
    /// recovery key written beside it (the daemon then proves the badge through the
    /// controller's `create_proof`, as docs/safety.md recommends for mainnet).
    #[arg(long, value_enum, default_value_t = BadgeIn::Account)]
    pub badge_in: BadgeIn,
}

/// The demo's result (`--json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoResult {
    pub seed: u64,
    pub failover_committed: bool,
    pub intent_hash: Option<String>,
    pub fault_epoch: u64,
    pub fault_round: u64,
    pub decision_epoch: Option<u64>,
    pub decision_round: Option<u64>,
    pub commit_epoch: Option<u64>,
    pub backup_validating_epoch: Option<u64>,
    /// Our leader rounds missed from the fault until the backup's first proposal.
    pub missed_proposals: u64,
    /// Our leader rounds from the fault to the first epoch change at least one round after
    /// it: missed whatever any tool does, since a new key applies only from the next epoch.
    pub unavoidable_missed_proposals: u64,
    pub seconds: f64,
    pub daemon_log: PathBuf,
}

/// Longest the demo waits for the failover to complete before it gives up (exit 1): eight
/// epochs is far more than a working failover needs (it completes within two).
const MAX_EPOCHS_TO_WAIT: u64 = 8;

pub async fn demo(args: DemoArgs) -> Result<bool> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64 % 1_000_000)
            .unwrap_or(1)
    });
    if args.rounds_per_epoch < 10 || args.round_ms < 20 {
        bail!("--rounds-per-epoch must be at least 10 and --round-ms at least 20 (the daemon polls once per round)");
    }
    let bin = find_failover_binary(args.failover_bin.as_deref())?;
    // Timed from here: building the daemon (first run) is not part of the demo.
    let started = Instant::now();
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.clone()
        }
        None => {
            let d =
                std::env::temp_dir().join(format!("radix-sim-demo-{}-{seed}", std::process::id()));
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create {}", d.display()))?;
            d
        }
    };

    let mut cfg = SimConfig::new(seed, dir.join("owner.key"));
    cfg.round_length_ms = args.round_ms;
    cfg.rounds_per_epoch = args.rounds_per_epoch;
    cfg.badge_in = args.badge_in;
    if args.profile == Profile::Mainnet {
        let c = mainnet_clock(args.round_ms, args.rounds_per_epoch);
        cfg.validator_stakes_xrd = mainnet_stakes(args.our_stake).map_err(anyhow::Error::msg)?;
        cfg.timeout_base_ms = c.timeout_base_ms;
        println!("{}", c.describe());
    }
    let sim = tokio::task::spawn_blocking(move || Sim::genesis(cfg))
        .await
        .context("genesis task failed")??;
    let faults = Arc::new(Faults::new());
    let net = Network::start(sim.clone(), faults.clone(), &Ports::default())
        .await
        .context("cannot bind loopback ports")?;
    let mut info = Info::gather(&net, seed);
    if args.tls_front {
        info.fronts = crate::front::start_fronts(
            net.state.servers.clone(),
            &dir.join("fronts"),
            crate::front::FrontOptions { with_san: false },
        )
        .await
        .context("cannot start the TLS fronts")?;
    }
    let config = dir.join("failover.toml");
    std::fs::write(&config, info.failover_config()).context("cannot write the config")?;

    // The fault: two epochs from now (time for the daemon to start and pass pre-flight), at a
    // random round of that epoch (or the one asked for).
    let start_epoch = sim.snapshot().position.epoch;
    let fault_epoch = start_epoch + 2;
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed ^ 0xfa17);
    let fault_round = args
        .fault_round
        .unwrap_or_else(|| rng.gen_range(1..args.rounds_per_epoch));
    if fault_round == 0 || fault_round >= args.rounds_per_epoch {
        bail!(
            "--fault-round must be between 1 and {}",
            args.rounds_per_epoch - 1
        );
    }
    let (ports_tx, mut ports_rx) = tokio::sync::mpsc::unbounded_channel();
    Scenario {
        seed: None,
        events: vec![Event {
            at: Trigger::Epoch {
                epoch: fault_epoch,
                round: fault_round,
            },
            action: FaultAction::NodeDown {
                node: "primary".into(),
            },
            line: 0,
        }],
    }
    .install(&sim, faults.clone(), ports_tx);
    let servers = net.state.servers.clone();
    tokio::spawn(async move {
        while let Some(change) = ports_rx.recv().await {
            let _ = change_ports(&servers, change).await;
        }
    });
    // Where the fault and the key change land, recorded by the engine's own round hook.
    let marks = install_marks(&sim, &info.our_validator, &info.backup_public_key_hex);

    let log_path = dir.join("radix-failover.log");
    let mut daemon = DaemonProcess::spawn(&bin, &config, &log_path, args.verbose)?;

    let out = &mut std::io::stdout();
    writeln!(
        out,
        "radix-sim demo (seed {seed}): {} validators, ours leads ~{:.0}% of rounds; epochs of {} rounds x {} ms",
        sim.info().nodes.len().saturating_sub(1),
        our_share(&sim) * 100.0,
        args.rounds_per_epoch,
        args.round_ms
    )?;
    writeln!(
        out,
        "network on loopback: gateway {}  (config {})",
        info.gateway_url,
        config.display()
    )?;
    if let Some(ac) = &info.access_controller {
        writeln!(
            out,
            "our owner badge is in access controller {ac}: the daemon's key is its primary role, the recovery key {} its recovery role",
            info.recovery_key_file
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )?;
    }
    for f in &info.fronts {
        writeln!(
            out,
            "node {} behind a TLS front: {}/core and /system (basic auth user {}, self-signed certificate pinned: {})",
            f.node, f.url, f.user, f.cert_sha256
        )?;
    }
    writeln!(
        out,
        "daemon: {} run --config {}  (log {})",
        bin.display(),
        config.display(),
        log_path.display()
    )?;
    writeln!(
        out,
        "the primary node will be killed at round {fault_round} of epoch {fault_epoch}\n"
    )?;
    writeln!(out, "{:>6} {:>6} {:>7}  event", "epoch", "round", "missed")?;

    net.state.clock.resume();
    let result = watch(&sim, &info, &marks, &mut daemon, fault_epoch, out).await;
    daemon.stop();
    net.shutdown().await;
    let mut result = result?;
    result.seed = seed;
    result.seconds = started.elapsed().as_secs_f64();
    result.daemon_log = log_path;

    let ok = result.failover_committed && result.backup_validating_epoch.is_some();
    writeln!(out)?;
    if ok {
        writeln!(
            out,
            "failover worked: {} of our proposals missed; {} were unavoidable (no tool can switch keys before the next epoch); {:.1} s",
            result.missed_proposals, result.unavoidable_missed_proposals, result.seconds
        )?;
        if result.commit_epoch.is_some_and(|c| c > result.fault_epoch) {
            writeln!(
                out,
                "the fault came at round {} of epoch {}, too close to its end to detect it and commit before the epoch change, so epoch {} was lost too (see docs/benchmarks.md)",
                result.fault_round,
                result.fault_epoch,
                result.fault_epoch + 1
            )?;
        }
    } else {
        writeln!(
            out,
            "FAILOVER DID NOT COMPLETE; see the daemon's log: {}",
            result.daemon_log.display()
        )?;
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&result)?)?;
    }
    if args.dir.is_none() && ok {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(ok)
}

/// Follows the ledger and the daemon's log until the backup proposes (or the wait ends),
/// printing each event once, as it happens.
async fn watch(
    sim: &Sim,
    info: &Info,
    marks: &Arc<Mutex<Marks>>,
    daemon: &mut DaemonProcess,
    fault_epoch: u64,
    out: &mut impl Write,
) -> Result<DemoResult> {
    let mut r = DemoResult::default();
    let mut seen: Option<(u64, u64)> = None;
    let mut rounds: Vec<RoundRecord> = Vec::new();
    let mut missed = 0u64;
    let mut said = std::collections::HashSet::new();
    let mut printed_fault = false;
    let mut backup_validating_said = false;
    let deadline_epoch = fault_epoch + MAX_EPOCHS_TO_WAIT;
    let line = |out: &mut dyn Write, epoch: u64, round: u64, missed: u64, what: &str| {
        let _ = writeln!(out, "{epoch:>6} {round:>6} {missed:>7}  {what}");
        let _ = out.flush();
    };
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let pos = sim.snapshot().position.clone();
        // New rounds, oldest first.
        let fresh: Vec<RoundRecord> = sim
            .round_history(2_000)
            .into_iter()
            .filter(|x| seen.is_none_or(|s| (x.epoch, x.round) > s))
            .collect();
        let fault = marks.lock().unwrap_or_else(|p| p.into_inner()).fault;
        for rec in fresh {
            if let Some(prev) = seen {
                if rec.epoch > prev.0 {
                    let key_change = marks
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .key_change_epoch;
                    let in_force = if key_change.is_some_and(|e| e < rec.epoch) {
                        "the backup's"
                    } else {
                        "the primary's"
                    };
                    line(
                        out,
                        rec.epoch,
                        rec.round,
                        missed,
                        &format!("epoch change: {in_force} key in force"),
                    );
                }
            }
            seen = Some((rec.epoch, rec.round));
            rounds.push(rec.clone());
            if let Some(f) = fault {
                if !printed_fault && (rec.epoch, rec.round) >= f {
                    printed_fault = true;
                    r.fault_epoch = f.0;
                    r.fault_round = f.1;
                    line(out, f.0, f.1, missed, "FAULT: the primary node is killed (its APIs refuse connections, it proposes nothing)");
                }
                let after_fault = (rec.epoch, rec.round) >= f;
                if after_fault && rec.leader_address == info.our_validator {
                    if rec.made {
                        let key_change = marks
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .key_change_epoch;
                        if key_change.is_some_and(|e| rec.epoch > e) {
                            if !backup_validating_said && backup_validating(sim) {
                                r.backup_validating_epoch = Some(rec.epoch);
                                line(
                                    out,
                                    rec.epoch,
                                    rec.round,
                                    missed,
                                    "the backup node reports VALIDATING_IN_CURRENT_EPOCH",
                                );
                            }
                            line(
                                out,
                                rec.epoch,
                                rec.round,
                                missed,
                                "our proposal made again, by the backup",
                            );
                            r.unavoidable_missed_proposals =
                                unavoidable(&rounds, f, &info.our_validator);
                            r.missed_proposals = missed;
                            return Ok(r);
                        }
                    } else {
                        missed += 1;
                        let what = if missed == 1 {
                            "first missed proposal (we were leader)".to_string()
                        } else {
                            "missed proposal (we were leader)".to_string()
                        };
                        line(out, rec.epoch, rec.round, missed, &what);
                    }
                }
            }
        }
        // The daemon's decisions, timed by when its log lines arrive.
        for l in daemon.take_lines() {
            let event = if l.contains("pre-flight passed") {
                Some((
                    "armed",
                    "radix-failover armed: every pre-flight check passed".to_string(),
                ))
            } else if let Some(i) = l.find("FAILOVER DECIDED: ") {
                r.decision_epoch = Some(pos.epoch);
                r.decision_round = Some(pos.round);
                let reason = &l[i + "FAILOVER DECIDED: ".len()..];
                let reason = reason.split("; intent").next().unwrap_or(reason);
                Some((
                    "decided",
                    format!("radix-failover decides to fail over: {reason}"),
                ))
            } else if l.contains("submit accepted") {
                let intent = l
                    .split("intent=")
                    .nth(1)
                    .and_then(|s| s.split_whitespace().next())
                    .unwrap_or("");
                Some(("submitted", format!("transaction submitted: {intent}")))
            } else if let Some(i) = l.find("COMMITTED: ") {
                let intent = l[i + "COMMITTED: ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string();
                r.failover_committed = true;
                r.intent_hash = Some(intent.clone());
                r.commit_epoch = marks
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .key_change_epoch
                    .or(Some(pos.epoch));
                Some(("committed", format!("committed (CommittedSuccess): {intent}; the backup's key applies from the next epoch")))
            } else if l.contains("FAILOVER COMPLETE") {
                Some((
                    "complete",
                    "radix-failover confirms: backup validating, proposals made".to_string(),
                ))
            } else if l.contains(" ERROR ") {
                Some(("error", format!("daemon error: {l}")))
            } else {
                None
            };
            if let Some((key, what)) = event {
                if key == "error" || said.insert(key) {
                    line(out, pos.epoch, pos.round, missed, &what);
                }
            }
        }
        if backup_validating(sim) && !backup_validating_said {
            backup_validating_said = true;
            r.backup_validating_epoch = Some(pos.epoch);
            line(
                out,
                pos.epoch,
                pos.round,
                missed,
                "the backup node reports VALIDATING_IN_CURRENT_EPOCH",
            );
        }
        if pos.epoch > deadline_epoch {
            r.missed_proposals = missed;
            if let Some(f) = fault {
                r.unavoidable_missed_proposals = unavoidable(&rounds, f, &info.our_validator);
            }
            return Ok(r);
        }
        if let Some(status) = daemon.exited() {
            bail!(
                "the radix-failover daemon exited ({status}); see {}",
                daemon.log.display()
            );
        }
    }
}
