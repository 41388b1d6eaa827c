//! The record format of the National Public Service Portal's catalogue (DVCQG `LayThuTuc`),
//! with the portal's own field names, and its conversion to and from [`Procedure`].
//!
//! Parsing validates every record and reports each problem with the record's index, its code
//! and the path of the field, so that an operator can fix a file of thousands of records.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::text::normalize;
use crate::{
    Channel, ChannelOption, DocumentGroup, Fee, InvalidField, LegalDocument, Level, OnlineService,
    Procedure, ProcedureCode, ProcessingTime, RequiredDocument, Sector, StepGroup, TimeUnit,
};

/// The only currency unit the catalogue uses for fees.
const VND: &str = "Đồng";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    #[serde(rename = "MATTHC")]
    pub code: String,
    #[serde(rename = "TENTTHC")]
    pub name: String,
    #[serde(rename = "TRANGTHAI", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    #[serde(rename = "LINHVUCTHUCHIEN")]
    pub sectors: Vec<RecordSector>,
    #[serde(rename = "CAPTHUCHIEN")]
    pub levels: Vec<String>,
    #[serde(rename = "MUCDO")]
    pub online: String,
    #[serde(rename = "NHOM", default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(
        rename = "TRINHTUTHUCHIEN",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub steps: Vec<RecordStepGroup>,
    #[serde(
        rename = "CACHTHUCTHUCHIEN",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub channels: Vec<RecordChannel>,
    #[serde(
        rename = "THANHPHANHOSO",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub documents: Vec<RecordDocumentGroup>,
    #[serde(rename = "CANCUPHAPLY", default, skip_serializing_if = "Vec::is_empty")]
    pub legal_basis: Vec<RecordLegal>,
    #[serde(
        rename = "DOITUONGTHUCHIEN",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub target_groups: Vec<RecordTargetGroup>,
    #[serde(rename = "YEUCAU", default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
    #[serde(
        rename = "KETQUATHUCHIEN",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub results: Vec<RecordResult>,
    #[serde(
        rename = "COQUANTHUCHIEN",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub agencies: Vec<RecordAgency>,
    /// Effective date (motcua's addition to the format): `YYYY-MM-DD` or `DD/MM/YYYY`.
    #[serde(
        rename = "NGAYHIEULUC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_from: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSector {
    #[serde(rename = "MALINHVUC")]
    pub code: Option<String>,
    #[serde(rename = "TENLINHVUC")]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordStepGroup {
    #[serde(rename = "TRUONGHOP", default)]
    pub case: String,
    #[serde(rename = "TRINHTU")]
    pub steps: Vec<RecordStep>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordStep {
    #[serde(rename = "TENTRINHTU")]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordChannel {
    #[serde(rename = "KENH")]
    pub channel: i64,
    #[serde(rename = "THOIGIAN")]
    pub times: Vec<RecordTime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordTime {
    #[serde(
        rename = "THOIGIANGIAIQUYET",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<serde_json::Number>,
    #[serde(rename = "DONVITINH", default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(rename = "MOTA", default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "PHILEPHI", default)]
    pub fees: Vec<RecordFee>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordFee {
    #[serde(rename = "SOTIEN")]
    pub amount: i64,
    #[serde(rename = "DONVI")]
    pub unit: String,
    #[serde(rename = "MOTA", default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDocumentGroup {
    #[serde(rename = "TRUONGHOP", default)]
    pub case: String,
    #[serde(rename = "GIAYTO")]
    pub documents: Vec<RecordDocument>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDocument {
    #[serde(rename = "TENGIAYTO")]
    pub name: String,
    #[serde(rename = "TENMAUDON", default)]
    pub form_template: String,
    #[serde(rename = "SOLUONG", default)]
    pub quantity: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordLegal {
    #[serde(rename = "SOVANBAN")]
    pub number: String,
    #[serde(rename = "TENVANBAN", default)]
    pub title: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordTargetGroup {
    #[serde(rename = "TENDOITUONG")]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordResult {
    #[serde(rename = "TENKETQUA")]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordAgency {
    #[serde(rename = "TENDONVI")]
    pub name: String,
}

/// What is wrong with one record of a catalogue file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {index} ({}): field {field}: {reason}", code.as_deref().unwrap_or("no code"))]
pub struct RecordError {
    /// Zero-based position of the record in the file.
    pub index: usize,
    pub code: Option<String>,
    pub field: String,
    pub reason: String,
}

/// Why a catalogue file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("the file is not valid JSON: {0}")]
    NotJson(String),
    #[error("the file must be a JSON array of procedure records")]
    NotArray,
    #[error("the file has no procedure records")]
    Empty,
    #[error("{} invalid record(s); the first: {}", .0.len(), .0[0])]
    Records(Vec<RecordError>),
}

/// How many record errors are reported before giving up on a file.
const MAX_REPORTED: usize = 20;

/// Parses and validates a whole catalogue file: either every record is valid, or nothing is
/// returned. `default_effective_from` applies to records without `NGAYHIEULUC`.
pub fn parse_file(
    bytes: &[u8],
    levels: &[Level],
    default_effective_from: NaiveDate,
) -> Result<Vec<Procedure>, CatalogueError> {
    let values: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| CatalogueError::NotJson(e.to_string()))?;
    let serde_json::Value::Array(values) = values else {
        return Err(CatalogueError::NotArray);
    };
    if values.is_empty() {
        return Err(CatalogueError::Empty);
    }
    let mut procedures = Vec::with_capacity(values.len());
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (index, value) in values.into_iter().enumerate() {
        let code = value
            .get("MATTHC")
            .and_then(|c| c.as_str())
            .map(str::to_owned);
        let fail = |e: InvalidField| RecordError {
            index,
            code: code.clone(),
            field: e.field,
            reason: e.reason,
        };
        let parsed = parse_value(value)
            .and_then(|record| to_procedure(record, levels, default_effective_from));
        match parsed {
            Ok(p) => {
                if let Some(first) = seen.insert(p.code.clone(), index) {
                    errors.push(fail(InvalidField::new(
                        "MATTHC",
                        format!("duplicate of record {first}"),
                    )));
                }
                procedures.push(p);
            }
            Err(e) => errors.push(fail(e)),
        }
        if errors.len() >= MAX_REPORTED {
            break;
        }
    }
    if errors.is_empty() {
        Ok(procedures)
    } else {
        Err(CatalogueError::Records(errors))
    }
}

fn parse_value(value: serde_json::Value) -> Result<Record, InvalidField> {
    serde_path_to_error::deserialize::<_, Record>(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // serde names a missing field in the message, at the path of its parent.
        let field = match message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            Some(missing) if path == "." => missing.to_owned(),
            Some(missing) => format!("{path}.{missing}"),
            None => path,
        };
        InvalidField::new(field, message)
    })
}

fn non_empty(field: &str, text: &str) -> Result<String, InvalidField> {
    let text = normalize(text.trim());
    if text.is_empty() {
        Err(InvalidField::new(field, "must not be empty"))
    } else {
        Ok(text)
    }
}

fn optional_text(text: Option<String>) -> Option<String> {
    text.map(|t| normalize(t.trim())).filter(|t| !t.is_empty())
}

fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, InvalidField> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw.trim(), "%d/%m/%Y"))
        .map_err(|_| {
            InvalidField::new(
                field,
                format!("'{raw}' is not a date (YYYY-MM-DD or DD/MM/YYYY)"),
            )
        })
}

