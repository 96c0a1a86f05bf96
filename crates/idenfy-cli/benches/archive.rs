//! `idenfy archive create` against a sandbox on 127.0.0.1, with the release binary:
//! - time for 1,000 bundles when every API request waits `delay-ms` (a fixture fault), against
//!   the latency-bound ideal: bundles × 5 requests (four lookups and the report, one after the
//!   other in a bundle) × latency ÷ concurrency; the goal is a ratio of at least 0.9;
//! - peak resident memory (`VmHWM`) of the `idenfy` process at 1,000 and 10,000 bundles, which
//!   should stay flat, the scanRefs being streamed from the input;
//! - the bytes written into the archive against the bytes the sandbox served for them.
//!
//! `cargo bench -p idenfy-cli --bench archive`. `IDENFY_BENCH_SIZES=1000,10000` sets the memory
//! sizes, `IDENFY_BENCH_TIMED=1000` the timed run's, `IDENFY_BENCH_LATENCY_MS=20` the latency.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::Duration;

use idenfy_core::Endpoint;
use idenfy_sandbox::{Fixtures, Sandbox, scan_refs};
use serde_json::{Value, json};
use support::{RunningChild, TestSandbox, fixture_copy, idenfy_at, wait_measuring_peak_rss};

const CONCURRENCY: usize = 32;
/// Requests to the API per bundle: four lookups and the report.
const REQUESTS_PER_BUNDLE: usize = 5;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn sandbox_of(count: usize, prefix: &str, fault: Option<String>) -> (TestSandbox, Vec<String>) {
    let names: Vec<String> = (0..count).map(|i| format!("{prefix}-{i:06}")).collect();
    let fixtures: Vec<Value> = names
        .iter()
        .map(|name| {
            let mut fixture = fixture_copy(scan_refs::APPROVED, name);
            // The smallest video the sandbox serves: the disk holds 10,000 bundles.
            fixture["videoBytes"] = json!(0);
            if let Some(fault) = &fault {
                fixture["fault"] = json!(fault);
            }
            fixture
        })
        .collect();
    let fixtures = Fixtures::from_json_str(&json!({ "fixtures": fixtures }).to_string())
        .expect("the generated fixtures are valid");
    (
        TestSandbox::start_with(Sandbox::builder().fixtures(fixtures)),
        names,
    )
}

/// Runs `archive create` of `names` into `to`: wall time and peak RSS in KiB.
fn archive(sandbox: &TestSandbox, names: &[String], to: &Path) -> (Duration, u64) {
    let input = to.with_extension("txt");
    support::write_input(&input, names);
    let child = RunningChild::spawn(
        idenfy_at(sandbox)
            .args(["--quiet", "archive", "create", "--concurrency"])
            .arg(CONCURRENCY.to_string())
            .arg("--input")
            .arg(&input)
            .arg("--to")
            .arg(to),
    );
    let (output, elapsed, peak) = wait_measuring_peak_rss(child, Duration::from_secs(3600));
    output.assert_code(0);
    (elapsed, peak)
}

/// The bytes under `dir`, files only.
fn bytes_under(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let metadata = entry.metadata().expect("metadata");
        total += if metadata.is_dir() {
            bytes_under(&entry.path())
        } else {
            metadata.len()
        };
    }
    total
}

/// The bytes the sandbox serves for one identification: its lookups, report and files.
fn bytes_served(sandbox: &TestSandbox, scan_ref: &str) -> u64 {
    let mut total = 0;
    for endpoint in [
        Endpoint::Status,
        Endpoint::Data,
        Endpoint::Files,
        Endpoint::FullStatus,
    ] {
        total += sandbox.post(endpoint, scan_ref).1.len() as u64;
    }
    let report = idenfy_at(sandbox)
        .args(["report", scan_ref, "--output", "-"])
        .output()
        .expect("the report");
    total += report.stdout.len() as u64;
    let files = sandbox.json(Endpoint::Files, scan_ref);
    for url in files
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str())
    {
        total += sandbox.get(url).2.len() as u64;
    }
    total
}

fn main() {
    let timed = env_number("IDENFY_BENCH_TIMED", 1_000);
    let latency_ms = env_number("IDENFY_BENCH_LATENCY_MS", 20) as u64;
    let sizes = support::bench_sizes(&[1_000, 10_000]);
    let dir = tempfile::tempdir().expect("a temporary directory");

    // Time against the latency-bound ideal.
    let (sandbox, names) = sandbox_of(timed, "timed", Some(format!("delay-ms={latency_ms}")));
    let to = dir.path().join("timed");
    let (elapsed, peak) = archive(&sandbox, &names, &to);
    let ideal = Duration::from_millis(
        (timed * REQUESTS_PER_BUNDLE) as u64 * latency_ms / CONCURRENCY as u64,
    );
    let written = bytes_under(&to);
    let served = bytes_served(&sandbox, &names[0]) * timed as u64;
    println!(
        "{timed} bundles, {latency_ms} ms a request, concurrency {CONCURRENCY}: {:.2}s, ideal {:.2}s, ratio {:.2} (goal >= 0.9); peak RSS {:.1} MB",
        elapsed.as_secs_f64(),
        ideal.as_secs_f64(),
        ideal.as_secs_f64() / elapsed.as_secs_f64(),
        peak as f64 / 1024.0
    );
    println!(
        "bytes written {written}, bytes served {served}: {:.3} written per byte served (the manifests)",
        written as f64 / served as f64
    );
    drop(sandbox);
    std::fs::remove_dir_all(&to).expect("removed");

    // Memory, without latency.
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let (sandbox, names) = sandbox_of(largest, "mem", None);
    println!("{:>9}  {:>10}  {:>8}", "bundles", "peak RSS", "time");
    for size in sizes {
        let to = dir.path().join(format!("mem-{size}"));
        let (elapsed, peak) = archive(&sandbox, &names[..size], &to);
        println!(
            "{size:>9}  {:>7.1} MB  {:>7.1}s",
            peak as f64 / 1024.0,
            elapsed.as_secs_f64()
        );
        std::fs::remove_dir_all(&to).expect("removed");
    }
    println!("(peak RSS of the idenfy process, VmHWM, and the run's wall time)");
}
