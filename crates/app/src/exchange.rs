//! The inter-agency exchange: this instance as a member that answers signed calls to its
//! services and calls other members' services. Every call, accepted or refused, goes into the
//! hash-chained message log before it is answered.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use domain::exchange::{
    self, CLIENT_HEADER, LogEntry, MemberId, MemberKey, NONCE_HEADER, PROVIDER_HEADER, Refusal,
    SIGNATURE_HEADER, TIMESTAMP_HEADER, TIMESTAMP_WINDOW_SECONDS,
};
use domain::user::{Role, User};
use serde::{Deserialize, Serialize};
use store::{Grant, Member, Registry, ServiceOffer};
use tokio::sync::{mpsc, oneshot};

use crate::{App, AppError, Result};

/// Where members answer: `{url}/exchange/v1/{service}`.
pub const EXCHANGE_PATH: &str = "/exchange/v1";
/// How long a node keeps the registry before reading it again; changes made on this node
/// take effect at once.
const REGISTRY_SECONDS: u64 = 2;
/// The most log entries one write takes.
const LOG_BATCH: usize = 2000;

/// The services this instance offers. National-only ones are offered in national mode.
pub const SERVICES: [(&str, &str, bool); 7] = [
    (
        "dossier-status",
        "The status of a dossier held here, by code",
        false,
    ),
    (
        "dossier-results",
        "The signed result documents of a dossier, by code",
        false,
    ),
    (
        "result-file",
        "A signed result document with its content, by the id its QR code names",
        false,
    ),
    (
        "procedure",
        "A procedure's catalogue record (DVCQG format), by code",
        false,
    ),
    (
        "sync-push",
        "Takes a province's dossier-sync records (national mode)",
        true,
    ),
    (
        "national-lookup",
        "The latest sync record of any dossier, by code (national mode)",
        true,
    ),
    (
        "national-stats",
        "The figures of every province (national mode)",
        true,
    ),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeSettings {
    /// This member's agency code; by default the root of the agency tree.
    pub agency: Option<String>,
    pub system: String,
    /// National mode: takes provinces' sync pushes and offers nationwide lookup and figures.
    pub national: bool,
    /// Calls per second each client may make (bursts of as many).
    pub calls_per_second: u32,
    /// Provincial side: the national member to push dossier-sync records to (registered in
    /// this instance's registry with its address and key).
    pub national_member: Option<String>,
    /// Records per push.
    pub push_batch: i64,
    /// Seconds between pushes when nothing is waiting, and the longest wait after a failure.
    pub push_seconds: u64,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        Self {
            agency: None,
            system: "motcua".into(),
            national: false,
            calls_per_second: 5000,
            national_member: None,
            push_batch: 5000,
            push_seconds: 2,
        }
    }
}

type Limiter = governor::DefaultKeyedRateLimiter<String>;

pub(crate) struct Exchange {
    pub(crate) me: MemberId,
    key: MemberKey,
    settings: ExchangeSettings,
    registry: RwLock<(Instant, Arc<View>)>,
    /// Nonces accepted recently by this node; the log's nonce table catches the rest.
    nonces: moka::sync::Cache<(String, String), ()>,
    limiter: Limiter,
    log: mpsc::Sender<LogWrite>,
    claims: mpsc::Sender<NonceClaim>,
}

/// A log entry, whether its nonce is still to be claimed, and where to say it is written.
type LogWrite = (LogEntry, bool, oneshot::Sender<Result<LogEntry>>);

/// Services that change something: their nonce is claimed before they run.
fn writes(service: &str) -> bool {
    matches!(service, "sync-push" | "dossier-results")
}

/// A nonce to claim in the database, and where to say whether it was free.
type NonceClaim = (
    String,
    String,
    chrono::DateTime<Utc>,
    oneshot::Sender<Result<bool>>,
);

/// How many calls may wait for the log (or a nonce claim) before callers wait to queue.
const QUEUE: usize = 16_384;

fn timestamp_time(timestamp: i64) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp(timestamp, 0).unwrap_or_else(Utc::now)
}

#[derive(Default)]
struct View {
    members: HashMap<String, Member>,
    keys: HashMap<String, exchange::PublicKey>,
    grants: HashSet<(String, String)>,
}

impl View {
    fn from(registry: Registry) -> Self {
        Self {
            grants: registry
                .grants
                .into_iter()
                .map(|g| (g.service, g.client))
                .collect(),
            keys: registry
                .members
                .iter()
                .filter_map(|m| {
                    Some((m.member.clone(), exchange::PublicKey::parse(&m.public_key)?))
                })
                .collect(),
            members: registry
                .members
                .into_iter()
                .map(|m| (m.member.clone(), m))
                .collect(),
        }
    }
}

