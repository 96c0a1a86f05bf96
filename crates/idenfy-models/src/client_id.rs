//! The partner's identifier of a client, which the API sends as a string or an integer.

use std::fmt;

/// The partner's identifier of a client (`clientId`), in the form the API sent it.
///
/// The docs type it as a string in `/status` and as an integer in `/data`; both forms are
/// accepted everywhere and serialize back as they came.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientId {
    /// Sent as a JSON string.
    Text(String),
    /// Sent as a JSON integer.
    Integer(i64),
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientId::Text(text) => f.write_str(text),
            ClientId::Integer(number) => write!(f, "{number}"),
        }
    }
}

impl From<String> for ClientId {
    fn from(text: String) -> Self {
        ClientId::Text(text)
    }
}

impl From<&str> for ClientId {
    fn from(text: &str) -> Self {
        ClientId::Text(text.to_owned())
    }
}

impl From<i64> for ClientId {
    fn from(number: i64) -> Self {
        ClientId::Integer(number)
    }
}

impl serde::Serialize for ClientId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ClientId::Text(text) => serializer.serialize_str(text),
            ClientId::Integer(number) => serializer.serialize_i64(*number),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ClientId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ClientIdVisitor)
    }
}

struct ClientIdVisitor;

impl serde::de::Visitor<'_> for ClientIdVisitor {
    type Value = ClientId;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a client id as a string or an integer")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ClientId, E> {
        Ok(ClientId::Text(text.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<ClientId, E> {
        Ok(ClientId::Text(text))
    }

    fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<ClientId, E> {
        Ok(ClientId::Integer(number))
    }

    fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<ClientId, E> {
        i64::try_from(number)
            .map(ClientId::Integer)
            .map_err(|_| E::custom("a client id integer above the 64-bit signed range"))
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for ClientId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ClientId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The partner's identifier of a client, as a string or an integer.",
            "type": ["string", "integer"]
        })
    }
}
