//! What a request is made of, and the `http::Request` it becomes, with no IO: the `scanRef` it
//! names ([`ScanRef`]), the endpoint it goes to (a lookup, [`Endpoint`], or one of the two
//! actions, [`Action`]), the one request target both convert into ([`Target`]), and the headers
//! and body every request carries ([`RequestBuilder`]).
//!
//! The lookups and the actions are two types on purpose: a lookup is a read that may be retried
//! and replayed freely, and no code that walks "every lookup" (a bulk export,
//! [`Client::lookup_raw`](crate::Client::lookup_raw)) can be handed a deletion by mistake.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, Uri};
use serde::de::DeserializeOwned;

use crate::models::{FileUrls, FullStatus, IdentificationData, IdentificationStatus};
use crate::{BaseUrl, Credentials, ListQuery};

/// The longest `scanRef` the API documents (the `/data` table allows 40 characters).
pub const MAX_SCAN_REF_LEN: usize = 40;

/// A validated `scanRef`: the identifier iDenfy gives each identification.
///
/// Checked before any request is sent, so a typo fails fast with a clear
/// error instead of a round trip and an API error.
///
/// ```
/// use idenfy_core::ScanRef;
/// let scan_ref: ScanRef = "5f3c2a1e-9b7d-11ea-bb37-0242ac130002".parse()?;
/// assert_eq!(scan_ref.as_str(), "5f3c2a1e-9b7d-11ea-bb37-0242ac130002");
/// assert!("has space".parse::<ScanRef>().is_err());
/// # Ok::<(), idenfy_core::ScanRefError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScanRef(String);

/// Why a string is not a valid `scanRef`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanRefError {
    /// The string is empty.
    #[error(
        "the scanRef is empty: pass the `scanRef` iDenfy returned when the identification was created"
    )]
    Empty,
    /// The string is longer than the API allows.
    #[error(
        "the scanRef is {length} characters long, but iDenfy scanRefs have at most {MAX_SCAN_REF_LEN}; check that only the scanRef was passed"
    )]
    TooLong {
        /// Number of characters given.
        length: usize,
    },
    /// The string contains whitespace, a control character or a character that does not print
    /// as itself (a bidi override, a zero-width space or another invisible character would
    /// make a scanRef print as another one).
    #[error(
        "the scanRef contains whitespace, a control character or an invisible character (a bidi mark, a zero-width space, ...) at character {position}; trim it (a trailing newline is a common cause)"
    )]
    InvalidCharacter {
        /// Zero-based character index of the first offending character.
        position: usize,
    },
}

impl ScanRef {
    /// Validates a `scanRef`.
    ///
    /// # Errors
    /// [`ScanRefError`] when the value is empty, longer than
    /// [`MAX_SCAN_REF_LEN`] characters, or contains whitespace, control characters or
    /// characters that print as nothing (bidi marks, zero-width and other format characters,
    /// variation selectors, ...), so that a scanRef prints as itself on a terminal.
    pub fn new(value: impl Into<String>) -> Result<Self, ScanRefError> {
        let value = value.into();
        if value.is_empty() {
            return Err(ScanRefError::Empty);
        }
        if let Some(position) = value
            .chars()
            .position(|c| c == ' ' || crate::terminal_text::is_unsafe(c))
        {
            return Err(ScanRefError::InvalidCharacter { position });
        }
        let length = value.chars().count();
        if length > MAX_SCAN_REF_LEN {
            return Err(ScanRefError::TooLong { length });
        }
        Ok(Self(value))
    }

    /// The `scanRef` as sent to the API.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ScanRef {
    type Err = ScanRefError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::new(value)
    }
}

