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
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Citizen,
        Role::Reception,
        Role::Handler,
        Role::Approver,
        Role::Leader,
        Role::AgencyAdmin,
        Role::SystemAdmin,
        Role::Auditor,
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
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Officials work for an agency and see the dossiers of its subtree.
    pub fn is_official(self) -> bool {
        !matches!(self, Role::Citizen)
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
                    | ApologizeAndExtend
                    | Stop
            ),
            Role::Approver => matches!(action, Resolve | Stop | ApologizeAndExtend),
            Role::Leader | Role::AgencyAdmin | Role::SystemAdmin | Role::Auditor => false,
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
}
