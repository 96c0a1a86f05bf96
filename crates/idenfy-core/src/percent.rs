//! Percent-encoding, as URLs and forms carry text.

/// `text` with every byte but the RFC 3986 unreserved characters (ASCII letters and digits,
/// `-`, `.`, `_`, `~`) written as `%XX` (upper-case hex): safe as one URL path segment or as a
/// form value, whatever the text holds.
///
/// The one encoding of the workspace: the client masks a secret that a server echoes in this
/// form, and the sandbox puts scanRefs into its download paths with it.
///
/// ```
/// assert_eq!(idenfy_core::percent_encode("a b/ą~"), "a%20b%2F%C4%85~");
/// ```
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_bytes_stay_as_they_are() {
        let unreserved = "AZaz09-._~";
        assert_eq!(percent_encode(unreserved), unreserved);
        for byte in 0u8..=127 {
            let text = char::from(byte).to_string();
            let encoded = percent_encode(&text);
            if unreserved.contains(&text) || byte.is_ascii_alphanumeric() {
                assert_eq!(encoded, text);
            } else {
                assert_eq!(encoded, format!("%{byte:02X}"), "{byte}");
            }
        }
        assert_eq!(percent_encode("s3cr+t/v=lue"), "s3cr%2Bt%2Fv%3Dlue");
    }
}
