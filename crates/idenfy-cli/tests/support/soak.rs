//! The fault soak, shared by `tests/soak.rs` (1,000 scanRefs, the debug binary) and
//! `benches/soak.rs` (`cargo xtask soak`: 10,000, the release binary).
//!
//! A bulk export of `full-status` for N generated scanRefs runs against a sandbox where a tenth
//! of the lookups are faulted (429, 500, 502, 503, a body cut mid-way, truncated JSON, a slow
//! answer), each a given number of times; it is killed (SIGINT or SIGKILL) at a random point,
//! then resumed until it completes. Its output must hold every scanRef exactly once, each line
//! byte for byte the line of a clean run against a sandbox without faults. Everything random
//! comes from one seed, printed with the results, so a failure can be replayed.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use idenfy_sandbox::{Fixtures, Sandbox, scan_refs};
use serde_json::{Value, json};

use super::{RunningChild, TestSandbox, fixture_copy, idenfy_at, run_with_timeout, write_input};

/// The faults a soak draws from, as the sandbox's per-fixture fault specs.
pub const FAULTS: [&str; 7] = [
    "status=429; retry-after=1; times=1",
    "status=500; times=1",
    "status=502; times=2",
    "status=503; times=1",
    "close-mid-body; times=1",
    "truncated-json; times=1",
    "delay-ms=300; times=1",
];

/// Templates the generated fixtures copy, so that lines differ from one another.
const TEMPLATES: [&str; 4] = [
    scan_refs::APPROVED,
    scan_refs::DENIED_FACE,
    scan_refs::SUSPECTED,
    scan_refs::REVIEWING,
];

/// What to soak.
#[derive(Debug, Clone, Copy)]
pub struct SoakConfig {
    pub scan_refs: usize,
    /// Faulted lookups, in percent.
    pub faulted_percent: u64,
    pub concurrency: u16,
    pub seed: u64,
}

/// What a soak found.
#[derive(Debug, Clone)]
pub struct SoakReport {
    pub config: SoakConfig,
    pub faulted: usize,
    /// Faults the sandbox applied: each faulted fixture's, as many times as its spec says.
    pub fired: u64,
    /// The signal sent, and how many whole lines the output had then.
    pub killed_with: &'static str,
    pub killed_at: usize,
    /// Whole lines in the output after the last resume.
    pub lines_after_resume: usize,
    /// Runs after the kill until the export completed.
    pub resumes: usize,
    /// scanRefs with no line, or with more than one.
    pub missing: usize,
    pub duplicated: usize,
    /// Lines that differ from the clean run's (error lines included).
    pub mismatches: usize,
    pub elapsed: Duration,
}

impl SoakReport {
    /// Whether the export came out as a clean run's.
    pub fn passed(&self) -> bool {
        self.missing == 0
            && self.duplicated == 0
            && self.mismatches == 0
            && self.lines_after_resume == self.config.scan_refs
    }

    /// The header of [`SoakReport::row`].
    pub fn header() -> String {
        format!(
            "{:>8}  {:>7}  {:>5}  {:>18}  {:>12}  {:>7}  {:>16}  {:>10}  {:>7}",
            "scanRefs",
            "faulted",
            "fired",
            "killed at",
            "lines after",
            "resumes",
            "missing/doubled",
            "mismatches",
            "time"
        )
    }

    /// One row of the soak table.
    pub fn row(&self) -> String {
        format!(
            "{:>8}  {:>7}  {:>5}  {:>18}  {:>12}  {:>7}  {:>16}  {:>10}  {:>6.1}s",
            self.config.scan_refs,
            self.faulted,
            self.fired,
            format!("{} lines, {}", self.killed_at, self.killed_with),
            self.lines_after_resume,
            self.resumes,
            format!("{}/{}", self.missing, self.duplicated),
            self.mismatches,
            self.elapsed.as_secs_f64()
        )
    }
}

/// The seed `variable` gives (to replay a run), or a new one from the clock.
pub fn seed_from(variable: &str) -> u64 {
    std::env::var(variable)
        .ok()
        .and_then(|seed| seed.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |elapsed| elapsed.as_nanos() as u64)
        })
}

