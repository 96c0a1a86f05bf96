//! Building the HTTP request for a lookup: no IO, just an `http::Request`.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, Uri};

use crate::{BaseUrl, Credentials, Endpoint, ScanRef};

/// The `User-Agent` every request carries.
pub const USER_AGENT_VALUE: &str = concat!("idenfy-rs/", env!("CARGO_PKG_VERSION"));

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Builds lookup requests for one base URL and one set of credentials.
///
/// The endpoint URLs and the `Authorization` header are computed once, so
/// building a request costs little more than writing its small JSON body.
///
/// ```
/// use idenfy_core::{BaseUrl, Credentials, Endpoint, RequestBuilder};
/// let builder = RequestBuilder::new(&BaseUrl::default(), &Credentials::new("key", "secret")?);
/// let request = builder.build(Endpoint::FullStatus, &"abc-123".parse()?);
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.uri(), "https://ivs.idenfy.com/api/v2/full-status");
/// assert_eq!(request.body().as_ref(), br#"{"scanRef":"abc-123"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RequestBuilder {
    uris: [Uri; 4],
    authorization: HeaderValue,
}

impl RequestBuilder {
    /// Prepares requests to `base_url`, authenticated with `credentials`.
    pub fn new(base_url: &BaseUrl, credentials: &Credentials) -> Self {
        let uri = |endpoint: Endpoint| {
            // A validated base URL plus a fixed ASCII path is always a valid URI;
            // the fallback only keeps this function total.
            base_url
                .join(endpoint.path())
                .unwrap_or_else(|_| Uri::from_static("/"))
        };
        Self {
            uris: Endpoint::ALL.map(uri),
            authorization: credentials.basic_auth_header(),
        }
    }

    /// The URL a lookup on `endpoint` is sent to.
    pub fn uri(&self, endpoint: Endpoint) -> &Uri {
        &self.uris[endpoint.index()]
    }

    /// Builds the `POST` request for `endpoint` and `scan_ref`.
    pub fn build(&self, endpoint: Endpoint, scan_ref: &ScanRef) -> Request<Bytes> {
        let body = scan_ref_body(scan_ref);
        let content_length = HeaderValue::from(body.len());
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri(endpoint).clone();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(CONTENT_TYPE, APPLICATION_JSON);
        headers.insert(ACCEPT, APPLICATION_JSON);
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(CONTENT_LENGTH, content_length);
        request
    }
}

impl std::fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("base", &self.uris[0])
            .field("authorization", &"<redacted>")
            .finish()
    }
}

/// Builds one lookup request without keeping a [`RequestBuilder`] around.
pub fn build_request(
    base_url: &BaseUrl,
    credentials: &Credentials,
    endpoint: Endpoint,
    scan_ref: &ScanRef,
) -> Request<Bytes> {
    RequestBuilder::new(base_url, credentials).build(endpoint, scan_ref)
}

/// `{"scanRef":"..."}`. A `ScanRef` has no control characters, so only `"`
/// and `\` need escaping; writing it by hand keeps this infallible.
fn scan_ref_body(scan_ref: &ScanRef) -> Bytes {
    let value = scan_ref.as_str();
    let mut body = String::with_capacity(value.len() + 16);
    body.push_str("{\"scanRef\":\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            body.push('\\');
        }
        body.push(c);
    }
    body.push_str("\"}");
    Bytes::from(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_escapes_quotes_and_backslashes_as_json() {
        let scan_ref = ScanRef::new(r#"a"b\c"#).unwrap();
        let body = scan_ref_body(&scan_ref);
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["scanRef"], r#"a"b\c"#);
    }

    #[test]
    fn debug_hides_the_authorization_header() {
        let credentials = Credentials::new("key", "secret").unwrap();
        let builder = RequestBuilder::new(&BaseUrl::default(), &credentials);
        let debug = format!("{builder:?}");
        assert!(!debug.contains("a2V5OnNlY3JldA"), "{debug}");
        let request = builder.build(Endpoint::Status, &"x".parse().unwrap());
        assert!(!format!("{request:?}").contains("a2V5OnNlY3JldA"));
    }
}
