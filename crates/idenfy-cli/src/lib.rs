//! The `idenfy` command. `src/main.rs` calls [`main`]. This file is the command line: the
//! commands, the output format and the checks of the scanRefs given as arguments, then the
//! dispatch to the command. Each command is a module of its own, which owns its arguments and
//! its `run` (`lookup`, `bulk`, `files`, `report`, `delete`, `list`, `archive`, `callback`),
//! beside the machinery they share (the connection and the flags every command shares in
//! `connect`, exports, downloads, the audit file, private files, the output).
//!
//! This library is the command's, not an API: nothing in it is public but [`main`], and the
//! few readers that the fuzz targets exercise ([`fuzzing`]), which may change in any release.
//!
//! See the repository's README for the commands, the formats and the exit codes.

#![forbid(unsafe_code)]

mod archive;
mod archived;
mod audit;
mod bounded_line;
mod bulk;
mod bundle;
mod byte_size;
mod callback;
mod confirm;
mod connect;
mod csv_row;
mod delete;
mod digest;
mod docs;
mod download;
mod download_set;
mod durable;
mod export_file;
mod export_format;
mod failure;
mod file_kinds;
mod files;
mod input;
mod interrupt;
mod list;
mod logging;
mod lookup;
mod lookup_set;
mod manifest;
mod output;
mod private_file;
mod profile;
mod rate;
mod report;
mod result_line;
mod resume;
mod rfc3339;
mod stored_callback;
mod trusted_file;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use idenfy_hyper::ScanRef;
use idenfy_hyper::core::{Endpoint, EscapedControls};

use crate::connect::{ConnectionArgs, connect};
use crate::delete::DeleteArgs;
use crate::docs::CompletionsArgs;
use crate::failure::{Failure, FailureKind, exit_code_table};
use crate::files::FilesArgs;
use crate::lookup::LookupArgs;
use crate::report::ReportArgs;

/// What the fuzz targets read through: the bulk input, the resume of an export, and the set of
/// lookups a run has met. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::input::scan_ref_lines;
    pub use crate::lookup_set::LookupSet;
    pub use crate::resume::rewrite_export;
}

/// Look up iDenfy identifications (status, parsed data, files and full review status), save their
/// PDF reports, and delete their personal data.
#[derive(Debug, Parser)]
#[command(name = "idenfy", version, about, long_about = None, after_long_help = after_long_help())]
pub(crate) struct Cli {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// How to print results: `table` for people (the default for scanRefs given as arguments),
    /// `json` for the API's JSON as sent (an array for several scanRefs), `jsonl` for one JSON
    /// line per scanRef (the default with `--input`), `csv` for a spreadsheet: a header, then a
    /// row per scanRef, formulas neutralised.
    #[arg(long, value_enum, global = true)]
    pub format: Option<Format>,

