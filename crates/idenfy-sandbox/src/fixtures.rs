//! Fixtures: the identifications the sandbox knows, loaded from JSON.
//!
//! A fixture file is `{"fixtures": [ ... ]}`. Each fixture has a `scanRef`
//! and, per endpoint, either a response that must match the API's schema
//! (`status`, `data`, `fullStatus` as JSON objects; `files` as the list of
//! file slots the identification has) or, under `raw`, a response served
//! byte for byte and never checked against the schema. A fixture's result
//! callback is built from its answers, unless `callback` gives one (checked
//! against the callback's schema) or `raw.callback` one sent as it is.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Map, Value};

use crate::callback::CallbackSource;
use crate::endpoint::Endpoint;
use crate::fault::FaultSpec;
use crate::media::FileKind;
use crate::schema;

/// The built-in fixtures, in the same format `--fixtures` files use.
pub const BUILTIN_FIXTURES_JSON: &str = include_str!("../fixtures/builtin.json");

/// Longest scanRef a request may carry, so also the longest a fixture may have.
pub const MAX_SCAN_REF_LEN: usize = 40;
/// Largest video a fixture may ask for.
pub const MAX_VIDEO_BYTES: u64 = 64 * 1024 * 1024;
/// Video size when a fixture does not say.
pub const DEFAULT_VIDEO_BYTES: u64 = 64 * 1024;

const FIXTURE_KEYS: [&str; 12] = [
    "scanRef",
    "callback",
    "description",
    "status",
    "data",
    "files",
    "fullStatus",
    "videoBytes",
    "fault",
    "downloadFault",
    "raw",
    "deletion",
];

/// Why fixtures could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read fixture file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("fixture file is not valid JSON: {category} error at line {line}, column {column}")]
    NotJson {
        /// `syntax`, `eof`, ...
        category: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A fixture breaks a rule: the message names the fixture and the field.
    #[error("fixture {fixture}: field {field}: {reason}")]
    Invalid {
        /// The fixture's scanRef, or `#N` (its position) when it has none.
        fixture: String,
        /// Path to the field, e.g. `fullStatus/client/sex`.
        field: String,
        /// What is wrong; never the field's value, which may be personal data.
        reason: String,
    },
}

/// A response given as is, outside the schema.
#[derive(Clone)]
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Bytes,
}

/// What one endpoint answers for one fixture.
#[derive(Clone)]
pub(crate) enum Prepared {
    /// A schema-checked JSON body, serialised once at load time.
    Json(Bytes),
    /// The `/files` table, rendered per request because its URLs are signed
    /// with a fresh expiry.
    FileTable(Vec<FileKind>),
    /// A body served as given.
    Raw(RawResponse),
}

/// One identification.
#[derive(Clone)]
pub(crate) struct Fixture {
    pub responses: HashMap<Endpoint, Prepared>,
    pub files: Vec<FileKind>,
    pub video_bytes: u64,
    pub fault: Option<FaultSpec>,
    pub download_fault: Option<FaultSpec>,
    pub callback: CallbackSource,
    /// `"deletion": "refused"`: `/delete` answers `PARTNER_ERROR` "Token has not expired yet."
    pub refuses_deletion: bool,
}

/// A set of fixtures, keyed by scanRef.
#[derive(Clone, Default)]
pub struct Fixtures {
    by_scan_ref: BTreeMap<String, Fixture>,
}

