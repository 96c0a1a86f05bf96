//! The identification report: a PDF of one or two pages for every fixture, with its key facts
//! as text, that poppler renders, with hostile fixture text shown safely and within the page.

use std::path::{Path, PathBuf};
use std::process::Command;

use idenfy_sandbox::{Fixtures, identification_report, scan_refs};

/// The report of a built-in fixture.
fn builtin_report(scan_ref: &str) -> Vec<u8> {
    identification_report(&Fixtures::builtin(), scan_ref).expect("a built-in fixture")
}

/// Occurrences of `needle` in the PDF's bytes (its content streams are not compressed).
fn count(pdf: &[u8], needle: &str) -> usize {
    pdf.windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

#[test]
fn every_builtin_fixture_gives_a_pdf_of_one_or_two_pages() {
    let fixtures = Fixtures::builtin();
    for scan_ref in fixtures.scan_refs() {
        let pdf = identification_report(&fixtures, scan_ref).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{scan_ref}");
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"), "{scan_ref}");
        let pages = count(&pdf, "/Type /Page\n");
        assert!((1..=2).contains(&pages), "{scan_ref}: {pages} pages");
    }
    // A document that was read gets its own page.
    assert_eq!(
        count(&builtin_report(scan_refs::APPROVED), "/Type /Page\n"),
        2
    );
    assert_eq!(
        count(&builtin_report(scan_refs::ACTIVE), "/Type /Page\n"),
        1
    );
    // An MRZ as long as an ICAO format is set in the lines it is printed in: three of 30
    // characters (TD1), two of 44 (TD3).
    for (scan_ref, lines) in [
        (
            scan_refs::SUSPECTED,
            &[
                "(IRPOLRP00000017<<<<<<<<<<<<<<<)",
                "(9511233F2711227UKR<<<<<<<<<<<0)",
                "(PRZYKLADOWA<<OLENA<<<<<<<<<<<<)",
            ][..],
        ),
        (
            scan_refs::DENIED_FACE,
            &[
                "(P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<)",
                "(C01X00T478D<<8308126F3307311<<<<<<<<<<<<<<<4)",
            ][..],
        ),
    ] {
        let pdf = builtin_report(scan_ref);
        for line in lines {
            assert_eq!(count(&pdf, &format!("{line} Tj")), 1, "{scan_ref}: {line}");
        }
    }
}

#[test]
fn the_same_fixture_always_gives_the_same_bytes() {
    assert_eq!(
        builtin_report(scan_refs::SUSPECTED),
        builtin_report(scan_refs::SUSPECTED)
    );
    assert_ne!(
        builtin_report(scan_refs::SUSPECTED),
        builtin_report(scan_refs::APPROVED)
    );
    assert!(identification_report(&Fixtures::builtin(), "no-such-scan-ref").is_none());
}

fn run(command: &mut Command) -> Vec<u8> {
    let output = command.output().expect("poppler runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{command:?} failed: {stderr}");
    // Poppler repairs broken files quietly but for these messages.
    assert!(stderr.trim().is_empty(), "{command:?} complained: {stderr}");
    output.stdout
}

fn write_pdf(dir: &Path, pdf: &[u8]) -> PathBuf {
    let path = dir.join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    path
}

#[test]
#[cfg_attr(
    not(idenfy_tests_have_poppler),
    ignore = "needs poppler (pdftoppm, pdftotext) to render the report"
)]
fn poppler_renders_the_report_with_its_facts() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = write_pdf(dir.path(), &builtin_report(scan_refs::APPROVED));
    run(Command::new("pdftoppm")
        .args(["-r", "40", "-png"])
        .arg(&pdf)
        .arg(dir.path().join("page")));
    for page in ["page-1.png", "page-2.png"] {
        let png = std::fs::read(dir.path().join(page)).expect(page);
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000,
            "{page}"
        );
    }
    assert!(!dir.path().join("page-3.png").exists());

    let text = String::from_utf8(run(Command::new("pdftotext").arg(&pdf).arg("-"))).unwrap();
    for expected in [
        "sandbox-approved",
        "APPROVED",
        "FACE_MATCH",
        "DOC_VALIDATED",
        "Testas Pavyzdys",
        "SBX00001",
        "2031-03-14",
        "ŠILUVA",
        "FRONT, BACK, FACE, FACE_VIDEO",
        "Page 2 of 2",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

/// A fixture whose answers are raw (never checked against the schema), so
/// values are as long and as strange as a user can write them.
const HOSTILE: &str = r#"{"fixtures": [{
    "scanRef": "hostile (ref) \\ x",
    "files": ["FACE"],
    "raw": {
        "status": {"json": {"status": "A) Tj (B", "clientId": "c\u0007\u001b[31m"}},
        "data": {"json": {"authority": "AUTHORITY OF AN EXTREMELY LONG NAME THAT GOES ON AND ON AND ON AND ON AND ON AND ON UNTIL THE END OF THE PAGE AND FURTHER", "birthPlace": "line\nbreak\ttab"}},
        "fullStatus": {"json": {
            "face_match_result": "\\) Tj ET BT (",
            "client": {"name": "Jo (the) \\ Bo", "surname": "Иванов 漢字 😀", "document_number": "\u0000\u0001\u001f\u007f\u0085\u009f"},
            "client_identity_document": {"mrz_string": "MRZ<<WITH<<A<<VERY<<LONG<<LINE<<THAT<<MUST<<WRAP<<OVER<<SEVERAL<<LINES<<AND<<THEN<<BE<<CUT<<BECAUSE<<IT<<NEVER<<ENDS<<AT<<ALL<<REALLY<<NEVER<<EVER<<ENDING<<AT<<ALL<<0123456789<<ABCDEFGHIJKLMNOPQRSTUVWXYZ<<0123456789<<ABCDEFGHIJKLMNOPQRSTUVWXYZ<<0123456789<<ABCDEFGHIJ"},
            "suspection_reasons": ["A", {"nested": ["(", ")"]}, 12]
        }}
    }
}]}"#;