impl TryFrom<String> for ScanRef {
    type Error = ScanRefError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<&str> for ScanRef {
    type Error = ScanRefError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl AsRef<str> for ScanRef {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScanRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ScanRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScanRef").field(&self.0).finish()
    }
}

/// One of the identification data retrieval endpoints.
///
/// Each takes the same body, `{"scanRef": "..."}`, and returns its own model
/// (see [`EndpointResponse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /api/v2/status`: the overall status; returns [`IdentificationStatus`].
    Status,
    /// `POST /api/v2/data`: the data read from the document; returns [`IdentificationData`].
    Data,
    /// `POST /api/v2/files`: URLs of the photos and videos; returns [`FileUrls`].
    Files,
    /// `POST /api/v2/full-status`: automatic and manual review results; returns [`FullStatus`].
    FullStatus,
}

impl Endpoint {
    /// Every endpoint, in documentation order.
    pub const ALL: [Endpoint; 4] = [
        Endpoint::Status,
        Endpoint::Data,
        Endpoint::Files,
        Endpoint::FullStatus,
    ];

    /// The path appended to the base URL.
    pub const fn path(self) -> &'static str {
        self.target().path()
    }

    /// The endpoint a request path names (a server's view of [`Endpoint::path`]); one trailing
    /// slash is tolerated.
    ///
    /// ```
    /// use idenfy_core::Endpoint;
    /// assert_eq!(Endpoint::from_path("/api/v2/full-status/"), Some(Endpoint::FullStatus));
    /// assert_eq!(Endpoint::from_path("/api/v2/nothing"), None);
    /// ```
    pub fn from_path(path: &str) -> Option<Endpoint> {
        let path = path.strip_suffix('/').unwrap_or(path);
        Endpoint::ALL
            .into_iter()
            .find(|endpoint| endpoint.path() == path)
    }

    /// A short name for logs and traces (`status`, `data`, `files`, `full-status`).
    pub const fn name(self) -> &'static str {
        self.target().name()
    }

    /// The Rust type the response body is decoded into.
    pub const fn response_type_name(self) -> &'static str {
        match self {
            Endpoint::Status => "IdentificationStatus",
            Endpoint::Data => "IdentificationData",
            Endpoint::Files => "FileUrls",
            Endpoint::FullStatus => "FullStatus",
        }
    }

    /// The request target of this endpoint; a `const` [`From`].
    const fn target(self) -> Target {
        match self {
            Endpoint::Status => Target::Status,
            Endpoint::Data => Target::Data,
            Endpoint::Files => Target::Files,
            Endpoint::FullStatus => Target::FullStatus,
        }
    }
}

impl From<Endpoint> for Target {
    fn from(endpoint: Endpoint) -> Target {
        endpoint.target()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// Ties a response model to the endpoint that returns it, so that
/// [`Client::lookup`](crate::Client::lookup) and
/// [`parse_response`](crate::parse_response) pick the endpoint from the type.
///
/// Implemented for the four response models; sealed.
pub trait EndpointResponse: DeserializeOwned + sealed::Sealed + 'static {
    /// The endpoint that returns this type.
    const ENDPOINT: Endpoint;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! endpoint_response {
    ($model:ty => $endpoint:ident) => {
        impl sealed::Sealed for $model {}
        impl EndpointResponse for $model {
            const ENDPOINT: Endpoint = Endpoint::$endpoint;
        }
    };
}

endpoint_response!(IdentificationStatus => Status);
endpoint_response!(IdentificationData => Data);
endpoint_response!(FileUrls => Files);
endpoint_response!(FullStatus => FullStatus);

/// An endpoint that acts on an identification rather than reading one of its records.
///
/// Each takes the same body as the lookups, `{"scanRef": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// `POST /api/v2/generate-pdf`: the identification report as a PDF.
    GeneratePdf,
    /// `POST /api/v2/delete`: deletes the identification's personal data at iDenfy.
    Delete,
}

impl Action {
    /// Both actions, in documentation order.
    pub const ALL: [Action; 2] = [Action::GeneratePdf, Action::Delete];

    /// The path appended to the base URL.
    pub const fn path(self) -> &'static str {
        self.target().path()
    }

