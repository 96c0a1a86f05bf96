//! Callback verification against a digest computed outside this crate.
//!
//! The expected signature was computed with OpenSSL and checked with Python's `hmac`:
//!
//! ```sh
//! printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'test-callback-secret'
//! python3 -c 'import hmac, hashlib, sys; print(hmac.new(b"test-callback-secret", sys.stdin.buffer.read(), hashlib.sha256).hexdigest())'
//! ```

use idenfy_core::callback::{
    CallbackError, CallbackSecret, SignatureFormatError, sign, verify_and_parse,
};
use idenfy_core::models::OverallStatus;

const SECRET: &str = "test-callback-secret";
const BODY: &[u8] =
    br#"{"scanRef":"fixed-digest-ref","status":{"overall":"APPROVED"},"final":true}"#;
const SIGNATURE: &str = "41932aa0f2aa3b8a71387da1b7dfd3f42f2495483415e37f901d57b2ba236323";

fn secret() -> CallbackSecret {
    CallbackSecret::new(SECRET).unwrap()
}

#[test]
fn the_externally_computed_signature_is_accepted() {
    assert_eq!(sign(&secret(), BODY), SIGNATURE);
    let callback = verify_and_parse(&secret(), Some(SIGNATURE), BODY).unwrap();
    assert_eq!(callback.scan_ref.as_deref(), Some("fixed-digest-ref"));
    assert_eq!(callback.final_, Some(true));
    assert_eq!(
        callback.status.unwrap().overall,
        Some(OverallStatus::Approved)
    );
}

#[test]
fn one_changed_body_byte_is_a_mismatch() {
    let mut body = BODY.to_vec();
    let at = body.iter().position(|&b| b == b'f').unwrap();
    body[at] = b'g';
    assert_eq!(
        verify_and_parse(&secret(), Some(SIGNATURE), &body).unwrap_err(),
        CallbackError::SignatureMismatch
    );
}

#[test]
fn one_changed_signature_digit_is_a_mismatch() {
    let mut signature = SIGNATURE.to_owned();
    signature.replace_range(10..11, "0");
    assert_ne!(signature, SIGNATURE);
    assert_eq!(
        verify_and_parse(&secret(), Some(signature.as_str()), BODY).unwrap_err(),
        CallbackError::SignatureMismatch
    );
}

#[test]
fn another_secret_is_a_mismatch() {
    let other = CallbackSecret::new("another-secret").unwrap();
    assert_eq!(
        verify_and_parse(&other, Some(SIGNATURE), BODY).unwrap_err(),
        CallbackError::SignatureMismatch
    );
}

#[test]
fn an_empty_header_is_malformed() {
    assert_eq!(
        verify_and_parse(&secret(), Some(""), BODY).unwrap_err(),
        CallbackError::MalformedSignature(SignatureFormatError::Empty)
    );
}

#[test]
fn a_non_hex_header_is_malformed() {
    let header = format!("sha256={SIGNATURE}");
    assert_eq!(
        verify_and_parse(&secret(), Some(header.as_str()), BODY).unwrap_err(),
        CallbackError::MalformedSignature(SignatureFormatError::NotHex { position: 0 })
    );
}

#[test]
fn a_missing_header_is_refused() {
    assert_eq!(
        verify_and_parse(&secret(), None::<&str>, BODY).unwrap_err(),
        CallbackError::MissingSignature
    );
}
