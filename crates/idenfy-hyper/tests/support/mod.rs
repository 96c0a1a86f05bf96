//! What idenfy-hyper's tests share besides their scripted server (`idenfy-hostile`): a retry
//! policy fast enough for tests, and the customer's network (`network`).

pub mod network;

use std::time::Duration;

use idenfy_hyper::RetryPolicy;

/// Retries fast enough for tests: `max_attempts` attempts, 5 to 20 ms apart.
pub fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}
