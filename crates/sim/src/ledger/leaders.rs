//! The leader schedule and round timing, as the real node has them.
//!
//! Leaders (babylon-node `ProposerElections`: a `RotateOnceDecorator` over
//! `WeightedRotatingLeaders`): in each epoch, every validator of the active set leads once, in an
//! order shuffled deterministically per epoch; after that, leaders rotate in proportion to stake:
//! every round each validator's weight grows by its stake, the heaviest leads, and the leader's
//! weight drops by the total stake. A validator with share s of the stake so leads about
//! `1 + s × (rounds − n)` rounds of an epoch, evenly spaced: the real network's pattern, where a
//! 0.5 % validator of 100 leads about 7 of 1,300 rounds.
//!
//! Differences from the node, none of which changes how often or how evenly a validator leads:
//! the shuffle is seeded from (sim seed, epoch) rather than from the epoch alone, and ties in the
//! weighted rotation go to the lower active-set index rather than by key.
//!
//! Timing (babylon-node `ExponentialPacemakerTimeoutCalculator`): a round whose leader does not
//! propose lasts the pacemaker timeout, `base × 1.2^k` for the k-th consecutive timeout.

use radix_common::prelude::hash;

/// The node's pacemaker backoff rate: each consecutive timeout waits 1.2 times longer.
pub const TIMEOUT_BACKOFF: f64 = 1.2;
/// Highest backoff exponent: bounds a long outage's rounds (1.2^6 ≈ 3 × the base) as the node's
/// `maxExponent` does; the node's configured value is not in the public defaults we read.
pub const TIMEOUT_MAX_EXPONENT: u32 = 6;
/// The node's base pacemaker timeout, unscaled.
pub const MAINNET_TIMEOUT_BASE_MS: u64 = 3_000;

/// A deterministic 64-bit value of a label, for shuffles and draws.
fn draw(label: &str) -> u64 {
    let h = hash(label);
    let mut x = [0u8; 8];
    x.copy_from_slice(&h.0[..8]);
    u64::from_le_bytes(x)
}

/// True with probability `p`, deterministically from the label: the same seed and round give the
/// same answer on every run.
pub fn chance(label: &str, p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    // 53 bits: the precision of an f64 in [0, 1).
    let u = (draw(label) >> 11) as f64 / (1u64 << 53) as f64;
    u < p
}

/// The leaders of one epoch's rounds 1..=rounds (index `r - 1` is round r), as active-set
/// indexes, for the stakes of the active set in index order.
pub fn epoch_schedule(seed: u64, epoch: u64, stakes: &[u128], rounds: u64) -> Vec<usize> {
    let n = stakes.len();
    if n == 0 {
        return vec![];
    }
    let mut out = Vec::with_capacity(rounds as usize);
    // Rotate once: highest stake first (then index), shuffled by Fisher-Yates.
    let mut once: Vec<usize> = (0..n).collect();
    once.sort_by(|a, b| stakes[*b].cmp(&stakes[*a]).then(a.cmp(b)));
    for i in (1..n).rev() {
        let j = (draw(&format!("radix-sim shuffle/{seed}/{epoch}/{i}")) % (i as u64 + 1)) as usize;
        once.swap(i, j);
    }
    out.extend(once.iter().copied().take(rounds as usize));
    // Then weighted rotation; weights start at -stake so the heaviest stake leads first.
    let total: i128 = stakes.iter().map(|s| *s as i128).sum();
    let mut weights: Vec<i128> = stakes.iter().map(|s| -(*s as i128)).collect();
    let mut leader = heaviest(&weights);
    let mut k = 0;
    while (out.len() as u64) < rounds {
        if k > 0 {
            weights[leader] -= total;
            for (w, s) in weights.iter_mut().zip(stakes) {
                *w += *s as i128;
            }
            leader = heaviest(&weights);
        }
        out.push(leader);
        k += 1;
    }
    out
}

fn heaviest(weights: &[i128]) -> usize {
    let mut best = 0;
    for (i, w) in weights.iter().enumerate() {
        if *w > weights[best] {
            best = i;
        }
    }
    best
}

/// Length of the k-th consecutive timeout (k = 0 for the first), from the scaled base.
pub fn timeout_ms(base_ms: u64, consecutive_before: u32) -> u64 {
    let e = consecutive_before.min(TIMEOUT_MAX_EXPONENT);
    (base_ms as f64 * TIMEOUT_BACKOFF.powi(e as i32)).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyone_leads_once_first_then_in_proportion_to_stake() {
        let stakes = [50u128, 30, 15, 5];
        let s = epoch_schedule(7, 3, &stakes, 404);
        let mut first: Vec<usize> = s[..4].to_vec();
        first.sort();
        assert_eq!(
            first,
            vec![0, 1, 2, 3],
            "each leads once first: {:?}",
            &s[..4]
        );
        let count = |i: usize| s[4..].iter().filter(|x| **x == i).count();
        // 400 weighted rounds: exactly in proportion to stake.
        assert_eq!([count(0), count(1), count(2), count(3)], [200, 120, 60, 20]);
        // Evenly spaced: the 5 % validator leads every 20 weighted rounds.
        let turns: Vec<usize> = (4..s.len()).filter(|r| s[*r] == 3).collect();
        assert!(turns.windows(2).all(|w| w[1] - w[0] == 20), "{turns:?}");
    }

    #[test]
    fn the_schedule_is_deterministic_and_the_shuffle_follows_seed_and_epoch() {
        let stakes: Vec<u128> = (1..=20).map(|i| i * 1000).collect();
        let a = epoch_schedule(1, 5, &stakes, 100);
        assert_eq!(a, epoch_schedule(1, 5, &stakes, 100));
        assert_ne!(a[..20], epoch_schedule(2, 5, &stakes, 100)[..20]);
        assert_ne!(a[..20], epoch_schedule(1, 6, &stakes, 100)[..20]);
        // A shorter epoch than the set: only part of the rotate-once order.
        assert_eq!(epoch_schedule(1, 5, &stakes, 3), a[..3].to_vec());
    }

    #[test]
    fn a_half_percent_validator_of_a_hundred_leads_about_seven_of_1300_rounds() {
        let mut stakes = vec![0u128; 100];
        stakes[0] = 5;
        let rest = 995u128;
        for s in stakes.iter_mut().skip(1) {
            *s = rest / 99;
        }
        let s = epoch_schedule(1, 1, &stakes, 1300);
        let ours = s.iter().filter(|x| **x == 0).count();
        assert!((6..=8).contains(&ours), "{ours}");
    }

    #[test]
    fn timeouts_grow_by_a_fifth_up_to_the_cap() {
        assert_eq!(timeout_ms(3000, 0), 3000);
        assert_eq!(timeout_ms(3000, 1), 3600);
        assert_eq!(timeout_ms(3000, 2), 4320);
        assert_eq!(timeout_ms(3000, 50), timeout_ms(3000, TIMEOUT_MAX_EXPONENT));
    }

    #[test]
    fn chance_is_deterministic_and_near_its_rate() {
        let hits = (0..10_000)
            .filter(|i| chance(&format!("t/{i}"), 0.1))
            .count();
        assert!((900..1100).contains(&hits), "{hits}");
        assert_eq!(chance("x/1", 0.5), chance("x/1", 0.5));
        assert!(!(0..100).any(|i| chance(&format!("t/{i}"), 0.0)));
    }
}
