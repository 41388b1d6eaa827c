//! The SQL both backends share. SQLite and PostgreSQL accept the same statements here
//! (`$n` placeholders, `ON CONFLICT … DO UPDATE`), so one body serves both through a macro
//! instead of being written twice; each backend brings only its pool and migrations.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use domain::{Agency, AgencyCode, LifeEvent, Procedure, ProcedureCode};

use crate::{ImportReport, StoreError};

pub(crate) const CURRENT_VERSIONS: &str = "
    SELECT v.body FROM procedure_versions v
    WHERE v.effective_from = COALESCE(
        (SELECT MAX(w.effective_from) FROM procedure_versions w
          WHERE w.procedure_code = v.procedure_code AND w.effective_from <= $1),
        (SELECT MIN(w.effective_from) FROM procedure_versions w
          WHERE w.procedure_code = v.procedure_code))";

pub(crate) fn decode_procedure(body: &str) -> Result<Procedure, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("procedure body: {e}")))
}

pub(crate) fn decode_agency(
    code: String,
    name: String,
    parent: Option<String>,
    level: String,
) -> Result<Agency, StoreError> {
    let corrupt = |e: domain::InvalidField| StoreError::Corrupt(format!("agency {code}: {e}"));
    Ok(Agency {
        code: AgencyCode::parse(&code).map_err(corrupt)?,
        parent: parent
            .as_deref()
            .map(AgencyCode::parse)
            .transpose()
            .map_err(corrupt)?,
        name,
        level,
    })
}

/// Effective dates and content hashes of the stored versions, by procedure code.
pub(crate) type VersionIndex = HashMap<String, BTreeMap<NaiveDate, String>>;

/// What to write for one procedure, decided against what is stored.
pub(crate) enum Write {
    NewProcedure,
    NewVersion,
    UpdateVersion,
    Unchanged,
}

pub(crate) fn plan_write(stored: &VersionIndex, p: &Procedure, hash: &str) -> Write {
    let Some(versions) = stored.get(p.code.as_str()) else {
        return Write::NewProcedure;
    };
    if let Some(same_day) = versions.get(&p.effective_from) {
        return if same_day == hash {
            Write::Unchanged
        } else {
            Write::UpdateVersion
        };
    }
    match versions.range(..p.effective_from).next_back() {
        Some((_, in_force)) if in_force == hash => Write::Unchanged,
        _ => Write::NewVersion,
    }
}

pub(crate) fn count(report: &mut ImportReport, write: &Write) {
    match write {
        Write::NewProcedure => report.new_procedures += 1,
        Write::NewVersion => report.new_versions += 1,
        Write::UpdateVersion => report.updated_versions += 1,
        Write::Unchanged => report.unchanged += 1,
    }
}

pub(crate) fn event_procedures(rows: Vec<(String, String)>) -> HashMap<String, Vec<ProcedureCode>> {
    let mut map: HashMap<String, Vec<ProcedureCode>> = HashMap::new();
    for (event, code) in rows {
        if let Ok(code) = ProcedureCode::parse(&code) {
            map.entry(event).or_default().push(code);
        }
    }
    map
}

pub(crate) fn life_event(
    (code, name_vi, name_en, description_vi): (String, String, String, String),
    procedures: &mut HashMap<String, Vec<ProcedureCode>>,
) -> LifeEvent {
    let procedures = procedures.remove(&code).unwrap_or_default();
    LifeEvent {
        code,
        name_vi,
        name_en,
        description_vi,
        procedures,
    }
}

