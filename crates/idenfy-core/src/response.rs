//! Turning an `http::Response` into a typed value or a typed error, with no IO: the body's
//! cap, its decoding into a model, the check that it is well-formed JSON with no key twice
//! ([`WellFormedJson`]), the API's error body, and the `Retry-After` the response carries.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};

use crate::credential_mask::CredentialMask;
use crate::error::{ApiError, BodyTooLarge, DecodeError, Error, UnexpectedResponse};
use crate::error_page::excerpt;
use crate::models::ApiError as ApiErrorBody;
use crate::{Endpoint, EndpointResponse};

/// The default response body limit: 4 MiB, far above any real lookup response
/// (a full status is a few KiB) yet small enough to bound memory per call.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Parses a lookup response into its model, or a typed error.
///
/// `T` picks the endpoint ([`EndpointResponse`]). Bodies over `max_body_bytes`
/// (or declaring more in `Content-Length`) are refused before decoding.
///
/// ```
/// use idenfy_core::{parse_response, Error, models::IdentificationStatus};
/// let response = http::Response::builder()
///     .status(401)
///     .header("content-type", "application/json")
///     .body(r#"{"identifier":"UNAUTHORIZED","message":"Bad key"}"#)?;
/// let error = parse_response::<IdentificationStatus, _>(response, 1024).unwrap_err();
/// assert!(matches!(error, Error::Api(ref api) if api.status == 401));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_response<T, B>(response: Response<B>, max_body_bytes: usize) -> Result<T, Error>
where
    T: EndpointResponse,
    B: AsRef<[u8]>,
{
    let retry_after = retry_after_of(&response);
    // Without the credentials nothing can be masked here: the client masks its own.
    parse_response_for(
        T::ENDPOINT,
        response,
        max_body_bytes,
        retry_after,
        &CredentialMask::NONE,
    )
}

/// [`parse_response`] for `endpoint`, with the response's `Retry-After` already read
/// (the client reads it once, for its retry decision and for the error), and the server's
/// strings in an API error masked with `mask`.
pub(crate) fn parse_response_for<T, B>(
    endpoint: Endpoint,
    response: Response<B>,
    max_body_bytes: usize,
    retry_after: Option<Duration>,
    mask: &CredentialMask,
) -> Result<T, Error>
where
    T: serde::de::DeserializeOwned + 'static,
    B: AsRef<[u8]>,
{
    let status = response.status();
    check_size(&response, max_body_bytes)?;
    let body = response.body().as_ref();

    if status.is_success() {
        return match decode(body) {
            Ok(value) => Ok(value),
            // A success status with a body that is not JSON at all was not
            // written by the API (a captive portal, a misconfigured proxy).
            Err(_) if !looks_like_json(body) => Err(unexpected(&response, body).into()),
            Err((path, error)) => {
                Err(
                    DecodeError::new(endpoint, status, path, error, Bytes::copy_from_slice(body))
                        .into(),
                )
            }
        };
    }

    Err(failure_of(&response, retry_after, mask))
}

/// Refuses a body over `max_body_bytes`, or one whose `Content-Length` declares more.
pub(crate) fn check_size<B: AsRef<[u8]>>(
    response: &Response<B>,
    max_body_bytes: usize,
) -> Result<(), Error> {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if response.body().as_ref().len() > max_body_bytes
        || declared.is_some_and(|declared| declared > max_body_bytes as u64)
    {
        return Err(BodyTooLarge::new(max_body_bytes, declared, Some(response.status())).into());
    }
    Ok(())
}

/// The error a response that is not a success stands for: the API's own error when the body
/// is its JSON error, otherwise an unexpected response. The server's strings are masked with
/// `mask` before they are cut, so that a cut cannot split an echoed credential into pieces the
/// mask no longer recognises.
pub(crate) fn failure_of<B: AsRef<[u8]>>(
    response: &Response<B>,
    retry_after: Option<Duration>,
    mask: &CredentialMask,
) -> Error {
    let body = response.body().as_ref();
    let bounded = |text: &str| bounded(text, mask);
    match serde_json::from_slice::<ApiErrorBody>(body) {
        Ok(api) if api.identifier.is_some() || api.message.is_some() => ApiError {
            status: response.status(),
            identifier: api
                .identifier
                .map(|identifier| bounded(identifier.as_str()).into()),
            message: api.message.as_deref().map(bounded),
            documentation: api.documentation.as_deref().map(bounded),
            severity: api.severity.as_deref().map(bounded),
            retry_after,
        }
        .into(),
        _ => unexpected(response, body).into(),
    }
}

