//! Agencies and officials in the browser. Adding or changing either is privileged (it decides
//! who reaches which dossiers), so it needs an elevation and lands in the privileged log. An
//! agency administrator manages the working roles of their own subtree; a system administrator
//! manages everyone and the agency tree.

use domain::InvalidField;
use domain::agency::{Agency, AgencyCode};
use domain::user::{Assurance, Role, User};
use serde_json::json;

use crate::{App, AppError, Result};

/// How many officials the staff page lists.
const STAFF_LIMIT: i64 = 500;
/// The shortest password an administrator may give a new account.
pub const MIN_PASSWORD: usize = 12;

/// An official's account as typed on the staff page.
#[derive(Debug, Clone, Default)]
pub struct StaffEdit {
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub agency: String,
    /// Empty keeps an existing account's password.
    pub password: String,
}

/// An agency as typed on the agencies page.
#[derive(Debug, Clone, Default)]
pub struct AgencyEdit {
    pub code: String,
    pub name: String,
    pub parent: String,
    pub level: String,
}

/// Roles that hold power over others or over everything (administrators, auditors, leaders):
/// giving one, or changing such an account, needs break-glass access (two approvers), so one
/// administrator cannot make themselves an accomplice.
fn powerful(role: Role) -> bool {
    matches!(
        role,
        Role::SystemAdmin | Role::AgencyAdmin | Role::Auditor | Role::Leader | Role::ExchangeClient
    )
}

/// The roles an agency administrator gives; the others only a system administrator does.
fn working_role(role: Role) -> bool {
    matches!(
        role,
        Role::Reception | Role::Handler | Role::Approver | Role::Leader
    )
}

fn may_manage(actor: &User) -> Result<()> {
    if matches!(actor.role, Role::AgencyAdmin | Role::SystemAdmin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only administrators manage officials".into(),
        ))
    }
}

impl App {
    /// The officials the administrator manages.
    pub async fn officials(&self, actor: &User) -> Result<Vec<User>> {
        may_manage(actor)?;
        if actor.role == Role::SystemAdmin {
            return Ok(self.store.officials(None, STAFF_LIMIT).await?);
        }
        let Some(root) = &actor.agency else {
            return Ok(Vec::new());
        };
        let mut mine = self.store.officials(Some(root), STAFF_LIMIT).await?;
        mine.retain(|o| working_role(o.role));
        Ok(mine)
    }

