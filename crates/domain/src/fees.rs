//! Fees and charges (phí, lệ phí) of a procedure, in integer VND, and what a dossier owes.
//!
//! A design lists its fees with the channels they apply to and the target groups exempt from
//! them (the catalogue states fees per channel but exemptions only in prose), so the amount
//! owed follows from the dossier's channel and the exemption the applicant claims.

use serde::{Deserialize, Serialize};

use crate::text::fold;
use crate::{Channel, InvalidField, Procedure};

/// Phí pays for a service; lệ phí is a state charge (Law on Fees and Charges 2015).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    Phi,
    LePhi,
}

impl FeeKind {
    pub fn name_vi(self) -> &'static str {
        match self {
            FeeKind::Phi => "Phí",
            FeeKind::LePhi => "Lệ phí",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            FeeKind::Phi => "Fee",
            FeeKind::LePhi => "Charge",
        }
    }
}

/// One fee of a design.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub name: String,
    pub kind: FeeKind,
    pub amount_vnd: i64,
    /// The channels it is charged on; empty means every channel.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Target groups exempt from it, e.g. "Người có công với cách mạng".
    #[serde(default)]
    pub exempt: Vec<String>,
}

impl Fee {
    fn applies_to(&self, channel: Channel) -> bool {
        self.channels.is_empty() || self.channels.contains(&channel)
    }

    /// The group as this fee spells it, if `folded` (see [`group_key`]) names one it exempts.
    fn exempt_group(&self, folded: &str) -> Option<&str> {
        self.exempt
            .iter()
            .map(|g| g.trim())
            .find(|g| group_key(g) == folded)
    }
}

/// One fee owed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    pub name: String,
    pub kind: FeeKind,
    pub amount_vnd: i64,
}

/// What a dossier owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub lines: Vec<FeeLine>,
    /// The exemption applied, as the design spells the group.
    pub exemption: Option<String>,
    pub total_vnd: i64,
}

/// A billion đồng: far above any fee of a procedure, so a larger amount is a typing error.
pub const MAX_AMOUNT_VND: i64 = 1_000_000_000;