    /// Hide the progress bar and the closing summaries; results still go to standard output
    /// and errors to standard error.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The overall status of identifications (`/api/v2/status`).
    Status(LookupArgs),
    /// The data parsed from the identity documents (`/api/v2/data`).
    Data(LookupArgs),
    /// URLs of the photos and videos (`/api/v2/files`); `--download DIR` saves them.
    Files(FilesArgs),
    /// Automatic and manual review results with the client's data (`/api/v2/full-status`).
    ///
    /// The table format adds the overall status, which only `/api/v2/status` has, from a second
    /// lookup. When that one fails, the table still shows the full status, its `overall status`
    /// row says `unavailable` and why, the error goes to standard error, and the exit code is
    /// that of the failure (4 for 401/403, 5 for 429 or 5xx after the retries, 3 otherwise).
    FullStatus(LookupArgs),
    /// The account's identifications (`GET /kyc/identifications/`), page by page: scanRef,
    /// status, suspected.
    ///
    /// `--format jsonl` writes one `{"scanRef", "status", "suspected"}` a line, which a bulk
    /// export reads as its input: `idenfy list --format jsonl | idenfy full-status --input -`.
    /// `--format csv` writes the header `scanRef,status,suspected` and a row each (formulas
    /// neutralised), which `--input` reads too; `--format json` one array, closed only once
    /// the last page has come, so a list cut short is not valid JSON. Each page is written as
    /// it arrives. Only links to the list on the base URL's origin are followed.
    List(crate::list::ListArgs),
    /// The identification report as a PDF (`/api/v2/generate-pdf`), saved to a file.
    ///
    /// `idenfy report SCAN_REF --output FILE.pdf` saves one report; `--input LIST --output DIR`
    /// saves one per scanRef of LIST, as `DIR/SCANREF.pdf`. Each is written to a new temporary
    /// file (mode 0600) and published under its name only once it is complete and checked to
    /// be a PDF; an existing file is kept unless `--force` is given.
    Report(ReportArgs),
    /// Delete identifications' personal data at iDenfy (`/api/v2/delete`), with a record.
    ///
    /// Asks for confirmation on a terminal; without one, `--yes` is required (exit 2 without
    /// it, and nothing is deleted). Every deletion, refusal and failure is appended to the
    /// `--audit` file as a JSON line. Run again with the same `--audit` file, scanRefs it
    /// records as deleted are skipped, so nothing is deleted twice.
    Delete(DeleteArgs),
    /// Evidence bundles: `archive create --to DIR` saves each identification's lookups,
    /// report and files with a manifest of their digests; `archive verify DIR` checks them.
    #[command(subcommand)]
    Archive(crate::archive::ArchiveCommand),
    /// Result callbacks: send a fixture's signed callback to your webhook, verify or sign a body.
    #[command(subcommand)]
    Callback(crate::callback::CallbackCommand),
    /// List the config file's profiles: name, base URL, API key, and whether a secret is set.
    ///
    /// One line each, tab-separated, `-` for what a profile does not set; the secret itself is
    /// never shown.
    Profiles,
    /// Print the shell completion script for SHELL.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), every command included.
    Man,
}

impl Command {
    /// Whether the command uses an iDenfy account (the API, or its secret for callbacks): only
    /// those read the `--profile`. The others are about the command itself.
    pub fn uses_an_account(&self) -> bool {
        !matches!(
            self,
            Command::Profiles | Command::Completions(_) | Command::Man
        )
    }
}

/// What `--help` adds after the options: the exit codes and examples.
fn after_long_help() -> String {
    format!(
        "Exit codes:\n{}\nExamples:\n{}",
        exit_code_table(),
        examples()
    )
}

/// The examples of `--help` and of the manual page, one command line a line (each parses: a
/// test keeps it so), a comment after `#`.
pub(crate) fn examples() -> String {
    #[cfg(feature = "sandbox")]
    let try_the_sandbox =
        Some("idenfy --sandbox full-status sandbox-approved    # no account, no network");
    #[cfg(not(feature = "sandbox"))]
    let try_the_sandbox = None;
    try_the_sandbox
        .into_iter()
        .chain(EXAMPLES)
        .map(|example| format!("  {example}\n"))
        .collect()
}

const EXAMPLES: [&str; 14] = [
    "idenfy list --format jsonl --per-page 100        # the account's identifications",
    "idenfy list --format csv > identifications.csv   # for a spreadsheet; --input reads it",
    "idenfy --profile prod full-status SCAN_REF       # the account [profiles.prod] names",
    "idenfy --format json data SCAN_REF               # the API's JSON, as sent",
    "idenfy full-status --input refs.txt --output out.jsonl --concurrency 16",
    "idenfy full-status --input refs.txt --output out.jsonl --resume",
    "idenfy --profile prod full-status --input refs.txt --format csv --output results.csv",
    "idenfy files SCAN_REF --download ./photos",
    "idenfy report SCAN_REF --output report.pdf",
    "idenfy report SCAN_REF --output - > report.pdf    # to standard output, never a terminal",
    "idenfy delete --input refs.txt --audit deletions.jsonl --yes",
    "idenfy profiles                                  # the config file's accounts, no secrets",
    "idenfy completions bash > ~/.local/share/bash-completion/completions/idenfy",
    "idenfy man > ~/.local/share/man/man1/idenfy.1",
];

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Key facts, aligned for reading.
    Table,
    /// The API's JSON, as sent.
    Json,
    /// One JSON line per scanRef: `{"scanRef", "endpoint", "result" | "error"}`.
    Jsonl,
    /// A header and one row per scanRef: the key facts and the error, RFC 4180 quoting; a
    /// cell a spreadsheet would run as a formula starts with `'`.
    Csv,
}

