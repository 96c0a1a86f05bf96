//! The bulk input: one scanRef a line, read as a stream with every line's length bounded, so
//! neither a huge file nor an endless one (`/dev/zero`) can take the memory. A line that is a
//! JSON object is read for its `scanRef` string, so that `idenfy list --format jsonl` (and an
//! export's own lines) can be piped in as they are.
//!
//! An input whose first line is a CSV header starting with a `scanRef` column (the header of
//! `idenfy list --format csv`, of a CSV export, or of either saved again by a spreadsheet) is
//! read as CSV: the header is skipped and each row gives the scanRef of its first cell, with
//! the `'` that neutralises a formula ([`crate::csv_row`]) taken off again. A comma is allowed
//! in a scanRef, so without this the header and every row would be taken for scanRefs; such a
//! header on a later line is refused for the same reason.
//!
//! Blank lines and lines starting with `#` are skipped, surrounding white space is trimmed, and
//! a UTF-8 byte order mark at the very start (as some editors write) is not part of the first
//! scanRef. Anything else that is not a valid scanRef is an error naming its line.

use std::io::{self, BufRead};

use idenfy_hyper::ScanRef;
use idenfy_hyper::core::ScanRefError;

use crate::bounded_line::{LineRead, read_line};
use crate::csv_row;
use crate::failure::Failure;

/// The longest input line accepted, in bytes, line break included. A scanRef has at most
/// 40 characters; this leaves room for white space and comments, and bounds what one line can
/// take.
pub const MAX_INPUT_LINE_BYTES: usize = 4096;

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Why the input cannot be used. Each names its line (1-based); none quotes a line's text
/// beyond what the scanRef check says about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Reading failed.
    #[error("line {line}: cannot be read: {source}")]
    Read {
        /// The line being read.
        line: u64,
        /// The IO error.
        #[source]
        source: io::Error,
    },
    /// A line is longer than [`MAX_INPUT_LINE_BYTES`].
    #[error(
        "line {line} is longer than {MAX_INPUT_LINE_BYTES} bytes: this is not a list of scanRefs, one a line"
    )]
    LineTooLong {
        /// The line.
        line: u64,
    },
    /// A line is not UTF-8 text.
    #[error("line {line} is not UTF-8 text")]
    NotUtf8 {
        /// The line.
        line: u64,
    },
    /// A byte order mark (U+FEFF) past the start of the input, as concatenated files have:
    /// invisible, and not part of any scanRef.
    #[error("line {line} has a byte order mark (U+FEFF) in it: remove it")]
    ByteOrderMark {
        /// The line.
        line: u64,
    },
    /// A line is a JSON object without a `scanRef` string.
    #[error("line {line} is a JSON object without a \"scanRef\" string")]
    NoScanRefKey {
        /// The line.
        line: u64,
    },
    /// A row of a CSV input whose first cell, the scanRef, is empty or cannot be read.
    #[error("line {line} is a CSV row without a scanRef in its first cell")]
    NoScanRefCell {
        /// The line.
        line: u64,
    },
    /// A CSV header (`scanRef,...`) that is not the first line: files put end to end, or a
    /// list of scanRefs with a CSV pasted in.
    #[error(
        "line {line} is a CSV header (scanRef,...), which only the first line may be: the header and rows after it would be taken for scanRefs"
    )]
    CsvHeaderNotFirst {
        /// The line.
        line: u64,
    },
    /// A line is not a valid scanRef.
    #[error("line {line}: {source}")]
    Malformed {
        /// The line.
        line: u64,
        /// What is wrong with it.
        #[source]
        source: ScanRefError,
    },
}

/// A scanRef and the line it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLine {
    /// 1-based line number.
    pub line: u64,
    /// The scanRef on it.
    pub scan_ref: ScanRef,
}

/// The scanRefs of `reader`, in order, duplicates included; see `ScanRefLines`.
pub fn scan_ref_lines<R: BufRead>(reader: R) -> ScanRefLines<R> {
    ScanRefLines {
        reader,
        line: 0,
        buffer: Vec::new(),
        failed: false,
        shape: Shape::NotYetKnown,
    }
}

/// Counts the scanRefs of `reader` (duplicates included), checking every line: for a check of
/// the whole input before any lookup is sent.
///
/// # Errors
/// The first line that is not a scanRef, blank or a comment.
pub fn count_scan_refs(reader: impl BufRead) -> Result<u64, InputError> {
    let mut count = 0;
    for line in scan_ref_lines(reader) {
        line?;
        count += 1;
    }
    Ok(count)
}

/// An iterator over the scanRefs of a reader. It ends after the first error.
#[derive(Debug)]
pub struct ScanRefLines<R> {
    reader: R,
    line: u64,
    buffer: Vec<u8>,
    failed: bool,
    shape: Shape,
}

/// What the input is, which its first line that is not blank or a comment decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No such line yet.
    NotYetKnown,
    /// One scanRef, or one JSON object, a line.
    Lines,
    /// A CSV with a `scanRef` column first: the header, then a row a scanRef.
    Csv,
}

