//! Paying fees online: the pay button, the provider's IPN and return, the built-in sandbox
//! provider, electronic receipts, the daily reconciliation, and the dead-letter list of
//! notifications.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use documents::{Cell, DataTable, PrintedDocument};
use serde::Deserialize;

use crate::AppState;
use crate::desk::{payment_status, printed_response};
use crate::i18n::Lang;
use crate::limits::ClientAddress;
use crate::pages::{PageError, local_time, render};
use crate::session::SignedIn;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dossiers/{code}/pay", post(pay))
        .route("/payment/vnpay/ipn", get(ipn))
        .route("/payment/vnpay/return", get(provider_return))
        .route(app::SANDBOX_PATH, get(sandbox_page))
        .route("/sandbox/vnpay/finish", post(sandbox_finish))
        .route("/payments/{id}/receipt", get(receipt))
        .route("/desk/payments", get(reconciliation))
        .route("/admin/notifications", get(dead_letters))
        .route("/admin/notifications/{id}/requeue", post(requeue))
}

/// The applicant presses "pay": off to the provider's page for the dossier's order.
async fn pay(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    ClientAddress(client): ClientAddress,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let url = state
        .app
        .start_payment(&signed.user, &code, &client.to_string())
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(Redirect::to(&url).into_response())
}

/// The provider's server-to-server confirmation: always 200, with its `RspCode`.
async fn ipn(
    State(state): State<AppState>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let code = state.app.vnpay_ipn(params).await;
    Json(code.answer()).into_response()
}

#[derive(Template)]
#[template(path = "payment_return.html")]
struct ReturnPage {
    lang: Lang,
    path: String,
    code: String,
    amount: String,
    status: String,
    paid: bool,
    /// The provider says it went through but has not confirmed it to us yet.
    waiting: bool,
    failed: bool,
    receipt: Option<i64>,
}

/// The person back from the provider: what we know of their order. Confirms nothing.
async fn provider_return(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let view = state
        .app
        .vnpay_return(params)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let p = &view.payment;
    Ok(render(&ReturnPage {
        lang,
        path: "/payment/vnpay/return".into(),
        code: p.dossier_code.clone(),
        amount: domain::fees::format_vnd(p.amount_vnd),
        status: payment_status(lang, p.status).into(),
        paid: matches!(
            p.status,
            app::PaymentStatus::Paid | app::PaymentStatus::Refunded
        ),
        waiting: p.status == app::PaymentStatus::Pending && view.provider_succeeded,
        failed: p.status == app::PaymentStatus::Failed || !view.provider_succeeded,
        receipt: p.receipt_no.as_ref().map(|_| p.id),
    }))
}

#[derive(Template)]
#[template(path = "sandbox.html")]
struct SandboxPage {
    lang: Lang,
    path: String,
    txn_ref: String,
    amount: String,
    order_info: String,
    query: String,
}

/// The sandbox provider's payment page.
async fn sandbox_page(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let order = state
        .app
        .sandbox_order(&params)
        .map_err(|e| PageError::new(lang, e))?;
    Ok(render(&SandboxPage {
        lang,
        path: app::SANDBOX_PATH.into(),
        txn_ref: order.txn_ref,
        amount: domain::fees::format_vnd(order.amount_vnd),
        order_info: order.order_info,
        query: order.query,
    }))
}

#[derive(Deserialize)]
struct Finish {
    query: String,
    outcome: String,
}

