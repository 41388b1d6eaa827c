//! Statistics pages: the leadership dashboard (`/dashboard`, for leaders and above over their
//! agency's subtree) and the public page (`/statistics`, no sign-in). Both show the same
//! headline, charts and tables, built once as [`documents::DataTable`]s so that every table
//! on the page is exactly what its CSV and XLSX downloads hold.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use documents::{Cell, Chart, DataTable, Series};
use domain::stats::Metric;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::i18n::Lang;
use crate::pages::{PageError, render};
use crate::session::SignedIn;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/statistics", get(public_page))
        .route("/statistics/export/{file}", get(public_export))
        .route("/statistics/methodology", get(methodology))
        .route("/dashboard", get(dashboard))
        .route("/dashboard/export/{file}", get(dashboard_export))
}

/// The filters both pages take; the public page ignores sector, procedure and channel.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Filters {
    #[serde(default)]
    agency: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    procedure: String,
    #[serde(default)]
    channel: String,
}

impl Filters {
    fn request(&self, group: &str) -> app::StatsRequest {
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        app::StatsRequest {
            agency: given(&self.agency),
            from: given(&self.from),
            to: given(&self.to),
            group: Some(group.into()),
            procedure: given(&self.procedure),
            sector: given(&self.sector),
            channel: given(&self.channel),
        }
    }

    fn public(&self) -> Self {
        Self {
            agency: self.agency.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            ..Self::default()
        }
    }

    fn query_string(&self) -> String {
        query_pairs(&[
            ("agency", &self.agency),
            ("from", &self.from),
            ("to", &self.to),
            ("sector", &self.sector),
            ("procedure", &self.procedure),
            ("channel", &self.channel),
        ])
    }
}

/// `key=value&…` for the non-empty values, URL-encoded.
fn query_pairs(pairs: &[(&str, &String)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The headline figures.
/// The headline figures, written for the reader's language.
struct Headline {
    received: String,
    resolved: String,
    on_time: String,
    on_time_rate: String,
    in_progress: String,
    overdue: String,
    awaiting_supplement: String,
}

/// A table as the page shows it, with its download name.
struct ShownTable {
    slug: &'static str,
    table: DataTable,
    /// Cells of the first column that link somewhere (agencies to their own figures,
    /// dossiers to their page), by row.
    links: Vec<Option<String>>,
}

impl ShownTable {
    /// Each row's link (if any) and its cells as text.
    fn shown_rows(&self, lang: Lang) -> Vec<(Option<&str>, Vec<String>)> {
        self.table
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let link = self.links.get(i).and_then(|l| l.as_deref());
                (link, row.iter().map(|c| lang.cell(c)).collect())
            })
            .collect()
    }
}

/// Everything a statistics page shows.
struct Board {
    agency: String,
    agency_name: String,
    /// The period in the filters' form (YYYY-MM-DD), and as the reader writes it.
    from: String,
    to: String,
    period: (String, String),
    headline: Headline,
    tables: Vec<ShownTable>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    lang: Lang,
    path: String,
    /// The public page: no overdue list, no detailed filters.
    public: bool,
    filters: Filters,
    query: String,
    sectors: Vec<String>,
    board: Option<Board>,
    /// Drawn for the page only, from the board's month and level tables.
    charts: Vec<String>,
    errors: Vec<String>,
}

/// Who is looking: the public, or a signed-in leader.
#[derive(Clone, Copy)]
enum Reader<'a> {
    Public,
    Leader(&'a domain::user::User),
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|h| h.to_string()).collect()
}

fn percent(part: i64, whole: i64) -> Cell {
    if whole > 0 {
        Cell::Percent(100.0 * part as f64 / whole as f64)
    } else {
        Cell::Empty
    }
}

/// The columns of the per-level and per-agency tables (the provincial portals' layout).
fn figure_headers(lang: Lang, first: &str) -> Vec<String> {
    texts(&[
        first,
        lang.t("dashboard-received"),
        lang.t("dashboard-resolved-2"),
        lang.t("dashboard-resolved-3"),
        lang.t("dashboard-progress-within-deadline"),
        lang.t("dashboard-progress-overdue"),
        lang.t("dashboard-awaiting-supplement"),
        lang.t("dashboard-early"),
        lang.t("dashboard-time"),
        lang.t("dashboard-late"),
        lang.t("dashboard-early-time-2"),
        lang.t("dashboard-late-2"),
    ])
}

