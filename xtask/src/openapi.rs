//! The vendor's OpenAPI document (`openapi/kyc.yaml` in the docs folder) as the second source of
//! the schemas, merged into what the Markdown pages derive.
//!
//! The pages are from 2021; the document is current. What it adds is merged in, and where the two
//! disagree the document wins, unless an erratum (applied after this merge) says otherwise:
//!
//! - The webhook body (`IdentificationWebhook`) is merged into the callback, key by key: a key
//!   both sources document keeps the page's description and gains the document's values and
//!   keys; a key only the document has is added; a scalar typed differently by the two takes
//!   either type; the document's `required` list replaces the page's, except on the retrieval
//!   objects (`data`), whose source stays the page. A page key written in another case than the
//!   document's (`aml`, `AML`) is the document's key, as the page's own example writes it.
//! - The value lists the retrieval responses share with the webhook (document and face results,
//!   fraud tags, overall statuses, document types) gain the document's values, after the page's.
//! - New schemas: the document expiration webhook, the identification list page, and the event
//!   types (the `Idenfy-Event-Type` header of every webhook).
//!
//! The document's own flaws are settled here, deliberately: a `oneOf` becomes one object with
//! every branch's keys (`AmlResults` names two branches twice, and its branches differ only in
//! their records; the branches are told apart by `serviceName`, which the object keeps);
//! `nullable` is not trusted either way, so every key of the document's objects may be `null`
//! (several are required yet nullable, and the pages' examples send `null` where nothing says
//! so); `required` is kept (a documented key is always written back, as `null` when it has no
//! value), as for the pages' objects. Units the document leaves out (`startTime`) are the
//! errata's to state.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::derive::{Schemas, pascal_case};

/// Where the document is, in the docs folder.
pub const OPENAPI_DOCUMENT: &str = "openapi/kyc.yaml";

/// The header every webhook names its event in.
pub const EVENT_TYPE_HEADER: &str = "Idenfy-Event-Type";

const DIALECT: &str = "http://json-schema.org/draft-07/schema#";
const COMPONENT_REF: &str = "#/components/schemas/";

/// The document's names for what the schemas already call otherwise: one concept, one type.
const SAME_CONCEPT: [(&str, &str); 12] = [
    ("IdentificationStatusEnum", "OverallStatus"),
    ("DocumentStatusEnum", "DocumentValidity"),
    ("FaceStatusEnum", "FaceMatchResult"),
    // Every suspicion reason of the pages is a fraud tag: the webhook's `fraudTags` replaced
    // `suspicionReasons`.
    ("FraudTagsEnum", "SuspectionReason"),
    ("InfoMismatchEnum", "MismatchTag"),
    ("KycDocumentTypeEnum", "DocType"),
    ("SexEnum", "DocSex"),
    ("DeviceTypeEnum", "Platform"),
    (
        "PaginatedPartnerIdentificationListList",
        "IdentificationList",
    ),
    ("PartnerIdentificationList", "IdentificationListItem"),
    ("DocumentExpirationEnum", "ExpirationThreshold"),
    ("AmlResults", "AmlCheck"),
];

/// The retrieval value lists that are the same concept as a list of the document, by schema and
/// by the name the page derivation gives them (the errata may rename them afterwards).
const SHARED_LISTS: [(&str, &str, &str); 6] = [
    ("status", "Status", "IdentificationStatusEnum"),
    ("full-status", "DocumentValidity", "DocumentStatusEnum"),
    ("full-status", "FaceMatchResult", "FaceStatusEnum"),
    ("full-status", "SuspectionReason", "FraudTagsEnum"),
    ("full-status", "DocType", "KycDocumentTypeEnum"),
    ("full-status", "DocSex", "SexEnum"),
];

/// Which schema owns a shared value list once the errata are applied: a new schema that uses
/// one gets a copy of that schema's definition (with its explanations), not one of its own.
const LIST_OWNERS: [(&str, &str); 6] = [
    ("OverallStatus", "status"),
    ("DocumentValidity", "full-status"),
    ("FaceMatchResult", "full-status"),
    ("SuspectionReason", "full-status"),
    ("DocType", "full-status"),
    ("DocSex", "full-status"),
];

