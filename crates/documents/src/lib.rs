//! Printable official documents (dossier receipts, notices, process control sheets) rendered to
//! A4 PDF with embedded DejaVu Sans (full Vietnamese coverage) and a vector QR code.
//!
//! Built on `pdf-writer` + `subsetter` + `ttf-parser` because together they give a CID TrueType
//! font subset with a ToUnicode map (small, searchable, extractable text) for a handful of tiny
//! dependencies, where `printpdf` and `krilla` pull in layout/shaping/image stacks we do not need.
//!
//! There is no shaping engine: text is NFC-normalised so Vietnamese uses the font's precomposed
//! glyphs, and lines are wrapped by summing the font's advance widths.

mod chart;
mod error;
mod export;
mod font;
mod grid;
mod layout;
mod qr;
#[cfg(test)]
mod render_tests;
mod sections;
mod table;
mod writer;

pub use chart::{Chart, ChartError, Series, bar_chart_svg, line_chart_svg};
pub use error::PdfError;
pub use export::{Cell, DataTable, ExportError, to_csv, to_xlsx};
pub use qr::{qr_modules, qr_svg};

/// A printable official document: the national forms share this shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrintedDocument {
    /// Top-left heading lines, e.g. ["UBND TỈNH DEMO", "Bộ phận một cửa phường Bến Nghé"].
    pub issuer: Vec<String>,
    /// Top-right national motto lines; callers pass ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"].
    pub motto: Vec<String>,
    /// Bold centred title, e.g. "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ".
    pub title: String,
    /// Centred line under the title, e.g. "Mã hồ sơ: 000.00.00.H31-261122-0001"; may be empty.
    pub subtitle: String,
    /// Label/value lines ("Người nộp", "Nguyễn Văn A"), wrapped to the page width.
    pub fields: Vec<(String, String)>,
    /// Free paragraphs after the fields, wrapped.
    pub paragraphs: Vec<String>,
    /// An optional table (e.g. the process control sheet): header cells and rows; long tables
    /// continue on new pages with the header repeated; cell text wraps within its column.
    pub table: Option<Table>,
    /// A QR code placed at the bottom left (or wherever it fits), with a caption under it;
    /// encodes `url`.
    pub qr: Option<Qr>,
    /// Signature block at the bottom right, e.g. ["NGƯỜI TIẾP NHẬN", "(Ký, ghi rõ họ tên)", "Trần Thị B"].
    pub signature: Vec<String>,
}

/// A ruled table. `widths` are relative column widths (empty = equal columns); rows may have
/// fewer cells than columns (the rest stay empty) but not more.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub widths: Vec<f32>,
    pub rows: Vec<Vec<String>>,
}

/// A QR code and the caption printed under it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Qr {
    pub url: String,
    pub caption: String,
}

/// Renders `doc` as an A4 portrait PDF (20 mm margins), continuing onto as many pages as needed.
pub fn render_pdf(doc: &PrintedDocument) -> Result<Vec<u8>, PdfError> {
    // Reject bad input before drawing anything.
    let table = doc
        .table
        .as_ref()
        .map(|table| table::column_spans(table).map(|columns| (table, columns)))
        .transpose()?;
    let qr = doc
        .qr
        .as_ref()
        .map(|qr| qr_modules(&qr.url).map(|modules| (modules, qr.caption.as_str())))
        .transpose()?;

    let mut canvas = layout::Canvas::new()?;
    sections::heading(&mut canvas, &doc.issuer, &doc.motto);
    sections::title(&mut canvas, &doc.title, &doc.subtitle);
    sections::fields(&mut canvas, &doc.fields);
    sections::paragraphs(&mut canvas, &doc.paragraphs);
    if let Some((table, columns)) = table {
        table::draw_table(&mut canvas, table, columns);
    }
    let qr = qr
        .as_ref()
        .map(|(modules, caption)| (modules.as_slice(), *caption));
    sections::closing(&mut canvas, qr, &doc.signature);

    let (pages, fonts) = canvas.finish();
    writer::write_pdf(pages, &fonts, &doc.title)
}
