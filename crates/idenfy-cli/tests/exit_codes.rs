//! The `idenfy` binary's exit codes: 0 success, 2 bad input, 3 API error, 4 refused
//! credentials, 5 network failure; and the API secret never shows in its output.

mod support;

use std::net::TcpListener;

use idenfy_sandbox::scan_refs;
use support::{TEST_SECRET, TestSandbox, idenfy, idenfy_at, json_lines, run, table_value};

#[test]
fn an_unknown_scan_ref_is_an_api_error_named_on_stderr() {
    let sandbox = TestSandbox::start();
    let output = run(idenfy_at(&sandbox).args(["status", "no-such-scan-ref"]));
    output.assert_code(3);
    assert!(output.stdout.is_empty(), "{}", output.stdout);
    assert!(
        output.stderr.contains("no-such-scan-ref")
            && output.stderr.contains("404")
            && output.stderr.contains("NOT_FOUND"),
        "{}",
        output.stderr
    );
}

#[test]
fn one_unknown_scan_ref_among_known_ones_still_prints_the_others() {
    let sandbox = TestSandbox::start();
    let output = run(idenfy_at(&sandbox).args([
        "status",
        scan_refs::APPROVED,
        "no-such-scan-ref",
        scan_refs::DENIED_FACE,
    ]));
    output.assert_code(3);
    let tables: Vec<&str> = output.stdout.split("\n\n").collect();
    assert_eq!(tables.len(), 2, "{}", output.stdout);
    assert_eq!(table_value(tables[0], "status"), Some("APPROVED"));
    assert_eq!(table_value(tables[1], "status"), Some("DENIED"));
    assert!(
        output.stderr.contains("no-such-scan-ref"),
        "{}",
        output.stderr
    );
}

#[test]
fn json_lines_give_every_scan_ref_a_line_even_when_its_lookup_fails() {
    let sandbox = TestSandbox::start();
    let output = run(idenfy_at(&sandbox).args([
        "--format",
        "jsonl",
        "status",
        scan_refs::APPROVED,
        "no-such-scan-ref",
    ]));
    output.assert_code(3);
    let lines = json_lines(&output.stdout);
    assert_eq!(lines.len(), 2, "{}", output.stdout);
    assert_eq!(lines[0]["scanRef"], scan_refs::APPROVED);
    assert_eq!(lines[0]["result"]["status"], "APPROVED");
    assert_eq!(lines[1]["scanRef"], "no-such-scan-ref");
    assert_eq!(lines[1]["error"]["identifier"], "NOT_FOUND");
    assert_eq!(lines[1]["error"]["status"], 404);
}

#[test]
fn a_wrong_secret_is_an_authentication_failure_and_is_never_printed() {
    let sandbox = TestSandbox::start();
    let wrong = "wrong-secret-7c2e91a0";
    for format in ["table", "json", "jsonl"] {
        let output = run(idenfy_at(&sandbox).env("IDENFY_API_SECRET", wrong).args([
            "--format",
            format,
            "full-status",
            scan_refs::APPROVED,
        ]));
        output.assert_code(4);
        assert!(
            output.stderr.contains("401") || output.stderr.contains("UNAUTHORIZED"),
            "{}",
            output.stderr
        );
        for secret in [wrong, TEST_SECRET] {
            assert!(
                !output.stdout.contains(secret),
                "{format}: {}",
                output.stdout
            );
            assert!(
                !output.stderr.contains(secret),
                "{format}: {}",
                output.stderr
            );
        }
    }
}

#[test]
fn a_wrong_secret_in_a_bulk_run_stops_it_and_is_never_printed() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let refs: Vec<String> = scan_refs::SCHEMA_FIXTURES
        .iter()
        .map(|r| r.to_string())
        .collect();
    support::write_input(&input, &refs);
    let wrong = "wrong-secret-bulk-31d8";
    let output = run(idenfy_at(&sandbox)
        .env("IDENFY_API_SECRET", wrong)
        .args(["full-status", "--concurrency", "1", "--input"])
        .arg(&input));
    output.assert_code(4);
    for secret in [wrong, TEST_SECRET] {
        assert!(!output.stdout.contains(secret), "{}", output.stdout);
        assert!(!output.stderr.contains(secret), "{}", output.stderr);
    }
    let lines = support::json_lines(&output.stdout);
    assert!(
        !lines.is_empty() && lines.len() < refs.len(),
        "{}",
        output.stdout
    );
    assert!(
        lines
            .iter()
            .all(|line| line["error"]["kind"] == "authentication")
    );
}

