//! The domain of motcua: types and rules, with no I/O.
//!
//! Everything here is pure and synchronous so that every rule can be unit- and property-tested
//! without a database or a runtime.

pub mod agency;
pub mod attachment;
pub mod calendar;
pub mod catalogue;
pub mod dossier;
pub mod exchange;
pub mod feedback;
pub mod fees;
pub mod notify;
pub mod privilege;
pub mod procedure;
pub mod service;
pub mod service_index;
pub mod stats;
pub mod sync;
pub mod text;
pub mod user;

pub use agency::{Agency, AgencyCode, Level};
pub use procedure::{
    Channel, ChannelOption, DocumentGroup, Fee, LegalDocument, LifeEvent, OnlineService, Procedure,
    ProcedureCode, ProcessingTime, RequiredDocument, Sector, StepGroup, TimeUnit,
};

/// A value that failed validation, with the name of the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidField {
    pub field: String,
    /// In English; the words a program or an operator reads.
    pub reason: String,
    /// The same in Vietnamese, where the message is for the people filling a form.
    pub reason_vi: Option<String>,
}

impl InvalidField {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
            reason_vi: None,
        }
    }

    pub fn bilingual(
        field: impl Into<String>,
        reason_en: impl Into<String>,
        reason_vi: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            reason: reason_en.into(),
            reason_vi: Some(reason_vi.into()),
        }
    }
}
