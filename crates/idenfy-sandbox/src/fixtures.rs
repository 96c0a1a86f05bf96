//! Fixtures: the identifications the sandbox knows, loaded from JSON.
//!
//! A fixture file is `{"fixtures": [ ... ]}`. Each fixture has a `scanRef`
//! and, per endpoint, either a response that must match its model in idenfy-models
//! (`status`, `data`, `fullStatus` as JSON objects; `files` as the list of
//! file slots the identification has) or, under `raw`, a response served
//! byte for byte and never checked. A fixture's result callback is built from
//! its answers, unless `callback` gives one (checked against the callback's
//! model) or `raw.callback` one sent as it is.
//!
//! The shape of a file is read into `#[serde(deny_unknown_fields)]` types through
//! serde_path_to_error, so that a mistake names the fixture (its scanRef, or its position) and
//! the path to the field; the answers are read into the models generated from the API's
//! schema and held to them exactly ([`crate::strict`]), which is what keeps fixtures true to
//! the docs. No message quotes a value: it may be personal data.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use idenfy_core::{Endpoint, MAX_SCAN_REF_LEN};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

use crate::downloads::FileKind;
use crate::fault::FaultSpec;
use crate::strict::{self, Strict};
use idenfy_core::models::{FullStatus, IdentificationData, IdentificationStatus, ResultCallback};

/// The built-in fixtures, in the same format `--fixtures` files use.
pub const BUILTIN_FIXTURES_JSON: &str = include_str!("../fixtures/builtin.json");

/// Largest video a fixture may ask for.
pub const MAX_VIDEO_BYTES: u64 = 64 * 1024 * 1024;
/// Video size when a fixture does not say.
pub const DEFAULT_VIDEO_BYTES: u64 = 64 * 1024;

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

/// A response given as is, outside the models.
#[derive(Clone)]
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub content_type: HeaderValue,
    pub body: Bytes,
}

/// What one endpoint answers for one fixture.
#[derive(Clone)]
pub(crate) enum Prepared {
    /// A JSON body checked against its model, serialised once at load time.
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
    /// The result callback the fixture gives, sent as it is; `None`: built from its answers.
    pub callback: Option<RawResponse>,
    /// `"deletion": "refused"`: `/delete` answers `PARTNER_ERROR` "Token has not expired yet."
    pub refuses_deletion: bool,
}

impl Fixture {
    /// The answer for `endpoint` checked against its model, as a JSON object.
    pub(crate) fn answer(&self, endpoint: Endpoint) -> Option<Map<String, Value>> {
        match self.responses.get(&endpoint)? {
            Prepared::Json(body) => serde_json::from_slice(body).ok(),
            _ => None,
        }
    }
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
        let mut fixtures = Fixtures::default();
        for (scan_ref, fixture) in parse_file(&document)? {
            if fixtures.by_scan_ref.contains_key(&scan_ref) {
                let reason = "another fixture in the file has the same scanRef";
                return Err(invalid(&scan_ref, "scanRef", reason));
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

    /// Whether `endpoint` of this fixture answers what its model describes (checked when the
    /// fixture was loaded), rather than raw or not at all.
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

/// A fixture file, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {\"fixtures\": [...]}")]
struct FixtureFile {
    /// Read one by one, so that an error can name the fixture by its scanRef.
    fixtures: Vec<Value>,
}

/// One fixture, as written. The answers stay JSON: their models, not these types, say what an
/// answer may hold.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "a fixture object"
)]
struct FixtureSpec {
    #[serde(deserialize_with = "scan_ref")]
    scan_ref: String,
    /// For the reader of the file; read only to check that it is text.
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    status: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    full_status: Option<Value>,
    #[serde(default)]
    files: Option<Vec<FileKind>>,
    #[serde(default, deserialize_with = "present")]
    callback: Option<Value>,
    #[serde(default, deserialize_with = "video_bytes")]
    video_bytes: Option<u64>,
    #[serde(default, deserialize_with = "fault")]
    fault: Option<FaultSpec>,
    #[serde(default, deserialize_with = "fault")]
    download_fault: Option<FaultSpec>,
    #[serde(default)]
    raw: RawSpecs,
    #[serde(default)]
    deletion: Deletion,
}

/// Whether `/delete` deletes the fixture (the default) or refuses, as the API does while an
/// identification's token has not expired.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(
    rename_all = "lowercase",
    expecting = "\"allowed\" (the default) or \"refused\""
)]
enum Deletion {
    #[default]
    Allowed,
    Refused,
}

