//! The national service-quality index (Bộ chỉ số 766) per agency and period, from the same
//! counters as the statistics and from the catalogue; agencies ranked by their total.
//! The dashboards rank the agencies of the figures they show ([`App::breakdown`]).

use std::collections::{BTreeMap, HashMap};

use domain::service_index::{IndexScore, Inputs};
use domain::stats::Metric;
use domain::{Agency, AgencyCode, OnlineService};

use crate::stats::Figures;
use crate::{App, Result};

/// One agency's index.
#[derive(Debug, Clone)]
pub struct AgencyIndex {
    pub agency: Agency,
    pub inputs: Inputs,
    pub score: IndexScore,
}

impl App {
    /// The index of each agency whose own figures are given, best first.
    pub async fn rank(
        &self,
        by_agency: impl IntoIterator<Item = &Figures>,
    ) -> Result<Vec<AgencyIndex>> {
        let all = self.all_agencies().await?;
        let agencies: HashMap<&AgencyCode, &Agency> = all.iter().map(|a| (&a.code, a)).collect();
        let mut offered: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut ranking = Vec::new();
        for figures in by_agency {
            let Some(agency) = AgencyCode::parse(&figures.group)
                .ok()
                .and_then(|code| agencies.get(&code).copied())
            else {
                continue;
            };
            if !offered.contains_key(&agency.level) {
                let counts = self.procedures_online_at(&agency.level)?;
                offered.insert(agency.level.clone(), counts);
            }
            let (procedures, procedures_online) = offered[&agency.level];
            let inputs = inputs_of(figures, procedures, procedures_online);
            ranking.push(AgencyIndex {
                agency: agency.clone(),
                score: IndexScore::of(&inputs),
                inputs,
            });
        }
        ranking.sort_by(|a, b| {
            b.score
                .total()
                .total_cmp(&a.score.total())
                .then_with(|| a.agency.code.cmp(&b.agency.code))
        });
        Ok(ranking)
    }

    /// How many procedures are carried out at a level, and how many of them online (in full
    /// or in part), from the catalogue index's counts.
    fn procedures_online_at(&self, level: &str) -> Result<(i64, i64)> {
        let found = self.index.search(&search::SearchQuery {
            levels: vec![level.to_string()],
            facets: true,
            limit: 0,
            ..Default::default()
        })?;
        let online = found
            .facets
            .online
            .iter()
            .filter(|(code, _)| {
                code == OnlineService::Full.code() || code == OnlineService::Partial.code()
            })
            .map(|(_, n)| *n as i64)
            .sum();
        Ok((found.total as i64, online))
    }
}

fn inputs_of(figures: &Figures, procedures: i64, procedures_online: i64) -> Inputs {
    let resolved = figures.resolved();
    Inputs {
        on_time: figures.on_time(),
        judged: figures.judged(),
        received: figures.get(Metric::Received),
        received_online: figures.get(Metric::ReceivedOnline),
        procedures,
        procedures_online,
        rated: figures.get(Metric::RatedSatisfied) + figures.get(Metric::RatedDissatisfied),
        satisfied: figures.get(Metric::RatedSatisfied),
        resolved,
        // A resolution is refused without its result document (dossiers::act), so every
        // dossier resolved here has its result as a file.
        electronic_results: resolved,
    }
}
