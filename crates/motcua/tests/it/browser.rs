//! The journeys in a real browser: `scripts/browser/journeys.mjs` drives Debian's chromium with
//! playwright-core through the citizen's, the officials' and the leader's pages, and checks
//! every page with axe-core (WCAG 2.2 A and AA). Screenshots go to
//! `target/screenshots/{backend}`.

use crate::support::{Db, on_both_backends, spawn_configured};

fn chromium() -> String {
    std::env::var("MOTCUA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

on_both_backends!(the_journeys_pass_in_a_real_browser_with_no_accessibility_violations);
async fn the_journeys_pass_in_a_real_browser_with_no_accessibility_violations(db: Db) {
    let browser = chromium();
    assert!(
        std::path::Path::new(&browser).exists(),
        "no browser at {browser}: `apt-get install chromium` (scripts/test does it), or set \
         MOTCUA_CHROMIUM"
    );
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/browser");
    assert!(
        scripts.join("node_modules/playwright-core").is_dir(),
        "run `npm ci` in scripts/browser (scripts/test does it)"
    );
    let (t, ()) = spawn_configured(db, true, async |config, base| {
        config.server.public_url = Some(base);
        // The browser comes from one address, many times.
        config.limits = web::Limits::unlimited();
    })
    .await;
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/screenshots")
        .join(format!("{db:?}").to_lowercase());
    let _ = std::fs::remove_dir_all(&out);
    let mut command = std::process::Command::new("node");
    command
        .arg(scripts.join("journeys.mjs"))
        .arg(&t.base)
        .arg(&out)
        .env("CHROMIUM", &browser);
    let run = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("node runs the browser journeys");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("no report ({e}):\n{said}"));
    assert!(report["error"].is_null(), "a step failed:\n{said}");
    let pages = report["pages"].as_array().unwrap();
    let visited: Vec<&str> = pages.iter().map(|p| p["name"].as_str().unwrap()).collect();
    for journey_page in [
        "search-results",
        "e-form-errors",
        "receipt",
        "official-received",
        "supplement",
        "payment-receipt",
        "rating",
        "dossier-returned",
        "dashboard",
    ] {
        assert!(
            visited.contains(&journey_page),
            "{journey_page} in {visited:?}"
        );
    }
    for page in pages {
        assert_eq!(
            page["violations"],
            serde_json::json!([]),
            "axe found violations on {}:\n{said}",
            page["url"]
        );
        assert!(out.join(page["screenshot"].as_str().unwrap()).is_file());
    }
    assert!(run.status.success(), "{said}");
}
