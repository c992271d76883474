//! Rule 2: our misses, in real time, in a window of our last M leader proposals, confirmed by
//! a quorum of trusted Core sources.
//!
//! Each Core source's current-epoch counts become deltas between polls, fed into that source's
//! window; the window carries across epoch changes and starts afresh when the key in force
//! changes owner. The confirmed window is what at least a quorum of the trusted real-time
//! sources all reach.

use std::collections::VecDeque;

use super::keys::{is_known, KeyOwner};
use super::source_trust::{Seen, SourceTrust};
use super::Policy;
use crate::observe::{ProposalCounts, SourceKind};

/// Per-source memory between polls.
#[derive(Debug, Clone, Default)]
pub(super) struct SourceMemory {
    /// Epoch and counts of its last answer with counts.
    pub counts: Option<(u64, ProposalCounts)>,
    /// Its last (epoch, round, state_version).
    pub position: Option<(u64, u64, u64)>,
    /// Our recent proposals as this source saw them, oldest first; `true` = missed.
    pub window: VecDeque<bool>,
    /// It was trusted and had counts on the previous poll (so its next delta covers one poll).
    pub fed_last_poll: bool,
    /// Its trust label on the previous poll (events).
    pub last_trust: Option<SourceTrust>,
    /// Its ledger advanced since its previous answer, and it was trusted (rule 3's veto).
    pub advanced_last_poll: bool,
    /// Polls since its ledger was last seen advancing while trusted (`None`: never seen).
    /// Rule 3's veto looks a few polls back: two polls can fall within one round.
    pub polls_since_advance: Option<u32>,
    /// Its ledger position changed since its previous answer, trusted or not (rule 3's
    /// primary-ledger input).
    pub moved_last_poll: bool,
    /// Our leader turns (made + missed) in the last epoch it was seen in before the current
    /// one, as of its last answer there (rule 2b).
    pub turns_last_epoch: Option<u64>,
    /// Our proposals since its previous answer, when it was trusted and had one (rule 3's veto).
    pub last_delta: Option<ProposalCounts>,
    /// Our proposals made, as it saw them, since the primary's current unhealthy streak began.
    pub made_in_streak: u64,
    /// The other validators' counts of its last answer, and their recent rounds as it saw
    /// them (`true` = missed; rule 8).
    pub others: Option<(u64, ProposalCounts)>,
    pub others_window: VecDeque<bool>,
}

/// The counts and windows the trusted real-time sources agree on this poll.
pub(super) struct Tally {
    pub epoch: Option<u64>,
    pub round: Option<u64>,
    /// Indices (into `seen`) of the trusted Core sources with current-epoch counts.
    pub realtime: Vec<usize>,
    /// Real-time sources that must confirm: `min_confirming_sources` and a majority.
    pub quorum: usize,
    pub epoch_made: Option<u64>,
    pub epoch_missed: Option<u64>,
    /// (missed, tracked) of each real-time source's window, in `realtime` order.
    pub windows: Vec<(u32, u32)>,
    pub recent_missed: u32,
    pub recent_tracked: u32,
}

impl Policy {
    /// The window measures the node whose key is in force: a change of owner (a failover or
    /// fail-back taking effect) starts every window afresh.
    pub(super) fn restart_windows_on_new_owner(&mut self, key_in_force: &KeyOwner) {
        if !is_known(key_in_force) {
            return;
        }
        if self
            .window_owner
            .as_ref()
            .is_some_and(|o| o != key_in_force)
        {
            for mem in self.sources.values_mut() {
                mem.window.clear();
            }
        }
        self.window_owner = Some(key_in_force.clone());
    }

