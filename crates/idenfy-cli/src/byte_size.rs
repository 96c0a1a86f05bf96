//! Sizes on the command line: a number of bytes, or with a suffix K, M or G (powers of 1024),
//! shown back the way it is written.

/// A number of bytes, read and shown with the suffixes K, M and G (powers of 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl std::fmt::Display for ByteSize {
    /// In the largest unit that shows it exactly: `4G`, `1536M`, `1000`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.0;
        for (shift, suffix) in [(30, 'G'), (20, 'M'), (10, 'K')] {
            if bytes != 0 && bytes.is_multiple_of(1 << shift) {
                return write!(f, "{}{suffix}", bytes >> shift);
            }
        }
        write!(f, "{bytes}")
    }
}

pub fn parse_byte_size(text: &str) -> Result<ByteSize, String> {
    parse_size(text).map(ByteSize)
}

fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.char_indices().last() {
        Some((at, suffix)) if suffix.is_ascii_alphabetic() => (&trimmed[..at], Some(suffix)),
        _ => (trimmed, None),
    };
    let multiplier: u64 = match unit.map(|unit| unit.to_ascii_uppercase()) {
        None => 1,
        Some('K') => 1 << 10,
        Some('M') => 1 << 20,
        Some('G') => 1 << 30,
        Some(_) => return Err(format!("`{text}`: the suffix must be K, M or G")),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a number of bytes (like 500M or 2G)"))?;
    match number.checked_mul(multiplier) {
        Some(0) => Err("the size must be at least one byte".to_owned()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("`{text}` is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("64K"), Ok(64 * 1024));
        assert_eq!(parse_size("3m"), Ok(3 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        for wrong in [
            "0",
            "0K",
            "",
            "G",
            "1.5G",
            "-1",
            "2T",
            "1KB",
            "99999999999G",
        ] {
            assert!(parse_size(wrong).is_err(), "{wrong:?} was accepted");
        }
    }

    #[test]
    fn a_size_is_shown_as_it_is_read() {
        for text in ["4G", "1536M", "64K", "1000", "1"] {
            assert_eq!(parse_byte_size(text).unwrap().to_string(), text);
        }
    }
}
