//! Bulk export speed of the `idenfy` binary: `idenfy full-status --input FILE --concurrency 32`
//! for 1,000 and 10,000 scanRefs against a sandbox on 127.0.0.1, next to a bare hyper-util
//! client loop sending the same requests to the same sandbox (the floor). Prints lookups per
//! second, their ratio, and the peak resident memory (`VmHWM`) of the `idenfy` process.
//!
//! `cargo bench -p idenfy-cli --bench bulk` (cargo builds the release binary for it).
//! `IDENFY_BENCH_SIZES=1000,10000` and `IDENFY_BENCH_RUNS=3` change the sizes and repetitions.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use idenfy_core::{BaseUrl, Credentials, Endpoint, RequestBuilder, ScanRef};
use idenfy_sandbox::{Fixtures, Sandbox, scan_refs};
use serde_json::json;
use support::{
    RunningChild, TestSandbox, fixture_copy, idenfy_at, idenfy_bin, wait_measuring_peak_rss,
    write_input,
};

const CONCURRENCY: usize = 32;

fn main() {
    // `cargo bench` passes `--bench`; there are no other options.
    let sizes: Vec<usize> = support::bench_sizes(&[1_000, 10_000]);
    let runs: usize = std::env::var("IDENFY_BENCH_RUNS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3)
        .max(1);
    let largest = sizes.iter().copied().max().unwrap_or(0);

    let binary = idenfy_bin();
    eprintln!("idenfy binary: {}", binary.display());
    let all: Vec<String> = (0..largest).map(|i| format!("bench-{i:06}")).collect();
    let started = Instant::now();
    let fixtures: Vec<serde_json::Value> = all
        .iter()
        .map(|scan_ref| fixture_copy(scan_refs::APPROVED, scan_ref))
        .collect();
    let fixtures = Fixtures::from_json_str(&json!({ "fixtures": fixtures }).to_string())
        .expect("the generated fixtures are valid");
    let sandbox = TestSandbox::start_with(Sandbox::builder().fixtures(fixtures));
    eprintln!(
        "sandbox with {largest} generated fixtures ready in {:.1?}",
        started.elapsed()
    );
    let dir = tempfile::tempdir().expect("a temporary directory");

    // The fixed cost of one run (process start, runtime, TLS set-up), from one-lookup exports.
    let one = dir.path().join("in-1.txt");
    write_input(&one, &all[..1]);
    let mut startup: Vec<f64> = (0..runs)
        .map(|run| {
            let output = dir.path().join(format!("out-1-{run}.jsonl"));
            bulk_export(&sandbox, &one, &output, 1).0.as_secs_f64() * 1000.0
        })
        .collect();
    println!(
        "one-lookup export (start-up cost included in every row): {:.1} ms",
        median(&mut startup)
    );
    println!(
        "{:>7}  {:>16}  {:>16}  {:>6}  {:>14}",
        "lookups", "idenfy lookups/s", "bare hyper-util/s", "ratio", "idenfy peak RSS"
    );
    for size in sizes {
        let scan_refs = &all[..size];
        let input = dir.path().join(format!("in-{size}.txt"));
        write_input(&input, scan_refs);
        let mut cli_rates = Vec::new();
        let mut peak_rss_kib = 0;
        let mut bare_rates = Vec::new();
        for run in 0..runs {
            let output = dir.path().join(format!("out-{size}-{run}.jsonl"));
            let (elapsed, rss) = bulk_export(&sandbox, &input, &output, size);
            cli_rates.push(size as f64 / elapsed.as_secs_f64());
            peak_rss_kib = peak_rss_kib.max(rss);
            let elapsed = bare_loop(&sandbox, scan_refs);
            bare_rates.push(size as f64 / elapsed.as_secs_f64());
        }
        let cli = median(&mut cli_rates);
        let bare = median(&mut bare_rates);
        println!(
            "{size:>7}  {cli:>16.0}  {bare:>16.0}  {:>6.2}  {:>11.1} MB",
            cli / bare,
            peak_rss_kib as f64 / 1024.0
        );
    }
    println!("(median of {runs} runs; concurrency {CONCURRENCY}; peak RSS is the highest VmHWM)");
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs the export; returns its wall time (process start to exit) and the process's peak
/// resident memory in KiB.
fn bulk_export(sandbox: &TestSandbox, input: &Path, output: &Path, size: usize) -> (Duration, u64) {
    let child = RunningChild::spawn(
        idenfy_at(sandbox)
            .args(["full-status", "--concurrency", &CONCURRENCY.to_string()])
            .arg("--input")
            .arg(input)
            .arg("--output")
            .arg(output),
    );
    let (finished, elapsed, peak_kib) = wait_measuring_peak_rss(child, Duration::from_secs(600));
    finished.assert_code(0);
    let lines = std::fs::read_to_string(output)
        .expect("the output exists")
        .lines()
        .count();
    assert_eq!(lines, size, "one line per scanRef");
    (elapsed, peak_kib)
}

/// The floor: a hyper-util pooled HTTP/1.1 keep-alive client, 32 tasks, POSTing the requests
/// the SDK builds (same bytes, Basic auth) and reading each body whole. Its own runtime has two
/// worker threads, like the command's on this machine.
fn bare_loop(sandbox: &TestSandbox, scan_refs: &[String]) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let base_url = BaseUrl::parse(&sandbox.base_url()).expect("the sandbox's URL");
    let credentials =
        Credentials::new(sandbox.key.as_str(), sandbox.secret.as_str()).expect("credentials");
    let requests = RequestBuilder::new(&base_url, &credentials);
    let scan_refs: Arc<Vec<ScanRef>> = Arc::new(
        scan_refs
            .iter()
            .map(|scan_ref| scan_ref.parse().expect("a valid scanRef"))
            .collect(),
    );
    runtime.block_on(async move {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = PooledClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(CONCURRENCY)
            .build::<_, Full<Bytes>>(connector);
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let tasks: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let (client, requests, scan_refs, next) = (
                    client.clone(),
                    requests.clone(),
                    scan_refs.clone(),
                    next.clone(),
                );
                tokio::spawn(async move {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(scan_ref) = scan_refs.get(index) else {
                            break;
                        };
                        let request = requests
                            .build(Endpoint::FullStatus, scan_ref)
                            .map(Full::new);
                        let response = client.request(request).await.expect("a response");
                        assert_eq!(response.status(), 200);
                        let body = response
                            .into_body()
                            .collect()
                            .await
                            .expect("the body")
                            .to_bytes();
                        assert!(!body.is_empty());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a lookup task");
        }
        started.elapsed()
    })
}
