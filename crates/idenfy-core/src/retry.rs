//! When to try a lookup again, and how long to wait: pure functions of their
//! inputs (no clock, no randomness of their own), so every rule is unit-tested.

use std::time::{Duration, SystemTime};

use http::{HeaderValue, StatusCode};

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
/// Retried: 429 (waiting as long as `Retry-After` says), 500, 502, 503, 504,
/// transport failures and attempt timeouts. Never retried: every other status,
/// including 400, 401, 403 and 404. Waits grow exponentially with full jitter
/// (a uniformly random delay between zero and the capped exponential bound),
/// so that many clients failing together do not retry together.
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
            AttemptOutcome::Status { status, .. } => {
                matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
            }
            AttemptOutcome::TransportFailure | AttemptOutcome::AttemptTimeout => true,
        }
    }

    /// The jittered wait before retry number `retry` (1 for the first retry).
    ///
    /// `random` is any uniformly distributed `u64`; the wait is uniform in
    /// `[0, min(max_backoff, initial_backoff * 2^(retry - 1))]`.
    pub fn backoff(&self, retry: u32, random: u64) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let bound = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let bound_nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        if bound_nanos == 0 {
            return Duration::ZERO;
        }
        // Multiply-shift maps `random` onto [0, bound] without modulo bias worth caring about.
        let nanos = ((u128::from(random) * (u128::from(bound_nanos) + 1)) >> 64) as u64;
        Duration::from_nanos(nanos)
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
        if attempts_made >= self.max_attempts {
            return RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted);
        }
        let delay = match outcome {
            AttemptOutcome::Status {
                retry_after: Some(retry_after),
                ..
            } => {
                if *retry_after > self.max_retry_after {
                    return RetryDecision::GiveUp(GiveUpReason::RetryAfterTooLong);
                }
                *retry_after
            }
            _ => self.backoff(attempts_made, random),
        };
        // Sleeping into the deadline would only turn the real error into a timeout.
        if delay >= remaining {
            return RetryDecision::GiveUp(GiveUpReason::DeadlineTooClose);
        }
        RetryDecision::RetryAfter(delay)
    }
}

/// Parses a `Retry-After` value: delay-seconds, or an HTTP date relative to `now`.
///
/// A date in the past means "now" (zero); an unparsable value is ignored.
pub fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
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
        for code in [400, 401, 403, 404, 405, 409, 422, 501] {
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
    fn backoff_bound_doubles_then_caps_and_jitter_spans_the_range() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(1000));
        // The largest random value reaches the bound; zero gives zero.
        assert_eq!(policy.backoff(1, u64::MAX), Duration::from_millis(100));
        assert_eq!(policy.backoff(2, u64::MAX), Duration::from_millis(200));
        assert_eq!(policy.backoff(4, u64::MAX), Duration::from_millis(800));
        assert_eq!(policy.backoff(5, u64::MAX), Duration::from_millis(1000));
        assert_eq!(policy.backoff(40, u64::MAX), Duration::from_millis(1000));
        assert_eq!(policy.backoff(3, 0), Duration::ZERO);
        let middle = policy.backoff(3, u64::MAX / 2);
        assert!(
            middle > Duration::from_millis(190) && middle < Duration::from_millis(210),
            "{middle:?}"
        );
    }

    #[test]
    fn retry_after_overrides_backoff_within_limits() {
        let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(10));
        let asked = |seconds| AttemptOutcome::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(seconds)),
        };
        assert_eq!(
            policy.decide(1, &asked(3), PLENTY, u64::MAX),
            RetryDecision::RetryAfter(Duration::from_secs(3))
        );
        assert_eq!(
            policy.decide(1, &asked(11), PLENTY, 0),
            RetryDecision::GiveUp(GiveUpReason::RetryAfterTooLong)
        );
        assert_eq!(
            policy.decide(1, &asked(3), Duration::from_secs(2), 0),
            RetryDecision::GiveUp(GiveUpReason::DeadlineTooClose)
        );
    }

    #[test]
    fn gives_up_when_the_wait_would_pass_the_deadline() {
        let policy = RetryPolicy::default().with_initial_backoff(Duration::from_secs(1));
        assert_eq!(
            policy.decide(1, &status(503), Duration::from_millis(500), u64::MAX),
            RetryDecision::GiveUp(GiveUpReason::DeadlineTooClose)
        );
    }

    #[test]
    fn parses_retry_after_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let parse = |text: &'static str| parse_retry_after(&HeaderValue::from_static(text), now);
        assert_eq!(parse("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:50:07 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse("Sunday, 06-Nov-94 08:49:47 GMT"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse("Sun Nov  6 08:49:57 1994"),
            Some(Duration::from_secs(20))
        );
        assert_eq!(parse("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse("soon"), None);
        assert_eq!(parse("-5"), None);
    }
}
