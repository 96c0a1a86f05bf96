//! The crash harness, small: an export, a resume, a download, a bulk deletion, an `archive
//! create` and a `delete --archived`, each killed with SIGKILL at random instants and run
//! again; afterwards no line is lost or doubled, no audit record is false, no file or bundle
//! under a final name is partial or differs from what was served, and no temporary is left.
//! `cargo xtask soak` runs it larger with the release binary; `IDENFY_CRASH_SEED` replays a
//! seed.

#![cfg(unix)]

mod support;

use support::crash::{CrashConfig, CrashReport, crash_all};

#[test]
fn commands_killed_at_random_instants_leave_nothing_false_or_partial() {
    let seed = support::soak::seed_from("IDENFY_CRASH_SEED");
    let dir = tempfile::tempdir().unwrap();
    let reports = crash_all(
        CrashConfig {
            rounds: 4,
            scan_refs: 200,
            seed,
        },
        dir.path(),
    );
    println!("{}", CrashReport::header());
    for report in &reports {
        println!("{}", report.row());
    }
    let violations: Vec<String> = reports
        .iter()
        .flat_map(|report| {
            report
                .violations
                .iter()
                .map(move |violation| format!("{}: {violation}", report.scenario))
        })
        .collect();
    assert!(
        violations.is_empty(),
        "IDENFY_CRASH_SEED={seed} replays it:\n{}",
        violations.join("\n")
    );
    let killed: usize = reports.iter().map(|report| report.killed_midway).sum();
    assert!(killed > 0, "no kill landed before its command finished");
}
