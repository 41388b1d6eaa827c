//! The dossier status model and its legal transitions, mapped to the national status codes
//! (TrangThaiHoSo 1–10) used for sync and export.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Saved by the citizen, not yet submitted; not known to the national portal.
    Draft,
    /// 1 Mới đăng ký.
    Submitted,
    /// 2 Được tiếp nhận.
    Received,
    /// 3 Không được tiếp nhận.
    Refused,
    /// 4 Đang xử lý.
    InProgress,
    /// 5 Yêu cầu bổ sung.
    SupplementRequested,
    /// 6 Yêu cầu nghĩa vụ tài chính.
    PaymentRequested,
    /// 7 Công dân rút hồ sơ.
    Withdrawn,
    /// 8 Dừng xử lý.
    Stopped,
    /// 9 Đã xử lý xong.
    Resolved,
    /// 10 Đã trả kết quả.
    Returned,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::Draft,
        Status::Submitted,
        Status::Received,
        Status::Refused,
        Status::InProgress,
        Status::SupplementRequested,
        Status::PaymentRequested,
        Status::Withdrawn,
        Status::Stopped,
        Status::Resolved,
        Status::Returned,
    ];

    /// The stable name used in storage, the API and event hashes (the serde name).
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Received => "received",
            Status::Refused => "refused",
            Status::InProgress => "in_progress",
            Status::SupplementRequested => "supplement_requested",
            Status::PaymentRequested => "payment_requested",
            Status::Withdrawn => "withdrawn",
            Status::Stopped => "stopped",
            Status::Resolved => "resolved",
            Status::Returned => "returned",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The national code; None for a draft, which the national portal never sees.
    pub fn national_code(self) -> Option<u8> {
        match self {
            Status::Draft => None,
            Status::Submitted => Some(1),
            Status::Received => Some(2),
            Status::Refused => Some(3),
            Status::InProgress => Some(4),
            Status::SupplementRequested => Some(5),
            Status::PaymentRequested => Some(6),
            Status::Withdrawn => Some(7),
            Status::Stopped => Some(8),
            Status::Resolved => Some(9),
            Status::Returned => Some(10),
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Status::Draft => "Bản nháp",
            Status::Submitted => "Mới đăng ký",
            Status::Received => "Được tiếp nhận",
            Status::Refused => "Không được tiếp nhận",
            Status::InProgress => "Đang xử lý",
            Status::SupplementRequested => "Yêu cầu bổ sung",
            Status::PaymentRequested => "Yêu cầu nghĩa vụ tài chính",
            Status::Withdrawn => "Công dân rút hồ sơ",
            Status::Stopped => "Dừng xử lý",
            Status::Resolved => "Đã xử lý xong",
            Status::Returned => "Đã trả kết quả",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Submitted => "Newly submitted",
            Status::Received => "Received",
            Status::Refused => "Not accepted",
            Status::InProgress => "Being processed",
            Status::SupplementRequested => "Supplement requested",
            Status::PaymentRequested => "Fees to pay",
            Status::Withdrawn => "Withdrawn by the applicant",
            Status::Stopped => "Processing stopped",
            Status::Resolved => "Processed",
            Status::Returned => "Result returned",
        }
    }

    /// No action can follow.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
        )
    }

    /// The legal clock has stopped for good: the first of these ends the processing time that
    /// the national index judges.
    pub fn ends_processing(self) -> bool {
        matches!(
            self,
            Status::Refused | Status::Stopped | Status::Resolved | Status::Returned
        )
    }
}

/// What someone does to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Receive,
    Refuse,
    RequestSupplement,
    Supplement,
    RequestPayment,
    ConfirmPayment,
    CompleteStep,
    Transfer,
    ApologizeAndExtend,
    Resolve,
    Return,
    Withdraw,
    Stop,
    /// The applicant rates the service once the result is returned (the index's satisfaction).
    Rate,
    /// A fee paid online is given back; recorded on the dossier, its status unchanged.
    Refund,
}

