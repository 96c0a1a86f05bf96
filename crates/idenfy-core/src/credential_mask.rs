//! Credentials a server echoes back, masked in every error built from its answer.
//!
//! A misconfigured proxy or a debugging endpoint may repeat the request's
//! `Authorization` header in its error message; printed or saved, that is the
//! account's key and secret. The client knows its own credentials, so it masks
//! them where each error is made, and no caller has to remember to.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::Credentials;
use crate::error::Error;
use crate::models::ErrorIdentifier;

/// What replaces a credential.
pub(crate) const MASKED: &str = "<redacted>";

/// The strings that must not appear in an error: the secret, and `key:secret` in
/// base64, standard and URL-safe. The unpadded forms are prefixes of the padded
/// ones, and the token is the tail of the header value, so masking them covers
/// `Basic <token>` and `<token>==` too.
#[derive(Clone)]
pub(crate) struct CredentialMask {
    /// Longest first, so that a longer needle is masked before a shorter one
    /// could cut it.
    needles: Vec<String>,
}

impl CredentialMask {
    pub(crate) fn new(credentials: &Credentials) -> Self {
        let pair = format!("{}:{}", credentials.api_key(), credentials.expose_secret());
        let mut needles = vec![
            STANDARD_NO_PAD.encode(&pair),
            URL_SAFE_NO_PAD.encode(&pair),
            credentials.expose_secret().to_owned(),
        ];
        needles.sort_by_key(|needle| std::cmp::Reverse(needle.len()));
        needles.dedup();
        Self { needles }
    }

    /// `text` with every credential replaced by [`MASKED`].
    pub(crate) fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = Cow::Owned(text.replace(needle.as_str(), MASKED));
            }
        }
        text
    }

    fn mask_in_place(&self, text: &mut String) {
        if let Cow::Owned(masked) = self.mask(text) {
            *text = masked;
        }
    }

    /// `error` with the credentials masked in every string that came from the server.
    pub(crate) fn mask_error(&self, mut error: Error) -> Error {
        match &mut error {
            Error::Api(api) => {
                for text in [&mut api.message, &mut api.documentation, &mut api.severity]
                    .into_iter()
                    .flatten()
                {
                    self.mask_in_place(text);
                }
                if let Some(identifier) = &mut api.identifier
                    && let Cow::Owned(masked) = self.mask(identifier.as_str())
                {
                    *identifier = ErrorIdentifier::from(masked);
                }
            }
            Error::UnexpectedResponse(page) => {
                if let Some(content_type) = &mut page.content_type {
                    self.mask_in_place(content_type);
                }
                self.mask_in_place(&mut page.excerpt);
            }
            Error::Decode(decode) => {
                self.mask_in_place(&mut decode.path);
                self.mask_in_place(&mut decode.reason);
            }
            // A refused report names JSON keys from a fixed list, never the server's text.
            Error::BodyTooLarge(_)
            | Error::NotAPdf(_)
            | Error::Timeout(_)
            | Error::Transport(_) => {}
        }
        error
    }
}

impl fmt::Debug for CredentialMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialMask(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::error::{ApiError, UnexpectedResponse};

    const SECRET: &str = "hush-hush-value";

    fn mask() -> CredentialMask {
        CredentialMask::new(&Credentials::new("the-key", SECRET).unwrap())
    }

    #[test]
    fn masks_the_header_the_token_padded_or_not_url_safe_and_the_secret() {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("the-key:{SECRET}"));
        let url_safe = URL_SAFE_NO_PAD.encode(format!("the-key:{SECRET}"));
        let text = format!(
            "header Basic {token}; bare {}; url {url_safe}; secret {SECRET}!",
            token.trim_end_matches('=')
        );
        let masked = mask().mask(&text).into_owned();
        assert!(!masked.contains(token.trim_end_matches('=')), "{masked}");
        assert!(!masked.contains(&url_safe), "{masked}");
        assert!(!masked.contains(SECRET), "{masked}");
        assert!(masked.starts_with("header Basic <redacted>"), "{masked}");
        assert!(masked.ends_with("secret <redacted>!"), "{masked}");
    }

    #[test]
    fn text_without_credentials_is_left_alone() {
        assert!(matches!(mask().mask("the-key is fine"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_server_string_of_an_error_is_masked() {
        let api = Error::Api(ApiError {
            status: StatusCode::BAD_REQUEST,
            identifier: Some(ErrorIdentifier::from(format!("X_{SECRET}"))),
            message: Some(format!("got {SECRET}")),
            documentation: Some(format!("https://x/{SECRET}")),
            severity: Some(SECRET.to_owned()),
            retry_after: None,
        });
        let page = Error::UnexpectedResponse(UnexpectedResponse {
            status: StatusCode::BAD_GATEWAY,
            content_type: Some(format!("text/plain; {SECRET}")),
            excerpt: format!("echo {SECRET}"),
        });
        for error in [api, page] {
            let error = mask().mask_error(error);
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(SECRET), "{shown}");
            assert!(shown.contains(MASKED), "{shown}");
        }
    }
}
