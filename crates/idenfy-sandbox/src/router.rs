//! Request handling: routing, authentication, body checks, fixtures, faults.

use std::io::Write as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use idenfy_core::{Action, MAX_SCAN_REF_LEN};
use serde_json::Value;

use crate::FAULT_HEADER;
use crate::api_error::ApiError;
use crate::auth::Credentials;
use crate::body::SandboxBody;
use crate::callback::{CallbackSigner, DeliveryLog};
use crate::deletions::Deletions;
use crate::downloads::{self, MediaCache};
use crate::endpoint::Endpoint;
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
    pub callback_signer: CallbackSigner,
    pub deliveries: DeliveryLog,
    pub deletions: Deletions,
}

/// A response before it is put on the wire, so faults can still reshape it.
struct Reply {
    status: StatusCode,
    content_type: String,
    body: Bytes,
    allow: Option<&'static str>,
    retry_after: Option<u64>,
}

impl Reply {
    fn json(body: Bytes) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: JSON.to_owned(),
            body,
            allow: None,
            retry_after: None,
        }
    }

    fn into_response(self) -> Response<SandboxBody> {
        let mut builder = Response::builder()
            .status(self.status)
            .header(CONTENT_TYPE, self.content_type);
        if let Some(allow) = self.allow {
            builder = builder.header(ALLOW, allow);
        }
        if let Some(seconds) = self.retry_after {
            builder = builder.header(RETRY_AFTER, seconds);
        }
        builder
            .body(SandboxBody::full(self.body))
            .unwrap_or_else(|_| plain_500())
    }
}

impl From<ApiError> for Reply {
    fn from(error: ApiError) -> Self {
        Self {
            status: error.status,
            content_type: JSON.to_owned(),
            body: Bytes::from(error.body()),
            allow: None,
            retry_after: None,
        }
    }
}

