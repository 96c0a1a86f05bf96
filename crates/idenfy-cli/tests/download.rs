//! `idenfy files SCAN_REF --download DIR`: the files as served, named by kind, never
//! overwritten without `--force`, and nothing left behind by a cut, oversized, late or
//! interrupted transfer, against the sandbox and against a file server that lies.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use idenfy_core::Endpoint;
use idenfy_hostile::{HostileServer, Script, Seen, Step};
use idenfy_sandbox::scan_refs;
use serde_json::{Value, json};
use support::{
    RunningChild, TestSandbox, fixture_copy, idenfy, idenfy_at, interrupt, run, run_with_timeout,
    write_fixture_file,
};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The files in `dir` by name, with their bytes.
fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

/// What the sandbox serves for each file of `scan_ref`, by file name (`FRONT.png`), fetched
/// directly; checks each body against its `Content-Length` and its format's signature.
fn served_files(sandbox: &TestSandbox, scan_ref: &str) -> BTreeMap<String, Vec<u8>> {
    let table = sandbox.json(Endpoint::Files, scan_ref);
    let mut served = BTreeMap::new();
    for (kind, url) in table.as_object().unwrap() {
        let Some(url) = url.as_str() else { continue };
        let (status, length, body) = sandbox.get(url);
        assert_eq!(status, 200, "{kind}");
        assert_eq!(length, Some(body.len() as u64), "{kind}");
        let extension = if kind.ends_with("VIDEO") {
            assert_eq!(&body[4..8], b"ftyp", "{kind} is not an MP4");
            "mp4"
        } else {
            assert!(body.starts_with(PNG_SIGNATURE), "{kind} is not a PNG");
            "png"
        };
        served.insert(format!("{kind}.{extension}"), body.to_vec());
    }
    served
}

#[test]
fn downloads_are_the_served_bytes_and_are_not_overwritten_without_force() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("suspected");
    let download = |force: bool| {
        let mut command = idenfy_at(&sandbox);
        command
            .args(["files", scan_refs::SUSPECTED, "--download"])
            .arg(&target);
        if force {
            command.arg("--force");
        }
        run(&mut command)
    };

    let first = download(false);
    first.assert_code(0);
    let served = served_files(&sandbox, scan_refs::SUSPECTED);
    let names: Vec<&str> = served.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "BACK.png",
            "BACK_VIDEO.mp4",
            "FACE.png",
            "FACE_VIDEO.mp4",
            "FRONT.png",
            "FRONT_VIDEO.mp4"
        ]
    );
    let saved = files_in(&target);
    assert_eq!(
        saved.keys().collect::<Vec<_>>(),
        served.keys().collect::<Vec<_>>(),
        "exactly the six files, nothing temporary"
    );
    for (name, bytes) in &served {
        assert!(saved[name] == *bytes, "{name} differs from what was served");
        // The command reports each file with its size.
        let reported = format!("{}\t{} bytes", target.join(name).display(), bytes.len());
        assert!(first.stdout.contains(&reported), "{}", first.stdout);
    }

    // Again without --force: refused before anything is written.
    let modified = |name: &str| {
        std::fs::metadata(target.join(name))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before: Vec<_> = served.keys().map(|name| modified(name)).collect();
    let second = download(false);
    second.assert_code(2);
    assert!(second.stderr.contains("--force"), "{}", second.stderr);
    assert_eq!(files_in(&target), saved);
    let after: Vec<_> = served.keys().map(|name| modified(name)).collect();
    assert_eq!(before, after, "a file was touched");

    // With --force: replaced, with the same bytes.
    let tampered = target.join("FRONT.png");
    std::fs::write(&tampered, b"not the served file").unwrap();
    let forced = download(true);
    forced.assert_code(0);
    assert_eq!(files_in(&target), served);
}

