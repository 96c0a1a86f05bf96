//! The four endpoints over real sockets: fixtures, schema conformance, and
//! every error class.

mod common;

use common::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use idenfy_sandbox::{
    DeliveryError, DeliveryOptions, Sandbox, SandboxError, SandboxHandle, scan_refs,
};
use serde_json::Value;

async fn sandbox() -> SandboxHandle {
    Sandbox::builder().start().await.expect("sandbox starts")
}

const ENDPOINTS: [(&str, Model); 4] = [
    ("/api/v2/status", STATUS_MODEL),
    ("/api/v2/data", DATA_MODEL),
    ("/api/v2/files", FILES_MODEL),
    ("/api/v2/full-status", FULL_STATUS_MODEL),
];

#[tokio::test]
async fn every_builtin_fixture_serves_four_responses_that_match_their_models() {
    let sandbox = sandbox().await;
    let addr = sandbox.local_addr();
    for scan_ref in scan_refs::SCHEMA_FIXTURES {
        for (path, schema) in ENDPOINTS {
            let reply = post_scan_ref(addr, path, scan_ref).await;
            assert_eq!(reply.status, 200, "{scan_ref} {path}");
            assert_eq!(reply.header("content-type"), Some("application/json"));
            assert_matches_model(schema, &reply.json(), &format!("{scan_ref} {path}"));
        }
    }
}

#[tokio::test]
async fn one_scan_ref_gets_consistent_answers_from_all_endpoints() {
    let sandbox = sandbox().await;
    let addr = sandbox.local_addr();
    let expected_status = [
        (scan_refs::APPROVED, "APPROVED"),
        (scan_refs::DENIED_FACE, "DENIED"),
        (scan_refs::DENIED_DOCUMENT, "DENIED"),
        (scan_refs::SUSPECTED, "SUSPECTED"),
        (scan_refs::REVIEWING, "REVIEWING"),
        (scan_refs::ACTIVE, "ACTIVE"),
        (scan_refs::EXPIRED, "EXPIRED"),
        (scan_refs::LARGE_VIDEO, "APPROVED"),
    ];
    for (scan_ref, overall) in expected_status {
        let status = post_scan_ref(addr, "/api/v2/status", scan_ref).await.json();
        let data = post_scan_ref(addr, "/api/v2/data", scan_ref).await.json();
        let full = post_scan_ref(addr, "/api/v2/full-status", scan_ref)
            .await
            .json();
        let files = post_scan_ref(addr, "/api/v2/files", scan_ref).await.json();
        assert_eq!(status["status"], overall, "{scan_ref}");
        assert_eq!(status["scanRef"], scan_ref);
        assert_eq!(data["scanRef"], scan_ref);
        // clientId is a string in /status and an integer in /data, as documented.
        assert_eq!(
            status["clientId"].as_str().unwrap(),
            data["clientId"].as_i64().unwrap().to_string()
        );
        let document = &full["client_identity_document"];
        if data["docNumber"].is_string() {
            assert_eq!(
                data["docNumber"], document["doc_document_number"],
                "{scan_ref}"
            );
            assert_eq!(data["docType"], document["doc_document_type"], "{scan_ref}");
            assert_eq!(
                data["docIssuingCountry"], document["doc_country"],
                "{scan_ref}"
            );
        }
        let has_photos = files["FACE"].is_string();
        let decided = !matches!(overall, "ACTIVE" | "EXPIRED");
        assert_eq!(
            has_photos, decided,
            "{scan_ref}: photos exist once the client took them"
        );
        assert_eq!(full["face_match_result"].is_string(), decided, "{scan_ref}");
    }

    let denied_face = post_scan_ref(addr, "/api/v2/full-status", scan_refs::DENIED_FACE)
        .await
        .json();
    assert_eq!(denied_face["manual_face_match_result"], "FACE_MISMATCH");
    let denied_doc = post_scan_ref(addr, "/api/v2/full-status", scan_refs::DENIED_DOCUMENT)
        .await
        .json();
    assert_ne!(denied_doc["manual_document_validity"], "DOC_VALIDATED");
    assert_eq!(denied_doc["manual_face_match_result"], "FACE_MATCH");
    let suspected = post_scan_ref(addr, "/api/v2/full-status", scan_refs::SUSPECTED)
        .await
        .json();
    assert!(
        !suspected["suspection_reasons"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let reviewing = post_scan_ref(addr, "/api/v2/full-status", scan_refs::REVIEWING)
        .await
        .json();
    assert!(reviewing["review_time"].is_null());
}

#[tokio::test]
async fn builtin_fixtures_cover_several_countries_and_document_types() {
    let sandbox = sandbox().await;
    let mut countries = std::collections::BTreeSet::new();
    let mut types = std::collections::BTreeSet::new();
    for scan_ref in scan_refs::SCHEMA_FIXTURES {
        let data = post_scan_ref(sandbox.local_addr(), "/api/v2/data", scan_ref)
            .await
            .json();
        countries.insert(data["selectedCountry"].to_string());
        if let Some(t) = data["docType"].as_str() {
            types.insert(t.to_owned());
        }
    }
    assert!(countries.len() >= 6, "{countries:?}");
    assert!(types.len() >= 4, "{types:?}");
}

#[tokio::test]
async fn raw_fixture_is_served_as_given() {
    let sandbox = sandbox().await;
    let reply = post_scan_ref(
        sandbox.local_addr(),
        "/api/v2/status",
        scan_refs::UNDOCUMENTED,
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["status"], "ON_HOLD");
    assert_eq!(body["riskLevel"], "LOW");
    let full = post_scan_ref(
        sandbox.local_addr(),
        "/api/v2/full-status",
        scan_refs::UNDOCUMENTED,
    )
    .await;
    assert_eq!(full.json()["face_match_result"], "FACE_LIVENESS_FAILED");
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    use tokio::io::AsyncWriteExt;
    let sandbox = sandbox().await;
    let mut stream = tokio::net::TcpStream::connect(sandbox.local_addr())
        .await
        .unwrap();
    for scan_ref in [scan_refs::APPROVED, scan_refs::EXPIRED, "missing"] {
        let body = format!("{{\"scanRef\":\"{scan_ref}\"}}");
        let request = request_bytes(
            "POST",
            "/api/v2/status",
            &[("Authorization", default_auth())],
            Some(body.as_bytes()),
        );
        stream.write_all(&request).await.unwrap();
        let reply = read_reply(&mut stream).await;
        assert!(reply.complete);
        assert_eq!(reply.status, if scan_ref == "missing" { 404 } else { 200 });
    }
}

// ---- error classes ----

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let sandbox = sandbox().await;
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let reply = send(
            sandbox.local_addr(),
            &request_bytes(
                method,
                "/api/v2/full-status",
                &[("Authorization", default_auth())],
                None,
            ),
        )
        .await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), Some("POST"));
        assert_eq!(reply.error_identifier(), "METHOD_NOT_ALLOWED");
        assert_matches_model(ERROR_MODEL, &reply.json(), "405 body");
    }
}

