//! Page geometry, a top-to-bottom cursor that starts new pages as needed, and line wrapping.

use pdf_writer::{Content, Name, Str};
use unicode_normalization::UnicodeNormalization;

use crate::PdfError;
use crate::font::{Font, TextStyle, Weight};

/// A4 portrait in PDF points (1/72 inch).
pub(crate) const PAGE_WIDTH: f32 = 595.28;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
/// 20 mm.
pub(crate) const MARGIN: f32 = 56.69;
pub(crate) const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TOP: f32 = PAGE_HEIGHT - MARGIN;
/// Slack when comparing measured widths, so summing word widths in a different order than the
/// caller did cannot push a line that exactly fits onto two lines.
const WIDTH_TOLERANCE: f32 = 0.01;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;
const FOOTER_SIZE: f32 = 9.0;

/// A horizontal stretch of the page: left edge and width.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub x: f32,
    pub width: f32,
}

impl Span {
    /// The full width between the margins.
    pub(crate) const CONTENT: Span = Span {
        x: MARGIN,
        width: CONTENT_WIDTH,
    };

    pub(crate) fn center(self) -> f32 {
        self.x + self.width / 2.0
    }
}

/// How a line sits in its span.
#[derive(Clone, Copy)]
pub(crate) enum Align {
    Left,
    Center,
}

/// The two faces, addressable by [`Weight`].
pub(crate) struct Fonts {
    pub regular: Font,
    pub bold: Font,
}

impl Fonts {
    pub(crate) fn get(&self, weight: Weight) -> &Font {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    fn get_mut(&mut self, weight: Weight) -> &mut Font {
        match weight {
            Weight::Regular => &mut self.regular,
            Weight::Bold => &mut self.bold,
        }
    }
}

/// Drawing surface: finished pages, the page being drawn, and the cursor `y` (top of the free
/// space on the current page, in PDF coordinates where y grows upwards).
pub(crate) struct Canvas {
    pub fonts: Fonts,
    pages: Vec<Content>,
    current: Content,
    y: f32,
}

impl Canvas {
    pub(crate) fn new() -> Result<Self, PdfError> {
        Ok(Self {
            fonts: Fonts {
                regular: Font::load(Weight::Regular)?,
                bold: Font::load(Weight::Bold)?,
            },
            pages: Vec::new(),
            current: Content::new(),
            y: TOP,
        })
    }

    pub(crate) fn y(&self) -> f32 {
        self.y
    }

    /// Free height left above the bottom margin.
    pub(crate) fn remaining(&self) -> f32 {
        self.y - MARGIN
    }

    pub(crate) fn advance(&mut self, dy: f32) {
        self.y -= dy;
    }

    pub(crate) fn new_page(&mut self) {
        let done = std::mem::replace(&mut self.current, Content::new());
        self.pages.push(done);
        self.y = TOP;
    }

    /// Starts a new page unless `height` still fits on this one (a block taller than a whole page
    /// is left to overflow rather than looping forever).
    pub(crate) fn ensure_space(&mut self, height: f32) {
        if height > self.remaining() && !self.at_page_top() {
            self.new_page();
        }
    }

    /// Nothing has been drawn on the current page yet.
    pub(crate) fn at_page_top(&self) -> bool {
        self.y >= TOP
    }

    pub(crate) fn line_height(size: f32) -> f32 {
        size * LEADING
    }

    /// Offset from the top of a line box to the baseline, centring the font's ascent+descent.
    pub(crate) fn baseline_offset(&self, size: f32) -> f32 {
        let font = &self.fonts.regular;
        let (ascent, descent) = (font.ascent_ratio(), font.descent_ratio());
        (Self::line_height(size) - (ascent + descent) * size) / 2.0 + ascent * size
    }

    pub(crate) fn width(&self, style: TextStyle, text: &str) -> f32 {
        self.fonts.get(style.weight).width(text, style.size)
    }

    pub(crate) fn wrap(&self, style: TextStyle, text: &str, max_width: f32) -> Vec<String> {
        wrap(self.fonts.get(style.weight), style.size, text, max_width)
    }

    /// Draws one line with its baseline at `baseline`, aligned inside `[x, x + width]`.
    pub(crate) fn text(
        &mut self,
        style: TextStyle,
        line: &str,
        span: Span,
        align: Align,
        baseline: f32,
    ) {
        let left = match align {
            Align::Left => span.x,
            Align::Center => span.center() - self.width(style, line) / 2.0,
        };
        let font = self.fonts.get_mut(style.weight);
        draw_text(&mut self.current, font, style, line, (left, baseline));
    }

    /// Draws wrapped lines one under another at the cursor, breaking pages between lines.
    pub(crate) fn lines(&mut self, style: TextStyle, lines: &[String], span: Span, align: Align) {
        let height = Self::line_height(style.size);
        for line in lines {
            self.ensure_space(height);
            let baseline = self.y - self.baseline_offset(style.size);
            self.text(style, line, span, align, baseline);
            self.advance(height);
        }
    }

    pub(crate) fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32, gray: f32) {
        self.current
            .save_state()
            .set_fill_gray(gray)
            .rect(x, y, width, height)
            .fill_nonzero()
            .restore_state();
    }

    /// Fills many rectangles `[x, y, width, height]` as one path (the QR code's dark runs).
    pub(crate) fn fill_rects(&mut self, rects: impl IntoIterator<Item = [f32; 4]>) {
        self.current.save_state().set_fill_gray(0.0);
        for [x, y, width, height] in rects {
            self.current.rect(x, y, width, height);
        }
        self.current.fill_nonzero().restore_state();
    }

