//! The catalogue search index (tantivy).
//!
//! Names are indexed twice: as written (NFC, lower case) and folded (no diacritics, đ→d).
//! Every query word must match in the folded fields; a word that also matches with its accents
//! adds to the score, so "cấp" ranks "cấp" above "cáp". When no procedure matches every word,
//! the search is run again forgiving one typo per word.
//! The index remembers the catalogue generation it was built from (in its commit payload), so
//! a caller can tell when it is stale and rebuild it from the database.

pub mod assistant;

use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use domain::text::{fold, normalize};
use domain::{LifeEvent, OnlineService, Procedure, ProcedureCode};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    FAST, FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, Order, ReloadPolicy, Searcher, TantivyDocument, Term,
    schema::Facet,
};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index directory: {0}")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search query: {0}")]
    Query(#[from] tantivy::query::QueryParserError),
}

pub type Result<T> = std::result::Result<T, SearchError>;

const TOKENIZER: &str = "vi";
const WRITER_HEAP: usize = 20_000_000;
/// Words shorter than this get no typo tolerance: one- and two-letter syllables would match too much.
const FUZZY_MIN_LEN: usize = 3;

/// What a search shows of a procedure without reading the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub sectors: Vec<String>,
    pub levels: Vec<String>,
    pub online: OnlineService,
    pub fee_range: Option<(i64, i64)>,
    pub has_detail: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub code: String,
    pub name: String,
    pub card: Card,
}

/// A search with its filters; every filter narrows the result.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub sector: Option<String>,
    /// Matches procedures carried out at any of these levels.
    pub levels: Vec<String>,
    pub online: Option<OnlineService>,
    pub life_event: Option<String>,
    pub limit: usize,
    pub offset: usize,
    /// Whether to count matches per facet value (costs about as much as the search itself).
    pub facets: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    pub sectors: Vec<(String, u64)>,
    pub levels: Vec<(String, u64)>,
    pub online: Vec<(String, u64)>,
    pub life_events: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

/// A procedure with the life events that list it, ready to be indexed.
pub struct Indexable<'a> {
    pub procedure: &'a Procedure,
    pub life_events: Vec<&'a LifeEvent>,
}

#[derive(Clone, Copy)]
struct Fields {
    code: Field,
    name: Field,
    name_folded: Field,
    body_folded: Field,
    sector: Field,
    level: Field,
    online: Field,
    event: Field,
    sort_key: Field,
    card: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        code: b.add_text_field("code", STRING | STORED),
        name: b.add_text_field("name", text.clone() | STORED),
        name_folded: b.add_text_field("name_folded", text.clone()),
        body_folded: b.add_text_field("body_folded", text),
        sector: b.add_facet_field("sector", FacetOptions::default()),
        level: b.add_facet_field("level", FacetOptions::default()),
        online: b.add_facet_field("online", FacetOptions::default()),
        event: b.add_facet_field("event", FacetOptions::default()),
        sort_key: b.add_u64_field("sort_key", FAST),
        card: b.add_text_field("card", STORED),
    };
    (b.build(), fields)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .build()
}

/// Splits text the way the index analyser does: on anything that is not a letter or a digit.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() < 40)
        .map(str::to_lowercase)
        .collect()
}

fn facet(value: &str) -> Facet {
    Facet::from_path([value])
}

pub struct CatalogueIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// One rebuild at a time.
    writing: Mutex<()>,
    /// What searches read: a searcher and the cards of its documents, swapped together.
    current: RwLock<Arc<Snapshot>>,
}

/// A searcher with every document's display card in memory, indexed by the document's
/// `sort_key`, so that showing a page of results does not decompress the doc store.
struct Snapshot {
    searcher: Searcher,
    hits: Vec<Hit>,
    /// The catalogue generation this searcher shows.
    generation: Option<i64>,
}

