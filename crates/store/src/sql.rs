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

            async fn database_bytes(&self) -> $crate::Result<i64> {
                Ok(sqlx::query_scalar(Self::DATABASE_BYTES)
                    .fetch_one(&self.pool)
                    .await?)
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
                let mut tx = self.writer.begin().await?;
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
                // Implementing agencies and search filters depend on the tree.
                $crate::sql::bump_generation!(&mut *tx);
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
                let mut tx = self.writer.begin().await?;
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
                let mut tx = self.writer.begin().await?;
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
                .execute(&self.writer)
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

            async fn decrees(&self) -> $crate::Result<Vec<domain::calendar::YearDecree>> {
                let rows: Vec<(i32, String, String)> = sqlx::query_as(
                    "SELECT year, days_off, weekend_workdays FROM calendar_decrees ORDER BY year",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(year, days_off, workdays)| {
                        let what = format!("calendar decree {year}");
                        Ok(domain::calendar::YearDecree {
                            year,
                            days_off: $crate::sql::from_json(&what, &days_off)?,
                            working_weekend_days: $crate::sql::from_json(&what, &workdays)?,
                        })
                    })
                    .collect()
            }

            async fn put_decrees(
                &self,
                decrees: &[domain::calendar::YearDecree],
            ) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                for d in decrees {
                    sqlx::query(
                        "INSERT INTO calendar_decrees (year, days_off, weekend_workdays, updated_at)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (year) DO UPDATE SET days_off = excluded.days_off,
                           weekend_workdays = excluded.weekend_workdays,
                           updated_at = excluded.updated_at",
                    )
                    .bind(d.year)
                    .bind($crate::sql::json_text(&d.days_off))
                    .bind($crate::sql::json_text(&d.working_weekend_days))
                    .bind(chrono::Utc::now())
                    .execute(&mut *tx)
                    .await?;
                }
                $crate::sql::bump_generation!(&mut *tx);
                tx.commit().await?;
                Ok(())
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
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn set_meta_if_absent(&self, key: &str, value: &str) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(value)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn upsert_users(&self, users: &[domain::user::User]) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                let now = chrono::Utc::now();
                for u in users {
                    sqlx::query(
                        "INSERT INTO users (username, full_name, role, agency_code, created_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (username) DO UPDATE SET full_name = excluded.full_name,
                           role = excluded.role, agency_code = excluded.agency_code",
                    )
                    .bind(&u.username)
                    .bind(&u.full_name)
                    .bind(u.role.code())
                    .bind(u.agency.as_ref().map(|a| a.as_str()))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| $crate::sql::conflict(e, &format!("user {}", u.username)))?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn user(&self, username: &str) -> $crate::Result<Option<domain::user::User>> {
                let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT username, full_name, role, agency_code FROM users WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::sql::decode_user).transpose()
            }

            async fn officials(
                &self,
                root: Option<&domain::agency::AgencyCode>,
                limit: i64,
            ) -> $crate::Result<Vec<domain::user::User>> {
                let columns = "username, full_name, role, agency_code";
                let order = "ORDER BY COALESCE(agency_code, ''), username LIMIT $2";
                let sql = match root {
                    Some(_) => format!(
                        "{subtree} SELECT {columns} FROM users WHERE role <> 'citizen'
                         AND agency_code {in_subtree} {order}",
                        subtree = $crate::sql::SUBTREE,
                        in_subtree = Self::IN_SUBTREE,
                    ),
                    None => format!(
                        "SELECT {columns} FROM users WHERE role <> 'citizen' AND $1 IS NULL {order}"
                    ),
                };
                let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&sql)
                    .bind(root.map(|r| r.as_str()))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map($crate::sql::decode_user).collect()
            }

            async fn set_passwords(&self, hashes: &[(String, String)]) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                for (username, hash) in hashes {
                    sqlx::query("UPDATE users SET password_hash = $2 WHERE username = $1")
                        .bind(username)
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn put_service_design(
                &self,
                code: &domain::ProcedureCode,
                effective_from: chrono::NaiveDate,
                design: &domain::service::ServiceDesign,
            ) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                sqlx::query(
                    "INSERT INTO service_designs (procedure_code, effective_from, body, updated_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (procedure_code, effective_from)
                       DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                )
                .bind(code.as_str())
                .bind(effective_from)
                .bind($crate::sql::json_text(design))
                .bind(chrono::Utc::now())
                .execute(&mut *tx)
                .await
                .map_err(|e| $crate::sql::conflict(e, &format!("service design of {code}")))?;
                // Servers drop their cached designs with the next catalogue check.
                $crate::sql::bump_generation!(&mut *tx);
                tx.commit().await?;
                Ok(())
            }

            async fn service_design(
                &self,
                code: &domain::ProcedureCode,
                version: chrono::NaiveDate,
            ) -> $crate::Result<Option<domain::service::ServiceDesign>> {
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT body FROM service_designs
                     WHERE procedure_code = $1 AND effective_from <= $2
                     ORDER BY effective_from DESC LIMIT 1",
                )
                .bind(code.as_str())
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(body,)| $crate::sql::from_json(&format!("service design of {code}"), &body))
                    .transpose()
            }

            async fn save_draft(&self, draft: &domain::dossier::Draft) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO drafts (id, username, procedure_code, agency_code, form, attachments, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (id) DO UPDATE SET agency_code = excluded.agency_code,
                       form = excluded.form, attachments = excluded.attachments,
                       updated_at = excluded.updated_at",
                )
                .bind(&draft.id)
                .bind(&draft.username)
                .bind(draft.procedure.as_str())
                .bind(draft.agency.as_ref().map(|a| a.as_str()))
                .bind($crate::sql::json_text(&draft.form))
                .bind($crate::sql::json_text(&draft.attachments))
                .bind(draft.updated_at)
                .execute(&self.writer)
                .await
                .map_err(|e| $crate::sql::conflict(e, &format!("draft {}", draft.id)))?;
                Ok(())
            }

            async fn drafts(&self, username: &str) -> $crate::Result<Vec<domain::dossier::Draft>> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM drafts WHERE username = $1 ORDER BY updated_at DESC",
                    $crate::sql::DRAFT_COLUMNS
                ))
                .bind(username)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::sql::draft_from_row).collect()
            }

            async fn draft(&self, id: &str) -> $crate::Result<Option<domain::dossier::Draft>> {
                let row = sqlx::query(&format!(
                    "SELECT {} FROM drafts WHERE id = $1",
                    $crate::sql::DRAFT_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::sql::draft_from_row).transpose()
            }

            async fn delete_draft(&self, id: &str) -> $crate::Result<()> {
                sqlx::query("DELETE FROM drafts WHERE id = $1")
                    .bind(id)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn put_attachment(
                &self,
                a: &domain::attachment::Attachment,
            ) -> $crate::Result<()> {
                sqlx::query(&format!(
                    "INSERT INTO attachments ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    $crate::sql::ATTACHMENT_COLUMNS
                ))
                .bind(&a.id)
                .bind(&a.owner)
                .bind(a.dossier_code.as_deref())
                .bind(&a.document)
                .bind(&a.file_name)
                .bind(&a.content_type)
                .bind(a.size)
                .bind(&a.sha256)
                .bind(a.created_at)
                .execute(&self.writer)
                .await
                .map_err(|e| $crate::sql::conflict(e, &format!("attachment {}", a.id)))?;
                Ok(())
            }

            async fn attachment(
                &self,
                id: &str,
            ) -> $crate::Result<Option<domain::attachment::Attachment>> {
                let row = sqlx::query(&format!(
                    "SELECT {} FROM attachments WHERE id = $1",
                    $crate::sql::ATTACHMENT_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::sql::attachment_from_row).transpose()
            }

            async fn dossier_attachments(
                &self,
                code: &str,
            ) -> $crate::Result<Vec<domain::attachment::Attachment>> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM attachments WHERE dossier_code = $1 ORDER BY created_at, id",
                    $crate::sql::ATTACHMENT_COLUMNS
                ))
                .bind(code)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::sql::attachment_from_row).collect()
            }

            async fn create_dossier(
                &self,
                new: &domain::dossier::NewDossier,
                template: &domain::dossier::CodeTemplate,
                idempotency_key: Option<&str>,
            ) -> $crate::Result<$crate::Created> {
                if let Some(key) = idempotency_key {
                    if let Some(existing) = self.dossier_by_key(&new.submitted_by, key).await? {
                        return Ok($crate::Created { dossier: existing, created: false });
                    }
                }
                let outcome = self.insert_dossier(new, template, idempotency_key).await?;
                match (outcome, idempotency_key) {
                    ($crate::sql::Inserted::Dossier(dossier), _) => {
                        Ok($crate::Created { dossier: *dossier, created: true })
                    }
                    ($crate::sql::Inserted::DuplicateKey, Some(key)) => {
                        // A concurrent retry won: return its dossier; ours was rolled back.
                        let existing = self.dossier_by_key(&new.submitted_by, key).await?;
                        let dossier = existing.ok_or_else(|| {
                            $crate::StoreError::Conflict(format!("idempotency key {key} is in use"))
                        })?;
                        Ok($crate::Created { dossier, created: false })
                    }
                    ($crate::sql::Inserted::DuplicateKey, None) => {
                        unreachable!("only an idempotency key can be a duplicate")
                    }
                }
            }

            async fn dossier(&self, code: &str) -> $crate::Result<Option<domain::dossier::Dossier>> {
                let row = sqlx::query(&format!(
                    "SELECT {} FROM dossiers WHERE code = $1",
                    $crate::sql::DOSSIER_COLUMNS
                ))
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    None => Ok(None),
                    Some(row) => Ok(Some($crate::sql::dossier_from_row!(row))),
                }
            }

            async fn list_dossiers(
                &self,
                filter: &$crate::DossierFilter,
            ) -> $crate::Result<Vec<domain::dossier::Dossier>> {
                let status = filter.status.map(|s| s.code()).unwrap_or_default();
                let (scope_sql, scope_value) = match &filter.scope {
                    $crate::DossierScope::Applicant(username) => ("applicant = $1", username.clone()),
                    $crate::DossierScope::AgencySubtree(root) => (
                        "agency_code IN (SELECT code FROM subtree)",
                        root.to_string(),
                    ),
                };
                let sql = format!(
                    "{subtree}
                     SELECT {} FROM dossiers
                     WHERE {scope_sql} AND ($2 = '' OR status = $2)
                     ORDER BY submitted_at DESC, code DESC LIMIT $3 OFFSET $4",
                    $crate::sql::DOSSIER_COLUMNS,
                    subtree = $crate::sql::SUBTREE,
                );
                let rows = sqlx::query(&sql)
                    .bind(scope_value)
                    .bind(status)
                    .bind(filter.limit)
                    .bind(filter.offset)
                    .fetch_all(&self.pool)
                    .await?;
                let mut dossiers = Vec::with_capacity(rows.len());
                for row in rows {
                    dossiers.push($crate::sql::dossier_from_row!(row));
                }
                Ok(dossiers)
            }

            async fn record_action(
                &self,
                next: &domain::dossier::Dossier,
                expected_version: i64,
                event: domain::dossier::EventRecord,
                files: &[domain::attachment::AttachmentLink],
                before: &domain::stats::Tally,
                effects: $crate::ActionEffects,
            ) -> $crate::Result<domain::dossier::Dossier> {
                let action = $crate::sql::ActionWrite {
                    next: next.clone(),
                    expected_version,
                    event,
                    files: files.to_vec(),
                    tally: before.clone(),
                    effects,
                };
                self.write_action(action).await
            }

            async fn dossier_events(
                &self,
                code: &str,
            ) -> $crate::Result<Vec<domain::dossier::EventRecord>> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM dossier_events WHERE dossier_code = $1 ORDER BY sequence",
                    $crate::sql::EVENT_COLUMNS
                ))
                .bind(code)
                .fetch_all(&self.pool)
                .await?;
                let mut events = Vec::with_capacity(rows.len());
                for row in rows {
                    events.push($crate::sql::event_from_row!(row));
                }
                Ok(events)
            }

            async fn stats(
                &self,
                query: &$crate::StatsQuery,
            ) -> $crate::Result<Vec<$crate::StatRow>> {
                let plan = $crate::sql::PeriodPlan::of(query);
                let group = $crate::sql::group_expression(query.group);
                let filters = $crate::sql::detail_filters(query, 8);
                // Whole months from the monthly roll-up; the period's ragged ends from the
                // agencies' days, or, with a filter or grouping only the detail has, every day
                // from the detail. A branch per end, not an OR: each is a range on the key.
                let (days, columns) = if plan.detailed {
                    ("dossier_stats", "procedure_code, channel")
                } else {
                    ("agency_day_stats", "'', ''")
                };
                let sql = format!(
                    "{subtree},
                     flows (agency_code, day, procedure_code, channel, metric, value) AS (
                         SELECT agency_code, month, '', '', metric, value FROM agency_month_stats
                         WHERE agency_code {in_subtree}
                           AND month >= $2 AND month <= $3
                         UNION ALL
                         SELECT agency_code, day, {columns}, metric, value FROM {days}
                         WHERE agency_code {in_subtree}
                           AND day >= $4 AND day <= $5{filters}
                         UNION ALL
                         SELECT agency_code, day, {columns}, metric, value FROM {days}
                         WHERE agency_code {in_subtree}
                           AND day >= $6 AND day <= $7{filters})
                     SELECT CAST({agg}({array}(grp, metric, total)) AS TEXT) FROM (
                       SELECT {group} AS grp, metric, CAST(SUM(value) AS BIGINT) AS total
                       FROM flows GROUP BY grp, metric ORDER BY grp, metric) summed",
                    subtree = $crate::sql::SUBTREE,
                    in_subtree = Self::IN_SUBTREE,
                    // One row of JSON: thousands of rows through the driver cost more than
                    // the query (see the audit).
                    agg = Self::JSON_AGG,
                    array = Self::JSON_ARRAY,
                );
                let mut statement = sqlx::query_as::<_, (Option<String>,)>(&sql)
                    .bind(query.root.as_str())
                    .bind(plan.months.0)
                    .bind(plan.months.1)
                    .bind(plan.head.0)
                    .bind(plan.head.1)
                    .bind(plan.tail.0)
                    .bind(plan.tail.1);
                for procedure in &query.procedures {
                    statement = statement.bind(procedure.as_str());
                }
                if let Some(channel) = query.channel {
                    statement = statement.bind(channel.code());
                }
                let (json,) = statement.fetch_one(&self.pool).await?;
                let rows: Vec<(String, String, i64)> = match json {
                    None => Vec::new(),
                    Some(text) => serde_json::from_str(&text).map_err(|e| {
                        $crate::StoreError::Corrupt(format!("summed counters: {e}"))
                    })?,
                };
                $crate::sql::stat_rows(rows)
            }

            async fn holdings(
                &self,
                query: &$crate::StatsQuery,
                today: chrono::NaiveDate,
            ) -> $crate::Result<Vec<$crate::HoldingRow>> {
                let group = match query.group {
                    $crate::StatsGroup::Month => "''",
                    other => $crate::sql::group_expression(other),
                };
                let filters = $crate::sql::detail_filters(query, 3);
                let sql = format!(
                    "{subtree}
                     SELECT {group} AS grp, metric,
                            CASE WHEN due_day < $2 THEN 1 ELSE 0 END AS overdue,
                            CAST(SUM(value) AS BIGINT) AS total
                     FROM dossier_holdings
                     WHERE agency_code {in_subtree}{filters}
                     GROUP BY grp, metric, overdue ORDER BY grp, metric, overdue",
                    subtree = $crate::sql::SUBTREE,
                    in_subtree = Self::IN_SUBTREE,
                );
                let mut statement = sqlx::query_as::<_, (String, String, i32, i64)>(&sql)
                    .bind(query.root.as_str())
                    .bind(today);
                for procedure in &query.procedures {
                    statement = statement.bind(procedure.as_str());
                }
                if let Some(channel) = query.channel {
                    statement = statement.bind(channel.code());
                }
                let rows = statement.fetch_all(&self.pool).await?;
                rows.into_iter()
                    .filter(|row| row.3 != 0)
                    .map(|(group, metric, overdue, value)| {
                        let metric = $crate::sql::metric(&metric)?;
                        Ok($crate::HoldingRow { group, metric, overdue: overdue == 1, value })
                    })
                    .collect()
            }

            async fn overdue_dossiers(
                &self,
                root: &domain::AgencyCode,
                now: chrono::DateTime<chrono::Utc>,
                limit: i64,
            ) -> $crate::Result<Vec<domain::dossier::Dossier>> {
                let sql = format!(
                    "{subtree}
                     SELECT {} FROM dossiers
                     WHERE agency_code IN (SELECT code FROM subtree)
                       AND status IN ('received', 'in_progress', 'payment_requested')
                       AND due_at < $2
                     ORDER BY due_at, code LIMIT $3",
                    $crate::sql::DOSSIER_COLUMNS,
                    subtree = $crate::sql::SUBTREE,
                );
                let rows = sqlx::query(&sql)
                    .bind(root.as_str())
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                let mut dossiers = Vec::with_capacity(rows.len());
                for row in rows {
                    dossiers.push($crate::sql::dossier_from_row!(row));
                }
                Ok(dossiers)
            }

            async fn counters(
                &self,
            ) -> $crate::Result<std::collections::BTreeMap<domain::stats::CounterKey, i64>> {
                let rows: Vec<(chrono::NaiveDate, String, String, String, String, i64)> =
                    sqlx::query_as(
                        "SELECT day, agency_code, procedure_code, channel, metric, value
                         FROM dossier_stats
                         UNION ALL
                         SELECT due_day, agency_code, procedure_code, channel, metric, value
                         FROM dossier_holdings WHERE value <> 0",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                let mut out = std::collections::BTreeMap::new();
                for (day, agency, procedure, channel, metric, value) in rows {
                    let what = format!("counter {day} {agency} {procedure} {channel} {metric}");
                    let key = domain::stats::CounterKey {
                        day,
                        agency: domain::AgencyCode::parse(&agency)
                            .map_err($crate::sql::corrupt(&what))?,
                        procedure: domain::ProcedureCode::parse(&procedure)
                            .map_err($crate::sql::corrupt(&what))?,
                        channel: $crate::sql::channel(&channel)?,
                        metric: $crate::sql::metric(&metric)?,
                    };
                    out.insert(key, value);
                }
                Ok(out)
            }

            async fn monthly_flows(
                &self,
                from: chrono::NaiveDate,
                to: chrono::NaiveDate,
                by_procedure: bool,
            ) -> $crate::Result<Vec<$crate::MonthlyFlow>> {
                let sql = if by_procedure {
                    "SELECT substr(CAST(day AS TEXT), 1, 7) AS m, procedure_code, metric,
                            CAST(SUM(value) AS BIGINT)
                     FROM dossier_stats WHERE day >= $1 AND day <= $2
                     GROUP BY m, procedure_code, metric ORDER BY m, procedure_code, metric"
                } else {
                    "SELECT substr(CAST(month AS TEXT), 1, 7) AS m, agency_code, metric,
                            CAST(SUM(value) AS BIGINT)
                     FROM agency_month_stats WHERE month >= $1 AND month <= $2
                     GROUP BY m, agency_code, metric ORDER BY m, agency_code, metric"
                };
                let rows: Vec<(String, String, String, i64)> = sqlx::query_as(sql)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|(month, key, metric, value)| {
                        let metric = $crate::sql::metric(&metric)?;
                        Ok($crate::MonthlyFlow { month, key, metric, value })
                    })
                    .collect()
            }

            async fn number_feed(&self) -> $crate::Result<i64> {
                let mut tx = self.writer.begin().await?;
                Self::lock_feed(&mut tx).await?;
                sqlx::query(
                    "WITH base AS (SELECT COALESCE(MAX(feed_seq), 0) AS top FROM dossier_events),
                     todo AS (SELECT dossier_code, sequence,
                                     ROW_NUMBER() OVER (ORDER BY at, dossier_code, sequence) AS n
                              FROM dossier_events WHERE feed_seq IS NULL)
                     UPDATE dossier_events SET feed_seq = (SELECT top FROM base) + todo.n
                     FROM todo
                     WHERE dossier_events.dossier_code = todo.dossier_code
                       AND dossier_events.sequence = todo.sequence",
                )
                .execute(&mut *tx)
                .await?;
                let (top,): (Option<i64>,) =
                    sqlx::query_as("SELECT MAX(feed_seq) FROM dossier_events")
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok(top.unwrap_or(0))
            }

            async fn feed_after(
                &self,
                cursor: i64,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::FeedChange>> {
                let rows = sqlx::query(&format!(
                    "SELECT {}, feed_seq FROM dossier_events WHERE feed_seq > $1
                     ORDER BY feed_seq LIMIT $2",
                    $crate::sql::EVENT_COLUMNS
                ))
                .bind(cursor)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut events = Vec::with_capacity(rows.len());
                for row in rows {
                    let number: i64 = sqlx::Row::try_get(&row, "feed_seq")?;
                    events.push((number, $crate::sql::event_from_row!(row)));
                }
                // The dossiers and names of the whole page in two queries.
                let codes: std::collections::BTreeSet<&str> =
                    events.iter().map(|(_, e)| e.dossier_code.as_str()).collect();
                let mut dossiers = std::collections::HashMap::new();
                for chunk in codes.into_iter().collect::<Vec<_>>().chunks(500) {
                    let sql = format!(
                        "SELECT {} FROM dossiers WHERE code IN ({})",
                        $crate::sql::DOSSIER_COLUMNS,
                        $crate::sql::placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query(&sql);
                    for code in chunk {
                        query = query.bind(*code);
                    }
                    for row in query.fetch_all(&self.pool).await? {
                        let dossier = $crate::sql::dossier_from_row!(row);
                        dossiers.insert(dossier.code.clone(), dossier);
                    }
                }
                let applicants: std::collections::BTreeSet<&str> =
                    dossiers.values().map(|d| d.applicant.as_str()).collect();
                let mut names = std::collections::HashMap::new();
                for chunk in applicants.into_iter().collect::<Vec<_>>().chunks(500) {
                    let sql = format!(
                        "SELECT username, full_name FROM users WHERE username IN ({})",
                        $crate::sql::placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, (String, String)>(&sql);
                    for username in chunk {
                        query = query.bind(*username);
                    }
                    names.extend(query.fetch_all(&self.pool).await?);
                }
                events
                    .into_iter()
                    .map(|(number, event)| {
                        let dossier = dossiers.get(&event.dossier_code).cloned().ok_or_else(|| {
                            $crate::StoreError::Corrupt(format!(
                                "event of a missing dossier {}",
                                event.dossier_code
                            ))
                        })?;
                        let applicant_name = names.get(&dossier.applicant).cloned();
                        Ok($crate::FeedChange { number, event, dossier, applicant_name })
                    })
                    .collect()
            }

            async fn load_history(&self, batch: &$crate::HistoryBatch) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                // Rows per statement stay under SQLite's 32,766 bound parameters.
                for chunk in batch.dossiers.chunks(1000) {
                    let mut insert = sqlx::QueryBuilder::new(format!(
                        "INSERT INTO dossiers ({}) ",
                        $crate::sql::DOSSIER_COLUMNS
                    ));
                    insert.push_values(chunk, |mut row, d| {
                        row.push_bind(d.code.as_str())
                            .push_bind(d.procedure.as_str())
                            .push_bind(d.procedure_version)
                            .push_bind(d.agency.as_str())
                            .push_bind(d.channel.code())
                            .push_bind(d.applicant.as_str())
                            .push_bind(d.state.status.code())
                            .push_bind($crate::sql::json_text(&d.state))
                            .push_bind($crate::sql::json_text(&d.form))
                            .push_bind(d.submitted_at)
                            .push_bind(d.received_at)
                            .push_bind(d.due_at)
                            .push_bind(d.paused_at)
                            .push_bind(d.ended_at)
                            .push_bind(d.version)
                            .push_bind(d.event_count)
                            .push_bind(d.last_event_hash.as_str());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in batch.events.chunks(2000) {
                    let mut insert = sqlx::QueryBuilder::new(format!(
                        "INSERT INTO dossier_events ({}) ",
                        $crate::sql::EVENT_COLUMNS
                    ));
                    insert.push_values(chunk, |mut row, e| {
                        row.push_bind(e.dossier_code.as_str())
                            .push_bind(e.sequence as i64)
                            .push_bind(e.at)
                            .push_bind(e.actor.as_str())
                            .push_bind(e.agency.as_deref())
                            .push_bind(e.action.code())
                            .push_bind(e.from_status.code())
                            .push_bind(e.to_status.code())
                            .push_bind(e.payload.as_str())
                            .push_bind(e.prev_hash.as_str())
                            .push_bind(e.hash.as_str());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                $crate::sql::write_counters!(&mut *tx, &batch.counters).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn counter_span(
                &self,
            ) -> $crate::Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>> {
                let (first, last): (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) =
                    sqlx::query_as("SELECT MIN(month), MAX(month) FROM agency_month_stats")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(first.zip(last))
            }

            async fn rollup_counters(&self) -> $crate::Result<Vec<$crate::RollupCounter>> {
                let rows: Vec<(String, String, chrono::NaiveDate, String, i64)> = sqlx::query_as(
                    "SELECT 'month', agency_code, month, metric, value FROM agency_month_stats
                     UNION ALL
                     SELECT 'day', agency_code, day, metric, value FROM agency_day_stats",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(period, agency, start, metric, value)| $crate::RollupCounter {
                        monthly: period == "month",
                        agency,
                        start,
                        metric,
                        value,
                    })
                    .collect())
            }

            async fn replace_counters(
                &self,
                totals: &std::collections::BTreeMap<domain::stats::CounterKey, i64>,
            ) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                for table in [
                    "dossier_stats",
                    "agency_day_stats",
                    "agency_month_stats",
                    "dossier_holdings",
                ] {
                    sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
                }
                $crate::sql::write_counters!(&mut *tx, totals).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn batch_end(&self, after: &str, limit: i64) -> $crate::Result<Option<String>> {
                let (end,): (Option<String>,) = sqlx::query_as(
                    "SELECT MAX(code) FROM (SELECT code FROM dossiers WHERE code > $1
                     ORDER BY code LIMIT $2) batch",
                )
                .bind(after)
                .bind(limit)
                .fetch_one(&self.pool)
                .await?;
                Ok(end)
            }

            async fn chains_after(&self, after: &str, limit: i64) -> $crate::Result<Vec<$crate::Chain>> {
                // As one JSON array too (see the events below).
                let sql = format!(
                    "SELECT CAST({agg}({array}(code, event_count, last_event_hash, procedure_code,
                       channel) ORDER BY code) AS TEXT)
                     FROM (SELECT code, event_count, last_event_hash, procedure_code, channel
                           FROM dossiers WHERE code > $1 ORDER BY code LIMIT $2) heads",
                    agg = Self::JSON_AGG,
                    array = Self::JSON_ARRAY,
                );
                let (json,): (Option<String>,) = sqlx::query_as(&sql)
                    .bind(after)
                    .bind(limit)
                    .fetch_one(&self.pool)
                    .await?;
                let heads: Vec<(String, i64, String, String, String)> =
                    $crate::sql::from_json("dossier heads", json.as_deref().unwrap_or("[]"))?;
                let Some(last) = heads.last().map(|h| h.0.clone()) else {
                    // Events past the last dossier belong to no dossier: report them too.
                    let orphans = sqlx::query(&format!(
                        "SELECT {} FROM dossier_events WHERE dossier_code > $1
                         ORDER BY dossier_code, sequence LIMIT 1",
                        $crate::sql::EVENT_COLUMNS
                    ))
                    .bind(after)
                    .fetch_all(&self.pool)
                    .await?;
                    let mut chains = Vec::new();
                    for row in orphans {
                        let event = $crate::sql::event_from_row!(row);
                        chains.push($crate::Chain {
                            dossier_code: event.dossier_code.clone(),
                            event_count: 0,
                            last_event_hash: domain::dossier::chain::GENESIS.to_owned(),
                            procedure: String::new(),
                            channel: String::new(),
                            events: vec![event],
                        });
                    }
                    return Ok(chains);
                };
                // The sort order is the database's (its collation), so go by the text the
                // database compares, and group events under their heads by exact code. The
                // events come as one JSON array: decoding thousands of rows one by one through
                // the driver cost far more than hashing them.
                let sql = format!(
                    "SELECT CAST({agg}({array}(dossier_code, sequence, at, actor, agency_code,
                       action, from_status, to_status, payload, prev_hash, hash)
                       ORDER BY dossier_code, sequence) AS TEXT)
                     FROM dossier_events WHERE dossier_code > $1 AND dossier_code <= $2",
                    agg = Self::JSON_AGG,
                    array = Self::JSON_ARRAY,
                );
                let (json,): (Option<String>,) = sqlx::query_as(&sql)
                    .bind(after)
                    .bind(&last)
                    .fetch_one(&self.pool)
                    .await?;
                let mut by_code: std::collections::HashMap<String, Vec<domain::dossier::EventRecord>> =
                    std::collections::HashMap::new();
                for event in $crate::sql::events_from_json(json.as_deref().unwrap_or("[]"))? {
                    by_code.entry(event.dossier_code.clone()).or_default().push(event);
                }
                let mut chains: Vec<$crate::Chain> = heads
                    .into_iter()
                    .map(|(code, event_count, last_event_hash, procedure, channel)| {
                        $crate::Chain {
                            events: by_code.remove(&code).unwrap_or_default(),
                            dossier_code: code,
                            event_count,
                            last_event_hash,
                            procedure,
                            channel,
                        }
                    })
                    .collect();
                // Events whose dossier row is gone.
                for (code, events) in by_code {
                    chains.push($crate::Chain {
                        dossier_code: code,
                        event_count: 0,
                        last_event_hash: domain::dossier::chain::GENESIS.to_owned(),
                        procedure: String::new(),
                        channel: String::new(),
                        events,
                    });
                }
                Ok(chains)
            }
        }

        impl $store {
            async fn dossier_by_key(
                &self,
                username: &str,
                key: &str,
            ) -> $crate::Result<Option<domain::dossier::Dossier>> {
                let code: Option<(String,)> = sqlx::query_as(
                    "SELECT dossier_code FROM idempotency_keys WHERE username = $1 AND key = $2",
                )
                .bind(username)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
                match code {
                    None => Ok(None),
                    Some((code,)) => $crate::Store::dossier(self, &code).await,
                }
            }
        }
    };
}

