//! Anti-forgery tokens for the portal's forms. Every page sent to someone with a session (or
//! a sign-in awaiting its second factor) gets a hidden `csrf` field in each of its POST forms,
//! and every form POST from such a browser must bring it back: a keyed hash of the session
//! token, so another site cannot make one. This comes on top of SameSite cookies and the Origin
//! check (scripts may send it as an `X-CSRF-Token` header instead). The API takes bearer tokens, which browsers never send by themselves, and needs none.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::Failure;
use crate::i18n::Lang;
use crate::pages::PageError;
use crate::session::{COOKIE, PENDING_COOKIE, cookie, same_origin};

pub const FIELD: &str = "csrf";
/// The same token as a header, for scripts that post forms.
pub const HEADER: &str = "x-csrf-token";

/// The session (or pending sign-in) a request carries, whose token its forms need.
fn session_of(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE).or_else(|| cookie(headers, PENDING_COOKIE))
}

/// Checks form posts and marks forms in pages.
pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let checked = request.method() == Method::POST && !request.uri().path().starts_with("/api/");
    let lang = Lang::from_headers(request.headers());
    if checked && !same_origin(request.headers()) {
        tracing::warn!(path = %request.uri().path(), "form posted from another site");
        return refusal(
            lang,
            "cross-site",
            "A form from another site was refused",
            "Biểu mẫu gửi từ trang khác bị từ chối",
        );
    }
    let Some(session) = session_of(request.headers()) else {
        return next.run(request).await;
    };
    let expected = match state.app.csrf_token(&session).await {
        Ok(token) => token,
        // Without the key no token can be checked: refuse the post rather than let it by.
        Err(e) if checked => return PageError::new(lang, e).into_response(),
        Err(_) => return next.run(request).await,
    };
    let request = if checked {
        let (parts, body) = request.into_parts();
        let limit = state.app.upload_limit().saturating_mul(4) + 1024 * 1024;
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(bytes) => bytes,
            Err(_) => return too_large(lang),
        };
        let sent = match parts.headers.get(HEADER).and_then(|v| v.to_str().ok()) {
            Some(header) => Some(header.to_owned()),
            None => token_in(&parts.headers, &bytes).await,
        };
        if !sent.is_some_and(|sent| constant_time_eq(sent.as_bytes(), expected.as_bytes())) {
            tracing::warn!(path = %parts.uri.path(), "form without a valid anti-forgery token");
            return refusal(
                lang,
                "form-expired",
                "This form has expired or did not come from this portal",
                "Biểu mẫu đã hết hạn hoặc không được gửi từ cổng này",
            );
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    let response = next.run(request).await;
    mark_forms(response, &expected).await
}

/// The `csrf` field of a urlencoded or multipart body.
async fn token_in(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
        return pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v);
    }
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(std::future::ready(Ok::<Bytes, std::io::Error>(
        body.clone(),
    )));
    let mut form = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(FIELD) {
            return field.text().await.ok();
        }
    }
    None
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refusal(
    lang: Lang,
    slug: &'static str,
    title: &'static str,
    title_vi: &'static str,
) -> Response {
    PageError::new(
        lang,
        Failure {
            status: StatusCode::FORBIDDEN,
            slug,
            title,
            title_vi,
            detail: "Open the page on this portal and send the form from there. / Mở trang trên cổng này và gửi biểu mẫu từ đó."
                .into(),
            invalid: Vec::new(),
        },
    )
    .into_response()
}

fn too_large(lang: Lang) -> Response {
    PageError::new(
        lang,
        Failure {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            slug: "too-large",
            title: "The form is too large",
            title_vi: "Biểu mẫu quá lớn",
            detail: "Send smaller files. / Vui lòng gửi tệp nhỏ hơn.".into(),
            invalid: Vec::new(),
        },
    )
    .into_response()
}

/// Adds the hidden token right after the opening tag of every POST form of an HTML page.
async fn mark_forms(response: Response, token: &str) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let html = String::from_utf8_lossy(&bytes);
    let marked = with_token(&html, token);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(marked))
}

fn with_token(html: &str, token: &str) -> String {
    let hidden = format!("<input type=\"hidden\" name=\"{FIELD}\" value=\"{token}\">");
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag_end = start + end + 1;
        out.push_str(&rest[..tag_end]);
        if rest[start..tag_end].contains("method=\"post\"") {
            out.push_str(&hidden);
        }
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_post_forms_get_the_token() {
        let html = r#"<form action="/a" method="get"><p></p></form><form class="x" action="/b" method="post" enctype="multipart/form-data"><input name="y"></form>"#;
        let marked = with_token(html, "T");
        assert_eq!(
            marked,
            r#"<form action="/a" method="get"><p></p></form><form class="x" action="/b" method="post" enctype="multipart/form-data"><input type="hidden" name="csrf" value="T"><input name="y"></form>"#
        );
        assert_eq!(with_token("no forms", "T"), "no forms");
    }

    #[tokio::test]
    async fn the_token_is_read_from_either_kind_of_form() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let body = Bytes::from_static(b"a=1&csrf=abc&b=2");
        assert_eq!(token_in(&headers, &body).await.as_deref(), Some("abc"));
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XX".parse().unwrap(),
        );
        let body = Bytes::from_static(
            b"--XX\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XX--\r\n",
        );
        assert_eq!(token_in(&headers, &body).await.as_deref(), Some("abc"));
        assert!(token_in(&HeaderMap::new(), &body).await.is_none());
    }
}
