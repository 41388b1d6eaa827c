//! Privileged access management: elevations asked for with a reason, approved by another
//! administrator (two for break-glass), ending by themselves; the privileged actions they
//! allow, each logged in a hash chain first; the auditors' read-only view of all of it.

use chrono::Utc;
use domain::privilege::{self, Elevation, ElevationState, PrivilegedEntry};
use domain::user::{Role, User};
use serde_json::json;
use store::Approval;

use crate::{App, AppError, Result};

/// How many elevations the pages list.
const LIST_LIMIT: i64 = 200;

/// What an administrator's page shows.
#[derive(Debug, Clone)]
pub struct AdminView {
    pub mine: Vec<Elevation>,
    /// Other administrators' requests waiting for an approval.
    pub waiting: Vec<Elevation>,
    /// The elevation the administrator holds now, if any.
    pub active: Option<Elevation>,
}

/// The auditors' view: every elevation, the whole log, whether its chain holds, and the
/// break-glass grants (alerts).
#[derive(Debug, Clone)]
pub struct PrivilegedReport {
    pub elevations: Vec<Elevation>,
    pub entries: Vec<PrivilegedEntry>,
    /// The first entry that does not hold together, if any.
    pub broken: Option<(i64, String)>,
    pub alerts: Vec<PrivilegedEntry>,
}

impl App {
    /// Asks for an elevation; logged at once.
    pub async fn request_elevation(
        &self,
        actor: &User,
        reason: &str,
        minutes: i64,
        break_glass: bool,
    ) -> Result<i64> {
        if !privilege::may_request(actor.role) {
            return Err(AppError::Forbidden(
                "only administrators ask for elevated access".into(),
            ));
        }
        let errors = privilege::check_request(actor.role, reason, minutes, break_glass);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let id = self
            .store
            .request_elevation(
                &actor.username,
                reason.trim(),
                minutes,
                break_glass,
                Utc::now(),
            )
            .await?;
        if break_glass {
            tracing::warn!(by = %actor.username, id, "break-glass access requested");
        }
        Ok(id)
    }

    /// Approves someone else's request; the last approval needed grants it from now.
    pub async fn approve_elevation(&self, approver: &User, id: i64) -> Result<Approval> {
        let elevation = self.elevation(id).await?;
        elevation
            .check_approver(approver, Utc::now())
            .map_err(AppError::Forbidden)?;
        let outcome = self
            .store
            .approve_elevation(&elevation, &approver.username, Utc::now())
            .await?;
        match outcome {
            Approval::Raced => Err(AppError::Conflict(
                "the elevation changed while you approved it: reload and look again".into(),
            )),
            Approval::Granted if elevation.break_glass => {
                tracing::warn!(holder = %elevation.username, id, "break-glass access granted");
                Ok(outcome)
            }
            _ => Ok(outcome),
        }
    }

    /// Refuses a waiting request (another administrator), or ends one's own elevation early.
    pub async fn close_elevation(&self, actor: &User, id: i64) -> Result<()> {
        let elevation = self.elevation(id).await?;
        let own = elevation.username == actor.username;
        if !own && !privilege::may_approve(actor.role) {
            return Err(AppError::Forbidden(
                "only system administrators refuse elevations".into(),
            ));
        }
        let action = if own {
            "elevation_ended"
        } else {
            "elevation_refused"
        };
        let state = elevation.state(Utc::now());
        if matches!(state, ElevationState::Closed | ElevationState::Expired)
            || !self
                .store
                .close_elevation(id, &actor.username, action, Utc::now())
                .await?
        {
            return Err(AppError::Conflict(
                "this elevation has already ended".into(),
            ));
        }
        Ok(())
    }

