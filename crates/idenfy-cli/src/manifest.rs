//! An archive bundle's `manifest.json`, and checking a bundle against it.
//!
//! ```json
//! {"format":"idenfy-archive-bundle/1","scanRef":"abc","takenAt":"2026-11-27T00:08:12Z",
//!  "baseUrl":"https://ivs.idenfy.com/","tool":{"name":"idenfy","version":"0.1.0"},
//!  "files":[{"path":"data.json","bytes":812,"sha256":"9f86d0..."}, ...]}
//! ```
//!
//! A bundle made with `archive create --callbacks` has the format [`FORMAT_WITH_CALLBACKS`]
//! (`idenfy-archive-bundle/2`) and a `"callbacks"` key, the number of callbacks it stores
//! (`0`: none had been received for the scanRef), each as `callbacks/NAME.json` and
//! `callbacks/NAME.headers.json` (see [`crate::stored_callback`]). Every other bundle keeps
//! [`FORMAT`] (`idenfy-archive-bundle/1`), byte for byte what earlier versions wrote and read,
//! with no `"callbacks"` key and no `callbacks/`: an older version still verifies it, and says
//! plainly that it does not know the format of one with callbacks.
//!
//! A bundle verifies when its manifest is well formed (one of these formats exactly: no unknown
//! key, at most [`MAX_MANIFEST_BYTES`], only the names a bundle has, each once, the four lookups
//! and the report among them, each callback's body with its headers and as many as it says),
//! names the directory it is in, and every file it lists is there, a
//! regular file (never a link) of the size and SHA-256 it gives, and nothing else is in the
//! bundle. The manifest is the last file written into a bundle, and a bundle gets its final
//! name only once it is complete, so a bundle that verifies is one this command finished and
//! nobody changed since.
//!
//! Everything a check finds is named, file by file, with the names escaped: a name on disk
//! is anyone's text. Nothing of a file's content ever is: it holds personal data.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use idenfy_hyper::ScanRef;
use idenfy_hyper::core::escape_controls;
use serde::{Deserialize, Serialize};

use crate::digest;
use crate::download_set::is_download_name;
use crate::report::is_plain_name;
use crate::stored_callback::{
    self, CALLBACKS_DIR, MAX_CALLBACK_FILE_BYTES, MAX_CALLBACKS, Part, StoredCallback,
};
use crate::trusted_file;

/// The manifest's name in a bundle.
pub const MANIFEST_NAME: &str = "manifest.json";

/// The format of a bundle without callbacks, which every version writes and reads.
pub const FORMAT: &str = "idenfy-archive-bundle/1";

/// The format of a bundle made with `--callbacks`: [`FORMAT`] and the `"callbacks"` key.
pub const FORMAT_WITH_CALLBACKS: &str = "idenfy-archive-bundle/2";

/// The subdirectory of the identification's files.
pub const FILES_DIR: &str = "files";

/// The four lookups' answers, as the API sent them.
pub const LOOKUP_NAMES: [&str; 4] = ["status.json", "data.json", "files.json", "full-status.json"];

/// The subdirectories a bundle may have.
const SUBDIRS: [&str; 2] = [FILES_DIR, CALLBACKS_DIR];

/// The identification report.
pub const REPORT_NAME: &str = "report.pdf";

/// The largest manifest read: one lists a few dozen files.
pub const MAX_MANIFEST_BYTES: u64 = 256 * 1024;

/// The largest `status.json` read for its status: the client caps a lookup's body far below.
/// A stored callback's files are read whole too, under their own cap.
const MAX_STATUS_BYTES: u64 = 1024 * 1024;
const _: () = assert!(MAX_CALLBACK_FILE_BYTES <= MAX_STATUS_BYTES);

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The identification, also the bundle's directory name.
    pub scan_ref: String,
    /// When the bundle was taken (the first lookup), RFC 3339 UTC.
    pub taken_at: String,
    /// The API it was taken from.
    pub base_url: String,
    /// What took it.
    pub tool: Tool,
    /// Every file of the bundle but the manifest, sorted by path.
    pub files: Vec<Entry>,
    /// How many callbacks the bundle stores ([`FORMAT_WITH_CALLBACKS`] only; `0`: none had
    /// been stored for the scanRef).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callbacks: Option<u32>,
}

