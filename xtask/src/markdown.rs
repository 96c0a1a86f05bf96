//! A reader for the subset of Markdown the vendor's pages use: headings, pipe tables and fenced
//! code blocks.
//!
//! The pages are hand-written and have quirks that a general Markdown parser would smooth over
//! silently; this reader handles each known quirk explicitly and refuses anything else with the
//! file and line, so a changed page can never drop table rows without anyone noticing.

use std::fmt;
use std::path::{Path, PathBuf};

/// One Markdown page, split into what the schema derivation needs.
#[derive(Debug)]
pub struct Page {
    /// Where the page was read from, for error messages.
    pub path: PathBuf,
    /// The headings in order of appearance.
    pub headings: Vec<Heading>,
    /// The pipe tables in order of appearance.
    pub tables: Vec<Table>,
    /// The fenced code blocks in order of appearance.
    pub code_blocks: Vec<CodeBlock>,
}

/// A `#`-style heading.
#[derive(Debug, Clone)]
pub struct Heading {
    /// 1 for `#`, 2 for `##`, ...
    pub level: usize,
    /// The heading text, trimmed.
    pub text: String,
    /// The anchor GitHub derives from the text (`#client-data-table`).
    pub anchor: String,
    /// 1-based line number.
    pub line: usize,
}

/// A pipe table: a header row, a separator row and body rows.
#[derive(Debug, Clone)]
pub struct Table {
    /// The header cells, cleaned of backticks and padding.
    pub header: Vec<String>,
    /// Body rows; each has exactly as many cells as the header.
    pub rows: Vec<Row>,
    /// 1-based line number of the header row.
    pub line: usize,
    /// Index into [`Page::headings`] of the closest heading above the table.
    pub heading: Option<usize>,
}

/// A body row of a [`Table`].
#[derive(Debug, Clone)]
pub struct Row {
    /// The raw cells (Markdown kept: `<br>`, links, backticks), trimmed.
    pub cells: Vec<String>,
    /// 1-based line number.
    pub line: usize,
}

/// A fenced code block.
#[derive(Debug, Clone)]
pub struct CodeBlock {
    /// The info string after the fence (`json`, `python`, ...).
    pub language: String,
    /// The lines between the fences.
    pub text: String,
    /// 1-based line number of the opening fence.
    pub line: usize,
    /// Index into [`Page::headings`] of the closest heading above the block.
    pub heading: Option<usize>,
}

/// A page that could not be read, with the place to look.
#[derive(Debug)]
pub struct MarkdownError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for MarkdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

impl std::error::Error for MarkdownError {}

impl Page {
    /// Reads and parses the page at `path`.
    pub fn read(path: &Path) -> Result<Page, MarkdownError> {
        let text = std::fs::read_to_string(path).map_err(|err| MarkdownError {
            path: path.to_owned(),
            line: 0,
            message: format!("cannot read the page: {err}"),
        })?;
        Page::parse(path, &text)
    }

