//! The JSON API, on both backends.

use crate::support::{Db, on_both_backends, spawn};

on_both_backends!(catalogue_api_answers_and_documents_itself);
async fn catalogue_api_answers_and_documents_itself(db: Db) {
    let t = spawn(db, true).await;

    let (status, page) = t
        .json("/api/v1/procedures?q=dang%20ky%20khai%20sinh&limit=5")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["code"], "1.001193");
    assert_eq!(page["items"][0]["name"], "Thủ tục đăng ký khai sinh");
    assert_eq!(page["limit"], 5);
    assert!(page["total"].as_u64().unwrap() >= 5);
    assert!(page["items"].as_array().unwrap().len() <= 5);

    let (status, all) = t.json("/api/v1/procedures?limit=100").await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 51);
    assert_eq!(all["items"].as_array().unwrap().len(), 51);

    let (status, detail) = t.json("/api/v1/procedures/1.001193").await;
    assert_eq!(status, 200);
    let p = &detail["procedure"];
    assert_eq!(p["code"], "1.001193");
    assert_eq!(p["online"], "full");
    assert!(!p["steps"].as_array().unwrap().is_empty());
    assert!(!p["channels"].as_array().unwrap().is_empty());
    assert!(!p["documents"].as_array().unwrap().is_empty());
    assert!(!p["legal_basis"].as_array().unwrap().is_empty());
    assert_eq!(detail["versions"], serde_json::json!(["2025-07-01"]));
    assert_eq!(detail["life_events"], serde_json::json!(["co-con-nho"]));

    let response = t.get("/api/v1/procedures/9.999999").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 404);
    assert!(problem["detail"].as_str().unwrap().contains("9.999999"));

    let (status, agencies) = t.json("/api/v1/agencies").await;
    assert_eq!(status, 200);
    let items = agencies["items"].as_array().unwrap();
    assert_eq!(agencies["total"], items.len());
    let position = |code: &str| items.iter().position(|a| a["code"] == code).unwrap();
    assert!(
        position("000.00.00.H31") < position("001.00.00.H31"),
        "parents come first"
    );
    assert_eq!(items[position("001.00.00.H31")]["parent"], "000.00.00.H31");
    assert_eq!(items[position("001.00.00.H31")]["level"], "commune");

    let (status, doc) = t.json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/procedures",
        "/api/v1/procedures/{code}",
        "/api/v1/agencies",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
}

/// Every bad parameter is a 400 problem naming it.
async fn expect_bad_parameter(t: &crate::support::TestApp, path: &str, names: &[&str]) {
    let response = t.get(path).await;
    assert_eq!(response.status(), 400, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{path}"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    let reported: Vec<&str> = problem["invalid_params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(reported, names, "{path}: {problem}");
    assert_eq!(problem["status"], 400);
    assert!(!problem["title_vi"].as_str().unwrap().is_empty());
}

on_both_backends!(bad_parameters_are_named);
async fn bad_parameters_are_named(db: Db) {
    let t = spawn(db, true).await;
    expect_bad_parameter(&t, "/api/v1/procedures?offset=-1", &["offset"]).await;
    expect_bad_parameter(&t, "/api/v1/procedures?limit=101", &["limit"]).await;
    expect_bad_parameter(&t, "/api/v1/procedures?limit=0", &["limit"]).await;
    expect_bad_parameter(
        &t,
        "/api/v1/procedures?limit=abc&offset=-5",
        &["limit", "offset"],
    )
    .await;
    expect_bad_parameter(&t, "/api/v1/procedures?offset=10001", &["offset"]).await;
    expect_bad_parameter(&t, "/api/v1/procedures?online=sometimes", &["online"]).await;
    expect_bad_parameter(&t, "/api/v1/procedures?facets=maybe", &["facets"]).await;
    expect_bad_parameter(&t, "/api/v1/procedures?level=hamlet", &["level"]).await;
    expect_bad_parameter(&t, "/api/v1/procedures?agency=H31", &["agency"]).await;
    expect_bad_parameter(&t, "/api/v1/procedures?agency=000.00.00.H99", &["agency"]).await;
    expect_bad_parameter(
        &t,
        "/api/v1/procedures?agency=001.00.00.H31&level=province",
        &["level"],
    )
    .await;
    let response = t.get("/api/v1/no-such-thing").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn operations_endpoints() {
    let t = spawn(Db::Sqlite, true).await;
    assert_eq!(t.text("/healthz").await, (200, "ok".into()));
    assert_eq!(t.text("/readyz").await, (200, "ready".into()));
    t.get("/api/v1/procedures?q=ket+hon").await;
    let (status, metrics) = t.text("/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("http_requests_total{"), "{metrics}");
    assert!(
        metrics.contains("route=\"/api/v1/procedures\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "{metrics}"
    );
}
