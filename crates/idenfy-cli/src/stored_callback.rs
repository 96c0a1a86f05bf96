//! The result callbacks a webhook stored, read for `archive create --callbacks DIR`, kept in a
//! bundle's `callbacks/`, and checked by `archive verify --signing-key`.
//!
//! What a receiver writes, for each callback it accepts:
//!
//! ```text
//! DIR/SCANREF/NAME.json           # the body, byte for byte as received
//! DIR/SCANREF/NAME.headers.json   # {"Idenfy-Signature": "HEX", "Idenfy-Event-Type": "..."}
//! ```
//!
//! One directory per scanRef, because iDenfy may call more than once for one identification
//! (the automatic result, then the manual review's); `NAME` is the receiver's choice (a time,
//! a counter, the event type: letters, digits, `-` and `_`, at most [`MAX_NAME_LEN`]), and the
//! callbacks are taken in the order of their names. The headers file is a JSON object of header
//! names (any case) to values; `Idenfy-Signature` is required, `Idenfy-Event-Type` kept when
//! there, any other header ignored. Names starting with `.` are the receiver's temporaries
//! (write `.NAME.json.tmp`, then rename) and are skipped; anything else is refused, as is a link,
//! a file that is not regular, another user's or writable by others, one over
//! [`MAX_CALLBACK_FILE_BYTES`], or a body without its headers (or headers without a body).
//!
//! In the bundle, `callbacks/NAME.json` is the body as stored and `callbacks/NAME.headers.json`
//! holds just the two headers above, in the same shape. The body is not read before its
//! signature is checked (`archive verify` with the signing keys): only then is it parsed, and
//! its `scanRef` must be the bundle's.
//!
//! Every message names the file (escaped), never what it holds.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use idenfy_hyper::ScanRef;
use idenfy_hyper::core::callback::{
    CallbackVerifier, DEFAULT_MAX_CALLBACK_BYTES, EVENT_TYPE_HEADER, KeyMatch, SIGNATURE_HEADER,
    parse_event_type,
};
use idenfy_hyper::core::escape_controls;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::failure::Failure;
use crate::trusted_file;

/// The bundle's subdirectory of callbacks.
pub const CALLBACKS_DIR: &str = "callbacks";

/// The largest callback file read, body or headers: the largest body the verifier reads.
pub const MAX_CALLBACK_FILE_BYTES: u64 = DEFAULT_MAX_CALLBACK_BYTES as u64;

/// The most callbacks kept for one scanRef: the vendor sends two or three.
pub const MAX_CALLBACKS: usize = 16;

/// The most entries of `DIR/SCANREF/` looked at, temporaries included.
const MAX_ENTRIES: usize = 256;

/// The longest `NAME`.
pub const MAX_NAME_LEN: usize = 64;

const BODY_SUFFIX: &str = ".json";
const HEADERS_SUFFIX: &str = ".headers.json";

/// One stored callback: its name, its body as received, and its headers.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCallback {
    pub name: String,
    pub body: Vec<u8>,
    pub headers: Headers,
}

/// Never the body: it holds personal data.
impl fmt::Debug for StoredCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCallback")
            .field("name", &self.name)
            .field("bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The headers a bundle keeps of a callback: `callbacks/NAME.headers.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Headers {
    #[serde(rename = "Idenfy-Signature")]
    pub signature: String,
    #[serde(
        rename = "Idenfy-Event-Type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_type: Option<String>,
}

impl StoredCallback {
    /// The body's path in a bundle.
    pub fn body_path(&self) -> String {
        format!("{CALLBACKS_DIR}/{}{BODY_SUFFIX}", self.name)
    }

    /// The headers' path in a bundle.
    pub fn headers_path(&self) -> String {
        format!("{CALLBACKS_DIR}/{}{HEADERS_SUFFIX}", self.name)
    }

    /// The headers file a bundle keeps.
    pub fn headers_json(&self) -> Result<Vec<u8>, Failure> {
        let mut text = serde_json::to_vec_pretty(&self.headers)
            .map_err(|err| Failure::other(format!("cannot encode a callback's headers: {err}")))?;
        text.push(b'\n');
        Ok(text)
    }
}

