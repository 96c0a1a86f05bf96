//! An interrupted bulk export leaves only whole lines, exits 130, and `--resume` completes it
//! with every scanRef exactly once.

#![cfg(unix)]

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use idenfy_sandbox::scan_refs;
use serde_json::json;
use support::{
    RunningChild, TestSandbox, fixture_copy, idenfy_at, interrupt, json_lines, run, summary,
    write_fixture_file, write_input,
};

/// Whole lines in `path` so far (a line being written is not counted).
fn whole_lines(path: &std::path::Path) -> usize {
    std::fs::read(path)
        .map(|bytes| bytes.iter().filter(|&&byte| byte == b'\n').count())
        .unwrap_or(0)
}

#[test]
fn an_interrupted_export_keeps_whole_lines_and_resumes_to_completion() {
    let dir = tempfile::tempdir().unwrap();
    let count = 40;
    let scan_refs: Vec<String> = (0..count).map(|i| format!("slow-{i:03}")).collect();
    // Every answer takes 150 ms: at concurrency 2 the whole export would take 3 s, so the
    // interrupt lands in the middle of it.
    let fixtures = scan_refs
        .iter()
        .map(|scan_ref| {
            let mut fixture = fixture_copy(scan_refs::APPROVED, scan_ref);
            fixture["fault"] = json!("delay-ms=150");
            fixture
        })
        .collect();
    let fixture_file = dir.path().join("fixtures.json");
    write_fixture_file(&fixture_file, fixtures);
    let sandbox = TestSandbox::with_fixture_file(&fixture_file);
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(&input, &scan_refs);

    let mut child = RunningChild::spawn(
        idenfy_at(&sandbox)
            .args(["full-status", "--concurrency", "2", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&out),
    );
    // The output is buffered: wait until a few lines have reached the file.
    let started = Instant::now();
    while whole_lines(&out) < 3 {
        assert!(
            !child.has_exited(),
            "the export ended before it could be interrupted"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no lines reached the output"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    interrupt(child.id());
    let interrupted = child.wait(Duration::from_secs(20));
    interrupted.assert_code(130);

    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'), "a cut line at the end: {text:?}");
    let lines = json_lines(&text);
    assert!(
        lines.len() >= 3 && lines.len() < count,
        "{} lines after the interrupt",
        lines.len()
    );
    for line in &lines {
        assert!(line.get("result").is_some(), "{line}");
    }
    assert!(
        interrupted.stderr.contains("--resume"),
        "{}",
        interrupted.stderr
    );

    let resumed = run(idenfy_at(&sandbox)
        .args(["full-status", "--concurrency", "8", "--resume", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    resumed.assert_code(0);
    let summary = summary(&resumed.stderr);
    assert_eq!(summary.total, count, "{}", resumed.stderr);
    assert_eq!(summary.succeeded, count - lines.len(), "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains(&format!("({} already in the output)", lines.len())),
        "{}",
        resumed.stderr
    );

    let final_text = std::fs::read_to_string(&out).unwrap();
    assert!(
        final_text.starts_with(&text),
        "the lines of the first run were changed"
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for line in json_lines(&final_text) {
        assert!(line.get("result").is_some(), "{line}");
        *seen
            .entry(line["scanRef"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for scan_ref in &scan_refs {
        assert_eq!(seen.get(scan_ref), Some(&1), "{scan_ref}");
    }
    assert_eq!(seen.len(), count);
}

#[test]
fn resume_looks_up_again_what_failed_before() {
    // A first run with an unknown scanRef writes its error line; once the identification
    // exists (here: the next sandbox knows it), --resume replaces that line with a result.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    let late = "appears-later";
    write_input(&input, &[scan_refs::APPROVED.to_owned(), late.to_owned()]);

    let first = TestSandbox::start();
    run(idenfy_at(&first)
        .args(["status", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out))
    .assert_code(3);
    let lines = json_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(lines.len(), 2);
    drop(first);

    let fixture_file = dir.path().join("fixtures.json");
    write_fixture_file(
        &fixture_file,
        vec![fixture_copy(scan_refs::DENIED_FACE, late)],
    );
    let second = TestSandbox::with_fixture_file(&fixture_file);
    let resumed = run(idenfy_at(&second)
        .args(["status", "--resume", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    resumed.assert_code(0);
    let lines = json_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["scanRef"], scan_refs::APPROVED);
    assert_eq!(lines[1]["scanRef"], late);
    assert_eq!(lines[1]["result"]["status"], "DENIED");
}
