//! Usage analytics for re-engineering: which procedures to simplify first. Each figure comes
//! from counters — the statistics counters the dossier events keep (volume, online share,
//! supplement requests, late resolutions) and the e-form's own (opened, submitted, errors per
//! field, minutes to submit) — never from a scan of dossiers.

use std::collections::BTreeMap;

use domain::ProcedureCode;
use domain::dossier::Action;
use domain::stats::Metric;
use domain::user::User;
use store::FormCount;

use crate::{App, Result, StatsRequest};

/// The buckets of the time from opening the e-form to submitting it, in minutes.
const MINUTE_BUCKETS: [(i64, &str); 6] = [
    (2, "≤ 2"),
    (5, "≤ 5"),
    (10, "≤ 10"),
    (20, "≤ 20"),
    (40, "≤ 40"),
    (i64::MAX, "> 40"),
];
/// How many fields with the most errors a procedure's line names.
const TOP_FIELDS: usize = 3;

/// One procedure's line in the re-engineering list.
#[derive(Debug, Clone, Default)]
pub struct ProcedureUsage {
    pub code: String,
    pub name: String,
    /// Dossiers received in the last twelve months, and the share that came online.
    pub received: i64,
    pub online_share: Option<f64>,
    /// E-forms opened and submitted, and the share opened but never submitted.
    pub opened: i64,
    pub submitted: i64,
    pub drop_off: Option<f64>,
    /// The fields that failed validation most, with how often.
    pub error_fields: Vec<(String, i64)>,
    /// The bucket holding the median time to submit.
    pub median_minutes: Option<&'static str>,
    /// Each workflow step's mean time in hours, in step order.
    pub step_hours: Vec<(String, f64)>,
    /// The reasons officials gave most for asking for a supplement, with how often.
    pub supplement_reasons: Vec<(String, i64)>,
    /// Supplement requests per dossier received, and late resolutions per resolution.
    pub supplement_rate: Option<f64>,
    pub late_share: Option<f64>,
    /// Where it stands in the list: its volume times what goes wrong (drop-off, supplements,
    /// lateness), so a busy procedure that often goes wrong comes first.
    pub priority: f64,
}

/// The most frequent few, most frequent first.
fn most(counted: Option<Vec<(String, i64)>>) -> Vec<(String, i64)> {
    let mut counted = counted.unwrap_or_default();
    counted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counted.truncate(TOP_FIELDS);
    counted
}