/// A call as it arrived.
#[derive(Debug, Clone)]
pub struct IncomingCall {
    pub method: String,
    /// The service named in the path.
    pub service: String,
    /// The path with its query, as signed.
    pub path: String,
    pub query: HashMap<String, String>,
    /// The exchange headers, by lower-case name.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// A signed answer.
#[derive(Debug, Clone)]
pub struct ExchangeAnswer {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// A page of the message log with where the chain stands.
#[derive(Debug, Clone, Serialize)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    pub head_seq: i64,
    pub head_hash: String,
}

/// What `verify_exchange_log` found.
#[derive(Debug, Clone, Serialize)]
pub struct LogReport {
    pub entries: i64,
    /// The first entry that does not hold together, and why.
    pub broken: Option<(i64, String)>,
}

/// A sync push's body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Push {
    after: i64,
    upto: i64,
    records: serde_json::Value,
}

impl App {
    /// Joins the exchange as `settings` says: the member key (made on first start and kept in
    /// the database), this instance's services in the catalogue, the message log's writer.
    pub async fn with_exchange(mut self, settings: ExchangeSettings) -> Result<Self> {
        let agency = match &settings.agency {
            Some(code) => code.clone(),
            None => largest_root(&self.all_agencies().await?),
        };
        let agency = domain::AgencyCode::parse(&agency)
            .map_err(|e| AppError::invalid("exchange.agency", e.reason))?;
        let me = MemberId::new(agency, &settings.system)
            .map_err(|e| AppError::invalid("exchange.system", e.reason))?;
        let key = self.member_key("exchange_signing_seed").await?;
        for (service, description, national) in SERVICES {
            if !national || settings.national {
                self.store
                    .put_service(&ServiceOffer {
                        provider: me.to_string(),
                        service: service.into(),
                        description: description.into(),
                    })
                    .await?;
            }
        }
        // This instance is a member of its own registry, so its key can be read there.
        self.store
            .put_member(&Member {
                member: me.to_string(),
                name: "this instance".into(),
                public_key: key.public_base64(),
                url: self.public_url().to_owned(),
                added_at: Utc::now(),
            })
            .await?;
        let (log, queue) = mpsc::channel(QUEUE);
        tokio::spawn(write_log(self.store.clone(), queue));
        let (claims, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(claim_nonces(self.store.clone(), waiting));
        let per_second = NonZeroU32::new(settings.calls_per_second.max(1)).expect("at least 1");
        let exchange = Exchange {
            me,
            key,
            registry: RwLock::new((Instant::now() - Duration::from_secs(3600), Arc::default())),
            nonces: moka::sync::Cache::builder()
                .max_capacity(2_000_000)
                .time_to_live(Duration::from_secs(
                    2 * TIMESTAMP_WINDOW_SECONDS as u64 + 10,
                ))
                .build(),
            limiter: governor::RateLimiter::keyed(governor::Quota::per_second(per_second)),
            log,
            claims,
            settings,
        };
        self.exchange = Some(Arc::new(exchange));
        Ok(self)
    }

    /// On a provincial instance (one with a national member set), pushes the sync feed to the
    /// national instance for as long as the process runs.
    pub fn spawn_push(&self) {
        if self
            .exchange
            .as_ref()
            .is_some_and(|x| x.settings.national_member.is_some())
        {
            let pusher = self.clone();
            tokio::spawn(async move { pusher.push_forever().await });
        }
    }

    pub(crate) fn exchange(&self) -> Result<&Arc<Exchange>> {
        self.exchange.as_ref().ok_or_else(|| {
            AppError::Unavailable("the exchange is not set up on this instance".into())
        })
    }

    /// This instance's member name and public key.
    pub fn exchange_identity(&self) -> Result<(String, String)> {
        let x = self.exchange()?;
        Ok((x.me.to_string(), x.key.public_base64()))
    }

    /// A key made from a random secret kept in `meta` under `name`.
    pub(crate) async fn member_key(&self, name: &str) -> Result<MemberKey> {
        use sha2::Digest;
        let secret = self.stored_secret(name).await?;
        Ok(MemberKey::from_seed(
            sha2::Sha256::digest(secret.as_bytes()).into(),
        ))
    }

    /// The registry as this node last read it, re-read when older than [`REGISTRY_SECONDS`].
    async fn registry_now(&self) -> Result<Arc<View>> {
        let x = self.exchange()?;
        let (read_at, view) = x.registry.read().unwrap_or_else(|e| e.into_inner()).clone();
        if read_at.elapsed() < Duration::from_secs(REGISTRY_SECONDS) {
            return Ok(view);
        }
        let view = Arc::new(View::from(self.store.registry().await?));
        *x.registry.write().unwrap_or_else(|e| e.into_inner()) = (Instant::now(), view.clone());
        Ok(view)
    }

    fn forget_registry(&self) {
        if let Ok(x) = self.exchange() {
            x.registry.write().unwrap_or_else(|e| e.into_inner()).0 =
                Instant::now() - Duration::from_secs(3600);
        }
    }

    /// Answers a call to one of this instance's services, signed, after logging it.
    pub async fn exchange_call(&self, call: IncomingCall) -> Result<ExchangeAnswer> {
        let started = Instant::now();
        let x = self.exchange()?.clone();
        let named_client = call.headers.get(CLIENT_HEADER).cloned().unwrap_or_default();
        let nonce = call.headers.get(NONCE_HEADER).cloned().unwrap_or_default();
        let mut claim = false;
        let (status, body, outcome) = match self.admit(&x, &call).await {
            Err(refusal) => (
                refusal.status(),
                refusal_body(&refusal),
                refusal.code().to_owned(),
            ),
            Ok((client, claimed)) => {
                claim = !claimed;
                match self.serve_call(&client, &call).await {
                    Ok(value) => (200, serde_json::to_vec(&value).expect("JSON"), "ok".into()),
                    Err(e) => {
                        let (status, body) = error_body(&e);
                        (status, body, "error".into())
                    }
                }
            }
        };
        let entry = LogEntry {
            seq: 0,
            at: Utc::now(),
            client: named_client.chars().take(200).collect(),
            service: call.service.chars().take(100).collect(),
            nonce: nonce.chars().take(100).collect(),
            status: i32::from(status),
            outcome,
            request_hash: exchange::body_hash(&call.body),
            response_hash: exchange::body_hash(&body),
            millis: started.elapsed().as_millis() as i64,
            prev_hash: String::new(),
            hash: String::new(),
        };
        let (done, logged) = oneshot::channel();
        x.log
            .send((entry, claim, done))
            .await
            .map_err(|_| AppError::Unavailable("the message log is not running".into()))?;
        let logged = logged
            .await
            .map_err(|_| AppError::Unavailable("the message log stopped".into()))??;
        let (status, body) = if logged.outcome == Refusal::Replayed.code() && status != 409 {
            (409, refusal_body(&Refusal::Replayed))
        } else {
            (status, body)
        };
        let at = Utc::now().timestamp();
        let signature = x.key.sign(&exchange::response_message(
            status, &nonce, &body, at, &x.me,
        ));
        Ok(ExchangeAnswer {
            status,
            body,
            headers: vec![
                (PROVIDER_HEADER, x.me.to_string()),
                (TIMESTAMP_HEADER, at.to_string()),
                (SIGNATURE_HEADER, signature),
            ],
        })
    }

    /// The checks of a call, in order; the client it came from when all pass, and whether its
    /// nonce is claimed already.
    async fn admit(
        &self,
        x: &Exchange,
        call: &IncomingCall,
    ) -> std::result::Result<(MemberId, bool), Refusal> {
        let header = |name: &str| {
            call.headers
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Refusal::Unsigned(format!("the {name} header is missing")))
        };
        let client_raw = header(CLIENT_HEADER)?;
        let timestamp_raw = header(TIMESTAMP_HEADER)?;
        let nonce = header(NONCE_HEADER)?;
        let signature = header(SIGNATURE_HEADER)?;
        let client = MemberId::parse(client_raw)
            .map_err(|e| Refusal::Unsigned(format!("{CLIENT_HEADER}: {}", e.reason)))?;
        let timestamp: i64 = timestamp_raw.parse().map_err(|_| {
            Refusal::Unsigned(format!(
                "{TIMESTAMP_HEADER}: '{timestamp_raw}' is not Unix seconds"
            ))
        })?;
        if !exchange::nonce_is_fine(nonce) {
            return Err(Refusal::Unsigned(format!(
                "{NONCE_HEADER}: 16 to 100 letters, digits, '-' or '_'"
            )));
        }
        let view = self
            .registry_now()
            .await
            .map_err(|_| Refusal::UnknownClient(client_raw.to_owned()))?;
        let key = view
            .keys
            .get(&client.to_string())
            .ok_or_else(|| Refusal::UnknownClient(client.to_string()))?;
        let message = exchange::RequestText {
            method: &call.method,
            path: &call.path,
            body: &call.body,
            timestamp,
            nonce,
            client: &client,
            provider: &x.me,
        }
        .message();
        if !key.verify(&message, signature) {
            return Err(Refusal::BadSignature);
        }
        let skew = (Utc::now().timestamp() - timestamp).abs();
        if skew > TIMESTAMP_WINDOW_SECONDS {
            return Err(Refusal::Stale(skew));
        }
        let offered = SERVICES
            .iter()
            .any(|(name, _, national)| *name == call.service && (!national || x.settings.national));
        if !offered {
            return Err(Refusal::UnknownService(call.service.clone()));
        }
        if !view
            .grants
            .contains(&(call.service.clone(), client.to_string()))
        {
            return Err(Refusal::NotGranted {
                service: call.service.clone(),
                client: client.to_string(),
            });
        }
        if x.limiter.check_key(&client.to_string()).is_err() {
            return Err(Refusal::RateLimited);
        }
        // This node's memory first; then the database, which sees every node's. A service
        // that writes claims it before it runs; a read claims it with its log entry, and a
        // replay that reached another node gets its refusal instead of the answer.
        let key = (client.to_string(), nonce.to_owned());
        if !x.nonces.entry(key.clone()).or_insert(()).is_fresh() {
            return Err(Refusal::Replayed);
        }
        if !writes(&call.service) {
            return Ok((client, false));
        }
        let (done, claimed) = oneshot::channel();
        let sent = x
            .claims
            .send((key.0, key.1, timestamp_time(timestamp), done))
            .await;
        match (sent, claimed.await) {
            (Ok(()), Ok(Ok(true))) => {}
            (Ok(()), Ok(Ok(false))) => return Err(Refusal::Replayed),
            _ => return Err(Refusal::Unavailable),
        }
        Ok((client, true))
    }

