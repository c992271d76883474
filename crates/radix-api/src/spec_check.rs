//! Spec conformance checker (feature `spec-check`): validates a JSON value against
//! `#/components/schemas/<Name>` of one of the OpenAPI specs.
//!
//! OpenAPI 3.0 schemas are not quite JSON Schema, so the document is rewritten first:
//! - `nullable: true` becomes "or null" (added to `type`, or an `anyOf` with `{type: null}`
//!   where there is no `type`, e.g. a `$ref` or `allOf`);
//! - a `discriminator` with a `mapping` becomes, per mapped value, `if <prop> == value then
//!   <mapped schema>`. The mapped schemas extend the base with `allOf: [$ref base, ...]`; that
//!   inner reference is pointed at a copy of the base without its discriminator, so the
//!   expansion does not recurse forever. Without this a validator treats `discriminator` as a
//!   mere annotation and e.g. a `PublicKey` missing `key_hex` would pass.
//!
//! The result is validated as JSON Schema 2020-12 (which OpenAPI 3.1, the Core API spec's
//! version, is based on), with every `$ref` resolved against the whole rewritten document.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read spec file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("spec is not valid YAML: {0}")]
    Yaml(String),
    #[error("spec has no components.schemas section")]
    NoSchemas,
    #[error("spec has no schema named {0:?} under #/components/schemas")]
    UnknownSchema(String),
    #[error("schema {schema:?} does not compile as JSON Schema: {message}")]
    Compile { schema: String, message: String },
    #[error("value does not match schema {schema:?}:\n  {}", errors.join("\n  "))]
    Invalid { schema: String, errors: Vec<String> },
}

/// The three specs vendored in the workspace's `specs/` folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Gateway,
    Core,
    System,
}

impl Api {
    /// Path of the vendored spec file (`<workspace>/specs/...`).
    pub fn spec_path(self) -> PathBuf {
        let file = match self {
            Api::Gateway => "gateway-api-schema.yaml",
            Api::Core => "core-api-schema.yaml",
            Api::System => "system-api-schema.yaml",
        };
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../specs")
            .join(file)
    }
}

/// A loaded, rewritten spec; compiled validators are cached per schema name.
pub struct Spec {
    doc: Value,
    cache: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Spec {
    /// Loads one of the vendored specs.
    pub fn load(api: Api) -> Result<Spec, SpecError> {
        Spec::from_file(&api.spec_path())
    }

    pub fn from_file(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Spec::from_yaml_str(&text)
    }

    pub fn from_yaml_str(text: &str) -> Result<Spec, SpecError> {
        let doc: Value =
            serde_yaml_ng::from_str(text).map_err(|e| SpecError::Yaml(e.to_string()))?;
        Spec::from_document(doc)
    }

    /// Takes an OpenAPI document as JSON and rewrites its schemas into JSON Schema.
    pub fn from_document(mut doc: Value) -> Result<Spec, SpecError> {
        let schemas = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
            .ok_or(SpecError::NoSchemas)?;
        let mut converted = Map::new();
        for (name, schema) in schemas.iter() {
            converted.insert(name.clone(), convert_nullable(schema.clone()));
        }
        expand_discriminators(&mut converted);
        *schemas = converted;
        Ok(Spec {
            doc,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The rewritten schema of `name`, for inspection.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.doc.pointer(&format!("/components/schemas/{name}"))
    }

    /// Validates `value` against `#/components/schemas/<name>`; on failure every error is listed
    /// with the JSON path where it occurred.
    pub fn validate(&self, name: &str, value: &Value) -> Result<(), SpecError> {
        let validator = self.validator(name)?;
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("at {:?}: {}", e.instance_path.to_string(), e))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(SpecError::Invalid {
                schema: name.to_string(),
                errors,
            })
        }
    }

    fn validator(&self, name: &str) -> Result<Arc<jsonschema::Validator>, SpecError> {
        // A poisoned cache only means another test thread panicked; the map is still usable.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(name) {
            return Ok(v.clone());
        }
        if self.schema(name).is_none() {
            return Err(SpecError::UnknownSchema(name.to_string()));
        }
        let mut root = Map::new();
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        root.insert("$ref".into(), json!(format!("#/components/schemas/{name}")));
        root.insert(
            "components".into(),
            json!({ "schemas": self.doc.pointer("/components/schemas").cloned().unwrap_or(Value::Null) }),
        );
        let validator =
            jsonschema::draft202012::new(&Value::Object(root)).map_err(|e| SpecError::Compile {
                schema: name.to_string(),
                message: e.to_string(),
            })?;
        let validator = Arc::new(validator);
        cache.insert(name.to_string(), validator.clone());
        Ok(validator)
    }
}

