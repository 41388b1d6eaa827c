//! Identity pages: sign-in with a password and, for officials, a second factor; sign-in with
//! the national e-ID; "my account" with the open sessions and, for citizens, who accessed
//! their data; the auditors' view of an access log, where a record can be withheld.

use app::{AccessEntry, AccessPurpose, Enrolment, SessionRecord, SignIn};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, TimeZone};
use domain::user::Role;
use serde::Deserialize;

use crate::AppState;
use crate::desk::reason;
use crate::i18n::Lang;
use crate::pages::{PageError, local_time, render};
use crate::session::{self, PENDING_COOKIE, SignedIn};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(sign_in_page).post(sign_in))
        .route(
            "/signin/second-factor",
            get(second_factor_page).post(second_factor),
        )
        .route("/signin/eid", get(eid_start))
        .route("/signin/eid/callback", get(eid_callback))
        .route("/signout", post(sign_out))
        .route("/account", get(account_page))
        .route("/account/contact", post(save_contact))
        .route("/account/sessions/end-all", post(end_all_sessions))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/audit/access", get(audit_access_page))
        .route("/audit/access/{id}/withhold", post(withhold))
}

/// The browser and address a session was opened from, for its owner's list of sessions.
fn client_of(headers: &HeaderMap) -> String {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown browser");
    agent.chars().take(160).collect()
}

fn session_cookie(state: &AppState, token: &str) -> String {
    session::set_cookie(token, state.https)
}

// ---- password sign-in ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    lang: Lang,
    path: String,
    next: String,
    username: String,
    error: Option<String>,
    eid: Option<String>,
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only local paths: never an open redirect (browsers drop tabs and line breaks from a
/// URL, so `/\t/evil.example` would become `//evil.example`).
pub(crate) fn local_next(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(char::is_control)
    })
    .unwrap_or_else(|| "/dossiers".into())
}

/// Binds an e-ID sign-in to the browser that started it.
const EID_COOKIE: &str = "motcua_eid";

async fn sign_in_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<Next>,
) -> Response {
    render(&SignInPage {
        lang,
        path: "/signin".into(),
        next: local_next(q.next),
        username: String::new(),
        error: None,
        eid: state.app.eid_name().map(str::to_owned),
    })
}

