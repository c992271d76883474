//! Rule 12 in the loop: the `[hooks]` commands around a switch (`hooks.rs`). `pre_switch`
//! runs before a switch's transaction is first sent, and the switch waits for it; a failed
//! fence blocks the switch. `post_switch` (committed) and `on_confirmed` (the new node
//! validates) run in the background, so they never hold up the loop.

use tracing::{info, warn};

use super::{Clock, Runner};
use crate::alerts::{AlertEvent, Alerter};
use crate::hooks::{self, Hook, HookKind, SwitchInfo};

impl<C: Clock> Runner<C> {
    /// What the hooks are told of a switch: to the standby (`back == false`) or back to the
    /// active node.
    pub(super) fn switch_info(
        &self,
        back: bool,
        epoch: u64,
        intent: &str,
        reason: &str,
    ) -> SwitchInfo {
        hooks::switch_info(&self.config, back, epoch, intent, reason)
    }

    /// The `pre_switch` hook, waited for: `Err(blocker)` when it is a fence and failed.
    pub(super) async fn pre_switch(&self, info: &SwitchInfo) -> Result<(), String> {
        let Some(hook) = self.config.hooks.pre_switch.clone() else {
            return Ok(());
        };
        info!(
            "running the pre_switch hook{} before the switch to the {} is sent: {:?}",
            if hook.fence {
                " (a fence: it must succeed)"
            } else {
                ""
            },
            info.new_node,
            hook.argv
        );
        let outcome = run_logged(&hook, info, &self.alerter, self.clock.now_ms()).await;
        match hooks::fence_blocker(&hook, &outcome) {
            Some(blocker) => Err(blocker),
            None => Ok(()),
        }
    }

    /// `post_switch` or `on_confirmed`, in the background.
    pub(super) fn hook_after(&self, kind: HookKind, info: SwitchInfo) {
        let Some(hook) = self.config.hooks.get(kind).cloned() else {
            return;
        };
        info!("running the {} hook: {:?}", kind.as_str(), hook.argv);
        let alerter = self.alerter.clone();
        let now = self.clock.now_ms();
        tokio::spawn(async move {
            run_logged(&hook, &info, &alerter, now).await;
        });
    }
}

/// Runs a hook, logs its output line by line and how it ended; a failure is a warning alert
/// (a fence's failure is alerted by the caller, as the blocker it is).
async fn run_logged(
    hook: &Hook,
    info: &SwitchInfo,
    alerter: &Alerter,
    now_ms: i64,
) -> hooks::Outcome {
    let kind = hook.kind.as_str();
    let outcome = hooks::run(hook, info).await;
    for line in &outcome.lines {
        info!("hook {kind}: {line}");
    }
    match hooks::ending_line(hook, &outcome) {
        (false, line) => info!("{line}"),
        (true, line) => warn!("{line}"),
    }
    if !outcome.ok() {
        let message = format!("the {kind} hook {} {}", hook.argv[0], outcome.summary());
        if !hook.fence {
            alerter.send(
                AlertEvent::Problem {
                    key: format!("hook:{kind}"),
                    message,
                },
                now_ms,
            );
        }
    }
    outcome
}
