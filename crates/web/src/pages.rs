//! The public portal: server-rendered pages that work without JavaScript.
//! Handlers turn use-case results into view models of display-ready strings, so templates
//! only lay them out.

use app::{CatalogueSearch, ProcedureDetail, SearchPage};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use domain::{OnlineService, Procedure};
use serde::Deserialize;

use crate::AppState;
use crate::error::Failure;
use crate::i18n::Lang;
use crate::params::SearchParams;

const STYLE: &str = include_str!("../static/style.css");
const PRINT_SCRIPT: &str = include_str!("../static/print.js");
const PORTAL_SCRIPT: &str = include_str!("../static/portal.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/procedures", get(results))
        .route("/procedures/{code}", get(procedure))
        .route("/procedures/{code}/forms/{file}", get(form_template))
        .route("/sectors", get(sectors))
        .route("/life-events", get(life_events))
        .route("/agencies", get(agencies))
        .route("/lookup", get(lookup))
        .route("/lang/{code}", get(switch_language))
        .route("/static/style.css", get(style))
        .route("/static/print.js", get(print_script))
        .route("/static/portal.js", get(portal_script))
}

/// A page failure, shown as a friendly page in the visitor's language.
pub struct PageError {
    lang: Lang,
    failure: Failure,
}

impl PageError {
    pub fn new(lang: Lang, failure: impl Into<Failure>) -> Self {
        Self {
            lang,
            failure: failure.into(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: Lang,
    path: &'a str,
    failure: &'a Failure,
    title: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = if self.lang == Lang::Vi {
            self.failure.title_vi
        } else {
            self.failure.title
        };
        let page = ErrorPage {
            lang: self.lang,
            path: "/",
            failure: &self.failure,
            title,
        };
        (self.failure.status, render(&page)).into_response()
    }
}

pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

pub async fn not_found(lang: Lang, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::error::ApiError(Failure::not_found(format!(
            "no API endpoint at {}",
            uri.path()
        )))
        .into_response();
    }
    PageError::new(
        lang,
        Failure::not_found(format!("{} — {}", uri.path(), lang.t("no_results"))),
    )
    .into_response()
}

async fn portal_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PORTAL_SCRIPT,
    )
        .into_response()
}

async fn print_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PRINT_SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

#[derive(Deserialize)]
struct NextPath {
    next: Option<String>,
}

/// Sets the language cookie and goes back where the visitor was.
async fn switch_language(Path(code): Path<String>, Query(q): Query<NextPath>) -> Response {
    let lang = Lang::from_code(&code).unwrap_or_default();
    // Only local paths: never an open redirect.
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or("/".into());
    let cookie = format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

// ---- view helpers ----------------------------------------------------------------------

/// Money as Vietnamese write it: 50.000 đ.
pub fn vnd(amount: i64) -> String {
    let digits = amount.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}{out} đ", if amount < 0 { "-" } else { "" })
}

fn fee_text(lang: Lang, range: Option<(i64, i64)>) -> String {
    match range {
        None => lang.t("not_stated").into(),
        Some((0, 0)) => lang.t("free").into(),
        Some((lo, hi)) if lo == hi => vnd(lo),
        Some((lo, hi)) => format!("{} – {}", vnd(lo), vnd(hi)),
    }
}

fn online_class(online: OnlineService) -> &'static str {
    match online {
        OnlineService::Full => "badge badge-full",
        OnlineService::Partial => "badge badge-partial",
        OnlineService::None => "badge",
    }
}

fn number_text(amount: f64) -> String {
    if amount.fract() == 0.0 {
        format!("{amount:.0}")
    } else {
        format!("{amount}").replace('.', ",")
    }
}

fn encode(value: &str) -> String {
    urlencoding::encode(value).into_owned()
}

fn level_name(lang: Lang, levels: &[domain::Level], code: &str) -> String {
    levels
        .iter()
        .find(|l| l.code == code)
        .map(|l| {
            if lang == Lang::Vi {
                l.name_vi.clone()
            } else {
                l.name_en.clone()
            }
        })
        .unwrap_or_else(|| code.to_owned())
}

// ---- home --------------------------------------------------------------------------------

struct Link {
    label: String,
    count: u64,
    href: String,
    note: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    lang: Lang,
    path: String,
    q: String,
    count: usize,
    sectors: Vec<Link>,
    events: Vec<Link>,
    online: Vec<Link>,
}

