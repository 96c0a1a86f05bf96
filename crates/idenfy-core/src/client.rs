//! The client: validated lookups with retries, time limits and a body cap,
//! over any [`Transport`].

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, Uri};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::credential_mask::CredentialMask;
use crate::deletion::{attempt_leaves_outcome_unknown, deletion_answer};
use crate::error::{Error, Timeout, TimeoutKind};
use crate::jitter::Jitter;
use crate::list::{ListPages, PageDecodeError, page_answer};
use crate::models::IdentificationList;
use crate::models::{FileUrls, FullStatus, IdentificationData, IdentificationStatus};
use crate::report::DEFAULT_MAX_REPORT_BYTES;
use crate::report::parse_report_masked;
use crate::response::{DEFAULT_MAX_BODY_BYTES, WellFormedJson, parse_response_for, retry_after_of};
use crate::retry::{AttemptOutcome, GiveUpReason, RetryDecision};
use crate::transport::race_with;
use crate::user_agent::ApplicationName;
use crate::{
    BaseUrl, Credentials, Endpoint, EndpointResponse, RequestBuilder, ResponseBodyLimit,
    RetryPolicy, ScanRef, Timer, Transport,
};
use crate::{Deletion, DeletionFailure, ListQuery, Report, Target, deletion_retryable};

/// Default limit for one attempt, request and whole body.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit for a whole call, retries and waits included.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// Looks up identification results over transport `T`, waiting with timer `K`.
///
/// Cloning is not needed for concurrency: every method takes `&self`.
///
/// ```
/// use idenfy_core::{Client, Credentials};
/// # async fn example() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # let transport = |_request: http::Request<bytes::Bytes>| async {
/// #     Ok::<_, std::io::Error>(http::Response::new(bytes::Bytes::from_static(br#"{"status":"APPROVED"}"#)))
/// # };
/// # let timer = |_duration| std::future::ready(());
/// let client = Client::builder(Credentials::new("key", "secret")?)
///     .max_body_bytes(1 << 20)
///     .build(transport, timer);
/// let status = client.status(&"scan-ref-1".parse()?).await?;
/// # Ok(()) }
/// ```
pub struct Client<T, K> {
    transport: T,
    timer: K,
    requests: RequestBuilder,
    base_url: BaseUrl,
    api_key: String,
    credential_mask: CredentialMask,
    retry_policy: RetryPolicy,
    max_body_bytes: usize,
    max_report_bytes: usize,
    attempt_timeout: Duration,
    deadline: Duration,
    jitter: Jitter,
}

/// Settings for a [`Client`]; every one has a sensible default.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    credentials: Credentials,
    base_url: BaseUrl,
    retry_policy: RetryPolicy,
    max_body_bytes: usize,
    max_report_bytes: usize,
    attempt_timeout: Duration,
    deadline: Duration,
    application: Option<ApplicationName>,
}

impl ClientBuilder {
    /// The application using the client, named in every request's `User-Agent` after
    /// `idenfy-rs/VERSION` (default: none).
    pub fn application(mut self, application: ApplicationName) -> Self {
        self.application = Some(application);
        self
    }

    /// The API's base URL (default `https://ivs.idenfy.com`).
    pub fn base_url(mut self, base_url: BaseUrl) -> Self {
        self.base_url = base_url;
        self
    }

