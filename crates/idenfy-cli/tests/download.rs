//! `idenfy files SCAN_REF --download DIR`: the files as served, named by kind, never
//! overwritten without `--force`, and nothing left behind by a cut transfer.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use idenfy_core::Endpoint;
use idenfy_sandbox::scan_refs;
use serde_json::json;
use support::{TestSandbox, fixture_copy, idenfy_at, run, write_fixture_file};

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
    assert!(
        output.stderr.contains("no response within"),
        "{}",
        output.stderr
    );
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
