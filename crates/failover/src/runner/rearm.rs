//! Rule 10: the re-armed pair. After a failover the node that validates is the active node
//! and the other one its standby; the daemon swaps the roles (`Config::swapped`,
//! `Sources::swap_roles`, a policy for the new roles) and watches on, so a second failure
//! is failed over too, back to the old active node once it passes the readiness gate
//! (rule 4). Rule 10b, the flap limit (`policy/flap_limit.rs`), allows one automatic switch
//! per `policy.flap_limit_epochs`.

use tracing::{error, info, warn};

use super::{policy_for, Clock, RunError, Runner};
use crate::alerts::AlertEvent;
use crate::config::Config;
use crate::policy::flap_limit::flap_limit_blocker;
use crate::policy::{Assessment, KeyOwner};
use crate::roles::Node;
use crate::state::Phase;

/// The config with `active` in the `primary` slot, as the state file says: a restart after a
/// re-arm watches the node that validates, not the configured primary.
pub(super) fn oriented(config: Config, active: Node) -> Result<Config, RunError> {
    if config.active == active {
        return Ok(config);
    }
    config.swapped().ok_or_else(|| {
        RunError::Sources(format!(
            "the state file says the {} node is the active one (the pair was re-armed after a failover), but primary_public_key is not in the config, so the roles cannot be swapped; fix: add primary_public_key = \"<66 hex>\" (the primary's System API /identity), or move the state file away if the pair was reset by hand",
            active.name()
        ))
    })
}

/// The roles can be swapped: re-arm is on, and both keys are known.
fn can_rearm(config: &Config) -> bool {
    config.policy.rearm && config.primary_public_key.is_some()
}

/// The standby's key is the one on ledger and in force: the switch is done, the standby
/// validates (and a switch back is not already under way).
fn switch_took_effect(a: &Assessment) -> bool {
    a.view.key_on_ledger == KeyOwner::Backup && a.view.key_in_force == KeyOwner::Backup
}

/// The pair as an operator sees it: the node that validates, the other one, and whether that
/// one could take over.
pub(super) struct Pair<'a> {
    pub active: &'static str,
    pub standby: &'static str,
    pub standby_ready: Option<&'a Result<(), String>>,
}

