//! Storage: one [`Store`] trait, implemented for SQLite (the zero-setup default) and
//! PostgreSQL (production). Both share their SQL (see [`sql`]) and have their own migrations.

mod analytics;
mod exchange;
mod feedback;
mod group_commit;
mod identity;
mod notify;
pub mod objects;
mod payments;
mod postgres;
mod privilege;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use domain::attachment::{Attachment, AttachmentLink};
use domain::dossier::{CodeTemplate, Dossier, Draft, EventRecord, NewDossier};
use domain::service::ServiceDesign;
use domain::user::User;
use domain::{Agency, AgencyCode, Level, LifeEvent, Procedure, ProcedureCode};

pub use analytics::{AnalyticsStore, FormCount};
pub use exchange::{
    ExchangeStore, FederationCursor, Grant, Member, PushState, Registry, ResultSignature,
    ServiceFigures, ServiceOffer, SyncReceipt,
};
pub use feedback::{FeedbackStore, NewFeedback};
pub use identity::{
    AccessEntry, EidAccount, IdentityStore, NewToken, SessionRecord, SignInRecord, TokenKind,
    TokenRecord,
};
pub use notify::{Contact, DeliveryStatus, Notification, NotifyStore, Outgoing};
pub use payments::{Callback, NewPayment, Payment, PaymentChange, PaymentStatus, PaymentStore};
pub use postgres::PgStore;
pub use privilege::{Approval, PrivilegeStore};
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data breaks a rule of the schema, e.g. an agency whose parent does not exist.
    #[error("conflicting data: {0}")]
    Conflict(String),
    /// A row that the application wrote cannot be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database URL '{0}': use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// Text the database cannot hold: PostgreSQL stores no NUL character (U+0000) in text
    /// or JSON, which SQLite and JSON itself allow.
    #[error("text with a NUL character (U+0000) cannot be stored: {0}")]
    Unstorable(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("file storage failed: {0}")]
    Objects(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // 22021: a NUL byte in text; 22P05: `\u0000` in JSON. Bad input, not a fault.
        match &e {
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("22021" | "22P05")) =>
            {
                StoreError::Unstorable(db.message().to_owned())
            }
            _ => StoreError::Database(e),
        }
    }
}

impl StoreError {
    /// Whether the database could not be reached (as opposed to a query that failed).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            )
        )
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What an import changed, for the operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub new_procedures: usize,
    pub new_versions: usize,
    pub updated_versions: usize,
    pub unchanged: usize,
}

impl ImportReport {
    pub fn changed(&self) -> bool {
        self.new_procedures + self.new_versions + self.updated_versions > 0
    }
}

