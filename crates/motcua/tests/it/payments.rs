//! Fees paid online through the VNPay 2.1.0 protocol against the built-in sandbox provider:
//! the citizen's journey, the IPN's answers to bad and repeated callbacks, cancelled payments,
//! exemptions, receipts, the reconciliation and refunds; each on both backends.

use serde_json::{Value, json};

use crate::dossiers::{act, generic_form, get, post, read_column, token, try_act};
use crate::journeys::{browser, form_post, page, sign_in};
use crate::support::{Db, TestApp, on_both_backends, spawn_configured};

const WARD: &str = "001.00.00.H31";
/// Cấp bản sao trích lục hộ tịch: 8,000 VND, with exempt groups (demo/services.json).
const COPY: &str = "2.000635";

type Params = std::collections::BTreeMap<String, String>;

/// The demo portal (sandbox provider on) that knows its own address.
async fn portal(db: Db) -> TestApp {
    spawn_configured(db, true, async |config, base| {
        config.server.public_url = Some(base);
        config.jobs.enabled = false;
    })
    .await
    .0
}

/// A copy-of-extract dossier, received, whose fee the handler has asked for; its code.
async fn awaiting_fees(t: &TestApp, exemption: Option<&str>) -> (String, Value) {
    let citizen = token(t, "demo-citizen").await;
    let (status, submitted) = post(
        t,
        "/api/v1/dossiers",
        &citizen,
        json!({"procedure": COPY, "agency": WARD, "channel": "online", "form": generic_form()}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{submitted}");
    let code = submitted["dossier"]["code"].as_str().unwrap().to_owned();
    let reception = token(t, "demo-reception").await;
    act(t, &reception, &code, "receive", json!({"version": 1})).await;
    let handler = token(t, "demo-handler").await;
    let (status, asked) = try_act(
        t,
        &handler,
        &code,
        "request_payment",
        json!({"version": 2, "exemption": exemption}),
    )
    .await;
    (code, json!({"status": status, "body": asked}))
}

async fn signed_in(t: &TestApp, user: &str) -> reqwest::Client {
    let b = browser();
    assert_eq!(sign_in(t, &b, user, app::DEMO_PASSWORD).await, 303);
    b
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_owned()
}

fn query_of(url: &str) -> Params {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The citizen presses "pay" on the dossier page: where the portal sends them.
async fn press_pay(t: &TestApp, b: &reqwest::Client, code: &str) -> (u16, String) {
    let response = form_post(t, b, &format!("/dossiers/{code}/pay"))
        .await
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let to = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, to)
}

/// The sandbox's signing secret (kept in the database, as every node reads it).
async fn secret(t: &TestApp) -> String {
    read_column(
        &t.database_url,
        "SELECT value FROM meta WHERE key = 'vnpay_sandbox_secret'",
    )
    .await
    .remove(0)
}

/// What the provider sends back for an order: its outcome, signed with `secret`.
fn outcome(secret: &str, txn_ref: &str, amount_x100: &str, response: &str) -> Params {
    let mut p = Params::new();
    for (k, v) in [
        ("vnp_TmnCode", "MOTCUASB"),
        ("vnp_Amount", amount_x100),
        ("vnp_BankCode", "NCB"),
        ("vnp_OrderInfo", "test"),
        ("vnp_PayDate", "20261203150000"),
        ("vnp_ResponseCode", response),
        (
            "vnp_TransactionStatus",
            if response == "00" { "00" } else { "02" },
        ),
        ("vnp_TransactionNo", "14123456"),
        ("vnp_TxnRef", txn_ref),
    ] {
        p.insert(k.into(), v.into());
    }
    p.insert(app::vnpay::HASH_PARAM.into(), app::vnpay::sign(secret, &p));
    p
}

fn encoded(params: &Params) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// The provider's IPN call: the RspCode it gets.
async fn ipn(t: &TestApp, params: &Params) -> String {
    let (status, body) = t
        .json(&format!("/payment/vnpay/ipn?{}", encoded(params)))
        .await;
    assert_eq!(status, 200, "the IPN is always answered with 200");
    body["RspCode"].as_str().unwrap().to_owned()
}

async fn dossier(t: &TestApp, code: &str) -> Value {
    let citizen = token(t, "demo-citizen").await;
    let (status, d) = get(t, &format!("/api/v1/dossiers/{code}"), &citizen).await;
    assert_eq!(status, 200);
    d
}

/// HTML-escaped attribute text back to what it says.
fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#x3d;", "=")
        .replace("&#61;", "=")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
}

/// On the sandbox's page: the signed request it hands back when the person decides.
fn sandbox_query(html: &str) -> String {
    let raw = html
        .split("name=\"query\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sandbox page carries the order");
    unescape(raw)
}

on_both_backends!(a_citizen_pays_in_the_sandbox_and_the_dossier_moves_on);
async fn a_citizen_pays_in_the_sandbox_and_the_dossier_moves_on(db: Db) {
    let t = portal(db).await;
    let (code, asked) = awaiting_fees(&t, None).await;
    assert_eq!(asked["status"], 200, "{asked}");
    assert_eq!(asked["body"]["national_status"], 6);

    let citizen = signed_in(&t, "demo-citizen").await;
    let (_, html) = page(&t, &citizen, &format!("/dossiers/{code}")).await;
    assert!(html.contains("8.000 đ"), "the fee is shown");
    assert!(html.contains("Thanh toán trực tuyến"));

    // "Pay" leads to the provider; pressing it again gives the same order.
    let (status, to_provider) = press_pay(&t, &citizen, &code).await;
    assert_eq!(status, 303);
    assert!(
        to_provider.starts_with(&t.url(app::SANDBOX_PATH)),
        "{to_provider}"
    );
    let request = query_of(&to_provider);
    assert_eq!(request["vnp_Amount"], "800000", "VND × 100");
    assert_eq!(request["vnp_Version"], "2.1.0");
    assert!(app::vnpay::verify(&secret(&t).await, &request));
    let (_, again) = press_pay(&t, &citizen, &code).await;
    assert_eq!(query_of(&again)["vnp_TxnRef"], request["vnp_TxnRef"]);
    let orders = read_column(
        &t.database_url,
        &format!("SELECT txn_ref FROM payments WHERE dossier_code = '{code}'"),
    )
    .await;
    assert_eq!(orders, vec![request["vnp_TxnRef"].clone()], "one order");

    // The sandbox shows the order; the citizen confirms.
    let sandbox_path = to_provider.strip_prefix(&t.base).unwrap();
    let (status, sandbox) = page(&t, &citizen, sandbox_path).await;
    assert_eq!(status, 200);
    assert!(sandbox.contains("8.000 đ"));
    let finished = form_post(&t, &citizen, "/sandbox/vnpay/finish")
        .await
        .form(&[
            ("query", sandbox_query(&sandbox).as_str()),
            ("outcome", "confirm"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status().as_u16(), 303);
    let back = location(&finished);
    assert!(back.starts_with(&t.url("/payment/vnpay/return?")), "{back}");

    // The IPN has moved the dossier on by itself.
    let moved = dossier(&t, &code).await;
    assert_eq!(moved["status"], "in_progress");
    assert_eq!(moved["national_status"], 4);
    let last = moved["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "confirm_payment");
    assert_eq!(last["actor"], app::PROVIDER_ACTOR);
    let (_, returned) = page(&t, &citizen, back.strip_prefix(&t.base).unwrap()).await;
    assert!(returned.contains("Đã thanh toán"), "{returned}");

    // The electronic receipt, as a page and a PDF; nobody else's.
    let id = read_column(
        &t.database_url,
        &format!("SELECT CAST(id AS TEXT) FROM payments WHERE dossier_code = '{code}'"),
    )
    .await
    .remove(0);
    let year = chrono::Utc::now()
        .with_timezone(&domain::calendar::vietnam_offset())
        .format("%Y")
        .to_string();
    let (status, receipt) = page(&t, &citizen, &format!("/payments/{id}/receipt")).await;
    assert_eq!(status, 200);
    assert!(
        receipt.contains(&format!("BL-{WARD}-{year}-000001")),
        "{receipt}"
    );
    assert!(receipt.contains("BIÊN LAI THU PHÍ, LỆ PHÍ ĐIỆN TỬ"));
    let pdf = citizen
        .get(t.url(&format!("/payments/{id}/receipt?format=pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    let other = signed_in(&t, "demo-citizen-2").await;
    assert_eq!(
        page(&t, &other, &format!("/payments/{id}/receipt")).await.0,
        404
    );

    // The provider calls again: already confirmed, nothing changes.
    let version = moved["version"].clone();
    let repeat = outcome(&secret(&t).await, &request["vnp_TxnRef"], "800000", "00");
    assert_eq!(ipn(&t, &repeat).await, "02");
    assert_eq!(dossier(&t, &code).await["version"], version);

    // The day's reconciliation, then a refund recorded against the dossier.
    let handler_browser = signed_in(&t, "demo-handler").await;
    let csv = |b: reqwest::Client| {
        let url = t.url("/desk/payments?format=csv");
        async move {
            let r = b.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, day) = csv(handler_browser.clone()).await;
    assert_eq!(status, 200);
    for bad in ["2026-13-01", "-262143-01-01", "tomorrow"] {
        let (status, html) = page(&t, &handler_browser, &format!("/desk/payments?day={bad}")).await;
        assert_eq!(status, 400, "{bad}: {html}");
    }
    assert!(day.contains(&format!("{code},{WARD},8000,paid,")), "{day}");
    let handler = token(&t, "demo-handler").await;
    let v = version.as_i64().unwrap();
    let (status, problem) = try_act(&t, &handler, &code, "refund", json!({"version": v})).await;
    assert_eq!(status, 400, "a refund needs a reason: {problem}");
    let refunded = act(
        &t,
        &handler,
        &code,
        "refund",
        json!({"version": v, "reason": "Nộp nhầm, hoàn trả theo đề nghị của công dân"}),
    )
    .await;
    assert_eq!(
        refunded["status"], "in_progress",
        "a refund changes no status"
    );
    let (_, day) = csv(handler_browser).await;
    assert!(day.contains(",8000,refunded,"), "{day}");
    let (status, problem) = try_act(
        &t,
        &handler,
        &code,
        "refund",
        json!({"version": v + 1, "reason": "lần hai nữa"}),
    )
    .await;
    assert_eq!(status, 400, "nothing left to refund: {problem}");
    assert!(problem.to_string().contains("payment"));
    let (status, _) = csv(citizen).await;
    assert_eq!(status, 403, "citizens see no reconciliation");
}

on_both_backends!(bad_payment_callbacks_get_their_codes_and_change_nothing);
async fn bad_payment_callbacks_get_their_codes_and_change_nothing(db: Db) {
    let t = portal(db).await;
    let (code, _) = awaiting_fees(&t, None).await;
    let citizen = signed_in(&t, "demo-citizen").await;
    let (_, to_provider) = press_pay(&t, &citizen, &code).await;
    let txn = query_of(&to_provider)["vnp_TxnRef"].clone();
    let secret = secret(&t).await;
    let version = dossier(&t, &code).await["version"].clone();
    let unchanged = async || assert_eq!(dossier(&t, &code).await["version"], version);

    // The person comes back before the provider's IPN: nothing is confirmed yet.
    let success = outcome(&secret, &txn, "800000", "00");
    let (status, waiting) = t
        .text(&format!("/payment/vnpay/return?{}", encoded(&success)))
        .await;
    assert_eq!(status, 200);
    assert!(waiting.contains("chưa xác nhận"), "{waiting}");
    unchanged().await;

    // Forged: a field changed after signing, or signed with another secret.
    let mut tampered = success.clone();
    tampered.insert("vnp_Amount".into(), "100".into());
    assert_eq!(ipn(&t, &tampered).await, "97");
    let foreign = outcome("ANOTHERSECRET", &txn, "800000", "00");
    assert_eq!(ipn(&t, &foreign).await, "97");
    let (status, _) = t
        .text(&format!("/payment/vnpay/return?{}", encoded(&foreign)))
        .await;
    assert_eq!(status, 400, "a forged return is refused");
    // An order nobody opened; the wrong amount.
    assert_eq!(
        ipn(&t, &outcome(&secret, "NOSUCHORDER", "800000", "00")).await,
        "01"
    );
    assert_eq!(ipn(&t, &outcome(&secret, &txn, "900000", "00")).await, "04");
    unchanged().await;

    // The real confirmation, then the same again, then a late failure for it.
    assert_eq!(ipn(&t, &success).await, "00");
    let paid = dossier(&t, &code).await;
    assert_eq!(paid["national_status"], 4);
    assert_eq!(ipn(&t, &success).await, "02");
    assert_eq!(ipn(&t, &outcome(&secret, &txn, "800000", "24")).await, "02");
    assert_eq!(dossier(&t, &code).await["version"], paid["version"]);

    // Every call was recorded with the answer it got.
    let answers = read_column(
        &t.database_url,
        &format!("SELECT kind || ':' || answer FROM payment_callbacks WHERE txn_ref = '{txn}' ORDER BY id"),
    )
    .await;
    assert_eq!(
        answers,
        [
            "return:shown",
            "ipn:97",
            "ipn:97",
            "return:invalid_signature",
            "ipn:04",
            "ipn:00",
            "ipn:02",
            "ipn:02"
        ]
    );
    assert_eq!(
        read_column(
            &t.database_url,
            "SELECT answer FROM payment_callbacks WHERE txn_ref = 'NOSUCHORDER'"
        )
        .await,
        ["01"]
    );

    // Paid at the counter while the online order was open: the provider took the money too.
    // It is recorded as paid (receipt, reconciliation) for a refund; the dossier is left be.
    let (counter, _) = awaiting_fees(&t, None).await;
    let (_, to_provider) = press_pay(&t, &citizen, &counter).await;
    let open = query_of(&to_provider)["vnp_TxnRef"].clone();
    let handler = token(&t, "demo-handler").await;
    let at_counter = act(
        &t,
        &handler,
        &counter,
        "confirm_payment",
        json!({"version": 3}),
    )
    .await;
    let late = outcome(&secret, &open, "800000", "00");
    assert_eq!(ipn(&t, &late).await, "00");
    assert_eq!(
        dossier(&t, &counter).await["version"],
        at_counter["version"]
    );
    let status_of = async |txn: &str| {
        read_column(
            &t.database_url,
            &format!("SELECT status FROM payments WHERE txn_ref = '{txn}'"),
        )
        .await
    };
    assert_eq!(
        status_of(&open).await,
        ["paid"],
        "the money taken is on record"
    );
    assert_eq!(ipn(&t, &late).await, "02");
    let v = at_counter["version"].as_i64().unwrap();
    let refunded = act(
        &t,
        &handler,
        &counter,
        "refund",
        json!({"version": v, "reason": "Đã nộp tại quầy, hoàn trả khoản nộp trực tuyến"}),
    )
    .await;
    assert_eq!(refunded["status"], "in_progress");
    assert_eq!(status_of(&open).await, ["refunded"]);

    // An order given up on at its expiry, then confirmed late by the provider: settled, and
    // the dossier moves on; the order opened in its place stays pending.
    let (expiring, _) = awaiting_fees(&t, None).await;
    let (_, first) = press_pay(&t, &citizen, &expiring).await;
    let old = query_of(&first)["vnp_TxnRef"].clone();
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    crate::dossiers::tamper(
        &t.database_url,
        &format!("UPDATE payments SET created_at = '{an_hour_ago}' WHERE txn_ref = '{old}'"),
    )
    .await;
    let (_, second) = press_pay(&t, &citizen, &expiring).await;
    let new = query_of(&second)["vnp_TxnRef"].clone();
    assert_ne!(new, old, "an expired order is replaced");
    assert_eq!(status_of(&old).await, ["failed"]);
    assert_eq!(ipn(&t, &outcome(&secret, &old, "800000", "00")).await, "00");
    assert_eq!(status_of(&old).await, ["paid"]);
    assert_eq!(dossier(&t, &expiring).await["national_status"], 4);
    assert_eq!(status_of(&new).await, ["pending"]);

    // Nothing is awaited now: "pay" is refused.
    let (status, _) = press_pay(&t, &citizen, &counter).await;
    assert_eq!(status, 409);
}

on_both_backends!(a_cancelled_payment_can_be_tried_again_and_exempt_groups_pay_less);
async fn a_cancelled_payment_can_be_tried_again_and_exempt_groups_pay_less(db: Db) {
    let t = portal(db).await;
    let (code, _) = awaiting_fees(&t, None).await;
    let citizen = signed_in(&t, "demo-citizen").await;
    let (_, first) = press_pay(&t, &citizen, &code).await;
    let (_, sandbox) = page(&t, &citizen, first.strip_prefix(&t.base).unwrap()).await;
    let cancelled = form_post(&t, &citizen, "/sandbox/vnpay/finish")
        .await
        .form(&[
            ("query", sandbox_query(&sandbox).as_str()),
            ("outcome", "cancel"),
        ])
        .send()
        .await
        .unwrap();
    let back = location(&cancelled);
    let (_, shown) = page(&t, &citizen, back.strip_prefix(&t.base).unwrap()).await;
    assert!(shown.contains("không thành công"), "{shown}");
    let first_ref = query_of(&first)["vnp_TxnRef"].clone();
    assert_eq!(
        read_column(
            &t.database_url,
            &format!("SELECT answer FROM payment_callbacks WHERE kind = 'ipn' AND txn_ref = '{first_ref}'")
        )
        .await,
        ["00"],
        "the cancellation is acknowledged"
    );
    assert_eq!(
        dossier(&t, &code).await["national_status"],
        6,
        "still awaits"
    );

    // A new order, paid this time; an app asking over the API gets the same order.
    let (_, second) = press_pay(&t, &citizen, &code).await;
    let second_ref = query_of(&second)["vnp_TxnRef"].clone();
    assert_ne!(second_ref, first_ref);
    let path = format!("/api/v1/dossiers/{code}/payment");
    let (status, started) =
        post(&t, &path, &token(&t, "demo-citizen").await, json!({}), None).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(
        query_of(started["url"].as_str().unwrap())["vnp_TxnRef"],
        second_ref
    );
    let (status, _) = post(
        &t,
        &path,
        &token(&t, "demo-citizen-2").await,
        json!({}),
        None,
    )
    .await;
    assert_eq!(status, 404, "another citizen's dossier is not found");
    let paid = outcome(&secret(&t).await, &second_ref, "800000", "00");
    assert_eq!(ipn(&t, &paid).await, "00");
    assert_eq!(dossier(&t, &code).await["national_status"], 4);
    assert_eq!(
        read_column(
            &t.database_url,
            &format!("SELECT status FROM payments WHERE dossier_code = '{code}' ORDER BY id")
        )
        .await,
        ["failed", "paid"]
    );

    // Exemptions: a group no fee names, and a group exempt from the only fee.
    let (_, unknown) = awaiting_fees(&t, Some("Người nước ngoài")).await;
    assert_eq!(unknown["status"], 400);
    assert_eq!(unknown["body"]["invalid_params"][0]["name"], "exemption");
    let (_, exempt) = awaiting_fees(&t, Some("Người có công với cách mạng")).await;
    assert_eq!(exempt["status"], 400);
    assert_eq!(exempt["body"]["invalid_params"][0]["name"], "fees");

    // A free procedure: the official enters the amount, within bounds.
    let citizen_token = token(&t, "demo-citizen").await;
    let (_, pension) = post(
        &t,
        "/api/v1/dossiers",
        &citizen_token,
        crate::dossiers::pension_application(),
        None,
    )
    .await;
    let free = pension["dossier"]["code"].as_str().unwrap().to_owned();
    act(
        &t,
        &token(&t, "demo-reception").await,
        &free,
        "receive",
        json!({"version": 1}),
    )
    .await;
    let handler = token(&t, "demo-handler").await;
    let (status, problem) = try_act(
        &t,
        &handler,
        &free,
        "request_payment",
        json!({"version": 2}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(problem["invalid_params"][0]["name"], "fees");
    let (status, problem) = try_act(
        &t,
        &handler,
        &free,
        "request_payment",
        json!({"version": 2, "amount_vnd": 0}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(problem["invalid_params"][0]["name"], "amount_vnd");
    let asked = act(
        &t,
        &handler,
        &free,
        "request_payment",
        json!({"version": 2, "amount_vnd": 25000}),
    )
    .await;
    assert_eq!(asked["national_status"], 6);
}
