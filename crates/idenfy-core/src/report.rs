//! The identification report of `POST /api/v2/generate-pdf`: finding the PDF in the answer,
//! whatever of the plausible shapes it comes in, and refusing anything that is not a PDF.
//!
//! The vendor's page says only that a successful call returns "a pdf file in bytes64 format".
//! That fits three shapes, and all three are accepted (the repository README, "The report and
//! deletion", records the decision):
//!
//! - the PDF itself (`application/pdf`): the body starts with `%PDF-`;
//! - base64 text: the whole body (or a JSON string) is the PDF in base64, line breaks allowed;
//! - JSON holding base64: an object with exactly one of [`REPORT_JSON_KEYS`] holding the PDF in
//!   base64 (other keys are ignored; two of those keys at once is ambiguous and refused).
//!
//! Whatever the shape, the result must start with `%PDF-`; anything else is a
//! [`NotAPdf`] error, so a wrong answer can never be saved as a report.

use std::fmt;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use http::{Response, StatusCode};

use crate::credential_mask::CredentialMask;
use crate::error::Error;
use crate::response::retry_after_of;
use crate::response::{check_size, failure_of, looks_like_json};

/// The first bytes of every PDF file.
pub const PDF_MAGIC: &[u8] = b"%PDF-";

/// The default limit on a report answer: 64 MiB. A report of two pages with a few photos is
/// well under a megabyte; base64 adds a third.
pub const DEFAULT_MAX_REPORT_BYTES: usize = 64 * 1024 * 1024;

/// The JSON keys a report in base64 is looked for under: the names an API uses for a file's
/// content. An answer with none of them, or with more than one, is refused.
pub const REPORT_JSON_KEYS: [&str; 8] = [
    "pdf",
    "report",
    "file",
    "data",
    "content",
    "base64",
    "pdfBase64",
    "fileBase64",
];

/// How the API's answer carried the PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportShape {
    /// The body was the PDF itself.
    Raw,
    /// The body was the PDF in base64 (as text, or as one JSON string).
    Base64,
    /// The body was a JSON object with the PDF in base64 under this key.
    JsonBase64 {
        /// The key, one of [`REPORT_JSON_KEYS`].
        key: &'static str,
    },
}

impl fmt::Display for ReportShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportShape::Raw => f.write_str("the PDF itself"),
            ReportShape::Base64 => f.write_str("base64 text"),
            ReportShape::JsonBase64 { key } => write!(f, "base64 in the JSON key `{key}`"),
        }
    }
}

/// An identification report: the PDF's bytes, checked to start with `%PDF-`.
#[derive(Clone)]
#[non_exhaustive]
pub struct Report {
    /// The PDF file.
    pub pdf: Bytes,
    /// How the answer carried it.
    pub shape: ReportShape,
    /// How many attempts the call took; more than one means it was retried.
    pub attempts: u32,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The PDF holds personal data: its size only.
        f.debug_struct("Report")
            .field("pdf_len", &self.pdf.len())
            .field("shape", &self.shape)
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// A successful answer to `/generate-pdf` that holds no PDF, or not unambiguously.
///
/// Nothing of the body is shown: it may be the report, with personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the report answer (HTTP {status}, {len} bytes) holds no PDF: {reason}; nothing was saved")]
#[non_exhaustive]
pub struct NotAPdf {
    /// The HTTP status of the answer.
    pub status: StatusCode,
    /// Why the answer was refused.
    pub reason: NotAPdfReason,
    /// The body's length in bytes.
    pub len: usize,
}

/// Why an answer to `/generate-pdf` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotAPdfReason {
    /// The body is empty.
    Empty,
    /// The bytes (as sent, or decoded from base64 in this shape) do not start with `%PDF-`.
    NoPdfHeader(ReportShape),
    /// The body is neither a PDF, nor JSON, nor valid base64.
    NotBase64,
    /// The base64 under this JSON key (or in the JSON string, without one) is not valid.
    InvalidBase64InJson(Option<&'static str>),
    /// The JSON object has none of [`REPORT_JSON_KEYS`].
    NoReportKey,
    /// The JSON object has more than one of [`REPORT_JSON_KEYS`].
    AmbiguousKeys(Vec<&'static str>),
    /// The value under this key is not a string.
    NotAString(&'static str),
    /// The body is JSON, but neither an object nor a string.
    UnexpectedJson,
}

impl fmt::Display for NotAPdfReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAPdfReason::Empty => f.write_str("the body is empty"),
            NotAPdfReason::NoPdfHeader(shape) => {
                write!(f, "the body, read as {shape}, does not start with %PDF-")
            }
            NotAPdfReason::NotBase64 => {
                f.write_str("the body is neither a PDF, nor JSON, nor valid base64")
            }
            NotAPdfReason::InvalidBase64InJson(Some(key)) => {
                write!(f, "the JSON key `{key}` does not hold valid base64")
            }
            NotAPdfReason::InvalidBase64InJson(None) => {
                f.write_str("the JSON string is not valid base64")
            }
            NotAPdfReason::NoReportKey => write!(
                f,
                "the JSON object has none of the keys a report is looked for under ({})",
                REPORT_JSON_KEYS.join(", ")
            ),
            NotAPdfReason::AmbiguousKeys(keys) => write!(
                f,
                "the JSON object has several keys that could hold the report ({}), so which one does is a guess",
                keys.join(", ")
            ),
            NotAPdfReason::NotAString(key) => {
                write!(f, "the JSON key `{key}` does not hold a string")
            }
            NotAPdfReason::UnexpectedJson => {
                f.write_str("the body is JSON, but neither an object nor a string")
            }
        }
    }
}

