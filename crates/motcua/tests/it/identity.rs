//! Identity: sign-in with the national e-ID through a real OpenID Connect provider (Node's
//! oidc-provider, started here), officials' second factor, lockout, sessions, the access log
//! and the security headers.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::journeys::{browser, form_post, page, sign_in};
use crate::support::{Db, TestApp, on_both_backends, spawn, spawn_configured};

const CALLBACK: &str = "/signin/eid/callback";
/// Verified in person (level 2), and checked against the population database only (level 1).
const MAI: &str = "001090000001";
const HUNG: &str = "001085000002";
/// Sends a date of birth in the wrong format.
const SAI: &str = "001099000003";

/// The provider, stopped when dropped.
struct Provider {
    issuer: String,
    _child: Child,
}

/// Starts the test OpenID Connect provider for a portal at `base`.
async fn start_provider(base: &str) -> Provider {
    let folder =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/oidc-provider");
    assert!(
        folder.join("node_modules/oidc-provider").is_dir(),
        "the test OpenID Connect provider is not installed: run `npm ci` in {} (scripts/test does)",
        folder.display()
    );
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .arg(format!("{base}{CALLBACK}"))
        .current_dir(&folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the OpenID Connect provider");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("the provider starts within 30 s")
        .unwrap()
        .expect("the provider says it is ready");
    let issuer = ready
        .strip_prefix("ready ")
        .expect("a ready line")
        .to_owned();
    // Keep reading what it prints: a closed pipe would stop it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Provider {
        issuer,
        _child: child,
    }
}

/// A portal configured to sign citizens in with the provider.
async fn spawn_with_eid(db: Db) -> (TestApp, Provider) {
    // The provider needs the portal's callback address, and the portal the provider's
    // issuer: the portal's address is known first.
    spawn_configured(db, true, async |config, base| {
        let provider = start_provider(&base).await;
        config.identity.eid = Some(app::EidSettings {
            issuer: provider.issuer.clone(),
            client_id: "motcua".into(),
            client_secret: "motcua-test-secret".into(),
            redirect_url: format!("{base}{CALLBACK}"),
            name: "VNeID (thử nghiệm)".into(),
            scopes: vec!["openid".into(), "profile".into()],
            claims: app::ClaimNames::default(),
        });
        provider
    })
    .await
}

/// The `action` of the first form of a page.
fn form_action(html: &str) -> String {
    html.split("<form")
        .nth(1)
        .and_then(|f| f.split("action=\"").nth(1))
        .and_then(|a| a.split('"').next())
        .unwrap_or_else(|| panic!("a form in {html}"))
        .replace("&amp;", "&")
}

