//! Result callbacks: the body iDenfy would `POST` for each fixture's identification, and its
//! delivery, signed like iDenfy signs it, to a receiver under test.
//!
//! A fixture's callback is built from its own answers (the same scanRef and clientId, the
//! status and results of `/status` and `/full-status`, the `/data` object, and `/files` URLs
//! signed by this sandbox, so they download from it), unless the fixture gives one. The
//! signature is the hex HMAC-SHA256 of the body, in the `Idenfy-Signature` header, keyed with
//! the sandbox's API secret (as older accounts sign) unless a signing key is given (as the
//! vendor signs today, with each webhook's own key). Each delivery names its kind in
//! `Idenfy-Event-Type`, and [`DeliveryOptions::sequence`] plays what the vendor sends for one
//! identification: the automatic result (`final: false`), then the manual one (`final: true`).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use idenfy_core::CredentialsError;
use idenfy_core::Endpoint;
use idenfy_core::callback::{CallbackSecret, sign};
use idenfy_core::models::{CalendarDateTime, EventType};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;

use crate::fixtures::{Fixture, Prepared};
use crate::router::State;

/// The header that names a delivery's kind, as idenfy-core defines it.
pub use idenfy_core::callback::EVENT_TYPE_HEADER;
/// The header that carries the signature, as idenfy-core defines it.
pub use idenfy_core::callback::SIGNATURE_HEADER;
/// How long a delivery waits for the receiver (connecting, and then its whole answer) by
/// default.
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer body is kept by default; the rest is not read.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Deliveries the sandbox remembers; older ones are forgotten first.
const MAX_RECORDED_DELIVERIES: usize = 1000;

/// The callback body of `scan_ref` and its content type, or `None` for an unknown scanRef.
pub(crate) fn callback_body(state: &State, scan_ref: &str) -> Option<(HeaderValue, Bytes)> {
    let fixture = state.fixtures.get(scan_ref)?;
    if let Some(given) = &fixture.callback {
        return Some((given.content_type.clone(), given.body.clone()));
    }
    let body = derive(state, scan_ref, fixture).to_string();
    Some((HeaderValue::from_static("application/json"), body.into()))
}

/// The callback a fixture's answers describe. Keys the callback and the answers share carry the
/// same values; what no answer says is `null` (or absent, for the keys the tables omit).
fn derive(state: &State, scan_ref: &str, fixture: &Fixture) -> Value {
    let status = fixture.answer(Endpoint::Status).unwrap_or_default();
    let full = fixture.answer(Endpoint::FullStatus).unwrap_or_default();
    let data = fixture.answer(Endpoint::Data);
    let field =
        |object: &Map<String, Value>, key: &str| object.get(key).cloned().unwrap_or(Value::Null);
    let overall = field(&status, "status");
    let file_urls = match fixture.responses.get(&Endpoint::Files) {
        Some(Prepared::FileTable(files)) => state.file_table(scan_ref, files),
        _ => Value::Null,
    };
    let client_id = status
        .get("clientId")
        .or_else(|| data.as_ref()?.get("clientId"));
    // A result still under review is preliminary; every other status is the final word.
    let is_final = !matches!(overall.as_str(), Some("REVIEWING" | "ACTIVE"));
    json!({
        "final": is_final,
        "platform": "PC",
        "scanRef": scan_ref,
        "externalRef": null,
        "clientId": client_id,
        "startTime": unix_seconds(&full, "start_time"),
        "finishTime": unix_seconds(&full, "finish_time"),
        "clientIp": null,
        "status": {
            "overall": overall,
            "suspicionReasons": full.get("suspection_reasons").cloned().unwrap_or_else(|| json!([])),
            "mismatchTags": [],
            "autoDocument": field(&full, "document_validity"),
            "autoFace": field(&full, "face_match_result"),
            "manualDocument": field(&full, "manual_document_validity"),
            "manualFace": field(&full, "manual_face_match_result"),
            "fraudTags": [],
            // A documented key of the status; the sandbox's fixtures run no additional steps.
            "additionalSteps": null,
        },
        "data": data,
        "fileUrls": file_urls,
    })
}

