//! Request handling: routing, authentication, body checks, fixtures, faults.

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::{Body as _, Incoming};
use idenfy_core::callback::CallbackSecret;
use idenfy_core::{Action, Endpoint, MAX_SCAN_REF_LEN};
use serde_json::Value;

use crate::FAULT_HEADER;
use crate::api_error::ApiError;
use crate::auth::Credentials;
use crate::body::{self, SandboxBody};
use crate::callback::Delivery;
use crate::downloads::{self, FileKind, MediaCache};
use crate::fault::{FaultCounters, FaultSpec, Misbehaviour};
use crate::fixtures::{Fixture, Fixtures, Prepared};
use crate::identifications;
use crate::report_pdf;
use crate::signing::UrlSigner;

pub(crate) const JSON: &str = "application/json";
/// The one shape the sandbox answers `/generate-pdf` in: the PDF itself (the vendor's page
/// leaves the shape open; clients accept base64 and JSON too, as the README's
/// "The report and deletion" says).
const PDF: &str = "application/pdf";

/// Everything a request handler needs, shared by all connections.
pub(crate) struct State {
    pub credentials: Credentials,
    pub fixtures: Fixtures,
    pub signer: UrlSigner,
    pub counters: FaultCounters,
    pub media: MediaCache,
    pub base_url: String,
    pub file_url_ttl: Duration,
    pub max_body_bytes: usize,
    pub body_read_timeout: Duration,
    pub access_log: bool,
    pub callback_secret: CallbackSecret,
    /// The callbacks delivered, newest last.
    pub deliveries: Mutex<Vec<Delivery>>,
    /// The scanRefs whose data `/delete` deleted, for the life of the sandbox. Fixtures
    /// themselves never change: a deleted identification is answered from this set instead.
    pub deletions: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for State {
    // The base URL only: the rest holds keys and (fictional) personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl State {
    /// The scanRefs deleted so far.
    pub(crate) fn deleted(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.deletions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The `/files` table of `scan_ref`: URLs on this sandbox, signed with a fresh expiry.
    pub(crate) fn file_table(&self, scan_ref: &str, files: &[FileKind]) -> Value {
        downloads::file_table(files, |kind| {
            let path = downloads::download_path(scan_ref, kind);
            let query = self.signer.query_for(&path, self.file_url_ttl);
            format!("{}{path}?{query}", self.base_url)
        })
    }
}

/// A response before it is put on the wire, so faults can still reshape it.
type Reply = Response<Bytes>;

pub(crate) fn reply(
    status: StatusCode,
    content_type: HeaderValue,
    body: impl Into<Bytes>,
) -> Reply {
    let mut reply = Response::new(body.into());
    *reply.status_mut() = status;
    reply.headers_mut().insert(CONTENT_TYPE, content_type);
    reply
}

fn json(body: impl Into<Bytes>) -> Reply {
    reply(StatusCode::OK, HeaderValue::from_static(JSON), body)
}

/// What a request is for.
#[derive(Debug, Clone, Copy)]
enum Route {
    Lookup(Endpoint),
    Action(Action),
    /// `GET /kyc/identifications/`.
    List,
    /// `GET` of a `/files` download URL.
    Download,
}

/// Answers one request and writes the access-log line.
pub(crate) async fn handle(state: &State, request: Request<Incoming>) -> Response<SandboxBody> {
    let started = Instant::now();
    let method = request.method().clone();
    // The path only: the query of a download URL carries its signature.
    let path = request.uri().path().to_owned();
    let response = route(state, request)
        .await
        .unwrap_or_else(|error| error.into_response().map(body::full));
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        target: "idenfy_sandbox::access",
        %method, %path, status, latency_us = elapsed.as_micros() as u64,
        "request"
    );
    if state.access_log {
        // Not eprintln!: it panics when stderr is closed, and a log line is
        // not worth a connection.
        let _ = writeln!(
            std::io::stderr(),
            "idenfy-sandbox: {method} {path} {status} {:.3}ms",
            elapsed.as_secs_f64() * 1000.0
        );
    }
    response
}

/// Checks what every request must pass (the method, the credentials or a download URL's
/// signature, a fault header that parses), then answers it.
async fn route(
    state: &State,
    request: Request<Incoming>,
) -> Result<Response<SandboxBody>, ApiError> {
    let path = request.uri().path();
    let route = if path.starts_with("/files/") {
        Route::Download
    } else if identifications::is_list_path(path) {
        Route::List
    } else if let Some(endpoint) = Endpoint::from_path(path) {
        Route::Lookup(endpoint)
    } else {
        Route::Action(Action::from_path(path).ok_or(ApiError::UnknownPath)?)
    };
    let (method, allowed) = match route {
        Route::Lookup(_) | Route::Action(_) => (Method::POST, "POST"),
        Route::List | Route::Download => (Method::GET, "GET"),
    };
    if request.method() != method {
        return Err(ApiError::MethodNotAllowed(allowed));
    }
    if let Route::Download = route {
        let query = request.uri().query();
        let checked = state.signer.check(path, query);
        checked.map_err(ApiError::ForbiddenDownload)?;
    } else {
        let authorization = request.headers().get(AUTHORIZATION);
        if !state
            .credentials
            .accepts(authorization.map(HeaderValue::as_bytes))
        {
            return Err(ApiError::Unauthorized);
        }
    }
    let fault = header_fault(&request)?;
    match route {
        Route::Download => download(state, path, fault).await,
        Route::List => {
            let page = identifications::page(state, request.uri().query());
            let reply = || page.map(json);
            Ok(faulted(state, fault, identifications::PATH, reply).await)
        }
        Route::Lookup(_) | Route::Action(_) => {
            let scan_ref = read_scan_ref(state, request).await?;
            let fixture = state.fixtures.get(&scan_ref);
            let fault = fault.or_else(|| fixture.and_then(|f| f.fault.clone()));
            let reply = || answer(state, route, &scan_ref, fixture);
            Ok(faulted(state, fault, &scan_ref, reply).await)
        }
    }
}

fn header_fault(request: &Request<Incoming>) -> Result<Option<FaultSpec>, ApiError> {
    let Some(value) = request.headers().get(FAULT_HEADER) else {
        return Ok(None);
    };
    let spec = value
        .to_str()
        .map_err(|_| ApiError::BadValue(format!("{FAULT_HEADER} header is not ASCII.")))?;
    FaultSpec::parse(spec)
        .map(Some)
        .map_err(|e| ApiError::BadValue(format!("{FAULT_HEADER} header: {e}.")))
}

/// Reads the body (within the cap and the time limit) and extracts a valid scanRef.
async fn read_scan_ref(state: &State, request: Request<Incoming>) -> Result<String, ApiError> {
    let limit = state.max_body_bytes;
    // hyper reads the declared `Content-Length` into the size hint.
    if request.body().size_hint().lower() > limit as u64 {
        return Err(ApiError::BodyTooLarge(limit));
    }
    // A client that sends its headers and then stalls must not hold a connection task forever.
    let body = tokio::time::timeout(
        state.body_read_timeout,
        Limited::new(request.into_body(), limit).collect(),
    )
    .await
    .map_err(|_| ApiError::BodyTimeout(state.body_read_timeout))?
    .map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            ApiError::BodyTooLarge(limit)
        } else {
            ApiError::BadValue("Request body could not be read.".into())
        }
    })?
    .to_bytes();
    let value: Value = serde_json::from_slice(&body).map_err(|_| ApiError::Json)?;
    let Value::Object(object) = value else {
        return Err(ApiError::BadValue(
            "Request body must be a JSON object.".into(),
        ));
    };
    match object.get("scanRef") {
        None | Some(Value::Null) => Err(ApiError::MissingValue("scanRef")),
        Some(Value::String(s)) if s.is_empty() => Err(ApiError::MissingValue("scanRef")),
        Some(Value::String(s)) if s.chars().count() > MAX_SCAN_REF_LEN => Err(ApiError::BadValue(
            format!("'scanRef' must be at most {MAX_SCAN_REF_LEN} characters."),
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::BadValue("'scanRef' must be a string.".into())),
    }
}

