//! The failover policy: one poll's [`Observation`] in, one [`Assessment`] out.
//!
//! A pure state machine: no I/O, no clock (the time comes in `Observation::at_ms`), no tokio.
//! It remembers only what it needs between polls: each source's last counts and ledger
//! position, each source's window of our recent leader proposals, the primary's streak of bad
//! polls, and the previous poll's state (to report changes as events).
//!
//! # What it protects against
//! - **A failover nobody needed, caused by one source.** A ledger source is used only when it
//!   is *trusted* this poll: it answered, its ledger is not older than `max_source_lag`, its
//!   epoch is within [`EPOCH_TOLERANCE`] of the others', and its current-epoch miss count is
//!   not contradicted by most of the other Core sources in the same epoch (more than
//!   [`MISSED_TOLERANCE`] above them). Misses must be confirmed by at least
//!   `min_confirming_sources` trusted real-time sources *and* by a majority of them. An
//!   untrusted source only raises a warning.
//! - **Failing over too late.** Misses are counted in real time from the Core API's counts of
//!   the current epoch (as deltas between polls), as a window of our last M leader proposals
//!   that carries across epoch changes; N missed of the last M fail over. The primary's own
//!   System API (down, not UP, or its miss statistic rising for `primary_down_polls`
//!   consecutive polls) lowers the bar to one confirmed miss and, while a quorum of sources
//!   shows the ledger advancing, fails over on its own.
//! - **A failover that takes the validator down.** [`Decision::FailOver`] only when every gate
//!   passes: the backup node is ready (UP, configured for our validator, holding the backup
//!   key, its Core API trusted if it is a source) and the runner's pre-flight checks pass.
//!   Otherwise [`Decision::Blocked`] names what blocks it.
//! - **Two failovers, or a fail-back.** When the trusted sources say the key on ledger (or in
//!   force) is the backup's, the decision is [`Decision::AlreadyFailedOver`]; a minority of
//!   trusted sources saying so blocks. The policy has no fail-back decision at all.
//!
//! # Caveats
//! - Counts of the current epoch reset at each epoch change; proposals between our last poll
//!   and the change are never seen in real time (the Gateway's finished-epoch counts have
//!   them, one epoch late). The window itself survives the change.
//! - At start-up (or when a source is first seen) its counts so far are a baseline only: their
//!   order is unknown and they could be old, harmless misses.
//! - Within one poll the order of made and missed proposals is unknown: made are put first
//!   (pessimistic). After a gap (the source was unreachable or untrusted on the previous poll)
//!   the misses are spread evenly over the gap instead, so a long gap with a few scattered
//!   misses cannot look like a burst.
//! - [`Decision::FailOver`] repeats on every poll while it holds; the runner acts once and
//!   records it (state file). The key then changes on ledger and the decision becomes
//!   [`Decision::AlreadyFailedOver`].
//! - The early signal cannot tell a dead primary from a network cut between the watcher and the
//!   primary. That is accepted on purpose: a failover to a *ready* backup costs nothing (the
//!   key switches at the next epoch change, the two nodes never share a key, the old primary
//!   stops by itself), so a false positive costs one manual fail-back, while waiting costs
//!   whole epochs. `primary_down_polls = 0` turns the early signal off.
//!
//! The operator's version of these rules is docs/policy.md.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Serialize;

use crate::config::{PolicyName, PolicyParams};
use crate::observe::{
    LedgerReading, NodeConsensus, NodeHealth, NodeReading, Observation, ProposalCounts, SourceKind,
    SourceObservation,
};

/// Misses by which a Core source may exceed the other Core sources of the same epoch before it
/// is contradicted: sources are asked within one request timeout of each other, and even a
/// validator leading 50 rounds an epoch leads about every 6 s on mainnet, so honest sources
/// differ by 0 or 1; 2 leaves room for one slow answer without letting a liar add a burst.
pub const MISSED_TOLERANCE: u64 = 2;
/// Epochs a source may be away from the others' (median) epoch and still be trusted: around an
/// epoch change honest sources straddle it by one; two apart means stuck or on another network.
pub const EPOCH_TOLERANCE: u64 = 1;
/// The ledger source name config.rs gives the backup's Core API: when it is a source, the
/// backup is ready only if that source is trusted (its node is synced).
pub const BACKUP_CORE_SOURCE: &str = "core backup";

/// Our validator and the two keys, as the policy compares them (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyKeys {
    pub validator_address: String,
    pub primary_key_hex: String,
    pub backup_key_hex: String,
}

/// The runner's pre-flight result: a failed check blocks failover until it passes again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gates {
    pub preflight_ok: bool,
    pub preflight_problem: Option<String>,
}

impl Gates {
    pub fn ok() -> Gates {
        Gates {
            preflight_ok: true,
            preflight_problem: None,
        }
    }

    pub fn failed(problem: impl Into<String>) -> Gates {
        Gates {
            preflight_ok: false,
            preflight_problem: Some(problem.into()),
        }
    }
}

/// What the policy makes of one poll.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub decision: Decision,
    /// What the sources agree on now (info line, `status`, metrics).
    pub view: View,
    /// Current problems, each with a stable key for alert dedupe.
    pub warnings: Vec<Warning>,
    /// State changes since the previous poll only.
    pub events: Vec<PolicyEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Nothing wrong seen.
    Healthy,
    /// Some evidence, below the threshold.
    Suspect { reason: String },
    /// Act now: every gate passes.
    FailOver { reason: String },
    /// Would fail over (or cannot confirm evidence it sees), but a gate blocks.
    Blocked { reason: String, blocker: String },
    /// The key on ledger (or in force) is the backup's, per the trusted sources.
    AlreadyFailedOver,
    /// Cannot tell (no trusted source, or too few to confirm misses).
    Unknown { reason: String },
}

impl Decision {
    /// A short stable name: `healthy`, `suspect`, `fail_over`, `blocked`, `already_failed_over`,
    /// `unknown`.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Healthy => "healthy",
            Decision::Suspect { .. } => "suspect",
            Decision::FailOver { .. } => "fail_over",
            Decision::Blocked { .. } => "blocked",
            Decision::AlreadyFailedOver => "already_failed_over",
            Decision::Unknown { .. } => "unknown",
        }
    }

    pub fn is_fail_over(&self) -> bool {
        matches!(self, Decision::FailOver { .. })
    }

    /// One line for logs: the label and its reason.
    pub fn describe(&self) -> String {
        match self {
            Decision::Healthy => "healthy".into(),
            Decision::Suspect { reason } => format!("suspect: {reason}"),
            Decision::FailOver { reason } => format!("FAIL OVER: {reason}"),
            Decision::Blocked { reason, blocker } => {
                format!("BLOCKED: {reason}; blocked by: {blocker}")
            }
            Decision::AlreadyFailedOver => {
                "already failed over: the backup's key is on ledger".into()
            }
            Decision::Unknown { reason } => format!("unknown: {reason}"),
        }
    }
}

