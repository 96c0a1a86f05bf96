//! The `User-Agent` every request carries: this library's name and version, and the name of
//! the application that uses it, when given, so that the API's operators (and a proxy's logs)
//! can tell one integration from another.

use std::fmt;
use std::str::FromStr;

use http::HeaderValue;

use crate::request::USER_AGENT_VALUE;

/// The longest application name accepted: a product and version, not a sentence.
pub const MAX_APPLICATION_NAME_LEN: usize = 128;

/// The name (and version) of the application using the client, added to the `User-Agent`
/// after `idenfy-rs/VERSION`, e.g. `acme-kyc-export/2.1`.
///
/// ```
/// use idenfy_core::ApplicationName;
/// let name: ApplicationName = "acme-kyc-export/2.1".parse()?;
/// assert_eq!(name.user_agent().to_str()?, concat!("idenfy-rs/", env!("CARGO_PKG_VERSION"), " acme-kyc-export/2.1"));
/// assert!("two\nlines".parse::<ApplicationName>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApplicationName(String);

/// An application name that cannot go into a `User-Agent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplicationNameError {
    /// Empty or only spaces.
    #[error("the application name is empty")]
    Empty,
    /// Longer than [`MAX_APPLICATION_NAME_LEN`].
    #[error("the application name is longer than {MAX_APPLICATION_NAME_LEN} characters")]
    TooLong,
    /// A character outside printable ASCII: a header value holds no line break, and other
    /// characters are read differently by different servers.
    #[error(
        "the application name may hold only printable ASCII characters (such as `acme-export/2.1`)"
    )]
    NotPrintableAscii,
}

impl ApplicationName {
    /// The `User-Agent` of a client used by this application.
    pub fn user_agent(&self) -> HeaderValue {
        // Printable ASCII only, checked when parsed: always a valid header value.
        HeaderValue::from_str(&format!("{USER_AGENT_VALUE} {}", self.0))
            .unwrap_or_else(|_| HeaderValue::from_static(USER_AGENT_VALUE))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ApplicationName {
    type Err = ApplicationNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ApplicationNameError::Empty);
        }
        if text.len() > MAX_APPLICATION_NAME_LEN {
            return Err(ApplicationNameError::TooLong);
        }
        if !text.bytes().all(|byte| (0x20..0x7f).contains(&byte)) {
            return Err(ApplicationNameError::NotPrintableAscii);
        }
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for ApplicationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ApplicationName").field(&self.0).finish()
    }
}

impl fmt::Display for ApplicationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
