//! Text from a server, made safe to print on a terminal.
//!
//! A server can put anything in a JSON string or a header: escape sequences that
//! retitle the terminal, clear the screen or recolour what follows, a line break
//! that forges a line of the program's own output, or a bidirectional override
//! that makes text read differently from the bytes it is. Every message and table
//! built from server text passes through [`escape_controls`] first.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` must not reach a terminal as itself: it does not print as itself. That is every
/// C0 and C1 control and DEL (line breaks and tabs included), every whitespace character but
/// the plain space (a no-break or ideographic space reads as a space, a line separator may
/// break the line), and every character that prints as nothing at all: a format character
/// (bidi marks, zero-width spaces and joiners, the soft hyphen, tags) or another character a
/// renderer ignores (variation selectors, Hangul fillers). Such a character makes a text read
/// as another one: `ref\u{200b}` looks like `ref`.
///
/// The one definition of "does not print as itself": [`ScanRef`](crate::ScanRef) refuses what
/// it names, and [`escape_controls`] escapes it.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control() || (c.is_whitespace() && c != ' ') || is_format_or_ignorable(c)
}

/// Whether `c` has the Unicode general category Cf (format) or the property
/// Default_Ignorable_Code_Point, as of Unicode 16.0 (`UnicodeData.txt` and
/// `DerivedCoreProperties.txt`; neither changed from 15.0 to 16.0). The ranges are the union of
/// the two, merged where they touch; code points reserved within them are included, as the
/// property includes them, so a character added there later is refused too.
fn is_format_or_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{0600}'..='\u{0605}' // Arabic number signs
            | '\u{061C}' // Arabic letter mark
            | '\u{06DD}' // Arabic end of ayah
            | '\u{070F}' // Syriac abbreviation mark
            | '\u{0890}'..='\u{0891}' // Arabic pound and piastre marks above
            | '\u{08E2}' // Arabic disputed end of ayah
            | '\u{115F}'..='\u{1160}' // Hangul choseong and jungseong fillers
            | '\u{17B4}'..='\u{17B5}' // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}' // Mongolian variation selectors, vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, non-joiner, joiner; LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, bidi isolates, ...
            | '\u{3164}' // Hangul filler
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}' // zero-width no-break space (byte order mark)
            | '\u{FFA0}' // halfwidth Hangul filler
            | '\u{FFF0}'..='\u{FFFB}' // reserved; interlinear annotation controls
            | '\u{110BD}' // Kaithi number sign
            | '\u{110CD}' // Kaithi number sign above
            | '\u{13430}'..='\u{1343F}' // Egyptian hieroglyph format controls
            | '\u{1BCA0}'..='\u{1BCA3}' // shorthand format controls
            | '\u{1D173}'..='\u{1D17A}' // musical symbol beam and slur controls
            | '\u{E0000}'..='\u{E0FFF}' // tags, variation selectors supplement, reserved
    )
}

/// `text` with every character that does not print as itself written as a visible
/// escape: `\n`, `\r`, `\t`, and `\u{1b}`-style for the others (C0, DEL, C1,
/// bidi controls, zero-width and other invisible characters, whitespace other than the
/// space). Everything else, other non-ASCII text included, is kept.
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

