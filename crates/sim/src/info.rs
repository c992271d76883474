//! What a user sees on start: every URL, the network, our validator and keys — printed, written
//! as JSON (`--info-file`), and turned into a ready radix-failover config.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::Network;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub name: String,
    pub core_api_url: String,
    pub system_api_url: String,
    pub public_key_hex: String,
    pub validator_address: String,
}

/// The `--info-file` JSON and the `GET /info` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    pub network_id: u8,
    pub network_name: String,
    pub seed: u64,
    pub gateway_url: String,
    pub control_url: String,
    pub nodes: Vec<NodeInfo>,
    pub our_validator: String,
    pub owner_account: String,
    pub owner_public_key_hex: String,
    /// Absolute path of the owner account's private key file (mode 0600).
    pub key_file: PathBuf,
    pub primary_public_key_hex: String,
    pub backup_public_key_hex: String,
    pub xrd_resource: String,
    pub owner_badge_resource: String,
    pub owner_badge_local_id: String,
    pub round_length_ms: u64,
    pub rounds_per_epoch: u64,
    /// `--badge-in access-controller`: the access controller holding the owner badge, the
    /// recovery key's file (mode 0600) and its account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_controller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_key_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_account: Option<String>,
    /// `--tls-front`: each node's HTTPS front (none without it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fronts: Vec<crate::front::FrontInfo>,
}

impl Info {
    pub fn gather(net: &Network, seed: u64) -> Info {
        let i = net.state.sim.info();
        let snap = net.state.sim.snapshot();
        let nodes = net
            .node_urls()
            .into_iter()
            .map(|(name, core, system)| {
                let view = snap.nodes.iter().find(|n| n.name == name);
                NodeInfo {
                    public_key_hex: view.map(|v| v.public_key_hex.clone()).unwrap_or_default(),
                    validator_address: view
                        .map(|v| v.validator_address.clone())
                        .unwrap_or_default(),
                    name,
                    core_api_url: core,
                    system_api_url: system,
                }
            })
            .collect();
        Info {
            network_id: i.network_id,
            network_name: i.network_name,
            seed,
            gateway_url: net.gateway_url(),
            control_url: net.control_url(),
            nodes,
            our_validator: i.our_validator,
            owner_account: i.owner_account,
            owner_public_key_hex: i.owner_public_key_hex,
            key_file: absolute(&i.owner_key_file),
            primary_public_key_hex: i.primary_public_key_hex,
            backup_public_key_hex: i.backup_public_key_hex,
            xrd_resource: i.xrd_resource,
            owner_badge_resource: i.owner_badge_resource,
            owner_badge_local_id: i.owner_badge_local_id,
            round_length_ms: i.round_length_ms,
            rounds_per_epoch: i.rounds_per_epoch,
            access_controller: i.access_controller,
            recovery_key_file: i.recovery_key_file.as_deref().map(absolute),
            recovery_account: i.recovery_account,
            fronts: Vec::new(),
        }
    }

