//! The JSON API under `/api/v1`, described by the OpenAPI document it serves.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::error::{ApiError, Failure, InvalidParam, Problem};
use crate::params::SearchParams;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        description = "The catalogue of administrative procedures and agencies, and the \
            dossiers submitted under them. Errors are RFC 9457 problem+json documents.",
        version = "1"
    ),
    paths(
        list_procedures,
        get_procedure,
        list_agencies,
        list_levels,
        list_life_events,
        suggest,
        crate::dossier_api::submit,
        crate::dossier_api::list,
        crate::dossier_api::read,
        crate::dossier_api::act,
        crate::dossier_api::start_payment,
        crate::dossier_api::lookup,
        crate::dossier_api::upload,
        crate::dossier_api::file,
        crate::dossier_api::service,
        crate::dossier_api::save_draft,
        crate::dossier_api::list_drafts,
        crate::dossier_api::delete_draft,
        crate::stats_api::stats,
        crate::stats_api::sync_dossiers,
        crate::exchange::results,
        crate::exchange::warehouse,
        crate::exchange::reuse,
        crate::exchange::fetch,
        crate::exchange::registry,
        crate::exchange::log,
        crate::exchange::verify_log,
        crate::exchange::figures,
        crate::exchange::push_state,
        crate::exchange::national_dossier,
        crate::exchange::national_stats,
    ),
    components(schemas(Problem, InvalidParam)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme the dossier endpoints use.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .merge(crate::dossier_api::routes(upload_limit))
        .merge(crate::stats_api::routes())
        .merge(crate::exchange::api_routes())
        .route("/openapi.json", get(openapi))
        .route("/procedures", get(list_procedures))
        .route("/procedures/{code}", get(get_procedure))
        .route("/agencies", get(list_agencies))
        .route("/levels", get(list_levels))
        .route("/life-events", get(list_life_events))
        .route("/assistant", get(suggest))
        .fallback(api_not_found)
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn api_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError(Failure::not_found(format!(
        "no API endpoint at {}",
        uri.path()
    )))
}