/// The longest server string an error keeps, in characters: a real message is a sentence, and
/// an error goes into audit and export lines whose length is bounded.
pub const MAX_SERVER_TEXT_CHARS: usize = 1024;

/// `text` masked, then cut to [`MAX_SERVER_TEXT_CHARS`] with `…` added when it is longer; the
/// start of a credential the cut leaves at the end is masked too.
fn bounded(text: &str, mask: &CredentialMask) -> String {
    let masked = mask.mask(text);
    match masked.char_indices().nth(MAX_SERVER_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", mask.mask(&masked[..cut])),
        None => masked.into_owned(),
    }
}

/// Decodes `body`, reporting the JSON path of a failure (`.` for the root). A body with a key
/// twice in one object is refused, as [`Client::lookup_raw`](crate::Client::lookup_raw)
/// refuses it: a model's derived fields refuse a duplicate, but the map of the keys the docs do
/// not list (`extra`, and any `serde_json::Value` in it) keeps the last one silently.
pub(crate) fn decode<T: serde::de::DeserializeOwned + 'static>(
    body: &[u8],
) -> Result<T, (String, serde_json::Error)> {
    // Tracking the path slows every decode down; pay for it only on failure. One check of the
    // whole body's UTF-8 (vectorised) lets the parses read it as text, which spares serde_json
    // its check of every string one by one: a third of a raw lookup's walk. A body that is not
    // UTF-8 fails below, where serde_json names the place.
    if let Ok(text) = std::str::from_utf8(body)
        && let Ok(value) = serde_json::from_str::<T>(text)
    {
        // A raw lookup's value is that walk itself: walking the body again would only cost a
        // bulk export the time of a second parse of every body it writes.
        if std::any::TypeId::of::<T>() == std::any::TypeId::of::<WellFormedJson>() {
            return Ok(value);
        }
        return match serde_json::from_str::<WellFormedJson>(text) {
            Ok(WellFormedJson) => Ok(value),
            Err(_) => decode_tracking_path::<WellFormedJson>(body).map(|_| value),
        };
    }
    // A derived field given twice fails as `duplicate field`: say it as for every other key.
    if let Err(duplicate) = decode_tracking_path::<WellFormedJson>(body)
        && duplicate.1.to_string().starts_with(DUPLICATE_KEY)
    {
        return Err(duplicate);
    }
    decode_tracking_path(body)
}

fn decode_tracking_path<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<T, (String, serde_json::Error)> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| (error.path().to_string(), error.into_inner()))?;
    deserializer
        .end()
        .map_err(|error| (".".to_owned(), error))?;
    Ok(value)
}

pub(crate) fn unexpected<B>(response: &Response<B>, body: &[u8]) -> UnexpectedResponse {
    UnexpectedResponse {
        status: response.status(),
        content_type: response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(100).collect()),
        // A JSON body that is not the API's error shape may be a payload
        // with personal data; show nothing of it.
        excerpt: if looks_like_json(body) {
            String::new()
        } else {
            excerpt(body)
        },
    }
}

pub(crate) fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|byte| !byte.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// The value of [`Client::lookup_raw`](crate::Client::lookup_raw): the body was checked to be a well-formed JSON object in
/// valid UTF-8, with no key twice in one object, and not decoded; it is in [`Lookup::body`](crate::Lookup::body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WellFormedJson;

impl<'de> serde::Deserialize<'de> for WellFormedJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Every lookup endpoint answers with an object; anything else is not the API's JSON.
        deserializer
            .deserialize_map(JsonWalk::new(&mut Vec::new()))
            .map(|()| WellFormedJson)
    }
}

