//! Accounts, sessions and the access log: the storage side of identity. A trait of its own
//! (every [`crate::Store`] is one), with one body of SQL for both backends, as in `sql.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::user::{Assurance, User};

use crate::Result;

/// What a token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer token for the API, made by `motcua token`.
    Api,
    /// A browser session.
    Session,
    /// A password accepted, the second factor not yet: opens nothing but the second-factor page.
    SecondFactor,
}

impl TokenKind {
    pub fn code(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Session => "session",
            TokenKind::SecondFactor => "second_factor",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [TokenKind::Api, TokenKind::Session, TokenKind::SecondFactor]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub username: &'a str,
    pub kind: TokenKind,
    pub assurance: Assurance,
    /// The browser and address it was opened from, for the list of sessions.
    pub client: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// A live token and the account behind it (the user's `assurance` is the token's).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub user: User,
    pub kind: TokenKind,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// A session as its owner sees it in the list of their sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The start of the token's hash: names the session without giving it away.
    pub id: String,
    pub client: String,
    pub assurance: Assurance,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// What a sign-in checks: the password, the lockout and the second factor.
#[derive(Debug, Clone, Default)]
pub struct SignInRecord {
    pub password_hash: Option<String>,
    pub failed_sign_ins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub totp_secret: Option<String>,
    pub totp_confirmed: bool,
}

/// An account as the national e-ID describes it; its identifiers sealed by the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EidAccount {
    pub username: String,
    pub full_name: String,
    pub issuer: String,
    pub identity_sealed: String,
}

/// One read of a person's data by someone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub id: i64,
    pub subject: String,
    pub dossier_code: Option<String>,
    pub reader: String,
    pub reader_name: String,
    pub reader_agency: Option<String>,
    pub purpose: String,
    pub at: DateTime<Utc>,
    pub withheld_until: Option<DateTime<Utc>>,
    pub withheld_by: Option<String>,
    pub withheld_reason: Option<String>,
}

