//! The identification report `/generate-pdf` serves: one or two A4 pages with the
//! identification's key facts as text, written with `pdf-writer` in the standard Type 1 fonts
//! (Helvetica for the report's own words, Courier for the fixture's values), which every PDF
//! reader has, so nothing is embedded.
//!
//! Page 1 holds the overall status, the automatic and manual checks, the person, the document,
//! the timeline and the files the identification has; page 2, when the document was read, its
//! fields as read from the document, from the MRZ and by the reviewer, side by side. Each page is
//! a table of labels and JSON pointers into the fixture's `/status`, `/data` and `/full-status`
//! answers, raw ones included when they are JSON objects. Fixtures are written by users, so every
//! value is read defensively, reduced to what the font can show and cut to its column (Courier's
//! glyphs are all 0.6 em wide, so the cut is exact): a page never overflows, whatever the fixture
//! says. The bytes depend on the fixture only (no clock, no random numbers), so the same scanRef
//! always gives the same file.

use idenfy_core::Endpoint;
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};
use serde_json::{Value, json};

use crate::fixtures::{Fixtures, Prepared};

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

/// One line of a page's table. A value is given as JSON pointers into the facts (`/scanRef`,
/// `/status`, `/data`, `/full`, its `/client` and `/document`, `/files`): parts separated by
/// spaces, joined by a space when shown, each part the first present of its `|`-separated
/// pointers.
enum Line {
    /// A section's title and rule.
    Section(&'static str),
    /// Column headings, each with the start of its pointers, the first at `x` and each next
    /// one `step` further; the [`Line::Columned`] rows that follow fill these columns.
    Columns(&'static [(&'static str, &'static str)], f32, f32),
    /// A label and the value at these pointers, across the row.
    Row(&'static str, &'static str),
    /// A label and, in each column, the value at the column's pointer start and this end.
    Columned(&'static str, &'static str),
    /// The machine-readable zone, set in its printed lines.
    Mrz,
}

use Line::{Columned, Columns, Mrz, Row, Section};

const HEADER: &[Line] = &[
    Row("scanRef", "/scanRef"),
    Row("Client ID", "/status/clientId|/data/clientId"),
];

const SUMMARY: &[Line] = &[
    Row("Overall status", "/status/status"),
    Section("Verification"),
    Columns(
        &[("Automatic", "/full/"), ("Manual review", "/full/manual_")],
        VALUE_X,
        190.0,
    ),
    Columned("Face", "face_match_result"),
    Columned("Document", "document_validity"),
    Row("Suspicion reasons", "/full/suspection_reasons"),
    Row("Attempts", "/full/attempt_count"),
    Section("Person"),
    Row(
        "Name",
        "/client/name|/data/docFirstName /client/surname|/data/docLastName",
    ),
    Row("Date of birth", "/client/date_of_birth|/data/docDob"),
    Row("Sex", "/client/sex|/data/docSex"),
    Row("Nationality", "/client/nationality|/data/docNationality"),
    Row(
        "Personal code",
        "/client/personal_id_number|/data/docPersonalCode",
    ),
    Section("Document"),
    Row("Type", "/client/document_type|/data/docType"),
    Row("Number", "/client/document_number|/data/docNumber"),
    Row("Issuing country", "/client/country|/data/docIssuingCountry"),
    Row(
        "Date of issue",
        "/client/date_of_issue|/data/docDateOfIssue",
    ),
    Row("Expiry date", "/client/expiry_date|/data/docExpiry"),
    Row("Authority", "/data/authority"),
    Section("Timeline"),
    Row("Started", "/full/start_time"),
    Row("Finished", "/full/finish_time"),
    Row("Reviewed", "/full/review_time"),
    Section("Files"),
    Row("Photos and videos", "/files"),
];

const DOCUMENT_DATA: &[Line] = &[
    Section("As read from the document, from the MRZ and by review"),
    Columns(
        &[
            ("Document", "/document/doc_"),
            ("MRZ", "/document/mrz_"),
            ("Manual review", "/document/manual_"),
        ],
        155.0,
        130.0,
    ),
    Columned("First name", "name"),
    Columned("Surname", "surname"),
    Columned("Date of birth", "date_of_birth"),
    Columned("Sex", "sex"),
    Columned("Nationality", "nationality"),
    Columned("Personal code", "personal_code"),
    Columned("Document number", "document_number"),
    Columned("Document type", "document_type"),
    Columned("Country", "country"),
    Columned("Date of issue", "date_of_issue"),
    Columned("Expiry date", "expiry_date"),
    Row("Licence categories", "/document/doc_license_categories"),
    Section("Machine-readable zone"),
    Mrz,
    Section("Other data"),
    Row("Name as printed", "/data/orgFirstName /data/orgLastName"),
    Row("Birth place", "/data/birthPlace"),
    Row("Address", "/data/address"),
    Row("Driving licence", "/data/driverLicenseCategory"),
    Row("Selected country", "/data/selectedCountry"),
    Row("Data changed by review", "/data/manuallyDataChanged"),
];

/// The identification report the sandbox serves for `scan_ref` from
/// `POST /api/v2/generate-pdf`: a PDF of one or two A4 pages with the overall status, the
/// automatic and manual checks, the person's and the document's data, and the files the
/// identification has. `None` when no fixture has this scanRef. The same fixture always gives
/// the same bytes.
pub fn identification_report(fixtures: &Fixtures, scan_ref: &str) -> Option<Vec<u8>> {
    let fixture = fixtures.get(scan_ref)?;
    // Each answer, `Null` when the fixture has none that is a JSON object.
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
    let full = answer(Endpoint::FullStatus);
    let facts = json!({
        "scanRef": scan_ref,
        "status": answer(Endpoint::Status),
        "data": answer(Endpoint::Data),
        "client": full.get("client"),
        "document": full.get("client_identity_document"),
        "full": full,
        "files": fixture.files.iter().map(|kind| kind.as_str()).collect::<Vec<_>>(),
    });
    // The document's page, once its fields hold anything (not before the client has sent a
    // photo, nor for an expired session).
    let document_was_read = facts["document"]
        .as_object()
        .is_some_and(|document| document.values().any(is_present));
    let mut pages = vec![Page::new("Identification report", SUMMARY, &facts)];
    if document_was_read {
        pages.push(Page::new("Document data", DOCUMENT_DATA, &facts));
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
    // The pages inherit the page tree's media box and fonts.
    let mut tree_writer = pdf.pages(tree);
    tree_writer
        .kids(kids.iter().copied())
        .count(count as i32)
        .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
    tree_writer
        .resources()
        .fonts()
        .pairs(fonts.map(|(name, font, _)| (name, font)));
    drop(tree_writer);
    for (index, mut page) in pages.into_iter().enumerate() {
        page.footer(index + 1, count, substituted);
        let (id, contents) = (kids[index], Ref::new(8 + 2 * index as i32));
        pdf.page(id).parent(tree).contents(contents);
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

fn is_present(value: &Value) -> bool {
    !matches!(value, Value::Null) && value.as_str() != Some("")
}

/// The first present value as text, or [`NONE`]. Lists show at most 20 items.
fn shown<'a>(candidates: impl IntoIterator<Item = Option<&'a Value>>) -> String {
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

/// The text of a value given as pointers (see [`Line`]): the parts that are present, joined
/// by a space; [`NONE`] when none is.
fn value(facts: &Value, pointers: &str) -> String {
    let parts: Vec<String> = pointers
        .split(' ')
        .map(|part| shown(part.split('|').map(|pointer| facts.pointer(pointer))))
        .filter(|part| part != NONE)
        .collect();
    if parts.is_empty() {
        NONE.to_owned()
    } else {
        parts.join(" ")
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
    /// The current columns: their pointers' starts, where the first is and how far apart.
    columns: (&'static [(&'static str, &'static str)], f32, f32),
}

impl Page {
    /// A page with the band, the title and the scanRef every page starts with, then `lines`.
    fn new(title: &str, lines: &[Line], facts: &Value) -> Self {
        let mut page = Page {
            content: Content::new(),
            y: 0.0,
            substituted: false,
            columns: (&[], VALUE_X, 0.0),
        };
        page.content
            .set_fill_rgb(0.12, 0.22, 0.36)
            .rect(0.0, PAGE_HEIGHT - 8.0, PAGE_WIDTH, 8.0)
            .fill_nonzero();
        page.words(LEFT, 58.0, BOLD, 20.0, title);
        page.y = 70.0;
        page.lines(HEADER, facts);
        page.y += 10.0;
        page.lines(lines, facts);
        page
    }

    fn lines(&mut self, lines: &[Line], facts: &Value) {
        for line in lines {
            match line {
                Section(title) => {
                    self.y += 12.0;
                    self.words(LEFT, self.y + 13.0, BOLD, 12.0, title);
                    self.rule(self.y + 19.0);
                    self.y += 24.0;
                }
                Columns(headings, x, step) => {
                    self.columns = (headings, *x, *step);
                    for (index, (heading, _)) in headings.iter().enumerate() {
                        let x = x + step * index as f32;
                        self.words(x, self.y + 11.0, BOLD, 9.0, heading);
                    }
                    self.y += ROW;
                }
                Row(label, pointers) => {
                    let value = value(facts, pointers);
                    self.words(LEFT, self.y + 11.0, BOLD, 9.0, label);
                    self.value(VALUE_X, self.y + 11.0, RIGHT - VALUE_X, &value);
                    self.y += ROW;
                }
                Columned(label, end) => {
                    let (headings, first, step) = self.columns;
                    self.words(LEFT, self.y + 11.0, BOLD, 9.0, label);
                    for (index, (_, start)) in headings.iter().enumerate() {
                        let value = value(facts, &format!("{start}{end}"));
                        let x = first + step * index as f32;
                        self.value(x, self.y + 11.0, step - 8.0, &value);
                    }
                    self.y += ROW;
                }
                Mrz => self.mrz(&value(facts, "/document/mrz_string")),
            }
        }
    }

    /// An MRZ of the length of an ICAO 9303 format is set in its printed lines (TD1: 3 x 30,
    /// TD2: 2 x 36, TD3: 2 x 44); any other is wrapped at the width, at most four lines.
    fn mrz(&mut self, mrz: &str) {
        let mrz: Vec<char> = mrz.chars().collect();
        let line = match mrz.len() {
            90 => 30,
            72 => 36,
            88 => 44,
            _ => ((RIGHT - LEFT) / (MONO_ADVANCE * VALUE_SIZE)) as usize,
        };
        for (index, chunk) in mrz.chunks(line).enumerate().take(4) {
            let mut text: String = chunk.iter().collect();
            if index == 3 && mrz.len() > 4 * line {
                text.push('…');
            }
            self.value(LEFT, self.y + 11.0, RIGHT - LEFT, &text);
            self.y += 12.0;
        }
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
