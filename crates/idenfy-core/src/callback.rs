//! Result callbacks: checking the `Idenfy-Signature` of a callback iDenfy `POST`s to your
//! endpoint, and reading its body as a [`ResultCallback`] only once the signature holds.
//!
//! iDenfy signs each callback with the hex HMAC-SHA256 of the raw request body, in the
//! `Idenfy-Signature` header. The key is the webhook's **signing key**, set in the vendor's
//! dashboard (Settings → Notifications → the notification's headers); older accounts, and the
//! vendor's 2021 pages, sign with the **API secret** instead. Both are a [`SigningKey`].
//! [`verify_and_parse`] computes the same digest over the bytes you received and compares it in
//! constant time; nothing in the body is parsed (or should be logged) before that.
//!
//! To rotate a signing key, verify with the old and the new one at once
//! ([`CallbackVerifier::with_key`]): either verifies, and [`KeyMatch`] says which (by its
//! position, never the key), so you can tell when the old key has stopped being used.
//!
//! ```
//! use idenfy_core::callback::{CallbackSecret, sign, verify_and_parse};
//!
//! let secret = CallbackSecret::new("my-api-secret")?;
//! let body = br#"{"scanRef": "5f3c2a1e", "final": true, "status": {"overall": "APPROVED"}}"#;
//! let signature = sign(&secret, body); // what iDenfy puts in `Idenfy-Signature`
//!
//! let callback = verify_and_parse(&secret, Some(signature.as_str()), body)?;
//! assert_eq!(callback.scan_ref.as_deref(), Some("5f3c2a1e"));
//!
//! // One changed byte, and the body is refused before it is read.
//! let tampered = br#"{"scanRef": "5f3c2a1f", "final": true, "status": {"overall": "APPROVED"}}"#;
//! assert!(verify_and_parse(&secret, Some(signature.as_str()), tampered).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the signature does not protect against
//!
//! - **Replays.** The signature covers the body only: there is no timestamp or nonce, so a
//!   callback captured once verifies forever. Treat delivery as at-least-once and make handling
//!   idempotent: deduplicate on `scanRef` together with `final` (a preliminary automatic result,
//!   `final: false`, may be followed by the final one for the same `scanRef`), and never let an
//!   older result overwrite a newer one.
//! - **Disclosure.** The body travels as sent: use HTTPS for the endpoint.
//! - **A leaked key.** Whoever holds the signing key can sign callbacks; whoever holds the API
//!   secret can also call the API, which is one more reason to give each webhook its own key.
//! - **The event type.** `Idenfy-Event-Type` is a header, and the signature covers the body
//!   only: a replayer can change it. Route on it, but decide on what the signed body says
//!   (`final`, the status).
//!
//! # Answer quickly
//!
//! The endpoint must answer `200`, and soon: any other answer makes iDenfy show the client a
//! failed identification. Verify, store the body or queue the work, answer `200`, and do the
//! slow work (downloads, reviews) afterwards. Answer `401` to a callback that fails
//! verification, and never act on it.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use idenfy_models::{EventType, ResultCallback};
use sha2::Sha256;

use crate::credentials::{Credentials, CredentialsError, check_characters};
use crate::error::describe_serde_error;

/// The header that carries a callback's signature.
pub const SIGNATURE_HEADER: &str = "Idenfy-Signature";
/// The header that names a webhook's kind ([`EventType`]), as the models define it.
pub const EVENT_TYPE_HEADER: &str = EventType::HEADER_NAME;
/// The longest `Idenfy-Event-Type` value read. The vendor's longest is 30 characters; a longer
/// value is no event type, and is refused rather than kept.
pub const MAX_EVENT_TYPE_LEN: usize = 64;

/// The largest callback body read by default: 1 MiB. The documented callback, with every data
/// field at its maximum length and several AML results, is far smaller.
pub const DEFAULT_MAX_CALLBACK_BYTES: usize = 1024 * 1024;

/// Hex digits of a SHA-256 digest.
const SIGNATURE_HEX_LEN: usize = 64;

type HmacSha256 = Hmac<Sha256>;

/// The key that signs a webhook's callbacks: the webhook's signing key, set in the vendor's
/// dashboard; older accounts sign with the API secret. `Debug` never shows it, and there is no
/// `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackSecret(String);

