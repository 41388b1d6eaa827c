//! Scheduled jobs that every `serve` node runs: outbox delivery, the deadline check (due soon,
//! overdue, escalation to leaders) and the leaders' daily digest. Each run of the deadline
//! check and each day's digest is claimed in `job_runs` by the first node to insert it, and
//! each notice carries a key, so several nodes send nothing twice. Delivery claims rows
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and holds them under a lease.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use domain::AgencyCode;
use domain::notify::{DigestFigures, Template};
use domain::user::{Role, User};
use store::Outgoing;

use crate::{App, Result, StatsRequest};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Run the jobs on this node.
    pub enabled: bool,
    /// How often the outbox is read.
    pub deliver_every_ms: u64,
    /// How often dossiers are checked against their deadlines.
    pub deadline_every_secs: u64,
    /// A dossier due within this many hours is "due soon".
    pub warn_before_hours: i64,
    /// An overdue dossier is escalated to the leaders after this many hours.
    pub escalate_after_hours: i64,
    /// The hour (Vietnam time) from which yesterday's digest goes to the leaders.
    pub digest_hour: u32,
    /// Delivered notifications are kept this many days, then removed (daily).
    pub keep_notifications_days: i64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            deliver_every_ms: 1000,
            deadline_every_secs: 300,
            warn_before_hours: 24,
            escalate_after_hours: 24,
            digest_hour: 7,
            keep_notifications_days: 365,
        }
    }
}

/// How many held dossiers the deadline check reads at a time.
const DEADLINE_BATCH: i64 = 1000;

/// Who is told about an agency's dossiers, read once per deadline check.
#[derive(Default)]
struct Recipients {
    officials: HashMap<AgencyCode, Vec<String>>,
    leaders: HashMap<AgencyCode, Vec<String>>,
}

