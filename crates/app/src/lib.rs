//! Use cases. Each public method of [`App`] is one action a user or operator takes; it
//! validates its input, applies the domain rules and reads or writes through the store.
//! The web layer and the CLI call only these.

mod catalogue;
mod demo;
mod error;

use std::sync::Arc;

use search::CatalogueIndex;
use store::Store;

pub use catalogue::{
    AgencyNode, CatalogueSearch, Home, ImplementingLevel, MAX_LIMIT, ProcedureDetail, SearchPage,
};
pub use error::AppError;
pub use search::{Card, Facets, Hit};
pub use store::{Backend, FormTemplate, ImportReport, Progress};

pub type Result<T> = std::result::Result<T, AppError>;

#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    index: Arc<CatalogueIndex>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, index: Arc<CatalogueIndex>) -> Self {
        Self { store, index }
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }
}

/// Today in Vietnam (UTC+7, no daylight saving): the day that decides which procedure
/// version is in force.
pub fn today() -> chrono::NaiveDate {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    chrono::Utc::now().with_timezone(&vietnam).date_naive()
}
