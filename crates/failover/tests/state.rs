//! The submit driver (`submit::tick`) and the state file against a real radix-sim network (real
//! Radix Engine, real HTTP on loopback), through the real source clients (`sources`):
//! - the submit fails 3 times in a row (sim fault): the same intent still commits;
//! - the epoch window ends before the transaction got in: it is rebuilt with a fresh window
//!   and the new intent commits, the old one never does;
//! - restart: the daemon "dies" after persisting the intent (before and after the submit),
//!   everything is dropped, the in-flight record comes back from the state file and the same
//!   intent commits, while an epoch passed in between (so a naive rebuild would have made a
//!   different transaction): exactly one `update_key` commits.
//!
//! Time is the test's own counter (`now`), so backoffs cost nothing; rounds are stepped by hand.

use std::path::Path;

use radix_api::gateway as gw;
use radix_common::crypto::Ed25519PrivateKey;
use radix_failover::config::Config;
use radix_failover::observe::SourceError;
use radix_failover::sources::{LedgerClient, Sources};
use radix_failover::state::{DaemonState, InFlight, Phase, StateFile};
use radix_failover::submit::{self, Progress, SubmitParams, TickOutcome};
use radix_failover::tx::{self, BuiltTransaction, TxError, UpdateKeyRequest, DEFAULT_VALID_EPOCHS};
use radix_sim::faults::FaultAction;
use serde_json::json;

mod support;
use support::SimNet;

const ROUNDS_PER_EPOCH: u64 = 10;
/// Test clock step per tick: one simulated second.
const TICK_MS: i64 = 1_000;

fn params() -> SubmitParams {
    SubmitParams {
        deadline: std::time::Duration::from_secs(3600),
        backoff_initial: std::time::Duration::from_secs(1),
        backoff_max: std::time::Duration::from_secs(4),
        resubmit_every: std::time::Duration::from_secs(3),
    }
}

struct Net {
    s: SimNet,
    config: Config,
    key: Ed25519PrivateKey,
    http: reqwest::Client,
}

/// The network's sim, servers, faults and info are `SimNet`'s; `Net` adds the daemon's config
/// and notary key for it.
impl std::ops::Deref for Net {
    type Target = SimNet;
    fn deref(&self) -> &SimNet {
        &self.s
    }
}

impl Net {
    async fn start(dir: &Path, seed: u64) -> Net {
        let s = SimNet::start(dir, seed, |cfg| cfg.rounds_per_epoch = ROUNDS_PER_EPOCH).await;
        let config = s.daemon_config(dir);
        let key = config.load_notary_key().expect("key file");
        Net {
            s,
            config,
            key,
            http: reqwest::Client::new(),
        }
    }

    fn sources(&self) -> Sources {
        Sources::new(&self.config).expect("sources")
    }

    fn build(&self, start_epoch: u64) -> Result<BuiltTransaction, TxError> {
        tx::build_update_key(
            &self.config,
            &self.key,
            &UpdateKeyRequest {
                new_key: self.config.backup_public_key,
                start_epoch,
                valid_epochs: DEFAULT_VALID_EPOCHS,
                nonce: None,
            },
        )
    }

    /// The failover transaction a daemon deciding now builds: its window starts in the
    /// current epoch (per the gateway).
    async fn build_now(&self, sources: &Sources) -> BuiltTransaction {
        let (epoch, _) = self.ledger(sources).await;
        self.build(epoch).expect("build")
    }

    /// (epoch, key on ledger is the backup's) per the gateway, through the real client.
    async fn ledger(&self, sources: &Sources) -> (u64, bool) {
        // As the runner does while a failover is in flight: the Gateway then reads the
        // validator list on every poll instead of once per epoch, so the new key shows.
        sources.set_key_change_expected(true);
        let gateway = sources.first_gateway().expect("a gateway");
        let r = gateway.reading().await.expect("gateway reading");
        let backup = self.info.backup_public_key_hex.to_ascii_lowercase();
        (r.epoch, r.key_on_ledger.as_deref() == Some(backup.as_str()))
    }

