//! The crash harness, shared by `tests/crash.rs` (a small, fast version, the debug binary) and
//! `benches/soak.rs` (`cargo xtask soak`: more rounds and larger runs, the release binary).
//!
//! Each scenario runs a command that writes (an export, a resume of it, a download, a bulk
//! deletion, an archive, a deletion of what an archive holds), kills it with SIGKILL at a random instant (no handler runs, nothing is flushed or
//! cleaned), runs it again until it completes, and then checks what a compliance team relies
//! on:
//! - export and resume: every scanRef exactly once, each line as a clean run writes it, and no
//!   temporary file left beside the export;
//! - download: no file under a final name that differs from what the server sent, and no
//!   temporary file or directory left after the next run;
//! - deletion: every identification deleted at the sandbox, the audit trail's last word on
//!   each is `deleted` or `already-gone` (never a `refused` for one the API did delete), and
//!   every outcome follows the attempt record it settles;
//! - archive: every bundle under its final name, after the kill and after the rerun, verifies
//!   (`archive verify`) and holds exactly what the sandbox served; the rerun completes every
//!   bundle and leaves no staging directory;
//! - deletion of an archive (`delete --archived`): as for a bulk deletion, and each outcome
//!   record names the SHA-256 of the manifest of the bundle it deleted by.
//!
//! The kill instant is drawn from a seed, uniformly over the time a clean run of the same
//! command takes, so that kills land everywhere in it: while the input is read, while a resume
//! rewrites the export, between a request and its record, while a file is renamed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use idenfy_core::Endpoint;
use idenfy_sandbox::{Fixtures, Sandbox, scan_refs};
use serde_json::{Value, json};

use super::soak::{SplitMix64, lines_by_scan_ref, scan_ref_of_line, signal_process};
use super::{
    Output, RunningChild, TestSandbox, fixture_copy, idenfy_at, json_lines, run_with_timeout,
    write_input,
};

/// How large a crash run is.
#[derive(Debug, Clone, Copy)]
pub struct CrashConfig {
    /// Kills per scenario, each at its own instant.
    pub rounds: usize,
    /// ScanRefs exported and deleted in each round.
    pub scan_refs: usize,
    pub seed: u64,
}

/// What one scenario found over its rounds.
#[derive(Debug, Clone)]
pub struct CrashReport {
    pub scenario: &'static str,
    pub rounds: usize,
    /// Rounds in which the kill landed before the command finished.
    pub killed_midway: usize,
    /// Runs after the kills until each round completed.
    pub reruns: usize,
    /// What broke an invariant, one line per finding; empty when the scenario held.
    pub violations: Vec<String>,
    pub elapsed: Duration,
}

impl CrashReport {
    /// A violation unless the next run left no hidden name (a temporary, a staging directory)
    /// in `dir`.
    fn no_temporaries_left_in(&mut self, round: usize, dir: &Path) {
        let left = hidden_names(dir);
        if !left.is_empty() {
            self.violations
                .push(format!("round {round}: temporaries left: {left:?}"));
        }
    }

    /// Runs the command `command` makes again, at most three times, until it exits 0; each run
    /// that fails is a violation (a deletion's rerun must settle what the kill left). Whether
    /// one succeeded.
    fn rerun_until_it_succeeds(
        &mut self,
        round: usize,
        mut command: impl FnMut() -> Command,
    ) -> bool {
        for _ in 0..3 {
            self.reruns += 1;
            let rerun = run_with_timeout(&mut command(), Duration::from_secs(120));
            if rerun.code == Some(0) {
                return true;
            }
            self.violations.push(format!(
                "round {round}: a rerun exited {:?}: {}",
                rerun.code,
                rerun.stderr.lines().last().unwrap_or_default()
            ));
        }
        false
    }
}

impl CrashReport {
    pub fn header() -> String {
        format!(
            "{:>10}  {:>6}  {:>14}  {:>6}  {:>10}  {:>7}",
            "scenario", "rounds", "killed midway", "reruns", "violations", "time"
        )
    }

