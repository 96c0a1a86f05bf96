//! `idenfy files SCAN_REF --download DIR`: every photo, video and other file of an
//! identification, streamed to disk with the client's own connections and limits, and
//! published as one set.
//!
//! Every URL and every kind is checked, and the number of files capped, before anything is
//! fetched or created. Each file is streamed into a new temporary file in the run's private
//! staging directory (created exclusively under a random name, mode 0600, never through a
//! link), checked to be as long as the server said, and flushed to disk; the bytes of the
//! whole set are capped as they arrive. Only when every file is complete does the set go into
//! `DIR`, as [`crate::download_set`] says: a cut, stalled, oversized or interrupted transfer
//! leaves nothing published, and never one identification's files beside another's. Names
//! come from the file's kind (`FRONT.png`), never from the URL, which the server controls.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use idenfy_hyper::models::FileUrls;
use idenfy_hyper::{Client, DownloadError, DownloadLimits, DownloadUrl, ScanRef};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::download_set::{self, Staged, Staging};
use crate::failure::{Cause, Destination, Failure, FailureKind};
use crate::file_kinds::{CheckedKind, file_urls};
use crate::private_file;

/// The default cap on the number of files of one identification: a real answer lists at most
/// about ten (six documented kinds and a few others); a longer one is the server misbehaving.
pub const DEFAULT_MAX_FILES: u32 = 32;

/// The default cap on the bytes of all the files of one identification together: four times
/// the default cap on one file (`idenfy_hyper::DEFAULT_MAX_DOWNLOAD_BYTES`), so that a few
/// large videos fit and a server cannot fill a disk with many files under the per-file cap.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 4 * idenfy_hyper::DEFAULT_MAX_DOWNLOAD_BYTES;

/// How the files are fetched and written.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// Replace and remove the downloads already in the directory.
    pub force: bool,
    /// The largest file accepted, in bytes.
    pub max_file_size: u64,
    /// The most files one identification may list.
    pub max_files: u32,
    /// The most bytes all the files may hold together.
    pub max_total_size: u64,
    /// The longest pause: for a response head, and between two pieces of a body.
    pub idle_timeout: Duration,
    /// When the whole command must be done.
    pub deadline: Instant,
    /// The time the deadline allowed in all, for messages.
    pub total_time: Duration,
}

