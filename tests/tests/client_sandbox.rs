//! `idenfy-hyper`'s client against the sandbox over 127.0.0.1: the four
//! lookups, every error class, and every retry rule.

mod client_support;

use std::time::{Duration, Instant};

use client_support::{base_url, credentials, hyper_with_fault, sandbox, test_builder};
use idenfy_core::{Error, ScanRef, TimeoutKind};
use idenfy_hyper::{Client, Credentials, HyperTransport, TokioTimer};
use idenfy_sandbox::scan_refs;

fn scan_ref(value: &str) -> ScanRef {
    value.parse().unwrap()
}

#[tokio::test]
async fn the_four_lookups_decode_every_fixture() {
    let sandbox = sandbox().await;
    let client = Client::builder(credentials())
        .base_url(base_url(&sandbox))
        .build()
        .unwrap();
    for value in scan_refs::SCHEMA_FIXTURES {
        let scan_ref = scan_ref(value);
        let status = client.status(&scan_ref).await.unwrap();
        assert_eq!(status.scan_ref.as_deref(), Some(value));
        assert!(status.status.is_some(), "{value}: no status");
        let data = client.data(&scan_ref).await.unwrap();
        assert_eq!(data.scan_ref.as_deref(), Some(value));
        client.files(&scan_ref).await.unwrap();
        client.full_status(&scan_ref).await.unwrap();
    }
}

#[tokio::test]
async fn an_unknown_scan_ref_is_the_apis_404() {
    let sandbox = sandbox().await;
    let client = test_builder(&sandbox).build(HyperTransport::new().unwrap(), TokioTimer);
    let error = client
        .full_status(&scan_ref("no-such-ref"))
        .await
        .unwrap_err();
    let Error::Api(api) = &error else {
        panic!("expected the API's error, got {error:?}")
    };
    assert_eq!(api.status, 404);
    assert_eq!(
        api.identifier.as_ref().map(|i| i.as_str()),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn wrong_credentials_are_the_apis_401_and_the_secret_stays_hidden() {
    let sandbox = sandbox().await;
    let secret = "wrong-secret-value";
    let client = Client::builder(Credentials::new("sandbox-key", secret).unwrap())
        .base_url(base_url(&sandbox))
        .build()
        .unwrap();
    let error = client
        .status(&scan_ref(scan_refs::APPROVED))
        .await
        .unwrap_err();
    let Error::Api(api) = &error else {
        panic!("expected the API's error, got {error:?}")
    };
    assert_eq!(api.status, 401);
    let shown = format!("{error} {error:?} {client:?}");
    assert!(!shown.contains(secret), "{shown}");
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_then_succeeds() {
    let sandbox = sandbox().await;
    let client = hyper_with_fault(&sandbox, "status=429;retry-after=1;times=1");
    let started = Instant::now();
    let status = client.status(&scan_ref(scan_refs::APPROVED)).await.unwrap();
    assert_eq!(status.scan_ref.as_deref(), Some(scan_refs::APPROVED));
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After not honoured"
    );
    assert_eq!(sandbox.faults_applied(), 1, "the 429 was answered");
}

#[tokio::test]
async fn a_503_twice_is_retried_then_succeeds() {
    let sandbox = sandbox().await;
    let client = hyper_with_fault(&sandbox, "status=503;retry-after=0;times=2");
    client
        .full_status(&scan_ref(scan_refs::DENIED_FACE))
        .await
        .unwrap();
    assert_eq!(sandbox.faults_applied(), 2, "both 503s were answered");
}

#[tokio::test]
async fn a_connection_closed_mid_body_is_retried_then_succeeds() {
    let sandbox = sandbox().await;
    let client = hyper_with_fault(&sandbox, "close-mid-body;times=1");
    client.data(&scan_ref(scan_refs::APPROVED)).await.unwrap();
    assert_eq!(sandbox.faults_applied(), 1, "a body was cut");
}

#[tokio::test]
async fn a_connection_closed_mid_body_every_time_is_a_transport_error() {
    let sandbox = sandbox().await;
    let client = hyper_with_fault(&sandbox, "close-mid-body");
    let error = client
        .data(&scan_ref(scan_refs::APPROVED))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
}

#[tokio::test]
async fn a_502_html_page_is_an_unexpected_response() {
    let sandbox = sandbox().await;
    let client = hyper_with_fault(&sandbox, "status=502");
    let error = client
        .status(&scan_ref(scan_refs::APPROVED))
        .await
        .unwrap_err();
    let Error::UnexpectedResponse(page) = &error else {
        panic!("expected an error page, got {error:?}")
    };
    assert_eq!(page.status, 502);
    assert!(
        page.content_type
            .as_deref()
            .unwrap_or("")
            .starts_with("text/html"),
        "{page:?}"
    );
}

#[tokio::test]
async fn truncated_json_is_a_decode_error_keeping_the_body() {
    let sandbox = sandbox().await;
    let client = hyper_with_fault(&sandbox, "truncated-json");
    let error = client
        .full_status(&scan_ref(scan_refs::APPROVED))
        .await
        .unwrap_err();
    let Error::Decode(decode) = &error else {
        panic!("expected a decode error, got {error:?}")
    };
    assert!(!decode.body().is_empty());
    assert!(decode.reason.contains("truncated"), "{}", decode.reason);
    // The body holds personal data; the message must not.
    let body = String::from_utf8_lossy(decode.body()).into_owned();
    assert!(!error.to_string().contains(&body[..body.len().min(20)]));
}

#[tokio::test]
async fn an_endless_body_stops_at_the_cap() {
    let sandbox = sandbox().await;
    let client = test_builder(&sandbox).max_body_bytes(256 * 1024).build(
        client_support::with_fault(HyperTransport::new().unwrap(), "endless-body"),
        TokioTimer,
    );
    let error = client
        .full_status(&scan_ref(scan_refs::APPROVED))
        .await
        .unwrap_err();
    let Error::BodyTooLarge(too_large) = &error else {
        panic!("expected BodyTooLarge, got {error:?}")
    };
    assert_eq!(too_large.limit, 256 * 1024);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let sandbox = sandbox().await;
    let client = test_builder(&sandbox)
        .attempt_timeout(Duration::from_millis(200))
        .build(
            client_support::with_fault(HyperTransport::new().unwrap(), "delay-ms=5000"),
            TokioTimer,
        );
    let error = client
        .status(&scan_ref(scan_refs::APPROVED))
        .await
        .unwrap_err();
    let Error::Timeout(timeout) = &error else {
        panic!("expected a timeout, got {error:?}")
    };
    assert_eq!(timeout.kind, TimeoutKind::Attempt);
    assert_eq!(timeout.attempts, 3);
}

#[tokio::test]
async fn json_labelled_as_html_still_decodes() {
    let sandbox = sandbox().await;
    let client = hyper_with_fault(&sandbox, "wrong-content-type");
    let status = client
        .status(&scan_ref(scan_refs::SUSPECTED))
        .await
        .unwrap();
    assert_eq!(status.scan_ref.as_deref(), Some(scan_refs::SUSPECTED));
    assert_eq!(sandbox.faults_applied(), 1, "the body was labelled as HTML");
}
