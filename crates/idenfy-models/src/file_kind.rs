//! What the docs' prose says of the file kinds, beyond the list the schema generates.

use crate::FileKind;

impl FileKind {
    /// Whether files of this kind are videos: `FRONT_VIDEO`, `BACK_VIDEO` and `FACE_VIDEO`, the
    /// docs' "video of a client taking the ... photo". The schema only names the kinds, so this
    /// is written here once for every crate that picks a file's format (the sandbox serves MP4
    /// for these, the command names their downloads `.mp4`). A kind the docs do not list
    /// ([`FileKind::Other`]) is not known to be a video.
    pub fn is_video(&self) -> bool {
        matches!(
            self,
            FileKind::FrontVideo | FileKind::BackVideo | FileKind::FaceVideo
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_video_kinds_are_videos_and_nothing_else_is() {
        let videos: Vec<&str> = FileKind::DOCUMENTED
            .iter()
            .filter(|kind| kind.is_video())
            .map(FileKind::as_str)
            .collect();
        assert_eq!(videos, ["FRONT_VIDEO", "BACK_VIDEO", "FACE_VIDEO"]);
        assert!(!FileKind::from("SELFIE_VIDEO").is_video());
    }
}
