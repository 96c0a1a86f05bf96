//! The identification list, `GET /kyc/identifications/`: the account's identifications, a page
//! at a time, for finding what a callback missed and for feeding a bulk export.
//!
//! Every page after the first is the server's `next` link, and a link is a place the
//! credentials would be sent. So a link is followed only to the list itself on the base URL's
//! origin (scheme, host and port); a link anywhere else ends the walk with
//! [`ListError::OtherOrigin`] before anything is sent there. A link back to a page already read,
//! or a page that repeats an earlier one, ends it as a loop; and the number of pages is bounded
//! ([`DEFAULT_MAX_PAGES`], [`ListQuery::max_pages`]), as each page's size is by the client's
//! body cap.

use std::collections::HashSet;
use std::convert::Infallible;
use std::hash::{BuildHasher, RandomState};

use http::{Response, Uri};

use crate::credential_mask::CredentialMask;
use crate::error::{Error, describe_serde_error};
use crate::models::{IdentificationList, IdentificationListItem};
use crate::response::{check_size, decode, failure_of, looks_like_json, unexpected};
use crate::{EscapedControls, ScanRef, percent_encode};

/// How many pages a walk of the list reads at most unless [`ListQuery::max_pages`] says
/// otherwise: 10,000 pages, a million identifications at 100 a page. A list that goes on past
/// it is more likely a server that never stops than an account that large.
pub const DEFAULT_MAX_PAGES: u32 = 10_000;
/// The largest `perPage` asked for. The vendor documents no maximum; a page stays far below
/// the client's body cap at this size (an entry is under 100 bytes).
pub const MAX_PER_PAGE: u32 = 1_000;

/// What to list: an optional `clientId` filter, the page size, and the bound on pages.
///
/// ```
/// use idenfy_core::ListQuery;
/// let query = ListQuery::new().client_id("client 7").per_page(50).max_pages(20);
/// assert_eq!(query.query_string(), "clientId=client%207&perPage=50");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    client_id: Option<String>,
    per_page: Option<u32>,
    max_pages: u32,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self::new()
    }
}

impl ListQuery {
    /// Every identification, in pages of the server's default size, at most
    /// [`DEFAULT_MAX_PAGES`] pages.
    pub fn new() -> Self {
        Self {
            client_id: None,
            per_page: None,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// Only the identifications of this `clientId`.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Pages of `per_page` identifications, kept within 1 to [`MAX_PER_PAGE`].
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page.clamp(1, MAX_PER_PAGE));
        self
    }

    /// Reads at most `max_pages` pages (at least one); a list with more ends with
    /// [`ListError::TooManyPages`].
    pub fn max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    /// The page size asked for, if any.
    pub fn page_size(&self) -> Option<u32> {
        self.per_page
    }

    /// The query string of the first page (`clientId`, `perPage`), percent-encoded, without
    /// the `?`.
    pub fn query_string(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(client_id) = &self.client_id {
            pairs.push(format!("clientId={}", percent_encode(client_id)));
        }
        if let Some(per_page) = self.per_page {
            pairs.push(format!("perPage={per_page}"));
        }
        pairs.join("&")
    }

    pub(crate) fn page_limit(&self) -> u32 {
        self.max_pages
    }
}

/// One page of the list, checked: every entry has a valid scanRef.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListPage {
    /// Which page of this walk it is, from 1.
    pub page: u32,
    /// The page as the server sent it (`count`, `next`, `previous`, `results`).
    pub list: IdentificationList,
    /// How many attempts it took; more than one means it was retried.
    pub attempts: u32,
}

impl ListPage {
    /// The page's identifications.
    pub fn items(&self) -> &[IdentificationListItem] {
        self.list.results.as_deref().unwrap_or_default()
    }
}

