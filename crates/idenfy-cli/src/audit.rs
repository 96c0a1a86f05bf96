//! The deletion audit file: one JSON line per deletion, refusal or failure, so that a team can
//! show what was deleted, when, and what the API said.
//!
//! ```json
//! {"scanRef":"abc","time":"2026-11-27T00:08:12Z","outcome":"attempt","identifier":null,"status":null,"attempts":0}
//! {"scanRef":"abc","time":"2026-11-27T00:08:12Z","outcome":"deleted","identifier":null,"status":200,"attempts":1}
//! ```
//!
//! The trail is written ahead: an `attempt` record is on disk before a deletion request is
//! sent, and its outcome follows once it is known. A kill -9, a crash or a full disk between
//! the two leaves an attempt without an outcome, which reads back as an unknown outcome: the
//! next run settles it (a 404 then means the earlier request deleted the data), instead of
//! taking the 404 for a refusal.
//!
//! The file is opened for appending only (`O_APPEND`: a line is never written over another),
//! created with mode 0600 (an existing file keeps its mode), never through a symbolic link
//! (`O_NOFOLLOW`), must be a regular file of the user's own that no one else can write (its
//! records decide what is never sent again), and is locked against a second run at the same
//! time. Each line is written whole and flushed to disk (fsync), with the directory entry of a
//! new file, before the request it announces or the next one is sent. Read back, it says which
//! scanRefs are done (never deleted twice) and which ended with their outcome unknown.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::bounded_line::{LineRead, read_line};
use crate::durable;
use crate::failure::Failure;
use crate::rfc3339;
use crate::trusted_file;

/// The longest audit line read back.
const MAX_AUDIT_LINE_BYTES: usize = 64 * 1024;

/// How one deletion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The API answered 200: deleted.
    Deleted,
    /// An earlier deletion's outcome was unknown and the API now answers 404: that one
    /// deleted the data.
    AlreadyGone,
    /// The API answered with an error (its identifier and status are recorded): nothing was
    /// deleted.
    Refused,
    /// No request reached the API (connection refused, 429 or 503 after the retries): nothing
    /// was deleted.
    Failed,
    /// A request may have reached the API but its answer did not arrive (the connection was
    /// lost, a timeout, an interrupt): the data may be deleted or not. The next run settles it.
    Unknown,
    /// Not an outcome: a deletion request is about to be sent. Written (and flushed to disk)
    /// before the request; the record of its outcome follows. One with no outcome after it is
    /// read back as [`Outcome::Unknown`].
    Attempt,
}

impl Outcome {
    /// Whether the data is known to be deleted.
    pub fn is_done(self) -> bool {
        matches!(self, Outcome::Deleted | Outcome::AlreadyGone)
    }

    /// The name in the audit file.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Deleted => "deleted",
            Outcome::AlreadyGone => "already-gone",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
            Outcome::Attempt => "attempt",
        }
    }
}

/// One line of the audit file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Record {
    /// The identification.
    pub scan_ref: String,
    /// When the outcome was known, RFC 3339 UTC.
    pub time: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The API's error identifier (`PARTNER_ERROR`, ...), when it answered with one.
    pub identifier: Option<String>,
    /// The HTTP status of the last answer, when there was one.
    pub status: Option<u16>,
    /// How many requests were sent.
    pub attempts: u32,
    /// What went wrong, for a person; absent on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// With `delete --archived`: the SHA-256 of the bundle's `manifest.json`, verified before
    /// the deletion, so the trail shows what was kept before what was deleted. Absent in
    /// records of plain deletions and of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
    /// With `delete --archived`: the `status` `/status` answered right after the deletion
    /// (`DELETED`), as the API's own word that it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_after: Option<String>,
}

impl Record {
    /// A record of `outcome` for `scan_ref`, timed now.
    pub fn now(scan_ref: &str, outcome: Outcome, attempts: u32) -> Self {
        Record {
            scan_ref: scan_ref.to_owned(),
            time: rfc3339::format_utc(SystemTime::now()),
            outcome,
            identifier: None,
            status: None,
            attempts,
            message: None,
            manifest_sha256: None,
            status_after: None,
        }
    }
}

/// What an audit file already records.
#[derive(Debug, Default)]
pub struct Earlier {
    /// ScanRefs known to be deleted.
    pub done: HashSet<String>,
    /// ScanRefs whose last record says the outcome is unknown, or is an attempt with no
    /// outcome after it.
    pub unknown: HashSet<String>,
    /// Lines read.
    pub lines: u64,
    /// Records cut short by a crash or a full disk, set apart.
    pub cut_records: u64,
}

/// How every record starts.
const RECORD_START: &[u8] = b"{\"scanRef\":";

