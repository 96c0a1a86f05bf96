//! The HTTP proxy: which destinations go through one (the standard variables, or the
//! builder's own setting), and the connector that reaches them through a CONNECT tunnel.
//!
//! Every proxied connection is a CONNECT tunnel, whatever the scheme: TLS runs end to end
//! inside it, so the proxy sees neither the Authorization header nor a presigned URL, and no
//! request is ever sent to a proxy in absolute form. A loopback destination (`localhost`,
//! `127.0.0.0/8`, `::1`) never goes through a proxy: a proxy's loopback is its own machine, not
//! this one, and plain HTTP (allowed only to this machine) never leaves it.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use idenfy_core::{EscapedControls, is_loopback_host};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::BuildError;
use crate::tunnel::{MAX_ANSWER_HEAD, TunnelFailure};

/// The variables read for a proxy, in the order they are looked up (upper case first, as curl
/// reads them).
const HTTPS_PROXY_VARS: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const HTTP_PROXY_VARS: [&str; 2] = ["HTTP_PROXY", "http_proxy"];
const ALL_PROXY_VARS: [&str; 2] = ["ALL_PROXY", "all_proxy"];
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// Which proxy a client goes through.
///
/// The default, [`Proxy::from_env`], reads the variables curl, git and most HTTP clients read:
/// `HTTPS_PROXY` for `https://` destinations, `HTTP_PROXY` for `http://` ones, `ALL_PROXY` for
/// both when the other is unset, each also in lower case, and `NO_PROXY` for the destinations
/// that bypass the proxy. [`Proxy::url`] names one proxy whatever the environment says, and
/// [`Proxy::none`] connects directly.
///
/// `NO_PROXY` (and [`Proxy::with_no_proxy`]) is a comma-separated list of host names (each
/// also matching its subdomains: `example.com` and `.example.com` both match
/// `api.example.com`), IP addresses, CIDR blocks (`10.0.0.0/8`), `*` for every destination, and
/// any of these with a port (`example.com:8443`), which then matches that port only. Loopback
/// destinations always connect directly.
///
/// A proxy URL is `http://[user:password@]host[:port]` (no scheme means `http://`); the user
/// and password, percent-decoded, go in a `Proxy-Authorization: Basic` header of the CONNECT
/// request only, and are never shown: `Debug`, errors and logs name the proxy as
/// `http://host:port`.
///
/// ```
/// use idenfy_hyper::Proxy;
/// let proxy = Proxy::url("http://alice:s3cret@proxy.corp.example:3128")?
///     .with_no_proxy("intranet.example, 10.0.0.0/8");
/// assert!(!format!("{proxy:?}").contains("s3cret"));
/// # Ok::<(), idenfy_hyper::BuildError>(())
/// ```
#[derive(Clone)]
pub struct Proxy {
    setting: Setting,
    no_proxy: Option<String>,
}

#[derive(Clone)]
enum Setting {
    FromEnv,
    None,
    /// The URL as given (it may hold credentials), checked to be usable.
    Url(String),
}

impl Default for Proxy {
    fn default() -> Self {
        Self::from_env()
    }
}

impl Proxy {
    /// The proxy the environment names (the default), read when the client is built.
    pub fn from_env() -> Self {
        Self {
            setting: Setting::FromEnv,
            no_proxy: None,
        }
    }

    /// No proxy, whatever the environment says.
    pub fn none() -> Self {
        Self {
            setting: Setting::None,
            no_proxy: None,
        }
    }

    /// Every destination through the proxy at `url`, whatever the proxy variables say, but
    /// those `NO_PROXY` (or [`Proxy::with_no_proxy`]) exempts, and loopback.
    ///
    /// # Errors
    /// [`BuildError::Proxy`] when `url` is not an `http://` URL with a host.
    pub fn url(url: &str) -> Result<Self, BuildError> {
        check_proxy_url(url, "the proxy URL")?;
        Ok(Self {
            setting: Setting::Url(url.to_owned()),
            no_proxy: None,
        })
    }

