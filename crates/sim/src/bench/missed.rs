//! `radix-sim bench-failover`: missed proposals after a primary failure, at fault positions
//! spread evenly through the epoch, for radix-failover's default policy and for the old
//! community tool's rule (the `legacy` policy, polled every 4/5 of an epoch), against the
//! unavoidable minimum.
//!
//! Each run is a fresh simulated network (same seed for every run, so every run has the same
//! keys and leader schedule up to the fault), the real `radix-failover run` binary with
//! radix-sim's written config, and the primary node killed at (fault epoch, round) by a round
//! hook. Everything is measured on the engine's round history and commit records; the
//! daemon's log only times its decision (the line's arrival, mapped to the round decided
//! last before it).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;

use super::{median, set, work_dir, SimNet};
use crate::faults::FaultAction;
use crate::harness::{find_failover_binary, install_marks, DaemonProcess, LogLine};
use crate::info::SimTiming;
use crate::ledger::types::{CommitInfo, IntentStatus, RoundRecord};
use crate::profile::{
    mainnet_clock, mainnet_stakes, Profile, DEFAULT_OUR_STAKE_PERCENT, MAINNET_DEFAULT_ROUND_MS,
    MAINNET_ROUNDS_PER_EPOCH,
};

#[derive(Args, Debug, Clone)]
pub struct BenchFailoverArgs {
    /// Number of fault positions, evenly through the epoch (round 1 + i x epoch/N).
    #[arg(long, default_value_t = 20)]
    pub faults: u64,
    /// Print one JSON object with the totals and every run as the last line.
    #[arg(long)]
    pub json: bool,
    /// Networks (each with its own daemon) run at the same time.
    #[arg(long, default_value_t = 2)]
    pub parallel: usize,
    /// Round length in milliseconds [default: 50; mainnet profile: 25].
    #[arg(long)]
    pub round_ms: Option<u64>,
    /// Epoch length in rounds [default: 100 (our validator, ~11 % of the stake, leads ~11 rounds
    /// an epoch); mainnet profile: 1300].
    #[arg(long)]
    pub rounds_per_epoch: Option<u64>,
    /// Seed of every network (keys and leader schedule); the same for every run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Epochs after the fault epoch the baseline gets to fail over; a run that has not by then
    /// counts its misses until then (a lower bound).
    #[arg(long, default_value_t = 12)]
    pub baseline_wait_epochs: u64,
    /// Only run radix-failover's default policy (no baseline).
    #[arg(long)]
    pub skip_baseline: bool,
    /// How the primary fails: `down` (the node dies: it proposes nothing and its APIs refuse
    /// connections; issue 6's benchmark) or `silent` (it stops proposing but its APIs stay up
    /// and report healthy, so only the ledger's miss counts show it).
    /// `stuck` (APIs answer, ledger frozen), `wrong-key` (restarted with another key) and
    /// `flaky` (half of its proposals time out) complete the kinds [default: down; with
    /// --profile mainnet and no --our-stake: every kind].
    #[arg(long, value_enum)]
    pub fault: Option<FaultKind>,
    /// The radix-failover binary (default: next to this one; built first when run by cargo).
    #[arg(long, value_name = "PATH")]
    pub failover_bin: Option<PathBuf>,
    /// Keep every run's files (configs, daemon logs) in this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// `mainnet`: 100 validators, long-tailed stakes, ours at --our-stake, mainnet's round and
    /// timeout ratios on a scaled clock.
    #[arg(long, value_enum, default_value_t = Profile::Default)]
    pub profile: Profile,
    /// Our share of the stake in percent (mainnet profile) [default: 0.5; with no --fault
    /// either, the matrix of 0.5, 2 and 10 against every fault kind].
    #[arg(long)]
    pub our_stake: Option<f64>,
    /// Probability that a healthy leader misses a round anyway (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub background_miss_rate: f64,
}

/// Epochs of the network before the fault: the daemon starts and passes pre-flight in well
/// under one epoch, and the second epoch gives it a full epoch of history to watch.
const WARMUP_EPOCHS: u64 = 2;
/// How long radix-failover's default policy gets after the fault epoch: it completes within
/// two epochs; eight means a run that has not is reported, not waited on for ever.
const OURS_WAIT_EPOCHS: u64 = 8;
/// Targets from issue 6: total misses at most 1.15 x the unavoidable minimum, and no fault
/// before the last 10 % of an epoch costs a second epoch.
const TARGET_RATIO: f64 = 1.15;
const LAST_FRACTION: f64 = 0.10;
/// Mainnet's epoch and the old tool's poll, for the scale: 4 min of a 5 min epoch.
const MAINNET_EPOCH_MS: u64 = 5 * 60 * 1000;
const LEGACY_POLL_MS: u64 = 4 * 60 * 1000;
const MAINNET_DEFAULT_POLL_MS: u64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    Down,
    Silent,
    Stuck,
    WrongKey,
    Flaky,
}

impl FaultKind {
    pub const ALL: [FaultKind; 5] = [
        FaultKind::Down,
        FaultKind::Silent,
        FaultKind::Stuck,
        FaultKind::WrongKey,
        FaultKind::Flaky,
    ];

    /// The sim fault applied to the primary.
    pub fn action(self) -> FaultAction {
        let node = "primary".to_string();
        match self {
            FaultKind::Down => FaultAction::NodeDown { node },
            FaultKind::Silent => FaultAction::NodeSilent { node },
            FaultKind::Stuck => FaultAction::NodeStuck { node },
            FaultKind::WrongKey => FaultAction::NodeWrongKey { node },
            FaultKind::Flaky => FaultAction::NodeFlaky { node },
        }
    }

