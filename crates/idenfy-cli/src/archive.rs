//! `idenfy archive`: evidence bundles of identifications, kept for years, and their check.
//!
//! `archive create --to DIR` builds one bundle per scanRef, `DIR/SCANREF/`: the four lookups'
//! JSON as the API sent it, the report, every file `/files` names (fetched, named and capped
//! as `files --download` does, see [`crate::download`]) and `manifest.json` (see
//! [`crate::manifest`]). A bundle is complete or absent ([`crate::bundle`]). `--concurrency N`
//! bounds both the bundles being built (at most N at once) and the API requests in flight (at
//! most N, across all bundles): a bundle's four lookups and report are sent together, each
//! waiting for a free request slot, then its files are fetched one after the other (so at most
//! N downloads too). `--rate` spaces every API request across them. Files are written,
//! flushed and renamed on the blocking pool, off the runtime's worker threads, so that the
//! fsyncs of one bundle do not stall the requests of the others.
//! The scanRefs are read as a stream, as a bulk export reads them ([`crate::bulk`]): memory
//! does not grow with their number.
//!
//! A rerun is a resume: a bundle already in `DIR` that verifies is kept, and one a killed run
//! did not finish was never published, so it is built again (the stale staging directory is
//! removed first). A bundle under its final name that does not verify is evidence someone
//! changed: it is never replaced without `--force`.
//!
//! `--callbacks DIR` adds the result callbacks a webhook stored for each scanRef (see
//! [`crate::stored_callback`]): the vendor's signed words beside the lookups.
//!
//! `archive verify DIR` checks a bundle, or every bundle of a directory of them; with signing
//! keys, also each stored callback's signature.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use clap::{Args, Subcommand};
use idenfy_hyper::core::callback::{CallbackVerifier, KeyMatch};
use idenfy_hyper::core::{Endpoint, EscapedControls, escape_controls};
use idenfy_hyper::models::FileUrls;
use idenfy_hyper::{Client, ScanRef};
use indicatif::{MultiProgress, ProgressDrawTarget};
use tokio::sync::{Semaphore, SemaphorePermit, mpsc};
use tokio::task::JoinSet;

use crate::bulk::{self, INPUT_QUEUE, Next};
use crate::bundle::BundleBuilder;
use crate::byte_size::{ByteSize, parse_byte_size};
use crate::callback::{self, SigningKeyArgs};
use crate::connect::{ConnectionArgs, connect};
use crate::download::{self, DownloadOptions};
use crate::download_set::{self, Staging};
use crate::failure::{Failure, FailureKind};
use crate::interrupt::interrupted;
use crate::lookup_set::LookupSet;
use crate::manifest::{self, Checks, LOOKUP_NAMES, MANIFEST_NAME, Manifest, REPORT_NAME, Tool};
use crate::parse_scan_refs;
use crate::private_file;
use crate::rate::SharedPacer;
use crate::report::is_plain_name;
use crate::rfc3339;
use crate::stored_callback;
use crate::trusted_file;

/// `archive`: create bundles, or verify them.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Save one evidence bundle per scanRef into DIR/SCANREF/: the four lookups' JSON as sent,
    /// the PDF report, every file, and a manifest of their sizes and SHA-256 digests.
    ///
    /// A bundle is built in a private staging directory and published whole, with one rename
    /// (directories 0700, files 0600, all flushed to disk). Run again to resume: bundles that
    /// verify are kept, the others are built. An existing bundle is never replaced without
    /// `--force`.
    Create(CreateArgs),
    /// Check a bundle, or every bundle of a directory: each listed file present with its size
    /// and digest, nothing unlisted, the manifest well formed. Exit 0 only when all verify.
    ///
    /// With the webhook's signing keys (`--signing-key`, IDENFY_CALLBACK_SIGNING_KEY or the
    /// profile's `signing_key`), each stored callback's Idenfy-Signature must also match its
    /// body under one of them, and the signed body be the bundle's scanRef's. Without a key
    /// the signatures are not checked, and each line says so.
    Verify(VerifyArgs),
}

