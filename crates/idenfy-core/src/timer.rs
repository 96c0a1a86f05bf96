//! Waiting, supplied by whoever owns the async runtime.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

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
