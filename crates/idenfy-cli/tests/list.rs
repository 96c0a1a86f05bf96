//! `idenfy list`: every sandbox fixture, page by page, in each format; the pipe of its JSON
//! lines and of its CSV into a bulk export; and a list server that lies.

mod support;

use std::io::Read as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use idenfy_hostile::{HostileServer, Script};
use idenfy_sandbox::{Fixtures, scan_refs};
use serde_json::{Value, json};
use support::{
    TestSandbox, fixture_copy, idenfy, idenfy_against, idenfy_at, json_lines, run, run_with_input,
    write_fixture_file,
};

#[test]
fn the_sandbox_list_in_pages_of_two_holds_every_fixture_once() {
    let output = run(idenfy().args(["--sandbox", "list", "--per-page", "2", "--format", "jsonl"]));
    output.assert_code(0);
    let listed: Vec<String> = json_lines(&output.stdout)
        .iter()
        .map(|line| {
            assert_eq!(line.as_object().unwrap().len(), 3, "{line}");
            line["scanRef"].as_str().unwrap().to_owned()
        })
        .collect();
    let fixtures: Vec<String> = Fixtures::builtin().scan_refs().map(str::to_owned).collect();
    assert!(fixtures.len() > 2, "more than one page");
    assert_eq!(listed, fixtures);
}

#[test]
fn the_list_pipes_into_a_bulk_export() {
    let listed = run(idenfy().args(["--sandbox", "list", "--format", "jsonl"]));
    listed.assert_code(0);
    let export = run_with_input(
        idenfy().args(["--sandbox", "status", "--input", "-", "--quiet"]),
        listed.stdout.as_bytes(),
    );
    let lines = json_lines(&export.stdout);
    assert_eq!(
        lines.len(),
        json_lines(&listed.stdout).len(),
        "{}",
        export.stderr
    );
}

// ---- `--format csv` and `--format json`. ----

/// The rows of a CSV whose cells hold no quote, comma or line break, without their CRLF.
fn plain_csv_rows(text: &str) -> Vec<Vec<String>> {
    assert!(text.ends_with("\r\n"), "rows end with CRLF: {text:?}");
    text.split_terminator("\r\n")
        .map(|row| {
            assert!(!row.contains('\n') && !row.contains('"'), "{row:?}");
            row.split(',').map(str::to_owned).collect()
        })
        .collect()
}

