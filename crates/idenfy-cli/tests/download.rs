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
    let mut expected: Vec<&str> = vec![MARKER];
    expected.extend(served.keys().map(String::as_str));
    assert_eq!(
        saved.keys().collect::<Vec<_>>(),
        expected,
        "exactly the six files and the record, nothing temporary"
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
    assert_eq!(downloads_in(&target), served);
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
fn an_interrupt_publishes_nothing_leaves_nothing_and_exits_130() {
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
        while !names_in(dir.path()).iter().any(|name| {
            name.starts_with(".idenfy-staging.")
                && names_in(&dir.path().join(name))
                    .iter()
                    .any(|inner| inner.starts_with(".BACK."))
        }) {
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
        // The set was not complete: nothing of it is published.
        assert_eq!(names_in(dir.path()), Vec::<String>::new(), "after {signal}");
        assert_eq!(output.stdout, "", "after {signal}");
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
fn force_removes_the_earlier_downloads_the_new_set_does_not_replace_and_says_so() {
    let server = file_server(&["FRONT"], |_, _| a_file("image/png", PNG));
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("FRONT.jpg");
    std::fs::write(&old, b"an earlier jpeg").unwrap();
    // A documented kind the new set does not have goes too; an unrelated file stays.
    let video = dir.path().join("FRONT_VIDEO.mp4");
    std::fs::write(&video, b"video").unwrap();
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
        [MARKER, "FRONT.jpg.notes", "FRONT.png"]
    );
    for removed in [&old, &video] {
        assert!(
            output
                .stderr
                .contains(&format!("removed {}", removed.display())),
            "{}",
            output.stderr
        );
    }
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
        [MARKER, "FACE.png", "FRONT.png", "UTILITY_BILL.pdf"]
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

// ---- One identification's set per directory. ----

/// The record of what a download directory holds.
const MARKER: &str = ".idenfy-download.json";

/// What a file of `scan_ref`'s set holds: its own bytes, so two sets never look alike.
fn content_of(scan_ref: &str, kind: &str) -> Vec<u8> {
    let mut bytes = if kind == "UTILITY_BILL" {
        b"%PDF-1.7 ".to_vec()
    } else {
        PNG_SIGNATURE.to_vec()
    };
    bytes.extend_from_slice(format!("{scan_ref} {kind}").as_bytes());
    bytes
}

fn name_of(kind: &str) -> String {
    if kind == "UTILITY_BILL" {
        format!("{kind}.pdf")
    } else {
        format!("{kind}.png")
    }
}

/// `scan_ref`'s set as the command saves it: file name and bytes.
fn set_of(scan_ref: &str, kinds: &[&str]) -> BTreeMap<String, Vec<u8>> {
    kinds
        .iter()
        .map(|kind| (name_of(kind), content_of(scan_ref, kind)))
        .collect()
}

/// How a file is served, when not as [`content_of`] says.
type Fault = dyn Fn(&str, &str) -> Option<Script> + Send + Sync;

/// A server with several identifications: `/api/v2/files` answers each scanRef of `sets` with
/// a URL per kind (`/files/SCANREF/KIND`), served as [`content_of`] unless `fault` says
/// otherwise for that scanRef and kind.
fn identifications(
    sets: &'static [(&'static str, &'static [&'static str])],
    fault: impl Fn(&str, &str) -> Option<Script> + Send + Sync + 'static,
) -> HostileServer {
    let fault: Box<Fault> = Box::new(fault);
    HostileServer::start(move |seen| {
        if seen.method == "POST" && seen.path == "/api/v2/files" {
            let asked: Value = serde_json::from_slice(&seen.body).unwrap_or_default();
            let host = seen.header("host").unwrap_or_default().to_owned();
            let Some((scan_ref, kinds)) = sets.iter().find(|(name, _)| asked["scanRef"] == *name)
            else {
                return Script::json(404, r#"{"identifier":"NOT_FOUND","message":"no"}"#);
            };
            let table: serde_json::Map<String, Value> = kinds
                .iter()
                .map(|kind| {
                    let url = format!("http://{host}/files/{scan_ref}/{kind}?{SIGNATURE}");
                    ((*kind).to_owned(), json!(url))
                })
                .collect();
            Script::json(200, &Value::Object(table).to_string())
        } else if let Some(rest) = seen.path.strip_prefix("/files/") {
            let rest = rest.split('?').next().unwrap_or_default();
            let (scan_ref, kind) = rest.split_once('/').unwrap_or_default();
            if let Some(script) = fault(scan_ref, kind) {
                return script;
            }
            let content_type = if kind == "UTILITY_BILL" {
                "application/pdf"
            } else {
                "image/png"
            };
            a_file(content_type, &content_of(scan_ref, kind))
        } else {
            Script::response(404, &[], b"")
        }
    })
}

/// `idenfy files SCAN_REF --download DIR` against `server`.
fn download_of(server: &HostileServer, scan_ref: &str, dir: &Path, flags: &[&str]) -> Command {
    let mut command = idenfy();
    command
        .env("IDENFY_API_KEY", "hostile-key")
        .env("IDENFY_API_SECRET", "hostile-secret")
        .arg("--base-url")
        .arg(server.url(""))
        .args(["files", scan_ref, "--download"])
        .arg(dir)
        .args(flags);
    command
}

/// The files of `dir` that are not hidden (the downloads), with their bytes.
fn downloads_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    names_in(dir)
        .into_iter()
        .filter(|name| !name.starts_with('.'))
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// The record in `dir`: its scanRef, its files and its state.
fn marker_in(dir: &Path) -> (String, Vec<String>, String) {
    let text = std::fs::read(dir.join(MARKER)).expect("a download record");
    let marker: Value = serde_json::from_slice(&text).expect("the record is JSON");
    let files = marker["files"]
        .as_array()
        .expect("a list of files")
        .iter()
        .map(|name| name.as_str().unwrap().to_owned())
        .collect();
    (
        marker["scanRef"].as_str().unwrap().to_owned(),
        files,
        marker["state"].as_str().unwrap_or_default().to_owned(),
    )
}

#[track_caller]
fn assert_holds(dir: &Path, scan_ref: &str, kinds: &[&str]) {
    assert_eq!(
        downloads_in(dir),
        set_of(scan_ref, kinds),
        "{} does not hold exactly {scan_ref}'s set",
        dir.display()
    );
    let (recorded, files, state) = marker_in(dir);
    assert_eq!(recorded, scan_ref);
    let mut names: Vec<String> = kinds.iter().map(|kind| name_of(kind)).collect();
    names.sort();
    let mut files = files;
    files.sort();
    assert_eq!(files, names);
    assert_eq!(state, "complete");
}

const OLD_KINDS: &[&str] = &["FRONT", "BACK", "FACE", "UTILITY_BILL"];
const NEW_KINDS: &[&str] = &["FRONT", "FACE"];
const SETS: &[(&str, &[&str])] = &[("old-ref", OLD_KINDS), ("new-ref", NEW_KINDS)];

#[test]
fn a_failure_midway_with_force_leaves_the_earlier_set_whole() {
    // NEW's FRONT arrives whole, its FACE is cut.
    let server = identifications(SETS, |scan_ref, kind| {
        (scan_ref == "new-ref" && kind == "FACE").then(|| {
            Script::lying_length(200, &[("content-type", "image/png")], 1000, b"\x89PNG cut")
        })
    });
    let dir = tempfile::tempdir().unwrap();
    run(&mut download_of(&server, "old-ref", dir.path(), &[])).assert_code(0);
    assert_holds(dir.path(), "old-ref", OLD_KINDS);

    let output = run(&mut download_of(
        &server,
        "new-ref",
        dir.path(),
        &["--force"],
    ));
    output.assert_code(5);
    assert_holds(dir.path(), "old-ref", OLD_KINDS);
    assert_eq!(
        names_in(dir.path())
            .iter()
            .filter(|name| name.starts_with('.'))
            .collect::<Vec<_>>(),
        [MARKER],
        "something temporary was left"
    );
    assert!(output.stdout.is_empty(), "{}", output.stdout);
}

#[test]
fn a_smaller_set_with_force_removes_the_earlier_extra_files_and_says_so() {
    let server = identifications(SETS, |_, _| None);
    let dir = tempfile::tempdir().unwrap();
    run(&mut download_of(&server, "old-ref", dir.path(), &[])).assert_code(0);
    // Not a download: stays.
    std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();

    let output = run(&mut download_of(
        &server,
        "new-ref",
        dir.path(),
        &["--force"],
    ));
    output.assert_code(0);
    let mut expected = set_of("new-ref", NEW_KINDS);
    expected.insert("notes.txt".into(), b"mine".to_vec());
    assert_eq!(downloads_in(dir.path()), expected);
    let (recorded, _, state) = marker_in(dir.path());
    assert_eq!((recorded.as_str(), state.as_str()), ("new-ref", "complete"));
    for gone in ["BACK.png", "UTILITY_BILL.pdf"] {
        let reported = format!("removed {}", dir.path().join(gone).display());
        assert!(output.stderr.contains(&reported), "{}", output.stderr);
    }
}

#[test]
fn another_identifications_files_are_refused_without_force_and_untouched() {
    let server = identifications(
        &[
            ("old-ref", &["BACK", "UTILITY_BILL"]),
            ("new-ref", &["FRONT"]),
        ],
        |_, _| None,
    );
    // Recorded: even a kind only the record names (UTILITY_BILL) counts.
    let dir = tempfile::tempdir().unwrap();
    run(&mut download_of(&server, "old-ref", dir.path(), &[])).assert_code(0);
    let before = files_in(dir.path());
    let output = run(&mut download_of(&server, "new-ref", dir.path(), &[]));
    output.assert_code(2);
    assert!(
        output.stderr.contains("another identification") && output.stderr.contains("--force"),
        "{}",
        output.stderr
    );
    assert_eq!(files_in(dir.path()), before);

    // Unrecorded (an earlier version's download): a documented kind's file counts.
    let bare = tempfile::tempdir().unwrap();
    std::fs::write(bare.path().join("FACE.png"), b"someone's face").unwrap();
    let output = run(&mut download_of(&server, "new-ref", bare.path(), &[]));
    output.assert_code(2);
    assert!(output.stderr.contains("--force"), "{}", output.stderr);
    assert_eq!(names_in(bare.path()), ["FACE.png"]);
    // Nothing was fetched either time.
    assert!(
        server
            .requests()
            .iter()
            .filter(|seen| seen.method == "GET")
            .count()
            == 2,
        "only old-ref's two files were fetched: {:?}",
        server.requests()
    );
}

/// Waits until `dir` holds a staging directory with a partial FACE in it.
fn wait_for_partial_face(dir: &Path, child: &mut RunningChild) -> std::path::PathBuf {
    let started = Instant::now();
    loop {
        for name in names_in(dir) {
            if name.starts_with(".idenfy-staging.")
                && names_in(&dir.join(&name))
                    .iter()
                    .any(|inner| inner.starts_with(".FACE."))
            {
                return dir.join(name);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20) && !child.has_exited(),
            "no partial FACE appeared: {:?}",
            names_in(dir)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_kill_mid_download_leaves_the_earlier_set_and_the_next_run_cleans_up() {
    // NEW's FACE, the first time: half a file, then nothing.
    let served_face = std::sync::atomic::AtomicBool::new(false);
    let server = identifications(SETS, move |scan_ref, kind| {
        let first = scan_ref == "new-ref"
            && kind == "FACE"
            && !served_face.swap(true, std::sync::atomic::Ordering::SeqCst);
        first.then(|| {
            Script::raw(
                b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 1000\r\n\r\n\x89PNG half"
                    .to_vec(),
            )
            .then(Step::Hang)
        })
    });
    let dir = tempfile::tempdir().unwrap();
    run(&mut download_of(&server, "old-ref", dir.path(), &[])).assert_code(0);
    // What an earlier version left when it was killed, and traps that are not ours.
    let legacy = dir.path().join(".FRONT.Ab12Cd.part");
    std::fs::write(&legacy, b"half a front").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("keep"), b"keep").unwrap();
    let trap = dir.path().join(".idenfy-staging.Zz9Zz9");
    std::os::unix::fs::symlink(elsewhere.path(), &trap).unwrap();
    let linked_part = dir.path().join(".BACK.Qq1Qq1.part");
    std::os::unix::fs::symlink(elsewhere.path().join("keep"), &linked_part).unwrap();

    let mut child = RunningChild::spawn(&mut download_of(
        &server,
        "new-ref",
        dir.path(),
        &["--force", "--timeout", "30"],
    ));
    let staging = wait_for_partial_face(dir.path(), &mut child);
    let killed = Command::new("kill")
        .arg("-KILL")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait(Duration::from_secs(10));
    assert_eq!(output.code, None, "killed by a signal");
    // The killed run had already removed what the earlier version left.
    assert!(!legacy.exists(), "{} is left", legacy.display());
    let reported = format!("removed {}", legacy.display());
    assert!(output.stderr.contains(&reported), "{}", output.stderr);
    // Nothing published: OLD's set whole, no NEW file beside it.
    assert_holds(dir.path(), "old-ref", OLD_KINDS);
    assert!(staging.is_dir(), "the kill left its staging directory");

    let output = run(&mut download_of(
        &server,
        "new-ref",
        dir.path(),
        &["--force"],
    ));
    output.assert_code(0);
    assert_holds(dir.path(), "new-ref", NEW_KINDS);
    assert!(!staging.exists(), "{} is left", staging.display());
    let reported = format!("removed {}", staging.display());
    assert!(output.stderr.contains(&reported), "{}", output.stderr);
    // Links are neither followed nor removed.
    assert!(std::fs::symlink_metadata(&trap).unwrap().is_symlink());
    assert!(
        std::fs::symlink_metadata(&linked_part)
            .unwrap()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read(elsewhere.path().join("keep")).unwrap(),
        b"keep"
    );
    let mut hidden: Vec<String> = names_in(dir.path())
        .into_iter()
        .filter(|name| name.starts_with('.'))
        .collect();
    hidden.sort();
    assert_eq!(
        hidden,
        [".BACK.Qq1Qq1.part", MARKER, ".idenfy-staging.Zz9Zz9"]
    );
}

#[test]
fn an_interrupted_publish_is_redone_by_the_next_run() {
    // What a kill between the record of NEW's set and the end of its renames leaves: the
    // record says NEW is being published, NEW's FRONT is in, OLD's FACE, BACK and bill are
    // not yet replaced or removed.
    let server = identifications(SETS, |_, _| None);
    let dir = tempfile::tempdir().unwrap();
    let old = set_of("old-ref", OLD_KINDS);
    for (name, bytes) in &old {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    std::fs::write(dir.path().join("FRONT.png"), content_of("new-ref", "FRONT")).unwrap();
    let record = json!({
        "scanRef": "new-ref",
        "files": ["FACE.png", "FRONT.png"],
        "state": "publishing",
        "replacing": ["BACK.png", "FACE.png", "FRONT.png", "UTILITY_BILL.pdf"],
    });
    std::fs::write(dir.path().join(MARKER), record.to_string()).unwrap();

    // Another identification's run sees a directory that is not its own.
    let other = run(&mut download_of(&server, "old-ref", dir.path(), &[]));
    other.assert_code(2);
    assert!(
        other.stderr.contains("another identification"),
        "{}",
        other.stderr
    );

    // NEW's run finishes the publish it had the right to make, without --force.
    let output = run(&mut download_of(&server, "new-ref", dir.path(), &[]));
    output.assert_code(0);
    assert_holds(dir.path(), "new-ref", NEW_KINDS);
    assert!(output.stderr.contains("interrupted"), "{}", output.stderr);
}

#[test]
fn two_runs_at_once_into_one_directory_do_not_mix() {
    // OLD's FACE takes a while.
    let server = identifications(SETS, |scan_ref, kind| {
        (scan_ref == "old-ref" && kind == "FACE").then(|| {
            let body = content_of("old-ref", "FACE");
            let mut head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            head.extend_from_slice(&body[..4]);
            Script {
                steps: vec![
                    Step::Write(head),
                    Step::Sleep(Duration::from_millis(1500)),
                    Step::Write(body[4..].to_vec()),
                ],
            }
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let mut first = RunningChild::spawn(&mut download_of(&server, "old-ref", dir.path(), &[]));
    let _ = wait_for_partial_face(dir.path(), &mut first);
    let second = run(&mut download_of(
        &server,
        "new-ref",
        dir.path(),
        &["--force"],
    ));
    second.assert_code(2);
    assert!(second.stderr.contains("running"), "{}", second.stderr);
    first.wait(Duration::from_secs(30)).assert_code(0);
    assert_holds(dir.path(), "old-ref", OLD_KINDS);
    assert_eq!(
        names_in(dir.path())
            .iter()
            .filter(|name| name.starts_with('.'))
            .collect::<Vec<_>>(),
        [MARKER]
    );
}

// ---- Caps on the whole set. ----

#[test]
fn an_answer_with_too_many_kinds_is_refused_before_anything_is_fetched() {
    static KINDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        (0..300)
            .map(|n| &*Box::leak(format!("EXTRA_{n:03}").into_boxed_str()))
            .collect()
    });
    let server = file_server(&KINDS, |_, _| a_file("image/png", &vec![0u8; 512 * 1024]));
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("files");
    let output = run(&mut download_from(&server, &dir, &[]));
    output.assert_code(3);
    assert!(
        output.stderr.contains("300 files")
            && output.stderr.contains("32")
            && output.stderr.contains("--max-files"),
        "{}",
        output.stderr
    );
    assert!(!dir.exists(), "the directory was created");
    assert!(
        server.requests().iter().all(|seen| seen.method == "POST"),
        "a file was fetched"
    );
    // A higher cap lets a larger set through.
    let output = run(download_from(&server, &dir, &[]).arg("--max-files=300"));
    output.assert_code(0);
    assert_eq!(downloads_in(&dir).len(), 300);
}

#[test]
fn the_total_size_cap_stops_the_set_while_streaming() {
    // FRONT announces its length, BACK never ends: each under --max-file-size, together over
    // --max-total-size.
    let server = file_server(&["FRONT", "BACK"], |kind, _| {
        if kind == "FRONT" {
            a_file("image/png", &vec![7u8; 1536 * 1024])
        } else {
            Script::endless_chunked(200, &[("content-type", "image/png")], &[0u8; 64 * 1024])
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let output = run_with_timeout(
        download_from(&server, dir.path(), &[]).arg("--max-total-size=2M"),
        Duration::from_secs(30),
    );
    output.assert_code(3);
    assert!(
        output.stderr.contains("2097152 bytes") && output.stderr.contains("--max-total-size"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("5ecre7f11e"), "{}", output.stderr);
    assert_eq!(names_in(dir.path()), Vec::<String>::new());

    // A file announced past what is left of the cap is refused before its body.
    let server = file_server(&["FRONT", "BACK"], |kind, _| {
        if kind == "FRONT" {
            a_file("image/png", &vec![7u8; 1536 * 1024])
        } else {
            Script::stalled_body(200, &[("content-type", "image/png")], 1 << 20)
        }
    });
    let output = run_with_timeout(
        download_from(&server, dir.path(), &["--timeout", "20"]).arg("--max-total-size=2M"),
        Duration::from_secs(15),
    );
    output.assert_code(3);
    assert!(
        output.stderr.contains("--max-total-size"),
        "{}",
        output.stderr
    );
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn the_help_shows_the_caps_defaults() {
    let output = run(idenfy().args(["files", "--help"]));
    output.assert_code(0);
    for default in [
        "--max-file-size <BYTES>",
        "[default: 1G]",
        "--max-files <N>",
        "[default: 32]",
        "--max-total-size <BYTES>",
        "[default: 4G]",
    ] {
        assert!(
            output.stdout.contains(default),
            "{default}: {}",
            output.stdout
        );
    }
}

#[test]
fn a_record_this_command_did_not_write_is_refused_without_force() {
    let server = file_server(&["FRONT"], |_, _| a_file("image/png", PNG));
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join(MARKER);
    std::fs::write(
        &record,
        b"{\"scanRef\": \"x\", \"files\": [\"../../etc/passwd\"]}",
    )
    .unwrap();
    let output = run(&mut download_from(&server, dir.path(), &[]));
    output.assert_code(2);
    assert!(
        output.stderr.contains("not a download record"),
        "{}",
        output.stderr
    );
    assert_eq!(names_in(dir.path()), [MARKER]);

    run(download_from(&server, dir.path(), &[]).arg("--force")).assert_code(0);
    assert_eq!(names_in(dir.path()), [MARKER, "FRONT.png"]);
    let (recorded, files, state) = marker_in(dir.path());
    assert_eq!(
        (recorded.as_str(), state.as_str()),
        ("hostile-ref", "complete")
    );
    assert_eq!(files, ["FRONT.png"]);
}
