//! Result callbacks: bodies consistent with the fixtures' answers, and their delivery, signed,
//! to a receiver over loopback.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{CALLBACK_MODEL, WAIT, assert_matches_model, get_url, post_scan_ref};
use hmac::{Hmac, KeyInit, Mac};
use idenfy_sandbox::{
    CallbackFault, DEFAULT_API_SECRET, DeliveryError, DeliveryOptions, Fixtures, Sandbox, scan_refs,
};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::timeout;

/// What a test receiver saw of one POST.
#[derive(Debug, Clone)]
struct Received {
    signature: Option<String>,
    body: Vec<u8>,
}

/// A receiver on 127.0.0.1 that checks the signature with `secret` (HMAC-SHA256, hex), answers
/// 200 or 401, and records what it got. `reply_body` is appended to its answers.
async fn receiver(
    secret: &'static str,
    reply_body: Vec<u8>,
) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/idenfy/callback", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let reply = common::read_request(&mut stream).await;
            let signature = reply.header("idenfy-signature").map(str::to_owned);
            let valid = signature.as_deref().is_some_and(|hex| {
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
                mac.update(&reply.body);
                let expected: String = mac
                    .finalize()
                    .into_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                expected == hex
            });
            log.lock().unwrap().push(Received {
                signature,
                body: reply.body,
            });
            let status = if valid { "200 OK" } else { "401 Unauthorized" };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reply_body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&reply_body).await;
        }
    });
    (url, seen)
}

#[tokio::test]
async fn each_builtin_callback_matches_the_fixture_answers_and_its_model() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    for scan_ref in scan_refs::SCHEMA_FIXTURES {
        let body = sandbox
            .callback_body(scan_ref)
            .expect("a built-in fixture has a callback");
        let callback: Value = serde_json::from_slice(&body).unwrap();
        assert_matches_model(CALLBACK_MODEL, &callback, &format!("{scan_ref} callback"));
        assert_eq!(callback["scanRef"], scan_ref);

        let status = post_scan_ref(sandbox.local_addr(), "/api/v2/status", scan_ref)
            .await
            .json();
        assert_eq!(
            callback["status"]["overall"], status["status"],
            "{scan_ref}"
        );
        assert_eq!(callback["clientId"], status["clientId"], "{scan_ref}");
        let data = post_scan_ref(sandbox.local_addr(), "/api/v2/data", scan_ref)
            .await
            .json();
        assert_eq!(callback["data"], data, "{scan_ref}");
        let full = post_scan_ref(sandbox.local_addr(), "/api/v2/full-status", scan_ref)
            .await
            .json();
        assert_eq!(
            callback["status"]["autoFace"], full["face_match_result"],
            "{scan_ref}"
        );
        assert_eq!(
            callback["status"]["manualDocument"], full["manual_document_validity"],
            "{scan_ref}"
        );

        // The same file slots as /files, and every URL downloads from this sandbox.
        let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_ref)
            .await
            .json();
        for (kind, url) in files.as_object().unwrap() {
            assert_eq!(
                url.is_null(),
                callback["fileUrls"][kind].is_null(),
                "{scan_ref} {kind}"
            );
            if let Some(url) = callback["fileUrls"][kind].as_str() {
                let download = get_url(url, &[]).await;
                assert_eq!(download.status, 200, "{scan_ref} {kind}");
                assert!(download.complete);
            }
        }
    }
    // Preliminary while a review is pending, final otherwise; times as Unix seconds.
    let reviewing: Value =
        serde_json::from_slice(&sandbox.callback_body(scan_refs::REVIEWING).unwrap()).unwrap();
    assert_eq!(reviewing["final"], false);
    let approved: Value =
        serde_json::from_slice(&sandbox.callback_body(scan_refs::APPROVED).unwrap()).unwrap();
    assert_eq!(approved["final"], true);
    let full = post_scan_ref(
        sandbox.local_addr(),
        "/api/v2/full-status",
        scan_refs::APPROVED,
    )
    .await
    .json();
    let start = full["start_time"]
        .as_str()
        .expect("the fixture has a start time");
    let seconds = approved["startTime"].as_i64().expect("a number of seconds");
    // The time of day exactly, and the year.
    let (date, time) = start.split_once(' ').unwrap();
    let clock: Vec<i64> = time.split(':').map(|part| part.parse().unwrap()).collect();
    assert_eq!(
        seconds % 86_400,
        clock[0] * 3600 + clock[1] * 60 + clock[2],
        "{start}"
    );
    assert!(
        date.starts_with(&(1970 + seconds / 31_556_952).to_string()),
        "{start} {seconds}"
    );
    // Exactly: 2026-03-02 10:14:05 UTC, whose date is after a leap day's place in the year.
    assert_eq!((start, seconds), ("2026-03-02 10:14:05", 1_772_446_445));

    // The fixture outside the schema has a raw callback, consistent with its raw answers.
    let undocumented: Value =
        serde_json::from_slice(&sandbox.callback_body(scan_refs::UNDOCUMENTED).unwrap()).unwrap();
    let status = post_scan_ref(
        sandbox.local_addr(),
        "/api/v2/status",
        scan_refs::UNDOCUMENTED,
    )
    .await
    .json();
    assert_eq!(undocumented["status"]["overall"], status["status"]);
    assert_eq!(undocumented["scanRef"], scan_refs::UNDOCUMENTED);
    assert_eq!(sandbox.callback_body("no-such-ref"), None);
}

