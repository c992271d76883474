//! The owner badge in a native access controller (issue 15, docs/policy.md rule 13), end to end
//! on the real Radix Engine: `radix-sim --badge-in access-controller` puts the badge there at
//! genesis (primary role: the daemon's key; recovery: a cold recovery key), and its written
//! config sets `badge_holder`.
//!
//! - A failover through the controller's `create_proof` commits and the backup validates.
//! - A stolen hot key (the test plays the thief, signing with the daemon's key): it cannot take
//!   the badge; the owner-stake unlock it starts raises the critical tripwire alert within one
//!   epoch; once the recovery key signs what `badge lock` prints, the thief's next proof fails
//!   and the daemon says that automatic failover is disabled, and why.
//! - Pre-flight names each broken prerequisite: a controller without the badge, a key that is
//!   not the primary role, a locked primary role.
//!
//! Real `radix-failover` binaries against a real radix-sim network (loopback HTTP).

mod common;

use std::process::{Command, Stdio};

use common::{scrape, Daemon, Harness, BIN, STEP};
use radix_common::prelude::Decimal;
use radix_sim::ledger::types::IntentStatus;
use radix_sim::ledger::BadgeIn;
use serde_json::Value;

async fn start(seed: u64) -> Harness {
    Harness::start_with(seed, |c| c.badge_in = BadgeIn::AccessController).await
}

fn controller(h: &Harness) -> String {
    h.info
        .access_controller
        .clone()
        .expect("the sim names the access controller")
}

/// The thief signs `text` with the daemon's key (the owner account's), as the wallet of
/// someone who stole the key file would: the engine's answer.
async fn thief_commits(h: &Harness, text: String) -> Result<Vec<String>, String> {
    let sim = h.sim.clone();
    tokio::task::spawn_blocking(move || sim.commit_owner_manifest_text(&text))
        .await
        .expect("task")
        .map_err(|e| e.to_string())
}

/// The thief's manifest: the fee from the hot account, the badge's proof from the controller,
/// then `calls`.
fn with_proof(h: &Harness, calls: &str) -> String {
    format!(
        "CALL_METHOD Address(\"{owner}\") \"lock_fee\" Decimal(\"10\");\nCALL_METHOD Address(\"{ac}\") \"create_proof\";\n{calls}\n",
        owner = h.info.owner_account,
        ac = controller(h),
    )
}

fn badge_in_controller(h: &Harness) -> bool {
    let ac = controller(h);
    let account = h
        .sim
        .account(&ac)
        .expect("read")
        .expect("the controller exists");
    account.non_fungibles.iter().any(|n| {
        n.resource_address == h.info.owner_badge_resource
            && n.ids.contains(&h.info.owner_badge_local_id)
    })
}

fn locked_owner_stake(h: &Harness) -> Decimal {
    h.sim
        .snapshot()
        .validators
        .iter()
        .find(|v| v.address == h.info.our_validator)
        .and_then(|v| v.locked_owner_stake_unit_balance.parse().ok())
        .unwrap_or(Decimal::ZERO)
}

