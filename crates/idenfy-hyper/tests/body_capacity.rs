//! A `Content-Length` is a claim: the transport must not reserve what a server announces before
//! the bytes arrive. Measured as the process's virtual size (Linux `/proc/self/status`), which
//! grows by the whole reservation at once even though no page of it is touched; alone in its
//! test binary so that no other test's allocations move the figure.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use idenfy_hostile::{HostileServer, Script};
use idenfy_hyper::{BaseUrl, Client, Credentials, RetryPolicy};

/// What the server announces, and the body cap that lets it: 1 GiB.
const ANNOUNCED: u64 = 1 << 30;
/// Far above what threads and allocator arenas add, far below the announcement.
const ALLOWED_GROWTH_KIB: u64 = 256 * 1024;

fn virtual_size_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmSize:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmSize line")
}

#[tokio::test(flavor = "current_thread")]
async fn an_announced_length_reserves_nothing_before_the_bytes_arrive() {
    let server = HostileServer::start(|seen| {
        if seen.body.windows(6).any(|window| window == b"warmup") {
            Script::json(200, r#"{"status":"APPROVED"}"#)
        } else {
            Script::stalled_body(200, &[("content-type", "application/json")], ANNOUNCED)
        }
    });
    let client = Client::builder(Credentials::new("key", "secret").unwrap())
        .base_url(BaseUrl::parse(&server.url("")).unwrap())
        .retry_policy(RetryPolicy::no_retries())
        .max_body_bytes(ANNOUNCED as usize)
        .attempt_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    // One whole exchange first, so that the connection machinery is in place before the baseline.
    client.status(&"warmup".parse().unwrap()).await.unwrap();
    let baseline = virtual_size_kib();

    let stalled = "stalled".parse().unwrap();
    let lookup = client.status(&stalled);
    let watch = async {
        let mut peak = baseline;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(2500) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            peak = peak.max(virtual_size_kib());
        }
        peak
    };
    let (result, peak) = tokio::join!(lookup, watch);
    assert!(result.is_err(), "the stalled body cannot succeed");
    assert_eq!(server.requests().len(), 2);
    let growth = peak.saturating_sub(baseline);
    assert!(
        growth < ALLOWED_GROWTH_KIB,
        "the process grew by {growth} KiB while a {ANNOUNCED}-byte body was announced and none sent"
    );
}
