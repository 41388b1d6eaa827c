//! The dossier lifecycle's use cases: submit, act, read, look up, audit.
//!
//! Every function checks who is asking before it reads or writes: a citizen sees only their
//! own dossiers, an official only those of their agency's subtree, and each role takes only its
//! own actions. A dossier the caller may not see is "not found", so codes cannot be probed.

use chrono::{DateTime, Utc};
use domain::attachment::AttachmentLink;
use domain::calendar::OfficeHours;
use domain::dossier::record::{ReturnMethod, Satisfaction};
use domain::dossier::timeliness::extend_for_pause;
use domain::dossier::{Action, ChainError, Dossier, EventRecord, NewDossier, Status, verify_chain};
use domain::service::RESULT_DOCUMENT;
use domain::user::{Role, User};
use domain::{AgencyCode, Channel, OnlineService, ProcedureCode, TimeUnit};
use rand::RngCore;

use crate::services::Served;

use crate::AccessPurpose;
use crate::{App, AppError, Result};

/// How long an API token from `motcua token` lasts by default.
pub const TOKEN_DAYS: i64 = 30;
const LOOKUP_KEY: &str = "lookup_secret_key";
/// How many dossiers an audit reads at a time.
const AUDIT_BATCH: i64 = 2000;
/// How many audit batches are read at once.
const AUDIT_READ_AHEAD: usize = 2;

/// A submission as the applicant (or a reception officer) sends it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SubmitDossier {
    pub procedure: String,
    pub agency: String,
    pub channel: Channel,
    pub form: serde_json::Value,
    /// For a reception officer entering an in-person or postal dossier: whose it is.
    pub applicant: Option<String>,
    /// Earlier uploads, each named as one of the procedure's documents.
    #[serde(default)]
    pub attachments: Vec<AttachmentChoice>,
    /// The draft this submission completes; it is deleted once the dossier exists.
    #[serde(default)]
    pub draft: Option<String>,
}

/// An upload chosen as one of a dossier's documents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct AttachmentChoice {
    /// The document's name as the procedure lists it (or `result` for a result document).
    pub document: String,
    /// The upload's id.
    pub upload: String,
}

/// An action's input besides its name.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ActionInput {
    /// The dossier version the decision was made on.
    pub version: Option<i64>,
    pub reason: Option<String>,
    /// For a transfer (liên thông): the receiving agency.
    pub to_agency: Option<String>,
    /// For an apology: by how many working days the appointment moves.
    pub extend_working_days: Option<u32>,
    /// Files: supplemented documents, or the result document when resolving.
    #[serde(default)]
    pub attachments: Vec<AttachmentChoice>,
    /// A supplement's corrected e-form.
    pub form: Option<serde_json::Value>,
    /// A rating's verdict.
    pub satisfaction: Option<Satisfaction>,
    /// A rating's comment.
    pub comment: Option<String>,
    /// How the result goes back to the applicant.
    pub return_method: Option<ReturnMethod>,
    /// A fee request's amount, where neither the design nor the catalogue gives one.
    pub amount_vnd: Option<i64>,
    /// A fee request's exempt target group, as the official checked it.
    pub exemption: Option<String>,
    /// A refund's payment (by default the last paid one).
    pub payment: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Submitted {
    pub dossier: Dossier,
    /// The secret printed on the receipt for the public lookup.
    pub lookup_secret: String,
    /// False when an earlier submission with the same idempotency key was returned.
    pub created: bool,
}

/// How long a public status may be served from memory when another node changes the dossier.
pub const PUBLIC_STATUS_SECONDS: u64 = 2;

/// What anyone holding the receipt may see: no personal data.
#[derive(Debug, Clone)]
pub struct PublicStatus {
    pub code: String,
    pub procedure: String,
    pub procedure_name: String,
    pub agency: String,
    pub agency_name: String,
    pub status: Status,
    pub submitted_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct AuditReport {
    pub dossiers: u64,
    pub events: u64,
    /// The first place where the history does not hold together.
    pub first_error: Option<ChainError>,
}

impl App {
    pub async fn upsert_users(&self, users: &[User]) -> Result<()> {
        Ok(self.store.upsert_users(users).await?)
    }