/// `archive create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The scanRefs to archive.
    #[arg(
        value_name = "SCAN_REF",
        required_unless_present = "input",
        conflicts_with = "input"
    )]
    pub scan_refs: Vec<String>,
    /// Read scanRefs from FILE, one per line (`-` for standard input; blank lines and `#`
    /// comments skipped), as a stream.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The archive directory (created with mode 0700 if missing; it must be your own and
    /// writable by no one else).
    #[arg(long, value_name = "DIR", required = true)]
    pub to: PathBuf,
    /// Replace bundles already in DIR, even ones that verify.
    #[arg(long)]
    pub force: bool,
    /// How many bundles are built at once, and how many API requests are in flight at most
    /// across them (a bundle sends its four lookups and report together).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Start at most N API requests a second across all bundles (downloads of files are not
    /// counted), from 0.01 to 100000.
    #[arg(long, value_name = "N", value_parser = bulk::parse_rate)]
    pub rate: Option<f64>,
    /// The largest file accepted, as for `files --download`.
    #[arg(long, value_name = "BYTES", default_value_t = ByteSize(idenfy_hyper::DEFAULT_MAX_DOWNLOAD_BYTES), value_parser = parse_byte_size)]
    pub max_file_size: ByteSize,
    /// The most files one identification may list, as for `files --download`.
    #[arg(long, value_name = "N", default_value_t = download::DEFAULT_MAX_FILES, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_files: u32,
    /// The most bytes all the files of one identification may hold together, as for
    /// `files --download`.
    #[arg(long, value_name = "BYTES", default_value_t = ByteSize(download::DEFAULT_MAX_TOTAL_BYTES), value_parser = parse_byte_size)]
    pub max_total_size: ByteSize,
    /// Also keep the result callbacks your webhook stored, as `callbacks/` of each bundle:
    /// DIR/SCANREF/NAME.json, the body byte for byte as received, beside
    /// DIR/SCANREF/NAME.headers.json, a JSON object of its headers (Idenfy-Signature required,
    /// Idenfy-Event-Type kept). NAME is letters, digits, `-` and `_`, one per callback (the
    /// automatic result, then the manual one); names starting with `.` are skipped. Each file
    /// must be a regular file of your own that no one else can write, at most 1 MiB. A scanRef
    /// without callbacks is archived with none.
    #[arg(long, value_name = "DIR")]
    pub callbacks: Option<PathBuf>,
}

/// `archive verify`.
#[derive(Debug, Args)]
#[command(mut_arg("signing_keys", |arg| arg.help(
    "The webhook's signing key, to check each stored callback's Idenfy-Signature; repeat it \
     during a rotation (either may match). Without one, signatures are not checked (the API \
     secret is never tried: give it here for an account that signs with it). Prefer the \
     variable: a key on the command line ends up in the shell's history"
)))]
pub struct VerifyArgs {
    /// A bundle (a directory with a manifest.json, or with the files of one: checked as a
    /// bundle), or a directory of bundles.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub keys: SigningKeyArgs,
}

/// Runs `archive`.
pub async fn run(
    command: &ArchiveCommand,
    connection: &ConnectionArgs,
    quiet: bool,
) -> Result<(), Failure> {
    match command {
        ArchiveCommand::Create(args) => create(args, connection, quiet).await,
        ArchiveCommand::Verify(args) => verify(args, connection, quiet),
    }
}

/// Everything a bundle's task needs.
struct Context {
    client: Client,
    dir: PathBuf,
    /// The run's staging directory, where each bundle is built.
    staging: Arc<Staging>,
    force: bool,
    pacer: SharedPacer,
    /// `--concurrency` slots, one held by each API request in flight.
    requests: Semaphore,
    base_url: String,
    timeout: std::time::Duration,
    deadline: std::time::Duration,
    max_file_size: u64,
    max_files: u32,
    max_total_size: u64,
    /// `--callbacks`.
    callbacks: Option<PathBuf>,
}

