//! Errors as people and programs see them: RFC 9457 problem+json for the API, a friendly
//! bilingual page for the portal. Internal details are logged, never shown.

use app::AppError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use domain::InvalidField;
use serde::Serialize;

/// One field that is wrong, as the API reports it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
    /// The same in Vietnamese, where it is written for the people filling a form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_vi: Option<String>,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    /// The same title in Vietnamese.
    pub title_vi: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
}

/// A failure, before it is rendered for the API or for a page.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub slug: &'static str,
    pub title: &'static str,
    pub title_vi: &'static str,
    pub detail: String,
    pub invalid: Vec<InvalidField>,
}

impl Failure {
    pub fn invalid(fields: Vec<InvalidField>) -> Self {
        let detail = fields
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            status: StatusCode::BAD_REQUEST,
            slug: "invalid-parameters",
            title: "Some parameters are not valid",
            title_vi: "Một số tham số không hợp lệ",
            detail,
            invalid: fields,
        }
    }

    pub fn not_found(detail: String) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            slug: "not-found",
            title: "Not found",
            title_vi: "Không tìm thấy",
            detail,
            invalid: Vec::new(),
        }
    }

    fn internal(detail: &str) -> Self {
        tracing::error!(error = detail, "request failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            slug: "internal",
            title: "Something went wrong on our side",
            title_vi: "Hệ thống gặp sự cố",
            detail: "The error has been logged; please try again later.".into(),
            invalid: Vec::new(),
        }
    }

    fn unavailable(detail: &str) -> Self {
        tracing::error!(error = detail, "dependency unavailable");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            slug: "unavailable",
            title: "The service is temporarily unavailable",
            title_vi: "Dịch vụ tạm thời gián đoạn",
            detail: "Please try again in a few minutes.".into(),
            invalid: Vec::new(),
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.slug),
            title: self.title.into(),
            title_vi: self.title_vi.into(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            invalid_params: self
                .invalid
                .iter()
                .map(|f| InvalidParam {
                    name: f.field.clone(),
                    reason: f.reason.clone(),
                    reason_vi: f.reason_vi.clone(),
                })
                .collect(),
        }
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound { .. } => Failure::not_found(e.to_string()),
            AppError::Invalid(fields) => Failure::invalid(fields),
            AppError::Catalogue(c) => {
                Failure::invalid(vec![InvalidField::new("file", c.to_string())])
            }
            AppError::Conflict(m) => Self {
                status: StatusCode::CONFLICT,
                slug: "conflict",
                title: "The request conflicts with stored data",
                title_vi: "Yêu cầu mâu thuẫn với dữ liệu hiện có",
                detail: m,
                invalid: Vec::new(),
            },
            AppError::Unavailable(m) => Failure::unavailable(&m),
            AppError::Unauthorized => Self {
                status: StatusCode::UNAUTHORIZED,
                slug: "unauthorized",
                title: "Sign in first",
                title_vi: "Vui lòng đăng nhập",
                detail: e.to_string(),
                invalid: Vec::new(),
            },
            AppError::Forbidden(m) => Self {
                status: StatusCode::FORBIDDEN,
                slug: "forbidden",
                title: "Not allowed for your role or agency",
                title_vi: "Vai trò hoặc cơ quan của bạn không được phép",
                detail: m,
                invalid: Vec::new(),
            },
            AppError::TooManyAttempts { retry_after } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                slug: "too-many-attempts",
                title: "Too many failed attempts: wait before trying again",
                title_vi: "Nhập sai quá nhiều lần: vui lòng chờ rồi thử lại",
                detail: format!(
                    "Try again in {retry_after} seconds. / Thử lại sau {retry_after} giây."
                ),
                invalid: Vec::new(),
            },
            other => Failure::internal(&other.to_string()),
        }
    }
}

/// An API failure: answered as problem+json.
pub struct ApiError(pub Failure);

impl<E: Into<Failure>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.0.problem()).unwrap_or_default();
        let mut response = (self.0.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.0.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Turns a panic into a 500 page instead of a dropped connection.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    let failure = Failure::internal(message);
    (
        failure.status,
        Html(format!("<h1>{} / {}</h1>", failure.title_vi, failure.title)),
    )
        .into_response()
}