/// The schemas whose objects keep the page's `required` list: the retrieval responses.
const RETRIEVAL_SCHEMAS: [&str; 4] = ["status", "data", "files", "full-status"];

/// The key a definition carries while it stands for another schema's definition of the same
/// name, until [`link_definitions`] replaces it.
const DEFINITION_OF: &str = "x-definition-of";

/// Reads the document (YAML) as JSON.
pub fn read(docs: &Path) -> Result<Value, String> {
    let path = docs.join(OPENAPI_DOCUMENT);
    let text =
        std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    serde_yaml_ng::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))
}

/// Merges the document into the schemas derived from the pages, and adds the schemas only the
/// document gives.
pub fn merge(schemas: &mut Schemas, document: &Value) -> Result<(), String> {
    let components = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{OPENAPI_DOCUMENT}: no components.schemas"))?;
    let mut merger = Merger {
        components,
        schemas,
        merged: BTreeSet::new(),
        required_set: BTreeSet::new(),
    };
    for (schema, definition, component) in SHARED_LISTS {
        let values = merger.enum_values(component)?;
        merger.union_enum(schema, definition, &values)?;
    }
    merger.merge_object(&Loc::root("callback"), "IdentificationWebhook")?;
    let expiration = merger.new_schema(
        "document-expiration",
        "DocumentExpirationWebhook",
        "DocumentExpirationWebhook",
        "The body of the document expiration webhook: a client's identity document nears its expiry date or has expired.",
    )?;
    merger
        .schemas
        .insert("document-expiration".into(), expiration);
    let list = merger.new_schema(
        "identification-list",
        "PaginatedPartnerIdentificationListList",
        "IdentificationList",
        "The response of `GET /kyc/identifications/`: one page of the partner's identifications, newest first, with links to the pages before and after it.",
    )?;
    merger.schemas.insert("identification-list".into(), list);
    schemas.insert("event-type".into(), event_types(document)?);
    Ok(())
}

/// Replaces each definition that stands for another schema's definition with a copy of it, as
/// the errata left it.
pub fn link_definitions(schemas: &mut Schemas) -> Result<(), String> {
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        let wanted: Vec<(String, String)> = schemas[&name]
            .get("definitions")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(definition, schema)| {
                Some((
                    definition.clone(),
                    schema.get(DEFINITION_OF)?.as_str()?.to_owned(),
                ))
            })
            .collect();
        for (definition, owner) in wanted {
            let copy = schemas
                .get(&owner)
                .and_then(|schema| schema.get("definitions")?.get(&definition))
                .cloned()
                .ok_or_else(|| format!("`{owner}` has no definition `{definition}`"))?;
            schemas.get_mut(&name).expect("listed above")["definitions"][&definition] = copy;
        }
    }
    Ok(())
}

/// The event types: the one value of each webhook's `Idenfy-Event-Type` header, in the order of
/// the webhooks' names, with the webhook's description as the value's explanation.
fn event_types(document: &Value) -> Result<Value, String> {
    let webhooks = document
        .get("webhooks")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{OPENAPI_DOCUMENT}: no webhooks"))?;
    let mut values = Vec::new();
    let mut meanings = Map::new();
    for (name, webhook) in webhooks {
        let operation = webhook
            .get("post")
            .ok_or_else(|| format!("{OPENAPI_DOCUMENT}: the webhook `{name}` is not a POST"))?;
        let header = operation
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|parameter| {
                parameter.get("in").and_then(Value::as_str) == Some("header")
                    && parameter.get("name").and_then(Value::as_str) == Some(EVENT_TYPE_HEADER)
            })
            .ok_or_else(|| {
                format!("{OPENAPI_DOCUMENT}: the webhook `{name}` declares no {EVENT_TYPE_HEADER} header")
            })?;
        let enumerated = header
            .pointer("/schema/enum")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                format!(
                    "{OPENAPI_DOCUMENT}: the {EVENT_TYPE_HEADER} header of `{name}` lists no value"
                )
            })?;
        for value in enumerated {
            let value = value.as_str().ok_or_else(|| {
                format!("{OPENAPI_DOCUMENT}: `{name}`: an event type that is not a string")
            })?;
            if values.iter().any(|known: &Value| known == value) {
                return Err(format!(
                    "{OPENAPI_DOCUMENT}: two webhooks send the event type `{value}`"
                ));
            }
            values.push(json!(value));
            if let Some(description) = operation.get("description").and_then(Value::as_str) {
                meanings.insert(value.to_owned(), json!(clean(description)));
            }
        }
    }
    if values.is_empty() {
        return Err(format!("{OPENAPI_DOCUMENT}: no webhook event type"));
    }
    Ok(json!({
        "$schema": DIALECT,
        "title": "EventType",
        "description": "The kind of a webhook, as the `Idenfy-Event-Type` header of its request names it.",
        "type": "string",
        "enum": values,
        "x-enum-descriptions": meanings,
        "x-header-name": EVENT_TYPE_HEADER,
    }))
}

