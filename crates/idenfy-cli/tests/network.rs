//! The command on a company's network, over real sockets: an HTTPS endpoint signed by a
//! private CA (the sandbox behind a TLS front), reached through a CONNECT proxy named by
//! `HTTPS_PROXY` or `--proxy`, trusted through `--ca-cert` or `IDENFY_CA_CERT`; `NO_PROXY`;
//! each failure saying what it is and what to check; `-vvv` showing the attempts and no secret.
//! Run with each TLS backend (`--no-default-features --features rustls` too).

#[path = "../../idenfy-hyper/tests/support/network.rs"]
mod network;
mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use network::{ProxyMode, TestCa, TestProxy, TlsFront};
use support::{TestSandbox, idenfy, run};

const PROXY_PASSWORD: &str = "pr0xy-pa55word";

/// The sandbox as an HTTPS endpoint named `api.test` (which only the proxy reaches), its CA's
/// certificate in a file, and a proxy in front that wants `alice`'s credentials.
struct CorporateNetwork {
    sandbox: TestSandbox,
    _front: TlsFront,
    proxy: TestProxy,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl CorporateNetwork {
    fn start(mode: ProxyMode) -> Self {
        let sandbox = TestSandbox::start();
        let backend: SocketAddr = sandbox
            .base_url()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let ca = TestCa::new("corp root");
        let front = sandbox.block_on(TlsFront::start(ca.issue(&["api.test"]), backend));
        let authorization = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("alice:{PROXY_PASSWORD}"))
        );
        let proxy = sandbox.block_on(TestProxy::start(front.addr, mode, Some(authorization)));
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("corp.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        Self {
            sandbox,
            _front: front,
            proxy,
            ca_file,
            _dir: dir,
        }
    }

    fn proxy_url(&self, password: &str) -> String {
        format!("http://alice:{password}@{}", self.proxy.addr)
    }

    /// `idenfy` with the sandbox's credentials and `https://api.test` as its base URL.
    fn idenfy(&self) -> Command {
        let mut command = idenfy();
        command
            .env("IDENFY_API_KEY", &self.sandbox.key)
            .env("IDENFY_API_SECRET", &self.sandbox.secret)
            .env("IDENFY_BASE_URL", "https://api.test")
            .args(["--retries", "1", "--timeout", "5"]);
        command
    }
}

/// What must never reach standard error, whatever the verbosity.
fn assert_nothing_secret(network: &CorporateNetwork, stderr: &str) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        network.sandbox.key, network.sandbox.secret
    ));
    for secret in [
        network.sandbox.secret.as_str(),
        basic.as_str(),
        PROXY_PASSWORD,
        // The fixture's name and document number.
        "TESTAS",
        "SBX00001",
    ] {
        assert!(!stderr.contains(secret), "{secret} on stderr:\n{stderr}");
    }
}