    async fn gateway_status(&self, intent: &str) -> gw::TransactionIntentStatus {
        let resp = self
            .http
            .post(format!("{}/transaction/status", self.info.gateway_url))
            .json(&json!({ "intent_hash": intent }))
            .send()
            .await
            .expect("gateway answers");
        assert!(resp.status().is_success(), "status: HTTP {}", resp.status());
        let st: gw::TransactionStatusResponse = resp.json().await.expect("status parses");
        st.intent_status
    }

    /// Intents committed on the ledger (success or failure), in commit order.
    fn committed(&self) -> Vec<String> {
        self.sim
            .committed_intents()
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// One `submit::tick` with the ledger facts read just before, as the runner does.
    async fn tick(
        &self,
        endpoints: &[&LedgerClient],
        sources: &Sources,
        inflight: &mut InFlight,
        now: i64,
        persist: &mut dyn FnMut(&InFlight) -> Result<(), radix_failover::state::StateError>,
    ) -> TickOutcome {
        let (epoch, target) = self.ledger(sources).await;
        let rebuild = |start: u64| self.build(start);
        submit::tick(
            endpoints,
            inflight,
            epoch,
            target,
            now,
            &params(),
            &rebuild,
            persist,
        )
        .await
    }
}

impl Net {
    /// One tick that must leave the transaction in flight: its progress.
    async fn following(
        &self,
        endpoints: &[&LedgerClient],
        sources: &Sources,
        inflight: &mut InFlight,
        now: i64,
        persist: &mut dyn FnMut(&InFlight) -> Result<(), radix_failover::state::StateError>,
    ) -> Progress {
        match self.tick(endpoints, sources, inflight, now, persist).await {
            TickOutcome::Following(p) => p,
            other => panic!("unexpected outcome {other:?}"),
        }
    }

