//! The file a bulk export writes: created new and private, or, for `--resume`, the earlier
//! output rewritten beside it and published in its place.
//!
//! An export holds personal data: a new one is created with mode 0600 and never through a
//! path someone else prepared (`create_new`: no existing file, no link is followed). A resumed
//! one is rewritten to a temporary file created the same way under a random name in the same
//! directory, given the earlier file's mode, and renamed over it in one step: the earlier
//! output is either whole or replaced by its rewrite, never half-written, and a refused one
//! (not an export) is left untouched.

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
    match create_private(path) {
        Ok(file) => return Ok(file),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(Failure::bad_input(format!("{}: {err}", path.display()))),
    }
    let existing = path
        .symlink_metadata()
        .map_err(|err| Failure::bad_input(format!("{}: {err}", path.display())))?;
    if existing.file_type().is_symlink() || existing.len() > 0 {
        return Err(Failure::bad_input(format!(
            "{} exists: pass --resume to continue that export, or choose another --output",
            path.display()
        )));
    }
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|err| Failure::bad_input(format!("{}: {err}", path.display())))
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
    let earlier = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Ok((create(path)?, Resumed::default()));
        }
        Err(err) => return Err(io_failure(err)),
    };
    let metadata = earlier.metadata().map_err(io_failure)?;
    if !metadata.is_file() {
        return Err(Failure::bad_input(format!(
            "{} is not a regular file: --resume rewrites it in place",
            path.display()
        )));
    }
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
    let mut file = temporary
        .persist(path)
        .map_err(|err| io_failure(err.error))?;
    // The same file that was published: nothing can be swapped in between.
    file.seek(SeekFrom::End(0)).map_err(io_failure)?;
    Ok((file, resumed))
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