/// A callback told how far a long operation has come.
pub type Progress = dyn Fn(u64) + Send + Sync;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormTemplate {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

#[async_trait]
pub trait Store:
    IdentityStore
    + PrivilegeStore
    + PaymentStore
    + NotifyStore
    + ExchangeStore
    + FeedbackStore
    + AnalyticsStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;
    /// Whether the database answers.
    async fn ping(&self) -> Result<()>;
    /// The database's size on disk in bytes (SQLite: its pages, without the write-ahead log).
    async fn database_bytes(&self) -> Result<i64>;

    async fn levels(&self) -> Result<Vec<Level>>;
    /// Inserts or updates agencies; parents must exist or come earlier in the slice.
    /// Counts as a catalogue change (see [`Store::catalogue_generation`]).
    async fn upsert_agencies(&self, agencies: &[Agency]) -> Result<()>;
    async fn agencies(&self) -> Result<Vec<Agency>>;
    async fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>>;
    /// How many agencies sit at a level, and the first `limit` of them by code.
    async fn agencies_at_level(&self, level: &str, limit: i64) -> Result<(i64, Vec<Agency>)>;

    /// Stores procedure versions in one transaction: a version with the same effective date is
    /// replaced, one identical to the version already in force then is skipped.
    /// `progress` is told how many records have been handled so far.
    async fn import_procedures(
        &self,
        procedures: &[Procedure],
        progress: &Progress,
    ) -> Result<ImportReport>;
    /// The version in force on `on`, or the first upcoming one if none is in force yet.
    async fn procedure(&self, code: &ProcedureCode, on: NaiveDate) -> Result<Option<Procedure>>;
    /// Effective dates of every version of a procedure, oldest first.
    async fn procedure_versions(&self, code: &ProcedureCode) -> Result<Vec<NaiveDate>>;
    /// The version of every procedure in force on `on` (see [`Store::procedure`]), by code.
    async fn current_procedures(&self, on: NaiveDate) -> Result<Vec<Procedure>>;
    async fn procedure_count(&self) -> Result<i64>;
    /// Goes up by one whenever the catalogue changes; the search index records the value it
    /// was built from, so a different value means the index is stale.
    async fn catalogue_generation(&self) -> Result<i64>;

    /// Replaces the given life events and their procedure lists.
    async fn upsert_life_events(&self, events: &[LifeEvent]) -> Result<()>;
    async fn life_events(&self) -> Result<Vec<LifeEvent>>;

    async fn put_form_template(&self, code: &ProcedureCode, template: &FormTemplate) -> Result<()>;
    /// File names of the stored form templates of a procedure.
    async fn form_template_names(&self, code: &ProcedureCode) -> Result<Vec<String>>;
    async fn form_template(
        &self,
        code: &ProcedureCode,
        file_name: &str,
    ) -> Result<Option<FormTemplate>>;

    /// The decreed calendar years, oldest first.
    async fn decrees(&self) -> Result<Vec<domain::calendar::YearDecree>>;
    /// Replaces the given years' decrees; counts as a catalogue change, so servers reload.
    async fn put_decrees(&self, decrees: &[domain::calendar::YearDecree]) -> Result<()>;

    async fn meta(&self, key: &str) -> Result<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<()>;
    /// Sets `key` only if it has no value yet (a secret two nodes may make at once).
    async fn set_meta_if_absent(&self, key: &str, value: &str) -> Result<()>;

    async fn upsert_users(&self, users: &[User]) -> Result<()>;
    async fn user(&self, username: &str) -> Result<Option<User>>;
    /// Officials' accounts (every role but citizen) of the agency `root` and those below it
    /// (of every agency when None), by agency and username, at most `limit`.
    async fn officials(&self, root: Option<&AgencyCode>, limit: i64) -> Result<Vec<User>>;
    /// Sets the Argon2id hash of each named user's password.
    async fn set_passwords(&self, hashes: &[(String, String)]) -> Result<()>;

    /// Stores how a procedure is served from a version on; counts as a catalogue change.
    async fn put_service_design(
        &self,
        code: &ProcedureCode,
        effective_from: NaiveDate,
        design: &ServiceDesign,
    ) -> Result<()>;
    /// The latest design in force for the procedure version `version`.
    async fn service_design(
        &self,
        code: &ProcedureCode,
        version: NaiveDate,
    ) -> Result<Option<ServiceDesign>>;

    async fn save_draft(&self, draft: &Draft) -> Result<()>;
    /// A user's drafts, most recently changed first.
    async fn drafts(&self, username: &str) -> Result<Vec<Draft>>;
    async fn draft(&self, id: &str) -> Result<Option<Draft>>;
    async fn delete_draft(&self, id: &str) -> Result<()>;

    /// Records an uploaded file (its content is already in the object store).
    async fn put_attachment(&self, attachment: &Attachment) -> Result<()>;
    async fn attachment(&self, id: &str) -> Result<Option<Attachment>>;
    /// A dossier's files in the order they were attached.
    async fn dossier_attachments(&self, code: &str) -> Result<Vec<Attachment>>;

    /// Submits a dossier: allocates its code from the agency's daily sequence, stores it with
    /// its first event, and remembers the idempotency key. A key already used by the same
    /// user returns that dossier instead (`created` false) and writes nothing.
    async fn create_dossier(
        &self,
        new: &NewDossier,
        template: &CodeTemplate,
        idempotency_key: Option<&str>,
    ) -> Result<Created>;
    async fn dossier(&self, code: &str) -> Result<Option<Dossier>>;
    /// Dossiers newest first: an applicant's own, or those received by an agency and every
    /// agency below it; optionally only those in one status.
    async fn list_dossiers(&self, filter: &DossierFilter) -> Result<Vec<Dossier>>;
    /// Records an action: `next` becomes the dossier's state if it is still at
    /// `expected_version` (else [`StoreError::Conflict`]), `files` (uploads of the actor's)
    /// become its documents, `event` is sealed onto its chain, the statistics counters the
    /// event adds to (given the dossier `before` it) go up, and the `effects` (a payment
    /// settled or refunded, the notifications it sends) are written; all or nothing.
    async fn record_action(
        &self,
        next: &Dossier,
        expected_version: i64,
        event: EventRecord,
        files: &[AttachmentLink],
        before: &domain::stats::Tally,
        effects: ActionEffects,
    ) -> Result<Dossier>;
    async fn dossier_events(&self, code: &str) -> Result<Vec<EventRecord>>;
    /// The next `limit` dossiers after `after` (by code) with their events, for audits.
    async fn chains_after(&self, after: &str, limit: i64) -> Result<Vec<Chain>>;
    /// The code of the `limit`-th dossier after `after` (or the last one, if fewer): where
    /// the batch that [`Store::chains_after`] returns ends, known without reading it.
    async fn batch_end(&self, after: &str, limit: i64) -> Result<Option<String>>;

    /// Counters summed as the query asks, from the counter rows alone.
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<StatRow>>;
    /// Dossiers held in the subtree now, by group and stock, split by whether their due day
    /// is before `today`; from the holdings counters alone. The period is not used.
    async fn holdings(&self, query: &StatsQuery, today: NaiveDate) -> Result<Vec<HoldingRow>>;
    /// Dossiers held in the subtree and past their due time at `now`, the most overdue first.
    async fn overdue_dossiers(
        &self,
        root: &AgencyCode,
        now: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> Result<Vec<Dossier>>;
    /// Every counter (flows and holdings), for `stats verify`.
    async fn counters(&self) -> Result<std::collections::BTreeMap<domain::stats::CounterKey, i64>>;
    /// Flows summed by month and agency (from the monthly roll-up) or, `by_procedure`, by
    /// month and procedure (from the daily counters), for days `from` to `to`; for open data.
    async fn monthly_flows(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        by_procedure: bool,
    ) -> Result<Vec<MonthlyFlow>>;
    /// Numbers the committed events the feed has not numbered yet, in time order after the
    /// last number given; one numbering at a time. Returns the last number.
    async fn number_feed(&self) -> Result<i64>;
    /// The numbered events after `cursor`, in feed order, with their dossiers and the
    /// applicants' names.
    async fn feed_after(&self, cursor: i64, limit: i64) -> Result<Vec<FeedChange>>;
    /// Writes generated histories in bulk, in one transaction: dossiers, their events, and
    /// the counters those events give (added to any already there). For scale benchmarks.
    async fn load_history(&self, batch: &HistoryBatch) -> Result<()>;
    /// The first and last month with counters, if any.
    async fn counter_span(&self) -> Result<Option<(NaiveDate, NaiveDate)>>;
    /// The roll-ups of the flows by agency and month and by agency and day, for
    /// `stats verify`.
    async fn rollup_counters(&self) -> Result<Vec<RollupCounter>>;
    /// Replaces every counter with `totals` in one transaction (`stats rebuild`).
    async fn replace_counters(
        &self,
        totals: &std::collections::BTreeMap<domain::stats::CounterKey, i64>,
    ) -> Result<()>;
}

/// What an action writes besides the dossier and its event, in the same transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionEffects {
    pub payment: Option<PaymentChange>,
    pub notices: Vec<Outgoing>,
}

