//! Privileged access pages: administrators ask for, approve, refuse and end elevations and use
//! the privileged tools while elevated; auditors read every elevation and the privileged log.

use app::{AdminView, Approval, PrivilegedReport};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use domain::privilege::{Elevation, ElevationState, PrivilegedEntry};
use serde::Deserialize;

use crate::AppState;
use crate::forms::FieldErrors;
use crate::i18n::Lang;
use crate::pages::{PageError, local_time, render};
use crate::session::SignedIn;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_page))
        .route("/admin/elevations", post(request))
        .route("/admin/elevations/{id}/approve", post(approve))
        .route("/admin/elevations/{id}/close", post(close))
        .route("/admin/accounts/{tool}", post(account_tool))
        .route("/audit/privileged", get(audit_page))
}

struct ElevationView {
    id: i64,
    holder: String,
    reason: String,
    minutes: i64,
    break_glass: bool,
    requested: String,
    approvers: String,
    state: &'static str,
    /// Approvals still needed.
    needed: usize,
    until: String,
}

fn elevation_view(lang: Lang, e: Elevation) -> ElevationView {
    let state = match e.state(Utc::now()) {
        ElevationState::Pending => lang.t("admin-waiting-approval"),
        ElevationState::Active => lang.t("admin-active"),
        ElevationState::Expired => lang.t("admin-expired"),
        ElevationState::Closed => lang.t("admin-closed"),
    };
    ElevationView {
        needed: e.approvals_needed().saturating_sub(e.approvers.len()),
        until: e.expires_at().map(local_time).unwrap_or_default(),
        id: e.id,
        requested: local_time(e.requested_at),
        approvers: e.approvers.join(", "),
        holder: e.username,
        reason: e.reason,
        minutes: e.minutes,
        break_glass: e.break_glass,
        state,
    }
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    lang: Lang,
    path: String,
    active: Option<ElevationView>,
    mine: Vec<ElevationView>,
    waiting: Vec<ElevationView>,
    /// The request as typed (reason, minutes, break-glass) and its errors.
    typed: (String, String, bool),
    err: FieldErrors,
    summary: Vec<(String, String)>,
}

async fn admin_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
) -> Result<Response, PageError> {
    let page = admin_view(&state, lang, &signed, ("".into(), "30".into(), false), &[]).await?;
    Ok(render(&page))
}

async fn admin_view(
    state: &AppState,
    lang: Lang,
    signed: &SignedIn,
    typed: (String, String, bool),
    errors: &[domain::InvalidField],
) -> Result<AdminPage, PageError> {
    let AdminView {
        mine,
        waiting,
        active,
    } = state
        .app
        .admin_view(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let err = FieldErrors::new(lang, errors);
    Ok(AdminPage {
        lang,
        path: "/admin".into(),
        active: active.map(|e| elevation_view(lang, e)),
        mine: mine.into_iter().map(|e| elevation_view(lang, e)).collect(),
        waiting: waiting
            .into_iter()
            .map(|e| elevation_view(lang, e))
            .collect(),
        typed,
        summary: err.summary(""),
        err,
    })
}

#[derive(Deserialize)]
struct RequestForm {
    reason: String,
    minutes: String,
    break_glass: Option<String>,
}

async fn request(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    axum::Form(form): axum::Form<RequestForm>,
) -> Result<Response, PageError> {
    let outcome = match form.minutes.trim().parse() {
        Ok(minutes) => {
            state
                .app
                .request_elevation(
                    &signed.user,
                    &form.reason,
                    minutes,
                    form.break_glass.is_some(),
                )
                .await
        }
        Err(_) => Err(app::AppError::Invalid(vec![
            domain::InvalidField::bilingual(
                "minutes",
                "give the duration as a whole number of minutes",
                "nhập thời hạn bằng số phút",
            ),
        ])),
    };
    let errors = match outcome {
        Ok(_) => return Ok(Redirect::to("/admin").into_response()),
        Err(app::AppError::Invalid(errors)) => errors,
        Err(e) => return Err(PageError::new(lang, e)),
    };
    let typed = (form.reason, form.minutes, form.break_glass.is_some());
    let page = admin_view(&state, lang, &signed, typed, &errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

async fn approve(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let outcome: Approval = state
        .app
        .approve_elevation(&signed.user, id)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    tracing::info!(id, ?outcome, by = %signed.user.username, "elevation approved");
    Ok(Redirect::to("/admin").into_response())
}

async fn close(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state
        .app
        .close_elevation(&signed.user, id)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(Redirect::to("/admin").into_response())
}

#[derive(Deserialize)]
struct AccountForm {
    username: String,
}

/// A privileged tool on an account: `unlock` or `reset-second-factor`.
async fn account_tool(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(tool): Path<String>,
    axum::Form(form): axum::Form<AccountForm>,
) -> Result<Response, PageError> {
    let (admin, username) = (&signed.user, form.username.trim());
    let done = match tool.as_str() {
        "unlock" => state.app.unlock_account(admin, username).await,
        "reset-second-factor" => state.app.reset_second_factor(admin, username).await,
        _ => {
            return Err(PageError::new(
                lang,
                crate::error::Failure::not_found(format!("no account tool '{tool}'")),
            ));
        }
    };
    done.map_err(|e| PageError::new(lang, e))?;
    Ok(Redirect::to("/admin").into_response())
}

struct EntryView {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    detail: String,
}

fn entry_view(e: PrivilegedEntry) -> EntryView {
    EntryView {
        seq: e.seq,
        at: local_time(e.at),
        actor: e.actor,
        action: e.action,
        detail: e.detail,
    }
}

#[derive(Template)]
#[template(path = "audit_privileged.html")]
struct AuditPage {
    lang: Lang,
    path: String,
    elevations: Vec<ElevationView>,
    entries: Vec<EntryView>,
    alerts: Vec<EntryView>,
    broken: Option<String>,
}

async fn audit_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
) -> Result<Response, PageError> {
    let PrivilegedReport {
        elevations,
        entries,
        broken,
        alerts,
    } = state
        .app
        .privileged_report(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(render(&AuditPage {
        lang,
        path: "/audit/privileged".into(),
        elevations: elevations
            .into_iter()
            .map(|e| elevation_view(lang, e))
            .collect(),
        entries: entries.into_iter().rev().map(entry_view).collect(),
        alerts: alerts.into_iter().rev().map(entry_view).collect(),
        broken: broken.map(|(seq, why)| format!("#{seq}: {why}")),
    }))
}
