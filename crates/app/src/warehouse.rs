//! The citizen's data warehouse (kho dữ liệu): the documents and e-results of their earlier
//! dossiers, which a new submission takes instead of asking for the file again (once-only).

use chrono::{DateTime, Utc};
use domain::attachment::Attachment;
use domain::service::RESULT_DOCUMENT;
use domain::user::{Role, User};
use rand::RngCore;
use serde::Serialize;

use crate::{App, AppError, Result};

/// The most documents the warehouse lists.
const WAREHOUSE_LIMIT: i64 = 200;

#[derive(Debug, Clone, Serialize)]
pub struct WarehouseItem {
    pub id: String,
    pub dossier: String,
    pub document: String,
    pub file_name: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
    /// An e-result issued to the citizen, rather than a document they sent.
    pub is_result: bool,
}

impl App {
    /// The citizen's own documents and e-results, newest first.
    pub async fn warehouse(&self, actor: &User) -> Result<Vec<WarehouseItem>> {
        if actor.role != Role::Citizen {
            return Err(AppError::Forbidden(
                "the data warehouse holds a citizen's own documents".into(),
            ));
        }
        Ok(self
            .store
            .warehouse_files(&actor.username, WAREHOUSE_LIMIT)
            .await?
            .into_iter()
            .filter_map(|a| {
                Some(WarehouseItem {
                    is_result: a.document == RESULT_DOCUMENT,
                    dossier: a.dossier_code?,
                    id: a.id,
                    document: a.document,
                    file_name: a.file_name,
                    size: a.size,
                    created_at: a.created_at,
                })
            })
            .collect())
    }

    /// Makes an upload of the citizen's from a document in their warehouse, as if they had sent
    /// the file again; a submission then names it like any upload, and its event records
    /// which dossier it was reused from.
    pub async fn reuse_document(&self, actor: &User, source: &str) -> Result<Attachment> {
        let not_found = || AppError::NotFound {
            what: "warehouse document",
            id: source.to_owned(),
        };
        if actor.role != Role::Citizen {
            return Err(not_found());
        }
        let original = self.store.attachment(source).await?.ok_or_else(not_found)?;
        let dossier_code = original.dossier_code.clone().ok_or_else(not_found)?;
        let dossier = self
            .store
            .dossier(&dossier_code)
            .await?
            .ok_or_else(not_found)?;
        if dossier.applicant != actor.username {
            return Err(not_found());
        }
        let content = self.objects.get(&crate::files::object_key(source)).await?;
        if crate::sha256_hex(&content) != original.sha256 {
            return Err(AppError::Conflict(format!(
                "document {source} does not match the hash recorded when it was stored"
            )));
        }
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        let copy = Attachment {
            id: domain::text::hex(&id),
            owner: actor.username.clone(),
            dossier_code: None,
            document: String::new(),
            created_at: Utc::now(),
            ..original
        };
        self.objects
            .put(&crate::files::object_key(&copy.id), content)
            .await?;
        self.store.put_attachment(&copy).await?;
        self.store
            .record_reuse(&copy.id, None, source, &dossier_code, copy.created_at)
            .await?;
        Ok(copy)
    }
}

impl App {
    /// Takes a signed result from another member (its QR code names it) into a new upload of
    /// the citizen's, with their consent: the provider's answer is signed by the provider, the
    /// document by its issuing agency, and the content must match the signed hash.
    pub async fn fetch_from_member(
        &self,
        actor: &User,
        member: &str,
        result: &str,
        consent: bool,
    ) -> Result<Attachment> {
        if actor.role != Role::Citizen {
            return Err(AppError::Forbidden(
                "a citizen fetches their own results from other agencies".into(),
            ));
        }
        if !consent {
            return Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                "consent",
                "agree that this portal fetches the document from the other agency for you",
                "đồng ý để cổng lấy giấy tờ từ cơ quan kia thay bạn",
            )]));
        }
        let provider =
            domain::exchange::MemberId::parse(member).map_err(|e| AppError::Invalid(vec![e]))?;
        let (status, answer) = self
            .call_member(&provider, "result-file", &[("id", result.trim())], None)
            .await?;
        match status {
            200 => {}
            404 => {
                return Err(AppError::NotFound {
                    what: "signed result",
                    id: format!("{member} {result}"),
                });
            }
            401 | 403 => {
                return Err(AppError::Forbidden(format!(
                    "{member} refused to give the document: {}",
                    answer["title"].as_str().unwrap_or("")
                )));
            }
            _ => {
                return Err(AppError::Unavailable(format!(
                    "{member} did not give the document (HTTP {status}): {}",
                    answer["title"]
                        .as_str()
                        .or(answer["detail"].as_str())
                        .unwrap_or("")
                )));
            }
        }
        let text = |name: &str| answer[name].as_str().unwrap_or_default().to_owned();
        let content = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(text("content"))
                .map_err(|_| {
                    AppError::Unavailable(format!("{member} sent a document that is not base64"))
                })?
        };
        let signed_at: chrono::DateTime<Utc> = serde_json::from_value(answer["signed_at"].clone())
            .map_err(|_| AppError::Unavailable(format!("{member} sent no signing time")))?;
        let message = domain::exchange::result_message(
            &text("dossier"),
            &text("agency_code"),
            &text("document"),
            &text("file_name"),
            &text("sha256"),
            signed_at,
        );
        if crate::sha256_hex(&content) != text("sha256")
            || !domain::exchange::verify(&text("public_key"), &message, &text("signature"))
        {
            return Err(AppError::Unavailable(format!(
                "the document from {member} does not match its agency's signature"
            )));
        }
        let copy = self.upload(actor, &text("file_name"), content).await?;
        self.store
            .record_reuse(
                &copy.id,
                Some(member),
                result.trim(),
                &text("dossier"),
                Utc::now(),
            )
            .await?;
        Ok(copy)
    }
}