/// Parses an answer of `/generate-pdf` into the report, or a typed error.
///
/// A success answer must carry a PDF in one of the shapes of [`ReportShape`]; any other
/// answer is the API's error (or an unexpected response), as for the lookups. Bodies over
/// `max_body_bytes` are refused.
///
/// ```
/// use idenfy_core::{parse_report, ReportShape};
/// let response = http::Response::builder()
///     .header("content-type", "application/json")
///     .body(r#"{"pdf":"JVBERi0xLjQK"}"#)?;
/// let report = parse_report(response, 1024)?;
/// assert_eq!(report.pdf.as_ref(), b"%PDF-1.4\n");
/// assert_eq!(report.shape, ReportShape::JsonBase64 { key: "pdf" });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_report<B: AsRef<[u8]>>(
    response: Response<B>,
    max_body_bytes: usize,
) -> Result<Report, Error> {
    // Without the credentials nothing can be masked here: the client masks its own.
    parse_report_masked(response, max_body_bytes, &CredentialMask::NONE)
}

/// [`parse_report`], with the server's strings in an API error masked with `mask` before
/// they are cut.
pub(crate) fn parse_report_masked<B: AsRef<[u8]>>(
    response: Response<B>,
    max_body_bytes: usize,
    mask: &CredentialMask,
) -> Result<Report, Error> {
    check_size(&response, max_body_bytes)?;
    let status = response.status();
    if !status.is_success() {
        return Err(failure_of(&response, retry_after_of(&response), mask));
    }
    let body = response.body().as_ref();
    let refuse = |reason| NotAPdf {
        status,
        reason,
        len: body.len(),
    };
    let (pdf, shape) = find_pdf(body).map_err(refuse)?;
    if !pdf.starts_with(PDF_MAGIC) {
        return Err(refuse(NotAPdfReason::NoPdfHeader(shape)).into());
    }
    Ok(Report {
        pdf,
        shape,
        attempts: 1,
    })
}

fn find_pdf(body: &[u8]) -> Result<(Bytes, ReportShape), NotAPdfReason> {
    if body.starts_with(PDF_MAGIC) {
        return Ok((Bytes::copy_from_slice(body), ReportShape::Raw));
    }
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Err(NotAPdfReason::Empty);
    }
    if looks_like_json(trimmed) || trimmed.starts_with(b"\"") {
        return from_json(trimmed);
    }
    let pdf = decode_base64(trimmed).ok_or(NotAPdfReason::NotBase64)?;
    Ok((pdf, ReportShape::Base64))
}

fn from_json(body: &[u8]) -> Result<(Bytes, ReportShape), NotAPdfReason> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| NotAPdfReason::UnexpectedJson)?;
    let object = match value {
        serde_json::Value::String(text) => {
            let pdf =
                decode_base64(text.as_bytes()).ok_or(NotAPdfReason::InvalidBase64InJson(None))?;
            return Ok((pdf, ReportShape::Base64));
        }
        serde_json::Value::Object(object) => object,
        _ => return Err(NotAPdfReason::UnexpectedJson),
    };
    let present: Vec<&'static str> = REPORT_JSON_KEYS
        .into_iter()
        .filter(|key| object.contains_key(*key))
        .collect();
    let key = match present.as_slice() {
        [] => return Err(NotAPdfReason::NoReportKey),
        [key] => *key,
        _ => return Err(NotAPdfReason::AmbiguousKeys(present)),
    };
    let text = object[key].as_str().ok_or(NotAPdfReason::NotAString(key))?;
    let pdf =
        decode_base64(text.as_bytes()).ok_or(NotAPdfReason::InvalidBase64InJson(Some(key)))?;
    Ok((pdf, ReportShape::JsonBase64 { key }))
}

const PADDING_OPTIONAL: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, PADDING_OPTIONAL);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, PADDING_OPTIONAL);

