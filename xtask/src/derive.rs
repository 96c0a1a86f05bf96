//! Derivation of the JSON Schemas from the vendor's documentation tables.
//!
//! Each response is described by a table whose rows are `JSON key | Type | Constraints |
//! Explanation`. This module turns a row into a property schema: the type from the Type column,
//! `maxLength`/`minLength`/`pattern` and the shared `Date`/`DateTime` definitions from the
//! Constraints column, and from the Explanation column the description, the documented values
//! (an `enum` definition shared by every field with the same values, or named by
//! "the same as `field`") and nested objects ("Refer to ... table"). Anything it does not
//! recognise is an error with the page and line: a changed page must be looked at, not guessed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::markdown::{MarkdownError, Page, Row, Table, strip_code};

/// The schemas derived from the pages, by file stem (`status` for `schema/status.json`).
pub type Schemas = BTreeMap<String, Value>;

/// The JSON Schema dialect of the files. typify reads draft-07 (`definitions`).
const DIALECT: &str = "http://json-schema.org/draft-07/schema#";

/// The vendor pages the schemas come from.
pub const RETRIEVAL_PAGE: &str = "IdentificationDataRetrieval.md";
pub const CALLBACK_PAGE: &str = "ResultCallback.md";
pub const ERRORS_PAGE: &str = "StandardErrorMessages.md";
pub const VOCABULARY_PAGE: &str = "Vocabulary.md";
/// The fraud-check services' pages, which document the callback's AML and LID results.
pub const AML_PAGE: &str = "fraud-check-services/aml.md";
pub const LID_PAGE: &str = "fraud-check-services/lid.md";
/// The page of `POST /api/v2/generate-pdf`.
pub const PDF_PAGE: &str = "IdentificationPDF.md";
/// The page of `POST /api/v2/delete`.
pub const DELETION_PAGE: &str = "IdentificationDeletion.md";

/// Every page the schemas are derived from.
const PAGES: [&str; 8] = [
    RETRIEVAL_PAGE,
    CALLBACK_PAGE,
    ERRORS_PAGE,
    VOCABULARY_PAGE,
    AML_PAGE,
    LID_PAGE,
    PDF_PAGE,
    DELETION_PAGE,
];

/// The pages of the endpoints that are not lookups. Each documents its request body in a table
/// of its own; both are the lookups' `{"scanRef"}`, which [`request_schema`] checks, so that
/// one request schema serves every endpoint for as long as the pages say so.
const ACTION_PAGES: [&str; 2] = [PDF_PAGE, DELETION_PAGE];

/// The pages, read once, by name.
type Pages = BTreeMap<&'static str, Page>;

/// The key an object definition carries while it stands for the root of another schema, until
/// [`link_shared_definitions`] replaces it with a copy of that root.
const SAME_AS: &str = "x-same-as";
/// Beside [`SAME_AS`]: the keys the page documents for the object, each of which the other
/// schema must have.
const DOCUMENTED_KEYS: &str = "x-documented-keys";

/// Where each response's table is, and what its schema is called.
struct Response {
    /// The schema file's stem.
    schema: &'static str,
    page: &'static str,
    /// The heading the table sits under.
    heading: &'static str,
    /// The schema's title, which names the Rust type.
    title: &'static str,
    description: &'static str,
    /// How the nested tables this response's rows refer to are derived.
    links: Links,
}

/// Where the tables a row refers to come from, when not from the row's own link to a table on
/// the same page named after its heading.
#[derive(Clone, Copy)]
struct Links {
    /// Tables of the page named otherwise than after their heading, by anchor: two pages call
    /// different objects by the same heading ("Identification status").
    names: &'static [(&'static str, &'static str)],
    /// Tables of the page that document again the root object of another schema, by anchor:
    /// that schema's definition serves both, so one Rust type reads both payloads.
    shared: &'static [(&'static str, &'static str)],
    /// Other pages a row links to, each documenting the row's object.
    services: &'static [Service],
    /// Rows that name neither a table nor values: where their object's or items' keys are.
    rows: &'static [RowLink],
}

impl Links {
    const NONE: Links = Links {
        names: &[],
        shared: &[],
        services: &[],
        rows: &[],
    };
}

/// A fraud-check service's page: one result object, with its nested tables.
struct Service {
    page: &'static str,
    /// The heading of the result's table.
    heading: &'static str,
    /// The definition's name.
    title: &'static str,
    description: &'static str,
    links: Links,
}

/// A row whose object (or list of objects) is documented by tables the row does not link to.
struct RowLink {
    key: &'static str,
    /// The definition's name.
    name: &'static str,
    description: &'static str,
    /// The headings of the tables. Several tables make one definition with all their keys, each
    /// required only when every table has it: a list holds records of one kind or another.
    tables: &'static [&'static str],
}

