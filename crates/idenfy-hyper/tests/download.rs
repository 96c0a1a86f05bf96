//! `Client::download` over real loopback sockets: the lookups' pool, no credentials, and every
//! bound (size, announced length, stalls, the deadline) against a server that lies.

use std::time::{Duration, Instant};

use idenfy_hostile::{HostileServer, Script, Step};
use idenfy_hyper::{
    BaseUrl, Client, Credentials, DownloadError, DownloadLimits, DownloadUrl, ScanRef,
};

/// The signature of the presigned URLs below: it must never appear in an error.
const SIGNATURE: &str = "X-Amz-Signature=5ecre7f11e";

fn client_at(base_url: &str) -> Client {
    Client::builder(Credentials::new("test-key", "test-secret-5up3r").unwrap())
        .base_url(BaseUrl::parse(base_url).unwrap())
        .build()
        .unwrap()
}

fn file_url(server: &HostileServer) -> DownloadUrl {
    server
        .url(&format!("/files/FRONT.png?{SIGNATURE}"))
        .parse()
        .unwrap()
}

fn limits() -> DownloadLimits {
    DownloadLimits::default()
        .with_idle_timeout(Duration::from_secs(5))
        .with_deadline(Duration::from_secs(20))
}

/// Reads the whole body, or the error that ended it.
async fn read_all(
    client: &Client,
    url: &DownloadUrl,
    limits: &DownloadLimits,
) -> Result<Vec<u8>, DownloadError> {
    let mut download = client.download_with(url, limits).await?;
    let mut body = Vec::new();
    while let Some(chunk) = download.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[track_caller]
fn assert_no_signature(error: &DownloadError) {
    let shown = format!("{error} / {error:?}");
    assert!(
        !shown.contains("5ecre7f11e"),
        "the URL's signature leaked: {shown}"
    );
}

#[tokio::test]
async fn a_download_reuses_the_lookups_connection_and_sends_no_credentials() {
    let photo = vec![0x89u8; 300_000];
    let served = photo.clone();
    let server = HostileServer::start(move |request| {
        if request.method == "GET" {
            Script::kept_alive(200, &[("content-type", "image/jpeg")], &served)
        } else {
            Script::kept_alive(200, &[("content-type", "application/json")], b"{}")
        }
    });
    let client = client_at(&server.url(""));
    let scan_ref: ScanRef = "scan-ref-1".parse().unwrap();
    client.status(&scan_ref).await.unwrap();
    let mut download = client.download(&file_url(&server)).await.unwrap();
    assert_eq!(download.content_type(), Some("image/jpeg"));
    assert_eq!(download.declared_length(), Some(photo.len() as u64));
    let mut body = Vec::new();
    while let Some(chunk) = download.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert!(body == photo, "the body differs from what was served");
    assert_eq!(download.received(), photo.len() as u64);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let (lookup, get) = (&requests[0], &requests[1]);
    assert_eq!(get.method, "GET");
    assert_eq!(get.path, format!("/files/FRONT.png?{SIGNATURE}"));
    assert_eq!(
        get.peer, lookup.peer,
        "the download opened a connection of its own instead of using the pool"
    );
    assert!(
        get.header("authorization").is_none(),
        "the API credentials went to the file server"
    );
}

#[tokio::test]
async fn an_endless_body_stops_at_the_size_limit() {
    let server = HostileServer::start(|_| Script::endless_chunked(200, &[], &[7u8; 16 * 1024]));
    let client = client_at(&server.url(""));
    let limit = 1 << 20;
    let error = read_all(&client, &file_url(&server), &limits().with_max_bytes(limit))
        .await
        .unwrap_err();
    assert!(
        matches!(error, DownloadError::TooLarge { limit: l } if l == limit),
        "{error:?}"
    );
    assert!(error.is_too_large());
    assert_no_signature(&error);
}

#[tokio::test]
async fn an_announced_length_over_the_limit_fails_before_the_body_is_read() {
    // The head announces 2 GiB and the body never comes: only the head can be what failed.
    let server = HostileServer::start(|_| Script::stalled_body(200, &[], 2 << 30));
    let client = client_at(&server.url(""));
    let started = Instant::now();
    let error = client
        .download_with(&file_url(&server), &limits())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            DownloadError::DeclaredTooLarge {
                declared,
                limit: idenfy_hyper::DEFAULT_MAX_DOWNLOAD_BYTES
            } if declared == 2 << 30
        ),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "it waited for the body"
    );
    assert_no_signature(&error);
}

