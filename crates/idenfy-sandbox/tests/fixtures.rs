//! Loading user fixtures: what is accepted, what is refused and how the
//! refusal reads; and the binary's handling of both.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use idenfy_sandbox::{
    BUILTIN_FIXTURES_JSON, Endpoint, FixtureError, Fixtures, Sandbox, SandboxError, scan_refs,
};
use serde_json::{Value, json};

/// The built-in APPROVED fixture, as a starting point to break.
fn approved() -> Value {
    let file: Value = serde_json::from_str(BUILTIN_FIXTURES_JSON).unwrap();
    let mut fixture = file["fixtures"][0].clone();
    assert_eq!(fixture["scanRef"], "sandbox-approved");
    fixture["scanRef"] = json!("mine");
    fixture["status"]["scanRef"] = json!("mine");
    fixture["data"]["scanRef"] = json!("mine");
    fixture
}

fn load(fixture: Value) -> Result<Fixtures, FixtureError> {
    Fixtures::from_json_str(&json!({ "fixtures": [fixture] }).to_string())
}

/// Asserts a refusal that names the fixture and the field.
fn assert_refused(fixture: Value, field: &str) -> String {
    let error = load(fixture).expect_err("fixture must be refused");
    let message = error.to_string();
    match &error {
        FixtureError::Invalid {
            fixture: name,
            field: f,
            ..
        } => {
            assert_eq!(f, field, "{message}");
            assert!(name == "mine" || name.starts_with('#'), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(message.contains(field), "{message}");
    message
}

/// The edges of holding answers to their models: a key given as null is still a key, one the
/// models write only when set may be null, and text that starts like the check's internal
/// marker (a NUL) is only text.
#[test]
fn null_keys_and_marker_like_text_are_read_as_written() {
    let mut fixture = approved();
    fixture["status"]["note"] = Value::Null;
    let message = assert_refused(fixture, "status/note");
    assert!(message.contains("unknown key"), "{message}");
    let mut fixture = approved();
    fixture["data"]["mothersMaidenName"] = Value::Null;
    load(fixture).expect("mothersMaidenName is written only when set");
    let mut fixture = approved();
    fixture["status"]["clientId"] = json!("\u{0}x");
    load(fixture).expect("a string is never taken for a marker");
}

#[test]
fn a_copy_of_a_builtin_fixture_is_accepted() {
    let fixtures = load(approved()).unwrap();
    assert!(fixtures.contains("mine"));
}

#[test]
fn departures_from_the_models_name_the_fixture_and_the_field() {
    let mut bad_sex = approved();
    bad_sex["fullStatus"]["client"]["sex"] = json!("Male-ish");
    let message = assert_refused(bad_sex, "fullStatus/client/sex");
    assert!(message.contains("fixture mine"), "{message}");
    assert!(
        !message.contains("Male-ish"),
        "values are not echoed: {message}"
    );

    let mut bad_status = approved();
    bad_status["status"]["status"] = json!("MAYBE");
    assert_refused(bad_status, "status/status");

    let mut bad_date = approved();
    bad_date["data"]["docDob"] = json!("15/03/1990");
    let message = assert_refused(bad_date, "data/docDob");
    assert!(!message.contains("1990"), "{message}");

    let mut missing = approved();
    missing["fullStatus"]
        .as_object_mut()
        .unwrap()
        .remove("attempt_count");
    assert_refused(missing, "fullStatus/attempt_count");

    let mut undocumented = approved();
    undocumented["fullStatus"]["client"]["nickname"] = json!("Secret Nick");
    let message = assert_refused(undocumented, "fullStatus/client/nickname");
    assert!(!message.contains("Secret Nick"), "{message}");

    let mut bad_reason = approved();
    bad_reason["fullStatus"]["suspection_reasons"] = json!(["FACE_SUSPECTED", "VIBES"]);
    assert_refused(bad_reason, "fullStatus/suspection_reasons/1");
}

#[test]
fn structural_mistakes_are_refused_with_the_field() {
    let mut unknown_key = approved();
    unknown_key["fulStatus"] = json!({});
    assert_refused(unknown_key, "fulStatus");

    let mut bad_file = approved();
    bad_file["files"] = json!(["FRONT", "SELFIE"]);
    assert_refused(bad_file, "files/1");

    let mut twice = approved();
    twice["files"] = json!(["FACE", "FACE"]);
    assert_refused(twice, "files/1");

    let mut mismatched = approved();
    mismatched["data"]["scanRef"] = json!("someone-else");
    assert_refused(mismatched, "data/scanRef");

    let mut fault = approved();
    fault["fault"] = json!("status=418");
    assert_refused(fault, "fault");

    let mut video = approved();
    video["videoBytes"] = json!(-5);
    assert_refused(video, "videoBytes");

    let mut both = approved();
    both["raw"] = json!({"status": {"json": {}}});
    assert_refused(both, "raw/status");

    let mut long_ref = approved();
    long_ref["scanRef"] = json!("z".repeat(41));
    assert_refused(long_ref, "scanRef");

    let error = Fixtures::from_json_str("{\"fixtures\": [ {").unwrap_err();
    assert!(
        matches!(error, FixtureError::NotJson { line: 1, .. }),
        "{error}"
    );
    let error = Fixtures::from_json_str("[]").unwrap_err();
    assert!(error.to_string().contains("fixtures"), "{error}");
}

#[test]
fn raw_fixtures_accept_anything_but_need_exactly_one_body() {
    let fixtures = load(json!({
        "scanRef": "mine",
        "raw": {
            "status": {"json": {"status": "SOMETHING_NEW", "whatever": [1, 2]}},
            "data": {"status": 422, "text": "not json at all", "contentType": "text/plain"},
            "files": {"base64": "AAEC"}
        }
    }));
    assert!(fixtures.is_ok(), "{fixtures:?}");
    let mut two_bodies = json!({"scanRef": "mine", "raw": {"status": {"json": 1, "text": "x"}}});
    assert_refused(two_bodies.take(), "raw/status");
    assert_refused(
        json!({"scanRef": "mine", "raw": {"status": {"status": 99, "json": 1}}}),
        "raw/status/status",
    );
    assert_refused(
        json!({"scanRef": "mine", "raw": {"token": {"json": 1}}}),
        "raw/token",
    );
    // A callback is a request the sandbox sends: it has no status to answer with.
    assert_refused(
        json!({"scanRef": "mine", "raw": {"callback": {"status": 500, "json": 1}}}),
        "raw/callback/status",
    );
}

#[tokio::test]
async fn raw_responses_are_served_byte_for_byte() {
    let fixtures = load(json!({
        "scanRef": "mine",
        "raw": {
            "status": {"json": {"status": "SOMETHING_NEW"}},
            "data": {"status": 422, "text": "not json at all", "contentType": "text/plain"},
            "files": {"base64": "AAEC"}
        }
    }))
    .unwrap();
    let sandbox = Sandbox::builder().fixtures(fixtures).start().await.unwrap();
    let addr = sandbox.local_addr();
    let status = post_scan_ref(addr, "/api/v2/status", "mine").await;
    assert_eq!(status.json()["status"], "SOMETHING_NEW");
    let data = post_scan_ref(addr, "/api/v2/data", "mine").await;
    assert_eq!(
        (data.status, data.body.as_slice()),
        (422, b"not json at all".as_slice())
    );
    assert_eq!(data.header("content-type"), Some("text/plain"));
    let files = post_scan_ref(addr, "/api/v2/files", "mine").await;
    assert_eq!(files.body, [0, 1, 2]);
    assert_eq!(
        files.header("content-type"),
        Some("application/octet-stream")
    );
    let full = post_scan_ref(addr, "/api/v2/full-status", "mine").await;
    assert_eq!(
        full.status, 404,
        "endpoints a fixture leaves out are not found"
    );
}

#[tokio::test]
async fn start_refuses_a_bad_fixture_file() {
    let dir = std::env::temp_dir().join(format!("idenfy-sandbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.json");
    let mut fixture = approved();
    fixture["data"]["docSex"] = json!(7);
    std::fs::write(&path, json!({ "fixtures": [fixture] }).to_string()).unwrap();
    let error = Sandbox::builder()
        .fixtures_file(&path)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(error, SandboxError::Fixtures(_)), "{error}");
    assert!(
        error
            .to_string()
            .contains("fixture mine: field data/docSex"),
        "{error}"
    );

    let missing = Sandbox::builder()
        .fixtures_file(dir.join("nope.json"))
        .start()
        .await;
    assert!(missing.unwrap_err().to_string().contains("nope.json"));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn user_fixtures_override_builtin_ones_and_can_replace_them() {
    let mut fixture = approved();
    fixture["scanRef"] = json!("sandbox-approved");
    fixture["status"]["scanRef"] = json!("sandbox-approved");
    fixture["data"]["scanRef"] = json!("sandbox-approved");
    fixture["status"]["status"] = json!("DENIED");
    let only_mine = Sandbox::builder()
        .without_builtin_fixtures()
        .fixtures(load(fixture).unwrap())
        .start()
        .await
        .unwrap();
    let reply = post_scan_ref(only_mine.local_addr(), "/api/v2/status", "sandbox-approved").await;
    assert_eq!(reply.json()["status"], "DENIED");
    let gone = post_scan_ref(only_mine.local_addr(), "/api/v2/status", "sandbox-expired").await;
    assert_eq!(gone.status, 404);
}

/// A running binary, killed and reaped when dropped (also when a test fails).
struct Binary(std::process::Child);

impl Drop for Binary {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Runs the binary, waits for its "listening on" line, and returns the base URL.
fn spawn_binary(args: &[&str]) -> (Binary, String) {
    let mut binary = Binary(
        Command::new(env!("CARGO_BIN_EXE_idenfy-sandbox"))
            .args(args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stderr = binary.0.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // Keep draining after the address is found, so the child never
            // writes to a closed pipe.
            let _ = sender.send(line);
        }
    });
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = receiver
            .recv_timeout(left)
            .expect("binary prints its address");
        if let Some(url) = line.strip_prefix("idenfy-sandbox: listening on ") {
            return (binary, url.to_owned());
        }
    }
}

#[tokio::test]
async fn binary_serves_with_given_credentials() {
    let (binary, base_url) = spawn_binary(&[
        "--port",
        "0",
        "--api-key",
        "cli-key",
        "--api-secret",
        "cli-secret",
    ]);
    let addr = base_url.trim_start_matches("http://").parse().unwrap();
    let reply = send(
        addr,
        &request_bytes(
            "POST",
            "/api/v2/full-status",
            &[("Authorization", basic("cli-key", "cli-secret"))],
            Some(br#"{"scanRef":"sandbox-approved"}"#),
        ),
    )
    .await;
    drop(binary);
    assert_eq!(reply.status, 200);
    assert_matches_model(FULL_STATUS_MODEL, &reply.json(), "binary full-status");
}

#[test]
fn binary_refuses_a_bad_fixture_file_and_names_the_field() {
    let dir = std::env::temp_dir().join(format!("idenfy-sandbox-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.json");
    let mut fixture = approved();
    fixture["fullStatus"]["attempt_count"] = json!("two");
    std::fs::write(&path, json!({ "fixtures": [fixture] }).to_string()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_idenfy-sandbox"))
        .args(["--port", "0", "--fixtures"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("fixture mine: field fullStatus/attempt_count"),
        "{stderr}"
    );
}

#[test]
fn builtin_fixtures_load() {
    let fixtures = Fixtures::from_json_str(BUILTIN_FIXTURES_JSON).unwrap();
    for scan_ref in scan_refs::SCHEMA_FIXTURES {
        for endpoint in Endpoint::ALL {
            assert!(
                fixtures.is_schema_response(scan_ref, endpoint),
                "{scan_ref} {endpoint:?}"
            );
        }
    }
    assert!(fixtures.contains(scan_refs::UNDOCUMENTED));
    assert!(!fixtures.is_schema_response(scan_refs::UNDOCUMENTED, Endpoint::Status));
}

/// The refusal of a file holding `fixture`, as (fixture, field, message).
fn refusal(fixture: Value) -> (String, String, String) {
    let text = serde_json::json!({ "fixtures": [fixture] }).to_string();
    let error = Fixtures::from_json_str(&text).expect_err("the fixture is refused");
    let message = error.to_string();
    match error {
        FixtureError::Invalid { fixture, field, .. } => (fixture, field, message),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn a_wrong_type_names_the_path_and_not_the_value() {
    let cases = [
        (
            serde_json::json!({"scanRef": "mine", "videoBytes": "SECRET-77"}),
            "videoBytes",
        ),
        (
            serde_json::json!({"scanRef": "mine", "raw": {"data": {"text": 987_654_321}}}),
            "raw/data/text",
        ),
        (
            serde_json::json!({"scanRef": "mine", "files": ["FRONT", {"SECRET-77": 1}]}),
            "files/1",
        ),
        (
            serde_json::json!({"scanRef": "mine", "raw": {"status": {"text": "x", "SECRET-77": 1}}}),
            "raw/status/SECRET-77",
        ),
    ];
    for (fixture, path) in cases {
        let (name, field, message) = refusal(fixture);
        assert_eq!((name.as_str(), field.as_str()), ("mine", path), "{message}");
        assert!(!message.contains("987654321"), "{message}");
        if path != "raw/status/SECRET-77" {
            assert!(!message.contains("SECRET-77"), "{message}");
        }
        assert!(
            message.contains("must be") || message.contains("unknown key"),
            "{message}"
        );
    }
}

#[test]
fn a_fixture_without_a_valid_scan_ref_goes_by_its_position() {
    let (name, field, message) = refusal(serde_json::json!({"files": []}));
    assert_eq!(
        (name.as_str(), field.as_str()),
        ("#0", "scanRef"),
        "{message}"
    );
    assert!(message.contains("is required"), "{message}");
    let (name, field, message) = refusal(serde_json::json!({"scanRef": ["SECRET-77"]}));
    assert_eq!(
        (name.as_str(), field.as_str()),
        ("#0", "scanRef"),
        "{message}"
    );
    assert!(!message.contains("SECRET-77"), "{message}");
    let (name, field, _) = refusal(serde_json::json!("a fixture"));
    assert_eq!((name.as_str(), field.as_str()), ("#0", "(fixture)"));
}

/// The built-in fixture `scan_ref` as a JSON value.
fn builtin_fixture(scan_ref: &str) -> Value {
    let file: Value = serde_json::from_str(BUILTIN_FIXTURES_JSON).unwrap();
    let fixtures = file["fixtures"].as_array().unwrap();
    fixtures
        .iter()
        .find(|f| f["scanRef"] == scan_ref)
        .unwrap()
        .clone()
}

#[test]
fn what_the_docs_do_not_describe_is_refused_at_its_path_without_its_value() {
    type Change = fn(&mut Value);
    let cases: [(&str, Change); 5] = [
        ("fullStatus/client/sex", |f| {
            f["fullStatus"]["client"]["sex"] = "SECRET-77".into()
        }),
        ("fullStatus/suspection_reasons/0", |f| {
            f["fullStatus"]["suspection_reasons"] = serde_json::json!(["SECRET-77"])
        }),
        ("data/extraKey", |f| {
            f["data"]["extraKey"] = "SECRET-77".into()
        }),
        ("status/clientId", |f| {
            f["status"].as_object_mut().unwrap().remove("clientId");
        }),
        ("fullStatus/client/sex", |f| {
            f["fullStatus"]["client"]["sex"] = 77.into()
        }),
    ];
    for (path, change) in cases {
        let mut fixture = builtin_fixture(scan_refs::APPROVED);
        change(&mut fixture);
        let (name, field, message) = refusal(fixture);
        assert_eq!((name.as_str(), field.as_str()), (scan_refs::APPROVED, path));
        assert!(!message.contains("77"), "{message}");
    }
}

/// Every string of every built-in answer, made a value no list documents in turn: where the
/// models read it as an open enum, the refusal names exactly that place, which checks the
/// paths of the marking against the JSON.
#[test]
fn an_undocumented_value_is_named_where_it_is_wherever_it_is() {
    fn strings(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            Value::String(_) => out.push(path.clone()),
            Value::Object(map) => map.iter().for_each(|(key, inner)| {
                path.push(key.clone());
                strings(inner, path, out);
                path.pop();
            }),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, inner)| {
                path.push(i.to_string());
                strings(inner, path, out);
                path.pop();
            }),
            _ => {}
        }
    }
    let mut refused = 0;
    for scan_ref in [scan_refs::SUSPECTED, scan_refs::DENIED_FACE] {
        let fixture = builtin_fixture(scan_ref);
        for key in ["status", "data", "fullStatus"] {
            let mut leaves = Vec::new();
            strings(&fixture[key], &mut vec![key.to_owned()], &mut leaves);
            for leaf in leaves {
                let pointer = format!("/{}", leaf.join("/"));
                let mut changed = fixture.clone();
                *changed.pointer_mut(&pointer).unwrap() = "SANDBOX-PROBE".into();
                let text = serde_json::json!({ "fixtures": [changed] }).to_string();
                if let Err(FixtureError::Invalid { field, reason, .. }) =
                    Fixtures::from_json_str(&text)
                    && reason.starts_with("must be one of")
                {
                    assert_eq!(field, leaf.join("/"), "{reason}");
                    refused += 1;
                }
            }
        }
    }
    assert!(refused >= 10, "only {refused} enum values found");
}

#[tokio::test]
async fn a_raw_json_null_is_a_body_and_an_absent_body_is_not() {
    let text = r#"{"fixtures": [{"scanRef": "mine", "raw": {"status": {"json": null}}}]}"#;
    let fixtures = Fixtures::from_json_str(text).unwrap();
    assert!(!fixtures.is_schema_response("mine", Endpoint::Status));
    let sandbox = Sandbox::builder().fixtures(fixtures).start().await.unwrap();
    let status = post_scan_ref(sandbox.local_addr(), "/api/v2/status", "mine").await;
    assert_eq!(
        (status.status, status.body.as_slice()),
        (200, b"null".as_slice())
    );
    let (_, field, _) = refusal(serde_json::json!({"scanRef": "mine", "raw": {"status": {}}}));
    assert_eq!(field, "raw/status");
}
