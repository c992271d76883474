//! Tests of properties.

#[allow(unused_imports)]
use super::*;
use crate::policy::tests::scenario::*;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// Property: a healthy primary and honest (if flaky) sources never cause a failover.

/// xorshift64*: a tiny deterministic PRNG so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The defaults without rule 2c (one unanswered miss in the epoch's last polls fails over a
/// small validator). That rule is a bet by design: at the epoch's end a background miss and a
/// node that stopped proposing look the same, and it accepts a measured false-failover rate
/// (docs/policy.md, `radix-sim bench-false-failovers`) to save the next epoch. Every other
/// rule must never fail over a healthy primary; `property_a_healthy_primary_fails_over_only_by_the_epoch_end_rule`
/// checks what rule 2c adds.
fn without_epoch_end_rule() -> PolicyParams {
    PolicyParams {
        epoch_end_polls: 0,
        ..PolicyParams::default()
    }
}

/// A healthy primary with rare, spaced misses and honest but flaky sources, for 300 polls;
/// `check` sees every assessment.
fn healthy_run(seed: u64, params: PolicyParams, mut check: impl FnMut(u64, &Assessment)) {
    {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut s = Scenario::with(params);
        if rng.chance(30) {
            s = s.sources(&[
                ("core a", SourceKind::Core),
                ("core b", SourceKind::Core),
                ("gateway g", SourceKind::Gateway),
                ("gateway h", SourceKind::Gateway),
                (BACKUP_CORE_SOURCE, SourceKind::Core),
            ]);
        }
        let names: Vec<String> = s.sources.iter().map(|x| x.name.clone()).collect();
        // Proposals since the last random miss: a healthy node misses rarely and never in
        // bursts, so misses are at least 2*M proposals apart.
        let mut since_miss = 100u64;
        let mut primary_blip = 0u32;
        for poll in 0..300 {
            if rng.chance(2) {
                s.epoch_change();
            }
            // Noise in the sources: outages, stuck nodes, recoveries.
            for name in &names {
                let r = rng.below(100);
                if r < 3 {
                    s.fault(name, Fault::Down(unreachable()));
                } else if r < 5 {
                    s.stale(name, rng.below(60_000) as i64);
                } else if r < 25 {
                    s.fault(name, Fault::None);
                }
            }
            // The primary's System API drops a request now and then, never for
            // primary_down_polls polls in a row.
            if primary_blip < 2 && rng.chance(5) {
                s.primary = Some(Err(SourceError::Timeout(3000)));
                primary_blip += 1;
            } else {
                let recent = match &s.primary {
                    Some(Ok(n)) => n.recent_missed,
                    _ => 0,
                };
                let mut n = node(PRIMARY_KEY);
                n.recent_missed = recent;
                s.primary = Some(Ok(n));
                primary_blip = 0;
            }
            // Our proposals: 0 to 3 a poll (small to big validator), a rare miss.
            for _ in 0..rng.below(4) {
                if since_miss >= 10 && rng.chance(3) {
                    s.lead(0, 1);
                    since_miss = 0;
                    if let Some(Ok(n)) = &mut s.primary {
                        n.recent_missed += 1; // the node sees its own miss
                    }
                } else {
                    s.lead(1, 0);
                    since_miss += 1;
                }
            }
            let a = s.poll();
            check(poll, &a);
        }
    }
}

#[test]
fn property_healthy_primary_and_honest_sources_never_fail_over() {
    for seed in 1..=200u64 {
        healthy_run(seed, without_epoch_end_rule(), |poll, a| {
            assert!(
                !matches!(
                    a.decision,
                    Decision::FailOver { .. } | Decision::Blocked { .. }
                ),
                "seed {seed} poll {poll}: {:?}\n{}",
                a.decision,
                a.view.summary_line()
            );
        });
    }
}

#[test]
fn property_a_healthy_primary_fails_over_only_by_the_epoch_end_rule() {
    // With the defaults, a healthy primary's isolated miss may fail it over, but only by rule
    // 2c: the last turn missed as the epoch is expected to end. Never by N of M, rule 2b or
    // the early signal.
    let mut by_epoch_end = 0;
    for seed in 1..=200u64 {
        healthy_run(seed, PolicyParams::default(), |poll, a| match &a.decision {
            Decision::FailOver { reason } | Decision::Blocked { reason, .. } => {
                assert!(
                    reason.starts_with("our last leader turn was missed, confirmed by a quorum, and the epoch is expected to end"),
                    "seed {seed} poll {poll}: {:?}\n{}",
                    a.decision,
                    a.view.summary_line()
                );
                by_epoch_end += 1;
            }
            _ => {}
        });
    }
    // The run is built so that such misses occur: the rule is on by default.
    assert!(by_epoch_end > 0, "rule 2c never acted on 200 noisy runs");
}

