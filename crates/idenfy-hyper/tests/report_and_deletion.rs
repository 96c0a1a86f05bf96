//! The report and deletion against a server that lies (`idenfy-hostile`, real sockets on
//! 127.0.0.1): every shape the PDF may come in, answers that hold no PDF, and which failed
//! deletions are sent again.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use idenfy_hostile::{HostileServer, Script};
use idenfy_hyper::core::{DeletionConfirmation, Error, NotAPdfReason, ReportShape};
use idenfy_hyper::{BaseUrl, Client, Credentials, ReportError, RetryPolicy};

const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

fn client_at(base_url: &str, policy: RetryPolicy, attempt_timeout: Duration) -> Client {
    Client::builder(Credentials::new("key", "secret").unwrap())
        .base_url(BaseUrl::parse(base_url).unwrap())
        .retry_policy(policy)
        .attempt_timeout(attempt_timeout)
        .deadline(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn client(server: &HostileServer) -> Client {
    client_at(
        &server.url(""),
        support::fast_retries(3),
        Duration::from_secs(5),
    )
}

fn scan_ref() -> idenfy_hyper::ScanRef {
    "scan-ref-1".parse().unwrap()
}

/// A server that answers the n-th request (from 0) with `scripts[n]`, and the last one after.
fn scripted(scripts: Vec<Script>) -> HostileServer {
    let count = Arc::new(AtomicUsize::new(0));
    HostileServer::start(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst);
        scripts[n.min(scripts.len() - 1)].clone()
    })
}

