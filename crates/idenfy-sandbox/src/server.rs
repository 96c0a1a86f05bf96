//! Starting and stopping the server: builder, handle, accept loop.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use bytes::Bytes;
use idenfy_core::callback::CallbackSecret;

use crate::auth::Credentials;
use crate::callback::{self, Delivery, DeliveryError, DeliveryOptions};
use crate::downloads::MediaCache;
use crate::fault::FaultCounters;
use crate::fixtures::{FixtureError, Fixtures};
use crate::router::{self, State};
use crate::signing::UrlSigner;
use crate::{DEFAULT_API_KEY, DEFAULT_API_SECRET};

/// How long a connection may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an in-flight response may run on after the handle is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The fixtures were refused.
    #[error(transparent)]
    Fixtures(#[from] FixtureError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The IO error.
        source: std::io::Error,
    },
    /// The operating system gave no randomness for the URL-signing key.
    #[error("cannot draw a random key for download URLs: {0}")]
    Randomness(String),
    /// The API secret cannot key callback signatures: it has white space or a control
    /// character, which iDenfy's secrets never have (idenfy-core's rule for a secret).
    #[error("the sandbox's API secret cannot sign callbacks: {0}")]
    Secret(idenfy_core::CredentialsError),
    /// An empty API key or secret would let any client in.
    #[error("the sandbox's API key and secret must not be empty")]
    EmptyCredentials,
    /// The public URL is not an `http` or `https` URL of a host, without path or query.
    #[error(
        "the public URL must be `http://HOST[:PORT]` or `https://HOST[:PORT]`, without path or query: {0}"
    )]
    PublicUrl(String),
}

/// Entry point: `Sandbox::builder()`.
#[derive(Debug, Clone, Copy)]
pub struct Sandbox;

impl Sandbox {
    /// A builder with the default credentials, the built-in fixtures, and
    /// any free port on 127.0.0.1.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
}

/// Configures and starts a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    api_key: String,
    api_secret: Redacted,
    builtin: bool,
    fixtures: Fixtures,
    fixture_files: Vec<PathBuf>,
    host: IpAddr,
    port: u16,
    file_url_ttl: Duration,
    max_body_bytes: usize,
    body_read_timeout: Duration,
    access_log: bool,
    public_url: Option<String>,
}

/// The API secret, which `Debug` does not show.
#[derive(Clone, PartialEq, Eq)]
struct Redacted(String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            api_key: DEFAULT_API_KEY.to_owned(),
            api_secret: Redacted(DEFAULT_API_SECRET.to_owned()),
            builtin: true,
            fixtures: Fixtures::empty(),
            fixture_files: Vec::new(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            file_url_ttl: Duration::from_secs(3600),
            max_body_bytes: crate::DEFAULT_MAX_REQUEST_BODY_BYTES,
            body_read_timeout: Duration::from_secs(30),
            access_log: false,
            public_url: None,
        }
    }
}

impl SandboxBuilder {
    /// The API key and secret requests must carry (HTTP Basic).
    pub fn credentials(
        mut self,
        api_key: impl Into<String>,
        api_secret: impl Into<String>,
    ) -> Self {
        self.api_key = api_key.into();
        self.api_secret = Redacted(api_secret.into());
        self
    }

    /// Adds fixtures; they replace built-in ones with the same scanRef.
    pub fn fixtures(mut self, fixtures: Fixtures) -> Self {
        self.fixtures.merge(fixtures);
        self
    }

