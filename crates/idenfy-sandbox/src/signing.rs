//! Presigned download URLs: `/files/<scanRef>/<NAME>?expires=UNIX&signature=HEX`,
//! where the signature is HMAC-SHA256 over the path and the expiry, keyed
//! with random bytes drawn when the sandbox starts.
//!
//! A URL is therefore valid only for the sandbox that issued it, only until
//! it expires, and only unchanged: any edit to the path or the expiry breaks
//! the signature.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks download URLs.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner { .. }")
    }
}

/// Why a download URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `expires` or `signature` is missing or unreadable.
    Malformed,
    /// The signature does not match the path and expiry.
    BadSignature,
    /// The signature matches, but the expiry has passed.
    Expired,
}

impl Refusal {
    /// A message for the 403 body.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Malformed => "Download URL lacks a valid expiry or signature.",
            Refusal::BadSignature => "Download URL signature does not match.",
            Refusal::Expired => "Download URL has expired.",
        }
    }
}

impl UrlSigner {
    /// A signer with a fresh random key.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(Self { key })
    }

    fn mac(&self, path: &str, expires: u64) -> HmacSha256 {
        // A 32-byte key is always accepted by HMAC; the fallback is unreachable.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The query string (without `?`) that makes `path` downloadable for `ttl`.
    pub fn query_for(&self, path: &str, ttl: Duration) -> String {
        let expires = unix_now().saturating_add(ttl.as_secs());
        let signature = self.mac(path, expires).finalize().into_bytes();
        format!("expires={expires}&signature={}", hex(&signature))
    }

    /// Checks the query string of a download request for `path`.
    pub fn check(&self, path: &str, query: Option<&str>) -> Result<(), Refusal> {
        let mut expires = None;
        let mut signature = None;
        for pair in query.unwrap_or_default().split('&') {
            match pair.split_once('=') {
                Some(("expires", value)) => expires = value.parse::<u64>().ok(),
                Some(("signature", value)) => signature = unhex(value),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(Refusal::Malformed);
        };
        // verify_slice compares in constant time.
        self.mac(path, expires)
            .verify_slice(&signature)
            .map_err(|_| Refusal::BadSignature)?;
        if unix_now() >= expires {
            return Err(Refusal::Expired);
        }
        Ok(())
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_query_verifies_and_edits_do_not() {
        let signer = UrlSigner::random().unwrap();
        let path = "/files/abc/FRONT.png";
        let query = signer.query_for(path, Duration::from_secs(60));
        assert_eq!(signer.check(path, Some(&query)), Ok(()));
        assert_eq!(
            signer.check("/files/abc/BACK.png", Some(&query)),
            Err(Refusal::BadSignature)
        );
        let bumped = query.replacen("expires=", "expires=1", 1);
        assert_eq!(
            signer.check(path, Some(&bumped)),
            Err(Refusal::BadSignature)
        );
        assert_eq!(signer.check(path, None), Err(Refusal::Malformed));
        assert_eq!(
            signer.check(path, Some("expires=1&signature=zz")),
            Err(Refusal::Malformed)
        );

        let other = UrlSigner::random().unwrap();
        assert_eq!(other.check(path, Some(&query)), Err(Refusal::BadSignature));
    }

    #[test]
    fn zero_ttl_is_already_expired() {
        let signer = UrlSigner::random().unwrap();
        let query = signer.query_for("/p", Duration::ZERO);
        assert_eq!(signer.check("/p", Some(&query)), Err(Refusal::Expired));
    }
}
