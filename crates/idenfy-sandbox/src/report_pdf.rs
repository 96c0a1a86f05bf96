//! The identification report `/generate-pdf` serves: a PDF 1.4 of one or two
//! A4 pages with the identification's key facts and its face and document
//! photos, written by hand like the sandbox's pictures and videos.
//!
//! Page 1 holds the overall status, the photos, the automatic and manual
//! checks, the person, the document and the timeline; page 2, when the
//! document was read, its fields as read from the document, from the MRZ and
//! by the reviewer, side by side. Values come from the fixture's `/status`,
//! `/data` and `/full-status` answers, raw ones included when they are JSON
//! objects. Fixtures are written by users, so every value is read
//! defensively and cut to its column: a page never overflows, whatever the
//! fixture says. The bytes depend on the fixture only (no clock, no random
//! numbers), so the same scanRef always gives the same file.

mod canvas;
mod png_image;
mod text;
mod writer;

use serde_json::Value;

use crate::endpoint::Endpoint;
use crate::fixtures::{Fixture, Fixtures, Prepared};
use crate::media::{self, FileKind};
use canvas::{Canvas, Colour};
use text::{Font, Line};
use writer::{ObjectId, PdfWriter};

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const LEFT: f32 = 50.0;
const RIGHT: f32 = PAGE_WIDTH - 50.0;
/// Where values start in label-value rows.
const VALUE_X: f32 = 170.0;
/// Where the manual review's results start in the verification table.
const MANUAL_X: f32 = 360.0;
const ROW: f32 = 15.0;
const BODY_SIZE: f32 = 10.0;
const LABEL_SIZE: f32 = 9.0;
/// Shown for a value that is absent, null or empty.
const NONE: &str = "\u{2013}";

const INK: Colour = [0.13, 0.15, 0.18];
const MUTED: Colour = [0.42, 0.45, 0.5];
const HAIRLINE: Colour = [0.8, 0.82, 0.85];
const SHADE: Colour = [0.95, 0.96, 0.97];
const BAND: Colour = [0.12, 0.22, 0.36];
const WHITE: Colour = [1.0, 1.0, 1.0];
const GREEN: Colour = [0.13, 0.5, 0.29];
const RED: Colour = [0.72, 0.16, 0.16];
const AMBER: Colour = [0.8, 0.47, 0.04];
const SLATE: Colour = [0.4, 0.45, 0.52];

/// The identification report the sandbox serves for `scan_ref` from
/// `POST /api/v2/generate-pdf`: a PDF of one or two A4 pages with the
/// overall status, the automatic and manual checks, the person's and the
/// document's data, and the face and document-front photos that `/files`
/// serves. `None` when no fixture has this scanRef. The same fixture always
/// gives the same bytes.
pub fn identification_report(fixtures: &Fixtures, scan_ref: &str) -> Option<Vec<u8>> {
    let fixture = fixtures.get(scan_ref)?;
    let photo = |kind: FileKind| {
        fixture
            .files
            .contains(&kind)
            .then(|| media::render(&kind, scan_ref, fixture.video_bytes))
    };
    let (face, front) = (photo(FileKind::Face), photo(FileKind::Front));
    Some(report(
        scan_ref,
        fixture,
        &ReportImages {
            face: face.as_deref(),
            document_front: front.as_deref(),
        },
    ))
}

/// The PNG files of the photos the report shows, when the identification has them.
pub(crate) struct ReportImages<'a> {
    pub face: Option<&'a [u8]>,
    pub document_front: Option<&'a [u8]>,
}

