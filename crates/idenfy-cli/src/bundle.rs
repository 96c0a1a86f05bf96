//! Building one archive bundle and publishing it whole, with one rename.
//!
//! A run has one staging directory, `DIR/.idenfy-staging.XXXXXX/` (that of
//! [`crate::download_set`]: private, locked while its run lives, removed by the next run once
//! stale), and builds each bundle in it as `SCANREF/` (a scanRef is claimed once a run, and a
//! name that starts with `.` is never one). A bundle whose build fails or is interrupted is
//! removed with everything in it. Every file is created new (mode 0600, never through a link)
//! and flushed to disk; the manifest is written last; the directories are flushed; then
//! `SCANREF/` is renamed to `DIR/SCANREF` in one step and `DIR` is flushed. One staging
//! directory a run rather than one a bundle: a bundle then costs no directory created and
//! removed besides its own, which the file system pays for in time and in inodes it must skip
//! while they are recently freed.
//!
//! The rename never replaces a bundle by accident: it is a `renameat2` with `RENAME_NOREPLACE`
//! (with `--force`, `RENAME_EXCHANGE`, which swaps the old bundle into the staging directory,
//! removed after). Where the file system has no `renameat2`, the run holds the lock on `DIR`
//! (no other run of the command publishes into it meanwhile), checks that the name is free and
//! renames; with `--force` it first moves the old bundle into the staging directory, so
//! `DIR/SCANREF` is at every instant the old bundle, nothing, or the new one: never part of one.

use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use idenfy_hyper::ScanRef;

use crate::digest;
use crate::download_set::{Staged, Staging};
use crate::durable;
use crate::failure::Failure;
use crate::manifest::{Entry, FILES_DIR, MANIFEST_NAME, Manifest};
use crate::private_file;
use crate::stored_callback::{CALLBACKS_DIR, StoredCallback};

/// A bundle being built in its run's staging directory.
#[derive(Debug)]
pub struct BundleBuilder {
    building: Building,
    root: PathBuf,
    entries: Vec<Entry>,
}

/// The directory a bundle is built in, removed with what it holds when dropped (a build that
/// failed or was interrupted; after a replacement, the old bundle). The staging directory it
/// is in lives at least as long.
#[derive(Debug)]
struct Building {
    root: PathBuf,
    staging: Arc<Staging>,
}

