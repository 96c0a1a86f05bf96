//! [`Transport`] over hyper-util's pooled client.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer as PoolTimer};
use idenfy_core::{ResponseBodyLimit, Transport};

use crate::BuildError;
use crate::tls::{Connector, connector};

/// Connection settings of a [`HyperTransport`].
#[derive(Debug, Clone)]
pub(crate) struct ConnectionSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) pool_max_idle_per_host: usize,
    /// Whether the base URL needs TLS; without it, no TLS connector is set up.
    pub(crate) tls: bool,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle_per_host: 32,
            tls: true,
        }
    }
}

/// Sends lookups over pooled HTTP/1.1 keep-alive connections (hyper-util's
/// legacy client), with TLS from the enabled feature.
///
/// Reads response bodies frame by frame and stops as soon as the
/// [`ResponseBodyLimit`] is passed, so an endless body costs at most the limit.
#[derive(Clone, Debug)]
pub struct HyperTransport {
    pool: Pool,
}

/// The pooled client, with or without TLS.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Tls(PooledClient<Connector, Full<Bytes>>),
    /// For plain-HTTP base URLs only (the sandbox, a local test server).
    Plain(PooledClient<HttpConnector, Full<Bytes>>),
}

impl HyperTransport {
    /// A transport with the default connection settings (5 s connect timeout).
    ///
    /// # Errors
    /// [`BuildError::Tls`] when the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, BuildError> {
        Self::with_settings(&ConnectionSettings::default())
    }

    pub(crate) fn with_settings(settings: &ConnectionSettings) -> Result<Self, BuildError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(settings.connect_timeout));
        // Requests are small and latency-bound; Nagle's algorithm only delays them.
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        let mut builder = PooledClient::builder(TokioExecutor::new());
        builder
            .pool_timer(PoolTimer::new())
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host);
        let pool = if settings.tls {
            Pool::Tls(builder.build(connector(http)?))
        } else {
            Pool::Plain(builder.build(http))
        };
        Ok(Self { pool })
    }

    /// The connection pool, shared with downloads so that they use the same connections, TLS
    /// and connect timeout as lookups.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// Why hyper could not deliver a complete response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HyperError {
    /// Connecting, sending, or receiving the response head failed.
    #[error("could not send the request or read the response head: {0}")]
    Request(#[source] hyper_util::client::legacy::Error),
    /// The connection failed while the body was being read.
    #[error("the connection failed while reading the response body: {0}")]
    Body(#[source] hyper::Error),
}

impl HyperError {
    /// Whether the failure happened while connecting (nothing was sent).
    pub fn is_connect(&self) -> bool {
        matches!(self, HyperError::Request(error) if error.is_connect())
    }
}

impl Transport for HyperTransport {
    type Error = HyperError;

    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HyperError> {
        let limit = ResponseBodyLimit::of(&request);
        let request = request.map(Full::new);
        let response = match &self.pool {
            Pool::Tls(client) => client.request(request).await,
            Pool::Plain(client) => client.request(request).await,
        }
        .map_err(HyperError::Request)?;
        let (parts, mut body) = response.into_parts();
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|declared| declared > limit as u64) {
            // The core reports the declared size; dropping the body closes
            // the connection instead of downloading it.
            return Ok(Response::from_parts(parts, Bytes::new()));
        }
        let mut collected =
            BytesMut::with_capacity(declared.map_or(8 * 1024, |declared| declared as usize));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(HyperError::Body)?;
            if let Ok(data) = frame.into_data() {
                collected.extend_from_slice(&data);
                if collected.len() > limit {
                    break;
                }
            }
        }
        Ok(Response::from_parts(parts, collected.freeze()))
    }
}
