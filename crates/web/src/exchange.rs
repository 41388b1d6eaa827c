//! The inter-agency exchange over HTTP: `/exchange/v1/{service}` answers members' signed calls;
//! `/exchange/v1` says who this member is; the operator's API reads the registry, the message
//! log and the figures; a national instance answers nationwide lookups and figures; and
//! `/verify/{id}` is the public page a result's QR code opens.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde::Deserialize;

use crate::AppState;
use crate::dossier_api::Caller;
use crate::error::{ApiError, Problem};
use crate::i18n::Lang;
use crate::pages::{PageError, local_time, render};

/// A push of 5,000 sync records is about 3 MB.
const EXCHANGE_BODY_LIMIT: usize = 32 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(app::EXCHANGE_PATH, get(identity))
        .route(
            &format!("{}/{{service}}", app::EXCHANGE_PATH),
            any(call).layer(DefaultBodyLimit::max(EXCHANGE_BODY_LIMIT)),
        )
        .route("/verify/{id}", get(verify_page).post(verify_file))
        .route("/national", get(national_page))
}

/// Under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/exchange/registry", get(registry))
        .route("/exchange/log", get(log))
        .route("/exchange/log/verify", get(verify_log))
        .route("/exchange/figures", get(figures))
        .route("/exchange/push", get(push_state))
        .route("/national/dossiers/{code}", get(national_dossier))
        .route("/national/stats", get(national_stats))
        .route("/dossiers/{code}/results", get(results))
        .route("/warehouse", get(warehouse))
        .route("/warehouse/{id}/reuse", axum::routing::post(reuse))
        .route("/warehouse/fetch", axum::routing::post(fetch))
}

/// A JSON object the OpenAPI document does not detail field by field.
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
#[allow(dead_code)]
pub(crate) struct JsonObject(serde_json::Value);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FetchRequest {
    /// The member holding the result: agency code '/' system name.
    member: String,
    /// The signed result's id, as its QR code names it.
    result: String,
    /// The citizen agrees that this portal fetches it for them.
    #[serde(default)]
    consent: bool,
}

/// Fetches a signed result from another member into an upload, with the citizen's consent.
#[utoipa::path(
    post, path = "/api/v1/warehouse/fetch", request_body = FetchRequest,
    responses(
        (status = 201, body = crate::dossier_api::UploadView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 503, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn fetch(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Result<Json<FetchRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(crate::dossier_api::body_error)?;
    let copy = state
        .app
        .fetch_from_member(&user, &request.member, &request.result, request.consent)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::dossier_api::UploadView::from(copy)),
    )
        .into_response())
}

/// The citizen's data warehouse: documents and e-results of their earlier dossiers.
#[utoipa::path(
    get, path = "/api/v1/warehouse",
    responses((status = 200, body = [JsonObject]), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
async fn warehouse(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<app::WarehouseItem>>, ApiError> {
    Ok(Json(state.app.warehouse(&user).await?))
}

/// Makes an upload from a warehouse document, to name in a submission like any upload.
#[utoipa::path(
    post, path = "/api/v1/warehouse/{id}/reuse",
    params(("id" = String, Path, description = "A document of the citizen's warehouse")),
    responses(
        (status = 201, body = crate::dossier_api::UploadView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn reuse(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let copy = state.app.reuse_document(&user, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::dossier_api::UploadView::from(copy)),
    )
        .into_response())
}

async fn identity(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let (member, public_key) = state.app.exchange_identity()?;
    Ok(Json(serde_json::json!({
        "member": member,
        "public_key": public_key,
        "services": app::SERVICES.iter().map(|(name, description, national)| {
            serde_json::json!({ "service": name, "description": description, "national_only": national })
        }).collect::<Vec<_>>(),
    })))
}

async fn call(
    State(state): State<AppState>,
    Path(service): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let exchange_headers = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-exchange-"))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let answer = state
        .app
        .exchange_call(app::IncomingCall {
            method: method.to_string(),
            service,
            path: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned()),
            query,
            headers: exchange_headers,
            body: body.to_vec(),
        })
        .await?;
    let content_type = if answer.status < 400 {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        answer.body,
    )
        .into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in answer.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    }
    Ok(response)
}