/// Rewrites `nullable: true` (recursively) into JSON Schema's "or null".
fn convert_nullable(schema: Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut map: Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| (k, convert_nullable(v)))
                .collect();
            let nullable = matches!(map.remove("nullable"), Some(Value::Bool(true)));
            if !nullable {
                return Value::Object(map);
            }
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.push(Value::Null);
            }
            match map.get("type").cloned() {
                Some(Value::String(t)) => {
                    map.insert("type".into(), json!([t, "null"]));
                    Value::Object(map)
                }
                Some(Value::Array(mut ts)) => {
                    ts.push(json!("null"));
                    map.insert("type".into(), Value::Array(ts));
                    Value::Object(map)
                }
                _ => json!({ "anyOf": [Value::Object(map), { "type": "null" }] }),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(convert_nullable).collect()),
        other => other,
    }
}

const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// See the module doc: turns each `discriminator.mapping` into `if/then` branches.
fn expand_discriminators(schemas: &mut Map<String, Value>) {
    let bases: Vec<String> = schemas
        .iter()
        .filter(|(_, s)| s.pointer("/discriminator/mapping").is_some())
        .map(|(n, _)| n.clone())
        .collect();
    for base in bases {
        let Some(base_schema) = schemas.get(&base).cloned() else {
            continue;
        };
        let Some(prop) = base_schema
            .pointer("/discriminator/propertyName")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let mapping: Vec<(String, String)> = base_schema
            .pointer("/discriminator/mapping")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();

        let plain_name = format!("{base}__without_discriminator");
        let mut plain = base_schema.clone();
        if let Some(obj) = plain.as_object_mut() {
            obj.remove("discriminator");
        }
        schemas.insert(plain_name.clone(), plain);

        let base_ref = format!("{SCHEMA_REF_PREFIX}{base}");
        let plain_ref = format!("{SCHEMA_REF_PREFIX}{plain_name}");
        let mut branches = Vec::new();
        for (value, target_ref) in mapping {
            let Some(target) = target_ref.strip_prefix(SCHEMA_REF_PREFIX) else {
                continue;
            };
            // Point the mapped schema's `allOf: [$ref base]` at the plain copy.
            if let Some(Value::Array(all_of)) =
                schemas.get_mut(target).and_then(|t| t.get_mut("allOf"))
            {
                for part in all_of.iter_mut() {
                    if part.get("$ref").and_then(Value::as_str) == Some(base_ref.as_str()) {
                        *part = json!({ "$ref": plain_ref });
                    }
                }
            }
            if schemas.contains_key(target) {
                branches.push(json!({
                    "if": { "properties": { prop.clone(): { "const": value } }, "required": [prop] },
                    "then": { "$ref": target_ref }
                }));
            }
        }
        if let Some(obj) = schemas.get_mut(&base).and_then(Value::as_object_mut) {
            obj.remove("discriminator");
            let mut all_of = match obj.remove("allOf") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            all_of.extend(branches);
            if !all_of.is_empty() {
                obj.insert("allOf".into(), Value::Array(all_of));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway() -> Spec {
        Spec::load(Api::Gateway).expect("vendored gateway spec loads")
    }

    #[test]
    fn spec_examples_validate() {
        let spec = gateway();
        for name in [
            "StateValidatorsListRequest",
            "TransactionStatusRequest",
            "StateEntityDetailsRequest",
        ] {
            let example = spec
                .doc
                .pointer(&format!("/components/schemas/{name}"))
                .and_then(|s| s.get("example").or_else(|| s.pointer("/allOf/1/example")))
                .cloned();
            // The examples sit on the schema itself in this spec; fail loudly if that changes.
            let example = example.unwrap_or_else(|| panic!("spec schema {name} lost its example"));
            spec.validate(name, &example)
                .unwrap_or_else(|e| panic!("example of {name} must validate: {e}"));
        }
    }

    #[test]
    fn nullable_selector_accepts_null_but_not_a_string() {
        let spec = gateway();
        spec.validate(
            "StateValidatorsListRequest",
            &json!({"at_ledger_state": null}),
        )
        .expect("nullable selector");
        assert!(spec
            .validate(
                "StateValidatorsListRequest",
                &json!({"at_ledger_state": "latest"})
            )
            .is_err());
    }

    #[test]
    fn missing_required_field_fails() {
        let spec = gateway();
        let ok = json!({
            "ledger_state": {"network": "simulator", "state_version": 5, "proposer_round_timestamp": "2024-01-01T00:00:00.000Z", "epoch": 3, "round": 4},
            "release_info": {"release_version": "1", "open_api_schema_version": "1", "image_tag": "x"}
        });
        spec.validate("GatewayStatusResponse", &ok)
            .expect("complete answer validates");
        let mut broken = ok.clone();
        broken["ledger_state"]
            .as_object_mut()
            .expect("object")
            .remove("epoch");
        let err = spec
            .validate("GatewayStatusResponse", &broken)
            .expect_err("missing epoch");
        assert!(err.to_string().contains("epoch"), "{err}");
        let mut wrong_type = ok;
        wrong_type["ledger_state"]["state_version"] = json!("5");
        assert!(spec.validate("GatewayStatusResponse", &wrong_type).is_err());
    }

    #[test]
    fn wrong_enum_fails() {
        let spec = gateway();
        let base = json!({
            "ledger_state": {"network": "simulator", "state_version": 5, "proposer_round_timestamp": "t", "epoch": 3, "round": 4},
            "status": "Pending", "intent_status": "Pending", "intent_status_description": "d", "known_payloads": []
        });
        spec.validate("TransactionStatusResponse", &base)
            .expect("valid");
        let mut bad = base;
        bad["intent_status"] = json!("Committed");
        assert!(spec.validate("TransactionStatusResponse", &bad).is_err());
    }

    #[test]
    fn discriminator_enforces_the_mapped_schema() {
        let spec = gateway();
        spec.validate(
            "PublicKey",
            &json!({"key_type": "EcdsaSecp256k1", "key_hex": "02".repeat(33)}),
        )
        .expect("valid key");
        // key_hex is only required by the mapped schema: the discriminator must be enforced.
        assert!(spec
            .validate("PublicKey", &json!({"key_type": "EcdsaSecp256k1"}))
            .is_err());
        // Wrong length for the chosen key type.
        assert!(spec
            .validate(
                "PublicKey",
                &json!({"key_type": "EddsaEd25519", "key_hex": "02".repeat(33)})
            )
            .is_err());
        let err =
            json!({"message": "m", "details": {"type": "NotSyncedUpError", "request_type": "x"}});
        assert!(
            spec.validate("ErrorResponse", &err).is_err(),
            "NotSyncedUpError lacks its required delays"
        );
    }

    #[test]
    fn core_and_system_specs_load_and_check() {
        let core = Spec::load(Api::Core).expect("core spec");
        let substate = json!({"substate_type": "ConsensusManagerFieldCurrentProposalStatistic", "is_locked": false,
                              "value": {"completed": [1, 2], "missed": [0, 1]}});
        core.validate("Substate", &substate)
            .expect("valid substate");
        let mut bad = substate;
        bad["value"]
            .as_object_mut()
            .expect("object")
            .remove("missed");
        assert!(core.validate("Substate", &bad).is_err());

        let system = Spec::load(Api::System).expect("system spec");
        assert!(system
            .validate("IdentityResponse", &json!({"public_key_hex": "02", "node_address": "n", "node_uri": "u",
                                                   "node_name": "x", "consensus_status": "VALIDATING_IN_CURRENT_EPOCH"}))
            .is_err(), "public_key_hex must be 66 characters");
        assert!(matches!(
            system.validate("NoSuchThing", &json!({})),
            Err(SpecError::UnknownSchema(_))
        ));
    }
}

/// The request types this crate's clients send must be what the specs accept.
#[cfg(test)]
mod request_conformance {
    use super::*;
    use crate::{core as c, gateway as gw, PublicKey};

    fn check<T: serde::Serialize>(spec: &Spec, schema: &str, value: &T) {
        let json = serde_json::to_value(value).expect("serializes");
        spec.validate(schema, &json)
            .unwrap_or_else(|e| panic!("{schema}: {e}\n{json:#}"));
    }

    #[test]
    fn gateway_requests_match_the_spec() {
        let spec = Spec::load(Api::Gateway).expect("gateway spec");
        let sel = gw::LedgerStateSelector {
            epoch: Some(5),
            ..Default::default()
        };
        check(
            &spec,
            "ValidatorsUptimeRequest",
            &gw::ValidatorsUptimeRequest {
                at_ledger_state: Some(sel.clone()),
                from_ledger_state: Some(sel),
                validator_addresses: Some(vec!["validator_sim1x".into()]),
            },
        );
        check(
            &spec,
            "StateValidatorsListRequest",
            &gw::StateValidatorsListRequest::default(),
        );
        check(
            &spec,
            "StateEntityDetailsRequest",
            &gw::StateEntityDetailsRequest {
                addresses: vec!["account_sim1x".into()],
                aggregation_level: Some(gw::ResourceAggregationLevel::Vault),
                opt_ins: Some(gw::StateEntityDetailsOptIns {
                    non_fungible_include_nfids: Some(true),
                    explicit_metadata: None,
                }),
                at_ledger_state: None,
            },
        );
        check(
            &spec,
            "TransactionSubmitRequest",
            &gw::TransactionSubmitRequest {
                notarized_transaction_hex: "00".into(),
            },
        );
        check(
            &spec,
            "TransactionStatusRequest",
            &gw::TransactionStatusRequest {
                intent_hash: "txid_sim1x".into(),
            },
        );
        check(
            &spec,
            "TransactionPreviewRequest",
            &gw::TransactionPreviewRequest {
                manifest: "CALL_METHOD".into(),
                start_epoch_inclusive: Some(1),
                end_epoch_exclusive: Some(2),
                notary_public_key: Some(PublicKey::EddsaEd25519 {
                    key_hex: "ab".repeat(32),
                }),
                notary_is_signatory: Some(true),
                tip_percentage: Some(0),
                nonce: Some(1),
                signer_public_keys: Some(vec![]),
                flags: Some(gw::PreviewFlags::default()),
                blobs_hex: None,
            },
        );
        check(
            &spec,
            "TransactionCommittedDetailsRequest",
            &gw::TransactionCommittedDetailsRequest {
                intent_hash: "txid_sim1x".into(),
                opt_ins: Some(gw::TransactionDetailsOptIns {
                    raw_hex: Some(true),
                    ..Default::default()
                }),
                at_ledger_state: None,
            },
        );
        // And a wrong one fails: the checker is not vacuous for requests either.
        assert!(spec
            .validate(
                "TransactionSubmitRequest",
                &json!({"notarized_transaction": "00"})
            )
            .is_err());
    }

    #[test]
    fn core_requests_match_the_spec() {
        let spec = Spec::load(Api::Core).expect("core spec");
        let network = || "simulator".to_string();
        check(
            &spec,
            "NetworkStatusRequest",
            &c::NetworkStatusRequest { network: network() },
        );
        check(
            &spec,
            "StateConsensusManagerRequest",
            &c::StateConsensusManagerRequest {
                network: network(),
                include_readiness_signals: None,
            },
        );
        check(
            &spec,
            "StateValidatorRequest",
            &c::StateValidatorRequest {
                network: network(),
                validator_address: "validator_sim1x".into(),
            },
        );
        check(
            &spec,
            "LtsTransactionConstructionRequest",
            &c::LtsTransactionConstructionRequest { network: network() },
        );
        check(
            &spec,
            "LtsTransactionSubmitRequest",
            &c::LtsTransactionSubmitRequest {
                network: network(),
                notarized_transaction_hex: "00".into(),
                force_recalculate: None,
            },
        );
        check(
            &spec,
            "LtsTransactionStatusRequest",
            &c::LtsTransactionStatusRequest {
                network: network(),
                intent_hash: "txid_sim1x".into(),
            },
        );
    }
}