    /// The destinations that bypass the proxy, in `NO_PROXY`'s syntax; replaces what
    /// `NO_PROXY` says.
    pub fn with_no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = Some(list.to_owned());
        self
    }

    /// The routes this setting gives, reading the environment if it says to.
    pub(crate) fn routes(&self) -> Result<Routes, BuildError> {
        let env = |names: &[&'static str; 2]| -> Option<(&'static str, String)> {
            names.iter().find_map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (*name, value))
            })
        };
        let (http, https, all) = match &self.setting {
            Setting::None => return Ok(Routes::direct()),
            Setting::Url(url) => (None, None, Some(url.clone())),
            Setting::FromEnv => {
                let checked = |found: Option<(&'static str, String)>| {
                    found
                        .map(|(name, value)| check_proxy_url(&value, name).map(|()| value))
                        .transpose()
                };
                // Under CGI, HTTP_PROXY is the client's `Proxy:` header, not the operator's
                // setting ("httpoxy"): the variables are not trusted there, as curl and
                // hyper-util do.
                if std::env::var_os("REQUEST_METHOD").is_some() {
                    return Ok(Routes::direct());
                }
                (
                    checked(env(&HTTP_PROXY_VARS))?,
                    checked(env(&HTTPS_PROXY_VARS))?,
                    checked(env(&ALL_PROXY_VARS))?,
                )
            }
        };
        let no_proxy = match &self.no_proxy {
            Some(list) => list.clone(),
            None => env(&NO_PROXY_VARS)
                .map(|(_, value)| value)
                .unwrap_or_default(),
        };
        let (no_proxy, with_ports) = NoProxyPorts::split(&no_proxy);
        let mut matcher = Matcher::builder().no(no_proxy);
        if let Some(http) = http {
            matcher = matcher.http(with_scheme(&http));
        }
        if let Some(https) = https {
            matcher = matcher.https(with_scheme(&https));
        }
        if let Some(all) = all {
            matcher = matcher.all(with_scheme(&all));
        }
        Ok(Routes {
            matcher: Some(matcher.build()),
            with_ports,
        })
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Proxy");
        match &self.setting {
            Setting::FromEnv => debug.field("setting", &"from the environment"),
            Setting::None => debug.field("setting", &"none"),
            Setting::Url(url) => debug.field("url", &ShownProxy::of_text(url).0),
        };
        debug.field("no_proxy", &self.no_proxy).finish()
    }
}

/// A proxy URL with no scheme is an `http://` one, as curl reads it.
fn with_scheme(url: &str) -> String {
    let url = url.trim();
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

/// Checks that `url` (from `origin`: a variable's name, or the builder) names an HTTP proxy.
/// The message never quotes the URL: it may hold a password.
fn check_proxy_url(url: &str, origin: &str) -> Result<(), BuildError> {
    let refuse = |reason: &'static str| {
        Err(BuildError::Proxy {
            origin: origin.to_owned(),
            reason,
        })
    };
    let Ok(uri) = with_scheme(url).parse::<Uri>() else {
        return refuse("it is not a URL (expected http://[user:password@]host[:port])");
    };
    if uri.scheme_str() != Some("http") {
        return refuse(
            "only http:// proxies are supported (the tunnel to the API is TLS inside the proxy's plain connection)",
        );
    }
    if uri.host().is_none_or(str::is_empty) {
        return refuse("it names no host (expected http://[user:password@]host[:port])");
    }
    if uri
        .path_and_query()
        .is_some_and(|path| path.as_str() != "/")
    {
        return refuse("a proxy URL has no path (expected http://[user:password@]host[:port])");
    }
    Ok(())
}

/// `NO_PROXY` entries with a port (`host:port`, `[v6]:port`), which hyper-util's matcher does
/// not read; the others go to it.
#[derive(Debug, Clone, Default)]
struct NoProxyPorts(Vec<(String, u16)>);

