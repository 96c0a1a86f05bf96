//! One identification's files in a download directory, published as a set: all of them or
//! none, never beside another identification's.
//!
//! **Staging.** A run downloads every file into a private staging directory inside `DIR`
//! (`.idenfy-staging.XXXXXX`, created new under a random name, mode 0700, on the same file
//! system so that a rename moves a file into `DIR`). Each file there is flushed to disk
//! (fsync) once complete. The staging directory holds a lock file (`.lock`) locked for as
//! long as its run lives, and the whole run holds a lock on `DIR` itself, so a second run into
//! the same `DIR` is refused (exit 2) instead of mixing its files with the first one's.
//!
//! **The record.** `DIR/.idenfy-download.json` says which identification `DIR` holds:
//! `{"scanRef", "files": [names], "state": "complete"}`, or, while a set is being published,
//! `{"scanRef", "files", "state": "publishing", "replacing": [names]}` where `replacing` lists
//! every earlier download the publish replaces or removes. It is written like any private
//! file (a new temporary file in the staging directory, fsync, rename over the record, fsync
//! of `DIR`).
//!
//! **Which files are downloads.** A name `KIND.EXT` (a plain kind, one extension of letters
//! and digits, not a directory) is a download when the record lists it, when `KIND` is one of
//! the documented kinds (`FRONT`, ..., `FACE_VIDEO`), or when `KIND` is a kind of the new set.
//! Anything else (`notes.txt`, `FRONT.jpg.notes`, an undocumented kind no record lists) is not
//! the command's and is never touched.
//!
//! **Refusals.** Without `--force`, a directory holding any download is refused before a
//! file is fetched (exit 2), with one exception: an interrupted publish of the same
//! identification (record `publishing`, same scanRef), whose listed files the run may replace
//! since the interrupted run had the right to. An unreadable record (not a regular file, too
//! large, not this format) is refused too. With `--force`, every download the new set does
//! not replace is removed once the new set is in, and each removal is reported. The check is
//! made again, under the lock, just before publishing, for files that appeared meanwhile.
//!
//! **Publishing**, write-ahead, and what a kill -9 at each step leaves:
//!
//! 1. The files are complete in the staging directory, each fsynced; the staging directory
//!    is fsynced. Killed before or during this: `DIR` holds the earlier set and its record,
//!    untouched, plus a stale staging directory, which the next run removes.
//! 2. The record `publishing` (new scanRef, new names, the downloads it replaces) is renamed
//!    over the record, and `DIR` is fsynced. Killed during it: the rename is atomic, so the
//!    record is either the earlier one (as in 1) or the new one (as in 3).
//! 3. Each staged file is renamed to its name in `DIR` (replacing a download, never anything
//!    else), then each download the new set does not have is removed, then `DIR` is fsynced.
//!    Killed here: `DIR` mixes the two sets, but the record says so; the next run of the same
//!    scanRef downloads the set again and publishes it (with or without `--force`), a run of
//!    another scanRef is refused without `--force`, and with it removes both sets' files.
//! 4. The record `complete` is renamed over it, and `DIR` is fsynced. Killed before: as in 3.
//! 5. The staging directory (now only its lock file) is removed. Killed before: a complete
//!    set and a stale staging directory, which the next run removes.
//!
//! No step leaves a partial file under a final name: a file reaches its name only by a
//! rename, once whole. The publish runs without an await, so Ctrl-C cannot cut it midway.
//!
//! **Stale temporaries.** Each run, holding the lock on `DIR`, removes what a killed run left:
//! staging directories (`.idenfy-staging.XXXXXX`) whose lock can be taken, and the temporary
//! files earlier versions wrote in `DIR` itself (`.KIND.XXXXXX.part`). Only real directories
//! and regular files owned by the current user are removed, never a link (nor what it points
//! to), and each removal is reported.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use idenfy_hyper::ScanRef;
use idenfy_hyper::models::FileKind;
use serde::{Deserialize, Serialize};
use tempfile::{NamedTempFile, TempDir};

use crate::durable;
use crate::failure::Failure;
use crate::file_kinds::CheckedKind;
use crate::private_file;
use crate::trusted_file;

/// The record of what a download directory holds.
pub const RECORD_NAME: &str = ".idenfy-download.json";

