//! Lookups of the scanRefs given on the command line, printed as a table, JSON or JSON lines.

use std::io::Write;

use idenfy_hyper::core::Endpoint;
use idenfy_hyper::{Client, ScanRef};

use crate::args::Format;
use crate::failure::{Failure, FailureKind};
use crate::fetch::{Typed, fetch};
use crate::render;
use crate::result_line;

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
    for (index, scan_ref) in scan_refs.iter().enumerate() {
        match print_one(client, endpoint, scan_ref, format, index > 0, out).await {
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
    out.flush().map_err(write_failure)?;
    match worst {
        None => Ok(()),
        Some(failure) => Err(Failure::new(
            failure.kind,
            "some lookups failed (see above)",
        )),
    }
}

async fn print_one(
    client: &Client,
    endpoint: Endpoint,
    scan_ref: &ScanRef,
    format: Format,
    separate: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    // For a person, the full status comes with the overall status, which only /status has.
    let (fetched, overall) = if format == Format::Table && endpoint == Endpoint::FullStatus {
        let (full, status) = tokio::join!(
            fetch(client, endpoint, scan_ref),
            fetch(client, Endpoint::Status, scan_ref)
        );
        let overall = match status {
            Ok(fetched) => match fetched.typed {
                Typed::Status(status) => Some(status),
                _ => None,
            },
            Err(_) => None,
        };
        (full, overall)
    } else {
        (fetch(client, endpoint, scan_ref).await, None)
    };
    let fetched = fetched.map_err(|error| Failure::lookup(scan_ref.as_str(), &error))?;
    let written = match format {
        Format::Table => {
            let name = scan_ref.as_str();
            let table = match &fetched.typed {
                Typed::Status(status) => render::status(name, status),
                Typed::Data(data) => render::data(name, data),
                Typed::Files(files) => render::files(name, files),
                Typed::FullStatus(full) => render::full_status(name, overall.as_ref(), full),
            };
            let separator = if separate { "\n" } else { "" };
            write!(out, "{separator}{table}")
        }
        Format::Json => {
            let body = fetched.body.as_ref();
            out.write_all(body).and_then(|()| {
                if body.ends_with(b"\n") {
                    Ok(())
                } else {
                    out.write_all(b"\n")
                }
            })
        }
        Format::Jsonl => out.write_all(&result_line::success(scan_ref, endpoint, &fetched.body)),
    };
    written.map_err(write_failure)
}

fn write_failure(err: std::io::Error) -> Failure {
    Failure::other(format!("writing the output failed: {err}"))
}
