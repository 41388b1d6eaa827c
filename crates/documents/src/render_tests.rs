//! Renders real documents and reads them back with independent parsers (lopdf for the PDF,
//! rqrr for the QR code).

use crate::{PdfError, PrintedDocument, Qr, Table, qr_modules, qr_svg, render_pdf};

const TITLE: &str = "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ";
const URL: &str = "https://dichvucong.demo.gov.vn/tra-cuu?ma=000.00.00.H31-261122-0001";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn receipt() -> PrintedDocument {
    PrintedDocument {
        issuer: strings(&["UBND TỈNH DEMO", "Bộ phận một cửa phường Bến Nghé"]),
        motto: strings(&[
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
        ]),
        title: TITLE.to_owned(),
        subtitle: "Mã hồ sơ: 000.00.00.H31-261122-0001".to_owned(),
        fields: [
            ("Người nộp", "Nguyễn Văn A"),
            (
                "Địa chỉ",
                "Số 12 đường Lê Lợi, phường Bến Nghé, quận 1, thành phố Hồ Chí Minh",
            ),
            ("Thủ tục", "Đăng ký khai sinh"),
            ("Ngày nhận", "08 giờ 30 phút, ngày 22/11/2026"),
            ("Hẹn trả kết quả", "16 giờ 00 phút, ngày 24/11/2026"),
        ]
        .iter()
        .map(|(label, value)| ((*label).to_owned(), (*value).to_owned()))
        .collect(),
        paragraphs: strings(&[
            "Thành phần hồ sơ gồm: Tờ khai đăng ký khai sinh; Giấy chứng sinh; giấy tờ tùy thân của người đi đăng ký.",
            "Ông/bà có thể tra cứu tình trạng giải quyết hồ sơ bằng cách quét mã QR dưới đây.",
        ]),
        table: None,
        qr: Some(Qr {
            url: URL.to_owned(),
            caption: "Quét mã để tra cứu hồ sơ".to_owned(),
        }),
        signature: strings(&["NGƯỜI TIẾP NHẬN", "(Ký, ghi rõ họ tên)", "Trần Thị B"]),
    }
}

fn control_sheet(rows: usize) -> PrintedDocument {
    let rows = (1..=rows)
        .map(|i| {
            vec![
                i.to_string(),
                format!("Bộ phận xử lý bước {i}: thẩm định, xác minh và trình ký hồ sơ"),
                format!("{:02}/11/2026", i % 28 + 1),
                "Đúng hạn".to_owned(),
            ]
        })
        .collect();
    PrintedDocument {
        title: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ".to_owned(),
        table: Some(Table {
            headers: strings(&[
                "STT",
                "Tên cơ quan, bộ phận giải quyết",
                "Thời gian giao",
                "Kết quả",
            ]),
            widths: vec![1.0, 6.0, 2.5, 2.0],
            rows,
        }),
        ..PrintedDocument::default()
    }
}

fn page_count(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf)
        .expect("valid PDF")
        .get_pages()
        .len()
}

fn page_text(pdf: &[u8], page: u32) -> String {
    let doc = lopdf::Document::load_mem(pdf).expect("valid PDF");
    doc.extract_text(&[page]).expect("text extraction")
}