    pub fn front(&self, node: &str) -> Option<&crate::front::FrontInfo> {
        self.fronts.iter().find(|f| f.node == node)
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The start-up printout.
    pub fn human(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "radix-sim: network {} (id {}), seed {}, {} ms rounds, {} rounds per epoch\n",
            self.network_name,
            self.network_id,
            self.seed,
            self.round_length_ms,
            self.rounds_per_epoch
        ));
        s.push_str(&format!("  gateway API      {}\n", self.gateway_url));
        s.push_str(&format!("  control API      {}\n", self.control_url));
        for n in &self.nodes {
            s.push_str(&format!(
                "  node {:<12} core {}  system {}\n",
                n.name, n.core_api_url, n.system_api_url
            ));
            if let Some(f) = self.front(&n.name) {
                s.push_str(&format!(
                    "       {:<12} TLS front {}/core and /system, user {}, password file {}, certificate SHA-256 {}\n",
                    "", f.url, f.user, f.password_file.display(), f.cert_sha256
                ));
            }
        }
        s.push_str(&format!("  our validator    {}\n", self.our_validator));
        s.push_str(&format!("  owner account    {}\n", self.owner_account));
        s.push_str(&format!("  owner key file   {}\n", self.key_file.display()));
        s.push_str(&format!(
            "  primary key      {}\n",
            self.primary_public_key_hex
        ));
        s.push_str(&format!(
            "  backup key       {}\n",
            self.backup_public_key_hex
        ));
        s.push_str(&format!(
            "  owner badge      {} {}\n",
            self.owner_badge_resource, self.owner_badge_local_id
        ));
        if let Some(ac) = &self.access_controller {
            s.push_str(&format!(
                "  badge holder     {ac} (access controller; primary role: the owner key)
"
            ));
        }
        if let (Some(f), Some(a)) = (&self.recovery_key_file, &self.recovery_account) {
            s.push_str(&format!(
                "  recovery key     {} (account {a}; the controller's recovery and confirmation roles)\n",
                f.display()
            ));
        }
        s
    }

    /// A ready radix-failover config (TOML) for this network: every source the sim serves that
    /// an operator would configure (the gateway, the primary's and backup's Core and System APIs,
    /// and two other validators' Core APIs as independent nodes), with the policy's time
    /// settings scaled to the sim's epoch length (see `sim_timing`).
    pub fn failover_config(&self) -> String {
        let t = SimTiming::for_epoch(self.round_length_ms, self.rounds_per_epoch);
        let node = |name: &str| self.node(name);
        let mut s = String::new();
        s.push_str("# radix-failover config for a radix-sim network (written by radix-sim).\n");
        s.push_str(&format!(
            "# Epochs here last {} ms ({} rounds of {} ms), not 5 minutes: the time settings in\n\
             # [policy] are scaled down from mainnet's by the same factor (docs/simulator.md).\n",
            self.round_length_ms * self.rounds_per_epoch,
            self.rounds_per_epoch,
            self.round_length_ms
        ));
        s.push_str("network = \"simulator\"\n");
        s.push_str(&format!("validator = {}\n", toml_str(&self.our_validator)));
        s.push_str(&format!(
            "primary_public_key = {}\n",
            toml_str(&self.primary_public_key_hex)
        ));
        s.push_str(&format!(
            "backup_public_key = {}\n",
            toml_str(&self.backup_public_key_hex)
        ));
        s.push_str(&format!(
            "key_file = {}\n",
            toml_str(&self.key_file.display().to_string())
        ));
        s.push_str("fee_lock_xrd = \"10\"\n");
        if let Some(ac) = &self.access_controller {
            s.push_str(
                "# The owner badge is in this access controller; the key file's key is its primary role.\n",
            );
            s.push_str(&format!("badge_holder = {}\n", toml_str(ac)));
        }
        for role in ["primary", "backup"] {
            match (node(role), self.front(role)) {
                (Some(_), Some(f)) => s.push_str(&format!(
                    "\n[{role}]\n# Through the node's TLS front (as its nginx): pinned self-signed certificate, basic auth.\nsystem_api = {}\ncore_api = {}\ntls_pin_sha256 = {}\nbasic_auth_user = {}\nbasic_auth_password_file = {}\n",
                    toml_str(&format!("{}/system", f.url)),
                    toml_str(&format!("{}/core", f.url)),
                    toml_str(&f.cert_sha256),
                    toml_str(&f.user),
                    toml_str(&f.password_file.display().to_string())
                )),
                (Some(n), None) => s.push_str(&format!(
                    "\n[{role}]\nsystem_api = {}\ncore_api = {}\n",
                    toml_str(&n.system_api_url),
                    toml_str(&n.core_api_url)
                )),
                _ => {}
            }
        }
        let others: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.name != "primary" && n.name != "backup")
            .take(2)
            .map(|n| match self.front(&n.name) {
                Some(f) => format!(
                    "{{ url = {}, tls_pin_sha256 = {}, basic_auth_user = {}, basic_auth_password_file = {} }}",
                    toml_str(&format!("{}/core", f.url)),
                    toml_str(&f.cert_sha256),
                    toml_str(&f.user),
                    toml_str(&f.password_file.display().to_string())
                ),
                None => toml_str(&n.core_api_url),
            })
            .collect();
        s.push_str(&format!(
            "\n[sources]\ngateways = [{}]\ncore_apis = [{}]\nrequest_timeout = \"{}ms\"\n",
            toml_str(&self.gateway_url),
            others.join(", "),
            t.request_timeout_ms
        ));
        s.push_str(&format!(
            "\n[policy]\npoll_interval = \"{}ms\"\nmax_source_lag = \"{}ms\"\n",
            t.poll_interval_ms, t.max_source_lag_ms
        ));
        s.push_str(&format!(
            "\n[daemon]\nstate_file = \"radix-failover-state.json\"\nsubmit_deadline = \"{}ms\"\n",
            t.submit_deadline_ms
        ));
        // An ephemeral port: several daemons (tests, the benchmarks) run side by side; the
        // daemon logs the address it got.
        s.push_str("\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
        s
    }
}

