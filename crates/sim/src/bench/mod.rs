//! `radix-sim bench-failover` and `radix-sim bench-footprint`: the real radix-failover binary
//! against in-process simulated networks, measured on the engine's round history
//! (docs/benchmarks.md).
//!
//! - [`missed`]: missed proposals after a primary failure, radix-failover's default policy
//!   against the old tool's rule, at fault positions spread through the epoch, against the
//!   unavoidable minimum.
//! - [`footprint`]: the daemon's memory, CPU, start-up time and binary size.

pub mod false_failovers;
pub mod footprint;
pub mod missed;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::api::{Network, Ports};
use crate::faults::{change_ports, Faults, PortChange};
use crate::info::Info;
use crate::ledger::{Sim, SimConfig};

/// A round takes milliseconds; 30 s without one means the clock is not running.
const ROUND_WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A simulated network on loopback, its clock not yet running.
pub struct SimNet {
    pub sim: Sim,
    pub net: Network,
    pub faults: Arc<Faults>,
    pub info: Info,
    /// Port changes asked for by faults applied from the clock thread.
    pub ports: tokio::sync::mpsc::UnboundedSender<PortChange>,
}

impl SimNet {
    /// Genesis (seeded: the same seed gives the same keys and leader schedule) and the APIs on
    /// free loopback ports; files (owner key) go to `dir`.
    pub async fn start(
        seed: u64,
        round_ms: u64,
        rounds_per_epoch: u64,
        dir: &Path,
    ) -> Result<SimNet> {
        SimNet::start_with(seed, round_ms, rounds_per_epoch, dir, |_| {}).await
    }

    /// [`SimNet::start`] with the config changed by `tune` (stakes, timeouts, miss rate).
    pub async fn start_with(
        seed: u64,
        round_ms: u64,
        rounds_per_epoch: u64,
        dir: &Path,
        tune: impl FnOnce(&mut SimConfig),
    ) -> Result<SimNet> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut cfg = SimConfig::new(seed, dir.join("owner.key"));
        cfg.round_length_ms = round_ms;
        cfg.rounds_per_epoch = rounds_per_epoch;
        tune(&mut cfg);
        let sim = tokio::task::spawn_blocking(move || Sim::genesis(cfg))
            .await
            .context("genesis task failed")??;
        let faults = Arc::new(Faults::new());
        let net = Network::start(sim.clone(), faults.clone(), &Ports::default())
            .await
            .context("cannot bind loopback ports")?;
        let info = Info::gather(&net, seed);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let servers = net.state.servers.clone();
        tokio::spawn(async move {
            while let Some(change) = rx.recv().await {
                let _ = change_ports(&servers, change).await;
            }
        });
        Ok(SimNet {
            sim,
            net,
            faults,
            info,
            ports: tx,
        })
    }

    /// Waits until `n` more rounds have been decided (the clock must be running).
    pub async fn wait_rounds(&self, n: u64) -> Result<()> {
        let mut rx = self.sim.subscribe();
        let start = rx.borrow().position.state_version;
        while rx.borrow().position.state_version < start + n {
            tokio::time::timeout(ROUND_WAIT_LIMIT, rx.changed())
                .await
                .context("the simulated network decided no round for 30 s")?
                .context("the simulated network stopped")?;
        }
        Ok(())
    }

    /// Writes radix-failover's config for this network (radix-sim's own writer, see
    /// `Info::failover_config`) to `path`, after `edit` changed what a benchmark needs.
    pub fn write_config(
        &self,
        path: &Path,
        edit: impl FnOnce(&mut toml::Table),
    ) -> Result<PathBuf> {
        let mut table: toml::Table = self
            .info
            .failover_config()
            .parse()
            .context("radix-sim's own failover config does not parse as TOML")?;
        edit(&mut table);
        let text = format!(
            "# radix-failover config written by a radix-sim benchmark: radix-sim's config for this\n# network, with the benchmark's changes applied.\n{}",
            toml::to_string(&table).context("cannot write the config as TOML")?
        );
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path.to_path_buf())
    }
}

/// Sets `[section] key = value` in a config table, creating the section.
pub fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    let entry = table
        .entry(section.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(t) = entry {
        t.insert(key.to_string(), value);
    }
}

/// Median of the values (the lower middle one for an even count); None when empty.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[(v.len() - 1) / 2])
}

/// A fresh directory for a benchmark's files: `given`, else one under the temp dir.
pub fn work_dir(given: Option<&Path>, what: &str) -> Result<(PathBuf, bool)> {
    let (dir, keep) = match given {
        Some(d) => (d.to_path_buf(), true),
        None => (
            std::env::temp_dir().join(format!("radix-sim-{what}-{}", std::process::id())),
            false,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok((dir, keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_the_lower_middle() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0]), Some(3.0));
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.0));
    }

    #[test]
    fn set_creates_and_replaces() {
        let mut t: toml::Table = "[policy]\npoll_interval = \"83ms\"\nmax_source_lag = \"500ms\"\n"
            .parse()
            .expect("toml");
        set(&mut t, "policy", "poll_interval", "4000ms".into());
        set(&mut t, "policy", "name", "legacy".into());
        set(&mut t, "metrics", "listen", "off".into());
        assert_eq!(t["policy"]["poll_interval"].as_str(), Some("4000ms"));
        assert_eq!(t["policy"]["name"].as_str(), Some("legacy"));
        assert_eq!(t["policy"]["max_source_lag"].as_str(), Some("500ms"));
        assert_eq!(t["metrics"]["listen"].as_str(), Some("off"));
    }
}
