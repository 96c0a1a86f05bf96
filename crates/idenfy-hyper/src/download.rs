//! Streaming file downloads (the URLs of `/files`) on the client's own connection pool, bounded
//! in size and in time.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, TRANSFER_ENCODING, USER_AGENT};
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body as _, Incoming};
use idenfy_core::DownloadUrl;
use tokio::time::Instant;

use crate::HyperTransport;
use crate::transport::{HyperError, Pool};

/// The default cap on one file's size: 1 GiB, far above any photo or video of an
/// identification, far below a full disk.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 1 << 30;

/// The default longest pause: for the response head, and between two pieces of the body.
pub const DEFAULT_DOWNLOAD_IDLE_TIMEOUT: Duration = idenfy_core::DEFAULT_ATTEMPT_TIMEOUT;

/// The default time limit of one whole download, from sending the request to the last byte.
pub const DEFAULT_DOWNLOAD_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// The bounds of a download: its size, its longest pause and its total time.
///
/// ```
/// use std::time::Duration;
/// use idenfy_hyper::DownloadLimits;
/// let limits = DownloadLimits::default()
///     .with_max_bytes(50 * 1024 * 1024)
///     .with_idle_timeout(Duration::from_secs(5))
///     .with_deadline(Duration::from_secs(120));
/// assert_eq!(limits.max_bytes(), 50 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadLimits {
    max_bytes: u64,
    idle_timeout: Duration,
    deadline: Duration,
}

impl Default for DownloadLimits {
    /// [`DEFAULT_MAX_DOWNLOAD_BYTES`], [`DEFAULT_DOWNLOAD_IDLE_TIMEOUT`],
    /// [`DEFAULT_DOWNLOAD_DEADLINE`].
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            idle_timeout: DEFAULT_DOWNLOAD_IDLE_TIMEOUT,
            deadline: DEFAULT_DOWNLOAD_DEADLINE,
        }
    }
}

impl DownloadLimits {
    /// The largest file accepted, in bytes. A larger announced `Content-Length` fails before
    /// the body is read; a body that grows past it fails as soon as it does.
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The longest wait for the response head, and for each piece of the body after it.
    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// The time limit of the whole download, from sending the request to the last byte.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The largest file accepted, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The longest pause.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The time limit of the whole download.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

/// Why a download failed. No message contains the URL's query string (a presigned URL's
/// signature is a credential) or anything from the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// An `https://` URL on a client built for a plain-HTTP base URL, which sets up no TLS.
    #[error(
        "this client has no TLS (its base URL is plain HTTP), so it cannot fetch an https:// file URL"
    )]
    NoTls,
    /// Connecting (the TLS handshake included), sending, or receiving the response head
    /// failed; the error says which, and its cause.
    #[error("could not fetch the file: {0}")]
    Request(#[source] HyperError),
    /// The file server answered something other than `200 OK`.
    #[error("the file server answered {status}")]
    Status {
        /// The status it answered.
        status: StatusCode,
    },
    /// The answer says neither how long its body is (`Content-Length`) nor where it ends
    /// (chunked encoding): only a closed connection would end it, and a connection cut halfway
    /// would look the same, so a short file could pass for a whole one. Nothing was read.
    #[error(
        "the file server sent no Content-Length and no chunked encoding, so a cut transfer could not be told from a whole file"
    )]
    Unframed,
    /// The announced `Content-Length` is over the limit; nothing was read.
    #[error("the file server announced {declared} bytes, over the limit of {limit} bytes")]
    DeclaredTooLarge {
        /// What `Content-Length` said.
        declared: u64,
        /// The limit.
        limit: u64,
    },
    /// The body grew past the limit.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// More bytes arrived than `Content-Length` announced.
    #[error("the file server sent more than the {declared} bytes it announced")]
    LongerThanDeclared {
        /// What `Content-Length` said.
        declared: u64,
    },
    /// The body ended (or the connection closed) before `Content-Length` bytes arrived.
    #[error("the transfer was cut: {received} of {declared} bytes arrived")]
    Truncated {
        /// What `Content-Length` said.
        declared: u64,
        /// What arrived.
        received: u64,
    },
    /// The connection failed while the body was being read.
    #[error("the transfer was cut after {received} bytes: {source}")]
    Body {
        /// What arrived before the failure.
        received: u64,
        /// What hyper said.
        #[source]
        source: hyper::Error,
    },
    /// Nothing arrived for the idle timeout.
    #[error("the download stalled: nothing arrived for {idle:?} (after {received} bytes)")]
    Stalled {
        /// The idle timeout.
        idle: Duration,
        /// What arrived before the pause.
        received: u64,
    },
    /// The whole download took longer than its deadline.
    #[error("the download did not finish within {deadline:?} ({received} bytes arrived)")]
    DeadlineExceeded {
        /// The deadline.
        deadline: Duration,
        /// What arrived in that time.
        received: u64,
    },
    /// The body was read after an earlier failure.
    #[error("the download failed earlier; its body cannot be read further")]
    AlreadyFailed,
}