/// How a staging directory's name starts; a random suffix of [`RANDOM_LEN`] characters ends it.
const STAGING_PREFIX: &str = ".idenfy-staging.";

/// The lock file inside a staging directory, locked while its run lives.
const STAGING_LOCK: &str = ".lock";

/// The length of the random part of a temporary name (tempfile's letters and digits).
const RANDOM_LEN: usize = 6;

/// The largest record read: a real one lists a few dozen names.
const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// The longest extension of a download's name.
const MAX_EXTENSION_LEN: usize = 8;

/// The lock on a download directory, held for the whole run.
#[derive(Debug)]
pub struct DirectoryLock {
    _directory: File,
}

/// Locks `dir` against a second run; `what` names the run in the refusal ("download").
///
/// # Errors
/// A bad-input failure when another run holds it.
pub fn lock_directory(dir: &Path, what: &str) -> Result<DirectoryLock, Failure> {
    let directory = File::open(dir).map_err(|err| io_failure(dir, err))?;
    match directory.try_lock() {
        Ok(()) => Ok(DirectoryLock {
            _directory: directory,
        }),
        Err(std::fs::TryLockError::WouldBlock) => Err(Failure::bad_input(format!(
            "another idenfy {what} into {} is running; run again once it is done",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(err)) => Err(io_failure(dir, err)),
    }
}

/// Removes what killed runs left in `dir` (see the module's documentation), calling `removed`
/// with each path removed. Call it holding the [`DirectoryLock`].
///
/// # Errors
/// When `dir` cannot be read or a stale temporary cannot be removed.
pub fn remove_stale_temporaries(dir: &Path, mut removed: impl FnMut(&Path)) -> Result<(), Failure> {
    let me = trusted_file::effective_uid();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|err| io_failure(dir, err))?
        .flatten()
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        // Not followed: a link is neither a directory nor a regular file here.
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.uid() != me {
            continue;
        }
        if metadata.is_dir() && is_staging_name(&name) {
            if staging_is_stale(&path) {
                std::fs::remove_dir_all(&path).map_err(|err| io_failure(&path, err))?;
                removed(&path);
            }
        } else if metadata.is_file() && is_partial_name(&name) {
            std::fs::remove_file(&path).map_err(|err| io_failure(&path, err))?;
            removed(&path);
        }
    }
    durable::sync_directory(dir).map_err(|err| io_failure(dir, err))
}

/// Whether `random` is what tempfile puts in a name: [`RANDOM_LEN`] ASCII letters and digits.
fn is_random_part(random: &str) -> bool {
    random.len() == RANDOM_LEN && random.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// `.idenfy-staging.XXXXXX`.
fn is_staging_name(name: &str) -> bool {
    name.strip_prefix(STAGING_PREFIX)
        .is_some_and(is_random_part)
}

/// `.KIND.XXXXXX.part`, an earlier version's temporary download in `DIR` itself.
fn is_partial_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".part"))
        .and_then(|rest| rest.rsplit_once('.'))
        .is_some_and(|(kind, random)| is_random_part(random) && CheckedKind::new(kind).is_ok())
}

/// Whether no live run holds the staging directory at `path`: its lock can be taken, or it
/// has none (a run killed between creating it and its lock; runs create both holding the lock
/// on `DIR`, which this run holds now).
fn staging_is_stale(path: &Path) -> bool {
    let lock = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path.join(STAGING_LOCK));
    match lock {
        Ok(file) => file.try_lock().is_ok(),
        Err(err) => err.kind() == io::ErrorKind::NotFound,
    }
}

/// A run's private staging directory in `DIR`, removed with what it holds when dropped.
#[derive(Debug)]
pub struct Staging {
    // Declared first: the lock file is closed before its directory goes.
    _lock: File,
    dir: TempDir,
    // Declared last: the directory's lock, when the staging holds it, is released only once
    // the staging directory is gone.
    _directory_lock: Option<DirectoryLock>,
}

impl Staging {
    /// Creates a new staging directory in `dir` and locks it.
    ///
    /// # Errors
    /// When it cannot be created.
    pub fn create(dir: &Path) -> Result<Self, Failure> {
        Self::create_with(dir, None)
    }