    async fn serve_call(
        &self,
        client: &MemberId,
        call: &IncomingCall,
    ) -> Result<serde_json::Value> {
        let code = || {
            call.query
                .get("code")
                .filter(|c| !c.trim().is_empty())
                .cloned()
                .ok_or_else(|| AppError::invalid("code", "name the code: ?code="))
        };
        match call.service.as_str() {
            "dossier-status" => json(&self.exchanged_status(&code()?).await?),
            "dossier-results" => json(&self.result_documents(&code()?).await?),
            "result-file" => {
                let id = call
                    .query
                    .get("id")
                    .filter(|c| !c.trim().is_empty())
                    .ok_or_else(|| AppError::invalid("id", "name the signed result: ?id="))?;
                self.result_file(id).await
            }
            "procedure" => {
                let detail = self.procedure(&code()?).await?;
                let levels = self.store.levels().await?;
                json(&domain::catalogue::dvcqg::from_procedure(
                    &detail.procedure,
                    &levels,
                ))
            }
            "sync-push" => {
                let push: Push = serde_json::from_slice(&call.body).map_err(|e| {
                    AppError::invalid(
                        "body",
                        format!("not a sync push {{after, upto, records}}: {e}"),
                    )
                })?;
                json(&self.receive_push(client, push).await?)
            }
            "national-lookup" => json(&self.national_dossier(&code()?).await?),
            "national-stats" => json(&self.national_stats().await?),
            other => Err(AppError::NotFound {
                what: "service",
                id: other.to_owned(),
            }),
        }
    }

