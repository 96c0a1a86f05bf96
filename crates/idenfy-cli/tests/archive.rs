//! `idenfy archive create`, `archive verify` and `delete --archived` against the sandbox: bundles
//! whose manifests match their files, any change named, only verified final bundles deleted
//! with their manifest digests in the trail, and kill -9 at any point leaving no half bundle.

#![cfg(unix)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use idenfy_core::Endpoint;
use idenfy_sandbox::{Fixtures, Sandbox, scan_refs};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use support::{TestSandbox, file_mode, fixture_copy, idenfy, idenfy_at, run};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn create(sandbox: &TestSandbox, to: &Path, scan_refs: &[&str]) -> support::Output {
    run(idenfy_at(sandbox)
        .args(["archive", "create", "--to"])
        .arg(to)
        .args(scan_refs))
}

fn verify(dir: &Path) -> support::Output {
    run(idenfy().args(["archive", "verify"]).arg(dir))
}

/// Every file under `dir`, relative, sorted; hidden names included.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, found);
            } else {
                found.push(relative);
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

#[test]
fn two_bundles_hold_the_apis_answers_and_manifests_that_match_them() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("A");
    let output = create(
        &sandbox,
        &archive,
        &[scan_refs::APPROVED, scan_refs::DENIED_FACE],
    );
    output.assert_code(0);
    assert_eq!(file_mode(&archive), 0o700);
    for scan_ref in [scan_refs::APPROVED, scan_refs::DENIED_FACE] {
        let bundle = archive.join(scan_ref);
        assert_eq!(file_mode(&bundle), 0o700);
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["scanRef"], scan_ref);
        assert_eq!(
            manifest["baseUrl"].as_str().unwrap().trim_end_matches('/'),
            sandbox.base_url().trim_end_matches('/')
        );
        assert_eq!(manifest["tool"]["name"], "idenfy");
        assert!(manifest["takenAt"].as_str().unwrap().ends_with('Z'));
        let listed: Vec<String> = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                let path = entry["path"].as_str().unwrap();
                let bytes = std::fs::read(bundle.join(path)).unwrap();
                assert_eq!(entry["bytes"], bytes.len(), "{path}");
                assert_eq!(entry["sha256"], sha256(&bytes), "{path}");
                assert_eq!(file_mode(&bundle.join(path)), 0o600, "{path}");
                path.to_owned()
            })
            .collect();
        let mut on_disk = tree(&bundle);
        on_disk.retain(|path| path != "manifest.json");
        assert_eq!(listed, on_disk, "nothing unlisted, nothing missing");
        // The lookups as the API sent them (the file URLs are signed anew on each request).
        for (endpoint, name) in [
            (Endpoint::Status, "status.json"),
            (Endpoint::Data, "data.json"),
            (Endpoint::FullStatus, "full-status.json"),
        ] {
            assert_eq!(
                std::fs::read(bundle.join(name)).unwrap(),
                sandbox.post(endpoint, scan_ref).1,
                "{name}"
            );
        }
        let files: Value =
            serde_json::from_slice(&std::fs::read(bundle.join("files.json")).unwrap()).unwrap();
        let served = sandbox.json(Endpoint::Files, scan_ref);
        assert_eq!(
            support::without_signatures(&files),
            support::without_signatures(&served)
        );
        assert!(
            std::fs::read(bundle.join("report.pdf"))
                .unwrap()
                .starts_with(b"%PDF-")
        );
        assert!(
            listed.iter().any(|path| path.starts_with("files/FRONT.")),
            "{listed:?}"
        );
    }
    assert!(
        tree(&archive)
            .iter()
            .all(|path| !path.starts_with(".idenfy-staging")),
        "no staging left"
    );
    verify(&archive).assert_code(0);

    // A rerun keeps them as they are.
    let before = std::fs::read(archive.join(scan_refs::APPROVED).join("manifest.json")).unwrap();
    let again = create(
        &sandbox,
        &archive,
        &[scan_refs::APPROVED, scan_refs::DENIED_FACE],
    );
    again.assert_code(0);
    assert!(
        again
            .stdout
            .contains(&format!("{}\tcomplete", scan_refs::APPROVED)),
        "{}",
        again.stdout
    );
    assert_eq!(
        std::fs::read(archive.join(scan_refs::APPROVED).join("manifest.json")).unwrap(),
        before
    );
}

