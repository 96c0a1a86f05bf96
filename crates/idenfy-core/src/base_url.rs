//! Where requests go, and the rule that keeps credentials off plain-text networks.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::Uri;
use http::uri::Scheme;

/// The iDenfy production API.
pub const DEFAULT_BASE_URL: &str = "https://ivs.idenfy.com";

/// The base URL that endpoint paths (`/api/v2/...`) are appended to.
///
/// `https://` is always accepted. Plain `http://` is accepted only for a
/// loopback host (`127.0.0.0/8`, `::1`, `localhost`), because every request
/// carries the API secret; use [`BaseUrl::parse_allowing_insecure_http`] to
/// opt in to other plain-text hosts (a TLS-terminating sidecar, say).
///
/// ```
/// use idenfy_core::BaseUrl;
/// assert_eq!(BaseUrl::default().as_str(), "https://ivs.idenfy.com");
/// assert!("http://127.0.0.1:8080".parse::<BaseUrl>().is_ok());
/// assert!("http://example.com".parse::<BaseUrl>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// Scheme, authority and optional path prefix, without a trailing slash.
    normalized: String,
}

/// Why a base URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// The string is not a URL.
    #[error(
        "the base URL is not a valid URL ({reason}); expected something like `https://ivs.idenfy.com`"
    )]
    Invalid {
        /// What the URL parser said.
        reason: String,
    },
    /// Only `http` and `https` are supported.
    #[error(
        "the base URL must start with `https://` (or `http://` for a local server), got scheme `{scheme}`"
    )]
    UnsupportedScheme {
        /// The scheme given.
        scheme: String,
    },
    /// The URL has no scheme or host.
    #[error("the base URL must be absolute, with scheme and host, like `https://ivs.idenfy.com`")]
    NotAbsolute,
    /// A query string or fragment cannot be combined with endpoint paths.
    #[error("the base URL must not have a query string or fragment")]
    HasQuery,
    /// Plain HTTP to a host that is not loopback would send the API secret in clear.
    #[error(
        "refusing plain `http://` to `{host}`: the API secret would cross the network unencrypted; use `https://`, or opt in explicitly if a trusted proxy adds TLS"
    )]
    InsecureHttp {
        /// The host given.
        host: String,
    },
}

impl BaseUrl {
    /// Parses a base URL, allowing plain `http://` only for loopback hosts.
    ///
    /// # Errors
    /// [`BaseUrlError`] when the URL is malformed, not `http(s)`, has a query,
    /// or is plain `http://` to a non-loopback host.
    pub fn parse(value: &str) -> Result<Self, BaseUrlError> {
        Self::parse_with(value, false)
    }

    /// Parses a base URL and accepts plain `http://` to any host.
    ///
    /// Only for hosts reached over a trusted link: the API secret is sent in clear.
    ///
    /// # Errors
    /// As [`BaseUrl::parse`], except that plain HTTP is not refused.
    pub fn parse_allowing_insecure_http(value: &str) -> Result<Self, BaseUrlError> {
        Self::parse_with(value, true)
    }

    fn parse_with(value: &str, allow_insecure_http: bool) -> Result<Self, BaseUrlError> {
        let uri: Uri = value
            .trim()
            .parse()
            .map_err(|error: http::uri::InvalidUri| BaseUrlError::Invalid {
                reason: error.to_string(),
            })?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(BaseUrlError::NotAbsolute);
        };
        if uri.query().is_some() || value.contains('#') {
            return Err(BaseUrlError::HasQuery);
        }
        if *scheme == Scheme::HTTP {
            if !allow_insecure_http && !is_loopback_host(authority.host()) {
                return Err(BaseUrlError::InsecureHttp {
                    host: authority.host().to_owned(),
                });
            }
        } else if *scheme != Scheme::HTTPS {
            return Err(BaseUrlError::UnsupportedScheme {
                scheme: scheme.as_str().to_owned(),
            });
        }
        let path = uri.path().trim_end_matches('/');
        Ok(Self {
            normalized: format!("{}://{}{}", scheme.as_str(), authority.as_str(), path),
        })
    }

    /// The normalized URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.normalized
    }

    /// Joins an absolute endpoint path (like `/api/v2/status`) onto this base.
    pub(crate) fn join(&self, path: &str) -> Result<Uri, http::uri::InvalidUri> {
        format!("{}{}", self.normalized, path).parse()
    }
}

/// Whether `host`, as it appears in a URL, names this machine: `localhost` (in any case), an
/// address in `127.0.0.0/8`, or `::1` (bracketed, as in `http://[::1]:8080`, or not).
///
/// The one rule for where plain `http://` may go, used by [`BaseUrl`] and by
/// [`DownloadUrl`](crate::DownloadUrl): a request to any other host crosses a network.
///
/// ```
/// use idenfy_core::is_loopback_host;
/// assert!(is_loopback_host("LocalHost"));
/// assert!(is_loopback_host("127.8.0.1"));
/// assert!(is_loopback_host("[::1]"));
/// assert!(!is_loopback_host("10.0.0.5"));
/// assert!(!is_loopback_host("localhost.example"));
/// ```
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Default for BaseUrl {
    fn default() -> Self {
        Self {
            normalized: DEFAULT_BASE_URL.to_owned(),
        }
    }
}

impl FromStr for BaseUrl {
    type Err = BaseUrlError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BaseUrl").field(&self.normalized).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_trailing_slash_and_keeps_path_prefix() {
        assert_eq!(
            BaseUrl::parse("https://ivs.idenfy.com/").unwrap().as_str(),
            "https://ivs.idenfy.com"
        );
        let prefixed = BaseUrl::parse("https://proxy.internal/idenfy/").unwrap();
        assert_eq!(
            prefixed.join("/api/v2/status").unwrap().to_string(),
            "https://proxy.internal/idenfy/api/v2/status"
        );
    }

    #[test]
    fn plain_http_only_for_loopback_unless_opted_in() {
        for local in [
            "http://127.0.0.1:1234",
            "http://127.8.0.1",
            "http://[::1]:80",
            "http://localhost:9",
            "http://LOCALHOST:9",
        ] {
            assert!(BaseUrl::parse(local).is_ok(), "{local}");
        }
        assert_eq!(
            BaseUrl::parse("http://10.0.0.5"),
            Err(BaseUrlError::InsecureHttp {
                host: "10.0.0.5".into()
            })
        );
        assert!(BaseUrl::parse_allowing_insecure_http("http://10.0.0.5").is_ok());
    }

    #[test]
    fn refuses_relative_other_schemes_and_queries() {
        assert_eq!(BaseUrl::parse("/api"), Err(BaseUrlError::NotAbsolute));
        assert!(matches!(
            BaseUrl::parse("ftp://ivs.idenfy.com"),
            Err(BaseUrlError::UnsupportedScheme { .. })
        ));
        assert_eq!(
            BaseUrl::parse("https://ivs.idenfy.com/?a=b"),
            Err(BaseUrlError::HasQuery)
        );
        assert!(matches!(
            BaseUrl::parse("not a url"),
            Err(BaseUrlError::Invalid { .. })
        ));
    }
}
