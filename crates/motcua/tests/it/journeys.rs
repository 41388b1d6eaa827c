//! The lifecycle's journeys end to end over HTTP: a citizen in the browser (sign-in, e-form,
//! draft, files, receipt), officials across two levels (liên thông), the notices, ratings,
//! and the bad inputs, each on both backends.

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::dossiers::{PDF, act, generic_form, get, post, token, try_act, try_upload, upload};
use crate::support::{Db, TestApp, on_both_backends, spawn};

const WARD: &str = "001.00.00.H31";
const HOME_AFFAIRS: &str = "000.00.03.H31";
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H',
];

/// A browser: keeps cookies, does not follow redirects (the tests look at them).
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) async fn sign_in(
    t: &TestApp,
    browser: &reqwest::Client,
    user: &str,
    password: &str,
) -> u16 {
    let response = form_post(t, browser, "/signin")
        .await
        .form(&[
            ("username", user),
            ("password", password),
            ("next", "/dossiers"),
        ])
        .send()
        .await
        .unwrap();
    let to_second_factor = response
        .headers()
        .get("location")
        .is_some_and(|l| l.to_str().unwrap().starts_with("/signin/second-factor"));
    if !to_second_factor {
        return response.status().as_u16();
    }
    // Officials: the demo authenticator's code. A code is accepted once, so a second sign-in
    // in the same 30 seconds uses the next step's code (accepted within one step of drift).
    let now = chrono::Utc::now().timestamp();
    let mut status = 0;
    for at in [now, now + 30] {
        let code = app::totp(app::DEMO_TOTP_SECRET, user)
            .unwrap()
            .generate(at as u64);
        status = form_post(t, browser, "/signin/second-factor")
            .await
            .form(&[("code", code.as_str()), ("next", "/dossiers")])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 303 {
            break;
        }
    }
    status
}

