//! Notification messages, in Vietnamese and English, from the facts of an event.
//!
//! The facts are gathered when the event is written, so a message sent later (after a retry, or
//! once a mail server is back) says what was true then. Rendering is pure: the same facts give
//! the same message, which the tests and the outbox rely on.

use serde::{Deserialize, Serialize};

use crate::fees::{format_vnd, group_digits};

/// What a message is about. The first seven go to the applicant, the others to officials
/// and leaders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    Received,
    SupplementRequested,
    PaymentRequested,
    PaymentReceived,
    ResultReady,
    Apology,
    Refused,
    DueSoon,
    Overdue,
    Escalated,
    Digest,
}

impl Template {
    pub const ALL: [Template; 11] = [
        Template::Received,
        Template::SupplementRequested,
        Template::PaymentRequested,
        Template::PaymentReceived,
        Template::ResultReady,
        Template::Apology,
        Template::Refused,
        Template::DueSoon,
        Template::Overdue,
        Template::Escalated,
        Template::Digest,
    ];

    /// The stable name used in storage and the API (the serde name).
    pub fn code(self) -> &'static str {
        match self {
            Template::Received => "received",
            Template::SupplementRequested => "supplement_requested",
            Template::PaymentRequested => "payment_requested",
            Template::PaymentReceived => "payment_received",
            Template::ResultReady => "result_ready",
            Template::Apology => "apology",
            Template::Refused => "refused",
            Template::DueSoon => "due_soon",
            Template::Overdue => "overdue",
            Template::Escalated => "escalated",
            Template::Digest => "digest",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Whether it goes to the applicant rather than to officials or leaders.
    pub fn for_applicant(self) -> bool {
        matches!(
            self,
            Template::Received
                | Template::SupplementRequested
                | Template::PaymentRequested
                | Template::PaymentReceived
                | Template::ResultReady
                | Template::Apology
                | Template::Refused
        )
    }
}

/// The language of a message; Vietnamese unless the recipient chose English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    /// The serde name, also the BCP 47 tag.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// What a message says, gathered when the event is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// The dossier's code; empty for a digest.
    pub code: String,
    /// The procedure's name.
    pub procedure: String,
    /// The agency's name.
    pub agency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Already formatted, e.g. "17:00 20/11/2026".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_vnd: Option<i64>,
    /// The absolute URL of the dossier's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestFigures>,
}

/// One day's figures for a leader's digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestFigures {
    /// Already formatted, e.g. "02/12/2026".
    pub day: String,
    pub received: i64,
    pub resolved: i64,
    pub on_time: i64,
    pub in_progress: i64,
    pub overdue: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
    /// Short, for SMS and chat apps (aim ≤ 300 chars)
    pub text: String,
}

/// How long [`Message::text`] aims to be: two SMS segments of Vietnamese with its diacritics
/// take more, so the reason is what gets cut.
const TEXT_CHARS: usize = 300;

