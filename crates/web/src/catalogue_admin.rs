//! The catalogue editor: administrators find a procedure, edit it or add a new one, with its
//! e-form (JSON Schema, previewed as citizens will see it), documents, steps, fees, effective
//! date and versions. Errors are shown beside the fields and in a summary, and the form keeps
//! what was typed.

use app::{CatalogueSearch, ProcedureEdit, StepEdit};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use domain::InvalidField;
use serde::Deserialize;

use crate::AppState;
use crate::desk::{FieldView, field_views};
use crate::forms::{FieldErrors, system_admin_only};
use crate::i18n::Lang;
use crate::pages::{PageError, render};
use crate::session::SignedIn;

/// Empty step rows the editor offers below the stored ones, for steps to add.
const SPARE_STEPS: usize = 2;
const PAGE: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/procedures", get(list_page))
        .route("/admin/procedures/new", get(new_page).post(save_new))
        .route(
            "/admin/procedures/{code}",
            get(edit_page).post(save_existing),
        )
}

#[derive(Template)]
#[template(path = "admin_procedures.html")]
struct ListPage {
    lang: Lang,
    path: String,
    query: String,
    total: String,
    rows: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
}

async fn list_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    system_admin_only(lang, &signed, "edit the catalogue")?;
    let page = state
        .app
        .search_catalogue(CatalogueSearch {
            text: q.q.clone(),
            sector: None,
            level: None,
            agency: None,
            online: None,
            life_event: None,
            limit: PAGE,
            offset: 0,
            facets: false,
        })
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let rows = page
        .results
        .hits
        .into_iter()
        .map(|h| {
            let online = match h.card.online {
                domain::OnlineService::Full => lang.t("editor-online-full"),
                domain::OnlineService::Partial => lang.t("editor-online-partial"),
                domain::OnlineService::None => lang.t("editor-online-none"),
            };
            (h.code, h.name, online.to_owned())
        })
        .collect();
    Ok(render(&ListPage {
        lang,
        path: "/admin/procedures".into(),
        query: q.q,
        total: lang.count(page.results.total as i64),
        rows,
    }))
}

struct StepRow {
    index: usize,
    step: StepEdit,
    error: String,
}

#[derive(Template)]
#[template(path = "admin_procedure.html")]
struct EditorPage {
    lang: Lang,
    path: String,
    new: bool,
    edit: ProcedureEdit,
    /// Level code, name, chosen.
    levels: Vec<(String, String, bool)>,
    online: Vec<(&'static str, &'static str)>,
    steps: Vec<StepRow>,
    /// Effective day (ISO), as shown, whether it is the one shown.
    versions: Vec<(String, String, bool)>,
    err: FieldErrors,
    summary: Vec<(String, String)>,
    /// The e-form as citizens will see it, when asked for.
    preview: Option<Vec<FieldView>>,
    saved: bool,
}

fn editor_page(
    state: &AppState,
    lang: Lang,
    new: bool,
    edit: ProcedureEdit,
    versions: Vec<chrono::NaiveDate>,
    errors: Vec<InvalidField>,
    preview: Option<Vec<FieldView>>,
) -> EditorPage {
    let levels = state
        .app
        .levels()
        .into_iter()
        .filter(|l| l.valid_until.is_none_or(|until| until >= app::today()))
        .map(|l| {
            let chosen = edit.levels.contains(&l.code);
            let name = lang.pick(&l.name_vi, &l.name_en).to_owned();
            (l.code, name, chosen)
        })
        .collect();
    let mut steps: Vec<StepRow> = edit
        .steps
        .iter()
        .cloned()
        .chain(std::iter::repeat_n(StepEdit::default(), SPARE_STEPS))
        .enumerate()
        .map(|(index, step)| StepRow {
            index,
            step,
            error: String::new(),
        })
        .collect();
    let err = FieldErrors::new(lang, &errors);
    for row in &mut steps {
        row.error = ["name_vi", "role", "level", "share"]
            .iter()
            .map(|part| err.of(&format!("steps.{}.{part}", row.index)))
            .filter(|e| !e.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
    }
    let shown = edit.effective_from.clone();
    EditorPage {
        lang,
        path: if new {
            "/admin/procedures/new".into()
        } else {
            format!("/admin/procedures/{}", edit.code)
        },
        new,
        levels,
        online: vec![
            ("full", lang.t("editor-online-full")),
            ("partial", lang.t("editor-online-partial")),
            ("none", lang.t("editor-online-none")),
        ],
        steps,
        versions: versions
            .into_iter()
            .map(|d| {
                let iso = d.to_string();
                let current = iso == shown;
                (iso, lang.date(d), current)
            })
            .collect(),
        // Step errors link to their row's input (`steps-{i}-{part}`), the others to `e-{field}`.
        summary: err
            .0
            .iter()
            .map(|(field, message)| {
                let anchor = match field.as_str() {
                    f if f.starts_with("steps.") => f.replace('.', "-"),
                    "steps" => "steps".to_owned(),
                    f => format!("e-{f}"),
                };
                (anchor, message.clone())
            })
            .collect(),
        err,
        preview,
        saved: false,
        edit,
    }
}

async fn new_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
) -> Result<Response, PageError> {
    system_admin_only(lang, &signed, "edit the catalogue")?;
    let step = |name_vi: &str, name_en: &str, role: &str, share: &str| StepEdit {
        name_vi: name_vi.into(),
        name_en: name_en.into(),
        role: role.into(),
        level: String::new(),
        share: share.into(),
    };
    let edit = ProcedureEdit {
        effective_from: app::today().to_string(),
        online: "full".into(),
        steps: vec![
            step(
                "Thẩm định, xử lý hồ sơ",
                "Assess the dossier",
                "handler",
                "70",
            ),
            step("Phê duyệt kết quả", "Approve the result", "approver", "30"),
        ],
        ..ProcedureEdit::default()
    };
    Ok(render(&editor_page(
        &state,
        lang,
        true,
        edit,
        Vec::new(),
        Vec::new(),
        None,
    )))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<String>,
    saved: Option<String>,
}