impl std::fmt::Debug for Fixtures {
    // Only scanRefs: the bodies hold (fictional) personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixtures")
            .field("scan_refs", &self.by_scan_ref.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Fixtures {
    /// No fixtures at all.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in fixtures (see [`crate::scan_refs`]).
    pub fn builtin() -> Self {
        // The built-in file is checked by the test suite, so this cannot fail
        // in a released build; an empty set is the harmless fallback.
        Self::from_json_str(BUILTIN_FIXTURES_JSON).unwrap_or_default()
    }

    /// Parses and checks a fixture file's text.
    pub fn from_json_str(text: &str) -> Result<Self, FixtureError> {
        let document: Value = serde_json::from_str(text).map_err(|e| FixtureError::NotJson {
            category: match e.classify() {
                serde_json::error::Category::Io => "io",
                serde_json::error::Category::Syntax => "syntax",
                serde_json::error::Category::Data => "data",
                serde_json::error::Category::Eof => "end of file",
            },
            line: e.line(),
            column: e.column(),
        })?;
        let file_error = |reason: &str| FixtureError::Invalid {
            fixture: "(file)".into(),
            field: "fixtures".into(),
            reason: reason.into(),
        };
        let list = document
            .as_object()
            .ok_or_else(|| file_error("the file must be an object {\"fixtures\": [...]}"))?
            .get("fixtures")
            .and_then(Value::as_array)
            .ok_or_else(|| file_error("must be an array of fixtures"))?;
        let mut fixtures = Fixtures::default();
        for (index, entry) in list.iter().enumerate() {
            let (scan_ref, fixture) = parse_fixture(index, entry)?;
            if fixtures.by_scan_ref.contains_key(&scan_ref) {
                return Err(FixtureError::Invalid {
                    fixture: scan_ref,
                    field: "scanRef".into(),
                    reason: "another fixture in the file has the same scanRef".into(),
                });
            }
            fixtures.by_scan_ref.insert(scan_ref, fixture);
        }
        Ok(fixtures)
    }

    /// Reads and checks a fixture file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, FixtureError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json_str(&text)
    }

    /// Adds `other`'s fixtures; on equal scanRefs, `other`'s win.
    pub fn merge(&mut self, other: Fixtures) {
        self.by_scan_ref.extend(other.by_scan_ref);
    }

    /// The scanRefs, sorted.
    pub fn scan_refs(&self) -> impl Iterator<Item = &str> {
        self.by_scan_ref.keys().map(String::as_str)
    }

    /// Whether a fixture has this scanRef.
    pub fn contains(&self, scan_ref: &str) -> bool {
        self.by_scan_ref.contains_key(scan_ref)
    }

    /// How many fixtures there are.
    pub fn len(&self) -> usize {
        self.by_scan_ref.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_scan_ref.is_empty()
    }

    /// Whether `endpoint` of this fixture answers from the schema (and so
    /// must validate), rather than raw or not at all.
    pub fn is_schema_response(&self, scan_ref: &str, endpoint: Endpoint) -> bool {
        matches!(
            self.get(scan_ref).and_then(|f| f.responses.get(&endpoint)),
            Some(Prepared::Json(_) | Prepared::FileTable(_))
        )
    }

    pub(crate) fn get(&self, scan_ref: &str) -> Option<&Fixture> {
        self.by_scan_ref.get(scan_ref)
    }
}

fn invalid(fixture: &str, field: impl Into<String>, reason: impl Into<String>) -> FixtureError {
    FixtureError::Invalid {
        fixture: fixture.to_owned(),
        field: field.into(),
        reason: reason.into(),
    }
}

fn parse_fixture(index: usize, entry: &Value) -> Result<(String, Fixture), FixtureError> {
    let position = format!("#{index}");
    let Some(object) = entry.as_object() else {
        return Err(invalid(&position, "(fixture)", "must be a JSON object"));
    };
    let scan_ref = match object.get("scanRef") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_SCAN_REF_LEN => {
            s.clone()
        }
        Some(Value::String(_)) => {
            return Err(invalid(
                &position,
                "scanRef",
                format!("must be 1 to {MAX_SCAN_REF_LEN} characters"),
            ));
        }
        Some(_) => return Err(invalid(&position, "scanRef", "must be a string")),
        None => return Err(invalid(&position, "scanRef", "is required")),
    };
    let name = scan_ref.as_str();
    if let Some(key) = object.keys().find(|k| !FIXTURE_KEYS.contains(&k.as_str())) {
        return Err(invalid(
            name,
            key.clone(),
            format!("unknown key; expected one of {FIXTURE_KEYS:?}"),
        ));
    }
    if let Some(description) = object.get("description")
        && !description.is_string()
    {
        return Err(invalid(name, "description", "must be a string"));
    }