/// The answer of an endpoint or action for `scan_ref`.
///
/// `/delete` answers 200 with no body, once; afterwards 404 `NOT_FOUND` (the sandbox's answer
/// to a second deletion), and a fixture with `"deletion": "refused"` answers 400
/// `PARTNER_ERROR`. Once deleted, `/status` answers `DELETED` with the scanRef and the partner's
/// own `clientId` and nothing else, and every other endpoint 404.
fn answer(
    state: &State,
    route: Route,
    scan_ref: &str,
    fixture: Option<&Fixture>,
) -> Result<Reply, ApiError> {
    let fixture = fixture.ok_or(ApiError::UnknownScanRef)?;
    let deleted = state.deleted().contains(scan_ref);
    let served = match route {
        Route::Action(Action::Delete) if fixture.refuses_deletion => {
            return Err(ApiError::DeletionRefused);
        }
        Route::Action(Action::Delete) if !state.deleted().insert(scan_ref.to_owned()) => {
            return Err(ApiError::Deleted);
        }
        Route::Action(Action::Delete) => return Ok(json(Bytes::new())),
        Route::Lookup(Endpoint::Status) if deleted => {
            let client_id = fixture
                .answer(Endpoint::Status)
                .and_then(|s| s.get("clientId").cloned());
            let status = serde_json::json!({
                "status": "DELETED",
                "scanRef": scan_ref,
                "clientId": client_id.unwrap_or(Value::Null),
            });
            return Ok(json(status.to_string()));
        }
        _ if deleted => return Err(ApiError::Deleted),
        Route::Lookup(endpoint) => fixture.responses.get(&endpoint),
        _ => {
            let pdf = report_pdf::identification_report(&state.fixtures, scan_ref);
            let pdf = pdf.ok_or(ApiError::UnknownScanRef)?;
            return Ok(reply(StatusCode::OK, HeaderValue::from_static(PDF), pdf));
        }
    };
    Ok(match served.ok_or(ApiError::UnknownScanRef)? {
        Prepared::Json(body) => json(body.clone()),
        Prepared::FileTable(files) => json(state.file_table(scan_ref, files).to_string()),
        Prepared::Raw(raw) => reply(raw.status, raw.content_type.clone(), raw.body.clone()),
    })
}

