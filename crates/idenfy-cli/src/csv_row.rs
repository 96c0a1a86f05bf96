//! The `csv` format: a header, then one row per scanRef, for spreadsheets.
//!
//! The columns are the key facts the table shows for the endpoint ([`crate::lookup::table`]), with the
//! scanRef first and `error` last (empty when the lookup succeeded), the same for every
//! identification and from one version to the next:
//!
//! | endpoint | columns |
//! |---|---|
//! | `status` | scanRef, status, clientId, error |
//! | `data` | scanRef, clientId, name, document, issuing country, nationality, date of birth, expires, selected country, manually changed, error |
//! | `files` | scanRef, FRONT, BACK, FACE, FRONT_VIDEO, BACK_VIDEO, FACE_VIDEO, other kinds, error |
//! | `full-status` | scanRef, face (auto), face (manual), document (auto), document (manual), suspicion reasons, name, document, country, attempts, started, finished, reviewed, error |
//!
//! (`full-status` has no overall status: that is `/status`'s, export it with `status`.)
//!
//! Quoting is RFC 4180's, by the `csv` crate; rows end with CRLF. Every value is the server's
//! text with its control characters escaped (`\n`, `\u{1b}`), as in the table, so that a row
//! is one line. A spreadsheet must never run a cell as a formula: a value that starts with `=`,
//! `+`, `-`, `@`, a tab or a carriage return gets a `'` in front (OWASP's advice against CSV
//! injection), which spreadsheets show as text.

use idenfy_hyper::core::{Endpoint, escape_controls};
use idenfy_hyper::models::{FileUrls, FullStatus, IdentificationData, IdentificationStatus};
use idenfy_hyper::{Error, ScanRef};

use crate::lookup::table::{self, OtherKinds, Rows};
use crate::result_line::{NotOurs, Written};

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// What a value that could be a formula is prefixed with.
const TEXT_MARK: char = '\'';

/// The header row of `endpoint`'s CSV, line break included.
pub fn header(endpoint: Endpoint) -> Vec<u8> {
    let mut labels: Vec<String> = facts_of(endpoint, &ScanRef::new("x").expect("a scanRef"), b"{}")
        .map(|rows| rows.labels().map(str::to_owned).collect())
        .unwrap_or_default();
    labels.push("error".to_owned());
    record(labels.iter().map(String::as_str))
}

/// The row of a successful lookup. A body that does not decode into the endpoint's model (a
/// shape the docs do not describe) has no facts to show: its row says so in `error`, and a
/// resume looks it up again.
pub fn success(scan_ref: &ScanRef, endpoint: Endpoint, body: &[u8]) -> Vec<u8> {
    match facts_of(endpoint, scan_ref, body) {
        Ok(rows) => {
            let cells: Vec<String> = rows
                .values()
                .map(|value| neutralised(value.unwrap_or_default()))
                .chain([String::new()])
                .collect();
            record(cells.iter().map(String::as_str))
        }
        Err(why) => failure_row(
            scan_ref,
            endpoint,
            &format!("the answer is not the documented shape: {why}"),
        ),
    }
}

/// The row of a failed lookup: the scanRef, empty facts, and the error.
pub fn failure(scan_ref: &ScanRef, endpoint: Endpoint, error: &Error) -> Vec<u8> {
    failure_row(scan_ref, endpoint, &error.to_string())
}

fn failure_row(scan_ref: &ScanRef, endpoint: Endpoint, message: &str) -> Vec<u8> {
    let columns = column_count(endpoint);
    let mut cells = vec![String::new(); columns];
    cells[0] = scan_ref.as_str().to_owned();
    cells[columns - 1] = message.to_owned();
    text_record(cells.iter().map(String::as_str))
}

fn column_count(endpoint: Endpoint) -> usize {
    let header = header(endpoint);
    read_record(&header).map_or(1, |fields| fields.len())
}

/// Reads one row an earlier run wrote for `endpoint` (without its line break), for `--resume`.
///
/// # Errors
/// [`NotOurs`] for a row of another shape, or whose scanRef is not one.
pub fn parse(line: &[u8], endpoint: Endpoint) -> Result<Written, NotOurs> {
    let fields = read_record(line).ok_or(NotOurs::new("not a CSV row"))?;
    if fields.len() != column_count(endpoint) {
        return Err(NotOurs::new("not a row of this endpoint's CSV"));
    }
    let scan_ref = ScanRef::new(unmarked(&fields[0]).to_owned())
        .map_err(|_| NotOurs::new("not a valid scanRef"))?;
    Ok(Written {
        scan_ref,
        endpoint,
        succeeded: fields[fields.len() - 1].is_empty(),
    })
}

/// The fields of one CSV record (a line, its line break included or not); `None` when it is
/// not one.
pub fn read_record(line: &[u8]) -> Option<Vec<String>> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(str::to_owned).collect())
}

