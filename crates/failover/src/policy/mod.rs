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
//! The operator's version of these rules is docs/policy.md. Each rule has its own file here:
//! `source_trust` (rule 1), `miss_window` (rule 2), `early_signal` (rule 3),
//! `backup_readiness` (rule 4), `keys` (rule 5, never twice), `legacy` (rule 6);
//! `default_rule` puts rules 2 and 3 together, `events` reports changes.

use std::collections::BTreeMap;

use crate::observe::{NodeConsensus, Observation};
use crate::policy::params::{PolicyName, PolicyParams};
use crate::roles::Roles;

mod assessment;
mod backup_readiness;
mod default_rule;
mod early_signal;
mod epoch_deadline;
mod events;
pub mod flap_limit;
mod keys;
pub(crate) use keys::strict_majority;
mod legacy;
mod miss_window;
mod network_degraded;
pub mod params;
mod primary_identity;
mod primary_ledger;
mod small_validator;
mod source_trust;

pub use assessment::{
    Assessment, Decision, EventKind, Gates, PolicyEvent, PolicyKeys, PrimaryState, SourceStatus,
    View, Warning,
};
pub use keys::KeyOwner;
pub use network_degraded::{NETWORK_DEGRADED_SHARE, NETWORK_MIN_ROUNDS, NETWORK_WINDOW_ROUNDS};
pub use small_validator::SMALL_VALIDATOR_MISSES_IN_A_ROW;
pub use source_trust::{SourceTrust, CLOCK_AHEAD_TOLERANCE_MS, EPOCH_TOLERANCE, MISSED_TOLERANCE};

use default_rule::Evidence;
use epoch_deadline::EpochClock;
use events::Previous;
use miss_window::SourceMemory;
use source_trust::Seen;

