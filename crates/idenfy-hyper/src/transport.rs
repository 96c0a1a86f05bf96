//! [`Transport`] over hyper-util's pooled client, and the [`Timer`](idenfy_core::Timer) on
//! tokio's clock that goes with it.

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer as PoolTimer};
use idenfy_core::{EscapedControls, ResponseBodyLimit, Transport};
use tokio::sync::Notify;

use crate::proxy::{ProxyConnector, ProxyError, ProxyFailure};
use crate::tls::{Connector, connector};
use crate::{BuildError, Proxy, RootCertificates};

/// The most interim (`1xx`) responses accepted before the final one.
///
/// HTTP lets a server send any number of them, and hyper skips them without
/// limit, so a server that streams `100 Continue` for ever would keep a core
/// busy parsing them. A real server sends one or two (`100 Continue`,
/// `103 Early Hints`); past this many the connection is dropped with
/// [`HyperError::TooManyInterimResponses`].
pub const MAX_INTERIM_RESPONSES: u32 = 8;

/// The most body capacity reserved before any of the body has arrived. Beyond it
/// the buffer grows with what arrives: a `Content-Length` is a claim, and a
/// server that announces 4 MiB and sends nothing gets no 4 MiB of memory.
const INITIAL_BODY_CAPACITY: usize = 16 * 1024;

/// Connection settings of a [`HyperTransport`].
#[derive(Debug, Clone)]
pub(crate) struct ConnectionSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) pool_max_idle_per_host: usize,
    /// Whether the base URL needs TLS; without it, no TLS connector is set up (and no proxy
    /// is needed: plain HTTP goes to this machine only, which no proxy reaches).
    pub(crate) tls: bool,
    pub(crate) proxy: Proxy,
    pub(crate) roots: RootCertificates,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle_per_host: 32,
            tls: true,
            proxy: Proxy::from_env(),
            roots: RootCertificates::default(),
        }
    }
}

/// Sends lookups over pooled HTTP/1.1 keep-alive connections (hyper-util's
/// legacy client), with TLS from the enabled feature.
///
/// Reads response bodies frame by frame and stops as soon as the
/// [`ResponseBodyLimit`] is passed, so an endless body costs at most the limit.
#[derive(Clone, Debug)]
pub struct HyperTransport {
    pool: Pool,
}

/// The pooled client, with or without TLS.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Tls(PooledClient<Connector, Full<Bytes>>),
    /// For plain-HTTP base URLs only (the sandbox, a local test server).
    Plain(PooledClient<HttpConnector, Full<Bytes>>),
}

impl HyperTransport {
    /// A transport with the default connection settings (5 s connect timeout).
    ///
    /// # Errors
    /// [`BuildError::Tls`] when the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, BuildError> {
        Self::with_settings(&ConnectionSettings::default())
    }

    pub(crate) fn with_settings(settings: &ConnectionSettings) -> Result<Self, BuildError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(settings.connect_timeout));
        // Requests are small and latency-bound; Nagle's algorithm only delays them.
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        let mut builder = PooledClient::builder(TokioExecutor::new());
        builder
            .pool_timer(PoolTimer::new())
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host);
        let pool = if settings.tls {
            let routes = settings.proxy.routes()?;
            let inner = ProxyConnector::new(http, routes, settings.connect_timeout);
            Pool::Tls(builder.build(connector(inner, &settings.roots)?))
        } else {
            Pool::Plain(builder.build(http))
        };
        Ok(Self { pool })
    }

    /// The connection pool, shared with downloads so that they use the same connections, TLS
    /// and connect timeout as lookups.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// Why hyper could not deliver a complete response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HyperError {
    /// The TLS handshake failed: the server's certificate is not trusted (self-signed, expired,
    /// issued for another name) or the server does not speak TLS. The next attempt would meet
    /// the same server, so it is not retried ([`Transport::is_permanent`]).
    #[error(
        "the TLS handshake with the server failed (its certificate is not trusted, or it does not speak TLS): {}",
        InnermostCause(.0)
    )]
    TlsHandshake(#[source] hyper_util::client::legacy::Error),
    /// The proxy could not be reached, refused the tunnel, asked for credentials
    /// (`407 Proxy Authentication Required`) or did not answer in time. Its error names the
    /// proxy without its credentials. A 407 is not retried ([`Transport::is_permanent`]).
    #[error(transparent)]
    Proxy(ProxyError),
    /// Connecting, sending, or receiving the response head failed.
    #[error("{}", RequestFailureText(.0))]
    Request(#[source] hyper_util::client::legacy::Error),
    /// The connection failed while the body was being read.
    #[error("the connection failed while reading the response body: {0}")]
    Body(#[source] hyper::Error),
    /// The server sent more interim (`1xx`) responses than [`MAX_INTERIM_RESPONSES`]
    /// without a final one; the connection was dropped.
    #[error(
        "the server sent more than {limit} interim (1xx) responses without a final one; the connection was dropped"
    )]
    TooManyInterimResponses {
        /// The limit that was passed.
        limit: u32,
    },
}

