//! HTTP Basic authentication, compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// The credentials the sandbox accepts. The secret is kept only as a
/// digest, so it cannot leak through a log line.
pub struct Credentials {
    key_digest: [u8; 32],
    secret_digest: [u8; 32],
}

impl Credentials {
    /// Credentials for `key` and `secret`.
    pub fn new(key: &str, secret: &str) -> Self {
        Self {
            key_digest: digest(key.as_bytes()),
            secret_digest: digest(secret.as_bytes()),
        }
    }

    /// Whether an `Authorization` header value carries these credentials.
    ///
    /// Both sides are hashed first, so the comparison runs over 32 bytes
    /// whatever the lengths, and the key and the secret are both compared
    /// before the result is known: the time taken says nothing about how
    /// much of either matched.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some((key, secret)) = authorization.and_then(parse_basic) else {
            return false;
        };
        let key_ok = constant_time_eq(&digest(&key), &self.key_digest);
        let secret_ok = constant_time_eq(&digest(&secret), &self.secret_digest);
        key_ok & secret_ok
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(difference) == 0
}

/// Splits `Basic base64(user:password)` into its two parts.
fn parse_basic(header: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let header = std::str::from_utf8(header).ok()?.trim();
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}
