//! Statistics for leaders: figures for an agency subtree and a period, summed from the
//! counters the events keep; and the operator's check and repair of those counters.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use domain::stats::{CounterKey, Metric};
use domain::user::{Role, User};
use domain::{AgencyCode, Channel, ProcedureCode};
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
    /// total (default), agency, procedure, channel or month.
    pub group: Option<String>,
    pub procedure: Option<String>,
    pub channel: Option<String>,
}

/// The figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub group: String,
    pub counts: BTreeMap<Metric, i64>,
}

impl Figures {
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

    /// On time (early included) out of those judged against a deadline, in percent.
    pub fn on_time_rate(&self) -> Option<f64> {
        let judged = self.resolved() - self.get(Metric::ResolvedUndated);
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
    pub key: CounterKey,
    pub stored: i64,
    pub from_events: i64,
}

impl App {
    /// Figures for an agency subtree and period, for leaders and those above them; an agency
    /// outside the reader's subtree is refused.
    pub async fn stats(&self, actor: &User, request: StatsRequest) -> Result<StatsReport> {
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
        if !self.within_subtree(actor, &query.root).await? {
            return Err(AppError::Forbidden(format!(
                "{} is outside your agency's subtree",
                query.root
            )));
        }
        self.run_stats(query).await
    }

    /// The public figures: totals, by agency or by month, for anyone; counters hold no
    /// personal data. Without an agency: the first province.
    pub async fn public_stats(&self, request: StatsRequest) -> Result<StatsReport> {
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
            self.store
                .agencies()
                .await?
                .into_iter()
                .find(|a| a.parent.is_none() && a.level == "province")
                .map(|a| a.code)
        };
        let query = self.stats_query(request, province).await?;
        self.run_stats(query).await
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
            "procedure" => StatsGroup::Procedure,
            "channel" => StatsGroup::Channel,
            "month" => StatsGroup::Month,
            other => {
                errors.push(domain::InvalidField::new(
                    "group",
                    format!("'{other}' is not one of total, agency, procedure, channel, month"),
                ));
                StatsGroup::Total
            }
        };
        let procedure = match request.procedure.as_deref().filter(|p| !p.is_empty()) {
            None => None,
            Some(raw) => match ProcedureCode::parse(raw) {
                Ok(code) => Some(code),
                Err(e) => {
                    errors.push(domain::InvalidField::new("procedure", e.reason));
                    None
                }
            },
        };
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
            procedure,
            channel,
        })
    }

    async fn run_stats(&self, query: StatsQuery) -> Result<StatsReport> {
        let rows = self.store.stats(&query).await?;
        let mut groups: Vec<Figures> = Vec::new();
        for row in rows {
            if groups.last().is_none_or(|g| g.group != row.group) {
                groups.push(Figures {
                    group: row.group.clone(),
                    counts: BTreeMap::new(),
                });
            }
            if let Some(g) = groups.last_mut() {
                g.counts.insert(row.metric, row.value);
            }
        }
        if query.group == StatsGroup::Total && groups.is_empty() {
            groups.push(Figures::default());
        }
        Ok(StatsReport {
            agency: query.root,
            from: query.from,
            to: query.to,
            groups,
        })
    }

    /// Recomputes every counter from the event log and lists where the stored ones differ.
    pub async fn verify_stats(&self) -> Result<Vec<CounterDifference>> {
        let expected = self.counters_from_events().await?;
        let stored = self.store.counters().await?;
        let mut differences = Vec::new();
        for key in expected
            .keys()
            .chain(stored.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let (s, e) = (
                stored.get(key).copied().unwrap_or(0),
                expected.get(key).copied().unwrap_or(0),
            );
            if s != e {
                differences.push(CounterDifference {
                    key: key.clone(),
                    stored: s,
                    from_events: e,
                });
            }
        }
        Ok(differences)
    }

    /// Replaces every counter with what the event log gives; returns how many there are.
    pub async fn rebuild_stats(&self) -> Result<usize> {
        let expected = self.counters_from_events().await?;
        self.store.replace_counters(&expected).await?;
        Ok(expected.len())
    }

    async fn counters_from_events(&self) -> Result<BTreeMap<CounterKey, i64>> {
        let mut keys = Vec::new();
        let mut after = String::new();
        loop {
            let chains = self.store.chains_after(&after, 2000).await?;
            let Some(last) = chains.iter().map(|c| c.dossier_code.clone()).max() else {
                return Ok(domain::stats::totals(keys));
            };
            for chain in &chains {
                let (Ok(procedure), Some(channel)) = (
                    ProcedureCode::parse(&chain.procedure),
                    Channel::from_code(&chain.channel),
                ) else {
                    // Events without their dossier count nowhere; the audit reports them.
                    continue;
                };
                keys.extend(domain::stats::replay(&procedure, channel, &chain.events));
            }
            after = last;
        }
    }
}
