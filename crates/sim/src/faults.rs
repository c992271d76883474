//! Fault injection: what the scenario file and the control API can do to the network.
//!
//! A [`FaultAction`] is applied in two steps: [`Faults::apply`] changes the shared fault state
//! and the engine half's node flags at once (so a fault applied from a round hook at round R
//! already holds for round R), and returns the [`PortChange`] to make, if any: closing or
//! re-opening the ports of a node or of the gateway, which the async side does right after.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use radix_common::math::Decimal;
use serde::{Deserialize, Serialize};

use crate::ledger::types::LedgerSnapshot;
use crate::ledger::Sim;

/// How an out-of-sync node reports itself on `/system/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Catching up: `SYNCING`.
    Syncing,
    /// Fallen behind: `OUT_OF_SYNC`.
    #[default]
    OutOfSync,
    /// Stuck: health still says `UP`, but its ledger has stopped advancing.
    Stuck,
}

/// How a failing gateway answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// A 5xx `ErrorResponse` with `InternalServerError` details.
    #[default]
    Status5xx,
    /// The spec's `NotSyncedUpError` (HTTP 500, as the real gateway sends it).
    NotSyncedUp,
}

/// 503 Service Unavailable: what a gateway behind a load balancer most often answers when its
/// backend is failing.
fn default_fail_status() -> u16 {
    503
}

