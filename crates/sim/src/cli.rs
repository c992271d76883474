//! Command line: `radix-sim run ...`, `radix-sim config ...`, `radix-sim bench ...`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::api::{Network, Ports};
use crate::faults::{change_ports, Faults};
use crate::info::Info;
use crate::ledger::{BadgeIn, Sim, SimConfig, DEFAULT_STAKES_XRD};
use crate::profile::{
    mainnet_clock, mainnet_stakes, MainnetClock, Profile, DEFAULT_OUR_STAKE_PERCENT,
    MAINNET_DEFAULT_ROUND_MS, MAINNET_ROUNDS_PER_EPOCH,
};
use crate::scenario::Scenario;

#[derive(Parser, Debug)]
#[command(
    name = "radix-sim",
    version,
    about = "A local Radix network on the real Radix Engine, with fault injection"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the network and serve its APIs until SIGINT/SIGTERM.
    Run(RunArgs),
    /// Write a radix-failover config from a running network's --info-file.
    Config(ConfigArgs),
    /// Step rounds as fast as the engine allows and print the achievable rounds per second.
    Bench(BenchArgs),
    /// A real failover on this machine: the network, the radix-failover daemon, the primary
    /// killed at a random round, and the timeline as it happens. Exits 0 only if it worked.
    Demo(crate::demo::DemoArgs),
    /// Missed proposals after a primary failure at fault positions through the epoch:
    /// radix-failover's default policy vs the old tool's rule vs the unavoidable minimum,
    /// with the real daemon binary (docs/benchmarks.md). Use --release.
    BenchFailover(crate::bench::missed::BenchFailoverArgs),
    /// The daemon's resident memory, CPU per hour, start-up time and binary size while it
    /// watches a simulated network at the default 5 s poll (docs/benchmarks.md). Use --release.
    BenchFootprint(crate::bench::footprint::BenchFootprintArgs),
    /// Failovers the real daemon decides on a healthy network (background misses, planned
    /// restarts shorter than its threshold): each is a false one (docs/benchmarks.md).
    BenchFalseFailovers(crate::bench::false_failovers::BenchFalseFailoversArgs),
}

#[derive(Args, Debug, Clone)]
pub struct NetworkArgs {
    /// Number of validators (default stakes are reused cyclically); ignored with --stakes.
    #[arg(long, default_value_t = DEFAULT_STAKES_XRD.len())]
    pub validators: usize,
    /// Genesis stake of each validator in XRD, comma separated (ours is the first).
    #[arg(long, value_delimiter = ',')]
    pub stakes: Option<Vec<u64>>,
    /// Seed of every key and of the leader schedule (a scenario's `seed` overrides it).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Round length in milliseconds [default: 100; mainnet profile: 25].
    #[arg(long)]
    pub round_ms: Option<u64>,
    /// Epoch length in rounds [default: 20; mainnet profile: 1300].
    #[arg(long)]
    pub rounds_per_epoch: Option<u64>,
    /// Owner account key file (64 hex chars). Read if it exists, else generated (mode 0600).
    /// Default: <state-dir>/owner.key.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Where generated files go.
    #[arg(long, default_value = "radix-sim-state")]
    pub state_dir: PathBuf,
    /// `mainnet`: 100 validators with long-tailed stakes, ours at --our-stake, mainnet's rounds
    /// per epoch and pacemaker timeouts on a scaled clock (docs/simulator.md).
    #[arg(long, value_enum, default_value_t = Profile::Default)]
    pub profile: Profile,
    /// Our share of the stake in percent, with --profile mainnet.
    #[arg(long, default_value_t = DEFAULT_OUR_STAKE_PERCENT)]
    pub our_stake: f64,
    /// Probability that a healthy leader misses its round anyway (0..1, e.g. 0.01).
    #[arg(long, default_value_t = 0.0)]
    pub background_miss_rate: f64,
    /// Base pacemaker timeout of a missed round in ms on the sim's clock (x1.2 per consecutive
    /// timeout) [default: 0 = a missed round lasts a normal round; mainnet profile: 3 s scaled].
    #[arg(long)]
    pub timeout_base_ms: Option<u64>,
    /// Where our validator's owner badge is at genesis: in the owner account, or in a native
    /// access controller whose primary role is the owner key (the daemon's) and whose recovery
    /// role is a recovery key written to <state-dir>/recovery.key (docs/simulator.md).
    #[arg(long, value_enum, default_value_t = BadgeIn::Account)]
    pub badge_in: BadgeIn,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Scenario file (TOML) of faults at given rounds/epochs.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Write the start-up information as JSON here.
    #[arg(long)]
    pub info_file: Option<PathBuf>,
    /// Write a ready radix-failover config (TOML) here.
    #[arg(long)]
    pub write_config: Option<PathBuf>,
    /// Gateway API port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub gateway_port: u16,
    /// Control API port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub control_port: u16,
    /// First node port: node i serves Core on base+2i and System on base+2i+1 (0 = any free ports).
    #[arg(long, default_value_t = 0)]
    pub node_base_port: u16,
    /// Also serve each node's Core and System API behind one HTTPS port, at /core and /system,
    /// with basic auth and a self-signed certificate (CN=localhost, no SAN), as the node CLI's
    /// nginx does; the info file and --write-config use the fronts.
    #[arg(long)]
    pub tls_front: bool,
    /// With --tls-front: give the certificate a subjectAltName for localhost and 127.0.0.1, as
    /// one from a real CA would have (for tls_ca_file setups).
    #[arg(long, requires = "tls_front")]
    pub tls_front_san: bool,
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// The JSON written by `radix-sim run --info-file`.
    #[arg(
        long,
        required_unless_present = "control_url",
        conflicts_with = "control_url"
    )]
    pub info_file: Option<PathBuf>,
    /// Or ask the running network: its control URL, e.g. http://127.0.0.1:38701.
    #[arg(long)]
    pub control_url: Option<String>,
    /// Where to write the radix-failover config.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Rounds to step.
    #[arg(long, default_value_t = 200)]
    pub rounds: u64,
    /// Then run the timed clock for this many epochs while clients hammer the gateway and a
    /// Core API over loopback, and print how long each epoch took (0 = skip).
    #[arg(long, default_value_t = 5)]
    pub serve_epochs: u64,
    /// Concurrent HTTP clients during --serve-epochs.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
}

