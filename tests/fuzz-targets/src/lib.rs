//! The bodies of the fuzz targets: one function per target, taking the fuzzer's bytes.
//!
//! `fuzz/fuzz_targets/*.rs` (cargo-fuzz, nightly) call these under libFuzzer; `tests/corpus.rs`
//! replays every committed corpus entry and every crash through the same functions on stable,
//! so a crash once found stays fixed. Each function panics only when a property that the
//! project promises is broken; anything the code under test refuses with an error is fine.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use idenfy_core::models::{
    ApiError, FileUrls, FullStatus, IdentificationData, IdentificationStatus, LenientDate,
    LenientDateTime,
};
use idenfy_core::{AttemptOutcome, Error, RetryDecision, RetryPolicy, parse_response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The targets by name: the name of each one's seed archive (`fuzz/seeds/NAME.tar.gz`) and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("response", response),
    ("error_page", error_page),
    ("models", models),
    ("dates", dates),
    ("retry_after", retry_after),
    ("fixtures", fixtures),
    ("sandbox_request", sandbox_request),
    ("bulk_input", bulk_input),
    ("resume", resume),
    ("report", report),
];

/// Splits off the first byte (a selector) from the rest.
fn split(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (0, &[]),
    }
}

/// `parse_response` on any status, content type and body, for each endpoint's model: it
/// returns a value or a typed error, and no error's text carries a control character.
pub fn response(data: &[u8]) {
    let (selector, rest) = split(data);
    let (status_byte, body) = split(rest);
    let status =
        StatusCode::from_u16(100 + u16::from(status_byte) * 2).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = match selector >> 4 {
        0 => "application/json",
        1 => "text/html",
        2 => "application/json; charset=utf-8",
        _ => "text/plain",
    };
    let response = || {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Bytes::copy_from_slice(body))
            .expect("a valid response head")
    };
    let limit = 64 * 1024;
    match selector & 3 {
        0 => check(parse_response::<FullStatus, _>(response(), limit)),
        1 => check(parse_response::<IdentificationData, _>(response(), limit)),
        2 => check(parse_response::<FileUrls, _>(response(), limit)),
        _ => check(parse_response::<IdentificationStatus, _>(response(), limit)),
    }
}

fn check<T>(result: Result<T, Error>) {
    if let Err(error) = result {
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains('\u{1b}'),
            "an error's text carries an escape character: {shown:?}"
        );
    }
}

/// A response that is not the API's JSON (an HTML or text error page): the excerpt is short,
/// printable ASCII, and keeps no long number.
pub fn error_page(data: &[u8]) {
    let response = Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .header("content-type", "text/html")
        .body(data)
        .expect("a valid response head");
    if let Err(Error::UnexpectedResponse(page)) =
        parse_response::<IdentificationStatus, _>(response, 1 << 20)
    {
        assert!(
            page.excerpt.len() <= 84,
            "excerpt too long: {:?}",
            page.excerpt
        );
        assert!(
            page.excerpt
                .chars()
                .all(|c| c.is_ascii_graphic() || c == ' '),
            "excerpt not printable: {:?}",
            page.excerpt
        );
        for token in page.excerpt.split(' ') {
            let digits = token.chars().filter(char::is_ascii_digit).count();
            assert!(
                digits == 0 || token.len() <= 3,
                "a long number survived the mask: {token:?}"
            );
        }
    }
}

/// Every model decodes any bytes to a value or an error; a decoded value serializes and
/// decodes back to itself (unknown values and keys included).
pub fn models(data: &[u8]) {
    let (selector, body) = split(data);
    match selector % 5 {
        0 => round_trip::<FullStatus>(body),
        1 => round_trip::<IdentificationData>(body),
        2 => round_trip::<FileUrls>(body),
        3 => round_trip::<IdentificationStatus>(body),
        _ => round_trip::<ApiError>(body),
    }
}

fn round_trip<T: DeserializeOwned + Serialize + PartialEq>(body: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(body) else {
        return;
    };
    let text = serde_json::to_string(&value).expect("a decoded value serializes");
    let again: T = serde_json::from_str(&text).expect("a serialized value decodes");
    assert!(
        again == value,
        "the value changed in a round trip through {text}"
    );
    let text_again = serde_json::to_string(&again).expect("a decoded value serializes");
    assert_eq!(text, text_again, "serialization is not stable");
}

/// The lenient dates: any text is kept verbatim; a valid one round-trips through its typed
/// value; `Debug` shows none of it.
pub fn dates(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let date = LenientDate::new(text);
    assert_eq!(date.as_str(), text);
    if let Ok(typed) = date.parse() {
        assert_eq!(LenientDate::from(typed).parse(), Ok(typed));
    }
    let time = LenientDateTime::new(text);
    if let Ok(typed) = time.parse() {
        assert_eq!(LenientDateTime::from(typed).parse(), Ok(typed));
    }
    let length = text.chars().count();
    assert_eq!(
        format!("{date:?} {time:?}"),
        format!("LenientDate(<{length} characters>) LenientDateTime(<{length} characters>)"),
        "Debug shows more than the length of a date"
    );
}

