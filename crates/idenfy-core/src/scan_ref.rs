//! The identification reference every lookup is keyed by.

use std::fmt;
use std::str::FromStr;

/// The longest `scanRef` the API documents (the `/data` table allows 40 characters).
pub const MAX_SCAN_REF_LEN: usize = 40;

/// A validated `scanRef`: the identifier iDenfy gives each identification.
///
/// Checked before any request is sent, so a typo fails fast with a clear
/// error instead of a round trip and an API error.
///
/// ```
/// use idenfy_core::ScanRef;
/// let scan_ref: ScanRef = "5f3c2a1e-9b7d-11ea-bb37-0242ac130002".parse()?;
/// assert_eq!(scan_ref.as_str(), "5f3c2a1e-9b7d-11ea-bb37-0242ac130002");
/// assert!("has space".parse::<ScanRef>().is_err());
/// # Ok::<(), idenfy_core::ScanRefError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScanRef(String);

/// Why a string is not a valid `scanRef`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanRefError {
    /// The string is empty.
    #[error(
        "the scanRef is empty: pass the `scanRef` iDenfy returned when the identification was created"
    )]
    Empty,
    /// The string is longer than the API allows.
    #[error(
        "the scanRef is {length} characters long, but iDenfy scanRefs have at most {MAX_SCAN_REF_LEN}; check that only the scanRef was passed"
    )]
    TooLong {
        /// Number of characters given.
        length: usize,
    },
    /// The string contains whitespace, a control character or a character that does not print
    /// as itself (a bidi override, a zero-width space or another invisible character would
    /// make a scanRef print as another one).
    #[error(
        "the scanRef contains whitespace, a control character or an invisible character (a bidi mark, a zero-width space, ...) at character {position}; trim it (a trailing newline is a common cause)"
    )]
    InvalidCharacter {
        /// Zero-based character index of the first offending character.
        position: usize,
    },
}

impl ScanRef {
    /// Validates a `scanRef`.
    ///
    /// # Errors
    /// [`ScanRefError`] when the value is empty, longer than
    /// [`MAX_SCAN_REF_LEN`] characters, or contains whitespace, control characters or
    /// characters that print as nothing (bidi marks, zero-width and other format characters,
    /// variation selectors, ...), so that a scanRef prints as itself on a terminal.
    pub fn new(value: impl Into<String>) -> Result<Self, ScanRefError> {
        let value = value.into();
        if value.is_empty() {
            return Err(ScanRefError::Empty);
        }
        if let Some(position) = value
            .chars()
            .position(|c| c == ' ' || crate::terminal_text::is_unsafe(c))
        {
            return Err(ScanRefError::InvalidCharacter { position });
        }
        let length = value.chars().count();
        if length > MAX_SCAN_REF_LEN {
            return Err(ScanRefError::TooLong { length });
        }
        Ok(Self(value))
    }

    /// The `scanRef` as sent to the API.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ScanRef {
    type Err = ScanRefError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::new(value)
    }
}

impl TryFrom<String> for ScanRef {
    type Error = ScanRefError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<&str> for ScanRef {
    type Error = ScanRefError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl AsRef<str> for ScanRef {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScanRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ScanRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScanRef").field(&self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_uuid_like_and_forty_character_refs() {
        assert!(
            "5f3c2a1e-9b7d-11ea-bb37-0242ac130002"
                .parse::<ScanRef>()
                .is_ok()
        );
        assert!(ScanRef::new("a".repeat(40)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_whitespace() {
        assert_eq!(ScanRef::new(""), Err(ScanRefError::Empty));
        assert_eq!(
            ScanRef::new("a".repeat(41)),
            Err(ScanRefError::TooLong { length: 41 })
        );
        assert_eq!(
            ScanRef::new("abc\n"),
            Err(ScanRefError::InvalidCharacter { position: 3 })
        );
        assert_eq!(
            ScanRef::new("a b"),
            Err(ScanRefError::InvalidCharacter { position: 1 })
        );
        assert_eq!(
            ScanRef::new("a\u{7}"),
            Err(ScanRefError::InvalidCharacter { position: 1 })
        );
    }

    #[test]
    fn rejects_marks_that_would_print_it_as_another_scan_ref() {
        // "ref-\u{202E}cba" shows as "ref-abc" on a terminal: a confirmation question or a
        // log line would name another identification.
        assert_eq!(
            ScanRef::new("ref-\u{202E}cba"),
            Err(ScanRefError::InvalidCharacter { position: 4 })
        );
        assert_eq!(
            ScanRef::new("\u{2066}x"),
            Err(ScanRefError::InvalidCharacter { position: 0 })
        );
        assert!(
            ScanRef::new("ĄČĘ-ūž-ref").is_ok(),
            "other non-ASCII text is fine"
        );
    }

    #[test]
    fn rejects_every_character_that_prints_as_nothing_or_as_another() {
        // "sandbox-approved\u{200b}" shows as "sandbox-approved": a dry run would name the
        // real one.
        for c in crate::terminal_text::tests::invisible() {
            assert_eq!(
                ScanRef::new(format!("sandbox-approved{c}")),
                Err(ScanRefError::InvalidCharacter { position: 16 }),
                "U+{:04X}",
                u32::from(c)
            );
        }
        for letters in ["ąčęėįšųūž", "漢字かな한국어", "Ελληνικά-Кириллица"]
        {
            assert!(ScanRef::new(letters).is_ok(), "{letters}");
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(ScanRef::new("é".repeat(40)).is_ok());
    }
}
