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
    let app = start_app(config, store, index)
        .await?
        .with_master_key(&master_key(config)?)
        .await?;
    if demo && app.load_demo().await? {
        tracing::info!("demo data loaded");
    }
    app.refresh_index().await?;
    let mut payment = config.payment.clone();
    // The demo takes payments through the built-in sandbox provider.
    payment.sandbox |= demo;
    let app = if payment.sandbox || !payment.vnpay.tmn_code.is_empty() {
        app.with_payments(payment).await?
    } else {
        app
    };
    let app = app.with_exchange(config.exchange.clone()).await?;
    app.spawn_push();
    if config.jobs.enabled {
        let node = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        app.spawn_jobs(config.jobs.clone(), node);
    }
    Ok(app)
}

/// The app for a one-off command (import, export): the database only, without the master key
/// (no command seals or opens personal data). The search index is
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
    let mut app = App::start(store, Arc::new(index), objects)
        .await?
        .with_public_url(&config.public_url())
        .with_notifications(config.notify.clone())?;
    if let Some(eid) = &config.identity.eid {
        app = app.with_eid(eid.clone())?;
    }
    if let Some(clamd) = &config.files.clamd {
        let address =
            app::ScannerAddress::parse(clamd).map_err(|e| anyhow::anyhow!("files.clamd: {e}"))?;
        app = app.with_virus_scanner(app::VirusScanner::new(address));
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

/// The master key: configured, from the configured file, or from `master.key` in the data
/// folder (made on first start, readable by its owner only).
fn master_key(config: &Config) -> anyhow::Result<app::MasterKey> {
    let parse = |text: &str, from: &str| {
        app::MasterKey::from_base64(text).map_err(|e| anyhow::anyhow!("{e} ({from})"))
    };
    if let Some(key) = &config.security.master_key {
        return parse(key, "security.master_key");
    }
    let path = match &config.security.master_key_file {
        Some(path) => path.clone(),
        None => config.server.data_dir.join("master.key"),
    };
    if path.exists() || config.security.master_key_file.is_some() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the master key file {}", path.display()))?;
        return parse(&text, &path.display().to_string());
    }
    std::fs::create_dir_all(&config.server.data_dir)?;
    let key = app::MasterKey::generate();
    write_private(&path, &key.to_base64())
        .with_context(|| format!("cannot write the master key file {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "made a new master key in the data folder; in production keep it apart from the database \
         and its backups (security.master_key or security.master_key_file)"
    );
    Ok(key)
}

/// Writes a file only its owner may read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
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
