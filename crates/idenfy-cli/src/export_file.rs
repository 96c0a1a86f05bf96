//! The file a bulk export writes: created new and private, or, for `--resume`, the earlier
//! output rewritten beside it and published in its place.
//!
//! An export holds personal data: a new one is created with mode 0600 and never through a
//! path someone else prepared (`create_new`: no existing file, no link is followed). A resumed
//! one is rewritten to a temporary file created the same way under a random name in the same
//! directory, given the earlier file's mode, and renamed over it in one step: the earlier
//! output is either whole or replaced by its rewrite, never half-written, and a refused one
//! (not an export) is left untouched.
//!
//! An existing file is opened without following a link and without blocking (a FIFO would
//! hang the run), then checked as opened: a regular file, and for a new export empty and the
//! user's own (an empty file someone else left in a shared directory would give them the
//! data). The export holds an exclusive lock on its file while it runs, so a second run
//! (`--resume` while the first still writes) is refused instead of losing the first one's
//! lines to a replaced file.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use crate::failure::Failure;
use crate::lookup_set::LookupSet;
use crate::resume::{ResumeError, Resumed, rewrite_export};

/// Opens the output of a new export: a new file (mode 0600), or an existing empty one that
/// is not a link (kept as it is: its mode is the user's choice).
///
/// # Errors
/// A bad-input failure when the path exists with content (the user may mean `--resume`), is a
/// link, or cannot be created.
pub fn create(path: &Path) -> Result<File, Failure> {
    let file = match create_private(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => open_existing_empty(path)?,
        Err(err) => return Err(Failure::bad_input(format!("{}: {err}", path.display()))),
    };
    lock(path, &file)?;
    Ok(file)
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
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if metadata.uid() != effective_uid() {
            return Err(Failure::bad_input(format!(
                "{} belongs to another user: an export holds personal data, choose another --output",
                path.display()
            )));
        }
    }
    Ok(file)
}

/// Opens `path` with `options`, never following a link at its last component and never
/// blocking on a FIFO.
fn open_no_follow(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Takes the exclusive lock an export holds on its file while it runs.
fn lock(path: &Path, file: &File) -> Result<(), Failure> {
    file.try_lock().map_err(|_| {
        Failure::bad_input(format!(
            "{} is being written by another run; wait for it to end",
            path.display()
        ))
    })
}

/// Prepares an earlier output for `--resume` (see the module's documentation) and returns it
/// open for appending, with what it held; the successful lookups are recorded in `done`. A
/// missing file starts a new export.
///
/// # Errors
/// A bad-input failure (exit 2) when the file is not a bulk export, or not a regular file;
/// another failure when it cannot be read or rewritten.
pub fn resume(path: &Path, done: &mut LookupSet) -> Result<(File, Resumed), Failure> {
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
    lock(path, &earlier)?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    // tempfile creates it with O_EXCL under a random name, mode 0600.
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".resume")
        .tempfile_in(directory)
        .map_err(io_failure)?;
    let resumed = {
        let mut kept = BufWriter::new(temporary.as_file_mut());
        let resumed =
            rewrite_export(BufReader::new(earlier), &mut kept, done).map_err(|err| match err {
                ResumeError::NotAnExport { .. } => Failure::bad_input(format!(
                    "--resume {}: {err}; it is not the output of a bulk export, and was left as it is",
                    path.display()
                )),
                other => Failure::other(format!("--resume {}: {other}", path.display())),
            })?;
        kept.flush().map_err(io_failure)?;
        resumed
    };
    temporary
        .as_file()
        .set_permissions(metadata.permissions())
        .map_err(io_failure)?;
    temporary.as_file().sync_all().map_err(io_failure)?;
    // Locked before it is published, so that no second run can take it in between.
    lock(path, temporary.as_file())?;
    let mut file = temporary
        .persist(path)
        .map_err(|err| io_failure(err.error))?;
    // The same file that was published: nothing can be swapped in between.
    file.seek(SeekFrom::End(0)).map_err(io_failure)?;
    Ok((file, resumed))
}

#[cfg(unix)]
fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A new file, mode 0600, that did not exist before.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}
