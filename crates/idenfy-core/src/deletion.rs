//! Deleting an identification's personal data: what an answer means, and which failures may
//! be tried again.
//!
//! A deletion is not a read. Sending it twice is harmless only when the first one certainly
//! did not arrive; when it may have arrived, a second answer of "not found" is ambiguous (was
//! it this request that deleted the data, or was the scanRef never there?). So:
//!
//! - retried, because the request cannot have reached the API: a connection that could not
//!   be made, a 429, a 503 with `Retry-After` (the API or the proxy in front of it turned the
//!   request away and said when to come back);
//! - not retried: every other status (500, 502, 504 included: the server may have acted), a
//!   connection lost after the request was sent, a timeout. A server error and the last two
//!   leave the outcome unknown, and the failure says so;
//! - a 404 counts as "already deleted" only on a call made because an earlier attempt's
//!   outcome is unknown ([`Client::delete_after_unknown`](crate::Client::delete_after_unknown)).

use http::{Response, StatusCode};

use crate::credential_mask::CredentialMask;
use crate::error::Error;
use crate::response::retry_after_of;
use crate::response::{failure_of, looks_like_json, unexpected};
use crate::retry::AttemptOutcome;

/// A deletion the API confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deletion {
    /// How the deletion is known to be done.
    pub confirmation: DeletionConfirmation,
    /// How many attempts the call took; more than one means it was retried.
    pub attempts: u32,
}

/// How a deletion is known to be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeletionConfirmation {
    /// The API answered 200: the data is deleted.
    Deleted,
    /// An earlier attempt's outcome was unknown, and the API now answers 404: that attempt
    /// deleted the data.
    AlreadyGone,
}

impl DeletionConfirmation {
    /// A short name for records and logs (`deleted`, `already-gone`).
    pub const fn name(self) -> &'static str {
        match self {
            DeletionConfirmation::Deleted => "deleted",
            DeletionConfirmation::AlreadyGone => "already-gone",
        }
    }
}

/// A deletion that failed: the error of the last attempt, the number of attempts, and whether
/// the data may be deleted all the same.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
#[non_exhaustive]
pub struct DeletionFailure<E> {
    /// What went wrong in the last attempt.
    #[source]
    pub error: Error<E>,
    /// How many attempts were made.
    pub attempts: u32,
    /// Whether a request may have reached the API and acted without saying so: the connection
    /// was lost after sending, an attempt timed out, the last answer was a server error (not a
    /// 503 with `Retry-After`), or a success came in a voice other than the API's. The data
    /// may be deleted or not. Settle it with
    /// [`Client::delete_after_unknown`](crate::Client::delete_after_unknown).
    pub outcome_unknown: bool,
}

