//! `idenfy files SCAN_REF --download DIR`: every photo, video and other file of an
//! identification, streamed to disk with the client's own connections and limits.
//!
//! Each file is written to a new temporary file in `DIR` (created exclusively under a random
//! name, mode 0600, never through a link), and published under its final name only once it is
//! complete and as long as the server said: a cut, stalled, oversized or interrupted transfer
//! leaves nothing behind. Publishing never replaces a file, even one created meanwhile, unless
//! `--force` is given. Names come from the file's kind (`FRONT.png`), never from the URL, which
//! the server controls.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use idenfy_hyper::models::FileUrls;
use idenfy_hyper::{Client, DownloadError, DownloadLimits, DownloadUrl};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use crate::failure::{Failure, FailureKind};
use crate::file_kinds::{CheckedKind, file_urls};
use crate::private_file;

/// How the files are fetched and written.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// Replace existing files of the same kind.
    pub force: bool,
    /// The largest file accepted, in bytes.
    pub max_file_size: u64,
    /// The longest pause: for a response head, and between two pieces of a body.
    pub idle_timeout: Duration,
    /// When the whole command must be done.
    pub deadline: Instant,
    /// The time the deadline allowed in all, for messages.
    pub total_time: Duration,
}

/// A file saved to disk.
#[derive(Debug)]
pub struct Saved {
    pub path: PathBuf,
    pub bytes: u64,
    /// Files of the same kind under another extension that `--force` removed once this one was
    /// in place (`FRONT.jpg` when `FRONT.png` arrived).
    pub removed: Vec<PathBuf>,
}

/// Downloads every file `files` lists into `dir`, calling `on_saved` as soon as each one is in
/// place, and returns how many were saved.
///
/// Every URL and every kind is checked, and without `--force` every kind is checked to have no
/// file yet, before anything is fetched. A new `dir` is created private to its owner (0700).
pub async fn download_all(
    client: &Client,
    files: &FileUrls,
    dir: &Path,
    options: &DownloadOptions,
    mut on_saved: impl FnMut(&Saved),
) -> Result<usize, Failure> {
    let listed = file_urls(files).map_err(|err| Failure::new(FailureKind::Api, err.to_string()))?;
    let wanted: Vec<(CheckedKind, DownloadUrl)> = listed
        .into_iter()
        .map(|file| match DownloadUrl::parse(file.url) {
            Ok(url) => Ok((file.kind, url)),
            Err(err) => Err(Failure::new(
                FailureKind::Api,
                format!("{}: refusing the URL the API returned: {err}", file.kind),
            )),
        })
        .collect::<Result<_, Failure>>()?;
    create_private_dir(dir)
        .map_err(|err| Failure::bad_input(format!("{}: {err}", dir.display())))?;
    if !options.force {
        for (kind, _) in &wanted {
            if let Some(existing) = files_of_kind(dir, kind)?.into_iter().next() {
                return Err(private_file::exists(&existing));
            }
        }
    }

    let progress = if std::io::stderr().is_terminal() {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    };
    for (kind, url) in &wanted {
        on_saved(&download_one(client, &progress, dir, kind, url, options).await?);
    }
    Ok(wanted.len())
}

/// Creates `dir` and its missing parents, readable by their owner only; an existing directory
/// keeps its mode.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

async fn download_one(
    client: &Client,
    progress: &MultiProgress,
    dir: &Path,
    kind: &CheckedKind,
    url: &DownloadUrl,
    options: &DownloadOptions,
) -> Result<Saved, Failure> {
    let failed = |err: DownloadError| download_failure(kind, &err, options);
    let remaining = options.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(failed(DownloadError::DeadlineExceeded {
            deadline: options.total_time,
            received: 0,
        }));
    }
    let limits = DownloadLimits::default()
        .with_max_bytes(options.max_file_size)
        .with_idle_timeout(options.idle_timeout)
        .with_deadline(remaining);
    let mut download = client.download_with(url, &limits).await.map_err(failed)?;
    let extension = extension_for(download.content_type()).unwrap_or(kind.default_extension());
    let target = dir.join(format!("{kind}.{extension}"));
    if !options.force && target.symlink_metadata().is_ok() {
        return Err(private_file::exists(&target));
    }

    // Created exclusively (O_EXCL) under a random name, mode 0600; removed when dropped, which
    // is what happens on every failure and when an interrupt cancels this future.
    let io_failure =
        |path: &Path, err: std::io::Error| Failure::other(format!("{}: {err}", path.display()));
    let partial = private_file::create_partial(dir, &kind.to_string())?;
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

    private_file::persist(partial, &target, dir, options.force)?;
    let mut removed = Vec::new();
    if options.force {
        for stale in files_of_kind(dir, kind)? {
            if stale != target {
                std::fs::remove_file(&stale).map_err(|err| io_failure(&stale, err))?;
                removed.push(stale);
            }
        }
    }
    Ok(Saved {
        path: target,
        bytes,
        removed,
    })
}

/// The entries of `dir` named `KIND.<extension>` that are not directories (links included,
/// not followed).
fn files_of_kind(dir: &Path, kind: &CheckedKind) -> Result<Vec<PathBuf>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| Failure::bad_input(format!("{}: {err}", dir.display())))?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_kind = path.file_stem().is_some_and(|stem| stem == kind.as_str())
            && path.extension().is_some();
        if is_kind && entry.file_type().is_ok_and(|kind| !kind.is_dir()) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
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
/// kind, and what the user can do about it.
fn download_failure(kind: &CheckedKind, err: &DownloadError, options: &DownloadOptions) -> Failure {
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
            format!(
                "{kind}: the downloads did not finish within {:?} ({received} bytes of {kind} arrived); --deadline bounds the whole command",
                options.total_time
            ),
        ),
        DownloadError::Status { .. }
        | DownloadError::LongerThanDeclared { .. }
        | DownloadError::Unframed => Failure::new(FailureKind::Api, format!("{kind}: {err}")),
        DownloadError::Request(_)
        | DownloadError::Truncated { .. }
        | DownloadError::Body { .. }
        | DownloadError::Stalled { .. } => {
            Failure::new(FailureKind::Network, format!("{kind}: {err}"))
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