/// An object of a schema: its root, or one of its definitions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Loc {
    schema: String,
    definition: Option<String>,
}

impl Loc {
    fn root(schema: &str) -> Loc {
        Loc {
            schema: schema.to_owned(),
            definition: None,
        }
    }

    fn definition(schema: &str, definition: &str) -> Loc {
        Loc {
            schema: schema.to_owned(),
            definition: Some(definition.to_owned()),
        }
    }

    fn describe(&self) -> String {
        match &self.definition {
            Some(definition) => format!("`{}` `{definition}`", self.schema),
            None => format!("the root of `{}`", self.schema),
        }
    }
}

struct Merger<'a> {
    components: &'a Map<String, Value>,
    schemas: &'a mut Schemas,
    /// The objects already merged with each component, so that a cycle ends.
    merged: BTreeSet<(Loc, String)>,
    /// The objects whose `required` list a component has replaced already.
    required_set: BTreeSet<Loc>,
}

/// What a property schema of the document is, once its wrappers (`allOf` of one reference,
/// `nullable`) are taken off.
enum Shape<'a> {
    /// A component, by name.
    Component(&'a str),
    Array(&'a Value),
    /// A map of free keys (`additionalProperties` and no properties).
    Map,
    /// A scalar type.
    Scalar(Vec<String>),
    Other,
}

fn shape(schema: &Value) -> Shape<'_> {
    if let Some(name) = component_ref(schema) {
        return Shape::Component(name);
    }
    if let Some([only]) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        && let Some(name) = component_ref(only)
    {
        return Shape::Component(name);
    }
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "array" => {
            Shape::Array(schema.get("items").unwrap_or(&Value::Null))
        }
        Some(Value::String(kind)) if kind == "object" && schema.get("properties").is_none() => {
            Shape::Map
        }
        Some(Value::String(kind)) if schema.get("enum").is_none() => {
            Shape::Scalar(vec![kind.clone()])
        }
        _ => Shape::Other,
    }
}

fn component_ref(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(COMPONENT_REF)
}

/// The definition a property schema of the pages refers to (`$ref`, `allOf` of one, or the
/// `anyOf` of a reference and `null`).
fn definition_ref(schema: &Value) -> Option<String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.strip_prefix("#/definitions/").map(str::to_owned);
    }
    for key in ["allOf", "anyOf"] {
        if let Some(members) = schema.get(key).and_then(Value::as_array) {
            for member in members {
                if let Some(name) = definition_ref(member) {
                    return Some(name);
                }
            }
        }
    }
    None
}

/// The scalar types a property schema of the pages has, `null` left out.
fn scalar_types(schema: &Value) -> Option<Vec<String>> {
    let types = match schema.get("type")? {
        Value::String(kind) => vec![kind.clone()],
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .filter(|kind| *kind != "null")
            .map(str::to_owned)
            .collect(),
        _ => return None,
    };
    if types.iter().any(|kind| kind == "array" || kind == "object") {
        None
    } else {
        Some(types)
    }
}

fn is_array(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(kind)) => kind == "array",
        Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "array"),
        _ => false,
    }
}

