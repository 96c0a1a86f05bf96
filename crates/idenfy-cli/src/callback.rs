//! `idenfy callback`: send a fixture's signed result callback to a webhook, and verify or sign a
//! captured callback body.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use idenfy_hyper::core::callback::{
    CallbackError, CallbackSecret, CallbackVerifier, DEFAULT_MAX_CALLBACK_BYTES,
};
use idenfy_hyper::core::escape_controls;
use idenfy_hyper::models::ResultCallback;
#[cfg(feature = "sandbox")]
use idenfy_sandbox::{CallbackFault, DEFAULT_API_SECRET, DeliveryError, DeliveryOptions, Sandbox};

use crate::cli::Format;
use crate::connect::ConnectionArgs;
use crate::failure::{Failure, FailureKind};

/// How much of a receiver's answer is kept, and how much of it is shown.
#[cfg(feature = "sandbox")]
const MAX_ANSWER_BYTES: usize = 16 * 1024;
#[cfg(feature = "sandbox")]
const SHOWN_ANSWER_CHARS: usize = 200;

/// The `callback` subcommands.
#[derive(Debug, Subcommand)]
pub enum CallbackCommand {
    /// POST the result callback of a sandbox fixture to URL, signed with IDENFY_API_SECRET (with
    /// --sandbox, the sandbox's own secret), and print the receiver's answer. Exits 0 only when
    /// it answered 200.
    #[cfg(feature = "sandbox")]
    Send(SendArgs),
    /// Check a captured callback body against its Idenfy-Signature with IDENFY_API_SECRET (with
    /// --sandbox, the sandbox's secret), and print its key facts (`--format json`: the body).
    Verify(VerifyArgs),
    /// Print the Idenfy-Signature of a body, signed with IDENFY_API_SECRET (with --sandbox, the
    /// sandbox's secret): for curl-based tests of a webhook.
    Sign(SignArgs),
}

/// `callback send`.
#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The fixture whose callback is sent (`sandbox-approved`, `sandbox-denied-face`, ...).
    #[arg(value_name = "SCAN_REF")]
    pub scan_ref: String,
    /// The webhook: a plain-HTTP URL on this machine, like `http://127.0.0.1:3000/callback`.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Send a signature that does not match the body: the receiver must refuse it.
    #[arg(long)]
    pub tamper: bool,
}

/// `callback verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The Idenfy-Signature header's value (hex).
    #[arg(long, value_name = "HEX")]
    pub signature: String,
    /// The body, byte for byte as received (`-`, the default, for standard input).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `callback sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The body to sign (`-`, the default, for standard input).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Runs a `callback` subcommand.
pub async fn run(
    command: &CallbackCommand,
    connection: &ConnectionArgs,
    format: Option<Format>,
) -> Result<(), Failure> {
    match command {
        #[cfg(feature = "sandbox")]
        CallbackCommand::Send(args) => send(args, connection).await,
        CallbackCommand::Verify(args) => {
            if format == Some(Format::Csv) {
                return Err(Failure::bad_input(
                    "callback verify prints a table or the body (--format json), not CSV",
                ));
            }
            let secret = secret(connection)?;
            let body = read_body(args.file.as_deref())?;
            let verifier = CallbackVerifier::new(secret);
            let callback = verifier
                .verify_and_parse(Some(args.signature.as_str()), &body)
                .map_err(refusal)?;
            let mut out = std::io::stdout().lock();
            let written = match format.unwrap_or(Format::Table) {
                // Valid JSON (it was just read as such): no raw control characters in it.
                Format::Json | Format::Jsonl => out.write_all(&body).and_then(|()| writeln!(out)),
                Format::Table => out.write_all(key_facts(&callback).as_bytes()),
                // Refused before anything was read.
                Format::Csv => Ok(()),
            };
            written.map_err(|err| Failure::other(format!("cannot write the output: {err}")))
        }
        CallbackCommand::Sign(args) => {
            let secret = secret(connection)?;
            let body = read_body(args.file.as_deref())?;
            println!("{}", CallbackVerifier::new(secret).sign(&body));
            Ok(())
        }
    }
}

/// The secret that signs callbacks: the sandbox's with `--sandbox`, otherwise the API secret.
fn secret(connection: &ConnectionArgs) -> Result<CallbackSecret, Failure> {
    #[cfg(feature = "sandbox")]
    let sandbox_secret = connection.sandbox.then_some(DEFAULT_API_SECRET);
    #[cfg(not(feature = "sandbox"))]
    let sandbox_secret = None;
    let text = if let Some(sandbox_secret) = sandbox_secret {
        sandbox_secret
    } else {
        connection.api_secret.as_deref().ok_or_else(|| {
            Failure::bad_input(
                "no API secret: set IDENFY_API_SECRET (or use --sandbox for the sandbox's secret)",
            )
        })?
    };
    CallbackSecret::new(text).map_err(|err| Failure::bad_input(err.to_string()))
}

