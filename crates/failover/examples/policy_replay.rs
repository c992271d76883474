//! `policy_replay`: the pure policy (the daemon's own `Policy`) over the rounds of a healthy
//! mainnet-shaped network, for more epochs than the engine can run in a session: it counts the
//! epochs in which the policy would decide a failover that is false (the primary is healthy; its
//! only misses are the background rate's).
//!
//! The rounds are radix-sim's own: its leader schedule (`epoch_schedule`: rotate once shuffled,
//! then by stake), its background-miss draws (the same labels, so the same seed misses the same
//! rounds) and its pacemaker timeouts, on the stakes of `--profile mainnet` (ours at
//! `--our-stake`). What the replay does not have is the engine and HTTP: every source answers
//! every poll, at the poll's instant, with the ledger as the last committed round left it. A run
//! of the real daemon (`radix-sim bench-false-failovers`) covers what this leaves out (slow or
//! failing answers, restarts); the two figures are reported separately in docs/benchmarks.md.
//!
//! Each run replays two policies on the same polls: the defaults, and the defaults without rule
//! 2c (`epoch_end_polls = 0`), so the cost of that rule shows on its own.
//!
//! Run: `cargo build --release --workspace --locked --examples` then
//! `$CARGO_TARGET_DIR/release/examples/policy_replay --epochs 10000 --json`

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;
use radix_failover::observe::{
    LedgerReading, NodeConsensus, NodeHealth, NodeReading, Observation, ProposalCounts, SourceKind,
    SourceObservation,
};
use radix_failover::policy::params::PolicyParams;
use radix_failover::policy::{
    Decision, Gates, Policy, PolicyKeys, BACKUP_CORE_SOURCE, PRIMARY_CORE_SOURCE,
};
use radix_sim::info::SimTiming;
use radix_sim::ledger::leaders::{chance, epoch_schedule, timeout_ms, MAINNET_TIMEOUT_BASE_MS};
use radix_sim::profile::{
    mainnet_round_ms, mainnet_stakes, DEFAULT_OUR_STAKE_PERCENT, MAINNET_DEFAULT_ROUND_MS,
    MAINNET_ROUNDS_PER_EPOCH,
};

#[derive(Parser, Debug)]
#[command(about = "Replay the pure policy over a healthy mainnet-shaped network's rounds")]
struct Args {
    /// Healthy epochs to replay.
    #[arg(long, default_value_t = 10_000)]
    epochs: u64,
    /// Probability that a healthy leader misses a round anyway (0..1), as radix-sim's.
    #[arg(long, default_value_t = 0.01)]
    background_miss_rate: f64,
    /// Our share of the stake in percent.
    #[arg(long, default_value_t = DEFAULT_OUR_STAKE_PERCENT)]
    our_stake: f64,
    /// Round length in ms (the mainnet profile's scaled round).
    #[arg(long, default_value_t = MAINNET_DEFAULT_ROUND_MS)]
    round_ms: u64,
    /// Epoch length in rounds.
    #[arg(long, default_value_t = MAINNET_ROUNDS_PER_EPOCH)]
    rounds_per_epoch: u64,
    /// radix-sim's seed: the leader schedule and the background draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object as the last line.
    #[arg(long)]
    json: bool,
    /// Print each false failover as it is decided: the epoch, the reason and the policy's view.
    #[arg(long)]
    show: bool,
}

const VALIDATOR: &str = "validator_sim1replay";
const PRIMARY_KEY: &str = "02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BACKUP_KEY: &str = "03bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
/// Unix ms of the replay's first instant (any fixed value: the policy reads differences).
const START_MS: i64 = 1_800_000_000_000;
/// The node's own ring of its last leader rounds (`recent_self_proposal_miss_statistic`).
const NODE_RING: usize = 100;

/// The ledger as the last committed round left it: what every source answers.
#[derive(Debug, Clone, Default)]
struct Ledger {
    epoch: u64,
    round: u64,
    state_version: u64,
    time_ms: i64,
    ours: ProposalCounts,
    others: ProposalCounts,
    /// The primary's own ring of its leader rounds (true: missed).
    ring: VecDeque<bool>,
}

/// One policy replayed, and what it decided.
struct Replayed {
    label: &'static str,
    policy: Policy,
    /// Epochs in which it decided `fail_over` at least once, and the rule of the first.
    false_failover_epochs: Vec<(u64, &'static str)>,
    blocked_polls: u64,
}

impl Replayed {
    fn new(label: &'static str, params: PolicyParams) -> Replayed {
        let keys = PolicyKeys {
            validator_address: VALIDATOR.into(),
            primary_key_hex: PRIMARY_KEY.into(),
            backup_key_hex: BACKUP_KEY.into(),
        };
        Replayed {
            label,
            policy: Policy::new(params, keys),
            false_failover_epochs: Vec::new(),
            blocked_polls: 0,
        }
    }

