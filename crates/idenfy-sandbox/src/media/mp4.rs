//! A minimal ISO base media file (MP4): `ftyp`, `moov` with one video
//! track, and `mdat` holding the frames.
//!
//! Each frame is a PNG image (sample entry `png `, which ISO BMFF readers
//! such as ffmpeg decode), so the video is real and playable without
//! writing a video codec. All samples sit in one chunk and every sample is a
//! sync sample, which keeps the sample tables to one entry each.
//!
//! Why the sandbox writes its videos itself rather than serving something simpler: a file that
//! players and format checkers accept needs `moov` with its sample tables whatever fills `mdat`,
//! so this muxer is the floor for a valid MP4 made from the sandbox's own bytes (the other way
//! is a committed binary sample, which no one can review). Padding one short video with a
//! `free` box to the requested size would save only the loop that renders more frames, and would
//! make a large video mostly filler; the PNG encoder the frames use stays anyway, for the
//! pictures and the PDF report. So the size is met with real frames, and the tests below check
//! both the structure (boxes tile the file, the sample tables point at PNG frames inside `mdat`)
//! and the size.

use super::png::RgbImage;

/// Media timescale: ticks per second.
const TIMESCALE: u32 = 1000;
/// Duration of one frame in ticks (10 frames per second).
const FRAME_TICKS: u32 = 100;
/// Frame size in pixels.
const WIDTH: u16 = 160;
const HEIGHT: u16 = 120;
/// Upper bound on frames, so a fixture asking for a huge video cannot make
/// the sandbox build an unbounded file.
pub const MAX_FRAMES: usize = 20_000;

/// Builds an MP4 of about `target_bytes` (at least one frame), whose frames
/// show a square moving across a background tinted by `tint`.
pub fn video(target_bytes: u64, tint: [u8; 3]) -> Vec<u8> {
    let first = frame(0, tint);
    let per_frame = first.len() as u64;
    let wanted = usize::try_from(target_bytes / per_frame.max(1)).unwrap_or(MAX_FRAMES);
    let count = wanted.clamp(1, MAX_FRAMES);
    let mut frames = Vec::with_capacity(count);
    frames.push(first);
    for index in 1..count {
        frames.push(frame(index, tint));
    }
    mux(&frames)
}

fn frame(index: usize, tint: [u8; 3]) -> Vec<u8> {
    let mut image = RgbImage::filled(u32::from(WIDTH), u32::from(HEIGHT), tint);
    let travel = i64::from(WIDTH) - 40;
    let x = (index as i64 * 7) % travel.max(1);
    image.fill_rect(x, 40, x + 40, 80, [250, 250, 250]);
    image.encode_png()
}

/// Writes the container around already-encoded frames.
fn mux(frames: &[Vec<u8>]) -> Vec<u8> {
    let sample_count = u32::try_from(frames.len()).unwrap_or(u32::MAX);
    let duration = sample_count.saturating_mul(FRAME_TICKS);

    let ftyp = boxed(
        b"ftyp",
        &[
            b"isom".as_slice(),
            &512u32.to_be_bytes(),
            b"isom",
            b"iso2",
            b"mp41",
        ]
        .concat(),
    );

    // The chunk offset depends on the size of `moov`, which contains it; the
    // offset field has a fixed width, so build `moov` once with a
    // placeholder, then again with the real value.
    let moov_size = moov(frames, duration, 0).len();
    let mdat_payload_offset = (ftyp.len() + moov_size + 8) as u64;
    let chunk_offset = u32::try_from(mdat_payload_offset).unwrap_or(u32::MAX);
    let moov = moov(frames, duration, chunk_offset);

    let payload_len: usize = frames.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(ftyp.len() + moov.len() + 8 + payload_len);
    out.extend_from_slice(&ftyp);
    out.extend_from_slice(&moov);
    let mdat_size = u32::try_from(payload_len + 8).unwrap_or(u32::MAX);
    out.extend_from_slice(&mdat_size.to_be_bytes());
    out.extend_from_slice(b"mdat");
    for frame in frames {
        out.extend_from_slice(frame);
    }
    out
}

