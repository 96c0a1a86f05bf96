//! The output formats as an analyst uses them: CSV that a spreadsheet opens safely (one-off,
//! bulk, resumed), one JSON document for several scanRefs, a table only where one can be
//! shown, a report on standard output, and `--quiet`.

#![cfg(unix)]

mod support;

use std::collections::HashMap;
use std::process::Command;

use idenfy_sandbox::{Fixtures, identification_report, scan_refs};
use serde_json::{Value, json};
use support::{
    TestSandbox, file_mode, fixture_copy, idenfy_at, run, write_fixture_file, write_input,
};

/// The records of a CSV text: the header, then the rows.
fn csv_records(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            record
                .expect("a CSV row")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn a_bulk_csv_export_has_the_documented_header_and_one_row_per_scan_ref() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("refs.txt");
    let out = dir.path().join("results.csv");
    write_input(
        &input,
        &[
            scan_refs::APPROVED.to_owned(),
            scan_refs::DENIED_FACE.to_owned(),
            "no-such-identification".to_owned(),
            scan_refs::APPROVED.to_owned(),
        ],
    );
    let output = run(idenfy_at(&sandbox)
        .args(["full-status", "--format", "csv", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    output.assert_code(3);
    assert_eq!(file_mode(&out), 0o600);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with("\r\n"), "RFC 4180 rows end with CRLF");
    let (header, rows) = csv_records(&text);
    assert_eq!(
        header,
        [
            "scanRef",
            "face (auto)",
            "face (manual)",
            "document (auto)",
            "document (manual)",
            "suspicion reasons",
            "name",
            "document",
            "country",
            "attempts",
            "started",
            "finished",
            "reviewed",
            "error"
        ]
    );
    let by_scan_ref: HashMap<&str, &Vec<String>> =
        rows.iter().map(|row| (row[0].as_str(), row)).collect();
    assert_eq!(rows.len(), 3, "one row per scanRef: {rows:?}");
    let approved = by_scan_ref[scan_refs::APPROVED];
    let full = sandbox.json(idenfy_core::Endpoint::FullStatus, scan_refs::APPROVED);
    assert_eq!(approved[1], full["face_match_result"].as_str().unwrap());
    assert_eq!(approved[13], "", "a success has no error");
    let unknown = by_scan_ref["no-such-identification"];
    assert!(!unknown[13].is_empty(), "the error is in its column");
    assert!(unknown[1..13].iter().all(String::is_empty));
}

#[test]
fn a_name_a_spreadsheet_would_run_as_a_formula_shows_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut fixture = fixture_copy(scan_refs::APPROVED, "formula-1");
    fixture["data"]["docFirstName"] = json!("=HYPERLINK(\"http://evil.example\",\"open\")");
    fixture["data"]["docLastName"] = json!("SMITH");
    fixture["data"]["docNumber"] = json!("+370");
    let fixture_file = dir.path().join("fixtures.json");
    write_fixture_file(&fixture_file, vec![fixture]);
    let sandbox = TestSandbox::with_fixture_file(&fixture_file);
    let output = run(idenfy_at(&sandbox).args(["data", "formula-1", "--format", "csv"]));
    output.assert_code(0);
    let (header, rows) = csv_records(&output.stdout);
    let column = |name: &str| header.iter().position(|label| label == name).unwrap();
    assert_eq!(
        rows[0][column("name")],
        "'=HYPERLINK(\"http://evil.example\",\"open\") SMITH"
    );
    assert!(rows[0][column("document")].ends_with("+370"));
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} would run as a formula"
            );
        }
    }
}

