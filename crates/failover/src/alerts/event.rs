//! What the daemon alerts about: a typed event with a severity, a stable dedupe key and the
//! text every channel shows.

use serde_json::{json, Map, Value};

/// How loud an event is. PagerDuty pages on `Warning` and `Critical` only (an `Info` event
/// there would open an incident for good news); chat channels and the webhook get everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// The name PagerDuty Events v2 and the webhook use.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// One thing worth telling the operator. Built by the runner; sent with `Alerter::send`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertEvent {
    /// The daemon started watching.
    Started { version: String, dry_run: bool },
    /// A pre-flight check failed: automatic failover is blocked until it passes.
    PreflightFailed { detail: String },
    /// Every pre-flight check passes again (resolves `PreflightFailed`).
    PreflightRecovered,
    /// A source stopped answering or is not trusted (lagging, contradicted, ...).
    SourceDegraded { source: String, why: String },
    /// The source is trusted again (resolves its `SourceDegraded`).
    SourceRecovered { source: String },
    /// The primary node looks unhealthy (its System API is down or not UP): the early signal.
    PrimaryUnhealthy { why: String },
    /// The primary looks healthy again (resolves `PrimaryUnhealthy`).
    PrimaryRecovered,
    /// While watching: the backup node is not ready, so a failover would be blocked.
    BackupNotReady { why: String },
    /// The backup node is ready again (resolves `BackupNotReady`).
    BackupReady,
    /// Another problem the policy sees (no quorum, sources disagree, unexpected key...), by the
    /// policy's stable key.
    Problem { key: String, message: String },
    /// That problem is gone (resolves `Problem` with the same key).
    ProblemCleared { key: String },
    /// Our recent proposals are being missed, close to the failover threshold.
    MissesApproaching { missed: u64, threshold: u64 },
    /// The policy decided to fail over.
    FailoverDecided { reason: String },
    /// A failover is needed but blocked (pre-flight failing, backup not ready, ...): the
    /// validator is down and nothing will be submitted until the blocker is fixed.
    FailoverBlocked { reason: String, blocker: String },
    /// The failover transaction was submitted.
    Submitted { intent: String },
    /// The failover transaction committed successfully.
    Committed { intent: String, epoch: u64 },
    /// The failover transaction committed with a failure (fee paid, key not rotated).
    CommitFailed { message: String },
    /// The daemon stopped trying to submit (deadline passed); an operator must act.
    GaveUp { reason: String },
    /// The backup node validates with our validator's key.
    BackupValidating { node: String, epoch: u64 },
    /// After a failover the backup node is not healthy: nothing protects the validator now.
    BackupUnhealthy { node: String, why: String },
    /// The backup node is healthy again (resolves `BackupUnhealthy`).
    BackupRecovered,
    /// A fail back to the primary's key (decided, committed or seen on ledger).
    Failback { detail: String },
    /// The state file cannot be written: a restart would not resume correctly.
    StateFileError { error: String },
    /// The state file is written again (resolves `StateFileError`).
    StateFileRecovered,
    /// A maintenance pause: no automatic switch until `until` (`radix-failover pause`).
    Paused { until: String, reason: String },
    /// The pause ended (by itself or `resume`): automatic failover is armed again. Always
    /// sent (not a recovery): after a restart the alerter no longer knows the pause was sent.
    Resumed { why: String },
    /// `radix-failover alerts test`: proves a channel delivers; never sent by the daemon.
    Test { from: String },
    /// After a failover the pair is re-armed: the node that validates is watched, the other
    /// is its standby (docs/policy.md, rule 10).
    Rearmed {
        active: String,
        standby: String,
        epoch: u64,
    },
    /// The authority tripwire (rule 11) found a change to the validator this daemon did not
    /// make. No automatic reaction: a person must look.
    AuthorityChanged { change: crate::tripwire::Change },
}