/// Whether `text` is a CSV header whose first column is `scanRef`, and which has others (a
/// lone `scanRef` is a scanRef).
fn is_csv_header(text: &str) -> bool {
    text.starts_with("scanRef,")
        || (text.starts_with("\"scanRef\",")
            && csv_row::read_record(text.as_bytes())
                .is_some_and(|cells| cells.len() > 1 && cells[0] == "scanRef"))
}

impl<R: BufRead> Iterator for ScanRefLines<R> {
    type Item = Result<InputLine, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            self.line += 1;
            let line = self.line;
            let error = match read_line(&mut self.reader, &mut self.buffer, MAX_INPUT_LINE_BYTES) {
                Ok(LineRead::End) => return None,
                Ok(LineRead::Complete | LineRead::Cut) => None,
                Ok(LineRead::TooLong) => Some(InputError::LineTooLong { line }),
                Err(source) => Some(InputError::Read { line, source }),
            };
            if let Some(error) = error {
                self.failed = true;
                return Some(Err(error));
            }
            let mut bytes = self.buffer.as_slice();
            if line == 1 {
                bytes = bytes.strip_prefix(BYTE_ORDER_MARK).unwrap_or(bytes);
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                self.failed = true;
                return Some(Err(InputError::NotUtf8 { line }));
            };
            if text.contains('\u{FEFF}') {
                self.failed = true;
                return Some(Err(InputError::ByteOrderMark { line }));
            }
            let text = text.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let header = is_csv_header(text);
            match (self.shape, header) {
                (Shape::NotYetKnown, true) => {
                    self.shape = Shape::Csv;
                    continue;
                }
                (Shape::NotYetKnown, false) => self.shape = Shape::Lines,
                (_, true) => {
                    self.failed = true;
                    return Some(Err(InputError::CsvHeaderNotFirst { line }));
                }
                (_, false) => {}
            }
            let text = if self.shape == Shape::Csv {
                match csv_row::read_record(text.as_bytes())
                    .and_then(|cells| cells.into_iter().next())
                    .filter(|cell| !cell.is_empty())
                {
                    Some(cell) => csv_row::unmarked(&cell).to_owned(),
                    None => {
                        self.failed = true;
                        return Some(Err(InputError::NoScanRefCell { line }));
                    }
                }
            } else if text.starts_with('{') {
                match scan_ref_of_json(text) {
                    Some(scan_ref) => scan_ref,
                    None => {
                        self.failed = true;
                        return Some(Err(InputError::NoScanRefKey { line }));
                    }
                }
            } else {
                text.to_owned()
            };
            return Some(match ScanRef::new(&text) {
                Ok(scan_ref) => Ok(InputLine { line, scan_ref }),
                Err(source) => {
                    self.failed = true;
                    Err(InputError::Malformed { line, source })
                }
            });
        }
    }
}

/// The `scanRef` of a JSON line like `{"scanRef": "...", "status": ...}`; `None` when the line
/// is not a JSON object with a string there. The line is bounded, so reading it whole is too.
fn scan_ref_of_json(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "scanRef")]
        scan_ref: String,
    }
    serde_json::from_str::<Line>(text)
        .ok()
        .map(|line| line.scan_ref)
}

/// The most scanRefs a list given to `report` or `delete` may hold: they are read whole
/// before anything is sent (a deletion is confirmed for the whole list), so their number is
/// bounded.
pub const MAX_LIST_SCAN_REFS: usize = 1_000_000;

