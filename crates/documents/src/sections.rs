//! The parts of a national-form document, drawn top to bottom: heading columns, title, fields,
//! paragraphs and the closing block (QR code and signature).

use crate::font::{TextStyle, Weight};
use crate::grid::Grid;
use crate::layout::{Align, CONTENT_WIDTH, Canvas, MARGIN, Span};
use crate::qr::QUIET_ZONE;

const BODY: f32 = 11.0;
const HEADING: f32 = 10.0;
const TITLE: f32 = 13.0;
const CAPTION: f32 = 8.5;
/// Printed QR side including its quiet zone (about 30 mm), large enough for phone cameras.
const QR_SIDE: f32 = 85.0;
/// Room left for the handwritten signature and stamp above the signer's name.
const SIGNING_SPACE: f32 = 56.0;

/// A line with the style it is drawn in.
struct StyledLine {
    style: TextStyle,
    text: String,
    /// Extra blank space above the line.
    space_before: f32,
}

impl StyledLine {
    fn new(style: TextStyle, text: String) -> Self {
        Self {
            style,
            text,
            space_before: 0.0,
        }
    }

    fn height(&self) -> f32 {
        self.space_before + Canvas::line_height(self.style.size)
    }
}

/// Issuer (left) and national motto (right), each centred in its column with the short rule
/// that official forms draw under them.
pub(crate) fn heading(canvas: &mut Canvas, issuer: &[String], motto: &[String]) {
    if issuer.is_empty() && motto.is_empty() {
        return;
    }
    let left = Span {
        x: MARGIN,
        width: CONTENT_WIDTH * 0.42,
    };
    let right = Span {
        x: left.x + left.width,
        width: CONTENT_WIDTH - left.width,
    };
    // The issuing body itself is the last line and bold; its parent bodies above it are not.
    let issuer_lines = styled_lines(canvas, issuer, left.width, |index| {
        if index + 1 == issuer.len() {
            TextStyle::bold(HEADING)
        } else {
            TextStyle::regular(HEADING)
        }
    });
    let motto_lines = styled_lines(canvas, motto, right.width, |_| TextStyle::bold(HEADING));
    let top = canvas.y();
    let left_height = centred_block(canvas, &issuer_lines, left, top, 0.4);
    let right_height = centred_block(canvas, &motto_lines, right, top, 1.0);
    canvas.advance(left_height.max(right_height) + 18.0);
}

/// Bold centred title and the optional centred subtitle under it.
pub(crate) fn title(canvas: &mut Canvas, title: &str, subtitle: &str) {
    if !title.trim().is_empty() {
        let lines = canvas.wrap(TextStyle::bold(TITLE), title, CONTENT_WIDTH);
        canvas.lines(TextStyle::bold(TITLE), &lines, Span::CONTENT, Align::Center);
    }
    if !subtitle.trim().is_empty() {
        let lines = canvas.wrap(TextStyle::regular(BODY), subtitle, CONTENT_WIDTH);
        canvas.lines(
            TextStyle::regular(BODY),
            &lines,
            Span::CONTENT,
            Align::Center,
        );
    }
    canvas.advance(12.0);
}

/// Label/value pairs as two columns: labels as wide as the widest (at most 40 %), values bold.
pub(crate) fn fields(canvas: &mut Canvas, fields: &[(String, String)]) {
    if fields.is_empty() {
        return;
    }
    let labels: Vec<String> = fields.iter().map(|(label, _)| with_colon(label)).collect();
    let widest = labels
        .iter()
        .map(|label| canvas.width(TextStyle::regular(BODY), label))
        .fold(0.0, f32::max);
    let label_width = widest.min(CONTENT_WIDTH * 0.4);
    let gap = 8.0;
    let columns = vec![
        Span {
            x: MARGIN,
            width: label_width,
        },
        Span {
            x: MARGIN + label_width + gap,
            width: CONTENT_WIDTH - label_width - gap,
        },
    ];
    let grid = Grid {
        columns,
        size: BODY,
        pad_x: 0.0,
        pad_y: 1.5,
        ruled: false,
    };
    for (label, (_, value)) in labels.iter().zip(fields) {
        let cells = [
            grid.cell(canvas, 0, Weight::Regular, label),
            grid.cell(canvas, 1, Weight::Bold, value),
        ];
        grid.draw_row(canvas, &cells, None, &|_| {});
    }
    canvas.advance(8.0);
}

pub(crate) fn paragraphs(canvas: &mut Canvas, paragraphs: &[String]) {
    for paragraph in paragraphs {
        let lines = canvas.wrap(TextStyle::regular(BODY), paragraph, CONTENT_WIDTH);
        canvas.lines(TextStyle::regular(BODY), &lines, Span::CONTENT, Align::Left);
        canvas.advance(5.0);
    }
}