impl AlertEvent {
    /// Stable snake_case name (the webhook's `event` field).
    pub fn name(&self) -> &'static str {
        match self {
            AlertEvent::Started { .. } => "started",
            AlertEvent::PreflightFailed { .. } => "preflight_failed",
            AlertEvent::PreflightRecovered => "preflight_recovered",
            AlertEvent::SourceDegraded { .. } => "source_degraded",
            AlertEvent::SourceRecovered { .. } => "source_recovered",
            AlertEvent::PrimaryUnhealthy { .. } => "primary_unhealthy",
            AlertEvent::PrimaryRecovered => "primary_recovered",
            AlertEvent::BackupNotReady { .. } => "backup_not_ready",
            AlertEvent::BackupReady => "backup_ready",
            AlertEvent::Problem { .. } => "problem",
            AlertEvent::ProblemCleared { .. } => "problem_cleared",
            AlertEvent::MissesApproaching { .. } => "misses_approaching",
            AlertEvent::FailoverDecided { .. } => "failover_decided",
            AlertEvent::FailoverBlocked { .. } => "failover_blocked",
            AlertEvent::Submitted { .. } => "submitted",
            AlertEvent::Committed { .. } => "committed",
            AlertEvent::CommitFailed { .. } => "commit_failed",
            AlertEvent::GaveUp { .. } => "gave_up",
            AlertEvent::BackupValidating { .. } => "backup_validating",
            AlertEvent::BackupUnhealthy { .. } => "backup_unhealthy",
            AlertEvent::BackupRecovered => "backup_recovered",
            AlertEvent::Failback { .. } => "failback",
            AlertEvent::StateFileError { .. } => "state_file_error",
            AlertEvent::StateFileRecovered => "state_file_recovered",
            AlertEvent::Paused { .. } => "paused",
            AlertEvent::Resumed { .. } => "resumed",
            AlertEvent::Test { .. } => "test",
            AlertEvent::Rearmed { .. } => "rearmed",
            AlertEvent::AuthorityChanged { .. } => "authority_changed",
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            AlertEvent::Started { .. }
            | AlertEvent::PreflightRecovered
            | AlertEvent::SourceRecovered { .. }
            | AlertEvent::Submitted { .. }
            | AlertEvent::BackupValidating { .. }
            | AlertEvent::BackupRecovered
            | AlertEvent::StateFileRecovered
            | AlertEvent::PrimaryRecovered
            | AlertEvent::BackupReady
            | AlertEvent::ProblemCleared { .. }
            | AlertEvent::Resumed { .. } => Severity::Info,
            AlertEvent::SourceDegraded { .. }
            | AlertEvent::PrimaryUnhealthy { .. }
            | AlertEvent::BackupNotReady { .. }
            | AlertEvent::Problem { .. }
            | AlertEvent::MissesApproaching { .. }
            | AlertEvent::Committed { .. }
            | AlertEvent::Failback { .. }
            | AlertEvent::Paused { .. }
            | AlertEvent::Rearmed { .. }
            // A warning, so that every channel takes it (PagerDuty skips info events).
            | AlertEvent::Test { .. } => Severity::Warning,
            AlertEvent::PreflightFailed { .. }
            | AlertEvent::FailoverDecided { .. }
            | AlertEvent::FailoverBlocked { .. }
            | AlertEvent::StateFileError { .. }
            | AlertEvent::CommitFailed { .. }
            | AlertEvent::GaveUp { .. }
            | AlertEvent::BackupUnhealthy { .. }
            | AlertEvent::AuthorityChanged { .. } => Severity::Critical,
        }
    }

    /// The condition this event is about. Two events with the same key within the resend
    /// interval are one alert; a recovery event carries the key of the condition it ends (and
    /// is PagerDuty's `dedup_key`, so the resolve closes the incident the trigger opened).
    /// The dedupe key: one alert per kind of problem, resent after
    /// `resend_interval`; a different problem of the same event (another
    /// blocker) is a new alert.
    pub fn dedupe_key(&self) -> String {
        match self {
            AlertEvent::PreflightFailed { .. } | AlertEvent::PreflightRecovered => {
                "preflight".into()
            }
            AlertEvent::SourceDegraded { source, .. } | AlertEvent::SourceRecovered { source } => {
                format!("source:{source}")
            }
            AlertEvent::BackupUnhealthy { .. } | AlertEvent::BackupRecovered => {
                "backup_unhealthy".into()
            }
            AlertEvent::StateFileError { .. } | AlertEvent::StateFileRecovered => {
                "state_file".into()
            }
            AlertEvent::PrimaryUnhealthy { .. } | AlertEvent::PrimaryRecovered => {
                "primary_unhealthy".into()
            }
            AlertEvent::BackupNotReady { .. } | AlertEvent::BackupReady => {
                "backup_not_ready".into()
            }
            AlertEvent::Problem { key, .. } | AlertEvent::ProblemCleared { key } => {
                format!("problem:{key}")
            }
            AlertEvent::Submitted { intent } => format!("submitted:{intent}"),
            AlertEvent::Committed { intent, .. } => format!("committed:{intent}"),
            AlertEvent::BackupValidating { epoch, .. } => format!("backup_validating:{epoch}"),
            AlertEvent::Rearmed { epoch, .. } => format!("rearmed:{epoch}"),
            // One alert per change: the same kind changing again (to another value) is news.
            AlertEvent::AuthorityChanged { change } => {
                format!("authority:{}:{}", change.what.as_str(), change.to)
            }
            AlertEvent::FailoverBlocked { blocker, .. } => {
                format!("failover_blocked:{}", blocker_kind(blocker))
            }
            other => other.name().into(),
        }
    }

    /// The failover's own events: decided, submitted, committed, committed with a failure,
    /// gave up, and a change to the validator nobody here made. They jump each channel's
    /// queue ahead of the warnings waiting in it: when the
    /// daemon acts, that is the news, whatever else is degraded.
    pub fn is_urgent(&self) -> bool {
        matches!(
            self,
            AlertEvent::FailoverDecided { .. }
                | AlertEvent::Submitted { .. }
                | AlertEvent::Committed { .. }
                | AlertEvent::CommitFailed { .. }
                | AlertEvent::GaveUp { .. }
                | AlertEvent::AuthorityChanged { .. }
        )
    }

    /// True for events that end a condition (`*_recovered`): they are delivered only if the
    /// condition was alerted, and PagerDuty gets a `resolve`.
    pub fn is_recovery(&self) -> bool {
        matches!(
            self,
            AlertEvent::PreflightRecovered
                | AlertEvent::SourceRecovered { .. }
                | AlertEvent::BackupRecovered
                | AlertEvent::StateFileRecovered
                | AlertEvent::PrimaryRecovered
                | AlertEvent::BackupReady
                | AlertEvent::ProblemCleared { .. }
        )
    }

    /// One line for humans, without the validator (channels add it).
    pub fn message(&self) -> String {
        match self {
            AlertEvent::Started { version, dry_run } => format!(
                "radix-failover {version} started watching{}",
                if *dry_run { " (DRY RUN: it will not submit)" } else { "" }
            ),
            AlertEvent::PreflightFailed { detail } => {
                format!("pre-flight FAILED, automatic failover is blocked: {detail}")
            }
            AlertEvent::PreflightRecovered => {
                "pre-flight passes again: automatic failover is armed".into()
            }
            AlertEvent::SourceDegraded { source, why } => format!("source {source} degraded: {why}"),
            AlertEvent::SourceRecovered { source } => format!("source {source} recovered"),
            AlertEvent::PrimaryUnhealthy { why } => format!("the primary looks unhealthy: {why}"),
            AlertEvent::PrimaryRecovered => "the primary looks healthy again".into(),
            AlertEvent::BackupNotReady { why } => format!(
                "the backup node is NOT READY, a failover would be blocked: {why}"
            ),
            AlertEvent::BackupReady => "the backup node is ready to take over".into(),
            AlertEvent::Problem { message, .. } => message.clone(),
            AlertEvent::ProblemCleared { key } => format!("resolved: {key}"),
            AlertEvent::MissesApproaching { missed, threshold } => format!(
                "missed proposals approaching the failover threshold: {missed} missed (failover at {threshold})"
            ),
            AlertEvent::FailoverDecided { reason } => format!("FAILOVER DECIDED: {reason}"),
            AlertEvent::FailoverBlocked { reason, blocker } => format!(
                "failover NEEDED ({reason}) but BLOCKED: {blocker}. Nothing is submitted until this is fixed"
            ),
            AlertEvent::Submitted { intent } => format!("failover transaction submitted: {intent}"),
            AlertEvent::Committed { intent, epoch } => format!(
                "failover transaction COMMITTED in epoch {epoch}: {intent}; the backup's key applies from epoch {}",
                epoch.saturating_add(1)
            ),
            AlertEvent::CommitFailed { message } => format!(
                "failover transaction COMMITTED WITH FAILURE: {message}. The daemon stopped; an operator must act"
            ),
            AlertEvent::GaveUp { reason } => format!(
                "GAVE UP on the failover transaction: {reason}. An operator must act"
            ),
            AlertEvent::BackupValidating { node, epoch } => {
                format!("the {node} node validates in epoch {epoch}")
            }
            AlertEvent::BackupUnhealthy { node, why } => format!(
                "failed over, and the {} IS NOT HEALTHY: {why}. Nothing protects the validator now",
                node.to_uppercase()
            ),
            AlertEvent::BackupRecovered => "the node that validates is healthy again".into(),
            AlertEvent::Failback { detail } => format!("failback: {detail}"),
            AlertEvent::StateFileError { error } => format!(
                "cannot write the state file: {error}. The daemon carries on, but a restart would not resume correctly"
            ),
            AlertEvent::StateFileRecovered => "the state file is written again".into(),
            AlertEvent::Paused { until, reason } => format!(
                "PAUSED for maintenance until {until} ({reason}): no automatic switch until then; it resumes by itself"
            ),
            AlertEvent::Resumed { why } => {
                format!("maintenance pause over ({why}): automatic failover is armed again")
            }
            AlertEvent::Test { from } => format!(
                "test alert from radix-failover on {from}: this channel works (sent by `radix-failover alerts test`; nothing happened to the validator)"
            ),
            AlertEvent::AuthorityChanged { change } => format!(
                "AUTHORITY CHANGED: {}. radix-failover does nothing about it by itself. If nobody on your team made this change, treat the key of the account that holds the owner badge as stolen: from a wallet you trust, move the badge to a safe account and change the validator back, then give the daemon a new key",
                change.message()
            ),
            AlertEvent::Rearmed { active, standby, epoch } => format!(
                "RE-ARMED in epoch {epoch}: the {active} node validates and is watched now; the {standby} node is ready again (UP, synced, configured for our validator, holding its key) and is its standby"
            ),
        }
    }

    /// The event's data as JSON (webhook `details`, PagerDuty `custom_details`).
    pub fn details(&self) -> Map<String, Value> {
        let v = match self {
            AlertEvent::Started { version, dry_run } => {
                json!({ "version": version, "dry_run": dry_run })
            }
            AlertEvent::PreflightFailed { detail } => json!({ "detail": detail }),
            AlertEvent::SourceDegraded { source, why } => json!({ "source": source, "why": why }),
            AlertEvent::SourceRecovered { source } => json!({ "source": source }),
            AlertEvent::MissesApproaching { missed, threshold } => {
                json!({ "missed": missed, "threshold": threshold })
            }
            AlertEvent::PrimaryUnhealthy { why } | AlertEvent::BackupNotReady { why } => {
                json!({ "why": why })
            }
            AlertEvent::Problem { key, message } => json!({ "key": key, "message": message }),
            AlertEvent::ProblemCleared { key } => json!({ "key": key }),
            AlertEvent::FailoverDecided { reason } => json!({ "reason": reason }),
            AlertEvent::FailoverBlocked { reason, blocker } => {
                json!({ "reason": reason, "blocker": blocker })
            }
            AlertEvent::StateFileError { error } => json!({ "error": error }),
            AlertEvent::Submitted { intent } => json!({ "intent": intent }),
            AlertEvent::Committed { intent, epoch } => json!({ "intent": intent, "epoch": epoch }),
            AlertEvent::CommitFailed { message } => json!({ "message": message }),
            AlertEvent::GaveUp { reason } => json!({ "reason": reason }),
            AlertEvent::BackupValidating { node, epoch } => json!({ "node": node, "epoch": epoch }),
            AlertEvent::BackupUnhealthy { node, why } => json!({ "node": node, "why": why }),
            AlertEvent::Failback { detail } => json!({ "detail": detail }),
            AlertEvent::Paused { until, reason } => json!({ "until": until, "reason": reason }),
            AlertEvent::Resumed { why } => json!({ "why": why }),
            AlertEvent::Test { from } => json!({ "from": from }),
            AlertEvent::Rearmed {
                active,
                standby,
                epoch,
            } => json!({ "active": active, "standby": standby, "epoch": epoch }),
            AlertEvent::AuthorityChanged { change } => json!({
                "what": change.what.as_str(),
                "from": change.from,
                "to": change.to,
                "seen_epoch": change.seen_epoch,
                "seen_at": crate::maintenance::utc(change.seen_at_ms),
                "seen_at_ms": change.seen_at_ms,
                "last_seen_epoch": change.last_seen_epoch,
                "last_seen_at": crate::maintenance::utc(change.last_seen_at_ms),
                "last_seen_at_ms": change.last_seen_at_ms,
            }),
            AlertEvent::PreflightRecovered
            | AlertEvent::BackupRecovered
            | AlertEvent::StateFileRecovered
            | AlertEvent::PrimaryRecovered
            | AlertEvent::BackupReady => json!({}),
        };
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// The text chat channels show: `[CRITICAL] <validator> (<network>): <message>`.
    /// The one line the chat channels post: severity, watcher, validator, network, message.
    pub fn chat_text(&self, a: &super::Alert) -> String {
        let tag = if self.is_recovery() {
            "RESOLVED"
        } else {
            self.severity().tag()
        };
        format!(
            "[{tag}] radix-failover on {}: {} ({}): {}",
            a.watcher,
            a.validator,
            a.network,
            self.message()
        )
    }
}

/// Cuts `s` to at most `max` characters (not bytes: the APIs count characters), marking the
/// cut with an ellipsis.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// What kind of blocker this is, without the figures that change every poll
/// (epochs, counts, seconds): the same blocker one epoch later is the same
/// alert, a different blocker is a new one.
fn blocker_kind(blocker: &str) -> String {
    const MAX_CHARS: usize = 80;
    blocker
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .take(MAX_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(blocker: &str) -> AlertEvent {
        AlertEvent::FailoverBlocked {
            reason: "primary down".into(),
            blocker: blocker.into(),
        }
    }

    #[test]
    fn the_same_blocker_in_a_later_epoch_is_the_same_alert() {
        assert_eq!(
            blocked("flap limit: last switch in epoch 7, next allowed in epoch 19").dedupe_key(),
            blocked("flap limit: last switch in epoch 8, next allowed in epoch 20").dedupe_key(),
        );
    }

    #[test]
    fn a_different_blocker_is_a_new_alert() {
        assert_ne!(
            blocked("the backup node is not ready: not synced").dedupe_key(),
            blocked("flap limit: last switch in epoch 7, next allowed in epoch 19").dedupe_key(),
        );
    }
}
