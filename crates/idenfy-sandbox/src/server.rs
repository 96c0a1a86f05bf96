//! Starting and stopping the server: builder, handle, accept loop.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use bytes::Bytes;

use crate::auth::Credentials;
use crate::callback::{
    self, CallbackSigner, Delivery, DeliveryError, DeliveryLog, DeliveryOptions,
};
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
#[derive(Clone)]
pub struct SandboxBuilder {
    api_key: String,
    api_secret: String,
    builtin: bool,
    fixtures: Fixtures,
    fixture_files: Vec<PathBuf>,
    host: IpAddr,
    port: u16,
    file_url_ttl: Duration,
    max_body_bytes: usize,
    body_read_timeout: Duration,
    access_log: bool,
}

impl std::fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .field("builtin", &self.builtin)
            .field("fixtures", &self.fixtures)
            .field("fixture_files", &self.fixture_files)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("file_url_ttl", &self.file_url_ttl)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("access_log", &self.access_log)
            .finish()
    }
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            api_key: DEFAULT_API_KEY.to_owned(),
            api_secret: DEFAULT_API_SECRET.to_owned(),
            builtin: true,
            fixtures: Fixtures::empty(),
            fixture_files: Vec::new(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            file_url_ttl: Duration::from_secs(3600),
            max_body_bytes: crate::DEFAULT_MAX_BODY_BYTES,
            body_read_timeout: Duration::from_secs(30),
            access_log: false,
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
        self.api_secret = api_secret.into();
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
    /// [`DEFAULT_MAX_BODY_BYTES`](crate::DEFAULT_MAX_BODY_BYTES)); larger gets 413.
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

    /// Loads the fixtures, binds, and starts serving in the background.
    pub async fn start(self) -> Result<SandboxHandle, SandboxError> {
        let mut fixtures = if self.builtin {
            Fixtures::builtin()
        } else {
            Fixtures::empty()
        };
        for path in &self.fixture_files {
            fixtures.merge(Fixtures::from_path(path)?);
        }
        fixtures.merge(self.fixtures);

        let addr = SocketAddr::new(self.host, self.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let signer = UrlSigner::random().map_err(|e| SandboxError::Randomness(e.to_string()))?;
        let base_url = format!("http://{local_addr}");

        let state = Arc::new(State {
            credentials: Credentials::new(&self.api_key, &self.api_secret),
            fixtures,
            signer,
            counters: FaultCounters::default(),
            media: MediaCache::default(),
            base_url: base_url.clone(),
            file_url_ttl: self.file_url_ttl,
            max_body_bytes: self.max_body_bytes,
            body_read_timeout: self.body_read_timeout,
            access_log: self.access_log,
            callback_signer: CallbackSigner::new(&self.api_secret),
            deliveries: DeliveryLog::default(),
        });
        let (shutdown, stopped) = watch::channel(());
        tokio::spawn(accept_loop(listener, state.clone(), stopped));
        Ok(SandboxHandle {
            local_addr,
            base_url,
            state,
            _shutdown: shutdown,
        })
    }
}

/// A running sandbox; dropping it stops the server and ends its connections.
pub struct SandboxHandle {
    local_addr: SocketAddr,
    base_url: String,
    state: Arc<State>,
    // Dropping the sender is the stop signal: every receiver wakes up.
    _shutdown: watch::Sender<()>,
}

impl SandboxHandle {
    /// The base URL to give clients, like `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
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
        self.state.callback_signer.sign(body)
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

    /// Every callback delivered so far (up to the last 1000), oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.deliveries.all()
    }
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("local_addr", &self.local_addr)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: watch::Receiver<()>) {
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(serve_connection(stream, state.clone(), stopped.clone()));
                }
                // Typically out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
}

async fn serve_connection(stream: TcpStream, state: Arc<State>, mut stopped: watch::Receiver<()>) {
    // Responses are written whole; Nagle's algorithm would only add latency.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(router::handle(&state, request).await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stopped.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}