/// The QR code with its caption (left) beside the signature block (right), kept on one page.
pub(crate) fn closing(canvas: &mut Canvas, qr: Option<(&[Vec<bool>], &str)>, signature: &[String]) {
    if qr.is_none() && signature.is_empty() {
        return;
    }
    let half = CONTENT_WIDTH / 2.0;
    let left = Span {
        x: MARGIN,
        width: half - 12.0,
    };
    let right = Span {
        x: MARGIN + half,
        width: half,
    };
    let caption = qr.map_or_else(Vec::new, |(_, caption)| {
        canvas.wrap(TextStyle::regular(CAPTION), caption, left.width)
    });
    let qr_height = if qr.is_some() {
        QR_SIDE + caption.len() as f32 * Canvas::line_height(CAPTION)
    } else {
        0.0
    };
    let signature = signature_lines(canvas, signature, right.width);
    let signature_height = block_height(&signature);

    canvas.advance(14.0);
    canvas.ensure_space(qr_height.max(signature_height));
    let top = canvas.y();
    if let Some((modules, _)) = qr {
        // The code is centred over its caption, both within the left half.
        let caption_width = caption
            .iter()
            .map(|line| canvas.width(TextStyle::regular(CAPTION), line))
            .fold(QR_SIDE, f32::max);
        let block = Span {
            x: left.x,
            width: caption_width.min(left.width),
        };
        draw_qr(canvas, modules, block.center() - QR_SIDE / 2.0, top);
        let caption: Vec<_> = caption
            .into_iter()
            .map(|text| StyledLine::new(TextStyle::regular(CAPTION), text))
            .collect();
        draw_block(canvas, &caption, block, top - QR_SIDE, Align::Center);
    }
    draw_block(canvas, &signature, right, top, Align::Center);
    canvas.advance(qr_height.max(signature_height));
}

/// First line bold (the role), middle lines regular (the signing hint); with three or more lines
/// the last (the signer's name) is bold and set below room for signing.
fn signature_lines(canvas: &Canvas, lines: &[String], width: f32) -> Vec<StyledLine> {
    let mut styled = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let is_name = lines.len() >= 3 && index + 1 == lines.len();
        let style = if index == 0 || is_name {
            TextStyle::bold(BODY)
        } else {
            TextStyle::regular(BODY - 1.0)
        };
        let first = styled.len();
        styled.extend(
            canvas
                .wrap(style, line, width)
                .into_iter()
                .map(|text| StyledLine::new(style, text)),
        );
        if is_name {
            styled[first].space_before = SIGNING_SPACE;
        }
    }
    styled
}

/// Wraps each entry to `width`, styled by its index.
fn styled_lines(
    canvas: &Canvas,
    lines: &[String],
    width: f32,
    style_of: impl Fn(usize) -> TextStyle,
) -> Vec<StyledLine> {
    lines
        .iter()
        .enumerate()
        .flat_map(|(index, line)| {
            let style = style_of(index);
            canvas
                .wrap(style, line, width)
                .into_iter()
                .map(move |text| StyledLine::new(style, text))
        })
        .collect()
}

fn block_height(lines: &[StyledLine]) -> f32 {
    lines.iter().map(StyledLine::height).sum()
}

/// Draws lines from `top` down without moving the cursor (blocks side by side share a top).
fn draw_block(canvas: &mut Canvas, lines: &[StyledLine], span: Span, top: f32, align: Align) {
    let mut y = top;
    for line in lines {
        let baseline = y - line.space_before - canvas.baseline_offset(line.style.size);
        canvas.text(line.style, &line.text, span, align, baseline);
        y -= line.height();
    }
}

/// A centred block with a rule under its last line, `rule_fraction` of that line's width.
/// Returns the height used.
fn centred_block(
    canvas: &mut Canvas,
    lines: &[StyledLine],
    span: Span,
    top: f32,
    rule_fraction: f32,
) -> f32 {
    draw_block(canvas, lines, span, top, Align::Center);
    let height = block_height(lines);
    let Some(last) = lines.last() else { return 0.0 };
    let rule = canvas.width(last.style, &last.text) * rule_fraction;
    // Clear of the descenders and dots below (ậ, ọ) of the last line.
    let y = top - height - 2.5;
    canvas.stroke_line(
        (span.center() - rule / 2.0, y),
        (span.center() + rule / 2.0, y),
    );
    height + 2.5
}

/// Dark modules as filled squares, merged into horizontal runs to keep the content stream small.
/// The quiet zone is left blank inside `QR_SIDE`.
fn draw_qr(canvas: &mut Canvas, modules: &[Vec<bool>], left: f32, top: f32) {
    let module = QR_SIDE / (modules.len() + 2 * QUIET_ZONE) as f32;
    let origin_x = left + QUIET_ZONE as f32 * module;
    let origin_y = top - QUIET_ZONE as f32 * module;
    let runs = modules.iter().enumerate().flat_map(|(row, cells)| {
        dark_runs(cells).map(move |(start, length)| {
            let y = origin_y - (row + 1) as f32 * module;
            [
                origin_x + start as f32 * module,
                y,
                length as f32 * module,
                module,
            ]
        })
    });
    canvas.fill_rects(runs);
}

/// (start, length) of each run of dark modules in a row.
fn dark_runs(cells: &[bool]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut column = 0;
    std::iter::from_fn(move || {
        while column < cells.len() && !cells[column] {
            column += 1;
        }
        let start = column;
        while column < cells.len() && cells[column] {
            column += 1;
        }
        (column > start).then_some((start, column - start))
    })
}

/// Adds the colon forms put after a label, unless the caller already did.
fn with_colon(label: &str) -> String {
    let label = label.trim_end();
    if label.is_empty() || label.ends_with(':') {
        label.to_owned()
    } else {
        format!("{label}:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_runs_cover_exactly_the_dark_modules() {
        let row = [true, true, false, true, false, false, true];
        assert_eq!(
            dark_runs(&row).collect::<Vec<_>>(),
            [(0, 2), (3, 1), (6, 1)]
        );
        assert_eq!(dark_runs(&[false, false]).count(), 0);
    }

    #[test]
    fn labels_get_one_colon() {
        assert_eq!(with_colon("Người nộp"), "Người nộp:");
        assert_eq!(with_colon("Người nộp:"), "Người nộp:");
        assert_eq!(with_colon(""), "");
    }
}
