//! The plain-language assistant: a citizen describes their situation in everyday Vietnamese
//! ("tôi muốn làm giấy tờ cho con mới sinh") and gets the procedures that fit, ranked, each
//! with why. It runs on the server alone, from the catalogue's own text: names, sectors,
//! results, target groups and life events, and a lexicon from everyday words to the
//! catalogue's (`lexicon.tsv`). Words are Vietnamese syllables, so pairs of neighbouring
//! syllables ("khai sinh") count as terms too, and weigh more than single ones.

use std::collections::{HashMap, HashSet};

use domain::text::fold;
use domain::{LifeEvent, Procedure};

const LEXICON: &str = include_str!("lexicon.tsv");
/// Situations with the procedures that answer them, for the hit rate (BENCHMARKS.md).
pub const EVALUATION: &str = include_str!("evaluation.tsv");

/// Words that say nothing about which procedure is meant.
const STOP: &[&str] = &[
    "toi", "minh", "chung", "muon", "can", "lam", "cho", "cua", "va", "co", "duoc", "thi", "la",
    "o", "di", "xin", "giay", "to", "thu", "tuc", "nay", "do", "nao", "gi", "the", "nhu", "ve",
    "voi", "mot", "cac", "nhung", "de", "bi", "da", "dang", "se", "phai", "hay", "hoac", "roi",
    "ai", "sao", "bao", "nhieu", "khong", "dau", "a", "oi", "em", "gio", "vua", "moi", "nua",
    "sap", "tuan", "truoc", "nhat", "nha", "ho", "so", "vai", "thang", "nam", "hoi",
];

/// Words that may sit inside an everyday phrase without changing it ("con tôi mới sinh").
const FILLER: &[&str] = &["toi", "minh", "oi", "a", "ay", "nhe", "kia"];

/// Where a term is found in a procedure, and how much that says.
const NAME: f64 = 3.0;
const EVENT: f64 = 2.0;
const BODY: f64 = 1.0;
/// A pair of syllables says more than either alone.
const PAIR: f64 = 1.6;
/// Words the lexicon gives for a phrase weigh more than the person's own remaining words.
const MEANT: f64 = 2.0;

/// Why a procedure was suggested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// An everyday phrase of the situation and the catalogue's words for it.
    Phrase { said: String, means: String },
    /// Words of the situation found in the procedure's name.
    Words(Vec<String>),
    /// A life event that lists the procedure and shares words with the situation.
    LifeEvent(String),
}

