//! The two endpoints that are not lookups: the PDF report and deletion.
//!
//! They are kept apart from [`Endpoint`](crate::Endpoint) on purpose: a lookup is a read that
//! may be retried and replayed freely, and no code that walks "every lookup" (a bulk export,
//! [`Client::lookup_raw`](crate::Client::lookup_raw)) can be handed a deletion by mistake.

use std::fmt;

use crate::Target;

/// An endpoint that acts on an identification rather than reading one of its records.
///
/// Each takes the same body as the lookups, `{"scanRef": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// `POST /api/v2/generate-pdf`: the identification report as a PDF.
    GeneratePdf,
    /// `POST /api/v2/delete`: deletes the identification's personal data at iDenfy.
    Delete,
}

impl Action {
    /// Both actions, in documentation order.
    pub const ALL: [Action; 2] = [Action::GeneratePdf, Action::Delete];

    /// The path appended to the base URL.
    pub const fn path(self) -> &'static str {
        self.target().path()
    }

    /// A short name for logs and traces (`generate-pdf`, `delete`).
    pub const fn name(self) -> &'static str {
        self.target().name()
    }

    /// The action a request path names; a trailing slash is tolerated.
    pub fn from_path(path: &str) -> Option<Action> {
        let path = path.strip_suffix('/').unwrap_or(path);
        Action::ALL.into_iter().find(|action| action.path() == path)
    }

    /// The request target of this action; a `const` [`From`].
    const fn target(self) -> Target {
        match self {
            Action::GeneratePdf => Target::GeneratePdf,
            Action::Delete => Target::Delete,
        }
    }
}

impl From<Action> for Target {
    fn from(action: Action) -> Target {
        action.target()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_and_differ_from_every_lookup() {
        for action in Action::ALL {
            assert_eq!(Action::from_path(action.path()), Some(action));
            assert_eq!(
                Action::from_path(&format!("{}/", action.path())),
                Some(action)
            );
            assert!(Target::ALL.contains(&Target::from(action)));
            for endpoint in crate::Endpoint::ALL {
                assert_ne!(endpoint.path(), action.path());
            }
        }
        assert_eq!(Action::from_path("/api/v2/status"), None);
    }
}
