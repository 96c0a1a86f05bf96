#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod action;
mod base_url;
pub mod callback;
mod client;
mod credential_mask;
mod credentials;
mod deletion;
mod download_url;
mod endpoint;
mod error;
mod error_page;
mod jitter;
pub mod list;
mod percent;
mod report;
mod request;
mod response;
mod retry;
mod scan_ref;
mod terminal_text;
mod timer;
mod transport;
mod user_agent;

/// The response models, re-exported from `idenfy-models`.
pub use idenfy_models as models;

pub use action::Action;
pub use base_url::{BaseUrl, BaseUrlError, DEFAULT_BASE_URL, is_loopback_host};
pub use client::{
    Client, ClientBuilder, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_DEADLINE, Lookup, LookupFailure,
    WellFormedJson,
};
pub use credentials::{Credentials, CredentialsError};
pub use deletion::{Deletion, DeletionConfirmation, DeletionFailure, deletion_retryable};
pub use download_url::{DownloadUrl, DownloadUrlError};
pub use endpoint::{Endpoint, EndpointResponse};
pub use error::{
    ApiError, BodyTooLarge, DecodeError, Error, Timeout, TimeoutKind, UnexpectedResponse,
};
pub use list::{DEFAULT_MAX_PAGES, ListError, ListPage, ListPages, ListQuery, MAX_PER_PAGE};
pub use percent::percent_encode;
pub use report::{
    DEFAULT_MAX_REPORT_BYTES, NotAPdf, NotAPdfReason, PDF_MAGIC, REPORT_JSON_KEYS, Report,
    ReportShape, parse_report,
};
pub use request::{RequestBuilder, Target, USER_AGENT_VALUE, build_request};
pub use response::{DEFAULT_MAX_BODY_BYTES, MAX_SERVER_TEXT_CHARS, parse_response};
pub use retry::{
    AttemptOutcome, GiveUpReason, RetryDecision, RetryPolicy, is_transient, parse_retry_after,
};
pub use scan_ref::{MAX_SCAN_REF_LEN, ScanRef, ScanRefError};
pub use terminal_text::{EscapedControls, escape_controls};
pub use timer::Timer;
pub use transport::{ResponseBodyLimit, Transport};
pub use user_agent::{ApplicationName, ApplicationNameError, MAX_APPLICATION_NAME_LEN};
