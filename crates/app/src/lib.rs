//! Use cases. Each public method of [`App`] is one action a user or operator takes; it
//! validates its input, applies the domain rules and reads or writes through the store.
//! The web layer and the CLI call only these.

mod access_log;
mod accounts;
mod analytics;
mod catalogue;
mod demo;
mod dossiers;
mod drafts;
mod editing;
mod eid;
mod error;
mod exchange;
mod feedback;
mod files;
mod holidays;
mod jobs;
mod notify;
mod open_data;
mod payments;
mod privilege;
mod results;
mod sealing;
mod service_index;
mod services;
mod sheets;
mod staff;
mod stats;
mod sync;
mod virus_scan;
pub mod vnpay;
mod warehouse;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use domain::calendar::Calendar;
use domain::dossier::CodeTemplate;
use domain::{Agency, AgencyCode, Level, LifeEvent, Procedure, ProcedureCode};
use search::CatalogueIndex;
use store::Store;

pub use access_log::{AccessPurpose, MAX_WITHHOLD_DAYS};
pub use accounts::{
    Enrolment, IDLE_MINUTES, SESSION_HOURS, SignIn, current_code, session_id, totp,
};
pub use analytics::ProcedureUsage;
pub use catalogue::{
    AgencyNode, CatalogueSearch, Home, ImplementingLevel, MAX_LIMIT, ProcedureDetail, SearchPage,
};
pub use demo::{DEMO_PASSWORD, DEMO_TOTP_SECRET};
pub use domain::sync::SyncRecord;
pub use dossiers::{
    ActionInput, AttachmentChoice, AuditReport, PUBLIC_STATUS_SECONDS, PublicStatus, SubmitDossier,
    Submitted, TOKEN_DAYS,
};
pub use drafts::SaveDraft;
pub use editing::{OPTIONAL_MARK, ProcedureEdit, ProcedureEditor, StepEdit, form_preview};
pub use eid::{ClaimNames, EidIdentity, EidSettings};
pub use error::AppError;
pub use exchange::{
    EXCHANGE_PATH, ExchangeAnswer, ExchangeSettings, IncomingCall, LogPage, LogReport, SERVICES,
};
pub use feedback::SendFeedback;
pub use files::MAX_UPLOAD_BYTES;
pub use holidays::{CalendarChange, CalendarYear};
pub use jobs::JobSettings;
pub use notify::{NotifySettings, SmtpSettings, WebhookSettings, backoff, vietnam_time};
pub use open_data::{OPEN_METRICS, OpenDataSettings, OpenRow};
pub use payments::{
    Confirmation, FeeRequest, PROVIDER_ACTOR, PaymentSettings, Reconciliation, ReturnView,
    SANDBOX_PATH, SandboxOrder, VnpaySettings, fee_request,
};
pub use privilege::{AdminView, PrivilegedReport};
pub use results::Verification;
pub use sealing::{MasterKey, mask};
pub use search::assistant::{Reason, Suggestion};
pub use search::{Card, Facets, Hit};
pub use service_index::AgencyIndex;
pub use services::Served;
pub use sheets::{DossierContext, StepPlan};
pub use staff::{AgencyEdit, MIN_PASSWORD, StaffEdit};
pub use stats::{
    Breakdown, CounterDifference, Figures, MAX_PERIOD_DAYS, StatsReport, StatsRequest,
};
pub use store::Approval;
pub use store::{AccessEntry, Backend, FormTemplate, ImportReport, Progress, SessionRecord};
pub use store::{Contact, DeliveryStatus, Notification, Payment, PaymentStatus};
pub use store::{FederationCursor, Member, PushState, Registry, ResultSignature, ServiceFigures};
pub use sync::{MAX_SYNC_PAGE, SyncPage};
pub use virus_scan::{ScannerAddress, Verdict, VirusScanner};
pub use warehouse::WarehouseItem;

pub type Result<T> = std::result::Result<T, AppError>;

