//! The sources (Gateway, Core and System API clients) and the pre-flight checks against a real
//! radix-sim network: real Radix Engine, real HTTP on loopback, faults injected through the
//! sim's own fault API. Expected values come from the sim's engine-side snapshot and round
//! history, not from the HTTP answers under test.

use std::sync::Arc;
use std::time::Duration;

use radix_failover::config::{Config, RawConfig};
use radix_failover::observe::{
    NodeConsensus, NodeHealth, ProposalCounts, SourceError, SourceKind, SubmitAnswer, TxEndpoint,
    TxStatus,
};
use radix_failover::preflight::{self, Aim, PreflightReport};
use radix_failover::sources::{LedgerClient, Sources};
use radix_failover::tx::{build_update_key, BuiltTransaction, UpdateKeyRequest};
use radix_sim::faults::{FailMode, FaultAction, SyncStatus};
use radix_sim::ledger::types::LedgerSnapshot;
use radix_sim::ledger::SimConfig;

mod support;
use support::SimNet;

/// Short epochs so a test crosses epoch changes in a few dozen rounds.
const ROUNDS_PER_EPOCH: u64 = 10;

struct Net {
    s: SimNet,
    dir: tempfile::TempDir,
}

/// The network's sim, servers, faults and info are `SimNet`'s; `Net` adds the config a user
/// would write for it.
impl std::ops::Deref for Net {
    type Target = SimNet;
    fn deref(&self) -> &SimNet {
        &self.s
    }
}

impl Net {
    async fn start(seed: u64) -> Net {
        Net::start_with(seed, |_| {}).await
    }

    async fn start_with(seed: u64, tweak: impl FnOnce(&mut SimConfig)) -> Net {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SimNet::start(dir.path(), seed, |cfg| {
            cfg.rounds_per_epoch = ROUNDS_PER_EPOCH;
            tweak(cfg);
        })
        .await;
        Net { s, dir }
    }

    fn node(&self, name: &str) -> &radix_sim::info::NodeInfo {
        self.info.node(name).expect("node exists")
    }

    /// The config a user would write for this network: one gateway, one extra Core API, the
    /// primary's and backup's Core and System APIs. `extra` is appended (TOML).
    fn config_text(&self, request_timeout: &str, top: &str, extra: &str) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        format!(
            "network = \"simulator\"\n\
             validator = {validator}\n\
             primary_public_key = {primary_key}\n\
             backup_public_key = {backup_key}\n\
             key_file = {key_file}\n\
             fee_lock_xrd = \"10\"\n\
             {top}\n\
             [primary]\nsystem_api = {ps}\ncore_api = {pc}\n\
             [backup]\nsystem_api = {bs}\ncore_api = {bc}\n\
             [sources]\ngateways = [{gw}]\ncore_apis = [{v1}]\nrequest_timeout = {rt}\n\
             {extra}\n",
            validator = q(&self.info.our_validator),
            primary_key = q(&self.info.primary_public_key_hex),
            backup_key = q(&self.info.backup_public_key_hex),
            key_file = q(&self.info.key_file.display().to_string()),
            ps = q(&self.node("primary").system_api_url),
            pc = q(&self.node("primary").core_api_url),
            bs = q(&self.node("backup").system_api_url),
            bc = q(&self.node("backup").core_api_url),
            gw = q(&self.info.gateway_url),
            v1 = q(&self.node("validator-1").core_api_url),
            rt = q(request_timeout),
        )
    }

    fn load(&self, text: &str) -> Config {
        let path = self.dir.path().join("failover.toml");
        std::fs::write(&path, text).expect("write config");
        // 0600, as the daemon requires of a config that holds a secret (some tests put
        // user:password@ in a URL).
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod 600");
        let raw = RawConfig::parse(&path, text).expect("config parses");
        raw.validate(&path).expect("config is valid")
    }

    fn config(&self) -> Config {
        self.load(&self.config_text("2s", "", ""))
    }

    fn snap(&self) -> Arc<LedgerSnapshot> {
        self.sim.snapshot()
    }

    /// Our validator's (key in force, key on ledger, made, missed) from the engine side.
    fn ours(&self) -> (Option<String>, String, Option<ProposalCounts>) {
        let s = self.snap();
        let v = s
            .validators
            .iter()
            .find(|v| v.address == self.info.our_validator)
            .expect("our validator in the snapshot");
        (
            v.active.as_ref().map(|a| a.key_hex.to_ascii_lowercase()),
            v.ledger_key_hex.to_ascii_lowercase(),
            v.active.as_ref().map(|a| ProposalCounts {
                made: a.proposals_made,
                missed: a.proposals_missed,
            }),
        )
    }

    /// Steps rounds until our validator has missed a leader round in the current epoch
    /// (bounded).
    async fn step_until_we_miss(&self) {
        for _ in 0..5 * ROUNDS_PER_EPOCH {
            self.step(1).await;
            if self.ours().2.is_some_and(|c| c.missed > 0) {
                return;
            }
        }
        panic!("our validator missed no leader round in five epochs of rounds");
    }

    fn built(&self, config: &Config, start_epoch: u64) -> BuiltTransaction {
        let key = radix_failover::keyfile::load_ed25519_key(&config.key_file).expect("key file");
        build_update_key(
            config,
            &key,
            &UpdateKeyRequest {
                new_key: config.backup_public_key,
                start_epoch,
                valid_epochs: radix_failover::tx::DEFAULT_VALID_EPOCHS,
                nonce: None,
            },
        )
        .expect("transaction builds")
    }
}

