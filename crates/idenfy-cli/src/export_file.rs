//! The file a bulk export writes: created new and private, or, for `--resume`, the earlier
//! output rewritten beside it and published in its place.
//!
//! An export holds personal data: a new one is created with mode 0600 and never through a
//! path someone else prepared (`create_new`: no existing file, no link is followed). A resumed
//! one must be the user's own and writable by no one else ([`crate::trusted_file`]); it is
//! rewritten to a temporary file created the same way under a random name in the same
//! directory, given the earlier file's permission bits (never its set-id or sticky bits), made
//! durable, and renamed over it in one step: the earlier output is either whole or replaced by
//! its rewrite, never half-written, and a refused one (not an export) is left untouched.
//!
//! An existing file is opened without following a link and without blocking (a FIFO would
//! hang the run), then checked as opened: a regular file, and for a new export empty and the
//! user's own (an empty file someone else left in a shared directory would give them the
//! data).
//!
//! One run at a time: a run holds an exclusive lock on the file its name points to, from
//! before it reads the file until it exits. A lock is on a file, not on its name, so a run
//! that took the lock checks that the name still points to the file it locked: a resume
//! renames a new file over the name, and a second run that opened the earlier file before that
//! rename must not go on with it. A resume keeps its lock on the earlier file until the new
//! one, locked too, has its name. Whoever holds the lock is the only run on this export, so
//! the temporary files of earlier runs beside it (`.NAME.XXXXXX.resume`, left by a kill) are
//! stale: they are removed, and named on standard error.
//!
//! Durability: lines reach the file as the run goes (every [`crate::output::FLUSH_INTERVAL`]);
//! [`ExportFile::make_durable`] flushes the file and its directory entry to disk once, when the
//! run ends or is interrupted, rather than for every line.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::durable;
use crate::export_format::ExportFormat;
use crate::failure::Failure;
use crate::lookup_set::LookupSet;
use crate::resume::{ResumeError, Resumed, rewrite_export_as};
use crate::trusted_file;

/// The end of the name of a resume's temporary file: `.NAME.XXXXXX.resume`.
const RESUME_SUFFIX: &str = ".resume";
/// How many random characters `tempfile` puts in a name.
const RANDOM_CHARS: usize = 6;

/// An export's output file, locked for the run.
#[derive(Debug)]
pub struct ExportFile {
    file: File,
    path: PathBuf,
}

impl ExportFile {
    /// Flushes the file's content and its name in its directory to disk: what was written
    /// survives a power cut.
    ///
    /// # Errors
    /// The file system's.
    pub fn make_durable(&self) -> io::Result<()> {
        self.file.sync_all()?;
        durable::sync_name(&self.path)
    }
}

impl Write for ExportFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.file.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Opens the output of a new export: a new file (mode 0600), or an existing empty one that
/// is not a link (kept as it is: its mode is the user's choice).
///
/// # Errors
/// A bad-input failure when the path exists with content (the user may mean `--resume`), is a
/// link, or cannot be created.
pub fn create(path: &Path) -> Result<ExportFile, Failure> {
    let file = match create_private(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => open_existing_empty(path)?,
        Err(err) => return Err(Failure::bad_input(format!("{}: {err}", path.display()))),
    };
    lock_current(path, &file)?;
    remove_stale_temporaries(path);
    Ok(ExportFile {
        file,
        path: path.to_owned(),
    })
}

/// An existing output for a new export: empty, a regular file and the user's own, opened
/// without following a link.
fn open_existing_empty(path: &Path) -> Result<File, Failure> {
    let exists = || {
        Failure::bad_input(format!(
            "{} exists: pass --resume to continue that export, or choose another --output",
            path.display()
        ))
    };
    let file = open_no_follow(path, OpenOptions::new().append(true)).map_err(|err| {
        if err.raw_os_error() == Some(libc::ELOOP) {
            exists()
        } else {
            Failure::bad_input(format!("{}: {err}", path.display()))
        }
    })?;
    let metadata = file
        .metadata()
        .map_err(|err| Failure::bad_input(format!("{}: {err}", path.display())))?;
    if !metadata.is_file() || metadata.len() > 0 {
        return Err(exists());
    }
    trusted_file::check(path, &metadata, "the export")?;
    Ok(file)
}

