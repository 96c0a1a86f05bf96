//! The `Debug` of free-text fields under the `redact-debug` feature: whether there is a value,
//! never the value.

use std::fmt;

/// Shows `Some(<redacted>)` or `None` for a text field, and the keys (not the values) of the map
/// of unlisted keys.
pub(crate) struct Redacted<'a, T>(pub(crate) &'a T);

impl fmt::Debug for Redacted<'_, Option<String>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("Some(<redacted>)"),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Redacted<'_, String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for Redacted<'_, Option<Vec<String>>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(items) => write!(f, "Some([<redacted>; {}])", items.len()),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Redacted<'_, Option<serde_json::Value>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("Some(<redacted>)"),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Redacted<'_, serde_json::Map<String, serde_json::Value>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|key| (key, format_args!("<redacted>"))))
            .finish()
    }
}