impl NoProxyPorts {
    fn split(list: &str) -> (String, Self) {
        let mut plain = Vec::new();
        let mut with_ports = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match host_and_port(entry) {
                Some((host, port)) => with_ports.push((host.to_ascii_lowercase(), port)),
                None => plain.push(entry),
            }
        }
        (plain.join(","), Self(with_ports))
    }

    fn contains(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.0.iter().any(|(entry, entry_port)| {
            let entry = entry.trim_start_matches('.');
            *entry_port == port
                && (entry == "*"
                    || host.eq_ignore_ascii_case(entry)
                    || host
                        .len()
                        .checked_sub(entry.len() + 1)
                        .is_some_and(|start| {
                            host.as_bytes()[start] == b'.'
                                && host[start + 1..].eq_ignore_ascii_case(entry)
                        }))
        })
    }
}

/// `host:port` or `[v6]:port`; `None` for a bare host, address or CIDR block.
fn host_and_port(entry: &str) -> Option<(&str, u16)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port.parse().ok()?));
    }
    let (host, port) = entry.rsplit_once(':')?;
    // A bare IPv6 address is full of colons and has no port.
    if host.contains(':') {
        return None;
    }
    Some((host, port.parse().ok()?))
}

/// Where each destination's connection goes.
#[derive(Debug)]
pub(crate) struct Routes {
    matcher: Option<Matcher>,
    with_ports: NoProxyPorts,
}

impl Routes {
    fn direct() -> Self {
        Self {
            matcher: None,
            with_ports: NoProxyPorts::default(),
        }
    }

    /// The proxy for `dst`, or `None` to connect directly.
    fn route(&self, dst: &Uri) -> Option<ProxyRoute> {
        let matcher = self.matcher.as_ref()?;
        let host = dst.host()?;
        if is_loopback_host(host) {
            return None;
        }
        let port = dst.port_u16().unwrap_or(match dst.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        if self.with_ports.contains(host, port) {
            return None;
        }
        let intercept = matcher.intercept(dst)?;
        Some(ProxyRoute {
            uri: intercept.uri().clone(),
            authorization: intercept.basic_auth().cloned(),
            shown: ShownProxy::of_uri(intercept.uri()),
        })
    }
}

/// A proxy to go through.
#[derive(Clone)]
struct ProxyRoute {
    uri: Uri,
    authorization: Option<HeaderValue>,
    shown: ShownProxy,
}

/// A proxy as shown: `http://host:port`, never its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShownProxy(String);

impl ShownProxy {
    fn of_uri(uri: &Uri) -> Self {
        let host = uri.host().unwrap_or("?");
        let port = uri.port_u16().unwrap_or(80);
        Self(format!("http://{host}:{port}"))
    }

    fn of_text(url: &str) -> Self {
        match with_scheme(url).parse::<Uri>() {
            Ok(uri) => Self::of_uri(&uri),
            Err(_) => Self("<not a URL>".to_owned()),
        }
    }
}

/// Why a connection through a proxy failed. It names the proxy as `http://host:port`, never
/// the credentials of its URL.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ProxyError {
    proxy: String,
    failure: ProxyFailure,
    /// The innermost cause, escaped (for the failures that have one).
    cause: Option<String>,
}

/// What went wrong with a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyFailure {
    /// The proxy answered `407 Proxy Authentication Required`: it wants credentials, or refused
    /// those given. Not retried: they would be refused again.
    AuthenticationRequired,
    /// The proxy answered the CONNECT with another status than 200 (a policy that forbids the
    /// destination, or a destination it could not reach).
    Refused,
    /// No connection to the proxy itself could be made.
    Unreachable,
    /// The proxy did not answer the CONNECT in time.
    TimedOut,
    /// The proxy's answer was not HTTP, was cut, or its head was longer than 8 KiB.
    BadAnswer,
}

impl ProxyError {
    /// What went wrong.
    pub fn failure(&self) -> ProxyFailure {
        self.failure
    }

    /// The proxy, as `http://host:port`.
    pub fn proxy(&self) -> &str {
        &self.proxy
    }