impl HyperError {
    /// What a [`HyperError::Request`] failed at; `None` for the other kinds, which say it by
    /// their kind.
    pub fn request_failure(&self) -> Option<RequestFailure> {
        match self {
            HyperError::Request(error) => Some(RequestFailure::of(error)),
            _ => None,
        }
    }

    /// Whether the failure happened while connecting (nothing was sent).
    pub fn is_connect(&self) -> bool {
        match self {
            HyperError::TlsHandshake(_) | HyperError::Proxy(_) => true,
            HyperError::Request(error) => error.is_connect(),
            HyperError::Body(_) | HyperError::TooManyInterimResponses { .. } => false,
        }
    }

    /// The error of a request hyper could not complete: a TLS handshake failure, or another.
    pub(crate) fn of_request(error: hyper_util::client::legacy::Error) -> Self {
        if let Some(proxy) = causes(&error).find_map(|cause| cause.downcast_ref::<ProxyError>()) {
            HyperError::Proxy(proxy.clone())
        } else if is_tls_handshake_failure(&error) {
            HyperError::TlsHandshake(error)
        } else {
            HyperError::Request(error)
        }
    }
}

/// The chain of causes of `error`, itself first. An `io::Error` that wraps another error
/// displays it, yet its `source()` skips it (it returns that error's own source), so the walk
/// steps into it instead. A chain is a handful of links; the bound only keeps a strange one
/// from looping.
pub(crate) fn causes<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(
        Some(error),
        |&error: &&'a (dyn StdError + 'static)| match error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => error.source(),
        },
    )
    .take(32)
}

/// Whether connecting failed in the TLS handshake itself: the TLS library refused the server
/// (its certificate, or what it sent instead of TLS). A connection reset, closed or timed out
/// during the handshake is a connection failure like any other, and may pass on another try.
fn is_tls_handshake_failure(error: &hyper_util::client::legacy::Error) -> bool {
    if !error.is_connect() {
        return false;
    }
    let mut refused_by_tls = false;
    for cause in causes(error) {
        if cause.downcast_ref::<io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::TimedOut
            )
        }) {
            return false;
        }
        refused_by_tls |= is_tls_error(cause);
    }
    refused_by_tls
}

/// Displays the innermost cause of an error, escaped: hyper-util's own text says only
/// `client error (Connect)`, the innermost cause says why (`Connection refused`, the TLS
/// library's reason). It comes from the operating system and the TLS library, which may quote
/// what the server sent, so it is escaped for a terminal.
struct InnermostCause<'a>(&'a hyper_util::client::legacy::Error);

impl fmt::Display for InnermostCause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let innermost = causes(self.0)
            .map(|cause| cause.to_string())
            .filter(|text| !text.is_empty())
            .last()
            .unwrap_or_default();
        write!(f, "{}", EscapedControls(&innermost))
    }
}

/// What a [`HyperError::Request`] failed at, as far as hyper-util lets it be told: for a
/// message, or for a hint on what to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestFailure {
    /// The host refused the connection: nothing listens on that port.
    ConnectionRefused,
    /// The host name did not resolve.
    HostNotFound,
    /// The connection could not be made, for another reason.
    Connect,
    /// The connection was made, but sending the request or reading the response head failed.
    Exchange,
}

