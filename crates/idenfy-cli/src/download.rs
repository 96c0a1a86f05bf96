//! `idenfy files SCAN_REF --download DIR`: every photo and video of an identification, streamed
//! to disk.
//!
//! A file is written under a temporary name and renamed once it is complete and as long as the
//! server said, so a cut transfer never leaves a partial file under the final name. Names come
//! from the file's kind (`FRONT.png`), never from the URL, which the server controls.

use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as PoolClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use idenfy_hyper::models::FileUrls;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncWriteExt;

use crate::bulk::sibling;
use crate::failure::{Failure, FailureKind};

/// A file saved to disk.
#[derive(Debug)]
pub struct Saved {
    pub path: PathBuf,
    pub bytes: u64,
}

/// The kinds of file, in the API's order, with the extension used when the server's content
/// type does not say better.
fn kinds(files: &FileUrls) -> [(&'static str, Option<&str>, &'static str); 6] {
    [
        ("FRONT", files.front.as_deref(), "png"),
        ("BACK", files.back.as_deref(), "png"),
        ("FACE", files.face.as_deref(), "png"),
        ("FRONT_VIDEO", files.front_video.as_deref(), "mp4"),
        ("BACK_VIDEO", files.back_video.as_deref(), "mp4"),
        ("FACE_VIDEO", files.face_video.as_deref(), "mp4"),
    ]
}

type HttpsClient = PoolClient<hyper_tls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Downloads every file `files` has a URL for into `dir`.
///
/// `timeout` bounds the connection, the wait for the response headers, and every pause in the
/// body: a large video may take long in all, but never stall.
pub async fn download_all(
    files: &FileUrls,
    dir: &Path,
    force: bool,
    timeout: Duration,
) -> Result<Vec<Saved>, Failure> {
    let wanted: Vec<(&'static str, Uri, &'static str)> = kinds(files)
        .into_iter()
        .filter_map(|(kind, url, extension)| Some((kind, url?, extension)))
        .map(|(kind, url, extension)| Ok((kind, download_uri(kind, url)?, extension)))
        .collect::<Result<_, Failure>>()?;
    std::fs::create_dir_all(dir)
        .map_err(|err| Failure::bad_input(format!("{}: {err}", dir.display())))?;
    if !force {
        for (kind, _, _) in &wanted {
            if let Some(existing) = existing_file_of_kind(dir, kind)? {
                return Err(Failure::bad_input(format!(
                    "{} exists; pass --force to replace it",
                    existing.display()
                )));
            }
        }
    }

    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    connector.set_connect_timeout(Some(timeout));
    let tls = hyper_tls::native_tls::TlsConnector::new()
        .map_err(|err| Failure::other(format!("TLS could not be set up: {err}")))?;
    let client: HttpsClient = PoolClient::builder(TokioExecutor::new())
        .build(hyper_tls::HttpsConnector::from((connector, tls.into())));

    let progress = if std::io::stderr().is_terminal() {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    };
    let mut saved = Vec::new();
    for (kind, uri, extension) in wanted {
        let file = download_one(
            &client, &progress, dir, kind, uri, extension, force, timeout,
        )
        .await?;
        saved.push(file);
    }
    Ok(saved)
}

