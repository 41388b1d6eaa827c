//! What every form page shares: the errors of a form sent back, found by field for the
//! message beside each field, and listed for the summary at the top.

use domain::InvalidField;

use crate::desk::reason;
use crate::i18n::Lang;
use crate::pages::PageError;
use crate::session::SignedIn;

/// The administration pages that are a system administrator's (the app checks again).
pub(crate) fn system_admin_only(
    lang: Lang,
    signed: &SignedIn,
    what: &str,
) -> Result<(), PageError> {
    if signed.user.role == domain::user::Role::SystemAdmin {
        Ok(())
    } else {
        Err(PageError::new(
            lang,
            app::AppError::Forbidden(format!("only system administrators {what}")),
        ))
    }
}

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