/// Whose key a source reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "owner", content = "key", rename_all = "snake_case")]
pub enum KeyOwner {
    Primary,
    Backup,
    /// Neither configured key (someone else rotated it, or the config is wrong).
    Other(String),
    /// Our validator is not in the current active set (key in force only).
    NotInActiveSet,
    /// No trusted source reports it, or they do not agree.
    Unknown,
}

impl KeyOwner {
    fn as_text(&self) -> String {
        match self {
            KeyOwner::Primary => "primary".into(),
            KeyOwner::Backup => "backup".into(),
            KeyOwner::Other(k) => format!("other ({k})"),
            KeyOwner::NotInActiveSet => "not in active set".into(),
            KeyOwner::Unknown => "unknown".into(),
        }
    }
}

/// Why a ledger source is (not) used this poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "trust", rename_all = "snake_case")]
pub enum SourceTrust {
    Trusted,
    /// No usable answer.
    Failing {
        error: String,
    },
    /// Its ledger is older than `max_source_lag`.
    Lagging {
        lag_ms: i64,
    },
    /// Its epoch is more than [`EPOCH_TOLERANCE`] away from the others' median epoch.
    EpochMismatch {
        epoch: u64,
        reference_epoch: u64,
    },
    /// It reports more misses than most other Core sources of the same epoch see.
    Contradicted {
        missed: u64,
        others_missed: Vec<u64>,
    },
}

impl SourceTrust {
    pub fn is_trusted(&self) -> bool {
        matches!(self, SourceTrust::Trusted)
    }

    /// Stable short name, used in warning keys: `failing`, `lagging`, `epoch`, `contradicted`.
    pub fn label(&self) -> &'static str {
        match self {
            SourceTrust::Trusted => "trusted",
            SourceTrust::Failing { .. } => "failing",
            SourceTrust::Lagging { .. } => "lagging",
            SourceTrust::EpochMismatch { .. } => "epoch",
            SourceTrust::Contradicted { .. } => "contradicted",
        }
    }

    /// One human line: why the source is (not) trusted.
    pub fn describe(&self) -> String {
        match self {
            SourceTrust::Trusted => "trusted".into(),
            SourceTrust::Failing { error } => format!("failing: {error}"),
            SourceTrust::Lagging { lag_ms } => format!("lagging: its ledger is {:.1} s old", *lag_ms as f64 / 1000.0),
            SourceTrust::EpochMismatch { epoch, reference_epoch } => {
                format!("at epoch {epoch} while the other sources are at epoch {reference_epoch}")
            }
            SourceTrust::Contradicted { missed, others_missed } => format!(
                "contradicted: it reports {missed} missed proposals this epoch, the other sources {others_missed:?}"
            ),
        }
    }
}

/// One ledger source as this poll saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub kind: SourceKind,
    pub trust: SourceTrust,
    pub epoch: Option<u64>,
    pub round: Option<u64>,
    /// Age of its ledger against the watcher's clock (negative: its clock is ahead).
    pub lag_ms: Option<i64>,
    pub current_epoch: Option<ProposalCounts>,
    /// Its window of our recent proposals (Core sources).
    pub recent_missed: u32,
    pub recent_tracked: u32,
}

/// The primary node as its System API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PrimaryState {
    /// No `[primary] system_api` in the config: no early signal.
    NotConfigured,
    Healthy,
    /// Down, not UP, or its own miss statistic rising, for `consecutive_polls` polls.
    Unhealthy {
        reason: String,
        consecutive_polls: u32,
    },
}

/// What the trusted sources agree on now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub epoch: Option<u64>,
    pub round: Option<u64>,
    pub key_in_force: KeyOwner,
    pub key_on_ledger: KeyOwner,
    /// Made/missed of the current epoch that at least a quorum of trusted Core sources reach
    /// (or the best of fewer, when there is no quorum).
    pub epoch_made: Option<u64>,
    pub epoch_missed: Option<u64>,
    /// The N-of-M window: misses among our last `recent_tracked` proposals, as confirmed (a
    /// quorum of trusted real-time sources see at least this many).
    pub recent_missed: u32,
    pub recent_tracked: u32,
    /// Misses needed now (N, or 1 while the early signal holds).
    pub miss_threshold: u32,
    pub trusted_sources: usize,
    pub ledger_sources: usize,
    /// Trusted Core sources with current-epoch counts, and how many must confirm.
    pub realtime_sources: usize,
    pub quorum: usize,
    pub primary: PrimaryState,
    pub backup_ready: Result<(), String>,
    /// The backup node's System API reports `VALIDATING_IN_CURRENT_EPOCH` (after a failover:
    /// from the epoch its key is in force).
    pub backup_validating: bool,
    /// Missed proposals in the Gateway's finished epochs (legacy window).
    pub finished_missed: Option<u64>,
    pub sources: Vec<SourceStatus>,
}

impl View {
    /// The one-line-per-poll info line.
    pub fn summary_line(&self) -> String {
        let opt = |v: Option<u64>| v.map_or_else(|| "?".to_string(), |v| v.to_string());
        let primary = match &self.primary {
            PrimaryState::NotConfigured => "not watched".to_string(),
            PrimaryState::Healthy => "up".to_string(),
            PrimaryState::Unhealthy {
                reason,
                consecutive_polls,
            } => format!("DOWN {consecutive_polls} polls ({reason})"),
        };
        let backup = match &self.backup_ready {
            Ok(()) => "ready".to_string(),
            Err(e) => format!("NOT READY ({e})"),
        };
        let finished = self
            .finished_missed
            .map_or_else(String::new, |m| format!(" | finished epochs: {m} missed"));
        format!(
            "epoch {} round {} | key in force {}, on ledger {} | this epoch {} made {} missed | last {} proposals: {} missed (threshold {}) | sources {}/{} trusted, {} real-time (quorum {}) | primary {} | backup {}{}",
            opt(self.epoch),
            opt(self.round),
            self.key_in_force.as_text(),
            self.key_on_ledger.as_text(),
            opt(self.epoch_made),
            opt(self.epoch_missed),
            self.recent_tracked,
            self.recent_missed,
            self.miss_threshold,
            self.trusted_sources,
            self.ledger_sources,
            self.realtime_sources,
            self.quorum,
            primary,
            backup,
            finished,
        )
    }
}

