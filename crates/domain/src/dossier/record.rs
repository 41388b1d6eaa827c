//! A dossier as stored: what was applied for, where, by whom, and where it stands.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::DossierState;
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
    pub submitted_at: DateTime<Utc>,
}
