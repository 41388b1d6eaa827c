//! Feedback and petitions: the storage side. One body of SQL for both backends.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::agency::AgencyCode;
use domain::feedback::{Answer, Feedback};
use domain::procedure::ProcedureCode;

use crate::{Result, StoreError};

/// A piece of feedback as it is sent.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    pub author: String,
    pub procedure: Option<ProcedureCode>,
    pub agency: AgencyCode,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

#[async_trait]
pub trait FeedbackStore: Send + Sync {
    async fn add_feedback(&self, new: &NewFeedback) -> Result<i64>;
    async fn feedback(&self, id: i64) -> Result<Option<Feedback>>;
    /// Feedback to the agency `root` and those below it: the unanswered first, by deadline,
    /// then the answered, newest deadline first.
    async fn agency_feedback(&self, root: &AgencyCode, limit: i64) -> Result<Vec<Feedback>>;
    /// A person's own feedback, newest first.
    async fn own_feedback(&self, author: &str, limit: i64) -> Result<Vec<Feedback>>;
    /// Published answers, newest first: of one procedure, or all.
    async fn published_feedback(
        &self,
        procedure: Option<&ProcedureCode>,
        limit: i64,
    ) -> Result<Vec<Feedback>>;
    /// Records the answer unless one was given already (false then).
    async fn answer_feedback(&self, id: i64, answer: &Answer, publish: bool) -> Result<bool>;
    /// Publishes or withdraws an answered piece of feedback (false when it has no answer).
    async fn publish_feedback(&self, id: i64, publish: bool) -> Result<bool>;
}

pub(crate) const FEEDBACK_COLUMNS: &str = "id, author, procedure_code, agency_code, subject, body, \
     created_at, due_at, answer, answered_by, answered_at, published";

pub(crate) type FeedbackRow = (
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    bool,
);

pub(crate) fn decode_feedback(r: FeedbackRow) -> Result<Feedback> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("feedback {}: {what}", r.0));
    Ok(Feedback {
        id: r.0,
        author: r.1,
        procedure: r
            .2
            .as_deref()
            .map(ProcedureCode::parse)
            .transpose()
            .map_err(|_| corrupt("procedure code"))?,
        agency: AgencyCode::parse(&r.3).map_err(|_| corrupt("agency code"))?,
        subject: r.4,
        body: r.5,
        created_at: r.6,
        due_at: r.7,
        answer: match (r.8, r.9, r.10) {
            (Some(text), Some(by), Some(at)) => Some(Answer { text, by, at }),
            _ => None,
        },
        published: r.11,
    })
}

macro_rules! impl_feedback {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::FeedbackStore for $store {
            async fn add_feedback(&self, new: &$crate::NewFeedback) -> $crate::Result<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO feedback (author, procedure_code, agency_code, subject, body,
                       created_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&new.author)
                .bind(new.procedure.as_ref().map(|p| p.as_str()))
                .bind(new.agency.as_str())
                .bind(&new.subject)
                .bind(&new.body)
                .bind(new.created_at)
                .bind(new.due_at)
                .fetch_one(&self.writer)
                .await?;
                Ok(id)
            }

            async fn feedback(&self, id: i64) -> $crate::Result<Option<domain::feedback::Feedback>> {
                let row: Option<$crate::feedback::FeedbackRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM feedback WHERE id = $1",
                    $crate::feedback::FEEDBACK_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::feedback::decode_feedback).transpose()
            }

            async fn agency_feedback(
                &self,
                root: &domain::agency::AgencyCode,
                limit: i64,
            ) -> $crate::Result<Vec<domain::feedback::Feedback>> {
                let rows: Vec<$crate::feedback::FeedbackRow> = sqlx::query_as(&format!(
                    "{subtree} SELECT {columns} FROM feedback WHERE agency_code {in_subtree}
                     ORDER BY CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END,
                       CASE WHEN answered_at IS NULL THEN due_at END,
                       due_at DESC
                     LIMIT $2",
                    subtree = $crate::sql::SUBTREE,
                    columns = $crate::feedback::FEEDBACK_COLUMNS,
                    in_subtree = Self::IN_SUBTREE,
                ))
                .bind(root.as_str())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::feedback::decode_feedback).collect()
            }

            async fn own_feedback(
                &self,
                author: &str,
                limit: i64,
            ) -> $crate::Result<Vec<domain::feedback::Feedback>> {
                let rows: Vec<$crate::feedback::FeedbackRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM feedback WHERE author = $1 ORDER BY created_at DESC LIMIT $2",
                    $crate::feedback::FEEDBACK_COLUMNS
                ))
                .bind(author)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::feedback::decode_feedback).collect()
            }

            async fn published_feedback(
                &self,
                procedure: Option<&domain::procedure::ProcedureCode>,
                limit: i64,
            ) -> $crate::Result<Vec<domain::feedback::Feedback>> {
                let filter = if procedure.is_some() {
                    "AND procedure_code = $2"
                } else {
                    ""
                };
                let sql = format!(
                    "SELECT {} FROM feedback WHERE published {filter}
                     ORDER BY answered_at DESC LIMIT $1",
                    $crate::feedback::FEEDBACK_COLUMNS
                );
                let mut query = sqlx::query_as::<_, $crate::feedback::FeedbackRow>(&sql).bind(limit);
                if let Some(p) = procedure {
                    query = query.bind(p.as_str());
                }
                let rows = query.fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::feedback::decode_feedback).collect()
            }

            async fn answer_feedback(
                &self,
                id: i64,
                answer: &domain::feedback::Answer,
                publish: bool,
            ) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE feedback SET answer = $2, answered_by = $3, answered_at = $4,
                       published = $5 WHERE id = $1 AND answered_at IS NULL",
                )
                .bind(id)
                .bind(&answer.text)
                .bind(&answer.by)
                .bind(answer.at)
                .bind(publish)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn publish_feedback(&self, id: i64, publish: bool) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE feedback SET published = $2 WHERE id = $1 AND answered_at IS NOT NULL",
                )
                .bind(id)
                .bind(publish)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
pub(crate) use impl_feedback;
