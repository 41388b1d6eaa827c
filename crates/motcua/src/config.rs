//! Configuration: built-in defaults, then an optional TOML file, then `MOTCUA_…` environment
//! variables (nested keys joined by `__`, e.g. `MOTCUA_SERVER__ADDR`), then `DATABASE_URL`,
//! then command-line flags. Each layer overrides the one before.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: Server,
    pub database: Database,
    pub files: Files,
    pub open_data: OpenData,
    pub identity: Identity,
    pub security: Security,
    pub limits: web::Limits,
    pub payment: app::PaymentSettings,
    pub notify: app::NotifySettings,
    pub jobs: app::JobSettings,
    /// The inter-agency exchange: this member's name, national mode, the push to the
    /// national instance.
    pub exchange: app::ExchangeSettings,
    pub log: Log,
}

/// Keys that protect the data.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// The master key that wraps the data keys sealing personal data: 32 bytes in base64
    /// (`MOTCUA_SECURITY__MASTER_KEY`). Keep it out of the database and its backups.
    pub master_key: Option<String>,
    /// Or a file holding it. With neither, `master.key` in the data folder is used, made on
    /// first start (fine for a demo; in production keep the key elsewhere).
    pub master_key_file: Option<PathBuf>,
}

/// How people prove who they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The national e-ID (OpenID Connect) provider; unset means local accounts only.
    pub eid: Option<app::EidSettings>,
}

/// What `/open-data/` publishes under.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenData {
    /// The licence's identifier, title and address (default CC BY 4.0).
    pub licence_id: String,
    pub licence_title: String,
    pub licence_url: String,
    /// Counts below this (and above zero) at commune and procedure detail are left empty.
    pub suppress_below: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Files {
    /// Where attachments are kept; unset means `files` in the data folder.
    pub folder: Option<PathBuf>,
    /// The size limit of one uploaded file, in bytes.
    pub max_upload_bytes: usize,
    /// A ClamAV daemon that scans every upload: `unix:/run/clamav/clamd.ctl` or
    /// `tcp:127.0.0.1:3310`. Unset: no scan. Set but unreachable: uploads are refused.
    pub clamd: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Address to listen on.
    pub addr: String,
    /// Folder for the SQLite database and the search index.
    pub data_dir: PathBuf,
    /// Seconds between checks that the search index matches the catalogue.
    pub index_refresh_secs: u64,
    /// True when people reach the portal over HTTPS (behind a TLS proxy): cookies are then
    /// marked Secure and responses carry HSTS.
    pub https: bool,
    /// The address people reach the portal at, for links in messages and the payment
    /// provider's return; unset: `http://` and `addr`.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// `postgres://…` for PostgreSQL; unset means SQLite in the data folder.
    pub url: Option<String>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// `text` for people, `json` for log collectors.
    pub format: String,
    /// A tracing filter, e.g. `info` or `motcua=debug,tower_http=info`.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: Server {
                addr: "127.0.0.1:8080".into(),
                data_dir: PathBuf::from("data"),
                index_refresh_secs: 10,
                https: false,
                public_url: None,
            },
            database: Database {
                url: None,
                max_connections: 16,
            },
            files: Files {
                folder: None,
                max_upload_bytes: app::MAX_UPLOAD_BYTES,
                clamd: None,
            },
            open_data: {
                let d = app::OpenDataSettings::default();
                OpenData {
                    licence_id: d.licence_id,
                    licence_title: d.licence_title,
                    licence_url: d.licence_url,
                    suppress_below: d.suppress_below,
                }
            },
            identity: Identity::default(),
            security: Security::default(),
            limits: web::Limits::default(),
            payment: app::PaymentSettings {
                sandbox: false,
                vnpay: app::VnpaySettings {
                    expire_minutes: 15,
                    ..Default::default()
                },
            },
            notify: app::NotifySettings::default(),
            jobs: app::JobSettings::default(),
            exchange: app::ExchangeSettings::default(),
            log: Log {
                format: "text".into(),
                level: "info,tantivy=warn,sqlx=warn".into(),
            },
        }
    }
}

pub const DEFAULT_FILE: &str = "motcua.toml";

impl Config {
    /// What the web layer needs to know of how it is reached and guarded.
    pub fn web_options(&self) -> web::Options {
        web::Options {
            https: self.server.https,
            limits: self.limits.clone(),
        }
    }
}

