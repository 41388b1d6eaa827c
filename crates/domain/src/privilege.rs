//! Privileged access: no administrator holds standing power. An administrator asks for an
//! elevation with a reason and a duration; another administrator approves it; it ends by
//! itself. Break-glass access (emergency reading of any agency's dossiers) needs two approvers
//! and alerts the auditors. Every privileged action is sealed into a hash chain of its own.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::InvalidField;
use crate::dossier::chain::{GENESIS, digest_fields};
use crate::user::{Role, User};

/// The longest an elevation may last, and a break-glass one.
pub const MAX_MINUTES: i64 = 8 * 60;
pub const MAX_BREAK_GLASS_MINUTES: i64 = 60;
pub const MIN_MINUTES: i64 = 5;
/// A request not approved within this many hours lapses.
pub const PENDING_HOURS: i64 = 24;
const MIN_REASON_CHARS: usize = 15;

/// An elevation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Elevation {
    pub id: i64,
    pub username: String,
    pub reason: String,
    pub minutes: i64,
    pub break_glass: bool,
    pub requested_at: DateTime<Utc>,
    pub approvers: Vec<String>,
    /// When the last approval needed came; it ends `minutes` later.
    pub granted_at: Option<DateTime<Utc>>,
    /// Refused, or ended early by its holder.
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElevationState {
    /// Waiting for approvals.
    Pending,
    Active,
    /// Its time ran out.
    Expired,
    /// Refused or ended early.
    Closed,
}

impl Elevation {
    /// How many approvals it needs.
    pub fn approvals_needed(&self) -> usize {
        if self.break_glass { 2 } else { 1 }
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.granted_at
            .map(|at| at + Duration::minutes(self.minutes))
    }

    pub fn state(&self, now: DateTime<Utc>) -> ElevationState {
        if self.closed_at.is_some() {
            return ElevationState::Closed;
        }
        match self.expires_at() {
            None if now < self.requested_at + Duration::hours(PENDING_HOURS) => {
                ElevationState::Pending
            }
            None => ElevationState::Expired,
            Some(end) if now < end => ElevationState::Active,
            Some(_) => ElevationState::Expired,
        }
    }

    /// Whether `approver` may approve it: an administrator other than the requester who has
    /// not approved it already, while it waits.
    pub fn check_approver(&self, approver: &User, now: DateTime<Utc>) -> Result<(), String> {
        if !may_approve(approver.role) {
            return Err("only system administrators approve elevations".into());
        }
        if approver.username == self.username {
            return Err("an elevation is approved by someone other than who asked for it".into());
        }
        if self.approvers.contains(&approver.username) {
            return Err("each approval must come from a different administrator".into());
        }
        if self.state(now) != ElevationState::Pending {
            return Err("this elevation no longer waits for approval".into());
        }
        Ok(())
    }
}

/// Roles that may ask for an elevation.
pub fn may_request(role: Role) -> bool {
    matches!(role, Role::SystemAdmin | Role::AgencyAdmin)
}

/// Roles that may approve one.
pub fn may_approve(role: Role) -> bool {
    role == Role::SystemAdmin
}

/// Checks a request: a reason others can judge, a duration within the limits; break-glass
/// (any agency's dossiers) only for system administrators.
pub fn check_request(
    role: Role,
    reason: &str,
    minutes: i64,
    break_glass: bool,
) -> Vec<InvalidField> {
    let mut errors = Vec::new();
    if break_glass && role != Role::SystemAdmin {
        errors.push(InvalidField::bilingual(
            "break_glass",
            "only system administrators ask for break-glass access",
            "chỉ quản trị hệ thống được xin truy cập khẩn cấp",
        ));
    }
    if reason.trim().chars().count() < MIN_REASON_CHARS {
        errors.push(InvalidField::bilingual(
            "reason",
            format!("give the reason in at least {MIN_REASON_CHARS} characters: the approver and the auditors read it"),
            format!("nêu lý do, ít nhất {MIN_REASON_CHARS} ký tự: người phê duyệt và thanh tra sẽ đọc"),
        ));
    }
    let max = if break_glass {
        MAX_BREAK_GLASS_MINUTES
    } else {
        MAX_MINUTES
    };
    if !(MIN_MINUTES..=max).contains(&minutes) {
        errors.push(InvalidField::bilingual(
            "minutes",
            format!("ask for between {MIN_MINUTES} and {max} minutes"),
            format!("thời hạn từ {MIN_MINUTES} đến {max} phút"),
        ));
    }
    errors
}

/// One privileged action in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivilegedEntry {
    /// 1, 2, 3… with no gaps.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// What was done: `elevation_requested`, `elevation_approved`, `account_unlocked` …
    pub action: String,
    /// The details, as JSON text.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl PrivilegedEntry {
    pub fn compute_hash(&self) -> String {
        let at = self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        digest_fields(&[
            self.prev_hash.as_bytes(),
            &self.seq.to_be_bytes(),
            at.as_bytes(),
            self.actor.as_bytes(),
            self.action.as_bytes(),
            self.detail.as_bytes(),
        ])
    }

    pub fn sealed(mut self, prev_hash: &str) -> Self {
        self.prev_hash = prev_hash.to_owned();
        self.hash = self.compute_hash();
        self
    }
}