/// The report of `fixture`, known as `scan_ref`, as PDF bytes.
pub(crate) fn report(scan_ref: &str, fixture: &Fixture, images: &ReportImages<'_>) -> Vec<u8> {
    let facts = Facts::of(fixture);
    let mut writer = PdfWriter::new();
    let catalog = writer.reserve();
    let page_tree = writer.reserve();
    let info = writer.reserve();
    let mut resources = String::from("<< /Font <<");
    for font in Font::ALL {
        let id = writer.reserve();
        writer.object(
            id,
            &format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>",
                font.base_font()
            ),
        );
        resources.push_str(&format!(" /{} {id}", font.resource_name()));
    }
    let face = embed(&mut writer, "Face", images.face);
    let front = embed(&mut writer, "Front", images.document_front);
    resources.push_str(" >> /XObject <<");
    for photo in face.iter().chain(&front) {
        resources.push_str(&format!(" /{} {}", photo.resource, photo.id));
    }
    resources.push_str(" >> /ProcSet [/PDF /Text /ImageC] >>");

    let mut pages = vec![summary_page(
        scan_ref,
        &facts,
        face.as_ref(),
        front.as_ref(),
    )];
    if facts.document_was_read() {
        pages.push(document_page(scan_ref, &facts));
    }
    let count = pages.len();
    let substituted = pages.iter().any(Canvas::substituted);
    let mut kids = Vec::with_capacity(count);
    for (index, mut canvas) in pages.into_iter().enumerate() {
        footer(&mut canvas, index + 1, count, substituted);
        let (page, contents) = (writer.reserve(), writer.reserve());
        writer.stream(contents, "", &[&canvas.into_bytes()]);
        writer.object(
            page,
            &format!(
                "<< /Type /Page /Parent {page_tree} /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources {resources} /Contents {contents} >>"
            ),
        );
        kids.push(page.to_string());
    }
    writer.object(
        page_tree,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {count} >>",
            kids.join(" ")
        ),
    );
    writer.object(catalog, &format!("<< /Type /Catalog /Pages {page_tree} >>"));
    let title = writer::text_string(&format!("Identification report {scan_ref}"));
    writer.object(
        info,
        &format!("<< /Title {title} /Producer (idenfy-sandbox) >>"),
    );
    writer.finish(catalog, info)
}

/// A photo written as an image XObject.
struct Photo {
    resource: &'static str,
    id: ObjectId,
    width: u32,
    height: u32,
}

fn embed(writer: &mut PdfWriter, resource: &'static str, png: Option<&[u8]>) -> Option<Photo> {
    let image = match png_image::parse(png?) {
        Ok(image) => image,
        Err(refusal) => {
            // The sandbox renders these itself, so this is its own bug; the
            // report says the photo is missing rather than failing.
            tracing::warn!(%refusal, photo = resource, "report: photo left out");
            return None;
        }
    };
    let id = writer.reserve();
    let (width, height) = (image.width, image.height);
    writer.stream(
        id,
        &format!(
            "/Type /XObject /Subtype /Image /Width {width} /Height {height} \
             /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode \
             /DecodeParms << /Predictor 15 /Colors 3 /BitsPerComponent 8 /Columns {width} >>"
        ),
        &image.data,
    );
    Some(Photo {
        resource,
        id,
        width,
        height,
    })
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
            .get("client_identity_document")
            .and_then(|document| document.get(key))])
    }

    /// Whether the document's fields hold anything (not before the client
    /// has sent a photo, nor for an expired session).
    fn document_was_read(&self) -> bool {
        self.full
            .get("client_identity_document")
            .and_then(Value::as_object)
            .is_some_and(|document| document.values().any(is_present))
    }

    /// First name and surname, from `/full-status` or else `/data`.
    fn name(&self) -> String {
        full_name(
            self.person("/client/name", "/docFirstName"),
            self.person("/client/surname", "/docLastName"),
        )
    }
}

/// The parts that are present, joined by a space; [`NONE`] when neither is.
fn full_name(first: String, last: String) -> String {
    match (first.as_str(), last.as_str()) {
        (NONE, NONE) => NONE.to_owned(),
        (NONE, _) => last,
        (_, NONE) => first,
        _ => format!("{first} {last}"),
    }
}

fn is_present(value: &Value) -> bool {
    !matches!(value, Value::Null) && value.as_str() != Some("")
}

/// The first present value as text, or [`NONE`].
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

fn label(canvas: &mut Canvas, x: f32, baseline: f32, text: &str, max_width: f32) {
    canvas.text(
        x,
        baseline,
        &Line::fit(text, Font::Bold, LABEL_SIZE, max_width),
        MUTED,
    );
}

fn value(canvas: &mut Canvas, x: f32, baseline: f32, text: &str, max_width: f32, colour: Colour) {
    let colour = if text == NONE { MUTED } else { colour };
    canvas.text(
        x,
        baseline,
        &Line::fit(text, Font::Regular, BODY_SIZE, max_width),
        colour,
    );
}

/// A titled section with a rule under the title; returns where its rows start.
fn section(canvas: &mut Canvas, top: f32, title: &str) -> f32 {
    canvas.text(
        LEFT,
        top + 13.0,
        &Line::fit(title, Font::Bold, 12.0, RIGHT - LEFT),
        BAND,
    );
    canvas.rule(LEFT, RIGHT, top + 19.0, HAIRLINE);
    top + 24.0
}