    let mut responses = HashMap::new();
    let mut files = Vec::new();
    for endpoint in [Endpoint::Status, Endpoint::Data, Endpoint::FullStatus] {
        let key = endpoint.fixture_key();
        let Some(body) = object.get(key) else {
            continue;
        };
        schema::validate(endpoint, body)
            .map_err(|v| invalid(name, format!("{key}{}", v.pointer), v.reason))?;
        if let Some(inner) = body.get("scanRef").and_then(Value::as_str)
            && inner != scan_ref
        {
            return Err(invalid(
                name,
                format!("{key}/scanRef"),
                "differs from the fixture's scanRef",
            ));
        }
        let bytes = serde_json::to_vec(body).map_err(|e| invalid(name, key, e.to_string()))?;
        responses.insert(endpoint, Prepared::Json(Bytes::from(bytes)));
    }
    if let Some(list) = object.get("files") {
        files = parse_file_list(name, list)?;
        let table = crate::downloads::file_table(&files, |kind| {
            format!(
                "http://127.0.0.1:8080/files/{}/{}?expires=0&signature=00",
                crate::downloads::encode_segment(name),
                kind.file_name()
            )
        });
        schema::validate(Endpoint::Files, &table)
            .map_err(|v| invalid(name, format!("files (as served){}", v.pointer), v.reason))?;
        responses.insert(Endpoint::Files, Prepared::FileTable(files.clone()));
    }
    let mut callback = CallbackSource::Derived;
    if let Some(body) = object.get("callback") {
        schema::validate_callback(body)
            .map_err(|v| invalid(name, format!("callback{}", v.pointer), v.reason))?;
        if body.get("scanRef").and_then(Value::as_str) != Some(name) {
            return Err(invalid(
                name,
                "callback/scanRef",
                "must be the fixture's scanRef",
            ));
        }
        let bytes =
            serde_json::to_vec(body).map_err(|e| invalid(name, "callback", e.to_string()))?;
        callback = CallbackSource::Json(Bytes::from(bytes));
    }
    if let Some(raw) = object.get("raw") {
        let Some(raw) = raw.as_object() else {
            return Err(invalid(name, "raw", "must be an object keyed by endpoint"));
        };
        for (key, value) in raw {
            let field = format!("raw/{key}");
            if key == "callback" {
                if !matches!(callback, CallbackSource::Derived) {
                    return Err(invalid(
                        name,
                        &field,
                        "callback is given both as a schema callback and as raw",
                    ));
                }
                if value.get("status").is_some() {
                    return Err(invalid(
                        name,
                        format!("{field}/status"),
                        "a callback is a request: it has no status",
                    ));
                }
                let raw = parse_raw(name, &field, value)?;
                callback = CallbackSource::Raw {
                    content_type: raw.content_type,
                    body: raw.body,
                };
                continue;
            }
            let endpoint = Endpoint::ALL
                .into_iter()
                .find(|e| e.fixture_key() == key)
                .ok_or_else(|| {
                    invalid(
                        name,
                        &field,
                        "unknown endpoint; expected status, data, files, fullStatus or callback",
                    )
                })?;
            if responses.contains_key(&endpoint) {
                return Err(invalid(
                    name,
                    &field,
                    format!("{key} is given both as a schema response and as raw"),
                ));
            }
            responses.insert(endpoint, Prepared::Raw(parse_raw(name, &field, value)?));
        }
    }
    let video_bytes = match object.get("videoBytes") {
        None => DEFAULT_VIDEO_BYTES,
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= MAX_VIDEO_BYTES)
            .ok_or_else(|| {
                invalid(
                    name,
                    "videoBytes",
                    format!("must be a whole number up to {MAX_VIDEO_BYTES}"),
                )
            })?,
    };
    let refuses_deletion = match object.get("deletion") {
        None => false,
        Some(Value::String(value)) if value == "refused" => true,
        Some(Value::String(value)) if value == "allowed" => false,
        Some(_) => {
            return Err(invalid(
                name,
                "deletion",
                "must be \"allowed\" (the default) or \"refused\"",
            ));
        }
    };
    let fault = parse_fault(name, object, "fault")?;
    let download_fault = parse_fault(name, object, "downloadFault")?;
    Ok((
        scan_ref.clone(),
        Fixture {
            responses,
            files,
            video_bytes,
            fault,
            download_fault,
            callback,
            refuses_deletion,
        },
    ))
}