#[test]
fn a_cut_transfer_fails_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_with_download_fault(dir.path(), "cut-download", "close-mid-body");
    let target = dir.path().join("cut");

    let output = run(idenfy_at(&sandbox)
        .args(["--timeout", "5", "files", "cut-download", "--download"])
        .arg(&target));
    // A cut transfer is a network failure.
    output.assert_code(5);
    assert!(output.stderr.contains("cut"), "{}", output.stderr);
    let left: Vec<String> = files_in(&target).into_keys().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_cut_transfer_does_not_replace_an_existing_file_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_with_download_fault(dir.path(), "cut-download", "close-mid-body");
    let target = dir.path().join("cut");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("FRONT.png"), b"an earlier download").unwrap();

    let output = run(idenfy_at(&sandbox)
        .args([
            "--timeout",
            "5",
            "files",
            "cut-download",
            "--force",
            "--download",
        ])
        .arg(&target));
    // A cut transfer is a network failure.
    output.assert_code(5);
    let left = files_in(&target);
    assert_eq!(left.keys().collect::<Vec<_>>(), ["FRONT.png"]);
    assert_eq!(left["FRONT.png"], b"an earlier download");
}

#[test]
fn a_stalled_download_times_out_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_with_download_fault(dir.path(), "stalled-download", "delay-ms=5000");
    let target = dir.path().join("stalled");

    let started = std::time::Instant::now();
    let output = run(idenfy_at(&sandbox)
        .args([
            "--timeout",
            "0.5",
            "files",
            "stalled-download",
            "--download",
        ])
        .arg(&target));
    output.assert_code(5);
    assert!(output.stderr.contains("stalled"), "{}", output.stderr);
    // The first file's wait is bounded by --timeout, not by the server's delay.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    let left: Vec<String> = files_in(&target).into_keys().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A sandbox whose fixture `scan_ref` (the approved one's data) serves its files with `fault`.
fn sandbox_with_download_fault(dir: &std::path::Path, scan_ref: &str, fault: &str) -> TestSandbox {
    let fixture_file = dir.join("fixtures.json");
    let mut fixture = fixture_copy(scan_refs::APPROVED, scan_ref);
    fixture["downloadFault"] = json!(fault);
    write_fixture_file(&fixture_file, vec![fixture]);
    TestSandbox::with_fixture_file(&fixture_file)
}

// ---- Against a file server that lies. ----

/// The signature in the file URLs the lying server hands out; it must never be printed.
const SIGNATURE: &str = "X-Amz-Signature=5ecre7f11e";

/// A PNG as the file server sends it.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n the rest of a photo";

/// A server that answers `/api/v2/files` with one URL per kind in `kinds`, each pointing back
/// at itself (`/files/KIND`), and serves each file with the script `serve` returns for its kind.
fn file_server(
    kinds: &'static [&'static str],
    serve: impl Fn(&str, &Seen) -> Script + Send + Sync + 'static,
) -> HostileServer {
    HostileServer::start(move |seen| {
        if seen.method == "POST" && seen.path == "/api/v2/files" {
            let host = seen.header("host").unwrap_or_default().to_owned();
            let table: serde_json::Map<String, Value> = kinds
                .iter()
                .map(|kind| {
                    let url = format!("http://{host}/files/{kind}?{SIGNATURE}");
                    ((*kind).to_owned(), json!(url))
                })
                .collect();
            Script::json(200, &Value::Object(table).to_string())
        } else if let Some(kind) = seen.path.strip_prefix("/files/") {
            serve(kind.split('?').next().unwrap_or_default(), seen)
        } else {
            Script::response(404, &[], b"")
        }
    })
}

/// A well-formed file of `content_type`.
fn a_file(content_type: &str, body: &[u8]) -> Script {
    Script::response(200, &[("content-type", content_type)], body)
}

/// `idenfy ... files hostile-ref --download DIR` against `server`.
fn download_from(server: &HostileServer, dir: &Path, flags: &[&str]) -> Command {
    let mut command = idenfy();
    command
        .env("IDENFY_API_KEY", "hostile-key")
        .env("IDENFY_API_SECRET", "hostile-secret")
        .arg("--base-url")
        .arg(server.url(""))
        .args(flags)
        .args(["files", "hostile-ref", "--download"])
        .arg(dir);
    command
}

/// The names in `dir` (none when it does not exist).
fn names_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[track_caller]
fn assert_private(path: &Path) {
    let mode = std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
}

