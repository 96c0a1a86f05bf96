#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod as_sent;
mod file_kind;
#[cfg(feature = "redact-debug")]
mod redact;

// The generated code is laid out by prettyplease, not rustfmt; `cargo fmt` must leave it as
// `cargo xtask codegen` wrote it, or the freshness check would fail after every format.
#[rustfmt::skip]
mod generated;

pub use as_sent::{
    CalendarDate, CalendarDateTime, ClientId, InvalidDate, LenientDate, LenientDateTime,
};
pub use generated::*;
