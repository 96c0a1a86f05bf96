//! Error responses in the API's documented shape:
//! `{"identifier", "message", "documentation", "severity"}`.

use http::StatusCode;
use serde_json::json;

/// Where error bodies point readers, as the API's own error bodies do.
const DOCUMENTATION: &str = "https://github.com/idenfy/Documentation";

/// One error the sandbox answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `identifier` constant.
    pub identifier: &'static str,
    /// The human-readable `message`; never contains request data.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, identifier: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            identifier,
            message: message.into(),
        }
    }

    /// 405: the endpoint exists but not for this method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "Wrong HTTP method.",
        )
    }

    /// 401: missing or wrong API key/secret.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Missing Api key/secret in HTTP headers or Api key/secret not valid.",
        )
    }

    /// 400: the body is not JSON.
    pub fn json_error() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "JSON_ERROR",
            "Malformed JSON body.",
        )
    }

    /// 400: a required value is absent.
    pub fn missing_value(field: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MISSING_VALUE",
            format!("Expected a supplied value for '{field}' but got none."),
        )
    }

    /// 400: a value is present but not acceptable.
    pub fn bad_value(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_VALUE", message)
    }

    /// 413: the request body is over the sandbox's cap.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BAD_VALUE",
            format!("Request body is larger than {limit} bytes."),
        )
    }

    /// 408: the request body did not arrive in time.
    pub fn body_timeout(limit: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "BAD_VALUE",
            format!(
                "Request body did not arrive within {} ms.",
                limit.as_millis()
            ),
        )
    }

    /// 404: the scanRef names no fixture.
    pub fn unknown_scan_ref() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "No identification with this scanRef.",
        )
    }

    /// 404: the identification's data was deleted (`/delete`); also the answer to a second
    /// deletion of the same scanRef.
    pub fn deleted() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The data of this identification was deleted.",
        )
    }

    /// 400: the fixture refuses deletion, as the API does while an identification's token
    /// is still valid.
    pub fn deletion_refused() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "PARTNER_ERROR",
            "Token has not expired yet.",
        )
    }

    /// 404: no such path.
    pub fn unknown_path() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "No such endpoint.")
    }

    /// 403: a download URL whose signature or expiry does not check out.
    pub fn forbidden_download(reason: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", reason)
    }

    /// 500, as a fault.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Unhandled unknown internal error.",
        )
    }

    /// 429, as a fault.
    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Request was throttled.",
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let severity = if self.status.is_server_error() {
            "SEVERE"
        } else {
            "NOT_SEVERE"
        };
        let value = json!({
            "identifier": self.identifier,
            "message": self.message,
            "documentation": DOCUMENTATION,
            "severity": severity,
        });
        serde_json::to_vec(&value).unwrap_or_default()
    }
}