#[test]
fn an_endless_file_stops_at_the_size_cap_and_leaves_nothing() {
    let server = file_server(&["FRONT"], |_, _| {
        Script::endless_chunked(200, &[("content-type", "image/png")], &[0u8; 64 * 1024])
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("files");
    let output = run_with_timeout(
        download_from(&server, &target, &[]).arg("--max-file-size=2M"),
        Duration::from_secs(30),
    );
    output.assert_code(3);
    assert!(
        output
            .stderr
            .contains("larger than the limit of 2097152 bytes")
            && output.stderr.contains("--max-file-size"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("5ecre7f11e"), "{}", output.stderr);
    assert_eq!(names_in(&target), Vec::<String>::new());
}

#[test]
fn a_file_announced_over_the_size_cap_is_refused_before_its_body() {
    // The body never comes: only the announced length can be what failed.
    let server = file_server(&["FRONT"], |_, _| {
        Script::stalled_body(200, &[("content-type", "image/png")], 5000)
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run_with_timeout(
        download_from(&server, dir.path(), &[]).arg("--max-file-size=4K"),
        Duration::from_secs(30),
    );
    output.assert_code(3);
    assert!(
        output
            .stderr
            .contains("announced 5000 bytes, over the limit of 4096"),
        "{}",
        output.stderr
    );
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn the_deadline_bounds_the_whole_download() {
    // A byte every 20 ms: never a stall, never an end.
    let server = file_server(&["FRONT"], |_, _| {
        Script::raw(
            b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec(),
        )
        .then(Step::Repeat {
            chunk: b"1\r\nx\r\n".to_vec(),
            pause: Duration::from_millis(20),
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run_with_timeout(
        &mut download_from(
            &server,
            dir.path(),
            &["--timeout", "5", "--deadline", "1.5"],
        ),
        Duration::from_secs(20),
    );
    output.assert_code(5);
    assert!(output.stderr.contains("--deadline"), "{}", output.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn a_prepared_link_is_never_written_through() {
    let server = file_server(&["FRONT"], |_, _| a_file("image/png", PNG));
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let target = dir.path().join("files");
    std::fs::create_dir(&target).unwrap();
    // The temporary name a download used to write through, pointing elsewhere.
    std::os::unix::fs::symlink(&victim, target.join(".FRONT.png.part")).unwrap();

    run(&mut download_from(&server, &target, &[])).assert_code(0);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    let front = target.join("FRONT.png");
    assert!(std::fs::symlink_metadata(&front).unwrap().is_file());
    assert_eq!(std::fs::read(&front).unwrap(), PNG);
    assert_private(&front);

    // A link under the final name is replaced with --force, not written through.
    std::fs::remove_file(&front).unwrap();
    std::os::unix::fs::symlink(&victim, &front).unwrap();
    run(&mut download_from(&server, &target, &[])).assert_code(2);
    run(download_from(&server, &target, &[]).arg("--force")).assert_code(0);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(std::fs::symlink_metadata(&front).unwrap().is_file());
    assert_eq!(std::fs::read(&front).unwrap(), PNG);
}

#[test]
fn an_interrupt_removes_the_partial_file_keeps_the_complete_ones_and_exits_130() {
    // FRONT whole; BACK half, then nothing.
    let server = file_server(&["FRONT", "BACK"], |kind, _| {
        if kind == "FRONT" {
            return a_file("image/png", PNG);
        }
        Script::raw(
            b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 1000\r\n\r\n0123456789"
                .to_vec(),
        )
        .then(Step::Hang)
    });
    for signal in ["-INT", "-TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = RunningChild::spawn(&mut download_from(
            &server,
            dir.path(),
            &["--timeout", "30"],
        ));
        let started = Instant::now();
        while !names_in(dir.path())
            .iter()
            .any(|name| name.starts_with(".BACK"))
        {
            assert!(
                started.elapsed() < Duration::from_secs(20) && !child.has_exited(),
                "no partial file appeared: {:?}",
                names_in(dir.path())
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        if signal == "-INT" {
            interrupt(child.id());
        } else {
            let sent = Command::new("kill")
                .arg(signal)
                .arg(child.id().to_string())
                .status()
                .unwrap();
            assert!(sent.success());
        }
        let output = child.wait(Duration::from_secs(10));
        output.assert_code(130);
        assert!(output.stderr.contains("interrupted"), "{}", output.stderr);
        assert_eq!(names_in(dir.path()), ["FRONT.png"], "after {signal}");
        let front = format!(
            "{}\t{} bytes",
            dir.path().join("FRONT.png").display(),
            PNG.len()
        );
        assert_eq!(output.stdout.trim_end(), front, "after {signal}");
    }
}

#[test]
fn a_file_created_during_the_download_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let front = dir.path().join("FRONT.png");
    let racer = front.clone();
    let server = file_server(&["FRONT"], move |_, _| {
        // Someone else takes the name while the body is on its way.
        let racer = racer.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            std::fs::write(&racer, b"someone else's").unwrap();
        });
        let mut head =
            b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\nconnection: close\r\n".to_vec();
        head.extend_from_slice(format!("content-length: {}\r\n\r\n", PNG.len()).as_bytes());
        head.extend_from_slice(&PNG[..4]);
        Script {
            steps: vec![
                Step::Write(head),
                Step::Sleep(Duration::from_millis(1500)),
                Step::Write(PNG[4..].to_vec()),
            ],
        }
    });
    let output = run(&mut download_from(&server, dir.path(), &[]));
    output.assert_code(2);
    assert!(output.stderr.contains("--force"), "{}", output.stderr);
    assert_eq!(std::fs::read(&front).unwrap(), b"someone else's");
    assert_eq!(names_in(dir.path()), ["FRONT.png"]);
}

#[test]
fn force_with_another_extension_removes_the_old_file_and_says_so() {
    let server = file_server(&["FRONT"], |_, _| a_file("image/png", PNG));
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("FRONT.jpg");
    std::fs::write(&old, b"an earlier jpeg").unwrap();
    // Another kind's file and an unrelated one stay.
    std::fs::write(dir.path().join("FRONT_VIDEO.mp4"), b"video").unwrap();
    std::fs::write(dir.path().join("FRONT.jpg.notes"), b"notes").unwrap();

    let refused = run(&mut download_from(&server, dir.path(), &[]));
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("FRONT.jpg exists"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read(&old).unwrap(), b"an earlier jpeg");

    let output = run(download_from(&server, dir.path(), &[]).arg("--force"));
    output.assert_code(0);
    assert_eq!(
        names_in(dir.path()),
        ["FRONT.jpg.notes", "FRONT.png", "FRONT_VIDEO.mp4"]
    );
    assert!(
        output
            .stderr
            .contains(&format!("removed {}", old.display())),
        "{}",
        output.stderr
    );
    assert_eq!(std::fs::read(dir.path().join("FRONT.png")).unwrap(), PNG);
}

#[test]
fn every_kind_the_api_sends_is_downloaded_after_the_documented_ones() {
    const PDF: &[u8] = b"%PDF-1.7 a utility bill";
    let server = file_server(&["UTILITY_BILL", "FACE", "FRONT"], |kind, _| match kind {
        "UTILITY_BILL" => a_file("application/pdf", PDF),
        _ => a_file("image/png", PNG),
    });
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("new");
    let output = run(&mut download_from(&server, &dir, &[]));
    output.assert_code(0);
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "a new download directory has mode {mode:o}");
    assert_eq!(
        names_in(&dir),
        ["FACE.png", "FRONT.png", "UTILITY_BILL.pdf"]
    );
    assert_eq!(std::fs::read(dir.join("UTILITY_BILL.pdf")).unwrap(), PDF);
    for name in names_in(&dir) {
        assert_private(&dir.join(name));
    }
    // Reported with their sizes, documented kinds first in the docs' order.
    let reported: Vec<String> = output.stdout.lines().map(str::to_owned).collect();
    let line = |name: &str, bytes: usize| format!("{}\t{bytes} bytes", dir.join(name).display());
    assert_eq!(
        reported,
        [
            line("FRONT.png", PNG.len()),
            line("FACE.png", PNG.len()),
            line("UTILITY_BILL.pdf", PDF.len())
        ]
    );
}

#[test]
fn a_kind_that_is_not_a_plain_name_is_refused_and_nothing_is_written() {
    let server = file_server(&["FRONT", "../../ESCAPED"], |_, _| a_file("image/png", PNG));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a").join("b");
    let output = run(&mut download_from(&server, &target, &[]));
    output.assert_code(3);
    assert!(
        output
            .stderr
            .contains("`../../ESCAPED` that is not a plain name"),
        "{}",
        output.stderr
    );
    assert_eq!(names_in(&target), Vec::<String>::new());
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
    // Not a single file was requested.
    assert!(
        server.requests().iter().all(|seen| seen.method == "POST"),
        "{:?}",
        server.requests()
    );
}