/// The URL of a file, if it may be fetched: over HTTPS, or plain HTTP to this machine only (the
/// sandbox). A presigned URL grants access to personal data; it does not cross a network in clear.
fn download_uri(kind: &str, url: &str) -> Result<Uri, Failure> {
    let uri: Uri = url.parse().map_err(|_| {
        Failure::new(
            FailureKind::Api,
            format!("the {kind} URL the API returned is not a URL"),
        )
    })?;
    let loopback = uri.host().is_some_and(|host| {
        host == "localhost"
            || host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if loopback => Ok(uri),
        _ => Err(Failure::new(
            FailureKind::Api,
            format!(
                "refusing to download {kind} from a URL that is neither HTTPS nor on this machine"
            ),
        )),
    }
}

/// A file in `dir` named `kind.<anything>`.
fn existing_file_of_kind(dir: &Path, kind: &str) -> Result<Option<PathBuf>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| Failure::bad_input(format!("{}: {err}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_stem().is_some_and(|stem| stem == kind) && path.is_file() {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// The extension the content type calls for, or the kind's usual one.
fn extension_for(content_type: Option<&str>, fallback: &'static str) -> &'static str {
    let essence = content_type
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("image/png") => "png",
        Some("image/jpeg") => "jpg",
        Some("image/webp") => "webp",
        Some("video/mp4") => "mp4",
        Some("video/webm") => "webm",
        Some("video/quicktime") => "mov",
        _ => fallback,
    }
}

#[allow(clippy::too_many_arguments)]
async fn download_one(
    client: &HttpsClient,
    progress: &MultiProgress,
    dir: &Path,
    kind: &'static str,
    uri: Uri,
    fallback_extension: &'static str,
    force: bool,
    timeout: Duration,
) -> Result<Saved, Failure> {
    let network =
        |message: String| Failure::new(FailureKind::Network, format!("{kind}: {message}"));
    let request = Request::get(uri)
        .body(Empty::<Bytes>::new())
        .map_err(|err| Failure::other(format!("{kind}: {err}")))?;
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| network(format!("no response within {timeout:?}")))?
        .map_err(|err| network(format!("the download failed: {err}")))?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::FORBIDDEN => {
            return Err(Failure::new(
                FailureKind::Api,
                format!(
                    "{kind}: the file server refused the URL (403); it may have expired: look the files up again"
                ),
            ));
        }
        status => {
            return Err(Failure::new(
                FailureKind::Api,
                format!("{kind}: the file server answered {status}"),
            ));
        }
    }
    let expected: Option<u64> = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let extension = extension_for(content_type, fallback_extension);
    let target = dir.join(format!("{kind}.{extension}"));
    if !force && target.exists() {
        return Err(Failure::bad_input(format!(
            "{} exists; pass --force to replace it",
            target.display()
        )));
    }
    let partial = sibling(&dir.join(format!(".{kind}.{extension}")), ".part");

    let bar = progress.add(match expected {
        Some(length) => ProgressBar::new(length),
        None => ProgressBar::no_length(),
    });
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:12} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}")
    {
        bar.set_style(style);
    }
    bar.set_prefix(kind);

    let written = stream_to_file(response.into_body(), &partial, &bar, timeout).await;
    let outcome = match written {
        Ok(bytes) if expected.is_some_and(|expected| expected != bytes) => Err(network(format!(
            "the transfer was cut: {bytes} of {} bytes arrived",
            expected.unwrap_or_default()
        ))),
        Ok(bytes) => std::fs::rename(&partial, &target)
            .map(|()| Saved {
                path: target,
                bytes,
            })
            .map_err(|err| Failure::other(format!("{}: {err}", partial.display()))),
        Err(failure) => Err(failure),
    };
    if outcome.is_err() {
        // Nothing partial stays behind, under any name.
        let _ = std::fs::remove_file(&partial);
    }
    bar.finish_and_clear();
    outcome
}

/// Writes the body to `path` as it arrives, and returns how many bytes were written.
async fn stream_to_file(
    mut body: hyper::body::Incoming,
    path: &Path,
    bar: &ProgressBar,
    idle_timeout: Duration,
) -> Result<u64, Failure> {
    let io_failure = |err: std::io::Error| Failure::other(format!("{}: {err}", path.display()));
    let mut file = tokio::fs::File::create(path).await.map_err(io_failure)?;
    let mut written = 0u64;
    loop {
        let frame = tokio::time::timeout(idle_timeout, body.frame())
            .await
            .map_err(|_| {
                Failure::new(
                    FailureKind::Network,
                    format!("the download stalled for {idle_timeout:?}"),
                )
            })?;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|err| {
            Failure::new(FailureKind::Network, format!("the transfer was cut: {err}"))
        })?;
        if let Ok(data) = frame.into_data() {
            file.write_all(&data).await.map_err(io_failure)?;
            written += data.len() as u64;
            bar.inc(data.len() as u64);
        }
    }
    file.flush().await.map_err(io_failure)?;
    file.sync_all().await.map_err(io_failure)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_go_over_https_or_stay_on_this_machine() {
        assert!(download_uri("FRONT", "https://files.example/a.png?sig=1").is_ok());
        assert!(download_uri("FRONT", "http://127.0.0.1:8080/f/FRONT.png").is_ok());
        assert!(download_uri("FRONT", "http://[::1]:8080/f").is_ok());
        assert!(download_uri("FRONT", "http://files.example/a.png").is_err());
        assert!(download_uri("FRONT", "ftp://127.0.0.1/a").is_err());
    }

    #[test]
    fn the_extension_follows_the_content_type_not_the_url() {
        assert_eq!(extension_for(Some("image/jpeg"), "png"), "jpg");
        assert_eq!(extension_for(Some("video/mp4; codecs=avc1"), "png"), "mp4");
        assert_eq!(
            extension_for(Some("application/octet-stream"), "png"),
            "png"
        );
        assert_eq!(extension_for(None, "mp4"), "mp4");
    }
}
