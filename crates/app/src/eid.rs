//! Sign-in with the national e-ID: OpenID Connect's authorization-code flow with PKCE, state
//! and nonce, against the identity provider the configuration names (found by discovery).
//! The provider's claims (personal identification number, name, date of birth, tax code,
//! level of assurance) are mapped onto a citizen account; its username is derived from the
//! personal identification number by a keyed hash, so logs and events never carry the number.

use chrono::{Duration, NaiveDate, Utc};
use domain::user::{Assurance, User};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use store::EidAccount;

use crate::{App, AppError, Result};

/// Where sealed e-ID attributes are kept: their ciphertext opens only there.
const IDENTITY_CONTEXT: &str = "users.identity_sealed";

/// The attributes the national e-ID vouches for, kept sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EidIdentity {
    pub personal_id: String,
    pub birth_date: Option<NaiveDate>,
    pub tax_code: Option<String>,
}

/// How long a sign-in may take at the provider before its state is forgotten.
const LOGIN_MINUTES: i64 = 10;

/// The identity provider and how its claims are named.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EidSettings {
    /// The issuer URL; its `/.well-known/openid-configuration` is read on first use.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// This portal's callback, as registered with the provider (…/signin/eid/callback).
    pub redirect_url: String,
    /// What the sign-in button calls the provider.
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub claims: ClaimNames,
}

fn default_name() -> String {
    "VNeID".into()
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}

/// The claim that carries each attribute: providers name them differently.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimNames {
    /// The 12-digit personal identification number (số định danh cá nhân).
    pub personal_id: String,
    pub full_name: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
    /// An organisation's tax code, when a business representative signs in.
    pub tax_code: String,
    /// The level of assurance, 1 or 2 (a number or its digit); missing means level 1.
    pub assurance: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            personal_id: "personal_id".into(),
            full_name: "name".into(),
            birth_date: "birthdate".into(),
            tax_code: "tax_code".into(),
            assurance: "loa".into(),
        }
    }
}

/// Any claims beyond the standard ones, kept as they come.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OtherClaims(Map<String, Value>);

impl openidconnect::AdditionalClaims for OtherClaims {}

/// How long the provider's metadata (endpoints, signing keys) is used before it is read
/// again, so that a provider rotating its keys is followed without a restart.
const METADATA_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The configured provider, its metadata read on first use and then hourly.
pub(crate) struct Eid {
    settings: EidSettings,
    http: openidconnect::reqwest::Client,
    metadata: tokio::sync::RwLock<Option<(std::time::Instant, CoreProviderMetadata)>>,
}