/// Walks a JSON value without keeping it. Every string, keys included, is asked for as a
/// string, which makes the parser check its UTF-8 when it reads bytes: skipping it
/// (`IgnoredAny`) would not, and a body with invalid UTF-8 would pass as JSON and be stored raw.
/// (`decode` checks the whole body's UTF-8 at once first and walks it as text; a body that
/// fails that check is walked as bytes, which names the place.)
///
/// A key twice in one object, at any depth, is refused: readers disagree on which value wins
/// (`{"status":"DENIED","status":"APPROVED"}`), so whatever stores or forwards the body would
/// say something other than what some reader of it sees. Keys are compared decoded, so
/// `"st\u0061tus"` is `"status"`. The error names no key (a key may be personal data); the
/// parser's path names the object.
///
/// The keys seen are kept in one list for the whole body, each object's after its parent's
/// (objects are small: a list is cheaper than a set), so that a walk allocates once, not once
/// an object; a key that needs no unescaping is borrowed from the body, not copied.
pub(crate) struct JsonWalk<'keys, 'de> {
    keys: &'keys mut Vec<Cow<'de, str>>,
}

impl<'keys, 'de> JsonWalk<'keys, 'de> {
    /// A walk that keeps its keys in `keys`.
    pub(crate) fn new(keys: &'keys mut Vec<Cow<'de, str>>) -> Self {
        JsonWalk { keys }
    }

    fn nested(&mut self) -> JsonWalk<'_, 'de> {
        JsonWalk {
            keys: &mut *self.keys,
        }
    }
}

/// The message of the error for a key twice in an object: no quotes, so that the decode error
/// keeps all of it.
pub(crate) const DUPLICATE_KEY: &str = "duplicate key in an object";

impl<'de> serde::de::DeserializeSeed<'de> for JsonWalk<'_, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonWalk<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let start = self.keys.len();
        while let Some(key) = map.next_key_seed(Key)? {
            if self.keys[start..].contains(&key) {
                return Err(serde::de::Error::custom(DUPLICATE_KEY));
            }
            self.keys.push(key);
            // The value's own objects push their keys after this one's and take them away
            // when they end.
            map.next_value_seed(self.nested())?;
        }
        self.keys.truncate(start);
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.nested())?.is_some() {}
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// An object's key, decoded: borrowed from the body when it holds no escape.
struct Key;

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }

    fn visit_string<E>(self, key: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key))
    }
}

/// The `Retry-After` of a response, where the API uses it (429 and 503); the
/// one place a response's header is read, once per response.
pub(crate) fn retry_after_of<B>(response: &Response<B>) -> Option<Duration> {
    if !matches!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        return None;
    }
    parse_retry_after(response.headers().get(RETRY_AFTER)?, SystemTime::now())
}

