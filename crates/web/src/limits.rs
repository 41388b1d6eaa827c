//! Rate limits per client address on the endpoints worth guessing at or flooding: sign-in
//! (with its second factor and the e-ID return), the public dossier lookup, and uploads. The
//! per-account side of sign-in is the lockout in `app::accounts`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, Failure};
use crate::i18n::Lang;
use crate::pages::PageError;

/// Requests per minute and client address (a burst of that many, refilled evenly).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub sign_in_per_minute: u32,
    pub lookup_per_minute: u32,
    pub upload_per_minute: u32,
    /// Take the client's address from the last `X-Forwarded-For` entry (behind a proxy that
    /// sets it), not from the connection.
    pub trust_forwarded_for: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sign_in_per_minute: 30,
            lookup_per_minute: 60,
            upload_per_minute: 120,
            trust_forwarded_for: false,
        }
    }
}

impl Limits {
    /// No limit worth the name (benchmarks, whose clients share one address).
    pub fn unlimited() -> Self {
        Self {
            sign_in_per_minute: u32::MAX,
            lookup_per_minute: u32::MAX,
            upload_per_minute: u32::MAX,
            trust_forwarded_for: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SignIn,
    Lookup,
    Upload,
}

/// Which limit a request counts against, if any.
fn kind_of(method: &Method, path: &str) -> Option<Kind> {
    let post = method == Method::POST;
    match path {
        "/signin" | "/signin/second-factor" if post => Some(Kind::SignIn),
        "/signin/eid" | "/signin/eid/callback" => Some(Kind::SignIn),
        "/lookup" => Some(Kind::Lookup),
        p if p.starts_with("/api/v1/lookup/") => Some(Kind::Lookup),
        "/api/v1/uploads" if post => Some(Kind::Upload),
        p if post && (p.ends_with("/apply") || p.ends_with("/act")) => Some(Kind::Upload),
        _ => None,
    }
}

pub struct Limiters {
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
    lookup: DefaultKeyedRateLimiter<IpAddr>,
    upload: DefaultKeyedRateLimiter<IpAddr>,
    trust_forwarded_for: bool,
}

/// How many addresses a limiter remembers before it forgets the idle ones.
const FORGET_ABOVE: usize = 100_000;

fn limiter(per_minute: u32) -> DefaultKeyedRateLimiter<IpAddr> {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))
}

impl Limiters {
    pub fn new(limits: &Limits) -> Self {
        Self {
            sign_in: limiter(limits.sign_in_per_minute),
            lookup: limiter(limits.lookup_per_minute),
            upload: limiter(limits.upload_per_minute),
            trust_forwarded_for: limits.trust_forwarded_for,
        }
    }

    /// None if the request may go on, or the seconds to wait.
    fn check(&self, kind: Kind, client: IpAddr) -> Option<u64> {
        let limiter = match kind {
            Kind::SignIn => &self.sign_in,
            Kind::Lookup => &self.lookup,
            Kind::Upload => &self.upload,
        };
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(&client).err().map(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }

    pub(crate) fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> IpAddr {
        let forwarded = self
            .trust_forwarded_for
            .then(|| headers.get("x-forwarded-for")?.to_str().ok())
            .flatten()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok());
        forwarded
            .or(peer.map(|p| p.ip()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(kind) = kind_of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client = state.limiters.client(request.headers(), peer);
    let Some(wait) = state.limiters.check(kind, client) else {
        return next.run(request).await;
    };
    tracing::warn!(%client, ?kind, wait, "rate limit reached");
    let failure = Failure {
        status: StatusCode::TOO_MANY_REQUESTS,
        slug: "rate-limited",
        title: "Too many requests from your address: wait a moment",
        title_vi: "Quá nhiều yêu cầu từ địa chỉ của bạn: vui lòng chờ một lát",
        detail: format!("Try again in {wait} seconds. / Thử lại sau {wait} giây."),
        invalid: Vec::new(),
    };
    let mut response = if request.uri().path().starts_with("/api/") {
        ApiError(failure).into_response()
    } else {
        PageError::new(Lang::from_headers(request.headers()), failure).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The client's address as the rate limits see it (the proxy's forwarded one when trusted).
pub struct ClientAddress(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientAddress(state.limiters.client(&parts.headers, peer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_guessable_endpoints() {
        assert_eq!(kind_of(&Method::POST, "/signin"), Some(Kind::SignIn));
        assert_eq!(kind_of(&Method::GET, "/signin"), None);
        assert_eq!(
            kind_of(&Method::GET, "/signin/eid/callback"),
            Some(Kind::SignIn)
        );
        assert_eq!(
            kind_of(&Method::GET, "/api/v1/lookup/X"),
            Some(Kind::Lookup)
        );
        assert_eq!(
            kind_of(&Method::POST, "/api/v1/uploads"),
            Some(Kind::Upload)
        );
        assert_eq!(
            kind_of(&Method::POST, "/dossiers/X/act"),
            Some(Kind::Upload)
        );
        assert_eq!(kind_of(&Method::GET, "/procedures"), None);
    }

    #[test]
    fn a_burst_then_a_wait_per_address() {
        let limiters = Limiters::new(&Limits {
            sign_in_per_minute: 2,
            ..Limits::default()
        });
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(limiters.check(Kind::SignIn, a), None);
        assert_eq!(limiters.check(Kind::SignIn, a), None);
        let wait = limiters.check(Kind::SignIn, a).expect("the third waits");
        assert!((1..=30).contains(&wait), "{wait}");
        assert_eq!(limiters.check(Kind::SignIn, b), None, "another address");
        assert_eq!(limiters.check(Kind::Lookup, a), None, "another limit");
    }

    #[test]
    fn the_forwarded_address_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 5.6.7.8".parse().unwrap());
        let peer: SocketAddr = "9.9.9.9:1000".parse().unwrap();
        let trusting = Limiters::new(&Limits {
            trust_forwarded_for: true,
            ..Limits::default()
        });
        assert_eq!(trusting.client(&headers, Some(peer)).to_string(), "5.6.7.8");
        let plain = Limiters::new(&Limits::default());
        assert_eq!(plain.client(&headers, Some(peer)).to_string(), "9.9.9.9");
    }
}
