//! Administrative procedures (thủ tục hành chính) as the national catalogue describes them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::InvalidField;

/// National procedure code, e.g. `1.001193`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProcedureCode(String);

impl ProcedureCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(InvalidField::new("MATTHC", "the procedure code is empty"));
        }
        if raw.len() > Self::MAX_LEN
            || !raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(InvalidField::new(
                "MATTHC",
                format!("'{raw}' is not a procedure code like 1.001193"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Whether a search query looks like a procedure code rather than words.
    pub fn looks_like_code(query: &str) -> bool {
        let q = query.trim();
        q.contains('.') && q.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProcedureCode {
    type Error = InvalidField;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProcedureCode> for String {
    fn from(code: ProcedureCode) -> Self {
        code.0
    }
}

impl std::fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Submission channel; national codes 1, 2 and 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InPerson,
    Online,
    Postal,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::InPerson, Channel::Online, Channel::Postal];

    /// The stable name used in storage and the API (the serde name).
    pub fn code(self) -> &'static str {
        match self {
            Channel::InPerson => "in_person",
            Channel::Online => "online",
            Channel::Postal => "postal",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn national_code(self) -> u8 {
        match self {
            Channel::InPerson => 1,
            Channel::Online => 2,
            Channel::Postal => 3,
        }
    }

    pub fn from_national_code(code: i64) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| i64::from(c.national_code()) == code)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Channel::InPerson => "Trực tiếp",
            Channel::Online => "Trực tuyến",
            Channel::Postal => "Bưu chính công ích",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Channel::InPerson => "In person",
            Channel::Online => "Online",
            Channel::Postal => "Public postal service",
        }
    }
}

/// How much of a procedure can be done online (Decree 42/2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineService {
    /// Toàn trình: every step online.
    Full,
    /// Một phần: submission online, some steps in person.
    Partial,
    /// Information only; no online submission.
    None,
}

impl OnlineService {
    pub const ALL: [OnlineService; 3] = [
        OnlineService::Full,
        OnlineService::Partial,
        OnlineService::None,
    ];

    pub fn catalogue_name(self) -> &'static str {
        match self {
            OnlineService::Full => "Toàn trình",
            OnlineService::Partial => "Một phần",
            OnlineService::None => "Cung cấp thông tin",
        }
    }

    pub fn from_catalogue_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.catalogue_name().eq_ignore_ascii_case(name.trim()))
    }

    pub fn code(self) -> &'static str {
        match self {
            OnlineService::Full => "full",
            OnlineService::Partial => "partial",
            OnlineService::None => "none",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.code() == code)
    }

    pub fn name_en(self) -> &'static str {
        match self {
            OnlineService::Full => "Fully online",
            OnlineService::Partial => "Partly online",
            OnlineService::None => "Information only",
        }
    }
}

/// Unit of a legal processing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    WorkingDays,
    Days,
    WorkingHours,
    Hours,
    Months,
}

impl TimeUnit {
    pub const ALL: [TimeUnit; 5] = [
        TimeUnit::WorkingDays,
        TimeUnit::Days,
        TimeUnit::WorkingHours,
        TimeUnit::Hours,
        TimeUnit::Months,
    ];

