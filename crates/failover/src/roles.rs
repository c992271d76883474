//! The pair's roles: which configured node validates (the **active** node) and which one is
//! its standby.
//!
//! The config names two nodes, `[primary]` and `[backup]`. At first the primary is active.
//! After a failover the backup validates; with `policy.rearm = true` (the default) the daemon
//! then swaps the roles (`Config::swapped`): the backup is watched exactly as the primary was,
//! and the primary is its standby, failed over to once it is ready again (docs/policy.md,
//! rule 10). Everything downstream of the swap (sources, policy, pre-flight, the transaction)
//! sees "the active node" in the `primary` slot and "the standby" in the `backup` slot; the
//! names here keep every log line, alert and status naming the real node.

use serde::{Deserialize, Serialize};

/// One of the two configured nodes, by its config section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// `[primary]`, whose key is `primary_public_key`.
    #[default]
    Primary,
    /// `[backup]`, whose key is `backup_public_key`.
    Backup,
}

impl Node {
    /// The config section's name, as every output names the node.
    pub fn name(self) -> &'static str {
        match self {
            Node::Primary => "primary",
            Node::Backup => "backup",
        }
    }

    /// The other node of the pair.
    pub fn other(self) -> Node {
        match self {
            Node::Primary => Node::Backup,
            Node::Backup => Node::Primary,
        }
    }

    /// The ledger source name of the node's own Core API (`[primary] core_api`).
    pub fn core_source(self) -> &'static str {
        match self {
            Node::Primary => "core primary",
            Node::Backup => "core backup",
        }
    }

    /// The name of the node's System API in logs, metrics and traffic counters.
    pub fn system_source(self) -> &'static str {
        match self {
            Node::Primary => "system primary",
            Node::Backup => "system backup",
        }
    }
}

/// Who is active and who stands by, as the policy and every output need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub active: Node,
}

impl Default for Roles {
    fn default() -> Self {
        Roles {
            active: Node::Primary,
        }
    }
}

impl Roles {
    pub fn new(active: Node) -> Roles {
        Roles { active }
    }

    pub fn standby(self) -> Node {
        self.active.other()
    }

    /// The roles are the config's own (the primary is active).
    pub fn as_configured(self) -> bool {
        self.active == Node::Primary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_node_is_the_other_of_the_other_and_names_its_sources() {
        for n in [Node::Primary, Node::Backup] {
            assert_eq!(n.other().other(), n);
            assert_ne!(n.other(), n);
            assert!(n.core_source().ends_with(n.name()));
            assert!(n.system_source().ends_with(n.name()));
        }
        let r = Roles::new(Node::Backup);
        assert_eq!(r.standby(), Node::Primary);
        assert!(!r.as_configured());
        assert!(Roles::default().as_configured());
    }

    #[test]
    fn the_active_node_round_trips_as_its_section_name() {
        assert_eq!(serde_json::to_string(&Node::Backup).unwrap(), "\"backup\"");
        let n: Node = serde_json::from_str("\"primary\"").unwrap();
        assert_eq!(n, Node::Primary);
        assert!(serde_json::from_str::<Node>("\"tertiary\"").is_err());
    }
}
