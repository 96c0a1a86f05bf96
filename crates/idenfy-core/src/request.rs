//! Where a request goes and what it looks like: no IO, just an `http::Request`.

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, Uri};

use crate::{Action, BaseUrl, Credentials, ListQuery, ScanRef};

/// The `User-Agent` every request carries.
pub const USER_AGENT_VALUE: &str = concat!("idenfy-rs/", env!("CARGO_PKG_VERSION"));

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
/// The report may come as the PDF itself or wrapped in JSON; both are welcome.
const PDF_OR_JSON: HeaderValue = HeaderValue::from_static("application/pdf, application/json");

/// What a request is sent to: one of the four lookups, one of the two actions, or the
/// identification list. The one type the request builder and the client take;
/// [`Endpoint`](crate::Endpoint) and [`Action`] convert into it, and the paths, names and
/// methods of all are defined here, once. All but the list are a `POST` of `{"scanRef"}`; the
/// list is a `GET` with a query string ([`RequestBuilder::build_list`]).
///
/// ```
/// use idenfy_core::{Action, Endpoint, Target};
/// assert_eq!(Target::from(Endpoint::FullStatus).path(), "/api/v2/full-status");
/// assert_eq!(Target::from(Action::Delete), Target::Delete);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// `POST /api/v2/status` ([`Endpoint::Status`](crate::Endpoint::Status)).
    Status,
    /// `POST /api/v2/data` ([`Endpoint::Data`](crate::Endpoint::Data)).
    Data,
    /// `POST /api/v2/files` ([`Endpoint::Files`](crate::Endpoint::Files)).
    Files,
    /// `POST /api/v2/full-status` ([`Endpoint::FullStatus`](crate::Endpoint::FullStatus)).
    FullStatus,
    /// `POST /api/v2/generate-pdf` ([`Action::GeneratePdf`]).
    GeneratePdf,
    /// `POST /api/v2/delete` ([`Action::Delete`]).
    Delete,
    /// `GET /kyc/identifications/` ([`Client::identifications`](crate::Client::identifications)):
    /// the account's identifications, a page at a time.
    Identifications,
}

impl Target {
    /// Every target, lookups first, in documentation order (the order of the variants, which
    /// the request builder's table of URLs follows).
    pub const ALL: [Target; 7] = [
        Target::Status,
        Target::Data,
        Target::Files,
        Target::FullStatus,
        Target::GeneratePdf,
        Target::Delete,
        Target::Identifications,
    ];

    /// The path appended to the base URL.
    pub const fn path(self) -> &'static str {
        match self {
            Target::Status => "/api/v2/status",
            Target::Data => "/api/v2/data",
            Target::Files => "/api/v2/files",
            Target::FullStatus => "/api/v2/full-status",
            Target::GeneratePdf => "/api/v2/generate-pdf",
            Target::Delete => "/api/v2/delete",
            Target::Identifications => "/kyc/identifications/",
        }
    }

    /// The HTTP method: `GET` for the list, `POST` for everything else.
    pub const fn method(self) -> Method {
        match self {
            Target::Identifications => Method::GET,
            _ => Method::POST,
        }
    }

    /// A short name for logs and traces (`status`, `full-status`, `generate-pdf`, `delete`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Target::Status => "status",
            Target::Data => "data",
            Target::Files => "files",
            Target::FullStatus => "full-status",
            Target::GeneratePdf => "generate-pdf",
            Target::Delete => "delete",
            Target::Identifications => "identifications",
        }
    }

    /// The `Accept` header: the report may come as the PDF itself, everything else is JSON.
    const fn accept(self) -> HeaderValue {
        match self {
            Target::GeneratePdf => PDF_OR_JSON,
            _ => APPLICATION_JSON,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.path())
    }
}