/// The key facts of `body` for `endpoint`.
fn facts_of(endpoint: Endpoint, scan_ref: &ScanRef, body: &[u8]) -> Result<Rows, String> {
    let name = scan_ref.as_str();
    let decode_error = |error: serde_json::Error| why_not_decoded(&error).to_owned();
    Ok(match endpoint {
        Endpoint::Status => table::status(
            name,
            &serde_json::from_slice::<IdentificationStatus>(body).map_err(decode_error)?,
        ),
        Endpoint::Data => table::data(
            name,
            &serde_json::from_slice::<IdentificationData>(body).map_err(decode_error)?,
        ),
        Endpoint::Files => table::files(
            name,
            &serde_json::from_slice::<FileUrls>(body).map_err(decode_error)?,
            OtherKinds::Named,
        ),
        _ => table::full_status(
            name,
            &serde_json::from_slice::<FullStatus>(body).map_err(decode_error)?,
        ),
    })
}

/// Why a body did not decode, in words that quote nothing of it (it holds personal data).
fn why_not_decoded(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Data => "a value of the wrong type",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Eof => "cut short",
        serde_json::error::Category::Io => "unreadable",
    }
}

/// `value`, with a `'` in front when a spreadsheet would read it as a formula (or when it
/// starts with a `'` itself, which the spreadsheet would otherwise take for the mark).
fn neutralised(value: &str) -> String {
    if value.starts_with(FORMULA_STARTS) || value.starts_with(TEXT_MARK) {
        format!("{TEXT_MARK}{value}")
    } else {
        value.to_owned()
    }
}

/// `value` as it was before [`neutralised`] marked it: the `'` removed when it stands before a
/// formula character or another `'`, which is where this command writes it.
pub fn unmarked(value: &str) -> &str {
    value
        .strip_prefix(TEXT_MARK)
        .filter(|rest| rest.starts_with(FORMULA_STARTS) || rest.starts_with(TEXT_MARK))
        .unwrap_or(value)
}

/// One RFC 4180 record of the server's text in `cells`, CRLF included: each cell's control
/// characters escaped (so the record is one line) and a formula neutralised. Every CSV this
/// command writes goes through here, or through [`record`] with cells escaped already.
pub fn text_record<'a>(cells: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let cells: Vec<String> = cells
        .into_iter()
        .map(|cell| neutralised(&escape_controls(cell)))
        .collect();
    record(cells.iter().map(String::as_str))
}

/// One RFC 4180 record of `cells`, CRLF included.
fn record<'a>(cells: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing into memory cannot fail.
    let _ = writer.write_record(cells);
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_ref(text: &str) -> ScanRef {
        ScanRef::new(text.to_owned()).unwrap()
    }

    #[test]
    fn the_headers_are_the_documented_columns() {
        let text = |endpoint| String::from_utf8(header(endpoint)).unwrap();
        assert_eq!(text(Endpoint::Status), "scanRef,status,clientId,error\r\n");
        assert_eq!(
            text(Endpoint::Files),
            "scanRef,FRONT,BACK,FACE,FRONT_VIDEO,BACK_VIDEO,FACE_VIDEO,other kinds,error\r\n"
        );
        assert_eq!(
            text(Endpoint::Data),
            "scanRef,clientId,name,document,issuing country,nationality,date of birth,expires,selected country,manually changed,error\r\n"
        );
        assert_eq!(
            text(Endpoint::FullStatus),
            "scanRef,face (auto),face (manual),document (auto),document (manual),suspicion reasons,name,document,country,attempts,started,finished,reviewed,error\r\n"
        );
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_text() {
        let body = br#"{"docFirstName":"=HYPERLINK(\"http://x.example\",\"click\")","docLastName":"A","docNumber":"-1+1","docType":"ID_CARD","clientId":"@SUM(A1)","selectedCountry":"\tLT"}"#;
        let row = success(&scan_ref("s-1"), Endpoint::Data, body);
        let fields = read_record(&row).unwrap();
        assert_eq!(fields[1], "'@SUM(A1)");
        assert_eq!(fields[2], "'=HYPERLINK(\"http://x.example\",\"click\") A");
        assert_eq!(fields[3], "ID_CARD -1+1");
        // The tab is escaped as text, and starts with a backslash, not a formula character.
        assert_eq!(fields[8], "\\tLT");
        assert!(
            fields
                .iter()
                .all(|field| !field.starts_with(FORMULA_STARTS))
        );
        assert!(row.ends_with(b"\r\n") && !row[..row.len() - 2].contains(&b'\n'));
    }

    #[test]
    fn rows_read_back_for_a_resume() {
        let ok = success(
            &scan_ref("-s-1"),
            Endpoint::Status,
            br#"{"status":"APPROVED"}"#,
        );
        let written = parse(&ok, Endpoint::Status).unwrap();
        assert_eq!(written.scan_ref.as_str(), "-s-1");
        assert!(written.succeeded);
        let odd = success(&scan_ref("s-2"), Endpoint::Status, br#"{"status":7}"#);
        assert!(!parse(&odd, Endpoint::Status).unwrap().succeeded);
        assert!(
            parse(&ok, Endpoint::Data).is_err(),
            "another endpoint's row"
        );
        assert!(parse(b"my,notes", Endpoint::Status).is_err());
    }
}
