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
use bytes::Bytes;
use http::StatusCode;
use idenfy_core::MAX_SCAN_REF_LEN;
use serde::Deserialize;
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::callback::CallbackSource;
use crate::endpoint::{self, Endpoint};
use crate::fault::FaultSpec;
use crate::media::FileKind;
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
    pub content_type: String,
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
        let mut fixtures = Fixtures::default();
        for (scan_ref, fixture) in parse_file(&document)? {
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
    scan_ref: FixtureScanRef,
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
    #[serde(default)]
    video_bytes: Option<VideoBytes>,
    #[serde(default)]
    fault: Option<FaultField>,
    #[serde(default)]
    download_fault: Option<FaultField>,
    /// By endpoint's fixture key, or `callback`.
    #[serde(default)]
    raw: Option<BTreeMap<String, RawSpec>>,
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

/// A response (or callback) given as is.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "an object with one body: json, text or base64"
)]
struct RawSpec {
    #[serde(default)]
    status: Option<RawStatus>,
    #[serde(default)]
    content_type: Option<HeaderText>,
    #[serde(default, deserialize_with = "present")]
    json: Option<Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    base64: Option<Base64Body>,
}

/// Keeps a key given as `null` apart from an absent one: `{"json": null}` is a body.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(try_from = "String")]
struct FixtureScanRef(String);

impl TryFrom<String> for FixtureScanRef {
    type Error = String;
    fn try_from(scan_ref: String) -> Result<Self, String> {
        if scan_ref.is_empty() || scan_ref.chars().count() > MAX_SCAN_REF_LEN {
            return Err(format!("must be 1 to {MAX_SCAN_REF_LEN} characters"));
        }
        Ok(Self(scan_ref))
    }
}

#[derive(Deserialize)]
#[serde(try_from = "u64", expecting = "a whole number of bytes")]
struct VideoBytes(u64);

impl TryFrom<u64> for VideoBytes {
    type Error = String;
    fn try_from(bytes: u64) -> Result<Self, String> {
        if bytes > MAX_VIDEO_BYTES {
            return Err(format!("must be a whole number up to {MAX_VIDEO_BYTES}"));
        }
        Ok(Self(bytes))
    }
}

#[derive(Deserialize)]
#[serde(try_from = "String", expecting = "a fault spec string")]
struct FaultField(FaultSpec);

impl TryFrom<String> for FaultField {
    type Error = String;
    fn try_from(spec: String) -> Result<Self, String> {
        FaultSpec::parse(&spec).map(Self).map_err(|e| e.to_string())
    }
}

#[derive(Deserialize)]
#[serde(try_from = "u64", expecting = "an HTTP status 200-599")]
struct RawStatus(StatusCode);

impl TryFrom<u64> for RawStatus {
    type Error = &'static str;
    fn try_from(status: u64) -> Result<Self, Self::Error> {
        u16::try_from(status)
            .ok()
            .filter(|n| (200..=599).contains(n))
            .and_then(|n| StatusCode::from_u16(n).ok())
            .map(Self)
            .ok_or("must be an HTTP status 200-599")
    }
}

#[derive(Deserialize)]
#[serde(try_from = "String", expecting = "a valid header value string")]
struct HeaderText(String);

impl TryFrom<String> for HeaderText {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        match http::HeaderValue::from_str(&text) {
            Ok(_) => Ok(Self(text)),
            Err(_) => Err("must be a valid header value string"),
        }
    }
}

#[derive(Deserialize)]
#[serde(try_from = "String", expecting = "a base64 string")]
struct Base64Body(Vec<u8>);