#[derive(Debug, Clone)]
pub struct Suggestion {
    pub code: String,
    pub name: String,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

struct Rule {
    said: Vec<String>,
    means: Vec<String>,
}

struct Doc {
    code: String,
    name: String,
    /// Folded syllables of the name, for the reasons.
    name_words: HashSet<String>,
    name_len: f64,
    /// Each term (a syllable or a pair) and the most telling field it is in.
    terms: HashMap<String, f64>,
    /// Life events listing it: name, and its folded terms.
    events: Vec<(String, HashSet<String>)>,
}

/// The ranker, built from the catalogue in force and its life events.
pub struct Assistant {
    docs: Vec<Doc>,
    document_frequency: HashMap<String, u32>,
    average_name: f64,
    rules: Vec<Rule>,
}

fn syllables(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A text's terms: its syllables and each pair of neighbours.
fn terms_of(words: &[String]) -> Vec<String> {
    let mut terms: Vec<String> = words.to_vec();
    terms.extend(words.windows(2).map(|w| format!("{} {}", w[0], w[1])));
    terms
}

fn position(haystack: &[String], needle: &[String]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Assistant {
    pub fn new(procedures: &[Procedure], life_events: &[LifeEvent]) -> Self {
        let mut docs: Vec<Doc> = procedures
            .iter()
            .map(|p| {
                let name = syllables(&p.name);
                let mut terms = HashMap::new();
                let mut put = |text: &str, weight: f64| {
                    for t in terms_of(&syllables(text)) {
                        let w = terms.entry(t).or_insert(0.0);
                        *w = f64::max(*w, weight);
                    }
                };
                put(&p.name, NAME);
                for s in &p.sectors {
                    put(&s.name, BODY);
                }
                for text in p.results.iter().chain(&p.target_groups) {
                    put(text, BODY);
                }
                let events = life_events
                    .iter()
                    .filter(|e| e.procedures.contains(&p.code))
                    .map(|e| {
                        let text = format!("{} {}", e.name_vi, e.description_vi);
                        put(&text, EVENT);
                        (
                            e.name_vi.clone(),
                            terms_of(&syllables(&text)).into_iter().collect(),
                        )
                    })
                    .collect();
                Doc {
                    code: p.code.to_string(),
                    name: p.name.clone(),
                    name_len: name.len() as f64,
                    name_words: name.into_iter().collect(),
                    terms,
                    events,
                }
            })
            .collect();
        docs.sort_by(|a, b| a.code.cmp(&b.code));
        let mut document_frequency = HashMap::new();
        for d in &docs {
            for t in d.terms.keys() {
                *document_frequency.entry(t.clone()).or_insert(0) += 1;
            }
        }
        let average_name = docs.iter().map(|d| d.name_len).sum::<f64>() / docs.len().max(1) as f64;
        let mut rules: Vec<Rule> = LEXICON
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(said, means)| Rule {
                said: syllables(said),
                means: syllables(means),
            })
            .filter(|r| !r.said.is_empty() && !r.means.is_empty())
            .collect();
        // Longer phrases first, so "mất giấy khai sinh" wins over "mất".
        rules.sort_by_key(|r| std::cmp::Reverse(r.said.len()));
        Self {
            docs,
            document_frequency,
            average_name,
            rules,
        }
    }

    /// Whether it knows no procedure (before the catalogue is first read).
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    fn idf(&self, term: &str) -> f64 {
        let n = self.docs.len() as f64;
        let df = f64::from(*self.document_frequency.get(term).unwrap_or(&0));
        if df == 0.0 {
            return 0.0;
        }
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// The procedures that fit the situation, best first, at most `limit`.
    pub fn suggest(&self, situation: &str, limit: usize) -> Vec<Suggestion> {
        let said = syllables(situation);
        // The same words as typed, accents and all, to quote them back.
        let typed: Vec<String> = domain::text::normalize(situation)
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let quote = |at: usize, len: usize| {
            if typed.len() == said.len() {
                typed[at..at + len].join(" ")
            } else {
                said[at..at + len].join(" ")
            }
        };
        // The lexicon's phrases, longest first, matched over the words without fillers ("con
        // tôi mới sinh" is "con mới sinh"); a word used by one phrase is not matched again.
        let kept: Vec<usize> = (0..said.len())
            .filter(|i| !FILLER.contains(&said[*i].as_str()))
            .collect();
        let seq: Vec<String> = kept.iter().map(|i| said[*i].clone()).collect();
        let mut used = vec![false; said.len()];
        let mut weighted: HashMap<String, f64> = HashMap::new();
        let mut phrases = Vec::new();
        for rule in &self.rules {
            let Some(at) = position(&seq, &rule.said) else {
                continue;
            };
            let covered = &kept[at..at + rule.said.len()];
            if covered.iter().any(|i| used[*i]) {
                continue;
            }
            covered.iter().for_each(|i| used[*i] = true);
            for t in terms_of(&rule.means) {
                let w = weighted.entry(t).or_insert(0.0);
                *w = f64::max(*w, MEANT);
            }
            let (first, last) = (covered[0], covered[covered.len() - 1]);
            // With the phrase, the terms it stands for: a procedure holding one is explained by it.
            phrases.push((
                Reason::Phrase {
                    said: quote(first, last - first + 1),
                    means: rule.means.join(" "),
                },
                terms_of(&rule.means),
            ));
        }
        // The person's other words, without those that say nothing.
        let own: Vec<String> = said
            .iter()
            .zip(&used)
            .filter(|(w, used)| !**used && !STOP.contains(&w.as_str()))
            .map(|(w, _)| w.clone())
            .collect();
        for t in terms_of(&own) {
            weighted.entry(t).or_insert(1.0);
        }
        let mut ranked: Vec<Suggestion> = self
            .docs
            .iter()
            .filter_map(|d| {
                let mut score = 0.0;
                for (term, q) in &weighted {
                    let Some(field) = d.terms.get(term) else {
                        continue;
                    };
                    let pair = if term.contains(' ') { PAIR } else { 1.0 };
                    // Shorter names that match say it more directly (BM25's length norm).
                    let norm = if *field == NAME {
                        2.2 / (1.0 + 1.2 * (0.25 + 0.75 * d.name_len / self.average_name))
                    } else {
                        1.0
                    };
                    score += q * pair * field * norm * self.idf(term);
                }
                (score > 0.0).then(|| {
                    let mut reasons: Vec<Reason> = phrases
                        .iter()
                        .filter(|(_, terms)| terms.iter().any(|t| d.terms.contains_key(t)))
                        .map(|(reason, _)| reason.clone())
                        .collect();
                    let in_name: Vec<String> = own
                        .iter()
                        .filter(|w| d.name_words.contains(*w))
                        .cloned()
                        .collect();
                    if !in_name.is_empty() {
                        reasons.push(Reason::Words(in_name));
                    }
                    for (event, terms) in &d.events {
                        if weighted
                            .keys()
                            .any(|t| t.contains(' ') && terms.contains(t))
                        {
                            reasons.push(Reason::LifeEvent(event.clone()));
                        }
                    }
                    Suggestion {
                        code: d.code.clone(),
                        name: d.name.clone(),
                        score,
                        reasons,
                    }
                })
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.code.cmp(&b.code))
        });
        ranked.truncate(limit);
        ranked
    }

    /// The share of the evaluation situations whose answer is among the first `k`, with the
    /// situations missed.
    pub fn hit_rate(&self, k: usize) -> (f64, usize, Vec<String>) {
        let cases: Vec<(&str, Vec<&str>)> = EVALUATION
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(situation, codes)| (situation, codes.split_whitespace().collect()))
            .collect();
        let mut missed = Vec::new();
        for (situation, answers) in &cases {
            let top = self.suggest(situation, k);
            if !top.iter().any(|s| answers.contains(&s.code.as_str())) {
                let got: Vec<&str> = top.iter().map(|s| s.code.as_str()).collect();
                missed.push(format!(
                    "{situation} → {} (expected {})",
                    got.join(", "),
                    answers.join(" ")
                ));
            }
        }
        let hits = cases.len() - missed.len();
        (hits as f64 / cases.len().max(1) as f64, cases.len(), missed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Assistant {
        let levels: Vec<domain::Level> = [
            ("central", "Cấp Bộ"),
            ("province", "Cấp Tỉnh"),
            ("district", "Cấp Huyện"),
            ("commune", "Cấp Xã"),
        ]
        .iter()
        .enumerate()
        .map(|(rank, (code, name))| domain::Level {
            code: (*code).into(),
            name_vi: (*name).into(),
            name_en: (*code).into(),
            catalogue_name: (*name).into(),
            rank: rank as i32,
            valid_until: None,
        })
        .collect();
        let day = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let procedures = domain::catalogue::dvcqg::parse_file(
            include_bytes!("../../../../demo/procedures.dvcqg.json"),
            &levels,
            day,
        )
        .unwrap();
        let events: Vec<LifeEvent> =
            serde_json::from_slice(include_bytes!("../../../../demo/life-events.json")).unwrap();
        Assistant::new(&procedures, &events)
    }

    #[test]
    fn a_new_baby_leads_to_birth_registration_and_says_why() {
        let top = demo().suggest("tôi muốn làm giấy tờ cho con mới sinh", 3);
        assert_eq!(top[0].code, "1.001193", "{top:?}");
        assert!(
            top[0].reasons.contains(&Reason::Phrase {
                said: "con mới sinh".into(),
                means: "khai sinh".into()
            }),
            "{:?}",
            top[0].reasons
        );
        // Without accents, as many type.
        let top = demo().suggest("toi muon lam giay to cho con moi sinh", 3);
        assert_eq!(top[0].code, "1.001193");
        // A word in the middle of the phrase does not hide it; a pupil's school is not a baby's.
        let top = demo().suggest("con tôi mới sinh", 5);
        assert_eq!(top[0].code, "1.001193", "{top:?}");
        assert!(top.iter().all(|s| s.code != "2.002481"), "{top:?}");
    }

    #[test]
    fn nine_situations_in_ten_find_their_procedure_in_the_top_three() {
        let (rate, cases, missed) = demo().hit_rate(3);
        assert!(cases >= 40, "{cases}");
        assert!(rate >= 0.9, "{rate}: {missed:#?}");
    }

    #[test]
    fn words_that_say_nothing_suggest_nothing() {
        assert!(demo().suggest("tôi muốn hỏi một chút", 3).is_empty());
    }
}