fn parse_file_list(name: &str, list: &Value) -> Result<Vec<FileKind>, FixtureError> {
    let items = list.as_array().ok_or_else(|| {
        invalid(
            name,
            "files",
            "must be an array of file slots such as \"FRONT\" or \"FACE_VIDEO\"",
        )
    })?;
    let mut seen = HashSet::new();
    let mut files = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let kind = item.as_str().and_then(FileKind::from_key).ok_or_else(|| {
            invalid(
                name,
                format!("files/{i}"),
                "must be one of FRONT, BACK, FACE, FRONT_VIDEO, BACK_VIDEO, FACE_VIDEO",
            )
        })?;
        if !seen.insert(kind) {
            return Err(invalid(name, format!("files/{i}"), "listed twice"));
        }
        files.push(kind);
    }
    files.sort();
    Ok(files)
}

fn parse_raw(name: &str, field: &str, value: &Value) -> Result<RawResponse, FixtureError> {
    const RAW_KEYS: [&str; 5] = ["status", "contentType", "json", "text", "base64"];
    let object = value
        .as_object()
        .ok_or_else(|| invalid(name, field, "must be an object"))?;
    if let Some(key) = object.keys().find(|k| !RAW_KEYS.contains(&k.as_str())) {
        return Err(invalid(
            name,
            format!("{field}/{key}"),
            format!("unknown key; expected one of {RAW_KEYS:?}"),
        ));
    }
    let status = match object.get("status") {
        None => StatusCode::OK,
        Some(v) => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| (200..=599).contains(n))
            .and_then(|n| StatusCode::from_u16(n).ok())
            .ok_or_else(|| {
                invalid(
                    name,
                    format!("{field}/status"),
                    "must be an HTTP status 200-599",
                )
            })?,
    };
    let bodies: Vec<&str> = ["json", "text", "base64"]
        .into_iter()
        .filter(|k| object.contains_key(*k))
        .collect();
    let (body, default_type) = match bodies.as_slice() {
        ["json"] => (
            serde_json::to_vec(&object["json"])
                .map_err(|e| invalid(name, format!("{field}/json"), e.to_string()))?,
            "application/json",
        ),
        ["text"] => (
            object["text"]
                .as_str()
                .ok_or_else(|| invalid(name, format!("{field}/text"), "must be a string"))?
                .as_bytes()
                .to_vec(),
            "text/plain; charset=utf-8",
        ),
        ["base64"] => (
            object["base64"]
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| {
                    invalid(name, format!("{field}/base64"), "must be a base64 string")
                })?,
            "application/octet-stream",
        ),
        _ => {
            return Err(invalid(
                name,
                field,
                "needs exactly one body: json, text or base64",
            ));
        }
    };
    let content_type = match object.get("contentType") {
        None => default_type.to_owned(),
        Some(Value::String(s)) if http::HeaderValue::from_str(s).is_ok() => s.clone(),
        Some(_) => {
            return Err(invalid(
                name,
                format!("{field}/contentType"),
                "must be a valid header value string",
            ));
        }
    };
    Ok(RawResponse {
        status,
        content_type,
        body: Bytes::from(body),
    })
}

fn parse_fault(
    name: &str,
    object: &Map<String, Value>,
    key: &str,
) -> Result<Option<FaultSpec>, FixtureError> {
    match object.get(key) {
        None => Ok(None),
        Some(Value::String(spec)) => FaultSpec::parse(spec)
            .map(Some)
            .map_err(|e| invalid(name, key, e.to_string())),
        Some(_) => Err(invalid(name, key, "must be a fault spec string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_fixtures_load() {
        let fixtures = Fixtures::from_json_str(BUILTIN_FIXTURES_JSON).unwrap();
        for scan_ref in crate::scan_refs::SCHEMA_FIXTURES {
            for endpoint in Endpoint::ALL {
                assert!(
                    fixtures.is_schema_response(scan_ref, endpoint),
                    "{scan_ref} {endpoint:?}"
                );
            }
        }
        assert!(fixtures.contains(crate::scan_refs::UNDOCUMENTED));
        assert!(!fixtures.is_schema_response(crate::scan_refs::UNDOCUMENTED, Endpoint::Status));
    }
}