#[utoipa::path(
    get, path = "/api/v1/exchange/registry",
    responses((status = 200, body = JsonObject), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
async fn registry(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<app::Registry>, ApiError> {
    Ok(Json(state.app.exchange_registry(&user).await?))
}

#[derive(Debug, Deserialize)]
struct LogParams {
    after: Option<i64>,
    limit: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/v1/exchange/log",
    params(
        ("after" = Option<i64>, Query, description = "Entries after this sequence number, oldest first; without it the newest first"),
        ("limit" = Option<i64>, Query, description = "At most this many entries (100 by default)"),
    ),
    responses((status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 200, body = JsonObject)),
    security(("bearer" = []))
)]
async fn log(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(params): Query<LogParams>,
) -> Result<Json<app::LogPage>, ApiError> {
    Ok(Json(
        state
            .app
            .exchange_log(&user, params.after, params.limit.unwrap_or(100))
            .await?,
    ))
}

#[utoipa::path(
    get, path = "/api/v1/exchange/log/verify",
    responses((status = 200, body = JsonObject), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
async fn verify_log(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<app::LogReport>, ApiError> {
    // The same reader as the log itself.
    state.app.exchange_log(&user, Some(0), 1).await?;
    Ok(Json(state.app.verify_exchange_log().await?))
}

#[derive(Debug, Deserialize)]
struct FiguresParams {
    since: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/exchange/figures",
    params(("since" = Option<String>, Query, description = "First day (YYYY-MM-DD); 30 days ago by default")),
    responses((status = 200, body = [JsonObject]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
async fn figures(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(params): Query<FiguresParams>,
) -> Result<Json<Vec<app::ServiceFigures>>, ApiError> {
    let since = params
        .since
        .unwrap_or_else(|| (app::today() - chrono::Duration::days(30)).to_string());
    Ok(Json(state.app.exchange_figures(&user, &since).await?))
}

#[utoipa::path(
    get, path = "/api/v1/exchange/push",
    responses((status = 200, body = JsonObject), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
async fn push_state(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<app::PushState>, ApiError> {
    state.app.exchange_registry(&user).await?;
    Ok(Json(state.app.push_state().await?))
}

/// Officials of the national instance look up any province's dossier by code.
#[utoipa::path(
    get, path = "/api/v1/national/dossiers/{code}",
    params(("code" = String, Path, description = "A dossier code from any province")),
    responses(
        (status = 200, body = JsonObject), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn national_dossier(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !user.role.reads_agency_dossiers() {
        return Err(app::AppError::Forbidden(format!(
            "the nationwide lookup is for officials, not the {} role",
            user.role.code()
        ))
        .into());
    }
    Ok(Json(state.app.national_dossier(&code).await?))
}

/// Every province's figures: public, as the national statistics are.
#[utoipa::path(
    get, path = "/api/v1/national/stats",
    responses((status = 200, body = JsonObject))
)]
async fn national_stats(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.app.national_stats().await?))
}

#[utoipa::path(
    get, path = "/api/v1/dossiers/{code}/results",
    params(("code" = String, Path, description = "The dossier's code")),
    responses(
        (status = 200, body = [JsonObject]), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn results(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(code): Path<String>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    Ok(Json(state.app.results_for(&user, &code).await?))
}

/// The nationwide figures by province, as pushed by each provincial instance.
#[derive(Template)]
#[template(path = "national.html")]
struct NationalPage {
    lang: Lang,
    path: String,
    headers: Vec<&'static str>,
    /// Per province, then the whole country: its name and its cells as text.
    rows: Vec<Vec<String>>,
    total: Vec<String>,
}

/// The columns of the national page: the national metrics from received to withdrawn.
fn national_columns() -> &'static [&'static str] {
    &domain::sync::NATIONAL_METRICS[1..7]
}

async fn national_page(State(state): State<AppState>, lang: Lang) -> Result<Response, PageError> {
    let stats = state
        .app
        .national_stats()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let empty = Vec::new();
    let provinces = stats["provinces"].as_array().unwrap_or(&empty);
    let figure = |p: &serde_json::Value, key: &str| p[key].as_i64().unwrap_or(0);
    let cells = |name: String, get: &dyn Fn(&str) -> i64| {
        let mut row = vec![name];
        row.extend(national_columns().iter().map(|c| lang.count(get(c))));
        let returned = get("returned");
        row.push(if returned > 0 {
            lang.cell(&documents::Cell::Percent(
                100.0 * get("returned_on_time") as f64 / returned as f64,
            ))
        } else {
            "—".into()
        });
        row
    };
    let rows = provinces
        .iter()
        .map(|p| {
            let id = p["province"].as_str().unwrap_or_default();
            let name = match p["name"].as_str().filter(|n| !n.is_empty()) {
                Some(name) => format!("{name} ({id})"),
                None => id.to_owned(),
            };
            cells(name, &|key| figure(p, key))
        })
        .collect();
    let total = cells(lang.t("exchange-whole-country").to_owned(), &|key| {
        provinces.iter().map(|p| figure(p, key)).sum()
    });
    Ok(render(&NationalPage {
        lang,
        path: "/national".into(),
        headers: vec![
            lang.t("exchange-province"),
            lang.t("exchange-received"),
            lang.t("dashboard-resolved-2"),
            lang.t("exchange-returned"),
            lang.t("exchange-returned-time"),
            lang.t("exchange-refused"),
            lang.t("exchange-withdrawn"),
            lang.t("exchange-time"),
        ],
        rows,
        total,
    })
    .into_response())
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    lang: Lang,
    path: String,
    v: app::Verification,
    signed_at: String,
    qr: String,
}

fn verify_view(lang: Lang, v: app::Verification) -> Result<Response, PageError> {
    let qr = documents::qr_svg(&v.verify_url)
        .map_err(|e| PageError::new(lang, app::AppError::Internal(e.to_string())))?;
    let status = if v.file_matches == Some(false) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = VerifyPage {
        lang,
        path: format!("/verify/{}", v.signature.id),
        signed_at: local_time(v.signature.signed_at),
        qr,
        v,
    };
    Ok((status, render(&page)).into_response())
}

async fn verify_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let v = state
        .app
        .verify_result(&id, None)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    verify_view(lang, v)
}

/// Someone holding the file checks it is the one signed.
async fn verify_file(
    State(state): State<AppState>,
    lang: Lang,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let limit = state.app.upload_limit();
    let mut content = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|_| {
                PageError::new(
                    lang,
                    app::AppError::invalid(
                        "file",
                        format!("the file is larger than {limit} bytes"),
                    ),
                )
            })?;
            content = Some(bytes.to_vec());
        }
    }
    let Some(content) = content.filter(|c| !c.is_empty()) else {
        return Err(PageError::new(
            lang,
            app::AppError::Invalid(vec![domain::InvalidField::bilingual(
                "file",
                "choose the file to check",
                "chọn tệp cần kiểm tra",
            )]),
        ));
    };
    let v = state
        .app
        .verify_result(&id, Some(&content))
        .await
        .map_err(|e| PageError::new(lang, e))?;
    verify_view(lang, v)
}

/// The operator's view of the exchange: `/admin/exchange`.
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/exchange", get(admin_page))
        .route("/admin/exchange/members", axum::routing::post(add_member))
        .route("/admin/exchange/grants", axum::routing::post(add_grant))
        .route(
            "/admin/exchange/grants/revoke",
            axum::routing::post(revoke_grant),
        )
}