    /// Submits a dossier. A retry with the same idempotency key returns the first result.
    pub async fn submit_dossier(
        &self,
        actor: &User,
        request: SubmitDossier,
        idempotency_key: Option<&str>,
    ) -> Result<Submitted> {
        let mut errors = Vec::new();
        let applicant = match (actor.role, &request.applicant) {
            (Role::Citizen, None) => actor.username.clone(),
            (Role::Citizen, Some(_)) => {
                return Err(AppError::Forbidden(
                    "a citizen submits only their own dossiers".into(),
                ));
            }
            (Role::Reception, Some(applicant)) => applicant.clone(),
            (Role::Reception, None) => {
                return Err(AppError::invalid(
                    "applicant",
                    "name the applicant of an in-person or postal dossier",
                ));
            }
            (role, _) => {
                return Err(AppError::Forbidden(format!(
                    "the {} role does not submit dossiers",
                    role.code()
                )));
            }
        };
        if actor.role == Role::Reception && request.channel == Channel::Online {
            errors.push(domain::InvalidField::new(
                "channel",
                "officials enter in-person or postal dossiers",
            ));
        }
        if actor.role == Role::Citizen && request.channel != Channel::Online {
            errors.push(domain::InvalidField::new(
                "channel",
                "online is the only channel for a submission over the internet",
            ));
        }
        if idempotency_key.is_some_and(|k| k.is_empty() || k.len() > 200) {
            errors.push(domain::InvalidField::new(
                "Idempotency-Key",
                "must be 1 to 200 characters",
            ));
        }
        let procedure = match ProcedureCode::parse(&request.procedure) {
            Err(_) => {
                errors.push(domain::InvalidField::new(
                    "procedure",
                    format!("'{}' is not a procedure code", request.procedure),
                ));
                None
            }
            Ok(code) => {
                let found = self.procedure_on(&code, crate::today()).await?;
                if found.is_none() {
                    errors.push(domain::InvalidField::new(
                        "procedure",
                        format!("no procedure has the code {code}"),
                    ));
                }
                found
            }
        };
        let agency = match AgencyCode::parse(&request.agency) {
            Err(e) => {
                errors.push(domain::InvalidField::new("agency", e.reason));
                None
            }
            Ok(code) => {
                let found = self.agency(&code).await?;
                if found.is_none() {
                    errors.push(domain::InvalidField::new(
                        "agency",
                        format!("no agency has the code {code}"),
                    ));
                }
                found
            }
        };
        if let (Some(p), Some(a)) = (&procedure, &agency) {
            if !p.levels.contains(&a.level) {
                errors.push(domain::InvalidField::new(
                    "agency",
                    format!(
                        "{} ({}) does not carry out procedure {}",
                        a.name, a.level, p.code
                    ),
                ));
            }
            let offered = p.channels.iter().any(|c| c.channel == request.channel)
                || (p.channels.is_empty() && request.channel != Channel::Online);
            if !offered || (request.channel == Channel::Online && p.online == OnlineService::None) {
                errors.push(domain::InvalidField::new(
                    "channel",
                    format!(
                        "procedure {} does not accept {:?} dossiers",
                        p.code, request.channel
                    ),
                ));
            }
        }
        let mut files = Vec::new();
        let mut design = None;
        if let Some(p) = &procedure {
            let served = self.served(p).await?;
            let needed = served.design.min_assurance;
            if actor.role == Role::Citizen && actor.assurance < needed {
                return Err(AppError::Forbidden(format!(
                    "procedure {} needs a sign-in with the national e-ID at level {} or above \
                     (đăng nhập bằng định danh điện tử mức độ {})",
                    p.code,
                    needed.level(),
                    needed.level()
                )));
            }
            errors.extend(served.form.check(&request.form).into_iter().map(Into::into));
            // In person and by post, the officer checks the paper documents at the counter.
            let all_required = request.channel == Channel::Online;
            files = self
                .check_files(
                    actor,
                    &served,
                    &request.attachments,
                    all_required,
                    false,
                    &mut errors,
                )
                .await?;
            design = Some(served);
        }
        if actor.role == Role::Reception {
            let visible = match &agency {
                Some(a) => self.within_subtree(actor, &a.code).await?,
                None => true,
            };
            if !visible {
                return Err(AppError::Forbidden(
                    "officials enter dossiers for their own agency".into(),
                ));
            }
            if self
                .store
                .user(&applicant)
                .await?
                .is_none_or(|u| u.role != Role::Citizen)
            {
                errors.push(domain::InvalidField::new(
                    "applicant",
                    format!("no citizen account is named {applicant}"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let (procedure, agency, served) = (
            procedure.expect("checked"),
            agency.expect("checked"),
            design.expect("checked with the procedure"),
        );
        let key = self.lookup_key().await?;
        let new = NewDossier {
            procedure: procedure.code.clone(),
            procedure_version: procedure.effective_from,
            agency: agency.code.clone(),
            channel: request.channel,
            applicant,
            submitted_by: actor.username.clone(),
            form: self.seal_personal(&served.form.fields, request.form)?,
            attachments: files,
            submitted_at: Utc::now(),
        };
        let created = self
            .store
            .create_dossier(&new, &self.code_template, idempotency_key)
            .await?;
        if let Some(draft) = &request.draft {
            // The dossier exists; a draft left behind would only be clutter.
            if let Some(d) = self.store.draft(draft).await?
                && d.username == actor.username
            {
                self.store.delete_draft(draft).await?;
            }
        }
        let lookup_secret = lookup_secret(&key, &created.dossier.code);
        Ok(Submitted {
            lookup_secret,
            // Whoever submitted it typed it in: it is shown back to them as typed.
            dossier: self.present(actor, created.dossier, true),
            created: created.created,
        })
    }

    /// A dossier with its history, for its applicant or an official of its agency's subtree.
    /// Identifiers and contact details are masked for officials unless `reveal`, which is
    /// recorded as its own access.
    pub async fn dossier_for(
        &self,
        actor: &User,
        code: &str,
        reveal: bool,
    ) -> Result<(Dossier, Vec<EventRecord>)> {
        let purpose = if reveal {
            AccessPurpose::Reveal
        } else {
            AccessPurpose::View
        };
        let dossier = self.visible_dossier(actor, code, Some(purpose)).await?;
        let events = self.store.dossier_events(code).await?;
        Ok((self.present(actor, dossier, reveal), events))
    }

    /// The dossiers the actor works with, newest first: a citizen's own ("my dossiers"), or an
    /// official's agency and everything below it (the queue).
    pub async fn list_dossiers(
        &self,
        actor: &User,
        status: Option<Status>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Dossier>> {
        if limit == 0 || limit > crate::MAX_LIMIT {
            return Err(AppError::invalid(
                "limit",
                format!("{limit} is not between 1 and {}", crate::MAX_LIMIT),
            ));
        }
        let scope = match (actor.role, &actor.agency) {
            (Role::Citizen, _) => store::DossierScope::Applicant(actor.username.clone()),
            (role, Some(agency)) if role.reads_agency_dossiers() => {
                store::DossierScope::AgencySubtree(agency.clone())
            }
            (role, Some(_)) => {
                return Err(AppError::Forbidden(format!(
                    "the {} role reads no dossiers (administrators open one only with break-glass access)",
                    role.code()
                )));
            }
            (role, None) => {
                return Err(AppError::Forbidden(format!(
                    "a {} without an agency sees no dossiers",
                    role.code()
                )));
            }
        };
        let filter = store::DossierFilter {
            scope,
            status,
            limit: limit as i64,
            offset: offset as i64,
        };
        Ok(self
            .store
            .list_dossiers(&filter)
            .await?
            .into_iter()
            .map(|d| self.present(actor, d, false))
            .collect())
    }

    /// Takes an action on a dossier, decided on the dossier at `input.version`.
    pub async fn act(
        &self,
        actor: &User,
        code: &str,
        action: Action,
        input: ActionInput,
    ) -> Result<Dossier> {
        let dossier = self.visible_dossier(actor, code, None).await?;
        if !actor.role.may(action) || action == Action::Submit {
            return Err(AppError::Forbidden(format!(
                "the {} role may not {}",
                actor.role.code(),
                action.code()
            )));
        }
        let Some(version) = input.version else {
            return Err(AppError::invalid(
                "version",
                "give the version of the dossier you decided on",
            ));
        };
        if version != dossier.version {
            return Err(AppError::Conflict(format!(
                "dossier {code} is at version {}, not {version}: someone acted on it since; reload it",
                dossier.version
            )));
        }
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let needs_reason = matches!(
            action,
            Action::Refuse
                | Action::RequestSupplement
                | Action::Stop
                | Action::ApologizeAndExtend
                | Action::Refund
        );
        if needs_reason && reason.is_none() {
            return Err(AppError::invalid(
                "reason",
                "this action needs a reason the applicant will read",
            ));
        }
        if !input.attachments.is_empty()
            && !matches!(
                action,
                Action::Supplement | Action::Resolve | Action::Receive
            )
        {
            return Err(AppError::invalid(
                "attachments",
                format!("{} takes no files", action.code()),
            ));
        }
        let state = dossier
            .state
            .apply(action)
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        let (procedure, served) = self
            .served_for(&dossier.procedure, dossier.procedure_version)
            .await?;
        let now = Utc::now();
        let mut effects = store::ActionEffects::default();
        let mut next = Dossier {
            state,
            ..dossier.clone()
        };
        let mut payload = serde_json::Map::new();
        if let Some(reason) = reason {
            payload.insert("reason".into(), reason.into());
        }
        let mut errors = Vec::new();
        let files = self
            .check_files(
                actor,
                &served,
                &input.attachments,
                false,
                action == Action::Resolve,
                &mut errors,
            )
            .await?;
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        match action {
            Action::Receive => {
                next.received_at = Some(now);
                next.due_at = self.due_at(&dossier, now).await?;
                if let Some(due) = next.due_at {
                    payload.insert("due_at".into(), due.to_rfc3339().into());
                }
            }
            Action::RequestSupplement if dossier.received_at.is_some() => {
                next.paused_at = Some(now)
            }
            Action::Supplement => {
                if let Some(form) = input.form {
                    if actor.assurance < served.design.min_assurance {
                        return Err(AppError::Forbidden(format!(
                            "changing this form needs a sign-in with the national e-ID at level {} \
                             (định danh điện tử mức độ {})",
                            served.design.min_assurance.level(),
                            served.design.min_assurance.level()
                        )));
                    }
                    let problems = served.form.check(&form);
                    if !problems.is_empty() {
                        return Err(AppError::Invalid(
                            problems.into_iter().map(Into::into).collect(),
                        ));
                    }
                    next.form = self.seal_personal(&served.form.fields, form)?;
                    payload.insert("form_changed".into(), true.into());
                }
                if let (Some(paused), Some(due)) = (dossier.paused_at, dossier.due_at) {
                    let due = extend_for_pause(&self.calendar(), due, paused, now);
                    next.due_at = Some(due);
                    payload.insert("due_at".into(), due.to_rfc3339().into());
                }
                next.paused_at = None;
            }
            Action::CompleteStep => {
                self.complete_step(&dossier, &served, actor, &input, &mut next, &mut payload)
                    .await?
            }
            Action::Transfer => {
                let target = self
                    .transfer_target(input.to_agency.as_deref(), None)
                    .await?;
                payload.insert("from_agency".into(), dossier.agency.to_string().into());
                payload.insert("to_agency".into(), target.to_string().into());
                next.agency = target;
            }
            Action::Resolve => {
                let last = served.design.steps.len() as u32 - 1;
                if dossier.state.steps_done < last {
                    let step = &served.design.steps[dossier.state.steps_done as usize];
                    return Err(AppError::Conflict(format!(
                        "step {} ({}) is not done yet: the approval comes last",
                        dossier.state.steps_done + 1,
                        step.name_en
                    )));
                }
                let has_result = files.iter().any(|f| f.document == RESULT_DOCUMENT)
                    || self
                        .store
                        .dossier_attachments(&dossier.code)
                        .await?
                        .iter()
                        .any(|a| a.document == RESULT_DOCUMENT);
                if !has_result {
                    return Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                        "attachments",
                        "attach the result document (document \"result\") to resolve",
                        "cần đính kèm văn bản kết quả giải quyết",
                    )]));
                }
                next.state.steps_done = last + 1;
                // A dossier handled elsewhere (liên thông) goes back to the one-stop shop
                // that received it, which returns the result.
                let events = self.store.dossier_events(&dossier.code).await?;
                let receiving = events
                    .first()
                    .and_then(|e| e.agency.as_deref())
                    .and_then(|a| AgencyCode::parse(a).ok());
                if let Some(receiving) = receiving.filter(|r| *r != dossier.agency) {
                    payload.insert("from_agency".into(), dossier.agency.to_string().into());
                    payload.insert("to_agency".into(), receiving.to_string().into());
                    next.agency = receiving;
                }
            }
            Action::RequestPayment => {
                let assessment = self.assess_fees(&dossier, &procedure, &served, &input)?;
                payload.insert("amount_vnd".into(), assessment.total_vnd.into());
                payload.insert("fees".into(), serde_json::json!(assessment.lines));
                if let Some(group) = assessment.exemption {
                    payload.insert("exemption".into(), group.into());
                }
            }
            Action::Refund => {
                let paid = self.refundable(&dossier.code, input.payment).await?;
                payload.insert("payment".into(), paid.id.into());
                payload.insert("amount_vnd".into(), paid.amount_vnd.into());
                effects.payment = Some(store::PaymentChange::Refund {
                    id: paid.id,
                    reason: reason.unwrap_or_default().to_owned(),
                    at: now,
                });
            }
            Action::Return => {
                let method = input.return_method.unwrap_or(ReturnMethod::Online);
                payload.insert("method".into(), method.code().into());
            }
            Action::Rate => {
                let satisfaction = input.satisfaction.ok_or_else(|| {
                    AppError::Invalid(vec![domain::InvalidField::bilingual(
                        "satisfaction",
                        "choose very_satisfied, satisfied or dissatisfied",
                        "hãy chọn rất hài lòng, hài lòng hoặc không hài lòng",
                    )])
                })?;
                payload.insert("satisfaction".into(), satisfaction.code().into());
                let comment = input.comment.as_deref().map(str::trim).unwrap_or_default();
                if comment.chars().count() > 1000 {
                    return Err(AppError::invalid("comment", "keep it to 1000 characters"));
                }
                if !comment.is_empty() {
                    payload.insert("comment".into(), comment.into());
                }
            }
            Action::ApologizeAndExtend => {
                let days = input
                    .extend_working_days
                    .filter(|d| (1..=60).contains(d))
                    .ok_or_else(|| {
                        AppError::invalid(
                            "extend_working_days",
                            "give the new appointment as 1 to 60 more working days",
                        )
                    })?;
                let due = dossier.due_at.ok_or_else(|| {
                    AppError::Conflict("the dossier has no appointment to move".into())
                })?;
                let moved = self.calendar().due_at(
                    due,
                    days,
                    TimeUnit::WorkingDays,
                    &OfficeHours::default(),
                );
                next.due_at = Some(moved);
                payload.insert("due_at".into(), moved.to_rfc3339().into());
            }
            _ => {}
        }
        if !files.is_empty() {
            let listed: Vec<serde_json::Value> =
                files.iter().map(AttachmentLink::event_entry).collect();
            payload.insert("attachments".into(), listed.into());
        }
        if next.state.status.ends_processing() && next.ended_at.is_none() {
            next.ended_at = Some(now);
        }
        if matches!(next.state.status, Status::Stopped | Status::Withdrawn) {
            next.paused_at = None;
        }
        effects.notices = self
            .applicant_notices(&procedure, &next, action, &payload)
            .await?;
        let event = EventRecord {
            dossier_code: dossier.code.clone(),
            sequence: 0,
            at: now,
            actor: actor.username.clone(),
            agency: actor.agency.as_ref().map(ToString::to_string),
            action,
            from_status: dossier.state.status,
            to_status: next.state.status,
            payload: serde_json::Value::Object(payload).to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        };
        let stored = self
            .store
            .record_action(
                &next,
                version,
                event,
                &files,
                &domain::stats::Tally::of(&dossier),
                effects,
            )
            .await?;
        self.public_statuses.invalidate(&stored.code);
        if matches!(action, Action::CompleteStep | Action::Resolve) {
            self.count_step_time(&dossier, &served, now).await;
        }
        if action == Action::RequestSupplement
            && let Some(reason) = reason
        {
            let key = crate::analytics::reason_key(reason);
            self.add_form_counts(&stored.procedure, &[("supplement_reason", key, 1)])
                .await;
        }
        if action == Action::Resolve {
            let issuer = actor.agency.as_ref().unwrap_or(&stored.agency);
            // Unsigned results are signed when first asked for, so a failure here loses nothing.
            if let Err(e) = self.sign_results(&stored.code, issuer.as_str()).await {
                tracing::warn!(dossier = %stored.code, error = %e, "the results could not be signed yet");
            }
        }
        Ok(self.present(actor, stored, false))
    }

    /// Finishes the dossier's current handler step. When the next step belongs to another
    /// level, the dossier moves to the agency named in `to_agency` (liên thông); the legal
    /// clock goes on.
    async fn complete_step(
        &self,
        dossier: &Dossier,
        served: &Served,
        actor: &User,
        input: &ActionInput,
        next: &mut Dossier,
        payload: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        let steps = &served.design.steps;
        let current = dossier.state.steps_done as usize;
        let step = steps.get(current).ok_or_else(|| {
            AppError::Conflict("every step is done: the dossier waits to be resolved".into())
        })?;
        if step.role != actor.role {
            return Err(AppError::Conflict(format!(
                "step {} ({}) is for the {} role; resolve the dossier to approve it",
                current + 1,
                step.name_en,
                step.role.code()
            )));
        }
        payload.insert("step".into(), (current + 1).into());
        payload.insert("step_name".into(), step.name_vi.clone().into());
        let here = self
            .agency(&dossier.agency)
            .await?
            .map(|a| a.level)
            .unwrap_or_default();
        let next_level = steps
            .get(current + 1)
            .and_then(|s| s.level.clone())
            .filter(|level| *level != here);
        if input.to_agency.is_some() || next_level.is_some() {
            let target = self
                .transfer_target(input.to_agency.as_deref(), next_level.as_deref())
                .await?;
            payload.insert("from_agency".into(), dossier.agency.to_string().into());
            payload.insert("to_agency".into(), target.to_string().into());
            next.agency = target;
        }
        Ok(())
    }

    /// The agency a dossier moves to; it must exist and, when the step says so, be at `level`.
    async fn transfer_target(&self, to: Option<&str>, level: Option<&str>) -> Result<AgencyCode> {
        let field = "to_agency";
        let raw = to.ok_or_else(|| {
            let why = match level {
                Some(l) => format!("the next step is done at {l} level: name the agency"),
                None => "name the agency that takes the dossier over".into(),
            };
            AppError::invalid(field, why)
        })?;
        let code = AgencyCode::parse(raw).map_err(|e| AppError::invalid(field, e.reason))?;
        let agency = self
            .agency(&code)
            .await?
            .ok_or_else(|| AppError::invalid(field, format!("no agency has the code {code}")))?;
        if let Some(level) = level
            && agency.level != level
        {
            return Err(AppError::invalid(
                field,
                format!(
                    "{} is at {} level; the next step is done at {level} level",
                    agency.name, agency.level
                ),
            ));
        }
        Ok(code)
    }

    /// Checks chosen uploads: the actor's own, not yet attached, each named as one of the
    /// procedure's documents (or the result, where `result_allowed`); with `all_required`,
    /// every required document must be there. Problems go into `errors`.
    async fn check_files(
        &self,
        actor: &User,
        served: &Served,
        choices: &[AttachmentChoice],
        all_required: bool,
        result_allowed: bool,
        errors: &mut Vec<domain::InvalidField>,
    ) -> Result<Vec<AttachmentLink>> {
        let documents = &served.design.documents;
        let mut links = Vec::with_capacity(choices.len());
        for (i, choice) in choices.iter().enumerate() {
            let known = documents.iter().any(|d| d.name == choice.document)
                || (result_allowed && choice.document == RESULT_DOCUMENT);
            if !known {
                errors.push(domain::InvalidField::bilingual(
                    format!("attachments[{i}].document"),
                    format!("'{}' is not a document of this procedure", choice.document),
                    format!("'{}' không phải giấy tờ của thủ tục này", choice.document),
                ));
            }
            let field = format!("attachments[{i}].upload");
            match self.store.attachment(&choice.upload).await? {
                Some(a) if a.owner == actor.username && a.dossier_code.is_none() => {
                    links.push(AttachmentLink {
                        reused_from: self.store.reuse_source(&a.id).await?,
                        id: a.id,
                        document: choice.document.clone(),
                        sha256: a.sha256,
                    })
                }
                Some(a) if a.owner == actor.username => {
                    errors.push(domain::InvalidField::bilingual(
                        field,
                        format!("upload {} is already a document of another dossier", a.id),
                        format!("tệp {} đã thuộc hồ sơ khác", a.id),
                    ))
                }
                _ => errors.push(domain::InvalidField::bilingual(
                    field,
                    format!("you have no upload {}", choice.upload),
                    format!("không có tệp tải lên {} của bạn", choice.upload),
                )),
            }
        }
        if all_required {
            for missing in documents
                .iter()
                .filter(|d| d.required && !choices.iter().any(|c| c.document == d.name))
            {
                errors.push(domain::InvalidField::bilingual(
                    "attachments",
                    format!("missing document: {}", missing.name),
                    format!("thiếu giấy tờ: {}", missing.name),
                ));
            }
        }
        Ok(links)
    }

    /// The public status of a dossier, for whoever holds its code and receipt secret. The
    /// secret is checked first, so the answer does not tell whether a code exists.
    pub async fn lookup(&self, code: &str, secret: &str) -> Result<PublicStatus> {
        let not_found = || AppError::NotFound {
            what: "dossier with this code and secret",
            id: code.to_owned(),
        };
        let key = self.lookup_key().await?;
        let expected = lookup_secret(&key, code);
        if !secret.trim().eq_ignore_ascii_case(&expected) {
            return Err(not_found());
        }
        if let Some(status) = self.public_statuses.get(code) {
            return Ok(status);
        }
        let dossier = self.store.dossier(code).await?.ok_or_else(not_found)?;
        let procedure = self
            .procedure_on(&dossier.procedure, dossier.procedure_version)
            .await?;
        let agency = self.agency(&dossier.agency).await?;
        let status = PublicStatus {
            code: dossier.code,
            procedure: dossier.procedure.to_string(),
            procedure_name: procedure.map(|p| p.name.clone()).unwrap_or_default(),
            agency: dossier.agency.to_string(),
            agency_name: agency.map(|a| a.name).unwrap_or_default(),
            status: dossier.state.status,
            submitted_at: dossier.submitted_at,
            due_at: dossier.due_at,
        };
        self.public_statuses
            .insert(status.code.clone(), status.clone());
        Ok(status)
    }

    /// Checks every dossier's event chain against the head it records. Two batches are read
    /// at once (each on its own connection) while the one before is checked, so that the
    /// database, the decoding and the hashing keep both cores busy.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let mut report = AuditReport {
            dossiers: 0,
            events: 0,
            first_error: None,
        };
        let mut batches = std::collections::VecDeque::new();
        let mut after = String::new();
        let mut read_all = false;
        loop {
            while batches.len() < AUDIT_READ_AHEAD && !read_all {
                let store = self.store.clone();
                let start = after.clone();
                batches.push_back(tokio::spawn(async move {
                    store.chains_after(&start, AUDIT_BATCH).await
                }));
                // The last read (no dossiers after it) still reports events without a dossier.
                match self.store.batch_end(&after, AUDIT_BATCH).await? {
                    Some(end) => after = end,
                    None => read_all = true,
                }
            }
            let Some(batch) = batches.pop_front() else {
                return Ok(report);
            };
            let chains = batch
                .await
                .map_err(|e| AppError::Unavailable(e.to_string()))??;
            let (dossiers, events, error) = check_chains(&chains);
            report.dossiers += dossiers;
            report.events += events;
            if error.is_some() {
                report.first_error = error;
                batches.iter().for_each(|b| b.abort());
                return Ok(report);
            }
        }
    }