/// Whether `line` (its line break included) is the start of a record, cut short: it starts
/// as records do, and ends before its JSON does.
fn is_cut_record(line: &[u8]) -> bool {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let starts_as_records_do = text.starts_with(RECORD_START) || RECORD_START.starts_with(text);
    starts_as_records_do
        && !text.is_empty()
        && serde_json::from_slice::<serde_json::Value>(text).is_err_and(|err| err.is_eof())
}

/// The open audit file.
#[derive(Debug)]
pub struct AuditFile {
    file: File,
    path: PathBuf,
    /// The last line was cut (by a crash): the next record starts with a line break. Written
    /// with that record, not before, so that reading the file (a dry run) changes nothing.
    cut_last_line: bool,
}

impl AuditFile {
    /// Opens (or creates) the audit file at `path` and reads what it records.
    ///
    /// # Errors
    /// A bad-input failure when the path is a link or not a regular file, belongs to another
    /// user or can be written by others, is in use by another run, or holds a line that is not
    /// an audit record (a cut last line, left by a crash, is ignored); another failure when it
    /// cannot be read.
    pub fn open(path: &Path) -> Result<(AuditFile, Earlier), Failure> {
        let shown = path.display();
        let existed = path.symlink_metadata().is_ok();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_err(|err| {
                if err.raw_os_error() == Some(libc::ELOOP) {
                    Failure::bad_input(format!(
                        "{shown}: the audit file is a symbolic link; give the file itself"
                    ))
                } else {
                    Failure::bad_input(format!("{shown}: {err}"))
                }
            })?;
        let metadata = file
            .metadata()
            .map_err(|err| Failure::other(format!("{shown}: {err}")))?;
        if !metadata.is_file() {
            return Err(Failure::bad_input(format!(
                "{shown}: the audit file must be a regular file"
            )));
        }
        trusted_file::check(path, &metadata, "the audit file")?;
        if !existed {
            // The new file's name must survive a power cut as its records do.
            durable::sync_name(path).map_err(|err| Failure::other(format!("{shown}: {err}")))?;
        }
        file.try_lock().map_err(|_| {
            Failure::bad_input(format!(
                "{shown}: another run is using this audit file; wait for it to end"
            ))
        })?;
        let mut audit = AuditFile {
            file,
            path: path.to_owned(),
            cut_last_line: false,
        };
        let earlier = audit.read_back()?;
        Ok((audit, earlier))
    }

    fn read_back(&mut self) -> Result<Earlier, Failure> {
        let shown = self.path.display().to_string();
        let read_failure = |line: u64, err: io::Error| {
            Failure::other(format!("{shown}: line {line} cannot be read: {err}"))
        };
        let mut earlier = Earlier::default();
        let mut reader = BufReader::new(&self.file);
        let mut buffer = Vec::new();
        let mut line = 0u64;
        loop {
            line += 1;
            let read = read_line(&mut reader, &mut buffer, MAX_AUDIT_LINE_BYTES)
                .map_err(|err| read_failure(line, err))?;
            let record = match read {
                LineRead::End => break,
                // A crash may cut the last line: what it says did not happen for sure, and the
                // next record starts on a line of its own.
                LineRead::Cut => break,
                LineRead::TooLong => {
                    return Err(Failure::bad_input(format!(
                        "{shown}: line {line} is too long for an audit record; is this the audit file?"
                    )));
                }
                LineRead::Complete => match serde_json::from_slice::<Record>(&buffer) {
                    Ok(record) => record,
                    // A record a crash or a full disk cut, which a later run closed with the
                    // line break its first record starts with: it said nothing for sure.
                    Err(_) if is_cut_record(&buffer) => {
                        earlier.cut_records += 1;
                        continue;
                    }
                    Err(_) => {
                        return Err(Failure::bad_input(format!(
                            "{shown}: line {line} is not an audit record; is this the audit file?"
                        )));
                    }
                },
            };
            earlier.lines += 1;
            if record.outcome.is_done() {
                earlier.unknown.remove(&record.scan_ref);
                earlier.done.insert(record.scan_ref);
            } else if matches!(record.outcome, Outcome::Unknown | Outcome::Attempt) {
                // An attempt is followed by its outcome; when the run died first, whether the
                // request arrived is unknown.
                earlier.unknown.insert(record.scan_ref);
            } else {
                earlier.unknown.remove(&record.scan_ref);
            }
        }
        // After a cut last line, the next record starts with a line break of its own.
        let length = self
            .file
            .metadata()
            .map_err(|err| Failure::other(format!("{shown}: {err}")))?
            .len();
        if length > 0 {
            let mut last = [0u8; 1];
            (&self.file)
                .seek(SeekFrom::Start(length - 1))
                .and_then(|_| (&self.file).read_exact(&mut last))
                .map_err(|err| Failure::other(format!("{shown}: {err}")))?;
            self.cut_last_line = last != *b"\n";
        }
        Ok(earlier)
    }