fn moov(frames: &[Vec<u8>], duration: u32, chunk_offset: u32) -> Vec<u8> {
    let identity_matrix: Vec<u8> = [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();

    let mut mvhd = full_header(0, 0);
    for value in [0u32, 0, TIMESCALE, duration] {
        mvhd.extend_from_slice(&value.to_be_bytes());
    }
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    mvhd.extend_from_slice(&[0; 10]);
    mvhd.extend_from_slice(&identity_matrix);
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes()); // next track id

    // Flags 3: track enabled and used in the presentation.
    let mut tkhd = full_header(0, 3);
    for value in [0u32, 0, 1, 0, duration] {
        tkhd.extend_from_slice(&value.to_be_bytes());
    }
    tkhd.extend_from_slice(&[0; 8]);
    tkhd.extend_from_slice(&[0; 8]); // layer, alternate group, volume 0 for video, reserved
    tkhd.extend_from_slice(&identity_matrix);
    tkhd.extend_from_slice(&(u32::from(WIDTH) << 16).to_be_bytes());
    tkhd.extend_from_slice(&(u32::from(HEIGHT) << 16).to_be_bytes());

    let mut mdhd = full_header(0, 0);
    for value in [0u32, 0, TIMESCALE, duration] {
        mdhd.extend_from_slice(&value.to_be_bytes());
    }
    mdhd.extend_from_slice(&0x55c4u16.to_be_bytes()); // language "und"
    mdhd.extend_from_slice(&[0; 2]);

    let mut hdlr = full_header(0, 0);
    hdlr.extend_from_slice(&[0; 4]);
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"VideoHandler\0");

    let mut vmhd = full_header(0, 1);
    vmhd.extend_from_slice(&[0; 8]);

    // One data reference: flag 1 means "media data is in this file".
    let mut dref = full_header(0, 0);
    dref.extend_from_slice(&1u32.to_be_bytes());
    dref.extend_from_slice(&boxed(b"url ", &full_header(0, 1)));
    let dinf = boxed(b"dinf", &boxed(b"dref", &dref));

    let mut sample_entry = vec![0; 6];
    sample_entry.extend_from_slice(&1u16.to_be_bytes()); // data reference index
    sample_entry.extend_from_slice(&[0; 16]);
    sample_entry.extend_from_slice(&WIDTH.to_be_bytes());
    sample_entry.extend_from_slice(&HEIGHT.to_be_bytes());
    sample_entry.extend_from_slice(&0x0048_0000u32.to_be_bytes()); // 72 dpi
    sample_entry.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    sample_entry.extend_from_slice(&[0; 4]);
    sample_entry.extend_from_slice(&1u16.to_be_bytes()); // frames per sample
    let mut compressor = [0u8; 32];
    let name = b"PNG";
    compressor[0] = name.len() as u8;
    compressor[1..=name.len()].copy_from_slice(name);
    sample_entry.extend_from_slice(&compressor);
    sample_entry.extend_from_slice(&0x0018u16.to_be_bytes()); // 24-bit colour
    sample_entry.extend_from_slice(&(-1i16).to_be_bytes());
    let mut stsd = full_header(0, 0);
    stsd.extend_from_slice(&1u32.to_be_bytes());
    stsd.extend_from_slice(&boxed(b"png ", &sample_entry));

    let sample_count = u32::try_from(frames.len()).unwrap_or(u32::MAX);
    let mut stts = full_header(0, 0);
    for value in [1, sample_count, FRAME_TICKS] {
        stts.extend_from_slice(&value.to_be_bytes());
    }
    let mut stsc = full_header(0, 0);
    for value in [1, 1, sample_count, 1] {
        stsc.extend_from_slice(&value.to_be_bytes());
    }
    let mut stsz = full_header(0, 0);
    stsz.extend_from_slice(&0u32.to_be_bytes());
    stsz.extend_from_slice(&sample_count.to_be_bytes());
    for frame in frames {
        let size = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        stsz.extend_from_slice(&size.to_be_bytes());
    }
    let mut stco = full_header(0, 0);
    stco.extend_from_slice(&1u32.to_be_bytes());
    stco.extend_from_slice(&chunk_offset.to_be_bytes());

    let stbl = boxed(
        b"stbl",
        &[
            boxed(b"stsd", &stsd),
            boxed(b"stts", &stts),
            boxed(b"stsc", &stsc),
            boxed(b"stsz", &stsz),
            boxed(b"stco", &stco),
        ]
        .concat(),
    );
    let minf = boxed(b"minf", &[boxed(b"vmhd", &vmhd), dinf, stbl].concat());
    let mdia = boxed(
        b"mdia",
        &[boxed(b"mdhd", &mdhd), boxed(b"hdlr", &hdlr), minf].concat(),
    );
    let trak = boxed(b"trak", &[boxed(b"tkhd", &tkhd), mdia].concat());
    boxed(b"moov", &[boxed(b"mvhd", &mvhd), trak].concat())
}

