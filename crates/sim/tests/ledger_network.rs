//! The network on the real engine: genesis, leader schedule, misses and emissions.

use radix_sim::ledger::types::RoundRecord;
use radix_sim::ledger::{Sim, SimConfig};

fn sim_with(seed: u64, f: impl FnOnce(&mut SimConfig)) -> (Sim, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SimConfig::new(seed, dir.path().join("owner.key"));
    f(&mut cfg);
    (Sim::genesis(cfg).unwrap(), dir)
}

#[test]
fn genesis_has_configured_validators_and_ours_is_owned_by_the_owner_account() {
    let stakes = vec![500_000, 3_000_000, 1_000_000, 2_000_000, 700_000, 900_000];
    let (sim, dir) = sim_with(1, |c| {
        c.validator_stakes_xrd = stakes.clone();
        c.our_validator_index = 2;
        c.owner_xrd_balance = 12_345;
    });
    let snap = sim.snapshot();
    let info = sim.info();
    assert_eq!(snap.position.network_id, 242);
    assert_eq!(snap.validators.len(), 6);
    assert_eq!(snap.nodes.len(), 7, "primary + backup + 5 others");
    // Stake order = active-set order; every genesis stake shows up on ledger.
    let mut got: Vec<u64> = snap
        .validators
        .iter()
        .map(|v| v.stake_xrd.parse::<f64>().unwrap() as u64)
        .collect();
    let mut want = stakes.clone();
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(got, want);
    got.dedup();
    for (i, v) in snap.validators.iter().enumerate() {
        assert_eq!(v.active.as_ref().unwrap().index, i);
        assert!(v.is_registered);
    }
    let ours = snap
        .validators
        .iter()
        .find(|v| v.address == info.our_validator)
        .unwrap();
    assert_eq!(ours.stake_xrd, "1000000");
    assert_eq!(ours.ledger_key_hex, info.primary_public_key_hex);
    assert!(info.our_validator.starts_with("validator_sim1"));
    assert!(info.owner_account.starts_with("account_sim1"));

    // The owner account holds the badge with our validator's local id, and the XRD.
    let acct = sim.account(&info.owner_account).unwrap().unwrap();
    let badge = acct
        .non_fungibles
        .iter()
        .find(|h| h.resource_address == info.owner_badge_resource)
        .expect("owner badge in the owner account");
    assert_eq!(badge.ids, vec![info.owner_badge_local_id.clone()]);
    assert!(info.owner_badge_local_id.starts_with('['));
    let xrd = acct
        .fungibles
        .iter()
        .find(|h| h.resource_address == info.xrd_resource)
        .unwrap();
    assert_eq!(xrd.amount, "12345");

    // Nodes: primary holds the validator key, backup its own key for our validator.
    let primary = snap.nodes.iter().find(|n| n.name == "primary").unwrap();
    let backup = snap.nodes.iter().find(|n| n.name == "backup").unwrap();
    assert_eq!(primary.public_key_hex, info.primary_public_key_hex);
    assert_eq!(backup.validator_address, info.our_validator);
    assert_ne!(backup.public_key_hex, primary.public_key_hex);
    assert!(primary.validating_in_current_epoch);
    assert!(!backup.validating_in_current_epoch);

    // Key file is 0600 and a second sim given that file uses the same owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(dir.path().join("owner.key")).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }
    let mut cfg2 = SimConfig::new(99, dir.path().join("owner.key"));
    cfg2.validator_stakes_xrd = vec![1_000, 2_000];
    let sim2 = Sim::genesis(cfg2).unwrap();
    assert_eq!(sim2.info().owner_account, info.owner_account);
}

#[test]
fn bad_config_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SimConfig::new(1, dir.path().join("k"));
    cfg.our_validator_index = 8;
    let e = Sim::genesis(cfg).err().unwrap().to_string();
    assert!(e.contains("our_validator_index"), "{e}");
    let mut cfg = SimConfig::new(1, dir.path().join("k"));
    cfg.validator_stakes_xrd = vec![];
    assert!(Sim::genesis(cfg).is_err());
}

fn trace(sim: &Sim, rounds: usize) -> Vec<RoundRecord> {
    (0..rounds).map(|_| sim.step_round().unwrap()).collect()
}

