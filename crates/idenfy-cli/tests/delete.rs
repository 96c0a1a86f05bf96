//! `idenfy delete`: confirmed, recorded ahead in a trusted audit file, retried only where the
//! request cannot have arrived, and settled after a kill, an interrupt or a full disk.

#![cfg(unix)]

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use idenfy_core::Endpoint;
use idenfy_hostile::{HostileServer, Script, Seen};
use idenfy_sandbox::scan_refs;
use serde_json::Value;
use support::{
    TestSandbox, file_mode as mode, idenfy_against, idenfy_against_with_short_timeout, idenfy_at,
    run, run_with_input,
};

/// The outcomes the audit file records, in order, once it is checked to be written ahead:
/// every outcome follows the `attempt` record of its own deletion.
fn audit_records(path: &Path) -> Vec<Value> {
    let (outcomes, unsettled) = audit_trail(path);
    assert!(
        unsettled.is_empty(),
        "attempts without an outcome: {unsettled:?}"
    );
    outcomes
}

/// The outcomes the audit file records, and the scanRefs whose last attempt has no outcome
/// (the run died after announcing it, and no later run settled it). An outcome with no attempt
/// before it fails the test.
fn audit_trail(path: &Path) -> (Vec<Value>, Vec<String>) {
    audit_trail_of(std::fs::read_to_string(path).unwrap())
}

/// [`audit_trail`] of the text of an audit file.
fn audit_trail_of(text: String) -> (Vec<Value>, Vec<String>) {
    let mut outcomes = Vec::new();
    let mut open: Vec<String> = Vec::new();
    // A record a full disk cut short is set apart, as the command does.
    let records = text
        .lines()
        .filter_map(|line| match serde_json::from_str::<Value>(line) {
            Err(err) if err.is_eof() => None,
            parsed => Some(parsed.unwrap_or_else(|err| panic!("not JSON ({err}): {line:?}"))),
        });
    for record in records {
        let scan_ref = record["scanRef"].as_str().unwrap().to_owned();
        if record["outcome"] == "attempt" {
            assert_eq!(record["attempts"], 0, "{record}");
            open.push(scan_ref);
            continue;
        }
        assert!(
            open.contains(&scan_ref),
            "an outcome with no attempt before it: {record}"
        );
        // It settles the earlier attempts that died without an outcome too.
        open.retain(|attempted| *attempted != scan_ref);
        outcomes.push(record);
    }
    (outcomes, open)
}

#[test]
fn a_confirmed_deletion_is_recorded_and_status_then_says_deleted() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let output = run(idenfy_at(&sandbox)
        .args(["delete", scan_refs::APPROVED, "--yes", "--audit"])
        .arg(&audit));
    output.assert_code(0);
    assert!(
        output
            .stdout
            .contains(&format!("{}\tdeleted", scan_refs::APPROVED))
    );

    let status = run(idenfy_at(&sandbox).args(["status", scan_refs::APPROVED]));
    status.assert_code(0);
    assert!(status.stdout.contains("DELETED"), "{}", status.stdout);
    assert_eq!(sandbox.post(Endpoint::Data, scan_refs::APPROVED).0, 404);

    let records = audit_records(&audit);
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["scanRef"], scan_refs::APPROVED);
    assert_eq!(record["outcome"], "deleted");
    assert_eq!(record["status"], 200);
    assert_eq!(record["attempts"], 1);
    assert_eq!(record["identifier"], Value::Null);
    let time = record["time"].as_str().unwrap();
    assert!(
        time.len() == 20 && time.as_bytes()[10] == b'T' && time.ends_with('Z'),
        "{time}"
    );
    assert_eq!(mode(&audit), 0o600);

    // Run again with the same audit file: nothing is sent, nothing is recorded.
    let again = run(idenfy_at(&sandbox)
        .args(["delete", scan_refs::APPROVED, "--yes", "--audit"])
        .arg(&audit));
    again.assert_code(0);
    assert!(again.stderr.contains("skipped"), "{}", again.stderr);
    assert_eq!(audit_records(&audit).len(), 1);

    // Without that record, the sandbox's answer to a second deletion is recorded as refused.
    let other_audit = dir.path().join("b.jsonl");
    let second = run(idenfy_at(&sandbox)
        .args(["delete", scan_refs::APPROVED, "--yes", "--audit"])
        .arg(&other_audit));
    second.assert_code(3);
    let records = audit_records(&other_audit);
    assert_eq!(records[0]["outcome"], "refused");
    assert_eq!(records[0]["status"], 404);
    assert_eq!(records[0]["identifier"], "NOT_FOUND");
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_deleted() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let output = run(idenfy_at(&sandbox)
        .args(["delete", scan_refs::DENIED_FACE, "--audit"])
        .arg(&audit));
    output.assert_code(2);
    assert!(output.stderr.contains("--yes"), "{}", output.stderr);
    assert!(!audit.exists(), "a refused run leaves no audit file");
    let status = sandbox.json(Endpoint::Status, scan_refs::DENIED_FACE);
    assert_eq!(status["status"], "DENIED");

    // A list on standard input is not an answer to the question either.
    let list = format!("{}\n", scan_refs::DENIED_FACE);
    let piped = run_with_input(
        idenfy_at(&sandbox)
            .args(["delete", "--input", "-", "--audit"])
            .arg(&audit),
        list.as_bytes(),
    );
    piped.assert_code(2);
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::DENIED_FACE)["status"],
        "DENIED"
    );

    // A dry run shows what would go, and sends nothing.
    let dry = run(idenfy_at(&sandbox)
        .args([
            "delete",
            scan_refs::DENIED_FACE,
            scan_refs::SUSPECTED,
            "--dry-run",
            "--audit",
        ])
        .arg(&audit));
    dry.assert_code(0);
    assert!(
        dry.stdout
            .contains(&format!("{}\twould be deleted", scan_refs::DENIED_FACE))
    );
    assert!(
        dry.stdout
            .contains(&format!("{}\twould be deleted", scan_refs::SUSPECTED))
    );
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::SUSPECTED)["status"],
        "SUSPECTED"
    );
    assert!(!audit.exists());
}