/// Opens `path` with `options`, never following a link at its last component and never
/// blocking on a FIFO.
fn open_no_follow(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    options.open(path)
}

/// Takes the exclusive lock an export holds on its file while it runs, and checks that `path`
/// still names `file`: another run may have renamed a new file over it since it was opened.
fn lock_current(path: &Path, file: &File) -> Result<(), Failure> {
    let busy = || {
        Failure::bad_input(format!(
            "{} is being written by another run; wait for it to end",
            path.display()
        ))
    };
    file.try_lock().map_err(|_| busy())?;
    let locked = file
        .metadata()
        .map_err(|err| Failure::other(format!("{}: {err}", path.display())))?;
    match path.symlink_metadata() {
        Ok(named) if named.dev() == locked.dev() && named.ino() == locked.ino() => Ok(()),
        _ => Err(busy()),
    }
}

/// Prepares an earlier output for `--resume` (see the module's documentation) and returns it
/// open for appending, with what it held; the successful lookups are recorded in `done`. A
/// missing file starts a new export.
///
/// # Errors
/// A bad-input failure (exit 2) when the file is not a bulk export, or not a regular file;
/// another failure when it cannot be read or rewritten.
pub fn resume(
    path: &Path,
    format: ExportFormat,
    done: &mut LookupSet,
) -> Result<(ExportFile, Resumed), Failure> {
    let io_failure = |err: io::Error| Failure::other(format!("{}: {err}", path.display()));
    let not_regular = || {
        Failure::bad_input(format!(
            "{} is not a regular file: --resume rewrites it in place",
            path.display()
        ))
    };
    let earlier = match open_no_follow(path, OpenOptions::new().read(true)) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Ok((create(path)?, Resumed::default()));
        }
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => return Err(not_regular()),
        Err(err) => return Err(io_failure(err)),
    };
    let metadata = earlier.metadata().map_err(io_failure)?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    trusted_file::check(path, &metadata, "the export")?;
    // Held until the rewrite has the name (the end of this function).
    lock_current(path, &earlier)?;
    remove_stale_temporaries(path);
    let directory = durable::parent_directory(path);
    // tempfile creates it with O_EXCL under a random name, mode 0600.
    let mut temporary = tempfile::Builder::new()
        .prefix(&temporary_prefix(path))
        .rand_bytes(RANDOM_CHARS)
        .suffix(RESUME_SUFFIX)
        .tempfile_in(directory)
        .map_err(io_failure)?;
    let resumed = {
        let mut kept = BufWriter::new(temporary.as_file_mut());
        let resumed =
            rewrite_export_as(format, BufReader::new(&earlier), &mut kept, done).map_err(|err| match err {
                ResumeError::NotAnExport { .. } => Failure::bad_input(format!(
                    "--resume {}: {err}; it is not the output of a bulk export, and was left as it is",
                    path.display()
                )),
                other => Failure::other(format!("--resume {}: {other}", path.display())),
            })?;
        kept.flush().map_err(io_failure)?;
        resumed
    };
    let kept_mode = metadata.mode() & trusted_file::KEPT_PERMISSION_BITS;
    temporary
        .as_file()
        .set_permissions(Permissions::from_mode(kept_mode))
        .map_err(io_failure)?;
    temporary.as_file().sync_all().map_err(io_failure)?;
    // Locked before it is published, so that no second run can take it in between.
    temporary.as_file().try_lock().map_err(|_| {
        Failure::other(format!(
            "{}: the rewritten export could not be locked",
            path.display()
        ))
    })?;
    let mut file = temporary
        .persist(path)
        .map_err(|err| io_failure(err.error))?;
    durable::sync_directory(directory).map_err(io_failure)?;
    // The earlier file, and the lock on it, go only now that the new file has the name.
    drop(earlier);
    // The same file that was published: nothing can be swapped in between.
    file.seek(SeekFrom::End(0)).map_err(io_failure)?;
    Ok((
        ExportFile {
            file,
            path: path.to_owned(),
        },
        resumed,
    ))
}

/// `.NAME.`: the start of the names of the temporary files of the export at `path`.
fn temporary_prefix(path: &Path) -> std::ffi::OsString {
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    prefix
}