fn hostile_report() -> Vec<u8> {
    let fixtures = Fixtures::from_json_str(HOSTILE).unwrap();
    identification_report(&fixtures, "hostile (ref) \\ x").unwrap()
}

#[test]
fn hostile_text_is_escaped_and_never_reaches_the_stream_raw() {
    let pdf = hostile_report();
    assert_eq!(count(&pdf, "/Type /Page\n"), 2);
    // pdf-writer escapes a parenthesis only where it is unbalanced: balanced ones are part of
    // a literal string as they are.
    for literal in [
        r"(Jo (the) \\ Bo ?????? ?? ?) Tj",
        r"(A\) Tj \(B) Tj",
        r"(\\\) Tj ET BT \() Tj",
        r"(hostile (ref) \\ x) Tj",
        // Each control character is one ?; NEL, a line break, is a space.
        "(???? ?) Tj",
        "(line break tab) Tj",
    ] {
        assert!(count(&pdf, literal) >= 1, "{literal} not in the content");
    }
    // No value escaped its string to become operators: every text object shows one string,
    // literal (ASCII) or hex (anything else, as pdf-writer writes them).
    assert_eq!(
        count(&pdf, "BT\n"),
        count(&pdf, ") Tj\nET") + count(&pdf, "> Tj\nET")
    );
}

#[test]
#[cfg_attr(
    not(idenfy_tests_have_poppler),
    ignore = "needs poppler (pdftoppm, pdftotext) to render the report"
)]
fn poppler_shows_hostile_text_safely_and_within_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = write_pdf(dir.path(), &hostile_report());
    let text = String::from_utf8(run(Command::new("pdftotext").arg(&pdf).arg("-"))).unwrap();
    for expected in [
        "Jo (the) \\ Bo ?????? ?? ?",
        "A) Tj (B",
        "hostile (ref) \\ x",
        "? stands for a character",
        "AUTHORITY OF AN EXTREMELY LONG NAME",
        "…",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && !"\n\x0c".contains(c)),
        "a control character came through: {text:?}"
    );
    // Every word lies inside the margins.
    let boxes = String::from_utf8(run(Command::new("pdftotext")
        .arg("-bbox")
        .arg(&pdf)
        .arg("-")))
    .unwrap();
    let mut words = 0;
    for line in boxes
        .lines()
        .filter(|l| l.trim_start().starts_with("<word"))
    {
        let x_max: f32 = line
            .split("xMax=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("xMax in {line}"));
        assert!(
            x_max <= 595.28 - 50.0 + 0.5,
            "word beyond the margin: {line}"
        );
        words += 1;
    }
    assert!(words > 50, "{words} words");
}