#[test]
fn the_csv_list_is_the_header_then_the_json_lines_as_rows() {
    let csv = run(idenfy().args(["--sandbox", "list", "--per-page", "3", "--format", "csv"]));
    csv.assert_code(0);
    let jsonl = run(idenfy().args(["--sandbox", "list", "--format", "jsonl"]));
    jsonl.assert_code(0);
    let rows = plain_csv_rows(&csv.stdout);
    assert_eq!(rows[0], ["scanRef", "status", "suspected"]);
    let expected: Vec<Vec<String>> = json_lines(&jsonl.stdout)
        .iter()
        .map(|line| {
            ["scanRef", "status", "suspected"]
                .iter()
                .map(|key| match &line[*key] {
                    Value::String(text) => text.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    assert!(expected.len() > 3, "more than one page");
    assert_eq!(rows[1..], expected[..]);
}

#[test]
fn the_json_list_is_one_array_of_the_json_lines() {
    let json = run(idenfy().args(["--sandbox", "list", "--per-page", "2", "--format", "json"]));
    json.assert_code(0);
    let jsonl = run(idenfy().args(["--sandbox", "list", "--format", "jsonl"]));
    let array: Value = serde_json::from_str(&json.stdout)
        .unwrap_or_else(|err| panic!("not one JSON document ({err}): {}", json.stdout));
    assert_eq!(array, Value::Array(json_lines(&jsonl.stdout)));
}

#[test]
fn an_empty_list_is_an_empty_array_and_a_lone_csv_header() {
    let dir = tempfile::tempdir().unwrap();
    let fixture_file = dir.path().join("fixtures.json");
    write_fixture_file(
        &fixture_file,
        vec![fixture_copy(scan_refs::APPROVED, "only-one")],
    );
    let sandbox = TestSandbox::with_fixture_file(&fixture_file);
    let none = |format: &str| {
        let output = run(idenfy_at(&sandbox).args([
            "list",
            "--client-id",
            "nobody-has-this-client-id",
            "--format",
            format,
        ]));
        output.assert_code(0);
        output.stdout
    };
    assert_eq!(
        serde_json::from_str::<Value>(&none("json")).unwrap(),
        json!([])
    );
    assert_eq!(none("csv"), "scanRef,status,suspected\r\n");
}

/// A sandbox whose fixtures include scanRefs a spreadsheet would run as formulas.
fn sandbox_with_formula_scan_refs(dir: &std::path::Path) -> TestSandbox {
    let fixture_file = dir.join("fixtures.json");
    write_fixture_file(
        &fixture_file,
        FORMULA_SCAN_REFS
            .iter()
            .map(|scan_ref| fixture_copy(scan_refs::APPROVED, scan_ref))
            .collect(),
    );
    TestSandbox::with_fixture_file(&fixture_file)
}

const FORMULA_SCAN_REFS: [&str; 3] = ["-2+3", "=1+1", "@SUM(A1)"];

#[test]
fn the_csv_list_pipes_into_a_bulk_export_formula_like_scan_refs_included() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_with_formula_scan_refs(dir.path());
    let listed = run(idenfy_at(&sandbox).args(["list", "--format", "csv"]));
    listed.assert_code(0);
    // In the CSV they are text, marked.
    for scan_ref in FORMULA_SCAN_REFS {
        assert!(
            listed.stdout.contains(&format!("\r\n'{scan_ref},")),
            "{scan_ref} unmarked:\n{}",
            listed.stdout
        );
    }
    let export = run_with_input(
        idenfy_at(&sandbox).args(["status", "--input", "-", "--quiet"]),
        listed.stdout.as_bytes(),
    );
    export.assert_code(0);
    let exported: Vec<String> = json_lines(&export.stdout)
        .iter()
        .map(|line| {
            assert!(line.get("result").is_some(), "{line}");
            line["scanRef"].as_str().unwrap().to_owned()
        })
        .collect();
    let jsonl = run(idenfy_at(&sandbox).args(["list", "--format", "jsonl"]));
    let mut listed: Vec<String> = json_lines(&jsonl.stdout)
        .iter()
        .map(|line| line["scanRef"].as_str().unwrap().to_owned())
        .collect();
    // The export writes each lookup as it completes, in any order.
    let mut exported = exported;
    exported.sort();
    listed.sort();
    assert_eq!(exported, listed, "{}", export.stderr);
    for scan_ref in FORMULA_SCAN_REFS {
        assert!(exported.iter().any(|seen| seen == scan_ref), "{scan_ref}");
    }
}

#[test]
fn a_csv_header_in_the_middle_of_a_list_of_scan_refs_is_refused() {
    let listed = run(idenfy().args(["--sandbox", "list", "--format", "csv"]));
    let input = format!("{}\n{}", scan_refs::APPROVED, listed.stdout);
    let export = run_with_input(
        idenfy().args(["--sandbox", "status", "--input", "-", "--quiet"]),
        input.as_bytes(),
    );
    export.assert_code(2);
    assert!(
        export.stderr.contains("line 2 is a CSV header"),
        "{}",
        export.stderr
    );
}

// ---- A list server that lies. ----

/// What the lying list serves: scanRefs a spreadsheet would run, and statuses that would drive
/// a terminal or forge a row.
const HOSTILE_PAGE: &str = r#"{"count": 3, "next": null, "previous": null, "results": [
    {"scanRef": "=HYPERLINK(\"http://e.x\",\"y\")", "status": "\u001b]0;owned\u0007\u001b[2JAPPROVED", "suspected": false},
    {"scanRef": "@SUM(A1)", "status": "+CMD\r\nforged,row,true", "suspected": true},
    {"scanRef": "plain-1", "status": "\u009b31mDENIED"}
]}"#;

/// A list server answering `first` for the first page and, when it links to a second
/// (`next`), `second` for it.
fn list_server(first: &'static str, second: fn() -> Script) -> HostileServer {
    HostileServer::start(move |seen| {
        if !seen.path.starts_with("/kyc/identifications/") {
            return Script::response(404, &[], b"");
        }
        if seen.path.contains("page=2") {
            return second();
        }
        let host = seen.header("host").unwrap_or_default();
        let next = format!("http://{host}/kyc/identifications/?page=2");
        Script::json(200, &first.replace("NEXT", &next))
    })
}

#[test]
fn a_hostile_list_cannot_drive_the_terminal_or_run_a_formula_in_any_format() {
    let server = list_server(HOSTILE_PAGE, || Script::response(404, &[], b""));
    let list = |format: &str| {
        let output = run(idenfy_against(&server).args(["list", "--format", format]));
        output.assert_code(0);
        assert!(
            !output
                .stdout
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r')),
            "{format}: a control character reached the output: {:?}",
            output.stdout
        );
        output.stdout
    };

    let csv = list("csv");
    assert_eq!(
        csv,
        "scanRef,status,suspected\r\n\
         \"'=HYPERLINK(\"\"http://e.x\"\",\"\"y\"\")\",\\u{1b}]0;owned\\u{7}\\u{1b}[2JAPPROVED,false\r\n\
         '@SUM(A1),\"'+CMD\\r\\nforged,row,true\",true\r\n\
         plain-1,\\u{9b}31mDENIED,\r\n"
    );

    let table = list("table");
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.contains("\\u{1b}]0;owned"), "{table}");

    // JSON escapes the control characters itself, and keeps the values as sent.
    let array: Value = serde_json::from_str(&list("json")).unwrap();
    assert_eq!(array[1]["status"], "+CMD\r\nforged,row,true");
    assert_eq!(array[2]["suspected"], Value::Null);
    assert_eq!(
        Value::Array(json_lines(&list("jsonl"))),
        array,
        "json and jsonl carry the same objects"
    );
}

