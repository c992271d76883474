//! The commented config `radix-failover init` writes.

use std::path::PathBuf;

/// What `init` gathered, every field already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitAnswers {
    pub network: String,
    pub validator: String,
    pub primary_public_key: String,
    pub backup_public_key: String,
    pub key_file: PathBuf,
    pub primary_system_api: Option<String>,
    pub primary_core_api: Option<String>,
    pub backup_system_api: String,
    pub backup_core_api: Option<String>,
    pub gateways: Vec<String>,
    pub core_apis: Vec<String>,
    pub state_file: PathBuf,
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// A complete config with a comment on every key (defaults written out, commented, so an
/// operator sees what they can change). Every key is explained in docs/config.md.
pub fn render(a: &InitAnswers) -> String {
    let mut s = String::new();
    s.push_str("# radix-failover config, written by `radix-failover init`.\n");
    s.push_str("# Every key is explained in docs/config.md. Check it with:\n");
    s.push_str("#   radix-failover config check --config <this file>\n\n");
    s.push_str(&format!(
        "# The network: mainnet, stokenet, localnet, simulator or a numeric id.\nnetwork = {}\n",
        q(&a.network)
    ));
    s.push_str(&format!(
        "# Your validator.\nvalidator = {}\n",
        q(&a.validator)
    ));
    s.push_str(&format!(
        "# The primary node's consensus key (its System API /identity public_key_hex).\nprimary_public_key = {}\n",
        q(&a.primary_public_key)
    ));
    s.push_str(&format!(
        "# The backup node's own key: the failover switches the validator to it.\nbackup_public_key = {}\n",
        q(&a.backup_public_key)
    ));
    s.push_str(&format!(
        "# Ed25519 key (mode 0600) of the account that holds the owner badge.\nkey_file = {}\n",
        q(&a.key_file.display().to_string())
    ));
    s.push_str("# XRD locked for the fee (the transaction costs ~0.26 XRD; only that is charged).\n# fee_lock_xrd = \"10\"\n");

    s.push_str("\n[primary]\n# System API: the early signal when the node dies. Core API: also a ledger source.\n");
    match &a.primary_system_api {
        Some(u) => s.push_str(&format!("system_api = {}\n", q(u))),
        None => s.push_str("# system_api = \"http://<primary host>:3334/system\"\n"),
    }
    match &a.primary_core_api {
        Some(u) => s.push_str(&format!("core_api = {}\n", q(u))),
        None => s.push_str("# core_api = \"http://<primary host>:3333/core\"\n"),
    }
    s.push_str(
        "\n[backup]\n# Required: the backup's health and identity gate every automatic failover.\n",
    );
    s.push_str(&format!("system_api = {}\n", q(&a.backup_system_api)));
    match &a.backup_core_api {
        Some(u) => s.push_str(&format!("core_api = {}\n", q(u))),
        None => s.push_str("# core_api = \"http://<backup host>:3333/core\"\n"),
    }

    s.push_str("\n[sources]\n# Gateways: keys, finished-epoch misses, badge/XRD checks, previews; they take transactions.\n");
    s.push_str(&format!("gateways = {}\n", list(&a.gateways)));
    s.push_str("# Core APIs of other synced nodes: this epoch's misses in real time (two besides the primary's\n# let a quorum confirm misses when the primary is dead).\n");
    s.push_str(&format!("core_apis = {}\n", list(&a.core_apis)));
    s.push_str("# request_timeout = \"3s\"\n");

    s.push_str(
        "\n[policy]\n# See docs/policy.md. The defaults suit small and large validators alike.\n",
    );
    s.push_str("# name = \"default\"           # or \"legacy\": the old script's rule\n");
    s.push_str("# poll_interval = \"5s\"\n# missed_proposals = 3\n# recent_proposals = 5\n# min_confirming_sources = 2\n# primary_down_polls = 3\n# max_source_lag = \"30s\"\n# small_validator_turns = 16\n# epoch_end_polls = 3\n# rearm = true\n# flap_limit_epochs = 12\n");

    s.push_str(
        "\n[daemon]\n# Phase and transaction in flight; a directory only the daemon writes.\n",
    );
    s.push_str(&format!(
        "state_file = {}\n",
        q(&a.state_file.display().to_string())
    ));
    s.push_str("# submit_deadline = \"30m\"\n");

    s.push_str("\n[metrics]\n# Prometheus /metrics and /healthz; loopback by default, \"off\" to disable.\n# listen = \"127.0.0.1:9464\"\n");
    s.push_str("\n# [alerts]\n# resend_interval = \"1h\"\n# watcher = \"watcher-fra1\"   # default: the host name\n# heartbeat = { url = \"https://hc-ping.com/<uuid>\", interval = \"1m\" }\n# webhook = { url = \"https://example.org/hook\" }\n# telegram = { bot_token = \"...\", chat_id = \"...\" }\n# discord = { webhook_url = \"https://discord.com/api/webhooks/...\" }\n# slack = { webhook_url = \"https://hooks.slack.com/services/...\" }\n# pagerduty = { routing_key = \"...\" }\n");
    s
}
