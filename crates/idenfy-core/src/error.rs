//! Every way a lookup can fail, as one `#[non_exhaustive]` enum.

use std::convert::Infallible;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::models::ErrorIdentifier;
use crate::{Endpoint, EscapedControls, NotAPdf};

/// A failed lookup.
///
/// `E` is the transport's own error type; the sans-IO functions
/// ([`parse_response`](crate::parse_response)) return `Error<Infallible>`,
/// which [`Error::with_transport`] widens.
///
/// No variant's `Debug` or `Display` contains the API secret, a response
/// body, or personal data from one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E = Infallible> {
    /// The API answered with its JSON error (bad credentials, unknown scanRef, ...).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Something other than the API answered (a proxy's HTML page, a wrong base URL).
    #[error(transparent)]
    UnexpectedResponse(#[from] UnexpectedResponse),
    /// A success response whose JSON does not match the model.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The response body was larger than the configured limit.
    #[error(transparent)]
    BodyTooLarge(#[from] BodyTooLarge),
    /// A successful answer to `/generate-pdf` that holds no PDF (or not unambiguously).
    #[error(transparent)]
    NotAPdf(#[from] NotAPdf),
    /// The HTTP transport failed (connection refused, reset, TLS, ...).
    #[error("the HTTP transport failed before a complete response arrived: {0}")]
    Transport(#[source] E),
    /// An attempt or the whole call ran out of time.
    #[error(transparent)]
    Timeout(#[from] Timeout),
}

impl<E> Error<E> {
    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(error) => Some(error.status),
            Error::UnexpectedResponse(error) => Some(error.status),
            Error::Decode(error) => Some(error.status),
            Error::BodyTooLarge(error) => error.status,
            Error::NotAPdf(error) => Some(error.status),
            Error::Transport(_) | Error::Timeout(_) => None,
        }
    }
}

impl Error<Infallible> {
    /// Turns a parsing error into a client error for any transport error type.
    pub fn with_transport<E>(self) -> Error<E> {
        match self {
            Error::Api(error) => Error::Api(error),
            Error::UnexpectedResponse(error) => Error::UnexpectedResponse(error),
            Error::Decode(error) => Error::Decode(error),
            Error::BodyTooLarge(error) => Error::BodyTooLarge(error),
            Error::NotAPdf(error) => Error::NotAPdf(error),
            Error::Timeout(error) => Error::Timeout(error),
            Error::Transport(never) => match never {},
        }
    }
}

/// The API's own error: an HTTP status with `{"identifier", "message", ...}`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable error constant, such as `UNAUTHORIZED`; unknown values are kept.
    pub identifier: Option<ErrorIdentifier>,
    /// The API's human-readable message.
    pub message: Option<String>,
    /// A link to documentation, when the API gives one.
    pub documentation: Option<String>,
    /// The severity, when the API gives one.
    pub severity: Option<String>,
    /// How long the API asked to wait (`Retry-After`), for 429 and 503.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// What a person can do about this status.
    fn hint(&self) -> &'static str {
        if self
            .identifier
            .as_ref()
            .is_some_and(|identifier| identifier.as_str() == "PARTNER_ERROR")
        {
            return "the API will not do this for this identification now; the message says why";
        }
        match self.status.as_u16() {
            400 => "the request was refused as malformed; check the scanRef",
            401 => {
                "check the API key and secret (IDENFY_API_KEY, IDENFY_API_SECRET) and that they belong to this environment"
            }
            403 => {
                "these credentials may not use this endpoint; ask iDenfy to enable it for the account"
            }
            404 => {
                "no identification with this scanRef is visible to these credentials; check the scanRef and whether it was deleted"
            }
            429 => "too many requests; lower the request rate or allow more retries",
            500..=599 => "the iDenfy API failed; retrying later usually helps",
            _ => "see the message and documentation",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Identifier, message and link are the server's text: escaped, so that they can
        // neither drive the terminal nor forge a line of output.
        write!(f, "iDenfy API returned {}", self.status)?;
        if let Some(identifier) = &self.identifier {
            write!(f, " {}", EscapedControls(identifier.as_str()))?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {}", EscapedControls(message))?;
        }
        write!(f, " ({})", self.hint())?;
        if let Some(retry_after) = self.retry_after {
            write!(
                f,
                "; the API asked to retry after {}s",
                retry_after.as_secs()
            )?;
        }
        if let Some(documentation) = &self.documentation {
            write!(f, "; see {}", EscapedControls(documentation))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A response that is not the API's JSON: typically an HTML error page from a
/// proxy, load balancer or firewall, or a base URL that points elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected iDenfy's JSON but got HTTP {status} with content type {content_type}{excerpt_note}; a proxy, firewall or wrong base URL is the usual cause", content_type = EscapedControls(self.content_type.as_deref().unwrap_or("<none>")), excerpt_note = ExcerptNote(&self.excerpt))]
#[non_exhaustive]
pub struct UnexpectedResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// A short, sanitized excerpt (an HTML `<title>` or first line), with
    /// anything that looks like an identifier or number masked.
    pub excerpt: String,
}

struct ExcerptNote<'a>(&'a str);

impl fmt::Display for ExcerptNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, " (\"{}\")", EscapedControls(self.0))
        }
    }
}