/// Builds the requests for one base URL and one set of credentials.
///
/// The targets' URLs and the `Authorization` header are computed once, so
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
    /// Indexed by [`Target`]'s variant, in the order of [`Target::ALL`].
    uris: [Uri; Target::ALL.len()],
    authorization: HeaderValue,
    user_agent: HeaderValue,
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
            uris: Target::ALL.map(|target| uri(target.path())),
            authorization: credentials.basic_auth_header(),
            user_agent: HeaderValue::from_static(USER_AGENT_VALUE),
        }
    }

    /// The same requests, with `application` named in their `User-Agent`.
    pub fn with_application(mut self, application: &crate::ApplicationName) -> Self {
        self.user_agent = application.user_agent();
        self
    }

    /// The `User-Agent` of the requests: `idenfy-rs/VERSION`, then the application's name when
    /// one was given. Downloads send the same.
    pub fn user_agent(&self) -> &HeaderValue {
        &self.user_agent
    }

    /// The URL a request to `target` (an [`Endpoint`](crate::Endpoint), an [`Action`]) is sent to.
    pub fn uri(&self, target: impl Into<Target>) -> &Uri {
        &self.uris[target.into() as usize]
    }

    /// The URL `action` is sent to.
    #[deprecated(note = "`uri` takes an `Action` too")]
    pub fn action_uri(&self, action: Action) -> &Uri {
        self.uri(action)
    }

    /// Builds the `POST` request to `target` (an [`Endpoint`](crate::Endpoint), an [`Action`]) for `scan_ref`:
    /// the same body and headers for all, except that the report's request also accepts
    /// `application/pdf`.
    ///
    /// ```
    /// use idenfy_core::{Action, BaseUrl, Credentials, RequestBuilder};
    /// let builder = RequestBuilder::new(&BaseUrl::default(), &Credentials::new("key", "secret")?);
    /// let request = builder.build(Action::Delete, &"abc-123".parse()?);
    /// assert_eq!(request.uri(), "https://ivs.idenfy.com/api/v2/delete");
    /// assert_eq!(request.body().as_ref(), br#"{"scanRef":"abc-123"}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// The list takes no scanRef: for [`Target::Identifications`] this is the `GET` of its
    /// first page, unfiltered, and `scan_ref` is not sent; [`build_list`](Self::build_list)
    /// takes its query.
    pub fn build(&self, target: impl Into<Target>, scan_ref: &ScanRef) -> Request<Bytes> {
        let target = target.into();
        if target.method() == Method::GET {
            self.get(self.uri(target))
        } else {
            self.post(self.uri(target), target.accept(), scan_ref)
        }
    }

    /// The URL of the identification list's first page for `query`.
    pub fn list_uri(&self, query: &ListQuery) -> Uri {
        let base = self.uri(Target::Identifications);
        let query = query.query_string();
        if query.is_empty() {
            return base.clone();
        }
        // The query string is percent-encoded ASCII: the URL stays valid.
        format!("{base}?{query}")
            .parse()
            .unwrap_or_else(|_| base.clone())
    }

    /// The `GET` of the identification list's first page for `query`, with Basic auth as
    /// every request.
    ///
    /// ```
    /// use idenfy_core::{BaseUrl, Credentials, ListQuery, RequestBuilder};
    /// let builder = RequestBuilder::new(&BaseUrl::default(), &Credentials::new("key", "secret")?);
    /// let request = builder.build_list(&ListQuery::new().per_page(2));
    /// assert_eq!(request.method(), "GET");
    /// assert_eq!(request.uri(), "https://ivs.idenfy.com/kyc/identifications/?perPage=2");
    /// assert!(request.body().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_list(&self, query: &ListQuery) -> Request<Bytes> {
        self.get(&self.list_uri(query))
    }

    /// A `GET` of `uri` with the credentials. Only for URLs on the base URL's origin: the
    /// caller checks that (see [`crate::list`]).
    pub(crate) fn get(&self, uri: &Uri) -> Request<Bytes> {
        let mut request = Request::new(Bytes::new());
        *request.method_mut() = Method::GET;
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(ACCEPT, APPLICATION_JSON);
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        request
    }

    /// Builds the `POST` request for `action` and `scan_ref`.
    #[deprecated(note = "`build` takes an `Action` too")]
    pub fn build_action(&self, action: Action, scan_ref: &ScanRef) -> Request<Bytes> {
        self.build(action, scan_ref)
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
        headers.insert(USER_AGENT, self.user_agent.clone());
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

/// Builds one request without keeping a [`RequestBuilder`] around.
pub fn build_request(
    base_url: &BaseUrl,
    credentials: &Credentials,
    target: impl Into<Target>,
    scan_ref: &ScanRef,
) -> Request<Bytes> {
    RequestBuilder::new(base_url, credentials).build(target, scan_ref)
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
    use crate::Endpoint;

    #[test]
    fn body_escapes_quotes_and_backslashes_as_json() {
        let scan_ref = ScanRef::new(r#"a"b\c"#).unwrap();
        let body = scan_ref_body(&scan_ref);
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["scanRef"], r#"a"b\c"#);
    }

    #[test]
    fn every_target_has_its_own_url_in_the_order_of_the_variants() {
        let builder = RequestBuilder::new(
            &BaseUrl::default(),
            &Credentials::new("key", "secret").unwrap(),
        );
        for target in Target::ALL {
            assert_eq!(Target::ALL[target as usize], target);
            assert_eq!(builder.uri(target).path(), target.path());
        }
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