#[test]
fn a_scan_ref_that_cannot_name_a_directory_is_refused_before_anything_is_fetched() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let output = create(
        &sandbox,
        &dir.path().join("A"),
        &[scan_refs::APPROVED, ".hidden"],
    );
    output.assert_code(2);
    assert!(!dir.path().join("A").exists());
}

#[test]
fn any_change_to_a_bundle_fails_verify_and_names_it() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine");
    create(
        &sandbox,
        &pristine,
        &[scan_refs::APPROVED, scan_refs::DENIED_FACE],
    )
    .assert_code(0);
    let bundle = |archive: &Path| archive.join(scan_refs::APPROVED);
    type Change = fn(&Path);
    let changes: [(&str, Change, &str); 7] = [
        (
            "a byte of a file",
            |b| flip_a_byte(&b.join("files/FRONT.png")),
            "files/FRONT.png",
        ),
        (
            "a byte of a lookup",
            |b| flip_a_byte(&b.join("status.json")),
            "status.json",
        ),
        (
            "a byte of the manifest",
            |b| {
                let path = b.join("manifest.json");
                let text = std::fs::read_to_string(&path).unwrap().replacen(
                    "\"bytes\": ",
                    "\"bytes\": 1",
                    1,
                );
                std::fs::write(&path, text).unwrap();
            },
            "data.json",
        ),
        (
            "an added file",
            |b| std::fs::write(b.join("files/EXTRA.png"), b"x").unwrap(),
            "files/EXTRA.png",
        ),
        (
            "a removed file",
            |b| std::fs::remove_file(b.join("report.pdf")).unwrap(),
            "report.pdf",
        ),
        (
            "a manifest key",
            |b| {
                let path = b.join("manifest.json");
                let text =
                    std::fs::read_to_string(&path)
                        .unwrap()
                        .replacen('{', "{\"note\": 1,", 1);
                std::fs::write(&path, text).unwrap();
            },
            "manifest.json",
        ),
        (
            "a removed manifest",
            |b| std::fs::remove_file(b.join("manifest.json")).unwrap(),
            "manifest.json",
        ),
    ];
    for (index, (what, change, named)) in changes.into_iter().enumerate() {
        let archive = dir.path().join(format!("changed-{index}"));
        copy_tree(&pristine, &archive);
        verify(&archive).assert_code(0);
        change(&bundle(&archive));
        let output = verify(&archive);
        output.assert_code(9);
        let failed: Vec<&str> = output
            .stdout
            .lines()
            .filter(|line| line.contains("\tFAILED\t"))
            .collect();
        assert!(
            failed
                .iter()
                .all(|line| line.starts_with(scan_refs::APPROVED))
                && failed.iter().any(|line| line.contains(named)),
            "{what}: {}",
            output.stdout
        );
        assert!(
            output
                .stdout
                .contains(&format!("{}\tverified", scan_refs::DENIED_FACE)),
            "{what}"
        );
        // A bundle given alone is checked alone, as a bundle: even without its manifest, it
        // is not taken for a directory of bundles, each file failing as one.
        let alone = verify(&bundle(&archive));
        alone.assert_code(9);
        assert!(
            alone
                .stdout
                .lines()
                .filter(|line| line.contains("\tFAILED\t"))
                .all(|line| line.starts_with(scan_refs::APPROVED) && line.contains(named)),
            "{what}, alone: {}",
            alone.stdout
        );
    }
}

fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(path, bytes).unwrap();
}