/// The tool that wrote a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    /// This command.
    pub fn this() -> Self {
        Tool {
            name: "idenfy".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Relative to the bundle, `/`-separated.
    pub path: String,
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// Whether `path` is a name a bundle may hold (besides its manifest).
fn is_bundle_path(path: &str) -> bool {
    LOOKUP_NAMES.contains(&path)
        || path == REPORT_NAME
        || path
            .strip_prefix("files/")
            .is_some_and(|name| is_download_name(name) && !name.contains('/'))
        || stored_callback::is_bundle_path(path)
}

/// A bundle that verified.
#[derive(Debug)]
pub struct Verified {
    pub scan_ref: ScanRef,
    /// The SHA-256 of `manifest.json`, as read and checked.
    pub manifest_sha256: String,
    /// `status.json`'s `status`, from the bytes whose digest was checked; `None` when it has
    /// none that is a string.
    pub status: Option<String>,
    /// The callbacks it stores, from the bytes whose digests were checked, sorted by name;
    /// `None` for a bundle of [`FORMAT`], made without `--callbacks`.
    pub callbacks: Option<Vec<StoredCallback>>,
}

/// How checks of a bundle are made.
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    /// Also require every directory and file to be the user's own and writable by no one else:
    /// for a bundle whose word decides what is deleted.
    pub trusted: bool,
}

/// Checks the bundle at `dir` as the module's documentation says. Returns what it holds, or
/// every problem found (each a line for a person, naming the file).
pub fn verify_bundle(dir: &Path, checks: Checks) -> Result<Verified, Vec<String>> {
    let mut problems = Vec::new();
    let Some(dir_metadata) = metadata_of(dir, &mut problems, "the bundle") else {
        return Err(problems);
    };
    if !dir_metadata.is_dir() {
        return Err(vec!["not a directory".to_owned()]);
    }
    if checks.trusted {
        trust(dir, &dir_metadata, "the bundle", &mut problems);
    }
    let (manifest, manifest_sha256) = match read_manifest(dir, checks) {
        Ok(read) => read,
        Err(problem) => {
            problems.push(problem);
            return Err(problems);
        }
    };
    let scan_ref = match check_manifest(dir, &manifest) {
        Ok(scan_ref) => scan_ref,
        Err(found) => {
            problems.extend(found);
            return Err(problems);
        }
    };
    let listed: BTreeSet<&str> = manifest.files.iter().map(|e| e.path.as_str()).collect();
    let mut status = None;
    let mut bodies = BTreeMap::new();
    let mut headers = BTreeMap::new();
    for entry in &manifest.files {
        let want_status = entry.path == "status.json";
        let part = entry
            .path
            .strip_prefix(CALLBACKS_DIR)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(stored_callback::part_of);
        match check_file(dir, entry, checks, want_status || part.is_some()) {
            Ok(Some(bytes)) if want_status => {
                status = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|value| value.get("status")?.as_str().map(str::to_owned));
            }
            Ok(Some(bytes)) => match part {
                Some(Part::Body(name)) => {
                    bodies.insert(name, bytes);
                }
                Some(Part::Headers(name)) => match stored_callback::bundle_headers(&bytes) {
                    Ok(read) => {
                        headers.insert(name, read);
                    }
                    Err(problem) => problems.push(format!("{}: {problem}", entry.path)),
                },
                None => {}
            },
            Ok(None) => {}
            Err(problem) => problems.push(format!("{}: {problem}", entry.path)),
        }
    }
    unlisted(dir, &listed, checks, &mut problems);
    // Each body has its headers: the manifest was checked to list both.
    let callbacks = manifest.callbacks.map(|_| {
        bodies
            .into_iter()
            .filter_map(|(name, body)| {
                Some(StoredCallback {
                    name: name.to_owned(),
                    body,
                    headers: headers.remove(name)?,
                })
            })
            .collect()
    });
    if problems.is_empty() {
        Ok(Verified {
            scan_ref,
            manifest_sha256,
            status,
            callbacks,
        })
    } else {
        Err(problems)
    }
}

fn metadata_of(path: &Path, problems: &mut Vec<String>, what: &str) -> Option<Metadata> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            problems.push(format!("{what} is a symbolic link"));
            None
        }
        Ok(metadata) => Some(metadata),
        Err(err) => {
            problems.push(format!("{what} cannot be read: {err}"));
            None
        }
    }
}

fn trust(path: &Path, metadata: &Metadata, what: &str, problems: &mut Vec<String>) {
    if let Err(failure) = trusted_file::check(path, metadata, what) {
        problems.push(failure.message);
    }
}