    /// Adds an official or changes one's name, role, agency or password (privileged).
    pub async fn save_official(&self, actor: &User, edit: &StaffEdit) -> Result<()> {
        may_manage(actor)?;
        let mut errors = Vec::new();
        let username = edit.username.trim();
        let username_ok = (3..=64).contains(&username.len())
            && username.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')
            });
        if !username_ok {
            errors.push(InvalidField::bilingual(
                "username",
                "3 to 64 lower-case letters, digits, dots, hyphens or underscores",
                "từ 3 đến 64 ký tự: chữ thường không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới",
            ));
        }
        let full_name = edit.full_name.trim();
        if full_name.is_empty() || full_name.chars().count() > 200 {
            errors.push(InvalidField::bilingual(
                "full_name",
                "give the official's full name (at most 200 characters)",
                "nhập họ và tên cán bộ (tối đa 200 ký tự)",
            ));
        }
        let role = Role::from_code(edit.role.trim()).filter(|r| *r != Role::Citizen);
        match role {
            None => errors.push(InvalidField::bilingual(
                "role",
                "choose the official's role",
                "chọn vai trò của cán bộ",
            )),
            Some(r) if actor.role == Role::AgencyAdmin && !working_role(r) => {
                errors.push(InvalidField::bilingual(
                    "role",
                    "an agency administrator gives reception, handler, approver or leader roles",
                    "quản trị đơn vị chỉ giao vai trò tiếp nhận, xử lý, phê duyệt hoặc lãnh đạo",
                ))
            }
            Some(_) => {}
        }
        let agency = match AgencyCode::parse(edit.agency.trim()) {
            Ok(code) if self.agency(&code).await?.is_some() => Some(code),
            _ => {
                errors.push(InvalidField::bilingual(
                    "agency",
                    "choose the agency the official works for",
                    "chọn cơ quan nơi cán bộ làm việc",
                ));
                None
            }
        };
        if let Some(code) = &agency
            && actor.role == Role::AgencyAdmin
            && !self.within_subtree(actor, code).await?
        {
            errors.push(InvalidField::bilingual(
                "agency",
                "that agency is outside the one you administer",
                "cơ quan này nằm ngoài đơn vị bạn quản trị",
            ));
        }
        let existing = if username_ok {
            self.store.user(username).await?
        } else {
            None
        };
        let password = edit.password.as_str();
        if (existing.is_none() || !password.is_empty()) && password.chars().count() < MIN_PASSWORD {
            errors.push(InvalidField::bilingual(
                "password",
                format!("a new account needs a password of at least {MIN_PASSWORD} characters"),
                format!("tài khoản mới cần mật khẩu từ {MIN_PASSWORD} ký tự trở lên"),
            ));
        }
        if let Some(existing) = &existing
            && existing.role == Role::Citizen
        {
            errors.push(InvalidField::bilingual(
                "username",
                "that name is a citizen's account",
                "tên này là tài khoản của công dân",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        if let Some(existing) = &existing {
            // The account as it is must be within reach too, not only what it becomes.
            self.managed_account(actor, &existing.username).await?;
        }
        let official = User {
            username: username.to_owned(),
            full_name: full_name.to_owned(),
            role: role.expect("checked above"),
            agency,
            assurance: Assurance::default(),
        };
        let action = if existing.is_some() {
            "official_changed"
        } else {
            "official_added"
        };
        let break_glass =
            powerful(official.role) || existing.as_ref().is_some_and(|e| powerful(e.role));
        self.privileged(
            actor,
            action,
            json!({
                "account": official.username, "role": official.role.code(),
                "agency": official.agency.as_ref().map(|a| a.to_string()),
                "password_set": !password.is_empty(),
            }),
            break_glass,
        )
        .await?;
        self.store
            .upsert_users(std::slice::from_ref(&official))
            .await?;
        if !password.is_empty() {
            self.set_password(std::slice::from_ref(&official.username), password)
                .await?;
        }
        // A new role, agency or password takes effect now: the account signs in again.
        if existing.is_some() {
            self.store.end_sessions(&official.username).await?;
        }
        Ok(())
    }

    /// Adds an agency or renames or moves one (privileged; system administrators only).
    pub async fn save_agency(&self, actor: &User, edit: &AgencyEdit) -> Result<()> {
        if actor.role != Role::SystemAdmin {
            return Err(AppError::Forbidden(
                "only system administrators change the agency tree".into(),
            ));
        }
        let mut errors = Vec::new();
        let code = AgencyCode::parse(edit.code.trim())
            .map_err(|_| {
                errors.push(InvalidField::bilingual(
                    "code",
                    "give the agency's national code, e.g. 000.00.00.H31",
                    "nhập mã định danh cơ quan, ví dụ 000.00.00.H31",
                ))
            })
            .ok();
        let name = edit.name.trim();
        if name.is_empty() || name.chars().count() > 300 {
            errors.push(InvalidField::bilingual(
                "name",
                "give the agency's name (at most 300 characters)",
                "nhập tên cơ quan (tối đa 300 ký tự)",
            ));
        }
        if !self
            .lookups()
            .levels
            .iter()
            .any(|l| l.code == edit.level.trim())
        {
            errors.push(InvalidField::bilingual(
                "level",
                "choose the agency's level",
                "chọn cấp của cơ quan",
            ));
        }
        let parent = match edit.parent.trim() {
            "" => None,
            raw => match AgencyCode::parse(raw) {
                Ok(p) if self.agency(&p).await?.is_some() && Some(&p) != code.as_ref() => Some(p),
                _ => {
                    errors.push(InvalidField::bilingual(
                        "parent",
                        "choose an existing agency above it, not the agency itself",
                        "chọn cơ quan cấp trên đã có, không phải chính cơ quan này",
                    ));
                    None
                }
            },
        };
        // Moving an agency under one of its own would make a loop.
        if let (Some(code), Some(parent)) = (&code, &parent)
            && self.is_under(code, parent).await?
        {
            errors.push(InvalidField::bilingual(
                "parent",
                "that agency is below this one",
                "cơ quan này là cấp dưới của cơ quan đang sửa",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let agency = Agency {
            code: code.expect("checked above"),
            name: name.to_owned(),
            parent,
            level: edit.level.trim().to_owned(),
        };
        self.privileged(
            actor,
            "agency_saved",
            json!({ "agency": agency.code.to_string(), "name": agency.name,
                    "parent": agency.parent.as_ref().map(|p| p.to_string()), "level": agency.level }),
            false,
        )
        .await?;
        self.store
            .upsert_agencies(std::slice::from_ref(&agency))
            .await?;
        self.refresh_index().await?;
        Ok(())
    }
}