/// A current problem. `key` is stable while the problem lasts (alert dedupe), e.g.
/// `source-lagging:gateway 127.0.0.1:5308`, `backup-not-ready`, `no-quorum`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub key: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    SourceDegraded,
    SourceRecovered,
    PrimaryUnhealthy,
    PrimaryRecovered,
    BackupReady,
    BackupNotReady,
    /// The confirmed window reached N-1 misses.
    MissesApproaching,
    EpochChanged,
    KeyChanged,
    DecisionChanged,
    /// Another warning appeared (no quorum, pre-flight failed, keys disagree, ...).
    ProblemRaised,
    ProblemCleared,
}

/// A state change since the previous poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyEvent {
    pub kind: EventKind,
    /// What changed: a source name, `primary`, `backup`, a warning key, ...
    pub subject: String,
    pub message: String,
}

impl PolicyEvent {
    /// The human message (for logs and alerts).
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Per-source memory between polls.
#[derive(Debug, Clone, Default)]
struct SourceMemory {
    /// Epoch and counts of its last answer with counts.
    counts: Option<(u64, ProposalCounts)>,
    /// Its last (epoch, round, state_version).
    position: Option<(u64, u64, u64)>,
    /// Our recent proposals as this source saw them, oldest first; `true` = missed.
    window: VecDeque<bool>,
    /// It was trusted and had counts on the previous poll (so its next delta covers one poll).
    fed_last_poll: bool,
    /// Its trust label on the previous poll (events).
    last_trust: Option<SourceTrust>,
}

/// The previous poll, for events.
#[derive(Debug, Clone)]
struct Previous {
    epoch: Option<u64>,
    key_in_force: KeyOwner,
    key_on_ledger: KeyOwner,
    primary_bad: bool,
    backup_ready: Result<(), String>,
    recent_missed: u32,
    decision: &'static str,
    warnings: BTreeSet<String>,
}

/// The policy state machine. See the module doc.
#[derive(Debug, Clone)]
pub struct Policy {
    params: PolicyParams,
    keys: PolicyKeys,
    sources: BTreeMap<String, SourceMemory>,
    /// Consecutive polls with the primary's System API unreachable or not UP.
    primary_down_streak: u32,
    /// Consecutive polls with the primary's own miss statistic rising.
    primary_rising_streak: u32,
    primary_last_missed: Option<u64>,
    /// Whose key was in force when the windows were last fed (primary or backup).
    window_owner: Option<KeyOwner>,
    previous: Option<Previous>,
}

/// One trusted-or-not ledger source during a poll.
struct Seen<'a> {
    name: &'a str,
    kind: SourceKind,
    reading: Option<&'a LedgerReading>,
    trust: SourceTrust,
}

impl Policy {
    pub fn new(params: PolicyParams, keys: PolicyKeys) -> Policy {
        let keys = PolicyKeys {
            validator_address: keys.validator_address.trim().to_string(),
            primary_key_hex: keys.primary_key_hex.trim().to_ascii_lowercase(),
            backup_key_hex: keys.backup_key_hex.trim().to_ascii_lowercase(),
        };
        Policy {
            params,
            keys,
            sources: BTreeMap::new(),
            primary_down_streak: 0,
            primary_rising_streak: 0,
            primary_last_missed: None,
            window_owner: None,
            previous: None,
        }
    }

    pub fn params(&self) -> &PolicyParams {
        &self.params
    }

