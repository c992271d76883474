//! Test harness for the API half: a real network (real engine via `Sim`) served over real HTTP
//! on loopback, with every answer checked against its spec schema and parsed into the
//! radix-api client types.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::sync::{Arc, OnceLock};

use radix_api::gateway as gw;
use radix_api::spec_check::{Api, Spec};
use radix_common::prelude::*;
use radix_sim::api::{Network, Ports};
use radix_sim::faults::Faults;
use radix_sim::info::Info;
use radix_sim::ledger::types::RoundRecord;
use radix_sim::ledger::{Sim, SimConfig};
use radix_transactions::prelude::*;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub fn spec(api: Api) -> &'static Spec {
    static GW: OnceLock<Spec> = OnceLock::new();
    static CORE: OnceLock<Spec> = OnceLock::new();
    static SYS: OnceLock<Spec> = OnceLock::new();
    let cell = match api {
        Api::Gateway => &GW,
        Api::Core => &CORE,
        Api::System => &SYS,
    };
    cell.get_or_init(|| Spec::load(api).expect("vendored spec loads"))
}

/// An HTTP answer whose body was checked against the spec.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub json: Value,
}

impl Answer {
    pub fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.json.clone()).unwrap_or_else(|e| {
            panic!(
                "answer does not parse into the radix-api type: {e}\n{}",
                self.json
            )
        })
    }

    pub fn ok(self) -> Answer {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "expected 200, got {}: {}",
            self.status,
            self.json
        );
        self
    }
}

fn gateway_schema(path: &str) -> &'static str {
    match path {
        "/status/gateway-status" => "GatewayStatusResponse",
        "/transaction/construction" => "TransactionConstructionResponse",
        "/statistics/validators/uptime" => "ValidatorsUptimeResponse",
        "/state/validators/list" => "StateValidatorsListResponse",
        "/state/entity/details" => "StateEntityDetailsResponse",
        "/state/entity/page/fungibles/" => "StateEntityFungiblesPageResponse",
        "/state/entity/page/non-fungibles/" => "StateEntityNonFungiblesPageResponse",
        "/state/entity/page/non-fungible-vault/ids" => "StateEntityNonFungibleIdsPageResponse",
        "/state/non-fungible/location" => "StateNonFungibleLocationResponse",
        "/transaction/submit" => "TransactionSubmitResponse",
        "/transaction/status" => "TransactionStatusResponse",
        "/transaction/preview" => "TransactionPreviewResponse",
        "/transaction/committed-details" => "TransactionCommittedDetailsResponse",
        other => panic!("no schema known for gateway path {other}"),
    }
}

fn core_schema(path: &str, ok: bool) -> &'static str {
    match (path, ok) {
        ("/status/network-status", true) => "NetworkStatusResponse",
        ("/state/consensus-manager", true) => "StateConsensusManagerResponse",
        ("/state/validator", true) => "StateValidatorResponse",
        ("/lts/transaction/construction", true) => "LtsTransactionConstructionResponse",
        ("/lts/transaction/submit", true) => "LtsTransactionSubmitResponse",
        ("/lts/transaction/status", true) => "LtsTransactionStatusResponse",
        ("/lts/transaction/submit", false) => "LtsTransactionSubmitErrorResponse",
        (_, false) => "BasicErrorResponse",
        (other, _) => panic!("no schema known for core path {other}"),
    }
}

pub fn check(api: Api, schema: &str, json: &Value) {
    if let Err(e) = spec(api).validate(schema, json) {
        panic!("answer violates the spec schema {schema}: {e}\nanswer: {json:#}");
    }
}

/// A running test network.
pub struct TestNet {
    pub sim: Sim,
    pub net: Network,
    pub faults: Arc<Faults>,
    pub info: Info,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

/// Fast epochs for tests: 10 rounds.
pub const TEST_ROUNDS_PER_EPOCH: u64 = 10;

impl TestNet {
    pub async fn start(seed: u64) -> TestNet {
        TestNet::start_with(seed, |_| {}).await
    }