/// Validates one record and turns it into a procedure version.
pub fn to_procedure(
    record: Record,
    levels: &[Level],
    default_effective_from: NaiveDate,
) -> Result<Procedure, InvalidField> {
    let code = ProcedureCode::parse(&record.code)?;
    let name = non_empty("TENTTHC", &record.name)?;
    let in_force = match record.status {
        None => None,
        Some(1) => Some(true),
        Some(0) => Some(false),
        Some(other) => {
            return Err(InvalidField::new(
                "TRANGTHAI",
                format!("{other} is not 0 or 1"),
            ));
        }
    };
    if record.sectors.is_empty() {
        return Err(InvalidField::new(
            "LINHVUCTHUCHIEN",
            "at least one sector is required",
        ));
    }
    let sectors = record
        .sectors
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(Sector {
                code: optional_text(s.code),
                name: non_empty(&format!("LINHVUCTHUCHIEN[{i}].TENLINHVUC"), &s.name)?,
            })
        })
        .collect::<Result<Vec<_>, InvalidField>>()?;
    if record.levels.is_empty() {
        return Err(InvalidField::new(
            "CAPTHUCHIEN",
            "at least one level is required",
        ));
    }
    let levels = record
        .levels
        .iter()
        .enumerate()
        .map(|(i, name)| level_code(levels, name, i))
        .collect::<Result<Vec<_>, _>>()?;
    let online = OnlineService::from_catalogue_name(&record.online).ok_or_else(|| {
        InvalidField::new(
            "MUCDO",
            format!(
                "'{}' is not one of Toàn trình, Một phần, Cung cấp thông tin",
                record.online
            ),
        )
    })?;
    let effective_from = match &record.effective_from {
        Some(raw) => parse_date("NGAYHIEULUC", raw)?,
        None => default_effective_from,
    };
    let steps = record
        .steps
        .into_iter()
        .map(|g| StepGroup {
            case: normalize(&g.case),
            steps: g.steps.into_iter().map(|s| normalize(&s.text)).collect(),
        })
        .collect();
    let channels = record
        .channels
        .into_iter()
        .enumerate()
        .map(|(i, c)| to_channel(c, i))
        .collect::<Result<Vec<_>, _>>()?;
    let documents = record
        .documents
        .into_iter()
        .map(|g| DocumentGroup {
            case: normalize(&g.case),
            documents: g
                .documents
                .into_iter()
                .map(|d| RequiredDocument {
                    name: normalize(&d.name),
                    form_template: optional_text(Some(d.form_template)),
                    quantity: normalize(&d.quantity),
                })
                .collect(),
        })
        .collect();
    let legal_basis = record
        .legal_basis
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            Ok(LegalDocument {
                number: non_empty(&format!("CANCUPHAPLY[{i}].SOVANBAN"), &l.number)?,
                title: normalize(&l.title),
            })
        })
        .collect::<Result<Vec<_>, InvalidField>>()?;
    Ok(Procedure {
        code,
        name,
        effective_from,
        in_force,
        sectors,
        levels,
        online,
        group: optional_text(record.group),
        steps,
        channels,
        documents,
        legal_basis,
        target_groups: record
            .target_groups
            .into_iter()
            .map(|t| normalize(&t.name))
            .collect(),
        conditions: optional_text(record.conditions),
        results: record
            .results
            .into_iter()
            .map(|r| normalize(&r.name))
            .collect(),
        agencies: record
            .agencies
            .into_iter()
            .map(|a| normalize(&a.name))
            .collect(),
    })
}