/// Decodes base64 in the standard or the URL-safe alphabet (they differ in two characters, so
/// at most one of them fits), with or without padding, ignoring line breaks and spaces as MIME
/// encoders insert them.
fn decode_base64(text: &[u8]) -> Option<Bytes> {
    let compact: Vec<u8> = text
        .iter()
        .copied()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return None;
    }
    STANDARD
        .decode(&compact)
        .or_else(|_| URL_SAFE.decode(&compact))
        .ok()
        .map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose;

    use super::*;

    const ENCODER: GeneralPurpose = general_purpose::STANDARD;

    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n";

    fn answer(content_type: &str, body: impl Into<Vec<u8>>) -> Response<Vec<u8>> {
        Response::builder()
            .header("content-type", content_type)
            .body(body.into())
            .unwrap()
    }

    fn parse(content_type: &str, body: impl Into<Vec<u8>>) -> Result<Report, Error> {
        parse_report(answer(content_type, body), 1 << 20)
    }

    fn refusal(result: Result<Report, Error>) -> NotAPdfReason {
        match result {
            Err(Error::NotAPdf(error)) => error.reason,
            other => panic!("expected NotAPdf, got {other:?}"),
        }
    }

    #[test]
    fn accepts_the_pdf_itself() {
        let report = parse("application/pdf", PDF).unwrap();
        assert_eq!(report.pdf.as_ref(), PDF);
        assert_eq!(report.shape, ReportShape::Raw);
    }

    #[test]
    fn accepts_base64_text_with_line_breaks_and_either_alphabet() {
        let encoded = ENCODER.encode(PDF);
        let wrapped: String = encoded
            .as_bytes()
            .chunks(10)
            .map(|chunk| format!("{}\r\n", std::str::from_utf8(chunk).unwrap()))
            .collect();
        for body in [
            encoded.clone(),
            wrapped,
            encoded.trim_end_matches('=').to_owned(),
        ] {
            let report = parse("text/plain", body).unwrap();
            assert_eq!(report.pdf.as_ref(), PDF);
            assert_eq!(report.shape, ReportShape::Base64);
        }
        let binary = b"%PDF-\xfb\xff\xfe";
        let url_safe = general_purpose::URL_SAFE.encode(binary);
        assert!(url_safe.contains(['-', '_']), "{url_safe}");
        assert_eq!(parse("text/plain", url_safe).unwrap().pdf.as_ref(), binary);
    }

    #[test]
    fn accepts_json_with_base64_under_one_known_key_or_as_a_string() {
        let encoded = ENCODER.encode(PDF);
        for key in REPORT_JSON_KEYS {
            let body = serde_json::json!({ key: encoded, "scanRef": "abc" }).to_string();
            let report = parse("application/json", body).unwrap();
            assert_eq!(report.pdf.as_ref(), PDF);
            assert_eq!(report.shape, ReportShape::JsonBase64 { key });
        }
        let report = parse("application/json", format!("\"{encoded}\"")).unwrap();
        assert_eq!(report.shape, ReportShape::Base64);
    }

    #[test]
    fn refuses_what_is_not_a_pdf_or_is_ambiguous() {
        let not_pdf = ENCODER.encode(b"<html>hello</html>");
        assert_eq!(
            refusal(parse("application/pdf", b"<html>oops</html>".to_vec())),
            NotAPdfReason::NotBase64
        );
        assert_eq!(
            refusal(parse("text/plain", not_pdf.clone())),
            NotAPdfReason::NoPdfHeader(ReportShape::Base64)
        );
        assert_eq!(
            refusal(parse(
                "application/json",
                format!(r#"{{"pdf":"{not_pdf}"}}"#)
            )),
            NotAPdfReason::NoPdfHeader(ReportShape::JsonBase64 { key: "pdf" })
        );
        let encoded = ENCODER.encode(PDF);
        assert_eq!(
            refusal(parse(
                "application/json",
                format!(r#"{{"pdf":"{encoded}","file":"{encoded}"}}"#)
            )),
            NotAPdfReason::AmbiguousKeys(vec!["pdf", "file"])
        );
        assert_eq!(
            refusal(parse("application/json", r#"{"status":"APPROVED"}"#)),
            NotAPdfReason::NoReportKey
        );
        assert_eq!(
            refusal(parse("application/json", r#"{"pdf":42}"#)),
            NotAPdfReason::NotAString("pdf")
        );
        assert_eq!(
            refusal(parse("application/json", r#"{"pdf":"not base64!"}"#)),
            NotAPdfReason::InvalidBase64InJson(Some("pdf"))
        );
        assert_eq!(
            refusal(parse("application/json", "[1]")),
            NotAPdfReason::UnexpectedJson
        );
        assert_eq!(
            refusal(parse("application/pdf", "  \n")),
            NotAPdfReason::Empty
        );
        // A PDF header further in is not a PDF file.
        assert_eq!(
            refusal(parse("application/pdf", b" %PDF-1.4".to_vec())),
            NotAPdfReason::NotBase64
        );
    }

    #[test]
    fn the_refusal_shows_nothing_of_the_body() {
        let secret = ENCODER.encode(b"TESTAS PAVYZDYS 39003150000");
        let error = parse("application/json", format!(r#"{{"pdf":"{secret}"}}"#)).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains(&secret) && !shown.contains("TESTAS"),
            "{shown}"
        );
    }

    #[test]
    fn error_answers_are_the_apis_errors() {
        let response = Response::builder()
            .status(404)
            .header("content-type", "application/json")
            .body(br#"{"identifier":"NOT_FOUND","message":"No such scanRef."}"#.to_vec())
            .unwrap();
        assert!(matches!(
            parse_report(response, 1024),
            Err(Error::Api(api)) if api.status == 404
        ));
        assert!(matches!(
            parse_report(answer("application/pdf", PDF), 8),
            Err(Error::BodyTooLarge(_))
        ));
    }
}