struct GrantRow {
    service: String,
    client: String,
    granted_by: String,
    at: String,
}

struct FiguresRow {
    day: String,
    service: String,
    client: String,
    calls: i64,
    errors: i64,
    mean_ms: String,
    max_ms: i64,
}

struct EntryRow {
    seq: i64,
    at: String,
    client: String,
    service: String,
    status: i32,
    outcome: String,
    millis: i64,
}

#[derive(Template)]
#[template(path = "admin_exchange.html")]
struct AdminExchangePage {
    lang: Lang,
    path: String,
    member: String,
    public_key: String,
    can_change: bool,
    registry: app::Registry,
    grants: Vec<GrantRow>,
    services: Vec<&'static str>,
    figures: Vec<FiguresRow>,
    log: app::LogPage,
    entries: Vec<EntryRow>,
    push: Option<app::PushState>,
    /// The form sent back with errors (`member` or `grant`), what was typed, and the errors.
    sent: String,
    typed: std::collections::HashMap<String, String>,
    /// The service chosen in the grant form sent back.
    typed_service: String,
    err: crate::forms::FieldErrors,
    summary: Vec<(String, String)>,
}

async fn admin_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: crate::session::SignedIn,
) -> Result<Response, PageError> {
    Ok(render(&admin_view(&state, lang, &signed.user).await?))
}