impl Context {
    /// Waits for a request slot, then for `--rate`'s turn: what an API request holds while it
    /// is in flight.
    async fn request_slot(&self) -> Result<SemaphorePermit<'_>, Failure> {
        let slot = self
            .requests
            .acquire()
            .await
            .map_err(|err| Failure::other(format!("an archive task failed: {err}")))?;
        self.pacer.wait_turn().await;
        Ok(slot)
    }

    /// Runs file work on the blocking pool: at most one job a bundle, so at most
    /// `--concurrency` at once, which lets the disk take several flushes together.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| Failure::other(format!("an archive task failed: {err}")))?
    }
}

/// What became of one scanRef.
enum Done {
    Created {
        files: usize,
        bytes: u64,
        /// With `--callbacks`, how many the bundle stores.
        callbacks: Option<usize>,
    },
    /// A bundle that verifies was there already.
    Complete,
}

async fn create(
    args: &CreateArgs,
    connection: &ConnectionArgs,
    quiet: bool,
) -> Result<(), Failure> {
    // Checked before anything is sent: a list of arguments is known whole.
    let given = parse_scan_refs(&args.scan_refs)?;
    for scan_ref in &given {
        plain(scan_ref)?;
    }
    let dir = &args.to;
    let shown = dir.display();
    private_file::create_private_dir(dir)
        .map_err(|err| Failure::bad_input(format!("--to {shown}: {err}")))?;
    let metadata = std::fs::symlink_metadata(dir)
        .map_err(|err| Failure::bad_input(format!("--to {shown}: {err}")))?;
    if !metadata.is_dir() {
        return Err(Failure::bad_input(format!(
            "--to {shown}: not a directory (a link is not followed)"
        )));
    }
    // Its bundles decide what a rerun keeps and what `delete --archived` deletes.
    trusted_file::check(dir, &metadata, "the archive directory")?;
    if let Some(callbacks) = &args.callbacks {
        stored_callback::check_directory(callbacks)?;
    }
    let lock = download_set::lock_directory(dir, "archive")?;
    download_set::remove_stale_temporaries(dir, |path| {
        eprintln!(
            "idenfy: removed {}, left by an interrupted archive run",
            path.display()
        );
    })?;

    // The staging holds the directory's lock: the blocking jobs that publish bundles share it,
    // so the directory stays locked until the last of them has ended, even after an interrupt
    // has ended this task.
    let staging = Arc::new(Staging::create_holding(dir, lock)?);

    let connected = connect(connection).await?;
    let context = Arc::new(Context {
        staging,
        base_url: connected.client.core().base_url().to_string(),
        client: connected.client.clone(),
        dir: dir.clone(),
        force: args.force,
        pacer: SharedPacer::new(args.rate),
        requests: Semaphore::new(usize::from(args.concurrency)),
        timeout: connection.timeout,
        deadline: connection.deadline,
        max_file_size: args.max_file_size.0,
        max_files: args.max_files,
        max_total_size: args.max_total_size.0,
        callbacks: args.callbacks.clone(),
    });

    let (sender, mut receiver) = mpsc::channel(INPUT_QUEUE);
    let seen = LookupSet::new()
        .map_err(|err| Failure::other(format!("no randomness from the system: {err}")))?;
    match &args.input {
        Some(input) => {
            let source = bulk::open_input(input)?;
            std::thread::Builder::new()
                .name("idenfy-input".into())
                // A bundle is one key per scanRef, whichever endpoint names it.
                .spawn(move || bulk::read_input(source, Endpoint::Status, seen, &sender))
                .map_err(|err| Failure::other(format!("cannot start the input reader: {err}")))?;
        }
        None => {
            let mut seen = seen;
            let _ = sender.try_send(Next::Lines(given.len() as u64));
            std::thread::Builder::new()
                .name("idenfy-input".into())
                .spawn(move || {
                    for scan_ref in given {
                        let next = match seen.claim(Endpoint::Status, &scan_ref) {
                            crate::lookup_set::Claim::New => Next::LookUp(scan_ref),
                            _ => Next::Duplicate,
                        };
                        if sender.blocking_send(next).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|err| Failure::other(format!("cannot start the input reader: {err}")))?;
        }
    }

    let progress = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        bulk::progress_bar()
    };
    let mut interrupt =
        interrupted().map_err(|err| Failure::other(format!("cannot watch for Ctrl-C: {err}")))?;
    let mut tasks: JoinSet<(ScanRef, Result<Done, Failure>)> = JoinSet::new();
    let (mut created, mut complete, mut failed, mut total) = (0u64, 0u64, 0u64, 0u64);
    let mut worst: Option<FailureKind> = None;
    let mut reading = true;
    let mut ready: Option<ScanRef> = None;
    let mut bad_input = None;
    let mut stopped = false;
    loop {
        while tasks.len() < usize::from(args.concurrency) {
            let Some(scan_ref) = ready.take() else { break };
            let context = Arc::clone(&context);
            tasks.spawn(async move {
                let result = archive_one(context, scan_ref.clone()).await;
                (scan_ref, result)
            });
        }
        if tasks.is_empty() && ready.is_none() && !reading {
            break;
        }
        tokio::select! {
            () = &mut interrupt => {
                // Each task's staging directory goes with it: nothing half built is published.
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                stopped = true;
                worst = Some(FailureKind::Interrupted);
                break;
            }
            next = receiver.recv(), if reading && ready.is_none() => match next {
                None => reading = false,
                Some(Next::Lines(lines)) => progress.set_length(lines),
                Some(Next::LookUp(scan_ref)) => {
                    total += 1;
                    ready = Some(scan_ref);
                }
                Some(Next::AlreadyDone | Next::Duplicate) => progress.inc(1),
                Some(Next::Bad(error)) => {
                    bad_input = Some(error);
                    reading = false;
                }
            },
            Some(joined) = tasks.join_next() => {
                let (scan_ref, result) = joined
                    .map_err(|err| Failure::other(format!("an archive task failed: {err}")))?;
                let bundle = dir.join(scan_ref.as_str());
                match result {
                    Ok(Done::Created { files, bytes, callbacks }) => {
                        created += 1;
                        let callbacks = callbacks.map_or_else(String::new, |n| format!(", {n} callbacks"));
                        progress.suspend(|| {
                            println!("{scan_ref}\tcreated\t{}\t{files} files, {bytes} bytes{callbacks}", bundle.display());
                        });
                    }
                    Ok(Done::Complete) => {
                        complete += 1;
                        progress.suspend(|| {
                            println!("{scan_ref}\tcomplete\t{}", bundle.display());
                        });
                    }
                    Err(failure) => {
                        failed += 1;
                        progress.suspend(|| eprintln!("idenfy: {failure}"));
                        if failure.kind == FailureKind::Authentication && reading {
                            progress.suspend(|| eprintln!("idenfy: the credentials were refused; stopping"));
                            reading = false;
                            ready = None;
                        }
                        worst = worst.max(Some(failure.kind));
                    }
                }
                progress.inc(1);
            }
        }
    }
    progress.finish_and_clear();
    drop(connected);
    if !quiet {
        let left = total - created - complete - failed;
        let mut summary = format!(
            "{created} created, {complete} already complete, {failed} failed, of {total} scanRefs, in {shown}"
        );
        if stopped || left > 0 {
            summary.push_str(&format!(
                "; {left} not archived: run again to go on (complete bundles are kept)"
            ));
        }
        eprintln!("idenfy: {summary}");
    }
    if let Some(error) = bad_input {
        let input = args.input.as_deref().unwrap_or(Path::new("-"));
        return Err(Failure::bad_input(format!(
            "--input {}: {error}",
            input.display()
        )));
    }
    match worst {
        None => Ok(()),
        Some(FailureKind::Interrupted) => Err(Failure::new(
            FailureKind::Interrupted,
            "interrupted; the bundles not yet complete were removed; run again to go on",
        )),
        Some(kind) => Err(Failure::new(
            kind,
            "some bundles were not created (see the messages above); run again to retry them",
        )),
    }
}

/// The check a scanRef passes before it names a bundle: a plain file name.
fn plain(scan_ref: &ScanRef) -> Result<(), Failure> {
    if is_plain_name(scan_ref.as_str()) {
        Ok(())
    } else {
        Err(Failure::bad_input(format!(
            "{}: this scanRef cannot name a bundle directory (only letters, digits, '-', '_' and '.', not first); nothing was fetched",
            EscapedControls(scan_ref.as_str())
        )))
    }
}

/// Builds and publishes the bundle of `scan_ref`, or keeps the complete one there.
///
/// The four lookups and the report are sent together (each holding one of the run's
/// `--concurrency` request slots), then the files are fetched. The writes, flushes and renames
/// of the bundle (its answers, its manifest, its publishing) run on the blocking pool, not on
/// the runtime's few worker threads, so that one bundle's fsyncs do not hold up the others'
/// requests; a download's temporary file is still made on the worker, and a bundle dropped
/// before its files are fetched is removed there. A closure on the blocking pool owns the
/// bundle being built: if the task is aborted meanwhile, the closure still ends and drops it
/// (removing its staging directory), or publishes it whole.
async fn archive_one(context: Arc<Context>, scan_ref: ScanRef) -> Result<Done, Failure> {
    plain(&scan_ref)?;
    let target = context.dir.join(scan_ref.as_str());
    let replace = {
        let (target, force) = (target.clone(), context.force);
        match context.blocking(move || existing(&target, force)).await? {
            Existing::Keep => return Ok(Done::Complete),
            Existing::Replace => true,
            Existing::None => false,
        }
    };
    // The stored callbacks are checked before anything is fetched: a file refused stops the
    // bundle at once.
    let stored = match &context.callbacks {
        Some(dir) => {
            let (dir, scan_ref) = (dir.clone(), scan_ref.clone());
            Some(
                context
                    .blocking(move || stored_callback::read_for(&dir, &scan_ref))
                    .await?,
            )
        }
        None => None,
    };
    let callback_count = stored.as_ref().map(Vec::len);
    let taken_at = rfc3339::format_utc(SystemTime::now());
    let lookup = |endpoint| {
        let (context, scan_ref) = (&context, &scan_ref);
        async move {
            let _slot = context.request_slot().await?;
            context
                .client
                .lookup_raw(endpoint, scan_ref)
                .await
                .map(|lookup| lookup.body)
                .map_err(|failure| Failure::lookup(scan_ref.as_str(), &failure.error))
        }
    };
    let report = async {
        let _slot = context.request_slot().await?;
        context
            .client
            .report(&scan_ref)
            .await
            .map(|report| report.pdf)
            .map_err(|failure| Failure::lookup(scan_ref.as_str(), &failure.error))
    };
    let answers = tokio::try_join!(
        lookup(Endpoint::Status),
        lookup(Endpoint::Data),
        lookup(Endpoint::Files),
        lookup(Endpoint::FullStatus),
        report,
    );
    let (status, data, files_json, full_status, pdf) = answers?;
    let urls: FileUrls = serde_json::from_slice(&files_json).map_err(|_| {
        Failure::new(
            FailureKind::Api,
            format!(
                "{}: the /files answer is not a table of file URLs",
                escape_controls(scan_ref.as_str())
            ),
        )
    })?;
    // Every URL and the number of files checked before anything more is fetched.
    let wanted = download::checked_urls(&urls, &options(&context))
        .map_err(|failure| prefixed(&scan_ref, failure))?;
    let has_files = !wanted.is_empty();
    let staging = Arc::clone(&context.staging);
    let start = scan_ref.clone();
    let (builder, files) = context
        .blocking(move || {
            let mut builder = BundleBuilder::start(&staging, &start)?;
            for (name, body) in [
                ("status.json", &status),
                ("data.json", &data),
                ("files.json", &files_json),
                ("full-status.json", &full_status),
                (REPORT_NAME, &pdf),
            ] {
                builder.write(name, body)?;
            }
            for callback in stored.iter().flatten() {
                builder.add_callback(callback)?;
            }
            let files = if has_files {
                Some(builder.files_dir()?)
            } else {
                None
            };
            Ok((builder, files))
        })
        .await?;
    let mut builder = builder;
    if let Some(files) = files {
        // Many bundles at once: one progress bar per file would be noise.
        let hidden = MultiProgress::with_draw_target(ProgressDrawTarget::hidden());
        let fetched = download::fetch_all(
            &context.client,
            &hidden,
            &files,
            &wanted,
            &options(&context),
        )
        .await;
        let staged = match fetched {
            Ok(staged) => staged,
            Err(failure) => return Err(prefixed(&scan_ref, failure)),
        };
        builder = context
            .blocking(move || {
                for file in staged {
                    builder.add_download(file)?;
                }
                Ok(builder)
            })
            .await?;
    }
    let header = Manifest {
        format: match callback_count {
            None => manifest::FORMAT,
            Some(_) => manifest::FORMAT_WITH_CALLBACKS,
        }
        .to_owned(),
        scan_ref: scan_ref.as_str().to_owned(),
        taken_at,
        base_url: context.base_url.clone(),
        tool: Tool::this(),
        files: Vec::new(),
        callbacks: callback_count.map(|count| u32::try_from(count).unwrap_or(u32::MAX)),
    };
    context
        .blocking(move || {
            let (files, bytes) = builder.written();
            let finished = builder.finish(header)?;
            let bytes = bytes + finished.manifest_bytes;
            finished.publish(&target, replace)?;
            Ok(Done::Created {
                files: files + 1,
                bytes,
                callbacks: callback_count,
            })
        })
        .await
}

/// What is under a bundle's final name before it is built.
enum Existing {
    None,
    /// A bundle that verifies, kept.
    Keep,
    /// Something to replace (`--force`).
    Replace,
}

/// Looks at `target`: a bundle there that verifies is kept unless `force`; one that does not
/// is evidence that changed, refused unless `force`.
fn existing(target: &Path, force: bool) -> Result<Existing, Failure> {
    match target.symlink_metadata() {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Existing::None),
        Err(err) => Err(Failure::other(format!("{}: {err}", target.display()))),
        Ok(_) => match manifest::verify_bundle(target, Checks { trusted: true }) {
            Ok(_) if !force => Ok(Existing::Keep),
            Err(problems) if !force => Err(Failure::bad_input(format!(
                "{}: a bundle is there that does not verify ({}); it was kept: see `idenfy archive verify`, or pass --force to replace it",
                target.display(),
                problems.first().map_or("", String::as_str)
            ))),
            _ => Ok(Existing::Replace),
        },
    }
}

