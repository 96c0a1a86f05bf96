//! What can go wrong, and the exit code each failure gives.

use std::fmt;
use std::process::ExitCode;

use http::StatusCode;
use idenfy_hyper::Error as LookupError;
use idenfy_hyper::core::{Error, EscapedControls, TimeoutKind, is_transient};
use idenfy_hyper::{DownloadError, HyperError, RequestFailure};
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
    // Only `callback send` gives it, which needs the sandbox: the exit code stays reserved (and
    // listed in `--help`) in every build.
    ReceiverRefused,
    /// An archive bundle does not verify: a file missing, changed or added, or its manifest
    /// not well formed.
    BundleRefused,
    /// Ctrl-C stopped the run.
    Interrupted,
}

/// What exit code 0 means, first in `--help`'s table.
const SUCCESS_MEANS: &str = "success: every lookup, download, report or deletion succeeded";

impl FailureKind {
    /// Every kind, in the order of their exit codes: the rows of `--help`'s table.
    pub const ALL: [FailureKind; 10] = [
        FailureKind::Other,
        FailureKind::BadInput,
        FailureKind::Api,
        FailureKind::Authentication,
        FailureKind::Network,
        FailureKind::SignatureRefused,
        FailureKind::CallbackBodyRefused,
        FailureKind::ReceiverRefused,
        FailureKind::BundleRefused,
        FailureKind::Interrupted,
    ];

    /// The process exit code (see the README's table).
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// What the kind means, in a line of `--help` (the README's table says it at length).
    pub fn meaning(self) -> &'static str {
        match self {
            FailureKind::Other => "something else failed (writing the output, ...)",
            FailureKind::BadInput => {
                "bad input: a malformed scanRef, a missing or untrusted file, no credentials, \
                 an unknown profile, a deletion not confirmed"
            }
            FailureKind::Api => {
                "the API answered with an error or with something that is not its JSON or PDF; \
                 a download or deletion refused"
            }
            FailureKind::Authentication => "authentication failed (401 or 403)",
            FailureKind::Network => {
                "network failure: connection, timeout, or 429 or 5xx still failing after the \
                 retries; a deletion whose outcome is unknown"
            }
            FailureKind::SignatureRefused => {
                "callback verify: the signature does not match the body and the secret"
            }
            FailureKind::CallbackBodyRefused => {
                "callback verify: the signature holds but the body is not a callback"
            }
            FailureKind::ReceiverRefused => "callback send: the receiver did not answer 200",
            FailureKind::BundleRefused => {
                "archive verify, delete --archived: a bundle does not verify (a file missing, \
                 changed or not listed, or its manifest not well formed)"
            }
            FailureKind::Interrupted => "interrupted (Ctrl-C)",
        }
    }

    /// The exit code as a number.
    fn code(self) -> u8 {
        match self {
            FailureKind::Other => 1,
            FailureKind::BadInput => 2,
            FailureKind::Api => 3,
            FailureKind::Authentication => 4,
            FailureKind::Network => 5,
            FailureKind::SignatureRefused => 6,
            FailureKind::CallbackBodyRefused => 7,
            FailureKind::ReceiverRefused => 8,
            FailureKind::BundleRefused => 9,
            FailureKind::Interrupted => 130,
        }
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

/// The table of exit codes that `--help` shows, one `  CODE  MEANING` line each, made from
/// [`FailureKind`] so that the help cannot disagree with the exit codes given.
pub fn exit_code_table() -> String {
    let rows = std::iter::once((0, SUCCESS_MEANS)).chain(
        FailureKind::ALL
            .iter()
            .map(|kind| (kind.code(), kind.meaning())),
    );
    rows.map(|(code, meaning)| format!("  {code:>3}  {meaning}\n"))
        .collect()
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
            format!("{}: {}", EscapedControls(scan_ref), shown(error)),
        )
    }
}

