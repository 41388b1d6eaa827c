//! Group commit: submissions and actions queue for a writer task, which commits the ones
//! waiting together, each in its own savepoint. The cost of a transaction and of its flush to
//! disk is shared, and the rows every write touches (the day's code sequence, the counters)
//! are locked once per group instead of once per write, which had made PostgreSQL's writes
//! take turns through each commit.

use domain::dossier::{CodeTemplate, Dossier, NewDossier};
use tokio::sync::{mpsc, oneshot};

use crate::sql::{ActionWrite, Inserted};
use crate::{Result, StoreError};

/// Writes committed together at most.
pub(crate) const MAX_BATCH: usize = 64;

/// A write waiting for the group commit, with where its outcome goes.
pub(crate) enum Write {
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

pub(crate) enum Outcome {
    Submission(Result<Inserted>),
    Action(Result<Dossier>),
}

/// The store's side of the queue.
pub(crate) struct Writes(mpsc::Sender<Write>);

impl Writes {
    pub(crate) fn channel() -> (Self, mpsc::Receiver<Write>) {
        let (sender, queue) = mpsc::channel(4 * MAX_BATCH);
        (Self(sender), queue)
    }

    pub(crate) async fn submit(
        &self,
        new: &NewDossier,
        template: &CodeTemplate,
        idempotency_key: Option<&str>,
    ) -> Result<Inserted> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Write::Submission {
                new: Box::new(new.clone()),
                template: template.clone(),
                idempotency_key: idempotency_key.map(str::to_owned),
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    pub(crate) async fn act(&self, write: ActionWrite) -> Result<Dossier> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Write::Action {
                write: Box::new(write),
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Conflict("the database writer has stopped".into())
}

/// The next group: the first write to come, and those already waiting behind it.
pub(crate) async fn next_batch(queue: &mut mpsc::Receiver<Write>) -> Option<Vec<Write>> {
    let first = queue.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Tells each write its outcome, or every write the group's failure (nothing of it is saved).
pub(crate) fn answer(batch: Vec<Write>, outcomes: Result<Vec<Outcome>>) {
    match outcomes {
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

/// One queued write on `$conn` (a transaction or a savepoint), adding its counters to
/// `$counters`. Evaluates to whether it is to be kept, and its outcome.
macro_rules! apply_write {
    ($conn:expr, $write:expr, $counters:expr) => {
        async {
            use $crate::group_commit::{Outcome, Write};
            match $write {
                Write::Submission {
                    new,
                    template,
                    idempotency_key,
                    ..
                } => {
                    let key = idempotency_key.as_deref();
                    let o =
                        $crate::sql::insert_dossier!($conn, new, template, key, $counters).await;
                    (
                        matches!(o, Ok($crate::sql::Inserted::Dossier(_))),
                        Outcome::Submission(o),
                    )
                }
                Write::Action { write, .. } => {
                    let o = $crate::sql::apply_action!($conn, write, $counters).await;
                    (o.is_ok(), Outcome::Action(o))
                }
            }
        }
    };
}
pub(crate) use apply_write;

/// Defines `commit_in_groups(writer, queue)` for a pool type: the writer task. It first tries
/// the whole group in one plain transaction; when a write fails there, it rolls that back and
/// writes the group again with each write in its own savepoint, so the failing write rolls
/// back alone. The counters of the kept writes are written once.
macro_rules! writer_task {
    ($pool:ty) => {
        async fn commit_in_groups(
            writer: $pool,
            mut queue: tokio::sync::mpsc::Receiver<$crate::group_commit::Write>,
        ) {
            while let Some(batch) = $crate::group_commit::next_batch(&mut queue).await {
                let outcomes = match write_batch_whole(&writer, &batch).await {
                    Ok(Some(outcomes)) => Ok(outcomes),
                    // One write failed: nothing was kept; again, each in its own savepoint.
                    Ok(None) => write_batch(&writer, &batch).await,
                    // Not retried: a failed commit may have been a commit.
                    Err(e) => Err(e),
                };
                $crate::group_commit::answer(batch, outcomes);
            }
        }

        /// The batch in one transaction without savepoints (two round trips fewer per write),
        /// if every write succeeds; None, with everything rolled back, if one does not.
        async fn write_batch_whole(
            writer: &$pool,
            batch: &[$crate::group_commit::Write],
        ) -> $crate::Result<Option<Vec<$crate::group_commit::Outcome>>> {
            let mut tx = writer.begin().await?;
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut counters = std::collections::BTreeMap::new();
            for write in batch {
                let (keep, outcome) =
                    $crate::group_commit::apply_write!(tx, write, &mut counters).await;
                if !keep {
                    tx.rollback().await?;
                    return Ok(None);
                }
                outcomes.push(outcome);
            }
            $crate::sql::write_counters!(&mut *tx, &counters).await?;
            tx.commit().await?;
            Ok(Some(outcomes))
        }

        async fn write_batch(
            writer: &$pool,
            batch: &[$crate::group_commit::Write],
        ) -> $crate::Result<Vec<$crate::group_commit::Outcome>> {
            let mut tx = writer.begin().await?;
            let mut outcomes = Vec::with_capacity(batch.len());
            // The counters of every write kept, written once for the batch.
            let mut counters = std::collections::BTreeMap::new();
            for write in batch {
                let mut own = std::collections::BTreeMap::new();
                // A nested transaction on the same connection is a SAVEPOINT.
                let mut savepoint = sqlx::Acquire::begin(&mut *tx).await?;
                let (keep, outcome) =
                    $crate::group_commit::apply_write!(savepoint, write, &mut own).await;
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
            $crate::sql::write_counters!(&mut *tx, &counters).await?;
            tx.commit().await?;
            Ok(outcomes)
        }
    };
}
pub(crate) use writer_task;
