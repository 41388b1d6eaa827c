//! The API fuzzed from its own OpenAPI document with schemathesis: thousands of generated
//! requests (valid and broken) find no server error and no response that breaks its schema.

use crate::dossiers::token;
use crate::support::{Db, TestApp, on_both_backends, spawn_configured};

fn schemathesis() -> String {
    std::env::var("MOTCUA_SCHEMATHESIS").unwrap_or_else(|_| "st".into())
}

/// Runs schemathesis as `user` over the operations whose path matches `paths`; returns its
/// report of generated test cases.
fn fuzz(t: &TestApp, bearer: &str, paths: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = std::process::Command::new(schemathesis())
        .arg("run")
        .arg(t.url("/api/v1/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {bearer}")])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--include-path-regex", paths])
        // One worker: with two, CPython 3.11's `ast.parse` inside hypothesis at times fails
        // with "AST constructor recursion depth mismatch", a fault of the tool, not the API.
        .args(["--max-examples", "25", "--workers", "1", "--no-color"])
        .args(["--report", "json"])
        .arg("--report-json-path")
        .arg(&report)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("run {} (scripts/test installs it): {e}", schemathesis()));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found failures:\n{said}");
    serde_json::from_slice(&std::fs::read(&report).unwrap_or_default())
        .unwrap_or(serde_json::Value::Null)
}

on_both_backends!(the_api_survives_fuzzing_from_its_own_schema);
async fn the_api_survives_fuzzing_from_its_own_schema(db: Db) {
    let (t, ()) = spawn_configured(db, true, async |config, _| {
        // The fuzzer comes from one address; the rate limits are tested on their own.
        config.limits = web::Limits::unlimited();
    })
    .await;
    let citizen = token(&t, "demo-citizen").await;
    let leader = token(&t, "demo-leader").await;
    let t = std::sync::Arc::new(t);
    let run = |bearer: String, paths: &'static str| {
        let t = t.clone();
        tokio::task::spawn_blocking(move || fuzz(&t, &bearer, paths))
    };
    // Everything as a citizen; the statistics and sync as a leader, who may read them.
    for (report, least) in [
        (run(citizen, ".*").await.unwrap(), 500),
        (run(leader, "/stats|/sync").await.unwrap(), 20),
    ] {
        let cases = &report["test_cases"];
        assert_eq!(cases["with_failures"], 0, "{report:#}");
        assert_eq!(cases["errored"], 0, "{report:#}");
        assert!(cases["generated"].as_i64().unwrap() >= least, "{cases}");
        assert_eq!(report["operations"]["errored"], 0);
    }
    // The server still answers after all that.
    assert_eq!(t.get("/readyz").await.status(), 200);
}
