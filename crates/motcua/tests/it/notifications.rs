//! Notifications through the outbox: delivered to a real SMTP server (aiosmtpd, started here
//! by `scripts/smtp-sink`) and to a webhook provider; an SMTP outage loses nothing and sends
//! nothing twice; spent retries go to the dead-letter list; scheduled jobs run once across
//! several nodes; each on both backends.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::dossiers::{act, generic_form, post, read_column, tamper, token, try_act};
use crate::journeys::{browser, form_post, page, sign_in};
use crate::support::{Db, TestApp, on_both_backends, spawn_configured, spawn_node};

const WARD: &str = "001.00.00.H31";
const COPY: &str = "2.000635";

/// A real SMTP server that writes each message it accepts as a JSON line; stopped when dropped.
struct Sink {
    port: u16,
    out: PathBuf,
    _dir: tempfile::TempDir,
    _child: Child,
}

fn python() -> String {
    std::env::var("MOTCUA_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/../../target/tools/python/bin/python3",
            env!("CARGO_MANIFEST_DIR")
        )
    })
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sink {
    async fn start(port: u16) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mail.jsonl");
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink");
        let mut child = Command::new(python())
            .arg(&script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("Python with aiosmtpd runs scripts/smtp-sink (scripts/test installs it; MOTCUA_PYTHON names it)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the SMTP server starts within 30 s")
            .unwrap();
        assert_eq!(ready.as_deref(), Some("ready"));
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Sink {
            port,
            out,
            _dir: dir,
            _child: child,
        }
    }

    fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until `n` messages have arrived (at most 20 s), then returns them.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let got = self.messages();
        panic!("expected {n} messages, got {}: {got:?}", got.len());
    }
}

/// A query's first column once it reads `expected`, or as it reads after 5 s.
async fn column_within_5s(t: &TestApp, sql: &str, expected: &[&str]) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..50 {
        got = read_column(&t.database_url, sql).await;
        if got == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got
}

fn smtp(port: u16) -> app::SmtpSettings {
    app::SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        from: "Cổng dịch vụ công <no-reply@motcua.test>".into(),
        username: None,
        password: None,
        tls: "none".into(),
    }
}

/// A demo portal that mails through an SMTP server at `port`, delivering every 100 ms.
async fn mailing_portal(
    db: Db,
    port: u16,
    tune: impl FnOnce(&mut motcua::config::Config),
) -> TestApp {
    spawn_configured(db, true, async |config, base| {
        config.server.public_url = Some(base);
        config.notify.smtp = Some(smtp(port));
        config.notify.retry_base_ms = 200;
        config.notify.retry_max_ms = 400;
        config.jobs.deliver_every_ms = 100;
        // Only delivery in these tests: the deadline check once, far from any deadline.
        config.jobs.deadline_every_secs = 365 * 86400;
        config.jobs.digest_hour = 24;
        tune(config);
    })
    .await
    .0
}