fn client<'a>(sources: &'a Sources, name: &str) -> &'a LedgerClient {
    sources
        .ledger_clients()
        .iter()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("no source named {name}"))
}

fn gateway(sources: &Sources) -> &LedgerClient {
    sources.first_gateway().expect("a gateway is configured")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readings_of_gateway_and_core_agree_with_the_engine() {
    let n = Net::start(21).await;
    n.step(3).await;
    let config = n.config();
    let sources = Sources::new(&config).expect("sources");
    let names: Vec<(&str, SourceKind)> = sources
        .ledger_clients()
        .iter()
        .map(|c| (c.name(), c.kind()))
        .collect();
    assert_eq!(
        names.len(),
        4,
        "gateway, validator-1 core, core primary, core backup: {names:?}"
    );
    assert_eq!(names[0].1, SourceKind::Gateway);
    assert_eq!(names[2], ("core primary", SourceKind::Core));

    let obs = sources.poll().await;
    let s = n.snap();
    let (in_force, on_ledger, counts) = n.ours();
    assert_eq!(
        in_force.as_deref(),
        Some(n.info.primary_public_key_hex.as_str())
    );
    for o in &obs.ledger {
        let r = o
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("{} failed: {e}", o.name));
        assert_eq!(
            (r.epoch, r.round, r.state_version),
            (s.position.epoch, s.position.round, s.position.state_version),
            "{}",
            o.name
        );
        assert_eq!(
            r.ledger_time_ms, s.position.proposer_round_timestamp_ms,
            "{}",
            o.name
        );
        assert_eq!(r.key_in_force, in_force, "{}", o.name);
        assert_eq!(
            r.key_on_ledger.as_deref(),
            Some(on_ledger.as_str()),
            "{}",
            o.name
        );
        match o.kind {
            SourceKind::Gateway => assert_eq!(r.current_epoch, None),
            _ => assert_eq!(r.current_epoch, counts, "{}", o.name),
        }
    }
    assert!(
        (obs.at_ms - radix_failover::sources::now_ms()).abs() < 5_000,
        "at_ms is the wall clock"
    );

    // System APIs: the primary validates with the primary key, the backup waits with its own.
    let p = obs
        .primary
        .expect("primary configured")
        .result
        .expect("primary answers");
    assert_eq!(p.health, NodeHealth::Up);
    assert_eq!(p.public_key_hex, n.info.primary_public_key_hex);
    assert_eq!(
        p.validator_address.as_deref(),
        Some(n.info.our_validator.as_str())
    );
    assert_eq!(p.consensus, NodeConsensus::ValidatingInCurrentEpoch);
    let b = obs
        .backup
        .expect("backup configured")
        .result
        .expect("backup answers");
    assert_eq!(b.public_key_hex, n.info.backup_public_key_hex);
    assert_eq!(b.consensus, NodeConsensus::NotValidatingInCurrentEpoch);

    // The primary dies: its ports close, our leader rounds are missed, and the Core APIs
    // still answering count the misses exactly as the engine does.
    n.fault(FaultAction::NodeDown {
        node: "primary".into(),
    })
    .await;
    n.step_until_we_miss().await;
    let (_, _, counts) = n.ours();
    assert!(counts.is_some_and(|c| c.missed > 0), "{counts:?}");
    let obs = sources.poll().await;
    for o in &obs.ledger {
        match (o.name.as_str(), &o.result) {
            ("core primary", Err(SourceError::Unreachable(m))) => {
                assert!(m.contains("core primary"), "names the source: {m}")
            }
            ("core primary", other) => panic!("a closed port must be Unreachable: {other:?}"),
            (_, Ok(r)) if o.kind == SourceKind::Core => {
                assert_eq!(r.current_epoch, counts, "{}", o.name)
            }
            (_, Ok(_)) => {}
            (name, Err(e)) => panic!("{name} failed: {e}"),
        }
    }
    let p = obs.primary.expect("primary configured");
    assert!(
        matches!(p.result, Err(SourceError::Unreachable(_))),
        "{:?}",
        p.result
    );
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_reports_finished_epoch_misses_of_the_window() {
    let n = Net::start(22).await;
    let config = n.config();
    let sources = Sources::new(&config).expect("sources");
    n.fault(FaultAction::NodeDown {
        node: "primary".into(),
    })
    .await;
    // Four whole epochs with the primary down, then a few rounds into the next.
    let start = n.snap().position.epoch;
    while n.snap().position.epoch < start + 4 {
        n.step(1).await;
    }
    n.step(2).await;
    let current = n.snap().position.epoch;
    let r = gateway(&sources).reading().await.expect("gateway reading");
    assert_eq!(r.epoch, current);
    let f = r.finished.expect("finished epochs reported");
    // Default window 3 (with the current epoch): the two finished epochs before it.
    assert_eq!((f.from_epoch, f.to_epoch), (current - 2, current - 1));
    // Independently: our leader rounds in those epochs from the engine's round history.
    let rounds = n.sim.round_history(10_000);
    let ours = |made: bool| {
        rounds
            .iter()
            .filter(|x| {
                x.epoch >= f.from_epoch
                    && x.epoch <= f.to_epoch
                    && x.leader_address == n.info.our_validator
                    && x.made == made
            })
            .count() as u64
    };
    let expected = ProposalCounts {
        made: ours(true),
        missed: ours(false),
    };
    assert!(expected.missed > 0, "the test needs misses in the window");
    assert_eq!(f.counts, Some(expected));
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_faults_become_the_right_source_errors() {
    let n = Net::start(23).await;
    n.step(2).await;
    // A short timeout so the slow gateway times out quickly.
    let config = n.load(&n.config_text("300ms", "", ""));
    let sources = Sources::new(&config).expect("sources");
    let gw = gateway(&sources);
    assert!(gw.reading().await.is_ok());

    n.fault(FaultAction::GatewayFailing {
        mode: FailMode::Status5xx,
        status: 503,
    })
    .await;
    match gw.reading().await {
        Err(SourceError::Http {
            status: 503,
            message,
        }) => {
            assert!(message.contains("Injected fault"), "{message}")
        }
        other => panic!("a failing gateway is Http 503: {other:?}"),
    }
    n.fault(FaultAction::GatewayFailing {
        mode: FailMode::NotSyncedUp,
        status: 500,
    })
    .await;
    assert!(matches!(gw.reading().await, Err(SourceError::NotSynced(_))));
    n.fault(FaultAction::GatewayHealthy).await;
    n.fault(FaultAction::GatewayGarbage).await;
    assert!(matches!(gw.reading().await, Err(SourceError::Malformed(_))));
    n.fault(FaultAction::GatewayHealthy).await;
    n.fault(FaultAction::GatewaySlow { latency_ms: 1_500 })
        .await;
    assert_eq!(gw.reading().await, Err(SourceError::Timeout(300)));
    n.fault(FaultAction::GatewayHealthy).await;
    n.fault(FaultAction::GatewayDown).await;
    assert!(matches!(
        gw.reading().await,
        Err(SourceError::Unreachable(_))
    ));
    n.fault(FaultAction::GatewayUp).await;
    assert!(
        gw.reading().await.is_ok(),
        "recovers once the faults are gone"
    );

    // Every other source is unaffected by the gateway's trouble, in the same poll.
    n.fault(FaultAction::GatewayFailing {
        mode: FailMode::Status5xx,
        status: 502,
    })
    .await;
    let obs = sources.poll().await;
    assert!(obs.ledger[0].result.is_err());
    assert!(
        obs.ledger[1..].iter().all(|o| o.result.is_ok()),
        "{:?}",
        obs.ledger
    );
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_and_status_through_core_and_gateway_reach_committed_success() {
    let n = Net::start(24).await;
    n.step(2).await;
    let config = n.config();
    let sources = Sources::new(&config).expect("sources");
    let gw = gateway(&sources);
    let core = client(&sources, "core backup");
    let epoch = n.snap().position.epoch;
    let tx = n.built(&config, epoch);

    assert_eq!(
        core.status(&tx.intent_hash_bech32).await,
        Ok(TxStatus::NotSeen)
    );
    assert_eq!(
        gw.status(&tx.intent_hash_bech32).await,
        Ok(TxStatus::NotSeen)
    );
    assert_eq!(
        core.submit(&tx.notarized_hex()).await,
        Ok(SubmitAnswer::Accepted { duplicate: false })
    );
    assert_eq!(
        gw.submit(&tx.notarized_hex()).await,
        Ok(SubmitAnswer::Accepted { duplicate: true })
    );
    assert_eq!(
        core.status(&tx.intent_hash_bech32).await,
        Ok(TxStatus::Pending)
    );
    assert_eq!(
        gw.status(&tx.intent_hash_bech32).await,
        Ok(TxStatus::Pending)
    );

    let mut committed = false;
    for _ in 0..ROUNDS_PER_EPOCH {
        n.step(1).await;
        if gw.status(&tx.intent_hash_bech32).await == Ok(TxStatus::CommittedSuccess) {
            committed = true;
            break;
        }
    }
    assert!(
        committed,
        "the transaction commits within an epoch of rounds"
    );
    for c in sources.tx_endpoints() {
        assert_eq!(
            c.status(&tx.intent_hash_bech32).await,
            Ok(TxStatus::CommittedSuccess),
            "{}",
            c.name()
        );
    }
    // The key on ledger is the backup's now, and every source says so.
    let obs = sources.poll().await;
    for o in &obs.ledger {
        let r = o.result.as_ref().expect("reading");
        assert_eq!(
            r.key_on_ledger.as_deref(),
            Some(n.info.backup_public_key_hex.as_str()),
            "{}",
            o.name
        );
        assert_eq!(
            r.key_in_force.as_deref(),
            Some(n.info.primary_public_key_hex.as_str()),
            "{}",
            o.name
        );
    }

    // Submitting the committed intent again: the Core API says it is already committed (ours),
    // the gateway refuses it for good.
    assert_eq!(
        core.submit(&tx.notarized_hex()).await,
        Ok(SubmitAnswer::Accepted { duplicate: true })
    );
    match gw.submit(&tx.notarized_hex()).await {
        Ok(SubmitAnswer::Rejected {
            permanent: true,
            message,
        }) => assert!(!message.is_empty()),
        other => panic!("a replay through the gateway is rejected for good: {other:?}"),
    }

    // A dropped submit (injected 5xx) is an error, not an answer.
    n.fault(FaultAction::SubmitFailing { count: 2 }).await;
    let other = n.built(&config, epoch + 1);
    assert!(matches!(
        core.submit(&other.notarized_hex()).await,
        Err(SourceError::Http { status: 500, .. })
    ));
    assert!(matches!(
        gw.submit(&other.notarized_hex()).await,
        Err(SourceError::Http { status: 500, .. })
    ));
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_and_out_of_sync_nodes() {
    let n = Net::start(25).await;
    n.step(2).await;
    let config = n.config();
    let sources = Sources::new(&config).expect("sources");
    n.fault(FaultAction::NodeOutOfSync {
        node: "backup".into(),
        status: SyncStatus::Syncing,
    })
    .await;
    let b = sources
        .backup_node()
        .await
        .expect("configured")
        .result
        .expect("answers");
    assert_eq!(b.health, NodeHealth::Syncing);
    assert!(b.detail.contains("catching up"), "{}", b.detail);
    // Its Core API answers from the frozen ledger: behind the others after a few rounds.
    n.step(3).await;
    let behind = client(&sources, "core backup")
        .reading()
        .await
        .expect("answers");
    let live = client(&sources, "core primary")
        .reading()
        .await
        .expect("answers");
    assert!(behind.state_version < live.state_version);
    // In a poll, its node's own word (SYNCING) makes the Core API's answer NotSynced.
    let obs = sources.poll().await;
    let core_backup = obs
        .ledger
        .iter()
        .find(|o| o.name == "core backup")
        .expect("listed");
    match &core_backup.result {
        Err(SourceError::NotSynced(m)) => assert!(m.contains("SYNCING"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(obs
        .ledger
        .iter()
        .filter(|o| o.name != "core backup")
        .all(|o| o.result.is_ok()));

    n.fault(FaultAction::NodeDown {
        node: "backup".into(),
    })
    .await;
    let b = sources.backup_node().await.expect("configured");
    assert!(
        matches!(b.result, Err(SourceError::Unreachable(_))),
        "{:?}",
        b.result
    );

    // Nothing listens on a port we bound and released: Unreachable, within the timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let text = n.config_text("2s", "", "").replace(
        &n.node("validator-1").core_api_url,
        &format!("http://127.0.0.1:{port}/core"),
    );
    let sources = Sources::new(&n.load(&text)).expect("sources");
    let started = std::time::Instant::now();
    let r = sources.ledger_clients()[1].reading().await;
    assert!(matches!(r, Err(SourceError::Unreachable(_))), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    n.net.shutdown().await;
}

// ---------------------------------------------------------------- pre-flight checks

fn named<'a>(r: &'a PreflightReport, name: &str) -> &'a preflight::Check {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {r:?}"))
}

/// Exactly the checks named fail; the rest pass.
fn assert_failing(r: &PreflightReport, failing: &[&str]) {
    let names: Vec<&str> = r.checks.iter().map(|c| c.name).collect();
    let failed: Vec<&str> = r.failures().map(|c| c.name).collect();
    assert_eq!(failed, failing, "checks {names:?}: {r:#?}");
    assert_eq!(r.ok(), failing.is_empty());
}

async fn preflight_of(n: &Net, config: &Config, start_epoch: u64, aim: Aim) -> PreflightReport {
    let sources = Sources::new(config).expect("sources");
    let tx = n.built(config, start_epoch);
    preflight::run(config, &sources, &tx.account_address, &tx, aim).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_passes_on_a_ready_network_and_moves_nothing() {
    let n = Net::start(31).await;
    n.step(2).await;
    let config = n.config();
    let epoch = n.snap().position.epoch;
    let tx = n.built(&config, epoch);
    assert_eq!(tx.account_address, n.info.owner_account);
    let r = preflight_of(&n, &config, epoch, Aim::Backup).await;
    let names: Vec<&str> = r.checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        ["sources", "validator", "account", "backup", "preview"]
    );
    assert_failing(&r, &[]);
    assert!(!r.key_on_ledger_is_backup);
    assert!(
        named(&r, "account").detail.contains("owner badge"),
        "{r:#?}"
    );
    // The preview committed nothing: the key on ledger is still the primary's.
    assert_eq!(n.ours().1, n.info.primary_public_key_hex);

    // The primary dies: its own sources do not block the failover they call for.
    n.fault(FaultAction::NodeDown {
        node: "primary".into(),
    })
    .await;
    n.step(1).await;
    let r = preflight_of(&n, &config, epoch, Aim::Backup).await;
    assert_failing(&r, &[]);
    let sources = &named(&r, "sources").detail;
    assert!(
        sources.contains("not counted") && sources.contains("core primary"),
        "{sources}"
    );
    // ... but a failback to it is blocked, by the sources and by the node check.
    let r = preflight_of(&n, &config, epoch, Aim::Primary).await;
    assert!(r.failures().any(|c| c.name == "primary"), "{r:#?}");
    assert!(r.failures().any(|c| c.name == "sources"), "{r:#?}");
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_fails_each_check_for_a_real_reason() {
    let n = Net::start(32).await;
    n.step(2).await;
    let config = n.config();
    let epoch = n.snap().position.epoch;

    // A transaction whose window starts in the future: only the preview fails.
    let r = preflight_of(&n, &config, epoch + 5, Aim::Backup).await;
    assert_failing(&r, &["preview"]);

    // The configured backup key is another node's key: the backup check names both keys.
    let wrong = n.node("validator-1").public_key_hex.clone();
    let text = n
        .config_text("2s", "", "")
        .replace(&n.info.backup_public_key_hex, &wrong);
    let r = preflight_of(&n, &n.load(&text), epoch, Aim::Backup).await;
    assert_failing(&r, &["backup"]);
    let d = &named(&r, "backup").detail;
    assert!(
        d.contains(&wrong) && d.contains(&n.info.backup_public_key_hex),
        "{d}"
    );

    // An account with neither XRD nor the badge: account and preview fail.
    let key_file = n.dir.path().join("stranger.key");
    radix_failover::keyfile::write_key_file(&key_file, &[7u8; 32], false).expect("key file");
    let text = n.config_text("2s", "", "").replace(
        &n.info.key_file.display().to_string(),
        &key_file.display().to_string(),
    );
    let r = preflight_of(&n, &n.load(&text), epoch, Aim::Backup).await;
    assert_failing(&r, &["account", "preview"]);
    let d = &named(&r, "account").detail;
    assert!(d.contains("owner badge") && d.contains("XRD"), "{d}");

    // The backup falls out of sync: the backup check and the sources check say so.
    n.fault(FaultAction::NodeOutOfSync {
        node: "backup".into(),
        status: SyncStatus::OutOfSync,
    })
    .await;
    let r = preflight_of(&n, &config, epoch, Aim::Backup).await;
    assert_failing(&r, &["sources", "backup"]);
    assert!(named(&r, "backup").detail.contains("OUT_OF_SYNC"), "{r:#?}");
    assert!(
        named(&r, "sources").detail.contains("system backup"),
        "{r:#?}"
    );
    n.fault(FaultAction::NodeInSync {
        node: "backup".into(),
    })
    .await;

    // No gateway (Core APIs only): the account and preview checks cannot run. That does not
    // block the failover, and both say what was not checked and how to fix it.
    let text = n.config_text("2s", "", "").replace(
        &format!("gateways = [\"{}\"]", n.info.gateway_url),
        "gateways = []",
    );
    let core_only = n.load(&text);
    let r = preflight_of(&n, &core_only, epoch, Aim::Backup).await;
    assert_failing(&r, &[]);
    for name in ["account", "preview"] {
        let d = &named(&r, name).detail;
        assert!(
            d.starts_with("NOT CHECKED: no gateway") && d.contains("fix:"),
            "{d}"
        );
    }
    assert!(
        core_only
            .warnings()
            .iter()
            .any(|w| w.contains("no gateway")),
        "config check and the start-up say so too: {:?}",
        core_only.warnings()
    );
    n.net.shutdown().await;
}

/// Issue 10 item 5: the pre-flight does not depend on the first gateway alone. With a first
/// gateway that refuses connections, the account and preview checks are answered by the
/// next one; only the sources check names the dead one. With no gateway answering at all, the
/// account and preview checks fail as unread, naming each gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_asks_the_next_gateway_when_the_first_does_not_answer() {
    let n = Net::start(34).await;
    n.step(2).await;
    let epoch = n.snap().position.epoch;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let a = l.local_addr().expect("addr");
        drop(l);
        format!("http://{a}")
    };
    let text = n.config_text("2s", "", "").replace(
        &format!("gateways = [\"{}\"]", n.info.gateway_url),
        &format!("gateways = [\"{closed}\", \"{}\"]", n.info.gateway_url),
    );
    assert!(
        text.contains(&closed),
        "the config lists the dead gateway first"
    );
    let r = preflight_of(&n, &n.load(&text), epoch, Aim::Backup).await;
    assert_failing(&r, &["sources"]);
    assert!(
        named(&r, "account").detail.contains("owner badge"),
        "{r:#?}"
    );
    assert!(named(&r, "preview").detail.contains("Succeeded"), "{r:#?}");

    // Only the dead gateway: account and preview are unread, and say which gateway failed.
    let text = n.config_text("2s", "", "").replace(
        &format!("gateways = [\"{}\"]", n.info.gateway_url),
        &format!("gateways = [\"{closed}\"]"),
    );
    let r = preflight_of(&n, &n.load(&text), epoch, Aim::Backup).await;
    for name in ["account", "preview"] {
        let c = named(&r, name);
        assert!(!c.pass && c.unread, "{c:?}");
        assert!(c.detail.contains("any gateway"), "{c:?}");
    }
    n.net.shutdown().await;
}

/// Issue 10: a gateway pages an account's resources and a vault's ids (an account full of
/// airdropped tokens; several owner badges in one vault). The pre-flight reads every page
/// before it says the owner badge (or the XRD) is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_reads_every_page_of_the_account_before_calling_the_badge_missing() {
    let n = Net::start(33).await;
    n.step(2).await;
    let config = n.config();
    let epoch = n.snap().position.epoch;
    // Pages of one, two made-up resources ahead of the real ones in each list and two made-up
    // ids ahead of the badge in its vault: XRD and the badge are each on the third page.
    n.fault(FaultAction::GatewayAccountPages {
        page_size: 1,
        filler: 2,
    })
    .await;
    let r = preflight_of(&n, &config, epoch, Aim::Backup).await;
    assert_failing(&r, &[]);
    let d = &named(&r, "account").detail;
    assert!(d.contains("holds the owner badge"), "{d}");
    let traffic = n.faults.gateway_traffic();
    for path in [
        "/state/entity/page/fungibles/",
        "/state/entity/page/non-fungibles/",
        "/state/entity/page/non-fungible-vault/ids",
    ] {
        assert!(
            traffic.get(path).is_some_and(|t| t.requests >= 2),
            "{path} was asked for the later pages: {traffic:?}"
        );
    }
    // An account without the badge or XRD still fails, after reading every page.
    let key_file = n.dir.path().join("stranger.key");
    radix_failover::keyfile::write_key_file(&key_file, &[7u8; 32], false).expect("key file");
    let text = n.config_text("2s", "", "").replace(
        &n.info.key_file.display().to_string(),
        &key_file.display().to_string(),
    );
    let r = preflight_of(&n, &n.load(&text), epoch, Aim::Backup).await;
    assert_failing(&r, &["account", "preview"]);
    let d = &named(&r, "account").detail;
    assert!(d.contains("owner badge") && d.contains("XRD"), "{d}");
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_after_a_failover_reports_the_backup_key_and_allows_a_failback() {
    let n = Net::start(33).await;
    n.step(2).await;
    let config = n.config();
    let sources = Sources::new(&config).expect("sources");
    let epoch = n.snap().position.epoch;
    let tx = n.built(&config, epoch);
    let gw = gateway(&sources);
    assert_eq!(
        gw.submit(&tx.notarized_hex()).await,
        Ok(SubmitAnswer::Accepted { duplicate: false })
    );
    for _ in 0..ROUNDS_PER_EPOCH {
        n.step(1).await;
        if n.ours().1 == n.info.backup_public_key_hex {
            break;
        }
    }
    assert_eq!(
        n.ours().1,
        n.info.backup_public_key_hex,
        "the failover committed"
    );

    let now = n.snap().position.epoch;
    let r = preflight_of(&n, &config, now, Aim::Backup).await;
    assert!(r.key_on_ledger_is_backup);
    assert!(named(&r, "validator").detail.contains("already"), "{r:#?}");
    assert!(r.failures().any(|c| c.name == "validator"));

    // Failing back: the same checks aimed at the primary, with a transaction to its key.
    let key = radix_failover::keyfile::load_ed25519_key(&config.key_file).expect("key");
    let back = build_update_key(
        &config,
        &key,
        &UpdateKeyRequest {
            new_key: config.primary_public_key.expect("configured"),
            start_epoch: now,
            valid_epochs: radix_failover::tx::DEFAULT_VALID_EPOCHS,
            nonce: None,
        },
    )
    .expect("failback transaction builds");
    let r = preflight::run(
        &config,
        &sources,
        &back.account_address,
        &back,
        Aim::Primary,
    )
    .await;
    let names: Vec<&str> = r.checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        ["sources", "validator", "account", "primary", "preview"]
    );
    assert_failing(&r, &[]);
    assert!(r.key_on_ledger_is_backup);
    n.net.shutdown().await;
}

// ---------------------------------------------------------------- hostile and broken sources

/// What a hand-made loopback server does with each request.
#[derive(Clone)]
enum Canned {
    /// Answers with these raw bytes (status line, headers, body), then closes.
    Raw(Vec<u8>),
    /// 200 with a body of `len` bytes streamed without a Content-Length.
    Endless(usize),
    /// Reads the request and never answers.
    Silent,
    /// 200 with the JSON body whose path suffix matches the request path; 404 otherwise.
    ByPath(Vec<(&'static str, String)>),
    /// The n-th request gets the n-th JSON body (the last one from then on); every request
    /// body is recorded.
    Pages(Arc<Vec<String>>, Arc<std::sync::Mutex<Vec<String>>>),
}

fn http_200_json(body: &str) -> Canned {
    Canned::Raw(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// Reads one request (headers and a Content-Length body); returns its path and body.
async fn read_request(s: &mut tokio::net::TcpStream) -> (String, String) {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return (path, text[end + 4..].to_string());
            }
        }
        match s.read(&mut chunk).await {
            Ok(k) if k > 0 => buf.extend_from_slice(&chunk[..k]),
            _ => return (path, String::new()),
        }
    }
}

/// A loopback server answering every request as `canned`; returns its base URL.
async fn canned_server(canned: Canned) -> String {
    use tokio::io::AsyncWriteExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let canned = canned.clone();
            tokio::spawn(async move {
                let (path, body) = read_request(&mut s).await;
                match canned {
                    Canned::Pages(pages, seen) => {
                        let n = {
                            let mut seen = seen.lock().expect("lock");
                            seen.push(body);
                            seen.len() - 1
                        };
                        let page = &pages[n.min(pages.len() - 1)];
                        if let Canned::Raw(bytes) = http_200_json(page) {
                            let _ = s.write_all(&bytes).await;
                        }
                    }
                    Canned::ByPath(routes) => {
                        let answer = match routes.iter().find(|(p, _)| path.ends_with(p)) {
                            Some((_, body)) => http_200_json(body),
                            None => Canned::Raw(
                                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                    .to_vec(),
                            ),
                        };
                        if let Canned::Raw(bytes) = answer {
                            let _ = s.write_all(&bytes).await;
                        }
                    }
                    Canned::Raw(bytes) => {
                        let _ = s.write_all(&bytes).await;
                    }
                    Canned::Endless(len) => {
                        let _ = s
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
                            .await;
                        let block = vec![b'['; 64 * 1024];
                        let mut sent = 0;
                        while sent < len {
                            if s.write_all(&block).await.is_err() {
                                return;
                            }
                            sent += block.len();
                        }
                    }
                    Canned::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
                }
                let _ = s.shutdown().await;
            });
        }
    });
    url
}

/// A config whose only gateway is `url` (the nodes stay the sim's).
fn with_gateway(n: &Net, url: &str, timeout: &str) -> Config {
    let text = n.config_text(timeout, "", "").replace(
        &format!("gateways = [\"{}\"]", n.info.gateway_url),
        &format!("gateways = [\"{url}\"]"),
    );
    n.load(&text)
}

/// Sources whose only gateway is a canned server answering `canned`.
async fn canned_gateway(n: &Net, canned: Canned, timeout: &str) -> Sources {
    let url = canned_server(canned).await;
    Sources::new(&with_gateway(n, &url, timeout)).expect("sources")
}

/// The message of a `Malformed` error; anything else fails the test.
fn malformed<T: std::fmt::Debug>(answer: Result<T, SourceError>) -> String {
    match answer {
        Err(SourceError::Malformed(m)) => m,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_or_broken_gateways_give_errors_never_panics() {
    let n = Net::start(41).await;
    n.step(2).await;
    // The real answer, to doctor.
    let real = validator_list(&n).await;

    // Our validator missing from the list: Malformed, naming the validator.
    let mut missing = real.clone();
    missing["validators"]["items"]
        .as_array_mut()
        .expect("items")
        .retain(|v| v["address"] != n.info.our_validator.as_str());
    let sources = canned_gateway(&n, http_200_json(&missing.to_string()), "2s").await;
    let m = malformed(gateway(&sources).reading().await);
    assert!(m.contains(&n.info.our_validator), "{m}");

    // Another network's gateway: Malformed, naming both networks.
    let mut other_net = real.clone();
    other_net["ledger_state"]["network"] = "mainnet".into();
    let sources = canned_gateway(&n, http_200_json(&other_net.to_string()), "2s").await;
    let m = malformed(gateway(&sources).reading().await);
    assert!(m.contains("mainnet") && m.contains("simulator"), "{m}");

    // A nonsense timestamp: Malformed.
    let mut bad_time = real.clone();
    bad_time["ledger_state"]["proposer_round_timestamp"] = "soon".into();
    let sources = canned_gateway(&n, http_200_json(&bad_time.to_string()), "2s").await;
    malformed(gateway(&sources).reading().await);

    // An endless body, with and without a Content-Length: refused past the cap.
    let sources = canned_gateway(&n, Canned::Endless(9 * 1024 * 1024), "5s").await;
    let m = malformed(gateway(&sources).reading().await);
    assert!(m.contains("larger than 8 MiB"), "{m}");
    let sources = canned_gateway(
        &n,
        Canned::Raw(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n[[["
                .to_vec(),
        ),
        "2s",
    )
    .await;
    let m = malformed(gateway(&sources).reading().await);
    assert!(m.contains("larger than 8 MiB"), "{m}");

    // A redirect to another host is not followed (a signed transaction must not go elsewhere).
    let sources = canned_gateway(
        &n,
        Canned::Raw(
            b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.2:9/transaction/submit\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        "2s",
    )
    .await;
    assert!(matches!(
        gateway(&sources).submit("00").await,
        Err(SourceError::Http { status: 307, .. })
    ));

    // A server that accepts and never answers: Timeout after the configured request timeout.
    let sources = canned_gateway(&n, Canned::Silent, "250ms").await;
    let started = std::time::Instant::now();
    assert_eq!(
        gateway(&sources).reading().await,
        Err(SourceError::Timeout(250))
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // An unknown transaction status string (a newer gateway): an answer, read as not known
    // yet with its text, not a guess and not a malformed answer (issue 10).
    let sources = canned_gateway(
        &n,
        http_200_json(
            &serde_json::json!({
                "ledger_state": real["ledger_state"],
                "status": "Pending", "intent_status": "SomethingNew",
                "intent_status_description": "?", "known_payloads": []
            })
            .to_string(),
        ),
        "2s",
    )
    .await;
    assert_eq!(
        gateway(&sources).status("txid_sim1x").await,
        Ok(TxStatus::Other {
            raw: "SomethingNew".into()
        })
    );
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_a_source_url_never_show_in_names_or_errors() {
    let n = Net::start(42).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = with_gateway(
        &n,
        &format!("http://operator:s3cret@127.0.0.1:{port}"),
        "2s",
    );
    let sources = Sources::new(&config).expect("sources");
    let gw = gateway(&sources);
    let err = gw.reading().await.expect_err("nothing listens there");
    assert!(matches!(err, SourceError::Unreachable(_)), "{err:?}");
    for text in [
        gw.name().to_string(),
        err.to_string(),
        format!("{err:?}"),
        format!("{sources:?}"),
    ] {
        assert!(
            !text.contains("s3cret") && !text.contains("operator"),
            "{text}"
        );
    }
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_gateway_fails_the_sources_check_by_its_lag() {
    let n = Net::start(43).await;
    n.step(2).await;
    let text = n.config_text("2s", "", "[policy]\nmax_source_lag = \"300ms\"\n");
    let config = n.load(&text);
    n.fault(FaultAction::GatewayStale).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    n.step(1).await;
    let r = preflight_of(&n, &config, n.snap().position.epoch, Aim::Backup).await;
    assert!(r.failures().any(|c| c.name == "sources"), "{r:#?}");
    let d = &named(&r, "sources").detail;
    assert!(
        d.contains("gateway") && d.contains("behind the clock"),
        "{d}"
    );
    assert!(
        !d.contains("core backup"),
        "fresh sources are not blamed: {d}"
    );
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_epoch_counts_are_required_only_by_the_legacy_policy() {
    let n = Net::start(44).await;
    n.step(ROUNDS_PER_EPOCH + 2).await;
    assert!(n.snap().position.epoch >= 2, "an epoch has finished");
    let list = validator_list(&n).await;
    // This gateway answers every endpoint with the validator list, so its uptime answer is
    // nonsense while its list is fine.
    let url = canned_server(http_200_json(&list.to_string())).await;
    let text = n.config_text("2s", "", "").replace(
        &format!("gateways = [\"{}\"]", n.info.gateway_url),
        &format!("gateways = [\"{url}\"]"),
    );
    let sources = Sources::new(&n.load(&text)).expect("sources");
    let r = gateway(&sources)
        .reading()
        .await
        .expect("the default policy shows finished epochs but does not need them");
    assert_eq!(r.finished, None);
    assert_eq!(
        r.key_in_force.as_deref(),
        Some(n.info.primary_public_key_hex.as_str())
    );

    let legacy = n.load(&format!("{text}\n[policy]\nname = \"legacy\"\n"));
    let sources = Sources::new(&legacy).expect("sources");
    match gateway(&sources).reading().await {
        Err(SourceError::Malformed(m)) => {
            assert!(m.contains("/statistics/validators/uptime"), "{m}")
        }
        other => panic!("the legacy rule cannot decide without them: {other:?}"),
    }
    n.net.shutdown().await;
}

/// POSTs `body` to the sim at `url` and returns the JSON answer (to doctor it).
async fn fetch(url: &str, body: serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("the sim answers")
        .json()
        .await
        .expect("json")
}

/// The sim gateway's own validator list, to doctor.
async fn validator_list(n: &Net) -> serde_json::Value {
    fetch(
        &format!("{}/state/validators/list", n.info.gateway_url),
        serde_json::json!({}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_outside_the_active_set_has_no_key_in_force_and_no_counts() {
    let n = Net::start(45).await;
    n.step(3).await;
    let core = n.node("validator-1").core_api_url.clone();
    let ours = n.info.our_validator.as_str();
    let mut cm = fetch(
        &format!("{core}/state/consensus-manager"),
        serde_json::json!({"network": "simulator"}),
    )
    .await;
    let validator = fetch(
        &format!("{core}/state/validator"),
        serde_json::json!({"network": "simulator", "validator_address": ours}),
    )
    .await;
    // Our validator leaves the active set (and its statistic slot with it).
    let set = cm["current_validator_set"]["value"]["validator_set"]
        .as_array_mut()
        .expect("set");
    let i = set
        .iter()
        .position(|v| v["address"] == ours)
        .expect("we are in the real set");
    set.remove(i);
    for k in ["completed", "missed"] {
        cm["current_proposal_statistic"]["value"][k]
            .as_array_mut()
            .expect("stat")
            .remove(i);
    }
    let url = canned_server(Canned::ByPath(vec![
        ("/state/consensus-manager", cm.to_string()),
        ("/state/validator", validator.to_string()),
    ]))
    .await;
    let text = n
        .config_text("2s", "", "")
        .replace(&n.node("validator-1").core_api_url, &format!("{url}/core"));
    let sources = Sources::new(&n.load(&text)).expect("sources");
    let r = sources.ledger_clients()[1]
        .reading()
        .await
        .expect("a reading");
    assert_eq!(r.key_in_force, None);
    assert_eq!(r.current_epoch, None);
    assert_eq!(
        r.key_on_ledger.as_deref(),
        Some(n.info.primary_public_key_hex.as_str())
    );

    // A statistic shorter than the set is nonsense: Malformed, not an out-of-bounds panic.
    let mut short = fetch(
        &format!("{core}/state/consensus-manager"),
        serde_json::json!({"network": "simulator"}),
    )
    .await;
    for k in ["completed", "missed"] {
        short["current_proposal_statistic"]["value"][k] = serde_json::json!([]);
    }
    let url = canned_server(Canned::ByPath(vec![
        ("/state/consensus-manager", short.to_string()),
        ("/state/validator", validator.to_string()),
    ]))
    .await;
    let text = n
        .config_text("2s", "", "")
        .replace(&n.node("validator-1").core_api_url, &format!("{url}/core"));
    let sources = Sources::new(&n.load(&text)).expect("sources");
    assert!(matches!(
        sources.ledger_clients()[1].reading().await,
        Err(SourceError::Malformed(_))
    ));

    // The gateway's view of the same: no active_in_epoch, so no key in force.
    let mut list = validator_list(&n).await;
    for v in list["validators"]["items"].as_array_mut().expect("items") {
        if v["address"] == ours {
            v.as_object_mut().expect("object").remove("active_in_epoch");
        }
    }
    let sources = canned_gateway(
        &n,
        Canned::ByPath(vec![("/state/validators/list", list.to_string())]),
        "2s",
    )
    .await;
    let r = gateway(&sources).reading().await.expect("a reading");
    assert_eq!(r.key_in_force, None);
    assert_eq!(
        r.key_on_ledger.as_deref(),
        Some(n.info.primary_public_key_hex.as_str())
    );
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_list_is_followed_page_by_page_and_bounded() {
    let n = Net::start(46).await;
    n.step(2).await;
    let ours = n.info.our_validator.as_str();
    let full = validator_list(&n).await;
    // Page 1: everyone but us, with a cursor; page 2: us.
    let (mut first, mut second) = (full.clone(), full.clone());
    first["validators"]["items"]
        .as_array_mut()
        .expect("items")
        .retain(|v| v["address"] != ours);
    first["validators"]["next_cursor"] = "page-2".into();
    second["validators"]["items"]
        .as_array_mut()
        .expect("items")
        .retain(|v| v["address"] == ours);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sources = canned_gateway(
        &n,
        Canned::Pages(
            Arc::new(vec![first.to_string(), second.to_string()]),
            seen.clone(),
        ),
        "2s",
    )
    .await;
    let r = gateway(&sources).reading().await.expect("found on page 2");
    assert_eq!(
        r.key_in_force.as_deref(),
        Some(n.info.primary_public_key_hex.as_str())
    );
    let requests: Vec<serde_json::Value> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|b| serde_json::from_str(b).expect("json request"))
        .collect();
    assert_eq!(requests[1]["cursor"], "page-2", "{requests:?}");
    assert_eq!(
        requests[1]["at_ledger_state"]["state_version"], full["ledger_state"]["state_version"],
        "later pages are read at the first page's ledger state"
    );

    // A gateway that sends cursors forever without us: bounded, Malformed.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sources = canned_gateway(
        &n,
        Canned::Pages(Arc::new(vec![first.to_string()]), seen.clone()),
        "2s",
    )
    .await;
    let m = malformed(gateway(&sources).reading().await);
    assert!(m.contains("pages"), "{m}");
    assert_eq!(seen.lock().expect("lock").len(), 50);
    n.net.shutdown().await;
}
