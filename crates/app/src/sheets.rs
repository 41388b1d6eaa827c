//! Everything the dossier pages and printed forms show about one dossier, gathered in one
//! call: the receipt, notices and the process control sheet come from the same facts.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::attachment::Attachment;
use domain::calendar::OfficeHours;
use domain::dossier::{Action, Dossier, EventRecord};
use domain::user::{Role, User};
use domain::{Agency, Procedure};

use crate::services::Served;
use crate::{App, Result};

/// A dossier with what it refers to, for someone who may see it.
#[derive(Debug, Clone)]
pub struct DossierContext {
    pub dossier: Dossier,
    pub events: Vec<EventRecord>,
    pub procedure: Arc<Procedure>,
    pub served: Arc<Served>,
    pub agency: Option<Agency>,
    /// The agency that received the dossier (the first event's).
    pub receiving_agency: Option<Agency>,
    pub applicant: Option<User>,
    pub files: Vec<Attachment>,
    /// The receipt's lookup secret; for the applicant and officials only.
    pub lookup_secret: String,
    pub steps: Vec<StepPlan>,
    /// Identifiers and contact details are in the clear (the applicant, a printed form, or an
    /// official who asked); otherwise masked.
    pub revealed: bool,
    /// The fee request the dossier awaits now, if any.
    pub fee_due: Option<crate::FeeRequest>,
    /// Its orders at the payment provider, oldest first.
    pub payments: Vec<store::Payment>,
    /// The notifications sent about it, with their delivery status.
    pub notifications: Vec<store::Notification>,
}

/// One workflow step: when it is due and when it was done.
#[derive(Debug, Clone)]
pub struct StepPlan {
    pub name_vi: String,
    pub name_en: String,
    pub role: Role,
    pub due_at: Option<DateTime<Utc>>,
    pub done: Option<(DateTime<Utc>, String)>,
}

impl App {
    /// Everything a dossier's page or printed form shows. A page masks identifiers and contact
    /// details for officials unless `reveal`; a printed form (`Print`) shows them, as paper does.
    pub async fn dossier_context(
        &self,
        actor: &User,
        code: &str,
        purpose: crate::AccessPurpose,
    ) -> Result<DossierContext> {
        let reveal = matches!(
            purpose,
            crate::AccessPurpose::Reveal | crate::AccessPurpose::Print
        );
        let dossier = self.visible_dossier(actor, code, Some(purpose)).await?;
        let dossier_is_own = dossier.applicant == actor.username;
        let dossier = self.present(actor, dossier, reveal);
        let events = self.store.dossier_events(code).await?;
        let (procedure, served) = self
            .served_for(&dossier.procedure, dossier.procedure_version)
            .await?;
        let agency = self.agency(&dossier.agency).await?;
        let receiving = events
            .first()
            .and_then(|e| e.agency.as_deref())
            .and_then(|a| domain::AgencyCode::parse(a).ok());
        let receiving_agency = match receiving {
            Some(code) => self.agency(&code).await?,
            None => None,
        };
        let applicant = self.store.user(&dossier.applicant).await?;
        let files = self.store.dossier_attachments(code).await?;
        let lookup_secret = crate::dossiers::lookup_secret(&self.lookup_key().await?, code);
        let steps = self.step_plan(&dossier, &procedure, &served, &events);
        let fee_due = (dossier.state.status == domain::dossier::Status::PaymentRequested)
            .then(|| crate::fee_request(&events))
            .flatten();
        let payments = self.store.dossier_payments(code).await?;
        let mut notifications = self.store.dossier_notifications(code).await?;
        if actor.role == domain::user::Role::Citizen {
            // The officials' own notices (due soon, overdue, escalated) are not the applicant's.
            notifications.retain(|n| n.recipient == actor.username);
        }
        Ok(DossierContext {
            fee_due,
            payments,
            notifications,
            dossier,
            events,
            procedure,
            served,
            agency,
            receiving_agency,
            applicant,
            files,
            lookup_secret,
            steps,
            revealed: reveal || dossier_is_own,
        })
    }

    /// Each step's deadline (its share of the legal time, counted from reception) and its
    /// completion as the events record it.
    fn step_plan(
        &self,
        dossier: &Dossier,
        procedure: &Procedure,
        served: &Served,
        events: &[EventRecord],
    ) -> Vec<StepPlan> {
        let time = crate::dossiers::processing_time(procedure, dossier.channel);
        let mut completions = events
            .iter()
            .filter(|e| matches!(e.action, Action::CompleteStep | Action::Resolve))
            .map(|e| (e.at, e.actor.clone()));
        served
            .design
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let due_at = match (dossier.received_at, time) {
                    (Some(received), Some((total, unit))) => Some(self.calendar().due_at(
                        received,
                        served.design.days_until_end_of(i, total),
                        unit,
                        &OfficeHours::default(),
                    )),
                    _ => None,
                };
                StepPlan {
                    name_vi: step.name_vi.clone(),
                    name_en: step.name_en.clone(),
                    role: step.role,
                    due_at,
                    done: completions.next(),
                }
            })
            .collect()
    }
}
