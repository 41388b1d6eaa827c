//! Privileged access management: administrators hold no standing power; an elevation needs a
//! reason and another administrator's approval (two for break-glass), and every privileged
//! action lands in a hash-chained log the auditors read.

use crate::dossiers::token;
use crate::journeys::{browser, form_post, page, post_form, sign_in};
use crate::support::{Db, TestApp, on_both_backends, spawn};

/// The id of the newest elevation on an administrator's page.
fn newest_elevation(html: &str) -> String {
    html.split("<td>")
        .nth(1)
        .and_then(|cell| cell.split('<').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("an elevation in {html}"))
}

pub(crate) async fn ask(
    t: &TestApp,
    b: &reqwest::Client,
    reason: &str,
    minutes: &str,
    break_glass: bool,
) -> String {
    let mut form = vec![("reason", reason), ("minutes", minutes)];
    if break_glass {
        form.push(("break_glass", "1"));
    }
    let (status, body) = post_form(t, b, "/admin/elevations", &form).await;
    assert_eq!(status, 303, "{body}");
    let (_, html) = page(t, b, "/admin").await;
    let mine = html.split("Yêu cầu của tôi").nth(1).unwrap();
    newest_elevation(mine.split("<tbody>").nth(1).unwrap())
}

on_both_backends!(administrators_hold_power_only_when_another_approves);
async fn administrators_hold_power_only_when_another_approves(db: Db) {
    let t = spawn(db, true).await;
    let dossier = crate::stats::submit(&t, &token(&t, "demo-citizen").await).await;
    let admin = browser();
    assert_eq!(sign_in(&t, &admin, "demo-admin", "demo").await, 303);
    let second = browser();
    assert_eq!(sign_in(&t, &second, "demo-admin-2", "demo").await, 303);
    let third = browser();
    assert_eq!(sign_in(&t, &third, "demo-admin-3", "demo").await, 303);
    let auditor = browser();
    assert_eq!(sign_in(&t, &auditor, "demo-auditor", "demo").await, 303);

    // A locked-out citizen.
    let citizen = browser();
    for _ in 0..3 {
        sign_in(&t, &citizen, "demo-citizen", "wrong").await;
    }
    assert_eq!(sign_in(&t, &citizen, "demo-citizen", "demo").await, 429);

    // No standing power: not the tools, not the dossiers, not the sync feed.
    let (status, body) = post_form(
        &t,
        &admin,
        "/admin/accounts/unlock",
        &[("username", "demo-citizen")],
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("/admin"), "says how to get an elevation");
    assert_eq!(
        page(&t, &admin, &format!("/dossiers/{dossier}")).await.0,
        404
    );
    let to_admin = admin.get(t.url("/dossiers")).send().await.unwrap();
    assert_eq!(
        to_admin.headers()["location"],
        "/admin",
        "their page is /admin"
    );

    // Asking needs a real reason and a bounded time.
    // The errors are shown beside the fields, and what was typed stays.
    let (status, html) = post_form(
        &t,
        &admin,
        "/admin/elevations",
        &[("reason", "vì cần"), ("minutes", "30")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"reason-error\"") && html.contains("value=\"vì cần\""),
        "{html}"
    );
    let (status, html) = post_form(
        &t,
        &admin,
        "/admin/elevations",
        &[
            ("reason", "mở khóa tài khoản công dân bị khóa"),
            ("minutes", "600"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"minutes-error\""));
    let id = ask(
        &t,
        &admin,
        "mở khóa tài khoản công dân bị khóa",
        "30",
        false,
    )
    .await;

    // Nobody approves their own; auditors do not approve; another administrator does.
    let approve = format!("/admin/elevations/{id}/approve");
    assert_eq!(post_form(&t, &admin, &approve, &[]).await.0, 403);
    assert_eq!(post_form(&t, &auditor, &approve, &[]).await.0, 403);
    let (_, waiting) = page(&t, &second, "/admin").await;
    assert!(waiting.contains("Chờ bạn phê duyệt") && waiting.contains("mở khóa tài khoản"));
    assert_eq!(post_form(&t, &second, &approve, &[]).await.0, 303);
    assert_eq!(
        post_form(&t, &third, &approve, &[]).await.0,
        403,
        "already granted"
    );

    // Elevated: the tools work, and each use is logged. Still no dossiers: that needs
    // break-glass.
    let (_, html) = page(&t, &admin, "/admin").await;
    assert!(html.contains("Đang được nâng quyền"));
    let (status, _) = post_form(
        &t,
        &admin,
        "/admin/accounts/unlock",
        &[("username", "demo-citizen")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(sign_in(&t, &citizen, "demo-citizen", "demo").await, 303);
    let (status, _) = post_form(
        &t,
        &admin,
        "/admin/accounts/reset-second-factor",
        &[("username", "demo-citizen")],
    )
    .await;
    assert_eq!(status, 400, "citizens have no second factor");
    assert_eq!(
        page(&t, &admin, &format!("/dossiers/{dossier}")).await.0,
        404
    );

    // Ending it early takes the power away at once.
    assert_eq!(
        post_form(&t, &admin, &format!("/admin/elevations/{id}/close"), &[])
            .await
            .0,
        303
    );
    let (status, _) = post_form(
        &t,
        &admin,
        "/admin/accounts/unlock",
        &[("username", "demo-citizen")],
    )
    .await;
    assert_eq!(status, 403);

    // Break-glass: at most an hour, two approvers, then any agency's dossier can be read, and
    // the applicant sees that it was.
    let (status, _) = post_form(
        &t,
        &admin,
        "/admin/elevations",
        &[
            ("reason", "sự cố: cần xem hồ sơ để khôi phục dữ liệu"),
            ("minutes", "90"),
            ("break_glass", "1"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    let id = ask(
        &t,
        &admin,
        "sự cố: cần xem hồ sơ để khôi phục dữ liệu",
        "30",
        true,
    )
    .await;
    let approve = format!("/admin/elevations/{id}/approve");
    assert_eq!(post_form(&t, &second, &approve, &[]).await.0, 303);
    assert_eq!(
        post_form(&t, &second, &approve, &[]).await.0,
        403,
        "one approval each"
    );
    assert_eq!(
        page(&t, &admin, &format!("/dossiers/{dossier}")).await.0,
        404,
        "one of two"
    );
    assert_eq!(post_form(&t, &third, &approve, &[]).await.0, 303);
    let (status, _) = page(&t, &admin, &format!("/dossiers/{dossier}")).await;
    assert_eq!(status, 200);
    let (_, account) = page(&t, &citizen, "/account").await;
    assert!(account.contains("trong tình huống khẩn cấp"), "{account}");

    // The auditors see all of it, read-only, with the break-glass grant as an alert; nobody
    // else does.
    assert_eq!(page(&t, &admin, "/audit/privileged").await.0, 403);
    let (_, account) = page(&t, &auditor, "/account").await;
    assert!(account.contains("href=\"/audit/privileged\"") && !account.contains("href=\"/admin\""));
    let (_, read) = page(&t, &auditor, &format!("/dossiers/{dossier}")).await;
    assert!(
        read.contains("/audit/access?subject=demo-citizen"),
        "the applicant's log, one click away"
    );
    let (status, log) = page(&t, &auditor, "/audit/privileged").await;
    assert_eq!(status, 200);
    assert!(log.contains("Chuỗi băm của nhật ký nguyên vẹn"), "{log}");
    assert!(log.contains("Cảnh báo: truy cập khẩn cấp"));
    for action in [
        "elevation_requested",
        "elevation_granted",
        "account_unlocked",
        "elevation_ended",
        "elevation_approved",
        "break_glass_granted",
        "break_glass_read",
    ] {
        assert!(log.contains(action), "{action} is logged");
    }
    let report = t
        .app
        .privileged_report(&domain::user::User {
            username: "demo-auditor".into(),
            full_name: String::new(),
            role: domain::user::Role::Auditor,
            agency: None,
            assurance: Default::default(),
        })
        .await
        .unwrap();
    assert!(report.broken.is_none());
    let seqs: Vec<i64> = report.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gaps");
    let actions: Vec<&str> = report.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "elevation_requested",
            "elevation_granted",
            "account_unlocked",
            "elevation_ended",
            "elevation_requested",
            "elevation_approved",
            "break_glass_granted",
            "break_glass_read",
        ],
        "refused attempts change nothing, so they log nothing"
    );
}

on_both_backends!(agency_administrators_reach_only_their_own_officials);
async fn agency_administrators_reach_only_their_own_officials(db: Db) {
    let t = spawn(db, true).await;
    t.app
        .upsert_users(&[domain::user::User {
            username: "ward-admin".into(),
            full_name: "Quản trị phường Hồng Bàng".into(),
            role: domain::user::Role::AgencyAdmin,
            agency: Some(domain::AgencyCode::parse("001.00.00.H31").unwrap()),
            assurance: Default::default(),
        }])
        .await
        .unwrap();
    t.app
        .set_password(&["ward-admin".into()], "demo")
        .await
        .unwrap();
    t.app
        .set_totp_secret("ward-admin", app::DEMO_TOTP_SECRET)
        .await
        .unwrap();
    let ward = browser();
    assert_eq!(sign_in(&t, &ward, "ward-admin", "demo").await, 303);
    let approver = browser();
    assert_eq!(sign_in(&t, &approver, "demo-admin-2", "demo").await, 303);

    // Break-glass is not theirs to ask for; a standard elevation is.
    let (status, _) = post_form(
        &t,
        &ward,
        "/admin/elevations",
        &[
            ("reason", "sự cố: cần xem hồ sơ để khôi phục dữ liệu"),
            ("minutes", "30"),
            ("break_glass", "1"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    let id = ask(&t, &ward, "mở khóa tài khoản cán bộ phường", "30", false).await;
    let approve = format!("/admin/elevations/{id}/approve");
    assert_eq!(post_form(&t, &approver, &approve, &[]).await.0, 303);

    // Elevated, their tools reach the ward's officials, not another branch, not
    // administrators or auditors.
    let unlock = |user: &'static str| {
        let (t, ward) = (&t, &ward);
        async move {
            post_form(t, ward, "/admin/accounts/unlock", &[("username", user)])
                .await
                .0
        }
    };
    assert_eq!(unlock("demo-handler").await, 303);
    assert_eq!(unlock("demo-handler-province").await, 403);
    assert_eq!(unlock("demo-admin").await, 403);
    assert_eq!(unlock("demo-auditor").await, 403);

    // The exchange client uses API tokens; the sign-in page is not for it.
    assert_eq!(sign_in(&t, &browser(), "demo-sync", "demo").await, 403);
}

on_both_backends!(the_exchange_registry_changes_only_under_an_elevation);
async fn the_exchange_registry_changes_only_under_an_elevation(db: Db) {
    let t = spawn(db, true).await;
    let admin = browser();
    assert_eq!(sign_in(&t, &admin, "demo-admin", "demo").await, 303);
    let second = browser();
    assert_eq!(sign_in(&t, &second, "demo-admin-2", "demo").await, 303);
    let key = domain::exchange::MemberKey::from_seed([3; 32]).public_base64();
    let member = [
        ("member", "000.00.00.H49/ho-tich"),
        ("name", "Hộ tịch Quảng Nam"),
        ("public_key", key.as_str()),
        ("url", "https://hotich.quangnam.gov.vn"),
    ];
    let (status, body) = post_form(&t, &admin, "/admin/exchange/members", &member).await;
    assert_eq!(status, 403, "no standing power: {body}");

    let id = ask(
        &t,
        &admin,
        "đăng ký hệ thống hộ tịch của Quảng Nam",
        "30",
        false,
    )
    .await;
    assert_eq!(
        post_form(&t, &second, &format!("/admin/elevations/{id}/approve"), &[])
            .await
            .0,
        303
    );
    let (status, body) = post_form(&t, &admin, "/admin/exchange/members", &member).await;
    assert_eq!(status, 303, "{body}");
    // A bad key and a bad name are named.
    let mut bad = member;
    bad[0].1 = "Quảng Nam";
    bad[2].1 = "not a key";
    let (status, body) = post_form(&t, &admin, "/admin/exchange/members", &bad).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("Ed25519") && body.contains("Quảng Nam"),
        "both named: {body}"
    );
    // Beside their fields, with what was typed kept.
    assert!(
        body.contains("id=\"member-member-error\"")
            && body.contains("id=\"member-public_key-error\""),
        "{body}"
    );
    assert!(body.contains("value=\"not a key\""));
    let grant = [
        ("service", "dossier-status"),
        ("client", "000.00.00.H49/ho-tich"),
    ];
    assert_eq!(
        post_form(&t, &admin, "/admin/exchange/grants", &grant)
            .await
            .0,
        303
    );
    let (status, html) = page(&t, &admin, "/admin/exchange").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Hộ tịch Quảng Nam") && html.contains("dossier-status"),
        "{html}"
    );
    assert!(
        html.contains("000.00.00.H31/motcua"),
        "this member is named: {html}"
    );
    assert_eq!(
        post_form(&t, &admin, "/admin/exchange/grants/revoke", &grant)
            .await
            .0,
        303
    );
    assert_eq!(
        post_form(&t, &admin, "/admin/exchange/grants/revoke", &grant)
            .await
            .0,
        404,
        "nothing left to revoke"
    );
    // Each change is in the privileged log.
    let log = crate::dossiers::read_column(
        &t.database_url,
        "SELECT action FROM privileged_log ORDER BY seq",
    )
    .await;
    for action in [
        "exchange_member_registered",
        "exchange_grant_added",
        "exchange_grant_removed",
    ] {
        assert!(log.iter().any(|a| a == action), "{action} in {log:?}");
    }
    // A citizen does not see the page.
    let citizen = browser();
    assert_eq!(sign_in(&t, &citizen, "demo-citizen", "demo").await, 303);
    assert_eq!(page(&t, &citizen, "/admin/exchange").await.0, 403);
}

on_both_backends!(the_holiday_calendar_changes_only_under_an_elevation);
async fn the_holiday_calendar_changes_only_under_an_elevation(db: Db) {
    let t = spawn(db, true).await;
    let admin = browser();
    assert_eq!(sign_in(&t, &admin, "demo-admin", "demo").await, 303);
    let second = browser();
    assert_eq!(sign_in(&t, &second, "demo-admin-2", "demo").await, 303);

    // 2027 has no announcement yet: the Labour Code's days, Hùng Kings' day among them.
    let (status, html) = page(&t, &admin, "/admin/calendar?year=2027").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("chưa có thông báo") && html.contains("16/04/2027"),
        "{html}"
    );
    let day_off = [
        ("change", "day_off"),
        ("year", "2027"),
        ("date", "2027-12-31"),
        ("name", "Nghỉ cuối năm"),
    ];
    // No standing power.
    assert_eq!(
        post_form(&t, &admin, "/admin/calendar", &day_off).await.0,
        403
    );

    let id = ask(&t, &admin, "bổ sung ngày nghỉ cuối năm 2027", "30", false).await;
    let approve = format!("/admin/elevations/{id}/approve");
    assert_eq!(post_form(&t, &second, &approve, &[]).await.0, 303);

    // Bad input is named beside the field and keeps what was typed.
    let (status, html) = post_form(
        &t,
        &admin,
        "/admin/calendar",
        &[
            ("change", "day_off"),
            ("year", "2027"),
            ("date", "2027-09-04"),
            ("name", "Thử"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"day_off-date-error\"") && html.contains("vốn đã là ngày nghỉ"));
    assert!(html.contains("value=\"Thử\""));
    let (status, html) = post_form(
        &t,
        &admin,
        "/admin/calendar",
        &[
            ("change", "working_day"),
            ("year", "2027"),
            ("date", "2027-09-06"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("phải là thứ Bảy hoặc Chủ nhật"));

    // Odd posts get a clear refusal, never a 500.
    let (status, _) = post_form(
        &t,
        &admin,
        "/admin/calendar",
        &[("change", "remove"), ("year", "999999"), ("date", "x")],
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = post_form(
        &t,
        &admin,
        "/admin/calendar",
        &[("change", "move"), ("date", "2027-12-31")],
    )
    .await;
    assert_eq!(status, 400);

    let (status, _) = post_form(&t, &admin, "/admin/calendar", &day_off).await;
    assert_eq!(status, 303);
    let (_, html) = page(&t, &admin, "/admin/calendar?year=2027").await;
    assert!(html.contains("31/12/2027") && html.contains("Nghỉ cuối năm"));
    assert!(
        html.contains("thông báo nghỉ lễ"),
        "the year has a calendar of its own now"
    );

    // The change is in the privileged log the auditors read.
    let (_, audit) = {
        let auditor = browser();
        assert_eq!(sign_in(&t, &auditor, "demo-auditor", "demo").await, 303);
        page(&t, &auditor, "/audit/privileged").await
    };
    assert!(audit.contains("calendar_day_off_added") && audit.contains("2027-12-31"));
}

on_both_backends!(officials_and_agencies_are_managed_in_the_browser_under_an_elevation);
async fn officials_and_agencies_are_managed_in_the_browser_under_an_elevation(db: Db) {
    let t = spawn(db, true).await;
    let admin = browser();
    assert_eq!(sign_in(&t, &admin, "demo-admin", "demo").await, 303);
    let second = browser();
    assert_eq!(sign_in(&t, &second, "demo-admin-2", "demo").await, 303);
    let (status, html) = page(&t, &admin, "/admin/staff").await;
    assert_eq!(status, 200);
    assert!(html.contains("demo-reception") && html.contains("Cán bộ tiếp nhận (một cửa)"));

    let official = [
        ("username", "can-bo-moi"),
        ("full_name", "Lý Thị Mai"),
        ("role", "handler"),
        ("agency", "001.00.00.H31"),
        ("password", "mat-khau-ban-dau-2026"),
    ];
    assert_eq!(
        post_form(&t, &admin, "/admin/staff", &official).await.0,
        403
    );
    let id = ask(
        &t,
        &admin,
        "thêm chuyên viên mới cho phường Hồng Bàng",
        "30",
        false,
    )
    .await;
    assert_eq!(
        post_form(&t, &second, &format!("/admin/elevations/{id}/approve"), &[])
            .await
            .0,
        303
    );

    // Bad input: each field named, what was typed kept, the password never sent back.
    let (status, html) = post_form(
        &t,
        &admin,
        "/admin/staff",
        &[
            ("username", "Cán Bộ"),
            ("full_name", "Lý Thị Mai"),
            ("role", "citizen"),
            ("agency", "999.99.99.X99"),
            ("password", "ngan"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    for field in ["username", "role", "agency", "password"] {
        assert!(
            html.contains(&format!("id=\"s-{field}-error\"")),
            "{field}: {html}"
        );
    }
    assert!(html.contains("value=\"Lý Thị Mai\"") && !html.contains("value=\"ngan\""));

    // Making an administrator (or changing one) takes break-glass access: two approvers.
    let mut promoted = official;
    promoted[0].1 = "quan-tri-moi";
    promoted[2].1 = "system_admin";
    let (status, body) = post_form(&t, &admin, "/admin/staff", &promoted).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("break-glass"), "{body}");

    assert_eq!(
        post_form(&t, &admin, "/admin/staff", &official).await.0,
        303
    );
    let (_, html) = page(&t, &admin, "/admin/staff").await;
    assert!(html.contains("can-bo-moi") && html.contains("Lý Thị Mai"));
    // The new official signs in with the first password and is sent to set up a second factor.
    let newcomer = browser();
    let response = form_post(&t, &newcomer, "/signin")
        .await
        .form(&[
            ("username", "can-bo-moi"),
            ("password", "mat-khau-ban-dau-2026"),
            ("next", "/dossiers"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signin/second-factor")
    );

    // Agencies: a new ward under the city, found on the public agency page; a loop refused.
    let ward = [
        ("code", "099.00.00.H31"),
        ("name", "Ủy ban nhân dân phường Thử Nghiệm"),
        ("parent", "000.00.00.H31"),
        ("level", "commune"),
    ];
    assert_eq!(post_form(&t, &admin, "/admin/agencies", &ward).await.0, 303);
    let (_, public) = page(&t, &newcomer, "/agencies").await;
    assert!(public.contains("phường Thử Nghiệm"), "{public}");
    let (status, html) = post_form(
        &t,
        &admin,
        "/admin/agencies",
        &[
            ("code", "000.00.00.H31"),
            ("name", "Ủy ban nhân dân thành phố Hải Phòng"),
            ("parent", "099.00.00.H31"),
            ("level", "province"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"a-parent-error\"") && html.contains("cấp dưới"),
        "{html}"
    );

    let auditor = browser();
    assert_eq!(sign_in(&t, &auditor, "demo-auditor", "demo").await, 303);
    let (_, audit) = page(&t, &auditor, "/audit/privileged").await;
    assert!(audit.contains("official_added") && audit.contains("agency_saved"));
}