fn authority_alert<'a>(bodies: &'a [Value], what: &str) -> Option<&'a Value> {
    bodies
        .iter()
        .find(|b| b["event"] == "authority_changed" && b["details"]["what"] == what)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failover_through_the_access_controller_commits_and_the_backup_validates() {
    let h = start(91).await;
    let ac = controller(&h);
    let config = std::fs::read_to_string(&h.config).expect("config");
    assert!(
        config.contains(&format!("badge_holder = \"{ac}\"")),
        "the written config names the controller:\n{config}"
    );
    let mut d = h.armed("ac-failover").await;
    assert!(
        d.has_line(&format!("pre-flight controller: pass: access controller {ac} holds the owner badge, the daemon's key meets its primary role")),
        "{:?}",
        d.lines().iter().filter(|l| l.contains("pre-flight")).collect::<Vec<_>>()
    );
    let baseline = d
        .wait_line("authority tripwire: baseline in epoch", STEP)
        .await;
    assert!(
        baseline.contains(&format!("owner badge in {ac}"))
            && baseline.contains("controller: primary role unlocked, no recovery proposed"),
        "{baseline}"
    );
    h.primary_dies_and_one_commits(&mut d).await;
    d.wait_line("FAILOVER COMPLETE: the backup validates", STEP)
        .await;
    let ok: Vec<_> = h
        .committed()
        .into_iter()
        .filter(|(_, s)| matches!(s, IntentStatus::CommittedSuccess(_)))
        .collect();
    assert_eq!(ok.len(), 1, "{:?}", h.committed());
    assert_eq!(
        h.sim
            .snapshot()
            .validators
            .iter()
            .find(|v| v.address == h.info.our_validator)
            .map(|v| v.ledger_key_hex.clone()),
        Some(h.info.backup_public_key_hex.clone()),
        "the key on ledger is the backup's"
    );
    assert!(
        badge_in_controller(&h),
        "the badge never left the controller"
    );
    h.stop(&mut d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stolen_hot_key_cannot_take_the_badge_is_seen_and_is_locked_out() {
    let h = start(92).await;
    let hook = h.webhook().await;
    let mut d = h.armed("ac-thief").await;
    let url = d.metrics_url().await;
    d.wait_line("authority tripwire: baseline in epoch", STEP)
        .await;
    let ac = controller(&h);

    // 1. The thief cannot move the badge out: not from the account (it is not there), and
    // the controller gives it to the primary role only with the recovery side's confirmation.
    let take = format!(
        "CALL_METHOD Address(\"{o}\") \"lock_fee\" Decimal(\"10\");\nCALL_METHOD Address(\"{o}\") \"withdraw_non_fungibles\" Address(\"{b}\") Array<NonFungibleLocalId>(NonFungibleLocalId(\"{id}\"));\nCALL_METHOD Address(\"{o}\") \"deposit_batch\" Expression(\"ENTIRE_WORKTOP\");\n",
        o = h.info.owner_account,
        b = h.info.owner_badge_resource,
        id = h.info.owner_badge_local_id,
    );
    let e = thief_commits(&h, take).await.unwrap_err();
    assert!(e.contains("not committed"), "{e}");
    let confirm = format!(
        "CALL_METHOD Address(\"{o}\") \"lock_fee\" Decimal(\"10\");\nCALL_METHOD Address(\"{ac}\") \"quick_confirm_primary_role_badge_withdraw_attempt\";\nCALL_METHOD Address(\"{o}\") \"deposit_batch\" Expression(\"ENTIRE_WORKTOP\");\n",
        o = h.info.owner_account,
    );
    let e = thief_commits(&h, confirm).await.unwrap_err();
    assert!(e.contains("not committed"), "{e}");
    assert!(badge_in_controller(&h));

    // 2. The thief starts unlocking the owner's stake units (the validator's fee earns them
    // every epoch): a critical alert within one epoch.
    let deadline = std::time::Instant::now() + STEP;
    while locked_owner_stake(&h) == Decimal::ZERO {
        assert!(
            std::time::Instant::now() < deadline,
            "no owner stake units were ever locked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let started_in = h.epoch();
    thief_commits(
        &h,
        with_proof(
            &h,
            &format!(
                "CALL_METHOD Address(\"{}\") \"start_unlock_owner_stake_units\" Decimal(\"0.000001\");",
                h.info.our_validator
            ),
        ),
    )
    .await
    .expect("the hot key can still prove the badge and start an unlock");
    let alert = hook
        .wait_event("authority_changed", "owner_stake_unlock", STEP)
        .await;
    assert_eq!(alert["severity"], "critical", "{alert}");
    let seen = alert["details"]["seen_epoch"].as_u64().expect("seen_epoch");
    assert!(
        seen <= started_in + 1,
        "seen in epoch {seen}, started in {started_in}: within one epoch"
    );
    assert_eq!(
        alert["details"]["from"], "none unlocking; 0 unlocked",
        "{alert}"
    );
    assert!(
        alert["details"]["to"]
            .as_str()
            .is_some_and(|t| t.starts_with("0.000001 unlocking at epoch ")),
        "{alert}"
    );
    assert!(
        alert["message"]
            .as_str()
            .is_some_and(|m| m.contains("radix-failover badge lock")),
        "the alert says what to do: {alert}"
    );

    // 3. The operator runs `badge lock`, and the recovery key signs what it prints.
    let recovery = h.info.recovery_account.clone().expect("recovery account");
    let out = Command::new(BIN)
        .args(["badge", "lock", "--config"])
        .arg(&h.config)
        .args(["--recovery", &recovery])
        .stdin(Stdio::null())
        .output()
        .expect("run badge lock");
    let manifest = String::from_utf8_lossy(&out.stdout).into_owned();
    let steps = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{steps}");
    assert!(
        manifest.contains("\"lock_primary_role\"") && manifest.contains(&ac),
        "{manifest}"
    );
    assert!(steps.contains("Sign it with the recovery"), "{steps}");
    let sim = h.sim.clone();
    tokio::task::spawn_blocking(move || sim.commit_recovery_manifest_text(&manifest))
        .await
        .expect("task")
        .expect("the recovery key's lock commits");

    // The thief's next proof fails.
    let e = thief_commits(
        &h,
        with_proof(
            &h,
            &format!(
                "CALL_METHOD Address(\"{}\") \"update_fee\" Decimal(\"0\");",
                h.info.our_validator
            ),
        ),
    )
    .await
    .unwrap_err();
    assert!(e.contains("not committed"), "{e}");

    // The daemon: a tripwire alert for the controller, and automatic failover disabled, with
    // who can undo it, in the log, an alert, the metrics and `status`.
    let alert = hook
        .wait_event("authority_changed", "access_controller", STEP)
        .await;
    assert!(
        alert["details"]["to"]
            .as_str()
            .is_some_and(|t| t.starts_with("primary role LOCKED")),
        "{alert}"
    );
    let line = d.wait_line("pre-flight controller: FAIL", STEP).await;
    assert!(
        line.contains("LOCKED, so automatic failover is disabled")
            && line.contains("only the recovery role can undo it"),
        "{line}"
    );
    let failed = hook.wait_event("preflight_failed", "LOCKED", STEP).await;
    assert!(
        failed["message"]
            .as_str()
            .is_some_and(|m| m.contains("only the recovery role can undo it")),
        "{failed}"
    );
    let m = scrape(&url).await;
    assert!(m.contains("radix_failover_preflight_ok 0"), "{m}");
    assert!(m.contains("radix_failover_armed 0"), "{m}");
    assert!(
        m.contains("radix_failover_authority_changes_total{what=\"access_controller\"} 1"),
        "{m}"
    );
    let status = h.cli(&["status"]).await;
    assert!(
        status.contains("NOT armed") && status.contains("LOCKED"),
        "{status}"
    );
    // Nothing was ever sent.
    assert!(h.committed().is_empty(), "{:?}", h.committed());
    assert!(authority_alert(&hook.bodies(), "owner_badge").is_none());
    h.stop(&mut d).await;
    h.assert_no_secret_in_alerts(&hook);
}

/// Starts a daemon and returns its `pre-flight controller` line.
async fn controller_check(h: &Harness, name: &str) -> (Daemon, String) {
    let mut d = Daemon::spawn(&h.config, &[], name);
    let line = d.wait_line("pre-flight controller:", STEP).await;
    (d, line)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn preflight_names_each_broken_prerequisite_of_the_controller() {
    let h = start(93).await;
    let ac = controller(&h);

    // A controller without the badge: the owner makes one holding 1 XRD.
    let other = thief_commits(
        &h,
        format!(
            "CALL_METHOD Address(\"{o}\") \"lock_fee\" Decimal(\"10\");\nCALL_METHOD Address(\"{o}\") \"withdraw\" Address(\"{xrd}\") Decimal(\"1\");\nTAKE_ALL_FROM_WORKTOP Address(\"{xrd}\") Bucket(\"b\");\nCREATE_ACCESS_CONTROLLER Bucket(\"b\") Tuple(Enum<1u8>(), Enum<1u8>(), Enum<1u8>()) None None;\n",
            o = h.info.owner_account,
            xrd = h.info.xrd_resource,
        ),
    )
    .await
    .expect("another controller")
    .into_iter()
    .find(|a| a.starts_with("accesscontroller_"))
    .expect("its address");
    h.set_config("badge_holder", &format!("\"{other}\""));
    let (mut d, line) = controller_check(&h, "no-badge").await;
    assert!(
        line.contains("FAIL")
            && line.contains(&format!(
                "the access controller {other} does not hold the validator's owner badge"
            )),
        "{line}"
    );
    h.stop(&mut d).await;

    // A key that is not the primary role: a config whose key file holds another key (the
    // account pays its own fee; the preview fails too, but the controller check says why).
    h.set_config("badge_holder", &format!("\"{ac}\""));
    let other_key = h.dir.path().join("other.key");
    std::fs::write(
        &other_key,
        "1111111111111111111111111111111111111111111111111111111111111111",
    )
    .unwrap();
    std::fs::set_permissions(
        &other_key,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let original = std::fs::read_to_string(&h.config).unwrap();
    h.set_config("key_file", &format!("\"{}\"", other_key.display()));
    let (mut d, line) = controller_check(&h, "wrong-key").await;
    assert!(
        line.contains("FAIL") && line.contains("the daemon's key does not meet the primary role"),
        "{line}"
    );
    h.stop(&mut d).await;
    std::fs::write(&h.config, original).unwrap();

    // A locked primary role.
    let sim = h.sim.clone();
    tokio::task::spawn_blocking(move || sim.recovery_locks_primary_role())
        .await
        .unwrap()
        .expect("the recovery key locks the primary role");
    let (mut d, line) = controller_check(&h, "locked").await;
    assert!(
        line.contains("FAIL")
            && line.contains("LOCKED, so automatic failover is disabled")
            && line.contains("only the recovery role can undo it"),
        "{line}"
    );
    d.wait_line("pre-flight FAILED", STEP).await;
    h.stop(&mut d).await;
    assert!(h.committed().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recovery_proposed_by_the_recovery_role_blocks_failover_until_it_is_cancelled() {
    let h = start(94).await;
    let hook = h.webhook().await;
    let mut d = h.armed("ac-recovery").await;
    d.wait_line("authority tripwire: baseline in epoch", STEP)
        .await;
    let ac = controller(&h);
    let recovery = h.info.recovery_account.clone().expect("recovery account");

    // The recovery key proposes new rules (a timed recovery: the controller's 14 days).
    let propose = format!(
        "CALL_METHOD Address(\"{recovery}\") \"lock_fee\" Decimal(\"10\");\nCALL_METHOD Address(\"{ac}\") \"initiate_recovery_as_recovery\" Tuple(Enum<1u8>(), Enum<1u8>(), Enum<1u8>()) Some(20160u32);\n"
    );
    let sim = h.sim.clone();
    tokio::task::spawn_blocking(move || sim.commit_recovery_manifest_text(&propose))
        .await
        .expect("task")
        .expect("the recovery key proposes a recovery");

    // Within an epoch: the tripwire names it, and pre-flight disarms with who can undo it.
    let alert = hook
        .wait_event(
            "authority_changed",
            "timed recovery proposed by the recovery role",
            STEP,
        )
        .await;
    assert_eq!(alert["details"]["what"], "access_controller", "{alert}");
    let line = d.wait_line("pre-flight controller: FAIL", STEP).await;
    assert!(
        line.contains("a recovery proposed by the recovery role is in progress")
            && line.contains("cancelled by the recovery role"),
        "{line}"
    );
    let status = h.cli(&["status"]).await;
    assert!(
        status.contains("NOT armed") && status.contains("recovery proposed by the recovery role"),
        "{status}"
    );

    // The primary dies: no failover while the recovery is in progress (its new rules may
    // replace the daemon's key), for the rest of this epoch and the whole next one.
    h.fault(serde_json::json!({"action": "node_down", "node": "primary"}))
        .await;
    h.wait_epochs(2).await;
    assert!(
        h.committed().is_empty(),
        "nothing sent during a recovery: {:?}",
        h.committed()
    );
    assert!(
        !d.has_line("FAILOVER DECIDED"),
        "the daemon decided a failover while not armed"
    );

    // The recovery role cancels its proposal: the daemon re-arms and fails over.
    let cancel = format!(
        "CALL_METHOD Address(\"{recovery}\") \"lock_fee\" Decimal(\"10\");\nCALL_METHOD Address(\"{ac}\") \"cancel_recovery_role_recovery_proposal\";\n"
    );
    let sim = h.sim.clone();
    tokio::task::spawn_blocking(move || sim.commit_recovery_manifest_text(&cancel))
        .await
        .expect("task")
        .expect("the recovery key cancels its proposal");
    d.wait_line("FAILOVER DECIDED", STEP * 2).await;
    d.wait_line("COMMITTED", STEP).await;
    let ok = h
        .committed()
        .into_iter()
        .filter(|(_, s)| matches!(s, IntentStatus::CommittedSuccess(_)))
        .count();
    assert_eq!(ok, 1, "{:?}", h.committed());
    h.stop(&mut d).await;
}
