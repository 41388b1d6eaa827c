//! Start-up and shutdown of `motcua serve`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::App;
use search::CatalogueIndex;
use tokio::net::TcpListener;

use crate::config::Config;

/// Opens the database (running migrations), loads the demo data if asked, and brings the
/// search index up to date with the catalogue.
pub async fn build(config: &Config, demo: bool) -> anyhow::Result<App> {
    let store = open_store(config).await?;
    let index = CatalogueIndex::open_or_create(&config.server.data_dir.join("index"))
        .context("cannot open the search index")?;
    let app = start_app(config, store, index).await?;
    if demo && app.load_demo().await? {
        tracing::info!("demo data loaded");
    }
    app.refresh_index().await?;
    Ok(app)
}

/// The app for a one-off command (import, export): the database only. The search index is
/// the server's to rebuild — it notices the catalogue changed — so a command never writes
/// to the index folder that a running server reads.
pub async fn open_for_command(config: &Config) -> anyhow::Result<App> {
    let store = open_store(config).await?;
    let index = CatalogueIndex::in_memory().context("cannot create a search index")?;
    start_app(config, store, index).await
}

async fn start_app(
    config: &Config,
    store: Arc<dyn store::Store>,
    index: CatalogueIndex,
) -> anyhow::Result<App> {
    let objects = store::objects::Objects::local(&config.files_folder())
        .context("cannot open the attachments folder")?;
    let mut app = App::start(store, Arc::new(index), objects).await?;
    if let Some(eid) = &config.identity.eid {
        app = app.with_eid(eid.clone())?;
    }
    Ok(app
        .with_upload_limit(config.files.max_upload_bytes)
        .with_open_data(app::OpenDataSettings {
            licence_id: config.open_data.licence_id.clone(),
            licence_title: config.open_data.licence_title.clone(),
            licence_url: config.open_data.licence_url.clone(),
            suppress_below: config.open_data.suppress_below.max(1),
        }))
}

/// Creates the data folder and opens the configured database, running its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn store::Store>> {
    let data_dir = &config.server.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    let url = config.database_url();
    store::open(&url, config.database.max_connections)
        .await
        .with_context(|| format!("cannot open the database {}", store::redact(&url)))
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn run(
    app: App,
    web: web::Options,
    listener: TcpListener,
    index_refresh: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let refresher = app.clone();
    let refresh = tokio::spawn(async move {
        let mut tick = tokio::time::interval(index_refresh);
        tick.tick().await;
        loop {
            tick.tick().await;
            // Picks up catalogue changes made by `motcua import` while the server runs.
            if let Err(e) = refresher.refresh_index().await {
                tracing::warn!(error = %e, "search index refresh failed");
            }
        }
    });
    let service = web::router(app, &web)
        // The client's address, for the rate limits.
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    refresh.abort();
    result.context("the HTTP server failed")
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
