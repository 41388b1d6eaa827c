//! Fees (phí, lệ phí) and paying them online: the assessment an official asks for, the order
//! at the payment provider (VNPay 2.1.0, [`crate::vnpay`]), its confirmation by the provider's
//! server-to-server call (IPN, the only thing that confirms a payment), receipts, the daily
//! reconciliation and refunds. A built-in sandbox plays the provider for demos and tests.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::dossier::{Action, Dossier, EventRecord, Status};
use domain::fees::{Assessment, FeeLine};
use domain::user::{Role, User};
use domain::{AgencyCode, Procedure};
use rand::RngCore;
use store::{Callback, NewPayment, Payment, PaymentChange, PaymentStatus};

use crate::dossiers::ActionInput;
use crate::services::Served;
use crate::vnpay::{self, IpnCode, Params};
use crate::{AccessPurpose, App, AppError, Result};

/// The actor named on the events the provider's confirmation writes.
pub const PROVIDER_ACTOR: &str = "vnpay";
const SANDBOX_SECRET_KEY: &str = "vnpay_sandbox_secret";
/// Where the sandbox provider's payment page is served.
pub const SANDBOX_PATH: &str = "/sandbox/vnpay/paymentv2/vpcpay.html";

/// The merchant's VNPay terminal, as configured.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VnpaySettings {
    /// vnp_TmnCode, the terminal VNPay gives the merchant.
    pub tmn_code: String,
    /// The secret both sides sign with (`MOTCUA_PAYMENT__VNPAY__HASH_SECRET`). Empty with the
    /// sandbox on: a secret kept in the database is used.
    pub hash_secret: String,
    /// The provider's payment page; empty with the sandbox on: the sandbox's.
    pub pay_url: String,
    /// How long an order may be paid.
    pub expire_minutes: i64,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    /// Serve the built-in sandbox provider (on with `serve --demo`).
    pub sandbox: bool,
    pub vnpay: VnpaySettings,
}

/// A payment intermediary, the port through which fees are paid: it turns an order into the
/// provider's payment page and reads the provider's signed callbacks. VNPay 2.1.0 ([`Vnpay`])
/// is the first adapter; what a confirmation does to orders and dossiers is the same for all.
pub(crate) trait Provider: Send + Sync + std::fmt::Debug {
    /// The provider's name: in its callback addresses and on the events it confirms.
    fn name(&self) -> &'static str;
    /// The provider's payment page for an order.
    fn checkout_url(&self, order: &Checkout) -> String;
    /// What a callback reports, or None when its signature does not verify.
    fn read_callback(&self, params: &Params) -> Option<Reported>;
    /// How long an order may be paid.
    fn expire(&self) -> Duration;
}

/// An order as the provider's payment page is asked for it.
pub(crate) struct Checkout<'a> {
    pub txn_ref: &'a str,
    pub amount_vnd: i64,
    pub description: &'a str,
    pub return_url: &'a str,
    pub client_ip: &'a str,
    pub created_at: DateTime<Utc>,
}

/// What a provider's callback says happened to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reported {
    pub txn_ref: String,
    pub amount_vnd: Option<i64>,
    pub succeeded: bool,
    pub provider_ref: Option<String>,
    pub bank_code: Option<String>,
}

/// The VNPay 2.1.0 adapter.
#[derive(Debug)]
struct Vnpay {
    tmn_code: String,
    secret: String,
    pay_url: String,
    expire: Duration,
}

impl Provider for Vnpay {
    fn name(&self) -> &'static str {
        PROVIDER_ACTOR
    }

    fn checkout_url(&self, order: &Checkout) -> String {
        vnpay::payment_url(
            &self.secret,
            &vnpay::PaymentRequest {
                pay_url: &self.pay_url,
                tmn_code: &self.tmn_code,
                txn_ref: order.txn_ref,
                amount_vnd: order.amount_vnd,
                order_info: order.description,
                locale: "vn",
                return_url: order.return_url,
                ip_addr: order.client_ip,
                created_at: order.created_at,
                expires_at: order.created_at + self.expire,
            },
        )
    }

    fn read_callback(&self, params: &Params) -> Option<Reported> {
        vnpay::verify(&self.secret, params).then(|| Reported {
            txn_ref: params.get("vnp_TxnRef").cloned().unwrap_or_default(),
            amount_vnd: vnpay::amount_vnd(params),
            succeeded: vnpay::succeeded(params),
            provider_ref: params.get("vnp_TransactionNo").cloned(),
            bank_code: params.get("vnp_BankCode").cloned(),
        })
    }

    fn expire(&self) -> Duration {
        self.expire
    }
}

