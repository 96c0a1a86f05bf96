//! Bulk export: many scanRefs, looked up with bounded concurrency (and, with `--rate`, a bounded
//! rate), one JSON line each.
//!
//! Nothing is lost: every scanRef gets a line, a result or an error; rate-limited and failing
//! lookups are retried by the client before an error is written; an interrupt stops the run with
//! only whole lines in the output, and `--resume` carries on from there. The input is read as a
//! stream by a thread of its own (see [`crate::input`]), so memory does not grow with it beyond
//! the 16 bytes a scanRef of [`LookupSet`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use idenfy_hyper::core::Endpoint;
use idenfy_hyper::{Client, ScanRef};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::export_file;
use crate::export_format::ExportFormat;
use crate::failure::{Failure, FailureKind};
use crate::input::{InputError, count_scan_refs, scan_ref_lines};
use crate::interrupt::interrupted;
use crate::lookup_set::{Claim, LookupSet};
use crate::output::{FLUSH_INTERVAL, LineOutput};
use crate::rate::Pacer;

/// How many input lines may wait, read but not yet started: enough to keep every worker busy,
/// few enough to cost nothing.
pub const INPUT_QUEUE: usize = 256;

/// What a bulk run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Different scanRefs read from the input.
    pub total: usize,
    /// Already in the output from an earlier run (`--resume`).
    pub skipped: usize,
    /// Input lines skipped because their scanRef came earlier in the input.
    pub duplicates: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Lookups that took more than one attempt, as the client counted them.
    pub retried: usize,
    /// The most serious failure among the lookups.
    pub worst: Option<FailureKind>,
    /// Stopped by Ctrl-C or by refused credentials before every scanRef was looked up.
    pub stopped_early: bool,
}

impl Summary {
    /// The line printed at the end of a run.
    pub fn report(&self) -> String {
        let mut text = format!(
            "{} succeeded, {} failed, {} retried, of {} scanRefs",
            self.succeeded, self.failed, self.retried, self.total
        );
        if self.skipped > 0 {
            text.push_str(&format!(" ({} already in the output)", self.skipped));
        }
        if self.duplicates > 0 {
            text.push_str(&format!("; {} duplicate lines skipped", self.duplicates));
        }
        let remaining = self.total - self.skipped - self.succeeded - self.failed;
        if self.stopped_early {
            text.push_str(&format!(
                "; stopped with {remaining} lookups unfinished and the rest of the input unread: run again with --resume"
            ));
        } else if remaining > 0 {
            text.push_str(&format!(
                "; {remaining} not looked up: run again with --resume"
            ));
        }
        text
    }
}

/// What the input thread sends.
pub enum Next {
    /// The number of scanRef lines in the input, when it could be counted first.
    Lines(u64),
    LookUp(ScanRef),
    AlreadyDone,
    Duplicate,
    Bad(InputError),
}

/// Bulk export: many scanRefs from a file, results as JSON lines.
#[derive(Debug, Args)]
pub struct BulkArgs {
    /// Read scanRefs from FILE, one per line (`-` for standard input); blank lines and lines
    /// starting with `#` are skipped. Results are written as JSON lines.
    #[arg(long, value_name = "FILE", conflicts_with = "scan_refs")]
    pub input: Option<PathBuf>,

    /// Write the JSON lines to FILE (`-` for standard output, the default).
    #[arg(long, value_name = "FILE", requires = "input")]
    pub output: Option<PathBuf>,

    /// How many lookups run at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256), requires = "input")]
    pub concurrency: u16,

    /// Start at most N lookups a second, across all of `--concurrency` (a lookup's own retries
    /// are not counted): keeps an export under the account's rate limit and polite to the
    /// vendor. From 0.01 (one every 100 seconds) to 100000. Default: 10 a second to a host that
    /// is not this machine, no limit to this machine (the sandbox).
    #[arg(long, value_name = "N", value_parser = parse_rate, requires = "input")]
    pub rate: Option<f64>,

