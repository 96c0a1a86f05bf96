//! The ready-to-use client: [`idenfy_core::Client`] on [`HyperTransport`] and tokio's timer.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use idenfy_core::{
    ApplicationName, BaseUrl, Credentials, DownloadUrl, LookupFailure, Report, RetryPolicy, ScanRef,
};

use crate::transport::ConnectionSettings;
use crate::{
    BuildError, Download, DownloadError, DownloadLimits, HyperError, HyperTransport, Proxy,
    RootCertificates, TokioTimer,
};

/// The error of every lookup made with [`Client`].
pub type Error = idenfy_core::Error<crate::HyperError>;

/// Environment variable holding the API key.
pub const API_KEY_ENV: &str = "IDENFY_API_KEY";
/// Environment variable holding the API secret.
pub const API_SECRET_ENV: &str = "IDENFY_API_SECRET";
/// Optional environment variable overriding the base URL.
pub const BASE_URL_ENV: &str = "IDENFY_BASE_URL";

/// An iDenfy client over hyper: pooled keep-alive connections, TLS, retries,
/// time limits and a response body cap.
///
/// A shared handle to an [`idenfy_core::Client`] on [`HyperTransport`]: every method of that
/// client (`status`, `full_status`, `lookup_raw`, `report`, `delete`, ...) is called on this
/// one through `Deref`; what only hyper has (the constructors, the connection settings, the
/// downloads, `report_to`) is declared here.
///
/// Cheap to share: put it in an `Arc` or clone it (clones share the pool).
#[derive(Clone)]
pub struct Client {
    inner: std::sync::Arc<idenfy_core::Client<HyperTransport, TokioTimer>>,
    download_limits: DownloadLimits,
}

impl Client {
    /// A client with default settings for `credentials`.
    ///
    /// # Errors
    /// [`BuildError::Tls`] when the TLS backend cannot be initialised.
    pub fn new(credentials: Credentials) -> Result<Self, BuildError> {
        Self::builder(credentials).build()
    }

    /// A client configured from `IDENFY_API_KEY`, `IDENFY_API_SECRET` and the
    /// optional `IDENFY_BASE_URL`.
    ///
    /// # Errors
    /// [`BuildError`] naming the missing or invalid variable.
    pub fn from_env() -> Result<Self, BuildError> {
        Self::builder_from_env()?.build()
    }

    /// A builder preloaded from the environment, as [`Client::from_env`] reads it.
    ///
    /// # Errors
    /// [`BuildError`] naming the missing or invalid variable.
    pub fn builder_from_env() -> Result<ClientBuilder, BuildError> {
        let api_key = read_env(API_KEY_ENV)?;
        let api_secret = read_env(API_SECRET_ENV)?;
        let credentials = Credentials::new(api_key, api_secret)?;
        let mut builder = Self::builder(credentials);
        match std::env::var(BASE_URL_ENV) {
            Ok(value) if !value.trim().is_empty() => {
                builder = builder.base_url(value.parse()?);
            }
            Ok(_) | Err(std::env::VarError::NotPresent) => {}
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(BuildError::NotUnicode { name: BASE_URL_ENV });
            }
        }
        Ok(builder)
    }

    /// Starts configuring a client.
    pub fn builder(credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            core: idenfy_core::Client::builder(credentials),
            connection: ConnectionSettings::default(),
            download_limits: DownloadLimits::default(),
        }
    }

    /// [`report`](idenfy_core::Client::report), written to `writer`: the PDF is checked whole before its
    /// first byte is written (an answer in base64 or JSON cannot be checked piecemeal), so a
    /// refused answer writes nothing. Returns the report with its bytes.
    ///
    /// # Errors
    /// [`ReportError::Lookup`] as [`report`](idenfy_core::Client::report);
    /// [`ReportError::Write`] when the
    /// writer fails.
    pub async fn report_to<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        scan_ref: &ScanRef,
        writer: &mut W,
    ) -> Result<Report, ReportError> {
        use tokio::io::AsyncWriteExt as _;
        let report = self.report(scan_ref).await.map_err(ReportError::Lookup)?;
        writer
            .write_all(&report.pdf)
            .await
            .map_err(ReportError::Write)?;
        writer.flush().await.map_err(ReportError::Write)?;
        Ok(report)
    }

    /// Starts downloading a file (a URL from [`files`](idenfy_core::Client::files)) within the client's
    /// [`DownloadLimits`], on the same connection pool, TLS and connect timeout as the lookups.
    /// No credentials are sent: file URLs are presigned.
    ///
    /// Returns once a `200 OK` head has arrived; read the body with [`Download::chunk`].
    ///
    /// ```no_run
    /// # async fn run(client: idenfy_hyper::Client, files: idenfy_hyper::models::FileUrls)
    /// # -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// if let Some(front) = &files.front {
    ///     let mut download = client.download(&front.parse()?).await?;
    ///     let mut photo = Vec::new();
    ///     while let Some(chunk) = download.chunk().await? {
    ///         photo.extend_from_slice(&chunk);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`DownloadError`]: the connection, a status other than 200, a stall, the deadline, an
    /// announced size over the limit. Downloads are not retried.
    pub async fn download(&self, url: &DownloadUrl) -> Result<Download, DownloadError> {
        self.download_with(url, &self.download_limits).await
    }

    /// [`Client::download`] within other limits.
    ///
    /// # Errors
    /// As [`Client::download`].
    pub async fn download_with(
        &self,
        url: &DownloadUrl,
        limits: &DownloadLimits,
    ) -> Result<Download, DownloadError> {
        let user_agent = self.inner.request_builder().user_agent();
        crate::download::start(self.inner.transport(), url, limits, user_agent).await
    }

    /// The limits of [`Client::download`].
    pub fn download_limits(&self) -> &DownloadLimits {
        &self.download_limits
    }

    /// The transport-agnostic client underneath, which `Deref` also reaches.
    pub fn core(&self) -> &idenfy_core::Client<HyperTransport, TokioTimer> {
        &self.inner
    }
}