/// A failed lookup's message as the command shows it: the limits it names are the command's
/// flags, and a network failure says what to check, each cause its own ([`Cause::hint`]).
pub fn shown(error: &LookupError) -> String {
    let text = match error {
        // The client's own advice names its settings; the command's hint names its flags.
        Error::Timeout(timeout) => timeout.what_ran_out(),
        _ => error.to_string(),
    };
    match Cause::of_lookup(error) {
        Some(cause) => format!("{text}; {}", cause.hint(Destination::Api)),
        None => text,
    }
}

/// Where a request that failed was going: what there is to check is not the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The API, at the base URL.
    Api,
    /// A file server, at a URL the API's `/files` answer named (a download).
    FileServer,
}

/// What a network failure comes down to, as far as what to check goes: each has its hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The TLS handshake failed: a certificate not trusted, expired or for another name.
    Certificate,
    /// The proxy could not be reached, refused the tunnel, wanted credentials or did not answer.
    Proxy,
    /// The host name did not resolve.
    HostNotFound,
    /// Nothing listens at the host and port, or something refuses the connection.
    Refused,
    /// An attempt, or a pause in a transfer, took longer than `--timeout`.
    Slow,
    /// The whole lookup or download took longer than `--deadline`.
    OutOfTime,
}

impl Cause {
    /// The cause of a failed connection, request or response head, if it is one with a hint.
    pub fn of_transport(error: &HyperError) -> Option<Cause> {
        match error {
            HyperError::TlsHandshake(_) => Some(Cause::Certificate),
            HyperError::Proxy(_) => Some(Cause::Proxy),
            HyperError::Request(_) => match error.request_failure() {
                Some(RequestFailure::HostNotFound) => Some(Cause::HostNotFound),
                Some(RequestFailure::ConnectionRefused) => Some(Cause::Refused),
                _ => None,
            },
            _ => None,
        }
    }

    /// The cause of a failed lookup, if it has a hint.
    pub fn of_lookup(error: &LookupError) -> Option<Cause> {
        match error {
            Error::Transport(transport) => Cause::of_transport(transport),
            Error::Timeout(timeout) => match timeout.kind {
                TimeoutKind::Attempt => Some(Cause::Slow),
                _ => Some(Cause::OutOfTime),
            },
            _ => None,
        }
    }

    /// The cause of a failed download, if it has a hint.
    pub fn of_download(error: &DownloadError) -> Option<Cause> {
        match error {
            DownloadError::Request(transport) => Cause::of_transport(transport),
            DownloadError::Stalled { .. } => Some(Cause::Slow),
            DownloadError::DeadlineExceeded { .. } => Some(Cause::OutOfTime),
            _ => None,
        }
    }

    /// What to check, for a request to `to`: the one table of hints, for lookups and
    /// downloads alike.
    pub fn hint(self, to: Destination) -> &'static str {
        match (self, to) {
            (Cause::Certificate, Destination::Api) => {
                "check that the host is the API's, and give the CA that signs its certificate (or your proxy's) with --ca-cert or IDENFY_CA_CERT"
            }
            (Cause::Certificate, Destination::FileServer) => {
                "the file server's certificate is not trusted: give the CA that signs it (or your proxy's) with --ca-cert or IDENFY_CA_CERT"
            }
            (Cause::Proxy, _) => {
                "check --proxy (or IDENFY_PROXY, HTTPS_PROXY, ALL_PROXY) and NO_PROXY"
            }
            (Cause::HostNotFound, Destination::Api) => {
                "check the base URL's host name; behind a proxy, set HTTPS_PROXY or --proxy"
            }
            (Cause::HostNotFound, Destination::FileServer) => {
                "the file server's host (from the API's file URL) does not resolve from this machine; behind a proxy, set HTTPS_PROXY or --proxy, and check NO_PROXY"
            }
            (Cause::Refused, Destination::Api) => {
                "check the base URL's host and port, and that nothing blocks it; behind a proxy, set HTTPS_PROXY or --proxy"
            }
            (Cause::Refused, Destination::FileServer) => {
                "the file server (from the API's file URL) refused the connection: check that nothing blocks it; behind a proxy, set HTTPS_PROXY or --proxy"
            }
            (Cause::Slow, Destination::Api) => {
                "the API or the network is slow: raise --timeout if this persists"
            }
            (Cause::Slow, Destination::FileServer) => {
                "the file server or the network is slow: raise --timeout, the longest pause of a transfer, if this persists"
            }
            (Cause::OutOfTime, Destination::Api) => {
                "raise --deadline, the time of a lookup with its retries, or check the network"
            }
            (Cause::OutOfTime, Destination::FileServer) => {
                "--deadline bounds the whole command, the lookup and every file: raise it, or check the network"
            }
        }
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
    let mut value = json!({ "kind": kind, "message": shown(error) });
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::CommandFactory as _;

