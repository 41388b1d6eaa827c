//! The dossier API: submit, read, act, look up. Callers authenticate with
//! `Authorization: Bearer <token>` (tokens from `motcua token`), except for the public lookup.

use app::{ActionInput, SubmitDossier};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::dossier::record::{ReturnMethod, Satisfaction};
use domain::dossier::{Action, Dossier, EventRecord};
use domain::user::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Failure, Problem};

pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/uploads",
            post(upload).layer(DefaultBodyLimit::max(upload_limit + 64 * 1024)),
        )
        .route("/files/{id}", get(file))
        .route("/drafts", post(save_draft).get(list_drafts))
        .route("/drafts/{id}", axum::routing::delete(delete_draft))
        .route("/procedures/{code}/service", get(service))
        .route("/dossiers", post(submit).get(list))
        .route("/dossiers/{code}", get(read))
        .route("/dossiers/{code}/actions/{action}", post(act))
        .route("/dossiers/{code}/payment", post(start_payment))
        .route("/lookup/{code}", get(lookup))
}

/// The caller, known from their bearer token.
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError(Failure::from(app::AppError::Unauthorized)))?;
        Ok(Caller(state.app.authenticate(token).await?))
    }
}

/// A JSON body error as problem+json naming what is wrong.
pub(crate) fn body_error(rejection: JsonRejection) -> ApiError {
    ApiError(Failure::invalid(vec![domain::InvalidField::new(
        "body",
        rejection.body_text(),
    )]))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub sequence: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub agency: Option<String>,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DossierView {
    pub code: String,
    pub procedure: String,
    /// Effective date of the procedure version the dossier follows.
    pub procedure_version: String,
    pub agency: String,
    /// online, in_person or postal.
    pub channel: String,
    pub applicant: String,
    pub status: String,
    /// The national status code (TrangThaiHoSo, 1–10).
    pub national_status: Option<u8>,
    pub status_name_vi: String,
    pub submitted_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    /// The legal deadline, set at reception.
    pub due_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Send it back with an action: a stale version is refused with 409.
    pub version: i64,
    pub supplement_requests: u32,
    pub apologized: bool,
    /// How many workflow steps are done.
    pub steps_done: u32,
    pub rated: bool,
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    /// The history, oldest first (on reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventView>>,
}

fn view(d: Dossier, events: Option<Vec<EventRecord>>) -> DossierView {
    DossierView {
        procedure: d.procedure.to_string(),
        procedure_version: d.procedure_version.to_string(),
        agency: d.agency.to_string(),
        channel: d.channel.code().into(),
        applicant: d.applicant,
        status: d.state.status.code().into(),
        national_status: d.state.status.national_code(),
        status_name_vi: d.state.status.name_vi().into(),
        submitted_at: d.submitted_at,
        received_at: d.received_at,
        due_at: d.due_at,
        paused_at: d.paused_at,
        ended_at: d.ended_at,
        version: d.version,
        supplement_requests: d.state.supplement_requests,
        apologized: d.state.apologized,
        steps_done: d.state.steps_done,
        rated: d.state.rated,
        form: d.form,
        events: events.map(|list| {
            list.into_iter()
                .map(|e| EventView {
                    sequence: e.sequence,
                    at: e.at,
                    actor: e.actor,
                    agency: e.agency,
                    action: e.action.code().into(),
                    from_status: e.from_status.code().into(),
                    to_status: e.to_status.code().into(),
                    payload: serde_json::from_str(&e.payload).unwrap_or_default(),
                })
                .collect()
        }),
        code: d.code,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubmitBody {
    /// Procedure code, e.g. 1.001193.
    pub procedure: String,
    /// The receiving agency's code, e.g. 001.00.00.H31.
    pub agency: String,
    /// online (citizens), in_person or postal (reception officers).
    pub channel: String,
    /// The e-form's fields.
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    /// For reception officers: the citizen account the dossier belongs to.
    pub applicant: Option<String>,
    /// Uploads (from `POST /api/v1/uploads`), each named as one of the procedure's documents
    /// (see `GET /api/v1/procedures/{code}/service`). Online submissions need every required one.
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// A draft this submission completes; it is deleted once the dossier exists.
    pub draft: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AttachmentBody {
    /// The document's name as the procedure lists it; `result` for a result document.
    pub document: String,
    /// The upload's id.
    pub upload: String,
}

fn choices(list: Vec<AttachmentBody>) -> Vec<app::AttachmentChoice> {
    list.into_iter()
        .map(|a| app::AttachmentChoice {
            document: a.document,
            upload: a.upload,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitResponse {
    pub dossier: DossierView,
    /// Printed on the receipt; with the code it opens the public lookup.
    pub lookup_secret: String,
    pub lookup_url: String,
}

/// Submit a dossier. Send an `Idempotency-Key` header to make retries safe: a retry returns
/// the first dossier (200) instead of creating another (201).
#[utoipa::path(
    post, path = "/api/v1/dossiers", request_body = SubmitBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, body = SubmitResponse), (status = 200, body = SubmitResponse),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn submit(
    State(state): State<AppState>,
    Caller(user): Caller,
    headers: HeaderMap,
    body: Result<Json<SubmitBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(body_error)?;
    let channel = domain::Channel::from_code(&body.channel).ok_or_else(|| {
        ApiError(Failure::invalid(vec![domain::InvalidField::new(
            "channel",
            format!("'{}' is not one of online, in_person, postal", body.channel),
        )]))
    })?;
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let request = SubmitDossier {
        procedure: body.procedure,
        agency: body.agency,
        channel,
        form: body.form,
        applicant: body.applicant,
        attachments: choices(body.attachments),
        draft: body.draft,
    };
    let submitted = state
        .app
        .submit_dossier(&user, request, key.as_deref())
        .await?;
    let status = if submitted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let code = submitted.dossier.code.clone();
    let response = SubmitResponse {
        lookup_url: format!("/api/v1/lookup/{code}?secret={}", submitted.lookup_secret),
        lookup_secret: submitted.lookup_secret,
        dossier: view(submitted.dossier, None),
    };
    Ok((
        status,
        [(header::LOCATION, format!("/api/v1/dossiers/{code}"))],
        Json(response),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct ListParams {
    status: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DossierList {
    pub items: Vec<DossierView>,
    pub limit: usize,
    pub offset: usize,
}

/// "My dossiers" for a citizen; for an official, the dossiers of their agency and the agencies
/// below it (the reception queue with `status=submitted`). Newest first.
#[utoipa::path(
    get, path = "/api/v1/dossiers",
    params(
        ("status" = Option<String>, Query, description = "e.g. submitted, received, in_progress, supplement_requested, resolved"),
        ("limit" = Option<usize>, Query, description = "1 to 100, default 20"),
        ("offset" = Option<usize>, Query),
    ),
    responses((status = 200, body = DossierList), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<DossierList>, ApiError> {
    let mut errors = Vec::new();
    let mut number =
        |name: &str, raw: &Option<String>, default: usize| match raw.as_deref().map(str::trim) {
            None | Some("") => default,
            Some(r) => r.parse().unwrap_or_else(|_| {
                errors.push(domain::InvalidField::new(
                    name,
                    format!("'{r}' is not a whole number of at least 0"),
                ));
                default
            }),
        };
    let limit = number("limit", &params.limit, 20);
    let offset = number("offset", &params.offset, 0);
    let status = match params
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| {
                errors.push(domain::InvalidField::new(
                    "status",
                    format!("'{s}' is not a dossier status"),
                ))
            })
            .ok(),
    };
    if !errors.is_empty() {
        return Err(ApiError(Failure::invalid(errors)));
    }
    let dossiers = state
        .app
        .list_dossiers(&user, status, limit, offset)
        .await?;
    Ok(Json(DossierList {
        items: dossiers.into_iter().map(|d| view(d, None)).collect(),
        limit,
        offset,
    }))
}

/// Whether to show the identifiers and contact details an official sees masked.
#[derive(Debug, Deserialize)]
struct ReadParams {
    reveal: Option<String>,
}

/// A dossier and its history, for its applicant or an official of its agency's subtree.
/// Identifiers and contact details are masked for officials unless `reveal=true`, which the
/// applicant then sees in their access log.
#[utoipa::path(
    get, path = "/api/v1/dossiers/{code}",
    params(("code" = String, Path), ("reveal" = Option<bool>, Query)),
    responses((status = 200, body = DossierView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
async fn read(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(code): Path<String>,
    Query(params): Query<ReadParams>,
) -> Result<Json<DossierView>, ApiError> {
    let reveal = match params.reveal.as_deref().map(str::trim) {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(ApiError::from(app::AppError::invalid(
                "reveal",
                format!("'{other}' is not true or false"),
            )));
        }
    };
    let (dossier, events) = state.app.dossier_for(&user, &code, reveal).await?;
    Ok(Json(view(dossier, Some(events))))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ActionBody {
    /// The dossier version the decision was made on.
    pub version: Option<i64>,
    /// Required to refuse, request a supplement, stop, or apologise.
    pub reason: Option<String>,
    /// For transfer: the agency that takes the dossier over.
    pub to_agency: Option<String>,
    /// For apologize_and_extend: 1 to 60 more working days.
    pub extend_working_days: Option<u32>,
    /// For supplement (documents) and resolve (the `result` document): uploads.
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// For supplement: the corrected e-form, checked against the procedure's schema.
    #[schema(value_type = Option<Object>)]
    pub form: Option<serde_json::Value>,
    /// For rate: very_satisfied, satisfied or dissatisfied.
    pub satisfaction: Option<String>,
    /// For rate: an optional comment.
    pub comment: Option<String>,
    /// For return: online (default), postal or in_person.
    pub return_method: Option<String>,
    /// For request_payment: the amount in VND where the procedure names no fee.
    pub amount_vnd: Option<i64>,
    /// For request_payment: the exempt target group the official checked.
    pub exemption: Option<String>,
    /// For refund: the payment to give back (default: the last paid).
    pub payment: Option<i64>,
}

/// Take an action: receive, refuse, request_supplement, supplement, request_payment,
/// confirm_payment, complete_step, transfer, apologize_and_extend, resolve, return, withdraw,
/// stop, rate, refund. Each role takes its own actions; illegal moves answer 409.
#[utoipa::path(
    post, path = "/api/v1/dossiers/{code}/actions/{action}", request_body = ActionBody,
    params(("code" = String, Path), ("action" = String, Path)),
    responses(
        (status = 200, body = DossierView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn act(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path((code, action)): Path<(String, String)>,
    body: Result<Json<ActionBody>, JsonRejection>,
) -> Result<Json<DossierView>, ApiError> {
    let action = Action::from_code(&action)
        .filter(|a| *a != Action::Submit)
        .ok_or_else(|| {
            let known: Vec<&str> = Action::ALL
                .iter()
                .filter(|a| **a != Action::Submit)
                .map(|a| a.code())
                .collect();
            ApiError(Failure::invalid(vec![domain::InvalidField::new(
                "action",
                format!("'{action}' is not an action; known: {}", known.join(", ")),
            )]))
        })?;
    let Json(body) = body.map_err(body_error)?;
    let mut errors = Vec::new();
    let satisfaction = body.satisfaction.as_deref().and_then(|s| {
        let found = Satisfaction::from_code(s);
        if found.is_none() {
            errors.push(domain::InvalidField::new(
                "satisfaction",
                format!("'{s}' is not one of very_satisfied, satisfied, dissatisfied"),
            ));
        }
        found
    });
    let return_method = body.return_method.as_deref().and_then(|m| {
        let found = ReturnMethod::from_code(m);
        if found.is_none() {
            errors.push(domain::InvalidField::new(
                "return_method",
                format!("'{m}' is not one of online, postal, in_person"),
            ));
        }
        found
    });
    if !errors.is_empty() {
        return Err(ApiError(Failure::invalid(errors)));
    }
    let input = ActionInput {
        version: body.version,
        reason: body.reason,
        to_agency: body.to_agency,
        extend_working_days: body.extend_working_days,
        attachments: choices(body.attachments),
        form: body.form,
        satisfaction,
        comment: body.comment,
        return_method,
        amount_vnd: body.amount_vnd,
        exemption: body.exemption,
        payment: body.payment,
    };
    let dossier = state.app.act(&user, &code, action, input).await?;
    Ok(Json(view(dossier, None)))
}

#[derive(Debug, Deserialize)]
struct LookupParams {
    secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupView {
    pub code: String,
    pub procedure: String,
    pub procedure_name: String,
    pub agency: String,
    pub agency_name: String,
    pub status: String,
    pub national_status: Option<u8>,
    pub status_name_vi: String,
    pub submitted_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
}

/// Public status of a dossier by its code and the secret on its receipt; no personal data.
#[utoipa::path(
    get, path = "/api/v1/lookup/{code}",
    params(("code" = String, Path), ("secret" = String, Query)),
    responses((status = 200, body = LookupView), (status = 404, body = Problem))
)]
async fn lookup(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(params): Query<LookupParams>,
) -> Result<Json<LookupView>, ApiError> {
    let secret = params.secret.unwrap_or_default();
    let s = state.app.lookup(&code, &secret).await?;
    Ok(Json(LookupView {
        national_status: s.status.national_code(),
        status_name_vi: s.status.name_vi().into(),
        status: s.status.code().into(),
        code: s.code,
        procedure: s.procedure,
        procedure_name: s.procedure_name,
        agency: s.agency,
        agency_name: s.agency_name,
        submitted_at: s.submitted_at,
        due_at: s.due_at,
    }))
}

/// Where the applicant pays a dossier's fee request.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStart {
    /// The provider's payment page for the order (the same order until it is paid, fails or
    /// expires); the provider's IPN confirms the payment, and the dossier moves on by itself.
    pub url: String,
}

/// Start paying a dossier's fees online: the applicant's own dossier, while it awaits a fee
/// request (409 otherwise).
#[utoipa::path(
    post, path = "/api/v1/dossiers/{code}/payment",
    params(("code" = String, Path)),
    responses(
        (status = 200, body = PaymentStart), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn start_payment(
    State(state): State<AppState>,
    Caller(user): Caller,
    crate::limits::ClientAddress(client): crate::limits::ClientAddress,
    Path(code): Path<String>,
) -> Result<Json<PaymentStart>, ApiError> {
    let url = state
        .app
        .start_payment(&user, &code, &client.to_string())
        .await?;
    Ok(Json(PaymentStart { url }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    pub id: String,
    pub file_name: String,
    /// Judged from the content, not the name.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

impl From<domain::attachment::Attachment> for UploadView {
    fn from(a: domain::attachment::Attachment) -> Self {
        Self {
            id: a.id,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
        }
    }
}

/// Upload a file (multipart, one part named `file`) to attach to a dossier afterwards. The
/// type is judged from the content; PDF, JPEG, PNG, DOC, DOCX and XLSX are accepted.
#[utoipa::path(
    post, path = "/api/v1/uploads",
    request_body(content_type = "multipart/form-data", description = "a part named `file`"),
    responses(
        (status = 201, body = UploadView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 413, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn upload(
    State(state): State<AppState>,
    Caller(user): Caller,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let limit = state.app.upload_limit();
    let too_large = || {
        let mut failure = Failure::invalid(vec![domain::InvalidField::bilingual(
            "file",
            format!("the upload is larger than the limit of {limit} bytes"),
            format!("tệp vượt giới hạn {limit} byte"),
        )]);
        failure.status = StatusCode::PAYLOAD_TOO_LARGE;
        ApiError(failure)
    };
    while let Some(field) = multipart.next_field().await.map_err(|_| too_large())? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|_| too_large())?;
        if bytes.len() > limit {
            return Err(too_large());
        }
        let a = state.app.upload(&user, &name, bytes.to_vec()).await?;
        return Ok((StatusCode::CREATED, Json(UploadView::from(a))).into_response());
    }
    Err(ApiError(Failure::invalid(vec![domain::InvalidField::new(
        "file",
        "send the file as a multipart part named 'file'",
    )])))
}

/// Download a file: the uploader's own, or one of a dossier the caller may see.
#[utoipa::path(
    get, path = "/api/v1/files/{id}", params(("id" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
async fn file(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (file, content) = state.app.file_for(&user, &id).await?;
    Ok(crate::desk::file_response(&file, content))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub procedure: String,
    /// False when the procedure gets the generic design.
    pub designed: bool,
    /// The e-form's JSON Schema.
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    pub documents: Vec<DocumentView>,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub name: String,
    pub required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub name_vi: String,
    pub name_en: String,
    pub role: String,
    pub level: Option<String>,
    /// Percent of the processing time.
    pub share: u32,
}

/// How a procedure is served online: its e-form schema, documents and processing steps.
#[utoipa::path(
    get, path = "/api/v1/procedures/{code}/service", params(("code" = String, Path)),
    responses((status = 200, body = ServiceView), (status = 404, body = Problem))
)]
async fn service(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ServiceView>, ApiError> {
    let (procedure, served) = state.app.application(&code).await?;
    Ok(Json(ServiceView {
        procedure: procedure.code.to_string(),
        designed: served.designed,
        form: served.design.form.clone(),
        documents: served
            .design
            .documents
            .iter()
            .map(|d| DocumentView {
                name: d.name.clone(),
                required: d.required,
            })
            .collect(),
        steps: served
            .design
            .steps
            .iter()
            .map(|s| StepView {
                name_vi: s.name_vi.clone(),
                name_en: s.name_en.clone(),
                role: s.role.code().into(),
                level: s.level.clone(),
                share: s.share,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DraftBody {
    /// The draft to update; a new one when absent.
    pub id: Option<String>,
    pub procedure: String,
    pub agency: Option<String>,
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DraftView {
    pub id: String,
    pub procedure: String,
    pub agency: Option<String>,
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

fn draft_view(d: domain::dossier::Draft) -> DraftView {
    DraftView {
        id: d.id,
        procedure: d.procedure.to_string(),
        agency: d.agency.map(|a| a.to_string()),
        form: d.form,
        updated_at: d.updated_at,
    }
}

/// Save a draft application (not checked against the e-form until it is submitted).
#[utoipa::path(
    post, path = "/api/v1/drafts", request_body = DraftBody,
    responses((status = 200, body = DraftView), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
async fn save_draft(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Result<Json<DraftBody>, JsonRejection>,
) -> Result<Json<DraftView>, ApiError> {
    let Json(body) = body.map_err(body_error)?;
    let draft = state
        .app
        .save_draft(
            &user,
            app::SaveDraft {
                id: body.id,
                procedure: body.procedure,
                agency: body.agency,
                form: body.form,
                attachments: choices(body.attachments),
            },
        )
        .await?;
    Ok(Json(draft_view(draft)))
}

/// The caller's drafts, most recently changed first.
#[utoipa::path(
    get, path = "/api/v1/drafts",
    responses((status = 200, body = Vec<DraftView>), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
async fn list_drafts(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<DraftView>>, ApiError> {
    let drafts = state.app.drafts(&user).await?;
    Ok(Json(drafts.into_iter().map(draft_view).collect()))
}

/// Delete one of the caller's drafts.
#[utoipa::path(
    delete, path = "/api/v1/drafts/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
async fn delete_draft(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_draft(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
