//! When to try a lookup again, and how long to wait: pure functions of their
//! inputs (no clock, no randomness of their own), so every rule is unit-tested.

use std::time::Duration;

use http::StatusCode;

/// How a failed attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// A complete response with this status; `retry_after` is the parsed
    /// `Retry-After` header, if any.
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// How long the server asked to wait.
        retry_after: Option<Duration>,
    },
    /// The transport failed (connection refused or reset, TLS, truncated response).
    TransportFailure,
    /// The attempt ran out of time.
    AttemptTimeout,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Return the error.
    GiveUp(GiveUpReason),
}

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// The failure will not change by retrying (400, 401, 403, 404, decode errors, ...).
    NotRetryable,
    /// The maximum number of attempts was reached.
    AttemptsExhausted,
    /// Waiting would pass the overall deadline.
    DeadlineTooClose,
    /// The server asked to wait longer than the policy accepts.
    RetryAfterTooLong,
}

/// Retry rules for lookups, which are idempotent reads.
///
/// Retried: the statuses [`is_transient`] names (429, 500, 502, 503, 504),
/// transport failures and attempt timeouts. Never retried: every other status,
/// including 400, 401, 403, 404, 501 and 505.
///
/// Waits grow exponentially with "equal jitter": the bound doubles from
/// `initial_backoff` up to `max_backoff`, and each wait is uniformly random
/// between half the bound and the bound. The random half keeps many clients
/// failing together from retrying together; the fixed half keeps a run of
/// unlucky draws from retrying almost at once, so a failing server sees at
/// most a few requests a second from one call whatever the dice say.
///
/// A `Retry-After` (on 429 and 503) is a floor, never a shortcut: the wait is
/// the longer of what the server asked and the computed backoff, so
/// `Retry-After: 0` or a date in the past cannot make the client hammer a
/// server. A `Retry-After` longer than `max_retry_after` ends the call.
///
/// ```
/// use std::time::Duration;
/// let policy = idenfy_core::RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_initial_backoff(Duration::from_millis(100))
///     .with_max_backoff(Duration::from_secs(2));
/// assert_eq!(policy.max_attempts(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff bound from 200 ms doubling up to 5 s, and
    /// `Retry-After` honoured up to 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that makes exactly one attempt.
    pub fn no_retries() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Total attempts, the first included (at least 1).
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Upper bound of the first wait; each later bound doubles.
    pub fn with_initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// Cap on the bound of any wait.
    pub fn with_max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// The longest `Retry-After` honoured; a longer one ends the call with the 429.
    pub fn with_max_retry_after(mut self, max_retry_after: Duration) -> Self {
        self.max_retry_after = max_retry_after;
        self
    }

    /// Total attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether an outcome may succeed when tried again.
    pub fn is_retryable(outcome: &AttemptOutcome) -> bool {
        match outcome {
            AttemptOutcome::Status { status, .. } => is_transient(*status),
            AttemptOutcome::TransportFailure | AttemptOutcome::AttemptTimeout => true,
        }
    }

    /// The jittered wait before retry number `retry` (1 for the first retry).
    ///
    /// `random` is any uniformly distributed `u64`; with
    /// `bound = min(max_backoff, initial_backoff * 2^(retry - 1))`, the wait is
    /// uniform in `[bound / 2, bound]` (equal jitter).
    pub fn backoff(&self, retry: u32, random: u64) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let bound = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let bound_nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        let floor = bound_nanos / 2;
        let spread = bound_nanos - floor;
        // Multiply-shift maps `random` onto [0, spread] without modulo bias worth caring about.
        let jitter = ((u128::from(random) * (u128::from(spread) + 1)) >> 64) as u64;
        Duration::from_nanos(floor + jitter)
    }

    /// Decides what follows a failed attempt.
    ///
    /// `attempts_made` counts the attempt that just failed; `remaining` is the
    /// time left before the overall deadline; `random` feeds the jitter.
    pub fn decide(
        &self,
        attempts_made: u32,
        outcome: &AttemptOutcome,
        remaining: Duration,
        random: u64,
    ) -> RetryDecision {
        if !Self::is_retryable(outcome) {
            return RetryDecision::GiveUp(GiveUpReason::NotRetryable);
        }
        self.decide_retryable(attempts_made, outcome, remaining, random)
    }

    /// [`decide`](Self::decide) for an outcome the caller has already found retryable by its
    /// own rules (a deletion's, see [`deletion_retryable`](crate::deletion_retryable)): the
    /// attempts, backoff, `Retry-After` and deadline rules still apply.
    pub fn decide_retryable(
        &self,
        attempts_made: u32,
        outcome: &AttemptOutcome,
        remaining: Duration,
        random: u64,
    ) -> RetryDecision {
        if attempts_made >= self.max_attempts {
            return RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted);
        }
        let backoff = self.backoff(attempts_made, random);
        let delay = match outcome {
            AttemptOutcome::Status {
                retry_after: Some(retry_after),
                ..
            } => {
                if *retry_after > self.max_retry_after {
                    return RetryDecision::GiveUp(GiveUpReason::RetryAfterTooLong);
                }
                // A floor: the server may slow the client down, never speed it up.
                (*retry_after).max(backoff)
            }
            _ => backoff,
        };
        // Sleeping into the deadline would only turn the real error into a timeout.
        if delay >= remaining {
            return RetryDecision::GiveUp(GiveUpReason::DeadlineTooClose);
        }
        RetryDecision::RetryAfter(delay)
    }
}

