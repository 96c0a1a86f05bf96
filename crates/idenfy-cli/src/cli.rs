//! The command line: the commands and the output format. Each command's own arguments are in
//! its module (`lookup`, `bulk`, `files`, `report`, `delete`, `callback`); the flags every
//! command shares, how to reach the API, are in [`crate::connect`].

use clap::{Parser, Subcommand, ValueEnum};

use crate::connect::ConnectionArgs;
use crate::delete::DeleteArgs;
use crate::files::FilesArgs;
use crate::lookup::LookupArgs;
use crate::report::ReportArgs;

/// Look up iDenfy identifications (status, parsed data, files and full review status), save their
/// PDF reports, and delete their personal data.
#[derive(Debug, Parser)]
#[command(name = "idenfy", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// How to print results: `table` for people, `json` for the API's JSON as sent, `jsonl` for
    /// one JSON line per scanRef (the bulk format).
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,

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
    /// Result callbacks: send a fixture's signed callback to your webhook, verify or sign a body.
    #[command(subcommand)]
    Callback(crate::callback::CallbackCommand),
    /// List the config file's profiles: name, base URL, API key, and whether a secret is set.
    ///
    /// One line each, tab-separated, `-` for what a profile does not set; the secret itself is
    /// never shown.
    Profiles,
}

impl Command {
    /// Whether the command uses an iDenfy account (the API, or its secret for callbacks): only
    /// those read the `--profile`. The others are about the command itself.
    pub fn uses_an_account(&self) -> bool {
        !matches!(self, Command::Profiles)
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Key facts, aligned for reading.
    Table,
    /// The API's JSON, as sent.
    Json,
    /// One JSON line per scanRef: `{"scanRef", "endpoint", "result" | "error"}`.
    Jsonl,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