    /// Whether a perfect observer knows at the fault itself (the node's APIs, ledger or
    /// identity show it at once), or only at its first missed leader round (a node that looks
    /// healthy cannot be told apart before it misses).
    pub fn visible_at_fault(self) -> bool {
        matches!(
            self,
            FaultKind::Down | FaultKind::Stuck | FaultKind::WrongKey
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Down => "down",
            FaultKind::Silent => "silent",
            FaultKind::Stuck => "stuck",
            FaultKind::WrongKey => "wrong-key",
            FaultKind::Flaky => "flaky",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FaultKind::Down => "the primary dies",
            FaultKind::Silent => "the primary stops proposing, its APIs stay up",
            FaultKind::Stuck => "the primary's APIs answer but its ledger stops",
            FaultKind::WrongKey => "the primary restarts with another key",
            FaultKind::Flaky => "half of the primary's proposals time out",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// radix-failover's default policy, radix-sim's scaled config.
    Ours,
    /// The old tool's rule: `[policy] name = "legacy"`, polled every 4/5 of an epoch.
    Baseline,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Rule::Ours => "ours",
            Rule::Baseline => "baseline",
        }
    }
}

/// What one run measured (all rounds counted on the engine's round history).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Measures {
    pub fault_epoch: u64,
    pub fault_round: u64,
    /// Our leader rounds missed from the fault until the backup's first made proposal (or the
    /// end of the wait when it never came: then a lower bound).
    pub missed: u64,
    /// Misses of the ideal watcher for this fault kind (issue 14 item 7): from the fault for
    /// down/stuck/wrong-key, from the first missed round of ours for silent/flaky.
    pub unavoidable: u64,
    /// Misses of an ideal watcher that switches at the fault itself.
    pub unavoidable_from_fault: u64,
    /// Misses of an ideal watcher that switches at our first missed round after the fault.
    pub unavoidable_from_first_miss: u64,
    /// The backup made one of our proposals before the wait ended.
    pub recovered: bool,
    pub detection_rounds: Option<u64>,
    pub detection_s: Option<f64>,
    pub commit_rounds: Option<u64>,
    pub commit_s: Option<f64>,
    /// Epoch in which the update_key transaction committed (the key applies from the next).
    pub commit_epoch: Option<u64>,
    /// The earliest possible commit epoch: that of the round after the fault.
    pub earliest_epoch: u64,
    /// Epochs lost beyond the unavoidable one (commit epoch - earliest epoch); a lower bound
    /// when nothing committed.
    pub extra_epochs: u64,
    /// The fault's epoch was not the only one lost (the commit came after the fault epoch).
    pub second_epoch: bool,
}

/// One run: a rule at a fault position.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub rule: Rule,
    #[serde(flatten)]
    pub m: Measures,
    pub decision: Option<String>,
    /// Wall-clock length of an epoch on this run (the clock can fall behind on a busy machine).
    pub measured_epoch_ms: f64,
    /// The poll interval the daemon reported at start-up (its own `Debug` of the duration).
    pub daemon_poll: Option<String>,
    pub daemon_log: PathBuf,
}

/// The last round decided at or before `t_ms` (round timestamps are the sim's wall clock).
fn round_at(rounds: &[RoundRecord], t_ms: i64) -> Option<usize> {
    rounds.iter().rposition(|r| r.timestamp_ms <= t_ms)
}

/// Measures a run from the round history, the fault position, the decision's time (unix ms)
/// and the commit record.
pub fn analyse(
    rounds: &[RoundRecord],
    fault: (u64, u64),
    ours: &str,
    decided_ms: Option<i64>,
    commit: Option<&CommitInfo>,
) -> Measures {
    analyse_kind(rounds, fault, ours, decided_ms, commit, FaultKind::Down)
}

/// Misses of ours from round index `from` through the epoch after which a switch decided at
/// `from` applies: the epoch of the round after `from` (the earliest commit), inclusive.
fn ideal_misses(rounds: &[RoundRecord], from: usize, ours: &str) -> u64 {
    let Some(commit_epoch) = rounds.get(from + 1).map(|r| r.epoch) else {
        return 0;
    };
    rounds[from..]
        .iter()
        .take_while(|r| r.epoch <= commit_epoch)
        .filter(|r| r.leader_address == ours && !r.made)
        .count() as u64
}