/// Groups compare folded, with runs of spaces as one, so that "nguoi co cong  voi cach mang"
/// typed without accents still names "Người có công với cách mạng".
fn group_key(group: &str) -> String {
    fold(group).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fees owed for a dossier of `channel`, less those `exemption` (a target group) is exempt from.
///
/// An exemption no fee of the channel names is an error rather than ignored, since the
/// applicant would otherwise pay what they believe they are exempt from without being told.
/// A blank exemption is none.
pub fn assess(
    fees: &[Fee],
    channel: Channel,
    exemption: Option<&str>,
) -> Result<Assessment, InvalidField> {
    let applicable: Vec<&Fee> = fees.iter().filter(|f| f.applies_to(channel)).collect();
    let exemption = exemption.map(str::trim).filter(|e| !e.is_empty());
    let (key, spelled) = match exemption {
        None => (None, None),
        Some(group) => {
            let key = group_key(group);
            let Some(spelled) = applicable.iter().find_map(|f| f.exempt_group(&key)) else {
                return Err(InvalidField::bilingual(
                    "exemption",
                    format!("no fee of this procedure exempts '{group}'"),
                    format!("Không có khoản phí, lệ phí nào của thủ tục này miễn cho “{group}”"),
                ));
            };
            (Some(key), Some(spelled.to_owned()))
        }
    };
    let lines: Vec<FeeLine> = applicable
        .into_iter()
        .filter(|f| key.as_deref().is_none_or(|k| f.exempt_group(k).is_none()))
        .map(|f| FeeLine {
            name: f.name.clone(),
            kind: f.kind,
            amount_vnd: f.amount_vnd,
        })
        .collect();
    let total_vnd = lines
        .iter()
        .fold(0i64, |sum, l| sum.saturating_add(l.amount_vnd));
    Ok(Assessment {
        lines,
        exemption: spelled,
        total_vnd,
    })
}

/// What is wrong with a design's fee list, each error naming its field (`fees[0].amount_vnd`).
pub fn check(fees: &[Fee]) -> Vec<InvalidField> {
    let mut errors = Vec::new();
    for (i, fee) in fees.iter().enumerate() {
        if fee.name.trim().is_empty() {
            errors.push(InvalidField::bilingual(
                format!("fees[{i}].name"),
                "a fee needs a name",
                "Khoản phí, lệ phí cần có tên",
            ));
        }
        if !(0..=MAX_AMOUNT_VND).contains(&fee.amount_vnd) {
            errors.push(InvalidField::bilingual(
                format!("fees[{i}].amount_vnd"),
                format!(
                    "the amount must be from 0 to {} VND",
                    group_digits(MAX_AMOUNT_VND, ',')
                ),
                format!("Số tiền phải từ 0 đến {}", format_vnd(MAX_AMOUNT_VND)),
            ));
        }
        for (j, group) in fee.exempt.iter().enumerate() {
            if group.trim().is_empty() {
                errors.push(InvalidField::bilingual(
                    format!("fees[{i}].exempt[{j}]"),
                    "an exempt group needs a name",
                    "Đối tượng được miễn cần có tên",
                ));
            }
        }
    }
    errors
}

/// The catalogue's fees for `channel`, as charges (lệ phí) with no exemption: the catalogue
/// does not say which are phí, and states exemptions only in prose.
///
/// The catalogue repeats a fee under each processing time of a channel, so identical ones are
/// kept once; free (zero) entries are only the catalogue saying "no fee".
pub fn from_catalogue(procedure: &Procedure, channel: Channel) -> Vec<Fee> {
    let mut fees: Vec<Fee> = Vec::new();
    let stated = procedure
        .channels
        .iter()
        .filter(|c| c.channel == channel)
        .flat_map(|c| &c.times)
        .flat_map(|t| &t.fees)
        .filter(|f| f.amount_vnd != 0);
    for f in stated {
        let name = f
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .unwrap_or("Lệ phí");
        if fees
            .iter()
            .any(|seen| seen.amount_vnd == f.amount_vnd && seen.name == name)
        {
            continue;
        }
        fees.push(Fee {
            name: name.to_owned(),
            kind: FeeKind::LePhi,
            amount_vnd: f.amount_vnd,
            channels: vec![channel],
            exempt: Vec::new(),
        });
    }
    fees
}

/// An amount as Vietnamese write it: "1.250.000 đ".
pub fn format_vnd(amount: i64) -> String {
    format!("{} đ", group_digits(amount, '.'))
}

/// `amount` with its thousands separated by `separator` ('.' in Vietnamese, ',' in English).
pub fn group_digits(amount: i64, separator: char) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if amount < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::{ChannelOption, OnlineService, ProcessingTime};

    const MERIT: &str = "Người có công với cách mạng";

    fn fee(
        name: &str,
        kind: FeeKind,
        amount_vnd: i64,
        channels: &[Channel],
        exempt: &[&str],
    ) -> Fee {
        Fee {
            name: name.into(),
            kind,
            amount_vnd,
            channels: channels.to_vec(),
            exempt: exempt.iter().map(|&g| g.to_owned()).collect(),
        }
    }

    fn fees() -> Vec<Fee> {
        vec![
            fee("Lệ phí đăng ký", FeeKind::LePhi, 8_000, &[], &[MERIT]),
            fee(
                "Phí cấp bản sao",
                FeeKind::Phi,
                3_000,
                &[Channel::InPerson, Channel::Postal],
                &[],
            ),
            fee(
                "Phí chuyển phát",
                FeeKind::Phi,
                25_000,
                &[Channel::Postal],
                &["Hộ nghèo"],
            ),
        ]
    }

    fn names(a: &Assessment) -> Vec<&str> {
        a.lines.iter().map(|l| l.name.as_str()).collect()
    }

    #[test]
    fn lines_are_the_fees_of_the_channel() {
        let online = assess(&fees(), Channel::Online, None).unwrap();
        assert_eq!(names(&online), ["Lệ phí đăng ký"]);
        assert_eq!(online.total_vnd, 8_000);
        assert_eq!(online.exemption, None);

        let postal = assess(&fees(), Channel::Postal, None).unwrap();
        assert_eq!(
            names(&postal),
            ["Lệ phí đăng ký", "Phí cấp bản sao", "Phí chuyển phát"]
        );
        assert_eq!(postal.total_vnd, 36_000);
        assert_eq!(postal.lines[1].kind, FeeKind::Phi);
    }

    #[test]
    fn an_exemption_removes_the_fees_it_is_exempt_from() {
        let a = assess(&fees(), Channel::InPerson, Some(MERIT)).unwrap();
        assert_eq!(names(&a), ["Phí cấp bản sao"]);
        assert_eq!(a.total_vnd, 3_000);
        assert_eq!(a.exemption.as_deref(), Some(MERIT));

        // Typed without accents, in other case and spacing: the design's spelling is kept.
        let a = assess(
            &fees(),
            Channel::Online,
            Some("  nguoi co cong  VOI cach mang "),
        )
        .unwrap();
        assert!(a.lines.is_empty());
        assert_eq!(a.total_vnd, 0);
        assert_eq!(a.exemption.as_deref(), Some(MERIT));

        // A blank exemption is none.
        let a = assess(&fees(), Channel::Online, Some("  ")).unwrap();
        assert_eq!(a.total_vnd, 8_000);
        assert_eq!(a.exemption, None);
    }

    #[test]
    fn an_unknown_exemption_is_an_error_naming_the_field() {
        let err = assess(&fees(), Channel::Online, Some("Sinh viên")).unwrap_err();
        assert_eq!(err.field, "exemption");
        assert!(err.reason.contains("Sinh viên"), "{}", err.reason);
        assert!(err.reason_vi.as_deref().unwrap().contains("Sinh viên"));

        // "Hộ nghèo" is exempt only from the postal fee, which the online channel does not charge.
        let err = assess(&fees(), Channel::Online, Some("Hộ nghèo")).unwrap_err();
        assert_eq!(err.field, "exemption");
        let a = assess(&fees(), Channel::Postal, Some("Hộ nghèo")).unwrap();
        assert_eq!(a.total_vnd, 11_000);
    }

    #[test]
    fn no_fees_cost_nothing() {
        let a = assess(&[], Channel::Online, None).unwrap();
        assert!(a.lines.is_empty());
        assert_eq!(a.total_vnd, 0);
    }

    #[test]
    fn fee_serde_names_and_defaults() {
        let f: Fee =
            serde_json::from_str(r#"{"name":"Lệ phí","kind":"le_phi","amount_vnd":8000}"#).unwrap();
        assert_eq!(f, fee("Lệ phí", FeeKind::LePhi, 8_000, &[], &[]));
        assert!(
            serde_json::from_str::<Fee>(r#"{"name":"x","kind":"phi","amount_vnd":1,"amount":2}"#)
                .is_err()
        );
        let json =
            serde_json::to_string(&fee("x", FeeKind::Phi, 1, &[Channel::Postal], &[])).unwrap();
        assert!(json.contains(r#""kind":"phi""#) && json.contains(r#""channels":["postal"]"#));
    }

    #[test]
    fn check_names_each_bad_field() {
        assert!(check(&fees()).is_empty());
        let bad = vec![
            fee("Lệ phí", FeeKind::LePhi, MAX_AMOUNT_VND, &[], &[]),
            fee(" ", FeeKind::LePhi, -1, &[], &["Hộ nghèo", ""]),
            fee("Phí", FeeKind::Phi, MAX_AMOUNT_VND + 1, &[], &[]),
        ];
        let fields: Vec<String> = check(&bad).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "fees[1].name",
                "fees[1].amount_vnd",
                "fees[1].exempt[1]",
                "fees[2].amount_vnd"
            ]
        );
        assert!(check(&bad).iter().all(|e| e.reason_vi.is_some()));
    }

    #[test]
    fn catalogue_fees_of_the_channel() {
        let time = |fees: &[(i64, Option<&str>)]| ProcessingTime {
            amount: Some(5.0),
            unit: None,
            description: None,
            fees: fees
                .iter()
                .map(|&(amount_vnd, d)| crate::Fee {
                    amount_vnd,
                    description: d.map(str::to_owned),
                })
                .collect(),
        };
        let procedure = Procedure {
            code: crate::ProcedureCode::parse("1.000001").unwrap(),
            name: "Thủ tục A".into(),
            effective_from: chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
            in_force: Some(true),
            sectors: vec![],
            levels: vec![],
            online: OnlineService::Full,
            group: None,
            steps: vec![],
            channels: vec![
                ChannelOption {
                    channel: Channel::InPerson,
                    times: vec![
                        time(&[(8_000, Some(" Lệ phí cấp giấy ")), (0, Some("Miễn phí"))]),
                        time(&[
                            (8_000, Some("Lệ phí cấp giấy")),
                            (5_000, None),
                            (5_000, Some("")),
                        ]),
                    ],
                },
                ChannelOption {
                    channel: Channel::Online,
                    times: vec![time(&[(4_000, None)])],
                },
            ],
            documents: vec![],
            legal_basis: vec![],
            target_groups: vec![],
            conditions: None,
            results: vec![],
            agencies: vec![],
        };
        let in_person = from_catalogue(&procedure, Channel::InPerson);
        assert_eq!(
            in_person,
            [
                fee(
                    "Lệ phí cấp giấy",
                    FeeKind::LePhi,
                    8_000,
                    &[Channel::InPerson],
                    &[]
                ),
                fee("Lệ phí", FeeKind::LePhi, 5_000, &[Channel::InPerson], &[]),
            ]
        );
        assert_eq!(
            from_catalogue(&procedure, Channel::Online),
            [fee(
                "Lệ phí",
                FeeKind::LePhi,
                4_000,
                &[Channel::Online],
                &[]
            )]
        );
        assert!(from_catalogue(&procedure, Channel::Postal).is_empty());
        assert!(check(&in_person).is_empty());
    }

    #[test]
    fn formats_vnd() {
        assert_eq!(format_vnd(0), "0 đ");
        assert_eq!(format_vnd(500), "500 đ");
        assert_eq!(format_vnd(8_000), "8.000 đ");
        assert_eq!(format_vnd(100_000), "100.000 đ");
        assert_eq!(format_vnd(1_250_000), "1.250.000 đ");
        assert_eq!(format_vnd(-25_000), "-25.000 đ");
        assert_eq!(format_vnd(-999), "-999 đ");
        assert_eq!(format_vnd(i64::MIN), "-9.223.372.036.854.775.808 đ");
        assert_eq!(group_digits(1_000_000_000, ','), "1,000,000,000");
    }

    #[test]
    fn kind_names() {
        assert_eq!(FeeKind::Phi.name_vi(), "Phí");
        assert_eq!(FeeKind::LePhi.name_vi(), "Lệ phí");
        assert_eq!(FeeKind::Phi.name_en(), "Fee");
        assert_eq!(FeeKind::LePhi.name_en(), "Charge");
    }
}
