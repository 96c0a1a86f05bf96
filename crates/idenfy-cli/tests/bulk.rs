//! Bulk export with the `idenfy` binary: rate limits, failing gateways and slow answers are
//! retried until every scanRef has its one line; unknown scanRefs get error lines.

mod support;

use std::collections::HashMap;

use idenfy_core::Endpoint;
use idenfy_sandbox::scan_refs;
use serde_json::{Value, json};
use support::{
    TestSandbox, fixture_copy, idenfy_at, json_lines, run, run_with_input, summary,
    write_fixture_file, write_input,
};

/// Templates the generated fixtures copy, so the lines differ from one another.
const TEMPLATES: [&str; 4] = [
    scan_refs::APPROVED,
    scan_refs::DENIED_FACE,
    scan_refs::SUSPECTED,
    scan_refs::REVIEWING,
];

/// The fault each generated fixture carries, by position: a quarter answer 429 once (with
/// `Retry-After: 1`), some 503 twice, some answer only after the client's attempt timeout
/// (once), the rest are served normally.
fn fault_for(index: usize) -> Option<&'static str> {
    match index % 8 {
        1 => Some("status=429; retry-after=1; times=1"),
        3 => Some("status=503; times=2"),
        5 => Some("delay-ms=2500; times=1"),
        _ => None,
    }
}

#[test]
fn faults_are_retried_until_every_scan_ref_has_a_result() {
    let dir = tempfile::tempdir().unwrap();
    let count = 40;
    let scan_refs: Vec<String> = (0..count).map(|i| format!("bulk-{i:03}")).collect();
    let mut fixtures = Vec::new();
    let mut expected = HashMap::new();
    for (index, scan_ref) in scan_refs.iter().enumerate() {
        let mut fixture = fixture_copy(TEMPLATES[index % TEMPLATES.len()], scan_ref);
        if let Some(fault) = fault_for(index) {
            fixture["fault"] = json!(fault);
        }
        expected.insert(scan_ref.clone(), fixture["fullStatus"].clone());
        fixtures.push(fixture);
    }
    let faulty = (0..count).filter(|&i| fault_for(i).is_some()).count();
    write_fixture_file(&dir.path().join("fixtures.json"), fixtures);
    let sandbox = TestSandbox::with_fixture_file(&dir.path().join("fixtures.json"));
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(&input, &scan_refs);

    let output = run(idenfy_at(&sandbox)
        // One attempt may take 1 s: the delayed answers (2.5 s) are abandoned and asked again.
        .args(["--timeout", "1", "--deadline", "20"])
        .args(["full-status", "--concurrency", "8", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    output.assert_code(0);
    assert!(output.stdout.is_empty(), "{}", output.stdout);

    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'));
    let lines = json_lines(&text);
    assert_eq!(lines.len(), count, "one line per scanRef");
    let mut seen = HashMap::new();
    for line in &lines {
        let scan_ref = line["scanRef"].as_str().unwrap().to_owned();
        assert_eq!(line["endpoint"], "full-status");
        assert!(line.get("error").is_none(), "{line}");
        assert_eq!(line["result"], expected[&scan_ref], "{scan_ref}");
        *seen.entry(scan_ref).or_insert(0) += 1;
    }
    assert!(seen.values().all(|&times| times == 1), "{seen:?}");
    assert_eq!(seen.len(), count);

    let summary = summary(&output.stderr);
    assert_eq!(summary.succeeded, count, "{}", output.stderr);
    assert_eq!(summary.failed, 0, "{}", output.stderr);
    assert_eq!(summary.total, count, "{}", output.stderr);
    // Each fault fired: a 429 once, a 503 twice, a slow answer once.
    let expected_faults: u64 = (0..count)
        .filter_map(fault_for)
        .map(|fault| if fault.contains("times=2") { 2 } else { 1 })
        .sum();
    assert_eq!(sandbox.faults_applied(), expected_faults);
    // Every faulty lookup needed another attempt; a normal one rarely does.
    assert!(
        summary.retried >= faulty && summary.retried <= count,
        "{faulty} faulty lookups, summary: {}",
        output.stderr
    );
}

#[test]
fn unknown_scan_refs_get_error_lines_and_the_run_is_an_api_error() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let missing = ["missing-1", "missing-2", "missing-3"];
    let mut scan_refs: Vec<String> = scan_refs::SCHEMA_FIXTURES
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (position, scan_ref) in [(0, missing[0]), (4, missing[1]), (9, missing[2])] {
        scan_refs.insert(position, scan_ref.to_owned());
    }
    let input = dir.path().join("in.txt");
    write_input(&input, &scan_refs);

    // No --output: the lines go to standard output.
    let output = run(idenfy_at(&sandbox)
        .args(["status", "--concurrency", "4", "--input"])
        .arg(&input));
    output.assert_code(3);

    let lines = json_lines(&output.stdout);
    assert_eq!(lines.len(), scan_refs.len(), "{}", output.stdout);
    let by_scan_ref: HashMap<&str, &Value> = lines
        .iter()
        .map(|line| (line["scanRef"].as_str().unwrap(), line))
        .collect();
    assert_eq!(
        by_scan_ref.len(),
        scan_refs.len(),
        "a scanRef has two lines"
    );
    for scan_ref in &scan_refs {
        let line = by_scan_ref[scan_ref.as_str()];
        assert_eq!(line["endpoint"], "status");
        if missing.contains(&scan_ref.as_str()) {
            assert!(line.get("result").is_none(), "{line}");
            assert_eq!(line["error"]["kind"], "api", "{line}");
            assert_eq!(line["error"]["status"], 404, "{line}");
            assert_eq!(line["error"]["identifier"], "NOT_FOUND", "{line}");
        } else {
            assert!(line.get("error").is_none(), "{line}");
            assert_eq!(line["result"]["scanRef"], scan_ref.as_str(), "{line}");
        }
    }
    let summary = summary(&output.stderr);
    assert_eq!(summary.failed, missing.len(), "{}", output.stderr);
    assert_eq!(
        summary.succeeded,
        scan_refs.len() - missing.len(),
        "{}",
        output.stderr
    );
}

#[test]
fn an_existing_output_is_not_overwritten_without_resume() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    let earlier = "{\"scanRef\":\"earlier\",\"endpoint\":\"status\",\"result\":{}}\n";
    std::fs::write(&out, earlier).unwrap();
    let output = run(idenfy_at(&sandbox)
        .args(["status", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    output.assert_code(2);
    assert!(output.stderr.contains("--resume"), "{}", output.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), earlier);
}

#[test]
fn scan_refs_from_standard_input_and_lines_to_standard_output() {
    let sandbox = TestSandbox::start();
    let input = format!(
        "{}\n\n# a comment\n{}\n{}\n",
        scan_refs::APPROVED,
        scan_refs::EXPIRED,
        scan_refs::APPROVED
    );
    let output = run_with_input(
        idenfy_at(&sandbox).args(["data", "--input", "-", "--output", "-"]),
        input.as_bytes(),
    );
    output.assert_code(0);
    let lines = json_lines(&output.stdout);
    // The duplicate is looked up once.
    let mut seen: Vec<&str> = lines
        .iter()
        .map(|line| line["scanRef"].as_str().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [scan_refs::APPROVED, scan_refs::EXPIRED]);
    for line in &lines {
        let scan_ref = line["scanRef"].as_str().unwrap();
        assert_eq!(line["endpoint"], "data");
        assert_eq!(line["result"], sandbox.json(Endpoint::Data, scan_ref));
    }
    assert_eq!(summary(&output.stderr).total, 2, "{}", output.stderr);
}
