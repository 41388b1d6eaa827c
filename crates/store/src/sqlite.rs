use std::str::FromStr;
use std::time::Duration;

use domain::dossier::{CodeTemplate, NewDossier};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{mpsc, oneshot};

use domain::dossier::Dossier;

use crate::sql::{ActionWrite, Inserted};
use crate::{Backend, Result, StoreError};

/// Writes committed together at most.
const MAX_BATCH: usize = 64;

/// SQLite in WAL mode: readers do not block the writer, and a crash loses nothing committed.
/// SQLite takes one writer at a time, so writes go through a pool of one connection: they queue
/// in order instead of retrying against a busy database, which kept tail latency high.
/// Submissions and actions go further: a writer task commits the ones waiting together (group
/// commit), each in its own savepoint, so the per-transaction cost is shared.
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
    writes: mpsc::Sender<Write>,
}

/// A write waiting for the group commit, with where its outcome goes.
enum Write {
    Submission {
        new: Box<NewDossier>,
        template: CodeTemplate,
        idempotency_key: Option<String>,
        reply: oneshot::Sender<Result<Inserted>>,
    },
    Action {
        write: Box<ActionWrite>,
        reply: oneshot::Sender<Result<Dossier>>,
    },
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
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await?;
        let (writes, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(commit_in_groups(writer.clone(), queue));
        Ok(Self {
            pool,
            writer,
            writes,
        })
    }

    async fn insert_dossier(
        &self,
        new: &NewDossier,
        template: &CodeTemplate,
        idempotency_key: Option<&str>,
    ) -> Result<Inserted> {
        let (reply, answer) = oneshot::channel();
        self.queue(Write::Submission {
            new: Box::new(new.clone()),
            template: template.clone(),
            idempotency_key: idempotency_key.map(str::to_owned),
            reply,
        })
        .await?;
        answer.await.map_err(|_| stopped())?
    }

    async fn write_action(&self, write: ActionWrite) -> Result<Dossier> {
        let (reply, answer) = oneshot::channel();
        self.queue(Write::Action {
            write: Box::new(write),
            reply,
        })
        .await?;
        answer.await.map_err(|_| stopped())?
    }

    /// JSON functions for the audit's one-row read of the event log.
    const JSON_AGG: &str = "json_group_array";
    /// How a notification claim leaves rows another node is claiming (SQLite has one writer).
    const SKIP_LOCKED: &str = "";
    const JSON_ARRAY: &str = "json_array";

    async fn queue(&self, write: Write) -> Result<()> {
        self.writes.send(write).await.map_err(|_| stopped())
    }
}

fn stopped() -> StoreError {
    StoreError::Conflict("the database writer has stopped".into())
}

/// Takes the writes waiting (up to [`MAX_BATCH`]) and commits them in one transaction.
/// A write that fails rolls back its own savepoint only.
async fn commit_in_groups(writer: SqlitePool, mut queue: mpsc::Receiver<Write>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        match write_batch(&writer, &batch).await {
            Ok(outcomes) => {
                for (write, outcome) in batch.into_iter().zip(outcomes) {
                    match (write, outcome) {
                        (Write::Submission { reply, .. }, Outcome::Submission(o)) => {
                            let _ = reply.send(o);
                        }
                        (Write::Action { reply, .. }, Outcome::Action(o)) => {
                            let _ = reply.send(o);
                        }
                        _ => unreachable!("outcomes follow the batch's order and kinds"),
                    }
                }
            }
            Err(e) => {
                let message = e.to_string();
                let failed = || StoreError::Conflict(format!("not saved: {message}"));
                for write in batch {
                    match write {
                        Write::Submission { reply, .. } => {
                            let _ = reply.send(Err(failed()));
                        }
                        Write::Action { reply, .. } => {
                            let _ = reply.send(Err(failed()));
                        }
                    }
                }
            }
        }
    }
}

enum Outcome {
    Submission(Result<Inserted>),
    Action(Result<Dossier>),
}

async fn write_batch(writer: &SqlitePool, batch: &[Write]) -> Result<Vec<Outcome>> {
    let mut tx = writer.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    // The counters of every write kept, written once for the batch.
    let mut counters = std::collections::BTreeMap::new();
    for write in batch {
        let mut own = std::collections::BTreeMap::new();
        // A nested transaction on the same connection is a SAVEPOINT.
        let mut savepoint = sqlx::Acquire::begin(&mut *tx).await?;
        let (keep, outcome) = match write {
            Write::Submission {
                new,
                template,
                idempotency_key,
                ..
            } => {
                let key = idempotency_key.as_deref();
                let o = crate::sql::insert_dossier!(savepoint, new, template, key, &mut own).await;
                (
                    matches!(o, Ok(Inserted::Dossier(_))),
                    Outcome::Submission(o),
                )
            }
            Write::Action { write, .. } => {
                let o = crate::sql::apply_action!(savepoint, write, &mut own).await;
                (o.is_ok(), Outcome::Action(o))
            }
        };
        if keep {
            savepoint.commit().await?;
            for (key, value) in own {
                *counters.entry(key).or_insert(0) += value;
            }
        } else {
            savepoint.rollback().await?;
        }
        outcomes.push(outcome);
    }
    crate::sql::write_counters!(&mut *tx, &counters).await?;
    tx.commit().await?;
    Ok(outcomes)
}

crate::sql::impl_store!(SqliteStore, Backend::Sqlite);
crate::identity::impl_identity!(SqliteStore);
crate::privilege::impl_privilege!(SqliteStore);
crate::payments::impl_payments!(SqliteStore);
crate::notify::impl_notify!(SqliteStore);

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