/// A small seeded generator (SplitMix64): the soak's choices, replayable from the seed.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// Runs the soak in `dir`.
pub fn soak(config: SoakConfig, dir: &Path) -> SoakReport {
    let started = Instant::now();
    let mut random = SplitMix64::new(config.seed);
    let scan_refs: Vec<String> = (0..config.scan_refs)
        .map(|i| format!("soak-{i:06}"))
        .collect();
    let clean: Vec<Value> = scan_refs
        .iter()
        .enumerate()
        .map(|(index, scan_ref)| fixture_copy(TEMPLATES[index % TEMPLATES.len()], scan_ref))
        .collect();
    let mut faulted = 0;
    let faulty: Vec<Value> = clean
        .iter()
        .map(|fixture| {
            let mut fixture = fixture.clone();
            if random.below(100) < config.faulted_percent {
                faulted += 1;
                let fault = FAULTS[random.below(FAULTS.len() as u64) as usize];
                fixture["fault"] = json!(fault);
            }
            fixture
        })
        .collect();
    let input = dir.join("in.txt");
    write_input(&input, &scan_refs);

    // The reference: the same export without faults.
    let clean_sandbox = sandbox_with(clean);
    let clean_output = dir.join("clean.jsonl");
    export(&clean_sandbox, config, &input, &clean_output, false).assert_code(0);
    let expected = lines_by_scan_ref(&std::fs::read(&clean_output).expect("the clean output"));
    assert_eq!(
        expected.len(),
        config.scan_refs,
        "the clean run is complete"
    );
    drop(clean_sandbox);

    let sandbox = sandbox_with(faulty);
    let output = dir.join("soak.jsonl");
    let kill_at =
        config.scan_refs / 20 + random.below((config.scan_refs / 2).max(1) as u64) as usize;
    let signal = if random.below(2) == 0 { "INT" } else { "KILL" };
    let mut child = RunningChild::spawn(&mut export_command(
        &sandbox, config, &input, &output, false,
    ));
    let mut killed_at = 0;
    let mut killed_with = "none (finished first)";
    while !child.has_exited() {
        let lines = whole_lines(&output);
        if lines >= kill_at {
            signal_process(child.id(), signal);
            killed_at = lines;
            killed_with = if signal == "INT" { "SIGINT" } else { "SIGKILL" };
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the faulted export made no progress"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let first = child.wait(Duration::from_secs(60));
    if killed_with == "SIGINT" {
        first.assert_code(130);
    }

    let mut resumes = 0;
    loop {
        resumes += 1;
        let resumed = export(&sandbox, config, &input, &output, true);
        // An error line (a truncated body is not retried) is looked up again by the next
        // resume; every fault is spent after a few lookups.
        if resumed.code == Some(0) || resumes == 4 {
            break;
        }
    }

    let final_bytes = std::fs::read(&output).expect("the soak output");
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut mismatches = 0;
    let mut lines = 0;
    for line in final_bytes.split_inclusive(|&byte| byte == b'\n') {
        lines += 1;
        let scan_ref = scan_ref_of_line(line);
        if expected.get(&scan_ref).map(Vec::as_slice) != Some(line) {
            mismatches += 1;
        }
        *seen.entry(scan_ref).or_default() += 1;
    }
    SoakReport {
        config,
        faulted,
        fired: sandbox.faults_applied(),
        killed_with,
        killed_at,
        lines_after_resume: lines,
        resumes,
        missing: scan_refs.iter().filter(|s| !seen.contains_key(*s)).count(),
        duplicated: seen.values().filter(|&&count| count > 1).count(),
        mismatches,
        elapsed: started.elapsed(),
    }
}

fn sandbox_with(fixtures: Vec<Value>) -> TestSandbox {
    let fixtures = Fixtures::from_json_str(&json!({ "fixtures": fixtures }).to_string())
        .expect("the generated fixtures are valid");
    TestSandbox::start_with(Sandbox::builder().fixtures(fixtures))
}

fn export_command(
    sandbox: &TestSandbox,
    config: SoakConfig,
    input: &Path,
    output: &Path,
    resume: bool,
) -> Command {
    let mut command = idenfy_at(sandbox);
    // One attempt may take 2 s, a lookup 30 s in all: every fault is within them.
    command
        .args(["--timeout", "2", "--deadline", "30", "--retries", "4"])
        .args([
            "full-status",
            "--concurrency",
            &config.concurrency.to_string(),
        ])
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output);
    if resume {
        command.arg("--resume");
    }
    command
}

fn export(
    sandbox: &TestSandbox,
    config: SoakConfig,
    input: &Path,
    output: &Path,
    resume: bool,
) -> super::Output {
    run_with_timeout(
        &mut export_command(sandbox, config, input, output, resume),
        Duration::from_secs(600),
    )
}

/// The lines of an export, by the scanRef each is about.
pub fn lines_by_scan_ref(bytes: &[u8]) -> HashMap<String, Vec<u8>> {
    bytes
        .split_inclusive(|&byte| byte == b'\n')
        .map(|line| (scan_ref_of_line(line), line.to_vec()))
        .collect()
}

/// The scanRef a line of an export is about, or a marker that it is not a line of one.
pub fn scan_ref_of_line(line: &[u8]) -> String {
    serde_json::from_slice::<Value>(line)
        .ok()
        .and_then(|value| value["scanRef"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("<not a line: {}>", String::from_utf8_lossy(line)))
}

fn whole_lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|bytes| bytes.iter().filter(|&&byte| byte == b'\n').count())
        .unwrap_or(0)
}

/// Sends `SIG{signal}` to `pid` with the system's `kill` command.
pub fn signal_process(pid: u32, signal: &str) {
    let output = run_with_timeout(
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string()),
        Duration::from_secs(10),
    );
    assert_eq!(
        output.code,
        Some(0),
        "kill -{signal} failed: {}",
        output.stderr
    );
}