#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Creates or updates the account a national e-ID sign-in names.
    async fn upsert_eid_account(&self, account: &EidAccount) -> Result<()>;
    /// The sealed e-ID attributes of an account, if it has any.
    async fn sealed_identity(&self, username: &str) -> Result<Option<String>>;

    /// The data keys, wrapped, oldest first: (id, wrapped key).
    async fn data_keys(&self) -> Result<Vec<(i64, String)>>;
    /// Stores a new wrapped data key; returns its id.
    async fn add_data_key(&self, wrapped: &str) -> Result<i64>;

    /// Keeps what an e-ID sign-in under way must be checked against; drops those older
    /// than `forget_before`.
    async fn begin_eid_login(
        &self,
        state_hash: &str,
        nonce: &str,
        pkce_verifier: &str,
        next: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()>;
    /// Takes a sign-in under way (once: a replayed state finds nothing): (nonce, verifier, next).
    async fn take_eid_login(
        &self,
        state_hash: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<(String, String, String)>>;

    async fn sign_in_record(&self, username: &str) -> Result<Option<SignInRecord>>;
    /// Counts a failed sign-in and returns how many failed in a row.
    async fn count_failed_sign_in(&self, username: &str) -> Result<i32>;
    async fn lock_sign_in(&self, username: &str, until: DateTime<Utc>) -> Result<()>;
    async fn clear_failed_sign_ins(&self, username: &str) -> Result<()>;
    /// Sets (or with None removes) a TOTP secret; a new secret waits for a first code.
    async fn set_totp_secret(&self, username: &str, secret: Option<&str>) -> Result<()>;
    /// Accepts a TOTP time step if it is later than the last one accepted (so a code is never
    /// used twice) and confirms the secret; false when the step was already used.
    async fn accept_totp_step(&self, username: &str, step: i64) -> Result<bool>;

    async fn create_token(&self, token: &NewToken<'_>) -> Result<()>;
    /// The unexpired token with this hash, with its account.
    async fn token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<TokenRecord>>;
    async fn touch_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<()>;
    async fn delete_token(&self, token_hash: &str) -> Result<()>;
    /// A user's unexpired browser sessions, newest first.
    async fn sessions(&self, username: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>>;
    /// Ends one of a user's sessions by its id (the start of its hash); false if none matched.
    async fn end_session(&self, username: &str, id: &str) -> Result<bool>;
    /// Ends every session and pending sign-in of a user (API tokens stay); returns how many.
    async fn end_sessions(&self, username: &str) -> Result<u64>;

    /// Records reads of people's data.
    async fn log_access(
        &self,
        entries: &[(String, Option<String>, &User, &str)],
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The reads of a person's data, newest first; those withheld until after `now` are left
    /// out unless `with_withheld`.
    async fn access_log(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        with_withheld: bool,
        limit: i64,
    ) -> Result<Vec<AccessEntry>>;
    /// Withholds an access record from its subject until a date, once, and never a record of
    /// the withholder's own read; false if no record qualifies.
    async fn withhold_access(
        &self,
        id: i64,
        until: DateTime<Utc>,
        by: &str,
        reason: &str,
    ) -> Result<bool>;
}

/// How long a session id shown to its owner is: enough to be unique, not the whole hash.
pub(crate) const SESSION_ID_LEN: usize = 16;

macro_rules! impl_identity {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::IdentityStore for $store {
            async fn upsert_eid_account(&self, a: &$crate::EidAccount) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO users (username, full_name, role, created_at, identity_issuer,
                       identity_sealed)
                     VALUES ($1, $2, 'citizen', $3, $4, $5)
                     ON CONFLICT (username) DO UPDATE SET full_name = excluded.full_name,
                       identity_issuer = excluded.identity_issuer,
                       identity_sealed = excluded.identity_sealed",
                )
                .bind(&a.username)
                .bind(&a.full_name)
                .bind(chrono::Utc::now())
                .bind(&a.issuer)
                .bind(&a.identity_sealed)
                .execute(&self.writer)
                .await
                .map_err(|e| $crate::sql::conflict(e, &format!("account {}", a.username)))?;
                Ok(())
            }

            async fn sealed_identity(&self, username: &str) -> $crate::Result<Option<String>> {
                let row: Option<(Option<String>,)> =
                    sqlx::query_as("SELECT identity_sealed FROM users WHERE username = $1")
                        .bind(username)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.and_then(|(s,)| s))
            }

            async fn data_keys(&self) -> $crate::Result<Vec<(i64, String)>> {
                Ok(sqlx::query_as("SELECT id, wrapped FROM data_keys ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn add_data_key(&self, wrapped: &str) -> $crate::Result<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO data_keys (wrapped, created_at) VALUES ($1, $2) RETURNING id",
                )
                .bind(wrapped)
                .bind(chrono::Utc::now())
                .fetch_one(&self.writer)
                .await?;
                Ok(id)
            }

            async fn begin_eid_login(
                &self,
                state_hash: &str,
                nonce: &str,
                pkce_verifier: &str,
                next: &str,
                now: chrono::DateTime<chrono::Utc>,
                forget_before: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                sqlx::query("DELETE FROM eid_logins WHERE created_at < $1")
                    .bind(forget_before)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO eid_logins (state_hash, nonce, pkce_verifier, next, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(state_hash)
                .bind(nonce)
                .bind(pkce_verifier)
                .bind(next)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_eid_login(
                &self,
                state_hash: &str,
                not_before: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Option<(String, String, String)>> {
                let row: Option<(String, String, String, chrono::DateTime<chrono::Utc>)> =
                    sqlx::query_as(
                        "DELETE FROM eid_logins WHERE state_hash = $1
                         RETURNING nonce, pkce_verifier, next, created_at",
                    )
                    .bind(state_hash)
                    .fetch_optional(&self.writer)
                    .await?;
                Ok(row
                    .filter(|(.., created)| *created >= not_before)
                    .map(|(nonce, verifier, next, _)| (nonce, verifier, next)))
            }

            async fn sign_in_record(
                &self,
                username: &str,
            ) -> $crate::Result<Option<$crate::SignInRecord>> {
                let row: Option<(
                    Option<String>,
                    i32,
                    Option<chrono::DateTime<chrono::Utc>>,
                    Option<String>,
                    bool,
                )> = sqlx::query_as(
                    "SELECT password_hash, failed_sign_ins, locked_until, totp_secret,
                       totp_confirmed
                     FROM users WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(
                    |(password_hash, failed_sign_ins, locked_until, totp_secret, totp_confirmed)| {
                        $crate::SignInRecord {
                            password_hash,
                            failed_sign_ins,
                            locked_until,
                            totp_secret,
                            totp_confirmed,
                        }
                    },
                ))
            }

            async fn count_failed_sign_in(&self, username: &str) -> $crate::Result<i32> {
                let row: Option<(i32,)> = sqlx::query_as(
                    "UPDATE users SET failed_sign_ins = failed_sign_ins + 1
                     WHERE username = $1 RETURNING failed_sign_ins",
                )
                .bind(username)
                .fetch_optional(&self.writer)
                .await?;
                Ok(row.map_or(0, |(n,)| n))
            }

            async fn lock_sign_in(
                &self,
                username: &str,
                until: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query("UPDATE users SET locked_until = $2 WHERE username = $1")
                    .bind(username)
                    .bind(until)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn clear_failed_sign_ins(&self, username: &str) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE users SET failed_sign_ins = 0, locked_until = NULL
                     WHERE username = $1 AND (failed_sign_ins <> 0 OR locked_until IS NOT NULL)",
                )
                .bind(username)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn set_totp_secret(
                &self,
                username: &str,
                secret: Option<&str>,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE users SET totp_secret = $2, totp_confirmed = FALSE,
                       totp_last_step = NULL
                     WHERE username = $1",
                )
                .bind(username)
                .bind(secret)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn accept_totp_step(&self, username: &str, step: i64) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE users SET totp_last_step = $2, totp_confirmed = TRUE
                     WHERE username = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(username)
                .bind(step)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_token(&self, t: &$crate::NewToken<'_>) -> $crate::Result<()> {
                let now = chrono::Utc::now();
                sqlx::query(
                    "INSERT INTO api_tokens (token_hash, username, created_at, expires_at, kind,
                       assurance, last_seen_at, client)
                     VALUES ($1, $2, $3, $4, $5, $6, $3, $7)",
                )
                .bind(t.token_hash)
                .bind(t.username)
                .bind(now)
                .bind(t.expires_at)
                .bind(t.kind.code())
                .bind(i16::from(t.assurance.level()))
                .bind(t.client)
                .execute(&self.writer)
                .await
                .map_err(|e| $crate::sql::conflict(e, &format!("token for {}", t.username)))?;
                Ok(())
            }

            async fn token(
                &self,
                token_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Option<$crate::TokenRecord>> {
                let row: Option<(
                    String,
                    String,
                    String,
                    Option<String>,
                    String,
                    i16,
                    chrono::DateTime<chrono::Utc>,
                    Option<chrono::DateTime<chrono::Utc>>,
                )> = sqlx::query_as(
                    "SELECT u.username, u.full_name, u.role, u.agency_code, t.kind, t.assurance,
                       t.created_at, t.last_seen_at
                     FROM api_tokens t JOIN users u ON u.username = t.username
                     WHERE t.token_hash = $1 AND t.expires_at > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                let Some((username, name, role, agency, kind, assurance, created, seen)) = row
                else {
                    return Ok(None);
                };
                let corrupt = |what: String| $crate::StoreError::Corrupt(what);
                let mut user = $crate::sql::decode_user((username, name, role, agency))?;
                user.assurance = u8::try_from(assurance)
                    .ok()
                    .and_then(domain::user::Assurance::from_level)
                    .ok_or_else(|| corrupt(format!("token assurance {assurance}")))?;
                Ok(Some($crate::TokenRecord {
                    kind: $crate::TokenKind::from_code(&kind)
                        .ok_or_else(|| corrupt(format!("token kind {kind}")))?,
                    user,
                    created_at: created,
                    last_seen_at: seen,
                }))
            }

            async fn touch_token(
                &self,
                token_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query("UPDATE api_tokens SET last_seen_at = $2 WHERE token_hash = $1")
                    .bind(token_hash)
                    .bind(now)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn delete_token(&self, token_hash: &str) -> $crate::Result<()> {
                sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn sessions(
                &self,
                username: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Vec<$crate::SessionRecord>> {
                let rows: Vec<(
                    String,
                    String,
                    i16,
                    chrono::DateTime<chrono::Utc>,
                    Option<chrono::DateTime<chrono::Utc>>,
                    chrono::DateTime<chrono::Utc>,
                )> = sqlx::query_as(
                    "SELECT token_hash, client, assurance, created_at, last_seen_at, expires_at
                     FROM api_tokens
                     WHERE username = $1 AND kind = 'session' AND expires_at > $2
                     ORDER BY created_at DESC",
                )
                .bind(username)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(hash, client, assurance, created_at, last_seen_at, expires_at)| {
                        $crate::SessionRecord {
                            id: hash[..$crate::identity::SESSION_ID_LEN].to_owned(),
                            client,
                            assurance: u8::try_from(assurance)
                                .ok()
                                .and_then(domain::user::Assurance::from_level)
                                .unwrap_or_default(),
                            created_at,
                            last_seen_at,
                            expires_at,
                        }
                    })
                    .collect())
            }

            async fn end_session(&self, username: &str, id: &str) -> $crate::Result<bool> {
                if id.len() != $crate::identity::SESSION_ID_LEN
                    || !id.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Ok(false);
                }
                let done = sqlx::query(
                    "DELETE FROM api_tokens
                     WHERE username = $1 AND kind = 'session' AND substr(token_hash, 1, $3) = $2",
                )
                .bind(username)
                .bind(id)
                .bind($crate::identity::SESSION_ID_LEN as i32)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn end_sessions(&self, username: &str) -> $crate::Result<u64> {
                let done = sqlx::query(
                    "DELETE FROM api_tokens WHERE username = $1 AND kind <> 'api'",
                )
                .bind(username)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected())
            }

            async fn log_access(
                &self,
                entries: &[(String, Option<String>, &domain::user::User, &str)],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                if entries.is_empty() {
                    return Ok(());
                }
                let mut tx = self.writer.begin().await?;
                for (subject, dossier, reader, purpose) in entries {
                    sqlx::query(
                        "INSERT INTO access_log (subject, dossier_code, reader, reader_agency,
                           purpose, at)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(subject)
                    .bind(dossier)
                    .bind(&reader.username)
                    .bind(reader.agency.as_ref().map(|a| a.as_str()))
                    .bind(*purpose)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn access_log(
                &self,
                subject: &str,
                now: chrono::DateTime<chrono::Utc>,
                with_withheld: bool,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::AccessEntry>> {
                type Row = (
                    i64,
                    String,
                    Option<String>,
                    String,
                    String,
                    Option<String>,
                    String,
                    chrono::DateTime<chrono::Utc>,
                    Option<chrono::DateTime<chrono::Utc>>,
                    Option<String>,
                    Option<String>,
                );
                let rows: Vec<Row> = sqlx::query_as(
                    "SELECT a.id, a.subject, a.dossier_code, a.reader, u.full_name,
                       a.reader_agency, a.purpose, a.at, a.withheld_until, a.withheld_by,
                       a.withheld_reason
                     FROM access_log a JOIN users u ON u.username = a.reader
                     WHERE a.subject = $1
                       AND ($3 OR a.withheld_until IS NULL OR a.withheld_until <= $2)
                     ORDER BY a.at DESC, a.id DESC LIMIT $4",
                )
                .bind(subject)
                .bind(now)
                .bind(with_withheld)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| $crate::AccessEntry {
                        id: r.0,
                        subject: r.1,
                        dossier_code: r.2,
                        reader: r.3,
                        reader_name: r.4,
                        reader_agency: r.5,
                        purpose: r.6,
                        at: r.7,
                        withheld_until: r.8,
                        withheld_by: r.9,
                        withheld_reason: r.10,
                    })
                    .collect())
            }

            async fn withhold_access(
                &self,
                id: i64,
                until: chrono::DateTime<chrono::Utc>,
                by: &str,
                reason: &str,
            ) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE access_log SET withheld_until = $2, withheld_by = $3,
                       withheld_reason = $4
                     WHERE id = $1 AND withheld_until IS NULL AND reader <> $3",
                )
                .bind(id)
                .bind(until)
                .bind(by)
                .bind(reason)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use impl_identity;