fn copy_tree(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

fn audit_lines(path: &Path) -> Vec<Value> {
    support::json_lines(&std::fs::read_to_string(path).unwrap())
}

#[test]
fn delete_archived_deletes_the_verified_final_ones_only_and_the_trail_names_each_manifest() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("A");
    let all = [
        scan_refs::APPROVED,
        scan_refs::DENIED_FACE,
        scan_refs::REVIEWING,
        scan_refs::SUSPECTED,
    ];
    create(&sandbox, &archive, &all).assert_code(0);
    // One changed after it was archived: it is not deleted.
    flip_a_byte(&archive.join(scan_refs::SUSPECTED).join("data.json"));
    let audit = dir.path().join("trail.jsonl");
    let output = run(idenfy_at(&sandbox)
        .args(["delete", "--archived"])
        .arg(&archive)
        .args(["--yes", "--concurrency", "2", "--audit"])
        .arg(&audit));
    output.assert_code(9);
    assert!(
        output.stderr.contains(&format!(
            "{}: skipped: its archived status is REVIEWING",
            scan_refs::REVIEWING
        )),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains(&format!(
            "{}: skipped: its bundle does not verify",
            scan_refs::SUSPECTED
        )),
        "{}",
        output.stderr
    );
    for kept in [scan_refs::REVIEWING, scan_refs::SUSPECTED] {
        assert_ne!(
            sandbox.json(Endpoint::Status, kept)["status"],
            "DELETED",
            "{kept}"
        );
    }
    let records = audit_lines(&audit);
    assert_eq!(
        records.len(),
        4,
        "an attempt and an outcome for each of two"
    );
    for scan_ref in [scan_refs::APPROVED, scan_refs::DENIED_FACE] {
        assert_eq!(
            sandbox.post(Endpoint::Data, scan_ref).0,
            404,
            "{scan_ref} is deleted"
        );
        let manifest = std::fs::read(archive.join(scan_ref).join("manifest.json")).unwrap();
        let of_it: Vec<&Value> = records
            .iter()
            .filter(|r| r["scanRef"] == scan_ref)
            .collect();
        assert_eq!(of_it.len(), 2);
        assert_eq!(of_it[0]["outcome"], "attempt");
        assert_eq!(of_it[1]["outcome"], "deleted");
        assert_eq!(of_it[1]["statusAfter"], "DELETED");
        for record in of_it {
            assert_eq!(record["manifestSha256"], sha256(&manifest), "{record}");
        }
    }
    // The rerun sends nothing again.
    let again = run(idenfy_at(&sandbox)
        .args(["delete", "--archived"])
        .arg(&archive)
        .args(["--yes", "--audit"])
        .arg(&audit));
    again.assert_code(9);
    assert_eq!(audit_lines(&audit).len(), 4);
    // A dry run lists and sends nothing.
    let dry = run(idenfy_at(&sandbox)
        .args(["delete", "--archived"])
        .arg(&archive)
        .args(["--dry-run", "--audit"])
        .arg(dir.path().join("other.jsonl")));
    assert!(
        dry.stdout
            .contains(&format!("{}\twould be deleted", scan_refs::APPROVED)),
        "{}",
        dry.stdout
    );
}

#[test]
fn delete_archived_refuses_an_archive_others_can_write() {
    use std::os::unix::fs::PermissionsExt as _;
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("A");
    create(&sandbox, &archive, &[scan_refs::APPROVED]).assert_code(0);
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = run(idenfy_at(&sandbox)
        .args(["delete", "--archived"])
        .arg(&archive)
        .args(["--yes", "--audit"])
        .arg(dir.path().join("t.jsonl")));
    output.assert_code(2);
    assert!(
        output.stderr.contains("written by others"),
        "{}",
        output.stderr
    );
    assert_ne!(
        sandbox.json(Endpoint::Status, scan_refs::APPROVED)["status"],
        "DELETED"
    );
}

/// A sandbox whose identifications answer every API request after `delay` ms.
fn slow_sandbox(count: usize, delay: u64) -> (TestSandbox, Vec<String>) {
    let names: Vec<String> = (0..count).map(|i| format!("slow-{i:04}")).collect();
    let fixtures: Vec<Value> = names
        .iter()
        .map(|name| {
            let mut fixture = fixture_copy(scan_refs::APPROVED, name);
            fixture["fault"] = json!(format!("delay-ms={delay}"));
            fixture
        })
        .collect();
    let fixtures = Fixtures::from_json_str(&json!({ "fixtures": fixtures }).to_string()).unwrap();
    (
        TestSandbox::start_with(Sandbox::builder().fixtures(fixtures)),
        names,
    )
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what} never happened"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn archive_create_killed_midway_publishes_no_half_bundle_and_the_rerun_completes() {
    let (sandbox, names) = slow_sandbox(12, 40);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("A");
    let input = dir.path().join("refs.txt");
    support::write_input(&input, &names);
    let command = || {
        let mut command = idenfy_at(&sandbox);
        command
            .args(["archive", "create", "--concurrency", "3", "--input"])
            .arg(&input)
            .arg("--to")
            .arg(&archive);
        command
    };
    let child = support::RunningChild::spawn(&mut command());
    // Killed once some bundles are being built, and before all are.
    wait_for("a staging directory", || {
        std::fs::read_dir(&archive).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".idenfy-staging.")
            })
        })
    });
    support::kill(child.id());
    child.wait(support::CHILD_TIMEOUT);
    for entry in std::fs::read_dir(&archive).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            verify(&entry.path()).assert_code(0);
        }
    }
    let rerun = run(&mut command());
    rerun.assert_code(0);
    assert!(
        rerun.stderr.contains("left by an interrupted archive run"),
        "{}",
        rerun.stderr
    );
    let published: Vec<String> = std::fs::read_dir(&archive)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        published
            .iter()
            .all(|name| !name.starts_with(".idenfy-staging")),
        "{published:?}"
    );
    let output = verify(&archive);
    output.assert_code(0);
    assert_eq!(output.stdout.lines().count(), names.len());
}

