//! Making a file's name durable: a new or renamed name lives in its directory, and survives a
//! power cut only once the directory itself is flushed to disk (fsync of the file covers its
//! content, not its name).

use std::fs::File;
use std::io;
use std::path::Path;

/// The directory a file named `path` is in (`.` for a bare name).
pub fn parent_directory(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Flushes the entries of `directory` (names created, renamed or removed in it) to disk.
///
/// # Errors
/// The file system's.
pub fn sync_directory(directory: &Path) -> io::Result<()> {
    File::open(directory)?.sync_all()
}

/// Flushes the entry of `path` in its directory to disk.
///
/// # Errors
/// The file system's.
pub fn sync_name(path: &Path) -> io::Result<()> {
    sync_directory(parent_directory(path))
}
