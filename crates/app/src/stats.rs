//! Statistics for leaders: figures for an agency subtree and a period, summed from the
//! counters the events keep; and the operator's check and repair of those counters.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use domain::stats::{CounterKey, Metric};
use domain::user::{Role, User};
use domain::{AgencyCode, Channel, ProcedureCode};
use std::collections::BTreeSet;
use store::{StatsGroup, StatsQuery};

use crate::{App, AppError, Result};

/// The longest period one request may cover.
pub const MAX_PERIOD_DAYS: i64 = 3660;

/// A statistics request as it arrives: every part optional and unparsed.
#[derive(Debug, Clone, Default)]
pub struct StatsRequest {
    pub agency: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// total (default), agency, level, procedure, channel or month.
    pub group: Option<String>,
    pub procedure: Option<String>,
    /// A sector's name as the catalogue gives it (lĩnh vực).
    pub sector: Option<String>,
    pub channel: Option<String>,
}

/// The figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub group: String,
    /// What happened in the period.
    pub counts: BTreeMap<Metric, i64>,
    /// Dossiers held now (not in the period): in progress within their deadline, in progress
    /// past it, and waiting for a supplement.
    pub in_progress: i64,
    pub overdue: i64,
    pub awaiting_supplement: i64,
}

/// One period's figures split as a dashboard shows them; each map by its group's name.
#[derive(Debug, Clone)]
pub struct Breakdown {
    pub agency: AgencyCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: Figures,
    pub by_month: BTreeMap<String, Figures>,
    pub by_level: BTreeMap<String, Figures>,
    pub by_agency: BTreeMap<String, Figures>,
}

fn entry<'a>(groups: &'a mut BTreeMap<String, Figures>, group: &str) -> &'a mut Figures {
    groups.entry(group.to_string()).or_insert_with(|| Figures {
        group: group.to_string(),
        ..Figures::default()
    })
}

impl Figures {
    /// Adds held dossiers to the in-progress, overdue or awaiting figure.
    fn add_holding(&mut self, row: &store::HoldingRow) {
        match (row.metric, row.overdue) {
            (Metric::AwaitingSupplement, _) => self.awaiting_supplement += row.value,
            (_, true) => self.overdue += row.value,
            (_, false) => self.in_progress += row.value,
        }
    }

    pub fn get(&self, metric: Metric) -> i64 {
        self.counts.get(&metric).copied().unwrap_or(0)
    }

    /// Resolved, whatever the timing.
    pub fn resolved(&self) -> i64 {
        [
            Metric::ResolvedEarly,
            Metric::ResolvedOnTime,
            Metric::ResolvedLate,
            Metric::ResolvedUndated,
        ]
        .iter()
        .map(|m| self.get(*m))
        .sum()
    }

    /// Resolved early or on time.
    pub fn on_time(&self) -> i64 {
        self.get(Metric::ResolvedEarly) + self.get(Metric::ResolvedOnTime)
    }

    /// Held now and being processed, overdue or not.
    pub fn unresolved(&self) -> i64 {
        self.in_progress + self.overdue
    }

    /// Resolved against a deadline: what early, on time and late are shares of.
    pub fn judged(&self) -> i64 {
        self.resolved() - self.get(Metric::ResolvedUndated)
    }

    /// On time (early included) out of those judged against a deadline, in percent.
    pub fn on_time_rate(&self) -> Option<f64> {
        let judged = self.judged();
        (judged > 0).then(|| 100.0 * self.on_time() as f64 / judged as f64)
    }
}

#[derive(Debug, Clone)]
pub struct StatsReport {
    pub agency: AgencyCode,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub groups: Vec<Figures>,
}

/// Where the stored counters and the event log disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterDifference {
    /// The counter, as `day agency procedure channel metric` or `month agency metric`.
    pub counter: String,
    pub stored: i64,
    pub from_events: i64,
}

impl App {
    /// Figures for an agency subtree and period, for leaders and those above them; an agency
    /// outside the reader's subtree is refused.
    pub async fn stats(&self, actor: &User, request: StatsRequest) -> Result<StatsReport> {
        let query = self.leader_query(actor, request).await?;
        self.run_stats(query).await
    }

    /// A leader's request as a query over a subtree they may read.
    /// The role is checked before the request is read: a role without statistics learns
    /// nothing from how its request would have been answered.
    async fn leader_query(&self, actor: &User, request: StatsRequest) -> Result<StatsQuery> {
        if !matches!(
            actor.role,
            Role::Leader | Role::AgencyAdmin | Role::SystemAdmin | Role::Auditor
        ) {
            return Err(AppError::Forbidden(format!(
                "statistics are for leaders; the {} role does not see them",
                actor.role.code()
            )));
        }
        let query = self.stats_query(request, actor.agency.clone()).await?;
        self.may_read_stats(actor, &query.root).await?;
        Ok(query)
    }

