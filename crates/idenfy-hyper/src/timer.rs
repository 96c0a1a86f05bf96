//! Waiting on tokio's clock.

use std::future::Future;
use std::time::Duration;

/// [`idenfy_core::Timer`] on `tokio::time::sleep`; needs a tokio runtime with the time driver.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl idenfy_core::Timer for TokioTimer {
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}
