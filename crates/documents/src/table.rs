//! The optional table (e.g. the process control sheet): validated column layout, a shaded header
//! repeated on every page the table continues onto.

use crate::font::Weight;
use crate::grid::{Cell, Grid};
use crate::layout::{CONTENT_WIDTH, Canvas, MARGIN, Span};
use crate::{PdfError, Table};

const SIZE: f32 = 10.0;
const HEADER_SHADE: f32 = 0.9;
const GAP_BEFORE: f32 = 6.0;
const GAP_AFTER: f32 = 10.0;

/// Column spans across the content width, checked before anything is drawn.
pub(crate) fn column_spans(table: &Table) -> Result<Vec<Span>, PdfError> {
    let count = column_count(table);
    if !table.widths.is_empty() && table.widths.len() != count {
        return Err(PdfError::Table(format!(
            "{} column widths for {count} columns",
            table.widths.len()
        )));
    }
    if let Some(bad) = table.widths.iter().find(|w| !w.is_finite() || **w <= 0.0) {
        return Err(PdfError::Table(format!(
            "column width {bad} is not a positive number"
        )));
    }
    if let Some((index, row)) = table
        .rows
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() > count)
    {
        return Err(PdfError::Table(format!(
            "row {index} has {} cells for {count} columns",
            row.len()
        )));
    }
    // Missing widths mean equal columns.
    let weights = if table.widths.is_empty() {
        vec![1.0; count]
    } else {
        table.widths.clone()
    };
    let total: f32 = weights.iter().sum();
    let mut x = MARGIN;
    Ok(weights
        .iter()
        .map(|weight| {
            let span = Span {
                x,
                width: CONTENT_WIDTH * weight / total,
            };
            x += span.width;
            span
        })
        .collect())
}

/// Headers decide the column count; without headers, the widths or the widest row do.
fn column_count(table: &Table) -> usize {
    if !table.headers.is_empty() {
        table.headers.len()
    } else if !table.widths.is_empty() {
        table.widths.len()
    } else {
        table.rows.iter().map(Vec::len).max().unwrap_or(0)
    }
}

pub(crate) fn draw_table(canvas: &mut Canvas, table: &Table, columns: Vec<Span>) {
    if columns.is_empty() {
        return;
    }
    let grid = Grid {
        columns,
        size: SIZE,
        pad_x: 4.0,
        pad_y: 3.0,
        ruled: true,
    };
    let header = row_cells(canvas, &grid, &table.headers, Weight::Bold);
    let rows: Vec<Vec<Cell>> = table
        .rows
        .iter()
        .map(|row| row_cells(canvas, &grid, row, Weight::Regular))
        .collect();

    let draw_header = |canvas: &mut Canvas| {
        if !table.headers.is_empty() {
            grid.draw_row(canvas, &header, Some(HEADER_SHADE), &|_| {});
        }
    };
    canvas.advance(GAP_BEFORE);
    // Never leave the header alone at the foot of a page.
    let header_height = if table.headers.is_empty() {
        0.0
    } else {
        grid.row_height(header.iter().map(|c| c.lines.len()).max().unwrap_or(1))
    };
    canvas.ensure_space(header_height + grid.row_height(1));
    draw_header(canvas);
    for row in &rows {
        grid.draw_row(canvas, row, None, &draw_header);
    }
    canvas.advance(GAP_AFTER);
}

/// Wraps each cell; short rows are padded with empty cells so borders stay complete.
fn row_cells(canvas: &Canvas, grid: &Grid, texts: &[String], weight: Weight) -> Vec<Cell> {
    (0..grid.columns.len())
        .map(|column| {
            grid.cell(
                canvas,
                column,
                weight,
                texts.get(column).map_or("", String::as_str),
            )
        })
        .collect()
}