/// The download options of one bundle: `--deadline` bounds its files, from now.
fn options(context: &Context) -> DownloadOptions {
    let deadline = context.deadline;
    DownloadOptions {
        force: false,
        max_file_size: context.max_file_size,
        max_files: context.max_files,
        max_total_size: context.max_total_size,
        idle_timeout: context.timeout,
        deadline: tokio::time::Instant::now() + deadline,
        total_time: deadline,
    }
}

fn prefixed(scan_ref: &ScanRef, failure: Failure) -> Failure {
    Failure::new(
        failure.kind,
        format!(
            "{}: {}",
            EscapedControls(scan_ref.as_str()),
            failure.message
        ),
    )
}

/// The bundles of `dir`: itself when it holds a manifest or any other file only a bundle has
/// (a lookup's answer, the report), else each entry of it (sorted), leaving out the command's
/// own temporaries (`.idenfy-*`). A bundle that lost its manifest is still one bundle, which
/// fails as such, not a directory whose files each fail as a bundle.
pub fn bundles_of(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let shown = dir.display();
    let metadata = std::fs::symlink_metadata(dir)
        .map_err(|err| Failure::bad_input(format!("{shown}: {err}")))?;
    if !metadata.is_dir() {
        return Err(Failure::bad_input(format!(
            "{shown}: not a directory (a link is not followed)"
        )));
    }
    let is_a_bundle = [MANIFEST_NAME, REPORT_NAME]
        .into_iter()
        .chain(LOOKUP_NAMES)
        .any(|name| dir.join(name).symlink_metadata().is_ok());
    if is_a_bundle {
        return Ok(vec![dir.to_owned()]);
    }
    let mut bundles: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| Failure::bad_input(format!("{shown}: {err}")))?
        .flatten()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with(".idenfy-"))
        .map(|entry| entry.path())
        .collect();
    bundles.sort();
    Ok(bundles)
}

