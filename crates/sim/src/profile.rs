//! Network profiles: `default` (8 validators, fast epochs for tests and the demo) and `mainnet`
//! (100 validators with long-tailed stakes, ours at a chosen share, mainnet's ratios of rounds,
//! leader turns and timeouts per epoch, on a scaled clock).

use crate::ledger::leaders::MAINNET_TIMEOUT_BASE_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Default,
    Mainnet,
}

/// Mainnet's active set.
pub const MAINNET_VALIDATORS: usize = 100;
/// Mainnet's epoch: about five minutes.
pub const MAINNET_EPOCH_MS: u64 = 5 * 60 * 1000;
/// Rounds in a mainnet epoch (about 1,300: one every ~230 ms).
pub const MAINNET_ROUNDS_PER_EPOCH: u64 = 1_300;
/// Default share of ours on the mainnet profile, percent: a small validator, as most are.
pub const DEFAULT_OUR_STAKE_PERCENT: f64 = 0.5;
/// Default round length of the mainnet profile on the sim's clock: the release engine steps a
/// 100-validator round in a few ms, so 25 ms leaves headroom for the APIs (scale 1:9.2).
pub const MAINNET_DEFAULT_ROUND_MS: u64 = 25;
/// Total stake of the mainnet profile, XRD (the real network has a few billion; only the
/// shares matter to leaders and counts).
const MAINNET_TOTAL_STAKE_XRD: f64 = 100_000_000.0;
/// Exponent of the other validators' power-law stakes: the largest holds ~7 % and the smallest
/// ~0.45 %, a long tail like mainnet's.
const STAKE_TAIL_EXPONENT: f64 = 0.6;

/// Real length of a mainnet round, ms.
pub fn mainnet_round_ms() -> f64 {
    MAINNET_EPOCH_MS as f64 / MAINNET_ROUNDS_PER_EPOCH as f64
}

/// Stakes of the mainnet profile: ours first at `our_percent` of the total, then 99 others with
/// power-law shares of the rest.
pub fn mainnet_stakes(our_percent: f64) -> Result<Vec<u64>, String> {
    if !(our_percent > 0.0 && our_percent <= 50.0) {
        return Err(format!(
            "--our-stake {our_percent}: give a percentage above 0 and at most 50, such as 0.5"
        ));
    }
    let others = MAINNET_VALIDATORS - 1;
    let raw: Vec<f64> = (1..=others)
        .map(|k| (k as f64).powf(-STAKE_TAIL_EXPONENT))
        .collect();
    let sum: f64 = raw.iter().sum();
    let rest = MAINNET_TOTAL_STAKE_XRD * (100.0 - our_percent) / 100.0;
    let mut stakes = vec![(MAINNET_TOTAL_STAKE_XRD * our_percent / 100.0).round() as u64];
    stakes.extend(raw.iter().map(|r| ((rest * r / sum).round() as u64).max(1)));
    Ok(stakes)
}

/// The clock of a mainnet-shaped network: rounds of `round_ms` stand for mainnet's ~230 ms, and
/// the pacemaker's 3 s timeout is scaled by the same factor, so a timeout lasts ~13 rounds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MainnetClock {
    pub round_ms: u64,
    pub rounds_per_epoch: u64,
    pub timeout_base_ms: u64,
    /// Sim time / mainnet time.
    pub scale: f64,
    /// True when the epoch has fewer rounds than mainnet's (the engine cannot keep up): leader
    /// turns of a small validator shrink with it.
    pub reduced_rounds: bool,
}

pub fn mainnet_clock(round_ms: u64, rounds_per_epoch: u64) -> MainnetClock {
    let scale = round_ms as f64 / mainnet_round_ms();
    MainnetClock {
        round_ms,
        rounds_per_epoch,
        timeout_base_ms: ((MAINNET_TIMEOUT_BASE_MS as f64 * scale).round() as u64).max(1),
        scale,
        reduced_rounds: rounds_per_epoch < MAINNET_ROUNDS_PER_EPOCH,
    }
}

impl MainnetClock {
    /// One line for the start-up output and the benchmarks.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "mainnet profile: {MAINNET_VALIDATORS} validators, {} rounds of {} ms per epoch (mainnet: {MAINNET_ROUNDS_PER_EPOCH} rounds of {:.0} ms), time scale 1:{:.1}, pacemaker timeout {} ms (3 s scaled, x1.2 per consecutive timeout)",
            self.rounds_per_epoch,
            self.round_ms,
            mainnet_round_ms(),
            1.0 / self.scale,
            self.timeout_base_ms
        );
        if self.reduced_rounds {
            s.push_str(&format!(
                "; APPROXIMATION: epochs have {} of mainnet's {MAINNET_ROUNDS_PER_EPOCH} rounds, so a small validator leads fewer rounds per epoch than on mainnet",
                self.rounds_per_epoch
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet_stakes_put_ours_at_its_share_with_a_long_tail() {
        let s = mainnet_stakes(0.5).expect("valid");
        assert_eq!(s.len(), 100);
        let total: u64 = s.iter().sum();
        let share = |x: u64| x as f64 * 100.0 / total as f64;
        assert!((share(s[0]) - 0.5).abs() < 0.01, "{}", share(s[0]));
        let (max, min) = (s[1..].iter().max(), s[1..].iter().min());
        let (max, min) = (max.copied().unwrap_or(0), min.copied().unwrap_or(0));
        assert!(
            share(max) > 5.0 && share(min) < 0.6,
            "{} {}",
            share(max),
            share(min)
        );
        assert!(mainnet_stakes(0.0).is_err());
        assert!(mainnet_stakes(60.0).unwrap_err().contains("--our-stake"));
    }

    #[test]
    fn the_clock_keeps_mainnet_ratios() {
        let c = mainnet_clock(25, 1300);
        // The timeout is ~13 rounds long, as on mainnet (3 s / 230 ms).
        let ratio = c.timeout_base_ms as f64 / c.round_ms as f64;
        assert!((ratio - 13.0).abs() < 0.2, "{ratio}");
        assert!(!c.reduced_rounds);
        assert!(mainnet_clock(25, 400).describe().contains("APPROXIMATION"));
    }
}
