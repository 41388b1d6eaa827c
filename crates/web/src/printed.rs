//! The printed forms of the one-stop shop (Circular 01/2018/TT-VPCP), built once from a
//! dossier's facts and rendered both as a printable page and as a PDF:
//! the receipt (Mẫu 01), the supplement request (Mẫu 02), the refusal notice (Mẫu 03),
//! the process control sheet (Mẫu 04) and the apology letter (Mẫu 05).

use app::DossierContext;
use documents::{PrintedDocument, Qr, Table};
use domain::dossier::{Action, EventRecord};

use crate::pages::local_time;

const MOTTO: [&str; 2] = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
];

/// Which notice an event gives rise to.
pub fn notice_title(action: Action) -> Option<&'static str> {
    match action {
        Action::RequestSupplement => Some("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
        Action::Refuse => Some("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
        Action::ApologizeAndExtend => Some("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
        _ => None,
    }
}

fn issuer(ctx: &DossierContext) -> Vec<String> {
    let agency = ctx
        .receiving_agency
        .as_ref()
        .or(ctx.agency.as_ref())
        .map(|a| a.name.clone())
        .unwrap_or_default();
    vec![
        agency.to_uppercase(),
        "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ".into(),
    ]
}

fn applicant_name(ctx: &DossierContext) -> String {
    ctx.applicant
        .as_ref()
        .map(|u| u.full_name.clone())
        .unwrap_or_else(|| ctx.dossier.applicant.clone())
}

fn form_text(ctx: &DossierContext, field: &str) -> Option<String> {
    ctx.dossier
        .form
        .get(field)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// The public lookup address printed as a QR code: code and secret filled in.
pub fn lookup_url(base: &str, ctx: &DossierContext) -> String {
    format!(
        "{base}/lookup?code={}&secret={}",
        urlencoding::encode(&ctx.dossier.code),
        ctx.lookup_secret
    )
}

/// Phiếu tiếp nhận hồ sơ và hẹn trả kết quả.
pub fn receipt(ctx: &DossierContext, base: &str) -> PrintedDocument {
    let d = &ctx.dossier;
    let mut fields = vec![
        ("Người nộp hồ sơ".to_owned(), applicant_name(ctx)),
        (
            "Thủ tục".to_owned(),
            format!("{} ({})", ctx.procedure.name, d.procedure),
        ),
        ("Kênh nộp".to_owned(), d.channel.name_vi().to_owned()),
        ("Thời gian nộp".to_owned(), local_time(d.submitted_at)),
    ];
    for (field, label) in [
        ("so_dinh_danh", "Số định danh"),
        ("dien_thoai", "Điện thoại"),
    ] {
        if let Some(value) = form_text(ctx, field) {
            fields.push((label.into(), value));
        }
    }
    fields.push((
        "Thời gian tiếp nhận".into(),
        d.received_at
            .map_or_else(|| "Chờ tiếp nhận".into(), local_time),
    ));
    fields.push((
        "Hẹn trả kết quả".into(),
        d.due_at
            .map_or_else(|| "Sẽ hẹn khi hồ sơ được tiếp nhận".into(), local_time),
    ));
    fields.push(("Mã tra cứu".into(), ctx.lookup_secret.clone()));
    let mut paragraphs = vec!["Giấy tờ đã nộp:".to_owned()];
    let submitted: Vec<String> = ctx
        .files
        .iter()
        .filter(|f| f.document != domain::service::RESULT_DOCUMENT)
        .enumerate()
        .map(|(i, f)| {
            format!(
                "{}. {} — tệp {} (SHA-256 {}…)",
                i + 1,
                f.document,
                f.file_name,
                &f.sha256[..12]
            )
        })
        .collect();
    if submitted.is_empty() {
        paragraphs.push("Hồ sơ giấy nộp trực tiếp tại Bộ phận một cửa.".into());
    } else {
        paragraphs.extend(submitted);
    }
    paragraphs.push(
        "Tra cứu tình trạng hồ sơ bằng mã hồ sơ và mã tra cứu trên Cổng Dịch vụ công, hoặc quét mã QR."
            .into(),
    );
    PrintedDocument {
        issuer: issuer(ctx),
        motto: MOTTO.map(String::from).to_vec(),
        title: "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ".into(),
        subtitle: format!("Mã hồ sơ: {}", d.code),
        fields,
        paragraphs,
        table: None,
        qr: Some(Qr {
            url: lookup_url(base, ctx),
            caption: "Quét để tra cứu hồ sơ".into(),
        }),
        signature: vec![
            "NGƯỜI TIẾP NHẬN HỒ SƠ".into(),
            "(Ký và ghi rõ họ tên)".into(),
        ],
    }
}

/// A notice about one event: a supplement request, a refusal, or an apology.
pub fn notice(ctx: &DossierContext, event: &EventRecord, base: &str) -> Option<PrintedDocument> {
    let title = notice_title(event.action)?;
    let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or_default();
    let text = |key: &str| payload.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let mut fields = vec![
        ("Kính gửi".to_owned(), applicant_name(ctx)),
        ("Thủ tục".to_owned(), ctx.procedure.name.clone()),
        ("Ngày lập phiếu".to_owned(), local_time(event.at)),
        ("Lý do".to_owned(), text("reason").unwrap_or_default()),
    ];
    let paragraph = match event.action {
        Action::RequestSupplement => {
            "Đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ theo nội dung trên. Thời gian chờ bổ sung không tính vào thời hạn giải quyết. Ông/Bà có thể bổ sung trực tuyến trên Cổng Dịch vụ công."
        }
        Action::Refuse => {
            "Bộ phận tiếp nhận và trả kết quả không tiếp nhận hồ sơ vì lý do trên. Xin thông báo để Ông/Bà biết."
        }
        _ => {
            if let Some(due) =
                text("due_at").and_then(|d| chrono::DateTime::parse_from_rfc3339(&d).ok())
            {
                fields.push(("Hẹn lại ngày trả kết quả".into(), local_time(due.to_utc())));
            }
            "Cơ quan giải quyết chân thành xin lỗi Ông/Bà vì hồ sơ chưa được giải quyết đúng hạn và hẹn lại ngày trả kết quả như trên."
        }
    };
    Some(PrintedDocument {
        issuer: issuer(ctx),
        motto: MOTTO.map(String::from).to_vec(),
        title: title.into(),
        subtitle: format!("Mã hồ sơ: {}", ctx.dossier.code),
        fields,
        paragraphs: vec![paragraph.into()],
        table: None,
        qr: Some(Qr {
            url: lookup_url(base, ctx),
            caption: "Quét để tra cứu hồ sơ".into(),
        }),
        signature: vec![
            "NGƯỜI LẬP PHIẾU".into(),
            "(Ký và ghi rõ họ tên)".into(),
            event.actor.clone(),
        ],
    })
}

/// Phiếu kiểm soát quá trình giải quyết hồ sơ: every hand-over from the events, then the
/// steps with their deadlines.
pub fn control_sheet(ctx: &DossierContext) -> PrintedDocument {
    let d = &ctx.dossier;
    let rows = ctx
        .events
        .iter()
        .map(|e| {
            vec![
                e.sequence.to_string(),
                local_time(e.at),
                format!("{} ({})", e.actor, e.agency.clone().unwrap_or_default()),
                e.action.name_vi().to_owned(),
                format!("{} → {}", e.from_status.name_vi(), e.to_status.name_vi()),
            ]
        })
        .collect();
    let mut paragraphs = vec!["Các bước xử lý theo quy trình:".to_owned()];
    for (i, step) in ctx.steps.iter().enumerate() {
        let due = step.due_at.map_or_else(|| "—".into(), local_time);
        let done = match &step.done {
            Some((at, who)) => {
                let judged = match step.due_at {
                    Some(due) if *at > due => "quá hạn",
                    Some(_) => "đúng hạn",
                    None => "",
                };
                format!("xong {} bởi {who} {judged}", local_time(*at))
            }
            None => "chưa xong".into(),
        };
        paragraphs.push(format!("{}. {} — hạn {due}; {done}", i + 1, step.name_vi));
    }
    PrintedDocument {
        issuer: issuer(ctx),
        motto: MOTTO.map(String::from).to_vec(),
        title: "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ".into(),
        subtitle: format!("Mã hồ sơ: {}", d.code),
        fields: vec![
            ("Người nộp".into(), applicant_name(ctx)),
            ("Thủ tục".into(), ctx.procedure.name.clone()),
            (
                "Hẹn trả kết quả".into(),
                d.due_at.map_or_else(|| "—".into(), local_time),
            ),
            ("Tình trạng".into(), d.state.status.name_vi().into()),
        ],
        paragraphs,
        table: Some(Table {
            headers: ["#", "Thời gian", "Người thực hiện", "Việc", "Trạng thái"]
                .map(String::from)
                .to_vec(),
            widths: vec![0.5, 2.0, 3.5, 3.0, 3.5],
            rows,
        }),
        qr: None,
        signature: Vec::new(),
    }
}