#[test]
fn a_csv_export_resumes_keeping_its_rows_and_redoing_the_failed_ones() {
    let dir = tempfile::tempdir().unwrap();
    // One identification answers 500 the first time: its row is an error row, redone later.
    let mut flaky = fixture_copy(scan_refs::APPROVED, "flaky-1");
    flaky["fault"] = json!("status=500; times=1");
    let fixture_file = dir.path().join("fixtures.json");
    write_fixture_file(&fixture_file, vec![flaky]);
    let sandbox = TestSandbox::with_fixture_file(&fixture_file);
    let input = dir.path().join("refs.txt");
    let out = dir.path().join("results.csv");
    let export = |list: &[&str], resume: bool| {
        write_input(
            &input,
            &list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
        );
        let mut command = idenfy_at(&sandbox);
        command
            .args(["--retries", "0", "status", "--format", "csv", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&out);
        if resume {
            command.arg("--resume");
        }
        run(&mut command)
    };
    export(&[scan_refs::APPROVED, "flaky-1"], false).assert_code(5);
    assert_eq!(sandbox.faults_applied(), 1, "the 500 was answered");
    let first = std::fs::read_to_string(&out).unwrap();
    assert_eq!(first.lines().count(), 3, "{first}");
    let resumed = export(&[scan_refs::APPROVED, "flaky-1", scan_refs::EXPIRED], true);
    resumed.assert_code(0);
    let (header, rows) = csv_records(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(header, ["scanRef", "status", "clientId", "error"]);
    let mut seen: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    seen.sort_unstable();
    assert_eq!(seen, ["flaky-1", scan_refs::APPROVED, scan_refs::EXPIRED]);
    assert!(rows.iter().all(|row| row[3].is_empty()), "{rows:?}");
    assert!(
        std::fs::read_to_string(&out).unwrap().starts_with(&format!(
            "scanRef,status,clientId,error\r\n{}",
            scan_refs::APPROVED
        )),
        "the earlier row is kept as it was, after the one header"
    );
}

#[test]
fn a_resume_refuses_another_endpoints_csv_or_a_json_lines_file_as_csv() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("refs.txt");
    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    let out = dir.path().join("status.csv");
    let export = |endpoint: &str, format: &str, resume: bool| {
        let mut command = idenfy_at(&sandbox);
        command
            .args([endpoint, "--format", format, "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&out);
        if resume {
            command.arg("--resume");
        }
        run(&mut command)
    };
    export("status", "csv", false).assert_code(0);
    let before = std::fs::read(&out).unwrap();
    let refused = export("data", "csv", true);
    refused.assert_code(2);
    assert!(refused.stderr.contains("header"), "{}", refused.stderr);
    export("status", "jsonl", true).assert_code(2);
    assert_eq!(std::fs::read(&out).unwrap(), before);

    let lines = dir.path().join("status.jsonl");
    run(idenfy_at(&sandbox)
        .args(["status", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&lines))
    .assert_code(0);
    run(idenfy_at(&sandbox)
        .args(["status", "--format", "csv", "--resume", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&lines))
    .assert_code(2);
}

#[test]
fn several_scan_refs_in_json_are_one_array_and_one_is_the_object_itself() {
    let sandbox = TestSandbox::start();
    let output = run(idenfy_at(&sandbox).args([
        "status",
        scan_refs::APPROVED,
        scan_refs::EXPIRED,
        "--format",
        "json",
    ]));
    output.assert_code(0);
    let array: Value = serde_json::from_str(&output.stdout).expect("one JSON document");
    let statuses: Vec<&str> = array
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item["scanRef"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, [scan_refs::APPROVED, scan_refs::EXPIRED]);

    let one = run(idenfy_at(&sandbox).args(["status", scan_refs::APPROVED, "--format", "json"]));
    let object: Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(object["scanRef"], scan_refs::APPROVED);

    // A failed lookup leaves the array whole, and says why on standard error.
    let partly = run(idenfy_at(&sandbox).args([
        "status",
        scan_refs::APPROVED,
        "no-such-identification",
        "--format",
        "json",
    ]));
    partly.assert_code(3);
    let array: Value = serde_json::from_str(&partly.stdout).expect("one JSON document");
    assert_eq!(array.as_array().unwrap().len(), 1);
}

#[test]
fn a_table_of_a_bulk_export_is_refused_rather_than_written_as_something_else() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("refs.txt");
    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    for format in ["table", "json"] {
        let refused = run(idenfy_at(&sandbox)
            .args(["status", "--format", format, "--input"])
            .arg(&input));
        refused.assert_code(2);
        assert!(
            refused.stderr.contains("--format jsonl"),
            "{}",
            refused.stderr
        );
        assert!(refused.stdout.is_empty());
    }
    // Without --format, a bulk export writes JSON lines.
    let lines = run(idenfy_at(&sandbox).args(["status", "--input"]).arg(&input));
    lines.assert_code(0);
    let line: Value = serde_json::from_str(lines.stdout.trim()).unwrap();
    assert_eq!(line["scanRef"], scan_refs::APPROVED);
}

#[test]
fn a_report_goes_to_standard_output_when_asked() {
    let sandbox = TestSandbox::start();
    let output = Command::new(support::idenfy_bin())
        .env("IDENFY_API_KEY", &sandbox.key)
        .env("IDENFY_API_SECRET", &sandbox.secret)
        .args(["--base-url", &sandbox.base_url()])
        .args(["report", scan_refs::APPROVED, "--output", "-"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", output);
    assert_eq!(
        Some(output.stdout),
        identification_report(&Fixtures::builtin(), scan_refs::APPROVED)
    );
    assert!(!std::path::Path::new("-").exists(), "no file named -");
}

#[test]
#[cfg_attr(
    not(idenfy_tests_have_script),
    ignore = "needs util-linux `script` for a terminal"
)]
fn a_report_is_not_written_to_a_terminal() {
    let sandbox = TestSandbox::start();
    let command_line = format!(
        "{} --base-url {} report {} --output -",
        support::idenfy_bin().display(),
        sandbox.base_url(),
        scan_refs::APPROVED
    );
    let output = run(Command::new("script")
        .args(["-qec", &command_line, "/dev/null"])
        .env("IDENFY_API_KEY", &sandbox.key)
        .env("IDENFY_API_SECRET", &sandbox.secret));
    output.assert_code(2);
    assert!(output.stdout.contains("terminal"), "{}", output.stdout);
    assert!(!output.stdout.contains("%PDF"), "{}", output.stdout);
}

#[test]
fn quiet_hides_the_summary_and_keeps_the_results_and_errors() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("refs.txt");
    write_input(
        &input,
        &[
            scan_refs::APPROVED.to_owned(),
            "no-such-identification".to_owned(),
        ],
    );
    let loud = run(idenfy_at(&sandbox).args(["status", "--input"]).arg(&input));
    assert!(loud.stderr.contains("succeeded"), "{}", loud.stderr);
    let quiet = run(idenfy_at(&sandbox)
        .args(["--quiet", "status", "--input"])
        .arg(&input));
    quiet.assert_code(3);
    assert!(!quiet.stderr.contains("succeeded"), "{}", quiet.stderr);
    assert!(
        quiet.stderr.contains("incomplete or has failed"),
        "{}",
        quiet.stderr
    );
    assert_eq!(quiet.stdout.lines().count(), 2, "{}", quiet.stdout);
}
