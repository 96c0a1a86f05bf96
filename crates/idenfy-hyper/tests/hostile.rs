//! The hyper client against a server that lies (`idenfy-hostile`, real sockets on 127.0.0.1):
//! `Retry-After` that asks for no wait, endless interim responses, escape sequences and echoed
//! credentials in error messages, statuses that are not worth retrying.

use std::time::{Duration, Instant};

use idenfy_hostile::{HostileServer, Script};
use idenfy_hyper::core::Error;
use idenfy_hyper::{BaseUrl, Client, Credentials, HyperError, MAX_INTERIM_RESPONSES, RetryPolicy};

const KEY: &str = "hostile-key";
/// No digits, so that no digit-based masking of error pages can hide a leak.
const SECRET: &str = "hostile-secret-value";

fn client(server: &HostileServer, policy: RetryPolicy, attempt_timeout: Duration) -> Client {
    Client::builder(Credentials::new(KEY, SECRET).unwrap())
        .base_url(BaseUrl::parse(&server.url("")).unwrap())
        .retry_policy(policy)
        .attempt_timeout(attempt_timeout)
        .deadline(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn scan_ref() -> idenfy_hyper::ScanRef {
    "scan-ref-1".parse().unwrap()
}

const TOO_MANY: &str = r#"{"identifier":"TOO_MANY_REQUESTS","message":"Slow down."}"#;

/// The gaps between the requests a server always answering 429 with `retry_after` saw.
async fn gaps_after_429s_with(retry_after: &'static str) -> Vec<Duration> {
    let server = HostileServer::start(move |_| {
        Script::response(
            429,
            &[
                ("content-type", "application/json"),
                ("retry-after", retry_after),
            ],
            TOO_MANY.as_bytes(),
        )
    });
    // Bounds 200, 400, 800 ms: equal jitter waits at least 100, 200, 400 ms.
    let policy = RetryPolicy::default()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(1));
    let error = client(&server, policy, Duration::from_secs(5))
        .status(&scan_ref())
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429), "{error}");
    let requests = server.requests();
    assert_eq!(requests.len(), 4, "max_attempts is 4");
    requests
        .windows(2)
        .map(|pair| pair[1].at - pair[0].at)
        .collect()
}

fn assert_backoff_kept(gaps: &[Duration]) {
    for (retry, (gap, floor)) in gaps.iter().zip([100, 200, 400]).enumerate() {
        assert!(
            *gap >= Duration::from_millis(floor),
            "retry {} came {gap:?} after the previous attempt, under the backoff's {floor} ms floor; all gaps: {gaps:?}",
            retry + 1
        );
    }
}

#[tokio::test]
async fn retry_after_zero_does_not_remove_the_backoff() {
    assert_backoff_kept(&gaps_after_429s_with("0").await);
}

#[tokio::test]
async fn retry_after_in_the_past_does_not_remove_the_backoff() {
    assert_backoff_kept(&gaps_after_429s_with("Sun, 06 Nov 1994 08:49:37 GMT").await);
}

#[tokio::test]
async fn endless_interim_responses_end_the_attempt_with_a_typed_error() {
    let server = HostileServer::start(|_| Script::endless_interim());
    let attempt_timeout = Duration::from_secs(5);
    let started = Instant::now();
    let error = client(&server, RetryPolicy::no_retries(), attempt_timeout)
        .status(&scan_ref())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            error,
            Error::Transport(HyperError::TooManyInterimResponses { limit }) if limit == MAX_INTERIM_RESPONSES
        ),
        "expected too many interim responses, got {error:?} after {elapsed:?}"
    );
    assert!(
        elapsed < attempt_timeout,
        "the interim responses held the attempt for {elapsed:?}"
    );
}

#[tokio::test]
async fn endless_interim_responses_with_retries_end_within_the_time_limits() {
    let server = HostileServer::start(|_| Script::endless_interim());
    let attempt_timeout = Duration::from_secs(2);
    let started = Instant::now();
    let policy = RetryPolicy::default()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(50));
    let error = client(&server, policy, attempt_timeout)
        .status(&scan_ref())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            error,
            Error::Transport(HyperError::TooManyInterimResponses { .. })
        ),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 3, "each attempt is retried");
    // A generous multiple: three attempts of 2 s each would be the worst case.
    assert!(elapsed < attempt_timeout * 3, "took {elapsed:?}");
}

#[tokio::test]
async fn a_few_interim_responses_before_the_final_one_are_fine() {
    let server = HostileServer::start(|_| {
        let mut bytes = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n".to_vec();
        bytes.extend_from_slice(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 21\r\n\r\n{\"status\":\"APPROVED\"}",
        );
        Script::raw(bytes)
    });
    let status = client(&server, RetryPolicy::no_retries(), Duration::from_secs(5))
        .status(&scan_ref())
        .await
        .unwrap();
    assert_eq!(
        status.status.map(|s| s.to_string()).as_deref(),
        Some("APPROVED")
    );
}

/// base64 of `KEY:SECRET`, as the `Authorization` header carries it.
fn basic_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
}

