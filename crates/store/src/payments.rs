//! Fees paid online: orders at the payment provider, the provider's callbacks, receipts.
//! A payment is settled or refunded only together with its dossier's event
//! ([`PaymentChange`], carried by the action's write), so money and dossier never disagree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::AgencyCode;

use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Sent to the provider; no confirmation yet.
    Pending,
    Paid,
    /// Cancelled or refused at the provider, or expired.
    Failed,
    /// Paid, then given back.
    Refunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 4] = [
        PaymentStatus::Pending,
        PaymentStatus::Paid,
        PaymentStatus::Failed,
        PaymentStatus::Refunded,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: i64,
    /// The order's reference at the provider (vnp_TxnRef).
    pub txn_ref: String,
    pub dossier_code: String,
    /// The sequence of the request_payment event this order pays.
    pub request_seq: i64,
    /// The agency the dossier was with when the fee was asked for: whose receipt it is.
    pub agency_code: String,
    pub amount_vnd: i64,
    pub status: PaymentStatus,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    /// The provider's transaction number.
    pub provider_ref: Option<String>,
    pub bank_code: Option<String>,
    pub receipt_no: Option<String>,
    pub refunded_at: Option<DateTime<Utc>>,
    pub refund_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub txn_ref: String,
    pub dossier_code: String,
    pub request_seq: i64,
    pub agency_code: String,
    pub amount_vnd: i64,
    pub created_at: DateTime<Utc>,
}

/// What an action does to a payment, in the action's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentChange {
    /// The provider confirmed the pending order `txn_ref`: it is paid and gets the next
    /// receipt number of its agency and year.
    Settle {
        txn_ref: String,
        provider_ref: Option<String>,
        bank_code: Option<String>,
        at: DateTime<Utc>,
    },
    /// A paid order is given back.
    Refund {
        id: i64,
        reason: String,
        at: DateTime<Utc>,
    },
}

/// A call from the provider or a person's return, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub at: DateTime<Utc>,
    /// `ipn` or `return`.
    pub kind: String,
    pub txn_ref: Option<String>,
    pub params: String,
    pub answer: String,
}

#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// Opens a pending order, or returns the pending one the fee request already has (so a
    /// second press of "pay" sends the person to the same order).
    async fn open_payment(&self, new: &NewPayment) -> Result<Payment>;
    async fn payment(&self, id: i64) -> Result<Option<Payment>>;
    async fn payment_by_ref(&self, txn_ref: &str) -> Result<Option<Payment>>;
    /// A dossier's orders, oldest first.
    async fn dossier_payments(&self, code: &str) -> Result<Vec<Payment>>;
    /// Settles an order on its own, for money the provider took while the dossier no longer
    /// awaited it; a conflict if the order (or another of its fee request) is paid already.
    async fn settle_payment(&self, change: &PaymentChange) -> Result<()>;
    /// Marks a pending order failed; false if it was not pending.
    async fn fail_payment(&self, txn_ref: &str) -> Result<bool>;
    async fn record_callback(&self, callback: &Callback) -> Result<()>;
    /// Orders opened from `from` to before `to` by the agencies of a subtree, oldest first.
    async fn payments_between(
        &self,
        root: &AgencyCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Payment>>;
}

pub(crate) const PAYMENT_COLUMNS: &str = "id, txn_ref, dossier_code, request_seq, agency_code, \
     amount_vnd, status, created_at, settled_at, provider_ref, bank_code, receipt_no, \
     refunded_at, refund_reason";

type PaymentRow = (
    i64,
    String,
    String,
    i64,
    String,
    i64,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
);

pub(crate) fn decode_payment(r: PaymentRow) -> Result<Payment> {
    Ok(Payment {
        status: PaymentStatus::from_code(&r.6).ok_or_else(|| {
            crate::StoreError::Corrupt(format!("payment {}: status {}", r.0, r.6))
        })?,
        id: r.0,
        txn_ref: r.1,
        dossier_code: r.2,
        request_seq: r.3,
        agency_code: r.4,
        amount_vnd: r.5,
        created_at: r.7,
        settled_at: r.8,
        provider_ref: r.9,
        bank_code: r.10,
        receipt_no: r.11,
        refunded_at: r.12,
        refund_reason: r.13,
    })
}

/// The receipt number of an agency's `seq`-th payment of `year`.
pub(crate) fn receipt_number(agency: &str, year: i32, seq: i64) -> String {
    format!("BL-{agency}-{year}-{seq:06}")
}

