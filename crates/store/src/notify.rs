//! The notification outbox and the claims of scheduled jobs. Notifications are written in the
//! transaction of the event they tell of ([`Outgoing`], carried by the action's write) and
//! delivered afterwards by whichever node claims them, so none is lost and none is sent for
//! an event that was rolled back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// A message to send to a person, by every channel they gave an address for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub recipient: String,
    pub template: domain::notify::Template,
    pub facts: domain::notify::Facts,
    pub dossier_code: Option<String>,
    /// Scheduled notices carry a key: a second one with the same key is not written.
    pub dedupe_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting to be sent, or to be tried again.
    Pending,
    Sent,
    /// Every attempt failed; an administrator may send it again.
    Dead,
    /// No provider is configured for the channel.
    Skipped,
}

impl DeliveryStatus {
    pub fn code(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Dead => "dead",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Dead, Self::Skipped]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// A notification as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub recipient: String,
    /// `email` or `sms`.
    pub channel: String,
    pub address: String,
    pub lang: domain::notify::Lang,
    pub template: domain::notify::Template,
    pub facts: domain::notify::Facts,
    pub dossier_code: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// How a person is reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lang: domain::notify::Lang,
}

#[async_trait]
pub trait NotifyStore: Send + Sync {
    async fn contact(&self, username: &str) -> Result<Contact>;
    async fn set_contact(&self, username: &str, contact: &Contact) -> Result<()>;
    /// Writes notices outside any dossier action (the scheduled jobs'); those whose key was
    /// written before are left out. Returns how many rows were written.
    async fn enqueue(&self, notices: &[Outgoing], at: DateTime<Utc>) -> Result<u64>;
    /// Takes up to `limit` notifications due at `now` and holds them until `lease_until`:
    /// another node takes them only if this one has not reported back by then.
    async fn claim_notifications(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Notification>>;
    async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
    /// Records a failed attempt: tried again at `retry_at`, or dead if None.
    async fn mark_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()>;
    async fn mark_skipped(&self, id: i64, why: &str) -> Result<()>;
    /// A dossier's notifications, oldest first.
    async fn dossier_notifications(&self, code: &str) -> Result<Vec<Notification>>;
    /// The dead letters, newest first.
    async fn dead_notifications(&self, limit: i64) -> Result<Vec<Notification>>;
    /// Sends a dead letter again from now; false if it is not dead.
    async fn requeue_notification(&self, id: i64, at: DateTime<Utc>) -> Result<bool>;
    /// Removes delivered and skipped notifications written before `before`, a batch at a
    /// time; dead letters stay for an administrator. Returns how many were removed.
    async fn prune_notifications(&self, before: DateTime<Utc>) -> Result<u64>;
    /// Gives a claimed period back, for a run that failed: the next tick tries it again.
    async fn release_job(&self, job: &str, period: &str) -> Result<()>;
    /// Claims a scheduled job's period for `node`; false if another node has it.
    async fn claim_job(
        &self,
        job: &str,
        period: &str,
        node: &str,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Everyone in a role, by username.
    async fn users_with_role(&self, role: domain::user::Role) -> Result<Vec<domain::user::User>>;
    /// The usernames of an agency's people in the given roles.
    async fn agency_people(
        &self,
        agency: &domain::AgencyCode,
        roles: &[domain::user::Role],
    ) -> Result<Vec<String>>;
    /// Dossiers being processed (received, in progress) due after `from` and by `until`, the
    /// earliest first; a page starts after the (due time, code) `after` when given.
    async fn held_due_between(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        after: Option<(DateTime<Utc>, String)>,
        limit: i64,
    ) -> Result<Vec<domain::dossier::Dossier>>;
}

pub(crate) const NOTIFICATION_COLUMNS: &str = "id, recipient, channel, address, lang, template, \
     facts, dossier_code, status, attempts, next_attempt_at, last_error, created_at, sent_at";

type NotificationRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i32,
    DateTime<Utc>,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

pub(crate) fn decode_notification(r: NotificationRow) -> Result<Notification> {
    let corrupt = |what: &str| crate::StoreError::Corrupt(format!("notification {}: {what}", r.0));
    Ok(Notification {
        lang: domain::notify::Lang::from_code(&r.4).ok_or_else(|| corrupt("language"))?,
        template: domain::notify::Template::from_code(&r.5).ok_or_else(|| corrupt("template"))?,
        facts: crate::sql::from_json("notification facts", &r.6)?,
        status: DeliveryStatus::from_code(&r.8).ok_or_else(|| corrupt("status"))?,
        id: r.0,
        recipient: r.1,
        channel: r.2,
        address: r.3,
        dossier_code: r.7,
        attempts: r.9,
        next_attempt_at: r.10,
        last_error: r.11,
        created_at: r.12,
        sent_at: r.13,
    })
}

/// Writes one [`Outgoing`] as a row per channel its recipient has an address for, in one
/// statement on `$conn` (an open transaction, or the pool); evaluates to the rows written.
macro_rules! insert_outgoing {
    ($conn:expr, $notice:expr, $at:expr) => {{
        let notice: &$crate::Outgoing = $notice;
        let written = sqlx::query(
            "INSERT INTO notifications (recipient, channel, address, lang, template, facts,
               dossier_code, dedupe_key, status, attempts, next_attempt_at, created_at)
             SELECT username, 'email', email, lang, $2, $3, $4, $5, 'pending', 0, $6, $6
               FROM users WHERE username = $1 AND email IS NOT NULL
             UNION ALL
             SELECT username, 'sms', phone, lang, $2, $3, $4, $5, 'pending', 0, $6, $6
               FROM users WHERE username = $1 AND phone IS NOT NULL
             ON CONFLICT (dedupe_key, channel, recipient) DO NOTHING",
        )
        .bind(&notice.recipient)
        .bind(notice.template.code())
        .bind($crate::sql::json_text(&notice.facts))
        .bind(&notice.dossier_code)
        .bind(&notice.dedupe_key)
        .bind($at)
        .execute(&mut *$conn)
        .await?;
        written.rows_affected()
    }};
}
pub(crate) use insert_outgoing;

macro_rules! impl_notify {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::NotifyStore for $store {
            async fn contact(&self, username: &str) -> $crate::Result<$crate::Contact> {
                let row: Option<(Option<String>, Option<String>, String)> =
                    sqlx::query_as("SELECT email, phone, lang FROM users WHERE username = $1")
                        .bind(username)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row
                    .map(|(email, phone, lang)| $crate::Contact {
                        email,
                        phone,
                        lang: domain::notify::Lang::from_code(&lang).unwrap_or_default(),
                    })
                    .unwrap_or_default())
            }

            async fn set_contact(
                &self,
                username: &str,
                contact: &$crate::Contact,
            ) -> $crate::Result<()> {
                sqlx::query("UPDATE users SET email = $2, phone = $3, lang = $4 WHERE username = $1")
                    .bind(username)
                    .bind(&contact.email)
                    .bind(&contact.phone)
                    .bind(contact.lang.code())
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn enqueue(
                &self,
                notices: &[$crate::Outgoing],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<u64> {
                let mut tx = self.writer.begin().await?;
                let mut written = 0;
                for notice in notices {
                    written += $crate::notify::insert_outgoing!(tx, notice, at);
                }
                tx.commit().await?;
                Ok(written)
            }

            async fn claim_notifications(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::Notification>> {
                let rows = sqlx::query_as(&format!(
                    "UPDATE notifications SET next_attempt_at = $2, attempts = attempts + 1
                     WHERE id IN (
                       SELECT id FROM notifications
                       WHERE status = 'pending' AND next_attempt_at <= $1
                       ORDER BY next_attempt_at, id LIMIT $3 {skip_locked})
                     RETURNING {}",
                    $crate::notify::NOTIFICATION_COLUMNS,
                    skip_locked = Self::SKIP_LOCKED,
                ))
                .bind(now)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(&self.writer)
                .await?;
                let mut claimed = rows
                    .into_iter()
                    .map($crate::notify::decode_notification)
                    .collect::<$crate::Result<Vec<_>>>()?;
                claimed.sort_by_key(|n| n.id);
                Ok(claimed)
            }

            async fn mark_sent(
                &self,
                id: i64,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE notifications SET status = 'sent', sent_at = $2, last_error = NULL
                     WHERE id = $1",
                )
                .bind(id)
                .bind(at)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn mark_failed(
                &self,
                id: i64,
                error: &str,
                retry_at: Option<chrono::DateTime<chrono::Utc>>,
            ) -> $crate::Result<()> {
                let status = if retry_at.is_some() { "pending" } else { "dead" };
                sqlx::query(
                    "UPDATE notifications
                     SET status = $2, last_error = $3, next_attempt_at = COALESCE($4, next_attempt_at)
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(status)
                .bind(error)
                .bind(retry_at)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn mark_skipped(&self, id: i64, why: &str) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE notifications SET status = 'skipped', last_error = $2
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(why)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn dossier_notifications(
                &self,
                code: &str,
            ) -> $crate::Result<Vec<$crate::Notification>> {
                let rows = sqlx::query_as(&format!(
                    "SELECT {} FROM notifications WHERE dossier_code = $1 ORDER BY id",
                    $crate::notify::NOTIFICATION_COLUMNS
                ))
                .bind(code)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::notify::decode_notification)
                    .collect()
            }

            async fn dead_notifications(
                &self,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::Notification>> {
                let rows = sqlx::query_as(&format!(
                    "SELECT {} FROM notifications WHERE status = 'dead'
                     ORDER BY created_at DESC, id DESC LIMIT $1",
                    $crate::notify::NOTIFICATION_COLUMNS
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::notify::decode_notification)
                    .collect()
            }

            async fn requeue_notification(
                &self,
                id: i64,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = $2
                     WHERE id = $1 AND status = 'dead'",
                )
                .bind(id)
                .bind(at)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn prune_notifications(
                &self,
                before: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<u64> {
                let mut removed = 0;
                loop {
                    // In batches, so a large backlog never holds the writer for long.
                    let done = sqlx::query(
                        "DELETE FROM notifications WHERE id IN (
                           SELECT id FROM notifications
                           WHERE status IN ('sent', 'skipped') AND created_at < $1 LIMIT 5000)",
                    )
                    .bind(before)
                    .execute(&self.writer)
                    .await?;
                    removed += done.rows_affected();
                    if done.rows_affected() < 5000 {
                        return Ok(removed);
                    }
                }
            }

            async fn claim_job(
                &self,
                job: &str,
                period: &str,
                node: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO job_runs (job, period, node, claimed_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (job, period) DO NOTHING",
                )
                .bind(job)
                .bind(period)
                .bind(node)
                .bind(at)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_job(&self, job: &str, period: &str) -> $crate::Result<()> {
                sqlx::query("DELETE FROM job_runs WHERE job = $1 AND period = $2")
                    .bind(job)
                    .bind(period)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn users_with_role(
                &self,
                role: domain::user::Role,
            ) -> $crate::Result<Vec<domain::user::User>> {
                let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT username, full_name, role, agency_code FROM users WHERE role = $1
                     ORDER BY username",
                )
                .bind(role.code())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::sql::decode_user).collect()
            }

            async fn agency_people(
                &self,
                agency: &domain::AgencyCode,
                roles: &[domain::user::Role],
            ) -> $crate::Result<Vec<String>> {
                if roles.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT username FROM users WHERE agency_code = $1 AND role IN ({})
                     ORDER BY username",
                    $crate::sql::placeholders(2, roles.len())
                );
                let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(agency.as_str());
                for role in roles {
                    query = query.bind(role.code());
                }
                Ok(query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(u,)| u)
                    .collect())
            }

            async fn held_due_between(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                until: chrono::DateTime<chrono::Utc>,
                after: Option<(chrono::DateTime<chrono::Utc>, String)>,
                limit: i64,
            ) -> $crate::Result<Vec<domain::dossier::Dossier>> {
                let (after_due, after_code) = after.unwrap_or((from, String::new()));
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM dossiers
                     WHERE status IN ('received', 'in_progress') AND due_at > $1 AND due_at <= $2
                       AND (due_at > $3 OR (due_at = $3 AND code > $4))
                     ORDER BY due_at, code LIMIT $5",
                    $crate::sql::DOSSIER_COLUMNS
                ))
                .bind(from)
                .bind(until)
                .bind(after_due)
                .bind(after_code)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut dossiers = Vec::with_capacity(rows.len());
                for row in rows {
                    dossiers.push($crate::sql::dossier_from_row!(row));
                }
                Ok(dossiers)
            }
        }
    };
}
pub(crate) use impl_notify;
