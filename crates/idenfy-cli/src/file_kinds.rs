//! The files a `/files` answer lists, as (kind, URL) pairs: the six kinds the docs list, in the
//! docs' order, then every other kind the API sent (kept by the models in `FileUrls::extra`), so
//! that no file is silently left out.
//!
//! A kind becomes a file name (`FRONT.png`), so it must be a plain name: ASCII letters, digits
//! and `_`, at most [`MAX_KIND_LEN`] characters. Anything else is refused, never used as a path.

use std::fmt;

use idenfy_hyper::models::{FileKind, FileUrls};
use serde_json::Value;

/// The longest file kind accepted, in characters.
pub const MAX_KIND_LEN: usize = 64;

/// Names Windows reserves for devices, with or without an extension: never a file name.
const RESERVED_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A file's kind (`FRONT`, `FACE_VIDEO`, `UTILITY_BILL`, ...), checked to be usable as the stem
/// of a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedKind(FileKind);

impl CheckedKind {
    /// Checks `name`.
    ///
    /// # Errors
    /// [`FileListError::UnusableKind`] for an empty or long name, a character other than an
    /// ASCII letter, digit or `_`, or a device name.
    pub fn new(name: &str) -> Result<Self, FileListError> {
        Self::check(FileKind::from(name))
    }

    /// Checks `kind`'s name (a documented kind always passes).
    ///
    /// # Errors
    /// As [`CheckedKind::new`].
    pub fn check(kind: FileKind) -> Result<Self, FileListError> {
        let name = kind.as_str();
        let plain = !name.is_empty()
            && name.len() <= MAX_KIND_LEN
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
            && !RESERVED_NAMES
                .iter()
                .any(|reserved| reserved.eq_ignore_ascii_case(name));
        if plain {
            Ok(Self(kind))
        } else {
            Err(FileListError::UnusableKind { shown: shown(name) })
        }
    }

    /// The name, as the API sent it.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The extension when the server's content type does not say better: `png` for the
    /// documented photos, `mp4` for the documented videos ([`FileKind::is_video`]), `bin` for a
    /// kind the docs do not list.
    pub fn default_extension(&self) -> &'static str {
        match &self.0 {
            FileKind::Other(_) => "bin",
            kind if kind.is_video() => "mp4",
            _ => "png",
        }
    }
}

impl fmt::Display for CheckedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file of the identification: its kind and the URL it is served at (unchecked: see
/// `idenfy_hyper::DownloadUrl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile<'a> {
    pub kind: CheckedKind,
    pub url: &'a str,
}

/// Why a `/files` answer cannot be turned into files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileListError {
    /// A kind that cannot be a file name.
    #[error(
        "the API listed a file kind `{shown}` that is not a plain name (ASCII letters, digits and `_`, at most {MAX_KIND_LEN} characters); refusing to use it as a file name"
    )]
    UnusableKind {
        /// The name, escaped and shortened for a terminal.
        shown: String,
    },
    /// Two kinds that differ only in case would be one file on a case-insensitive file system.
    #[error("the API listed the file kinds `{first}` and `{second}`, which differ only in case")]
    CaseCollision {
        /// One kind.
        first: String,
        /// The other.
        second: String,
    },
    /// An entry that is neither a URL nor `null`.
    #[error("the API's `{kind}` entry is neither a URL nor null")]
    NotAUrl {
        /// The kind.
        kind: String,
    },
}

/// Every file `files` has a URL for: the documented kinds in the docs' order
/// ([`FileKind::DOCUMENTED`]), then the others by name. `null` and `""` mean "no such file".
///
/// # Errors
/// [`FileListError`] for a kind that cannot be a file name, or an entry that is not a string;
/// the whole list is refused, so nothing is written on a doubtful answer.
pub fn file_urls(files: &FileUrls) -> Result<Vec<ListedFile<'_>>, FileListError> {
    let mut listed = Vec::new();
    for (kind, url) in files.documented() {
        if let Some(url) = url.filter(|url| !url.is_empty()) {
            listed.push(ListedFile {
                kind: CheckedKind::check(kind)?,
                url,
            });
        }
    }
    let mut seen: Vec<String> = FileKind::DOCUMENTED
        .iter()
        .map(|kind| kind.as_str().to_owned())
        .collect();
    for (name, value) in &files.extra {
        let kind = CheckedKind::new(name)?;
        if let Some(first) = seen
            .iter()
            .find(|other| other.eq_ignore_ascii_case(kind.as_str()))
        {
            return Err(FileListError::CaseCollision {
                first: first.clone(),
                second: kind.to_string(),
            });
        }
        seen.push(kind.to_string());
        match value {
            Value::Null => {}
            Value::String(url) if url.is_empty() => {}
            Value::String(url) => listed.push(ListedFile { kind, url }),
            _ => {
                return Err(FileListError::NotAUrl {
                    kind: kind.to_string(),
                });
            }
        }
    }
    Ok(listed)
}