    /// The retry rules (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry_policy: RetryPolicy) -> Self {
        self.retry_policy = retry_policy;
        self
    }

    /// The largest response body accepted, in bytes (default 4 MiB).
    pub fn max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// The largest answer to `/generate-pdf` accepted, in bytes (default 64 MiB).
    pub fn max_report_bytes(mut self, max_report_bytes: usize) -> Self {
        self.max_report_bytes = max_report_bytes;
        self
    }

    /// The time limit of one attempt, from sending to the last body byte (default 10 s).
    pub fn attempt_timeout(mut self, attempt_timeout: Duration) -> Self {
        self.attempt_timeout = attempt_timeout;
        self
    }

    /// The time limit of a whole call, retries included (default 30 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The credentials the builder was made with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Builds the client on `transport`, waiting with `timer`.
    pub fn build<T: Transport, K: Timer>(self, transport: T, timer: K) -> Client<T, K> {
        Client {
            transport,
            timer,
            requests: match &self.application {
                Some(application) => RequestBuilder::new(&self.base_url, &self.credentials)
                    .with_application(application),
                None => RequestBuilder::new(&self.base_url, &self.credentials),
            },
            api_key: self.credentials.api_key().to_owned(),
            credential_mask: CredentialMask::new(&self.credentials),
            base_url: self.base_url,
            retry_policy: self.retry_policy,
            max_body_bytes: self.max_body_bytes,
            max_report_bytes: self.max_report_bytes,
            attempt_timeout: self.attempt_timeout,
            deadline: self.deadline,
            jitter: Jitter::new(),
        }
    }
}

impl Client<(), ()> {
    /// Starts configuring a client.
    pub fn builder(credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            credentials,
            base_url: BaseUrl::default(),
            retry_policy: RetryPolicy::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_report_bytes: DEFAULT_MAX_REPORT_BYTES,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            application: None,
        }
    }
}

/// A successful lookup with what [`Client::lookup_with_body`] keeps beside the value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Lookup<R> {
    /// The decoded response.
    pub value: R,
    /// The response body exactly as the API sent it.
    pub body: Bytes,
    /// How many attempts the lookup took; more than one means it was retried.
    pub attempts: u32,
}

/// A failed lookup of [`Client::lookup_with_body`] or [`Client::lookup_raw`]: the error of the
/// last attempt, and how many attempts were made before the client gave up. The count is kept
/// beside the error, as [`Lookup`] keeps it beside the value: the error itself comes from
/// parsing one response, which knows nothing of the attempts before it.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
#[non_exhaustive]
pub struct LookupFailure<E> {
    /// What went wrong in the last attempt.
    #[source]
    pub error: Error<E>,
    /// How many attempts were made; more than one means the lookup was retried.
    pub attempts: u32,
}

impl<T: Transport, K: Timer> Client<T, K> {
    /// `POST /api/v2/status`: the identification's overall status.
    ///
    /// # Errors
    /// See [`Error`]; retryable failures are retried first.
    pub async fn status(
        &self,
        scan_ref: &ScanRef,
    ) -> Result<IdentificationStatus, Error<T::Error>> {
        self.lookup(scan_ref).await
    }

    /// `POST /api/v2/data`: the data read from the document.
    ///
    /// # Errors
    /// See [`Error`]; retryable failures are retried first.
    pub async fn data(&self, scan_ref: &ScanRef) -> Result<IdentificationData, Error<T::Error>> {
        self.lookup(scan_ref).await
    }

    /// `POST /api/v2/files`: URLs of the identification's photos and videos.
    ///
    /// # Errors
    /// See [`Error`]; retryable failures are retried first.
    pub async fn files(&self, scan_ref: &ScanRef) -> Result<FileUrls, Error<T::Error>> {
        self.lookup(scan_ref).await
    }

    /// `POST /api/v2/full-status`: automatic and manual review results.
    ///
    /// # Errors
    /// See [`Error`]; retryable failures are retried first.
    pub async fn full_status(&self, scan_ref: &ScanRef) -> Result<FullStatus, Error<T::Error>> {
        self.lookup(scan_ref).await
    }

    /// Looks up the endpoint that returns `R`.
    ///
    /// # Errors
    /// See [`Error`]; retryable failures are retried first.
    pub async fn lookup<R: EndpointResponse>(
        &self,
        scan_ref: &ScanRef,
    ) -> Result<R, Error<T::Error>> {
        self.lookup_with_body(scan_ref)
            .await
            .map(|lookup| lookup.value)
            .map_err(|failure| failure.error)
    }