    /// Adds the fixtures of a file, read and checked by [`SandboxBuilder::start`].
    pub fn fixtures_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.fixture_files.push(path.into());
        self
    }

    /// Serves only the fixtures given explicitly, not the built-in ones.
    pub fn without_builtin_fixtures(mut self) -> Self {
        self.builtin = false;
        self
    }

    /// The port to listen on; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The address to listen on; 127.0.0.1 by default.
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// How long `/files` download URLs stay valid (default one hour).
    pub fn file_url_ttl(mut self, ttl: Duration) -> Self {
        self.file_url_ttl = ttl;
        self
    }

    /// The largest request body accepted (default
    /// [`DEFAULT_MAX_REQUEST_BODY_BYTES`](crate::DEFAULT_MAX_REQUEST_BODY_BYTES)); larger gets 413.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// How long a request body may take to arrive once the headers have (default 30 s);
    /// slower gets 408, so a stalled client cannot hold a connection forever.
    pub fn body_read_timeout(mut self, limit: Duration) -> Self {
        self.body_read_timeout = limit;
        self
    }

    /// Writes one access-log line per request to stderr (off by default in
    /// the library, on in the binary). Lines are also emitted as `tracing`
    /// events either way.
    pub fn access_log(mut self, enabled: bool) -> Self {
        self.access_log = enabled;
        self
    }

    /// The base URL clients reach the sandbox at, used in the `/files` download URLs, like
    /// `http://sandbox.test:8080`. By default it is the address the sandbox listens on, with
    /// 127.0.0.1 (or `::1`) standing for an unspecified address such as 0.0.0.0, which no client
    /// can connect to.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Whether this configuration listens beyond this machine with the well-known default
    /// credentials, which anyone who can reach the port knows.
    pub fn is_exposed_with_default_credentials(&self) -> bool {
        !self.host.is_loopback()
            && self.api_key == DEFAULT_API_KEY
            && self.api_secret.0 == DEFAULT_API_SECRET
    }

    /// Loads the fixtures, binds, and starts serving in the background.
    ///
    /// # Errors
    /// [`SandboxError`]: empty credentials, a malformed public URL, fixtures that are refused,
    /// an address that cannot be bound.
    pub async fn start(self) -> Result<SandboxHandle, SandboxError> {
        let public_url = self.checked_public_url()?;
        let addr = SocketAddr::new(self.host, self.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let base_url = public_url.unwrap_or_else(|| advertised_url(local_addr));
        let state = Arc::new(self.state(base_url)?);
        let (shutdown, stopped) = watch::channel(());
        tokio::spawn(accept_loop(listener, state.clone(), stopped));
        Ok(SandboxHandle {
            local_addr,
            state,
            _shutdown: shutdown,
        })
    }
}

impl SandboxBuilder {
    /// The sandbox without a listener: it serves connections handed to it, each an HTTP/1.1
    /// byte stream, for in-process tests and fuzzing. Download URLs point at `base_url` (or the
    /// public URL, if one was set).
    ///
    /// # Errors
    /// As [`SandboxBuilder::start`], except binding.
    pub fn in_process(self, base_url: &str) -> Result<InProcessSandbox, SandboxError> {
        let base_url = self
            .checked_public_url()?
            .unwrap_or_else(|| base_url.trim_end_matches('/').to_owned());
        Ok(InProcessSandbox {
            state: Arc::new(self.state(base_url)?),
        })
    }

    fn checked_public_url(&self) -> Result<Option<String>, SandboxError> {
        if self.api_key.is_empty() || self.api_secret.0.is_empty() {
            return Err(SandboxError::EmptyCredentials);
        }
        self.public_url
            .as_deref()
            .map(checked_public_url)
            .transpose()
    }

    /// What every connection shares: the fixtures (loaded and checked here), the credentials,
    /// the URL signer and the limits.
    fn state(self, base_url: String) -> Result<State, SandboxError> {
        let mut fixtures = if self.builtin {
            Fixtures::builtin()
        } else {
            Fixtures::empty()
        };
        for path in &self.fixture_files {
            fixtures.merge(Fixtures::from_path(path)?);
        }
        fixtures.merge(self.fixtures);
        let signer = UrlSigner::random().map_err(|e| SandboxError::Randomness(e.to_string()))?;
        Ok(State {
            credentials: Credentials::new(&self.api_key, &self.api_secret.0),
            fixtures,
            signer,
            counters: FaultCounters::default(),
            media: MediaCache::default(),
            base_url,
            file_url_ttl: self.file_url_ttl,
            max_body_bytes: self.max_body_bytes,
            body_read_timeout: self.body_read_timeout,
            access_log: self.access_log,
            callback_secret: CallbackSecret::new(self.api_secret.0)
                .map_err(SandboxError::Secret)?,
            deliveries: Default::default(),
            deletions: Default::default(),
        })
    }
}

/// A sandbox that serves the connections it is given (see [`SandboxBuilder::in_process`]).
#[derive(Debug, Clone)]
pub struct InProcessSandbox {
    state: Arc<State>,
}

impl InProcessSandbox {
    /// Serves requests from `io` until the peer closes it or a request fails to parse.
    pub async fn serve<I>(&self, io: I)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        serve(io, self.state.clone(), std::future::pending()).await;
    }
}