/// The `idenfy` command: reads the command line, runs the command, and gives its exit code.
#[must_use]
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    if secret_given_on_command_line(&matches) {
        eprintln!(
            "idenfy: warning: an API secret on the command line is visible in the process list and shell history; \
             set IDENFY_API_SECRET instead"
        );
    }
    if let Err(err) = logging::install(cli.connection.verbose) {
        eprintln!("idenfy: {err}");
        return FailureKind::BadInput.exit_code();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("idenfy: cannot start the async runtime: {err}");
            return FailureKind::Other.exit_code();
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("idenfy: {failure}");
            failure.kind.exit_code()
        }
    }
}

/// `--api-secret` is global: it may sit before or after the subcommand.
fn secret_given_on_command_line(matches: &ArgMatches) -> bool {
    let from_command_line =
        |matches: &ArgMatches| matches.value_source("api_secret") == Some(ValueSource::CommandLine);
    from_command_line(matches)
        || matches
            .subcommand()
            .is_some_and(|(_, sub)| from_command_line(sub))
}

async fn run(mut cli: Cli) -> Result<(), Failure> {
    if cli.command.uses_an_account() {
        profile::fill_in(&mut cli.connection)?;
    }
    let (format, connection, quiet) = (cli.format, &cli.connection, cli.quiet);
    match &cli.command {
        Command::Status(args) => {
            lookup::run_command(
                &connect(connection).await?,
                Endpoint::Status,
                args,
                format,
                quiet,
            )
            .await
        }
        Command::Data(args) => {
            lookup::run_command(
                &connect(connection).await?,
                Endpoint::Data,
                args,
                format,
                quiet,
            )
            .await
        }
        Command::FullStatus(args) => {
            let connected = connect(connection).await?;
            lookup::run_command(&connected, Endpoint::FullStatus, args, format, quiet).await
        }
        Command::Files(args) => {
            files::run(&connect(connection).await?, args, format, connection, quiet).await
        }
        Command::Report(args) => report::run(&connect(connection).await?.client, args, quiet).await,
        Command::List(args) => list::run(&connect(connection).await?, args, format).await,
        // A deletion connects only once it is confirmed (a dry run never does).
        Command::Delete(args) => delete::run(connection, args, quiet).await,
        Command::Archive(command) => archive::run(command, connection, quiet).await,
        // Callbacks need no connection to the API.
        Command::Callback(command) => callback::run(command, connection, format).await,
        Command::Profiles => profile::list(&mut std::io::stdout().lock()),
        Command::Completions(args) => docs::completions(args.shell, &mut std::io::stdout().lock()),
        Command::Man => docs::man(&mut std::io::stdout().lock()),
    }
}

/// The scanRefs given on the command line, checked.
///
/// # Errors
/// A bad-input failure naming the first that is not a scanRef (escaped).
pub(crate) fn parse_scan_refs(texts: &[String]) -> Result<Vec<ScanRef>, Failure> {
    texts
        .iter()
        .map(|text| {
            text.parse().map_err(|err| {
                Failure::bad_input(format!("scanRef `{}`: {err}", EscapedControls(text)))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_example_of_the_help_is_a_command_line_that_parses() {
        for example in examples().lines() {
            let command_line = example.split(" #").next().unwrap();
            let command_line = command_line.split(" > ").next().unwrap();
            let words: Vec<&str> = command_line.split_whitespace().collect();
            assert_eq!(words.first(), Some(&"idenfy"), "{example}");
            if let Err(err) = Cli::try_parse_from(&words) {
                panic!("{example}: {err}");
            }
        }
    }
}
