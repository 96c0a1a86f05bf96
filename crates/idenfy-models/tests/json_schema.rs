//! With the `schemars` feature, every model describes itself as a JSON Schema, and the open
//! enums describe themselves as open.
#![cfg(feature = "schemars")]

use idenfy_models::{FullStatus, OverallStatus};

#[test]
fn models_describe_themselves_and_enums_stay_open() {
    let full = serde_json::to_value(schemars::schema_for!(FullStatus)).unwrap();
    assert!(
        full["properties"]["client_identity_document"].is_object(),
        "{full:#}"
    );
    let definitions = &full["$defs"];
    let validity = &definitions["DocumentValidity"];
    // Known values are named, and any other string is allowed.
    assert!(
        validity["anyOf"][0]["enum"]
            .as_array()
            .unwrap()
            .contains(&"DOC_VALIDATED".into())
    );
    assert_eq!(validity["anyOf"][1], serde_json::json!({"type": "string"}));

    let overall = serde_json::to_value(schemars::schema_for!(OverallStatus)).unwrap();
    assert_eq!(
        overall["anyOf"][0]["enum"].as_array().unwrap().len(),
        OverallStatus::KNOWN.len()
    );
}
