//! The `idenfy` command's machinery: the command line, lookups, bulk export, downloads,
//! reports, deletion and output, one module each. The binary (`src/main.rs`) dispatches to
//! them; they are public for the command's fuzz targets and benchmarks, not as a stable API.
//!
//! See the repository's README for the commands, the formats and the exit codes.

#![forbid(unsafe_code)]

pub mod args;
pub mod audit;
pub mod bounded_line;
pub mod bulk;
pub mod callback;
pub mod confirm;
pub mod connect;
pub mod delete;
pub mod download;
pub mod download_set;
pub mod durable;
pub mod export_file;
pub mod failure;
pub mod file_kinds;
pub mod input;
pub mod interrupt;
pub mod lookup;
pub mod lookup_set;
pub mod output;
pub mod private_file;
pub mod rate;
pub mod render;
pub mod report;
pub mod result_line;
pub mod resume;
pub mod rfc3339;
pub mod trusted_file;