/// An action to record: the dossier's next state, the version it was decided on, its event
/// (sealed when written) and the uploads it attaches.
pub(crate) struct ActionWrite {
    pub next: domain::dossier::Dossier,
    pub expected_version: i64,
    pub event: domain::dossier::EventRecord,
    pub files: Vec<domain::attachment::AttachmentLink>,
    /// What the counters need about the dossier just before the action.
    pub tally: domain::stats::Tally,
    pub effects: crate::ActionEffects,
}

/// The writes of one action on an open transaction (or savepoint) `$conn`: claim the version,
/// seal the event onto the chain, update the dossier, attach files. Evaluates to
/// `Result<Dossier, StoreError>`; the caller commits or rolls back.
macro_rules! apply_action {
    ($conn:expr, $write:expr, $counters:expr) => {
        async {
            let write: &$crate::sql::ActionWrite = $write;
            let next = &write.next;
            let expected_version = write.expected_version;
            // Claim the version first: a concurrent action on the same version finds no row.
            let head: Option<(i64, String)> = sqlx::query_as(
                "UPDATE dossiers SET version = version + 1
                 WHERE code = $1 AND version = $2
                 RETURNING event_count, last_event_hash",
            )
            .bind(&next.code)
            .bind(expected_version)
            .fetch_optional(&mut *$conn)
            .await?;
            let Some((count, last_hash)) = head else {
                return Err($crate::StoreError::Conflict(format!(
                    "dossier {} changed since version {expected_version}; reload it and try again",
                    next.code
                )));
            };
            let event = domain::dossier::EventRecord {
                dossier_code: next.code.clone(),
                sequence: count as u64 + 1,
                ..write.event.clone()
            }
            .sealed(&last_hash);
            let mut stored = next.clone();
            stored.version = expected_version + 1;
            stored.event_count = count + 1;
            stored.last_event_hash = event.hash.clone();
            sqlx::query(
                "UPDATE dossiers SET status = $2, state = $3, received_at = $4, due_at = $5,
                   paused_at = $6, ended_at = $7, event_count = $8, last_event_hash = $9,
                   agency_code = $10, form = $11
                 WHERE code = $1",
            )
            .bind(&stored.code)
            .bind(stored.state.status.code())
            .bind($crate::sql::json_text(&stored.state))
            .bind(stored.received_at)
            .bind(stored.due_at)
            .bind(stored.paused_at)
            .bind(stored.ended_at)
            .bind(stored.event_count)
            .bind(&stored.last_event_hash)
            .bind(stored.agency.as_str())
            .bind($crate::sql::json_text(&stored.form))
            .execute(&mut *$conn)
            .await?;
            $crate::sql::link_files!(&mut *$conn, &stored.code, &event.actor, &write.files);
            $crate::sql::insert_event!(&mut *$conn, &event);
            if let Some(change) = &write.effects.payment {
                $crate::payments::change_payment!($conn, change);
            }
            for notice in &write.effects.notices {
                $crate::notify::insert_outgoing!($conn, notice, event.at);
            }
            // Counted by the caller once the write is kept ([`write_counters!`]).
            $crate::sql::add_deltas(&mut *$counters, domain::stats::deltas(&event, &write.tally));
            Ok::<_, $crate::StoreError>(stored)
        }
    };
}
pub(crate) use apply_action;