    /// One poll in, one assessment out. Deterministic: the same sequence of observations and
    /// gates gives the same sequence of assessments.
    pub fn observe(&mut self, obs: &Observation, gates: &Gates) -> Assessment {
        let mut warnings: Vec<Warning> = Vec::new();
        let n = self.params.missed_proposals.max(1);
        let m = self.params.recent_proposals.max(n) as usize;
        let min_confirm = self.params.min_confirming_sources.max(1) as usize;

        // 1. Trust of each ledger source.
        let seen = self.assess_sources(obs, &mut warnings);
        let trusted: Vec<usize> = (0..seen.len())
            .filter(|&i| seen[i].trust.is_trusted())
            .collect();

        // 2. Keys, as the trusted sources agree.
        let (key_in_force, key_on_ledger, key_problem) =
            self.agree_keys(&seen, &trusted, &mut warnings);
        // The window measures the node whose key is in force: a change of owner (failover or
        // fail-back taking effect) starts it afresh.
        if is_known(&key_in_force) {
            if self
                .window_owner
                .as_ref()
                .is_some_and(|o| o != &key_in_force)
            {
                for mem in self.sources.values_mut() {
                    mem.window.clear();
                }
            }
            self.window_owner = Some(key_in_force.clone());
        }

        // 3. Per-source memory: deltas into windows, ledger positions.
        let mut advancing = 0usize;
        for s in &seen {
            let mem = self.sources.entry(s.name.to_string()).or_default();
            let Some(r) = s.reading else {
                mem.fed_last_poll = false;
                continue;
            };
            let is_trusted = s.trust.is_trusted();
            if let Some((e, round, sv)) = mem.position {
                if is_trusted && ((r.epoch, r.round) > (e, round) || r.state_version > sv) {
                    advancing += 1;
                }
            }
            mem.position = Some((r.epoch, r.round, r.state_version));
            let Some(c) = r.current_epoch else {
                mem.fed_last_poll = false;
                continue;
            };
            let delta = match mem.counts {
                // First sight: the counts so far are history of unknown order, a baseline only.
                None => None,
                Some((e, prev)) if e == r.epoch => {
                    if c.made >= prev.made && c.missed >= prev.missed {
                        Some(ProposalCounts {
                            made: c.made - prev.made,
                            missed: c.missed - prev.missed,
                        })
                    } else {
                        // Counts went backwards in one epoch: a restarted or switched source.
                        None
                    }
                }
                // A new epoch: its counts start from 0.
                Some((e, _)) if r.epoch > e => Some(c),
                // The source went back in epochs: start over from this baseline.
                Some(_) => None,
            };
            mem.counts = Some((r.epoch, c));
            if is_trusted {
                if let Some(d) = delta {
                    feed_window(&mut mem.window, d, m, mem.fed_last_poll);
                }
            }
            mem.fed_last_poll = is_trusted;
        }

        // 4. The view of the epoch and of the counts.
        let epoch = trusted
            .iter()
            .filter_map(|&i| seen[i].reading.map(|r| r.epoch))
            .max();
        let round = trusted
            .iter()
            .filter_map(|&i| seen[i].reading)
            .filter(|r| Some(r.epoch) == epoch)
            .map(|r| r.round)
            .max();
        let realtime: Vec<usize> = trusted
            .iter()
            .copied()
            .filter(|&i| {
                seen[i].kind == SourceKind::Core
                    && seen[i].reading.is_some_and(|r| r.current_epoch.is_some())
            })
            .collect();
        let quorum = min_confirm.max(realtime.len() / 2 + 1);
        let current: Vec<ProposalCounts> = realtime
            .iter()
            .filter_map(|&i| seen[i].reading)
            .filter(|r| Some(r.epoch) == epoch)
            .filter_map(|r| r.current_epoch)
            .collect();
        let epoch_made = kth_largest(current.iter().map(|c| c.made).collect(), quorum);
        let epoch_missed = kth_largest(current.iter().map(|c| c.missed).collect(), quorum);
        let windows: Vec<(u32, u32)> = realtime
            .iter()
            .map(|&i| {
                let w = self.sources.get(seen[i].name).map(|mem| &mem.window);
                w.map_or((0, 0), |w| {
                    (w.iter().filter(|&&x| x).count() as u32, w.len() as u32)
                })
            })
            .collect();
        let recent_missed =
            kth_largest(windows.iter().map(|w| w.0 as u64).collect(), quorum).unwrap_or(0) as u32;
        let recent_tracked =
            kth_largest(windows.iter().map(|w| w.1 as u64).collect(), quorum).unwrap_or(0) as u32;
        let finished_missed = self.finished_missed(&seen, &trusted);

        // 5. The primary's System API: the early signal.
        let primary = self.assess_primary(obs.primary.as_ref());
        let ledger_quorum = min_confirm.max(trusted.len() / 2 + 1);
        let early = self.params.primary_down_polls > 0
            && key_in_force == KeyOwner::Primary
            && self.primary_down_streak.max(self.primary_rising_streak)
                >= self.params.primary_down_polls;
        let threshold = if early { 1 } else { n };
        if let PrimaryState::Unhealthy {
            reason,
            consecutive_polls,
        } = &primary
        {
            warnings.push(Warning {
                key: "primary-unhealthy".into(),
                message: format!(
                    "the primary node looks unhealthy for {consecutive_polls} polls: {reason}"
                ),
            });
        }

        // 6. The backup's readiness.
        let backup_ready = self.backup_readiness(obs.backup.as_ref(), &seen);
        if let Err(e) = &backup_ready {
            warnings.push(Warning {
                key: "backup-not-ready".into(),
                message: format!("backup not ready: {e}"),
            });
        }
        if !gates.preflight_ok {
            warnings.push(Warning {
                key: "preflight-failed".into(),
                message: format!(
                    "pre-flight failed: {}",
                    gates
                        .preflight_problem
                        .as_deref()
                        .unwrap_or("(no reason given)")
                ),
            });
        }

        // 7. Decide.
        let names = |idx: &[usize]| {
            idx.iter()
                .map(|&i| seen[i].name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let no_quorum = realtime.len() < min_confirm;
        if self.params.name == PolicyName::Default && no_quorum && !trusted.is_empty() {
            warnings.push(Warning {
                key: "no-quorum".into(),
                message: format!(
                    "only {} trusted Core source(s) see misses in real time ({}); {} must confirm them (policy.min_confirming_sources): fix or add Core API sources",
                    realtime.len(),
                    if realtime.is_empty() { "none".to_string() } else { names(&realtime) },
                    min_confirm
                ),
            });
        }
        let decision = if trusted.is_empty() {
            let why = seen
                .iter()
                .map(|s| format!("{}: {}", s.name, s.trust.describe()))
                .collect::<Vec<_>>()
                .join("; ");
            warnings.push(Warning {
                key: "no-trusted-source".into(),
                message: format!(
                    "no ledger source can be trusted ({})",
                    if why.is_empty() {
                        "none configured".into()
                    } else {
                        why
                    }
                ),
            });
            Decision::Unknown {
                reason: "no trusted ledger source".into(),
            }
        } else if key_on_ledger == KeyOwner::Backup
            || (key_on_ledger == KeyOwner::Unknown && key_in_force == KeyOwner::Backup)
        {
            Decision::AlreadyFailedOver
        } else {
            let trigger = match self.params.name {
                PolicyName::Default => self.default_trigger(&Evidence {
                    windows: &windows,
                    quorum,
                    threshold,
                    early,
                    advancing,
                    ledger_quorum,
                    trusted: trusted.len(),
                    primary: &primary,
                    recent_missed,
                    recent_tracked,
                }),
                PolicyName::Legacy => self.legacy_trigger(&seen, &trusted),
            };
            match trigger {
                Err(d) => d,
                Ok(None) => Decision::Healthy,
                Ok(Some(reason)) => gate(reason, key_problem, gates, &backup_ready),
            }
        };

        let view = View {
            epoch,
            round,
            key_in_force,
            key_on_ledger,
            epoch_made,
            epoch_missed,
            recent_missed,
            recent_tracked,
            miss_threshold: threshold,
            trusted_sources: trusted.len(),
            ledger_sources: seen.len(),
            realtime_sources: realtime.len(),
            quorum,
            primary,
            backup_ready,
            backup_validating: obs
                .backup
                .as_ref()
                .and_then(|b| b.result.as_ref().ok())
                .is_some_and(|n| n.consensus == NodeConsensus::ValidatingInCurrentEpoch),
            finished_missed,
            sources: seen
                .iter()
                .map(|s| {
                    let w = self.sources.get(s.name).map(|mem| &mem.window);
                    SourceStatus {
                        name: s.name.to_string(),
                        kind: s.kind,
                        trust: s.trust.clone(),
                        epoch: s.reading.map(|r| r.epoch),
                        round: s.reading.map(|r| r.round),
                        lag_ms: s.reading.map(|r| obs.at_ms - r.ledger_time_ms),
                        current_epoch: s.reading.and_then(|r| r.current_epoch),
                        recent_missed: w.map_or(0, |w| w.iter().filter(|&&x| x).count() as u32),
                        recent_tracked: w.map_or(0, |w| w.len() as u32),
                    }
                })
                .collect(),
        };
        let events = self.events(&view, &seen, &decision, &warnings, n);
        for s in &seen {
            if let Some(mem) = self.sources.get_mut(s.name) {
                mem.last_trust = Some(s.trust.clone());
            }
        }
        self.previous = Some(Previous {
            epoch: view.epoch,
            key_in_force: view.key_in_force.clone(),
            key_on_ledger: view.key_on_ledger.clone(),
            primary_bad: matches!(view.primary, PrimaryState::Unhealthy { .. }),
            backup_ready: view.backup_ready.clone(),
            recent_missed: view.recent_missed,
            decision: decision.label(),
            warnings: warnings.iter().map(|w| w.key.clone()).collect(),
        });
        Assessment {
            decision,
            view,
            warnings,
            events,
        }
    }

    /// Rules 2 and 3: the default policy's trigger. `Ok(Some(reason))`: fail over if the gates
    /// pass; `Ok(None)`: healthy; `Err(decision)`: a decision short of failing over.
    fn default_trigger(&self, e: &Evidence<'_>) -> Result<Option<String>, Decision> {
        let m = self.params.recent_proposals;
        let min_confirm = self.params.min_confirming_sources.max(1) as usize;
        let realtime = e.windows.len();
        let no_quorum = realtime < min_confirm;
        let threshold = e.threshold;
        let confirming = e.windows.iter().filter(|w| w.0 >= threshold).count();
        let primary_reason = match e.primary {
            PrimaryState::Unhealthy {
                reason,
                consecutive_polls,
            } => {
                format!("the primary has looked unhealthy for {consecutive_polls} polls: {reason}")
            }
            _ => String::new(),
        };
        let no_quorum_blocker = || {
            format!(
                "no quorum: {realtime} trusted real-time source(s), {min_confirm} needed to confirm misses"
            )
        };
        if !no_quorum && confirming >= e.quorum {
            let early_note = if e.early {
                " (threshold lowered to 1: the primary's System API looks unhealthy)"
            } else {
                ""
            };
            return Ok(Some(format!(
                "{} of our last {} proposals missed, seen by {confirming} of {realtime} trusted real-time sources{early_note}",
                e.recent_missed, e.recent_tracked
            )));
        }
        if e.early && e.advancing >= e.ledger_quorum {
            return Ok(Some(format!(
                "{primary_reason}; {} of {} trusted sources show the ledger advancing with the primary's key in force",
                e.advancing, e.trusted
            )));
        }
        if e.early {
            // Long enough to act on, but the watcher cannot see the ledger go on: a stalled
            // network (where a transaction would not commit either) or a blind watcher.
            let mut blocker = format!(
                "only {} of {} trusted sources show the ledger advancing, {} needed",
                e.advancing, e.trusted, e.ledger_quorum
            );
            if no_quorum {
                blocker = format!("{}; {blocker}", no_quorum_blocker());
            }
            return Err(Decision::Blocked {
                reason: primary_reason,
                blocker,
            });
        }
        if no_quorum && confirming > 0 {
            return Err(Decision::Blocked {
                reason: format!(
                    "{confirming} source(s) see at least {threshold} of our last {m} proposals missed"
                ),
                blocker: no_quorum_blocker(),
            });
        }
        if no_quorum {
            return Err(Decision::Unknown {
                reason: format!(
                    "only {realtime} trusted Core source(s) see misses in real time; {min_confirm} needed"
                ),
            });
        }
        if confirming > 0 {
            return Err(Decision::Suspect {
                reason: format!(
                    "{confirming} of {realtime} trusted real-time sources see at least {threshold} of our last {m} proposals missed; {} must",
                    e.quorum
                ),
            });
        }
        if !primary_reason.is_empty() {
            return Err(Decision::Suspect {
                reason: primary_reason,
            });
        }
        if e.recent_missed > 0 {
            return Err(Decision::Suspect {
                reason: format!(
                    "{} of our last {} proposals missed",
                    e.recent_missed, e.recent_tracked
                ),
            });
        }
        Ok(None)
    }

    /// Rule 1: answered, fresh, in step, not contradicted.
    fn assess_sources<'a>(
        &self,
        obs: &'a Observation,
        warnings: &mut Vec<Warning>,
    ) -> Vec<Seen<'a>> {
        let lag_limit = i64::try_from(self.params.max_source_lag.as_millis()).unwrap_or(i64::MAX);
        let mut seen: Vec<Seen<'a>> = obs
            .ledger
            .iter()
            .map(|s: &'a SourceObservation<LedgerReading>| match &s.result {
                Err(e) => Seen {
                    name: &s.name,
                    kind: s.kind,
                    reading: None,
                    trust: SourceTrust::Failing {
                        error: e.to_string(),
                    },
                },
                Ok(r) => {
                    let lag_ms = obs.at_ms.saturating_sub(r.ledger_time_ms);
                    let trust = if lag_ms > lag_limit {
                        SourceTrust::Lagging { lag_ms }
                    } else {
                        SourceTrust::Trusted
                    };
                    Seen {
                        name: &s.name,
                        kind: s.kind,
                        reading: Some(r),
                        trust,
                    }
                }
            })
            .collect();

