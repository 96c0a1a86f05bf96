//! Every fault, asked for by header or by fixture, over real sockets.

mod common;

use std::time::{Duration, Instant};

use common::*;
use idenfy_sandbox::{FAULT_HEADER, Fixtures, Sandbox, SandboxHandle, scan_refs};
use tokio::io::AsyncReadExt;

async fn sandbox() -> SandboxHandle {
    Sandbox::builder().start().await.expect("sandbox starts")
}

async fn faulty(sandbox: &SandboxHandle, path: &str, scan_ref: &str, spec: &str) -> Reply {
    post(
        sandbox.local_addr(),
        path,
        &format!("{{\"scanRef\":\"{scan_ref}\"}}"),
        &[(FAULT_HEADER, spec.to_owned())],
    )
    .await
}

#[tokio::test]
async fn status_429_carries_retry_after() {
    let sandbox = sandbox().await;
    let default = faulty(
        &sandbox,
        "/api/v2/status",
        scan_refs::APPROVED,
        "status=429",
    )
    .await;
    assert_eq!(default.status, 429);
    assert_eq!(default.header("retry-after"), Some("1"));
    assert_eq!(default.error_identifier(), "TOO_MANY_REQUESTS");
    let custom = faulty(
        &sandbox,
        "/api/v2/status",
        scan_refs::APPROVED,
        "status=429;retry-after=7",
    )
    .await;
    assert_eq!(custom.header("retry-after"), Some("7"));
}

#[tokio::test]
async fn status_500_is_a_json_internal_error() {
    let sandbox = sandbox().await;
    let reply = faulty(&sandbox, "/api/v2/data", scan_refs::APPROVED, "status=500").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.error_identifier(), "INTERNAL_ERROR");
    assert_matches_model(ERROR_MODEL, &reply.json(), "500 body");
}

#[tokio::test]
async fn status_502_and_503_have_html_bodies_like_a_proxy() {
    let sandbox = sandbox().await;
    for (spec, status) in [("status=502", 502), ("status=503;retry-after=3", 503)] {
        let reply = faulty(&sandbox, "/api/v2/full-status", scan_refs::APPROVED, spec).await;
        assert_eq!(reply.status, status);
        assert_eq!(reply.header("content-type"), Some("text/html"));
        let text = String::from_utf8(reply.body.clone()).unwrap();
        assert!(
            text.starts_with("<html>") && text.contains(&status.to_string()),
            "{text}"
        );
        assert!(serde_json::from_slice::<serde_json::Value>(&reply.body).is_err());
        if status == 503 {
            assert_eq!(reply.header("retry-after"), Some("3"));
        }
    }
}

#[tokio::test]
async fn delay_holds_the_response_back() {
    let sandbox = sandbox().await;
    let started = Instant::now();
    let reply = faulty(
        &sandbox,
        "/api/v2/status",
        scan_refs::APPROVED,
        "delay-ms=300",
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        reply.status, 200,
        "a delay alone leaves the response intact"
    );
    assert_eq!(reply.json()["status"], "APPROVED");
}

#[tokio::test]
async fn close_mid_body_announces_the_full_length_and_sends_less() {
    let sandbox = sandbox().await;
    let normal = post_scan_ref(
        sandbox.local_addr(),
        "/api/v2/full-status",
        scan_refs::APPROVED,
    )
    .await;
    let reply = faulty(
        &sandbox,
        "/api/v2/full-status",
        scan_refs::APPROVED,
        "close-mid-body",
    )
    .await;
    assert_eq!(reply.status, 200);
    let announced: usize = reply.header("content-length").unwrap().parse().unwrap();
    assert_eq!(announced, normal.body.len());
    assert!(
        !reply.complete,
        "the connection closes before Content-Length is reached"
    );
    assert!(!reply.body.is_empty() && reply.body.len() < announced);
    assert!(normal.body.starts_with(&reply.body));
}

#[tokio::test]
async fn truncated_json_is_a_complete_message_with_half_a_document() {
    let sandbox = sandbox().await;
    let normal = post_scan_ref(sandbox.local_addr(), "/api/v2/data", scan_refs::APPROVED).await;
    let reply = faulty(
        &sandbox,
        "/api/v2/data",
        scan_refs::APPROVED,
        "truncated-json",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(reply.complete, "Content-Length matches what is sent");
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body.len(), normal.body.len() / 2);
    assert!(normal.body.starts_with(&reply.body));
    assert!(serde_json::from_slice::<serde_json::Value>(&reply.body).is_err());
}

/// Opens a connection and asks, on it, for a status whose body never ends.
async fn request_endless_body(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = request_bytes(
        "POST",
        "/api/v2/status",
        &[
            ("Authorization", default_auth()),
            (FAULT_HEADER, "endless-body".into()),
        ],
        Some(br#"{"scanRef":"sandbox-approved"}"#),
    );
    stream.write_all(&request).await.unwrap();
    stream
}

#[tokio::test]
async fn endless_body_keeps_sending_until_the_client_leaves() {
    let sandbox = sandbox().await;
    let mut stream = request_endless_body(sandbox.local_addr()).await;
    let mut received = 0usize;
    let mut buffer = vec![0u8; 64 * 1024];
    // Far more than any fixture: 4 MiB and still going.
    while received < 4 * 1024 * 1024 {
        let n = tokio::time::timeout(WAIT, stream.read(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "the body must not end");
        received += n;
    }
    drop(stream);
    // The server is unharmed and serves the next client.
    let next = post_scan_ref(sandbox.local_addr(), "/api/v2/status", scan_refs::APPROVED).await;
    assert_eq!(next.status, 200);
}

#[tokio::test]
async fn endless_body_ends_when_the_sandbox_stops() {
    let sandbox = sandbox().await;
    let mut stream = request_endless_body(sandbox.local_addr()).await;
    let mut buffer = vec![0u8; 64 * 1024];
    assert!(stream.read(&mut buffer).await.unwrap() > 0);
    drop(sandbox);
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "the connection outlived the sandbox"
        );
        match tokio::time::timeout(WAIT, stream.read(&mut buffer))
            .await
            .unwrap()
        {
            Ok(0) | Err(_) => break,
            Ok(_) => continue,
        }
    }
}