/// The callback's `aml` object: the AML service page's result.
const AML_SERVICE: Service = Service {
    page: AML_PAGE,
    heading: "Overall response table",
    title: "AmlCheck",
    description: "The result of an anti-money-laundering (AML, PEP, sanctions, negative news) check.",
    links: Links {
        rows: &[
            RowLink {
                key: "status",
                name: "AmlCheckStatus",
                description: "The overall status of an AML check.",
                tables: &["Status table"],
            },
            RowLink {
                key: "data",
                name: "AmlRecord",
                description: "A record an AML service returned: a person on a list (name check) or a news article (negative news).",
                tables: &[
                    "Data table for AML name check service",
                    "Data table for AML negative news service",
                ],
            },
        ],
        ..Links::NONE
    },
};

/// The callback's `lid` object: the LID service page's result.
const LID_SERVICE: Service = Service {
    page: LID_PAGE,
    heading: "Overall response table",
    title: "LidCheck",
    description: "The result of a lost and invalid documents (LID) check.",
    links: Links {
        rows: &[
            RowLink {
                key: "status",
                name: "LidCheckStatus",
                description: "The overall status of a LID check.",
                tables: &["Status table"],
            },
            RowLink {
                key: "data",
                name: "LidRecord",
                description: "A record a LID service returned about an identity document.",
                tables: &["Data table"],
            },
        ],
        ..Links::NONE
    },
};

const RESPONSES: [Response; 5] = [
    Response {
        schema: "status",
        page: RETRIEVAL_PAGE,
        heading: "Identification status",
        title: "IdentificationStatus",
        description: "The response of `POST /api/v2/status`: the overall status of an identification.",
        links: Links::NONE,
    },
    Response {
        schema: "data",
        page: RETRIEVAL_PAGE,
        heading: "Identification data",
        title: "IdentificationData",
        description: "The response of `POST /api/v2/data`: the data parsed from the client's identity document.",
        links: Links::NONE,
    },
    Response {
        schema: "files",
        // The retrieval page has no table for /files; the callback page's file URL table is
        // the same object.
        page: CALLBACK_PAGE,
        heading: "File urls table",
        title: "FileUrls",
        description: "The response of `POST /api/v2/files`: URLs to download the photos and videos of an identification.",
        links: Links::NONE,
    },
    Response {
        schema: "full-status",
        page: RETRIEVAL_PAGE,
        heading: "Response structure",
        title: "FullStatus",
        description: "The response of `POST /api/v2/full-status`: the automatic and manual results of an identification with the client's data.",
        links: Links::NONE,
    },
    Response {
        schema: "callback",
        page: CALLBACK_PAGE,
        heading: "Callback structure",
        title: "ResultCallback",
        description: "The body of the result callback: iDenfy `POST`s it, signed, to the partner's endpoint when an identification has a result.",
        links: Links {
            // The retrieval page's `Identification status` is the /status response.
            names: &[("identification-status-table", "CallbackStatus")],
            // The callback page documents the /data object again (with other lengths and one
            // more key, which the errata reconcile) and is where the /files table comes from.
            shared: &[("data-table", "data"), ("file-urls-table", "files")],
            services: &[AML_SERVICE, LID_SERVICE],
            rows: &[],
        },
    },
];

/// Derives every schema from the pages in `docs`. A callback object that another schema's
/// root serves is left as a placeholder: [`link_shared_definitions`] fills it in once the errata
/// have been applied to that schema.
pub fn derive_schemas(docs: &Path) -> Result<Schemas, MarkdownError> {
    let pages: Pages = PAGES
        .iter()
        .map(|name| Ok((*name, Page::read(&docs.join(name))?)))
        .collect::<Result<_, MarkdownError>>()?;
    let meanings = value_meanings(&pages[VOCABULARY_PAGE])?;
    let mut enums = Map::new();

    let mut schemas = Schemas::new();
    for response in &RESPONSES {
        let mut deriver = Deriver::new(
            &pages[response.page],
            &pages,
            response.links,
            &meanings,
            &mut enums,
        );
        let table = deriver.table_under_heading(response.heading)?;
        let root = deriver.object(table)?;
        let schema = deriver.finish(response.title, response.description, root);
        schemas.insert(response.schema.into(), schema);
    }
    schemas.insert("error".into(), error_schema(&pages[ERRORS_PAGE])?);
    schemas.insert(
        "request".into(),
        request_schema(&pages[RETRIEVAL_PAGE], &pages, &meanings, &mut enums)?,
    );
    Ok(schemas)
}

