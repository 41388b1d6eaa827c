//! Exchange formats of the procedure catalogue.

pub mod dvcqg;

use sha2::{Digest, Sha256};

use crate::Procedure;

/// A fingerprint of what a procedure version says, ignoring when it takes effect, so that
/// re-importing an unchanged record is recognised and changes nothing.
pub fn content_hash(procedure: &Procedure) -> String {
    let mut unversioned = procedure.clone();
    unversioned.effective_from = chrono::NaiveDate::MIN;
    let bytes = serde_json::to_vec(&unversioned).expect("a procedure always serialises");
    let digest = Sha256::digest(&bytes);
    crate::text::hex(&digest)
}