    pub(crate) fn stroke_rect(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.current
            .set_line_width(0.5)
            .rect(x, y, width, height)
            .stroke();
    }

    pub(crate) fn stroke_line(&mut self, from: (f32, f32), to: (f32, f32)) {
        self.current
            .set_line_width(0.6)
            .move_to(from.0, from.1)
            .line_to(to.0, to.1)
            .stroke();
    }

    /// All page contents, numbered "Trang i/n" at the foot when there is more than one page.
    pub(crate) fn finish(mut self) -> (Vec<Content>, Fonts) {
        self.new_page();
        let total = self.pages.len();
        if total > 1 {
            for (index, page) in self.pages.iter_mut().enumerate() {
                let label = format!("Trang {}/{}", index + 1, total);
                let font = &mut self.fonts.regular;
                let left = (PAGE_WIDTH - font.width(&label, FOOTER_SIZE)) / 2.0;
                draw_text(
                    page,
                    font,
                    TextStyle::regular(FOOTER_SIZE),
                    &label,
                    (left, MARGIN / 2.0),
                );
            }
        }
        (self.pages, self.fonts)
    }
}

/// `origin` is the left end of the baseline.
fn draw_text(
    content: &mut Content,
    font: &mut Font,
    style: TextStyle,
    line: &str,
    origin: (f32, f32),
) {
    if line.is_empty() {
        return;
    }
    let glyphs = font.encode(line);
    content
        .begin_text()
        .set_font(Name(style.weight.resource_name()), style.size)
        .next_line(origin.0, origin.1)
        .show(Str(&glyphs))
        .end_text();
}

/// Breaks `text` into lines no wider than `max_width`, measuring with the font's advances.
/// Newlines force breaks (an empty line stays as a blank line); a word wider than the line is
/// split between characters.
pub(crate) fn wrap(font: &Font, size: f32, text: &str, max_width: f32) -> Vec<String> {
    let text = clean(text);
    let mut lines = Vec::new();
    for hard_line in text.split('\n') {
        wrap_line(font, size, hard_line, max_width, &mut lines);
    }
    lines
}

/// NFC so that decomposed input (base letter + combining marks) uses the font's precomposed
/// Vietnamese glyphs, as there is no shaping engine to position marks; other control characters
/// become spaces so they never reach the font.
fn clean(text: &str) -> String {
    text.nfc()
        .filter(|c| *c != '\r')
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

fn wrap_line(font: &Font, size: f32, text: &str, max_width: f32, out: &mut Vec<String>) {
    let space = font.width(" ", size);
    let mut line = String::new();
    let mut line_width = 0.0;
    for word in text.split_whitespace() {
        let word_width = font.width(word, size);
        if !line.is_empty() && line_width + space + word_width <= max_width + WIDTH_TOLERANCE {
            line.push(' ');
            line.push_str(word);
            line_width += space + word_width;
            continue;
        }
        if !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if word_width <= max_width + WIDTH_TOLERANCE {
            line = word.to_owned();
            line_width = word_width;
        } else {
            let mut pieces = split_word(font, size, word, max_width);
            line = pieces.pop().unwrap_or_default();
            line_width = font.width(&line, size);
            out.extend(pieces);
        }
    }
    out.push(line);
}

/// Splits an over-long word into pieces that fit, at least one character each.
fn split_word(font: &Font, size: f32, word: &str, max_width: f32) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut piece_width = 0.0;
    for c in word.chars() {
        let mut buf = [0; 4];
        let char_width = font.width(c.encode_utf8(&mut buf), size);
        if !piece.is_empty() && piece_width + char_width > max_width + WIDTH_TOLERANCE {
            pieces.push(std::mem::take(&mut piece));
            piece_width = 0.0;
        }
        piece.push(c);
        piece_width += char_width;
    }
    pieces.push(piece);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular() -> Font {
        Font::load(Weight::Regular).unwrap()
    }

    #[test]
    fn wrapped_lines_fit_and_keep_every_word() {
        let font = regular();
        let text = "Hồ sơ của ông/bà đã được tiếp nhận và sẽ được giải quyết trong thời hạn quy định \
                    của pháp luật về thủ tục hành chính tại bộ phận một cửa.";
        let lines = wrap(&font, 11.0, text, 200.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(font.width(line, 11.0) <= 200.0, "{line:?} too wide");
        }
        assert_eq!(
            lines.join(" "),
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }

    #[test]
    fn narrow_glyphs_fit_more_per_line_than_wide_ones() {
        // A character-count guess would put the same number of letters on each line.
        let font = regular();
        let narrow = wrap(&font, 11.0, &["il"; 60].join(" "), 150.0);
        let wide = wrap(&font, 11.0, &["WM"; 60].join(" "), 150.0);
        assert!(
            narrow.len() < wide.len(),
            "{} vs {}",
            narrow.len(),
            wide.len()
        );
    }

    #[test]
    fn long_words_are_split_and_newlines_force_breaks() {
        let font = regular();
        let lines = wrap(&font, 11.0, &"x".repeat(200), 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| font.width(l, 11.0) <= 100.0));
        assert_eq!(lines.concat(), "x".repeat(200));
        assert_eq!(wrap(&font, 11.0, "a\n\nb", 100.0), ["a", "", "b"]);
    }

    #[test]
    fn decomposed_input_is_composed_for_the_font() {
        let decomposed = "Vie\u{0302}\u{0323}t";
        assert_eq!(wrap(&regular(), 11.0, decomposed, 100.0), ["Việt"]);
    }
}
