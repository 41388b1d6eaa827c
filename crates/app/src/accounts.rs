//! Local accounts: sign-in with a password (Argon2id) and, for officials, a TOTP second
//! factor; progressive delays and lockout after failures; server-side sessions with idle and
//! absolute timeouts that their owner can list and end. National e-ID sign-in is in `eid.rs`.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use domain::user::{Role, User};
use rand::RngCore;
use store::{NewToken, SessionRecord, TokenKind};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::{App, AppError, Result};

/// The longest a browser session lasts, however active.
pub const SESSION_HOURS: i64 = 12;
/// A browser session left unused this long ends.
pub const IDLE_MINUTES: i64 = 30;
/// How long a password stays accepted while its second factor is awaited.
const SECOND_FACTOR_MINUTES: i64 = 5;
/// A session's last use is written at most this often, not on every request.
const TOUCH_SECONDS: i64 = 60;
/// The Argon2id hash of a password nobody has, checked when the account does not exist.
const STAND_IN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c3RhbmQtaW4tc2FsdA$N2YdtCDe0j2UvT1U2dMvQa8Hx8C8hJ5w4o2u0Y1v2dY";
/// The name authenticator apps show beside the code.
const TOTP_ISSUER: &str = "motcua";

/// Where a password sign-in has got to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the session token.
    Done { user: User, token: String },
    /// The password is right; a second-factor code is awaited under this short-lived token.
    SecondFactor { token: String },
}

/// An authenticator to set up: its secret, as text and as an `otpauth://` link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub secret: String,
    pub url: String,
}

impl App {
    /// The user an API or session token belongs to. A session unused for [`IDLE_MINUTES`]
    /// has ended; a pending second factor opens nothing here.
    pub async fn authenticate(&self, token: &str) -> Result<User> {
        let hash = crate::sha256_hex(token.as_bytes());
        let now = Utc::now();
        let Some(record) = self.store.token(&hash, now).await? else {
            // Recorded by the start of its hash only: the token itself never reaches a log.
            tracing::warn!(
                token = &hash[..12],
                "a token that opens nothing was presented"
            );
            return Err(AppError::Unauthorized);
        };
        match record.kind {
            TokenKind::Api => Ok(record.user),
            TokenKind::SecondFactor => Err(AppError::Unauthorized),
            TokenKind::Session => {
                let seen = record.last_seen_at.unwrap_or(record.created_at);
                if now - seen > Duration::minutes(IDLE_MINUTES) {
                    self.store.delete_token(&hash).await?;
                    return Err(AppError::Unauthorized);
                }
                if now - seen > Duration::seconds(TOUCH_SECONDS) {
                    self.store.touch_token(&hash, now).await?;
                }
                Ok(record.user)
            }
        }
    }

    /// Creates an API token for a user that lasts `lifetime`; only its hash is stored.
    pub async fn issue_token(&self, username: &str, lifetime: Duration) -> Result<String> {
        let user = self.user(username).await?;
        self.open(
            &user,
            TokenKind::Api,
            "",
            lifetime.max(Duration::minutes(1)),
        )
        .await
    }

