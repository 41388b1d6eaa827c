//! The people who act on dossiers and what their role lets them do.

use serde::{Deserialize, Serialize};

use crate::AgencyCode;
use crate::dossier::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Công dân, doanh nghiệp.
    Citizen,
    /// Cán bộ tiếp nhận (bộ phận một cửa).
    Reception,
    /// Chuyên viên xử lý.
    Handler,
    /// Lãnh đạo phê duyệt.
    Approver,
    /// Lãnh đạo tỉnh, bộ: dashboards.
    Leader,
    AgencyAdmin,
    SystemAdmin,
    Auditor,
    /// Another agency's system, reading through the exchange API with its consent.
    ExchangeClient,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Citizen,
        Role::Reception,
        Role::Handler,
        Role::Approver,
        Role::Leader,
        Role::AgencyAdmin,
        Role::SystemAdmin,
        Role::Auditor,
        Role::ExchangeClient,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Reception => "reception",
            Role::Handler => "handler",
            Role::Approver => "approver",
            Role::Leader => "leader",
            Role::AgencyAdmin => "agency_admin",
            Role::SystemAdmin => "system_admin",
            Role::Auditor => "auditor",
            Role::ExchangeClient => "exchange_client",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Officials work for an agency and see the dossiers of its subtree.
    pub fn is_official(self) -> bool {
        !matches!(self, Role::Citizen | Role::ExchangeClient)
    }

    /// Roles that read the dossiers of their agency's subtree. Administrators do not: they
    /// hold no standing power over people's data (break-glass access aside).
    pub fn reads_agency_dossiers(self) -> bool {
        matches!(
            self,
            Role::Reception | Role::Handler | Role::Approver | Role::Leader | Role::Auditor
        )
    }

    /// Officials sign in with a second factor: their accounts reach other people's data.
    pub fn needs_second_factor(self) -> bool {
        self.is_official()
    }

    /// The dossier actions this role may take (where the agency and the status allow).
    /// Submitting, supplementing and withdrawing are the applicant's own; reception officers
    /// also submit for people who come in person or by post.
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Citizen => matches!(action, Submit | Supplement | Withdraw | Rate),
            Role::Reception => {
                matches!(
                    action,
                    Submit | Receive | Refuse | RequestSupplement | Return
                )
            }
            Role::Handler => matches!(
                action,
                CompleteStep
                    | Transfer
                    | RequestSupplement
                    | RequestPayment
                    | ConfirmPayment
                    | Refund
                    | ApologizeAndExtend
                    | Stop
            ),
            Role::Approver => matches!(action, Resolve | Stop | ApologizeAndExtend),
            Role::Leader
            | Role::AgencyAdmin
            | Role::SystemAdmin
            | Role::Auditor
            | Role::ExchangeClient => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    /// The agency an official works for; None for citizens.
    pub agency: Option<AgencyCode>,
    /// How surely this request's person was identified: the level of assurance of the
    /// sign-in behind it, not a property of the account.
    #[serde(default)]
    pub assurance: Assurance,
}

/// Level of assurance of an identity (Decree 59/2022 on electronic identification): a local
/// account's name is only declared; the national e-ID vouches for level 1 (identity checked
/// against the population database) or level 2 (checked in person, with the chip card).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(into = "u8", try_from = "u8")]
pub enum Assurance {
    #[default]
    Declared = 0,
    Level1 = 1,
    Level2 = 2,
}

impl Assurance {
    pub fn level(self) -> u8 {
        self as u8
    }

    pub fn from_level(level: u8) -> Option<Self> {
        match level {
            0 => Some(Assurance::Declared),
            1 => Some(Assurance::Level1),
            2 => Some(Assurance::Level2),
            _ => None,
        }
    }
}

impl From<Assurance> for u8 {
    fn from(a: Assurance) -> u8 {
        a.level()
    }
}

impl TryFrom<u8> for Assurance {
    type Error = String;
    fn try_from(level: u8) -> Result<Self, String> {
        Assurance::from_level(level).ok_or_else(|| format!("no level of assurance {level}"))
    }
}

/// How long the next sign-in must wait after `failures` failed attempts in a row (passwords
/// and second-factor codes alike): none for the first two slips, then a delay that doubles
/// from 2 seconds, and from the tenth failure a lockout of half an hour. This makes guessing
/// slow without locking out a person who mistypes twice.
pub fn sign_in_delay(failures: i32) -> Option<chrono::Duration> {
    match failures {
        ..=2 => None,
        3..=9 => Some(chrono::Duration::seconds(1 << (failures - 2))),
        _ => Some(chrono::Duration::minutes(30)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_delays_grow_then_lock() {
        assert_eq!(sign_in_delay(0), None);
        assert_eq!(sign_in_delay(2), None);
        assert_eq!(sign_in_delay(3), Some(chrono::Duration::seconds(2)));
        assert_eq!(sign_in_delay(4), Some(chrono::Duration::seconds(4)));
        assert_eq!(sign_in_delay(9), Some(chrono::Duration::seconds(128)));
        assert_eq!(sign_in_delay(10), Some(chrono::Duration::minutes(30)));
        assert_eq!(sign_in_delay(500), Some(chrono::Duration::minutes(30)));
    }

    #[test]
    fn assurance_levels_order_and_round_trip() {
        assert!(Assurance::Declared < Assurance::Level1);
        assert!(Assurance::Level1 < Assurance::Level2);
        for a in [Assurance::Declared, Assurance::Level1, Assurance::Level2] {
            assert_eq!(Assurance::from_level(a.level()), Some(a));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(serde_json::from_str::<Assurance>(&json).unwrap(), a);
        }
        assert_eq!(Assurance::from_level(3), None);
        assert!(serde_json::from_str::<Assurance>("7").is_err());
        assert!(!Role::ExchangeClient.is_official());
        assert!(Role::Reception.needs_second_factor());
        assert!(!Role::Citizen.needs_second_factor());
    }
}