fn assert_no_credentials(text: &str) {
    let token = basic_token();
    assert!(!text.contains(SECRET), "the API secret leaked: {text}");
    assert!(
        !text.contains(token.trim_end_matches('=')),
        "the Basic token leaked: {text}"
    );
}

#[tokio::test]
async fn credentials_a_server_echoes_are_masked_in_every_error() {
    let token = basic_token();
    assert!(!token.trim_end_matches('=').is_empty());
    let scripts: [fn(&str) -> Script; 3] = [
        // The API's JSON error shape, echoing the header in each of its strings.
        |authorization| {
            let body = serde_json::json!({
                "identifier": format!("BAD_{authorization}"),
                "message": format!("rejected header Authorization: {authorization}"),
                "documentation": format!("https://example.invalid/?auth={authorization}"),
                "severity": authorization,
            });
            Script::json(400, &body.to_string())
        },
        // Only the secret, decoded by a helpful proxy.
        |_| {
            Script::json(
                401,
                &format!(r#"{{"identifier":"UNAUTHORIZED","message":"bad password {SECRET}"}}"#),
            )
        },
        // A plain-text page.
        |authorization| {
            Script::response(
                502,
                &[("content-type", "text/plain")],
                format!("upstream refused {authorization} secret {SECRET}").as_bytes(),
            )
        },
    ];
    for script in scripts {
        let server = HostileServer::start(move |seen| {
            script(seen.header("authorization").unwrap_or_default())
        });
        let error = client(&server, RetryPolicy::no_retries(), Duration::from_secs(5))
            .status(&scan_ref())
            .await
            .unwrap_err();
        let echoed = server.requests()[0]
            .header("authorization")
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            echoed,
            format!("Basic {token}"),
            "the header the server saw"
        );
        let shown = format!("{error}\n{error:?}");
        assert_no_credentials(&shown);
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}

#[tokio::test]
async fn control_characters_from_the_server_are_escaped_in_error_messages() {
    let server = HostileServer::start(|_| {
        let body = serde_json::json!({
            "identifier": "\u{1b}]0;owned\u{7}",
            "message": "no\nidenfy: 0 failed, all good\u{1b}[2J\u{9b}31m\u{202e}",
            "documentation": "https://x.invalid/\r\u{7f}",
        });
        Script::json(400, &body.to_string())
    });
    let error = client(&server, RetryPolicy::no_retries(), Duration::from_secs(5))
        .status(&scan_ref())
        .await
        .unwrap_err();
    let Error::Api(api) = &error else {
        panic!("expected the API's error, got {error:?}")
    };
    // The typed fields keep the server's text as sent; only what is shown is escaped.
    assert!(api.message.as_deref().unwrap_or_default().contains('\n'));
    let shown = error.to_string();
    assert!(
        !shown
            .chars()
            .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
        "{shown:?}"
    );
    assert!(
        shown.contains("no\\nidenfy: 0 failed") && shown.contains("\\u{1b}[2J"),
        "{shown}"
    );
}

#[tokio::test]
async fn statuses_that_are_not_transient_are_not_retried() {
    for status in [501, 505] {
        let server = HostileServer::start(move |_| {
            Script::json(
                status,
                r#"{"identifier":"INTERNAL_ERROR","message":"Not here."}"#,
            )
        });
        let policy = RetryPolicy::default().with_initial_backoff(Duration::from_millis(5));
        let error = client(&server, policy, Duration::from_secs(5))
            .status(&scan_ref())
            .await
            .unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.requests().len(), 1, "{status} was retried");
    }
}

#[tokio::test]
async fn a_raw_lookup_refuses_a_body_that_gives_a_key_twice() {
    // Readers of the export would disagree on which status holds: one takes the first, one the
    // last. The second key is escaped, as a lying server may send it to pass a naive check.
    let server = HostileServer::start(|_| {
        Script::json(
            200,
            r#"{"status":"DENIED","scanRef":"scan-ref-1","st\u0061tus":"APPROVED"}"#,
        )
    });
    let failure = client(&server, RetryPolicy::default(), Duration::from_secs(5))
        .lookup_raw(idenfy_hyper::core::Endpoint::Status, &scan_ref())
        .await
        .unwrap_err();
    let Error::Decode(decode) = &failure.error else {
        panic!("a decode error, not {failure:?}");
    };
    let shown = format!("{} {:?}", failure.error, failure.error);
    assert!(shown.contains("duplicate key"), "{shown}");
    assert!(
        !shown.contains("APPROVED") && !shown.contains("DENIED"),
        "{shown}"
    );
    assert_eq!(decode.path, ".");
    assert_eq!(failure.attempts, 1, "a malformed body is not retried");
    assert_eq!(server.requests().len(), 1);
}
