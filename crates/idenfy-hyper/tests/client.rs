//! The hyper client against a scripted server on 127.0.0.1 (`idenfy-hostile`, which keeps its
//! connections alive as a well-behaved server does): wire format, every error class, retries,
//! time limits and the body cap.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use idenfy_hostile::{HostileServer, Script};
use idenfy_hyper::core::{Endpoint, Error, RequestBuilder, TimeoutKind};
use idenfy_hyper::{BaseUrl, Client, Credentials, RetryPolicy, ScanRef};

const KEY: &str = "test-key";
const SECRET: &str = "test-secret-5up3r";
/// base64("test-key:test-secret-5up3r"), which must never be printed either.
const SECRET_BASIC: &str = "dGVzdC1rZXk6dGVzdC1zZWNyZXQtNXVwM3I=";

fn credentials() -> Credentials {
    Credentials::new(KEY, SECRET).unwrap()
}

/// A JSON answer on a connection kept alive for the next request.
fn json(status: u16, body: &str) -> Script {
    json_with(status, &[], body)
}

/// A JSON answer with `headers` besides its content type, on a connection kept alive.
fn json_with(status: u16, headers: &[(&str, &str)], body: &str) -> Script {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    Script::kept_alive(status, &all, body.as_bytes())
}

/// A 200 whose JSON body never ends (spaces, chunk after chunk).
fn endless() -> Script {
    Script::endless_chunked(
        200,
        &[("content-type", "application/json")],
        &[b' '; 16 * 1024],
    )
}

fn base_url(server: &HostileServer) -> BaseUrl {
    BaseUrl::parse(&server.url("")).unwrap()
}

fn client_for(server: &HostileServer) -> Client {
    Client::builder(credentials())
        .base_url(base_url(server))
        .retry_policy(support::fast_retries(3))
        .attempt_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn scan_ref() -> ScanRef {
    "scan-ref-1".parse().unwrap()
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(SECRET), "the API secret leaked: {text}");
    assert!(
        !text.contains(SECRET_BASIC),
        "the Basic token leaked: {text}"
    );
}

const STATUS_OK: &str = r#"{"status":"APPROVED","scanRef":"scan-ref-1","clientId":"client-1"}"#;

#[tokio::test]
async fn each_endpoint_sends_the_built_request_over_the_wire() {
    let server = HostileServer::start(|_| json(200, "{}"));
    let client = client_for(&server);
    let scan_ref = scan_ref();
    client.status(&scan_ref).await.unwrap();
    client.data(&scan_ref).await.unwrap();
    client.files(&scan_ref).await.unwrap();
    client.full_status(&scan_ref).await.unwrap();

    let builder = RequestBuilder::new(&base_url(&server), &credentials());
    let received = server.requests();
    assert_eq!(received.len(), 4);
    for (endpoint, seen) in Endpoint::ALL.into_iter().zip(&received) {
        let built = builder.build(endpoint, &scan_ref);
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.path, endpoint.path());
        assert_eq!(seen.body, *built.body(), "{endpoint} body");
        for (name, value) in built.headers() {
            assert_eq!(
                seen.header(name.as_str()).map(str::as_bytes),
                Some(value.as_bytes()),
                "{endpoint} header {name}"
            );
        }
        assert_eq!(
            seen.header("authorization"),
            Some(format!("Basic {SECRET_BASIC}").as_str())
        );
    }
}

#[tokio::test]
async fn connections_are_kept_alive_between_lookups() {
    let server = HostileServer::start(|_| json(200, STATUS_OK));
    let client = client_for(&server);
    for _ in 0..3 {
        client.status(&scan_ref()).await.unwrap();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.header("connection"), None);
        assert_eq!(
            request.peer, requests[0].peer,
            "a new connection was opened"
        );
    }
}

