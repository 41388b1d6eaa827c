//! The public catalogue: search, procedure pages, agencies, life events, import and export.

use std::collections::HashMap;
use std::sync::Arc;

use domain::catalogue::dvcqg;
use domain::{Agency, AgencyCode, Level, LifeEvent, OnlineService, Procedure, ProcedureCode};
use search::{Hit, Indexable, SearchQuery, SearchResults};

use crate::{App, AppError, ImportReport, Result, today};
use search::assistant::Suggestion;

/// The most results one page or API call may ask for.
pub const MAX_LIMIT: usize = 100;
/// The deepest offset a search may page to; deeper paging is a scraper, not a person.
pub const MAX_OFFSET: usize = 10_000;
/// How many implementing agencies a procedure page lists per level.
const AGENCIES_SHOWN: i64 = 50;

/// A catalogue search as a person or API client asks for it, before validation.
#[derive(Debug, Clone, Default)]
pub struct CatalogueSearch {
    pub text: String,
    pub sector: Option<String>,
    pub level: Option<String>,
    pub agency: Option<String>,
    pub online: Option<String>,
    pub life_event: Option<String>,
    pub limit: usize,
    pub offset: usize,
    /// Count matches per sector, level, online level and life event.
    pub facets: bool,
}

impl CatalogueSearch {
    /// What is wrong with the requested page, if anything.
    pub fn paging_errors(&self) -> Vec<domain::InvalidField> {
        let mut errors = Vec::new();
        if self.limit == 0 || self.limit > MAX_LIMIT {
            errors.push(domain::InvalidField::new(
                "limit",
                format!("{} is not between 1 and {MAX_LIMIT}", self.limit),
            ));
        }
        if self.offset > MAX_OFFSET {
            errors.push(domain::InvalidField::new(
                "offset",
                format!("{} is more than {MAX_OFFSET}", self.offset),
            ));
        }
        errors
    }
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    pub results: SearchResults,
    /// Shared with the cache: a search does not copy them.
    pub levels: Arc<[Level]>,
    pub life_events: Arc<[LifeEvent]>,
    /// The agency the search was narrowed to, if any.
    pub agency: Option<Agency>,
}

#[derive(Debug, Clone)]
pub struct Home {
    pub procedure_count: usize,
    pub sectors: Vec<(String, u64)>,
    pub online: Vec<(String, u64)>,
    pub life_events: Vec<(LifeEvent, u64)>,
}

#[derive(Debug, Clone)]
pub struct ImplementingLevel {
    pub level: Level,
    pub total: i64,
    pub agencies: Vec<Agency>,
}