impl Action {
    /// The stable name used in storage, the API and event hashes (the serde name).
    pub fn code(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Receive => "receive",
            Action::Refuse => "refuse",
            Action::RequestSupplement => "request_supplement",
            Action::Supplement => "supplement",
            Action::RequestPayment => "request_payment",
            Action::ConfirmPayment => "confirm_payment",
            Action::CompleteStep => "complete_step",
            Action::Transfer => "transfer",
            Action::ApologizeAndExtend => "apologize_and_extend",
            Action::Resolve => "resolve",
            Action::Return => "return",
            Action::Withdraw => "withdraw",
            Action::Stop => "stop",
            Action::Rate => "rate",
            Action::Refund => "refund",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    pub const ALL: [Action; 16] = [
        Action::Submit,
        Action::Receive,
        Action::Refuse,
        Action::RequestSupplement,
        Action::Supplement,
        Action::RequestPayment,
        Action::ConfirmPayment,
        Action::CompleteStep,
        Action::Transfer,
        Action::ApologizeAndExtend,
        Action::Resolve,
        Action::Return,
        Action::Withdraw,
        Action::Stop,
        Action::Rate,
        Action::Refund,
    ];

    pub fn name_vi(self) -> &'static str {
        match self {
            Action::Submit => "Nộp hồ sơ",
            Action::Receive => "Tiếp nhận hồ sơ",
            Action::Refuse => "Từ chối tiếp nhận",
            Action::RequestSupplement => "Yêu cầu bổ sung hồ sơ",
            Action::Supplement => "Bổ sung hồ sơ",
            Action::RequestPayment => "Yêu cầu thực hiện nghĩa vụ tài chính",
            Action::ConfirmPayment => "Xác nhận đã nộp phí, lệ phí",
            Action::CompleteStep => "Hoàn thành bước xử lý",
            Action::Transfer => "Chuyển liên thông",
            Action::ApologizeAndExtend => "Xin lỗi và hẹn lại ngày trả",
            Action::Resolve => "Phê duyệt, hoàn thành xử lý",
            Action::Return => "Trả kết quả",
            Action::Withdraw => "Rút hồ sơ",
            Action::Stop => "Dừng xử lý",
            Action::Rate => "Đánh giá mức độ hài lòng",
            Action::Refund => "Hoàn trả phí, lệ phí",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Action::Submit => "Submit",
            Action::Receive => "Receive",
            Action::Refuse => "Refuse",
            Action::RequestSupplement => "Request a supplement",
            Action::Supplement => "Supplement",
            Action::RequestPayment => "Request fees",
            Action::ConfirmPayment => "Confirm payment",
            Action::CompleteStep => "Complete the step",
            Action::Transfer => "Transfer to another agency",
            Action::ApologizeAndExtend => "Apologise and set a new date",
            Action::Resolve => "Approve and resolve",
            Action::Return => "Return the result",
            Action::Withdraw => "Withdraw",
            Action::Stop => "Stop processing",
            Action::Rate => "Rate the service",
            Action::Refund => "Refund the fees",
        }
    }
}

/// A dossier's status with what the rules need to remember: where a paused dossier resumes,
/// and how many supplements and apologies it has had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierState {
    pub status: Status,
    /// While a supplement or a payment is awaited: the status to go back to.
    pub resumes_to: Option<Status>,
    pub supplement_requests: u32,
    pub apologized: bool,
    /// How many workflow steps are done.
    #[serde(default)]
    pub steps_done: u32,
    #[serde(default)]
    pub rated: bool,
}

