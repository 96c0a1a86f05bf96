//! Publishing a file that holds personal data, whole or not at all: written to a new
//! temporary file beside its final name (created exclusively under a random name, mode 0600,
//! never through a link), flushed to disk, then renamed to its name without replacing
//! anything there unless asked to.

use std::io::Write as _;
use std::path::Path;

use tempfile::NamedTempFile;

use crate::durable;
use crate::failure::Failure;

/// Writes `bytes` to `target` as described in the module's documentation. With `force`, the
/// rename replaces what is at `target` (a link itself, never what it points to).
///
/// # Errors
/// A bad-input failure when `target` exists (or appears meanwhile) without `force`; another
/// failure when writing fails. Nothing is left behind on failure.
pub fn publish(target: &Path, bytes: &[u8], force: bool) -> Result<(), Failure> {
    if !force && target.symlink_metadata().is_ok() {
        return Err(exists(target));
    }
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut partial = create_partial(dir, &name)?;
    partial
        .write_all(bytes)
        .and_then(|()| partial.as_file().sync_all())
        .map_err(|err| io_failure(partial.path(), err))?;
    persist(partial, target, dir, force)
}

/// A new temporary file in `dir` for `name`: created exclusively (`O_EXCL`) under a random
/// name (`.NAME.XXXXXX.part`), mode 0600, removed when dropped: on every failure, and when an
/// interrupt cancels the work that fills it.
///
/// # Errors
/// When it cannot be created.
pub fn create_partial(dir: &Path, name: &str) -> Result<NamedTempFile, Failure> {
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|err| io_failure(dir, err))
}

/// Gives `partial` (complete, and flushed to disk) its final name `target` in `dir`. Without
/// `force`, this fails if the name was taken meanwhile, instead of replacing what is there;
/// with it, the rename replaces the file (or a link) at the name itself, never what a link
/// points to. The new name is made durable before this returns.
///
/// # Errors
/// A bad-input failure when `target` appeared meanwhile without `force`; another when the
/// rename fails. `partial` is removed either way.
pub fn persist(
    partial: NamedTempFile,
    target: &Path,
    dir: &Path,
    force: bool,
) -> Result<(), Failure> {
    rename_into(partial, target, force)?;
    let _ = durable::sync_directory(dir);
    Ok(())
}

/// As [`persist`], without making the new name durable: for a caller that renames several
/// files and then calls [`durable::sync_directory`] once. `partial` may be in another directory of the same
/// file system.
///
/// # Errors
/// As [`persist`].
pub fn rename_into(partial: NamedTempFile, target: &Path, replace: bool) -> Result<(), Failure> {
    let published = if replace {
        partial.persist(target)
    } else {
        partial.persist_noclobber(target)
    };
    match published {
        Ok(_) => Ok(()),
        Err(err) if err.error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(Failure::bad_input(format!(
                "{} appeared while it was being written; pass --force to replace it",
                target.display()
            )))
        }
        Err(err) => Err(io_failure(target, err.error)),
    }
}

/// Creates `dir` and its missing parents, readable by their owner only (0700): the files that
/// go into it hold personal data. An existing directory keeps its mode.
///
/// # Errors
/// The file system's.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn io_failure(path: &Path, err: std::io::Error) -> Failure {
    Failure::other(format!("{}: {err}", path.display()))
}

/// The failure for a file that is in the way.
pub fn exists(path: &Path) -> Failure {
    Failure::bad_input(format!(
        "{} exists; pass --force to replace it",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn a_new_file_is_private_and_an_existing_one_is_kept_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.pdf");
        publish(&target, b"one", false).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        let mode = target.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let refused = publish(&target, b"two", false).unwrap_err();
        assert!(refused.message.contains("--force"), "{}", refused.message);
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        publish(&target, b"two", true).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_link_at_the_name_is_neither_followed_nor_replaced_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, b"keep").unwrap();
        let target = dir.path().join("r.pdf");
        std::os::unix::fs::symlink(&elsewhere, &target).unwrap();
        assert!(publish(&target, b"pdf", false).is_err());
        publish(&target, b"pdf", true).unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"keep");
        assert!(!target.symlink_metadata().unwrap().file_type().is_symlink());
    }
}