#[tokio::test]
async fn api_error_is_typed_and_401_is_not_retried() {
    let server = HostileServer::start(|_| {
        json(
            401,
            r#"{"identifier":"UNAUTHORIZED","message":"Missing Api key/secret in HTTP headers or Api key/secret not valid.","severity":"ERROR"}"#,
        )
    });
    let error = client_for(&server).status(&scan_ref()).await.unwrap_err();
    let Error::Api(api) = &error else {
        panic!("expected an API error, got {error:?}")
    };
    assert_eq!(api.status, 401);
    assert_eq!(
        api.identifier
            .as_ref()
            .map(|identifier| identifier.to_string()),
        Some("UNAUTHORIZED".to_owned())
    );
    assert_eq!(api.severity.as_deref(), Some("ERROR"));
    assert!(
        error.to_string().contains("check the API key and secret"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1, "401 must not be retried");
    assert_no_secret(&format!("{error} {error:?}"));
}

#[tokio::test]
async fn client_errors_400_403_404_are_not_retried() {
    for status in [400u16, 403, 404] {
        let server = HostileServer::start(move |_| {
            json(
                status,
                r#"{"identifier":"NOT_FOUND","message":"Identification not found."}"#,
            )
        });
        let error = client_for(&server)
            .full_status(&scan_ref())
            .await
            .unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.requests().len(), 1, "{status} must not be retried");
    }
}

