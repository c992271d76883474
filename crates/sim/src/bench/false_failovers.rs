//! `radix-sim bench-false-failovers`: the real daemon watches a healthy network (background
//! misses only, plus planned restarts of the primary shorter than the daemon's down threshold)
//! for a number of epochs, and every failover it decides is a false one.
//!
//! For epoch counts the engine is too slow for: `crates/failover/examples/policy_replay.rs`
//! replays the daemon's pure policy over the same generated rounds.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;

use super::{work_dir, SimNet};
use crate::faults::FaultAction;
use crate::harness::{find_failover_binary, DaemonProcess};
use crate::info::SimTiming;
use crate::profile::{
    mainnet_clock, mainnet_stakes, Profile, DEFAULT_OUR_STAKE_PERCENT, MAINNET_DEFAULT_ROUND_MS,
    MAINNET_ROUNDS_PER_EPOCH,
};

#[derive(Args, Debug, Clone)]
pub struct BenchFalseFailoversArgs {
    /// Healthy epochs to watch after the daemon is armed.
    #[arg(long, default_value_t = 20)]
    pub epochs: u64,
    /// Probability that a healthy leader misses a round anyway (0..1).
    #[arg(long, default_value_t = 0.01)]
    pub background_miss_rate: f64,
    /// Planned restarts of the primary during the run, evenly spread, each shorter than the
    /// daemon's down threshold (`primary_down_polls` - 1 polls).
    #[arg(long, default_value_t = 0)]
    pub restarts: u64,
    #[arg(long, value_enum, default_value_t = Profile::Mainnet)]
    pub profile: Profile,
    /// Our share of the stake in percent (mainnet profile).
    #[arg(long, default_value_t = DEFAULT_OUR_STAKE_PERCENT)]
    pub our_stake: f64,
    /// Round length in ms [default: 50; mainnet profile: 25].
    #[arg(long)]
    pub round_ms: Option<u64>,
    /// Epoch length in rounds [default: 100; mainnet profile: 1300].
    #[arg(long)]
    pub rounds_per_epoch: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object as the last line.
    #[arg(long)]
    pub json: bool,
    /// The radix-failover binary (default: next to this one).
    #[arg(long, value_name = "PATH")]
    pub failover_bin: Option<PathBuf>,
    /// Keep the run's files here.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The daemon's default `primary_down_polls`: a planned restart lasts one poll less.
const DEFAULT_PRIMARY_DOWN_POLLS: u64 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct FalseFailoverReport {
    pub profile: Profile,
    pub our_stake_percent: Option<f64>,
    pub background_miss_rate: f64,
    pub round_ms: u64,
    pub rounds_per_epoch: u64,
    pub epochs: u64,
    pub restarts: u64,
    pub restart_ms: u64,
    /// Failovers the daemon decided on this healthy network.
    pub false_failovers: u64,
    /// update_key transactions that committed.
    pub committed_key_changes: u64,
    /// Our leader rounds and how many of them the background misses took.
    pub our_rounds: u64,
    pub our_missed: u64,
    /// Rounds watched (every leader's), from the daemon's arming to the last epoch's end.
    pub watched_rounds: u64,
    /// Rounds per second the network really reached (timeouts included).
    pub measured_rounds_per_s: f64,
}

pub async fn bench_false_failovers(args: BenchFalseFailoversArgs) -> Result<FalseFailoverReport> {
    if args.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    if !(0.0..1.0).contains(&args.background_miss_rate) {
        bail!("--background-miss-rate must be from 0 up to (not including) 1, such as 0.01");
    }
    let (round_ms, rpe, stakes, timeout_base_ms) = match args.profile {
        Profile::Default => (
            args.round_ms.unwrap_or(50),
            args.rounds_per_epoch.unwrap_or(100),
            None,
            0,
        ),
        Profile::Mainnet => {
            let c = mainnet_clock(
                args.round_ms.unwrap_or(MAINNET_DEFAULT_ROUND_MS),
                args.rounds_per_epoch.unwrap_or(MAINNET_ROUNDS_PER_EPOCH),
            );
            eprintln!("{}", c.describe());
            (
                c.round_ms,
                c.rounds_per_epoch,
                Some(mainnet_stakes(args.our_stake).map_err(anyhow::Error::msg)?),
                c.timeout_base_ms,
            )
        }
    };
    let bin = find_failover_binary(args.failover_bin.as_deref())?;
    let (dir, keep) = work_dir(args.dir.as_deref(), "bench-false-failovers")?;
    let rate = args.background_miss_rate;
    let n = SimNet::start_with(args.seed, round_ms, rpe, &dir, |c| {
        if let Some(s) = stakes {
            c.validator_stakes_xrd = s;
        }
        c.timeout_base_ms = timeout_base_ms;
        c.background_miss_rate = rate;
    })
    .await?;
    let config = dir.join("failover.toml");
    n.write_config(&config, |_| {})?;
    let timing = SimTiming::for_epoch(round_ms, rpe);
    let restart_ms = timing.poll_interval_ms * (DEFAULT_PRIMARY_DOWN_POLLS - 1);
    let log = dir.join("radix-failover.log");
    n.net.state.clock.resume();
    n.wait_rounds(2).await?;
    let mut daemon = DaemonProcess::spawn(&bin, &config, &log, false)?;
    let mut decided = 0u64;
    let mut armed = false;
    let arm_deadline = n.sim.snapshot().position.epoch + 3;
    while !armed {
        tokio::time::sleep(Duration::from_millis(20)).await;
        for l in daemon.take_timed_lines() {
            armed |= l.text.contains("pre-flight passed");
            decided += u64::from(l.text.contains("FAILOVER DECIDED: "));
        }
        if let Some(status) = daemon.exited() {
            bail!("the daemon exited ({status}); see {}", log.display());
        }
        if n.sim.snapshot().position.epoch > arm_deadline {
            bail!(
                "the daemon did not pass pre-flight within 3 epochs; see {}",
                log.display()
            );
        }
    }
    let start = n.sim.snapshot().position.clone();
    let start_at = std::time::Instant::now();
    let end_epoch = start.epoch + args.epochs;
    // Restarts at evenly spread epochs, mid-epoch.
    let restart_epochs: Vec<u64> = (0..args.restarts)
        .map(|i| start.epoch + 1 + i * args.epochs.saturating_sub(1).max(1) / args.restarts.max(1))
        .collect();
    let mut done_restarts = 0u64;
    let mut tally = RoundTally::new(&n.info.our_validator, (start.epoch, start.round), end_epoch);
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tally.take(&n.sim);
        for l in daemon.take_timed_lines() {
            decided += u64::from(l.text.contains("FAILOVER DECIDED: "));
        }
        if let Some(status) = daemon.exited() {
            bail!("the daemon exited ({status}); see {}", log.display());
        }
        let p = n.sim.snapshot().position.clone();
        if p.epoch >= end_epoch {
            break;
        }
        if let Some(&e) = restart_epochs.get(done_restarts as usize) {
            if p.epoch >= e && p.round >= rpe / 2 {
                restart_primary(&n, restart_ms).await?;
                done_restarts += 1;
            }
        }
    }
    let elapsed = start_at.elapsed().as_secs_f64();
    tally.take(&n.sim);
    let RoundTally {
        rounds: watched,
        ours: our_rounds,
        ours_missed: our_missed,
        ..
    } = tally;
    let committed = n.sim.committed_intents().len() as u64;
    daemon.stop();
    n.net.shutdown().await;
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(FalseFailoverReport {
        profile: args.profile,
        our_stake_percent: (args.profile == Profile::Mainnet).then_some(args.our_stake),
        background_miss_rate: rate,
        round_ms,
        rounds_per_epoch: rpe,
        epochs: args.epochs,
        restarts: done_restarts,
        restart_ms,
        false_failovers: decided,
        committed_key_changes: committed,
        our_rounds,
        our_missed,
        watched_rounds: watched,
        measured_rounds_per_s: watched as f64 / elapsed.max(1e-9),
    })
}