async fn home(State(state): State<AppState>, lang: Lang) -> Result<Response, PageError> {
    let home = state
        .app
        .home()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let page = HomePage {
        lang,
        path: "/".into(),
        q: String::new(),
        count: home.procedure_count,
        sectors: home
            .sectors
            .into_iter()
            .map(|(name, count)| Link {
                href: format!("/procedures?sector={}", encode(&name)),
                label: name,
                count,
                note: String::new(),
            })
            .collect(),
        events: home
            .life_events
            .into_iter()
            .map(|(e, count)| Link {
                href: format!("/procedures?event={}", encode(&e.code)),
                label: if lang == Lang::Vi {
                    e.name_vi
                } else {
                    e.name_en
                },
                count,
                note: e.description_vi,
            })
            .collect(),
        online: home
            .online
            .into_iter()
            .filter_map(|(code, count)| {
                let online = OnlineService::from_code(&code)?;
                Some(Link {
                    label: lang.online_name(online).into(),
                    count,
                    href: format!("/procedures?online={code}"),
                    note: String::new(),
                })
            })
            .collect(),
    };
    Ok(render(&page))
}

// ---- search results ------------------------------------------------------------------------

struct HitView {
    code: String,
    name: String,
    href: String,
    sectors: String,
    levels: String,
    online_label: String,
    online_class: &'static str,
    fee: String,
}

struct FacetOption {
    label: String,
    count: u64,
    href: String,
    selected: bool,
}

struct FacetGroup {
    title: String,
    options: Vec<FacetOption>,
}

#[derive(Template)]
#[template(path = "results.html")]
struct ResultsPage {
    lang: Lang,
    path: String,
    q: String,
    heading: String,
    intro: String,
    total: usize,
    hits: Vec<HitView>,
    facets: Vec<FacetGroup>,
    active: Vec<(String, String)>,
    clear_href: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    page: usize,
    pages: usize,
}

/// The current search as URL parameters, to build links that change one thing.
#[derive(Clone)]
struct SearchLink {
    params: Vec<(&'static str, String)>,
}

impl SearchLink {
    fn from(p: &SearchParams) -> Self {
        let fields = [
            ("q", &p.q),
            ("sector", &p.sector),
            ("level", &p.level),
            ("agency", &p.agency),
            ("online", &p.online),
            ("event", &p.event),
        ];
        let params = fields
            .into_iter()
            .filter_map(|(k, v)| {
                v.as_ref()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (k, v.clone()))
            })
            .collect();
        Self { params }
    }