async fn edit_page(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(code): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, PageError> {
    system_admin_only(lang, &signed, "edit the catalogue")?;
    let version = q
        .version
        .as_deref()
        .and_then(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok());
    let editor = state
        .app
        .procedure_editor(&signed.user, &code, version)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let mut page = editor_page(
        &state,
        lang,
        false,
        editor.edit,
        editor.versions,
        Vec::new(),
        None,
    );
    page.saved = q.saved.is_some();
    Ok(render(&page))
}

/// The editor's form from its fields: repeated `levels`, and `step-{i}-{part}` rows.
fn edit_from(pairs: Vec<(String, String)>) -> (ProcedureEdit, String) {
    let mut edit = ProcedureEdit::default();
    let mut intent = String::new();
    for (key, value) in pairs {
        match key.as_str() {
            "code" => edit.code = value,
            "name" => edit.name = value,
            "effective_from" => edit.effective_from = value,
            "sector" => edit.sector = value,
            "levels" => edit.levels.push(value),
            "online" => edit.online = value,
            "agency" => edit.agency = value,
            "days" => edit.days = value,
            "fee" => edit.fee = value,
            "documents" => edit.documents = value,
            "results" => edit.results = value,
            "form" => edit.form = value,
            "intent" => intent = value,
            other => {
                let Some((index, part)) = other
                    .strip_prefix("step-")
                    .and_then(|rest| rest.split_once('-'))
                    .and_then(|(i, part)| Some((i.parse::<usize>().ok()?, part)))
                else {
                    continue;
                };
                // At most a few dozen rows: a bigger index is not from the editor.
                if index >= 64 {
                    continue;
                }
                if edit.steps.len() <= index {
                    edit.steps.resize_with(index + 1, StepEdit::default);
                }
                let step = &mut edit.steps[index];
                match part {
                    "name_vi" => step.name_vi = value,
                    "name_en" => step.name_en = value,
                    "role" => step.role = value,
                    "level" => step.level = value,
                    "share" => step.share = value,
                    _ => {}
                }
            }
        }
    }
    // Rows left empty are not steps.
    edit.steps
        .retain(|s| !(s.name_vi.trim().is_empty() && s.share.trim().is_empty()));
    (edit, intent)
}

async fn save_new(
    state: State<AppState>,
    lang: Lang,
    signed: SignedIn,
    form: axum::Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    save(state, lang, signed, form.0, true).await
}

async fn save_existing(
    state: State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(code): Path<String>,
    form: axum::Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut pairs = form.0;
    // The code of an existing procedure is its address, not a field to change.
    pairs.retain(|(k, _)| k != "code");
    pairs.push(("code".into(), code));
    save(state, lang, signed, pairs, false).await
}

async fn save(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    pairs: Vec<(String, String)>,
    new: bool,
) -> Result<Response, PageError> {
    system_admin_only(lang, &signed, "edit the catalogue")?;
    let (edit, intent) = edit_from(pairs);
    let versions = if new {
        Vec::new()
    } else {
        state
            .app
            .procedure_editor(&signed.user, &edit.code, None)
            .await
            .map_err(|e| PageError::new(lang, e))?
            .versions
    };
    let outcome = if intent == "preview" {
        state
            .app
            .check_procedure(&signed.user, &edit, new)
            .await
            .map(|_| None)
    } else {
        state
            .app
            .save_procedure(&signed.user, &edit, new)
            .await
            .map(Some)
    };
    let errors = match outcome {
        Ok(Some((code, from))) => {
            return Ok(
                Redirect::to(&format!("/admin/procedures/{code}?version={from}&saved=1"))
                    .into_response(),
            );
        }
        Ok(None) => Vec::new(),
        Err(app::AppError::Invalid(errors)) => errors,
        Err(e) => return Err(PageError::new(lang, e)),
    };
    // The preview draws the form whenever its schema compiles, even beside other errors.
    let preview = if intent == "preview" && errors.iter().all(|e| e.field != "form") {
        app::form_preview(&edit)
            .ok()
            .map(|form| field_views(lang, &form, &|_| String::new(), &|_| String::new()))
    } else {
        None
    };
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = editor_page(&state, lang, new, edit, versions, errors, preview);
    Ok((status, render(&page)).into_response())
}
