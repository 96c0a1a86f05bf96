#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod build_error;
mod client;
mod download;
mod proxy;
mod tls;
mod transport;
mod trust;
mod tunnel;

pub use build_error::BuildError;
pub use client::{
    API_KEY_ENV, API_SECRET_ENV, BASE_URL_ENV, Client, ClientBuilder, Error, ReportError,
};
pub use download::{
    DEFAULT_DOWNLOAD_DEADLINE, DEFAULT_DOWNLOAD_IDLE_TIMEOUT, DEFAULT_MAX_DOWNLOAD_BYTES, Download,
    DownloadError, DownloadLimits,
};
pub use proxy::{Proxy, ProxyError, ProxyFailure};
pub use transport::{
    HyperError, HyperTransport, MAX_INTERIM_RESPONSES, RequestFailure, TokioTimer,
};
pub use trust::RootCertificates;

pub use idenfy_core::{
    self as core, ApplicationName, BaseUrl, Credentials, DownloadUrl, DownloadUrlError,
    RetryPolicy, ScanRef, models,
};