/// Removes the temporary files an interrupted resume of the export at `path` left beside it
/// (`.NAME.XXXXXX.resume`: regular files of the user's own, never a link), naming each on
/// standard error. Called with the export's lock held: no live run has one then.
fn remove_stale_temporaries(path: &Path) {
    let prefix = temporary_prefix(path);
    let prefix = prefix.as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir(durable::parent_directory(path)) else {
        return;
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(random) = name
            .as_encoded_bytes()
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(RESUME_SUFFIX.as_bytes()))
        else {
            continue;
        };
        if random.len() != RANDOM_CHARS || !random.iter().all(u8::is_ascii_alphanumeric) {
            continue;
        }
        let ours = entry.metadata().is_ok_and(|metadata| {
            metadata.file_type().is_file() && metadata.uid() == trusted_file::effective_uid()
        });
        if ours && std::fs::remove_file(entry.path()).is_ok() {
            removed = true;
            eprintln!(
                "idenfy: removed {}, left by an interrupted --resume",
                entry.path().display()
            );
        }
    }
    if removed {
        let _ = durable::sync_name(path);
    }
}

/// A new file, mode 0600, that did not exist before.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_on_a_file_that_lost_its_name_is_refused() {
        // A second run opened the export just before a resume renamed its rewrite over it:
        // the lock it then takes is on a file no longer named, and must not let it go on.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, b"").unwrap();
        let opened_before = File::open(&path).unwrap();
        let rewrite = dir.path().join(".out.jsonl.Ab3xY9.resume");
        std::fs::write(&rewrite, b"").unwrap();
        std::fs::rename(&rewrite, &path).unwrap();
        let refused = lock_current(&path, &opened_before).unwrap_err();
        assert!(
            refused.message.contains("another run"),
            "{}",
            refused.message
        );
        // The file the name points to now can be locked.
        assert!(lock_current(&path, &File::open(&path).unwrap()).is_ok());
    }

    #[test]
    fn no_second_run_takes_the_export_while_a_resume_rewrites_and_publishes_it() {
        // A second run trying again and again, as fast as it can, for as long as the first
        // resumes: at no instant of the rewrite and the rename may it get the export.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let line =
            "{\"scanRef\":\"r\",\"endpoint\":\"status\",\"result\":{\"status\":\"APPROVED\"}}\n";
        let lines: String = (0..20_000)
            .map(|i| line.replace("\"r\"", &format!("\"r{i}\"")))
            .collect();
        std::fs::write(&path, lines).unwrap();
        // The second run starts a moment later; should it still be first to the lock (a busy
        // machine), the first is rightly refused and the round is run again.
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::{Duration, Instant};
        for _round in 0..20 {
            let first_done = AtomicBool::new(false);
            let (first, first_started, second_wins) = std::thread::scope(|scope| {
                let second = scope.spawn(|| {
                    std::thread::sleep(Duration::from_millis(2));
                    let mut wins: Vec<Instant> = Vec::new();
                    while !first_done.load(Ordering::SeqCst) {
                        let started = Instant::now();
                        let mut done = LookupSet::new().unwrap();
                        if resume(&path, ExportFormat::JsonLines, &mut done).is_ok() {
                            wins.push(started);
                        }
                    }
                    wins
                });
                let first_started = Instant::now();
                let mut done = LookupSet::new().unwrap();
                let first = resume(&path, ExportFormat::JsonLines, &mut done);
                first_done.store(true, Ordering::SeqCst);
                (first, first_started, second.join().unwrap())
            });
            match first {
                Ok((first, resumed)) => {
                    assert_eq!(resumed.kept, 20_000);
                    assert!(
                        second_wins.is_empty(),
                        "a second run took the export during the resume"
                    );
                    drop(first);
                    return;
                }
                Err(_) if second_wins.first().is_some_and(|won| *won < first_started) => {}
                Err(refused) => panic!("the resume failed: {}", refused.message),
            }
        }
        panic!("the first resume never got the export");
    }

    #[test]
    fn a_locked_export_is_refused_to_a_second_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let _first = create(&path).unwrap();
        let mut done = LookupSet::new().unwrap();
        let refused = resume(&path, ExportFormat::JsonLines, &mut done).unwrap_err();
        assert!(
            refused.message.contains("another run"),
            "{}",
            refused.message
        );
    }
}