/// The lookups, the report and deletion are the core client's own methods
/// ([`idenfy_core::Client`]): declared and documented once, there.
impl Deref for Client {
    type Target = idenfy_core::Client<HyperTransport, TokioTimer>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

/// A failed [`Client::report_to`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The report could not be had.
    #[error(transparent)]
    Lookup(LookupFailure<HyperError>),
    /// The report could not be written.
    #[error("could not write the report: {0}")]
    Write(#[source] std::io::Error),
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

fn read_env(name: &'static str) -> Result<String, BuildError> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(BuildError::MissingEnv { name }),
        Err(std::env::VarError::NotUnicode(_)) => Err(BuildError::NotUnicode { name }),
    }
}

/// Settings for a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    core: idenfy_core::ClientBuilder,
    connection: ConnectionSettings,
    download_limits: DownloadLimits,
}

impl ClientBuilder {
    /// The API's base URL (default `https://ivs.idenfy.com`).
    pub fn base_url(mut self, base_url: BaseUrl) -> Self {
        // A plain-HTTP base URL (a local sandbox) needs no TLS, whose set-up (loading the
        // system's certificates) costs more than a run of a few lookups.
        self.connection.tls = base_url.as_str().starts_with("https:");
        self.core = self.core.base_url(base_url);
        self
    }

    /// The retry rules (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry_policy: RetryPolicy) -> Self {
        self.core = self.core.retry_policy(retry_policy);
        self
    }

    /// The largest response body accepted, in bytes (default 4 MiB).
    pub fn max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.core = self.core.max_body_bytes(max_body_bytes);
        self
    }

    /// The largest answer to `/generate-pdf` accepted, in bytes (default 64 MiB).
    pub fn max_report_bytes(mut self, max_report_bytes: usize) -> Self {
        self.core = self.core.max_report_bytes(max_report_bytes);
        self
    }

    /// The time limit of one attempt, from sending to the last body byte (default 10 s).
    pub fn attempt_timeout(mut self, attempt_timeout: Duration) -> Self {
        self.core = self.core.attempt_timeout(attempt_timeout);
        self
    }

    /// The time limit of a whole call, retries included (default 30 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.core = self.core.deadline(deadline);
        self
    }

    /// The time limit for opening a TCP connection (default 5 s).
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connection.connect_timeout = connect_timeout;
        self
    }

    /// How long an unused keep-alive connection stays in the pool (default 60 s).
    pub fn pool_idle_timeout(mut self, pool_idle_timeout: Duration) -> Self {
        self.connection.pool_idle_timeout = pool_idle_timeout;
        self
    }

    /// How many idle connections the pool keeps (default 32).
    pub fn pool_max_idle(mut self, pool_max_idle: usize) -> Self {
        self.connection.pool_max_idle_per_host = pool_max_idle;
        self
    }

    /// Which proxy to go through (default [`Proxy::from_env`]: `HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY` and `NO_PROXY`). Lookups, reports and downloads all take it.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.connection.proxy = proxy;
        self
    }

    /// Trusts `roots` too, beside the TLS backend's own roots (see the crate's "Trust"):
    /// a company's CA that a TLS-inspecting proxy signs with, or a private server's. May be
    /// called more than once.
    pub fn add_root_certificates(mut self, roots: RootCertificates) -> Self {
        self.connection.roots.extend(roots);
        self
    }

    /// The application using the client, named in the `User-Agent` of every request and
    /// download after `idenfy-rs/VERSION`.
    pub fn application(mut self, application: ApplicationName) -> Self {
        self.core = self.core.application(application);
        self
    }

    /// The size and time limits of [`Client::download`] (default [`DownloadLimits::default`]:
    /// 1 GiB, 10 s without a byte, 10 minutes in all).
    pub fn download_limits(mut self, download_limits: DownloadLimits) -> Self {
        self.download_limits = download_limits;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`BuildError::Tls`] when the TLS backend cannot be initialised.
    pub fn build(self) -> Result<Client, BuildError> {
        let transport = HyperTransport::with_settings(&self.connection)?;
        Ok(Client {
            inner: std::sync::Arc::new(self.core.build(transport, TokioTimer)),
            download_limits: self.download_limits,
        })
    }
}
