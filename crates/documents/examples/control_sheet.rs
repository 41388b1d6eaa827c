//! Writes a sample multi-page process control sheet:
//! `cargo run -p documents --example control_sheet -- /tmp/sheet.pdf`.

use documents::{PrintedDocument, Table, render_pdf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "control-sheet-sample.pdf".to_owned());
    let owned = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let rows = (1..=40)
        .map(|step| {
            vec![
                step.to_string(),
                format!("Bộ phận xử lý bước {step}: thẩm định, xác minh và trình ký hồ sơ"),
                format!("{:02}/11/2026 08:30", step % 28 + 1),
                format!("{:02}/11/2026 16:00", step % 28 + 1),
                if step % 7 == 0 {
                    "Trễ hạn".to_owned()
                } else {
                    "Đúng hạn".to_owned()
                },
                String::new(),
            ]
        })
        .collect();
    let doc = PrintedDocument {
        issuer: owned(&["UBND TỈNH DEMO", "Bộ phận một cửa phường Bến Nghé"]),
        motto: owned(&[
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
        ]),
        title: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ".to_owned(),
        subtitle: "Mã hồ sơ: 000.00.00.H31-261122-0001".to_owned(),
        fields: vec![
            (
                "Cơ quan (bộ phận) giải quyết hồ sơ".to_owned(),
                "UBND phường Bến Nghé".to_owned(),
            ),
            (
                "Cơ quan phối hợp giải quyết hồ sơ".to_owned(),
                "Công an phường Bến Nghé".to_owned(),
            ),
        ],
        paragraphs: Vec::new(),
        table: Some(Table {
            headers: owned(&[
                "STT",
                "Tên cơ quan, bộ phận",
                "Thời gian giao",
                "Thời gian nhận",
                "Kết quả",
                "Ghi chú",
            ]),
            widths: vec![0.8, 4.5, 2.2, 2.2, 1.6, 1.4],
            rows,
        }),
        qr: None,
        signature: Vec::new(),
    };
    let pdf = render_pdf(&doc)?;
    std::fs::write(&path, &pdf)?;
    println!("{path}: {} bytes", pdf.len());
    Ok(())
}