impl Eid {
    pub(crate) fn new(settings: EidSettings) -> Result<Self> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send us anywhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| AppError::Internal(format!("e-ID HTTP client: {e}")))?;
        Ok(Self {
            settings,
            http,
            metadata: tokio::sync::RwLock::new(None),
        })
    }

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        let metadata = self.metadata().await?;
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
            .map_err(|e| AppError::Internal(format!("e-ID redirect URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }
}

impl Eid {
    async fn metadata(&self) -> Result<CoreProviderMetadata> {
        if let Some((read, metadata)) = &*self.metadata.read().await
            && read.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| AppError::Internal(format!("e-ID issuer URL: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                AppError::Unavailable(format!("the national e-ID cannot be reached: {e}"))
            })?;
        *self.metadata.write().await = Some((std::time::Instant::now(), metadata.clone()));
        Ok(metadata)
    }
}

impl App {
    /// Whether a national e-ID provider is configured, and what to call it.
    pub fn eid_name(&self) -> Option<&str> {
        self.eid.as_deref().map(|e| e.settings.name.as_str())
    }

    /// Starts a sign-in: the provider's URL to send the browser to, and the state, which the
    /// caller binds to the browser (a cookie) so that the answer is only taken from the
    /// browser that asked. The state, nonce and PKCE verifier are kept server-side, the state
    /// only as a hash.
    pub async fn begin_eid_sign_in(&self, next: &str) -> Result<(String, String)> {
        let eid = self.eid()?;
        let client = eid.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &eid.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let now = Utc::now();
        self.store
            .begin_eid_login(
                &crate::sha256_hex(state.secret().as_bytes()),
                nonce.secret(),
                verifier.secret(),
                next,
                now,
                now - Duration::minutes(LOGIN_MINUTES),
            )
            .await?;
        Ok((url.to_string(), state.secret().clone()))
    }

    /// Finishes a sign-in from the provider's answer: takes the state (once), exchanges the
    /// code with the PKCE verifier, checks the ID token's signature, audience, expiry and
    /// nonce, reads the claims and opens a session. Returns the user, the session token and
    /// where to go next.
    /// `browser_state` is the state the browser was given when it started (its cookie): only
    /// that browser may finish, or someone could send a victim the answer to their own
    /// sign-in and have the victim work in their account.
    pub async fn finish_eid_sign_in(
        &self,
        code: &str,
        state: &str,
        browser_state: Option<&str>,
        client_info: &str,
    ) -> Result<(User, String, String)> {
        let eid = self.eid()?;
        let invalid = |field: &str, en: &str, vi: &str| {
            AppError::Invalid(vec![domain::InvalidField::bilingual(field, en, vi)])
        };
        let (nonce, verifier, next) = self
            .store
            .take_eid_login(
                &crate::sha256_hex(state.as_bytes()),
                Utc::now() - Duration::minutes(LOGIN_MINUTES),
            )
            .await?
            .ok_or_else(|| {
                tracing::warn!("e-ID answer with an unknown, used or expired state");
                invalid(
                    "state",
                    "this sign-in has expired or was already used: start again",
                    "phiên đăng nhập đã hết hạn hoặc đã được dùng: vui lòng đăng nhập lại",
                )
            })?;
        if browser_state != Some(state) {
            tracing::warn!("e-ID answer from a browser that did not start the sign-in");
            return Err(invalid(
                "state",
                "this sign-in was started in another browser: start again here",
                "phiên đăng nhập này được bắt đầu ở trình duyệt khác: vui lòng đăng nhập lại tại đây",
            ));
        }
        let client = eid.client().await?;
        let refused = |what: String| {
            tracing::warn!(reason = %what, "e-ID sign-in refused");
            invalid(
                "id_token",
                "the national e-ID did not confirm this sign-in: start again",
                "định danh điện tử quốc gia không xác nhận lần đăng nhập này: vui lòng đăng nhập lại",
            )
        };
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| refused(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&eid.http)
            .await
            .map_err(|e| refused(format!("code exchange: {e}")))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| refused("no ID token".into()))?;
        let id_claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(nonce))
            .map_err(|e| refused(format!("ID token: {e}")))?;
        let mut claims = match serde_json::to_value(id_claims) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        if let Ok(request) = client.user_info(
            token.access_token().to_owned(),
            Some(id_claims.subject().clone()),
        ) {
            let info: openidconnect::UserInfoClaims<OtherClaims, CoreGenderClaim> = request
                .request_async(&eid.http)
                .await
                .map_err(|e| refused(format!("userinfo: {e}")))?;
            if let Ok(Value::Object(more)) = serde_json::to_value(info) {
                claims.extend(more);
            }
        }
        let account = self
            .eid_account(&eid.settings, &claims)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "e-ID claims refused");
                e
            })?;
        let assurance = assurance_of(claims.get(&eid.settings.claims.assurance))?;
        self.store.upsert_eid_account(&account).await?;
        let mut user = self.user(&account.username).await?;
        user.assurance = assurance;
        let session = self.open_session(&user, client_info).await?;
        Ok((user, session, next))
    }

    fn eid(&self) -> Result<&Eid> {
        self.eid.as_deref().ok_or_else(|| AppError::NotFound {
            what: "identity provider",
            id: "national e-ID".into(),
        })
    }

    /// The account the claims describe.
    async fn eid_account(
        &self,
        settings: &EidSettings,
        claims: &Map<String, Value>,
    ) -> Result<EidAccount> {
        let names = &settings.claims;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::trim);
        let missing = |name: &str, what: &str| {
            AppError::invalid(
                name,
                format!("the national e-ID sent no valid {what} in claim '{name}'"),
            )
        };
        let personal_id = text(&names.personal_id)
            .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                missing(
                    &names.personal_id,
                    "12-digit personal identification number",
                )
            })?
            .to_owned();
        let full_name = text(&names.full_name)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing(&names.full_name, "full name"))?
            .to_owned();
        let birth_date = match text(&names.birth_date) {
            None => None,
            Some(d) => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| missing(&names.birth_date, "date of birth (YYYY-MM-DD)"))?,
            ),
        };
        let tax_code = text(&names.tax_code)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let identity = EidIdentity {
            personal_id: personal_id.clone(),
            birth_date,
            tax_code,
        };
        let sealed = self.sealer()?.seal(
            &serde_json::to_string(&identity).map_err(|e| AppError::Internal(e.to_string()))?,
            IDENTITY_CONTEXT,
        )?;
        Ok(EidAccount {
            username: self.eid_username(&personal_id).await?,
            full_name,
            issuer: settings.issuer.clone(),
            identity_sealed: sealed,
        })
    }

    /// What the national e-ID vouched for about a person, for that person: None for accounts
    /// that did not sign in with it.
    pub async fn my_identity(&self, user: &User) -> Result<Option<EidIdentity>> {
        let Some(sealed) = self.store.sealed_identity(&user.username).await? else {
            return Ok(None);
        };
        let json = self.sealer()?.open(&sealed, IDENTITY_CONTEXT)?;
        Ok(Some(
            serde_json::from_str(&json).map_err(|e| AppError::Internal(e.to_string()))?,
        ))
    }

    /// A stable, opaque username for a personal identification number.
    /// Keyed by the master key, not by a key in the database: a stolen database does not let
    /// anyone try the 10^12 numbers against the usernames.
    async fn eid_username(&self, personal_id: &str) -> Result<String> {
        let digest = self.sealer()?.blind_index("eid username", personal_id);
        Ok(format!("eid-{}", &digest[..20]))
    }
}

/// The level of assurance a claim states: 1 or 2, as a number or a digit; none means 1.
fn assurance_of(claim: Option<&Value>) -> Result<Assurance> {
    let level = match claim {
        None | Some(Value::Null) => return Ok(Assurance::Level1),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match level {
        Some(1) => Ok(Assurance::Level1),
        Some(2) => Ok(Assurance::Level2),
        _ => Err(AppError::invalid(
            "loa",
            "the national e-ID sent a level of assurance other than 1 or 2",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assurance_claims() {
        assert_eq!(assurance_of(None).unwrap(), Assurance::Level1);
        assert_eq!(
            assurance_of(Some(&Value::from(2))).unwrap(),
            Assurance::Level2
        );
        assert_eq!(
            assurance_of(Some(&Value::from("1"))).unwrap(),
            Assurance::Level1
        );
        assert!(assurance_of(Some(&Value::from(3))).is_err());
        assert!(assurance_of(Some(&Value::from("high"))).is_err());
    }
}