/// Whether `name` may name a callback: letters, digits, `-` and `_`, at most [`MAX_NAME_LEN`].
fn is_callback_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a file name of a callbacks directory is.
#[derive(Debug, PartialEq, Eq)]
pub enum Part<'a> {
    Body(&'a str),
    Headers(&'a str),
}

/// `NAME.json` or `NAME.headers.json` (a `NAME` has no dot, so the two cannot be confused).
pub fn part_of(file_name: &str) -> Option<Part<'_>> {
    if let Some(name) = file_name.strip_suffix(HEADERS_SUFFIX) {
        return is_callback_name(name).then_some(Part::Headers(name));
    }
    let name = file_name.strip_suffix(BODY_SUFFIX)?;
    is_callback_name(name).then_some(Part::Body(name))
}

/// Whether `path` (relative to a bundle) is a callback file a bundle may hold.
pub fn is_bundle_path(path: &str) -> bool {
    path.strip_prefix(CALLBACKS_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|name| part_of(name).is_some())
}

/// Checks the `--callbacks` directory itself: a directory (not a link), the user's own, and
/// writable by no one else.
///
/// # Errors
/// A bad-input failure naming it.
pub fn check_directory(dir: &Path) -> Result<(), Failure> {
    let shown = escape_controls(&dir.display().to_string()).into_owned();
    let metadata = std::fs::symlink_metadata(dir)
        .map_err(|err| Failure::bad_input(format!("--callbacks {shown}: {err}")))?;
    if !metadata.is_dir() {
        return Err(Failure::bad_input(format!(
            "--callbacks {shown}: not a directory (a link is not followed)"
        )));
    }
    trusted_file::check(dir, &metadata, "the callbacks directory")
}

/// Reads the callbacks stored for `scan_ref` (a plain name) in `dir`, as the module's
/// documentation says, sorted by name: none when `dir` has no `SCANREF/`.
///
/// # Errors
/// A bad-input failure naming the first file refused, and why.
pub fn read_for(dir: &Path, scan_ref: &ScanRef) -> Result<Vec<StoredCallback>, Failure> {
    let sub = dir.join(scan_ref.as_str());
    let shown = |path: &Path| escape_controls(&path.display().to_string()).into_owned();
    let refuse = |path: &Path, why: &str| {
        Failure::bad_input(format!(
            "--callbacks: {}: {why}; nothing of {} was archived",
            shown(path),
            escape_controls(scan_ref.as_str())
        ))
    };
    let metadata = match std::fs::symlink_metadata(&sub) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(refuse(&sub, &err.to_string())),
        Ok(metadata) => metadata,
    };
    if !metadata.is_dir() {
        return Err(refuse(
            &sub,
            "not a directory (a link is not followed): a scanRef's callbacks are SCANREF/NAME.json",
        ));
    }
    trusted_file::check(&sub, &metadata, "the callbacks directory")
        .map_err(|failure| refuse(&sub, &failure.message))?;
    let mut bodies = BTreeMap::new();
    let mut headers = BTreeMap::new();
    let entries = std::fs::read_dir(&sub).map_err(|err| refuse(&sub, &err.to_string()))?;
    for (count, entry) in entries.enumerate() {
        if count >= MAX_ENTRIES {
            return Err(refuse(
                &sub,
                &format!("holds more than {MAX_ENTRIES} entries"),
            ));
        }
        let entry = entry.map_err(|err| refuse(&sub, &err.to_string()))?;
        let path = entry.path();
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            return Err(refuse(&path, "a name that is not UTF-8"));
        };
        if file_name.starts_with('.') {
            continue;
        }
        match part_of(&file_name) {
            Some(Part::Body(name)) => bodies.insert(name.to_owned(), path),
            Some(Part::Headers(name)) => headers.insert(name.to_owned(), path),
            None => {
                return Err(refuse(
                    &path,
                    &format!(
                        "not a callback file (NAME.json or NAME.headers.json, NAME letters, digits, '-' and '_', at most {MAX_NAME_LEN})"
                    ),
                ));
            }
        };
    }
    if bodies.len() > MAX_CALLBACKS {
        return Err(refuse(
            &sub,
            &format!("holds more than {MAX_CALLBACKS} callbacks"),
        ));
    }
    if let Some((_, path)) = headers.iter().find(|(name, _)| !bodies.contains_key(*name)) {
        return Err(refuse(path, "headers without their body (NAME.json)"));
    }
    let mut stored = Vec::with_capacity(bodies.len());
    for (name, body_path) in bodies {
        let Some(headers_path) = headers.get(&name) else {
            return Err(refuse(
                &body_path,
                "a body without its headers (NAME.headers.json with its Idenfy-Signature)",
            ));
        };
        let body = read_bounded(&body_path).map_err(|why| refuse(&body_path, &why))?;
        let raw = read_bounded(headers_path).map_err(|why| refuse(headers_path, &why))?;
        let headers = received_headers(&raw).map_err(|why| refuse(headers_path, &why))?;
        stored.push(StoredCallback {
            name,
            body,
            headers,
        });
    }
    Ok(stored)
}

