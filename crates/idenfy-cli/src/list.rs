//! `idenfy list`: the account's identifications (`GET /kyc/identifications/`), page by page,
//! written as each page arrives, in any of the four formats:
//!
//! - `table` (the default): `scanRef  status  suspected`, aligned, for a person;
//! - `jsonl`: one `{"scanRef", "status", "suspected"}` a line, which a bulk export reads as its
//!   input (`idenfy list --format jsonl | idenfy full-status --input -`);
//! - `csv`: the header `scanRef,status,suspected`, then a row an identification, as the other
//!   CSV outputs are written ([`crate::csv_row`]: RFC 4180, CRLF, control characters escaped,
//!   formulas neutralised); `--input` reads it too;
//! - `json`: one array of those objects. The array is written as the pages arrive, so memory
//!   stays flat however long the list, and it is closed only once the last page has come: a
//!   walk that stops midway leaves an array that is not closed, which no JSON reader takes for
//!   the whole list. (A lookup of several scanRefs closes its array whatever failed: each
//!   answer there stands alone, and each failure is named; a list cut short is not the list.)
//!
//! Whatever the format, a walk that stops midway exits non-zero with the reason on standard
//! error, and what was written before is whole lines.

use std::io::Write;

use crate::Format;
use crate::connect::Connection;
use crate::csv_row;
use crate::failure::{Failure, FailureKind, shown};
use clap::Args;
use idenfy_hyper::core::{
    ListError, ListQuery, MAX_PER_PAGE, escape_controls, escape_json_for_terminal,
};
use idenfy_hyper::models::IdentificationListItem;

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only the identifications of this clientId.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Identifications per page asked of the API (1 to 1000; the API's default otherwise).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PER_PAGE)))]
    pub per_page: Option<u32>,
    /// Read at most N pages; a list that goes on is an error (exit 3) after them.
    #[arg(long, value_name = "N", default_value_t = idenfy_hyper::core::DEFAULT_MAX_PAGES, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pages: u32,
}

/// The CSV columns, in order: the keys of a JSON line, the same from one version to the next.
pub const CSV_COLUMNS: [&str; 3] = ["scanRef", "status", "suspected"];

/// Prints the list in `format` (`table` by default), each page as it arrives.
pub async fn run(
    connection: &Connection,
    args: &ListArgs,
    format: Option<Format>,
) -> Result<(), Failure> {
    let mut query = ListQuery::new().max_pages(args.max_pages);
    if let Some(id) = &args.client_id {
        query = query.client_id(id);
    }
    if let Some(per_page) = args.per_page {
        query = query.per_page(per_page);
    }
    let mut pages = connection.client.identifications(&query);
    let mut out = Output::new(format.unwrap_or(Format::Table), std::io::stdout().lock());
    out.start().map_err(write_failed)?;
    loop {
        let page = match pages.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            // The array, if any, stays open: what was written is not the whole list.
            Err(error) => {
                out.stop().map_err(write_failed)?;
                return Err(failure(&error));
            }
        };
        for item in page.items() {
            out.item(item).map_err(write_failed)?;
        }
        // Each page reaches the pipe as it arrives: a bulk export reading it starts at once.
        out.flush().map_err(write_failed)?;
    }
    out.finish().map_err(write_failed)
}

fn write_failed(err: std::io::Error) -> Failure {
    Failure::other(format!("cannot write the output: {err}"))
}

/// The list on its way out in one format: what goes before the first item, between items and
/// after the last.
struct Output<W: Write> {
    format: Format,
    out: W,
    items: u64,
}

impl<W: Write> Output<W> {
    fn new(format: Format, out: W) -> Self {
        Output {
            format,
            out,
            items: 0,
        }
    }

    /// What comes before the first item: the table's or the CSV's header, the array's `[`.
    fn start(&mut self) -> std::io::Result<()> {
        match self.format {
            Format::Table => writeln!(self.out, "{:<40}  {:<14}  suspected", "scanRef", "status"),
            Format::Csv => self.out.write_all(&csv_row::text_record(CSV_COLUMNS)),
            Format::Json => self.out.write_all(b"["),
            Format::Jsonl => Ok(()),
        }
    }

