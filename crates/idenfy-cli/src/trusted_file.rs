//! Files the command trusts: an audit trail it reads back to decide what not to delete again,
//! an export it resumes and republishes with personal data in it. Such a file must be the
//! user's own and writable by nobody else, as ssh insists of its keys: otherwise another user
//! could have written the records it trusts (a forged "deleted" line, a planted export), or
//! would read the personal data written into it.
//!
//! A file that holds a secret (the config file with an API secret in it) must also be
//! readable by nobody else, as ssh insists of a private key: [`check_private`].
//!
//! A file kept for the user keeps its permission bits, never its set-id and sticky bits.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use crate::failure::Failure;

/// The permission bits a file the command republishes keeps: read, write and execute for
/// owner, group and others, never set-user-id, set-group-id or sticky.
pub const KEPT_PERMISSION_BITS: u32 = 0o777;

/// Write permission for the group or for others.
const WRITABLE_BY_OTHERS: u32 = 0o022;

/// Any permission for the group or for others.
const OPEN_TO_OTHERS: u32 = 0o077;

/// Checks that the file `metadata` describes (as opened, not as named) belongs to the user
/// running the command and that no one else can write it. `what` names the file's role in the
/// message ("the audit file", "the export").
///
/// # Errors
/// A bad-input failure (exit 2) naming the file, its owner or its mode, and what to do.
pub fn check(path: &Path, metadata: &Metadata, what: &str) -> Result<(), Failure> {
    let shown = path.display();
    let owner = metadata.uid();
    if owner != effective_uid() {
        return Err(Failure::bad_input(format!(
            "{shown}: {what} belongs to another user (uid {owner}); it cannot be trusted, so \
             nothing was done: use a file of your own"
        )));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & WRITABLE_BY_OTHERS != 0 {
        return Err(Failure::bad_input(format!(
            "{shown}: {what} can be written by others (mode {mode:04o}); it cannot be trusted, \
             so nothing was done: `chmod go-w` it if its content is yours"
        )));
    }
    Ok(())
}

/// As [`check`], and also that no one else can read the file, nor run it: it holds a secret.
/// The message names the file and its mode, as ssh's does for a private key.
///
/// # Errors
/// A bad-input failure (exit 2) naming the file, its owner or its mode, and what to do.
pub fn check_private(path: &Path, metadata: &Metadata, what: &str) -> Result<(), Failure> {
    check(path, metadata, what)?;
    let mode = metadata.mode() & 0o7777;
    if mode & OPEN_TO_OTHERS != 0 {
        let shown = path.display();
        return Err(Failure::bad_input(format!(
            "Permissions {mode:04o} for '{shown}' are too open: {what} holds a secret, and others \
             can read it; it was not used: `chmod 600 {shown}`"
        )));
    }
    Ok(())
}

/// The effective user id of the process: the owner of every file it creates.
pub fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn with_mode(mode: u32) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn a_file_of_ones_own_that_only_its_owner_writes_is_trusted() {
        for mode in [0o600, 0o644, 0o400, 0o700, 0o4600] {
            let (_dir, path) = with_mode(mode);
            let metadata = path.metadata().unwrap();
            assert!(check(&path, &metadata, "the file").is_ok(), "{mode:o}");
        }
    }

    #[test]
    fn a_file_with_a_secret_must_be_open_to_its_owner_only() {
        for mode in [0o600, 0o400, 0o700] {
            let (_dir, path) = with_mode(mode);
            let metadata = path.metadata().unwrap();
            assert!(
                check_private(&path, &metadata, "the file").is_ok(),
                "{mode:o}"
            );
        }
        for mode in [0o640, 0o604, 0o601, 0o610, 0o644, 0o620] {
            let (_dir, path) = with_mode(mode);
            let metadata = path.metadata().unwrap();
            let refused = check_private(&path, &metadata, "the config file").unwrap_err();
            assert!(
                refused.message.contains(&format!("{mode:04o}"))
                    && refused.message.contains(&path.display().to_string()),
                "{}",
                refused.message
            );
        }
    }

    #[test]
    fn a_file_that_others_can_write_is_refused_naming_its_mode() {
        for mode in [0o620, 0o602, 0o666, 0o6666] {
            let (_dir, path) = with_mode(mode);
            let metadata = path.metadata().unwrap();
            let refused = check(&path, &metadata, "the audit file").unwrap_err();
            assert!(
                refused.message.contains(&format!("{mode:04o}"))
                    && refused.message.contains("the audit file"),
                "{}",
                refused.message
            );
        }
    }
}
