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

/// A response body.
#[derive(Debug)]
pub struct SandboxBody {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    /// Sends `prefix`, waits, then errors so the server drops the connection
    /// before the announced `Content-Length` is reached.
    Abort {
        prefix: Option<Bytes>,
        grace: Option<Pin<Box<Sleep>>>,
    },
    /// Sends `prefix`, then `filler` forever.
    Endless {
        prefix: Option<Bytes>,
        filler: Bytes,
    },
}

impl SandboxBody {
    /// A complete body.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self {
            kind: Kind::Full(Some(bytes.into())).normalise(),
        }
    }

    /// A body that sends `prefix` and then breaks the connection.
    pub fn abort_after(prefix: Bytes) -> Self {
        Self {
            kind: Kind::Abort {
                prefix: Some(prefix),
                grace: None,
            },
        }
    }

    /// A JSON-looking body that never ends.
    pub fn endless() -> Self {
        Self {
            kind: Kind::Endless {
                prefix: Some(Bytes::from_static(b"{\"padding\":\"")),
                filler: Bytes::from(vec![b'x'; ENDLESS_CHUNK]),
            },
        }
    }
}

impl Kind {
    fn normalise(self) -> Self {
        match self {
            Kind::Full(Some(b)) if b.is_empty() => Kind::Full(None),
            other => other,
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
        match &mut self.get_mut().kind {
            Kind::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Kind::Abort { prefix, grace } => {
                if let Some(prefix) = prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(prefix))));
                }
                let sleep = grace.get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_GRACE)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Aborted))),
                    Poll::Pending => Poll::Pending,
                }
            }
            Kind::Endless { prefix, filler } => {
                let chunk = prefix.take().unwrap_or_else(|| filler.clone());
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, Kind::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            _ => SizeHint::default(),
        }
    }
}