/// Most validators accepted: the engine indexes the active set with a u8 and mainnet's set is 100.
const MAX_VALIDATORS: usize = 100;

impl NetworkArgs {
    /// Round length, epoch length and base timeout after the profile's defaults.
    pub fn timing(&self) -> (u64, u64, u64) {
        match self.profile {
            Profile::Default => (
                self.round_ms.unwrap_or(100),
                self.rounds_per_epoch.unwrap_or(20),
                self.timeout_base_ms.unwrap_or(0),
            ),
            Profile::Mainnet => {
                let c = self.mainnet_clock();
                (
                    c.round_ms,
                    c.rounds_per_epoch,
                    self.timeout_base_ms.unwrap_or(c.timeout_base_ms),
                )
            }
        }
    }

    pub fn mainnet_clock(&self) -> MainnetClock {
        mainnet_clock(
            self.round_ms.unwrap_or(MAINNET_DEFAULT_ROUND_MS),
            self.rounds_per_epoch.unwrap_or(MAINNET_ROUNDS_PER_EPOCH),
        )
    }

    pub fn sim_config(&self, seed: u64) -> Result<SimConfig> {
        let stakes = match (&self.stakes, self.profile) {
            (Some(s), _) => s.clone(),
            (None, Profile::Mainnet) => {
                mainnet_stakes(self.our_stake).map_err(anyhow::Error::msg)?
            }
            (None, Profile::Default) => (0..self.validators)
                .map(|i| DEFAULT_STAKES_XRD[i % DEFAULT_STAKES_XRD.len()])
                .collect(),
        };
        if !(0.0..1.0).contains(&self.background_miss_rate) {
            bail!(
                "--background-miss-rate {}: give a probability from 0 up to (not including) 1, such as 0.01",
                self.background_miss_rate
            );
        }
        let (round_ms, rounds_per_epoch, timeout_base_ms) = self.timing();
        if stakes.is_empty() || stakes.len() > MAX_VALIDATORS {
            bail!(
                "--validators/--stakes: give 1 to {MAX_VALIDATORS} validators (got {})",
                stakes.len()
            );
        }
        if stakes.contains(&0) {
            bail!("--stakes: every validator needs a positive stake (a zero-stake validator never leads)");
        }
        if round_ms == 0 {
            bail!("--round-ms must be at least 1");
        }
        if rounds_per_epoch < 2 {
            bail!("--rounds-per-epoch must be at least 2 (the engine needs room for a round before the epoch change)");
        }
        std::fs::create_dir_all(&self.state_dir)
            .with_context(|| format!("cannot create --state-dir {}", self.state_dir.display()))?;
        let key_file = self
            .key_file
            .clone()
            .unwrap_or_else(|| self.state_dir.join("owner.key"));
        let mut cfg = SimConfig::new(seed, key_file);
        cfg.validator_stakes_xrd = stakes;
        cfg.round_length_ms = round_ms;
        cfg.rounds_per_epoch = rounds_per_epoch;
        cfg.timeout_base_ms = timeout_base_ms;
        cfg.background_miss_rate = self.background_miss_rate;
        cfg.badge_in = self.badge_in;
        if self.profile == Profile::Mainnet {
            let mut c = self.mainnet_clock();
            c.timeout_base_ms = timeout_base_ms;
            eprintln!("{}", c.describe());
        }
        Ok(cfg)
    }
}

