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

impl fmt::Debug for Redacted<'_, Option<serde_json::Map<String, serde_json::Value>>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(map) => f.debug_tuple("Some").field(&Redacted(map)).finish(),
            None => f.write_str("None"),
        }
    }
}

/// Shows only `<redacted>`, whatever the field holds: for the fields whose text sits in a type
/// of their own (a questionnaire's answer, a list of records, ...), where there is no shape worth
/// showing without the text.
pub(crate) struct Opaque;

impl fmt::Debug for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