#[tokio::test]
async fn wrong_content_type_labels_the_normal_body_as_html() {
    let sandbox = sandbox().await;
    let normal = post_scan_ref(sandbox.local_addr(), "/api/v2/status", scan_refs::APPROVED).await;
    let reply = faulty(
        &sandbox,
        "/api/v2/status",
        scan_refs::APPROVED,
        "wrong-content-type",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.body, normal.body);
}

#[tokio::test]
async fn times_limits_the_fault_per_spec_and_scan_ref() {
    let sandbox = sandbox().await;
    let spec = "status=503;times=2";
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(
            faulty(&sandbox, "/api/v2/status", scan_refs::APPROVED, spec)
                .await
                .status,
        );
    }
    assert_eq!(seen, [503, 503, 200, 200]);
    // Another scanRef has its own count; so has another spec.
    let other = faulty(&sandbox, "/api/v2/status", scan_refs::EXPIRED, spec).await;
    assert_eq!(other.status, 503);
    let other_spec = faulty(
        &sandbox,
        "/api/v2/status",
        scan_refs::APPROVED,
        "status=500;times=1",
    )
    .await;
    assert_eq!(other_spec.status, 500);
}

#[tokio::test]
async fn a_spec_counts_without_its_spaces_and_only_applied_faults_are_counted() {
    let sandbox = sandbox().await;
    let mut seen = Vec::new();
    for spec in [
        "status=503;times=2",
        " status=503 ; times=2",
        "status=503;times=2",
    ] {
        seen.push(
            faulty(&sandbox, "/api/v2/status", scan_refs::APPROVED, spec)
                .await
                .status,
        );
    }
    assert_eq!(seen, [503, 503, 200]);
    assert_eq!(sandbox.faults_applied(), 2);
}

#[tokio::test]
async fn header_faults_apply_to_unknown_scan_refs_too() {
    let sandbox = sandbox().await;
    let reply = faulty(&sandbox, "/api/v2/status", "not-a-fixture", "status=502").await;
    assert_eq!(reply.status, 502);
}

#[tokio::test]
async fn invalid_fault_header_is_a_bad_value() {
    let sandbox = sandbox().await;
    for spec in [
        "",
        ";",
        "status=200",
        "status=abc",
        "explode",
        "status=500;close-mid-body",
        "status=500;endless-body",
        "retry-after=3",
        "status=500;retry-after=3",
        "delay-ms=-1",
        "delay-ms=999999999",
        "times=x",
        "close-mid-body=1",
    ] {
        let reply = faulty(&sandbox, "/api/v2/status", scan_refs::APPROVED, spec).await;
        assert_eq!(reply.status, 400, "{spec}");
        assert_eq!(reply.error_identifier(), "BAD_VALUE");
    }
}

#[tokio::test]
async fn faults_come_after_authentication() {
    let sandbox = sandbox().await;
    let reply = send(
        sandbox.local_addr(),
        &request_bytes(
            "POST",
            "/api/v2/status",
            &[(FAULT_HEADER, "status=503".into())],
            Some(br#"{"scanRef":"sandbox-approved"}"#),
        ),
    )
    .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn a_fixture_can_carry_its_own_fault() {
    let file = r#"{"fixtures": [
        {"scanRef": "flaky", "fault": "status=503;times=1",
         "status": {"status": "APPROVED", "scanRef": "flaky", "clientId": "1"}},
        {"scanRef": "slow-download", "files": ["FACE"], "downloadFault": "close-mid-body",
         "status": {"status": "APPROVED", "scanRef": "slow-download", "clientId": "2"}}
    ]}"#;
    let sandbox = Sandbox::builder()
        .fixtures(Fixtures::from_json_str(file).unwrap())
        .start()
        .await
        .unwrap();
    let addr = sandbox.local_addr();
    assert_eq!(
        post_scan_ref(addr, "/api/v2/status", "flaky").await.status,
        503
    );
    assert_eq!(
        post_scan_ref(addr, "/api/v2/status", "flaky").await.status,
        200
    );
    assert_eq!(
        post_scan_ref(addr, "/api/v2/data", "flaky").await.status,
        404,
        "no data given"
    );

    let files = post_scan_ref(addr, "/api/v2/files", "slow-download")
        .await
        .json();
    let download = get_url(files["FACE"].as_str().unwrap(), &[]).await;
    assert_eq!(download.status, 200);
    assert!(!download.complete, "the download breaks off mid-body");
}

#[tokio::test]
async fn header_faults_apply_to_downloads() {
    let sandbox = sandbox().await;
    let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_refs::APPROVED)
        .await
        .json();
    let url = files["FRONT"].as_str().unwrap();
    let broken = get_url(url, &[(FAULT_HEADER, "close-mid-body".into())]).await;
    assert!(!broken.complete);
    let throttled = get_url(url, &[(FAULT_HEADER, "status=429".into())]).await;
    assert_eq!(throttled.status, 429);
    let fine = get_url(url, &[]).await;
    assert!(fine.complete && fine.status == 200);
}