/// The watched rounds, counted as they commit: the sim keeps only its last 10,000 rounds, fewer
/// than a long run's (20 mainnet-profile epochs are 26,000).
struct RoundTally {
    our_validator: String,
    /// The first round watched, and the first epoch not watched.
    from: (u64, u64),
    end_epoch: u64,
    /// The last round counted.
    last: Option<(u64, u64)>,
    rounds: u64,
    ours: u64,
    ours_missed: u64,
}

impl RoundTally {
    fn new(our_validator: &str, from: (u64, u64), end_epoch: u64) -> RoundTally {
        RoundTally {
            our_validator: our_validator.to_string(),
            from,
            end_epoch,
            last: None,
            rounds: 0,
            ours: 0,
            ours_missed: 0,
        }
    }

    /// Counts the rounds committed since the last call (called every 20 ms, while fewer
    /// than 512 rounds commit).
    fn take(&mut self, sim: &crate::ledger::Sim) {
        for r in sim.round_history(512) {
            let at = (r.epoch, r.round);
            if at < self.from || r.epoch >= self.end_epoch || self.last.is_some_and(|l| at <= l) {
                continue;
            }
            self.last = Some(at);
            self.rounds += 1;
            if r.leader_address == self.our_validator {
                self.ours += 1;
                self.ours_missed += u64::from(!r.made);
            }
        }
    }
}

/// A planned restart: the primary's ports close and it stops proposing for `ms`, then it is back.
async fn restart_primary(n: &SimNet, ms: u64) -> Result<()> {
    let node = "primary".to_string();
    for (action, wait) in [
        (FaultAction::NodeDown { node: node.clone() }, ms),
        (FaultAction::NodeUp { node }, 0),
    ] {
        if let Some(change) = n.faults.apply(&n.sim, &action).context("planned restart")? {
            crate::faults::change_ports(&n.net.state.servers, change)
                .await
                .context("planned restart: ports")?;
        }
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    Ok(())
}

pub fn report(r: &FalseFailoverReport) -> String {
    format!(
        "bench-false-failovers: {} healthy epochs of {} rounds x {} ms, background miss rate {}, {} planned restart(s) of {} ms\nrounds watched {}, ours {} ({} missed by the background rate); rounds/s reached {:.1}\nfalse failovers: {} (update_key commits: {})\n",
        r.epochs,
        r.rounds_per_epoch,
        r.round_ms,
        r.background_miss_rate,
        r.restarts,
        r.restart_ms,
        r.watched_rounds,
        r.our_rounds,
        r.our_missed,
        r.measured_rounds_per_s,
        r.false_failovers,
        r.committed_key_changes
    )
}

pub async fn run(args: BenchFalseFailoversArgs) -> Result<()> {
    let json = args.json;
    let r = bench_false_failovers(args).await?;
    let mut out = std::io::stdout();
    write!(out, "{}", report(&r))?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&r)?)?;
    }
    Ok(())
}
