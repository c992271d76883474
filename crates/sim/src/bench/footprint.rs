//! `radix-sim bench-footprint`: what `radix-failover run` costs on the machine it runs on —
//! resident memory (steady and peak), CPU time per hour and as a share of one core at the
//! default 5 s poll, start-up time to the first poll, and the binary's size — measured from
//! /proc while it watches a simulated network with mainnet-like timing.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;

use super::{median, set, work_dir, SimNet};
use crate::harness::{find_failover_binary, DaemonProcess};

#[derive(Args, Debug, Clone)]
pub struct BenchFootprintArgs {
    /// How long to watch the daemon (the targets are judged on at least 3 minutes).
    #[arg(long, default_value_t = 3.0)]
    pub minutes: f64,
    /// Print one JSON object with the figures as the last line.
    #[arg(long)]
    pub json: bool,
    /// The radix-failover binary (default: next to this one; built first when run by cargo).
    #[arg(long, value_name = "PATH")]
    pub failover_bin: Option<PathBuf>,
    /// Keep the network's files (config, daemon log) in this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Validators on the simulated network: the gateway's validator list grows with them
    /// (mainnet has about 100), and so does what a watcher downloads.
    #[arg(long, default_value_t = 100)]
    pub validators: usize,
}

/// Mainnet-like timing, so radix-sim's scaled config gives back the daemon's mainnet defaults
/// (5 s poll, 30 s source lag): 600 rounds of 500 ms = a 5-minute epoch.
const ROUND_MS: u64 = 500;
const ROUNDS_PER_EPOCH: u64 = 600;
/// The daemon's default poll interval, set explicitly in the config.
const POLL: &str = "5s";
/// One sample a second: fine enough for a median over a minute, and reading /proc costs nothing.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// The steady state is judged on the last minute (start-up allocations are over by then).
const STEADY_WINDOW: Duration = Duration::from_secs(60);
/// Targets from issue 6: under 15 MB resident, under 1 % of one core.
const TARGET_RSS_MB: f64 = 15.0;
const TARGET_CORE_PERCENT: f64 = 1.0;
/// How long the first poll may take to show before the run is abandoned: a healthy start
/// polls within a second; a minute means something is wrong.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);
/// Target from issue 10: under 5 MB an hour from the gateway at the default poll, 100
/// validators (a public gateway is shared; the whole validator list on every poll was about
/// a hundred times that).
const TARGET_GATEWAY_MB_PER_HOUR: f64 = 5.0;

#[derive(Debug, Clone, Serialize)]
pub struct Footprint {
    pub binary: PathBuf,
    pub binary_bytes: u64,
    pub release_build: bool,
    pub poll_interval: String,
    pub seconds: f64,
    pub polls: u64,
    pub startup_to_first_poll_ms: f64,
    pub rss_steady_mb: f64,
    pub rss_peak_mb: f64,
    pub cpu_seconds: f64,
    pub cpu_seconds_per_hour: f64,
    pub core_percent: f64,
    /// The same after the first minute (start-up excluded).
    pub steady_cpu_seconds_per_hour: f64,
    pub steady_core_percent: f64,
    pub target_rss_mb: f64,
    pub target_core_percent: f64,
    pub rss_pass: bool,
    pub cpu_pass: bool,
    pub validators: usize,
    /// What the daemon asked of the gateway during the run, per endpoint (answers and their
    /// body bytes, as the sim served them).
    pub gateway: std::collections::BTreeMap<String, crate::faults::EndpointTraffic>,
    /// Steady state, projected ([`gateway_per_hour`]).
    pub gateway_requests_per_hour: f64,
    pub gateway_mb_per_hour: f64,
    /// The run's bytes scaled to an hour as they are (start-up reads counted as if repeated).
    pub gateway_run_mb_scaled_per_hour: f64,
    pub target_gateway_mb_per_hour: f64,
    pub gateway_pass: bool,
    pub daemon_log: PathBuf,
}

/// One /proc reading.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    rss_kb: u64,
    hwm_kb: u64,
    cpu_ticks: u64,
}