/// Replaces each placeholder for another schema's root with a copy of that root, as the errata
/// left it, with the definitions it refers to. Every key the page documents for the object must
/// be one the other schema has: a key only one page documents is a decision for the errata.
pub fn link_shared_definitions(schemas: &mut Schemas) -> Result<(), String> {
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        let placeholders: Vec<(String, String, Vec<String>)> = schemas[&name]
            .get("definitions")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(definition, schema)| {
                let source = schema.get(SAME_AS)?.as_str()?.to_owned();
                let keys = schema
                    .get(DOCUMENTED_KEYS)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|key| key.as_str().map(str::to_owned))
                    .collect();
                Some((definition.clone(), source, keys))
            })
            .collect();
        for (definition, source, keys) in placeholders {
            let source_root = schemas.get(&source).ok_or_else(|| {
                format!("`{name}`: `{definition}` is the root of `{source}`, which does not exist")
            })?;
            let mut copy = source_root.clone();
            let object = copy
                .as_object_mut()
                .ok_or_else(|| format!("the schema `{source}` is not an object"))?;
            for key in ["$schema", "$comment", "title", "definitions"] {
                object.remove(key);
            }
            let properties = object.get("properties").and_then(Value::as_object);
            if let Some(key) = keys
                .iter()
                .find(|key| properties.is_none_or(|p| !p.contains_key(*key)))
            {
                return Err(format!(
                    "`{name}` documents the key `{key}` in `{definition}`, the object of the `{source}` schema, which lacks it: add it to `{source}` in the errata, with the evidence"
                ));
            }
            let mut wanted = Vec::new();
            collect_refs(&copy, &mut wanted);
            let target = schemas.get_mut(&name).expect("listed above");
            target["definitions"][&definition] = copy;
            // The definitions the copy refers to, and those they refer to.
            while let Some(reference) = wanted.pop() {
                let schema = schemas[&source]["definitions"]
                    .get(&reference)
                    .cloned()
                    .ok_or_else(|| {
                        format!("`{source}` refers to `{reference}`, which it does not define")
                    })?;
                let target = schemas.get_mut(&name).expect("listed above");
                match target["definitions"].get(&reference) {
                    Some(existing) if *existing == schema => continue,
                    Some(_) => {
                        return Err(format!(
                            "`{name}` defines `{reference}` otherwise than `{source}`, whose object it shares"
                        ));
                    }
                    None => {}
                }
                collect_refs(&schema, &mut wanted);
                target["definitions"][&reference] = schema;
            }
        }
    }
    Ok(())
}

/// The names of the definitions `schema` refers to.
fn collect_refs(schema: &Value, names: &mut Vec<String>) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object {
                match (key.as_str(), value.as_str()) {
                    ("$ref", Some(reference)) => {
                        if let Some(name) = reference.strip_prefix("#/definitions/") {
                            names.push(name.to_owned());
                        }
                    }
                    _ => collect_refs(value, names),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, names)),
        _ => {}
    }
}

/// The meaning of each value in the vocabulary page's value tables, used as the doc comment of
/// the enum variant.
fn value_meanings(page: &Page) -> Result<BTreeMap<String, String>, MarkdownError> {
    let mut meanings = BTreeMap::new();
    for table in &page.tables {
        let (Some(value), Some(meaning)) = (
            table.column("Value"),
            table.column("Explanation").or(table.column("Meaning")),
        ) else {
            return Err(page.error(
                table.line,
                "a vocabulary table needs Value and Explanation columns",
            ));
        };
        for row in &table.rows {
            meanings.insert(
                strip_code(&row.cells[value]),
                clean_text(&row.cells[meaning]),
            );
        }
    }
    Ok(meanings)
}

/// Builds the schema of one response from its page, collecting the definitions it uses.
struct Deriver<'a> {
    page: &'a Page,
    /// Every page, for the objects documented on another one.
    pages: &'a Pages,
    links: Links,
    meanings: &'a BTreeMap<String, String>,
    /// The value-list definitions of every schema derived so far, so that the same documented
    /// values get the same name in every file (`docType` in `/data` and `doc_document_type` in
    /// `/full-status` are both `DocType`).
    enums: &'a mut Map<String, Value>,
    definitions: Map<String, Value>,
    /// Which definition holds the values a field documents, for "the same as `field`".
    field_enums: BTreeMap<String, String>,
}

impl<'a> Deriver<'a> {
    fn new(
        page: &'a Page,
        pages: &'a Pages,
        links: Links,
        meanings: &'a BTreeMap<String, String>,
        enums: &'a mut Map<String, Value>,
    ) -> Self {
        Deriver {
            page,
            pages,
            links,
            meanings,
            enums,
            definitions: Map::new(),
            field_enums: BTreeMap::new(),
        }
    }