    /// Looks up the endpoint that returns `R`, and keeps the body as the API sent it and the
    /// number of attempts beside the decoded value (or beside the error): for tools that store
    /// or forward the API's own JSON, or report on retries.
    ///
    /// # Errors
    /// See [`Error`]; retryable failures are retried first.
    pub async fn lookup_with_body<R: EndpointResponse>(
        &self,
        scan_ref: &ScanRef,
    ) -> Result<Lookup<R>, LookupFailure<T::Error>> {
        self.lookup_as(R::ENDPOINT, scan_ref).await
    }

    /// Looks up `endpoint` and checks that a successful response is a well-formed JSON object
    /// in valid UTF-8 with no key twice in one object, without decoding it into the model: for
    /// tools that store or forward the API's JSON as sent (a bulk export keeps a response even
    /// if its shape departs from the docs). Errors are typed as for every other lookup; a body that is not such an object is
    /// an [`Error::Decode`] (or [`Error::UnexpectedResponse`] when it is not JSON at all).
    ///
    /// # Errors
    /// See [`Error`]; retryable failures are retried first.
    pub async fn lookup_raw(
        &self,
        endpoint: Endpoint,
        scan_ref: &ScanRef,
    ) -> Result<Lookup<WellFormedJson>, LookupFailure<T::Error>> {
        self.lookup_as(endpoint, scan_ref).await
    }