#[test]
fn delete_archived_killed_midway_is_settled_by_the_rerun() {
    let (sandbox, names) = slow_sandbox(6, 300);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("A");
    let input = dir.path().join("refs.txt");
    support::write_input(&input, &names);
    run(idenfy_at(&sandbox)
        .args(["archive", "create", "--concurrency", "6", "--input"])
        .arg(&input)
        .arg("--to")
        .arg(&archive))
    .assert_code(0);
    let audit = dir.path().join("trail.jsonl");
    let delete = || {
        let mut command = idenfy_at(&sandbox);
        command
            .args(["delete", "--archived"])
            .arg(&archive)
            .args(["--yes", "--concurrency", "2", "--audit"])
            .arg(&audit);
        command
    };
    let child = support::RunningChild::spawn(&mut delete());
    // Killed while deletions are under way: attempts on disk, outcomes not.
    wait_for("an attempt record", || {
        std::fs::read_to_string(&audit).is_ok_and(|text| text.contains("\"attempt\""))
    });
    std::thread::sleep(Duration::from_millis(100));
    support::kill(child.id());
    child.wait(support::CHILD_TIMEOUT);
    let rerun = run(&mut delete());
    rerun.assert_code(0);
    let records = audit_lines(&audit);
    for name in &names {
        let last = records
            .iter()
            .rev()
            .find(|r| r["scanRef"] == name.as_str() && r["outcome"] != "attempt")
            .unwrap_or_else(|| panic!("{name} has no outcome"));
        assert!(
            matches!(last["outcome"].as_str(), Some("deleted" | "already-gone")),
            "{last}"
        );
        assert!(last["manifestSha256"].is_string(), "{last}");
        assert_eq!(sandbox.post(Endpoint::Data, name).0, 404, "{name}");
    }
}

// ---- Stored callbacks: `archive create --callbacks`, `archive verify --signing-key`. ----

/// The webhook's signing key the stored callbacks are signed with, and one that is not it.
const SIGNING_KEY: &str = "whsec-archive-7c1e";
const OTHER_KEY: &str = "whsec-someone-else";

fn signature(key: &str, body: &[u8]) -> String {
    idenfy_core::callback::sign(&idenfy_core::callback::SigningKey::new(key).unwrap(), body)
}

/// Writes a callback as a receiver would: `DIR/SCANREF/NAME.json` and its headers.
fn store_callback(dir: &Path, scan_ref: &str, name: &str, body: &[u8], event_type: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let sub = dir.join(scan_ref);
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(sub.join(format!("{name}.json")), body).unwrap();
    let headers = json!({
        "Idenfy-Signature": signature(SIGNING_KEY, body),
        "idenfy-event-type": event_type,
        "Content-Type": "application/json",
    });
    std::fs::write(
        sub.join(format!("{name}.headers.json")),
        serde_json::to_vec(&headers).unwrap(),
    )
    .unwrap();
}

/// The sandbox's callback of `scan_ref` with `final` set, as the vendor's auto or manual one.
fn callback_with_final(sandbox: &TestSandbox, scan_ref: &str, last: bool) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&sandbox.callback_body(scan_ref)).unwrap();
    body["final"] = json!(last);
    serde_json::to_vec(&body).unwrap()
}

/// A callbacks directory of the user's own, private.
fn callbacks_dir(parent: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = parent.join("callbacks");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn create_with_callbacks(
    sandbox: &TestSandbox,
    to: &Path,
    callbacks: &Path,
    scan_refs: &[&str],
) -> support::Output {
    run(idenfy_at(sandbox)
        .args(["archive", "create", "--to"])
        .arg(to)
        .arg("--callbacks")
        .arg(callbacks)
        .args(scan_refs))
}

fn verify_with(dir: &Path, keys: &[&str]) -> support::Output {
    let mut command = idenfy();
    command.args(["archive", "verify"]).arg(dir);
    for key in keys {
        command.args(["--signing-key", key]);
    }
    run(&mut command)
}

fn line_of<'a>(output: &'a support::Output, scan_ref: &str) -> Vec<&'a str> {
    output
        .stdout
        .lines()
        .filter(|line| line.starts_with(&format!("{scan_ref}\t")))
        .collect()
}

