//! `-v` and `RUST_LOG`: the client's own spans and events (each attempt with its status and
//! time, each retry and its wait) on standard error.
//!
//! What reaches the log is what the library emits: spans and events that carry the endpoint,
//! the scanRef, attempt numbers, statuses, times and waits, and never a header, a body, the
//! secret or a proxy's credentials. Other crates' logs (hyper-util's connection pool) are
//! shown only when `RUST_LOG` names them.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The crates whose logs `-v` shows.
const OURS: [&str; 3] = ["idenfy_core", "idenfy_hyper", "idenfy_cli"];

/// Installs the subscriber for `verbose` (`-v` count), unless neither it nor `RUST_LOG` asks
/// for anything. `RUST_LOG` takes `target=level` pairs, comma-separated, as env_logger reads
/// them (`RUST_LOG=idenfy_core=debug`, `RUST_LOG=trace`); it replaces `-v` when set.
pub fn install(verbose: u8) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => spec
            .parse::<Targets>()
            .map_err(|err| format!("RUST_LOG: {err}"))?,
        _ => {
            let level = match verbose {
                0 => return Ok(()),
                1 => LevelFilter::INFO,
                2 => LevelFilter::DEBUG,
                _ => LevelFilter::TRACE,
            };
            OURS.iter().fold(Targets::new(), |targets, target| {
                targets.with_target(*target, level)
            })
        }
    };
    // A span's close line carries its fields (endpoint, attempt, status, latency) and its time:
    // one line per attempt and per lookup.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(true);
    tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init()
        .map_err(|err| err.to_string())
}
