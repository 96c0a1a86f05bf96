//! What can go wrong, and the exit code each failure gives.

use std::fmt;
use std::process::ExitCode;

use http::StatusCode;
use idenfy_hyper::Error as LookupError;
use idenfy_hyper::core::{Error, EscapedControls, is_transient};
use serde_json::{Value, json};

/// The classes of failure the exit code tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    /// Something else failed (writing the output, the runtime).
    Other,
    /// The API answered with an error, or with something that is not the API's JSON.
    Api,
    /// The network failed: connection, timeout, or a transient status (429, 500, 502, 503, 504:
    /// the ones the client retries) still failing after the retries.
    Network,
    /// The credentials were refused (401 or 403).
    Authentication,
    /// The command's input is wrong: a malformed scanRef, a missing file, no credentials.
    BadInput,
    /// A callback's signature is malformed or does not match its body and the secret.
    SignatureRefused,
    /// A callback's signature holds but its body is not the callback's JSON (or is too large).
    CallbackBodyRefused,
    /// The webhook a callback was sent to did not answer 200.
    // Only `callback send` gives it, which needs the sandbox: the exit code stays reserved.
    #[cfg_attr(not(feature = "sandbox"), expect(dead_code))]
    ReceiverRefused,
    /// Ctrl-C stopped the run.
    Interrupted,
}

impl FailureKind {
    /// The process exit code (see the README's table).
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            FailureKind::Other => 1,
            FailureKind::BadInput => 2,
            FailureKind::Api => 3,
            FailureKind::Authentication => 4,
            FailureKind::Network => 5,
            FailureKind::SignatureRefused => 6,
            FailureKind::CallbackBodyRefused => 7,
            FailureKind::ReceiverRefused => 8,
            FailureKind::Interrupted => 130,
        })
    }

    /// The kind of a failed lookup.
    pub fn of_lookup(error: &LookupError) -> FailureKind {
        match error {
            Error::Api(api)
                if matches!(api.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) =>
            {
                FailureKind::Authentication
            }
            Error::Api(api) if is_transient(api.status) => FailureKind::Network,
            Error::UnexpectedResponse(page) if is_transient(page.status) => FailureKind::Network,
            Error::Transport(_) | Error::Timeout(_) => FailureKind::Network,
            _ => FailureKind::Api,
        }
    }
}

/// A failure of the whole command, with a message for a person.
#[derive(Debug)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::BadInput, message)
    }

    pub fn other(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::Other, message)
    }

    /// A failed lookup of `scan_ref`.
    pub fn lookup(scan_ref: &str, error: &LookupError) -> Self {
        Failure::new(
            FailureKind::of_lookup(error),
            format!("{}: {error}", EscapedControls(scan_ref)),
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A failed lookup as the `error` member of a JSON line. The message is the error's own, which
/// names no secret and no personal data.
pub fn error_json(error: &LookupError) -> Value {
    let kind = match FailureKind::of_lookup(error) {
        FailureKind::Authentication => "authentication",
        FailureKind::Network => "network",
        _ => "api",
    };
    let mut value = json!({ "kind": kind, "message": error.to_string() });
    if let Some(status) = error.status() {
        value["status"] = json!(status.as_u16());
    }
    if let Error::Api(api) = error
        && let Some(identifier) = &api.identifier
    {
        value["identifier"] = json!(identifier.as_str());
    }
    value
}