#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    index: Arc<CatalogueIndex>,
    /// Small tables every search needs, read once per catalogue generation instead of on
    /// every request.
    lookups: Arc<RwLock<Arc<Lookups>>>,
    code_template: Arc<CodeTemplate>,
    /// The key for receipt secrets, read from the database once.
    lookup_key: Arc<tokio::sync::OnceCell<String>>,
    /// Procedure versions and agencies as dossier actions read them, emptied with each
    /// catalogue generation (agency imports count as catalogue changes).
    cache: Arc<Cache>,
    /// Public statuses recently looked up, by dossier code: the public lookup is the busiest
    /// read. This node's actions remove a dossier's entry; another node's show within
    /// [`dossiers::PUBLIC_STATUS_SECONDS`].
    public_statuses: Arc<moka::sync::Cache<String, dossiers::PublicStatus>>,
    /// Statistics reads at once: one per core. More only wait inside the database, each
    /// holding its pages and sort buffers, which is what raised the peak memory.
    counter_reads: Arc<tokio::sync::Semaphore>,
    /// The plain-language assistant, rebuilt with the search index.
    assistant: Arc<RwLock<Arc<search::assistant::Assistant>>>,
    /// Where file contents live.
    objects: store::objects::Objects,
    upload_limit: usize,
    open_data: Arc<open_data::OpenDataSettings>,
    /// The national e-ID provider, when one is configured.
    eid: Option<Arc<eid::Eid>>,
    /// Seals personal data at rest; opened with the master key at start.
    sealer: Option<Arc<sealing::Sealer>>,
    /// Scans uploads for malware, when a ClamAV daemon is configured.
    scanner: Option<Arc<VirusScanner>>,
    /// Where people reach this portal (links in messages, the payment provider's return).
    public_url: Arc<str>,
    /// The payment provider, when online payment is configured.
    provider: Option<Arc<dyn payments::Provider>>,
    /// The secret the built-in sandbox provider signs with, when it is on.
    sandbox: Option<Arc<str>>,
    /// The providers notifications go out through.
    notifier: Arc<notify::Notifier>,
    /// For calls to other systems (the webhook provider; the sandbox's IPN).
    http: reqwest::Client,
    /// This instance as a member of the inter-agency exchange, once it has joined.
    exchange: Option<Arc<exchange::Exchange>>,
}

#[derive(Debug, Default)]
struct Cache {
    /// By procedure code and the day the version was asked for.
    procedures: RwLock<HashMap<(ProcedureCode, chrono::NaiveDate), Arc<Procedure>>>,
    agencies: RwLock<HashMap<AgencyCode, Agency>>,
    /// Every agency, for pages that name many (dashboards, the index, open data).
    all_agencies: RwLock<Option<Arc<[Agency]>>>,
    designs: RwLock<HashMap<(ProcedureCode, chrono::NaiveDate), Arc<services::Served>>>,
}

#[derive(Debug, Default)]
struct Lookups {
    levels: Arc<[Level]>,
    life_events: Arc<[LifeEvent]>,
    /// The working-day calendar deadlines are counted on: the statutory rules with the
    /// decrees in the database.
    calendar: Arc<Calendar>,
}

impl App {
    /// Connects the use cases to their store and index and loads the cached lookups.
    /// A server then calls [`App::refresh_index`]; a one-off command need not.
    pub async fn start(
        store: Arc<dyn Store>,
        index: Arc<CatalogueIndex>,
        objects: store::objects::Objects,
    ) -> Result<Self> {
        let app = Self {
            objects,
            upload_limit: files::MAX_UPLOAD_BYTES,
            open_data: Arc::default(),
            eid: None,
            sealer: None,
            scanner: None,
            public_url: Arc::from("http://127.0.0.1:8080"),
            provider: None,
            sandbox: None,
            notifier: Arc::new(notify::Notifier::new(NotifySettings::default())?),
            http: reqwest::Client::new(),
            exchange: None,
            store,
            index,
            lookups: Arc::default(),
            code_template: Arc::new(CodeTemplate::default()),
            lookup_key: Arc::default(),
            cache: Arc::default(),
            public_statuses: Arc::new(
                moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(std::time::Duration::from_secs(
                        dossiers::PUBLIC_STATUS_SECONDS,
                    ))
                    .build(),
            ),
            assistant: Arc::new(RwLock::new(Arc::new(search::assistant::Assistant::new(
                &[],
                &[],
            )))),
            counter_reads: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        };
        app.reload_lookups().await?;
        Ok(app)
    }

