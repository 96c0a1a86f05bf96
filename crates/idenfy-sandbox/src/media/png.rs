//! A small PNG encoder: 8-bit RGB, no filtering, zlib stream made of stored
//! (uncompressed) deflate blocks.
//!
//! Stored blocks keep the encoder a few dozen lines long and obviously
//! correct; the images are small, so compression would buy nothing here.

use super::checksum::{adler32, crc32};

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// The largest payload one stored deflate block can carry.
const MAX_STORED_BLOCK: usize = 65_535;

/// An RGB image in row-major order, three bytes per pixel.
#[derive(Debug, Clone)]
pub struct RgbImage {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl RgbImage {
    /// A `width` x `height` image filled with one colour.
    pub fn filled(width: u32, height: u32, colour: [u8; 3]) -> Self {
        let count = width as usize * height as usize;
        let mut pixels = Vec::with_capacity(count * 3);
        for _ in 0..count {
            pixels.extend_from_slice(&colour);
        }
        Self {
            width,
            height,
            pixels,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Sets one pixel; coordinates outside the image are ignored, so drawing
    /// code can clip shapes without checks of its own.
    pub fn set(&mut self, x: i64, y: i64, colour: [u8; 3]) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let offset = (y as usize * self.width as usize + x as usize) * 3;
        self.pixels[offset..offset + 3].copy_from_slice(&colour);
    }

    /// Fills the rectangle `[x0, x1) x [y0, y1)`.
    pub fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: [u8; 3]) {
        for y in y0..y1 {
            for x in x0..x1 {
                self.set(x, y, colour);
            }
        }
    }

    /// Fills the ellipse centred on `(cx, cy)` with radii `rx`, `ry`.
    pub fn fill_ellipse(&mut self, cx: i64, cy: i64, rx: i64, ry: i64, colour: [u8; 3]) {
        let (rx2, ry2) = ((rx * rx).max(1), (ry * ry).max(1));
        for y in cy - ry..=cy + ry {
            for x in cx - rx..=cx + rx {
                let (dx, dy) = (x - cx, y - cy);
                if dx * dx * ry2 + dy * dy * rx2 <= rx2 * ry2 {
                    self.set(x, y, colour);
                }
            }
        }
    }

    /// Encodes the image as a complete PNG file.
    pub fn encode_png(&self) -> Vec<u8> {
        let row_len = self.width as usize * 3;
        // Each scanline is prefixed with its filter type; 0 means "none".
        let mut raw = Vec::with_capacity((row_len + 1) * self.height as usize);
        for row in self.pixels.chunks_exact(row_len.max(1)) {
            raw.push(0);
            raw.extend_from_slice(row);
        }

        let mut header = Vec::with_capacity(13);
        header.extend_from_slice(&self.width.to_be_bytes());
        header.extend_from_slice(&self.height.to_be_bytes());
        // Bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
        header.extend_from_slice(&[8, 2, 0, 0, 0]);

        let mut png = Vec::with_capacity(raw.len() + raw.len() / MAX_STORED_BLOCK * 5 + 64);
        png.extend_from_slice(&SIGNATURE);
        write_chunk(&mut png, b"IHDR", &header);
        write_chunk(&mut png, b"IDAT", &zlib_stored(&raw));
        write_chunk(&mut png, b"IEND", &[]);
        png
    }
}

/// Appends one chunk: length, type, data, CRC over type and data.
fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Wraps `data` in a zlib stream of stored deflate blocks (RFC 1950, RFC 1951 3.2.4).
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let blocks = data.len().div_ceil(MAX_STORED_BLOCK).max(1);
    let mut out = Vec::with_capacity(data.len() + blocks * 5 + 6);
    // CMF: deflate with a 32 KiB window; FLG chosen so that CMF*256+FLG is a multiple of 31.
    out.extend_from_slice(&[0x78, 0x01]);
    let mut chunks = data.chunks(MAX_STORED_BLOCK).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let is_last = chunks.peek().is_none();
        out.push(u8::from(is_last));
        // The chunk length fits in u16 because chunks are at most MAX_STORED_BLOCK long.
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the stored blocks back, checking every header, length and checksum.
    fn inflate_stored(zlib: &[u8]) -> Vec<u8> {
        assert_eq!(&zlib[..2], &[0x78, 0x01]);
        assert_eq!((u16::from(zlib[0]) * 256 + u16::from(zlib[1])) % 31, 0);
        let mut pos = 2;
        let mut out = Vec::new();
        loop {
            let header = zlib[pos];
            assert_eq!(header & 0b110, 0, "block type must be stored");
            let len = u16::from_le_bytes([zlib[pos + 1], zlib[pos + 2]]);
            let nlen = u16::from_le_bytes([zlib[pos + 3], zlib[pos + 4]]);
            assert_eq!(len, !nlen, "LEN and NLEN must be complements");
            pos += 5;
            out.extend_from_slice(&zlib[pos..pos + len as usize]);
            pos += len as usize;
            if header & 1 == 1 {
                break;
            }
        }
        let adler = u32::from_be_bytes(zlib[pos..pos + 4].try_into().unwrap());
        assert_eq!(adler, adler32(&out));
        assert_eq!(pos + 4, zlib.len(), "nothing may follow the checksum");
        out
    }

    #[test]
    fn zlib_round_trips_across_block_boundaries() {
        for len in [0, 1, 65_535, 65_536, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            assert_eq!(inflate_stored(&zlib_stored(&data)), data, "length {len}");
        }
    }

    #[test]
    fn png_chunks_have_valid_lengths_and_crcs() {
        let mut image = RgbImage::filled(300, 250, [10, 20, 30]);
        image.fill_ellipse(150, 125, 60, 80, [200, 150, 120]);
        let png = image.encode_png();
        assert_eq!(&png[..8], &SIGNATURE);
        let mut pos = 8;
        let mut kinds = Vec::new();
        let mut idat = Vec::new();
        while pos < png.len() {
            let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            let kind = &png[pos + 4..pos + 8];
            let data = &png[pos + 8..pos + 8 + len];
            let crc = u32::from_be_bytes(png[pos + 8 + len..pos + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32(&png[pos + 4..pos + 8 + len]), "CRC of {kind:?}");
            if kind == b"IDAT" {
                idat.extend_from_slice(data);
            }
            kinds.push(kind.to_vec());
            pos += 12 + len;
        }
        assert_eq!(
            kinds,
            vec![b"IHDR".to_vec(), b"IDAT".to_vec(), b"IEND".to_vec()]
        );
        let raw = inflate_stored(&idat);
        assert_eq!(raw.len(), 250 * (300 * 3 + 1));
        // The centre pixel is inside the ellipse.
        let centre = 125 * (300 * 3 + 1) + 1 + 150 * 3;
        assert_eq!(&raw[centre..centre + 3], &[200, 150, 120]);
    }
}