/// Parses a `Retry-After` value: delay-seconds, or an HTTP date relative to `now`.
///
/// A date in the past means "now" (zero); an unparsable value is ignored.
pub fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::IdentificationStatus;

    #[test]
    fn server_strings_in_an_api_error_are_bounded() {
        let long = "x".repeat(70_000);
        let body = format!(
            r#"{{"identifier":"{long}","message":"{long}","documentation":"{long}","severity":"{long}"}}"#
        );
        let response = Response::builder().status(400).body(body).unwrap();
        let Err(Error::Api(api)) = parse_response::<IdentificationStatus, _>(response, 1 << 20)
        else {
            panic!("an API error");
        };
        for text in [
            api.identifier.as_ref().map(|i| i.as_str().to_owned()),
            api.message,
            api.documentation,
            api.severity,
        ] {
            let text = text.expect("kept, cut short");
            assert_eq!(text.chars().count(), MAX_SERVER_TEXT_CHARS + 1);
            assert!(text.ends_with('…'));
        }
    }

    fn decode_error_of<T: serde::de::DeserializeOwned + std::fmt::Debug + 'static>(
        body: &'static str,
    ) -> DecodeError {
        let response = Response::builder().status(200).body(body).unwrap();
        match parse_response_for::<T, _>(
            Endpoint::FullStatus,
            response,
            1 << 20,
            None,
            &CredentialMask::NONE,
        ) {
            Err(Error::Decode(decode)) => decode,
            other => panic!("a decode error for {body}, not {other:?}"),
        }
    }

    #[test]
    fn a_key_twice_in_an_object_is_refused_typed_or_raw_naming_the_object_only() {
        use crate::models::FullStatus;
        for (body, object) in [
            (
                r#"{"status":"DENIED","scanRef":"x","status":"APPROVED"}"#,
                ".",
            ),
            (r#"{"status":"DENIED","st\u0061tus":"APPROVED"}"#, "."),
            // Keys the docs do not list land in `extra`, which would keep the last silently.
            (r#"{"nickname":"JOHN","nickname":"SMITH"}"#, "."),
            (
                r#"{"client":{"docFirstName":"JOHN","nickname":"JOHN","nickname":"SMITH"}}"#,
                "client",
            ),
            (
                r#"{"nickname":{"first":"JOHN","first":"SMITH"}}"#,
                "nickname",
            ),
        ] {
            let typed = decode_error_of::<FullStatus>(body);
            let status = decode_error_of::<IdentificationStatus>(body);
            let raw = decode_error_of::<WellFormedJson>(body);
            for decode in [typed, status, raw] {
                assert_eq!(decode.reason, DUPLICATE_KEY, "{body}");
                assert_eq!(decode.path, object, "{body}");
                let shown = format!("{decode} {decode:?}");
                assert!(shown.contains("duplicate key"), "{shown}");
                for value in ["JOHN", "SMITH", "DENIED", "APPROVED"] {
                    assert!(!shown.contains(value), "{shown}");
                }
            }
        }
    }

    #[test]
    fn a_short_message_is_kept_as_sent() {
        let response = Response::builder()
            .status(404)
            .body(r#"{"identifier":"NOT_FOUND","message":"Not found."}"#)
            .unwrap();
        let Err(Error::Api(api)) = parse_response::<IdentificationStatus, _>(response, 1 << 20)
        else {
            panic!("an API error");
        };
        assert_eq!(api.message.as_deref(), Some("Not found."));
        assert_eq!(api.identifier.unwrap().as_str(), "NOT_FOUND");
    }

    fn well_formed(body: &[u8]) -> bool {
        serde_json::from_slice::<WellFormedJson>(body).is_ok()
    }

    #[test]
    fn well_formed_json_is_an_object_in_valid_utf8() {
        assert!(well_formed(
            br#"{"a": [1, -2, 3.5, true, null, {"b": "\u00e9 \ud83d\ude00"}], "c": "ok"}"#
        ));
        assert!(well_formed("{\"name\": \"Žemaitė\"}".as_bytes()));
        // Invalid UTF-8 in a value, in a key, and an unpaired surrogate escape.
        assert!(!well_formed(b"{\"status\": \"APPROVED\xff\"}"));
        assert!(!well_formed(b"{\"st\xc3\x28tus\": 1}"));
        assert!(!well_formed(br#"{"a": [{"b": "\xed\xa0\x80"}]}"#));
        // A key twice in one object, at any depth, also when one of them is escaped.
        for body in [
            &br#"{"status": "DENIED", "scanRef": "x", "status": "APPROVED"}"#[..],
            br#"{"status": 1, "st\u0061tus": 2}"#,
            br#"{"client": {"docFirstName": "A", "docFirstName": "B"}}"#,
            br#"{"a": [1, {"b": {"c": null, "c": null}}]}"#,
        ] {
            assert!(!well_formed(body), "{:?}", String::from_utf8_lossy(body));
        }
        // The same key in two objects is no duplicate.
        assert!(well_formed(
            br#"{"a": {"x": 1}, "b": {"x": 1}, "c": [{"x": 1}, {"x": 2}], "x": 3}"#
        ));
        // Not an object at the root, or not JSON.
        for body in [&b"[]"[..], b"null", b"\"text\"", b"1", b"{", b"{} {}"] {
            assert!(!well_formed(body), "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn parses_retry_after_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let parse = |text: &'static str| parse_retry_after(&HeaderValue::from_static(text), now);
        assert_eq!(parse("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:50:07 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse("Sunday, 06-Nov-94 08:49:47 GMT"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse("Sun Nov  6 08:49:57 1994"),
            Some(Duration::from_secs(20))
        );
        assert_eq!(parse("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse("soon"), None);
        assert_eq!(parse("-5"), None);
    }
}