/// [`analyse`] for a fault kind: the ideal watcher of item 7, and a made round of ours counts
/// as the backup's only once the key change has applied (a flaky primary still makes some).
pub fn analyse_kind(
    rounds: &[RoundRecord],
    fault: (u64, u64),
    ours: &str,
    decided_ms: Option<i64>,
    commit: Option<&CommitInfo>,
    kind: FaultKind,
) -> Measures {
    let mut m = Measures {
        fault_epoch: fault.0,
        fault_round: fault.1,
        ..Measures::default()
    };
    let Some(fi) = rounds.iter().position(|r| (r.epoch, r.round) >= fault) else {
        return m;
    };
    m.unavoidable_from_fault = ideal_misses(rounds, fi, ours);
    let first_miss = rounds[fi..]
        .iter()
        .position(|r| r.leader_address == ours && !r.made)
        .map(|i| fi + i);
    m.unavoidable_from_first_miss = first_miss.map_or(0, |i| ideal_misses(rounds, i, ours));
    m.unavoidable = if kind.visible_at_fault() {
        m.unavoidable_from_fault
    } else {
        m.unavoidable_from_first_miss
    };
    m.earliest_epoch = rounds.get(fi + 1).map_or(fault.0, |r| r.epoch);
    let switched = |r: &RoundRecord| commit.is_some_and(|c| r.epoch > c.epoch);
    for r in &rounds[fi..] {
        if r.leader_address == ours {
            if r.made && switched(r) {
                m.recovered = true;
                break;
            }
            if !r.made {
                m.missed += 1;
            }
        }
    }
    let fault_ms = rounds[fi].timestamp_ms;
    let di = decided_ms.and_then(|t| round_at(rounds, t));
    if let (Some(t), Some(di)) = (decided_ms, di) {
        m.detection_rounds = Some(di.saturating_sub(fi) as u64);
        m.detection_s = Some((t - fault_ms) as f64 / 1000.0);
    }
    if let Some(c) = commit {
        m.commit_epoch = Some(c.epoch);
        if let (Some(t), Some(di)) = (decided_ms, di) {
            if let Some(ci) = round_at(rounds, c.confirmed_at_ms) {
                m.commit_rounds = Some(ci.saturating_sub(di) as u64);
            }
            m.commit_s = Some((c.confirmed_at_ms - t) as f64 / 1000.0);
        }
        m.extra_epochs = c.epoch.saturating_sub(m.earliest_epoch);
        m.second_epoch = c.epoch > fault.0;
    } else {
        // Nothing committed: the key could apply at best after the last epoch seen.
        let last = rounds.last().map_or(fault.0, |r| r.epoch);
        m.extra_epochs = last.saturating_sub(m.earliest_epoch);
        m.second_epoch = true;
    }
    m
}

struct Spec {
    fault: FaultKind,
    bin: PathBuf,
    dir: PathBuf,
    seed: u64,
    round_ms: u64,
    rounds_per_epoch: u64,
    baseline_wait_epochs: u64,
    /// Genesis stakes (None: the default network's).
    stakes: Option<Vec<u64>>,
    timeout_base_ms: u64,
    background_miss_rate: f64,
}

impl Spec {
    fn epoch_ms(&self) -> u64 {
        self.round_ms * self.rounds_per_epoch
    }
    /// The old tool's 4-minute poll scaled to the sim's epoch (4/5 of an epoch).
    fn baseline_poll_ms(&self) -> u64 {
        self.epoch_ms() * LEGACY_POLL_MS / MAINNET_EPOCH_MS
    }
}

async fn run_one(spec: &Spec, rule: Rule, fault_round: u64) -> Result<RunResult> {
    let dir = spec
        .dir
        .join(format!("{}-round-{fault_round}", rule.name()));
    let n = SimNet::start_with(spec.seed, spec.round_ms, spec.rounds_per_epoch, &dir, |c| {
        if let Some(st) = &spec.stakes {
            c.validator_stakes_xrd = st.clone();
        }
        c.timeout_base_ms = spec.timeout_base_ms;
        c.background_miss_rate = spec.background_miss_rate;
    })
    .await?;
    let config = dir.join("failover.toml");
    let baseline_poll = format!("{}ms", spec.baseline_poll_ms());
    n.write_config(&config, |t| {
        if rule == Rule::Baseline {
            set(t, "policy", "name", "legacy".into());
            set(t, "policy", "poll_interval", baseline_poll.into());
        }
    })?;
    let fault_epoch = n.sim.snapshot().position.epoch + WARMUP_EPOCHS;
    let marks = install_marks(&n.sim, &n.info.our_validator, &n.info.backup_public_key_hex);
    {
        let faults = n.faults.clone();
        let ports = n.ports.clone();
        let marks = marks.clone();
        let mut fired = false;
        let action = spec.fault.action();
        n.sim.add_round_hook(Box::new(move |sim, epoch, round| {
            if !fired && (epoch > fault_epoch || (epoch == fault_epoch && round >= fault_round)) {
                fired = true;
                // The fault's round, whatever the kind (the marks only see a node go down).
                marks.lock().unwrap_or_else(|p| p.into_inner()).fault = Some((epoch, round));
                match faults.apply(sim, &action) {
                    Ok(Some(change)) => {
                        let _ = ports.send(change);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "cannot inject the fault"),
                }
            }
        }));
    }
    let log = dir.join("radix-failover.log");
    // The clock first, so the daemon's first poll (and pre-flight) sees a fresh ledger: a
    // baseline polling every 4/5 of an epoch would otherwise re-run a failed pre-flight only
    // several epochs later.
    n.net.state.clock.resume();
    n.wait_rounds(2).await?;
    let mut daemon = DaemonProcess::spawn(&spec.bin, &config, &log, false)?;
    let wait = match rule {
        Rule::Ours => OURS_WAIT_EPOCHS,
        Rule::Baseline => spec.baseline_wait_epochs,
    };
    let outcome = follow(&n, &mut daemon, &marks, fault_epoch + wait).await;
    let rounds = n.sim.round_history(usize::MAX);
    let commit = n
        .sim
        .committed_intents()
        .into_iter()
        .find_map(|(_, s)| match s {
            IntentStatus::CommittedSuccess(c) => Some(c),
            _ => None,
        });
    daemon.stop();
    n.net.shutdown().await;
    let Followed {
        decided,
        fault,
        daemon_poll,
    } = outcome?;
    let fault = fault.context("the fault never happened (the clock stopped?)")?;
    let m = analyse_kind(
        &rounds,
        fault,
        &n.info.our_validator,
        decided.as_ref().map(|l| l.at_ms),
        commit.as_ref(),
        spec.fault,
    );
    let measured_epoch_ms = match (rounds.first(), rounds.last()) {
        (Some(a), Some(b)) if rounds.len() > 1 => {
            (b.timestamp_ms - a.timestamp_ms) as f64 / (rounds.len() - 1) as f64
                * spec.rounds_per_epoch as f64
        }
        _ => 0.0,
    };
    Ok(RunResult {
        rule,
        m,
        decision: decided.map(|l| {
            let t = &l.text;
            let i = t.find("FAILOVER DECIDED: ").map_or(0, |i| i + 18);
            t[i..].split("; intent").next().unwrap_or("").to_string()
        }),
        measured_epoch_ms,
        daemon_poll,
        daemon_log: log,
    })
}