fn figure_cells(name: String, f: &app::Figures) -> Vec<Cell> {
    let judged = f.judged();
    vec![
        Cell::Text(name),
        Cell::Count(f.get(Metric::Received)),
        Cell::Count(f.resolved()),
        percent(f.resolved(), f.get(Metric::Received)),
        Cell::Count(f.in_progress),
        Cell::Count(f.overdue),
        Cell::Count(f.awaiting_supplement),
        Cell::Count(f.get(Metric::ResolvedEarly)),
        Cell::Count(f.get(Metric::ResolvedOnTime)),
        Cell::Count(f.get(Metric::ResolvedLate)),
        percent(f.on_time(), judged),
        percent(f.get(Metric::ResolvedLate), judged),
    ]
}

async fn build(
    state: &AppState,
    lang: Lang,
    reader: Reader<'_>,
    filters: &Filters,
) -> Result<Board, app::AppError> {
    let split = match reader {
        Reader::Public => state.app.breakdown(None, filters.request("agency")).await?,
        Reader::Leader(user) => {
            state
                .app
                .breakdown(Some(user), filters.request("agency"))
                .await?
        }
    };
    // The agency the request resolved to (the province by default, the reader's own agency
    // for a leader), for the links and the overdue list.
    let filters = &Filters {
        agency: split.agency.to_string(),
        ..filters.clone()
    };
    let all = state.app.all_agencies().await?;
    let agencies: HashMap<&str, &str> = all
        .iter()
        .map(|a| (a.code.as_str(), a.name.as_str()))
        .collect();
    let name_of = |code: &str| agencies.get(code).unwrap_or(&code).to_string();
    let levels: HashMap<String, String> = state
        .app
        .levels()
        .into_iter()
        .map(|l| {
            (
                l.code.clone(),
                lang.pick(&l.name_vi, &l.name_en).to_string(),
            )
        })
        .collect();
    let whole = &split.total;
    let headline = Headline {
        received: lang.count(whole.get(Metric::Received)),
        resolved: lang.count(whole.resolved()),
        on_time: lang.count(whole.on_time()),
        on_time_rate: whole
            .on_time_rate()
            .map(|r| lang.percent(r))
            .unwrap_or_else(|| "—".into()),
        in_progress: lang.count(whole.in_progress),
        overdue: lang.count(whole.overdue),
        awaiting_supplement: lang.count(whole.awaiting_supplement),
    };

    let months = ShownTable {
        slug: "months",
        table: DataTable {
            title: lang.t("dashboard-by-month").into(),
            headers: texts(&[
                lang.t("dashboard-month"),
                lang.t("dashboard-received"),
                lang.t("dashboard-resolved-2"),
                lang.t("dashboard-early"),
                lang.t("dashboard-time"),
                lang.t("dashboard-late"),
                lang.t("dashboard-early-time-2"),
            ]),
            rows: split
                .by_month
                .values()
                .map(|f| {
                    vec![
                        Cell::Text(f.group.clone()),
                        Cell::Count(f.get(Metric::Received)),
                        Cell::Count(f.resolved()),
                        Cell::Count(f.get(Metric::ResolvedEarly)),
                        Cell::Count(f.get(Metric::ResolvedOnTime)),
                        Cell::Count(f.get(Metric::ResolvedLate)),
                        percent(f.on_time(), f.judged()),
                    ]
                })
                .collect(),
        },
        links: Vec::new(),
    };
    let level_table = ShownTable {
        slug: "levels",
        table: DataTable {
            title: lang.t("dashboard-by-level").into(),
            headers: figure_headers(lang, lang.t("dashboard-level")),
            rows: split
                .by_level
                .values()
                .map(|f| {
                    let name = levels.get(&f.group).cloned().unwrap_or(f.group.clone());
                    figure_cells(name, f)
                })
                .collect(),
        },
        links: Vec::new(),
    };
    let agency_table = ShownTable {
        slug: "agencies",
        table: DataTable {
            title: lang.t("dashboard-by-agency").into(),
            headers: figure_headers(lang, lang.t("filter_agency")),
            rows: split
                .by_agency
                .values()
                .map(|f| figure_cells(name_of(&f.group), f))
                .collect(),
        },
        links: split
            .by_agency
            .values()
            .map(|f| {
                Some(format!(
                    "?{}",
                    Filters {
                        agency: f.group.clone(),
                        ..filters.clone()
                    }
                    .query_string()
                ))
            })
            .collect(),
    };

    let mut tables = vec![months, level_table, agency_table];
    let ranking = state.app.rank(split.by_agency.values()).await?;
    tables.push(ranking_table(lang, &ranking));
    if let Reader::Leader(user) = reader
        && user.role.reads_agency_dossiers()
    {
        let overdue = state.app.overdue(user, Some(&filters.agency), 200).await?;
        tables.push(overdue_table(lang, &overdue, &name_of));
    }
    Ok(Board {
        agency: split.agency.to_string(),
        agency_name: name_of(split.agency.as_str()),
        from: split.from.to_string(),
        to: split.to.to_string(),
        period: (lang.date(split.from), lang.date(split.to)),
        headline,
        tables,
    })
}

