//! `idenfy callback`: send a fixture's signed result callback to a webhook, and verify or sign a
//! captured callback body.
//!
//! The key is the webhook's signing key (set in the vendor's dashboard): `--signing-key`, else
//! `IDENFY_CALLBACK_SIGNING_KEY`, else the profile's `signing_key`. Only when none is given is
//! it the API secret, as older accounts sign; with `--sandbox`, the sandbox's secret.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use idenfy_hyper::core::callback::{
    CallbackError, CallbackVerifier, DEFAULT_MAX_CALLBACK_BYTES, KeyMatch, SigningKey,
    parse_event_type,
};
use idenfy_hyper::core::escape_controls;
use idenfy_hyper::models::{EventType, ResultCallback};
#[cfg(feature = "sandbox")]
use idenfy_sandbox::{
    CallbackEvent, CallbackFault, DEFAULT_API_SECRET, Delivery, DeliveryError, DeliveryOptions,
    Sandbox,
};

use crate::Format;
use crate::connect::ConnectionArgs;
use crate::failure::{Failure, FailureKind};

/// How much of a receiver's answer is kept, and how much of it is shown.
#[cfg(feature = "sandbox")]
const MAX_ANSWER_BYTES: usize = 16 * 1024;
#[cfg(feature = "sandbox")]
const SHOWN_ANSWER_CHARS: usize = 200;

/// The `callback` subcommands. Each keys the signature with the webhook's signing key
/// (`--signing-key`, `IDENFY_CALLBACK_SIGNING_KEY`, or the profile's `signing_key`), and only
/// without one with the API secret (older accounts), or with `--sandbox` the sandbox's secret.
#[derive(Debug, Subcommand)]
pub enum CallbackCommand {
    /// POST the result callback of a sandbox fixture to URL with its Idenfy-Event-Type, signed
    /// with the signing key (without one, IDENFY_API_SECRET; with --sandbox, the sandbox's own
    /// secret), and print the receiver's answer. Exits 0 only when it answered 200.
    #[cfg(feature = "sandbox")]
    Send(SendArgs),
    /// Check a captured callback body against its Idenfy-Signature with the signing keys
    /// (without one, IDENFY_API_SECRET; with --sandbox, the sandbox's secret), and print its key
    /// facts and which key matched (`--format json`: the body).
    Verify(VerifyArgs),
    /// Print the Idenfy-Signature of a body, signed with the signing key (without one,
    /// IDENFY_API_SECRET; with --sandbox, the sandbox's secret): for curl-based tests of a
    /// webhook.
    Sign(SignArgs),
}

/// The webhook's signing keys, given to each `callback` subcommand.
#[derive(Debug, Args)]
pub struct SigningKeyArgs {
    /// The webhook's signing key, set in the vendor's dashboard (Settings, Notifications, the
    /// notification's headers); repeat it during a rotation (`verify` accepts either and says
    /// which matched; `send` and `sign` use the first). Without one, the API secret is the key,
    /// as for accounts whose callbacks are signed with it. Prefer the variable: a key on the
    /// command line ends up in the shell's history.
    #[arg(
        long = "signing-key",
        value_name = "KEY",
        env = "IDENFY_CALLBACK_SIGNING_KEY",
        hide_env_values = true
    )]
    pub signing_keys: Vec<String>,
}

/// Which of the vendor's result webhooks `send` plays.
#[cfg(feature = "sandbox")]
#[derive(Debug, Clone)]
pub enum EventArg {
    /// `IDENTIFICATION_AUTO_FINISHED` with `final: false`.
    Auto,
    /// `IDENTIFICATION_MANUAL_FINISHED` with `final: true`.
    Manual,
    /// Another event type, the body as the fixture has it.
    Other(EventType),
}

#[cfg(feature = "sandbox")]
fn parse_event_arg(text: &str) -> Result<EventArg, String> {
    match text {
        "auto" => Ok(EventArg::Auto),
        "manual" => Ok(EventArg::Manual),
        other => parse_event_type(other.as_bytes())
            .map(EventArg::Other)
            .map_err(|err| {
                format!("`auto`, `manual` or an event type like IDENTIFICATION_EXPIRED: {err}")
            }),
    }
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
    /// The webhook to play: `auto` (IDENTIFICATION_AUTO_FINISHED, `final: false`), `manual`
    /// (IDENTIFICATION_MANUAL_FINISHED, `final: true`), or an event type, sent with the body as
    /// the fixture has it. Default: the fixture's body, as IDENTIFICATION_AUTO_FINISHED.
    #[arg(long, value_name = "EVENT", value_parser = parse_event_arg, conflicts_with = "sequence")]
    pub event: Option<EventArg>,
    /// Play the vendor's sequence for a result reviewed by hand: `auto`, then `manual`.
    #[arg(long)]
    pub sequence: bool,
    #[command(flatten)]
    pub keys: SigningKeyArgs,
}