#[tokio::test]
async fn missing_or_wrong_credentials_get_401() {
    let sandbox = sandbox().await;
    let body = br#"{"scanRef":"sandbox-approved"}"#;
    let cases = [
        vec![],
        vec![("Authorization", basic("sandbox-key", "wrong"))],
        vec![("Authorization", basic("wrong", "sandbox-secret"))],
        vec![("Authorization", basic("sandbox-key", "sandbox-secretX"))],
        vec![("Authorization", "Bearer sandbox-secret".to_owned())],
        vec![("Authorization", "Basic ???".to_owned())],
    ];
    for headers in cases {
        let reply = send(
            sandbox.local_addr(),
            &request_bytes("POST", "/api/v2/status", &headers, Some(body)),
        )
        .await;
        assert_eq!(reply.status, 401, "{headers:?}");
        assert_eq!(reply.error_identifier(), "UNAUTHORIZED");
        assert_matches_model(ERROR_MODEL, &reply.json(), "401 body");
        assert!(!String::from_utf8_lossy(&reply.body).contains("sandbox-secret"));
    }
}

#[tokio::test]
async fn custom_credentials_replace_the_defaults() {
    let builder = Sandbox::builder().credentials("k1", "s:1");
    assert!(
        !format!("{builder:?}").contains("s:1"),
        "Debug shows no secret"
    );
    let sandbox = builder.start().await.unwrap();
    let body = br#"{"scanRef":"sandbox-approved"}"#;
    // The scheme in any case; the secret is everything after the first colon.
    for authorization in [basic("k1", "s:1"), "basic azE6czox".to_owned()] {
        let headers = [("Authorization", authorization)];
        let request = request_bytes("POST", "/api/v2/status", &headers, Some(body));
        assert_eq!(send(sandbox.local_addr(), &request).await.status, 200);
    }
    for wrong in [basic("k1", "s:"), basic("k1s", ":1"), basic("k1", "s")] {
        let headers = [("Authorization", wrong)];
        let request = request_bytes("POST", "/api/v2/status", &headers, Some(body));
        assert_eq!(send(sandbox.local_addr(), &request).await.status, 401);
    }
    let defaults = post_scan_ref(sandbox.local_addr(), "/api/v2/status", scan_refs::APPROVED).await;
    assert_eq!(defaults.status, 401);
}