    /// Creates a new staging directory in `dir`, as [`Staging::create`], and holds `lock` (the
    /// lock on `dir`) until it is dropped. A run whose files are published from other threads
    /// shares its staging with them: the directory is then released when the last of them has
    /// ended, not when the run's own task returns, so no second run can take it while a
    /// publish of this one is still under way.
    ///
    /// # Errors
    /// When it cannot be created.
    pub fn create_holding(dir: &Path, lock: DirectoryLock) -> Result<Self, Failure> {
        Self::create_with(dir, Some(lock))
    }

    fn create_with(dir: &Path, directory_lock: Option<DirectoryLock>) -> Result<Self, Failure> {
        let staging = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .rand_bytes(RANDOM_LEN)
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(dir)
            .map_err(|err| io_failure(dir, err))?;
        let lock_path = staging.path().join(STAGING_LOCK);
        let lock = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&lock_path)
            .map_err(|err| io_failure(&lock_path, err))?;
        lock.try_lock()
            .map_err(|err| Failure::other(format!("{}: {err}", lock_path.display())))?;
        Ok(Self {
            _lock: lock,
            dir: staging,
            _directory_lock: directory_lock,
        })
    }

    /// Where the files go.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A complete file in the staging directory, flushed to disk, and the name it gets in `DIR`.
#[derive(Debug)]
pub struct Staged {
    pub name: String,
    pub file: NamedTempFile,
    pub bytes: u64,
}