/// One fault, as a scenario event or a `POST /faults` body: `{"action": "...", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// The node stops: its Core and System ports refuse connections and it proposes nothing.
    NodeDown {
        node: String,
    },
    NodeUp {
        node: String,
    },
    /// The node is up but behind: health SYNCING / OUT_OF_SYNC, Core answers frozen at this
    /// moment, and it cannot propose.
    NodeOutOfSync {
        node: String,
        #[serde(default)]
        status: SyncStatus,
    },
    NodeInSync {
        node: String,
    },
    /// The gateway's port refuses connections.
    GatewayDown,
    GatewayUp,
    /// Every gateway answer is delayed by `latency_ms`.
    GatewaySlow {
        latency_ms: u64,
    },
    /// Every gateway answer is an error.
    GatewayFailing {
        #[serde(default)]
        mode: FailMode,
        /// HTTP status for `status_5xx` (500..=599).
        #[serde(default = "default_fail_status")]
        status: u16,
    },
    /// Every gateway answer is a 200 with a body that is not JSON.
    GatewayGarbage,
    /// The gateway keeps serving the ledger as it is now.
    GatewayStale,
    /// Clears slow, failing, garbage and stale.
    GatewayHealthy,
    /// The next `count` submits (gateway and Core API) fail with a 5xx.
    SubmitFailing {
        count: u32,
    },
    /// The node's Core API lies: `/state/consensus-manager` adds `extra_missed` to our
    /// validator's missed proposals of the current epoch (everything else stays true). 0 makes
    /// it honest again.
    CoreLies {
        node: String,
        extra_missed: u64,
    },
    /// The next `rounds` rounds execute no user transaction: submits are accepted and stay
    /// pending, then run (or are rejected, past their epoch window) after the stall. 0 ends it.
    MempoolStall {
        rounds: u64,
    },
    /// The gateway lies about transactions: it answers every submit with success but never
    /// passes it to the mempool, and reports `CommittedSuccess` for every intent asked about
    /// (`/transaction/status`, `/transaction/committed-details`). The Core APIs stay honest.
    /// Cleared by `gateway_healthy`.
    GatewayLiesTx,
    /// The node's System API alone refuses connections (an nginx reload, a firewall change);
    /// the node keeps proposing and its Core API answers.
    SystemApiDown {
        node: String,
    },
    SystemApiUp {
        node: String,
    },
    /// A network-wide problem: the leader rounds of many validators are missed together, as a
    /// dead node's are. Give exactly one of `percent` (of the active set, taken from the other
    /// validators in node order), `count` (other validators, in node order) or `nodes` (node
    /// names; `primary` or `backup` targets that node of ours). Replaces an earlier set.
    ValidatorsMissing {
        #[serde(default)]
        percent: Option<u8>,
        #[serde(default)]
        count: Option<usize>,
        #[serde(default)]
        nodes: Option<Vec<String>>,
    },
    /// Ends `validators_missing`.
    ValidatorsHealthy,
    /// Only the paged validator list is slow: the gateway serves `/state/validators/list` in
    /// pages of `page_size` validators and delays each page by `latency_ms`. Cleared by
    /// `gateway_healthy`.
    GatewaySlowPages {
        latency_ms: u64,
        #[serde(default = "default_page_size")]
        page_size: usize,
    },
    /// The gateway pages what an account holds, as a real gateway does for an account full of
    /// airdropped tokens: `/state/entity/details` lists at most `page_size` fungible resources,
    /// `page_size` non-fungible resources and `page_size` non-fungible ids per vault, each with
    /// a `next_cursor` for the rest (served by `/state/entity/page/fungibles/`,
    /// `/state/entity/page/non-fungibles/` and `/state/entity/page/non-fungible-vault/ids`).
    /// `filler` made-up resources come first in both resource lists, and `filler` made-up ids
    /// first in every non-fungible vault, so the real holdings (XRD, the owner badge) are on a
    /// later page. Only the listings: the account's real holdings and the ledger are unchanged.
    /// Cleared by `gateway_healthy`.
    GatewayAccountPages {
        #[serde(default = "default_account_page_size")]
        page_size: usize,
        #[serde(default)]
        filler: usize,
    },
    /// Not a fault of the network but a change behind the watcher's back: a real, committed
    /// transaction signed for the owner account moves our validator's owner badge out of it
    /// (to the genesis staker's account). The daemon can no longer sign `update_key`; its
    /// pre-flight re-check, once per epoch, must say so. Cannot be undone.
    OwnerBadgeMoved,
    /// Behind the watcher's back, like `owner_badge_moved`: a real, committed `update_fee` of
    /// our validator, authorised by the owner badge. The engine records it as the validator's
    /// `validator_fee_change_request` (a decrease effective at the next epoch, an increase
    /// after `num_fee_increase_delay_epochs`). `fee_factor` is a decimal string in 0..=1.
    ValidatorFeeChanged {
        fee_factor: String,
    },
    /// Behind the watcher's back: a real, committed `update_accept_delegated_stake`.
    ValidatorDelegationSet {
        accept: bool,
    },
    /// Behind the watcher's back: a real, committed `unregister` of our validator; it leaves
    /// the active set at the next epoch change.
    ValidatorUnregistered,
    /// The node stays up, healthy and synced, but its proposals are missed (`--fault silent`).
    NodeSilent {
        node: String,
    },
    /// The public gateway's rate limit: every gateway answer is `429 Too Many Requests` with
    /// `Retry-After: retry_after_s` (as a gateway or the CDN in front of it sends it). Cleared
    /// by `gateway_healthy`. `GET /faults` counts the requests refused meanwhile, so a test
    /// sees whether a client backs off.
    GatewayRateLimited {
        #[serde(default = "default_retry_after_s")]
        retry_after_s: u64,
    },
    /// Ends `node_silent` and `node_flaky`.
    NodeProposing {
        node: String,
    },
    /// The node's APIs answer (health `UP`) but its ledger stops advancing: its Core API answers
    /// from this moment, and it cannot propose (`--fault stuck`). `node_in_sync` ends it.
    NodeStuck {
        node: String,
    },
    /// The node restarts with another key: its identity shows that key and
    /// NOT_VALIDATING_IN_CURRENT_EPOCH, and it cannot propose for the validator
    /// (`--fault wrong-key`).
    NodeWrongKey {
        node: String,
    },
    /// Gives the node its configured key back.
    NodeKeyRestored {
        node: String,
    },
    /// Half of the node's proposals time out (drawn per round from the seed; `--fault flaky`).
    NodeFlaky {
        node: String,
    },
}