/// Sets where a person's notifications go, as they do on their account page.
async fn set_contact(t: &TestApp, user: &str, email: &str, phone: &str, lang: &str) -> u16 {
    let b = browser();
    assert_eq!(sign_in(t, &b, user, app::DEMO_PASSWORD).await, 303);
    form_post(t, &b, "/account/contact")
        .await
        .form(&[("email", email), ("phone", phone), ("lang", lang)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Submits a copy-of-extract dossier as `citizen`; its code.
async fn submit(t: &TestApp, citizen: &str) -> String {
    let citizen = token(t, citizen).await;
    let (status, body) = post(
        t,
        "/api/v1/dossiers",
        &citizen,
        json!({"procedure": COPY, "agency": WARD, "channel": "online", "form": generic_form()}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["dossier"]["code"].as_str().unwrap().to_owned()
}

/// A dossier of demo-citizen's, received by the ward: its code.
async fn received(t: &TestApp) -> String {
    let code = submit(t, "demo-citizen").await;
    let reception = token(t, "demo-reception").await;
    act(t, &reception, &code, "receive", json!({"version": 1})).await;
    code
}

fn subjects(messages: &[Value]) -> Vec<String> {
    let mut s: Vec<String> = messages
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    s.sort();
    s
}

on_both_backends!(each_event_reaches_the_applicant_by_email);
async fn each_event_reaches_the_applicant_by_email(db: Db) {
    let sink = Sink::start(free_port()).await;
    let t = mailing_portal(db, sink.port, |_| ()).await;
    // A wrong address is named, in the person's language.
    assert_eq!(
        set_contact(&t, "demo-citizen", "an.nguyen@", "", "vi").await,
        400
    );
    assert_eq!(
        set_contact(&t, "demo-citizen", "an.nguyen@example.vn", "", "vi").await,
        303
    );
    assert_eq!(
        set_contact(&t, "demo-citizen-2", "binh.tran@example.vn", "", "en").await,
        303
    );

    // The social pension: it has a deadline to apologise for.
    let citizen = token(&t, "demo-citizen").await;
    let (_, pension) = post(
        &t,
        "/api/v1/dossiers",
        &citizen,
        crate::dossiers::pension_application(),
        None,
    )
    .await;
    let code = pension["dossier"]["code"].as_str().unwrap().to_owned();
    let reception = token(&t, "demo-reception").await;
    let handler = token(&t, "demo-handler").await;
    let approver = token(&t, "demo-approver").await;
    act(&t, &reception, &code, "receive", json!({"version": 1})).await;
    act(
        &t,
        &handler,
        &code,
        "request_payment",
        json!({"version": 2, "amount_vnd": 8000}),
    )
    .await;
    act(
        &t,
        &handler,
        &code,
        "confirm_payment",
        json!({"version": 3}),
    )
    .await;
    act(
        &t,
        &handler,
        &code,
        "request_supplement",
        json!({"version": 4, "reason": "Bổ sung bản chụp căn cước"}),
    )
    .await;
    act(&t, &citizen, &code, "supplement", json!({"version": 5})).await;
    act(&t, &handler, &code, "complete_step", json!({"version": 6})).await;
    act(
        &t,
        &approver,
        &code,
        "apologize_and_extend",
        json!({"version": 7, "reason": "Chờ xác minh", "extend_working_days": 2}),
    )
    .await;
    let result = crate::dossiers::upload(&t, &approver, "ket-qua.pdf", crate::dossiers::PDF).await;
    act(
        &t,
        &approver,
        &code,
        "resolve",
        json!({"version": 8, "attachments": [{"document": "result", "upload": result}]}),
    )
    .await;
    let refused = submit(&t, "demo-citizen-2").await;
    act(
        &t,
        &reception,
        &refused,
        "refuse",
        json!({"version": 1, "reason": "Sai cơ quan"}),
    )
    .await;

    let mail = sink.wait_for(7).await;
    let to_an: Vec<Value> = mail
        .iter()
        .filter(|m| m["rcpt_tos"][0] == "an.nguyen@example.vn")
        .cloned()
        .collect();
    assert_eq!(
        subjects(&to_an),
        [
            format!("Hồ sơ {code} cần bổ sung"),
            format!("Hồ sơ {code} đã có kết quả"),
            format!("Hồ sơ {code} đã được tiếp nhận"),
            format!("Hồ sơ {code}: đã nhận phí, lệ phí"),
            format!("Hồ sơ {code}: đề nghị nộp phí, lệ phí"),
            format!("Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}"),
        ]
    );
    let body_of = |start: &str| {
        to_an
            .iter()
            .find(|m| m["subject"].as_str().unwrap().starts_with(start))
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert!(body_of(&format!("Hồ sơ {code}: đề nghị")).contains("8.000 đ"));
    assert!(body_of(&format!("Hồ sơ {code} cần")).contains("Bổ sung bản chụp căn cước"));
    assert!(body_of(&format!("Hồ sơ {code} đã có")).contains(&t.url(&format!("/dossiers/{code}"))));
    let to_binh: Vec<&Value> = mail
        .iter()
        .filter(|m| m["rcpt_tos"][0] == "binh.tran@example.vn")
        .collect();
    assert_eq!(to_binh.len(), 1);
    assert_eq!(
        to_binh[0]["subject"],
        format!("Dossier {refused} not accepted")
    );
    assert!(to_binh[0]["body"].as_str().unwrap().contains("Sai cơ quan"));
    let mut ids: Vec<&str> = mail
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7, "one Message-ID per notification");

    // The dossier shows each message and that it was delivered.
    let b = browser();
    sign_in(&t, &b, "demo-citizen", app::DEMO_PASSWORD).await;
    let (_, html) = page(&t, &b, &format!("/dossiers/{code}")).await;
    assert_eq!(html.matches("Đã gửi</td>").count(), 6, "{html}");
}

on_both_backends!(an_smtp_outage_loses_nothing_and_sends_nothing_twice);
async fn an_smtp_outage_loses_nothing_and_sends_nothing_twice(db: Db) {
    let port = free_port();
    let t = mailing_portal(db, port, |c| c.notify.max_attempts = 1000).await;
    set_contact(&t, "demo-citizen", "an.nguyen@example.vn", "", "vi").await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(received(&t).await);
    }
    // The server is down: every try fails, the rows wait with the error kept.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rows = read_column(
        &t.database_url,
        "SELECT status || ':' || CAST(attempts > 1 AS TEXT) || ':' || CAST(last_error IS NOT NULL AS TEXT) FROM notifications ORDER BY id",
    )
    .await;
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert!(
            row == "pending:1:1" || row == "pending:true:true",
            "waiting for another try: {row}"
        );
    }
    let b = browser();
    sign_in(&t, &b, "demo-citizen", app::DEMO_PASSWORD).await;
    let (_, html) = page(&t, &b, &format!("/dossiers/{}", codes[0])).await;
    assert!(html.contains("Sẽ gửi lại"), "{html}");

    // It comes back: each message arrives once.
    let sink = Sink::start(port).await;
    let mail = sink.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 3, "nothing twice: {mail:?}");
    let mut got = subjects(&mail);
    got.dedup();
    assert_eq!(got.len(), 3, "one per dossier");
    for code in &codes {
        assert!(got.iter().any(|s| s.contains(code.as_str())));
    }
    assert_eq!(
        read_column(&t.database_url, "SELECT DISTINCT status FROM notifications").await,
        ["sent"]
    );
}

on_both_backends!(spent_retries_go_to_the_dead_letter_list);
async fn spent_retries_go_to_the_dead_letter_list(db: Db) {
    let port = free_port();
    let t = mailing_portal(db, port, |c| {
        c.notify.max_attempts = 2;
        c.notify.retry_base_ms = 100;
    })
    .await;
    set_contact(&t, "demo-citizen", "an.nguyen@example.vn", "", "vi").await;
    let code = received(&t).await;
    assert_eq!(
        column_within_5s(&t, "SELECT status FROM notifications", &["dead"]).await,
        ["dead"]
    );

    let admin = browser();
    assert_eq!(
        sign_in(&t, &admin, "demo-admin", app::DEMO_PASSWORD).await,
        303
    );
    let (status, html) = page(&t, &admin, "/admin/notifications").await;
    assert_eq!(status, 200);
    assert!(html.contains(&code), "{html}");
    let citizen = browser();
    sign_in(&t, &citizen, "demo-citizen", app::DEMO_PASSWORD).await;
    assert_eq!(page(&t, &citizen, "/admin/notifications").await.0, 403);

    // Mended: the administrator sends it again, once.
    let sink = Sink::start(port).await;
    let id = read_column(
        &t.database_url,
        "SELECT CAST(id AS TEXT) FROM notifications",
    )
    .await
    .remove(0);
    let requeue = async || {
        form_post(&t, &admin, &format!("/admin/notifications/{id}/requeue"))
            .await
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(requeue().await, 303);
    let mail = sink.wait_for(1).await;
    assert_eq!(
        mail[0]["subject"],
        format!("Hồ sơ {code} đã được tiếp nhận")
    );
    assert_eq!(requeue().await, 409, "it is no longer a dead letter");
}

on_both_backends!(scheduled_jobs_run_once_across_nodes);
async fn scheduled_jobs_run_once_across_nodes(db: Db) {
    let sink = Sink::start(free_port()).await;
    // The first node takes the dossier and runs no jobs.
    let first = mailing_portal(db, sink.port, |c| c.jobs.enabled = false).await;
    // Everyone has an address.
    tamper(
        &first.database_url,
        "UPDATE users SET email = username || '@motcua.test'",
    )
    .await;
    let code = received(&first).await;
    // The dossier fell due two days ago.
    let past = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    tamper(
        &first.database_url,
        &format!("UPDATE dossiers SET due_at = '{past}' WHERE code = '{code}'"),
    )
    .await;

    // Two more nodes on the same database, both running the jobs.
    let tune = |c: &mut motcua::config::Config| {
        c.notify.smtp = Some(smtp(sink.port));
        c.jobs.deliver_every_ms = 100;
        c.jobs.deadline_every_secs = 365 * 86400;
        c.jobs.escalate_after_hours = 1;
        c.jobs.digest_hour = 0;
    };
    let _b = spawn_node(&first, tune).await;
    let _c = spawn_node(&first, tune).await;

    let mail = sink.wait_for(5).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mail_after = sink.messages();
    assert_eq!(mail_after.len(), 5, "nothing twice: {mail_after:?}");
    let mut to: Vec<(String, String)> = mail
        .iter()
        .map(|m| {
            (
                m["rcpt_tos"][0].as_str().unwrap().to_owned(),
                m["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    to.sort();
    let yesterday = (chrono::Utc::now().with_timezone(&domain::calendar::vietnam_offset())
        - chrono::Duration::days(1))
    .format("%d/%m/%Y")
    .to_string();
    assert_eq!(
        to,
        [
            (
                "demo-approver@motcua.test".to_owned(),
                format!("Hồ sơ {code} đã quá hạn")
            ),
            (
                "demo-citizen@motcua.test".to_owned(),
                format!("Hồ sơ {code} đã được tiếp nhận")
            ),
            (
                "demo-handler@motcua.test".to_owned(),
                format!("Hồ sơ {code} đã quá hạn")
            ),
            (
                "demo-leader@motcua.test".to_owned(),
                format!("Hồ sơ {code} quá hạn chưa được xử lý")
            ),
            (
                "demo-leader@motcua.test".to_owned(),
                format!("Tổng hợp hồ sơ ngày {yesterday}")
            ),
        ]
    );
    let runs = read_column(
        &first.database_url,
        "SELECT job || ':' || CAST(COUNT(*) AS TEXT) FROM job_runs GROUP BY job ORDER BY job",
    )
    .await;
    assert_eq!(runs, ["deadlines:1", "digest:1", "prune:1"]);
}

on_both_backends!(text_messages_go_to_the_webhook_provider_signed);
async fn text_messages_go_to_the_webhook_provider_signed(db: Db) {
    use axum::routing::post as route_post;
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;
    let seen: Seen = Default::default();
    let keep = seen.clone();
    let provider = axum::Router::new().route(
        "/sms",
        route_post(async move |headers: axum::http::HeaderMap, body: String| {
            let signature = headers["x-motcua-signature"].to_str().unwrap().to_owned();
            keep.lock().unwrap().push((signature, body));
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, provider).await });

    let t = spawn_configured(db, true, async |config, base| {
        config.server.public_url = Some(base);
        config.notify.webhook = Some(app::WebhookSettings {
            url: hook,
            secret: "webhook-secret".into(),
        });
        config.jobs.deliver_every_ms = 100;
        config.jobs.deadline_every_secs = 365 * 86400;
        config.jobs.digest_hour = 24;
    })
    .await
    .0;
    assert_eq!(
        set_contact(
            &t,
            "demo-citizen",
            "an.nguyen@example.vn",
            "0912 345 678",
            "vi"
        )
        .await,
        303
    );
    let code = received(&t).await;
    for _ in 0..100 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (signature, body) = &calls[0];
    let sent: Value = serde_json::from_str(body).unwrap();
    assert_eq!(sent["to"], "0912345678");
    assert!(sent["text"].as_str().unwrap().contains(&code));
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"webhook-secret").unwrap();
    mac.update(body.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(signature, &format!("sha256={expected}"));
    // Without an SMTP server the email is skipped, not retried.
    let email = column_within_5s(
        &t,
        "SELECT status FROM notifications WHERE channel = 'email'",
        &["skipped"],
    )
    .await;
    assert_eq!(email, ["skipped"]);
    // A year on, the delivered and skipped rows are removed; a dead letter would stay.
    let removed = t
        .app
        .prune_outbox(chrono::Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(removed, 2, "the text message sent and the email skipped");
    assert!(
        read_column(&t.database_url, "SELECT status FROM notifications")
            .await
            .is_empty()
    );
    let (status, _) = try_act(
        &t,
        &token(&t, "demo-citizen").await,
        &code,
        "withdraw",
        json!({"version": 2}),
    )
    .await;
    assert_eq!(status, 200);
}