/// `Retry-After` from any header bytes: a duration or nothing, never a panic; and the retry
/// decision never waits past the time left, nor less than the server asked.
pub fn retry_after(data: &[u8]) {
    let (remaining_byte, rest) = split(data);
    let (attempt_byte, value) = split(rest);
    let Ok(value) = HeaderValue::from_bytes(value) else {
        return;
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let parsed = idenfy_core::parse_retry_after(&value, now);
    let policy = RetryPolicy::default();
    let remaining = Duration::from_millis(u64::from(remaining_byte) * 250);
    let outcome = AttemptOutcome::Status {
        status: StatusCode::TOO_MANY_REQUESTS,
        retry_after: parsed,
    };
    let random = u64::from_le_bytes(
        value
            .as_bytes()
            .iter()
            .chain([0u8; 8].iter())
            .take(8)
            .copied()
            .collect::<Vec<_>>()
            .try_into()
            .expect("eight bytes"),
    );
    let attempts = u32::from(attempt_byte % 8) + 1;
    if let RetryDecision::RetryAfter(delay) = policy.decide(attempts, &outcome, remaining, random) {
        assert!(delay < remaining, "waits {delay:?} with {remaining:?} left");
        if let Some(asked) = parsed {
            assert!(
                delay >= asked,
                "waits {delay:?}, less than the {asked:?} asked"
            );
        }
    }
}

/// A fixture file of any content loads or is refused with an error.
pub fn fixtures(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = idenfy_sandbox::Fixtures::from_json_str(text);
}

/// Any bytes on a connection to the sandbox: it answers or closes, and the connection ends
/// once the client has said all it will.
pub fn sandbox_request(data: &[u8]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    static SANDBOX: OnceLock<(tokio::runtime::Runtime, idenfy_sandbox::InProcessSandbox)> =
        OnceLock::new();
    let (runtime, sandbox) = SANDBOX.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let sandbox = idenfy_sandbox::Sandbox::builder()
            .in_process("http://sandbox.test")
            .expect("the built-in fixtures load");
        (runtime, sandbox)
    });
    runtime.block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let serving = sandbox.serve(server);
        let talking = async {
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut answer = Vec::new();
            let _ = client.read_to_end(&mut answer).await;
            answer
        };
        // The sandbox's own timeouts are 30 s; a request that ended with the stream must not
        // wait for them.
        let finished = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::join!(serving, talking)
        })
        .await;
        assert!(
            finished.is_ok(),
            "the sandbox kept a finished connection open"
        );
    });
}

/// The bulk input reader on any bytes: it ends, every scanRef it yields is one the client
/// accepts, line numbers only grow, and an error ends the iteration.
pub fn bulk_input(data: &[u8]) {
    let mut last_line = 0;
    let mut failed = false;
    for item in idenfy_cli::fuzzing::scan_ref_lines(data) {
        assert!(!failed, "a line was read after an error");
        match item {
            Ok(line) => {
                assert!(line.line > last_line, "line numbers went back");
                last_line = line.line;
                let text = line.scan_ref.as_str();
                assert!(
                    text.parse::<idenfy_core::ScanRef>().is_ok(),
                    "{text:?} is not a valid scanRef"
                );
                assert!(
                    !text.contains('\u{feff}'),
                    "a byte order mark reached a scanRef"
                );
            }
            Err(_) => failed = true,
        }
    }
}

/// The resume reader on any earlier output: what it keeps is whole lines of valid UTF-8
/// JSON, and resuming what it kept keeps all of it again (nothing dropped, nothing cut).
pub fn resume(data: &[u8]) {
    let mut done = idenfy_cli::fuzzing::LookupSet::with_key(7, 11);
    let mut kept = Vec::new();
    let Ok(first) = idenfy_cli::fuzzing::rewrite_export(data, &mut kept, &mut done) else {
        return;
    };
    assert!(
        kept.is_empty() || kept.ends_with(b"\n"),
        "a kept line is not whole"
    );
    // JSON by the grammar: a number beyond f64's range is still JSON, and the line keeps the
    // API's text as sent, so the check is the grammar's, not a parse into f64.
    for line in kept
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.is_empty())
    {
        assert!(
            serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok(),
            "a kept line is not JSON: {:?}",
            String::from_utf8_lossy(line)
        );
    }
    let mut again_done = idenfy_cli::fuzzing::LookupSet::with_key(7, 11);
    let mut again = Vec::new();
    let second = idenfy_cli::fuzzing::rewrite_export(kept.as_slice(), &mut again, &mut again_done)
        .expect("what resume kept resumes again");
    assert_eq!(again, kept, "resuming the kept lines changed them");
    assert_eq!(second.kept, first.kept);
    assert_eq!(
        (second.failed, second.duplicates, second.cut),
        (0, 0, false)
    );
}

/// The report's answer in any shape: what is accepted is a PDF (it starts with `%PDF-`) no
/// larger than the limit; everything else is a typed error.
pub fn report(data: &[u8]) {
    let (selector, body) = split(data);
    let content_type = match selector % 4 {
        0 => "application/pdf",
        1 => "application/json",
        2 => "text/plain",
        _ => "application/octet-stream",
    };
    let response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .body(body)
        .expect("a valid response head");
    let limit = 1 << 20;
    if let Ok(report) = idenfy_core::parse_report(response, limit) {
        assert!(
            report.pdf.starts_with(b"%PDF-"),
            "accepted a report that is not a PDF"
        );
        assert!(
            report.pdf.len() <= limit,
            "accepted a report over the limit"
        );
    }
}
