//! Query parameters of catalogue searches, shared by the HTML pages and the API so that both
//! accept and reject exactly the same input.

use app::{CatalogueSearch, MAX_LIMIT};

use domain::InvalidField;
use serde::Deserialize;

pub const DEFAULT_LIMIT: usize = 20;

/// Raw parameters: everything is text until validated, so a bad value gets an error that
/// names it instead of a generic rejection.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub page: Option<String>,
    pub sector: Option<String>,
    pub level: Option<String>,
    pub agency: Option<String>,
    pub online: Option<String>,
    pub event: Option<String>,
    pub facets: Option<String>,
}

fn number(name: &str, raw: Option<&str>, default: usize) -> Result<usize, InvalidField> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(default),
        Some(r) => r.parse::<usize>().map_err(|_| {
            InvalidField::new(name, format!("'{r}' is not a whole number of at least 0"))
        }),
    }
}

fn filter(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl SearchParams {
    /// Validates the parameters; `page` (1-based) is the HTML pages' way to say offset.
    pub fn to_search(&self) -> Result<CatalogueSearch, Vec<InvalidField>> {
        let mut errors = Vec::new();
        let mut take =
            |r: Result<usize, InvalidField>| r.map_err(|e| errors.push(e)).unwrap_or_default();
        let limit = take(number("limit", self.limit.as_deref(), DEFAULT_LIMIT));
        let mut offset = take(number("offset", self.offset.as_deref(), 0));
        let page = take(number("page", self.page.as_deref(), 1));
        let facets = match self.facets.as_deref().map(str::trim) {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                errors.push(InvalidField::new(
                    "facets",
                    format!("'{other}' is not true or false"),
                ));
                false
            }
        };
        if self.page.is_some() {
            if page == 0 {
                errors.push(InvalidField::new("page", "pages start at 1"));
            } else {
                offset = (page - 1).saturating_mul(limit.clamp(1, MAX_LIMIT));
            }
        }
        let search = CatalogueSearch {
            text: self.q.clone().unwrap_or_default(),
            sector: filter(&self.sector),
            level: filter(&self.level),
            agency: filter(&self.agency),
            online: filter(&self.online),
            life_event: filter(&self.event),
            limit,
            offset,
            facets,
        };
        // A value that is not a number was reported already; report only the others' ranges.
        let range_errors: Vec<InvalidField> = search
            .paging_errors()
            .into_iter()
            .filter(|e| !errors.iter().any(|earlier| earlier.field == e.field))
            .collect();
        errors.extend(range_errors);
        if errors.is_empty() {
            Ok(search)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_bad_parameters() {
        let p = SearchParams {
            offset: Some("-1".into()),
            limit: Some("x".into()),
            ..Default::default()
        };
        let errors = p.to_search().unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, vec!["limit", "offset"]);
    }

    #[test]
    fn pages_become_offsets() {
        let p = SearchParams {
            page: Some("3".into()),
            limit: Some("10".into()),
            ..Default::default()
        };
        assert_eq!(p.to_search().unwrap().offset, 20);
        let p = SearchParams {
            page: Some("0".into()),
            ..Default::default()
        };
        assert_eq!(p.to_search().unwrap_err()[0].field, "page");
    }
}
