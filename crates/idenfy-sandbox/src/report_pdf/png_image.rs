//! Pictures in the report: a PNG's image data carried into the PDF as is.
//!
//! A PDF image compressed with `/FlateDecode` and `/Predictor 15` is read
//! exactly like a PNG's concatenated IDAT chunks (a zlib stream of scanlines,
//! each with its PNG filter byte). Passing that data through, rather than
//! re-encoding raw RGB, needs no inflater (the sandbox only has a deflate
//! writer), accepts any compression an 8-bit RGB PNG uses, and puts in the
//! report the very bytes `/files` serves. Only the layouts this holds for are
//! accepted: 8-bit RGB, no palette, not interlaced.

/// Largest side accepted, so an image cannot make the report huge.
const MAX_SIDE: u32 = 4096;

/// An 8-bit RGB PNG's size and image data.
#[derive(Debug)]
pub(super) struct PngImage<'a> {
    pub width: u32,
    pub height: u32,
    /// The IDAT chunks' data in order; together, one zlib stream.
    pub data: Vec<&'a [u8]>,
}

/// Why a PNG cannot be carried into the report.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(super) enum PngRefusal {
    /// The bytes do not start with the PNG signature and a header chunk.
    #[error("not a PNG file")]
    NotPng,
    /// A chunk runs past the end, or the image ends before its IEND chunk.
    #[error("the PNG file is truncated")]
    Truncated,
    /// Not 8-bit RGB, or interlaced, or of an unknown compression or filter method.
    #[error("the PNG is not 8-bit RGB without interlacing")]
    UnsupportedLayout,
    /// Empty, or a side longer than the report accepts.
    #[error("the PNG's size is outside 1 to {MAX_SIDE} pixels a side")]
    BadSize,
    /// No IDAT chunk.
    #[error("the PNG has no image data")]
    NoImageData,
}

/// Reads the header and finds the image data of `png`.
pub(super) fn parse(png: &[u8]) -> Result<PngImage<'_>, PngRefusal> {
    let rest = png
        .strip_prefix(&crate::media::png::SIGNATURE)
        .ok_or(PngRefusal::NotPng)?;
    let mut chunks = Chunks { rest };
    let (kind, header) = chunks.next().ok_or(PngRefusal::NotPng)??;
    let header: &[u8; 13] = (kind == *b"IHDR")
        .then_some(header)
        .and_then(|h| h.try_into().ok())
        .ok_or(PngRefusal::NotPng)?;
    let width = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let height = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    // Bit depth 8, colour type 2 (RGB), compression 0, filter method 0, no interlace.
    if header[8..] != [8, 2, 0, 0, 0] {
        return Err(PngRefusal::UnsupportedLayout);
    }
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(PngRefusal::BadSize);
    }
    let mut data = Vec::new();
    loop {
        let (kind, body) = chunks.next().ok_or(PngRefusal::Truncated)??;
        match &kind {
            b"IDAT" => data.push(body),
            b"IEND" => break,
            _ => {}
        }
    }
    if data.iter().all(|part| part.is_empty()) {
        return Err(PngRefusal::NoImageData);
    }
    Ok(PngImage {
        width,
        height,
        data,
    })
}

/// Walks length-type-data-CRC chunks; the CRC is not checked, as a PDF
/// reader would not check it either.
struct Chunks<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<([u8; 4], &'a [u8]), PngRefusal>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = (|| {
            let (length, rest) = self.rest.split_first_chunk::<4>()?;
            let (kind, rest) = rest.split_first_chunk::<4>()?;
            let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
            let body = rest.get(..length)?;
            let after = rest.get(length.checked_add(4)?..)?;
            Some((*kind, body, after))
        })();
        Some(match parsed {
            Some((kind, body, after)) => {
                self.rest = after;
                Ok((kind, body))
            }
            None => {
                self.rest = &[];
                Err(PngRefusal::Truncated)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::png::RgbImage;

    #[test]
    fn the_sandbox_pngs_are_accepted_with_all_their_image_data() {
        let png = RgbImage::filled(300, 200, [1, 2, 3]).encode_png();
        let image = parse(&png).unwrap();
        assert_eq!((image.width, image.height), (300, 200));
        let data: Vec<u8> = image.data.concat();
        // One zlib stream: the stored deflate blocks hold every scanline.
        assert_eq!(&data[..2], &[0x78, 0x01]);
        assert!(data.len() > 200 * (300 * 3 + 1));
    }

    #[test]
    fn other_layouts_and_broken_files_are_refused() {
        let png = RgbImage::filled(4, 4, [1, 2, 3]).encode_png();
        assert_eq!(parse(b"GIF89a").unwrap_err(), PngRefusal::NotPng);
        assert_eq!(
            parse(&png[..png.len() - 12]).unwrap_err(),
            PngRefusal::Truncated
        );
        assert_eq!(parse(&png[..40]).unwrap_err(), PngRefusal::Truncated);
        // The header chunk starts at byte 8: length, "IHDR", then the fields.
        let with_header_byte = |at: usize, value: u8| {
            let mut copy = png.clone();
            copy[16 + at] = value;
            parse(&copy).map(|_| ()).unwrap_err()
        };
        assert_eq!(with_header_byte(8, 16), PngRefusal::UnsupportedLayout); // 16-bit
        assert_eq!(with_header_byte(9, 3), PngRefusal::UnsupportedLayout); // palette
        assert_eq!(with_header_byte(12, 1), PngRefusal::UnsupportedLayout); // interlaced
        assert_eq!(with_header_byte(0, 1), PngRefusal::BadSize); // 16M pixels wide
        assert_eq!(with_header_byte(3, 0), PngRefusal::BadSize); // zero wide
    }
}