#[test]
fn a_malformed_scan_ref_is_bad_input() {
    let sandbox = TestSandbox::start();
    for malformed in ["has space", "tab\there", &"x".repeat(41), ""] {
        let output = run(idenfy_at(&sandbox).args(["status", malformed]));
        output.assert_code(2);
        assert!(output.stdout.is_empty(), "{malformed:?}: {}", output.stdout);
        assert!(
            output.stderr.contains("scanRef"),
            "{malformed:?}: {}",
            output.stderr
        );
    }
}

#[test]
fn a_malformed_scan_ref_in_a_bulk_input_is_bad_input_naming_the_line() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "sandbox-approved\nbad one\n").unwrap();
    let output = run(idenfy_at(&sandbox).args(["status", "--input"]).arg(&input));
    output.assert_code(2);
    assert!(output.stdout.is_empty(), "{}", output.stdout);
    assert!(output.stderr.contains("line 2"), "{}", output.stderr);
}

#[test]
fn no_credentials_and_no_sandbox_is_bad_input() {
    let output = run(idenfy().args(["status", scan_refs::APPROVED]));
    output.assert_code(2);
    assert!(
        output.stderr.contains("IDENFY_API_KEY"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_closed_port_is_a_network_failure() {
    // A port that was free a moment ago: nothing listens there, so connecting is refused.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let output = run(idenfy()
        .env("IDENFY_API_KEY", "key")
        .env("IDENFY_API_SECRET", "secret-for-a-closed-port")
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .args(["--timeout", "1", "--deadline", "2", "--retries", "1"])
        .args(["status", scan_refs::APPROVED]));
    output.assert_code(5);
    assert!(output.stdout.is_empty(), "{}", output.stdout);
    assert!(
        output.stderr.contains(scan_refs::APPROVED),
        "{}",
        output.stderr
    );
    assert!(
        !output.stderr.contains("secret-for-a-closed-port"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_secret_on_the_command_line_gets_a_warning() {
    let sandbox = TestSandbox::start();
    let warning = "warning";
    // Given as a flag, before or after the subcommand: warned about, not echoed.
    for args in [
        vec!["--api-secret", TEST_SECRET, "status", scan_refs::APPROVED],
        vec!["status", scan_refs::APPROVED, "--api-secret", TEST_SECRET],
    ] {
        let output = run(idenfy_at(&sandbox)
            .env_remove("IDENFY_API_SECRET")
            .args(&args));
        output.assert_code(0);
        assert!(
            output.stderr.contains(warning) && output.stderr.contains("IDENFY_API_SECRET"),
            "{args:?}: {}",
            output.stderr
        );
        assert!(!output.stderr.contains(TEST_SECRET), "{}", output.stderr);
        assert!(!output.stdout.contains(TEST_SECRET), "{}", output.stdout);
        assert_eq!(table_value(&output.stdout, "status"), Some("APPROVED"));
    }
    // From the environment: no warning.
    let output = run(idenfy_at(&sandbox).args(["status", scan_refs::APPROVED]));
    output.assert_code(0);
    assert!(!output.stderr.contains(warning), "{}", output.stderr);
}

#[test]
fn a_timeout_names_the_flags_that_change_it() {
    // A server that takes the request and never answers.
    let server = idenfy_hostile::HostileServer::start(|_| idenfy_hostile::Script::hang());
    let attempt = run(support::idenfy_against(&server).args([
        "--timeout",
        "0.3",
        "--retries",
        "0",
        "status",
        scan_refs::APPROVED,
    ]));
    attempt.assert_code(5);
    assert!(
        attempt.stderr.contains("raise --timeout") && !attempt.stderr.contains("attempt_timeout"),
        "{}",
        attempt.stderr
    );
    let deadline = run(support::idenfy_against(&server).args([
        "--timeout",
        "0.3",
        "--deadline",
        "0.5",
        "status",
        scan_refs::APPROVED,
    ]));
    deadline.assert_code(5);
    assert!(
        deadline.stderr.contains("--timeout") || deadline.stderr.contains("--deadline"),
        "{}",
        deadline.stderr
    );
    assert!(
        !deadline.stderr.contains("attempt_timeout"),
        "{}",
        deadline.stderr
    );
}