/// What inserting a submission did.
pub(crate) enum Inserted {
    Dossier(Box<domain::dossier::Dossier>),
    /// The idempotency key was taken meanwhile; the caller rolls back and returns that dossier.
    DuplicateKey,
}

/// The writes of one submission, on an open transaction (or savepoint) `$conn`: the daily
/// sequence, the dossier, its first event and the idempotency key. Evaluates to
/// `Result<Inserted, StoreError>`; the caller commits or rolls back.
macro_rules! insert_dossier {
    ($conn:expr, $new:expr, $template:expr, $idempotency_key:expr, $counters:expr) => {
        async {
            let (new, template, idempotency_key): (
                &domain::dossier::NewDossier,
                &domain::dossier::CodeTemplate,
                Option<&str>,
            ) = ($new, $template, $idempotency_key);
                let day = new.submitted_at.with_timezone(&domain::calendar::vietnam_offset()).date_naive();
            let (sequence,): (i64,) = sqlx::query_as(
                "INSERT INTO dossier_sequences (agency_code, day, last_value) VALUES ($1, $2, 1)
                 ON CONFLICT (agency_code, day)
                   DO UPDATE SET last_value = dossier_sequences.last_value + 1
                 RETURNING last_value",
            )
            .bind(new.agency.as_str())
            .bind(day)
            .fetch_one(&mut *$conn)
            .await?;
            let code = template.format(&new.agency, day, sequence as u64);
            let state = domain::dossier::DossierState::draft()
                .apply(domain::dossier::Action::Submit)
                .expect("a draft can be submitted");
            let event = domain::dossier::EventRecord {
                dossier_code: code.clone(),
                sequence: 1,
                at: new.submitted_at,
                actor: new.submitted_by.clone(),
                agency: Some(new.agency.to_string()),
                action: domain::dossier::Action::Submit,
                from_status: domain::dossier::Status::Draft,
                to_status: state.status,
                payload: $crate::sql::json_text(&serde_json::json!({
                    "channel": new.channel,
                    "attachments": new.attachments.iter()
                        .map(domain::attachment::AttachmentLink::event_entry)
                        .collect::<Vec<_>>(),
                })),
                prev_hash: String::new(),
                hash: String::new(),
            }
            .sealed(domain::dossier::chain::GENESIS);
            let dossier = domain::dossier::Dossier {
                code: code.clone(),
                procedure: new.procedure.clone(),
                procedure_version: new.procedure_version,
                agency: new.agency.clone(),
                channel: new.channel,
                applicant: new.applicant.clone(),
                state,
                form: new.form.clone(),
                submitted_at: new.submitted_at,
                received_at: None,
                due_at: None,
                paused_at: None,
                ended_at: None,
                version: 1,
                event_count: 1,
                last_event_hash: event.hash.clone(),
            };
            sqlx::query(&format!(
                "INSERT INTO dossiers ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                   $11, $12, $13, $14, $15, $16, $17)",
                $crate::sql::DOSSIER_COLUMNS
            ))
            .bind(&dossier.code)
            .bind(dossier.procedure.as_str())
            .bind(dossier.procedure_version)
            .bind(dossier.agency.as_str())
            .bind(dossier.channel.code())
            .bind(&dossier.applicant)
            .bind(dossier.state.status.code())
            .bind($crate::sql::json_text(&dossier.state))
            .bind($crate::sql::json_text(&dossier.form))
            .bind(dossier.submitted_at)
            .bind(dossier.received_at)
            .bind(dossier.due_at)
            .bind(dossier.paused_at)
            .bind(dossier.ended_at)
            .bind(dossier.version)
            .bind(dossier.event_count)
            .bind(&dossier.last_event_hash)
            .execute(&mut *$conn)
            .await
            .map_err(|e| $crate::sql::conflict(e, &format!("dossier {code}")))?;
            $crate::sql::insert_event!(&mut *$conn, &event);
            $crate::sql::link_files!(&mut *$conn, &code, &new.submitted_by, &new.attachments);
            let tally = domain::stats::Tally::of(&dossier);
            $crate::sql::add_deltas(&mut *$counters, domain::stats::deltas(&event, &tally));
            if let Some(key) = idempotency_key {
                let inserted = sqlx::query(
                    "INSERT INTO idempotency_keys (username, key, dossier_code, created_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&new.submitted_by)
                .bind(key)
                .bind(&code)
                .bind(new.submitted_at)
                .execute(&mut *$conn)
                .await;
                if let Err(sqlx::Error::Database(db)) = &inserted {
                    if db.is_unique_violation() {
                        return Ok($crate::sql::Inserted::DuplicateKey);
                    }
                }
                inserted?;
            }
            Ok::<_, $crate::StoreError>($crate::sql::Inserted::Dossier(Box::new(dossier)))
        }
    };
}
pub(crate) use insert_dossier;

macro_rules! insert_event {
    ($executor:expr, $event:expr) => {{
        let event: &domain::dossier::EventRecord = $event;
        sqlx::query(&format!(
            "INSERT INTO dossier_events ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            $crate::sql::EVENT_COLUMNS
        ))
        .bind(&event.dossier_code)
        .bind(event.sequence as i64)
        .bind(event.at)
        .bind(&event.actor)
        .bind(event.agency.as_deref())
        .bind(event.action.code())
        .bind(event.from_status.code())
        .bind(event.to_status.code())
        .bind(&event.payload)
        .bind(&event.prev_hash)
        .bind(&event.hash)
        .execute($executor)
        .await?;
    }};
}
pub(crate) use insert_event;

/// Makes uploads of `owner` documents of dossier `code`; an upload that is not the owner's or
/// already belongs to a dossier makes the whole write fail.
macro_rules! link_files {
    ($executor:expr, $code:expr, $owner:expr, $files:expr) => {{
        let (code, owner, files): (&str, &str, &[domain::attachment::AttachmentLink]) =
            ($code, $owner, $files);
        for file in files {
            let linked = sqlx::query(
                "UPDATE attachments SET dossier_code = $1, document = $2
                 WHERE id = $3 AND owner = $4 AND dossier_code IS NULL",
            )
            .bind(code)
            .bind(&file.document)
            .bind(&file.id)
            .bind(owner)
            .execute(&mut *$executor)
            .await?;
            if linked.rows_affected() != 1 {
                return Err($crate::StoreError::Conflict(format!(
                    "upload {} is not one of {owner}'s unattached files",
                    file.id
                )));
            }
        }
    }};
}
pub(crate) use link_files;

/// Adds `$value` to one statistics counter.
/// Adds counter deltas to a write's (or a batch's) sum.
pub(crate) fn add_deltas(
    counters: &mut std::collections::BTreeMap<domain::stats::CounterKey, i64>,
    deltas: Vec<(domain::stats::CounterKey, i64)>,
) {
    for (key, value) in deltas {
        *counters.entry(key).or_insert(0) += value;
    }
}

/// Adds summed counter deltas to the stored counters: each flow to its day's counter (whose
/// triggers keep the agency's day and month roll-ups, `0009_rollup_triggers.sql`), each stock
/// to the holdings; one multi-row upsert per table and chunk, so a batch of writes costs two
/// statements, not several per event.
macro_rules! write_counters {
    ($executor:expr, $counters:expr) => {
        async {
            use domain::stats::CounterKey;
            let counters: &std::collections::BTreeMap<CounterKey, i64> = $counters;
            let (stocks, flows): (Vec<(&CounterKey, &i64)>, Vec<_>) = counters
                .iter()
                .filter(|(_, v)| **v != 0)
                .partition(|(k, _)| k.metric.is_stock());
            for chunk in flows.chunks(3000) {
                let mut upsert = sqlx::QueryBuilder::new(
                    "INSERT INTO dossier_stats (day, agency_code, procedure_code, channel, metric, value) ",
                );
                upsert.push_values(chunk, |mut row, (k, v)| {
                    row.push_bind(k.day)
                        .push_bind(k.agency.as_str())
                        .push_bind(k.procedure.as_str())
                        .push_bind(k.channel.code())
                        .push_bind(k.metric.code())
                        .push_bind(**v);
                });
                upsert.push(
                    " ON CONFLICT (agency_code, day, procedure_code, channel, metric)
                      DO UPDATE SET value = dossier_stats.value + excluded.value",
                );
                upsert.build().execute(&mut *$executor).await?;
            }
            for chunk in stocks.chunks(3000) {
                let mut upsert = sqlx::QueryBuilder::new(
                    "INSERT INTO dossier_holdings (agency_code, procedure_code, channel, metric, due_day, value) ",
                );
                upsert.push_values(chunk, |mut row, (k, v)| {
                    row.push_bind(k.agency.as_str())
                        .push_bind(k.procedure.as_str())
                        .push_bind(k.channel.code())
                        .push_bind(k.metric.code())
                        .push_bind(k.day)
                        .push_bind(**v);
                });
                upsert.push(
                    " ON CONFLICT (agency_code, procedure_code, channel, metric, due_day)
                      DO UPDATE SET value = dossier_holdings.value + excluded.value",
                );
                upsert.build().execute(&mut *$executor).await?;
            }
            Ok::<_, $crate::StoreError>(())
        }
    };
}
pub(crate) use write_counters;

/// Which days of a statistics period come from the monthly roll-up and which from the daily
/// counters. An empty range has its start after its end.
pub(crate) struct PeriodPlan {
    /// A filter or grouping needs the per-procedure, per-channel rows.
    pub detailed: bool,
    pub months: (chrono::NaiveDate, chrono::NaiveDate),
    pub head: (chrono::NaiveDate, chrono::NaiveDate),
    pub tail: (chrono::NaiveDate, chrono::NaiveDate),
}

impl PeriodPlan {
    pub(crate) fn of(query: &crate::StatsQuery) -> Self {
        let from = query.from;
        // Days after today hold nothing yet: a period reaching today may as well reach the
        // end of this month, which lets the monthly roll-up serve the month so far.
        let to = match next_month(query.today).and_then(|n| n.pred_opt()) {
            Some(month_end) if query.to >= query.today => query.to.max(month_end),
            _ => query.to,
        };
        // Dates both backends store and compare (SQLite as text).
        let none = (
            domain::stats::NO_DEADLINE,
            chrono::NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default(),
        );
        let detailed = !query.procedures.is_empty()
            || query.channel.is_some()
            || matches!(
                query.group,
                crate::StatsGroup::Procedure | crate::StatsGroup::Channel
            );
        // The first whole month starts on or after `from`; the last ends on or before `to`.
        let first = if month_of(from) == from {
            Some(from)
        } else {
            next_month(from)
        };
        let after_last = next_month(to).filter(|next| next.pred_opt() == Some(to));
        let last = after_last.or_else(|| Some(month_of(to)));
        match (first, last) {
            (Some(first), Some(end)) if !detailed && first < end => Self {
                detailed,
                months: (first, end.pred_opt().unwrap_or(end)),
                head: (from, first.pred_opt().unwrap_or(first)),
                tail: (end, to),
            },
            _ => Self {
                detailed,
                months: none,
                head: (from, to),
                tail: none,
            },
        }
    }
}

fn next_month(day: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
    month_of(day).checked_add_months(chrono::Months::new(1))
}

/// The SQL that names a counter row's group.
pub(crate) fn group_expression(group: crate::StatsGroup) -> &'static str {
    match group {
        crate::StatsGroup::Total => "''",
        crate::StatsGroup::Agency => "agency_code",
        crate::StatsGroup::Level => "(SELECT level_code FROM agencies WHERE code = agency_code)",
        crate::StatsGroup::Procedure => "procedure_code",
        crate::StatsGroup::Channel => "channel",
        crate::StatsGroup::Month => "substr(CAST(day AS TEXT), 1, 7)",
        crate::StatsGroup::AgencyMonth => "agency_code || ' ' || substr(CAST(day AS TEXT), 1, 7)",
    }
}

