//! The exchange's storage: the registry of members, services and grants; the hash-chained
//! message log with its nonces and figures; federation (the national side's records per
//! province, the provincial side's push cursor); and result signatures. One body of SQL for
//! both backends, as in `sql.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::exchange::LogEntry;
use domain::sync::SyncRecord;
use serde::Serialize;

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Agency code '/' system name.
    pub member: String,
    pub name: String,
    pub public_key: String,
    /// Where its exchange answers; empty for a member that only calls.
    pub url: String,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceOffer {
    pub provider: String,
    pub service: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub service: String,
    pub client: String,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
}

/// Everything a provider checks a call against, read in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Registry {
    pub members: Vec<Member>,
    pub services: Vec<ServiceOffer>,
    pub grants: Vec<Grant>,
}

/// Calls, errors and latency of one service for one client on one day (Vietnam time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceFigures {
    pub day: String,
    pub service: String,
    pub client: String,
    pub calls: i64,
    pub errors: i64,
    pub total_ms: i64,
    pub max_ms: i64,
}

/// What a push from a province came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncReceipt {
    /// Stored up to this cursor; `fresh` records were new (the rest had come before).
    Stored { cursor: i64, fresh: usize },
    /// The push starts after records this side never got: send from `expected`.
    Gap { expected: i64 },
}

/// A province's progress as the national side sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FederationCursor {
    pub member: String,
    pub cursor: i64,
    pub records: i64,
    pub updated_at: DateTime<Utc>,
}

/// The provincial side's push: the last record the national instance took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushState {
    pub cursor: i64,
    pub pushed: i64,
    pub last_error: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultSignature {
    pub id: String,
    pub dossier: String,
    pub agency_code: String,
    pub document: String,
    pub file_name: String,
    pub sha256: String,
    pub signed_at: DateTime<Utc>,
    pub public_key: String,
    pub signature: String,
}

#[async_trait]
pub trait ExchangeStore: Send + Sync {
    /// Adds a member or replaces its name, key and address.
    async fn put_member(&self, member: &Member) -> Result<()>;
    /// Removes a member and its grants; false if there was none.
    async fn remove_member(&self, member: &str) -> Result<bool>;
    async fn put_service(&self, offer: &ServiceOffer) -> Result<()>;
    /// A grant to a client that is no member is a conflict.
    async fn put_grant(&self, grant: &Grant) -> Result<()>;
    async fn remove_grant(&self, service: &str, client: &str) -> Result<bool>;
    async fn registry(&self) -> Result<Registry>;

    /// Appends calls to the message log in one transaction and adds them to the figures.
    /// The nonces of the entries at `claim` are claimed first; one that was spent (a replay
    /// that reached another node) makes its entry `replayed`, status 409. Returns the entries
    /// as sealed, in order.
    async fn append_exchange_log(
        &self,
        entries: Vec<LogEntry>,
        claim: &[usize],
    ) -> Result<Vec<LogEntry>>;
    /// Claims `(client, nonce, timestamp)`s in one transaction; returns the ones that were
    /// free. A nonce spent before, on any node, is not returned.
    async fn claim_nonces(
        &self,
        nonces: &[(String, String, DateTime<Utc>)],
    ) -> Result<Vec<(String, String)>>;
    /// Entries after `after`, oldest first.
    async fn exchange_log(&self, after: i64, limit: i64) -> Result<Vec<LogEntry>>;
    /// The newest entries, newest first.
    async fn recent_exchange_log(&self, limit: i64) -> Result<Vec<LogEntry>>;
    /// The number and hash of the last entry.
    async fn exchange_head(&self) -> Result<(i64, String)>;
    /// The figures from `since` (a day, yyyy-mm-dd) on.
    async fn exchange_figures(&self, since: &str) -> Result<Vec<ServiceFigures>>;
    /// Forgets nonces older than `before`: their timestamps are refused anyway.
    async fn purge_nonces(&self, before: DateTime<Utc>) -> Result<u64>;

