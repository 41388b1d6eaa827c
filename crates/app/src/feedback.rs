//! Feedback and petitions (phản ánh, kiến nghị): citizens send, the agency's officials answer
//! within the deadline, published answers become the procedure's questions and answers.

use chrono::Utc;
use domain::InvalidField;
use domain::agency::AgencyCode;
use domain::calendar::OfficeHours;
use domain::feedback::{ANSWER_WORKING_DAYS, Answer, Feedback, check_answer, check_texts};
use domain::procedure::{ProcedureCode, TimeUnit};
use domain::user::{Role, User};
use store::NewFeedback;

use crate::{App, AppError, Result};

/// How many pieces of feedback a list shows.
const LIST_LIMIT: i64 = 200;

/// The officials who answer feedback (auditors read, they change nothing).
fn answers_feedback(role: Role) -> bool {
    matches!(
        role,
        Role::Reception | Role::Handler | Role::Approver | Role::Leader
    )
}

/// Feedback as it is typed.
#[derive(Debug, Clone, Default)]
pub struct SendFeedback {
    pub agency: String,
    /// Empty when it is about the agency's service rather than a procedure.
    pub procedure: String,
    pub subject: String,
    pub body: String,
}

impl App {
    /// Sends a citizen's feedback to an agency; the answer is due in
    /// [`ANSWER_WORKING_DAYS`] working days.
    pub async fn send_feedback(&self, actor: &User, sent: &SendFeedback) -> Result<i64> {
        if actor.role != Role::Citizen {
            return Err(AppError::Forbidden(
                "feedback is sent from a citizen's account".into(),
            ));
        }
        let mut errors = check_texts(&sent.subject, &sent.body);
        let agency = match AgencyCode::parse(sent.agency.trim()) {
            Ok(code) if self.agency(&code).await?.is_some() => Some(code),
            _ => {
                errors.push(InvalidField::bilingual(
                    "agency",
                    "choose the agency the feedback is for",
                    "chọn cơ quan nhận phản ánh, kiến nghị",
                ));
                None
            }
        };
        let procedure = match sent.procedure.trim() {
            "" => None,
            raw => match ProcedureCode::parse(raw) {
                Ok(code) if self.procedure_on(&code, crate::today()).await?.is_some() => Some(code),
                _ => {
                    errors.push(InvalidField::bilingual(
                        "procedure",
                        format!("no procedure has the code '{raw}'"),
                        format!("không có thủ tục mã '{raw}'"),
                    ));
                    None
                }
            },
        };
        let Some(agency) = agency.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let now = Utc::now();
        let due_at = self.calendar().due_at(
            now,
            ANSWER_WORKING_DAYS,
            TimeUnit::WorkingDays,
            &OfficeHours::default(),
        );
        Ok(self
            .store
            .add_feedback(&NewFeedback {
                author: actor.username.clone(),
                procedure,
                agency,
                subject: sent.subject.trim().to_owned(),
                body: sent.body.trim().to_owned(),
                created_at: now,
                due_at,
            })
            .await?)
    }

    /// A citizen's own feedback, with the answers.
    pub async fn own_feedback(&self, actor: &User) -> Result<Vec<Feedback>> {
        Ok(self.store.own_feedback(&actor.username, LIST_LIMIT).await?)
    }

    /// The feedback an official's agency (and those below it) has to answer.
    pub async fn feedback_desk(&self, actor: &User) -> Result<Vec<Feedback>> {
        let Some(root) = actor
            .agency
            .as_ref()
            .filter(|_| answers_feedback(actor.role))
        else {
            return Err(AppError::Forbidden(
                "feedback is answered by the officials of the agency it was sent to".into(),
            ));
        };
        Ok(self.store.agency_feedback(root, LIST_LIMIT).await?)
    }

    /// Answers a piece of feedback (once), publishing the answer if asked.
    pub async fn answer_feedback(
        &self,
        actor: &User,
        id: i64,
        text: &str,
        publish: bool,
    ) -> Result<()> {
        let not_found = || AppError::NotFound {
            what: "feedback",
            id: id.to_string(),
        };
        let feedback = self.store.feedback(id).await?.ok_or_else(not_found)?;
        if !answers_feedback(actor.role) || !self.within_subtree(actor, &feedback.agency).await? {
            return Err(not_found());
        }
        if let Some(error) = check_answer(text) {
            return Err(AppError::Invalid(vec![error]));
        }
        let answer = Answer {
            text: text.trim().to_owned(),
            by: actor.username.clone(),
            at: Utc::now(),
        };
        if !self.store.answer_feedback(id, &answer, publish).await? {
            return Err(AppError::Conflict(
                "this feedback has been answered already".into(),
            ));
        }
        Ok(())
    }

    /// Publishes an answer, or withdraws it from the public list (an official of the agency).
    pub async fn publish_feedback(&self, actor: &User, id: i64, publish: bool) -> Result<()> {
        let not_found = || AppError::NotFound {
            what: "feedback",
            id: id.to_string(),
        };
        let feedback = self.store.feedback(id).await?.ok_or_else(not_found)?;
        if !answers_feedback(actor.role) || !self.within_subtree(actor, &feedback.agency).await? {
            return Err(not_found());
        }
        if !self.store.publish_feedback(id, publish).await? {
            return Err(AppError::Conflict(
                "answer this feedback before publishing it".into(),
            ));
        }
        Ok(())
    }

    /// Published answers: a procedure's questions and answers, or all of them.
    pub async fn published_feedback(
        &self,
        procedure: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Feedback>> {
        let code = match procedure {
            Some(raw) => match ProcedureCode::parse(raw) {
                Ok(code) => Some(code),
                Err(_) => return Ok(Vec::new()),
            },
            None => None,
        };
        Ok(self
            .store
            .published_feedback(code.as_ref(), limit.clamp(1, LIST_LIMIT))
            .await?)
    }
}
