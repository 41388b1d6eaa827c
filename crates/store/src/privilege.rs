//! Elevations and the privileged-action log: the storage side of privileged access management.
//! One body of SQL for both backends, as in `sql.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::privilege::{Elevation, PrivilegedEntry};

use crate::Result;

/// What an approval did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Recorded; more approvals are needed.
    Recorded,
    /// The last approval needed: the elevation runs from now.
    Granted,
    /// Someone else changed the elevation first; nothing was written.
    Raced,
}

#[async_trait]
pub trait PrivilegeStore: Send + Sync {
    /// Stores a request and logs it, in one transaction; returns its id.
    async fn request_elevation(
        &self,
        username: &str,
        reason: &str,
        minutes: i64,
        break_glass: bool,
        at: DateTime<Utc>,
    ) -> Result<i64>;
    async fn elevation(&self, id: i64) -> Result<Option<Elevation>>;
    /// The newest elevations (of one user, or everyone's), newest first.
    async fn elevations(&self, username: Option<&str>, limit: i64) -> Result<Vec<Elevation>>;
    /// Adds an approval to `seen` (the elevation as the approver read it), granting it when it
    /// is the last one needed, and logs it, in one transaction.
    async fn approve_elevation(
        &self,
        seen: &Elevation,
        approver: &str,
        at: DateTime<Utc>,
    ) -> Result<Approval>;
    /// Refuses or ends an elevation and logs it; false if it was already closed.
    async fn close_elevation(
        &self,
        id: i64,
        by: &str,
        action: &str,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Appends a privileged action to the chain.
    async fn log_privileged(
        &self,
        actor: &str,
        action: &str,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The whole chain, oldest first.
    async fn privileged_log(&self) -> Result<Vec<PrivilegedEntry>>;
}

type ElevationRow = (
    i64,
    String,
    String,
    i32,
    bool,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
);

pub(crate) const ELEVATION_COLUMNS: &str = "id, username, reason, minutes, break_glass, \
     requested_at, approver_1, approver_2, granted_at, closed_at, closed_by";

pub(crate) fn decode_elevation(r: ElevationRow) -> Elevation {
    Elevation {
        id: r.0,
        username: r.1,
        reason: r.2,
        minutes: i64::from(r.3),
        break_glass: r.4,
        requested_at: r.5,
        approvers: [r.6, r.7].into_iter().flatten().collect(),
        granted_at: r.8,
        closed_at: r.9,
        closed_by: r.10,
    }
}

/// Appends one entry to the chain inside a transaction: claiming the next number at the head
/// locks it until the transaction ends, so entries follow one another without gaps.
macro_rules! append_privileged {
    ($tx:expr, $actor:expr, $action:expr, $detail:expr, $at:expr) => {{
        let (seq, prev): (i64, String) = sqlx::query_as(
            "UPDATE privileged_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
        )
        .fetch_one(&mut *$tx)
        .await?;
        let entry = domain::privilege::PrivilegedEntry {
            seq,
            at: $at,
            actor: $actor.to_owned(),
            action: $action.to_owned(),
            detail: $detail.to_owned(),
            prev_hash: String::new(),
            hash: String::new(),
        }
        .sealed(&prev);
        sqlx::query(
            "INSERT INTO privileged_log (seq, at, actor, action, detail, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.detail)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("UPDATE privileged_head SET hash = $1 WHERE id = 1")
            .bind(&entry.hash)
            .execute(&mut *$tx)
            .await?;
    }};
}

macro_rules! impl_privilege {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::PrivilegeStore for $store {
            async fn request_elevation(
                &self,
                username: &str,
                reason: &str,
                minutes: i64,
                break_glass: bool,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<i64> {
                let mut tx = self.writer.begin().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO elevations (username, reason, minutes, break_glass, requested_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(username)
                .bind(reason)
                .bind(minutes as i32)
                .bind(break_glass)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let detail = serde_json::json!({
                    "elevation": id, "reason": reason, "minutes": minutes,
                    "break_glass": break_glass,
                })
                .to_string();
                $crate::privilege::append_privileged!(
                    tx,
                    username,
                    "elevation_requested",
                    detail,
                    at
                );
                tx.commit().await?;
                Ok(id)
            }

            async fn elevation(
                &self,
                id: i64,
            ) -> $crate::Result<Option<domain::privilege::Elevation>> {
                let row = sqlx::query_as(&format!(
                    "SELECT {} FROM elevations WHERE id = $1",
                    $crate::privilege::ELEVATION_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map($crate::privilege::decode_elevation))
            }

            async fn elevations(
                &self,
                username: Option<&str>,
                limit: i64,
            ) -> $crate::Result<Vec<domain::privilege::Elevation>> {
                let rows = sqlx::query_as(&format!(
                    "SELECT {} FROM elevations WHERE ($1 IS NULL OR username = $1)
                     ORDER BY requested_at DESC, id DESC LIMIT $2",
                    $crate::privilege::ELEVATION_COLUMNS
                ))
                .bind(username)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map($crate::privilege::decode_elevation)
                    .collect())
            }

            async fn approve_elevation(
                &self,
                seen: &domain::privilege::Elevation,
                approver: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<$crate::Approval> {
                let granted = seen.approvers.len() + 1 >= seen.approvals_needed();
                let mut tx = self.writer.begin().await?;
                // Only if nobody approved, refused or ended it since it was read.
                let done = sqlx::query(
                    "UPDATE elevations SET
                       approver_1 = COALESCE(approver_1, $2),
                       approver_2 = CASE WHEN approver_1 IS NULL THEN NULL ELSE $2 END,
                       granted_at = $3
                     WHERE id = $1 AND closed_at IS NULL AND granted_at IS NULL
                       AND approver_1 IS NOT DISTINCT FROM $4 AND approver_2 IS NULL",
                )
                .bind(seen.id)
                .bind(approver)
                .bind(granted.then_some(at))
                .bind(seen.approvers.first())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok($crate::Approval::Raced);
                }
                let action = match (granted, seen.break_glass) {
                    (true, true) => "break_glass_granted",
                    (true, false) => "elevation_granted",
                    (false, _) => "elevation_approved",
                };
                let detail = serde_json::json!({
                    "elevation": seen.id, "holder": seen.username,
                    "minutes": seen.minutes, "break_glass": seen.break_glass,
                })
                .to_string();
                $crate::privilege::append_privileged!(tx, approver, action, detail, at);
                tx.commit().await?;
                Ok(if granted {
                    $crate::Approval::Granted
                } else {
                    $crate::Approval::Recorded
                })
            }

            async fn close_elevation(
                &self,
                id: i64,
                by: &str,
                action: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let mut tx = self.writer.begin().await?;
                let done = sqlx::query(
                    "UPDATE elevations SET closed_at = $2, closed_by = $3
                     WHERE id = $1 AND closed_at IS NULL",
                )
                .bind(id)
                .bind(at)
                .bind(by)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                let detail = serde_json::json!({ "elevation": id }).to_string();
                $crate::privilege::append_privileged!(tx, by, action, detail, at);
                tx.commit().await?;
                Ok(true)
            }

            async fn log_privileged(
                &self,
                actor: &str,
                action: &str,
                detail: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                $crate::privilege::append_privileged!(tx, actor, action, detail, at);
                tx.commit().await?;
                Ok(())
            }

            async fn privileged_log(
                &self,
            ) -> $crate::Result<Vec<domain::privilege::PrivilegedEntry>> {
                let rows: Vec<(
                    i64,
                    chrono::DateTime<chrono::Utc>,
                    String,
                    String,
                    String,
                    String,
                    String,
                )> = sqlx::query_as(
                    "SELECT seq, at, actor, action, detail, prev_hash, hash
                     FROM privileged_log ORDER BY seq",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(seq, at, actor, action, detail, prev_hash, hash)| {
                        domain::privilege::PrivilegedEntry {
                            seq,
                            at,
                            actor,
                            action,
                            detail,
                            prev_hash,
                            hash,
                        }
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use append_privileged;
pub(crate) use impl_privilege;