#[tokio::test]
async fn status_429_then_503_are_retried_then_succeed() {
    let server = HostileServer::start(|request| match request.index {
        0 => json_with(
            429,
            &[("retry-after", "0")],
            r#"{"identifier":"TOO_MANY_REQUESTS","message":"Slow down."}"#,
        ),
        1 => json(
            503,
            r#"{"identifier":"INTERNAL_ERROR","message":"Unavailable."}"#,
        ),
        _ => json(200, STATUS_OK),
    });
    let status = client_for(&server).status(&scan_ref()).await.unwrap();
    assert_eq!(status, serde_json::from_str(STATUS_OK).unwrap());
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retry_after_seconds_are_honoured() {
    let server = HostileServer::start(|request| match request.index {
        0 => json_with(
            429,
            &[("retry-after", "1")],
            r#"{"identifier":"TOO_MANY_REQUESTS","message":"Slow down."}"#,
        ),
        _ => json(200, STATUS_OK),
    });
    client_for(&server).status(&scan_ref()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].at - requests[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "retried after only {waited:?}"
    );
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_returns_the_429_at_once() {
    let server = HostileServer::start(|_| {
        json_with(
            429,
            &[("retry-after", "3600")],
            r#"{"identifier":"TOO_MANY_REQUESTS","message":"Slow down."}"#,
        )
    });
    let error = client_for(&server).status(&scan_ref()).await.unwrap_err();
    let Error::Api(api) = &error else {
        panic!("expected the 429, got {error:?}")
    };
    assert_eq!(api.retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn persistent_5xx_stops_after_max_attempts_with_the_last_error() {
    let server = HostileServer::start(|_| {
        Script::kept_alive(
            502,
            &[("content-type", "text/html")],
            b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        )
    });
    let error = client_for(&server).status(&scan_ref()).await.unwrap_err();
    let Error::UnexpectedResponse(page) = &error else {
        panic!("expected an error page, got {error:?}")
    };
    assert_eq!(page.status, 502);
    assert_eq!(page.content_type.as_deref(), Some("text/html"));
    assert_eq!(page.excerpt, "502 Bad Gateway");
    assert_eq!(server.requests().len(), 3, "max_attempts is 3");
}

#[tokio::test]
async fn a_body_that_does_not_match_the_model_is_a_decode_error_with_its_path() {
    let body = r#"{"status":{"unexpected":"JOHN"},"scanRef":"scan-ref-1"}"#;
    let server = HostileServer::start(move |_| json(200, body));
    let error = client_for(&server).status(&scan_ref()).await.unwrap_err();
    let Error::Decode(decode) = &error else {
        panic!("expected a decode error, got {error:?}")
    };
    assert_eq!(decode.path, "status");
    assert_eq!(decode.body().as_ref(), body.as_bytes());
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("JOHN"), "body content leaked: {shown}");
    assert_eq!(server.requests().len(), 1, "decode errors are not retried");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = HostileServer::start(|_| Script::hang());
    let client = Client::builder(credentials())
        .base_url(base_url(&server))
        .retry_policy(support::fast_retries(3))
        .attempt_timeout(Duration::from_millis(150))
        .deadline(Duration::from_secs(2))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.status(&scan_ref()).await.unwrap_err();
    let Error::Timeout(timeout) = &error else {
        panic!("expected a timeout, got {error:?}")
    };
    assert_eq!(timeout.kind, TimeoutKind::Attempt);
    assert_eq!(timeout.attempts, 3, "attempt timeouts are retried");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_overall_deadline_bounds_the_call() {
    let server = HostileServer::start(|_| Script::hang());
    let client = Client::builder(credentials())
        .base_url(base_url(&server))
        .retry_policy(support::fast_retries(3).with_max_attempts(100))
        .attempt_timeout(Duration::from_secs(5))
        .deadline(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = client.status(&scan_ref()).await.unwrap_err();
    let Error::Timeout(timeout) = &error else {
        panic!("expected a timeout, got {error:?}")
    };
    assert_eq!(timeout.kind, TimeoutKind::Deadline);
    assert_eq!(timeout.limit, Duration::from_millis(300));
}

#[tokio::test]
async fn an_endless_body_stops_at_the_cap() {
    let server = HostileServer::start(|_| endless());
    let client = Client::builder(credentials())
        .base_url(base_url(&server))
        .max_body_bytes(64 * 1024)
        .attempt_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let error = client.full_status(&scan_ref()).await.unwrap_err();
    let Error::BodyTooLarge(too_large) = &error else {
        panic!("expected BodyTooLarge, got {error:?}")
    };
    assert_eq!(too_large.limit, 64 * 1024);
    assert_eq!(
        server.requests().len(),
        1,
        "an oversized body is not retried"
    );
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let body = format!("[{}0]", "0,".repeat(5000));
    let server = HostileServer::start(move |_| json(200, &body));
    let client = Client::builder(credentials())
        .base_url(base_url(&server))
        .max_body_bytes(1024)
        .build()
        .unwrap();
    let error = client.data(&scan_ref()).await.unwrap_err();
    let Error::BodyTooLarge(too_large) = &error else {
        panic!("expected BodyTooLarge, got {error:?}")
    };
    assert_eq!(too_large.declared, Some(10_003));
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported_as_transport_errors() {
    // Bind, note the port, close: nothing listens there any more.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let transport = idenfy_hyper::HyperTransport::new().unwrap();
    let client = idenfy_hyper::core::Client::builder(credentials())
        .base_url(BaseUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap())
        .retry_policy(support::fast_retries(3))
        .build(
            move |request| {
                counted.fetch_add(1, Ordering::SeqCst);
                let transport = transport.clone();
                async move { idenfy_hyper::core::Transport::send(&transport, request).await }
            },
            idenfy_hyper::TokioTimer,
        );
    let error = client.status(&scan_ref()).await.unwrap_err();
    let Error::Transport(transport_error) = &error else {
        panic!("expected a transport error, got {error:?}")
    };
    assert!(transport_error.is_connect(), "{transport_error:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert_no_secret(&format!("{error} {error:?}"));
}

#[tokio::test]
async fn the_secret_is_absent_from_the_client_and_every_error() {
    let client = Client::builder(credentials()).build().unwrap();
    assert_no_secret(&format!("{client:?}"));
    assert_no_secret(&format!("{:?}", credentials()));

    let replies = [
        json(401, r#"{"identifier":"UNAUTHORIZED","message":"Bad key."}"#),
        Script::kept_alive(502, &[], b"Bad Gateway"),
        json(200, r#"{"status":7}"#),
        endless(),
    ];
    for reply in replies {
        let server = HostileServer::start(move |_| reply.clone());
        let client = Client::builder(credentials())
            .base_url(base_url(&server))
            .retry_policy(RetryPolicy::no_retries())
            .max_body_bytes(1024)
            .build()
            .unwrap();
        let error = client.status(&scan_ref()).await.unwrap_err();
        assert_no_secret(&format!("{error} {error:?}"));
    }
}
