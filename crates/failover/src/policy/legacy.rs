//! Rule 6: the legacy rule, the old community script's: more than `legacy_missed_threshold`
//! misses in the Gateway's finished epochs, as a majority of the trusted Gateways report them.
//! Available as `policy.name = "legacy"`; it detects one or more epochs late.

use super::miss_window::kth_largest;
use super::source_trust::Seen;
use super::{Decision, Policy};

impl Policy {
    /// Missed proposals of the finished epochs, as a strict majority of the trusted sources
    /// that report them see it (the lowest such value when they differ).
    pub(super) fn finished_missed(&self, seen: &[Seen<'_>], trusted: &[usize]) -> Option<u64> {
        let v: Vec<u64> = trusted
            .iter()
            .filter_map(|&i| {
                seen[i]
                    .reading
                    .and_then(|r| r.finished)
                    .and_then(|f| f.counts)
                    .map(|c| c.missed)
            })
            .collect();
        let k = v.len() / 2 + 1;
        kth_largest(v, k)
    }

    /// Rule 6: the old script's rule on the Gateway's finished epochs.
    pub(super) fn legacy_trigger(
        &self,
        seen: &[Seen<'_>],
        trusted: &[usize],
    ) -> Result<Option<String>, Decision> {
        let t = self.params.legacy_missed_threshold;
        let reporting: Vec<(&str, u64, u64, u64)> = trusted
            .iter()
            .filter_map(|&i| {
                let f = seen[i].reading.and_then(|r| r.finished)?;
                Some((seen[i].name, f.from_epoch, f.to_epoch, f.counts?.missed))
            })
            .collect();
        if reporting.is_empty() {
            return Err(Decision::Unknown {
                reason: "legacy policy: no trusted Gateway reports finished-epoch counts".into(),
            });
        }
        let over: Vec<&(&str, u64, u64, u64)> = reporting.iter().filter(|r| r.3 > t).collect();
        if over.len() * 2 > reporting.len() {
            let (name, from, to, missed) = over[0];
            Ok(Some(format!(
                "legacy policy: {missed} missed proposals in finished epochs {from}..={to} (more than {t}), per {name} and {} of {} trusted sources",
                over.len(),
                reporting.len()
            )))
        } else if !over.is_empty() {
            Err(Decision::Suspect {
                reason: format!(
                    "legacy policy: {} of {} trusted sources see more than {t} finished-epoch misses; a majority must",
                    over.len(),
                    reporting.len()
                ),
            })
        } else if reporting.iter().any(|r| r.3 > 0) {
            let worst = reporting.iter().map(|r| r.3).max().unwrap_or(0);
            Err(Decision::Suspect {
                reason: format!(
                    "legacy policy: {worst} finished-epoch misses (fails over above {t})"
                ),
            })
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
#[path = "tests/legacy.rs"]
mod tests;
