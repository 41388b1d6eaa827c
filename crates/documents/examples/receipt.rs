//! Writes a sample dossier receipt: `cargo run -p documents --example receipt -- /tmp/receipt.pdf`.

use documents::{PrintedDocument, Qr, render_pdf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "receipt-sample.pdf".to_owned());
    let owned = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let doc = PrintedDocument {
        issuer: owned(&["UBND TỈNH DEMO", "Bộ phận một cửa phường Bến Nghé"]),
        motto: owned(&[
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
        ]),
        title: "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ".to_owned(),
        subtitle: "Mã hồ sơ: 000.00.00.H31-261122-0001".to_owned(),
        fields: [
            ("Người nộp", "Nguyễn Văn A"),
            ("Số điện thoại", "0901 234 567"),
            (
                "Địa chỉ",
                "Số 12 đường Lê Lợi, phường Bến Nghé, quận 1, thành phố Hồ Chí Minh",
            ),
            (
                "Thủ tục",
                "Đăng ký khai sinh (thủ tục hành chính cấp xã, mức độ toàn trình)",
            ),
            ("Số lượng hồ sơ", "01 bộ"),
            ("Thời gian nhận hồ sơ", "08 giờ 30 phút, ngày 22/11/2026"),
            ("Thời gian trả kết quả", "16 giờ 00 phút, ngày 24/11/2026"),
        ]
        .iter()
        .map(|(label, value)| ((*label).to_owned(), (*value).to_owned()))
        .collect(),
        paragraphs: owned(&[
            "Thành phần hồ sơ gồm: Tờ khai đăng ký khai sinh theo mẫu; Giấy chứng sinh (bản chính); \
             giấy tờ tùy thân của người đi đăng ký khai sinh.",
            "Ông/bà có thể tra cứu tình trạng giải quyết hồ sơ trên Cổng dịch vụ công hoặc quét mã QR dưới đây.",
        ]),
        table: None,
        qr: Some(Qr {
            url: "https://dichvucong.demo.gov.vn/tra-cuu?ma=000.00.00.H31-261122-0001".to_owned(),
            caption: "Quét mã để tra cứu tình trạng hồ sơ".to_owned(),
        }),
        signature: owned(&["NGƯỜI TIẾP NHẬN", "(Ký, ghi rõ họ tên)", "Trần Thị B"]),
    };
    let pdf = render_pdf(&doc)?;
    std::fs::write(&path, &pdf)?;
    println!("{path}: {} bytes", pdf.len());
    Ok(())
}
