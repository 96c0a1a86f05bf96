//! Lookups of the scanRefs given on the command line, printed as a table, JSON or JSON lines;
//! the table's rows are in [`table`], which the CSV format's columns share.

use std::borrow::Cow;
use std::io::{IsTerminal as _, Write};

use clap::Args;
use idenfy_hyper::core::{Endpoint, Error, escape_controls, escape_json_for_terminal};
use idenfy_hyper::models::{FileUrls, FullStatus, IdentificationData, IdentificationStatus};
use idenfy_hyper::{Client, ScanRef};

use self::table::OverallStatus;
use crate::Format;
use crate::bulk::BulkArgs;
use crate::connect::Connection;
use crate::export_format::ExportFormat;
use crate::failure::{Failure, FailureKind};
use crate::parse_scan_refs;

/// Which identifications to look up, and where results go.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// The scanRefs to look up.
    #[arg(value_name = "SCAN_REF", required_unless_present = "input")]
    pub scan_refs: Vec<String>,

    #[command(flatten)]
    pub bulk: BulkArgs,
}

/// What standard output is: a terminal is shown the API's JSON with every character it would obey
/// written as a JSON escape ([`escape_json_for_terminal`]); a file or a pipe gets the bytes as
/// sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stdout {
    Terminal,
    FileOrPipe,
}

/// Looks up each scanRef in turn and prints the results to `out`; failures go to standard
/// error and the run goes on. Returns the most serious failure, if any.
async fn run(
    client: &Client,
    endpoint: Endpoint,
    scan_refs: &[ScanRef],
    format: Format,
    (out, stdout): (&mut impl Write, Stdout),
) -> Result<(), Failure> {
    let mut worst: Option<Failure> = None;
    // Several answers in JSON are one document, an array: each is kept apart until it is
    // known to have come, and joined then.
    let json_array = format == Format::Json && scan_refs.len() > 1;
    let mut items = 0;
    if json_array {
        out.write_all(b"[").map_err(write_failure)?;
    }
    if format == Format::Csv {
        let header = ExportFormat::Csv(endpoint).header().unwrap_or_default();
        out.write_all(&header).map_err(write_failure)?;
    }
    for (index, scan_ref) in scan_refs.iter().enumerate() {
        let printed = if json_array {
            let mut item = Vec::new();
            let printed = print_one(
                client,
                endpoint,
                scan_ref,
                format,
                false,
                (&mut item, stdout),
            )
            .await;
            if printed.is_ok() {
                let separator: &[u8] = if items == 0 { b"\n" } else { b",\n" };
                items += 1;
                out.write_all(separator)
                    .and_then(|()| out.write_all(item.trim_ascii_end()))
                    .map_err(write_failure)?;
            }
            printed
        } else {
            print_one(client, endpoint, scan_ref, format, index > 0, (out, stdout)).await
        };
        match printed {
            Ok(()) => {}
            Err(failure) if failure.kind == FailureKind::Other => return Err(failure),
            Err(failure) => {
                eprintln!("idenfy: {failure}");
                if worst.as_ref().is_none_or(|worst| failure.kind > worst.kind) {
                    worst = Some(failure);
                }
            }
        }
    }
    if json_array {
        out.write_all(b"\n]\n").map_err(write_failure)?;
    }
    out.flush().map_err(write_failure)?;
    match worst {
        None => Ok(()),
        Some(failure) => Err(Failure::new(
            failure.kind,
            "some lookups failed (see above)",
        )),
    }
}

/// The typed value of a lookup, whichever endpoint it came from.
enum Typed {
    Status(IdentificationStatus),
    Data(Box<IdentificationData>),
    Files(FileUrls),
    FullStatus(Box<FullStatus>),
}

/// Looks `scan_ref` up at `endpoint` and decodes the response, for the formats that show its
/// fields.
async fn typed(
    client: &Client,
    endpoint: Endpoint,
    scan_ref: &ScanRef,
) -> Result<Typed, idenfy_hyper::Error> {
    Ok(match endpoint {
        Endpoint::Status => Typed::Status(client.status(scan_ref).await?),
        Endpoint::Data => Typed::Data(Box::new(client.data(scan_ref).await?)),
        Endpoint::Files => Typed::Files(client.files(scan_ref).await?),
        _ => Typed::FullStatus(Box::new(client.full_status(scan_ref).await?)),
    })
}