struct Followed {
    decided: Option<LogLine>,
    fault: Option<(u64, u64)>,
    /// The poll interval from the daemon's start-up line, e.g. "83ms".
    daemon_poll: Option<String>,
}

/// Waits until the backup makes one of our proposals after the fault, or `deadline_epoch`
/// passes. Returns the decision's log line and the fault position.
async fn follow(
    n: &SimNet,
    daemon: &mut DaemonProcess,
    marks: &Arc<Mutex<crate::harness::Marks>>,
    deadline_epoch: u64,
) -> Result<Followed> {
    let ours = n.info.our_validator.clone();
    let mut armed = false;
    let mut daemon_poll: Option<String> = None;
    let mut decided: Option<LogLine> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        for l in daemon.take_timed_lines() {
            if l.text.contains("pre-flight passed") {
                armed = true;
            }
            // The start-up line says which policy and poll interval the daemon really uses.
            if let Some(i) = l.text.find(" starting: ").and(l.text.find("poll every ")) {
                daemon_poll = l.text[i + "poll every ".len()..]
                    .split([',', ' '])
                    .next()
                    .map(str::to_string);
            }
            if decided.is_none() && l.text.contains("FAILOVER DECIDED: ") {
                decided = Some(l);
            }
        }
        let (fault, key_epoch) = {
            let m = marks.lock().unwrap_or_else(|p| p.into_inner());
            (m.fault, m.key_change_epoch)
        };
        if let Some(f) = fault {
            if !armed {
                bail!(
                    "the daemon had not passed pre-flight when the primary was killed at epoch {} round {}: the machine is too busy for this epoch length (try a larger --round-ms); see {}",
                    f.0,
                    f.1,
                    daemon.log.display()
                );
            }
            // A made round of ours is the backup's once the new key applies (a flaky primary
            // still makes some before).
            let back = key_epoch.is_some_and(|k| {
                n.sim.round_history(2_000).iter().any(|r| {
                    (r.epoch, r.round) > f && r.epoch > k && r.leader_address == ours && r.made
                })
            });
            if back {
                return Ok(Followed {
                    decided,
                    fault,
                    daemon_poll,
                });
            }
        }
        if n.sim.snapshot().position.epoch > deadline_epoch {
            return Ok(Followed {
                decided,
                fault,
                daemon_poll,
            });
        }
        if let Some(status) = daemon.exited() {
            bail!(
                "the radix-failover daemon exited ({status}); see {}",
                daemon.log.display()
            );
        }
    }
}

/// Both rules at one fault position.
#[derive(Debug, Clone, Serialize)]
pub struct Position {
    pub fault_round: u64,
    pub in_last_tenth: bool,
    pub ours: RunResult,
    pub baseline: Option<RunResult>,
}

/// `--json`: the totals and every run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub faults: u64,
    /// How the primary failed (`down` or `silent`).
    pub fault: FaultKind,
    pub seed: u64,
    pub round_ms: u64,
    pub rounds_per_epoch: u64,
    pub epoch_ms: u64,
    /// Time scale against mainnet's 5-minute epoch (sim ms per mainnet ms).
    pub scale: f64,
    pub ours_poll_ms: u64,
    pub baseline_poll_ms: u64,
    /// What the daemons said at start-up (ours, baseline): proof the config was applied.
    pub ours_daemon_poll: Option<String>,
    pub baseline_daemon_poll: Option<String>,
    pub ours_missed: u64,
    pub baseline_missed: Option<u64>,
    /// True when some baseline run never failed over within its wait: its misses are counted
    /// to the end of the wait, so the baseline total is a lower bound.
    pub baseline_missed_is_lower_bound: bool,
    pub unavoidable_missed: u64,
    pub ours_ratio: f64,
    pub baseline_ratio: Option<f64>,
    pub ours_extra_epochs: u64,
    pub baseline_extra_epochs: Option<u64>,
    pub median_detection_rounds: Option<f64>,
    pub median_detection_s: Option<f64>,
    pub median_commit_rounds: Option<f64>,
    pub median_commit_s: Option<f64>,
    pub baseline_median_detection_rounds: Option<f64>,
    /// Median wall-clock epoch length over the runs (the target is epoch_ms; a busy machine
    /// stretches rounds, which the round counts are immune to but the seconds are not).
    pub measured_epoch_ms: Option<f64>,
    pub ours_failed_over: u64,
    pub baseline_failed_over: Option<u64>,
    pub target_ratio: f64,
    pub target_ratio_pass: bool,
    /// Fault rounds before the last 10 % of the epoch that still cost a second epoch.
    pub second_epoch_faults: Vec<u64>,
    pub target_epochs_pass: bool,
    pub profile: Profile,
    /// Our share of the stake, percent (None on the default network: its fixed stakes).
    pub our_stake_percent: Option<f64>,
    /// The mainnet profile's clock and its approximation, if any.
    pub profile_note: Option<String>,
    pub background_miss_rate: f64,
    pub timeout_base_ms: u64,
    /// Misses of an ideal watcher switching at the fault (the limit for down/stuck/wrong-key).
    pub unavoidable_from_fault: u64,
    /// Misses of an ideal watcher switching at our first missed round (the limit for
    /// silent/flaky).
    pub unavoidable_from_first_miss: u64,
    /// Median detection in mainnet seconds (the sim's seconds divided by the scale).
    pub median_detection_mainnet_s: Option<f64>,
    pub positions: Vec<Position>,
}