    /// Within the reader's agency subtree.
    async fn may_read_stats(&self, actor: &User, root: &AgencyCode) -> Result<()> {
        if !self.within_subtree(actor, root).await? {
            return Err(AppError::Forbidden(format!(
                "{root} is outside your agency's subtree"
            )));
        }
        Ok(())
    }

    /// A public request as a query (counters hold no personal data); without an agency,
    /// over the first province.
    async fn public_query(&self, request: StatsRequest) -> Result<StatsQuery> {
        if matches!(request.group.as_deref(), Some("procedure" | "channel")) {
            return Err(AppError::invalid(
                "group",
                "the public figures are grouped by agency or month",
            ));
        }
        let named = request.agency.as_deref().is_some_and(|a| !a.is_empty());
        let province = if named {
            None
        } else {
            self.all_agencies()
                .await?
                .iter()
                .find(|a| a.parent.is_none() && a.level == "province")
                .map(|a| a.code.clone())
        };
        self.stats_query(request, province).await
    }

    /// A period's figures in total, by month, by level and by agency, from one read of the
    /// counters (grouped by agency and month) and one of the holdings (by agency): what a
    /// dashboard shows. `reader` is a leader, or `None` for the public figures.
    pub async fn breakdown(
        &self,
        reader: Option<&User>,
        request: StatsRequest,
    ) -> Result<Breakdown> {
        let request = StatsRequest {
            group: Some("agency".into()),
            ..request
        };
        let by_agency = match reader {
            Some(actor) => self.leader_query(actor, request).await?,
            None => self.public_query(request).await?,
        };
        let by_agency_month = StatsQuery {
            group: StatsGroup::AgencyMonth,
            ..by_agency.clone()
        };
        let turn = self.counter_reads.acquire().await.ok();
        let (rows, held) = tokio::try_join!(
            self.store.stats(&by_agency_month),
            self.store.holdings(&by_agency, crate::today())
        )?;
        drop(turn);
        let agencies = self.all_agencies().await?;
        let level_of: std::collections::HashMap<&str, &str> = agencies
            .iter()
            .map(|a| (a.code.as_str(), a.level.as_str()))
            .collect();
        let mut split = Breakdown {
            agency: by_agency.root.clone(),
            from: by_agency.from,
            to: by_agency.to,
            total: Figures::default(),
            by_month: BTreeMap::new(),
            by_level: BTreeMap::new(),
            by_agency: BTreeMap::new(),
        };
        for row in rows {
            let (agency, month) = row.group.split_once(' ').unwrap_or((&row.group, ""));
            let level = level_of.get(agency).copied().unwrap_or_default();
            for figures in [
                &mut split.total,
                entry(&mut split.by_month, month),
                entry(&mut split.by_level, level),
                entry(&mut split.by_agency, agency),
            ] {
                *figures.counts.entry(row.metric).or_insert(0) += row.value;
            }
        }
        for row in held {
            let level = level_of
                .get(row.group.as_str())
                .copied()
                .unwrap_or_default();
            for figures in [
                &mut split.total,
                entry(&mut split.by_level, level),
                entry(&mut split.by_agency, &row.group),
            ] {
                figures.add_holding(&row);
            }
        }
        Ok(split)
    }

