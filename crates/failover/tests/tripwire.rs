//! The authority tripwire (issue 12 item 5, docs/policy.md rule 11): once per epoch the
//! daemon compares our validator's key, fee, registration, delegated-stake flag and owner
//! badge with what it expects, and a change it did not make is a critical alert that names
//! what changed and when. It never reacts by itself.
//!
//! Real `radix-failover run` against a real radix-sim network (real Radix Engine, loopback
//! HTTP). The "someone else" is a real engine transaction signed with the owner account's
//! key (the sim's `validator_*` and `owner_badge_moved` faults), as a thief or a colleague's
//! wallet would send it.
//!
//! Timing: 4 s epochs (20 rounds of 200 ms); each test takes about 20-40 s.

mod common;

use common::{scrape, Daemon, Harness, STEP};
use radix_sim::ledger::types::IntentStatus;
use serde_json::{json, Value};

fn chrono_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn authority_alerts(hook: &common::WebhookReceiver) -> Vec<Value> {
    hook.bodies()
        .into_iter()
        .filter(|b| b["event"] == "authority_changed")
        .collect()
}

async fn status_json(h: &Harness) -> Value {
    let out = h.cli(&["status", "--json"]).await;
    let end = out.rfind("\n}").map(|i| i + 2).unwrap_or(out.len());
    serde_json::from_str(&out[..end]).unwrap_or_else(|e| panic!("status --json: {e}:\n{out}"))
}