/// Reads a stored callback file whole: a regular file (never through a link), the user's own,
/// writable by no one else, at most [`MAX_CALLBACK_FILE_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let file: File = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|err| match err.raw_os_error() {
            Some(libc::ELOOP) => "a symbolic link, which is not followed".to_owned(),
            _ => format!("cannot be opened: {err}"),
        })?;
    let metadata = file.metadata().map_err(|err| err.to_string())?;
    if !metadata.is_file() {
        return Err("not a regular file".to_owned());
    }
    trusted_file::check(path, &metadata, "the callback file").map_err(|f| f.message)?;
    let too_large =
        || format!("larger than {MAX_CALLBACK_FILE_BYTES} bytes, more than a callback may be");
    if metadata.len() > MAX_CALLBACK_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_CALLBACK_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("cannot be read: {err}"))?;
    if bytes.len() as u64 > MAX_CALLBACK_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A JSON object's entries in order, every one kept (a key twice is the caller's to refuse).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Each;
        impl<'de> Visitor<'de> for Each {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of header names and values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Each)
    }
}

/// The headers a receiver stored: `Idenfy-Signature` (required, 64 hex digits) and
/// `Idenfy-Event-Type` (if there, an event type), each once in any case; others ignored.
fn received_headers(raw: &[u8]) -> Result<Headers, String> {
    // serde's message can quote a value: only where the text went wrong is told.
    let Entries(entries) = serde_json::from_slice(raw).map_err(|err| {
        format!(
            "not a JSON object of headers (line {}, column {})",
            err.line(),
            err.column()
        )
    })?;
    let one = |header: &str| -> Result<Option<String>, String> {
        let mut found = entries
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(header));
        let first = found.next();
        if found.next().is_some() {
            return Err(format!("{header} is there more than once"));
        }
        first
            .map(|(_, value)| {
                value
                    .as_str()
                    .map(|text| text.trim().to_owned())
                    .ok_or_else(|| format!("{header} is not a string"))
            })
            .transpose()
    };
    let signature = one(SIGNATURE_HEADER)?
        .ok_or_else(|| format!("no {SIGNATURE_HEADER}: the callback's signature is required"))?;
    check_signature_form(&signature)?;
    let event_type = one(EVENT_TYPE_HEADER)?;
    if let Some(event_type) = &event_type {
        parse_event_type(event_type.as_bytes())
            .map_err(|err| format!("{EVENT_TYPE_HEADER} is not an event type: {err}"))?;
    }
    Ok(Headers {
        signature,
        event_type,
    })
}

/// An `Idenfy-Signature` is the 64 hex digits of an HMAC-SHA256.
fn check_signature_form(signature: &str) -> Result<(), String> {
    if signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!(
            "its {SIGNATURE_HEADER} is not the 64 hex digits of an HMAC-SHA256"
        ))
    }
}

/// Reads a bundle's `callbacks/NAME.headers.json` (this format exactly).
///
/// # Errors
/// What is wrong with it, never what it holds.
pub fn bundle_headers(raw: &[u8]) -> Result<Headers, String> {
    let headers: Headers = serde_json::from_slice(raw).map_err(|err| {
        format!(
            "not the headers file this command writes (line {}, column {})",
            err.line(),
            err.column()
        )
    })?;
    check_signature_form(&headers.signature)?;
    if let Some(event_type) = &headers.event_type {
        parse_event_type(event_type.as_bytes())
            .map_err(|err| format!("{EVENT_TYPE_HEADER} is not an event type: {err}"))?;
    }
    Ok(headers)
}

