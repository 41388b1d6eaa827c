//! The inter-agency exchange between two instances on loopback: a provincial one pushing its
//! dossier-sync records to a national one, with the national instance stopped and restarted
//! mid-way; refused calls; verifiable e-results.

use std::time::Duration;

use domain::exchange::{self, MemberKey};
use serde_json::{Value, json};

use crate::dossiers::{PDF, act, get, token, upload};
use crate::stats::submit;
use crate::support::{Db, TestApp, on_both_backends, spawn_configured, spawn_on};

const NATIONAL: &str = "000.00.00.G01/motcua";
const PROVINCE: &str = "000.00.00.H31/motcua";

/// The national instance, on `port` (0: any) and, when given, an existing database.
async fn national(db: Db, port: u16, database: Option<(String, std::path::PathBuf)>) -> TestApp {
    spawn_on(db, true, port, database, async |config, _| {
        config.exchange.agency = Some("000.00.00.G01".into());
        config.exchange.national = true;
    })
    .await
    .0
}

/// Processes a dossier to the end: received, the handler's step, resolved with a result,
/// returned.
pub(crate) async fn carry_through(t: &TestApp, code: &str) {
    let reception = token(t, "demo-reception").await;
    let handler = token(t, "demo-handler").await;
    let approver = token(t, "demo-approver").await;
    act(t, &reception, code, "receive", json!({"version": 1})).await;
    act(t, &handler, code, "complete_step", json!({"version": 2})).await;
    let result = upload(t, &approver, "ket-qua.pdf", PDF).await;
    act(
        t,
        &approver,
        code,
        "resolve",
        json!({"version": 3, "attachments": [{"document": "result", "upload": result}]}),
    )
    .await;
    act(t, &reception, code, "return", json!({"version": 4})).await;
}