fn baseline_epoch(d: &Daemon) -> u64 {
    let line = d
        .lines()
        .into_iter()
        .find(|l| l.contains("authority tripwire: baseline in epoch"))
        .expect("a baseline line");
    line.split("baseline in epoch ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no epoch in {line}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_transaction_changes_the_fee_and_a_critical_alert_names_it() {
    let h = Harness::start(51).await;
    let hook = h.webhook().await;
    let mut d = h.armed("tripwire").await;
    let url = d.metrics_url().await;
    let line = d
        .wait_line("authority tripwire: baseline in epoch", STEP)
        .await;
    assert!(
        line.contains("fee 100 %")
            && line.contains("registered")
            && line.contains("owner badge in account_"),
        "the baseline names what is watched: {line}"
    );
    let m = scrape(&url).await;
    assert!(
        m.contains("radix_failover_authority_changes_total{what=\"fee_request\"} 0"),
        "every kind is exported at 0 before any change: {m}"
    );
    let before = baseline_epoch(&d);

    // Someone with the owner account's key halves the fee: a decrease, in force next epoch.
    let before_ms = chrono_ms();
    h.fault(json!({"action": "validator_fee_changed", "fee_factor": "0.5"}))
        .await;
    let changed_in = h.epoch();
    let alert = hook.wait_event("authority_changed", "fee", STEP).await;
    assert_eq!(alert["severity"], "critical", "{alert}");
    let details = &alert["details"];
    assert_eq!(details["what"], "fee_request", "{alert}");
    assert_eq!(details["from"], "none (fee 100 %)", "{alert}");
    assert_eq!(
        details["to"],
        format!("50 % from epoch {}", changed_in + 1),
        "{alert}"
    );
    // When: between the last poll that saw the old value and the first that saw the new one,
    // after the transaction; the settings come with every poll, so within the epoch.
    let seen = details["seen_epoch"].as_u64().expect("seen_epoch");
    let last = details["last_seen_epoch"]
        .as_u64()
        .expect("last_seen_epoch");
    let seen_ms = details["seen_at_ms"].as_i64().expect("seen_at_ms");
    let last_ms = details["last_seen_at_ms"]
        .as_i64()
        .expect("last_seen_at_ms");
    assert!(
        (changed_in..=changed_in + 1).contains(&seen) && last <= seen && last >= before,
        "when: seen in {seen}, unchanged in {last}, changed in {changed_in}: {alert}"
    );
    assert!(last_ms < seen_ms && seen_ms >= before_ms, "{alert}");
    let text = alert["message"].as_str().unwrap_or_default();
    assert!(
        text.contains("did not change it") && text.contains("does nothing about it by itself"),
        "{alert}"
    );
    d.wait_line(
        "AUTHORITY CHANGED: the validator's fee change request",
        STEP,
    )
    .await;

    // The request coming into force is the change already reported, not a new one.
    let (_, l) = d
        .wait_line_after(d.line_count(), &format!("epoch {} round", seen + 2), STEP)
        .await;
    assert!(!l.is_empty());
    assert_eq!(
        authority_alerts(&hook).len(),
        1,
        "one alert for one change: {:?}",
        authority_alerts(&hook)
    );
    let m = scrape(&url).await;
    assert!(
        m.contains("radix_failover_authority_changes_total{what=\"fee_request\"} 1")
            && m.contains("radix_failover_authority_changes_total{what=\"fee\"} 0"),
        "{m}"
    );
    let status = status_json(&h).await;
    let a = &status["daemon_process"]["authority"];
    assert_eq!(a["last_change"]["what"], "fee_request", "{status}");
    assert!(
        a["baseline"]
            .as_str()
            .unwrap_or_default()
            .contains("fee 50 %"),
        "the fee in force now: {status}"
    );

    // No automatic reaction: nothing sent, still watching.
    assert!(h.committed().is_empty(), "{:?}", h.committed());
    h.assert_no_failover(&d, "a fee change is no reason to switch");
    h.stop(&mut d).await;
    h.assert_no_secret_in_alerts(&hook);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_made_while_the_daemon_was_stopped_is_seen_at_its_next_start() {
    let h = Harness::start(52).await;
    let hook = h.webhook().await;
    let mut d = h.armed("first").await;
    d.wait_line("authority tripwire: baseline in epoch", STEP)
        .await;
    h.stop(&mut d).await;

    // While nobody watches: delegated stake turned off, and the owner badge moved away.
    h.fault(json!({"action": "validator_delegation_set", "accept": false}))
        .await;
    h.fault(json!({"action": "owner_badge_moved"})).await;

    let mut d = Daemon::spawn(&h.config, &[], "second");
    let stake = hook
        .wait_event("authority_changed", "delegated_stake", STEP)
        .await;
    assert_eq!(
        stake["details"]["from"], "accepts delegated stake",
        "{stake}"
    );
    assert_eq!(
        stake["details"]["to"], "does not accept delegated stake",
        "{stake}"
    );
    let badge = hook
        .wait_event("authority_changed", "owner_badge", STEP)
        .await;
    assert!(
        badge["details"]["from"]
            .as_str()
            .is_some_and(|f| f.starts_with("in account account_"))
            && badge["details"]["to"]
                .as_str()
                .is_some_and(|t| t.starts_with("not in account account_")),
        "{badge}"
    );
    // Where it went, as the gateway's /state/non-fungible/location shows it: the sim moves
    // it to its staker account, not the owner account it left.
    let to = badge["details"]["to"].as_str().unwrap_or_default();
    let holder = to
        .split("; now held by account ")
        .nth(1)
        .unwrap_or_else(|| panic!("the alert does not say where the badge went: {badge}"));
    assert!(
        holder.starts_with("account_sim1") && holder != h.info.owner_account,
        "{badge}"
    );
    // When: after the first daemon's last look, and by the second daemon's first.
    let last = badge["details"]["last_seen_at_ms"]
        .as_i64()
        .expect("last_seen_at_ms");
    let seen = badge["details"]["seen_at_ms"].as_i64().expect("seen_at_ms");
    assert!(last < seen, "{badge}");
    assert!(
        badge["details"]["last_seen_epoch"].as_u64() <= badge["details"]["seen_epoch"].as_u64(),
        "{badge}"
    );
    assert!(
        !d.has_line("authority tripwire: baseline in epoch"),
        "the baseline came from the state file"
    );
    assert!(h.committed().is_empty());
    h.stop(&mut d).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daemons_own_failover_is_not_an_authority_change() {
    let h = Harness::start(53).await;
    let hook = h.webhook().await;
    let mut d = h.armed("own").await;
    d.wait_line("authority tripwire: baseline in epoch", STEP)
        .await;
    h.primary_dies_and_one_commits(&mut d).await;
    d.wait_line("FAILOVER COMPLETE: the backup validates", STEP)
        .await;
    let commit_epoch = h.wait_key_change_epoch().await;
    // Two checks after the key changed on ledger.
    d.wait_line_after(0, &format!("epoch {} round", commit_epoch + 2), STEP)
        .await;
    assert!(
        authority_alerts(&hook).is_empty(),
        "our own update_key is no alert: {:?}",
        authority_alerts(&hook)
    );
    assert!(!d.has_line("AUTHORITY CHANGED"));
    let state = h.state(&h.state_file()).expect("state file");
    let backup_key = h.info.backup_public_key_hex.to_lowercase();
    assert_eq!(
        state["tripwire"]["baseline"]["key_hex"], backup_key,
        "the baseline follows our own rotation: {state}"
    );
    assert!(
        state["tripwire"]["own_keys"].is_null(),
        "the expected key was consumed: {state}"
    );
    assert_eq!(
        h.committed()
            .iter()
            .filter(|(_, s)| matches!(s, IntentStatus::CommittedSuccess(_)))
            .count(),
        1
    );
    h.stop(&mut d).await;
}
