//! Tests over the vendor's OpenAPI document (`openapi/kyc.yaml` in `IDENFY_DOCS_DIR`): what it
//! lists is in `schema/` and in the models, and a change to it reaches both.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{copy_dir, edit, vendor_docs};
use serde_json::Value;
use xtask::openapi::OPENAPI_DOCUMENT;
use xtask::workspace_root;

/// The webhook bodies and the list endpoint's answer: the components the schemas take from the
/// document.
const ROOTS: [&str; 3] = [
    "IdentificationWebhook",
    "DocumentExpirationWebhook",
    "PaginatedPartnerIdentificationListList",
];

fn document(docs: &Path) -> Value {
    let text = std::fs::read_to_string(docs.join(OPENAPI_DOCUMENT)).expect("the document reads");
    serde_yaml_ng::from_str(&text).expect("the document is YAML")
}

/// Every enum value and every object key reachable from the roots, walked here on its own (not
/// with the derivation's code), and every webhook's event type.
#[derive(Default)]
struct Listed {
    values: BTreeSet<String>,
    keys: BTreeSet<String>,
    event_types: BTreeSet<String>,
}

fn walk(document: &Value) -> Listed {
    let components = document["components"]["schemas"]
        .as_object()
        .expect("components.schemas");
    let mut listed = Listed::default();
    let mut seen = BTreeSet::new();
    let mut pending: Vec<Value> = ROOTS.iter().map(|root| components[*root].clone()).collect();
    while let Some(schema) = pending.pop() {
        let Value::Object(object) = &schema else {
            continue;
        };
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/components/schemas/");
            if seen.insert(name.to_owned()) {
                pending.push(components[name].clone());
            }
        }
        for value in object
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(value) = value.as_str() {
                listed.values.insert(value.to_owned());
            }
        }
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            listed.keys.extend(properties.keys().cloned());
            pending.extend(properties.values().cloned());
        }
        for key in ["items", "additionalProperties"] {
            if let Some(child) = object.get(key) {
                pending.push(child.clone());
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            pending.extend(
                object
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
    }
    for webhook in document["webhooks"].as_object().expect("webhooks").values() {
        for parameter in webhook["post"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if parameter["name"] == "Idenfy-Event-Type" {
                for value in parameter["schema"]["enum"].as_array().into_iter().flatten() {
                    listed
                        .event_types
                        .insert(value.as_str().unwrap().to_owned());
                }
            }
        }
    }
    listed
}

/// Every enum value and property name of the schema files.
fn schema_contents(dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    fn visit(value: &Value, values: &mut BTreeSet<String>, keys: &mut BTreeSet<String>) {
        match value {
            Value::Object(object) => {
                for item in object
                    .get("enum")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(item) = item.as_str() {
                        values.insert(item.to_owned());
                    }
                }
                if let Some(properties) = object.get("properties").and_then(Value::as_object) {
                    keys.extend(properties.keys().cloned());
                }
                for child in object.values() {
                    visit(child, values, keys);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| visit(item, values, keys)),
            _ => {}
        }
    }
    let (mut values, mut keys) = (BTreeSet::new(), BTreeSet::new());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "json") && !path.ends_with("errata.json") {
            let schema: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            visit(&schema, &mut values, &mut keys);
        }
    }
    (values, keys)
}

/// The field a key becomes: its snake-case name, or a `rename` of it.
fn typed_in(generated: &str, key: &str) -> bool {
    let mut snake = String::new();
    for (index, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 && !key.chars().all(|c| !c.is_ascii_lowercase()) {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    generated.contains(&format!("rename = \"{key}\""))
        || generated.contains(&format!("pub {snake}:"))
        || generated.contains(&format!("pub {snake}_:"))
}

#[test]
#[cfg_attr(not(idenfy_docs), ignore = "needs IDENFY_DOCS_DIR: the vendor's pages")]
fn every_value_key_and_event_type_of_the_document_is_in_the_schema_and_the_models() {
    let listed = walk(&document(&vendor_docs()));
    let root = workspace_root();
    let (values, keys) = schema_contents(&root.join("schema"));
    let generated =
        std::fs::read_to_string(root.join("crates/idenfy-models/src/generated.rs")).unwrap();
    assert!(
        listed.values.len() > 300 && listed.keys.len() > 100,
        "the walk found too little"
    );
    for value in listed.values.iter().chain(&listed.event_types) {
        assert!(
            values.contains(value),
            "the value `{value}` is not in schema/"
        );
        assert!(
            generated.contains(&format!("\"{value}\" =>")),
            "the value `{value}` is not a variant of the models"
        );
    }
    for key in &listed.keys {
        assert!(keys.contains(key), "the key `{key}` is not in schema/");
        assert!(
            typed_in(&generated, key),
            "the key `{key}` is no field of the models"
        );
    }
    let event_types: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schema/event-type.json")).unwrap(),
    )
    .unwrap();
    let schema_events: BTreeSet<String> = event_types["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(schema_events, listed.event_types, "the event types differ");
    assert!(listed.event_types.contains("IDENTIFICATION_AUTO_FINISHED"));
}

/// A new enum value, a new webhook key and a new webhook event type in the document reach the
/// schema through `cargo xtask schema` and the models through `cargo xtask codegen`.
#[test]
#[cfg_attr(not(idenfy_docs), ignore = "needs IDENFY_DOCS_DIR: the vendor's pages")]
fn a_changed_document_reaches_the_schema_and_the_models() {
    let docs = copy_dir(&vendor_docs());
    let path = docs.path().join(OPENAPI_DOCUMENT);
    edit(
        &path,
        "      - FAKE_FACE\n",
        "      - FAKE_FACE\n      - FACE_ADDED_FOR_TEST\n",
    );
    edit(
        &path,
        "        companyId:\n",
        "        keyAddedForTest:\n          type: string\n          nullable: true\n        companyId:\n",
    );
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "  addedForTest:\n    post:\n      operationId: addedForTest\n      parameters:\n      - in: header\n        name: Idenfy-Event-Type\n        schema:\n          type: string\n          enum:\n          - EVENT_ADDED_FOR_TEST\n        required: true\n      responses:\n        '200':\n          description: OK\n",
    );
    std::fs::write(&path, text).unwrap();

    let root = workspace_root();
    let out = tempfile::tempdir().unwrap();
    let schema_dir = out.path().join("schema");
    xtask::schema(
        docs.path(),
        &root.join("schema/errata.json"),
        &schema_dir,
        false,
    )
    .expect("schema");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(schema_dir.join(name)).unwrap()).unwrap()
    };
    let callback = read("callback.json");
    assert!(
        callback["properties"]["keyAddedForTest"].is_object(),
        "the new key is in the callback's schema"
    );
    for (file, schema) in [
        ("callback.json", &callback),
        ("full-status.json", &read("full-status.json")),
    ] {
        let values = schema["definitions"]["FaceMatchResult"]["enum"]
            .as_array()
            .unwrap();
        assert!(
            values.contains(&Value::from("FACE_ADDED_FOR_TEST")),
            "the new face status is in {file}"
        );
    }
    let events = read("event-type.json");
    assert!(
        events["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("EVENT_ADDED_FOR_TEST")),
        "the new event type is in the schema"
    );

    let generated = out.path().join("generated.rs");
    xtask::codegen(&schema_dir, &generated, false).expect("codegen");
    let generated = std::fs::read_to_string(generated).unwrap();
    for expected in [
        "pub key_added_for_test:",
        "FaceAddedForTest,",
        "EventAddedForTest,",
    ] {
        assert!(
            generated.contains(expected),
            "the generated code lacks `{expected}`"
        );
    }
}