        // In step: within EPOCH_TOLERANCE of the median epoch of the fresh sources (the median,
        // not the maximum, so one source claiming a far epoch cannot push out the others).
        let mut epochs: Vec<u64> = seen
            .iter()
            .filter(|s| s.trust.is_trusted())
            .filter_map(|s| s.reading.map(|r| r.epoch))
            .collect();
        epochs.sort_unstable();
        if let Some(&reference_epoch) = epochs.get(epochs.len() / 2) {
            for s in seen.iter_mut().filter(|s| s.trust.is_trusted()) {
                if let Some(r) = s.reading {
                    if r.epoch.abs_diff(reference_epoch) > EPOCH_TOLERANCE {
                        s.trust = SourceTrust::EpochMismatch {
                            epoch: r.epoch,
                            reference_epoch,
                        };
                    }
                }
            }
        }

        // Not contradicted: compare current-epoch misses with the other fresh Core sources of
        // the same epoch. Judged only with at least two others, so that "the others" can be a
        // majority; with one other, a disagreement is a warning and neither is believed alone
        // (the quorum then cannot form).
        let counts: Vec<Option<(u64, u64)>> = seen
            .iter()
            .map(|s| {
                if !s.trust.is_trusted() || s.kind != SourceKind::Core {
                    return None;
                }
                s.reading
                    .and_then(|r| r.current_epoch.map(|c| (r.epoch, c.missed)))
            })
            .collect();
        let mut verdicts: Vec<Option<SourceTrust>> = vec![None; seen.len()];
        for (i, c) in counts.iter().enumerate() {
            let Some((epoch, missed)) = *c else { continue };
            let others: Vec<u64> = counts
                .iter()
                .enumerate()
                .filter(|&(j, o)| j != i && o.is_some_and(|(e, _)| e == epoch))
                .filter_map(|(_, o)| o.map(|(_, x)| x))
                .collect();
            let above = others
                .iter()
                .filter(|&&x| missed > x + MISSED_TOLERANCE)
                .count();
            if others.len() >= 2 && above * 2 > others.len() {
                verdicts[i] = Some(SourceTrust::Contradicted {
                    missed,
                    others_missed: others,
                });
            } else if others.len() == 1 && missed.abs_diff(others[0]) > MISSED_TOLERANCE {
                if let Some(j) =
                    (0..counts.len()).find(|&j| j > i && counts[j].is_some_and(|(e, _)| e == epoch))
                {
                    warnings.push(Warning {
                        key: format!("sources-disagree:{}|{}", seen[i].name, seen[j].name),
                        message: format!(
                            "{} and {} disagree on our missed proposals this epoch ({} vs {}); with no third Core source neither is believed",
                            seen[i].name, seen[j].name, missed, others[0]
                        ),
                    });
                }
            }
        }
        for (s, v) in seen.iter_mut().zip(verdicts) {
            if let Some(v) = v {
                s.trust = v;
            }
        }
        for s in &seen {
            if !s.trust.is_trusted() {
                warnings.push(Warning {
                    key: format!("source-{}:{}", s.trust.label(), s.name),
                    message: format!("source {} is not trusted: {}", s.name, s.trust.describe()),
                });
            }
        }
        seen
    }

    fn owner(&self, key: &str) -> KeyOwner {
        let k = key.trim().to_ascii_lowercase();
        if k == self.keys.primary_key_hex {
            KeyOwner::Primary
        } else if k == self.keys.backup_key_hex {
            KeyOwner::Backup
        } else {
            KeyOwner::Other(k)
        }
    }

    /// Rule 5: the keys the trusted sources agree on (a strict majority of those reporting),
    /// and a problem that blocks any failover (a minority says backup; an unexpected key; a
    /// fail-back in progress).
    fn agree_keys(
        &self,
        seen: &[Seen<'_>],
        trusted: &[usize],
        warnings: &mut Vec<Warning>,
    ) -> (KeyOwner, KeyOwner, Option<String>) {
        let readings: Vec<&LedgerReading> =
            trusted.iter().filter_map(|&i| seen[i].reading).collect();
        let in_force: Vec<KeyOwner> = readings
            .iter()
            .map(|r| {
                r.key_in_force
                    .as_deref()
                    .map_or(KeyOwner::NotInActiveSet, |k| self.owner(k))
            })
            .collect();
        let on_ledger: Vec<KeyOwner> = readings
            .iter()
            .filter_map(|r| r.key_on_ledger.as_deref().map(|k| self.owner(k)))
            .collect();
        let in_force_agreed = majority(&in_force);
        let on_ledger_agreed = majority(&on_ledger);
        let mut problem = None;
        for (what, votes, agreed) in [
            ("key in force", &in_force, &in_force_agreed),
            ("key on ledger", &on_ledger, &on_ledger_agreed),
        ] {
            if votes.iter().any(|v| v != &votes[0]) {
                let list = votes
                    .iter()
                    .map(|v| v.as_text())
                    .collect::<Vec<_>>()
                    .join(", ");
                warnings.push(Warning {
                    key: format!("key-disagreement:{what}"),
                    message: format!("trusted sources disagree on the {what}: {list}"),
                });
                if votes.contains(&KeyOwner::Backup) && agreed != &KeyOwner::Backup {
                    problem = Some(format!(
                        "trusted sources disagree on the {what} and some say it is the backup's ({list}): a failover may already have happened"
                    ));
                }
            }
        }
        if let KeyOwner::Other(k) = &on_ledger_agreed {
            warnings.push(Warning {
                key: "key-unexpected".into(),
                message: format!("the key on ledger is {k}, neither the primary's nor the backup's: check primary_public_key/backup_public_key"),
            });
            problem.get_or_insert_with(|| {
                format!("the key on ledger is {k}, neither the primary's nor the backup's")
            });
        } else if on_ledger_agreed == KeyOwner::Primary && in_force_agreed == KeyOwner::Backup {
            warnings.push(Warning {
                key: "failback-pending".into(),
                message: "the primary's key is on ledger but the backup's is in force until the epoch ends: a fail-back is pending".into(),
            });
            problem.get_or_insert_with(|| {
                "a fail-back is pending (the backup's key is in force until the epoch ends)".into()
            });
        }
        if in_force_agreed == KeyOwner::NotInActiveSet {
            warnings.push(Warning {
                key: "not-in-active-set".into(),
                message:
                    "our validator is not in the current active set: it proposes nothing this epoch"
                        .into(),
            });
        }
        (in_force_agreed, on_ledger_agreed, problem)
    }

    /// Missed proposals of the finished epochs, as a strict majority of the trusted sources
    /// that report them see it (the lowest such value when they differ).
    fn finished_missed(&self, seen: &[Seen<'_>], trusted: &[usize]) -> Option<u64> {
        let v: Vec<u64> = trusted
            .iter()
            .filter_map(|&i| {
                seen[i]
                    .reading
                    .and_then(|r| r.finished)
                    .and_then(|f| f.counts)
                    .map(|c| c.missed)
            })
            .collect();
        let k = v.len() / 2 + 1;
        kth_largest(v, k)
    }

    /// Rule 6: the old script's rule on the Gateway's finished epochs.
    fn legacy_trigger(
        &self,
        seen: &[Seen<'_>],
        trusted: &[usize],
    ) -> Result<Option<String>, Decision> {
        let t = self.params.legacy_missed_threshold;
        let reporting: Vec<(&str, u64, u64, u64)> = trusted
            .iter()
            .filter_map(|&i| {
                let f = seen[i].reading.and_then(|r| r.finished)?;
                Some((seen[i].name, f.from_epoch, f.to_epoch, f.counts?.missed))
            })
            .collect();
        if reporting.is_empty() {
            return Err(Decision::Unknown {
                reason: "legacy policy: no trusted Gateway reports finished-epoch counts".into(),
            });
        }
        let over: Vec<&(&str, u64, u64, u64)> = reporting.iter().filter(|r| r.3 > t).collect();
        if over.len() * 2 > reporting.len() {
            let (name, from, to, missed) = over[0];
            Ok(Some(format!(
                "legacy policy: {missed} missed proposals in finished epochs {from}..={to} (more than {t}), per {name} and {} of {} trusted sources",
                over.len(),
                reporting.len()
            )))
        } else if !over.is_empty() {
            Err(Decision::Suspect {
                reason: format!(
                    "legacy policy: {} of {} trusted sources see more than {t} finished-epoch misses; a majority must",
                    over.len(),
                    reporting.len()
                ),
            })
        } else if reporting.iter().any(|r| r.3 > 0) {
            let worst = reporting.iter().map(|r| r.3).max().unwrap_or(0);
            Err(Decision::Suspect {
                reason: format!(
                    "legacy policy: {worst} finished-epoch misses (fails over above {t})"
                ),
            })
        } else {
            Ok(None)
        }
    }

    /// Rule 3's input: streaks of bad polls of the primary's System API.
    fn assess_primary(&mut self, primary: Option<&SourceObservation<NodeReading>>) -> PrimaryState {
        let Some(p) = primary else {
            self.primary_down_streak = 0;
            self.primary_rising_streak = 0;
            return PrimaryState::NotConfigured;
        };
        let (down, rising) = match &p.result {
            Err(e) => (Some(format!("System API {e}")), None),
            Ok(node) => {
                let down = (node.health != NodeHealth::Up)
                    .then(|| format!("health {} ({})", health_text(node.health), node.detail));
                let rising = match self.primary_last_missed {
                    Some(prev) if node.recent_missed > prev => Some(format!(
                        "its own miss statistic rose from {prev} to {} of {}",
                        node.recent_missed, node.recent_tracked
                    )),
                    _ => None,
                };
                self.primary_last_missed = Some(node.recent_missed);
                (down, rising)
            }
        };
        self.primary_down_streak = if down.is_some() {
            self.primary_down_streak + 1
        } else {
            0
        };
        self.primary_rising_streak = if rising.is_some() {
            self.primary_rising_streak + 1
        } else {
            0
        };
        match (down, rising) {
            (Some(reason), _) => PrimaryState::Unhealthy {
                reason,
                consecutive_polls: self.primary_down_streak,
            },
            (None, Some(reason)) => PrimaryState::Unhealthy {
                reason,
                consecutive_polls: self.primary_rising_streak,
            },
            (None, None) => PrimaryState::Healthy,
        }
    }

    /// Rule 4: the backup node can take over now.
    fn backup_readiness(
        &self,
        backup: Option<&SourceObservation<NodeReading>>,
        seen: &[Seen<'_>],
    ) -> Result<(), String> {
        let Some(b) = backup else {
            return Err("the backup's System API is not configured: add [backup] system_api so its readiness can be checked".into());
        };
        let node = match &b.result {
            Err(e) => return Err(format!("its System API ({}) gives no answer: {e}", b.name)),
            Ok(n) => n,
        };
        if node.health != NodeHealth::Up {
            return Err(format!(
                "its health is {} ({}), not UP: wait until it is synced",
                health_text(node.health),
                node.detail
            ));
        }
        match node.validator_address.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(format!(
                    "it is not configured for a validator: set its validator address to {}",
                    self.keys.validator_address
                ))
            }
            Some(v) if v != self.keys.validator_address => {
                return Err(format!(
                    "it is configured for validator {v}, not ours ({}): fix the backup node's validator address",
                    self.keys.validator_address
                ))
            }
            Some(_) => {}
        }
        let key = node.public_key_hex.trim().to_ascii_lowercase();
        if key != self.keys.backup_key_hex {
            return Err(format!(
                "its key is {key}, not the configured backup_public_key {}: the failover would hand our validator to a key no node holds",
                self.keys.backup_key_hex
            ));
        }
        if let Some(s) = seen.iter().find(|s| s.name == BACKUP_CORE_SOURCE) {
            if !s.trust.is_trusted() {
                return Err(format!(
                    "its Core API is not trusted ({})",
                    s.trust.describe()
                ));
            }
        }
        Ok(())
    }

    fn events(
        &self,
        view: &View,
        seen: &[Seen<'_>],
        decision: &Decision,
        warnings: &[Warning],
        n: u32,
    ) -> Vec<PolicyEvent> {
        let mut ev = Vec::new();
        let mut push = |kind, subject: &str, message: String| {
            ev.push(PolicyEvent {
                kind,
                subject: subject.to_string(),
                message,
            })
        };
        let prev = self.previous.as_ref();
        for s in seen {
            let last = self.sources.get(s.name).and_then(|m| m.last_trust.as_ref());
            let was_trusted = last.is_none_or(|t| t.is_trusted());
            let changed_kind = last.is_none_or(|t| t.label() != s.trust.label());
            if !s.trust.is_trusted() && changed_kind {
                push(
                    EventKind::SourceDegraded,
                    s.name,
                    format!("source {} is not trusted: {}", s.name, s.trust.describe()),
                );
            } else if s.trust.is_trusted() && !was_trusted {
                push(
                    EventKind::SourceRecovered,
                    s.name,
                    format!("source {} is trusted again", s.name),
                );
            }
        }
        let bad = matches!(view.primary, PrimaryState::Unhealthy { .. });
        let was_bad = prev.is_some_and(|p| p.primary_bad);
        if let PrimaryState::Unhealthy { reason, .. } = &view.primary {
            if !was_bad {
                push(
                    EventKind::PrimaryUnhealthy,
                    "primary",
                    format!("the primary looks unhealthy: {reason}"),
                );
            }
        } else if was_bad && !bad {
            push(
                EventKind::PrimaryRecovered,
                "primary",
                "the primary looks healthy again".into(),
            );
        }
        match (prev.map(|p| &p.backup_ready), &view.backup_ready) {
            (Some(Ok(())), Ok(())) => {}
            (_, Ok(())) => push(
                EventKind::BackupReady,
                "backup",
                "the backup node is ready to take over".into(),
            ),
            (Some(Err(a)), Err(b)) if a == b => {}
            (_, Err(e)) => push(
                EventKind::BackupNotReady,
                "backup",
                format!("the backup node is not ready: {e}"),
            ),
        }
        let approach = n.saturating_sub(1);
        if approach > 0
            && view.recent_missed >= approach
            && prev.is_none_or(|p| p.recent_missed < approach)
        {
            push(
                EventKind::MissesApproaching,
                "misses",
                format!(
                    "{} of our last {} proposals missed: {} fails over",
                    view.recent_missed, view.recent_tracked, n
                ),
            );
        }
        if let (Some(p), Some(e)) = (prev.and_then(|p| p.epoch), view.epoch) {
            if p != e {
                push(
                    EventKind::EpochChanged,
                    "epoch",
                    format!("epoch {p} -> {e}"),
                );
            }
        }
        if let Some(p) = prev {
            for (what, before, now) in [
                ("key in force", &p.key_in_force, &view.key_in_force),
                ("key on ledger", &p.key_on_ledger, &view.key_on_ledger),
            ] {
                if before != now && now != &KeyOwner::Unknown {
                    push(
                        EventKind::KeyChanged,
                        what,
                        format!("{what}: {} -> {}", before.as_text(), now.as_text()),
                    );
                }
            }
            if p.decision != decision.label() {
                push(
                    EventKind::DecisionChanged,
                    "decision",
                    format!("decision {} -> {}", p.decision, decision.describe()),
                );
            }
        }
        let covered = |k: &str| {
            k.starts_with("source-") || k == "primary-unhealthy" || k == "backup-not-ready"
        };
        let now: BTreeSet<&str> = warnings.iter().map(|w| w.key.as_str()).collect();
        for w in warnings.iter().filter(|w| !covered(&w.key)) {
            if prev.is_none_or(|p| !p.warnings.contains(&w.key)) {
                push(EventKind::ProblemRaised, &w.key, w.message.clone());
            }
        }
        if let Some(p) = prev {
            for k in p
                .warnings
                .iter()
                .filter(|k| !covered(k) && !now.contains(k.as_str()))
            {
                push(EventKind::ProblemCleared, k, format!("resolved: {k}"));
            }
        }
        ev
    }
}

/// What the default policy's trigger weighs, computed by `observe`.
struct Evidence<'a> {
    /// (missed, tracked) of each trusted real-time source's window.
    windows: &'a [(u32, u32)],
    /// Real-time sources that must confirm: `min_confirming_sources` and a majority.
    quorum: usize,
    /// Misses that count as a failure now: N, or 1 while the early signal holds.
    threshold: u32,
    /// The early signal holds (rule 3).
    early: bool,
    /// Trusted ledger sources whose ledger moved since their last answer, and how many must.
    advancing: usize,
    ledger_quorum: usize,
    trusted: usize,
    primary: &'a PrimaryState,
    recent_missed: u32,
    recent_tracked: u32,
}

/// The gates every failover passes (rules 4 and 5 and the pre-flight): all blockers are named.
fn gate(
    reason: String,
    key_problem: Option<String>,
    gates: &Gates,
    backup_ready: &Result<(), String>,
) -> Decision {
    let mut blockers: Vec<String> = key_problem.into_iter().collect();
    if !gates.preflight_ok {
        blockers.push(format!(
            "pre-flight failed: {}",
            gates
                .preflight_problem
                .as_deref()
                .unwrap_or("(no reason given)")
        ));
    }
    if let Err(e) = backup_ready {
        blockers.push(format!("backup not ready: {e}"));
    }
    if blockers.is_empty() {
        Decision::FailOver { reason }
    } else {
        Decision::Blocked {
            reason,
            blocker: blockers.join("; "),
        }
    }
}

fn is_known(k: &KeyOwner) -> bool {
    matches!(k, KeyOwner::Primary | KeyOwner::Backup)
}

fn health_text(h: NodeHealth) -> &'static str {
    match h {
        NodeHealth::Up => "UP",
        NodeHealth::Syncing => "SYNCING",
        NodeHealth::OutOfSync => "OUT_OF_SYNC",
        NodeHealth::BootingPreGenesis => "BOOTING_PRE_GENESIS",
    }
}

