//! One lookup of any endpoint, keeping the body as the API sent it next to the typed value.

use bytes::Bytes;
use idenfy_hyper::core::{Endpoint, Lookup};
use idenfy_hyper::models::{FileUrls, FullStatus, IdentificationData, IdentificationStatus};
use idenfy_hyper::{Client, Error, ScanRef};

/// The typed value of a lookup, whichever endpoint it came from.
pub enum Typed {
    Status(IdentificationStatus),
    Data(Box<IdentificationData>),
    Files(FileUrls),
    FullStatus(Box<FullStatus>),
}

/// A successful lookup.
pub struct Fetched {
    pub typed: Typed,
    /// The body as sent, for the `json` and `jsonl` formats.
    pub body: Bytes,
    /// How many attempts it took (more than one: it was retried).
    pub attempts: u32,
}

/// Looks `scan_ref` up at `endpoint`.
pub async fn fetch(
    client: &Client,
    endpoint: Endpoint,
    scan_ref: &ScanRef,
) -> Result<Fetched, Error> {
    fn fetched<R>(lookup: Lookup<R>, wrap: impl FnOnce(R) -> Typed) -> Fetched {
        Fetched {
            typed: wrap(lookup.value),
            body: lookup.body,
            attempts: lookup.attempts,
        }
    }
    let core = client.core();
    Ok(match endpoint {
        Endpoint::Status => fetched(core.lookup_with_body(scan_ref).await?, Typed::Status),
        Endpoint::Data => fetched(core.lookup_with_body(scan_ref).await?, |data| {
            Typed::Data(Box::new(data))
        }),
        Endpoint::Files => fetched(core.lookup_with_body(scan_ref).await?, Typed::Files),
        _ => fetched(core.lookup_with_body(scan_ref).await?, |full| {
            Typed::FullStatus(Box::new(full))
        }),
    })
}

/// The JSON text on one line: white space outside strings removed, everything else (key order,
/// number formats, escapes) exactly as sent. `text` must be valid JSON, which it is once the
/// lookup has decoded it.
pub fn single_line(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            out.push(byte);
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
            if byte == b'"' {
                in_string = true;
            }
            out.push(byte);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::single_line;

    #[test]
    fn single_line_keeps_strings_and_order_and_drops_layout() {
        let text = b"{\n  \"b\": \"two words\\\" \\n\",\n  \"a\": [1, 2.50]\n}\n";
        assert_eq!(
            single_line(text),
            b"{\"b\":\"two words\\\" \\n\",\"a\":[1,2.50]}".to_vec()
        );
    }
}
