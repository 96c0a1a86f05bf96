//! `idenfy`: look up iDenfy identifications from the command line.
//!
//! This file reads the command line and dispatches each command to the module that does it
//! (`idenfy_cli::lookup`, `bulk`, `download`, `report`, `delete`, `callback`). See the
//! repository's README for the commands, the formats and the exit codes.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use idenfy_hyper::ScanRef;
use idenfy_hyper::core::Endpoint;

use idenfy_cli::args::{Cli, Command, Format, LookupArgs};
use idenfy_cli::connect::{Connection, connect};
use idenfy_cli::failure::{Failure, FailureKind};
use idenfy_cli::interrupt::interrupted;
use idenfy_cli::{bulk, callback, delete, download, lookup, report};

fn main() -> ExitCode {
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

async fn run(cli: Cli) -> Result<(), Failure> {
    // Callbacks need no connection to the API.
    if let Command::Callback(command) = cli.command {
        return callback::run(command, &cli.connection, cli.format).await;
    }
    // A deletion connects only once it is confirmed (a dry run never does).
    if let Command::Delete(args) = &cli.command {
        return delete::run(&cli.connection, args).await;
    }
    let timeout = cli.connection.timeout;
    let deadline = cli.connection.deadline;
    let connection = connect(&cli.connection).await?;
    match cli.command {
        Command::Status(args) => lookups(&connection, Endpoint::Status, &args, cli.format).await,
        Command::Data(args) => lookups(&connection, Endpoint::Data, &args, cli.format).await,
        Command::FullStatus(args) => {
            lookups(&connection, Endpoint::FullStatus, &args, cli.format).await
        }
        Command::Files(files) => match &files.download {
            Some(dir) => {
                let [scan_ref] = parse_scan_refs(&files.lookup.scan_refs)?
                    .try_into()
                    .map_err(|_| Failure::bad_input("--download takes exactly one scanRef"))?;
                let options = download::DownloadOptions {
                    force: files.force,
                    max_file_size: files.max_file_size.0,
                    max_files: files.max_files,
                    max_total_size: files.max_total_size.0,
                    idle_timeout: timeout,
                    deadline: tokio::time::Instant::now() + deadline,
                    total_time: deadline,
                };
                let mut interrupt = interrupted()
                    .map_err(|err| Failure::other(format!("cannot watch for Ctrl-C: {err}")))?;
                // On an interrupt the download is dropped, and its staging directory with it.
                tokio::select! {
                    result = download_files(&connection, &scan_ref, dir, &options) => result,
                    () = &mut interrupt => Err(Failure::new(
                        FailureKind::Interrupted,
                        "interrupted; nothing was published: the files downloaded so far were removed",
                    )),
                }
            }
            None => lookups(&connection, Endpoint::Files, &files.lookup, cli.format).await,
        },
        Command::Report(args) => report::run(&connection.client, &args).await,
        Command::Delete(args) => delete::run(&cli.connection, &args).await,
        Command::Callback(command) => callback::run(command, &cli.connection, cli.format).await,
    }
}

/// `files SCAN_REF --download DIR`: the lookup, then every file it lists.
async fn download_files(
    connection: &Connection,
    scan_ref: &ScanRef,
    dir: &std::path::Path,
    options: &download::DownloadOptions,
) -> Result<(), Failure> {
    let urls = connection
        .client
        .files(scan_ref)
        .await
        .map_err(|error| Failure::lookup(scan_ref.as_str(), &error))?;
    let saved =
        download::download_all(&connection.client, scan_ref, &urls, dir, options, |event| {
            match event {
                download::Event::StaleRemoved(path) => {
                    eprintln!(
                        "idenfy: removed {}, left by an interrupted download",
                        path.display()
                    );
                }
                download::Event::RedoingInterruptedPublish => eprintln!(
                    "idenfy: {} holds an interrupted download of {scan_ref}; downloading it again",
                    dir.display()
                ),
                download::Event::Saved { path, bytes } => {
                    println!("{}\t{bytes} bytes", path.display());
                }
                download::Event::Removed {
                    path,
                    replaced_by: Some(new),
                } => eprintln!(
                    "idenfy: removed {}: {} replaces it",
                    path.display(),
                    new.display()
                ),
                download::Event::Removed {
                    path,
                    replaced_by: None,
                } => eprintln!(
                    "idenfy: removed {}: {scan_ref} has no file of its kind",
                    path.display()
                ),
            }
        })
        .await?;
    if saved == 0 {
        eprintln!("idenfy: {scan_ref} has no files");
    }
    Ok(())
}

async fn lookups(
    connection: &Connection,
    endpoint: Endpoint,
    args: &LookupArgs,
    format: Format,
) -> Result<(), Failure> {
    if args.bulk.input.is_some() {
        let summary = bulk::run(&connection.client, endpoint, &args.bulk).await?;
        eprintln!("idenfy: {}", summary.report());
        return match summary.worst {
            None if !summary.stopped_early => Ok(()),
            worst => Err(Failure::new(
                worst.unwrap_or(FailureKind::Other),
                "the export is incomplete or has failed lookups (see the error lines in the output)",
            )),
        };
    }
    let scan_refs = parse_scan_refs(&args.scan_refs)?;
    lookup::run(
        &connection.client,
        endpoint,
        &scan_refs,
        format,
        &mut std::io::stdout().lock(),
    )
    .await
}

fn parse_scan_refs(texts: &[String]) -> Result<Vec<ScanRef>, Failure> {
    texts
        .iter()
        .map(|text| {
            text.parse()
                .map_err(|err| Failure::bad_input(format!("scanRef `{text}`: {err}")))
        })
        .collect()
}