    /// Keep the successful lines already in `--output` for this endpoint and look up only the
    /// other scanRefs. The file must be the output of a bulk export; it keeps its mode.
    #[arg(long, requires = "output")]
    pub resume: bool,
}

pub fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of lookups per second"))?;
    if !(MIN_RATE..=MAX_RATE).contains(&rate) {
        return Err(format!(
            "{text} is outside {MIN_RATE} to {MAX_RATE} lookups per second"
        ));
    }
    Ok(rate)
}

/// The slowest `--rate`: one lookup every 100 seconds. Slower is no export any more, and a
/// spacing of years (or one `Duration` cannot hold) would only look like a hang.
const MIN_RATE: f64 = 0.01;
/// The fastest `--rate`; beyond it, the limit would not limit anything.
const MAX_RATE: f64 = 100_000.0;

/// The rate a bulk export keeps without `--rate` to a host that is not this machine. The vendor
/// asks integrators not to poll `/api/v2/status`; ten lookups a second exports 36,000 an hour,
/// enough for a re-export, and no burst an account's rate limit would answer with 429s.
pub const DEFAULT_REMOTE_RATE: f64 = 10.0;

/// The rate a run keeps: `--rate` if given, else [`DEFAULT_REMOTE_RATE`] unless the base URL's
/// host is this machine (a sandbox, a local proxy), which asks for no politeness.
fn effective_rate(given: Option<f64>, base_url: &str) -> Option<f64> {
    if given.is_some() {
        return given;
    }
    let host = base_url
        .parse::<http::Uri>()
        .ok()
        .and_then(|uri| uri.host().map(str::to_owned));
    match host {
        Some(host) if idenfy_hyper::core::is_loopback_host(&host) => None,
        _ => Some(DEFAULT_REMOTE_RATE),
    }
}