/// Follows a sign-in from the portal's e-ID button through the provider's pages (login, then
/// consent) until the provider sends the browser back to the portal's callback; returns the
/// callback URL.
async fn through_provider(t: &TestApp, b: &reqwest::Client, person: &str) -> String {
    let response = b
        .get(t.url("/signin/eid?next=/dossiers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let mut url = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(url.contains("code_challenge_method=S256") && url.contains("nonce="));
    for _ in 0..12 {
        if url.starts_with(&t.url(CALLBACK)) {
            return url;
        }
        let response = b.get(&url).send().await.unwrap();
        let origin = response.url().origin().ascii_serialization();
        if response.status().is_redirection() {
            let next = response.headers()["location"].to_str().unwrap().to_owned();
            url = if next.starts_with("http") {
                next
            } else {
                format!("{origin}{next}")
            };
            continue;
        }
        let html = response.text().await.unwrap();
        let action = format_action(&origin, &form_action(&html));
        let fields: Vec<(&str, &str)> = if html.contains("name=\"login\"") {
            vec![("prompt", "login"), ("login", person), ("password", "x")]
        } else {
            vec![("prompt", "consent")]
        };
        let response = b.post(&action).form(&fields).send().await.unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        let next = response.headers()["location"].to_str().unwrap().to_owned();
        url = if next.starts_with("http") {
            next
        } else {
            format!("{origin}{next}")
        };
    }
    panic!("the provider never sent the browser back");
}

fn format_action(origin: &str, action: &str) -> String {
    if action.starts_with("http") {
        action.to_owned()
    } else {
        format!("{origin}{action}")
    }
}

/// Signs a person in with the e-ID; returns the callback URL that was used.
async fn eid_sign_in(t: &TestApp, b: &reqwest::Client, person: &str) -> String {
    let callback = through_provider(t, b, person).await;
    let response = b.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    assert_eq!(response.headers()["location"], "/dossiers");
    callback
}

/// The birth registration e-form through the API as the signed-in person's browser sends it.
async fn apply_in_browser(t: &TestApp, b: &reqwest::Client) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("agency", "001.00.00.H31")
        .text("channel", "online")
        .text("nguoi_yeu_cau", "Nguyễn Thị Mai")
        .text("so_dinh_danh", MAI)
        .text("dien_thoai", "0912345678")
        .text("quan_he", "Mẹ")
        .text("ho_ten_tre", "Nguyễn Minh Anh")
        .text("ngay_sinh_tre", "2026-11-01")
        .text("gioi_tinh", "Nữ")
        .text("noi_sinh", "Bệnh viện Phụ sản Hải Phòng")
        .text("ho_ten_me", "Nguyễn Thị Mai")
        .text("intent", "submit")
        .part(
            "doc-0",
            reqwest::multipart::Part::bytes(crate::dossiers::PDF.to_vec())
                .file_name("giay-chung-sinh.pdf"),
        );
    form_post(t, b, "/procedures/1.001193/apply")
        .await
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Makes the birth registration need an e-ID sign-in at level 2.
async fn require_level_2(t: &TestApp) {
    let mut designs: serde_json::Value =
        serde_json::from_slice(include_bytes!("../../../../demo/services.json")).unwrap();
    let birth = designs
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["procedure"] == "1.001193")
        .unwrap();
    birth["design"]["min_assurance"] = 2.into();
    let one = serde_json::to_vec(std::slice::from_ref(birth)).unwrap();
    t.app.import_service_designs(&one).await.unwrap();
}

on_both_backends!(a_citizen_signs_in_with_the_national_e_id);
async fn a_citizen_signs_in_with_the_national_e_id(db: Db) {
    let (t, _provider) = spawn_with_eid(db).await;
    require_level_2(&t).await;

    let b = browser();
    let (_, signin) = page(&t, &b, "/signin").await;
    assert!(signin.contains("Đăng nhập bằng VNeID (thử nghiệm)"));

    // Mai (level 2) signs in at the provider and comes back signed in.
    let callback = eid_sign_in(&t, &b, MAI).await;
    let (status, account) = page(&t, &b, "/account").await;
    assert_eq!(status, 200);
    assert!(account.contains("Nguyễn Thị Mai"), "{account}");
    assert!(account.contains("mức độ xác thực 2"));
    assert!(
        !account.contains(MAI) && account.contains("001••••••001"),
        "the personal identification number is shown masked"
    );
    assert!(account.contains("17/05/1990"));
    // Stored sealed: nothing in the users table gives the number away.
    let sealed = crate::dossiers::read_column(
        &t.database_url,
        "SELECT identity_sealed FROM users WHERE identity_sealed IS NOT NULL",
    )
    .await;
    assert_eq!(sealed.len(), 1);
    assert!(
        sealed[0].starts_with("v1.") && !sealed[0].contains(MAI),
        "{}",
        sealed[0]
    );

    // The callback cannot be replayed: its state was taken once.
    let replay = b.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), 400);
    let replay = replay.text().await.unwrap();
    assert!(replay.contains("đã hết hạn hoặc đã được dùng"), "{replay}");
    // A forged state, or an answer without a code, is refused the same way.
    let forged = b
        .get(t.url(&format!("{CALLBACK}?code=abc&state=forged")))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let cancelled = b
        .get(t.url(&format!("{CALLBACK}?error=access_denied&state=x")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 400);
    assert!(
        cancelled
            .text()
            .await
            .unwrap()
            .contains("bị hủy hoặc từ chối")
    );

    // The answer to someone else's sign-in, opened in her browser (a forged sign-in link),
    // does not sign her in to their account.
    let attacker = browser();
    let planted = through_provider(&t, &attacker, HUNG).await;
    let victim = browser();
    let response = victim.get(&planted).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("trình duyệt khác"));
    assert_eq!(page(&t, &victim, "/account").await.0, 303);

    // She submits a dossier that needs level 2.
    let response = apply_in_browser(&t, &b).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/dossiers/001.00.00.H31-"),
        "{location}"
    );

    let code = location
        .trim_start_matches("/dossiers/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    // Her account's username does not give her number away.
    let handler_token = crate::dossiers::token(&t, "demo-handler").await;
    let (_, dossier) =
        crate::dossiers::get(&t, &format!("/api/v1/dossiers/{code}"), &handler_token).await;
    let username = dossier["applicant"].as_str().unwrap().to_owned();
    assert!(
        username.starts_with("eid-") && !username.contains(MAI),
        "{username}"
    );
    // Her identification number and phone are sealed in the database, masked for the
    // handler, shown when he asks, and that asking is recorded.
    let stored = crate::dossiers::read_column(
        &t.database_url,
        &format!("SELECT form FROM dossiers WHERE code = '{code}'"),
    )
    .await;
    assert!(
        !stored[0].contains(MAI) && !stored[0].contains("0912345678"),
        "{}",
        stored[0]
    );
    assert!(
        stored[0].contains("Nguyễn Minh Anh"),
        "other fields stay readable"
    );
    assert_eq!(dossier["form"]["so_dinh_danh"], "001••••••001");
    assert_eq!(dossier["form"]["dien_thoai"], "091••••678");
    let (status, revealed) = crate::dossiers::get(
        &t,
        &format!("/api/v1/dossiers/{code}?reveal=true"),
        &handler_token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(revealed["form"]["so_dinh_danh"], MAI);
    let (status, _) = crate::dossiers::get(
        &t,
        &format!("/api/v1/dossiers/{code}?reveal=maybe"),
        &handler_token,
    )
    .await;
    assert_eq!(status, 400);
    let (_, mine) = page(&t, &b, &format!("/dossiers/{code}")).await;
    assert!(
        mine.contains(MAI) && !mine.contains("?reveal=1"),
        "her own, in the clear"
    );

    // Who accessed my data: the handler's read (through the API above) is in her account,
    // with its purpose; her own reads are not.
    let (_, account) = page(&t, &b, "/account").await;
    assert!(account.contains("Ai đã truy cập dữ liệu của tôi"));
    assert!(
        account.contains("Phạm Văn Dũng") && account.contains("Xem hồ sơ để xử lý"),
        "{account}"
    );
    assert_eq!(account.matches("Xem hồ sơ để xử lý").count(), 1);
    assert_eq!(
        account
            .matches("Xem số định danh, thông tin liên hệ")
            .count(),
        1
    );

    // An auditor withholds that record for an investigation; she no longer sees it, the
    // auditor still does, with who withheld it and why. Others may not withhold.
    let auditor = browser();
    assert_eq!(sign_in(&t, &auditor, "demo-auditor", "demo").await, 303);
    let (status, log) = page(&t, &auditor, &format!("/audit/access?subject={username}")).await;
    assert_eq!(status, 200);
    let action = log
        .split("action=\"")
        .find(|a| a.starts_with("/audit/access/"))
        .and_then(|a| a.split('"').next())
        .expect("a withhold form")
        .to_owned();
    let until = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let short = form_post(&t, &auditor, &action)
        .await
        .form(&[
            ("subject", username.as_str()),
            ("until", until.as_str()),
            ("reason", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 400, "a reason is needed");
    let handler = browser();
    assert_eq!(sign_in(&t, &handler, "demo-handler", "demo").await, 303);
    let reason = "thanh tra vụ việc số 12/2026";
    let withhold_as = async |who: &reqwest::Client| {
        form_post(&t, who, &action)
            .await
            .form(&[
                ("subject", username.as_str()),
                ("until", until.as_str()),
                ("reason", reason),
            ])
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(withhold_as(&handler).await, 403, "only auditors withhold");
    assert_eq!(withhold_as(&auditor).await, 303);
    let again = withhold_as(&auditor).await;
    assert_eq!(
        again, 409,
        "a withholding is not extended by doing it again"
    );
    let (_, account) = page(&t, &b, "/account").await;
    assert_eq!(
        account.matches("Phạm Văn Dũng").count(),
        1,
        "one of his two reads withheld from her"
    );
    assert!(!account.contains("Xem số định danh, thông tin liên hệ"));
    let (_, log) = page(&t, &auditor, &format!("/audit/access?subject={username}")).await;
    assert!(log.contains("Tạm ẩn đến") && log.contains(reason) && log.contains("demo-auditor"));

    // Hùng (level 1) signs in but may not submit it; a demo password account neither.
    let hung = browser();
    eid_sign_in(&t, &hung, HUNG).await;
    let refused = apply_in_browser(&t, &hung).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("mức độ 2"));
    let local = browser();
    assert_eq!(sign_in(&t, &local, "demo-citizen", "demo").await, 303);
    assert_eq!(apply_in_browser(&t, &local).await.status(), 403);

    // A provider that sends a malformed claim gets a clear refusal, and no account.
    let sai = browser();
    let callback = through_provider(&t, &sai, SAI).await;
    let response = sai.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("birthdate"));
    assert_eq!(page(&t, &sai, "/account").await.0, 303);

    // Without the master key that wrapped its data keys, the database does not open.
    let mut wrong = crate::support::config(&t.database_url, &t.data_dir);
    wrong.security.master_key = Some(app::MasterKey::generate().to_base64());
    let refused = motcua::server::build(&wrong, false)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{refused:#}").contains("does not open data key"),
        "{refused:#}"
    );
}

/// The code the demo authenticator shows `steps` steps from now.
fn demo_code(user: &str, steps: i64) -> String {
    let at = chrono::Utc::now().timestamp() + 30 * steps;
    app::totp(app::DEMO_TOTP_SECRET, user)
        .unwrap()
        .generate(at as u64)
}

async fn post_code(t: &TestApp, b: &reqwest::Client, code: &str) -> reqwest::Response {
    form_post(t, b, "/signin/second-factor")
        .await
        .form(&[("code", code), ("next", "/dossiers")])
        .send()
        .await
        .unwrap()
}

async fn post_password(
    t: &TestApp,
    b: &reqwest::Client,
    user: &str,
    password: &str,
) -> reqwest::Response {
    form_post(t, b, "/signin")
        .await
        .form(&[
            ("username", user),
            ("password", password),
            ("next", "/dossiers"),
        ])
        .send()
        .await
        .unwrap()
}

on_both_backends!(officials_sign_in_with_a_second_factor);
async fn officials_sign_in_with_a_second_factor(db: Db) {
    let t = spawn(db, true).await;
    let b = browser();

    // The password alone opens nothing: it leads to the second factor.
    let response = post_password(&t, &b, "demo-handler", "demo").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/signin/second-factor?next=%2Fdossiers"
    );
    assert_eq!(page(&t, &b, "/dossiers").await.0, 303);
    let (status, html) = page(&t, &b, "/signin/second-factor").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Tài khoản trình diễn: mã hiện tại là"),
        "the demo shows its code"
    );

    // A wrong code is refused with a plain message; the right one opens a session.
    let wrong = post_code(&t, &b, "000000").await;
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("mã xác thực không đúng")
    );
    let code = demo_code("demo-handler", 0);
    let response = post_code(&t, &b, &code).await;
    assert_eq!(response.status(), 303);
    assert_eq!(page(&t, &b, "/dossiers").await.0, 200);

    // The same code cannot be used again, even with the password.
    let again = browser();
    post_password(&t, &again, "demo-handler", "demo").await;
    assert_eq!(post_code(&t, &again, &code).await.status(), 401);
    assert_eq!(
        post_code(&t, &again, &demo_code("demo-handler", 1))
            .await
            .status(),
        303
    );

    // Both sessions are listed; one ends another, then "sign out everywhere" ends all.
    let (_, account) = page(&t, &b, "/account").await;
    assert_eq!(
        account.matches("/account/sessions/").count(),
        3,
        "two sessions and end-all"
    );
    assert!(account.contains("(phiên này)"));
    let other = account
        .split("action=\"")
        .filter(|a| a.starts_with("/account/sessions/") && a.contains("/end\""))
        .map(|a| a.split('"').next().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(other.len(), 2);
    // End the session that is not this one: the one listed without "(phiên này)" next to it.
    let this_row = account
        .split("<tr>")
        .find(|r| r.contains("(phiên này)"))
        .unwrap();
    let target = other
        .iter()
        .find(|a| !this_row.contains(a.as_str()))
        .unwrap();
    assert_eq!(
        form_post(&t, &b, target)
            .await
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    assert_eq!(
        page(&t, &again, "/dossiers").await.0,
        303,
        "ended from elsewhere"
    );
    assert_eq!(page(&t, &b, "/dossiers").await.0, 200);
    let response = form_post(&t, &b, "/account/sessions/end-all")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(page(&t, &b, "/dossiers").await.0, 303);
    // Ending someone else's session by guessing an id finds nothing.
    let c = browser();
    assert_eq!(sign_in(&t, &c, "demo-citizen", "demo").await, 303);
    let guess = form_post(&t, &c, "/account/sessions/0123456789abcdef/end")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(guess.status(), 404);

    // A new official sets up an authenticator on first sign-in: the page shows a new key,
    // and a code from it confirms it.
    t.app
        .upsert_users(&[domain::user::User {
            username: "new-officer".into(),
            full_name: "Cán bộ mới".into(),
            role: domain::user::Role::Reception,
            agency: Some(domain::AgencyCode::parse("001.00.00.H31").unwrap()),
            assurance: Default::default(),
        }])
        .await
        .unwrap();
    t.app
        .set_password(&["new-officer".into()], "mật khẩu mới")
        .await
        .unwrap();
    let n = browser();
    post_password(&t, &n, "new-officer", "mật khẩu mới").await;
    let (_, html) = page(&t, &n, "/signin/second-factor").await;
    assert!(html.contains("Cài đặt ứng dụng xác thực") && html.contains("otpauth://totp/"));
    assert!(
        !html.contains("Tài khoản trình diễn"),
        "only demo accounts show a code"
    );
    let secret = html
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let code = app::totp(&secret, "new-officer")
        .unwrap()
        .generate(chrono::Utc::now().timestamp() as u64);
    assert_eq!(post_code(&t, &n, &code).await.status(), 303);
    let n2 = browser();
    post_password(&t, &n2, "new-officer", "mật khẩu mới").await;
    let (_, html) = page(&t, &n2, "/signin/second-factor").await;
    assert!(!html.contains("Cài đặt ứng dụng xác thực"), "set up once");
}

on_both_backends!(failed_sign_ins_slow_down_then_lock);
async fn failed_sign_ins_slow_down_then_lock(db: Db) {
    let t = spawn(db, true).await;
    let b = browser();
    // Two slips cost nothing; the third makes the next attempt wait, even with the right
    // password, and the answer says how long.
    for _ in 0..3 {
        assert_eq!(
            post_password(&t, &b, "demo-citizen", "wrong")
                .await
                .status(),
            401
        );
    }
    let waiting = post_password(&t, &b, "demo-citizen", "demo").await;
    assert_eq!(waiting.status(), 429);
    let html = waiting.text().await.unwrap();
    assert!(
        html.contains("Thử lại sau") && html.contains("giây"),
        "{html}"
    );
    // An unknown account gets the same answer as a wrong password.
    let unknown = post_password(&t, &b, "no-such-person", "demo").await;
    assert_eq!(unknown.status(), 401);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("tên đăng nhập hoặc mật khẩu không đúng")
    );
    // After the wait, the right password works and clears the count.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        post_password(&t, &b, "demo-citizen", "demo").await.status(),
        303
    );
    assert_eq!(
        post_password(&t, &browser(), "demo-citizen", "wrong")
            .await
            .status(),
        401
    );
    assert_eq!(
        post_password(&t, &browser(), "demo-citizen", "demo")
            .await
            .status(),
        303
    );

    // Wrong second-factor codes count too.
    let o = browser();
    for _ in 0..3 {
        post_password(&t, &o, "demo-approver", "demo").await;
        assert_eq!(post_code(&t, &o, "999999").await.status(), 401);
    }
    let locked = post_password(&t, &o, "demo-approver", "demo").await;
    assert_eq!(locked.status(), 429);
}