/// Checks the privileged log from its start: the number of the first entry that does not
/// hold together, and why.
pub fn verify_log(entries: &[PrivilegedEntry]) -> Result<(), (i64, String)> {
    let mut prev = GENESIS;
    for (i, entry) in entries.iter().enumerate() {
        let expected = i as i64 + 1;
        if entry.seq != expected {
            return Err((expected, format!("found entry {} in its place", entry.seq)));
        }
        if entry.prev_hash != prev {
            return Err((expected, "does not link to the entry before it".into()));
        }
        if entry.compute_hash() != entry.hash {
            return Err((
                expected,
                "its content was changed after it was written".into(),
            ));
        }
        prev = &entry.hash;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: Role) -> User {
        User {
            username: name.into(),
            full_name: name.into(),
            role,
            agency: None,
            assurance: Default::default(),
        }
    }

    fn elevation(break_glass: bool) -> Elevation {
        Elevation {
            id: 1,
            username: "a".into(),
            reason: "restore a locked official's account".into(),
            minutes: 30,
            break_glass,
            requested_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            approvers: Vec::new(),
            granted_at: None,
            closed_at: None,
            closed_by: None,
        }
    }

    #[test]
    fn an_elevation_waits_then_runs_out_by_itself() {
        let mut e = elevation(false);
        let t0 = e.requested_at;
        assert_eq!(e.state(t0), ElevationState::Pending);
        assert_eq!(
            e.state(t0 + Duration::hours(PENDING_HOURS)),
            ElevationState::Expired,
            "a request nobody approves lapses"
        );
        e.approvers.push("b".into());
        e.granted_at = Some(t0 + Duration::minutes(2));
        assert_eq!(e.state(t0 + Duration::minutes(3)), ElevationState::Active);
        assert_eq!(e.state(t0 + Duration::minutes(31)), ElevationState::Active);
        assert_eq!(e.state(t0 + Duration::minutes(32)), ElevationState::Expired);
        e.closed_at = Some(t0 + Duration::minutes(10));
        assert_eq!(e.state(t0 + Duration::minutes(11)), ElevationState::Closed);
    }

    #[test]
    fn approvers_are_other_administrators_each_once() {
        let e = elevation(true);
        let now = e.requested_at;
        assert_eq!(e.approvals_needed(), 2);
        assert!(
            e.check_approver(&user("a", Role::SystemAdmin), now)
                .is_err()
        );
        assert!(e.check_approver(&user("b", Role::Auditor), now).is_err());
        assert!(
            e.check_approver(&user("b", Role::AgencyAdmin), now)
                .is_err()
        );
        assert!(e.check_approver(&user("b", Role::SystemAdmin), now).is_ok());
        let mut once = e.clone();
        once.approvers.push("b".into());
        assert!(
            once.check_approver(&user("b", Role::SystemAdmin), now)
                .is_err()
        );
        assert!(
            once.check_approver(&user("c", Role::SystemAdmin), now)
                .is_ok()
        );
    }

    #[test]
    fn requests_need_a_reason_and_a_bounded_time() {
        let admin = Role::SystemAdmin;
        let reason = "restore a locked account";
        assert!(check_request(admin, reason, 30, false).is_empty());
        assert_eq!(check_request(admin, "because", 30, false).len(), 1);
        assert_eq!(check_request(admin, reason, 4, false).len(), 1);
        assert_eq!(check_request(admin, reason, 481, false).len(), 1);
        assert_eq!(check_request(admin, reason, 61, true).len(), 1);
        assert!(check_request(admin, reason, 30, true).is_empty());
        assert_eq!(check_request(Role::AgencyAdmin, reason, 30, true).len(), 1);
    }

    #[test]
    fn the_log_detects_edits_and_gaps() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut entries = Vec::new();
        let mut prev = GENESIS.to_owned();
        for seq in 1..=3 {
            let e = PrivilegedEntry {
                seq,
                at,
                actor: "a".into(),
                action: "account_unlocked".into(),
                detail: format!("{{\"n\":{seq}}}"),
                prev_hash: String::new(),
                hash: String::new(),
            }
            .sealed(&prev);
            prev = e.hash.clone();
            entries.push(e);
        }
        assert!(verify_log(&entries).is_ok());
        let mut edited = entries.clone();
        edited[1].detail = "{}".into();
        assert_eq!(verify_log(&edited).unwrap_err().0, 2);
        let mut gap = entries.clone();
        gap.remove(1);
        assert_eq!(verify_log(&gap).unwrap_err().0, 2);
    }
}
