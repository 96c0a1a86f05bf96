//! Lookups of the scanRefs given on the command line, printed as a table, JSON or JSON lines.

use std::io::Write;

use clap::Args;
use idenfy_hyper::core::{Endpoint, Error, escape_controls};
use idenfy_hyper::models::{FileUrls, FullStatus, IdentificationData, IdentificationStatus};
use idenfy_hyper::{Client, ScanRef};

use crate::bulk::BulkArgs;
use crate::cli::Format;
use crate::connect::Connection;
use crate::export_format::ExportFormat;
use crate::failure::{Failure, FailureKind};
use crate::input::parse_scan_refs;
use crate::render::{self, OverallStatus};

/// Which identifications to look up, and where results go.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// The scanRefs to look up.
    #[arg(value_name = "SCAN_REF", required_unless_present = "input")]
    pub scan_refs: Vec<String>,

    #[command(flatten)]
    pub bulk: BulkArgs,
}

/// Looks up each scanRef in turn and prints the results to `out`; failures go to standard
/// error and the run goes on. Returns the most serious failure, if any.
pub async fn run(
    client: &Client,
    endpoint: Endpoint,
    scan_refs: &[ScanRef],
    format: Format,
    out: &mut impl Write,
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
            let printed = print_one(client, endpoint, scan_ref, format, false, &mut item).await;
            if printed.is_ok() {
                let separator: &[u8] = if items == 0 { b"\n" } else { b",\n" };
                items += 1;
                out.write_all(separator)
                    .and_then(|()| out.write_all(item.trim_ascii_end()))
                    .map_err(write_failure)?;
            }
            printed
        } else {
            print_one(client, endpoint, scan_ref, format, index > 0, out).await
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
    out: &mut impl Write,
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
                    render::full_status_table(name, overall, &full)
                }
                _ => match typed(client, endpoint, scan_ref).await.map_err(failed)? {
                    Typed::Status(status) => render::status(name, &status).render(),
                    Typed::Data(data) => render::data(name, &data).render(),
                    Typed::Files(files) => {
                        render::files(name, &files, render::OtherKinds::RowEach).render()
                    }
                    Typed::FullStatus(full) => {
                        render::full_status_table(name, OverallStatus::NotAsked, &full)
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
            let body = lookup.body.as_ref();
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
            out.write_all(&line)
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
    run(
        &connection.client,
        endpoint,
        &scan_refs,
        format.unwrap_or(Format::Table),
        &mut std::io::stdout().lock(),
    )
    .await
}