/// Why a walk of the list stopped. No message holds a credential, a `clientId` or anything
/// else of an identification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError<E = Infallible> {
    /// The request for a page failed (after the retries a read gets).
    #[error("page {page} of the identification list: {error}")]
    Page {
        /// The page.
        page: u32,
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's error (boxed: it is large, and the other variants small).
        #[source]
        error: Box<Error<E>>,
    },
    /// A page answered 200 with JSON that is not the list.
    #[error(
        "page {page} of the identification list is not the list's JSON: {reason} at `{path}` (line {line}, column {column})"
    )]
    Decode {
        /// The page.
        page: u32,
        /// Where in the JSON, like `results[3].scanRef`.
        path: String,
        /// What is wrong, without any value from the body.
        reason: String,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
    },
    /// A page's `next` points at another origin than the base URL's; nothing was sent there.
    #[error(
        "page {page} of the identification list links its next page to {}, not the base URL's origin: not followed, and the credentials were sent nowhere else",
        EscapedControls(origin)
    )]
    OtherOrigin {
        /// The page whose link it is.
        page: u32,
        /// The link's scheme, host and port (no path or query).
        origin: String,
    },
    /// A page's `next` is on the base URL's origin but is not an absolute URL of the list.
    #[error(
        "page {page} of the identification list links its next page to something that is not the list: not followed"
    )]
    NotTheList {
        /// The page whose link it is.
        page: u32,
    },
    /// A page's `next` points back at a page already read.
    #[error(
        "page {page} of the identification list links back to a page already read: the list loops, stopped"
    )]
    Loop {
        /// The page whose link it is.
        page: u32,
    },
    /// A page is the same as an earlier one.
    #[error("page {page} of the identification list repeats an earlier page: stopped")]
    RepeatedPage {
        /// The page.
        page: u32,
    },
    /// The list goes on past the bound on pages.
    #[error(
        "the identification list goes on past {limit} pages: stopped there (raise the bound with max_pages if the account is that large)"
    )]
    TooManyPages {
        /// The bound.
        limit: u32,
    },
}

/// A page body that is JSON, but not the list's.
#[derive(Debug)]
pub(crate) struct PageDecodeError {
    path: String,
    reason: String,
    line: usize,
    column: usize,
}

impl PageDecodeError {
    fn into_list_error<E>(self, page: u32) -> ListError<E> {
        ListError::Decode {
            page,
            path: self.path,
            reason: self.reason,
            line: self.line,
            column: self.column,
        }
    }
}

/// Parses one page of the list: the API's error, a typed error for an answer that is not its
/// JSON, or the page with every entry's scanRef checked. `page` names it in errors.
///
/// # Errors
/// [`ListError::Page`] for an error answer or a body over `max_body_bytes`,
/// [`ListError::Decode`] for JSON that is not the list.
pub fn parse_list_page<B: AsRef<[u8]>>(
    response: Response<B>,
    max_body_bytes: usize,
    page: u32,
) -> Result<IdentificationList, ListError> {
    let retry_after = crate::response::retry_after_of(&response);
    match page_answer(
        &response,
        max_body_bytes,
        retry_after,
        &CredentialMask::NONE,
    ) {
        Ok(Ok(list)) => Ok(list),
        Ok(Err(decode)) => Err(decode.into_list_error(page)),
        Err(error) => Err(ListError::Page {
            page,
            attempts: 1,
            error: Box::new(error),
        }),
    }
}

/// A page's answer: the outer error is one a read retries or reports like a lookup's, the
/// inner one a page that is JSON but not the list (not worth asking again).
pub(crate) fn page_answer<B: AsRef<[u8]>>(
    response: &Response<B>,
    max_body_bytes: usize,
    retry_after: Option<std::time::Duration>,
    mask: &CredentialMask,
) -> Result<Result<IdentificationList, PageDecodeError>, Error> {
    check_size(response, max_body_bytes)?;
    if !response.status().is_success() {
        return Err(failure_of(response, retry_after, mask));
    }
    let body = response.body().as_ref();
    match decode::<IdentificationList>(body) {
        Ok(list) => Ok(check_entries(list)),
        Err(_) if !looks_like_json(body) => Err(unexpected(response, body).into()),
        Err((path, error)) => Ok(Err(PageDecodeError {
            path,
            reason: describe_serde_error(&error),
            line: error.line(),
            column: error.column(),
        })),
    }
}

