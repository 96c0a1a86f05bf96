//! `/generate-pdf` and `/delete` over real sockets: the report is a PDF, and a deletion
//! changes what every endpoint answers for the life of the sandbox.

mod common;

use common::*;
use idenfy_sandbox::{FAULT_HEADER, Fixtures, Sandbox, SandboxHandle, scan_refs};
use serde_json::Value;

async fn sandbox() -> SandboxHandle {
    Sandbox::builder().start().await.expect("sandbox starts")
}

#[tokio::test]
async fn the_report_is_the_fixtures_pdf_itself() {
    let sandbox = sandbox().await;
    let reply = post_scan_ref(
        sandbox.local_addr(),
        "/api/v2/generate-pdf",
        scan_refs::APPROVED,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/pdf"));
    assert!(reply.body.starts_with(b"%PDF-"));
    assert_eq!(
        Some(reply.body.to_vec()),
        idenfy_sandbox::identification_report(&Fixtures::builtin(), scan_refs::APPROVED)
    );
    let unknown = post_scan_ref(sandbox.local_addr(), "/api/v2/generate-pdf", "nope").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_identifier(), "NOT_FOUND");
}

#[tokio::test]
async fn a_deletion_leaves_only_the_deleted_status_and_a_second_one_is_404() {
    let sandbox = sandbox().await;
    let addr = sandbox.local_addr();
    let scan_ref = scan_refs::APPROVED;
    let files = post_scan_ref(addr, "/api/v2/files", scan_ref).await.json();
    let face_url = files["FACE"].as_str().expect("a face URL").to_owned();
    assert_eq!(get_url(&face_url, &[]).await.status, 200);

    let deleted = post_scan_ref(addr, "/api/v2/delete", scan_ref).await;
    assert_eq!(deleted.status, 200);
    assert!(deleted.body.is_empty());

    let status = post_scan_ref(addr, "/api/v2/status", scan_ref).await;
    assert_eq!(status.status, 200);
    let status = status.json();
    assert_eq!(status["status"], "DELETED");
    assert_eq!(status["scanRef"], scan_ref);
    assert_matches_model(STATUS_MODEL, &status, "deleted status");
    for path in [
        "/api/v2/data",
        "/api/v2/full-status",
        "/api/v2/files",
        "/api/v2/generate-pdf",
    ] {
        let reply = post_scan_ref(addr, path, scan_ref).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.error_identifier(), "NOT_FOUND", "{path}");
        let text = String::from_utf8_lossy(&reply.body);
        for personal in ["TESTAS", "PAVYZDYS", "SBX00001", "/files/"] {
            assert!(!text.contains(personal), "{path}: {text}");
        }
    }
    // A file URL issued before the deletion no longer serves the file.
    assert_eq!(get_url(&face_url, &[]).await.status, 404);

    let again = post_scan_ref(addr, "/api/v2/delete", scan_ref).await;
    assert_eq!(again.status, 404);
    assert_eq!(again.error_identifier(), "NOT_FOUND");
    // Other identifications are untouched.
    let other = post_scan_ref(addr, "/api/v2/data", scan_refs::DENIED_FACE).await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn a_fixture_can_refuse_deletion_with_partner_error() {
    let sandbox = sandbox().await;
    let addr = sandbox.local_addr();
    let refused = post_scan_ref(addr, "/api/v2/delete", scan_refs::ACTIVE).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error_identifier(), "PARTNER_ERROR");
    assert_eq!(refused.json()["message"], "Token has not expired yet.");
    let status = post_scan_ref(addr, "/api/v2/status", scan_refs::ACTIVE).await;
    assert_eq!(status.json()["status"], "ACTIVE");

    let unknown = post_scan_ref(addr, "/api/v2/delete", "no-such-scan-ref").await;
    assert_eq!(unknown.status, 404);

    let fixtures = Fixtures::from_json_str(
        r#"{"fixtures":[{"scanRef":"keep-me","deletion":"refused"},{"scanRef":"bad","deletion":"maybe"}]}"#,
    );
    assert!(fixtures.unwrap_err().to_string().contains("deletion"));
}

#[tokio::test]
async fn a_status_fault_deletes_nothing_and_a_request_that_arrived_deletes() {
    let sandbox = sandbox().await;
    let addr = sandbox.local_addr();
    let body = format!("{{\"scanRef\":\"{}\"}}", scan_refs::DENIED_FACE);
    let throttled = post(
        addr,
        "/api/v2/delete",
        &body,
        &[(FAULT_HEADER, "status=503;retry-after=1".to_owned())],
    )
    .await;
    assert_eq!(throttled.status, 503);
    let status = post_scan_ref(addr, "/api/v2/status", scan_refs::DENIED_FACE).await;
    assert_eq!(status.json()["status"], "DENIED");

    // The client goes away while the answer is held back: the request arrived, so the data
    // is deleted, and only the client does not know it.
    let request = request_bytes(
        "POST",
        "/api/v2/delete",
        &[
            ("Authorization", default_auth()),
            (FAULT_HEADER, "delay-ms=60000".to_owned()),
        ],
        Some(body.as_bytes()),
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut stream, &request)
        .await
        .expect("write");
    let mut status = Value::Null;
    for _ in 0..100 {
        status = post_scan_ref(addr, "/api/v2/status", scan_refs::DENIED_FACE)
            .await
            .json();
        if status["status"] == "DELETED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(stream);
    assert_eq!(status["status"], "DELETED");
}