/// Opens `path` for reading: never through a link, never blocking on a FIFO.
fn open_plain(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

fn read_manifest(dir: &Path, checks: Checks) -> Result<(Manifest, String), String> {
    let path = dir.join(MANIFEST_NAME);
    let file = open_plain(&path).map_err(|err| match err.raw_os_error() {
        Some(libc::ELOOP) => format!("{MANIFEST_NAME}: a symbolic link"),
        _ if err.kind() == io::ErrorKind::NotFound => {
            format!("{MANIFEST_NAME}: missing (not a complete bundle)")
        }
        _ => format!("{MANIFEST_NAME}: cannot be read: {err}"),
    })?;
    let metadata = file
        .metadata()
        .map_err(|err| format!("{MANIFEST_NAME}: {err}"))?;
    if !metadata.is_file() {
        return Err(format!("{MANIFEST_NAME}: not a regular file"));
    }
    if checks.trusted {
        trusted_file::check(&path, &metadata, "the manifest").map_err(|f| f.message)?;
    }
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("{MANIFEST_NAME}: cannot be read: {err}"))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{MANIFEST_NAME}: larger than {MAX_MANIFEST_BYTES} bytes; not a manifest this command writes"
        ));
    }
    // serde's message names a key or a position, never the text around it.
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|err| format!("{MANIFEST_NAME}: not a bundle manifest: {err}"))?;
    Ok((manifest, digest::sha256_hex(&bytes)))
}

fn check_manifest(dir: &Path, manifest: &Manifest) -> Result<ScanRef, Vec<String>> {
    let mut problems = Vec::new();
    let mut bad = |problem: String| problems.push(format!("{MANIFEST_NAME}: {problem}"));
    let with_callbacks = match manifest.format.as_str() {
        FORMAT => false,
        FORMAT_WITH_CALLBACKS => true,
        other => {
            bad(format!(
                "format `{}`, not {FORMAT} or {FORMAT_WITH_CALLBACKS}",
                escape_controls(other)
            ));
            manifest.callbacks.is_some()
        }
    };
    let scan_ref = manifest.scan_ref.parse::<ScanRef>().ok();
    let name = dir.file_name().and_then(|name| name.to_str());
    if scan_ref.is_none() || !is_plain_name(&manifest.scan_ref) {
        bad("its scanRef cannot name a bundle".to_owned());
    } else if name != Some(manifest.scan_ref.as_str()) {
        bad(format!(
            "it is the bundle of {}, not of the directory it is in",
            escape_controls(&manifest.scan_ref)
        ));
    }
    let mut seen = BTreeSet::new();
    for entry in &manifest.files {
        let shown = escape_controls(&entry.path);
        if !is_bundle_path(&entry.path) {
            bad(format!("lists `{shown}`, which no bundle holds"));
        } else if !seen.insert(entry.path.as_str()) {
            bad(format!("lists `{shown}` twice"));
        }
        if !digest::is_sha256_hex(&entry.sha256) {
            bad(format!("the digest of `{shown}` is not a SHA-256 in hex"));
        }
    }
    for required in LOOKUP_NAMES.iter().chain([&REPORT_NAME]) {
        if !seen.contains(required) {
            bad(format!("does not list {required}"));
        }
    }
    let mut bodies = BTreeSet::new();
    let mut headers = BTreeSet::new();
    for entry in &manifest.files {
        let Some(name) = entry
            .path
            .strip_prefix(CALLBACKS_DIR)
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            continue;
        };
        if entry.bytes > MAX_CALLBACK_FILE_BYTES {
            bad(format!(
                "lists `{}` of {} bytes, over the {MAX_CALLBACK_FILE_BYTES} of a callback",
                escape_controls(&entry.path),
                entry.bytes
            ));
        }
        match stored_callback::part_of(name) {
            Some(Part::Body(name)) => bodies.insert(name),
            Some(Part::Headers(name)) => headers.insert(name),
            None => false,
        };
    }
    match (with_callbacks, manifest.callbacks) {
        (false, None) if bodies.is_empty() && headers.is_empty() => {}
        (false, _) => bad(format!(
            "holds callbacks, which only a bundle of {FORMAT_WITH_CALLBACKS} does"
        )),
        (true, None) => bad("has no \"callbacks\" count".to_owned()),
        (true, Some(count)) => {
            if usize::try_from(count) != Ok(bodies.len()) {
                bad(format!(
                    "says {count} callbacks, and lists {}",
                    bodies.len()
                ));
            }
            if bodies.len() > MAX_CALLBACKS {
                bad(format!("lists more than {MAX_CALLBACKS} callbacks"));
            }
            for name in bodies.symmetric_difference(&headers) {
                bad(format!(
                    "lists the body or the headers of callback `{name}`, not both"
                ));
            }
        }
    }
    match scan_ref {
        Some(scan_ref) if problems.is_empty() => Ok(scan_ref),
        _ => Err(problems),
    }
}

