//! Service designs: the e-form, documents and steps each procedure version is served with.

use std::sync::Arc;

use domain::service::{FormSchema, ServiceDesign};
use domain::user::{Role, User};
use domain::{Procedure, ProcedureCode};

use crate::{App, AppError, Result};

/// A design with its compiled form, shared by every submission to the procedure version.
#[derive(Debug)]
pub struct Served {
    pub design: ServiceDesign,
    pub form: FormSchema,
    /// False when the procedure has no design of its own and gets the generic one.
    pub designed: bool,
}

/// One entry of a service design file: `[{"procedure", "effective_from", "design"}]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignRecord {
    pub procedure: String,
    pub effective_from: chrono::NaiveDate,
    pub design: ServiceDesign,
}

impl App {
    /// Stores the designs of a file after checking every one of them: a bad entry is named by
    /// its index and nothing is stored.
    pub async fn import_service_designs(&self, bytes: &[u8]) -> Result<usize> {
        let records: Vec<DesignRecord> = serde_json::from_slice(bytes).map_err(|e| {
            AppError::invalid("file", format!("not a list of service designs: {e}"))
        })?;
        let mut errors = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let field = format!("[{i}]");
            let Ok(code) = ProcedureCode::parse(&r.procedure) else {
                errors.push(domain::InvalidField::new(
                    format!("{field}.procedure"),
                    format!("'{}' is not a procedure code", r.procedure),
                ));
                continue;
            };
            match self.store.procedure(&code, r.effective_from).await? {
                None => errors.push(domain::InvalidField::new(
                    format!("{field}.procedure"),
                    format!("no procedure has the code {code}"),
                )),
                Some(p) => {
                    if let Err(e) = r.design.clone().filled_from(&p).validate() {
                        errors.push(domain::InvalidField::new(
                            format!("{field}.design"),
                            e.to_string(),
                        ));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        for r in &records {
            self.put_service_design(None, &r.procedure, r.effective_from, r.design.clone())
                .await?;
        }
        Ok(records.len())
    }

    /// How a procedure version is served: its own design, or the generic one.
    pub async fn served(&self, procedure: &Procedure) -> Result<Arc<Served>> {
        let key = (procedure.code.clone(), procedure.effective_from);
        if let Some(found) = self
            .cache
            .designs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(found.clone());
        }
        let stored = self
            .store
            .service_design(&procedure.code, procedure.effective_from)
            .await?;
        let designed = stored.is_some();
        let design = match stored {
            Some(design) => design.filled_from(procedure),
            None => ServiceDesign::generic(procedure),
        };
        let form = design.validate().map_err(|e| {
            AppError::Conflict(format!(
                "the stored design of {} is broken: {e}",
                procedure.code
            ))
        })?;
        let served = Arc::new(Served {
            design,
            form,
            designed,
        });
        self.cache
            .designs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, served.clone());
        Ok(served)
    }

    /// The procedure version a dossier was submitted under and how it is served.
    pub(crate) async fn served_for(
        &self,
        code: &ProcedureCode,
        version: chrono::NaiveDate,
    ) -> Result<(Arc<Procedure>, Arc<Served>)> {
        let procedure =
            self.procedure_on(code, version)
                .await?
                .ok_or_else(|| AppError::NotFound {
                    what: "procedure",
                    id: code.to_string(),
                })?;
        let served = self.served(&procedure).await?;
        Ok((procedure, served))
    }

    /// Stores a design from the version in force on `from` (an operator's or an agency
    /// administrator's change), after checking it.
    pub async fn put_service_design(
        &self,
        actor: Option<&User>,
        code: &str,
        from: chrono::NaiveDate,
        design: ServiceDesign,
    ) -> Result<()> {
        if let Some(actor) = actor
            && !matches!(actor.role, Role::AgencyAdmin | Role::SystemAdmin)
        {
            return Err(AppError::Forbidden(
                "only administrators change how a procedure is served".into(),
            ));
        }
        let code = ProcedureCode::parse(code)?;
        let Some(procedure) = self.store.procedure(&code, from).await? else {
            return Err(AppError::NotFound {
                what: "procedure",
                id: code.to_string(),
            });
        };
        design
            .clone()
            .filled_from(&procedure)
            .validate()
            .map_err(|e| AppError::invalid("design", e.to_string()))?;
        self.store.put_service_design(&code, from, &design).await?;
        self.cache
            .designs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }
}

impl App {
    /// The procedure version in force today and how it is served, for the application page.
    pub async fn application(&self, code: &str) -> Result<(Arc<Procedure>, Arc<Served>)> {
        let not_found = || AppError::NotFound {
            what: "procedure",
            id: code.to_owned(),
        };
        let code = ProcedureCode::parse(code).map_err(|_| not_found())?;
        let procedure = self
            .procedure_on(&code, crate::today())
            .await?
            .ok_or_else(not_found)?;
        let served = self.served(&procedure).await?;
        Ok((procedure, served))
    }

    /// Agencies at the given levels, in tree order: where a procedure can be applied for, or
    /// where a step can send a dossier.
    pub async fn agencies_at(&self, levels: &[String]) -> Result<Vec<domain::Agency>> {
        let agencies = self.store.agencies().await?;
        Ok(domain::agency::tree_order(&agencies)
            .into_iter()
            .filter(|(_, a)| levels.contains(&a.level))
            .map(|(_, a)| a.clone())
            .collect())
    }

    /// A procedure's name for lists of dossiers (from memory after the first read).
    pub async fn procedure_name(&self, code: &ProcedureCode, version: chrono::NaiveDate) -> String {
        match self.procedure_on(code, version).await {
            Ok(Some(p)) => p.name.clone(),
            _ => code.to_string(),
        }
    }
}
