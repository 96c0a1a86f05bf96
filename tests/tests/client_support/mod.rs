//! Shared by the client end-to-end tests: a sandbox, and transports that ask it for faults.

#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request};
use idenfy_core::{BaseUrl, Client, Credentials, RetryPolicy, Transport};
use idenfy_hyper::{HyperTransport, TokioTimer};
use idenfy_sandbox::{DEFAULT_API_KEY, DEFAULT_API_SECRET, FAULT_HEADER, Sandbox, SandboxHandle};

pub async fn sandbox() -> SandboxHandle {
    Sandbox::builder()
        .port(0)
        .start()
        .await
        .expect("the sandbox starts on 127.0.0.1")
}

pub fn credentials() -> Credentials {
    Credentials::new(DEFAULT_API_KEY, DEFAULT_API_SECRET).unwrap()
}

pub fn base_url(sandbox: &SandboxHandle) -> BaseUrl {
    BaseUrl::parse(&sandbox.base_url()).unwrap()
}

/// Retries fast enough for tests, bounded attempts and time.
pub fn test_builder(sandbox: &SandboxHandle) -> idenfy_core::ClientBuilder {
    Client::builder(credentials())
        .base_url(base_url(sandbox))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .attempt_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(10))
}

/// Wraps any transport so every request asks the sandbox for `spec`.
pub fn with_fault<T>(inner: T, spec: &'static str) -> impl Transport<Error = T::Error>
where
    T: Transport + Clone + 'static,
{
    let name = HeaderName::from_bytes(FAULT_HEADER.as_bytes()).unwrap();
    move |mut request: Request<Bytes>| {
        request
            .headers_mut()
            .insert(name.clone(), HeaderValue::from_static(spec));
        let inner = inner.clone();
        async move { inner.send(request).await }
    }
}

/// The hyper client of `idenfy-hyper`, asking the sandbox for `spec`.
pub fn hyper_with_fault(
    sandbox: &SandboxHandle,
    spec: &'static str,
) -> Client<impl Transport<Error = idenfy_hyper::HyperError>, TokioTimer> {
    test_builder(sandbox).build(with_fault(HyperTransport::new().unwrap(), spec), TokioTimer)
}