macro_rules! impl_store {
    ($store:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> $crate::Backend {
                $backend
            }

            async fn ping(&self) -> $crate::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn levels(&self) -> $crate::Result<Vec<domain::Level>> {
                let rows: Vec<(String, String, String, String, i32, Option<chrono::NaiveDate>)> =
                    sqlx::query_as(
                        "SELECT code, name_vi, name_en, catalogue_name, rank, valid_until
                         FROM levels ORDER BY rank",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(code, name_vi, name_en, catalogue_name, rank, valid_until)| {
                        domain::Level { code, name_vi, name_en, catalogue_name, rank, valid_until }
                    })
                    .collect())
            }

            async fn upsert_agencies(&self, agencies: &[domain::Agency]) -> $crate::Result<()> {
                let mut tx = self.pool.begin().await?;
                for a in agencies {
                    sqlx::query(
                        "INSERT INTO agencies (code, name, parent_code, level_code)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name,
                           parent_code = excluded.parent_code, level_code = excluded.level_code",
                    )
                    .bind(a.code.as_str())
                    .bind(&a.name)
                    .bind(a.parent.as_ref().map(|p| p.as_str()))
                    .bind(&a.level)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| $crate::sql::conflict(e, &format!("agency {}", a.code)))?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn agencies(&self) -> $crate::Result<Vec<domain::Agency>> {
                let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
                    "SELECT code, name, parent_code, level_code FROM agencies ORDER BY code",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(c, n, p, l)| $crate::sql::decode_agency(c, n, p, l))
                    .collect()
            }

            async fn agency(
                &self,
                code: &domain::AgencyCode,
            ) -> $crate::Result<Option<domain::Agency>> {
                let row: Option<(String, String, Option<String>, String)> = sqlx::query_as(
                    "SELECT code, name, parent_code, level_code FROM agencies WHERE code = $1",
                )
                .bind(code.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(c, n, p, l)| $crate::sql::decode_agency(c, n, p, l)).transpose()
            }

            async fn agencies_at_level(
                &self,
                level: &str,
                limit: i64,
            ) -> $crate::Result<(i64, Vec<domain::Agency>)> {
                let (total,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM agencies WHERE level_code = $1")
                        .bind(level)
                        .fetch_one(&self.pool)
                        .await?;
                let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
                    "SELECT code, name, parent_code, level_code FROM agencies
                     WHERE level_code = $1 ORDER BY code LIMIT $2",
                )
                .bind(level)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let agencies = rows
                    .into_iter()
                    .map(|(c, n, p, l)| $crate::sql::decode_agency(c, n, p, l))
                    .collect::<$crate::Result<Vec<_>>>()?;
                Ok((total, agencies))
            }

            async fn import_procedures(
                &self,
                procedures: &[domain::Procedure],
                progress: &$crate::Progress,
            ) -> $crate::Result<$crate::ImportReport> {
                use $crate::sql::Write;
                let mut tx = self.pool.begin().await?;
                let rows: Vec<(String, chrono::NaiveDate, String)> = sqlx::query_as(
                    "SELECT procedure_code, effective_from, content_hash FROM procedure_versions",
                )
                .fetch_all(&mut *tx)
                .await?;
                let mut stored = $crate::sql::VersionIndex::new();
                for (code, day, hash) in rows {
                    stored.entry(code).or_default().insert(day, hash);
                }
                let now = chrono::Utc::now();
                let mut report = $crate::ImportReport::default();
                for (done, p) in procedures.iter().enumerate() {
                    if done % 256 == 0 {
                        progress(done as u64);
                    }
                    let hash = domain::catalogue::content_hash(p);
                    let write = $crate::sql::plan_write(&stored, p, &hash);
                    $crate::sql::count(&mut report, &write);
                    if matches!(write, Write::Unchanged) {
                        continue;
                    }
                    let body = serde_json::to_string(p)
                        .map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?;
                    sqlx::query(
                        "INSERT INTO procedures (code, name, updated_at) VALUES ($1, $2, $3)
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name,
                           updated_at = excluded.updated_at",
                    )
                    .bind(p.code.as_str())
                    .bind(&p.name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO procedure_versions
                           (procedure_code, effective_from, content_hash, body)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (procedure_code, effective_from) DO UPDATE
                           SET content_hash = excluded.content_hash, body = excluded.body",
                    )
                    .bind(p.code.as_str())
                    .bind(p.effective_from)
                    .bind(&hash)
                    .bind(&body)
                    .execute(&mut *tx)
                    .await?;
                    stored.entry(p.code.to_string()).or_default().insert(p.effective_from, hash);
                }
                if report.changed() {
                    $crate::sql::bump_generation!(&mut *tx);
                }
                tx.commit().await?;
                progress(procedures.len() as u64);
                Ok(report)
            }

            async fn procedure(
                &self,
                code: &domain::ProcedureCode,
                on: chrono::NaiveDate,
            ) -> $crate::Result<Option<domain::Procedure>> {
                let body: Option<(String,)> = sqlx::query_as(
                    "SELECT body FROM procedure_versions WHERE procedure_code = $1
                     ORDER BY CASE WHEN effective_from <= $2 THEN 0 ELSE 1 END,
                       CASE WHEN effective_from <= $2 THEN effective_from END DESC,
                       effective_from
                     LIMIT 1",
                )
                .bind(code.as_str())
                .bind(on)
                .fetch_optional(&self.pool)
                .await?;
                body.map(|(b,)| $crate::sql::decode_procedure(&b)).transpose()
            }

            async fn procedure_versions(
                &self,
                code: &domain::ProcedureCode,
            ) -> $crate::Result<Vec<chrono::NaiveDate>> {
                let rows: Vec<(chrono::NaiveDate,)> = sqlx::query_as(
                    "SELECT effective_from FROM procedure_versions WHERE procedure_code = $1
                     ORDER BY effective_from",
                )
                .bind(code.as_str())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(d,)| d).collect())
            }

            async fn current_procedures(
                &self,
                on: chrono::NaiveDate,
            ) -> $crate::Result<Vec<domain::Procedure>> {
                let sql = format!("{} ORDER BY v.procedure_code", $crate::sql::CURRENT_VERSIONS);
                let rows: Vec<(String,)> =
                    sqlx::query_as(&sql).bind(on).fetch_all(&self.pool).await?;
                rows.iter().map(|(b,)| $crate::sql::decode_procedure(b)).collect()
            }

            async fn procedure_count(&self) -> $crate::Result<i64> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM procedures")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn catalogue_generation(&self) -> $crate::Result<i64> {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT value FROM counters WHERE name = 'catalogue_generation'")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(n)
            }

            async fn upsert_life_events(&self, events: &[domain::LifeEvent]) -> $crate::Result<()> {
                let mut tx = self.pool.begin().await?;
                for (position, e) in events.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO life_events (code, name_vi, name_en, description_vi, position)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (code) DO UPDATE SET name_vi = excluded.name_vi,
                           name_en = excluded.name_en, description_vi = excluded.description_vi,
                           position = excluded.position",
                    )
                    .bind(&e.code)
                    .bind(&e.name_vi)
                    .bind(&e.name_en)
                    .bind(&e.description_vi)
                    .bind(position as i32)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM life_event_procedures WHERE life_event_code = $1")
                        .bind(&e.code)
                        .execute(&mut *tx)
                        .await?;
                    for code in &e.procedures {
                        sqlx::query(
                            "INSERT INTO life_event_procedures (life_event_code, procedure_code)
                             VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        )
                        .bind(&e.code)
                        .bind(code.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                $crate::sql::bump_generation!(&mut *tx);
                tx.commit().await?;
                Ok(())
            }

            async fn life_events(&self) -> $crate::Result<Vec<domain::LifeEvent>> {
                let links: Vec<(String, String)> = sqlx::query_as(
                    "SELECT life_event_code, procedure_code FROM life_event_procedures
                     ORDER BY life_event_code, procedure_code",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut procedures = $crate::sql::event_procedures(links);
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT code, name_vi, name_en, description_vi FROM life_events
                     ORDER BY position, code",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|r| $crate::sql::life_event(r, &mut procedures)).collect())
            }

            async fn put_form_template(
                &self,
                code: &domain::ProcedureCode,
                template: &$crate::FormTemplate,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO form_templates (procedure_code, file_name, content_type, content)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (procedure_code, file_name) DO UPDATE
                       SET content_type = excluded.content_type, content = excluded.content",
                )
                .bind(code.as_str())
                .bind(&template.file_name)
                .bind(&template.content_type)
                .bind(&template.content)
                .execute(&self.pool)
                .await
                .map_err(|e| $crate::sql::conflict(e, &format!("form template of {code}")))?;
                Ok(())
            }

            async fn form_template_names(
                &self,
                code: &domain::ProcedureCode,
            ) -> $crate::Result<Vec<String>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT file_name FROM form_templates WHERE procedure_code = $1
                     ORDER BY file_name",
                )
                .bind(code.as_str())
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(n,)| n).collect())
            }

            async fn form_template(
                &self,
                code: &domain::ProcedureCode,
                file_name: &str,
            ) -> $crate::Result<Option<$crate::FormTemplate>> {
                let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
                    "SELECT file_name, content_type, content FROM form_templates
                     WHERE procedure_code = $1 AND file_name = $2",
                )
                .bind(code.as_str())
                .bind(file_name)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(file_name, content_type, content)| $crate::FormTemplate {
                    file_name,
                    content_type,
                    content,
                }))
            }

            async fn meta(&self, key: &str) -> $crate::Result<Option<String>> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT value FROM meta WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(v,)| v))
            }

            async fn set_meta(&self, key: &str, value: &str) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

macro_rules! bump_generation {
    ($executor:expr) => {
        sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'catalogue_generation'")
            .execute($executor)
            .await?;
    };
}

pub(crate) use bump_generation;
pub(crate) use impl_store;

/// Maps a constraint violation to [`StoreError::Conflict`], naming what was being written.
pub(crate) fn conflict(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db)
            if db.is_foreign_key_violation()
                || db.is_unique_violation()
                || db.is_check_violation() =>
        {
            StoreError::Conflict(format!("{what}: {}", db.message()))
        }
        _ => StoreError::Database(e),
    }
}