impl<C: Clock> Runner<C> {
    /// Who validates and who stands by. Failed over and not yet re-armed, the node in the
    /// `backup` slot validates, and the old active node is the would-be standby.
    pub(super) fn pair(&self) -> Pair<'_> {
        if matches!(self.state.phase, Phase::FailedOver { .. }) {
            Pair {
                active: self.standby_name(),
                standby: self.active_name(),
                standby_ready: self.last_old_active_ready.as_ref(),
            }
        } else {
            Pair {
                active: self.active_name(),
                standby: self.standby_name(),
                standby_ready: self.last_standby_ready.as_ref(),
            }
        }
    }

    /// The configured name of the node in the `primary` slot (the one watched).
    pub(super) fn active_name(&self) -> &'static str {
        self.config.active.name()
    }

    /// The configured name of the node in the `backup` slot (the failover's target).
    pub(super) fn standby_name(&self) -> &'static str {
        self.config.active.other().name()
    }

    /// Rule 10b's blocker for an automatic switch in `epoch` (none before the epoch is known:
    /// nothing is decided without it).
    pub(super) fn switch_limit(&self, epoch: Option<u64>) -> Option<String> {
        if !self.config.policy.rearm {
            // Without re-arm there is one automatic switch in all: nothing to limit.
            return None;
        }
        flap_limit_blocker(
            self.state.last_auto_switch_epoch,
            epoch?,
            self.config.policy.flap_limit_epochs,
        )
    }

    /// Failed over, the new node validates, and the old one is a ready standby again: swap
    /// the roles and watch the new node (rule 10). Until the old node is ready the phase
    /// stays `failed_over` (the validator runs unprotected, and says so). `true` when the
    /// roles were swapped.
    pub(super) fn rearm_when_due(&mut self, a: &Assessment, epoch: Option<u64>) -> bool {
        if !can_rearm(&self.config) || !switch_took_effect(a) || a.view.old_active_ready.is_err() {
            return false;
        }
        let Some(epoch) = epoch else {
            return false;
        };
        let Some(swapped) = self.config.swapped() else {
            return false;
        };
        let (from, to) = (self.config.active, swapped.active);
        self.config = swapped;
        self.sources.swap_roles();
        self.policy = policy_for(&self.config).with_history_of(&self.policy);
        // The pre-flight is aimed at the new standby: run afresh from the next poll.
        self.preflight = None;
        self.polls_since_preflight = 0;
        self.preflight_epoch = None;
        self.said_key_confirmed = false;
        self.said_waiting_for_proposal = false;
        self.said_paused_hold = false;
        self.dry_run_logged = false;
        // The keys the last poll saw, in the new roles (for commands before the next poll).
        self.last_key_on_ledger = swap_owner(&self.last_key_on_ledger);
        self.last_key_in_force = swap_owner(&self.last_key_in_force);
        self.state.active = to;
        self.set_phase(
            Phase::Watching,
            format!(
                "re-armed: the {} is active, the {} stands by",
                to.name(),
                from.name()
            ),
        );
        self.metrics.set_active(to.name(), from.name());
        self.alert(AlertEvent::Rearmed {
            active: to.name().into(),
            standby: from.name().into(),
            epoch,
        });
        // Logged once the state file says so: whoever reads the line finds the file agrees.
        warn!(
            "RE-ARMED: the {} node validates and is watched now; the {} node is ready again and is its standby (the pre-flight checks it next). At most one automatic switch per {} epochs (policy.flap_limit_epochs)",
            to.name(),
            from.name(),
            self.config.policy.flap_limit_epochs
        );
        true
    }

    /// Why an automatic switch could not happen now, if it could not: the phase, a pause, the
    /// pre-flight, the standby's readiness, the flap limit.
    pub(super) fn not_armed_because(&self, now_ms: i64) -> Option<String> {
        if matches!(self.state.phase, Phase::FailedOver { .. }) && can_rearm(&self.config) {
            let why = match &self.last_old_active_ready {
                Some(Err(why)) => why.clone(),
                _ => "not checked yet".into(),
            };
            return Some(format!(
                "failed over; re-armed once the {} is a ready standby: {why}",
                self.active_name()
            ));
        }
        if !matches!(self.state.phase, Phase::Watching) {
            return Some(format!("phase {}", self.state.phase.name()));
        }
        if let crate::maintenance::PauseGate::Paused(p) =
            crate::maintenance::pause_gate(self.state.pause.as_ref(), now_ms)
        {
            return Some(format!("paused {}", p.describe(now_ms)));
        }
        if let Some(why) = self.gates(self.last_epoch).preflight_problem {
            return Some(format!("pre-flight: {why}"));
        }
        match &self.last_standby_ready {
            None => return Some("no poll yet".into()),
            Some(Err(why)) => {
                return Some(format!("the {} is not ready: {why}", self.standby_name()))
            }
            Some(Ok(())) => {}
        }
        self.switch_limit(self.last_epoch)
    }

    /// An automatic switch could happen now.
    pub(super) fn armed(&self, now_ms: i64) -> bool {
        self.not_armed_because(now_ms).is_none()
    }

    /// One line for `status`: who is active, who stands by, armed or why not.
    pub(super) fn protection_line(&self) -> String {
        let now = self.clock.now_ms();
        let pair = self.pair();
        let roles = format!(
            "the {} node is active, the {} node stands by",
            pair.active, pair.standby
        );
        match self.not_armed_because(now) {
            None => format!("{roles}; automatic failover armed"),
            Some(why) => format!("{roles}; automatic failover NOT armed ({why})"),
        }
    }

    /// The pair's metrics after a poll (rule 10 and 10b, item 7 of the HA-pair issue).
    pub(super) fn set_protection_metrics(&self) {
        let now = self.clock.now_ms();
        let limited = self.switch_limit(self.last_epoch).is_some();
        let pair = self.pair();
        self.metrics.set_active(pair.active, pair.standby);
        self.metrics.set_protection(crate::metrics::Protection {
            standby_ready: matches!(pair.standby_ready, Some(Ok(()))),
            armed: self.armed(now),
            flap_budget: u64::from(!limited),
            flap_next_epoch: self
                .state
                .last_auto_switch_epoch
                .filter(|_| limited)
                .map(|e| e.saturating_add(self.config.policy.flap_limit_epochs)),
            last_switch: self.state.last_switch.as_ref().map(|s| (s.epoch, s.at_ms)),
        });
    }

    /// Said once when re-arm is on but cannot happen (no primary key).
    pub(super) fn say_why_not_rearmed(&self, a: &Assessment) {
        if self.config.policy.rearm
            && self.config.primary_public_key.is_none()
            && switch_took_effect(a)
            && self.polls % 60 == 1
        {
            error!("failed over, and the pair is NOT re-armed: primary_public_key is not in the config, so no switch back can be aimed; fix: add it (the primary's System API /identity) and restart");
        }
        if can_rearm(&self.config) && switch_took_effect(a) {
            if let Err(why) = &a.view.old_active_ready {
                if self.polls % 300 == 1 {
                    warn!(
                        "failed over; the {} node validates, UNPROTECTED until the {} node is a ready standby again ({why}); then the pair is re-armed by itself",
                        self.standby_name(),
                        self.active_name()
                    );
                }
            }
        }
        if !self.config.policy.rearm && self.polls % 720 == 1 {
            info!(
                "failed over; policy.rearm = false: the {} is not watched for a second failure (fail back by hand: radix-failover failback)",
                self.active_name()
            );
        }
    }
}

/// A key owner in the swapped roles.
fn swap_owner(k: &KeyOwner) -> KeyOwner {
    match k {
        KeyOwner::Primary => KeyOwner::Backup,
        KeyOwner::Backup => KeyOwner::Primary,
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapping_an_owner_twice_is_the_owner() {
        for k in [
            KeyOwner::Primary,
            KeyOwner::Backup,
            KeyOwner::Unknown,
            KeyOwner::NotInActiveSet,
            KeyOwner::Other("ab".into()),
        ] {
            assert_eq!(swap_owner(&swap_owner(&k)), k);
        }
        assert_eq!(swap_owner(&KeyOwner::Primary), KeyOwner::Backup);
    }
}