/// A running sandbox; dropping it stops the server and ends its connections.
#[derive(Debug)]
pub struct SandboxHandle {
    local_addr: SocketAddr,
    state: Arc<State>,
    // Dropping the sender is the stop signal: every receiver wakes up.
    _shutdown: watch::Sender<()>,
}

impl SandboxHandle {
    /// The base URL to give clients, like `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The result callback of `scan_ref`, as it would be sent (unsigned): built from the
    /// fixture's answers, with file URLs that download from this sandbox, unless the fixture
    /// gives one. `None` for an unknown scanRef.
    pub fn callback_body(&self, scan_ref: &str) -> Option<Bytes> {
        callback::callback_body(&self.state, scan_ref).map(|(_, body)| body)
    }

    /// The `Idenfy-Signature` this sandbox gives `body`: hex HMAC-SHA256 keyed with its API
    /// secret.
    pub fn sign_callback(&self, body: &[u8]) -> String {
        idenfy_core::callback::sign(&self.state.callback_secret, body)
    }

    /// POSTs the result callback of `scan_ref` to `url` (plain HTTP on this machine), signed
    /// with the sandbox's API secret unless `options` say otherwise, and records what the
    /// receiver answered.
    ///
    /// # Errors
    /// [`DeliveryError`] when the scanRef is unknown, the URL is not on this machine, or the
    /// receiver cannot be reached, breaks off or takes longer than the timeout.
    pub async fn deliver_callback(
        &self,
        scan_ref: &str,
        url: &str,
        options: &DeliveryOptions,
    ) -> Result<Delivery, DeliveryError> {
        callback::deliver(&self.state, scan_ref, url, options).await
    }

    /// How many injected faults (per request or per fixture) this sandbox has applied: a test
    /// that asks for a fault checks with it that the fault fired.
    pub fn faults_applied(&self) -> u64 {
        self.state.counters.applied()
    }

    /// Delivers the vendor's sequence for an identification reviewed by hand: the automatic
    /// result (`IDENTIFICATION_AUTO_FINISHED`, `final: false`), then the manual one
    /// (`IDENTIFICATION_MANUAL_FINISHED`, `final: true`), each signed as `options` say.
    ///
    /// # Errors
    /// As [`SandboxHandle::deliver_callback`]; the second is not sent when the first fails.
    pub async fn deliver_sequence(
        &self,
        scan_ref: &str,
        url: &str,
        options: &DeliveryOptions,
    ) -> Result<[Delivery; 2], DeliveryError> {
        let [auto, manual] = options.sequence();
        let first = callback::deliver(&self.state, scan_ref, url, &auto).await?;
        let second = callback::deliver(&self.state, scan_ref, url, &manual).await?;
        Ok([first, second])
    }

    /// Every callback delivered so far (up to the last 1000), oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        let log = self.state.deliveries.lock();
        log.unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// `http://ADDRESS`, with loopback standing for an unspecified address (0.0.0.0, `::`): a
/// client cannot connect to those, and one on this machine reaches the sandbox over loopback.
fn advertised_url(local_addr: SocketAddr) -> String {
    let ip = match local_addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, local_addr.port()))
}

/// The public URL without a trailing `/`, if it is a scheme and an authority only.
fn checked_public_url(url: &str) -> Result<String, SandboxError> {
    let refused = || SandboxError::PublicUrl(url.chars().filter(|c| !c.is_control()).collect());
    let uri: http::Uri = url.parse().map_err(|_| refused())?;
    let authority = uri.authority().ok_or_else(refused)?;
    let path_is_root = matches!(uri.path(), "" | "/");
    let scheme = uri.scheme_str().ok_or_else(refused)?;
    if !matches!(scheme, "http" | "https")
        || !path_is_root
        || uri.query().is_some()
        || authority.as_str().contains('@')
    {
        return Err(refused());
    }
    Ok(format!("{scheme}://{authority}"))
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<()>) {
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Responses are written whole; Nagle's algorithm would only add latency.
                    let _ = stream.set_nodelay(true);
                    let mut stopped = stopped.clone();
                    let stop = async move { let _ = stopped.changed().await; };
                    tokio::spawn(serve(stream, state.clone(), stop));
                }
                // Typically out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
}

/// Serves one HTTP/1.1 connection over `io` until the peer closes it, or `stop` ends: then
/// the response in flight has [`SHUTDOWN_GRACE`] to finish.
async fn serve<I>(io: I, state: Arc<State>, stop: impl Future<Output = ()>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(router::handle(&state, request).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = stop => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}
