//! Error responses in the API's documented shape:
//! `{"identifier", "message", "documentation", "severity"}`.

use std::time::Duration;

use bytes::Bytes;
use http::header::ALLOW;
use http::{HeaderValue, Response, StatusCode};
use serde_json::json;

use crate::router::{JSON, reply};

/// Where error bodies point readers, as the API's own error bodies do.
const DOCUMENTATION: &str = "https://github.com/idenfy/Documentation";

/// One error the sandbox answers with; its `Display` is the body's `message`, which never
/// contains request data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    /// 405: the endpoint exists, but only for this method (sent in `Allow`).
    #[error("Wrong HTTP method.")]
    MethodNotAllowed(&'static str),
    /// 401: missing or wrong API key/secret.
    #[error("Missing Api key/secret in HTTP headers or Api key/secret not valid.")]
    Unauthorized,
    /// 400: the body is not JSON.
    #[error("Malformed JSON body.")]
    Json,
    /// 400: this required value is absent.
    #[error("Expected a supplied value for '{0}' but got none.")]
    MissingValue(&'static str),
    /// 400: a value is present but not acceptable.
    #[error("{0}")]
    BadValue(String),
    /// 413: the request body is over this cap.
    #[error("Request body is larger than {0} bytes.")]
    BodyTooLarge(usize),
    /// 408: the request body did not arrive within this time.
    #[error("Request body did not arrive within {} ms.", .0.as_millis())]
    BodyTimeout(Duration),
    /// 404: the scanRef names no fixture.
    #[error("No identification with this scanRef.")]
    UnknownScanRef,
    /// 404: the identification's data was deleted (`/delete`); also the answer to a second
    /// deletion of the same scanRef.
    #[error("The data of this identification was deleted.")]
    Deleted,
    /// 400: the fixture refuses deletion, as the API does while an identification's token
    /// is still valid.
    #[error("Token has not expired yet.")]
    DeletionRefused,
    /// 404: no such path.
    #[error("No such endpoint.")]
    UnknownPath,
    /// 403: a download URL whose signature or expiry does not check out, and why.
    #[error("{0}")]
    ForbiddenDownload(&'static str),
    /// 500, as a fault.
    #[error("Unhandled unknown internal error.")]
    Internal,
    /// 429, as a fault.
    #[error("Request was throttled.")]
    TooManyRequests,
}

impl ApiError {
    fn status_and_identifier(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            Self::Json => (StatusCode::BAD_REQUEST, "JSON_ERROR"),
            Self::MissingValue(_) => (StatusCode::BAD_REQUEST, "MISSING_VALUE"),
            Self::BadValue(_) => (StatusCode::BAD_REQUEST, "BAD_VALUE"),
            Self::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "BAD_VALUE"),
            Self::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "BAD_VALUE"),
            Self::UnknownScanRef | Self::Deleted | Self::UnknownPath => {
                (StatusCode::NOT_FOUND, "NOT_FOUND")
            }
            Self::DeletionRefused => (StatusCode::BAD_REQUEST, "PARTNER_ERROR"),
            Self::ForbiddenDownload(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
            Self::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"),
        }
    }

    /// The response: the status, the JSON body, and `Allow` for a 405.
    pub(crate) fn into_response(self) -> Response<Bytes> {
        let (status, identifier) = self.status_and_identifier();
        let severity = if status.is_server_error() {
            "SEVERE"
        } else {
            "NOT_SEVERE"
        };
        let body = json!({
            "identifier": identifier,
            "message": self.to_string(),
            "documentation": DOCUMENTATION,
            "severity": severity,
        });
        let json = HeaderValue::from_static(JSON);
        let mut response = reply(status, json, body.to_string());
        if let Self::MethodNotAllowed(allowed) = self {
            let allowed = HeaderValue::from_static(allowed);
            response.headers_mut().insert(ALLOW, allowed);
        }
        response
    }
}