impl TryFrom<String> for Base64Body {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Self)
            .map_err(|_| "must be a base64 string")
    }
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
        .filter(|s| FixtureScanRef::try_from((*s).to_owned()).is_ok())
        .map_or_else(|| format!("#{index}"), str::to_owned);
    let spec: FixtureSpec = read(&name, "", entry)?;
    let scan_ref = spec.scan_ref.0;
    let name = scan_ref.as_str();

    let mut responses = HashMap::new();
    let answers = [
        (Endpoint::Status, &spec.status),
        (Endpoint::Data, &spec.data),
        (Endpoint::FullStatus, &spec.full_status),
    ];
    for (endpoint, body) in answers {
        let (Some(body), Some(key)) = (body, endpoint::fixture_key(endpoint)) else {
            continue;
        };
        match endpoint {
            Endpoint::Status => exact::<IdentificationStatus>(name, key, body)?,
            Endpoint::Data => exact::<IdentificationData>(name, key, body)?,
            _ => exact::<FullStatus>(name, key, body)?,
        }
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
    let mut files = Vec::new();
    if let Some(listed) = spec.files {
        files = check_file_list(name, listed)?;
        responses.insert(Endpoint::Files, Prepared::FileTable(files.clone()));
    }
    let mut callback = CallbackSource::Derived;
    if let Some(body) = &spec.callback {
        exact::<ResultCallback>(name, "callback", body)?;
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
    for (key, raw) in spec.raw.unwrap_or_default() {
        let field = format!("raw/{key}");
        if key == "callback" {
            if !matches!(callback, CallbackSource::Derived) {
                return Err(invalid(
                    name,
                    &field,
                    "callback is given both as a schema callback and as raw",
                ));
            }
            if raw.status.is_some() {
                return Err(invalid(
                    name,
                    format!("{field}/status"),
                    "a callback is a request: it has no status",
                ));
            }
            let raw = raw_response(name, &field, raw)?;
            callback = CallbackSource::Raw {
                content_type: raw.content_type,
                body: raw.body,
            };
            continue;
        }
        let endpoint = endpoint::from_fixture_key(&key).ok_or_else(|| {
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
        responses.insert(endpoint, Prepared::Raw(raw_response(name, &field, raw)?));
    }
    Ok((
        scan_ref.clone(),
        Fixture {
            responses,
            files,
            video_bytes: spec.video_bytes.map_or(DEFAULT_VIDEO_BYTES, |v| v.0),
            fault: spec.fault.map(|f| f.0),
            download_fault: spec.download_fault.map(|f| f.0),
            callback,
            refuses_deletion: spec.deletion == Deletion::Refused,
        },
    ))
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
fn check_file_list(name: &str, listed: Vec<FileKind>) -> Result<Vec<FileKind>, FixtureError> {
    let mut seen = HashSet::new();
    for (i, kind) in listed.iter().enumerate() {
        if !kind.is_documented() {
            return Err(invalid(
                name,
                format!("files/{i}"),
                format!("must be one of {}", documented_kinds()),
            ));
        }
        if !seen.insert(kind) {
            return Err(invalid(name, format!("files/{i}"), "listed twice"));
        }
    }
    let mut files = listed;
    files.sort();
    Ok(files)
}

/// `FRONT, BACK, ...`: the kinds a fixture may list.
fn documented_kinds() -> String {
    FileKind::DOCUMENTED.map(|kind| kind.to_string()).join(", ")
}

fn raw_response(name: &str, field: &str, raw: RawSpec) -> Result<RawResponse, FixtureError> {
    let (body, default_type) = match (raw.json, raw.text, raw.base64) {
        (Some(json), None, None) => (
            serde_json::to_vec(&json)
                .map_err(|e| invalid(name, format!("{field}/json"), e.to_string()))?,
            "application/json",
        ),
        (None, Some(text), None) => (text.into_bytes(), "text/plain; charset=utf-8"),
        (None, None, Some(bytes)) => (bytes.0, "application/octet-stream"),
        _ => {
            return Err(invalid(
                name,
                field,
                "needs exactly one body: json, text or base64",
            ));
        }
    };
    Ok(RawResponse {
        status: raw.status.map_or(StatusCode::OK, |status| status.0),
        content_type: raw
            .content_type
            .map_or_else(|| default_type.to_owned(), |text| text.0),
        body: Bytes::from(body),
    })
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

    /// The refusal of a file holding `fixture`, as (fixture, field, message).
    fn refusal(fixture: Value) -> (String, String, String) {
        let text = serde_json::json!({ "fixtures": [fixture] }).to_string();
        let error = Fixtures::from_json_str(&text).expect_err("the fixture is refused");
        let message = error.to_string();
        match error {
            FixtureError::Invalid { fixture, field, .. } => (fixture, field, message),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_names_the_path_and_not_the_value() {
        let cases = [
            (
                serde_json::json!({"scanRef": "mine", "videoBytes": "SECRET-77"}),
                "videoBytes",
            ),
            (
                serde_json::json!({"scanRef": "mine", "raw": {"data": {"text": 987_654_321}}}),
                "raw/data/text",
            ),
            (
                serde_json::json!({"scanRef": "mine", "files": ["FRONT", {"SECRET-77": 1}]}),
                "files/1",
            ),
            (
                serde_json::json!({"scanRef": "mine", "raw": {"status": {"text": "x", "SECRET-77": 1}}}),
                "raw/status/SECRET-77",
            ),
        ];
        for (fixture, path) in cases {
            let (name, field, message) = refusal(fixture);
            assert_eq!((name.as_str(), field.as_str()), ("mine", path), "{message}");
            assert!(!message.contains("987654321"), "{message}");
            if path != "raw/status/SECRET-77" {
                assert!(!message.contains("SECRET-77"), "{message}");
            }
            assert!(
                message.contains("must be") || message.contains("unknown key"),
                "{message}"
            );
        }
    }

    #[test]
    fn a_fixture_without_a_valid_scan_ref_goes_by_its_position() {
        let (name, field, message) = refusal(serde_json::json!({"files": []}));
        assert_eq!(
            (name.as_str(), field.as_str()),
            ("#0", "scanRef"),
            "{message}"
        );
        assert!(message.contains("is required"), "{message}");
        let (name, field, message) = refusal(serde_json::json!({"scanRef": ["SECRET-77"]}));
        assert_eq!(
            (name.as_str(), field.as_str()),
            ("#0", "scanRef"),
            "{message}"
        );
        assert!(!message.contains("SECRET-77"), "{message}");
        let (name, field, _) = refusal(serde_json::json!("a fixture"));
        assert_eq!((name.as_str(), field.as_str()), ("#0", "(fixture)"));
    }

    /// The built-in fixture `scan_ref` as a JSON value.
    fn builtin(scan_ref: &str) -> Value {
        let file: Value = serde_json::from_str(BUILTIN_FIXTURES_JSON).unwrap();
        let fixtures = file["fixtures"].as_array().unwrap();
        fixtures
            .iter()
            .find(|f| f["scanRef"] == scan_ref)
            .unwrap()
            .clone()
    }

    #[test]
    fn what_the_docs_do_not_describe_is_refused_at_its_path_without_its_value() {
        type Change = fn(&mut Value);
        let cases: [(&str, Change); 5] = [
            ("fullStatus/client/sex", |f| {
                f["fullStatus"]["client"]["sex"] = "SECRET-77".into()
            }),
            ("fullStatus/suspection_reasons/0", |f| {
                f["fullStatus"]["suspection_reasons"] = serde_json::json!(["SECRET-77"])
            }),
            ("data/extraKey", |f| {
                f["data"]["extraKey"] = "SECRET-77".into()
            }),
            ("status/clientId", |f| {
                f["status"].as_object_mut().unwrap().remove("clientId");
            }),
            ("fullStatus/client/sex", |f| {
                f["fullStatus"]["client"]["sex"] = 77.into()
            }),
        ];
        for (path, change) in cases {
            let mut fixture = builtin(crate::scan_refs::APPROVED);
            change(&mut fixture);
            let (name, field, message) = refusal(fixture);
            assert_eq!(
                (name.as_str(), field.as_str()),
                (crate::scan_refs::APPROVED, path)
            );
            assert!(!message.contains("77"), "{message}");
        }
    }

    /// Every string of every built-in answer, made a value no list documents in turn: where the
    /// models read it as an open enum, the refusal names exactly that place, which checks the
    /// paths of the marking against the JSON.
    #[test]
    fn an_undocumented_value_is_named_where_it_is_wherever_it_is() {
        fn strings(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            match value {
                Value::String(_) => out.push(path.clone()),
                Value::Object(map) => map.iter().for_each(|(key, inner)| {
                    path.push(key.clone());
                    strings(inner, path, out);
                    path.pop();
                }),
                Value::Array(items) => items.iter().enumerate().for_each(|(i, inner)| {
                    path.push(i.to_string());
                    strings(inner, path, out);
                    path.pop();
                }),
                _ => {}
            }
        }
        let mut refused = 0;
        for scan_ref in [crate::scan_refs::SUSPECTED, crate::scan_refs::DENIED_FACE] {
            let fixture = builtin(scan_ref);
            for key in ["status", "data", "fullStatus"] {
                let mut leaves = Vec::new();
                strings(&fixture[key], &mut vec![key.to_owned()], &mut leaves);
                for leaf in leaves {
                    let pointer = format!("/{}", leaf.join("/"));
                    let mut changed = fixture.clone();
                    *changed.pointer_mut(&pointer).unwrap() = "SANDBOX-PROBE".into();
                    let text = serde_json::json!({ "fixtures": [changed] }).to_string();
                    if let Err(FixtureError::Invalid { field, reason, .. }) =
                        Fixtures::from_json_str(&text)
                        && reason.starts_with("must be one of")
                    {
                        assert_eq!(field, leaf.join("/"), "{reason}");
                        refused += 1;
                    }
                }
            }
        }
        assert!(refused >= 10, "only {refused} enum values found");
    }

    #[test]
    fn a_raw_json_null_is_a_body_and_an_absent_body_is_not() {
        let text = r#"{"fixtures": [{"scanRef": "mine", "raw": {"status": {"json": null}}}]}"#;
        let fixtures = Fixtures::from_json_str(text).unwrap();
        let Some(Prepared::Raw(raw)) = fixtures
            .get("mine")
            .unwrap()
            .responses
            .get(&Endpoint::Status)
        else {
            panic!("the raw answer is kept");
        };
        assert_eq!(&raw.body[..], b"null");
        let (_, field, _) = refusal(serde_json::json!({"scanRef": "mine", "raw": {"status": {}}}));
        assert_eq!(field, "raw/status");
    }
}