/// The value held by a strict majority of the votes, else `Unknown` (also for no votes).
fn majority(votes: &[KeyOwner]) -> KeyOwner {
    for v in votes {
        if votes.iter().filter(|w| *w == v).count() * 2 > votes.len() {
            return v.clone();
        }
    }
    KeyOwner::Unknown
}

/// The k-th largest value (1-based), i.e. the largest x that at least k values reach. With
/// fewer than k values, the smallest of them (the best they all agree on); `None` when empty.
fn kth_largest(mut v: Vec<u64>, k: usize) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(|a, b| b.cmp(a));
    let k = k.clamp(1, v.len());
    Some(v[k - 1])
}

/// Feeds one source's delta into its window of the last `m` proposals. After one poll the
/// order is unknown, so made go first (pessimistic: the misses are the most recent). After a
/// gap the misses are spread evenly over the gap, so scattered misses cannot pile up at its end.
fn feed_window(window: &mut VecDeque<bool>, d: ProposalCounts, m: usize, one_poll: bool) {
    let total = d.made.saturating_add(d.missed);
    if total == 0 {
        return;
    }
    // Only the last m outcomes of the delta can stay in the window.
    let keep = total.min(m as u64);
    let skip = total - keep;
    for i in skip..total {
        let missed = if one_poll {
            i >= d.made
        } else {
            // Miss j sits at floor((j + 1/2) * total / missed): is there a j with that == i?
            // Equivalently: floor((2i+2) * missed / (2 total)) rounding step between i and i+1.
            let before = (2 * i as u128 * d.missed as u128 + total as u128) / (2 * total as u128);
            let after =
                ((2 * i as u128 + 2) * d.missed as u128 + total as u128) / (2 * total as u128);
            after > before
        };
        window.push_back(missed);
    }
    while window.len() > m {
        window.pop_front();
    }
}

#[cfg(test)]
mod tests;
