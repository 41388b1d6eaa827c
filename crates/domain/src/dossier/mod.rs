//! Dossiers (hồ sơ): their status model, codes, event chain and on-time judgement.

pub mod chain;
pub mod code;
pub mod record;
pub mod status;
pub mod timeliness;

pub use chain::{ChainError, EventRecord, verify_chain};
pub use code::CodeTemplate;
pub use record::{Dossier, Draft, NewDossier};
pub use status::{Action, DossierState, Status, TransitionError};
pub use timeliness::{Timeliness, judge};