on_both_backends!(responses_carry_security_headers);
async fn responses_carry_security_headers(db: Db) {
    let t = spawn(db, true).await;
    for path in [
        "/",
        "/signin",
        "/api/v1/procedures?q=khai+sinh",
        "/no-such-page",
    ] {
        let response = t.get(path).await;
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert!(
            h.get("strict-transport-security").is_none(),
            "not over plain HTTP"
        );
    }
    // No page carries inline script: the print button's script is a file.
    let b = browser();
    assert_eq!(sign_in(&t, &b, "demo-citizen", "demo").await, 303);
    for path in ["/", "/signin", "/account", "/dossiers", "/statistics"] {
        let (_, html) = page(&t, &b, path).await;
        assert!(
            !html.contains("<script>") && !html.contains("onclick="),
            "{path}"
        );
    }
    // A form post without the page's anti-forgery token, or with another one, is refused and
    // changes nothing; the token as the page's hidden field is taken.
    let missing = b
        .post(t.url("/account/sessions/end-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("Biểu mẫu đã hết hạn")
    );
    let wrong = b
        .post(t.url("/account/sessions/end-all"))
        .form(&[("csrf", "0123456789abcdef0123456789abcdef")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    assert_eq!(page(&t, &b, "/account").await.0, 200, "still signed in");
    let (_, account) = page(&t, &b, "/account").await;
    let token = account
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's forms carry the token")
        .to_owned();
    let signed_out = b
        .post(t.url("/account/sessions/end-all"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 303);
    assert_eq!(page(&t, &b, "/account").await.0, 303);

    // The session cookie cannot be read by scripts nor sent from other sites.
    let response = post_password(&t, &browser(), "demo-citizen-2", "demo").await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
}

on_both_backends!(sign_in_attempts_are_limited_per_address);
async fn sign_in_attempts_are_limited_per_address(db: Db) {
    let (t, ()) = spawn_configured(db, true, async |config, _| {
        config.limits.sign_in_per_minute = 3;
    })
    .await;
    // Three tries from one address (different accounts, so no lockout), then a wait.
    for user in ["demo-citizen", "demo-citizen-2", "nobody"] {
        assert_eq!(
            post_password(&t, &browser(), user, "wrong").await.status(),
            401
        );
    }
    let limited = post_password(&t, &browser(), "demo-citizen", "demo").await;
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(limited.text().await.unwrap().contains("Quá nhiều yêu cầu"));
    // Pages that guess nothing are not limited.
    assert_eq!(t.get("/procedures").await.status(), 200);
}

/// The EICAR anti-virus test string: harmless, and every scanner reports it.
const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// A stand-in for clamd (ClamAV's daemon has no signatures on this machine) that speaks its
/// INSTREAM protocol: the command, length-prefixed chunks, a zero-length end, one reply.
async fn clamd_stand_in() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut command = [0u8; 10];
            socket.read_exact(&mut command).await.unwrap();
            assert_eq!(&command, b"zINSTREAM\0");
            let mut content = Vec::new();
            loop {
                let mut len = [0u8; 4];
                socket.read_exact(&mut len).await.unwrap();
                let len = u32::from_be_bytes(len) as usize;
                if len == 0 {
                    break;
                }
                let mut chunk = vec![0u8; len];
                socket.read_exact(&mut chunk).await.unwrap();
                content.extend(chunk);
            }
            let found = String::from_utf8_lossy(&content).contains(EICAR);
            let reply: &[u8] = if found {
                b"stream: Eicar-Test-Signature FOUND\0"
            } else {
                b"stream: OK\0"
            };
            socket.write_all(reply).await.unwrap();
            socket.shutdown().await.unwrap();
        }
    });
    (addr, task)
}

