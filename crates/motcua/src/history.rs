//! `motcua generate dossiers`: realistic dossier histories in bulk for scale benchmarks. Each
//! dossier gets a sealed event chain (submitted, then refused, withdrawn, or received, maybe
//! sent on to the agency above (liên thông), maybe asked for a supplement, resolved early, on
//! time or late, returned and rated; recent ones still in progress), and the counters those events give, written agency by agency in one
//! transaction each. `motcua stats verify` and `motcua audit verify` accept the result.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use domain::dossier::{Action, Dossier, DossierState, EventRecord, Status};
use domain::stats::CounterKey;
use domain::user::{Role, User};
use domain::{AgencyCode, Channel, ProcedureCode};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use store::{HistoryBatch, Store};

/// How many citizens the generated dossiers belong to.
const CITIZENS: usize = 2000;
/// How many procedures one agency handles (agencies handle a few procedures most of the time).
const PROCEDURES_PER_AGENCY: usize = 40;

/// What was written.
pub struct Generated {
    pub dossiers: u64,
    pub events: u64,
    pub agencies: usize,
}

/// Writes about `count` dossiers submitted over the last `days` days, spread over every
/// agency; `progress` is told after each agency.
pub async fn dossiers(
    store: &dyn Store,
    count: u64,
    days: i64,
    seed: u64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<Generated> {
    let mut rng = StdRng::seed_from_u64(seed);
    let agencies = store.agencies().await?;
    anyhow::ensure!(
        !agencies.is_empty(),
        "import agencies first (motcua import)"
    );
    let procedures: Vec<(ProcedureCode, chrono::NaiveDate)> = store
        .current_procedures(app::today())
        .await?
        .into_iter()
        .map(|p| (p.code, p.effective_from))
        .collect();
    anyhow::ensure!(
        !procedures.is_empty(),
        "import procedures first (motcua import)"
    );
    let citizens: Vec<User> = (0..CITIZENS)
        .map(|i| User {
            username: format!("gen-citizen-{i:04}"),
            full_name: format!("Công dân {i:04}"),
            role: Role::Citizen,
            agency: None,
            assurance: Default::default(),
        })
        .collect();
    store.upsert_users(&citizens).await?;
    // A leader for each top agency, for dashboard benchmarks.
    let leaders: Vec<User> = agencies
        .iter()
        .filter(|a| a.parent.is_none())
        .map(|a| User {
            username: format!("gen-leader-{}", a.code),
            full_name: format!("Lãnh đạo {}", a.name),
            role: Role::Leader,
            agency: Some(a.code.clone()),
            assurance: Default::default(),
        })
        .collect();
    store.upsert_users(&leaders).await?;

    let now = Utc::now();
    let per_agency = count / agencies.len() as u64;
    let mut written = Generated {
        dossiers: 0,
        events: 0,
        agencies: agencies.len(),
    };
    for (a, agency) in agencies.iter().enumerate() {
        // The last agency takes what division left over.
        let n = if a + 1 == agencies.len() {
            count - written.dossiers
        } else {
            // Busier and quieter agencies, the same total.
            let spread = rng.random_range(0.5..1.5);
            ((per_agency as f64 * spread) as u64).min(count - written.dossiers)
        };
        let handled: Vec<&(ProcedureCode, chrono::NaiveDate)> = procedures
            .choose_multiple(&mut rng, PROCEDURES_PER_AGENCY)
            .collect();
        let mut batch = HistoryBatch::default();
        let mut counters: BTreeMap<CounterKey, i64> = BTreeMap::new();
        for i in 0..n {
            let (procedure, version) = *handled.choose(&mut rng).expect("procedures");
            let submitted = now - Duration::minutes(rng.random_range(0..days * 24 * 60));
            let citizen = &citizens[rng.random_range(0..CITIZENS)];
            let (dossier, events) = history(
                &mut rng,
                format!("{}-G{seed:02}{i:08}", agency.code),
                &agency.code,
                agency.parent.as_ref(),
                procedure,
                *version,
                &citizen.username,
                submitted,
                now,
            );
            for (key, value) in domain::stats::replay(&dossier.procedure, dossier.channel, &events)
            {
                *counters.entry(key).or_insert(0) += value;
            }
            batch.events.extend(events);
            batch.dossiers.push(dossier);
        }
        counters.retain(|_, v| *v != 0);
        batch.counters = counters;
        written.dossiers += batch.dossiers.len() as u64;
        written.events += batch.events.len() as u64;
        store.load_history(&batch).await?;
        progress(written.dossiers);
    }
    Ok(written)
}

/// One dossier's life up to `now`.
#[allow(clippy::too_many_arguments)]
fn history(
    rng: &mut StdRng,
    code: String,
    agency: &AgencyCode,
    above: Option<&AgencyCode>,
    procedure: &ProcedureCode,
    version: chrono::NaiveDate,
    applicant: &str,
    submitted: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Dossier, Vec<EventRecord>) {
    let channel = match rng.random_range(0..100) {
        0..45 => Channel::Online,
        45..95 => Channel::InPerson,
        _ => Channel::Postal,
    };
    let mut chain = Chain {
        code: code.clone(),
        agency: agency.to_string(),
        events: Vec::new(),
        status: Status::Draft,
        at: submitted,
    };
    let mut dossier = Dossier {
        code,
        procedure: procedure.clone(),
        procedure_version: version,
        agency: agency.clone(),
        channel,
        applicant: applicant.to_string(),
        state: DossierState::draft(),
        form: serde_json::json!({}),
        submitted_at: submitted,
        received_at: None,
        due_at: None,
        paused_at: None,
        ended_at: None,
        version: 0,
        event_count: 0,
        last_event_hash: String::new(),
    };
    chain.push(Action::Submit, Status::Submitted, 0, "{}", now);
    let fate = rng.random_range(0..100);
    let hours = |rng: &mut StdRng, low: i64, high: i64| {
        Duration::minutes(rng.random_range(low * 60..high * 60))
    };
    if fate < 3 {
        let delay = hours(rng, 1, 48);
        chain.push(
            Action::Withdraw,
            Status::Withdrawn,
            delay.num_minutes(),
            "{}",
            now,
        );
    } else if fate < 7 {
        let delay = hours(rng, 1, 24);
        chain.push(
            Action::Refuse,
            Status::Refused,
            delay.num_minutes(),
            r#"{"reason":"Hồ sơ không thuộc thẩm quyền"}"#,
            now,
        );
        dossier.ended_at = chain.last_at();
    } else {
        let delay = hours(rng, 1, 24);
        let received = chain.at + delay;
        let mut due = received + Duration::days(rng.random_range(3..20));
        let payload = serde_json::json!({"due_at": due.to_rfc3339()}).to_string();
        if chain.push(
            Action::Receive,
            Status::Received,
            delay.num_minutes(),
            &payload,
            now,
        ) {
            dossier.received_at = Some(received);
            dossier.due_at = Some(due);
        }
        let delay = hours(rng, 2, 72);
        let mut steps = u32::from(chain.push(
            Action::CompleteStep,
            Status::InProgress,
            delay.num_minutes(),
            "{}",
            now,
        ));
        // About one in eight goes on to the agency above for its step (liên thông), and is
        // resolved there; the code keeps the receiving agency.
        if let Some(above) = above
            && steps == 1
            && rng.random_range(0..100) < 12
        {
            let delay = hours(rng, 2, 48);
            let payload = serde_json::json!({ "to_agency": above.to_string() }).to_string();
            if chain.push(
                Action::CompleteStep,
                Status::InProgress,
                delay.num_minutes(),
                &payload,
                now,
            ) {
                steps += 1;
                chain.agency = above.to_string();
                dossier.agency = above.clone();
            }
        }
        dossier.state.steps_done = steps;
        if rng.random_range(0..100) < 10 {
            let asked = hours(rng, 4, 96);
            chain.push(
                Action::RequestSupplement,
                Status::SupplementRequested,
                asked.num_minutes(),
                r#"{"reason":"Bổ sung giấy tờ"}"#,
                now,
            );
            let paused = hours(rng, 4, 120);
            due += paused;
            let payload = serde_json::json!({"due_at": due.to_rfc3339()}).to_string();
            if chain.push(
                Action::Supplement,
                Status::InProgress,
                paused.num_minutes(),
                &payload,
                now,
            ) {
                dossier.due_at = Some(due);
            }
        }
        // Most resolve before their deadline; some after it.
        let resolve_at = if rng.random_range(0..100) < 88 {
            received + (due - received) * rng.random_range(20..100) / 100
        } else {
            due + hours(rng, 2, 240)
        };
        let wait = (resolve_at - chain.at).num_minutes().max(1);
        if chain.push(Action::Resolve, Status::Resolved, wait, "{}", now) {
            dossier.ended_at = chain.last_at();
            let delay = hours(rng, 1, 72);
            if rng.random_range(0..100) < 92
                && chain.push(
                    Action::Return,
                    Status::Returned,
                    delay.num_minutes(),
                    "{}",
                    now,
                )
                && rng.random_range(0..100) < 30
            {
                let satisfaction = if rng.random_range(0..100) < 88 {
                    "satisfied"
                } else {
                    "dissatisfied"
                };
                let payload = serde_json::json!({ "satisfaction": satisfaction }).to_string();
                if chain.push(Action::Rate, Status::Returned, 30, &payload, now) {
                    dossier.state.rated = true;
                }
            }
        }
    }
    dossier.state.status = chain.status;
    dossier.state.supplement_requests = chain
        .events
        .iter()
        .filter(|e| e.action == Action::RequestSupplement)
        .count() as u32;
    dossier.event_count = chain.events.len() as i64;
    dossier.version = dossier.event_count;
    dossier.last_event_hash = chain
        .events
        .last()
        .map(|e| e.hash.clone())
        .unwrap_or_default();
    (dossier, chain.events)
}

/// The events so far, sealed one to the next.
struct Chain {
    code: String,
    agency: String,
    events: Vec<EventRecord>,
    status: Status,
    at: DateTime<Utc>,
}

impl Chain {
    /// Adds an event `minutes` after the last one, unless that is after `now`; says whether
    /// it did (a dossier's life stops at the present).
    fn push(
        &mut self,
        action: Action,
        to: Status,
        minutes: i64,
        payload: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let at = if self.events.is_empty() {
            self.at
        } else {
            self.at + Duration::minutes(minutes)
        };
        if at > now {
            return false;
        }
        let prev = self
            .events
            .last()
            .map_or(domain::dossier::chain::GENESIS.to_string(), |e| {
                e.hash.clone()
            });
        let event = EventRecord {
            dossier_code: self.code.clone(),
            sequence: self.events.len() as u64 + 1,
            at,
            actor: "generator".into(),
            agency: Some(self.agency.clone()),
            action,
            from_status: self.status,
            to_status: to,
            payload: payload.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        }
        .sealed(&prev);
        self.events.push(event);
        self.status = to;
        self.at = at;
        true
    }

    fn last_at(&self) -> Option<DateTime<Utc>> {
        self.events.last().map(|e| e.at)
    }
}
