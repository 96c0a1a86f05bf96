//! TLS and proxies over real loopback sockets, with whichever backend the build has
//! (`cargo test -p idenfy-hyper` runs native-tls, `--no-default-features --features rustls`
//! rustls): certificates the tests issue from their own CA, trusted or not, expired or for
//! another name; a CONNECT proxy that wants credentials; `NO_PROXY`; lookups and downloads.

mod support;

use std::time::Duration;

use base64::Engine as _;
use idenfy_hostile::{HostileServer, Script};
use idenfy_hyper::core::{Endpoint, Error};
use idenfy_hyper::{
    BaseUrl, Client, Credentials, DownloadUrl, HyperError, Proxy, ProxyFailure, RetryPolicy,
    RootCertificates,
};
use support::network::{ProxyMode, TestCa, TestProxy, TlsFront};

const SECRET: &str = "api-secret-n0t-in-errors";
const PROXY_PASSWORD: &str = "pr0xy-pa55word";

/// The API's answer to `/status`, and a file, behind plain HTTP on kept-alive connections.
fn backend() -> HostileServer {
    HostileServer::start(|request| {
        let json = [("content-type", "application/json")];
        if request.path.starts_with("/files/") {
            Script::kept_alive(200, &json, b"FRONT-PHOTO-BYTES")
        } else {
            Script::kept_alive(
                200,
                &json,
                br#"{"status":"APPROVED","scanRef":"scan-ref-1","clientId":"c-1"}"#,
            )
        }
    })
}

