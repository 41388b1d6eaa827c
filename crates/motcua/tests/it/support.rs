use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use motcua::config::Config;
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The admin URL of the PostgreSQL that tests use; `scripts/test` starts one.
/// Missing PostgreSQL is a failure, not a skip.
pub fn postgres_admin_url() -> String {
    std::env::var("MOTCUA_TEST_POSTGRES_URL").expect(
        "MOTCUA_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts a throwaway \
         PostgreSQL, or point it at an empty server",
    )
}

/// A new empty PostgreSQL database, returned as its URL.
pub async fn fresh_postgres_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let admin = postgres_admin_url();
    let name = format!(
        "motcua_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros()
    );
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("create database");
    pool.close().await;
    let base = admin.rsplit_once('/').expect("a URL with a database").0;
    format!("{base}/{name}")
}

/// A database URL of the given kind, inside `dir` for SQLite.
pub async fn database_url(db: Db, dir: &std::path::Path) -> String {
    match db {
        Db::Sqlite => format!("sqlite://{}", dir.join("motcua.db").display()),
        Db::Postgres => fresh_postgres_database().await,
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub app: app::App,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Stops the HTTP side (see [`stop`]).
    stop: Option<Stop>,
    _dir: TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// A page as the holder of a session (or API) token sees it.
    pub async fn text_with_cookie(&self, path: &str, token: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.url(path))
            .header("cookie", format!("motcua_session={token}"))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a text body"))
    }

    pub async fn text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("a text body"))
    }
}

pub fn config(db_url: &str, data_dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.server.data_dir = data_dir.to_path_buf();
    config.database.url = Some(db_url.to_owned());
    config.database.max_connections = 4;
    config
}

/// Starts the server with a fresh database (and the demo data if asked).
pub async fn spawn(db: Db, demo: bool) -> TestApp {
    spawn_configured(db, demo, async |_, _| ()).await.0
}

/// Starts the server after `configure` has adjusted its configuration, given the address the
/// server will answer at; returns what `configure` returned (a helper server, say) with it.
pub async fn spawn_configured<R>(
    db: Db,
    demo: bool,
    configure: impl AsyncFnOnce(&mut Config, String) -> R,
) -> (TestApp, R) {
    spawn_on(db, demo, 0, None, configure).await
}

/// [`spawn_configured`] on a given port (0 for any) and, when `reuse` names one, on an
/// existing database and data folder (a server started again after [`stop`]).
pub async fn spawn_on<R>(
    db: Db,
    demo: bool,
    port: u16,
    reuse: Option<(String, PathBuf)>,
    configure: impl AsyncFnOnce(&mut Config, String) -> R,
) -> (TestApp, R) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (database_url, data_dir) = match reuse {
        Some(existing) => existing,
        None => (database_url(db, dir.path()).await, dir.path().to_path_buf()),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let mut config = config(&database_url, &data_dir);
    let extra = configure(&mut config, base.clone()).await;
    let (app, stop) = serve(&config, demo, listener).await;
    let t = TestApp {
        base,
        client: reqwest::Client::new(),
        app,
        data_dir,
        database_url,
        stop: Some(stop),
        _dir: dir,
    };
    (t, extra)
}

/// Stops a server's HTTP side (the requests in flight finish); returns its folder, which
/// holds its SQLite database, to keep for a restart.
pub async fn stop(mut t: TestApp) -> TempDir {
    if let Some((stop, served)) = t.stop.take() {
        let _ = stop.send(());
        let _ = served.await;
    }
    t._dir
}

type Stop = (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
);

/// Builds the server and serves it on `listener` until the test ends or it is stopped.
async fn serve(config: &Config, demo: bool, listener: tokio::net::TcpListener) -> (app::App, Stop) {
    let app = motcua::server::build(config, demo)
        .await
        .expect("the server builds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(motcua::server::run(
        app.clone(),
        config.web_options(),
        listener,
        Duration::from_secs(3600),
        async move {
            let _ = stopped.await;
        },
    ));
    (app, (stop, served))
}

/// Starts another server node on `first`'s database (and master key), after `configure`.
pub async fn spawn_node(first: &TestApp, configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let mut config = config(&first.database_url, dir.path());
    config.security.master_key_file = Some(first.data_dir.join("master.key"));
    config.server.public_url = Some(base.clone());
    configure(&mut config);
    let (app, stop) = serve(&config, false, listener).await;
    TestApp {
        base,
        client: reqwest::Client::new(),
        app,
        data_dir: dir.path().to_path_buf(),
        database_url: first.database_url.clone(),
        stop: Some(stop),
        _dir: dir,
    }
}

/// The real sample catalogue shipped as demo data.
pub fn demo_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../demo/procedures.dvcqg.json")
}

/// Runs one test body on both storage backends.
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::support::Db::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::support::Db::Postgres).await
            }
        }
    };
}
pub(crate) use on_both_backends;

/// The `motcua` binary on a data folder and database, quiet but for warnings.
pub fn motcua(data_dir: &std::path::Path, db_url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn");
    command
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