impl DossierState {
    pub fn draft() -> Self {
        Self {
            status: Status::Draft,
            resumes_to: None,
            supplement_requests: 0,
            apologized: false,
            steps_done: 0,
            rated: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action:?} is not allowed while the dossier is {} ({status:?})", status.name_vi())]
pub struct TransitionError {
    pub status: Status,
    pub action: Action,
}

impl DossierState {
    /// The state after `action`, or why the action is not allowed now.
    pub fn apply(self, action: Action) -> Result<DossierState, TransitionError> {
        use Status::*;
        let refuse = || TransitionError {
            status: self.status,
            action,
        };
        let to = |status| DossierState { status, ..self };
        let working = matches!(self.status, Received | InProgress);
        match (action, self.status) {
            (Action::Submit, Draft) => Ok(to(Submitted)),
            (Action::Receive, Submitted) => Ok(to(Received)),
            (Action::Refuse, Submitted) => Ok(to(Refused)),
            (Action::RequestSupplement, Submitted | Received | InProgress) => Ok(DossierState {
                status: SupplementRequested,
                resumes_to: Some(self.status),
                supplement_requests: self.supplement_requests + 1,
                ..self
            }),
            (Action::Supplement, SupplementRequested) => Ok(DossierState {
                status: self.resumes_to.ok_or_else(refuse)?,
                resumes_to: None,
                ..self
            }),
            (Action::RequestPayment, Received | InProgress) => Ok(DossierState {
                status: PaymentRequested,
                resumes_to: Some(self.status),
                ..self
            }),
            (Action::ConfirmPayment, PaymentRequested) => Ok(DossierState {
                status: InProgress,
                resumes_to: None,
                ..self
            }),
            (Action::CompleteStep, _) if working => Ok(DossierState {
                status: InProgress,
                steps_done: self.steps_done + 1,
                ..self
            }),
            (Action::Transfer, _) if working => Ok(to(InProgress)),
            (Action::ApologizeAndExtend, _) if working && !self.apologized => Ok(DossierState {
                apologized: true,
                ..self
            }),
            (Action::Resolve, _) if working => Ok(to(Resolved)),
            (Action::Return, Resolved) => Ok(to(Returned)),
            (
                Action::Withdraw,
                Draft | Submitted | Received | InProgress | SupplementRequested | PaymentRequested,
            ) => Ok(to(Withdrawn)),
            (Action::Stop, Received | InProgress | SupplementRequested | PaymentRequested) => {
                Ok(DossierState {
                    status: Stopped,
                    resumes_to: None,
                    ..self
                })
            }
            (Action::Refund, status) if status != Draft => Ok(self),
            (Action::Rate, Returned) if !self.rated => Ok(DossierState {
                rated: true,
                ..self
            }),
            _ => Err(refuse()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(actions: &[Action]) -> Result<DossierState, TransitionError> {
        actions
            .iter()
            .try_fold(DossierState::draft(), |s, a| s.apply(*a))
    }

    #[test]
    fn codes_are_the_serde_names() {
        for s in Status::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.code());
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), a.code());
            assert_eq!(Action::from_code(a.code()), Some(a));
        }
    }

    #[test]
    fn national_codes_are_1_to_10() {
        let codes: Vec<u8> = Status::ALL
            .iter()
            .filter_map(|s| s.national_code())
            .collect();
        assert_eq!(codes, (1..=10).collect::<Vec<u8>>());
    }

    #[test]
    fn the_one_stop_journey() {
        use Action::*;
        let end = run(&[
            Submit,
            Receive,
            CompleteStep,
            Transfer,
            RequestPayment,
            ConfirmPayment,
            Resolve,
            Return,
            Rate,
        ]);
        let end = end.unwrap();
        assert_eq!(end.status, Status::Returned);
        assert_eq!(end.steps_done, 1);
        assert!(end.rated);
        assert!(end.apply(Rate).is_err(), "a dossier is rated once");
    }

    #[test]
    fn supplements_resume_where_they_paused() {
        use Action::*;
        let before_reception = run(&[Submit, RequestSupplement, Supplement]).unwrap();
        assert_eq!(before_reception.status, Status::Submitted);
        let during = run(&[Submit, Receive, CompleteStep, RequestSupplement, Supplement]).unwrap();
        assert_eq!(during.status, Status::InProgress);
        assert_eq!(during.supplement_requests, 1);
        let twice = run(&[
            Submit,
            Receive,
            RequestSupplement,
            Supplement,
            RequestSupplement,
        ])
        .unwrap();
        assert_eq!(twice.supplement_requests, 2);
    }

    #[test]
    fn illegal_moves_are_refused() {
        use Action::*;
        assert_eq!(
            run(&[Submit, Resolve]).unwrap_err(),
            TransitionError {
                status: Status::Submitted,
                action: Resolve
            }
        );
        assert!(run(&[Submit, Receive, Receive]).is_err());
        assert!(
            run(&[Submit, Refuse, Withdraw]).is_err(),
            "a refused dossier is closed"
        );
        assert!(
            run(&[Submit, Receive, ApologizeAndExtend, ApologizeAndExtend]).is_err(),
            "once"
        );
        assert!(
            run(&[Submit, Receive, Resolve, Withdraw]).is_err(),
            "too late to withdraw"
        );
        let err = run(&[Submit, Receive, Resolve, Stop]).unwrap_err();
        assert!(err.to_string().contains("Đã xử lý xong"));
    }

    proptest! {
        #[test]
        fn closed_dossiers_stay_closed(actions in prop::collection::vec(prop::sample::select(Action::ALL.to_vec()), 0..30)) {
            let mut state = DossierState::draft();
            for action in actions {
                let was_closed = state.status.is_closed();
                match state.apply(action) {
                    Ok(next) => {
                        // Only a rating follows a closed dossier, and it changes no status.
                        prop_assert!(!was_closed || next.status == state.status, "{:?} left closed {:?}", action, state.status);
                        prop_assert!(next.status != Status::Draft);
                        state = next;
                    }
                    Err(e) => prop_assert_eq!(e.status, state.status),
                }
            }
        }
    }
}