    fn describe(&self) -> String {
        let proxy = &self.proxy;
        let cause = self
            .cause
            .as_deref()
            .map(|cause| format!(": {cause}"))
            .unwrap_or_default();
        match self.failure {
            ProxyFailure::AuthenticationRequired => format!(
                "the proxy {proxy} asked for credentials or refused them (407 Proxy Authentication Required); check the user name and password in the proxy URL"
            ),
            ProxyFailure::Refused => format!(
                "the proxy {proxy} refused to open a tunnel to the server{cause}; check that it allows CONNECT to the server's host and port"
            ),
            ProxyFailure::Unreachable => format!(
                "could not connect to the proxy {proxy}{cause}; check the proxy's host and port"
            ),
            ProxyFailure::TimedOut => format!(
                "the proxy {proxy} did not open a tunnel in time{cause}; check the proxy, or that it can reach the server"
            ),
            ProxyFailure::BadAnswer => format!(
                "the proxy {proxy} did not answer the CONNECT request as an HTTP proxy{cause}; check that it is an HTTP proxy"
            ),
        }
    }

    fn of_tunnel(shown: &ShownProxy, failure: TunnelFailure) -> Self {
        let (failure, cause) = match failure {
            TunnelFailure::Status(StatusCode::PROXY_AUTHENTICATION_REQUIRED) => {
                (ProxyFailure::AuthenticationRequired, None)
            }
            TunnelFailure::Status(status) => {
                (ProxyFailure::Refused, Some(format!("it answered {status}")))
            }
            TunnelFailure::TooLong => (
                ProxyFailure::BadAnswer,
                Some(format!("its answer's head is over {MAX_ANSWER_HEAD} bytes")),
            ),
            TunnelFailure::Closed => (
                ProxyFailure::BadAnswer,
                Some("it closed the connection".to_owned()),
            ),
            TunnelFailure::NotHttp => (
                ProxyFailure::BadAnswer,
                Some("its answer is not HTTP".to_owned()),
            ),
            TunnelFailure::Io(error) => (ProxyFailure::BadAnswer, Some(innermost(&error))),
        };
        Self {
            proxy: shown.0.clone(),
            failure,
            cause,
        }
    }
}

/// The innermost cause's text, escaped for a terminal (it may quote what the proxy sent).
fn innermost(error: &(dyn StdError + 'static)) -> String {
    let text = crate::transport::causes(error)
        .map(ToString::to_string)
        .filter(|text| !text.is_empty())
        .last()
        .unwrap_or_default();
    EscapedControls(&text).to_string()
}

/// TCP straight to the destination, or through a CONNECT tunnel to its proxy; TLS, when the
/// destination is `https://`, is layered on top by the TLS connector, end to end.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    direct: HttpConnector,
    routes: Arc<Routes>,
    /// The longest wait for the proxy's connection and its answer to the CONNECT: a proxy that
    /// accepts and never answers would otherwise hold the attempt until its own timeout, and a
    /// download's first connection has no other bound on it.
    tunnel_timeout: Duration,
}

impl fmt::Debug for ProxyConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConnector")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl ProxyConnector {
    pub(crate) fn new(direct: HttpConnector, routes: Routes, tunnel_timeout: Duration) -> Self {
        Self {
            direct,
            routes: Arc::new(routes),
            tunnel_timeout,
        }
    }
}

type Connecting = Pin<
    Box<dyn Future<Output = Result<TokioIo<TcpStream>, Box<dyn StdError + Send + Sync>>> + Send>,
>;

