#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod client_id;
mod dates;
mod file_kind;
mod open_enum;
#[cfg(feature = "redact-debug")]
mod redact;

// The generated code is laid out by prettyplease, not rustfmt; `cargo fmt` must leave it as
// `cargo xtask codegen` wrote it, or the freshness check would fail after every format.
#[rustfmt::skip]
mod generated;

pub use client_id::ClientId;
pub use dates::{CalendarDate, CalendarDateTime, InvalidDate, LenientDate, LenientDateTime};
pub use generated::*;
