//! `idenfy report`: the PDF as the API sent it, private, published whole, never over a file
//! without `--force`, one per scanRef of a list; an answer that holds no PDF is not saved.

#![cfg(unix)]

mod support;

use idenfy_hostile::{HostileServer, Script};
use idenfy_sandbox::{Fixtures, identification_report, scan_refs};
use support::{TestSandbox, file_mode as mode, idenfy_against_with_short_timeout, idenfy_at, run};

#[test]
fn report_writes_the_private_pdf_the_api_sent_and_keeps_an_existing_file() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("r.pdf");
    let output = run(idenfy_at(&sandbox)
        .args(["report", scan_refs::APPROVED, "--output"])
        .arg(&pdf));
    output.assert_code(0);
    let written = std::fs::read(&pdf).unwrap();
    assert!(written.starts_with(b"%PDF-"));
    assert_eq!(
        Some(written.clone()),
        identification_report(&Fixtures::builtin(), scan_refs::APPROVED)
    );
    assert_eq!(mode(&pdf), 0o600);

    std::fs::write(&pdf, b"keep me").unwrap();
    let again = run(idenfy_at(&sandbox)
        .args(["report", scan_refs::APPROVED, "--output"])
        .arg(&pdf));
    again.assert_code(2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(std::fs::read(&pdf).unwrap(), b"keep me");
    run(idenfy_at(&sandbox)
        .args(["report", scan_refs::APPROVED, "--force", "--output"])
        .arg(&pdf))
    .assert_code(0);
    assert_eq!(std::fs::read(&pdf).unwrap(), written);
    // Only the report: no temporary file left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn reports_for_a_list_go_into_a_directory_named_by_checked_scan_refs() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!(
            "{}\n# a comment\n{}\n../escaped\nno-such-scan-ref\n",
            scan_refs::APPROVED,
            scan_refs::DENIED_FACE
        ),
    )
    .unwrap();
    let out = dir.path().join("reports");
    let output = run(idenfy_at(&sandbox)
        .args(["report", "--input"])
        .arg(&list)
        .arg("--output")
        .arg(&out));
    // The scanRef that cannot be a file name is bad input (2), the worst failure here.
    output.assert_code(2);
    assert!(output.stderr.contains("../escaped"), "{}", output.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("{}.pdf", scan_refs::APPROVED),
            format!("{}.pdf", scan_refs::DENIED_FACE)
        ]
    );
    assert!(!dir.path().join("escaped.pdf").exists());
    assert_eq!(mode(&out), 0o700);
    for name in &names {
        assert!(std::fs::read(out.join(name)).unwrap().starts_with(b"%PDF-"));
        assert_eq!(mode(&out.join(name)), 0o600);
    }
}

#[test]
fn a_report_that_is_not_a_pdf_is_not_saved() {
    let server = HostileServer::start(|_| {
        Script::response(
            200,
            &[("content-type", "application/pdf")],
            b"<html>login</html>",
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("r.pdf");
    let output = run(idenfy_against_with_short_timeout(&server)
        .args(["report", "scan-1", "--output"])
        .arg(&pdf));
    output.assert_code(3);
    assert!(output.stderr.contains("holds no PDF"), "{}", output.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
