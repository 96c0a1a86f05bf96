//! The identification report `/generate-pdf` serves: one or two A4 pages with the
//! identification's key facts as text, written with `pdf-writer` in the standard Type 1 fonts
//! (Helvetica for the report's own words, Courier for the fixture's values), which every PDF
//! reader has, so nothing is embedded.
//!
//! Page 1 holds the overall status, the automatic and manual checks, the person, the document,
//! the timeline and the files the identification has; page 2, when the document was read, its
//! fields as read from the document, from the MRZ and by the reviewer, side by side. Values come
//! from the fixture's `/status`, `/data` and `/full-status` answers, raw ones included when they
//! are JSON objects. Fixtures are written by users, so every value is read defensively, reduced
//! to what the font can show and cut to its column (Courier's glyphs are all 0.6 em wide, so
//! the cut is exact): a page never overflows, whatever the fixture says. The bytes depend on
//! the fixture only (no clock, no random numbers), so the same scanRef always gives the same
//! file.

use idenfy_core::Endpoint;
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};
use serde_json::Value;

use crate::fixtures::{Fixture, Fixtures, Prepared};

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const LEFT: f32 = 50.0;
const RIGHT: f32 = PAGE_WIDTH - 50.0;
/// Where values start in label-value rows.
const VALUE_X: f32 = 170.0;
const ROW: f32 = 15.0;
const VALUE_SIZE: f32 = 9.0;
/// Shown for a value that is absent, null or empty.
const NONE: &str = "-";
/// The fonts, by resource name.
const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");
const MONO: Name = Name(b"F3");
/// Courier's advance, in ems, for every glyph.
const MONO_ADVANCE: f32 = 0.6;