    /// A short name for logs and traces (`generate-pdf`, `delete`).
    pub const fn name(self) -> &'static str {
        self.target().name()
    }

    /// The action a request path names; a trailing slash is tolerated.
    pub fn from_path(path: &str) -> Option<Action> {
        let path = path.strip_suffix('/').unwrap_or(path);
        Action::ALL.into_iter().find(|action| action.path() == path)
    }

    /// The request target of this action; a `const` [`From`].
    const fn target(self) -> Target {
        match self {
            Action::GeneratePdf => Target::GeneratePdf,
            Action::Delete => Target::Delete,
        }
    }
}

impl From<Action> for Target {
    fn from(action: Action) -> Target {
        action.target()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

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

    #[test]
    fn accepts_uuid_like_and_forty_character_refs() {
        assert!(
            "5f3c2a1e-9b7d-11ea-bb37-0242ac130002"
                .parse::<ScanRef>()
                .is_ok()
        );
        assert!(ScanRef::new("a".repeat(40)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_whitespace() {
        assert_eq!(ScanRef::new(""), Err(ScanRefError::Empty));
        assert_eq!(
            ScanRef::new("a".repeat(41)),
            Err(ScanRefError::TooLong { length: 41 })
        );
        assert_eq!(
            ScanRef::new("abc\n"),
            Err(ScanRefError::InvalidCharacter { position: 3 })
        );
        assert_eq!(
            ScanRef::new("a b"),
            Err(ScanRefError::InvalidCharacter { position: 1 })
        );
        assert_eq!(
            ScanRef::new("a\u{7}"),
            Err(ScanRefError::InvalidCharacter { position: 1 })
        );
    }

    #[test]
    fn rejects_marks_that_would_print_it_as_another_scan_ref() {
        // "ref-\u{202E}cba" shows as "ref-abc" on a terminal: a confirmation question or a
        // log line would name another identification.
        assert_eq!(
            ScanRef::new("ref-\u{202E}cba"),
            Err(ScanRefError::InvalidCharacter { position: 4 })
        );
        assert_eq!(
            ScanRef::new("\u{2066}x"),
            Err(ScanRefError::InvalidCharacter { position: 0 })
        );
        assert!(
            ScanRef::new("ĄČĘ-ūž-ref").is_ok(),
            "other non-ASCII text is fine"
        );
    }

    #[test]
    fn rejects_every_character_that_prints_as_nothing_or_as_another() {
        // "sandbox-approved\u{200b}" shows as "sandbox-approved": a dry run would name the
        // real one.
        for c in crate::terminal_text::tests::invisible() {
            assert_eq!(
                ScanRef::new(format!("sandbox-approved{c}")),
                Err(ScanRefError::InvalidCharacter { position: 16 }),
                "U+{:04X}",
                u32::from(c)
            );
        }
        for letters in ["ąčęėįšųūž", "漢字かな한국어", "Ελληνικά-Кириллица"]
        {
            assert!(ScanRef::new(letters).is_ok(), "{letters}");
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(ScanRef::new("é".repeat(40)).is_ok());
    }

    #[test]
    fn every_path_names_its_endpoint_and_nothing_else_does() {
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
            let with_slash = format!("{}/", endpoint.path());
            assert_eq!(Endpoint::from_path(&with_slash), Some(endpoint));
            let with_two = format!("{}//", endpoint.path());
            assert_eq!(Endpoint::from_path(&with_two), None);
        }
        for path in [
            "",
            "/",
            "/api/v2",
            "/api/v2/STATUS",
            "/api/v1/status",
            "api/v2/data",
        ] {
            assert_eq!(Endpoint::from_path(path), None, "{path:?}");
        }
    }

    #[test]
    fn paths_round_trip_and_differ_from_every_lookup() {
        for action in Action::ALL {
            assert_eq!(Action::from_path(action.path()), Some(action));
            assert_eq!(
                Action::from_path(&format!("{}/", action.path())),
                Some(action)
            );
            assert!(Target::ALL.contains(&Target::from(action)));
            for endpoint in crate::Endpoint::ALL {
                assert_ne!(endpoint.path(), action.path());
            }
        }
        assert_eq!(Action::from_path("/api/v2/status"), None);
    }

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
