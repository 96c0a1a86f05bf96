//! The pictures and videos the sandbox serves from `/files` download URLs: small fixed samples
//! in `assets/` (see `assets/README.md` for how each was made), embedded in the binary.

/// The kinds of file of the `/files` response, as the models define them from the schema.
pub use idenfy_core::models::FileKind;

/// The document's front side: a card with a photo box and text lines (256 x 162, RGB).
const FRONT_PNG: &[u8] = include_bytes!("../assets/front.png");
/// The document's back side: a card with a machine-readable zone (256 x 162, RGB).
const BACK_PNG: &[u8] = include_bytes!("../assets/back.png");
/// A head-and-shoulders silhouette (160 x 200, RGB).
const FACE_PNG: &[u8] = include_bytes!("../assets/face.png");
/// One second of video (ten 160 x 120 PNG frames in an ISO base media file: `ftyp`, `moov`,
/// `mdat`), which every video kind serves, padded to the fixture's size.
pub const SAMPLE_MP4: &[u8] = include_bytes!("../assets/sample.mp4");

/// The format the sandbox serves a kind of file in: MP4 for the video kinds (as the models say
/// which those are), PNG for the photos. Fixtures list documented kinds only, so a kind the docs
/// do not list is never served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A still picture.
    Png,
    /// A video.
    Mp4,
}

impl Format {
    /// The format `kind` is served in.
    pub fn of(kind: &FileKind) -> Format {
        if kind.is_video() {
            Format::Mp4
        } else {
            Format::Png
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Mp4 => "mp4",
        }
    }

    /// The `Content-Type` of the download.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Mp4 => "video/mp4",
        }
    }
}

/// File name in download URLs, e.g. `FRONT.png`, `FACE_VIDEO.mp4`.
pub fn file_name(kind: &FileKind) -> String {
    format!("{kind}.{}", Format::of(kind).extension())
}

/// The documented kind a download file name names.
pub fn kind_of_file_name(name: &str) -> Option<FileKind> {
    FileKind::DOCUMENTED
        .into_iter()
        .find(|kind| file_name(kind) == name)
}

/// The picture of a kind that is not a video: the face, or a side of the document.
pub fn picture(kind: &FileKind) -> &'static [u8] {
    match kind {
        FileKind::Face => FACE_PNG,
        FileKind::Front => FRONT_PNG,
        _ => BACK_PNG,
    }
}

/// The sample video, grown to `size` bytes by a `free` box at its end (ISO/IEC 14496-12 8.1.2:
/// readers skip it), so that a fixture can ask for a large download that is still a valid MP4.
/// A size below the sample's gives the sample; one less than a box header (8 bytes) above it
/// gives 8 bytes more, the smallest box there is. Fixtures cap `size` at 64 MiB, well inside a
/// box's 32-bit size.
pub fn video(size: u64) -> Vec<u8> {
    let sample = SAMPLE_MP4.len() as u64;
    if size <= sample {
        return SAMPLE_MP4.to_vec();
    }
    let free = (size - sample).max(8);
    let free_len = usize::try_from(free).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(SAMPLE_MP4.len().saturating_add(free_len));
    out.extend_from_slice(SAMPLE_MP4);
    out.extend_from_slice(&u32::try_from(free).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b"free");
    out.resize(SAMPLE_MP4.len() + free_len, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The top-level boxes of an MP4, checking that their sizes tile it exactly.
    fn boxes(mp4: &[u8]) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < mp4.len() {
            let size = u32::from_be_bytes(mp4[at..at + 4].try_into().unwrap()) as usize;
            assert!(size >= 8 && at + size <= mp4.len(), "box at {at}: {size}");
            out.push((
                String::from_utf8_lossy(&mp4[at + 4..at + 8]).into_owned(),
                size,
            ));
            at += size;
        }
        out
    }

    #[test]
    fn the_sample_is_an_mp4_whose_frames_are_pngs() {
        let kinds: Vec<String> = boxes(SAMPLE_MP4)
            .into_iter()
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(kinds, ["ftyp", "moov", "mdat"]);
        assert_eq!(SAMPLE_MP4.len(), 3561, "the size the README gives");
        let png = b"\x89PNG\r\n\x1a\n";
        let frames = SAMPLE_MP4.windows(png.len()).filter(|w| w == png).count();
        assert_eq!(frames, 10);
        assert!(
            SAMPLE_MP4.windows(4).any(|w| w == b"png "),
            "the PNG sample entry"
        );
    }

    #[test]
    fn a_video_has_the_size_asked_for_and_stays_a_valid_mp4() {
        let sample = SAMPLE_MP4.len() as u64;
        for (asked, served) in [
            (0, sample),
            (sample, sample),
            (sample + 1, sample + 8),
            (sample + 8, sample + 8),
            (64 * 1024, 64 * 1024),
            (8 * 1024 * 1024, 8 * 1024 * 1024),
        ] {
            let mp4 = video(asked);
            assert_eq!(mp4.len() as u64, served, "asked for {asked}");
            assert!(mp4.starts_with(SAMPLE_MP4));
            let kinds: Vec<String> = boxes(&mp4).into_iter().map(|(kind, _)| kind).collect();
            let padded = served > sample;
            assert_eq!(kinds.len(), 3 + usize::from(padded), "asked for {asked}");
            assert_eq!(kinds.last().unwrap(), if padded { "free" } else { "mdat" });
        }
    }

    #[test]
    fn pictures_are_pngs_and_videos_are_the_video_kinds() {
        for kind in FileKind::DOCUMENTED {
            let format = Format::of(&kind);
            assert_eq!(format == Format::Mp4, kind.is_video(), "{kind}");
            assert_eq!(kind_of_file_name(&file_name(&kind)), Some(kind.clone()));
            if format == Format::Png {
                assert!(picture(&kind).starts_with(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"));
            }
        }
        assert_eq!(kind_of_file_name("FACE.gif"), None);
    }
}
