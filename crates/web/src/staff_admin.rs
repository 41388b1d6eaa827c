//! The agency tree and the officials' accounts, managed in the browser under an elevation.

use app::{AgencyEdit, StaffEdit};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use domain::InvalidField;
use domain::user::Role;
use serde::Deserialize;

use crate::AppState;
use crate::forms::{FieldErrors, agency_options, system_admin_only};
use crate::i18n::Lang;
use crate::pages::{PageError, render};
use crate::session::SignedIn;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/staff", get(staff_page).post(save_official))
        .route("/admin/agencies", get(agencies_page).post(save_agency))
}

/// The roles a page offers, with their names.
fn role_name(lang: Lang, role: Role) -> &'static str {
    lang.t(match role {
        Role::Citizen => "staff-role-citizen",
        Role::Reception => "staff-role-reception",
        Role::Handler => "staff-role-handler",
        Role::Approver => "staff-role-approver",
        Role::Leader => "staff-role-leader",
        Role::AgencyAdmin => "staff-role-agency-admin",
        Role::SystemAdmin => "staff-role-system-admin",
        Role::Auditor => "staff-role-auditor",
        Role::ExchangeClient => "staff-role-exchange-client",
    })
}

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffPage {
    lang: Lang,
    path: String,
    /// Username, name, role, agency.
    officials: Vec<(String, String, String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    agencies: Vec<(String, String)>,
    edit: StaffEdit,
    err: FieldErrors,
    saved: bool,
}

#[derive(Deserialize)]
struct EditQuery {
    edit: Option<String>,
    saved: Option<String>,
}

async fn staff_view(
    state: &AppState,
    lang: Lang,
    signed: &SignedIn,
    edit: StaffEdit,
    errors: &[InvalidField],
) -> Result<StaffPage, PageError> {
    let officials = state
        .app
        .officials(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let agencies = state
        .app
        .agency_tree()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let names: std::collections::HashMap<String, String> = agencies
        .iter()
        .map(|n| (n.agency.code.to_string(), n.agency.name.clone()))
        .collect();
    let offered: &[Role] = if signed.user.role == Role::SystemAdmin {
        &[
            Role::Reception,
            Role::Handler,
            Role::Approver,
            Role::Leader,
            Role::AgencyAdmin,
            Role::SystemAdmin,
            Role::Auditor,
            Role::ExchangeClient,
        ]
    } else {
        &[Role::Reception, Role::Handler, Role::Approver, Role::Leader]
    };
    Ok(StaffPage {
        lang,
        path: "/admin/staff".into(),
        officials: officials
            .into_iter()
            .map(|u| {
                let agency = u
                    .agency
                    .map(|a| {
                        names
                            .get(a.as_str())
                            .cloned()
                            .unwrap_or_else(|| a.to_string())
                    })
                    .unwrap_or_default();
                (
                    u.username,
                    u.full_name,
                    role_name(lang, u.role).to_owned(),
                    agency,
                )
            })
            .collect(),
        roles: offered
            .iter()
            .map(|r| (r.code(), role_name(lang, *r)))
            .collect(),
        agencies: agency_options(agencies),
        edit,
        err: FieldErrors::new(lang, errors),
        saved: false,
    })
}

async fn staff_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<EditQuery>,
) -> Result<Response, PageError> {
    let mut edit = StaffEdit::default();
    if let Some(username) = q.edit.as_deref() {
        let found = state
            .app
            .officials(&signed.user)
            .await
            .map_err(|e| PageError::new(lang, e))?
            .into_iter()
            .find(|u| u.username == username);
        if let Some(u) = found {
            edit = StaffEdit {
                username: u.username,
                full_name: u.full_name,
                role: u.role.code().to_owned(),
                agency: u.agency.map(|a| a.to_string()).unwrap_or_default(),
                password: String::new(),
            };
        }
    }
    let mut page = staff_view(&state, lang, &signed, edit, &[]).await?;
    page.saved = q.saved.is_some();
    Ok(render(&page))
}

#[derive(Deserialize)]
struct StaffForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    password: String,
}

async fn save_official(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    axum::Form(form): axum::Form<StaffForm>,
) -> Result<Response, PageError> {
    let edit = StaffEdit {
        username: form.username,
        full_name: form.full_name,
        role: form.role,
        agency: form.agency,
        password: form.password,
    };
    let errors = match state.app.save_official(&signed.user, &edit).await {
        Ok(()) => return Ok(Redirect::to("/admin/staff?saved=1").into_response()),
        Err(app::AppError::Invalid(errors)) => errors,
        Err(e) => return Err(PageError::new(lang, e)),
    };
    // A password is never sent back to the browser.
    let edit = StaffEdit {
        password: String::new(),
        ..edit
    };
    let page = staff_view(&state, lang, &signed, edit, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(Template)]
#[template(path = "admin_agencies.html")]
struct AgenciesPage {
    lang: Lang,
    path: String,
    /// Code, indented name, level name.
    agencies: Vec<(String, String, String)>,
    levels: Vec<(String, String)>,
    edit: AgencyEdit,
    err: FieldErrors,
    saved: bool,
}

async fn agencies_view(
    state: &AppState,
    lang: Lang,
    edit: AgencyEdit,
    errors: &[InvalidField],
) -> Result<AgenciesPage, PageError> {
    let tree = state
        .app
        .agency_tree()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(AgenciesPage {
        lang,
        path: "/admin/agencies".into(),
        agencies: tree
            .into_iter()
            .map(|n| {
                let level = n
                    .level
                    .map(|l| lang.pick(&l.name_vi, &l.name_en).to_owned())
                    .unwrap_or(n.agency.level);
                (
                    n.agency.code.to_string(),
                    format!("{}{}", "— ".repeat(n.depth), n.agency.name),
                    level,
                )
            })
            .collect(),
        levels: state
            .app
            .levels()
            .into_iter()
            .map(|l| {
                let name = lang.pick(&l.name_vi, &l.name_en).to_owned();
                (l.code, name)
            })
            .collect(),
        edit,
        err: FieldErrors::new(lang, errors),
        saved: false,
    })
}

async fn agencies_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<EditQuery>,
) -> Result<Response, PageError> {
    system_admin_only(lang, &signed, "change the agency tree")?;
    let mut page = agencies_view(&state, lang, AgencyEdit::default(), &[]).await?;
    if let Some(code) = q.edit.as_deref()
        && let Some(node) = state
            .app
            .agency_tree()
            .await
            .map_err(|e| PageError::new(lang, e))?
            .into_iter()
            .find(|n| n.agency.code.as_str() == code)
    {
        page.edit = AgencyEdit {
            code: node.agency.code.to_string(),
            name: node.agency.name,
            parent: node
                .agency
                .parent
                .map(|p| p.to_string())
                .unwrap_or_default(),
            level: node.agency.level,
        };
    }
    page.saved = q.saved.is_some();
    Ok(render(&page))
}

#[derive(Deserialize)]
struct AgencyForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    level: String,
}

async fn save_agency(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    axum::Form(form): axum::Form<AgencyForm>,
) -> Result<Response, PageError> {
    system_admin_only(lang, &signed, "change the agency tree")?;
    let edit = AgencyEdit {
        code: form.code,
        name: form.name,
        parent: form.parent,
        level: form.level,
    };
    let errors = match state.app.save_agency(&signed.user, &edit).await {
        Ok(()) => return Ok(Redirect::to("/admin/agencies?saved=1").into_response()),
        Err(app::AppError::Invalid(errors)) => errors,
        Err(e) => return Err(PageError::new(lang, e)),
    };
    let page = agencies_view(&state, lang, edit, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