/// The time at `key` (`2020-06-26 09:54:32`, UTC) as seconds since the Unix epoch; `None` when
/// there is no such time.
fn unix_seconds(full_status: &Map<String, Value>, key: &str) -> Option<i64> {
    let time: CalendarDateTime = full_status.get(key)?.as_str()?.parse().ok()?;
    let date = time.date();
    let (year, month, day) = (i64::from(date.year()), i64::from(date.month()), date.day());
    // Days from 1970-01-01 to the date (Howard Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let (era, year_of_era) = (year.div_euclid(400), year.rem_euclid(400));
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = i64::from(time.hour()) * 3600 + i64::from(time.minute()) * 60;
    Some(days * 86_400 + seconds + i64::from(time.second()))
}

/// A fault a receiver must cope with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackFault {
    /// The signature of another body: the receiver must refuse it.
    BadSignature,
    /// No `Idenfy-Signature` header: the receiver must refuse it.
    MissingSignature,
    /// The same signed callback twice: the receiver must accept both and act once.
    Duplicate,
}

impl std::str::FromStr for CallbackFault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "bad-signature" => Ok(Self::BadSignature),
            "missing-signature" => Ok(Self::MissingSignature),
            "duplicate" => Ok(Self::Duplicate),
            other => Err(format!(
                "unknown callback fault `{}`; expected bad-signature, missing-signature or duplicate",
                other.escape_debug()
            )),
        }
    }
}

/// Which of the vendor's result webhooks a delivery plays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackEvent {
    /// The fixture's callback as it is, with `IDENTIFICATION_AUTO_FINISHED` (the default).
    AsIs,
    /// The automatic result: `IDENTIFICATION_AUTO_FINISHED`, with `final: false` (a manual
    /// review follows).
    Auto,
    /// The manual review's result: `IDENTIFICATION_MANUAL_FINISHED`, with `final: true`.
    Manual,
    /// The fixture's callback as it is, under another event type.
    Other(EventType),
}

impl CallbackEvent {
    /// The event type the delivery names, and the `final` it sets (`None`: the body's own).
    fn header_and_final(&self) -> (EventType, Option<bool>) {
        match self {
            CallbackEvent::AsIs => (EventType::IdentificationAutoFinished, None),
            CallbackEvent::Auto => (EventType::IdentificationAutoFinished, Some(false)),
            CallbackEvent::Manual => (EventType::IdentificationManualFinished, Some(true)),
            CallbackEvent::Other(event) => (event.clone(), None),
        }
    }
}

/// How to deliver a callback.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    fault: Option<CallbackFault>,
    timeout: Duration,
    max_answer_bytes: usize,
    signer: Option<Result<CallbackSecret, CredentialsError>>,
    event: CallbackEvent,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            fault: None,
            timeout: DEFAULT_DELIVERY_TIMEOUT,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            signer: None,
            event: CallbackEvent::AsIs,
        }
    }
}

impl DeliveryOptions {
    /// Options with the defaults: no fault, [`DEFAULT_DELIVERY_TIMEOUT`],
    /// [`DEFAULT_MAX_ANSWER_BYTES`], signed with the sandbox's API secret.
    pub fn new() -> Self {
        Self::default()
    }

