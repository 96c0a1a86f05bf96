//! The `idenfy` command against a server that lies (`idenfy-hostile`, real sockets): escape
//! sequences and line breaks in its text, the credentials echoed back, statuses the client does
//! not retry, and a full-status table whose second lookup fails.

mod support;

use base64::Engine as _;
use idenfy_hostile::{HostileServer, Script, Seen};
use support::{TEST_KEY, TEST_SECRET, idenfy_against, json_lines, run, table_value};

fn asks_for(seen: &Seen, scan_ref: &str) -> bool {
    seen.body == format!(r#"{{"scanRef":"{scan_ref}"}}"#).as_bytes()
}

/// Panics unless `text` is safe on a terminal: no control character but the line feeds the
/// command writes itself, no bidi control.
#[track_caller]
fn assert_terminal_safe(what: &str, text: &str) {
    let unsafe_char = text.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    });
    assert!(
        unsafe_char.is_none(),
        "{what} carries {unsafe_char:?} to the terminal: {text:?}"
    );
}

#[test]
fn tables_and_messages_carry_no_control_characters_from_the_server() {
    let server = HostileServer::start(|seen| {
        if asks_for(seen, "evil") {
            let body = serde_json::json!({
                "status": "\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31mAPPROVED\u{9b}0m",
                "scanRef": "evil",
                "clientId": "c-1\nidenfy: forged row\r\u{202e}",
            });
            Script::json(200, &body.to_string())
        } else {
            let body = serde_json::json!({
                "identifier": "\u{1b}[31mBAD_VALUE",
                "message": "refused\nidenfy: 0 failed, all good\u{1b}[2J",
                "documentation": "https://docs.invalid/\u{7}",
            });
            Script::json(400, &body.to_string())
        }
    });
    let output = run(idenfy_against(&server).args(["status", "evil", "bad"]));
    output.assert_code(3);
    assert_terminal_safe("the table", &output.stdout);
    assert_terminal_safe("standard error", &output.stderr);
    assert_eq!(
        table_value(&output.stdout, "status"),
        Some("\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{1b}[31mAPPROVED\\u{9b}0m")
    );
    assert_eq!(
        table_value(&output.stdout, "clientId"),
        Some("c-1\\nidenfy: forged row\\r\\u{202e}")
    );
    assert_eq!(output.stdout.lines().count(), 3, "{}", output.stdout);
    assert!(
        !output
            .stderr
            .lines()
            .any(|line| line.starts_with("idenfy: 0 failed")),
        "a server line break forged a line:\n{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("refused\\nidenfy: 0 failed"),
        "{}",
        output.stderr
    );
}

#[test]
fn credentials_the_server_echoes_are_never_printed() {
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("{TEST_KEY}:{TEST_SECRET}"));
    let server = HostileServer::start(|seen| {
        let authorization = seen.header("authorization").unwrap_or_default();
        let body = serde_json::json!({
            "identifier": "BAD_VALUE",
            "message": format!("header was Authorization: {authorization}"),
            "documentation": format!("https://docs.invalid/?secret={TEST_SECRET}"),
        });
        Script::json(400, &body.to_string())
    });
    for format in ["table", "jsonl"] {
        let output = run(idenfy_against(&server).args(["--format", format, "status", "ref-1"]));
        output.assert_code(3);
        for (stream, text) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            assert!(
                !text.contains(TEST_SECRET) && !text.contains(token.trim_end_matches('=')),
                "{format}: the credentials reached {stream}: {text}"
            );
        }
        assert!(output.stderr.contains("<redacted>"), "{}", output.stderr);
        if format == "jsonl" {
            let lines = json_lines(&output.stdout);
            let message = lines[0]["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("Basic <redacted>"), "{message}");
        }
    }
    let seen = server.requests();
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Basic {token}").as_str()),
        "the server did get the credentials to echo"
    );
}

