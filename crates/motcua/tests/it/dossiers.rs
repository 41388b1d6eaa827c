//! The dossier lifecycle over the API, on both backends.

use serde_json::{Value, json};

use crate::support::{Db, TestApp, on_both_backends, spawn};

const WARD: &str = "001.00.00.H31";

pub async fn token(t: &TestApp, user: &str) -> String {
    t.app
        .issue_token(user, chrono::Duration::days(1))
        .await
        .unwrap()
}

pub async fn post(
    t: &TestApp,
    path: &str,
    token: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Value) {
    let mut request = t.client.post(t.url(path)).bearer_auth(token).json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn get(t: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let response = t
        .client
        .get(t.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An application for the social pension (1.014027): the generic e-form, whose request
/// letter the e-form replaces, so no upload is needed.
pub fn pension_application() -> Value {
    json!({
        "procedure": "1.014027",
        "agency": WARD,
        "channel": "online",
        "form": generic_form()
    })
}

pub fn generic_form() -> Value {
    json!({
        "ho_ten": "Nguyễn Văn An",
        "so_dinh_danh": "031201001234",
        "dien_thoai": "0912345678",
        "dia_chi": "12 Điện Biên Phủ, phường Hồng Bàng",
        "noi_dung": "Đề nghị hưởng trợ cấp hưu trí xã hội"
    })
}

/// Runs an action; returns the status and the body (a dossier or a problem).
pub async fn try_act(
    t: &TestApp,
    token: &str,
    code: &str,
    action: &str,
    body: Value,
) -> (u16, Value) {
    post(
        t,
        &format!("/api/v1/dossiers/{code}/actions/{action}"),
        token,
        body,
        None,
    )
    .await
}

/// Runs an action and returns the new dossier, asserting it succeeded.
pub async fn act(t: &TestApp, token: &str, code: &str, action: &str, body: Value) -> Value {
    let (status, dossier) = try_act(t, token, code, action, body).await;
    assert_eq!(status, 200, "{action}: {dossier}");
    dossier
}

/// A small but real PDF.
pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

/// Uploads a file and returns its id.
pub async fn upload(t: &TestApp, token: &str, name: &str, content: &[u8]) -> String {
    let (status, body) = try_upload(t, token, name, content).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

pub async fn try_upload(t: &TestApp, token: &str, name: &str, content: &[u8]) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(content.to_vec()).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    let response = t
        .client
        .post(t.url("/api/v1/uploads"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The first column of a query's rows, as text, read straight from the database.
pub async fn read_column(url: &str, sql: &str) -> Vec<String> {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        rows.into_iter().map(|(v,)| v).collect()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        rows.into_iter().map(|(v,)| v).collect()
    }
}

/// Runs SQL straight on the database, as someone tampering with it would.
pub async fn tamper(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
}

on_both_backends!(a_dossier_from_submission_to_result);
async fn a_dossier_from_submission_to_result(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let reception = token(&t, "demo-reception").await;
    let handler = token(&t, "demo-handler").await;
    let approver = token(&t, "demo-approver").await;

    // Submit, and a retry with the same key returns the same dossier.
    let (status, first) = post(
        &t,
        "/api/v1/dossiers",
        &citizen,
        pension_application(),
        Some("k-1"),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let code = first["dossier"]["code"].as_str().unwrap().to_owned();
    let today = chrono::Utc::now()
        .with_timezone(&domain::calendar::vietnam_offset())
        .format("%y%m%d");
    assert_eq!(code, format!("{WARD}-{today}-0001"));
    assert_eq!(first["dossier"]["national_status"], 1);
    let (status, retry) = post(
        &t,
        "/api/v1/dossiers",
        &citizen,
        pension_application(),
        Some("k-1"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(retry["dossier"]["code"], code.as_str());
    assert_eq!(retry["lookup_secret"], first["lookup_secret"]);
    let (status, second) = post(
        &t,
        "/api/v1/dossiers",
        &citizen,
        pension_application(),
        None,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(second["dossier"]["code"], format!("{WARD}-{today}-0002"));

    // The public lookup needs the receipt's secret and shows no personal data.
    let secret = first["lookup_secret"].as_str().unwrap();
    let (status, public) = t
        .json(&format!("/api/v1/lookup/{code}?secret={secret}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(public["national_status"], 1);
    assert_eq!(public["agency_name"], "Ủy ban nhân dân phường Hồng Bàng");
    assert!(public.get("applicant").is_none() && public.get("form").is_none());
    let (status, _) = t
        .json(&format!("/api/v1/lookup/{code}?secret=AAAAAAAA"))
        .await;
    assert_eq!(status, 404);
    // The same lookup as a page, for people: the secret may be typed in lower case.
    let lower = secret.to_lowercase();
    let (status, page) = t.text(&format!("/lookup?code={code}&secret={lower}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Mới đăng ký") && page.contains("trợ cấp hưu trí xã hội"));
    assert!(
        page.contains("Được xác định khi hồ sơ được tiếp nhận"),
        "no due date before reception"
    );
    assert!(
        !page.contains("Nguyễn Văn An") && !page.contains("031201001234"),
        "no personal data"
    );
    let (status, page) = t
        .text(&format!("/lookup?code={code}&secret=AAAAAAAA"))
        .await;
    assert_eq!(status, 404);
    assert!(page.contains("Không tìm thấy hồ sơ"));
    let (status, page) = t.text(&format!("/lookup?code={code}")).await;
    assert_eq!(status, 400);
    assert!(page.contains("Vui lòng nhập cả mã hồ sơ và mã tra cứu"));
    assert_eq!(t.text("/lookup").await.0, 200, "an empty form");

    // Who may see it: the applicant and the ward's officials, not another citizen.
    let other = token(&t, "demo-citizen-2").await;
    assert_eq!(
        get(&t, &format!("/api/v1/dossiers/{code}"), &other).await.0,
        404
    );
    let leader = token(&t, "demo-leader").await;
    assert_eq!(
        get(&t, &format!("/api/v1/dossiers/{code}"), &leader)
            .await
            .0,
        200,
        "the city sees its wards"
    );

    // Lists: "my dossiers" for the citizen, the queue for the ward, everything for the city.
    let codes = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let second_code = second["dossier"]["code"].as_str().unwrap().to_owned();
    let (status, mine) = get(&t, "/api/v1/dossiers", &citizen).await;
    assert_eq!(status, 200);
    assert_eq!(
        codes(&mine),
        [second_code.clone(), code.clone()],
        "newest first"
    );
    assert!(codes(&get(&t, "/api/v1/dossiers", &other).await.1).is_empty());
    let (_, queue) = get(&t, "/api/v1/dossiers?status=submitted", &reception).await;
    assert_eq!(codes(&queue).len(), 2);
    assert_eq!(
        codes(&get(&t, "/api/v1/dossiers?limit=1", &leader).await.1),
        [second_code]
    );
    let (status, problem) = get(&t, "/api/v1/dossiers?status=lost&limit=x", &reception).await;
    assert_eq!(status, 400);
    assert_eq!(problem["invalid_params"].as_array().unwrap().len(), 2);

    // Reception: only reception officers receive; the due date is computed and stored.
    let (status, problem) = try_act(&t, &handler, &code, "receive", json!({"version": 1})).await;
    assert_eq!(status, 403, "{problem}");
    let received = act(&t, &reception, &code, "receive", json!({"version": 1})).await;
    assert_eq!(received["national_status"], 2);
    let due: chrono::DateTime<chrono::Utc> = received["due_at"].as_str().unwrap().parse().unwrap();
    let due_local = due.with_timezone(&domain::calendar::vietnam_offset());
    assert_eq!(due_local.format("%H:%M").to_string(), "17:00");
    assert!(domain::calendar::Calendar::vietnam().is_working_day(due_local.date_naive()));

    // A stale version and an illegal move are both refused with 409.
    let (status, stale) =
        try_act(&t, &handler, &code, "complete_step", json!({"version": 1})).await;
    assert_eq!(status, 409, "{stale}");
    assert!(stale["detail"].as_str().unwrap().contains("version"));
    let (status, _) = try_act(&t, &reception, &code, "receive", json!({"version": 2})).await;
    assert_eq!(status, 409);

    let working = act(&t, &handler, &code, "complete_step", json!({"version": 2})).await;
    assert_eq!(working["national_status"], 4);
    let (status, problem) = try_act(
        &t,
        &handler,
        &code,
        "request_supplement",
        json!({"version": 3}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(problem["invalid_params"][0]["name"], "reason");
    let paused = act(
        &t,
        &handler,
        &code,
        "request_supplement",
        json!({"version": 3, "reason": "Thiếu giấy chứng sinh"}),
    )
    .await;
    assert_eq!(paused["national_status"], 5);
    assert!(paused["paused_at"].is_string());
    let resumed = act(&t, &citizen, &code, "supplement", json!({"version": 4})).await;
    assert_eq!(resumed["national_status"], 4, "back to processing");
    assert!(resumed["paused_at"].is_null());
    let (status, problem) = try_act(&t, &approver, &code, "resolve", json!({"version": 5})).await;
    assert_eq!(status, 400, "no result document: {problem}");
    assert_eq!(problem["invalid_params"][0]["name"], "attachments");
    let result = upload(&t, &approver, "quyet-dinh.pdf", PDF).await;
    let resolved = act(
        &t,
        &approver,
        &code,
        "resolve",
        json!({"version": 5, "attachments": [{"document": "result", "upload": result}]}),
    )
    .await;
    assert_eq!(resolved["national_status"], 9);
    assert!(resolved["ended_at"].is_string());
    let returned = act(&t, &reception, &code, "return", json!({"version": 6})).await;
    assert_eq!(returned["national_status"], 10);
    let (status, _) = try_act(&t, &citizen, &code, "withdraw", json!({"version": 7})).await;
    assert_eq!(status, 409, "a returned dossier is closed");

    // The history, and the audit of the whole log.
    let (_, full) = get(&t, &format!("/api/v1/dossiers/{code}"), &citizen).await;
    let actions: Vec<&str> = full["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "receive",
            "complete_step",
            "request_supplement",
            "supplement",
            "resolve",
            "return"
        ]
    );
    assert_eq!(
        full["events"][3]["payload"]["reason"],
        "Thiếu giấy chứng sinh"
    );
    let report = t.app.verify_audit().await.unwrap();
    assert_eq!(
        (report.dossiers, report.events, report.first_error.is_none()),
        (2, 8, true)
    );
    // The applicant downloads the result.
    let response = t
        .client
        .get(t.url(&format!("/api/v1/files/{result}")))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.bytes().await.unwrap().as_ref(), PDF);
    let stranger = t
        .client
        .get(t.url(&format!("/api/v1/files/{result}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 404, "another citizen cannot fetch it");

    // Tampering with one event is found, and named.
    tamper(
        &t.database_url,
        &format!("UPDATE dossier_events SET payload = '{{}}' WHERE dossier_code = '{code}' AND sequence = 4"),
    )
    .await;
    let error = t
        .app
        .verify_audit()
        .await
        .unwrap()
        .first_error
        .expect("tampering is detected");
    assert_eq!(
        (error.dossier_code.as_str(), error.sequence),
        (code.as_str(), 4)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .arg("--data-dir")
        .arg(&t.data_dir)
        .args(["audit", "verify"])
        .env("DATABASE_URL", &t.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("dossier {code}, event 4")));
}

on_both_backends!(bad_requests_are_refused_and_write_nothing);
async fn bad_requests_are_refused_and_write_nothing(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let bad = |field: &str, value: Value| {
        let mut body = pension_application();
        body[field] = value;
        body
    };
    for (body, field) in [
        (bad("procedure", json!("9.999999")), "procedure"),
        (bad("agency", json!("000.00.01.H31")), "agency"),
        (bad("agency", json!("nope")), "agency"),
        (bad("form", json!("text")), "form"),
        (bad("channel", json!("in_person")), "channel"),
        (bad("channel", json!("fax")), "channel"),
    ] {
        let (status, problem) = post(&t, "/api/v1/dossiers", &citizen, body, None).await;
        assert_eq!(status, 400, "{field}: {problem}");
        assert_eq!(problem["invalid_params"][0]["name"], field, "{problem}");
    }
    let response = t
        .client
        .post(t.url("/api/v1/dossiers"))
        .bearer_auth(&citizen)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["invalid_params"][0]["name"], "body");

    let anonymous = t
        .client
        .post(t.url("/api/v1/dossiers"))
        .json(&pension_application())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        post(
            &t,
            "/api/v1/dossiers",
            "forged-token",
            pension_application(),
            None
        )
        .await
        .0,
        401
    );
    let leader = token(&t, "demo-leader").await;
    assert_eq!(
        post(&t, "/api/v1/dossiers", &leader, pension_application(), None)
            .await
            .0,
        403
    );

    let (_, ok) = post(
        &t,
        "/api/v1/dossiers",
        &citizen,
        pension_application(),
        None,
    )
    .await;
    let code = ok["dossier"]["code"].as_str().unwrap();
    let (status, problem) = try_act(&t, &citizen, code, "fly", json!({"version": 1})).await;
    assert_eq!(
        (status, problem["invalid_params"][0]["name"].as_str()),
        (400, Some("action"))
    );
    let handler = token(&t, "demo-handler").await;
    let reception = token(&t, "demo-reception").await;
    act(&t, &reception, code, "receive", json!({"version": 1})).await;
    let (status, problem) = try_act(&t, &handler, code, "transfer", json!({"version": 2})).await;
    assert_eq!(
        (status, problem["invalid_params"][0]["name"].as_str()),
        (400, Some("to_agency"))
    );
    assert_eq!(
        post(
            &t,
            "/api/v1/dossiers/000.00.00.H31-000000-0001/actions/receive",
            &reception,
            json!({"version": 1}),
            None
        )
        .await
        .0,
        404
    );

    let report = t.app.verify_audit().await.unwrap();
    assert_eq!(
        (report.dossiers, report.events, report.first_error),
        (1, 2, None),
        "only the good submission and its reception"
    );
}

#[tokio::test]
async fn concurrent_submissions_get_distinct_codes() {
    let t = spawn(Db::Sqlite, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let t = std::sync::Arc::new(t);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (t, citizen) = (t.clone(), citizen.clone());
            tokio::spawn(async move {
                post(
                    &t,
                    "/api/v1/dossiers",
                    &citizen,
                    pension_application(),
                    None,
                )
                .await
            })
        })
        .collect();
    let mut sequences = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
        let code = body["dossier"]["code"].as_str().unwrap().to_owned();
        sequences.push(code.rsplit('-').next().unwrap().parse::<u32>().unwrap());
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=20).collect::<Vec<_>>());
}

on_both_backends!(text_with_a_nul_character_is_refused_not_a_server_error);
async fn text_with_a_nul_character_is_refused_not_a_server_error(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    // PostgreSQL holds no NUL character in text; SQLite does, and finds no such draft.
    let (status, problem) = post(
        &t,
        "/api/v1/drafts",
        &citizen,
        json!({"id": "nháp\u{0}1", "procedure": "1.014027", "form": {}}),
        None,
    )
    .await;
    match db {
        Db::Postgres => {
            assert_eq!(status, 400, "{problem}");
            assert_eq!(problem["invalid_params"][0]["name"], "body");
            assert!(problem.to_string().contains("NUL"), "{problem}");
        }
        Db::Sqlite => assert_eq!(status, 404, "{problem}"),
    }
    // Inside the e-form's JSON a NUL is an escape, kept as typed.
    let (status, draft) = post(
        &t,
        "/api/v1/drafts",
        &citizen,
        json!({"procedure": "1.014027", "agency": WARD, "form": {"ho_ten": "An\u{0}"}}),
        None,
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {draft}");
    assert_eq!(draft["form"]["ho_ten"], "An\u{0}");
}

on_both_backends!(the_public_lookup_follows_actions_on_every_node);
/// The public lookup is served from memory: an action on this node shows at once, one on
/// another node within `PUBLIC_STATUS_SECONDS`.
async fn the_public_lookup_follows_actions_on_every_node(db: Db) {
    let t = spawn(db, true).await;
    let other_node = crate::support::spawn_node(&t, |_| ()).await;
    let citizen = token(&t, "demo-citizen").await;
    let reception = token(&t, "demo-reception").await;
    let (status, first) = post(
        &t,
        "/api/v1/dossiers",
        &citizen,
        pension_application(),
        None,
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let code = first["dossier"]["code"].as_str().unwrap().to_owned();
    let path = format!(
        "/api/v1/lookup/{code}?secret={}",
        first["lookup_secret"].as_str().unwrap()
    );
    for node in [&t, &other_node] {
        let (status, public) = node.json(&path).await;
        assert_eq!((status, public["national_status"].clone()), (200, json!(1)));
    }
    act(&t, &reception, &code, "receive", json!({"version": 1})).await;
    assert_eq!(
        t.json(&path).await.1["national_status"],
        2,
        "this node at once"
    );
    let waited = std::time::Instant::now();
    loop {
        if other_node.json(&path).await.1["national_status"] == 2 {
            break;
        }
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(app::PUBLIC_STATUS_SECONDS + 1),
            "the other node still shows the old status"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A wrong secret is refused from the cache as from the database.
    let (status, _) = other_node
        .json(&format!("/api/v1/lookup/{code}?secret=AAAAAAAA"))
        .await;
    assert_eq!(status, 404);
}
