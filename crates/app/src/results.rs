//! Verifiable e-results: each result document is signed by the issuing agency's Ed25519 key;
//! the QR code on its certificate opens a public page that checks the signature and, given the
//! file, that it is the one signed.

use chrono::{DateTime, Utc};
use domain::exchange::{self, MemberKey};
use domain::service::RESULT_DOCUMENT;
use domain::user::User;
use serde::Serialize;
use store::ResultSignature;

use crate::{App, AppError, Result};

/// What the verification page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub signature: ResultSignature,
    pub agency_name: String,
    /// The signature is the agency's over what the record says.
    pub authentic: bool,
    /// Given a file: whether it is the one signed.
    pub file_matches: Option<bool>,
    pub verify_url: String,
}

impl App {
    /// The key an agency signs its results with.
    async fn agency_key(&self, agency: &str) -> Result<MemberKey> {
        self.member_key(&format!("result_signing_seed:{agency}"))
            .await
    }

    /// Signs the dossier's result documents not signed yet, as `agency`.
    pub(crate) async fn sign_results(
        &self,
        code: &str,
        agency: &str,
    ) -> Result<Vec<ResultSignature>> {
        let signed = self.store.result_signatures(code).await?;
        let key = self.agency_key(agency).await?;
        let mut new = Vec::new();
        for file in self.store.dossier_attachments(code).await? {
            if file.document != RESULT_DOCUMENT
                || signed
                    .iter()
                    .any(|s| s.sha256 == file.sha256 && s.file_name == file.file_name)
            {
                continue;
            }
            // Microseconds, as the database keeps them, so the signed text reads back the same.
            let signed_at = DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
                .expect("now is a valid time");
            let message = exchange::result_message(
                code,
                agency,
                &file.document,
                &file.file_name,
                &file.sha256,
                signed_at,
            );
            new.push(ResultSignature {
                // Named by what it signs, so two nodes signing at once write one row.
                id: crate::sha256_hex(format!("{code}\n{}", file.id).as_bytes())[..32].to_owned(),
                dossier: code.to_owned(),
                agency_code: agency.to_owned(),
                document: file.document.clone(),
                file_name: file.file_name.clone(),
                sha256: file.sha256.clone(),
                signed_at,
                public_key: key.public_base64(),
                signature: key.sign(&message),
            });
        }
        if new.is_empty() {
            return Ok(signed);
        }
        self.store.put_result_signatures(&new).await?;
        // What is stored, should another node have signed the same file first.
        Ok(self.store.result_signatures(code).await?)
    }

    /// A dossier's signed results (signing any still unsigned as its receiving agency).
    pub(crate) async fn result_documents(&self, code: &str) -> Result<Vec<serde_json::Value>> {
        let dossier = self
            .store
            .dossier(code)
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "dossier",
                id: code.to_owned(),
            })?;
        let signed = self.sign_results(code, dossier.agency.as_str()).await?;
        Ok(signed
            .into_iter()
            .map(|s| {
                let url = self.verify_url(&s.id);
                let mut value = serde_json::to_value(s).expect("JSON");
                value["verify_url"] = url.into();
                value
            })
            .collect())
    }

    /// The results of a dossier the actor may see, with where each is verified.
    pub async fn results_for(&self, actor: &User, code: &str) -> Result<Vec<serde_json::Value>> {
        self.visible_dossier(actor, code, None).await?;
        self.result_documents(code).await
    }

    pub fn verify_url(&self, id: &str) -> String {
        format!("{}/verify/{id}", self.public_url())
    }

    /// Checks a signed result and, given a file, that it is the one signed. Anyone may ask:
    /// the page names the dossier, the agency and the file, not the applicant.
    pub async fn verify_result(&self, id: &str, file: Option<&[u8]>) -> Result<Verification> {
        let signature = self
            .store
            .result_signature(id.trim())
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "signed result",
                id: id.to_owned(),
            })?;
        // Checked against the agency's key as it is now, not the key the row names: a row
        // edited with another key and signature does not pass.
        let key = self.agency_key(&signature.agency_code).await?;
        let message = exchange::result_message(
            &signature.dossier,
            &signature.agency_code,
            &signature.document,
            &signature.file_name,
            &signature.sha256,
            signature.signed_at,
        );
        let authentic = key.public_base64() == signature.public_key
            && exchange::verify(&key.public_base64(), &message, &signature.signature);
        let agency_name = match domain::AgencyCode::parse(&signature.agency_code) {
            Ok(code) => self
                .agency(&code)
                .await?
                .map(|a| a.name)
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        Ok(Verification {
            file_matches: file.map(|bytes| crate::sha256_hex(bytes) == signature.sha256),
            verify_url: self.verify_url(&signature.id),
            agency_name,
            authentic,
            signature,
        })
    }
}

impl App {
    /// A signed result with its content, for another member's `result-file` call.
    pub(crate) async fn result_file(&self, id: &str) -> Result<serde_json::Value> {
        let not_found = || AppError::NotFound {
            what: "signed result",
            id: id.to_owned(),
        };
        let signature = self
            .store
            .result_signature(id.trim())
            .await?
            .ok_or_else(not_found)?;
        let file = self
            .store
            .dossier_attachments(&signature.dossier)
            .await?
            .into_iter()
            .find(|a| a.document == RESULT_DOCUMENT && a.sha256 == signature.sha256)
            .ok_or_else(not_found)?;
        let content = self
            .objects
            .get(&crate::files::object_key(&file.id))
            .await?;
        if crate::sha256_hex(&content) != signature.sha256 {
            return Err(AppError::Conflict(format!(
                "the stored result {id} does not match its signed hash"
            )));
        }
        let mut value = serde_json::to_value(&signature).expect("JSON");
        value["content_type"] = file.content_type.into();
        value["content"] = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .encode(&content)
                .into()
        };
        Ok(value)
    }
}
