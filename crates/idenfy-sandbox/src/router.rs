//! Request handling: routing, authentication, body checks, fixtures, faults.

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use idenfy_core::callback::CallbackSecret;
use idenfy_core::{Action, Endpoint, MAX_SCAN_REF_LEN};
use serde_json::Value;

use crate::FAULT_HEADER;
use crate::api_error::ApiError;
use crate::auth::Credentials;
use crate::body::SandboxBody;
use crate::callback::Delivery;
use crate::downloads::{self, FileKind, MediaCache};
use crate::fault::{FaultCounters, FaultSpec, Misbehaviour};
use crate::fixtures::{Fixture, Fixtures, Prepared};
use crate::identifications;
use crate::report_pdf;
use crate::signing::UrlSigner;

const JSON: &str = "application/json";
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
    pub deleted: Mutex<HashSet<String>>,
}

impl State {
    /// Whether `scan_ref` was deleted.
    pub(crate) fn is_deleted(&self, scan_ref: &str) -> bool {
        self.deletions().contains(scan_ref)
    }

    /// Records the deletion of `scan_ref`; `false` when it was deleted before.
    fn delete(&self, scan_ref: &str) -> bool {
        self.deletions().insert(scan_ref.to_owned())
    }

    fn deletions(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.deleted.lock().unwrap_or_else(|e| e.into_inner())
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
struct Reply {
    status: StatusCode,
    content_type: HeaderValue,
    body: Bytes,
    /// `Allow` or `Retry-After`.
    header: Option<(HeaderName, HeaderValue)>,
}

impl Reply {
    fn new(status: StatusCode, content_type: HeaderValue, body: impl Into<Bytes>) -> Self {
        let (body, header) = (body.into(), None);
        Self {
            status,
            content_type,
            body,
            header,
        }
    }

    fn json(body: impl Into<Bytes>) -> Self {
        Self::new(StatusCode::OK, HeaderValue::from_static(JSON), body)
    }

    /// The head of this reply, with `body`.
    fn with_body(self, body: SandboxBody) -> Response<SandboxBody> {
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, self.content_type);
        if let Some((name, value)) = self.header {
            headers.insert(name, value);
        }
        response
    }

    fn into_response(self) -> Response<SandboxBody> {
        let body = SandboxBody::full(self.body.clone());
        self.with_body(body)
    }
}

impl From<ApiError> for Reply {
    fn from(error: ApiError) -> Self {
        let status = error.status_and_identifier().0;
        let mut reply = Reply::new(status, HeaderValue::from_static(JSON), error.body());
        if let ApiError::MethodNotAllowed(allowed) = error {
            reply.header = Some((ALLOW, HeaderValue::from_static(allowed)));
        }
        reply
    }
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
        .unwrap_or_else(|error| Reply::from(error).into_response());
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
            let reply = || page.map(Reply::json);
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
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
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
    let deleted = state.is_deleted(scan_ref);
    let served = match route {
        Route::Action(Action::Delete) if fixture.refuses_deletion => {
            return Err(ApiError::DeletionRefused);
        }
        Route::Action(Action::Delete) if !state.delete(scan_ref) => return Err(ApiError::Deleted),
        Route::Action(Action::Delete) => return Ok(Reply::json(Bytes::new())),
        Route::Lookup(Endpoint::Status) if deleted => {
            let client_id = fixture
                .answer(Endpoint::Status)
                .and_then(|s| s.get("clientId").cloned());
            let status = serde_json::json!({
                "status": "DELETED",
                "scanRef": scan_ref,
                "clientId": client_id.unwrap_or(Value::Null),
            });
            return Ok(Reply::json(status.to_string()));
        }
        _ if deleted => return Err(ApiError::Deleted),
        Route::Lookup(endpoint) => fixture.responses.get(&endpoint),
        _ => {
            let pdf = report_pdf::identification_report(&state.fixtures, scan_ref);
            let pdf = pdf.ok_or(ApiError::UnknownScanRef)?;
            return Ok(Reply::new(
                StatusCode::OK,
                HeaderValue::from_static(PDF),
                pdf,
            ));
        }
    };
    Ok(match served.ok_or(ApiError::UnknownScanRef)? {
        Prepared::Json(body) => Reply::json(body.clone()),
        Prepared::FileTable(files) => Reply::json(state.file_table(scan_ref, files).to_string()),
        Prepared::Raw(raw) => Reply::new(raw.status, raw.content_type.clone(), raw.body.clone()),
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
    if state.is_deleted(scan_ref) {
        return Err(ApiError::Deleted);
    }
    let content_type = HeaderValue::from_static(downloads::format(&kind).1);
    let body = state.media.get(&kind, fixture.video_bytes);
    let reply = || Ok(Reply::new(StatusCode::OK, content_type, body));
    let fault = fault.or_else(|| fixture.download_fault.clone());
    Ok(faulted(state, fault, scan_ref, reply).await)
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
    let answer = || answer().unwrap_or_else(Reply::from);
    let Some(fault) = fault.filter(|fault| state.counters.applies(fault, scan_ref)) else {
        return answer().into_response();
    };
    let reply = match fault.misbehaviour {
        Some(Misbehaviour::Status(status)) => status_fault(status, fault.retry_after_header()),
        _ => answer(),
    };
    if let Some(delay) = fault.delay {
        tokio::time::sleep(delay).await;
    }
    match fault.misbehaviour {
        None | Some(Misbehaviour::Status(_)) => reply.into_response(),
        Some(Misbehaviour::WrongContentType) => Reply {
            content_type: HeaderValue::from_static("text/html; charset=utf-8"),
            ..reply
        }
        .into_response(),
        Some(Misbehaviour::TruncatedJson) => Reply {
            body: reply.body.slice(..reply.body.len() / 2),
            ..reply
        }
        .into_response(),
        Some(Misbehaviour::CloseMidBody) => {
            let full_len = reply.body.len();
            let prefix = reply.body.slice(..full_len / 2);
            let mut response = reply.with_body(SandboxBody::abort_after(prefix));
            let headers = response.headers_mut();
            headers.insert(CONTENT_LENGTH, HeaderValue::from(full_len));
            response
        }
        Some(Misbehaviour::EndlessBody) => {
            Reply::json(Bytes::new()).with_body(SandboxBody::endless())
        }
    }
}

/// What a server or the proxy in front of it sends with each fault status.
fn status_fault(status: StatusCode, retry_after: Option<u64>) -> Reply {
    let mut reply = match status {
        StatusCode::TOO_MANY_REQUESTS => Reply::from(ApiError::TooManyRequests),
        StatusCode::INTERNAL_SERVER_ERROR => Reply::from(ApiError::Internal),
        other => {
            let reason = other.canonical_reason().unwrap_or("Error");
            let code = other.as_u16();
            let html = HeaderValue::from_static("text/html");
            Reply::new(
                other,
                html,
                format!(
                    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
                ),
            )
        }
    };
    reply.header = retry_after.map(|seconds| (RETRY_AFTER, HeaderValue::from(seconds)));
    reply
}
