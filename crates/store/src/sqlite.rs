use std::str::FromStr;
use std::time::Duration;

use domain::dossier::{CodeTemplate, NewDossier};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{mpsc, oneshot};

use crate::sql::Inserted;
use crate::{Backend, Result, StoreError};

/// Submissions committed together at most.
const MAX_BATCH: usize = 64;

/// SQLite in WAL mode: readers do not block the writer, and a crash loses nothing committed.
/// SQLite takes one writer at a time, so writes go through a pool of one connection: they queue
/// in order instead of retrying against a busy database, which kept tail latency high.
/// Submissions go further: a writer task commits the ones waiting together (group commit),
/// each in its own savepoint, so the per-transaction cost is shared.
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
    submissions: mpsc::Sender<Submission>,
}

struct Submission {
    new: NewDossier,
    template: CodeTemplate,
    idempotency_key: Option<String>,
    reply: oneshot::Sender<Result<Inserted>>,
}

impl SqliteStore {
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
        let (submissions, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(commit_in_groups(writer.clone(), queue));
        Ok(Self {
            pool,
            writer,
            submissions,
        })
    }

    async fn insert_dossier(
        &self,
        new: &NewDossier,
        template: &CodeTemplate,
        idempotency_key: Option<&str>,
    ) -> Result<Inserted> {
        let (reply, answer) = oneshot::channel();
        let submission = Submission {
            new: new.clone(),
            template: template.clone(),
            idempotency_key: idempotency_key.map(str::to_owned),
            reply,
        };
        let stopped = || StoreError::Conflict("the database writer has stopped".into());
        self.submissions
            .send(submission)
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Takes the submissions waiting (up to [`MAX_BATCH`]) and commits them in one transaction.
/// A submission that fails rolls back its own savepoint only.
async fn commit_in_groups(writer: SqlitePool, mut queue: mpsc::Receiver<Submission>) {
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
                for (submission, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = submission.reply.send(outcome);
                }
            }
            Err(e) => {
                let message = e.to_string();
                for submission in batch {
                    let _ = submission
                        .reply
                        .send(Err(StoreError::Conflict(format!("not saved: {message}"))));
                }
            }
        }
    }
}

async fn write_batch(writer: &SqlitePool, batch: &[Submission]) -> Result<Vec<Result<Inserted>>> {
    let mut tx = writer.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for s in batch {
        // A nested transaction on the same connection is a SAVEPOINT.
        let mut savepoint = sqlx::Acquire::begin(&mut *tx).await?;
        let key = s.idempotency_key.as_deref();
        let outcome = crate::sql::insert_dossier!(savepoint, &s.new, &s.template, key).await;
        match &outcome {
            Ok(Inserted::Dossier(_)) => savepoint.commit().await?,
            _ => savepoint.rollback().await?,
        }
        outcomes.push(outcome);
    }
    tx.commit().await?;
    Ok(outcomes)
}

crate::sql::impl_store!(SqliteStore, Backend::Sqlite);