/// A list whose every entry has a scanRef that is one: what is listed is looked up next, and a
/// scanRef that fails its rules would fail there, or pass something unchecked along.
fn check_entries(list: IdentificationList) -> Result<IdentificationList, PageDecodeError> {
    let refused = |path: String, reason: &str| PageDecodeError {
        path,
        reason: reason.to_owned(),
        line: 0,
        column: 0,
    };
    let Some(results) = &list.results else {
        return Err(refused(
            "results".into(),
            "missing: a page of the list has `results`",
        ));
    };
    for (index, item) in results.iter().enumerate() {
        match item.scan_ref.as_deref().map(ScanRef::new) {
            Some(Ok(_)) => {}
            None => return Err(refused(format!("results[{index}].scanRef"), "missing")),
            Some(Err(_)) => {
                return Err(refused(
                    format!("results[{index}].scanRef"),
                    "not a valid scanRef",
                ));
            }
        }
    }
    Ok(list)
}

/// The walk of the list: [`Client::identifications`](crate::Client::identifications) makes it,
/// [`ListPages::next_page`] reads it a page at a time.
pub struct ListPages<'c, T, K> {
    pub(crate) client: &'c crate::Client<T, K>,
    /// The page to read next; `None` once the walk is over.
    pub(crate) next: Option<Uri>,
    /// An error found in the page last returned (its link), given by the next call.
    pub(crate) pending: Option<ListError<Infallible>>,
    pub(crate) pages: u32,
    pub(crate) max_pages: u32,
    /// The pages requested so far, as [`page_key`]s: a link to one of them is a loop.
    pub(crate) visited: HashSet<String>,
    /// Hashes of the bodies read so far: a page that repeats one is a loop that moved its link.
    pub(crate) bodies: HashSet<u64>,
    pub(crate) hasher: RandomState,
}

impl<T, K> std::fmt::Debug for ListPages<'_, T, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListPages")
            .field("pages", &self.pages)
            .field("max_pages", &self.max_pages)
            .field("done", &self.next.is_none())
            .finish_non_exhaustive()
    }
}

impl<'c, T: crate::Transport, K: crate::Timer> ListPages<'c, T, K> {
    pub(crate) fn new(client: &'c crate::Client<T, K>, query: &ListQuery) -> Self {
        let first = client.request_builder().list_uri(query);
        let mut visited = HashSet::new();
        visited.insert(page_key(&first));
        Self {
            client,
            next: Some(first),
            pending: None,
            pages: 0,
            max_pages: query.page_limit(),
            visited,
            bodies: HashSet::new(),
            hasher: RandomState::new(),
        }
    }

    /// How many pages have been read.
    pub fn pages_read(&self) -> u32 {
        self.pages
    }

    /// Reads the next page: `Ok(None)` once the list has no more. After an error the walk is
    /// over (every later call answers `Ok(None)`).
    ///
    /// # Errors
    /// [`ListError`], saying why the walk stopped.
    pub async fn next_page(&mut self) -> Result<Option<ListPage>, ListError<T::Error>> {
        if let Some(error) = self.pending.take() {
            self.next = None;
            return Err(widen(error));
        }
        let Some(uri) = self.next.take() else {
            return Ok(None);
        };
        if self.pages >= self.max_pages {
            return Err(ListError::TooManyPages {
                limit: self.max_pages,
            });
        }
        let page = self.pages + 1;
        let (answer, attempts) =
            self.client
                .list_page(&uri, page)
                .await
                .map_err(|(error, attempts)| ListError::Page {
                    page,
                    attempts,
                    error: Box::new(error),
                })?;
        let (list, body) = answer.map_err(|decode| decode.into_list_error(page))?;
        self.pages = page;
        if !self.bodies.insert(self.hasher.hash_one(&body)) {
            return Err(ListError::RepeatedPage { page });
        }
        match self.follow(list.next.as_deref(), page) {
            Ok(next) => self.next = next,
            // The page itself is good: it is given, and the error with the next call.
            Err(error) => self.pending = Some(error),
        }
        Ok(Some(ListPage {
            page,
            list,
            attempts,
        }))
    }

