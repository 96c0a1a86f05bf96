//! Text in the report's content streams: Unicode to WinAnsiEncoding, the
//! widths of the standard fonts' glyphs, fitting a line to a width, and PDF
//! string literals.
//!
//! The report uses only the standard Type 1 fonts, which every reader has
//! and which need no embedding; their WinAnsiEncoding reaches Western
//! European text only. Fixture values are written by users, so a character
//! outside WinAnsi shows as `?`, control characters never reach the stream,
//! and every line is measured and cut with an ellipsis before it could leave
//! its column.

/// Characters read from one value at most: wider than any line can be at
/// any size the report uses, so a longer value is always cut, and a huge
/// value costs no more than this.
const MAX_CHARS: usize = 400;

/// WinAnsiEncoding's ellipsis (`…`).
const ELLIPSIS: u8 = 0x85;

/// What a character is shown as when WinAnsi has no glyph for it.
const REPLACEMENT: u8 = b'?';

/// The standard fonts the report sets text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Font {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
    /// Courier, for the machine-readable zone.
    Mono,
}

impl Font {
    pub const ALL: [Font; 3] = [Font::Regular, Font::Bold, Font::Mono];

    /// The name the page resources give the font.
    pub fn resource_name(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
            Font::Mono => "F3",
        }
    }

    /// The standard font's PostScript name.
    pub fn base_font(self) -> &'static str {
        match self {
            Font::Regular => "Helvetica",
            Font::Bold => "Helvetica-Bold",
            Font::Mono => "Courier",
        }
    }

    /// The advance width of a WinAnsi code, in thousandths of the font size.
    fn advance(self, code: u8) -> u32 {
        match self {
            Font::Mono => 600,
            Font::Regular => HELVETICA[usize::from(code.max(0x20) - 0x20)].into(),
            // Only ASCII is tabulated for the bold face; 1000 is its widest
            // glyph, so other codes are over-measured and never overflow.
            Font::Bold => match code {
                0x20..=0x7e => HELVETICA_BOLD_ASCII[usize::from(code - 0x20)].into(),
                _ => 1000,
            },
        }
    }
}

/// Helvetica's widths for WinAnsi codes 0x20 to 0xFF (the font's AFM metrics).
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 350,
    556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// Helvetica-Bold's widths for ASCII 0x20 to 0x7E.
#[rustfmt::skip]
const HELVETICA_BOLD_ASCII: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// The characters WinAnsiEncoding puts at 0x80 to 0x9F (the rest of its
/// upper half is Latin-1).
const WIN_ANSI_HIGH: [(u8, char); 27] = [
    (0x80, '\u{20ac}'),
    (0x82, '\u{201a}'),
    (0x83, '\u{0192}'),
    (0x84, '\u{201e}'),
    (0x85, '\u{2026}'),
    (0x86, '\u{2020}'),
    (0x87, '\u{2021}'),
    (0x88, '\u{02c6}'),
    (0x89, '\u{2030}'),
    (0x8a, '\u{0160}'),
    (0x8b, '\u{2039}'),
    (0x8c, '\u{0152}'),
    (0x8e, '\u{017d}'),
    (0x91, '\u{2018}'),
    (0x92, '\u{2019}'),
    (0x93, '\u{201c}'),
    (0x94, '\u{201d}'),
    (0x95, '\u{2022}'),
    (0x96, '\u{2013}'),
    (0x97, '\u{2014}'),
    (0x98, '\u{02dc}'),
    (0x99, '\u{2122}'),
    (0x9a, '\u{0161}'),
    (0x9b, '\u{203a}'),
    (0x9c, '\u{0153}'),
    (0x9e, '\u{017e}'),
    (0x9f, '\u{0178}'),
];

/// The WinAnsi code of `c`, if the encoding has one.
fn win_ansi(c: char) -> Option<u8> {
    match c {
        ' '..='~' | '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).ok(),
        _ => WIN_ANSI_HIGH
            .iter()
            .find(|(_, known)| *known == c)
            .map(|(code, _)| *code),
    }
}

