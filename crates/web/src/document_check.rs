//! The guided document check: before starting, a citizen ticks which of a procedure's
//! conditional documents ("trường hợp …", "nếu có") apply to their case and gets the list of
//! what to prepare. A plain GET form: it works without JavaScript and can be bookmarked.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use domain::service::is_conditional;

use crate::AppState;
use crate::i18n::Lang;
use crate::pages::{PageError, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/procedures/{code}/check", get(check_page))
}

/// A document of the check: its key (`group-index`), text, quantity, and whether it is asked
/// about (conditional) or always needed.
struct CheckDocument {
    key: String,
    name: String,
    quantity: String,
    conditional: bool,
    ticked: bool,
}

struct CheckGroup {
    case: String,
    documents: Vec<CheckDocument>,
}

#[derive(Template)]
#[template(path = "document_check.html")]
struct CheckPage {
    lang: Lang,
    path: String,
    code: String,
    name: String,
    groups: Vec<CheckGroup>,
    /// Whether the person has answered: the list is shown.
    answered: bool,
    applies_online: bool,
}

async fn check_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(code): Path<String>,
    Query(answers): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let detail = state
        .app
        .procedure(&code)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let p = detail.procedure;
    let ticked: Vec<&str> = answers
        .iter()
        .filter(|(k, _)| k == "doc")
        .map(|(_, v)| v.as_str())
        .collect();
    let groups = p
        .documents
        .iter()
        .enumerate()
        .map(|(g, group)| CheckGroup {
            case: group.case.clone(),
            documents: group
                .documents
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let key = format!("{g}-{i}");
                    CheckDocument {
                        ticked: ticked.contains(&key.as_str()),
                        key,
                        name: d.name.clone(),
                        quantity: d.quantity.clone(),
                        conditional: is_conditional(&d.name),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(render(&CheckPage {
        lang,
        path: format!("/procedures/{}/check", p.code),
        code: p.code.to_string(),
        applies_online: p.online != domain::OnlineService::None
            && p.channels
                .iter()
                .any(|c| c.channel == domain::Channel::Online),
        name: p.name.clone(),
        groups,
        answered: answers.iter().any(|(k, _)| k == "answered"),
    }))
}