fn client(base_url: &str, ca: Option<&TestCa>, proxy: Proxy) -> Client {
    let mut builder = Client::builder(Credentials::new("the-key", SECRET).unwrap())
        .base_url(BaseUrl::parse(base_url).unwrap())
        .retry_policy(support::fast_retries(4))
        .connect_timeout(Duration::from_millis(1500))
        .attempt_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(10))
        .proxy(proxy);
    if let Some(ca) = ca {
        builder =
            builder.add_root_certificates(RootCertificates::from_pem(ca.pem().as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

/// A TLS front on localhost with a certificate from `ca` for `names`.
async fn front(ca: &TestCa, names: &[&str], backend: &HostileServer) -> TlsFront {
    TlsFront::start(ca.issue(names), backend.address()).await
}

#[tokio::test]
async fn a_server_signed_by_an_added_ca_is_trusted_for_lookups_and_downloads() {
    let (ca, backend) = (TestCa::new("corp root"), backend());
    let front = front(&ca, &["localhost"], &backend).await;
    let base = format!("https://localhost:{}", front.addr.port());
    let client = client(&base, Some(&ca), Proxy::none());
    client
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap();
    let url: DownloadUrl = format!("{base}/files/FRONT.png?sig=1").parse().unwrap();
    let mut download = client.download(&url).await.unwrap();
    let mut body = Vec::new();
    while let Some(chunk) = download.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body, b"FRONT-PHOTO-BYTES");
}

/// Each refused certificate fails in one attempt, on one connection, saying "certificate".
async fn assert_refused(front: &TlsFront, client: &Client, why: &str) {
    let failure = client
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap_err();
    let shown = failure.to_string();
    assert!(
        matches!(
            &failure.error,
            Error::Transport(HyperError::TlsHandshake(_))
        ),
        "{why}: {shown}"
    );
    assert!(shown.contains("certificate"), "{why}: {shown}");
    assert_eq!(failure.attempts, 1, "{why}: {shown}");
    assert_eq!(
        front.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "{why}: retried"
    );
    assert!(!shown.contains(SECRET), "{shown}");
}

#[tokio::test]
async fn a_certificate_of_another_ca_is_refused_and_not_retried() {
    let backend = backend();
    let (ca, other) = (TestCa::new("corp root"), TestCa::new("someone else"));
    let front = front(&other, &["localhost"], &backend).await;
    let client = client(
        &format!("https://localhost:{}", front.addr.port()),
        Some(&ca),
        Proxy::none(),
    );
    assert_refused(&front, &client, "untrusted CA").await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_and_not_retried() {
    let (ca, backend) = (TestCa::new("corp root"), backend());
    let front = front(&ca, &["other.test"], &backend).await;
    let client = client(
        &format!("https://localhost:{}", front.addr.port()),
        Some(&ca),
        Proxy::none(),
    );
    assert_refused(&front, &client, "wrong name").await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused_and_not_retried() {
    let (ca, backend) = (TestCa::new("corp root"), backend());
    let front = TlsFront::start(ca.issue_expired(&["localhost"]), backend.address()).await;
    let client = client(
        &format!("https://localhost:{}", front.addr.port()),
        Some(&ca),
        Proxy::none(),
    );
    assert_refused(&front, &client, "expired").await;
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn lookups_and_downloads_go_through_the_proxy_with_its_credentials() {
    let (ca, backend) = (TestCa::new("corp root"), backend());
    // The names resolve nowhere: only the proxy reaches them.
    let front = front(&ca, &["api.test", "files.test"], &backend).await;
    let proxy = TestProxy::start(
        front.addr,
        ProxyMode::Tunnel,
        Some(basic("alice", PROXY_PASSWORD)),
    )
    .await;
    let proxy_url = format!("http://alice:{PROXY_PASSWORD}@{}", proxy.addr);
    let client = client(
        "https://api.test",
        Some(&ca),
        Proxy::url(&proxy_url).unwrap().with_no_proxy(""),
    );
    client
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap();
    let url: DownloadUrl = "https://files.test:8443/files/FACE.png?sig=1"
        .parse()
        .unwrap();
    let mut download = client.download(&url).await.unwrap();
    while download.chunk().await.unwrap().is_some() {}
    let seen = proxy.seen.lock().unwrap().clone();
    let lines: Vec<&str> = seen.iter().map(|(line, _)| line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "CONNECT api.test:443 HTTP/1.1",
            "CONNECT files.test:8443 HTTP/1.1"
        ]
    );
    // The API's Authorization travels inside the TLS tunnel, never to the proxy.
    assert!(backend.requests()[0].header("authorization").is_some());
    assert!(!format!("{client:?}").contains(PROXY_PASSWORD));
}

#[tokio::test]
async fn wrong_proxy_credentials_fail_at_once_without_showing_them() {
    let (ca, backend) = (TestCa::new("corp root"), backend());
    let front = front(&ca, &["api.test"], &backend).await;
    let proxy = TestProxy::start(front.addr, ProxyMode::Refuse407, None).await;
    let proxy_url = format!("http://alice:{PROXY_PASSWORD}@{}", proxy.addr);
    let client = client(
        "https://api.test",
        Some(&ca),
        Proxy::url(&proxy_url).unwrap().with_no_proxy(""),
    );
    let failure = client
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap_err();
    let shown = failure.to_string();
    let Error::Transport(HyperError::Proxy(proxy_error)) = &failure.error else {
        panic!("a proxy failure, not {shown}");
    };
    assert_eq!(proxy_error.failure(), ProxyFailure::AuthenticationRequired);
    assert!(shown.contains("407"), "{shown}");
    assert!(shown.contains(&format!("http://{}", proxy.addr)), "{shown}");
    assert!(
        !shown.contains(PROXY_PASSWORD) && !shown.contains("alice"),
        "{shown}"
    );
    assert!(!format!("{failure:?}").contains(PROXY_PASSWORD));
    assert_eq!(failure.attempts, 1, "{shown}");
    assert_eq!(proxy.connects(), 1);
    // A download meets the same refusal, named the same way.
    let url: DownloadUrl = "https://api.test/files/FACE.png".parse().unwrap();
    let error = client.download(&url).await.unwrap_err().to_string();
    assert!(
        error.contains("407") && !error.contains(PROXY_PASSWORD),
        "{error}"
    );
}

#[tokio::test]
async fn a_proxy_that_never_answers_the_connect_times_out() {
    let (ca, backend) = (TestCa::new("corp root"), backend());
    let front = front(&ca, &["api.test"], &backend).await;
    let proxy = TestProxy::start(front.addr, ProxyMode::Silent, None).await;
    let client = Client::builder(Credentials::new("the-key", SECRET).unwrap())
        .base_url(BaseUrl::parse("https://api.test").unwrap())
        .retry_policy(RetryPolicy::default().with_max_attempts(1))
        .connect_timeout(Duration::from_millis(300))
        .attempt_timeout(Duration::from_secs(5))
        .proxy(Proxy::url(&proxy.url()).unwrap().with_no_proxy(""))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let failure = client
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{failure}");
    let Error::Transport(HyperError::Proxy(proxy_error)) = &failure.error else {
        panic!("a proxy failure, not {failure}");
    };
    assert_eq!(proxy_error.failure(), ProxyFailure::TimedOut, "{failure}");
}

#[tokio::test]
async fn no_proxy_sends_a_destination_directly() {
    let (ca, backend) = (TestCa::new("corp root"), backend());
    let front = front(&ca, &["api.test"], &backend).await;
    let proxy = TestProxy::start(front.addr, ProxyMode::Tunnel, None).await;
    // Directly, api.test does not resolve: the bypass shows as a DNS failure, and no CONNECT.
    let client = client(
        "https://api.test",
        Some(&ca),
        Proxy::url(&proxy.url())
            .unwrap()
            .with_no_proxy("example.org, .test"),
    );
    let failure = client
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        failure.to_string().contains("could not resolve host"),
        "{failure}"
    );
    assert_eq!(proxy.connects(), 0);
    // A list that does not name it leaves it on the proxy.
    let client = client_through(&proxy, &ca, "example.org, 10.0.0.0/8, api.test:8443");
    client
        .lookup_raw(Endpoint::Status, &"scan-ref-1".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(proxy.connects(), 1);
}

fn client_through(proxy: &TestProxy, ca: &TestCa, no_proxy: &str) -> Client {
    client(
        "https://api.test",
        Some(ca),
        Proxy::url(&proxy.url()).unwrap().with_no_proxy(no_proxy),
    )
}
