//! The e-form's usage counters: the storage side. One body of SQL for both backends.

use async_trait::async_trait;

use crate::Result;

/// One counter of a procedure's e-form: what is counted (`opened`, `submitted`,
/// `field_error`, `minutes`), its detail (the field, the bucket; empty otherwise), how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormCount {
    pub procedure: String,
    pub metric: String,
    pub detail: String,
    pub value: i64,
}

#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Adds to the counters, in one transaction.
    async fn add_form_counts(&self, counts: &[FormCount]) -> Result<()>;
    /// Every counter (one row per procedure, metric and detail: no scan of dossiers).
    async fn form_counts(&self) -> Result<Vec<FormCount>>;
}

macro_rules! impl_analytics {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::AnalyticsStore for $store {
            async fn add_form_counts(&self, counts: &[$crate::FormCount]) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                for c in counts {
                    sqlx::query(
                        "INSERT INTO form_counters (procedure_code, metric, detail, value)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (procedure_code, metric, detail)
                         DO UPDATE SET value = form_counters.value + excluded.value",
                    )
                    .bind(&c.procedure)
                    .bind(&c.metric)
                    .bind(&c.detail)
                    .bind(c.value)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn form_counts(&self) -> $crate::Result<Vec<$crate::FormCount>> {
                let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
                    "SELECT procedure_code, metric, detail, value FROM form_counters
                     ORDER BY procedure_code, metric, detail",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(procedure, metric, detail, value)| $crate::FormCount {
                        procedure,
                        metric,
                        detail,
                        value,
                    })
                    .collect())
            }
        }
    };
}
pub(crate) use impl_analytics;
