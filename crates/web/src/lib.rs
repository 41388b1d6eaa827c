//! HTTP: the public portal (server-rendered HTML that works without JavaScript), the JSON API
//! under `/api/v1` with its OpenAPI document, and the operational endpoints.

mod account;
mod admin;
mod api;
mod assistant;
mod calendar_admin;
mod catalogue_admin;
mod csrf;
mod dashboard;
mod desk;
mod document_check;
mod dossier_api;
mod error;
mod exchange;
mod feedback;
mod forms;
mod i18n;
mod limits;
mod open_data;
mod ops;
pub(crate) mod pages;
mod params;
mod payments;
mod printed;
mod reengineering;
mod security;
mod session;
mod staff_admin;
mod stats_api;

use std::time::Duration;

use axum::Router;
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use api::ApiDoc;
pub use limits::Limits;

/// How the portal is reached and guarded.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// People reach the portal over HTTPS (behind a TLS proxy): cookies are marked Secure and
    /// responses carry HSTS.
    pub https: bool,
    pub limits: Limits,
}

/// What every handler can reach. Cloned for every request (by each middleware that takes
/// it), so the app is behind one `Arc` rather than cloned field by field.
#[derive(Clone)]
pub struct AppState {
    pub app: std::sync::Arc<app::App>,
    pub https: bool,
    limiters: std::sync::Arc<limits::Limiters>,
}

/// The whole HTTP surface of motcua.
pub fn router(app: app::App, options: &Options) -> Router {
    // Install the recorder before the first request, so that every request is counted.
    ops::metrics_handle();
    let upload_limit = app.upload_limit();
    let https = options.https;
    let state = AppState {
        app: std::sync::Arc::new(app),
        https,
        limiters: std::sync::Arc::new(limits::Limiters::new(&options.limits)),
    };
    Router::new()
        .merge(pages::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(catalogue_admin::routes())
        .merge(calendar_admin::routes())
        .merge(staff_admin::routes())
        .merge(feedback::routes())
        .merge(document_check::routes())
        .merge(assistant::routes())
        .merge(reengineering::routes())
        .merge(desk::routes(upload_limit))
        .merge(dashboard::routes())
        .merge(open_data::routes())
        .merge(payments::routes())
        .merge(exchange::routes())
        .merge(exchange::admin_routes())
        .nest("/api/v1", api::routes(upload_limit))
        .merge(ops::routes())
        // After routing, so that requests are labelled by their route template.
        .route_layer(middleware::from_fn(ops::record_metrics))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::protect))
        .layer(middleware::from_fn_with_state(state.clone(), limits::limit))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(middleware::from_fn(move |request, next| {
            security::add_headers(https, request, next)
        }))
        .with_state(state)
}

/// Starts the background work the metrics exporter needs; call once per process.
pub fn start_metrics_upkeep() {
    let handle = ops::metrics_handle().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    });
}
