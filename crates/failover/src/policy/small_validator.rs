//! Rule 2b: two misses in a row fail over a small validator.
//!
//! A validator with 0.5 % of mainnet's stake leads about 7 rounds an epoch, one turn every
//! 40 s or so: N of M (3 of 5) then needs two minutes or more, and the early signal's rising
//! own-miss statistic never holds for 3 polls in a row. Two confirmed misses in a row are the
//! evidence such a validator can gather within an epoch. The rule applies only while the
//! validator led at most `small_validator_turns` rounds in its last epoch, as the trusted
//! real-time sources counted them: for a larger one, turns come often and N of M is as fast.

use std::collections::VecDeque;

use super::miss_window::kth_largest;
use super::source_trust::Seen;
use super::Policy;

/// Misses in a row that fail over a small validator.
pub const SMALL_VALIDATOR_MISSES_IN_A_ROW: u32 = 2;

impl Policy {
    /// Our leader turns in the last finished epoch, as the trusted real-time sources saw them
    /// (the most any of them saw: a larger count means a larger validator, and the rule then
    /// stays off). `None` until an epoch change has been seen.
    pub(super) fn turns_last_epoch(&self, seen: &[Seen<'_>], realtime: &[usize]) -> Option<u64> {
        realtime
            .iter()
            .filter_map(|&i| self.sources.get(seen[i].name))
            .filter_map(|m| m.turns_last_epoch)
            .max()
    }

    /// Our turns last epoch when the validator is small (rule 2b applies); `None` otherwise.
    pub(super) fn small_validator(&self, turns_last_epoch: Option<u64>) -> Option<u64> {
        let limit = u64::from(self.params.small_validator_turns);
        turns_last_epoch.filter(|&t| limit > 0 && t <= limit)
    }

    /// Misses in a row at the end of the window that a quorum of the trusted real-time
    /// sources all reach.
    pub(super) fn confirmed_misses_in_a_row(
        &self,
        seen: &[Seen<'_>],
        realtime: &[usize],
        quorum: usize,
    ) -> u32 {
        let tails: Vec<u64> = realtime
            .iter()
            .map(|&i| {
                self.sources
                    .get(seen[i].name)
                    .map_or(0, |m| misses_in_a_row(&m.window))
            })
            .collect();
        kth_largest(tails, quorum).unwrap_or(0) as u32
    }
}

/// Missed proposals at the end of a window (the most recent ones), up to the first made.
pub(super) fn misses_in_a_row(window: &VecDeque<bool>) -> u64 {
    window.iter().rev().take_while(|&&missed| missed).count() as u64
}

#[cfg(test)]
#[path = "tests/small_validator.rs"]
mod tests;
