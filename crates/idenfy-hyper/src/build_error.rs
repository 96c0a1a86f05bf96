//! Why a client could not be built.

use idenfy_core::{BaseUrlError, CredentialsError};

/// A client could not be configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A required environment variable is missing or empty.
    #[error(
        "the environment variable {name} is not set; set it to the value from the iDenfy dashboard"
    )]
    MissingEnv {
        /// The variable's name.
        name: &'static str,
    },
    /// An environment variable is not valid UTF-8.
    #[error("the environment variable {name} is not valid UTF-8")]
    NotUnicode {
        /// The variable's name.
        name: &'static str,
    },
    /// The credentials were refused.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The base URL was refused.
    #[error(transparent)]
    BaseUrl(#[from] BaseUrlError),
    /// A proxy URL (from the variable or setting `origin`) cannot be used. The message does not
    /// quote the URL, which may hold a password.
    #[error("{origin}: the proxy URL cannot be used: {reason}")]
    Proxy {
        /// Where the URL came from: the variable's name (`HTTPS_PROXY`, ...) or the setting.
        origin: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// Root certificates could not be read.
    #[error("the root certificates could not be read: {reason}")]
    RootCertificates {
        /// Why.
        reason: &'static str,
    },
    /// The TLS backend could not be initialised.
    #[error(
        "could not initialise TLS ({reason}); with the `native-tls` feature the system's OpenSSL must be usable, or use the `rustls` feature"
    )]
    Tls {
        /// What the TLS library said.
        reason: String,
    },
}