/// Which of several keys matched a bundle's callbacks, by position (never a key): for a
/// rotation, to see when the old key stopped being used.
fn which_keys(matched: &[KeyMatch], key_count: usize) -> String {
    if key_count < 2 || matched.is_empty() {
        return String::new();
    }
    let mut positions: Vec<usize> = matched.iter().map(|key| key.index + 1).collect();
    positions.sort_unstable();
    positions.dedup();
    let positions: Vec<String> = positions.iter().map(ToString::to_string).collect();
    let noun = if positions.len() == 1 { "key" } else { "keys" };
    format!(" (signing {noun} {} of {key_count})", positions.join(", "))
}

/// The name a bundle is shown by: its directory's, escaped.
pub fn shown_name(bundle: &Path) -> String {
    escape_controls(
        &bundle
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| bundle.display().to_string()),
    )
    .into_owned()
}

fn verify(args: &VerifyArgs, connection: &ConnectionArgs, quiet: bool) -> Result<(), Failure> {
    let dir = args.dir.as_path();
    let keys = callback::signing_keys(&args.keys, connection)?;
    let key_count = keys.len();
    let verifier = keys.split_first().map(|(first, rest)| {
        rest.iter().cloned().fold(
            CallbackVerifier::new(first.clone()),
            CallbackVerifier::with_key,
        )
    });
    let mut unchecked = 0usize;
    let started = Instant::now();
    let bundles = bundles_of(dir)?;
    if bundles.is_empty() {
        return Err(Failure::bad_input(format!(
            "{}: holds no bundle; nothing was verified",
            dir.display()
        )));
    }
    let mut failed = 0usize;
    let mut out = std::io::stdout().lock();
    for bundle in &bundles {
        let name = shown_name(bundle);
        let checked =
            manifest::verify_bundle(bundle, Checks { trusted: false }).and_then(|verified| {
                let said = match (&verified.callbacks, &verifier) {
                    (None, _) => String::new(),
                    (Some(callbacks), _) if callbacks.is_empty() => {
                        "\tno callback stored".to_owned()
                    }
                    (Some(callbacks), Some(verifier)) => {
                        let matched = stored_callback::check_signatures(
                            verifier,
                            &verified.scan_ref,
                            callbacks,
                        )?;
                        format!(
                            "\t{} callbacks, signatures valid{}",
                            callbacks.len(),
                            which_keys(&matched, key_count)
                        )
                    }
                    (Some(callbacks), None) => {
                        unchecked += callbacks.len();
                        format!("\t{} callbacks, signatures not checked", callbacks.len())
                    }
                };
                Ok((verified, said))
            });
        let line = match checked {
            Ok((verified, said)) => format!(
                "{name}\tverified\tmanifest sha256 {}{said}\n",
                verified.manifest_sha256
            ),
            Err(problems) => {
                failed += 1;
                problems
                    .iter()
                    .map(|problem| format!("{name}\tFAILED\t{problem}\n"))
                    .collect()
            }
        };
        std::io::Write::write_all(&mut out, line.as_bytes())
            .map_err(|err| Failure::other(format!("writing the output failed: {err}")))?;
    }
    if !quiet {
        let verified = bundles.len() - failed;
        let unchecked = if unchecked > 0 {
            format!(
                "; the signatures of {unchecked} stored callbacks were not checked: give the webhook's signing key (--signing-key or IDENFY_CALLBACK_SIGNING_KEY)"
            )
        } else {
            String::new()
        };
        eprintln!(
            "idenfy: {verified} verified, {failed} failed, of {} bundles in {} ({:.1?}){unchecked}",
            bundles.len(),
            dir.display(),
            started.elapsed()
        );
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::new(
            FailureKind::BundleRefused,
            format!("{failed} bundle(s) do not verify (see the lines above)"),
        ))
    }
}
