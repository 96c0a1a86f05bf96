//! The four retrieval endpoints.

/// One of the API's retrieval endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /api/v2/status`
    Status,
    /// `POST /api/v2/data`
    Data,
    /// `POST /api/v2/files`
    Files,
    /// `POST /api/v2/full-status`
    FullStatus,
}

impl Endpoint {
    /// All four, in documentation order.
    pub const ALL: [Endpoint; 4] = [
        Endpoint::Status,
        Endpoint::Data,
        Endpoint::Files,
        Endpoint::FullStatus,
    ];

    /// The request path, e.g. `/api/v2/full-status`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Status => "/api/v2/status",
            Endpoint::Data => "/api/v2/data",
            Endpoint::Files => "/api/v2/files",
            Endpoint::FullStatus => "/api/v2/full-status",
        }
    }

    /// The key that holds this endpoint's response in a fixture.
    pub fn fixture_key(self) -> &'static str {
        match self {
            Endpoint::Status => "status",
            Endpoint::Data => "data",
            Endpoint::Files => "files",
            Endpoint::FullStatus => "fullStatus",
        }
    }

    /// The endpoint a request path names; a trailing slash is tolerated.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        let path = path.strip_suffix('/').unwrap_or(path);
        Endpoint::ALL.into_iter().find(|e| e.path() == path)
    }
}