#[test]
fn a_refusal_is_recorded_with_the_apis_identifier() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let output = run(idenfy_at(&sandbox)
        .args([
            "delete",
            scan_refs::ACTIVE,
            scan_refs::EXPIRED,
            "--yes",
            "--audit",
        ])
        .arg(&audit));
    output.assert_code(3);
    assert!(
        output.stderr.contains("Token has not expired yet."),
        "{}",
        output.stderr
    );
    // The API's reason, not a guess about a malformed request.
    assert!(!output.stderr.contains("malformed"), "{}", output.stderr);
    let records = audit_records(&audit);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["scanRef"], scan_refs::ACTIVE);
    assert_eq!(records[0]["outcome"], "refused");
    assert_eq!(records[0]["identifier"], "PARTNER_ERROR");
    assert_eq!(records[0]["status"], 400);
    assert_eq!(records[1]["scanRef"], scan_refs::EXPIRED);
    assert_eq!(records[1]["outcome"], "deleted");
}

#[test]
fn an_audit_file_that_is_a_link_or_not_an_audit_is_refused_before_anything_is_sent() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    std::fs::write(&target, b"").unwrap();
    let link = dir.path().join("a.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let output = run(idenfy_at(&sandbox)
        .args(["delete", scan_refs::DENIED_FACE, "--yes", "--audit"])
        .arg(&link));
    output.assert_code(2);
    assert!(output.stderr.contains("symbolic link"), "{}", output.stderr);
    assert_eq!(std::fs::read(&target).unwrap(), b"");

    let export = dir.path().join("export.jsonl");
    std::fs::write(
        &export,
        b"{\"scanRef\":\"x\",\"endpoint\":\"status\",\"result\":{}}\n",
    )
    .unwrap();
    run(idenfy_at(&sandbox)
        .args(["delete", scan_refs::DENIED_FACE, "--yes", "--audit"])
        .arg(&export))
    .assert_code(2);
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::DENIED_FACE)["status"],
        "DENIED"
    );
}

/// An audit record saying `scan_ref` was deleted, as someone else could have written it: were
/// it trusted, the scanRef would be skipped and its data kept.
fn forged_deletion_record(scan_ref: &str) -> String {
    format!(
        "{{\"scanRef\":\"{scan_ref}\",\"time\":\"2026-01-01T00:00:00Z\",\"outcome\":\"deleted\",\"identifier\":null,\"status\":200,\"attempts\":1}}\n"
    )
}

