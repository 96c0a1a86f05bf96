//! The fault soak at 1,000 scanRefs: a tenth of the lookups faulted, the export killed at a
//! random point and resumed; the output must match a clean run's, line for line, byte for byte.
//! `cargo xtask soak` runs it at 10,000 with the release binary. `IDENFY_SOAK_SEED` replays a
//! seed.

#![cfg(unix)]

mod support;

use support::soak::{SoakConfig, SoakReport, soak};

#[test]
fn a_faulted_killed_and_resumed_export_matches_a_clean_one() {
    let seed = support::soak::seed_from("IDENFY_SOAK_SEED");
    let dir = tempfile::tempdir().unwrap();
    let report = soak(
        SoakConfig {
            scan_refs: 1_000,
            faulted_percent: 10,
            concurrency: 16,
            seed,
        },
        dir.path(),
    );
    println!("{}\n{}", SoakReport::header(), report.row());
    assert!(
        report.passed(),
        "the soak failed (IDENFY_SOAK_SEED={seed} replays it):\n{}\n{}",
        SoakReport::header(),
        report.row()
    );
    assert!(report.faulted > 0, "no lookup was faulted");
    assert!(
        report.fired >= report.faulted as u64,
        "a faulted lookup was served without its fault"
    );
}