/// Reads the list of scanRefs at `path` (`-` for standard input) whole, checking every line,
/// without repeats (the first occurrence is kept, in order).
///
/// # Errors
/// A bad-input failure naming the first bad line, or when the list is too long or cannot be
/// opened.
pub fn read_list(path: &std::path::Path) -> Result<Vec<ScanRef>, Failure> {
    let shown = path.display();
    let reader: Box<dyn BufRead> = if path == std::path::Path::new("-") {
        Box::new(io::BufReader::new(io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .map_err(|err| Failure::bad_input(format!("--input {shown}: {err}")))?;
        Box::new(io::BufReader::new(file))
    };
    let mut seen = std::collections::HashSet::new();
    let mut list = Vec::new();
    for line in scan_ref_lines(reader) {
        let line = line.map_err(|err| Failure::bad_input(format!("--input {shown}: {err}")))?;
        if seen.insert(line.scan_ref.as_str().to_owned()) {
            if list.len() == MAX_LIST_SCAN_REFS {
                return Err(Failure::bad_input(format!(
                    "--input {shown}: more than {MAX_LIST_SCAN_REFS} scanRefs; split the list"
                )));
            }
            list.push(line.scan_ref);
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(input: &[u8]) -> Result<Vec<(u64, String)>, InputError> {
        scan_ref_lines(input)
            .map(|line| line.map(|line| (line.line, line.scan_ref.as_str().to_owned())))
            .collect()
    }

    #[test]
    fn skips_comments_and_blanks_trims_and_keeps_duplicates_and_order() {
        assert_eq!(
            refs(b"# header\n a \r\n\n\tb\na\nlast").unwrap(),
            [
                (2, "a".into()),
                (4, "b".into()),
                (5, "a".into()),
                (6, "last".into())
            ]
        );
        assert_eq!(refs(b"").unwrap(), []);
        assert_eq!(count_scan_refs(&b"a\n#x\nb\n"[..]).unwrap(), 2);
    }

    #[test]
    fn a_json_line_gives_its_scan_ref_so_the_list_pipes_in() {
        assert_eq!(
            refs(b"{\"scanRef\":\"a-1\",\"status\":\"APPROVED\",\"suspected\":false}\nplain\n")
                .unwrap(),
            [(1, "a-1".into()), (2, "plain".into())]
        );
        assert!(matches!(
            refs(b"{\"status\": \"APPROVED\"}\n"),
            Err(InputError::NoScanRefKey { line: 1 })
        ));
        assert!(matches!(
            refs(b"{\"scanRef\": \"a b\"}\n"),
            Err(InputError::Malformed { line: 1, .. })
        ));
    }

    #[test]
    fn a_csv_with_a_scan_ref_column_first_gives_the_scan_refs_of_its_rows() {
        // `idenfy list --format csv`, as written: a formula-like scanRef carries its mark.
        assert_eq!(
            refs(b"scanRef,status,suspected\r\na-1,APPROVED,false\r\n'-2+3,,\r\n\"q,\"\"x\",DENIED,true\r\n")
                .unwrap(),
            [(2, "a-1".into()), (3, "-2+3".into()), (4, "q,\"x".into())]
        );
        // Saved again by a spreadsheet: a byte order mark, the header quoted, LF.
        assert_eq!(
            refs(b"\xEF\xBB\xBF\"scanRef\",\"status\"\n\"a-1\",\"APPROVED\"\n\n").unwrap(),
            [(2, "a-1".into())]
        );
        // An export's CSV, with a comment before it.
        assert_eq!(
            refs(b"# mine\nscanRef,status,clientId,error\r\nb-1,APPROVED,c,\r\n").unwrap(),
            [(3, "b-1".into())]
        );
        assert!(matches!(
            refs(b"scanRef,status\n,APPROVED\n"),
            Err(InputError::NoScanRefCell { line: 2 })
        ));
    }

    #[test]
    fn a_csv_header_after_the_first_line_is_refused_not_looked_up() {
        assert!(matches!(
            refs(b"a-1\nscanRef,status,suspected\nb-1,APPROVED,false\n"),
            Err(InputError::CsvHeaderNotFirst { line: 2 })
        ));
        assert!(matches!(
            refs(b"scanRef,status\na-1,X\nscanRef,status\n"),
            Err(InputError::CsvHeaderNotFirst { line: 3 })
        ));
        // A lone `scanRef` is a scanRef, and a comma alone does not make a CSV.
        assert_eq!(
            refs(b"scanRef\na,b\n").unwrap(),
            [(1, "scanRef".into()), (2, "a,b".into())]
        );
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_not_part_of_the_first_scan_ref() {
        assert_eq!(
            refs(b"\xEF\xBB\xBFfirst\nsecond\n").unwrap(),
            [(1, "first".into()), (2, "second".into())]
        );
        // Anywhere else (files put end to end) it is refused, not taken into a scanRef.
        assert!(matches!(
            refs(b"first\n\xEF\xBB\xBFsecond\n"),
            Err(InputError::ByteOrderMark { line: 2 })
        ));
    }

    #[test]
    fn a_bad_line_is_named_and_ends_the_stream() {
        let mut lines = scan_ref_lines(&b"a\nb c\nd\n"[..]);
        assert!(lines.next().unwrap().is_ok());
        let error = lines.next().unwrap().unwrap_err();
        assert!(matches!(error, InputError::Malformed { line: 2, .. }));
        assert!(error.to_string().starts_with("line 2: "), "{error}");
        assert!(lines.next().is_none());
        assert!(matches!(
            refs(b"a\n\xff\n"),
            Err(InputError::NotUtf8 { line: 2 })
        ));
    }

    #[test]
    fn a_line_longer_than_the_bound_is_refused_without_reading_it_all() {
        // An endless line: `repeat` never ends, so reading it whole would never return.
        let endless = io::BufReader::new(io::repeat(b'x'));
        let error = scan_ref_lines(endless).next().unwrap().unwrap_err();
        assert!(
            matches!(error, InputError::LineTooLong { line: 1 }),
            "{error}"
        );

        let mut input = b"ok\n".to_vec();
        input.extend(std::iter::repeat_n(b' ', MAX_INPUT_LINE_BYTES));
        input.extend_from_slice(b"x\n");
        assert!(matches!(
            refs(&input),
            Err(InputError::LineTooLong { line: 2 })
        ));
        // Exactly at the bound is fine.
        let mut input = vec![b' '; MAX_INPUT_LINE_BYTES - 2];
        input.extend_from_slice(b"x\n");
        assert_eq!(refs(&input).unwrap(), [(1, "x".into())]);
    }
}