on_both_backends!(uploads_are_scanned_for_malware_when_a_scanner_is_set);
async fn uploads_are_scanned_for_malware_when_a_scanner_is_set(db: Db) {
    let (addr, clamd) = clamd_stand_in().await;
    let (t, ()) = spawn_configured(db, true, async |config, _| {
        config.files.clamd = Some(format!("tcp:{addr}"));
    })
    .await;
    let citizen = crate::dossiers::token(&t, "demo-citizen").await;
    let (status, _) =
        crate::dossiers::try_upload(&t, &citizen, "don.pdf", crate::dossiers::PDF).await;
    assert_eq!(status, 201);
    let infected = [crate::dossiers::PDF, EICAR.as_bytes()].concat();
    let (status, problem) =
        crate::dossiers::try_upload(&t, &citizen, "giay-to.pdf", &infected).await;
    assert_eq!(status, 400);
    assert!(
        problem["invalid_params"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("Eicar-Test-Signature"),
        "{problem}"
    );
    // A scanner that is set but gone refuses uploads instead of storing them unscanned.
    clamd.abort();
    let _ = clamd.await;
    let (status, problem) =
        crate::dossiers::try_upload(&t, &citizen, "don.pdf", crate::dossiers::PDF).await;
    assert_eq!(status, 503, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("try again"));
}

on_both_backends!(idle_expired_and_forged_credentials_open_nothing);
async fn idle_expired_and_forged_credentials_open_nothing(db: Db) {
    let t = spawn(db, true).await;
    let b = browser();
    assert_eq!(sign_in(&t, &b, "demo-citizen", "demo").await, 303);
    assert_eq!(page(&t, &b, "/account").await.0, 200);
    // Unused for longer than the idle limit: the session has ended.
    crate::dossiers::tamper(
        &t.database_url,
        "UPDATE api_tokens SET last_seen_at = '2020-01-01 00:00:00+00:00' WHERE kind = 'session'",
    )
    .await;
    let response = b.get(t.url("/account")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signin")
    );
    let left = crate::dossiers::read_column(
        &t.database_url,
        "SELECT token_hash FROM api_tokens WHERE kind = 'session'",
    )
    .await;
    assert!(
        left.is_empty(),
        "an idle session is removed, not just refused"
    );

    // A made-up session cookie or bearer token opens nothing, and says so plainly.
    let forged = t
        .client
        .get(t.url("/api/v1/dossiers"))
        .bearer_auth("0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(forged.headers()["content-type"], "application/problem+json");
    let cookie = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(t.url("/dossiers"))
        .header("cookie", "motcua_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(cookie.status(), 303);

    // An API token past its expiry is refused like a forged one.
    let token = crate::dossiers::token(&t, "demo-citizen").await;
    assert_eq!(
        crate::dossiers::get(&t, "/api/v1/dossiers", &token).await.0,
        200
    );
    crate::dossiers::tamper(
        &t.database_url,
        "UPDATE api_tokens SET expires_at = '2020-01-01 00:00:00+00:00' WHERE kind = 'api'",
    )
    .await;
    assert_eq!(
        crate::dossiers::get(&t, "/api/v1/dossiers", &token).await.0,
        401
    );

    // A file name that climbs folders keeps only its last part.
    let fresh = crate::dossiers::token(&t, "demo-citizen-2").await;
    let (status, file) =
        crate::dossiers::try_upload(&t, &fresh, "../../../etc/passwd.pdf", crate::dossiers::PDF)
            .await;
    assert_eq!(status, 201);
    assert_eq!(file["file_name"], "passwd.pdf");
}
