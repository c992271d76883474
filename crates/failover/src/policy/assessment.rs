//! What the policy answers for one poll: the decision, the view, warnings and events.

use serde::Serialize;

use super::keys::KeyOwner;
use super::source_trust::SourceTrust;
use crate::observe::{ProposalCounts, SourceKind};

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
    /// The flap limit (rule 10b, `flap_limit.rs`): why an automatic switch now would be one
    /// too many.
    pub switch_limit: Option<String>,
}

impl Gates {
    pub fn ok() -> Gates {
        Gates {
            preflight_ok: true,
            preflight_problem: None,
            switch_limit: None,
        }
    }

    pub fn failed(problem: impl Into<String>) -> Gates {
        Gates {
            preflight_ok: false,
            preflight_problem: Some(problem.into()),
            switch_limit: None,
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
    /// No `[primary] system_api` in the config, or it refuses us on trust or credentials (a
    /// wrong pin or password: [`crate::observe::SourceError::is_setup_refusal`]): no early
    /// signal.
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
    /// Rule 10: the node in the `primary` slot would be a ready standby (rule 4 against its
    /// own key). After a failover, the pair is re-armed once this holds.
    pub old_active_ready: Result<(), String>,
    /// The configured node in the `primary` role (the active node, whose key `Primary` is);
    /// the other is the standby.
    pub active_node: crate::roles::Node,
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
            "epoch {} round {} | key in force {}, on ledger {} | this epoch {} made {} missed | last {} proposals: {} missed (threshold {}) | sources {}/{} trusted, {} real-time (quorum {}) | {} {} | {} {}{}",
            opt(self.epoch),
            opt(self.round),
            self.key_in_force.as_text(self.active_node),
            self.key_on_ledger.as_text(self.active_node),
            opt(self.epoch_made),
            opt(self.epoch_missed),
            self.recent_tracked,
            self.recent_missed,
            self.miss_threshold,
            self.trusted_sources,
            self.ledger_sources,
            self.realtime_sources,
            self.quorum,
            self.active_node.name(),
            primary,
            self.active_node.other().name(),
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