    /// The dossier if the actor may see it: its applicant, or an official of its agency's
    /// subtree. A read by anyone but the applicant is recorded with its purpose, for the
    /// applicant's "who accessed my data" (acting needs no record: the event is one).
    pub(crate) async fn visible_dossier(
        &self,
        actor: &User,
        code: &str,
        purpose: Option<AccessPurpose>,
    ) -> Result<Dossier> {
        let not_found = || AppError::NotFound {
            what: "dossier",
            id: code.to_owned(),
        };
        let dossier = self.store.dossier(code).await?.ok_or_else(not_found)?;
        let visible = match actor.role {
            Role::Citizen => dossier.applicant == actor.username,
            role if role.reads_agency_dossiers() => {
                self.within_subtree(actor, &dossier.agency).await?
            }
            _ => false,
        };
        let mut purpose = purpose;
        if !visible {
            // An administrator holding break-glass access reads any dossier (never acts on
            // one); each read goes to the privileged log and to the applicant's access log.
            if purpose.is_none() || !self.break_glass_read(actor, &dossier.code).await? {
                return Err(not_found());
            }
            purpose = Some(AccessPurpose::BreakGlass);
        }
        if let Some(purpose) = purpose.filter(|_| dossier.applicant != actor.username) {
            self.store
                .log_access(
                    &[(
                        dossier.applicant.clone(),
                        Some(dossier.code.clone()),
                        actor,
                        purpose.code(),
                    )],
                    chrono::Utc::now(),
                )
                .await?;
        }
        Ok(dossier)
    }