/// Two seconds: long against the sim's 200 ms polls (a client that ignores it is plain to see
/// in the refused count), short against its 4 s epochs.
fn default_retry_after_s() -> u64 {
    2
}

/// Pages of 10: a 100-validator list takes ten pages, so a per-page delay adds up as it does on
/// a real gateway with a long list.
fn default_page_size() -> usize {
    10
}

/// Pages of one: every listing of a small account then takes several pages.
fn default_account_page_size() -> usize {
    1
}

/// A port change the async side must make after [`Faults::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortChange {
    Node {
        name: String,
        up: bool,
    },
    Gateway {
        up: bool,
    },
    /// The node's System API port only.
    System {
        name: String,
        up: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error("unknown node {0:?}; nodes are {1}")]
    UnknownNode(String, String),
    #[error("status {0} is not a 5xx status; use 500..=599")]
    BadStatus(u16),
    #[error("engine half refused: {0}")]
    Sim(String),
    #[error("{0}")]
    BadFault(String),
}

/// The current faults (what `GET /faults` shows).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FaultView {
    pub gateway_down: bool,
    pub gateway_latency_ms: u64,
    pub gateway_failing: Option<GatewayFailing>,
    pub gateway_garbage: bool,
    /// Ledger position the stale gateway is frozen at.
    pub gateway_stale_at: Option<StalePoint>,
    pub submit_failures_remaining: u32,
    /// Node name -> misses its Core API adds to our validator's count.
    pub core_lies: BTreeMap<String, u64>,
    pub nodes_down: Vec<String>,
    /// Node name -> (status, ledger position it is frozen at).
    pub nodes_out_of_sync: BTreeMap<String, (SyncStatus, StalePoint)>,
    pub gateway_lies_tx: bool,
    /// Nodes whose System API alone is down.
    pub system_api_down: Vec<String>,
    /// Nodes whose leader rounds are missed by `validators_missing`.
    pub validators_missing: Vec<String>,
    pub gateway_slow_pages: Option<SlowPages>,
    pub gateway_rate_limited: Option<RateLimited>,
    pub gateway_account_pages: Option<AccountPages>,
}

/// `gateway_account_pages` in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AccountPages {
    pub page_size: usize,
    pub filler: usize,
}

