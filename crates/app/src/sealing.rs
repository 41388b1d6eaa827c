//! Envelope encryption of personal data at rest. A master key, from configuration or a key
//! file and never stored in the database, wraps data keys that are stored (`data_keys`); the
//! newest data key seals new values with XChaCha20-Poly1305, each bound to where it is kept
//! (its context is authenticated data, so a sealed value moved to another column does not
//! open). Rotating means adding a data key: older values still open under theirs.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::{App, AppError, Result};

/// The master key: 32 bytes.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// From its base64 text (as configured or kept in a key file).
    pub fn from_base64(text: &str) -> std::result::Result<Self, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .or_else(|_| B64.decode(text.trim()))
            .map_err(|e| format!("the master key is not base64: {e}"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("the master key has {} bytes, not 32", b.len()))?;
        Ok(Self(key))
    }

    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }
}

/// The opened data keys, by id, and the one that seals; and a key for blind indexes, derived
/// from the master key, so that a stolen database does not hold it.
pub(crate) struct Sealer {
    keys: HashMap<i64, XChaCha20Poly1305>,
    current: i64,
    blind: [u8; 32],
}

const VERSION: &str = "v1";

fn blind_key(master: &MasterKey) -> [u8; 32] {
    crate::hmac_sha256(&master.0, &[b"motcua blind index key"])
}

fn encrypt(cipher: &XChaCha20Poly1305, plain: &[u8], context: &str) -> Result<String> {
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| AppError::Internal("sealing failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(B64.encode(out))
}

fn decrypt(cipher: &XChaCha20Poly1305, text: &str, context: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(text).ok()?;
    if bytes.len() < 24 {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(24);
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: context.as_bytes(),
            },
        )
        .ok()
}

impl Sealer {
    /// Opens the stored data keys with the master key, adding the first one if there is none.
    pub(crate) async fn load(store: &dyn store::Store, master: &MasterKey) -> Result<Self> {
        let kek = XChaCha20Poly1305::new((&master.0).into());
        let mut stored = store.data_keys().await?;
        if stored.is_empty() {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            // The id is not known before the insert: a new key's context is fixed instead.
            let wrapped = encrypt(&kek, &key, "data key")?;
            store.add_data_key(&wrapped).await?;
            // Read them all again: a node starting at the same moment may have added one too,
            // and every node must seal with the same (newest) key.
            stored = store.data_keys().await?;
        }
        let mut keys = HashMap::new();
        for (id, wrapped) in &stored {
            let key = decrypt(&kek, wrapped, "data key").ok_or_else(|| {
                AppError::Internal(format!(
                    "the master key does not open data key {id}: is it the key this database was \
                     set up with?"
                ))
            })?;
            let key: [u8; 32] = key
                .try_into()
                .map_err(|_| AppError::Internal(format!("data key {id} is not 32 bytes")))?;
            keys.insert(*id, XChaCha20Poly1305::new((&key).into()));
        }
        let current = stored.iter().map(|(id, _)| *id).max().unwrap_or_default();
        Ok(Self {
            keys,
            current,
            blind: blind_key(master),
        })
    }

    /// A keyed hash that finds a value without storing it (a blind index).
    pub(crate) fn blind_index(&self, purpose: &str, value: &str) -> String {
        domain::text::hex(&crate::hmac_sha256(
            &self.blind,
            &[purpose.as_bytes(), b"\0", value.as_bytes()],
        ))
    }

    /// `v1.<key id>.<base64 of nonce and ciphertext>`, bound to `context`.
    pub(crate) fn seal(&self, plain: &str, context: &str) -> Result<String> {
        let cipher = &self.keys[&self.current];
        Ok(format!(
            "{VERSION}.{}.{}",
            self.current,
            encrypt(cipher, plain.as_bytes(), context)?
        ))
    }

    pub(crate) fn open(&self, sealed: &str, context: &str) -> Result<String> {
        let corrupt = || AppError::Internal(format!("a sealed {context} does not open"));
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(corrupt());
        };
        let cipher = id
            .parse::<i64>()
            .ok()
            .and_then(|id| self.keys.get(&id))
            .ok_or_else(corrupt)?;
        let plain = decrypt(cipher, body, context).ok_or_else(corrupt)?;
        String::from_utf8(plain).map_err(|_| corrupt())
    }
}

/// Where a dossier's personal form values are kept.
const FORM_CONTEXT: &str = "dossiers.form";