    /// Delivers with `fault`.
    pub fn fault(mut self, fault: CallbackFault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// How long each delivery may take, from connecting to the end of the answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How much of the receiver's answer body is kept.
    pub fn max_answer_bytes(mut self, limit: usize) -> Self {
        self.max_answer_bytes = limit;
        self
    }

    /// Signs with `key` instead of the sandbox's API secret: a webhook's signing key (as the
    /// vendor signs today), or your real API secret (as older accounts sign), to test a
    /// receiver configured with it. A key idenfy-core refuses (white space, a control
    /// character) makes the delivery fail with [`DeliveryError::Secret`].
    pub fn signed_with(mut self, key: &str) -> Self {
        self.signer = Some(CallbackSecret::new(key));
        self
    }

    /// Plays `event`: its `Idenfy-Event-Type`, and for [`CallbackEvent::Auto`] and
    /// [`CallbackEvent::Manual`] the `final` the vendor sends with it.
    pub fn event(mut self, event: CallbackEvent) -> Self {
        self.event = event;
        self
    }

    /// The two deliveries the vendor makes for an identification that is reviewed by hand:
    /// these options as [`CallbackEvent::Auto`], then as [`CallbackEvent::Manual`]. For
    /// [`SandboxHandle::deliver_sequence`](crate::SandboxHandle::deliver_sequence).
    pub fn sequence(&self) -> [DeliveryOptions; 2] {
        [
            self.clone().event(CallbackEvent::Auto),
            self.clone().event(CallbackEvent::Manual),
        ]
    }
}

/// What the receiver answered to one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverAnswer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The start of the answer's body, up to the limit.
    pub body: Bytes,
    /// Whether the body went on past the limit.
    pub truncated: bool,
}

/// One callback delivery and what the receiver answered.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The identification.
    pub scan_ref: String,
    /// Where it was sent.
    pub url: String,
    /// The fault it was sent with.
    pub fault: Option<CallbackFault>,
    /// The `Idenfy-Event-Type` it was sent with.
    pub event_type: EventType,
    /// One answer per POST (two for [`CallbackFault::Duplicate`]).
    pub answers: Vec<ReceiverAnswer>,
}

impl Delivery {
    /// Whether every POST was answered `200`.
    pub fn all_ok(&self) -> bool {
        self.answers.iter().all(|a| a.status == StatusCode::OK)
    }
}

/// Why a callback could not be delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// No fixture has this scanRef.
    #[error("no fixture has the scanRef `{}`", .0.escape_debug())]
    UnknownScanRef(String),
    /// The URL is not one the sandbox delivers to.
    #[error("cannot deliver to this URL: {0}")]
    UnsupportedUrl(String),
    /// The receiver could not be reached, or broke off.
    #[error("the receiver at {url} failed: {reason}")]
    Receiver {
        /// Where.
        url: String,
        /// What happened.
        reason: String,
    },
    /// The secret given to [`DeliveryOptions::signed_with`] cannot be an API secret.
    #[error("cannot sign with this secret: {0}")]
    Secret(CredentialsError),
    /// The receiver did not answer in time.
    #[error("the receiver at {url} did not answer within {timeout:?}")]
    Timeout {
        /// Where.
        url: String,
        /// The limit.
        timeout: Duration,
    },
}

