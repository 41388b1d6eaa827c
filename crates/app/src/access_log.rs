//! "Who accessed my data": every read of a person's dossier or files by someone else is
//! recorded with its purpose and shown to that person. An auditor may withhold a record from
//! its subject for a limited time during an investigation; the withholding stays on the
//! record (who, why, until when) and auditors still see it.

use chrono::{DateTime, Duration, Utc};
use domain::user::{Role, User};
use store::AccessEntry;

use crate::{App, AppError, Result};

/// Why someone read a person's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessPurpose {
    /// Opened the dossier (its form data and history).
    View,
    /// Downloaded an attached file.
    Download,
    /// Printed a form of the dossier (receipt, request for supplement …).
    Print,
    /// An administrator read it under emergency (break-glass) access.
    BreakGlass,
    /// Asked to see the identifiers and contact details, masked until then.
    Reveal,
}

impl AccessPurpose {
    pub const ALL: [AccessPurpose; 5] = [
        AccessPurpose::View,
        AccessPurpose::Download,
        AccessPurpose::Print,
        AccessPurpose::BreakGlass,
        AccessPurpose::Reveal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AccessPurpose::View => "view",
            AccessPurpose::Download => "download",
            AccessPurpose::Print => "print",
            AccessPurpose::BreakGlass => "break_glass",
            AccessPurpose::Reveal => "reveal",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// (Vietnamese, English) for the person reading their log.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            AccessPurpose::View => ("Xem hồ sơ để xử lý", "Viewed the dossier to process it"),
            AccessPurpose::Download => ("Tải tệp đính kèm", "Downloaded an attached file"),
            AccessPurpose::Print => ("In biểu mẫu của hồ sơ", "Printed a form of the dossier"),
            AccessPurpose::BreakGlass => (
                "Quản trị viên xem trong tình huống khẩn cấp (được hai người phê duyệt)",
                "An administrator read it under emergency access (approved by two)",
            ),
            AccessPurpose::Reveal => (
                "Xem số định danh, thông tin liên hệ trong hồ sơ",
                "Viewed the identification numbers and contact details in the dossier",
            ),
        }
    }
}

/// The longest an access record may be withheld from its subject.
pub const MAX_WITHHOLD_DAYS: i64 = 90;
/// How many records a log page shows.
const LOG_LIMIT: i64 = 500;

impl App {
    /// The reads of the user's own data by others, newest first, without those withheld.
    pub async fn my_access_log(&self, user: &User) -> Result<Vec<AccessEntry>> {
        Ok(self
            .store
            .access_log(&user.username, Utc::now(), false, LOG_LIMIT)
            .await?)
    }

    /// An auditor's view of a person's access log, withheld records included.
    pub async fn access_log_of(&self, auditor: &User, subject: &str) -> Result<Vec<AccessEntry>> {
        only_auditors(auditor)?;
        Ok(self
            .store
            .access_log(subject, Utc::now(), true, LOG_LIMIT)
            .await?)
    }

    /// Withholds an access record from its subject until `until` (at most
    /// [`MAX_WITHHOLD_DAYS`] ahead), with the reason on the record.
    pub async fn withhold_access(
        &self,
        auditor: &User,
        id: i64,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<()> {
        only_auditors(auditor)?;
        let now = Utc::now();
        let mut errors = Vec::new();
        if until <= now || until > now + Duration::days(MAX_WITHHOLD_DAYS) {
            errors.push(domain::InvalidField::bilingual(
                "until",
                format!("withhold for between now and {MAX_WITHHOLD_DAYS} days ahead"),
                format!("chỉ được tạm ẩn trong tối đa {MAX_WITHHOLD_DAYS} ngày"),
            ));
        }
        if reason.trim().chars().count() < 10 {
            errors.push(domain::InvalidField::bilingual(
                "reason",
                "give the reason (at least 10 characters): it stays on the record",
                "nêu lý do (ít nhất 10 ký tự): lý do được lưu cùng bản ghi",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        // Withholding hides an official's read from the person: it goes to the privileged log
        // first, where the auditors see it.
        self.store
            .log_privileged(
                &auditor.username,
                "access_record_withheld",
                &serde_json::json!({ "record": id, "until": until, "reason": reason.trim() })
                    .to_string(),
                now,
            )
            .await?;
        if self
            .store
            .withhold_access(id, until, &auditor.username, reason.trim())
            .await?
        {
            tracing::info!(id, by = %auditor.username, %until, "access record withheld");
            Ok(())
        } else {
            Err(AppError::Conflict(format!(
                "access record {id} cannot be withheld: it does not exist, is withheld already, \
                 or records your own read"
            )))
        }
    }
}

fn only_auditors(user: &User) -> Result<()> {
    if user.role == Role::Auditor {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only auditors see and withhold access records".into(),
        ))
    }
}
