//! The four lookups and the response type each returns.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::Target;
use crate::models::{FileUrls, FullStatus, IdentificationData, IdentificationStatus};

/// One of the identification data retrieval endpoints.
///
/// Each takes the same body, `{"scanRef": "..."}`, and returns its own model
/// (see [`EndpointResponse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /api/v2/status`: the overall status; returns [`IdentificationStatus`].
    Status,
    /// `POST /api/v2/data`: the data read from the document; returns [`IdentificationData`].
    Data,
    /// `POST /api/v2/files`: URLs of the photos and videos; returns [`FileUrls`].
    Files,
    /// `POST /api/v2/full-status`: automatic and manual review results; returns [`FullStatus`].
    FullStatus,
}

impl Endpoint {
    /// Every endpoint, in documentation order.
    pub const ALL: [Endpoint; 4] = [
        Endpoint::Status,
        Endpoint::Data,
        Endpoint::Files,
        Endpoint::FullStatus,
    ];

    /// The path appended to the base URL.
    pub const fn path(self) -> &'static str {
        self.target().path()
    }

    /// The endpoint a request path names (a server's view of [`Endpoint::path`]); one trailing
    /// slash is tolerated.
    ///
    /// ```
    /// use idenfy_core::Endpoint;
    /// assert_eq!(Endpoint::from_path("/api/v2/full-status/"), Some(Endpoint::FullStatus));
    /// assert_eq!(Endpoint::from_path("/api/v2/nothing"), None);
    /// ```
    pub fn from_path(path: &str) -> Option<Endpoint> {
        let path = path.strip_suffix('/').unwrap_or(path);
        Endpoint::ALL
            .into_iter()
            .find(|endpoint| endpoint.path() == path)
    }

    /// A short name for logs and traces (`status`, `data`, `files`, `full-status`).
    pub const fn name(self) -> &'static str {
        self.target().name()
    }

    /// The Rust type the response body is decoded into.
    pub const fn response_type_name(self) -> &'static str {
        match self {
            Endpoint::Status => "IdentificationStatus",
            Endpoint::Data => "IdentificationData",
            Endpoint::Files => "FileUrls",
            Endpoint::FullStatus => "FullStatus",
        }
    }

    /// The request target of this endpoint; a `const` [`From`].
    const fn target(self) -> Target {
        match self {
            Endpoint::Status => Target::Status,
            Endpoint::Data => Target::Data,
            Endpoint::Files => Target::Files,
            Endpoint::FullStatus => Target::FullStatus,
        }
    }
}

impl From<Endpoint> for Target {
    fn from(endpoint: Endpoint) -> Target {
        endpoint.target()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// Ties a response model to the endpoint that returns it, so that
/// [`Client::lookup`](crate::Client::lookup) and
/// [`parse_response`](crate::parse_response) pick the endpoint from the type.
///
/// Implemented for the four response models; sealed.
pub trait EndpointResponse: DeserializeOwned + sealed::Sealed + 'static {
    /// The endpoint that returns this type.
    const ENDPOINT: Endpoint;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! endpoint_response {
    ($model:ty => $endpoint:ident) => {
        impl sealed::Sealed for $model {}
        impl EndpointResponse for $model {
            const ENDPOINT: Endpoint = Endpoint::$endpoint;
        }
    };
}

endpoint_response!(IdentificationStatus => Status);
endpoint_response!(IdentificationData => Data);
endpoint_response!(FileUrls => Files);
endpoint_response!(FullStatus => FullStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_names_its_endpoint_and_nothing_else_does() {
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
            let with_slash = format!("{}/", endpoint.path());
            assert_eq!(Endpoint::from_path(&with_slash), Some(endpoint));
            let with_two = format!("{}//", endpoint.path());
            assert_eq!(Endpoint::from_path(&with_two), None);
        }
        for path in [
            "",
            "/",
            "/api/v2",
            "/api/v2/STATUS",
            "/api/v1/status",
            "api/v2/data",
        ] {
            assert_eq!(Endpoint::from_path(path), None, "{path:?}");
        }
    }
}