/// The procedure and channel conditions, with placeholders numbered from `first`.
pub(crate) fn detail_filters(query: &crate::StatsQuery, first: usize) -> String {
    let mut sql = String::new();
    let count = query.procedures.len();
    if count > 0 {
        sql.push_str(&format!(
            " AND procedure_code IN ({})",
            placeholders(first, count)
        ));
    }
    if query.channel.is_some() {
        sql.push_str(&format!(" AND channel = ${}", first + count));
    }
    sql
}

pub(crate) fn stat_rows(rows: Vec<(String, String, i64)>) -> crate::Result<Vec<crate::StatRow>> {
    rows.into_iter()
        .map(|(group, metric, value)| {
            let metric = self::metric(&metric)?;
            Ok(crate::StatRow {
                group,
                metric,
                value,
            })
        })
        .collect()
}

/// `subtree (code)`: the agency `$1` and every agency below it, for `… IN (SELECT code FROM
/// subtree)`.
pub(crate) const SUBTREE: &str = "WITH RECURSIVE subtree (code) AS (
    SELECT code FROM agencies WHERE code = $1
    UNION ALL
    SELECT a.code FROM agencies a JOIN subtree s ON a.parent_code = s.code)";

/// `$first, …` for an IN list of `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first day of `day`'s month: the key of the monthly roll-up.
pub(crate) fn month_of(day: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    day.with_day(1).unwrap_or(day)
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

pub(crate) fn channel(code: &str) -> Result<domain::Channel, StoreError> {
    domain::Channel::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown channel '{code}'")))
}

pub(crate) fn metric(code: &str) -> Result<domain::stats::Metric, StoreError> {
    domain::stats::Metric::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown metric '{code}'")))
}

pub(crate) fn action(code: &str) -> Result<domain::dossier::Action, StoreError> {
    domain::dossier::Action::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown action '{code}'")))
}

pub(crate) fn status(code: &str) -> Result<domain::dossier::Status, StoreError> {
    domain::dossier::Status::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown status '{code}'")))
}

pub(crate) fn decode_user(
    (username, full_name, role, agency): (String, String, String, Option<String>),
) -> Result<domain::user::User, StoreError> {
    Ok(domain::user::User {
        role: domain::user::Role::from_code(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("user {username}: unknown role {role}")))?,
        agency: agency
            .as_deref()
            .map(AgencyCode::parse)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("user {username}: {e}")))?,
        username,
        full_name,
        assurance: Default::default(),
    })
}

