//! `idenfy callback`: the real binary sends signed callbacks to a receiver that verifies them with
//! `idenfy_core::callback`, and verifies and signs captured bodies. Every run has a time limit.

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use idenfy_core::Endpoint;
use idenfy_core::callback::{CallbackSecret, SIGNATURE_HEADER, verify_and_parse};
use idenfy_sandbox::{DEFAULT_API_SECRET, scan_refs};
use serde_json::Value;
use support::{TEST_SECRET, TestSandbox, idenfy, run, run_with_input, table_value};

/// What the receiver made of one POST: the callback's JSON, or why it refused it.
type Verdict = Result<Value, String>;

/// A webhook on 127.0.0.1 that verifies callbacks with `secret` and answers 200 (followed by
/// `reply` as its body) or 401.
struct Receiver {
    url: String,
    verdicts: Arc<Mutex<Vec<Verdict>>>,
}

impl Receiver {
    fn start(secret: &str, reply: &'static [u8]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        let secret = CallbackSecret::new(secret).unwrap();
        let verdicts = Arc::new(Mutex::new(Vec::new()));
        let log = verdicts.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let verdict = receive(stream, &secret, reply);
                log.lock().unwrap().push(verdict);
            }
        });
        Receiver { url, verdicts }
    }

    fn verdicts(&self) -> Vec<Verdict> {
        self.verdicts.lock().unwrap().clone()
    }
}

fn receive(mut stream: TcpStream, secret: &CallbackSecret, reply: &[u8]) -> Verdict {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut signature = None;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case(SIGNATURE_HEADER) {
                signature = Some(value.trim().to_owned());
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let verdict = verify_and_parse(secret, signature.as_deref(), &body)
        .map(|_| serde_json::from_slice(&body).unwrap())
        .map_err(|err| err.to_string());
    let (status, reply) = match verdict {
        Ok(_) => ("200 OK", reply),
        Err(_) => ("401 Unauthorized", &b""[..]),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(reply);
    verdict
}

#[test]
fn a_sandbox_callback_reaches_a_receiver_that_verifies_it() {
    let receiver = Receiver::start(DEFAULT_API_SECRET, b"stored");
    let output = run(idenfy().args([
        "--sandbox",
        "callback",
        "send",
        scan_refs::APPROVED,
        "--to",
        &receiver.url,
    ]));
    output.assert_code(0);
    assert!(
        output
            .stdout
            .starts_with("200 OK\tsandbox-approved\tIDENTIFICATION_AUTO_FINISHED\tstored"),
        "{}",
        output.stdout
    );
    let verdicts = receiver.verdicts();
    let callback = verdicts[0]
        .as_ref()
        .expect("the receiver verified the signature");
    assert_eq!(callback["scanRef"], scan_refs::APPROVED);

    // The same values as the sandbox's lookups, from a sandbox started here with the same
    // built-in fixtures.
    let sandbox = TestSandbox::start();
    assert_eq!(
        callback["data"],
        sandbox.json(Endpoint::Data, scan_refs::APPROVED)
    );
    let status = sandbox.json(Endpoint::Status, scan_refs::APPROVED);
    assert_eq!(callback["status"]["overall"], status["status"]);
}

#[test]
fn without_sandbox_the_callback_is_signed_with_the_api_secret() {
    let receiver = Receiver::start(TEST_SECRET, b"");
    let send = |extra: &[&str]| {
        run(idenfy()
            .env("IDENFY_API_SECRET", TEST_SECRET)
            .args([
                "callback",
                "send",
                scan_refs::DENIED_FACE,
                "--to",
                &receiver.url,
            ])
            .args(extra))
    };
    send(&[]).assert_code(0);
    let tampered = send(&["--tamper"]);
    tampered.assert_code(8);
    assert!(
        tampered.stdout.starts_with("401 Unauthorized"),
        "{}",
        tampered.stdout
    );
    assert!(tampered.stderr.contains("not 200"), "{}", tampered.stderr);
    let verdicts = receiver.verdicts();
    assert!(verdicts[0].is_ok(), "{verdicts:?}");
    assert!(
        verdicts[1].as_ref().unwrap_err().contains("does not match"),
        "{verdicts:?}"
    );
    // The sandbox's own secret is not the receiver's.
    run(idenfy().args([
        "--sandbox",
        "callback",
        "send",
        scan_refs::APPROVED,
        "--to",
        &receiver.url,
    ]))
    .assert_code(8);
    assert!(!tampered.stdout.contains(TEST_SECRET) && !tampered.stderr.contains(TEST_SECRET));
}

#[test]
fn sending_fails_clearly_without_a_secret_or_a_receiver() {
    let no_secret = run(idenfy().args([
        "callback",
        "send",
        scan_refs::APPROVED,
        "--to",
        "http://127.0.0.1:9/",
    ]));
    no_secret.assert_code(2);
    assert!(
        no_secret.stderr.contains("IDENFY_API_SECRET"),
        "{}",
        no_secret.stderr
    );
    let elsewhere = run(idenfy().args([
        "--sandbox",
        "callback",
        "send",
        scan_refs::APPROVED,
        "--to",
        "http://192.0.2.1/",
    ]));
    elsewhere.assert_code(2);
    let unknown = run(idenfy().args([
        "--sandbox",
        "callback",
        "send",
        "no-such-ref",
        "--to",
        "http://127.0.0.1:9/",
    ]));
    unknown.assert_code(2);
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    run(idenfy().args([
        "--sandbox",
        "callback",
        "send",
        scan_refs::APPROVED,
        "--to",
        &url,
    ]))
    .assert_code(5);
}

#[test]
fn a_receivers_answer_is_printed_escaped() {
    let receiver = Receiver::start(DEFAULT_API_SECRET, b"ok\x1b[2J\r");
    let output = run(idenfy().args([
        "--sandbox",
        "callback",
        "send",
        scan_refs::APPROVED,
        "--to",
        &receiver.url,
    ]));
    output.assert_code(0);
    assert!(
        !output.stdout.contains('\x1b') && !output.stdout.contains('\r'),
        "{:?}",
        output.stdout
    );
    assert!(
        output.stdout.contains("ok\\u{1b}[2J\\r"),
        "{:?}",
        output.stdout
    );
}

/// The body and digest the core's fixed-digest test uses, computed with openssl.
const BODY: &[u8] =
    br#"{"scanRef":"fixed-digest-ref","status":{"overall":"APPROVED"},"final":true}"#;
const SECRET: &str = "test-callback-secret";
const SIGNATURE: &str = "41932aa0f2aa3b8a71387da1b7dfd3f42f2495483415e37f901d57b2ba236323";

fn with_secret() -> std::process::Command {
    let mut command = idenfy();
    command.env("IDENFY_API_SECRET", SECRET);
    command
}

#[test]
fn sign_prints_the_signature_of_a_file_or_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, BODY).unwrap();
    let output = run(with_secret().args(["callback", "sign"]).arg(&file));
    output.assert_code(0);
    assert_eq!(output.stdout.trim(), SIGNATURE);
    let output = run_with_input(with_secret().args(["callback", "sign", "-"]), BODY);
    output.assert_code(0);
    assert_eq!(output.stdout.trim(), SIGNATURE);
}