/// The message of `template` in `lang`. Facts that are absent or blank are left out.
pub fn render(template: Template, lang: Lang, facts: &Facts) -> Message {
    if template == Template::Digest {
        return digest(lang, facts);
    }
    let vi = lang == Lang::Vi;
    let code = facts.code.trim();
    let procedure = present(&facts.procedure);
    let agency = present(&facts.agency);
    let reason = facts.reason.as_deref().and_then(present);
    let due = facts.due.as_deref().and_then(present);
    let link = facts.link.as_deref().and_then(present);
    let amount = facts.amount_vnd.map(format_vnd);

    // " về thủ tục “…”" / " for “…”", or nothing without a procedure name.
    let about = match (procedure, vi) {
        (Some(p), true) => format!(" về thủ tục “{p}”"),
        (Some(p), false) => format!(" for “{p}”"),
        (None, _) => String::new(),
    };
    // The agency opening a sentence, and " tại …" / " at …" within one.
    let the_agency = agency.unwrap_or(if vi {
        "Cơ quan giải quyết"
    } else {
        "The agency"
    });
    let at = match (agency, vi) {
        (Some(a), true) => format!(" tại {a}"),
        (Some(a), false) => format!(" at {a}"),
        (None, _) => String::new(),
    };

    use Template::*;
    let subject = if vi {
        match template {
            Received => format!("Hồ sơ {code} đã được tiếp nhận"),
            SupplementRequested => format!("Hồ sơ {code} cần bổ sung"),
            PaymentRequested => format!("Hồ sơ {code}: đề nghị nộp phí, lệ phí"),
            PaymentReceived => format!("Hồ sơ {code}: đã nhận phí, lệ phí"),
            ResultReady => format!("Hồ sơ {code} đã có kết quả"),
            Apology => format!("Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}"),
            Refused => format!("Hồ sơ {code} không được tiếp nhận"),
            DueSoon => format!("Hồ sơ {code} sắp đến hạn"),
            Overdue => format!("Hồ sơ {code} đã quá hạn"),
            Escalated => format!("Hồ sơ {code} quá hạn chưa được xử lý"),
            Digest => unreachable!("rendered by digest()"),
        }
    } else {
        match template {
            Received => format!("Dossier {code} has been received"),
            SupplementRequested => format!("Dossier {code} needs more documents"),
            PaymentRequested => format!("Dossier {code}: fees to pay"),
            PaymentReceived => format!("Dossier {code}: fees received"),
            ResultReady => format!("Dossier {code}: the result is ready"),
            Apology => format!("Dossier {code}: our apology and a new date"),
            Refused => format!("Dossier {code} not accepted"),
            DueSoon => format!("Dossier {code} is due soon"),
            Overdue => format!("Dossier {code} is overdue"),
            Escalated => format!("Dossier {code} is overdue and still not resolved"),
            Digest => unreachable!("rendered by digest()"),
        }
    };

    let greeting = match (template.for_applicant(), template, vi) {
        (true, _, true) => "Kính gửi Quý ông/bà,",
        (true, _, false) => "Dear applicant,",
        (false, Escalated, true) => "Kính gửi Lãnh đạo đơn vị,",
        (false, Escalated, false) => "Dear head of unit,",
        (false, _, true) => "Kính gửi cán bộ xử lý hồ sơ,",
        (false, _, false) => "Dear officer,",
    };

    // What happened, then what to do about it.
    let (opening, advice): (String, Option<String>) = if vi {
        match template {
            Received => (
                format!("{the_agency} đã tiếp nhận hồ sơ {code}{about}."),
                Some("Quý ông/bà vui lòng giữ mã hồ sơ để tra cứu tình trạng giải quyết.".into()),
            ),
            SupplementRequested => (
                format!("{the_agency} đề nghị Quý ông/bà bổ sung, hoàn thiện hồ sơ {code}{about}."),
                None,
            ),
            PaymentRequested => (
                format!(
                    "{the_agency} đề nghị Quý ông/bà nộp phí, lệ phí để tiếp tục giải quyết hồ sơ {code}{about}."
                ),
                None,
            ),
            PaymentReceived => (
                format!("{the_agency} đã nhận phí, lệ phí của hồ sơ {code}{about}."),
                Some("Hồ sơ đang được tiếp tục giải quyết.".into()),
            ),
            ResultReady => (
                format!("Hồ sơ {code}{about} đã có kết quả giải quyết."),
                Some(match agency {
                    Some(a) => format!(
                        "Quý ông/bà vui lòng nhận kết quả tại {a} hoặc theo hình thức đã đăng ký."
                    ),
                    None => "Quý ông/bà vui lòng nhận kết quả theo hình thức đã đăng ký.".into(),
                }),
            ),
            Apology => (
                format!(
                    "{the_agency} chân thành xin lỗi Quý ông/bà vì hồ sơ {code}{about} chưa được giải quyết đúng hạn."
                ),
                Some("Rất mong Quý ông/bà thông cảm.".into()),
            ),
            Refused => (
                format!("{the_agency} không tiếp nhận hồ sơ {code}{about}."),
                Some("Quý ông/bà có thể liên hệ bộ phận một cửa để được hướng dẫn.".into()),
            ),
            DueSoon => (
                format!("Hồ sơ {code}{about}{at} sắp đến hạn giải quyết."),
                Some("Đề nghị hoàn thành việc xử lý trước thời hạn.".into()),
            ),
            Overdue => (
                format!("Hồ sơ {code}{about}{at} đã quá hạn giải quyết."),
                Some(
                    "Đề nghị khẩn trương xử lý và, nếu cần, gửi thư xin lỗi, hẹn lại ngày trả kết quả cho người nộp hồ sơ."
                        .into(),
                ),
            ),
            Escalated => (
                format!("Hồ sơ {code}{about}{at} đã quá hạn nhưng chưa được xử lý."),
                Some("Đề nghị chỉ đạo xử lý dứt điểm.".into()),
            ),
            Digest => unreachable!("rendered by digest()"),
        }
    } else {
        match template {
            Received => (
                format!("{the_agency} has received your dossier {code}{about}."),
                Some("Please keep the dossier code to follow its progress.".into()),
            ),
            SupplementRequested => (
                format!("{the_agency} asks you to complete your dossier {code}{about}."),
                None,
            ),
            PaymentRequested => (
                format!(
                    "{the_agency} asks you to pay the fees and charges so that your dossier {code}{about} can go on."
                ),
                None,
            ),
            PaymentReceived => (
                format!("{the_agency} has received the fees and charges paid on your dossier {code}{about}."),
                Some("Your dossier is going on.".into()),
            ),
            ResultReady => (
                format!("The result of your dossier {code}{about} is ready."),
                Some(match agency {
                    Some(a) => format!("Please collect it at {a} or in the way you chose when applying."),
                    None => "Please collect it in the way you chose when applying.".into(),
                }),
            ),
            Apology => (
                format!(
                    "{the_agency} sincerely apologises that your dossier {code}{about} has not been resolved on time."
                ),
                Some("Thank you for your patience.".into()),
            ),
            Refused => (
                format!("{the_agency} could not accept your dossier {code}{about}."),
                Some("You may contact the one-stop desk for guidance.".into()),
            ),
            DueSoon => (
                format!("Dossier {code}{about}{at} is nearly due."),
                Some("Please complete it before then.".into()),
            ),
            Overdue => (
                format!("Dossier {code}{about}{at} is past its due date."),
                Some(
                    "Please resolve it without delay and, if needed, send the applicant an apology with a new date."
                        .into(),
                ),
            ),
            Escalated => (
                format!("Dossier {code}{about}{at} is overdue and still not resolved."),
                Some("Please see that it is dealt with.".into()),
            ),
            Digest => unreachable!("rendered by digest()"),
        }
    };

    let labels = Labels::of(template, lang);
    let mut details: Vec<(&str, String)> = Vec::new();
    if let Some(amount) = &amount {
        details.push((labels.amount, amount.clone()));
    }
    if let Some(due) = due {
        details.push((labels.due, due.to_owned()));
    }

    let mut body = format!("{greeting}\n\n{opening}\n");
    if let Some(reason) = reason {
        body.push_str(&format!("{}: {reason}\n", labels.reason));
    }
    for (label, value) in &details {
        body.push_str(&format!("{label}: {value}\n"));
    }
    if let Some(advice) = &advice {
        body.push_str(advice);
        body.push('\n');
    }
    if let Some(link) = link {
        body.push_str(&format!("\n{}: {link}\n", labels.link));
    }
    body.push_str(&format!("\n{}\n", closing(lang)));

    let text = short_text(
        &subject,
        reason.map(|r| (labels.reason, r)),
        &details,
        link.map(|l| (labels.link, l)),
    );
    Message {
        subject,
        body,
        text,
    }
}

