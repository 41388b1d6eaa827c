//! The plain-language assistant's page: a citizen tells their situation in everyday words and
//! gets the procedures that fit, ranked, each with why.

use app::Reason;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::desk::reason;
use crate::i18n::Lang;
use crate::pages::{PageError, render};

const SHOWN: usize = 5;

pub fn routes() -> Router<AppState> {
    Router::new().route("/assistant", get(assistant_page))
}

struct SuggestionView {
    code: String,
    name: String,
    why: Vec<String>,
}

#[derive(Template)]
#[template(path = "assistant.html")]
struct AssistantPage {
    lang: Lang,
    path: String,
    q: String,
    asked: bool,
    error: String,
    suggestions: Vec<SuggestionView>,
}

#[derive(Deserialize)]
struct AskQuery {
    q: Option<String>,
}

fn why(lang: Lang, r: &Reason) -> String {
    match r {
        Reason::Phrase { said, means } => {
            format!("{} “{said}” → {means}", lang.t("assistant-you-said"))
        }
        Reason::Words(words) => format!("{}: {}", lang.t("assistant-in-name"), words.join(", ")),
        Reason::LifeEvent(event) => format!("{}: {event}", lang.t("assistant-life-event")),
    }
}

async fn assistant_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(query): Query<AskQuery>,
) -> Result<Response, PageError> {
    let q = query.q.unwrap_or_default();
    let mut page = AssistantPage {
        lang,
        path: "/assistant".into(),
        asked: !q.trim().is_empty(),
        q: q.clone(),
        error: String::new(),
        suggestions: Vec::new(),
    };
    if !page.asked {
        return Ok(render(&page));
    }
    match state.app.suggest_procedures(&q, SHOWN) {
        Ok(found) => {
            page.suggestions = found
                .into_iter()
                .map(|s| SuggestionView {
                    why: s.reasons.iter().map(|r| why(lang, r)).collect(),
                    code: s.code,
                    name: s.name,
                })
                .collect();
            Ok(render(&page))
        }
        Err(app::AppError::Invalid(errors)) => {
            page.error = errors
                .iter()
                .map(|e| reason(lang, e))
                .collect::<Vec<_>>()
                .join("; ");
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}