    fn item(&mut self, item: &IdentificationListItem) -> std::io::Result<()> {
        let bytes = match self.format {
            Format::Table => table_row(item).into_bytes(),
            Format::Jsonl => format!("{}\n", json_text(item)).into_bytes(),
            Format::Csv => csv_record(item),
            // The layout of a lookup's array: one item a line, the brackets on their own.
            Format::Json => {
                let separator = if self.items == 0 { "\n" } else { ",\n" };
                format!("{separator}{}", json_text(item)).into_bytes()
            }
        };
        self.items += 1;
        self.out.write_all(&bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// What ends the output of a walk that stopped midway: the line of the array's last item
    /// (the array itself stays open, for no reader to take it for the whole list).
    fn stop(&mut self) -> std::io::Result<()> {
        if self.format == Format::Json {
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }

    /// What comes after the last item, once the whole list has come: the array's `]`.
    fn finish(&mut self) -> std::io::Result<()> {
        if self.format == Format::Json {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()
    }
}

/// `{"scanRef", "status", "suspected"}` on one line, safe for a terminal: serde_json escapes the
/// C0 controls (line breaks included), and [`escape_json_for_terminal`] every other character that does
/// not print as itself, so the values read back as sent.
fn json_text(item: &IdentificationListItem) -> String {
    let value = serde_json::json!({
        "scanRef": item.scan_ref,
        "status": item.status.as_ref().map(ToString::to_string),
        "suspected": item.suspected,
    });
    escape_json_for_terminal(&value.to_string()).into_owned()
}

/// The row of [`CSV_COLUMNS`]: an empty cell for a value the API did not send.
fn csv_record(item: &IdentificationListItem) -> Vec<u8> {
    let status = item.status.as_ref().map(ToString::to_string);
    let suspected = item.suspected.map(|value| value.to_string());
    csv_row::text_record([
        item.scan_ref.as_deref().unwrap_or_default(),
        status.as_deref().unwrap_or_default(),
        suspected.as_deref().unwrap_or_default(),
    ])
}

fn table_row(item: &IdentificationListItem) -> String {
    let text = |value: Option<String>| {
        value.map_or_else(
            || "-".to_owned(),
            |value| escape_controls(&value).into_owned(),
        )
    };
    format!(
        "{:<40}  {:<14}  {}\n",
        text(item.scan_ref.clone()),
        text(item.status.as_ref().map(ToString::to_string)),
        text(item.suspected.map(|value| value.to_string()))
    )
}

/// A stopped walk as a failure: a failed page as a failed lookup, with the hint of its cause
/// ([`shown`]); a link that is not followed, a loop or too many pages as the API's misbehaviour
/// (exit 3).
fn failure(error: &ListError<idenfy_hyper::HyperError>) -> Failure {
    match error {
        ListError::Page { page, error, .. } => Failure::new(
            FailureKind::of_lookup(error),
            format!(
                "page {page} of the identification list: {}",
                escape_controls(&shown(error))
            ),
        ),
        _ => Failure::new(
            FailureKind::Api,
            escape_controls(&error.to_string()).into_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn item(json: &str) -> IdentificationListItem {
        serde_json::from_str(json).unwrap()
    }

    fn written(format: Format, items: &[IdentificationListItem], finished: bool) -> String {
        let mut out = Output::new(format, Vec::new());
        out.start().unwrap();
        for item in items {
            out.item(item).unwrap();
        }
        if finished {
            out.finish().unwrap();
        }
        String::from_utf8(out.out).unwrap()
    }

    #[test]
    fn a_json_line_holds_the_three_keys_on_one_line() {
        let item = item(r#"{"scanRef": "a-1", "status": "APPROVED", "suspected": false}"#);
        assert_eq!(
            written(Format::Jsonl, &[item], true),
            "{\"scanRef\":\"a-1\",\"status\":\"APPROVED\",\"suspected\":false}\n"
        );
    }

    #[test]
    fn json_values_reach_a_terminal_escaped_and_read_back_as_sent() {
        let status = "\u{9b}31m\u{7f}\u{202e}\u{e0041}\u{1b}]0;x\u{7}\nok é";
        let mut item = item(r#"{"scanRef": "a-1"}"#);
        item.status = Some(status.parse().unwrap());
        let line = written(Format::Jsonl, &[item], true);
        let safe = |c: char| escape_controls(&c.to_string()) == c.to_string();
        assert!(line.trim_end().chars().all(safe), "{line:?}");
        assert!(
            line.contains("\\u009b31m\\u007f\\u202e\\udb40\\udc41"),
            "{line}"
        );
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["status"], status);
        assert!(line.contains("ok é"), "other text is kept: {line}");
    }

    #[test]
    fn the_json_array_is_closed_only_when_the_list_is_whole() {
        let items = [
            item(r#"{"scanRef": "a-1", "status": "APPROVED", "suspected": false}"#),
            item(r#"{"scanRef": "a-2"}"#),
        ];
        let whole = written(Format::Json, &items, true);
        let value: Value = serde_json::from_str(&whole).unwrap();
        assert_eq!(value.as_array().unwrap().len(), 2);
        assert_eq!(value[1]["status"], Value::Null);
        let empty: Value = serde_json::from_str(&written(Format::Json, &[], true)).unwrap();
        assert_eq!(empty, serde_json::json!([]));
        let cut = written(Format::Json, &items, false);
        assert!(serde_json::from_str::<Value>(&cut).is_err(), "{cut}");
    }

    #[test]
    fn the_csv_has_the_documented_header_and_empty_cells_for_missing_values() {
        let items = [
            item(r#"{"scanRef": "a-1", "status": "APPROVED", "suspected": true}"#),
            item(r#"{"scanRef": "a-2"}"#),
        ];
        assert_eq!(
            written(Format::Csv, &items, true),
            "scanRef,status,suspected\r\na-1,APPROVED,true\r\na-2,,\r\n"
        );
    }

    #[test]
    fn csv_cells_are_escaped_and_cannot_run_as_formulas() {
        let items = [item(
            r#"{"scanRef": "=HYPERLINK(\"http://x.example\",\"y\")", "status": "-1+1\u001b[2J\n,forged", "suspected": false}"#,
        )];
        let csv = written(Format::Csv, &items, true);
        let row = csv.split_once("\r\n").unwrap().1;
        assert_eq!(
            row,
            "\"'=HYPERLINK(\"\"http://x.example\"\",\"\"y\"\")\",\"'-1+1\\u{1b}[2J\\n,forged\",false\r\n"
        );
    }
}
