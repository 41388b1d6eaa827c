//! The pages where people work with dossiers: sign-in, the e-form, "my dossiers" and the
//! officials' queue, a dossier with its timeline and actions, the printed forms, downloads.
//! Everything works without JavaScript; forms post multipart so files go with them.

use app::{ActionInput, AttachmentChoice, DossierContext, SaveDraft, Served, SubmitDossier};
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::dossier::record::{ReturnMethod, Satisfaction};
use domain::dossier::{Action, Status};
use domain::service::{FieldKind, RESULT_DOCUMENT};
use domain::user::{Role, User};
use domain::{Channel, InvalidField, Procedure};
use serde::Deserialize;

use crate::AppState;
use crate::error::Failure;
use crate::i18n::Lang;
use crate::pages::{PageError, local_time, render};
use crate::printed;
use crate::session::SignedIn;

pub fn routes(upload_limit: usize) -> Router<AppState> {
    // Room for a form with a file per document.
    let body_limit = upload_limit.saturating_mul(4) + 1024 * 1024;
    Router::new()
        .route("/procedures/{code}/apply", get(apply_page).post(apply))
        .route("/dossiers", get(dossier_list))
        .route("/dossiers/{code}", get(dossier_page))
        .route("/dossiers/{code}/act", post(act))
        .route("/dossiers/{code}/print/{document}", get(print))
        .route("/files/{id}", get(download))
        .layer(DefaultBodyLimit::max(body_limit))
}

/// A field problem in the reader's language.
pub(crate) fn reason(lang: Lang, field: &InvalidField) -> String {
    match (lang, &field.reason_vi) {
        (Lang::Vi, Some(vi)) => vi.clone(),
        _ => field.reason.clone(),
    }
}

// ---- the e-form ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    lang: Lang,
    path: String,
    code: String,
    name: String,
    fields: Vec<FieldView>,
    documents: Vec<DocumentView>,
    /// The citizen's data warehouse, offered in place of an upload: id and a label.
    warehouse: Vec<(String, String)>,
    /// Other agencies' systems a citizen's signed result can be fetched from: id and name.
    sources: Vec<(String, String)>,
    agencies: Vec<(String, String, bool)>,
    /// Reception officers enter in-person and postal dossiers for someone.
    for_official: bool,
    applicant: String,
    draft: String,
    errors: Vec<(String, String)>,
    started: i64,
}

pub(crate) struct FieldView {
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) hint: String,
    pub(crate) required: bool,
    /// text, textarea, date, email, number or select.
    pub(crate) widget: &'static str,
    pub(crate) options: Vec<String>,
    pub(crate) value: String,
    pub(crate) max_length: String,
    pub(crate) error: String,
}

/// The e-form's fields as the page draws them, with what was typed and the errors found.
pub(crate) fn field_views(
    lang: Lang,
    form: &domain::service::FormSchema,
    value_of: &dyn Fn(&str) -> String,
    error_for: &dyn Fn(&str) -> String,
) -> Vec<FieldView> {
    form.fields
        .iter()
        .map(|f| {
            let (widget, options) = match &f.kind {
                FieldKind::Text => ("text", Vec::new()),
                FieldKind::LongText => ("textarea", Vec::new()),
                FieldKind::Date => ("date", Vec::new()),
                FieldKind::Email => ("email", Vec::new()),
                FieldKind::Integer | FieldKind::Number => ("number", Vec::new()),
                FieldKind::Choice(options) => ("select", options.clone()),
            };
            FieldView {
                name: f.name.clone(),
                title: lang.pick(&f.title_vi, &f.title_en).to_owned(),
                hint: match lang {
                    Lang::Vi => f.hint_vi.clone(),
                    Lang::En => f.hint_en.clone(),
                }
                .unwrap_or_default(),
                required: f.required,
                widget,
                options,
                value: value_of(&f.name),
                max_length: f.max_length.map(|m| m.to_string()).unwrap_or_default(),
                error: error_for(&format!("form.{}", f.name)),
            }
        })
        .collect()
}

struct DocumentView {
    index: usize,
    name: String,
    required: bool,
    /// An upload already made (from a draft or an earlier try): its id and file name.
    kept: Option<(String, String)>,
    error: String,
    /// What was typed to fetch it from another agency: the member and the result's id.
    fetch_member: String,
    fetch_result: String,
}

/// What the applicant has entered so far.
#[derive(Default)]
struct Entered {
    /// When the e-form was first drawn (Unix seconds), carried through re-renders, for the
    /// time-to-submit counter.
    started: Option<i64>,
    values: Vec<(String, String)>,
    agency: String,
    applicant: String,
    channel: String,
    draft: String,
    /// Per document index: an upload id and file name.
    kept: Vec<(usize, String, String)>,
}