    /// A dossier's status for another member: no applicant, no form.
    async fn exchanged_status(&self, code: &str) -> Result<serde_json::Value> {
        let dossier = self
            .store
            .dossier(code)
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "dossier",
                id: code.to_owned(),
            })?;
        let status = dossier.state.status;
        Ok(serde_json::json!({
            "code": dossier.code,
            "procedure": dossier.procedure.to_string(),
            "agency": dossier.agency.to_string(),
            "status": status.code(),
            "national_status": status.national_code(),
            "submitted_at": dossier.submitted_at,
            "received_at": dossier.received_at,
            "due_at": dossier.due_at,
            "ended_at": dossier.ended_at,
        }))
    }

    async fn receive_push(&self, client: &MemberId, push: Push) -> Result<serde_json::Value> {
        if !self.exchange()?.settings.national {
            return Err(AppError::Forbidden(
                "this instance is not in national mode".into(),
            ));
        }
        let bytes = serde_json::to_vec(&push.records).expect("JSON");
        let records = domain::sync::parse_records(&bytes).map_err(AppError::Invalid)?;
        let mut numbered = Vec::with_capacity(records.len());
        for (i, record) in records.into_iter().enumerate() {
            let cursor: i64 = record
                .cursor
                .parse()
                .map_err(|_| AppError::invalid(&format!("[{i}].cursor"), "not a whole number"))?;
            if cursor <= push.after || cursor > push.upto {
                return Err(AppError::invalid(
                    &format!("[{i}].cursor"),
                    format!(
                        "{cursor} is outside the push ({}, {}]",
                        push.after, push.upto
                    ),
                ));
            }
            numbered.push((cursor, record));
        }
        match self
            .store
            .receive_sync(
                &client.to_string(),
                push.after,
                push.upto,
                &numbered,
                Utc::now(),
            )
            .await?
        {
            store::SyncReceipt::Stored { cursor, fresh } => {
                Ok(serde_json::json!({ "cursor": cursor, "fresh": fresh }))
            }
            store::SyncReceipt::Gap { expected } => Err(AppError::Conflict(format!(
                "records after {expected} were never received: push from cursor {expected}"
            ))),
        }
    }

    /// National mode: the latest record of a dossier anywhere, with the province that sent it.
    pub async fn national_dossier(&self, code: &str) -> Result<serde_json::Value> {
        let (province, record) = self
            .store
            .federated_dossier(code.trim())
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "dossier",
                id: code.to_owned(),
            })?;
        let mut value = serde_json::to_value(&record).expect("JSON");
        // The applicant's name stays with the province.
        if let Some(map) = value.as_object_mut() {
            map.remove("ChuHoSo");
            map.insert("province".into(), province.into());
        }
        Ok(value)
    }

    /// National mode: every province's figures, and how far its push has come.
    pub async fn national_stats(&self) -> Result<serde_json::Value> {
        let mut provinces: std::collections::BTreeMap<
            String,
            serde_json::Map<String, serde_json::Value>,
        > = Default::default();
        for cursor in self.store.federation_cursors().await? {
            let entry = provinces.entry(cursor.member.clone()).or_default();
            for metric in domain::sync::NATIONAL_METRICS {
                entry.insert(metric.into(), 0.into());
            }
            entry.insert("cursor".into(), cursor.cursor.into());
            entry.insert("records".into(), cursor.records.into());
            entry.insert(
                "updated_at".into(),
                serde_json::to_value(cursor.updated_at).expect("JSON"),
            );
        }
        for (province, metric, value) in self.store.federated_stats().await? {
            provinces
                .entry(province)
                .or_default()
                .insert(metric, value.into());
        }
        // A province's name as registered, where it is.
        let view = self.registry_now().await.unwrap_or_default();
        Ok(serde_json::json!({
            "provinces": provinces
                .into_iter()
                .map(|(member, mut figures)| {
                    let name = view.members.get(&member).map(|m| m.name.clone());
                    figures.insert("name".into(), name.unwrap_or_default().into());
                    figures.insert("province".into(), member.into());
                    serde_json::Value::Object(figures)
                })
                .collect::<Vec<_>>()
        }))
    }

    /// The members this instance can call (they have an address), other than itself, by id
    /// and name: where a citizen's document can be fetched from.
    pub async fn callable_members(&self) -> Result<Vec<(String, String)>> {
        let me = self.exchange()?.me.to_string();
        let view = self.registry_now().await?;
        let mut members: Vec<_> = view
            .members
            .values()
            .filter(|m| !m.url.is_empty() && m.member != me)
            .map(|m| (m.member.clone(), m.name.clone()))
            .collect();
        members.sort();
        Ok(members)
    }

    /// Calls a member's service, signed as this instance, and checks the answer's signature.
    /// Returns the status and the body.
    pub async fn call_member(
        &self,
        provider: &MemberId,
        service: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value)> {
        let x = self.exchange()?.clone();
        let view = self.registry_now().await?;
        let member = view
            .members
            .get(&provider.to_string())
            .filter(|m| !m.url.is_empty())
            .ok_or_else(|| {
                AppError::invalid(
                    "provider",
                    format!("'{provider}' is not a registered member with an address"),
                )
            })?;
        let mut path = format!("{EXCHANGE_PATH}/{service}");
        if !query.is_empty() {
            path.push('?');
            path.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(query)
                    .finish(),
            );
        }
        let (method, bytes) = match body {
            Some(value) => ("POST", serde_json::to_vec(value).expect("JSON")),
            None => ("GET", Vec::new()),
        };
        let nonce = domain::text::hex(&rand::random::<[u8; 16]>());
        let at = Utc::now().timestamp();
        let signature = x.key.sign(
            &exchange::RequestText {
                method,
                path: &path,
                body: &bytes,
                timestamp: at,
                nonce: &nonce,
                client: &x.me,
                provider,
            }
            .message(),
        );
        let url = format!("{}{path}", member.url.trim_end_matches('/'));
        let request = if method == "POST" {
            self.http
                .post(&url)
                .header("content-type", "application/json")
                .body(bytes)
        } else {
            self.http.get(&url)
        };
        let response = request
            .header(CLIENT_HEADER, x.me.to_string())
            .header(TIMESTAMP_HEADER, at.to_string())
            .header(NONCE_HEADER, &nonce)
            .header(SIGNATURE_HEADER, signature)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| AppError::Unavailable(format!("{provider} did not answer: {e}")))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (answered_by, answered_at, answer_signature) = (
            header(PROVIDER_HEADER),
            header(TIMESTAMP_HEADER),
            header(SIGNATURE_HEADER),
        );
        let bytes = response
            .bytes()
            .await
            .map_err(|e| AppError::Unavailable(format!("{provider} broke off its answer: {e}")))?;
        let at: i64 = answered_at.parse().unwrap_or_default();
        let genuine = answered_by == provider.to_string()
            && exchange::verify(
                &member.public_key,
                &exchange::response_message(status, &nonce, &bytes, at, provider),
                &answer_signature,
            );
        if !genuine {
            return Err(AppError::Unavailable(format!(
                "the answer from {provider} is not signed with its registered key (HTTP {status})"
            )));
        }
        let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Ok((status, value))
    }

    /// Provincial side: pushes the sync feed to the national member, page by page from the
    /// cursor it last accepted, for as long as the process runs.
    async fn push_forever(&self) {
        let mut wait = Duration::from_millis(200);
        loop {
            match self.push_once().await {
                Ok(more) => {
                    wait = Duration::from_millis(200);
                    if more {
                        continue;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the push to the national instance failed");
                    let _ = self
                        .store
                        .record_push(0, 0, Some(&e.to_string()), Utc::now())
                        .await;
                    wait = (wait * 2).min(self.push_pause());
                }
            }
            tokio::time::sleep(wait.min(self.push_pause())).await;
        }
    }

    fn push_pause(&self) -> Duration {
        Duration::from_secs(
            self.exchange
                .as_ref()
                .map_or(2, |x| x.settings.push_seconds.max(1)),
        )
    }

    /// One push; whether more records wait.
    pub async fn push_once(&self) -> Result<bool> {
        let x = self.exchange()?.clone();
        let national = x.settings.national_member.as_deref().ok_or_else(|| {
            AppError::invalid("exchange.national_member", "no national member is set")
        })?;
        let national = MemberId::parse(national).map_err(|e| AppError::Invalid(vec![e]))?;
        let state = self.store.push_state().await?;
        let page = self
            .sync_page(
                &state.cursor.to_string(),
                x.settings.push_batch.clamp(1, crate::MAX_SYNC_PAGE),
            )
            .await?;
        let upto: i64 = page.cursor.parse().unwrap_or(state.cursor);
        if upto <= state.cursor {
            return Ok(false);
        }
        let body = serde_json::json!({
            "after": state.cursor, "upto": upto, "records": page.records,
        });
        let (status, answer) = self
            .call_member(&national, "sync-push", &[], Some(&body))
            .await?;
        match status {
            200 => {
                let accepted = answer["cursor"].as_i64().unwrap_or(upto);
                let fresh = answer["fresh"].as_i64().unwrap_or(0);
                self.store
                    .record_push(accepted, fresh, None, Utc::now())
                    .await?;
                Ok(page.more || accepted < upto)
            }
            409 if answer["detail"]
                .as_str()
                .is_some_and(|d| d.contains("push from cursor")) =>
            {
                // The national side has less than we thought (restored from a backup, say):
                // start again from what it has.
                let expected = answer["detail"]
                    .as_str()
                    .and_then(|d| d.rsplit(' ').next())
                    .and_then(|n| n.parse::<i64>().ok())
                    .unwrap_or(0);
                self.store.rewind_push(expected).await?;
                Ok(true)
            }
            _ => Err(AppError::Unavailable(format!(
                "the national instance refused the push (HTTP {status}): {}",
                answer["detail"]
                    .as_str()
                    .or(answer["title"].as_str())
                    .unwrap_or("")
            ))),
        }
    }

    /// The provincial push's progress.
    pub async fn push_state(&self) -> Result<store::PushState> {
        Ok(self.store.push_state().await?)
    }

    fn check_exchange_admin(actor: &User) -> Result<()> {
        if actor.role == Role::SystemAdmin {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "the exchange registry is kept by system administrators".into(),
            ))
        }
    }

    /// The registry, with this instance's figures since `since` (yyyy-mm-dd).
    pub async fn exchange_registry(&self, actor: &User) -> Result<Registry> {
        if !matches!(actor.role, Role::SystemAdmin | Role::Auditor) {
            return Err(AppError::Forbidden(
                "the exchange registry is for system administrators and auditors".into(),
            ));
        }
        Ok(self.store.registry().await?)
    }

    /// Adds or updates a member.
    pub async fn register_member(
        &self,
        actor: &User,
        member: &str,
        name: &str,
        public_key: &str,
        url: &str,
    ) -> Result<()> {
        Self::check_exchange_admin(actor)?;
        self.privileged(
            actor,
            "exchange_member_registered",
            serde_json::json!({
                "member": member, "url": url, "public_key": public_key,
            }),
            false,
        )
        .await?;
        self.put_member(member, name, public_key, url).await
    }

    /// `register_member` for the operator's command line.
    pub async fn put_member(
        &self,
        member: &str,
        name: &str,
        public_key: &str,
        url: &str,
    ) -> Result<()> {
        let mut problems = Vec::new();
        let id = MemberId::parse(member).map_err(|e| problems.push(e)).ok();
        if let Err(e) = exchange::check_public_key(public_key) {
            problems.push(e);
        }
        if name.trim().is_empty() || name.chars().count() > 200 {
            problems.push(domain::InvalidField::bilingual(
                "name",
                "give the member's name, up to 200 characters",
                "nhập tên thành viên, tối đa 200 ký tự",
            ));
        }
        let url = url.trim();
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(domain::InvalidField::bilingual(
                "url",
                "an address starting with https:// (or http:// on a private network), or empty",
                "địa chỉ bắt đầu bằng https:// (hoặc http:// trong mạng nội bộ), hoặc để trống",
            ));
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let id = id.expect("checked");
        self.store
            .put_member(&Member {
                member: id.to_string(),
                name: name.trim().to_owned(),
                public_key: public_key.trim().to_owned(),
                url: url.to_owned(),
                added_at: Utc::now(),
            })
            .await?;
        self.forget_registry();
        Ok(())
    }

    pub async fn unregister_member(&self, actor: &User, member: &str) -> Result<()> {
        Self::check_exchange_admin(actor)?;
        self.privileged(
            actor,
            "exchange_member_removed",
            serde_json::json!({ "member": member }),
            false,
        )
        .await?;
        if !self.store.remove_member(member).await? {
            return Err(AppError::NotFound {
                what: "member",
                id: member.to_owned(),
            });
        }
        self.forget_registry();
        Ok(())
    }

    /// Lets `client` call `service`.
    pub async fn grant_service(&self, actor: &User, service: &str, client: &str) -> Result<()> {
        Self::check_exchange_admin(actor)?;
        self.privileged(
            actor,
            "exchange_grant_added",
            serde_json::json!({
                "service": service, "client": client,
            }),
            false,
        )
        .await?;
        self.put_grant(service, client, &actor.username).await
    }

    /// `grant_service` for the operator's command line.
    pub async fn put_grant(&self, service: &str, client: &str, by: &str) -> Result<()> {
        if !SERVICES.iter().any(|(name, _, _)| *name == service) {
            return Err(AppError::invalid(
                "service",
                format!(
                    "'{service}' is not a service of this instance: {}",
                    SERVICES.map(|s| s.0).join(", ")
                ),
            ));
        }
        let client = MemberId::parse(client).map_err(|e| AppError::Invalid(vec![e]))?;
        self.store
            .put_grant(&Grant {
                service: service.into(),
                client: client.to_string(),
                granted_by: by.into(),
                granted_at: Utc::now(),
            })
            .await?;
        self.forget_registry();
        Ok(())
    }

    pub async fn revoke_service(&self, actor: &User, service: &str, client: &str) -> Result<()> {
        Self::check_exchange_admin(actor)?;
        self.privileged(
            actor,
            "exchange_grant_removed",
            serde_json::json!({
                "service": service, "client": client,
            }),
            false,
        )
        .await?;
        if !self.store.remove_grant(service, client).await? {
            return Err(AppError::NotFound {
                what: "grant",
                id: format!("{service} → {client}"),
            });
        }
        self.forget_registry();
        Ok(())
    }

    /// The operator's view of the message log: entries after `after` (or the newest when
    /// `after` is none), with the chain's head.
    pub async fn exchange_log(
        &self,
        actor: &User,
        after: Option<i64>,
        limit: i64,
    ) -> Result<LogPage> {
        if !matches!(actor.role, Role::SystemAdmin | Role::Auditor) {
            return Err(AppError::Forbidden(
                "the message log is for system administrators and auditors".into(),
            ));
        }
        if !(1..=1000).contains(&limit) {
            return Err(AppError::invalid("limit", "from 1 to 1000 entries"));
        }
        let entries = match after {
            Some(after) => self.store.exchange_log(after, limit).await?,
            None => self.store.recent_exchange_log(limit).await?,
        };
        let (head_seq, head_hash) = self.store.exchange_head().await?;
        Ok(LogPage {
            entries,
            head_seq,
            head_hash,
        })
    }

    /// The figures per service and client since `since` (yyyy-mm-dd).
    pub async fn exchange_figures(
        &self,
        actor: &User,
        since: &str,
    ) -> Result<Vec<store::ServiceFigures>> {
        if !matches!(actor.role, Role::SystemAdmin | Role::Auditor) {
            return Err(AppError::Forbidden(
                "the exchange figures are for system administrators and auditors".into(),
            ));
        }
        chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d").map_err(|_| {
            AppError::invalid("since", format!("'{since}' is not a day as yyyy-mm-dd"))
        })?;
        Ok(self.store.exchange_figures(since).await?)
    }

    /// Checks the whole message log against its head, in pages.
    pub async fn verify_exchange_log(&self) -> Result<LogReport> {
        let (head_seq, head_hash) = self.store.exchange_head().await?;
        let mut prev = domain::dossier::chain::GENESIS.to_owned();
        let mut next = 1;
        // Up to the head as read first: entries appended meanwhile are for the next check.
        while next <= head_seq {
            let limit = (head_seq - next + 1).min(5000);
            let page = self.store.exchange_log(next - 1, limit).await?;
            if page.is_empty() {
                break;
            }
            if let Err(broken) = exchange::verify_log(&page, next, &prev) {
                return Ok(LogReport {
                    entries: next - 1,
                    broken: Some(broken),
                });
            }
            prev = page.last().expect("not empty").hash.clone();
            next += page.len() as i64;
        }
        let broken = (next - 1 != head_seq || prev != head_hash).then(|| {
            (
                next,
                format!("the log ends at {} but its head says {head_seq}", next - 1),
            )
        });
        Ok(LogReport {
            entries: next - 1,
            broken,
        })
    }
}

