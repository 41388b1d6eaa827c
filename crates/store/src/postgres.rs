use std::time::Duration;

use domain::dossier::{CodeTemplate, NewDossier};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::group_commit::Writes;
use crate::sql::Inserted;
use crate::{Backend, Result};

/// PostgreSQL: reads and the other writes side by side on one pool; submissions and actions
/// through the group commit (see [`crate::group_commit`]), one connection at a time.
pub struct PgStore {
    pool: PgPool,
    /// The same pool.
    writer: PgPool,
    writes: Writes,
}

impl PgStore {
    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let (writes, queue) = Writes::channel();
        tokio::spawn(commit_in_groups(pool.clone(), queue));
        Ok(Self {
            writer: pool.clone(),
            pool,
            writes,
        })
    }

    /// Feed numberings take turns: a transaction-scoped advisory lock.
    async fn lock_feed(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(7415)")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn insert_dossier(
        &self,
        new: &NewDossier,
        template: &CodeTemplate,
        idempotency_key: Option<&str>,
    ) -> Result<Inserted> {
        self.writes.submit(new, template, idempotency_key).await
    }

    async fn write_action(
        &self,
        write: crate::sql::ActionWrite,
    ) -> Result<domain::dossier::Dossier> {
        self.writes.act(write).await
    }

    /// JSON functions for the audit's one-row read of the event log.
    const JSON_AGG: &str = "json_agg";
    /// How a notification claim leaves rows another node is claiming (SQLite has one writer).
    const SKIP_LOCKED: &str = "FOR UPDATE SKIP LOCKED";
    const JSON_ARRAY: &str = "json_build_array";
    /// How the counter reads name the agencies of a subtree: as an array computed first, so
    /// the planner walks the (agency, day) keys. With `IN (subquery)` it guessed the subtree's
    /// size and scanned the whole roll-up for a year (86 ms instead of 12 at 1 M dossiers).
    const IN_SUBTREE: &str = "= ANY(ARRAY(SELECT code FROM subtree))";
    const DATABASE_BYTES: &str = "SELECT pg_database_size(current_database())";
    /// How a statement names the texts of a JSON array bound as one parameter.
    const IN_JSON_TEXTS: &str = "IN (SELECT jsonb_array_elements_text(CAST($1 AS jsonb)))";
}

crate::group_commit::writer_task!(PgPool);

crate::sql::impl_store!(PgStore, Backend::Postgres);
crate::identity::impl_identity!(PgStore);
crate::privilege::impl_privilege!(PgStore);
crate::feedback::impl_feedback!(PgStore);
crate::analytics::impl_analytics!(PgStore);
crate::payments::impl_payments!(PgStore);
crate::notify::impl_notify!(PgStore);
crate::exchange::impl_exchange!(PgStore);