impl BenchFailoverArgs {
    fn stakes_percent(&self, our_stake: f64) -> Option<f64> {
        (self.profile == Profile::Mainnet).then_some(our_stake)
    }
}

/// Fault rounds: N positions evenly through the epoch, round 1 + i x rounds/N.
pub fn fault_rounds(n: u64, rounds_per_epoch: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).map(|i| 1 + i * rounds_per_epoch / n).collect();
    v.dedup();
    v
}

/// The network a run uses: (round ms, rounds per epoch, stakes, timeout base ms, profile note).
type RunNetwork = (u64, u64, Option<Vec<u64>>, u64, Option<String>);

fn network_of(args: &BenchFailoverArgs, our_stake: f64) -> Result<RunNetwork> {
    Ok(match args.profile {
        Profile::Default => (
            args.round_ms.unwrap_or(50),
            args.rounds_per_epoch.unwrap_or(100),
            None,
            0,
            None,
        ),
        Profile::Mainnet => {
            let c = mainnet_clock(
                args.round_ms.unwrap_or(MAINNET_DEFAULT_ROUND_MS),
                args.rounds_per_epoch.unwrap_or(MAINNET_ROUNDS_PER_EPOCH),
            );
            let stakes = mainnet_stakes(our_stake).map_err(anyhow::Error::msg)?;
            (
                c.round_ms,
                c.rounds_per_epoch,
                Some(stakes),
                c.timeout_base_ms,
                Some(c.describe()),
            )
        }
    })
}

pub async fn bench_failover(args: BenchFailoverArgs) -> Result<BenchReport> {
    let fault = args.fault.unwrap_or(FaultKind::Down);
    let our_stake = args.our_stake.unwrap_or(DEFAULT_OUR_STAKE_PERCENT);
    bench_one(&args, fault, our_stake).await
}