#[test]
fn stored_callbacks_are_kept_byte_for_byte_and_verify_only_under_the_signing_key() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let callbacks = callbacks_dir(dir.path());
    let auto = callback_with_final(&sandbox, scan_refs::APPROVED, false);
    let manual = callback_with_final(&sandbox, scan_refs::APPROVED, true);
    store_callback(
        &callbacks,
        scan_refs::APPROVED,
        "001",
        &auto,
        "IDENTIFICATION_AUTO_FINISHED",
    );
    store_callback(
        &callbacks,
        scan_refs::APPROVED,
        "002",
        &manual,
        "IDENTIFICATION_MANUAL_FINISHED",
    );
    // A receiver's temporary is skipped.
    std::fs::write(
        callbacks.join(scan_refs::APPROVED).join(".003.json.tmp"),
        b"{",
    )
    .unwrap();
    let archive = dir.path().join("A");
    let output = create_with_callbacks(
        &sandbox,
        &archive,
        &callbacks,
        &[scan_refs::APPROVED, scan_refs::DENIED_FACE],
    );
    output.assert_code(0);
    assert!(
        output.stdout.contains(", 2 callbacks") && output.stdout.contains(", 0 callbacks"),
        "{}",
        output.stdout
    );

    let bundle = archive.join(scan_refs::APPROVED);
    assert_eq!(
        std::fs::read(bundle.join("callbacks/001.json")).unwrap(),
        auto
    );
    assert_eq!(
        std::fs::read(bundle.join("callbacks/002.json")).unwrap(),
        manual
    );
    assert_eq!(file_mode(&bundle.join("callbacks")), 0o700);
    assert_eq!(file_mode(&bundle.join("callbacks/001.json")), 0o600);
    let headers: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("callbacks/001.headers.json")).unwrap())
            .unwrap();
    assert_eq!(
        headers,
        json!({
            "Idenfy-Signature": signature(SIGNING_KEY, &auto),
            "Idenfy-Event-Type": "IDENTIFICATION_AUTO_FINISHED",
        }),
        "the two headers, and no other"
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "idenfy-archive-bundle/2");
    assert_eq!(manifest["callbacks"], 2);
    for path in [
        "callbacks/001.json",
        "callbacks/001.headers.json",
        "callbacks/002.json",
        "callbacks/002.headers.json",
    ] {
        let entry = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["path"] == path)
            .unwrap_or_else(|| panic!("{path} is not listed"));
        assert_eq!(
            entry["sha256"],
            sha256(&std::fs::read(bundle.join(path)).unwrap())
        );
    }
    // No callback stored for it: the bundle says none, and has no callbacks directory.
    let none = archive.join(scan_refs::DENIED_FACE);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(none.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["callbacks"], 0);
    assert!(!none.join("callbacks").exists());

    // Without a key: the digests are checked, the signatures not, and it says so.
    let unchecked = verify(&archive);
    unchecked.assert_code(0);
    assert!(
        line_of(&unchecked, scan_refs::APPROVED)[0]
            .ends_with("\t2 callbacks, signatures not checked"),
        "{}",
        unchecked.stdout
    );
    assert!(
        line_of(&unchecked, scan_refs::DENIED_FACE)[0].ends_with("\tno callback stored"),
        "{}",
        unchecked.stdout
    );
    assert!(
        unchecked
            .stderr
            .contains("the signatures of 2 stored callbacks were not checked"),
        "{}",
        unchecked.stderr
    );

    // The right key; during a rotation, either.
    let signed = verify_with(&archive, &[SIGNING_KEY]);
    signed.assert_code(0);
    assert!(
        line_of(&signed, scan_refs::APPROVED)[0].ends_with("\t2 callbacks, signatures valid"),
        "{}",
        signed.stdout
    );
    let rotated = verify_with(&archive, &[OTHER_KEY, SIGNING_KEY]);
    rotated.assert_code(0);
    assert!(
        rotated
            .stdout
            .contains("signatures valid (signing key 2 of 2)"),
        "{}",
        rotated.stdout
    );
    // The variable the callback commands read, too.
    run(idenfy()
        .env("IDENFY_CALLBACK_SIGNING_KEY", SIGNING_KEY)
        .args(["archive", "verify"])
        .arg(&archive))
    .assert_code(0)
    .stdout
    .contains("signatures valid")
    .then_some(())
    .expect("the variable's key checks the signatures");

    // The profile's `signing_key`, as for `callback verify`.
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[profiles.p]\napi_key = \"k\"\nsigning_key = \"{SIGNING_KEY}\"\n"),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let by_profile = run(idenfy()
        .env("IDENFY_CONFIG", &config)
        .args(["--profile", "p", "archive", "verify"])
        .arg(&archive));
    by_profile.assert_code(0);
    assert!(
        by_profile.stdout.contains("2 callbacks, signatures valid"),
        "{}",
        by_profile.stdout
    );
    // The API secret is never tried in a signing key's place.
    let secret_only = run(idenfy()
        .env("IDENFY_API_SECRET", SIGNING_KEY)
        .args(["archive", "verify"])
        .arg(&archive));
    secret_only.assert_code(0);
    assert!(
        secret_only.stdout.contains("signatures not checked"),
        "{}",
        secret_only.stdout
    );

    // A wrong key: each callback named, with its bundle; never a key.
    let wrong = verify_with(&archive, &[OTHER_KEY]);
    wrong.assert_code(9);
    let failed = line_of(&wrong, scan_refs::APPROVED);
    for path in ["callbacks/001.json", "callbacks/002.json"] {
        assert!(
            failed.iter().any(|line| line.contains("\tFAILED\t")
                && line.contains(path)
                && line.contains("does not match")),
            "{path}: {}",
            wrong.stdout
        );
    }
    assert!(
        line_of(&wrong, scan_refs::DENIED_FACE)[0].contains("\tverified\t"),
        "{}",
        wrong.stdout
    );
    for text in [&wrong.stdout, &wrong.stderr, &signed.stdout, &signed.stderr] {
        assert!(
            !text.contains(SIGNING_KEY) && !text.contains(OTHER_KEY),
            "{text}"
        );
    }

    // `delete --archived` deletes on the digests, as before: signatures are verify's.
    let audit = dir.path().join("trail.jsonl");
    run(idenfy_at(&sandbox)
        .args(["delete", "--archived"])
        .arg(&archive)
        .args(["--yes", "--audit"])
        .arg(&audit))
    .assert_code(0);
    assert_eq!(
        sandbox.json(Endpoint::Status, scan_refs::APPROVED)["status"],
        "DELETED"
    );
}

