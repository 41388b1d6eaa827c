use std::time::Duration;

use domain::dossier::{CodeTemplate, NewDossier};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::sql::Inserted;
use crate::{Backend, Result};

pub struct PgStore {
    pool: PgPool,
    /// The same pool: PostgreSQL runs writes side by side.
    writer: PgPool,
}

impl PgStore {
    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self {
            writer: pool.clone(),
            pool,
        })
    }

    /// Feed numberings take turns: a transaction-scoped advisory lock.
    async fn lock_feed(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(7415)")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// One submission, one transaction.
    async fn insert_dossier(
        &self,
        new: &NewDossier,
        template: &CodeTemplate,
        idempotency_key: Option<&str>,
    ) -> Result<Inserted> {
        let mut tx = self.writer.begin().await?;
        let mut counters = std::collections::BTreeMap::new();
        let outcome =
            crate::sql::insert_dossier!(tx, new, template, idempotency_key, &mut counters).await?;
        match outcome {
            Inserted::Dossier(_) => {
                crate::sql::write_counters!(&mut *tx, &counters).await?;
                tx.commit().await?
            }
            Inserted::DuplicateKey => tx.rollback().await?,
        }
        Ok(outcome)
    }

    /// JSON functions for the audit's one-row read of the event log.
    const JSON_AGG: &str = "json_agg";
    /// How a notification claim leaves rows another node is claiming (SQLite has one writer).
    const SKIP_LOCKED: &str = "FOR UPDATE SKIP LOCKED";
    const JSON_ARRAY: &str = "json_build_array";

    /// One action, one transaction.
    async fn write_action(
        &self,
        write: crate::sql::ActionWrite,
    ) -> Result<domain::dossier::Dossier> {
        let mut tx = self.writer.begin().await?;
        let mut counters = std::collections::BTreeMap::new();
        let stored = crate::sql::apply_action!(tx, &write, &mut counters).await?;
        crate::sql::write_counters!(&mut *tx, &counters).await?;
        tx.commit().await?;
        Ok(stored)
    }
}

crate::sql::impl_store!(PgStore, Backend::Postgres);
crate::identity::impl_identity!(PgStore);
crate::privilege::impl_privilege!(PgStore);
crate::payments::impl_payments!(PgStore);
crate::notify::impl_notify!(PgStore);
