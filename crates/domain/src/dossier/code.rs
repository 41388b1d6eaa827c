//! Dossier codes (Circular 01/2018, art. 19): `<agency code>-YYMMDD-NNNN`, the receiving
//! agency, the day, and that agency's sequence number for the day. The layout is a template so
//! that another country or a later circular can change it.

use chrono::NaiveDate;

use crate::{AgencyCode, InvalidField};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Agency,
    /// A date in a chrono format, e.g. `%y%m%d`.
    Date(&'static str),
    /// The daily sequence, zero-padded to at least this width.
    Sequence(usize),
}

/// A parsed code template, e.g. `{agency}-{yymmdd}-{seq:4}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTemplate {
    parts: Vec<Part>,
}

impl Default for CodeTemplate {
    fn default() -> Self {
        Self::parse(Self::CIRCULAR_01_2018).expect("the default template is valid")
    }
}

impl CodeTemplate {
    pub const CIRCULAR_01_2018: &'static str = "{agency}-{yymmdd}-{seq:4}";

    /// Placeholders: `{agency}`, `{yymmdd}`, `{yyyymmdd}`, `{seq}` or `{seq:N}` (zero-padded to N
    /// digits). A template needs the agency, a date and the sequence, or codes could repeat.
    pub fn parse(template: &str) -> Result<Self, InvalidField> {
        let bad = |reason: String| InvalidField::new("dossier_code_template", reason);
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| bad(format!("'{template}' has an unclosed '{{'")))?;
            let name = &rest[open + 1..open + close];
            parts.push(match name {
                "agency" => Part::Agency,
                "yymmdd" => Part::Date("%y%m%d"),
                "yyyymmdd" => Part::Date("%Y%m%d"),
                "seq" => Part::Sequence(1),
                _ => match name.strip_prefix("seq:").and_then(|w| w.parse().ok()) {
                    Some(width) if (1..=9).contains(&width) => Part::Sequence(width),
                    _ => return Err(bad(format!("unknown placeholder {{{name}}}"))),
                },
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        for (needed, present) in [
            ("{agency}", parts.contains(&Part::Agency)),
            ("a date", parts.iter().any(|p| matches!(p, Part::Date(_)))),
            (
                "{seq}",
                parts.iter().any(|p| matches!(p, Part::Sequence(_))),
            ),
        ] {
            if !present {
                return Err(bad(format!("'{template}' needs {needed}")));
            }
        }
        Ok(Self { parts })
    }

    /// The code of the `sequence`-th dossier (from 1) received by `agency` on `day`.
    pub fn format(&self, agency: &AgencyCode, day: NaiveDate, sequence: u64) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(t) => t.clone(),
                Part::Agency => agency.to_string(),
                Part::Date(f) => day.format(f).to_string(),
                Part::Sequence(width) => format!("{sequence:0width$}"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circular_01_2018_codes() {
        let agency = AgencyCode::parse("000.00.00.H31").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let t = CodeTemplate::default();
        assert_eq!(t.format(&agency, day, 7), "000.00.00.H31-261122-0007");
        assert_eq!(
            t.format(&agency, day, 12345),
            "000.00.00.H31-261122-12345",
            "never truncated"
        );
        let custom = CodeTemplate::parse("HS/{yyyymmdd}/{agency}/{seq:6}").unwrap();
        assert_eq!(
            custom.format(&agency, day, 42),
            "HS/20261122/000.00.00.H31/000042"
        );
    }

    #[test]
    fn templates_that_could_repeat_are_refused() {
        for bad in [
            "{agency}-{yymmdd}",
            "{yymmdd}-{seq}",
            "{agency}-{seq}",
            "{agency}-{dd}-{seq}",
            "{agency-{seq}",
        ] {
            let err = CodeTemplate::parse(bad).unwrap_err();
            assert_eq!(err.field, "dossier_code_template", "{bad}");
        }
    }
}