impl Config {
    /// Loads the layers; `file` is the `--config` flag (or `MOTCUA_CONFIG`). Without it,
    /// `motcua.toml` in the working folder is read if it exists.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file(DEFAULT_FILE)),
        }
        figment
            // Settings are always nested (`SECTION__KEY`); other MOTCUA_ variables (such as
            // MOTCUA_CONFIG or the tests' MOTCUA_TEST_…) are not settings.
            .merge(
                Env::prefixed("MOTCUA_")
                    .filter(|k| k.as_str().contains("__"))
                    .split("__"),
            )
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .extract()
            .map_err(Box::new)
    }

    /// Where people reach the portal.
    pub fn public_url(&self) -> String {
        match &self.server.public_url {
            Some(url) if !url.trim().is_empty() => url.trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.server.addr),
        }
    }

    /// The attachments folder: the configured one, else `files` in the data folder.
    pub fn files_folder(&self) -> PathBuf {
        self.files
            .folder
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("files"))
    }

    /// The database to use: the configured URL, else SQLite in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}",
                self.server.data_dir.join("motcua.db").display()
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return its error type unboxed.
mod tests {
    use super::*;

    /// The README's configuration example is what the defaults are, and it loads.
    #[test]
    fn the_readme_example_loads_as_the_defaults() {
        let readme = include_str!("../../../README.md");
        let example = readme
            .split("### Configuration")
            .nth(1)
            .and_then(|rest| rest.split("```toml").nth(1))
            .and_then(|rest| rest.split("```").next())
            .expect("a TOML example under Configuration");
        figment::Jail::expect_with(|jail| {
            jail.create_file("example.toml", example)?;
            let config = Config::load(Some(Path::new("example.toml"))).map_err(|e| *e)?;
            let defaults = Config::default();
            assert_eq!(config.server.https, defaults.server.https);
            assert_eq!(
                config.limits.sign_in_per_minute,
                defaults.limits.sign_in_per_minute
            );
            assert_eq!(
                config.limits.upload_per_minute,
                defaults.limits.upload_per_minute
            );
            assert_eq!(
                config.files.max_upload_bytes,
                defaults.files.max_upload_bytes
            );
            assert!(config.identity.eid.is_none() && config.security.master_key.is_none());
            assert_eq!(config.payment.sandbox, defaults.payment.sandbox);
            assert_eq!(
                config.payment.vnpay.expire_minutes,
                defaults.payment.vnpay.expire_minutes
            );
            assert_eq!(config.notify.max_attempts, defaults.notify.max_attempts);
            assert_eq!(config.notify.retry_base_ms, defaults.notify.retry_base_ms);
            assert!(config.notify.smtp.is_none() && config.notify.webhook.is_none());
            assert_eq!(config.jobs.enabled, defaults.jobs.enabled);
            assert_eq!(
                config.jobs.escalate_after_hours,
                defaults.jobs.escalate_after_hours
            );
            assert_eq!(config.jobs.digest_hour, defaults.jobs.digest_hour);
            Ok(())
        });
    }

    /// The payment provider's secret stays out of files: the environment gives it.
    #[test]
    fn the_payment_secret_comes_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("motcua.toml", "[payment.vnpay]\ntmn_code = \"HPG00001\"\n")?;
            jail.set_env("MOTCUA_PAYMENT__VNPAY__HASH_SECRET", "S3CRETFROMENV");
            let config = Config::load(None).map_err(|e| *e)?;
            assert_eq!(config.payment.vnpay.hash_secret, "S3CRETFROMENV");
            assert_eq!(config.payment.vnpay.tmn_code, "HPG00001");
            assert_eq!(
                config.payment.vnpay.expire_minutes, 15,
                "the rest keep their defaults"
            );
            Ok(())
        });
    }

    #[test]
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "[server]\naddr = \"0.0.0.0:9000\"\ndata_dir = \"/srv\"\n",
            )?;
            jail.set_env("MOTCUA_SERVER__ADDR", "127.0.0.1:7000");
            jail.set_env("DATABASE_URL", "postgres://u@h/db");
            jail.set_env("MOTCUA_TEST_SOMETHING", "not a setting");
            let config = Config::load(Some(Path::new("custom.toml"))).map_err(|e| *e)?;
            assert_eq!(config.server.addr, "127.0.0.1:7000");
            assert_eq!(config.server.data_dir, PathBuf::from("/srv"));
            assert_eq!(config.database_url(), "postgres://u@h/db");
            assert_eq!(config.log.level, "info,tantivy=warn,sqlx=warn");
            Ok(())
        });
    }

    #[test]
    fn defaults_use_sqlite_in_the_data_folder() {
        figment::Jail::expect_with(|_| {
            let config = Config::load(None).map_err(|e| *e)?;
            assert_eq!(config.database_url(), "sqlite://data/motcua.db");
            Ok(())
        });
    }

    #[test]
    fn rejects_unknown_keys() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("motcua.toml", "[server]\nadress = \"x\"\n")?;
            let err = Config::load(None).unwrap_err();
            assert!(err.to_string().contains("adress"), "{err}");
            Ok(())
        });
    }
}