    async fn lookup_as<R: DeserializeOwned + 'static>(
        &self,
        endpoint: Endpoint,
        scan_ref: &ScanRef,
    ) -> Result<Lookup<R>, LookupFailure<T::Error>> {
        let parse = |response: Response<Bytes>, retry_after| {
            // A clone of `Bytes` shares the buffer: keeping the body costs no copy.
            let body = response.body().clone();
            parse_response_for::<R, _>(
                endpoint,
                response,
                self.max_body_bytes,
                retry_after,
                &self.credential_mask,
            )
            .map(|value| (value, body))
        };
        self.call(
            Call::ScanRef(endpoint.into(), scan_ref),
            self.max_body_bytes,
            Resend::Transient,
            parse,
        )
        .await
        .map(|((value, body), attempts)| Lookup {
            value,
            body,
            attempts,
        })
        .map_err(CallFailure::into_lookup_failure)
    }

    /// `POST /api/v2/generate-pdf`: the identification report as a PDF, in whichever shape the
    /// API sends it (see [`parse_report`](crate::parse_report)); the bytes are checked to be a
    /// PDF. Generating a report changes nothing, so it is retried like a lookup.
    ///
    /// # Errors
    /// See [`Error`]; an answer that holds no PDF is [`Error::NotAPdf`].
    pub async fn report(&self, scan_ref: &ScanRef) -> Result<Report, LookupFailure<T::Error>> {
        let limit = self.max_report_bytes;
        let parse = |response: Response<Bytes>, _retry_after| {
            parse_report_masked(response, limit, &self.credential_mask)
        };
        self.call(
            Call::ScanRef(Target::GeneratePdf, scan_ref),
            limit,
            Resend::Transient,
            parse,
        )
        .await
        .map(|(report, attempts)| Report { attempts, ..report })
        .map_err(CallFailure::into_lookup_failure)
    }

    /// `POST /api/v2/delete`: deletes the identification's personal data at iDenfy.
    ///
    /// Deletion is not a read, so it is retried only where the request cannot have reached
    /// the API: a connection that could not be made ([`Transport::is_unsent`]), a 429, and a
    /// 503 that carries `Retry-After`. Everything else ends the call: another status (a 500
    /// or 502 included: the server may have acted), a connection lost after the request was
    /// sent, a timeout. A server error and the last two leave the outcome unknown
    /// ([`DeletionFailure::outcome_unknown`]); settle it with
    /// [`delete_after_unknown`](Self::delete_after_unknown), never by assuming.
    ///
    /// # Errors
    /// See [`Error`]; a 404 is an error here (the scanRef is unknown, or was deleted before).
    pub async fn delete(&self, scan_ref: &ScanRef) -> Result<Deletion, DeletionFailure<T::Error>> {
        self.delete_with(scan_ref, false).await
    }

    /// [`delete`](Self::delete) for a scanRef whose earlier deletion ended with its outcome
    /// unknown (the connection was lost after the request was sent, or it timed out). A 404
    /// then means the earlier request did its work: the call succeeds with
    /// [`DeletionConfirmation::AlreadyGone`](crate::DeletionConfirmation::AlreadyGone). Only
    /// use it when an earlier outcome really is unknown; otherwise a 404 is an unknown
    /// scanRef, and [`delete`](Self::delete) says so.
    ///
    /// # Errors
    /// As [`delete`](Self::delete), except for the 404.
    pub async fn delete_after_unknown(
        &self,
        scan_ref: &ScanRef,
    ) -> Result<Deletion, DeletionFailure<T::Error>> {
        self.delete_with(scan_ref, true).await
    }

    async fn delete_with(
        &self,
        scan_ref: &ScanRef,
        earlier_unknown: bool,
    ) -> Result<Deletion, DeletionFailure<T::Error>> {
        let answer = |response: Response<Bytes>, _retry_after| {
            deletion_answer(&response, earlier_unknown, &self.credential_mask)
        };
        let body_limit = self.max_body_bytes;
        match self
            .call(
                Call::ScanRef(Target::Delete, scan_ref),
                body_limit,
                Resend::Unsent,
                answer,
            )
            .await
        {
            Ok((confirmation, attempts)) => Ok(Deletion {
                confirmation,
                attempts,
            }),
            Err(failure) => Err(DeletionFailure {
                // Only the last attempt can have left the outcome unknown: an attempt that
                // may have reached the API is never sent again.
                outcome_unknown: earlier_unknown
                    || attempt_leaves_outcome_unknown(&failure.outcome, failure.unsent),
                error: failure.error,
                attempts: failure.attempts,
            }),
        }
    }

    /// `GET /kyc/identifications/`: the account's identifications, a page at a time, from the
    /// first page `query` describes on through each page's `next` link.
    ///
    /// A link is followed only to the list on the base URL's origin (scheme, host and port):
    /// one anywhere else ends the walk with [`ListError::OtherOrigin`](crate::ListError::OtherOrigin),
    /// and nothing, credentials least of all, is sent there. A link back to a page already read
    /// or a page that repeats an earlier one ends it as a loop, and at most
    /// [`ListQuery::max_pages`] pages are read ([`DEFAULT_MAX_PAGES`](crate::DEFAULT_MAX_PAGES)
    /// by default). Each page is a read, retried as a lookup is, within the body cap and the
    /// deadline.
    ///
    /// ```
    /// # async fn example<T: idenfy_core::Transport, K: idenfy_core::Timer>(
    /// #     client: &idenfy_core::Client<T, K>,
    /// # ) -> Result<(), idenfy_core::ListError<T::Error>> {
    /// use idenfy_core::ListQuery;
    /// let mut pages = client.identifications(&ListQuery::new().per_page(100));
    /// while let Some(page) = pages.next_page().await? {
    ///     for item in page.items() {
    ///         println!("{:?} {:?}", item.scan_ref, item.status);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn identifications(&self, query: &ListQuery) -> ListPages<'_, T, K> {
        ListPages::new(self, query)
    }

    /// One page of the list at `uri` (checked by the caller), with its body for the repeat
    /// check, and the number of attempts.
    #[allow(clippy::type_complexity)]
    pub(crate) async fn list_page(
        &self,
        uri: &Uri,
        page: u32,
    ) -> Result<(Result<(IdentificationList, Bytes), PageDecodeError>, u32), (Error<T::Error>, u32)>
    {
        let limit = self.max_body_bytes;
        let answer = |response: Response<Bytes>, retry_after| {
            let body = response.body().clone();
            page_answer(&response, limit, retry_after, &self.credential_mask)
                .map(|page| page.map(|list| (list, body)))
        };
        self.call(Call::Page { uri, page }, limit, Resend::Transient, answer)
            .await
            .map_err(|failure| (failure.error, failure.attempts))
    }

    /// Makes a call: attempts to `target` until `answer` turns a complete answer into the
    /// value, or until a failure that `resend` does not send again, the retry policy's limits
    /// or the deadline end it. Every call the client makes runs here, so the deadline, the
    /// backoff, the counting of attempts, the tracing span and the masking of echoed
    /// credentials are the same for all. The value comes with the number of attempts.
    async fn call<V>(
        &self,
        call: Call<'_>,
        body_limit: usize,
        resend: Resend,
        answer: impl Fn(Response<Bytes>, Option<Duration>) -> Result<V, Error>,
    ) -> Result<(V, u32), CallFailure<T::Error>> {
        // The span names are the ones tools filter on: a deletion is no lookup, nor is a page
        // of the list (whose URL is not logged: its query may hold a clientId).
        let span = match call {
            Call::Page { page, .. } => tracing::info_span!(
                "idenfy.list",
                page,
                attempts = Empty,
                status = Empty,
                latency_ms = Empty,
            ),
            Call::ScanRef(Target::Delete, scan_ref) => tracing::info_span!(
                "idenfy.delete",
                scan_ref = scan_ref.as_str(),
                attempts = Empty,
                status = Empty,
            ),
            Call::ScanRef(target, scan_ref) => tracing::info_span!(
                "idenfy.lookup",
                endpoint = target.name(),
                scan_ref = scan_ref.as_str(),
                attempts = Empty,
                status = Empty,
                latency_ms = Empty,
            ),
        };
        let call = async {
            let started = Instant::now();
            let mut attempts = 0u32;
            let result = loop {
                attempts += 1;
                let remaining = self.deadline.saturating_sub(started.elapsed());
                let sent = self
                    .send_attempt(call, body_limit, attempts, remaining)
                    .await;
                let (error, outcome) = match sent {
                    Ok(response) => {
                        let status = response.status();
                        let retry_after = retry_after_of(&response);
                        match answer(response, retry_after) {
                            Ok(value) => break Ok((value, attempts, status)),
                            // A server may echo the request's credentials; they leave no error.
                            Err(error) => (
                                self.credential_mask.mask_error(error).with_transport(),
                                AttemptOutcome::Status {
                                    status,
                                    retry_after,
                                },
                            ),
                        }
                    }
                    Err(failed) => failed,
                };
                let unsent = matches!(&error, Error::Transport(e) if T::is_unsent(e));
                let remaining = self.deadline.saturating_sub(started.elapsed());
                let decision = if resend.sends_again(&outcome, unsent) && !is_permanent::<T>(&error)
                {
                    self.retry_policy.decide_retryable(
                        attempts,
                        &outcome,
                        remaining,
                        self.jitter.next_u64(),
                    )
                } else {
                    RetryDecision::GiveUp(GiveUpReason::NotRetryable)
                };
                match decision {
                    RetryDecision::RetryAfter(delay) => {
                        tracing::debug!(
                            attempt = attempts,
                            delay_ms = delay.as_millis() as u64,
                            "retrying after a retryable failure"
                        );
                        self.timer.sleep(delay).await;
                    }
                    RetryDecision::GiveUp(reason) => {
                        tracing::debug!(attempt = attempts, ?reason, "giving up");
                        break Err(CallFailure {
                            error,
                            attempts,
                            outcome,
                            unsent,
                        });
                    }
                }
            };
            let span = tracing::Span::current();
            span.record("attempts", attempts);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            let status = match &result {
                Ok((_, _, status)) => Some(*status),
                Err(failure) => failure.error.status(),
            };
            if let Some(status) = status {
                span.record("status", status.as_u16());
            }
            result.map(|(value, attempts, _)| (value, attempts))
        };
        call.instrument(span).await
    }

    /// Sends one attempt, bounded by the attempt timeout and the time left, and returns the
    /// complete answer, or the error and how the attempt ended.
    async fn send_attempt(
        &self,
        call: Call<'_>,
        body_limit: usize,
        attempt: u32,
        remaining: Duration,
    ) -> Result<Response<Bytes>, (Error<T::Error>, AttemptOutcome)> {
        let (limit, kind) = if remaining < self.attempt_timeout {
            (remaining, TimeoutKind::Deadline)
        } else {
            (self.attempt_timeout, TimeoutKind::Attempt)
        };
        let timed_out = || {
            Error::Timeout(Timeout {
                kind,
                limit: match kind {
                    TimeoutKind::Deadline => self.deadline,
                    _ => self.attempt_timeout,
                },
                attempts: attempt,
            })
        };
        if limit.is_zero() {
            return Err((timed_out(), AttemptOutcome::AttemptTimeout));
        }
        let (target, mut request) = match call {
            Call::ScanRef(target, scan_ref) => (target, self.requests.build(target, scan_ref)),
            Call::Page { uri, .. } => (Target::Identifications, self.requests.get(uri)),
        };
        let span = tracing::debug_span!(
            "idenfy.attempt",
            endpoint = target.name(),
            attempt,
            status = Empty,
            latency_ms = Empty,
        );
        request
            .extensions_mut()
            .insert(ResponseBodyLimit(body_limit));
        let started = Instant::now();
        let sent = race_with(self.timer.sleep(limit), self.transport.send(request))
            .instrument(span.clone())
            .await;
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        match sent {
            None => Err((timed_out(), AttemptOutcome::AttemptTimeout)),
            Some(Err(error)) => Err((Error::Transport(error), AttemptOutcome::TransportFailure)),
            Some(Ok(response)) => {
                span.record("status", response.status().as_u16());
                Ok(response)
            }
        }
    }
}

