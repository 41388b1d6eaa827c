//! Local accounts: sign-in with a password (Argon2id), API and browser tokens.
//! National e-ID sign-in comes with the identity work; local accounts stay for officials
//! and demos.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{Duration, Utc};
use domain::user::User;
use rand::RngCore;

use crate::{App, AppError, Result};

/// How long a browser session lasts.
pub const SESSION_HOURS: i64 = 12;

impl App {
    /// The user an API or session token belongs to.
    pub async fn authenticate(&self, token: &str) -> Result<User> {
        self.store
            .user_by_token(&crate::sha256_hex(token.as_bytes()), Utc::now())
            .await?
            .ok_or(AppError::Unauthorized)
    }

    /// Creates a token for a user that lasts `lifetime`; only its hash is stored.
    pub async fn issue_token(&self, username: &str, lifetime: Duration) -> Result<String> {
        if self.store.user(username).await?.is_none() {
            return Err(AppError::NotFound {
                what: "user",
                id: username.to_owned(),
            });
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = domain::text::hex(&bytes);
        let expires = Utc::now() + lifetime.max(Duration::minutes(1));
        self.store
            .create_token(username, &crate::sha256_hex(token.as_bytes()), expires)
            .await?;
        Ok(token)
    }

    /// Checks a password and opens a session. Unknown users and wrong passwords get the same
    /// answer, so sign-in does not reveal which accounts exist.
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<(User, String)> {
        let refused = || {
            AppError::Invalid(vec![domain::InvalidField::bilingual(
                "password",
                "the username or password is wrong",
                "tên đăng nhập hoặc mật khẩu không đúng",
            )])
        };
        let username = username.trim();
        let stored = self.store.password_hash(username).await?;
        let password = password.to_owned();
        // Hashing is deliberately slow: keep it off the async workers.
        let matches = tokio::task::spawn_blocking(move || {
            stored.is_some_and(|hash| {
                PasswordHash::new(&hash).is_ok_and(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
            })
        })
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
        if !matches {
            return Err(refused());
        }
        let user = self.store.user(username).await?.ok_or_else(refused)?;
        let token = self
            .issue_token(username, Duration::hours(SESSION_HOURS))
            .await?;
        Ok((user, token))
    }

    pub async fn sign_out(&self, token: &str) -> Result<()> {
        Ok(self
            .store
            .delete_token(&crate::sha256_hex(token.as_bytes()))
            .await?)
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
}

/// An Argon2id PHC string with a random salt.
fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h: PasswordHash| h.to_string())
        .map_err(|e| AppError::Unavailable(e.to_string()))
}