/// A column of counts as chart values (anything else as zero).
fn counts_in(table: &DataTable, column: usize) -> Vec<f64> {
    table
        .rows
        .iter()
        .map(|r| match r.get(column) {
            Some(Cell::Count(n)) => *n as f64,
            _ => 0.0,
        })
        .collect()
}

/// The page's two charts: received, resolved and on time per month (a line chart), and
/// received, resolved and overdue per level (bars), from the tables of the same numbers.
fn charts(lang: Lang, board: &Board) -> Result<Vec<String>, app::AppError> {
    let table = |slug| {
        board
            .tables
            .iter()
            .find(|t| t.slug == slug)
            .map(|t| &t.table)
    };
    let (Some(months), Some(levels)) = (table("months"), table("levels")) else {
        return Ok(Vec::new());
    };
    let series = |name: &str, values| Series {
        name: name.into(),
        values,
    };
    let received = lang.t("dashboard-received");
    let resolved = lang.t("dashboard-resolved-2");
    let on_time = counts_in(months, 3)
        .iter()
        .zip(counts_in(months, 4))
        .map(|(early, in_time)| early + in_time)
        .collect();
    let by_month = chart_of(
        lang,
        lang.t("dashboard-dossiers-by-month"),
        months,
        vec![
            series(received, counts_in(months, 1)),
            series(resolved, counts_in(months, 2)),
            series(lang.t("dashboard-early-time-3"), on_time),
        ],
    );
    let by_level = chart_of(
        lang,
        lang.t("dashboard-dossiers-by-level"),
        levels,
        vec![
            series(received, counts_in(levels, 1)),
            series(resolved, counts_in(levels, 2)),
            series(lang.t("dashboard-overdue-now"), counts_in(levels, 5)),
        ],
    );
    let failed = |e: documents::ChartError| app::AppError::Internal(e.to_string());
    Ok(vec![
        documents::line_chart_svg(&by_month).map_err(failed)?,
        documents::bar_chart_svg(&by_level).map_err(failed)?,
    ])
}

/// A chart of a table's rows, named by its first column, with its text alternative.
fn chart_of(lang: Lang, title: &str, table: &DataTable, series: Vec<Series>) -> Chart {
    let categories: Vec<String> = table.rows.iter().map(|r| r[0].text()).collect();
    Chart {
        title: title.into(),
        description: describe(lang, &categories, &series),
        categories,
        series,
        unit: lang.t("dashboard-dossiers").into(),
    }
}

/// The chart in words: each series' value per category.
fn describe(lang: Lang, categories: &[String], series: &[Series]) -> String {
    if categories.is_empty() {
        return lang.t("dashboard-no-figures").into();
    }
    series
        .iter()
        .map(|s| {
            let values: Vec<String> = categories
                .iter()
                .zip(&s.values)
                .map(|(c, v)| format!("{c}: {v}"))
                .collect();
            format!("{}: {}", s.name, values.join(", "))
        })
        .collect::<Vec<_>>()
        .join(". ")
}

fn ranking_table(lang: Lang, ranking: &[app::AgencyIndex]) -> ShownTable {
    use domain::service_index::Group;
    let mut headers: Vec<String> = vec![
        lang.t("dashboard-rank").into(),
        lang.t("filter_agency").into(),
        lang.t("dashboard-total-points").into(),
        lang.t("dashboard-most-points-computable").into(),
    ];
    headers.extend(
        Group::ALL
            .iter()
            .map(|g| format!("{} ({})", g.code(), g.max_points())),
    );
    let rows = ranking
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut row = vec![
                Cell::Count(i as i64 + 1),
                Cell::Text(a.agency.name.clone()),
                Cell::Percent(a.score.total()),
                Cell::Percent(a.score.computable()),
            ];
            row.extend(
                Group::ALL
                    .iter()
                    .map(|g| a.score.group_points(*g).map_or(Cell::Empty, Cell::Percent)),
            );
            row
        })
        .collect();
    ShownTable {
        slug: "index",
        table: DataTable {
            title: lang.t("dashboard-index-766-ranking").into(),
            headers,
            rows,
        },
        links: Vec::new(),
    }
}