/// `callback verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The Idenfy-Signature header's value (hex).
    #[arg(long, value_name = "HEX")]
    pub signature: String,
    /// The Idenfy-Event-Type header's value, if captured: checked to be an event type and
    /// printed beside the key facts.
    #[arg(long, value_name = "TYPE")]
    pub event_type: Option<String>,
    /// The body, byte for byte as received (`-`, the default, for standard input).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub keys: SigningKeyArgs,
}

/// `callback sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The body to sign (`-`, the default, for standard input).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub keys: SigningKeyArgs,
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
            let event_type = args
                .event_type
                .as_deref()
                .map(|text| {
                    parse_event_type(text.as_bytes()).map_err(|err| {
                        Failure::bad_input(format!("--event-type is not an event type: {err}"))
                    })
                })
                .transpose()?;
            let keys = keys(&args.keys, connection)?;
            let body = read_body(args.file.as_deref())?;
            let verifier = keys.keys.iter().skip(1).cloned().fold(
                CallbackVerifier::new(keys.keys[0].clone()),
                CallbackVerifier::with_key,
            );
            let matched = verifier
                .verify(Some(args.signature.as_str()), &body)
                .map_err(|err| refusal(err, keys.source))?;
            let callback = verifier
                .verify_and_parse(Some(args.signature.as_str()), &body)
                .map_err(|err| refusal(err, keys.source))?;
            let mut out = std::io::stdout().lock();
            let written = match format.unwrap_or(Format::Table) {
                // Valid JSON (it was just read as such): no raw control characters in it.
                Format::Json | Format::Jsonl => out.write_all(&body).and_then(|()| writeln!(out)),
                Format::Table => out.write_all(
                    key_facts(&callback, &keys.describe(matched), event_type.as_ref()).as_bytes(),
                ),
                // Refused before anything was read.
                Format::Csv => Ok(()),
            };
            written.map_err(|err| Failure::other(format!("cannot write the output: {err}")))
        }
        CallbackCommand::Sign(args) => {
            let keys = keys(&args.keys, connection)?;
            let body = read_body(args.file.as_deref())?;
            println!(
                "{}",
                CallbackVerifier::new(keys.keys[0].clone()).sign(&body)
            );
            Ok(())
        }
    }
}

/// Where the keys came from, for messages (never the keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    /// `--signing-key`, `IDENFY_CALLBACK_SIGNING_KEY` or the profile's `signing_key`.
    SigningKeys,
    /// The API secret: no signing key was given.
    ApiSecret,
    /// `--sandbox` without a signing key: the sandbox's secret.
    #[cfg(feature = "sandbox")]
    Sandbox,
}

/// The keys a callback is signed with, never empty, and where they came from.
struct Keys {
    keys: Vec<SigningKey>,
    source: KeySource,
}

impl Keys {
    /// Which key matched, in words, for the table.
    fn describe(&self, matched: KeyMatch) -> String {
        match self.source {
            KeySource::SigningKeys if self.keys.len() > 1 => format!(
                "valid (signing key {} of {})",
                matched.index + 1,
                self.keys.len()
            ),
            KeySource::SigningKeys => "valid (signing key)".to_owned(),
            KeySource::ApiSecret => "valid (API secret)".to_owned(),
            #[cfg(feature = "sandbox")]
            KeySource::Sandbox => "valid (the sandbox's secret)".to_owned(),
        }
    }
}

/// The keys that sign callbacks: the signing keys given (flag or variable, else the profile's),
/// else the sandbox's secret with `--sandbox`, else the API secret. A signing key never falls
/// back to the API secret: a body signed with the API secret is refused by a signing key.
fn keys(args: &SigningKeyArgs, connection: &ConnectionArgs) -> Result<Keys, Failure> {
    let check = |text: &str, what: &str| {
        SigningKey::new(text).map_err(|err| Failure::bad_input(format!("{what}: {err}")))
    };
    let given = signing_keys(args, connection)?;
    if !given.is_empty() {
        return Ok(Keys {
            keys: given,
            source: KeySource::SigningKeys,
        });
    }
    #[cfg(feature = "sandbox")]
    if connection.sandbox {
        return Ok(Keys {
            keys: vec![check(DEFAULT_API_SECRET, "the sandbox's secret")?],
            source: KeySource::Sandbox,
        });
    }
    let secret = connection.api_secret.as_deref().ok_or_else(|| {
        Failure::bad_input(
            "no key: give the webhook's signing key (--signing-key or IDENFY_CALLBACK_SIGNING_KEY), \
             or for an account that signs with the API secret set IDENFY_API_SECRET",
        )
    })?;
    Ok(Keys {
        keys: vec![check(secret, "the API secret")?],
        source: KeySource::ApiSecret,
    })
}