#[tokio::test]
async fn the_report_is_accepted_as_raw_pdf_base64_or_json_base64() {
    let encoded = base64::engine::general_purpose::STANDARD.encode(PDF);
    let shapes = [
        (
            Script::response(200, &[("content-type", "application/pdf")], PDF),
            ReportShape::Raw,
        ),
        (
            Script::response(200, &[("content-type", "text/plain")], encoded.as_bytes()),
            ReportShape::Base64,
        ),
        (
            Script::json(200, &format!(r#"{{"pdf":"{encoded}"}}"#)),
            ReportShape::JsonBase64 { key: "pdf" },
        ),
        (
            Script::json(
                200,
                &format!(r#"{{"scanRef":"scan-ref-1","file":"{encoded}"}}"#),
            ),
            ReportShape::JsonBase64 { key: "file" },
        ),
    ];
    for (script, shape) in shapes {
        let server = HostileServer::start(move |_| script.clone());
        let report = client(&server).report(&scan_ref()).await.unwrap();
        assert_eq!(report.pdf.as_ref(), PDF, "{shape:?}");
        assert_eq!(report.shape, shape);
        let seen = server.requests();
        assert_eq!(seen[0].path, "/api/v2/generate-pdf");
        assert_eq!(seen[0].body, br#"{"scanRef":"scan-ref-1"}"#);
        assert!(
            seen[0]
                .header("accept")
                .unwrap()
                .contains("application/pdf")
        );
    }
}

#[tokio::test]
async fn an_answer_that_is_not_a_pdf_is_refused_and_nothing_is_written() {
    let not_pdf = base64::engine::general_purpose::STANDARD.encode(b"<html>Welcome</html>");
    let encoded = base64::engine::general_purpose::STANDARD.encode(PDF);
    let answers = [
        (
            Script::response(
                200,
                &[("content-type", "application/pdf")],
                b"PK\x03\x04zip",
            ),
            NotAPdfReason::NotBase64,
        ),
        (
            Script::json(200, &format!(r#"{{"report":"{not_pdf}"}}"#)),
            NotAPdfReason::NoPdfHeader(ReportShape::JsonBase64 { key: "report" }),
        ),
        (
            Script::json(200, &format!(r#"{{"pdf":"{encoded}","data":"{encoded}"}}"#)),
            NotAPdfReason::AmbiguousKeys(vec!["pdf", "data"]),
        ),
    ];
    for (script, reason) in answers {
        let server = HostileServer::start(move |_| script.clone());
        let mut written = Vec::new();
        let result = client(&server).report_to(&scan_ref(), &mut written).await;
        match result {
            Err(ReportError::Lookup(failure)) => match failure.error {
                Error::NotAPdf(error) => assert_eq!(error.reason, reason),
                other => panic!("expected NotAPdf, got {other:?}"),
            },
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(written.is_empty(), "{reason:?}: something was written");
        // A refused answer is not retried: it will not change.
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn report_to_writes_the_pdf() {
    let server = HostileServer::start(|_| {
        Script::response(200, &[("content-type", "application/pdf")], PDF)
    });
    let mut written = Vec::new();
    let report = client(&server)
        .report_to(&scan_ref(), &mut written)
        .await
        .unwrap();
    assert_eq!(written, PDF);
    assert_eq!(report.attempts, 1);
}

#[tokio::test]
async fn a_deletion_answered_200_with_no_body_is_done() {
    let server = HostileServer::start(|_| Script::response(200, &[], b""));
    let deletion = client(&server).delete(&scan_ref()).await.unwrap();
    assert_eq!(deletion.confirmation, DeletionConfirmation::Deleted);
    assert_eq!(deletion.attempts, 1);
    let seen = server.requests();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/api/v2/delete");
    assert_eq!(seen[0].body, br#"{"scanRef":"scan-ref-1"}"#);
}

#[tokio::test]
async fn a_deletion_is_retried_after_429_and_503_with_retry_after() {
    for first in [
        Script::json(429, r#"{"identifier":"TOO_MANY_REQUESTS"}"#),
        Script::response(503, &[("retry-after", "0")], b"<html>busy</html>"),
    ] {
        let server = scripted(vec![first, Script::response(200, &[], b"")]);
        let deletion = client(&server).delete(&scan_ref()).await.unwrap();
        assert_eq!(deletion.attempts, 2);
        assert_eq!(server.requests().len(), 2);
    }
}

#[tokio::test]
async fn a_deletion_is_not_retried_after_what_may_have_reached_the_api() {
    for (script, unknown) in [
        // A server error may come after the server acted.
        (
            Script::json(500, r#"{"identifier":"INTERNAL_ERROR"}"#),
            true,
        ),
        (
            Script::response(502, &[], b"<html>bad gateway</html>"),
            true,
        ),
        (
            Script::response(503, &[], b"<html>no retry-after</html>"),
            true,
        ),
        (Script::json(404, r#"{"identifier":"NOT_FOUND"}"#), false),
        (
            Script::json(400, r#"{"identifier":"PARTNER_ERROR"}"#),
            false,
        ),
        // The request was read, then the connection closed without an answer.
        (Script::default(), true),
        (
            Script::response(200, &[("content-type", "text/html")], b"<html>ok!</html>"),
            true,
        ),
    ] {
        let described = String::from_utf8_lossy(&match &script.steps[..] {
            [idenfy_hostile::Step::Write(bytes)] => bytes.clone(),
            _ => b"(no answer)".to_vec(),
        })
        .into_owned();
        let server = HostileServer::start(move |_| script.clone());
        let failure = client(&server).delete(&scan_ref()).await.unwrap_err();
        assert_eq!(failure.attempts, 1, "{described}");
        assert_eq!(server.requests().len(), 1, "{described}");
        assert_eq!(failure.outcome_unknown, unknown, "{described}");
    }
}

#[tokio::test]
async fn a_timed_out_deletion_is_not_retried_and_its_outcome_is_unknown() {
    let server = HostileServer::start(|_| Script::hang());
    let client = client_at(
        &server.url(""),
        support::fast_retries(3),
        Duration::from_millis(200),
    );
    let failure = client.delete(&scan_ref()).await.unwrap_err();
    assert!(
        matches!(failure.error, Error::Timeout(_)),
        "{:?}",
        failure.error
    );
    assert_eq!(failure.attempts, 1);
    assert!(failure.outcome_unknown);
}

#[tokio::test]
async fn a_refused_connection_is_retried_because_nothing_was_sent() {
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let client = client_at(
        &format!("http://{address}"),
        support::fast_retries(3),
        Duration::from_secs(2),
    );
    let failure = client.delete(&scan_ref()).await.unwrap_err();
    assert!(matches!(failure.error, Error::Transport(ref e) if e.is_connect()));
    assert_eq!(failure.attempts, 3);
    assert!(!failure.outcome_unknown);
}

#[tokio::test]
async fn after_a_cut_connection_already_deleted_is_success_and_only_then() {
    let not_found = r#"{"identifier":"NOT_FOUND","message":"Not found."}"#;
    let server = scripted(vec![Script::default(), Script::json(404, not_found)]);
    let client = client(&server);
    let failure = client.delete(&scan_ref()).await.unwrap_err();
    assert!(failure.outcome_unknown);
    let deletion = client.delete_after_unknown(&scan_ref()).await.unwrap();
    assert_eq!(deletion.confirmation, DeletionConfirmation::AlreadyGone);
    assert_eq!(server.requests().len(), 2);

    // Without an unknown outcome before it, the same 404 is a failure.
    let failure = client.delete(&scan_ref()).await.unwrap_err();
    assert!(matches!(failure.error, Error::Api(ref api) if api.status == 404));
    assert!(!failure.outcome_unknown);
    // And a refusal stays a refusal whatever came before.
    let refusing = HostileServer::start(|_| {
        Script::json(
            400,
            r#"{"identifier":"PARTNER_ERROR","message":"Token has not expired yet."}"#,
        )
    });
    let failure = crate::client(&refusing)
        .delete_after_unknown(&scan_ref())
        .await
        .unwrap_err();
    assert!(matches!(failure.error, Error::Api(ref api) if api.status == 400));
}

#[tokio::test]
async fn the_report_is_retried_like_a_lookup() {
    let server = scripted(vec![
        Script::response(503, &[], b"<html>busy</html>"),
        Script::response(200, &[("content-type", "application/pdf")], PDF),
    ]);
    let report = client(&server).report(&scan_ref()).await.unwrap();
    assert_eq!(report.attempts, 2);
    assert_eq!(report.pdf.as_ref(), PDF);
}