    /// Stores a new random token of a kind for a user and returns it.
    pub(crate) async fn open(
        &self,
        user: &User,
        kind: TokenKind,
        client: &str,
        lifetime: Duration,
    ) -> Result<String> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = domain::text::hex(&bytes);
        let client: String = client.chars().take(200).collect();
        self.store
            .create_token(&NewToken {
                token_hash: &crate::sha256_hex(token.as_bytes()),
                username: &user.username,
                kind,
                assurance: user.assurance,
                client: &client,
                expires_at: Utc::now() + lifetime,
            })
            .await?;
        Ok(token)
    }

    /// Opens a browser session for a user who has proved who they are.
    pub(crate) async fn open_session(&self, user: &User, client: &str) -> Result<String> {
        self.open(
            user,
            TokenKind::Session,
            client,
            Duration::hours(SESSION_HOURS),
        )
        .await
    }

    pub(crate) async fn user(&self, username: &str) -> Result<User> {
        self.store
            .user(username)
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "user",
                id: username.to_owned(),
            })
    }

    /// Checks a password. Unknown users and wrong passwords get the same answer, so sign-in
    /// does not reveal which accounts exist. Each failure makes the next attempt wait
    /// longer ([`domain::user::sign_in_delay`]). Officials go on to a second factor.
    pub async fn sign_in(&self, username: &str, password: &str, client: &str) -> Result<SignIn> {
        let refused = || {
            AppError::Invalid(vec![domain::InvalidField::bilingual(
                "password",
                "the username or password is wrong",
                "tên đăng nhập hoặc mật khẩu không đúng",
            )])
        };
        let username = username.trim();
        let record = self.store.sign_in_record(username).await?;
        if let Some(until) = record.as_ref().and_then(|r| r.locked_until) {
            wait_until(until)?;
        }
        let stored = record.as_ref().and_then(|r| r.password_hash.clone());
        let password = password.to_owned();
        // Hashing is deliberately slow: keep it off the async workers. An unknown account is
        // checked against a stand-in hash, so the answer takes as long as for a known one.
        let matches = tokio::task::spawn_blocking(move || {
            let found = stored.is_some();
            let hash = stored.unwrap_or_else(|| STAND_IN_HASH.to_owned());
            let right = PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            });
            found && right
        })
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
        if !matches {
            if record.is_some() {
                self.count_failure(username).await?;
            }
            return Err(refused());
        }
        let user = self.store.user(username).await?.ok_or_else(refused)?;
        if user.role == Role::ExchangeClient {
            return Err(AppError::Forbidden(
                "exchange clients use API tokens, not the sign-in page".into(),
            ));
        }
        if user.role.needs_second_factor() {
            let token = self
                .open(
                    &user,
                    TokenKind::SecondFactor,
                    client,
                    Duration::minutes(SECOND_FACTOR_MINUTES),
                )
                .await?;
            return Ok(SignIn::SecondFactor { token });
        }
        self.store.clear_failed_sign_ins(username).await?;
        let token = self.open_session(&user, client).await?;
        Ok(SignIn::Done { user, token })
    }

    /// The person whose password was accepted under `token`, and the authenticator to set
    /// up when they have none confirmed yet (a new secret is made the first time).
    pub async fn second_factor(&self, token: &str) -> Result<(User, Option<Enrolment>)> {
        let (user, record) = self.pending(token).await?;
        if record.totp_confirmed {
            return Ok((user, None));
        }
        let secret = match record.totp_secret {
            Some(secret) => secret,
            None => {
                let secret = Secret::generate_secret().to_encoded().to_string();
                self.store
                    .set_totp_secret(&user.username, Some(&secret))
                    .await?;
                secret
            }
        };
        let url = totp(&secret, &user.username)?.get_url();
        Ok((user, Some(Enrolment { secret, url })))
    }

    /// Checks a second-factor code and, if right, turns the pending sign-in into a session.
    /// A wrong code counts as a failed sign-in; a code is accepted once.
    pub async fn verify_second_factor(
        &self,
        token: &str,
        code: &str,
        client: &str,
    ) -> Result<(User, String)> {
        let (user, record) = self.pending(token).await?;
        if let Some(until) = record.locked_until {
            wait_until(until)?;
        }
        let wrong = || {
            AppError::Invalid(vec![domain::InvalidField::bilingual(
                "code",
                "the code is wrong or has expired: enter the 6 digits your authenticator shows now",
                "mã xác thực không đúng hoặc đã hết hạn: nhập 6 chữ số ứng dụng xác thực đang hiển thị",
            )])
        };
        let secret = record.totp_secret.ok_or_else(wrong)?;
        let step = matching_step(&totp(&secret, &user.username)?, code, Utc::now());
        let accepted = match step {
            Some(step) => self.store.accept_totp_step(&user.username, step).await?,
            None => false,
        };
        if !accepted {
            self.count_failure(&user.username).await?;
            return Err(wrong());
        }
        self.store
            .delete_token(&crate::sha256_hex(token.as_bytes()))
            .await?;
        self.store.clear_failed_sign_ins(&user.username).await?;
        let session = self.open_session(&user, client).await?;
        Ok((user, session))
    }

    /// The user of a pending second-factor sign-in, and what their sign-in checks.
    async fn pending(&self, token: &str) -> Result<(User, store::SignInRecord)> {
        let user = self
            .store
            .token(&crate::sha256_hex(token.as_bytes()), Utc::now())
            .await?
            .filter(|t| t.kind == TokenKind::SecondFactor)
            .map(|t| t.user)
            .ok_or(AppError::Unauthorized)?;
        let record = self
            .store
            .sign_in_record(&user.username)
            .await?
            .unwrap_or_default();
        Ok((user, record))
    }

    async fn count_failure(&self, username: &str) -> Result<()> {
        let failures = self.store.count_failed_sign_in(username).await?;
        if let Some(delay) = domain::user::sign_in_delay(failures) {
            self.store
                .lock_sign_in(username, Utc::now() + delay)
                .await?;
        }
        tracing::warn!(username, failures, "failed sign-in");
        Ok(())
    }

    /// The anti-forgery token of a session's forms: a keyed hash of the session token, so it
    /// needs no storage, differs per session and cannot be made without the key.
    pub async fn csrf_token(&self, session: &str) -> Result<String> {
        Ok(self.keyed_hash("csrf", session).await?[..32].to_owned())
    }

    pub async fn sign_out(&self, token: &str) -> Result<()> {
        Ok(self
            .store
            .delete_token(&crate::sha256_hex(token.as_bytes()))
            .await?)
    }

    /// Ends every browser session of the user (sign out everywhere); returns how many.
    pub async fn sign_out_everywhere(&self, user: &User) -> Result<u64> {
        Ok(self.store.end_sessions(&user.username).await?)
    }

    /// The user's own open sessions, newest first.
    pub async fn sessions(&self, user: &User) -> Result<Vec<SessionRecord>> {
        let now = Utc::now();
        let idle = Duration::minutes(IDLE_MINUTES);
        Ok(self
            .store
            .sessions(&user.username, now)
            .await?
            .into_iter()
            .filter(|s| now - s.last_seen_at.unwrap_or(s.created_at) <= idle)
            .collect())
    }

    /// Ends one of the user's own sessions.
    pub async fn end_session(&self, user: &User, id: &str) -> Result<()> {
        if self.store.end_session(&user.username, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound {
                what: "session",
                id: id.to_owned(),
            })
        }
    }

    /// Sets the same password for several users (the demo accounts), hashing it once.
    pub async fn set_password(&self, usernames: &[String], password: &str) -> Result<()> {
        if password.chars().count() < 4 {
            return Err(AppError::invalid("password", "use at least 4 characters"));
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AppError::Unavailable(e.to_string()))??;
        let hashes: Vec<(String, String)> = usernames
            .iter()
            .map(|u| (u.clone(), hash.clone()))
            .collect();
        Ok(self.store.set_passwords(&hashes).await?)
    }

    /// The code to show on the second-factor page when the account is a demo account (its
    /// authenticator secret is the published demo one); None for every real account.
    pub async fn demo_code(&self, username: &str) -> Result<Option<String>> {
        let record = self.store.sign_in_record(username).await?;
        match record.and_then(|r| r.totp_secret) {
            Some(secret) if secret == crate::demo::DEMO_TOTP_SECRET => {
                Ok(Some(current_code(&secret, username)?))
            }
            _ => Ok(None),
        }
    }

    /// Gives users a TOTP secret that is already confirmed (the demo accounts, whose code the
    /// demo shows; and operators provisioning a hardware token).
    pub async fn set_totp_secret(&self, username: &str, secret: &str) -> Result<()> {
        totp(secret, username)?;
        self.store.set_totp_secret(username, Some(secret)).await?;
        self.store.accept_totp_step(username, 0).await?;
        Ok(())
    }
}

