//! The background round clock steps rounds on its own and stops when told.

use std::time::Duration;

use radix_sim::ledger::{Sim, SimConfig};

#[test]
fn clock_steps_rounds_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SimConfig::new(4, dir.path().join("owner.key"));
    cfg.round_length_ms = 20;
    cfg.rounds_per_epoch = 5;
    let sim = Sim::genesis(cfg).unwrap();
    let mut rx = sim.subscribe();
    let e0 = sim.snapshot().position.epoch;
    let clock = sim.start_clock();
    // Wait (bounded) until two epochs passed, observed through the watch channel.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sim.snapshot().position.epoch < e0 + 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "clock did not advance"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(rx.has_changed().unwrap());
    assert!(rx.borrow_and_update().position.epoch >= e0 + 2);
    clock.stop();
    let stopped_at = sim.snapshot().position.clone();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(sim.snapshot().position, stopped_at, "no rounds after stop");
    let h = sim.round_history(1000);
    assert!(h.len() >= 10);
    assert!(h.windows(2).all(|w| w[1].timestamp_ms >= w[0].timestamp_ms));
}