fn level_code(levels: &[Level], name: &str, index: usize) -> Result<String, InvalidField> {
    let folded = crate::text::fold(name.trim());
    levels
        .iter()
        .find(|l| crate::text::fold(&l.catalogue_name) == folded || l.code == name)
        .map(|l| l.code.clone())
        .ok_or_else(|| {
            let known: Vec<&str> = levels.iter().map(|l| l.catalogue_name.as_str()).collect();
            InvalidField::new(
                format!("CAPTHUCHIEN[{index}]"),
                format!("unknown level '{name}'; known levels: {}", known.join(", ")),
            )
        })
}

fn to_channel(record: RecordChannel, index: usize) -> Result<ChannelOption, InvalidField> {
    let channel = Channel::from_national_code(record.channel).ok_or_else(|| {
        InvalidField::new(
            format!("CACHTHUCTHUCHIEN[{index}].KENH"),
            format!(
                "{} is not a channel (1 in person, 2 online, 3 postal)",
                record.channel
            ),
        )
    })?;
    let times = record
        .times
        .into_iter()
        .enumerate()
        .map(|(j, t)| {
            let at = format!("CACHTHUCTHUCHIEN[{index}].THOIGIAN[{j}]");
            let amount = t.amount.map(|n| n.as_f64().unwrap_or(f64::NAN));
            if let Some(a) = amount
                && !(a.is_finite() && a >= 0.0)
            {
                return Err(InvalidField::new(
                    format!("{at}.THOIGIANGIAIQUYET"),
                    "must be a number of at least 0",
                ));
            }
            let unit = match t.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                None => None,
                Some(u) => Some(TimeUnit::from_catalogue_name(u).ok_or_else(|| {
                    InvalidField::new(
                        format!("{at}.DONVITINH"),
                        format!("unknown unit '{u}'; use Ngày làm việc, Ngày, Giờ làm việc, Giờ or Tháng"),
                    )
                })?),
            };
            if amount.is_some() && unit.is_none() {
                return Err(InvalidField::new(
                    format!("{at}.DONVITINH"),
                    "a processing time needs its unit",
                ));
            }
            let fees = t
                .fees
                .into_iter()
                .enumerate()
                .map(|(k, f)| {
                    let fat = format!("{at}.PHILEPHI[{k}]");
                    if f.amount < 0 {
                        return Err(InvalidField::new(format!("{fat}.SOTIEN"), "must not be negative"));
                    }
                    if f.unit.trim() != VND {
                        return Err(InvalidField::new(
                            format!("{fat}.DONVI"),
                            format!("'{}' is not {VND}; amounts are in VND", f.unit),
                        ));
                    }
                    Ok(Fee { amount_vnd: f.amount, description: optional_text(f.description) })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ProcessingTime { amount, unit, description: optional_text(t.description), fees })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ChannelOption { channel, times })
}

/// Writes a procedure version back in the catalogue's format.
pub fn from_procedure(p: &Procedure, levels: &[Level]) -> Record {
    let level_name = |code: &str| {
        levels
            .iter()
            .find(|l| l.code == code)
            .map_or_else(|| code.to_owned(), |l| l.catalogue_name.clone())
    };
    Record {
        code: p.code.to_string(),
        name: p.name.clone(),
        status: p.in_force.map(i64::from),
        sectors: p
            .sectors
            .iter()
            .map(|s| RecordSector {
                code: s.code.clone(),
                name: s.name.clone(),
            })
            .collect(),
        levels: p.levels.iter().map(|l| level_name(l)).collect(),
        online: p.online.catalogue_name().to_owned(),
        group: p.group.clone(),
        steps: p
            .steps
            .iter()
            .map(|g| RecordStepGroup {
                case: g.case.clone(),
                steps: g
                    .steps
                    .iter()
                    .map(|s| RecordStep { text: s.clone() })
                    .collect(),
            })
            .collect(),
        channels: p
            .channels
            .iter()
            .map(|c| RecordChannel {
                channel: c.channel.national_code().into(),
                times: c.times.iter().map(record_time).collect(),
            })
            .collect(),
        documents: p
            .documents
            .iter()
            .map(|g| RecordDocumentGroup {
                case: g.case.clone(),
                documents: g
                    .documents
                    .iter()
                    .map(|d| RecordDocument {
                        name: d.name.clone(),
                        form_template: d.form_template.clone().unwrap_or_default(),
                        quantity: d.quantity.clone(),
                    })
                    .collect(),
            })
            .collect(),
        legal_basis: p
            .legal_basis
            .iter()
            .map(|l| RecordLegal {
                number: l.number.clone(),
                title: l.title.clone(),
            })
            .collect(),
        target_groups: p
            .target_groups
            .iter()
            .map(|t| RecordTargetGroup { name: t.clone() })
            .collect(),
        conditions: p.conditions.clone(),
        results: p
            .results
            .iter()
            .map(|r| RecordResult { name: r.clone() })
            .collect(),
        agencies: p
            .agencies
            .iter()
            .map(|a| RecordAgency { name: a.clone() })
            .collect(),
        effective_from: Some(p.effective_from.format("%Y-%m-%d").to_string()),
    }
}

fn record_time(t: &ProcessingTime) -> RecordTime {
    // Whole numbers are written as integers, as the portal writes them.
    let amount = t.amount.and_then(|a| {
        if a.fract() == 0.0 && a.abs() < 1e15 {
            Some(serde_json::Number::from(a as i64))
        } else {
            serde_json::Number::from_f64(a)
        }
    });
    RecordTime {
        amount,
        unit: t.unit.map(|u| u.catalogue_name().to_owned()),
        description: t.description.clone(),
        fees: t
            .fees
            .iter()
            .map(|f| RecordFee {
                amount: f.amount_vnd,
                unit: VND.to_owned(),
                description: f.description.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn levels() -> Vec<Level> {
        [("province", "Cấp Tỉnh", 1), ("commune", "Cấp Xã", 3)]
            .into_iter()
            .map(|(code, name, rank)| Level {
                code: code.into(),
                name_vi: name.into(),
                name_en: code.into(),
                catalogue_name: name.into(),
                rank,
                valid_until: None,
            })
            .collect()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
    }

    fn record_errors(json: &str) -> Vec<RecordError> {
        match parse_file(json.as_bytes(), &levels(), day()) {
            Err(CatalogueError::Records(errors)) => errors,
            other => panic!("expected record errors, got {other:?}"),
        }
    }

    const MINIMAL: &str = r#"{"MATTHC":"1.000001","TENTTHC":"Thủ tục A",
        "LINHVUCTHUCHIEN":[{"MALINHVUC":null,"TENLINHVUC":"Hộ tịch"}],
        "CAPTHUCHIEN":["Cấp Xã"],"MUCDO":"Một phần"}"#;

    #[test]
    fn parses_a_minimal_record() {
        let ps = parse_file(format!("[{MINIMAL}]").as_bytes(), &levels(), day()).unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].code.as_str(), "1.000001");
        assert_eq!(ps[0].levels, vec!["commune"]);
        assert_eq!(ps[0].online, OnlineService::Partial);
        assert_eq!(ps[0].effective_from, day());
        assert!(!ps[0].has_detail());
    }

    #[test]
    fn names_the_missing_field_and_the_record() {
        let errors = record_errors(&format!(
            r#"[{MINIMAL}, {{"MATTHC":"1.000002","LINHVUCTHUCHIEN":[],"CAPTHUCHIEN":[],"MUCDO":"x"}}]"#
        ));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].index, 1);
        assert_eq!(errors[0].code.as_deref(), Some("1.000002"));
        assert_eq!(errors[0].field, "TENTTHC");
    }

    #[test]
    fn names_nested_fields() {
        let bad_channel = MINIMAL.replace(
            r#""MUCDO":"Một phần""#,
            r#""MUCDO":"Một phần","CACHTHUCTHUCHIEN":[{"KENH":7,"THOIGIAN":[]}]"#,
        );
        let errors = record_errors(&format!("[{bad_channel}]"));
        assert_eq!(errors[0].field, "CACHTHUCTHUCHIEN[0].KENH");

        let bad_fee = MINIMAL.replace(
            r#""MUCDO":"Một phần""#,
            r#""MUCDO":"Một phần","CACHTHUCTHUCHIEN":[{"KENH":1,"THOIGIAN":[{"PHILEPHI":[{"SOTIEN":"abc","DONVI":"Đồng"}]}]}]"#,
        );
        let errors = record_errors(&format!("[{bad_fee}]"));
        assert_eq!(
            errors[0].field,
            "CACHTHUCTHUCHIEN[0].THOIGIAN[0].PHILEPHI[0].SOTIEN"
        );

        let missing_nested = MINIMAL.replace(
            r#""MUCDO":"Một phần""#,
            r#""MUCDO":"Một phần","CACHTHUCTHUCHIEN":[{"THOIGIAN":[]}]"#,
        );
        let errors = record_errors(&format!("[{missing_nested}]"));
        assert_eq!(errors[0].field, "CACHTHUCTHUCHIEN[0].KENH");
    }

    #[test]
    fn rejects_unknown_levels_and_duplicates() {
        let errors = record_errors(&format!("[{}]", MINIMAL.replace("Cấp Xã", "Cấp Thôn")));
        assert_eq!(errors[0].field, "CAPTHUCHIEN[0]");
        assert!(errors[0].reason.contains("Cấp Xã"));
        let errors = record_errors(&format!("[{MINIMAL},{MINIMAL}]"));
        assert_eq!((errors[0].index, errors[0].field.as_str()), (1, "MATTHC"));
    }

    #[test]
    fn rejects_files_that_are_not_catalogues() {
        assert!(matches!(
            parse_file(b"{", &levels(), day()),
            Err(CatalogueError::NotJson(_))
        ));
        assert_eq!(
            parse_file(b"{}", &levels(), day()),
            Err(CatalogueError::NotArray)
        );
        assert_eq!(
            parse_file(b"[]", &levels(), day()),
            Err(CatalogueError::Empty)
        );
    }
}