async fn print_one(
    client: &Client,
    endpoint: Endpoint,
    scan_ref: &ScanRef,
    format: Format,
    separate: bool,
    (out, stdout): (&mut impl Write, Stdout),
) -> Result<(), Failure> {
    let failed = |error: idenfy_hyper::Error| Failure::lookup(scan_ref.as_str(), &error);
    // A failure that still leaves a table to print: reported after the table is written.
    let mut after_table = None;
    let written = match format {
        Format::Table => {
            let name = scan_ref.as_str();
            let table = match endpoint {
                // For a person, the full status comes with the overall status, which only
                // /status has. When that second lookup fails, the table still shows, its row
                // says why, and the failure counts like any other (message and exit code).
                Endpoint::FullStatus => {
                    let (full, status) =
                        tokio::join!(client.full_status(scan_ref), client.status(scan_ref));
                    let full = full.map_err(failed)?;
                    let overall = match &status {
                        Ok(status) => OverallStatus::Known(status),
                        Err(error) => {
                            after_table = Some(Failure::new(
                                FailureKind::of_lookup(error),
                                format!(
                                    "{}: the overall status (/status) could not be had: {error}",
                                    escape_controls(scan_ref.as_str())
                                ),
                            ));
                            OverallStatus::Unavailable(unavailable_because(error))
                        }
                    };
                    table::full_status_table(name, overall, &full)
                }
                _ => match typed(client, endpoint, scan_ref).await.map_err(failed)? {
                    Typed::Status(status) => table::status(name, &status).render(),
                    Typed::Data(data) => table::data(name, &data).render(),
                    Typed::Files(files) => {
                        table::files(name, &files, table::OtherKinds::RowEach).render()
                    }
                    Typed::FullStatus(full) => {
                        table::full_status_table(name, OverallStatus::NotAsked, &full)
                    }
                },
            };
            let separator = if separate { "\n" } else { "" };
            write!(out, "{separator}{table}")
        }
        Format::Json => {
            let lookup = client
                .lookup_raw(endpoint, scan_ref)
                .await
                .map_err(|failure| failed(failure.error))?;
            let body = shown_to(stdout, &lookup.body);
            let body = body.as_ref();
            out.write_all(body).and_then(|()| {
                if body.ends_with(b"\n") {
                    Ok(())
                } else {
                    out.write_all(b"\n")
                }
            })
        }
        Format::Jsonl | Format::Csv => {
            let lines = if format == Format::Csv {
                ExportFormat::Csv(endpoint)
            } else {
                ExportFormat::JsonLines
            };
            let line = match client.lookup_raw(endpoint, scan_ref).await {
                Ok(lookup) => lines.success(scan_ref, endpoint, &lookup.body),
                // One line per scanRef, as in a bulk run; the error is also reported below.
                Err(failure) => {
                    out.write_all(&lines.failure(
                        scan_ref,
                        endpoint,
                        &failure.error,
                        failure.attempts,
                    ))
                    .map_err(write_failure)?;
                    return Err(failed(failure.error));
                }
            };
            out.write_all(&shown_to(stdout, &line))
        }
    };
    written.map_err(write_failure)?;
    after_table.map_or(Ok(()), Err)
}

/// Why a lookup failed, in the few words a table row has room for; the full message goes to
/// standard error.
fn unavailable_because(error: &idenfy_hyper::Error) -> String {
    match (error, error.status()) {
        (Error::Api(api), Some(status)) => match &api.identifier {
            Some(identifier) => format!("/status answered HTTP {status} {identifier}"),
            None => format!("/status answered HTTP {status}"),
        },
        (_, Some(status)) => format!("/status answered HTTP {status}"),
        (Error::Timeout(_), None) => "/status timed out".to_owned(),
        _ => "/status could not be reached".to_owned(),
    }
}

/// JSON for `stdout`: as sent to a file or a pipe, escaped for a terminal. The JSON was
/// checked to be well formed and valid UTF-8 when it was received.
fn shown_to(stdout: Stdout, json: &[u8]) -> Cow<'_, [u8]> {
    match (stdout, std::str::from_utf8(json)) {
        (Stdout::FileOrPipe, _) => Cow::Borrowed(json),
        (Stdout::Terminal, Ok(text)) => match escape_json_for_terminal(text) {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        },
        // Not UTF-8 after all: shown as text, never as the bytes.
        (Stdout::Terminal, Err(_)) => Cow::Owned(
            escape_json_for_terminal(&String::from_utf8_lossy(json))
                .into_owned()
                .into_bytes(),
        ),
    }
}

fn write_failure(err: std::io::Error) -> Failure {
    Failure::other(format!("writing the output failed: {err}"))
}