#[test]
fn rounds_advance_epochs_by_the_engine_condition_and_schedule_is_seeded() {
    let (a, _d1) = sim_with(7, |c| c.rounds_per_epoch = 10);
    let (b, _d2) = sim_with(7, |c| c.rounds_per_epoch = 10);
    let (c, _d3) = sim_with(8, |c| c.rounds_per_epoch = 10);
    let e0 = a.snapshot().position.epoch;
    let ta = trace(&a, 35);
    let tb = trace(&b, 35);
    let tc = trace(&c, 35);
    let key = |t: &[RoundRecord]| {
        t.iter()
            .map(|r| (r.epoch, r.round, r.leader_address.clone(), r.made))
            .collect::<Vec<_>>()
    };
    // Validator addresses are derived from the genesis, so compare leader positions.
    assert_eq!(key(&ta), key(&tb), "same seed, same trace");
    let pos = |s: &Sim, t: &[RoundRecord]| {
        let snap = s.snapshot();
        t.iter()
            .map(|r| {
                snap.validators
                    .iter()
                    .position(|v| v.address == r.leader_address)
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    assert_ne!(pos(&a, &ta), pos(&c, &tc), "other seed, other schedule");
    // 35 rounds of 10 per epoch: three epoch changes, read back from the engine.
    assert_eq!(a.snapshot().position.epoch, e0 + 3);
    assert_eq!(a.snapshot().position.round, 5);
    assert!(
        ta.iter().all(|r| r.made),
        "all nodes up: every proposal made"
    );
    assert_eq!(ta[0].round, 1);
    assert_eq!(ta[10].round, 1);
    assert_eq!(ta[10].epoch, e0 + 1);
    // Emissions for the three finished epochs, all validators, no misses.
    let em = a.snapshot().emissions.clone();
    assert_eq!(em.len(), 3 * 8);
    assert!(em.iter().all(|e| e.proposals_missed == 0));
    assert_eq!(
        em.iter()
            .filter(|e| e.epoch == e0)
            .map(|e| e.proposals_made)
            .sum::<u64>(),
        10
    );
}

#[test]
fn leader_schedule_is_roughly_stake_weighted() {
    // One validator with 70% of the stake should lead about 70% of the rounds.
    let (sim, _d) = sim_with(3, |c| {
        c.validator_stakes_xrd = vec![7_000_000, 1_000_000, 1_000_000, 1_000_000];
        c.rounds_per_epoch = 100;
    });
    let t = trace(&sim, 400);
    let big = sim.snapshot().validators[0].address.clone();
    let share = t.iter().filter(|r| r.leader_address == big).count() as f64 / 400.0;
    assert!((0.6..0.8).contains(&share), "share {share}");
}

/// (epoch, round, leader's position in the validator list, made) per round.
fn positions(sim: &Sim, t: &[RoundRecord]) -> Vec<(u64, u64, usize, bool)> {
    let snap = sim.snapshot();
    t.iter()
        .map(|r| {
            let i = snap
                .validators
                .iter()
                .position(|v| v.address == r.leader_address)
                .unwrap();
            (r.epoch, r.round, i, r.made)
        })
        .collect()
}

#[test]
fn same_seed_and_same_faults_replay_identically() {
    let run = || {
        let (sim, dir) = sim_with(42, |c| c.rounds_per_epoch = 10);
        let start = sim.snapshot().position.clone();
        let e = start.epoch;
        sim.add_round_hook(Box::new(move |sim, epoch, round| {
            // Primary and one other validator down for rounds 3..=14 of the first
            // epoch span (crossing an epoch change), then back up.
            let down = (epoch == e && round >= 3) || (epoch == e + 1 && round <= 4);
            sim.set_node_up("primary", !down).unwrap();
            sim.set_node_up("validator-3", !down).unwrap();
        }));
        let t = trace(&sim, 40);
        let p = positions(&sim, &t);
        let em: Vec<_> = sim
            .snapshot()
            .emissions
            .iter()
            .map(|x| (x.epoch, x.proposals_made, x.proposals_missed))
            .collect();
        drop(dir);
        (p, em)
    };
    let (a, ea) = run();
    let (b, eb) = run();
    assert_eq!(a, b);
    assert_eq!(ea, eb);
    // The faults really happened: some rounds were missed, and only while down.
    let missed: Vec<_> = a.iter().filter(|x| !x.3).collect();
    assert!(!missed.is_empty());
    assert!(ea.iter().any(|x| x.2 > 0));
    let first_epoch = a[0].0;
    assert!(missed
        .iter()
        .all(|x| (x.0 == first_epoch && x.1 >= 3) || (x.0 == first_epoch + 1 && x.1 <= 4)));
}

#[test]
fn clones_share_one_ledger_across_threads() {
    let (sim, _d) = sim_with(5, |_| {});
    let r0 = sim.snapshot().position.round;
    let other = sim.clone();
    let records = std::thread::spawn(move || {
        (0..3)
            .map(|_| other.step_round().unwrap())
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(sim.snapshot().position.round, r0 + 3);
    assert_eq!(sim.round_history(10).len(), 3);
}
