//! Drafts: a citizen's unfinished applications, kept until they are submitted or dropped.
//! A draft is not checked against the e-form: people save half-filled forms.

use chrono::Utc;
use domain::dossier::Draft;
use domain::user::{Role, User};
use domain::{AgencyCode, ProcedureCode};
use rand::RngCore;

use crate::dossiers::AttachmentChoice;
use crate::{App, AppError, Result};

/// How many drafts one person keeps at most.
const MAX_DRAFTS: usize = 50;

#[derive(Debug, Clone, serde::Deserialize)]
pub struct SaveDraft {
    /// The draft to update; a new one when absent.
    pub id: Option<String>,
    pub procedure: String,
    pub agency: Option<String>,
    pub form: serde_json::Value,
    #[serde(default)]
    pub attachments: Vec<AttachmentChoice>,
}

impl App {
    pub async fn save_draft(&self, actor: &User, input: SaveDraft) -> Result<Draft> {
        if actor.role != Role::Citizen {
            return Err(AppError::Forbidden("drafts are for applicants".into()));
        }
        let procedure = ProcedureCode::parse(&input.procedure)
            .map_err(|e| AppError::invalid("procedure", e.reason))?;
        let Some(version) = self.procedure_on(&procedure, crate::today()).await? else {
            return Err(AppError::invalid(
                "procedure",
                format!("no procedure has the code {procedure}"),
            ));
        };
        let agency = match input
            .agency
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            None => None,
            Some(raw) => {
                let code =
                    AgencyCode::parse(raw).map_err(|e| AppError::invalid("agency", e.reason))?;
                if self.agency(&code).await?.is_none() {
                    return Err(AppError::invalid(
                        "agency",
                        format!("no agency has the code {code}"),
                    ));
                }
                Some(code)
            }
        };
        if !input.form.is_object() {
            return Err(AppError::invalid(
                "form",
                "must be a JSON object of the form's fields",
            ));
        }
        let id = match input.id {
            Some(id) => {
                self.draft_for(actor, &id).await?;
                id
            }
            None => {
                if self.store.drafts(&actor.username).await?.len() >= MAX_DRAFTS {
                    return Err(AppError::Conflict(format!(
                        "you keep {MAX_DRAFTS} drafts already: submit or delete some"
                    )));
                }
                let mut bytes = [0u8; 12];
                rand::rng().fill_bytes(&mut bytes);
                domain::text::hex(&bytes)
            }
        };
        let draft = Draft {
            id,
            username: actor.username.clone(),
            procedure,
            agency,
            form: input.form,
            attachments: input
                .attachments
                .into_iter()
                .map(|a| (a.document, a.upload))
                .collect(),
            updated_at: Utc::now(),
        };
        // Kept with its identifiers and contact details sealed, as a dossier's are.
        let fields = &self.served(&version).await?.form.fields;
        let stored = Draft {
            form: self.seal_personal(fields, draft.form.clone())?,
            ..draft.clone()
        };
        self.store.save_draft(&stored).await?;
        Ok(draft)
    }

    /// The actor's own drafts, as they typed them.
    pub async fn drafts(&self, actor: &User) -> Result<Vec<Draft>> {
        let drafts = self.store.drafts(&actor.username).await?;
        Ok(drafts.into_iter().map(|d| self.opened(d)).collect())
    }

    /// One of the actor's own drafts; anyone else's is "not found".
    pub async fn draft_for(&self, actor: &User, id: &str) -> Result<Draft> {
        self.store
            .draft(id)
            .await?
            .filter(|d| d.username == actor.username)
            .map(|d| self.opened(d))
            .ok_or_else(|| AppError::NotFound {
                what: "draft",
                id: id.to_owned(),
            })
    }

    fn opened(&self, mut draft: Draft) -> Draft {
        draft.form = self.open_form(draft.form, true);
        draft
    }

    pub async fn delete_draft(&self, actor: &User, id: &str) -> Result<()> {
        self.draft_for(actor, id).await?;
        Ok(self.store.delete_draft(id).await?)
    }
}
