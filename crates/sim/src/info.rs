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
        }
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
        s
    }

    /// A ready radix-failover config (TOML) for this network.
    pub fn failover_config(&self) -> String {
        let mut s = String::new();
        s.push_str("# radix-failover config for a radix-sim network (written by radix-sim).\n");
        s.push_str(&format!("# gateway:  {}\n", self.gateway_url));
        for n in &self.nodes {
            if n.name == "primary" || n.name == "backup" {
                s.push_str(&format!("# {} core:   {}\n", n.name, n.core_api_url));
                s.push_str(&format!("# {} system: {}\n", n.name, n.system_api_url));
            }
        }
        s.push_str("network = \"simulator\"\n");
        s.push_str(&format!("validator = {}\n", toml_str(&self.our_validator)));
        s.push_str(&format!(
            "backup_public_key = {}\n",
            toml_str(&self.backup_public_key_hex)
        ));
        s.push_str(&format!(
            "key_file = {}\n",
            toml_str(&self.key_file.display().to_string())
        ));
        s.push_str("fee_lock_xrd = \"10\"\n");
        s
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
        let info = Info {
            network_id: 242,
            network_name: "simulator".into(),
            seed: 1,
            gateway_url: "http://127.0.0.1:1".into(),
            control_url: "http://127.0.0.1:2".into(),
            nodes: vec![],
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
        };
        let parsed: toml::Table = info.failover_config().parse().expect("valid TOML");
        let keys: Vec<&str> = parsed.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "backup_public_key",
                "fee_lock_xrd",
                "key_file",
                "network",
                "validator"
            ]
        );
        assert_eq!(parsed["key_file"].as_str(), Some("/tmp/with \"quote\"/key"));
        assert_eq!(parsed["backup_public_key"].as_str(), Some("03bb"));
    }
}