#[tokio::test]
async fn a_delivery_is_signed_with_the_sandbox_secret_and_its_answer_recorded() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let (url, seen) = receiver(DEFAULT_API_SECRET, b"thanks".to_vec()).await;
    let delivery = sandbox
        .deliver_callback(scan_refs::APPROVED, &url, &DeliveryOptions::new())
        .await
        .unwrap();
    assert!(delivery.all_ok(), "{delivery:?}");
    assert_eq!(&delivery.answers[0].body[..], b"thanks");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].body,
        sandbox.callback_body(scan_refs::APPROVED).unwrap()
    );
    assert_eq!(
        seen[0].signature.as_deref(),
        Some(sandbox.sign_callback(&seen[0].body).as_str())
    );
    let recorded = sandbox.deliveries();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].answers, delivery.answers);
}

#[tokio::test]
async fn faults_a_receiver_must_handle() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let (url, seen) = receiver(DEFAULT_API_SECRET, Vec::new()).await;
    let send = |fault| {
        let options = DeliveryOptions::new().fault(fault);
        let sandbox = &sandbox;
        let url = url.clone();
        async move {
            sandbox
                .deliver_callback(scan_refs::APPROVED, &url, &options)
                .await
                .unwrap()
        }
    };
    let bad = send(CallbackFault::BadSignature).await;
    assert_eq!(bad.answers[0].status, 401);
    let missing = send(CallbackFault::MissingSignature).await;
    assert_eq!(missing.answers[0].status, 401);
    let duplicate = send(CallbackFault::Duplicate).await;
    assert_eq!(duplicate.answers.len(), 2);
    assert!(duplicate.all_ok());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    assert!(
        seen[0].signature.as_ref().is_some_and(|s| s.len() == 64),
        "well formed, wrong"
    );
    assert_eq!(seen[1].signature, None);
    assert_eq!(seen[2].body, seen[3].body);
    assert_eq!(seen[2].signature, seen[3].signature);

    // Another secret: what a receiver configured with the real secret sees from a sandbox.
    let other = DeliveryOptions::new().signed_with("not-the-receivers-secret");
    let refused = sandbox
        .deliver_callback(scan_refs::APPROVED, &url, &other)
        .await
        .unwrap();
    assert_eq!(refused.answers[0].status, 401);
}

#[tokio::test]
async fn deliveries_are_bounded_in_time_and_in_what_is_read_back() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    // A receiver that reads the request and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let options = DeliveryOptions::new().timeout(Duration::from_millis(300));
    let err = timeout(
        WAIT,
        sandbox.deliver_callback(scan_refs::APPROVED, &silent_url, &options),
    )
    .await
    .expect("the delivery's own timeout fires first")
    .unwrap_err();
    assert!(matches!(err, DeliveryError::Timeout { .. }), "{err:?}");

    let (url, _) = receiver(DEFAULT_API_SECRET, vec![b'x'; 100_000]).await;
    let options = DeliveryOptions::new().max_answer_bytes(1000);
    let delivery = sandbox
        .deliver_callback(scan_refs::APPROVED, &url, &options)
        .await
        .unwrap();
    assert_eq!(delivery.answers[0].body.len(), 1000);
    assert!(delivery.answers[0].truncated);

    // Loopback only, in any spelling; nothing listens on port 9 here.
    for url in [
        "http://[::1]:9/",
        "http://localhost:9/",
        "http://LocalHost:9/",
    ] {
        let err = sandbox
            .deliver_callback(scan_refs::APPROVED, url, &DeliveryOptions::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, DeliveryError::Receiver { .. }),
            "{url}: {err:?}"
        );
    }
    for url in [
        "https://127.0.0.1:1/",
        "http://192.0.2.1/",
        "http://10.0.0.1/",
        "http://example.com/",
        "/relative",
        "not a url",
    ] {
        let err = sandbox
            .deliver_callback(scan_refs::APPROVED, url, &DeliveryOptions::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, DeliveryError::UnsupportedUrl(_)),
            "{url}: {err:?}"
        );
    }
    let err = sandbox
        .deliver_callback("no-such-ref", &url, &DeliveryOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::UnknownScanRef(_)), "{err:?}");
}