#[test]
fn property_one_liar_never_fails_over_a_healthy_primary() {
    // One source (any of the four) lies in a random way on every poll; the others are honest
    // and the primary is healthy, with rare spaced misses.
    let names = ["core a", "core b", "core c", "gateway g"];
    for seed in 1..=200u64 {
        let mut rng = Rng(seed.wrapping_mul(0xbf58_476d_1ce4_e5b9) | 1);
        let mut s = Scenario::with(without_epoch_end_rule());
        let liar = names[rng.below(4) as usize];
        let mut since_miss = 100u64;
        for poll in 0..200 {
            if rng.chance(2) {
                s.epoch_change();
            }
            let lie = match rng.below(6) {
                0 => Fault::ExtraMissed(rng.below(20)),
                1 => Fault::WrongEpoch(s.epoch + 2 + rng.below(5)),
                2 => Fault::Keys(Some(BACKUP_KEY.into()), Some(BACKUP_KEY.into())),
                3 => Fault::Keys(Some(OTHER_KEY.into()), Some(OTHER_KEY.into())),
                4 => Fault::Down(unreachable()),
                _ => Fault::ExtraMissed(1 + rng.below(2)),
            };
            s.fault(liar, lie);
            for _ in 0..rng.below(4) {
                if since_miss >= 10 && rng.chance(3) {
                    s.lead(0, 1);
                    since_miss = 0;
                } else {
                    s.lead(1, 0);
                    since_miss += 1;
                }
            }
            let a = s.poll();
            assert!(
                !matches!(
                    a.decision,
                    Decision::FailOver { .. }
                        | Decision::Blocked { .. }
                        | Decision::AlreadyFailedOver
                ),
                "seed {seed} poll {poll} liar {liar}: {:?}\n{}",
                a.decision,
                a.view.summary_line()
            );
        }
    }
}

/// One noisy outage run, as the list of assessments.
fn noisy_run(seed: u64) -> Vec<Assessment> {
    let mut rng = Rng(seed | 1);
    let mut s = Scenario::new();
    let mut out = Vec::new();
    for poll in 0..200 {
        if poll == 100 {
            s.kill_primary();
        }
        if rng.chance(3) {
            s.epoch_change();
        }
        for name in ["core a", "core b", "core c", "gateway g"] {
            match rng.below(10) {
                0 => {
                    s.fault(name, Fault::Down(unreachable()));
                }
                1 => {
                    s.fault(name, Fault::ExtraMissed(rng.below(8)));
                }
                2 => {
                    s.stale(name, rng.below(90_000) as i64);
                }
                _ => {
                    s.fault(name, Fault::None);
                }
            }
        }
        let missed = u64::from(poll >= 100 && rng.chance(50));
        out.push(s.lead(rng.below(3), missed).poll());
    }
    out
}

#[test]
fn same_observations_same_assessments() {
    for seed in [7, 42, 2024] {
        let a = noisy_run(seed);
        assert_eq!(a, noisy_run(seed), "seed {seed}");
        // And the runs are not trivially constant.
        let labels: BTreeSet<&str> = a.iter().map(|x| x.decision.label()).collect();
        assert!(labels.len() >= 2, "seed {seed}: {labels:?}");
    }
}

#[test]
fn property_a_dead_primary_is_failed_over_despite_one_flaky_source() {
    // The other side of the property: with the primary dead and at most one source flaky at a
    // time, the failover comes within primary_down_polls + a few polls.
    for seed in 1..=100u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let mut s = Scenario::new();
        s.run(3, 1, 0);
        s.kill_primary();
        let names = ["core a", "core b", "core c", "gateway g"];
        let mut at = None;
        for poll in 0..10 {
            for n in names {
                s.fault(n, Fault::None);
            }
            if rng.chance(50) {
                let n = names[rng.below(4) as usize];
                s.fault(n, Fault::Down(unreachable()));
            }
            let missed = rng.below(2);
            if s.lead(0, missed).poll().decision.is_fail_over() {
                at = Some(poll);
                break;
            }
        }
        let at = at.unwrap_or_else(|| panic!("seed {seed}: no failover in 10 polls"));
        assert!(at <= 4, "seed {seed}: failover only at poll {at}");
    }
}
