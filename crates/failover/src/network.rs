//! Network names and ids <-> the official `NetworkDefinition`.
//!
//! An address, a transaction header and a derivation path all carry the network; getting it
//! wrong produces a transaction the ledger rejects (`InvalidNetwork`) or a key for another
//! network. So the network is parsed once, here, and only known networks are accepted: an
//! unknown id has no known address prefix (HRP), so nothing we print for it could be checked.

use radix_common::network::NetworkDefinition;

/// Networks this tool knows, with the names accepted on the command line and in config.
/// The definitions come from radix-common 1.4.0 (ids and HRP suffixes are the official ones).
const KNOWN: [fn() -> NetworkDefinition; 9] = [
    NetworkDefinition::mainnet,
    NetworkDefinition::stokenet,
    NetworkDefinition::localnet,
    NetworkDefinition::simulator,
    NetworkDefinition::adapanet,
    NetworkDefinition::nebunet,
    NetworkDefinition::kisharnet,
    NetworkDefinition::ansharnet,
    NetworkDefinition::zabanet,
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NetworkError {
    #[error("unknown network {0:?}; fix: use one of {supported}", supported = supported_list())]
    Unknown(String),
    #[error(
        "network id {0} has no known definition (address prefixes); fix: use one of {supported}",
        supported = supported_list()
    )]
    UnknownId(u8),
}

/// "mainnet (1), stokenet (2), ..." for error messages.
pub fn supported_list() -> String {
    KNOWN
        .iter()
        .map(|f| {
            let n = f();
            format!("{} ({})", n.logical_name, n.id)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `mainnet`, `stokenet`, `localnet`, `simulator`, the other official test network
/// names, or a numeric id of one of them (`1`, `2`, `240`, `242`, ...).
pub fn parse_network(s: &str) -> Result<NetworkDefinition, NetworkError> {
    let t = s.trim();
    if let Ok(id) = t.parse::<u8>() {
        return from_id(id);
    }
    let lower = t.to_ascii_lowercase();
    KNOWN
        .iter()
        .map(|f| f())
        .find(|n| n.logical_name == lower)
        .ok_or_else(|| NetworkError::Unknown(s.to_string()))
}

/// The definition of a known network id.
pub fn from_id(id: u8) -> Result<NetworkDefinition, NetworkError> {
    KNOWN
        .iter()
        .map(|f| f())
        .find(|n| n.id == id)
        .ok_or(NetworkError::UnknownId(id))
}

/// All known networks (used to tell which network a wrong-network address belongs to).
pub fn known_networks() -> impl Iterator<Item = NetworkDefinition> {
    KNOWN.iter().map(|f| f())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert_eq!(parse_network("mainnet").unwrap().id, 1);
        assert_eq!(parse_network("Stokenet").unwrap().id, 2);
        assert_eq!(parse_network("localnet").unwrap().id, 240);
        assert_eq!(parse_network("simulator").unwrap().id, 242);
        assert_eq!(parse_network("242").unwrap().hrp_suffix, "sim");
        assert_eq!(parse_network("2").unwrap().hrp_suffix, "tdx_2_");
        assert_eq!(parse_network("1").unwrap().hrp_suffix, "rdx");
    }

    #[test]
    fn unknown_network_names_the_supported_ones() {
        let e = parse_network("mainnt").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("\"mainnt\""), "{msg}");
        assert!(
            msg.contains("mainnet (1)") && msg.contains("simulator (242)"),
            "{msg}"
        );
        let e = parse_network("77").unwrap_err();
        assert_eq!(e, NetworkError::UnknownId(77));
        assert!(e.to_string().contains("stokenet (2)"));
        assert!(parse_network("300").is_err());
    }
}