#[test]
fn a_stored_callback_changed_by_one_byte_fails_on_its_digest_even_when_signed_again() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let callbacks = callbacks_dir(dir.path());
    let body = callback_with_final(&sandbox, scan_refs::APPROVED, true);
    store_callback(
        &callbacks,
        scan_refs::APPROVED,
        "manual",
        &body,
        "IDENTIFICATION_MANUAL_FINISHED",
    );
    let pristine = dir.path().join("pristine");
    create_with_callbacks(&sandbox, &pristine, &callbacks, &[scan_refs::APPROVED]).assert_code(0);
    verify_with(&pristine, &[SIGNING_KEY]).assert_code(0);

    // One byte of the body.
    let flipped = dir.path().join("flipped");
    copy_tree(&pristine, &flipped);
    flip_a_byte(
        &flipped
            .join(scan_refs::APPROVED)
            .join("callbacks/manual.json"),
    );
    for keys in [&[][..], &[SIGNING_KEY][..]] {
        let output = verify_with(&flipped, keys);
        output.assert_code(9);
        assert!(
            output
                .stdout
                .contains("callbacks/manual.json: its SHA-256 differs from the manifest's"),
            "{keys:?}: {}",
            output.stdout
        );
    }

    // Changed and signed again with the right key, headers and all: the digests still hold
    // the words archived.
    let resigned = dir.path().join("resigned");
    copy_tree(&pristine, &resigned);
    let stored = resigned.join(scan_refs::APPROVED).join("callbacks");
    let text = String::from_utf8(body.clone()).unwrap();
    let changed = text.replacen("APPROVED", "APPROVEE", 1);
    assert_ne!(changed, text);
    std::fs::write(stored.join("manual.json"), &changed).unwrap();
    std::fs::write(
        stored.join("manual.headers.json"),
        serde_json::to_vec(&json!({
            "Idenfy-Signature": signature(SIGNING_KEY, changed.as_bytes()),
            "Idenfy-Event-Type": "IDENTIFICATION_MANUAL_FINISHED",
        }))
        .unwrap(),
    )
    .unwrap();
    let output = verify_with(&resigned, &[SIGNING_KEY]);
    output.assert_code(9);
    for path in ["callbacks/manual.json", "callbacks/manual.headers.json"] {
        assert!(
            output
                .stdout
                .lines()
                .any(|line| line.starts_with(&format!("{}\tFAILED\t{path}:", scan_refs::APPROVED))),
            "{path}: {}",
            output.stdout
        );
    }

    // A callback of another identification, filed under this one, is signed but refused.
    let misfiled = dir.path().join("misfiled-callbacks");
    std::fs::create_dir(&misfiled).unwrap();
    let other = sandbox.callback_body(scan_refs::DENIED_FACE);
    store_callback(
        &misfiled,
        scan_refs::APPROVED,
        "001",
        &other,
        "IDENTIFICATION_AUTO_FINISHED",
    );
    let archive = dir.path().join("misfiled");
    create_with_callbacks(&sandbox, &archive, &misfiled, &[scan_refs::APPROVED]).assert_code(0);
    let output = verify_with(&archive, &[SIGNING_KEY]);
    output.assert_code(9);
    assert!(
        output
            .stdout
            .contains("callbacks/001.json: signed, but its scanRef is not"),
        "{}",
        output.stdout
    );
}

