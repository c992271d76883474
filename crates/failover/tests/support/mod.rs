//! An in-process radix-sim network for the library-level integration tests (sources, state,
//! alerts, metrics): the real Radix Engine and its Gateway/Core/System API servers on loopback,
//! rounds stepped by the test (or by the sim's clock), faults applied through the sim's own
//! fault API. (The daemon's end-to-end tests use `tests/common`'s `Harness` instead.)

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use radix_failover::config::Config;
use radix_sim::api::{Network, Ports};
use radix_sim::faults::{change_ports, FaultAction, Faults};
use radix_sim::info::Info;
use radix_sim::ledger::{Sim, SimConfig};

pub struct SimNet {
    pub sim: Sim,
    pub net: Network,
    pub faults: Arc<Faults>,
    pub info: Info,
}

impl SimNet {
    /// Genesis from `seed` (the owner key file goes in `dir`), `tweak` adjusting the sim's
    /// config first (epoch and round length), then every node's servers on free loopback ports.
    pub async fn start(dir: &Path, seed: u64, tweak: impl FnOnce(&mut SimConfig)) -> SimNet {
        let mut cfg = SimConfig::new(seed, dir.join("owner.key"));
        tweak(&mut cfg);
        let sim = tokio::task::spawn_blocking(move || Sim::genesis(cfg))
            .await
            .expect("genesis task")
            .expect("genesis");
        let faults = Arc::new(Faults::new());
        let net = Network::start(sim.clone(), faults.clone(), &Ports::default())
            .await
            .expect("servers bind on loopback");
        let info = Info::gather(&net, seed);
        SimNet {
            sim,
            net,
            faults,
            info,
        }
    }

    /// The daemon config the sim writes for this network (`Info::failover_config`), saved as
    /// `dir/failover.toml` and loaded the way the daemon loads it.
    pub fn daemon_config(&self, dir: &Path) -> Config {
        let path = dir.join("failover.toml");
        std::fs::write(&path, self.info.failover_config()).expect("write config");
        Config::load(&path).expect("the sim's config loads")
    }

    /// Runs `n` rounds (off the async runtime: a round executes on the engine).
    pub async fn step(&self, n: u64) {
        let sim = self.sim.clone();
        tokio::task::spawn_blocking(move || {
            for _ in 0..n {
                sim.step_round().expect("round");
            }
        })
        .await
        .expect("step task");
    }

    /// Applies a fault; one that takes a node or the gateway down or up also closes or opens
    /// its ports.
    pub async fn fault(&self, action: FaultAction) {
        let change = self
            .faults
            .apply(&self.sim, &action)
            .expect("fault applies");
        if let Some(change) = change {
            change_ports(&self.net.state.servers, change)
                .await
                .expect("ports change");
        }
    }
}
