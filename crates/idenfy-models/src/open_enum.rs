//! The serde plumbing shared by the generated open enums.

use std::fmt;
use std::marker::PhantomData;

/// Deserializes any string into an open enum: a known value becomes its variant, any other
/// string the `Unknown` variant. Borrowed strings are matched without allocating.
pub(crate) struct OpenEnumVisitor<T> {
    name: &'static str,
    marker: PhantomData<fn() -> T>,
}

impl<T> OpenEnumVisitor<T> {
    pub(crate) fn new(name: &'static str) -> Self {
        OpenEnumVisitor {
            name,
            marker: PhantomData,
        }
    }
}

impl<T> serde::de::Visitor<'_> for OpenEnumVisitor<T>
where
    T: for<'a> From<&'a str> + From<String>,
{
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "a {} string", self.name)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from(value))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<T, E> {
        Ok(T::from(value))
    }
}

/// The JSON Schema of an open enum: any string, with the documented values named.
#[cfg(feature = "schemars")]
pub(crate) fn json_schema(description: &str, values: &[&str]) -> schemars::Schema {
    schemars::json_schema!({
        "description": description,
        "anyOf": [
            { "type": "string", "enum": values },
            { "type": "string" }
        ]
    })
}
