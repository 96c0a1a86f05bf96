//! Presigned download URLs: `/files/<scanRef>/<NAME>?expires=UNIX&signature=HEX`,
//! where the signature is HMAC-SHA256 over the path and the expiry, keyed
//! with random bytes drawn when the sandbox starts.
//!
//! A URL is therefore valid only for the sandbox that issued it, only until
//! it expires, and only unchanged: any edit to the path or the expiry breaks
//! the signature.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use idenfy_core::callback::{CallbackError, CallbackSecret, CallbackVerifier};

/// The refusal of a URL whose `expires` or `signature` is missing or unreadable.
const MALFORMED: &str = "Download URL lacks a valid expiry or signature.";

/// Signs and checks download URLs with idenfy-core's HMAC-SHA256 signatures (the ones iDenfy
/// puts on callbacks): the same hex digest, compared in constant time, keyed here with random
/// bytes instead of an API secret.
pub(crate) struct UrlSigner {
    verifier: CallbackVerifier,
}

impl UrlSigner {
    /// A signer with a fresh random key.
    pub(crate) fn random() -> Result<Self, String> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| e.to_string())?;
        // A secret is text: the key's bytes in base64, which has no white space.
        let secret = CallbackSecret::new(base64::engine::general_purpose::STANDARD.encode(key))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            verifier: CallbackVerifier::new(secret),
        })
    }

    /// What is signed: the path and the expiry, on two lines.
    fn message(path: &str, expires: u64) -> Vec<u8> {
        format!("{path}\n{expires}").into_bytes()
    }

    /// The query string (without `?`) that makes `path` downloadable for `ttl`.
    pub(crate) fn query_for(&self, path: &str, ttl: Duration) -> String {
        let expires = unix_now().saturating_add(ttl.as_secs());
        let signature = self.verifier.sign(&Self::message(path, expires));
        format!("expires={expires}&signature={signature}")
    }

    /// Checks the query string of a download request for `path`; the refusal is the message of
    /// the 403 body.
    pub(crate) fn check(&self, path: &str, query: Option<&str>) -> Result<(), &'static str> {
        let mut expires = None;
        let mut signature = None;
        for pair in query.unwrap_or_default().split('&') {
            match pair.split_once('=') {
                Some(("expires", value)) => expires = value.parse::<u64>().ok(),
                Some(("signature", value)) => signature = Some(value),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(MALFORMED);
        };
        match self
            .verifier
            .verify(Some(signature), &Self::message(path, expires))
        {
            Err(CallbackError::SignatureMismatch) => Err("Download URL signature does not match."),
            Err(_) => Err(MALFORMED),
            Ok(_) if unix_now() >= expires => Err("Download URL has expired."),
            Ok(_) => Ok(()),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