#[test]
fn an_audit_file_that_others_can_write_is_not_trusted() {
    use std::os::unix::fs::PermissionsExt as _;

    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    // A forged record: were it trusted, the scanRef would be skipped and its data kept.
    let forged = forged_deletion_record(scan_refs::DENIED_FACE);
    std::fs::write(&audit, &forged).unwrap();
    let delete = || {
        run(idenfy_at(&sandbox)
            .args(["delete", scan_refs::DENIED_FACE, "--yes", "--audit"])
            .arg(&audit))
    };
    for mode in [0o620, 0o602, 0o666] {
        std::fs::set_permissions(&audit, std::fs::Permissions::from_mode(mode)).unwrap();
        let refused = delete();
        refused.assert_code(2);
        assert!(
            refused.stderr.contains("can be written by others"),
            "{mode:o}: {}",
            refused.stderr
        );
        let dry_run = run(idenfy_at(&sandbox)
            .args(["delete", scan_refs::DENIED_FACE, "--dry-run", "--audit"])
            .arg(&audit));
        dry_run.assert_code(2);
    }
    assert_eq!(std::fs::read_to_string(&audit).unwrap(), forged);
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::DENIED_FACE)["status"],
        "DENIED",
        "nothing was sent"
    );
}

#[test]
#[cfg_attr(
    not(idenfy_tests_as_root),
    ignore = "giving a file to another user needs root"
)]
fn an_audit_file_another_user_owns_is_not_trusted() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let forged = forged_deletion_record(scan_refs::DENIED_FACE);
    std::fs::write(&audit, &forged).unwrap();
    support::give_to_another_user(&audit);
    let refused = run(idenfy_at(&sandbox)
        .args(["delete", scan_refs::DENIED_FACE, "--yes", "--audit"])
        .arg(&audit));
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("another user"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read_to_string(&audit).unwrap(), forged);
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::DENIED_FACE)["status"],
        "DENIED",
        "nothing was sent"
    );
}

/// A server that deletes: per scanRef, the n-th request (from 0) gets `script(scan_ref, n)`.
fn deleting_server(
    script: impl Fn(&str, usize) -> Script + Send + Sync + 'static,
) -> (HostileServer, Arc<Mutex<HashMap<String, usize>>>) {
    let counts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let seen = Arc::clone(&counts);
    let server = HostileServer::start(move |request: &Seen| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let scan_ref = body["scanRef"].as_str().unwrap_or_default().to_owned();
        let mut counts = seen.lock().unwrap();
        let n = counts.entry(scan_ref.clone()).or_insert(0);
        let script = script(&scan_ref, *n);
        *n += 1;
        script
    });
    (server, counts)
}

#[test]
fn a_bulk_deletion_resumes_from_the_audit_and_settles_an_unknown_outcome() {
    let not_found = r#"{"identifier":"NOT_FOUND","message":"Not found."}"#;
    let (server, counts) = deleting_server(move |scan_ref, n| match (scan_ref, n) {
        // The request arrives, the data goes, the answer does not.
        ("cut-1", 0) => Script::default(),
        ("cut-1", _) => Script::json(404, not_found),
        _ => Script::response(200, &[], b""),
    });
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "first-1\ncut-1\nlast-1\nfirst-1\n").unwrap();
    let audit = dir.path().join("a.jsonl");
    let delete = || {
        let mut command = idenfy_against_with_short_timeout(&server);
        command
            .args(["delete", "--yes", "--input"])
            .arg(&list)
            .arg("--audit")
            .arg(&audit);
        command
    };
    let first = run(&mut delete());
    first.assert_code(5);
    let records = audit_records(&audit);
    let outcomes: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["scanRef"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("first-1", "deleted"),
            ("cut-1", "unknown"),
            ("last-1", "deleted")
        ]
    );

    let second = run(&mut delete());
    second.assert_code(0);
    let records = audit_records(&audit);
    assert_eq!(records.len(), 4);
    assert_eq!(records[3]["scanRef"], "cut-1");
    assert_eq!(records[3]["outcome"], "already-gone");
    assert_eq!(records[3]["status"], 404);
    // Each scanRef was sent once, cut-1 twice: never a deletion of a deleted one.
    let counts = counts.lock().unwrap().clone();
    assert_eq!(counts.get("first-1"), Some(&1));
    assert_eq!(counts.get("last-1"), Some(&1));
    assert_eq!(counts.get("cut-1"), Some(&2));
}

