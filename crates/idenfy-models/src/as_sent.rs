//! The values the API sends that the generated types keep as sent, whatever they say: written
//! by hand, beside the generated code (`generated.rs`), which uses them.
//!
//! **Open enums.** Every documented list of values is a generated enum whose `Unknown` variant
//! keeps any other string, so a value the vendor adds tomorrow is carried, not refused
//! (`OpenEnumVisitor` is their shared serde).
//!
//! **Dates.** The API sends dates as `YYYY-MM-DD` and times as `YYYY-MM-DD HH:MM:SS`, but also
//! sends `""` where it has no date, and its docs' examples show placeholders such as
//! `"YYYY-MM-DD"`. A date that does not parse must not make a whole response unreadable, so the
//! fields hold a [`LenientDate`] or [`LenientDateTime`]: the text as sent, which serializes back
//! unchanged, with accessors for the typed [`CalendarDate`] or [`CalendarDateTime`].
//! Errors never repeat the text they could not parse: a date of birth is personal data.
//!
//! **The client's identifier.** `clientId` comes as a string or as an integer, depending on the
//! endpoint; a [`ClientId`] keeps the form it came in.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

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

/// A date that is valid in the proleptic Gregorian calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalendarDate {
    year: u16,
    month: u8,
    day: u8,
}

impl CalendarDate {
    /// The date, if `month` and `day` exist in `year` (`year` up to 9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<CalendarDate> {
        let valid = year <= 9999
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(CalendarDate { year, month, day })
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(self) -> u8 {
        self.day
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for CalendarDate {
    type Err = InvalidDate;

    /// Parses `YYYY-MM-DD`.
    fn from_str(text: &str) -> Result<Self, InvalidDate> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(InvalidDate::Format);
        }
        let year = digits(&bytes[0..4])?;
        let month = digits(&bytes[5..7])?;
        let day = digits(&bytes[8..10])?;
        // Four and two digits always fit their types.
        CalendarDate::new(year as u16, month as u8, day as u8).ok_or(InvalidDate::OutOfRange)
    }
}

/// A date and a time of day, without a time zone: the API does not say which one it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CalendarDateTime {
    date: CalendarDate,
    hour: u8,
    minute: u8,
    second: u8,
    nanosecond: u32,
}

impl CalendarDateTime {
    /// The date and time, if the time of day exists (`second` up to 60 for a leap second).
    pub fn new(
        date: CalendarDate,
        hour: u8,
        minute: u8,
        second: u8,
        nanosecond: u32,
    ) -> Option<CalendarDateTime> {
        let valid = hour < 24 && minute < 60 && second <= 60 && nanosecond < 1_000_000_000;
        valid.then_some(CalendarDateTime {
            date,
            hour,
            minute,
            second,
            nanosecond,
        })
    }

    /// The date.
    pub fn date(self) -> CalendarDate {
        self.date
    }

    /// The hour, 0 to 23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0 to 59.
    pub fn minute(self) -> u8 {
        self.minute
    }

    /// The second, 0 to 60.
    pub fn second(self) -> u8 {
        self.second
    }

    /// The fraction of the second, in nanoseconds.
    pub fn nanosecond(self) -> u32 {
        self.nanosecond
    }
}

impl fmt::Display for CalendarDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )?;
        if self.nanosecond != 0 {
            let fraction = format!("{:09}", self.nanosecond);
            write!(f, ".{}", fraction.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

impl FromStr for CalendarDateTime {
    type Err = InvalidDate;

    /// Parses `YYYY-MM-DD HH:MM:SS` with optional fractional seconds; a `T` may stand for the
    /// space.
    fn from_str(text: &str) -> Result<Self, InvalidDate> {
        let bytes = text.as_bytes();
        if bytes.len() < 19
            || !matches!(bytes[10], b' ' | b'T')
            || bytes[13] != b':'
            || bytes[16] != b':'
        {
            return Err(InvalidDate::Format);
        }
        let date: CalendarDate = text[..10].parse()?;
        let hour = digits(&bytes[11..13])?;
        let minute = digits(&bytes[14..16])?;
        let second = digits(&bytes[17..19])?;
        let nanosecond = match &bytes[19..] {
            [] => 0,
            [b'.', fraction @ ..] if !fraction.is_empty() && fraction.len() <= 9 => {
                let value = digits(fraction)?;
                value * 10u32.pow(9 - fraction.len() as u32)
            }
            _ => return Err(InvalidDate::Format),
        };
        // Two digits always fit a u8.
        CalendarDateTime::new(date, hour as u8, minute as u8, second as u8, nanosecond)
            .ok_or(InvalidDate::OutOfRange)
    }
}

/// The value of a run of ASCII digits (at most nine, so it fits).
fn digits(bytes: &[u8]) -> Result<u32, InvalidDate> {
    bytes.iter().try_fold(0u32, |value, &byte| {
        if byte.is_ascii_digit() {
            Ok(value * 10 + u32::from(byte - b'0'))
        } else {
            Err(InvalidDate::Format)
        }
    })
}

/// Why a date or time could not be read. It never holds the text itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidDate {
    /// The field was empty: the API had no value.
    Empty,
    /// The text is not laid out as `YYYY-MM-DD` (or `YYYY-MM-DD HH:MM:SS`).
    Format,
    /// The layout is right but the date or time does not exist (month 13, 30 February, ...).
    OutOfRange,
}

impl fmt::Display for InvalidDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidDate::Empty => "the date is empty",
            InvalidDate::Format => "the date is not laid out as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS",
            InvalidDate::OutOfRange => "the date or time does not exist in the calendar",
        })
    }
}

