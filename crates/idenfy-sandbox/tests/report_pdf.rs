//! The identification report: a well-formed PDF 1.4 for every fixture, that
//! poppler renders, with hostile fixture text shown safely.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use idenfy_sandbox::{Fixtures, identification_report, scan_refs};

/// What the structural check learnt about a file.
struct Structure {
    /// Object number to its dictionary text (before any stream data).
    dictionaries: BTreeMap<usize, String>,
    /// The data of every stream that is not an image.
    content_streams: Vec<Vec<u8>>,
}

impl Structure {
    fn pages(&self) -> usize {
        self.count("/Type /Page ")
    }

    fn images(&self) -> usize {
        self.count("/Subtype /Image ")
    }

    fn count(&self, needle: &str) -> usize {
        self.dictionaries
            .values()
            .filter(|d| d.contains(needle))
            .count()
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| at + from)
}

/// Every `N 0 R` in `text`.
fn references(text: &str) -> Vec<usize> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || "[]<>/".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(3)
        .filter(|w| w[1] == "0" && w[2] == "R")
        .map(|w| w[0].parse().expect("an object number before 0 R"))
        .collect()
}

fn number_after(text: &str, key: &str) -> usize {
    let at = text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len();
    text[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number after {key} in {text}"))
}

/// Checks the header, the end marker, that every xref entry points at its
/// object, that stream lengths are right and that every reference resolves.
fn check_structure(pdf: &[u8]) -> Structure {
    assert!(pdf.starts_with(b"%PDF-1.4\n"), "header");
    assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"), "end marker");
    let startxref = find(pdf, b"startxref\n", pdf.len().saturating_sub(40)).expect("startxref");
    let tail = std::str::from_utf8(&pdf[startxref..]).expect("an ASCII tail");
    let xref_at = number_after(tail, "startxref");
    let head = std::str::from_utf8(&pdf[xref_at..xref_at + 20]).expect("an ASCII xref");
    assert!(
        head.starts_with("xref\n0 "),
        "startxref points at the table: {head:?}"
    );
    let size = number_after(head, "xref\n0");
    let first_entry = xref_at + head.find('\n').unwrap() + 1;
    let first_entry = first_entry + head[first_entry - xref_at..].find('\n').unwrap() + 1;
    let mut offsets = BTreeMap::new();
    for n in 0..size {
        let entry = std::str::from_utf8(&pdf[first_entry + 20 * n..first_entry + 20 * (n + 1)])
            .expect("an ASCII entry");
        assert_eq!(entry.len(), 20);
        assert!(entry.ends_with(" \n"), "entry {n} is 20 bytes: {entry:?}");
        match &entry[17..18] {
            "n" => {
                offsets.insert(n, entry[..10].parse::<usize>().unwrap());
            }
            "f" => assert_eq!(n, 0, "only the head of the free list is free"),
            other => panic!("entry {n} of kind {other}"),
        }
    }
    let trailer_at = first_entry + 20 * size;
    let trailer = std::str::from_utf8(&pdf[trailer_at..]).expect("an ASCII trailer");
    assert!(trailer.starts_with("trailer\n<<"), "{trailer}");
    assert_eq!(number_after(trailer, "/Size"), size);

    let mut dictionaries = BTreeMap::new();
    let mut content_streams = Vec::new();
    let mut referenced = BTreeSet::new();
    referenced.extend(references(&trailer[..trailer.find(">>").unwrap()]));
    for (&n, &offset) in &offsets {
        let header = format!("{n} 0 obj\n");
        assert!(
            pdf[offset..].starts_with(header.as_bytes()),
            "xref entry {n} points at {:?}",
            String::from_utf8_lossy(&pdf[offset..(offset + 20).min(pdf.len())])
        );
        let body = offset + header.len();
        let end = find(pdf, b"\nendobj\n", body).expect("endobj");
        let (dictionary, stream) = match find(pdf, b">>\nstream\n", body) {
            Some(at) if at < end => (at + 2, Some(at + ">>\nstream\n".len())),
            _ => (end, None),
        };
        let dictionary = std::str::from_utf8(&pdf[body..dictionary])
            .expect("dictionaries are ASCII")
            .to_owned();
        if let Some(data) = stream {
            let length = number_after(&dictionary, "/Length");
            assert!(
                pdf[data + length..].starts_with(b"\nendstream\nendobj\n"),
                "object {n}: /Length {length} ends the stream"
            );
            if !dictionary.contains("/Subtype /Image") {
                content_streams.push(pdf[data..data + length].to_vec());
            }
        }
        referenced.extend(references(&dictionary));
        dictionaries.insert(n, dictionary);
    }
    for n in &referenced {
        assert!(
            offsets.contains_key(n),
            "object {n} is referenced but absent"
        );
    }
    let structure = Structure {
        dictionaries,
        content_streams,
    };
    let tree = structure
        .dictionaries
        .values()
        .find(|d| d.contains("/Type /Pages"))
        .expect("a page tree");
    assert_eq!(number_after(tree, "/Count"), structure.pages());
    structure
}

/// The report of a built-in fixture.
fn builtin_report(scan_ref: &str) -> Vec<u8> {
    identification_report(&Fixtures::builtin(), scan_ref).expect("a built-in fixture")
}

#[test]
fn every_builtin_fixture_gives_a_well_formed_report() {
    let fixtures = Fixtures::builtin();
    for scan_ref in fixtures.scan_refs() {
        let pdf = identification_report(&fixtures, scan_ref).unwrap();
        let structure = check_structure(&pdf);
        assert!((1..=2).contains(&structure.pages()), "{scan_ref}");
    }
    // A document that was read gets its own page; photos come with the files.
    let approved = check_structure(&builtin_report(scan_refs::APPROVED));
    assert_eq!((approved.pages(), approved.images()), (2, 2));
    let active = check_structure(&builtin_report(scan_refs::ACTIVE));
    assert_eq!((active.pages(), active.images()), (1, 0));
    // An MRZ as long as an ICAO format is set in the lines it is printed in:
    // three of 30 characters (TD1), two of 44 (TD3).
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
        let structure = check_structure(&builtin_report(scan_ref));
        let content = String::from_utf8(structure.content_streams.concat()).unwrap();
        for line in lines {
            assert!(
                content.contains(line),
                "{scan_ref}: {line} not in the content"
            );
        }
    }
}