/// The key that signs a webhook's callbacks: the webhook's signing key, set in the vendor's
/// dashboard; older accounts sign with the API secret (the same type, under the name the
/// vendor's dashboard uses).
pub type SigningKey = CallbackSecret;

impl CallbackSecret {
    /// Checks and stores a signing key (or, for an older account, the API secret).
    ///
    /// # Errors
    /// [`CredentialsError::EmptySecret`] for an empty secret, and
    /// [`CredentialsError::InvalidCharacter`] for one with whitespace or a control character
    /// (most often a trailing newline), which iDenfy's keys and secrets never have.
    pub fn new(secret: impl Into<String>) -> Result<Self, CredentialsError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(CredentialsError::EmptySecret);
        }
        check_characters("secret", &secret)?;
        Ok(Self(secret))
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length: this cannot fail.
        <HmacSha256 as KeyInit>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()))
    }
}

impl From<&Credentials> for CallbackSecret {
    /// The secret of checked credentials: the same secret signs the callbacks.
    fn from(credentials: &Credentials) -> Self {
        Self(credentials.expose_secret().to_owned())
    }
}

impl fmt::Debug for CallbackSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackSecret(<redacted>)")
    }
}

/// Why a callback was refused. The messages say which check failed; they never contain the
/// body, the secret or the digest the signature should have been.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The request has no `Idenfy-Signature` header.
    #[error("the callback has no Idenfy-Signature header: it is not signed")]
    MissingSignature,
    /// The header is not one hex SHA-256 digest.
    #[error("the Idenfy-Signature header is not a hex HMAC-SHA256 digest: {0}")]
    MalformedSignature(SignatureFormatError),
    /// The signature is well formed but matches the body under none of the keys: the body was
    /// changed, or it was signed with another key (the webhook's signing key where the API
    /// secret was tried, or the other way round).
    #[error(
        "the Idenfy-Signature does not match the body: the body was altered, or it was signed with another key (the webhook's signing key, or for older accounts the API secret)"
    )]
    SignatureMismatch,
    /// The `Idenfy-Event-Type` header is there but is not one event type.
    #[error("the Idenfy-Event-Type header is not an event type: {0}")]
    MalformedEventType(EventTypeFormatError),
    /// The body is larger than the limit, and was not read.
    #[error("the callback body is {size} bytes, over the limit of {limit}")]
    BodyTooLarge {
        /// The body's size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The signature holds but the body is not the callback's JSON.
    #[error(
        "the callback is signed but its body is not the callback's JSON: {reason} at `{path}` (line {line}, column {column})"
    )]
    InvalidPayload {
        /// Where in the JSON reading failed, like `status.overall` (`.` for the root).
        path: String,
        /// What went wrong, without any value from the body.
        reason: String,
        /// Line of the failure (1-based; 0 when unknown).
        line: usize,
        /// Column of the failure (1-based; 0 when unknown).
        column: usize,
    },
}

/// What is wrong with the form of an `Idenfy-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureFormatError {
    /// The header is empty (or only white space).
    #[error("the header is empty")]
    Empty,
    /// A character that is not a hex digit.
    #[error("it has a character that is not a hex digit at position {position}")]
    NotHex {
        /// Byte offset of the first such character, after leading white space.
        position: usize,
    },
    /// Hex, but not the 64 digits of a SHA-256 digest.
    #[error("it has {digits} hex digits instead of 64")]
    WrongLength {
        /// How many digits it has.
        digits: usize,
    },
    /// The request carries the header more than once.
    #[error("the request carries it {count} times")]
    Repeated {
        /// How many times.
        count: usize,
    },
}

/// What is wrong with an `Idenfy-Event-Type` header. No variant quotes the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventTypeFormatError {
    /// The header is empty (or only white space).
    #[error("the header is empty")]
    Empty,
    /// Something other than upper-case ASCII letters, digits and `_`, the form of every event
    /// type the vendor documents.
    #[error("it is not upper-case letters, digits and `_`")]
    NotAName,
    /// Longer than [`MAX_EVENT_TYPE_LEN`].
    #[error("it is {len} characters long, over {MAX_EVENT_TYPE_LEN}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// The request carries the header more than once.
    #[error("the request carries it {count} times")]
    Repeated {
        /// How many times.
        count: usize,
    },
}

/// Which key verified a callback: its position among the verifier's keys, `0` for the one it
/// was made with ([`CallbackVerifier::new`]) and then in the order of
/// [`CallbackVerifier::with_key`]. Never the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyMatch {
    /// The position of the key that matched.
    pub index: usize,
}