#[test]
fn a_stored_callback_that_is_too_large_a_link_or_writable_by_others_is_refused_by_name() {
    use std::os::unix::fs::PermissionsExt as _;
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let body = sandbox.callback_body(scan_refs::APPROVED);
    let secret_looking = b"PERSONAL-DATA-4711";
    type Spoil = fn(&Path, &[u8]);
    let cases: [(&str, Spoil, &str, &str); 9] = [
        (
            "over 1 MiB",
            |sub, secret| {
                let mut big = secret.to_vec();
                big.resize(1024 * 1024 + 1, b' ');
                std::fs::write(sub.join("001.json"), big).unwrap();
            },
            "001.json",
            "larger than 1048576 bytes",
        ),
        (
            "a link",
            |sub, secret| {
                let outside = sub.parent().unwrap().parent().unwrap().join("outside.json");
                std::fs::write(&outside, secret).unwrap();
                std::fs::remove_file(sub.join("001.json")).unwrap();
                std::os::unix::fs::symlink(&outside, sub.join("001.json")).unwrap();
            },
            "001.json",
            "a symbolic link",
        ),
        (
            "group-writable",
            |sub, _| {
                std::fs::set_permissions(
                    sub.join("001.headers.json"),
                    std::fs::Permissions::from_mode(0o620),
                )
                .unwrap();
            },
            "001.headers.json",
            "can be written by others",
        ),
        (
            "a stray file",
            |sub, secret| std::fs::write(sub.join("notes.txt"), secret).unwrap(),
            "notes.txt",
            "not a callback file",
        ),
        (
            "a body without headers",
            |sub, _| std::fs::remove_file(sub.join("001.headers.json")).unwrap(),
            "001.json",
            "without its headers",
        ),
        (
            "a scanRef's directory others can write",
            |sub, _| {
                std::fs::set_permissions(sub, std::fs::Permissions::from_mode(0o770)).unwrap();
            },
            "sandbox-approved",
            "the callbacks directory can be written by others",
        ),
        (
            "not a regular file",
            |sub, _| {
                std::fs::remove_file(sub.join("001.json")).unwrap();
                let made = std::process::Command::new("mkfifo")
                    .arg(sub.join("001.json"))
                    .status()
                    .unwrap();
                assert!(made.success());
            },
            "001.json",
            "not a regular file",
        ),
        (
            "headers without a body",
            |sub, _| {
                std::fs::copy(sub.join("001.headers.json"), sub.join("002.headers.json"))
                    .map(drop)
                    .unwrap()
            },
            "002.headers.json",
            "headers without their body",
        ),
        (
            "more than 16",
            |sub, _| {
                for n in 2..=17 {
                    for suffix in [".json", ".headers.json"] {
                        std::fs::copy(
                            sub.join(format!("001{suffix}")),
                            sub.join(format!("{n:03}{suffix}")),
                        )
                        .unwrap();
                    }
                }
            },
            "sandbox-approved",
            "more than 16 callbacks",
        ),
    ];
    for (index, (what, spoil, named, says)) in cases.into_iter().enumerate() {
        let case = dir.path().join(format!("case-{index}"));
        std::fs::create_dir(&case).unwrap();
        let callbacks = callbacks_dir(&case);
        store_callback(
            &callbacks,
            scan_refs::APPROVED,
            "001",
            &body,
            "IDENTIFICATION_AUTO_FINISHED",
        );
        spoil(&callbacks.join(scan_refs::APPROVED), secret_looking);
        let archive = case.join("A");
        let output = create_with_callbacks(
            &sandbox,
            &archive,
            &callbacks,
            &[scan_refs::APPROVED, scan_refs::DENIED_FACE],
        );
        output.assert_code(2);
        assert!(
            output.stderr.contains(named) && output.stderr.contains(says),
            "{what}: {}",
            output.stderr
        );
        assert!(
            !output.stderr.contains("PERSONAL-DATA"),
            "{what}: the content is never shown: {}",
            output.stderr
        );
        assert!(
            !archive.join(scan_refs::APPROVED).exists(),
            "{what}: no bundle without its callbacks"
        );
        // The others are archived.
        verify(&archive.join(scan_refs::DENIED_FACE)).assert_code(0);
    }

    // The callbacks directory itself must be trusted.
    let callbacks = dir.path().join("open");
    std::fs::create_dir(&callbacks).unwrap();
    std::fs::set_permissions(&callbacks, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = create_with_callbacks(
        &sandbox,
        &dir.path().join("B"),
        &callbacks,
        &[scan_refs::APPROVED],
    );
    output.assert_code(2);
    assert!(
        output
            .stderr
            .contains("the callbacks directory can be written by others"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_bundle_made_without_callbacks_keeps_the_first_format() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("A");
    create(&sandbox, &archive, &[scan_refs::APPROVED]).assert_code(0);
    let text =
        std::fs::read_to_string(archive.join(scan_refs::APPROVED).join("manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["format"], "idenfy-archive-bundle/1");
    assert!(manifest.get("callbacks").is_none(), "{text}");
    // Verified as before, with a key or without: it holds no callback to check.
    for keys in [&[][..], &[SIGNING_KEY][..]] {
        let output = verify_with(&archive, keys);
        output.assert_code(0);
        assert!(
            output.stdout.trim_end().ends_with(&sha256(text.as_bytes())),
            "{}",
            output.stdout
        );
    }
    // A complete bundle is kept as it is by a rerun with --callbacks; --force takes them in.
    let callbacks = callbacks_dir(dir.path());
    let body = sandbox.callback_body(scan_refs::APPROVED);
    store_callback(
        &callbacks,
        scan_refs::APPROVED,
        "001",
        &body,
        "IDENTIFICATION_AUTO_FINISHED",
    );
    let kept = create_with_callbacks(&sandbox, &archive, &callbacks, &[scan_refs::APPROVED]);
    kept.assert_code(0);
    assert!(kept.stdout.contains("\tcomplete\t"), "{}", kept.stdout);
    assert_eq!(
        std::fs::read_to_string(archive.join(scan_refs::APPROVED).join("manifest.json")).unwrap(),
        text
    );
    let copy = dir.path().join("forced");
    copy_tree(&archive, &copy);
    let forced = run(idenfy_at(&sandbox)
        .args(["archive", "create", "--force", "--to"])
        .arg(&copy)
        .arg("--callbacks")
        .arg(&callbacks)
        .arg(scan_refs::APPROVED));
    forced.assert_code(0);
    assert!(forced.stdout.contains(", 1 callbacks"), "{}", forced.stdout);
    verify_with(&copy, &[SIGNING_KEY]).assert_code(0);

    // A bundle of the first format that holds callbacks is not one this command wrote.
    let bundle = archive.join(scan_refs::APPROVED);
    let callbacks = bundle.join("callbacks");
    std::fs::create_dir(&callbacks).unwrap();
    let body = b"{}";
    std::fs::write(callbacks.join("x.json"), body).unwrap();
    let headers =
        serde_json::to_vec(&json!({"Idenfy-Signature": signature(SIGNING_KEY, body)})).unwrap();
    std::fs::write(callbacks.join("x.headers.json"), &headers).unwrap();
    let mut manifest = manifest;
    for (path, bytes) in [
        ("callbacks/x.json", &body[..]),
        ("callbacks/x.headers.json", &headers),
    ] {
        manifest["files"].as_array_mut().unwrap().push(json!({
            "path": path, "bytes": bytes.len(), "sha256": sha256(bytes),
        }));
    }
    std::fs::write(
        bundle.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let output = verify(&archive);
    output.assert_code(9);
    assert!(
        output
            .stdout
            .contains("holds callbacks, which only a bundle of idenfy-archive-bundle/2 does"),
        "{}",
        output.stdout
    );
}
