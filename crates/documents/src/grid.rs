//! Rows of side-by-side wrapped cells that may split across pages: the borderless field list and
//! ruled tables (whose header is repeated on every new page) share this.

use std::ops::Range;

use crate::font::{TextStyle, Weight};
use crate::layout::{Align, Canvas, Span};

/// Column geometry and text size shared by all rows.
pub(crate) struct Grid {
    pub columns: Vec<Span>,
    pub size: f32,
    /// Space between a cell's edge and its text, left/right and top/bottom.
    pub pad_x: f32,
    pub pad_y: f32,
    /// Draw cell borders.
    pub ruled: bool,
}

/// One cell's text, already wrapped to its column.
pub(crate) struct Cell {
    pub weight: Weight,
    pub lines: Vec<String>,
}

impl Grid {
    /// Wraps `text` for column `column`.
    pub(crate) fn cell(&self, canvas: &Canvas, column: usize, weight: Weight, text: &str) -> Cell {
        let width = self
            .columns
            .get(column)
            .map_or(0.0, |c| c.width - 2.0 * self.pad_x);
        let lines = canvas.wrap(
            TextStyle {
                weight,
                size: self.size,
            },
            text,
            width,
        );
        Cell { weight, lines }
    }

    /// Height of a row showing `lines` lines.
    pub(crate) fn row_height(&self, lines: usize) -> f32 {
        lines as f32 * Canvas::line_height(self.size) + 2.0 * self.pad_y
    }

    /// Draws a row at the cursor. A row that does not fit moves to a new page (after
    /// `on_new_page`, which repeats a table header); a row taller than a page is split between
    /// lines so nothing is lost.
    pub(crate) fn draw_row(
        &self,
        canvas: &mut Canvas,
        cells: &[Cell],
        shade: Option<f32>,
        on_new_page: &dyn Fn(&mut Canvas),
    ) {
        let total = cells
            .iter()
            .map(|c| c.lines.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut start = 0;
        let mut fresh_page = canvas.at_page_top();
        while start < total {
            let rest = total - start;
            let fit = self.lines_fitting(canvas.remaining());
            if fit < rest && !fresh_page {
                canvas.new_page();
                on_new_page(canvas);
                fresh_page = true;
                continue;
            }
            let count = fit.min(rest).max(1);
            self.draw_lines(canvas, cells, start..start + count, shade);
            start += count;
            fresh_page = false;
        }
    }

    fn lines_fitting(&self, height: f32) -> usize {
        let lines = (height - 2.0 * self.pad_y) / Canvas::line_height(self.size);
        lines.max(0.0).floor() as usize
    }

    /// Draws lines `range` of every cell as one band of the row.
    fn draw_lines(
        &self,
        canvas: &mut Canvas,
        cells: &[Cell],
        range: Range<usize>,
        shade: Option<f32>,
    ) {
        let line_height = Canvas::line_height(self.size);
        let height = self.row_height(range.len());
        let top = canvas.y();
        let bottom = top - height;
        if let (Some(gray), Some(first), Some(last)) =
            (shade, self.columns.first(), self.columns.last())
        {
            canvas.fill_rect(first.x, bottom, last.x + last.width - first.x, height, gray);
        }
        let first_baseline = top - self.pad_y - canvas.baseline_offset(self.size);
        for (column, cell) in self.columns.iter().zip(cells) {
            let inner = Span {
                x: column.x + self.pad_x,
                width: column.width - 2.0 * self.pad_x,
            };
            let style = TextStyle {
                weight: cell.weight,
                size: self.size,
            };
            let shown = cell.lines.iter().skip(range.start).take(range.len());
            for (index, line) in shown.enumerate() {
                let baseline = first_baseline - index as f32 * line_height;
                canvas.text(style, line, inner, Align::Left, baseline);
            }
        }
        if self.ruled {
            for column in &self.columns {
                canvas.stroke_rect(column.x, bottom, column.width, height);
            }
        }
        canvas.advance(height);
    }
}
