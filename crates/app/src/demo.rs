//! The demo province: the real sample procedures, an agency tree and life events, embedded in
//! the binary so that `motcua serve --demo` works from any folder.

use sha2::{Digest, Sha256};

use crate::{App, Result};

const PROCEDURES: &[u8] = include_bytes!("../../../demo/procedures.dvcqg.json");
const AGENCIES: &[u8] = include_bytes!("../../../demo/agencies.json");
const LIFE_EVENTS: &[u8] = include_bytes!("../../../demo/life-events.json");
const USERS: &[u8] = include_bytes!("../../../demo/users.json");
const SERVICES: &[u8] = include_bytes!("../../../demo/services.json");
/// Every demo account signs in with this password (README).
pub const DEMO_PASSWORD: &str = "demo";
/// Every demo official's authenticator secret (base32). It is public, so the second-factor
/// page of a demo account shows the current code; real accounts set up their own.
pub const DEMO_TOTP_SECRET: &str = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU";
/// The demo's procedures took effect with the two-level local government.
const EFFECTIVE_FROM: (i32, u32, u32) = (2025, 7, 1);
const LOADED_KEY: &str = "demo_data_sha256";

impl App {
    /// Loads the demo data unless this exact data is already loaded (a fast restart).
    pub async fn load_demo(&self) -> Result<bool> {
        let mut hasher = Sha256::new();
        for part in [PROCEDURES, AGENCIES, LIFE_EVENTS, USERS, SERVICES] {
            hasher.update(part);
        }
        let digest = domain::text::hex(&hasher.finalize());
        if self.store.meta(LOADED_KEY).await?.as_deref() == Some(digest.as_str()) {
            return Ok(false);
        }
        let (y, m, d) = EFFECTIVE_FROM;
        self.import_agencies(AGENCIES).await?;
        self.import_catalogue(
            PROCEDURES,
            chrono::NaiveDate::from_ymd_opt(y, m, d),
            &|_| {},
        )
        .await?;
        self.import_life_events(LIFE_EVENTS).await?;
        let users: Vec<domain::user::User> = serde_json::from_slice(USERS)
            .map_err(|e| crate::AppError::invalid("demo/users.json", e.to_string()))?;
        self.upsert_users(&users).await?;
        let names: Vec<String> = users.iter().map(|u| u.username.clone()).collect();
        self.set_password(&names, DEMO_PASSWORD).await?;
        for official in users.iter().filter(|u| u.role.needs_second_factor()) {
            self.set_totp_secret(&official.username, DEMO_TOTP_SECRET)
                .await?;
        }
        self.import_service_designs(SERVICES).await?;
        self.store.set_meta(LOADED_KEY, &digest).await?;
        Ok(true)
    }
}