    /// National side: stores a province's records `(cursor, record)` that follow `after`, in
    /// one transaction with its cursor and the figures they add; records at or before the
    /// cursor already stored are skipped, so a push sent again counts nothing twice.
    /// The push covers the feed's numbers in `(after, upto]`; the records are those of them
    /// the feed gives (it leaves out changes that keep the status).
    async fn receive_sync(
        &self,
        member: &str,
        after: i64,
        upto: i64,
        records: &[(i64, SyncRecord)],
        at: DateTime<Utc>,
    ) -> Result<SyncReceipt>;
    async fn federation_cursors(&self) -> Result<Vec<FederationCursor>>;
    /// The latest record of a dossier, with the member that sent it. Each province's records
    /// are its own: one cannot overwrite another's dossier of the same code.
    async fn federated_dossier(&self, code: &str) -> Result<Option<(String, SyncRecord)>>;
    /// `(province member, metric, value)`.
    async fn federated_stats(&self) -> Result<Vec<(String, String, i64)>>;

    /// Provincial side.
    async fn push_state(&self) -> Result<PushState>;
    /// Records a push: accepted up to `cursor` (adding `pushed` records), or failed.
    async fn record_push(
        &self,
        cursor: i64,
        pushed: i64,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Moves the cursor back, when the national side has less than it had accepted.
    async fn rewind_push(&self, cursor: i64) -> Result<()>;

    async fn put_result_signatures(&self, signatures: &[ResultSignature]) -> Result<()>;

    /// Once-only reuse: the documents of `applicant`'s dossiers, newest first.
    async fn warehouse_files(
        &self,
        applicant: &str,
        limit: i64,
    ) -> Result<Vec<domain::attachment::Attachment>>;
    /// Records that `upload` is a copy of `source`, a document of `source_dossier` here or,
    /// with `member`, a signed result of that member's.
    async fn record_reuse(
        &self,
        upload: &str,
        member: Option<&str>,
        source: &str,
        source_dossier: &str,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The dossier an upload was reused from (`member dossier` for another member's), if it
    /// was.
    async fn reuse_source(&self, upload: &str) -> Result<Option<String>>;
    async fn result_signature(&self, id: &str) -> Result<Option<ResultSignature>>;
    async fn result_signatures(&self, dossier: &str) -> Result<Vec<ResultSignature>>;
}

type LogRow = (
    i64,
    DateTime<Utc>,
    String,
    String,
    String,
    i32,
    String,
    String,
    String,
    i64,
    String,
    String,
);

pub(crate) const LOG_COLUMNS: &str = "seq, at, client, service, nonce, status, outcome, \
     request_hash, response_hash, millis, prev_hash, hash";

pub(crate) fn decode_log(r: LogRow) -> LogEntry {
    LogEntry {
        seq: r.0,
        at: r.1,
        client: r.2,
        service: r.3,
        nonce: r.4,
        status: r.5,
        outcome: r.6,
        request_hash: r.7,
        response_hash: r.8,
        millis: r.9,
        prev_hash: r.10,
        hash: r.11,
    }
}

type SignatureRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    String,
    String,
);

pub(crate) const SIGNATURE_COLUMNS: &str =
    "id, dossier, agency_code, document, file_name, sha256, signed_at, public_key, signature";

pub(crate) fn decode_signature(r: SignatureRow) -> ResultSignature {
    ResultSignature {
        id: r.0,
        dossier: r.1,
        agency_code: r.2,
        document: r.3,
        file_name: r.4,
        sha256: r.5,
        signed_at: r.6,
        public_key: r.7,
        signature: r.8,
    }
}

/// The day an entry counts on in the figures: Vietnam's.
pub(crate) fn figures_day(at: DateTime<Utc>) -> String {
    at.with_timezone(&domain::calendar::vietnam_offset())
        .format("%Y-%m-%d")
        .to_string()
}

/// Inserts `(client, nonce, at)`s inside a transaction, in key order (so two nodes' batches
/// take the rows' locks in the same order); evaluates to the ones that were free.
macro_rules! claim_nonce_rows {
    ($tx:expr, $nonces:expr) => {{
        let nonces: &[(String, String, chrono::DateTime<chrono::Utc>)] = $nonces;
        let mut sorted: Vec<&(String, String, chrono::DateTime<chrono::Utc>)> =
            nonces.iter().collect();
        sorted.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        sorted.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let mut claimed: Vec<(String, String)> = Vec::with_capacity(sorted.len());
        for chunk in sorted.chunks(5000) {
            let mut insert =
                sqlx::QueryBuilder::new("INSERT INTO exchange_nonces (client, nonce, at) ");
            insert.push_values(chunk, |mut row, (client, nonce, at)| {
                row.push_bind(client).push_bind(nonce).push_bind(*at);
            });
            insert.push(" ON CONFLICT (client, nonce) DO NOTHING RETURNING client, nonce");
            let rows: Vec<(String, String)> = insert.build_query_as().fetch_all(&mut *$tx).await?;
            claimed.extend(rows);
        }
        claimed
    }};
}

macro_rules! impl_exchange {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::ExchangeStore for $store {
            async fn put_member(&self, m: &$crate::Member) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO exchange_members (member, name, public_key, url, added_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (member) DO UPDATE SET name = excluded.name,
                       public_key = excluded.public_key, url = excluded.url",
                )
                .bind(&m.member)
                .bind(&m.name)
                .bind(&m.public_key)
                .bind(&m.url)
                .bind(m.added_at)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn remove_member(&self, member: &str) -> $crate::Result<bool> {
                let mut tx = self.writer.begin().await?;
                sqlx::query("DELETE FROM exchange_grants WHERE client = $1")
                    .bind(member)
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query("DELETE FROM exchange_members WHERE member = $1")
                    .bind(member)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn put_service(&self, s: &$crate::ServiceOffer) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO exchange_services (provider, service, description)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (provider, service) DO UPDATE SET description = excluded.description",
                )
                .bind(&s.provider)
                .bind(&s.service)
                .bind(&s.description)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn put_grant(&self, g: &$crate::Grant) -> $crate::Result<()> {
                let known: Option<(String,)> =
                    sqlx::query_as("SELECT member FROM exchange_members WHERE member = $1")
                        .bind(&g.client)
                        .fetch_optional(&self.pool)
                        .await?;
                if known.is_none() {
                    return Err($crate::StoreError::Conflict(format!(
                        "'{}' is not a registered member",
                        g.client
                    )));
                }
                sqlx::query(
                    "INSERT INTO exchange_grants (service, client, granted_by, granted_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (service, client) DO NOTHING",
                )
                .bind(&g.service)
                .bind(&g.client)
                .bind(&g.granted_by)
                .bind(g.granted_at)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn remove_grant(&self, service: &str, client: &str) -> $crate::Result<bool> {
                let done =
                    sqlx::query("DELETE FROM exchange_grants WHERE service = $1 AND client = $2")
                        .bind(service)
                        .bind(client)
                        .execute(&self.writer)
                        .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn registry(&self) -> $crate::Result<$crate::Registry> {
                let members: Vec<(String, String, String, String, chrono::DateTime<chrono::Utc>)> =
                    sqlx::query_as(
                        "SELECT member, name, public_key, url, added_at
                         FROM exchange_members ORDER BY member",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                let services: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT provider, service, description FROM exchange_services
                     ORDER BY provider, service",
                )
                .fetch_all(&self.pool)
                .await?;
                let grants: Vec<(String, String, String, chrono::DateTime<chrono::Utc>)> =
                    sqlx::query_as(
                        "SELECT service, client, granted_by, granted_at FROM exchange_grants
                         ORDER BY service, client",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                Ok($crate::Registry {
                    members: members
                        .into_iter()
                        .map(|(member, name, public_key, url, added_at)| $crate::Member {
                            member,
                            name,
                            public_key,
                            url,
                            added_at,
                        })
                        .collect(),
                    services: services
                        .into_iter()
                        .map(|(provider, service, description)| $crate::ServiceOffer {
                            provider,
                            service,
                            description,
                        })
                        .collect(),
                    grants: grants
                        .into_iter()
                        .map(|(service, client, granted_by, granted_at)| $crate::Grant {
                            service,
                            client,
                            granted_by,
                            granted_at,
                        })
                        .collect(),
                })
            }

            async fn append_exchange_log(
                &self,
                mut entries: Vec<domain::exchange::LogEntry>,
                claim: &[usize],
            ) -> $crate::Result<Vec<domain::exchange::LogEntry>> {
                if entries.is_empty() {
                    return Ok(entries);
                }
                let mut tx = self.writer.begin().await?;
                let nonces: Vec<(String, String, chrono::DateTime<chrono::Utc>)> = claim
                    .iter()
                    .map(|&i| (entries[i].client.clone(), entries[i].nonce.clone(), entries[i].at))
                    .collect();
                let free: std::collections::HashSet<(String, String)> =
                    $crate::exchange::claim_nonce_rows!(tx, &nonces).into_iter().collect();
                let mut taken = std::collections::HashSet::new();
                for &i in claim {
                    let e = &mut entries[i];
                    let key = (e.client.clone(), e.nonce.clone());
                    if !free.contains(&key) || !taken.insert(key) {
                        e.outcome = domain::exchange::Refusal::Replayed.code().to_owned();
                        e.status = 409;
                    }
                }
                let n = entries.len() as i64;
                let (last, mut prev): (i64, String) = sqlx::query_as(
                    "UPDATE exchange_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
                )
                .bind(n)
                .fetch_one(&mut *tx)
                .await?;
                let first = last - n + 1;
                let sealed: Vec<domain::exchange::LogEntry> = entries
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let e = e.sealed(first + i as i64, &prev);
                        prev = e.hash.clone();
                        e
                    })
                    .collect();
                for chunk in sealed.chunks(2000) {
                    let mut insert = sqlx::QueryBuilder::new(format!(
                        "INSERT INTO exchange_log ({}) ",
                        $crate::exchange::LOG_COLUMNS
                    ));
                    insert.push_values(chunk, |mut row, e| {
                        row.push_bind(e.seq)
                            .push_bind(e.at)
                            .push_bind(&e.client)
                            .push_bind(&e.service)
                            .push_bind(&e.nonce)
                            .push_bind(e.status)
                            .push_bind(&e.outcome)
                            .push_bind(&e.request_hash)
                            .push_bind(&e.response_hash)
                            .push_bind(e.millis)
                            .push_bind(&e.prev_hash)
                            .push_bind(&e.hash);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                sqlx::query("UPDATE exchange_head SET hash = $1 WHERE id = 1")
                    .bind(&prev)
                    .execute(&mut *tx)
                    .await?;
                let mut figures: std::collections::BTreeMap<(String, String, String), (i64, i64, i64, i64)> =
                    std::collections::BTreeMap::new();
                for e in &sealed {
                    let f = figures
                        .entry((
                            $crate::exchange::figures_day(e.at),
                            e.service.clone(),
                            e.figures_client().to_owned(),
                        ))
                        .or_default();
                    f.0 += 1;
                    f.1 += i64::from(e.outcome != "ok");
                    f.2 += e.millis;
                    f.3 = f.3.max(e.millis);
                }
                let figures: Vec<_> = figures.into_iter().collect();
                for chunk in figures.chunks(3000) {
                    let mut upsert = sqlx::QueryBuilder::new(
                        "INSERT INTO exchange_figures (day, service, client, calls, errors, total_ms, max_ms) ",
                    );
                    upsert.push_values(chunk, |mut row, ((day, service, client), f)| {
                        row.push_bind(day)
                            .push_bind(service)
                            .push_bind(client)
                            .push_bind(f.0)
                            .push_bind(f.1)
                            .push_bind(f.2)
                            .push_bind(f.3);
                    });
                    upsert.push(
                        " ON CONFLICT (day, service, client) DO UPDATE SET
                           calls = exchange_figures.calls + excluded.calls,
                           errors = exchange_figures.errors + excluded.errors,
                           total_ms = exchange_figures.total_ms + excluded.total_ms,
                           max_ms = CASE WHEN excluded.max_ms > exchange_figures.max_ms
                                    THEN excluded.max_ms ELSE exchange_figures.max_ms END",
                    );
                    upsert.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(sealed)
            }

            async fn claim_nonces(
                &self,
                nonces: &[(String, String, chrono::DateTime<chrono::Utc>)],
            ) -> $crate::Result<Vec<(String, String)>> {
                let mut tx = self.writer.begin().await?;
                let claimed = $crate::exchange::claim_nonce_rows!(tx, nonces);
                tx.commit().await?;
                Ok(claimed)
            }

            async fn exchange_log(
                &self,
                after: i64,
                limit: i64,
            ) -> $crate::Result<Vec<domain::exchange::LogEntry>> {
                let rows = sqlx::query_as(&format!(
                    "SELECT {} FROM exchange_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                    $crate::exchange::LOG_COLUMNS
                ))
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map($crate::exchange::decode_log).collect())
            }

            async fn recent_exchange_log(
                &self,
                limit: i64,
            ) -> $crate::Result<Vec<domain::exchange::LogEntry>> {
                let rows = sqlx::query_as(&format!(
                    "SELECT {} FROM exchange_log ORDER BY seq DESC LIMIT $1",
                    $crate::exchange::LOG_COLUMNS
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map($crate::exchange::decode_log).collect())
            }

            async fn exchange_head(&self) -> $crate::Result<(i64, String)> {
                Ok(sqlx::query_as("SELECT seq, hash FROM exchange_head WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn exchange_figures(
                &self,
                since: &str,
            ) -> $crate::Result<Vec<$crate::ServiceFigures>> {
                let rows: Vec<(String, String, String, i64, i64, i64, i64)> = sqlx::query_as(
                    "SELECT day, service, client, calls, errors, total_ms, max_ms
                     FROM exchange_figures WHERE day >= $1 ORDER BY day DESC, service, client",
                )
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(day, service, client, calls, errors, total_ms, max_ms)| {
                        $crate::ServiceFigures {
                            day,
                            service,
                            client,
                            calls,
                            errors,
                            total_ms,
                            max_ms,
                        }
                    })
                    .collect())
            }

            async fn purge_nonces(&self, before: chrono::DateTime<chrono::Utc>) -> $crate::Result<u64> {
                let done = sqlx::query("DELETE FROM exchange_nonces WHERE at < $1")
                    .bind(before)
                    .execute(&self.writer)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn receive_sync(
                &self,
                member: &str,
                after: i64,
                upto: i64,
                records: &[(i64, domain::sync::SyncRecord)],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<$crate::SyncReceipt> {
                let mut tx = self.writer.begin().await?;
                sqlx::query(
                    "INSERT INTO federation_cursors (member, cursor, records, updated_at)
                     VALUES ($1, 0, 0, $2) ON CONFLICT (member) DO NOTHING",
                )
                .bind(member)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let (stored,): (i64,) =
                    sqlx::query_as("SELECT cursor FROM federation_cursors WHERE member = $1")
                        .bind(member)
                        .fetch_one(&mut *tx)
                        .await?;
                if after > stored {
                    return Ok($crate::SyncReceipt::Gap { expected: stored });
                }
                if upto <= stored {
                    return Ok($crate::SyncReceipt::Stored { cursor: stored, fresh: 0 });
                }
                let last = upto;
                let fresh: Vec<&(i64, domain::sync::SyncRecord)> =
                    records.iter().filter(|(cursor, _)| *cursor > stored).collect();
                // Claims the cursor: a push of the same province at the same time finds it
                // moved and fails, so the two cannot both count the same records.
                let claimed = sqlx::query(
                    "UPDATE federation_cursors SET cursor = $3, records = records + $4,
                       updated_at = $5
                     WHERE member = $1 AND cursor = $2",
                )
                .bind(member)
                .bind(stored)
                .bind(last)
                .bind(fresh.len() as i64)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if claimed.rows_affected() != 1 {
                    return Err($crate::StoreError::Conflict(
                        "another push of this province was stored at the same time".into(),
                    ));
                }
                let codes: Vec<&str> = fresh.iter().map(|(_, r)| r.ma_ho_so.as_str()).collect();
                let before: Vec<(String, i32)> = sqlx::query_as(&format!(
                    "SELECT code, reached FROM federated_dossiers WHERE province = $2 AND code {}",
                    Self::IN_JSON_TEXTS
                ))
                .bind(serde_json::to_string(&codes).expect("codes serialise"))
                .bind(member)
                .fetch_all(&mut *tx)
                .await?;
                let mut reached: std::collections::HashMap<&str, domain::sync::Reached> = before
                    .iter()
                    .map(|(code, r)| (code.as_str(), *r as domain::sync::Reached))
                    .collect();
                let mut latest: std::collections::HashMap<&str, &(i64, domain::sync::SyncRecord)> =
                    std::collections::HashMap::new();
                let mut figures: std::collections::BTreeMap<&str, i64> = Default::default();
                for item in &fresh {
                    let record = &item.1;
                    let (added, now) = domain::sync::national_deltas(
                        reached.get(record.ma_ho_so.as_str()).copied(),
                        record,
                    );
                    for metric in added {
                        *figures.entry(metric).or_default() += 1;
                    }
                    reached.insert(&record.ma_ho_so, now);
                    latest.insert(&record.ma_ho_so, item);
                }
                let rows: Vec<&(i64, domain::sync::SyncRecord)> = latest.into_values().collect();
                for chunk in rows.chunks(3000) {
                    let mut upsert = sqlx::QueryBuilder::new(
                        "INSERT INTO federated_dossiers (code, province, status, reached, record, cursor, updated_at) ",
                    );
                    upsert.push_values(chunk, |mut row, (cursor, record)| {
                        row.push_bind(&record.ma_ho_so)
                            .push_bind(member)
                            .push_bind(i32::from(record.trang_thai_ho_so))
                            .push_bind(i32::from(reached[record.ma_ho_so.as_str()]))
                            .push_bind(serde_json::to_string(record).expect("records serialise"))
                            .push_bind(*cursor)
                            .push_bind(at);
                    });
                    upsert.push(
                        " ON CONFLICT (code, province) DO UPDATE SET
                           status = excluded.status, reached = excluded.reached,
                           record = excluded.record,
                           cursor = excluded.cursor, updated_at = excluded.updated_at",
                    );
                    upsert.build().execute(&mut *tx).await?;
                }
                if !figures.is_empty() {
                    let mut upsert = sqlx::QueryBuilder::new(
                        "INSERT INTO federated_stats (province, metric, value) ",
                    );
                    upsert.push_values(&figures, |mut row, (metric, value)| {
                        row.push_bind(member).push_bind(*metric).push_bind(*value);
                    });
                    upsert.push(
                        " ON CONFLICT (province, metric) DO UPDATE SET
                           value = federated_stats.value + excluded.value",
                    );
                    upsert.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok($crate::SyncReceipt::Stored { cursor: last, fresh: fresh.len() })
            }

            async fn federation_cursors(&self) -> $crate::Result<Vec<$crate::FederationCursor>> {
                let rows: Vec<(String, i64, i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
                    "SELECT member, cursor, records, updated_at FROM federation_cursors
                     ORDER BY member",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(member, cursor, records, updated_at)| $crate::FederationCursor {
                        member,
                        cursor,
                        records,
                        updated_at,
                    })
                    .collect())
            }

            async fn federated_dossier(
                &self,
                code: &str,
            ) -> $crate::Result<Option<(String, domain::sync::SyncRecord)>> {
                let row: Option<(String, String)> = sqlx::query_as(
                    "SELECT province, record FROM federated_dossiers WHERE code = $1
                     ORDER BY updated_at DESC LIMIT 1",
                )
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(province, record)| {
                    serde_json::from_str(&record)
                        .map(|r| (province, r))
                        .map_err(|e| $crate::StoreError::Corrupt(format!("federated record {code}: {e}")))
                })
                .transpose()
            }

            async fn federated_stats(&self) -> $crate::Result<Vec<(String, String, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT province, metric, value FROM federated_stats ORDER BY province, metric",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn push_state(&self) -> $crate::Result<$crate::PushState> {
                let (cursor, pushed, last_error, updated_at): (
                    i64,
                    i64,
                    Option<String>,
                    Option<chrono::DateTime<chrono::Utc>>,
                ) = sqlx::query_as(
                    "SELECT cursor, pushed, last_error, updated_at FROM federation_push WHERE id = 1",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::PushState {
                    cursor,
                    pushed,
                    last_error,
                    updated_at,
                })
            }

            async fn record_push(
                &self,
                cursor: i64,
                pushed: i64,
                error: Option<&str>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                // The cursor only moves forward, whichever node pushed.
                sqlx::query(
                    "UPDATE federation_push SET
                       cursor = CASE WHEN $1 > cursor THEN $1 ELSE cursor END,
                       pushed = pushed + $2, last_error = $3, updated_at = $4
                     WHERE id = 1",
                )
                .bind(cursor)
                .bind(pushed)
                .bind(error)
                .bind(at)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn rewind_push(&self, cursor: i64) -> $crate::Result<()> {
                sqlx::query("UPDATE federation_push SET cursor = $1 WHERE id = 1")
                    .bind(cursor)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn put_result_signatures(
                &self,
                signatures: &[$crate::ResultSignature],
            ) -> $crate::Result<()> {
                if signatures.is_empty() {
                    return Ok(());
                }
                let mut insert = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO result_signatures ({}) ",
                    $crate::exchange::SIGNATURE_COLUMNS
                ));
                insert.push_values(signatures, |mut row, s| {
                    row.push_bind(&s.id)
                        .push_bind(&s.dossier)
                        .push_bind(&s.agency_code)
                        .push_bind(&s.document)
                        .push_bind(&s.file_name)
                        .push_bind(&s.sha256)
                        .push_bind(s.signed_at)
                        .push_bind(&s.public_key)
                        .push_bind(&s.signature);
                });
                // Two nodes signing the same file at once: the first row stands.
                insert.push(" ON CONFLICT (id) DO NOTHING");
                insert.build().execute(&self.writer).await?;
                Ok(())
            }

            async fn warehouse_files(
                &self,
                applicant: &str,
                limit: i64,
            ) -> $crate::Result<Vec<domain::attachment::Attachment>> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM attachments WHERE dossier_code IN
                       (SELECT code FROM dossiers WHERE applicant = $1)
                     ORDER BY created_at DESC, id LIMIT $2",
                    $crate::sql::ATTACHMENT_COLUMNS
                ))
                .bind(applicant)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::sql::attachment_from_row).collect()
            }

            async fn record_reuse(
                &self,
                upload: &str,
                member: Option<&str>,
                source: &str,
                source_dossier: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO reused_documents (upload_id, source_member, source_id, source_dossier, at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(upload)
                .bind(member)
                .bind(source)
                .bind(source_dossier)
                .bind(at)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn reuse_source(&self, upload: &str) -> $crate::Result<Option<String>> {
                let row: Option<(Option<String>, String)> = sqlx::query_as(
                    "SELECT source_member, source_dossier FROM reused_documents WHERE upload_id = $1",
                )
                .bind(upload)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(member, dossier)| match member {
                    Some(member) => format!("{member} {dossier}"),
                    None => dossier,
                }))
            }

            async fn result_signature(
                &self,
                id: &str,
            ) -> $crate::Result<Option<$crate::ResultSignature>> {
                let row = sqlx::query_as(&format!(
                    "SELECT {} FROM result_signatures WHERE id = $1",
                    $crate::exchange::SIGNATURE_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map($crate::exchange::decode_signature))
            }

            async fn result_signatures(
                &self,
                dossier: &str,
            ) -> $crate::Result<Vec<$crate::ResultSignature>> {
                let rows = sqlx::query_as(&format!(
                    "SELECT {} FROM result_signatures WHERE dossier = $1 ORDER BY signed_at, id",
                    $crate::exchange::SIGNATURE_COLUMNS
                ))
                .bind(dossier)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map($crate::exchange::decode_signature).collect())
            }
        }
    };
}

pub(crate) use claim_nonce_rows;
pub(crate) use impl_exchange;