    /// Whether `agency` is the actor's agency or below it.
    pub(crate) async fn within_subtree(&self, actor: &User, agency: &AgencyCode) -> Result<bool> {
        match &actor.agency {
            Some(root) => self.is_under(root, agency).await,
            None => Ok(false),
        }
    }

    /// Whether `agency` is `root` or below it.
    pub(crate) async fn is_under(&self, root: &AgencyCode, agency: &AgencyCode) -> Result<bool> {
        let mut current = Some(agency.clone());
        // The tree is shallow (central, province, commune); the bound guards against a cycle.
        for _ in 0..16 {
            match current {
                None => return Ok(false),
                Some(code) if &code == root => return Ok(true),
                Some(code) => current = self.agency(&code).await?.and_then(|a| a.parent),
            }
        }
        Ok(false)
    }

    /// The legal deadline from the procedure version's processing time for the channel.
    async fn due_at(
        &self,
        dossier: &Dossier,
        received: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let Some(procedure) = self
            .procedure_on(&dossier.procedure, dossier.procedure_version)
            .await?
        else {
            return Ok(None);
        };
        Ok(
            processing_time(&procedure, dossier.channel).map(|(amount, unit)| {
                self.calendar()
                    .due_at(received, amount, unit, &OfficeHours::default())
            }),
        )
    }