impl Drop for Building {
    fn drop(&mut self) {
        // Gone already, or left: what is left goes with the staging directory, now or in the
        // next run.
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl BundleBuilder {
    /// A new, empty bundle of `scan_ref` (a plain name) in the run's `staging` directory.
    ///
    /// # Errors
    /// When its directory cannot be made (also when this run builds it already).
    pub fn start(staging: &Arc<Staging>, scan_ref: &ScanRef) -> Result<Self, Failure> {
        let root = staging.path().join(scan_ref.as_str());
        create_dir(&root)?;
        Ok(BundleBuilder {
            building: Building {
                root: root.clone(),
                staging: Arc::clone(staging),
            },
            root,
            entries: Vec::new(),
        })
    }

    /// Writes `bytes` as the new file `relative` of the bundle, flushed to disk.
    ///
    /// # Errors
    /// When it cannot be written.
    pub fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<(), Failure> {
        let path = self.root.join(relative);
        write_new(&path, bytes)?;
        self.entries.push(Entry {
            path: relative.to_owned(),
            bytes: bytes.len() as u64,
            sha256: digest::sha256_hex(bytes),
        });
        Ok(())
    }

    /// The bundle's `files/` directory, created private.
    ///
    /// # Errors
    /// When it cannot be created.
    pub fn files_dir(&self) -> Result<PathBuf, Failure> {
        self.subdir(FILES_DIR)
    }

    /// Writes a stored callback as `callbacks/NAME.json` (its body, as stored) and
    /// `callbacks/NAME.headers.json`, each flushed to disk.
    ///
    /// # Errors
    /// When they cannot be written.
    pub fn add_callback(&mut self, callback: &StoredCallback) -> Result<(), Failure> {
        self.subdir(CALLBACKS_DIR)?;
        self.write(&callback.body_path(), &callback.body)?;
        self.write(&callback.headers_path(), &callback.headers_json()?)
    }

    /// The bundle's subdirectory `name`, created private.
    fn subdir(&self, name: &str) -> Result<PathBuf, Failure> {
        let dir = self.root.join(name);
        if !dir.is_dir() {
            create_dir(&dir)?;
        }
        Ok(dir)
    }

    /// Gives a downloaded file (complete, flushed, in [`Self::files_dir`]) its name there. Its
    /// digest is taken from what is on disk, as `archive verify` reads it.
    ///
    /// # Errors
    /// When the name is taken (the API named two files alike) or the file cannot be read.
    pub fn add_download(&mut self, staged: Staged) -> Result<(), Failure> {
        let relative = format!("{FILES_DIR}/{}", staged.name);
        let target = self.root.join(&relative);
        private_file::rename_into(staged.file, &target, false)?;
        let file = std::fs::File::open(&target).map_err(|err| io_failure(&target, err))?;
        let (sha256, bytes) =
            digest::sha256_of_reader(file).map_err(|err| io_failure(&target, err))?;
        self.entries.push(Entry {
            path: relative,
            bytes,
            sha256,
        });
        Ok(())
    }

    /// The number of files and bytes written so far.
    pub fn written(&self) -> (usize, u64) {
        (
            self.entries.len(),
            self.entries.iter().map(|entry| entry.bytes).sum(),
        )
    }

    /// Writes the manifest (`header` with the files filled in), last, and flushes the
    /// bundle's directories: the bundle is complete in its staging directory.
    ///
    /// # Errors
    /// When a write or a flush fails.
    pub fn finish(mut self, mut header: Manifest) -> Result<Finished, Failure> {
        self.entries.sort_by(|a, b| a.path.cmp(&b.path));
        header.files = std::mem::take(&mut self.entries);
        let mut text = serde_json::to_vec_pretty(&header)
            .map_err(|err| Failure::other(format!("cannot encode a manifest: {err}")))?;
        text.push(b'\n');
        write_new(&self.root.join(MANIFEST_NAME), &text)?;
        for sub in [FILES_DIR, CALLBACKS_DIR] {
            let sub = self.root.join(sub);
            if sub.is_dir() {
                durable::sync_directory(&sub).map_err(|err| io_failure(&sub, err))?;
            }
        }
        for dir in [&self.root, &self.building.staging.path().to_owned()] {
            durable::sync_directory(dir).map_err(|err| io_failure(dir, err))?;
        }
        Ok(Finished {
            building: self.building,
            root: self.root,
            manifest_bytes: text.len() as u64,
        })
    }
}

/// A complete bundle in its staging directory, ready to be published.
#[derive(Debug)]
pub struct Finished {
    building: Building,
    root: PathBuf,
    pub manifest_bytes: u64,
}

impl Finished {
    /// Renames the bundle to `target` (in the directory the staging directory is in), as the
    /// module's documentation says: replacing what is there only with `replace`.
    ///
    /// # Errors
    /// A bad-input failure when `target` appeared meanwhile without `replace`; another when
    /// the rename or a flush fails. Nothing is published then.
    pub fn publish(self, target: &Path, replace: bool) -> Result<(), Failure> {
        let dir = durable::parent_directory(target);
        let renamed = if replace {
            exchange(&self.root, target, &aside_of(&self.root))
        } else {
            rename_no_replace(&self.root, target)
        };
        match renamed {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Failure::bad_input(format!(
                    "{} appeared while its bundle was being built; it was kept, pass --force to replace it",
                    target.display()
                )));
            }
            Err(err) => return Err(io_failure(target, err)),
        }
        durable::sync_directory(dir).map_err(|err| io_failure(dir, err))?;
        // After a replacement, the old bundle goes now (from where the new one was built, or
        // from beside it).
        drop(self.building);
        if replace {
            let _ = std::fs::remove_dir_all(aside_of(&self.root));
        }
        Ok(())
    }
}

/// `renameat2(RENAME_NOREPLACE)`, or, where the file system has none, a check under the lock
/// on `DIR` and a plain rename.
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            Err(err) => return Err(err.into()),
        }
    }
    // rename(2) would replace an empty directory (or a file) at `to`.
    if to.symlink_metadata().is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    std::fs::rename(from, to)
}

/// Where the fallback of [`exchange`] puts the old bundle of `root`: beside it in the staging
/// directory, under a name no bundle being built has (a scanRef never starts with `.`).
fn aside_of(root: &Path) -> PathBuf {
    let name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    root.with_file_name(format!(".replaced.{name}"))
}

/// Swaps `from` and `to` (`renameat2(RENAME_EXCHANGE)`), or puts `to` aside as `aside` and
/// then renames `from` to it; a missing `to` is a plain rename.
fn exchange(from: &Path, to: &Path, aside: &Path) -> io::Result<()> {
    if to.symlink_metadata().is_err() {
        return rename_no_replace(from, to);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            Err(err) => return Err(err.into()),
        }
    }
    std::fs::rename(to, aside)?;
    rename_no_replace(from, to)
}

fn create_dir(path: &Path) -> Result<(), Failure> {
    let mut builder = std::fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(|err| io_failure(path, err))
}

/// Creates `path` new (mode 0600, never through a link), writes `bytes` and flushes them.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|err| io_failure(path, err))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| io_failure(path, err))
}

fn io_failure(path: &Path, err: io::Error) -> Failure {
    Failure::other(format!("{}: {err}", path.display()))
}