impl App {
    /// Runs the jobs until the task is dropped; `node` names this server in the claims.
    pub fn spawn_jobs(&self, settings: JobSettings, node: String) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut deliver = tokio::time::interval(std::time::Duration::from_millis(
                settings.deliver_every_ms.max(10),
            ));
            deliver.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut schedule = tokio::time::interval(std::time::Duration::from_secs(1));
            schedule.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = deliver.tick() => {
                        // A full round may mean more are waiting: go on at once.
                        loop {
                            match app.deliver_due().await {
                                Ok(n) if n as i64 >= crate::notify::ROUND => continue,
                                Ok(_) => break,
                                Err(e) => { tracing::warn!(error = %e, "outbox delivery failed"); break }
                            }
                        }
                    }
                    _ = schedule.tick() => {
                        if let Err(e) = app.run_schedule(&settings, &node, Utc::now()).await {
                            tracing::warn!(error = %e, "a scheduled job failed");
                        }
                    }
                }
            }
        })
    }

    /// Runs the scheduled jobs whose period has come and that no node has claimed yet.
    pub async fn run_schedule(
        &self,
        settings: &JobSettings,
        node: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let every = settings.deadline_every_secs.max(1) as i64;
        let period = (now.timestamp() / every).to_string();
        if self
            .store
            .claim_job("deadlines", &period, node, now)
            .await?
        {
            let written = self.check_deadlines(settings, now).await?;
            tracing::info!(written, "deadline check");
        }
        let vietnam = now.with_timezone(&domain::calendar::vietnam_offset());
        if vietnam.hour() >= settings.digest_hour {
            let day = vietnam.date_naive().to_string();
            if self.store.claim_job("digest", &day, node, now).await? {
                let yesterday = vietnam
                    .date_naive()
                    .pred_opt()
                    .unwrap_or(vietnam.date_naive());
                let sent = self.send_digests(yesterday).await;
                self.release_if_failed("digest", &day, &sent).await?;
                tracing::info!(written = sent?, %yesterday, "daily digest");
            }
            if self.store.claim_job("prune", &day, node, now).await? {
                let keep = Duration::days(settings.keep_notifications_days.max(1));
                let removed = self.prune_outbox(now - keep).await;
                self.release_if_failed("prune", &day, &removed).await?;
                tracing::info!(removed = removed?, "delivered notifications removed");
            }
        }
        Ok(())
    }

    /// Tells the holding agency's handlers and approvers of dossiers due soon or fallen due,
    /// and its leaders (and its parent's) of dossiers overdue past the escalation delay; each
    /// notice once per dossier and deadline. Only deadlines that crossed a line within the
    /// catch-up window (three periods, at least a day) are read, so a run reads the recent
    /// deadlines, not every overdue dossier there is. Returns how many rows were written.
    pub async fn check_deadlines(&self, settings: &JobSettings, now: DateTime<Utc>) -> Result<u64> {
        let catch_up = Duration::seconds((3 * settings.deadline_every_secs as i64).max(86_400));
        let soon = now + Duration::hours(settings.warn_before_hours.max(0));
        let escalate = now - Duration::hours(settings.escalate_after_hours.max(0));
        let mut people = Recipients::default();
        let mut written = 0;
        let mut after = None;
        loop {
            let page = self
                .store
                .held_due_between(escalate.min(now) - catch_up, soon, after, DEADLINE_BATCH)
                .await?;
            let mut notices = Vec::new();
            for dossier in &page {
                let Some(due) = dossier.due_at else { continue };
                let (procedure, _) = self
                    .served_for(&dossier.procedure, dossier.procedure_version)
                    .await?;
                let facts = self.facts(&procedure, dossier).await?;
                let mut add = |people: &[String], template: Template| {
                    let key = format!("{}:{}:{}", template.code(), dossier.code, due.timestamp());
                    notices.extend(people.iter().map(|person| Outgoing {
                        recipient: person.clone(),
                        template,
                        facts: facts.clone(),
                        dossier_code: Some(dossier.code.clone()),
                        dedupe_key: Some(key.clone()),
                    }));
                };
                let crossed = if due > now {
                    Some(Template::DueSoon)
                } else {
                    (due > now - catch_up).then_some(Template::Overdue)
                };
                if let Some(template) = crossed {
                    add(
                        self.officials_of(&mut people, &dossier.agency).await?,
                        template,
                    );
                }
                if due <= escalate && due > escalate - catch_up {
                    add(
                        self.leaders_over(&mut people, &dossier.agency).await?,
                        Template::Escalated,
                    );
                }
            }
            written += self.store.enqueue(&notices, now).await?;
            match page.last() {
                Some(last) if page.len() as i64 == DEADLINE_BATCH => {
                    after = last.due_at.map(|d| (d, last.code.clone()))
                }
                _ => return Ok(written),
            }
        }
    }

    /// An agency's handlers and approvers, read once per run.
    async fn officials_of<'a>(
        &self,
        people: &'a mut Recipients,
        agency: &AgencyCode,
    ) -> Result<&'a [String]> {
        if !people.officials.contains_key(agency) {
            let found = self
                .store
                .agency_people(agency, &[Role::Handler, Role::Approver])
                .await?;
            people.officials.insert(agency.clone(), found);
        }
        Ok(&people.officials[agency])
    }

    /// The leaders of an agency and of its parent, read once per run.
    async fn leaders_over<'a>(
        &self,
        people: &'a mut Recipients,
        agency: &AgencyCode,
    ) -> Result<&'a [String]> {
        if !people.leaders.contains_key(agency) {
            let mut found = self.store.agency_people(agency, &[Role::Leader]).await?;
            if let Some(parent) = self.agency(agency).await?.and_then(|a| a.parent) {
                found.extend(self.store.agency_people(&parent, &[Role::Leader]).await?);
            }
            people.leaders.insert(agency.clone(), found);
        }
        Ok(&people.leaders[agency])
    }

    /// A day's job that failed gives its claim back, so that the next tick runs it again.
    async fn release_if_failed<T>(
        &self,
        job: &str,
        period: &str,
        outcome: &Result<T>,
    ) -> Result<()> {
        if outcome.is_err() {
            self.store.release_job(job, period).await?;
        }
        Ok(())
    }

    /// Removes the delivered and skipped notifications written before `before`.
    pub async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(self.store.prune_notifications(before).await?)
    }

    /// Sends each leader the figures of their agency's subtree for `day`.
    pub async fn send_digests(&self, day: NaiveDate) -> Result<u64> {
        // One read of the leaders, and the figures once per agency: its leaders share them.
        let mut by_agency: HashMap<AgencyCode, Vec<User>> = HashMap::new();
        for leader in self.store.users_with_role(Role::Leader).await? {
            if let Some(agency) = leader.agency.clone() {
                by_agency.entry(agency).or_default().push(leader);
            }
        }
        let mut notices = Vec::new();
        for (code, leaders) in by_agency {
            let Some(agency) = self.agency(&code).await? else {
                continue;
            };
            let figures = self.digest_figures(&leaders[0], day).await?;
            for leader in leaders {
                notices.push(Outgoing {
                    recipient: leader.username,
                    template: Template::Digest,
                    facts: domain::notify::Facts {
                        agency: agency.name.clone(),
                        link: Some(format!("{}/dashboard", self.public_url)),
                        digest: Some(figures.clone()),
                        ..Default::default()
                    },
                    dossier_code: None,
                    dedupe_key: Some(format!("digest:{day}")),
                });
            }
        }
        Ok(self.store.enqueue(&notices, Utc::now()).await?)
    }

    async fn digest_figures(&self, leader: &User, day: NaiveDate) -> Result<DigestFigures> {
        let report = self
            .stats(
                leader,
                StatsRequest {
                    from: Some(day.to_string()),
                    to: Some(day.to_string()),
                    ..Default::default()
                },
            )
            .await?;
        let total = report.groups.into_iter().next().unwrap_or_default();
        Ok(DigestFigures {
            day: day.format("%d/%m/%Y").to_string(),
            received: total.get(domain::stats::Metric::Received),
            resolved: total.resolved(),
            on_time: total.on_time(),
            in_progress: total.in_progress,
            overdue: total.overdue,
        })
    }
}