pub(crate) fn corrupt(what: &str) -> impl Fn(domain::InvalidField) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("stored values serialise")
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

macro_rules! dossier_from_row {
    ($row:expr) => {{
        use sqlx::Row;
        let row = $row;
        let code: String = row.try_get("code")?;
        let what = format!("dossier {code}");
        domain::dossier::Dossier {
            procedure: domain::ProcedureCode::parse(&row.try_get::<String, _>("procedure_code")?)
                .map_err($crate::sql::corrupt(&what))?,
            procedure_version: row.try_get("procedure_version")?,
            agency: domain::AgencyCode::parse(&row.try_get::<String, _>("agency_code")?)
                .map_err($crate::sql::corrupt(&what))?,
            channel: $crate::sql::channel(&row.try_get::<String, _>("channel")?)?,
            applicant: row.try_get("applicant")?,
            state: $crate::sql::from_json(&what, &row.try_get::<String, _>("state")?)?,
            form: $crate::sql::from_json(&what, &row.try_get::<String, _>("form")?)?,
            submitted_at: row.try_get("submitted_at")?,
            received_at: row.try_get("received_at")?,
            due_at: row.try_get("due_at")?,
            paused_at: row.try_get("paused_at")?,
            ended_at: row.try_get("ended_at")?,
            version: row.try_get("version")?,
            event_count: row.try_get("event_count")?,
            last_event_hash: row.try_get("last_event_hash")?,
            code,
        }
    }};
}
pub(crate) use dossier_from_row;