impl Service<Uri> for ProxyConnector {
    type Response = TokioIo<TcpStream>;
    type Error = Box<dyn StdError + Send + Sync>;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // HttpConnector is always ready; each call clones it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut direct = self.direct.clone();
        let Some(route) = self.routes.route(&dst) else {
            return Box::pin(async move { direct.call(dst).await.map_err(Into::into) });
        };
        tracing::debug!(proxy = %route.shown.0, "connecting through the proxy");
        let timeout = self.tunnel_timeout;
        Box::pin(async move {
            let Some(host) = dst.host().map(str::to_owned) else {
                return Err("the destination has no host".into());
            };
            let port = dst.port_u16().unwrap_or(match dst.scheme_str() {
                Some("http") => 80,
                _ => 443,
            });
            let tunnelling = async {
                let mut stream = match direct.call(route.uri.clone()).await {
                    Ok(stream) => stream,
                    Err(error) => {
                        return Err(ProxyError {
                            proxy: route.shown.0.clone(),
                            failure: ProxyFailure::Unreachable,
                            cause: Some(innermost(&error)),
                        });
                    }
                };
                crate::tunnel::connect(
                    stream.inner_mut(),
                    host.trim_start_matches('[').trim_end_matches(']'),
                    port,
                    route.authorization.as_ref(),
                )
                .await
                .map_err(|failure| ProxyError::of_tunnel(&route.shown, failure))?;
                Ok(stream)
            };
            match tokio::time::timeout(timeout, tunnelling).await {
                Ok(Ok(stream)) => Ok(stream),
                Ok(Err(error)) => Err(error.into()),
                Err(_) => Err(ProxyError {
                    proxy: route.shown.0.clone(),
                    failure: ProxyFailure::TimedOut,
                    cause: Some(format!("no answer within {timeout:?}")),
                }
                .into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(url: &str, no_proxy: &str) -> Routes {
        Proxy::url(url)
            .unwrap()
            .with_no_proxy(no_proxy)
            .routes()
            .unwrap()
    }

    fn proxied(routes: &Routes, dst: &str) -> bool {
        routes.route(&dst.parse().unwrap()).is_some()
    }

    #[test]
    fn no_proxy_matches_domains_and_their_subdomains() {
        let routes = routes("http://proxy:3128", "example.com, .corp.example");
        assert!(!proxied(&routes, "https://example.com/"));
        assert!(!proxied(&routes, "https://api.example.com/"));
        assert!(!proxied(&routes, "https://a.corp.example/"));
        assert!(proxied(&routes, "https://notexample.com/"));
        assert!(proxied(&routes, "https://ivs.idenfy.com/"));
    }

    #[test]
    fn no_proxy_matches_addresses_blocks_ports_and_everything() {
        let routes = routes(
            "http://proxy:3128",
            "10.0.0.0/8, 192.168.1.7, files.example:8443",
        );
        assert!(!proxied(&routes, "https://10.1.2.3/"));
        assert!(!proxied(&routes, "https://192.168.1.7/"));
        assert!(proxied(&routes, "https://192.168.1.8/"));
        assert!(!proxied(&routes, "https://files.example:8443/"));
        assert!(!proxied(&routes, "https://cdn.files.example:8443/"));
        assert!(proxied(&routes, "https://files.example/"));
        let everything = super::tests::routes("http://proxy:3128", "*");
        assert!(!proxied(&everything, "https://ivs.idenfy.com/"));
    }

    #[test]
    fn loopback_never_goes_through_a_proxy() {
        let routes = routes("http://proxy:3128", "");
        for dst in [
            "http://127.0.0.1:8080/",
            "https://localhost/",
            "http://[::1]:1/",
        ] {
            assert!(!proxied(&routes, dst), "{dst}");
        }
    }

    #[test]
    fn the_credentials_become_a_basic_header_and_are_never_shown() {
        let routes = routes("http://alice:s%40cret@proxy.corp:3128", "");
        let route = routes
            .route(&"https://ivs.idenfy.com/".parse().unwrap())
            .unwrap();
        // alice:s@cret
        assert_eq!(route.authorization.unwrap(), "Basic YWxpY2U6c0BjcmV0");
        assert_eq!(route.shown.0, "http://proxy.corp:3128");
        let proxy = Proxy::url("http://alice:s%40cret@proxy.corp:3128").unwrap();
        let shown = format!("{proxy:?}");
        assert!(
            !shown.contains("cret") && !shown.contains("alice"),
            "{shown}"
        );
    }

    #[test]
    fn only_http_proxy_urls_are_accepted_and_never_quoted() {
        for url in [
            "https://u:pw1@proxy:3128",
            "socks5://u:pw1@proxy:1080",
            "http://u:pw1@",
            "http://u:pw1@proxy:3128/path",
        ] {
            let error = Proxy::url(url).unwrap_err().to_string();
            assert!(!error.contains("pw1"), "{error}");
        }
        assert!(Proxy::url("proxy.corp:3128").is_ok());
    }

    #[test]
    fn none_connects_directly() {
        let routes = Proxy::none().routes().unwrap();
        assert!(!proxied(&routes, "https://ivs.idenfy.com/"));
    }
}
