//! What every form page shares: the errors of a form sent back, found by field for the
//! message beside each field, and listed for the summary at the top.

use domain::InvalidField;

use crate::desk::reason;
use crate::i18n::Lang;

/// A form's errors in the reader's language: (field, message).
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldErrors(pub(crate) Vec<(String, String)>);

impl FieldErrors {
    pub(crate) fn new(lang: Lang, errors: &[InvalidField]) -> Self {
        Self(
            errors
                .iter()
                .map(|e| (e.field.clone(), reason(lang, e)))
                .collect(),
        )
    }

    /// The message for one field, empty when it has none.
    pub(crate) fn of(&self, field: &str) -> String {
        self.0
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The summary's links: each field's element id (`prefix` + field) and its message.
    pub(crate) fn summary(&self, prefix: &str) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(f, m)| (format!("{prefix}{f}"), m.clone()))
            .collect()
    }
}

/// The agency tree as a select's options: code, and the name indented by its depth.
pub(crate) fn agency_options(tree: Vec<app::AgencyNode>) -> Vec<(String, String)> {
    tree.into_iter()
        .map(|n| {
            let label = format!("{}{}", "— ".repeat(n.depth), n.agency.name);
            (n.agency.code.to_string(), label)
        })
        .collect()
}