/// A supplement request's reason as it is counted: one line, spaces folded, at most 120
/// characters, so the same reason typed twice is counted once.
pub(crate) fn reason_key(reason: &str) -> String {
    reason
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(120)
        .collect()
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl App {
    pub(crate) async fn add_form_counts(
        &self,
        code: &ProcedureCode,
        counts: &[(&str, String, i64)],
    ) {
        let rows: Vec<FormCount> = counts
            .iter()
            .map(|(metric, detail, value)| FormCount {
                procedure: code.to_string(),
                metric: (*metric).to_owned(),
                detail: detail.clone(),
                value: *value,
            })
            .collect();
        // Counting is never a reason to fail the citizen's request.
        if let Err(e) = self.store.add_form_counts(&rows).await {
            tracing::warn!(error = %e, procedure = %code, "form counters not written");
        }
    }

    /// A citizen opened the procedure's e-form.
    pub async fn count_form_opened(&self, code: &ProcedureCode) {
        self.add_form_counts(code, &[("opened", String::new(), 1)])
            .await;
    }

    /// An e-form sent back with errors: one count per field that failed.
    pub async fn count_form_errors(&self, code: &ProcedureCode, fields: &[String]) {
        let mut counts: Vec<(&str, String, i64)> = vec![("failed", String::new(), 1)];
        counts.extend(fields.iter().map(|f| ("field_error", f.clone(), 1)));
        self.add_form_counts(code, &counts).await;
    }

    /// An e-form submitted, `seconds` after the form was first drawn (when known).
    pub async fn count_form_submitted(&self, code: &ProcedureCode, seconds: Option<i64>) {
        let mut counts: Vec<(&str, String, i64)> = vec![("submitted", String::new(), 1)];
        if let Some(s) = seconds.filter(|s| *s >= 0) {
            let minutes = (s + 59) / 60;
            let bucket = MINUTE_BUCKETS
                .iter()
                .find(|(upper, _)| minutes <= *upper)
                .map_or("> 40", |(_, label)| label);
            counts.push(("minutes", bucket.to_owned(), 1));
        }
        self.add_form_counts(code, &counts).await;
    }

    /// A workflow step finished at `at`: its time from when it began (the reception or the
    /// step before; a supplement awaited meanwhile is included) is added to its counters.
    pub(crate) async fn count_step_time(
        &self,
        before: &domain::dossier::record::Dossier,
        served: &crate::Served,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        let index = before.state.steps_done as usize;
        let Some(step) = served.design.steps.get(index) else {
            return;
        };
        let events = match self.store.dossier_events(&before.code).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, dossier = %before.code, "step time not counted");
                return;
            }
        };
        let Some(began) = events
            .iter()
            .rev()
            .find(|e| matches!(e.action, Action::Receive | Action::CompleteStep))
            .map(|e| e.at)
        else {
            return;
        };
        let detail = format!("{}. {}", index + 1, step.name_vi);
        let seconds = (at - began).num_seconds().max(0);
        self.add_form_counts(
            &before.procedure,
            &[
                ("step_seconds", detail.clone(), seconds),
                ("step_count", detail, 1),
            ],
        )
        .await;
    }

    /// The procedures of the reader's subtree ranked by what simplifying them would gain,
    /// over the last twelve months (leaders, administrators, auditors).
    pub async fn reengineering(&self, actor: &User) -> Result<Vec<ProcedureUsage>> {
        let from = (crate::today() - chrono::Duration::days(365)).to_string();
        let report = self
            .stats(
                actor,
                StatsRequest {
                    group: Some("procedure".into()),
                    from: Some(from),
                    ..StatsRequest::default()
                },
            )
            .await?;
        let mut lines: BTreeMap<String, ProcedureUsage> = BTreeMap::new();
        for f in report.groups {
            let count = |m: Metric| f.counts.get(&m).copied().unwrap_or(0);
            let resolved = count(Metric::ResolvedEarly)
                + count(Metric::ResolvedOnTime)
                + count(Metric::ResolvedLate);
            lines.insert(
                f.group.clone(),
                ProcedureUsage {
                    code: f.group.clone(),
                    received: count(Metric::Received),
                    online_share: share(count(Metric::ReceivedOnline), count(Metric::Received)),
                    supplement_rate: share(
                        count(Metric::SupplementRequested),
                        count(Metric::Received),
                    ),
                    late_share: share(count(Metric::ResolvedLate), resolved),
                    ..ProcedureUsage::default()
                },
            );
        }
        let mut errors: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        let mut reasons: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        // By procedure, then step: total seconds and how many times it was done.
        let mut steps: BTreeMap<String, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
        let mut minutes: BTreeMap<String, BTreeMap<&'static str, i64>> = BTreeMap::new();
        for c in self.store.form_counts().await? {
            let line = lines
                .entry(c.procedure.clone())
                .or_insert_with(|| ProcedureUsage {
                    code: c.procedure.clone(),
                    ..ProcedureUsage::default()
                });
            match c.metric.as_str() {
                "opened" => line.opened += c.value,
                "submitted" => line.submitted += c.value,
                "field_error" => errors
                    .entry(c.procedure.clone())
                    .or_default()
                    .push((c.detail, c.value)),
                "step_seconds" => {
                    steps
                        .entry(c.procedure.clone())
                        .or_default()
                        .entry(c.detail)
                        .or_default()
                        .0 += c.value
                }
                "step_count" => {
                    steps
                        .entry(c.procedure.clone())
                        .or_default()
                        .entry(c.detail)
                        .or_default()
                        .1 += c.value
                }
                "supplement_reason" => reasons
                    .entry(c.procedure.clone())
                    .or_default()
                    .push((c.detail, c.value)),
                "minutes" => {
                    if let Some((_, label)) = MINUTE_BUCKETS.iter().find(|(_, l)| *l == c.detail) {
                        *minutes
                            .entry(c.procedure.clone())
                            .or_default()
                            .entry(label)
                            .or_default() += c.value;
                    }
                }
                _ => {}
            }
        }
        let mut ranked: Vec<ProcedureUsage> = Vec::with_capacity(lines.len());
        for (code, mut line) in lines {
            line.drop_off = share((line.opened - line.submitted).max(0), line.opened);
            line.error_fields = most(errors.remove(&code));
            line.supplement_reasons = most(reasons.remove(&code));
            line.step_hours = steps
                .remove(&code)
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, (_, n))| *n > 0)
                .map(|(step, (seconds, n))| (step, seconds as f64 / n as f64 / 3600.0))
                .collect();
            if let Some(buckets) = minutes.remove(&code) {
                let total: i64 = buckets.values().sum();
                let mut seen = 0;
                line.median_minutes = MINUTE_BUCKETS.iter().map(|(_, l)| *l).find(|label| {
                    seen += buckets.get(label).copied().unwrap_or(0);
                    seen * 2 >= total
                });
            }
            let trouble = line.drop_off.unwrap_or(0.0)
                + line.supplement_rate.unwrap_or(0.0)
                + line.late_share.unwrap_or(0.0);
            line.priority = (line.received.max(line.opened)) as f64 * trouble;
            if let Ok(parsed) = ProcedureCode::parse(&code) {
                line.name = self.procedure_name(&parsed, crate::today()).await;
            }
            ranked.push(line);
        }
        ranked.sort_by(|a, b| {
            b.priority
                .total_cmp(&a.priority)
                .then_with(|| b.received.cmp(&a.received))
                .then_with(|| a.code.cmp(&b.code))
        });
        Ok(ranked)
    }
}
