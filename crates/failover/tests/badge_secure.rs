//! `radix-failover badge secure` (issue 15 item 1), end to end on the real Radix Engine: the
//! printed manifest, signed by the owner account's key as the operator's wallet would sign it,
//! puts the owner badge in a native access controller; the daemon, with the printed
//! `badge_holder` line, then fails over through the controller's `create_proof`.
//!
//! Real `radix-failover` binaries against a real radix-sim network (loopback HTTP).

mod common;

use std::process::{Command, Stdio};

use common::{Harness, BIN, STEP};
use radix_common::prelude::*;
use radix_sim::ledger::types::IntentStatus;

/// The operator's cold key (a wallet's, or a Ledger's): the recovery role.
fn cold_key() -> PublicKey {
    PublicKey::Ed25519(Ed25519PrivateKey::from_u64(4242).unwrap().public_key())
}

fn cold_account() -> String {
    let account = ComponentAddress::preallocated_account_from_public_key(&cold_key());
    AddressBech32Encoder::new(&NetworkDefinition::simulator())
        .encode(account.as_node_id().as_bytes())
        .unwrap()
}

/// `badge secure`: (exit ok, stdout, stderr).
fn badge_secure(h: &Harness, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["badge", "secure", "--config"])
        .arg(&h.config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run radix-failover");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_printed_manifest_secures_the_badge_and_the_daemon_fails_over_through_it() {
    let h = Harness::start(71).await;
    assert_eq!(
        h.info.network_id,
        NetworkDefinition::simulator().id,
        "the sim runs the simulator network"
    );
    let cold = cold_account();

    // Bad input is refused with the reason; the daemon's own account cannot be the recovery.
    let (ok, _, err) = badge_secure(&h, &["--recovery", "account_sim1nope"]);
    assert!(
        !ok && err.contains("--recovery") && err.contains("give an account address"),
        "{err}"
    );
    let (ok, _, err) = badge_secure(&h, &["--recovery", &h.info.owner_account]);
    assert!(!ok && err.contains("the daemon key's own account"), "{err}");

    let (ok, _, err) = badge_secure(&h, &["--recovery", &cold, "--recovery-fee-xrd", "lots"]);
    assert!(
        !ok && err.contains("--recovery-fee-xrd \"lots\" is not an amount of XRD"),
        "{err}"
    );

    // The default: 30 XRD into the controller's recovery fee vault.
    let (ok, manifest, steps) =
        badge_secure(&h, &["--recovery", &cold, "--timed-recovery-days", "14"]);
    assert!(ok, "{steps}");
    assert!(
        manifest.contains("CREATE_ACCESS_CONTROLLER")
            && manifest.contains("\"contribute_recovery_fee\""),
        "{manifest}"
    );
    assert!(
        steps.contains("30 XRD more go from") && steps.contains("recovery fee vault"),
        "{steps}"
    );
    assert!(
        steps.contains("primary role:      the daemon's key")
            && steps.contains(&format!("recovery role:     the account {cold}"))
            && steps.contains("after 14 days")
            && steps.contains("badge_holder = \"accesscontroller_...\""),
        "{steps}"
    );
    assert!(
        !manifest.contains("primary role"),
        "stdout is the manifest alone"
    );

    // The operator's wallet signs it: the owner account's key.
    let created = {
        let sim = h.sim.clone();
        tokio::task::spawn_blocking(move || sim.commit_owner_manifest_text(&manifest))
            .await
            .unwrap()
            .expect("the printed manifest commits")
    };
    let ac = created
        .iter()
        .find(|a| a.starts_with("accesscontroller_"))
        .unwrap_or_else(|| panic!("an access controller was created: {created:?}"))
        .clone();
    // The badge left the account: moving it from there fails now.
    let sim = h.sim.clone();
    let moved = tokio::task::spawn_blocking(move || sim.move_owner_badge_away())
        .await
        .unwrap();
    assert!(
        moved.is_err(),
        "the badge is no longer in the owner account"
    );

    // The config line the command printed, with the controller's address.
    h.edit_config(|t| format!("badge_holder = \"{ac}\"\n{t}"));
    let (ok, out) = h.cli_raw(&["config", "check"]).await;
    assert!(ok, "config check with badge_holder: {out}");

    let hook = h.webhook().await;
    let mut d = h.armed("access-controller").await;
    // Pre-flight and the authority tripwire look for the badge in the controller now.
    assert!(
        d.has_line(&format!(
            "pre-flight controller: pass: access controller {ac} holds the owner badge, the daemon's key meets its primary role; primary role unlocked, no recovery proposed, no badge withdraw attempt; recovery fee vault 30 XRD"
        )),
        "{:?}",
        d.lines()
            .iter()
            .filter(|l| l.contains("pre-flight"))
            .collect::<Vec<_>>()
    );
    let baseline = d
        .wait_line("authority tripwire: baseline in epoch", STEP)
        .await;
    assert!(
        baseline.contains(&format!("owner badge in {ac}")),
        "{baseline}"
    );
    let committed_before = h.committed().len();
    h.primary_dies_and_one_commits(&mut d).await;
    d.wait_line("FAILOVER COMPLETE: the backup validates", STEP)
        .await;
    let ok_commits = h
        .committed()
        .iter()
        .filter(|(_, s)| matches!(s, IntentStatus::CommittedSuccess(_)))
        .count();
    assert_eq!(committed_before, 0);
    assert_eq!(ok_commits, 1, "{:?}", h.committed());

    // The cold recovery account holds no XRD at all; the lock's fee comes from the
    // controller's recovery fee vault that the printed manifest funded.
    assert!(
        h.sim
            .account(&cold)
            .expect("account")
            .is_none_or(|a| a.fungibles.is_empty()),
        "the cold account was never funded"
    );
    let out = Command::new(BIN)
        .args(["badge", "lock", "--config"])
        .arg(&h.config)
        .args(["--recovery", &cold, "--fee-from-controller"])
        .stdin(Stdio::null())
        .output()
        .expect("run badge lock");
    let lock = String::from_utf8_lossy(&out.stdout).into_owned();
    let steps = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{steps}");
    assert!(
        lock.contains("\"lock_recovery_fee\"") && !lock.contains("\"lock_fee\""),
        "{lock}"
    );
    assert!(
        steps.contains("from the controller's recovery fee vault"),
        "{steps}"
    );
    let sim = h.sim.clone();
    tokio::task::spawn_blocking(move || sim.commit_manifest_text_signed_by(&lock, &cold_key()))
        .await
        .unwrap()
        .expect("the cold key's lock commits, its fee paid by the controller's vault");
    // The tripwire sees both: the primary role locked and the vault spent. (That the lock
    // disarms an armed daemon is tests/access_controller.rs's; this one has failed over.)
    let spent = hook
        .wait_event("authority_changed", "recovery fee vault 30 XRD", STEP)
        .await;
    assert_eq!(spent["details"]["what"], "access_controller", "{spent}");
    hook.wait_event("authority_changed", "primary role LOCKED", STEP)
        .await;
    h.stop(&mut d).await;
}