    /// Checks a request and turns it into a query; `default_agency` when it names none.
    async fn stats_query(
        &self,
        request: StatsRequest,
        default_agency: Option<AgencyCode>,
    ) -> Result<StatsQuery> {
        let mut errors = Vec::new();
        let today = crate::today();
        let date =
            |field: &str, raw: &Option<String>, default: NaiveDate, errors: &mut Vec<_>| match raw
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
            {
                None => default,
                Some(r) => NaiveDate::parse_from_str(r, "%Y-%m-%d").unwrap_or_else(|_| {
                    errors.push(domain::InvalidField::new(
                        field,
                        format!("'{r}' is not a date like 2026-01-31"),
                    ));
                    default
                }),
            };
        let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
        let from = date("from", &request.from, year_start, &mut errors);
        let to = date("to", &request.to, today, &mut errors);
        if errors.is_empty() && to < from {
            errors.push(domain::InvalidField::new(
                "to",
                format!("the period ends ({to}) before it starts ({from})"),
            ));
        }
        if errors.is_empty() && (to - from).num_days() > MAX_PERIOD_DAYS {
            errors.push(domain::InvalidField::new(
                "to",
                format!("a period may cover at most {MAX_PERIOD_DAYS} days"),
            ));
        }
        let group = match request.group.as_deref().unwrap_or("total") {
            "total" => StatsGroup::Total,
            "agency" => StatsGroup::Agency,
            "level" => StatsGroup::Level,
            "procedure" => StatsGroup::Procedure,
            "channel" => StatsGroup::Channel,
            "month" => StatsGroup::Month,
            other => {
                errors.push(domain::InvalidField::new(
                    "group",
                    format!(
                        "'{other}' is not one of total, agency, level, procedure, channel, month"
                    ),
                ));
                StatsGroup::Total
            }
        };
        let mut procedures = match request.procedure.as_deref().filter(|p| !p.is_empty()) {
            None => Vec::new(),
            Some(raw) => match ProcedureCode::parse(raw) {
                Ok(code) => vec![code],
                Err(e) => {
                    errors.push(domain::InvalidField::new("procedure", e.reason));
                    Vec::new()
                }
            },
        };
        if let Some(sector) = request.sector.as_deref().filter(|s| !s.trim().is_empty()) {
            let in_sector = self.sector_procedures(sector.trim())?;
            if in_sector.is_empty() {
                errors.push(domain::InvalidField::new(
                    "sector",
                    format!("no procedure in the catalogue is in the sector '{sector}'"),
                ));
            } else if procedures.is_empty() {
                procedures = in_sector;
            } else if !in_sector.contains(&procedures[0]) {
                errors.push(domain::InvalidField::new(
                    "procedure",
                    format!(
                        "procedure {} is not in the sector '{sector}'",
                        procedures[0]
                    ),
                ));
            }
        }
        let channel = match request.channel.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => {
                let found = Channel::from_code(raw);
                if found.is_none() {
                    errors.push(domain::InvalidField::new(
                        "channel",
                        format!("'{raw}' is not one of online, in_person, postal"),
                    ));
                }
                found
            }
        };
        let agency = match request.agency.as_deref().filter(|a| !a.is_empty()) {
            None => default_agency,
            Some(raw) => match AgencyCode::parse(raw) {
                Ok(code) => Some(code),
                Err(e) => {
                    errors.push(domain::InvalidField::new("agency", e.reason));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let agency =
            agency.ok_or_else(|| AppError::invalid("agency", "name the agency to report on"))?;
        if self.agency(&agency).await?.is_none() {
            return Err(AppError::invalid(
                "agency",
                format!("no agency has the code {agency}"),
            ));
        }
        Ok(StatsQuery {
            root: agency,
            from,
            to,
            group,
            procedures,
            channel,
            today,
        })
    }

    /// The codes of the procedures in a sector (by its name in the catalogue).
    fn sector_procedures(&self, sector: &str) -> Result<Vec<ProcedureCode>> {
        let found = self.index.search(&search::SearchQuery {
            sector: Some(sector.to_string()),
            limit: 100_000,
            ..Default::default()
        })?;
        Ok(found
            .hits
            .iter()
            .filter_map(|hit| ProcedureCode::parse(&hit.code).ok())
            .collect())
    }

    async fn run_stats(&self, query: StatsQuery) -> Result<StatsReport> {
        let turn = self.counter_reads.acquire().await.ok();
        let (rows, held) = tokio::try_join!(
            self.store.stats(&query),
            self.store.holdings(&query, crate::today())
        )?;
        drop(turn);
        let mut groups: BTreeMap<String, Figures> = BTreeMap::new();
        fn figures<'a>(groups: &'a mut BTreeMap<String, Figures>, group: &str) -> &'a mut Figures {
            groups.entry(group.to_string()).or_insert_with(|| Figures {
                group: group.to_string(),
                ..Figures::default()
            })
        }
        for row in rows {
            figures(&mut groups, &row.group)
                .counts
                .insert(row.metric, row.value);
        }
        if query.group != StatsGroup::Month {
            for row in held {
                let f = figures(&mut groups, &row.group);
                match (row.metric, row.overdue) {
                    (Metric::AwaitingSupplement, _) => f.awaiting_supplement += row.value,
                    (_, true) => f.overdue += row.value,
                    (_, false) => f.in_progress += row.value,
                }
            }
        }
        if query.group == StatsGroup::Total && groups.is_empty() {
            figures(&mut groups, "");
        }
        Ok(StatsReport {
            agency: query.root,
            from: query.from,
            to: query.to,
            groups: groups.into_values().collect(),
        })
    }

