//! The two seams where IO happens, both supplied by whoever owns the IO: sending a request and
//! reading its response ([`Transport`]), and waiting ([`Timer`]); and how the client uses them
//! for one attempt, raced against its time limit.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};

use crate::response::DEFAULT_MAX_BODY_BYTES;

/// Sends one HTTP request and returns the complete response.
///
/// Implement it for any HTTP stack; [`Client`](crate::Client) adds
/// validation, retries, timeouts and limits on top, identically for all of them.
/// Closures `Fn(Request<Bytes>) -> impl Future<Output = Result<Response<Bytes>, E>>`
/// implement it already.
///
/// # Body limit
///
/// Every request from [`Client`](crate::Client) carries a [`ResponseBodyLimit`]
/// in its extensions. A transport should stop reading a body as soon as it
/// holds more than that many bytes, and return what it has read: the client
/// then reports [`Error::BodyTooLarge`](crate::Error::BodyTooLarge) without
/// downloading the rest. A response whose `Content-Length` is over the limit
/// may be returned with an empty body. A transport that ignores the limit
/// still gets the error, after reading the whole body.
///
/// # Errors
///
/// Any failure to obtain a complete response is the transport's own error;
/// the client treats it as a connection failure and retries it, unless
/// [`Transport::is_permanent`] says that trying again cannot help. Time limits
/// are enforced by the client, so a transport needs no timeouts of its own
/// (a connect timeout is still useful).
pub trait Transport: Send + Sync {
    /// The transport's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends `request` and reads the whole response body (up to the limit).
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, Self::Error>> + Send;

    /// Whether `error` certainly happened before any of the request was sent (the connection
    /// could not be made). The client retries a deletion only then; the default, `false`,
    /// treats every transport failure as one whose request may have arrived.
    fn is_unsent(error: &Self::Error) -> bool {
        let _ = error;
        false
    }

    /// Whether trying again cannot mend `error`: a server certificate that is not trusted will
    /// not be trusted on the next attempt either. The client then gives up at once, a lookup
    /// as well as a deletion; the default, `false`, retries every transport failure.
    fn is_permanent(error: &Self::Error) -> bool {
        let _ = error;
        false
    }
}

impl<F, Fut, E> Transport for F
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Response<Bytes>, E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = E;

    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, Self::Error>> + Send {
        self(request)
    }
}

/// The most response body bytes the caller will accept, passed to the
/// transport in the request's extensions.
///
/// ```
/// use idenfy_core::ResponseBodyLimit;
/// let mut request = http::Request::new(bytes::Bytes::new());
/// assert_eq!(ResponseBodyLimit::of(&request), idenfy_core::DEFAULT_MAX_BODY_BYTES);
/// request.extensions_mut().insert(ResponseBodyLimit(1024));
/// assert_eq!(ResponseBodyLimit::of(&request), 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseBodyLimit(pub usize);

impl ResponseBodyLimit {
    /// The limit attached to `request`, or [`DEFAULT_MAX_BODY_BYTES`].
    pub fn of<B>(request: &Request<B>) -> usize {
        request
            .extensions()
            .get::<ResponseBodyLimit>()
            .map_or(DEFAULT_MAX_BODY_BYTES, |limit| limit.0)
    }
}

/// Sleeps for a while; the client uses it for per-attempt timeouts, the
/// overall deadline and the waits between retries.
///
/// The core has no runtime, so the transport's crate (or the caller) provides
/// one: with tokio, `|duration| tokio::time::sleep(duration)` is a `Timer`.
pub trait Timer: Send + Sync {
    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

impl<F, Fut> Timer for F
where
    F: Fn(Duration) -> Fut + Send + Sync,
    Fut: Future<Output = ()> + Send,
{
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        self(duration)
    }
}

/// Runs `work` until it completes or `expiry` fires first (`None`).
pub(crate) async fn race_with<F: Future>(
    expiry: impl Future<Output = ()>,
    work: F,
) -> Option<F::Output> {
    let mut work = pin!(work);
    let mut expiry = pin!(expiry);
    poll_fn(|cx| {
        // Work first: a response that is ready when the timer fires still counts.
        if let Poll::Ready(output) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if expiry.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}