    fn poll(&mut self, obs: &Observation, epoch: u64, show: bool) {
        let a = self.policy.observe(obs, &Gates::ok());
        match &a.decision {
            // Once per epoch: the decision repeats on every poll while it holds.
            Decision::FailOver { reason }
                if self.false_failover_epochs.last().map(|(e, _)| *e) != Some(epoch) =>
            {
                self.false_failover_epochs.push((epoch, rule_of(reason)));
                if show {
                    println!(
                        "{}: epoch {epoch}: {reason}\n    {}",
                        self.label,
                        a.view.summary_line()
                    );
                }
            }
            Decision::Blocked { .. } => self.blocked_polls += 1,
            _ => {}
        }
    }
}

/// Which rule of docs/policy.md a failover reason comes from (by the reason's own words).
fn rule_of(reason: &str) -> &'static str {
    if reason.contains("the epoch is expected to end") {
        "2c"
    } else if reason.contains("leader turns were missed") {
        "2b"
    } else if reason.contains("of our last") {
        "2"
    } else {
        "3"
    }
}

fn reading(l: &Ledger, core: bool) -> LedgerReading {
    LedgerReading {
        epoch: l.epoch,
        round: l.round,
        state_version: l.state_version,
        ledger_time_ms: START_MS + l.time_ms,
        key_in_force: Some(PRIMARY_KEY.into()),
        key_on_ledger: Some(PRIMARY_KEY.into()),
        current_epoch: core.then_some(l.ours),
        finished: None,
        others_current_epoch: core.then_some(l.others),
        settings: None,
    }
}

fn node(key: &str, l: &Ledger, validating: bool) -> NodeReading {
    NodeReading {
        health: NodeHealth::Up,
        detail: String::new(),
        recent_missed: l.ring.iter().filter(|m| **m).count() as u64,
        recent_tracked: l.ring.len() as u64,
        public_key_hex: key.into(),
        validator_address: Some(VALIDATOR.into()),
        consensus: if validating {
            NodeConsensus::ValidatingInCurrentEpoch
        } else {
            NodeConsensus::NotValidatingInCurrentEpoch
        },
    }
}

/// What the daemon's poll sees: the sim's config (a Gateway, the two nodes' Core APIs, two
/// more Core APIs, both System APIs), every source answering.
fn observation(l: &Ledger, at_ms: i64) -> Observation {
    let source = |name: &str, kind: SourceKind| SourceObservation {
        name: name.to_string(),
        kind,
        result: Ok(reading(l, kind == SourceKind::Core)),
    };
    let system = |name: &str, key: &str, validating: bool| SourceObservation {
        name: name.to_string(),
        kind: SourceKind::System,
        result: Ok(node(key, l, validating)),
    };
    Observation {
        at_ms: START_MS + at_ms,
        ledger: vec![
            source("gateway replay", SourceKind::Gateway),
            source(PRIMARY_CORE_SOURCE, SourceKind::Core),
            source(BACKUP_CORE_SOURCE, SourceKind::Core),
            source("core a", SourceKind::Core),
            source("core b", SourceKind::Core),
        ],
        primary: Some(system("system primary", PRIMARY_KEY, true)),
        backup: Some(system("system backup", BACKUP_KEY, false)),
    }
}