#[test]
fn receipt_is_a_complete_pdf_well_under_200_kb() {
    let pdf = render_pdf(&receipt()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
    assert!(pdf.len() < 200 * 1024, "receipt is {} bytes", pdf.len());
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn vietnamese_text_is_extractable() {
    let text = page_text(&render_pdf(&receipt()).unwrap(), 1);
    for expected in [
        TITLE,
        "Nguyễn Văn A",
        "Người nộp:",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Trần Thị B",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not in extracted text:\n{text}"
        );
    }
}

#[test]
fn fonts_are_embedded_subsets_with_a_to_unicode_map() {
    let pdf = render_pdf(&receipt()).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let fonts = doc.get_page_fonts(doc.page_iter().next().unwrap()).unwrap();
    assert_eq!(fonts.len(), 2);
    for font in fonts.values() {
        let name = font.get(b"BaseFont").unwrap().as_name().unwrap();
        // "ABCDEF+DejaVuSans": the tag marks a subset.
        assert_eq!(
            name.get(6),
            Some(&b'+'),
            "{}",
            String::from_utf8_lossy(name)
        );
        assert!(font.get(b"ToUnicode").is_ok());
    }
}

#[test]
fn decomposed_vietnamese_renders_like_precomposed() {
    let mut doc = receipt();
    doc.fields[0].1 = "Nguye\u{0302}\u{0303}n Va\u{0306}n A".to_owned(); // NFD "Nguyễn Văn A"
    let text = page_text(&render_pdf(&doc).unwrap(), 1);
    assert!(text.contains("Nguyễn Văn A"), "{text}");
}

#[test]
fn qr_modules_decode_back_to_the_url() {
    let modules = qr_modules(URL).unwrap();
    let size = modules.len();
    assert!(modules.iter().all(|row| row.len() == size), "square matrix");

    const PIXELS: usize = 4;
    const QUIET: usize = 4;
    let side = (size + 2 * QUIET) * PIXELS;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        let (col, row) = (x / PIXELS, y / PIXELS);
        let dark = (QUIET..QUIET + size).contains(&col)
            && (QUIET..QUIET + size).contains(&row)
            && modules[row - QUIET][col - QUIET];
        if dark { 0 } else { 255 }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, URL);
}

#[test]
fn qr_svg_draws_the_same_modules() {
    let dark = qr_modules(URL)
        .unwrap()
        .iter()
        .flatten()
        .filter(|d| **d)
        .count();
    let svg = qr_svg(URL).unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert_eq!(svg.matches("h1v1h-1z").count(), dark);
}

#[test]
fn long_table_continues_on_new_pages_with_the_header_repeated() {
    let pdf = render_pdf(&control_sheet(120)).unwrap();
    let pages = page_count(&pdf);
    assert!(pages > 1, "{pages} page(s)");
    let last = page_text(&pdf, pages as u32);
    assert!(
        last.contains("Tên cơ quan, bộ phận giải quyết"),
        "header not repeated:\n{last}"
    );
    assert!(last.contains("Trang"), "no page number:\n{last}");
    let all: String = (1..=pages as u32).map(|p| page_text(&pdf, p)).collect();
    assert!(all.contains("bước 120:"), "last row missing");
}

#[test]
fn a_cell_taller_than_a_page_is_split_not_lost() {
    let mut doc = control_sheet(1);
    let words: Vec<String> = (0..3000).map(|i| format!("từ{i}")).collect();
    doc.table.as_mut().unwrap().rows[0][1] = words.join(" ");
    let pdf = render_pdf(&doc).unwrap();
    let pages = page_count(&pdf);
    assert!(pages > 1);
    let all: String = (1..=pages as u32).map(|p| page_text(&pdf, p)).collect();
    assert!(all.contains("từ0 ") && all.contains("từ2999"));
}

#[test]
fn qr_payload_too_long_is_an_error_not_a_panic() {
    let too_long = "x".repeat(8000);
    assert!(matches!(qr_modules(&too_long), Err(PdfError::Qr(_))));
    assert!(matches!(qr_svg(&too_long), Err(PdfError::Qr(_))));
    let mut doc = receipt();
    doc.qr = Some(Qr {
        url: too_long,
        caption: String::new(),
    });
    assert!(matches!(render_pdf(&doc), Err(PdfError::Qr(_))));
}

#[test]
fn inconsistent_tables_are_rejected() {
    let mut doc = control_sheet(2);
    doc.table.as_mut().unwrap().widths = vec![1.0, 2.0];
    assert!(matches!(render_pdf(&doc), Err(PdfError::Table(_))));

    let mut doc = control_sheet(2);
    doc.table.as_mut().unwrap().rows[1].push("thừa".to_owned());
    assert!(matches!(render_pdf(&doc), Err(PdfError::Table(_))));

    let mut doc = control_sheet(2);
    doc.table.as_mut().unwrap().widths[0] = f32::NAN;
    assert!(matches!(render_pdf(&doc), Err(PdfError::Table(_))));
}

#[test]
fn empty_document_still_renders_one_page() {
    let pdf = render_pdf(&PrintedDocument::default()).unwrap();
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(
        render_pdf(&receipt()).unwrap(),
        render_pdf(&receipt()).unwrap()
    );
}
