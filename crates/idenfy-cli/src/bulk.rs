//! Bulk export: many scanRefs, looked up with bounded concurrency, one JSON line each.
//!
//! Nothing is lost: every scanRef gets a line, a result or an error; rate-limited and failing
//! lookups are retried by the client before an error is written; an interrupt stops the run with
//! only whole lines in the output, and `--resume` carries on from there.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use idenfy_hyper::core::Endpoint;
use idenfy_hyper::{Client, ScanRef};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;

use crate::args::BulkArgs;
use crate::failure::{Failure, FailureKind};
use crate::fetch::raw;
use crate::interrupt::interrupted;
use crate::result_line;

/// A line is a few KiB: a larger buffer saves a system call every couple of lines. The buffer
/// only ever holds whole lines, so an interrupt still leaves whole lines in the output.
const OUTPUT_BUFFER_BYTES: usize = 256 * 1024;

/// The longest a written line waits in the buffer, so that the output shows progress (`tail -f`)
/// and a crash loses little.
const OUTPUT_FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// What a bulk run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// scanRefs in the input (after removing duplicates).
    pub total: usize,
    /// Already in the output from an earlier run (`--resume`).
    pub skipped: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// Lookups that needed more than one attempt.
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
        let remaining = self.total - self.skipped - self.succeeded - self.failed;
        if remaining > 0 {
            text.push_str(&format!(
                "; {remaining} not looked up: run again with --resume"
            ));
        }
        text
    }
}

/// Runs a bulk export of `endpoint` for the scanRefs in `args.input`.
pub async fn run(
    client: &Client,
    endpoint: Endpoint,
    args: &BulkArgs,
    retries: u32,
) -> Result<Summary, Failure> {
    let input = args
        .input
        .as_deref()
        .ok_or_else(|| Failure::bad_input("--input is required"))?;
    let scan_refs = read_scan_refs(input)?;
    let output = args
        .output
        .as_deref()
        .filter(|path| *path != Path::new("-"));
    let done = match (output, args.resume) {
        (Some(path), true) => keep_successful_lines(path)?,
        (None, true) => return Err(Failure::bad_input("--resume needs --output FILE")),
        (Some(path), false) if path.metadata().is_ok_and(|meta| meta.len() > 0) => {
            return Err(Failure::bad_input(format!(
                "{} exists: pass --resume to continue that export, or choose another --output",
                path.display()
            )));
        }
        _ => HashSet::new(),
    };
    let mut writer: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::with_capacity(
            OUTPUT_BUFFER_BYTES,
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|err| Failure::bad_input(format!("{}: {err}", path.display())))?,
        )),
        None => Box::new(BufWriter::with_capacity(
            OUTPUT_BUFFER_BYTES,
            io::stdout().lock(),
        )),
    };

    let mut summary = Summary {
        total: scan_refs.len(),
        ..Summary::default()
    };
    let pending: Vec<ScanRef> = scan_refs
        .into_iter()
        .filter(|scan_ref| !done.contains(scan_ref.as_str()))
        .collect();
    summary.skipped = summary.total - pending.len();

    let progress = progress_bar(pending.len() as u64);
    let mut interrupt =
        interrupted().map_err(|err| Failure::other(format!("cannot watch for Ctrl-C: {err}")))?;
    let mut queue = pending.into_iter();
    let mut tasks = JoinSet::new();
    let mut launching = true;
    let mut last_flush = Instant::now();
    loop {
        while launching && tasks.len() < usize::from(args.concurrency) {
            let Some(scan_ref) = queue.next() else {
                launching = false;
                break;
            };
            let client = client.clone();
            tasks.spawn(async move {
                let result = raw(&client, endpoint, &scan_ref).await;
                (scan_ref, result)
            });
        }
        if tasks.is_empty() {
            break;
        }
        let joined = tokio::select! {
            () = &mut interrupt => {
                summary.stopped_early = true;
                summary.worst = Some(FailureKind::Interrupted);
                // Lookups in flight are dropped, not written: --resume looks them up again.
                tasks.abort_all();
                break;
            }
            joined = tasks.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let (scan_ref, result) =
            joined.map_err(|err| Failure::other(format!("a lookup task failed: {err}")))?;
        let line = match &result {
            Ok(lookup) => {
                summary.succeeded += 1;
                if lookup.attempts > 1 {
                    summary.retried += 1;
                }
                result_line::success(&scan_ref, endpoint, &lookup.body)
            }
            Err(error) => {
                summary.failed += 1;
                let kind = FailureKind::of_lookup(error);
                // Network-class failures are the retryable ones: the client tried them again.
                if kind == FailureKind::Network && retries > 0 {
                    summary.retried += 1;
                }
                if summary.worst.is_none_or(|worst| kind > worst) {
                    summary.worst = Some(kind);
                }
                if kind == FailureKind::Authentication && launching {
                    // Every other lookup would be refused too.
                    progress.suspend(|| eprintln!("idenfy: {error}; stopping"));
                    launching = false;
                    summary.stopped_early = true;
                }
                result_line::failure(&scan_ref, endpoint, error)
            }
        };
        let written = writer.write_all(&line).and_then(|()| {
            if last_flush.elapsed() < OUTPUT_FLUSH_INTERVAL {
                return Ok(());
            }
            last_flush = Instant::now();
            writer.flush()
        });
        written.map_err(|err| Failure::other(format!("writing the output failed: {err}")))?;
        progress.inc(1);
    }
    writer
        .flush()
        .map_err(|err| Failure::other(format!("writing the output failed: {err}")))?;
    progress.finish_and_clear();
    Ok(summary)
}