/// Applies a [`PaymentChange`] on the action's open transaction `$conn`; a change that finds
/// its order no longer in the expected state fails the whole action.
macro_rules! change_payment {
    ($conn:expr, $change:expr) => {{
        match $change {
            $crate::PaymentChange::Settle {
                txn_ref,
                provider_ref,
                bank_code,
                at,
            } => {
                let agency: Option<(String,)> =
                    sqlx::query_as("SELECT agency_code FROM payments WHERE txn_ref = $1")
                        .bind(txn_ref)
                        .fetch_optional(&mut *$conn)
                        .await?;
                let Some((agency,)) = agency else {
                    return Err($crate::StoreError::Conflict(format!("no order {txn_ref}")));
                };
                let year = chrono::Datelike::year(
                    &at.with_timezone(&domain::calendar::vietnam_offset()),
                );
                let (seq,): (i64,) = sqlx::query_as(
                    "INSERT INTO receipt_sequences (agency_code, year, last_value) VALUES ($1, $2, 1)
                     ON CONFLICT (agency_code, year)
                       DO UPDATE SET last_value = receipt_sequences.last_value + 1
                     RETURNING last_value",
                )
                .bind(&agency)
                .bind(year)
                .fetch_one(&mut *$conn)
                .await?;
                // Failed too: an order given up on at its expiry that the provider confirms late.
                let settled = sqlx::query(
                    "UPDATE payments SET status = 'paid', settled_at = $2, provider_ref = $3,
                       bank_code = $4, receipt_no = $5
                     WHERE txn_ref = $1 AND status IN ('pending', 'failed')",
                )
                .bind(txn_ref)
                .bind(at)
                .bind(provider_ref)
                .bind(bank_code)
                .bind($crate::payments::receipt_number(&agency, year, seq))
                .execute(&mut *$conn)
                .await?;
                if settled.rows_affected() != 1 {
                    return Err($crate::StoreError::Conflict(format!(
                        "order {txn_ref} is paid already"
                    )));
                }
            }
            $crate::PaymentChange::Refund { id, reason, at } => {
                let refunded = sqlx::query(
                    "UPDATE payments SET status = 'refunded', refunded_at = $2, refund_reason = $3
                     WHERE id = $1 AND status = 'paid'",
                )
                .bind(id)
                .bind(at)
                .bind(reason)
                .execute(&mut *$conn)
                .await?;
                if refunded.rows_affected() != 1 {
                    return Err($crate::StoreError::Conflict(format!(
                        "payment {id} is not a paid one"
                    )));
                }
            }
        }
    }};
}
pub(crate) use change_payment;

macro_rules! impl_payments {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::PaymentStore for $store {
            async fn open_payment(
                &self,
                new: &$crate::NewPayment,
            ) -> $crate::Result<$crate::Payment> {
                let inserted = sqlx::query(
                    "INSERT INTO payments (txn_ref, dossier_code, request_seq, agency_code,
                       amount_vnd, status, created_at)
                     VALUES ($1, $2, $3, $4, $5, 'pending', $6)
                     ON CONFLICT (dossier_code, request_seq) WHERE status = 'pending' DO NOTHING",
                )
                .bind(&new.txn_ref)
                .bind(&new.dossier_code)
                .bind(new.request_seq)
                .bind(&new.agency_code)
                .bind(new.amount_vnd)
                .bind(new.created_at)
                .execute(&self.writer)
                .await
                .map_err(|e| $crate::sql::conflict(e, "payment"))?;
                let _ = inserted;
                let row = sqlx::query_as(&format!(
                    "SELECT {} FROM payments
                     WHERE dossier_code = $1 AND request_seq = $2 AND status = 'pending'",
                    $crate::payments::PAYMENT_COLUMNS
                ))
                .bind(&new.dossier_code)
                .bind(new.request_seq)
                .fetch_optional(&self.writer)
                .await?;
                match row {
                    Some(row) => $crate::payments::decode_payment(row),
                    // Settled between the insert and the read: the fee is paid already.
                    None => Err($crate::StoreError::Conflict(format!(
                        "the fee request of dossier {} is paid already",
                        new.dossier_code
                    ))),
                }
            }

            async fn payment(&self, id: i64) -> $crate::Result<Option<$crate::Payment>> {
                let row = sqlx::query_as(&format!(
                    "SELECT {} FROM payments WHERE id = $1",
                    $crate::payments::PAYMENT_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::payments::decode_payment).transpose()
            }

            async fn payment_by_ref(
                &self,
                txn_ref: &str,
            ) -> $crate::Result<Option<$crate::Payment>> {
                let row = sqlx::query_as(&format!(
                    "SELECT {} FROM payments WHERE txn_ref = $1",
                    $crate::payments::PAYMENT_COLUMNS
                ))
                .bind(txn_ref)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::payments::decode_payment).transpose()
            }

            async fn dossier_payments(&self, code: &str) -> $crate::Result<Vec<$crate::Payment>> {
                let rows = sqlx::query_as(&format!(
                    "SELECT {} FROM payments WHERE dossier_code = $1 ORDER BY id",
                    $crate::payments::PAYMENT_COLUMNS
                ))
                .bind(code)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::payments::decode_payment)
                    .collect()
            }

            async fn settle_payment(&self, change: &$crate::PaymentChange) -> $crate::Result<()> {
                let mut tx = self.writer.begin().await?;
                let outcome: $crate::Result<()> = async {
                    $crate::payments::change_payment!(tx, change);
                    Ok(())
                }
                .await;
                // A unique index refuses a second paid order of one fee request.
                outcome.map_err(|e| match e {
                    $crate::StoreError::Database(db) => $crate::sql::conflict(db, "payment"),
                    other => other,
                })?;
                tx.commit().await?;
                Ok(())
            }

            async fn fail_payment(&self, txn_ref: &str) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE payments SET status = 'failed' WHERE txn_ref = $1 AND status = 'pending'",
                )
                .bind(txn_ref)
                .execute(&self.writer)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn record_callback(&self, c: &$crate::Callback) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO payment_callbacks (at, kind, txn_ref, params, answer)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(c.at)
                .bind(&c.kind)
                .bind(&c.txn_ref)
                .bind(&c.params)
                .bind(&c.answer)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            async fn payments_between(
                &self,
                root: &domain::AgencyCode,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Vec<$crate::Payment>> {
                let rows = sqlx::query_as(&format!(
                    "{subtree}
                     SELECT {} FROM payments
                     WHERE agency_code IN (SELECT code FROM subtree)
                       AND created_at >= $2 AND created_at < $3
                     ORDER BY created_at, id",
                    $crate::payments::PAYMENT_COLUMNS,
                    subtree = $crate::sql::SUBTREE,
                ))
                .bind(root.as_str())
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map($crate::payments::decode_payment)
                    .collect()
            }
        }
    };
}
pub(crate) use impl_payments;
