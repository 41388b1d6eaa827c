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
    // The public page shows the same, by province and for the country.
    let (status, page) = nation.text("/national").await;
    assert_eq!(status, 200);
    assert!(page.contains("Hải Phòng (000.00.00.H31/motcua)"), "{page}");
    assert!(page.contains("Cả nước"), "{page}");
    let cells: Vec<&str> = page
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| c.split('<').next().unwrap())
        .collect();
    // From received to withdrawn, the page's columns.
    let row: Vec<String> = domain::sync::NATIONAL_METRICS[1..7]
        .iter()
        .map(|metric| figures[metric].as_i64().unwrap().to_string())
        .collect();
    assert_eq!(&cells[..6], &row, "the province's row: {page}");
    assert_eq!(&cells[7..13], &row, "the country's row: {page}");
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
    let auditor = token(&nation, "demo-auditor").await;
    let calls = async || {
        let (_, page) = get(&nation, "/api/v1/exchange/log?limit=1", &auditor).await;
        page["head_seq"].as_i64().unwrap()
    };
    let before = calls().await;
    crate::dossiers::tamper(
        &province.database_url,
        "UPDATE federation_push SET cursor = 0",
    )
    .await;
    for _ in 0..100 {
        if calls().await > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(calls().await > before, "the province pushed again");
    let again = national_figures(&nation, 6).await;
    assert_eq!(again["received"], 5, "{again}");
    assert_eq!(again["returned"], 2, "{again}");

    // Every push is in the national message log, whose chain holds.
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
    let provider = exchange::MemberId::parse(&t.app.exchange_identity().unwrap().0).unwrap();
    let message = exchange::RequestText {
        method: "GET",
        path,
        body: b"",
        timestamp: at,
        nonce,
        client: &member,
        provider: &provider,
    }
    .message();
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
    // On another node of the same database too, which has not seen it in memory.
    let node = crate::support::spawn_node(&t, |_| ()).await;
    let (status, code, _) =
        refused(signed_call(&node, &key, client, path, now, "nonce-0000000000000001").await);
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

on_both_backends!(a_citizen_brings_a_result_from_another_agency_with_consent);
async fn a_citizen_brings_a_result_from_another_agency_with_consent(db: Db) {
    const ISSUER: &str = "000.00.00.H49/motcua";
    let (issuer, ()) = spawn_configured(db, true, async |config, _| {
        config.exchange.agency = Some("000.00.00.H49".into());
    })
    .await;
    let (home, ()) = spawn_configured(db, true, async |config, _| {
        config.exchange.agency = Some("000.00.00.H31".into());
    })
    .await;
    let (issuer_id, issuer_key) = issuer.app.exchange_identity().unwrap();
    let (home_id, home_key) = home.app.exchange_identity().unwrap();
    assert_eq!(issuer_id, ISSUER);
    home.app
        .put_member(ISSUER, "Quảng Nam", &issuer_key, &issuer.base)
        .await
        .unwrap();
    issuer
        .app
        .put_member(&home_id, "Hải Phòng", &home_key, &home.base)
        .await
        .unwrap();

    // The result was issued in the other province.
    let elsewhere = submit(&issuer, &token(&issuer, "demo-citizen").await).await;
    carry_through(&issuer, &elsewhere).await;
    let (_, results) = get(
        &issuer,
        &format!("/api/v1/dossiers/{elsewhere}/results"),
        &token(&issuer, "demo-citizen").await,
    )
    .await;
    let result = results[0]["id"].as_str().unwrap().to_owned();

    let citizen = token(&home, "demo-citizen").await;
    let fetch = async |body: Value| {
        crate::dossiers::post(&home, "/api/v1/warehouse/fetch", &citizen, body, None).await
    };
    let (status, problem) = fetch(json!({"member": ISSUER, "result": result})).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["invalid_params"][0]["name"], "consent");
    // Without a grant the issuer refuses, and says why.
    let (status, problem) =
        fetch(json!({"member": ISSUER, "result": result, "consent": true})).await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("result-file"),
        "{problem}"
    );
    issuer
        .app
        .put_grant("result-file", &home_id, "test")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _) =
        fetch(json!({"member": ISSUER, "result": "0".repeat(32), "consent": true})).await;
    assert_eq!(status, 404);
    let (status, copy) = fetch(json!({"member": ISSUER, "result": result, "consent": true})).await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(copy["file_name"], "ket-qua.pdf");

    // It goes into a dossier at home like any upload, which records where it came from.
    let birth = json!({
        "procedure": "1.001193", "agency": "001.00.00.H31", "channel": "online",
        "form": {"nguoi_yeu_cau": "Nguyễn Văn An", "so_dinh_danh": "031201001234",
                 "dien_thoai": "0912345678", "quan_he": "Cha", "ho_ten_tre": "Nguyễn Minh Khôi",
                 "ngay_sinh_tre": "2026-11-01", "gioi_tinh": "Nam",
                 "noi_sinh": "Bệnh viện Phụ sản Hải Phòng", "ho_ten_me": "Trần Thị Bình"},
        "attachments": [{
            "document": "Giấy chứng sinh (hoặc văn bản của người làm chứng, giấy cam đoan về việc sinh)",
            "upload": copy["id"],
        }],
    });
    let (status, body) =
        crate::dossiers::post(&home, "/api/v1/dossiers", &citizen, birth, None).await;
    assert_eq!(status, 201, "{body}");
    let code = body["dossier"]["code"].as_str().unwrap();
    let payloads = crate::dossiers::read_column(
        &home.database_url,
        &format!(
            "SELECT payload FROM dossier_events WHERE dossier_code = '{code}' AND sequence = 1"
        ),
    )
    .await;
    assert!(
        payloads[0].contains(&format!("{ISSUER} {elsewhere}")),
        "{}",
        payloads[0]
    );
    // The issuer logged each call of the home instance, the refused one too.
    let (_, page) = get(
        &issuer,
        "/api/v1/exchange/log?limit=100",
        &token(&issuer, "demo-auditor").await,
    )
    .await;
    let outcomes: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["client"] == home_id.as_str())
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["ok", "error", "not_granted"],
        "newest first: {page}"
    );

    // In the e-form: the other agency is offered; without consent nothing is fetched and the
    // error stands by the document, with what was typed kept; with consent the result is in.
    use crate::journeys::{birth_form, browser, form_post, multipart, page as visit, sign_in};
    let b = browser();
    assert_eq!(sign_in(&home, &b, "demo-citizen", "demo").await, 303);
    let (_, form) = visit(&home, &b, "/procedures/1.001193/apply").await;
    assert!(
        form.contains(&format!("<option value=\"{ISSUER}\">")),
        "{form}"
    );
    let apply = async |consent: bool| {
        let mut fields = birth_form();
        fields.extend([
            ("intent", "submit"),
            ("fetch-member-0", ISSUER),
            ("fetch-result-0", result.as_str()),
        ]);
        if consent {
            fields.push(("fetch-consent-0", "yes"));
        }
        let response = form_post(&home, &b, "/procedures/1.001193/apply")
            .await
            .multipart(multipart(&fields, vec![]))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (status, location, response.text().await.unwrap())
    };
    let (status, _, page_text) = apply(false).await;
    assert_eq!(status, 400);
    assert!(
        page_text.contains("id=\"doc-0-error\"") && page_text.contains("đồng ý"),
        "{page_text}"
    );
    assert!(
        page_text.contains(&format!("value=\"{result}\"")),
        "the result id typed is kept"
    );
    let (status, location, body) = apply(true).await;
    assert_eq!(status, 303, "{body}");
    let (_, dossier) = visit(&home, &b, &location.unwrap()).await;
    assert!(dossier.contains("ket-qua.pdf"), "{dossier}");
}

