//! The `/files` table, and the pictures and videos its URLs download: small fixed samples in
//! `assets/` (see `assets/README.md` for how each was made), embedded in the binary.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use idenfy_core::percent_encode;
use serde_json::{Map, Value};

/// The kinds of file of the `/files` response, as the models define them from the schema.
pub use idenfy_core::models::FileKind;

use crate::fixtures::{Fixture, Fixtures};

/// The document's front side: a card with a photo box and text lines (256 x 162, RGB).
const FRONT_PNG: &[u8] = include_bytes!("../assets/front.png");
/// The document's back side: a card with a machine-readable zone (256 x 162, RGB).
const BACK_PNG: &[u8] = include_bytes!("../assets/back.png");
/// A head-and-shoulders silhouette (160 x 200, RGB).
const FACE_PNG: &[u8] = include_bytes!("../assets/face.png");
/// One second of video (ten 160 x 120 PNG frames in an ISO base media file: `ftyp`, `moov`,
/// `mdat`), which every video kind serves, padded to the fixture's size.
const SAMPLE_MP4: &[u8] = include_bytes!("../assets/sample.mp4");

/// The `/files` response: every slot, `null` where the identification has no such file.
pub(crate) fn file_table(files: &[FileKind], url_for: impl Fn(&FileKind) -> String) -> Value {
    let mut table = Map::new();
    for kind in FileKind::DOCUMENTED {
        let url = files.contains(&kind).then(|| url_for(&kind));
        table.insert(kind.to_string(), url.map_or(Value::Null, Value::String));
    }
    Value::Object(table)
}

/// The file name extension and the `Content-Type` a kind is served with: MP4 for the video
/// kinds (as the models say which those are), PNG for the photos. Fixtures list documented
/// kinds only, so a kind the docs do not list is never served.
pub(crate) fn format(kind: &FileKind) -> (&'static str, &'static str) {
    if kind.is_video() {
        ("mp4", "video/mp4")
    } else {
        ("png", "image/png")
    }
}

/// The download path of one file, before signing, e.g. `/files/<scanRef>/FACE_VIDEO.mp4`: the
/// scanRef percent-encoded (idenfy-core's encoding), so any scanRef is one safe path segment.
pub(crate) fn download_path(scan_ref: &str, kind: &FileKind) -> String {
    let extension = format(kind).0;
    format!("/files/{}/{kind}.{extension}", percent_encode(scan_ref))
}

/// The fixture and the file a download path names, if the fixture has that file. The path is
/// matched against the paths of the fixtures' files, so no decoder is needed.
pub(crate) fn resolve<'a>(
    fixtures: &'a Fixtures,
    path: &str,
) -> Option<(&'a str, FileKind, &'a Fixture)> {
    let (segment, _) = path.strip_prefix("/files/")?.split_once('/')?;
    let scan_ref = fixtures
        .scan_refs()
        .find(|scan_ref| percent_encode(scan_ref) == segment)?;
    let fixture = fixtures.get(scan_ref)?;
    let kind = fixture
        .files
        .iter()
        .find(|kind| download_path(scan_ref, kind) == path)?;
    Some((scan_ref, kind.clone(), fixture))
}

/// Videos grown to each size fixtures ask for, built once per sandbox, not per download (there
/// are as many sizes as fixtures at most). Pictures are served from the binary as they are.
#[derive(Debug, Default)]
pub(crate) struct MediaCache {
    videos: Mutex<HashMap<u64, Bytes>>,
}

impl MediaCache {
    /// The bytes of `kind` for a fixture whose videos are `video_bytes` long.
    pub(crate) fn get(&self, kind: &FileKind, video_bytes: u64) -> Bytes {
        let picture = match kind {
            _ if kind.is_video() => None,
            FileKind::Face => Some(FACE_PNG),
            FileKind::Front => Some(FRONT_PNG),
            _ => Some(BACK_PNG),
        };
        if let Some(picture) = picture {
            return Bytes::from_static(picture);
        }
        let lock = || self.videos.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = lock().get(&video_bytes) {
            return hit.clone();
        }
        // Built without holding the lock: two racing builds give identical bytes anyway.
        let video = Bytes::from(video(video_bytes));
        lock().entry(video_bytes).or_insert(video).clone()
    }
}

/// The sample video, grown to `size` bytes by a `free` box at its end (ISO/IEC 14496-12 8.1.2:
/// readers skip it), so that a fixture can ask for a large download that is still a valid MP4.
/// A size below the sample's gives the sample; one less than a box header (8 bytes) above it
/// gives 8 bytes more, the smallest box there is. Fixtures cap `size` at 64 MiB, well inside a
/// box's 32-bit size.
fn video(size: u64) -> Vec<u8> {
    let sample = SAMPLE_MP4.len() as u64;
    if size <= sample {
        return SAMPLE_MP4.to_vec();
    }
    let free = (size - sample).max(8);
    let mut out = Vec::with_capacity(SAMPLE_MP4.len() + free as usize);
    out.extend_from_slice(SAMPLE_MP4);
    out.extend_from_slice(&u32::try_from(free).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b"free");
    out.resize(SAMPLE_MP4.len() + free as usize, 0);
    out
}