/// The root of the agency tree with the most agencies under it: the province an instance
/// serves (a ministry's office on the tree is a smaller root).
fn largest_root(agencies: &[domain::Agency]) -> String {
    let parents: HashMap<&str, &str> = agencies
        .iter()
        .filter_map(|a| Some((a.code.as_str(), a.parent.as_ref()?.as_str())))
        .collect();
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for a in agencies {
        let mut code = a.code.as_str();
        // Bounded, should the tree hold a cycle.
        for _ in 0..agencies.len() {
            match parents.get(code) {
                Some(parent) => code = parent,
                None => break,
            }
        }
        *sizes.entry(code).or_default() += 1;
    }
    sizes
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map_or_else(|| "000.00.00.A01".into(), |(code, _)| code.to_owned())
}

/// Writes the log in batches: each call waits for its entry to be committed.
async fn write_log(store: Arc<dyn store::Store>, mut queue: mpsc::Receiver<LogWrite>) {
    let mut batch = Vec::with_capacity(LOG_BATCH);
    let mut purged = Instant::now();
    while queue.recv_many(&mut batch, LOG_BATCH).await > 0 {
        // Nonces older than the window guard nothing: their timestamps are refused anyway.
        if purged.elapsed() > Duration::from_secs(600) {
            purged = Instant::now();
            let before = Utc::now() - chrono::Duration::seconds(2 * TIMESTAMP_WINDOW_SECONDS);
            if let Err(e) = store.purge_nonces(before).await {
                tracing::warn!(error = %e, "old exchange nonces could not be removed");
            }
        }
        let mut entries = Vec::with_capacity(batch.len());
        let mut claims = Vec::new();
        let mut waiting = Vec::with_capacity(batch.len());
        for (i, (entry, claim, done)) in batch.drain(..).enumerate() {
            if claim {
                claims.push(i);
            }
            entries.push(entry);
            waiting.push(done);
        }
        match store.append_exchange_log(entries, &claims).await {
            Ok(sealed) => {
                for (entry, done) in sealed.into_iter().zip(waiting) {
                    let _ = done.send(Ok(entry));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the exchange log could not be written");
                for done in waiting {
                    let _ = done.send(Err(AppError::Unavailable(format!(
                        "the message log could not be written: {e}"
                    ))));
                }
            }
        }
    }
}

/// Claims nonces in batches: each call waits for its own answer.
async fn claim_nonces(store: Arc<dyn store::Store>, mut queue: mpsc::Receiver<NonceClaim>) {
    let mut batch = Vec::with_capacity(LOG_BATCH);
    while queue.recv_many(&mut batch, LOG_BATCH).await > 0 {
        let claims: Vec<(String, String, chrono::DateTime<Utc>)> = batch
            .iter()
            .map(|(client, nonce, at, _)| (client.clone(), nonce.clone(), *at))
            .collect();
        match store.claim_nonces(&claims).await {
            Ok(free) => {
                let mut free: HashSet<(String, String)> = free.into_iter().collect();
                for (client, nonce, _, done) in batch.drain(..) {
                    // Taken out as it is answered: the same nonce twice in one batch is free once.
                    let _ = done.send(Ok(free.remove(&(client, nonce))));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "exchange nonces could not be claimed");
                for (_, _, _, done) in batch.drain(..) {
                    let _ = done.send(Err(AppError::Unavailable(e.to_string())));
                }
            }
        }
    }
}

fn refusal_body(refusal: &Refusal) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": format!("urn:motcua:exchange:{}", refusal.code()),
        "title": refusal.english(),
        "title_vi": refusal.vietnamese(),
        "status": refusal.status(),
        "code": refusal.code(),
    }))
    .expect("JSON")
}