/// A callback whose signature holds, read by [`CallbackVerifier::verify_request`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedCallback {
    /// The body, read as the callback.
    pub callback: ResultCallback,
    /// The `Idenfy-Event-Type` header, typed; `None` when the request has none (the 2021
    /// callbacks had none). Not covered by the signature: see the module's documentation.
    pub event_type: Option<EventType>,
    /// Which key verified it.
    pub key: KeyMatch,
}

/// Checks callbacks with one or several keys and a body limit.
///
/// ```
/// use idenfy_core::callback::{CallbackVerifier, SigningKey, sign};
///
/// let old = SigningKey::new("old-signing-key")?;
/// let new = SigningKey::new("new-signing-key")?;
/// // During a rotation both verify; the match says which one did.
/// let verifier = CallbackVerifier::new(new.clone()).with_key(old.clone());
/// let body = br#"{"scanRef": "5f3c2a1e", "final": true}"#;
/// assert_eq!(verifier.verify(Some(sign(&new, body)), body)?.index, 0);
/// assert_eq!(verifier.verify(Some(sign(&old, body)), body)?.index, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CallbackVerifier {
    /// Never empty: [`CallbackVerifier::new`] takes the first.
    keys: Vec<CallbackSecret>,
    max_body_bytes: usize,
}

impl CallbackVerifier {
    /// A verifier with one key and the [`DEFAULT_MAX_CALLBACK_BYTES`] limit.
    pub fn new(key: CallbackSecret) -> Self {
        Self {
            keys: vec![key],
            max_body_bytes: DEFAULT_MAX_CALLBACK_BYTES,
        }
    }

    /// Also accepts callbacks signed with `key` (the old or the new key of a rotation); it
    /// matches as the next position ([`KeyMatch::index`]).
    pub fn with_key(mut self, key: CallbackSecret) -> Self {
        self.keys.push(key);
        self
    }

    /// How many keys the verifier tries.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Refuses bodies larger than `limit` bytes, before computing anything over them.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Checks the signature of `body` against each key; reads nothing in it. The key that
    /// matched is in the answer.
    ///
    /// # Errors
    /// Every [`CallbackError`] but [`CallbackError::InvalidPayload`] and
    /// [`CallbackError::MalformedEventType`].
    pub fn verify<S: AsRef<[u8]>>(
        &self,
        signature_header: Option<S>,
        body: &[u8],
    ) -> Result<KeyMatch, CallbackError> {
        if body.len() > self.max_body_bytes {
            return Err(CallbackError::BodyTooLarge {
                size: body.len(),
                limit: self.max_body_bytes,
            });
        }
        let header = signature_header.ok_or(CallbackError::MissingSignature)?;
        let digest = parse_signature(header.as_ref()).map_err(CallbackError::MalformedSignature)?;
        // Every key is tried, and each comparison is in constant time: how much of a digest
        // matches, and which key it was, must not show in the time taken.
        let mut matched = None;
        for (index, key) in self.keys.iter().enumerate() {
            let mut mac = key.mac();
            mac.update(body);
            if mac.verify_slice(&digest).is_ok() && matched.is_none() {
                matched = Some(KeyMatch { index });
            }
        }
        matched.ok_or(CallbackError::SignatureMismatch)
    }

    /// Checks the signature of `body`, then reads it as a [`ResultCallback`].
    ///
    /// # Errors
    /// [`CallbackError`], saying which check failed.
    pub fn verify_and_parse<S: AsRef<[u8]>>(
        &self,
        signature_header: Option<S>,
        body: &[u8],
    ) -> Result<ResultCallback, CallbackError> {
        self.verify(signature_header, body)?;
        parse_verified(body)
    }

    /// Reads the `Idenfy-Signature` header of `request` itself, checks and reads its body, and
    /// then reads its `Idenfy-Event-Type` header.
    ///
    /// # Errors
    /// [`CallbackError`]; a header given twice is [`SignatureFormatError::Repeated`] or
    /// [`EventTypeFormatError::Repeated`].
    pub fn verify_request<B: AsRef<[u8]>>(
        &self,
        request: &http::Request<B>,
    ) -> Result<VerifiedCallback, CallbackError> {
        self.verify_parts(request.headers(), request.body().as_ref())
    }

