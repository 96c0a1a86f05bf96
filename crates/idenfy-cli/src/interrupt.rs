//! Ctrl-C (and SIGTERM) as a future that resolves when the user asks the run to stop.

use std::future::Future;
use std::io;
use std::pin::Pin;

/// Resolves on the first interrupt. The handler is installed when this is called, not when the
/// future is first polled, so that no interrupt between the two kills the process mid-line.
pub fn interrupted() -> io::Result<Pin<Box<dyn Future<Output = ()> + Send>>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(Box::pin(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }))
    }
    #[cfg(not(unix))]
    {
        Ok(Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
        }))
    }
}
