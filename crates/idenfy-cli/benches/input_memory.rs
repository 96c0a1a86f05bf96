//! Peak resident memory (`VmHWM`) of the release `idenfy` binary against the size of a bulk
//! input: 1,000 and 1,000,000 lines (`IDENFY_BENCH_SIZES=1000,1000000` to change them).
//!
//! For each size, three runs against a sandbox on 127.0.0.1:
//! - `lookups`: `status --concurrency 32` of that many different scanRefs, unknown to the
//!   sandbox, so each is a real lookup answered 404 and written as an error line;
//! - `resume`: `--resume` of an output that already has every one of them: the whole output
//!   is read and rewritten, every input line is met in the set of done lookups, none is sent;
//! - `duplicates`: an input of the same scanRef that many times, from standard input (a pipe,
//!   read once as a stream).
//!
//! `cargo bench -p idenfy-cli --bench input_memory`

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use support::{RunningChild, TestSandbox, idenfy_at, idenfy_bin, wait_measuring_peak_rss};

fn main() {
    let sizes: Vec<usize> = support::bench_sizes(&[1_000, 1_000_000]);
    eprintln!("idenfy binary: {}", idenfy_bin().display());
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!(
        "{:>9}  {:>14}  {:>14}  {:>14}",
        "lines", "lookups", "resume", "duplicates"
    );
    for size in sizes {
        let input = dir.path().join(format!("in-{size}.txt"));
        let mut text = String::with_capacity(size * 24);
        for i in 0..size {
            text.push_str(&format!("unknown-{i:09}\n"));
        }
        std::fs::write(&input, &text).expect("the input is written");

        let output = dir.path().join(format!("lookups-{size}.jsonl"));
        let (lookups, lookups_time) = measure(
            &sandbox,
            &["status", "--concurrency", "32"],
            &input,
            &output,
            3,
        );
        assert_eq!(count_lines(&output), size, "one line per scanRef");

        let done = dir.path().join(format!("done-{size}.jsonl"));
        let mut lines = String::with_capacity(size * 64);
        for i in 0..size {
            lines.push_str(&format!(
                "{{\"scanRef\":\"unknown-{i:09}\",\"endpoint\":\"status\",\"result\":{{}}}}\n"
            ));
        }
        std::fs::write(&done, lines).expect("the earlier output is written");
        let (resume, resume_time) = measure(
            &sandbox,
            &["status", "--concurrency", "32", "--resume"],
            &input,
            &done,
            0,
        );
        assert_eq!(count_lines(&done), size, "the output kept every line");

        let (duplicates, duplicates_time) = duplicates_from_stdin(&sandbox, size, dir.path());
        println!(
            "{size:>9}  {:>8.1} MB {:>3.0}s  {:>8.1} MB {:>3.0}s  {:>8.1} MB {:>3.0}s",
            lookups as f64 / 1024.0,
            lookups_time.as_secs_f64(),
            resume as f64 / 1024.0,
            resume_time.as_secs_f64(),
            duplicates as f64 / 1024.0,
            duplicates_time.as_secs_f64(),
        );
    }
    println!("(peak RSS of the idenfy process, VmHWM, and the run's wall time)");
}

/// Runs `idenfy ARGS --input INPUT --output OUTPUT`; its peak RSS in KiB and wall time.
fn measure(
    sandbox: &TestSandbox,
    args: &[&str],
    input: &Path,
    output: &Path,
    code: i32,
) -> (u64, Duration) {
    let child = RunningChild::spawn(
        idenfy_at(sandbox)
            .args(args)
            .arg("--input")
            .arg(input)
            .arg("--output")
            .arg(output),
    );
    let (finished, elapsed, peak) = wait_measuring_peak_rss(child, Duration::from_secs(1800));
    finished.assert_code(code);
    (peak, elapsed)
}

/// The same scanRef `size` times through a pipe: one lookup, `size - 1` duplicates.
fn duplicates_from_stdin(sandbox: &TestSandbox, size: usize, dir: &Path) -> (u64, Duration) {
    let output = dir.join(format!("duplicates-{size}.jsonl"));
    let mut child = idenfy_at(sandbox)
        .args(["status", "--input", "-", "--output"])
        .arg(&output)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("idenfy starts");
    let mut stdin = child.stdin.take().expect("a pipe");
    let writer = std::thread::spawn(move || {
        let mut chunk = String::new();
        for _ in 0..1000 {
            chunk.push_str("sandbox-approved\n");
        }
        for _ in 0..size / 1000 {
            if stdin.write_all(chunk.as_bytes()).is_err() {
                break;
            }
        }
    });
    let (finished, elapsed, peak) =
        wait_measuring_peak_rss(RunningChild::from_child(child), Duration::from_secs(600));
    let _ = writer.join();
    finished.assert_code(0);
    assert_eq!(count_lines(&output), 1, "one line for one scanRef");
    (peak, elapsed)
}

fn count_lines(path: &Path) -> usize {
    std::fs::read(path)
        .expect("the output exists")
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
}
