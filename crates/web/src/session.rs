//! Browser sessions: a token in an HttpOnly cookie, the same kind of token the API takes as a
//! bearer. Forms are protected against cross-site posts by SameSite=Lax cookies, by refusing
//! a POST whose Origin is another site and by anti-forgery tokens (both in `csrf.rs`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::user::User;

use crate::AppState;
use crate::i18n::Lang;

pub const COOKIE: &str = "motcua_session";
/// A sign-in whose password was accepted and whose second factor is awaited.
pub const PENDING_COOKIE: &str = "motcua_pending";

/// The session token from the request's cookies.
pub fn token(parts: &Parts) -> Option<String> {
    cookie(&parts.headers, COOKIE)
}

/// A cookie's value.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix(name)?.strip_prefix('='))
        .map(str::to_owned)
        .find(|t| !t.is_empty())
}

/// A cookie scripts cannot read, sent only to this site (and only over HTTPS when the portal
/// is served over it); `max_age` 0 removes it.
pub fn cookie_header(name: &str, value: &str, max_age: i64, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

pub fn set_cookie(token: &str, https: bool) -> String {
    cookie_header(COOKIE, token, app::SESSION_HOURS * 3600, https)
}

pub fn clear_cookie(https: bool) -> String {
    cookie_header(COOKIE, "", 0, https)
}

/// A redirect that sets several cookies (one `Set-Cookie` each).
pub fn redirect_setting(to: &str, cookies: &[String]) -> Response {
    let mut response = Redirect::to(to).into_response();
    for cookie in cookies {
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A signed-in person; pages that need one send others to the sign-in page and back.
pub struct SignedIn {
    pub user: User,
    pub token: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_sign_in = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let next = if parts.method == Method::GET {
                next
            } else {
                "/dossiers"
            };
            Redirect::to(&format!("/signin?next={}", urlencoding::encode(next))).into_response()
        };
        let Some(token) = token(parts) else {
            return Err(to_sign_in());
        };
        match state.app.authenticate(&token).await {
            Ok(user) => Ok(SignedIn { user, token }),
            Err(app::AppError::Unauthorized) => Err(to_sign_in()),
            Err(e) => {
                let lang = Lang::from_request_parts(parts, state)
                    .await
                    .unwrap_or_default();
                Err(crate::pages::PageError::new(lang, e).into_response())
            }
        }
    }
}

/// Whether a POST comes from this site: its Origin (sent by every current browser on a
/// POST) names the host the request was sent to. Requests without Origin are not from a
/// browser form on another site.
pub fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}