/// The ledger source name config.rs gives the backup's Core API: when it is a source, the
/// backup is ready only if that source is trusted (its node is synced).
pub const BACKUP_CORE_SOURCE: &str = "core backup";
/// The ledger source name config.rs gives the primary's own Core API.
pub const PRIMARY_CORE_SOURCE: &str = "core primary";

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
    /// The primary's System API gave no answer at all on this poll.
    primary_unreachable: bool,
    /// Consecutive polls in which the network's ledger advanced and the primary's own did not.
    primary_stalled_polls: u32,
    /// The epochs' timing, from the ledger's clock (rule 2c).
    epoch_clock: EpochClock,
    /// Whose key was in force when the windows were last fed (primary or backup).
    window_owner: Option<KeyOwner>,
    previous: Option<Previous>,
    /// Which configured node the observation's `primary` is (the active node) and which its
    /// `backup` (the standby): for the Core source names and the words of every message.
    roles: Roles,
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
            primary_unreachable: false,
            primary_stalled_polls: 0,
            epoch_clock: EpochClock::default(),
            window_owner: None,
            previous: None,
            roles: Roles::default(),
        }
    }

    /// The same policy for a pair whose roles are `roles` (after a re-arm, the configured
    /// backup is the active node): `keys` must then hold the active node's key as
    /// `primary_key_hex`, as `Config::swapped` gives them.
    pub fn with_roles(mut self, roles: Roles) -> Policy {
        self.roles = roles;
        self
    }

    /// Carries over what `other` learnt of the network that does not depend on the roles:
    /// the epochs' timing (rule 2c). Used when the roles swap (a re-arm), so the new policy
    /// need not wait two epoch changes before rule 2c protects the new active node.
    pub fn with_history_of(mut self, other: &Policy) -> Policy {
        self.epoch_clock = other.epoch_clock.clone();
        self
    }

    /// The roles this policy watches.
    pub fn roles(&self) -> Roles {
        self.roles
    }

    pub fn params(&self) -> &PolicyParams {
        &self.params
    }

    /// One poll in, one assessment out. Deterministic: the same sequence of observations and
    /// gates gives the same sequence of assessments. The pipeline of the rules, in order.
    pub fn observe(&mut self, obs: &Observation, gates: &Gates) -> Assessment {
        let mut warnings: Vec<Warning> = Vec::new();
        // Rule 1: which sources count.
        let previous_epoch = self.previous.as_ref().and_then(|p| p.epoch);
        let seen = source_trust::judge_sources(&self.params, obs, previous_epoch, &mut warnings);
        let trusted: Vec<usize> = (0..seen.len())
            .filter(|&i| seen[i].trust.is_trusted())
            .collect();
        // Rule 5: the keys, as the trusted sources agree.
        let (key_in_force, key_on_ledger, key_problem) =
            self.agree_keys(&seen, &trusted, &mut warnings);
        // Rule 2: the miss windows and what a quorum confirms.
        self.restart_windows_on_new_owner(&key_in_force);
        let advancing = self.feed_sources(&seen);
        self.feed_network(&seen);
        let tally = self.tally(&seen, &trusted);
        let finished_missed = self.finished_missed(&seen, &trusted);
        // Rules 2b and 2c: a small validator's misses in a row, the epoch's end.
        let turns_last_epoch = self.turns_last_epoch(&seen, &tally.realtime);
        let in_a_row = self.confirmed_misses_in_a_row(&seen, &tally.realtime, tally.quorum);
        let ledger_now = self.feed_epoch_clock(&seen, tally.epoch);
        let epoch_ending = self.epoch_ending(ledger_now);
        // Rule 3: the early signal.
        self.track_primary_ledger(&seen);
        let primary = self.assess_primary(obs.primary.as_ref(), &key_in_force);
        self.track_made_during_streak(&seen);
        let proposing = self.primary_still_proposing(&seen, &tally.realtime);
        let early = self.early_signal_holds(&key_in_force) && proposing.is_none();
        if let Some(why) = &proposing {
            warnings.push(Warning {
                key: "primary-proposing".into(),
                message: format!("{why}: no early failover; check the {}'s System API (or the nginx in front of it)", self.roles.active.name()),
            });
        }
        // Rule 8: the network's problem, not ours.
        let network = self.network_degraded(&seen, &tally.realtime);
        if let Some(why) = &network {
            warnings.push(Warning {
                key: "network-degraded".into(),
                message: why.clone(),
            });
        }
        let threshold = if early {
            1
        } else {
            self.params.missed_proposals.max(1)
        };
        warn_primary_unhealthy(&primary, self.roles, &mut warnings);
        // Rule 4: the backup's readiness, and the pre-flight.
        let backup_ready = self.backup_readiness(obs.backup.as_ref(), &seen);
        let old_active_ready = self.old_active_readiness(obs.primary.as_ref(), &seen);
        warn_not_ready(&backup_ready, gates, self.roles, &mut warnings);
        self.warn_no_quorum(&seen, &trusted, &tally, &mut warnings);

        let decision = if trusted.is_empty() {
            no_trusted_source(&seen, &mut warnings)
        } else if keys::already_failed_over(&key_in_force, &key_on_ledger) {
            Decision::AlreadyFailedOver
        } else {
            let ledger_quorum = self.min_confirm().max(trusted.len() / 2 + 1);
            let trigger = match self.params.name {
                PolicyName::Default => self.default_trigger(&Evidence {
                    windows: &tally.windows,
                    quorum: tally.quorum,
                    threshold,
                    early,
                    advancing,
                    ledger_quorum,
                    trusted: trusted.len(),
                    primary: &primary,
                    recent_missed: tally.recent_missed,
                    recent_tracked: tally.recent_tracked,
                    small_validator: self.small_validator(turns_last_epoch),
                    misses_in_a_row: in_a_row,
                    epoch_ending,
                }),
                PolicyName::Legacy => self.legacy_trigger(&seen, &trusted),
            };
            match trigger {
                Err(d) => d,
                Ok(None) => Decision::Healthy,
                Ok(Some(reason)) => match network {
                    Some(why) => Decision::Blocked {
                        reason,
                        blocker: why,
                    },
                    None => backup_readiness::gate(
                        reason,
                        key_problem,
                        gates,
                        &backup_ready,
                        self.roles,
                    ),
                },
            }
        };

        let view = View {
            epoch: tally.epoch,
            round: tally.round,
            key_in_force,
            key_on_ledger,
            epoch_made: tally.epoch_made,
            epoch_missed: tally.epoch_missed,
            recent_missed: tally.recent_missed,
            recent_tracked: tally.recent_tracked,
            miss_threshold: threshold,
            trusted_sources: trusted.len(),
            ledger_sources: seen.len(),
            realtime_sources: tally.realtime.len(),
            quorum: tally.quorum,
            primary,
            backup_ready,
            old_active_ready,
            active_node: self.roles.active,
            backup_validating: obs
                .backup
                .as_ref()
                .and_then(|b| b.result.as_ref().ok())
                .is_some_and(|n| n.consensus == NodeConsensus::ValidatingInCurrentEpoch),
            finished_missed,
            sources: self.source_statuses(obs, &seen),
        };
        let events = self.events(
            &view,
            &seen,
            &decision,
            &warnings,
            self.params.missed_proposals.max(1),
        );
        self.remember(&seen, &view, &decision, &warnings);
        Assessment {
            decision,
            view,
            warnings,
            events,
        }
    }

    fn min_confirm(&self) -> usize {
        self.params.min_confirming_sources.max(1) as usize
    }

    /// Too few trusted real-time sources to confirm misses (default policy only).
    fn warn_no_quorum(
        &self,
        seen: &[Seen<'_>],
        trusted: &[usize],
        tally: &miss_window::Tally,
        warnings: &mut Vec<Warning>,
    ) {
        let min_confirm = self.min_confirm();
        let realtime = &tally.realtime;
        if self.params.name != PolicyName::Default
            || realtime.len() >= min_confirm
            || trusted.is_empty()
        {
            return;
        }
        let names = realtime
            .iter()
            .map(|&i| seen[i].name)
            .collect::<Vec<_>>()
            .join(", ");
        warnings.push(Warning {
            key: "no-quorum".into(),
            message: format!(
                "only {} trusted Core source(s) see misses in real time ({}); {} must confirm them (policy.min_confirming_sources): fix or add Core API sources",
                realtime.len(),
                if realtime.is_empty() { "none".to_string() } else { names },
                min_confirm
            ),
        });
    }

    /// Each source as this poll saw it, for the view.
    fn source_statuses(&self, obs: &Observation, seen: &[Seen<'_>]) -> Vec<SourceStatus> {
        seen.iter()
            .map(|s| {
                let (recent_missed, recent_tracked) = self.window_of(s.name);
                SourceStatus {
                    name: s.name.to_string(),
                    kind: s.kind,
                    trust: s.trust.clone(),
                    epoch: s.reading.map(|r| r.epoch),
                    round: s.reading.map(|r| r.round),
                    lag_ms: s
                        .reading
                        .map(|r| obs.at_ms.saturating_sub(r.ledger_time_ms)),
                    current_epoch: s.reading.and_then(|r| r.current_epoch),
                    recent_missed,
                    recent_tracked,
                }
            })
            .collect()
    }

    /// What the next poll's events compare against.
    fn remember(
        &mut self,
        seen: &[Seen<'_>],
        view: &View,
        decision: &Decision,
        warnings: &[Warning],
    ) {
        for s in seen {
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
    }
}

fn warn_primary_unhealthy(primary: &PrimaryState, roles: Roles, warnings: &mut Vec<Warning>) {
    if let PrimaryState::Unhealthy {
        reason,
        consecutive_polls,
    } = primary
    {
        warnings.push(Warning {
            key: "primary-unhealthy".into(),
            message: format!(
                "the {} node looks unhealthy for {consecutive_polls} polls: {reason}",
                roles.active.name()
            ),
        });
    }
}

fn warn_not_ready(
    backup_ready: &Result<(), String>,
    gates: &Gates,
    roles: Roles,
    warnings: &mut Vec<Warning>,
) {
    if let Err(e) = backup_ready {
        warnings.push(Warning {
            key: "backup-not-ready".into(),
            message: format!("{} not ready: {e}", roles.standby().name()),
        });
    }
    if let Some(why) = &gates.switch_limit {
        warnings.push(Warning {
            key: "flap-limit".into(),
            message: why.clone(),
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
}

/// No ledger source can be trusted: `unknown`, with every source's reason.
fn no_trusted_source(seen: &[Seen<'_>], warnings: &mut Vec<Warning>) -> Decision {
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
}

#[cfg(test)]
mod tests;