/// The answers (and the callback) given as they are, by endpoint.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSpecs {
    status: Option<RawSpec>,
    data: Option<RawSpec>,
    files: Option<RawSpec>,
    full_status: Option<RawSpec>,
    callback: Option<RawSpec>,
}

/// A response (or callback) given as is.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "an object with one body: json, text or base64"
)]
struct RawSpec {
    #[serde(default, deserialize_with = "http_status")]
    status: Option<StatusCode>,
    #[serde(default, deserialize_with = "header_value")]
    content_type: Option<HeaderValue>,
    #[serde(default, deserialize_with = "present")]
    json: Option<Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default, deserialize_with = "base64")]
    base64: Option<Vec<u8>>,
}

/// Keeps a key given as `null` apart from an absent one: `{"json": null}` is a body.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// Reads a `T` and keeps what `check` makes of it; a refusal is the reason given, which quotes
/// nothing.
fn checked<'de, D, T, U>(
    deserializer: D,
    check: impl FnOnce(T) -> Option<U>,
    reason: &str,
) -> Result<U, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    check(T::deserialize(deserializer)?).ok_or_else(|| serde::de::Error::custom(reason))
}

fn is_scan_ref(scan_ref: &str) -> bool {
    !scan_ref.is_empty() && scan_ref.chars().count() <= MAX_SCAN_REF_LEN
}

fn scan_ref<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let reason = format!("must be 1 to {MAX_SCAN_REF_LEN} characters");
    checked(
        deserializer,
        |s: String| is_scan_ref(&s).then_some(s),
        &reason,
    )
}

fn video_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let reason = format!("must be a whole number up to {MAX_VIDEO_BYTES}");
    checked(
        deserializer,
        |n: u64| (n <= MAX_VIDEO_BYTES).then_some(Some(n)),
        &reason,
    )
}

fn fault<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<FaultSpec>, D::Error> {
    let spec = String::deserialize(deserializer)?;
    FaultSpec::parse(&spec)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn http_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<StatusCode>, D::Error> {
    let check = |n: u64| {
        let n = u16::try_from(n).ok().filter(|n| (200..=599).contains(n))?;
        StatusCode::from_u16(n).ok()
    };
    checked(
        deserializer,
        |n| check(n).map(Some),
        "must be an HTTP status 200-599",
    )
}

fn header_value<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<HeaderValue>, D::Error> {
    let check = |text: String| HeaderValue::from_str(&text).ok().map(Some);
    checked(deserializer, check, "must be a valid header value string")
}

fn base64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
    let check = |text: String| STANDARD.decode(text).ok().map(Some);
    checked(deserializer, check, "must be a base64 string")
}

/// Reads `value` as a `T`, or says where and why not: the path from serde_path_to_error, the
/// reason from serde's message without the value it quotes (which may be personal data).
fn read<T: serde::de::DeserializeOwned>(
    fixture: &str,
    prefix: &str,
    value: &Value,
) -> Result<T, FixtureError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let mut field: Vec<String> = prefix
            .split('/')
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect();
        for segment in err.path() {
            match segment {
                Segment::Seq { index } => field.push(index.to_string()),
                Segment::Map { key } => field.push(key.clone()),
                Segment::Enum { variant } => field.push(variant.clone()),
                Segment::Unknown => field.push("?".to_owned()),
            }
        }
        let (key, reason) = reason_without_value(&err.inner().to_string());
        field.extend(key);
        let field = if field.is_empty() {
            "(fixture)".to_owned()
        } else {
            field.join("/")
        };
        invalid(fixture, field, reason)
    })
}

