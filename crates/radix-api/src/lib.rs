//! Typed models of the Radix Gateway, Core and System API requests and answers this project
//! uses, named and shaped as in the OpenAPI specs (`specs/*.yaml`).
//!
//! The same types serve radix-sim's servers and the daemon's clients, so they are lenient
//! where a client must be (unknown fields ignored, unknown enum tags parse as `Other` where a
//! spec may grow) and exact where the spec is (required fields, enum strings, Decimals as
//! strings, state versions as integers, timestamps as ISO-8601 strings).
//!
//! With the non-default feature `spec-check`, [`spec_check`] validates any JSON value
//! against a spec's component schema: the tests use it to prove answers are field for field.

use serde::{Deserialize, Serialize};

pub mod core;
pub mod gateway;
pub mod system;

#[cfg(any(test, feature = "spec-check"))]
pub mod spec_check;

/// `PublicKey` (Gateway and Core share the shape), discriminated by `key_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "key_type")]
pub enum PublicKey {
    /// 33-byte compressed key, 66 hex characters (validator and node keys).
    EcdsaSecp256k1 { key_hex: String },
    /// 32-byte key, 64 hex characters (wallet accounts).
    EddsaEd25519 { key_hex: String },
}

impl PublicKey {
    pub fn key_hex(&self) -> &str {
        match self {
            PublicKey::EcdsaSecp256k1 { key_hex } | PublicKey::EddsaEd25519 { key_hex } => key_hex,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn public_key_round_trips_with_spec_tag() {
        let k: PublicKey =
            serde_json::from_value(json!({"key_type": "EcdsaSecp256k1", "key_hex": "02aa"}))
                .expect("valid key parses");
        assert_eq!(k.key_hex(), "02aa");
        assert_eq!(
            serde_json::to_value(&k).expect("serializes"),
            json!({"key_type": "EcdsaSecp256k1", "key_hex": "02aa"})
        );
        assert!(
            serde_json::from_value::<PublicKey>(json!({"key_type": "Rsa", "key_hex": "00"}))
                .is_err()
        );
    }

    #[test]
    fn gateway_error_unknown_type_is_tolerated() {
        let e: gateway::ErrorResponse = serde_json::from_value(json!({
            "message": "x", "code": 500, "details": {"type": "SomeFutureError", "foo": 1}, "extra": true
        }))
        .expect("unknown error types and fields are tolerated");
        assert_eq!(e.details, Some(gateway::GatewayError::Other));
    }

    /// Every closed enum the daemon reads from an answer: a value the spec does not (yet)
    /// list parses as `Other` with its text, and serializes back to that text; the known
    /// values still parse as themselves; a value that is not a string is still an error.
    #[test]
    fn unknown_enum_values_parse_as_other_with_their_text() {
        fn other<T>(known: &str, new: &str, wrap: fn(String) -> T)
        where
            T: serde::de::DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
        {
            let parsed: T = serde_json::from_value(json!(new)).expect("an unknown value parses");
            assert_eq!(parsed, wrap(new.to_string()));
            assert_eq!(serde_json::to_value(&parsed).expect("ser"), json!(new));
            let k: T = serde_json::from_value(json!(known)).expect("a known value parses");
            assert_ne!(k, wrap(known.to_string()), "{known} is a known value");
            assert!(serde_json::from_value::<T>(json!(7)).is_err());
        }
        other("UP", "UP_BUT_DEGRADED", system::HealthStatus::Other);
        other("Basic", "SomeFutureError", core::ErrorResponseType::Other);
        other(
            "VALIDATING_IN_CURRENT_EPOCH",
            "VALIDATING_AS_BACKUP",
            system::ConsensusStatus::Other,
        );
        other(
            "CommittedSuccess",
            "CommittedAfterAll",
            core::LtsTransactionIntentStatus::Other,
        );
        other(
            "InMempool",
            "InSomeNewPool",
            core::LtsTransactionPayloadStatus::Other,
        );
        other(
            "CommittedSuccess",
            "Deferred",
            gateway::TransactionStatus::Other,
        );
        other(
            "Pending",
            "PendingOnAnotherShard",
            gateway::TransactionIntentStatus::Other,
        );
        other(
            "Pending",
            "Queued",
            gateway::TransactionPayloadStatus::Other,
        );
        other(
            "Concluded",
            "Escalated",
            gateway::TransactionPayloadGatewayHandlingStatus::Other,
        );
    }

    #[test]
    fn nullable_uptime_counts_parse_and_optional_fields_are_omitted() {
        let item: gateway::ValidatorUptimeCollectionItem = serde_json::from_value(json!({
            "address": "validator_sim1x", "proposals_made": null, "proposals_missed": null, "epochs_active_in": 0
        }))
        .expect("nullable counts");
        assert_eq!(item.proposals_made, None);
        let req = gateway::ValidatorsUptimeRequest {
            validator_addresses: Some(vec!["v".into()]),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&req).expect("ser"),
            json!({"validator_addresses": ["v"]})
        );
    }
}