    fn table_under_heading(&self, heading: &str) -> Result<&'a Table, MarkdownError> {
        self.page.table_under_heading(heading).ok_or_else(|| {
            self.page
                .error(0, format!("no table under a heading `{heading}`"))
        })
    }

    fn finish(self, title: &str, description: &str, mut root: Value) -> Value {
        let object = root.as_object_mut().expect("object() returns an object");
        object.insert("$schema".into(), json!(DIALECT));
        object.insert("title".into(), json!(title));
        object.insert("description".into(), json!(description));
        if !self.definitions.is_empty() {
            object.insert("definitions".into(), Value::Object(self.definitions));
        }
        root
    }

    /// The object schema of a field table. Every documented key is required: the API sends
    /// each of them (the full-status example has every key, `null` where there is no value).
    /// Keys the docs do not list are allowed and kept.
    fn object(&mut self, table: &Table) -> Result<Value, MarkdownError> {
        let columns = FieldColumns::of(self.page, table)?;
        let mut properties = Map::new();
        let mut required = Vec::new();
        for row in &table.rows {
            let key = strip_code(&row.cells[columns.key]);
            if key.is_empty() {
                return Err(self.page.error(row.line, "a row without a JSON key"));
            }
            let schema = self.property(&columns, row, &key)?;
            if properties.insert(key.clone(), schema).is_some() {
                return Err(self.page.error(
                    row.line,
                    format!("the key `{key}` is documented twice in one table"),
                ));
            }
            required.push(json!(key));
        }
        Ok(json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": true,
        }))
    }

    fn property(
        &mut self,
        columns: &FieldColumns,
        row: &Row,
        key: &str,
    ) -> Result<Value, MarkdownError> {
        let fail = |message: String| self.page.error(row.line, message);
        let type_name = strip_code(&row.cells[columns.kind]);
        let explanation = Explanation::parse(&row.cells[columns.explanation]);
        let constraints =
            parse_constraints(columns.constraints.map(|c| row.cells[c].as_str())).map_err(&fail)?;

        let mut schema = match type_name.as_str() {
            "String" | "String (URL)" => {
                if let Some(values) = constraints.values.as_ref().or(explanation.values.as_ref()) {
                    let name = self.enum_definition(key, values);
                    json!({ "$ref": format!("#/definitions/{name}") })
                } else if let Some(field) = &explanation.same_as {
                    let Some(name) = self.field_enums.get(field).cloned() else {
                        return Err(fail(format!(
                            "`{key}` has the values of `{field}`, which no earlier row documents"
                        )));
                    };
                    self.field_enums.insert(key.to_owned(), name.clone());
                    json!({ "$ref": format!("#/definitions/{name}") })
                } else if let Some(format) = &constraints.format {
                    let name = self.format_definition(format).map_err(fail)?;
                    json!({ "$ref": format!("#/definitions/{name}") })
                } else {
                    let mut string = json!({ "type": "string" });
                    if type_name == "String (URL)" {
                        string["format"] = json!("uri");
                    }
                    string
                }
            }
            "Int" | "Integer" => json!({ "type": "integer" }),
            "Bool" => json!({ "type": "boolean" }),
            "List" => {
                let name = if let Some(values) = &explanation.values {
                    self.enum_definition(&singular(key), values)
                } else if let Some(link) = self.row_link(key) {
                    self.linked_definition(link)?
                } else {
                    return Err(fail(format!("the list `{key}` documents no item values")));
                };
                json!({ "type": "array", "items": { "$ref": format!("#/definitions/{name}") } })
            }
            "Object" => {
                let name = if let Some(anchor) = &explanation.table_anchor {
                    self.table_definition(anchor)
                        .map_err(|err| fail(err.message))?
                } else if let Some(page) = &explanation.page_link {
                    let Some(service) = self.links.services.iter().find(|s| s.page == page) else {
                        return Err(fail(format!(
                            "the object `{key}` refers to the page `{page}`, which no source lists"
                        )));
                    };
                    self.service_definition(service)?
                } else if let Some(link) = self.row_link(key) {
                    self.linked_definition(link)?
                } else {
                    return Err(fail(format!("the object `{key}` refers to no table")));
                };
                json!({ "$ref": format!("#/definitions/{name}") })
            }
            other => return Err(fail(format!("unknown type `{other}` for `{key}`"))),
        };

        let object = schema.as_object_mut().expect("schemas are objects");
        if let Some(max) = constraints.max_length {
            object.insert("maxLength".into(), json!(max));
        }
        if let Some(min) = constraints.min_length {
            object.insert("minLength".into(), json!(min));
        }
        if constraints.country || explanation.country {
            object.insert("pattern".into(), json!(COUNTRY_PATTERN));
        }
        let description = explanation.description;
        let wrapped = if object.contains_key("$ref") && object.len() > 1 {
            // A draft-07 `$ref` ignores its siblings: keep the constraints beside it in `allOf`.
            let reference = object.remove("$ref").expect("checked above");
            json!({ "allOf": [{ "$ref": reference }, Value::Object(object.clone())] })
        } else {
            schema
        };
        let mut wrapped = wrapped;
        match columns
            .nullable
            .map(|column| strip_code(&row.cells[column]))
            .as_deref()
        {
            None | Some("No") => {}
            Some("Yes") => {
                let kind = wrapped["type"].take();
                let Value::String(kind) = kind else {
                    return Err(fail(format!("`{key}` can be null but has no simple type")));
                };
                wrapped["type"] = json!([kind, "null"]);
            }
            Some(other) => return Err(fail(format!("`Can be null` is `{other}`, not Yes or No"))),
        }
        if !description.is_empty() {
            wrapped["description"] = json!(description);
        }
        Ok(wrapped)
    }

    /// The name of the definition holding `values`: an existing one with the same values, or a
    /// new one named after the field that first documents them.
    fn enum_definition(&mut self, key: &str, values: &[String]) -> String {
        let existing = self.enums.iter().find_map(|(name, definition)| {
            let documented: Option<Vec<&str>> = definition
                .get("enum")?
                .as_array()?
                .iter()
                .map(Value::as_str)
                .collect();
            (documented? == values.iter().map(String::as_str).collect::<Vec<_>>())
                .then(|| name.clone())
        });
        let name = existing.unwrap_or_else(|| {
            let mut name = pascal_case(key);
            while self.enums.contains_key(&name) {
                name.push('_');
            }
            let descriptions: Map<String, Value> = values
                .iter()
                .filter_map(|value| Some((value.clone(), json!(self.meanings.get(value)?))))
                .collect();
            let mut definition = json!({
                "type": "string",
                "description": format!("The values documented for `{key}`."),
                "enum": values,
            });
            if !descriptions.is_empty() {
                definition["x-enum-descriptions"] = Value::Object(descriptions);
            }
            self.enums.insert(name.clone(), definition);
            name
        });
        self.definitions
            .insert(name.clone(), self.enums[&name].clone());
        self.field_enums.insert(key.to_owned(), name.clone());
        name
    }

    fn format_definition(&mut self, format: &str) -> Result<String, String> {
        let (name, definition) = match format {
            "YYYY-MM-DD" => (
                "Date",
                json!({
                    "type": "string",
                    "format": "date",
                    "description": "A calendar date, documented as `YYYY-MM-DD`.",
                }),
            ),
            "YYYY-MM-DD MM:SS.ss" => (
                "DateTime",
                json!({
                    "type": "string",
                    "description": "A date and time, documented as `YYYY-MM-DD MM:SS.ss`.",
                }),
            ),
            other => return Err(format!("unknown format `{other}`")),
        };
        self.definitions.insert(name.into(), definition);
        Ok(name.into())
    }

    /// The definition of a nested object table, named after its heading
    /// ("Client data table" is `ClientData`) unless the sources name it, or a placeholder for
    /// another schema's root when the sources say the table documents that object again.
    fn table_definition(&mut self, anchor: &str) -> Result<String, MarkdownError> {
        let page = self.page;
        let Some(heading) = page.headings.iter().find(|h| h.anchor == anchor) else {
            return Err(page.error(0, format!("no heading for the link `#{anchor}`")));
        };
        let table = page.table_under_anchor(anchor).ok_or_else(|| {
            page.error(heading.line, format!("no table under `{}`", heading.text))
        })?;
        if let Some((_, schema)) = self.links.shared.iter().find(|(a, _)| *a == anchor) {
            let Some(response) = RESPONSES.iter().find(|r| r.schema == *schema) else {
                return Err(page.error(heading.line, format!("no schema `{schema}` to share")));
            };
            let columns = FieldColumns::of(page, table)?;
            let keys: Vec<String> = table
                .rows
                .iter()
                .map(|row| strip_code(&row.cells[columns.key]))
                .collect();
            self.definitions.insert(
                response.title.into(),
                json!({ SAME_AS: schema, DOCUMENTED_KEYS: keys }),
            );
            return Ok(response.title.into());
        }
        let name = match self.links.names.iter().find(|(a, _)| *a == anchor) {
            Some((_, name)) => (*name).to_owned(),
            None => pascal_case(
                heading
                    .text
                    .trim_end_matches(" table")
                    .trim_end_matches(" Table"),
            ),
        };
        if !self.definitions.contains_key(&name) {
            let mut object = self.object(table)?;
            object["description"] = json!(format!("The {}.", heading.text.to_lowercase()));
            self.definitions.insert(name.clone(), object);
        }
        Ok(name)
    }

    fn row_link(&self, key: &str) -> Option<&'static RowLink> {
        self.links.rows.iter().find(|link| link.key == key)
    }

    /// The definition of the object a row documents in tables it does not link to.
    fn linked_definition(&mut self, link: &RowLink) -> Result<String, MarkdownError> {
        let mut properties = Map::new();
        let mut required: Option<Vec<Value>> = None;
        for heading in link.tables {
            let table = self.table_under_heading(heading)?;
            let object = self.object(table)?;
            for (key, schema) in object["properties"].as_object().into_iter().flatten() {
                if properties.insert(key.clone(), schema.clone()).is_some() {
                    return Err(self.page.error(
                        table.line,
                        format!("`{key}` is documented by two tables of `{}`", link.name),
                    ));
                }
            }
            let keys = object["required"].as_array().cloned().unwrap_or_default();
            required = Some(match required {
                None => keys,
                Some(so_far) => so_far.into_iter().filter(|k| keys.contains(k)).collect(),
            });
        }
        self.insert_definition(
            link.name,
            json!({
                "type": "object",
                "description": link.description,
                "properties": properties,
                "required": required.unwrap_or_default(),
                "additionalProperties": true,
            }),
        )?;
        Ok(link.name.into())
    }

    /// The definition of a service's result, derived from its own page, with the definitions
    /// of its nested tables.
    fn service_definition(&mut self, service: &Service) -> Result<String, MarkdownError> {
        let page = self.pages.get(service.page).ok_or_else(|| {
            self.page
                .error(0, format!("the page `{}` was not read", service.page))
        })?;
        let mut deriver = Deriver::new(page, self.pages, service.links, self.meanings, self.enums);
        let table = deriver.table_under_heading(service.heading)?;
        let mut root = deriver.object(table)?;
        root["description"] = json!(service.description);
        let definitions = std::mem::take(&mut deriver.definitions);
        for (name, definition) in definitions {
            self.insert_definition(&name, definition)?;
        }
        self.insert_definition(service.title, root)?;
        Ok(service.title.into())
    }

    /// Adds a definition, refusing a different one of the same name.
    fn insert_definition(&mut self, name: &str, definition: Value) -> Result<(), MarkdownError> {
        match self.definitions.get(name) {
            Some(existing) if *existing != definition => Err(self
                .page
                .error(0, format!("two different objects are both named `{name}`"))),
            _ => {
                self.definitions.insert(name.to_owned(), definition);
                Ok(())
            }
        }
    }
}