/// serde's message for a mistake, keeping what was expected and dropping what was found; and the
/// key it names, for a key that is missing or given twice (the path ends before it; it ends at
/// an unknown key).
fn reason_without_value(message: &str) -> (Option<String>, String) {
    let quoted = |rest: &str| rest.split_once('`').map(|(key, _)| key.to_owned());
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let expected = rest.split_once("`, ").map_or("", |(_, expected)| expected);
        return (None, format!("unknown key; {expected}"));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        return (quoted(rest), "is required".to_owned());
    }
    if let Some(rest) = message.strip_prefix("duplicate field `") {
        return (quoted(rest), "is given twice".to_owned());
    }
    let quotes_a_value = ["invalid type: ", "invalid value: ", "unknown variant "]
        .iter()
        .any(|prefix| message.starts_with(prefix));
    if quotes_a_value {
        // The expectation is the program's text; what precedes it quotes the input.
        let expected = match message.rsplit_once(", expected ").map_or("", |(_, e)| e) {
            "u64" => "a whole number",
            expected => expected,
        };
        return (None, format!("must be {expected}"));
    }
    // The conversions above write their own messages, which quote nothing.
    (None, message.to_owned())
}

/// Checks a fixture file's fixtures and prepares their answers.
fn parse_file(document: &Value) -> Result<Vec<(String, Fixture)>, FixtureError> {
    let file: FixtureFile = read("(file)", "", document).map_err(|err| match err {
        FixtureError::Invalid { field, reason, .. } if field == "(fixture)" => {
            invalid("(file)", "fixtures", reason)
        }
        other => other,
    })?;
    file.fixtures
        .iter()
        .enumerate()
        .map(|(index, entry)| parse_fixture(index, entry))
        .collect()
}

fn parse_fixture(index: usize, entry: &Value) -> Result<(String, Fixture), FixtureError> {
    // The name errors go by: the scanRef when it is a valid one, else the position.
    let name = entry
        .get("scanRef")
        .and_then(Value::as_str)
        .filter(|s| is_scan_ref(s))
        .map_or_else(|| format!("#{index}"), str::to_owned);
    let spec: FixtureSpec = read(&name, "", entry)?;
    let name = spec.scan_ref.as_str();
    let raw = spec.raw;
    let both = |key: &str, what: &str| {
        let reason = format!("{key} is given both as a schema {what} and as raw");
        Err(invalid(name, format!("raw/{key}"), reason))
    };

    let mut responses = HashMap::new();
    let answers = [
        (Endpoint::Status, "status", spec.status, raw.status),
        (Endpoint::Data, "data", spec.data, raw.data),
        (
            Endpoint::FullStatus,
            "fullStatus",
            spec.full_status,
            raw.full_status,
        ),
    ];
    for (endpoint, key, body, raw) in answers {
        let prepared = match (body, raw) {
            (None, None) => continue,
            (Some(_), Some(_)) => return both(key, "response"),
            (None, Some(raw)) => Prepared::Raw(raw_response(name, &format!("raw/{key}"), raw)?),
            (Some(body), None) => {
                match endpoint {
                    Endpoint::Status => exact::<IdentificationStatus>(name, key, &body)?,
                    Endpoint::Data => exact::<IdentificationData>(name, key, &body)?,
                    _ => exact::<FullStatus>(name, key, &body)?,
                }
                if body.get("scanRef").is_some_and(|inner| inner != name) {
                    let field = format!("{key}/scanRef");
                    return Err(invalid(name, field, "differs from the fixture's scanRef"));
                }
                Prepared::Json(Bytes::from(body.to_string()))
            }
        };
        responses.insert(endpoint, prepared);
    }
    let files = match (spec.files, raw.files) {
        (Some(_), Some(_)) => return both("files", "response"),
        (None, Some(raw)) => {
            let raw = raw_response(name, "raw/files", raw)?;
            responses.insert(Endpoint::Files, Prepared::Raw(raw));
            Vec::new()
        }
        (None, None) => Vec::new(),
        (Some(listed), None) => {
            let files = check_file_list(name, listed)?;
            responses.insert(Endpoint::Files, Prepared::FileTable(files.clone()));
            files
        }
    };
    let callback = match (spec.callback, raw.callback) {
        (Some(_), Some(_)) => return both("callback", "callback"),
        (None, None) => None,
        (None, Some(raw)) if raw.status.is_some() => {
            let reason = "a callback is a request: it has no status";
            return Err(invalid(name, "raw/callback/status", reason));
        }
        (None, Some(raw)) => Some(raw_response(name, "raw/callback", raw)?),
        (Some(body), None) => {
            exact::<ResultCallback>(name, "callback", &body)?;
            if body.get("scanRef").and_then(Value::as_str) != Some(name) {
                let reason = "must be the fixture's scanRef";
                return Err(invalid(name, "callback/scanRef", reason));
            }
            Some(RawResponse {
                status: StatusCode::OK,
                content_type: HeaderValue::from_static("application/json"),
                body: Bytes::from(body.to_string()),
            })
        }
    };
    let fixture = Fixture {
        responses,
        files,
        video_bytes: spec.video_bytes.unwrap_or(DEFAULT_VIDEO_BYTES),
        fault: spec.fault,
        download_fault: spec.download_fault,
        callback,
        refuses_deletion: spec.deletion == Deletion::Refused,
    };
    Ok((spec.scan_ref, fixture))
}

