//! The command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

/// Where the API is and how to talk to it.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// API key (the Basic auth user).
    #[arg(long, env = "IDENFY_API_KEY", global = true)]
    pub api_key: Option<String>,

    /// API secret (the Basic auth password). Prefer the environment variable: a secret on the
    /// command line ends up in the shell's history and the process list.
    #[arg(long, env = "IDENFY_API_SECRET", hide_env_values = true, global = true)]
    pub api_secret: Option<String>,

    /// Base URL of the API.
    #[arg(long, env = "IDENFY_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// Seconds one attempt may take before it is abandoned (and retried); with `files --download`,
    /// also the longest wait for a file's first byte and between two pieces of it.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds, global = true)]
    pub timeout: Duration,

    /// Seconds one lookup may take in all, retries included; with `files --download`, the whole
    /// command: the lookup and every file.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds, global = true)]
    pub deadline: Duration,

    /// How many times a failed attempt (429, 500, 502, 503, 504, timeout, connection failure) is
    /// retried. A deletion is retried only where it cannot have reached the API: a connection
    /// that could not be made, 429, and 503 with `Retry-After`.
    #[arg(long, default_value_t = 4, global = true)]
    pub retries: u32,

    /// Start the embedded sandbox on a loopback port and run against it: no credentials and no
    /// network needed. Its scanRefs include `sandbox-approved`, `sandbox-denied-face`,
    /// `sandbox-suspected`; `idenfy-sandbox --help` lists them all.
    #[arg(long, global = true)]
    pub sandbox: bool,
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
}

/// Which identifications to look up, and where results go.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// The scanRefs to look up.
    #[arg(value_name = "SCAN_REF", required_unless_present = "input")]
    pub scan_refs: Vec<String>,

    #[command(flatten)]
    pub bulk: BulkArgs,
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
    /// are not counted): keeps an export under the account's rate limit. From 0.01 (one every
    /// 100 seconds) to 100000.
    #[arg(long, value_name = "N", value_parser = parse_rate, requires = "input")]
    pub rate: Option<f64>,

    /// Keep the successful lines already in `--output` for this endpoint and look up only the
    /// other scanRefs. The file must be the output of a bulk export; it keeps its mode.
    #[arg(long, requires = "output")]
    pub resume: bool,
}

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

/// A number of bytes, read and shown with the suffixes K, M and G (powers of 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl std::fmt::Display for ByteSize {
    /// In the largest unit that shows it exactly: `4G`, `1536M`, `1000`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.0;
        for (shift, suffix) in [(30, 'G'), (20, 'M'), (10, 'K')] {
            if bytes != 0 && bytes.is_multiple_of(1 << shift) {
                return write!(f, "{}{suffix}", bytes >> shift);
            }
        }
        write!(f, "{bytes}")
    }
}

fn parse_byte_size(text: &str) -> Result<ByteSize, String> {
    parse_size(text).map(ByteSize)
}

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
    /// The PDF file to write (one scanRef), or the directory the PDFs go into (`--input`;
    /// created with mode 0700 if missing).
    #[arg(long, value_name = "PATH", required = true)]
    pub output: PathBuf,
    /// Replace a report file that already exists.
    #[arg(long)]
    pub force: bool,
}

/// `delete`: which identifications, the confirmation, and the record.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The scanRefs whose data is deleted.
    #[arg(
        value_name = "SCAN_REF",
        required_unless_present = "input",
        conflicts_with = "input"
    )]
    pub scan_refs: Vec<String>,
    /// Read scanRefs from FILE, one per line (`-` for standard input; blank lines and `#`
    /// comments skipped).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The audit file: one JSON line per deletion, refusal or failure is appended (created
    /// with mode 0600; never through a symbolic link). ScanRefs it records as deleted are
    /// skipped, so an interrupted run is resumed by running it again.
    #[arg(long, value_name = "FILE", required = true)]
    pub audit: PathBuf,
    /// Delete without asking (required when there is no terminal to ask on).
    #[arg(long)]
    pub yes: bool,
    /// Show what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
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

fn parse_rate(text: &str) -> Result<f64, String> {
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

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(format!("{text} is outside 0 to 3600 seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.char_indices().last() {
        Some((at, suffix)) if suffix.is_ascii_alphabetic() => (&trimmed[..at], Some(suffix)),
        _ => (trimmed, None),
    };
    let multiplier: u64 = match unit.map(|unit| unit.to_ascii_uppercase()) {
        None => 1,
        Some('K') => 1 << 10,
        Some('M') => 1 << 20,
        Some('G') => 1 << 30,
        Some(_) => return Err(format!("`{text}`: the suffix must be K, M or G")),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a number of bytes (like 500M or 2G)"))?;
    match number.checked_mul(multiplier) {
        Some(0) => Err("the size must be at least one byte".to_owned()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("`{text}` is too large")),
    }
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
    fn seconds_must_be_positive_and_bounded() {
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-3").is_err());
        assert!(parse_seconds("soon").is_err());
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("64K"), Ok(64 * 1024));
        assert_eq!(parse_size("3m"), Ok(3 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        for wrong in [
            "0",
            "0K",
            "",
            "G",
            "1.5G",
            "-1",
            "2T",
            "1KB",
            "99999999999G",
        ] {
            assert!(parse_size(wrong).is_err(), "{wrong:?} was accepted");
        }
    }

    #[test]
    fn a_size_is_shown_as_it_is_read() {
        for text in ["4G", "1536M", "64K", "1000", "1"] {
            assert_eq!(parse_byte_size(text).unwrap().to_string(), text);
        }
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
