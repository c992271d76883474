//! The real `radix-failover` binary against a real radix-sim network (real Radix Engine,
//! real HTTP on loopback): the config radix-sim writes is accepted, the transaction the CLI
//! prints is accepted by the simulated gateway, commits, rotates the key, and the backup
//! validates from the next epoch while the primary is down. Failing back with `--to-key`
//! works the same way. This is the path an operator takes by hand before the daemon exists.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use radix_api::gateway as gw;
use radix_api::system as sys;
use radix_sim::api::{Network, Ports};
use radix_sim::faults::Faults;
use radix_sim::info::Info;
use radix_sim::ledger::{Sim, SimConfig};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_radix-failover");
const ROUNDS_PER_EPOCH: u64 = 10;

fn run(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run radix-failover");
    assert!(
        out.status.success(),
        "radix-failover {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

struct Net {
    sim: Sim,
    net: Network,
    info: Info,
    http: reqwest::Client,
}

impl Net {
    async fn start(dir: &Path) -> Net {
        let mut cfg = SimConfig::new(11, dir.join("owner.key"));
        cfg.rounds_per_epoch = ROUNDS_PER_EPOCH;
        let sim = tokio::task::spawn_blocking(move || Sim::genesis(cfg))
            .await
            .expect("genesis task")
            .expect("genesis");
        let net = Network::start(sim.clone(), Arc::new(Faults::new()), &Ports::default())
            .await
            .expect("servers bind on loopback");
        let info = Info::gather(&net, 11);
        Net {
            sim,
            net,
            info,
            http: reqwest::Client::new(),
        }
    }

    async fn step(&self, n: u64) {
        let sim = self.sim.clone();
        tokio::task::spawn_blocking(move || {
            for _ in 0..n {
                sim.step_round().expect("round");
            }
        })
        .await
        .expect("step task");
    }

    async fn gw<T: serde::de::DeserializeOwned>(&self, path: &str, body: Value) -> T {
        let url = format!("{}{path}", self.info.gateway_url);
        let resp = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .expect("gateway answers");
        assert!(resp.status().is_success(), "{path}: HTTP {}", resp.status());
        resp.json().await.expect("gateway answer parses")
    }

    async fn epoch(&self) -> u64 {
        let s: gw::GatewayStatusResponse = self.gw("/status/gateway-status", json!({})).await;
        s.ledger_state.epoch
    }

    async fn identity(&self, node: &str) -> sys::IdentityResponse {
        let url = format!(
            "{}/identity",
            self.info.node(node).expect("node").system_api_url
        );
        self.http
            .get(&url)
            .send()
            .await
            .expect("system api answers")
            .json()
            .await
            .expect("identity parses")
    }

    async fn keys_on_ledger(&self) -> (Option<String>, Option<String>) {
        let list: gw::StateValidatorsListResponse =
            self.gw("/state/validators/list", json!({})).await;
        let ours = list
            .validators
            .items
            .into_iter()
            .find(|v| v.address == self.info.our_validator)
            .expect("our validator is listed");
        (
            ours.ledger_public_key_hex().map(str::to_string),
            ours.active_in_epoch.map(|a| a.key.key_hex().to_string()),
        )
    }

    /// Builds the failover transaction with the real CLI at the gateway's current epoch,
    /// submits it through the gateway and steps rounds until it commits.
    async fn fail_over_with_cli(&self, config: &Path, extra: &[&str]) -> Value {
        let epoch = self.epoch().await.to_string();
        let config = config.to_str().expect("utf-8 path");
        let mut args = vec![
            "tx",
            "update-key",
            "--config",
            config,
            "--epoch",
            &epoch,
            "--json",
        ];
        args.extend_from_slice(extra);
        let tx = json_of(&run(&args));
        let hex = tx["notarized_transaction_hex"]
            .as_str()
            .expect("hex")
            .to_string();
        let intent = tx["intent_hash"].as_str().expect("intent hash").to_string();

        let sub: gw::TransactionSubmitResponse = self
            .gw(
                "/transaction/submit",
                json!({ "notarized_transaction_hex": hex }),
            )
            .await;
        assert!(!sub.duplicate, "a fresh transaction is not a duplicate");

        for _ in 0..3 * ROUNDS_PER_EPOCH {
            let st: gw::TransactionStatusResponse = self
                .gw("/transaction/status", json!({ "intent_hash": intent }))
                .await;
            match st.intent_status {
                gw::TransactionIntentStatus::CommittedSuccess => return tx,
                gw::TransactionIntentStatus::Pending => self.step(1).await,
                other => panic!("unexpected status {other:?}: {:?}", st.error_message),
            }
        }
        panic!("the transaction did not commit within three epochs of rounds");
    }

    async fn step_to_next_epoch(&self) {
        let start = self.epoch().await;
        for _ in 0..2 * ROUNDS_PER_EPOCH {
            self.step(1).await;
            if self.epoch().await > start {
                return;
            }
        }
        panic!("no epoch change within two epochs of rounds");
    }

    /// (made, missed) leader rounds of ours from `epoch` on.
    fn our_leader_rounds_since(&self, epoch: u64) -> (usize, usize) {
        let ours: Vec<_> = self
            .sim
            .round_history(10_000)
            .into_iter()
            .filter(|r| r.epoch >= epoch && r.leader_address == self.info.our_validator)
            .collect();
        (
            ours.iter().filter(|r| r.made).count(),
            ours.iter().filter(|r| !r.made).count(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_transaction_fails_over_and_back_on_the_simulated_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = Net::start(dir.path()).await;
    let config = dir.path().join("failover.toml");
    std::fs::write(&config, net.info.failover_config()).expect("write config");
    let primary = net.info.primary_public_key_hex.clone();
    let backup = net.info.backup_public_key_hex.clone();

    // The config radix-sim wrote is valid, and the key file is the owner account's key.
    let checked = json_of(&run(&[
        "config",
        "check",
        "--config",
        config.to_str().unwrap(),
        "--json",
    ]));
    let text = checked.to_string();
    assert!(
        text.contains(&net.info.owner_account),
        "config check must show the owner account {}: {text}",
        net.info.owner_account
    );

    // The primary dies. Our leader rounds are missed from now on.
    net.sim
        .set_node_up("primary", false)
        .expect("primary exists");
    let tx = net.fail_over_with_cli(&config, &[]).await;
    assert_eq!(tx["new_key"].as_str(), Some(backup.as_str()));

    // The key on ledger changes at once; the key in force only at the next epoch.
    let (ledger, active) = net.keys_on_ledger().await;
    assert_eq!(ledger.as_deref(), Some(backup.as_str()));
    assert_eq!(active.as_deref(), Some(primary.as_str()));

    net.step_to_next_epoch().await;
    let (_, active) = net.keys_on_ledger().await;
    assert_eq!(active.as_deref(), Some(backup.as_str()));
    assert_eq!(
        net.identity("backup").await.consensus_status,
        sys::ConsensusStatus::ValidatingInCurrentEpoch
    );

    // Three epochs on the backup with the primary still down: no leader round of ours missed.
    let validating_from = net.epoch().await;
    net.step(3 * ROUNDS_PER_EPOCH - 1).await;
    let (made, missed) = net.our_leader_rounds_since(validating_from);
    assert_eq!(missed, 0, "the backup must make every leader round of ours");
    assert!(
        made > 0,
        "our validator led no round in three epochs: the check saw nothing"
    );

    // Fail back to the primary (repaired) with --to-key; the backup stops at the epoch after.
    net.sim
        .set_node_up("primary", true)
        .expect("primary exists");
    let back = net
        .fail_over_with_cli(&config, &["--to-key", &primary])
        .await;
    assert_eq!(back["new_key"].as_str(), Some(primary.as_str()));
    net.step_to_next_epoch().await;
    assert_eq!(
        net.identity("primary").await.consensus_status,
        sys::ConsensusStatus::ValidatingInCurrentEpoch
    );
    assert_eq!(
        net.identity("backup").await.consensus_status,
        sys::ConsensusStatus::NotValidatingInCurrentEpoch
    );
    net.net.shutdown().await;
}
