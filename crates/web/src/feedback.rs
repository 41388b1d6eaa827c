//! Feedback and petitions (phản ánh, kiến nghị) in the browser: the published answers for
//! everyone, the citizen's form and their own feedback, and the officials' desk where they
//! answer within the deadline.

use app::SendFeedback;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use domain::InvalidField;
use domain::feedback::{Feedback, Standing};
use serde::Deserialize;

use crate::AppState;
use crate::desk::reason;
use crate::forms::{FieldErrors, agency_options};
use crate::i18n::Lang;
use crate::pages::{PageError, local_time, render};
use crate::session::SignedIn;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/feedback", get(published_page))
        .route("/feedback/new", get(form_page).post(send))
        .route("/desk/feedback", get(desk_page))
        .route("/desk/feedback/{id}/answer", post(answer))
        .route("/desk/feedback/{id}/publish", post(publish))
}

/// A piece of feedback as the pages show it.
pub(crate) struct FeedbackView {
    pub(crate) id: i64,
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) procedure: String,
    pub(crate) agency: String,
    pub(crate) sent: String,
    pub(crate) due: String,
    pub(crate) standing: &'static str,
    pub(crate) overdue: bool,
    pub(crate) answer: String,
    pub(crate) answered: String,
    pub(crate) published: bool,
}

pub(crate) fn feedback_view(lang: Lang, f: Feedback, agency: String) -> FeedbackView {
    let standing = f.standing(Utc::now());
    FeedbackView {
        id: f.id,
        standing: lang.t(match standing {
            Standing::Waiting => "feedback-waiting",
            Standing::Overdue => "feedback-overdue",
            Standing::Answered => "feedback-answered",
            Standing::AnsweredLate => "feedback-answered-late",
        }),
        overdue: standing == Standing::Overdue,
        subject: f.subject,
        body: f.body,
        procedure: f.procedure.map(|p| p.to_string()).unwrap_or_default(),
        agency,
        sent: local_time(f.created_at),
        due: local_time(f.due_at),
        answered: f
            .answer
            .as_ref()
            .map(|a| local_time(a.at))
            .unwrap_or_default(),
        answer: f.answer.map(|a| a.text).unwrap_or_default(),
        published: f.published,
    }
}

async fn views(
    state: &AppState,
    lang: Lang,
    list: Vec<Feedback>,
) -> Result<Vec<FeedbackView>, PageError> {
    let names: std::collections::HashMap<String, String> = state
        .app
        .agency_tree()
        .await
        .map_err(|e| PageError::new(lang, e))?
        .into_iter()
        .map(|n| (n.agency.code.to_string(), n.agency.name))
        .collect();
    Ok(list
        .into_iter()
        .map(|f| {
            let agency = names
                .get(f.agency.as_str())
                .cloned()
                .unwrap_or_else(|| f.agency.to_string());
            feedback_view(lang, f, agency)
        })
        .collect())
}

#[derive(Template)]
#[template(path = "feedback.html")]
struct PublishedPage {
    lang: Lang,
    path: String,
    procedure: String,
    answers: Vec<FeedbackView>,
}

#[derive(Deserialize)]
struct ProcedureQuery {
    #[serde(default)]
    procedure: String,
    sent: Option<String>,
}

impl ProcedureQuery {
    /// The procedure code asked for, when it is one (it goes into links).
    fn procedure(&self) -> String {
        domain::ProcedureCode::parse(self.procedure.trim())
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    /// The number of the feedback just sent, when it is one.
    fn sent(&self) -> Option<i64> {
        self.sent.as_deref().and_then(|s| s.parse().ok())
    }
}

async fn published_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<ProcedureQuery>,
) -> Result<Response, PageError> {
    let procedure = q.procedure();
    let list = state
        .app
        .published_feedback(Some(procedure.as_str()).filter(|p| !p.is_empty()), 100)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(render(&PublishedPage {
        lang,
        path: "/feedback".into(),
        procedure,
        answers: views(&state, lang, list).await?,
    }))
}

