//! The axum receiver example, end to end over loopback: the sandbox delivers callbacks signed
//! with the webhook's signing key to it, with their event type; a tampered body, a bad or
//! missing signature, the API secret in the signing key's place and another key are refused
//! with 401 and never reach the handler; during a rotation the old and the new key both verify.

use std::time::Duration;

use idenfy_core::callback::{SIGNATURE_HEADER, SigningKey, VerifiedCallback};
use idenfy_core::models::{EventType, OverallStatus};
use idenfy_sandbox::{CallbackFault, DEFAULT_API_SECRET, DeliveryOptions, Sandbox, scan_refs};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

// The example's own router, so that what the example shows is what is tested.
#[path = "../../crates/idenfy-core/examples/axum_receiver.rs"]
#[allow(dead_code)]
mod example;

const WAIT: Duration = Duration::from_secs(10);

/// The webhook's signing key, as the vendor's dashboard would show it.
const SIGNING_KEY: &str = "whsk-receiver-test-key";
/// The key a rotation retires.
const OLD_SIGNING_KEY: &str = "whsk-retired-key";

/// The example's receiver on 127.0.0.1, keyed with the webhook's signing key and the one being
/// retired.
async fn start_receiver() -> (String, mpsc::Receiver<VerifiedCallback>) {
    let (queue, callbacks) = mpsc::channel(16);
    let keys = [SIGNING_KEY, OLD_SIGNING_KEY].map(|key| SigningKey::new(key).unwrap());
    let router = example::router(keys.to_vec(), queue);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        example::CALLBACK_PATH
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, callbacks)
}

fn signed() -> DeliveryOptions {
    DeliveryOptions::new().signed_with(SIGNING_KEY)
}

fn assert_nothing_queued(callbacks: &mut mpsc::Receiver<VerifiedCallback>, what: &str) {
    assert!(
        callbacks.try_recv().is_err(),
        "{what}: the handler saw a refused callback"
    );
}

#[tokio::test]
async fn a_signed_callback_from_the_sandbox_reaches_the_handler() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let (url, mut callbacks) = start_receiver().await;
    let delivery = timeout(
        WAIT,
        sandbox.deliver_callback(scan_refs::APPROVED, &url, &signed()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(delivery.answers[0].status, 200);
    let verified = timeout(WAIT, callbacks.recv()).await.unwrap().unwrap();
    assert_eq!(verified.key.index, 0, "the current signing key matched");
    assert_eq!(
        verified.event_type,
        Some(EventType::IdentificationAutoFinished)
    );
    let callback = verified.callback;
    assert_eq!(callback.scan_ref.as_deref(), Some(scan_refs::APPROVED));
    assert_eq!(callback.final_, Some(true));
    assert_eq!(
        callback.status.unwrap().overall,
        Some(OverallStatus::Approved)
    );
    assert_eq!(
        callback.data.unwrap().doc_first_name.as_deref(),
        Some("TESTAS")
    );

    // A duplicate delivery is answered 200 both times; deduplicating is the consumer's job.
    let duplicate = signed().fault(CallbackFault::Duplicate);
    let delivery = sandbox
        .deliver_callback(scan_refs::APPROVED, &url, &duplicate)
        .await
        .unwrap();
    assert!(delivery.all_ok());
    for _ in 0..2 {
        timeout(WAIT, callbacks.recv()).await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn the_vendors_sequence_arrives_auto_then_manual_and_the_retired_key_still_verifies() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let (url, mut callbacks) = start_receiver().await;
    let options = DeliveryOptions::new().signed_with(OLD_SIGNING_KEY);
    let deliveries = timeout(
        WAIT,
        sandbox.deliver_sequence(scan_refs::APPROVED, &url, &options),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(deliveries.iter().all(|delivery| delivery.all_ok()));
    let auto = timeout(WAIT, callbacks.recv()).await.unwrap().unwrap();
    let manual = timeout(WAIT, callbacks.recv()).await.unwrap().unwrap();
    assert_eq!(
        (auto.event_type, auto.callback.final_, auto.key.index),
        (Some(EventType::IdentificationAutoFinished), Some(false), 1)
    );
    assert_eq!(
        (manual.event_type, manual.callback.final_, manual.key.index),
        (Some(EventType::IdentificationManualFinished), Some(true), 1)
    );
}

#[tokio::test]
async fn bad_signatures_and_another_secret_get_401_and_never_reach_the_handler() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let (url, mut callbacks) = start_receiver().await;
    let cases = [
        ("bad signature", signed().fault(CallbackFault::BadSignature)),
        (
            "missing signature",
            signed().fault(CallbackFault::MissingSignature),
        ),
        (
            "the API secret in the signing key's place",
            DeliveryOptions::new().signed_with(DEFAULT_API_SECRET),
        ),
        (
            "another key",
            DeliveryOptions::new().signed_with("not-the-receivers-key"),
        ),
    ];
    for (what, options) in cases {
        let delivery = sandbox
            .deliver_callback(scan_refs::APPROVED, &url, &options)
            .await
            .unwrap();
        assert_eq!(delivery.answers[0].status, 401, "{what}");
        assert_nothing_queued(&mut callbacks, what);
    }
}

#[tokio::test]
async fn a_tampered_body_gets_401_and_never_reaches_the_handler() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let (url, mut callbacks) = start_receiver().await;
    let body = sandbox.callback_body(scan_refs::APPROVED).unwrap();
    let signature = idenfy_core::callback::sign(&SigningKey::new(SIGNING_KEY).unwrap(), &body);
    // The approved result turned into a denied one, under the original signature.
    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("\"APPROVED\"", "\"DENIED\"");
    assert_ne!(tampered.as_bytes(), &body[..]);
    assert_eq!(post(&url, &signature, tampered.as_bytes()).await, 401);
    assert_nothing_queued(&mut callbacks, "tampered body");
    // The untouched body with the same signature is accepted: the refusal was the tampering.
    assert_eq!(post(&url, &signature, &body).await, 200);
    timeout(WAIT, callbacks.recv()).await.unwrap().unwrap();
}

/// POSTs `body` with `signature` over a raw connection and returns the status code.
async fn post(url: &str, signature: &str, body: &[u8]) -> u16 {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = timeout(WAIT, TcpStream::connect(authority))
        .await
        .unwrap()
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n{SIGNATURE_HEADER}: {signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut reply = Vec::new();
    timeout(WAIT, stream.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8_lossy(&reply);
    reply.split(' ').nth(1).unwrap().parse().unwrap()
}