    use super::*;
    use crate::Cli;

    /// The `CODE  MEANING` rows of the "Exit codes:" part of `idenfy --help`.
    fn rows_of_the_help() -> Vec<(u8, String)> {
        let help = Cli::command().render_long_help().to_string();
        let table = help
            .split_once("Exit codes:\n")
            .expect("--help has an exit code table")
            .1;
        table
            .lines()
            .take_while(|line| !line.trim().is_empty())
            .map(|line| {
                let (code, meaning) = line.trim().split_once("  ").expect("CODE  MEANING");
                (code.parse().expect("a code"), meaning.trim().to_owned())
            })
            .collect()
    }

    #[test]
    fn each_exit_code_the_help_lists_is_the_one_its_failure_gives() {
        let rows = rows_of_the_help();
        assert_eq!(rows[0], (0, SUCCESS_MEANS.to_owned()));
        assert_eq!(rows.len(), FailureKind::ALL.len() + 1, "{rows:?}");
        for (code, meaning) in &rows[1..] {
            let kind = FailureKind::ALL
                .into_iter()
                .find(|kind| kind.meaning() == meaning)
                .unwrap_or_else(|| panic!("no failure means {meaning:?}"));
            assert_eq!(
                kind.exit_code(),
                ExitCode::from(*code),
                "--help says {code} for {kind:?}"
            );
        }
    }

    #[test]
    fn each_cause_has_a_hint_for_each_destination_naming_what_changes_it() {
        let causes = [
            (Cause::Certificate, "--ca-cert"),
            (Cause::Proxy, "--proxy"),
            (Cause::HostNotFound, "--proxy"),
            (Cause::Refused, "--proxy"),
            (Cause::Slow, "--timeout"),
            (Cause::OutOfTime, "--deadline"),
        ];
        let mut hints = BTreeSet::new();
        for (cause, flag) in causes {
            for to in [Destination::Api, Destination::FileServer] {
                let hint = cause.hint(to);
                assert!(hint.contains(flag), "{cause:?} to {to:?}: {hint}");
                hints.insert(hint);
            }
            // Only the file server's hints speak of the file server.
            assert!(!cause.hint(Destination::Api).contains("file server"));
        }
        // The proxy's hint is the same either way; every other one is its own.
        assert_eq!(hints.len(), causes.len() * 2 - 1);
    }

    #[test]
    fn every_kind_has_its_own_exit_code() {
        let codes: BTreeSet<u8> = FailureKind::ALL.iter().map(|kind| kind.code()).collect();
        assert_eq!(codes.len(), FailureKind::ALL.len());
        assert!(!codes.contains(&0));
    }

    #[test]
    fn the_help_lists_the_exit_codes_of_the_readmes_table() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .expect("the workspace's README");
        let table = readme
            .split_once("**Exit codes.**")
            .expect("the README has an exit code table")
            .1;
        let in_readme: BTreeSet<u8> = table
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .filter_map(|line| {
                line.trim_start_matches('|')
                    .split('|')
                    .next()?
                    .trim()
                    .parse()
                    .ok()
            })
            .collect();
        let in_help: BTreeSet<u8> = rows_of_the_help()
            .into_iter()
            .map(|(code, _)| code)
            .collect();
        assert_eq!(in_readme, in_help);
    }
}
