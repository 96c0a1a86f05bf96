//! Bulk export against a server that lies and inputs that are not what they should be: invalid
//! UTF-8 in a 200, slow answers, flaky gateways, a rate to keep, endless and oversized input
//! lines, a byte order mark.

#![cfg(unix)]

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use idenfy_hostile::{HostileServer, Script, Seen};
use idenfy_sandbox::scan_refs;
use serde_json::Value;
use support::{
    RunningChild, TestSandbox, idenfy_against, idenfy_at, json_lines, run, run_with_timeout,
    summary, write_input,
};

/// The scanRef a lookup request asks for.
fn scan_ref_of(request: &Seen) -> String {
    serde_json::from_slice::<Value>(&request.body)
        .ok()
        .and_then(|body| body["scanRef"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn status_body(scan_ref: &str) -> String {
    format!(r#"{{"status":"APPROVED","scanRef":"{scan_ref}","clientId":"client-1"}}"#)
}

fn lines_by_scan_ref(path: &Path) -> HashMap<String, Value> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8(bytes).expect("the output is valid UTF-8");
    json_lines(&text)
        .into_iter()
        .map(|line| (line["scanRef"].as_str().unwrap().to_owned(), line))
        .collect()
}

#[test]
fn invalid_utf8_in_a_200_is_an_error_line_and_the_output_stays_utf8() {
    let server = HostileServer::start(|request| {
        let scan_ref = scan_ref_of(request);
        if scan_ref == "bad-utf8" {
            let mut body = br#"{"status":"APPROVED"#.to_vec();
            body.extend_from_slice(b"\xff\xfe");
            body.extend_from_slice(br#"","scanRef":"bad-utf8"}"#);
            Script::response(200, &[("content-type", "application/json")], &body)
        } else {
            Script::json(200, &status_body(&scan_ref))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(&input, &["good-1".to_owned(), "bad-utf8".to_owned()]);
    for resume in [false, true] {
        let mut command = idenfy_against(&server);
        command
            .args(["--retries", "0", "status", "--input"])
            .arg(&input);
        command.arg("--output").arg(&out);
        if resume {
            command.arg("--resume");
        }
        let output = run(&mut command);
        output.assert_code(3);
        let lines = lines_by_scan_ref(&out);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines["good-1"]["result"]["status"], "APPROVED");
        let bad = &lines["bad-utf8"];
        assert!(bad.get("result").is_none(), "{bad}");
        assert_eq!(bad["error"]["kind"], "api", "{bad}");
        assert_eq!(bad["error"]["status"], 200, "{bad}");
    }
}

#[test]
fn a_written_line_reaches_the_file_while_a_slow_lookup_is_still_outstanding() {
    // The buffer is flushed on a timer, not only when the next line comes.
    let server = HostileServer::start(|request| match scan_ref_of(request).as_str() {
        "slow" => Script::hang(),
        scan_ref => Script::json(200, &status_body(scan_ref)),
    });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(&input, &["fast".to_owned(), "slow".to_owned()]);
    let mut child = RunningChild::spawn(
        idenfy_against(&server)
            .args(["--timeout", "60", "--deadline", "60", "status"])
            .args(["--concurrency", "2", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&out),
    );
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if text.contains("\"fast\"") {
            assert!(text.ends_with('\n'), "{text:?}");
            break;
        }
        assert!(!child.has_exited(), "the run ended before the slow lookup");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the fast line did not reach the file while the slow lookup was outstanding"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !child.has_exited(),
        "the slow lookup should still be outstanding"
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|request| scan_ref_of(request) == "slow"),
        "the slow lookup was never sent"
    );
}

#[test]
fn attempts_are_reported_as_the_client_made_them() {
    // "flaky" fails at a gateway once, then is not found: an API error, retried once.
    // "gone" is not found at once. "down" always fails: every attempt is made.
    let calls: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let server = HostileServer::start({
        let calls = calls.clone();
        move |request| {
            let scan_ref = scan_ref_of(request);
            let call = {
                let mut calls = calls.lock().unwrap();
                let count = calls.entry(scan_ref.clone()).or_default();
                *count += 1;
                *count
            };
            let not_found = r#"{"identifier":"NOT_FOUND","message":"No such scanRef."}"#;
            match (scan_ref.as_str(), call) {
                ("flaky", 1) | ("down", _) => Script::response(503, &[], b"busy"),
                _ => Script::json(404, not_found),
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(
        &input,
        &["flaky".to_owned(), "gone".to_owned(), "down".to_owned()],
    );
    let output = run(idenfy_against(&server)
        .args(["--retries", "2", "status", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    output.assert_code(5);
    let lines = lines_by_scan_ref(&out);
    for (scan_ref, attempts) in [("flaky", 2), ("gone", 1), ("down", 3)] {
        assert_eq!(
            lines[scan_ref]["error"]["attempts"], attempts,
            "{}",
            lines[scan_ref]
        );
        assert_eq!(calls.lock().unwrap()[scan_ref], attempts, "{scan_ref}");
    }
    assert_eq!(lines["flaky"]["error"]["kind"], "api");
    assert_eq!(lines["down"]["error"]["kind"], "network");
    let summary = summary(&output.stderr);
    assert_eq!(
        (summary.failed, summary.retried),
        (3, 2),
        "{}",
        output.stderr
    );
}

#[test]
fn rate_spaces_the_lookups_across_all_workers() {
    let server =
        HostileServer::start(|request| Script::json(200, &status_body(&scan_ref_of(request))));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    let count = 30;
    let scan_refs: Vec<String> = (0..count).map(|i| format!("paced-{i:02}")).collect();
    write_input(&input, &scan_refs);
    let output = run(idenfy_against(&server)
        .args(["status", "--concurrency", "8", "--rate", "10", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    output.assert_code(0);
    assert_eq!(lines_by_scan_ref(&out).len(), count);
    let mut times: Vec<Instant> = server.requests().iter().map(|request| request.at).collect();
    times.sort();
    assert_eq!(times.len(), count);
    // 10 a second: 30 take about 2.9 s from the first to the last (generous margins: a loaded
    // machine may start some late, never early).
    let span = times[count - 1] - times[0];
    assert!(
        span >= Duration::from_millis(2_400),
        "{count} lookups in {span:?}"
    );
    for (index, start) in times.iter().enumerate() {
        let in_window = times[index..]
            .iter()
            .take_while(|time| **time - *start < Duration::from_secs(1))
            .count();
        assert!(in_window <= 13, "{in_window} lookups within one second");
    }
}

#[test]
fn an_endless_input_line_is_bad_input_naming_the_line() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.txt");
    let mut text = format!("{}\n", scan_refs::APPROVED).into_bytes();
    text.extend(std::iter::repeat_n(b'x', 10 << 20));
    text.push(b'\n');
    std::fs::write(&huge, text).unwrap();
    let dev_zero = Path::new("/dev/zero");
    for (input, line) in [(dev_zero, 1), (huge.as_path(), 2)] {
        // The address space is capped, so that reading the input whole fails fast instead of
        // taking the machine's memory.
        let output = run_with_timeout(
            Command::new("sh")
                .arg("-c")
                .arg("ulimit -v 1000000 && exec \"$@\"")
                .arg("sh")
                .arg(support::idenfy_bin())
                .env("IDENFY_API_KEY", &sandbox.key)
                .env("IDENFY_API_SECRET", &sandbox.secret)
                .args(["--base-url", &sandbox.base_url(), "status", "--input"])
                .arg(input),
            Duration::from_secs(30),
        );
        output.assert_code(2);
        assert!(
            output
                .stderr
                .contains(&format!("line {line} is longer than")),
            "{}",
            output.stderr
        );
        assert!(output.stdout.is_empty(), "{}", output.stdout);
    }
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_scan_ref() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(
        &input,
        format!(
            "\u{FEFF}{}\r\n{}\r\n",
            scan_refs::APPROVED,
            scan_refs::EXPIRED
        ),
    )
    .unwrap();
    let output = run(idenfy_at(&sandbox).args(["status", "--input"]).arg(&input));
    output.assert_code(0);
    let mut seen: Vec<String> = json_lines(&output.stdout)
        .iter()
        .map(|line| line["scanRef"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    assert_eq!(seen, [scan_refs::APPROVED, scan_refs::EXPIRED]);
}