/// A response body that does not match the expected model.
///
/// The raw body is kept for the caller ([`DecodeError::body`]) but never
/// printed: it may hold personal data.
#[derive(Clone)]
#[non_exhaustive]
pub struct DecodeError {
    /// The endpoint whose response failed to decode.
    pub endpoint: Endpoint,
    /// The HTTP status.
    pub status: StatusCode,
    /// Where in the JSON decoding failed, like `client.docFirstName` (`.` for the root).
    pub path: String,
    /// What went wrong, with any value from the body removed.
    pub reason: String,
    /// Line of the failure in the body (1-based; 0 when unknown).
    pub line: usize,
    /// Column of the failure in the body (1-based; 0 when unknown).
    pub column: usize,
    body: Bytes,
}

impl DecodeError {
    pub(crate) fn new(
        endpoint: Endpoint,
        status: StatusCode,
        path: String,
        inner: serde_json::Error,
        body: Bytes,
    ) -> Self {
        Self {
            endpoint,
            status,
            path,
            reason: describe_serde_error(&inner),
            line: inner.line(),
            column: inner.column(),
            body,
        }
    }

    /// The raw response body, for logging under the caller's own data policy. It is exactly
    /// what the server sent: nothing in it is masked or escaped, so it may hold personal data
    /// and anything the server echoed, credentials included.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

/// serde's messages quote the offending value (`invalid type: string "JOHN"`),
/// which can be personal data; keep the kind of problem, drop the value.
pub(crate) fn describe_serde_error(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let message = match full.rfind(" at line ") {
        Some(index) => &full[..index],
        None => full.as_str(),
    };
    match message.split_once(", expected ") {
        Some((found, expected)) => {
            let found = found.split(['"', '`']).next().unwrap_or(found).trim_end();
            format!("{found}, expected {expected}")
        }
        None => match error.classify() {
            serde_json::error::Category::Syntax => "malformed JSON".to_owned(),
            serde_json::error::Category::Eof => "the JSON ends early (truncated body)".to_owned(),
            serde_json::error::Category::Io => "the body could not be read".to_owned(),
            serde_json::error::Category::Data => message
                .split(['"', '`'])
                .next()
                .unwrap_or("unexpected data")
                .trim_end()
                .to_owned(),
        },
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not decode the {} response (HTTP {}) as {}: {} at `{}` (line {}, column {}); the {}-byte body is available from DecodeError::body()",
            self.endpoint,
            self.status,
            self.endpoint.response_type_name(),
            EscapedControls(&self.reason),
            EscapedControls(&self.path),
            self.line,
            self.column,
            self.body.len()
        )
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("endpoint", &self.endpoint)
            .field("status", &self.status)
            .field("path", &self.path)
            .field("reason", &self.reason)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl std::error::Error for DecodeError {}

/// The response body was larger than the configured limit; reading stopped there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the response body is larger than the {limit}-byte limit{declared_note}; if such responses are expected, raise the limit (max_body_bytes)", declared_note = DeclaredNote(*declared))]
#[non_exhaustive]
pub struct BodyTooLarge {
    /// The limit in bytes.
    pub limit: usize,
    /// The size the server declared in `Content-Length`, if it did.
    pub declared: Option<u64>,
    /// The HTTP status of the oversized response, when known.
    pub status: Option<StatusCode>,
}

impl BodyTooLarge {
    /// A body over `limit` bytes, with the declared length when known.
    pub fn new(limit: usize, declared: Option<u64>, status: Option<StatusCode>) -> Self {
        Self {
            limit,
            declared,
            status,
        }
    }
}

struct DeclaredNote(Option<u64>);

impl fmt::Display for DeclaredNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(declared) => write!(f, " (Content-Length: {declared})"),
            None => Ok(()),
        }
    }
}

