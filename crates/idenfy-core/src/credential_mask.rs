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

/// The strings that must not appear in an error: the secret (also percent-encoded, as a URL
/// or form echoes it), and `key:secret` in base64, standard and URL-safe. The unpadded forms
/// are prefixes of the padded ones, and the token is the tail of the header value, so masking
/// them covers `Basic <token>` and `<token>==` too.
///
/// A server may also change what it echoes: cut it short (`Basic dGhlLWtleTpod…`, which still
/// decodes to the key and the start of the secret) or change its case. So every needle is
/// matched ignoring ASCII case, and a run of base64 characters that is a piece of a token is
/// masked whole.
#[derive(Clone)]
pub(crate) struct CredentialMask {
    /// Lower-cased, longest first, so that a longer needle is masked before a shorter one
    /// could cut it.
    needles: Vec<String>,
    /// The base64 tokens, lower-cased, for finding pieces of them.
    tokens: Vec<String>,
}

/// A run of base64 characters this long that is a piece of a token is masked: shorter runs
/// are common words and numbers, and reveal at most a few characters of the pair.
const MIN_TOKEN_PIECE: usize = 8;

/// A start of a credential this long that ends a text is masked: a cut (the server's, or the
/// client's own at [`MAX_SERVER_TEXT_CHARS`](crate::MAX_SERVER_TEXT_CHARS)) leaves the first
/// characters of an echo at the very end, where no whole needle can be found.
const MIN_CUT_PIECE: usize = 4;

impl CredentialMask {
    /// A mask with no credentials, for the sans-IO functions, which know none: it masks
    /// nothing.
    pub(crate) const NONE: CredentialMask = CredentialMask {
        needles: Vec::new(),
        tokens: Vec::new(),
    };

    pub(crate) fn new(credentials: &Credentials) -> Self {
        let secret = credentials.expose_secret();
        let pair = format!("{}:{secret}", credentials.api_key());
        let tokens: Vec<String> = [STANDARD_NO_PAD.encode(&pair), URL_SAFE_NO_PAD.encode(&pair)]
            .into_iter()
            .map(|token| token.to_ascii_lowercase())
            .collect();
        let mut needles: Vec<String> = tokens.clone();
        needles.push(secret.to_ascii_lowercase());
        needles.push(crate::percent_encode(secret).to_ascii_lowercase());
        needles.sort_by_key(|needle| std::cmp::Reverse(needle.len()));
        needles.dedup();
        Self { needles, tokens }
    }

    /// `text` with every credential replaced by [`MASKED`].
    pub(crate) fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for needle in &self.needles {
            if let Some(masked) = replace_ignoring_ascii_case(&text, needle) {
                text = Cow::Owned(masked);
            }
        }
        if let Some(masked) = self.mask_token_pieces(&text) {
            text = Cow::Owned(masked);
        }
        if let Some(masked) = self.mask_cut_end(&text) {
            text = Cow::Owned(masked);
        }
        text
    }

    /// Masks the longest start of a needle, [`MIN_CUT_PIECE`] characters or more, that ends
    /// `text` (before a trailing `…` or `.`, which a cut leaves).
    fn mask_cut_end(&self, text: &str) -> Option<String> {
        let body = text.trim_end_matches(['…', '.']);
        let ends_with_start_of = |needle: &str, len: usize| {
            needle.is_char_boundary(len)
                && body.len() >= len
                && body.as_bytes()[body.len() - len..]
                    .eq_ignore_ascii_case(&needle.as_bytes()[..len])
        };
        let longest = self
            .needles
            .iter()
            .filter_map(|needle| {
                (MIN_CUT_PIECE..needle.len())
                    .rev()
                    .find(|&len| ends_with_start_of(needle, len))
            })
            .max()?;
        let kept = body.get(..body.len() - longest)?;
        Some(format!("{kept}{MASKED}{}", &text[body.len()..]))
    }

    /// Masks every run of base64 characters that is a piece of a token.
    fn mask_token_pieces(&self, text: &str) -> Option<String> {
        let is_base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_');
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut rest = text;
        while let Some(start) = rest.find(is_base64) {
            out.push_str(&rest[..start]);
            let run = &rest[start..];
            let end = run.find(|c: char| !is_base64(c)).unwrap_or(run.len());
            let piece = &run[..end];
            let lower = piece.to_ascii_lowercase();
            if piece.len() >= MIN_TOKEN_PIECE && self.tokens.iter().any(|t| t.contains(&lower)) {
                out.push_str(MASKED);
                changed = true;
            } else {
                out.push_str(piece);
            }
            rest = &run[end..];
        }
        out.push_str(rest);
        changed.then_some(out)
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

/// `text` with every occurrence of `needle` (lower-case) replaced by [`MASKED`], ignoring ASCII
/// case; `None` when there is none. ASCII case changes keep byte offsets, so the positions
/// found in the lower-cased text are those of the original.
fn replace_ignoring_ascii_case(text: &str, needle: &str) -> Option<String> {
    if needle.is_empty() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let mut found = lower.match_indices(needle).peekable();
    found.peek()?;
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in found {
        out.push_str(&text[copied..at]);
        out.push_str(MASKED);
        copied = at + needle.len();
    }
    out.push_str(&text[copied..]);
    Some(out)
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
    fn an_echo_cut_short_case_changed_or_percent_encoded_is_masked() {
        let mask = CredentialMask::new(&Credentials::new("the-key", "s3cr+t/v=lue+more").unwrap());
        let token = base64::engine::general_purpose::STANDARD.encode("the-key:s3cr+t/v=lue+more");
        for echoed in [
            format!("bad header Basic {}…", &token[..20]),
            format!("bad header basic {}", token.to_ascii_lowercase()),
            format!("bad header BASIC {}", token.to_ascii_uppercase()),
            "form: secret=s3cr%2Bt%2Fv%3Dlue%2Bmore&x=1".to_owned(),
            "shouted: S3CR+T/V=LUE+MORE".to_owned(),
        ] {
            let masked = mask.mask(&echoed).into_owned();
            assert!(masked.contains(MASKED), "{echoed:?} -> {masked:?}");
            assert!(!masked.contains(&token[..20]), "{masked}");
            assert!(!masked.to_ascii_lowercase().contains("s3cr"), "{masked}");
        }
        assert_eq!(
            mask.mask("a plain message with words").as_ref(),
            "a plain message with words"
        );
    }

    #[test]
    fn the_start_of_a_credential_that_ends_a_text_is_masked() {
        let mask = mask();
        assert_eq!(mask.mask("echo hush-hu…").as_ref(), "echo <redacted>…");
        assert_eq!(mask.mask("echo HUSH").as_ref(), "echo <redacted>");
        // Three characters are too few to say anything of the secret; in the middle of a
        // text a start is not a cut.
        assert_eq!(mask.mask("echo hus").as_ref(), "echo hus");
        assert_eq!(mask.mask("hush-hu then").as_ref(), "hush-hu then");
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