    /// The dossiers held in an agency's subtree and past their deadline, most overdue first,
    /// for the leaders who may read that subtree's figures.
    pub async fn overdue(
        &self,
        actor: &User,
        agency: Option<&str>,
        limit: i64,
    ) -> Result<Vec<domain::dossier::Dossier>> {
        let request = StatsRequest {
            agency: agency.map(str::to_string),
            ..StatsRequest::default()
        };
        let query = self.leader_query(actor, request).await?;
        if !actor.role.reads_agency_dossiers() {
            return Err(AppError::Forbidden(
                "administrators see the figures, not the dossiers behind them".into(),
            ));
        }
        Ok(self
            .store
            .overdue_dossiers(&query.root, chrono::Utc::now(), limit)
            .await?)
    }

    /// Recomputes every counter from the event log and lists where the stored ones differ.
    pub async fn verify_stats(&self) -> Result<Vec<CounterDifference>> {
        let expected = self.counters_from_events().await?;
        let stored = self.store.counters().await?;
        let describe = |key: &CounterKey| {
            format!(
                "{} {} {} {} {}",
                key.day,
                key.agency,
                key.procedure,
                key.channel.code(),
                key.metric.code()
            )
        };
        let mut differences = differences_of(&stored, &expected, describe);
        // The roll-ups (by agency and month, by agency and day) must sum the counters the
        // events give.
        type Rollup<'a> = BTreeMap<(bool, String, NaiveDate, &'a str), i64>;
        let mut rollups: Rollup = BTreeMap::new();
        for (key, value) in expected.iter().filter(|(k, _)| !k.metric.is_stock()) {
            let month = key.day.with_day(1).unwrap_or(key.day);
            for (monthly, start) in [(true, month), (false, key.day)] {
                *rollups
                    .entry((monthly, key.agency.to_string(), start, key.metric.code()))
                    .or_insert(0) += value;
            }
        }
        rollups.retain(|_, v| *v != 0);
        let stored_rollups: Rollup = self
            .store
            .rollup_counters()
            .await?
            .into_iter()
            .filter(|r| r.value != 0)
            .map(|r| {
                let metric = Metric::from_code(&r.metric).map_or("unknown", Metric::code);
                ((r.monthly, r.agency, r.start, metric), r.value)
            })
            .collect();
        differences.extend(differences_of(
            &stored_rollups,
            &rollups,
            |(monthly, agency, start, metric)| {
                if *monthly {
                    format!("month {} {agency} {metric}", start.format("%Y-%m"))
                } else {
                    format!("agency day {start} {agency} {metric}")
                }
            },
        ));
        Ok(differences)
    }

    /// Replaces every counter with what the event log gives; returns how many there are.
    pub async fn rebuild_stats(&self) -> Result<usize> {
        let expected = self.counters_from_events().await?;
        self.store.replace_counters(&expected).await?;
        Ok(expected.len())
    }

    async fn counters_from_events(&self) -> Result<BTreeMap<CounterKey, i64>> {
        // Summed batch by batch: the additions of a large log never sit in memory at once.
        let mut totals: BTreeMap<CounterKey, i64> = BTreeMap::new();
        let mut after = String::new();
        loop {
            let chains = self.store.chains_after(&after, 2000).await?;
            let Some(last) = chains.iter().map(|c| c.dossier_code.clone()).max() else {
                totals.retain(|_, v| *v != 0);
                return Ok(totals);
            };
            for chain in &chains {
                let (Ok(procedure), Some(channel)) = (
                    ProcedureCode::parse(&chain.procedure),
                    Channel::from_code(&chain.channel),
                ) else {
                    // Events without their dossier count nowhere; the audit reports them.
                    continue;
                };
                for (key, value) in domain::stats::replay(&procedure, channel, &chain.events) {
                    *totals.entry(key).or_insert(0) += value;
                }
            }
            after = last;
        }
    }
}

/// The counters whose stored value is not what the events give, described by `describe`.
fn differences_of<K: Ord>(
    stored: &BTreeMap<K, i64>,
    expected: &BTreeMap<K, i64>,
    describe: impl Fn(&K) -> String,
) -> Vec<CounterDifference> {
    let keys: BTreeSet<&K> = expected.keys().chain(stored.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (s, e) = (
                stored.get(key).copied().unwrap_or(0),
                expected.get(key).copied().unwrap_or(0),
            );
            (s != e).then(|| CounterDifference {
                counter: describe(key),
                stored: s,
                from_events: e,
            })
        })
        .collect()
}
