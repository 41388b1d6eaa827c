//! `/dashboard/reengineering`: the procedures ranked by what simplifying them would gain,
//! from counters (the dossier statistics and the e-form's own), for leaders and operators.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::AppState;
use crate::i18n::Lang;
use crate::pages::{PageError, render};
use crate::session::SignedIn;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard/reengineering", get(page))
}

struct Row {
    rank: usize,
    code: String,
    name: String,
    received: String,
    online: String,
    opened: String,
    submitted: String,
    drop_off: String,
    fields: String,
    median: String,
    supplements: String,
    reasons: String,
    steps: String,
    late: String,
    priority: String,
}

#[derive(Template)]
#[template(path = "reengineering.html")]
struct Page {
    lang: Lang,
    path: String,
    rows: Vec<Row>,
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
) -> Result<Response, PageError> {
    let lines = state
        .app
        .reengineering(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let share = |s: Option<f64>| {
        s.map(|v| lang.percent(v * 100.0))
            .unwrap_or_else(|| "—".into())
    };
    let rows = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| Row {
            rank: i + 1,
            received: lang.count(l.received),
            online: share(l.online_share),
            opened: lang.count(l.opened),
            submitted: lang.count(l.submitted),
            drop_off: share(l.drop_off),
            fields: l
                .error_fields
                .iter()
                .map(|(f, n)| format!("{f} ({})", lang.count(*n)))
                .collect::<Vec<_>>()
                .join(", "),
            median: l
                .median_minutes
                .map(|m| m.to_owned())
                .unwrap_or_else(|| "—".into()),
            supplements: share(l.supplement_rate),
            steps: l
                .step_hours
                .iter()
                .map(|(step, hours)| {
                    format!(
                        "{step}: {} {}",
                        lang.decimal(*hours),
                        lang.t("reengineering-hours")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            reasons: l
                .supplement_reasons
                .iter()
                .map(|(r, n)| format!("{r} ({})", lang.count(*n)))
                .collect::<Vec<_>>()
                .join("; "),
            late: share(l.late_share),
            priority: lang.decimal(l.priority),
            name: if l.name.is_empty() {
                l.code.clone()
            } else {
                l.name
            },
            code: l.code,
        })
        .collect();
    Ok(render(&Page {
        lang,
        path: "/dashboard/reengineering".into(),
        rows,
    }))
}
