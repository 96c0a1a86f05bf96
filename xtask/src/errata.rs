//! The errata: the committed decisions that override what the docs' tables say where the docs
//! contradict their own examples.
//!
//! `schema/errata.json` lists one entry per decision, each with the docs' statement, the
//! evidence and the decision, and the patches that carry it out. Every patch must hit something:
//! a pointer that matches nothing is an error, so an erratum cannot outlive the docs it corrects
//! without someone noticing.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::derive::Schemas;

/// The errata file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Errata {
    /// What the file is, for its readers.
    #[allow(dead_code)]
    pub about: Vec<String>,
    /// The decisions, applied in order.
    pub errata: Vec<Erratum>,
}

/// One decision.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erratum {
    /// A short, stable name.
    pub id: String,
    /// What the docs say.
    pub statement: String,
    /// What the docs' examples (or other pages) show instead.
    pub evidence: String,
    /// What the schema does, and why.
    pub decision: String,
    /// The edits that carry the decision out.
    pub patches: Vec<Patch>,
}

/// One edit of one schema.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Patch {
    /// Replaces the value at `pointer`, which must exist.
    Set {
        schema: String,
        pointer: String,
        value: Value,
    },
    /// Inserts a key that must not exist yet, in an object that must.
    Add {
        schema: String,
        pointer: String,
        value: Value,
    },
    /// Removes the value at `pointer`, which must exist.
    Remove { schema: String, pointer: String },
    /// Appends values that are not there yet to the array at `pointer`.
    Append {
        schema: String,
        pointer: String,
        values: Vec<Value>,
    },
    /// Renames a definition and every reference to it.
    RenameDefinition {
        schema: String,
        from: String,
        to: String,
    },
    /// Lets every schema matched by `pointer` (`*` matches any key) also be `null`.
    Nullable { schema: String, pointer: String },
    /// Replaces the definition `replaces` with a copy of the definition `definition` of the
    /// schema `from` (as the errata before this one left it), and points every reference to
    /// the one at the other: two pages document the same value list under different names.
    ShareDefinition {
        schema: String,
        from: String,
        definition: String,
        replaces: String,
    },
}

impl Errata {
    /// Reads the errata file.
    pub fn read(path: &Path) -> Result<Errata, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("{}: cannot read the errata: {err}", path.display()))?;
        serde_json::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))
    }

    /// Applies every erratum in order.
    pub fn apply(&self, schemas: &mut Schemas) -> Result<(), String> {
        for erratum in &self.errata {
            for (index, patch) in erratum.patches.iter().enumerate() {
                patch.apply(schemas).map_err(|err| {
                    format!("erratum `{}`, patch {}: {err}", erratum.id, index + 1)
                })?;
            }
        }
        Ok(())
    }
}

