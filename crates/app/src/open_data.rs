//! Open data: the procedure catalogue and monthly statistics for anyone to reuse, with small
//! counts suppressed where they could point at a person.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use domain::stats::Metric;

use crate::{App, AppError, Result};

/// How open data is published: its licence and the privacy threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDataSettings {
    /// An SPDX-style identifier, e.g. `CC-BY-4.0`.
    pub licence_id: String,
    pub licence_title: String,
    pub licence_url: String,
    /// Counts from 1 to one below this, at commune and procedure detail, are withheld.
    pub suppress_below: i64,
}

impl Default for OpenDataSettings {
    fn default() -> Self {
        Self {
            licence_id: "CC-BY-4.0".into(),
            licence_title: "Creative Commons Attribution 4.0 International".into(),
            licence_url: "https://creativecommons.org/licenses/by/4.0/".into(),
            suppress_below: 5,
        }
    }
}

/// The counts published per month, in column order.
pub const OPEN_METRICS: [Metric; 10] = [
    Metric::Received,
    Metric::ReceivedOnline,
    Metric::ResolvedEarly,
    Metric::ResolvedOnTime,
    Metric::ResolvedLate,
    Metric::Refused,
    Metric::Withdrawn,
    Metric::Returned,
    Metric::RatedSatisfied,
    Metric::RatedDissatisfied,
];

/// One published row: a month and an agency or procedure, with its counts (`None` where a
/// small count was withheld).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRow {
    pub month: String,
    pub code: String,
    pub name: String,
    /// The agency's level; empty for procedures.
    pub level: String,
    pub counts: Vec<Option<i64>>,
}

impl App {
    pub fn with_open_data(mut self, settings: OpenDataSettings) -> Self {
        self.open_data = std::sync::Arc::new(settings);
        self
    }

    pub fn open_data_settings(&self) -> &OpenDataSettings {
        &self.open_data
    }

    /// The years with statistics, oldest first (at least the current one).
    pub async fn open_data_years(&self) -> Result<Vec<i32>> {
        let this_year = crate::today().year();
        let first = self
            .store
            .counter_span()
            .await?
            .map_or(this_year, |(first, _)| first.year().min(this_year));
        Ok((first..=this_year).collect())
    }

    /// A year's statistics by month and agency, or by month and procedure.
    pub async fn open_statistics(&self, year: i32, by_procedure: bool) -> Result<Vec<OpenRow>> {
        let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return Err(AppError::invalid("year", format!("{year} is not a year")));
        };
        let flows = self.store.monthly_flows(from, to, by_procedure).await?;
        let names: HashMap<String, (String, String)> = if by_procedure {
            self.all_procedures()?
                .into_iter()
                .map(|h| (h.code, (h.name, String::new())))
                .collect()
        } else {
            self.all_agencies()
                .await?
                .iter()
                .map(|a| (a.code.to_string(), (a.name.clone(), a.level.clone())))
                .collect()
        };
        let mut rows: BTreeMap<(String, String), BTreeMap<Metric, i64>> = BTreeMap::new();
        for flow in flows {
            *rows
                .entry((flow.month, flow.key))
                .or_default()
                .entry(flow.metric)
                .or_insert(0) += flow.value;
        }
        let threshold = self.open_data.suppress_below;
        Ok(rows
            .into_iter()
            .map(|((month, code), counts)| {
                let (name, level) = names.get(&code).cloned().unwrap_or_default();
                // Procedure rows mix every agency; commune rows are few people: both are
                // detail where a small count could point at someone.
                let detailed = by_procedure || level == "commune";
                let counts = OPEN_METRICS
                    .iter()
                    .map(|m| {
                        let n = counts.get(m).copied().unwrap_or(0);
                        (!(detailed && n > 0 && n < threshold)).then_some(n)
                    })
                    .collect();
                OpenRow {
                    month,
                    code,
                    name,
                    level,
                    counts,
                }
            })
            .collect())
    }
}