/// One line of text, encoded, measured and ready for a content stream.
#[derive(Debug, Clone)]
pub(super) struct Line {
    font: Font,
    size: f32,
    codes: Vec<u8>,
    /// Whether a character had to be shown as `?`.
    substituted: bool,
}

impl Line {
    /// `text` in `font` at `size` points, cut with an ellipsis to at most
    /// `max_width` points.
    pub fn fit(text: &str, font: Font, size: f32, max_width: f32) -> Line {
        let (codes, substituted, cut) = encode(text);
        let mut line = Line {
            font,
            size,
            codes,
            substituted,
        };
        if cut || line.width() > max_width {
            line.cut_to(max_width);
        }
        line
    }

    /// `text` broken into lines of at most `max_width` points, wherever a
    /// character would overflow (the report wraps codes, such as the MRZ,
    /// not prose); beyond `max_lines`, the last line is cut with an ellipsis.
    pub fn wrap(text: &str, font: Font, size: f32, max_width: f32, max_lines: usize) -> Vec<Line> {
        let (codes, substituted, cut) = encode(text);
        let limit = units(max_width, size);
        let mut lines = Vec::new();
        let mut rest = codes.as_slice();
        while !rest.is_empty() && lines.len() < max_lines {
            let mut used = 0;
            let take = rest
                .iter()
                .take_while(|&&code| {
                    used += font.advance(code);
                    used <= limit
                })
                .count()
                .max(1);
            let (head, tail) = rest.split_at(take.min(rest.len()));
            lines.push(Line {
                font,
                size,
                codes: head.to_vec(),
                substituted,
            });
            rest = tail;
        }
        if let Some(last) = lines.last_mut()
            && (cut || !rest.is_empty())
        {
            last.codes.extend_from_slice(rest);
            last.cut_to(max_width);
        }
        lines
    }

    pub fn font(&self) -> Font {
        self.font
    }

    pub fn size(&self) -> f32 {
        self.size
    }

    pub fn substituted(&self) -> bool {
        self.substituted
    }

    /// The line's width in points.
    pub fn width(&self) -> f32 {
        let total: u32 = self.codes.iter().map(|&c| self.font.advance(c)).sum();
        total as f32 * self.size / 1000.0
    }

    /// The line as a PDF string literal, e.g. `(a \(b\) \\ c)`: parentheses
    /// and backslashes escaped, everything outside printable ASCII written
    /// as an octal escape so the content stream stays plain ASCII.
    pub fn literal(&self) -> String {
        let mut out = String::with_capacity(self.codes.len() + 2);
        out.push('(');
        for &code in &self.codes {
            match code {
                b'(' | b')' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(code));
                }
                0x20..=0x7e => out.push(char::from(code)),
                _ => out.push_str(&format!("\\{code:03o}")),
            }
        }
        out.push(')');
        out
    }

    /// Drops codes from the end until the line and an ellipsis fit.
    fn cut_to(&mut self, max_width: f32) {
        let limit = units(max_width, self.size);
        let ellipsis = self.font.advance(ELLIPSIS);
        let Some(budget) = limit.checked_sub(ellipsis) else {
            self.codes.clear();
            return;
        };
        let mut used = 0;
        let keep = self
            .codes
            .iter()
            .take_while(|&&code| {
                used += self.font.advance(code);
                used <= budget
            })
            .count();
        self.codes.truncate(keep);
        while self.codes.last() == Some(&b' ') {
            self.codes.pop();
        }
        self.codes.push(ELLIPSIS);
    }
}

/// A width in points as thousandths of the font size, rounded down so that
/// what fits in units fits on the page.
fn units(points: f32, size: f32) -> u32 {
    if size <= 0.0 || points <= 0.0 {
        return 0;
    }
    (points * 1000.0 / size) as u32
}

