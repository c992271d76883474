//! Rule 11 in the loop: on every poll, the authority tripwire (`tripwire.rs`) compares the
//! validator the sources agree on with the baseline in the state file (the owner badge is
//! read once per epoch), and alerts on each change the daemon did not make. It never acts
//! on what it finds.

use tracing::{debug, error, info, warn};

use super::{Clock, Runner};
use crate::alerts::AlertEvent;
use crate::observe::{Observation, ValidatorSettings};
use crate::preflight;
use crate::tripwire::{self, Badge};

impl<C: Clock> Runner<C> {
    /// The tripwire's check of this poll, when the ledger sources agree on the validator.
    pub(super) async fn check_authority(&mut self, obs: &Observation, epoch: Option<u64>) {
        let Some(epoch) = epoch else { return };
        let at_epoch: Vec<_> = obs
            .ledger
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .filter(|r| r.epoch == epoch)
            .collect();
        let readings: Vec<(String, ValidatorSettings)> = at_epoch
            .iter()
            .filter_map(|r| Some((r.key_on_ledger.clone()?, r.settings.clone()?)))
            .collect();
        if readings.is_empty() && !at_epoch.is_empty() && !self.said_tripwire_blind {
            warn!("authority tripwire: none of the {} ledger source(s) that answered shows our validator's settings (key on ledger, fee, registration, delegation), so changes to them are not watched; fix: add a node's Core API (core_api under [primary] or [backup]) or a gateway whose validator list carries the validator's state", at_epoch.len());
            self.said_tripwire_blind = true;
        }
        let Some((key, settings)) = tripwire::agreed_settings(&readings) else {
            debug!(
                "authority tripwire (epoch {epoch}): {} source(s) show the validator's settings, and no majority agrees; trying again next poll",
                readings.len()
            );
            return;
        };
        // Between the epochs' reads the badge is `Unknown`: the baseline keeps the last read.
        let (badge, controller) = if tripwire::badge_read_due(self.tripwire_badge_epoch, epoch) {
            self.tripwire_badge_epoch = Some(epoch);
            self.badge_where(epoch).await
        } else {
            (Badge::Unknown, None)
        };
        let located = if matches!(badge, Badge::NotInAccount(_)) {
            preflight::owner_badge_location(&self.config, &self.sources).await
        } else {
            None
        };
        let mut now = tripwire::authority_at(&key, &settings, epoch, badge);
        now.badge_location = located;
        if let Some(v) = controller {
            now.controller = Some(crate::access_controller::summary(&v));
            now.recovery_fee_xrd = v.recovery_fee_xrd;
        }
        let first = self.state.tripwire.is_none();
        let checked = tripwire::check(
            self.state.tripwire.as_ref(),
            now,
            epoch,
            self.clock.now_ms(),
        );
        if first {
            info!(
                "authority tripwire: baseline in epoch {epoch}: {}",
                describe(&checked.tripwire.baseline)
            );
        }
        for c in &checked.changes {
            error!("AUTHORITY CHANGED: {}", c.message());
            self.metrics.record_authority_change(c.what);
            self.alert(AlertEvent::AuthorityChanged { change: c.clone() });
        }
        // Written when something changed, and once per epoch (the last epoch checked).
        let worth_saving = self.state.tripwire.as_ref().is_none_or(|t| {
            t.baseline != checked.tripwire.baseline
                || t.baseline_epoch != checked.tripwire.baseline_epoch
                || t.own_keys != checked.tripwire.own_keys
        });
        self.state.tripwire = Some(checked.tripwire);
        self.metrics.set_authority_checked(epoch);
        if worth_saving {
            self.save_state();
        }
    }

    /// Where the owner badge is: in the account (or access controller) the failover
    /// transaction proves it from, or not; unknown without a gateway or with a manifest
    /// template that proves it from elsewhere. With an access controller, also its state.
    async fn badge_where(
        &mut self,
        epoch: u64,
    ) -> (Badge, Option<crate::access_controller::ControllerView>) {
        // The key-file account, as the failover transaction's (`tx::build_update_key`).
        let account = crate::keys::account_address(
            &radix_common::crypto::PublicKey::Ed25519(self.key.public_key()),
            &self.config.network,
        );
        if let Some(ac) = preflight::controller_address(&self.config, &account) {
            let read = match self.controller_read_in(epoch) {
                Some(v) => Ok(v.clone()),
                None => {
                    preflight::read_controller(&self.config, &self.sources, &ac, &account).await
                }
            };
            return match read {
                Ok(v) => {
                    self.controller_read = Some((epoch, v.clone()));
                    let badge = if v.holds_badge {
                        Badge::InAccount(ac)
                    } else {
                        Badge::NotInAccount(ac)
                    };
                    (badge, Some(v))
                }
                Err((why, _)) => {
                    debug!("authority tripwire: {why}");
                    (Badge::Unknown, None)
                }
            };
        }
        let Some(holder) = preflight::badge_holder(&self.config, &account) else {
            return (Badge::Unknown, None);
        };
        let badge = match preflight::owner_badge_in(&self.config, &self.sources, &holder).await {
            Some(true) => Badge::InAccount(holder),
            Some(false) => Badge::NotInAccount(holder),
            None => Badge::Unknown,
        };
        (badge, None)
    }
}

impl<C: Clock> Runner<C> {
    /// The access controller as read in `epoch` already (by the re-check or the tripwire).
    pub(super) fn controller_read_in(
        &self,
        epoch: u64,
    ) -> Option<&crate::access_controller::ControllerView> {
        self.controller_read
            .as_ref()
            .filter(|(e, _)| *e == epoch)
            .map(|(_, v)| v)
    }
}

/// The baseline, for the log and `status`.
pub(crate) fn describe(a: &tripwire::Authority) -> String {
    let pending = a
        .fee_pending
        .as_ref()
        .map(|p| {
            format!(
                " (change to {} requested from epoch {})",
                tripwire::fee_text(&p.fee_factor),
                p.epoch_effective
            )
        })
        .unwrap_or_default();
    let badge = match &a.badge {
        Badge::InAccount(acc) => format!("owner badge in {acc}"),
        Badge::NotInAccount(acc) => match &a.badge_location {
            Some(at) => format!("owner badge NOT in {acc} (now: {at})"),
            None => format!("owner badge NOT in {acc}"),
        },
        Badge::Unknown => "owner badge not watched (no gateway, or a manifest template that proves it from neither the account nor a listed access controller)".into(),
    };
    let extra: String = [
        a.owner_stake
            .as_ref()
            .map(|s| format!(", owner stake units: {s}")),
        a.controller.as_ref().map(|c| format!(", controller: {c}")),
        a.recovery_fee_xrd
            .as_ref()
            .map(|x| format!(", recovery fee vault {x} XRD")),
    ]
    .into_iter()
    .flatten()
    .collect();
    format!(
        "key {}, fee {}{pending}, {}, {}, {badge}{extra}",
        a.key_hex,
        tripwire::fee_text(&a.fee_in_force),
        if a.registered {
            "registered"
        } else {
            "UNREGISTERED"
        },
        if a.accepts_delegated_stake {
            "accepts delegated stake"
        } else {
            "does not accept delegated stake"
        },
    )
}