fn digest(lang: Lang, facts: &Facts) -> Message {
    let vi = lang == Lang::Vi;
    let figures = facts.digest.clone().unwrap_or_default();
    let day = present(&figures.day);
    let agency = present(&facts.agency);
    let link = facts.link.as_deref().and_then(present);
    let n = |v: i64| group_digits(v, if vi { '.' } else { ',' });

    let subject = match (day, vi) {
        (Some(d), true) => format!("Tổng hợp hồ sơ ngày {d}"),
        (Some(d), false) => format!("Dossiers on {d}"),
        (None, true) => "Tổng hợp hồ sơ".to_owned(),
        (None, false) => "Dossier summary".to_owned(),
    };
    let intro = match (agency, day, vi) {
        (Some(a), Some(d), true) => format!("Tình hình giải quyết hồ sơ tại {a} ngày {d}:"),
        (Some(a), None, true) => format!("Tình hình giải quyết hồ sơ tại {a}:"),
        (None, Some(d), true) => format!("Tình hình giải quyết hồ sơ ngày {d}:"),
        (None, None, true) => "Tình hình giải quyết hồ sơ:".to_owned(),
        (Some(a), Some(d), false) => format!("Dossiers at {a} on {d}:"),
        (Some(a), None, false) => format!("Dossiers at {a}:"),
        (None, Some(d), false) => format!("Dossiers on {d}:"),
        (None, None, false) => "Dossiers:".to_owned(),
    };
    let rows: [(&str, &str, i64); 5] = [
        ("Tiếp nhận", "Received", figures.received),
        ("Đã giải quyết", "Resolved", figures.resolved),
        ("Trong đó đúng hạn", "Of which on time", figures.on_time),
        ("Đang giải quyết", "In progress", figures.in_progress),
        ("Quá hạn", "Overdue", figures.overdue),
    ];

    let mut body = format!(
        "{}\n\n{intro}\n",
        if vi {
            "Kính gửi Lãnh đạo đơn vị,"
        } else {
            "Dear head of unit,"
        }
    );
    for (label_vi, label_en, value) in rows {
        body.push_str(&format!(
            "- {}: {}\n",
            if vi { label_vi } else { label_en },
            n(value)
        ));
    }
    if let Some(link) = link {
        body.push_str(&format!(
            "\n{}: {link}\n",
            if vi { "Xem chi tiết" } else { "Details" }
        ));
    }
    body.push_str(&format!("\n{}\n", closing(lang)));

    let place = agency.map(|a| format!(" ({a})")).unwrap_or_default();
    let mut text = if vi {
        format!(
            "{subject}{place}: tiếp nhận {}, đã giải quyết {} (đúng hạn {}), đang giải quyết {}, quá hạn {}.",
            n(figures.received),
            n(figures.resolved),
            n(figures.on_time),
            n(figures.in_progress),
            n(figures.overdue),
        )
    } else {
        format!(
            "{subject}{place}: received {}, resolved {} ({} on time), in progress {}, overdue {}.",
            n(figures.received),
            n(figures.resolved),
            n(figures.on_time),
            n(figures.in_progress),
            n(figures.overdue),
        )
    };
    if let Some(link) = link {
        text.push(' ');
        text.push_str(link);
    }
    Message {
        subject,
        body,
        text,
    }
}