impl Entered {
    /// The upload now given for document `index`, in place of any before it.
    fn keep(&mut self, index: usize, upload: domain::attachment::Attachment) {
        self.kept.retain(|(i, _, _)| *i != index);
        self.kept.push((index, upload.id, upload.file_name));
    }
}

async fn apply_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(code): Path<String>,
    Query(q): Query<DraftParam>,
) -> Result<Response, PageError> {
    let (procedure, served) = state
        .app
        .application(&code)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let mut entered = Entered::default();
    if let Some(id) = q.draft.filter(|d| !d.is_empty()) {
        let draft = state
            .app
            .draft_for(&signed.user, &id)
            .await
            .map_err(|e| PageError::new(lang, e))?;
        entered.values = draft
            .form
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        entered.agency = draft.agency.map(|a| a.to_string()).unwrap_or_default();
        for (document, upload) in draft.attachments {
            let documents = &served.design.documents;
            let Some(i) = documents.iter().position(|d| d.name == document) else {
                continue;
            };
            // An upload used since (or gone) is simply not offered again.
            if let Some(file) = state
                .app
                .own_upload(&signed.user, &upload)
                .await
                .map_err(|e| PageError::new(lang, e))?
            {
                entered.kept.push((i, file.id, file.file_name));
            }
        }
        entered.draft = draft.id;
    }
    if signed.user.role == Role::Citizen && entered.draft.is_empty() {
        state.app.count_form_opened(&procedure.code).await;
    }
    let page = apply_view(
        &state,
        lang,
        &signed.user,
        &procedure,
        &served,
        entered,
        &[],
    )
    .await?;
    Ok(render(&page))
}

#[derive(Deserialize)]
struct DraftParam {
    draft: Option<String>,
}