#[test]
fn a_deletion_is_retried_only_where_it_cannot_have_arrived() {
    let (server, counts) = deleting_server(|scan_ref, n| match (scan_ref, n) {
        ("busy-1", 0) => Script::response(503, &[("retry-after", "0")], b"<html>busy</html>"),
        ("broken-1", _) => Script::json(500, r#"{"identifier":"INTERNAL_ERROR"}"#),
        _ => Script::response(200, &[], b""),
    });
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let output = run(idenfy_against_with_short_timeout(&server)
        .args(["delete", "busy-1", "broken-1", "--yes", "--audit"])
        .arg(&audit));
    output.assert_code(5);
    let records = audit_records(&audit);
    assert_eq!(records[0]["outcome"], "deleted");
    assert_eq!(records[0]["attempts"], 2);
    // A 500 may come after the server acted: not retried, and recorded as unknown.
    assert_eq!(records[1]["outcome"], "unknown");
    assert_eq!(records[1]["attempts"], 1);
    assert_eq!(records[1]["identifier"], "INTERNAL_ERROR");
    let counts = counts.lock().unwrap().clone();
    assert_eq!(counts.get("busy-1"), Some(&2));
    assert_eq!(counts.get("broken-1"), Some(&1));
}

#[test]
fn an_interrupted_deletion_is_recorded_as_unknown_and_settled_by_the_next_run() {
    let not_found = r#"{"identifier":"NOT_FOUND","message":"Not found."}"#;
    let (server, counts) = deleting_server(move |_, n| match n {
        0 => Script::hang(),
        _ => Script::json(404, not_found),
    });
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let mut child = support::RunningChild::spawn(
        idenfy_against_with_short_timeout(&server)
            .args(["delete", "slow-1", "--yes", "--audit"])
            .arg(&audit),
    );
    let started = std::time::Instant::now();
    while server.requests().is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20) && !child.has_exited(),
            "the deletion was never sent"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    support::interrupt(child.id());
    let output = child.wait(support::CHILD_TIMEOUT);
    output.assert_code(130);
    let records = audit_records(&audit);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["outcome"], "unknown");

    let settled = run(idenfy_against_with_short_timeout(&server)
        .args(["delete", "slow-1", "--yes", "--audit"])
        .arg(&audit));
    settled.assert_code(0);
    assert_eq!(audit_records(&audit)[1]["outcome"], "already-gone");
    assert_eq!(counts.lock().unwrap().get("slow-1"), Some(&2));
}

#[test]
fn a_deletion_killed_after_it_was_sent_is_settled_as_already_gone_by_the_next_run() {
    let not_found = r#"{"identifier":"NOT_FOUND","message":"Not found."}"#;
    // The first request deletes and its answer never comes; the API answers later ones 404.
    let (server, counts) = deleting_server(move |_, n| match n {
        0 => Script::hang(),
        _ => Script::json(404, not_found),
    });
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let mut child = support::RunningChild::spawn(
        idenfy_against_with_short_timeout(&server)
            .args(["delete", "killed-1", "--yes", "--audit"])
            .arg(&audit),
    );
    let started = std::time::Instant::now();
    while server.requests().is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20) && !child.has_exited(),
            "the deletion was never sent"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // No chance to record anything: the kernel ends the process.
    support::kill(child.id());
    child.wait(support::CHILD_TIMEOUT);
    let (outcomes, unsettled) = audit_trail(&audit);
    assert!(outcomes.is_empty(), "{outcomes:?}");
    assert_eq!(
        unsettled,
        ["killed-1"],
        "the attempt was on disk before the request"
    );

    let dry_run = run(idenfy_against_with_short_timeout(&server)
        .args(["delete", "killed-1", "--dry-run", "--audit"])
        .arg(&audit));
    dry_run.assert_code(0);
    assert!(
        dry_run.stdout.contains("outcome is unknown"),
        "{}",
        dry_run.stdout
    );

    let settled = run(idenfy_against_with_short_timeout(&server)
        .args(["delete", "killed-1", "--yes", "--audit"])
        .arg(&audit));
    settled.assert_code(0);
    let outcomes = audit_records(&audit);
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["outcome"], "already-gone");
    assert_eq!(counts.lock().unwrap().get("killed-1"), Some(&2));
}

