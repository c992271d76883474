//! Rule 10b: at most one automatic switch per `policy.flap_limit_epochs` epochs.
//!
//! With the pair re-armed (rule 10), a switch is followed by watching the new active node, so
//! a cause both nodes share (the watcher's own network, a bad release on both, a broken
//! config) could make the daemon switch back and forth. One automatic switch per window is
//! enough for independent failures (a second node failing within the hour is rare); past it, a
//! person must look. Manual switches (`switchover`, `failover`, `failback`) do not count.

/// The blocker when an automatic switch now would break the limit: the last automatic switch
/// was decided in `last_switch_epoch`, and `limit_epochs` must pass before the next.
pub fn flap_limit_blocker(
    last_switch_epoch: Option<u64>,
    epoch: u64,
    limit_epochs: u64,
) -> Option<String> {
    let last = last_switch_epoch?;
    let next_allowed = last.saturating_add(limit_epochs);
    (epoch < next_allowed).then(|| {
        format!(
            "flap limit: the last automatic switch was decided in epoch {last}, and policy.flap_limit_epochs = {limit_epochs} allows the next from epoch {next_allowed}; both nodes failing so close together points to a cause a switch does not fix (the network, a release, the config). A person must act: check both nodes, then switch by hand (radix-failover switchover, failover or failback)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_earlier_switch_never_blocks() {
        for epoch in [0, 1, 500, u64::MAX] {
            assert_eq!(flap_limit_blocker(None, epoch, 12), None);
        }
    }

    #[test]
    fn a_switch_blocks_the_next_until_the_limit_has_passed() {
        for limit in [1u64, 2, 12, 288] {
            for since in 0..limit + 3 {
                let blocked = flap_limit_blocker(Some(100), 100 + since, limit);
                assert_eq!(
                    blocked.is_some(),
                    since < limit,
                    "limit {limit}, {since} epochs on"
                );
                if let Some(why) = blocked {
                    assert!(why.contains("epoch 100"), "{why}");
                    assert!(
                        why.contains(&format!("from epoch {}", 100 + limit)),
                        "{why}"
                    );
                    assert!(why.contains("A person must act"), "{why}");
                }
            }
        }
    }

    #[test]
    fn an_epoch_before_the_switch_or_a_huge_limit_does_not_overflow() {
        // A reference epoch behind the recorded switch (a source far behind): still blocked.
        assert!(flap_limit_blocker(Some(100), 90, 12).is_some());
        assert!(flap_limit_blocker(Some(u64::MAX - 1), u64::MAX - 1, u64::MAX).is_some());
    }
}