const FIRST_OF_TWO_PAGES: &str = r#"{"count": 2, "next": "NEXT", "previous": null,
    "results": [{"scanRef": "page-1-item", "status": "APPROVED", "suspected": false}]}"#;

#[test]
fn a_json_list_cut_midway_is_not_a_complete_array() {
    let server = list_server(FIRST_OF_TWO_PAGES, || {
        Script::json(503, r#"{"message": "down"}"#)
    });
    let output = run(idenfy_against(&server).args(["--retries", "0", "list", "--format", "json"]));
    output.assert_code(5);
    assert!(
        output.stdout.starts_with("[\n") && output.stdout.contains("page-1-item"),
        "{}",
        output.stdout
    );
    assert!(
        serde_json::from_str::<Value>(&output.stdout).is_err(),
        "a list cut midway reads as a whole one: {}",
        output.stdout
    );
    assert!(
        output.stdout.ends_with("}\n"),
        "the last item's line is whole: {:?}",
        output.stdout
    );
    assert!(output.stderr.contains("503"), "{}", output.stderr);
}

#[test]
fn the_json_array_is_written_as_the_pages_arrive() {
    // The second page never comes: the first page's items must be out before the walk ends.
    let server = list_server(FIRST_OF_TWO_PAGES, Script::hang);
    let mut child = idenfy_against(&server)
        .args([
            "--retries",
            "0",
            "--timeout",
            "30",
            "list",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (pieces, started) = (std::sync::mpsc::channel(), Instant::now());
    let sender = pieces.0;
    // Pieces, not lines: the last item's line ends only when the next item (or `]`) comes.
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read @ 1..) = stdout.read(&mut buffer) {
            if sender.send(buffer[..read].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("page-1-item") {
        match pieces.1.recv_timeout(Duration::from_secs(20)) {
            Ok(piece) => seen.extend(piece),
            Err(_) => break,
        }
    }
    let seen = String::from_utf8_lossy(&seen);
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.contains("page-1-item"), "nothing streamed: {seen:?}");
    assert!(
        still_running && started.elapsed() < Duration::from_secs(25),
        "the walk ended before the first page was seen"
    );
}

#[test]
fn a_failed_page_gets_the_hint_of_its_cause_as_a_lookup_does() {
    let server = HostileServer::start(|_| Script::hang());
    let slow = run(idenfy_against(&server).args(["--timeout", "0.3", "--retries", "0", "list"]));
    slow.assert_code(5);
    assert!(
        slow.stderr.contains("page 1 of the identification list: ")
            && slow.stderr.contains("raise --timeout")
            && !slow.stderr.contains("attempt_timeout"),
        "{}",
        slow.stderr
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = run(idenfy()
        .env("IDENFY_API_KEY", "k")
        .env("IDENFY_API_SECRET", "s")
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .args(["--retries", "0", "list", "--format", "json"]));
    refused.assert_code(5);
    assert!(
        refused.stderr.contains("connection refused")
            && refused
                .stderr
                .contains("check the base URL's host and port"),
        "{}",
        refused.stderr
    );
    // Not even the array's start is taken for a list.
    assert!(serde_json::from_str::<Value>(&refused.stdout).is_err());
}