    pub fn catalogue_name(self) -> &'static str {
        match self {
            TimeUnit::WorkingDays => "Ngày làm việc",
            TimeUnit::Days => "Ngày",
            TimeUnit::WorkingHours => "Giờ làm việc",
            TimeUnit::Hours => "Giờ",
            TimeUnit::Months => "Tháng",
        }
    }

    pub fn from_catalogue_name(name: &str) -> Option<Self> {
        let folded = crate::text::fold(name.trim());
        Self::ALL
            .into_iter()
            .find(|u| crate::text::fold(u.catalogue_name()) == folded)
    }

    pub fn name_en(self) -> &'static str {
        match self {
            TimeUnit::WorkingDays => "working days",
            TimeUnit::Days => "days",
            TimeUnit::WorkingHours => "working hours",
            TimeUnit::Hours => "hours",
            TimeUnit::Months => "months",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sector {
    pub code: Option<String>,
    pub name: String,
}

/// Steps for one case (trường hợp); an empty case name means the general case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepGroup {
    pub case: String,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fee {
    /// Integer VND; 0 means free.
    pub amount_vnd: i64,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessingTime {
    /// None when the catalogue says "not specified".
    pub amount: Option<f64>,
    pub unit: Option<TimeUnit>,
    pub description: Option<String>,
    pub fees: Vec<Fee>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelOption {
    pub channel: Channel,
    pub times: Vec<ProcessingTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequiredDocument {
    pub name: String,
    /// File name of the form template (mẫu đơn, tờ khai), if the document has one.
    pub form_template: Option<String>,
    /// E.g. "1 bản chính" (one original).
    pub quantity: String,
}

impl RequiredDocument {
    /// The template's file names: the catalogue lists several in one field, separated by ';'.
    pub fn form_files(&self) -> impl Iterator<Item = &str> {
        self.form_template
            .as_deref()
            .unwrap_or_default()
            .split(';')
            .map(str::trim)
            .filter(|f| !f.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentGroup {
    pub case: String,
    pub documents: Vec<RequiredDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegalDocument {
    pub number: String,
    pub title: String,
}

/// One version of a procedure, in force from `effective_from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Procedure {
    pub code: ProcedureCode,
    pub name: String,
    pub effective_from: NaiveDate,
    /// Whether the catalogue marks it in force (TRANGTHAI); None when unstated.
    pub in_force: Option<bool>,
    pub sectors: Vec<Sector>,
    /// [`crate::Level::code`]s of the levels that carry it out.
    pub levels: Vec<String>,
    pub online: OnlineService,
    /// The publishing portal's own grouping (not a national field).
    pub group: Option<String>,
    pub steps: Vec<StepGroup>,
    pub channels: Vec<ChannelOption>,
    pub documents: Vec<DocumentGroup>,
    pub legal_basis: Vec<LegalDocument>,
    pub target_groups: Vec<String>,
    pub conditions: Option<String>,
    pub results: Vec<String>,
    /// Names of the implementing agencies as the catalogue states them.
    pub agencies: Vec<String>,
}

impl Procedure {
    /// Whether the record carries more than its name and classification.
    pub fn has_detail(&self) -> bool {
        !(self.steps.is_empty() && self.channels.is_empty() && self.documents.is_empty())
    }

    /// The fee range over all channels, in VND, if any fee is stated.
    pub fn fee_range(&self) -> Option<(i64, i64)> {
        let amounts = self
            .channels
            .iter()
            .flat_map(|c| &c.times)
            .flat_map(|t| &t.fees)
            .map(|f| f.amount_vnd);
        amounts.fold(None, |acc, a| match acc {
            None => Some((a, a)),
            Some((lo, hi)) => Some((lo.min(a), hi.max(a))),
        })
    }

    /// Every form template file the required documents name.
    pub fn form_templates(&self) -> impl Iterator<Item = &str> {
        self.documents
            .iter()
            .flat_map(|g| &g.documents)
            .flat_map(RequiredDocument::form_files)
    }
}

/// A life event (nhóm sự kiện) groups the procedures a person meets at one moment of life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifeEvent {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub description_vi: String,
    pub procedures: Vec<ProcedureCode>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedure_codes() {
        assert!(ProcedureCode::parse("1.001193").is_ok());
        assert_eq!(
            ProcedureCode::parse(" 2.000528 ").unwrap().as_str(),
            "2.000528"
        );
        assert_eq!(ProcedureCode::parse("").unwrap_err().field, "MATTHC");
        assert!(ProcedureCode::parse("1.00 1193").is_err());
        assert!(ProcedureCode::looks_like_code("1.001193"));
        assert!(!ProcedureCode::looks_like_code("khai sinh"));
    }

    #[test]
    fn several_form_files_in_one_field() {
        let doc = RequiredDocument {
            name: "Tờ khai".into(),
            form_template: Some("Mus1.docx; Mus1a.docx;Mus1b.docx".into()),
            quantity: "1 bản chính".into(),
        };
        assert_eq!(
            doc.form_files().collect::<Vec<_>>(),
            ["Mus1.docx", "Mus1a.docx", "Mus1b.docx"]
        );
        let none = RequiredDocument {
            form_template: None,
            ..doc
        };
        assert_eq!(none.form_files().count(), 0);
    }

    #[test]
    fn catalogue_names_round_trip() {
        for u in TimeUnit::ALL {
            assert_eq!(TimeUnit::from_catalogue_name(u.catalogue_name()), Some(u));
        }
        assert_eq!(
            TimeUnit::from_catalogue_name("ngày làm việc"),
            Some(TimeUnit::WorkingDays)
        );
        assert_eq!(TimeUnit::from_catalogue_name("Tuần"), None);
        for o in OnlineService::ALL {
            assert_eq!(
                OnlineService::from_catalogue_name(o.catalogue_name()),
                Some(o)
            );
            assert_eq!(OnlineService::from_code(o.code()), Some(o));
        }
        for c in Channel::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.code());
            assert_eq!(Channel::from_code(c.code()), Some(c));
            assert_eq!(
                Channel::from_national_code(c.national_code().into()),
                Some(c)
            );
        }
        assert_eq!(Channel::from_national_code(4), None);
    }
}