/// The person confirms or cancels in the sandbox: the IPN is sent, then they go back.
async fn sandbox_finish(
    State(state): State<AppState>,
    lang: Lang,
    Form(form): Form<Finish>,
) -> Result<Response, PageError> {
    let params: BTreeMap<String, String> = form_urlencoded::parse(form.query.as_bytes())
        .into_owned()
        .collect();
    let back = state
        .app
        .sandbox_finish(&params, form.outcome == "confirm")
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
struct ReceiptParams {
    format: Option<String>,
}

/// Biên lai điện tử: the electronic receipt of a payment.
async fn receipt(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<ReceiptParams>,
) -> Result<Response, PageError> {
    let (payment, dossier) = state
        .app
        .payment_receipt(&signed.user, id)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let context = state
        .app
        .dossier_context(&signed.user, &dossier.code, app::AccessPurpose::View)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let doc = receipt_document(&payment, &context);
    let pdf = q.format.as_deref() == Some("pdf");
    let number = payment.receipt_no.clone().unwrap_or_default();
    printed_response(
        lang,
        doc,
        pdf.then(|| format!("{number}.pdf")),
        format!("/payments/{id}/receipt?format=pdf"),
        format!("/dossiers/{}", urlencoding::encode(&dossier.code)),
    )
}

fn receipt_document(p: &app::Payment, ctx: &app::DossierContext) -> PrintedDocument {
    let agency = ctx
        .agency
        .as_ref()
        .map(|a| a.name.to_uppercase())
        .unwrap_or_default();
    let payer = ctx
        .applicant
        .as_ref()
        .map(|u| u.full_name.clone())
        .unwrap_or_else(|| ctx.dossier.applicant.clone());
    let mut fields = vec![
        ("Người nộp tiền".to_owned(), payer),
        ("Mã hồ sơ".to_owned(), ctx.dossier.code.clone()),
        (
            "Thủ tục".to_owned(),
            format!("{} ({})", ctx.procedure.name, ctx.dossier.procedure),
        ),
        ("Số tiền".to_owned(), domain::fees::format_vnd(p.amount_vnd)),
        (
            "Hình thức thanh toán".to_owned(),
            "Trực tuyến qua VNPay".to_owned(),
        ),
        ("Mã giao dịch".to_owned(), p.txn_ref.clone()),
    ];
    if let Some(reference) = &p.provider_ref {
        fields.push(("Mã giao dịch tại cổng thanh toán".into(), reference.clone()));
    }
    if let Some(at) = p.settled_at {
        fields.push(("Thời gian thanh toán".into(), local_time(at)));
    }
    if p.status == app::PaymentStatus::Refunded {
        fields.push((
            "Đã hoàn trả".into(),
            format!(
                "{} — {}",
                p.refunded_at.map(local_time).unwrap_or_default(),
                p.refund_reason.clone().unwrap_or_default()
            ),
        ));
    }
    let lines = ctx
        .events
        .iter()
        .find(|e| e.sequence as i64 == p.request_seq)
        .map(|e| app::fee_request(std::slice::from_ref(e)))
        .and_then(|f| f.map(|f| f.lines))
        .unwrap_or_default();
    PrintedDocument {
        issuer: vec![agency],
        motto: vec![
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            "Độc lập - Tự do - Hạnh phúc".into(),
        ],
        title: "BIÊN LAI THU PHÍ, LỆ PHÍ ĐIỆN TỬ".into(),
        subtitle: format!("Số: {}", p.receipt_no.clone().unwrap_or_default()),
        fields,
        paragraphs: Vec::new(),
        table: (!lines.is_empty()).then(|| documents::Table {
            headers: vec!["Khoản thu".into(), "Loại".into(), "Số tiền".into()],
            widths: vec![5.0, 2.0, 2.0],
            rows: lines
                .iter()
                .map(|l| {
                    vec![
                        l.name.clone(),
                        l.kind.name_vi().to_owned(),
                        domain::fees::format_vnd(l.amount_vnd),
                    ]
                })
                .collect(),
        }),
        qr: None,
        signature: vec!["ĐƠN VỊ THU".into(), "(Biên lai điện tử)".into()],
    }
}

#[derive(Deserialize)]
struct DayParams {
    day: Option<String>,
    agency: Option<String>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "payments.html")]
struct ReconciliationPage {
    lang: Lang,
    path: String,
    day: String,
    agency: String,
    table: DataTable,
    totals: Vec<(String, usize, String)>,
    csv_href: String,
}

