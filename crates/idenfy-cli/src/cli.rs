//! The command line: the commands and the output format. Each command's own arguments are in
//! its module (`lookup`, `bulk`, `files`, `report`, `delete`, `callback`); the flags every
//! command shares, how to reach the API, are in [`crate::connect`].

use clap::{Parser, Subcommand, ValueEnum};

use crate::connect::ConnectionArgs;
use crate::delete::DeleteArgs;
use crate::docs::CompletionsArgs;
use crate::failure::exit_code_table;
use crate::files::FilesArgs;
use crate::lookup::LookupArgs;
use crate::report::ReportArgs;

/// Look up iDenfy identifications (status, parsed data, files and full review status), save their
/// PDF reports, and delete their personal data.
#[derive(Debug, Parser)]
#[command(name = "idenfy", version, about, long_about = None, after_long_help = after_long_help())]
pub struct Cli {
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
pub enum Command {
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
    /// Only links to the list on the base URL's origin are followed.
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
pub fn examples() -> String {
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

const EXAMPLES: [&str; 13] = [
    "idenfy list --format jsonl --per-page 100        # the account's identifications",
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
pub enum Format {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