    pub async fn start_with(seed: u64, f: impl FnOnce(&mut SimConfig) + Send + 'static) -> TestNet {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = SimConfig::new(seed, dir.path().join("owner.key"));
        cfg.rounds_per_epoch = TEST_ROUNDS_PER_EPOCH;
        cfg.round_length_ms = 20;
        f(&mut cfg);
        let sim = tokio::task::spawn_blocking(move || Sim::genesis(cfg))
            .await
            .expect("genesis task")
            .expect("genesis");
        let faults = Arc::new(Faults::new());
        let net = Network::start(sim.clone(), faults.clone(), &Ports::default())
            .await
            .expect("servers bind");
        let info = Info::gather(&net, seed);
        let _ = net.state.info.set(info.clone());
        TestNet {
            sim,
            net,
            faults,
            info,
            // No pooled connections: each request sees the server as it is now.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("client"),
            dir,
        }
    }

    /// Steps `n` rounds on the real engine.
    pub async fn step(&self, n: u64) -> Vec<RoundRecord> {
        let sim = self.sim.clone();
        tokio::task::spawn_blocking(move || {
            (0..n).map(|_| sim.step_round().expect("round")).collect()
        })
        .await
        .expect("step task")
    }

    /// POST /transaction/submit on the gateway with a notarized transaction's hex.
    pub async fn submit(&self, notarized_transaction_hex: &str) -> Answer {
        self.gw(
            "/transaction/submit",
            json!({ "notarized_transaction_hex": notarized_transaction_hex }),
        )
        .await
    }

    /// The gateway's `/transaction/status` answer for an intent.
    pub async fn status(&self, intent_hash: &str) -> gw::TransactionStatusResponse {
        self.gw("/transaction/status", json!({ "intent_hash": intent_hash }))
            .await
            .ok()
            .parse()
    }

    /// A node's Core API `/lts/transaction/status` answer for an intent.
    pub async fn core_status(&self, node: &str, intent_hash: &str) -> Answer {
        self.core(
            node,
            "/lts/transaction/status",
            json!({ "network": "simulator", "intent_hash": intent_hash }),
        )
        .await
        .ok()
    }

    /// Steps one round at a time until the intent leaves Pending (at most `max_rounds`),
    /// and returns the gateway's status answer at that point.
    pub async fn step_until_decided(
        &self,
        intent_hash: &str,
        max_rounds: u64,
    ) -> gw::TransactionStatusResponse {
        for _ in 0..max_rounds {
            self.step(1).await;
            let st: gw::TransactionStatusResponse = self.status(intent_hash).await;
            if st.intent_status != gw::TransactionIntentStatus::Pending {
                return st;
            }
        }
        panic!("{intent_hash} still Pending after {max_rounds} rounds");
    }

    pub fn epoch(&self) -> u64 {
        self.sim.snapshot().position.epoch
    }

    /// Steps until the epoch changes (at most two epochs' worth of rounds).
    pub async fn step_to_next_epoch(&self) -> Vec<RoundRecord> {
        let start = self.epoch();
        let mut all = Vec::new();
        for _ in 0..2 * TEST_ROUNDS_PER_EPOCH + 2 {
            all.extend(self.step(1).await);
            if self.epoch() > start {
                return all;
            }
        }
        panic!("epoch did not change within two epochs of rounds");
    }

    pub async fn post_raw(
        &self,
        url: &str,
        body: &str,
    ) -> Result<(StatusCode, String), reqwest::Error> {
        let r = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        let status = r.status();
        Ok((status, r.text().await?))
    }

    /// POST to the gateway; the answer is checked against the spec (success schema for 200,
    /// `ErrorResponse` otherwise).
    pub async fn gw(&self, path: &str, body: Value) -> Answer {
        let url = format!("{}{path}", self.net.gateway_url());
        let (status, text) = self
            .post_raw(&url, &body.to_string())
            .await
            .expect("gateway answers");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("gateway {path}: not JSON ({e}): {text}"));
        let schema = if status == StatusCode::OK {
            gateway_schema(path)
        } else {
            "ErrorResponse"
        };
        check(Api::Gateway, schema, &json);
        Answer { status, json }
    }

