//! Where a file may be downloaded from: the URLs of `/files`, checked before anything is sent.

use std::fmt;
use std::str::FromStr;

use http::Uri;
use http::uri::Scheme;

use crate::base_url::is_loopback_host;

/// The URL of a file to download (a `/files` URL), checked against the same rule as
/// [`BaseUrl`](crate::BaseUrl): `https://`, or plain `http://` to this machine only
/// ([`is_loopback_host`]: a local sandbox or test server).
///
/// A presigned file URL is a credential: whoever holds it gets the photo of an identity
/// document. It never crosses a network in clear, and neither `Display` nor `Debug` shows its
/// query string (where the signature is) or any user information.
///
/// ```
/// use idenfy_core::DownloadUrl;
/// let url: DownloadUrl = "https://files.example/FRONT.png?Signature=abc".parse()?;
/// assert_eq!(url.to_string(), "https://files.example/FRONT.png?…");
/// assert!("http://LOCALHOST:8080/f/1".parse::<DownloadUrl>().is_ok());
/// assert!("http://files.example/FRONT.png".parse::<DownloadUrl>().is_err());
/// # Ok::<(), idenfy_core::DownloadUrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadUrl {
    uri: Uri,
}

/// Why a file URL was refused. The messages never contain the URL's query string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadUrlError {
    /// The string is not a URL.
    #[error("the file URL is not a valid URL")]
    Invalid,
    /// The URL has no scheme or host.
    #[error("the file URL is not absolute (no scheme or host)")]
    NotAbsolute,
    /// Only `https` (and `http` to this machine) is fetched.
    #[error("the file URL has the scheme `{scheme}`; only `https://` is fetched")]
    UnsupportedScheme {
        /// The scheme given.
        scheme: String,
    },
    /// Plain HTTP to another machine would send the URL, a credential, and the file in clear.
    #[error(
        "refusing plain `http://` to `{host}`: the file and its signed URL would cross the network unencrypted"
    )]
    InsecureHttp {
        /// The host given.
        host: String,
    },
}

impl DownloadUrl {
    /// Checks `value`: an absolute `https://` URL, or `http://` to a loopback host.
    ///
    /// # Errors
    /// [`DownloadUrlError`] naming what is wrong.
    pub fn parse(value: &str) -> Result<Self, DownloadUrlError> {
        let uri: Uri = value.parse().map_err(|_| DownloadUrlError::Invalid)?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(DownloadUrlError::NotAbsolute);
        };
        if *scheme == Scheme::HTTP {
            if !is_loopback_host(authority.host()) {
                return Err(DownloadUrlError::InsecureHttp {
                    host: authority.host().to_owned(),
                });
            }
        } else if *scheme != Scheme::HTTPS {
            return Err(DownloadUrlError::UnsupportedScheme {
                scheme: scheme.as_str().to_owned(),
            });
        }
        Ok(Self { uri })
    }

    /// The URL, query included: for sending, never for showing.
    pub fn as_uri(&self) -> &Uri {
        &self.uri
    }

    /// Whether the URL is `https://` (a plain `http://` one is on this machine).
    pub fn is_https(&self) -> bool {
        self.uri.scheme() == Some(&Scheme::HTTPS)
    }
}

impl FromStr for DownloadUrl {
    type Err = DownloadUrlError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

/// Scheme, host, port and path; a query is shown as `?…`, user information not at all.
impl fmt::Display for DownloadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.uri.scheme_str().unwrap_or_default();
        let host = self.uri.host().unwrap_or_default();
        write!(f, "{scheme}://{host}")?;
        if let Some(port) = self.uri.port_u16() {
            write!(f, ":{port}")?;
        }
        f.write_str(self.uri.path())?;
        if self.uri.query().is_some() {
            f.write_str("?…")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DownloadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DownloadUrl")
            .field(&format_args!("{self}"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_plain_http_only_on_this_machine() {
        for allowed in [
            "https://files.example/a.png?sig=1",
            "http://127.0.0.1:8080/f/FRONT.png",
            "http://127.8.0.1/f",
            "http://[::1]:8080/f",
            "http://localhost/f",
            "http://LocalHost:9/f",
        ] {
            assert!(DownloadUrl::parse(allowed).is_ok(), "{allowed}");
        }
        assert_eq!(
            DownloadUrl::parse("http://files.example/a.png"),
            Err(DownloadUrlError::InsecureHttp {
                host: "files.example".into()
            })
        );
        assert_eq!(
            DownloadUrl::parse("http://localhost.files.example/a.png"),
            Err(DownloadUrlError::InsecureHttp {
                host: "localhost.files.example".into()
            })
        );
        assert!(matches!(
            DownloadUrl::parse("ftp://127.0.0.1/a"),
            Err(DownloadUrlError::UnsupportedScheme { .. })
        ));
        assert_eq!(
            DownloadUrl::parse("/f/FRONT.png"),
            Err(DownloadUrlError::NotAbsolute)
        );
        assert_eq!(
            DownloadUrl::parse("not a url"),
            Err(DownloadUrlError::Invalid)
        );
    }

    #[test]
    fn shown_without_the_signature_or_user_information() {
        let url =
            DownloadUrl::parse("https://user:pw@files.example:8443/b/FRONT.png?X-Signature=s3cr3t")
                .unwrap();
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(!shown.contains("pw"), "{shown}");
            assert!(
                shown.contains("https://files.example:8443/b/FRONT.png?…"),
                "{shown}"
            );
        }
        // The whole URL is still what is sent.
        assert_eq!(url.as_uri().query(), Some("X-Signature=s3cr3t"));
    }
}