async fn bench_one(
    args: &BenchFailoverArgs,
    fault: FaultKind,
    our_stake: f64,
) -> Result<BenchReport> {
    let (round_ms, rounds_per_epoch, stakes, timeout_base_ms, profile_note) =
        network_of(args, our_stake)?;
    if args.faults == 0 || args.faults > rounds_per_epoch {
        bail!("--faults must be between 1 and --rounds-per-epoch ({rounds_per_epoch})");
    }
    if !(0.0..1.0).contains(&args.background_miss_rate) {
        bail!("--background-miss-rate must be from 0 up to (not including) 1, such as 0.01");
    }
    if rounds_per_epoch < 20 || round_ms < 10 {
        bail!("--rounds-per-epoch must be at least 20 and --round-ms at least 10 (the daemon needs a few polls per epoch)");
    }
    if args.parallel == 0 {
        bail!("--parallel must be at least 1");
    }
    let bin = find_failover_binary(args.failover_bin.as_deref())?;
    let (dir, keep) = work_dir(
        args.dir
            .as_ref()
            .map(|d| d.join(format!("{}-{our_stake}", fault.name())))
            .as_deref(),
        "bench-failover",
    )?;
    let spec = Arc::new(Spec {
        bin,
        dir: dir.clone(),
        seed: args.seed,
        round_ms,
        rounds_per_epoch,
        baseline_wait_epochs: args.baseline_wait_epochs,
        fault,
        stakes,
        timeout_base_ms,
        background_miss_rate: args.background_miss_rate,
    });
    let timing = SimTiming::for_epoch(round_ms, rounds_per_epoch);
    let epoch_ms = spec.epoch_ms();
    let scale = epoch_ms as f64 / MAINNET_EPOCH_MS as f64;
    let scaled_default_poll = (MAINNET_DEFAULT_POLL_MS as f64 * scale).round() as u64;
    let rounds = fault_rounds(args.faults, rounds_per_epoch);
    let mut err = std::io::stderr();
    if let Some(note) = &profile_note {
        writeln!(err, "{note}; ours holds {our_stake} % of the stake")?;
    }
    writeln!(
        err,
        "bench-failover: {} fault positions x {} rule(s), epochs of {} rounds x {} ms = {epoch_ms} ms (scale 1:{:.0} of mainnet's 5-minute epoch), {} network(s) at a time",
        rounds.len(),
        if args.skip_baseline { 1 } else { 2 },
        rounds_per_epoch,
        round_ms,
        1.0 / scale,
        args.parallel
    )?;
    writeln!(
        err,
        "  ours: radix-sim's config, poll every {} ms (mainnet default 5 s scaled: {scaled_default_poll} ms{}); baseline: legacy rule, poll every {} ms (4 min of a 5 min epoch, scaled)",
        timing.poll_interval_ms,
        if timing.poll_interval_ms == scaled_default_poll {
            ", the same"
        } else {
            ", floored at one round"
        },
        spec.baseline_poll_ms()
    )?;

    let sem = Arc::new(tokio::sync::Semaphore::new(args.parallel));
    let mut set = tokio::task::JoinSet::new();
    let rules: &[Rule] = if args.skip_baseline {
        &[Rule::Ours]
    } else {
        &[Rule::Ours, Rule::Baseline]
    };
    for &r in &rounds {
        for &rule in rules {
            let (sem, spec) = (sem.clone(), spec.clone());
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                (rule, r, run_one(&spec, rule, r).await)
            });
        }
    }
    let mut results: Vec<RunResult> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (rule, r, res) = joined.context("a benchmark task panicked")?;
        let res =
            res.with_context(|| format!("{} run with the fault at round {r}", rule.name()))?;
        writeln!(
            err,
            "  done: {:<8} fault at round {:>3}: {} missed ({} unavoidable){}",
            rule.name(),
            r,
            res.m.missed,
            res.m.unavoidable,
            if res.m.recovered {
                String::new()
            } else {
                " NEVER FAILED OVER within the wait".to_string()
            }
        )?;
        results.push(res);
    }
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let last_from = rounds_per_epoch as f64 * (1.0 - LAST_FRACTION);
    let mut positions = Vec::new();
    for &r in &rounds {
        let pick = |rule: Rule| {
            results
                .iter()
                .find(|x| x.rule == rule && x.m.fault_round == r)
                .cloned()
        };
        let ours = pick(Rule::Ours).context("a run is missing")?;
        positions.push(Position {
            fault_round: r,
            in_last_tenth: r as f64 > last_from,
            ours,
            baseline: pick(Rule::Baseline),
        });
    }
    let sum = |f: &dyn Fn(&Position) -> Option<u64>| -> Option<u64> {
        positions.iter().map(f).sum::<Option<u64>>()
    };
    let ours_missed = sum(&|p| Some(p.ours.m.missed)).unwrap_or(0);
    let unavoidable_missed = sum(&|p| Some(p.ours.m.unavoidable)).unwrap_or(0);
    let unavoidable_from_fault = sum(&|p| Some(p.ours.m.unavoidable_from_fault)).unwrap_or(0);
    let unavoidable_from_first_miss =
        sum(&|p| Some(p.ours.m.unavoidable_from_first_miss)).unwrap_or(0);
    let baseline_missed = sum(&|p| p.baseline.as_ref().map(|b| b.m.missed));
    let ratio = |x: u64| {
        if unavoidable_missed == 0 {
            0.0
        } else {
            x as f64 / unavoidable_missed as f64
        }
    };
    let ours_ratio = ratio(ours_missed);
    let second_epoch_faults: Vec<u64> = positions
        .iter()
        .filter(|p| !p.in_last_tenth && p.ours.m.second_epoch)
        .map(|p| p.fault_round)
        .collect();
    let med =
        |f: &dyn Fn(&Position) -> Option<f64>| median(positions.iter().filter_map(f).collect());
    let median_detection_s = med(&|p| p.ours.m.detection_s);
    let report = BenchReport {
        faults: positions.len() as u64,
        fault,
        seed: args.seed,
        round_ms,
        rounds_per_epoch,
        epoch_ms,
        scale,
        profile: args.profile,
        our_stake_percent: args.stakes_percent(our_stake),
        profile_note,
        background_miss_rate: args.background_miss_rate,
        timeout_base_ms,
        unavoidable_from_fault,
        unavoidable_from_first_miss,
        median_detection_mainnet_s: median_detection_s.map(|x| x / scale),
        ours_poll_ms: timing.poll_interval_ms,
        baseline_poll_ms: spec.baseline_poll_ms(),
        ours_daemon_poll: results
            .iter()
            .find(|x| x.rule == Rule::Ours)
            .and_then(|x| x.daemon_poll.clone()),
        baseline_daemon_poll: results
            .iter()
            .find(|x| x.rule == Rule::Baseline)
            .and_then(|x| x.daemon_poll.clone()),
        ours_missed,
        baseline_missed,
        baseline_missed_is_lower_bound: positions
            .iter()
            .any(|p| p.baseline.as_ref().is_some_and(|b| !b.m.recovered)),
        unavoidable_missed,
        ours_ratio,
        baseline_ratio: baseline_missed.map(ratio),
        ours_extra_epochs: sum(&|p| Some(p.ours.m.extra_epochs)).unwrap_or(0),
        baseline_extra_epochs: sum(&|p| p.baseline.as_ref().map(|b| b.m.extra_epochs)),
        median_detection_rounds: med(&|p| p.ours.m.detection_rounds.map(|x| x as f64)),
        median_detection_s,
        median_commit_rounds: med(&|p| p.ours.m.commit_rounds.map(|x| x as f64)),
        median_commit_s: med(&|p| p.ours.m.commit_s),
        baseline_median_detection_rounds: med(&|p| {
            p.baseline
                .as_ref()
                .and_then(|b| b.m.detection_rounds.map(|x| x as f64))
        }),
        measured_epoch_ms: median(results.iter().map(|x| x.measured_epoch_ms).collect()),
        ours_failed_over: positions.iter().filter(|p| p.ours.m.recovered).count() as u64,
        baseline_failed_over: if args.skip_baseline {
            None
        } else {
            Some(
                positions
                    .iter()
                    .filter(|p| p.baseline.as_ref().is_some_and(|b| b.m.recovered))
                    .count() as u64,
            )
        },
        target_ratio: TARGET_RATIO,
        target_ratio_pass: ours_missed as f64 <= TARGET_RATIO * unavoidable_missed as f64,
        target_epochs_pass: second_epoch_faults.is_empty(),
        second_epoch_faults,
        positions,
    };
    Ok(report)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".to_string(), |x| x.to_string())
}