/// The signing keys given, checked: `--signing-key` (or `IDENFY_CALLBACK_SIGNING_KEY`), else
/// the profile's `signing_key`; none when none is given. Never the API secret: that fallback is
/// [`keys`]'s, for the `callback` subcommands (`archive verify` checks no signature without a
/// signing key).
///
/// # Errors
/// A bad-input failure for a key that cannot be one (never showing it).
pub(crate) fn signing_keys(
    args: &SigningKeyArgs,
    connection: &ConnectionArgs,
) -> Result<Vec<SigningKey>, Failure> {
    let given: Vec<&str> = if args.signing_keys.is_empty() {
        connection
            .profile_signing_key
            .as_deref()
            .into_iter()
            .collect()
    } else {
        args.signing_keys.iter().map(String::as_str).collect()
    };
    given
        .into_iter()
        .map(|key| {
            SigningKey::new(key)
                .map_err(|err| Failure::bad_input(format!("the signing key: {err}")))
        })
        .collect()
}

#[cfg(feature = "sandbox")]
async fn send(args: &SendArgs, connection: &ConnectionArgs) -> Result<(), Failure> {
    // Checked the same way as for verify and sign, so that a bad key is named here.
    let keys = keys(&args.keys, connection)?;
    let key_text = match keys.source {
        KeySource::SigningKeys => args
            .keys
            .signing_keys
            .first()
            .or(connection.profile_signing_key.as_ref())
            .cloned(),
        KeySource::ApiSecret => connection.api_secret.clone(),
        KeySource::Sandbox => None,
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
    if let Some(key) = &key_text {
        options = options.signed_with(key);
    }
    if args.tamper {
        options = options.fault(CallbackFault::BadSignature);
    }
    options = options.event(match &args.event {
        None => CallbackEvent::AsIs,
        Some(EventArg::Auto) => CallbackEvent::Auto,
        Some(EventArg::Manual) => CallbackEvent::Manual,
        Some(EventArg::Other(event)) => CallbackEvent::Other(event.clone()),
    });
    let deliveries: Vec<Delivery> = if args.sequence {
        sandbox
            .deliver_sequence(&args.scan_ref, &args.to, &options)
            .await
            .map(Vec::from)
    } else {
        sandbox
            .deliver_callback(&args.scan_ref, &args.to, &options)
            .await
            .map(|delivery| vec![delivery])
    }
    .map_err(|err| match err {
        DeliveryError::UnknownScanRef(_) | DeliveryError::UnsupportedUrl(_) => {
            Failure::bad_input(escape_controls(&err.to_string()).into_owned())
        }
        other => Failure::new(
            FailureKind::Network,
            escape_controls(&other.to_string()).into_owned(),
        ),
    })?;
    for delivery in &deliveries {
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
            "{}\t{}\t{}\t{}{more}",
            answer.status,
            escape_controls(&args.scan_ref),
            delivery.event_type,
            escape_controls(&excerpt)
        );
    }
    match deliveries
        .iter()
        .map(|delivery| delivery.answers[0].status)
        .find(|status| *status != http::StatusCode::OK)
    {
        None => Ok(()),
        Some(status) => Err(Failure::new(
            FailureKind::ReceiverRefused,
            format!("the receiver answered {status}, not 200"),
        )),
    }
}

/// A refused callback as a failure whose kind names the check that failed, and for a mismatch
/// which keys were tried.
fn refusal(error: CallbackError, source: KeySource) -> Failure {
    let kind = match error {
        CallbackError::InvalidPayload { .. } | CallbackError::BodyTooLarge { .. } => {
            FailureKind::CallbackBodyRefused
        }
        _ => FailureKind::SignatureRefused,
    };
    let tried = match (&error, source) {
        (CallbackError::SignatureMismatch, KeySource::SigningKeys) => {
            " (checked with the signing key; a body signed with the API secret is not accepted in its place)"
        }
        (CallbackError::SignatureMismatch, KeySource::ApiSecret) => {
            " (checked with the API secret: a current account signs with the webhook's signing key, --signing-key or IDENFY_CALLBACK_SIGNING_KEY)"
        }
        _ => "",
    };
    Failure::new(kind, format!("{error}{tried}"))
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
fn key_facts(callback: &ResultCallback, signature: &str, event_type: Option<&EventType>) -> String {
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
        ("signature", signature.to_owned()),
        (
            "event type",
            event_type.map_or_else(
                || "-".to_owned(),
                |event| {
                    if event.is_known() {
                        event.to_string()
                    } else {
                        format!("{event} (not one this version knows)")
                    }
                },
            ),
        ),
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
            refusal(CallbackError::SignatureMismatch, KeySource::SigningKeys).kind,
            FailureKind::SignatureRefused
        );
        assert_eq!(
            refusal(CallbackError::MissingSignature, KeySource::ApiSecret).kind,
            FailureKind::SignatureRefused
        );
        assert_eq!(
            refusal(
                CallbackError::BodyTooLarge { size: 2, limit: 1 },
                KeySource::ApiSecret
            )
            .kind,
            FailureKind::CallbackBodyRefused
        );
    }
}