/// A progress bar on standard error when it is a terminal; hidden otherwise (logs, pipes, CI).
fn progress_bar(length: u64) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} lookups, {per_sec}, {eta} left")
    {
        bar.set_style(style);
    }
    bar
}

/// The scanRefs of the input, in order, without duplicates. Blank lines and `#` comments are
/// skipped; a malformed scanRef stops the run before any lookup, naming its line.
fn read_scan_refs(path: &Path) -> Result<Vec<ScanRef>, Failure> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        io::stdin().lock().read_to_string(&mut text)
    } else {
        File::open(path).and_then(|mut file| file.read_to_string(&mut text))
    };
    read.map_err(|err| Failure::bad_input(format!("--input {}: {err}", path.display())))?;
    let mut seen = HashSet::new();
    let mut scan_refs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let scan_ref: ScanRef = line.parse().map_err(|err| {
            Failure::bad_input(format!(
                "--input {} line {}: {err}",
                path.display(),
                index + 1
            ))
        })?;
        if seen.insert(scan_ref.as_str().to_owned()) {
            scan_refs.push(scan_ref);
        }
    }
    Ok(scan_refs)
}

/// Prepares an earlier run's output for `--resume`: keeps its whole, successful lines (a line cut
/// by a crash, and the lines of failed lookups, go, so that those scanRefs are looked up again
/// and each scanRef keeps one line), and returns their scanRefs. The file is replaced atomically.
fn keep_successful_lines(path: &Path) -> Result<HashSet<String>, Failure> {
    let io_failure = |err: io::Error| Failure::other(format!("{}: {err}", path.display()));
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(err) => return Err(io_failure(err)),
    };
    let mut kept = HashSet::new();
    let temporary = sibling(path, ".resume");
    let mut out = BufWriter::new(File::create(&temporary).map_err(io_failure)?);
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(io_failure)? == 0 {
            break;
        }
        if !line.ends_with('\n') {
            break; // cut short: not a whole line
        }
        if let Some(written) = result_line::parse(line.trim_end())
            && written.succeeded
            && kept.insert(written.scan_ref)
        {
            out.write_all(line.as_bytes()).map_err(io_failure)?;
        }
    }
    out.into_inner()
        .map_err(|err| io_failure(err.into_error()))?
        .sync_all()
        .map_err(io_failure)?;
    std::fs::rename(&temporary, path).map_err(io_failure)?;
    Ok(kept)
}

/// `dir/name` with `suffix` added, for a temporary file beside `path`.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_keeps_whole_successful_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"scanRef\":\"a\",\"endpoint\":\"status\",\"result\":{}}\n",
                "{\"scanRef\":\"b\",\"endpoint\":\"status\",\"error\":{\"kind\":\"network\"}}\n",
                "{\"scanRef\":\"a\",\"endpoint\":\"status\",\"result\":{}}\n",
                "{\"scanRef\":\"c\",\"endpoint\":\"status\",\"res"
            ),
        )
        .unwrap();
        let kept = keep_successful_lines(&path).unwrap();
        assert_eq!(kept, HashSet::from(["a".to_owned()]));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"scanRef\":\"a\",\"endpoint\":\"status\",\"result\":{}}\n"
        );
    }

    #[test]
    fn input_skips_comments_blanks_and_duplicates_and_names_a_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        std::fs::write(&path, "# header\n a \n\nb\na\n").unwrap();
        let refs: Vec<String> = read_scan_refs(&path)
            .unwrap()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect();
        assert_eq!(refs, ["a", "b"]);
        std::fs::write(&path, "a\nb c\n").unwrap();
        let failure = read_scan_refs(&path).unwrap_err();
        assert_eq!(failure.kind, FailureKind::BadInput);
        assert!(failure.message.contains("line 2"), "{}", failure.message);
    }
}
