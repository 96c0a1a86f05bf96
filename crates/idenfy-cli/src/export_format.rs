//! The formats a bulk export writes: JSON lines (the API's JSON as sent, any endpoint in one
//! file) or CSV (a header, then the key facts of one endpoint, for spreadsheets). Each line of
//! either is one scanRef's, so that an export can be resumed line by line.

use idenfy_hyper::core::Endpoint;
use idenfy_hyper::{Error, ScanRef};

use crate::csv_row;
use crate::result_line::{self, LINE_START, NotOurs, Written};

/// How an export's lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `{"scanRef", "endpoint", "result" | "error"}`, one a line ([`crate::result_line`]).
    JsonLines,
    /// The CSV of one endpoint ([`crate::csv_row`]).
    Csv(Endpoint),
}

impl ExportFormat {
    /// The line an export starts with, if the format has one.
    pub fn header(self) -> Option<Vec<u8>> {
        match self {
            ExportFormat::JsonLines => None,
            ExportFormat::Csv(endpoint) => Some(csv_row::header(endpoint)),
        }
    }

    /// The line of a successful lookup.
    pub fn success(self, scan_ref: &ScanRef, endpoint: Endpoint, body: &[u8]) -> Vec<u8> {
        match self {
            ExportFormat::JsonLines => result_line::success(scan_ref, endpoint, body),
            ExportFormat::Csv(_) => csv_row::success(scan_ref, endpoint, body),
        }
    }

    /// The line of a failed lookup.
    pub fn failure(
        self,
        scan_ref: &ScanRef,
        endpoint: Endpoint,
        error: &Error,
        attempts: u32,
    ) -> Vec<u8> {
        match self {
            ExportFormat::JsonLines => result_line::failure(scan_ref, endpoint, error, attempts),
            ExportFormat::Csv(_) => csv_row::failure(scan_ref, endpoint, error),
        }
    }

    /// Reads a line an earlier run wrote (its line break removed).
    pub(crate) fn parse(self, line: &[u8]) -> Result<Written, NotOurs> {
        match self {
            ExportFormat::JsonLines => result_line::parse(line),
            ExportFormat::Csv(endpoint) => csv_row::parse(line, endpoint),
        }
    }

    /// Whether `cut`, a last line without its line break, can be the start of one of ours cut
    /// by a crash, rather than text that was never ours. A CSV row has no mark of its own,
    /// but its file starts with the header, which was checked.
    pub(crate) fn may_be_cut_line(self, cut: &[u8]) -> bool {
        match self {
            ExportFormat::JsonLines => cut.starts_with(LINE_START) || LINE_START.starts_with(cut),
            ExportFormat::Csv(_) => true,
        }
    }
}
