//! The API half of radix-sim: Gateway, Core, System and control servers on loopback.
//!
//! Every server reads the ledger through [`crate::ledger::types::LedgerSnapshot`]s that the
//! engine half publishes, and applies the faults in [`crate::faults::Faults`]. Each server runs
//! its own accept loop ([`Switch`]) so that taking a node or the gateway down really closes
//! its port (connection refused) and drops open keep-alive connections, and bringing it up
//! binds the same port again.

pub mod access_controller;
pub mod control;
pub mod core;
pub mod gateway;
pub mod system;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::faults::Faults;
use crate::ledger::Sim;

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub sim: Sim,
    pub faults: Arc<Faults>,
    pub servers: Arc<Servers>,
    /// What `GET /info` serves; set once every server is bound.
    pub info: Arc<std::sync::OnceLock<crate::info::Info>>,
    /// The round clock (started by the caller, paused/resumed/stepped by the control API).
    pub clock: Arc<control::Clock>,
}

/// ISO-8601 UTC with milliseconds, as the gateway prints timestamps.
pub fn iso_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One HTTP server that can be switched off (port closed, connections dropped) and on again
/// (same port).
pub struct Switch {
    pub name: String,
    addr: SocketAddr,
    router: Router,
    running: Mutex<Option<Running>>,
}

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Switch {
    /// Binds `addr` (port 0 = ephemeral; the bound port is kept for later restarts).
    pub async fn bind(name: &str, addr: SocketAddr, router: Router) -> std::io::Result<Switch> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let switch = Switch {
            name: name.to_string(),
            addr,
            router,
            running: Mutex::new(None),
        };
        *switch.running.lock().await = Some(switch.spawn(listener));
        Ok(switch)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API this server serves (the TLS front calls it in-process).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    pub async fn is_up(&self) -> bool {
        self.running.lock().await.is_some()
    }

    /// Re-binds the same port; a no-op if already up.
    pub async fn start(&self) -> std::io::Result<()> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let listener = TcpListener::bind(self.addr).await?;
            *running = Some(self.spawn(listener));
            tracing::info!(server = %self.name, addr = %self.addr, "server up");
        }
        Ok(())
    }

    /// Closes the port and drops every open connection; a no-op if already down.
    pub async fn stop(&self) {
        let mut running = self.running.lock().await;
        if let Some(r) = running.take() {
            let _ = r.stop.send(true);
            r.task.abort();
            // Wait until the accept loop (and so the listening socket) is gone, so a
            // following start() can bind the port again.
            let _ = r.task.await;
            tracing::info!(server = %self.name, addr = %self.addr, "server down");
        }
    }

    fn spawn(&self, listener: TcpListener) -> Running {
        let (stop, stop_rx) = watch::channel(false);
        let router = self.router.clone();
        let task = tokio::spawn(accept_loop(listener, router, stop_rx));
        Running { stop, task }
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let service = hyper_util::service::TowerToHyperService::new(router.clone());
                let mut conn_stop = stop.clone();
                tokio::spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                    // Dropping the connection future closes the socket at once.
                    tokio::select! {
                        _ = conn => {}
                        _ = conn_stop.changed() => {}
                    }
                });
            }
        }
    }
}

/// Every server of the simulated network.
pub struct Servers {
    pub gateway: Switch,
    /// Per node name: (Core API server, System API server).
    pub nodes: Vec<(String, Switch, Switch)>,
}

impl Servers {
    pub fn node(&self, name: &str) -> Option<&(String, Switch, Switch)> {
        self.nodes.iter().find(|(n, _, _)| n == name)
    }

    pub async fn stop_all(&self) {
        self.gateway.stop().await;
        for (_, core, system) in &self.nodes {
            core.stop().await;
            system.stop().await;
        }
    }
}

/// Ports to bind; 0 = ephemeral.
#[derive(Debug, Clone, Default)]
pub struct Ports {
    pub gateway: u16,
    pub control: u16,
    /// First port for the nodes: node i gets core = base + 2i, system = base + 2i + 1 (0 = all
    /// ephemeral).
    pub node_base: u16,
}

