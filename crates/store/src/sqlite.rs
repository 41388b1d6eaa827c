use std::str::FromStr;
use std::time::Duration;

use domain::dossier::{CodeTemplate, NewDossier};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use domain::dossier::Dossier;

use crate::group_commit::Writes;
use crate::sql::{ActionWrite, Inserted};
use crate::{Backend, Result, StoreError};

/// SQLite in WAL mode: readers do not block the writer, and a crash loses nothing committed.
/// SQLite takes one writer at a time, so writes go through a pool of one connection: they queue
/// in order instead of retrying against a busy database, which kept tail latency high.
/// Submissions and actions go further: a writer task commits the ones waiting together (group
/// commit), each in its own savepoint, so the per-transaction cost is shared.
/// The writer never checkpoints the WAL itself: a commit that did stalled every call waiting on
/// it for the tens of milliseconds the copy and its fsync take. A background task does it.
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
    writes: Writes,
    /// The checkpoint task stops when the store is dropped.
    _alive: std::sync::Arc<()>,
}

/// How often the background task copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies committed WAL frames into the database on a reader connection, beside the writer
/// (a passive checkpoint takes no lock a writer waits for), until the store is dropped.
async fn checkpoint_in_background(pool: SqlitePool, alive: std::sync::Weak<()>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while alive.strong_count() > 0 {
        tick.tick().await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next one will retry");
        }
    }
}

impl SqliteStore {
    /// Feed numberings already take turns: there is one writer connection.
    async fn lock_feed(_tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> Result<()> {
        Ok(())
    }

    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await?;
        let (writes, queue) = Writes::channel();
        tokio::spawn(commit_in_groups(writer.clone(), queue));
        let alive = std::sync::Arc::new(());
        tokio::spawn(checkpoint_in_background(
            pool.clone(),
            std::sync::Arc::downgrade(&alive),
        ));
        Ok(Self {
            pool,
            writer,
            writes,
            _alive: alive,
        })
    }

    async fn insert_dossier(
        &self,
        new: &NewDossier,
        template: &CodeTemplate,
        idempotency_key: Option<&str>,
    ) -> Result<Inserted> {
        self.writes.submit(new, template, idempotency_key).await
    }

    async fn write_action(&self, write: ActionWrite) -> Result<Dossier> {
        self.writes.act(write).await
    }

    /// JSON functions for the audit's one-row read of the event log.
    const JSON_AGG: &str = "json_group_array";
    /// How a notification claim leaves rows another node is claiming (SQLite has one writer).
    const SKIP_LOCKED: &str = "";
    const JSON_ARRAY: &str = "json_array";
    /// How the counter reads name the agencies of a subtree.
    const IN_SUBTREE: &str = "IN (SELECT code FROM subtree)";
    /// How a statement names the texts of a JSON array bound as one parameter.
    const IN_JSON_TEXTS: &str = "IN (SELECT value FROM json_each($1))";
    const DATABASE_BYTES: &str =
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";
}

crate::group_commit::writer_task!(SqlitePool);

crate::sql::impl_store!(SqliteStore, Backend::Sqlite);
crate::identity::impl_identity!(SqliteStore);
crate::privilege::impl_privilege!(SqliteStore);
crate::feedback::impl_feedback!(SqliteStore);
crate::analytics::impl_analytics!(SqliteStore);
crate::payments::impl_payments!(SqliteStore);
crate::notify::impl_notify!(SqliteStore);
crate::exchange::impl_exchange!(SqliteStore);

/// What a copy of the database holds, read from the copy itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotCounts {
    pub dossiers: i64,
    pub events: i64,
    pub attachments: i64,
}

/// Writes a consistent copy of the database at `url` to `dest`, which must not exist, while a
/// server may go on reading and writing it: `VACUUM INTO` reads one snapshot (a read
/// transaction, so writers are not blocked in WAL mode) and writes it out compacted.
pub async fn snapshot(url: &str, dest: &std::path::Path) -> Result<()> {
    use sqlx::ConnectOptions;
    let mut conn = SqliteConnectOptions::from_str(url)?
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await?;
    sqlx::query("VACUUM INTO ?")
        .bind(dest.to_string_lossy().as_ref())
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// The file a `sqlite:` URL names, as the driver reads it.
pub fn database_file(url: &str) -> Result<std::path::PathBuf> {
    Ok(SqliteConnectOptions::from_str(url)?
        .get_filename()
        .to_path_buf())
}

/// Checks a database file page by page (`PRAGMA integrity_check`) without changing it, and
/// counts what it holds. An error names what is wrong.
pub async fn check_copy(path: &std::path::Path) -> Result<SnapshotCounts> {
    use sqlx::{ConnectOptions, Row};
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if verdict != "ok" {
        return Err(StoreError::Corrupt(format!(
            "{} is damaged: {verdict}",
            path.display()
        )));
    }
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM dossiers), (SELECT count(*) FROM dossier_events),
                (SELECT count(*) FROM attachments)",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(SnapshotCounts {
        dossiers: row.get(0),
        events: row.get(1),
        attachments: row.get(2),
    })
}
