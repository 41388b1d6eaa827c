//! The `motcua` command as an operator runs it.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::{Db, database_url, demo_file, on_both_backends};

fn motcua(data_dir: &Path, db_url: &str, args: &[&str]) -> Output {
    crate::support::motcua(data_dir, db_url)
        .args(args)
        .output()
        .expect("motcua runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

on_both_backends!(import_is_idempotent_and_export_round_trips);
async fn import_is_idempotent_and_export_round_trips(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, dir.path()).await;
    let file = demo_file();
    let file = file.to_str().unwrap();

    let first = motcua(
        dir.path(),
        &url,
        &[
            "import",
            "procedures",
            file,
            "--effective-from",
            "2025-07-01",
        ],
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("51 new procedures"),
        "{}",
        text(&first.stdout)
    );
    let again = motcua(
        dir.path(),
        &url,
        &[
            "import",
            "procedures",
            file,
            "--effective-from",
            "2025-07-01",
        ],
    );
    assert!(again.status.success());
    assert!(
        text(&again.stdout)
            .contains("0 new procedures, 0 new versions, 0 updated versions, 51 unchanged")
    );

    let exported = dir.path().join("export.json");
    let export = motcua(
        dir.path(),
        &url,
        &["export", "procedures", "-o", exported.to_str().unwrap()],
    );
    assert!(export.status.success(), "{}", text(&export.stderr));
    let mut written: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    for record in &mut written {
        assert_eq!(record["NGAYHIEULUC"], "2025-07-01");
        record.as_object_mut().unwrap().remove("NGAYHIEULUC");
    }
    let mut original: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(demo_file()).unwrap()).unwrap();
    let by_code = |v: &serde_json::Value| v["MATTHC"].as_str().unwrap().to_owned();
    original.sort_by_key(by_code);
    written.sort_by_key(by_code);
    assert_eq!(written.len(), 51);
    for (w, o) in written.iter().zip(&original) {
        assert_eq!(w, o, "export of {} matches the national record", by_code(o));
    }
}

