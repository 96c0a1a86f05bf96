//! `idenfy list`: the account's identifications (`GET /kyc/identifications/`), page by page,
//! as a table or as JSON lines a bulk export reads as its input
//! (`idenfy list --format jsonl | idenfy full-status --input -`).

use std::io::Write as _;

use clap::Args;
use idenfy_hyper::core::{ListError, ListQuery, MAX_PER_PAGE, escape_controls};
use idenfy_hyper::models::IdentificationListItem;

use crate::Format;
use crate::connect::Connection;
use crate::failure::{Failure, FailureKind};

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

/// Prints the list: `table` (the default) or `jsonl`, one `{"scanRef", "status", "suspected"}`
/// a line, written as each page arrives.
pub async fn run(
    connection: &Connection,
    args: &ListArgs,
    format: Option<Format>,
) -> Result<(), Failure> {
    let format = format.unwrap_or(Format::Table);
    if matches!(format, Format::Json | Format::Csv) {
        return Err(Failure::bad_input(
            "list prints a table or JSON lines (--format jsonl), one identification a line",
        ));
    }
    let mut query = ListQuery::new().max_pages(args.max_pages);
    if let Some(id) = &args.client_id {
        query = query.client_id(id);
    }
    if let Some(per_page) = args.per_page {
        query = query.per_page(per_page);
    }
    let mut pages = connection.client.identifications(&query);
    let mut out = std::io::stdout().lock();
    let write_failed =
        |err: std::io::Error| Failure::other(format!("cannot write the output: {err}"));
    if format == Format::Table {
        writeln!(out, "{:<40}  {:<14}  suspected", "scanRef", "status").map_err(write_failed)?;
    }
    loop {
        let page = match pages.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(error) => return Err(failure(&error)),
        };
        for item in page.items() {
            let line = match format {
                Format::Jsonl => json_line(item),
                _ => table_row(item),
            };
            out.write_all(line.as_bytes()).map_err(write_failed)?;
        }
        // Each page reaches the pipe as it arrives: a bulk export reading it starts at once.
        out.flush().map_err(write_failed)?;
    }
    Ok(())
}

/// `{"scanRef", "status", "suspected"}` and a line break; serde_json escapes every control
/// character, so a line is one line.
fn json_line(item: &IdentificationListItem) -> String {
    let value = serde_json::json!({
        "scanRef": item.scan_ref,
        "status": item.status.as_ref().map(ToString::to_string),
        "suspected": item.suspected,
    });
    format!("{value}\n")
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

/// A stopped walk as a failure: a failed page as a failed lookup; a link that is not followed,
/// a loop or too many pages as the API's misbehaviour (exit 3).
fn failure(error: &ListError<idenfy_hyper::HyperError>) -> Failure {
    let kind = match error {
        ListError::Page { error, .. } => FailureKind::of_lookup(error),
        _ => FailureKind::Api,
    };
    Failure::new(kind, escape_controls(&error.to_string()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_holds_the_three_keys_on_one_line() {
        let item: IdentificationListItem =
            serde_json::from_str(r#"{"scanRef": "a-1", "status": "APPROVED", "suspected": false}"#)
                .unwrap();
        assert_eq!(
            json_line(&item),
            "{\"scanRef\":\"a-1\",\"status\":\"APPROVED\",\"suspected\":false}\n"
        );
    }
}