/// What a download reports as it goes, for standard output and standard error.
#[derive(Debug)]
pub enum Event<'a> {
    /// A temporary file or staging directory a killed run left, removed.
    StaleRemoved(&'a Path),
    /// The directory holds an interrupted publish of this identification, which this run
    /// redoes.
    RedoingInterruptedPublish,
    /// A file of the set, in place.
    Saved { path: &'a Path, bytes: u64 },
    /// An earlier download the new set does not keep, removed; `replaced_by` is the new file
    /// of the same kind, if any.
    Removed {
        path: &'a Path,
        replaced_by: Option<&'a Path>,
    },
}

/// Downloads every file `files` lists for `scan_ref` into `dir`, publishes them as one set,
/// and returns how many were saved; `on_event` hears of each step as it happens.
///
/// A new `dir` is created private to its owner (0700).
pub async fn download_all(
    client: &Client,
    scan_ref: &ScanRef,
    files: &FileUrls,
    dir: &Path,
    options: &DownloadOptions,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<usize, Failure> {
    let wanted = checked_urls(files, options)?;
    let kinds: Vec<CheckedKind> = wanted.iter().map(|(kind, _)| kind.clone()).collect();
    private_file::create_private_dir(dir)
        .map_err(|err| Failure::bad_input(format!("{}: {err}", dir.display())))?;
    let _lock = download_set::lock_directory(dir, "download")?;
    download_set::remove_stale_temporaries(dir, |path| on_event(Event::StaleRemoved(path)))?;
    let survey = download_set::survey(dir, &kinds)?;
    survey.check(dir, scan_ref, &kinds, options.force)?;
    if survey.interrupted_publish_of(scan_ref) {
        on_event(Event::RedoingInterruptedPublish);
    }

    // Dropped on every failure and when an interrupt cancels this future: the staging
    // directory goes with every file in it.
    let staging = Staging::create(dir)?;
    let progress = if std::io::stderr().is_terminal() {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    };
    let staged = fetch_all(client, &progress, staging.path(), &wanted, options).await?;
    let count = staged.len();
    let published = download_set::publish(dir, staging, scan_ref, &kinds, staged, options.force)?;
    for (path, bytes) in &published.saved {
        on_event(Event::Saved {
            path,
            bytes: *bytes,
        });
    }
    for (path, replaced_by) in &published.removed {
        on_event(Event::Removed {
            path,
            replaced_by: replaced_by.as_deref(),
        });
    }
    Ok(count)
}

/// The files `files` lists, each with its checked kind and URL, once their number is within
/// `--max-files`: checked before anything is fetched or created.
///
/// # Errors
/// An API failure for too many files, a kind that is not a plain name, or a URL refused.
pub fn checked_urls(
    files: &FileUrls,
    options: &DownloadOptions,
) -> Result<Vec<(CheckedKind, DownloadUrl)>, Failure> {
    let listed = file_urls(files).map_err(|err| Failure::new(FailureKind::Api, err.to_string()))?;
    if listed.len() > options.max_files as usize {
        return Err(Failure::new(
            FailureKind::Api,
            format!(
                "the API listed {} files for one identification, over the limit of {} (a real answer lists about ten); --max-files sets the limit",
                listed.len(),
                options.max_files
            ),
        ));
    }
    listed
        .into_iter()
        .map(|file| match DownloadUrl::parse(file.url) {
            Ok(url) => Ok((file.kind, url)),
            Err(err) => Err(Failure::new(
                FailureKind::Api,
                format!("{}: refusing the URL the API returned: {err}", file.kind),
            )),
        })
        .collect()
}

/// Streams every file of `wanted` into a new temporary file in the private directory `into`,
/// one after the other, within the caps of `options` (the total counted as bytes arrive).
/// Each is flushed to disk and named as it should be published (`FRONT.png`); nothing is
/// renamed. On failure, the files fetched so far are removed with their temporaries.
///
/// # Errors
/// The first failed download, named by its kind.
pub async fn fetch_all(
    client: &Client,
    progress: &MultiProgress,
    into: &Path,
    wanted: &[(CheckedKind, DownloadUrl)],
    options: &DownloadOptions,
) -> Result<Vec<Staged>, Failure> {
    let mut staged = Vec::with_capacity(wanted.len());
    let mut total = 0u64;
    for (kind, url) in wanted {
        let file = download_one(client, progress, into, kind, url, options, total).await?;
        total += file.bytes;
        staged.push(file);
    }
    Ok(staged)
}

/// Streams one file into the staging directory; `before` bytes of the set arrived already.
async fn download_one(
    client: &Client,
    progress: &MultiProgress,
    into: &Path,
    kind: &CheckedKind,
    url: &DownloadUrl,
    options: &DownloadOptions,
    before: u64,
) -> Result<Staged, Failure> {
    // What is left of the set's cap bounds this file when it is below the file's own cap, and
    // is then the cap a failure names.
    let left = options.max_total_size.saturating_sub(before);
    let total_binds = left < options.max_file_size;
    let failed = |err: DownloadError| {
        if total_binds && err.is_too_large() {
            total_failure(kind, &err, options.max_total_size)
        } else {
            download_failure(kind, &err, options)
        }
    };
    let remaining = options.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(failed(DownloadError::DeadlineExceeded {
            deadline: options.total_time,
            received: 0,
        }));
    }
    let limits = DownloadLimits::default()
        .with_max_bytes(options.max_file_size.min(left))
        .with_idle_timeout(options.idle_timeout)
        .with_deadline(remaining);
    let mut download = client.download_with(url, &limits).await.map_err(failed)?;
    let extension = extension_for(download.content_type()).unwrap_or(kind.default_extension());

    let io_failure =
        |path: &Path, err: std::io::Error| Failure::other(format!("{}: {err}", path.display()));
    let partial = private_file::create_partial(into, kind.as_str())?;
    let mut file = partial
        .as_file()
        .try_clone()
        .map(tokio::fs::File::from_std)
        .map_err(|err| io_failure(partial.path(), err))?;

    let bar = progress.add(match download.declared_length() {
        Some(length) => ProgressBar::new(length),
        None => ProgressBar::no_length(),
    });
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:12} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}")
    {
        bar.set_style(style);
    }
    bar.set_prefix(kind.to_string());
    let streamed = async {
        while let Some(chunk) = download.chunk().await.map_err(failed)? {
            file.write_all(&chunk)
                .await
                .map_err(|err| io_failure(partial.path(), err))?;
            bar.inc(chunk.len() as u64);
        }
        file.flush()
            .await
            .map_err(|err| io_failure(partial.path(), err))?;
        file.sync_all()
            .await
            .map_err(|err| io_failure(partial.path(), err))?;
        Ok::<_, Failure>(download.received())
    }
    .await;
    bar.finish_and_clear();
    let bytes = streamed?;
    drop(file);
    Ok(Staged {
        name: format!("{kind}.{extension}"),
        file: partial,
        bytes,
    })
}