    /// Parses `text`, naming `path` in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Page, MarkdownError> {
        let fail = |line: usize, message: String| MarkdownError {
            path: path.to_owned(),
            line,
            message,
        };
        let lines: Vec<String> = text.lines().map(repair_mojibake).collect();
        let mut page = Page {
            path: path.to_owned(),
            headings: Vec::new(),
            tables: Vec::new(),
            code_blocks: Vec::new(),
        };
        let mut index = 0;
        while index < lines.len() {
            let line = &lines[index];
            let trimmed = line.trim();
            if let Some(info) = trimmed.strip_prefix("```") {
                let start = index;
                let mut body = Vec::new();
                index += 1;
                loop {
                    let Some(inner) = lines.get(index) else {
                        return Err(fail(start + 1, "code block is never closed".into()));
                    };
                    if inner.trim_start().starts_with("```") {
                        break;
                    }
                    body.push(inner.as_str());
                    index += 1;
                }
                page.code_blocks.push(CodeBlock {
                    language: info.trim().to_owned(),
                    text: body.join("\n"),
                    line: start + 1,
                    heading: page.headings.len().checked_sub(1),
                });
                index += 1;
                continue;
            }
            if let Some(heading) = parse_heading(trimmed, index + 1) {
                page.headings.push(heading);
                index += 1;
                continue;
            }
            let is_separator = lines
                .get(index + 1)
                .is_some_and(|next| is_separator_row(next));
            if is_separator && trimmed.contains('|') {
                let header: Vec<String> = split_row(trimmed)
                    .into_iter()
                    .map(|cell| strip_code(&cell))
                    .collect();
                let separator_cells = split_row(lines[index + 1].trim()).len();
                if separator_cells != header.len() {
                    return Err(fail(
                        index + 2,
                        format!(
                            "the separator row has {separator_cells} cells but the header has {}",
                            header.len()
                        ),
                    ));
                }
                let mut table = Table {
                    header,
                    rows: Vec::new(),
                    line: index + 1,
                    heading: page.headings.len().checked_sub(1),
                };
                index += 2;
                while let Some(row) = lines.get(index) {
                    let row = row.trim();
                    if row.is_empty() || !row.contains('|') {
                        break;
                    }
                    let cells = split_row(row);
                    if cells.len() != table.header.len() {
                        return Err(fail(
                            index + 1,
                            format!(
                                "row has {} cells but the table header has {} ({})",
                                cells.len(),
                                table.header.len(),
                                table.header.join(" | ")
                            ),
                        ));
                    }
                    table.rows.push(Row {
                        cells,
                        line: index + 1,
                    });
                    index += 1;
                }
                page.tables.push(table);
                continue;
            }
            index += 1;
        }
        Ok(page)
    }

    /// The heading a table or code block sits under.
    pub fn heading(&self, index: Option<usize>) -> Option<&Heading> {
        index.and_then(|index| self.headings.get(index))
    }

    /// The first table under the heading with the given anchor (`client-data-table`), before
    /// the next heading of the same or a higher level.
    pub fn table_under_anchor(&self, anchor: &str) -> Option<&Table> {
        let start = self.headings.iter().position(|h| h.anchor == anchor)?;
        self.table_in_section(start)
    }

    /// The first table under the heading whose text is `text`.
    pub fn table_under_heading(&self, text: &str) -> Option<&Table> {
        let start = self.headings.iter().position(|h| h.text == text)?;
        self.table_in_section(start)
    }

    fn table_in_section(&self, start: usize) -> Option<&Table> {
        let level = self.headings[start].level;
        let end = self.headings[start + 1..]
            .iter()
            .position(|h| h.level <= level)
            .map(|offset| start + 1 + offset);
        self.tables.iter().find(|table| {
            table
                .heading
                .is_some_and(|h| h >= start && end.is_none_or(|end| h < end))
        })
    }

    /// An error at `line` of this page.
    pub fn error(&self, line: usize, message: impl Into<String>) -> MarkdownError {
        MarkdownError {
            path: self.path.clone(),
            line,
            message: message.into(),
        }
    }
}

impl Table {
    /// The position of the column whose header is `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|cell| cell == name)
    }
}

fn parse_heading(line: &str, line_number: usize) -> Option<Heading> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let text = line[level..].strip_prefix(' ')?.trim().to_owned();
    Some(Heading {
        level,
        anchor: anchor_of(&text),
        text,
        line: line_number,
    })
}

/// GitHub's anchor rule: lower-case, drop punctuation, spaces become hyphens.
pub fn anchor_of(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn is_separator_row(line: &str) -> bool {
    let line = line.trim();
    line.contains('-')
        && line.contains('|')
        && line
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
}

/// Splits a table row into cells. The leading and trailing pipes are optional (one of the
/// vendor's tables starts its header row without one); pipes inside backticks do not split.
fn split_row(line: &str) -> Vec<String> {
    let inner = line.strip_prefix('|').unwrap_or(line);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut in_code = false;
    for c in inner.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                current.push(c);
            }
            '|' if !in_code => cells.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    cells.push(current);
    cells
        .into_iter()
        .map(|cell| cell.trim().to_owned())
        .collect()
}