/// Whose dossiers to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DossierScope {
    Applicant(String),
    AgencySubtree(AgencyCode),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierFilter {
    pub scope: DossierScope,
    pub status: Option<domain::dossier::Status>,
    pub limit: i64,
    pub offset: i64,
}

/// The result of a submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub dossier: Dossier,
    /// False when an earlier submission with the same idempotency key is returned.
    pub created: bool,
}

/// A dossier's recorded head and its events in stored order.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub dossier_code: String,
    pub event_count: i64,
    pub last_event_hash: String,
    /// The dossier's procedure and channel (empty for events whose dossier is gone).
    pub procedure: String,
    pub channel: String,
    pub events: Vec<EventRecord>,
}

/// How statistics are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    /// One group: the whole subtree and period.
    Total,
    Agency,
    /// The agency's level code (province, commune, …).
    Level,
    Procedure,
    Channel,
    /// `YYYY-MM`.
    Month,
    /// `AGENCY YYYY-MM`: enough to sum by agency, level, month and in total at once.
    AgencyMonth,
}

/// Counters summed over an agency subtree and a period of days (both ends included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub root: AgencyCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group: StatsGroup,
    /// Only these procedures (a sector's, or one); empty for all.
    pub procedures: Vec<ProcedureCode>,
    pub channel: Option<domain::Channel>,
    /// Today in Vietnam: no counter holds a later day, so a period that reaches today takes
    /// the current month whole from the monthly roll-up.
    pub today: NaiveDate,
}

/// Dossiers held now: group, stock, whether past their due day, how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingRow {
    pub group: String,
    pub metric: domain::stats::Metric,
    pub overdue: bool,
    pub value: i64,
}

/// Generated dossiers with their events and the counters the events give.
#[derive(Debug, Clone, Default)]
pub struct HistoryBatch {
    pub dossiers: Vec<Dossier>,
    pub events: Vec<EventRecord>,
    pub counters: std::collections::BTreeMap<domain::stats::CounterKey, i64>,
}

/// One change in the sync feed: the event, its number and its dossier as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedChange {
    pub number: i64,
    pub event: EventRecord,
    pub dossier: Dossier,
    pub applicant_name: Option<String>,
}

/// One summed flow of a month (`YYYY-MM`) and an agency or procedure code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyFlow {
    pub month: String,
    pub key: String,
    pub metric: domain::stats::Metric,
    pub value: i64,
}

/// One row of a roll-up, as stored: by agency and month (`start` the first day) or by
/// agency and day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RollupCounter {
    pub monthly: bool,
    pub agency: String,
    pub start: NaiveDate,
    pub metric: String,
    pub value: i64,
}

/// One summed counter: its group (empty for the total), metric and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    pub group: String,
    pub metric: domain::stats::Metric,
    pub value: i64,
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and runs its migrations.
pub async fn open(url: &str, max_connections: u32) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, max_connections).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, max_connections).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redact(url)))
    }
}

/// A URL without its password, fit for logs and error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            super::redact("sqlite://data/motcua.db"),
            "sqlite://data/motcua.db"
        );
    }
}