/// The two-letter country code pattern for "Any country in alpha-2 code".
const COUNTRY_PATTERN: &str = "^[A-Z]{2}$";

/// Where the columns of a field table are.
struct FieldColumns {
    key: usize,
    kind: usize,
    constraints: Option<usize>,
    explanation: usize,
    /// The file URL table says per row whether the value can be `null`.
    nullable: Option<usize>,
}

impl FieldColumns {
    fn of(page: &Page, table: &Table) -> Result<Self, MarkdownError> {
        let find = |name: &str| {
            table.column(name).ok_or_else(|| {
                page.error(
                    table.line,
                    format!(
                        "the table has no `{name}` column (it has: {})",
                        table.header.join(", ")
                    ),
                )
            })
        };
        Ok(FieldColumns {
            key: find("JSON key")?,
            kind: find("Type")?,
            constraints: table.column("Constraints"),
            explanation: find("Explanation")?,
            nullable: table.column("Can be null"),
        })
    }
}

/// What the Constraints column says.
#[derive(Debug, Default, PartialEq)]
struct Constraints {
    max_length: Option<u64>,
    min_length: Option<u64>,
    format: Option<String>,
    country: bool,
    values: Option<Vec<String>>,
}

fn parse_constraints(cell: Option<&str>) -> Result<Constraints, String> {
    let mut constraints = Constraints::default();
    let Some(cell) = cell else {
        return Ok(constraints);
    };
    let mut items = cell.split("<br>").map(|item| {
        item.replace("&nbsp;", "")
            .trim()
            .trim_start_matches('-')
            .trim()
            .to_owned()
    });
    while let Some(item) = items.next() {
        let length = |rest: &str| {
            rest.trim()
                .parse::<u64>()
                .map_err(|_| format!("unreadable length in constraint `{item}`"))
        };
        if item.is_empty() {
        } else if let Some(rest) = item.strip_prefix("Max length") {
            constraints.max_length = Some(length(rest)?);
        } else if let Some(rest) = item.strip_prefix("Min length") {
            constraints.min_length = Some(length(rest)?);
        } else if let Some(rest) = item.strip_prefix("Format:") {
            constraints.format = Some(rest.trim().to_owned());
        } else if item == "Any country in alpha-2 code" {
            constraints.country = true;
        } else if item == "Values:" {
            let values: Vec<String> = items.by_ref().map(|value| strip_code(&value)).collect();
            if values.is_empty() || values.iter().any(String::is_empty) {
                return Err("a `Values:` constraint without values".into());
            }
            constraints.values = Some(values);
        } else {
            return Err(format!("unknown constraint `{item}`"));
        }
    }
    Ok(constraints)
}

