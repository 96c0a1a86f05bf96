//! `idenfy report`: the identification report as a PDF file.
//!
//! The client checks that the answer is a PDF (whatever shape it came in) before a byte is
//! written; the file is published as [`crate::private_file`] says. With `--input`, each report
//! is named after its scanRef, which is checked first to be a plain file name.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;
use idenfy_hyper::core::EscapedControls;
use idenfy_hyper::{Client, ScanRef};

use crate::failure::{Failure, FailureKind};
use crate::input::read_list;
use crate::private_file::{self, publish};

/// `report`: which identifications, and where the PDFs go.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The scanRef whose report is saved.
    #[arg(
        value_name = "SCAN_REF",
        required_unless_present = "input",
        conflicts_with = "input"
    )]
    pub scan_ref: Option<String>,
    /// Read scanRefs from FILE, one per line (`-` for standard input; blank lines and `#`
    /// comments skipped), and save each report as `OUTPUT/SCANREF.pdf`.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The PDF file to write (one scanRef; `-` for standard output, which must not be a
    /// terminal), or the directory the PDFs go into (`--input`; created with mode 0700 if
    /// missing).
    #[arg(long, value_name = "PATH", required = true)]
    pub output: PathBuf,
    /// Replace a report file that already exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `report`.
pub async fn run(client: &Client, args: &ReportArgs, quiet: bool) -> Result<(), Failure> {
    match (&args.scan_ref, &args.input) {
        (Some(scan_ref), None) => {
            let scan_ref: ScanRef = scan_ref.parse().map_err(|err| {
                Failure::bad_input(format!("scanRef `{}`: {err}", EscapedControls(scan_ref)))
            })?;
            if args.output == Path::new("-") {
                return to_standard_output(client, &scan_ref).await;
            }
            let bytes = save(client, &scan_ref, &args.output, args.force).await?;
            println!("{}\t{bytes} bytes", args.output.display());
            Ok(())
        }
        (None, Some(_)) if args.output == Path::new("-") => Err(Failure::bad_input(
            "with --input, --output names the directory the reports go into, not -",
        )),
        (None, Some(input)) => many(client, input, &args.output, args.force, quiet).await,
        _ => Err(Failure::bad_input("give one SCAN_REF or --input FILE")),
    }
}

async fn many(
    client: &Client,
    input: &Path,
    dir: &Path,
    force: bool,
    quiet: bool,
) -> Result<(), Failure> {
    let scan_refs = read_list(input)?;
    private_file::create_private_dir(dir)
        .map_err(|err| Failure::bad_input(format!("--output {}: {err}", dir.display())))?;
    let mut worst: Option<FailureKind> = None;
    let mut saved = 0u64;
    for scan_ref in &scan_refs {
        let result = match file_name(scan_ref) {
            Ok(name) => {
                let target = dir.join(name);
                save(client, scan_ref, &target, force)
                    .await
                    .map(|bytes| (target, bytes))
            }
            Err(failure) => Err(failure),
        };
        match result {
            Ok((target, bytes)) => {
                saved += 1;
                println!("{}\t{bytes} bytes", target.display());
            }
            Err(failure) => {
                eprintln!("idenfy: {failure}");
                worst = worst.max(Some(failure.kind));
            }
        }
    }
    if !quiet {
        eprintln!(
            "idenfy: {saved} of {} reports saved in {}",
            scan_refs.len(),
            dir.display()
        );
    }
    match worst {
        None => Ok(()),
        Some(kind) => Err(Failure::new(
            kind,
            "some reports were not saved (see the messages above)",
        )),
    }
}

/// `--output -`: the report's bytes to standard output, for a pipe or a file the shell opened.
/// A terminal is refused before the report is asked for: a PDF's bytes would garble it.
async fn to_standard_output(client: &Client, scan_ref: &ScanRef) -> Result<(), Failure> {
    if std::io::stdout().is_terminal() {
        return Err(Failure::bad_input(
            "standard output is a terminal: redirect it (`> report.pdf`) or give --output FILE",
        ));
    }
    let report = client
        .report(scan_ref)
        .await
        .map_err(|failure| Failure::lookup(scan_ref.as_str(), &failure.error))?;
    let mut out = std::io::stdout().lock();
    out.write_all(&report.pdf)
        .and_then(|()| out.flush())
        .map_err(|err| Failure::other(format!("writing the report failed: {err}")))
}

/// Fetches the report of `scan_ref` and publishes it at `target`; returns its size.
async fn save(
    client: &Client,
    scan_ref: &ScanRef,
    target: &Path,
    force: bool,
) -> Result<usize, Failure> {
    // Checked before asking, so that a file in the way costs no report.
    if !force && target.symlink_metadata().is_ok() {
        return Err(private_file::exists(target));
    }
    let report = client
        .report(scan_ref)
        .await
        .map_err(|failure| Failure::lookup(scan_ref.as_str(), &failure.error))?;
    publish(target, &report.pdf, force)?;
    Ok(report.pdf.len())
}

/// `SCANREF.pdf`, when the scanRef is a plain file name: ASCII letters, digits, `-`, `_` and
/// `.`, not starting with a dot. A scanRef is the API's text; it never names a path.
pub fn file_name(scan_ref: &ScanRef) -> Result<PathBuf, Failure> {
    let text = scan_ref.as_str();
    if is_plain_name(text) {
        Ok(PathBuf::from(format!("{text}.pdf")))
    } else {
        Err(Failure::bad_input(format!(
            "{}: this scanRef cannot be a file name (only letters, digits, '-', '_' and '.', not first); its report was not fetched",
            EscapedControls(text)
        )))
    }
}

/// Whether `text` may name a file or directory as it is: ASCII letters, digits, `-`, `_` and
/// `.`, not empty, not starting with a dot (no `..`, no hidden name, no separator).
pub fn is_plain_name(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('.')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_scan_refs_become_file_names() {
        let name = |text: &str| file_name(&text.parse().unwrap());
        assert_eq!(
            name("350e2420-8850-11e9-baa5-309c231b1bac").unwrap(),
            PathBuf::from("350e2420-8850-11e9-baa5-309c231b1bac.pdf")
        );
        assert_eq!(name("a.b_c").unwrap(), PathBuf::from("a.b_c.pdf"));
        for hostile in [
            "../etc", "a/b", "..", ".hidden", "a\\b", "é", "a:b", "~root",
        ] {
            assert!(name(hostile).is_err(), "{hostile}");
        }
    }
}