on_both_backends!(the_operator_registers_members_and_calls_services_from_the_command_line);
async fn the_operator_registers_members_and_calls_services_from_the_command_line(db: Db) {
    let (provider, ()) = spawn_configured(db, true, async |_, _| ()).await;
    let (caller, ()) = spawn_configured(db, true, async |config, _| {
        config.exchange.agency = Some("000.00.00.H49".into());
    })
    .await;
    // Run beside the test's runtime, which serves both instances meanwhile.
    let cli = async |t: &TestApp, args: &[&str]| {
        let mut command = crate::support::motcua(&t.data_dir, &t.database_url);
        let agency = if t.base == caller.base {
            "000.00.00.H49"
        } else {
            "000.00.00.H31"
        };
        command.env("MOTCUA_EXCHANGE__AGENCY", agency).args(args);
        let out = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, identity, err) = cli(&caller, &["exchange", "identity"]).await;
    assert!(ok, "{err}");
    let (member, key) = identity.trim().split_once(' ').unwrap();
    assert_eq!(member, "000.00.00.H49/motcua");
    assert_eq!(
        (member.to_owned(), key.to_owned()),
        caller.app.exchange_identity().unwrap()
    );

    // A bad key is named, and nothing is written.
    let (ok, _, err) = cli(
        &provider,
        &[
            "exchange",
            "add-member",
            member,
            "--name",
            "Quảng Nam",
            "--public-key",
            "abc",
        ],
    )
    .await;
    assert!(!ok && err.contains("public_key"), "{err}");
    let (ok, _, err) = cli(
        &provider,
        &[
            "exchange",
            "add-member",
            member,
            "--name",
            "Quảng Nam",
            "--public-key",
            key,
        ],
    )
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&provider, &["exchange", "grant", "procedure", member]).await;
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&provider, &["exchange", "grant", "everything", member]).await;
    assert!(!ok && err.contains("service"), "{err}");

    let (provider_id, provider_key) = provider.app.exchange_identity().unwrap();
    let (ok, _, err) = cli(
        &caller,
        &[
            "exchange",
            "add-member",
            &provider_id,
            "--name",
            "Hải Phòng",
            "--public-key",
            &provider_key,
            "--url",
            &provider.base,
        ],
    )
    .await;
    assert!(ok, "{err}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (ok, answer, err) = cli(
        &caller,
        &[
            "exchange",
            "call",
            &provider_id,
            "procedure",
            "--query",
            "code=1.001193",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(answer.contains("\"MATTHC\": \"1.001193\""), "{answer}");
    // Not granted: the refusal comes back, signed, and the command fails.
    let (ok, answer, _) = cli(
        &caller,
        &[
            "exchange",
            "call",
            &provider_id,
            "dossier-status",
            "--query",
            "code=x",
        ],
    )
    .await;
    assert!(!ok && answer.contains("not_granted"), "{answer}");
    let (ok, report, err) = cli(&provider, &["exchange", "verify-log"]).await;
    assert!(ok, "{err}");
    assert!(report.starts_with("intact: 2 entries"), "{report}");
}