/// What a provider's confirmation did; each adapter answers its provider in its own codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// Paid: the order is settled and the dossier moved on.
    Settled,
    /// The provider reports a failure (cancelled, refused): recorded, the dossier still waits.
    FailureRecorded,
    BadSignature,
    UnknownOrder,
    WrongAmount,
    /// The order is no longer pending, or the dossier no longer awaits its fee.
    AlreadyDone,
    /// Not decided now (a concurrent change, a fault): the provider should call again.
    Retry,
}

impl Confirmation {
    /// The VNPay IPN answer.
    pub fn vnpay(self) -> IpnCode {
        match self {
            Confirmation::Settled | Confirmation::FailureRecorded => IpnCode::Success,
            Confirmation::BadSignature => IpnCode::InvalidSignature,
            Confirmation::UnknownOrder => IpnCode::OrderNotFound,
            Confirmation::WrongAmount => IpnCode::InvalidAmount,
            Confirmation::AlreadyDone => IpnCode::AlreadyConfirmed,
            Confirmation::Retry => IpnCode::Other,
        }
    }
}

/// A fee request on a dossier's history: what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRequest {
    /// The request_payment event's sequence.
    pub seq: i64,
    pub amount_vnd: i64,
    pub lines: Vec<FeeLine>,
    pub exemption: Option<String>,
}

/// The latest fee request in a dossier's events.
pub fn fee_request(events: &[EventRecord]) -> Option<FeeRequest> {
    let event = events
        .iter()
        .rev()
        .find(|e| e.action == Action::RequestPayment)?;
    let payload: serde_json::Value = serde_json::from_str(&event.payload).ok()?;
    Some(FeeRequest {
        seq: event.sequence as i64,
        amount_vnd: payload.get("amount_vnd")?.as_i64()?,
        lines: payload
            .get("fees")
            .and_then(|f| serde_json::from_value(f.clone()).ok())
            .unwrap_or_default(),
        exemption: payload
            .get("exemption")
            .and_then(|e| e.as_str())
            .map(str::to_owned),
    })
}

/// What the person sees back from the provider.
#[derive(Debug, Clone)]
pub struct ReturnView {
    pub payment: Payment,
    /// The provider said the payment went through; until its IPN arrives the order is
    /// still pending here.
    pub provider_succeeded: bool,
}

/// An order shown on the sandbox's payment page.
#[derive(Debug, Clone)]
pub struct SandboxOrder {
    pub txn_ref: String,
    pub amount_vnd: i64,
    pub order_info: String,
    /// The signed request, handed back when the person confirms or cancels.
    pub query: String,
}

/// A day's payments of an agency subtree, with their totals by status.
#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub agency: AgencyCode,
    pub day: NaiveDate,
    pub payments: Vec<Payment>,
    /// For each status: how many, how much.
    pub totals: Vec<(PaymentStatus, usize, i64)>,
}

impl App {
    /// Takes online payments through this provider configuration.
    pub async fn with_payments(mut self, settings: PaymentSettings) -> Result<Self> {
        let mut secret = settings.vnpay.hash_secret.clone();
        if secret.is_empty() && settings.sandbox {
            // Kept in the database, so that every node signs alike.
            secret = self.stored_secret(SANDBOX_SECRET_KEY).await?;
        }
        let pay_url = match settings.vnpay.pay_url.as_str() {
            "" if settings.sandbox => format!("{}{SANDBOX_PATH}", self.public_url),
            url => url.to_owned(),
        };
        let tmn_code = match settings.vnpay.tmn_code.as_str() {
            "" if settings.sandbox => "MOTCUASB".to_owned(),
            code => code.to_owned(),
        };
        if secret.is_empty() || pay_url.is_empty() || tmn_code.is_empty() {
            return Err(AppError::invalid(
                "payment.vnpay",
                "give tmn_code, hash_secret and pay_url (or turn payment.sandbox on)",
            ));
        }
        if settings.sandbox {
            self.sandbox = Some(Arc::from(secret.as_str()));
        }
        self.provider = Some(Arc::new(Vnpay {
            tmn_code,
            secret,
            pay_url,
            expire: Duration::minutes(settings.vnpay.expire_minutes.clamp(5, 24 * 60)),
        }));
        Ok(self)
    }

