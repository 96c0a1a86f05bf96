//! What the client's tracing spans say: the endpoint, the scanRef, each attempt's number, status
//! and latency; never the credentials, never a body.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use idenfy_core::{Client, Credentials, RetryPolicy};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

const SECRET: &str = "s3cr3t-value-never-logged";
const PERSONAL_NAME: &str = "Jurgita Pavyzdiene";

#[tokio::test]
async fn spans_name_the_lookup_and_its_attempts_but_no_secret_or_body() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // A test double of the network: 503 first, then a body with personal data.
    let calls = Arc::new(Mutex::new(0));
    let transport = {
        let calls = calls.clone();
        move |_request: Request<Bytes>| {
            let calls = calls.clone();
            async move {
                let mut calls = calls.lock().unwrap();
                *calls += 1;
                let (status, body) = if *calls == 1 {
                    (
                        503,
                        r#"{"identifier":"INTERNAL_ERROR","message":"queue-full-message-text"}"#
                            .to_owned(),
                    )
                } else {
                    (200, format!(r#"{{"client":{{"name":"{PERSONAL_NAME}"}}}}"#))
                };
                Ok::<_, std::io::Error>(
                    Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Bytes::from(body))
                        .unwrap(),
                )
            }
        }
    };
    let client = Client::builder(Credentials::new("key-1", SECRET).unwrap())
        .retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(2)),
        )
        .build(transport, tokio::time::sleep);
    let full = client
        .full_status(&"scan-ref-7".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(full.client.unwrap().name.as_deref(), Some(PERSONAL_NAME));

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "idenfy.lookup",
        "idenfy.attempt",
        "endpoint=\"full-status\"",
        "scan_ref=\"scan-ref-7\"",
        "attempt=2",
        "status=503",
        "status=200",
        "attempts=2",
        "latency_ms=",
    ] {
        assert!(
            output.contains(expected),
            "the traces lack `{expected}`:\n{output}"
        );
    }
    for secret in [SECRET, "Basic ", PERSONAL_NAME, "queue-full-message-text"] {
        assert!(
            !output.contains(secret),
            "the traces show `{secret}`:\n{output}"
        );
    }
}