#[tokio::test]
async fn user_fixtures_give_a_checked_or_a_raw_callback() {
    // A complete callback (every documented key, as the API sends them), under another scanRef.
    let builtin = Sandbox::builder().start().await.unwrap();
    let mut callback: Value =
        serde_json::from_slice(&builtin.callback_body(scan_refs::APPROVED).unwrap()).unwrap();
    callback["scanRef"] = "given".into();
    callback["status"]["overall"] = "DENIED".into();
    let given = serde_json::json!({"fixtures": [
        {"scanRef": "given", "callback": callback},
        {"scanRef": "raw-one", "raw": {"callback": {"text": "{\"scanRef\": 7, not json", "contentType": "application/json"}}}
    ]});
    let fixtures = Fixtures::from_json_str(&given.to_string()).unwrap();
    let sandbox = Sandbox::builder().fixtures(fixtures).start().await.unwrap();
    let body: Value = serde_json::from_slice(&sandbox.callback_body("given").unwrap()).unwrap();
    assert_eq!(body, callback);
    assert_eq!(
        &sandbox.callback_body("raw-one").unwrap()[..],
        b"{\"scanRef\": 7, not json"
    );

    callback["scanRef"] = "bad".into();
    callback["startTime"] = "SECRET-TIME".into();
    let invalid = serde_json::json!({"fixtures": [{"scanRef": "bad", "callback": callback}]});
    let err = Fixtures::from_json_str(&invalid.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fixture bad: field callback/startTime"),
        "{err}"
    );
    assert!(!err.contains("SECRET-TIME"), "{err}");
    callback["startTime"] = 1.into();
    // A value outside a documented list, nested in a list, is named where it is, with the list.
    callback["status"]["suspicionReasons"] = serde_json::json!(["FACE_SUSPECTED", "SECRET-VALUE"]);
    let invalid = serde_json::json!({"fixtures": [{"scanRef": "bad", "callback": callback}]});
    let err = Fixtures::from_json_str(&invalid.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("field callback/status/suspicionReasons/1: must be one of ")
            && err.contains("FACE_SUSPECTED")
            && !err.contains("SECRET"),
        "{err}"
    );
    callback["status"]["suspicionReasons"] = serde_json::json!([]);
    let mismatched = serde_json::json!({"fixtures": [{"scanRef": "one", "callback": callback}]});
    let err = Fixtures::from_json_str(&mismatched.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("callback/scanRef"), "{err}");
}

#[tokio::test]
async fn a_receiver_that_closes_early_is_a_receiver_error() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let rude = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", rude.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = rude.accept().await {
            let mut buffer = [0u8; 16];
            let _ = stream.read(&mut buffer).await;
            drop(stream);
        }
    });
    let err = sandbox
        .deliver_callback(scan_refs::APPROVED, &url, &DeliveryOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Receiver { .. }), "{err:?}");
}

#[tokio::test]
async fn the_binary_delivers_a_callback_and_prints_the_answer() {
    let (url, seen) = receiver(DEFAULT_API_SECRET, Vec::new()).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_idenfy-sandbox"))
        .args([
            "--port",
            "0",
            "--quiet",
            "--send-callback",
            scan_refs::APPROVED,
        ])
        .args(["--callback-to", &url])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // Lines as they come, from a thread: a blocking read must not hold up the receiver.
    let (lines, mut next_line) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let answered = timeout(WAIT, async {
        while let Some(line) = next_line.recv().await {
            if line.contains("receiver answered") {
                return Some(line);
            }
        }
        None
    })
    .await;
    child.kill().ok();
    child.wait().ok();
    let line = answered
        .expect("the sandbox reports the answer in time")
        .expect("the sandbox reports the answer before it exits");
    assert!(line.contains("receiver answered 200 OK"), "{line}");
    let seen = seen.lock().unwrap();
    let callback: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(callback["scanRef"], scan_refs::APPROVED);
}