#[derive(Template)]
#[template(path = "feedback_form.html")]
struct FormPage {
    lang: Lang,
    path: String,
    sent: Option<i64>,
    agencies: Vec<(String, String)>,
    typed: SendFeedback,
    errors: Vec<(String, String)>,
    error_of: FieldErrors,
    mine: Vec<FeedbackView>,
}

async fn form_view(
    state: &AppState,
    lang: Lang,
    signed: &SignedIn,
    typed: SendFeedback,
    errors: &[InvalidField],
) -> Result<FormPage, PageError> {
    let mine = state
        .app
        .own_feedback(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let tree = state
        .app
        .agency_tree()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let error_of = FieldErrors::new(lang, errors);
    Ok(FormPage {
        lang,
        path: "/feedback/new".into(),
        sent: None,
        agencies: agency_options(tree),
        typed,
        errors: error_of.summary("fb-"),
        error_of,
        mine: views(state, lang, mine).await?,
    })
}

async fn form_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<ProcedureQuery>,
) -> Result<Response, PageError> {
    let typed = SendFeedback {
        procedure: q.procedure(),
        ..SendFeedback::default()
    };
    let mut page = form_view(&state, lang, &signed, typed, &[]).await?;
    page.sent = q.sent();
    Ok(render(&page))
}

#[derive(Deserialize)]
struct SendForm {
    #[serde(default)]
    agency: String,
    #[serde(default)]
    procedure: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

async fn send(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    axum::Form(form): axum::Form<SendForm>,
) -> Result<Response, PageError> {
    let typed = SendFeedback {
        agency: form.agency,
        procedure: form.procedure,
        subject: form.subject,
        body: form.body,
    };
    let errors = match state.app.send_feedback(&signed.user, &typed).await {
        Ok(id) => return Ok(Redirect::to(&format!("/feedback/new?sent={id}")).into_response()),
        Err(app::AppError::Invalid(errors)) => errors,
        Err(e) => return Err(PageError::new(lang, e)),
    };
    let page = form_view(&state, lang, &signed, typed, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(Template)]
#[template(path = "feedback_desk.html")]
struct DeskPage {
    lang: Lang,
    path: String,
    items: Vec<FeedbackView>,
    /// The item whose answer was refused (0 for none), and why.
    refused_id: i64,
    refused_why: String,
    typed: String,
}

async fn desk_view(state: &AppState, lang: Lang, signed: &SignedIn) -> Result<DeskPage, PageError> {
    let list = state
        .app
        .feedback_desk(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(DeskPage {
        lang,
        path: "/desk/feedback".into(),
        items: views(state, lang, list).await?,
        refused_id: 0,
        refused_why: String::new(),
        typed: String::new(),
    })
}

async fn desk_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
) -> Result<Response, PageError> {
    Ok(render(&desk_view(&state, lang, &signed).await?))
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
    publish: Option<String>,
}

async fn answer(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<AnswerForm>,
) -> Result<Response, PageError> {
    let done = state
        .app
        .answer_feedback(&signed.user, id, &form.answer, form.publish.is_some())
        .await;
    let why = match done {
        Ok(()) => return Ok(Redirect::to("/desk/feedback").into_response()),
        Err(app::AppError::Invalid(errors)) => errors
            .iter()
            .map(|e| reason(lang, e))
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => return Err(PageError::new(lang, e)),
    };
    let mut page = desk_view(&state, lang, &signed).await?;
    page.refused_id = id;
    page.refused_why = why;
    page.typed = form.answer;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(Deserialize)]
struct PublishForm {
    /// `yes` to publish, anything else to withdraw.
    #[serde(default)]
    publish: String,
}

async fn publish(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<PublishForm>,
) -> Result<Response, PageError> {
    state
        .app
        .publish_feedback(&signed.user, id, form.publish == "yes")
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(Redirect::to("/desk/feedback").into_response())
}