#[test]
fn verify_prints_the_key_facts_or_names_the_failed_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, BODY).unwrap();
    let verify = |signature: &str, extra: &[&str]| {
        run(with_secret()
            .args(extra)
            .args(["callback", "verify", "--signature", signature])
            .arg(&file))
    };
    let output = verify(SIGNATURE, &[]);
    output.assert_code(0);
    assert_eq!(
        table_value(&output.stdout, "scanRef"),
        Some("fixed-digest-ref")
    );
    assert_eq!(table_value(&output.stdout, "overall"), Some("APPROVED"));
    assert_eq!(table_value(&output.stdout, "final"), Some("true"));
    let output = verify(&SIGNATURE.to_uppercase(), &["--format", "json"]);
    output.assert_code(0);
    assert_eq!(output.stdout.trim().as_bytes(), BODY);

    let mut changed = SIGNATURE.to_owned();
    changed.replace_range(0..1, "5");
    let output = verify(&changed, &[]);
    output.assert_code(6);
    assert!(
        output.stderr.contains("does not match"),
        "{}",
        output.stderr
    );
    assert!(output.stdout.is_empty());
    let output = verify("not-hex", &[]);
    output.assert_code(6);
    assert!(output.stderr.contains("not a hex"), "{}", output.stderr);
    let output = run_with_input(
        with_secret().args(["callback", "verify", "--signature", SIGNATURE, "-"]),
        BODY,
    );
    output.assert_code(0);

    // Signed, but not a callback: the path is named, the value is not.
    let other = br#"{"status": {"overall": ["SECRET-NAME"]}}"#;
    std::fs::write(&file, other).unwrap();
    let signature = run(with_secret().args(["callback", "sign"]).arg(&file));
    let output = verify(signature.stdout.trim(), &[]);
    output.assert_code(7);
    assert!(
        output.stderr.contains("status.overall"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("SECRET-NAME"), "{}", output.stderr);
}