#[test]
fn statuses_the_client_does_not_retry_are_api_errors_not_network_failures() {
    for (status, code) in [(501, 3), (505, 3), (503, 5), (429, 5)] {
        let server = HostileServer::start(move |_| {
            Script::json(status, r#"{"identifier":"INTERNAL_ERROR","message":"No."}"#)
        });
        let output = run(idenfy_against(&server).args(["--retries", "1", "status", "ref-1"]));
        assert_eq!(output.code, Some(code), "HTTP {status}: {}", output.stderr);
        let attempts = if code == 5 { 2 } else { 1 };
        assert_eq!(server.requests().len(), attempts, "HTTP {status}");
    }
}

/// A server whose `/full-status` answers and whose `/status` answers `status` with `body`.
fn full_status_server(status: u16, body: &'static str) -> HostileServer {
    HostileServer::start(move |seen| {
        if seen.path.ends_with("/full-status") {
            Script::json(
                200,
                r#"{"face_match_result":"FACE_MATCH","document_validity":"DOC_VALIDATED"}"#,
            )
        } else {
            Script::json(status, body)
        }
    })
}

#[test]
fn the_full_status_table_shows_the_overall_status_from_status() {
    let server = full_status_server(200, r#"{"status":"APPROVED","scanRef":"ref-1"}"#);
    let output = run(idenfy_against(&server).args(["full-status", "ref-1"]));
    output.assert_code(0);
    assert_eq!(
        table_value(&output.stdout, "overall status"),
        Some("APPROVED")
    );
    assert_eq!(
        table_value(&output.stdout, "face (auto)"),
        Some("FACE_MATCH")
    );
    let mut paths: Vec<String> = server
        .requests()
        .into_iter()
        .map(|seen| seen.path)
        .collect();
    paths.sort();
    assert_eq!(paths, ["/api/v2/full-status", "/api/v2/status"]);
}

#[test]
fn a_failed_overall_status_is_shown_and_sets_the_exit_code() {
    for (status, body, code, reason) in [
        (
            401,
            r#"{"identifier":"UNAUTHORIZED","message":"No."}"#,
            4,
            "unavailable: /status answered HTTP 401 Unauthorized UNAUTHORIZED",
        ),
        (
            429,
            r#"{"identifier":"TOO_MANY_REQUESTS","message":"Slow down."}"#,
            5,
            "unavailable: /status answered HTTP 429 Too Many Requests TOO_MANY_REQUESTS",
        ),
    ] {
        let server = full_status_server(status, body);
        let output = run(idenfy_against(&server).args(["--retries", "0", "full-status", "ref-1"]));
        output.assert_code(code);
        assert_eq!(
            table_value(&output.stdout, "overall status"),
            Some(reason),
            "{}",
            output.stdout
        );
        assert_eq!(
            table_value(&output.stdout, "face (auto)"),
            Some("FACE_MATCH")
        );
        assert!(
            output
                .stderr
                .contains("ref-1: the overall status (/status) could not be had")
                && output.stderr.contains(&status.to_string()),
            "{}",
            output.stderr
        );
    }
}

/// A status body whose strings hold what JSON allows raw and a terminal may obey: U+009B (an
/// 8-bit CSI), DEL, a bidi override, a tag character beyond the BMP; and between its values a
/// carriage return, which would let what follows print over what came before.
const OBEYED_BY_A_TERMINAL: &str =
    "{\n  \"status\": \"\u{9b}2J\u{7f}\u{202e}APPROVED\u{e0041}\",\r\n  \"scanRef\": \"x\"\n}";

#[cfg(unix)]
#[test]
#[cfg_attr(
    not(idenfy_tests_have_script),
    ignore = "needs util-linux `script` for a terminal"
)]
fn json_shown_on_a_terminal_has_the_characters_it_would_obey_escaped_and_a_pipe_gets_them_as_sent()
{
    let server = HostileServer::start(|_| {
        Script::response(
            200,
            &[("content-type", "application/json")],
            OBEYED_BY_A_TERMINAL.as_bytes(),
        )
    });
    let expected: serde_json::Value = serde_json::from_str(OBEYED_BY_A_TERMINAL).unwrap();
    for format in ["json", "jsonl"] {
        let piped = run(idenfy_against(&server).args(["--format", format, "status", "x"]));
        piped.assert_code(0);
        assert!(
            piped.stdout.contains(OBEYED_BY_A_TERMINAL)
                || piped
                    .stdout
                    .contains("\u{9b}2J\u{7f}\u{202e}APPROVED\u{e0041}"),
            "a pipe gets the API's bytes: {:?}",
            piped.stdout
        );

        let command_line = format!(
            "{} --base-url {} --format {format} status x",
            support::idenfy_bin().display(),
            server.url("")
        );
        let shown = run(std::process::Command::new("script")
            .args(["-qec", &command_line, "/dev/null"])
            .env("IDENFY_API_KEY", TEST_KEY)
            .env("IDENFY_API_SECRET", TEST_SECRET));
        shown.assert_code(0);
        // `script` turns the line feeds into CRLF, as a terminal shows them.
        let text = shown.stdout.replace("\r\n", "\n");
        assert_terminal_safe(&format!("--format {format}"), &text);
        assert!(
            !text.contains('\u{9b}') && !text.contains('\u{e0041}'),
            "{text:?}"
        );
        assert!(
            text.contains("\\u009b2J\\u007f\\u202eAPPROVED\\udb40\\udc41"),
            "{text}"
        );
        let document = match format {
            "json" => serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            _ => serde_json::from_str::<serde_json::Value>(text.trim()).unwrap()["result"].clone(),
        };
        assert_eq!(document, expected, "the escaped JSON reads back as sent");
    }
}