impl App {
    /// Seals the personal fields (identifiers, contact details) of a form before it is stored.
    pub(crate) fn seal_personal(
        &self,
        fields: &[domain::service::FormField],
        mut form: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let sealer = self.sealer()?;
        for field in fields.iter().filter(|f| f.personal) {
            if let Some(value) = form.get_mut(&field.name)
                && let Some(text) = value.as_str().filter(|t| !t.is_empty())
            {
                *value = sealer.seal(text, FORM_CONTEXT)?.into();
            }
        }
        Ok(form)
    }

    /// A dossier as `actor` sees it: sealed form values in the clear for its applicant (and
    /// when `reveal`, which the caller has recorded), masked for everyone else.
    pub(crate) fn present(
        &self,
        actor: &domain::user::User,
        mut dossier: domain::dossier::Dossier,
        reveal: bool,
    ) -> domain::dossier::Dossier {
        let clear = reveal || dossier.applicant == actor.username;
        dossier.form = self.open_form(dossier.form, clear);
        dossier
    }

    /// A form with its sealed values opened: in the clear, or masked.
    pub(crate) fn open_form(&self, mut form: serde_json::Value, clear: bool) -> serde_json::Value {
        let Ok(sealer) = self.sealer() else {
            return form;
        };
        if let Some(values) = form.as_object_mut() {
            for value in values.values_mut() {
                let Some(text) = value.as_str().filter(|t| t.starts_with("v1.")) else {
                    continue;
                };
                if let Ok(plain) = sealer.open(text, FORM_CONTEXT) {
                    *value = if clear { plain } else { mask(&plain) }.into();
                }
            }
        }
        form
    }

    /// Opens the data keys with the master key; personal data is sealed from then on.
    pub async fn with_master_key(mut self, master: &MasterKey) -> Result<Self> {
        self.sealer = Some(Arc::new(Sealer::load(self.store.as_ref(), master).await?));
        Ok(self)
    }

    pub(crate) fn sealer(&self) -> Result<&Sealer> {
        self.sealer.as_deref().ok_or_else(|| {
            AppError::Internal("no master key: personal data cannot be sealed".into())
        })
    }
}

/// Shows the first and last characters of an identifier, the rest as dots: enough for its
/// owner to recognise it, not enough to use it.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 4 {
        return "•".repeat(chars.len());
    }
    let keep = if chars.len() >= 10 { 3 } else { 1 };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep || i >= chars.len() - keep {
                *c
            } else {
                '•'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        let mut keys = HashMap::new();
        keys.insert(1, XChaCha20Poly1305::new((&[7u8; 32]).into()));
        keys.insert(2, XChaCha20Poly1305::new((&[9u8; 32]).into()));
        Sealer {
            keys,
            current: 2,
            blind: [1u8; 32],
        }
    }

    #[test]
    fn sealed_values_open_only_in_their_place() {
        let s = sealer();
        let sealed = s.seal("001090000001", "users.identity").unwrap();
        assert!(sealed.starts_with("v1.2.") && !sealed.contains("001090000001"));
        assert_ne!(
            sealed,
            s.seal("001090000001", "users.identity").unwrap(),
            "fresh nonce"
        );
        assert_eq!(s.open(&sealed, "users.identity").unwrap(), "001090000001");
        assert!(
            s.open(&sealed, "dossiers.form").is_err(),
            "bound to its context"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(s.open(&tampered, "users.identity").is_err());
        assert!(s.open("v2.2.abc", "users.identity").is_err());
        assert!(s.open("v1.3.abc", "users.identity").is_err(), "unknown key");
    }

    #[test]
    fn older_keys_still_open_what_they_sealed() {
        let mut s = sealer();
        s.current = 1;
        let old = s.seal("x", "c").unwrap();
        s.current = 2;
        assert_eq!(s.open(&old, "c").unwrap(), "x");
    }

    #[test]
    fn master_keys_read_from_base64() {
        let key = MasterKey::generate();
        assert_eq!(MasterKey::from_base64(&key.to_base64()).unwrap().0, key.0);
        assert!(
            MasterKey::from_base64("c2hvcnQ=")
                .unwrap_err()
                .contains("not 32")
        );
        assert!(MasterKey::from_base64("***").is_err());
    }

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask("001090000001"), "001••••••001");
        assert_eq!(mask("0912345678"), "091••••678");
        assert_eq!(mask("12345"), "1•••5");
        assert_eq!(mask("abc"), "•••");
    }
}