/// The anti-forgery token the portal puts in this browser's forms, read off a page (none
/// before the browser has a session or a pending sign-in).
pub(crate) async fn csrf(t: &TestApp, browser: &reqwest::Client) -> Option<String> {
    let (_, html) = page(t, browser, "/signin").await;
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// A form post as the browser sends it from the portal's page: with the page's token.
pub(crate) async fn form_post(
    t: &TestApp,
    browser: &reqwest::Client,
    path: &str,
) -> reqwest::RequestBuilder {
    let request = browser.post(t.url(path));
    match csrf(t, browser).await {
        Some(token) => request.header("x-csrf-token", token),
        None => request,
    }
}

/// Posts a form from the browser and gives the status and the page that came back.
pub(crate) async fn post_form(
    t: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let response = form_post(t, browser, path)
        .await
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

pub(crate) async fn page(t: &TestApp, browser: &reqwest::Client, path: &str) -> (u16, String) {
    let response = browser.get(t.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The birth registration e-form, filled in as a person would.
pub(crate) fn birth_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("agency", WARD),
        ("channel", "online"),
        ("nguoi_yeu_cau", "Nguyễn Văn An"),
        ("so_dinh_danh", "031201001234"),
        ("dien_thoai", "0912345678"),
        ("quan_he", "Cha"),
        ("ho_ten_tre", "Nguyễn Minh Khôi"),
        ("ngay_sinh_tre", "2026-11-01"),
        ("gioi_tinh", "Nam"),
        ("noi_sinh", "Bệnh viện Phụ sản Hải Phòng"),
        ("ho_ten_me", "Trần Thị Bình"),
    ]
}

pub(crate) fn multipart(fields: &[(&str, &str)], files: Vec<(&str, &str, &[u8])>) -> Form {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    for (name, file_name, content) in files {
        form = form.part(
            name.to_owned(),
            Part::bytes(content.to_vec()).file_name(file_name.to_owned()),
        );
    }
    form
}

on_both_backends!(a_citizen_applies_in_the_browser);
async fn a_citizen_applies_in_the_browser(db: Db) {
    let t = spawn(db, true).await;
    let b = browser();

    // Pages that need a person send the visitor to sign in, and back afterwards.
    let response = b.get(t.url("/dossiers")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/signin?next=%2Fdossiers");
    assert_eq!(sign_in(&t, &b, "demo-citizen", "wrong").await, 401);
    let (_, signin) = page(&t, &b, "/signin").await;
    assert!(signin.contains("Mật khẩu"));
    assert_eq!(sign_in(&t, &b, "demo-citizen", "demo").await, 303);

    // The procedure page leads to the e-form, which comes from the procedure's JSON Schema,
    // with its documents.
    let (_, procedure) = page(&t, &b, "/procedures/1.001193").await;
    assert!(procedure.contains("href=\"/procedures/1.001193/apply\""));
    let (status, form) = page(&t, &b, "/procedures/1.001193/apply").await;
    assert_eq!(status, 200);
    assert!(form.contains("Họ, chữ đệm, tên của trẻ") && form.contains("Giấy chứng sinh"));

    // Mistakes: a required field left out, a bad ID number, a PNG named .pdf. Each is named
    // next to its field, in Vietnamese.
    let mut fields = birth_form();
    fields.retain(|(k, _)| *k != "ho_ten_tre");
    fields.retain(|(k, _)| *k != "so_dinh_danh");
    fields.push(("so_dinh_danh", "12345"));
    fields.push(("intent", "submit"));
    let response = form_post(&t, &b, "/procedures/1.001193/apply")
        .await
        .multipart(multipart(
            &fields,
            vec![("doc-0", "giay-chung-sinh.pdf", PNG)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Họ, chữ đệm, tên của trẻ: bắt buộc nhập"),
        "{html}"
    );
    assert!(html.contains("12 chữ số trên thẻ căn cước"));
    assert!(html.contains("tên tệp có đuôi .pdf nhưng nội dung là image/png"));
    assert!(
        html.contains("value=\"Trần Thị Bình\""),
        "what was typed is kept"
    );

    // A draft keeps a half-filled form; it is listed and opens filled in.
    let mut half = birth_form();
    half.truncate(4);
    half.push(("intent", "draft"));
    let response = form_post(&t, &b, "/procedures/1.001193/apply")
        .await
        .multipart(multipart(&half, vec![("doc-0", "ban-nhap.pdf", PDF)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let (_, mine) = page(&t, &b, "/dossiers?saved=1").await;
    assert!(mine.contains("Đã lưu bản nháp") && mine.contains("Thủ tục đăng ký khai sinh"));
    let draft_link = mine
        .split("href=\"")
        .find(|s| s.starts_with("/procedures/1.001193/apply?draft="))
        .and_then(|s| s.split('"').next())
        .expect("a link to the draft")
        .to_owned();
    let draft_id = draft_link.rsplit('=').next().unwrap().to_owned();
    let (_, reopened) = page(&t, &b, &draft_link).await;
    assert!(reopened.contains("value=\"Nguyễn Văn An\""));
    assert!(
        reopened.contains("value=\"031201001234\""),
        "the draft opens as typed"
    );
    let stored = crate::dossiers::read_column(&t.database_url, "SELECT form FROM drafts").await;
    assert!(
        !stored[0].contains("031201001234"),
        "its identification number is sealed at rest: {}",
        stored[0]
    );
    assert!(
        reopened.contains("ban-nhap.pdf"),
        "the draft keeps its file"
    );
    assert!(reopened.contains(&format!("value=\"{draft_id}\"")));

    // Submitting the completed draft with its document gives a dossier and a receipt.
    let mut complete = birth_form();
    complete.push(("draft", &draft_id));
    complete.push(("intent", "submit"));
    let response = form_post(&t, &b, "/procedures/1.001193/apply")
        .await
        .multipart(multipart(
            &complete,
            vec![("doc-0", "giay-chung-sinh.pdf", PDF)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/dossiers/{WARD}-")),
        "{location}"
    );
    let code = location
        .trim_start_matches("/dossiers/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let (_, dossier) = page(&t, &b, &location).await;
    assert!(dossier.contains("Mới đăng ký") && dossier.contains("giay-chung-sinh.pdf"));
    let (_, mine) = page(&t, &b, "/dossiers").await;
    assert!(
        mine.contains(&code) && !mine.contains(&draft_id),
        "the draft is gone"
    );

    // The receipt: a printable page with a QR code that opens the public lookup, and a PDF.
    let (status, receipt) = page(&t, &b, &format!("/dossiers/{code}/print/receipt")).await;
    assert_eq!(status, 200);
    assert!(receipt.contains("PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"));
    assert!(receipt.contains("<svg"), "the QR code");
    let lookup = receipt
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|href| href.contains("/lookup?code="))
        .expect("the lookup address")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let path = lookup.trim_start_matches(&t.base);
    let (status, public) = t.text(path).await;
    assert_eq!(status, 200, "{lookup}");
    assert!(public.contains("Mới đăng ký") && !public.contains("Nguyễn Minh Khôi"));
    let pdf = b
        .get(t.url(&format!("/dossiers/{code}/print/receipt.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));

    // Another citizen sees none of it, and a form posted from another site is refused.
    let other = browser();
    assert_eq!(sign_in(&t, &other, "demo-citizen-2", "demo").await, 303);
    assert_eq!(page(&t, &other, &format!("/dossiers/{code}")).await.0, 404);
    assert_eq!(
        page(&t, &other, &format!("/dossiers/{code}/print/receipt.pdf"))
            .await
            .0,
        404
    );
    let forged = form_post(&t, &b, &format!("/dossiers/{code}/act"))
        .await
        .header("origin", "https://evil.example")
        .multipart(multipart(
            &[("action", "withdraw"), ("version", "1")],
            vec![],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // The reception officer finds it in the queue and receives it in the browser.
    let officer = browser();
    assert_eq!(sign_in(&t, &officer, "demo-reception", "demo").await, 303);
    let (_, queue) = page(&t, &officer, "/dossiers").await;
    assert!(queue.contains(&code));
    let received = form_post(&t, &officer, &format!("/dossiers/{code}/act"))
        .await
        .multipart(multipart(
            &[("action", "receive"), ("version", "1")],
            vec![],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(received.status(), 303);
    let (_, dossier) = page(&t, &officer, &format!("/dossiers/{code}")).await;
    assert!(dossier.contains("Được tiếp nhận") && dossier.contains("Hẹn trả kết quả"));
    let stale = form_post(&t, &officer, &format!("/dossiers/{code}/act"))
        .await
        .multipart(multipart(
            &[("action", "refuse"), ("version", "1"), ("reason", "x")],
            vec![],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409, "a decision on an old version");
    let (status, sheet) = page(
        &t,
        &officer,
        &format!("/dossiers/{code}/print/control-sheet"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        sheet.contains("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ")
            && sheet.contains("Tiếp nhận hồ sơ")
    );
    assert_eq!(
        page(&t, &b, &format!("/dossiers/{code}/print/control-sheet"))
            .await
            .0,
        404,
        "the control sheet is for officials"
    );
    assert_eq!(t.app.verify_audit().await.unwrap().first_error, None);
}

on_both_backends!(officials_carry_a_dossier_across_levels);
async fn officials_carry_a_dossier_across_levels(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let reception = token(&t, "demo-reception").await;
    let ward_handler = token(&t, "demo-handler").await;
    let province_handler = token(&t, "demo-handler-province").await;
    let province_approver = token(&t, "demo-approver-province").await;

    // 1.010824 goes from the ward to the Department of Home Affairs (liên thông). It is
    // applied for in person: the reception officer enters it for the citizen.
    let (_, service) = t.json("/api/v1/procedures/1.010824/service").await;
    assert_eq!(service["designed"], true);
    assert_eq!(service["steps"][1]["level"], "province");
    let body = json!({
        "procedure": "1.010824", "agency": WARD, "channel": "in_person",
        "applicant": "demo-citizen", "form": generic_form()
    });
    let (status, submitted) = post(&t, "/api/v1/dossiers", &reception, body, None).await;
    assert_eq!(status, 201, "{submitted}");
    assert_eq!(submitted["dossier"]["applicant"], "demo-citizen");
    let code = submitted["dossier"]["code"].as_str().unwrap().to_owned();
    let received = act(&t, &reception, &code, "receive", json!({"version": 1})).await;
    let due = received["due_at"].as_str().unwrap().to_owned();

    // The next step is at province level: the handler must name an agency there.
    let (status, problem) = try_act(
        &t,
        &ward_handler,
        &code,
        "complete_step",
        json!({"version": 2}),
    )
    .await;
    assert_eq!(
        (status, problem["invalid_params"][0]["name"].as_str()),
        (400, Some("to_agency"))
    );
    let (status, problem) = try_act(
        &t,
        &ward_handler,
        &code,
        "complete_step",
        json!({"version": 2, "to_agency": "002.00.00.H31"}),
    )
    .await;
    assert_eq!(
        status, 400,
        "a commune is not the province level: {problem}"
    );
    let moved = act(
        &t,
        &ward_handler,
        &code,
        "complete_step",
        json!({"version": 2, "to_agency": HOME_AFFAIRS}),
    )
    .await;
    assert_eq!(moved["agency"], HOME_AFFAIRS);
    assert_eq!(moved["due_at"], due.as_str(), "the clock goes on");
    assert_eq!(
        get(&t, &format!("/api/v1/dossiers/{code}"), &ward_handler)
            .await
            .0,
        404,
        "the ward no longer holds it"
    );

    // The department assesses; its director approves with the result document; the dossier
    // goes back to the ward's one-stop shop, which returns it.
    let (status, _) = try_act(
        &t,
        &province_approver,
        &code,
        "resolve",
        json!({"version": 3}),
    )
    .await;
    assert_eq!(status, 409, "the assessment step comes first");
    act(
        &t,
        &province_handler,
        &code,
        "complete_step",
        json!({"version": 3}),
    )
    .await;
    let (status, _) = try_act(
        &t,
        &province_handler,
        &code,
        "complete_step",
        json!({"version": 4}),
    )
    .await;
    assert_eq!(status, 409, "the last step is the approver's");
    let decision = upload(&t, &province_approver, "quyet-dinh.pdf", PDF).await;
    let resolved = act(
        &t,
        &province_approver,
        &code,
        "resolve",
        json!({"version": 4, "attachments": [{"document": "result", "upload": decision}]}),
    )
    .await;
    assert_eq!(
        (
            resolved["national_status"].as_u64(),
            resolved["agency"].as_str()
        ),
        (Some(9), Some(WARD))
    );
    let returned = act(
        &t,
        &reception,
        &code,
        "return",
        json!({"version": 5, "return_method": "postal"}),
    )
    .await;
    assert_eq!(returned["national_status"], 10);

    // The citizen rates the service once.
    let (status, problem) = try_act(&t, &citizen, &code, "rate", json!({"version": 6})).await;
    assert_eq!(
        (status, problem["invalid_params"][0]["name"].as_str()),
        (400, Some("satisfaction"))
    );
    let rated = act(
        &t,
        &citizen,
        &code,
        "rate",
        json!({"version": 6, "satisfaction": "very_satisfied", "comment": "Nhanh, đúng hẹn"}),
    )
    .await;
    assert_eq!(
        (rated["rated"].as_bool(), rated["national_status"].as_u64()),
        (Some(true), Some(10))
    );
    let (status, _) = try_act(
        &t,
        &citizen,
        &code,
        "rate",
        json!({"version": 7, "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(status, 409, "once");

    let (_, full) = get(&t, &format!("/api/v1/dossiers/{code}"), &citizen).await;
    let events = full["events"].as_array().unwrap();
    assert_eq!(events[2]["payload"]["to_agency"], HOME_AFFAIRS);
    assert_eq!(events[4]["payload"]["to_agency"], WARD);
    assert_eq!(events[4]["payload"]["attachments"][0]["document"], "result");
    assert_eq!(events[6]["payload"]["satisfaction"], "very_satisfied");
    assert_eq!(t.app.verify_audit().await.unwrap().first_error, None);
}

on_both_backends!(notices_apologies_and_endings);
async fn notices_apologies_and_endings(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let reception = token(&t, "demo-reception").await;
    let handler = token(&t, "demo-handler").await;
    let application = crate::dossiers::pension_application();
    let submit = || post(&t, "/api/v1/dossiers", &citizen, application.clone(), None);

    // An apology moves the appointment, once.
    let code = submit().await.1["dossier"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let received = act(&t, &reception, &code, "receive", json!({"version": 1})).await;
    let apologised = act(
        &t,
        &handler,
        &code,
        "apologize_and_extend",
        json!({"version": 2, "reason": "Cần xác minh thêm", "extend_working_days": 3}),
    )
    .await;
    assert!(apologised["due_at"].as_str() > received["due_at"].as_str());
    let (status, _) = try_act(
        &t,
        &handler,
        &code,
        "apologize_and_extend",
        json!({"version": 3, "reason": "Lần nữa", "extend_working_days": 3}),
    )
    .await;
    assert_eq!(status, 409);
    let b = browser();
    assert_eq!(sign_in(&t, &b, "demo-citizen", "demo").await, 303);
    let (status, letter) = page(&t, &b, &format!("/dossiers/{code}/print/notice-3")).await;
    assert_eq!(status, 200);
    assert!(
        letter.contains("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ")
            && letter.contains("Cần xác minh thêm")
    );
    assert_eq!(
        page(&t, &b, &format!("/dossiers/{code}/print/notice-2"))
            .await
            .0,
        404,
        "a reception is no notice"
    );

    // A supplement request pauses the clock; the citizen supplements online with a file and a
    // corrected form, which is checked.
    act(
        &t,
        &handler,
        &code,
        "request_supplement",
        json!({"version": 3, "reason": "Bổ sung giấy tờ"}),
    )
    .await;
    let (status, problem) = try_act(
        &t,
        &citizen,
        &code,
        "supplement",
        json!({"version": 4, "form": {"ho_ten": "A"}}),
    )
    .await;
    assert_eq!(status, 400);
    let names: Vec<&str> = problem["invalid_params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"form.ho_ten") && names.contains(&"form.so_dinh_danh"),
        "{names:?}"
    );
    assert!(
        problem["invalid_params"][0]["reason_vi"]
            .as_str()
            .unwrap()
            .contains("ít nhất 2 ký tự")
    );
    let file = upload(&t, &citizen, "bo-sung.pdf", PDF).await;
    let mut corrected = generic_form();
    corrected["dia_chi"] = json!("15 Điện Biên Phủ, phường Hồng Bàng");
    let supplemented = act(
        &t,
        &citizen,
        &code,
        "supplement",
        json!({"version": 4, "form": corrected, "attachments": [{"document": "Văn bản đề nghị hưởng trợ cấp hưu trí xã hội (theo Mẫu số 01 ban hành kèm theo Nghị định số 176/2025/NĐ-CP)", "upload": file}]}),
    )
    .await;
    assert_eq!(
        supplemented["national_status"], 2,
        "back to where it paused"
    );
    assert_eq!(
        supplemented["form"]["dia_chi"],
        "15 Điện Biên Phủ, phường Hồng Bàng"
    );

    // A financial obligation: processing waits for the payment, then goes on.
    let asked = act(
        &t,
        &handler,
        &code,
        "request_payment",
        json!({"version": 5, "amount_vnd": 50000}),
    )
    .await;
    assert_eq!(asked["national_status"], 6);
    let (status, _) = try_act(&t, &handler, &code, "complete_step", json!({"version": 6})).await;
    assert_eq!(status, 409, "nothing moves until it is paid");
    let paid = act(
        &t,
        &handler,
        &code,
        "confirm_payment",
        json!({"version": 6}),
    )
    .await;
    assert_eq!(paid["national_status"], 4);

    // Refusal with its notice; withdrawal by the citizen; a stop by the handler.
    let refused = submit().await.1["dossier"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    act(
        &t,
        &reception,
        &refused,
        "refuse",
        json!({"version": 1, "reason": "Không thuộc thẩm quyền"}),
    )
    .await;
    let (_, notice) = page(&t, &b, &format!("/dossiers/{refused}/print/notice-2")).await;
    assert!(notice.contains("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"));
    let withdrawn = submit().await.1["dossier"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        act(&t, &citizen, &withdrawn, "withdraw", json!({"version": 1})).await["national_status"],
        7
    );
    let stopped = submit().await.1["dossier"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    act(&t, &reception, &stopped, "receive", json!({"version": 1})).await;
    let (status, _) = try_act(&t, &handler, &stopped, "stop", json!({"version": 2})).await;
    assert_eq!(status, 400, "a stop needs a reason");
    assert_eq!(
        act(
            &t,
            &handler,
            &stopped,
            "stop",
            json!({"version": 2, "reason": "Người nộp đã mất"})
        )
        .await["national_status"],
        8
    );
    assert_eq!(t.app.verify_audit().await.unwrap().first_error, None);
}

on_both_backends!(bad_files_and_documents_are_refused);
async fn bad_files_and_documents_are_refused(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let other = token(&t, "demo-citizen-2").await;
    let reason = |body: &Value| {
        body["invalid_params"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    let (status, body) = try_upload(&t, &citizen, "giay-chung-sinh.pdf", PNG).await;
    assert_eq!(status, 400);
    assert!(
        reason(&body).contains("ends in .pdf but the content is image/png"),
        "{body}"
    );
    assert!(
        body["invalid_params"][0]["reason_vi"]
            .as_str()
            .unwrap()
            .contains("nội dung là image/png")
    );
    let (status, body) = try_upload(
        &t,
        &citizen,
        "virus.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(reason(&body).contains("not accepted"));
    assert_eq!(try_upload(&t, &citizen, "empty.pdf", b"").await.0, 400);
    let mut big = PDF.to_vec();
    big.resize(app::MAX_UPLOAD_BYTES + 1, b' ');
    let (status, body) = try_upload(&t, &citizen, "big.pdf", &big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["invalid_params"][0]["name"], "file");

    // Submissions: a missing required document, someone else's upload, an unknown document.
    let mut body = json!({
        "procedure": "1.001193", "agency": WARD, "channel": "online",
        "form": {"nguoi_yeu_cau": "Nguyễn Văn An", "so_dinh_danh": "031201001234",
                 "dien_thoai": "0912345678", "quan_he": "Cha", "ho_ten_tre": "Nguyễn Minh Khôi",
                 "ngay_sinh_tre": "2026-11-01", "gioi_tinh": "Nam", "noi_sinh": "Hải Phòng",
                 "ho_ten_me": "Trần Thị Bình"}
    });
    let (status, problem) = post(&t, "/api/v1/dossiers", &citizen, body.clone(), None).await;
    assert_eq!(status, 400);
    assert!(
        reason(&problem).starts_with("missing document: Giấy chứng sinh"),
        "{problem}"
    );
    let theirs = upload(&t, &other, "giay-chung-sinh.pdf", PDF).await;
    let document = "Giấy chứng sinh (hoặc văn bản của người làm chứng, giấy cam đoan về việc sinh)";
    body["attachments"] = json!([{"document": document, "upload": theirs}]);
    let (status, problem) = post(&t, "/api/v1/dossiers", &citizen, body.clone(), None).await;
    assert_eq!(
        (status, problem["invalid_params"][0]["name"].as_str()),
        (400, Some("attachments[0].upload"))
    );
    let mine = upload(&t, &citizen, "giay-chung-sinh.pdf", PDF).await;
    body["attachments"] = json!([{"document": "Hộ chiếu", "upload": mine}]);
    let (status, problem) = post(&t, "/api/v1/dossiers", &citizen, body.clone(), None).await;
    assert_eq!(
        (status, problem["invalid_params"][0]["name"].as_str()),
        (400, Some("attachments[0].document"))
    );
    body["form"]["ngay_sinh_tre"] = json!("31/02/2026");
    body["attachments"] = json!([{"document": document, "upload": mine}]);
    let (status, problem) = post(&t, "/api/v1/dossiers", &citizen, body.clone(), None).await;
    assert_eq!(
        (status, problem["invalid_params"][0]["name"].as_str()),
        (400, Some("form.ngay_sinh_tre"))
    );

    // The good submission uses the upload; a second dossier cannot take it again.
    body["form"]["ngay_sinh_tre"] = json!("2026-11-01");
    let (status, ok) = post(&t, "/api/v1/dossiers", &citizen, body.clone(), None).await;
    assert_eq!(status, 201, "{ok}");
    let (status, problem) = post(&t, "/api/v1/dossiers", &citizen, body, None).await;
    assert_eq!(status, 400);
    assert!(reason(&problem).contains("already a document of another dossier"));
    let report = t.app.verify_audit().await.unwrap();
    assert_eq!(
        (report.dossiers, report.events, report.first_error),
        (1, 1, None)
    );
}

on_both_backends!(a_citizen_takes_a_document_from_the_data_warehouse);
async fn a_citizen_takes_a_document_from_the_data_warehouse(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let earlier = crate::stats::submit(&t, &citizen).await;
    crate::exchange::carry_through(&t, &earlier).await;

    // The warehouse holds the e-result of the earlier dossier, and only the citizen's own.
    let (status, items) = get(&t, "/api/v1/warehouse", &citizen).await;
    assert_eq!(status, 200, "{items}");
    let result = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["is_result"] == true)
        .unwrap_or_else(|| panic!("an e-result in {items}"));
    assert_eq!(result["dossier"], earlier.as_str());
    let source = result["id"].as_str().unwrap().to_owned();
    let (status, others) = get(&t, "/api/v1/warehouse", &token(&t, "demo-citizen-2").await).await;
    assert_eq!((status, others), (200, json!([])));
    let (status, _) = post(
        &t,
        &format!("/api/v1/warehouse/{source}/reuse"),
        &token(&t, "demo-citizen-2").await,
        json!({}),
        None,
    )
    .await;
    assert_eq!(status, 404, "another citizen cannot take it");
    let (status, _) = get(&t, "/api/v1/warehouse", &token(&t, "demo-reception").await).await;
    assert_eq!(status, 403);

    // In the e-form, the document is taken from the warehouse instead of uploaded.
    let b = browser();
    assert_eq!(sign_in(&t, &b, "demo-citizen", "demo").await, 303);
    let (_, form) = page(&t, &b, "/procedures/1.001193/apply").await;
    assert!(
        form.contains("name=\"reuse-0\"") && form.contains(&format!("value=\"{source}\"")),
        "{form}"
    );
    let mut fields = birth_form();
    fields.push(("intent", "submit"));
    fields.push(("reuse-0", &source));
    let response = form_post(&t, &b, "/procedures/1.001193/apply")
        .await
        .multipart(multipart(&fields, vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let code = location
        .trim_start_matches("/dossiers/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let (_, dossier) = page(&t, &b, &location).await;
    assert!(
        dossier.contains("ket-qua.pdf"),
        "the reused file is the dossier's"
    );
    // The submission's event, in the hash chain, records where the document came from.
    let payloads = crate::dossiers::read_column(
        &t.database_url,
        &format!(
            "SELECT payload FROM dossier_events WHERE dossier_code = '{code}' AND sequence = 1"
        ),
    )
    .await;
    assert!(
        payloads[0].contains(&format!("\"reused_from\":\"{earlier}\"")),
        "{}",
        payloads[0]
    );

    // Through the API too: the copy is an upload like any other.
    let (status, copy) = post(
        &t,
        &format!("/api/v1/warehouse/{source}/reuse"),
        &citizen,
        json!({}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(copy["file_name"], "ket-qua.pdf");
    assert_eq!(copy["sha256"], result_sha(&t, &source).await);
}

async fn result_sha(t: &TestApp, id: &str) -> String {
    crate::dossiers::read_column(
        &t.database_url,
        &format!("SELECT sha256 FROM attachments WHERE id = '{id}'"),
    )
    .await
    .remove(0)
}