#[tokio::test]
async fn a_body_ended_only_by_the_connection_closing_is_refused() {
    // No Content-Length, no chunked encoding: the half file the connection carried before it
    // closed would look whole.
    let server = HostileServer::start(|_| {
        Script::raw(
            b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\nconnection: close\r\n\r\nhalf a file"
                .to_vec(),
        )
    });
    let client = client_at(&server.url(""));
    let error = read_all(&client, &file_url(&server), &limits())
        .await
        .unwrap_err();
    assert!(matches!(error, DownloadError::Unframed), "{error:?}");
    assert_no_signature(&error);
}

#[tokio::test]
async fn a_body_shorter_than_announced_is_a_cut_transfer() {
    let server = HostileServer::start(|_| Script::lying_length(200, &[], 100, &[1u8; 10]));
    let client = client_at(&server.url(""));
    let error = read_all(&client, &file_url(&server), &limits())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            DownloadError::Truncated {
                declared: 100,
                received: 10
            }
        ),
        "{error:?}"
    );
    assert_no_signature(&error);
}

#[tokio::test]
async fn no_more_than_the_announced_length_is_ever_delivered() {
    // HTTP/1.1 frames the body by Content-Length: the bytes after it are not the file's.
    let mut body = vec![1u8; 10];
    body.extend_from_slice(&[2u8; 90]);
    let server = HostileServer::start(move |_| Script::lying_length(200, &[], 10, &body));
    let client = client_at(&server.url(""));
    let delivered = read_all(&client, &file_url(&server), &limits())
        .await
        .unwrap();
    assert_eq!(delivered, [1u8; 10]);
}

#[tokio::test]
async fn a_stalled_body_fails_after_the_idle_timeout() {
    let server = HostileServer::start(|_| {
        Script::raw(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789".to_vec())
            .then(Step::Hang)
    });
    let client = client_at(&server.url(""));
    let idle = Duration::from_millis(300);
    let error = read_all(
        &client,
        &file_url(&server),
        &limits().with_idle_timeout(idle),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, DownloadError::Stalled { idle: i, received: 10 } if i == idle),
        "{error:?}"
    );
    assert!(error.is_timeout());
}

#[tokio::test]
async fn a_head_that_never_comes_fails_after_the_idle_timeout() {
    let server = HostileServer::start(|_| Script::hang());
    let client = client_at(&server.url(""));
    let error = client
        .download_with(
            &file_url(&server),
            &limits().with_idle_timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, DownloadError::Stalled { received: 0, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_that_trickles_forever_fails_at_the_deadline() {
    // A byte every 20 ms never stalls, and never ends.
    let server = HostileServer::start(|_| {
        Script::raw(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec()).then(
            Step::Repeat {
                chunk: b"1\r\nx\r\n".to_vec(),
                pause: Duration::from_millis(20),
            },
        )
    });
    let client = client_at(&server.url(""));
    let deadline = Duration::from_millis(600);
    let error = read_all(
        &client,
        &file_url(&server),
        &limits()
            .with_idle_timeout(Duration::from_secs(5))
            .with_deadline(deadline),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, DownloadError::DeadlineExceeded { deadline: d, received } if d == deadline && received > 0),
        "{error:?}"
    );
    assert!(error.is_timeout());
}

#[tokio::test]
async fn a_status_other_than_200_fails_without_the_signature_in_the_message() {
    let server = HostileServer::start(|_| Script::response(403, &[], b"<Error>expired</Error>"));
    let client = client_at(&server.url(""));
    let error = client
        .download_with(&file_url(&server), &limits())
        .await
        .unwrap_err();
    assert!(
        matches!(error, DownloadError::Status { status } if status == 403),
        "{error:?}"
    );
    assert_no_signature(&error);
}

#[tokio::test]
async fn a_refused_connection_names_no_signature() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client_at(&format!("http://127.0.0.1:{port}"));
    let url: DownloadUrl = format!("http://127.0.0.1:{port}/files/FRONT.png?{SIGNATURE}")
        .parse()
        .unwrap();
    let error = client.download_with(&url, &limits()).await.unwrap_err();
    assert!(matches!(error, DownloadError::Request(_)), "{error:?}");
    assert!(
        error.to_string().contains("connection refused"),
        "the cause is not named: {error}"
    );
    assert_no_signature(&error);
}

#[tokio::test]
async fn a_client_without_tls_never_sends_an_https_url_in_clear() {
    // A listener that records whether anyone connected.
    let server = HostileServer::start(|_| Script::response(200, &[], b"file"));
    let client = client_at(&server.url(""));
    let url: DownloadUrl = format!("https://{}/files/FRONT.png?{SIGNATURE}", server.address())
        .parse()
        .unwrap();
    let error = client.download_with(&url, &limits()).await.unwrap_err();
    assert!(matches!(error, DownloadError::NoTls), "{error:?}");
    assert!(server.requests().is_empty());
}