#[test]
fn the_structure_check_catches_shifted_offsets_and_dangling_references() {
    let pdf = builtin_report(scan_refs::APPROVED);
    let fails = |pdf: Vec<u8>| std::panic::catch_unwind(|| check_structure(&pdf)).is_err();
    let mut shifted = pdf.clone();
    shifted.insert(20, b' ');
    assert!(fails(shifted), "offsets one byte off");
    // The first page's contents are object 10 or above: make that 90 or above.
    let at = pdf
        .windows(11)
        .position(|w| w == b"/Contents 1")
        .expect("a page");
    let mut dangling = pdf;
    dangling[at + 10] = b'9';
    assert!(fails(dangling), "a reference to an absent object");
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

/// Whether poppler's tools are here; without them a developer is told, and
/// CI (where they are installed) fails rather than skipping.
fn poppler_available(test: &str) -> bool {
    if Command::new("pdftoppm").arg("-v").output().is_ok() {
        return true;
    }
    let message = format!(
        "{test}: pdftoppm not found, so the report was not rendered; install poppler-utils"
    );
    assert!(std::env::var_os("CI").is_none(), "{message}");
    // Straight to stderr: the test harness captures eprintln! of a passing
    // test, and this must be seen.
    let _ = writeln!(std::io::stderr(), "warning: {message}");
    false
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

/// Renders page 1 at `dpi` as RGB pixels.
fn render_first_page(pdf: &Path, dpi: u32) -> (usize, usize, Vec<u8>) {
    let ppm = run(Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-f", "1", "-l", "1"])
        .arg(pdf));
    // P6, width, height, maxval, one whitespace byte, then the pixels.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        let start = at
            + ppm[at..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap();
        let end = start
            + ppm[start..]
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .unwrap();
        fields.push(String::from_utf8_lossy(&ppm[start..end]).into_owned());
        at = end;
    }
    assert_eq!(fields[0], "P6");
    let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (width, height, ppm[at + 1..].to_vec())
}

fn has_colour(pixels: &[u8], colour: [u8; 3]) -> bool {
    pixels
        .chunks_exact(3)
        .any(|p| p.iter().zip(colour).all(|(&a, b)| a.abs_diff(b) <= 3))
}

#[test]
fn poppler_renders_the_report_with_its_photos_and_facts() {
    if !poppler_available("poppler_renders_the_report_with_its_photos_and_facts") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = write_pdf(dir.path(), &builtin_report(scan_refs::APPROVED));
    run(Command::new("pdftoppm")
        .args(["-r", "60", "-png"])
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

    let (width, height, pixels) = render_first_page(&pdf, 50);
    // A4 at 50 dpi (poppler rounds the width up).
    assert!(
        (413..=414).contains(&width) && height == 585,
        "{width}x{height}"
    );
    // The face photo's skin and the approved badge's green were drawn.
    assert!(
        has_colour(&pixels, [225, 190, 160]),
        "face photo not rendered"
    );
    assert!(
        has_colour(&pixels, [33, 128, 74]),
        "status badge not rendered"
    );

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
    let structure = check_structure(&hostile_report());
    assert_eq!(structure.pages(), 2);
    assert_eq!(
        structure.images(),
        1,
        "the face only: the fixture has no FRONT"
    );
    let content: Vec<u8> = structure.content_streams.concat();
    let content = String::from_utf8(content).expect("content streams are ASCII");
    assert!(
        content
            .bytes()
            .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
        "a control or non-ASCII byte in a content stream"
    );
    for literal in [
        r"(Jo \(the\) \\ Bo ?????? ?? ?)",
        r"(A\) Tj \(B)",
        r"(\\\) Tj ET BT \()",
        r"(hostile \(ref\) \\ x)",
        // Each control character is one ?; NEL, a line break, is a space.
        "(???? ?)",
        "(line break tab)",
    ] {
        assert!(content.contains(literal), "{literal} not in the content");
    }
    // Every text-showing operator has a balanced literal: no value escaped
    // its string to become operators.
    let shows = content.lines().filter(|l| l.ends_with(" Tj ET")).count();
    let texts = content.lines().filter(|l| l.starts_with("BT ")).count();
    assert_eq!(shows, texts);
    assert_eq!(
        content.matches(" Tj").count(),
        shows + 2,
        "the two forged Tj"
    );
}

#[test]
fn poppler_shows_hostile_text_safely_and_within_the_page() {
    if !poppler_available("poppler_shows_hostile_text_safely_and_within_the_page") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = write_pdf(dir.path(), &hostile_report());
    let text = String::from_utf8(run(Command::new("pdftotext").arg(&pdf).arg("-"))).unwrap();
    for expected in [
        "Jo (the) \\ Bo ?????? ?? ?",
        "A) Tj (B",
        "hostile (ref) \\ x",
        "?????? ?? ?",
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