/// The words before each fact, which depend on what the message is about.
struct Labels {
    reason: &'static str,
    amount: &'static str,
    due: &'static str,
    link: &'static str,
}

impl Labels {
    fn of(template: Template, lang: Lang) -> Self {
        use Template::*;
        let (reason, amount, due) = match (lang, template) {
            (Lang::Vi, SupplementRequested) => ("Nội dung cần bổ sung", "Số tiền", "Hạn bổ sung"),
            (Lang::Vi, PaymentRequested) => ("Nội dung", "Số tiền phải nộp", "Hạn nộp"),
            (Lang::Vi, PaymentReceived) => ("Nội dung", "Số tiền đã nộp", "Ngày hẹn trả kết quả"),
            (Lang::Vi, Received | ResultReady) => ("Ghi chú", "Số tiền", "Ngày hẹn trả kết quả"),
            (Lang::Vi, Apology) => ("Lý do", "Số tiền", "Ngày hẹn trả kết quả mới"),
            (Lang::Vi, Refused) => ("Lý do", "Số tiền", "Thời hạn"),
            (Lang::Vi, _) => ("Ghi chú", "Số tiền", "Hạn giải quyết"),
            (Lang::En, SupplementRequested) => ("What is needed", "Amount", "Please send it by"),
            (Lang::En, PaymentRequested) => ("For", "Amount to pay", "Please pay by"),
            (Lang::En, PaymentReceived) => ("For", "Amount paid", "Result expected by"),
            (Lang::En, Received | ResultReady) => ("Note", "Amount", "Result expected by"),
            (Lang::En, Apology) => ("Reason", "Amount", "New date for the result"),
            (Lang::En, Refused) => ("Reason", "Amount", "Date"),
            (Lang::En, _) => ("Note", "Amount", "Due"),
        };
        let link = match lang {
            Lang::Vi => "Xem hồ sơ",
            Lang::En => "View the dossier",
        };
        Labels {
            reason,
            amount,
            due,
            link,
        }
    }
}

