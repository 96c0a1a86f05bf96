//! What a failed download (`files SCAN_REF --download DIR`) says to check, each cause over real
//! sockets: a refused connection (a closed port), a stall (a file server that never answers),
//! a certificate not trusted, a host that does not resolve and a proxy that refuses, each with
//! the hint a lookup that failed the same way gets, in the words of a file server.
//!
//! The API is idenfy-hostile, and for the causes that need TLS (a `https://` file URL needs a
//! client built for an `https://` base URL) it is behind a TLS front signed by a CA of the
//! test's own, at `https://localhost`, which is never proxied.

#[path = "../../idenfy-hyper/tests/support/network.rs"]
mod network;
mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use idenfy_hostile::{HostileServer, Script};
use network::{ProxyMode, TestCa, TestProxy, TlsFront};
use serde_json::json;
use support::{Output, idenfy, run_with_timeout};

/// The signature in the file URL: a credential, never shown.
const SIGNATURE: &str = "X-Amz-Signature=5ecre7f11e";

/// An API whose `/files` answer lists one file, `FRONT`, at `url` (the signature added), and
/// which serves that file itself, at `/files/FRONT`, with `serve`.
fn api_listing(
    url: impl Fn(&str) -> String + Send + Sync + 'static,
    serve: fn() -> Script,
) -> HostileServer {
    HostileServer::start(move |seen| {
        if seen.method == "POST" && seen.path == "/api/v2/files" {
            let host = seen.header("host").unwrap_or_default();
            let body = json!({ "FRONT": format!("{}?{SIGNATURE}", url(host)) });
            Script::json(200, &body.to_string())
        } else if seen.path.starts_with("/files/FRONT") {
            serve()
        } else {
            Script::response(404, &[], b"")
        }
    })
}

/// `idenfy files hostile-ref --download DIR` at `base_url`, without retries, within 30 s.
fn download(base_url: &str, dir: &Path, flags: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command: Command = idenfy();
    command
        .env("IDENFY_API_KEY", "hostile-key")
        .env("IDENFY_API_SECRET", "hostile-secret")
        .envs(env.iter().copied())
        .args(["--base-url", base_url, "--retries", "0"])
        .args(flags)
        .args(["files", "hostile-ref", "--download"])
        .arg(dir);
    run_with_timeout(&mut command, Duration::from_secs(30))
}

/// Checks a failed download: exit 5, the cause's words, its hint, no signature, nothing left.
#[track_caller]
fn assert_failed_with(output: &Output, dir: &Path, cause: &str, hint: &str) {
    output.assert_code(5);
    let stderr = &output.stderr;
    assert!(stderr.contains("FRONT: "), "names the file: {stderr}");
    assert!(stderr.contains(cause), "says `{cause}`: {stderr}");
    assert!(stderr.contains(hint), "hints `{hint}`: {stderr}");
    assert!(!stderr.contains("5ecre7f11e"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|entry| entry.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_file_server_that_refuses_the_connection_says_so_and_what_to_check() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let api = api_listing(
        move |_| format!("http://127.0.0.1:{port}/files/FRONT"),
        || Script::response(404, &[], b""),
    );
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("files");
    let output = download(&api.url(""), &target, &[], &[]);
    assert_failed_with(
        &output,
        &target,
        "connection refused",
        "the file server (from the API's file URL) refused the connection",
    );
    // A file server's hint, not the API's.
    assert!(!output.stderr.contains("base URL"), "{}", output.stderr);
}

#[test]
fn a_file_server_that_never_answers_names_the_flag_that_bounds_the_wait() {
    let api = api_listing(|host| format!("http://{host}/files/FRONT"), Script::hang);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("files");
    let output = download(&api.url(""), &target, &["--timeout", "0.5"], &[]);
    assert_failed_with(
        &output,
        &target,
        "stalled",
        "the file server or the network is slow: raise --timeout",
    );
    assert!(
        !output.stderr.contains("attempt_timeout"),
        "{}",
        output.stderr
    );
}

/// The API at `https://localhost:PORT`, its CA in a file, on a runtime that lives as long.
struct TlsApi {
    api: HostileServer,
    base_url: String,
    ca_file: PathBuf,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl TlsApi {
    /// The API listing its file at `url`.
    fn listing(url: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let api = api_listing(url, || Script::response(404, &[], b""));
        let ca = TestCa::new("the test's root");
        let front = runtime.block_on(TlsFront::start(ca.issue(&["localhost"]), api.address()));
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        Self {
            api,
            base_url: format!("https://localhost:{}", front.addr.port()),
            ca_file,
            runtime,
            dir,
        }
    }

    fn download(&self, flags: &[&str], env: &[(&str, &str)]) -> (Output, PathBuf) {
        let target = self.dir.path().join("files");
        let ca_file = self.ca_file.to_str().unwrap();
        let mut all = vec!["--ca-cert", ca_file];
        all.extend_from_slice(flags);
        (download(&self.base_url, &target, &all, env), target)
    }
}

/// An address where nothing listens (a TLS front whose backend is gone gives up after the
/// handshake, which is all these tests reach).
fn nowhere() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[test]
fn a_file_server_certificate_not_trusted_names_ca_cert() {
    // The file server's certificate is signed by a CA that --ca-cert does not name.
    let other_ca = TestCa::new("another root");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let file_front = runtime.block_on(TlsFront::start(other_ca.issue(&["localhost"]), nowhere()));
    let file_port = file_front.addr.port();
    let api = TlsApi::listing(move |_| format!("https://localhost:{file_port}/files/FRONT"));
    let (output, target) = api.download(&[], &[]);
    assert_failed_with(
        &output,
        &target,
        "certificate",
        "the file server's certificate is not trusted: give the CA that signs it",
    );
    assert!(output.stderr.contains("--ca-cert"), "{}", output.stderr);
    // The API was reached through its own CA: only the file failed.
    assert_eq!(api.api.requests().len(), 1);
}

#[test]
fn a_file_server_host_that_does_not_resolve_says_so_and_what_to_check() {
    let api = TlsApi::listing(|_| "https://files.invalid/files/FRONT".to_owned());
    let (output, target) = api.download(&["--proxy", "none"], &[]);
    assert_failed_with(
        &output,
        &target,
        "could not resolve host",
        "the file server's host (from the API's file URL) does not resolve",
    );
    assert!(
        !output.stderr.contains("connection refused"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("base URL"), "{}", output.stderr);
}

#[test]
fn a_proxy_that_refuses_the_file_server_names_the_proxy_settings() {
    let api = TlsApi::listing(|_| "https://files.test/files/FRONT".to_owned());
    // The API is on this machine, which is never proxied; the file server is not.
    let proxy = api
        .runtime
        .block_on(TestProxy::start(nowhere(), ProxyMode::Refuse407, None));
    let proxy_url = proxy.url();
    let (output, target) = api.download(&[], &[("HTTPS_PROXY", proxy_url.as_str())]);
    assert_failed_with(
        &output,
        &target,
        "407",
        "check --proxy (or IDENFY_PROXY, HTTPS_PROXY, ALL_PROXY) and NO_PROXY",
    );
    assert_eq!(proxy.connects(), 1, "{}", output.stderr);
    assert_eq!(api.api.requests().len(), 1, "the lookup went direct");
}
