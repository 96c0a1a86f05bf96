//! The PDF file structure (PDF 1.4): numbered objects, the byte offset of
//! each, and the cross-reference table and trailer that point at them.

use std::fmt;

/// The number of an indirect object; displays as a reference, `N 0 R`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ObjectId(usize);

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} 0 R", self.0)
    }
}

/// Writes objects in any order and records where each starts.
pub(super) struct PdfWriter {
    out: Vec<u8>,
    /// The offset of object `n` at index `n - 1`, once written.
    offsets: Vec<Option<usize>>,
}

impl PdfWriter {
    pub fn new() -> Self {
        // The comment of four bytes above 127 tells transfer tools the file is binary.
        let mut out = b"%PDF-1.4\n%".to_vec();
        out.extend_from_slice(&[0xe2, 0xe3, 0xcf, 0xd3, b'\n']);
        Self {
            out,
            offsets: Vec::new(),
        }
    }

    /// A number for an object written later, so objects can refer to each other.
    pub fn reserve(&mut self) -> ObjectId {
        self.offsets.push(None);
        ObjectId(self.offsets.len())
    }

    /// Writes `id` as the dictionary or other value `body`.
    pub fn object(&mut self, id: ObjectId, body: &str) {
        self.begin(id);
        self.out.extend_from_slice(body.as_bytes());
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// Writes `id` as a stream of `parts`, with `dictionary` entries (without
    /// the `<< >>` and `/Length`, which this adds).
    pub fn stream(&mut self, id: ObjectId, dictionary: &str, parts: &[&[u8]]) {
        let length: usize = parts.iter().map(|part| part.len()).sum();
        self.begin(id);
        let head = format!("<< {dictionary} /Length {length} >>\nstream\n");
        self.out.extend_from_slice(head.as_bytes());
        for part in parts {
            self.out.extend_from_slice(part);
        }
        self.out.extend_from_slice(b"\nendstream\nendobj\n");
    }

    /// Appends the cross-reference table and trailer and returns the file.
    pub fn finish(mut self, root: ObjectId, info: ObjectId) -> Vec<u8> {
        let xref = self.out.len();
        let size = self.offsets.len() + 1;
        let mut table = format!("xref\n0 {size}\n0000000000 65535 f \n");
        for offset in &self.offsets {
            // Each entry is exactly 20 bytes, end of line included. Every
            // reserved object is written; a free entry is the safe answer
            // should one ever not be.
            match offset {
                Some(offset) => table.push_str(&format!("{offset:010} 00000 n \n")),
                None => table.push_str("0000000000 00001 f \n"),
            }
        }
        table.push_str(&format!(
            "trailer\n<< /Size {size} /Root {root} /Info {info} >>\nstartxref\n{xref}\n%%EOF\n"
        ));
        self.out.extend_from_slice(table.as_bytes());
        self.out
    }

    fn begin(&mut self, id: ObjectId) {
        self.offsets[id.0 - 1] = Some(self.out.len());
        self.out
            .extend_from_slice(format!("{} 0 obj\n", id.0).as_bytes());
    }
}

/// A PDF text string of any Unicode text: UTF-16BE with a byte-order mark,
/// written in hex so no character needs escaping; control characters become `?`.
pub(super) fn text_string(text: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .flat_map(|c| {
            let mut buffer = [0; 2];
            c.encode_utf16(&mut buffer).to_vec()
        })
    {
        out.push_str(&format!("{unit:04X}"));
    }
    out.push('>');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xref_entries_point_at_their_objects() {
        let mut writer = PdfWriter::new();
        let (a, b) = (writer.reserve(), writer.reserve());
        // Written out of order: the table still follows the numbers.
        writer.stream(b, "/Type /XObject", &[b"ab", b"c"]);
        writer.object(a, &format!("<< /Next {b} >>"));
        let file = writer.finish(a, b);
        let find = |needle: &str| {
            file.windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap_or_else(|| panic!("{needle:?}"))
        };
        find("2 0 obj\n<< /Type /XObject /Length 3 >>\nstream\nabc\nendstream");
        let xref = find("xref\n0 3\n");
        let text = std::str::from_utf8(&file[xref..]).unwrap();
        for (n, entry) in text[9..].lines().skip(1).take(2).enumerate() {
            assert_eq!(entry.len(), 19, "{entry:?}");
            let offset: usize = entry[..10].parse().unwrap();
            assert!(file[offset..].starts_with(format!("{} 0 obj\n", n + 1).as_bytes()));
        }
        assert!(text.ends_with(&format!("startxref\n{xref}\n%%EOF\n")));
        assert!(text.contains("/Root 1 0 R /Info 2 0 R"));
    }

    #[test]
    fn text_strings_are_utf16_hex_without_controls() {
        assert_eq!(text_string("a\u{1}Ж😀"), "<FEFF0061003F0416D83DDE00>");
    }
}