impl RequestFailure {
    fn of(error: &hyper_util::client::legacy::Error) -> Self {
        if !error.is_connect() {
            RequestFailure::Exchange
        } else if causes(error).any(|cause| {
            cause
                .downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionRefused)
        }) {
            RequestFailure::ConnectionRefused
        } else if causes(error).any(|cause| cause.to_string() == HYPER_UTIL_DNS_ERROR) {
            RequestFailure::HostNotFound
        } else {
            RequestFailure::Connect
        }
    }

    fn describe(self) -> &'static str {
        match self {
            RequestFailure::ConnectionRefused => "could not connect: connection refused",
            RequestFailure::HostNotFound => "could not resolve host",
            RequestFailure::Connect => "could not connect",
            RequestFailure::Exchange => "could not send the request or read the response head",
        }
    }
}

/// Displays a request failure as what went wrong (a connection refused, a host that did not
/// resolve, ...) and its innermost cause.
struct RequestFailureText<'a>(&'a hyper_util::client::legacy::Error);

impl fmt::Display for RequestFailureText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = RequestFailure::of(self.0).describe();
        write!(f, "{what}: {}", InnermostCause(self.0))
    }
}

/// What hyper-util's connector says of a host name that did not resolve. Its error type is not
/// public, so its text is what tells the failure apart.
const HYPER_UTIL_DNS_ERROR: &str = "dns error";

#[cfg(feature = "native-tls")]
fn is_tls_error(cause: &(dyn StdError + 'static)) -> bool {
    cause.is::<hyper_tls::native_tls::Error>()
}

#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
fn is_tls_error(cause: &(dyn StdError + 'static)) -> bool {
    cause.is::<rustls::Error>()
}

impl Transport for HyperTransport {
    type Error = HyperError;

    fn is_unsent(error: &HyperError) -> bool {
        error.is_connect()
    }

    fn is_permanent(error: &HyperError) -> bool {
        matches!(error, HyperError::TlsHandshake(_))
            || matches!(error, HyperError::Proxy(proxy) if proxy.failure() == ProxyFailure::AuthenticationRequired)
    }

    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HyperError> {
        let limit = ResponseBodyLimit::of(&request);
        let mut request = request.map(Full::new);
        let interim = InterimCount::attach(&mut request);
        let sending = async {
            match &self.pool {
                Pool::Tls(client) => client.request(request).await,
                Pool::Plain(client) => client.request(request).await,
            }
        };
        let response = interim
            .bound(sending)
            .await
            .ok_or(HyperError::TooManyInterimResponses {
                limit: MAX_INTERIM_RESPONSES,
            })?
            .map_err(HyperError::of_request)?;
        let (parts, mut body) = response.into_parts();
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|declared| declared > limit as u64) {
            // The core reports the declared size; dropping the body closes
            // the connection instead of downloading it.
            return Ok(Response::from_parts(parts, Bytes::new()));
        }
        let mut collected =
            BytesMut::with_capacity(declared.map_or(INITIAL_BODY_CAPACITY, |declared| {
                usize::try_from(declared).map_or(INITIAL_BODY_CAPACITY, |declared| {
                    declared.min(INITIAL_BODY_CAPACITY)
                })
            }));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(HyperError::Body)?;
            if let Ok(data) = frame.into_data() {
                collected.extend_from_slice(&data);
                if collected.len() > limit {
                    break;
                }
            }
        }
        Ok(Response::from_parts(parts, collected.freeze()))
    }
}

/// Counts the interim responses hyper reports for one request, and wakes the
/// request's sender once there are too many.
#[derive(Default)]
struct InterimCount {
    seen: AtomicU32,
    too_many: Notify,
}

impl InterimCount {
    /// Has hyper report every interim response to `request` to the returned count.
    fn attach<B>(request: &mut Request<B>) -> Arc<Self> {
        let count = Arc::new(Self::default());
        let reported = Arc::clone(&count);
        hyper::ext::on_informational(request, move |_| {
            if reported.seen.fetch_add(1, Ordering::Relaxed) >= MAX_INTERIM_RESPONSES {
                reported.too_many.notify_one();
            }
        });
        count
    }

    /// Runs `sending` until it completes (`Some`) or the count passes the limit
    /// (`None`); dropping the unfinished request closes its connection.
    async fn bound<F: Future>(&self, sending: F) -> Option<F::Output> {
        let mut sending = pin!(sending);
        let mut too_many = pin!(self.too_many.notified());
        poll_fn(|cx| {
            if let Poll::Ready(output) = sending.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            if too_many.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }
}

/// [`idenfy_core::Timer`] on `tokio::time::sleep`; needs a tokio runtime with the time driver.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl idenfy_core::Timer for TokioTimer {
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}
