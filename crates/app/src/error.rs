use domain::InvalidField;
use domain::catalogue::dvcqg::CatalogueError;

/// Why a use case did not happen. Each variant maps to one kind of answer for people and
/// for the API: NotFound → 404, Invalid and Catalogue → 400, Conflict → 409, the rest → 500/503.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{what} '{id}' was not found")]
    NotFound { what: &'static str, id: String },
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<InvalidField>),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error("{0}")]
    Conflict(String),
    #[error("sign in first: a valid API token is needed")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed attempts: the next one must wait this many seconds.
    #[error("too many failed attempts: try again in {retry_after} seconds")]
    TooManyAttempts { retry_after: i64 },
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(store::StoreError),
    #[error(transparent)]
    Search(#[from] search::SearchError),
    /// Something that should not fail did (a chart or a download could not be written).
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid(vec![InvalidField::new(field, reason)])
    }
}

impl From<store::StoreError> for AppError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::Conflict(m) => Self::Conflict(m),
            store::StoreError::Unstorable(_) => Self::Invalid(vec![InvalidField::bilingual(
                "body",
                "text may not contain the NUL character (U+0000)",
                "văn bản không được chứa ký tự NUL (U+0000)",
            )]),
            e if e.is_unavailable() => Self::Unavailable(e.to_string()),
            other => Self::Store(other),
        }
    }
}

impl From<InvalidField> for AppError {
    fn from(e: InvalidField) -> Self {
        Self::Invalid(vec![e])
    }
}