/// Label-value rows; returns where the next section starts.
fn rows(canvas: &mut Canvas, top: f32, entries: &[(&str, String)]) -> f32 {
    let mut y = top;
    for (name, text) in entries {
        label(canvas, LEFT, y + 11.0, name, VALUE_X - LEFT - 8.0);
        value(canvas, VALUE_X, y + 11.0, text, RIGHT - VALUE_X, INK);
        y += ROW;
    }
    y + 12.0
}

/// The band, title and scanRef every page starts with.
fn page_header(canvas: &mut Canvas, title: &str, scan_ref: &str, client_id: &str) {
    canvas.fill_rect(0.0, 0.0, PAGE_WIDTH, 8.0, BAND);
    canvas.text(LEFT, 58.0, &Line::fit(title, Font::Bold, 20.0, 330.0), INK);
    label(canvas, LEFT, 82.0, "scanRef", 60.0);
    value(canvas, LEFT + 56.0, 82.0, scan_ref, 280.0, INK);
    label(canvas, LEFT, 97.0, "Client ID", 60.0);
    value(canvas, LEFT + 56.0, 97.0, client_id, 280.0, INK);
    canvas.rule(LEFT, RIGHT, 112.0, HAIRLINE);
}

fn summary_page(
    scan_ref: &str,
    facts: &Facts,
    face: Option<&Photo>,
    front: Option<&Photo>,
) -> Canvas {
    let mut page = Canvas::new(PAGE_HEIGHT);
    let client_id = shown([facts.status.get("clientId"), facts.data.get("clientId")]);
    page_header(&mut page, "Identification report", scan_ref, &client_id);

    let status = shown([facts.status.get("status")]);
    let badge = match status.as_str() {
        "APPROVED" => GREEN,
        "DENIED" => RED,
        "SUSPECTED" => AMBER,
        _ => SLATE,
    };
    page.fill_rect(RIGHT - 150.0, 40.0, 150.0, 50.0, badge);
    badge_caption(&mut page, RIGHT - 138.0, 56.0, "OVERALL STATUS");
    page.text(
        RIGHT - 138.0,
        79.0,
        &Line::fit(&status, Font::Regular, 16.0, 126.0),
        WHITE,
    );

    // Face 4:5 and document front about 1.58:1, side by side and centred.
    let (photo_top, photo_height) = (126.0, 170.0);
    let (face_width, front_width, gap) = (136.0, 269.0, 20.0);
    let face_x = LEFT + (RIGHT - LEFT - face_width - gap - front_width) / 2.0;
    let front_x = face_x + face_width + gap;
    photo_frame(
        &mut page,
        face,
        face_x,
        photo_top,
        face_width,
        photo_height,
        "Face photo",
    );
    photo_frame(
        &mut page,
        front,
        front_x,
        photo_top,
        front_width,
        photo_height,
        "Document front",
    );

    let mut y = section(&mut page, 330.0, "Verification");
    label(
        &mut page,
        VALUE_X,
        y + 11.0,
        "Automatic",
        MANUAL_X - VALUE_X - 8.0,
    );
    label(
        &mut page,
        MANUAL_X,
        y + 11.0,
        "Manual review",
        RIGHT - MANUAL_X,
    );
    y += ROW;
    for (name, automatic, manual) in [
        ("Face", "/face_match_result", "/manual_face_match_result"),
        (
            "Document",
            "/document_validity",
            "/manual_document_validity",
        ),
    ] {
        label(&mut page, LEFT, y + 11.0, name, VALUE_X - LEFT - 8.0);
        for (x, pointer, width) in [
            (VALUE_X, automatic, MANUAL_X - VALUE_X - 8.0),
            (MANUAL_X, manual, RIGHT - MANUAL_X),
        ] {
            let result = facts.full(pointer);
            value(
                &mut page,
                x,
                y + 11.0,
                &result,
                width,
                verdict_colour(&result),
            );
        }
        y += ROW;
    }
    y = rows(
        &mut page,
        y,
        &[
            ("Suspicion reasons", facts.full("/suspection_reasons")),
            ("Attempts", facts.full("/attempt_count")),
        ],
    );
    y = section(&mut page, y, "Person");
    y = rows(
        &mut page,
        y,
        &[
            ("Name", facts.name()),
            (
                "Date of birth",
                facts.person("/client/date_of_birth", "/docDob"),
            ),
            ("Sex", facts.person("/client/sex", "/docSex")),
            (
                "Nationality",
                facts.person("/client/nationality", "/docNationality"),
            ),
            (
                "Personal code",
                facts.person("/client/personal_id_number", "/docPersonalCode"),
            ),
        ],
    );
    y = section(&mut page, y, "Document");
    y = rows(
        &mut page,
        y,
        &[
            ("Type", facts.person("/client/document_type", "/docType")),
            (
                "Number",
                facts.person("/client/document_number", "/docNumber"),
            ),
            (
                "Issuing country",
                facts.person("/client/country", "/docIssuingCountry"),
            ),
            (
                "Date of issue",
                facts.person("/client/date_of_issue", "/docDateOfIssue"),
            ),
            (
                "Expiry date",
                facts.person("/client/expiry_date", "/docExpiry"),
            ),
            ("Authority", facts.data("/authority")),
        ],
    );
    y = section(&mut page, y, "Timeline");
    rows(
        &mut page,
        y,
        &[
            ("Started", facts.full("/start_time")),
            ("Finished", facts.full("/finish_time")),
            ("Reviewed", facts.full("/review_time")),
        ],
    );
    page
}

