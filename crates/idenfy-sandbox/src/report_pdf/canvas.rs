//! A page's content stream: rectangles, lines, text and images, placed in
//! points from the page's top-left corner (PDF counts from the bottom).

use std::fmt::Write as _;

use super::text::Line;

/// An RGB colour, each part from 0 to 1.
pub(super) type Colour = [f32; 3];

/// The drawing operations of one page.
pub(super) struct Canvas {
    height: f32,
    ops: String,
    substituted: bool,
}

impl Canvas {
    pub fn new(height: f32) -> Self {
        Self {
            height,
            ops: String::new(),
            substituted: false,
        }
    }

    /// Fills the rectangle whose top-left corner is (`x`, `top`).
    pub fn fill_rect(&mut self, x: f32, top: f32, width: f32, height: f32, colour: Colour) {
        let [r, g, b] = colour;
        let y = self.height - top - height;
        let _ = writeln!(
            self.ops,
            "{r:.3} {g:.3} {b:.3} rg {x:.2} {y:.2} {width:.2} {height:.2} re f"
        );
    }

    /// Outlines the rectangle whose top-left corner is (`x`, `top`).
    pub fn stroke_rect(&mut self, x: f32, top: f32, width: f32, height: f32, colour: Colour) {
        let [r, g, b] = colour;
        let y = self.height - top - height;
        let _ = writeln!(
            self.ops,
            "{r:.3} {g:.3} {b:.3} RG 0.75 w {x:.2} {y:.2} {width:.2} {height:.2} re S"
        );
    }

    /// A horizontal rule from `x0` to `x1`.
    pub fn rule(&mut self, x0: f32, x1: f32, top: f32, colour: Colour) {
        let [r, g, b] = colour;
        let y = self.height - top;
        let _ = writeln!(
            self.ops,
            "{r:.3} {g:.3} {b:.3} RG 0.75 w {x0:.2} {y:.2} m {x1:.2} {y:.2} l S"
        );
    }

    /// Sets `line` with its baseline starting at (`x`, `baseline`).
    pub fn text(&mut self, x: f32, baseline: f32, line: &Line, colour: Colour) {
        let [r, g, b] = colour;
        let y = self.height - baseline;
        self.substituted |= line.substituted();
        let _ = writeln!(
            self.ops,
            "BT {r:.3} {g:.3} {b:.3} rg /{} {:.1} Tf {x:.2} {y:.2} Td {} Tj ET",
            line.font().resource_name(),
            line.size(),
            line.literal()
        );
    }

    /// Draws the image resource `name` into the rectangle at (`x`, `top`).
    pub fn image(&mut self, name: &str, x: f32, top: f32, width: f32, height: f32) {
        let y = self.height - top - height;
        let _ = writeln!(
            self.ops,
            "q {width:.2} 0 0 {height:.2} {x:.2} {y:.2} cm /{name} Do Q"
        );
    }

    /// Whether any text on the page shows a character as `?`.
    pub fn substituted(&self) -> bool {
        self.substituted
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.ops.into_bytes()
    }
}