    /// [`verify_request`](Self::verify_request) for a request already taken apart, as web
    /// frameworks hand it over: its headers and its raw body.
    ///
    /// # Errors
    /// As [`verify_request`](Self::verify_request).
    pub fn verify_parts(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<VerifiedCallback, CallbackError> {
        let (signature, count) = single_header(headers, SIGNATURE_HEADER);
        if count > 1 {
            return Err(CallbackError::MalformedSignature(
                SignatureFormatError::Repeated { count },
            ));
        }
        let key = self.verify(signature, body)?;
        let callback = parse_verified(body)?;
        // Read only once the body is known to be iDenfy's: nothing of an unsigned request is
        // looked at.
        let event_type = event_type_of(headers).map_err(CallbackError::MalformedEventType)?;
        Ok(VerifiedCallback {
            callback,
            event_type,
            key,
        })
    }

    /// The signature iDenfy would send with `body`, under the verifier's first key.
    pub fn sign(&self, body: &[u8]) -> String {
        sign(&self.keys[0], body)
    }
}

/// Checks the signature of `body` with `secret` (and the default body limit), then reads it as a
/// [`ResultCallback`]. `signature_header` is the value of the `Idenfy-Signature` header, `None`
/// when the request has none; surrounding white space and either case of hex are accepted.
///
/// # Errors
/// [`CallbackError`], saying which check failed.
pub fn verify_and_parse<S: AsRef<[u8]>>(
    secret: &CallbackSecret,
    signature_header: Option<S>,
    body: &[u8],
) -> Result<ResultCallback, CallbackError> {
    CallbackVerifier::new(secret.clone()).verify_and_parse(signature_header, body)
}

/// [`verify_and_parse`] for an `http::Request`, reading its `Idenfy-Signature` header, and
/// its `Idenfy-Event-Type` once the signature holds.
///
/// # Errors
/// [`CallbackError`], saying which check failed.
pub fn verify_request<B: AsRef<[u8]>>(
    key: &CallbackSecret,
    request: &http::Request<B>,
) -> Result<VerifiedCallback, CallbackError> {
    CallbackVerifier::new(key.clone()).verify_request(request)
}

/// The first value of header `name`, and how many times it is there.
fn single_header<'a>(
    headers: &'a http::HeaderMap,
    name: &str,
) -> (Option<&'a http::HeaderValue>, usize) {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    (first, usize::from(first.is_some()) + values.count())
}

/// The `Idenfy-Event-Type` of a request: `None` without the header.
///
/// # Errors
/// [`EventTypeFormatError`] for a header that is empty, repeated, too long, or not a name.
pub fn event_type_of(headers: &http::HeaderMap) -> Result<Option<EventType>, EventTypeFormatError> {
    let (value, count) = single_header(headers, EVENT_TYPE_HEADER);
    if count > 1 {
        return Err(EventTypeFormatError::Repeated { count });
    }
    value
        .map(|value| parse_event_type(value.as_bytes()))
        .transpose()
}

/// An `Idenfy-Event-Type` value, typed; surrounding white space is ignored.
///
/// # Errors
/// [`EventTypeFormatError`] for a value that is empty, too long, or not upper-case letters,
/// digits and `_`.
pub fn parse_event_type(value: &[u8]) -> Result<EventType, EventTypeFormatError> {
    let text = value.trim_ascii();
    if text.is_empty() {
        return Err(EventTypeFormatError::Empty);
    }
    if text.len() > MAX_EVENT_TYPE_LEN {
        return Err(EventTypeFormatError::TooLong { len: text.len() });
    }
    if !text
        .iter()
        .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || *byte == b'_')
    {
        return Err(EventTypeFormatError::NotAName);
    }
    // Only ASCII is left: the conversion cannot fail.
    Ok(EventType::from(String::from_utf8_lossy(text).into_owned()))
}