/// `name` with control and non-ASCII characters escaped, cut to a length a message can hold.
fn shown(name: &str) -> String {
    const SHOWN_CHARS: usize = 80;
    let mut shown: String = name
        .chars()
        .take(SHOWN_CHARS)
        .flat_map(char::escape_default)
        .collect();
    if name.chars().count() > SHOWN_CHARS {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files(value: Value) -> FileUrls {
        serde_json::from_value(value).unwrap()
    }

    fn kinds(listed: &[ListedFile<'_>]) -> Vec<String> {
        listed.iter().map(|file| file.kind.to_string()).collect()
    }

    #[test]
    fn documented_kinds_first_in_the_docs_order_then_every_other_kind() {
        let answer = files(json!({
            "FACE_VIDEO": "https://f.example/6",
            "ZZ_LAST": "https://f.example/z",
            "BACK": "https://f.example/2",
            "UTILITY_BILL": "https://f.example/u",
            "FRONT": "https://f.example/1",
            "FACE": null,
            "FRONT_VIDEO": "",
            "SELFIE_2": null,
        }));
        let listed = file_urls(&answer).unwrap();
        assert_eq!(
            kinds(&listed),
            ["FRONT", "BACK", "FACE_VIDEO", "UTILITY_BILL", "ZZ_LAST"]
        );
        assert_eq!(listed[3].url, "https://f.example/u");
    }

    #[test]
    fn a_kind_that_is_not_a_plain_name_is_refused() {
        for name in [
            "../../etc/passwd",
            ".hidden",
            "FRONT.png",
            "a/b",
            "",
            "SPACE D",
            "ÜBER",
            "\u{1b}]0;title\u{7}",
            "con",
            "LPT1",
        ] {
            let answer = files(json!({ name: "https://f.example/x" }));
            assert!(
                matches!(file_urls(&answer), Err(FileListError::UnusableKind { .. })),
                "{name:?} was accepted"
            );
        }
        assert!(CheckedKind::new(&"A".repeat(MAX_KIND_LEN + 1)).is_err());
        // A huge name is shortened in the message.
        let huge = "A".repeat(10_000);
        let error = file_urls(&files(json!({ huge: "https://f.example/x" }))).unwrap_err();
        assert!(error.to_string().len() < 400, "{error}");
        assert!(error.to_string().contains('…'), "{error}");
        assert!(CheckedKind::new(&"A".repeat(MAX_KIND_LEN)).is_ok());
    }

    #[test]
    fn the_message_escapes_what_the_server_sent() {
        let error = file_urls(&files(json!({ "\u{1b}[2J": "https://f.example/x" }))).unwrap_err();
        let message = error.to_string();
        assert!(!message.contains('\u{1b}'), "{message:?}");
        assert!(message.contains("\\u{1b}[2J"), "{message:?}");
    }

    #[test]
    fn kinds_that_differ_only_in_case_are_refused() {
        let answer =
            files(json!({ "FRONT": "https://f.example/1", "front": "https://f.example/2" }));
        assert!(matches!(
            file_urls(&answer),
            Err(FileListError::CaseCollision { .. })
        ));
    }

    #[test]
    fn an_entry_that_is_not_a_string_is_refused() {
        let answer = files(json!({ "UTILITY_BILL": { "url": "https://f.example/u" } }));
        assert_eq!(
            file_urls(&answer),
            Err(FileListError::NotAUrl {
                kind: "UTILITY_BILL".into()
            })
        );
    }

    #[test]
    fn default_extensions_follow_the_documented_kind() {
        let extension = |name: &str| CheckedKind::new(name).unwrap().default_extension();
        assert_eq!(extension("FACE"), "png");
        assert_eq!(extension("FRONT"), "png");
        assert_eq!(extension("BACK_VIDEO"), "mp4");
        assert_eq!(extension("FACE_VIDEO"), "mp4");
        assert_eq!(extension("UTILITY_BILL"), "bin");
        assert_eq!(extension("FRONT_VIDEO_2"), "bin");
    }
}