fn badge_caption(canvas: &mut Canvas, x: f32, baseline: f32, text: &str) {
    canvas.text(x, baseline, &Line::fit(text, Font::Bold, 7.0, 126.0), WHITE);
}

/// Green for the results that mean a check passed; everything else is
/// shown as it is, without guessing how bad it is.
fn verdict_colour(result: &str) -> Colour {
    match result {
        "FACE_MATCH" | "DOC_VALIDATED" => GREEN,
        _ => INK,
    }
}

fn photo_frame(
    canvas: &mut Canvas,
    photo: Option<&Photo>,
    x: f32,
    top: f32,
    width: f32,
    height: f32,
    caption: &str,
) {
    canvas.fill_rect(x, top, width, height, SHADE);
    match photo {
        Some(photo) => {
            let scale = (width / photo.width as f32).min(height / photo.height as f32);
            let (w, h) = (photo.width as f32 * scale, photo.height as f32 * scale);
            canvas.image(
                photo.resource,
                x + (width - w) / 2.0,
                top + (height - h) / 2.0,
                w,
                h,
            );
        }
        None => {
            let line = Line::fit("No photo", Font::Regular, BODY_SIZE, width - 8.0);
            canvas.text(
                x + (width - line.width()) / 2.0,
                top + height / 2.0 + 3.0,
                &line,
                MUTED,
            );
        }
    }
    canvas.stroke_rect(x, top, width, height, HAIRLINE);
    let line = Line::fit(caption, Font::Regular, 8.0, width);
    canvas.text(x, top + height + 12.0, &line, MUTED);
}

