//! Building the HTTP request for a lookup: no IO, just an `http::Request`.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, Uri};

use crate::{Action, BaseUrl, Credentials, Endpoint, ScanRef};

/// The `User-Agent` every request carries.
pub const USER_AGENT_VALUE: &str = concat!("idenfy-rs/", env!("CARGO_PKG_VERSION"));

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
/// The report may come as the PDF itself or wrapped in JSON; both are welcome.
const PDF_OR_JSON: HeaderValue = HeaderValue::from_static("application/pdf, application/json");

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
    action_uris: [Uri; 2],
    authorization: HeaderValue,
}

impl RequestBuilder {
    /// Prepares requests to `base_url`, authenticated with `credentials`.
    pub fn new(base_url: &BaseUrl, credentials: &Credentials) -> Self {
        // A validated base URL plus a fixed ASCII path is always a valid URI;
        // the fallback only keeps this function total.
        let uri = |path: &str| {
            base_url
                .join(path)
                .unwrap_or_else(|_| Uri::from_static("/"))
        };
        Self {
            uris: Endpoint::ALL.map(|endpoint| uri(endpoint.path())),
            action_uris: Action::ALL.map(|action| uri(action.path())),
            authorization: credentials.basic_auth_header(),
        }
    }

    /// The URL a lookup on `endpoint` is sent to.
    pub fn uri(&self, endpoint: Endpoint) -> &Uri {
        &self.uris[endpoint.index()]
    }

    /// The URL `action` is sent to.
    pub fn action_uri(&self, action: Action) -> &Uri {
        &self.action_uris[action.index()]
    }

    /// Builds the `POST` request for `endpoint` and `scan_ref`.
    pub fn build(&self, endpoint: Endpoint, scan_ref: &ScanRef) -> Request<Bytes> {
        self.post(self.uri(endpoint), APPLICATION_JSON, scan_ref)
    }

    /// Builds the `POST` request for `action` and `scan_ref`: the same body and headers as a
    /// lookup, except that the report's request also accepts `application/pdf`.
    ///
    /// ```
    /// use idenfy_core::{Action, BaseUrl, Credentials, RequestBuilder};
    /// let builder = RequestBuilder::new(&BaseUrl::default(), &Credentials::new("key", "secret")?);
    /// let request = builder.build_action(Action::Delete, &"abc-123".parse()?);
    /// assert_eq!(request.uri(), "https://ivs.idenfy.com/api/v2/delete");
    /// assert_eq!(request.body().as_ref(), br#"{"scanRef":"abc-123"}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_action(&self, action: Action, scan_ref: &ScanRef) -> Request<Bytes> {
        let accept = match action {
            Action::GeneratePdf => PDF_OR_JSON,
            Action::Delete => APPLICATION_JSON,
        };
        self.post(self.action_uri(action), accept, scan_ref)
    }

    fn post(&self, uri: &Uri, accept: HeaderValue, scan_ref: &ScanRef) -> Request<Bytes> {
        let body = scan_ref_body(scan_ref);
        let content_length = HeaderValue::from(body.len());
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(CONTENT_TYPE, APPLICATION_JSON);
        headers.insert(ACCEPT, accept);
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