/// A time limit ran out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
#[non_exhaustive]
pub struct Timeout {
    /// Which limit ran out.
    pub kind: TimeoutKind,
    /// The limit that ran out.
    pub limit: Duration,
    /// How many attempts were started.
    pub attempts: u32,
}

impl Timeout {
    /// What ran out, without the advice the error's text adds (which names this library's
    /// settings, `attempt_timeout` and the deadline): for a tool whose own settings have other
    /// names, to give its own advice after it.
    pub fn what_ran_out(&self) -> String {
        match self.kind {
            TimeoutKind::Attempt => format!(
                "no complete response within the per-attempt timeout of {:?} (after {} attempt(s))",
                self.limit, self.attempts
            ),
            TimeoutKind::Deadline => format!(
                "the call's overall deadline of {:?} passed after {} attempt(s)",
                self.limit, self.attempts
            ),
        }
    }

    fn describe(&self) -> String {
        let advice = match self.kind {
            TimeoutKind::Attempt => {
                "the API or the network is slow, raise attempt_timeout if this persists"
            }
            TimeoutKind::Deadline => "raise the deadline or check the network",
        };
        format!("{}; {advice}", self.what_ran_out())
    }
}

/// Which time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// One attempt (request and full response body) took too long.
    Attempt,
    /// The whole call, retries included, took too long.
    Deadline,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reason_drops_the_value_but_keeps_the_expectation() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Model {
            age: u32,
        }
        let body = br#"{"age": "JOHN SMITH"}"#;
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let error = serde_path_to_error::deserialize::<_, Model>(&mut deserializer).unwrap_err();
        let decode = DecodeError::new(
            Endpoint::Data,
            StatusCode::OK,
            error.path().to_string(),
            error.into_inner(),
            Bytes::from_static(body),
        );
        assert_eq!(decode.path, "age");
        assert_eq!(decode.reason, "invalid type: string, expected u32");
        let shown = format!("{decode} {decode:?}");
        assert!(!shown.contains("JOHN"), "{shown}");
        assert_eq!(decode.body().as_ref(), body);
    }

    #[test]
    fn truncated_json_is_described_as_truncated() {
        let body = br#"{"age": 1"#;
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let error = serde_path_to_error::deserialize::<_, serde_json::Value>(&mut deserializer)
            .unwrap_err();
        let decode = DecodeError::new(
            Endpoint::Data,
            StatusCode::OK,
            error.path().to_string(),
            error.into_inner(),
            Bytes::new(),
        );
        assert!(decode.reason.contains("truncated"), "{}", decode.reason);
    }

    #[test]
    fn a_timeout_says_what_ran_out_then_the_librarys_advice() {
        for kind in [TimeoutKind::Attempt, TimeoutKind::Deadline] {
            let timeout = Timeout {
                kind,
                limit: std::time::Duration::from_secs(10),
                attempts: 3,
            };
            let what = timeout.what_ran_out();
            assert!(
                what.contains("10s") && what.contains("3 attempt(s)"),
                "{what}"
            );
            assert!(!what.contains("raise"), "{what}");
            let shown = timeout.to_string();
            assert!(shown.starts_with(&format!("{what}; ")), "{shown}");
            assert!(shown.contains("raise"), "{shown}");
        }
    }
}