/// Where a delivery goes, and the host and port to connect to: a plain-HTTP URL on this
/// machine. The sandbox has no TLS of its own, and a test tool must not post personal-looking
/// data across a network.
fn target(url: &str) -> Result<(Uri, String, u16), DeliveryError> {
    let unsupported = |reason: &str| Err(DeliveryError::UnsupportedUrl(reason.to_owned()));
    let Ok(uri) = url.parse::<Uri>() else {
        return unsupported("not an absolute http:// URL");
    };
    if uri.scheme_str() != Some("http") {
        return unsupported(
            "the sandbox delivers over plain HTTP to this machine only (http://127.0.0.1:PORT/...)",
        );
    }
    let Some(host) = uri
        .host()
        .filter(|host| idenfy_core::is_loopback_host(host))
    else {
        return unsupported(
            "the sandbox delivers to this machine only (127.0.0.1, ::1 or localhost)",
        );
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(80);
    Ok((uri, host, port))
}

/// Delivers the callback of `scan_ref` to `url` and records what the receiver answered.
pub(crate) async fn deliver(
    state: &State,
    scan_ref: &str,
    url: &str,
    options: &DeliveryOptions,
) -> Result<Delivery, DeliveryError> {
    let (content_type, body) = callback_body(state, scan_ref)
        .ok_or_else(|| DeliveryError::UnknownScanRef(scan_ref.to_owned()))?;
    let (event_type, final_) = options.event.header_and_final();
    let body = match final_ {
        Some(value) => with_final(body, value),
        None => body,
    };
    let (uri, host, port) = target(url)?;
    let signer = match &options.signer {
        None => &state.callback_secret,
        Some(Ok(secret)) => secret,
        Some(Err(refused)) => return Err(DeliveryError::Secret(refused.clone())),
    };
    let signature = match options.fault {
        None | Some(CallbackFault::Duplicate) => Some(sign(signer, &body)),
        // The signature of a body that differs in its last byte: well formed, and wrong.
        Some(CallbackFault::BadSignature) => {
            let mut other = body.to_vec();
            match other.last_mut() {
                Some(last) => *last ^= 1,
                None => other.push(b' '),
            }
            Some(sign(signer, &other))
        }
        Some(CallbackFault::MissingSignature) => None,
    };
    let posts = 1 + usize::from(options.fault == Some(CallbackFault::Duplicate));
    let mut answers = Vec::with_capacity(posts);
    for _ in 0..posts {
        let path = uri.path_and_query().map_or("/", |path| path.as_str());
        let request = Request::post(path)
            .header(HOST, uri.authority().map_or("", |a| a.as_str()))
            .header(CONTENT_TYPE, content_type.clone())
            .header(CONTENT_LENGTH, body.len())
            .header(
                USER_AGENT,
                concat!("idenfy-sandbox/", env!("CARGO_PKG_VERSION")),
            )
            .header(EVENT_TYPE_HEADER, event_type.as_str());
        let request = match &signature {
            Some(signature) => request.header(SIGNATURE_HEADER, signature.as_str()),
            None => request,
        };
        let request = request
            .body(Full::new(body.clone()))
            .map_err(|e| DeliveryError::UnsupportedUrl(e.to_string()))?;
        let answer = tokio::time::timeout(
            options.timeout,
            post((host.as_str(), port), request, options.max_answer_bytes),
        )
        .await
        .map_err(|_| DeliveryError::Timeout {
            url: url.to_owned(),
            timeout: options.timeout,
        })?
        .map_err(|reason| DeliveryError::Receiver {
            url: url.to_owned(),
            reason,
        })?;
        answers.push(answer);
    }
    let delivery = Delivery {
        scan_ref: scan_ref.to_owned(),
        url: url.to_owned(),
        fault: options.fault,
        event_type,
        answers,
    };
    let mut log = state.deliveries.lock().unwrap_or_else(|e| e.into_inner());
    if log.len() >= MAX_RECORDED_DELIVERIES {
        log.remove(0);
    }
    log.push(delivery.clone());
    Ok(delivery)
}

/// `body` with its `final` set to `value`. A body that is not a JSON object (a fixture's raw
/// callback) is sent as it is: raw means byte for byte.
fn with_final(body: Bytes, value: bool) -> Bytes {
    match serde_json::from_slice::<Map<String, Value>>(&body) {
        Ok(mut object) => {
            object.insert("final".to_owned(), Value::Bool(value));
            serde_json::to_vec(&object).map_or(body, Bytes::from)
        }
        Err(_) => body,
    }
}

/// One POST on a new connection, keeping at most `limit` bytes of the answer.
async fn post(
    addr: (&str, u16),
    request: Request<Full<Bytes>>,
    limit: usize,
) -> Result<ReceiverAnswer, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let mut body = response.into_body();
    let mut kept = BytesMut::new();
    let mut truncated = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(data) = frame.into_data() {
            let room = limit.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            if data.len() > room {
                // Stop reading: the rest of the answer is not the sandbox's to hold.
                truncated = true;
                break;
            }
        }
    }
    drop(body);
    driver.abort();
    Ok(ReceiverAnswer {
        status,
        body: kept.freeze(),
        truncated,
    })
}