impl Patch {
    fn apply(&self, schemas: &mut Schemas) -> Result<(), String> {
        let schema_name = match self {
            Patch::Set { schema, .. }
            | Patch::Add { schema, .. }
            | Patch::Remove { schema, .. }
            | Patch::Append { schema, .. }
            | Patch::RenameDefinition { schema, .. }
            | Patch::Nullable { schema, .. }
            | Patch::ShareDefinition { schema, .. } => schema,
        };
        let shared = match self {
            Patch::ShareDefinition {
                from, definition, ..
            } => Some(
                schemas
                    .get(from)
                    .and_then(|source| source.get("definitions")?.get(definition))
                    .cloned()
                    .ok_or_else(|| format!("`{from}` has no definition `{definition}`"))?,
            ),
            _ => None,
        };
        let root = schemas
            .get_mut(schema_name)
            .ok_or_else(|| format!("there is no schema `{schema_name}`"))?;
        match self {
            Patch::Set { pointer, value, .. } => {
                let target = root
                    .pointer_mut(pointer)
                    .ok_or_else(|| format!("`{pointer}` matches nothing"))?;
                if target == value {
                    return Err(format!(
                        "`{pointer}` already holds this value: the erratum is obsolete"
                    ));
                }
                *target = value.clone();
            }
            Patch::Add { pointer, value, .. } => {
                let (parent, key) = split_pointer(pointer)?;
                let object = root
                    .pointer_mut(parent)
                    .and_then(Value::as_object_mut)
                    .ok_or_else(|| format!("`{parent}` is not an object"))?;
                if object.contains_key(&key) {
                    return Err(format!(
                        "`{pointer}` exists already: the erratum is obsolete"
                    ));
                }
                object.insert(key, value.clone());
            }
            Patch::Remove { pointer, .. } => {
                let (parent, key) = split_pointer(pointer)?;
                let object = root
                    .pointer_mut(parent)
                    .and_then(Value::as_object_mut)
                    .ok_or_else(|| format!("`{parent}` is not an object"))?;
                object
                    .remove(&key)
                    .ok_or_else(|| format!("`{pointer}` matches nothing"))?;
            }
            Patch::Append {
                pointer, values, ..
            } => {
                let array = root
                    .pointer_mut(pointer)
                    .and_then(Value::as_array_mut)
                    .ok_or_else(|| format!("`{pointer}` is not an array"))?;
                for value in values {
                    if array.contains(value) {
                        return Err(format!(
                            "`{pointer}` already holds {value}: the erratum is obsolete"
                        ));
                    }
                    array.push(value.clone());
                }
            }
            Patch::RenameDefinition { from, to, .. } => {
                let definitions = root
                    .get_mut("definitions")
                    .and_then(Value::as_object_mut)
                    .ok_or("the schema has no definitions")?;
                let definition = definitions
                    .remove(from)
                    .ok_or_else(|| format!("there is no definition `{from}`"))?;
                if definitions.insert(to.clone(), definition).is_some() {
                    return Err(format!("a definition `{to}` exists already"));
                }
                rewrite_refs(
                    root,
                    &format!("#/definitions/{from}"),
                    &format!("#/definitions/{to}"),
                );
            }
            Patch::ShareDefinition {
                definition,
                replaces,
                ..
            } => {
                let definitions = root
                    .get_mut("definitions")
                    .and_then(Value::as_object_mut)
                    .ok_or("the schema has no definitions")?;
                definitions
                    .remove(replaces)
                    .ok_or_else(|| format!("there is no definition `{replaces}`"))?;
                let shared = shared.expect("read above for this patch");
                if definitions
                    .insert(definition.clone(), shared.clone())
                    .is_some_and(|existing| existing != shared)
                {
                    return Err(format!(
                        "a different definition `{definition}` exists already"
                    ));
                }
                rewrite_refs(
                    root,
                    &format!("#/definitions/{replaces}"),
                    &format!("#/definitions/{definition}"),
                );
            }
            Patch::Nullable { pointer, .. } => {
                let (mut matched, mut changed) = (0, 0);
                for_each_match(root, &segments(pointer), &mut |schema| {
                    matched += 1;
                    // A source that already says `null` (the OpenAPI document does, key by
                    // key) needs nothing; the patch is obsolete only when none of its targets
                    // does.
                    if !is_nullable(schema) {
                        changed += 1;
                        make_nullable(schema)?;
                    }
                    Ok(())
                })?;
                if matched == 0 {
                    return Err(format!("`{pointer}` matches nothing"));
                }
                if changed == 0 {
                    return Err(format!(
                        "everything `{pointer}` matches is nullable already: the erratum is obsolete"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn split_pointer(pointer: &str) -> Result<(&str, String), String> {
    let (parent, key) = pointer
        .rsplit_once('/')
        .ok_or_else(|| format!("`{pointer}` is not a JSON pointer"))?;
    Ok((parent, key.replace("~1", "/").replace("~0", "~")))
}

fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn for_each_match(
    value: &mut Value,
    path: &[String],
    action: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return action(value);
    };
    match (first.as_str(), value) {
        ("*", Value::Object(object)) => {
            for child in object.values_mut() {
                for_each_match(child, rest, action)?;
            }
        }
        (key, Value::Object(object)) => {
            if let Some(child) = object.get_mut(key) {
                for_each_match(child, rest, action)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether `schema` already accepts `null`.
fn is_nullable(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.contains(&json!("null")),
        Some(kind) => kind == "null",
        None => ["anyOf", "oneOf"].iter().any(|key| {
            schema
                .get(key)
                .and_then(Value::as_array)
                .is_some_and(|members| members.contains(&json!({ "type": "null" })))
        }),
    }
}

/// `{"type": "string"}` becomes `{"type": ["string", "null"]}`; a reference, which carries no
/// type of its own, becomes `{"anyOf": [reference, {"type": "null"}]}` with the description
/// kept outside, where it documents the field.
fn make_nullable(schema: &mut Value) -> Result<(), String> {
    let object = schema
        .as_object_mut()
        .ok_or("a nullable target is not a schema object")?;
    match object.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = kind.clone();
            object.insert("type".into(), json!([kind, "null"]));
        }
        Some(Value::Array(kinds)) => {
            if kinds.contains(&json!("null")) {
                return Err("already nullable: the erratum is obsolete".into());
            }
            kinds.push(json!("null"));
        }
        Some(_) => return Err("`type` is neither a string nor an array".into()),
        None => {
            let description = object.remove("description");
            let inner = Value::Object(std::mem::take(object));
            object.insert("anyOf".into(), json!([inner, { "type": "null" }]));
            if let Some(description) = description {
                object.insert("description".into(), description);
            }
        }
    }
    Ok(())
}

fn rewrite_refs(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if key == "$ref" && child.as_str() == Some(from) {
                    *child = json!(to);
                } else {
                    rewrite_refs(child, from, to);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_refs(item, from, to)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> Schemas {
        let mut schemas = Schemas::new();
        schemas.insert(
            "s".into(),
            json!({
                "properties": {
                    "a": { "type": "string", "description": "A." },
                    "b": { "$ref": "#/definitions/Old", "description": "B." }
                },
                "definitions": { "Old": { "type": "string", "enum": ["X"] } }
            }),
        );
        schemas
    }

    fn patch(json: Value) -> Patch {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn nullable_wraps_references_and_extends_types() {
        let mut schemas = schemas();
        patch(json!({"op": "nullable", "schema": "s", "pointer": "/properties/*"}))
            .apply(&mut schemas)
            .unwrap();
        assert_eq!(
            schemas["s"]["properties"]["a"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(
            schemas["s"]["properties"]["b"],
            json!({"anyOf": [{"$ref": "#/definitions/Old"}, {"type": "null"}], "description": "B."})
        );
    }

    #[test]
    fn renaming_a_definition_rewrites_its_references() {
        let mut schemas = schemas();
        patch(json!({"op": "rename-definition", "schema": "s", "from": "Old", "to": "New"}))
            .apply(&mut schemas)
            .unwrap();
        assert_eq!(schemas["s"]["properties"]["b"]["$ref"], "#/definitions/New");
        assert!(schemas["s"]["definitions"].get("Old").is_none());
    }

    #[test]
    fn a_shared_definition_replaces_the_local_one_and_its_references() {
        let mut schemas = schemas();
        schemas.insert(
            "t".into(),
            json!({ "definitions": { "New": { "type": "string", "enum": ["X", "Y"] } } }),
        );
        patch(json!({"op": "share-definition", "schema": "s", "from": "t", "definition": "New", "replaces": "Old"}))
            .apply(&mut schemas)
            .unwrap();
        assert_eq!(schemas["s"]["properties"]["b"]["$ref"], "#/definitions/New");
        assert_eq!(
            schemas["s"]["definitions"]["New"]["enum"],
            json!(["X", "Y"])
        );
        assert!(schemas["s"]["definitions"].get("Old").is_none());
        let err = patch(json!({"op": "share-definition", "schema": "s", "from": "t", "definition": "New", "replaces": "Old"}))
            .apply(&mut schemas)
            .unwrap_err();
        assert!(err.contains("no definition `Old`"), "{err}");
    }

    #[test]
    fn a_patch_that_hits_nothing_is_an_error() {
        let mut schemas = schemas();
        let err =
            patch(json!({"op": "set", "schema": "s", "pointer": "/properties/zz", "value": 1}))
                .apply(&mut schemas)
                .unwrap_err();
        assert!(err.contains("matches nothing"), "{err}");
        let err = patch(json!({"op": "append", "schema": "s", "pointer": "/definitions/Old/enum", "values": ["X"]}))
            .apply(&mut schemas)
            .unwrap_err();
        assert!(err.contains("obsolete"), "{err}");
        let err = patch(json!({"op": "nullable", "schema": "s", "pointer": "/properties/nope"}))
            .apply(&mut schemas)
            .unwrap_err();
        assert!(err.contains("matches nothing"), "{err}");
    }
}