/// Runs `status`, `data`, `full-status` (and `files` without `--download`): a bulk export
/// with `--input`, otherwise the scanRefs given.
pub async fn run_command(
    connection: &Connection,
    endpoint: Endpoint,
    args: &LookupArgs,
    format: Option<Format>,
    quiet: bool,
) -> Result<(), Failure> {
    if args.bulk.input.is_some() {
        let lines = match format {
            None | Some(Format::Jsonl) => ExportFormat::JsonLines,
            Some(Format::Csv) => ExportFormat::Csv(endpoint),
            Some(Format::Table) => {
                return Err(Failure::bad_input(
                    "--format table shows a few identifications to a person; with --input, \
                     choose --format jsonl (the default) or csv",
                ));
            }
            Some(Format::Json) => {
                return Err(Failure::bad_input(
                    "--format json writes one JSON document; with --input, choose --format \
                     jsonl (the default) or csv, whose lines a resume can keep",
                ));
            }
        };
        let summary =
            crate::bulk::run(&connection.client, endpoint, lines, &args.bulk, quiet).await?;
        if !quiet {
            eprintln!("idenfy: {}", summary.report());
        }
        return match summary.worst {
            None if !summary.stopped_early => Ok(()),
            worst => Err(Failure::new(
                worst.unwrap_or(FailureKind::Other),
                "the export is incomplete or has failed lookups (see the error lines in the output)",
            )),
        };
    }
    let scan_refs = parse_scan_refs(&args.scan_refs)?;
    let out = std::io::stdout();
    let stdout = if out.is_terminal() {
        Stdout::Terminal
    } else {
        Stdout::FileOrPipe
    };
    run(
        &connection.client,
        endpoint,
        &scan_refs,
        format.unwrap_or(Format::Table),
        (&mut out.lock(), stdout),
    )
    .await
}

/// An identification's key facts, per endpoint: aligned for a person to read (the `table`
/// format), and the same facts as the columns of the `csv` format ([`crate::csv_row`]), whose
/// labels are its header.
///
/// Every value is the server's text, so every value is escaped ([`escape_controls`]): an escape
/// sequence cannot retitle or clear the terminal, and a line break cannot forge a row.
pub mod table {
    use std::borrow::Cow;
    use std::fmt::Write as _;

    use idenfy_hyper::core::escape_controls;

    use idenfy_hyper::models::{
        ClientData, ClientIdentityDocument, FileUrls, FullStatus, IdentificationData,
        IdentificationStatus,
    };

