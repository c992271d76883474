//! The parts of `radix-sim demo` that the benchmarks reuse: finding (and building) the real
//! radix-failover binary, running it as a child process whose log lines are timestamped as
//! they arrive, the ledger marks (fault, key change) recorded by the engine's round hook, and
//! the unavoidable-miss count.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::ledger::types::RoundRecord;
use crate::ledger::Sim;

/// Where the fault and the key change land, recorded by the engine's own round hook.
#[derive(Debug, Default, Clone)]
pub struct Marks {
    /// (epoch, round) of the first round decided with the primary down.
    pub fault: Option<(u64, u64)>,
    /// The epoch in which the ledger first shows the backup's key as our validator's key.
    pub key_change_epoch: Option<u64>,
}

/// Installs a round hook that fills `Marks` for our validator (`ours`) and the backup's key.
pub fn install_marks(sim: &Sim, ours: &str, backup_key_hex: &str) -> Arc<Mutex<Marks>> {
    let marks = Arc::new(Mutex::new(Marks::default()));
    let m2 = marks.clone();
    let backup = backup_key_hex.to_string();
    let ours = ours.to_string();
    sim.add_round_hook(Box::new(move |sim, epoch, round| {
        let snap = sim.snapshot();
        let mut m = m2.lock().unwrap_or_else(|p| p.into_inner());
        if m.fault.is_none() && snap.nodes.iter().any(|n| n.name == "primary" && !n.up) {
            m.fault = Some((epoch, round));
        }
        if m.key_change_epoch.is_none()
            && snap
                .validators
                .iter()
                .any(|v| v.address == ours && v.ledger_key_hex == backup)
        {
            m.key_change_epoch = Some(snap.position.epoch);
        }
    }));
    marks
}

/// Our validator's share of the active stake (its expected share of leader rounds).
pub fn our_share(sim: &Sim) -> f64 {
    let snap = sim.snapshot();
    let stake = |s: &str| s.parse::<f64>().unwrap_or(0.0);
    let total: f64 = snap
        .validators
        .iter()
        .filter_map(|v| v.active.as_ref())
        .map(|a| stake(&a.stake_xrd))
        .sum();
    let ours = snap
        .validators
        .iter()
        .find(|v| v.address == snap.our_validator)
        .and_then(|v| v.active.as_ref())
        .map(|a| stake(&a.stake_xrd))
        .unwrap_or(0.0);
    if total > 0.0 {
        ours / total
    } else {
        0.0
    }
}

/// Whether the backup node validates in the current epoch (its key is the one in force).
pub fn backup_validating(sim: &Sim) -> bool {
    sim.snapshot()
        .nodes
        .iter()
        .any(|n| n.name == "backup" && n.validating_in_current_epoch)
}

/// Our leader rounds from the fault round to the first epoch change at least one round after
/// it (the earliest a transaction sent at the fault could commit is the next round; its key
/// applies from the epoch after that round's epoch).
pub fn unavoidable(rounds: &[RoundRecord], fault: (u64, u64), ours: &str) -> u64 {
    let after: Vec<&RoundRecord> = rounds
        .iter()
        .filter(|r| (r.epoch, r.round) >= fault)
        .collect();
    let Some(commit_epoch) = after.get(1).map(|r| r.epoch) else {
        return 0;
    };
    after
        .iter()
        .filter(|r| r.epoch <= commit_epoch && r.leader_address == ours)
        .count() as u64
}

/// Finds (and, when run by cargo, builds) the radix-failover binary: `given`, else the one
/// next to this program. Under `cargo run`/`cargo test` it is built first with the profile of
/// this program's directory (release or dev), so a run never uses a stale daemon.
pub fn find_failover_binary(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        if !p.is_file() {
            bail!("--failover-bin {}: no such file", p.display());
        }
        return Ok(p.to_path_buf());
    }
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let dir = exe
        .parent()
        .context("this program's path has no directory")?;
    let sibling = dir.join(format!("radix-failover{}", std::env::consts::EXE_SUFFIX));
    if let Some(cargo) = std::env::var_os("CARGO") {
        let release = dir.file_name().is_some_and(|n| n == "release");
        eprintln!(
            "building radix-failover ({} profile)...",
            if release { "release" } else { "dev" }
        );
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "radix-failover",
            "--bin",
            "radix-failover",
        ]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd
            .status()
            .context("cannot run cargo to build radix-failover")?;
        if !status.success() {
            bail!("building radix-failover failed ({status})");
        }
    }
    if !sibling.is_file() {
        bail!(
            "the radix-failover binary is not at {}; build it with `cargo build --release -p radix-failover`, or give --failover-bin PATH",
            sibling.display()
        );
    }
    Ok(sibling)
}

/// One line of the daemon's log and the wall-clock time (unix ms) it arrived.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub at_ms: i64,
    pub at: Instant,
    pub text: String,
}

/// The daemon as a child process; its stderr goes to the log file and to us line by line.
pub struct DaemonProcess {
    child: Child,
    lines: Arc<Mutex<Vec<LogLine>>>,
    pub log: PathBuf,
    /// When the process was spawned.
    pub spawned: Instant,
}

impl DaemonProcess {
    /// `radix-failover run --config CONFIG`, stderr logged to `log` (and echoed if `echo`).
    pub fn spawn(bin: &Path, config: &Path, log: &Path, echo: bool) -> Result<DaemonProcess> {
        let spawned = Instant::now();
        let mut child = Command::new(bin)
            .args(["run", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stderr = child.stderr.take().context("no stderr pipe")?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut file = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let sink = lines.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                let line = LogLine {
                    at_ms: chrono::Utc::now().timestamp_millis(),
                    at: Instant::now(),
                    text: l,
                };
                let _ = writeln!(file, "{}", line.text);
                if echo {
                    eprintln!("  | {}", line.text);
                }
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        Ok(DaemonProcess {
            child,
            lines,
            log: log.to_path_buf(),
            spawned,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The lines logged since the last call.
    pub fn take_lines(&self) -> Vec<String> {
        self.take_timed_lines()
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    /// The lines logged since the last call, with their arrival times.
    pub fn take_timed_lines(&self) -> Vec<LogLine> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM (a clean stop), then SIGKILL if it does not stop within 5 s.
    pub fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: u64, round: u64, ours: bool) -> RoundRecord {
        RoundRecord {
            epoch,
            round,
            leader_address: if ours { "ours".into() } else { "other".into() },
            made: true,
            timestamp_ms: 0,
            duration_ms: 0,
        }
    }

    #[test]
    fn unavoidable_counts_to_the_first_epoch_change_after_the_next_round() {
        // Epoch 5 ends at round 4; ours leads 5/2, 5/4, 6/1, 6/3.
        let rounds = vec![
            rec(5, 1, false),
            rec(5, 2, true),
            rec(5, 3, false),
            rec(5, 4, true),
            rec(6, 1, true),
            rec(6, 2, false),
            rec(6, 3, true),
            rec(7, 1, true),
        ];
        // Fault mid-epoch: our rounds left in epoch 5.
        assert_eq!(unavoidable(&rounds, (5, 2), "ours"), 2);
        assert_eq!(unavoidable(&rounds, (5, 3), "ours"), 1);
        // Fault in the last round: the earliest commit is in epoch 6, so all of 6 counts too.
        assert_eq!(unavoidable(&rounds, (5, 4), "ours"), 3);
    }
}
