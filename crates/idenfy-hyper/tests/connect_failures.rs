//! Connections that cannot be made, over real sockets on 127.0.0.1: each failure says why, and
//! one that trying again cannot mend (a TLS handshake refused) is not tried again.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use idenfy_hostile::{HostileServer, Script};
use idenfy_hyper::core::{Endpoint, Error};
use idenfy_hyper::{BaseUrl, Client, Credentials, HyperError, RequestFailure};

fn client(base_url: &str) -> Client {
    Client::builder(Credentials::new("the-key", "the-secret").unwrap())
        .base_url(BaseUrl::parse(base_url).unwrap())
        .retry_policy(support::fast_retries(4))
        .attempt_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A server on 127.0.0.1 that answers whatever it is sent, a TLS ClientHello included, with a
/// plain HTTP error and closes; its `https://` URL.
fn plain_http_server() -> (HostileServer, String) {
    let server = HostileServer::start(|_| Script::response(400, &[], b""));
    let base_url = format!("https://{}", server.address());
    (server, base_url)
}

/// The TLS handshakes `server` was sent: each is one connection, whose ClientHello it answered.
fn handshakes(server: &HostileServer) -> usize {
    let seen = server.requests();
    assert!(
        seen.iter().all(|hello| hello.method.is_empty()),
        "a request in clear: {seen:?}"
    );
    seen.len()
}

#[tokio::test]
async fn a_refused_tls_handshake_fails_at_once_and_says_so() {
    let (server, base_url) = plain_http_server();
    let failure = client(&base_url)
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap_err();
    let Error::Transport(error) = &failure.error else {
        panic!("a transport failure, not {failure:?}");
    };
    assert!(matches!(error, HyperError::TlsHandshake(_)), "{error:?}");
    let shown = failure.error.to_string();
    assert!(shown.contains("TLS handshake"), "{shown}");
    // The cause from the TLS library follows what the client says of it.
    let (_, cause) = shown.rsplit_once(": ").unwrap();
    assert!(
        !cause.is_empty() && !cause.contains("client error"),
        "{shown}"
    );
    assert_eq!(failure.attempts, 1, "{shown}");
    assert_eq!(handshakes(&server), 1, "{shown}");
    // A deletion is retried where its request went unsent, as here, but not into the same
    // refusal.
    let deletion = client(&base_url)
        .delete(&"scan-ref-1".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(deletion.attempts, 1, "{}", deletion.error);
    assert_eq!(handshakes(&server), 2);
}

#[tokio::test]
async fn a_refused_connection_says_so_and_is_retried() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let failure = client(&format!("http://127.0.0.1:{port}"))
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap_err();
    let shown = failure.error.to_string();
    assert!(shown.contains("connection refused"), "{shown}");
    assert!(!shown.contains("resolve"), "{shown}");
    assert_eq!(
        transport_error(&failure.error).request_failure(),
        Some(RequestFailure::ConnectionRefused)
    );
    assert_eq!(
        failure.attempts, 4,
        "a refused connection may be accepted later"
    );
}

#[tokio::test]
async fn a_host_that_does_not_resolve_says_so() {
    // `.invalid` never resolves (RFC 2606).
    let failure = client("https://idenfy-hyper-test.invalid")
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap_err();
    let shown = failure.error.to_string();
    assert!(shown.contains("could not resolve host"), "{shown}");
    assert!(!shown.contains("refused"), "{shown}");
    assert_eq!(
        transport_error(&failure.error).request_failure(),
        Some(RequestFailure::HostNotFound)
    );
}

/// The transport's error a failed lookup carries.
#[track_caller]
fn transport_error(error: &idenfy_hyper::Error) -> &HyperError {
    match error {
        Error::Transport(transport) => transport,
        other => panic!("not a transport failure: {other}"),
    }
}
