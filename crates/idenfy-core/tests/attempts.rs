//! A failed lookup says how many attempts the client made, whatever the last error was.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use idenfy_core::{Client, Credentials, Endpoint, Error, RetryPolicy};

/// A transport that answers with `statuses` in turn (the last one from then on), each with the
/// API's JSON error body.
fn answering(
    statuses: &'static [u16],
    calls: Arc<AtomicU32>,
) -> impl Fn(Request<Bytes>) -> std::future::Ready<Result<Response<Bytes>, std::io::Error>> + Send + Sync
{
    move |_request| {
        let call = calls.fetch_add(1, Ordering::SeqCst) as usize;
        let status = statuses[call.min(statuses.len() - 1)];
        std::future::ready(Ok(Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Bytes::from_static(
                br#"{"identifier":"SOME_ERROR","message":"no"}"#,
            ))
            .unwrap()))
    }
}

fn client<T: idenfy_core::Transport>(transport: T) -> Client<T, impl idenfy_core::Timer> {
    Client::builder(Credentials::new("key", "secret").unwrap())
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(2)),
        )
        .build(transport, tokio::time::sleep)
}

#[tokio::test]
async fn a_failure_after_retries_carries_the_number_of_attempts() {
    let calls = Arc::new(AtomicU32::new(0));
    // Two gateway failures, then a final answer the client does not retry.
    let client = client(answering(&[503, 502, 404], calls.clone()));
    let failure = client
        .lookup_raw(Endpoint::Status, &"ref-1".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(failure.attempts, 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(
        matches!(&failure.error, Error::Api(api) if api.status == 404),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_failure_at_the_first_attempt_says_one_and_exhausted_retries_say_all() {
    let calls = Arc::new(AtomicU32::new(0));
    let client_404 = client(answering(&[404], calls.clone()));
    let failure = client_404
        .lookup_raw(Endpoint::Status, &"ref-1".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(failure.attempts, 1);

    let calls = Arc::new(AtomicU32::new(0));
    let client_503 = client(answering(&[503], calls.clone()));
    let failure = client_503
        .lookup_raw(Endpoint::Status, &"ref-1".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(failure.attempts, 4);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}