/// Waits until the national figures of the province reach `submitted`.
async fn national_figures(national: &TestApp, submitted: i64) -> Value {
    for _ in 0..200 {
        let (status, body) = national.json("/api/v1/national/stats").await;
        assert_eq!(status, 200, "{body}");
        let province = body["provinces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["province"] == PROVINCE)
            .cloned();
        if let Some(p) = province
            && p["submitted"] == submitted
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the national instance never reached {submitted} dossiers");
}

/// The provincial figures for today over the whole city.
async fn provincial_figures(t: &TestApp) -> Value {
    let leader = token(t, "demo-leader").await;
    let today = app::today();
    let (status, body) = get(
        t,
        &format!("/api/v1/stats?agency=000.00.00.H31&from={today}&to={today}"),
        &leader,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["groups"][0].clone()
}

/// Registers each instance with the other and lets the province push.
async fn join(province: &TestApp, national: &TestApp) {
    let (national_id, national_key) = national.app.exchange_identity().unwrap();
    let (province_id, province_key) = province.app.exchange_identity().unwrap();
    assert_eq!(
        (national_id.as_str(), province_id.as_str()),
        (NATIONAL, PROVINCE)
    );
    province
        .app
        .put_member(NATIONAL, "Cổng quốc gia", &national_key, &national.base)
        .await
        .unwrap();
    national
        .app
        .put_member(PROVINCE, "Hải Phòng", &province_key, &province.base)
        .await
        .unwrap();
    national
        .app
        .put_grant("sync-push", PROVINCE, "test")
        .await
        .unwrap();
}

on_both_backends!(the_national_instance_follows_a_province_through_an_outage);
async fn the_national_instance_follows_a_province_through_an_outage(db: Db) {
    let nation = national(db, 0, None).await;
    let port: u16 = nation.base.rsplit(':').next().unwrap().parse().unwrap();
    let (province, ()) = spawn_configured(db, true, async |config, _| {
        config.exchange.agency = Some("000.00.00.H31".into());
        config.exchange.national_member = Some(NATIONAL.into());
        config.exchange.push_seconds = 1;
    })
    .await;
    join(&province, &nation).await;
    let citizen = token(&province, "demo-citizen").await;
    let reception = token(&province, "demo-reception").await;

    let returned = submit(&province, &citizen).await;
    carry_through(&province, &returned).await;
    let refused = submit(&province, &citizen).await;
    act(
        &province,
        &reception,
        &refused,
        "refuse",
        json!({"version": 1, "reason": "Sai thẩm quyền"}),
    )
    .await;
    let figures = national_figures(&nation, 2).await;
    assert_eq!(figures["received"], 1, "{figures}");
    assert_eq!(figures["resolved"], 1, "{figures}");
    assert_eq!(figures["returned"], 1, "{figures}");
    assert_eq!(figures["refused"], 1, "{figures}");

    // Officials of the national instance look the dossier up by code; the name stays home.
    let official = token(&nation, "demo-leader").await;
    let (status, found) = get(
        &nation,
        &format!("/api/v1/national/dossiers/{returned}"),
        &official,
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["TrangThaiHoSo"], 10);
    assert_eq!(found["province"], PROVINCE);
    assert!(found.get("ChuHoSo").is_none(), "{found}");
    let (status, _) = get(&nation, "/api/v1/national/dossiers/nope", &official).await;
    assert_eq!(status, 404);

    // The national instance goes down; the province goes on working.
    let (url, data_dir) = (nation.database_url.clone(), nation.data_dir.clone());
    let keep = crate::support::stop(nation).await;
    let mut later = Vec::new();
    for _ in 0..3 {
        let code = submit(&province, &citizen).await;
        act(
            &province,
            &reception,
            &code,
            "receive",
            json!({"version": 1}),
        )
        .await;
        later.push(code);
    }
    carry_through(&province, &submit(&province, &citizen).await).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, push) = get(
        &province,
        "/api/v1/exchange/push",
        &token(&province, "demo-admin").await,
    )
    .await;
    assert_eq!(status, 200, "{push}");
    assert!(
        push["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{push}"
    );

    // Back up on the same database and port: the province catches up, nothing twice.
    let nation = national(db, port, Some((url, data_dir))).await;
    let figures = national_figures(&nation, 6).await;
    let home = provincial_figures(&province).await;
    assert_eq!(figures["received"], home["received"], "{figures} vs {home}");
    assert_eq!(figures["resolved"], home["resolved"], "{figures} vs {home}");
    assert_eq!(figures["received"], 5);
    assert_eq!(figures["resolved"], 2);
    assert_eq!(figures["returned"], 2);
    let official = token(&nation, "demo-leader").await;
    for code in &later {
        let (status, found) = get(
            &nation,
            &format!("/api/v1/national/dossiers/{code}"),
            &official,
        )
        .await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["TrangThaiHoSo"], 2, "{found}");
    }
    // Pushing the same records again counts nothing: the national side skips what it has.
    crate::dossiers::tamper(
        &province.database_url,
        "UPDATE federation_push SET cursor = 0",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let again = national_figures(&nation, 6).await;
    assert_eq!(again["received"], 5, "{again}");
    assert_eq!(again["returned"], 2, "{again}");

    // Every push is in the national message log, whose chain holds.
    let auditor = token(&nation, "demo-auditor").await;
    let (status, report) = get(&nation, "/api/v1/exchange/log/verify", &auditor).await;
    assert_eq!(status, 200, "{report}");
    assert!(report["broken"].is_null(), "{report}");
    assert!(report["entries"].as_i64().unwrap() >= 2, "{report}");
    drop(keep);
}

/// A call signed by `key` as `client`, with the given timestamp and nonce.
async fn signed_call(
    t: &TestApp,
    key: &MemberKey,
    client: &str,
    path: &str,
    at: i64,
    nonce: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let member = exchange::MemberId::parse(client).unwrap();
    let message = exchange::request_message("GET", path, b"", at, nonce, &member);
    let response = t
        .client
        .get(t.url(path))
        .header(exchange::CLIENT_HEADER, client)
        .header(exchange::TIMESTAMP_HEADER, at.to_string())
        .header(exchange::NONCE_HEADER, nonce)
        .header(exchange::SIGNATURE_HEADER, key.sign(&message))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

on_both_backends!(bad_calls_are_refused_precisely_and_logged);
async fn bad_calls_are_refused_precisely_and_logged(db: Db) {
    let (t, ()) = spawn_configured(db, true, async |_, _| ()).await;
    let client = "000.00.00.H49/ho-tich";
    let key = MemberKey::from_seed([9; 32]);
    t.app
        .put_member(client, "Hộ tịch Quảng Nam", &key.public_base64(), "")
        .await
        .unwrap();
    t.app.put_grant("procedure", client, "test").await.unwrap();
    let now = chrono::Utc::now().timestamp();
    let path = "/exchange/v1/procedure?code=1.001193";

    // A good call, answered and signed by the provider.
    let (status, body, headers) =
        signed_call(&t, &key, client, path, now, "nonce-0000000000000001").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["MATTHC"], "1.001193");
    let (provider, provider_key) = t.app.exchange_identity().unwrap();
    assert_eq!(headers[exchange::PROVIDER_HEADER], provider.as_str());
    let at: i64 = headers[exchange::TIMESTAMP_HEADER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(exchange::verify(
        &provider_key,
        &exchange::response_message(
            200,
            "nonce-0000000000000001",
            &bytes,
            at,
            &exchange::MemberId::parse(&provider).unwrap()
        ),
        headers[exchange::SIGNATURE_HEADER].to_str().unwrap(),
    ));

    let refused = |(status, body, _): (u16, Value, reqwest::header::HeaderMap)| {
        (
            status,
            body["code"].as_str().unwrap_or_default().to_owned(),
            body,
        )
    };
    // Unsigned.
    let response = t.client.get(t.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unsigned");
    assert!(
        body["title"]
            .as_str()
            .unwrap()
            .contains("x-exchange-client"),
        "{body}"
    );
    assert!(!body["title_vi"].as_str().unwrap().is_empty());
    // Signed with another key.
    let (status, code, _) = refused(
        signed_call(
            &t,
            &MemberKey::from_seed([1; 32]),
            client,
            path,
            now,
            "nonce-0000000000000002",
        )
        .await,
    );
    assert_eq!((status, code.as_str()), (401, "bad_signature"));
    // The same nonce again.
    let (status, code, _) =
        refused(signed_call(&t, &key, client, path, now, "nonce-0000000000000001").await);
    assert_eq!((status, code.as_str()), (409, "replayed"));
    // Ten minutes old.
    let (status, code, body) =
        refused(signed_call(&t, &key, client, path, now - 600, "nonce-0000000000000003").await);
    assert_eq!((status, code.as_str()), (401, "stale_timestamp"), "{body}");
    // A service it has no grant for.
    let (status, code, _) = refused(
        signed_call(
            &t,
            &key,
            client,
            "/exchange/v1/dossier-status?code=x",
            now,
            "nonce-0000000000000004",
        )
        .await,
    );
    assert_eq!((status, code.as_str()), (403, "not_granted"));
    // Not a member.
    let (status, code, _) = refused(
        signed_call(
            &t,
            &key,
            "000.00.00.H50/la",
            path,
            now,
            "nonce-0000000000000005",
        )
        .await,
    );
    assert_eq!((status, code.as_str()), (401, "unknown_client"));
    // A national service on a provincial instance.
    let (status, code, _) = refused(
        signed_call(
            &t,
            &key,
            client,
            "/exchange/v1/sync-push",
            now,
            "nonce-0000000000000006",
        )
        .await,
    );
    assert_eq!((status, code.as_str()), (404, "unknown_service"));

    // Each is in the log with its outcome; the figures count the calls and the errors.
    let auditor = token(&t, "demo-auditor").await;
    let (status, page) = get(&t, "/api/v1/exchange/log?limit=100", &auditor).await;
    assert_eq!(status, 200, "{page}");
    let mut outcomes: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    outcomes.sort_unstable();
    assert_eq!(
        outcomes,
        [
            "bad_signature",
            "not_granted",
            "ok",
            "replayed",
            "stale_timestamp",
            "unknown_client",
            "unknown_service",
            "unsigned"
        ]
    );
    let (status, figures) = get(&t, "/api/v1/exchange/figures", &auditor).await;
    assert_eq!(status, 200, "{figures}");
    let procedure = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["service"] == "procedure" && f["client"] == client)
        .unwrap();
    assert_eq!(procedure["calls"], 4, "{figures}");
    assert_eq!(procedure["errors"], 3, "{figures}");
    // A citizen reads none of it.
    let (status, _) = get(&t, "/api/v1/exchange/log", &token(&t, "demo-citizen").await).await;
    assert_eq!(status, 403);
    // The chain holds, and an edited entry is found.
    let (_, report) = get(&t, "/api/v1/exchange/log/verify", &auditor).await;
    assert!(report["broken"].is_null(), "{report}");
    crate::dossiers::tamper(
        &t.database_url,
        "UPDATE exchange_log SET status = 200 WHERE seq = 2",
    )
    .await;
    let (_, report) = get(&t, "/api/v1/exchange/log/verify", &auditor).await;
    assert_eq!(report["broken"][0], 2, "{report}");
}

on_both_backends!(a_result_is_signed_and_its_qr_page_detects_a_changed_file);
async fn a_result_is_signed_and_its_qr_page_detects_a_changed_file(db: Db) {
    let (t, ()) = spawn_configured(db, true, async |_, _| ()).await;
    let citizen = token(&t, "demo-citizen").await;
    let code = submit(&t, &citizen).await;
    carry_through(&t, &code).await;
    let (status, results) = get(&t, &format!("/api/v1/dossiers/{code}/results"), &citizen).await;
    assert_eq!(status, 200, "{results}");
    let result = &results[0];
    assert_eq!(result["file_name"], "ket-qua.pdf");
    let url = result["verify_url"].as_str().unwrap();
    let path = &url[url.find("/verify/").unwrap()..];
    // Someone else's dossier's results are not shown.
    let (status, _) = get(
        &t,
        &format!("/api/v1/dossiers/{code}/results"),
        &token(&t, "demo-citizen-2").await,
    )
    .await;
    assert_eq!(status, 404);

    let (status, page) = t.text(path).await;
    assert_eq!(status, 200);
    assert!(page.contains("Chữ ký hợp lệ"), "{page}");
    assert!(page.contains(&code));
    assert!(
        page.contains(&documents_qr(url)),
        "the page shows the QR code of its own address"
    );

    let check = async |content: &[u8]| {
        let part = reqwest::multipart::Part::bytes(content.to_vec()).file_name("ket-qua.pdf");
        let response = t
            .client
            .post(t.url(path))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let (status, page) = check(PDF).await;
    assert_eq!(status, 200);
    assert!(page.contains("không bị thay đổi"), "{page}");
    let mut changed = PDF.to_vec();
    changed[10] ^= 1;
    let (status, page) = check(&changed).await;
    assert_eq!(status, 422);
    assert!(page.contains("đã bị thay đổi"), "{page}");

    // A signature row edited in the database no longer passes.
    crate::dossiers::tamper(
        &t.database_url,
        &format!("UPDATE result_signatures SET file_name = 'khac.pdf' WHERE dossier = '{code}'"),
    )
    .await;
    let (_, page) = t.text(path).await;
    assert!(page.contains("KHÔNG hợp lệ"), "{page}");
    let (status, _) = t.text("/verify/unknown").await;
    assert_eq!(status, 404);
}

fn documents_qr(url: &str) -> String {
    documents::qr_svg(url).unwrap()
}
