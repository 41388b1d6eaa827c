//! Agencies (cơ quan, đơn vị) form a tree; each sits at an administrative level.

use serde::{Deserialize, Serialize};

use crate::InvalidField;

/// A level of government (cấp). Levels are data, not an enum: Vietnam dropped the district
/// level on 1 July 2025, and other countries have other shapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Stable code, e.g. `commune`.
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// The name the national catalogue uses in `CAPTHUCHIEN`, e.g. `Cấp Xã`.
    pub catalogue_name: String,
    /// 0 for the top; larger is closer to the citizen.
    pub rank: i32,
    /// Last day this level existed, if it was abolished.
    pub valid_until: Option<chrono::NaiveDate>,
}

/// National agency code (mã định danh, QCVN 102:2016), shaped `V1V2V3.Z1Z2.Y1Y2.MX1X2`,
/// e.g. `000.00.00.H31`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let parts: Vec<&str> = raw.split('.').collect();
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let ok = parts.len() == 4
            && digits(parts[0], 3)
            && digits(parts[1], 2)
            && digits(parts[2], 2)
            && parts[3].len() == 3
            && parts[3].as_bytes()[0].is_ascii_uppercase()
            && digits(&parts[3][1..], 2);
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidField::new(
                "code",
                format!("'{raw}' is not a national agency code like 000.00.00.H31"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AgencyCode {
    type Error = InvalidField;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AgencyCode> for String {
    fn from(code: AgencyCode) -> Self {
        code.0
    }
}

impl std::fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    pub code: AgencyCode,
    pub name: String,
    pub parent: Option<AgencyCode>,
    /// A [`Level::code`].
    pub level: String,
}

/// Orders agencies so that every parent comes before its children (depth-first, by code),
/// which is both the display order of the tree and a safe insertion order.
/// Agencies whose parent is missing are treated as roots.
pub fn tree_order(agencies: &[Agency]) -> Vec<(usize, &Agency)> {
    use std::collections::{BTreeMap, HashSet};
    let known: HashSet<&AgencyCode> = agencies.iter().map(|a| &a.code).collect();
    let mut children: BTreeMap<Option<&AgencyCode>, Vec<&Agency>> = BTreeMap::new();
    for agency in agencies {
        let parent = agency.parent.as_ref().filter(|p| known.contains(p));
        children.entry(parent).or_default().push(agency);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.code.cmp(&b.code));
    }
    let mut out = Vec::with_capacity(agencies.len());
    let mut stack: Vec<(usize, &Agency)> = children
        .get(&None)
        .into_iter()
        .flatten()
        .rev()
        .map(|a| (0, *a))
        .collect();
    while let Some((depth, agency)) = stack.pop() {
        out.push((depth, agency));
        if let Some(kids) = children.get(&Some(&agency.code)) {
            stack.extend(kids.iter().rev().map(|k| (depth + 1, *k)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency(code: &str, parent: Option<&str>) -> Agency {
        Agency {
            code: AgencyCode::parse(code).unwrap(),
            name: code.into(),
            parent: parent.map(|p| AgencyCode::parse(p).unwrap()),
            level: "commune".into(),
        }
    }

    #[test]
    fn parses_agency_codes() {
        assert!(AgencyCode::parse("000.00.00.H31").is_ok());
        assert!(AgencyCode::parse("001.12.34.G01").is_ok());
        for bad in [
            "",
            "000.00.00",
            "000.00.00.h31",
            "00.00.00.H31",
            "000.00.00.H3X",
        ] {
            let err = AgencyCode::parse(bad).unwrap_err();
            assert_eq!(err.field, "code", "{bad}");
        }
    }

    #[test]
    fn tree_order_puts_parents_first() {
        let list = vec![
            agency("001.01.00.H31", Some("000.00.00.H31")),
            agency("000.00.00.H31", None),
            agency("002.01.00.H31", Some("001.01.00.H31")),
            agency("000.00.00.H26", None),
        ];
        let order: Vec<(usize, &str)> = tree_order(&list)
            .into_iter()
            .map(|(d, a)| (d, a.code.as_str()))
            .collect();
        assert_eq!(
            order,
            vec![
                (0, "000.00.00.H26"),
                (0, "000.00.00.H31"),
                (1, "001.01.00.H31"),
                (2, "002.01.00.H31"),
            ]
        );
    }
}
