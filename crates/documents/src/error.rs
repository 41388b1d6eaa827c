/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The QR payload cannot be encoded, e.g. it is too long for the largest QR version.
    #[error("cannot encode QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    /// The table's column widths or rows do not match its columns.
    #[error("invalid table: {0}")]
    Table(String),
    /// The embedded font could not be parsed or subset (a build defect, not bad input).
    #[error("font error: {0}")]
    Font(String),
}