on_both_backends!(a_bad_file_imports_nothing_and_says_why);
async fn a_bad_file_imports_nothing_and_says_why(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, dir.path()).await;
    let mut records: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(demo_file()).unwrap()).unwrap();
    records[7].as_object_mut().unwrap().remove("TENTTHC");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&records).unwrap()).unwrap();

    let out = motcua(
        dir.path(),
        &url,
        &["import", "procedures", bad.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let code = records[7]["MATTHC"].as_str().unwrap();
    assert!(stderr.contains("record 7"), "{stderr}");
    assert!(stderr.contains(code), "{stderr}");
    assert!(stderr.contains("TENTTHC"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    let not_json = dir.path().join("broken.json");
    std::fs::write(&not_json, b"[{\"MATTHC\": ").unwrap();
    let out = motcua(
        dir.path(),
        &url,
        &["import", "procedures", not_json.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not valid JSON"),
        "{}",
        text(&out.stderr)
    );

    let export = motcua(dir.path(), &url, &["export", "procedures"]);
    assert!(export.status.success());
    let exported: Vec<serde_json::Value> = serde_json::from_slice(&export.stdout).unwrap();
    assert!(exported.is_empty(), "nothing was half-written");
}

on_both_backends!(generated_catalogue_and_histories_import);
async fn generated_catalogue_and_histories_import(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, dir.path()).await;
    let out_dir = dir.path().join("gen");
    let out_str = out_dir.to_str().unwrap();
    let generate = motcua(
        dir.path(),
        &url,
        &[
            "generate",
            "catalogue",
            "--procedures",
            "300",
            "--communes",
            "3",
            "-o",
            out_str,
        ],
    );
    assert!(generate.status.success(), "{}", text(&generate.stderr));
    let agencies = motcua(
        dir.path(),
        &url,
        &["import", "agencies", &format!("{out_str}/agencies.json")],
    );
    assert!(agencies.status.success(), "{}", text(&agencies.stderr));
    assert!(text(&agencies.stdout).contains(&format!("{} agencies", 34 * (1 + 8 + 3))));
    let procedures = motcua(
        dir.path(),
        &url,
        &[
            "import",
            "procedures",
            &format!("{out_str}/procedures.dvcqg.json"),
        ],
    );
    assert!(procedures.status.success(), "{}", text(&procedures.stderr));
    assert!(text(&procedures.stdout).contains("300 new procedures"));

    // Histories in bulk: sealed chains and counters that the checks accept.
    let histories = motcua(
        dir.path(),
        &url,
        &["generate", "dossiers", "--count", "3000", "--days", "400"],
    );
    assert!(histories.status.success(), "{}", text(&histories.stderr));
    assert!(text(&histories.stderr).contains("wrote 3000 dossiers"));
    let verify = motcua(dir.path(), &url, &["stats", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    let audit = motcua(dir.path(), &url, &["audit", "verify"]);
    assert!(audit.status.success(), "{}", text(&audit.stderr));
    assert!(text(&audit.stdout).contains("intact: 3000 dossiers"));
    // Some were sent on to the agency above, and their counters followed them.
    let transferred = crate::dossiers::read_column(
        &url,
        "SELECT dossier_code FROM dossier_events WHERE payload LIKE '%to_agency%'",
    )
    .await;
    assert!(transferred.len() > 30, "{} transfers", transferred.len());
}

#[test]
fn help_explains_each_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .arg("--help")
        .output()
        .unwrap();
    let help = text(&out.stdout);
    for command in ["serve", "import", "export", "generate", "bench", "migrate"] {
        assert!(help.contains(command), "{command} in {help}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = text(&out.stdout);
    assert!(help.contains("--addr") && help.contains("--data-dir") && help.contains("--demo"));
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::support::free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--demo", "--addr", &addr])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let healthy = loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
            use std::io::{Read, Write};
            let _ = stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
            let mut body = String::new();
            let _ = stream.read_to_string(&mut body);
            if body.ends_with("ok") {
                break true;
            }
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(healthy, "the server answered /healthz");
    assert!(
        dir.path().join("motcua.db").exists(),
        "SQLite created in the data folder"
    );
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server stopped within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn a_running_server_picks_up_an_import_from_the_command_line() {
    let t = crate::support::spawn(Db::Sqlite, true).await;
    let file = t.data_dir.join("new.json");
    std::fs::write(
        &file,
        r#"[{"MATTHC":"9.000004","TENTTHC":"Cấp phép trồng cây xanh đô thị","LINHVUCTHUCHIEN":[{"MALINHVUC":null,"TENLINHVUC":"Môi trường"}],"CAPTHUCHIEN":["Cấp Xã"],"MUCDO":"Toàn trình"}]"#,
    )
    .unwrap();
    let out = motcua(
        &t.data_dir,
        &t.database_url,
        &["import", "procedures", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, before) = t.json("/api/v1/procedures?q=cay+xanh").await;
    assert_eq!(
        before["total"], 0,
        "the server's index is its own to rebuild"
    );
    // What the server's background refresh does every index_refresh_secs.
    assert!(t.app.refresh_index().await.unwrap());
    let (_, after) = t.json("/api/v1/procedures?q=cay+xanh").await;
    assert_eq!(after["items"][0]["code"], "9.000004");
}

#[test]
fn calendar_commands() {
    // The calendar lives in the database (seeded with the shipped decrees).
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_motcua"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["calendar", "holidays", "--year", "2026"]);
    assert!(out.status.success());
    let lines = text(&out.stdout);
    assert!(
        lines.lines().any(|l| l == "2026-02-17 Lunar New Year"),
        "{lines}"
    );
    assert!(
        lines
            .lines()
            .any(|l| l == "2026-04-27 Hung Kings' Commemoration Day (observed)")
    );
    assert!(!lines.contains("2026-04-26"), "weekdays only");

    let due = run(&[
        "calendar",
        "due",
        "--from",
        "2026-02-12T09:00:00+07:00",
        "--working-days",
        "10",
    ]);
    assert!(due.status.success(), "{}", text(&due.stderr));
    assert_eq!(
        text(&due.stdout).trim(),
        "2026-03-05T17:00:00+07:00",
        "ten working days across Tết"
    );
    let utc = run(&[
        "calendar",
        "due",
        "--from",
        "2026-11-20T09:00:00Z",
        "--working-days",
        "1",
        "--cutoff",
        "15:00",
    ]);
    assert_eq!(
        text(&utc.stdout).trim(),
        "2026-11-25T17:00:00+07:00",
        "16:00 in Hanoi is after the cut-off"
    );

    // The operator edits the decrees: with 24 and 25 November 2026 decreed days off, the
    // deadline moves to the 26th.
    let decree = dir.path().join("decree.json");
    std::fs::write(
        &decree,
        r#"{"years": {"2026": {"days_off": [{"date": "2026-11-24", "name": "Ngày Văn hóa"},
            {"date": "2026-11-25", "name": "Ngày nghỉ bù"}]}}}"#,
    )
    .unwrap();
    let imported = run(&["calendar", "import", decree.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let moved = run(&[
        "calendar",
        "due",
        "--from",
        "2026-11-20T09:00:00Z",
        "--working-days",
        "1",
        "--cutoff",
        "15:00",
    ]);
    assert_eq!(text(&moved.stdout).trim(), "2026-11-26T17:00:00+07:00");
    std::fs::write(
        &decree,
        r#"{"years": {"2026": {"days_off": [], "weekend_workdays": ["2026-11-25"]}}}"#,
    )
    .unwrap();
    let refused = run(&["calendar", "import", decree.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("2026-11-25 is not a Saturday or Sunday"));

    let missing = run(&["calendar", "due", "--from", "2026-11-20T09:00:00Z"]);
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("--working-days"));
    let bad = run(&[
        "calendar",
        "due",
        "--from",
        "yesterday",
        "--working-days",
        "1",
    ]);
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("--from"));
}

#[tokio::test]
async fn operators_import_service_designs() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(Db::Sqlite, dir.path()).await;
    let demo = demo_file();
    let imported = motcua(
        dir.path(),
        &url,
        &[
            "import",
            "procedures",
            demo.to_str().unwrap(),
            "--effective-from",
            "2025-07-01",
        ],
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let steps = |first: u32| {
        serde_json::json!([
            {"name_vi": "Thẩm định", "name_en": "Assess", "role": "handler", "share": first},
            {"name_vi": "Phê duyệt", "name_en": "Approve", "role": "approver", "share": 20}
        ])
    };
    let file = dir.path().join("services.json");
    let write = |entries: serde_json::Value| std::fs::write(&file, entries.to_string()).unwrap();

    // A bad entry is named, and nothing is stored, not even the good one before it.
    write(serde_json::json!([
        {"procedure": "1.014027", "effective_from": "2025-07-01",
         "design": {"form": null, "steps": steps(80)}},
        {"procedure": "1.014028", "effective_from": "2025-07-01",
         "design": {"form": null, "steps": steps(70)}}
    ]));
    let refused = motcua(
        dir.path(),
        &url,
        &["import", "services", file.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(
        message.contains("[1].design") && message.contains("add up to 90%"),
        "{message}"
    );

    write(serde_json::json!([
        {"procedure": "1.014027", "effective_from": "2025-07-01",
         "design": {"form": null, "steps": steps(80)}}
    ]));
    let stored = motcua(
        dir.path(),
        &url,
        &["import", "services", file.to_str().unwrap()],
    );
    assert!(stored.status.success(), "{}", text(&stored.stderr));
    let config = crate::support::config(&url, dir.path());
    let app = motcua::server::open_for_command(&config).await.unwrap();
    let (_, served) = app.application("1.014027").await.unwrap();
    assert!(served.designed);
    assert_eq!(served.design.steps[0].share, 80);
    let (_, generic) = app.application("1.014028").await.unwrap();
    assert!(!generic.designed, "the refused file stored nothing");
}