/// Runs a bulk export of `endpoint` for the scanRefs in `args.input`.
pub async fn run(
    client: &Client,
    endpoint: Endpoint,
    format: ExportFormat,
    args: &BulkArgs,
    quiet: bool,
) -> Result<Summary, Failure> {
    let input = args
        .input
        .as_deref()
        .ok_or_else(|| Failure::bad_input("--input is required"))?;
    let source = open_input(input)?;
    let output = args
        .output
        .as_deref()
        .filter(|path| *path != Path::new("-"));
    let mut done = LookupSet::new()
        .map_err(|err| Failure::other(format!("no randomness from the system: {err}")))?;
    let (sink, has_header) = match (output, args.resume) {
        (Some(path), true) => {
            let (export, resumed) = export_file::resume(path, format, &mut done)?;
            (Sink::Export(export), resumed.header)
        }
        (None, true) => return Err(Failure::bad_input("--resume needs --output FILE")),
        (Some(path), false) => (Sink::Export(export_file::create(path)?), false),
        (None, false) => (Sink::Stdout(io::stdout().lock()), false),
    };
    let mut output = LineOutput::new(sink);
    let write_failed = |err: io::Error| Failure::other(format!("writing the output failed: {err}"));
    if let Some(header) = format.header().filter(|_| !has_header) {
        output.write_line(&header).map_err(write_failed)?;
    }

    let (sender, mut receiver) = mpsc::channel(INPUT_QUEUE);
    std::thread::Builder::new()
        .name("idenfy-input".into())
        .spawn(move || read_input(source, endpoint, done, &sender))
        .map_err(|err| Failure::other(format!("cannot start the input reader: {err}")))?;

    let mut summary = Summary::default();
    let progress = if quiet {
        ProgressBar::hidden()
    } else {
        progress_bar()
    };
    let mut interrupt =
        interrupted().map_err(|err| Failure::other(format!("cannot watch for Ctrl-C: {err}")))?;
    let mut flush_timer = tokio::time::interval(FLUSH_INTERVAL);
    flush_timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pacer = Pacer::new(effective_rate(args.rate, client.base_url().as_str()));
    let mut tasks = JoinSet::new();
    // A scanRef read but not started yet (waiting for a worker or for the rate), and when the
    // rate lets it start.
    let mut ready: Option<ScanRef> = None;
    let mut start_at: Option<Instant> = None;
    let mut reading = true;
    let mut bad_input: Option<InputError> = None;
    loop {
        while tasks.len() < usize::from(args.concurrency) {
            let Some(scan_ref) = ready.take() else { break };
            if let Err(at) = pacer.try_start(Instant::now()) {
                ready = Some(scan_ref);
                start_at = Some(at);
                break;
            }
            start_at = None;
            let client = client.clone();
            tasks.spawn(async move {
                let result = client.lookup_raw(endpoint, &scan_ref).await;
                (scan_ref, result)
            });
        }
        if tasks.is_empty() && ready.is_none() && !reading {
            break;
        }
        let pacing =
            ready.is_some() && start_at.is_some() && tasks.len() < usize::from(args.concurrency);
        let wake_at = start_at.unwrap_or_else(Instant::now);
        tokio::select! {
            () = &mut interrupt => {
                summary.stopped_early = true;
                summary.worst = Some(FailureKind::Interrupted);
                // Lookups in flight are dropped, not written: --resume looks them up again.
                tasks.abort_all();
                break;
            }
            next = receiver.recv(), if reading && ready.is_none() => match next {
                None => reading = false,
                Some(Next::Lines(lines)) => progress.set_length(lines),
                Some(Next::LookUp(scan_ref)) => {
                    summary.total += 1;
                    ready = Some(scan_ref);
                }
                Some(Next::AlreadyDone) => {
                    summary.total += 1;
                    summary.skipped += 1;
                    progress.inc(1);
                }
                Some(Next::Duplicate) => {
                    summary.duplicates += 1;
                    progress.inc(1);
                }
                Some(Next::Bad(error)) => {
                    // What is in flight finishes and is written; nothing more starts.
                    bad_input = Some(error);
                    reading = false;
                    summary.stopped_early = true;
                }
            },
            () = tokio::time::sleep_until(wake_at.into()), if pacing => {}
            _ = flush_timer.tick() => output.flush().map_err(write_failed)?,
            Some(joined) = tasks.join_next() => {
                let (scan_ref, result) =
                    joined.map_err(|err| Failure::other(format!("a lookup task failed: {err}")))?;
                let line = match &result {
                    Ok(lookup) => {
                        summary.succeeded += 1;
                        if lookup.attempts > 1 {
                            summary.retried += 1;
                        }
                        format.success(&scan_ref, endpoint, &lookup.body)
                    }
                    Err(failure) => {
                        summary.failed += 1;
                        if failure.attempts > 1 {
                            summary.retried += 1;
                        }
                        let kind = FailureKind::of_lookup(&failure.error);
                        if summary.worst.is_none_or(|worst| kind > worst) {
                            summary.worst = Some(kind);
                        }
                        if kind == FailureKind::Authentication && reading {
                            // Every other lookup would be refused too.
                            progress.suspend(|| eprintln!("idenfy: {}; stopping", failure.error));
                            reading = false;
                            ready = None;
                            summary.stopped_early = true;
                        }
                        format.failure(&scan_ref, endpoint, &failure.error, failure.attempts)
                    }
                };
                output.write_line(&line).map_err(write_failed)?;
                progress.inc(1);
            }
        }
    }
    output.flush().map_err(write_failed)?;
    // Once, at the end (interrupted or not), not for every line: see `export_file`.
    if let Sink::Export(export) = output.get_ref() {
        export.make_durable().map_err(write_failed)?;
    }
    progress.finish_and_clear();
    if let Some(error) = bad_input {
        if summary.succeeded + summary.failed > 0 && !quiet {
            eprintln!("idenfy: {}", summary.report());
        }
        return Err(Failure::bad_input(format!(
            "--input {}: {error}",
            input.display()
        )));
    }
    Ok(summary)
}