    pub fn row(&self) -> String {
        format!(
            "{:>10}  {:>6}  {:>14}  {:>6}  {:>10}  {:>6.1}s",
            self.scenario,
            self.rounds,
            self.killed_midway,
            self.reruns,
            self.violations.len(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// Runs every scenario in `dir`.
pub fn crash_all(config: CrashConfig, dir: &Path) -> Vec<CrashReport> {
    vec![
        crash_export(config, dir, false),
        crash_export(config, dir, true),
        crash_download(config, dir),
        crash_deletion(config, dir),
        crash_archive(config, dir),
        crash_archived_deletion(config, dir),
    ]
}

/// Runs `command` and kills it with SIGKILL after `after`; whether it was still running then.
fn kill_after(mut command: Command, after: Duration) -> bool {
    let mut child = RunningChild::spawn(&mut command);
    let started = Instant::now();
    while started.elapsed() < after {
        if child.has_exited() {
            child.wait(Duration::from_secs(5));
            return false;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let killed = !child.has_exited();
    if killed {
        signal_process(child.id(), "KILL");
    }
    child.wait(Duration::from_secs(30));
    killed
}

/// Runs `command` to its end, timing it.
fn timed(mut command: Command) -> (Output, Duration) {
    let started = Instant::now();
    let output = run_with_timeout(&mut command, Duration::from_secs(300));
    (output, started.elapsed())
}

/// A kill instant in `0..span`.
fn instant_in(random: &mut SplitMix64, span: Duration) -> Duration {
    let micros = span.as_micros().max(1) as u64;
    Duration::from_micros(random.below(micros))
}

fn sandbox_with(fixtures: Vec<Value>) -> TestSandbox {
    let fixtures = Fixtures::from_json_str(&json!({ "fixtures": fixtures }).to_string())
        .expect("the generated fixtures are valid");
    TestSandbox::start_with(Sandbox::builder().fixtures(fixtures))
}

/// The names in `dir` that start with a dot: the command's temporaries.
fn hidden_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Export (`resume: false`: the first run is killed) or resume (`true`: a half export is
/// resumed, and that run is killed, often inside its rewrite of the earlier lines).
fn crash_export(config: CrashConfig, dir: &Path, resume: bool) -> CrashReport {
    let started = Instant::now();
    let scenario = if resume { "resume" } else { "export" };
    let mut random = SplitMix64::new(config.seed ^ if resume { 0x5e5 } else { 0xe4 });
    let scan_refs: Vec<String> = (0..config.scan_refs)
        .map(|i| format!("crash-{i:05}"))
        .collect();
    // A slow answer now and then, so that a run lasts long enough to be killed inside.
    let fixtures = scan_refs
        .iter()
        .enumerate()
        .map(|(index, scan_ref)| {
            let mut fixture = fixture_copy(scan_refs::APPROVED, scan_ref);
            if index % 10 == 0 {
                fixture["fault"] = json!("delay-ms=20");
            }
            fixture
        })
        .collect();
    let sandbox = sandbox_with(fixtures);
    let work = tempfile::tempdir_in(dir).expect("a directory for the scenario");
    let input = work.path().join("in.txt");
    write_input(&input, &scan_refs);
    let half = work.path().join("half.txt");
    write_input(&half, &scan_refs[..scan_refs.len() / 2]);
    let export = |input: &Path, output: &Path, resume: bool| {
        let mut command = idenfy_at(&sandbox);
        command
            .args(["status", "--concurrency", "8", "--input"])
            .arg(input)
            .arg("--output")
            .arg(output);
        if resume {
            command.arg("--resume");
        }
        command
    };

    let clean = work.path().join("clean.jsonl");
    let (output, span) = timed(export(&input, &clean, false));
    output.assert_code(0);
    let expected = lines_by_scan_ref(&std::fs::read(&clean).expect("the clean export"));

    let mut report = CrashReport {
        scenario,
        rounds: config.rounds,
        killed_midway: 0,
        reruns: 0,
        violations: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for round in 0..config.rounds {
        let round_dir = work.path().join(format!("round-{round}"));
        std::fs::create_dir(&round_dir).expect("a directory for the round");
        let out = round_dir.join("out.jsonl");
        let span = if resume {
            run_with_timeout(&mut export(&half, &out, false), Duration::from_secs(120))
                .assert_code(0);
            // The resume's rewrite and its lookups of the other half.
            span / 2 + Duration::from_millis(5)
        } else {
            span
        };
        if kill_after(export(&input, &out, resume), instant_in(&mut random, span)) {
            report.killed_midway += 1;
        }
        let mut finished = false;
        for _ in 0..4 {
            report.reruns += 1;
            let rerun = run_with_timeout(&mut export(&input, &out, true), Duration::from_secs(120));
            if rerun.code == Some(0) {
                finished = true;
                break;
            }
        }
        if !finished {
            report
                .violations
                .push(format!("round {round}: the export never completed"));
            continue;
        }
        let written = std::fs::read(&out).unwrap_or_default();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for line in written.split_inclusive(|&byte| byte == b'\n') {
            let scan_ref = scan_ref_of_line(line);
            if expected.get(&scan_ref).map(Vec::as_slice) != Some(line) {
                report
                    .violations
                    .push(format!("round {round}: a line differs from a clean run's"));
            }
            *seen.entry(scan_ref).or_default() += 1;
        }
        let missing = scan_refs.iter().filter(|s| !seen.contains_key(*s)).count();
        let doubled = seen.values().filter(|&&count| count > 1).count();
        if missing + doubled > 0 {
            report.violations.push(format!(
                "round {round}: {missing} scanRefs lost, {doubled} doubled"
            ));
        }
        report.no_temporaries_left_in(round, &round_dir);
    }
    report.elapsed = started.elapsed();
    report
}

/// `files --download`: killed while files arrive, then run again with `--force`.
fn crash_download(config: CrashConfig, dir: &Path) -> CrashReport {
    let started = Instant::now();
    let mut random = SplitMix64::new(config.seed ^ 0xd0);
    let scan_ref = "crash-files";
    let mut fixture = fixture_copy(scan_refs::APPROVED, scan_ref);
    fixture["files"] = json!(["FRONT", "BACK", "FACE", "FRONT_VIDEO", "FACE_VIDEO"]);
    fixture["videoBytes"] = json!(8 << 20);
    fixture["downloadFault"] = json!("delay-ms=15");
    let sandbox = sandbox_with(vec![fixture]);
    let work = tempfile::tempdir_in(dir).expect("a directory for the scenario");
    // What the server sends, by kind.
    let listed = sandbox.json(Endpoint::Files, scan_ref);
    let served: HashMap<String, Vec<u8>> = listed
        .as_object()
        .expect("the /files answer is an object")
        .iter()
        .filter_map(|(kind, url)| Some((kind.clone(), url.as_str()?.to_owned())))
        .map(|(kind, url)| {
            let (status, _, bytes) = sandbox.get(&url);
            assert_eq!(status, 200, "the sandbox serves {kind}");
            (kind, bytes.to_vec())
        })
        .collect();
    let download = |target: &Path| {
        let mut command = idenfy_at(&sandbox);
        command
            .args(["files", scan_ref, "--force", "--download"])
            .arg(target);
        command
    };
    let clean = work.path().join("clean");
    let (output, span) = timed(download(&clean));
    output.assert_code(0);

    let mut report = CrashReport {
        scenario: "download",
        rounds: config.rounds,
        killed_midway: 0,
        reruns: 0,
        violations: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for round in 0..config.rounds {
        let target = work.path().join(format!("round-{round}"));
        if kill_after(download(&target), instant_in(&mut random, span)) {
            report.killed_midway += 1;
        }
        // Whatever the kill left under a final name must be exactly what was served.
        check_downloaded(
            &target,
            &served,
            round,
            "after the kill",
            &mut report.violations,
        );
        report.reruns += 1;
        let rerun = run_with_timeout(&mut download(&target), Duration::from_secs(120));
        if rerun.code != Some(0) {
            report.violations.push(format!(
                "round {round}: the download after the kill failed: {}",
                rerun.stderr.lines().last().unwrap_or_default()
            ));
            continue;
        }
        check_downloaded(
            &target,
            &served,
            round,
            "after the rerun",
            &mut report.violations,
        );
        let kinds: HashSet<String> = published(&target).into_keys().collect();
        if kinds.len() != served.len() {
            report.violations.push(format!(
                "round {round}: {} of {} files after the rerun",
                kinds.len(),
                served.len()
            ));
        }
        let left = hidden_names(&target);
        if left
            .iter()
            .any(|name| name.ends_with(".part") || name.contains("staging"))
        {
            report
                .violations
                .push(format!("round {round}: temporaries left: {left:?}"));
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// The files under final names in `dir`, by kind (the name without its extension).
fn published(dir: &Path) -> HashMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return HashMap::new();
    };
    entries
        .flatten()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = name.split('.').next()?.to_owned();
            Some((kind, std::fs::read(entry.path()).ok()?))
        })
        .collect()
}

fn check_downloaded(
    dir: &Path,
    served: &HashMap<String, Vec<u8>>,
    round: usize,
    when: &str,
    violations: &mut Vec<String>,
) {
    for (kind, bytes) in published(dir) {
        if served.get(&kind) != Some(&bytes) {
            violations.push(format!(
                "round {round}, {when}: {kind} under its final name is not what was served ({} bytes)",
                bytes.len()
            ));
        }
    }
}

/// A bulk deletion killed at a random instant, then run again until it completes.
fn crash_deletion(config: CrashConfig, dir: &Path) -> CrashReport {
    let started = Instant::now();
    let mut random = SplitMix64::new(config.seed ^ 0xde1);
    let per_round = (config.scan_refs / 10).clamp(4, 40);
    let work = tempfile::tempdir_in(dir).expect("a directory for the scenario");
    let mut report = CrashReport {
        scenario: "deletion",
        rounds: config.rounds,
        killed_midway: 0,
        reruns: 0,
        violations: Vec::new(),
        elapsed: Duration::ZERO,
    };
    // Each answer takes a while after the data is gone: kills land between a deletion and
    // its record as often as anywhere else.
    let slow_deletions = |prefix: &str| -> (TestSandbox, Vec<String>) {
        let scan_refs: Vec<String> = (0..per_round).map(|i| format!("{prefix}-{i:03}")).collect();
        let fixtures = scan_refs
            .iter()
            .map(|scan_ref| {
                let mut fixture = fixture_copy(scan_refs::APPROVED, scan_ref);
                fixture["fault"] = json!("delay-ms=15");
                fixture
            })
            .collect();
        (sandbox_with(fixtures), scan_refs)
    };
    let delete = |sandbox: &TestSandbox, input: &Path, audit: &Path| {
        let mut command = idenfy_at(sandbox);
        command
            .args(["delete", "--yes", "--input"])
            .arg(input)
            .arg("--audit")
            .arg(audit);
        command
    };
    let (clean_sandbox, clean_refs) = slow_deletions("clean");
    let clean_input = work.path().join("clean.txt");
    write_input(&clean_input, &clean_refs);
    let (output, span) = timed(delete(
        &clean_sandbox,
        &clean_input,
        &work.path().join("clean-audit.jsonl"),
    ));
    output.assert_code(0);
    drop(clean_sandbox);

    for round in 0..config.rounds {
        let (sandbox, scan_refs) = slow_deletions(&format!("round{round}"));
        let input = work.path().join(format!("round-{round}.txt"));
        write_input(&input, &scan_refs);
        let audit = work.path().join(format!("round-{round}-audit.jsonl"));
        if kill_after(
            delete(&sandbox, &input, &audit),
            instant_in(&mut random, span),
        ) {
            report.killed_midway += 1;
        }
        if !report.rerun_until_it_succeeds(round, || delete(&sandbox, &input, &audit)) {
            continue;
        }
        let trail = std::fs::read_to_string(&audit).unwrap_or_default();
        check_trail(&trail, &sandbox, &scan_refs, round, &mut report.violations);
    }
    report.elapsed = started.elapsed();
    report
}

/// The audit trail of a deletion that completed: each outcome follows the attempt it settles,
/// none is `refused` (the sandbox refuses none), every identification is deleted at the
/// sandbox and the trail's last word on each is `deleted` or `already-gone`.
fn check_trail(
    trail: &str,
    sandbox: &TestSandbox,
    scan_refs: &[String],
    round: usize,
    violations: &mut Vec<String>,
) {
    let mut open: HashSet<String> = HashSet::new();
    let mut last: HashMap<String, String> = HashMap::new();
    for record in json_lines(trail) {
        let scan_ref = record["scanRef"].as_str().unwrap_or_default().to_owned();
        let outcome = record["outcome"].as_str().unwrap_or_default().to_owned();
        if outcome == "attempt" {
            open.insert(scan_ref);
            continue;
        }
        if !open.remove(&scan_ref) {
            violations.push(format!(
                "round {round}: an outcome with no attempt before it"
            ));
        }
        if outcome == "refused" {
            violations.push(format!(
                "round {round}: a deletion recorded as refused (the sandbox refuses none)"
            ));
        }
        last.insert(scan_ref, outcome);
    }
    for scan_ref in scan_refs {
        let status = sandbox.json(Endpoint::Status, scan_ref);
        if status["status"] != "DELETED" {
            violations.push(format!("round {round}: an identification was not deleted"));
        }
        if !matches!(
            last.get(scan_ref).map(String::as_str),
            Some("deleted" | "already-gone")
        ) {
            violations.push(format!(
                "round {round}: the trail's last word on a deleted identification is {:?}",
                last.get(scan_ref)
            ));
        }
    }
}

/// The bytes a sandbox serves for one identification, as a bundle keeps them: the lookups that
/// do not change between requests, the report, and each file by kind. (`files.json` holds
/// presigned URLs, which expire and so differ from one request to the next: its kinds are
/// compared instead.)
struct Served {
    lookups: HashMap<&'static str, Vec<u8>>,
    report: Vec<u8>,
    files: HashMap<String, Vec<u8>>,
}

fn served_of(sandbox: &TestSandbox, scan_ref: &str, work: &Path) -> Served {
    let mut lookups = HashMap::new();
    for (endpoint, name) in [
        (Endpoint::Status, "status.json"),
        (Endpoint::Data, "data.json"),
        (Endpoint::FullStatus, "full-status.json"),
    ] {
        let (status, body) = sandbox.post(endpoint, scan_ref);
        assert_eq!(status, 200, "{name} of {scan_ref}");
        lookups.insert(name, body.to_vec());
    }
    let pdf = work.join(format!("{scan_ref}.pdf"));
    run_with_timeout(
        idenfy_at(sandbox)
            .args(["report", scan_ref, "--output"])
            .arg(&pdf),
        Duration::from_secs(60),
    )
    .assert_code(0);
    let listed = sandbox.json(Endpoint::Files, scan_ref);
    let files = listed
        .as_object()
        .expect("the /files answer is an object")
        .iter()
        .filter_map(|(kind, url)| Some((kind.clone(), url.as_str()?.to_owned())))
        .map(|(kind, url)| {
            let (status, _, bytes) = sandbox.get(&url);
            assert_eq!(status, 200, "the sandbox serves {kind}");
            (kind, bytes.to_vec())
        })
        .collect();
    Served {
        lookups,
        report: std::fs::read(&pdf).expect("the report just written"),
        files,
    }
}

/// The names in `dir` that do not start with a dot: its bundles.
fn bundle_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Checks every bundle under its final name in `archive`: it verifies (`archive verify`), and
/// holds exactly what the sandbox served for it.
fn check_bundles(
    archive: &Path,
    served: &HashMap<String, Served>,
    round: usize,
    when: &str,
    violations: &mut Vec<String>,
) {
    for name in bundle_names(archive) {
        let bundle = archive.join(&name);
        let verified = run_with_timeout(
            super::idenfy()
                .args(["--quiet", "archive", "verify"])
                .arg(&bundle),
            Duration::from_secs(60),
        );
        if verified.code != Some(0) {
            violations.push(format!(
                "round {round}, {when}: a bundle under its final name does not verify: {}",
                verified.stdout.lines().next().unwrap_or_default()
            ));
            continue;
        }
        let Some(expected) = served.get(&name) else {
            violations.push(format!(
                "round {round}, {when}: a bundle of no scanRef archived: {name}"
            ));
            continue;
        };
        let read = |relative: &str| std::fs::read(bundle.join(relative)).unwrap_or_default();
        for (file, bytes) in &expected.lookups {
            if read(file) != *bytes {
                violations.push(format!(
                    "round {round}, {when}: {file} of a bundle is not what was served"
                ));
            }
        }
        if read("report.pdf") != expected.report {
            violations.push(format!(
                "round {round}, {when}: report.pdf of a bundle is not what was served"
            ));
        }
        let kinds: HashSet<String> = serde_json::from_slice::<Value>(&read("files.json"))
            .ok()
            .and_then(|table| {
                let table = table.as_object()?;
                Some(
                    table
                        .iter()
                        .filter(|(_, url)| url.is_string())
                        .map(|(kind, _)| kind.clone())
                        .collect(),
                )
            })
            .unwrap_or_default();
        if kinds != expected.files.keys().cloned().collect() {
            violations.push(format!(
                "round {round}, {when}: files.json of a bundle lists other files than were served"
            ));
        }
        let files = published(&bundle.join("files"));
        if files != expected.files {
            violations.push(format!(
                "round {round}, {when}: the files of a bundle are not what was served ({} of {})",
                files.len(),
                expected.files.len()
            ));
        }
    }
}

/// The identifications of an archive scenario, every API answer a little slow and every file
/// too, so that kills land while requests wait, while files arrive and while they are written.
fn archive_sandbox(count: usize, prefix: &str) -> (TestSandbox, Vec<String>) {
    let scan_refs: Vec<String> = (0..count).map(|i| format!("{prefix}-{i:03}")).collect();
    let fixtures = scan_refs
        .iter()
        .map(|scan_ref| {
            let mut fixture = fixture_copy(scan_refs::APPROVED, scan_ref);
            fixture["videoBytes"] = json!(64 << 10);
            fixture["fault"] = json!("delay-ms=10");
            fixture["downloadFault"] = json!("delay-ms=2");
            fixture
        })
        .collect();
    (sandbox_with(fixtures), scan_refs)
}

fn archive_create(sandbox: &TestSandbox, input: &Path, archive: &Path) -> Command {
    let mut command = idenfy_at(sandbox);
    command
        .args([
            "--quiet",
            "archive",
            "create",
            "--concurrency",
            "4",
            "--input",
        ])
        .arg(input)
        .arg("--to")
        .arg(archive);
    command
}

/// `archive create` killed at a random instant, then run again until it completes: no bundle
/// under its final name is partial or differs from what was served, after the kill or after
/// the rerun; the rerun leaves no staging directory and completes every bundle.
fn crash_archive(config: CrashConfig, dir: &Path) -> CrashReport {
    let started = Instant::now();
    let mut random = SplitMix64::new(config.seed ^ 0xa4c);
    let (sandbox, scan_refs) = archive_sandbox((config.scan_refs / 10).clamp(4, 40), "crash-a");
    let work = tempfile::tempdir_in(dir).expect("a directory for the scenario");
    let served: HashMap<String, Served> = scan_refs
        .iter()
        .map(|scan_ref| (scan_ref.clone(), served_of(&sandbox, scan_ref, work.path())))
        .collect();
    let input = work.path().join("in.txt");
    write_input(&input, &scan_refs);
    let (output, span) = timed(archive_create(&sandbox, &input, &work.path().join("clean")));
    output.assert_code(0);

    let mut report = CrashReport {
        scenario: "archive",
        rounds: config.rounds,
        killed_midway: 0,
        reruns: 0,
        violations: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for round in 0..config.rounds {
        let archive = work.path().join(format!("round-{round}"));
        if kill_after(
            archive_create(&sandbox, &input, &archive),
            instant_in(&mut random, span),
        ) {
            report.killed_midway += 1;
        }
        check_bundles(
            &archive,
            &served,
            round,
            "after the kill",
            &mut report.violations,
        );
        report.reruns += 1;
        let rerun = run_with_timeout(
            &mut archive_create(&sandbox, &input, &archive),
            Duration::from_secs(120),
        );
        if rerun.code != Some(0) {
            report.violations.push(format!(
                "round {round}: the run after the kill exited {:?}: {}",
                rerun.code,
                rerun.stderr.lines().last().unwrap_or_default()
            ));
            continue;
        }
        check_bundles(
            &archive,
            &served,
            round,
            "after the rerun",
            &mut report.violations,
        );
        let bundles = bundle_names(&archive);
        if bundles.len() != scan_refs.len() {
            report.violations.push(format!(
                "round {round}: {} of {} bundles after the rerun",
                bundles.len(),
                scan_refs.len()
            ));
        }
        report.no_temporaries_left_in(round, &archive);
    }
    report.elapsed = started.elapsed();
    report
}

/// `delete --archived` killed at a random instant, then run again until it completes: every
/// identification of the archive deleted, the trail true (as for a bulk deletion), and each
/// outcome record naming the SHA-256 of the manifest of the bundle it deleted by.
fn crash_archived_deletion(config: CrashConfig, dir: &Path) -> CrashReport {
    let started = Instant::now();
    let mut random = SplitMix64::new(config.seed ^ 0xa4d);
    let per_round = (config.scan_refs / 20).clamp(4, 20);
    let work = tempfile::tempdir_in(dir).expect("a directory for the scenario");
    let mut report = CrashReport {
        scenario: "archived",
        rounds: config.rounds,
        killed_midway: 0,
        reruns: 0,
        violations: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let delete = |sandbox: &TestSandbox, archive: &Path, audit: &Path| {
        let mut command = idenfy_at(sandbox);
        command
            .args(["--quiet", "delete", "--archived"])
            .arg(archive)
            .args(["--yes", "--concurrency", "2", "--audit"])
            .arg(audit);
        command
    };
    // A sandbox and its archive, made afresh for each run: deletions change the sandbox.
    let archived = |name: &str| {
        let (sandbox, scan_refs) = archive_sandbox(per_round, name);
        let input = work.path().join(format!("{name}.txt"));
        write_input(&input, &scan_refs);
        let archive = work.path().join(name);
        run_with_timeout(
            &mut archive_create(&sandbox, &input, &archive),
            Duration::from_secs(120),
        )
        .assert_code(0);
        let manifests: HashMap<String, String> = scan_refs
            .iter()
            .map(|scan_ref| {
                let bytes = std::fs::read(archive.join(scan_ref).join("manifest.json"))
                    .expect("the manifest of a bundle just made");
                (scan_ref.clone(), sha256_hex(&bytes))
            })
            .collect();
        (sandbox, scan_refs, archive, manifests)
    };
    let (clean_sandbox, _, clean_archive, _) = archived("clean");
    let (output, span) = timed(delete(
        &clean_sandbox,
        &clean_archive,
        &work.path().join("clean-audit.jsonl"),
    ));
    output.assert_code(0);
    drop(clean_sandbox);

    for round in 0..config.rounds {
        let (sandbox, scan_refs, archive, manifests) = archived(&format!("round{round}"));
        let audit = work.path().join(format!("round-{round}-audit.jsonl"));
        if kill_after(
            delete(&sandbox, &archive, &audit),
            instant_in(&mut random, span),
        ) {
            report.killed_midway += 1;
        }
        if !report.rerun_until_it_succeeds(round, || delete(&sandbox, &archive, &audit)) {
            continue;
        }
        let trail = std::fs::read_to_string(&audit).unwrap_or_default();
        check_trail(&trail, &sandbox, &scan_refs, round, &mut report.violations);
        for record in json_lines(&trail) {
            let scan_ref = record["scanRef"].as_str().unwrap_or_default();
            if record["outcome"] != "attempt"
                && record["manifestSha256"].as_str() != manifests.get(scan_ref).map(String::as_str)
            {
                report.violations.push(format!(
                    "round {round}: an outcome record does not name its bundle's manifest"
                ));
            }
        }
    }
    report.elapsed = started.elapsed();
    report
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