/// Whether a response with this status may succeed when the same lookup is sent
/// again: 429 (rate limited), 500, 502, 503 and 504. The client retries exactly
/// these, and a tool that reports "still failing after the retries" should ask
/// this function, not keep a list of its own. 501 and 505 say the server will
/// not do what was asked at all, so they are not transient.
pub fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> AttemptOutcome {
        AttemptOutcome::Status {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: None,
        }
    }

    const PLENTY: Duration = Duration::from_secs(300);

    #[test]
    fn retries_429_and_gateway_errors_and_transport_failures() {
        let policy = RetryPolicy::default();
        for outcome in [
            status(429),
            status(500),
            status(502),
            status(503),
            status(504),
            AttemptOutcome::TransportFailure,
            AttemptOutcome::AttemptTimeout,
        ] {
            assert!(
                matches!(
                    policy.decide(1, &outcome, PLENTY, 0),
                    RetryDecision::RetryAfter(_)
                ),
                "{outcome:?} should be retried"
            );
        }
    }

    #[test]
    fn never_retries_client_errors() {
        let policy = RetryPolicy::default();
        for code in [400, 401, 403, 404, 405, 409, 422, 501, 505] {
            assert_eq!(
                policy.decide(1, &status(code), PLENTY, 0),
                RetryDecision::GiveUp(GiveUpReason::NotRetryable),
                "{code} must not be retried"
            );
        }
    }

    #[test]
    fn stops_after_max_attempts() {
        let policy = RetryPolicy::default().with_max_attempts(3);
        assert!(matches!(
            policy.decide(2, &status(503), PLENTY, 0),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            policy.decide(3, &status(503), PLENTY, 0),
            RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted)
        );
        assert_eq!(
            RetryPolicy::no_retries().decide(1, &status(503), PLENTY, 0),
            RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted)
        );
    }

    #[test]
    fn backoff_bound_doubles_then_caps_and_jitter_spans_its_upper_half() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(1000));
        // The largest random value reaches the bound; zero gives half of it.
        assert_eq!(policy.backoff(1, u64::MAX), Duration::from_millis(100));
        assert_eq!(policy.backoff(2, u64::MAX), Duration::from_millis(200));
        assert_eq!(policy.backoff(4, u64::MAX), Duration::from_millis(800));
        assert_eq!(policy.backoff(5, u64::MAX), Duration::from_millis(1000));
        assert_eq!(policy.backoff(40, u64::MAX), Duration::from_millis(1000));
        assert_eq!(policy.backoff(1, 0), Duration::from_millis(50));
        assert_eq!(policy.backoff(3, 0), Duration::from_millis(200));
        assert_eq!(policy.backoff(40, 0), Duration::from_millis(500));
        let middle = policy.backoff(3, u64::MAX / 2);
        assert!(
            middle > Duration::from_millis(290) && middle < Duration::from_millis(310),
            "{middle:?}"
        );
    }

    #[test]
    fn no_draw_of_the_dice_retries_at_once() {
        let policy = RetryPolicy::default();
        for random in [0, 1, u64::MAX / 3, u64::MAX] {
            let wait = policy.backoff(1, random);
            assert!(wait >= Duration::from_millis(100), "{random}: {wait:?}");
        }
    }

    #[test]
    fn retry_after_is_a_floor_above_the_backoff_within_limits() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(400))
            .with_max_retry_after(Duration::from_secs(10));
        let asked = |retry_after: Duration| AttemptOutcome::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(retry_after),
        };
        assert_eq!(
            policy.decide(1, &asked(Duration::from_secs(3)), PLENTY, u64::MAX),
            RetryDecision::RetryAfter(Duration::from_secs(3))
        );
        // Zero (or a date in the past) does not remove the backoff.
        assert_eq!(
            policy.decide(1, &asked(Duration::ZERO), PLENTY, 0),
            RetryDecision::RetryAfter(Duration::from_millis(200))
        );
        assert_eq!(
            policy.decide(1, &asked(Duration::from_millis(250)), PLENTY, u64::MAX),
            RetryDecision::RetryAfter(Duration::from_millis(400))
        );
        assert_eq!(
            policy.decide(1, &asked(Duration::from_secs(11)), PLENTY, 0),
            RetryDecision::GiveUp(GiveUpReason::RetryAfterTooLong)
        );
        assert_eq!(
            policy.decide(1, &asked(Duration::from_secs(3)), Duration::from_secs(2), 0),
            RetryDecision::GiveUp(GiveUpReason::DeadlineTooClose)
        );
    }

    #[test]
    fn transient_statuses_are_exactly_the_retried_ones() {
        for code in 100..600 {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(
                is_transient(status),
                RetryPolicy::is_retryable(&AttemptOutcome::Status {
                    status,
                    retry_after: None
                }),
                "{code}"
            );
            assert_eq!(
                is_transient(status),
                matches!(code, 429 | 500 | 502 | 503 | 504),
                "{code}"
            );
        }
    }

    #[test]
    fn gives_up_when_the_wait_would_pass_the_deadline() {
        let policy = RetryPolicy::default().with_initial_backoff(Duration::from_secs(1));
        assert_eq!(
            policy.decide(1, &status(503), Duration::from_millis(500), u64::MAX),
            RetryDecision::GiveUp(GiveUpReason::DeadlineTooClose)
        );
    }
}