    /// Signs citizens in with this national e-ID provider.
    pub fn with_eid(mut self, settings: EidSettings) -> Result<Self> {
        self.eid = Some(Arc::new(eid::Eid::new(settings)?));
        Ok(self)
    }

    /// Where people reach this portal, without a trailing slash; set before
    /// [`App::with_payments`], whose sandbox lives there.
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Scans every upload with this ClamAV daemon.
    pub fn with_virus_scanner(mut self, scanner: VirusScanner) -> Self {
        self.scanner = Some(Arc::new(scanner));
        self
    }

    /// The size limit of one uploaded file.
    pub fn with_upload_limit(mut self, bytes: usize) -> Self {
        self.upload_limit = bytes;
        self
    }

    pub fn upload_limit(&self) -> usize {
        self.upload_limit
    }

    fn lookups(&self) -> Arc<Lookups> {
        self.lookups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The procedure version in force on `day`, from memory when it was read before.
    async fn procedure_on(
        &self,
        code: &ProcedureCode,
        day: chrono::NaiveDate,
    ) -> Result<Option<Arc<Procedure>>> {
        let key = (code.clone(), day);
        if let Some(p) = self
            .cache
            .procedures
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(Some(p.clone()));
        }
        let Some(procedure) = self.store.procedure(code, day).await? else {
            return Ok(None);
        };
        let procedure = Arc::new(procedure);
        self.cache
            .procedures
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, procedure.clone());
        Ok(Some(procedure))
    }

    /// An agency, from memory when it was read before.
    async fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>> {
        if let Some(a) = self
            .cache
            .agencies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
        {
            return Ok(Some(a.clone()));
        }
        let found = self.store.agency(code).await?;
        if let Some(a) = &found {
            self.cache
                .agencies
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(code.clone(), a.clone());
        }
        Ok(found)
    }

    /// Every agency, from memory after the first read (emptied with each catalogue generation).
    pub async fn all_agencies(&self) -> Result<Arc<[Agency]>> {
        if let Some(all) = self
            .cache
            .all_agencies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(all);
        }
        let all: Arc<[Agency]> = self.store.agencies().await?.into();
        *self
            .cache
            .all_agencies
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(all.clone());
        Ok(all)
    }

    async fn reload_lookups(&self) -> Result<()> {
        self.cache
            .procedures
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.cache
            .agencies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.cache
            .designs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self
            .cache
            .all_agencies
            .write()
            .unwrap_or_else(|e| e.into_inner()) = None;
        let mut decrees = self.store.decrees().await?;
        if decrees.is_empty() {
            // A new database starts with the official announcements shipped with motcua.
            decrees = domain::calendar::official_decrees();
            self.store.put_decrees(&decrees).await?;
        }
        let fresh = Lookups {
            levels: self.store.levels().await?.into(),
            life_events: self.store.life_events().await?.into(),
            calendar: Arc::new(Calendar::new(&decrees)),
        };
        *self.lookups.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    /// The working-day calendar in force (statutory rules and the stored decrees).
    pub fn calendar(&self) -> Arc<Calendar> {
        self.lookups().calendar.clone()
    }

    /// Replaces the decrees of the years in a decree file (the shape of the shipped one);
    /// servers pick them up with the next catalogue check.
    pub async fn import_decrees(&self, json: &str) -> Result<Vec<i32>> {
        let decrees = domain::calendar::parse_decrees(json)?;
        self.store.put_decrees(&decrees).await?;
        self.reload_lookups().await?;
        Ok(decrees.iter().map(|d| d.year).collect())
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }
}

/// HMAC-SHA-256 under `key` of the parts, one after the other.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    domain::text::hex(&sha2::Sha256::digest(bytes))
}

/// Today in Vietnam (UTC+7, no daylight saving): the day that decides which procedure
/// version is in force.
pub fn today() -> chrono::NaiveDate {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    chrono::Utc::now().with_timezone(&vietnam).date_naive()
}