/// A JSON document as a terminal may be shown it: every character inside a string that does not
/// print as itself (the ones [`escape_controls`] escapes) written as its JSON escape instead
/// (`\u009b`, `\u202e`, a surrogate pair beyond the Basic Multilingual Plane), so the document
/// decodes to the same value and shows no character a terminal would obey. JSON allows C1
/// controls, DEL and invisible characters raw in a string, and a terminal may act on them
/// (U+009B starts an escape sequence).
///
/// `json` must be well formed (a lookup's body is checked to be before it is shown). Then the
/// only control characters are the whitespace between values, since a string holds them
/// escaped, and outside strings there is nothing but ASCII punctuation, digits and literals: so
/// the rewrite needs no parser. Of that whitespace, line feeds and tabs are kept, and carriage
/// returns are left out: one would send the cursor back to the start of the line, for what
/// follows to print over what came before. The document is the same without them.
///
/// ```
/// use idenfy_core::escape_json_for_terminal;
/// let json = "{\r\n  \"status\": \"\u{9b}31mAPPROVED\"\n}";
/// assert_eq!(escape_json_for_terminal(json), "{\n  \"status\": \"\\u009b31mAPPROVED\"\n}");
/// assert_eq!(escape_json_for_terminal("{\"name\": \"Lietuvą\"}"), "{\"name\": \"Lietuvą\"}");
/// ```
pub fn escape_json_for_terminal(json: &str) -> Cow<'_, str> {
    let kept = |c: char| !is_unsafe(c) || matches!(c, '\n' | '\t');
    if json.chars().all(kept) {
        return Cow::Borrowed(json);
    }
    let mut safe = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if kept(c) {
            safe.push(c);
        } else if c != '\r' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                safe.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Cow::Owned(safe)
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// Characters that print as nothing, or as another character: each must be escaped, and
    /// refused in a scanRef.
    pub(crate) const INVISIBLE: &[char] = &[
        '\u{00A0}',
        '\u{00AD}',
        '\u{034F}',
        '\u{0600}',
        '\u{061C}',
        '\u{06DD}',
        '\u{115F}',
        '\u{1160}',
        '\u{17B4}',
        '\u{180B}',
        '\u{180E}',
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{2028}',
        '\u{2029}',
        '\u{202F}',
        '\u{2060}',
        '\u{2061}',
        '\u{2062}',
        '\u{2063}',
        '\u{2064}',
        '\u{2065}',
        '\u{206A}',
        '\u{206B}',
        '\u{206C}',
        '\u{206D}',
        '\u{206E}',
        '\u{206F}',
        '\u{3000}',
        '\u{3164}',
        '\u{FEFF}',
        '\u{FFA0}',
        '\u{FFF9}',
        '\u{FFFA}',
        '\u{FFFB}',
        '\u{110BD}',
        '\u{13430}',
        '\u{1343F}',
        '\u{1BCA0}',
        '\u{1D173}',
        '\u{E0001}',
        '\u{E0100}',
        '\u{E01EF}',
    ];

    /// [`INVISIBLE`], the variation selectors and every tag character.
    pub(crate) fn invisible() -> impl Iterator<Item = char> {
        let ranges = [('\u{FE00}', '\u{FE0F}'), ('\u{E0000}', '\u{E007F}')];
        INVISIBLE
            .iter()
            .copied()
            .chain(ranges.into_iter().flat_map(|(first, last)| first..=last))
    }

    #[test]
    fn escapes_every_character_that_prints_as_nothing_or_as_another() {
        for c in invisible() {
            let escaped = escape_controls(&format!("sandbox-approved{c}")).into_owned();
            assert_eq!(
                escaped,
                format!("sandbox-approved\\u{{{:x}}}", u32::from(c)),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn letters_of_any_script_and_the_space_are_kept() {
        for text in [
            "Ąžuolas Šiaulių",
            "漢字かな한국어",
            "Ελληνικά Кириллица",
            "עברית العربية",
            "a b",
        ] {
            assert!(matches!(escape_controls(text), Cow::Borrowed(_)), "{text}");
        }
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

    #[test]
    fn json_for_a_terminal_decodes_to_the_same_value_and_shows_nothing_a_terminal_obeys() {
        let value = serde_json::json!({
            "status": "\u{9b}31m\u{7f}\u{202e}\u{e0041}\u{1b}]0;x\u{7}\nok é",
            "list": ["\u{200b}", "plain"],
        });
        for json in [
            value.to_string(),
            serde_json::to_string_pretty(&value).unwrap(),
        ] {
            let shown = escape_json_for_terminal(&json);
            let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
            assert_eq!(back, value, "{shown}");
            assert!(
                shown
                    .chars()
                    .all(|c| !is_unsafe(c) || matches!(c, '\n' | ' ')),
                "{shown:?}"
            );
            assert!(
                shown.contains("\\u009b31m\\u007f\\u202e\\udb40\\udc41"),
                "{shown}"
            );
        }
        let plain = "{\n\t\"a\": 1\n}";
        assert!(matches!(escape_json_for_terminal(plain), Cow::Borrowed(_)));
        // A carriage return between values would let what follows print over what came before.
        let overprinting = "{\"status\":\"DENIED\",\r\"x\":\"APPROVED\"}\r\n";
        let shown = escape_json_for_terminal(overprinting);
        assert_eq!(shown, "{\"status\":\"DENIED\",\"x\":\"APPROVED\"}\n");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&shown).unwrap(),
            serde_json::from_str::<serde_json::Value>(overprinting).unwrap()
        );
    }
}