/// The failure for a set whose files together pass `--max-total-size`.
fn total_failure(kind: &CheckedKind, err: &DownloadError, limit: u64) -> Failure {
    let detail = match err {
        DownloadError::DeclaredTooLarge { declared, .. } => {
            format!("the file server announced {declared} bytes, more than is left of")
        }
        _ => "the files together are larger than".to_owned(),
    };
    Failure::new(
        FailureKind::Api,
        format!(
            "{kind}: {detail} the limit of {limit} bytes on all the files of one identification; --max-total-size sets the limit"
        ),
    )
}

/// The extension the content type calls for, if it names a format we know.
fn extension_for(content_type: Option<&str>) -> Option<&'static str> {
    let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    Some(match essence.as_str() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "application/pdf" => "pdf",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        _ => return None,
    })
}

/// A failed download as the command reports it: the exit code of its class (README), the
/// kind, and what the user can do about it; a network failure gets the hint of its cause, as a
/// lookup's does ([`Cause::hint`]).
fn download_failure(kind: &CheckedKind, err: &DownloadError, options: &DownloadOptions) -> Failure {
    let with_hint = |text: String| match Cause::of_download(err) {
        Some(cause) => format!("{text}; {}", cause.hint(Destination::FileServer)),
        None => text,
    };
    match err {
        DownloadError::Status { status } if *status == http::StatusCode::FORBIDDEN => Failure::new(
            FailureKind::Api,
            format!(
                "{kind}: the file server refused the URL (403); it may have expired: look the files up again"
            ),
        ),
        DownloadError::DeclaredTooLarge { .. } | DownloadError::TooLarge { .. } => Failure::new(
            FailureKind::Api,
            format!("{kind}: {err}; --max-file-size sets the limit"),
        ),
        DownloadError::DeadlineExceeded { received, .. } => Failure::new(
            FailureKind::Network,
            with_hint(format!(
                "{kind}: the downloads did not finish within {:?} ({received} bytes of {kind} arrived)",
                options.total_time
            )),
        ),
        DownloadError::Status { .. }
        | DownloadError::LongerThanDeclared { .. }
        | DownloadError::Unframed => Failure::new(FailureKind::Api, format!("{kind}: {err}")),
        DownloadError::Request(_)
        | DownloadError::Truncated { .. }
        | DownloadError::Body { .. }
        | DownloadError::Stalled { .. } => {
            Failure::new(FailureKind::Network, with_hint(format!("{kind}: {err}")))
        }
        _ => Failure::other(format!("{kind}: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_follows_the_content_type_not_the_url() {
        assert_eq!(extension_for(Some("image/jpeg")), Some("jpg"));
        assert_eq!(extension_for(Some("Video/MP4; codecs=avc1")), Some("mp4"));
        assert_eq!(extension_for(Some("application/pdf")), Some("pdf"));
        assert_eq!(extension_for(Some("application/octet-stream")), None);
        assert_eq!(extension_for(None), None);
    }
}
