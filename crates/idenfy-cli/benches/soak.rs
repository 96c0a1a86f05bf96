//! The fault soak at full size (`cargo xtask soak`, or `cargo bench -p idenfy-cli --bench
//! soak`): 10,000 scanRefs, a tenth of the lookups faulted, the release `idenfy` binary killed at
//! a random point and resumed, the output compared with a clean run's. Prints a table.
//!
//! Then the crash harness at scale: an export, a resume, a download, a bulk deletion, an
//! `archive create` and a `delete --archived`, each killed with SIGKILL at `IDENFY_CRASH_ROUNDS` (default 25) random instants and run again,
//! checked for lost or doubled lines, false audit records, partial files or bundles and
//! leftovers.
//!
//! `IDENFY_SOAK_SCAN_REFS`, `IDENFY_SOAK_RUNS` and `IDENFY_SOAK_SEED` change the size, the
//! number of soaks (each with its own seed) and the first seed.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;

use support::crash::{CrashConfig, CrashReport, crash_all};
use support::soak::{SoakConfig, SoakReport, soak};

fn main() -> ExitCode {
    let number = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(default)
    };
    let scan_refs = number("IDENFY_SOAK_SCAN_REFS", 10_000) as usize;
    let runs = number("IDENFY_SOAK_RUNS", 3).max(1);
    let first_seed = support::soak::seed_from("IDENFY_SOAK_SEED");
    eprintln!("idenfy binary: {}", support::idenfy_bin().display());
    println!("{:>20}  {}", "seed", SoakReport::header());
    let mut failed = false;
    for run in 0..runs {
        let seed = first_seed.wrapping_add(run);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let report = soak(
            SoakConfig {
                scan_refs,
                faulted_percent: 10,
                concurrency: 32,
                seed,
            },
            dir.path(),
        );
        println!("{seed:>20}  {}", report.row());
        failed |= !report.passed();
    }
    if failed {
        eprintln!("the soak FAILED: a row above has missing, doubled or mismatched lines");
        return ExitCode::FAILURE;
    }
    println!("every scanRef exactly once, every line byte-identical to a clean run's");

    let rounds = number("IDENFY_CRASH_ROUNDS", 25) as usize;
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!("\ncrash harness, seed {first_seed}, SIGKILL at random instants:");
    println!("{}", CrashReport::header());
    let reports = crash_all(
        CrashConfig {
            rounds,
            scan_refs: 2_000,
            seed: first_seed,
        },
        dir.path(),
    );
    let mut violations = 0;
    for report in &reports {
        println!("{}", report.row());
        for violation in &report.violations {
            eprintln!("{}: {violation}", report.scenario);
        }
        violations += report.violations.len();
    }
    if violations > 0 {
        eprintln!("the crash harness FAILED: {violations} violations (listed above)");
        return ExitCode::FAILURE;
    }
    println!("no line lost or doubled, no false audit record, no partial file, no leftover");
    ExitCode::SUCCESS
}
