//! The JSON line written for each scanRef: `{"scanRef", "endpoint", "result"}` with the API's
//! JSON as sent, or `{"scanRef", "endpoint", "error"}`.

use idenfy_hyper::core::Endpoint;
use idenfy_hyper::{Error, ScanRef};
use serde_json::{Value, json};

use crate::failure::error_json;
use crate::fetch::single_line;

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

/// The line of a failed lookup, newline included.
pub fn failure(scan_ref: &ScanRef, endpoint: Endpoint, error: &Error) -> Vec<u8> {
    let mut line = json!({
        "scanRef": scan_ref.as_str(),
        "endpoint": endpoint.name(),
        "error": error_json(error),
    })
    .to_string()
    .into_bytes();
    line.push(b'\n');
    line
}

/// What an earlier run wrote for a scanRef.
#[derive(Debug, PartialEq, Eq)]
pub struct Written {
    pub scan_ref: String,
    pub succeeded: bool,
}

/// Reads one line of an earlier run; `None` for a line that is not one of ours.
pub fn parse(line: &str) -> Option<Written> {
    let value: Value = serde_json::from_str(line).ok()?;
    let scan_ref = value.get("scanRef")?.as_str()?.to_owned();
    let succeeded = value.get("result").is_some();
    if !succeeded && value.get("error").is_none() {
        return None;
    }
    Some(Written {
        scan_ref,
        succeeded,
    })
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
        assert_eq!(
            parse(text.trim_end()),
            Some(Written {
                scan_ref: "ref-1".into(),
                succeeded: true
            })
        );
        assert_eq!(parse("{\"scanRef\":\"x\"}"), None);
        assert_eq!(parse("{\"scanRef\":\"x\",\"resu"), None);
    }
}