    /// Labels and values, control characters in values escaped, empty values `None`.
    #[derive(Default)]
    pub struct Rows(Vec<(Cow<'static, str>, Option<String>)>);

    impl Rows {
        fn add(
            &mut self,
            label: impl Into<Cow<'static, str>>,
            value: impl Into<Option<String>>,
        ) -> &mut Self {
            let label = label.into();
            let value = value
                .into()
                .filter(|value| !value.is_empty())
                .map(|value| escape_controls(&value).into_owned());
            self.0.push((label, value));
            self
        }

        fn insert(&mut self, at: usize, label: &'static str, value: Option<String>) {
            let value = value.map(|value| escape_controls(&value).into_owned());
            self.0.insert(at.min(self.0.len()), (label.into(), value));
        }

        /// The labels, in order.
        pub fn labels(&self) -> impl Iterator<Item = &str> {
            self.0.iter().map(|(label, _)| label.as_ref())
        }

        /// The values, escaped, in the order of the labels; `None` where there is none.
        pub fn values(&self) -> impl Iterator<Item = Option<&str>> {
            self.0.iter().map(|(_, value)| value.as_deref())
        }

        /// The table: one row a fact, the values aligned, `-` for a missing one.
        pub fn render(&self) -> String {
            let width = self
                .0
                .iter()
                .map(|(label, _)| label.chars().count())
                .max()
                .unwrap_or(0);
            let mut out = String::new();
            for (label, value) in &self.0 {
                let value = value.as_deref().unwrap_or("-");
                let _ = writeln!(out, "{label:<width$}  {value}");
            }
            out
        }
    }

    fn text<T: ToString>(value: &Option<T>) -> Option<String> {
        value.as_ref().map(ToString::to_string)
    }

    fn joined(parts: &[&Option<String>], separator: &str) -> Option<String> {
        let present: Vec<&str> = parts
            .iter()
            .filter_map(|part| part.as_deref())
            .filter(|part| !part.is_empty())
            .collect();
        (!present.is_empty()).then(|| present.join(separator))
    }

    /// `/status`.
    pub fn status(scan_ref: &str, status: &IdentificationStatus) -> Rows {
        let mut rows = Rows::default();
        rows.add("scanRef", scan_ref.to_owned())
            .add("status", text(&status.status))
            .add("clientId", text(&status.client_id));
        rows
    }

    /// `/data`.
    pub fn data(scan_ref: &str, data: &IdentificationData) -> Rows {
        let mut rows = Rows::default();
        rows.add("scanRef", scan_ref.to_owned())
            .add("clientId", text(&data.client_id))
            .add(
                "name",
                joined(&[&data.doc_first_name, &data.doc_last_name], " "),
            )
            .add(
                "document",
                joined(&[&text(&data.doc_type), &data.doc_number], " "),
            )
            .add("issuing country", data.doc_issuing_country.clone())
            .add("nationality", data.doc_nationality.clone())
            .add(
                "date of birth",
                data.doc_dob.as_ref().map(|date| date.as_str().to_owned()),
            )
            .add(
                "expires",
                data.doc_expiry
                    .as_ref()
                    .map(|date| date.as_str().to_owned()),
            )
            .add("selected country", data.selected_country.clone())
            .add("manually changed", text(&data.manually_data_changed));
        rows
    }

    /// How the kinds the docs do not list are shown.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum OtherKinds {
        /// A row each, with its URL: every file the API sent, for a person.
        RowEach,
        /// Their names in one value, so that the labels are the same for every identification:
        /// the columns of a CSV export.
        Named,
    }

    /// `/files`.
    pub fn files(scan_ref: &str, files: &FileUrls, other_kinds: OtherKinds) -> Rows {
        let mut rows = Rows::default();
        rows.add("scanRef", scan_ref.to_owned());
        for (kind, url) in files.documented() {
            rows.add(kind.to_string(), url.map(str::to_owned));
        }
        if other_kinds == OtherKinds::Named {
            let names: Vec<&str> = files.extra.keys().map(String::as_str).collect();
            rows.add("other kinds", names.join(" "));
            return rows;
        }
        // Kinds the docs do not list are files all the same: show every one the API sent.
        for (kind, url) in &files.extra {
            let shown = match url {
                serde_json::Value::String(url) => Some(url.clone()),
                serde_json::Value::Null => None,
                other => Some(format!("(not a URL: {other})")),
            };
            rows.add(escape_controls(kind).into_owned(), shown);
        }
        rows
    }

    /// The overall status beside a full status: only `/status` has it.
    pub enum OverallStatus<'a> {
        /// `/status` was not asked.
        NotAsked,
        /// `/status` answered.
        Known(&'a IdentificationStatus),
        /// `/status` failed; the text says how, in a few words.
        Unavailable(String),
    }

    /// `/full-status`, with the overall status from `/status`, or why it could not be had, for a
    /// person.
    pub fn full_status_table(
        scan_ref: &str,
        overall: OverallStatus<'_>,
        full: &FullStatus,
    ) -> String {
        let mut rows = full_status(scan_ref, full);
        let overall = match overall {
            OverallStatus::NotAsked => None,
            OverallStatus::Known(status) => text(&status.status),
            OverallStatus::Unavailable(why) => Some(format!("unavailable: {why}")),
        };
        rows.insert(1, "overall status", overall);
        rows.render()
    }

    /// `/full-status` alone: the overall status is `/status`'s.
    pub fn full_status(scan_ref: &str, full: &FullStatus) -> Rows {
        let client = full.client.as_ref();
        let document = full.client_identity_document.as_ref();
        let reasons = full.suspection_reasons.as_ref().map(|reasons| {
            reasons
                .iter()
                .map(|reason| reason.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        });
        let mut rows = Rows::default();
        rows.add("scanRef", scan_ref.to_owned())
            .add("face (auto)", text(&full.face_match_result))
            .add("face (manual)", text(&full.manual_face_match_result))
            .add("document (auto)", text(&full.document_validity))
            .add("document (manual)", text(&full.manual_document_validity))
            .add("suspicion reasons", reasons)
            .add("name", name(client, document))
            .add("document", document_summary(client, document))
            .add(
                "country",
                document
                    .and_then(|d| d.doc_country.clone())
                    .or_else(|| client.and_then(|c| c.country.clone())),
            )
            .add("attempts", text(&full.attempt_count))
            .add(
                "started",
                full.start_time
                    .as_ref()
                    .map(|time| time.as_str().to_owned()),
            )
            .add(
                "finished",
                full.finish_time
                    .as_ref()
                    .map(|time| time.as_str().to_owned()),
            )
            .add(
                "reviewed",
                full.review_time
                    .as_ref()
                    .map(|time| time.as_str().to_owned()),
            );
        rows
    }

    /// The name as the document reads, or as the partner gave it.
    fn name(
        client: Option<&ClientData>,
        document: Option<&ClientIdentityDocument>,
    ) -> Option<String> {
        document
            .and_then(|d| joined(&[&d.doc_name, &d.doc_surname], " "))
            .or_else(|| client.and_then(|c| joined(&[&c.name, &c.surname], " ")))
    }

    fn document_summary(
        client: Option<&ClientData>,
        document: Option<&ClientIdentityDocument>,
    ) -> Option<String> {
        let kind = document
            .and_then(|d| text(&d.doc_document_type))
            .or_else(|| client.and_then(|c| c.document_type.clone()));
        let number = document
            .and_then(|d| d.doc_document_number.clone())
            .or_else(|| client.and_then(|c| c.document_number.clone()));
        joined(&[&kind, &number], " ")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn rows_align_values_and_mark_missing_ones() {
            let rendered = Rows::default()
                .add("a", "1".to_owned())
                .add("longer", None)
                .add("empty", String::new())
                .render();
            assert_eq!(rendered, "a       1\nlonger  -\nempty   -\n");
        }

        #[test]
        fn the_files_table_shows_every_kind_the_api_sent() {
            let urls: FileUrls = serde_json::from_value(serde_json::json!({
                "FRONT": "https://files.example/front.png",
                "FACE": null,
                "UTILITY_BILL": "https://files.example/bill.pdf",
                "ODD\u{1b}[2J": 7
            }))
            .unwrap();
            let table = files("ref-1", &urls, OtherKinds::RowEach).render();
            for expected in [
                "FRONT         https://files.example/front.png",
                "FACE          -",
                "UTILITY_BILL  https://files.example/bill.pdf",
            ] {
                assert!(table.contains(expected), "{expected:?} in\n{table}");
            }
            assert!(!table.contains('\u{1b}'), "{table:?}");
            assert!(table.contains("(not a URL: 7)"), "{table}");
        }

        #[test]
        fn values_cannot_drive_the_terminal_or_add_rows() {
            let rendered = Rows::default()
                .add("status", "\u{1b}]0;owned\u{7}\u{1b}[2J".to_owned())
                .add("clientId", "c-1\nforged  row\u{9b}31m".to_owned())
                .render();
            assert_eq!(rendered.lines().count(), 2, "{rendered}");
            assert!(
                !rendered.chars().any(|c| c != '\n' && c.is_control()),
                "{rendered:?}"
            );
            assert!(
                rendered.contains("c-1\\nforged  row\\u{9b}31m"),
                "{rendered}"
            );
        }

        #[test]
        fn an_overall_status_that_could_not_be_had_says_why() {
            let full: FullStatus = serde_json::from_value(serde_json::json!({})).unwrap();
            let table = full_status_table(
                "ref-1",
                OverallStatus::Unavailable("/status answered HTTP 429".to_owned()),
                &full,
            );
            assert!(
                table.contains("overall status     unavailable: /status answered HTTP 429"),
                "{table}"
            );
        }

        #[test]
        fn full_status_shows_the_key_facts() {
            let full: FullStatus = serde_json::from_value(serde_json::json!({
                "face_match_result": "FACE_MATCH",
                "document_validity": "DOC_VALIDATED",
                "suspection_reasons": ["FACE_SUSPECTED", "SOMETHING_NEW"],
                "client_identity_document": {"doc_name": "ANA", "doc_surname": "EXAMPLE", "doc_document_type": "PASSPORT",
                                             "doc_document_number": "X1", "doc_country": "LT"},
                "start_time": "2026-01-02 03:04:05"
            }))
            .unwrap();
            let overall: IdentificationStatus =
                serde_json::from_value(serde_json::json!({"status": "SUSPECTED"})).unwrap();
            let table = full_status_table("ref-1", OverallStatus::Known(&overall), &full);
            for expected in [
                "overall status     SUSPECTED",
                "face (auto)        FACE_MATCH",
                "face (manual)      -",
                "suspicion reasons  FACE_SUSPECTED, SOMETHING_NEW",
                "name               ANA EXAMPLE",
                "document           PASSPORT X1",
                "country            LT",
                "started            2026-01-02 03:04:05",
            ] {
                assert!(table.contains(expected), "missing `{expected}` in\n{table}");
            }
        }
    }
}