#[derive(Deserialize)]
struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn sign_in(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignInForm>,
) -> Result<Response, PageError> {
    let next = local_next(form.next);
    let https = state.https;
    match state
        .app
        .sign_in(&form.username, &form.password, &client_of(&headers))
        .await
    {
        Ok(SignIn::Done { token, .. }) => Ok((
            [(header::SET_COOKIE, session_cookie(&state, &token))],
            Redirect::to(&next),
        )
            .into_response()),
        Ok(SignIn::SecondFactor { token }) => Ok((
            [(
                header::SET_COOKIE,
                session::cookie_header(PENDING_COOKIE, &token, 300, https),
            )],
            Redirect::to(&format!(
                "/signin/second-factor?next={}",
                urlencoding::encode(&next)
            )),
        )
            .into_response()),
        Err(app::AppError::Invalid(fields)) => {
            let page = SignInPage {
                lang,
                path: "/signin".into(),
                next,
                username: form.username,
                error: fields.first().map(|f| reason(lang, f)),
                eid: state.app.eid_name().map(str::to_owned),
            };
            Ok((StatusCode::UNAUTHORIZED, render(&page)).into_response())
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

async fn sign_out(State(state): State<AppState>, signed: SignedIn) -> Response {
    let _ = state.app.sign_out(&signed.token).await;
    (
        [(header::SET_COOKIE, session::clear_cookie(state.https))],
        Redirect::to("/"),
    )
        .into_response()
}

// ---- second factor ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    lang: Lang,
    path: String,
    next: String,
    name: String,
    enrolment: Option<Enrolment>,
    /// The demo accounts' authenticator is public: the demo shows its code.
    demo_code: Option<String>,
    error: Option<String>,
}

async fn second_factor_view(
    state: &AppState,
    lang: Lang,
    token: &str,
    next: String,
    error: Option<String>,
) -> Result<SecondFactorPage, app::AppError> {
    let (user, enrolment) = state.app.second_factor(token).await?;
    Ok(SecondFactorPage {
        lang,
        path: "/signin/second-factor".into(),
        next,
        demo_code: state.app.demo_code(&user.username).await?,
        name: user.full_name,
        enrolment,
        error,
    })
}

/// Without a pending sign-in, the page sends the person back to the password.
fn restart_sign_in(next: &str) -> Response {
    Redirect::to(&format!("/signin?next={}", urlencoding::encode(next))).into_response()
}

async fn second_factor_page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    let next = local_next(q.next);
    let Some(token) = session::cookie(&headers, PENDING_COOKIE) else {
        return Ok(restart_sign_in(&next));
    };
    match second_factor_view(&state, lang, &token, next.clone(), None).await {
        Ok(page) => Ok(render(&page)),
        Err(app::AppError::Unauthorized) => Ok(restart_sign_in(&next)),
        Err(e) => Err(PageError::new(lang, e)),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    next: Option<String>,
}

async fn second_factor(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CodeForm>,
) -> Result<Response, PageError> {
    let next = local_next(form.next);
    let Some(token) = session::cookie(&headers, PENDING_COOKIE) else {
        return Ok(restart_sign_in(&next));
    };
    let https = state.https;
    match state
        .app
        .verify_second_factor(&token, &form.code, &client_of(&headers))
        .await
    {
        Ok((_, session_token)) => Ok(session::redirect_setting(
            &next,
            &[
                session_cookie(&state, &session_token),
                session::cookie_header(PENDING_COOKIE, "", 0, https),
            ],
        )),
        Err(app::AppError::Unauthorized) => Ok(restart_sign_in(&next)),
        Err(app::AppError::Invalid(fields)) => {
            let error = fields.first().map(|f| reason(lang, f));
            let page = second_factor_view(&state, lang, &token, next, error)
                .await
                .map_err(|e| PageError::new(lang, e))?;
            Ok((StatusCode::UNAUTHORIZED, render(&page)).into_response())
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

// ---- national e-ID ---------------------------------------------------------------------------

async fn eid_start(
    State(state): State<AppState>,
    lang: Lang,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    let (url, oidc_state) = state
        .app
        .begin_eid_sign_in(&local_next(q.next))
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok((
        [(
            header::SET_COOKIE,
            session::cookie_header(EID_COOKIE, &oidc_state, 600, state.https),
        )],
        Redirect::to(&url),
    )
        .into_response())
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn eid_callback(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Result<Response, PageError> {
    let refused = |en: &str, vi: &str| {
        PageError::new(
            lang,
            app::AppError::Invalid(vec![domain::InvalidField::bilingual("eid", en, vi)]),
        )
    };
    if let Some(error) = q.error {
        tracing::info!(%error, "e-ID sign-in not completed at the provider");
        return Err(refused(
            "The sign-in with the national e-ID was cancelled or refused. Start again.",
            "Đăng nhập bằng định danh điện tử đã bị hủy hoặc từ chối. Vui lòng thử lại.",
        ));
    }
    let (Some(code), Some(oidc_state)) = (q.code, q.state) else {
        return Err(refused(
            "The answer from the national e-ID is incomplete. Start again.",
            "Phản hồi từ hệ thống định danh điện tử không đầy đủ. Vui lòng thử lại.",
        ));
    };

    let (_, token, next) = state
        .app
        .finish_eid_sign_in(
            &code,
            &oidc_state,
            session::cookie(&headers, EID_COOKIE).as_deref(),
            &client_of(&headers),
        )
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(session::redirect_setting(
        &local_next(Some(next)),
        &[
            session_cookie(&state, &token),
            session::cookie_header(EID_COOKIE, "", 0, state.https),
        ],
    ))
}

// ---- my account ------------------------------------------------------------------------------

struct SessionView {
    id: String,
    client: String,
    assurance: u8,
    started: String,
    last_seen: String,
    current: bool,
}

struct AccessView {
    at: String,
    reader: String,
    agency: String,
    purpose: String,
    dossier: Option<String>,
    withheld: Option<String>,
    id: i64,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    lang: Lang,
    path: String,
    name: String,
    role: String,
    assurance: u8,
    /// What the national e-ID vouched for, masked: (label Vi, label En, value).
    /// Message key and value.
    identity: Vec<(&'static str, String)>,
    sessions: Vec<SessionView>,
    /// The pages this role works on: (address, Vietnamese, English).
    /// Address and message key.
    links: Vec<(&'static str, &'static str)>,
    show_access: bool,
    accesses: Vec<AccessView>,
    /// Where notifications go: email, phone, language; and what was wrong with the last try.
    email: String,
    phone: String,
    message_lang: String,
    contact_errors: Vec<String>,
    contact_saved: bool,
}

#[derive(serde::Deserialize)]
struct ContactForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    lang: String,
}

#[derive(serde::Deserialize)]
struct AccountParams {
    saved: Option<String>,
}

fn session_views(sessions: Vec<SessionRecord>, current_token: &str) -> Vec<SessionView> {
    let current = app::session_id(current_token);
    sessions
        .into_iter()
        .map(|s| SessionView {
            current: s.id == current,
            started: local_time(s.created_at),
            last_seen: s.last_seen_at.map(local_time).unwrap_or_default(),
            assurance: s.assurance.level(),
            client: s.client,
            id: s.id,
        })
        .collect()
}

fn access_views(lang: Lang, entries: Vec<AccessEntry>) -> Vec<AccessView> {
    entries
        .into_iter()
        .map(|e| AccessView {
            at: local_time(e.at),
            reader: e.reader_name,
            agency: e.reader_agency.unwrap_or_default(),
            purpose: AccessPurpose::from_code(&e.purpose)
                .map(|p| {
                    let (vi, en) = p.label();
                    lang.pick(vi, en).to_owned()
                })
                .unwrap_or(e.purpose),
            dossier: e.dossier_code,
            withheld: e.withheld_until.map(|until| {
                format!(
                    "{} {} ({}: {})",
                    lang.t("account-withheld-until"),
                    local_time(until),
                    e.withheld_by.unwrap_or_default(),
                    e.withheld_reason.unwrap_or_default()
                )
            }),
            id: e.id,
        })
        .collect()
}

async fn account_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<AccountParams>,
) -> Result<Response, PageError> {
    let contact = state
        .app
        .contact(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let typed = ContactForm {
        email: contact.email.unwrap_or_default(),
        phone: contact.phone.unwrap_or_default(),
        lang: contact.lang.code().into(),
    };
    let page = account_view(&state, lang, &signed, typed, Vec::new(), q.saved.is_some()).await?;
    Ok(render(&page))
}

/// Saves where notifications go; a wrong value is shown next to what was typed.
async fn save_contact(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    axum::extract::Form(form): axum::extract::Form<ContactForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .set_contact(&signed.user, &form.email, &form.phone, &form.lang)
        .await
    {
        Ok(_) => Ok(Redirect::to("/account?saved=1#contact").into_response()),
        Err(app::AppError::Invalid(fields)) => {
            let errors = fields
                .iter()
                .map(|f| crate::desk::reason(lang, f))
                .collect();
            let page = account_view(&state, lang, &signed, form, errors, false).await?;
            Ok((axum::http::StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

async fn account_view(
    state: &AppState,
    lang: Lang,
    signed: &SignedIn,
    contact: ContactForm,
    contact_errors: Vec<String>,
    contact_saved: bool,
) -> Result<AccountPage, PageError> {
    let err = |e| PageError::new(lang, e);
    let user = &signed.user;
    let sessions = state.app.sessions(user).await.map_err(err)?;
    let identity = match state.app.my_identity(user).await.map_err(err)? {
        None => Vec::new(),
        Some(id) => {
            let mut rows = vec![("account-personal-id", app::mask(&id.personal_id))];
            if let Some(day) = id.birth_date {
                rows.push(("account-birth-date", day.format("%d/%m/%Y").to_string()));
            }
            if let Some(tax) = id.tax_code {
                rows.push(("account-tax-code", app::mask(&tax)));
            }
            rows
        }
    };
    let show_access = user.role == Role::Citizen;
    let accesses = if show_access {
        state.app.my_access_log(user).await.map_err(err)?
    } else {
        Vec::new()
    };
    Ok(AccountPage {
        email: contact.email,
        phone: contact.phone,
        message_lang: contact.lang,
        contact_errors,
        contact_saved,
        lang,
        path: "/account".into(),
        name: user.full_name.clone(),
        role: user.role.code().into(),
        assurance: user.assurance.level(),
        identity,
        sessions: session_views(sessions, &signed.token),
        links: links_for(user.role),
        show_access,
        accesses: access_views(lang, accesses),
    })
}

fn links_for(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut links = Vec::new();
    if role.reads_agency_dossiers() || role == Role::Citizen {
        links.push(("/dossiers", "account-link-dossiers"));
    }
    if role == Role::Citizen {
        links.push(("/feedback/new", "account-link-feedback"));
    }
    if role.reads_agency_dossiers() {
        links.push(("/desk/feedback", "account-link-feedback-desk"));
    }
    if matches!(
        role,
        Role::Leader | Role::AgencyAdmin | Role::SystemAdmin | Role::Auditor
    ) {
        links.push(("/dashboard", "account-link-dashboard"));
    }
    if matches!(role, Role::AgencyAdmin | Role::SystemAdmin) {
        links.push(("/admin", "account-link-admin"));
        links.push(("/admin/staff", "account-link-staff"));
    }
    if role == Role::SystemAdmin {
        links.push(("/admin/procedures", "account-link-procedures"));
        links.push(("/admin/agencies", "account-link-agencies"));
        links.push(("/admin/calendar", "account-link-calendar"));
        links.push(("/admin/notifications", "account-link-notifications"));
    }
    if role.reads_agency_dossiers() || role == Role::Auditor {
        links.push(("/desk/payments", "account-link-payments"));
    }
    if role == Role::Auditor {
        links.push(("/audit/access", "account-link-access-logs"));
        links.push(("/audit/privileged", "account-link-privileged-log"));
    }
    links
}

async fn end_session(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state
        .app
        .end_session(&signed.user, &id)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(Redirect::to("/account").into_response())
}

async fn end_all_sessions(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
) -> Result<Response, PageError> {
    state
        .app
        .sign_out_everywhere(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok((
        [(header::SET_COOKIE, session::clear_cookie(state.https))],
        Redirect::to("/signin"),
    )
        .into_response())
}

// ---- auditors --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "audit_access.html")]
struct AuditAccessPage {
    lang: Lang,
    path: String,
    subject: String,
    accesses: Vec<AccessView>,
    max_days: i64,
}

#[derive(Deserialize)]
struct Subject {
    subject: Option<String>,
}

async fn audit_access_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<Subject>,
) -> Result<Response, PageError> {
    let subject = q.subject.unwrap_or_default().trim().to_owned();
    let accesses = if subject.is_empty() {
        if signed.user.role != Role::Auditor {
            return Err(PageError::new(
                lang,
                app::AppError::Forbidden("only auditors see access records".into()),
            ));
        }
        Vec::new()
    } else {
        state
            .app
            .access_log_of(&signed.user, &subject)
            .await
            .map_err(|e| PageError::new(lang, e))?
    };
    Ok(render(&AuditAccessPage {
        lang,
        path: "/audit/access".into(),
        accesses: access_views(lang, accesses),
        subject,
        max_days: app::MAX_WITHHOLD_DAYS,
    }))
}

#[derive(Deserialize)]
struct WithholdForm {
    subject: String,
    /// The last day withheld (YYYY-MM-DD), through the end of that day in Vietnam.
    until: String,
    reason: String,
}

async fn withhold(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<WithholdForm>,
) -> Result<Response, PageError> {
    let until = NaiveDate::parse_from_str(form.until.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .and_then(|d| {
            domain::calendar::vietnam_offset()
                .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
                .single()
        })
        .ok_or_else(|| {
            PageError::new(
                lang,
                app::AppError::Invalid(vec![domain::InvalidField::bilingual(
                    "until",
                    "give the last day withheld as YYYY-MM-DD",
                    "nhập ngày cuối cùng tạm ẩn theo dạng YYYY-MM-DD",
                )]),
            )
        })?;
    state
        .app
        .withhold_access(&signed.user, id, until.to_utc(), &form.reason)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(Redirect::to(&format!(
        "/audit/access?subject={}",
        urlencoding::encode(&form.subject)
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::local_next;

    #[test]
    fn next_stays_on_this_site() {
        let next = |s: &str| local_next(Some(s.into()));
        assert_eq!(next("/dossiers/X?a=1"), "/dossiers/X?a=1");
        for away in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "evil",
        ] {
            assert_eq!(next(away), "/dossiers", "{away:?}");
        }
        assert_eq!(local_next(None), "/dossiers");
    }
}