    async fn elevation(&self, id: i64) -> Result<Elevation> {
        self.store
            .elevation(id)
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "elevation",
                id: id.to_string(),
            })
    }

    pub async fn admin_view(&self, actor: &User) -> Result<AdminView> {
        if !privilege::may_request(actor.role) {
            return Err(AppError::Forbidden(
                "only administrators manage elevated access".into(),
            ));
        }
        let now = Utc::now();
        let mine = self
            .store
            .elevations(Some(&actor.username), LIST_LIMIT)
            .await?;
        let active = mine
            .iter()
            .find(|e| e.state(now) == ElevationState::Active)
            .cloned();
        let waiting = if privilege::may_approve(actor.role) {
            self.store
                .elevations(None, LIST_LIMIT)
                .await?
                .into_iter()
                .filter(|e| e.username != actor.username && e.state(now) == ElevationState::Pending)
                .collect()
        } else {
            Vec::new()
        };
        Ok(AdminView {
            mine,
            waiting,
            active,
        })
    }

    /// The gate of every privileged action: an administrator holding an active elevation (a
    /// break-glass one when `break_glass`). The action is logged before it is done, so a log
    /// entry may name an action that then failed, never the other way round.
    pub(crate) async fn privileged(
        &self,
        actor: &User,
        action: &str,
        detail: serde_json::Value,
        break_glass: bool,
    ) -> Result<()> {
        let now = Utc::now();
        let held = if privilege::may_request(actor.role) {
            self.store
                .elevations(Some(&actor.username), LIST_LIMIT)
                .await?
                .into_iter()
                .find(|e| e.state(now) == ElevationState::Active && (e.break_glass || !break_glass))
        } else {
            None
        };
        let Some(elevation) = held else {
            return Err(AppError::Forbidden(if break_glass {
                "this needs break-glass access approved by two administrators".into()
            } else {
                "this needs an elevation approved by another administrator: ask for one on /admin"
                    .into()
            }));
        };
        let mut detail = detail;
        detail["elevation"] = json!(elevation.id);
        self.store
            .log_privileged(&actor.username, action, &detail.to_string(), now)
            .await?;
        Ok(())
    }

    /// Whether the actor holds break-glass access; if so the read is logged.
    pub(crate) async fn break_glass_read(&self, actor: &User, dossier: &str) -> Result<bool> {
        match self
            .privileged(
                actor,
                "break_glass_read",
                json!({ "dossier": dossier }),
                true,
            )
            .await
        {
            Ok(()) => Ok(true),
            Err(AppError::Forbidden(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The account a privileged tool works on: a system administrator's reach is every
    /// account; an agency administrator's, the officials of their own subtree
    /// who are not administrators or auditors.
    pub(crate) async fn managed_account(&self, admin: &User, username: &str) -> Result<User> {
        let target = self.user(username).await?;
        let within = match admin.role {
            Role::SystemAdmin => true,
            Role::AgencyAdmin => {
                !matches!(
                    target.role,
                    Role::SystemAdmin | Role::AgencyAdmin | Role::Auditor | Role::Citizen
                ) && match &target.agency {
                    Some(agency) => self.within_subtree(admin, agency).await?,
                    None => false,
                }
            }
            _ => false,
        };
        if within {
            Ok(target)
        } else {
            Err(AppError::Forbidden(format!(
                "{username} is outside what your role administers"
            )))
        }
    }

    /// Lifts a sign-in lockout (privileged).
    pub async fn unlock_account(&self, admin: &User, username: &str) -> Result<()> {
        let target = self.managed_account(admin, username).await?;
        self.privileged(
            admin,
            "account_unlocked",
            json!({ "account": target.username }),
            false,
        )
        .await?;
        Ok(self.store.clear_failed_sign_ins(&target.username).await?)
    }

    /// Removes an official's authenticator, so they set up a new one at their next sign-in
    /// (privileged); their sessions end.
    pub async fn reset_second_factor(&self, admin: &User, username: &str) -> Result<()> {
        let target = self.managed_account(admin, username).await?;
        if !target.role.needs_second_factor() {
            return Err(AppError::invalid(
                "username",
                format!("{username} has no second factor to reset"),
            ));
        }
        self.privileged(
            admin,
            "second_factor_reset",
            json!({ "account": target.username }),
            false,
        )
        .await?;
        self.store.set_totp_secret(&target.username, None).await?;
        self.store.end_sessions(&target.username).await?;
        Ok(())
    }

    /// The auditors' view (read-only).
    pub async fn privileged_report(&self, auditor: &User) -> Result<PrivilegedReport> {
        if auditor.role != Role::Auditor {
            return Err(AppError::Forbidden(
                "only auditors read the privileged-access log".into(),
            ));
        }
        let entries = self.store.privileged_log().await?;
        let broken = privilege::verify_log(&entries).err();
        let alerts = entries
            .iter()
            .filter(|e| e.action.starts_with("break_glass"))
            .cloned()
            .collect();
        Ok(PrivilegedReport {
            elevations: self.store.elevations(None, LIST_LIMIT).await?,
            entries,
            broken,
            alerts,
        })
    }
}
