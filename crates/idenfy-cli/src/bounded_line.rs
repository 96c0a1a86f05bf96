//! Reading one line with a bound on its length, so that no input, however long its lines or
//! however endless, can take more memory than the bound.

use std::io::{self, BufRead};

/// What [`read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line, its line break included, is in the buffer.
    Complete,
    /// The input ended in the middle of a line: the buffer holds what there was.
    Cut,
    /// The input ended; the buffer is empty.
    End,
    /// The line is longer than the bound; the buffer holds part of it and the reader has
    /// consumed that part only.
    TooLong,
}

/// Reads the next line of `reader` into `buffer` (cleared first), at most `limit` bytes of it,
/// line break included.
///
/// # Errors
/// The reader's own errors, `Interrupted` excepted (it is retried).
pub fn read_line(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    limit: usize,
) -> io::Result<LineRead> {
    buffer.clear();
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(if buffer.is_empty() {
                LineRead::End
            } else {
                LineRead::Cut
            });
        }
        let (taken, complete) = match available.iter().position(|&byte| byte == b'\n') {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        if buffer.len() + taken > limit {
            return Ok(LineRead::TooLong);
        }
        buffer.extend_from_slice(&available[..taken]);
        reader.consume(taken);
        if complete {
            return Ok(LineRead::Complete);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_whole_cut_and_too_long_lines() {
        let mut reader = &b"ab\ncd\nef"[..];
        let mut buffer = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut buffer, 3).unwrap(),
            LineRead::Complete
        );
        assert_eq!(buffer, b"ab\n");
        assert_eq!(
            read_line(&mut reader, &mut buffer, 3).unwrap(),
            LineRead::Complete
        );
        assert_eq!(
            read_line(&mut reader, &mut buffer, 3).unwrap(),
            LineRead::Cut
        );
        assert_eq!(buffer, b"ef");
        assert_eq!(
            read_line(&mut reader, &mut buffer, 3).unwrap(),
            LineRead::End
        );
        assert!(buffer.is_empty());
        let mut endless = io::BufReader::with_capacity(7, io::repeat(b'x'));
        assert_eq!(
            read_line(&mut endless, &mut buffer, 100).unwrap(),
            LineRead::TooLong
        );
        assert!(buffer.len() <= 100);
    }
}
