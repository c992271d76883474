//! The watch loop: observe, decide, act. `radix-failover run`.
//!
//! Each poll: the sources are read (`sources`), the pure policy assesses the observation
//! (`policy`), and the loop acts on the decision according to the durable phase
//! (`state`): in `Watching` a `FailOver` decision builds the transaction, records it in the
//! state file *before* anything is sent, and starts following it (`submit`); in `FailingOver`
//! each poll advances the submission one step; after the commit the loop confirms the key on
//! ledger, then, after the next epoch change, that the backup validates and our proposals are
//! made again.
//!
//! What keeps it safe:
//! - fail closed: a failed pre-flight check or a backup that is not ready blocks an automatic
//!   failover (the policy returns `Blocked`), the loop keeps watching and says why;
//! - one transaction: the intent in flight is persisted before it is submitted, a restart
//!   resumes it, and a new intent is built only when the old one can never commit (`submit`);
//! - several watchers: the intent is deterministic for an epoch, and the ledger key is checked
//!   before each submission;
//! - never two failovers at once, and never a switch to a node that is not ready: once failed
//!   over, a re-armed pair (`policy.rearm`, `runner/rearm.rs`) watches the node that validates
//!   and fails over to the other one only once it passes the same readiness gate, at most
//!   once per `policy.flap_limit_epochs`; with `rearm = false` the loop only watches and warns;
//! - shutdown (SIGTERM/SIGINT) is only taken between polls, so a state write is never cut.
//! - a maintenance pause (`maintenance.rs`) holds an automatic failover, never a manual one;
//! - no racing with an operator: control-socket requests (`control.rs`) are answered between
//!   polls, and a manual switch is refused while an intent is in flight.
//!
//! The loop takes its clock and its shutdown signal as parameters, so tests can drive it.

use std::future::Future;
use std::time::Duration;

use radix_common::crypto::Ed25519PrivateKey;
use tracing::{error, info, warn};

use crate::alerts::heartbeat::Heartbeat;
use crate::alerts::{AlertEvent, Alerter};
use crate::config::Config;
use crate::control::{Pending, Request, Response};
use crate::maintenance::{self, PauseGate};
use crate::metrics::Metrics;
use crate::observe::Observation;
use crate::policy::{Assessment, Decision, Gates, KeyOwner, Policy, PolicyKeys};
use crate::preflight::{self, Aim, PreflightReport};
use crate::preflight_recheck::{self, RecheckOutcome};
use crate::sources::Sources;
use crate::state::{DaemonState, InFlight, Phase, StateFile};
use crate::submit::{self, SubmitParams, TickOutcome};
use crate::tx::{build_update_key, BuiltTransaction, UpdateKeyRequest, DEFAULT_VALID_EPOCHS};

mod hooks;
mod rearm;
mod tripwire;

/// Re-run a failed pre-flight this often (in polls, at least): often enough that a fixed
/// problem unblocks failover within ~30 s on mainnet, rarely enough not to load the sources.
const PREFLIGHT_RETRY_POLLS: u32 = 6;
/// Epochs after a believed commit by which the trusted sources must show the backup's key on
/// ledger. The key is on ledger from the commit's own state version, so one epoch is already
/// generous for lagging sources; two rules out an epoch change racing the poll. Past it, the
/// commit was a lie or a mistake, and waiting longer would leave the validator unprotected.
const COMMIT_CONFIRM_EPOCHS: u64 = 2;

/// The watcher's wall clock, unix milliseconds. A trait so tests can drive time.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Everything except submitting: the transaction that would be sent is logged.
    pub dry_run: bool,
    /// Stop after this many polls (tests, `status`); `None`: until shutdown.
    pub max_polls: Option<u64>,
}

