//! Statistics from the counters the events keep: figures checked against a hand-computed
//! history, bad requests, and `stats verify` / `rebuild` after the counters are tampered with.

use chrono::Datelike;
use serde_json::{Value, json};

use crate::dossiers::{PDF, act, generic_form, get, pension_application, post, token, upload};
use crate::support::{Db, TestApp, on_both_backends, spawn};

const WARD: &str = "001.00.00.H31";
const HOME_AFFAIRS: &str = "000.00.03.H31";
const CITY: &str = "000.00.00.H31";

pub(crate) async fn submit(t: &TestApp, citizen: &str) -> String {
    let (status, body) = post(t, "/api/v1/dossiers", citizen, pension_application(), None).await;
    assert_eq!(status, 201, "{body}");
    body["dossier"]["code"].as_str().unwrap().to_owned()
}

async fn resolve(t: &TestApp, approver: &str, code: &str, version: i64) {
    let result = upload(t, approver, "ket-qua.pdf", PDF).await;
    act(
        t,
        approver,
        code,
        "resolve",
        json!({"version": version, "attachments": [{"document": "result", "upload": result}]}),
    )
    .await;
}

fn group<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == name)
        .unwrap_or_else(|| panic!("no group {name} in {report}"))
}

on_both_backends!(figures_match_a_hand_computed_history);
async fn figures_match_a_hand_computed_history(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let reception = token(&t, "demo-reception").await;
    let handler = token(&t, "demo-handler").await;
    let approver = token(&t, "demo-approver").await;
    let leader = token(&t, "demo-leader").await;

    // 1: resolved well before its due date, returned and rated.
    let early = submit(&t, &citizen).await;
    act(&t, &reception, &early, "receive", json!({"version": 1})).await;
    act(&t, &handler, &early, "complete_step", json!({"version": 2})).await;
    resolve(&t, &approver, &early, 3).await;
    act(&t, &reception, &early, "return", json!({"version": 4})).await;
    act(
        &t,
        &citizen,
        &early,
        "rate",
        json!({"version": 5, "satisfaction": "satisfied"}),
    )
    .await;
    // 2: two supplement requests: late whatever the dates.
    let late = submit(&t, &citizen).await;
    act(&t, &reception, &late, "receive", json!({"version": 1})).await;
    for v in [2, 4] {
        act(
            &t,
            &handler,
            &late,
            "request_supplement",
            json!({"version": v, "reason": "Thiếu"}),
        )
        .await;
        act(&t, &citizen, &late, "supplement", json!({"version": v + 1})).await;
    }
    act(&t, &handler, &late, "complete_step", json!({"version": 6})).await;
    resolve(&t, &approver, &late, 7).await;
    // 3: refused; 4: withdrawn; 5: waiting.
    let refused = submit(&t, &citizen).await;
    act(
        &t,
        &reception,
        &refused,
        "refuse",
        json!({"version": 1, "reason": "Sai thẩm quyền"}),
    )
    .await;
    let withdrawn = submit(&t, &citizen).await;
    act(&t, &citizen, &withdrawn, "withdraw", json!({"version": 1})).await;
    submit(&t, &citizen).await;
    // 6: entered in person, handled by the Department of Home Affairs, returned by the ward.
    let (_, entered) = post(
        &t,
        "/api/v1/dossiers",
        &reception,
        json!({"procedure": "1.010824", "agency": WARD, "channel": "in_person",
               "applicant": "demo-citizen", "form": generic_form()}),
        None,
    )
    .await;
    let across = entered["dossier"]["code"].as_str().unwrap().to_owned();
    act(&t, &reception, &across, "receive", json!({"version": 1})).await;
    act(
        &t,
        &handler,
        &across,
        "complete_step",
        json!({"version": 2, "to_agency": HOME_AFFAIRS}),
    )
    .await;
    let province_handler = token(&t, "demo-handler-province").await;
    let province_approver = token(&t, "demo-approver-province").await;
    act(
        &t,
        &province_handler,
        &across,
        "complete_step",
        json!({"version": 3}),
    )
    .await;
    resolve(&t, &province_approver, &across, 4).await;
    act(&t, &reception, &across, "return", json!({"version": 5})).await;

    // The city's total: three received, three resolved (two early, one late), 66.7 % on time.
    let (status, city) = get(&t, "/api/v1/stats", &leader).await;
    assert_eq!(status, 200, "{city}");
    assert_eq!(city["agency"], CITY);
    let total = &city["groups"][0];
    assert_eq!(
        (total["received"].as_i64(), total["resolved"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        (
            total["resolved_early"].as_i64(),
            total["resolved_late"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(total["on_time_rate"], 66.7);
    let counts = &total["counts"];
    assert_eq!(counts["submitted"], 6);
    assert_eq!(counts["refused"], 1);
    assert_eq!(counts["withdrawn"], 1);
    assert_eq!(counts["returned"], 2);
    assert_eq!(counts["supplement_requested"], 2);
    assert_eq!(counts["rated_satisfied"], 1);

    // By agency: the department resolved the dossier it was sent; the ward the other two.
    let (_, by_agency) = get(&t, "/api/v1/stats?group=agency", &leader).await;
    let ward = group(&by_agency, WARD);
    assert_eq!(
        (ward["received"].as_i64(), ward["resolved"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(ward["counts"]["transferred_out"], 1);
    let department = group(&by_agency, HOME_AFFAIRS);
    assert_eq!(department["resolved_early"], 1);
    assert_eq!(department["counts"]["transferred_in"], 1);
    let (_, by_channel) = get(&t, "/api/v1/stats?group=channel", &leader).await;
    assert_eq!(group(&by_channel, "in_person")["counts"]["submitted"], 1);
    assert_eq!(group(&by_channel, "online")["counts"]["submitted"], 5);
    let (_, one_procedure) = get(&t, "/api/v1/stats?procedure=1.010824", &leader).await;
    assert_eq!(one_procedure["groups"][0]["received"], 1);
    let (_, by_level) = get(&t, "/api/v1/stats?group=level", &leader).await;
    assert_eq!(group(&by_level, "commune")["received"], 3);
    assert_eq!(group(&by_level, "province")["resolved_early"], 1);
    // A whole month is read from the monthly roll-up: the same figures as the days give.
    let today = app::today();
    let month_start = today.with_day(1).unwrap();
    let month_end = (month_start + chrono::Months::new(1)).pred_opt().unwrap();
    let (_, month) = get(
        &t,
        &format!("/api/v1/stats?from={month_start}&to={month_end}"),
        &leader,
    )
    .await;
    let (_, days) = get(
        &t,
        &format!("/api/v1/stats?from={today}&to={today}"),
        &leader,
    )
    .await;
    assert_eq!(month["groups"][0]["counts"], days["groups"][0]["counts"]);
    assert_eq!(month["groups"][0]["counts"], city["groups"][0]["counts"]);

    // The same figures on the public page, for anyone, without personal data.
    let (status, public) = t.text("/statistics").await;
    assert_eq!(status, 200);
    assert!(public.contains("Ủy ban nhân dân thành phố Hải Phòng"));
    assert!(
        public.contains("<strong>3</strong> hồ sơ tiếp nhận"),
        "{public}"
    );
    assert!(public.contains("Ủy ban nhân dân phường Hồng Bàng") && public.contains("66,7 %"));
    assert!(!public.contains("Nguyễn Văn An"));
    let (status, _) = t.text("/statistics?from=2026-12-01&to=2026-01-01").await;
    assert_eq!(status, 400);
    assert_eq!(
        t.json("/api/v1/stats").await.0,
        401,
        "the API needs a leader's token"
    );

    // Bad requests are named; another branch of the state is forbidden.
    for (query, field) in [
        ("from=2026-12-01&to=2026-01-01", "to"),
        ("from=2000-01-01&to=2026-01-01", "to"),
        ("from=yesterday", "from"),
        ("agency=999.99.99.H99", "agency"),
        ("group=week", "group"),
        ("sector=Không có lĩnh vực này", "sector"),
    ] {
        let (status, problem) = get(&t, &format!("/api/v1/stats?{query}"), &leader).await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert_eq!(
            problem["invalid_params"][0]["name"], field,
            "{query}: {problem}"
        );
    }
    let (status, _) = get(&t, "/api/v1/stats?agency=000.00.00.G15", &leader).await;
    assert_eq!(status, 403, "a ministry is outside the city's subtree");
    let (status, _) = get(&t, "/api/v1/stats", &handler).await;
    assert_eq!(status, 403, "handlers do not see statistics");

    // The counters agree with the event log; a changed counter is found and repaired.
    assert_eq!(t.app.verify_stats().await.unwrap(), []);
    crate::dossiers::tamper(
        &t.database_url,
        "UPDATE dossier_stats SET value = value + 5 WHERE metric = 'received'",
    )
    .await;
    // Two counters hold receptions: the pension (two received) and the in-person dossier (one).
    let differences = t.app.verify_stats().await.unwrap();
    // Described as "day agency procedure channel metric"; the roll-ups the database keeps
    // from those counters changed with them, and are found too.
    let (rollups, daily): (Vec<_>, Vec<_>) = differences
        .iter()
        .partition(|d| d.counter.starts_with("month") || d.counter.starts_with("agency day"));
    let found: Vec<(&str, i64, i64)> = daily
        .iter()
        .map(|d| {
            (
                d.counter.split(' ').nth(2).unwrap(),
                d.stored,
                d.from_events,
            )
        })
        .collect();
    assert_eq!(found, [("1.010824", 6, 1), ("1.014027", 7, 2)]);
    let rolled: Vec<(i64, i64)> = rollups.iter().map(|d| (d.stored, d.from_events)).collect();
    assert_eq!(rolled, [(13, 3), (13, 3)], "{rollups:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .arg("--data-dir")
        .arg(&t.data_dir)
        .args(["stats", "verify"])
        .env("DATABASE_URL", &t.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("stored 7, events give 2"));
    t.app.rebuild_stats().await.unwrap();
    assert_eq!(t.app.verify_stats().await.unwrap(), []);
    let (_, again) = get(&t, "/api/v1/stats", &leader).await;
    assert_eq!(again["groups"][0]["received"], 3);

    // A dossier being processed is held within its deadline; once its due day has passed
    // (the clock moved back by editing its dates) it is overdue, listed with a link to it.
    let held = submit(&t, &citizen).await;
    act(&t, &reception, &held, "receive", json!({"version": 1})).await;
    let (_, now) = get(&t, "/api/v1/stats", &leader).await;
    let whole = &now["groups"][0];
    assert_eq!(
        (whole["in_progress"].as_i64(), whole["overdue"].as_i64()),
        (Some(1), Some(0))
    );
    let backdate = if t.database_url.starts_with("sqlite:") {
        // SQLite keeps dates as text; a year earlier keeps their format.
        vec![
            format!("UPDATE dossiers SET due_at = replace(due_at, substr(due_at, 1, 4), '2025') WHERE code = '{held}'"),
            "UPDATE dossier_holdings SET due_day = replace(due_day, substr(due_day, 1, 4), '2025') WHERE metric = 'in_progress' AND value = 1".into(),
        ]
    } else {
        vec![
            format!("UPDATE dossiers SET due_at = due_at - interval '1 year' WHERE code = '{held}'"),
            "UPDATE dossier_holdings SET due_day = due_day - 365 WHERE metric = 'in_progress' AND value = 1".into(),
        ]
    };
    for sql in &backdate {
        crate::dossiers::tamper(&t.database_url, sql).await;
    }
    let (_, late_now) = get(&t, "/api/v1/stats?group=agency", &leader).await;
    let ward = group(&late_now, WARD);
    assert_eq!(
        (ward["in_progress"].as_i64(), ward["overdue"].as_i64()),
        (Some(0), Some(1))
    );

    // The leader's dashboard: headline, charts with their words, every table, the overdue
    // list linking to the dossier, and downloads that hold the same rows.
    let browser = crate::journeys::browser();
    assert_eq!(
        crate::journeys::sign_in(&t, &browser, "demo-leader", "demo").await,
        303
    );
    let (_, desk) = crate::journeys::page(&t, &browser, "/dossiers").await;
    assert!(
        desk.contains("href=\"/dashboard\""),
        "leaders find their dashboard"
    );
    let (status, board) = crate::journeys::page(&t, &browser, "/dashboard").await;
    assert_eq!(status, 200, "{board}");
    assert!(
        board.contains("<strong>4</strong> hồ sơ tiếp nhận"),
        "{board}"
    );
    assert_eq!(board.matches("<svg").count(), 2, "two charts");
    assert!(board.contains("<title>Hồ sơ theo tháng</title>"));
    assert!(
        board.contains(&format!("<a href=\"/dossiers/{held}\">{held}</a>")),
        "{board}"
    );
    for slug in ["months", "levels", "agencies", "index", "overdue"] {
        assert!(
            board.contains(&format!("/dashboard/export/{slug}.csv?")),
            "{slug}"
        );
    }
    let csv = browser
        .get(t.url("/dashboard/export/agencies.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}Cơ quan,Tiếp nhận,Đã giải quyết"),
        "{csv}"
    );
    assert!(
        csv.contains("Ủy ban nhân dân phường Hồng Bàng,4,2,50.0,0,1,0,1,0,1,50.0,50.0"),
        "{csv}"
    );
    let overdue_csv = browser
        .get(t.url("/dashboard/export/overdue.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(overdue_csv.contains(&held));
    let xlsx = browser
        .get(t.url("/dashboard/export/index.xlsx"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&xlsx[..2], b"PK");
    let (status, _) = crate::journeys::page(&t, &browser, "/dashboard/export/nothing.csv").await;
    assert_eq!(status, 404);
    let (status, _) = crate::journeys::page(&t, &browser, "/dashboard?agency=000.00.00.G15").await;
    assert_eq!(status, 403, "a leader sees only their own subtree");
    let clerk = crate::journeys::browser();
    crate::journeys::sign_in(&t, &clerk, "demo-handler", "demo").await;
    assert_eq!(crate::journeys::page(&t, &clerk, "/dashboard").await.0, 403);
    let (_, clerk_desk) = crate::journeys::page(&t, &clerk, "/dossiers").await;
    assert!(!clerk_desk.contains("href=\"/dashboard\""));

    // The public page has the charts and the index but never the dossiers.
    let (_, public) = t.text("/statistics").await;
    assert_eq!(public.matches("<svg").count(), 2);
    assert!(!public.contains(&held));
    assert!(!public.contains("/statistics/export/overdue"));
    let (status, methodology) = t.text("/statistics/methodology").await;
    assert_eq!(status, 200);
    assert!(methodology.contains("TDGQ.1") && methodology.contains("Cần dữ liệu ngoài"));

    // Moving the dates by hand is what `stats verify` is for.
    assert!(!t.app.verify_stats().await.unwrap().is_empty());
    t.app.rebuild_stats().await.unwrap();
}

/// Reads the whole feed from `cursor` in pages of `limit`; returns the records and the end.
async fn read_feed(
    t: &TestApp,
    admin: &str,
    mut cursor: String,
    limit: usize,
) -> (Vec<Value>, String) {
    let mut records = Vec::new();
    loop {
        let (status, page) = get(
            t,
            &format!("/api/v1/sync/dossiers?cursor={cursor}&limit={limit}"),
            admin,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let got = page["records"].as_array().unwrap();
        assert!(got.len() <= limit);
        records.extend(got.iter().cloned());
        cursor = page["cursor"].as_str().unwrap().to_owned();
        if page["more"] == false {
            return (records, cursor);
        }
    }
}

on_both_backends!(the_sync_feed_gives_each_change_once_in_the_portal_shape);
async fn the_sync_feed_gives_each_change_once_in_the_portal_shape(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let reception = token(&t, "demo-reception").await;
    let admin = token(&t, "demo-sync").await;
    // A system administrator reads it only under an elevation.
    let (status, _) = get(
        &t,
        "/api/v1/sync/dossiers?cursor=0",
        &token(&t, "demo-admin").await,
    )
    .await;
    assert_eq!(status, 403);

    let first = submit(&t, &citizen).await;
    let second = submit(&t, &citizen).await;
    act(&t, &reception, &first, "receive", json!({"version": 1})).await;
    let (records, cursor) = read_feed(&t, &admin, "0".into(), 2).await;
    let seen: Vec<(&str, i64)> = records
        .iter()
        .map(|r| {
            (
                r["MaHoSo"].as_str().unwrap(),
                r["TrangThaiHoSo"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (first.as_str(), 1),
            (second.as_str(), 1),
            (first.as_str(), 2)
        ]
    );
    let received = &records[2];
    assert_eq!(received["MaTTHC"], "1.014027");
    assert!(!received["TenTTHC"].as_str().unwrap().is_empty());
    assert_eq!(received["ChuHoSo"], "Nguyễn Văn An");
    assert_eq!(received["KenhThucHien"], 2);
    assert_eq!(received["LoaiDoiTuong"], 1);
    assert_eq!(received["DonViXuLy"], "001.00.00.H31");
    for date in ["NgayNopHoSo", "NgayTiepNhan", "NgayHenTra"] {
        let value = received[date].as_str().unwrap();
        assert!(
            value.len() == 14 && value.bytes().all(|b| b.is_ascii_digit()),
            "{date}: {value}"
        );
    }
    // The received date is in Vietnam time: today there, as yyyyMMdd.
    assert!(
        received["NgayTiepNhan"]
            .as_str()
            .unwrap()
            .starts_with(&app::today().format("%Y%m%d").to_string())
    );
    assert_eq!(
        records[0]["NgayTiepNhan"], "",
        "not yet received at that change"
    );

    // Nothing new: the same cursor and no records. Then only what changed since.
    let (none, same) = read_feed(&t, &admin, cursor.clone(), 10).await;
    assert!(none.is_empty());
    assert_eq!(same, cursor);
    act(
        &t,
        &reception,
        &second,
        "refuse",
        json!({"version": 1, "reason": "Sai thẩm quyền"}),
    )
    .await;
    let (news, cursor) = read_feed(&t, &admin, cursor, 10).await;
    assert_eq!(news.len(), 1);
    assert_eq!(
        (
            news[0]["MaHoSo"].as_str(),
            news[0]["TrangThaiHoSo"].as_i64()
        ),
        (Some(second.as_str()), Some(3))
    );

    // Submissions racing with a reader: every change arrives once, none is skipped.
    let writers: Vec<_> = (0..12)
        .map(|_| {
            let (base, client, citizen) = (t.base.clone(), t.client.clone(), citizen.clone());
            tokio::spawn(async move {
                let response = client
                    .post(format!("{base}/api/v1/dossiers"))
                    .bearer_auth(&citizen)
                    .json(&crate::dossiers::pension_application())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
            })
        })
        .collect();
    let mut raced = Vec::new();
    let mut at = cursor.clone();
    for _ in 0..5 {
        let (got, next) = read_feed(&t, &admin, at, 3).await;
        raced.extend(got);
        at = next;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let (rest, end) = read_feed(&t, &admin, at, 3).await;
    raced.extend(rest);
    let mut codes: Vec<&str> = raced
        .iter()
        .map(|r| r["MaHoSo"].as_str().unwrap())
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!((raced.len(), codes.len()), (12, 12), "each submission once");

    // The operator's export gives the same records from any cursor.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .arg("--data-dir")
        .arg(&t.data_dir)
        .args(["export", "dossiers", "--since", &cursor])
        .env("DATABASE_URL", &t.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, raced);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("next cursor: {end}")));

    // Bad requests are named; the feed is not for every role.
    for (query, field) in [
        ("cursor=abc", "cursor"),
        ("cursor=-3", "cursor"),
        ("limit=0", "limit"),
        ("limit=5001", "limit"),
    ] {
        let (status, problem) = get(&t, &format!("/api/v1/sync/dossiers?{query}"), &admin).await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert_eq!(problem["invalid_params"][0]["name"], field);
    }
    assert_eq!(get(&t, "/api/v1/sync/dossiers", &citizen).await.0, 403);
}

on_both_backends!(an_apology_and_new_date_still_counts_late);
async fn an_apology_and_new_date_still_counts_late(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let reception = token(&t, "demo-reception").await;
    let handler = token(&t, "demo-handler").await;
    let approver = token(&t, "demo-approver").await;
    let leader = token(&t, "demo-leader").await;
    let code = submit(&t, &citizen).await;
    act(&t, &reception, &code, "receive", json!({"version": 1})).await;
    act(&t, &handler, &code, "complete_step", json!({"version": 2})).await;
    act(
        &t,
        &handler,
        &code,
        "apologize_and_extend",
        json!({"version": 3, "reason": "Cần xác minh thêm", "extend_working_days": 5}),
    )
    .await;
    // Resolved long before even the first date, but after an apology: late.
    resolve(&t, &approver, &code, 4).await;
    let (_, city) = get(&t, "/api/v1/stats", &leader).await;
    let total = &city["groups"][0];
    assert_eq!(total["counts"]["apologized"], 1);
    assert_eq!(
        (
            total["resolved_late"].as_i64(),
            total["on_time_rate"].as_f64()
        ),
        (Some(1), Some(0.0))
    );
    assert_eq!(t.app.verify_stats().await.unwrap(), []);
}

on_both_backends!(the_reengineering_list_counts_the_e_form_from_counters);
async fn the_reengineering_list_counts_the_e_form_from_counters(db: Db) {
    use crate::journeys::{birth_form, browser, form_post, multipart, page, sign_in};
    let t = spawn(db, true).await;
    let citizen = browser();
    assert_eq!(sign_in(&t, &citizen, "demo-citizen", "demo").await, 303);
    // Opened twice; sent once with a mistake, then submitted.
    for _ in 0..2 {
        assert_eq!(
            page(&t, &citizen, "/procedures/1.001193/apply").await.0,
            200
        );
    }
    let started = (chrono::Utc::now().timestamp() - 200).to_string();
    let mut fields = birth_form();
    fields.retain(|(k, _)| *k != "ho_ten_tre");
    fields.push(("intent", "submit"));
    fields.push(("started", &started));
    let files = || vec![("doc-0", "giay-chung-sinh.pdf", crate::dossiers::PDF)];
    let response = form_post(&t, &citizen, "/procedures/1.001193/apply")
        .await
        .multipart(multipart(&fields, files()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let mut fields = birth_form();
    fields.push(("intent", "submit"));
    fields.push(("started", &started));
    let response = form_post(&t, &citizen, "/procedures/1.001193/apply")
        .await
        .multipart(multipart(&fields, files()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let code = response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/dossiers/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    // Received, then a supplement asked for: its reason is counted.
    let reception = token(&t, "demo-reception").await;
    let handler = token(&t, "demo-handler").await;
    act(&t, &reception, &code, "receive", json!({"version": 1})).await;
    act(
        &t,
        &handler,
        &code,
        "request_supplement",
        json!({"version": 2, "reason": "Bổ sung  bản sao giấy chứng sinh"}),
    )
    .await;

    // Supplemented, the step done, approved: each step's time is counted.
    let applicant = token(&t, "demo-citizen").await;
    act(&t, &applicant, &code, "supplement", json!({"version": 3})).await;
    act(&t, &handler, &code, "complete_step", json!({"version": 4})).await;
    resolve(&t, &token(&t, "demo-approver").await, &code, 5).await;

    assert_eq!(page(&t, &citizen, "/dashboard/reengineering").await.0, 403);
    let leader = browser();
    assert_eq!(sign_in(&t, &leader, "demo-leader", "demo").await, 303);
    let (status, html) = page(&t, &leader, "/dashboard/reengineering").await;
    assert_eq!(status, 200);
    let row = html
        .split("<tr>")
        .find(|r| r.contains("(1.001193)"))
        .unwrap_or_else(|| panic!("a row for birth registration: {html}"));
    let cells: Vec<&str> = row
        .split("<td>")
        .skip(1)
        .map(|c| c.split("</td>").next().unwrap())
        .collect();
    // Opened 2, submitted 1, half dropped off, the child's name the field that failed, about
    // four minutes to submit.
    assert_eq!(
        &cells[4..9],
        &["2", "1", "50,0 %", "ho_ten_tre (1)", "≤ 5"],
        "{row}"
    );
    // One dossier received, online; one supplement request per dossier, with its reason.
    assert_eq!(&cells[2..4], &["1", "100,0 %"], "{row}");
    assert_eq!(
        &cells[9..11],
        &["100,0 %", "Bổ sung bản sao giấy chứng sinh (1)"],
        "{row}"
    );
    // Resolved on time; both steps timed (seconds here, so 0,0 hours).
    assert_eq!(cells[11], "0,0 %", "{row}");
    assert_eq!(
        cells[12],
        "1. Công chức tư pháp - hộ tịch kiểm tra, ghi Sổ hộ tịch: 0,0 giờ; \
         2. Chủ tịch UBND phường ký Giấy khai sinh: 0,0 giờ",
        "{row}"
    );
}
