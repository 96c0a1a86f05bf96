//! The `/files` table and the downloads its URLs point at.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use idenfy_core::percent_encode;
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

/// The download path of one file, before signing: the scanRef percent-encoded (idenfy-core's
/// encoding), so any scanRef is one safe path segment.
pub fn download_path(scan_ref: &str, kind: &FileKind) -> String {
    format!(
        "/files/{}/{}",
        percent_encode(scan_ref),
        media::file_name(kind)
    )
}

/// Splits a download path into the scanRef's segment (still encoded) and the file. The segment
/// is matched against the fixtures' encoded scanRefs ([`scan_ref_of_segment`]), so no decoder is
/// needed.
pub fn parse_download_path(path: &str) -> Option<(&str, FileKind)> {
    let rest = path.strip_prefix("/files/")?;
    let (segment, name) = rest.split_once('/')?;
    Some((segment, media::kind_of_file_name(name)?))
}

/// The scanRef among `scan_refs` whose encoded form is `segment`.
pub fn scan_ref_of_segment<'a>(
    mut scan_refs: impl Iterator<Item = &'a str>,
    segment: &str,
) -> Option<&'a str> {
    scan_refs.find(|scan_ref| percent_encode(scan_ref) == segment)
}

/// Videos grown to each size fixtures ask for, built once per sandbox, not per download (there
/// are as many sizes as fixtures at most). Pictures are served from the binary as they are.
#[derive(Debug, Default)]
pub struct MediaCache {
    videos: Mutex<HashMap<u64, Bytes>>,
}

impl MediaCache {
    /// The bytes of `kind` for a fixture whose videos are `video_bytes` long.
    pub fn get(&self, kind: &FileKind, video_bytes: u64) -> Bytes {
        if !kind.is_video() {
            return Bytes::from_static(media::picture(kind));
        }
        if let Some(hit) = self.lock().get(&video_bytes) {
            return hit.clone();
        }
        // Built without holding the lock: two racing builds give identical bytes anyway.
        let video = Bytes::from(media::video(video_bytes));
        self.lock().entry(video_bytes).or_insert(video).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Bytes>> {
        self.videos
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_paths_name_the_scan_ref_and_the_file() {
        let path = download_path("a b/ą", &FileKind::FaceVideo);
        assert_eq!(path, "/files/a%20b%2F%C4%85/FACE_VIDEO.mp4");
        let (segment, kind) = parse_download_path(&path).unwrap();
        assert_eq!(kind, FileKind::FaceVideo);
        let known = ["a b", "a b/ą", "other"];
        assert_eq!(
            scan_ref_of_segment(known.into_iter(), segment),
            Some("a b/ą")
        );
        assert_eq!(scan_ref_of_segment(known.into_iter(), "a b"), None);
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

    #[test]
    fn videos_are_built_once_per_size() {
        let cache = MediaCache::default();
        let first = cache.get(&FileKind::FaceVideo, 100_000);
        let again = cache.get(&FileKind::FrontVideo, 100_000);
        assert_eq!(first.len(), 100_000);
        assert_eq!(first.as_ptr(), again.as_ptr(), "the same bytes, not a copy");
        assert_eq!(
            cache.get(&FileKind::Face, 100_000).len(),
            media::picture(&FileKind::Face).len()
        );
    }
}
