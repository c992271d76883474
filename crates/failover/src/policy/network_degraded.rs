//! Rule 8: a network-wide problem is not our primary's problem.
//!
//! The Core API's proposal statistic carries every validator's counts. When a large share of
//! the other validators' recent rounds are missed too, the trouble is the network (or the
//! watcher's view of it), not our node: a key switch would not help, and the backup sits in
//! the same network. No failover then, and a `network-degraded` warning.

use std::collections::VecDeque;

use super::miss_window::{count_delta, feed_window};
use super::source_trust::Seen;
use super::Policy;

/// The other validators' rounds each source remembers. On mainnet that is the last few
/// seconds (about 7 s at 0.22 s a round); long enough that one timed-out leader is a small
/// share, short enough that a network problem that ends stops vetoing within a poll or two.
pub const NETWORK_WINDOW_ROUNDS: usize = 30;
/// Rounds a source must have seen before it judges: fewer is noise.
pub const NETWORK_MIN_ROUNDS: usize = 10;
/// A third of the others' rounds missed is degraded. A healthy network misses about 1 % of
/// its rounds, and our own node's failure is excluded (only the others' rounds count), so
/// 10 of 30 is never the background; and a third of the stake failing is where Babylon's BFT
/// consensus stops committing, which a transaction cannot fix either.
pub const NETWORK_DEGRADED_SHARE: (usize, usize) = (1, 3);

impl Policy {
    /// Feeds each trusted Core source's delta of the other validators' counts into its window.
    pub(super) fn feed_network(&mut self, seen: &[Seen<'_>]) {
        for s in seen {
            let Some(mem) = self.sources.get_mut(s.name) else {
                continue;
            };
            let Some((r, c)) = s
                .reading
                .and_then(|r| r.others_current_epoch.map(|c| (r, c)))
            else {
                continue;
            };
            let delta = count_delta(mem.others, r.epoch, c);
            mem.others = Some((r.epoch, c));
            if s.trust.is_trusted() {
                if let Some(d) = delta {
                    // Spread evenly: the order of the others' rounds within a poll is unknown.
                    feed_window(&mut mem.others_window, d, NETWORK_WINDOW_ROUNDS, false);
                }
            }
        }
    }

    /// `Some(why)` when a strict majority of the trusted real-time sources that can judge see
    /// at least [`NETWORK_DEGRADED_SHARE`] of the other validators' recent rounds missed. A
    /// majority, so that one source cannot suppress a failover.
    pub(super) fn network_degraded(&self, seen: &[Seen<'_>], realtime: &[usize]) -> Option<String> {
        let (num, den) = NETWORK_DEGRADED_SHARE;
        let judged: Vec<(usize, usize)> = realtime
            .iter()
            .filter_map(|&i| self.sources.get(seen[i].name))
            .map(|mem| others_missed(&mem.others_window))
            .filter(|&(_, n)| n >= NETWORK_MIN_ROUNDS)
            .collect();
        let degraded: Vec<&(usize, usize)> =
            judged.iter().filter(|(m, n)| m * den >= n * num).collect();
        if judged.is_empty() || degraded.len() * 2 <= judged.len() {
            return None;
        }
        let (m, n) = degraded[0];
        Some(format!(
            "the network is degraded: {m} of the other validators' last {n} rounds were missed, as {} of {} trusted Core sources see it ({num} in {den} or more is not our node's problem); no failover until it recovers",
            degraded.len(),
            judged.len()
        ))
    }
}

/// (missed, tracked) in a window of the others' rounds.
fn others_missed(w: &VecDeque<bool>) -> (usize, usize) {
    (w.iter().filter(|&&x| x).count(), w.len())
}

#[cfg(test)]
#[path = "tests/network_degraded.rs"]
mod tests;