/// WinAnsi codes for the first [`MAX_CHARS`] characters of `text`, whether
/// one was replaced, and whether `text` was longer than that.
fn encode(text: &str) -> (Vec<u8>, bool, bool) {
    let mut codes = Vec::with_capacity(text.len().min(MAX_CHARS));
    let mut substituted = false;
    let mut chars = text.chars();
    for c in chars.by_ref().take(MAX_CHARS) {
        let code = if c.is_whitespace() {
            // Tabs, line breaks and exotic spaces all read as one space.
            Some(b' ')
        } else if c.is_control() {
            None
        } else {
            win_ansi(c)
        };
        codes.push(code.unwrap_or_else(|| {
            substituted = true;
            REPLACEMENT
        }));
    }
    (codes, substituted, chars.next().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(line: &Line) -> &[u8] {
        &line.codes
    }

    #[test]
    fn literals_escape_delimiters_and_keep_the_stream_ascii() {
        let line = Line::fit("a (b) \\ c", Font::Regular, 10.0, 500.0);
        assert_eq!(line.literal(), r"(a \(b\) \\ c)");
        let line = Line::fit("Šiluva €5 Müller", Font::Regular, 10.0, 500.0);
        assert_eq!(line.literal(), r"(\212iluva \2005 M\374ller)");
        assert!(!line.substituted());
    }

    #[test]
    fn characters_outside_win_ansi_and_controls_are_replaced() {
        let line = Line::fit(
            "Ива\u{7}n\u{202e}ė\r\n\tx\u{9f}",
            Font::Regular,
            10.0,
            500.0,
        );
        assert_eq!(codes(&line), b"????n??   x?");
        assert!(line.substituted());
        assert!(
            line.literal().bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{}",
            line.literal()
        );
    }

    #[test]
    fn widths_follow_the_font_metrics() {
        // "Wi" in Helvetica: 944 + 222 thousandths.
        let line = Line::fit("Wi", Font::Regular, 10.0, 500.0);
        assert!((line.width() - 11.66).abs() < 0.001, "{}", line.width());
        assert!((Line::fit("Wi", Font::Mono, 10.0, 500.0).width() - 12.0).abs() < 0.001);
        assert!((Line::fit("Wi", Font::Bold, 10.0, 500.0).width() - 12.22).abs() < 0.001);
        // Outside ASCII the bold face is measured at its widest glyph.
        assert!((Line::fit("é", Font::Bold, 10.0, 500.0).width() - 10.0).abs() < 0.001);
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_within_the_width() {
        let text = "LIETUVOS RESPUBLIKOS VIDAUS REIKALU MINISTERIJA";
        let line = Line::fit(text, Font::Regular, 10.0, 120.0);
        assert!(line.width() <= 120.0, "{}", line.width());
        assert_eq!(codes(&line).last(), Some(&ELLIPSIS));
        assert!(
            text.as_bytes()
                .starts_with(&codes(&line)[..codes(&line).len() - 1])
        );
        // Text that fits is left alone.
        assert_eq!(codes(&Line::fit("LT", Font::Regular, 10.0, 120.0)), b"LT");
        // A width too small even for the ellipsis leaves nothing.
        assert!(codes(&Line::fit(text, Font::Regular, 10.0, 5.0)).is_empty());
    }

    #[test]
    fn a_huge_value_is_read_only_so_far_and_still_marked_as_cut() {
        let huge = "i".repeat(10 * MAX_CHARS);
        let line = Line::fit(&huge, Font::Regular, 1.0, 1.0e6);
        assert_eq!(codes(&line).len(), MAX_CHARS + 1);
        assert_eq!(codes(&line).last(), Some(&ELLIPSIS));
    }

    #[test]
    fn wrapping_breaks_at_the_width_and_cuts_the_last_line() {
        // Courier at 10 points: 6 points a character, so 5 per 30 points.
        let lines = Line::wrap("ABCDEFGHIJKL", Font::Mono, 10.0, 30.0, 3);
        let texts: Vec<&[u8]> = lines.iter().map(codes).collect();
        assert_eq!(texts, [&b"ABCDE"[..], b"FGHIJ", b"KL"]);
        let lines = Line::wrap("ABCDEFGHIJKLMNOP", Font::Mono, 10.0, 30.0, 2);
        let texts: Vec<&[u8]> = lines.iter().map(codes).collect();
        assert_eq!(texts, [&b"ABCDE"[..], b"FGHI\x85"]);
        assert!(Line::wrap("", Font::Mono, 10.0, 30.0, 2).is_empty());
    }
}
