//! HTTP: the public portal (server-rendered HTML that works without JavaScript), the JSON API
//! under `/api/v1` with its OpenAPI document, and the operational endpoints.

mod account;
mod admin;
mod api;
mod csrf;
mod dashboard;
mod desk;
mod dossier_api;
mod error;
mod i18n;
mod open_data;
mod ops;
pub(crate) mod pages;
mod params;
mod printed;
mod security;
mod session;
mod stats_api;

use std::time::Duration;

use axum::Router;
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use api::ApiDoc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: app::App,
}

/// The whole HTTP surface of motcua.
pub fn router(app: app::App) -> Router {
    // Install the recorder before the first request, so that every request is counted.
    ops::metrics_handle();
    let upload_limit = app.upload_limit();
    let https = app.https();
    let state = AppState { app };
    Router::new()
        .merge(pages::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(desk::routes(upload_limit))
        .merge(dashboard::routes())
        .merge(open_data::routes())
        .nest("/api/v1", api::routes(upload_limit))
        .merge(ops::routes())
        // After routing, so that requests are labelled by their route template.
        .route_layer(middleware::from_fn(ops::record_metrics))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), csrf::protect))
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
