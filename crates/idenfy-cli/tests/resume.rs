//! An interrupted bulk export leaves only whole lines, exits 130, and `--resume` completes it
//! with every scanRef exactly once.

#![cfg(unix)]

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use idenfy_sandbox::scan_refs;
use serde_json::json;
use support::{
    RunningChild, TestSandbox, fixture_copy, idenfy_at, interrupt, json_lines, run, summary,
    write_fixture_file, write_input,
};

/// Whole lines in `path` so far (a line being written is not counted).
fn whole_lines(path: &std::path::Path) -> usize {
    std::fs::read(path)
        .map(|bytes| bytes.iter().filter(|&&byte| byte == b'\n').count())
        .unwrap_or(0)
}

#[test]
fn an_interrupted_export_keeps_whole_lines_and_resumes_to_completion() {
    let dir = tempfile::tempdir().unwrap();
    let count = 40;
    let scan_refs: Vec<String> = (0..count).map(|i| format!("slow-{i:03}")).collect();
    // Every answer takes 150 ms: at concurrency 2 the whole export would take 3 s, so the
    // interrupt lands in the middle of it.
    let fixtures = scan_refs
        .iter()
        .map(|scan_ref| {
            let mut fixture = fixture_copy(scan_refs::APPROVED, scan_ref);
            fixture["fault"] = json!("delay-ms=150");
            fixture
        })
        .collect();
    let fixture_file = dir.path().join("fixtures.json");
    write_fixture_file(&fixture_file, fixtures);
    let sandbox = TestSandbox::with_fixture_file(&fixture_file);
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(&input, &scan_refs);

    let mut child = RunningChild::spawn(
        idenfy_at(&sandbox)
            .args(["full-status", "--concurrency", "2", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&out),
    );
    // The output is buffered: wait until a few lines have reached the file.
    let started = Instant::now();
    while whole_lines(&out) < 3 {
        assert!(
            !child.has_exited(),
            "the export ended before it could be interrupted"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no lines reached the output"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    interrupt(child.id());
    let interrupted = child.wait(Duration::from_secs(20));
    interrupted.assert_code(130);

    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'), "a cut line at the end: {text:?}");
    let lines = json_lines(&text);
    assert!(
        lines.len() >= 3 && lines.len() < count,
        "{} lines after the interrupt",
        lines.len()
    );
    for line in &lines {
        assert!(line.get("result").is_some(), "{line}");
    }
    assert!(
        interrupted.stderr.contains("--resume"),
        "{}",
        interrupted.stderr
    );

    let resumed = run(idenfy_at(&sandbox)
        .args(["full-status", "--concurrency", "8", "--resume", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    resumed.assert_code(0);
    let summary = summary(&resumed.stderr);
    assert_eq!(summary.total, count, "{}", resumed.stderr);
    assert_eq!(summary.succeeded, count - lines.len(), "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains(&format!("({} already in the output)", lines.len())),
        "{}",
        resumed.stderr
    );

    let final_text = std::fs::read_to_string(&out).unwrap();
    assert!(
        final_text.starts_with(&text),
        "the lines of the first run were changed"
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for line in json_lines(&final_text) {
        assert!(line.get("result").is_some(), "{line}");
        *seen
            .entry(line["scanRef"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for scan_ref in &scan_refs {
        assert_eq!(seen.get(scan_ref), Some(&1), "{scan_ref}");
    }
    assert_eq!(seen.len(), count);
}

#[test]
fn resume_looks_up_again_what_failed_before() {
    // A first run with an unknown scanRef writes its error line; once the identification
    // exists (here: the next sandbox knows it), --resume replaces that line with a result.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    let late = "appears-later";
    write_input(&input, &[scan_refs::APPROVED.to_owned(), late.to_owned()]);

    let first = TestSandbox::start();
    run(idenfy_at(&first)
        .args(["status", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out))
    .assert_code(3);
    let lines = json_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(lines.len(), 2);
    drop(first);

    let fixture_file = dir.path().join("fixtures.json");
    write_fixture_file(
        &fixture_file,
        vec![fixture_copy(scan_refs::DENIED_FACE, late)],
    );
    let second = TestSandbox::with_fixture_file(&fixture_file);
    let resumed = run(idenfy_at(&second)
        .args(["status", "--resume", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    resumed.assert_code(0);
    let lines = json_lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["scanRef"], scan_refs::APPROVED);
    assert_eq!(lines[1]["scanRef"], late);
    assert_eq!(lines[1]["result"]["status"], "DENIED");
}

#[test]
fn resuming_as_another_endpoint_looks_every_scan_ref_up_again() {
    // A `status` export is not a `full-status` one: its lines keep their place but do not
    // count as done.
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    run(idenfy_at(&sandbox)
        .args(["status", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out))
    .assert_code(0);
    let status_export = std::fs::read_to_string(&out).unwrap();

    let resumed = run(idenfy_at(&sandbox)
        .args(["full-status", "--resume", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    resumed.assert_code(0);
    let summary = summary(&resumed.stderr);
    assert_eq!(summary.succeeded, 1, "{}", resumed.stderr);
    assert!(
        !resumed.stderr.contains("already in the output"),
        "{}",
        resumed.stderr
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with(&status_export), "{text}");
    let lines = json_lines(&text);
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["endpoint"], "status");
    assert_eq!(lines[1]["endpoint"], "full-status");
    assert_eq!(lines[1]["scanRef"], scan_refs::APPROVED);
    assert!(lines[1]["result"].is_object(), "{}", lines[1]);

    // And now both are done: a third run looks nothing up.
    let again = run(idenfy_at(&sandbox)
        .args(["full-status", "--resume", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    again.assert_code(0);
    assert!(
        again.stderr.contains("(1 already in the output)"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
}

#[test]
fn resume_refuses_a_file_that_is_not_an_export_and_leaves_it_untouched() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    let ours = "{\"scanRef\":\"x\",\"endpoint\":\"status\",\"result\":{}}\n";
    for (name, text) in [
        ("notes.txt", "my notes\nsecond line\n".to_owned()),
        ("no-break.txt", "a note without a line break".to_owned()),
        ("mixed.jsonl", format!("{ours}a note\n{ours}")),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let output = run(idenfy_at(&sandbox)
            .args(["status", "--resume", "--input"])
            .arg(&input)
            .arg("--output")
            .arg(&path));
        output.assert_code(2);
        assert!(
            output.stderr.contains("not the output of a bulk export"),
            "{name}: {}",
            output.stderr
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{name}");
    }
    // Nothing else was left in the directory (no temporary file).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["in.txt", "mixed.jsonl", "no-break.txt", "notes.txt"]
    );
}

#[test]
fn exports_are_private_and_resume_keeps_the_mode_and_writes_through_no_link() {
    use std::os::unix::fs::{PermissionsExt as _, symlink};

    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;

    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    run(idenfy_at(&sandbox)
        .args(["status", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out))
    .assert_code(0);
    assert_eq!(mode(&out), 0o600, "a new export holds personal data");

    // The owner opened it to the group; resuming keeps that choice. A link waits where the
    // temporary file used to be written, pointing at a file that must not change.
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "not yours").unwrap();
    symlink(&victim, dir.path().join("out.jsonl.resume")).unwrap();
    write_input(
        &input,
        &[
            scan_refs::APPROVED.to_owned(),
            scan_refs::EXPIRED.to_owned(),
        ],
    );
    let resumed = run(idenfy_at(&sandbox)
        .args(["status", "--resume", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&out));
    resumed.assert_code(0);
    assert_eq!(summary(&resumed.stderr).succeeded, 1, "{}", resumed.stderr);
    assert_eq!(mode(&out), 0o640, "resume changed the export's mode");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not yours");
    assert!(
        !std::fs::symlink_metadata(&out)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(json_lines(&std::fs::read_to_string(&out).unwrap()).len(), 2);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["in.txt", "out.jsonl", "out.jsonl.resume", "victim.txt"],
        "a temporary file was left behind"
    );
}

/// `idenfy status --input IN --output OUT [extra]` against `sandbox`.
fn export(
    sandbox: &TestSandbox,
    input: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) -> support::Output {
    run(idenfy_at(sandbox)
        .arg("status")
        .args(extra)
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(out))
}

/// A finished export of one scanRef, to resume.
struct Exported {
    sandbox: TestSandbox,
    dir: tempfile::TempDir,
    input: std::path::PathBuf,
    out: std::path::PathBuf,
}

/// `status` exported for `sandbox-approved` into `DIR/out.jsonl`, from `DIR/in.txt`.
fn exported() -> Exported {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let out = dir.path().join("out.jsonl");
    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    export(&sandbox, &input, &out, &[]).assert_code(0);
    Exported {
        sandbox,
        dir,
        input,
        out,
    }
}

#[test]
#[cfg_attr(
    not(idenfy_tests_as_root),
    ignore = "giving a file to another user needs root"
)]
fn an_empty_output_someone_else_owns_is_refused_and_gets_nothing() {
    use std::os::unix::fs::PermissionsExt as _;

    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    let out = dir.path().join("shared.jsonl");
    std::fs::write(&out, "").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o666)).unwrap();
    // Another user left it there.
    support::give_to_another_user(&out);
    let output = export(&sandbox, &input, &out, &[]);
    output.assert_code(2);
    assert!(output.stderr.contains("another user"), "{}", output.stderr);
    assert_eq!(
        std::fs::metadata(&out).unwrap().len(),
        0,
        "the export went into their file"
    );
}

#[test]
fn a_fifo_as_the_output_is_refused_at_once() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    write_input(&input, &[scan_refs::APPROVED.to_owned()]);
    let fifo = dir.path().join("out.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Opening a FIFO for writing blocks until a reader comes: the run's time limit would end
    // a command that waits for one.
    export(&sandbox, &input, &fifo, &[]).assert_code(2);
    export(&sandbox, &input, &fifo, &["--resume"]).assert_code(2);
}

#[test]
fn resume_is_refused_while_another_run_still_writes_the_export() {
    let Exported {
        sandbox,
        dir: _dir,
        input,
        out,
    } = exported();
    let before = std::fs::read(&out).unwrap();
    // The first run holds its lock while it writes; here the test holds it in its place.
    let held = std::fs::File::open(&out).unwrap();
    held.lock().unwrap();
    let second = export(&sandbox, &input, &out, &["--resume"]);
    second.assert_code(2);
    assert!(second.stderr.contains("another run"), "{}", second.stderr);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the export was rewritten under a running run"
    );
    drop(held);
    export(&sandbox, &input, &out, &["--resume"]).assert_code(0);
}

#[test]
fn resume_refuses_an_export_that_others_can_write() {
    use std::os::unix::fs::PermissionsExt as _;

    let Exported {
        sandbox,
        dir: _dir,
        input,
        out,
    } = exported();
    write_input(
        &input,
        &[
            scan_refs::APPROVED.to_owned(),
            scan_refs::EXPIRED.to_owned(),
        ],
    );
    let before = std::fs::read(&out).unwrap();

    // Writable by the group or by everyone: someone else may have planted its lines.
    for mode in [0o620, 0o666, 0o6666] {
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(mode)).unwrap();
        let refused = export(&sandbox, &input, &out, &["--resume"]);
        refused.assert_code(2);
        assert!(
            refused.stderr.contains("can be written by others")
                && refused.stderr.contains(&format!("{mode:04o}")),
            "{mode:o}: {}",
            refused.stderr
        );
        assert_eq!(std::fs::read(&out).unwrap(), before, "{mode:o}");
        let kept = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
        assert_eq!(kept, mode, "a refused export keeps its mode");
    }
}

#[test]
#[cfg_attr(
    not(idenfy_tests_as_root),
    ignore = "giving a file to another user needs root"
)]
fn resume_refuses_an_export_that_another_user_owns() {
    let Exported {
        sandbox,
        dir: _dir,
        input,
        out,
    } = exported();
    let before = std::fs::read(&out).unwrap();
    support::give_to_another_user(&out);
    let refused = export(&sandbox, &input, &out, &["--resume"]);
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("another user"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

#[test]
fn resume_keeps_the_permission_bits_of_ones_own_export_but_never_set_id_bits() {
    use std::os::unix::fs::PermissionsExt as _;

    let Exported {
        sandbox,
        dir: _dir,
        input,
        out,
    } = exported();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o7640)).unwrap();
    export(&sandbox, &input, &out, &["--resume"]).assert_code(0);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
}

#[test]
fn the_temporary_files_a_killed_resume_left_are_removed_by_the_next_run() {
    use std::os::unix::fs::symlink;

    let Exported {
        sandbox,
        dir,
        input,
        out,
    } = exported();
    // What a kill -9 in the middle of a resume leaves: a whole copy of the personal data.
    let stale = dir.path().join(".out.jsonl.Ab3xY9.resume");
    std::fs::copy(&out, &stale).unwrap();
    // Names that are not ours, and a link in our pattern, stay.
    let others = [
        dir.path().join(".out.jsonl.notes.resume"),
        dir.path().join(".other.jsonl.Ab3xY9.resume"),
    ];
    for other in &others {
        std::fs::write(other, "keep").unwrap();
    }
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    let link = dir.path().join(".out.jsonl.Zz9yX8.resume");
    symlink(&victim, &link).unwrap();

    let resumed = export(&sandbox, &input, &out, &["--resume"]);
    resumed.assert_code(0);
    assert!(!stale.exists(), "the stale copy is still there");
    assert!(
        resumed.stderr.contains(".out.jsonl.Ab3xY9.resume"),
        "the removal is not reported: {}",
        resumed.stderr
    );
    for other in &others {
        assert_eq!(std::fs::read_to_string(other).unwrap(), "keep");
    }
    assert!(link.symlink_metadata().is_ok());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");

    // A new export into the same name cleans up too (here after the old one was removed).
    std::fs::copy(&out, &stale).unwrap();
    std::fs::remove_file(&out).unwrap();
    export(&sandbox, &input, &out, &[]).assert_code(0);
    assert!(!stale.exists());
}

#[test]
fn two_resumes_at_once_never_lose_a_line() {
    // Each round: an export of part of the list, then two resumes of it started together. One
    // may be refused (exit 2: the other holds the export); whatever a run reports as looked up
    // must be in the file, and in the end every scanRef is there exactly once.
    let dir = tempfile::tempdir().unwrap();
    let count = 400;
    let scan_refs: Vec<String> = (0..count).map(|i| format!("pair-{i:04}")).collect();
    let fixtures = scan_refs
        .iter()
        .map(|scan_ref| fixture_copy(scan_refs::APPROVED, scan_ref))
        .collect();
    let fixture_file = dir.path().join("fixtures.json");
    write_fixture_file(&fixture_file, fixtures);
    let sandbox = TestSandbox::with_fixture_file(&fixture_file);
    let first_half = dir.path().join("first.txt");
    write_input(&first_half, &scan_refs[..count / 2]);
    let all = dir.path().join("all.txt");
    write_input(&all, &scan_refs);
    for round in 0..6 {
        let out = dir.path().join(format!("out-{round}.jsonl"));
        export(&sandbox, &first_half, &out, &[]).assert_code(0);
        let resume = || {
            RunningChild::spawn(
                idenfy_at(&sandbox)
                    .args(["status", "--resume", "--concurrency", "4", "--input"])
                    .arg(&all)
                    .arg("--output")
                    .arg(&out),
            )
        };
        let (one, two) = (resume(), resume());
        let outputs = [
            one.wait(Duration::from_secs(60)),
            two.wait(Duration::from_secs(60)),
        ];
        let mut lines: HashMap<String, usize> = HashMap::new();
        for line in json_lines(&std::fs::read_to_string(&out).unwrap()) {
            *lines
                .entry(line["scanRef"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        let mut finished = 0;
        for output in &outputs {
            match output.code {
                Some(0) => finished += 1,
                Some(2) => assert!(output.stderr.contains("another run"), "{}", output.stderr),
                other => panic!("round {round}: exit {other:?}: {}", output.stderr),
            }
        }
        assert!(finished >= 1, "round {round}: both runs were refused");
        assert_eq!(lines.len(), count, "round {round}: lines were lost");
        assert!(
            lines.values().all(|&n| n == 1),
            "round {round}: a line is doubled"
        );
    }
}