/// The name a component gets in the schemas.
fn concept_name(component: &str) -> String {
    SAME_CONCEPT
        .iter()
        .find(|(name, _)| *name == component)
        .map_or_else(
            || {
                component
                    .strip_suffix("Enum")
                    .unwrap_or(component)
                    .to_owned()
            },
            |(_, concept)| (*concept).to_owned(),
        )
}

/// Markdown links become their text, and white space is folded, as in the page derivation.
fn clean(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|i| open + i) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|i| close + i) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lets a property schema also be `null`.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut object) = schema else {
        return schema;
    };
    let has_ref = object.contains_key("$ref");
    match object.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = kind.clone();
            object.insert("type".into(), json!([kind, "null"]));
            Value::Object(object)
        }
        Some(Value::Array(kinds)) => {
            if !kinds.contains(&json!("null")) {
                kinds.push(json!("null"));
            }
            Value::Object(object)
        }
        _ if has_ref => {
            let description = object.remove("description");
            let mut wrapped = Map::new();
            wrapped.insert(
                "anyOf".into(),
                json!([Value::Object(object), { "type": "null" }]),
            );
            if let Some(description) = description {
                wrapped.insert("description".into(), description);
            }
            Value::Object(wrapped)
        }
        _ => {
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(members)) = object.get_mut(key) {
                    if !members.contains(&json!({ "type": "null" })) {
                        members.push(json!({ "type": "null" }));
                    }
                    return Value::Object(object);
                }
            }
            Value::Object(object)
        }
    }
}

