//! The `/files` table and the downloads its URLs point at.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::media::{self, FileKind};

/// The `/files` response: every slot, `null` where the identification has no such file.
pub fn file_table(files: &[FileKind], url_for: impl Fn(&FileKind) -> String) -> Value {
    let mut table = Map::new();
    for kind in FileKind::DOCUMENTED {
        let value = if files.contains(&kind) {
            Value::String(url_for(&kind))
        } else {
            Value::Null
        };
        table.insert(kind.to_string(), value);
    }
    Value::Object(table)
}

/// The download path of one file, before signing.
pub fn download_path(scan_ref: &str, kind: &FileKind) -> String {
    format!(
        "/files/{}/{}",
        encode_segment(scan_ref),
        media::file_name(kind)
    )
}

/// Splits a download path into the scanRef and the file.
pub fn parse_download_path(path: &str) -> Option<(String, FileKind)> {
    let rest = path.strip_prefix("/files/")?;
    let (segment, name) = rest.split_once('/')?;
    Some((decode_segment(segment)?, media::kind_of_file_name(name)?))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so any
/// scanRef is one safe path segment.
pub fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Reverses [`encode_segment`]; `None` for malformed escapes or non-UTF-8.
pub fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Rendered files, kept so a file is generated once per sandbox, not per download.
#[derive(Debug, Default)]
pub struct MediaCache {
    rendered: Mutex<HashMap<(String, FileKind), Bytes>>,
}

impl MediaCache {
    /// The bytes of `kind` for `scan_ref`, rendering them on first use.
    pub fn get(&self, scan_ref: &str, kind: &FileKind, video_bytes: u64) -> Bytes {
        let key = (scan_ref.to_owned(), kind.clone());
        if let Some(hit) = self.lock().get(&key) {
            return hit.clone();
        }
        // Render without holding the lock: a large video takes a while, and
        // two racing renders produce identical bytes anyway.
        let bytes = Bytes::from(media::render(kind, scan_ref, video_bytes));
        self.lock().entry(key).or_insert(bytes).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, FileKind), Bytes>> {
        self.rendered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_and_reject_bad_escapes() {
        for text in ["plain-ref_1.x~", "with space/and?query#", "ąčę"] {
            let encoded = encode_segment(text);
            assert!(!encoded.contains(['/', '?', '#', ' ']));
            assert_eq!(decode_segment(&encoded).as_deref(), Some(text));
        }
        assert_eq!(decode_segment("%G0"), None);
        assert_eq!(decode_segment("%4"), None);
        assert_eq!(decode_segment("%FF"), None);
    }

    #[test]
    fn download_paths_parse_back() {
        let path = download_path("a b", &FileKind::FaceVideo);
        assert_eq!(path, "/files/a%20b/FACE_VIDEO.mp4");
        assert_eq!(
            parse_download_path(&path),
            Some(("a b".to_owned(), FileKind::FaceVideo))
        );
        assert_eq!(parse_download_path("/files/x/FACE.gif"), None);
        assert_eq!(parse_download_path("/files/x"), None);
    }

    #[test]
    fn table_has_every_slot() {
        let table = file_table(&[FileKind::Front], |k| k.as_str().to_lowercase());
        assert_eq!(table["FRONT"], "front");
        assert_eq!(table.as_object().unwrap().len(), FileKind::DOCUMENTED.len());
        for kind in &FileKind::DOCUMENTED[1..] {
            assert!(table[kind.as_str()].is_null(), "{kind}");
        }
    }
}