/// How the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Shutdown,
    PollLimit,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    State(#[from] crate::state::StateError),
    #[error("{0}")]
    Sources(String),
    #[error("cannot build the failover transaction: {0}")]
    Tx(#[from] crate::tx::TxError),
}

pub struct Runner<C: Clock> {
    config: Config,
    key: Ed25519PrivateKey,
    sources: Sources,
    policy: Policy,
    state_file: StateFile,
    state: DaemonState,
    clock: C,
    opts: RunOptions,
    submit_params: SubmitParams,
    preflight: Option<PreflightReport>,
    polls_since_preflight: u32,
    /// The epoch the pre-flight (or its re-check) last ran in.
    preflight_epoch: Option<u64>,
    dry_run_logged: bool,
    /// The state file could not be written at the last attempt (alerted once per episode).
    save_failing: bool,
    /// "Waiting for the backup's first proposal" was logged (once per failover).
    said_waiting_for_proposal: bool,
    /// "Confirmed on ledger" was logged (once per failover).
    said_key_confirmed: bool,
    /// The stored intent in flight no longer matches the config (what changed), checked at
    /// load; settled on the first poll that knows the epoch, before anything is sent.
    resume_mismatch: Option<String>,
    /// Polls so far.
    polls: u64,
    alerter: Alerter,
    /// `alerts.heartbeat`: pinged from the loop while it is healthy (alerts/heartbeat.rs).
    heartbeat: Option<Heartbeat>,
    metrics: Metrics,
    /// Requests from the control socket (`radix-failover pause`, ...), answered between polls.
    commands: Option<tokio::sync::mpsc::Receiver<Pending>>,
    /// What the last poll saw: the trusted epoch and the keys (for commands between polls).
    last_epoch: Option<u64>,
    last_key_on_ledger: KeyOwner,
    last_key_in_force: KeyOwner,
    last_decision: String,
    /// The standby's readiness at the last poll (`None` before the first).
    last_standby_ready: Option<Result<(), String>>,
    /// The last poll's readiness of the node in the `primary` slot as a standby (rule 10:
    /// after a failover, the pair is re-armed once it holds).
    last_old_active_ready: Option<Result<(), String>>,
    /// "Failover held by the pause" was logged (once per pause).
    said_paused_hold: bool,
    /// The epoch the authority tripwire last read the owner badge in (rule 11).
    tripwire_badge_epoch: Option<u64>,
    /// The access controller as last read, and in which epoch: the pre-flight re-check and
    /// the authority tripwire both need it once per epoch, and share one gateway read.
    controller_read: Option<(u64, crate::access_controller::ControllerView)>,
    /// A `pre_switch` fence failed: the automatic switch is tried again from then (rule 12).
    fence_retry_at_ms: Option<i64>,
    /// "The tripwire sees no source with the validator's settings" was logged (once).
    said_tripwire_blind: bool,
}

/// What no longer matches in the stored intent in flight, if any (see
/// [`crate::tx::resumed_intent_mismatches`]).
fn resumed_intent_problem(
    state: &DaemonState,
    config: &Config,
    key: &Ed25519PrivateKey,
) -> Option<String> {
    let inflight = match &state.phase {
        Phase::FailingOver(f) => f,
        _ => return None,
    };
    let validator = config.validator_bech32();
    let target = hex_key(&config.backup_public_key);
    let notary = key.public_key();
    let diffs = crate::tx::resumed_intent_mismatches(
        &inflight.notarized_hex,
        &crate::tx::ResumeExpectation {
            network: &config.network,
            validator_address: &validator,
            target_key_hex: &target,
            notary: &notary,
        },
    );
    (!diffs.is_empty()).then(|| diffs.join("; "))
}

fn hex_key(k: &radix_common::crypto::Secp256k1PublicKey) -> String {
    hex::encode(k.0)
}

impl<C: Clock> Runner<C> {
    /// Loads the state (a corrupt or foreign state file is an error: no action is taken blind),
    /// takes the state file's lock and builds the sources. `key` is the badge account's key.
    pub fn new(
        config: Config,
        key: Ed25519PrivateKey,
        clock: C,
        opts: RunOptions,
    ) -> Result<(Self, crate::state::StateLock), RunError> {
        config.require_watch(true)?;
        let state_path = config
            .daemon
            .state_file
            .clone()
            .ok_or_else(|| RunError::Sources("daemon.state_file is not set".into()))?;
        let state_file = StateFile::new(state_path);
        let lock = state_file.lock()?;
        let validator = config.validator_bech32();
        let network = config.network.logical_name.to_string();
        let now = clock.now_ms();
        let state = match state_file.load(&validator, &network)? {
            Some(s) => s,
            None => DaemonState::new(&validator, &network, now),
        };
        let config = rearm::oriented(config, state.active)?;
        let resume_mismatch = resumed_intent_problem(&state, &config, &key);
        let sources = Sources::new(&config).map_err(|e| RunError::Sources(e.to_string()))?;
        let policy = policy_for(&config);
        let alerter = config
            .alerts
            .clone()
            .map(|c| {
                Alerter::new(c, &config.validator_bech32(), &network)
                    .with_dedupe_file(crate::alerts::dedupe_file_beside(state_file.path()))
            })
            .unwrap_or_else(Alerter::disabled);
        let heartbeat = match config.alerts.as_ref().and_then(|a| a.heartbeat.clone()) {
            None => None,
            Some(h) => Some(Heartbeat::new(h).map_err(|e| {
                RunError::Sources(format!("cannot set up the heartbeat's HTTP client: {e}"))
            })?),
        };
        let submit_params =
            SubmitParams::scaled(config.daemon.submit_deadline, config.policy.poll_interval);
        Ok((
            Runner {
                config,
                key,
                sources,
                policy,
                state_file,
                state,
                clock,
                opts,
                submit_params,
                preflight: None,
                polls_since_preflight: 0,
                preflight_epoch: None,
                dry_run_logged: false,
                save_failing: false,
                said_waiting_for_proposal: false,
                said_key_confirmed: false,
                resume_mismatch,
                polls: 0,
                alerter,
                heartbeat,
                metrics: Metrics::new(),
                commands: None,
                last_epoch: None,
                last_key_on_ledger: KeyOwner::Unknown,
                last_key_in_force: KeyOwner::Unknown,
                last_decision: String::new(),
                last_standby_ready: None,
                last_old_active_ready: None,
                said_paused_hold: false,
                tripwire_badge_epoch: None,
                controller_read: None,
                fence_retry_at_ms: None,
                said_tripwire_blind: false,
            },
            lock,
        ))
    }

    pub fn phase(&self) -> &Phase {
        &self.state.phase
    }

    /// Takes the control socket's requests: each is answered between two polls.
    pub fn attach_control(&mut self, commands: tokio::sync::mpsc::Receiver<Pending>) {
        self.commands = Some(commands);
    }

    /// The metrics this runner updates (for the `/metrics` server).
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// The alerter (for the tasks beside the loop, such as the metrics server).
    pub fn alerter(&self) -> Alerter {
        self.alerter.clone()
    }

    fn alert(&self, event: AlertEvent) {
        self.alerter.send(event, self.clock.now_ms());
    }

    /// Runs until `shutdown` resolves (or the poll limit). Shutdown is only taken between
    /// polls: a poll, its decision and its state write always complete.
    pub async fn run(&mut self, shutdown: impl Future<Output = ()>) -> Result<RunEnd, RunError> {
        self.log_start();
        let alerts = self.alerter.start();
        if self.alerter.is_enabled() {
            info!(
                "alerts to: {} (as watcher \"{}\")",
                self.alerter.describe_channels().join(", "),
                self.alerter.watcher().unwrap_or_default()
            );
        }
        if let Some(h) = &self.heartbeat {
            info!("heartbeat: {} while the loop is healthy", h.describe());
        }
        self.alert(AlertEvent::Started {
            version: env!("CARGO_PKG_VERSION").into(),
            dry_run: self.opts.dry_run,
        });
        tokio::pin!(shutdown);
        let mut interval = tokio::time::interval(self.config.policy.poll_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // systemd's watchdog: pinged from this loop at half its interval, so a hung poll
        // (or a hung loop) stops the pings and systemd restarts the daemon.
        let watchdog = crate::systemd::watchdog_interval();
        let mut watchdog_tick =
            tokio::time::interval(watchdog.map(|w| w / 2).unwrap_or(Duration::from_secs(3600)));
        let mut polls = 0u64;
        let mut commands = self.commands.take();
        self.metrics
            .set_paused(self.state.pause.as_ref().map(|p| p.until_ms));
        // The phase from the state file, before the first poll: a scrape during that poll
        // (its pre-flight, its tripwire read) shows it, not all phases at 0.
        self.metrics.set_phase(&self.state.phase);
        let end = loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => {
                    info!("shutting down (signal); phase {}", self.state.phase.name());
                    break RunEnd::Shutdown;
                }
                _ = watchdog_tick.tick(), if watchdog.is_some() => {
                    crate::systemd::notify_watchdog();
                    continue;
                }
                Some(p) = next_command(&mut commands) => {
                    let response = self.answer(p.request).await;
                    let _ = p.reply.send(response);
                    continue;
                }
                _ = interval.tick() => {}
            }
            self.poll_once().await?;
            polls += 1;
            if polls == 1 {
                // Pre-flight has run (if any source gave the epoch): the service is up.
                crate::systemd::notify_ready();
            }
            crate::systemd::notify_watchdog();
            if self.opts.max_polls.is_some_and(|m| polls >= m) {
                break RunEnd::PollLimit;
            }
        };
        crate::systemd::notify_stopping();
        // Give queued alerts a moment to go out; a slow channel never holds the exit long.
        alerts.shutdown(Duration::from_secs(5)).await;
        Ok(end)
    }

    fn log_start(&self) {
        let account = crate::keys::account_address(
            &radix_common::crypto::PublicKey::Ed25519(self.key.public_key()),
            &self.config.network,
        );
        info!(
            "radix-failover {} starting: network {}, validator {}, badge account {}, {} key {} (active), {} key {} (standby), policy {}, poll every {:?}{}",
            env!("CARGO_PKG_VERSION"),
            self.config.network.logical_name,
            self.config.validator_bech32(),
            account,
            self.active_name(),
            self.config.primary_public_key.map(|k| hex_key(&k)).unwrap_or_default(),
            self.standby_name(),
            hex_key(&self.config.backup_public_key),
            self.config.policy.name.as_str(),
            self.config.policy.poll_interval,
            if self.opts.dry_run { " (DRY RUN: nothing will be submitted)" } else { "" }
        );
        for s in &self.config.sources {
            info!("source {} ({}) {}", s.name, s.kind.as_str(), redact(&s.url));
        }
        for w in self.config.warnings() {
            warn!("{w}");
        }
        if let Some(p) = &self.state.pause {
            warn!(
                "maintenance pause from the state file: no automatic switch {}",
                p.describe(self.clock.now_ms())
            );
        }
        info!(
            "state file {} (phase {})",
            self.state_file.path().display(),
            self.state.phase.name()
        );
    }

    fn build(
        &self,
        new_key: radix_common::crypto::Secp256k1PublicKey,
        start_epoch: u64,
    ) -> Result<BuiltTransaction, crate::tx::TxError> {
        build_update_key(
            &self.config,
            &self.key,
            &UpdateKeyRequest {
                new_key,
                start_epoch,
                valid_epochs: DEFAULT_VALID_EPOCHS,
                nonce: None,
            },
        )
    }

    async fn run_preflight(&mut self, epoch: u64) {
        let tx = match self.build(self.config.backup_public_key, epoch) {
            Ok(t) => t,
            Err(e) => {
                error!("pre-flight: cannot build the failover transaction: {e}");
                return;
            }
        };
        if self.preflight.is_none() {
            info!(
                "failover transaction for review (account {}):\n{}",
                tx.account_address,
                tx.manifest.trim_end()
            );
        }
        let report = preflight::run(
            &self.config,
            &self.sources,
            &tx.account_address,
            &tx,
            Aim::Backup,
        )
        .await;
        let was_ok = self.preflight.as_ref().map(|r| r.ok());
        for c in &report.checks {
            if c.pass {
                info!("pre-flight {}: pass: {}", c.name, c.detail);
            } else {
                warn!("pre-flight {}: FAIL: {}", c.name, c.detail);
            }
        }
        self.metrics.set_preflight(Some(report.ok()));
        match (was_ok, report.ok()) {
            (_, true) if was_ok != Some(true) => info!("pre-flight passed: automatic failover armed"),
            (_, false) if was_ok != Some(false) => warn!("pre-flight FAILED: automatic failover is blocked until every check passes (still watching)"),
            _ => {}
        }
        self.preflight = Some(report);
        self.polls_since_preflight = 0;
        self.preflight_epoch = Some(epoch);
    }

    /// Once per epoch, a passed pre-flight's checks of what can change (the validator, the
    /// account: `preflight_recheck.rs`).
    async fn recheck_preflight(&mut self, epoch: u64) {
        self.preflight_epoch = Some(epoch);
        let Some(passed) = self.preflight.clone() else {
            return;
        };
        let account = match self.build(self.config.backup_public_key, epoch) {
            Ok(t) => t.account_address,
            Err(e) => {
                error!("pre-flight re-check: cannot build the failover transaction: {e}");
                return;
            }
        };
        let known = self.controller_read_in(epoch).cloned();
        let (checks, read) =
            preflight::recheck(&self.config, &self.sources, &account, known.as_ref()).await;
        if let Some(v) = read {
            self.controller_read = Some((epoch, v));
        }
        match preflight_recheck::recheck_outcome(&passed, checks) {
            RecheckOutcome::StillPasses => {
                info!("pre-flight re-check (epoch {epoch}): the validator and the account still pass")
            }
            RecheckOutcome::Unread(why) => warn!(
                "pre-flight re-check (epoch {epoch}) could not read its sources, the last pass stands: {}",
                why.join("; ")
            ),
            RecheckOutcome::Broken(report) => {
                for c in report.failures() {
                    warn!("pre-flight re-check {}: FAIL: {}", c.name, c.detail);
                }
                warn!("pre-flight re-check FAILED: something changed on ledger since the pre-flight passed; automatic failover is blocked until every check passes again (still watching)");
                self.metrics.set_preflight(Some(false));
                self.preflight = Some(report);
                self.polls_since_preflight = 0;
            }
        }
    }

    fn gates(&self, epoch: Option<u64>) -> Gates {
        let switch_limit = self.switch_limit(epoch);
        match &self.preflight {
            None => Gates {
                preflight_ok: false,
                preflight_problem: Some("pre-flight has not run yet".into()),
                switch_limit,
            },
            Some(r) if r.ok() => Gates {
                preflight_ok: true,
                preflight_problem: None,
                switch_limit,
            },
            Some(r) => Gates {
                preflight_ok: false,
                preflight_problem: Some(
                    r.failures()
                        .map(|c| format!("{}: {}", c.name, c.detail))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                switch_limit,
            },
        }
    }

    /// One poll: observe, assess, log, act.
    pub async fn poll_once(&mut self) -> Result<(), RunError> {
        self.polls += 1;
        self.sources
            .set_key_change_expected(key_change_expected(&self.state.phase));
        let mut obs: Observation = self.sources.poll().await;
        obs.at_ms = self.clock.now_ms();
        let epoch = agreed_epoch(&obs);

        // Pre-flight on the first poll that knows the epoch, then again while it fails. A
        // passed pre-flight is not re-run whole: the policy checks what can change within
        // minutes on every poll (the backup's readiness, a quorum of trusted sources), and a
        // source going down later must not disarm a failover the quorum still allows. What
        // can change on ledger (the badge, the XRD, the validator) is re-checked once per
        // epoch, and only a definite change disarms (preflight_recheck.rs).
        self.polls_since_preflight += 1;
        let due = match &self.preflight {
            None => true,
            Some(r) if !r.ok() => self.polls_since_preflight >= PREFLIGHT_RETRY_POLLS,
            Some(_) => false,
        };
        let watching = matches!(self.state.phase, Phase::Watching);
        if due && watching {
            if let Some(e) = epoch {
                self.run_preflight(e).await;
            }
        } else if watching && self.preflight.as_ref().is_some_and(PreflightReport::ok) {
            if let Some(e) =
                epoch.filter(|e| preflight_recheck::recheck_due(self.preflight_epoch, *e))
            {
                self.recheck_preflight(e).await;
            }
        }

        let a = self.policy.observe(&obs, &self.gates(epoch));
        self.last_epoch = epoch.or(self.last_epoch);
        self.last_key_on_ledger = a.view.key_on_ledger.clone();
        self.last_key_in_force = a.view.key_in_force.clone();
        self.last_decision = a.decision.label().to_string();
        self.last_standby_ready = Some(a.view.backup_ready.clone());
        self.last_old_active_ready = Some(a.view.old_active_ready.clone());
        self.end_pause_when_due();
        self.watch_cancelled(&a, epoch);
        self.log_poll(&a);
        self.metrics.observe(&obs);
        for (name, t) in self.sources.traffic() {
            self.metrics
                .set_traffic(&name, t.requests(), t.bytes(), t.throttled());
        }
        self.metrics
            .set_epoch(a.view.epoch, a.view.epoch_made, a.view.epoch_missed);
        self.metrics.record_decision(a.decision.label(), obs.at_ms);
        self.alert_conditions(&a);
        let result = self.act(&a, epoch).await;
        // After the decision and its action: the tripwire's gateway read never delays them.
        self.check_authority(&obs, epoch).await;
        if self.save_failing {
            self.save_state();
        }
        self.metrics.set_phase(&self.state.phase);
        self.set_protection_metrics();
        self.metrics.set_alert_stats(self.alerter.stats());
        if let Some(h) = &mut self.heartbeat {
            h.beat(self.clock.now_ms(), a.view.trusted_sources);
        }
        crate::systemd::notify_status(&format!(
            "phase {} | {}",
            self.state.phase.name(),
            a.decision.label()
        ));
        result
    }

    /// Alerts for conditions that hold now; the alerter dedupes repeats and sends a
    /// recovery only for a condition it reported. The policy's view gives the conditions
    /// (sources, primary, backup readiness, misses approaching, pre-flight, a blocked
    /// failover); the lifecycle events are sent where the loop acts.
    fn alert_conditions(&self, a: &Assessment) {
        let watching = matches!(self.state.phase, Phase::Watching);
        for e in crate::alerts::from_assessment(a) {
            // "Blocked" is about a failover not yet started; once one is under way (or done)
            // it would be a false alarm.
            if !watching && matches!(e, AlertEvent::FailoverBlocked { .. }) {
                continue;
            }
            self.alert(e);
        }
        if matches!(self.state.phase, Phase::FailedOver { .. }) {
            match &a.view.backup_ready {
                Err(why) => self.alert(AlertEvent::BackupUnhealthy {
                    node: self.standby_name().into(),
                    why: why.clone(),
                }),
                Ok(()) => self.alert(AlertEvent::BackupRecovered),
            }
        }
    }

    fn log_poll(&self, a: &Assessment) {
        let paused = match maintenance::pause_gate(self.state.pause.as_ref(), self.clock.now_ms()) {
            PauseGate::Paused(_) => " | PAUSED",
            _ => "",
        };
        info!(
            "{} | phase {}{paused}",
            a.view.summary_line(),
            self.state.phase.name()
        );
        for e in &a.events {
            use crate::policy::EventKind::*;
            match e.kind {
                SourceRecovered | PrimaryRecovered | BackupReady | EpochChanged
                | ProblemCleared => {
                    info!("{}", e.message())
                }
                SourceDegraded | PrimaryUnhealthy | BackupNotReady | MissesApproaching
                | KeyChanged | DecisionChanged | ProblemRaised => warn!("{}", e.message()),
            }
        }
    }

    async fn act(&mut self, a: &Assessment, epoch: Option<u64>) -> Result<(), RunError> {
        if self.resume_mismatch.is_some() {
            let Some(e) = epoch else {
                warn!("the stored intent must be checked against the current epoch before anything is sent; waiting for a trusted epoch");
                return Ok(());
            };
            self.settle_resume_mismatch(e)?;
        }
        let now = self.clock.now_ms();
        match self.state.phase.clone() {
            Phase::Watching => match &a.decision {
                Decision::FailOver { reason } => {
                    // The maintenance pause gates the automatic failover only (rule 9).
                    if let PauseGate::Paused(p) =
                        maintenance::pause_gate(self.state.pause.as_ref(), now)
                    {
                        if !self.said_paused_hold {
                            let message = format!(
                                "failover would be decided ({reason}), but automatic failover is PAUSED for maintenance {}. Nothing is submitted; end the pause with `radix-failover resume`, or fail over by hand (radix-failover failover)",
                                p.describe(now)
                            );
                            warn!("{message}");
                            self.alert(AlertEvent::Problem {
                                key: "failover-held-by-pause".into(),
                                message,
                            });
                            self.said_paused_hold = true;
                        }
                        return Ok(());
                    }
                    let Some(epoch) = epoch else {
                        warn!("failover decided ({reason}) but no trusted source gives the current epoch; waiting");
                        return Ok(());
                    };
                    // An intent built for an earlier start epoch whose window is still open may
                    // sit in a mempool (another watcher's, or ours before a crash that lost the
                    // state file): follow that one rather than build a second transaction.
                    // A failed fence is retried after its pause: nothing is built until then.
                    if self.fence_retry_at_ms.is_some_and(|t| now < t) {
                        return Ok(());
                    }
                    let (tx, adopted) = match self.open_earlier_intent(epoch).await {
                        Some(t) => (t, true),
                        None => (self.build(self.config.backup_public_key, epoch)?, false),
                    };
                    if self.opts.dry_run {
                        if !self.dry_run_logged {
                            warn!(
                                "DRY RUN: failover decided ({reason}); would submit intent {} (epochs {}..{}) to {} source(s):\nmanifest:\n{}\nnotarized transaction hex: {}",
                                tx.intent_hash_bech32,
                                tx.start_epoch_inclusive(),
                                tx.end_epoch_exclusive(),
                                self.sources.tx_endpoints().len(),
                                tx.manifest.trim_end(),
                                tx.notarized_hex()
                            );
                            self.dry_run_logged = true;
                        }
                        return Ok(());
                    }
                    let info = self.switch_info(false, epoch, &tx.intent_hash_bech32, reason);
                    if let Err(blocker) = self.pre_switch(&info).await {
                        warn!("failover needed ({reason}) but BLOCKED: {blocker}");
                        self.alert(AlertEvent::FailoverBlocked {
                            reason: reason.clone(),
                            blocker,
                        });
                        self.fence_retry_at_ms = Some(
                            self.clock.now_ms() + crate::hooks::FENCE_RETRY.as_millis() as i64,
                        );
                        return Ok(());
                    }
                    self.fence_retry_at_ms = None;
                    warn!(
                        "FAILOVER DECIDED: {reason}; intent {} (valid epochs {}..{})",
                        tx.intent_hash_bech32,
                        tx.start_epoch_inclusive(),
                        tx.end_epoch_exclusive()
                    );
                    self.alert(AlertEvent::FailoverDecided {
                        reason: reason.clone(),
                    });
                    let mut inflight = submit::new_inflight(&tx, reason, now);
                    if adopted {
                        warn!(
                            "an intent of this failover built for an earlier epoch is already pending ({}, valid epochs {}..{}): following it instead of building a second one",
                            tx.intent_hash_bech32,
                            tx.start_epoch_inclusive(),
                            tx.end_epoch_exclusive()
                        );
                        inflight.submitted = true;
                    }
                    // Persist before the first submit: a crash after this point resumes this
                    // very intent (and the flap limit counts this switch).
                    self.state.last_auto_switch_epoch = Some(epoch);
                    self.set_phase(
                        Phase::FailingOver(inflight),
                        format!("failover decided: {reason}"),
                    );
                    self.follow(a, epoch).await;
                }
                Decision::AlreadyFailedOver => {
                    let since = epoch.unwrap_or(0);
                    warn!("the key on ledger is already the backup's: failed over (no transaction needed)");
                    self.set_phase(
                        Phase::FailedOver {
                            intent_hash: None,
                            since_epoch: since,
                        },
                        "found failed over".into(),
                    );
                }
                Decision::Blocked { reason, blocker } => {
                    warn!("failover needed ({reason}) but BLOCKED: {blocker}");
                }
                _ => {}
            },
            Phase::FailingOver(_) | Phase::FailingBack(_) => {
                if let Some(epoch) = epoch {
                    self.follow(a, epoch).await;
                } else {
                    warn!("transaction in flight, but no trusted source gives the current epoch; waiting");
                }
            }
            Phase::Committed {
                intent_hash,
                commit_epoch,
                ..
            } => {
                if let Some(e) = epoch {
                    let key_elsewhere =
                        matches!(a.view.key_on_ledger, KeyOwner::Primary | KeyOwner::Other(_));
                    if key_elsewhere && e >= commit_epoch.saturating_add(COMMIT_CONFIRM_EPOCHS) {
                        return self
                            .commit_not_on_ledger(a, &intent_hash, commit_epoch, e)
                            .await;
                    }
                }
                if a.view.key_on_ledger != KeyOwner::Backup
                    && a.view.key_in_force != KeyOwner::Backup
                {
                    warn!("committed {intent_hash}, but the trusted sources do not show the {}'s key on ledger yet", self.standby_name());
                } else if !self.said_key_confirmed {
                    info!(
                        "confirmed on ledger: the validator's key is the {}'s; it is in force from epoch {}",
                        self.standby_name(),
                        commit_epoch.saturating_add(1)
                    );
                    self.said_key_confirmed = true;
                }
                let new_epoch = epoch.is_some_and(|e| e > commit_epoch);
                let backup_validating = a.view.backup_validating;
                let made_again = a.view.epoch_made.is_some_and(|m| m > 0);
                if new_epoch
                    && a.view.key_in_force == KeyOwner::Backup
                    && backup_validating
                    && made_again
                {
                    info!(
                        "FAILOVER COMPLETE: the {} validates in epoch {} and our proposals are made again ({} made this epoch)",
                        self.standby_name(),
                        epoch.unwrap_or_default(),
                        a.view.epoch_made.unwrap_or_default()
                    );
                    self.alert(AlertEvent::BackupValidating {
                        node: self.standby_name().into(),
                        epoch: epoch.unwrap_or(commit_epoch.saturating_add(1)),
                    });
                    let info = self.switch_info(
                        false,
                        epoch.unwrap_or(commit_epoch.saturating_add(1)),
                        &intent_hash,
                        "the new node validates",
                    );
                    self.hook_after(crate::hooks::HookKind::OnConfirmed, info);
                    self.state.last_switch = Some(crate::state::Switch {
                        to: self.config.active.other(),
                        epoch: epoch.unwrap_or(commit_epoch.saturating_add(1)),
                        intent_hash: Some(intent_hash.clone()),
                        at_ms: now,
                    });
                    self.set_phase(
                        Phase::FailedOver {
                            intent_hash: Some(intent_hash),
                            since_epoch: epoch.unwrap_or(commit_epoch.saturating_add(1)),
                        },
                        format!("{} validating", self.standby_name()),
                    );
                } else if new_epoch
                    && a.view.key_in_force == KeyOwner::Backup
                    && backup_validating
                    && !self.said_waiting_for_proposal
                {
                    info!("the {0}'s key is in force and the {0} reports VALIDATING_IN_CURRENT_EPOCH; waiting for its first proposal", self.standby_name());
                    self.said_waiting_for_proposal = true;
                }
            }
            Phase::FailedOver { .. } => {
                if a.view.key_on_ledger == KeyOwner::Primary
                    && a.view.key_in_force == KeyOwner::Primary
                {
                    info!(
                        "the {}'s key is back in force (a manual switch back): watching again",
                        self.active_name()
                    );
                    self.alert(AlertEvent::Failback {
                        detail: format!(
                            "the {}'s key is in force again; watching",
                            self.active_name()
                        ),
                    });
                    let info = self.switch_info(
                        true,
                        epoch.unwrap_or_default(),
                        "",
                        "the switch back took effect",
                    );
                    self.hook_after(crate::hooks::HookKind::OnConfirmed, info);
                    self.set_phase(Phase::Watching, "failback seen on ledger".into());
                    self.preflight = None;
                } else if self.rearm_when_due(a, epoch) {
                    // Watching the node that validates now (rule 10).
                } else if let Err(why) = &a.view.backup_ready {
                    self.say_why_not_rearmed(a);
                    // Once per episode (the policy reports the change), not every poll.
                    if a.events
                        .iter()
                        .any(|e| e.kind == crate::policy::EventKind::BackupNotReady)
                    {
                        error!("failed over, and the {} IS NOT HEALTHY: {why}. No automatic switch back to the {}; fix the {}, or switch back by hand once the {1} is healthy (radix-failover failback or switchover)", self.standby_name().to_uppercase(), self.active_name(), self.standby_name());
                    }
                }
            }
            Phase::Halted {
                reason,
                intent_hash,
            } => {
                if a.view.key_on_ledger == KeyOwner::Backup {
                    info!("the backup's key is on ledger (failed over by other means): no longer halted");
                    let since = epoch.unwrap_or(0);
                    self.set_phase(
                        Phase::FailedOver {
                            intent_hash,
                            since_epoch: since,
                        },
                        "backup key on ledger".into(),
                    );
                } else if self.polls % 12 == 1 {
                    // A reminder now and then (about once a minute at the default interval).
                    error!("halted: {reason}. Nothing is submitted until an operator acts: check `radix-failover status`, fix the cause, then fail over by hand (radix-failover failover; this daemon follows the ledger), or stop the daemon, move the state file away and start it again to re-arm it");
                }
            }
        }
        Ok(())
    }

    /// The failover intent built for an earlier start epoch whose window still includes
    /// `epoch`, if any source says it is pending (or committed, or a status this version does
    /// not know: it may be live, and adopting it builds no second intent). Intents are deterministic per
    /// start epoch, so this finds another watcher's transaction, or our own from before a crash
    /// whose state write failed.
    async fn open_earlier_intent(&self, epoch: u64) -> Option<BuiltTransaction> {
        use crate::observe::{TxEndpoint, TxStatus};
        let first = epoch.saturating_sub(DEFAULT_VALID_EPOCHS - 1);
        for start in (first..epoch).rev() {
            let Ok(tx) = self.build(self.config.backup_public_key, start) else {
                continue;
            };
            let endpoints = self.sources.tx_endpoints();
            let answers = futures_util::future::join_all(
                endpoints.iter().map(|e| e.status(&tx.intent_hash_bech32)),
            )
            .await;
            let live = answers.iter().any(|a| {
                matches!(
                    a,
                    Ok(TxStatus::Pending
                        | TxStatus::CommittedSuccess
                        | TxStatus::LikelyRejected { .. }
                        | TxStatus::Other { .. })
                )
            });
            if live {
                return Some(tx);
            }
        }
        None
    }

    /// Advances the submission in flight by one step.
    /// A stored intent that no longer matches the config is never sent: set aside when its
    /// window has ended (it can no longer commit), else the daemon stops with what changed.
    fn settle_resume_mismatch(&mut self, epoch: u64) -> Result<(), RunError> {
        let Some(why) = self.resume_mismatch.take() else {
            return Ok(());
        };
        let Some(inflight) = self.state.phase.inflight().cloned() else {
            return Ok(());
        };
        if epoch >= inflight.end_epoch {
            warn!(
                "SET ASIDE the stored intent {} ({why}): its window ended at epoch {} (now {epoch}), so it can never commit; it will not be sent. Watching again with the current config",
                inflight.intent_hash, inflight.end_epoch
            );
            self.set_phase(Phase::Watching, "stored intent set aside".into());
            return Ok(());
        }
        Err(RunError::Sources(format!(
            "the state file {} holds intent {} in flight, and it no longer matches the config: {why}. It may still commit until epoch {} (now {epoch}). Fix: put the old config back until then, or wait until epoch {} and start again (the intent is then set aside, never sent)",
            self.state_file.path().display(),
            inflight.intent_hash,
            inflight.end_epoch,
            inflight.end_epoch
        )))
    }

    /// The `committed` phase's exit: the trusted sources still show another key on ledger
    /// [`COMMIT_CONFIRM_EPOCHS`] epochs after the commit. Alert, and fail over again with a
    /// fresh intent (re-sending `update_key(backup)` is harmless if it did commit after all).
    async fn commit_not_on_ledger(
        &mut self,
        a: &Assessment,
        intent_hash: &str,
        commit_epoch: u64,
        epoch: u64,
    ) -> Result<(), RunError> {
        let message = format!(
            "intent {intent_hash} was reported committed in epoch {commit_epoch}, but in epoch {epoch} the trusted sources still show the {} key on ledger, not the backup's: the commit is not on ledger; failing over again with a fresh intent",
            match &a.view.key_on_ledger {
                KeyOwner::Primary => "primary's".to_string(),
                other => format!("{other:?}"),
            }
        );
        error!("{message}");
        self.alert(AlertEvent::Problem {
            key: "commit-not-on-ledger".into(),
            message: message.clone(),
        });
        let tx = self.build(self.config.backup_public_key, epoch)?;
        let inflight = submit::new_inflight(&tx, &message, self.clock.now_ms());
        self.said_key_confirmed = false;
        self.set_phase(Phase::FailingOver(inflight), "commit not on ledger".into());
        self.follow(a, epoch).await;
        Ok(())
    }

    async fn follow(&mut self, a: &Assessment, epoch: u64) {
        let mut inflight: InFlight = match &self.state.phase {
            Phase::FailingOver(f) | Phase::FailingBack(f) => f.clone(),
            _ => return,
        };
        let back = matches!(self.state.phase, Phase::FailingBack(_));
        let target = if back {
            a.view.key_on_ledger == KeyOwner::Primary
        } else {
            a.view.key_on_ledger == KeyOwner::Backup
        };
        let new_key = if back {
            self.config
                .primary_public_key
                .unwrap_or(self.config.backup_public_key)
        } else {
            self.config.backup_public_key
        };
        let now = self.clock.now_ms();
        let endpoints = self.sources.tx_endpoints();
        // Readiness is checked again before a rebuild: a backup that died mid-failover gets no
        // new intent aimed at it (the one in flight may still commit; it is followed).
        let backup_problem = if back {
            None
        } else {
            a.view.backup_ready.clone().err()
        };
        let rebuild = |start: u64| -> Result<BuiltTransaction, String> {
            if let Some(e) = &backup_problem {
                return Err(format!(
                    "the backup is not ready ({e}): no new intent is aimed at it"
                ));
            }
            self.build(new_key, start).map_err(|e| e.to_string())
        };
        let state_file = &self.state_file;
        let mut snapshot = self.state.clone();
        let mut persist = |f: &InFlight| {
            snapshot.phase = if back {
                Phase::FailingBack(f.clone())
            } else {
                Phase::FailingOver(f.clone())
            };
            snapshot.updated_at_ms = now;
            state_file.save(&snapshot)
        };
        let outcome = submit::tick(
            &endpoints,
            &mut inflight,
            epoch,
            target,
            now,
            &self.submit_params,
            &rebuild,
            &mut persist,
        )
        .await;
        drop(endpoints);
        let in_flight_phase = if back {
            Phase::FailingBack(inflight.clone())
        } else {
            Phase::FailingOver(inflight.clone())
        };
        if inflight.submitted {
            self.alert(AlertEvent::Submitted {
                intent: inflight.intent_hash.clone(),
            });
        }
        match outcome {
            TickOutcome::Committed { intent_hash } if back => {
                self.failback_done(&intent_hash, epoch, "committed");
            }
            TickOutcome::AlreadyDone if back => {
                let intent = inflight.intent_hash.clone();
                self.failback_done(&intent, epoch, "the primary's key is already on ledger");
            }
            TickOutcome::Committed { intent_hash } => {
                self.alert(AlertEvent::Committed {
                    intent: intent_hash.clone(),
                    epoch,
                });
                let info = self.switch_info(false, epoch, &intent_hash, &inflight.reason);
                self.hook_after(crate::hooks::HookKind::PostSwitch, info);
                info!("COMMITTED: {intent_hash} (CommittedSuccess) in epoch {epoch}; the new key applies from epoch {}", epoch.saturating_add(1));
                self.set_phase(
                    Phase::Committed {
                        intent_hash,
                        commit_epoch: epoch,
                        committed_at_ms: now,
                    },
                    "transaction committed".into(),
                );
            }
            TickOutcome::AlreadyDone => {
                info!("the key on ledger is already the target key (another watcher or an operator did it); no transaction needed");
                self.set_phase(
                    Phase::Committed {
                        intent_hash: inflight.intent_hash.clone(),
                        commit_epoch: epoch,
                        committed_at_ms: now,
                    },
                    "target key already on ledger".into(),
                );
            }
            TickOutcome::Failed { message } => {
                self.alert(AlertEvent::CommitFailed {
                    message: message.clone(),
                });
                error!("the failover transaction COMMITTED WITH FAILURE: {message}. Stopped; fix the cause and run `radix-failover failover` by hand");
                self.set_phase(
                    Phase::Halted {
                        reason: format!("CommittedFailure: {message}"),
                        intent_hash: Some(inflight.intent_hash.clone()),
                    },
                    "committed failure".into(),
                );
            }
            TickOutcome::GaveUp { reason } => {
                self.alert(AlertEvent::GaveUp {
                    reason: reason.clone(),
                });
                error!("GAVE UP on the failover transaction: {reason}");
                self.set_phase(
                    Phase::Halted {
                        reason,
                        intent_hash: Some(inflight.intent_hash.clone()),
                    },
                    "submit deadline".into(),
                );
            }
            TickOutcome::Following(progress) => {
                // The tick logged submits, status changes and rebuilds itself.
                for name in &progress.contradicted {
                    self.alert(AlertEvent::Problem {
                        key: format!("tx-contradicted:{name}"),
                        message: format!(
                            "{name} says intent {} committed, but the other endpoints and the ledger do not show it: it is not believed (a lying or broken source); the daemon keeps submitting through the others",
                            inflight.intent_hash
                        ),
                    });
                }
                for e in &progress.persist_errors {
                    error!("cannot write the state file: {e}. The submission goes on; fix it so a restart resumes this intent");
                    self.alert(AlertEvent::StateFileError {
                        error: e.to_string(),
                    });
                    // Retried from the next poll on (save_state), until it works.
                    self.save_failing = true;
                }
                if let (Some(_), Some(why)) = (&progress.rebuild_error, &backup_problem) {
                    self.alert(AlertEvent::BackupNotReady {
                        why: format!("{why}; the failover cannot be rebuilt for it"),
                    });
                }
                if let Some(e) = &progress.rebuild_error {
                    error!(
                        "cannot rebuild the failover transaction: {e}; keeping the current intent"
                    );
                }
                self.state.phase = in_flight_phase;
            }
        }
    }

    /// A failback committed (or was found done): the primary's key is on ledger and applies
    /// from the next epoch. Until then the backup still validates, so the phase is failed over;
    /// once the primary's key is in force the daemon watches again (with a fresh pre-flight),
    /// as after a failback done by any other means.
    fn failback_done(&mut self, intent_hash: &str, epoch: u64, how: &str) {
        let info = self.switch_info(true, epoch, intent_hash, how);
        self.hook_after(crate::hooks::HookKind::PostSwitch, info);
        info!("FAILBACK COMMITTED: {intent_hash} ({how}) in epoch {epoch}; the primary's key applies from epoch {}, then the daemon watches the primary again", epoch + 1);
        self.alert(AlertEvent::Failback {
            detail: format!(
                "intent {intent_hash} {how} in epoch {epoch}; the primary's key applies from epoch {}",
                epoch + 1
            ),
        });
        self.set_phase(
            Phase::FailedOver {
                intent_hash: None,
                since_epoch: epoch,
            },
            format!("failback {how}; waiting for the primary's key to be in force"),
        );
    }

    /// Ends a pause whose time is up, says so and alerts.
    fn end_pause_when_due(&mut self) {
        let now = self.clock.now_ms();
        let PauseGate::Expired(p) = maintenance::pause_gate(self.state.pause.as_ref(), now) else {
            return;
        };
        let why = format!(
            "it ended by itself at {} ({})",
            maintenance::utc(p.until_ms),
            p.reason
        );
        info!("maintenance pause ENDED: {why}; automatic failover is armed again");
        self.clear_pause(why);
    }

    fn clear_pause(&mut self, why: String) {
        let now = self.clock.now_ms();
        self.state.pause = None;
        self.said_paused_hold = false;
        self.metrics.set_paused(None);
        self.alert(AlertEvent::Resumed { why: why.clone() });
        self.state.record(now, format!("pause over: {why}"));
        self.save_state();
    }

    /// A cancelled intent may still commit until its window ends: say so if it does, and forget
    /// it once it no longer can.
    fn watch_cancelled(&mut self, a: &Assessment, epoch: Option<u64>) {
        let Some(c) = self.state.cancelled.clone() else {
            return;
        };
        let target = if c.new_key_hex == hex_key(&self.config.backup_public_key) {
            KeyOwner::Backup
        } else {
            KeyOwner::Primary
        };
        let now = self.clock.now_ms();
        // Before the cancelled switch the key on ledger was the other one: seeing the target's
        // now means the cancelled intent (or one of its earlier attempts) committed.
        if a.view.key_on_ledger == target {
            let message = format!(
                "the CANCELLED intent {} committed after all (it was already submitted): the {}'s key is on ledger. The daemon follows the ledger from here",
                c.intent_hash,
                if target == KeyOwner::Backup { self.standby_name() } else { self.active_name() }
            );
            error!("{message}");
            self.alert(AlertEvent::Problem {
                key: format!("cancelled-committed:{}", c.intent_hash),
                message: message.clone(),
            });
            self.state.cancelled = None;
            self.state.record(now, message);
            self.save_state();
        } else if epoch.is_some_and(|e| e >= c.end_epoch) {
            info!(
                "the cancelled intent {} can no longer commit: its window ended at epoch {}",
                c.intent_hash, c.end_epoch
            );
            self.state.cancelled = None;
            self.state
                .record(now, format!("cancelled intent {} expired", c.intent_hash));
            self.save_state();
        }
    }

    /// Answers one control-socket request (between polls: never during one).
    pub async fn answer(&mut self, request: Request) -> Response {
        info!("control: {} requested", request.name());
        let response = match request {
            Request::Status => self.status_response(),
            Request::Pause { for_ms, reason } => {
                self.pause_command(for_ms.map(Duration::from_millis), reason.as_deref())
            }
            Request::Resume => self.resume_command(),
            Request::Cancel => self.cancel_command(),
            Request::Failover => self.manual_switch(false).await,
            Request::Failback => self.manual_switch(true).await,
        };
        if response.ok {
            info!("control: {}", response.message);
        } else {
            warn!("control: refused: {}", response.message);
        }
        response
    }

    /// The daemon's side of `status`.
    pub fn status_response(&self) -> Response {
        let now = self.clock.now_ms();
        let owner = |k: &KeyOwner| match k {
            KeyOwner::Primary => self.active_name().to_string(),
            KeyOwner::Backup => self.standby_name().to_string(),
            KeyOwner::Other(h) => format!("other:{h}"),
            KeyOwner::NotInActiveSet => "not_in_active_set".to_string(),
            KeyOwner::Unknown => "unknown".to_string(),
        };
        let pause = match maintenance::pause_gate(self.state.pause.as_ref(), now) {
            PauseGate::Paused(p) => Some(p),
            _ => None,
        };
        let message = match pause {
            Some(p) => format!(
                "daemon (pid {}) phase {}; PAUSED {}",
                std::process::id(),
                self.state.phase.name(),
                p.describe(now)
            ),
            None => format!(
                "daemon (pid {}) phase {}; {}{}",
                std::process::id(),
                self.state.phase.name(),
                self.protection_line(),
                if self.opts.dry_run { " (DRY RUN)" } else { "" }
            ),
        };
        let pair = self.pair();
        Response::ok(message).with_data(serde_json::json!({
            "pid": std::process::id(),
            "phase": self.state.phase,
            "paused": pause.is_some(),
            "pause": pause.map(|p| serde_json::json!({
                "since_ms": p.since_ms,
                "until_ms": p.until_ms,
                "until": maintenance::utc(p.until_ms),
                "reason": p.reason,
            })),
            "cancelled": self.state.cancelled,
            "epoch": self.last_epoch,
            "key_on_ledger": owner(&self.last_key_on_ledger),
            "key_in_force": owner(&self.last_key_in_force),
            "decision": self.last_decision,
            "active_node": pair.active,
            "standby_node": pair.standby,
            "standby_ready": pair.standby_ready.map(|r| r.is_ok()),
            "standby_not_ready_why": pair.standby_ready.and_then(|r| r.clone().err()),
            "armed": self.armed(now),
            "rearm": self.config.policy.rearm,
            "flap_limit": serde_json::json!({
                "epochs": self.config.policy.flap_limit_epochs,
                "last_automatic_switch_epoch": self.state.last_auto_switch_epoch,
                "blocked": self.switch_limit(self.last_epoch),
            }),
            "last_switch": self.state.last_switch,
            "authority": self.state.tripwire.as_ref().map(|t| serde_json::json!({
                "checked_epoch": t.baseline_epoch,
                "baseline": tripwire::describe(&t.baseline),
                "last_change": t.last_change.as_ref().map(|c| serde_json::json!({
                    "what": c.what.as_str(),
                    "from": c.from,
                    "to": c.to,
                    "seen_epoch": c.seen_epoch,
                    "message": c.message(),
                })),
            })),
            "dry_run": self.opts.dry_run,
            "polls": self.polls,
        }))
    }

    fn pause_command(&mut self, length: Option<Duration>, reason: Option<&str>) -> Response {
        let now = self.clock.now_ms();
        let pause = match maintenance::new_pause(now, length, reason, self.config.daemon.max_pause)
        {
            Ok(p) => p,
            Err(e) => return Response::refused(e),
        };
        warn!(
            "PAUSED for maintenance {}: no automatic switch until then",
            pause.describe(now)
        );
        let mut message = format!(
            "paused {}. No automatic switch until then; it resumes by itself. A manual failover or failback still works; `radix-failover resume` ends the pause early",
            pause.describe(now)
        );
        if let Some(f) = self.state.phase.inflight() {
            message.push_str(&format!(". Note: intent {} is in flight and is still followed: a pause does not stop it (`radix-failover cancel` does)", f.intent_hash));
        }
        self.alert(AlertEvent::Paused {
            until: maintenance::utc(pause.until_ms),
            reason: pause.reason.clone(),
        });
        self.metrics.set_paused(Some(pause.until_ms));
        self.state
            .record(now, format!("paused {}", pause.describe(now)));
        self.state.pause = Some(pause.clone());
        self.said_paused_hold = false;
        self.save_state();
        Response::ok(message).with_data(serde_json::json!({
            "until_ms": pause.until_ms,
            "until": maintenance::utc(pause.until_ms),
            "reason": pause.reason,
        }))
    }

    fn resume_command(&mut self) -> Response {
        let now = self.clock.now_ms();
        match maintenance::pause_gate(self.state.pause.as_ref(), now) {
            PauseGate::Paused(p) => {
                let why = format!("resumed by an operator (it was: {})", p.reason);
                info!("maintenance pause ENDED: {why}; automatic failover is armed again");
                self.clear_pause(why);
                Response::ok("resumed: automatic failover is armed again")
            }
            PauseGate::Expired(_) => {
                self.end_pause_when_due();
                Response::ok("the pause had already ended; automatic failover is armed")
            }
            PauseGate::Armed => Response::ok("not paused; automatic failover is armed"),
        }
    }

    fn cancel_command(&mut self) -> Response {
        let now = self.clock.now_ms();
        let epoch = self.last_epoch;
        let Some(c) = self.state.cancel_inflight(now, epoch) else {
            return Response::refused(format!(
                "nothing to cancel: no intent is in flight (phase {})",
                self.state.phase.name()
            ));
        };
        warn!(
            "intent {} CANCELLED by an operator: no longer sent",
            c.intent_hash
        );
        let mut message = format!("stopped sending intent {}", c.intent_hash);
        if c.submitted {
            message.push_str(&format!(
                ". It was already submitted, so it MAY STILL COMMIT until its window ends at epoch {} (now {}); the daemon keeps watching for that and says so if it does",
                c.end_epoch,
                epoch.map(|e| e.to_string()).unwrap_or_else(|| "unknown".into())
            ));
        } else {
            message.push_str(". It was never submitted, so it cannot commit");
        }
        // Without a pause the next poll would decide the same failover again at once.
        if !maintenance::pause_gate(self.state.pause.as_ref(), now).allows_automatic_failover() {
            message.push_str(". The maintenance pause stays in force");
        } else if let Ok(p) = maintenance::new_pause(
            now,
            None,
            Some(&format!("intent {} cancelled", c.intent_hash)),
            self.config.daemon.max_pause,
        ) {
            message.push_str(&format!(
                ". Automatic failover is paused {} so it is not decided again at once; `radix-failover resume` re-arms it",
                p.describe(now)
            ));
            self.alert(AlertEvent::Paused {
                until: maintenance::utc(p.until_ms),
                reason: p.reason.clone(),
            });
            self.metrics.set_paused(Some(p.until_ms));
            self.state.pause = Some(p);
        }
        self.alert(AlertEvent::Problem {
            key: format!("cancelled:{}", c.intent_hash),
            message: message.clone(),
        });
        self.save_state();
        self.metrics.set_phase(&self.state.phase);
        Response::ok(message).with_data(serde_json::json!({ "cancelled": c }))
    }

    /// `failover`/`failback` through the daemon: the same pre-flight as by hand, then the
    /// daemon sends and follows the intent itself. Refused while an intent is in flight: only
    /// one intent is ever in flight. Works while paused (the pause gates automatic switches).
    async fn manual_switch(&mut self, to_primary: bool) -> Response {
        let what = if to_primary { "failback" } else { "failover" };
        // `failover` aims at the configured backup, `failback` at the configured primary; in
        // the roles (`Config::active`) that is the standby (a switch) or the active node
        // (a switch back while the standby's key is on ledger).
        let to = if to_primary {
            crate::roles::Node::Primary
        } else {
            crate::roles::Node::Backup
        };
        let back = to == self.config.active;
        if let Some(f) = self.state.phase.inflight() {
            return Response::refused(format!(
                "{what} refused by the running daemon: it is {} (intent {}, attempt {}, valid epochs {}..{}), and only one intent is ever in flight. Wait for it (radix-failover status), or stop it first with `radix-failover cancel` (an intent already submitted may still commit until epoch {})",
                self.state.phase.name().replace('_', " "),
                f.intent_hash,
                f.attempt,
                f.start_epoch,
                f.end_epoch,
                f.end_epoch
            ));
        }
        if let Phase::Committed {
            intent_hash,
            commit_epoch,
            ..
        } = &self.state.phase
        {
            return Response::refused(format!("{what} refused by the running daemon: intent {intent_hash} committed in epoch {commit_epoch} and is being confirmed; wait for the next epoch (radix-failover status)"));
        }
        if self.opts.dry_run {
            return Response::refused(format!(
                "{what} refused: the daemon runs with --dry-run and submits nothing"
            ));
        }
        let Some(epoch) = self.last_epoch else {
            return Response::refused(format!("{what} refused: the daemon has no trusted epoch yet (no two sources agree); check the sources (radix-failover status)"));
        };
        let (target_key, target, aim) = if back {
            match self.config.primary_public_key {
                Some(k) => (k, KeyOwner::Primary, crate::preflight::Aim::Primary),
                None => {
                    return Response::refused(format!(
                        "{what} refused: primary_public_key is not configured; fix: add it to the config"
                    ))
                }
            }
        } else {
            (
                self.config.backup_public_key,
                KeyOwner::Backup,
                crate::preflight::Aim::Backup,
            )
        };
        if self.last_key_on_ledger == target {
            return Response::ok(format!(
                "{what}: the {}'s key is already on ledger; nothing to do",
                to.name()
            ));
        }
        let tx = match self.build(target_key, epoch) {
            Ok(t) => t,
            Err(e) => return Response::refused(format!("{what} refused: {e}")),
        };
        let report =
            preflight::run(&self.config, &self.sources, &tx.account_address, &tx, aim).await;
        if !report.ok() {
            return Response::refused(format!(
                "{what} refused: pre-flight failed: {}; nothing was submitted",
                report
                    .failures()
                    .map(|c| format!("{}: {}", c.name, c.detail))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let reason = format!("manual {what} (radix-failover {what})");
        let info = self.switch_info(back, epoch, &tx.intent_hash_bech32, &reason);
        if let Err(blocker) = self.pre_switch(&info).await {
            warn!("{what} by an operator BLOCKED: {blocker}");
            return Response::refused(format!("{what} refused: {blocker}; nothing was submitted"));
        }
        let now = self.clock.now_ms();
        let inflight = submit::new_inflight(&tx, &reason, now);
        warn!(
            "{} DECIDED by an operator: intent {} (valid epochs {}..{})",
            what.to_uppercase(),
            tx.intent_hash_bech32,
            tx.start_epoch_inclusive(),
            tx.end_epoch_exclusive()
        );
        if back {
            self.alert(AlertEvent::Failback {
                detail: format!("decided by an operator: intent {}", tx.intent_hash_bech32),
            });
        } else {
            self.alert(AlertEvent::FailoverDecided {
                reason: reason.clone(),
            });
        }
        self.said_key_confirmed = false;
        self.said_waiting_for_proposal = false;
        let phase = if back {
            Phase::FailingBack(inflight)
        } else {
            Phase::FailingOver(inflight)
        };
        self.set_phase(phase, reason);
        self.metrics.set_phase(&self.state.phase);
        Response::ok(format!(
            "the daemon is switching to the {} node ({what}): intent {} (valid epochs {}..{}); it sends and follows it from its next poll (radix-failover status shows the progress). Committed in epoch {epoch}, it takes effect from epoch {}",
            to.name(),
            tx.intent_hash_bech32,
            tx.start_epoch_inclusive(),
            tx.end_epoch_exclusive(),
            epoch + 1
        ))
        .with_data(serde_json::json!({
            "intent_hash": tx.intent_hash_bech32,
            "start_epoch": tx.start_epoch_inclusive(),
            "end_epoch": tx.end_epoch_exclusive(),
        }))
    }

    /// Records a phase change and writes the state file. A failed write (disk full, ...) is
    /// logged loudly and retried with the next change; the in-memory phase stays right and
    /// the daemon carries on, so a failover in progress still completes.
    fn set_phase(&mut self, phase: Phase, why: String) {
        let now = self.clock.now_ms();
        info!(
            "phase {} -> {} ({why})",
            self.state.phase.name(),
            phase.name()
        );
        if let Some(f) = phase.inflight() {
            self.state.note_own_key(&f.new_key_hex);
        }
        self.state.phase = phase;
        self.state.record(now, why);
        self.save_state();
    }

    /// Writes the state file. A failed write (disk full, ...) is logged and alerted once per
    /// episode, and retried on every poll until it works, so the file never stays stale.
    fn save_state(&mut self) {
        match self.state_file.save(&self.state) {
            Ok(()) => {
                if self.save_failing {
                    info!("state file written again");
                    self.alert(AlertEvent::StateFileRecovered);
                }
                self.save_failing = false;
            }
            Err(e) => {
                if !self.save_failing {
                    error!("cannot write the state file: {e}. Carrying on with the state in memory; fix it so a restart resumes correctly");
                }
                self.alert(AlertEvent::StateFileError {
                    error: e.to_string(),
                });
                self.save_failing = true;
            }
        }
    }
}

/// The next control request, or never when there is no control socket.
async fn next_command(
    commands: &mut Option<tokio::sync::mpsc::Receiver<Pending>>,
) -> Option<Pending> {
    match commands {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The epoch most trusted ledger sources report (the highest among answering sources whose
/// epoch at least one other answering source shares; else the single answer).
pub fn agreed_epoch(obs: &Observation) -> Option<u64> {
    let epochs: Vec<u64> = obs
        .ledger
        .iter()
        .filter_map(|s| s.result.as_ref().ok().map(|r| r.epoch))
        .collect();
    let shared = epochs
        .iter()
        .copied()
        .filter(|e| epochs.iter().filter(|x| *x == e).count() >= 2)
        .max();
    shared.or_else(|| {
        if epochs.len() == 1 {
            epochs.first().copied()
        } else {
            None
        }
    })
}

/// A URL for logs: no credentials, no query (tokens live there).
pub fn redact(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

/// The policy for a config: its parameters, our validator, the two keys, and the roles (the
/// node in the config's `primary` slot is the active one, `Config::active`).
pub fn policy_for(config: &Config) -> Policy {
    let roles = crate::roles::Roles::new(config.active);
    Policy::new(
        config.policy.clone(),
        PolicyKeys {
            validator_address: config.validator_bech32(),
            primary_key_hex: config
                .primary_public_key
                .map(|k| hex_key(&k))
                .unwrap_or_default(),
            backup_key_hex: hex_key(&config.backup_public_key),
        },
    )
    .with_roles(roles)
}

/// A key change is on its way while a failover or failback is in flight and until its commit
/// is confirmed on ledger: then the gateways read the validator list on every poll (to see it
/// land), not once per epoch.
fn key_change_expected(phase: &Phase) -> bool {
    matches!(
        phase,
        Phase::FailingOver(_) | Phase::FailingBack(_) | Phase::Committed { .. }
    )
}