impl CatalogueIndex {
    /// Opens the index in `dir`, or creates it (empty, generation None) when it is missing,
    /// unreadable or built with another schema.
    pub fn open_or_create(dir: &Path) -> Result<Self> {
        let (schema, fields) = schema();
        let existing = Index::open_in_dir(dir)
            .ok()
            .filter(|i| i.schema() == schema);
        let index = match existing {
            Some(index) => index,
            None => {
                if dir.exists() {
                    tracing::info!(dir = %dir.display(), "search index unreadable or outdated; recreating");
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                Index::create_in_dir(dir, schema)?
            }
        };
        Self::with_index(index, fields)
    }

    /// An index in memory, for tests and benchmarks.
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self> {
        index.tokenizers().register(TOKENIZER, analyzer());
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let hits = stored_hits(&searcher, fields)?;
        let generation = index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse().ok());
        Ok(Self {
            index,
            reader,
            fields,
            writing: Mutex::new(()),
            current: RwLock::new(Arc::new(Snapshot {
                searcher,
                hits,
                generation,
            })),
        })
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The catalogue generation that searches see; None if never built. It is the in-memory
    /// searcher's, not the folder's, so a commit by another process counts as stale.
    pub fn generation(&self) -> Option<i64> {
        self.snapshot().generation
    }

    pub fn len(&self) -> u64 {
        self.snapshot().searcher.num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the whole index with these procedures in one commit: searches see either the
    /// old catalogue or the new one, never a mix.
    pub fn rebuild(&self, items: &[Indexable<'_>], generation: i64) -> Result<()> {
        let _guard = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut writer = self
            .index
            .writer_with_num_threads::<TantivyDocument>(1, WRITER_HEAP)?;
        writer.delete_all_documents()?;
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_cached_key(|&i| fold(&items[i].procedure.name));
        let mut hits = Vec::with_capacity(items.len());
        for (rank, &i) in order.iter().enumerate() {
            writer.add_document(self.document(&items[i], rank as u64))?;
            hits.push(hit_of(items[i].procedure));
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&generation.to_string());
        commit.commit()?;
        writer.wait_merging_threads()?;
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Snapshot {
            searcher,
            hits,
            generation: Some(generation),
        });
        Ok(())
    }

    fn document(&self, item: &Indexable<'_>, sort_key: u64) -> TantivyDocument {
        let f = self.fields;
        let p = item.procedure;
        let name = normalize(&p.name);
        let mut doc = TantivyDocument::default();
        doc.add_text(f.code, p.code.as_str());
        doc.add_text(f.name, &name);
        doc.add_text(f.name_folded, fold(&name));
        let mut body: Vec<&str> = p.sectors.iter().map(|s| s.name.as_str()).collect();
        body.extend(p.group.as_deref());
        body.extend(p.target_groups.iter().map(String::as_str));
        body.extend(p.results.iter().map(String::as_str));
        body.extend(item.life_events.iter().map(|e| e.name_vi.as_str()));
        doc.add_text(f.body_folded, fold(&body.join(" \n ")));
        for s in &p.sectors {
            doc.add_facet(f.sector, facet(&s.name));
        }
        for l in &p.levels {
            doc.add_facet(f.level, facet(l));
        }
        doc.add_facet(f.online, facet(p.online.code()));
        for e in &item.life_events {
            doc.add_facet(f.event, facet(&e.code));
        }
        doc.add_u64(f.sort_key, sort_key);
        let card = hit_of(p).card;
        doc.add_text(
            f.card,
            serde_json::to_string(&card).expect("a card serialises"),
        );
        doc
    }

    /// Searches for the exact words first; only when nothing matches does it try again
    /// forgiving one typo per word, which costs several times more.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResults> {
        let text = normalize(q.text.trim());
        let exact = self.run(q, self.text_query(&text, false))?;
        if exact.total > 0 || ProcedureCode::looks_like_code(&text) || words(&text).is_empty() {
            return Ok(exact);
        }
        self.run(q, self.text_query(&text, true))
    }

    fn run(&self, q: &SearchQuery, scored: Option<Box<dyn Query>>) -> Result<SearchResults> {
        let snapshot = self.snapshot();
        let searcher = &snapshot.searcher;
        let ranked = scored.is_some();
        let query = self.with_filters(scored.unwrap_or_else(|| Box::new(AllQuery)), q);
        let facets = q.facets.then(|| {
            (
                facet_collector("sector"),
                facet_collector("level"),
                facet_collector("online"),
                facet_collector("event"),
            )
        });
        let limit = q.limit.max(1);
        let (keys, total, counts) = if ranked {
            let top = TopDocs::with_limit(limit).and_offset(q.offset);
            let (top, total, counts) = searcher.search(&query, &(top, Count, facets))?;
            let keys = top
                .into_iter()
                .map(|(_, a)| sort_key_of(searcher, a))
                .collect::<Result<Vec<_>>>()?;
            (keys, total, counts)
        } else {
            // Without words there is no relevance: list alphabetically.
            let top = TopDocs::with_limit(limit)
                .and_offset(q.offset)
                .order_by_fast_field::<u64>("sort_key", Order::Asc);
            let (top, total, counts) = searcher.search(&query, &(top, Count, facets))?;
            let keys = top.into_iter().map(|(key, _)| key).collect();
            (keys, total, counts)
        };
        let hits = keys
            .into_iter()
            .map(|key| {
                snapshot.hits.get(key as usize).cloned().ok_or_else(|| {
                    tantivy::TantivyError::InternalError(format!("no card for document {key}"))
                        .into()
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let facets = counts.map_or_else(Facets::default, |(sectors, levels, online, events)| {
            Facets {
                sectors: facet_counts(&sectors),
                levels: facet_counts(&levels),
                online: facet_counts(&online),
                life_events: facet_counts(&events),
            }
        });
        Ok(SearchResults {
            total,
            hits,
            facets,
        })
    }

    /// The scored part of a query; None when the text has no words.
    fn text_query(&self, text: &str, forgive_typos: bool) -> Option<Box<dyn Query>> {
        let f = self.fields;
        if ProcedureCode::looks_like_code(text) {
            let exact = TermQuery::new(
                Term::from_field_text(f.code, text),
                IndexRecordOption::Basic,
            );
            // Codes are ASCII, so every code starting with `text` sorts below `text` + DEL.
            let prefix = RangeQuery::new(
                Bound::Included(Term::from_field_text(f.code, text)),
                Bound::Excluded(Term::from_field_text(f.code, &format!("{text}\u{7f}"))),
            );
            return Some(Box::new(BooleanQuery::new(vec![
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(exact), 10.0)) as Box<dyn Query>,
                ),
                (Occur::Should, Box::new(prefix)),
            ])));
        }
        let exact_words = words(text);
        if exact_words.is_empty() {
            return None;
        }
        let folded_words = words(&fold(text));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (exact, folded) in exact_words.iter().zip(&folded_words) {
            let term = |field, w: &str| Term::from_field_text(field, w);
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = vec![
                (
                    Occur::Should,
                    boosted(
                        TermQuery::new(term(f.name_folded, folded), IndexRecordOption::WithFreqs),
                        2.0,
                    ),
                ),
                (
                    Occur::Should,
                    boosted(
                        TermQuery::new(term(f.name, exact), IndexRecordOption::WithFreqs),
                        1.5,
                    ),
                ),
                (
                    Occur::Should,
                    boosted(
                        TermQuery::new(term(f.body_folded, folded), IndexRecordOption::WithFreqs),
                        0.5,
                    ),
                ),
            ];
            if forgive_typos && folded.chars().count() >= FUZZY_MIN_LEN {
                let fuzzy = FuzzyTermQuery::new(term(f.name_folded, folded), 1, true);
                alternatives.push((Occur::Should, boosted(fuzzy, 0.3)));
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
        }
        if folded_words.len() > 1 {
            let terms = folded_words
                .iter()
                .map(|w| Term::from_field_text(f.name_folded, w))
                .collect();
            clauses.push((Occur::Should, boosted(PhraseQuery::new(terms), 3.0)));
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    fn with_filters(&self, scored: Box<dyn Query>, q: &SearchQuery) -> Box<dyn Query> {
        let f = self.fields;
        let facet_term = |field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_facet(field, &facet(value)),
                IndexRecordOption::Basic,
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, scored)];
        if let Some(sector) = &q.sector {
            clauses.push((Occur::Must, facet_term(f.sector, sector)));
        }
        if !q.levels.is_empty() {
            let any = q
                .levels
                .iter()
                .map(|l| (Occur::Should, facet_term(f.level, l)))
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if let Some(online) = q.online {
            clauses.push((Occur::Must, facet_term(f.online, online.code())));
        }
        if let Some(event) = &q.life_event {
            clauses.push((Occur::Must, facet_term(f.event, event)));
        }
        if clauses.len() == 1 {
            return clauses.pop().expect("one clause").1;
        }
        // Filters must not change the score.
        for clause in clauses.iter_mut().skip(1) {
            let filter = std::mem::replace(&mut clause.1, Box::new(AllQuery));
            clause.1 = Box::new(BoostQuery::new(filter, 0.0));
        }
        Box::new(BooleanQuery::new(clauses))
    }
}

/// What a result shows of a procedure.
fn hit_of(p: &Procedure) -> Hit {
    Hit {
        code: p.code.to_string(),
        name: normalize(&p.name),
        card: Card {
            sectors: p.sectors.iter().map(|s| s.name.clone()).collect(),
            levels: p.levels.clone(),
            online: p.online,
            fee_range: p.fee_range(),
            has_detail: p.has_detail(),
        },
    }
}

fn sort_key_of(searcher: &Searcher, address: DocAddress) -> Result<u64> {
    let column = searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .u64("sort_key")?;
    column.first(address.doc_id).ok_or_else(|| {
        tantivy::TantivyError::InternalError("a document without a sort key".into()).into()
    })
}

/// Reads the cards of an index built earlier, once, at open.
fn stored_hits(searcher: &Searcher, fields: Fields) -> Result<Vec<Hit>> {
    let mut hits: Vec<Option<Hit>> = vec![None; searcher.num_docs() as usize];
    for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
        let store = segment.get_store_reader(64)?;
        let keys = segment.fast_fields().u64("sort_key")?;
        for doc_id in segment.doc_ids_alive() {
            let doc: TantivyDocument = store.get(doc_id)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
            };
            let card = serde_json::from_str(text(fields.card)).map_err(|e| {
                tantivy::TantivyError::InternalError(format!("stored card is unreadable: {e}"))
            })?;
            let key = keys.first(doc_id).unwrap_or(u64::MAX) as usize;
            let slot = hits.get_mut(key).ok_or_else(|| {
                tantivy::TantivyError::InternalError(format!(
                    "sort key {key} out of range in segment {segment_ord}"
                ))
            })?;
            *slot = Some(Hit {
                code: text(fields.code).to_owned(),
                name: text(fields.name).to_owned(),
                card,
            });
        }
    }
    hits.into_iter()
        .enumerate()
        .map(|(key, hit)| {
            hit.ok_or_else(|| {
                tantivy::TantivyError::InternalError(format!("no document has sort key {key}"))
                    .into()
            })
        })
        .collect()
}

fn boosted(query: impl Query + 'static, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(query), boost))
}

fn facet_collector(field: &str) -> FacetCollector {
    let mut collector = FacetCollector::for_field(field);
    collector.add_facet(Facet::root());
    collector
}

/// Counts per value, largest first, then by name.
fn facet_counts(counts: &tantivy::collector::FacetCounts) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts
        .get(Facet::root())
        .filter_map(|(facet, n)| facet.to_path().last().map(|v| (v.to_string(), n)))
        .collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}