    /// Ticks (one `TICK_MS` apart, from `*now`) until the intent commits, at most `max_ticks`
    /// times; `on_following` sees each tick's progress and says whether a round runs before
    /// the next tick. The committed intent.
    // `tick`'s own inputs plus the loop's bound and observer.
    #[allow(clippy::too_many_arguments)]
    async fn until_committed(
        &self,
        endpoints: &[&LedgerClient],
        sources: &Sources,
        inflight: &mut InFlight,
        now: &mut i64,
        max_ticks: i64,
        persist: &mut dyn FnMut(&InFlight) -> Result<(), radix_failover::state::StateError>,
        on_following: &mut dyn FnMut(Progress) -> bool,
    ) -> String {
        let until = *now + max_ticks * TICK_MS;
        loop {
            assert!(*now < until, "no commit within {max_ticks} ticks");
            match self.tick(endpoints, sources, inflight, *now, persist).await {
                TickOutcome::Committed { intent_hash } => return intent_hash,
                TickOutcome::Following(p) => {
                    if on_following(p) {
                        self.step(1).await;
                    }
                }
                other => panic!("unexpected outcome {other:?}"),
            }
            *now += TICK_MS;
        }
    }
}

fn no_persist() -> impl FnMut(&InFlight) -> Result<(), radix_failover::state::StateError> {
    |_: &InFlight| Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_failing_three_times_still_commits_the_same_intent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = Net::start(dir.path(), 21).await;
    let sources = net.sources();
    // The gateway only, so each failed submit is one failed round (the fault counts submits).
    let gateway = sources.first_gateway().expect("gateway");
    let endpoints = [gateway];
    let tx = net.build_now(&sources).await;
    let mut now = 1_000_000;
    let mut inflight = submit::new_inflight(&tx, "test: submit fails 3 times", now);
    net.fault(FaultAction::SubmitFailing { count: 3 }).await;

    let mut failed_rounds = 0;
    let mut accepted_rounds = 0;
    let mut persist = no_persist();
    let committed = net
        .until_committed(
            &endpoints,
            &sources,
            &mut inflight,
            &mut now,
            120,
            &mut persist,
            &mut |p| {
                assert!(p.rebuilt.is_none(), "a transient failure never rebuilds");
                for (_, answer) in &p.submits {
                    match answer {
                        Err(SourceError::Http { status, .. }) if *status >= 500 => {
                            failed_rounds += 1
                        }
                        Ok(radix_failover::observe::SubmitAnswer::Accepted { .. }) => {
                            accepted_rounds += 1
                        }
                        other => panic!("unexpected submit answer {other:?}"),
                    }
                }
                // A round runs once the transaction is in the mempool.
                accepted_rounds > 0
            },
        )
        .await;
    assert_eq!(failed_rounds, 3, "the three injected failures were seen");
    assert!(accepted_rounds >= 1);
    assert_eq!(committed, tx.intent_hash_bech32, "the first intent commits");
    assert_eq!(inflight.attempt, 1);
    assert_eq!(net.committed(), vec![tx.intent_hash_bech32.clone()]);
    let (_, target) = net.ledger(&sources).await;
    assert!(target, "the backup's key is on ledger");
    net.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_window_is_rebuilt_and_only_the_new_intent_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = Net::start(dir.path(), 22).await;
    let sources = net.sources();
    let endpoints = sources.tx_endpoints();
    let first = net.build_now(&sources).await;
    let mut now = 1_000_000;
    let mut inflight = submit::new_inflight(&first, "test: window expires", now);
    // Every submit fails while the window runs out: the transaction never gets in.
    net.fault(FaultAction::SubmitFailing { count: 1_000_000 })
        .await;
    let mut persist = no_persist();
    let p = net
        .following(&endpoints, &sources, &mut inflight, now, &mut persist)
        .await;
    assert!(p.submits.iter().all(|(_, a)| a.is_err()), "{:?}", p.submits);
    // Step until the window [start, start + 2) has ended, ticking as the daemon would.
    loop {
        now += TICK_MS;
        net.step(1).await;
        let (epoch, _) = net.ledger(&sources).await;
        if epoch >= first.end_epoch_exclusive() {
            break;
        }
        let p = net
            .following(&endpoints, &sources, &mut inflight, now, &mut persist)
            .await;
        assert!(p.rebuilt.is_none(), "window still open");
    }
    net.fault(FaultAction::SubmitFailing { count: 0 }).await;
    let (epoch_now, _) = net.ledger(&sources).await;

    now += TICK_MS;
    let p = net
        .following(&endpoints, &sources, &mut inflight, now, &mut persist)
        .await;
    let rebuilt = p.rebuilt.expect("rebuilt");
    assert_eq!(rebuilt.from, first.intent_hash_bech32);
    assert!(
        rebuilt.reason.contains("window ended"),
        "{}",
        rebuilt.reason
    );
    assert!(
        p.submits.iter().any(|(_, a)| matches!(
            a,
            Ok(radix_failover::observe::SubmitAnswer::Accepted { .. })
        )),
        "the new intent is submitted in the same tick: {:?}",
        p.submits
    );
    assert_ne!(inflight.intent_hash, first.intent_hash_bech32);
    assert_eq!(
        inflight.previous_intents,
        vec![first.intent_hash_bech32.clone()]
    );
    assert_eq!(inflight.start_epoch, epoch_now);
    assert_eq!(inflight.attempt, 2);

    let committed = loop {
        assert!(now < 1_000_000 + 200_000, "no commit");
        net.step(1).await;
        now += TICK_MS;
        match net
            .tick(&endpoints, &sources, &mut inflight, now, &mut persist)
            .await
        {
            TickOutcome::Committed { intent_hash } => break intent_hash,
            TickOutcome::Following(p) => assert!(p.rebuilt.is_none()),
            other => panic!("unexpected outcome {other:?}"),
        }
    };
    assert_eq!(committed, inflight.intent_hash);
    assert_eq!(net.committed(), vec![committed.clone()]);
    assert_eq!(
        net.gateway_status(&first.intent_hash_bech32).await,
        gw::TransactionIntentStatus::Unknown,
        "the expired intent never reached the ledger"
    );
    net.net.shutdown().await;
}

/// What the runner does with the state file: the in-flight record lives in `FailingOver`.
fn save_inflight(
    file: &StateFile,
    base: &DaemonState,
    f: &InFlight,
) -> Result<(), radix_failover::state::StateError> {
    let mut s = base.clone();
    s.phase = Phase::FailingOver(f.clone());
    file.save(&s)
}

fn load_inflight(file: &StateFile, net: &Net) -> InFlight {
    let state = file
        .load(&net.info.our_validator, "simulator")
        .expect("state loads")
        .expect("state exists");
    match state.phase {
        Phase::FailingOver(f) => f,
        other => panic!("expected failing_over, got {}", other.name()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_the_same_intent_and_exactly_one_update_key_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = Net::start(dir.path(), 23).await;
    let network = net.config.network.logical_name.to_string();
    assert_eq!(network, "simulator");
    let state_path = dir.path().join("state.json");
    let base = DaemonState::new(&net.info.our_validator, &network, 0);
    let mut now = 1_000_000;

    // Life 1: decide, build, persist, and die before the first submit (SIGKILL right after the
    // state write).
    let original = {
        let file = StateFile::new(state_path.clone());
        let _lock = file.lock().expect("lock");
        let sources = net.sources();
        let tx = net.build_now(&sources).await;
        let inflight = submit::new_inflight(&tx, "test: restart", now);
        save_inflight(&file, &base, &inflight).expect("save");
        tx
    };

    // An epoch passes while the daemon is down (the window [e, e + 2) stays open). A daemon that
    // rebuilt now would make a different intent: build it to check it never appears.
    let start = original.start_epoch_inclusive();
    net.step(ROUNDS_PER_EPOCH).await;
    let other = {
        let sources = net.sources();
        let (epoch, _) = net.ledger(&sources).await;
        assert!(
            epoch > start && epoch < original.end_epoch_exclusive(),
            "epoch {epoch}"
        );
        net.build(epoch).expect("build")
    };
    assert_ne!(other.intent_hash_bech32, original.intent_hash_bech32);

    // Life 2: resume from the file, submit once, die right after the submit.
    {
        let file = StateFile::new(state_path.clone());
        let _lock = file.lock().expect("the first life's lock is gone");
        let mut inflight = load_inflight(&file, &net);
        assert_eq!(inflight.intent_hash, original.intent_hash_bech32);
        assert!(!inflight.submitted);
        let sources = net.sources();
        let endpoints = sources.tx_endpoints();
        let mut persist = |f: &InFlight| save_inflight(&file, &base, f);
        now += TICK_MS;
        let p = net
            .following(&endpoints, &sources, &mut inflight, now, &mut persist)
            .await;
        assert!(
            p.rebuilt.is_none(),
            "resume, never rebuild: {:?}",
            p.rebuilt
        );
        assert!(p.persist_errors.is_empty(), "{:?}", p.persist_errors);
        assert!(!p.submits.is_empty());
    }
    // The state file says submitted; the transaction sits in the mempool.
    let file = StateFile::new(state_path.clone());
    let saved = load_inflight(&file, &net);
    assert!(saved.submitted);
    assert_eq!(saved.intent_hash, original.intent_hash_bech32);
    assert_eq!(
        net.gateway_status(&original.intent_hash_bech32).await,
        gw::TransactionIntentStatus::Pending
    );
    net.step(1).await;

    // Life 3: resume again; the transaction committed meanwhile.
    let _lock = file.lock().expect("lock");
    let mut inflight = load_inflight(&file, &net);
    let sources = net.sources();
    let endpoints = sources.tx_endpoints();
    let mut persist = |f: &InFlight| save_inflight(&file, &base, f);
    now += TICK_MS;
    match net
        .tick(&endpoints, &sources, &mut inflight, now, &mut persist)
        .await
    {
        TickOutcome::Committed { intent_hash } => {
            assert_eq!(intent_hash, original.intent_hash_bech32)
        }
        other => panic!("expected Committed, got {other:?}"),
    }
    assert_eq!(
        net.gateway_status(&original.intent_hash_bech32).await,
        gw::TransactionIntentStatus::CommittedSuccess
    );
    assert_eq!(
        net.gateway_status(&other.intent_hash_bech32).await,
        gw::TransactionIntentStatus::Unknown,
        "no second, different transaction"
    );
    assert_eq!(net.committed(), vec![original.intent_hash_bech32.clone()]);
    net.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_watcher_finds_the_key_rotated_and_submits_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = Net::start(dir.path(), 24).await;
    let sources = net.sources();
    let endpoints = sources.tx_endpoints();
    let mut now = 1_000_000;
    // Watcher 1 fails over and commits.
    let tx = net.build_now(&sources).await;
    let mut first = submit::new_inflight(&tx, "watcher 1", now);
    let mut persist = no_persist();
    let done = net
        .until_committed(
            &endpoints,
            &sources,
            &mut first,
            &mut now,
            60,
            &mut persist,
            &mut |_| true,
        )
        .await;
    // Watcher 2 decided an epoch later (a different intent), and checks the ledger first.
    net.step(ROUNDS_PER_EPOCH).await;
    let (later, target) = net.ledger(&sources).await;
    assert!(target);
    let tx2 = net.build(later).expect("build");
    assert_ne!(tx2.intent_hash_bech32, done);
    let mut second = submit::new_inflight(&tx2, "watcher 2", now);
    match net
        .tick(&endpoints, &sources, &mut second, now, &mut persist)
        .await
    {
        TickOutcome::AlreadyDone => {}
        other => panic!("expected AlreadyDone, got {other:?}"),
    }
    assert!(!second.submitted);
    assert_eq!(
        net.gateway_status(&tx2.intent_hash_bech32).await,
        gw::TransactionIntentStatus::Unknown
    );
    assert_eq!(net.committed(), vec![done]);
    net.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_state_writes_fail_but_the_failover_still_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = Net::start(dir.path(), 25).await;
    let sources = net.sources();
    let endpoints = sources.tx_endpoints();
    let tx = net.build_now(&sources).await;
    let mut now = 1_000_000;
    let mut inflight = submit::new_inflight(&tx, "test: disk full", now);
    // Every save fails with ENOSPC, as on a full disk (the temporary file is /dev/full).
    let state_path = dir.path().join("state.json");
    let file = StateFile::with_tmp_path(state_path.clone(), "/dev/full".into());
    let base = DaemonState::new(&net.info.our_validator, "simulator", 0);
    let mut persist = |f: &InFlight| save_inflight(&file, &base, f);
    let mut persist_errors = Vec::new();
    let committed = net
        .until_committed(
            &endpoints,
            &sources,
            &mut inflight,
            &mut now,
            60,
            &mut persist,
            &mut |p| {
                persist_errors.extend(p.persist_errors.into_iter().map(|e| e.to_string()));
                true
            },
        )
        .await;
    assert_eq!(committed, tx.intent_hash_bech32);
    assert!(!persist_errors.is_empty(), "the failed writes are reported");
    assert!(
        persist_errors.iter().all(|e| e.contains("free space")),
        "{persist_errors:?}"
    );
    assert!(!state_path.exists(), "nothing half-written appeared");
    assert_eq!(net.committed(), vec![committed]);
    net.net.shutdown().await;
}