/// Checks each callback of the bundle of `scan_ref` under `verifier`'s keys: the signature
/// matches the body under one of them, and the signed body is a callback of `scan_ref`.
/// Returns which key matched each, or every problem (naming the file).
pub fn check_signatures(
    verifier: &CallbackVerifier,
    scan_ref: &ScanRef,
    callbacks: &[StoredCallback],
) -> Result<Vec<KeyMatch>, Vec<String>> {
    let mut matched = Vec::new();
    let mut problems = Vec::new();
    for callback in callbacks {
        let path = callback.body_path();
        let signature = Some(callback.headers.signature.as_str());
        let key = match verifier.verify(signature, &callback.body) {
            Ok(key) => key,
            Err(err) => {
                problems.push(format!("{path}: {err}"));
                continue;
            }
        };
        match verifier.verify_and_parse(signature, &callback.body) {
            Ok(parsed) if parsed.scan_ref.as_deref() == Some(scan_ref.as_str()) => {
                matched.push(key);
            }
            Ok(_) => problems.push(format!(
                "{path}: signed, but its scanRef is not {}: the callback of another identification",
                escape_controls(scan_ref.as_str())
            )),
            Err(err) => problems.push(format!("{path}: {err}")),
        }
    }
    if problems.is_empty() {
        Ok(matched)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_name_is_plain_and_its_two_files_cannot_be_confused() {
        assert_eq!(part_of("001.json"), Some(Part::Body("001")));
        assert_eq!(part_of("001.headers.json"), Some(Part::Headers("001")));
        assert_eq!(
            part_of("2026-11-27T00_08_12Z.json"),
            Some(Part::Body("2026-11-27T00_08_12Z"))
        );
        assert_eq!(
            part_of("2026-11-27T00:08:12Z.json"),
            None,
            "no ':' in a name"
        );
        for not in ["a.b.json", ".json", "x.txt", "x", "../x.json", "a b.json"] {
            assert_eq!(part_of(not), None, "{not}");
        }
        assert!(is_bundle_path("callbacks/auto.json"));
        assert!(is_bundle_path("callbacks/auto.headers.json"));
        for not in [
            "callbacks/",
            "callbacks/a/b.json",
            "callbacksx/a.json",
            "a.json",
        ] {
            assert!(!is_bundle_path(not), "{not}");
        }
    }

    #[test]
    fn received_headers_need_one_signature_and_quote_nothing() {
        let signature = "ab".repeat(32);
        let headers = received_headers(
            format!(
                r#"{{"idenfy-signature": " {signature} ", "Idenfy-Event-Type": "IDENTIFICATION_AUTO_FINISHED", "Content-Type": ["x"]}}"#
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(headers.signature, signature);
        assert_eq!(
            headers.event_type.as_deref(),
            Some("IDENTIFICATION_AUTO_FINISHED")
        );
        for (raw, says) in [
            (
                r#"{"Idenfy-Event-Type": "X"}"#.to_owned(),
                "no Idenfy-Signature",
            ),
            (
                format!(
                    r#"{{"Idenfy-Signature": "{signature}", "IDENFY-SIGNATURE": "{signature}"}}"#
                ),
                "more than once",
            ),
            (
                r#"{"Idenfy-Signature": "secret-looking"}"#.to_owned(),
                "64 hex digits",
            ),
            (r#"["secret-looking"]"#.to_owned(), "not a JSON object"),
            (
                format!(
                    r#"{{"Idenfy-Signature": "{signature}", "Idenfy-Event-Type": "secret looking"}}"#
                ),
                "not an event type",
            ),
        ] {
            let refused = received_headers(raw.as_bytes()).unwrap_err();
            assert!(refused.contains(says), "{raw}: {refused}");
            assert!(!refused.contains("secret"), "{raw}: {refused}");
        }
    }
}
