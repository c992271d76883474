//! Rule 2c: near the epoch's end, one unanswered miss fails over a small validator.
//!
//! A key change takes effect at the next epoch change, so a failover decided while the epoch
//! still has time costs nothing more than one decided at the first miss: every turn left in
//! the epoch is lost either way. Waiting for more evidence is free until the epoch's last
//! moments; then it costs the whole next epoch. So in the last `epoch_end_polls` polls before
//! the epoch's expected end, a confirmed miss not followed by a made proposal fails over a
//! small validator (rule 2b's; a larger one leads every few seconds, so N of M is nearly as
//! fast, and it leads so often in those polls that background misses would trigger it).
//!
//! The end is expected one epoch length after the epoch's start, both read off the ledger's
//! own clock (the proposer timestamps of the trusted sources): the start when a poll first
//! saw the new epoch right after seeing the one before, the length from the last such pair.
//! Until two epoch changes have been seen, the end is unknown and this rule waits.

use super::source_trust::Seen;
use super::Policy;

/// What the policy knows of the epochs' timing, from the ledger's clock.
#[derive(Debug, Clone, Default)]
pub(super) struct EpochClock {
    /// The epoch of the last poll, and when it started (`None`: its start was not seen).
    current: Option<(u64, Option<i64>)>,
    /// The length of the last epoch whose start and end were both seen, ms.
    last_length_ms: Option<i64>,
}

impl EpochClock {
    /// Feeds one poll: the epoch the trusted sources agree on, and the newest ledger time
    /// among them in that epoch.
    pub(super) fn observe(&mut self, epoch: u64, ledger_time_ms: i64) {
        match self.current {
            Some((e, _)) if e == epoch => {}
            Some((e, started)) if epoch == e + 1 => {
                if let Some(s) = started {
                    let length = ledger_time_ms - s;
                    if length > 0 {
                        self.last_length_ms = Some(length);
                    }
                }
                self.current = Some((epoch, Some(ledger_time_ms)));
            }
            // The first poll, a jump of epochs or a step back: the start is unknown.
            _ => self.current = Some((epoch, None)),
        }
    }

    /// Milliseconds until the current epoch's expected end (negative: overdue), when known.
    pub(super) fn time_left_ms(&self, ledger_time_ms: i64) -> Option<i64> {
        let (_, started) = self.current?;
        Some(started? + self.last_length_ms? - ledger_time_ms)
    }
}

impl Policy {
    /// The epoch the trusted sources agree on and their newest ledger time in it.
    pub(super) fn feed_epoch_clock(
        &mut self,
        seen: &[Seen<'_>],
        epoch: Option<u64>,
    ) -> Option<i64> {
        let epoch = epoch?;
        let now = seen
            .iter()
            .filter(|s| s.trust.is_trusted())
            .filter_map(|s| s.reading)
            .filter(|r| r.epoch == epoch)
            .map(|r| r.ledger_time_ms)
            .max()?;
        self.epoch_clock.observe(epoch, now);
        Some(now)
    }

    /// Rule 2c holds: the epoch is expected to end within `epoch_end_polls` polls.
    pub(super) fn epoch_ending(&self, ledger_now_ms: Option<i64>) -> Option<i64> {
        let polls = self.params.epoch_end_polls;
        if polls == 0 {
            return None;
        }
        let margin = i64::try_from(self.params.poll_interval.as_millis())
            .unwrap_or(i64::MAX)
            .saturating_mul(i64::from(polls));
        let left = self.epoch_clock.time_left_ms(ledger_now_ms?)?;
        (left <= margin).then_some(left)
    }
}

#[cfg(test)]
#[path = "tests/epoch_deadline.rs"]
mod tests;