fn main() -> Result<()> {
    let a = Args::parse();
    if !(0.0..1.0).contains(&a.background_miss_rate) {
        bail!(
            "--background-miss-rate {}: give a probability from 0 up to (not including) 1, such as 0.01",
            a.background_miss_rate
        );
    }
    if a.epochs == 0 || a.round_ms == 0 || a.rounds_per_epoch == 0 {
        bail!("--epochs, --round-ms and --rounds-per-epoch must be at least 1");
    }
    let stakes = mainnet_stakes(a.our_stake).map_err(anyhow::Error::msg)?;
    // The engine's active set, largest stake first; ours is index 0 of `mainnet_stakes`.
    let mut order: Vec<usize> = (0..stakes.len()).collect();
    order.sort_by(|x, y| stakes[*y].cmp(&stakes[*x]).then(x.cmp(y)));
    let ours = order.iter().position(|i| *i == 0).unwrap_or(0);
    let active: Vec<u128> = order.iter().map(|i| u128::from(stakes[*i])).collect();

    let scale = a.round_ms as f64 / mainnet_round_ms();
    let timeout_base = ((MAINNET_TIMEOUT_BASE_MS as f64 * scale).round() as u64).max(1);
    let timing = SimTiming::for_epoch(a.round_ms, a.rounds_per_epoch);
    let poll_ms = timing.poll_interval_ms as i64;
    let params = PolicyParams {
        poll_interval: Duration::from_millis(timing.poll_interval_ms),
        max_source_lag: Duration::from_millis(timing.max_source_lag_ms),
        ..PolicyParams::default()
    };
    let mut runs = [
        Replayed::new("defaults", params.clone()),
        Replayed::new(
            "without rule 2c",
            PolicyParams {
                epoch_end_polls: 0,
                ..params.clone()
            },
        ),
    ];

    let mut l = Ledger {
        epoch: 1,
        ..Ledger::default()
    };
    let (mut our_rounds, mut our_missed, mut next_poll) = (0u64, 0u64, poll_ms);
    // Two of our turns in a row missed: what rule 2b cannot tell from a real fault.
    let mut missed_pairs = 0u64;
    let mut consecutive = 0u32;
    for epoch in 1..=a.epochs {
        let schedule = epoch_schedule(a.seed, epoch, &active, a.rounds_per_epoch);
        for round in 1..=a.rounds_per_epoch {
            let leader = schedule[(round - 1) as usize];
            let missed = chance(
                &format!("radix-sim background/{}/{epoch}/{round}", a.seed),
                a.background_miss_rate,
            );
            let duration = if missed {
                let t = timeout_ms(timeout_base, consecutive);
                consecutive = consecutive.saturating_add(1);
                t
            } else {
                consecutive = 0;
                a.round_ms
            };
            let ends = l.time_ms + duration as i64;
            // Polls before this round commits see the ledger as it is.
            while next_poll < ends {
                let obs = observation(&l, next_poll);
                for r in runs.iter_mut() {
                    r.poll(&obs, l.epoch, a.show);
                }
                next_poll += poll_ms;
            }
            l.time_ms = ends;
            l.round = round;
            l.state_version += 1;
            let counts = if leader == ours {
                our_rounds += 1;
                our_missed += u64::from(missed);
                if missed && l.ring.back() == Some(&true) {
                    missed_pairs += 1;
                }
                l.ring.push_back(missed);
                while l.ring.len() > NODE_RING {
                    l.ring.pop_front();
                }
                &mut l.ours
            } else {
                &mut l.others
            };
            if missed {
                counts.missed += 1;
            } else {
                counts.made += 1;
            }
        }
        // The epoch change: counts start afresh.
        l.epoch = epoch + 1;
        l.round = 0;
        l.ours = ProposalCounts::default();
        l.others = ProposalCounts::default();
    }

    println!(
        "policy_replay: {} healthy epochs of {} rounds x {} ms (mainnet profile, scale 1:{:.1}), ours {} % of the stake, background miss rate {}, poll {} ms, seed {}",
        a.epochs,
        a.rounds_per_epoch,
        a.round_ms,
        1.0 / scale,
        a.our_stake,
        a.background_miss_rate,
        poll_ms,
        a.seed
    );
    println!(
        "our leader rounds {our_rounds} ({:.1} an epoch), {our_missed} missed by the background rate, {missed_pairs} time(s) two in a row",
        our_rounds as f64 / a.epochs as f64
    );
    for r in &runs {
        let by = |rule: &str| {
            r.false_failover_epochs
                .iter()
                .filter(|(_, x)| *x == rule)
                .count()
        };
        println!(
            "{:>16}: false failovers in {} of {} epochs ({:.2} %; by rule 2: {}, 2b: {}, 2c: {}, 3: {}); blocked polls {}",
            r.label,
            r.false_failover_epochs.len(),
            a.epochs,
            100.0 * r.false_failover_epochs.len() as f64 / a.epochs as f64,
            by("2"),
            by("2b"),
            by("2c"),
            by("3"),
            r.blocked_polls
        );
    }
    if a.json {
        let figure = |r: &Replayed| {
            serde_json::json!({
                "policy": r.label,
                "false_failovers": r.false_failover_epochs.len(),
                "by_rule": r.false_failover_epochs.iter().map(|(_, x)| *x).collect::<Vec<_>>(),
                "blocked_polls": r.blocked_polls,
            })
        };
        println!(
            "{}",
            serde_json::json!({
                "epochs": a.epochs,
                "our_stake_percent": a.our_stake,
                "background_miss_rate": a.background_miss_rate,
                "our_rounds": our_rounds,
                "our_background_misses": our_missed,
                "our_missed_pairs": missed_pairs,
                "false_failovers": runs[0].false_failover_epochs.len(),
                "false_failovers_without_rule_2c": runs[1].false_failover_epochs.len(),
                "runs": runs.iter().map(figure).collect::<Vec<_>>(),
            })
        );
    }
    Ok(())
}