    /// Whether fees can be paid online here.
    pub fn payments_enabled(&self) -> bool {
        self.provider.is_some()
    }

    fn provider(&self) -> Result<&dyn Provider> {
        self.provider.as_deref().ok_or_else(|| AppError::NotFound {
            what: "payment provider",
            id: "vnpay".into(),
        })
    }

    /// What a dossier owes for a fee request: the design's fees (else the catalogue's) for its
    /// channel, less those the checked target group is exempt from; or the amount the
    /// official enters where neither names one.
    pub(crate) fn assess_fees(
        &self,
        dossier: &Dossier,
        procedure: &Procedure,
        served: &Served,
        input: &ActionInput,
    ) -> Result<Assessment> {
        let fees = if served.design.fees.is_empty() {
            domain::fees::from_catalogue(procedure, dossier.channel)
        } else {
            served.design.fees.clone()
        };
        let exemption = input
            .exemption
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        let mut assessment = domain::fees::assess(&fees, dossier.channel, exemption)?;
        if let Some(amount) = input.amount_vnd {
            if !(1..=domain::fees::MAX_AMOUNT_VND).contains(&amount) {
                return Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                    "amount_vnd",
                    format!("{amount} is not between 1 and 1,000,000,000 VND"),
                    format!("{amount} không nằm trong khoảng 1 đến 1.000.000.000 đồng"),
                )]));
            }
            if fees.is_empty() {
                assessment.lines = vec![FeeLine {
                    name: "Lệ phí".into(),
                    kind: domain::fees::FeeKind::LePhi,
                    amount_vnd: amount,
                }];
                assessment.total_vnd = amount;
            } else if amount != assessment.total_vnd {
                return Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                    "amount_vnd",
                    format!(
                        "the fees of this procedure come to {} VND; leave the amount out",
                        assessment.total_vnd
                    ),
                    format!(
                        "phí, lệ phí của thủ tục này là {}; không cần nhập số tiền",
                        domain::fees::format_vnd(assessment.total_vnd)
                    ),
                )]));
            }
        }
        if assessment.total_vnd <= 0 {
            return Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                "fees",
                if fees.is_empty() {
                    "the procedure names no fee: enter the amount (amount_vnd)"
                } else {
                    "nothing is owed after the exemption: no fee request is needed"
                },
                if fees.is_empty() {
                    "thủ tục không quy định phí, lệ phí: hãy nhập số tiền"
                } else {
                    "được miễn toàn bộ: không cần yêu cầu nộp phí, lệ phí"
                },
            )]));
        }
        Ok(assessment)
    }

    /// The paid payment a refund gives back: the one named, else the last paid.
    pub(crate) async fn refundable(&self, code: &str, id: Option<i64>) -> Result<Payment> {
        let payments = self.store.dossier_payments(code).await?;
        let found = match id {
            Some(id) => payments.into_iter().find(|p| p.id == id),
            None => payments
                .into_iter()
                .rev()
                .find(|p| p.status == PaymentStatus::Paid),
        };
        match found {
            Some(p) if p.status == PaymentStatus::Paid => Ok(p),
            Some(p) => Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                "payment",
                format!(
                    "payment {} is {}, not paid: nothing to refund",
                    p.id,
                    p.status.code()
                ),
                format!("khoản {} chưa thanh toán hoặc đã hoàn trả", p.id),
            )])),
            None => Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                "payment",
                "the dossier has no paid payment to refund",
                "hồ sơ không có khoản đã thanh toán để hoàn trả",
            )])),
        }
    }

    /// The fee request a dossier awaits now, if it awaits one.
    pub async fn fee_awaited(&self, dossier: &Dossier) -> Result<Option<FeeRequest>> {
        if dossier.state.status != Status::PaymentRequested {
            return Ok(None);
        }
        Ok(fee_request(
            &self.store.dossier_events(&dossier.code).await?,
        ))
    }

    /// The applicant starts paying their dossier's fee request: the provider's payment page
    /// for its order, the same order each time until it is paid, fails or expires.
    pub async fn start_payment(&self, actor: &User, code: &str, client_ip: &str) -> Result<String> {
        let provider = self.provider()?;
        let dossier = self.visible_dossier(actor, code, None).await?;
        if dossier.applicant != actor.username {
            return Err(AppError::Forbidden(
                "only the applicant pays a dossier's fees online".into(),
            ));
        }
        let fee = self.fee_awaited(&dossier).await?.ok_or_else(|| {
            AppError::Conflict(format!(
                "dossier {code} awaits no payment (hồ sơ không có yêu cầu nộp phí, lệ phí)"
            ))
        })?;
        let now = Utc::now();
        let mut payment = self.open_order(&dossier, &fee, now).await?;
        if payment.created_at + provider.expire() <= now {
            // The provider no longer takes this order: a new one replaces it.
            self.store.fail_payment(&payment.txn_ref).await?;
            payment = self.open_order(&dossier, &fee, now).await?;
        }
        let description = format!("Nop phi le phi ho so {}", dossier.code);
        let return_url = format!("{}/payment/{}/return", self.public_url, provider.name());
        Ok(provider.checkout_url(&Checkout {
            txn_ref: &payment.txn_ref,
            amount_vnd: payment.amount_vnd,
            description: &description,
            return_url: &return_url,
            client_ip,
            created_at: payment.created_at,
        }))
    }

    async fn open_order(
        &self,
        dossier: &Dossier,
        fee: &FeeRequest,
        now: DateTime<Utc>,
    ) -> Result<Payment> {
        let mut bytes = [0u8; 6];
        rand::rng().fill_bytes(&mut bytes);
        let txn_ref = format!(
            "{}{}",
            now.format("%y%m%d%H%M%S"),
            domain::text::hex(&bytes).to_uppercase()
        );
        Ok(self
            .store
            .open_payment(&NewPayment {
                txn_ref,
                dossier_code: dossier.code.clone(),
                request_seq: fee.seq,
                agency_code: dossier.agency.to_string(),
                amount_vnd: fee.amount_vnd,
                created_at: now,
            })
            .await?)
    }

    /// VNPay's server-to-server confirmation (IPN), answered with its code; each call is
    /// recorded with the code it got.
    pub async fn vnpay_ipn(&self, params: Params) -> IpnCode {
        let code = self.confirm_payment(&params).await.vnpay();
        self.record_callback("ipn", &params, code.code()).await;
        code
    }

    /// The provider's confirmation of an order, the only thing that confirms a payment. A
    /// success settles the order and moves the dossier on, in one transaction.
    async fn confirm_payment(&self, params: &Params) -> Confirmation {
        match self.judge_confirmation(params).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!(error = %e, "payment confirmation failed");
                Confirmation::Retry
            }
        }
    }

    async fn judge_confirmation(&self, params: &Params) -> Result<Confirmation> {
        let provider = self.provider()?;
        let Some(reported) = provider.read_callback(params) else {
            return Ok(Confirmation::BadSignature);
        };
        let Some(payment) = self.store.payment_by_ref(&reported.txn_ref).await? else {
            return Ok(Confirmation::UnknownOrder);
        };
        if reported.amount_vnd != Some(payment.amount_vnd) {
            return Ok(Confirmation::WrongAmount);
        }
        // A failed order may still be paid: one this portal gave up on when it expired can
        // be confirmed late by the provider, and the money is then taken.
        let open = match payment.status {
            PaymentStatus::Pending => true,
            PaymentStatus::Failed => false,
            PaymentStatus::Paid | PaymentStatus::Refunded => {
                return Ok(Confirmation::AlreadyDone);
            }
        };
        if !reported.succeeded {
            if open {
                self.store.fail_payment(&reported.txn_ref).await?;
                return Ok(Confirmation::FailureRecorded);
            }
            return Ok(Confirmation::AlreadyDone);
        }
        let settle = PaymentChange::Settle {
            txn_ref: reported.txn_ref.clone(),
            provider_ref: reported.provider_ref.clone(),
            bank_code: reported.bank_code.clone(),
            at: Utc::now(),
        };
        let Some(dossier) = self.store.dossier(&payment.dossier_code).await? else {
            return Ok(Confirmation::UnknownOrder);
        };
        let awaited = self.fee_awaited(&dossier).await?;
        if awaited.is_none_or(|f| f.seq != payment.request_seq) {
            // Paid at the counter, withdrawn or stopped meanwhile: the money is recorded as
            // paid (with its receipt, in the reconciliation, refundable), the dossier is left
            // as it is. If another order of the same request is paid already, this one stays
            // as it is, its callback on record, for the officials to refund.
            return Ok(match self.store.settle_payment(&settle).await {
                Ok(()) => Confirmation::Settled,
                Err(store::StoreError::Conflict(_)) => Confirmation::AlreadyDone,
                Err(e) => return Err(e.into()),
            });
        }
        let now = Utc::now();
        let next = Dossier {
            state: dossier
                .state
                .apply(Action::ConfirmPayment)
                .map_err(|e| AppError::Conflict(e.to_string()))?,
            ..dossier.clone()
        };
        let mut payload = serde_json::Map::new();
        payload.insert("amount_vnd".into(), payment.amount_vnd.into());
        payload.insert("payment".into(), payment.id.into());
        payload.insert("provider".into(), provider.name().into());
        let (procedure, _) = self
            .served_for(&dossier.procedure, dossier.procedure_version)
            .await?;
        let notices = self
            .applicant_notices(&procedure, &next, Action::ConfirmPayment, &payload)
            .await?;
        let event = EventRecord {
            dossier_code: dossier.code.clone(),
            sequence: 0,
            at: now,
            actor: provider.name().into(),
            agency: None,
            action: Action::ConfirmPayment,
            from_status: dossier.state.status,
            to_status: next.state.status,
            payload: serde_json::Value::Object(payload).to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        };
        let effects = store::ActionEffects {
            payment: Some(settle),
            notices,
        };
        let recorded = self
            .store
            .record_action(
                &next,
                dossier.version,
                event,
                &[],
                &domain::stats::Tally::of(&dossier),
                effects,
            )
            .await;
        self.public_statuses.invalidate(&dossier.code);
        match recorded {
            Ok(_) => Ok(Confirmation::Settled),
            // Someone acted on the dossier meanwhile, or a concurrent IPN won: the provider
            // calls again, and the next call is judged on what is stored then.
            Err(store::StoreError::Conflict(_)) => Ok(Confirmation::Retry),
            Err(e) => Err(e.into()),
        }
    }

    async fn record_callback(&self, kind: &str, params: &Params, answer: &str) {
        let callback = Callback {
            at: Utc::now(),
            kind: kind.into(),
            txn_ref: params.get("vnp_TxnRef").cloned(),
            // What anyone may send unsigned is kept, but not at any length.
            params: serde_json::to_string(params)
                .unwrap_or_default()
                .chars()
                .take(4000)
                .collect(),
            answer: answer.into(),
        };
        if let Err(e) = self.store.record_callback(&callback).await {
            tracing::warn!(error = %e, kind, "a payment callback was not recorded");
        }
    }

    /// The person comes back from the provider: what their order's status is. Confirms
    /// nothing: only the IPN does.
    pub async fn vnpay_return(&self, params: Params) -> Result<ReturnView> {
        let reported = self.provider()?.read_callback(&params);
        let answer = if reported.is_some() {
            "shown"
        } else {
            "invalid_signature"
        };
        self.record_callback("return", &params, answer).await;
        let reported = reported.ok_or_else(|| {
            AppError::Invalid(vec![domain::InvalidField::bilingual(
                vnpay::HASH_PARAM,
                "the provider's signature does not verify: this page was not sent by the provider",
                "chữ ký của cổng thanh toán không hợp lệ",
            )])
        })?;
        let payment = self
            .store
            .payment_by_ref(&reported.txn_ref)
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "payment",
                id: reported.txn_ref.clone(),
            })?;
        Ok(ReturnView {
            payment,
            provider_succeeded: reported.succeeded,
        })
    }

    /// A paid (or refunded) payment with its dossier, for the electronic receipt.
    pub async fn payment_receipt(&self, actor: &User, id: i64) -> Result<(Payment, Dossier)> {
        let not_found = || AppError::NotFound {
            what: "receipt",
            id: id.to_string(),
        };
        let payment = self.store.payment(id).await?.ok_or_else(not_found)?;
        if payment.receipt_no.is_none() {
            return Err(not_found());
        }
        let dossier = self
            .visible_dossier(actor, &payment.dossier_code, Some(AccessPurpose::View))
            .await
            .map_err(|_| not_found())?;
        Ok((payment, dossier))
    }

    /// A day's payments (orders opened that day in Vietnam) of an agency subtree: for its
    /// officials, leaders and auditors.
    pub async fn reconciliation(
        &self,
        actor: &User,
        agency: Option<&str>,
        day: NaiveDate,
    ) -> Result<Reconciliation> {
        let allowed = actor.role.reads_agency_dossiers() || actor.role == Role::Auditor;
        let Some(own) = actor.agency.clone().filter(|_| allowed) else {
            return Err(AppError::Forbidden(format!(
                "the {} role does not see payments",
                actor.role.code()
            )));
        };
        let root = match agency {
            None | Some("") => own,
            Some(code) => {
                let code =
                    AgencyCode::parse(code).map_err(|e| AppError::invalid("agency", e.reason))?;
                if !self.within_subtree(actor, &code).await? {
                    return Err(AppError::Forbidden(format!(
                        "agency {code} is outside your agency's subtree"
                    )));
                }
                code
            }
        };
        let start = day
            .and_hms_opt(0, 0, 0)
            .and_then(|t| {
                t.and_local_timezone(domain::calendar::vietnam_offset())
                    .single()
            })
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| AppError::invalid("day", format!("{day} is out of range")))?;
        let payments = self
            .store
            .payments_between(&root, start, start + Duration::days(1))
            .await?;
        let totals = PaymentStatus::ALL
            .into_iter()
            .map(|status| {
                let of: Vec<&Payment> = payments.iter().filter(|p| p.status == status).collect();
                (status, of.len(), of.iter().map(|p| p.amount_vnd).sum())
            })
            .collect();
        Ok(Reconciliation {
            agency: root,
            day,
            payments,
            totals,
        })
    }

    /// The sandbox provider's page: the order a signed request describes.
    pub fn sandbox_order(&self, params: &Params) -> Result<SandboxOrder> {
        let secret = self.sandbox()?;
        if !vnpay::verify(secret, params) {
            return Err(AppError::Invalid(vec![domain::InvalidField::bilingual(
                vnpay::HASH_PARAM,
                "the merchant's signature does not verify",
                "chữ ký của đơn vị bán hàng không hợp lệ",
            )]));
        }
        let get = |k: &str| params.get(k).cloned().unwrap_or_default();
        Ok(SandboxOrder {
            txn_ref: get("vnp_TxnRef"),
            amount_vnd: vnpay::amount_vnd(params)
                .ok_or_else(|| AppError::invalid("vnp_Amount", "not an amount in VND × 100"))?,
            order_info: get("vnp_OrderInfo"),
            query: vnpay::signed_query(secret, params),
        })
    }

    /// The sandbox finishes a payment as a provider does: its signed outcome goes to the
    /// merchant's IPN (server to server), then the person is sent to the return URL with the
    /// same outcome. Returns where to send them.
    pub async fn sandbox_finish(&self, params: &Params, confirm: bool) -> Result<String> {
        let order = self.sandbox_order(params)?;
        let secret = self.sandbox()?;
        let mut number = [0u8; 4];
        rand::rng().fill_bytes(&mut number);
        let mut outcome = Params::new();
        let mut put = |k: &str, v: String| {
            outcome.insert(k.into(), v);
        };
        put(
            "vnp_TmnCode",
            params.get("vnp_TmnCode").cloned().unwrap_or_default(),
        );
        put("vnp_Amount", (order.amount_vnd * 100).to_string());
        put("vnp_BankCode", "NCB".into());
        put("vnp_CardType", "ATM".into());
        put("vnp_OrderInfo", order.order_info.clone());
        put("vnp_PayDate", vnpay::vietnam_time(Utc::now()));
        put("vnp_TxnRef", order.txn_ref.clone());
        put(
            "vnp_TransactionNo",
            (u32::from_be_bytes(number) % 90_000_000 + 10_000_000).to_string(),
        );
        let (response, status) = if confirm { ("00", "00") } else { ("24", "02") };
        put("vnp_ResponseCode", response.into());
        put("vnp_TransactionStatus", status.into());
        let query = vnpay::signed_query(secret, &outcome);
        let ipn = format!("{}/payment/vnpay/ipn?{query}", self.public_url);
        match self.http.get(&ipn).send().await {
            Ok(answer) => tracing::info!(status = %answer.status(), "sandbox IPN delivered"),
            Err(e) => tracing::warn!(error = %e, "the sandbox could not reach the IPN"),
        }
        let return_url = params
            .get("vnp_ReturnUrl")
            .cloned()
            .unwrap_or_else(|| format!("{}/payment/vnpay/return", self.public_url));
        Ok(format!("{return_url}?{query}"))
    }

    /// The sandbox's signing secret, when the sandbox is on.
    fn sandbox(&self) -> Result<&str> {
        self.sandbox.as_deref().ok_or_else(|| AppError::NotFound {
            what: "page",
            id: SANDBOX_PATH.into(),
        })
    }
}
