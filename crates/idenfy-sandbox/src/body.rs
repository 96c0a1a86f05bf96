//! The response body type: a whole buffer, or one of the broken bodies that
//! faults call for.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// How long a body that is about to fail waits first, so that what it has
/// sent reaches the socket before the connection is torn down.
const FLUSH_GRACE: Duration = Duration::from_millis(50);
/// Size of each chunk of an endless body.
const ENDLESS_CHUNK: usize = 16 * 1024;

/// A response body: a whole buffer, or one of the broken bodies that faults call for.
#[derive(Debug)]
pub struct SandboxBody {
    /// Sent first; `None` once sent, or for an empty body.
    prefix: Option<Bytes>,
    then: Then,
}

/// What comes after the prefix.
#[derive(Debug)]
enum Then {
    End,
    /// An error after a grace period, so that the server drops the connection before the
    /// announced `Content-Length` is reached.
    Abort(Option<Pin<Box<Sleep>>>),
    /// This chunk, forever.
    Endless(Bytes),
}

impl SandboxBody {
    /// A complete body.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let prefix = Some(bytes.into()).filter(|bytes| !bytes.is_empty());
        Self {
            prefix,
            then: Then::End,
        }
    }

    /// A body that sends `prefix` and then breaks the connection.
    pub fn abort_after(prefix: Bytes) -> Self {
        let then = Then::Abort(None);
        Self {
            prefix: Some(prefix),
            then,
        }
    }

    /// A JSON-looking body that never ends.
    pub fn endless() -> Self {
        let then = Then::Endless(Bytes::from(vec![b'x'; ENDLESS_CHUNK]));
        Self {
            prefix: Some(Bytes::from_static(b"{\"padding\":\"")),
            then,
        }
    }
}

/// The error a deliberately broken body reports to the server.
#[derive(Debug, thiserror::Error)]
#[error("body aborted on purpose (close-mid-body fault)")]
pub struct Aborted;

impl Body for SandboxBody {
    type Data = Bytes;
    type Error = Aborted;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Aborted>>> {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        match &mut this.then {
            Then::End => Poll::Ready(None),
            Then::Abort(grace) => {
                let sleep = grace.get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_GRACE)));
                sleep.as_mut().poll(cx).map(|()| Some(Err(Aborted)))
            }
            Then::Endless(chunk) => Poll::Ready(Some(Ok(Frame::data(chunk.clone())))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && matches!(self.then, Then::End)
    }

    fn size_hint(&self) -> SizeHint {
        match self.then {
            Then::End => SizeHint::with_exact(self.prefix.as_ref().map_or(0, |d| d.len() as u64)),
            _ => SizeHint::default(),
        }
    }
}