/// The identification report the sandbox serves for `scan_ref` from
/// `POST /api/v2/generate-pdf`: a PDF of one or two A4 pages with the overall status, the
/// automatic and manual checks, the person's and the document's data, and the files the
/// identification has. `None` when no fixture has this scanRef. The same fixture always gives
/// the same bytes.
pub fn identification_report(fixtures: &Fixtures, scan_ref: &str) -> Option<Vec<u8>> {
    let fixture = fixtures.get(scan_ref)?;
    let facts = Facts::of(fixture);
    let mut pages = vec![summary_page(scan_ref, fixture, &facts)];
    if facts.document_was_read() {
        pages.push(document_page(scan_ref, &facts));
    }

    let mut pdf = Pdf::new();
    let (catalog, tree, info) = (Ref::new(1), Ref::new(2), Ref::new(3));
    let fonts = [
        (REGULAR, Ref::new(4), "Helvetica"),
        (BOLD, Ref::new(5), "Helvetica-Bold"),
        (MONO, Ref::new(6), "Courier"),
    ];
    let count = pages.len();
    let substituted = pages.iter().any(|page| page.substituted);
    let kids: Vec<Ref> = (0..count).map(|i| Ref::new(7 + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(kids.iter().copied())
        .count(count as i32);
    for (index, mut page) in pages.into_iter().enumerate() {
        page.footer(index + 1, count, substituted);
        let (id, contents) = (kids[index], Ref::new(8 + 2 * index as i32));
        let mut writer = pdf.page(id);
        writer
            .parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(contents);
        let mut resources = writer.resources();
        let mut names = resources.fonts();
        for (name, font, _) in fonts {
            names.pair(name, font);
        }
        drop(names);
        drop(resources);
        drop(writer);
        pdf.stream(contents, &page.content.finish());
    }
    for (_, font, base) in fonts {
        pdf.type1_font(font)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    // A text string of the document information: any text, escaped by pdf-writer.
    let title = format!("Identification report {scan_ref}");
    pdf.document_info(info)
        .title(TextStr(&title))
        .producer(TextStr("idenfy-sandbox"));
    Some(pdf.finish())
}

/// The fixture's answers, each `Null` when the fixture has none that is a JSON object.
struct Facts {
    status: Value,
    data: Value,
    full: Value,
}

impl Facts {
    fn of(fixture: &Fixture) -> Self {
        let answer = |endpoint| {
            let body = match fixture.responses.get(&endpoint) {
                Some(Prepared::Json(body)) => body,
                Some(Prepared::Raw(raw)) if raw.status.is_success() => &raw.body,
                _ => return Value::Null,
            };
            match serde_json::from_slice(body) {
                Ok(object @ Value::Object(_)) => object,
                _ => Value::Null,
            }
        };
        Self {
            status: answer(Endpoint::Status),
            data: answer(Endpoint::Data),
            full: answer(Endpoint::FullStatus),
        }
    }

    /// The value at `pointer` in `/full-status`, else at `fallback` in `/data`.
    fn person(&self, pointer: &str, fallback: &str) -> String {
        shown([self.full.pointer(pointer), self.data.pointer(fallback)])
    }

    fn full(&self, pointer: &str) -> String {
        shown([self.full.pointer(pointer)])
    }

    fn data(&self, pointer: &str) -> String {
        shown([self.data.pointer(pointer)])
    }

    fn document(&self, key: &str) -> String {
        shown([self
            .full
            .pointer(&format!("/client_identity_document/{key}"))])
    }

    fn client_id(&self) -> String {
        shown([self.status.get("clientId"), self.data.get("clientId")])
    }

    /// Whether the document's fields hold anything (not before the client has sent a photo,
    /// nor for an expired session).
    fn document_was_read(&self) -> bool {
        self.full
            .get("client_identity_document")
            .and_then(Value::as_object)
            .is_some_and(|document| document.values().any(is_present))
    }
}

fn is_present(value: &Value) -> bool {
    !matches!(value, Value::Null) && value.as_str() != Some("")
}

/// The first present value as text, or [`NONE`]. Lists show at most 20 items.
fn shown<const N: usize>(candidates: [Option<&Value>; N]) -> String {
    match candidates.into_iter().flatten().find(|v| is_present(v)) {
        None => NONE.to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Bool(yes)) => if *yes { "yes" } else { "no" }.to_owned(),
        Some(Value::Array(items)) if items.is_empty() => "none".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .take(20)
            .map(|item| shown([Some(item)]))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// The parts that are present, joined by a space; [`NONE`] when neither is.
fn full_name(parts: [String; 2]) -> String {
    let present: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| *p != NONE)
        .collect();
    if present.is_empty() {
        NONE.to_owned()
    } else {
        present.join(" ")
    }
}

/// Characters 0x80-0x9F of WinAnsiEncoding (Windows-1252), by position; the five it leaves
/// undefined hold C1 controls, which never get this far. From 0xA0 on it is Latin-1.
const WIN_ANSI_HIGH: &str = "€\u{81}‚ƒ„…†‡ˆ‰Š‹Œ\u{8d}Ž\u{8f}\u{90}‘’“”•–—˜™š›œ\u{9d}žŸ";

/// `text` in WinAnsiEncoding, at most `max_chars` characters (the last one `…` when cut), and
/// whether a character had to become `?`: one the fonts cannot show, or a control character
/// (a line break or tab becomes a space).
fn shown_text(text: &str, max_chars: usize) -> (Vec<u8>, bool) {
    let mut substituted = false;
    let mut bytes: Vec<u8> = text
        .chars()
        .take(max_chars.saturating_add(1))
        .map(|c| match c {
            '\n' | '\r' | '\t' | '\u{85}' => b' ',
            ' '..='~' | '\u{a0}'..='\u{ff}' => c as u8,
            _ if c.is_control() => {
                substituted = true;
                b'?'
            }
            _ => match WIN_ANSI_HIGH.chars().position(|high| high == c) {
                Some(at) => 0x80 + at as u8,
                None => {
                    substituted = true;
                    b'?'
                }
            },
        })
        .collect();
    if bytes.len() > max_chars {
        bytes.truncate(max_chars.saturating_sub(1));
        bytes.push(0x85);
    }
    (bytes, substituted)
}

/// One page being written: its content stream, and where the next row goes (from the top).
struct Page {
    content: Content,
    y: f32,
    substituted: bool,
}

impl Page {
    /// A page with the band, the title and the scanRef every page starts with.
    fn new(title: &str, scan_ref: &str, client_id: &str) -> Self {
        let mut page = Page {
            content: Content::new(),
            y: 0.0,
            substituted: false,
        };
        page.content
            .set_fill_rgb(0.12, 0.22, 0.36)
            .rect(0.0, PAGE_HEIGHT - 8.0, PAGE_WIDTH, 8.0)
            .fill_nonzero();
        page.words(LEFT, 58.0, BOLD, 20.0, title);
        page.y = 70.0;
        page.row("scanRef", scan_ref);
        page.row("Client ID", client_id);
        page.y += 10.0;
        page
    }

    /// The report's own words, which fit where they are put.
    fn words(&mut self, x: f32, top: f32, font: Name, size: f32, text: &str) {
        self.show(x, top, font, size, text.as_bytes());
    }

    /// A fixture's value, cut to `width`.
    fn value(&mut self, x: f32, top: f32, width: f32, text: &str) {
        let max_chars = (width / (MONO_ADVANCE * VALUE_SIZE)) as usize;
        let (bytes, substituted) = shown_text(text, max_chars);
        self.substituted |= substituted;
        self.show(x, top, MONO, VALUE_SIZE, &bytes);
    }

    fn show(&mut self, x: f32, top: f32, font: Name, size: f32, bytes: &[u8]) {
        self.content
            .begin_text()
            .set_fill_rgb(0.13, 0.15, 0.18)
            .set_font(font, size)
            .next_line(x, PAGE_HEIGHT - top)
            .show(Str(bytes))
            .end_text();
    }

    fn rule(&mut self, top: f32) {
        self.content
            .set_stroke_rgb(0.8, 0.82, 0.85)
            .set_line_width(0.5)
            .move_to(LEFT, PAGE_HEIGHT - top)
            .line_to(RIGHT, PAGE_HEIGHT - top)
            .stroke();
    }

    fn section(&mut self, title: &str) {
        self.y += 12.0;
        self.words(LEFT, self.y + 13.0, BOLD, 12.0, title);
        self.rule(self.y + 19.0);
        self.y += 24.0;
    }

    fn row(&mut self, label: &str, value: &str) {
        self.words(LEFT, self.y + 11.0, BOLD, 9.0, label);
        self.value(VALUE_X, self.y + 11.0, RIGHT - VALUE_X, value);
        self.y += ROW;
    }

    /// A label and values in columns starting at `xs`, each `width` wide.
    fn columns(&mut self, label: &str, xs: &[f32], width: f32, values: &[String]) {
        self.words(LEFT, self.y + 11.0, BOLD, 9.0, label);
        for (x, value) in xs.iter().zip(values) {
            self.value(*x, self.y + 11.0, width, value);
        }
        self.y += ROW;
    }

    fn footer(&mut self, number: usize, count: usize, substituted: bool) {
        let top = PAGE_HEIGHT - 44.0;
        self.rule(top);
        let note =
            "Generated by idenfy-sandbox from its fixtures: not a document issued by iDenfy.";
        self.words(LEFT, top + 14.0, REGULAR, 8.0, note);
        if substituted {
            let note = "? stands for a character this report's fonts cannot show.";
            self.words(LEFT, top + 25.0, REGULAR, 8.0, note);
        }
        let page = format!("Page {number} of {count}");
        self.words(RIGHT - 45.0, top + 14.0, REGULAR, 8.0, &page);
    }
}

fn summary_page(scan_ref: &str, fixture: &Fixture, facts: &Facts) -> Page {
    let mut page = Page::new("Identification report", scan_ref, &facts.client_id());
    page.row("Overall status", &shown([facts.status.get("status")]));
    page.section("Verification");
    let (automatic, manual) = (VALUE_X, 360.0);
    page.words(automatic, page.y + 11.0, BOLD, 9.0, "Automatic");
    page.words(manual, page.y + 11.0, BOLD, 9.0, "Manual review");
    page.y += ROW;
    for (label, auto_key, manual_key) in [
        ("Face", "/face_match_result", "/manual_face_match_result"),
        (
            "Document",
            "/document_validity",
            "/manual_document_validity",
        ),
    ] {
        let values = [facts.full(auto_key), facts.full(manual_key)];
        page.columns(
            label,
            &[automatic, manual],
            manual - automatic - 8.0,
            &values,
        );
    }
    page.row("Suspicion reasons", &facts.full("/suspection_reasons"));
    page.row("Attempts", &facts.full("/attempt_count"));
    page.section("Person");
    let name = full_name([
        facts.person("/client/name", "/docFirstName"),
        facts.person("/client/surname", "/docLastName"),
    ]);
    page.row("Name", &name);
    for (label, pointer, fallback) in [
        ("Date of birth", "/client/date_of_birth", "/docDob"),
        ("Sex", "/client/sex", "/docSex"),
        ("Nationality", "/client/nationality", "/docNationality"),
        (
            "Personal code",
            "/client/personal_id_number",
            "/docPersonalCode",
        ),
    ] {
        page.row(label, &facts.person(pointer, fallback));
    }
    page.section("Document");
    for (label, pointer, fallback) in [
        ("Type", "/client/document_type", "/docType"),
        ("Number", "/client/document_number", "/docNumber"),
        ("Issuing country", "/client/country", "/docIssuingCountry"),
        ("Date of issue", "/client/date_of_issue", "/docDateOfIssue"),
        ("Expiry date", "/client/expiry_date", "/docExpiry"),
    ] {
        page.row(label, &facts.person(pointer, fallback));
    }
    page.row("Authority", &facts.data("/authority"));
    page.section("Timeline");
    page.row("Started", &facts.full("/start_time"));
    page.row("Finished", &facts.full("/finish_time"));
    page.row("Reviewed", &facts.full("/review_time"));
    page.section("Files");
    let files: Vec<&str> = fixture.files.iter().map(|kind| kind.as_str()).collect();
    page.row("Photos and videos", &files.join(", "));
    page
}

fn document_page(scan_ref: &str, facts: &Facts) -> Page {
    let mut page = Page::new("Document data", scan_ref, &facts.client_id());
    page.section("As read from the document, from the MRZ and by review");
    let (xs, width) = ([155.0, 285.0, 415.0], 122.0);
    for (x, heading) in xs.iter().zip(["Document", "MRZ", "Manual review"]) {
        page.words(*x, page.y + 11.0, BOLD, 9.0, heading);
    }
    page.y += ROW;
    for (label, field) in [
        ("First name", "name"),
        ("Surname", "surname"),
        ("Date of birth", "date_of_birth"),
        ("Sex", "sex"),
        ("Nationality", "nationality"),
        ("Personal code", "personal_code"),
        ("Document number", "document_number"),
        ("Document type", "document_type"),
        ("Country", "country"),
        ("Date of issue", "date_of_issue"),
        ("Expiry date", "expiry_date"),
    ] {
        let values =
            ["doc", "mrz", "manual"].map(|source| facts.document(&format!("{source}_{field}")));
        page.columns(label, &xs, width, &values);
    }
    page.row(
        "Licence categories",
        &facts.document("doc_license_categories"),
    );

    page.section("Machine-readable zone");
    let mrz: Vec<char> = facts.document("mrz_string").chars().collect();
    // An MRZ of the length of an ICAO 9303 format is set in its printed lines (TD1: 3 x 30,
    // TD2: 2 x 36, TD3: 2 x 44); any other is wrapped at the width, at most four lines.
    let line = match mrz.len() {
        90 => 30,
        72 => 36,
        88 => 44,
        _ => ((RIGHT - LEFT) / (MONO_ADVANCE * VALUE_SIZE)) as usize,
    };
    for (index, chunk) in mrz.chunks(line).enumerate().take(4) {
        let text: String = chunk.iter().collect();
        let text = if index == 3 && mrz.len() > 4 * line {
            format!("{text}…")
        } else {
            text
        };
        page.value(LEFT, page.y + 11.0, RIGHT - LEFT, &text);
        page.y += 12.0;
    }

    page.section("Other data");
    let printed = full_name([facts.data("/orgFirstName"), facts.data("/orgLastName")]);
    page.row("Name as printed", &printed);
    page.row("Birth place", &facts.data("/birthPlace"));
    page.row("Address", &facts.data("/address"));
    page.row("Driving licence", &facts.data("/driverLicenseCategory"));
    page.row("Selected country", &facts.data("/selectedCountry"));
    page.row(
        "Data changed by review",
        &facts.data("/manuallyDataChanged"),
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_reduced_to_what_the_fonts_show_and_cut_to_its_column() {
        assert_eq!(
            shown_text("ŠILUVA €5", 20),
            (b"\x8aILUVA \x805".to_vec(), false)
        );
        assert_eq!(shown_text("a\nb\tc", 20), (b"a b c".to_vec(), false));
        assert_eq!(shown_text("Иван\u{7}", 20), (b"?????".to_vec(), true));
        assert_eq!(shown_text("abcdef", 4), (b"abc\x85".to_vec(), false));
        assert_eq!(shown_text("abcd", 4), (b"abcd".to_vec(), false));
    }
}
