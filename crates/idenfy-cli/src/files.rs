//! `idenfy files`: the file URLs of identifications, like any lookup, or with `--download DIR`
//! one identification's files saved as one set (see [`crate::download`]).

use std::path::PathBuf;

use clap::Args;
use idenfy_hyper::ScanRef;
use idenfy_hyper::core::Endpoint;

use crate::Format;
use crate::byte_size::{ByteSize, parse_byte_size};
use crate::connect::{Connection, ConnectionArgs};
use crate::download;
use crate::failure::{Failure, FailureKind};
use crate::interrupt::interrupted;
use crate::lookup::{self, LookupArgs};
use crate::parse_scan_refs;

/// `files`: lookups, or a download of one identification's files.
#[derive(Debug, Args)]
pub struct FilesArgs {
    #[command(flatten)]
    pub lookup: LookupArgs,

    /// Download every file of the (single) scanRef into DIR, named by kind (`FRONT.png`, ...),
    /// as one set: published only once every file is complete, and recorded in
    /// `DIR/.idenfy-download.json`. A directory holding another identification's files is
    /// refused unless `--force` is given.
    #[arg(long, value_name = "DIR", conflicts_with = "input")]
    pub download: Option<PathBuf>,

    /// Replace the downloads already in the directory: files of the new set's kinds are
    /// replaced, and the others (another extension, or a kind the new set does not have) are
    /// removed once the new set is in place, each removal reported.
    #[arg(long, requires = "download")]
    pub force: bool,

    /// The largest file accepted, in bytes, or with a suffix K, M or G (powers of 1024). A larger
    /// file fails the download and leaves nothing behind.
    #[arg(long, value_name = "BYTES", default_value_t = ByteSize(idenfy_hyper::DEFAULT_MAX_DOWNLOAD_BYTES), value_parser = parse_byte_size, requires = "download")]
    pub max_file_size: ByteSize,

    /// The most files one identification may list. A longer answer is refused before anything
    /// is fetched.
    #[arg(long, value_name = "N", default_value_t = crate::download::DEFAULT_MAX_FILES, value_parser = clap::value_parser!(u32).range(1..), requires = "download")]
    pub max_files: u32,

    /// The most bytes all the files of the identification may hold together (suffixes as for
    /// `--max-file-size`), counted as they arrive. A larger set fails the download and leaves
    /// nothing behind.
    #[arg(long, value_name = "BYTES", default_value_t = ByteSize(crate::download::DEFAULT_MAX_TOTAL_BYTES), value_parser = parse_byte_size, requires = "download")]
    pub max_total_size: ByteSize,
}

/// Runs `files`: the lookups, or the download.
pub async fn run(
    connection: &Connection,
    args: &FilesArgs,
    format: Option<Format>,
    limits: &ConnectionArgs,
    quiet: bool,
) -> Result<(), Failure> {
    let (timeout, deadline) = (limits.timeout, limits.deadline);
    let Some(dir) = &args.download else {
        return lookup::run_command(connection, Endpoint::Files, &args.lookup, format, quiet).await;
    };
    let [scan_ref] = parse_scan_refs(&args.lookup.scan_refs)?
        .try_into()
        .map_err(|_| Failure::bad_input("--download takes exactly one scanRef"))?;
    let options = download::DownloadOptions {
        force: args.force,
        max_file_size: args.max_file_size.0,
        max_files: args.max_files,
        max_total_size: args.max_total_size.0,
        idle_timeout: timeout,
        deadline: tokio::time::Instant::now() + deadline,
        total_time: deadline,
    };
    let mut interrupt =
        interrupted().map_err(|err| Failure::other(format!("cannot watch for Ctrl-C: {err}")))?;
    // On an interrupt the download is dropped, and its staging directory with it.
    tokio::select! {
        result = download_files(connection, &scan_ref, dir, &options) => result,
        () = &mut interrupt => Err(Failure::new(
            FailureKind::Interrupted,
            "interrupted; nothing was published: the files downloaded so far were removed",
        )),
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