/// Checks an answer given outside `raw` against its model `T`: it must read into it (a wrong
/// type is refused with its path) and say nothing the docs do not describe (see
/// [`crate::strict`]).
fn exact<T>(name: &str, key: &str, body: &Value) -> Result<(), FixtureError>
where
    T: serde::de::DeserializeOwned + serde::Serialize + Strict,
{
    let model: T = read(name, key, body)?;
    strict::check(model, body).map_err(|departure| {
        let mut field = vec![key.to_owned()];
        field.extend(departure.path);
        invalid(name, field.join("/"), departure.reason)
    })
}

/// The kinds a fixture lists: documented ones, each once, in the docs' order.
fn check_file_list(name: &str, mut files: Vec<FileKind>) -> Result<Vec<FileKind>, FixtureError> {
    let mut seen = HashSet::new();
    for (i, kind) in files.iter().enumerate() {
        if !kind.is_documented() {
            let documented = FileKind::DOCUMENTED.map(|kind| kind.to_string());
            let reason = format!("must be one of {}", documented.join(", "));
            return Err(invalid(name, format!("files/{i}"), reason));
        }
        if !seen.insert(kind) {
            return Err(invalid(name, format!("files/{i}"), "listed twice"));
        }
    }
    files.sort();
    Ok(files)
}

fn raw_response(name: &str, field: &str, raw: RawSpec) -> Result<RawResponse, FixtureError> {
    let (body, default_type) = match (raw.json, raw.text, raw.base64) {
        (Some(json), None, None) => (json.to_string().into_bytes(), "application/json"),
        (None, Some(text), None) => (text.into_bytes(), "text/plain; charset=utf-8"),
        (None, None, Some(bytes)) => (bytes, "application/octet-stream"),
        _ => {
            let reason = "needs exactly one body: json, text or base64";
            return Err(invalid(name, field, reason));
        }
    };
    Ok(RawResponse {
        status: raw.status.unwrap_or(StatusCode::OK),
        content_type: raw
            .content_type
            .unwrap_or_else(|| HeaderValue::from_static(default_type)),
        body: Bytes::from(body),
    })
}
