//! Tables for download: CSV (`csv`) and Excel workbooks (`rust_xlsxwriter`), with numbers kept
//! as numbers so a spreadsheet can sum them.

/// A table with a title (the sheet's name) and typed cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataTable {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(i64),
    /// A share in percent, one decimal.
    Percent(f64),
    /// No value (e.g. a rate with nothing to divide by, or a suppressed count).
    Empty,
}

impl Cell {
    /// The cell as CSV and pages write it.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Percent(p) => format!("{p:.1}"),
            Cell::Empty => String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the CSV could not be written: {0}")]
    Csv(#[from] csv::Error),
    #[error("the workbook could not be written: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The table as UTF-8 CSV with a header row. `for_spreadsheets` adds the byte-order mark that
/// makes Excel read Vietnamese text as UTF-8; open data goes without it.
pub fn to_csv(table: &DataTable, for_spreadsheets: bool) -> Result<Vec<u8>, ExportError> {
    let mut out = Vec::new();
    if for_spreadsheets {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&table.headers)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(Cell::text))?;
    }
    writer.flush().map_err(csv::Error::from)?;
    writer
        .into_inner()
        .map_err(|e| ExportError::Csv(csv::Error::from(e.into_error())))
}

/// The table as an Excel workbook of one sheet: bold header row, counts as integers,
/// percentages as numbers with one decimal.
pub fn to_xlsx(table: &DataTable) -> Result<Vec<u8>, ExportError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.title))?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0");
    for (c, header) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, header, &bold)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => {
                    sheet.write_string(r, c, t)?;
                }
                Cell::Count(n) => {
                    sheet.write_number(r, c, *n as f64)?;
                }
                Cell::Percent(p) => {
                    sheet.write_number_with_format(r, c, *p, &percent)?;
                }
                Cell::Empty => {}
            }
        }
    }
    sheet.autofit();
    Ok(workbook.save_to_buffer()?)
}

/// Excel sheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    let clean: String = title
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        "Sheet1".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DataTable {
        DataTable {
            title: "Theo cơ quan: 2026/11".into(),
            headers: vec!["Cơ quan".into(), "Tiếp nhận".into(), "Đúng hạn (%)".into()],
            rows: vec![
                vec![
                    Cell::Text("UBND phường Bến Nghé, \"một cửa\"".into()),
                    Cell::Count(12),
                    Cell::Percent(91.25),
                ],
                vec![Cell::Text("Sở Nội vụ".into()), Cell::Count(0), Cell::Empty],
            ],
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_marks_utf8_for_spreadsheets() {
        let plain = String::from_utf8(to_csv(&table(), false).unwrap()).unwrap();
        assert_eq!(
            plain,
            "Cơ quan,Tiếp nhận,Đúng hạn (%)\n\
             \"UBND phường Bến Nghé, \"\"một cửa\"\"\",12,91.2\n\
             Sở Nội vụ,0,\n"
        );
        let marked = to_csv(&table(), true).unwrap();
        assert_eq!(&marked[..3], b"\xEF\xBB\xBF");
    }

    #[test]
    fn a_workbook_is_a_zip_with_the_sheet_and_its_text() {
        let bytes = to_xlsx(&table()).unwrap();
        assert_eq!(&bytes[..2], b"PK", "an xlsx file is a zip archive");
        assert_eq!(sheet_name("Theo cơ quan: 2026/11"), "Theo cơ quan 202611");
        assert_eq!(sheet_name("???"), "Sheet1");
    }
}