#[test]
fn https_proxy_and_ca_cert_reach_a_private_ca_endpoint_and_minus_vvv_shows_attempts_only() {
    let network = CorporateNetwork::start(ProxyMode::Tunnel);
    let output = run(network
        .idenfy()
        .env("HTTPS_PROXY", network.proxy_url(PROXY_PASSWORD))
        .arg("--ca-cert")
        .arg(&network.ca_file)
        .args(["-vvv", "--format", "json", "data", "sandbox-approved"]));
    output.assert_code(0);
    assert!(output.stdout.contains("TESTAS"), "{}", output.stdout);
    assert!(
        output.stderr.contains("idenfy.attempt"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("status=200"), "{}", output.stderr);
    assert_nothing_secret(&network, &output.stderr);
    assert_eq!(network.proxy.connects(), 1);
}

#[test]
fn rust_log_trace_shows_no_secret_either() {
    let network = CorporateNetwork::start(ProxyMode::Tunnel);
    let output = run(network
        .idenfy()
        .env("HTTPS_PROXY", network.proxy_url(PROXY_PASSWORD))
        .env("RUST_LOG", "trace")
        .arg("--ca-cert")
        .arg(&network.ca_file)
        .args(["full-status", "sandbox-approved"]));
    output.assert_code(0);
    assert!(output.stderr.contains("idenfy.lookup"), "{}", output.stderr);
    assert_nothing_secret(&network, &output.stderr);
}

#[test]
fn the_proxy_flag_and_idenfy_ca_cert_do_the_same() {
    let network = CorporateNetwork::start(ProxyMode::Tunnel);
    let output = run(network
        .idenfy()
        .env("IDENFY_CA_CERT", &network.ca_file)
        // A proxy variable the flag overrides.
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .args(["--proxy", &network.proxy_url(PROXY_PASSWORD)])
        .args(["--application", "acme-kyc-export/2.1"])
        .args(["status", "sandbox-approved"]));
    output.assert_code(0);
    assert!(output.stdout.contains("APPROVED"), "{}", output.stdout);
    assert_eq!(network.proxy.connects(), 1);
}

#[test]
fn no_proxy_is_honoured() {
    let network = CorporateNetwork::start(ProxyMode::Tunnel);
    let output = run(network
        .idenfy()
        .env("HTTPS_PROXY", network.proxy_url(PROXY_PASSWORD))
        .env("NO_PROXY", "example.org,.test")
        .arg("--ca-cert")
        .arg(&network.ca_file)
        .args(["status", "sandbox-approved"]));
    // Directly, api.test resolves nowhere.
    output.assert_code(5);
    assert!(
        output.stderr.contains("could not resolve host"),
        "{}",
        output.stderr
    );
    assert_eq!(network.proxy.connects(), 0);
}

#[test]
fn wrong_proxy_credentials_fail_without_showing_them() {
    let network = CorporateNetwork::start(ProxyMode::Tunnel);
    let output = run(network
        .idenfy()
        .env("HTTPS_PROXY", network.proxy_url("wrong-pa55word"))
        .arg("--ca-cert")
        .arg(&network.ca_file)
        .args(["status", "sandbox-approved"]));
    output.assert_code(5);
    assert!(output.stderr.contains("407"), "{}", output.stderr);
    assert!(output.stderr.contains("--proxy"), "{}", output.stderr);
    assert!(
        !output.stderr.contains("wrong-pa55word"),
        "{}",
        output.stderr
    );
    // Not retried: the same credentials would be refused again.
    assert_eq!(network.proxy.connects(), 1);
}

#[test]
fn an_untrusted_certificate_says_so_and_names_ca_cert() {
    let network = CorporateNetwork::start(ProxyMode::Tunnel);
    let output = run(network
        .idenfy()
        .env("HTTPS_PROXY", network.proxy_url(PROXY_PASSWORD))
        .args(["status", "sandbox-approved"]));
    output.assert_code(5);
    assert!(output.stderr.contains("certificate"), "{}", output.stderr);
    assert!(output.stderr.contains("--ca-cert"), "{}", output.stderr);
    assert_eq!(network.proxy.connects(), 1, "retried: {}", output.stderr);
}

#[test]
fn a_refused_connection_and_a_dns_failure_each_say_so() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = run(idenfy()
        .env("IDENFY_API_KEY", "k")
        .env("IDENFY_API_SECRET", "s")
        .args(["--base-url", &format!("https://127.0.0.1:{port}")])
        .args(["--retries", "0", "status", "scan-ref-1"]));
    refused.assert_code(5);
    assert!(
        refused.stderr.contains("connection refused"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("check the base URL"),
        "{}",
        refused.stderr
    );
    let unresolved = run(idenfy()
        .env("IDENFY_API_KEY", "k")
        .env("IDENFY_API_SECRET", "s")
        .args(["--base-url", "https://no-such-host.invalid"])
        .args(["--proxy", "none", "--retries", "0", "status", "scan-ref-1"]));
    unresolved.assert_code(5);
    assert!(
        unresolved.stderr.contains("could not resolve host"),
        "{}",
        unresolved.stderr
    );
    assert!(
        !unresolved.stderr.contains("connection refused"),
        "{}",
        unresolved.stderr
    );
}