    pub fn node(&self, name: &str) -> &radix_sim::info::NodeInfo {
        self.info
            .node(name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// POST to a node's Core API (path after `/core`), checked against the spec.
    pub async fn core(&self, node: &str, path: &str, body: Value) -> Answer {
        let url = format!("{}{path}", self.node(node).core_api_url);
        let (status, text) = self
            .post_raw(&url, &body.to_string())
            .await
            .expect("core API answers");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("core {path}: not JSON ({e}): {text}"));
        check(
            Api::Core,
            core_schema(path, status == StatusCode::OK),
            &json,
        );
        Answer { status, json }
    }

    /// GET a node's System API (path after `/system`), checked against the spec.
    pub async fn system(&self, node: &str, path: &str) -> Answer {
        let url = format!("{}{path}", self.node(node).system_api_url);
        let r = self
            .http
            .get(&url)
            .send()
            .await
            .expect("system API answers");
        let status = r.status();
        let json: Value = r.json().await.expect("system API JSON");
        let schema = match (path, status == StatusCode::OK) {
            ("/health", true) => "HealthResponse",
            ("/identity", true) => "IdentityResponse",
            _ => "Error",
        };
        check(Api::System, schema, &json);
        Answer { status, json }
    }

    /// POST /faults on the control API; panics unless accepted.
    pub async fn fault(&self, action: Value) -> Value {
        let url = format!("{}/faults", self.net.control_url());
        let r = self
            .http
            .post(&url)
            .json(&action)
            .send()
            .await
            .expect("control API answers");
        let status = r.status();
        let body: Value = r.json().await.expect("control JSON");
        assert_eq!(status, StatusCode::OK, "fault {action} refused: {body}");
        body
    }

    pub fn our_index(&self) -> usize {
        self.sim
            .snapshot()
            .validators
            .iter()
            .find(|v| v.address == self.info.our_validator)
            .and_then(|v| v.active.as_ref())
            .map(|a| a.index)
            .expect("our validator is active")
    }

    pub async fn identity_status(&self, node: &str) -> String {
        let a = self.system(node, "/identity").await.ok();
        a.json["consensus_status"]
            .as_str()
            .expect("consensus_status")
            .to_string()
    }
}

/// A notarized `update_key` transaction for our validator, built with radix-transactions from
/// the owner key file, valid for `epochs` epochs from `start_epoch`.
pub struct UpdateKeyTx {
    pub hex: String,
    pub intent_hash: String,
    /// The manifest as text (for previews).
    pub manifest: String,
}

pub fn build_update_key(
    info: &Info,
    new_key_hex: &str,
    start_epoch: u64,
    epochs: u64,
    nonce: u32,
) -> UpdateKeyTx {
    build_update_key_with(info, new_key_hex, start_epoch, epochs, nonce, true)
}

/// Like [`build_update_key`]; without the badge proof the call fails the validator's owner rule
/// after the fee is locked, so the transaction commits as a failure.
pub fn build_update_key_with(
    info: &Info,
    new_key_hex: &str,
    start_epoch: u64,
    epochs: u64,
    nonce: u32,
    with_badge_proof: bool,
) -> UpdateKeyTx {
    let network = NetworkDefinition::simulator();
    let dec = AddressBech32Decoder::new(&network);
    let key_hex = std::fs::read_to_string(&info.key_file).expect("owner key file");
    let key_bytes = hex::decode(key_hex.trim()).expect("key file is hex");
    let private_key = Ed25519PrivateKey::from_bytes(&key_bytes).expect("Ed25519 key");
    let account =
        ComponentAddress::try_from_bech32(&dec, &info.owner_account).expect("account address");
    let validator =
        ComponentAddress::try_from_bech32(&dec, &info.our_validator).expect("validator address");
    let badge =
        ResourceAddress::try_from_bech32(&dec, &info.owner_badge_resource).expect("badge resource");
    let badge_id: NonFungibleLocalId = info.owner_badge_local_id.parse().expect("badge local id");
    let new_key =
        Secp256k1PublicKey::try_from(hex::decode(new_key_hex).expect("key hex").as_slice())
            .expect("secp256k1 key");
    let builder = ManifestBuilder::new_v1().lock_fee(account, Decimal::from(10));
    let builder = if with_badge_proof {
        builder.create_proof_from_account_of_non_fungibles(account, badge, [badge_id])
    } else {
        builder
    };
    let manifest = builder
        .call_method(validator, "update_key", (new_key,))
        .build();
    let manifest_text =
        radix_transactions::manifest::decompile(&manifest, &network).expect("decompiles");
    let tx = TransactionBuilder::new()
        .header(TransactionHeaderV1 {
            network_id: network.id,
            start_epoch_inclusive: Epoch::of(start_epoch),
            end_epoch_exclusive: Epoch::of(start_epoch + epochs),
            nonce,
            notary_public_key: private_key.public_key().into(),
            notary_is_signatory: true,
            tip_percentage: 0,
        })
        .manifest(manifest)
        .notarize(&private_key)
        .build();
    let raw = tx.to_raw().expect("encodes");
    let prepared = tx
        .prepare(PreparationSettings::latest_ref())
        .expect("prepares");
    let intent_hash = TransactionHashBech32Encoder::new(&network)
        .encode(&prepared.transaction_intent_hash())
        .expect("bech32");
    UpdateKeyTx {
        hex: hex::encode(raw.to_vec()),
        intent_hash,
        manifest: manifest_text,
    }
}

pub fn our_item<'a>(
    list: &'a radix_api::gateway::StateValidatorsListResponse,
    addr: &str,
) -> &'a radix_api::gateway::ValidatorCollectionItem {
    list.validators
        .items
        .iter()
        .find(|v| v.address == addr)
        .expect("our validator listed")
}