fn closing(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => {
            "Trân trọng,\nCổng dịch vụ công — motcua\n(Thư được gửi tự động, xin vui lòng không trả lời.)"
        }
        Lang::En => {
            "Kind regards,\nPublic service portal — motcua\n(This message was sent automatically; please do not reply.)"
        }
    }
}

/// The text for SMS and chat: the subject, the facts, the link; the reason cut to what fits.
fn short_text(
    subject: &str,
    reason: Option<(&str, &str)>,
    others: &[(&str, String)],
    link: Option<(&str, &str)>,
) -> String {
    let mut head = format!("{subject}.");
    for (label, value) in others {
        head.push_str(&format!(" {label}: {}", sentence(value)));
    }
    let tail = link
        .map(|(label, l)| format!(" {label}: {l}"))
        .unwrap_or_default();
    let mut text = head;
    if let Some((label, reason)) = reason {
        let room = TEXT_CHARS.saturating_sub(
            text.chars().count() + tail.chars().count() + label.chars().count() + 3,
        );
        let whole = sentence(reason);
        // Too little room for a useful part of the reason: the body has it whole.
        if whole.chars().count() <= room {
            text.push_str(&format!(" {label}: {whole}"));
        } else if room >= 40 {
            let cut: String = reason.chars().take(room - 1).collect();
            text.push_str(&format!(" {label}: {}…", cut.trim_end()));
        }
    }
    text.push_str(&tail);
    text
}