/// The daemon's time settings for a sim network, scaled from mainnet's (5-minute epochs) by
/// epoch length: poll 5 s -> 1/60 of an epoch, source lag 30 s -> 1/10, submit deadline
/// 30 min -> 6 epochs. Floors keep them sane for very short epochs: polls no faster than one
/// round (nothing new to see), lag at least 10 rounds (a source a few rounds behind, or a
/// loaded machine's slow round, is healthy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimTiming {
    pub poll_interval_ms: u64,
    pub max_source_lag_ms: u64,
    pub request_timeout_ms: u64,
    pub submit_deadline_ms: u64,
}

impl SimTiming {
    pub fn for_epoch(round_length_ms: u64, rounds_per_epoch: u64) -> SimTiming {
        let epoch_ms = round_length_ms.saturating_mul(rounds_per_epoch).max(1);
        let poll_interval_ms = (epoch_ms / 60).max(round_length_ms).max(50);
        SimTiming {
            poll_interval_ms,
            max_source_lag_ms: (epoch_ms / 10).max(10 * round_length_ms),
            // Loopback answers in milliseconds; a slow-gateway fault must time out well
            // before the next poll is due, but never below 250 ms (a busy CI machine).
            request_timeout_ms: (poll_interval_ms * 2).max(250),
            submit_deadline_ms: epoch_ms.saturating_mul(6),
        }
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_config_is_valid_toml_with_exact_keys() {
        let node = |name: &str, port: u16| NodeInfo {
            name: name.into(),
            core_api_url: format!("http://127.0.0.1:{port}/core"),
            system_api_url: format!("http://127.0.0.1:{}/system", port + 1),
            public_key_hex: "02aa".into(),
            validator_address: "validator_sim1abc".into(),
        };
        let info = Info {
            network_id: 242,
            network_name: "simulator".into(),
            seed: 1,
            gateway_url: "http://127.0.0.1:1".into(),
            control_url: "http://127.0.0.1:2".into(),
            nodes: vec![
                node("primary", 10),
                node("backup", 20),
                node("validator-1", 30),
                node("validator-2", 40),
                node("validator-3", 50),
            ],
            our_validator: "validator_sim1abc".into(),
            owner_account: "account_sim1abc".into(),
            owner_public_key_hex: "aa".into(),
            key_file: PathBuf::from("/tmp/with \"quote\"/key"),
            primary_public_key_hex: "02aa".into(),
            backup_public_key_hex: "03bb".into(),
            xrd_resource: "r".into(),
            owner_badge_resource: "b".into(),
            owner_badge_local_id: "[00]".into(),
            round_length_ms: 100,
            rounds_per_epoch: 20,
            access_controller: None,
            recovery_key_file: None,
            recovery_account: None,
            fronts: Vec::new(),
        };
        let in_controller = Info {
            access_controller: Some("accesscontroller_sim1xyz".into()),
            ..info.clone()
        };
        let parsed: toml::Table = in_controller.failover_config().parse().expect("valid TOML");
        assert_eq!(
            parsed["badge_holder"].as_str(),
            Some("accesscontroller_sim1xyz")
        );
        let parsed: toml::Table = info.failover_config().parse().expect("valid TOML");
        let keys: Vec<&str> = parsed.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "backup",
                "backup_public_key",
                "daemon",
                "fee_lock_xrd",
                "key_file",
                "metrics",
                "network",
                "policy",
                "primary",
                "primary_public_key",
                "sources",
                "validator"
            ]
        );
        assert_eq!(parsed["key_file"].as_str(), Some("/tmp/with \"quote\"/key"));
        assert_eq!(parsed["backup_public_key"].as_str(), Some("03bb"));
        assert_eq!(
            parsed["primary"]["core_api"].as_str(),
            Some("http://127.0.0.1:10/core")
        );
        // Two independent nodes besides primary and backup, not the third.
        let cores = parsed["sources"]["core_apis"].as_array().expect("array");
        assert_eq!(cores.len(), 2);
        assert_eq!(cores[1].as_str(), Some("http://127.0.0.1:40/core"));
        // 2 s epochs: polls every round (100 ms floor), lag 10 rounds, deadline 6 epochs.
        assert_eq!(parsed["policy"]["poll_interval"].as_str(), Some("100ms"));
        assert_eq!(parsed["policy"]["max_source_lag"].as_str(), Some("1000ms"));
        assert_eq!(
            parsed["daemon"]["submit_deadline"].as_str(),
            Some("12000ms")
        );
    }

    #[test]
    fn timing_scales_with_long_epochs() {
        // A mainnet-like 5-minute epoch gives back the daemon's mainnet defaults.
        let t = SimTiming::for_epoch(500, 600);
        assert_eq!(t.poll_interval_ms, 5_000);
        assert_eq!(t.max_source_lag_ms, 30_000);
        assert_eq!(t.submit_deadline_ms, 30 * 60 * 1000);
    }
}