/// A `/files` download: a URL issued before the deletion leads nowhere after it.
async fn download(
    state: &State,
    path: &str,
    fault: Option<FaultSpec>,
) -> Result<Response<SandboxBody>, ApiError> {
    // A valid signature means the sandbox issued this path, but the fixture may still lack the
    // file if the URL was edited and re-signed elsewhere; answer 404 rather than trusting it.
    let (scan_ref, kind, fixture) =
        downloads::resolve(&state.fixtures, path).ok_or(ApiError::UnknownPath)?;
    if state.deleted().contains(scan_ref) {
        return Err(ApiError::Deleted);
    }
    let content_type = HeaderValue::from_static(downloads::format(&kind).1);
    let body = state.media.get(&kind, fixture.video_bytes);
    let answer = || Ok(reply(StatusCode::OK, content_type, body));
    let fault = fault.or_else(|| fixture.download_fault.clone());
    Ok(faulted(state, fault, scan_ref, answer).await)
}

/// The reply `answer` gives, reshaped by the fault if it is due. A fault that answers with a
/// status stands for a request that never reached the API: `answer` is not called, so it
/// deletes nothing; every other fault (a cut connection, a delay) comes after it.
async fn faulted(
    state: &State,
    fault: Option<FaultSpec>,
    scan_ref: &str,
    answer: impl FnOnce() -> Result<Reply, ApiError>,
) -> Response<SandboxBody> {
    let answer = || answer().unwrap_or_else(ApiError::into_response);
    let Some(fault) = fault.filter(|fault| state.counters.applies(fault, scan_ref)) else {
        return answer().map(body::full);
    };
    let mut reply = match fault.misbehaviour {
        Some(Misbehaviour::Status(status)) => status_fault(status, fault.retry_after_header()),
        _ => answer(),
    };
    if let Some(delay) = fault.delay {
        tokio::time::sleep(delay).await;
    }
    let half = reply.body().len() / 2;
    match fault.misbehaviour {
        None | Some(Misbehaviour::Status(_)) => reply.map(body::full),
        Some(Misbehaviour::WrongContentType) => {
            let html = HeaderValue::from_static("text/html; charset=utf-8");
            reply.headers_mut().insert(CONTENT_TYPE, html);
            reply.map(body::full)
        }
        Some(Misbehaviour::TruncatedJson) => reply.map(|bytes| body::full(bytes.slice(..half))),
        Some(Misbehaviour::CloseMidBody) => {
            let full_len = HeaderValue::from(reply.body().len());
            reply.headers_mut().insert(CONTENT_LENGTH, full_len);
            reply.map(|bytes| body::abort_after(bytes.slice(..half)))
        }
        Some(Misbehaviour::EndlessBody) => json(Bytes::new()).map(|_| body::endless()),
    }
}

/// What a server or the proxy in front of it sends with each fault status.
fn status_fault(status: StatusCode, retry_after: Option<u64>) -> Reply {
    let mut reply = match status {
        StatusCode::TOO_MANY_REQUESTS => ApiError::TooManyRequests.into_response(),
        StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal.into_response(),
        other => {
            let reason = other.canonical_reason().unwrap_or("Error");
            let code = other.as_u16();
            let html = HeaderValue::from_static("text/html");
            reply(
                other,
                html,
                format!(
                    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
                ),
            )
        }
    };
    if let Some(seconds) = retry_after {
        reply
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    reply
}