/// Version and flags of a "full box".
fn full_header(version: u8, flags: u32) -> Vec<u8> {
    let flags = flags.to_be_bytes();
    vec![version, flags[1], flags[2], flags[3]]
}

fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let size = u32::try_from(payload.len() + 8).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::super::png::SIGNATURE;
    use super::*;

    /// Splits a run of boxes, checking that their sizes tile it exactly.
    fn boxes(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            let size = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
            assert!(
                size >= 8 && pos + size <= data.len(),
                "box at {pos} overruns"
            );
            let kind: [u8; 4] = data[pos + 4..pos + 8].try_into().unwrap();
            out.push((kind, &data[pos + 8..pos + size]));
            pos += size;
        }
        assert_eq!(pos, data.len());
        out
    }

    fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> &'a [u8] {
        boxes(data)
            .into_iter()
            .find(|(k, _)| k == kind)
            .map(|(_, payload)| payload)
            .unwrap_or_else(|| panic!("no {} box", String::from_utf8_lossy(kind)))
    }

    fn be32(data: &[u8], at: usize) -> usize {
        u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize
    }

    #[test]
    fn sample_tables_point_at_png_frames_inside_mdat() {
        let file = video(300_000, [30, 60, 90]);
        let top = boxes(&file);
        let kinds: Vec<_> = top.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, vec![*b"ftyp", *b"moov", *b"mdat"]);

        let moov = child(&file, b"moov");
        let stbl = child(
            child(child(child(moov, b"trak"), b"mdia"), b"minf"),
            b"stbl",
        );
        let stsz = child(stbl, b"stsz");
        let count = be32(stsz, 8);
        assert!(count >= 2, "300 kB asks for several frames, got {count}");
        let sizes: Vec<usize> = (0..count).map(|i| be32(stsz, 12 + 4 * i)).collect();
        let offset = be32(child(stbl, b"stco"), 8);

        let mdat_payload_len = top[2].1.len();
        assert_eq!(sizes.iter().sum::<usize>(), mdat_payload_len);
        assert_eq!(
            offset + mdat_payload_len,
            file.len(),
            "mdat payload ends the file"
        );
        let mut at = offset;
        for size in sizes {
            assert_eq!(&file[at..at + 8], &SIGNATURE, "each sample is a PNG");
            at += size;
        }
        let stts = child(stbl, b"stts");
        assert_eq!(be32(stts, 8), count);
        let mvhd = child(moov, b"mvhd");
        assert_eq!(be32(mvhd, 16), count * FRAME_TICKS as usize, "duration");
    }

    #[test]
    fn target_size_is_roughly_met_and_bounded() {
        let small = video(0, [0, 0, 0]);
        let large = video(2_000_000, [0, 0, 0]);
        assert!(small.len() < 100_000);
        assert!(
            large.len() > 1_900_000 && large.len() < 2_100_000,
            "{}",
            large.len()
        );
    }
}