impl DownloadError {
    /// Whether the failure is a time limit: a stall or the deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            DownloadError::Stalled { .. } | DownloadError::DeadlineExceeded { .. }
        )
    }

    /// Whether the file is over the size limit, announced or received.
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            DownloadError::DeclaredTooLarge { .. } | DownloadError::TooLarge { .. }
        )
    }
}

/// A file being downloaded: the response head has arrived with `200 OK` and a size within the
/// limit; [`Download::chunk`] reads the body.
///
/// Every [`Download::chunk`] is bounded by the idle timeout and the deadline, and the body's
/// length is checked against the limit and against `Content-Length` as it arrives: the last
/// `Ok(None)` means the file is complete. Dropping a `Download` closes its connection.
pub struct Download {
    body: Incoming,
    headers: HeaderMap,
    meter: Meter,
    idle_timeout: Duration,
    deadline: Duration,
    deadline_at: Instant,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Complete,
    Failed,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type())
            .field("declared_length", &self.meter.declared)
            .field("received", &self.meter.received)
            .field("limit", &self.meter.limit)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Content-Type`, when it is readable text.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
    }

    /// The length the server announced (`Content-Length`); `None` for a chunked body.
    pub fn declared_length(&self) -> Option<u64> {
        self.meter.declared
    }

    /// How many body bytes have arrived so far.
    pub fn received(&self) -> u64 {
        self.meter.received
    }

    /// The next piece of the body; `Ok(None)` once the whole file, as long as announced, has
    /// arrived.
    ///
    /// # Errors
    /// [`DownloadError`]: a stall, the deadline, the size limit, a body longer or shorter than
    /// announced, a failed connection. The download is over after an error.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, DownloadError> {
        match self.state {
            State::Reading => {}
            State::Complete => return Ok(None),
            State::Failed => return Err(DownloadError::AlreadyFailed),
        }
        let result = self.next_data().await;
        self.state = match &result {
            Ok(Some(_)) => State::Reading,
            Ok(None) => State::Complete,
            Err(_) => State::Failed,
        };
        result
    }

    async fn next_data(&mut self) -> Result<Option<Bytes>, DownloadError> {
        loop {
            let frame = match wait(
                self.idle_timeout,
                self.deadline,
                self.deadline_at,
                self.meter.received,
                self.body.frame(),
            )
            .await?
            {
                None => return self.meter.finish().map(|_| None),
                Some(Err(source)) => return Err(self.meter.failed(source)),
                Some(Ok(frame)) => frame,
            };
            // Trailers and empty frames carry no file bytes.
            if let Ok(data) = frame.into_data()
                && !data.is_empty()
            {
                self.meter.add(data.len() as u64)?;
                return Ok(Some(data));
            }
        }
    }
}

/// Waits for `future` until the idle timeout or the deadline, whichever comes first, and says
/// which one passed.
async fn wait<F: Future>(
    idle_timeout: Duration,
    deadline: Duration,
    deadline_at: Instant,
    received: u64,
    future: F,
) -> Result<F::Output, DownloadError> {
    let idle_at = Instant::now() + idle_timeout;
    let (until, passed) = if deadline_at <= idle_at {
        (
            deadline_at,
            DownloadError::DeadlineExceeded { deadline, received },
        )
    } else {
        (
            idle_at,
            DownloadError::Stalled {
                idle: idle_timeout,
                received,
            },
        )
    };
    tokio::time::timeout_at(until, future)
        .await
        .map_err(|_| passed)
}

/// Sends `GET url` on `transport`'s pool and waits for a `200 OK` head within `limits`.
pub(crate) async fn start(
    transport: &HyperTransport,
    url: &DownloadUrl,
    limits: &DownloadLimits,
    user_agent: &HeaderValue,
) -> Result<Download, DownloadError> {
    let deadline_at = Instant::now() + limits.deadline;
    // No credentials: a file URL is presigned, and the API secret is for the API only.
    let mut request = Request::new(Full::new(Bytes::new()));
    *request.uri_mut() = url.as_uri().clone();
    request.headers_mut().insert(USER_AGENT, user_agent.clone());
    let sending = match transport.pool() {
        Pool::Tls(client) => client.request(request),
        Pool::Plain(client) if !url.is_https() => client.request(request),
        // Never a plain-text request to an https:// URL: it would carry the signed URL in clear.
        Pool::Plain(_) => return Err(DownloadError::NoTls),
    };
    let response = wait(
        limits.idle_timeout,
        limits.deadline,
        deadline_at,
        0,
        sending,
    )
    .await?
    .map_err(|error| DownloadError::Request(HyperError::of_request(error)))?;
    if response.status() != StatusCode::OK {
        return Err(DownloadError::Status {
            status: response.status(),
        });
    }
    let (parts, body) = response.into_parts();
    let chunked = parts
        .headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .any(|value| {
            value
                .to_str()
                .is_ok_and(|value| value.to_ascii_lowercase().contains("chunked"))
        });
    if body.size_hint().exact().is_none() && !chunked {
        return Err(DownloadError::Unframed);
    }
    // The length hyper frames the body by, which is what `Content-Length` said when there is
    // one: the body cannot run past it, and ending before it is a cut.
    let meter = Meter::new(body.size_hint().exact(), limits.max_bytes)?;
    Ok(Download {
        body,
        headers: parts.headers,
        meter,
        idle_timeout: limits.idle_timeout,
        deadline: limits.deadline,
        deadline_at,
        state: State::Reading,
    })
}

/// Counts a body's bytes against the limit and the announced length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meter {
    declared: Option<u64>,
    limit: u64,
    received: u64,
}

impl Meter {
    fn new(declared: Option<u64>, limit: u64) -> Result<Self, DownloadError> {
        if let Some(declared) = declared
            && declared > limit
        {
            return Err(DownloadError::DeclaredTooLarge { declared, limit });
        }
        Ok(Self {
            declared,
            limit,
            received: 0,
        })
    }

    fn add(&mut self, bytes: u64) -> Result<(), DownloadError> {
        self.received = self.received.saturating_add(bytes);
        if self.received > self.limit {
            return Err(DownloadError::TooLarge { limit: self.limit });
        }
        match self.declared {
            Some(declared) if self.received > declared => {
                Err(DownloadError::LongerThanDeclared { declared })
            }
            _ => Ok(()),
        }
    }

    fn finish(&self) -> Result<u64, DownloadError> {
        match self.declared {
            Some(declared) if self.received != declared => Err(DownloadError::Truncated {
                declared,
                received: self.received,
            }),
            _ => Ok(self.received),
        }
    }

    /// The error for a connection that failed mid-body: a cut, when a length was announced.
    fn failed(&self, source: hyper::Error) -> DownloadError {
        match self.declared {
            Some(declared) if self.received < declared => DownloadError::Truncated {
                declared,
                received: self.received,
            },
            _ => DownloadError::Body {
                received: self.received,
                source,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announced_length_over_the_limit_fails_before_reading() {
        assert!(matches!(
            Meter::new(Some(101), 100),
            Err(DownloadError::DeclaredTooLarge {
                declared: 101,
                limit: 100
            })
        ));
        assert!(Meter::new(Some(100), 100).is_ok());
    }

    #[test]
    fn a_body_past_the_limit_fails_as_soon_as_it_passes() {
        let mut meter = Meter::new(None, 100).unwrap();
        meter.add(60).unwrap();
        meter.add(40).unwrap();
        assert!(matches!(
            meter.add(1),
            Err(DownloadError::TooLarge { limit: 100 })
        ));
    }

    #[test]
    fn a_body_longer_or_shorter_than_announced_fails() {
        let mut meter = Meter::new(Some(10), 100).unwrap();
        meter.add(8).unwrap();
        assert!(matches!(
            meter.finish(),
            Err(DownloadError::Truncated {
                declared: 10,
                received: 8
            })
        ));
        assert!(matches!(
            meter.add(3),
            Err(DownloadError::LongerThanDeclared { declared: 10 })
        ));
        let mut exact = Meter::new(Some(10), 100).unwrap();
        exact.add(10).unwrap();
        assert_eq!(exact.finish().unwrap(), 10);
        let mut chunked = Meter::new(None, 100).unwrap();
        chunked.add(7).unwrap();
        assert_eq!(chunked.finish().unwrap(), 7);
    }
}