/// A service's error as problem+json, as the API answers it.
fn error_body(e: &AppError) -> (u16, Vec<u8>) {
    let (status, title, title_vi) = match e {
        AppError::NotFound { .. } => (404, "Not found", "Không tìm thấy"),
        AppError::Invalid(_) | AppError::Catalogue(_) => {
            (400, "Invalid request", "Yêu cầu không hợp lệ")
        }
        AppError::Conflict(_) => (409, "Conflict", "Xung đột"),
        AppError::Forbidden(_) => (403, "Forbidden", "Không được phép"),
        _ => (503, "Unavailable", "Tạm thời không phục vụ được"),
    };
    if status == 503 {
        tracing::error!(error = %e, "an exchange service failed");
    }
    let detail = if status == 503 {
        "try again later".to_owned()
    } else {
        e.to_string()
    };
    let invalid: Vec<serde_json::Value> = match e {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| serde_json::json!({ "name": f.field, "reason": f.reason }))
            .collect(),
        _ => Vec::new(),
    };
    let body = serde_json::json!({
        "type": "about:blank", "title": title, "title_vi": title_vi, "status": status,
        "detail": detail, "invalid_params": invalid,
    });
    (status, serde_json::to_vec(&body).expect("JSON"))
}

fn json(answer: &impl Serialize) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(answer).expect("answers serialise"))
}