fn plain_500() -> Response<SandboxBody> {
    let mut response = Response::new(SandboxBody::full(Bytes::new()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// Answers one request and writes the access-log line.
pub(crate) async fn handle(state: &State, request: Request<Incoming>) -> Response<SandboxBody> {
    let started = Instant::now();
    let method = request.method().clone();
    // The path only: the query of a download URL carries its signature.
    let path = request.uri().path().to_owned();
    let response = route(state, request).await;
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

async fn route(state: &State, request: Request<Incoming>) -> Response<SandboxBody> {
    let path = request.uri().path();
    if path.starts_with("/files/") {
        return download(state, &request).await;
    }
    if identifications::is_list_path(path) {
        return list(state, &request).await;
    }
    let target = match (Endpoint::from_path(path), Action::from_path(path)) {
        (Some(endpoint), _) => Target::Lookup(endpoint),
        (None, Some(action)) => Target::Action(action),
        (None, None) => return Reply::from(ApiError::unknown_path()).into_response(),
    };
    if request.method() != Method::POST {
        let mut reply = Reply::from(ApiError::method_not_allowed());
        reply.allow = Some("POST");
        return reply.into_response();
    }
    if !state.credentials.accepts(
        request
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
    ) {
        return Reply::from(ApiError::unauthorized()).into_response();
    }
    let header_fault = match header_fault(&request) {
        Ok(fault) => fault,
        Err(reply) => return reply.into_response(),
    };
    let scan_ref = match read_scan_ref(state, request).await {
        Ok(scan_ref) => scan_ref,
        Err(error) => return Reply::from(error).into_response(),
    };
    let fixture = state.fixtures.get(&scan_ref);
    let fault = header_fault.or_else(|| fixture.and_then(|f| f.fault.clone()));
    let endpoint = match target {
        Target::Lookup(endpoint) => endpoint,
        Target::Action(Action::Delete) => return delete(state, fault, &scan_ref, fixture).await,
        Target::Action(_) => {
            let reply = report_reply(state, &scan_ref, fixture);
            return with_fault(state, fault, &scan_ref, reply).await;
        }
    };
    let deleted = fixture.is_some() && state.deletions.contains(&scan_ref);
    if deleted {
        let reply = match endpoint {
            Endpoint::Status => deleted_status(&scan_ref, fixture),
            _ => Reply::from(ApiError::deleted()),
        };
        return with_fault(state, fault, &scan_ref, reply).await;
    }
    let reply = match fixture.and_then(|f| f.responses.get(&endpoint)) {
        None => Reply::from(ApiError::unknown_scan_ref()),
        Some(Prepared::Json(body)) => Reply::json(body.clone()),
        Some(Prepared::FileTable(files)) => file_table_reply(state, &scan_ref, files),
        Some(Prepared::Raw(raw)) => Reply {
            status: raw.status,
            content_type: raw.content_type.clone(),
            body: raw.body.clone(),
            allow: None,
            retry_after: None,
        },
    };
    with_fault(state, fault, &scan_ref, reply).await
}

fn header_fault(request: &Request<Incoming>) -> Result<Option<FaultSpec>, Reply> {
    let Some(value) = request.headers().get(FAULT_HEADER) else {
        return Ok(None);
    };
    let spec = value.to_str().map_err(|_| {
        Reply::from(ApiError::bad_value(format!(
            "{FAULT_HEADER} header is not ASCII."
        )))
    })?;
    FaultSpec::parse(spec)
        .map(Some)
        .map_err(|e| Reply::from(ApiError::bad_value(format!("{FAULT_HEADER} header: {e}."))))
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
        return Err(ApiError::body_too_large(limit));
    }
    // A client that sends its headers and then stalls must not hold a connection task forever.
    let body = tokio::time::timeout(
        state.body_read_timeout,
        Limited::new(request.into_body(), limit).collect(),
    )
    .await
    .map_err(|_| ApiError::body_timeout(state.body_read_timeout))?
    .map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            ApiError::body_too_large(limit)
        } else {
            ApiError::bad_value("Request body could not be read.")
        }
    })?
    .to_bytes();
    let value: Value = serde_json::from_slice(&body).map_err(|_| ApiError::json_error())?;
    let Value::Object(object) = value else {
        return Err(ApiError::bad_value("Request body must be a JSON object."));
    };
    match object.get("scanRef") {
        None | Some(Value::Null) => Err(ApiError::missing_value("scanRef")),
        Some(Value::String(s)) if s.is_empty() => Err(ApiError::missing_value("scanRef")),
        Some(Value::String(s)) if s.chars().count() > MAX_SCAN_REF_LEN => Err(ApiError::bad_value(
            format!("'scanRef' must be at most {MAX_SCAN_REF_LEN} characters."),
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::bad_value("'scanRef' must be a string.")),
    }
}

fn file_table_reply(state: &State, scan_ref: &str, files: &[crate::media::FileKind]) -> Reply {
    let table = downloads::file_table(files, |kind| {
        let path = downloads::download_path(scan_ref, kind);
        let query = state.signer.query_for(&path, state.file_url_ttl);
        format!("{}{path}?{query}", state.base_url)
    });
    Reply::json(Bytes::from(serde_json::to_vec(&table).unwrap_or_default()))
}

async fn download(state: &State, request: &Request<Incoming>) -> Response<SandboxBody> {
    if request.method() != Method::GET {
        let mut reply = Reply::from(ApiError::method_not_allowed());
        reply.allow = Some("GET");
        return reply.into_response();
    }
    let path = request.uri().path();
    if let Err(refusal) = state.signer.check(path, request.uri().query()) {
        return Reply::from(ApiError::forbidden_download(refusal.message())).into_response();
    }
    let header_fault = match header_fault(request) {
        Ok(fault) => fault,
        Err(reply) => return reply.into_response(),
    };
    // A valid signature means the sandbox issued this path, but the fixture
    // may still lack the file if the URL was edited and re-signed elsewhere;
    // answer 404 rather than trusting it.
    let found = downloads::parse_download_path(path).and_then(|(segment, kind)| {
        let scan_ref = downloads::scan_ref_of_segment(state.fixtures.scan_refs(), segment)?;
        let fixture = state.fixtures.get(scan_ref)?;
        fixture
            .files
            .contains(&kind)
            .then_some((scan_ref, kind, fixture))
    });
    let Some((scan_ref, kind, fixture)) = found else {
        return Reply::from(ApiError::unknown_path()).into_response();
    };
    // A URL issued before the deletion leads nowhere after it.
    if state.deletions.contains(scan_ref) {
        return Reply::from(ApiError::deleted()).into_response();
    }
    let body = state.media.get(&kind, fixture.video_bytes);
    let reply = Reply {
        status: StatusCode::OK,
        content_type: crate::media::Format::of(&kind).content_type().to_owned(),
        body,
        allow: None,
        retry_after: None,
    };
    let fault = header_fault.or_else(|| fixture.download_fault.clone());
    with_fault(state, fault, scan_ref, reply).await
}

/// `GET /kyc/identifications/`: a page of the fixtures, with Basic auth as every endpoint, and
/// a fault header applied as to any answer.
async fn list(state: &State, request: &Request<Incoming>) -> Response<SandboxBody> {
    if request.method() != Method::GET {
        let mut reply = Reply::from(ApiError::method_not_allowed());
        reply.allow = Some("GET");
        return reply.into_response();
    }
    if !state.credentials.accepts(
        request
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
    ) {
        return Reply::from(ApiError::unauthorized()).into_response();
    }
    let fault = match header_fault(request) {
        Ok(fault) => fault,
        Err(reply) => return reply.into_response(),
    };
    let reply = match identifications::page(state, request.uri().query()) {
        Ok(body) => Reply::json(body),
        Err(error) => Reply::from(error),
    };
    with_fault(state, fault, identifications::PATH, reply).await
}

/// What a request is for.
#[derive(Debug, Clone, Copy)]
enum Target {
    Lookup(Endpoint),
    Action(Action),
}

/// The answer of `/generate-pdf`: the fixture's report, as the PDF itself.
fn report_reply(state: &State, scan_ref: &str, fixture: Option<&Fixture>) -> Reply {
    if fixture.is_some() && state.deletions.contains(scan_ref) {
        return Reply::from(ApiError::deleted());
    }
    match report_pdf::identification_report(&state.fixtures, scan_ref) {
        Some(pdf) => Reply {
            status: StatusCode::OK,
            content_type: PDF.to_owned(),
            body: Bytes::from(pdf),
            allow: None,
            retry_after: None,
        },
        None => Reply::from(ApiError::unknown_scan_ref()),
    }
}

/// `/delete`: 200 with no body, once; afterwards 404 `NOT_FOUND` (the sandbox's answer to a
/// second deletion). A fixture with `"deletion": "refused"` answers 400 `PARTNER_ERROR`. A
/// fault that answers with a status stands for a request that never reached the API, so it
/// deletes nothing; every other fault (a cut connection, a delay) comes after the deletion.
async fn delete(
    state: &State,
    fault: Option<FaultSpec>,
    scan_ref: &str,
    fixture: Option<&Fixture>,
) -> Response<SandboxBody> {
    let fault = fault.filter(|fault| state.counters.applies(fault, scan_ref));
    if let Some(FaultSpec {
        misbehaviour: Some(Misbehaviour::Status(_)),
        ..
    }) = &fault
    {
        return apply_fault(fault, Reply::from(ApiError::internal())).await;
    }
    let reply = match fixture {
        None => Reply::from(ApiError::unknown_scan_ref()),
        Some(fixture) if fixture.refuses_deletion => Reply::from(ApiError::deletion_refused()),
        Some(_) if !state.deletions.delete(scan_ref) => Reply::from(ApiError::deleted()),
        Some(_) => Reply {
            status: StatusCode::OK,
            content_type: JSON.to_owned(),
            body: Bytes::new(),
            allow: None,
            retry_after: None,
        },
    };
    apply_fault(fault, reply).await
}

/// `/status` of a deleted identification: `DELETED`, with the scanRef and the partner's own
/// `clientId` and nothing else.
fn deleted_status(scan_ref: &str, fixture: Option<&Fixture>) -> Reply {
    let client_id = fixture
        .and_then(|fixture| match fixture.responses.get(&Endpoint::Status) {
            Some(Prepared::Json(body)) => serde_json::from_slice::<Value>(body).ok(),
            _ => None,
        })
        .and_then(|status| status.get("clientId").cloned())
        .unwrap_or(Value::Null);
    let body = serde_json::json!({
        "status": "DELETED",
        "scanRef": scan_ref,
        "clientId": client_id,
    });
    Reply::json(Bytes::from(body.to_string()))
}

/// Applies a fault (if it is due) to the reply the request would get.
async fn with_fault(
    state: &State,
    fault: Option<FaultSpec>,
    scan_ref: &str,
    reply: Reply,
) -> Response<SandboxBody> {
    let fault = fault.filter(|fault| state.counters.applies(fault, scan_ref));
    apply_fault(fault, reply).await
}

/// Applies a fault that is due.
async fn apply_fault(fault: Option<FaultSpec>, reply: Reply) -> Response<SandboxBody> {
    let Some(fault) = fault else {
        return reply.into_response();
    };
    if let Some(delay) = fault.delay {
        tokio::time::sleep(delay).await;
    }
    let retry_after = fault.retry_after_header();
    match fault.misbehaviour {
        None => reply.into_response(),
        Some(Misbehaviour::Status(status)) => status_fault(status, retry_after).into_response(),
        Some(Misbehaviour::WrongContentType) => Reply {
            content_type: "text/html; charset=utf-8".to_owned(),
            ..reply
        }
        .into_response(),
        Some(Misbehaviour::TruncatedJson) => {
            let half = reply.body.len() / 2;
            Reply {
                body: reply.body.slice(..half),
                ..reply
            }
            .into_response()
        }
        Some(Misbehaviour::CloseMidBody) => {
            let full_len = reply.body.len();
            let prefix = reply.body.slice(..full_len / 2);
            Response::builder()
                .status(reply.status)
                .header(CONTENT_TYPE, reply.content_type)
                .header(CONTENT_LENGTH, full_len)
                .body(SandboxBody::abort_after(prefix))
                .unwrap_or_else(|_| plain_500())
        }
        Some(Misbehaviour::EndlessBody) => Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, JSON)
            .body(SandboxBody::endless())
            .unwrap_or_else(|_| plain_500()),
    }
}

/// What a server or the proxy in front of it sends with each fault status.
fn status_fault(status: StatusCode, retry_after: Option<u64>) -> Reply {
    let mut reply = match status {
        StatusCode::TOO_MANY_REQUESTS => Reply::from(ApiError::too_many_requests()),
        StatusCode::INTERNAL_SERVER_ERROR => Reply::from(ApiError::internal()),
        other => {
            let reason = other.canonical_reason().unwrap_or("Error");
            let code = other.as_u16();
            Reply {
                status: other,
                content_type: "text/html".to_owned(),
                body: Bytes::from(format!(
                    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
                )),
                allow: None,
                retry_after: None,
            }
        }
    };
    reply.retry_after = retry_after;
    reply
}
