//! Reading an earlier run's output for `--resume`: which lookups are done, and the lines to
//! keep.
//!
//! A lookup is done when the output has a successful line for its (scanRef, endpoint): a line
//! of another endpoint is kept but does not make this endpoint's lookup done. Failed lines go
//! (their lookups are tried again and get a new line), as do second lines for the same lookup
//! and a last line cut by a crash. Every other line must be one of ours: a file that is not a
//! bulk export is refused whole, before anything is written.

use std::io::{self, BufRead, Write};

use idenfy_hyper::core::DEFAULT_MAX_BODY_BYTES;

use crate::bounded_line::{LineRead, read_line};
use crate::export_format::ExportFormat;
use crate::lookup_set::LookupSet;
use crate::result_line::NotOurs;

/// The longest line an export can hold: the largest body the client accepts, with room for
/// the scanRef, the endpoint and the braces around it.
pub const MAX_EXPORT_LINE_BYTES: usize = DEFAULT_MAX_BODY_BYTES + 64 * 1024;

/// What the earlier output held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resumed {
    /// Successful lines kept (of every endpoint).
    pub kept: u64,
    /// Lines of failed lookups, dropped.
    pub failed: u64,
    /// Second successful lines for a lookup, dropped.
    pub duplicates: u64,
    /// Whether the last line was cut short (by a crash or a kill) and dropped.
    pub cut: bool,
    /// Whether the format's header was written first.
    pub header: bool,
}

/// Why an earlier output cannot be resumed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// Reading failed.
    #[error("line {line}: cannot be read: {source}")]
    Read {
        /// The line being read.
        line: u64,
        /// The IO error.
        #[source]
        source: io::Error,
    },
    /// A line is not one of ours: the file is not a bulk export.
    #[error("line {line}: {reason}")]
    NotAnExport {
        /// The line.
        line: u64,
        /// What is wrong with it.
        reason: NotOurs,
    },
    /// Writing the kept lines failed.
    #[error("writing the kept lines failed: {0}")]
    Write(#[source] io::Error),
}

/// Reads the earlier JSON lines output from `earlier`, writes the lines to keep to `kept`, and
/// records the successful lookups in `done`.
///
/// # Errors
/// `ResumeError::NotAnExport` for a line that is not ours (nothing in `done` can be trusted
/// then, and `kept` must be thrown away); IO errors of either side.
pub fn rewrite_export(
    earlier: impl BufRead,
    kept: &mut impl Write,
    done: &mut LookupSet,
) -> Result<Resumed, ResumeError> {
    rewrite_export_as(ExportFormat::JsonLines, earlier, kept, done)
}

/// [`rewrite_export`] for an export in `format`: a CSV export must start with its header (an
/// empty file is a new one), which is written to `kept` in any case.
///
/// # Errors
/// As for [`rewrite_export`]; a CSV whose first line is not this endpoint's header is not
/// ours.
pub fn rewrite_export_as(
    format: ExportFormat,
    mut earlier: impl BufRead,
    kept: &mut impl Write,
    done: &mut LookupSet,
) -> Result<Resumed, ResumeError> {
    let mut resumed = Resumed::default();
    let mut buffer = Vec::new();
    let mut line = 0u64;
    if let Some(header) = format.header() {
        line += 1;
        let read = read_line(&mut earlier, &mut buffer, MAX_EXPORT_LINE_BYTES)
            .map_err(|source| ResumeError::Read { line, source })?;
        match read {
            LineRead::End => {}
            LineRead::Complete if buffer == header.as_slice() => {}
            _ => {
                return Err(ResumeError::NotAnExport {
                    line,
                    reason: NotOurs::new("not the header of this endpoint's CSV export"),
                });
            }
        }
        kept.write_all(&header).map_err(ResumeError::Write)?;
        resumed.header = true;
    }
    loop {
        line += 1;
        let read = read_line(&mut earlier, &mut buffer, MAX_EXPORT_LINE_BYTES)
            .map_err(|source| ResumeError::Read { line, source })?;
        let not_ours = |reason: &'static str| ResumeError::NotAnExport {
            line,
            reason: NotOurs::new(reason),
        };
        match read {
            LineRead::End => return Ok(resumed),
            LineRead::TooLong => return Err(not_ours("longer than any line of an export")),
            LineRead::Cut => {
                // The start of one of our lines, cut by a crash; text that merely lacks its
                // last line break is not ours.
                if format.may_be_cut_line(&buffer) {
                    resumed.cut = true;
                    return Ok(resumed);
                }
                return Err(not_ours("not the start of a line of a bulk export"));
            }
            LineRead::Complete => {}
        }
        let text = &buffer[..buffer.len() - 1];
        let written = format
            .parse(text)
            .map_err(|reason| ResumeError::NotAnExport { line, reason })?;
        if !written.succeeded {
            resumed.failed += 1;
        } else if done.insert_done(written.endpoint, &written.scan_ref) {
            resumed.kept += 1;
            kept.write_all(&buffer).map_err(ResumeError::Write)?;
        } else {
            resumed.duplicates += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use idenfy_hyper::core::Endpoint;

    use super::*;
    use crate::lookup_set::Claim;

    fn rewrite(earlier: &str) -> (Result<Resumed, ResumeError>, String, LookupSet) {
        let mut kept = Vec::new();
        let mut done = LookupSet::new().unwrap();
        let result = rewrite_export(earlier.as_bytes(), &mut kept, &mut done);
        (result, String::from_utf8(kept).unwrap(), done)
    }

    #[test]
    fn keeps_whole_successful_lines_once_and_drops_failures_and_a_cut_end() {
        let a = "{\"scanRef\":\"a\",\"endpoint\":\"status\",\"result\":{}}\n";
        let a_full = "{\"scanRef\":\"a\",\"endpoint\":\"full-status\",\"result\":{}}\n";
        let (result, kept, mut done) = rewrite(&format!(
            "{a}{}{a}{a_full}{}",
            "{\"scanRef\":\"b\",\"endpoint\":\"status\",\"error\":{\"kind\":\"network\"}}\n",
            "{\"scanRef\":\"c\",\"endpoint\":\"status\",\"res"
        ));
        assert_eq!(
            result.unwrap(),
            Resumed {
                kept: 2,
                failed: 1,
                duplicates: 1,
                cut: true,
                header: false,
            }
        );
        assert_eq!(kept, format!("{a}{a_full}"));
        let (a, b) = ("a".parse().unwrap(), "b".parse().unwrap());
        assert_eq!(done.claim(Endpoint::Status, &a), Claim::AlreadyDone);
        assert_eq!(done.claim(Endpoint::Data, &a), Claim::New);
        assert_eq!(done.claim(Endpoint::Status, &b), Claim::New);
    }

    #[test]
    fn a_file_that_is_not_an_export_is_refused_naming_the_line() {
        let ours = "{\"scanRef\":\"a\",\"endpoint\":\"status\",\"result\":{}}\n";
        for (text, line) in [
            ("my notes\n".to_owned(), 1),
            (format!("{ours}my notes\n"), 2),
            (format!("{ours}\n"), 2),
            // A last line without its break is dropped only when it starts like ours.
            (format!("{ours}my notes"), 2),
            ("notes".to_owned(), 1),
        ] {
            let (result, _, _) = rewrite(&text);
            match result {
                Err(ResumeError::NotAnExport { line: at, .. }) => assert_eq!(at, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let (result, kept, _) = rewrite("{\"scanR");
        assert!(result.unwrap().cut);
        assert!(kept.is_empty());
        assert_eq!(rewrite("").0.unwrap(), Resumed::default());
    }
}
