//! The `idenfy` command. `src/main.rs` calls [`main`]; each command is a module of its own,
//! which owns its arguments and its `run` (`lookup`, `bulk`, `files`, `report`, `delete`,
//! `callback`), beside the machinery they share (the connection, exports, downloads, the audit
//! file, private files, the output).
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
mod cli;
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
mod render;
mod report;
mod result_line;
mod resume;
mod rfc3339;
mod trusted_file;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use idenfy_hyper::core::Endpoint;

use crate::cli::{Cli, Command};
use crate::connect::connect;
use crate::failure::{Failure, FailureKind};

/// What the fuzz targets read through: the bulk input, the resume of an export, and the set of
/// lookups a run has met. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::input::scan_ref_lines;
    pub use crate::lookup_set::LookupSet;
    pub use crate::resume::rewrite_export;
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
