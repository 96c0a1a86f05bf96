#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api_error;
mod auth;
mod body;
mod callback;
mod downloads;
mod fault;
mod fixtures;
mod identifications;
mod report_pdf;
mod router;
mod server;
mod signing;
mod strict;

pub use callback::{
    CallbackEvent, CallbackFault, DEFAULT_DELIVERY_TIMEOUT, DEFAULT_MAX_ANSWER_BYTES, Delivery,
    DeliveryError, DeliveryOptions, EVENT_TYPE_HEADER, ReceiverAnswer, SIGNATURE_HEADER,
};
pub use fixtures::{BUILTIN_FIXTURES_JSON, FixtureError, Fixtures};
/// The API's endpoints, as the client crates define them.
pub use idenfy_core::Endpoint;
pub use report_pdf::identification_report;
pub use server::{InProcessSandbox, Sandbox, SandboxBuilder, SandboxError, SandboxHandle};

/// The API key the sandbox accepts unless told otherwise.
pub const DEFAULT_API_KEY: &str = "sandbox-key";
/// The API secret the sandbox accepts unless told otherwise.
pub const DEFAULT_API_SECRET: &str = "sandbox-secret";
/// The request header that asks for a fault, e.g. `status=503;times=2`.
pub const FAULT_HEADER: &str = "Idenfy-Sandbox-Fault";
/// The default cap on request bodies; a larger body gets 413.
pub const DEFAULT_MAX_REQUEST_BODY_BYTES: usize = 16 * 1024;

/// The scanRefs of the built-in fixtures.
pub mod scan_refs {
    /// `APPROVED`: Lithuanian identity card; face and document match.
    pub const APPROVED: &str = "sandbox-approved";
    /// `DENIED` for face reasons: German passport, `FACE_MISMATCH`.
    pub const DENIED_FACE: &str = "sandbox-denied-face";
    /// `DENIED` for document reasons: UK driving licence, `DOC_EXPIRED`.
    pub const DENIED_DOCUMENT: &str = "sandbox-denied-document";
    /// `SUSPECTED`: Polish residence permit, with suspicion reasons.
    pub const SUSPECTED: &str = "sandbox-suspected";
    /// `REVIEWING`: French identity card, waiting for manual review.
    pub const REVIEWING: &str = "sandbox-reviewing";
    /// `ACTIVE`: session started (Latvia), nothing parsed yet, no files; refuses deletion
    /// (`PARTNER_ERROR` "Token has not expired yet.").
    pub const ACTIVE: &str = "sandbox-active";
    /// `EXPIRED`: token ran out before the client started (Estonia).
    pub const EXPIRED: &str = "sandbox-expired";
    /// `APPROVED`, with all six files and videos of about 8 MiB.
    pub const LARGE_VIDEO: &str = "sandbox-large-video";
    /// Raw responses outside the schema: enum values and fields the
    /// documentation does not list.
    pub const UNDOCUMENTED: &str = "sandbox-undocumented";

    /// Every built-in fixture whose responses follow the schema.
    pub const SCHEMA_FIXTURES: [&str; 8] = [
        APPROVED,
        DENIED_FACE,
        DENIED_DOCUMENT,
        SUSPECTED,
        REVIEWING,
        ACTIVE,
        EXPIRED,
        LARGE_VIDEO,
    ];
}