/// What a call asks for: a scanRef's target, or a page of the list at a URL already checked to
/// be the list on the base URL's origin.
#[derive(Debug, Clone, Copy)]
enum Call<'a> {
    ScanRef(Target, &'a ScanRef),
    Page { uri: &'a Uri, page: u32 },
}

/// Whether `error` is a transport failure that trying again cannot mend
/// ([`Transport::is_permanent`]).
fn is_permanent<T: Transport>(error: &Error<T::Error>) -> bool {
    matches!(error, Error::Transport(error) if T::is_permanent(error))
}

/// Which failed attempts a call sends again; the policy's limits apply to both.
#[derive(Debug, Clone, Copy)]
enum Resend {
    /// A read (a lookup, the report): every failure that may pass
    /// ([`RetryPolicy::is_retryable`]).
    Transient,
    /// A deletion: only a failure whose request cannot have reached the API
    /// ([`deletion_retryable`]).
    Unsent,
}

impl Resend {
    /// Whether an attempt that ended as `outcome` is sent again; `unsent`: the transport
    /// failed before sending anything ([`Transport::is_unsent`]).
    fn sends_again(self, outcome: &AttemptOutcome, unsent: bool) -> bool {
        match self {
            Resend::Transient => RetryPolicy::is_retryable(outcome),
            Resend::Unsent => deletion_retryable(outcome, unsent),
        }
    }
}

/// A call that failed: its last attempt's error and how that attempt ended, and the number of
/// attempts; each public method keeps what its failure type holds.
struct CallFailure<E> {
    error: Error<E>,
    attempts: u32,
    outcome: AttemptOutcome,
    unsent: bool,
}

impl<E> CallFailure<E> {
    fn into_lookup_failure(self) -> LookupFailure<E> {
        LookupFailure {
            error: self.error,
            attempts: self.attempts,
        }
    }
}

impl<T, K> Client<T, K> {
    /// The base URL requests go to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The retry rules in use.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry_policy
    }

    /// The request builder, for sending a lookup by other means.
    pub fn request_builder(&self) -> &RequestBuilder {
        &self.requests
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T, K> fmt::Debug for Client<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .field("retry_policy", &self.retry_policy)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("deadline", &self.deadline)
            .field("transport", &std::any::type_name::<T>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use crate::{Client, Credentials, RetryPolicy};

    #[tokio::test]
    async fn a_transport_that_cannot_say_a_request_went_unsent_gets_no_deletion_retried() {
        let sent = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&sent);
        let transport = move |_request: http::Request<bytes::Bytes>| {
            counter.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Err::<http::Response<bytes::Bytes>, _>(
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
            ))
        };
        let client = Client::builder(Credentials::new("key", "secret").unwrap())
            .retry_policy(RetryPolicy::default().with_max_attempts(4))
            .build(transport, |_| std::future::ready(()));
        let failure = client.delete(&"abc".parse().unwrap()).await.unwrap_err();
        assert_eq!(failure.attempts, 1);
        assert!(failure.outcome_unknown);
        assert_eq!(sent.load(Ordering::SeqCst), 1);
        // A lookup on the same transport is retried: it is a read.
        let _ = client.status(&"abc".parse().unwrap()).await;
        assert_eq!(sent.load(Ordering::SeqCst), 5);
    }

    /// 13 characters, none of their 4-character prefixes a word that the messages below hold.
    const LEAKY_SECRET: &str = "Zq8vWx3rTkLm2";

    /// A client whose every answer is a 401 carrying `message` as the API's error message.
    fn answering_401_with(message: String) -> Client<impl crate::Transport, impl crate::Timer> {
        let transport = move |_request: http::Request<bytes::Bytes>| {
            let body = serde_json::json!({"identifier": "UNAUTHORIZED", "message": message});
            std::future::ready(Ok::<_, std::io::Error>(
                http::Response::builder()
                    .status(401)
                    .header("content-type", "application/json")
                    .body(bytes::Bytes::from(body.to_string()))
                    .unwrap(),
            ))
        };
        Client::builder(Credentials::new("the-key", LEAKY_SECRET).unwrap())
            .build(transport, |_| std::future::ready(()))
    }

    fn assert_no_piece_of(shown: &str, needle: &str) {
        for end in 4..=needle.len() {
            assert!(
                !shown
                    .to_ascii_lowercase()
                    .contains(&needle[..end].to_ascii_lowercase()),
                "{:?} of {needle:?} shows in {shown:?}",
                &needle[..end]
            );
        }
    }

    #[tokio::test]
    async fn no_piece_of_the_secret_survives_the_cut_of_a_long_message() {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD_NO_PAD
            .encode(format!("the-key:{LEAKY_SECRET}"));
        let limit = crate::MAX_SERVER_TEXT_CHARS;
        for message in [
            // The secret across the cut: 9 of its 13 characters before it.
            format!("{} {LEAKY_SECRET} was refused", "x".repeat(limit - 10)),
            // The token across the cut: 5 of its characters before it, too few to be a
            // recognisable piece of it on their own.
            format!("{} Basic {token}", "x".repeat(limit - 12)),
            // The server cut its own echo short.
            format!("the secret {}", &LEAKY_SECRET[..9]),
            format!("header Basic {}", &token[..6]),
        ] {
            let client = answering_401_with(message.clone());
            let scan_ref = "abc".parse().unwrap();
            let lookup = client.status(&scan_ref).await.unwrap_err();
            let report = client.report(&scan_ref).await.unwrap_err().error;
            let deletion = client.delete(&scan_ref).await.unwrap_err().error;
            for error in [lookup, report, deletion] {
                assert!(matches!(error, crate::Error::Api(_)), "{error:?}");
                let shown = format!("{error} {error:?}");
                assert_no_piece_of(&shown, LEAKY_SECRET);
                assert_no_piece_of(&shown, &token);
            }
        }
    }
}