/// What the Gateway, Core and System handlers need.
#[derive(Clone)]
pub struct Ctx {
    pub sim: Sim,
    pub faults: Arc<Faults>,
    /// Payload hash (bech32) of each intent accepted through these APIs, so a pending intent's
    /// status can list its payload as the real gateway does.
    pub payloads: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    /// Snapshots that paged validator listings started from (fault `gateway_slow_pages`), so
    /// the later pages of a listing answer at its ledger state, as the spec asks.
    pub list_pages: Arc<
        std::sync::Mutex<std::collections::VecDeque<Arc<crate::ledger::types::LedgerSnapshot>>>,
    >,
}

impl Ctx {
    /// Remembers the payload hash of an accepted submission.
    pub fn remember_payload(&self, intent_hash: &str, payload: &[u8]) {
        use radix_transactions::prelude::*;
        let network = radix_common::network::NetworkDefinition::simulator();
        let Ok(prepared) =
            RawNotarizedTransaction::from_slice(payload).prepare(PreparationSettings::latest_ref())
        else {
            return;
        };
        let Ok(hash) = TransactionHashBech32Encoder::new(&network)
            .encode(&prepared.notarized_transaction_hash())
        else {
            return;
        };
        self.payloads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(intent_hash.to_string(), hash);
    }

    pub fn payload_of(&self, intent_hash: &str) -> Option<String> {
        self.payloads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(intent_hash)
            .cloned()
    }
}

/// The running API half: every server bound, faults installed.
pub struct Network {
    pub state: AppState,
    control: Switch,
}

impl Network {
    /// Binds every server on 127.0.0.1 and returns once they accept connections.
    pub async fn start(sim: Sim, faults: Arc<Faults>, ports: &Ports) -> std::io::Result<Network> {
        let loopback = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let ctx = Ctx {
            sim: sim.clone(),
            faults: faults.clone(),
            payloads: Default::default(),
            list_pages: Default::default(),
        };
        let gateway = Switch::bind(
            "gateway",
            loopback(ports.gateway),
            gateway::router(ctx.clone()),
        )
        .await?;
        let mut nodes = Vec::new();
        for (i, name) in sim.info().nodes.iter().enumerate() {
            let (core_port, system_port) = if ports.node_base == 0 {
                (0, 0)
            } else {
                let base = ports.node_base.saturating_add((2 * i) as u16);
                (base, base.saturating_add(1))
            };
            let core = Switch::bind(
                &format!("{name}-core"),
                loopback(core_port),
                core::router(ctx.clone(), name.clone()),
            )
            .await?;
            let system = Switch::bind(
                &format!("{name}-system"),
                loopback(system_port),
                system::router(ctx.clone(), name.clone()),
            )
            .await?;
            nodes.push((name.clone(), core, system));
        }
        let servers = Arc::new(Servers { gateway, nodes });
        let sim_for_clock = sim.clone();
        let state = AppState {
            sim,
            faults,
            servers,
            info: Arc::new(std::sync::OnceLock::new()),
            clock: Arc::new(control::Clock::new(sim_for_clock)),
        };
        let control = Switch::bind(
            "control",
            loopback(ports.control),
            control::router(state.clone()),
        )
        .await?;
        Ok(Network { state, control })
    }

    pub fn control_addr(&self) -> SocketAddr {
        self.control.addr()
    }

    pub fn gateway_url(&self) -> String {
        format!("http://{}", self.state.servers.gateway.addr())
    }

    /// (node name, Core API base URL, System API base URL).
    pub fn node_urls(&self) -> Vec<(String, String, String)> {
        self.state
            .servers
            .nodes
            .iter()
            .map(|(n, c, s)| {
                (
                    n.clone(),
                    format!("http://{}/core", c.addr()),
                    format!("http://{}/system", s.addr()),
                )
            })
            .collect()
    }

    pub fn control_url(&self) -> String {
        format!("http://{}", self.control.addr())
    }

    /// Stops the clock and closes every port.
    pub async fn shutdown(&self) {
        let clock = self.state.clock.clone();
        let _ = tokio::task::spawn_blocking(move || clock.pause()).await;
        self.state.servers.stop_all().await;
        self.control.stop().await;
    }
}