    /// The server's key for receipt secrets, created on first use.
    /// A keyed hash for `purpose` (see [`keyed_digest`]).
    pub(crate) async fn keyed_hash(&self, purpose: &str, data: &str) -> Result<String> {
        Ok(keyed_digest(&self.lookup_key().await?, purpose, data))
    }

    pub(crate) async fn lookup_key(&self) -> Result<String> {
        let key = self
            .lookup_key
            .get_or_try_init(|| self.load_lookup_key())
            .await?;
        Ok(key.clone())
    }

    async fn load_lookup_key(&self) -> Result<String> {
        self.stored_secret(LOOKUP_KEY).await
    }

    /// A random key kept in `meta` under `name`: made on first use, then read.
    pub(crate) async fn stored_secret(&self, name: &str) -> Result<String> {
        if let Some(key) = self.store.meta(name).await? {
            return Ok(key);
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = domain::text::hex(&bytes);
        self.store.set_meta_if_absent(name, &key).await?;
        // Another process may have set one first: use whatever is stored.
        Ok(self.store.meta(name).await?.unwrap_or(key))
    }
}

/// Verifies a batch of chains: how many dossiers and events, and the first break.
fn check_chains(chains: &[store::Chain]) -> (u64, u64, Option<ChainError>) {
    let mut events = 0;
    for (i, chain) in chains.iter().enumerate() {
        events += chain.events.len() as u64;
        if let Err(e) = verify_chain(
            &chain.dossier_code,
            &chain.events,
            &chain.last_event_hash,
            chain.event_count as u64,
        ) {
            return (i as u64 + 1, events, Some(e));
        }
    }
    (chains.len() as u64, events, None)
}

/// The processing time the catalogue states for a channel (else for any channel). A fraction
/// of a day still takes the whole day.
pub(crate) fn processing_time(
    procedure: &domain::Procedure,
    channel: Channel,
) -> Option<(u32, TimeUnit)> {
    procedure
        .channels
        .iter()
        .filter(|c| c.channel == channel)
        .chain(procedure.channels.iter())
        .flat_map(|c| &c.times)
        .find_map(|t| Some((t.amount?.ceil().max(0.0) as u32, t.unit?)))
}

/// HMAC-SHA-256 of `data` under the installation's secret key, kept apart per purpose.
pub(crate) fn keyed_digest(key: &str, purpose: &str, data: &str) -> String {
    let key = format!("{purpose}:{key}");
    domain::text::hex(&crate::hmac_sha256(key.as_bytes(), &[data.as_bytes()]))
}

/// The receipt's lookup secret: 8 characters derived from the dossier code with the server's
/// key, so it can be printed again and never needs storing.
pub(crate) fn lookup_secret(key: &str, code: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    crate::hmac_sha256(key.as_bytes(), &[code.as_bytes()])
        .iter()
        .take(8)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lookup_secrets_are_stable_and_keyed() {
        let a = super::lookup_secret("k1", "000.00.00.H31-261122-0001");
        assert_eq!(a.len(), 8);
        assert_eq!(a, super::lookup_secret("k1", "000.00.00.H31-261122-0001"));
        assert_ne!(a, super::lookup_secret("k2", "000.00.00.H31-261122-0001"));
        assert_ne!(a, super::lookup_secret("k1", "000.00.00.H31-261122-0002"));
    }
}
