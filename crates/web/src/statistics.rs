//! The public statistics page: how many dossiers the province and each agency received and
//! resolved, and how many on time, for any period. No sign-in; counters hold no personal data.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::i18n::Lang;
use crate::pages::{PageError, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/statistics", get(statistics))
}

#[derive(Deserialize)]
struct Params {
    agency: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

struct Row {
    code: String,
    name: String,
    received: i64,
    resolved: i64,
    early: i64,
    on_time: i64,
    late: i64,
    rate: String,
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    lang: Lang,
    path: String,
    agency: String,
    agency_name: String,
    from: String,
    to: String,
    total: Option<Row>,
    rows: Vec<Row>,
    errors: Vec<String>,
}

fn row(figures: &app::Figures, name: String) -> Row {
    use domain::stats::Metric;
    Row {
        code: figures.group.clone(),
        name,
        received: figures.get(Metric::Received),
        resolved: figures.resolved(),
        early: figures.get(Metric::ResolvedEarly),
        on_time: figures.get(Metric::ResolvedOnTime),
        late: figures.get(Metric::ResolvedLate),
        rate: figures
            .on_time_rate()
            .map(|r| format!("{r:.1} %"))
            .unwrap_or_else(|| "—".into()),
    }
}

async fn statistics(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<Params>,
) -> Result<Response, PageError> {
    let request = |group: &str| app::StatsRequest {
        agency: params.agency.clone(),
        from: params.from.clone(),
        to: params.to.clone(),
        group: Some(group.into()),
        procedure: None,
        channel: None,
    };
    let mut page = StatisticsPage {
        lang,
        path: "/statistics".into(),
        agency: params.agency.clone().unwrap_or_default(),
        agency_name: String::new(),
        from: params.from.clone().unwrap_or_default(),
        to: params.to.clone().unwrap_or_default(),
        total: None,
        rows: Vec::new(),
        errors: Vec::new(),
    };
    let total = match state.app.public_stats(request("total")).await {
        Ok(report) => report,
        Err(app::AppError::Invalid(fields)) => {
            page.errors = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, crate::desk::reason(lang, f)))
                .collect();
            return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
        }
        Err(e) => return Err(PageError::new(lang, e)),
    };
    // The agency the totals resolved to (the province by default), so it is found only once.
    let by_agency = state
        .app
        .public_stats(app::StatsRequest {
            agency: Some(total.agency.to_string()),
            ..request("agency")
        })
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let names: std::collections::HashMap<String, String> = state
        .app
        .agency_tree()
        .await
        .map_err(|e| PageError::new(lang, e))?
        .into_iter()
        .map(|n| (n.agency.code.to_string(), n.agency.name))
        .collect();
    let name_of = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_owned());
    page.agency = total.agency.to_string();
    page.agency_name = name_of(total.agency.as_str());
    page.from = total.from.to_string();
    page.to = total.to.to_string();
    page.total = total
        .groups
        .first()
        .map(|g| row(g, page.agency_name.clone()));
    page.rows = by_agency
        .groups
        .iter()
        .map(|g| row(g, name_of(&g.group)))
        .collect();
    Ok(render(&page))
}