impl<'a> Merger<'a> {
    fn component(&self, name: &str) -> Result<&'a Value, String> {
        let components: &'a Map<String, Value> = self.components;
        components
            .get(name)
            .ok_or_else(|| format!("{OPENAPI_DOCUMENT}: no component `{name}`"))
    }

    fn enum_values(&self, component: &str) -> Result<Vec<Value>, String> {
        Ok(self
            .component(component)?
            .get("enum")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{OPENAPI_DOCUMENT}: `{component}` is not an enum"))?
            .iter()
            .filter(|value| !value.is_null())
            .cloned()
            .collect())
    }

    /// The object schema at `loc`.
    fn object_mut(&mut self, loc: &Loc) -> Result<&mut Map<String, Value>, String> {
        let root = self
            .schemas
            .get_mut(&loc.schema)
            .ok_or_else(|| format!("there is no schema `{}`", loc.schema))?;
        let target = match &loc.definition {
            Some(definition) => root
                .get_mut("definitions")
                .and_then(|definitions| definitions.get_mut(definition)),
            None => Some(root),
        };
        target
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("{} is not an object schema", loc.describe()))
    }

    fn object(&mut self, loc: &Loc) -> Result<Map<String, Value>, String> {
        self.object_mut(loc).map(|object| object.clone())
    }

    /// Appends the values `values` has and the list lacks to the enum `definition` of `schema`,
    /// and to every other schema's definition of that name (the models have one type a name).
    fn union_enum(
        &mut self,
        schema: &str,
        definition: &str,
        values: &[Value],
    ) -> Result<(), String> {
        if self
            .schemas
            .get(schema)
            .and_then(|root| root.get("definitions")?.get(definition)?.get("enum"))
            .is_none()
        {
            return Err(format!(
                "`{schema}` has no value list `{definition}` to merge the document's into"
            ));
        }
        for root in self.schemas.values_mut() {
            let Some(Value::Array(list)) = root
                .get_mut("definitions")
                .and_then(|definitions| definitions.get_mut(definition))
                .and_then(|definition| definition.get_mut("enum"))
            else {
                continue;
            };
            for value in values {
                if !list.contains(value) {
                    list.push(value.clone());
                }
            }
        }
        Ok(())
    }

    /// Merges the object component `component` into the object at `loc`.
    fn merge_object(&mut self, loc: &Loc, component: &str) -> Result<(), String> {
        if !self.merged.insert((loc.clone(), component.to_owned())) {
            return Ok(());
        }
        let source = self.component(component)?;
        if let Some(branches) = source.get("oneOf").and_then(Value::as_array) {
            let mut seen = BTreeSet::new();
            let mut required: Option<Vec<Value>> = None;
            for branch in branches {
                let name = component_ref(branch).ok_or_else(|| {
                    format!("{OPENAPI_DOCUMENT}: a branch of `{component}` is not a reference")
                })?;
                // The same branch named twice is one branch.
                if seen.insert(name) {
                    self.merge_object(loc, name)?;
                    let branch_required = self.component(name)?.get("required");
                    let branch_required: Vec<Value> = branch_required
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    required = Some(match required {
                        None => branch_required,
                        Some(all) => all
                            .into_iter()
                            .filter(|key| branch_required.contains(key))
                            .collect(),
                    });
                }
            }
            // A key is required only where every branch requires it.
            let target = self.object(loc)?;
            let placeholder = target.get("x-same-as").and_then(Value::as_str);
            if placeholder.is_none()
                && !RETRIEVAL_SCHEMAS.contains(&loc.schema.as_str())
                && let Some(required) = required
            {
                self.object_mut(loc)?
                    .insert("required".into(), Value::Array(required));
            }
            return Ok(());
        }
        let properties = source
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{OPENAPI_DOCUMENT}: `{component}` is not an object"))?;
        let target = self.object(loc)?;
        if let Some(placeholder) = target.get("x-same-as").and_then(Value::as_str) {
            // The page's object is another schema's root: merge there.
            return self.merge_object(&Loc::root(placeholder), component);
        }
        let target_keys: Vec<String> = target
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for (key, property) in properties {
            let page_key = if target_keys.contains(key) {
                Some(key.clone())
            } else {
                let matches: Vec<&String> = target_keys
                    .iter()
                    .filter(|page_key| page_key.eq_ignore_ascii_case(key))
                    .collect();
                match matches.as_slice() {
                    [only] => Some((*only).clone()),
                    _ => None,
                }
            };
            match page_key {
                Some(page_key) => self.merge_property(loc, &page_key, key, property)?,
                None => {
                    let converted = self.convert_property(&loc.schema, key, property)?;
                    let object = self.object_mut(loc)?;
                    object
                        .entry("properties")
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                        .ok_or_else(|| format!("{} has no properties", loc.describe()))?
                        .insert(key.clone(), converted);
                }
            }
        }
        if !RETRIEVAL_SCHEMAS.contains(&loc.schema.as_str())
            && let Some(Value::Array(required)) = source.get("required")
        {
            // Several components merged into one object (the records of the AML services): a
            // key is required only where each of them requires it.
            let required: Vec<Value> = if self.required_set.insert(loc.clone()) {
                required.clone()
            } else {
                let earlier = self.object(loc)?.get("required").cloned();
                let earlier = earlier.as_ref().and_then(Value::as_array);
                required
                    .iter()
                    .filter(|key| earlier.is_some_and(|earlier| earlier.contains(key)))
                    .cloned()
                    .collect()
            };
            self.object_mut(loc)?
                .insert("required".into(), Value::Array(required));
        }
        Ok(())
    }

    /// Merges the document's `property` into the page's property `page_key` of the object at
    /// `loc`, renaming it to `key`.
    fn merge_property(
        &mut self,
        loc: &Loc,
        page_key: &str,
        key: &str,
        property: &Value,
    ) -> Result<(), String> {
        let place = format!("{}: `{key}`", loc.describe());
        let page = self.object(loc)?["properties"][page_key].clone();
        let merged = match shape(property) {
            Shape::Array(items) if is_array(&page) => {
                let page_items = page.get("items").cloned().unwrap_or(Value::Null);
                self.merge_value(loc, &page_items, items, &place)?;
                page
            }
            Shape::Array(items) => {
                // The page documents one object where the document sends a list of them.
                self.merge_value(loc, &page, items, &place)?;
                let mut inner = page.clone();
                let description = inner.as_object_mut().and_then(|o| o.remove("description"));
                let description = property
                    .get("description")
                    .and_then(Value::as_str)
                    .map(|text| json!(clean(text)))
                    .or(description);
                let mut list = json!({ "type": "array", "items": inner });
                if let Some(description) = description {
                    list["description"] = description;
                }
                list
            }
            Shape::Map if definition_ref(&page).is_some() => {
                // The page names the keys, the document does not: the document wins here, and
                // the errata say otherwise where the names are worth keeping.
                self.convert_property(&loc.schema, key, property)?
            }
            Shape::Scalar(kinds) => match scalar_types(&page) {
                Some(page_kinds) if page_kinds == kinds => page,
                Some(page_kinds) => {
                    let mut all = page_kinds;
                    for kind in kinds {
                        if !all.contains(&kind) {
                            all.push(kind);
                        }
                    }
                    let mut merged = page.clone();
                    merged["type"] = json!(all);
                    merged
                }
                None if definition_ref(&page).is_some() => page,
                None => return Err(format!("{place}: the sources type it differently")),
            },
            Shape::Component(_) if definition_ref(&page).is_none() => {
                // The page types the key loosely (a string) where the document names its
                // values or its object: the document wins, the page's explanation stays.
                let mut converted = self.convert_property(&loc.schema, key, property)?;
                if let Some(description) = page.get("description") {
                    converted["description"] = description.clone();
                }
                converted
            }
            _ => {
                self.merge_value(loc, &page, property, &place)?;
                page
            }
        };
        let object = self.object_mut(loc)?;
        let properties = object
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .expect("read above");
        properties.remove(page_key);
        properties.insert(key.to_owned(), merged);
        Ok(())
    }

    /// Merges a value schema of the document into the page's value schema `page`, in `loc`'s
    /// schema: the definitions they refer to, object into object and list into list.
    fn merge_value(
        &mut self,
        loc: &Loc,
        page: &Value,
        value: &Value,
        place: &str,
    ) -> Result<(), String> {
        let Shape::Component(component) = shape(value) else {
            return match (shape(value), scalar_types(page)) {
                (Shape::Scalar(kinds), Some(page_kinds)) if kinds == page_kinds => Ok(()),
                _ => Err(format!("{place}: the sources' schemas do not merge")),
            };
        };
        let definition = definition_ref(page).ok_or_else(|| {
            format!("{place}: the document refers to `{component}`, the page to no definition")
        })?;
        let target = Loc::definition(&loc.schema, &definition);
        let source = self.component(component)?;
        if source.get("enum").is_some() {
            let values = self.enum_values(component)?;
            self.union_enum(&loc.schema, &definition, &values)
        } else {
            self.merge_object(&target, component)
        }
    }

    /// A property of the document as a property of `schema`: every component it refers to is
    /// added to `schema`'s definitions, and it may be `null`.
    fn convert_property(
        &mut self,
        schema: &str,
        key: &str,
        property: &Value,
    ) -> Result<Value, String> {
        let mut converted = self.convert(schema, &pascal_case(key), property)?;
        if converted.get("description").is_none() {
            converted["description"] = json!(format!(
                "`{key}`: the OpenAPI document gives no explanation."
            ));
        }
        Ok(nullable(converted))
    }

    /// A value schema of the document in `schema`'s terms. `hint` names an inline value list.
    fn convert(&mut self, schema: &str, hint: &str, value: &Value) -> Result<Value, String> {
        if let Some(component) = component_ref(value) {
            let name = self.ensure_definition(schema, component)?;
            return Ok(json!({ "$ref": format!("#/definitions/{name}") }));
        }
        let Some(object) = value.as_object() else {
            return Ok(value.clone());
        };
        if let Some(Value::Array(members)) = object.get("allOf")
            && let [only] = members.as_slice()
        {
            let mut converted = self.convert(schema, hint, only)?;
            if let Some(description) = object.get("description").and_then(Value::as_str) {
                converted["description"] = json!(clean(description));
            }
            return Ok(converted);
        }
        if object.contains_key("enum") {
            let definition = self.enum_definition(value, None);
            self.insert_definition(schema, hint, definition)?;
            return Ok(json!({ "$ref": format!("#/definitions/{hint}") }));
        }
        let mut out = Map::new();
        for (key, child) in object {
            match key.as_str() {
                "nullable" | "readOnly" | "writeOnly" | "default" | "example" | "discriminator" => {
                }
                "description" => {
                    out.insert(
                        key.clone(),
                        json!(clean(child.as_str().unwrap_or_default())),
                    );
                }
                "items" => {
                    let hint = hint.strip_suffix('s').unwrap_or(hint);
                    out.insert(key.clone(), self.convert(schema, hint, child)?);
                }
                "additionalProperties" if child.is_object() => {
                    let hint = format!("{}Kind", hint.strip_suffix('s').unwrap_or(hint));
                    let converted = self.convert(schema, &hint, child)?;
                    out.insert(key.clone(), nullable_if(child, converted));
                }
                "properties" => {
                    let mut properties = Map::new();
                    for (name, property) in child.as_object().into_iter().flatten() {
                        properties
                            .insert(name.clone(), self.convert_property(schema, name, property)?);
                    }
                    out.insert(key.clone(), Value::Object(properties));
                }
                "oneOf" | "anyOf" => {
                    let mut members = Vec::new();
                    for member in child.as_array().into_iter().flatten() {
                        members.push(self.convert(schema, hint, member)?);
                    }
                    out.insert(key.clone(), Value::Array(members));
                }
                _ => {
                    out.insert(key.clone(), child.clone());
                }
            }
        }
        if out.get("type") == Some(&json!("object")) && out.contains_key("properties") {
            out.entry("additionalProperties").or_insert(json!(true));
        }
        Ok(Value::Object(out))
    }

    fn enum_definition(&self, value: &Value, description: Option<&str>) -> Value {
        let values: Vec<Value> = value
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|value| !value.is_null())
            .cloned()
            .collect();
        let mut definition = json!({ "type": "string", "enum": values });
        definition["description"] =
            match description.or(value.get("description").and_then(Value::as_str)) {
                Some(text) => json!(clean(text)),
                None => json!(
                    "A value list of the OpenAPI document, which explains its values no further."
                ),
            };
        definition
    }

    fn insert_definition(
        &mut self,
        schema: &str,
        name: &str,
        definition: Value,
    ) -> Result<(), String> {
        let root = self
            .schemas
            .get_mut(schema)
            .ok_or_else(|| format!("there is no schema `{schema}`"))?;
        let definitions = root
            .as_object_mut()
            .ok_or_else(|| format!("`{schema}` is not an object"))?
            .entry("definitions")
            .or_insert_with(|| json!({}));
        match definitions.get(name) {
            Some(existing) if *existing != definition => Err(format!(
                "`{schema}` already defines `{name}` otherwise than the document"
            )),
            _ => {
                definitions[name] = definition;
                Ok(())
            }
        }
    }

    /// The name of `component`'s definition in `schema`, added (or merged into the one the
    /// schema has) first.
    fn ensure_definition(&mut self, schema: &str, component: &str) -> Result<String, String> {
        let name = concept_name(component);
        let existing = self
            .schemas
            .get(schema)
            .and_then(|root| root.get("definitions")?.get(&name))
            .cloned();
        let source = self.component(component)?.clone();
        match existing {
            Some(_) if source.get("enum").is_some() => {
                let values = self.enum_values(component)?;
                self.union_enum(schema, &name, &values)?;
            }
            Some(_) => self.merge_object(&Loc::definition(schema, &name), component)?,
            None => {
                if let Some((_, owner)) = LIST_OWNERS
                    .iter()
                    .find(|(list, owner)| *list == name && *owner != schema)
                {
                    self.insert_definition(schema, &name, json!({ DEFINITION_OF: owner }))?;
                    return Ok(name);
                }
                if source.get("enum").is_some() {
                    let definition = self.enum_definition(&source, None);
                    self.insert_definition(schema, &name, definition)?;
                } else {
                    // Added before its properties are converted, so that a cycle ends.
                    self.insert_definition(schema, &name, json!({ "type": "object" }))?;
                    let definition = self.object_definition(schema, component, &source)?;
                    self.schemas.get_mut(schema).expect("inserted above")["definitions"][&name] =
                        definition;
                }
            }
        }
        Ok(name)
    }

    /// An object component (or a `oneOf` of them, as one object) as a definition of `schema`.
    fn object_definition(
        &mut self,
        schema: &str,
        component: &str,
        source: &Value,
    ) -> Result<Value, String> {
        let Some(branches) = source.get("oneOf").and_then(Value::as_array) else {
            let mut converted = self.convert(schema, component, source)?;
            converted["type"] = json!("object");
            if converted.get("description").is_none() {
                converted["description"] = json!(format!("The OpenAPI document's `{component}`."));
            }
            converted
                .as_object_mut()
                .expect("an object")
                .entry("additionalProperties")
                .or_insert(json!(true));
            return Ok(converted);
        };
        // One object with every branch's keys, each required only where every branch has it.
        let mut properties = Map::new();
        let mut required: Option<Vec<Value>> = None;
        let mut seen = BTreeSet::new();
        let discriminator = source
            .pointer("/discriminator/propertyName")
            .and_then(Value::as_str);
        for branch in branches {
            let name = component_ref(branch).ok_or_else(|| {
                format!("{OPENAPI_DOCUMENT}: a branch of `{component}` is not a reference")
            })?;
            if !seen.insert(name) {
                continue;
            }
            let branch_source = self.component(name)?.clone();
            let converted = self.convert(schema, name, &branch_source)?;
            for (key, property) in converted
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                match properties.get(key) {
                    Some(existing) if existing != property => {
                        return Err(format!(
                            "{OPENAPI_DOCUMENT}: the branches of `{component}` type `{key}` differently"
                        ));
                    }
                    _ => {
                        properties.insert(key.clone(), property.clone());
                    }
                }
            }
            let branch_required: Vec<Value> = branch_source
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            required = Some(match required {
                None => branch_required,
                Some(all) => all
                    .into_iter()
                    .filter(|key| branch_required.contains(key))
                    .collect(),
            });
        }
        let mut description = format!(
            "One of {}, as one object with the keys of each.",
            seen.iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(discriminator) = discriminator {
            description.push_str(&format!(" `{discriminator}` tells them apart."));
        }
        Ok(json!({
            "type": "object",
            "description": description,
            "properties": properties,
            "required": required.unwrap_or_default(),
            "additionalProperties": true,
        }))
    }

    /// A schema file of its own for the object component `component`, titled `title`.
    fn new_schema(
        &mut self,
        schema: &str,
        component: &str,
        title: &str,
        description: &str,
    ) -> Result<Value, String> {
        self.schemas.insert(
            schema.to_owned(),
            json!({ "$schema": DIALECT, "title": title, "definitions": {} }),
        );
        let source = self.component(component)?.clone();
        let mut root = self.object_definition(schema, component, &source)?;
        let definitions = self
            .schemas
            .remove(schema)
            .and_then(|mut placeholder| placeholder.get_mut("definitions").map(Value::take))
            .unwrap_or_else(|| json!({}));
        let object = root.as_object_mut().expect("an object");
        object.insert("$schema".into(), json!(DIALECT));
        object.insert("title".into(), json!(title));
        object.insert("description".into(), json!(description));
        if definitions.as_object().is_some_and(|d| !d.is_empty()) {
            object.insert("definitions".into(), definitions);
        }
        Ok(root)
    }
}

/// `additionalProperties` keeps the document's `nullable` on the values of a map.
fn nullable_if(source: &Value, converted: Value) -> Value {
    let enum_has_null = source
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(Value::is_null));
    if source.get("nullable") == Some(&Value::Bool(true)) || enum_has_null {
        nullable(converted)
    } else {
        converted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nullable_reference_becomes_any_of_it_and_null() {
        assert_eq!(
            nullable(json!({ "$ref": "#/definitions/X", "description": "D." })),
            json!({ "anyOf": [{ "$ref": "#/definitions/X" }, { "type": "null" }], "description": "D." })
        );
        assert_eq!(
            nullable(json!({ "type": "string" })),
            json!({ "type": ["string", "null"] })
        );
    }

    #[test]
    fn components_take_the_schemas_names_for_the_same_concept() {
        assert_eq!(concept_name("FaceStatusEnum"), "FaceMatchResult");
        assert_eq!(concept_name("RiskLevelEnum"), "RiskLevel");
        assert_eq!(
            concept_name("RiskAssessmentWebhook"),
            "RiskAssessmentWebhook"
        );
    }
}