    /// Appends `record` as one line and flushes it to disk.
    ///
    /// # Errors
    /// When the line cannot be written or flushed: the caller must stop deleting, since the
    /// next deletion would go unrecorded.
    pub fn append(&mut self, record: &Record) -> Result<(), Failure> {
        let mut line = Vec::new();
        if self.cut_last_line {
            line.push(b'\n');
        }
        serde_json::to_writer(&mut line, record)
            .map_err(|err| Failure::other(format!("cannot encode an audit record: {err}")))?;
        line.push(b'\n');
        self.write_durably(&line)?;
        self.cut_last_line = false;
        Ok(())
    }

    fn write_durably(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        // One write of the whole line: with O_APPEND it lands at the end in one piece.
        self.file
            .write_all(bytes)
            .and_then(|()| self.file.sync_all())
            .map_err(|err| {
                Failure::other(format!(
                    "{}: the audit record could not be written: {err}; stopping",
                    self.path.display()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn records_are_appended_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        {
            let (mut audit, earlier) = AuditFile::open(&path).unwrap();
            assert_eq!(earlier.lines, 0);
            audit
                .append(&Record::now("a", Outcome::Deleted, 1))
                .unwrap();
            audit
                .append(&Record::now("b", Outcome::Unknown, 1))
                .unwrap();
            audit
                .append(&Record::now("c", Outcome::Refused, 1))
                .unwrap();
        }
        let mode = path.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (mut audit, earlier) = AuditFile::open(&path).unwrap();
        assert_eq!(earlier.lines, 3);
        assert!(earlier.done.contains("a") && earlier.done.len() == 1);
        assert!(earlier.unknown.contains("b") && earlier.unknown.len() == 1);
        audit
            .append(&Record::now("b", Outcome::AlreadyGone, 1))
            .unwrap();
        drop(audit);
        let (_, earlier) = AuditFile::open(&path).unwrap();
        assert!(earlier.done.contains("b") && earlier.unknown.is_empty());
        let text = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["scanRef"], "a");
        assert_eq!(first["outcome"], "deleted");
        assert!(first["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn an_existing_file_keeps_its_mode_and_a_cut_last_line_is_set_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, br#"{"scanRef":"a","time":"x","outcome":"deleted","identifier":null,"status":200,"attempts":1}
{"scanRef":"b","ti"#)
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let before = std::fs::read(&path).unwrap();
        drop(AuditFile::open(&path).unwrap());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "reading changes nothing"
        );
        let (mut audit, earlier) = AuditFile::open(&path).unwrap();
        assert_eq!(earlier.lines, 1);
        audit
            .append(&Record::now("c", Outcome::Deleted, 1))
            .unwrap();
        drop(audit);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n") && text.contains("\"ti\n{"), "{text}");
        let mode = path.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn a_record_cut_midway_and_closed_by_a_later_run_is_set_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, b"{\"scanRef\":\"a\",\"time\":\"x\",\"outcome\":\"attempt\",\"identifier\":null,\"status\":null,\"attempts\":0}\n{\"scanRef\":\"a\",\"ti").unwrap();
        {
            let (mut audit, earlier) = AuditFile::open(&path).unwrap();
            assert!(earlier.unknown.contains("a"));
            audit
                .append(&Record::now("a", Outcome::AlreadyGone, 1))
                .unwrap();
        }
        let (_, earlier) = AuditFile::open(&path).unwrap();
        assert_eq!(earlier.cut_records, 1);
        assert!(earlier.done.contains("a") && earlier.unknown.is_empty());
        // Text that is no record stays refused, cut or not.
        for not_ours in [
            &b"{\"other\":1\n"[..],
            b"notes\n",
            b"{\"scanRef\":\"a\"} x\n",
        ] {
            std::fs::write(&path, not_ours).unwrap();
            assert!(AuditFile::open(&path).is_err(), "{not_ours:?}");
        }
    }

    #[test]
    fn links_other_files_and_concurrent_runs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let refused = AuditFile::open(&link).unwrap_err();
        assert!(
            refused.message.contains("symbolic link"),
            "{}",
            refused.message
        );

        let not_audit = dir.path().join("export.jsonl");
        std::fs::write(&not_audit, b"{\"scanRef\":\"a\",\"endpoint\":\"status\"}\n").unwrap();
        let refused = AuditFile::open(&not_audit).unwrap_err();
        assert!(
            refused.message.contains("not an audit record"),
            "{}",
            refused.message
        );
        assert_eq!(
            std::fs::read(&not_audit).unwrap(),
            b"{\"scanRef\":\"a\",\"endpoint\":\"status\"}\n"
        );

        assert!(AuditFile::open(dir.path()).is_err());

        let path = dir.path().join("audit.jsonl");
        let (_held, _) = AuditFile::open(&path).unwrap();
        let refused = AuditFile::open(&path).unwrap_err();
        assert!(
            refused.message.contains("another run"),
            "{}",
            refused.message
        );
    }
}