#[tokio::test]
async fn body_errors_get_the_documented_identifiers() {
    let sandbox = sandbox().await;
    let long = "x".repeat(41);
    let cases: [(&str, u16, &str); 10] = [
        ("{not json", 400, "JSON_ERROR"),
        ("", 400, "JSON_ERROR"),
        ("{}", 400, "MISSING_VALUE"),
        (r#"{"scanRef":null}"#, 400, "MISSING_VALUE"),
        (r#"{"scanRef":""}"#, 400, "MISSING_VALUE"),
        (r#"{"scanRef":42}"#, 400, "BAD_VALUE"),
        (r#"{"scanRef":["a"]}"#, 400, "BAD_VALUE"),
        (r#"["sandbox-approved"]"#, 400, "BAD_VALUE"),
        ("LONG", 400, "BAD_VALUE"),
        (r#"{"scanRef":"no-such-identification"}"#, 404, "NOT_FOUND"),
    ];
    for (body, status, identifier) in cases {
        let body = if body == "LONG" {
            format!("{{\"scanRef\":\"{long}\"}}")
        } else {
            body.to_owned()
        };
        let reply = post(sandbox.local_addr(), "/api/v2/data", &body, &[]).await;
        assert_eq!(reply.status, status, "{body}");
        assert_eq!(reply.error_identifier(), identifier, "{body}");
        if identifier != "NOT_FOUND" {
            assert_matches_model(ERROR_MODEL, &reply.json(), "400 body");
        }
    }
}

#[tokio::test]
async fn forty_characters_is_still_a_valid_scan_ref() {
    let sandbox = sandbox().await;
    let reply = post_scan_ref(sandbox.local_addr(), "/api/v2/status", &"y".repeat(40)).await;
    assert_eq!(
        reply.status, 404,
        "length 40 passes validation and is merely unknown"
    );
}

#[tokio::test]
async fn bodies_over_the_cap_get_413() {
    let sandbox = Sandbox::builder().max_body_bytes(64).start().await.unwrap();
    let padded = format!(
        "{{\"scanRef\":\"sandbox-approved\",\"pad\":\"{}\"}}",
        "p".repeat(100)
    );
    let declared = post(sandbox.local_addr(), "/api/v2/status", &padded, &[]).await;
    assert_eq!(declared.status, 413);
    assert_eq!(declared.error_identifier(), "BAD_VALUE");

    // Without Content-Length (chunked), the cap applies while reading.
    let chunked = format!(
        "POST /api/v2/status HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        default_auth(),
        padded.len(),
        padded
    );
    let streamed = send(sandbox.local_addr(), chunked.as_bytes()).await;
    assert_eq!(streamed.status, 413);

    let small = post_scan_ref(sandbox.local_addr(), "/api/v2/status", scan_refs::APPROVED).await;
    assert_eq!(small.status, 200, "bodies under the cap still work");
}

#[tokio::test]
async fn a_body_that_stalls_gets_408_instead_of_holding_the_connection() {
    let sandbox = Sandbox::builder()
        .body_read_timeout(std::time::Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    // Announces 40 bytes, sends 5, then waits.
    let head = format!(
        "POST /api/v2/status HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: 40\r\n\r\n{{\"sca",
        default_auth()
    );
    let stalled = send(sandbox.local_addr(), head.as_bytes()).await;
    assert_eq!(stalled.status, 408);
    assert_eq!(stalled.error_identifier(), "BAD_VALUE");
}

#[tokio::test]
async fn unknown_paths_get_404() {
    let sandbox = sandbox().await;
    for path in ["/", "/api/v2/deletes", "/api/v3/status", "/api/v2/statuses"] {
        let reply = post_scan_ref(sandbox.local_addr(), path, scan_refs::APPROVED).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.error_identifier(), "NOT_FOUND");
    }
    let trailing =
        post_scan_ref(sandbox.local_addr(), "/api/v2/status/", scan_refs::APPROVED).await;
    assert_eq!(trailing.status, 200, "a trailing slash is tolerated");
}

#[tokio::test]
async fn error_messages_do_not_echo_request_data() {
    let sandbox = sandbox().await;
    let reply = post(
        sandbox.local_addr(),
        "/api/v2/status",
        r#"{"scanRef":"PERSONAL-LOOKING-REF"}"#,
        &[],
    )
    .await;
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(!text.contains("PERSONAL-LOOKING-REF"), "{text}");
    let _: Value = reply.json();
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let sandbox = sandbox().await;
    let addr = sandbox.local_addr();
    assert_eq!(
        post_scan_ref(addr, "/api/v2/status", scan_refs::APPROVED)
            .await
            .status,
        200
    );
    drop(sandbox);
    // The listener closes once the accept loop sees the signal.
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        refused,
        "connections are refused after the handle is dropped"
    );
}

#[tokio::test]
async fn an_in_process_sandbox_answers_on_any_byte_stream() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sandbox = Sandbox::builder()
        .in_process("http://sandbox.test")
        .unwrap();
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let serving = tokio::spawn({
        let sandbox = sandbox.clone();
        async move { sandbox.serve(server).await }
    });
    let body = format!(r#"{{"scanRef":"{}"}}"#, scan_refs::APPROVED);
    let request = request_bytes(
        "POST",
        "/api/v2/files",
        &[
            ("Authorization", default_auth()),
            ("Connection", "close".into()),
        ],
        Some(body.as_bytes()),
    );
    client.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, client.read_to_end(&mut answer))
        .await
        .expect("the in-process sandbox answers and closes")
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("http://sandbox.test/"), "{answer}");
    tokio::time::timeout(WAIT, serving).await.unwrap().unwrap();
}

#[tokio::test]
async fn an_unspecified_address_is_advertised_as_loopback() {
    let any_v4 = Sandbox::builder()
        .host(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        .start()
        .await
        .unwrap();
    let port = any_v4.local_addr().port();
    assert_eq!(any_v4.base_url(), format!("http://127.0.0.1:{port}"));
    // Where the machine has IPv6 at all.
    let any_v6 = Sandbox::builder().host(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    if let Ok(any_v6) = any_v6.start().await {
        let port = any_v6.local_addr().port();
        assert_eq!(any_v6.base_url(), format!("http://[::1]:{port}"));
    }
}

#[tokio::test]
async fn a_public_url_is_a_scheme_and_an_authority() {
    for (given, used) in [
        ("https://sandbox.test:8443/", "https://sandbox.test:8443"),
        ("http://10.1.2.3:8080", "http://10.1.2.3:8080"),
    ] {
        let sandbox = Sandbox::builder().public_url(given).start().await.unwrap();
        assert_eq!(sandbox.base_url(), used);
    }
    for refused in [
        "sandbox.test:8080",
        "ftp://sandbox.test",
        "http://sandbox.test/api",
        "http://sandbox.test/?x=1",
        "http://user:pass@sandbox.test",
        "",
    ] {
        let result = Sandbox::builder().public_url(refused).start().await;
        assert!(
            matches!(result, Err(SandboxError::PublicUrl(_))),
            "{refused}: {result:?}"
        );
    }
}

#[test]
fn only_non_loopback_hosts_with_the_default_credentials_are_exposed() {
    let everywhere = Sandbox::builder().host(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert!(everywhere.is_exposed_with_default_credentials());
    assert!(
        !everywhere
            .clone()
            .credentials("own-key", "own-secret")
            .is_exposed_with_default_credentials()
    );
    assert!(!Sandbox::builder().is_exposed_with_default_credentials());
}

#[tokio::test]
async fn a_secret_core_refuses_cannot_sign_callbacks() {
    let refused = Sandbox::builder()
        .credentials("key", "se cret")
        .start()
        .await;
    assert!(
        matches!(refused, Err(SandboxError::Secret(_))),
        "{refused:?}"
    );
    let sandbox = Sandbox::builder().start().await.unwrap();
    let options = DeliveryOptions::new().signed_with("se\ncret");
    let url = "http://127.0.0.1:9/callback";
    let refused = sandbox
        .deliver_callback(scan_refs::APPROVED, url, &options)
        .await;
    assert!(
        matches!(refused, Err(DeliveryError::Secret(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn empty_credentials_are_refused() {
    for (key, secret) in [("", "secret"), ("key", ""), ("", "")] {
        let refused = Sandbox::builder().credentials(key, secret).start().await;
        assert!(
            matches!(refused, Err(SandboxError::EmptyCredentials)),
            "{key:?}/{secret:?}: {refused:?}"
        );
    }
}