    fn with(&self, key: &'static str, value: Option<&str>) -> String {
        let mut params: Vec<(&str, String)> = self
            .params
            .iter()
            .filter(|(k, _)| *k != key)
            .cloned()
            .collect();
        if let Some(v) = value {
            params.push((key, v.to_owned()));
        }
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        format!("/procedures?{}", query.join("&"))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

async fn results(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<SearchParams>,
) -> Result<Response, PageError> {
    let mut search: CatalogueSearch = params
        .to_search()
        .map_err(|e| PageError::new(lang, Failure::invalid(e)))?;
    search.facets = true; // the filter column shows them
    let limit = search.limit;
    let offset = search.offset;
    let result = state
        .app
        .search_catalogue(search)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let link = SearchLink::from(&params);
    Ok(render(&results_page(
        lang, &params, &link, result, limit, offset,
    )))
}

fn results_page(
    lang: Lang,
    params: &SearchParams,
    link: &SearchLink,
    result: SearchPage,
    limit: usize,
    offset: usize,
) -> ResultsPage {
    let levels = &result.levels;
    let event_name = |code: &str| {
        result
            .life_events
            .iter()
            .find(|e| e.code == code)
            .map(|e| {
                if lang == Lang::Vi {
                    e.name_vi.clone()
                } else {
                    e.name_en.clone()
                }
            })
            .unwrap_or_else(|| code.to_owned())
    };
    let hits = result
        .results
        .hits
        .iter()
        .map(|h| HitView {
            href: format!("/procedures/{}", h.code),
            code: h.code.clone(),
            name: h.name.clone(),
            sectors: h.card.sectors.join(", "),
            levels: h
                .card
                .levels
                .iter()
                .map(|l| level_name(lang, levels, l))
                .collect::<Vec<_>>()
                .join(", "),
            online_label: lang.online_name(h.card.online).into(),
            online_class: online_class(h.card.online),
            fee: fee_text(lang, h.card.fee_range),
        })
        .collect();
    let facets = &result.results.facets;
    let group =
        |title: &str, key: &'static str, list: &[(String, u64)], label: &dyn Fn(&str) -> String| {
            FacetGroup {
                title: title.to_owned(),
                options: list
                    .iter()
                    .map(|(value, count)| FacetOption {
                        label: label(value),
                        count: *count,
                        href: link.with(key, Some(value)),
                        selected: link.get(key) == Some(value.as_str()),
                    })
                    .collect(),
            }
        };
    let online_label = |code: &str| {
        OnlineService::from_code(code).map_or(code.to_owned(), |o| lang.online_name(o).to_owned())
    };
    let facet_groups = vec![
        group(lang.t("filter_sector"), "sector", &facets.sectors, &|v| {
            v.to_owned()
        }),
        group(lang.t("filter_level"), "level", &facets.levels, &|v| {
            level_name(lang, levels, v)
        }),
        group(
            lang.t("filter_online"),
            "online",
            &facets.online,
            &online_label,
        ),
        group(
            lang.t("filter_event"),
            "event",
            &facets.life_events,
            &event_name,
        ),
    ];
    let mut active = Vec::new();
    for (key, title) in [
        ("sector", "filter_sector"),
        ("level", "filter_level"),
        ("agency", "filter_agency"),
        ("online", "filter_online"),
        ("event", "filter_event"),
    ] {
        if let Some(value) = link.get(key) {
            let shown = match key {
                "level" => level_name(lang, levels, value),
                "online" => online_label(value),
                "event" => event_name(value),
                "agency" => result
                    .agency
                    .as_ref()
                    .map_or(value.to_owned(), |a| a.name.clone()),
                _ => value.to_owned(),
            };
            active.push((format!("{}: {shown}", lang.t(title)), link.with(key, None)));
        }
    }
    let total = result.results.total;
    let pages = total.div_ceil(limit).max(1);
    let page = offset / limit + 1;
    let page_href = |n: usize| format!("{}&page={n}", link.with("page", None));
    let q = params.q.clone().unwrap_or_default();
    let intro = params
        .event
        .as_deref()
        .and_then(|code| result.life_events.iter().find(|e| e.code == code))
        .map(|e| e.description_vi.clone())
        .unwrap_or_default();
    ResultsPage {
        lang,
        path: link.with("page", None),
        heading: if q.trim().is_empty() {
            lang.t("all_procedures").into()
        } else {
            format!("{} “{}”", lang.t("results_title"), q.trim())
        },
        q,
        intro,
        total,
        hits,
        facets: facet_groups,
        active,
        clear_href: "/procedures".into(),
        prev_href: (page > 1).then(|| page_href(page - 1)),
        next_href: (page < pages).then(|| page_href(page + 1)),
        page,
        pages,
    }
}

// ---- procedure ---------------------------------------------------------------------------

struct StepGroupView {
    case: String,
    steps: Vec<String>,
    /// The steps carry their own "Bước N:" labels, so the list is not numbered again.
    labelled: bool,
}

struct TimeRow {
    channel: String,
    time: String,
    fee: String,
    description: String,
}

struct DocView {
    name: String,
    quantity: String,
    forms: Vec<FormLink>,
}

/// A form template file; `href` when its file is stored and can be downloaded.
struct FormLink {
    name: String,
    href: Option<String>,
}

struct DocGroupView {
    case: String,
    documents: Vec<DocView>,
}

struct ImplementingView {
    level: String,
    total: i64,
    agencies: Vec<String>,
    more: i64,
}

#[derive(Template)]
#[template(path = "procedure.html")]
struct ProcedurePage {
    lang: Lang,
    path: String,
    p: Procedure,
    online_label: String,
    online_class: &'static str,
    online_note: String,
    levels: String,
    steps: Vec<StepGroupView>,
    channels: Vec<TimeRow>,
    documents: Vec<DocGroupView>,
    implementing: Vec<ImplementingView>,
    events: Vec<(String, String)>,
    versions: Vec<String>,
    effective_from: String,
    /// Whether the procedure takes dossiers online (its catalogue lists the online channel).
    applies_online: bool,
    /// Published answers to feedback about it: its frequently asked questions.
    faq: Vec<crate::feedback::FeedbackView>,
}

async fn procedure(
    State(state): State<AppState>,
    lang: Lang,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let detail = state
        .app
        .procedure(&code)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let levels = state.app.levels();
    let faq = state
        .app
        .published_feedback(Some(detail.procedure.code.as_str()), 20)
        .await
        .map_err(|e| PageError::new(lang, e))?
        .into_iter()
        .map(|f| crate::feedback::feedback_view(lang, f, String::new()))
        .collect();
    let mut page = procedure_page(lang, detail, &levels);
    page.faq = faq;
    Ok(render(&page))
}

fn procedure_page(lang: Lang, d: ProcedureDetail, levels: &[domain::Level]) -> ProcedurePage {
    let p = d.procedure;
    let channels = p
        .channels
        .iter()
        .flat_map(|c| {
            c.times.iter().map(move |t| TimeRow {
                channel: lang.channel_name(c.channel).into(),
                time: match (t.amount, t.unit) {
                    (Some(a), Some(u)) => format!("{} {}", number_text(a), lang.unit_name(u)),
                    _ => lang.t("not_specified").into(),
                },
                fee: if t.fees.is_empty() {
                    lang.t("not_stated").into()
                } else {
                    t.fees
                        .iter()
                        .map(|f| match (&f.description, f.amount_vnd) {
                            (Some(text), 0) => text.clone(),
                            (Some(text), amount) => format!("{} ({text})", vnd(amount)),
                            (None, 0) => lang.t("free").into(),
                            (None, amount) => vnd(amount),
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                },
                description: t.description.clone().unwrap_or_default(),
            })
        })
        .collect();
    let documents = p
        .documents
        .iter()
        .map(|g| DocGroupView {
            case: g.case.clone(),
            documents: g
                .documents
                .iter()
                .map(|doc| DocView {
                    name: doc.name.clone(),
                    quantity: doc.quantity.clone(),
                    forms: doc
                        .form_files()
                        .map(|f| FormLink {
                            href: d
                                .form_files
                                .iter()
                                .any(|stored| stored == f)
                                .then(|| format!("/procedures/{}/forms/{}", p.code, encode(f))),
                            name: f.to_owned(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let implementing = d
        .implementing
        .into_iter()
        .map(|i| ImplementingView {
            level: if lang == Lang::Vi {
                i.level.name_vi
            } else {
                i.level.name_en
            },
            total: i.total,
            more: i.total - i.agencies.len() as i64,
            agencies: i.agencies.into_iter().map(|a| a.name).collect(),
        })
        .collect();
    ProcedurePage {
        lang,
        path: format!("/procedures/{}", p.code),
        applies_online: p.online != OnlineService::None
            && p.channels
                .iter()
                .any(|c| c.channel == domain::Channel::Online),
        faq: Vec::new(),
        online_label: lang.online_name(p.online).into(),
        online_class: online_class(p.online),
        online_note: lang
            .t(match p.online {
                OnlineService::Full => "online_full_note",
                OnlineService::Partial => "online_partial_note",
                OnlineService::None => "online_none_note",
            })
            .into(),
        levels: p
            .levels
            .iter()
            .map(|l| level_name(lang, levels, l))
            .collect::<Vec<_>>()
            .join(", "),
        steps: p
            .steps
            .iter()
            .map(|g| StepGroupView {
                case: g.case.clone(),
                labelled: g.steps.iter().any(|s| s.starts_with("Bước")),
                steps: g.steps.clone(),
            })
            .collect(),
        channels,
        documents,
        implementing,
        events: d
            .life_events
            .into_iter()
            .map(|e| {
                let name = if lang == Lang::Vi {
                    e.name_vi
                } else {
                    e.name_en
                };
                (name, format!("/procedures?event={}", encode(&e.code)))
            })
            .collect(),
        versions: d
            .versions
            .iter()
            .map(|v| v.format("%d/%m/%Y").to_string())
            .collect(),
        effective_from: p.effective_from.format("%d/%m/%Y").to_string(),
        p,
    }
}

async fn form_template(
    State(state): State<AppState>,
    lang: Lang,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let template = state
        .app
        .form_template(&code, &file)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        encode(&template.file_name)
    );
    let mut headers = HeaderMap::new();
    if let Ok(v) = template.content_type.parse() {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = disposition.parse() {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok((headers, template.content).into_response())
}

// ---- dossier lookup ------------------------------------------------------------------------

struct LookupResult {
    code: String,
    status: String,
    procedure: String,
    procedure_name: String,
    agency_name: String,
    submitted: String,
    due: String,
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    lang: Lang,
    path: String,
    code: String,
    secret: String,
    error: Option<String>,
    result: Option<LookupResult>,
}

#[derive(Deserialize)]
struct LookupParams {
    code: Option<String>,
    secret: Option<String>,
}

/// Local time as people in Vietnam read it.
pub fn local_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&domain::calendar::vietnam_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// The public status of a dossier from the code and secret on its receipt; no personal data.
async fn lookup(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<LookupParams>,
) -> Result<Response, PageError> {
    let code = params.code.unwrap_or_default().trim().to_owned();
    let secret = params.secret.unwrap_or_default().trim().to_uppercase();
    let mut page = LookupPage {
        lang,
        path: "/lookup".into(),
        code: code.clone(),
        secret: secret.clone(),
        error: None,
        result: None,
    };
    if code.is_empty() && secret.is_empty() {
        return Ok(render(&page));
    }
    if code.is_empty() || secret.is_empty() {
        page.error = Some(lang.t("lookup_missing").into());
        return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
    }
    match state.app.lookup(&code, &secret).await {
        Ok(found) => {
            page.result = Some(LookupResult {
                code: found.code,
                status: match lang {
                    Lang::Vi => found.status.name_vi(),
                    Lang::En => found.status.name_en(),
                }
                .into(),
                procedure: found.procedure,
                procedure_name: found.procedure_name,
                agency_name: found.agency_name,
                submitted: local_time(found.submitted_at),
                due: found
                    .due_at
                    .map_or_else(|| lang.t("lookup_due_unset").into(), local_time),
            });
            Ok(render(&page))
        }
        Err(app::AppError::NotFound { .. }) => {
            page.error = Some(lang.t("lookup_not_found").into());
            Ok((StatusCode::NOT_FOUND, render(&page)).into_response())
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

// ---- browsing ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "browse.html")]
struct BrowsePage {
    lang: Lang,
    path: String,
    heading: String,
    links: Vec<Link>,
}

async fn sectors(State(state): State<AppState>, lang: Lang) -> Result<Response, PageError> {
    let home = state
        .app
        .home()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let mut links: Vec<Link> = home
        .sectors
        .into_iter()
        .map(|(name, count)| Link {
            href: format!("/procedures?sector={}", encode(&name)),
            label: name,
            count,
            note: String::new(),
        })
        .collect();
    links.sort_by_cached_key(|l| domain::text::fold(&l.label));
    Ok(render(&BrowsePage {
        lang,
        path: "/sectors".into(),
        heading: lang.t("sectors_title").into(),
        links,
    }))
}

async fn life_events(State(state): State<AppState>, lang: Lang) -> Result<Response, PageError> {
    let home = state
        .app
        .home()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let links = home
        .life_events
        .into_iter()
        .map(|(e, count)| Link {
            href: format!("/procedures?event={}", encode(&e.code)),
            label: if lang == Lang::Vi {
                e.name_vi
            } else {
                e.name_en
            },
            count,
            note: e.description_vi,
        })
        .collect();
    Ok(render(&BrowsePage {
        lang,
        path: "/life-events".into(),
        heading: lang.t("events_title").into(),
        links,
    }))
}

struct AgencyRow {
    depth: usize,
    code: String,
    name: String,
    level: String,
    href: String,
}

#[derive(Template)]
#[template(path = "agencies.html")]
struct AgenciesPage {
    lang: Lang,
    path: String,
    rows: Vec<AgencyRow>,
}

async fn agencies(State(state): State<AppState>, lang: Lang) -> Result<Response, PageError> {
    let tree = state
        .app
        .agency_tree()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let rows = tree
        .into_iter()
        .map(|n| AgencyRow {
            depth: n.depth,
            href: format!("/procedures?agency={}", encode(n.agency.code.as_str())),
            code: n.agency.code.to_string(),
            name: n.agency.name,
            level: n.level.map_or(n.agency.level, |l| {
                if lang == Lang::Vi {
                    l.name_vi
                } else {
                    l.name_en
                }
            }),
        })
        .collect();
    Ok(render(&AgenciesPage {
        lang,
        path: "/agencies".into(),
        rows,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_money_the_vietnamese_way() {
        assert_eq!(super::vnd(0), "0 đ");
        assert_eq!(super::vnd(8000), "8.000 đ");
        assert_eq!(super::vnd(1_250_000), "1.250.000 đ");
    }
}