#[test]
fn a_deletion_whose_outcome_cannot_be_written_is_settled_by_the_next_run() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    // The disk fills up after the attempt record: room for it and a few bytes more, as the
    // file size limit (`prlimit --fsize`) gives it; SIGXFSZ ignored, so that the write fails
    // with EFBIG as it would with ENOSPC, instead of ending the process.
    let attempt = format!(
        "{{\"scanRef\":\"{}\",\"time\":\"2026-01-01T00:00:00Z\",\"outcome\":\"attempt\",\"identifier\":null,\"status\":null,\"attempts\":0}}\n",
        scan_refs::APPROVED
    );
    let limit = attempt.len() + 10;
    let mut full_disk = Command::new("sh");
    full_disk
        .arg("-c")
        .arg(r#"trap '' XFSZ; exec prlimit --fsize="$0" -- "$@""#)
        .arg(limit.to_string())
        .arg(support::idenfy_bin())
        .env("IDENFY_API_KEY", &sandbox.key)
        .env("IDENFY_API_SECRET", &sandbox.secret)
        .args(["--base-url", &sandbox.base_url()])
        .args(["delete", scan_refs::APPROVED, "--yes", "--audit"])
        .arg(&audit);
    let stopped = run(&mut full_disk);
    assert_ne!(stopped.code, Some(0), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("could not be written"),
        "{}",
        stopped.stderr
    );
    // The API did delete; the trail says only that it was attempted.
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::APPROVED)["status"],
        "DELETED"
    );
    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(text.len() <= limit, "{text}");
    let (outcomes, unsettled) = audit_trail_of(text);
    assert!(outcomes.is_empty());
    assert_eq!(unsettled, [scan_refs::APPROVED]);

    let settled = run(idenfy_at(&sandbox)
        .args(["delete", scan_refs::APPROVED, "--yes", "--audit"])
        .arg(&audit));
    settled.assert_code(0);
    let outcomes = audit_records(&audit);
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0]["outcome"], "already-gone");
}

/// `idenfy ARGS` run on a terminal of its own (util-linux `script` gives it one), answering
/// `answer` to whatever it asks.
fn on_a_terminal(sandbox: &TestSandbox, args: &str, answer: &str) -> support::Output {
    let command_line = format!(
        "{} --base-url {} {args}",
        support::idenfy_bin().display(),
        sandbox.base_url()
    );
    run_with_input(
        idenfy_bin_env(
            sandbox,
            Command::new("script").args(["-qec", &command_line, "/dev/null"]),
        ),
        answer.as_bytes(),
    )
}

fn idenfy_bin_env<'a>(sandbox: &TestSandbox, command: &'a mut Command) -> &'a mut Command {
    command
        .env("IDENFY_API_KEY", &sandbox.key)
        .env("IDENFY_API_SECRET", &sandbox.secret)
}

#[test]
#[cfg_attr(
    not(idenfy_tests_have_script),
    ignore = "needs util-linux `script` for a terminal"
)]
fn on_a_terminal_only_yes_deletes() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let args = format!(
        "delete {} --audit {}",
        scan_refs::DENIED_FACE,
        audit.display()
    );
    let declined = on_a_terminal(&sandbox, &args, "n\n");
    declined.assert_code(2);
    assert!(declined.stdout.contains("[y/N]"), "{}", declined.stdout);
    assert!(!audit.exists());
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::DENIED_FACE)["status"],
        "DENIED"
    );

    let confirmed = on_a_terminal(&sandbox, &args, "y\n");
    confirmed.assert_code(0);
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::DENIED_FACE)["status"],
        "DELETED"
    );
    assert_eq!(audit_records(&audit)[0]["outcome"], "deleted");
}

#[test]
fn an_audit_record_of_a_deletion_that_timed_out_names_the_commands_flags() {
    let (server, _) = deleting_server(|_, _| Script::hang());
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let output = run(idenfy_against(&server)
        .args([
            "--timeout",
            "1",
            "--retries",
            "0",
            "delete",
            "--yes",
            "hangs-1",
            "--audit",
        ])
        .arg(&audit));
    output.assert_code(5);
    let records = audit_records(&audit);
    let message = records
        .iter()
        .find_map(|record| record["message"].as_str())
        .expect("the outcome's record has a message");
    assert!(message.contains("--timeout"), "{message}");
    assert!(!message.contains("attempt_timeout"), "{message}");
    assert!(
        !output.stderr.contains("attempt_timeout"),
        "{}",
        output.stderr
    );
}
