//! Uploads: checked by content, hashed, kept in the object store, recorded in the database.

use chrono::Utc;
use domain::attachment::{Attachment, check_file};
use domain::user::{Role, User};
use rand::RngCore;

use crate::{App, AppError, Result};

/// The default size limit of one file.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

impl App {
    /// Stores an uploaded file for the actor; it becomes a dossier's document when a
    /// submission or an action names it.
    pub async fn upload(
        &self,
        actor: &User,
        file_name: &str,
        content: Vec<u8>,
    ) -> Result<Attachment> {
        if !matches!(
            actor.role,
            Role::Citizen | Role::Reception | Role::Handler | Role::Approver
        ) {
            return Err(AppError::Forbidden(format!(
                "the {} role does not attach files to dossiers",
                actor.role.code()
            )));
        }
        let (kind, name) = check_file(file_name, &content, self.upload_limit).map_err(|p| {
            AppError::Invalid(vec![domain::InvalidField::bilingual(
                "file",
                p.to_string(),
                p.reason_vi(),
            )])
        })?;
        if let Some(scanner) = &self.scanner {
            match scanner.scan(&content).await {
                Ok(crate::Verdict::Clean) => {}
                Ok(crate::Verdict::Infected(signature)) => {
                    tracing::warn!(by = %actor.username, file = %name, %signature, "upload refused: malware");
                    return Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                        "file",
                        format!("the virus scan found {signature} in this file: it was not stored"),
                        format!("quét vi-rút phát hiện {signature} trong tệp: tệp không được lưu"),
                    )]));
                }
                Err(e) => {
                    tracing::error!(error = %e, "virus scanner unavailable; upload refused");
                    return Err(AppError::Unavailable(
                        "the virus scanner cannot be reached: try the upload again later".into(),
                    ));
                }
            }
        }
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        let attachment = Attachment {
            id: domain::text::hex(&id),
            owner: actor.username.clone(),
            dossier_code: None,
            document: String::new(),
            file_name: name,
            content_type: kind.content_type.to_owned(),
            size: content.len() as i64,
            sha256: crate::sha256_hex(&content),
            created_at: Utc::now(),
        };
        // Content first: a row never points at a file that is not there.
        self.objects
            .put(&object_key(&attachment.id), content)
            .await?;
        self.store.put_attachment(&attachment).await?;
        Ok(attachment)
    }

    /// A file and its content, for its uploader or whoever may see its dossier.
    pub async fn file_for(&self, actor: &User, id: &str) -> Result<(Attachment, Vec<u8>)> {
        let not_found = || AppError::NotFound {
            what: "file",
            id: id.to_owned(),
        };
        let attachment = self.store.attachment(id).await?.ok_or_else(not_found)?;
        let allowed = match &attachment.dossier_code {
            None => attachment.owner == actor.username,
            Some(code) => self
                .visible_dossier(actor, code, Some(crate::AccessPurpose::Download))
                .await
                .is_ok(),
        };
        if !allowed {
            return Err(not_found());
        }
        let content = self.objects.get(&object_key(id)).await?;
        if crate::sha256_hex(&content) != attachment.sha256 {
            return Err(AppError::Conflict(format!(
                "file {id} does not match the hash recorded when it was uploaded"
            )));
        }
        Ok((attachment, content))
    }

    /// One of the actor's own uploads not yet in a dossier (a draft's files).
    pub async fn own_upload(&self, actor: &User, id: &str) -> Result<Option<Attachment>> {
        Ok(self
            .store
            .attachment(id)
            .await?
            .filter(|a| a.owner == actor.username && a.dossier_code.is_none()))
    }
}

pub(crate) fn object_key(id: &str) -> String {
    format!("attachments/{}/{id}", &id[..2.min(id.len())])
}
