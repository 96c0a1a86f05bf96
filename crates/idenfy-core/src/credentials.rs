//! API key and secret, kept out of every `Debug` and `Display`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;

/// The API key and API secret that authenticate every call (HTTP Basic auth,
/// the key as user name and the secret as password).
///
/// `Debug` shows the key and never the secret; there is no `Display`.
///
/// ```
/// let credentials = idenfy_core::Credentials::new("my-key", "my-secret")?;
/// assert_eq!(credentials.api_key(), "my-key");
/// assert!(!format!("{credentials:?}").contains("my-secret"));
/// # Ok::<(), idenfy_core::CredentialsError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    api_key: String,
    api_secret: String,
}

/// Why an API key or secret was refused.
///
/// The messages never repeat the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The API key is empty.
    #[error("the iDenfy API key is empty: copy it from the iDenfy dashboard (Settings > API keys)")]
    EmptyKey,
    /// The API secret is empty.
    #[error(
        "the iDenfy API secret is empty: copy it from the iDenfy dashboard next to the API key"
    )]
    EmptySecret,
    /// The API key contains a colon, which HTTP Basic auth uses as the separator.
    #[error(
        "the iDenfy API key contains ':', which HTTP Basic auth cannot carry; check that key and secret were not pasted together"
    )]
    ColonInKey,
    /// The key or secret contains a control character or whitespace, most often a
    /// trailing newline from a file or an environment variable.
    #[error(
        "the iDenfy API {which} contains whitespace or a control character at byte {position}; trim the value (a trailing newline is the usual cause)"
    )]
    InvalidCharacter {
        /// `"key"` or `"secret"`.
        which: &'static str,
        /// Byte offset of the first offending character.
        position: usize,
    },
}

impl Credentials {
    /// Checks and stores an API key and secret.
    ///
    /// # Errors
    /// [`CredentialsError`] when either is empty, contains whitespace or control
    /// characters, or the key contains `:`.
    pub fn new(
        api_key: impl Into<String>,
        api_secret: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        let api_key = api_key.into();
        let api_secret = api_secret.into();
        if api_key.is_empty() {
            return Err(CredentialsError::EmptyKey);
        }
        if api_secret.is_empty() {
            return Err(CredentialsError::EmptySecret);
        }
        check_characters("key", &api_key)?;
        check_characters("secret", &api_secret)?;
        if api_key.contains(':') {
            return Err(CredentialsError::ColonInKey);
        }
        Ok(Self {
            api_key,
            api_secret,
        })
    }

    /// The API key (not secret: it identifies the account in logs and dashboards).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The API secret. Handle with care: never log it.
    pub fn expose_secret(&self) -> &str {
        &self.api_secret
    }

    /// The `Authorization` header value, marked sensitive so that `http`'s own
    /// `Debug` output hides it too.
    pub(crate) fn basic_auth_header(&self) -> HeaderValue {
        let token = STANDARD.encode(format!("{}:{}", self.api_key, self.api_secret));
        // Base64 output and the ASCII prefix are always valid header bytes.
        let mut value = HeaderValue::try_from(format!("Basic {token}"))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        value.set_sensitive(true);
        value
    }
}

pub(crate) fn check_characters(which: &'static str, value: &str) -> Result<(), CredentialsError> {
    match value
        .char_indices()
        .find(|(_, c)| c.is_control() || c.is_whitespace())
    {
        Some((position, _)) => Err(CredentialsError::InvalidCharacter { which, position }),
        None => Ok(()),
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_key_but_not_the_secret() {
        let credentials = Credentials::new("key-123", "very-secret-value").unwrap();
        let debug = format!("{credentials:?}");
        assert!(debug.contains("key-123"), "{debug}");
        assert!(!debug.contains("very-secret-value"), "{debug}");
    }

    #[test]
    fn authorization_header_is_basic_key_colon_secret_and_sensitive() {
        let credentials = Credentials::new("key", "secret").unwrap();
        let header = credentials.basic_auth_header();
        assert_eq!(header.to_str().unwrap(), "Basic a2V5OnNlY3JldA==");
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("a2V5"));
    }

    #[test]
    fn refuses_values_http_basic_cannot_carry() {
        assert_eq!(Credentials::new("", "s"), Err(CredentialsError::EmptyKey));
        assert_eq!(
            Credentials::new("k", ""),
            Err(CredentialsError::EmptySecret)
        );
        assert_eq!(
            Credentials::new("a:b", "s"),
            Err(CredentialsError::ColonInKey)
        );
        assert_eq!(
            Credentials::new("k", "secret\n"),
            Err(CredentialsError::InvalidCharacter {
                which: "secret",
                position: 6
            })
        );
        let message = Credentials::new("k", "secret\n").unwrap_err().to_string();
        assert!(!message.contains("secret\n"), "{message}");
    }
}
