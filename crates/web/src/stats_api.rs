//! `GET /api/v1/stats`: figures for an agency subtree and a period, from the counters; and
//! `GET /api/v1/sync/dossiers`: the national portal's sync feed.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::dossier_api::Caller;
use crate::error::{ApiError, Problem};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats", get(stats))
        .route("/sync/dossiers", get(sync_dossiers))
}

#[derive(Debug, Deserialize)]
struct StatsParams {
    agency: Option<String>,
    from: Option<String>,
    to: Option<String>,
    group: Option<String>,
    procedure: Option<String>,
    sector: Option<String>,
    channel: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    pub agency: String,
    pub from: String,
    pub to: String,
    pub groups: Vec<GroupView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    /// The agency code, level code, procedure code, channel or month (`YYYY-MM`); empty
    /// for the total.
    pub group: String,
    pub received: i64,
    /// Received and submitted online.
    pub received_online: i64,
    /// Resolved, whatever the timing.
    pub resolved: i64,
    pub resolved_early: i64,
    pub resolved_on_time: i64,
    pub resolved_late: i64,
    /// Early and on time, out of those with a deadline, in percent; null when none.
    pub on_time_rate: Option<f64>,
    /// Held now (not in the period) and being processed within their deadline; 0 when
    /// grouped by month.
    pub in_progress: i64,
    /// Held now and past their deadline.
    pub overdue: i64,
    /// Held now and waiting for the applicant's supplement.
    pub awaiting_supplement: i64,
    /// Every counter by its name (submitted, refused, withdrawn, stopped, returned,
    /// supplement_requested, payment_confirmed, apologized, transferred_in, transferred_out,
    /// rated_satisfied, rated_dissatisfied, …).
    pub counts: std::collections::BTreeMap<String, i64>,
}

/// Figures for an agency and everything below it over a period (days in Vietnam, both ends
/// included; default: this year so far), optionally grouped and filtered. For leaders,
/// administrators and auditors, within their own agency's subtree.
#[utoipa::path(
    get, path = "/api/v1/stats",
    params(
        ("agency" = Option<String>, Query, description = "agency code; default: the caller's agency"),
        ("from" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD; at most 3660 days after from"),
        ("group" = Option<String>, Query, description = "total (default), agency, level, procedure, channel or month"),
        ("procedure" = Option<String>, Query, description = "one procedure's code"),
        ("sector" = Option<String>, Query, description = "a sector's name, as the catalogue gives it"),
        ("channel" = Option<String>, Query, description = "online, in_person or postal"),
    ),
    responses(
        (status = 200, body = StatsView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn stats(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(params): Query<StatsParams>,
) -> Result<Json<StatsView>, ApiError> {
    let report = state
        .app
        .stats(
            &user,
            app::StatsRequest {
                agency: params.agency,
                from: params.from,
                to: params.to,
                group: params.group,
                procedure: params.procedure,
                sector: params.sector,
                channel: params.channel,
            },
        )
        .await?;
    use domain::stats::Metric;
    Ok(Json(StatsView {
        agency: report.agency.to_string(),
        from: report.from.to_string(),
        to: report.to.to_string(),
        groups: report
            .groups
            .iter()
            .map(|g| GroupView {
                group: g.group.clone(),
                received: g.get(Metric::Received),
                received_online: g.get(Metric::ReceivedOnline),
                resolved: g.resolved(),
                resolved_early: g.get(Metric::ResolvedEarly),
                resolved_on_time: g.get(Metric::ResolvedOnTime),
                resolved_late: g.get(Metric::ResolvedLate),
                on_time_rate: g.on_time_rate().map(|r| (r * 10.0).round() / 10.0),
                in_progress: g.in_progress,
                overdue: g.overdue,
                awaiting_supplement: g.awaiting_supplement,
                counts: g
                    .counts
                    .iter()
                    .map(|(m, v)| (m.code().to_owned(), *v))
                    .collect(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize)]
struct SyncParams {
    cursor: Option<String>,
    limit: Option<i64>,
}

/// The sync feed to the National Public Service Portal: each dossier status change once, in
/// commit order, as the portal's dossier-sync records (MaHoSo, MaTTHC, TenTTHC, MaLinhVuc,
/// ChuHoSo, LoaiDoiTuong, NgayTiepNhan, NgayHenTra, NgayTra, TrangThaiHoSo 1–10,
/// KenhThucHien, DonViXuLy, …; dates `yyyyMMddHHmmss` in Vietnam). Pass the returned
/// `cursor` back to continue. For its exchange client (a system administrator under an elevation).
#[utoipa::path(
    get, path = "/api/v1/sync/dossiers",
    params(
        ("cursor" = Option<String>, Query, description = "where the last page ended; empty or 0 for the start"),
        ("limit" = Option<i64>, Query, description = "records per page, 1 to 5000 (default 500)"),
    ),
    responses(
        (status = 200, description = "{records: [...], cursor, more}"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
async fn sync_dossiers(
    State(state): State<AppState>,
    Caller(user): Caller,
    Query(params): Query<SyncParams>,
) -> Result<Json<app::SyncPage>, ApiError> {
    let page = state
        .app
        .sync_feed(
            &user,
            params.cursor.as_deref().unwrap_or(""),
            params.limit.unwrap_or(500),
        )
        .await?;
    Ok(Json(page))
}