/// What publishing changed in `DIR`.
#[derive(Debug, Default)]
pub struct Published {
    /// Each file of the new set, with its size, in the order given.
    pub saved: Vec<(PathBuf, u64)>,
    /// Each earlier download removed, with the new file of the same kind, if any.
    pub removed: Vec<(PathBuf, Option<PathBuf>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum State {
    Publishing,
    Complete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Record {
    scan_ref: String,
    files: Vec<String>,
    state: State,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    replacing: Vec<String>,
}

/// The record as found in `DIR`.
#[derive(Debug)]
enum Found {
    None,
    Record(Record),
    /// Not a regular file, too large, or not a record this command writes.
    Unreadable,
}

/// What `DIR` holds: its record and its downloads.
#[derive(Debug)]
pub struct Survey {
    record: Found,
    downloads: BTreeSet<String>,
}

/// Reads `dir`'s record and finds its downloads, for a new set of `kinds`.
///
/// # Errors
/// When `dir` cannot be read.
pub fn survey(dir: &Path, kinds: &[CheckedKind]) -> Result<Survey, Failure> {
    let record = read_record(&dir.join(RECORD_NAME));
    let recorded: BTreeSet<&str> = match &record {
        Found::Record(record) => record
            .files
            .iter()
            .chain(&record.replacing)
            .map(String::as_str)
            .collect(),
        _ => BTreeSet::new(),
    };
    let mut downloads = BTreeSet::new();
    for entry in std::fs::read_dir(dir)
        .map_err(|err| io_failure(dir, err))?
        .flatten()
    {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some((kind, _)) = download_name(&name) else {
            continue;
        };
        let ours = recorded.contains(name.as_str())
            || FileKind::DOCUMENTED
                .iter()
                .any(|documented| documented.as_str() == kind)
            || kinds.iter().any(|new| new.as_str() == kind);
        if ours && entry.file_type().is_ok_and(|file_type| !file_type.is_dir()) {
            downloads.insert(name);
        }
    }
    Ok(Survey { record, downloads })
}

/// Whether `name` is a download's name, `KIND.EXT` (see [`download_name`]).
pub fn is_download_name(name: &str) -> bool {
    download_name(name).is_some()
}

/// `KIND.EXT` split, when `name` has that form: a plain kind and one short extension of ASCII
/// letters and digits.
fn download_name(name: &str) -> Option<(&str, &str)> {
    let (kind, extension) = name.split_once('.')?;
    let plain_extension = !extension.is_empty()
        && extension.len() <= MAX_EXTENSION_LEN
        && extension.bytes().all(|byte| byte.is_ascii_alphanumeric());
    (plain_extension && CheckedKind::new(kind).is_ok()).then_some((kind, extension))
}

fn read_record(path: &Path) -> Found {
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Found::None,
        Ok(metadata) if metadata.is_file() => {}
        _ => return Found::Unreadable,
    }
    // Not through a link, and a FIFO put there meanwhile cannot block the run.
    let Ok(file) = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    else {
        return Found::Unreadable;
    };
    if !file.metadata().is_ok_and(|metadata| metadata.is_file()) {
        return Found::Unreadable;
    }
    let mut bytes = Vec::new();
    if file
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .is_err()
        || bytes.len() as u64 > MAX_RECORD_BYTES
    {
        return Found::Unreadable;
    }
    match serde_json::from_slice::<Record>(&bytes) {
        Ok(record)
            if record.scan_ref.parse::<ScanRef>().is_ok()
                && record
                    .files
                    .iter()
                    .chain(&record.replacing)
                    .all(|name| download_name(name).is_some()) =>
        {
            Found::Record(record)
        }
        _ => Found::Unreadable,
    }
}

impl Survey {
    /// Whether `DIR` holds an interrupted publish of `scan_ref`'s set.
    pub fn interrupted_publish_of(&self, scan_ref: &ScanRef) -> bool {
        matches!(&self.record, Found::Record(record)
            if record.state == State::Publishing && record.scan_ref == scan_ref.as_str())
    }

    /// The downloads an interrupted publish of `scan_ref` had the right to replace.
    fn authorized(&self, scan_ref: &ScanRef) -> BTreeSet<&str> {
        match &self.record {
            Found::Record(record) if self.interrupted_publish_of(scan_ref) => record
                .files
                .iter()
                .chain(&record.replacing)
                .map(String::as_str)
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    /// Refuses, without `force`, a directory that holds downloads the new set of `scan_ref`
    /// (of `kinds`) may not replace.
    ///
    /// # Errors
    /// A bad-input failure naming the first file in the way.
    pub fn check(
        &self,
        dir: &Path,
        scan_ref: &ScanRef,
        kinds: &[CheckedKind],
        force: bool,
    ) -> Result<(), Failure> {
        if force {
            return Ok(());
        }
        if matches!(self.record, Found::Unreadable) {
            return Err(Failure::bad_input(format!(
                "{} is not a download record this command wrote; pass --force to replace it and the downloads in {}",
                dir.join(RECORD_NAME).display(),
                dir.display()
            )));
        }
        let authorized = self.authorized(scan_ref);
        let in_the_way: Vec<&str> = self
            .downloads
            .iter()
            .map(String::as_str)
            .filter(|name| !authorized.contains(name))
            .collect();
        let Some(first) = in_the_way.first() else {
            return Ok(());
        };
        if let Found::Record(record) = &self.record
            && record.scan_ref != scan_ref.as_str()
        {
            return Err(Failure::bad_input(format!(
                "{} holds the files of another identification ({}); pass --force to replace them",
                dir.display(),
                in_the_way.join(", ")
            )));
        }
        let of_new_kind = in_the_way.iter().find(|name| {
            download_name(name)
                .is_some_and(|(kind, _)| kinds.iter().any(|new| new.as_str() == kind))
        });
        Err(match of_new_kind {
            Some(name) => private_file::exists(&dir.join(name)),
            None => Failure::bad_input(format!(
                "{} looks like a file of another identification's download, which this one does not replace; pass --force to remove it",
                dir.join(first).display()
            )),
        })
    }
}

/// Publishes `staged` (the whole set of `scan_ref`, of `kinds`) from `staging` into `dir` as
/// the module's documentation says, then removes `staging`.
///
/// # Errors
/// A bad-input failure when a download is (now) in the way without `force`; another when a
/// rename, a removal or a sync fails. Nothing is published when it fails before the record.
pub fn publish(
    dir: &Path,
    staging: Staging,
    scan_ref: &ScanRef,
    kinds: &[CheckedKind],
    staged: Vec<Staged>,
    force: bool,
) -> Result<Published, Failure> {
    durable::sync_directory(staging.path()).map_err(|err| io_failure(staging.path(), err))?;
    // Again, for a file that appeared while the set was downloading.
    let survey = survey(dir, kinds)?;
    survey.check(dir, scan_ref, kinds, force)?;

    let names: Vec<String> = staged.iter().map(|file| file.name.clone()).collect();
    write_record(
        dir,
        &staging,
        &Record {
            scan_ref: scan_ref.as_str().to_owned(),
            files: names.clone(),
            state: State::Publishing,
            replacing: survey.downloads.iter().cloned().collect(),
        },
    )?;

    let mut published = Published::default();
    for file in staged {
        let target = dir.join(&file.name);
        // Only a download is replaced; a name someone else takes meanwhile is kept.
        let replace = survey.downloads.contains(&file.name);
        private_file::rename_into(file.file, &target, replace)?;
        published.saved.push((target, file.bytes));
    }
    for stale in survey.downloads.iter().filter(|name| !names.contains(name)) {
        let path = dir.join(stale);
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if !metadata.is_dir() => {
                std::fs::remove_file(&path).map_err(|err| io_failure(&path, err))?;
            }
            _ => continue,
        }
        let kind = stale.split_once('.').map(|(kind, _)| kind);
        let replaced_by = names
            .iter()
            .find(|name| name.split_once('.').map(|(kind, _)| kind) == kind)
            .map(|name| dir.join(name));
        published.removed.push((path, replaced_by));
    }
    durable::sync_directory(dir).map_err(|err| io_failure(dir, err))?;

    write_record(
        dir,
        &staging,
        &Record {
            scan_ref: scan_ref.as_str().to_owned(),
            files: names,
            state: State::Complete,
            replacing: Vec::new(),
        },
    )?;
    drop(staging);
    Ok(published)
}

/// Writes `record` to a new private file in the staging directory and renames it over
/// `DIR`'s record (the record itself, never what a link there points to), durably.
fn write_record(dir: &Path, staging: &Staging, record: &Record) -> Result<(), Failure> {
    let mut text = serde_json::to_vec(record).map_err(|err| Failure::other(err.to_string()))?;
    text.push(b'\n');
    let mut file = private_file::create_partial(staging.path(), RECORD_NAME)?;
    file.write_all(&text)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|err| io_failure(file.path(), err))?;
    private_file::rename_into(file, &dir.join(RECORD_NAME), true)?;
    durable::sync_directory(dir).map_err(|err| io_failure(dir, err))
}

fn io_failure(path: &Path, err: io::Error) -> Failure {
    Failure::other(format!("{}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised_and_nothing_else() {
        assert!(is_staging_name(".idenfy-staging.aB3dE9"));
        assert!(!is_staging_name(".idenfy-staging.aB3dE"));
        assert!(!is_staging_name(".idenfy-staging.aB3/E9"));
        assert!(is_partial_name(".FRONT.Ab12Cd.part"));
        assert!(is_partial_name(".UTILITY_BILL.Ab12Cd.part"));
        assert!(!is_partial_name(".FRONT.png.part"));
        assert!(!is_partial_name(".r.pdf.Ab12Cd.part"));
        assert!(!is_partial_name("FRONT.Ab12Cd.part"));
        assert!(!is_partial_name(".FRONT.Ab12Cd.partial"));
    }

    #[test]
    fn a_download_is_a_plain_kind_and_one_short_extension() {
        assert_eq!(download_name("FRONT.png"), Some(("FRONT", "png")));
        assert_eq!(
            download_name("UTILITY_BILL.pdf"),
            Some(("UTILITY_BILL", "pdf"))
        );
        for other in [
            "FRONT.jpg.notes",
            "FRONT",
            ".FRONT.png",
            "FRONT.",
            "a b.png",
            "x.tar-gz",
        ] {
            assert_eq!(download_name(other), None, "{other}");
        }
    }

    #[test]
    fn a_record_that_is_not_ours_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RECORD_NAME);
        assert!(matches!(read_record(&path), Found::None));
        for text in [
            "not json",
            r#"{"scanRef":"a","files":["../../x.png"],"state":"complete"}"#,
            r#"{"scanRef":"a","files":[],"state":"complete","extra":1}"#,
            r#"{"scanRef":"a","files":[],"state":"done"}"#,
        ] {
            std::fs::write(&path, text).unwrap();
            assert!(matches!(read_record(&path), Found::Unreadable), "{text}");
        }
        std::fs::write(
            &path,
            r#"{"scanRef":"a","files":["FRONT.png"],"state":"complete"}"#,
        )
        .unwrap();
        assert!(matches!(read_record(&path), Found::Record(_)));
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &path).unwrap();
        assert!(matches!(read_record(&path), Found::Unreadable));
    }
}