/// Where the lines go.
enum Sink {
    Export(export_file::ExportFile),
    Stdout(io::StdoutLock<'static>),
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Export(export) => export.write(bytes),
            Sink::Stdout(stdout) => stdout.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Export(export) => export.flush(),
            Sink::Stdout(stdout) => stdout.flush(),
        }
    }
}

/// Where the scanRefs come from. A regular file is read twice: once to check every line before
/// any lookup is sent, then as the run goes.
pub enum InputSource {
    File(File),
    Stream(Box<dyn BufRead + Send>),
}

pub fn open_input(path: &Path) -> Result<InputSource, Failure> {
    if path == Path::new("-") {
        return Ok(InputSource::Stream(Box::new(BufReader::new(io::stdin()))));
    }
    let file = File::open(path)
        .map_err(|err| Failure::bad_input(format!("--input {}: {err}", path.display())))?;
    let regular = file.metadata().is_ok_and(|metadata| metadata.is_file());
    Ok(if regular {
        InputSource::File(file)
    } else {
        InputSource::Stream(Box::new(BufReader::new(file)))
    })
}

/// The input thread: reads the scanRefs, decides which to look up, and sends them on. It stops
/// at the first bad line, or when the run stops listening.
pub fn read_input(
    source: InputSource,
    endpoint: Endpoint,
    mut seen: LookupSet,
    sender: &mpsc::Sender<Next>,
) {
    let reader: Box<dyn BufRead> = match source {
        InputSource::Stream(reader) => reader,
        InputSource::File(mut file) => {
            let counted = count_scan_refs(BufReader::new(&file));
            let rewound = file.seek(SeekFrom::Start(0));
            match (counted, rewound) {
                (Ok(lines), Ok(_)) => {
                    if sender.blocking_send(Next::Lines(lines)).is_err() {
                        return;
                    }
                }
                (Err(error), _) => {
                    let _ = sender.blocking_send(Next::Bad(error));
                    return;
                }
                (_, Err(source)) => {
                    let _ = sender.blocking_send(Next::Bad(InputError::Read { line: 1, source }));
                    return;
                }
            }
            Box::new(BufReader::new(file))
        }
    };
    for line in scan_ref_lines(reader) {
        let next = match line {
            Err(error) => Next::Bad(error),
            Ok(line) => match seen.claim(endpoint, &line.scan_ref) {
                Claim::New => Next::LookUp(line.scan_ref),
                Claim::AlreadyDone => Next::AlreadyDone,
                Claim::Duplicate => Next::Duplicate,
            },
        };
        if sender.blocking_send(next).is_err() {
            return;
        }
    }
}

/// A progress bar on standard error when it is a terminal; hidden otherwise (logs, pipes, CI).
pub fn progress_bar() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::no_length();
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} input lines, {per_sec}, {eta} left")
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_rate_a_remote_host_gets_the_polite_default_and_this_machine_none() {
        assert_eq!(
            effective_rate(None, "https://ivs.idenfy.com"),
            Some(DEFAULT_REMOTE_RATE)
        );
        assert_eq!(effective_rate(None, "http://127.0.0.1:8080"), None);
        assert_eq!(effective_rate(None, "http://[::1]:8080"), None);
        assert_eq!(effective_rate(None, "http://localhost:1"), None);
        // A rate given wins, either way.
        assert_eq!(
            effective_rate(Some(2.5), "https://ivs.idenfy.com"),
            Some(2.5)
        );
        assert_eq!(
            effective_rate(Some(500.0), "http://127.0.0.1:1"),
            Some(500.0)
        );
    }

    #[test]
    fn a_rate_must_be_positive_and_bounded() {
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        assert_eq!(parse_rate("0.01"), Ok(0.01));
        assert_eq!(parse_rate("100000"), Ok(100_000.0));
        for wrong in [
            "0", "NaN", "inf", "-1", "0.009", "1e-9", "5e-20", "1e-400", "100001",
        ] {
            assert!(parse_rate(wrong).is_err(), "{wrong:?} was accepted");
        }
    }
}