/// The day's payments of the official's agency subtree, as a page or a CSV.
async fn reconciliation(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<DayParams>,
) -> Result<Response, PageError> {
    let day = match q.day.as_deref().filter(|d| !d.is_empty()) {
        None => app::today(),
        Some(raw) => chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            // chrono reads years of any sign and width; payments have none outside these.
            .filter(|d| (2000..=9999).contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| {
                PageError::new(
                    lang,
                    app::AppError::Invalid(vec![domain::InvalidField::bilingual(
                        "day",
                        format!("'{raw}' is not a date (YYYY-MM-DD)"),
                        format!("'{raw}' không phải ngày (YYYY-MM-DD)"),
                    )]),
                )
            })?,
    };
    let report = state
        .app
        .reconciliation(&signed.user, q.agency.as_deref(), day)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let table = DataTable {
        title: format!("payments-{}-{day}", report.agency),
        headers: [
            "txn_ref",
            "dossier",
            "agency",
            "amount_vnd",
            "status",
            "created_at",
            "settled_at",
            "provider_ref",
            "receipt_no",
            "refunded_at",
            "refund_reason",
        ]
        .map(String::from)
        .to_vec(),
        rows: report
            .payments
            .iter()
            .map(|p| {
                let text = |s: Option<String>| s.map_or(Cell::Empty, Cell::Text);
                vec![
                    Cell::Text(p.txn_ref.clone()),
                    Cell::Text(p.dossier_code.clone()),
                    Cell::Text(p.agency_code.clone()),
                    Cell::Count(p.amount_vnd),
                    Cell::Text(p.status.code().into()),
                    Cell::Text(p.created_at.to_rfc3339()),
                    text(p.settled_at.map(|t| t.to_rfc3339())),
                    text(p.provider_ref.clone()),
                    text(p.receipt_no.clone()),
                    text(p.refunded_at.map(|t| t.to_rfc3339())),
                    text(p.refund_reason.clone()),
                ]
            })
            .collect(),
    };
    if q.format.as_deref() == Some("csv") {
        let bytes = documents::to_csv(&table, false)
            .map_err(|e| PageError::new(lang, app::AppError::Internal(e.to_string())))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.csv\"", table.title),
                ),
            ],
            bytes,
        )
            .into_response());
    }
    Ok(render(&ReconciliationPage {
        lang,
        path: "/desk/payments".into(),
        csv_href: format!(
            "/desk/payments?day={day}&agency={}&format=csv",
            report.agency
        ),
        day: day.to_string(),
        agency: report.agency.to_string(),
        totals: report
            .totals
            .iter()
            .map(|(status, count, sum)| {
                (
                    payment_status(lang, *status).to_owned(),
                    *count,
                    domain::fees::format_vnd(*sum),
                )
            })
            .collect(),
        table,
    }))
}

#[derive(Template)]
#[template(path = "dead_letters.html")]
struct DeadLettersPage {
    lang: Lang,
    path: String,
    /// id, created, recipient, channel, subject, attempts, last error.
    rows: Vec<(i64, String, String, String, String, i32, String)>,
    notice: String,
}

#[derive(Deserialize)]
struct NoticeParams {
    requeued: Option<i64>,
}

/// Notifications that every attempt failed to deliver.
async fn dead_letters(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Query(q): Query<NoticeParams>,
) -> Result<Response, PageError> {
    let dead = state
        .app
        .dead_letters(&signed.user)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let rows = dead
        .iter()
        .map(|n| {
            (
                n.id,
                local_time(n.created_at),
                n.recipient.clone(),
                n.channel.clone(),
                domain::notify::render(n.template, lang.for_messages(), &n.facts).subject,
                n.attempts,
                n.last_error.clone().unwrap_or_default(),
            )
        })
        .collect();
    Ok(render(&DeadLettersPage {
        lang,
        path: "/admin/notifications".into(),
        rows,
        notice: q
            .requeued
            .map(|id| format!("{} {id}", lang.t("payments-queued-again-notification")))
            .unwrap_or_default(),
    }))
}

async fn requeue(
    State(state): State<AppState>,
    lang: Lang,
    signed: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state
        .app
        .requeue(&signed.user, id)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    Ok(Redirect::to(&format!("/admin/notifications?requeued={id}")).into_response())
}