    /// Per-source memory: count deltas into windows, ledger positions. Returns how many
    /// trusted sources show their ledger advanced since their previous answer (rule 3).
    pub(super) fn feed_sources(&mut self, seen: &[Seen<'_>]) -> usize {
        let m = self.window_len();
        let mut advancing = 0usize;
        for s in seen {
            let mem = self.sources.entry(s.name.to_string()).or_default();
            mem.last_delta = None;
            mem.advanced_last_poll = false;
            mem.moved_last_poll = false;
            let Some(r) = s.reading else {
                mem.fed_last_poll = false;
                continue;
            };
            let is_trusted = s.trust.is_trusted();
            if let Some((e, round, sv)) = mem.position {
                mem.moved_last_poll = (r.epoch, r.round, r.state_version) != (e, round, sv);
                if is_trusted && ((r.epoch, r.round) > (e, round) || r.state_version > sv) {
                    advancing += 1;
                    mem.advanced_last_poll = true;
                }
            }
            mem.polls_since_advance = if mem.advanced_last_poll {
                Some(0)
            } else {
                mem.polls_since_advance.map(|n| n.saturating_add(1))
            };
            mem.position = Some((r.epoch, r.round, r.state_version));
            let Some(c) = r.current_epoch else {
                mem.fed_last_poll = false;
                continue;
            };
            if let Some((e, prev)) = mem.counts {
                if r.epoch == e + 1 {
                    mem.turns_last_epoch = Some(prev.made.saturating_add(prev.missed));
                }
            }
            let delta = count_delta(mem.counts, r.epoch, c);
            mem.counts = Some((r.epoch, c));
            if is_trusted {
                if let Some(d) = delta {
                    feed_window(&mut mem.window, d, m, mem.fed_last_poll);
                }
                mem.last_delta = delta;
            }
            mem.fed_last_poll = is_trusted;
        }
        advancing
    }

    /// M: the window's length (never shorter than N).
    pub(super) fn window_len(&self) -> usize {
        let n = self.params.missed_proposals.max(1);
        self.params.recent_proposals.max(n) as usize
    }

    /// The epoch, the counts and the confirmed window, as a quorum of the trusted real-time
    /// sources sees them.
    pub(super) fn tally(&self, seen: &[Seen<'_>], trusted: &[usize]) -> Tally {
        let min_confirm = self.params.min_confirming_sources.max(1) as usize;
        let epoch = trusted
            .iter()
            .filter_map(|&i| seen[i].reading.map(|r| r.epoch))
            .max();
        let round = trusted
            .iter()
            .filter_map(|&i| seen[i].reading)
            .filter(|r| Some(r.epoch) == epoch)
            .map(|r| r.round)
            .max();
        let realtime: Vec<usize> = trusted
            .iter()
            .copied()
            .filter(|&i| {
                seen[i].kind == SourceKind::Core
                    && seen[i].reading.is_some_and(|r| r.current_epoch.is_some())
            })
            .collect();
        let quorum = min_confirm.max(realtime.len() / 2 + 1);
        let current: Vec<ProposalCounts> = realtime
            .iter()
            .filter_map(|&i| seen[i].reading)
            .filter(|r| Some(r.epoch) == epoch)
            .filter_map(|r| r.current_epoch)
            .collect();
        let epoch_made = kth_largest(current.iter().map(|c| c.made).collect(), quorum);
        let epoch_missed = kth_largest(current.iter().map(|c| c.missed).collect(), quorum);
        let windows: Vec<(u32, u32)> = realtime
            .iter()
            .map(|&i| self.window_of(seen[i].name))
            .collect();
        let recent_missed =
            kth_largest(windows.iter().map(|w| w.0 as u64).collect(), quorum).unwrap_or(0) as u32;
        let recent_tracked =
            kth_largest(windows.iter().map(|w| w.1 as u64).collect(), quorum).unwrap_or(0) as u32;
        Tally {
            epoch,
            round,
            realtime,
            quorum,
            epoch_made,
            epoch_missed,
            windows,
            recent_missed,
            recent_tracked,
        }
    }

    /// (missed, tracked) of one source's window.
    pub(super) fn window_of(&self, name: &str) -> (u32, u32) {
        self.sources.get(name).map_or((0, 0), |mem| {
            let w = &mem.window;
            (w.iter().filter(|&&x| x).count() as u32, w.len() as u32)
        })
    }
}

/// Our proposals since the source's previous answer, or `None` when there is no usable
/// previous answer to subtract.
pub(super) fn count_delta(
    previous: Option<(u64, ProposalCounts)>,
    epoch: u64,
    c: ProposalCounts,
) -> Option<ProposalCounts> {
    match previous {
        // First sight: the counts so far are history of unknown order, a baseline only.
        None => None,
        Some((e, prev)) if e == epoch => {
            if c.made >= prev.made && c.missed >= prev.missed {
                Some(ProposalCounts {
                    made: c.made - prev.made,
                    missed: c.missed - prev.missed,
                })
            } else {
                // Counts went backwards in one epoch: a restarted or switched source.
                None
            }
        }
        // A new epoch: its counts start from 0.
        Some((e, _)) if epoch > e => Some(c),
        // The source went back in epochs: start over from this baseline.
        Some(_) => None,
    }
}

/// The k-th largest value (1-based), i.e. the largest x that at least k values reach. With
/// fewer than k values, the smallest of them (the best they all agree on); `None` when empty.
pub(super) fn kth_largest(mut v: Vec<u64>, k: usize) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(|a, b| b.cmp(a));
    let k = k.clamp(1, v.len());
    Some(v[k - 1])
}

/// Feeds one source's delta into its window of the last `m` proposals. After one poll the
/// order is unknown, so made go first (pessimistic: the misses are the most recent). After a
/// gap the misses are spread evenly over the gap, so scattered misses cannot pile up at its end.
pub(super) fn feed_window(
    window: &mut VecDeque<bool>,
    d: ProposalCounts,
    m: usize,
    one_poll: bool,
) {
    let total = d.made.saturating_add(d.missed);
    if total == 0 {
        return;
    }
    // Only the last m outcomes of the delta can stay in the window.
    let keep = total.min(m as u64);
    let skip = total - keep;
    for i in skip..total {
        let missed = if one_poll {
            // The misses are the last `missed` outcomes (as `i >= made`, also when the sum
            // saturated: missed <= total, so no underflow).
            i >= total - d.missed
        } else {
            // Miss j sits at floor((j + 1/2) * total / missed): is there a j with that == i?
            // Equivalently: round(k * missed / total) steps between k = i and k = i + 1.
            // round(a / t) = floor((2a + t) / 2t) = floor((a + floor(t/2)) / t), which stays in
            // u128 for any u64 counts (k <= total, missed <= total: k * missed + t/2 < 2^128),
            // where 2 * k * missed could overflow it.
            let rounded = |k: u64| {
                (u128::from(k) * u128::from(d.missed) + u128::from(total / 2)) / u128::from(total)
            };
            rounded(i + 1) > rounded(i)
        };
        window.push_back(missed);
    }
    while window.len() > m {
        window.pop_front();
    }
}

#[cfg(test)]
#[path = "tests/miss_window.rs"]
mod tests;