pub fn network_body() -> Value {
    json!({ "network": "simulator" })
}

/// The radix-failover binary, without a nested `cargo build` (that cost CI minutes): the path
/// in `RADIX_FAILOVER_BIN`, else the one cargo built next to radix-sim. `cargo test` of the
/// workspace builds it before any test runs; `cargo test -p radix-sim` alone may not, so a
/// missing binary, or one older than the daemon's sources, fails on CI (CI=true) and skips
/// elsewhere (`None`), with the command that fixes it.
pub fn failover_bin() -> Option<std::path::PathBuf> {
    let bin = match std::env::var_os("RADIX_FAILOVER_BIN") {
        Some(p) => std::path::PathBuf::from(p),
        None => std::path::PathBuf::from(env!("CARGO_BIN_EXE_radix-sim"))
            .parent()
            .expect("bin dir")
            .join(format!("radix-failover{}", std::env::consts::EXE_SUFFIX)),
    };
    let problem = if !bin.is_file() {
        Some(format!("no radix-failover at {}", bin.display()))
    } else if newest_source_mtime() > mtime(&bin) {
        Some(format!(
            "{} is older than crates/failover/src",
            bin.display()
        ))
    } else {
        None
    };
    match problem {
        None => Some(bin),
        Some(p) => {
            let fix = "run `cargo build -p radix-failover` first (or the whole workspace's tests), or set RADIX_FAILOVER_BIN";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{p}: {fix}");
            }
            eprintln!("SKIPPED: {p}: {fix}");
            None
        }
    }
}

fn mtime(p: &std::path::Path) -> std::time::SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::SystemTime::UNIX_EPOCH)
}

/// Newest modification time under crates/failover/src and its Cargo.toml.
fn newest_source_mtime() -> std::time::SystemTime {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../failover");
    let mut newest = mtime(&root.join("Cargo.toml"));
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                newest = newest.max(mtime(&p));
            }
        }
    }
    newest
}