/// Checks one listed file; returns its bytes when `keep` (a small JSON file read for a value)
/// so that the value comes from the very bytes whose digest was checked.
fn check_file(
    dir: &Path,
    entry: &Entry,
    checks: Checks,
    keep: bool,
) -> Result<Option<Vec<u8>>, String> {
    let path = dir.join(&entry.path);
    if let Some((sub, _)) = entry.path.split_once('/') {
        // The subdirectory itself must not be a link to somewhere else.
        match std::fs::symlink_metadata(dir.join(sub)) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => return Err(format!("{sub} is not a directory")),
            Err(_) => return Err("missing".to_owned()),
        }
    }
    let file = open_plain(&path).map_err(|err| match err.raw_os_error() {
        Some(libc::ELOOP) => "a symbolic link".to_owned(),
        _ if err.kind() == io::ErrorKind::NotFound => "missing".to_owned(),
        _ => format!("cannot be read: {err}"),
    })?;
    let metadata = file.metadata().map_err(|err| err.to_string())?;
    if !metadata.is_file() {
        return Err("not a regular file".to_owned());
    }
    if checks.trusted {
        trusted_file::check(&path, &metadata, "the file").map_err(|f| f.message)?;
    }
    if metadata.len() != entry.bytes {
        return Err(format!(
            "{} bytes, the manifest says {}",
            metadata.len(),
            entry.bytes
        ));
    }
    let (sha256, bytes, kept) = if keep && entry.bytes <= MAX_STATUS_BYTES {
        let mut bytes = Vec::new();
        (&file)
            .take(MAX_STATUS_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("cannot be read: {err}"))?;
        (digest::sha256_hex(&bytes), bytes.len() as u64, Some(bytes))
    } else {
        let (sha256, bytes) =
            digest::sha256_of_reader(&file).map_err(|err| format!("cannot be read: {err}"))?;
        (sha256, bytes, None)
    };
    if bytes != entry.bytes {
        return Err(format!(
            "{bytes} bytes read, the manifest says {}",
            entry.bytes
        ));
    }
    if sha256 != entry.sha256 {
        return Err("its SHA-256 differs from the manifest's: the file was changed".to_owned());
    }
    Ok(kept)
}

/// Names every entry of the bundle its manifest does not list.
fn unlisted(dir: &Path, listed: &BTreeSet<&str>, checks: Checks, problems: &mut Vec<String>) {
    let walk = |sub: Option<&str>, problems: &mut Vec<String>| {
        let at = sub.map_or_else(|| dir.to_owned(), |sub| dir.join(sub));
        let entries = match std::fs::read_dir(&at) {
            Ok(entries) => entries,
            Err(err) => {
                problems.push(format!("{}: cannot be listed: {err}", sub.unwrap_or(".")));
                return;
            }
        };
        let mut names: Vec<_> = entries.flatten().map(|entry| entry.file_name()).collect();
        names.sort();
        for name in names {
            let text = name.to_string_lossy();
            let relative = match sub {
                Some(sub) => format!("{sub}/{text}"),
                None => text.clone().into_owned(),
            };
            let plain_utf8 = name.to_str().is_some();
            if sub.is_none() && (relative == MANIFEST_NAME || SUBDIRS.contains(&relative.as_str()))
            {
                continue;
            }
            if !plain_utf8 || !listed.contains(relative.as_str()) {
                problems.push(format!(
                    "{}: not listed in the manifest",
                    escape_controls(&relative)
                ));
            }
        }
    };
    walk(None, problems);
    for (sub, what) in [
        (FILES_DIR, "the files directory"),
        (CALLBACKS_DIR, "the callbacks directory"),
    ] {
        let at = dir.join(sub);
        match std::fs::symlink_metadata(&at) {
            Ok(metadata) if metadata.is_dir() => {
                if checks.trusted {
                    trust(&at, &metadata, what, problems);
                }
                walk(Some(sub), problems);
            }
            Ok(_) => problems.push(format!("{sub}: not a directory")),
            // A bundle of an identification without files (or callbacks) may have no such
            // directory.
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_of_a_bundle_are_bundle_paths() {
        for ok in [
            "status.json",
            "report.pdf",
            "files/FRONT.png",
            "files/UTILITY_BILL.pdf",
        ] {
            assert!(is_bundle_path(ok), "{ok}");
        }
        for not in [
            "manifest.json",
            "files/../status.json",
            "files/a/FRONT.png",
            "../x",
            "/etc/passwd",
            "files/",
            "notes.txt",
            "files/FRONT",
        ] {
            assert!(!is_bundle_path(not), "{not}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = r#"{"format":"idenfy-archive-bundle/1","scanRef":"a","takenAt":"t","baseUrl":"u","tool":{"name":"idenfy","version":"0"},"files":[],"extra":1}"#;
        assert!(serde_json::from_str::<Manifest>(text).is_err());
    }
}