/// `VmRSS` and `VmHWM` (kB) from /proc/<pid>/status.
pub fn parse_status(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// utime + stime (clock ticks) from /proc/<pid>/stat; the command name may hold spaces and
/// parentheses, so fields are counted after its last ')'.
pub fn parse_stat(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14, stime 15 (1-based, proc(5)).
    let utime = f.get(11)?.parse::<u64>().ok()?;
    let stime = f.get(12)?.parse::<u64>().ok()?;
    Some(utime + stime)
}

fn sample(pid: u32) -> Result<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status (is this Linux?)"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    let (rss_kb, hwm_kb) = parse_status(&status).context("no VmRSS/VmHWM in /proc status")?;
    let cpu_ticks = parse_stat(&stat).context("cannot parse /proc stat")?;
    Ok(Sample {
        at: Instant::now(),
        rss_kb,
        hwm_kb,
        cpu_ticks,
    })
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

pub async fn bench_footprint(args: BenchFootprintArgs) -> Result<Footprint> {
    if !(args.minutes > 0.0 && args.minutes <= 24.0 * 60.0) {
        bail!("--minutes must be above 0 (3 or more for the targets) and at most a day");
    }
    let bin = find_failover_binary(args.failover_bin.as_deref())?;
    let binary_bytes = std::fs::metadata(&bin)
        .with_context(|| format!("cannot stat {}", bin.display()))?
        .len();
    let release_build = !bin.components().any(|c| c.as_os_str() == "debug");
    let (dir, keep) = work_dir(args.dir.as_deref(), "bench-footprint")?;
    if !(1..=100).contains(&args.validators) {
        bail!("--validators: give 1 to 100 (mainnet's active set is 100)");
    }
    let validators = args.validators;
    let n = SimNet::start_with(1, ROUND_MS, ROUNDS_PER_EPOCH, &dir, |c| {
        use crate::ledger::DEFAULT_STAKES_XRD as STAKES;
        c.validator_stakes_xrd = (0..validators).map(|i| STAKES[i % STAKES.len()]).collect();
    })
    .await?;
    let config = dir.join("failover.toml");
    n.write_config(&config, |t| set(t, "policy", "poll_interval", POLL.into()))?;
    n.net.state.clock.resume();
    // A fresh ledger at the daemon's first poll, so pre-flight passes at once.
    n.wait_rounds(2).await?;
    let log = dir.join("radix-failover.log");
    let mut err = std::io::stderr();
    writeln!(
        err,
        "bench-footprint: {} ({} bytes{}) watching a simulated network ({ROUNDS_PER_EPOCH} rounds x {ROUND_MS} ms epochs) for {} min, poll {POLL}",
        bin.display(),
        binary_bytes,
        if release_build { "" } else { ", a DEBUG build: run with --release for real figures" },
        args.minutes
    )?;
    let mut daemon = DaemonProcess::spawn(&bin, &config, &log, false)?;
    let result = measure(&mut daemon, args.minutes, &mut err).await;
    daemon.stop();
    let gateway = n.faults.gateway_traffic();
    n.net.shutdown().await;
    let (samples, startup, polls) = result?;
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (first, last) = match (samples.first(), samples.last()) {
        (Some(a), Some(b)) if samples.len() > 1 => (*a, *b),
        _ => bail!("too few samples; give a longer --minutes"),
    };
    let ticks = clock_ticks();
    let wall = last.at.duration_since(daemon.spawned).as_secs_f64();
    let cpu = last.cpu_ticks as f64 / ticks;
    let steady_from = last.at.checked_sub(STEADY_WINDOW).unwrap_or(first.at);
    let steady: Vec<&Sample> = samples.iter().filter(|s| s.at >= steady_from).collect();
    let s0 = steady.first().copied().copied().unwrap_or(first);
    let steady_wall = last.at.duration_since(s0.at).as_secs_f64().max(1e-9);
    let steady_cpu = last.cpu_ticks.saturating_sub(s0.cpu_ticks) as f64 / ticks;
    let rss_steady_mb =
        median(steady.iter().map(|s| s.rss_kb as f64 / 1024.0).collect()).unwrap_or(0.0);
    let rss_peak_mb = last.hwm_kb as f64 / 1024.0;
    let core_percent = cpu / wall.max(1e-9) * 100.0;
    let per_hour = 3600.0 / wall.max(1e-9);
    let epochs_per_hour = 3600.0 / (ROUND_MS * ROUNDS_PER_EPOCH) as f64 * 1000.0;
    let (gw_requests, gw_bytes) = gateway_per_hour(&gateway, per_hour, epochs_per_hour);
    let gateway_mb_per_hour = gw_bytes / 1_000_000.0;
    let run_bytes: u64 = gateway.values().map(|t| t.bytes).sum();
    Ok(Footprint {
        binary: bin,
        binary_bytes,
        release_build,
        poll_interval: POLL.into(),
        seconds: wall,
        polls,
        startup_to_first_poll_ms: startup.as_secs_f64() * 1000.0,
        rss_steady_mb,
        rss_peak_mb,
        cpu_seconds: cpu,
        cpu_seconds_per_hour: cpu / wall.max(1e-9) * 3600.0,
        core_percent,
        steady_cpu_seconds_per_hour: steady_cpu / steady_wall * 3600.0,
        steady_core_percent: steady_cpu / steady_wall * 100.0,
        target_rss_mb: TARGET_RSS_MB,
        target_core_percent: TARGET_CORE_PERCENT,
        rss_pass: rss_peak_mb < TARGET_RSS_MB,
        cpu_pass: core_percent < TARGET_CORE_PERCENT,
        validators,
        gateway,
        gateway_requests_per_hour: gw_requests,
        gateway_mb_per_hour,
        gateway_run_mb_scaled_per_hour: run_bytes as f64 * per_hour / 1_000_000.0,
        target_gateway_mb_per_hour: TARGET_GATEWAY_MB_PER_HOUR,
        gateway_pass: gateway_mb_per_hour < TARGET_GATEWAY_MB_PER_HOUR,
        daemon_log: if keep { log } else { PathBuf::new() },
    })
}

/// Gateway endpoints the daemon reads once per epoch (and at start): the validator list and
/// the finished-epoch uptime (see radix-failover's sources/gateway.rs).
const PER_EPOCH: [&str; 2] = ["/state/validators/list", "/statistics/validators/uptime"];
/// Read by pre-flight, at start (and again only while it fails).
const AT_START: [&str; 2] = ["/state/entity/details", "/transaction/preview"];

/// (requests, bytes) an hour in the steady state: per-epoch endpoints at their answer size
/// times the epochs in an hour, start-up endpoints once, every other endpoint (the per-poll
/// status) at the run's rate. A run of minutes sees one epoch's reads at most, so scaling the
/// run as it is would count the start-up's whole-list reads twenty times an hour.
pub fn gateway_per_hour(
    gateway: &std::collections::BTreeMap<String, crate::faults::EndpointTraffic>,
    runs_per_hour: f64,
    epochs_per_hour: f64,
) -> (f64, f64) {
    let mut requests = 0.0;
    let mut bytes = 0.0;
    for (path, t) in gateway {
        let per_answer = t.bytes as f64 / t.requests.max(1) as f64;
        let n = if PER_EPOCH.contains(&path.as_str()) {
            epochs_per_hour
        } else if AT_START.contains(&path.as_str()) {
            t.requests as f64
        } else {
            t.requests as f64 * runs_per_hour
        };
        requests += n;
        bytes += n * per_answer;
    }
    (requests, bytes)
}

/// Samples /proc every second for `minutes`; returns the samples, the start-up time (spawn
/// to the first per-poll line) and the number of polls logged.
async fn measure(
    daemon: &mut DaemonProcess,
    minutes: f64,
    err: &mut impl Write,
) -> Result<(Vec<Sample>, Duration, u64)> {
    let pid = daemon.pid();
    let until = daemon.spawned + Duration::from_secs_f64(minutes * 60.0);
    let mut samples = Vec::new();
    let mut startup: Option<Duration> = None;
    let mut polls = 0u64;
    let mut next_progress = Instant::now() + Duration::from_secs(30);
    loop {
        for l in daemon.take_timed_lines() {
            // The per-poll info line: "<summary> | phase <name>".
            if l.text.contains(" | phase ") {
                polls += 1;
                startup.get_or_insert(l.at.duration_since(daemon.spawned));
            }
        }
        if let Some(status) = daemon.exited() {
            bail!(
                "the radix-failover daemon exited ({status}); see {}",
                daemon.log.display()
            );
        }
        if startup.is_none() && daemon.spawned.elapsed() > STARTUP_LIMIT {
            bail!(
                "the daemon logged no poll within {STARTUP_LIMIT:?}; see {}",
                daemon.log.display()
            );
        }
        samples.push(sample(pid)?);
        if Instant::now() >= until {
            break;
        }
        if Instant::now() >= next_progress {
            let s = samples[samples.len() - 1];
            writeln!(
                err,
                "  {:>4.0} s: {} polls, RSS {:.1} MB, CPU {:.2} s",
                daemon.spawned.elapsed().as_secs_f64(),
                polls,
                s.rss_kb as f64 / 1024.0,
                s.cpu_ticks as f64 / clock_ticks()
            )?;
            next_progress += Duration::from_secs(30);
        }
        tokio::time::sleep(SAMPLE_EVERY.min(until.saturating_duration_since(Instant::now()))).await;
    }
    let startup = startup.context("the daemon never logged a poll")?;
    Ok((samples, startup, polls))
}

/// The printout (what docs/benchmarks.md shows).
pub fn report(f: &Footprint) -> String {
    let pass = |b: bool| if b { "PASS" } else { "FAIL" };
    let mut s = String::new();
    s.push_str(&format!(
        "radix-sim bench-footprint: radix-failover run, poll {}, {:.0} s, {} polls{}\n",
        f.poll_interval,
        f.seconds,
        f.polls,
        if f.release_build {
            ""
        } else {
            " (DEBUG build: not representative)"
        }
    ));
    s.push_str(&format!(
        "  binary size        {:.1} MB ({} bytes, {})\n",
        f.binary_bytes as f64 / 1_048_576.0,
        f.binary_bytes,
        f.binary.display()
    ));
    s.push_str(&format!(
        "  start-up           {:.0} ms from spawn to the first poll logged\n",
        f.startup_to_first_poll_ms
    ));
    s.push_str(&format!(
        "  resident memory    steady {:.1} MB (median of the last minute), peak {:.1} MB (VmHWM): {} (< {:.0} MB)\n",
        f.rss_steady_mb,
        f.rss_peak_mb,
        pass(f.rss_pass),
        f.target_rss_mb
    ));
    s.push_str(&format!(
        "  CPU                {:.2} s in {:.0} s = {:.1} s per hour = {:.3} % of one core: {} (< {:.0} %)\n",
        f.cpu_seconds,
        f.seconds,
        f.cpu_seconds_per_hour,
        f.core_percent,
        pass(f.cpu_pass),
        f.target_core_percent
    ));
    s.push_str(&format!(
        "  CPU, last minute   {:.1} s per hour = {:.3} % of one core (start-up excluded)\n",
        f.steady_cpu_seconds_per_hour, f.steady_core_percent
    ));
    s.push_str(&format!(
        "  gateway            {:.0} requests, {:.2} MB per hour with {} validators: {} (< {:.0} MB); steady state: the validator list and uptime once per epoch, the status every poll (this run as it is, scaled: {:.2} MB per hour)\n",
        f.gateway_requests_per_hour,
        f.gateway_mb_per_hour,
        f.validators,
        pass(f.gateway_pass),
        f.target_gateway_mb_per_hour,
        f.gateway_run_mb_scaled_per_hour
    ));
    for (path, t) in &f.gateway {
        s.push_str(&format!(
            "    {path:<34} {} requests, {} bytes ({} per answer)\n",
            t.requests,
            t.bytes,
            t.bytes / t.requests.max(1)
        ));
    }
    s
}

pub async fn run(args: BenchFootprintArgs) -> Result<()> {
    let json = args.json;
    let f = bench_footprint(args).await?;
    let mut out = std::io::stdout();
    write!(out, "{}", report(&f))?;
    if json {
        writeln!(out, "{}", serde_json::to_string(&f)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_projection_counts_list_reads_per_epoch_and_the_status_per_poll() {
        use crate::faults::EndpointTraffic as T;
        let t = |requests, bytes| T { requests, bytes };
        let g: std::collections::BTreeMap<String, T> = [
            ("/state/validators/list".to_string(), t(2, 400_000)),
            ("/status/gateway-status".to_string(), t(36, 9_000)),
            ("/state/entity/details".to_string(), t(1, 1_000)),
        ]
        .into_iter()
        .collect();
        // A 3-minute run (20 an hour), 12 epochs an hour.
        let (requests, bytes) = gateway_per_hour(&g, 20.0, 12.0);
        assert_eq!(requests, 12.0 + 720.0 + 1.0);
        assert_eq!(bytes, 12.0 * 200_000.0 + 20.0 * 9_000.0 + 1_000.0);
    }

    #[test]
    fn parses_proc_status_and_stat() {
        let status =
            "Name:\tradix-failover\nVmPeak:\t  100 kB\nVmHWM:\t    9000 kB\nVmRSS:\t    8500 kB\n";
        assert_eq!(parse_status(status), Some((8500, 9000)));
        assert_eq!(parse_status("Name: x\n"), None);
        // A name with a space and a ')' in it; utime 7, stime 3.
        let stat = "1234 (radix (f) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 2 0 5 0 0";
        assert_eq!(parse_stat(stat), Some(10));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn reads_this_process() {
        let s = sample(std::process::id()).expect("own /proc");
        assert!(s.rss_kb > 0 && s.hwm_kb >= s.rss_kb);
    }
}