/// `gateway_rate_limited` in force: what it asks, and how many requests it refused so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimited {
    pub retry_after_s: u64,
    pub refused: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SlowPages {
    pub latency_ms: u64,
    pub page_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GatewayFailing {
    pub mode: FailMode,
    pub status: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StalePoint {
    pub epoch: u64,
    pub round: u64,
    pub state_version: u64,
}

impl StalePoint {
    fn of(s: &LedgerSnapshot) -> StalePoint {
        StalePoint {
            epoch: s.position.epoch,
            round: s.position.round,
            state_version: s.position.state_version,
        }
    }
}

#[derive(Default)]
struct State {
    gateway_down: bool,
    gateway_latency_ms: u64,
    gateway_failing: Option<GatewayFailing>,
    gateway_garbage: bool,
    gateway_stale: Option<Arc<LedgerSnapshot>>,
    submit_failures_remaining: u32,
    core_lies: BTreeMap<String, u64>,
    nodes_down: Vec<String>,
    out_of_sync: BTreeMap<String, (SyncStatus, Arc<LedgerSnapshot>)>,
    gateway_lies_tx: bool,
    system_api_down: Vec<String>,
    validators_missing: Vec<String>,
    gateway_slow_pages: Option<SlowPages>,
    gateway_rate_limited: Option<RateLimited>,
    gateway_account_pages: Option<AccountPages>,
    /// Per gateway endpoint: what clients asked of it (not a fault; `GET /stats`).
    gateway_traffic: BTreeMap<String, EndpointTraffic>,
    /// Every distinct User-Agent the gateway was called with (the first 20).
    gateway_user_agents: Vec<String>,
}

/// Requests one gateway endpoint answered and the bytes of those answers' bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EndpointTraffic {
    pub requests: u64,
    pub bytes: u64,
}

/// Shared fault state; cheap to read on every request.
#[derive(Default)]
pub struct Faults {
    state: Mutex<State>,
}

/// What a gateway request must suffer before (or instead of) being served.
#[derive(Debug, Clone, Default)]
pub struct GatewayEffects {
    pub latency_ms: u64,
    pub failing: Option<GatewayFailing>,
    pub garbage: bool,
    /// `Retry-After` seconds of a 429 to answer instead (fault `gateway_rate_limited`).
    pub rate_limited: Option<u64>,
}

impl Faults {
    pub fn new() -> Faults {
        Faults::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below leaves the state consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `action` to the fault state and the engine half; returns the port change to make.
    pub fn apply(&self, sim: &Sim, action: &FaultAction) -> Result<Option<PortChange>, FaultError> {
        let check_node = |name: &str| -> Result<(), FaultError> {
            let nodes = sim.info().nodes;
            if nodes.iter().any(|n| n == name) {
                Ok(())
            } else {
                Err(FaultError::UnknownNode(name.to_string(), nodes.join(", ")))
            }
        };
        let sim_err = |e: crate::ledger::SimError| FaultError::Sim(e.to_string());
        tracing::info!(?action, "fault");
        let mut st = self.lock();
        Ok(match action {
            FaultAction::NodeDown { node } => {
                check_node(node)?;
                sim.set_node_up(node, false).map_err(sim_err)?;
                if !st.nodes_down.contains(node) {
                    st.nodes_down.push(node.clone());
                }
                Some(PortChange::Node {
                    name: node.clone(),
                    up: false,
                })
            }
            FaultAction::NodeUp { node } => {
                check_node(node)?;
                sim.set_node_up(node, true).map_err(sim_err)?;
                st.nodes_down.retain(|n| n != node);
                // A node that comes back opens all of its ports.
                st.system_api_down.retain(|n| n != node);
                Some(PortChange::Node {
                    name: node.clone(),
                    up: true,
                })
            }
            FaultAction::NodeOutOfSync { node, status } => {
                check_node(node)?;
                sim.set_node_synced(node, false).map_err(sim_err)?;
                let frozen = st
                    .out_of_sync
                    .get(node)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_else(|| sim.snapshot());
                st.out_of_sync.insert(node.clone(), (*status, frozen));
                None
            }
            FaultAction::NodeInSync { node } => {
                check_node(node)?;
                sim.set_node_synced(node, true).map_err(sim_err)?;
                st.out_of_sync.remove(node);
                None
            }
            FaultAction::GatewayDown => {
                st.gateway_down = true;
                Some(PortChange::Gateway { up: false })
            }
            FaultAction::GatewayUp => {
                st.gateway_down = false;
                Some(PortChange::Gateway { up: true })
            }
            FaultAction::GatewaySlow { latency_ms } => {
                st.gateway_latency_ms = *latency_ms;
                None
            }
            FaultAction::GatewayFailing { mode, status } => {
                if !(500..=599).contains(status) {
                    return Err(FaultError::BadStatus(*status));
                }
                st.gateway_failing = Some(GatewayFailing {
                    mode: *mode,
                    status: *status,
                });
                None
            }
            FaultAction::GatewayGarbage => {
                st.gateway_garbage = true;
                None
            }
            FaultAction::GatewayStale => {
                if st.gateway_stale.is_none() {
                    st.gateway_stale = Some(sim.snapshot());
                }
                None
            }
            FaultAction::GatewayHealthy => {
                st.gateway_latency_ms = 0;
                st.gateway_failing = None;
                st.gateway_garbage = false;
                st.gateway_stale = None;
                st.gateway_lies_tx = false;
                st.gateway_slow_pages = None;
                st.gateway_rate_limited = None;
                st.gateway_account_pages = None;
                None
            }
            FaultAction::SubmitFailing { count } => {
                st.submit_failures_remaining = *count;
                None
            }
            FaultAction::CoreLies { node, extra_missed } => {
                check_node(node)?;
                if *extra_missed == 0 {
                    st.core_lies.remove(node);
                } else {
                    st.core_lies.insert(node.clone(), *extra_missed);
                }
                None
            }
            FaultAction::MempoolStall { rounds } => {
                sim.stall_mempool(*rounds);
                None
            }
            FaultAction::GatewayLiesTx => {
                st.gateway_lies_tx = true;
                None
            }
            FaultAction::SystemApiDown { node } => {
                check_node(node)?;
                if !st.system_api_down.contains(node) {
                    st.system_api_down.push(node.clone());
                }
                Some(PortChange::System {
                    name: node.clone(),
                    up: false,
                })
            }
            FaultAction::SystemApiUp { node } => {
                check_node(node)?;
                st.system_api_down.retain(|n| n != node);
                if st.nodes_down.contains(node) {
                    // A node that is down keeps every port closed until node_up.
                    None
                } else {
                    Some(PortChange::System {
                        name: node.clone(),
                        up: true,
                    })
                }
            }
            FaultAction::ValidatorsMissing {
                percent,
                count,
                nodes,
            } => {
                let chosen = missing_nodes(sim, *percent, *count, nodes.as_deref())?;
                for n in &chosen {
                    check_node(n)?;
                }
                set_missing(sim, &st.validators_missing, false).map_err(sim_err)?;
                set_missing(sim, &chosen, true).map_err(sim_err)?;
                st.validators_missing = chosen;
                None
            }
            FaultAction::ValidatorsHealthy => {
                set_missing(sim, &st.validators_missing, false).map_err(sim_err)?;
                st.validators_missing.clear();
                None
            }
            FaultAction::OwnerBadgeMoved => {
                sim.move_owner_badge_away().map_err(sim_err)?;
                None
            }
            FaultAction::ValidatorFeeChanged { fee_factor } => {
                sim.update_validator_fee(parse_fee_factor(fee_factor)?)
                    .map_err(sim_err)?;
                None
            }
            FaultAction::ValidatorDelegationSet { accept } => {
                sim.set_validator_accepts_delegated_stake(*accept)
                    .map_err(sim_err)?;
                None
            }
            FaultAction::ValidatorUnregistered => {
                sim.unregister_validator().map_err(sim_err)?;
                None
            }
            FaultAction::NodeSilent { node } => {
                check_node(node)?;
                sim.set_node_silent(node, true).map_err(sim_err)?;
                None
            }
            FaultAction::NodeProposing { node } => {
                check_node(node)?;
                sim.set_node_silent(node, false).map_err(sim_err)?;
                sim.set_node_flaky(node, false).map_err(sim_err)?;
                None
            }
            FaultAction::NodeStuck { node } => {
                check_node(node)?;
                sim.set_node_synced(node, false).map_err(sim_err)?;
                let frozen = st
                    .out_of_sync
                    .get(node)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_else(|| sim.snapshot());
                st.out_of_sync
                    .insert(node.clone(), (SyncStatus::Stuck, frozen));
                None
            }
            FaultAction::NodeWrongKey { node } => {
                check_node(node)?;
                sim.set_node_wrong_key(node, true).map_err(sim_err)?;
                None
            }
            FaultAction::NodeKeyRestored { node } => {
                check_node(node)?;
                sim.set_node_wrong_key(node, false).map_err(sim_err)?;
                None
            }
            FaultAction::NodeFlaky { node } => {
                check_node(node)?;
                sim.set_node_flaky(node, true).map_err(sim_err)?;
                None
            }
            FaultAction::GatewayRateLimited { retry_after_s } => {
                st.gateway_rate_limited = Some(RateLimited {
                    retry_after_s: *retry_after_s,
                    refused: st.gateway_rate_limited.map_or(0, |r| r.refused),
                });
                None
            }
            FaultAction::GatewaySlowPages {
                latency_ms,
                page_size,
            } => {
                if *page_size == 0 {
                    return Err(FaultError::BadFault(
                        "gateway_slow_pages: page_size must be at least 1".into(),
                    ));
                }
                st.gateway_slow_pages = Some(SlowPages {
                    latency_ms: *latency_ms,
                    page_size: *page_size,
                });
                None
            }
            FaultAction::GatewayAccountPages { page_size, filler } => {
                if *page_size == 0 {
                    return Err(FaultError::BadFault(
                        "gateway_account_pages: page_size must be at least 1".into(),
                    ));
                }
                // Made-up entries are listed, not stored: a bound keeps an answer small.
                if *filler > 1000 {
                    return Err(FaultError::BadFault(
                        "gateway_account_pages: filler must be at most 1000".into(),
                    ));
                }
                st.gateway_account_pages = Some(AccountPages {
                    page_size: *page_size,
                    filler: *filler,
                });
                None
            }
        })
    }

    /// The faults in force (a mempool stall lives in the engine half:
    /// `Sim::mempool_stall_remaining`).
    pub fn view(&self) -> FaultView {
        let st = self.lock();
        FaultView {
            core_lies: st.core_lies.clone(),
            gateway_down: st.gateway_down,
            gateway_latency_ms: st.gateway_latency_ms,
            gateway_failing: st.gateway_failing,
            gateway_garbage: st.gateway_garbage,
            gateway_stale_at: st.gateway_stale.as_deref().map(StalePoint::of),
            submit_failures_remaining: st.submit_failures_remaining,
            nodes_down: st.nodes_down.clone(),
            nodes_out_of_sync: st
                .out_of_sync
                .iter()
                .map(|(n, (status, s))| (n.clone(), (*status, StalePoint::of(s))))
                .collect(),
            gateway_lies_tx: st.gateway_lies_tx,
            system_api_down: st.system_api_down.clone(),
            validators_missing: st.validators_missing.clone(),
            gateway_slow_pages: st.gateway_slow_pages,
            gateway_rate_limited: st.gateway_rate_limited,
            gateway_account_pages: st.gateway_account_pages,
        }
    }

    /// Counts one gateway answer of `bytes` (body) on `path`.
    pub fn count_gateway(&self, path: &str, bytes: u64, user_agent: &str) {
        let mut st = self.lock();
        // A few are plenty to tell what called; a client varying it cannot grow this.
        if st.gateway_user_agents.len() < 20
            && !st.gateway_user_agents.iter().any(|u| u == user_agent)
        {
            st.gateway_user_agents.push(user_agent.to_string());
        }
        let e = st.gateway_traffic.entry(path.to_string()).or_default();
        e.requests += 1;
        e.bytes += bytes;
    }

    /// Per gateway endpoint, requests and answer bytes since the start (`GET /stats`).
    pub fn gateway_traffic(&self) -> BTreeMap<String, EndpointTraffic> {
        self.lock().gateway_traffic.clone()
    }

    /// The distinct User-Agents the gateway was called with (`GET /stats`).
    pub fn gateway_user_agents(&self) -> Vec<String> {
        self.lock().gateway_user_agents.clone()
    }

    /// Counts one request refused by `gateway_rate_limited`.
    pub fn count_rate_limited(&self) {
        if let Some(r) = self.lock().gateway_rate_limited.as_mut() {
            r.refused += 1;
        }
    }

    /// True while the gateway lies about transactions (fault `gateway_lies_tx`).
    pub fn gateway_lies_tx(&self) -> bool {
        self.lock().gateway_lies_tx
    }

    /// Paging of the validator list and its per-page delay (fault `gateway_slow_pages`).
    pub fn gateway_slow_pages(&self) -> Option<SlowPages> {
        self.lock().gateway_slow_pages
    }

    /// Paging of an account's listings (fault `gateway_account_pages`).
    pub fn gateway_account_pages(&self) -> Option<AccountPages> {
        self.lock().gateway_account_pages
    }

    pub fn gateway_effects(&self) -> GatewayEffects {
        let st = self.lock();
        GatewayEffects {
            latency_ms: st.gateway_latency_ms,
            failing: st.gateway_failing,
            garbage: st.gateway_garbage,
            rate_limited: st.gateway_rate_limited.map(|r| r.retry_after_s),
        }
    }

    /// The snapshot the gateway serves: frozen while stale, else the live one.
    pub fn gateway_snapshot(&self, sim: &Sim) -> Arc<LedgerSnapshot> {
        self.lock()
            .gateway_stale
            .clone()
            .unwrap_or_else(|| sim.snapshot())
    }

    /// The snapshot a node's Core API serves, and its sync status if it is out of sync.
    pub fn node_snapshot(
        &self,
        sim: &Sim,
        node: &str,
    ) -> (Arc<LedgerSnapshot>, Option<SyncStatus>) {
        match self.lock().out_of_sync.get(node) {
            Some((status, snap)) => (snap.clone(), Some(*status)),
            None => (sim.snapshot(), None),
        }
    }

    /// Misses the node's Core API adds to our validator's count (0: it tells the truth).
    pub fn core_extra_missed(&self, node: &str) -> u64 {
        self.lock().core_lies.get(node).copied().unwrap_or(0)
    }

    /// Consumes one injected submit failure; true if this submit must fail.
    pub fn take_submit_failure(&self) -> bool {
        let mut st = self.lock();
        if st.submit_failures_remaining > 0 {
            st.submit_failures_remaining -= 1;
            true
        } else {
            false
        }
    }
}

/// The nodes `validators_missing` targets: exactly one of percent, count or nodes.
fn missing_nodes(
    sim: &Sim,
    percent: Option<u8>,
    count: Option<usize>,
    nodes: Option<&[String]>,
) -> Result<Vec<String>, FaultError> {
    let bad = |m: &str| Err(FaultError::BadFault(format!("validators_missing: {m}")));
    // Our own nodes are "primary" and "backup"; every other validator has one node.
    let others: Vec<String> = sim
        .info()
        .nodes
        .into_iter()
        .filter(|n| n != "primary" && n != "backup")
        .collect();
    match (percent, count, nodes) {
        (Some(p), None, None) => {
            if p > 100 {
                return bad("percent must be 0..=100");
            }
            let active = others.len() + 1;
            let n = (active * usize::from(p)).div_ceil(100).min(others.len());
            Ok(others.into_iter().take(n).collect())
        }
        (None, Some(c), None) => {
            if c > others.len() {
                return bad(&format!(
                    "count {c} is more than the {} other validators; name our nodes in `nodes` to include ours",
                    others.len()
                ));
            }
            Ok(others.into_iter().take(c).collect())
        }
        (None, None, Some(list)) => Ok(list.to_vec()),
        _ => bad("give exactly one of percent, count or nodes"),
    }
}

/// The `fee_factor` of `validator_fee_changed`: a decimal in 0..=1, the range the engine's
/// `update_fee` accepts (checked here so the answer names the field, not an engine error).
fn parse_fee_factor(raw: &str) -> Result<Decimal, FaultError> {
    let bad = |why: &str| {
        FaultError::BadFault(format!(
            "validator_fee_changed: fee_factor {raw:?} {why}; give a decimal string from \"0\" to \"1\", e.g. \"0.05\" for 5%"
        ))
    };
    let factor = Decimal::try_from(raw.trim()).map_err(|_| bad("is not a decimal"))?;
    if factor.is_negative() || factor > Decimal::ONE {
        return Err(bad("is out of range"));
    }
    Ok(factor)
}

fn set_missing(sim: &Sim, nodes: &[String], missing: bool) -> Result<(), crate::ledger::SimError> {
    nodes
        .iter()
        .try_for_each(|n| sim.set_node_missing(n, missing))
}

/// Makes a [`PortChange`] on the running servers.
pub async fn change_ports(
    servers: &crate::api::Servers,
    change: PortChange,
) -> std::io::Result<()> {
    match change {
        PortChange::Gateway { up: true } => servers.gateway.start().await,
        PortChange::Gateway { up: false } => {
            servers.gateway.stop().await;
            Ok(())
        }
        PortChange::Node { name, up } => {
            if let Some((_, core, system)) = servers.node(&name) {
                if up {
                    core.start().await?;
                    system.start().await?;
                } else {
                    core.stop().await;
                    system.stop().await;
                }
            }
            Ok(())
        }
        PortChange::System { name, up } => {
            if let Some((_, _, system)) = servers.node(&name) {
                if up {
                    system.start().await?;
                } else {
                    system.stop().await;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_with_defaults_and_reject_unknown_fields() {
        let a: FaultAction =
            serde_json::from_str(r#"{"action":"gateway_failing"}"#).expect("defaults apply");
        assert_eq!(
            a,
            FaultAction::GatewayFailing {
                mode: FailMode::Status5xx,
                status: 503
            }
        );
        let a: FaultAction =
            serde_json::from_str(r#"{"action":"gateway_rate_limited"}"#).expect("defaults apply");
        assert_eq!(a, FaultAction::GatewayRateLimited { retry_after_s: 2 });
        let a: FaultAction = serde_json::from_str(
            r#"{"action":"node_out_of_sync","node":"primary","status":"syncing"}"#,
        )
        .expect("status parses");
        assert!(matches!(
            a,
            FaultAction::NodeOutOfSync {
                status: SyncStatus::Syncing,
                ..
            }
        ));
        let err = serde_json::from_str::<FaultAction>(
            r#"{"action":"node_down","node":"primary","nod":"x"}"#,
        )
        .expect_err("unknown field");
        assert!(err.to_string().contains("nod"), "{err}");
        assert!(serde_json::from_str::<FaultAction>(r#"{"action":"explode"}"#).is_err());
        let a: FaultAction =
            serde_json::from_str(r#"{"action":"validator_fee_changed","fee_factor":"0.05"}"#)
                .expect("fee change parses");
        assert_eq!(
            a,
            FaultAction::ValidatorFeeChanged {
                fee_factor: "0.05".into()
            }
        );
        let a: FaultAction =
            serde_json::from_str(r#"{"action":"validator_delegation_set","accept":false}"#)
                .expect("delegation parses");
        assert_eq!(a, FaultAction::ValidatorDelegationSet { accept: false });
        let a: FaultAction = serde_json::from_str(r#"{"action":"validator_unregistered"}"#)
            .expect("unregister parses");
        assert_eq!(a, FaultAction::ValidatorUnregistered);
    }

    #[test]
    fn fee_factor_is_a_decimal_from_zero_to_one() {
        assert_eq!(
            parse_fee_factor("0.05").expect("valid"),
            Decimal::try_from("0.05").expect("decimal")
        );
        assert_eq!(parse_fee_factor("1").expect("valid"), Decimal::ONE);
        assert_eq!(parse_fee_factor("0").expect("valid"), Decimal::ZERO);
        for bad in ["five", "", "1.5", "-0.1"] {
            let e = parse_fee_factor(bad).expect_err(bad).to_string();
            assert!(
                e.contains("fee_factor") && e.contains("validator_fee_changed"),
                "{e}"
            );
        }
    }
}