impl std::error::Error for InvalidDate {}

/// Defines a wrapper that keeps the text of a date field as sent and parses it on demand.
macro_rules! lenient {
    ($name:ident, $typed:ident, $accessor:ident, $layout:literal, $what:literal) => {
        #[doc = concat!("A ", $what, " as the API sends it (`", $layout, "`), kept verbatim.")]
        ///
        /// Any string is accepted, so that a placeholder or an empty value does not fail the
        /// parse of a whole response; it serializes back exactly as it came.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Wraps the text as sent.
            pub fn new(text: impl Into<String>) -> Self {
                $name(text.into())
            }

            /// The text as sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            #[doc = concat!("The typed value, or why the text is not a valid `", $layout, "`.")]
            pub fn parse(&self) -> Result<$typed, InvalidDate> {
                if self.0.is_empty() {
                    return Err(InvalidDate::Empty);
                }
                self.0.parse()
            }

            #[doc = concat!("The typed value; `None` for an empty, placeholder or malformed ", $what, ".")]
            pub fn $accessor(&self) -> Option<$typed> {
                self.parse().ok()
            }
        }

        impl From<$typed> for $name {
            fn from(value: $typed) -> Self {
                $name(value.to_string())
            }
        }

        /// Shows the length of the text, not the text: dates of birth are personal data.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "(<{} characters>)"), self.0.chars().count())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name)
            }
        }

        #[cfg(feature = "schemars")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "description": concat!("A ", $what, ", `", $layout, "`, kept as sent.")
                })
            }
        }
    };
}

lenient!(LenientDate, CalendarDate, date, "YYYY-MM-DD", "date");
lenient!(
    LenientDateTime,
    CalendarDateTime,
    date_time,
    "YYYY-MM-DD HH:MM:SS",
    "date and time"
);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_print_back() {
        let date: CalendarDate = "2000-02-29".parse().unwrap();
        assert_eq!((date.year(), date.month(), date.day()), (2000, 2, 29));
        assert_eq!(date.to_string(), "2000-02-29");
    }

    #[test]
    fn impossible_and_malformed_dates_are_refused_without_echoing_them() {
        assert_eq!(
            "1900-02-29".parse::<CalendarDate>(),
            Err(InvalidDate::OutOfRange)
        );
        assert_eq!(
            "2021-13-01".parse::<CalendarDate>(),
            Err(InvalidDate::OutOfRange)
        );
        assert_eq!(
            "YYYY-MM-DD".parse::<CalendarDate>(),
            Err(InvalidDate::Format)
        );
        assert_eq!(
            "2021-1-01".parse::<CalendarDate>(),
            Err(InvalidDate::Format)
        );
        assert!(!InvalidDate::Format.to_string().contains("2021"));
    }

    #[test]
    fn times_parse_with_and_without_fractions() {
        let time: CalendarDateTime = "2020-06-26 09:54:32".parse().unwrap();
        assert_eq!((time.hour(), time.minute(), time.second()), (9, 54, 32));
        assert_eq!(time.to_string(), "2020-06-26 09:54:32");
        let time: CalendarDateTime = "2020-06-26T09:54:32.25".parse().unwrap();
        assert_eq!(time.nanosecond(), 250_000_000);
        assert_eq!(time.to_string(), "2020-06-26 09:54:32.25");
        assert_eq!(
            "2020-06-26 24:00:00".parse::<CalendarDateTime>(),
            Err(InvalidDate::OutOfRange)
        );
        assert_eq!(
            "2020-06-26 09:54".parse::<CalendarDateTime>(),
            Err(InvalidDate::Format)
        );
        assert_eq!(
            "2020-06-26 09:54:32.".parse::<CalendarDateTime>(),
            Err(InvalidDate::Format)
        );
    }

    #[test]
    fn lenient_dates_keep_any_text_and_type_what_they_can() {
        let placeholder: LenientDate = serde_json::from_str("\"YYYY-MM-DD\"").unwrap();
        assert_eq!(placeholder.date(), None);
        assert_eq!(placeholder.parse(), Err(InvalidDate::Format));
        assert_eq!(
            serde_json::to_string(&placeholder).unwrap(),
            "\"YYYY-MM-DD\""
        );
        assert_eq!(LenientDate::new("").parse(), Err(InvalidDate::Empty));
        let date = LenientDate::new("2010-12-20").date().unwrap();
        assert_eq!(LenientDate::from(date).as_str(), "2010-12-20");
    }

    #[test]
    fn lenient_dates_do_not_show_their_text_in_debug() {
        let debug = format!("{:?}", LenientDate::new("2000-06-29"));
        assert_eq!(debug, "LenientDate(<10 characters>)");
    }
}