    /// The page a `next` link leads to, if it may be followed.
    fn follow(&mut self, link: Option<&str>, page: u32) -> Result<Option<Uri>, ListError> {
        let Some(link) = link.filter(|link| !link.is_empty()) else {
            return Ok(None);
        };
        let base = self.client.request_builder().list_uri(&ListQuery::new());
        let uri: Uri = link.parse().map_err(|_| ListError::NotTheList { page })?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(ListError::NotTheList { page });
        };
        let origin = |scheme: &str, host: &str, port: Option<u16>| {
            let scheme = scheme.to_ascii_lowercase();
            let port = port.unwrap_or(if scheme == "https" { 443 } else { 80 });
            format!("{scheme}://{}:{port}", host.to_ascii_lowercase())
        };
        let theirs = origin(scheme, authority.host(), authority.port_u16());
        let ours = origin(
            base.scheme_str().unwrap_or_default(),
            base.host().unwrap_or_default(),
            base.port_u16(),
        );
        // User information (`user:pass@`) is part of no origin the client talks to.
        if theirs != ours || authority.as_str().contains('@') {
            return Err(ListError::OtherOrigin {
                page,
                origin: theirs,
            });
        }
        let trimmed = |path: &str| path.trim_end_matches('/').to_owned();
        if trimmed(uri.path()) != trimmed(base.path()) {
            return Err(ListError::NotTheList { page });
        }
        if !self.visited.insert(page_key(&uri)) {
            return Err(ListError::Loop { page });
        }
        Ok(Some(uri))
    }
}

/// A page's identity for loop detection: its query's pairs, sorted, with the first page's
/// missing `page` read as `page=1`, so that `?perPage=2` and `?page=1&perPage=2` are one page.
fn page_key(uri: &Uri) -> String {
    let mut pairs: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .collect();
    if !pairs.iter().any(|pair| pair.starts_with("page=")) {
        pairs.push("page=1");
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs.join("&")
}

/// A list error without a transport error, for any transport.
fn widen<E>(error: ListError) -> ListError<E> {
    match error {
        ListError::Page {
            page,
            attempts,
            error,
        } => ListError::Page {
            page,
            attempts,
            error: Box::new(error.with_transport()),
        },
        ListError::Decode {
            page,
            path,
            reason,
            line,
            column,
        } => ListError::Decode {
            page,
            path,
            reason,
            line,
            column,
        },
        ListError::OtherOrigin { page, origin } => ListError::OtherOrigin { page, origin },
        ListError::NotTheList { page } => ListError::NotTheList { page },
        ListError::Loop { page } => ListError::Loop { page },
        ListError::RepeatedPage { page } => ListError::RepeatedPage { page },
        ListError::TooManyPages { limit } => ListError::TooManyPages { limit },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_page_and_page_one_are_the_same_page() {
        let key = |text: &str| page_key(&text.parse().unwrap());
        assert_eq!(
            key("https://a/kyc/identifications/?perPage=2"),
            key("https://a/kyc/identifications/?page=1&perPage=2")
        );
        assert_ne!(
            key("https://a/kyc/identifications/?perPage=2"),
            key("https://a/kyc/identifications/?page=2&perPage=2")
        );
    }

    #[test]
    fn a_page_needs_results_with_valid_scan_refs() {
        let page = |body: &str| {
            parse_list_page(
                Response::builder()
                    .header("content-type", "application/json")
                    .body(body.to_owned())
                    .unwrap(),
                1 << 20,
                3,
            )
        };
        let list = page(r#"{"count": 1, "next": null, "previous": null, "results": [{"scanRef": "a-1", "status": "APPROVED", "suspected": false}]}"#).unwrap();
        assert_eq!(list.results.unwrap().len(), 1);
        for (body, path) in [
            (r#"{"count": 0}"#, "results"),
            (
                r#"{"results": [{"status": "APPROVED"}]}"#,
                "results[0].scanRef",
            ),
            (r#"{"results": [{"scanRef": "a b"}]}"#, "results[0].scanRef"),
        ] {
            match page(body) {
                Err(ListError::Decode {
                    page: 3,
                    path: found,
                    ..
                }) => assert_eq!(found, path),
                other => panic!("{body}: {other:?}"),
            }
        }
        let Err(ListError::Page { error, .. }) = page("<html>oops</html>") else {
            panic!("an HTML page is no page of the list")
        };
        assert!(matches!(*error, Error::UnexpectedResponse(_)), "{error:?}");
    }

    #[test]
    fn the_page_size_is_bounded() {
        assert_eq!(ListQuery::new().per_page(0).page_size(), Some(1));
        assert_eq!(
            ListQuery::new().per_page(1_000_000).page_size(),
            Some(MAX_PER_PAGE)
        );
        assert_eq!(ListQuery::new().max_pages(0).page_limit(), 1);
        assert_eq!(ListQuery::new().query_string(), "");
    }
}