/// The `Idenfy-Signature` value for `body`: the lower-case hex HMAC-SHA256 of the bytes, keyed
/// with the secret. For tests, and for anything that sends callbacks.
pub fn sign(secret: &CallbackSecret, body: &[u8]) -> String {
    let mut mac = secret.mac();
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(SIGNATURE_HEX_LEN);
    for byte in digest.iter() {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The 32 bytes of a hex digest, with surrounding white space ignored.
fn parse_signature(header: &[u8]) -> Result<[u8; 32], SignatureFormatError> {
    let text = header.trim_ascii();
    if text.is_empty() {
        return Err(SignatureFormatError::Empty);
    }
    if let Some(position) = text.iter().position(|byte| !byte.is_ascii_hexdigit()) {
        return Err(SignatureFormatError::NotHex { position });
    }
    if text.len() != SIGNATURE_HEX_LEN {
        return Err(SignatureFormatError::WrongLength { digits: text.len() });
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(text.chunks_exact(2)) {
        *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
    }
    Ok(digest)
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// Reads a body whose signature has been checked.
fn parse_verified(body: &[u8]) -> Result<ResultCallback, CallbackError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let callback = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        invalid_payload(path, &err.into_inner())
    })?;
    // Trailing bytes after the object: not one JSON document.
    deserializer
        .end()
        .map_err(|err| invalid_payload(".".to_owned(), &err))?;
    Ok(callback)
}

fn invalid_payload(path: String, error: &serde_json::Error) -> CallbackError {
    CallbackError::InvalidPayload {
        path,
        reason: describe_serde_error(error),
        line: error.line(),
        column: error.column(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> CallbackSecret {
        CallbackSecret::new("unit-test-secret").unwrap()
    }

    #[test]
    fn a_signature_in_either_case_with_white_space_around_is_accepted() {
        let body = br#"{"scanRef": "x"}"#;
        let signature = sign(&secret(), body);
        for header in [
            signature.clone(),
            signature.to_uppercase(),
            format!("  {signature}\t"),
        ] {
            verify_and_parse(&secret(), Some(header.as_str()), body).unwrap();
        }
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        let check = |header: &str| {
            CallbackVerifier::new(secret())
                .verify(Some(header), b"{}")
                .unwrap_err()
        };
        let malformed = CallbackError::MalformedSignature;
        assert_eq!(check("   "), malformed(SignatureFormatError::Empty));
        assert_eq!(
            check(" sha256=abc"),
            malformed(SignatureFormatError::NotHex { position: 0 })
        );
        assert_eq!(
            check("abcd"),
            malformed(SignatureFormatError::WrongLength { digits: 4 })
        );
        assert_eq!(
            check(&"a".repeat(66)),
            malformed(SignatureFormatError::WrongLength { digits: 66 })
        );
    }

    #[test]
    fn a_body_over_the_limit_is_refused_before_it_is_read() {
        let verifier = CallbackVerifier::new(secret()).max_body_bytes(8);
        let body = b"{\"scanRef\": \"long\"}";
        let signature = verifier.sign(body);
        assert_eq!(
            verifier.verify(Some(&signature), body),
            Err(CallbackError::BodyTooLarge {
                size: body.len(),
                limit: 8
            })
        );
    }

    #[test]
    fn a_signed_body_that_is_not_the_callback_names_the_path_but_not_the_value() {
        let body = br#"{"status": {"overall": ["SECRET-NAME"]}}"#;
        let err = verify_and_parse(&secret(), Some(sign(&secret(), body)), body).unwrap_err();
        let CallbackError::InvalidPayload { path, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(path, "status.overall");
        assert!(!err.to_string().contains("SECRET-NAME"), "{err}");
        let body = b"{\"scanRef\": \"x\"} trailing";
        let err = verify_and_parse(&secret(), Some(sign(&secret(), body)), body).unwrap_err();
        assert!(
            matches!(err, CallbackError::InvalidPayload { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn the_request_entry_point_reads_the_header_and_refuses_it_twice() {
        let body = br#"{"scanRef": "x"}"#.to_vec();
        let signature = sign(&secret(), &body);
        let request = http::Request::post("/callback")
            .header(SIGNATURE_HEADER, &signature)
            .body(body.clone())
            .unwrap();
        let verified = verify_request(&secret(), &request).unwrap();
        assert_eq!(verified.callback.scan_ref.as_deref(), Some("x"));
        assert_eq!(verified.event_type, None);

        let unsigned = http::Request::post("/callback").body(body.clone()).unwrap();
        assert_eq!(
            verify_request(&secret(), &unsigned).unwrap_err(),
            CallbackError::MissingSignature
        );
        let twice = http::Request::post("/callback")
            .header(SIGNATURE_HEADER, &signature)
            .header("idenfy-signature", &signature)
            .body(body)
            .unwrap();
        assert_eq!(
            verify_request(&secret(), &twice).unwrap_err(),
            CallbackError::MalformedSignature(SignatureFormatError::Repeated { count: 2 })
        );
    }

    #[test]
    fn during_a_rotation_the_old_and_the_new_key_verify_and_the_match_says_which() {
        let old = SigningKey::new("old-signing-key").unwrap();
        let new = SigningKey::new("new-signing-key").unwrap();
        let api_secret = secret();
        let verifier = CallbackVerifier::new(new.clone()).with_key(old.clone());
        assert_eq!(verifier.key_count(), 2);
        let body = br#"{"scanRef": "x", "final": true}"#;
        assert_eq!(
            verifier.verify(Some(sign(&new, body)), body),
            Ok(KeyMatch { index: 0 })
        );
        assert_eq!(
            verifier.verify(Some(sign(&old, body)), body),
            Ok(KeyMatch { index: 1 })
        );
        // A body signed with the API secret is refused by a verifier of signing keys.
        assert_eq!(
            verifier.verify(Some(sign(&api_secret, body)), body),
            Err(CallbackError::SignatureMismatch)
        );
        let shown = format!("{verifier:?}");
        assert!(!shown.contains("old-signing-key") && !shown.contains("new-signing-key"));
    }

    #[test]
    fn the_event_type_is_read_typed_once_the_signature_holds() {
        let body = br#"{"scanRef": "x", "final": false}"#.to_vec();
        let signed = |event: &str| {
            http::Request::post("/callback")
                .header(SIGNATURE_HEADER, sign(&secret(), &body))
                .header(EVENT_TYPE_HEADER, event)
                .body(body.clone())
                .unwrap()
        };
        let verified = verify_request(&secret(), &signed("IDENTIFICATION_AUTO_FINISHED")).unwrap();
        assert_eq!(
            verified.event_type,
            Some(EventType::IdentificationAutoFinished)
        );
        assert_eq!(verified.key, KeyMatch { index: 0 });
        let unknown = verify_request(&secret(), &signed("ID_VERIFICATION_PAUSED")).unwrap();
        assert_eq!(
            unknown.event_type,
            Some(EventType::Unknown("ID_VERIFICATION_PAUSED".into()))
        );
        for (bad, expected) in [
            ("  ", EventTypeFormatError::Empty),
            ("identification", EventTypeFormatError::NotAName),
            ("A-B", EventTypeFormatError::NotAName),
        ] {
            assert_eq!(
                verify_request(&secret(), &signed(bad)).unwrap_err(),
                CallbackError::MalformedEventType(expected)
            );
        }
        let long = "A".repeat(MAX_EVENT_TYPE_LEN + 1);
        assert!(matches!(
            verify_request(&secret(), &signed(&long)).unwrap_err(),
            CallbackError::MalformedEventType(EventTypeFormatError::TooLong { .. })
        ));
        // A bad header on an unsigned request: the signature is what fails, first.
        let unsigned = http::Request::post("/callback")
            .header(EVENT_TYPE_HEADER, "not an event")
            .body(body.clone())
            .unwrap();
        assert_eq!(
            verify_request(&secret(), &unsigned).unwrap_err(),
            CallbackError::MissingSignature
        );
        let twice = http::Request::post("/callback")
            .header(SIGNATURE_HEADER, sign(&secret(), &body))
            .header(EVENT_TYPE_HEADER, "IDENTIFICATION")
            .header(EVENT_TYPE_HEADER, "IDENTIFICATION")
            .body(body)
            .unwrap();
        assert_eq!(
            verify_request(&secret(), &twice).unwrap_err(),
            CallbackError::MalformedEventType(EventTypeFormatError::Repeated { count: 2 })
        );
    }

    #[test]
    fn errors_and_debug_never_show_the_secret_or_the_expected_digest() {
        let body = br#"{"scanRef": "x"}"#;
        let expected = sign(&secret(), body);
        let wrong = "0".repeat(64);
        let err = verify_and_parse(&secret(), Some(wrong.as_str()), body).unwrap_err();
        for text in [
            err.to_string(),
            format!("{err:?}"),
            format!("{:?}", secret()),
        ] {
            assert!(!text.contains("unit-test-secret"), "{text}");
            assert!(!text.contains(&expected), "{text}");
        }
        let credentials = Credentials::new("key", "unit-test-secret").unwrap();
        assert_eq!(CallbackSecret::from(&credentials), secret());
        assert_eq!(CallbackSecret::new(""), Err(CredentialsError::EmptySecret));
    }
}
