//! QR codes shared by the PDF and the HTML/SVG renderers, so both draw the same modules.

use std::fmt::Write as _;

use qrcode::{Color, QrCode};

use crate::PdfError;

/// Light modules kept around the code, as the QR specification requires for reliable scanning.
pub const QUIET_ZONE: usize = 4;

/// The QR code's module matrix (true = dark), row by row, so other renderers (an HTML/SVG page)
/// draw the same code.
pub fn qr_modules(url: &str) -> Result<Vec<Vec<bool>>, PdfError> {
    let code = QrCode::new(url.as_bytes())?;
    let width = code.width();
    let dark: Vec<bool> = code
        .into_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok(dark.chunks(width).map(<[bool]>::to_vec).collect())
}

/// The same QR as a standalone SVG string (for the printable HTML page).
///
/// One unit per module, quiet zone included, so the page can scale it with CSS.
pub fn qr_svg(url: &str) -> Result<String, PdfError> {
    let modules = qr_modules(url)?;
    let size = modules.len() + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (row, cells) in modules.iter().enumerate() {
        for (col, _) in cells.iter().enumerate().filter(|(_, dark)| **dark) {
            let (x, y) = (col + QUIET_ZONE, row + QUIET_ZONE);
            // Writing to a String cannot fail.
            let _ = write!(path, "M{x} {y}h1v1h-1z");
        }
    }
    Ok(format!(
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" "##,
            r##"shape-rendering="crispEdges" role="img"><title>QR: {title}</title>"##,
            r##"<rect width="{size}" height="{size}" fill="#fff"/>"##,
            r##"<path d="{path}" fill="#000"/></svg>"##
        ),
        size = size,
        path = path,
        // Screen readers name the image by its title: the address it opens.
        title = crate::chart::escape(url)
    ))
}
