//! Text from a server, made safe to print on a terminal.
//!
//! A server can put anything in a JSON string or a header: escape sequences that
//! retitle the terminal, clear the screen or recolour what follows, a line break
//! that forges a line of the program's own output, or a bidirectional override
//! that makes text read differently from the bytes it is. Every message and table
//! built from server text passes through [`escape_controls`] first.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` must not reach a terminal as itself: C0 controls (line breaks and
/// tabs included), DEL, C1 controls, and the Unicode marks that reorder text
/// (bidi embeddings, overrides and isolates, and the directional marks).
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every character a terminal could act on written as a visible
/// escape: `\n`, `\r`, `\t`, and `\u{1b}`-style for the others (C0, DEL, C1,
/// bidi controls). Everything else, other non-ASCII text included, is kept.
///
/// The result contains no such character, so escaping it again changes
/// nothing: a value escaped where it was made and again where it is shown
/// reads the same.
///
/// ```
/// use idenfy_core::escape_controls;
/// assert_eq!(escape_controls("APPROVED"), "APPROVED");
/// assert_eq!(escape_controls("\u{1b}]0;owned\u{7}"), "\\u{1b}]0;owned\\u{7}");
/// assert_eq!(escape_controls("a\nb"), "a\\nb");
/// assert_eq!(escape_controls("Vilnius, Lietuvą"), "Vilnius, Lietuvą");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(EscapedControls(text).to_string())
}

/// Displays a string as [`escape_controls`] would return it, without allocating.
///
/// ```
/// use idenfy_core::EscapedControls;
/// assert_eq!(format!("status {}", EscapedControls("A\u{9b}2J")), "status A\\u{9b}2J");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct EscapedControls<'a>(pub &'a str);

impl fmt::Display for EscapedControls<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(index) = rest.find(is_unsafe) {
            f.write_str(&rest[..index])?;
            let c = rest[index..].chars().next().unwrap_or_default();
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                other => write!(f, "\\u{{{:x}}}", u32::from(other))?,
            }
            rest = &rest[index + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_c0_control_del_and_c1_control() {
        for code in (0u32..0x20).chain(0x7f..0xa0) {
            let c = char::from_u32(code).unwrap();
            let escaped = escape_controls(&format!("a{c}b")).into_owned();
            assert!(
                !escaped.chars().any(|e| e.is_control()),
                "U+{code:04X} came through as {escaped:?}"
            );
            assert!(escaped.starts_with('a') && escaped.ends_with('b'));
        }
    }

    #[test]
    fn escapes_bidi_overrides_and_marks() {
        let text = "\u{202e}gnp.exe\u{2066}x\u{2069}\u{200f}";
        assert_eq!(
            escape_controls(text),
            "\\u{202e}gnp.exe\\u{2066}x\\u{2069}\\u{200f}"
        );
    }

    #[test]
    fn line_breaks_and_tabs_read_as_their_escapes() {
        assert_eq!(escape_controls("a\r\n\tb"), "a\\r\\n\\tb");
    }

    #[test]
    fn safe_text_is_borrowed_and_escaping_twice_changes_nothing() {
        assert!(matches!(
            escape_controls("Ąžuolas Šiaulių 12 \\n"),
            Cow::Borrowed(_)
        ));
        let once = escape_controls("x\u{1b}[2J\u{85}\u{202d}y").into_owned();
        assert_eq!(escape_controls(&once), once);
    }
}