macro_rules! event_from_row {
    ($row:expr) => {{
        use sqlx::Row;
        let row = $row;
        domain::dossier::EventRecord {
            dossier_code: row.try_get("dossier_code")?,
            sequence: row.try_get::<i64, _>("sequence")? as u64,
            at: row.try_get("at")?,
            actor: row.try_get("actor")?,
            agency: row.try_get("agency_code")?,
            action: $crate::sql::action(&row.try_get::<String, _>("action")?)?,
            from_status: $crate::sql::status(&row.try_get::<String, _>("from_status")?)?,
            to_status: $crate::sql::status(&row.try_get::<String, _>("to_status")?)?,
            payload: row.try_get("payload")?,
            prev_hash: row.try_get("prev_hash")?,
            hash: row.try_get("hash")?,
        }
    }};
}
pub(crate) use event_from_row;

pub(crate) const DOSSIER_COLUMNS: &str = "code, procedure_code, procedure_version, agency_code, \
    channel, applicant, status, state, form, submitted_at, received_at, due_at, paused_at, \
    ended_at, version, event_count, last_event_hash";

pub(crate) const DRAFT_COLUMNS: &str =
    "id, username, procedure_code, agency_code, form, attachments, updated_at";

pub(crate) const ATTACHMENT_COLUMNS: &str = "id, owner, dossier_code, document, file_name, \
    content_type, size, sha256, created_at";