/// Which failed deletion attempts are sent again: exactly those whose request cannot have
/// reached the API. `unsent` says the transport failed before sending anything
/// ([`Transport::is_unsent`](crate::Transport::is_unsent)).
pub fn deletion_retryable(outcome: &AttemptOutcome, unsent: bool) -> bool {
    match outcome {
        AttemptOutcome::Status { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => true,
        AttemptOutcome::Status {
            status,
            retry_after,
        } => *status == StatusCode::SERVICE_UNAVAILABLE && retry_after.is_some(),
        AttemptOutcome::TransportFailure => unsent,
        AttemptOutcome::AttemptTimeout => false,
    }
}

/// Whether a failed attempt leaves open whether the data was deleted: its request may have
/// arrived (the connection was lost after sending, the attempt timed out), or its answer was a
/// server error (the server may have acted before failing; not a 503 with `Retry-After`, which
/// turns the request away) or a success that is not the API's. `unsent` as for
/// [`deletion_retryable`]. Such an attempt is never sent again.
pub(crate) fn attempt_leaves_outcome_unknown(outcome: &AttemptOutcome, unsent: bool) -> bool {
    match outcome {
        AttemptOutcome::Status {
            status,
            retry_after,
        } => {
            let turned_away = *status == StatusCode::SERVICE_UNAVAILABLE && retry_after.is_some();
            status.is_success() || (status.is_server_error() && !turned_away)
        }
        AttemptOutcome::TransportFailure => !unsent,
        AttemptOutcome::AttemptTimeout => true,
    }
}

/// What a complete answer to `/delete` means. `earlier_unknown`: an earlier attempt's outcome
/// is unknown, so a 404 means that attempt deleted the data. The server's strings in an API
/// error are masked with `mask` before they are cut.
pub(crate) fn deletion_answer<B: AsRef<[u8]>>(
    response: &Response<B>,
    earlier_unknown: bool,
    mask: &CredentialMask,
) -> Result<DeletionConfirmation, Error> {
    let status = response.status();
    if status.is_success() {
        let body = response.body().as_ref().trim_ascii();
        // The API answers with no body; JSON is tolerated. Anything else (a portal's page)
        // is not the API confirming a deletion.
        return if body.is_empty()
            || (looks_like_json(body) && serde_json::from_slice::<serde_json::Value>(body).is_ok())
        {
            Ok(DeletionConfirmation::Deleted)
        } else {
            Err(unexpected(response, body).into())
        };
    }
    if status == StatusCode::NOT_FOUND && earlier_unknown {
        return Ok(DeletionConfirmation::AlreadyGone);
    }
    Err(failure_of(response, retry_after_of(response), mask))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn status(code: u16, retry_after: Option<u64>) -> AttemptOutcome {
        AttemptOutcome::Status {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn retries_only_what_cannot_have_reached_the_api() {
        assert!(deletion_retryable(&status(429, None), false));
        assert!(deletion_retryable(&status(429, Some(1)), false));
        assert!(deletion_retryable(&status(503, Some(1)), false));
        assert!(deletion_retryable(&AttemptOutcome::TransportFailure, true));
        assert!(!deletion_retryable(&status(503, None), false));
        for code in [400, 401, 403, 404, 409, 500, 502, 504] {
            assert!(!deletion_retryable(&status(code, Some(1)), false), "{code}");
        }
        assert!(!deletion_retryable(
            &AttemptOutcome::TransportFailure,
            false
        ));
        assert!(!deletion_retryable(&AttemptOutcome::AttemptTimeout, false));
    }

    #[test]
    fn an_attempt_that_leaves_the_outcome_unknown_is_never_sent_again() {
        let mut outcomes = vec![
            AttemptOutcome::TransportFailure,
            AttemptOutcome::AttemptTimeout,
        ];
        for code in 100..600 {
            outcomes.push(status(code, None));
            outcomes.push(status(code, Some(1)));
        }
        for outcome in &outcomes {
            for unsent in [false, true] {
                assert!(
                    !(attempt_leaves_outcome_unknown(outcome, unsent)
                        && deletion_retryable(outcome, unsent)),
                    "{outcome:?}, unsent: {unsent}"
                );
            }
        }
        assert!(attempt_leaves_outcome_unknown(&status(502, None), false));
        assert!(attempt_leaves_outcome_unknown(&status(503, None), false));
        assert!(!attempt_leaves_outcome_unknown(
            &status(503, Some(1)),
            false
        ));
        assert!(!attempt_leaves_outcome_unknown(&status(404, None), false));
        assert!(!attempt_leaves_outcome_unknown(
            &AttemptOutcome::TransportFailure,
            true
        ));
    }

    fn answer(code: u16, body: &str) -> Response<Vec<u8>> {
        Response::builder()
            .status(code)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn a_404_is_already_gone_only_after_an_unknown_outcome() {
        let gone = answer(404, r#"{"identifier":"NOT_FOUND","message":"gone"}"#);
        assert_eq!(
            deletion_answer(&gone, true, &CredentialMask::NONE).unwrap(),
            DeletionConfirmation::AlreadyGone
        );
        assert!(matches!(
            deletion_answer(&gone, false, &CredentialMask::NONE),
            Err(Error::Api(api)) if api.status == 404
        ));
    }

    #[test]
    fn success_is_an_empty_or_json_200_and_nothing_else() {
        for body in ["", " \n", "{}", r#"{"message":"ok"}"#] {
            assert_eq!(
                deletion_answer(&answer(200, body), false, &CredentialMask::NONE).unwrap(),
                DeletionConfirmation::Deleted
            );
        }
        assert!(matches!(
            deletion_answer(
                &answer(200, "<html>Welcome</html>"),
                false,
                &CredentialMask::NONE
            ),
            Err(Error::UnexpectedResponse(_))
        ));
        let refused = answer(
            400,
            r#"{"message":"Token has not expired yet.","identifier":"PARTNER_ERROR"}"#,
        );
        assert!(matches!(
            deletion_answer(&refused, true, &CredentialMask::NONE),
            Err(Error::Api(api)) if api.identifier.as_ref().map(|i| i.as_str()) == Some("PARTNER_ERROR")
        ));
    }
}