/// The text of a cell with its backticks and the padding inside them removed
/// (`` `mismatchTags    ` `` is `mismatchTags`).
pub fn strip_code(cell: &str) -> String {
    cell.replace('`', "").trim().to_owned()
}

/// Undoes the classic mis-decoding of UTF-8 text as Windows-1252 (`â€™` for `’`), which the
/// vendor's pages contain. A line without the tell-tale characters, or one that does not decode
/// back to valid UTF-8, is returned unchanged.
pub fn repair_mojibake(line: &str) -> String {
    if !line.contains(['Ã', 'Â', 'â', 'Å']) {
        return line.to_owned();
    }
    let mut bytes = Vec::with_capacity(line.len());
    for c in line.chars() {
        match windows_1252_byte(c) {
            Some(byte) => bytes.push(byte),
            None => return line.to_owned(),
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|_| line.to_owned())
}

/// The Windows-1252 byte that decodes to `c`, if any.
fn windows_1252_byte(c: char) -> Option<u8> {
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    let code = c as u32;
    if code < 0x80 || (0xA0..=0xFF).contains(&code) {
        return u8::try_from(code).ok();
    }
    HIGH.iter().find(|(ch, _)| *ch == c).map(|(_, byte)| *byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Page {
        Page::parse(Path::new("test.md"), text).expect("the test page parses")
    }

    #[test]
    fn reads_a_table_whose_header_row_lacks_the_leading_pipe() {
        let page = parse("## T\n\nJSON key |Type|\n|---|---|\n|`a`|`String`|\n|`b`|`Int`|\n");
        assert_eq!(page.tables.len(), 1);
        assert_eq!(page.tables[0].header, ["JSON key", "Type"]);
        assert_eq!(page.tables[0].rows.len(), 2);
        assert_eq!(page.tables[0].rows[1].line, 6);
    }

    #[test]
    fn a_row_with_the_wrong_number_of_cells_is_an_error_with_its_line() {
        let err = Page::parse(Path::new("p.md"), "|a|b|\n|-|-|\n|1|2|\n|1|2|3|\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert!(
            err.to_string().starts_with("p.md:4: row has 3 cells"),
            "{err}"
        );
    }

    #[test]
    fn pipes_inside_backticks_do_not_split_cells() {
        let page = parse("|a|b|\n|-|-|\n|`x|y`|2|\n");
        assert_eq!(page.tables[0].rows[0].cells, ["`x|y`", "2"]);
    }

    #[test]
    fn repairs_utf8_read_as_windows_1252() {
        assert_eq!(repair_mojibake("iDenfyâ€™s side"), "iDenfy’s side");
        assert_eq!(repair_mojibake("ŠILUVA"), "ŠILUVA");
        assert_eq!(repair_mojibake("plain"), "plain");
    }

    #[test]
    fn tables_are_found_by_heading_anchor_within_their_section() {
        let page = parse(
            "## One\n|a|\n|-|\n|1|\n### Client data table\ntext\n|b|\n|-|\n|2|\n## Three\n|c|\n|-|\n|3|\n",
        );
        let table = page.table_under_anchor("client-data-table").unwrap();
        assert_eq!(table.header, ["b"]);
        assert!(page.table_under_anchor("missing").is_none());
    }

    #[test]
    fn code_blocks_keep_their_language_and_heading() {
        let page = parse("# H\n```json\n{\"a\": 1}\n```\n");
        assert_eq!(page.code_blocks[0].language, "json");
        assert_eq!(page.code_blocks[0].text, "{\"a\": 1}");
        assert_eq!(page.heading(page.code_blocks[0].heading).unwrap().text, "H");
    }

    #[test]
    fn an_unclosed_code_block_is_an_error() {
        let err = Page::parse(Path::new("p.md"), "text\n```json\n{}\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