fn document_page(scan_ref: &str, facts: &Facts) -> Canvas {
    let mut page = Canvas::new(PAGE_HEIGHT);
    let client_id = shown([facts.status.get("clientId"), facts.data.get("clientId")]);
    page_header(&mut page, "Document data", scan_ref, &client_id);

    let columns = [155.0, 285.0, 415.0];
    let column_width = 122.0;
    let mut y = section(
        &mut page,
        130.0,
        "As read from the document, from the MRZ and by review",
    );
    for (x, heading) in columns
        .into_iter()
        .zip(["Document", "MRZ", "Manual review"])
    {
        label(&mut page, x, y + 11.0, heading, column_width);
    }
    y += ROW;
    let fields: [(&str, [&str; 3]); 12] = [
        ("First name", ["doc_name", "mrz_name", "manual_name"]),
        ("Surname", ["doc_surname", "mrz_surname", "manual_surname"]),
        (
            "Date of birth",
            [
                "doc_date_of_birth",
                "mrz_date_of_birth",
                "manual_date_of_birth",
            ],
        ),
        ("Sex", ["doc_sex", "mrz_sex", "manual_sex"]),
        (
            "Nationality",
            ["doc_nationality", "mrz_nationality", "manual_nationality"],
        ),
        (
            "Personal code",
            [
                "doc_personal_code",
                "mrz_personal_code",
                "manual_personal_code",
            ],
        ),
        (
            "Document number",
            [
                "doc_document_number",
                "mrz_document_number",
                "manual_document_number",
            ],
        ),
        (
            "Document type",
            [
                "doc_document_type",
                "mrz_document_type",
                "manual_document_type",
            ],
        ),
        ("Country", ["doc_country", "mrz_country", "manual_country"]),
        (
            "Date of issue",
            [
                "doc_date_of_issue",
                "mrz_date_of_issue",
                "manual_date_of_issue",
            ],
        ),
        (
            "Expiry date",
            ["doc_expiry_date", "mrz_expiry_date", "manual_expiry_date"],
        ),
        ("Licence categories", ["doc_license_categories", "", ""]),
    ];
    for (index, (name, keys)) in fields.iter().enumerate() {
        if index % 2 == 0 {
            page.fill_rect(LEFT, y, RIGHT - LEFT, ROW, SHADE);
        }
        label(
            &mut page,
            LEFT + 4.0,
            y + 11.0,
            name,
            columns[0] - LEFT - 10.0,
        );
        for (x, key) in columns.into_iter().zip(keys) {
            let text = if key.is_empty() {
                NONE.to_owned()
            } else {
                facts.document(key)
            };
            value(&mut page, x, y + 11.0, &text, column_width, INK);
        }
        y += ROW;
    }

    y = section(&mut page, y + 12.0, "Machine-readable zone");
    let mrz = facts.document("mrz_string");
    let mrz_size = 9.5;
    // An MRZ of the length of an ICAO 9303 format is broken into its printed
    // lines (Courier advances 0.6 of its size, plus a margin for rounding);
    // any other text is wrapped at the width.
    let mrz_width = match mrz.chars().count() {
        90 => 30.0 * 0.6 * mrz_size + 1.0,
        72 => 36.0 * 0.6 * mrz_size + 1.0,
        88 => 44.0 * 0.6 * mrz_size + 1.0,
        _ => RIGHT - LEFT - 16.0,
    };
    let lines = Line::wrap(&mrz, Font::Mono, mrz_size, mrz_width, 4);
    let box_height = 12.0 * lines.len().max(1) as f32 + 10.0;
    page.fill_rect(LEFT, y + 2.0, RIGHT - LEFT, box_height, SHADE);
    for (index, line) in lines.iter().enumerate() {
        let colour = if mrz == NONE { MUTED } else { INK };
        page.text(LEFT + 8.0, y + 16.0 + 12.0 * index as f32, line, colour);
    }
    y += box_height + 14.0;

    y = section(&mut page, y, "Other data");
    let printed_name = full_name(facts.data("/orgFirstName"), facts.data("/orgLastName"));
    rows(
        &mut page,
        y,
        &[
            ("Name as printed", printed_name),
            ("Birth place", facts.data("/birthPlace")),
            ("Address", facts.data("/address")),
            ("Driving licence", facts.data("/driverLicenseCategory")),
            ("Selected country", facts.data("/selectedCountry")),
            ("Data changed by review", facts.data("/manuallyDataChanged")),
        ],
    );
    page
}

fn footer(canvas: &mut Canvas, number: usize, count: usize, substituted: bool) {
    let top = PAGE_HEIGHT - 44.0;
    canvas.rule(LEFT, RIGHT, top, HAIRLINE);
    let note = "Generated by idenfy-sandbox from its fixtures: not a document issued by iDenfy.";
    canvas.text(
        LEFT,
        top + 14.0,
        &Line::fit(note, Font::Regular, 8.0, 400.0),
        MUTED,
    );
    if substituted {
        let note = "? stands for a character this report's font cannot show.";
        canvas.text(
            LEFT,
            top + 25.0,
            &Line::fit(note, Font::Regular, 8.0, 400.0),
            MUTED,
        );
    }
    let page = Line::fit(
        &format!("Page {number} of {count}"),
        Font::Regular,
        8.0,
        80.0,
    );
    canvas.text(RIGHT - page.width(), top + 14.0, &page, MUTED);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::png::RgbImage;

    #[test]
    fn a_photo_that_cannot_be_embedded_is_left_out_and_said_to_be_missing() {
        let fixtures = Fixtures::builtin();
        let fixture = fixtures.get(crate::scan_refs::APPROVED).unwrap();
        let front = RgbImage::filled(8, 5, [1, 2, 3]).encode_png();
        let pdf = report(
            crate::scan_refs::APPROVED,
            fixture,
            &ReportImages {
                face: Some(b"GIF89a, not a PNG"),
                document_front: Some(&front),
            },
        );
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(text.matches("/Subtype /Image").count(), 1);
        assert!(
            text.contains("/XObject << /Front "),
            "the front photo is a resource"
        );
        assert!(
            !text.contains("/Face "),
            "no resource for the refused face photo"
        );
        assert_eq!(text.matches("(No photo) Tj").count(), 1);
    }
}