pub(crate) fn draft_from_row<R: sqlx::Row>(row: R) -> Result<domain::dossier::Draft, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> chrono::DateTime<chrono::Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let id: String = row.try_get("id")?;
    let what = format!("draft {id}");
    Ok(domain::dossier::Draft {
        username: row.try_get("username")?,
        procedure: ProcedureCode::parse(&row.try_get::<String, _>("procedure_code")?)
            .map_err(corrupt(&what))?,
        agency: row
            .try_get::<Option<String>, _>("agency_code")?
            .as_deref()
            .map(AgencyCode::parse)
            .transpose()
            .map_err(corrupt(&what))?,
        form: from_json(&what, &row.try_get::<String, _>("form")?)?,
        attachments: from_json(&what, &row.try_get::<String, _>("attachments")?)?,
        updated_at: row.try_get("updated_at")?,
        id,
    })
}

pub(crate) fn attachment_from_row<R: sqlx::Row>(
    row: R,
) -> Result<domain::attachment::Attachment, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> chrono::DateTime<chrono::Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(domain::attachment::Attachment {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        dossier_code: row.try_get("dossier_code")?,
        document: row.try_get("document")?,
        file_name: row.try_get("file_name")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        created_at: row.try_get("created_at")?,
    })
}

/// One event as the audit query returns it: a JSON array of the event columns in order.
type EventTuple = (
    String,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// Events from the audit query's JSON array of arrays.
pub(crate) fn events_from_json(
    json: &str,
) -> Result<Vec<domain::dossier::EventRecord>, StoreError> {
    let tuples: Vec<EventTuple> = from_json("event log", json)?;
    tuples
        .into_iter()
        .map(
            |(code, sequence, at, actor, agency, action, from, to, payload, prev_hash, hash)| {
                let at = chrono::DateTime::parse_from_rfc3339(&at)
                    .map_err(|e| StoreError::Corrupt(format!("event {code}/{sequence}: {e}")))?
                    .to_utc();
                Ok(domain::dossier::EventRecord {
                    action: self::action(&action)?,
                    from_status: status(&from)?,
                    to_status: status(&to)?,
                    sequence: sequence as u64,
                    dossier_code: code,
                    at,
                    actor,
                    agency,
                    payload,
                    prev_hash,
                    hash,
                })
            },
        )
        .collect()
}

pub(crate) const EVENT_COLUMNS: &str = "dossier_code, sequence, at, actor, agency_code, action, \
    from_status, to_status, payload, prev_hash, hash";

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
        _ => StoreError::from(e),
    }
}