fn secs(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |x| format!("{x:.2}"))
}

/// The human table (what docs/benchmarks.md shows).
pub fn table(r: &BenchReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "radix-sim bench-failover: {} fault positions ({}), seed {}, epochs of {} rounds x {} ms = {} ms (mainnet 5 min -> scale 1:{:.0})\n",
        r.faults,
        r.fault.describe(),
        r.seed, r.rounds_per_epoch, r.round_ms, r.epoch_ms, 1.0 / r.scale
    ));
    s.push_str(&format!(
        "ours = radix-failover default policy, poll {} ms (5 s scaled); baseline = legacy rule (>5 misses in the finished epochs of a 3-epoch window), poll {} ms (4 min scaled)\n",
        r.ours_poll_ms, r.baseline_poll_ms
    ));
    s.push_str(&format!(
        "the daemons report at start-up: ours polls every {}, baseline every {}\n",
        r.ours_daemon_poll.as_deref().unwrap_or("?"),
        r.baseline_daemon_poll.as_deref().unwrap_or("-")
    ));
    s.push_str(&format!(
        "measured epoch length: median {} ms over the runs (nominal {} ms)\n\n",
        r.measured_epoch_ms
            .map_or("-".into(), |x| format!("{x:.0}")),
        r.epoch_ms
    ));
    s.push_str(&format!(
        "{:>5} | {:>13} {:>13} {:>6} {:>5} | {:>13} {:>6} {:>5} | {:>6}\n",
        "fault",
        "ours detect",
        "ours commit",
        "ours",
        "ours",
        "base detect",
        "base",
        "base",
        "unavoi"
    ));
    s.push_str(&format!(
        "{:>5} | {:>13} {:>13} {:>6} {:>5} | {:>13} {:>6} {:>5} | {:>6}\n",
        "round", "rounds/s", "rounds/s", "missed", "+ep", "rounds/s", "missed", "+ep", "dable"
    ));
    for p in &r.positions {
        let o = &p.ours.m;
        let (bd, bm, be) = match &p.baseline {
            Some(b) => (
                format!("{}/{}", opt(b.m.detection_rounds), secs(b.m.detection_s)),
                format!("{}{}", b.m.missed, if b.m.recovered { "" } else { "+" }),
                b.m.extra_epochs.to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        s.push_str(&format!(
            "{:>4}{} | {:>13} {:>13} {:>6} {:>5} | {:>13} {:>6} {:>5} | {:>6}\n",
            p.fault_round,
            if p.in_last_tenth { "*" } else { " " },
            format!("{}/{}", opt(o.detection_rounds), secs(o.detection_s)),
            format!("{}/{}", opt(o.commit_rounds), secs(o.commit_s)),
            format!("{}{}", o.missed, if o.recovered { "" } else { "+" }),
            o.extra_epochs,
            bd,
            bm,
            be,
            o.unavoidable
        ));
    }
    s.push_str("(* = fault in the last 10 % of the epoch; + = never failed over within the wait: a lower bound; +ep = epochs lost beyond the unavoidable one)\n\n");
    s.push_str(&format!(
        "total missed: ours {} ({:.2} x unavoidable), baseline {} ({} x unavoidable), unavoidable {}\n",
        r.ours_missed,
        r.ours_ratio,
        match r.baseline_missed {
            Some(b) => format!("{b}{}", if r.baseline_missed_is_lower_bound { "+" } else { "" }),
            None => "-".into(),
        },
        r.baseline_ratio.map_or("-".into(), |x| format!("{x:.2}")),
        r.unavoidable_missed
    ));
    s.push_str(&format!(
        "extra epochs: ours {}, baseline {}; failed over: ours {}/{}, baseline {}/{}\n",
        r.ours_extra_epochs,
        opt(r.baseline_extra_epochs),
        r.ours_failed_over,
        r.faults,
        opt(r.baseline_failed_over),
        r.faults
    ));
    s.push_str(&format!(
        "median detection: ours {} rounds ({} s), baseline {} rounds; median commit: ours {} rounds ({} s)\n",
        opt(r.median_detection_rounds),
        secs(r.median_detection_s),
        opt(r.baseline_median_detection_rounds),
        opt(r.median_commit_rounds),
        secs(r.median_commit_s)
    ));
    s.push_str(&format!(
        "target: ours missed <= {:.2} x unavoidable: {} ({:.2})\n",
        r.target_ratio,
        if r.target_ratio_pass { "PASS" } else { "FAIL" },
        r.ours_ratio
    ));
    s.push_str(&format!(
        "target: no fault before the last 10 % of an epoch costs a second epoch: {}{}\n",
        if r.target_epochs_pass { "PASS" } else { "FAIL" },
        if r.second_epoch_faults.is_empty() {
            String::new()
        } else {
            format!(" (fault rounds {:?})", r.second_epoch_faults)
        }
    ));
    s
}

/// Header of the one-row-per-run summary.
pub fn summary_header() -> String {
    format!(
        "{:>6} {:>9} | {:>6} {:>8} {:>7} | {:>8} {:>10} | {:>7} {:>8} | {:>13} {:>9}\n",
        "stake%",
        "fault",
        "ours",
        "baseline",
        "unavoid",
        "at fault",
        "first miss",
        "ours +ep",
        "base +ep",
        "detect rounds",
        "mainnet s"
    )
}

/// One summary row: missed (ours, baseline, the ideal watcher), both limits, epochs lost,
/// median detection.
pub fn summary_row(r: &BenchReport) -> String {
    format!(
        "{:>6} {:>9} | {:>6} {:>8} {:>7} | {:>8} {:>10} | {:>7} {:>8} | {:>13} {:>9}\n",
        r.our_stake_percent.map_or("-".into(), |x| x.to_string()),
        r.fault.name(),
        r.ours_missed,
        match r.baseline_missed {
            Some(b) => format!(
                "{b}{}",
                if r.baseline_missed_is_lower_bound {
                    "+"
                } else {
                    ""
                }
            ),
            None => "-".into(),
        },
        r.unavoidable_missed,
        r.unavoidable_from_fault,
        r.unavoidable_from_first_miss,
        r.ours_extra_epochs,
        opt(r.baseline_extra_epochs),
        opt(r.median_detection_rounds),
        secs(r.median_detection_mainnet_s)
    )
}

/// Stakes of the matrix (percent): a small, a middling and a large validator.
const MATRIX_STAKES: [f64; 3] = [0.5, 2.0, 10.0];

/// `radix-sim bench-failover`: runs, prints the table (and the JSON line); exit code 0 even
/// when a target fails (the figures are the result), 1 only if the benchmark could not run.
/// On the mainnet profile without --fault and --our-stake, runs the matrix of stakes against
/// every fault kind and prints one row each; the JSON line then holds `{"matrix": [...]}`.
pub async fn run(args: BenchFailoverArgs) -> Result<()> {
    let json = args.json;
    let mut out = std::io::stdout();
    if args.profile == Profile::Mainnet && args.fault.is_none() && args.our_stake.is_none() {
        let mut reports = Vec::new();
        for stake in MATRIX_STAKES {
            for kind in FaultKind::ALL {
                let r = bench_one(&args, kind, stake).await?;
                eprint!("{}", summary_row(&r));
                reports.push(r);
            }
        }
        if let Some(note) = reports.first().and_then(|r| r.profile_note.clone()) {
            writeln!(out, "{note}")?;
        }
        write!(out, "{}", summary_header())?;
        for r in &reports {
            write!(out, "{}", summary_row(r))?;
        }
        if json {
            writeln!(out, "{}", serde_json::json!({ "matrix": reports }))?;
        }
        return Ok(());
    }
    let report = bench_failover(args).await?;
    write!(out, "{}", table(&report))?;
    write!(out, "{}{}", summary_header(), summary_row(&report))?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: u64, round: u64, leader: &str, made: bool, ts: i64) -> RoundRecord {
        RoundRecord {
            epoch,
            round,
            leader_address: leader.into(),
            made,
            timestamp_ms: ts,
            duration_ms: 0,
        }
    }

    fn commit(epoch: u64, round: u64, at: i64) -> CommitInfo {
        CommitInfo {
            state_version: 1,
            epoch,
            round,
            confirmed_at_ms: at,
            intent_hash_bech32: String::new(),
            payload_hash_bech32: String::new(),
            fee_paid_xrd: String::new(),
            raw_hex: String::new(),
            manifest: String::new(),
        }
    }

    #[test]
    fn fault_rounds_spread_evenly() {
        assert_eq!(fault_rounds(4, 100), vec![1, 26, 51, 76]);
        assert_eq!(fault_rounds(20, 100)[19], 96);
        assert_eq!(fault_rounds(2, 40), vec![1, 21]);
    }

    #[test]
    fn analyse_counts_misses_latencies_and_epochs() {
        // Epochs of 4 rounds, 100 ms each; ours = "o". Fault at (5, 2).
        let r = vec![
            rec(5, 1, "o", true, 1000),
            rec(5, 2, "o", false, 1100), // fault round, missed
            rec(5, 3, "x", true, 1200),  // decision arrives at 1250 -> this round
            rec(5, 4, "o", false, 1300), // commit here
            rec(6, 1, "o", false, 1400), // a second epoch lost: missed again
            rec(6, 2, "x", true, 1500),
            rec(6, 3, "x", true, 1600),
            rec(6, 4, "x", true, 1700),
            rec(7, 1, "o", true, 1800), // the backup
            rec(7, 2, "o", true, 1900),
        ];
        let c = commit(6, 0, 1400);
        let m = analyse(&r, (5, 2), "o", Some(1250), Some(&c));
        assert_eq!(m.missed, 3);
        assert!(m.recovered);
        assert_eq!(m.unavoidable, 2, "5/2 and 5/4");
        assert_eq!(m.detection_rounds, Some(1));
        assert_eq!(m.detection_s, Some(0.15));
        assert_eq!(m.commit_rounds, Some(2));
        assert_eq!(m.commit_s, Some(0.15));
        assert_eq!(m.earliest_epoch, 5);
        assert_eq!(m.extra_epochs, 1);
        assert!(m.second_epoch);

        // Committed in the fault epoch: nothing extra.
        let c = commit(5, 4, 1300);
        let m = analyse(&r, (5, 2), "o", Some(1250), Some(&c));
        assert_eq!((m.extra_epochs, m.second_epoch), (0, false));

        // Never committed: misses to the end, lower bound on epochs.
        let m = analyse(&r[..8], (5, 2), "o", None, None);
        assert_eq!(m.missed, 3);
        assert!(!m.recovered);
        assert_eq!(m.detection_rounds, None);
        assert_eq!(m.extra_epochs, 1);
    }
}
