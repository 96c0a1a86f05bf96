//! The response body: a whole buffer, or one of the broken bodies that faults call for, fed
//! through a channel by a task of its own.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::channel::Channel;
use http_body_util::{Either, Full};

/// How long a body that is about to fail waits first, so that what it has
/// sent reaches the socket before the connection is torn down.
const FLUSH_GRACE: Duration = Duration::from_millis(50);
/// Size of each chunk of an endless body.
const ENDLESS_CHUNK: usize = 16 * 1024;

/// A response body: a whole buffer, or one of the broken bodies that faults call for.
pub(crate) type SandboxBody = Either<Full<Bytes>, Channel<Bytes, Aborted>>;

/// The error a deliberately broken body reports to the server.
#[derive(Debug, thiserror::Error)]
#[error("body aborted on purpose (close-mid-body fault)")]
pub(crate) struct Aborted;

/// A complete body.
pub(crate) fn full(bytes: Bytes) -> SandboxBody {
    Either::Left(Full::new(bytes))
}

/// A body that sends `prefix` and then fails, so that the server drops the connection before
/// the announced `Content-Length` is reached.
pub(crate) fn abort_after(prefix: Bytes) -> SandboxBody {
    let (mut sender, body) = Channel::new(1);
    tokio::spawn(async move {
        if sender.send_data(prefix).await.is_ok() {
            tokio::time::sleep(FLUSH_GRACE).await;
            sender.abort(Aborted);
        }
    });
    Either::Right(body)
}

/// A JSON-looking body that never ends: its task stops when the connection drops the body.
pub(crate) fn endless() -> SandboxBody {
    let (mut sender, body) = Channel::new(1);
    tokio::spawn(async move {
        let padding = Bytes::from(vec![b'x'; ENDLESS_CHUNK]);
        let mut chunk = Bytes::from_static(b"{\"padding\":\"");
        while sender.send_data(chunk).await.is_ok() {
            chunk = padding.clone();
        }
    });
    Either::Right(body)
}