/// `text` ending with a full stop unless it already ends with punctuation.
fn sentence(text: &str) -> String {
    if text.ends_with(['.', '!', '?', '…', ':', ';']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// Trimmed `text`, or None when blank.
fn present(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "001.00.00.H31-261203-0001";

    fn minimal() -> Facts {
        Facts {
            code: CODE.into(),
            procedure: "Đăng ký khai sinh".into(),
            agency: "UBND phường Hoàn Kiếm".into(),
            ..Facts::default()
        }
    }

    fn full() -> Facts {
        Facts {
            reason: Some("Thiếu bản sao giấy chứng nhận kết hôn".into()),
            due: Some("17:00 20/11/2026".into()),
            amount_vnd: Some(1_250_000),
            link: Some("https://dichvucong.example.vn/ho-so/001.00.00.H31-261203-0001".into()),
            digest: Some(DigestFigures {
                day: "02/12/2026".into(),
                received: 1_234,
                resolved: 10,
                on_time: 9,
                in_progress: 30,
                overdue: 2,
            }),
            ..minimal()
        }
    }

    fn assert_clean(m: &Message, context: &str) {
        for part in [&m.subject, &m.body, &m.text] {
            assert!(!part.trim().is_empty(), "{context}: empty part in {m:?}");
            for leak in ["None", "Some(", "{", "}"] {
                assert!(!part.contains(leak), "{context}: '{leak}' in {part:?}");
            }
        }
        assert!(
            !m.subject.contains('\n'),
            "{context}: a subject is one line"
        );
    }

    #[test]
    fn every_template_renders_in_both_languages() {
        for template in Template::ALL {
            for facts in [minimal(), full()] {
                let vi = render(template, Lang::Vi, &facts);
                let en = render(template, Lang::En, &facts);
                let context = format!("{template:?}");
                assert_clean(&vi, &context);
                assert_clean(&en, &context);
                assert_ne!(vi.subject, en.subject, "{context}");
                assert_ne!(vi.body, en.body, "{context}");
                assert_ne!(vi.text, en.text, "{context}");
                if template == Template::Digest {
                    if facts.digest.is_some() {
                        assert!(
                            vi.subject.contains("02/12/2026") && en.subject.contains("02/12/2026")
                        );
                    }
                } else {
                    assert!(
                        vi.subject.contains(CODE) && en.subject.contains(CODE),
                        "{context}"
                    );
                    assert!(
                        vi.text.contains(CODE) && en.text.contains(CODE),
                        "{context}"
                    );
                    assert!(vi.body.contains("Đăng ký khai sinh"), "{context}");
                    assert!(en.body.contains("Đăng ký khai sinh"), "{context}");
                }
                assert!(vi.body.contains("UBND phường Hoàn Kiếm"), "{context}");
                assert!(vi.body.contains("Cổng dịch vụ công — motcua"), "{context}");
                assert!(
                    en.body.contains("Public service portal — motcua"),
                    "{context}"
                );
                assert!(
                    vi.text.chars().count() <= TEXT_CHARS,
                    "{context}: {}",
                    vi.text
                );
                assert!(
                    en.text.chars().count() <= TEXT_CHARS,
                    "{context}: {}",
                    en.text
                );
            }
        }
    }

    #[test]
    fn the_subjects_read_as_specified() {
        let f = minimal();
        let subject = |t, l| render(t, l, &f).subject;
        assert_eq!(
            subject(Template::Received, Lang::Vi),
            format!("Hồ sơ {CODE} đã được tiếp nhận")
        );
        assert_eq!(
            subject(Template::Received, Lang::En),
            format!("Dossier {CODE} has been received")
        );
        assert_eq!(
            subject(Template::Apology, Lang::Vi),
            format!("Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {CODE}")
        );
        assert_eq!(
            subject(Template::Escalated, Lang::En),
            format!("Dossier {CODE} is overdue and still not resolved")
        );
        assert_eq!(
            render(Template::Digest, Lang::Vi, &full()).subject,
            "Tổng hợp hồ sơ ngày 02/12/2026"
        );
        assert_eq!(
            render(Template::Digest, Lang::En, &full()).subject,
            "Dossiers on 02/12/2026"
        );
    }

    #[test]
    fn given_facts_appear_and_absent_ones_do_not() {
        let facts = full();
        for template in Template::ALL.into_iter().filter(|&t| t != Template::Digest) {
            for lang in Lang::ALL {
                let m = render(template, lang, &facts);
                let context = format!("{template:?} {lang:?}");
                assert!(
                    m.body.contains("Thiếu bản sao giấy chứng nhận kết hôn"),
                    "{context}"
                );
                assert!(m.body.contains("1.250.000 đ"), "{context}");
                assert!(m.body.contains("17:00 20/11/2026"), "{context}");
                assert!(m.body.contains(facts.link.as_deref().unwrap()), "{context}");
                assert!(m.text.contains("17:00 20/11/2026"), "{context}");
                assert!(m.text.contains(facts.link.as_deref().unwrap()), "{context}");
                assert!(m.text.contains("Thiếu bản sao"), "{context}");

                let bare = render(template, lang, &minimal());
                for absent in [
                    "17:00",
                    " đ\n",
                    "http",
                    "Xem hồ sơ",
                    "View the dossier",
                    "Lý do",
                    "Reason",
                ] {
                    assert!(
                        !bare.body.contains(absent),
                        "{context}: '{absent}' in {}",
                        bare.body
                    );
                }
            }
        }
        let vi = render(Template::SupplementRequested, Lang::Vi, &facts).body;
        assert!(
            vi.contains("Nội dung cần bổ sung: Thiếu bản sao giấy chứng nhận kết hôn\n"),
            "{vi}"
        );
        assert!(vi.contains("Xem hồ sơ: https://"), "{vi}");
        let en = render(Template::PaymentRequested, Lang::En, &facts).body;
        assert!(en.contains("Amount to pay: 1.250.000 đ\n"), "{en}");
        assert!(en.contains("Please pay by: 17:00 20/11/2026\n"), "{en}");
    }

    #[test]
    fn blank_facts_are_left_out() {
        let facts = Facts {
            agency: "  ".into(),
            procedure: String::new(),
            reason: Some(" ".into()),
            due: Some(String::new()),
            link: Some(" ".into()),
            ..minimal()
        };
        let m = render(Template::Received, Lang::Vi, &facts);
        assert_clean(&m, "blank");
        assert!(
            m.body
                .contains(&format!("Cơ quan giải quyết đã tiếp nhận hồ sơ {CODE}.")),
            "{}",
            m.body
        );
        assert!(
            !m.body.contains("Ghi chú") && !m.body.contains("Xem hồ sơ") && !m.body.contains("“")
        );
        let m = render(Template::Overdue, Lang::En, &facts);
        assert!(
            m.body
                .contains(&format!("Dossier {CODE} is past its due date.")),
            "{}",
            m.body
        );
    }

    #[test]
    fn a_long_reason_is_cut_in_the_text_only() {
        let reason = "Thiếu giấy tờ ".repeat(60);
        let facts = Facts {
            reason: Some(reason.clone()),
            ..full()
        };
        let m = render(Template::SupplementRequested, Lang::Vi, &facts);
        assert!(m.body.contains(reason.trim()));
        assert!(m.text.chars().count() <= TEXT_CHARS, "{}", m.text);
        assert!(
            m.text.contains("Nội dung cần bổ sung: Thiếu giấy tờ") && m.text.contains('…'),
            "{}",
            m.text
        );
        assert!(
            m.text.ends_with(facts.link.as_deref().unwrap()),
            "{}",
            m.text
        );
    }

    #[test]
    fn digest_lists_the_figures() {
        let vi = render(Template::Digest, Lang::Vi, &full());
        for line in [
            "Tình hình giải quyết hồ sơ tại UBND phường Hoàn Kiếm ngày 02/12/2026:",
            "- Tiếp nhận: 1.234\n",
            "- Đã giải quyết: 10\n",
            "- Trong đó đúng hạn: 9\n",
            "- Đang giải quyết: 30\n",
            "- Quá hạn: 2\n",
            "Xem chi tiết: https://",
        ] {
            assert!(vi.body.contains(line), "'{line}' not in {}", vi.body);
        }
        let en = render(Template::Digest, Lang::En, &full());
        for line in [
            "- Received: 1,234\n",
            "- Resolved: 10\n",
            "- Of which on time: 9\n",
            "- In progress: 30\n",
            "- Overdue: 2\n",
        ] {
            assert!(en.body.contains(line), "'{line}' not in {}", en.body);
        }
        assert!(
            en.text
                .contains("received 1,234, resolved 10 (9 on time), in progress 30, overdue 2.")
        );
        let no_figures = render(Template::Digest, Lang::En, &Facts::default());
        assert_clean(&no_figures, "digest without figures");
        assert_eq!(no_figures.subject, "Dossier summary");
    }

    #[test]
    fn codes_round_trip() {
        for template in Template::ALL {
            assert_eq!(Template::from_code(template.code()), Some(template));
            let json = serde_json::to_string(&template).unwrap();
            assert_eq!(json, format!("\"{}\"", template.code()));
            assert_eq!(serde_json::from_str::<Template>(&json).unwrap(), template);
        }
        assert_eq!(Template::from_code("nope"), None);
        assert_eq!(
            Template::ALL.iter().filter(|t| t.for_applicant()).count(),
            7
        );
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
            assert_eq!(
                serde_json::to_string(&lang).unwrap(),
                format!("\"{}\"", lang.code())
            );
        }
        assert_eq!(Lang::default(), Lang::Vi);
        assert_eq!(Lang::from_code("fr"), None);
    }

    #[test]
    fn facts_serialize_without_absent_fields() {
        let json = serde_json::to_string(&minimal()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"code":"{CODE}","procedure":"Đăng ký khai sinh","agency":"UBND phường Hoàn Kiếm"}}"#
            )
        );
        let back: Facts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, minimal());
        let full = full();
        let back: Facts = serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
        assert_eq!(back, full);
    }
}