/// The id a session is listed under (the start of its token's hash).
pub fn session_id(token: &str) -> String {
    crate::sha256_hex(token.as_bytes())[..16].to_owned()
}

/// The TOTP of RFC 6238 as authenticator apps use it: SHA-1, 6 digits, 30-second steps, one
/// step of clock drift either way.
pub fn totp(secret: &str, account: &str) -> Result<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| AppError::Internal(format!("TOTP secret: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some(TOTP_ISSUER.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| AppError::Internal(format!("TOTP secret: {e}")))
}

/// The time step whose code `code` is, within one step of `now`.
fn matching_step(totp: &TOTP, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.timestamp() / 30;
    (current - 1..=current + 1).find(|step| {
        let expected = totp.generate((step * 30) as u64);
        // Compare every byte, so the time taken does not tell how much matched.
        expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    })
}

/// Refuses an attempt made before a delay has passed.
fn wait_until(until: DateTime<Utc>) -> Result<()> {
    let left = until - Utc::now();
    if left > Duration::zero() {
        return Err(AppError::TooManyAttempts {
            retry_after: left.num_seconds().max(1),
        });
    }
    Ok(())
}

/// An Argon2id PHC string with a random salt.
fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h: PasswordHash| h.to_string())
        .map_err(|e| AppError::Unavailable(e.to_string()))
}

/// The code an authenticator with this secret shows now (the demo shows it on the page).
pub fn current_code(secret: &str, account: &str) -> Result<String> {
    Ok(totp(secret, account)?.generate(Utc::now().timestamp() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn a_code_matches_its_step_and_one_either_side() {
        let t = totp(SECRET, "a").unwrap();
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let step = now.timestamp() / 30;
        for s in [step - 1, step, step + 1] {
            let code = t.generate((s * 30) as u64);
            assert_eq!(matching_step(&t, &code, now), Some(s));
        }
        let stale = t.generate(((step - 2) * 30) as u64);
        if ![step - 1, step, step + 1]
            .iter()
            .any(|s| t.generate((s * 30) as u64) == stale)
        {
            assert_eq!(matching_step(&t, &stale, now), None);
        }
        assert_eq!(matching_step(&t, "12345", now), None);
        assert_eq!(matching_step(&t, "abcdef", now), None);
    }

    #[test]
    fn the_stand_in_hash_is_a_real_argon2id_hash() {
        let parsed = PasswordHash::new(STAND_IN_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(Argon2::default().verify_password(b"demo", &parsed).is_err());
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); 6 digits are the last 6.
        let secret = totp_rs::Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(totp(&secret, "a").unwrap().generate(59), "287082");
        assert_eq!(
            totp(&secret, "a").unwrap().generate(1_111_111_109),
            "081804"
        );
    }
}