/// What the Explanation column says.
#[derive(Debug, Default, PartialEq)]
struct Explanation {
    description: String,
    values: Option<Vec<String>>,
    same_as: Option<String>,
    table_anchor: Option<String>,
    /// Another of the vendor's pages the row refers to (`fraud-check-services/aml.md`).
    page_link: Option<String>,
    country: bool,
}

impl Explanation {
    fn parse(cell: &str) -> Explanation {
        let mut explanation = Explanation::default();
        let mut text = cell.to_owned();
        if let Some(start) = text.find("Possible values are the same as") {
            let rest = &text[start..];
            explanation.same_as = rest.split('`').nth(1).map(str::to_owned);
            text.truncate(start);
        } else if let Some(start) = text.find("Possible values:") {
            let values = text[start + "Possible values:".len()..]
                .split("<br>")
                .filter_map(|item| item.trim().strip_prefix("- "))
                .map(strip_code)
                .collect();
            explanation.values = Some(values);
            text.truncate(start);
        }
        if let Some(start) = text.find("[Refer to") {
            let rest = &text[start..];
            let target = rest
                .split("](")
                .nth(1)
                .and_then(|after| after.split(')').next())
                .unwrap_or_default();
            if let Some(anchor) = target.strip_prefix('#') {
                explanation.table_anchor = Some(anchor.to_owned());
            } else if target.ends_with(".md") {
                let page = target
                    .rsplit_once("/pages/")
                    .map_or(target, |(_, page)| page);
                explanation.page_link = Some(page.to_owned());
            }
            text.truncate(start);
        }
        explanation.country = text.contains("alpha-2 country code");
        explanation.description = clean_text(&text);
        explanation
    }
}

