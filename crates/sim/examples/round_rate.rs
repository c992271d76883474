//! How fast the sim can step rounds on the real engine, and how steady its clock is.
//!
//! `cargo run --release -p radix-sim --example round_rate [ROUNDS]`
//!
//! Part 1 steps ROUNDS rounds (default 500) back to back, with a user transaction
//! (a small XRD transfer) in every 10th round, and prints rounds/s and ms/round
//! (mean, p50, p99, max). Part 2 runs the timed clock at 100 ms rounds with 20 rounds
//! per epoch for ten epochs while a reader thread hammers snapshots, and prints how
//! long the ten epochs took and the clock's lateness.

use std::time::{Duration, Instant};

use radix_common::prelude::*;
use radix_sim::ledger::types::{IntentStatus, SubmitOutcome};
use radix_sim::ledger::{Sim, SimConfig};
use radix_transactions::builder::{ManifestBuilder, TransactionBuilder};
use radix_transactions::model::TransactionHeaderV1;
use radix_transactions::prelude::*;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn transfer(sim: &Sim, owner: &Ed25519PrivateKey, nonce: u32) -> Vec<u8> {
    let info = sim.info();
    let dec_ = AddressBech32Decoder::new(&NetworkDefinition::simulator());
    let account = ComponentAddress::try_from_bech32(&dec_, &info.owner_account).unwrap();
    let epoch = sim.snapshot().position.epoch;
    let to = ComponentAddress::preallocated_account_from_public_key(
        &Ed25519PrivateKey::from_u64(7).unwrap().public_key(),
    );
    let manifest = ManifestBuilder::new()
        .lock_fee(account, Decimal::ONE)
        .withdraw_from_account(account, XRD, Decimal::ONE)
        .try_deposit_entire_worktop_or_abort(to, None)
        .build();
    TransactionBuilder::new()
        .header(TransactionHeaderV1 {
            network_id: 242,
            start_epoch_inclusive: Epoch::of(epoch),
            end_epoch_exclusive: Epoch::of(epoch + 20),
            nonce,
            notary_public_key: owner.public_key().into(),
            notary_is_signatory: true,
            tip_percentage: 0,
        })
        .manifest(manifest)
        .notarize(owner)
        .build()
        .to_raw()
        .map(|r| r.to_vec())
        .unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(500);
    let dir = tempfile::tempdir()?;
    let key_path = dir.path().join("owner.key");
    let t = Instant::now();
    let sim = Sim::genesis(SimConfig::new(1, key_path.clone()))?;
    println!("genesis: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let hexkey = std::fs::read_to_string(&key_path)?;
    let owner = Ed25519PrivateKey::from_bytes(&hex::decode(hexkey.trim())?)
        .map_err(|_| anyhow::anyhow!("bad key"))?;

    let mut ms = Vec::with_capacity(rounds);
    let mut intents = vec![];
    let start = Instant::now();
    for i in 0..rounds {
        if i % 10 == 0 {
            match sim.submit(&transfer(&sim, &owner, i as u32)) {
                SubmitOutcome::Rejected { reason, .. } => {
                    anyhow::bail!("transfer rejected: {reason}")
                }
                SubmitOutcome::Accepted {
                    intent_hash_bech32, ..
                } => intents.push(intent_hash_bech32),
            }
        }
        let t = Instant::now();
        sim.step_round()?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let total = start.elapsed().as_secs_f64();
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    ms.sort_by(|a, b| a.total_cmp(b));
    let s = sim.snapshot();
    let committed = intents
        .iter()
        .filter(|h| matches!(sim.intent_status(h), IntentStatus::CommittedSuccess(_)))
        .count();
    println!(
        "stepped {rounds} rounds ({} epochs, {committed}/{} user transactions committed) in {total:.2} s: {:.0} rounds/s; ms/round mean {mean:.2}, p50 {:.2}, p99 {:.2}, max {:.2}",
        s.emissions.iter().map(|e| e.epoch).collect::<std::collections::BTreeSet<_>>().len(),
        intents.len(),
        rounds as f64 / total,
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0),
    );

    // Part 2: the timed clock, ten epochs, under read load.
    let dir2 = tempfile::tempdir()?;
    let mut cfg = SimConfig::new(2, dir2.path().join("owner.key"));
    cfg.round_length_ms = 100;
    cfg.rounds_per_epoch = 20;
    let sim = Sim::genesis(cfg)?;
    let e0 = sim.snapshot().position.epoch;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let sim = sim.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let s = sim.snapshot();
                std::hint::black_box(s.validators.len());
                reads += 1;
                // Yield now and then so the reader does not starve the clock of a core.
                if reads & 1023 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            reads
        })
    };
    let start = Instant::now();
    let clock = sim.start_clock();
    while sim.snapshot().position.epoch < e0 + 10 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = start.elapsed();
    clock.stop();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader panicked"))?;
    let h = sim.round_history(10_000);
    let lateness: Vec<f64> = h
        .windows(2)
        .map(|w| (w[1].timestamp_ms - w[0].timestamp_ms) as f64 - 100.0)
        .collect();
    let mut sorted = lateness.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    println!(
        "timed clock: 10 epochs of 20 x 100 ms rounds took {:.2} s ({} rounds, ideal 20.0 s); round spacing minus 100 ms: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} snapshot reads meanwhile",
        took.as_secs_f64(),
        h.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0.0),
        reads
    );
    Ok(())
}
