//! A dossier as stored: what was applied for, where, by whom, and where it stands.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::DossierState;
use crate::attachment::AttachmentLink;
use crate::{AgencyCode, Channel, ProcedureCode};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dossier {
    pub code: String,
    pub procedure: ProcedureCode,
    /// The effective date of the procedure version in force when it was submitted.
    pub procedure_version: NaiveDate,
    /// The receiving agency.
    pub agency: AgencyCode,
    pub channel: Channel,
    /// The username of the applicant.
    pub applicant: String,
    pub state: DossierState,
    /// The e-form as filled in.
    pub form: serde_json::Value,
    pub submitted_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    /// The legal deadline, computed at reception in working days and stored.
    pub due_at: Option<DateTime<Utc>>,
    /// Since when the clock is paused for a supplement.
    pub paused_at: Option<DateTime<Utc>>,
    /// When processing ended (resolved, returned, stopped or refused; the first of them).
    pub ended_at: Option<DateTime<Utc>>,
    /// Goes up with every change; an action names the version it was decided on.
    pub version: i64,
    pub event_count: i64,
    pub last_event_hash: String,
}

/// What a submission stores; the code and the chain links are the store's to assign.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDossier {
    pub procedure: ProcedureCode,
    pub procedure_version: NaiveDate,
    pub agency: AgencyCode,
    pub channel: Channel,
    pub applicant: String,
    /// Who submitted: the applicant, or a reception officer for an in-person dossier.
    pub submitted_by: String,
    pub form: serde_json::Value,
    /// Uploaded files that become the dossier's documents in the same transaction.
    pub attachments: Vec<AttachmentLink>,
    pub submitted_at: DateTime<Utc>,
}

/// An application a citizen has started but not submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub id: String,
    pub username: String,
    pub procedure: ProcedureCode,
    pub agency: Option<AgencyCode>,
    pub form: serde_json::Value,
    /// Uploads chosen so far: (document name, upload id).
    pub attachments: Vec<(String, String)>,
    pub updated_at: DateTime<Utc>,
}

/// The applicant's verdict on the service (the index's satisfaction group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    VerySatisfied,
    Satisfied,
    Dissatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 3] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::Dissatisfied,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "very_satisfied",
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::Dissatisfied => "dissatisfied",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "Rất hài lòng",
            Satisfaction::Satisfied => "Hài lòng",
            Satisfaction::Dissatisfied => "Không hài lòng",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "Very satisfied",
            Satisfaction::Satisfied => "Satisfied",
            Satisfaction::Dissatisfied => "Not satisfied",
        }
    }
}

/// How the result reaches the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnMethod {
    /// Downloaded from the portal.
    Online,
    Postal,
    InPerson,
}

impl ReturnMethod {
    pub fn code(self) -> &'static str {
        match self {
            ReturnMethod::Online => "online",
            ReturnMethod::Postal => "postal",
            ReturnMethod::InPerson => "in_person",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            ReturnMethod::Online,
            ReturnMethod::Postal,
            ReturnMethod::InPerson,
        ]
        .into_iter()
        .find(|m| m.code() == code)
    }
}
