//! The `idenfy-sandbox` binary: where it listens, what it advertises, what it warns about.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;

use common::*;
use idenfy_sandbox::scan_refs;

/// The sandbox binary, killed when dropped.
struct Running {
    child: Child,
    /// What it wrote to standard error up to the "listening on" line.
    banner: Vec<String>,
    /// The base URL it announced.
    base_url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idenfy-sandbox"))
        .arg("--quiet")
        .args(if args.contains(&"--port") {
            &[][..]
        } else {
            &["--port", "0"][..]
        })
        .args(args)
        .env_remove("IDENFY_SANDBOX_API_KEY")
        .env_remove("IDENFY_SANDBOX_API_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sandbox binary starts");
    let stderr = child.stderr.take();
    // From here on, a panic kills the child (Drop).
    let mut running = Running {
        child,
        banner: Vec::new(),
        base_url: String::new(),
    };
    let stderr = stderr.expect("piped standard error");
    let (lines_tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no `listening on` line; it said: {:#?}", running.banner));
        if let Some(url) = line.strip_prefix("idenfy-sandbox: listening on ") {
            running.base_url = url.to_owned();
            running.banner.push(line);
            return running;
        }
        running.banner.push(line);
    }
}

fn port_of(base_url: &str) -> u16 {
    base_url
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {base_url}"))
}

#[tokio::test]
async fn listening_on_every_interface_advertises_loopback_urls_that_download_and_warns() {
    let sandbox = start(&["--host", "0.0.0.0"]);
    assert!(
        sandbox.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        sandbox.base_url
    );
    assert!(
        sandbox
            .banner
            .iter()
            .any(|line| line.contains("warning") && line.contains("default credentials")),
        "{:#?}",
        sandbox.banner
    );
    let addr: SocketAddr = ([127, 0, 0, 1], port_of(&sandbox.base_url)).into();
    let files = post_scan_ref(addr, "/api/v2/files", scan_refs::APPROVED)
        .await
        .json();
    let front = files["FRONT"].as_str().expect("a FRONT URL");
    assert!(front.starts_with(&sandbox.base_url), "{front}");
    let download = tokio::time::timeout(WAIT, get_url(front, &[]))
        .await
        .expect("the download answers");
    assert_eq!(download.status, 200);
    assert!(download.complete);
}

#[tokio::test]
async fn own_credentials_silence_the_warning_and_a_public_url_is_used_in_file_urls() {
    let port = free_port();
    let port_arg = port.to_string();
    let sandbox = start(&[
        "--port",
        &port_arg,
        "--host",
        "0.0.0.0",
        "--api-key",
        "own-key",
        "--api-secret",
        "own-secret",
        "--public-url",
        "https://sandbox.example:8443/",
    ]);
    assert!(
        !sandbox.banner.iter().any(|line| line.contains("warning")),
        "{:#?}",
        sandbox.banner
    );
    assert_eq!(sandbox.base_url, "https://sandbox.example:8443");
    // The sandbox itself listens where it was told; its answers point at the public URL.
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let body = format!(r#"{{"scanRef":"{}"}}"#, scan_refs::APPROVED);
    let headers = [("Authorization", basic("own-key", "own-secret"))];
    let files = send(
        addr,
        &request_bytes("POST", "/api/v2/files", &headers, Some(body.as_bytes())),
    )
    .await
    .json();
    let front = files["FRONT"].as_str().expect("a FRONT URL");
    assert!(
        front.starts_with("https://sandbox.example:8443/"),
        "{front}"
    );
}

#[test]
fn empty_credentials_stop_the_binary_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_idenfy-sandbox"))
        .args(["--port", "0", "--api-secret", ""])
        .stdin(Stdio::null())
        .output()
        .expect("the sandbox binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("must not be empty"), "{stderr}");
}

/// A port that was free a moment ago: for a sandbox whose announced URL does not show its port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}
