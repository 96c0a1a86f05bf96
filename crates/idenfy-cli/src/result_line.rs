//! The JSON line written for each scanRef: `{"scanRef", "endpoint", "result"}` with the API's
//! JSON as sent, or `{"scanRef", "endpoint", "error"}`.

use std::borrow::Cow;

use idenfy_hyper::core::Endpoint;
use idenfy_hyper::{Error, ScanRef};
use serde::Deserialize as _;
use serde_json::{Value, json};

use crate::failure::error_json;

/// The line of a successful lookup, newline included. The body is embedded as sent (on one
/// line), not re-serialized, so that keys and values the models do not know are kept as they are.
pub fn success(scan_ref: &ScanRef, endpoint: Endpoint, body: &[u8]) -> Vec<u8> {
    let body = single_line(body);
    let mut line = Vec::with_capacity(body.len() + 96);
    line.extend_from_slice(b"{\"scanRef\":");
    // A scanRef has no control characters, but may hold a quote or a backslash: let serde_json
    // quote it.
    line.extend_from_slice(Value::from(scan_ref.as_str()).to_string().as_bytes());
    line.extend_from_slice(b",\"endpoint\":\"");
    line.extend_from_slice(endpoint.name().as_bytes());
    line.extend_from_slice(b"\",\"result\":");
    line.extend_from_slice(&body);
    line.extend_from_slice(b"}\n");
    line
}

/// The line of a failed lookup, newline included, with the number of attempts the client made.
/// It starts like a success line, `{"scanRef":`, so that a line cut by a crash can be told from
/// text that was never ours.
pub fn failure(scan_ref: &ScanRef, endpoint: Endpoint, error: &Error, attempts: u32) -> Vec<u8> {
    let mut error = error_json(error);
    error["attempts"] = json!(attempts);
    let mut line = Vec::with_capacity(256);
    line.extend_from_slice(b"{\"scanRef\":");
    line.extend_from_slice(Value::from(scan_ref.as_str()).to_string().as_bytes());
    line.extend_from_slice(b",\"endpoint\":\"");
    line.extend_from_slice(endpoint.name().as_bytes());
    line.extend_from_slice(b"\",\"error\":");
    line.extend_from_slice(error.to_string().as_bytes());
    line.extend_from_slice(b"}\n");
    line
}

/// How every line we write starts.
pub const LINE_START: &[u8] = b"{\"scanRef\":";

/// What an earlier run wrote for a scanRef.
#[derive(Debug, PartialEq, Eq)]
pub struct Written {
    pub scan_ref: ScanRef,
    pub endpoint: Endpoint,
    pub succeeded: bool,
}

/// Why a line is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a line of a bulk export: {0}")]
pub struct NotOurs(&'static str);

impl NotOurs {
    /// A line that is not ours, and why.
    pub fn new(reason: &'static str) -> Self {
        NotOurs(reason)
    }
}

/// The members of a line, `result` and `error` only noted as present (a `null` result counts:
/// the line was written as a result).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Members {
    #[serde(rename = "scanRef")]
    scan_ref: String,
    endpoint: String,
    #[serde(default, deserialize_with = "present")]
    result: bool,
    #[serde(default, deserialize_with = "present")]
    error: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Reads one line of an earlier run (without its line break): a JSON object with a valid
/// `scanRef`, a known `endpoint` and exactly one of `result` and `error`, nothing else.
///
/// # Errors
/// [`NotOurs`] for anything else.
pub fn parse(line: &[u8]) -> Result<Written, NotOurs> {
    let text = std::str::from_utf8(line).map_err(|_| NotOurs("not UTF-8"))?;
    let members: Members =
        serde_json::from_str(text).map_err(|_| NotOurs("not the JSON of a result line"))?;
    let scan_ref = ScanRef::new(members.scan_ref).map_err(|_| NotOurs("not a valid scanRef"))?;
    let endpoint = Endpoint::ALL
        .into_iter()
        .find(|endpoint| endpoint.name() == members.endpoint)
        .ok_or(NotOurs("an unknown endpoint"))?;
    if members.result == members.error {
        return Err(NotOurs("needs exactly one of result and error"));
    }
    Ok(Written {
        scan_ref,
        endpoint,
        succeeded: members.result,
    })
}

/// The JSON text on one line: its line breaks removed, everything else (key order, spacing,
/// number formats, escapes) exactly as sent. In valid JSON, which `text` is once the lookup has
/// decoded it, a raw line break can only be white space between tokens: inside strings it is
/// always escaped.
pub fn single_line(text: &[u8]) -> Cow<'_, [u8]> {
    if !text.iter().any(|&byte| byte == b'\n' || byte == b'\r') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.iter()
            .copied()
            .filter(|&byte| byte != b'\n' && byte != b'\r')
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_line_embeds_the_body_as_sent_and_reads_back() {
        let scan_ref: ScanRef = "ref-1".parse().unwrap();
        let line = success(
            &scan_ref,
            Endpoint::FullStatus,
            b"{\n \"z\": 1, \"a\": \"x y\"\n}",
        );
        let text = String::from_utf8(line).unwrap();
        assert_eq!(
            text,
            "{\"scanRef\":\"ref-1\",\"endpoint\":\"full-status\",\"result\":{ \"z\": 1, \"a\": \"x y\"}}\n"
        );
        assert!(text.as_bytes().starts_with(LINE_START));
        assert_eq!(
            parse(text.trim_end().as_bytes()),
            Ok(Written {
                scan_ref,
                endpoint: Endpoint::FullStatus,
                succeeded: true
            })
        );
    }

    #[test]
    fn only_our_lines_parse() {
        let ours = [
            (r#"{"scanRef":"x","endpoint":"status","result":null}"#, true),
            (
                r#"{"scanRef":"x","endpoint":"data","error":{"kind":"api"}}"#,
                false,
            ),
        ];
        for (line, succeeded) in ours {
            assert_eq!(
                parse(line.as_bytes()).map(|w| w.succeeded),
                Ok(succeeded),
                "{line}"
            );
        }
        for line in [
            "",
            "hello",
            "{}",
            r#"{"scanRef":"x"}"#,
            r#"{"scanRef":"x","endpoint":"status","res"#,
            r#"{"scanRef":"x","endpoint":"status","result":{},"error":{}}"#,
            r#"{"scanRef":"x","endpoint":"nope","result":{}}"#,
            r#"{"scanRef":"has space","endpoint":"status","result":{}}"#,
            r#"{"scanRef":"x","endpoint":"status","result":{},"extra":1}"#,
            r#"[{"scanRef":"x","endpoint":"status","result":{}}]"#,
        ] {
            assert!(parse(line.as_bytes()).is_err(), "{line}");
        }
        assert!(parse(b"{\"scanRef\":\"x\xff\",\"endpoint\":\"status\",\"result\":{}}").is_err());
    }

    #[test]
    fn single_line_removes_line_breaks_and_keeps_everything_else() {
        let text = b"{\r\n  \"b\": \"two words\\\" \\n\",\n  \"a\": [1, 2.50]\n}\n";
        assert_eq!(
            single_line(text).as_ref(),
            b"{  \"b\": \"two words\\\" \\n\",  \"a\": [1, 2.50]}"
        );
        assert!(matches!(single_line(b"{\"a\":1}"), Cow::Borrowed(_)));
    }
}
