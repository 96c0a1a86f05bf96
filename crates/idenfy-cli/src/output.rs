//! The export's lines on their way out: buffered, written whole, and flushed at least every
//! [`FLUSH_INTERVAL`] by the run's timer, so that the output shows progress (`tail -f`) and a
//! crash loses little, without a system call for every line.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

/// A line is a few KiB: a larger buffer saves a system call every couple of lines. The buffer
/// only ever holds whole lines, so an interrupt still leaves whole lines in the output.
pub const OUTPUT_BUFFER_BYTES: usize = 256 * 1024;

/// The longest a written line waits in the buffer (the bulk run flushes on a timer this often).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// Whole lines to a writer, buffered.
#[derive(Debug)]
pub struct LineOutput<W: Write> {
    writer: BufWriter<W>,
    unflushed: bool,
}

impl<W: Write> LineOutput<W> {
    /// Lines to `writer`.
    pub fn new(writer: W) -> Self {
        LineOutput {
            writer: BufWriter::with_capacity(OUTPUT_BUFFER_BYTES, writer),
            unflushed: false,
        }
    }

    /// Adds one line (its line break included).
    ///
    /// # Errors
    /// The writer's.
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.unflushed = true;
        self.writer.write_all(line)
    }

    /// The writer the lines go to.
    pub fn get_ref(&self) -> &W {
        self.writer.get_ref()
    }

    /// Writes out what the buffer holds; nothing when it holds nothing.
    ///
    /// # Errors
    /// The writer's.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.unflushed {
            return Ok(());
        }
        self.unflushed = false;
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_in_the_buffer_until_flushed() {
        let mut output = LineOutput::new(Vec::new());
        output.write_line(b"one\n").unwrap();
        assert!(output.writer.get_ref().is_empty());
        output.flush().unwrap();
        assert_eq!(output.writer.get_ref(), b"one\n");
    }
}