fn write_file(path: &Path, text: &str, what: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {what} {}", path.display()))
}

pub async fn run(args: RunArgs) -> Result<()> {
    let scenario = match &args.scenario {
        Some(p) => Some(Scenario::load(p)?),
        None => None,
    };
    let seed = scenario
        .as_ref()
        .and_then(|s| s.seed)
        .unwrap_or(args.network.seed);
    let cfg = args.network.sim_config(seed)?;
    let started = Instant::now();
    let sim = tokio::task::spawn_blocking(move || Sim::genesis(cfg))
        .await
        .context("genesis task failed")??;
    tracing::info!(took = ?started.elapsed(), "genesis done");
    let faults = Arc::new(Faults::new());
    let ports = Ports {
        gateway: args.gateway_port,
        control: args.control_port,
        node_base: args.node_base_port,
    };
    let net = Network::start(sim.clone(), faults.clone(), &ports)
        .await
        .context("cannot bind the API ports (is another radix-sim running on them?)")?;

    // Port changes requested by scenario events (they run on the clock thread).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    if let Some(s) = scenario {
        tracing::info!(events = s.events.len(), "scenario loaded");
        s.install(&sim, faults.clone(), tx);
    }
    let servers = net.state.servers.clone();
    tokio::spawn(async move {
        while let Some(change) = rx.recv().await {
            if let Err(e) = change_ports(&servers, change).await {
                tracing::error!(error = %e, "cannot change ports");
            }
        }
    });

    let mut info = Info::gather(&net, seed);
    if args.tls_front {
        info.fronts = crate::front::start_fronts(
            net.state.servers.clone(),
            &args.network.state_dir,
            crate::front::FrontOptions {
                with_san: args.tls_front_san,
            },
        )
        .await
        .context("cannot start the TLS fronts")?;
    }
    let _ = net.state.info.set(info.clone());
    print!("{}", info.human());
    if let Some(p) = &args.info_file {
        write_file(p, &serde_json::to_string_pretty(&info)?, "--info-file")?;
    }
    if let Some(p) = &args.write_config {
        write_file(p, &info.failover_config(), "--write-config")?;
    }

    net.state.clock.resume();
    tokio::spawn(report_clock_rate(sim.clone()));
    shutdown_signal().await;
    tracing::info!("shutting down");
    net.shutdown().await;
    Ok(())
}

/// Logs, at every epoch change, how long the epoch took on the wall clock against its target, so
/// a user sees the round clock keep pace while the APIs serve requests.
async fn report_clock_rate(sim: Sim) {
    let info = sim.info();
    let target_rate = 1000.0 / info.round_length_ms.max(1) as f64;
    let mut rx = sim.subscribe();
    let mut epoch = rx.borrow().position.epoch;
    let mut since = Instant::now();
    let mut first = true;
    while rx.changed().await.is_ok() {
        let now_epoch = rx.borrow().position.epoch;
        if now_epoch == epoch {
            continue;
        }
        let took = since.elapsed();
        // The first epoch after start is partial; report only whole ones.
        if !first {
            let rate = info.rounds_per_epoch as f64 / took.as_secs_f64().max(1e-9);
            tracing::info!(
                epoch,
                took_ms = took.as_millis() as u64,
                rounds_per_s = format!("{rate:.1}"),
                target_rounds_per_s = format!("{target_rate:.1}"),
                "clock rate over the last epoch"
            );
        }
        first = false;
        epoch = now_epoch;
        since = Instant::now();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

pub fn config(args: ConfigArgs) -> Result<()> {
    let (text, source) = match (&args.info_file, &args.control_url) {
        (Some(path), _) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --info-file {}", path.display()))?,
            path.display().to_string(),
        ),
        (None, Some(url)) => (fetch_info(url)?, format!("{url}/info")),
        (None, None) => bail!("give --info-file FILE or --control-url URL"),
    };
    let info: Info = serde_json::from_str(&text).with_context(|| {
        format!("{source} is not radix-sim info (write it with `radix-sim run --info-file FILE`)")
    })?;
    write_file(&args.out, &info.failover_config(), "--out")?;
    println!("wrote {}", args.out.display());
    Ok(())
}

pub fn bench(args: BenchArgs) -> Result<()> {
    let cfg = args.network.sim_config(args.network.seed)?;
    let rpe = cfg.rounds_per_epoch;
    let t = Instant::now();
    let sim = Sim::genesis(cfg)?;
    println!("genesis: {:.2?}", t.elapsed());
    let t = Instant::now();
    for _ in 0..args.rounds {
        sim.step_round()?;
    }
    let took = t.elapsed();
    let per_s = args.rounds as f64 / took.as_secs_f64().max(1e-9);
    let snap = sim.snapshot();
    println!(
        "{} rounds in {:.2?}: {:.0} rounds/s achievable ({:.2} ms per round); at {rpe} rounds per epoch, 10 epochs take {:.1} s",
        args.rounds,
        took,
        per_s,
        took.as_secs_f64() * 1000.0 / args.rounds.max(1) as f64,
        10.0 * rpe as f64 / per_s
    );
    println!(
        "ledger now at epoch {} round {}, state version {}",
        snap.position.epoch, snap.position.round, snap.position.state_version
    );
    if args.serve_epochs > 0 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(bench_serving(sim, args.serve_epochs, args.clients))?;
    }
    Ok(())
}