/// A procedure in a list of search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureSummary {
    /// National procedure code, e.g. 1.001193.
    pub code: String,
    pub name: String,
    pub sectors: Vec<String>,
    /// Level codes, e.g. commune.
    pub levels: Vec<String>,
    /// full, partial or none.
    pub online: String,
    /// Lowest and highest fee in VND, when fees are stated.
    pub fee_min_vnd: Option<i64>,
    pub fee_max_vnd: Option<i64>,
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureFacets {
    pub sectors: Vec<FacetCount>,
    pub levels: Vec<FacetCount>,
    pub online: Vec<FacetCount>,
    pub life_events: Vec<FacetCount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedurePage {
    pub items: Vec<ProcedureSummary>,
    /// How many procedures match, over all pages.
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    /// Present when asked for with facets=true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<ProcedureFacets>,
}

fn facet_list(list: Vec<(String, u64)>) -> Vec<FacetCount> {
    list.into_iter()
        .map(|(value, count)| FacetCount { value, count })
        .collect()
}

/// Search the catalogue. Words match with or without Vietnamese accents and with one typo;
/// a query shaped like a code (1.001193, or a prefix such as 1.0011) matches codes.
#[utoipa::path(
    get, path = "/api/v1/procedures",
    params(
        ("q" = Option<String>, Query, description = "Words or a procedure code"),
        ("limit" = Option<usize>, Query, description = "1 to 100, default 20"),
        ("offset" = Option<usize>, Query, description = "0 to 10000, default 0"),
        ("sector" = Option<String>, Query, description = "Sector name"),
        ("level" = Option<String>, Query, description = "Level code: central, province, district, commune"),
        ("agency" = Option<String>, Query, description = "National agency code, e.g. 000.00.00.H31"),
        ("online" = Option<String>, Query, description = "full, partial or none"),
        ("event" = Option<String>, Query, description = "Life event code"),
        ("facets" = Option<bool>, Query, description = "Also count matches per sector, level, online level and life event (default false)"),
    ),
    responses(
        (status = 200, body = ProcedurePage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_procedures(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<ProcedurePage>, ApiError> {
    let search = params.to_search().map_err(Failure::invalid)?;
    let (limit, offset, with_facets) = (search.limit, search.offset, search.facets);
    let page = state.app.search_catalogue(search).await?;
    let items = page
        .results
        .hits
        .into_iter()
        .map(|h| ProcedureSummary {
            url: format!("/api/v1/procedures/{}", h.code),
            code: h.code,
            name: h.name,
            sectors: h.card.sectors,
            levels: h.card.levels,
            online: h.card.online.code().to_owned(),
            fee_min_vnd: h.card.fee_range.map(|r| r.0),
            fee_max_vnd: h.card.fee_range.map(|r| r.1),
        })
        .collect();
    let f = page.results.facets;
    Ok(Json(ProcedurePage {
        items,
        total: page.results.total,
        limit,
        offset,
        facets: with_facets.then(|| ProcedureFacets {
            sectors: facet_list(f.sectors),
            levels: facet_list(f.levels),
            online: facet_list(f.online),
            life_events: facet_list(f.life_events),
        }),
    }))
}

/// A procedure version in force today, with its history of versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureDocument {
    /// The full catalogue record: steps, channels with processing times and fees, required
    /// documents, legal basis, target groups, conditions, results, agencies.
    #[schema(value_type = Object)]
    pub procedure: serde_json::Value,
    /// Effective dates of all versions, oldest first.
    pub versions: Vec<String>,
    /// Codes of the life events that list this procedure.
    pub life_events: Vec<String>,
}

#[utoipa::path(
    get, path = "/api/v1/procedures/{code}",
    params(("code" = String, Path, description = "National procedure code, e.g. 1.001193")),
    responses(
        (status = 200, body = ProcedureDocument),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_procedure(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ProcedureDocument>, ApiError> {
    let detail = state.app.procedure(&code).await?;
    Ok(Json(ProcedureDocument {
        procedure: serde_json::to_value(&detail.procedure).unwrap_or_default(),
        versions: detail.versions.iter().map(|d| d.to_string()).collect(),
        life_events: detail.life_events.into_iter().map(|e| e.code).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyItem {
    /// National agency code (QCVN 102:2016).
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub level: String,
    /// Depth in the tree, 0 for a root.
    pub depth: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyList {
    /// Parents come before their children.
    pub items: Vec<AgencyItem>,
    pub total: usize,
}

#[utoipa::path(get, path = "/api/v1/agencies", responses((status = 200, body = AgencyList)))]
async fn list_agencies(State(state): State<AppState>) -> Result<Json<AgencyList>, ApiError> {
    let items: Vec<AgencyItem> = state
        .app
        .agency_tree()
        .await?
        .into_iter()
        .map(|n| AgencyItem {
            code: n.agency.code.to_string(),
            name: n.agency.name,
            parent: n.agency.parent.map(|p| p.to_string()),
            level: n.agency.level,
            depth: n.depth,
        })
        .collect();
    Ok(Json(AgencyList {
        total: items.len(),
        items,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelItem {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// The name the national catalogue uses, e.g. "Cấp Xã".
    pub catalogue_name: String,
    /// Last day of a level that was abolished.
    pub valid_until: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/levels", responses((status = 200, body = [LevelItem])))]
async fn list_levels(State(state): State<AppState>) -> Result<Json<Vec<LevelItem>>, ApiError> {
    let levels = state.app.levels();
    Ok(Json(
        levels
            .into_iter()
            .map(|l| LevelItem {
                code: l.code,
                name_vi: l.name_vi,
                name_en: l.name_en,
                catalogue_name: l.catalogue_name,
                valid_until: l.valid_until.map(|d| d.to_string()),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LifeEventItem {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub description_vi: String,
    pub procedures: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/life-events", responses((status = 200, body = [LifeEventItem])))]
async fn list_life_events(
    State(state): State<AppState>,
) -> Result<Json<Vec<LifeEventItem>>, ApiError> {
    let events = state.app.life_events();
    Ok(Json(
        events
            .into_iter()
            .map(|e| LifeEventItem {
                code: e.code,
                name_vi: e.name_vi,
                name_en: e.name_en,
                description_vi: e.description_vi,
                procedures: e.procedures.into_iter().map(String::from).collect(),
            })
            .collect(),
    ))
}

/// A procedure the assistant suggests, with why.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionItem {
    pub code: String,
    pub name: String,
    pub url: String,
    pub score: f64,
    /// Why, one line each: an everyday phrase and the catalogue's words for it
    /// (`phrase`, `said`, `means`), words of the situation in the name (`words`), or a life
    /// event that lists it (`life_event`).
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct SuggestParams {
    q: Option<String>,
    limit: Option<usize>,
}

#[utoipa::path(
    get, path = "/api/v1/assistant",
    params(
        ("q" = String, Query, description = "The situation in everyday Vietnamese, 3 to 500 characters, e.g. tôi muốn làm giấy tờ cho con mới sinh"),
        ("limit" = Option<usize>, Query, description = "1 to 20, default 5"),
    ),
    responses(
        (status = 200, body = Vec<SuggestionItem>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn suggest(
    State(state): State<AppState>,
    Query(params): Query<SuggestParams>,
) -> Result<Json<Vec<SuggestionItem>>, ApiError> {
    let found = state
        .app
        .suggest_procedures(params.q.as_deref().unwrap_or(""), params.limit.unwrap_or(5))?;
    Ok(Json(
        found
            .into_iter()
            .map(|s| SuggestionItem {
                url: format!("/api/v1/procedures/{}", s.code),
                reasons: s
                    .reasons
                    .iter()
                    .map(|r| match r {
                        app::Reason::Phrase { said, means } => {
                            serde_json::json!({ "kind": "phrase", "said": said, "means": means })
                        }
                        app::Reason::Words(words) => {
                            serde_json::json!({ "kind": "words", "words": words })
                        }
                        app::Reason::LifeEvent(event) => {
                            serde_json::json!({ "kind": "life_event", "life_event": event })
                        }
                    })
                    .collect(),
                code: s.code,
                name: s.name,
                score: (s.score * 1000.0).round() / 1000.0,
            })
            .collect(),
    ))
}