/// A cell's prose as a description: links become their text, `<br>` a space, white space folded.
fn clean_text(text: &str) -> String {
    let text = text.replace("<br>", " ").replace("&nbsp;", " ");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
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

/// `face_match_result` and `docType` are `FaceMatchResult` and `DocType`.
pub fn pascal_case(text: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in text.chars() {
        if c == '_' || c == ' ' || c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The name of one item of a list field (`suspection_reasons` holds `SuspectionReason`s).
fn singular(key: &str) -> String {
    key.strip_suffix('s').unwrap_or(key).to_owned()
}

/// The error body: the keys of the standard error table, with `identifier` holding the
/// documented constants.
fn error_schema(page: &Page) -> Result<Value, MarkdownError> {
    let body = page
        .tables
        .iter()
        .find(|table| table.column("JSON key").is_some())
        .ok_or_else(|| page.error(0, "no table of the error body's keys"))?;
    let constants = page
        .table_under_heading("Error identifier constants")
        .ok_or_else(|| page.error(0, "no table under `Error identifier constants`"))?;
    let (Some(key_column), Some(explanation_column)) =
        (body.column("JSON key"), body.column("Explanation"))
    else {
        return Err(page.error(
            body.line,
            "the error body table needs JSON key and Explanation columns",
        ));
    };
    let (Some(value_column), Some(meaning_column)) = (
        constants.column("Error identifier"),
        constants.column("Explanation"),
    ) else {
        return Err(page.error(
            constants.line,
            "the constants table needs Error identifier and Explanation columns",
        ));
    };
    let values: Vec<String> = constants
        .rows
        .iter()
        .map(|row| strip_code(&row.cells[value_column]))
        .collect();
    let meanings: Map<String, Value> = constants
        .rows
        .iter()
        .map(|row| {
            (
                strip_code(&row.cells[value_column]),
                json!(clean_text(&row.cells[meaning_column])),
            )
        })
        .collect();

    let mut properties = Map::new();
    let mut required = Vec::new();
    for row in &body.rows {
        let key = strip_code(&row.cells[key_column]);
        // The values are in the definition: drop the sentence that points at them.
        let description = clean_text(&row.cells[explanation_column])
            .replace(" For possible values see the table below.", "");
        let schema = if key == "identifier" {
            json!({ "$ref": "#/definitions/ErrorIdentifier", "description": description })
        } else {
            json!({ "type": "string", "description": description })
        };
        properties.insert(key.clone(), schema);
        required.push(json!(key));
    }
    Ok(json!({
        "$schema": DIALECT,
        "title": "ApiError",
        "description": "The body of an error response of the API.",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": true,
        "definitions": {
            "ErrorIdentifier": {
                "type": "string",
                "description": "A constant indicating a type of error.",
                "enum": values,
                "x-enum-descriptions": meanings,
            }
        }
    }))
}

/// The request body every retrieval endpoint takes: `{"scanRef": "..."}`, with the constraints
/// the `/data` table gives the key.
fn request_schema(
    page: &Page,
    pages: &Pages,
    meanings: &BTreeMap<String, String>,
    enums: &mut Map<String, Value>,
) -> Result<Value, MarkdownError> {
    let data = page
        .table_under_heading("Identification data")
        .ok_or_else(|| page.error(0, "no table under `Identification data`"))?;
    let columns = FieldColumns::of(page, data)?;
    let row = data
        .rows
        .iter()
        .find(|row| strip_code(&row.cells[columns.key]) == "scanRef")
        .ok_or_else(|| page.error(data.line, "the data table documents no `scanRef`"))?;
    let mut deriver = Deriver::new(page, pages, Links::NONE, meanings, enums);
    let mut scan_ref = deriver.property(&columns, row, "scanRef")?;
    scan_ref["minLength"] = json!(1);
    for name in ACTION_PAGES {
        check_scan_ref_request(&pages[name])?;
    }
    Ok(json!({
        "$schema": DIALECT,
        "title": "ScanRefRequest",
        "description": "The body of a request to a retrieval endpoint, to `/generate-pdf` or to `/delete`: the identification it is about.",
        "type": "object",
        "properties": { "scanRef": scan_ref },
        "required": ["scanRef"],
        "additionalProperties": false,
    }))
}

/// Checks that `page`'s request table (under `Sending request`) documents exactly one key,
/// `scanRef`, required, a string: the body of [`request_schema`].
fn check_scan_ref_request(page: &Page) -> Result<(), MarkdownError> {
    let table = page
        .table_under_heading("Sending request")
        .ok_or_else(|| page.error(0, "no table under `Sending request`"))?;
    let column = |name: &str| {
        table.column(name).ok_or_else(|| {
            page.error(
                table.line,
                format!(
                    "the request table has no `{name}` column (it has: {})",
                    table.header.join(", ")
                ),
            )
        })
    };
    let (key, required, kind) = (column("Key")?, column("Required")?, column("Type")?);
    match table.rows.as_slice() {
        [row]
            if strip_code(&row.cells[key]) == "scanRef"
                && row.cells[required].trim() == "Yes"
                && strip_code(&row.cells[kind]) == "String" =>
        {
            Ok(())
        }
        _ => Err(page.error(
            table.line,
            "the request table no longer documents exactly `scanRef` (required, String): this endpoint needs a request schema of its own",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_read_lengths_formats_countries_and_values() {
        let parsed = parse_constraints(Some("- Min length 1<br>- Max length 100")).unwrap();
        assert_eq!((parsed.min_length, parsed.max_length), (Some(1), Some(100)));
        let parsed = parse_constraints(Some("- Format: YYYY-MM-DD MM:SS.ss")).unwrap();
        assert_eq!(parsed.format.as_deref(), Some("YYYY-MM-DD MM:SS.ss"));
        let parsed = parse_constraints(Some("- Any country in alpha-2 code")).unwrap();
        assert!(parsed.country);
        let parsed =
            parse_constraints(Some("- Values:<br>&nbsp;&nbsp;-`M`<br>&nbsp;&nbsp;-`F`")).unwrap();
        assert_eq!(parsed.values.unwrap(), ["M", "F"]);
        assert_eq!(
            parse_constraints(Some("-")).unwrap(),
            Constraints::default()
        );
    }

    #[test]
    fn an_unknown_constraint_is_refused() {
        let err = parse_constraints(Some("- Exactly 3 words")).unwrap_err();
        assert_eq!(err, "unknown constraint `Exactly 3 words`");
    }

    #[test]
    fn explanations_split_prose_values_and_references() {
        let e = Explanation::parse(
            "A result. Possible values:<br>- A_B<br>- C<br>[For value explanations refer to status vocabulary](https://x/y.md#z).",
        );
        assert_eq!(e.description, "A result.");
        assert_eq!(e.values.unwrap(), ["A_B", "C"]);
        let e = Explanation::parse(
            "A manual result. Possible values are the same as  `face_match_result` field.",
        );
        assert_eq!(e.same_as.as_deref(), Some("face_match_result"));
        assert_eq!(e.description, "A manual result.");
        let e =
            Explanation::parse("Data of the client. [Refer to status table](#client-data-table).");
        assert_eq!(e.table_anchor.as_deref(), Some("client-data-table"));
        assert_eq!(e.description, "Data of the client.");
        let e = Explanation::parse(
            "AML data. [Refer to AML documentation](https://github.com/idenfy/Documentation/blob/master/pages/fraud-check-services/aml.md).",
        );
        assert_eq!(e.page_link.as_deref(), Some("fraud-check-services/aml.md"));
        assert_eq!(e.table_anchor, None);
        assert_eq!(e.description, "AML data.");
    }

    #[test]
    fn names_come_from_keys_and_headings() {
        assert_eq!(pascal_case("face_match_result"), "FaceMatchResult");
        assert_eq!(pascal_case("docType"), "DocType");
        assert_eq!(
            pascal_case("Client identity document"),
            "ClientIdentityDocument"
        );
        assert_eq!(singular("suspection_reasons"), "suspection_reason");
    }
}
