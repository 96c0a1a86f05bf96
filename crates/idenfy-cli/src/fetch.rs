//! One lookup of any endpoint, keeping the body as the API sent it next to the typed value.

use std::borrow::Cow;

use idenfy_hyper::HyperError;
use idenfy_hyper::core::{Endpoint, Lookup, LookupFailure, WellFormedJson};
use idenfy_hyper::models::{FileUrls, FullStatus, IdentificationData, IdentificationStatus};
use idenfy_hyper::{Client, Error, ScanRef};

/// The typed value of a lookup, whichever endpoint it came from.
pub enum Typed {
    Status(IdentificationStatus),
    Data(Box<IdentificationData>),
    Files(FileUrls),
    FullStatus(Box<FullStatus>),
}

/// Looks `scan_ref` up at `endpoint` and decodes the response, for the formats that show its
/// fields.
pub async fn typed(
    client: &Client,
    endpoint: Endpoint,
    scan_ref: &ScanRef,
) -> Result<Typed, Error> {
    let core = client.core();
    Ok(match endpoint {
        Endpoint::Status => Typed::Status(core.lookup(scan_ref).await?),
        Endpoint::Data => Typed::Data(Box::new(core.lookup(scan_ref).await?)),
        Endpoint::Files => Typed::Files(core.lookup(scan_ref).await?),
        _ => Typed::FullStatus(Box::new(core.lookup(scan_ref).await?)),
    })
}

/// Looks `scan_ref` up at `endpoint` and keeps the body as sent, for the formats that pass the
/// API's JSON on: a response whose shape departs from the docs is kept, not lost. Either way,
/// with the number of attempts it took.
pub async fn raw(
    client: &Client,
    endpoint: Endpoint,
    scan_ref: &ScanRef,
) -> Result<Lookup<WellFormedJson>, LookupFailure<HyperError>> {
    client.core().lookup_raw(endpoint, scan_ref).await
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
    use std::borrow::Cow;

    use super::single_line;

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