#[cfg(feature = "sandbox")]
async fn send(args: &SendArgs, connection: &ConnectionArgs) -> Result<(), Failure> {
    let secret_text = if connection.sandbox {
        None
    } else {
        // Checked the same way as for verify and sign, so that a bad secret is named here.
        secret(connection)?;
        connection.api_secret.clone()
    };
    let sandbox = Sandbox::builder()
        .port(0)
        .access_log(false)
        .start()
        .await
        .map_err(|err| Failure::other(format!("cannot start the sandbox: {err}")))?;
    let mut options = DeliveryOptions::new()
        .timeout(connection.timeout)
        .max_answer_bytes(MAX_ANSWER_BYTES);
    if let Some(secret) = &secret_text {
        options = options.signed_with(secret);
    }
    if args.tamper {
        options = options.fault(CallbackFault::BadSignature);
    }
    let delivery = sandbox
        .deliver_callback(&args.scan_ref, &args.to, &options)
        .await
        .map_err(|err| match err {
            DeliveryError::UnknownScanRef(_) | DeliveryError::UnsupportedUrl(_) => {
                Failure::bad_input(escape_controls(&err.to_string()).into_owned())
            }
            other => Failure::new(
                FailureKind::Network,
                escape_controls(&other.to_string()).into_owned(),
            ),
        })?;
    let answer = &delivery.answers[0];
    let excerpt: String = String::from_utf8_lossy(&answer.body)
        .chars()
        .take(SHOWN_ANSWER_CHARS)
        .collect();
    let more = if answer.truncated || excerpt.len() < answer.body.len() {
        " ..."
    } else {
        ""
    };
    println!(
        "{}\t{}\t{}{more}",
        answer.status,
        escape_controls(&args.scan_ref),
        escape_controls(&excerpt)
    );
    if answer.status == http::StatusCode::OK {
        Ok(())
    } else {
        Err(Failure::new(
            FailureKind::ReceiverRefused,
            format!("the receiver answered {}, not 200", answer.status),
        ))
    }
}

/// A refused callback as a failure whose kind names the check that failed.
fn refusal(error: CallbackError) -> Failure {
    let kind = match error {
        CallbackError::InvalidPayload { .. } | CallbackError::BodyTooLarge { .. } => {
            FailureKind::CallbackBodyRefused
        }
        _ => FailureKind::SignatureRefused,
    };
    Failure::new(kind, error.to_string())
}

/// Reads a whole body from `path` (`-` or none: standard input), refusing more than a callback
/// may be.
fn read_body(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    let limit = DEFAULT_MAX_CALLBACK_BYTES as u64 + 1;
    let mut body = Vec::new();
    let (read, name) = match path {
        None => (
            std::io::stdin().lock().take(limit).read_to_end(&mut body),
            "standard input".to_owned(),
        ),
        Some(path) if path == Path::new("-") => (
            std::io::stdin().lock().take(limit).read_to_end(&mut body),
            "standard input".to_owned(),
        ),
        Some(path) => {
            let name = escape_controls(&path.display().to_string()).into_owned();
            let file = std::fs::File::open(path)
                .map_err(|err| Failure::bad_input(format!("cannot open {name}: {err}")))?;
            (file.take(limit).read_to_end(&mut body), name)
        }
    };
    read.map_err(|err| Failure::bad_input(format!("cannot read {name}: {err}")))?;
    if body.len() as u64 >= limit {
        return Err(Failure::new(
            FailureKind::CallbackBodyRefused,
            format!(
                "{name} holds more than {DEFAULT_MAX_CALLBACK_BYTES} bytes, more than a callback may be"
            ),
        ));
    }
    Ok(body)
}

/// The key facts of a verified callback, for a person.
fn key_facts(callback: &ResultCallback) -> String {
    let text = |value: Option<String>| {
        value.filter(|value| !value.is_empty()).map_or_else(
            || "-".to_owned(),
            |value| escape_controls(&value).into_owned(),
        )
    };
    let status = callback.status.as_ref();
    let pair = |auto: Option<String>, manual: Option<String>| {
        text(Some(format!(
            "{} (manual {})",
            auto.unwrap_or_else(|| "-".into()),
            manual.unwrap_or_else(|| "-".into())
        )))
    };
    let files = callback.file_urls.as_ref().map(|files| {
        files
            .documented()
            .iter()
            .filter(|(_, url)| url.is_some())
            .map(|(kind, _)| kind.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    });
    let rows = [
        ("signature", "valid".to_owned()),
        ("scanRef", text(callback.scan_ref.clone())),
        (
            "final",
            text(callback.final_.map(|value| value.to_string())),
        ),
        (
            "overall",
            text(
                status
                    .and_then(|s| s.overall.as_ref())
                    .map(ToString::to_string),
            ),
        ),
        (
            "document",
            pair(
                status
                    .and_then(|s| s.auto_document.as_ref())
                    .map(ToString::to_string),
                status
                    .and_then(|s| s.manual_document.as_ref())
                    .map(ToString::to_string),
            ),
        ),
        (
            "face",
            pair(
                status
                    .and_then(|s| s.auto_face.as_ref())
                    .map(ToString::to_string),
                status
                    .and_then(|s| s.manual_face.as_ref())
                    .map(ToString::to_string),
            ),
        ),
        (
            "suspicion",
            text(
                status
                    .and_then(|s| s.suspicion_reasons.as_ref())
                    .map(|reasons| {
                        reasons
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }),
            ),
        ),
        (
            "clientId",
            text(callback.client_id.as_ref().map(ToString::to_string)),
        ),
        ("files", text(files)),
    ];
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(label, value)| format!("{label:<width$}  {value}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refused_check_has_its_exit_class() {
        assert_eq!(
            refusal(CallbackError::SignatureMismatch).kind,
            FailureKind::SignatureRefused
        );
        assert_eq!(
            refusal(CallbackError::MissingSignature).kind,
            FailureKind::SignatureRefused
        );
        assert_eq!(
            refusal(CallbackError::BodyTooLarge { size: 2, limit: 1 }).kind,
            FailureKind::CallbackBodyRefused
        );
    }
}
