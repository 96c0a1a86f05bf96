//! The response schemas and validation against them. The schemas are the workspace's
//! `schema/*.json`, copied into this package's `schema/` by `cargo xtask codegen` (so that the
//! published crate has them) and embedded, so that an installed binary carries them.

use std::sync::OnceLock;

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::endpoint::Endpoint;

/// Each endpoint whose answers the sandbox checks, with its answer's schema.
const ANSWER_SCHEMAS: [(Endpoint, &str); 4] = [
    (Endpoint::Status, include_str!("../schema/status.json")),
    (Endpoint::Data, include_str!("../schema/data.json")),
    (Endpoint::Files, include_str!("../schema/files.json")),
    (
        Endpoint::FullStatus,
        include_str!("../schema/full-status.json"),
    ),
];

/// The callback's schema.
pub fn callback_schema_text() -> &'static str {
    include_str!("../schema/callback.json")
}

/// Checks a callback body against the callback's schema; reports the first violation.
pub fn validate_callback(callback: &Value) -> Result<(), Violation> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    let compiled = VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(callback_schema_text())
            .map_err(|e| format!("embedded schema is not JSON: {e}"))?;
        jsonschema::validator_for(&schema).map_err(|e| format!("embedded schema is invalid: {e}"))
    });
    let validator = compiled.as_ref().map_err(|reason| Violation {
        pointer: String::new(),
        reason: reason.clone(),
    })?;
    first_violation(validator, callback)
}

fn first_violation(validator: &jsonschema::Validator, value: &Value) -> Result<(), Violation> {
    match validator.iter_errors(value).next() {
        None => Ok(()),
        Some(error) => {
            let error = deepest(&error);
            Err(Violation {
                pointer: error.instance_path().to_string(),
                reason: error.masked().to_string(),
            })
        }
    }
}

/// A place where a response does not match its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the response, e.g. `/client/sex`; empty for the root.
    pub pointer: String,
    /// What is wrong, without the offending value (it may be personal data).
    pub reason: String,
}

fn validator(endpoint: Endpoint) -> Result<&'static jsonschema::Validator, Violation> {
    static VALIDATORS: [OnceLock<Result<jsonschema::Validator, String>>; ANSWER_SCHEMAS.len()] =
        [const { OnceLock::new() }; ANSWER_SCHEMAS.len()];
    let index = ANSWER_SCHEMAS
        .iter()
        .position(|(known, _)| *known == endpoint)
        .ok_or_else(|| Violation {
            pointer: String::new(),
            reason: format!("the sandbox has no schema for the answers of {endpoint}"),
        })?;
    let compiled = VALIDATORS[index].get_or_init(|| {
        let schema: Value = serde_json::from_str(ANSWER_SCHEMAS[index].1)
            .map_err(|e| format!("embedded schema is not JSON: {e}"))?;
        jsonschema::validator_for(&schema).map_err(|e| format!("embedded schema is invalid: {e}"))
    });
    compiled.as_ref().map_err(|reason| Violation {
        pointer: String::new(),
        reason: reason.clone(),
    })
}

/// Checks `response` against the schema of `endpoint`; reports the first violation.
pub fn validate(endpoint: Endpoint, response: &Value) -> Result<(), Violation> {
    first_violation(validator(endpoint)?, response)
}

/// The most specific cause of an error.
///
/// A nullable field is `anyOf [definition, null]`, whose own message ("not
/// valid under any of the schemas") names neither the inner field nor the
/// rule; the failure deepest in the document is the one a reader can fix.
fn deepest<'a, 'i>(error: &'a ValidationError<'i>) -> &'a ValidationError<'i> {
    let ValidationErrorKind::AnyOf { context } = error.kind() else {
        return error;
    };
    context
        .iter()
        .flatten()
        .map(|inner| deepest(inner))
        .filter(|inner| !is_null_type_error(inner))
        .max_by_key(|inner| inner.instance_path().as_str().matches('/').count())
        .unwrap_or(error)
}

/// The `{"type": "null"}` branch of a nullable field: it always fails for a
/// present value and explains nothing.
fn is_null_type_error(error: &ValidationError<'_>) -> bool {
    matches!(
        error.kind(),
        ValidationErrorKind::Type { kind }
            if matches!(kind, jsonschema::error::TypeKind::Single(jsonschema::JsonType::Null))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_compiles() {
        for endpoint in Endpoint::ALL {
            assert!(validator(endpoint).is_ok(), "{endpoint:?}");
        }
        let mut callback = serde_json::Map::new();
        for key in [
            "platform",
            "status",
            "data",
            "fileUrls",
            "scanRef",
            "externalRef",
            "clientId",
            "startTime",
            "finishTime",
            "clientIp",
        ] {
            callback.insert(key.into(), Value::Null);
        }
        assert_eq!(validate_callback(&Value::Object(callback.clone())), Ok(()));
        callback.insert("startTime".into(), serde_json::json!(["SECRET-NAME"]));
        let violation = validate_callback(&Value::Object(callback)).unwrap_err();
        assert_eq!(violation.pointer, "/startTime");
        assert!(
            !violation.reason.contains("SECRET-NAME"),
            "{}",
            violation.reason
        );
    }

    #[test]
    fn violations_name_the_field_but_not_the_value() {
        let response = serde_json::json!({
            "status": "APPROVED", "scanRef": "x", "clientId": ["SECRET-NAME-VALUE"]
        });
        let violation = validate(Endpoint::Status, &response).unwrap_err();
        assert_eq!(violation.pointer, "/clientId");
        assert!(
            !violation.reason.contains("SECRET-NAME-VALUE"),
            "{}",
            violation.reason
        );
    }
}