/// The registry page with a form sent back: its errors beside the fields, what was typed kept.
async fn admin_with_errors(
    state: &AppState,
    lang: Lang,
    user: &domain::user::User,
    sent: &str,
    typed: &[(&str, &str)],
    errors: &[domain::InvalidField],
) -> Result<Response, PageError> {
    let mut page = admin_view(state, lang, user).await?;
    page.sent = sent.to_owned();
    page.typed = typed
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    page.typed_service = page.typed.get("service").cloned().unwrap_or_default();
    page.err = crate::forms::FieldErrors::new(lang, errors);
    page.summary = page.err.summary(&format!("{sent}-"));
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

async fn admin_view(
    state: &AppState,
    lang: Lang,
    user: &domain::user::User,
) -> Result<AdminExchangePage, PageError> {
    let fail = |e| PageError::new(lang, e);
    let app = &state.app;
    let mut registry = app.exchange_registry(user).await.map_err(fail)?;
    let (member, public_key) = app.exchange_identity().map_err(fail)?;
    let since = (app::today() - chrono::Duration::days(30)).to_string();
    let figures = app.exchange_figures(user, &since).await.map_err(fail)?;
    let mut log = app.exchange_log(user, None, 50).await.map_err(fail)?;
    let push = app.push_state().await.map_err(fail)?;
    let grants = std::mem::take(&mut registry.grants)
        .into_iter()
        .map(|g| GrantRow {
            at: local_time(g.granted_at),
            service: g.service,
            client: g.client,
            granted_by: g.granted_by,
        })
        .collect();
    let entries = std::mem::take(&mut log.entries)
        .into_iter()
        .map(|e| EntryRow {
            at: local_time(e.at),
            seq: e.seq,
            client: e.client,
            service: e.service,
            status: e.status,
            outcome: e.outcome,
            millis: e.millis,
        })
        .collect();
    Ok(AdminExchangePage {
        lang,
        path: "/admin/exchange".into(),
        member,
        public_key,
        can_change: user.role == domain::user::Role::SystemAdmin,
        registry,
        grants,
        services: app::SERVICES.iter().map(|s| s.0).collect(),
        figures: figures
            .into_iter()
            .map(|f| FiguresRow {
                mean_ms: format!("{:.1}", f.total_ms as f64 / f.calls.max(1) as f64),
                day: f.day,
                service: f.service,
                client: f.client,
                calls: f.calls,
                errors: f.errors,
                max_ms: f.max_ms,
            })
            .collect(),
        log,
        entries,
        // Only a provincial instance pushes.
        push: (push.updated_at.is_some()).then_some(push),
        sent: String::new(),
        typed: Default::default(),
        typed_service: String::new(),
        err: Default::default(),
        summary: Vec::new(),
    })
}

#[derive(Deserialize)]
struct MemberForm {
    member: String,
    name: String,
    public_key: String,
    url: Option<String>,
}

async fn add_member(
    State(state): State<AppState>,
    lang: Lang,
    signed: crate::session::SignedIn,
    axum::Form(form): axum::Form<MemberForm>,
) -> Result<Response, PageError> {
    let url = form.url.as_deref().unwrap_or("");
    let done = state
        .app
        .register_member(
            &signed.user,
            &form.member,
            &form.name,
            &form.public_key,
            url,
        )
        .await;
    match done {
        Ok(()) => Ok(axum::response::Redirect::to("/admin/exchange").into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let typed = [
                ("member", form.member.as_str()),
                ("name", form.name.as_str()),
                ("public_key", form.public_key.as_str()),
                ("url", url),
            ];
            admin_with_errors(&state, lang, &signed.user, "member", &typed, &errors).await
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

#[derive(Deserialize)]
struct GrantForm {
    service: String,
    client: String,
}

async fn add_grant(
    State(state): State<AppState>,
    lang: Lang,
    signed: crate::session::SignedIn,
    axum::Form(form): axum::Form<GrantForm>,
) -> Result<Response, PageError> {
    let done = state
        .app
        .grant_service(&signed.user, &form.service, form.client.trim())
        .await;
    match done {
        Ok(()) => Ok(axum::response::Redirect::to("/admin/exchange").into_response()),
        Err(app::AppError::Invalid(errors)) => {
            let typed = [
                ("service", form.service.as_str()),
                ("client", form.client.as_str()),
            ];
            admin_with_errors(&state, lang, &signed.user, "grant", &typed, &errors).await
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

async fn revoke_grant(
    State(state): State<AppState>,
    lang: Lang,
    signed: crate::session::SignedIn,
    axum::Form(form): axum::Form<GrantForm>,
) -> Result<Response, PageError> {
    state
        .app
        .revoke_service(&signed.user, &form.service, form.client.trim())
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(axum::response::Redirect::to("/admin/exchange").into_response())
}
