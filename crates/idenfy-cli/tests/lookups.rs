//! The `idenfy` binary's four lookups in its three formats, against the embedded sandbox
//! (`--sandbox`) and against a sandbox of the test's own (credentials from the environment,
//! `--base-url`), over 127.0.0.1.

mod support;

use idenfy_core::Endpoint;
use idenfy_sandbox::{BUILTIN_FIXTURES_JSON, scan_refs};
use serde_json::{Value, json};
use support::{TestSandbox, idenfy, idenfy_at, json_lines, run, table_value};

const FORMATS: [&str; 3] = ["table", "json", "jsonl"];

/// The six file slots in the API's order.
const FILE_KINDS: [&str; 6] = [
    "FRONT",
    "BACK",
    "FACE",
    "FRONT_VIDEO",
    "BACK_VIDEO",
    "FACE_VIDEO",
];

/// The response of `endpoint` for a built-in fixture, as the fixture file gives it. For
/// `/files`, each URL is reduced to its path (the embedded sandbox's port and the URLs'
/// signatures differ per run).
fn builtin_response(endpoint: Endpoint, scan_ref: &str) -> Value {
    let builtin: Value = serde_json::from_str(BUILTIN_FIXTURES_JSON).unwrap();
    let fixture = builtin["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|fixture| fixture["scanRef"] == scan_ref)
        .unwrap()
        .clone();
    match endpoint {
        Endpoint::Status => fixture["status"].clone(),
        Endpoint::Data => fixture["data"].clone(),
        Endpoint::FullStatus => fixture["fullStatus"].clone(),
        _ => {
            let present: Vec<&str> = fixture["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|kind| kind.as_str().unwrap())
                .collect();
            let mut table = serde_json::Map::new();
            for kind in FILE_KINDS {
                let extension = if kind.ends_with("VIDEO") {
                    "mp4"
                } else {
                    "png"
                };
                let value = if present.contains(&kind) {
                    json!(format!("/files/{scan_ref}/{kind}.{extension}"))
                } else {
                    Value::Null
                };
                table.insert(kind.to_owned(), value);
            }
            Value::Object(table)
        }
    }
}

/// A `/files` table with each URL reduced to its path, after checking that every URL points at
/// `origin` (or at some loopback port when `origin` is `None`).
fn url_paths(files: &Value, origin: Option<&str>) -> Value {
    let mut files = files.clone();
    for (kind, value) in files.as_object_mut().unwrap() {
        let Some(url) = value.as_str() else { continue };
        let rest = match origin {
            Some(origin) => url.strip_prefix(origin),
            None => url
                .strip_prefix("http://127.0.0.1:")
                .map(|rest| rest.trim_start_matches(|c: char| c.is_ascii_digit())),
        }
        .unwrap_or_else(|| panic!("{kind} URL {url} is not on the sandbox"));
        assert!(
            rest.contains("?expires=") && rest.contains("&signature="),
            "{kind} URL {url} is not signed"
        );
        *value = json!(rest.split('?').next().unwrap());
    }
    files
}

/// Where the command runs against, and what it should print.
enum Target<'a> {
    Embedded,
    Own(&'a TestSandbox),
}

impl Target<'_> {
    fn command(&self) -> std::process::Command {
        match self {
            Target::Embedded => {
                let mut command = idenfy();
                command.arg("--sandbox");
                command
            }
            Target::Own(sandbox) => idenfy_at(sandbox),
        }
    }

    /// The expected JSON, with `/files` URLs reduced to paths.
    fn expected(&self, endpoint: Endpoint, scan_ref: &str) -> Value {
        match self {
            Target::Embedded => builtin_response(endpoint, scan_ref),
            Target::Own(sandbox) => {
                let served = sandbox.json(endpoint, scan_ref);
                if endpoint == Endpoint::Files {
                    url_paths(&served, Some(&sandbox.base_url()))
                } else {
                    served
                }
            }
        }
    }

    /// `/files` output reduced like [`Self::expected`].
    fn comparable(&self, endpoint: Endpoint, printed: &Value) -> Value {
        if endpoint != Endpoint::Files {
            return printed.clone();
        }
        match self {
            Target::Embedded => url_paths(printed, None),
            Target::Own(sandbox) => url_paths(printed, Some(&sandbox.base_url())),
        }
    }
}

/// Runs `endpoint` for `scan_refs` in every format and checks what is printed.
fn check_every_format(target: &Target, endpoint: Endpoint, scan_refs: &[&str]) {
    for format in FORMATS {
        let output = run(target
            .command()
            .args(["--format", format, endpoint.name()])
            .args(scan_refs));
        output.assert_code(0);
        let context = format!("{} --format {format}", endpoint.name());
        match format {
            "json" => {
                // One document: the answer itself, or for several scanRefs an array of them.
                let document: Value = serde_json::from_str(&output.stdout).unwrap_or_else(|err| {
                    panic!(
                        "{context}: not one JSON document ({err}):\n{}",
                        output.stdout
                    )
                });
                let documents = match document {
                    Value::Array(items) if scan_refs.len() > 1 => items,
                    single => vec![single],
                };
                assert_eq!(
                    documents.len(),
                    scan_refs.len(),
                    "{context}: one answer each"
                );
                for (document, scan_ref) in documents.iter().zip(scan_refs) {
                    assert_eq!(
                        target.comparable(endpoint, document),
                        target.expected(endpoint, scan_ref),
                        "{context}: {scan_ref}"
                    );
                }
            }
            "jsonl" => {
                let lines = json_lines(&output.stdout);
                assert_eq!(lines.len(), scan_refs.len(), "{context}: one line each");
                for (line, scan_ref) in lines.iter().zip(scan_refs) {
                    assert_eq!(line["scanRef"], *scan_ref, "{context}");
                    assert_eq!(line["endpoint"], endpoint.name(), "{context}");
                    assert!(line.get("error").is_none(), "{context}: {line}");
                    assert_eq!(
                        target.comparable(endpoint, &line["result"]),
                        target.expected(endpoint, scan_ref),
                        "{context}: {scan_ref}"
                    );
                }
            }
            _ => {
                let tables: Vec<&str> = output.stdout.split("\n\n").collect();
                assert_eq!(
                    tables.len(),
                    scan_refs.len(),
                    "{context}:\n{}",
                    output.stdout
                );
                for (table, scan_ref) in tables.iter().zip(scan_refs) {
                    check_table(target, endpoint, scan_ref, table);
                }
            }
        }
        assert!(
            !output.stderr.contains("error"),
            "{context}: {}",
            output.stderr
        );
    }
}

/// The key facts of the expected JSON are in the table, each on its labelled row.
fn check_table(target: &Target, endpoint: Endpoint, scan_ref: &str, table: &str) {
    let row = |label: &str| {
        table_value(table, label)
            .unwrap_or_else(|| panic!("no `{label}` row in\n{table}"))
            .to_owned()
    };
    let expected = target.expected(endpoint, scan_ref);
    let text = |value: &Value| match value {
        Value::String(text) if !text.is_empty() => text.clone(),
        Value::Null | Value::String(_) => "-".to_owned(),
        other => other.to_string(),
    };
    assert_eq!(row("scanRef"), scan_ref, "{table}");
    match endpoint {
        Endpoint::Status => {
            assert_eq!(row("status"), text(&expected["status"]), "{table}");
            assert_eq!(row("clientId"), text(&expected["clientId"]), "{table}");
        }
        Endpoint::Data => {
            let name = format!(
                "{} {}",
                text(&expected["docFirstName"]),
                text(&expected["docLastName"])
            );
            assert_eq!(row("name"), name, "{table}");
            let document = format!(
                "{} {}",
                text(&expected["docType"]),
                text(&expected["docNumber"])
            );
            assert_eq!(row("document"), document, "{table}");
            assert_eq!(row("issuing country"), text(&expected["docIssuingCountry"]));
            assert_eq!(row("date of birth"), text(&expected["docDob"]));
            assert_eq!(row("expires"), text(&expected["docExpiry"]));
        }
        Endpoint::Files => {
            for kind in FILE_KINDS {
                let printed = row(kind);
                match &expected[kind] {
                    Value::String(path) => assert!(
                        printed.starts_with("http://127.0.0.1:")
                            && printed.contains(&format!("{path}?expires=")),
                        "{kind}: {printed} is not the URL of {path}"
                    ),
                    _ => assert_eq!(printed, "-", "{kind}"),
                }
            }
        }
        _ => {
            let status = target.expected(Endpoint::Status, scan_ref);
            assert_eq!(row("overall status"), text(&status["status"]), "{table}");
            for (label, key) in [
                ("face (auto)", "face_match_result"),
                ("face (manual)", "manual_face_match_result"),
                ("document (auto)", "document_validity"),
                ("document (manual)", "manual_document_validity"),
                ("started", "start_time"),
                ("finished", "finish_time"),
                ("reviewed", "review_time"),
                ("attempts", "attempt_count"),
            ] {
                assert_eq!(row(label), text(&expected[key]), "{label} in\n{table}");
            }
            let reasons: Vec<String> = expected["suspection_reasons"]
                .as_array()
                .map(|reasons| reasons.iter().map(text).collect())
                .unwrap_or_default();
            let reasons = if reasons.is_empty() {
                "-".to_owned()
            } else {
                reasons.join(", ")
            };
            assert_eq!(row("suspicion reasons"), reasons, "{table}");
            let document = &expected["client_identity_document"];
            assert_eq!(
                row("name"),
                format!(
                    "{} {}",
                    text(&document["doc_name"]),
                    text(&document["doc_surname"])
                ),
                "{table}"
            );
            assert_eq!(row("country"), text(&document["doc_country"]), "{table}");
        }
    }
}

#[test]
fn status_in_every_format_on_the_embedded_sandbox() {
    check_every_format(&Target::Embedded, Endpoint::Status, &[scan_refs::APPROVED]);
}

#[test]
fn data_in_every_format_on_the_embedded_sandbox() {
    check_every_format(&Target::Embedded, Endpoint::Data, &[scan_refs::APPROVED]);
}

#[test]
fn files_in_every_format_on_the_embedded_sandbox() {
    check_every_format(&Target::Embedded, Endpoint::Files, &[scan_refs::APPROVED]);
}

#[test]
fn full_status_in_every_format_on_the_embedded_sandbox() {
    check_every_format(
        &Target::Embedded,
        Endpoint::FullStatus,
        &[scan_refs::APPROVED],
    );
}

/// Two identifications that differ in every fact a table shows.
const TWO: [&str; 2] = [scan_refs::DENIED_FACE, scan_refs::SUSPECTED];

#[test]
fn status_in_every_format_on_a_sandbox_with_other_credentials() {
    let sandbox = TestSandbox::start();
    check_every_format(&Target::Own(&sandbox), Endpoint::Status, &TWO);
}

#[test]
fn data_in_every_format_on_a_sandbox_with_other_credentials() {
    let sandbox = TestSandbox::start();
    check_every_format(&Target::Own(&sandbox), Endpoint::Data, &TWO);
}

#[test]
fn files_in_every_format_on_a_sandbox_with_other_credentials() {
    let sandbox = TestSandbox::start();
    check_every_format(&Target::Own(&sandbox), Endpoint::Files, &TWO);
}

#[test]
fn full_status_in_every_format_on_a_sandbox_with_other_credentials() {
    let sandbox = TestSandbox::start();
    check_every_format(&Target::Own(&sandbox), Endpoint::FullStatus, &TWO);
}

#[test]
fn json_is_the_body_the_api_sent_byte_for_byte() {
    // `json` passes the body through; the sandbox's bodies are compact, so the output is the
    // body and a newline.
    let sandbox = TestSandbox::start();
    let (status, body) = sandbox.post(Endpoint::FullStatus, scan_refs::SUSPECTED);
    assert_eq!(status, 200);
    let output =
        run(idenfy_at(&sandbox).args(["--format", "json", "full-status", scan_refs::SUSPECTED]));
    output.assert_code(0);
    assert_eq!(
        output.stdout.trim_end_matches('\n').as_bytes(),
        body.as_ref()
    );
}