/// A webhook's signing key, which is not the API secret.
const SIGNING_KEY: &str = "webhook-signing-key-7f3a";

#[test]
fn a_signing_key_verifies_what_it_signed_and_refuses_what_the_api_secret_signed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, BODY).unwrap();
    let signed_with = |key: &str| {
        let output = run(idenfy()
            .env("IDENFY_CALLBACK_SIGNING_KEY", key)
            .args(["callback", "sign"])
            .arg(&file));
        output.assert_code(0);
        output.stdout.trim().to_owned()
    };
    let by_signing_key = signed_with(SIGNING_KEY);
    assert_ne!(by_signing_key, SIGNATURE, "the two keys sign differently");
    // The API secret is set too: with a signing key given, it is not the key.
    let verify = |signature: &str| {
        run(with_secret()
            .env("IDENFY_CALLBACK_SIGNING_KEY", SIGNING_KEY)
            .args(["callback", "verify", "--signature", signature])
            .arg(&file))
    };
    let accepted = verify(&by_signing_key);
    accepted.assert_code(0);
    assert_eq!(
        table_value(&accepted.stdout, "signature"),
        Some("valid (signing key)")
    );
    let refused = verify(SIGNATURE);
    refused.assert_code(6);
    assert!(refused.stderr.contains("signing key"), "{}", refused.stderr);
    for shown in [&refused.stdout, &refused.stderr, &accepted.stdout] {
        assert!(!shown.contains(SIGNING_KEY) && !shown.contains(SECRET));
    }
    // Without a signing key, the API secret is the key, as for older accounts.
    let older = run(with_secret()
        .args(["callback", "verify", "--signature", SIGNATURE])
        .arg(&file));
    older.assert_code(0);
    assert_eq!(
        table_value(&older.stdout, "signature"),
        Some("valid (API secret)")
    );
}

#[test]
fn during_a_rotation_either_key_verifies_and_the_one_that_matched_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, BODY).unwrap();
    let old_signature = run(idenfy()
        .args(["callback", "sign", "--signing-key", "old-key-1"])
        .arg(&file));
    let output = run(idenfy()
        .args(["callback", "verify", "--signing-key", "new-key-2"])
        .args([
            "--signing-key",
            "old-key-1",
            "--event-type",
            "IDENTIFICATION_MANUAL_FINISHED",
        ])
        .args(["--signature", old_signature.stdout.trim()])
        .arg(&file));
    output.assert_code(0);
    assert_eq!(
        table_value(&output.stdout, "signature"),
        Some("valid (signing key 2 of 2)")
    );
    assert_eq!(
        table_value(&output.stdout, "event type"),
        Some("IDENTIFICATION_MANUAL_FINISHED")
    );
    let bad_event = run(idenfy()
        .args(["callback", "verify", "--signing-key", "old-key-1"])
        .args([
            "--event-type",
            "not an event",
            "--signature",
            old_signature.stdout.trim(),
        ])
        .arg(&file));
    bad_event.assert_code(2);
}

#[test]
fn send_plays_the_vendors_sequence_signed_with_the_signing_key() {
    let receiver = Receiver::start(SIGNING_KEY, b"ok");
    let output = run(idenfy().args([
        "--sandbox",
        "callback",
        "send",
        scan_refs::APPROVED,
        "--sequence",
        "--signing-key",
        SIGNING_KEY,
        "--to",
        &receiver.url,
    ]));
    output.assert_code(0);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", output.stdout);
    assert!(
        lines[0].contains("IDENTIFICATION_AUTO_FINISHED"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("IDENTIFICATION_MANUAL_FINISHED"),
        "{}",
        lines[1]
    );
    let finals: Vec<Value> = receiver
        .verdicts()
        .into_iter()
        .map(|verdict| verdict.unwrap()["final"].clone())
        .collect();
    assert_eq!(finals, [Value::Bool(false), Value::Bool(true)]);
    // The sandbox's own secret is not the receiver's signing key: refused.
    let unsigned = run(idenfy().args([
        "--sandbox",
        "callback",
        "send",
        scan_refs::APPROVED,
        "--event",
        "auto",
        "--to",
        &receiver.url,
    ]));
    unsigned.assert_code(8);
}
