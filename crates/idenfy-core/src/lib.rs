#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod base_url;
pub mod callback;
mod client;
mod credential_mask;
mod credentials;
mod deletion;
mod download_url;
mod error;
mod error_page;
mod jitter;
pub mod list;
mod percent;
mod report;
mod request;
mod response;
mod retry;
mod terminal_text;
mod transport;
mod user_agent;

/// The response models, re-exported from `idenfy-models`.
pub use idenfy_models as models;

pub use base_url::{BaseUrl, BaseUrlError, DEFAULT_BASE_URL, is_loopback_host};
pub use client::{
    Client, ClientBuilder, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_DEADLINE, Lookup, LookupFailure,
};
pub use credentials::{Credentials, CredentialsError};
pub use deletion::{Deletion, DeletionConfirmation, DeletionFailure, deletion_retryable};
pub use download_url::{DownloadUrl, DownloadUrlError};
pub use error::{
    ApiError, BodyTooLarge, DecodeError, Error, Timeout, TimeoutKind, UnexpectedResponse,
};
pub use list::{DEFAULT_MAX_PAGES, ListError, ListPage, ListPages, ListQuery, MAX_PER_PAGE};
pub use percent::percent_encode;
pub use report::{
    DEFAULT_MAX_REPORT_BYTES, NotAPdf, NotAPdfReason, PDF_MAGIC, REPORT_JSON_KEYS, Report,
    ReportShape, parse_report,
};
pub use request::{
    Action, Endpoint, EndpointResponse, MAX_SCAN_REF_LEN, RequestBuilder, ScanRef, ScanRefError,
    Target, USER_AGENT_VALUE, build_request,
};
pub use response::{
    DEFAULT_MAX_BODY_BYTES, MAX_SERVER_TEXT_CHARS, WellFormedJson, parse_response,
    parse_retry_after,
};
pub use retry::{AttemptOutcome, GiveUpReason, RetryDecision, RetryPolicy, is_transient};
pub use terminal_text::{EscapedControls, escape_controls, escape_json_for_terminal};
pub use transport::{ResponseBodyLimit, Timer, Transport};
pub use user_agent::{ApplicationName, ApplicationNameError, MAX_APPLICATION_NAME_LEN};