async fn apply_view(
    state: &AppState,
    lang: Lang,
    user: &User,
    procedure: &Procedure,
    served: &Served,
    entered: Entered,
    errors: &[InvalidField],
) -> Result<ApplyPage, PageError> {
    let error_for = |name: &str| {
        errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| reason(lang, e))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let value_of = |name: &str| {
        entered
            .values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let fields = field_views(lang, &served.form, &value_of, &error_for);
    let documents = served
        .design
        .documents
        .iter()
        .enumerate()
        .map(|(index, d)| DocumentView {
            index,
            name: d.name.clone(),
            required: d.required,
            kept: entered
                .kept
                .iter()
                .find(|(i, _, _)| *i == index)
                .map(|(_, id, name)| (id.clone(), name.clone())),
            fetch_member: value_of(&format!("fetch-member-{index}")),
            fetch_result: value_of(&format!("fetch-result-{index}")),
            error: {
                let mut problems = vec![error_for(&format!("doc-{index}"))];
                problems.extend(
                    errors
                        .iter()
                        .filter(|e| e.field == "attachments" && e.reason.ends_with(&d.name))
                        .map(|e| reason(lang, e)),
                );
                problems.retain(|p| !p.is_empty());
                problems.join("; ")
            },
        })
        .collect();
    let warehouse = if user.role == Role::Citizen {
        state
            .app
            .warehouse(user)
            .await
            .map_err(|e| PageError::new(lang, e))?
            .into_iter()
            .map(|item| {
                let kind = if item.is_result {
                    lang.t("desk-e-result")
                } else {
                    item.document.as_str()
                };
                (
                    item.id,
                    format!("{} ({kind}, {})", item.file_name, item.dossier),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let sources = if user.role == Role::Citizen {
        // An instance without the exchange offers none.
        state.app.callable_members().await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let agencies = state
        .app
        .agencies_at(&procedure.levels)
        .await
        .map_err(|e| PageError::new(lang, e))?
        .into_iter()
        .filter(|a| match (&user.role, &user.agency) {
            (Role::Reception, Some(own)) => a.code == *own,
            _ => true,
        })
        .map(|a| {
            let chosen = a.code.as_str() == entered.agency;
            (a.code.to_string(), a.name, chosen)
        })
        .collect();
    let errors = errors
        .iter()
        .map(|e| (anchor(&e.field), reason(lang, e)))
        .collect();
    Ok(ApplyPage {
        lang,
        path: format!("/procedures/{}/apply", procedure.code),
        code: procedure.code.to_string(),
        name: procedure.name.clone(),
        fields,
        documents,
        warehouse,
        sources,
        agencies,
        for_official: user.role == Role::Reception,
        applicant: entered.applicant,
        draft: entered.draft,
        errors,
        started: entered
            .started
            .unwrap_or_else(|| chrono::Utc::now().timestamp()),
    })
}

/// Counts a citizen's e-form sent back with errors, by field (`form.x` counted as `x`).
async fn count_errors(
    state: &AppState,
    user: &User,
    procedure: &Procedure,
    errors: &[InvalidField],
) {
    if user.role != Role::Citizen {
        return;
    }
    let mut fields: Vec<String> = errors
        .iter()
        .map(|e| e.field.strip_prefix("form.").unwrap_or(&e.field).to_owned())
        .collect();
    fields.sort();
    fields.dedup();
    state.app.count_form_errors(&procedure.code, &fields).await;
}

/// Why a document could not be fetched from another agency, next to its field: the other
/// side's refusal, absence or outage is told to the citizen, not raised as a page error.
fn fetch_problem(index: usize, e: app::AppError) -> Result<InvalidField, app::AppError> {
    let field = format!("doc-{index}");
    Ok(match e {
        app::AppError::Invalid(fields) => {
            let first = fields.into_iter().next();
            InvalidField {
                field,
                ..first.unwrap_or_else(|| InvalidField::new("", "the request is not valid"))
            }
        }
        app::AppError::NotFound { .. } => InvalidField::bilingual(
            field,
            "that agency holds no signed result with this id",
            "cơ quan này không giữ kết quả có mã này",
        ),
        app::AppError::Forbidden(why)
        | app::AppError::Unavailable(why)
        | app::AppError::Conflict(why) => InvalidField::bilingual(
            field,
            format!("the document could not be fetched: {why}"),
            format!("không lấy được giấy tờ: {why}"),
        ),
        other => return Err(other),
    })
}

/// The id of the input an error is about, for the error summary's links.
fn anchor(field: &str) -> String {
    if let Some(name) = field.strip_prefix("form.") {
        return format!("f-{name}");
    }
    if field.starts_with("doc-") {
        return field.to_owned();
    }
    if field == "attachments" {
        return "documents".into();
    }
    field.to_owned()
}

/// A multipart form: its text fields and its files.
struct Posted {
    text: Vec<(String, String)>,
    files: Vec<(String, String, Vec<u8>)>,
}

impl Posted {
    fn get(&self, name: &str) -> Option<&str> {
        self.text
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

async fn read_multipart(mut multipart: Multipart, limit: usize) -> Result<Posted, Failure> {
    let too_large = || {
        Failure::invalid(vec![InvalidField::bilingual(
            "file",
            format!("the form with its files is too large; each file may be at most {limit} bytes"),
            format!("biểu mẫu và tệp quá lớn; mỗi tệp tối đa {limit} byte"),
        )])
    };
    let mut posted = Posted {
        text: Vec::new(),
        files: Vec::new(),
    };
    while let Some(field) = multipart.next_field().await.map_err(|_| too_large())? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(|_| too_large())?;
                // A file input left empty still sends a part with no name and no content.
                if !file_name.is_empty() || !bytes.is_empty() {
                    posted.files.push((name, file_name, bytes.to_vec()));
                }
            }
            None => {
                let text = field.text().await.map_err(|_| too_large())?;
                posted.text.push((name, text));
            }
        }
    }
    Ok(posted)
}

async fn apply(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let user = &signed.user;
    let (procedure, served) = state
        .app
        .application(&code)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let mut posted = read_multipart(multipart, state.app.upload_limit())
        .await
        .map_err(|f| PageError::new(lang, f))?;
    let saving_draft = posted.get("intent") == Some("draft");
    let mut errors = Vec::new();
    let mut entered = Entered {
        started: posted.get("started").and_then(|s| s.parse().ok()),
        values: posted.text.clone(),
        agency: posted.get("agency").unwrap_or_default().to_owned(),
        applicant: posted.get("applicant").unwrap_or_default().to_owned(),
        channel: posted.get("channel").unwrap_or("online").to_owned(),
        draft: posted.get("draft").unwrap_or_default().to_owned(),
        kept: Vec::new(),
    };
    for (i, _) in served.design.documents.iter().enumerate() {
        if let Some(id) = posted.get(&format!("kept-{i}")) {
            let name = posted.get(&format!("kept-name-{i}")).unwrap_or(id);
            entered.kept.push((i, id.to_owned(), name.to_owned()));
        }
    }
    let mut sent = Vec::new();
    for (name, file_name, bytes) in std::mem::take(&mut posted.files) {
        let Some(index) = name
            .strip_prefix("doc-")
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|i| *i < served.design.documents.len())
        else {
            continue;
        };
        sent.push(index);
        match state.app.upload(user, &file_name, bytes).await {
            Ok(a) => {
                entered.keep(index, a);
            }
            Err(app::AppError::Invalid(fields)) => {
                errors.extend(fields.into_iter().map(|f| InvalidField {
                    field: format!("doc-{index}"),
                    ..f
                }))
            }
            Err(e) => return Err(PageError::new(lang, e)),
        }
    }
    // A document taken from the data warehouse, where no file was sent for it.
    for index in (0..served.design.documents.len()).filter(|i| !sent.contains(i)) {
        let Some(source) = posted
            .get(&format!("reuse-{index}"))
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        match state.app.reuse_document(user, source).await {
            Ok(a) => {
                entered.keep(index, a);
            }
            Err(app::AppError::NotFound { .. }) => errors.push(InvalidField::bilingual(
                format!("doc-{index}"),
                "that document is not in your data warehouse",
                "giấy tờ này không có trong kho dữ liệu của bạn",
            )),
            Err(e) => return Err(PageError::new(lang, e)),
        }
    }
    // A signed result fetched from another agency, where neither a file nor a warehouse
    // document was given for it.
    for index in (0..served.design.documents.len()).filter(|i| !sent.contains(i)) {
        let field = |name: &str| posted.get(&format!("{name}-{index}")).unwrap_or_default();
        let (member, result) = (field("fetch-member"), field("fetch-result").trim());
        if member.is_empty() && result.is_empty() || !field("reuse").is_empty() {
            continue;
        }
        let consent = field("fetch-consent") == "yes";
        let fetched = state
            .app
            .fetch_from_member(user, member, result, consent)
            .await;
        match fetched {
            Ok(a) => {
                entered.keep(index, a);
            }
            Err(e) => errors.push(fetch_problem(index, e).map_err(|e| PageError::new(lang, e))?),
        }
    }
    let attachments: Vec<AttachmentChoice> = entered
        .kept
        .iter()
        .map(|(i, id, _)| AttachmentChoice {
            document: served.design.documents[*i].name.clone(),
            upload: id.clone(),
        })
        .collect();
    let form = served.form.from_text(&entered.values);
    let draft_id = (!entered.draft.is_empty()).then(|| entered.draft.clone());
    if saving_draft && errors.is_empty() {
        let saved = state
            .app
            .save_draft(
                user,
                SaveDraft {
                    id: draft_id,
                    procedure: code.clone(),
                    agency: Some(entered.agency.clone()).filter(|a| !a.is_empty()),
                    form: form.clone(),
                    attachments,
                },
            )
            .await;
        return match saved {
            Ok(_) => Ok(Redirect::to("/dossiers?saved=1").into_response()),
            Err(app::AppError::Invalid(fields)) => {
                let page =
                    apply_view(&state, lang, user, &procedure, &served, entered, &fields).await?;
                Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
            }
            Err(e) => Err(PageError::new(lang, e)),
        };
    }
    if !errors.is_empty() {
        // Show every problem at once: the form's too, not only the files'.
        errors.extend(served.form.check(&form).into_iter().map(InvalidField::from));
        count_errors(&state, user, &procedure, &errors).await;
        let page = apply_view(&state, lang, user, &procedure, &served, entered, &errors).await?;
        return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
    }
    let channel = Channel::from_code(&entered.channel).unwrap_or(Channel::Online);
    let request = SubmitDossier {
        procedure: code.clone(),
        agency: entered.agency.clone(),
        channel,
        form,
        applicant: (user.role == Role::Reception).then(|| entered.applicant.clone()),
        attachments,
        draft: draft_id,
    };
    match state.app.submit_dossier(user, request, None).await {
        Ok(submitted) => {
            if user.role == Role::Citizen {
                let seconds = entered.started.map(|t| chrono::Utc::now().timestamp() - t);
                state
                    .app
                    .count_form_submitted(&procedure.code, seconds)
                    .await;
            }
            Ok(Redirect::to(&format!(
                "/dossiers/{}?submitted=1",
                urlencoding::encode(&submitted.dossier.code)
            ))
            .into_response())
        }
        Err(app::AppError::Invalid(fields)) => {
            count_errors(&state, user, &procedure, &fields).await;
            let page =
                apply_view(&state, lang, user, &procedure, &served, entered, &fields).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

// ---- lists ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "dossiers.html")]
struct ListPage {
    lang: Lang,
    path: String,
    user_name: String,
    official: bool,
    /// Leaders and those above them also have the dashboard.
    sees_dashboard: bool,
    tabs: Vec<(String, String, bool)>,
    rows: Vec<ListRow>,
    drafts: Vec<(String, String, String, String)>,
    notice: String,
}

struct ListRow {
    code: String,
    procedure: String,
    status: String,
    submitted: String,
    due: String,
    overdue: bool,
}

#[derive(Deserialize)]
struct ListParams {
    status: Option<String>,
    saved: Option<String>,
}

/// "My dossiers" for a citizen; the queue of their agency for an official.
async fn dossier_list(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<ListParams>,
) -> Result<Response, PageError> {
    let user = &signed.user;
    // Administrators read no dossiers: their page is the one for elevations and tools.
    if matches!(user.role, Role::SystemAdmin | Role::AgencyAdmin) {
        return Ok(Redirect::to("/admin").into_response());
    }
    let official = user.role.is_official();
    let wanted = q.status.as_deref().and_then(Status::from_code);
    let status = match (official, q.status.as_deref()) {
        // The reception queue comes first for officials.
        (true, None) => Some(Status::Submitted),
        _ => wanted,
    };
    let dossiers = state
        .app
        .list_dossiers(user, status, app::MAX_LIMIT, 0)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let now = chrono::Utc::now();
    let mut rows = Vec::with_capacity(dossiers.len());
    for d in dossiers {
        rows.push(ListRow {
            procedure: state
                .app
                .procedure_name(&d.procedure, d.procedure_version)
                .await,
            status: lang.status(d.state.status).into(),
            submitted: local_time(d.submitted_at),
            due: d.due_at.map(local_time).unwrap_or_default(),
            overdue: d.due_at.is_some_and(|due| due < now) && d.ended_at.is_none(),
            code: d.code,
        });
    }
    let mut drafts = Vec::new();
    if !official {
        for draft in state
            .app
            .drafts(user)
            .await
            .map_err(|e| PageError::new(lang, e))?
        {
            drafts.push((
                draft.id,
                draft.procedure.to_string(),
                state
                    .app
                    .procedure_name(&draft.procedure, app::today())
                    .await,
                local_time(draft.updated_at),
            ));
        }
    }
    let current = status.map(|s| s.code()).unwrap_or("all");
    let tabs = if official {
        [
            Status::Submitted,
            Status::Received,
            Status::InProgress,
            Status::SupplementRequested,
            Status::Resolved,
        ]
        .iter()
        .map(|s| (s.code().to_owned(), lang.status(*s).to_owned()))
        .chain(std::iter::once((
            "all".to_owned(),
            lang.t("dashboard-all").to_owned(),
        )))
        .map(|(code, name)| {
            let here = code == current;
            (code, name, here)
        })
        .collect()
    } else {
        Vec::new()
    };
    Ok(render(&ListPage {
        lang,
        path: "/dossiers".into(),
        user_name: user.full_name.clone(),
        official,
        sees_dashboard: matches!(
            user.role,
            Role::Leader | Role::AgencyAdmin | Role::SystemAdmin | Role::Auditor
        ),
        tabs,
        rows,
        drafts,
        notice: if q.saved.is_some() {
            lang.t("desk-draft-saved").into()
        } else {
            String::new()
        },
    }))
}

// ---- one dossier ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "dossier.html")]
struct DossierPage {
    lang: Lang,
    path: String,
    code: String,
    procedure: String,
    procedure_code: String,
    status: String,
    national_status: String,
    agency: String,
    applicant: String,
    channel: String,
    submitted: String,
    received: String,
    due: String,
    lookup_secret: String,
    official: bool,
    form: Vec<(String, String)>,
    /// Identifiers and contact details are masked: a link shows them (and is recorded).
    masked: bool,
    /// For auditors: the applicant's access log.
    audit_href: Option<String>,
    files: Vec<(String, String, String, String)>,
    steps: Vec<(String, String, String)>,
    timeline: Vec<TimelineEntry>,
    actions: Vec<ActionForm>,
    version: i64,
    errors: Vec<String>,
    notice: String,
    /// The fees awaited now: the amount, its lines, and whether the reader pays them online.
    fee_due: Option<FeeDue>,
    payments: Vec<PaymentRow>,
    /// Each message sent about the dossier: when, what, how, whether it arrived.
    notifications: Vec<(String, String, String, String)>,
}

struct FeeDue {
    amount: String,
    lines: Vec<(String, String)>,
    can_pay: bool,
}

struct PaymentRow {
    at: String,
    txn_ref: String,
    amount: String,
    status: String,
    receipt: Option<(i64, String)>,
}

/// A payment's status in the reader's language.
pub(crate) fn payment_status(lang: Lang, status: app::PaymentStatus) -> &'static str {
    match status {
        app::PaymentStatus::Pending => lang.t("desk-awaiting-confirmation"),
        app::PaymentStatus::Paid => lang.t("desk-paid"),
        app::PaymentStatus::Failed => lang.t("desk-failed"),
        app::PaymentStatus::Refunded => lang.t("desk-refunded"),
    }
}

fn delivery_status(lang: Lang, n: &app::Notification) -> String {
    let text = match n.status {
        app::DeliveryStatus::Sent => lang.t("desk-sent"),
        app::DeliveryStatus::Pending if n.attempts > 0 => lang.t("desk-will-retried"),
        app::DeliveryStatus::Pending => lang.t("desk-waiting-sent"),
        app::DeliveryStatus::Dead => lang.t("desk-could-not-delivered"),
        app::DeliveryStatus::Skipped => lang.t("desk-not-sent-no-provider"),
    };
    text.to_owned()
}

struct TimelineEntry {
    at: String,
    what: String,
    who: String,
    detail: String,
    notice: Option<u64>,
}

/// One action the reader may take now, with the inputs it needs.
struct ActionForm {
    code: &'static str,
    label: String,
    reason: bool,
    /// For a fee request: the exempt target groups to choose from (and an amount field).
    exemptions: Option<Vec<String>>,
    agencies: Vec<(String, String)>,
    extend: bool,
    files: bool,
    documents: Vec<String>,
    rating: bool,
    return_method: bool,
}

#[derive(Deserialize)]
struct DossierParams {
    submitted: Option<String>,
    /// Show the identifiers and contact details (recorded in the applicant's access log).
    reveal: Option<String>,
}

async fn dossier_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(code): Path<String>,
    Query(q): Query<DossierParams>,
) -> Result<Response, PageError> {
    let purpose = if q.reveal.is_some() {
        app::AccessPurpose::Reveal
    } else {
        app::AccessPurpose::View
    };
    let ctx = state
        .app
        .dossier_context(&signed.user, &code, purpose)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let notice = if q.submitted.is_some() {
        lang.t("desk-your-dossier-submitted-print").into()
    } else {
        String::new()
    };
    let page = dossier_view(&state, lang, &signed.user, ctx, Vec::new(), notice).await?;
    Ok(render(&page))
}

async fn dossier_view(
    state: &AppState,
    lang: Lang,
    user: &User,
    ctx: DossierContext,
    errors: Vec<String>,
    notice: String,
) -> Result<DossierPage, PageError> {
    let d = &ctx.dossier;
    let form = ctx
        .served
        .form
        .fields
        .iter()
        .filter_map(|f| {
            let value = d.form.get(&f.name)?;
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            Some((lang.pick(&f.title_vi, &f.title_en).to_owned(), text))
        })
        .collect();
    let files = ctx
        .files
        .iter()
        .map(|f| {
            let document = if f.document == RESULT_DOCUMENT {
                lang.t("desk-result").to_owned()
            } else {
                f.document.clone()
            };
            (
                f.id.clone(),
                document,
                f.file_name.clone(),
                f.sha256.clone(),
            )
        })
        .collect();
    let steps = ctx
        .steps
        .iter()
        .map(|s| {
            (
                lang.pick(&s.name_vi, &s.name_en).to_owned(),
                s.due_at.map(local_time).unwrap_or_default(),
                s.done
                    .as_ref()
                    .map(|(at, who)| format!("{} — {who}", local_time(*at)))
                    .unwrap_or_default(),
            )
        })
        .collect();
    let timeline = ctx
        .events
        .iter()
        .rev()
        .map(|e| {
            let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
            let mut detail = Vec::new();
            for (key, label) in [
                ("reason", lang.t("admin-reason")),
                ("step_name", lang.t("dossier-step")),
                ("to_agency", lang.t("desk-sent-2")),
                ("satisfaction", lang.t("desk-rating")),
                ("comment", lang.t("dossier-comment")),
            ] {
                if let Some(v) = payload.get(key).and_then(|v| v.as_str()) {
                    let v = match Satisfaction::from_code(v) {
                        Some(s) => lang.pick(s.name_vi(), s.name_en()).to_owned(),
                        None => v.to_owned(),
                    };
                    detail.push(format!("{label}: {v}"));
                }
            }
            if let Some(due) = payload
                .get("due_at")
                .and_then(|v| v.as_str())
                .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
            {
                detail.push(format!(
                    "{}: {}",
                    lang.t("dossiers-due"),
                    local_time(due.to_utc())
                ));
            }
            TimelineEntry {
                at: local_time(e.at),
                what: format!("{} — {}", lang.action(e.action), lang.status(e.to_status)),
                who: e.actor.clone(),
                detail: detail.join(" · "),
                notice: printed::notice_title(e.action).map(|_| e.sequence),
            }
        })
        .collect();
    let actions = action_forms(state, lang, user, &ctx).await?;
    let fee_due = ctx.fee_due.as_ref().map(|fee| FeeDue {
        amount: domain::fees::format_vnd(fee.amount_vnd),
        lines: fee
            .lines
            .iter()
            .map(|l| (l.name.clone(), domain::fees::format_vnd(l.amount_vnd)))
            .collect(),
        can_pay: d.applicant == user.username && state.app.payments_enabled(),
    });
    let payments = ctx
        .payments
        .iter()
        .map(|p| PaymentRow {
            at: local_time(p.created_at),
            txn_ref: p.txn_ref.clone(),
            amount: domain::fees::format_vnd(p.amount_vnd),
            status: payment_status(lang, p.status).to_owned(),
            receipt: p.receipt_no.clone().map(|no| (p.id, no)),
        })
        .collect();
    let notifications = ctx
        .notifications
        .iter()
        .map(|n| {
            (
                local_time(n.created_at),
                domain::notify::render(n.template, lang.for_messages(), &n.facts).subject,
                n.channel.clone(),
                delivery_status(lang, n),
            )
        })
        .collect();
    Ok(DossierPage {
        fee_due,
        payments,
        notifications,
        lang,
        path: format!("/dossiers/{}", d.code),
        code: d.code.clone(),
        procedure: ctx.procedure.name.clone(),
        procedure_code: d.procedure.to_string(),
        status: lang.status(d.state.status).into(),
        national_status: d
            .state
            .status
            .national_code()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        agency: ctx
            .agency
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        applicant: ctx
            .applicant
            .as_ref()
            .map_or_else(|| d.applicant.clone(), |u| u.full_name.clone()),
        channel: lang.channel_name(d.channel).into(),
        submitted: local_time(d.submitted_at),
        received: d.received_at.map(local_time).unwrap_or_default(),
        due: d.due_at.map(local_time).unwrap_or_default(),
        lookup_secret: ctx.lookup_secret.clone(),
        official: user.role.is_official(),
        masked: !ctx.revealed && ctx.served.form.fields.iter().any(|f| f.personal),
        audit_href: (user.role == Role::Auditor).then(|| {
            format!(
                "/audit/access?subject={}",
                urlencoding::encode(&d.applicant)
            )
        }),
        form,
        files,
        steps,
        timeline,
        actions,
        version: d.version,
        errors,
        notice,
    })
}

/// The actions the reader's role may take in the dossier's status (and, for a step, only
/// when the current step is theirs).
async fn action_forms(
    state: &AppState,
    lang: Lang,
    user: &User,
    ctx: &DossierContext,
) -> Result<Vec<ActionForm>, PageError> {
    let d = &ctx.dossier;
    let design = &ctx.served.design;
    let current = design.steps.get(d.state.steps_done as usize);
    let next_level = design
        .steps
        .get(d.state.steps_done as usize + 1)
        .and_then(|s| s.level.clone());
    let mut forms = Vec::new();
    let mut tree: Option<Vec<domain::Agency>> = None;
    for action in Action::ALL {
        if action == Action::Submit || !user.role.may(action) || d.state.apply(action).is_err() {
            continue;
        }
        let step_role = current.map(|s| s.role);
        if action == Action::CompleteStep && step_role != Some(Role::Handler) {
            continue;
        }
        if action == Action::Resolve && step_role != Some(Role::Approver) {
            continue;
        }
        let levels: Option<Vec<String>> = match action {
            Action::Transfer => Some(vec!["province".into(), "commune".into(), "central".into()]),
            Action::CompleteStep => next_level.clone().map(|l| vec![l]),
            _ => None,
        };
        let agencies = match levels {
            Some(levels) => {
                // Read the agencies once for every action that offers a choice of them.
                if tree.is_none() {
                    let nodes = state
                        .app
                        .agency_tree()
                        .await
                        .map_err(|e| PageError::new(lang, e))?;
                    tree = Some(nodes.into_iter().map(|n| n.agency).collect());
                }
                tree.iter()
                    .flatten()
                    .filter(|a| levels.contains(&a.level) && a.code != d.agency)
                    .map(|a| (a.code.to_string(), a.name.clone()))
                    .collect()
            }
            None => Vec::new(),
        };
        forms.push(ActionForm {
            code: action.code(),
            label: lang.action(action).into(),
            reason: matches!(
                action,
                Action::Refuse
                    | Action::RequestSupplement
                    | Action::Stop
                    | Action::ApologizeAndExtend
                    | Action::Refund
            ),
            exemptions: match action {
                Action::RequestPayment => {
                    let mut groups: Vec<String> =
                        design.fees.iter().flat_map(|f| f.exempt.clone()).collect();
                    groups.sort();
                    groups.dedup();
                    Some(groups)
                }
                _ => None,
            },
            agencies,
            extend: action == Action::ApologizeAndExtend,
            files: matches!(action, Action::Supplement | Action::Resolve),
            documents: match action {
                Action::Supplement => design.documents.iter().map(|d| d.name.clone()).collect(),
                _ => Vec::new(),
            },
            rating: action == Action::Rate,
            return_method: action == Action::Return,
        });
    }
    Ok(forms)
}

async fn act(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let user = &signed.user;
    let posted = read_multipart(multipart, state.app.upload_limit())
        .await
        .map_err(|f| PageError::new(lang, f))?;
    let outcome = act_on(&state, user, &code, posted).await;
    match outcome {
        Ok(()) => Ok(
            Redirect::to(&format!("/dossiers/{}#history", urlencoding::encode(&code)))
                .into_response(),
        ),
        Err(
            e @ (app::AppError::Invalid(_)
            | app::AppError::Conflict(_)
            | app::AppError::Forbidden(_)),
        ) => {
            let failure = Failure::from(e);
            let messages = if failure.invalid.is_empty() {
                vec![failure.detail.clone()]
            } else {
                failure.invalid.iter().map(|f| reason(lang, f)).collect()
            };
            let ctx = state
                .app
                .dossier_context(user, &code, app::AccessPurpose::View)
                .await
                .map_err(|e| PageError::new(lang, e))?;
            let page = dossier_view(&state, lang, user, ctx, messages, String::new()).await?;
            Ok((failure.status, render(&page)).into_response())
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

/// Turns a posted action form into an action: uploads its files, then acts.
async fn act_on(state: &AppState, user: &User, code: &str, mut posted: Posted) -> app::Result<()> {
    let action = posted
        .get("action")
        .and_then(Action::from_code)
        .filter(|a| *a != Action::Submit)
        .ok_or_else(|| app::AppError::invalid("action", "choose an action"))?;
    let version = posted.get("version").and_then(|v| v.parse().ok());
    let mut attachments = Vec::new();
    for (_, file_name, bytes) in std::mem::take(&mut posted.files) {
        let uploaded = state.app.upload(user, &file_name, bytes).await?;
        let document = match action {
            Action::Resolve => RESULT_DOCUMENT.to_owned(),
            _ => posted.get("document").unwrap_or_default().to_owned(),
        };
        attachments.push(AttachmentChoice {
            document,
            upload: uploaded.id,
        });
    }
    let input = ActionInput {
        version,
        reason: posted.get("reason").map(str::to_owned),
        to_agency: posted.get("to_agency").map(str::to_owned),
        extend_working_days: posted
            .get("extend_working_days")
            .and_then(|v| v.parse().ok()),
        attachments,
        form: None,
        satisfaction: posted.get("satisfaction").and_then(Satisfaction::from_code),
        comment: posted.get("comment").map(str::to_owned),
        return_method: posted
            .get("return_method")
            .and_then(ReturnMethod::from_code),
        amount_vnd: match posted.get("amount_vnd").map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(raw.replace('.', "").parse().map_err(|_| {
                app::AppError::Invalid(vec![InvalidField::bilingual(
                    "amount_vnd",
                    format!("'{raw}' is not a whole number of VND"),
                    format!("'{raw}' không phải số tiền (đồng)"),
                )])
            })?),
        },
        exemption: posted.get("exemption").map(str::to_owned),
        payment: posted.get("payment").and_then(|p| p.parse().ok()),
    };
    state.app.act(user, code, action, input).await?;
    Ok(())
}

// ---- printed forms and files ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "printed.html")]
struct PrintedPage {
    lang: Lang,
    doc: documents::PrintedDocument,
    qr_svg: String,
    pdf_href: String,
    back: String,
}

/// The portal's own address as the visitor reached it, for QR codes.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// `receipt`, `control-sheet` or `notice-N`, each as a page or, with `.pdf`, as a PDF.
async fn print(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    headers: HeaderMap,
    Path((code, document)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (name, pdf) = match document.strip_suffix(".pdf") {
        Some(name) => (name, true),
        None => (document.as_str(), false),
    };
    let ctx = state
        .app
        .dossier_context(&signed.user, &code, app::AccessPurpose::Print)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let base = base_url(&headers);
    let not_found = || PageError::new(lang, Failure::not_found(format!("{code}/{document}")));
    let doc = match name {
        "receipt" => printed::receipt(&ctx, &base),
        "control-sheet" if signed.user.role.is_official() => printed::control_sheet(&ctx),
        other => {
            let sequence: u64 = other
                .strip_prefix("notice-")
                .and_then(|n| n.parse().ok())
                .ok_or_else(not_found)?;
            let event = ctx
                .events
                .iter()
                .find(|e| e.sequence == sequence)
                .ok_or_else(not_found)?;
            printed::notice(&ctx, event, &base).ok_or_else(not_found)?
        }
    };
    printed_response(
        lang,
        doc,
        pdf.then(|| format!("{name}-{code}.pdf")),
        format!("/dossiers/{}/print/{name}.pdf", urlencoding::encode(&code)),
        format!("/dossiers/{}", urlencoding::encode(&code)),
    )
}

/// A printed form as a PDF (named `pdf_name`) or as a printable page linking to its PDF.
pub(crate) fn printed_response(
    lang: Lang,
    doc: documents::PrintedDocument,
    pdf_name: Option<String>,
    pdf_href: String,
    back: String,
) -> Result<Response, PageError> {
    if let Some(file_name) = pdf_name {
        let bytes = documents::render_pdf(&doc)
            .map_err(|e| PageError::new(lang, app::AppError::Unavailable(e.to_string())))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{file_name}\""),
                ),
            ],
            bytes,
        )
            .into_response());
    }
    let qr_svg = match &doc.qr {
        Some(qr) => documents::qr_svg(&qr.url).unwrap_or_default(),
        None => String::new(),
    };
    Ok(render(&PrintedPage {
        lang,
        qr_svg,
        pdf_href,
        back,
        doc,
    }))
}

/// A file, for its uploader or whoever may see its dossier. Always a download, never shown
/// inline: the browser must not run what someone uploaded.
async fn download(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (file, content) = state
        .app
        .file_for(&signed.user, &id)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(file_response(&file, content))
}

pub fn file_response(file: &domain::attachment::Attachment, content: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, file.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    urlencoding::encode(&file.file_name)
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        content,
    )
        .into_response()
}