/// `GET <control>/info` of a running radix-sim (loopback, plain HTTP/1.1).
fn fetch_info(control_url: &str) -> Result<String> {
    use std::io::{Read, Write};
    let host = control_url
        .strip_prefix("http://")
        .unwrap_or(control_url)
        .trim_end_matches('/');
    let addr: std::net::SocketAddr = host.parse().with_context(|| {
        format!("--control-url {control_url:?}: give it as printed, e.g. http://127.0.0.1:38701")
    })?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, CONTROL_TIMEOUT).with_context(|| {
            format!("cannot reach radix-sim's control API at {addr}; is it running?")
        })?;
    stream.set_read_timeout(Some(CONTROL_TIMEOUT))?;
    write!(
        stream,
        "GET /info HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .context("control API answer has no body")?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!(
            "control API answered {}: {body}",
            head.lines().next().unwrap_or("")
        );
    }
    Ok(body.to_string())
}

/// The control API is on loopback and answers from memory; anything slower means it is stuck.
const CONTROL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// One HTTP/1.1 request over a fresh loopback connection; true on a 200.
async fn http_post(addr: std::net::SocketAddr, path: &str, body: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    if stream.read_to_end(&mut answer).await.is_err() {
        return false;
    }
    answer.starts_with(b"HTTP/1.1 200")
}

/// Runs the clock for `epochs` epochs while `clients` tasks send requests back to back, and
/// prints each epoch's wall time against its target and the requests served.
async fn bench_serving(sim: Sim, epochs: u64, clients: usize) -> Result<()> {
    let info = sim.info();
    let net = Network::start(sim.clone(), Arc::new(Faults::new()), &Ports::default()).await?;
    let gateway = net.state.servers.gateway.addr();
    let core = net
        .state
        .servers
        .node("backup")
        .map(|(_, c, _)| c.addr())
        .context("no backup node")?;
    let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (served, failed, stop) = (served.clone(), failed.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ok = if i % 2 == 0 {
                    http_post(gateway, "/state/validators/list", "{}").await
                } else {
                    http_post(
                        core,
                        "/core/state/consensus-manager",
                        r#"{"network":"simulator"}"#,
                    )
                    .await
                };
                let counter = if ok { &served } else { &failed };
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    let target = std::time::Duration::from_millis(info.round_length_ms * info.rounds_per_epoch);
    let mut rx = sim.subscribe();
    let clock = sim.start_clock();
    let start_epoch = rx.borrow().position.epoch;
    // Wait for the first epoch boundary so every measured epoch is whole.
    while rx.borrow().position.epoch == start_epoch {
        rx.changed().await?;
    }
    let t0 = Instant::now();
    let mut since = Instant::now();
    let mut epoch = rx.borrow().position.epoch;
    let mut worst = std::time::Duration::ZERO;
    for _ in 0..epochs {
        while rx.borrow().position.epoch == epoch {
            rx.changed().await?;
        }
        let took = since.elapsed();
        worst = worst.max(took);
        println!("epoch {epoch}: {took:.2?} (target {target:.2?})");
        epoch = rx.borrow().position.epoch;
        since = Instant::now();
    }
    let total = t0.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    clock.stop();
    for t in tasks {
        let _ = t.await;
    }
    net.shutdown().await;
    let n = served.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "{epochs} epochs in {total:.2?} with {clients} clients: {n} requests served ({:.0}/s), {} failed; slowest epoch {worst:.2?} vs target {target:.2?}",
        n as f64 / total.as_secs_f64().max(1e-9),
        failed.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(())
}