fn overdue_table(
    lang: Lang,
    dossiers: &[domain::dossier::Dossier],
    name_of: &dyn Fn(&str) -> String,
) -> ShownTable {
    let now = chrono::Utc::now();
    ShownTable {
        slug: "overdue",
        table: DataTable {
            title: lang.t("dashboard-overdue-dossiers").into(),
            headers: texts(&[
                lang.t("dashboard-dossier"),
                lang.t("lookup_procedure"),
                lang.t("dashboard-held-by"),
                lang.t("dashboard-due"),
                lang.t("dashboard-overdue-days"),
            ]),
            rows: dossiers
                .iter()
                .map(|d| {
                    let due = d.due_at.unwrap_or(now);
                    vec![
                        Cell::Text(d.code.clone()),
                        Cell::Text(d.procedure.to_string()),
                        Cell::Text(name_of(d.agency.as_str())),
                        Cell::Text(
                            due.with_timezone(&domain::calendar::vietnam_offset())
                                .format("%d/%m/%Y %H:%M")
                                .to_string(),
                        ),
                        Cell::Count((now - due).num_days()),
                    ]
                })
                .collect(),
        },
        links: dossiers
            .iter()
            .map(|d| Some(format!("/dossiers/{}", d.code)))
            .collect(),
    }
}

async fn page(
    state: AppState,
    lang: Lang,
    reader: Reader<'_>,
    filters: Filters,
    path: &str,
) -> Result<Response, PageError> {
    let public = matches!(reader, Reader::Public);
    let filters = if public { filters.public() } else { filters };
    let sectors = if public {
        Vec::new()
    } else {
        state.app.sectors().map_err(|e| PageError::new(lang, e))?
    };
    let mut page = DashboardPage {
        lang,
        path: path.into(),
        public,
        query: filters.query_string(),
        filters: filters.clone(),
        sectors,
        board: None,
        charts: Vec::new(),
        errors: Vec::new(),
    };
    match build(&state, lang, reader, &filters).await {
        Ok(board) => {
            page.filters.agency = board.agency.clone();
            page.filters.from = board.from.clone();
            page.filters.to = board.to.clone();
            page.query = page.filters.query_string();
            page.charts = charts(lang, &board).map_err(|e| PageError::new(lang, e))?;
            page.board = Some(board);
            Ok(render(&page))
        }
        Err(app::AppError::Invalid(fields)) => {
            page.errors = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, crate::desk::reason(lang, f)))
                .collect();
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(e) => Err(PageError::new(lang, e)),
    }
}

async fn public_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    page(state, lang, Reader::Public, filters, "/statistics").await
}

async fn dashboard(
    State(state): State<AppState>,
    lang: Lang,
    signed_in: SignedIn,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    page(
        state,
        lang,
        Reader::Leader(&signed_in.user),
        filters,
        "/dashboard",
    )
    .await
}

async fn export(
    state: AppState,
    lang: Lang,
    reader: Reader<'_>,
    filters: Filters,
    file: &str,
) -> Result<Response, PageError> {
    let not_found = || {
        PageError::new(
            lang,
            app::AppError::NotFound {
                what: "table",
                id: file.to_string(),
            },
        )
    };
    let (slug, format) = file.rsplit_once('.').ok_or_else(not_found)?;
    if !matches!(format, "csv" | "xlsx") {
        return Err(not_found());
    }
    let filters = match reader {
        Reader::Public => filters.public(),
        Reader::Leader(_) => filters,
    };
    let board = build(&state, lang, reader, &filters)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let shown = board
        .tables
        .into_iter()
        .find(|t| t.slug == slug)
        .ok_or_else(not_found)?;
    let (bytes, content_type) = if format == "csv" {
        (
            documents::to_csv(&shown.table, true),
            "text/csv; charset=utf-8",
        )
    } else {
        (
            documents::to_xlsx(&shown.table),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    let bytes = bytes.map_err(|e| PageError::new(lang, app::AppError::Internal(e.to_string())))?;
    let name = format!(
        "motcua-{slug}-{}-{}-{}.{format}",
        board.agency, board.from, board.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn public_export(
    State(state): State<AppState>,
    lang: Lang,
    Path(file): Path<String>,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    export(state, lang, Reader::Public, filters, &file).await
}

async fn dashboard_export(
    State(state): State<AppState>,
    lang: Lang,
    signed_in: SignedIn,
    Path(file): Path<String>,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    export(state, lang, Reader::Leader(&signed_in.user), filters, &file).await
}

#[derive(Template)]
#[template(path = "methodology.html")]
struct MethodologyPage {
    lang: Lang,
    path: String,
    groups: Vec<(
        domain::service_index::Group,
        Vec<&'static domain::service_index::Indicator>,
    )>,
}

async fn methodology(lang: Lang) -> Response {
    use domain::service_index::{Group, INDICATORS};
    let groups = Group::ALL
        .iter()
        .map(|g| (*g, INDICATORS.iter().filter(|i| i.group == *g).collect()))
        .collect();
    render(&MethodologyPage {
        lang,
        path: "/statistics/methodology".into(),
        groups,
    })
}