#[derive(Debug, Clone)]
pub struct ProcedureDetail {
    pub procedure: Procedure,
    pub versions: Vec<chrono::NaiveDate>,
    pub life_events: Vec<LifeEvent>,
    pub implementing: Vec<ImplementingLevel>,
    /// Form templates whose files are stored and can be downloaded.
    pub form_files: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AgencyNode {
    pub depth: usize,
    pub agency: Agency,
    pub level: Option<Level>,
}

impl App {
    pub async fn search_catalogue(&self, search: CatalogueSearch) -> Result<SearchPage> {
        let mut errors = search.paging_errors();
        let online = match search.online.as_deref() {
            None => None,
            Some(code) => OnlineService::from_code(code).or_else(|| {
                errors.push(domain::InvalidField::new(
                    "online",
                    format!("'{code}' is not one of full, partial, none"),
                ));
                None
            }),
        };
        let lookups = self.lookups();
        let levels = &lookups.levels;
        let mut level_filter = Vec::new();
        if let Some(level) = &search.level {
            if levels.iter().any(|l| &l.code == level) {
                level_filter.push(level.clone());
            } else {
                let known: Vec<&str> = levels.iter().map(|l| l.code.as_str()).collect();
                errors.push(domain::InvalidField::new(
                    "level",
                    format!("'{level}' is not a level; known: {}", known.join(", ")),
                ));
            }
        }
        let mut agency = None;
        if let Some(raw) = &search.agency {
            match AgencyCode::parse(raw) {
                Err(e) => errors.push(domain::InvalidField::new("agency", e.reason)),
                Ok(code) => match self.agency(&code).await? {
                    None => errors.push(domain::InvalidField::new(
                        "agency",
                        format!("no agency has the code {code}"),
                    )),
                    // An agency carries out the procedures of its level.
                    Some(a) if search.level.as_ref().is_some_and(|l| *l != a.level) => {
                        errors.push(domain::InvalidField::new(
                            "level",
                            format!(
                                "agency {} is at level {}, not {}",
                                a.code,
                                a.level,
                                search.level.as_deref().unwrap_or_default()
                            ),
                        ));
                    }
                    Some(a) => {
                        level_filter = vec![a.level.clone()];
                        agency = Some(a);
                    }
                },
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let query = SearchQuery {
            text: search.text,
            sector: search.sector.filter(|s| !s.is_empty()),
            levels: level_filter,
            online,
            life_event: search.life_event.filter(|e| !e.is_empty()),
            limit: search.limit,
            offset: search.offset,
            facets: search.facets,
        };
        let index = self.index.clone();
        let results = tokio::task::spawn_blocking(move || index.search(&query))
            .await
            .map_err(|e| AppError::Conflict(format!("search task failed: {e}")))??;
        Ok(SearchPage {
            results,
            levels: lookups.levels.clone(),
            life_events: lookups.life_events.clone(),
            agency,
        })
    }

    /// Every procedure in the catalogue index, by code.
    pub fn all_procedures(&self) -> Result<Vec<Hit>> {
        let mut hits = self
            .index
            .search(&SearchQuery {
                limit: 100_000,
                ..Default::default()
            })?
            .hits;
        hits.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(hits)
    }

    /// Every sector's name in the catalogue, by how many procedures it has.
    pub fn sectors(&self) -> Result<Vec<String>> {
        let all = self.index.search(&SearchQuery {
            limit: 1,
            facets: true,
            ..Default::default()
        })?;
        Ok(all
            .facets
            .sectors
            .into_iter()
            .map(|(name, _)| name)
            .collect())
    }

    pub async fn home(&self) -> Result<Home> {
        let all = self.index.search(&SearchQuery {
            limit: 1,
            facets: true,
            ..Default::default()
        })?;
        let lookups = self.lookups();
        let events = &lookups.life_events;
        let counts: HashMap<&str, u64> = all
            .facets
            .life_events
            .iter()
            .map(|(c, n)| (c.as_str(), *n))
            .collect();
        let life_events = events
            .iter()
            .map(|e| (e.clone(), counts.get(e.code.as_str()).copied().unwrap_or(0)))
            .collect();
        Ok(Home {
            procedure_count: all.total,
            sectors: all.facets.sectors,
            online: all.facets.online,
            life_events,
        })
    }

    pub async fn procedure(&self, raw_code: &str) -> Result<ProcedureDetail> {
        let not_found = || AppError::NotFound {
            what: "procedure",
            id: raw_code.to_owned(),
        };
        let code = ProcedureCode::parse(raw_code).map_err(|_| not_found())?;
        let procedure = self
            .store
            .procedure(&code, today())
            .await?
            .ok_or_else(not_found)?;
        let versions = self.store.procedure_versions(&code).await?;
        let lookups = self.lookups();
        let life_events = lookups
            .life_events
            .iter()
            .filter(|e| e.procedures.contains(&code))
            .cloned()
            .collect();
        let mut implementing = Vec::new();
        for level in lookups
            .levels
            .iter()
            .filter(|l| procedure.levels.contains(&l.code))
            .cloned()
        {
            let (total, agencies) = self
                .store
                .agencies_at_level(&level.code, AGENCIES_SHOWN)
                .await?;
            implementing.push(ImplementingLevel {
                level,
                total,
                agencies,
            });
        }
        let form_files = self.store.form_template_names(&code).await?;
        Ok(ProcedureDetail {
            procedure,
            versions,
            life_events,
            implementing,
            form_files,
        })
    }

    pub fn levels(&self) -> Vec<Level> {
        self.lookups().levels.to_vec()
    }

    /// All agencies, parents before children.
    pub async fn agency_tree(&self) -> Result<Vec<AgencyNode>> {
        let agencies = self.store.agencies().await?;
        let levels = &self.lookups().levels;
        Ok(domain::agency::tree_order(&agencies)
            .into_iter()
            .map(|(depth, a)| AgencyNode {
                depth,
                agency: a.clone(),
                level: levels.iter().find(|l| l.code == a.level).cloned(),
            })
            .collect())
    }

    pub fn life_events(&self) -> Vec<LifeEvent> {
        self.lookups().life_events.to_vec()
    }

    pub async fn form_template(&self, code: &str, file_name: &str) -> Result<store::FormTemplate> {
        let not_found = || AppError::NotFound {
            what: "form template",
            id: format!("{code}/{file_name}"),
        };
        let code = ProcedureCode::parse(code).map_err(|_| not_found())?;
        self.store
            .form_template(&code, file_name)
            .await?
            .ok_or_else(not_found)
    }

    /// Stores the file of a form template that a procedure's required documents name.
    pub async fn put_form_template(&self, code: &str, template: store::FormTemplate) -> Result<()> {
        let code = ProcedureCode::parse(code)?;
        let procedure =
            self.store
                .procedure(&code, today())
                .await?
                .ok_or_else(|| AppError::NotFound {
                    what: "procedure",
                    id: code.to_string(),
                })?;
        if !procedure.form_templates().any(|f| f == template.file_name) {
            return Err(AppError::invalid(
                "file_name",
                format!(
                    "procedure {code} names no form template '{}'",
                    template.file_name
                ),
            ));
        }
        Ok(self.store.put_form_template(&code, &template).await?)
    }

    /// Imports a catalogue file in the national format: every record or none.
    pub async fn import_catalogue(
        &self,
        bytes: &[u8],
        default_effective_from: Option<chrono::NaiveDate>,
        progress: &store::Progress,
    ) -> Result<ImportReport> {
        let levels = self.store.levels().await?;
        let procedures =
            dvcqg::parse_file(bytes, &levels, default_effective_from.unwrap_or_else(today))?;
        Ok(self.store.import_procedures(&procedures, progress).await?)
    }

    /// The procedures in force today, in the national format.
    pub async fn export_catalogue(&self) -> Result<Vec<dvcqg::Record>> {
        let levels = self.store.levels().await?;
        let procedures = self.store.current_procedures(today()).await?;
        Ok(procedures
            .iter()
            .map(|p| dvcqg::from_procedure(p, &levels))
            .collect())
    }

    /// Inserts or updates agencies from a JSON array of `{code, name, parent, level}`.
    pub async fn import_agencies(&self, bytes: &[u8]) -> Result<usize> {
        let agencies: Vec<Agency> = parse_list(bytes, "agency")?;
        let levels = self.store.levels().await?;
        let mut errors = Vec::new();
        for (i, a) in agencies.iter().enumerate() {
            if !levels.iter().any(|l| l.code == a.level) {
                errors.push(domain::InvalidField::new(
                    format!("[{i}].level"),
                    format!("agency {}: unknown level '{}'", a.code, a.level),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let ordered: Vec<Agency> = domain::agency::tree_order(&agencies)
            .into_iter()
            .map(|(_, a)| a.clone())
            .collect();
        self.store.upsert_agencies(&ordered).await?;
        Ok(ordered.len())
    }

    /// Inserts or updates life events from a JSON array.
    pub async fn import_life_events(&self, bytes: &[u8]) -> Result<usize> {
        let events: Vec<LifeEvent> = parse_list(bytes, "life event")?;
        self.store.upsert_life_events(&events).await?;
        Ok(events.len())
    }

    /// Rebuilds the search index if the catalogue changed since it was built (or it was never
    /// built), and reloads the cached lookups with it. Returns whether it rebuilt.
    pub async fn refresh_index(&self) -> Result<bool> {
        let generation = self.store.catalogue_generation().await?;
        if self.index.generation() == Some(generation) {
            if self.lookups().levels.is_empty() {
                self.reload_lookups().await?;
            }
            // An index kept on disk from the last run: the assistant is built in memory.
            if self
                .assistant
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
            {
                let procedures = self.store.current_procedures(today()).await?;
                let events = self.store.life_events().await?;
                let built = search::assistant::Assistant::new(&procedures, &events);
                *self.assistant.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(built);
            }
            return Ok(false);
        }
        self.reload_lookups().await?;
        let procedures = self.store.current_procedures(today()).await?;
        let events = self.store.life_events().await?;
        let index = self.index.clone();
        let assistant = tokio::task::spawn_blocking(move || {
            let items: Vec<Indexable<'_>> = procedures
                .iter()
                .map(|p| Indexable {
                    procedure: p,
                    life_events: events
                        .iter()
                        .filter(|e| e.procedures.contains(&p.code))
                        .collect(),
                })
                .collect();
            index
                .rebuild(&items, generation)
                .map(|()| search::assistant::Assistant::new(&procedures, &events))
        })
        .await
        .map_err(|e| AppError::Conflict(format!("index task failed: {e}")))??;
        *self.assistant.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(assistant);
        tracing::info!(generation, "search index rebuilt");
        Ok(true)
    }
}

impl App {
    /// The procedures that fit a situation told in everyday words, best first, with why.
    pub fn suggest_procedures(&self, situation: &str, limit: usize) -> Result<Vec<Suggestion>> {
        let chars = situation.trim().chars().count();
        if !(3..=500).contains(&chars) {
            return Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                "q",
                "describe your situation in 3 to 500 characters",
                "mô tả trường hợp của bạn trong khoảng 3 đến 500 ký tự",
            )]));
        }
        let assistant = self
            .assistant
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Ok(assistant.suggest(situation, limit.clamp(1, 20)))
    }

    /// The assistant's share of evaluation situations answered in its first `k`, how many
    /// there are, and those missed.
    pub fn assistant_hit_rate(&self, k: usize) -> (f64, usize, Vec<String>) {
        let assistant = self
            .assistant
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        assistant.hit_rate(k)
    }
}

fn parse_list<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<Vec<T>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        AppError::invalid(&e.path().to_string(), format!("{what} list: {}", e.inner()))
    })
}
