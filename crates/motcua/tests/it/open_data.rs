//! Open data: the package validates under the `frictionless` validator, small counts at
//! commune and procedure detail are withheld, and the DCAT catalogue points at every file.

use serde_json::{Value, json};

use crate::dossiers::{act, pension_application, post, token};
use crate::support::{Db, TestApp, on_both_backends, spawn};

/// The `frictionless` command: `MOTCUA_FRICTIONLESS`, or on the PATH (`scripts/test`
/// installs it).
fn frictionless() -> String {
    std::env::var("MOTCUA_FRICTIONLESS").unwrap_or_else(|_| "frictionless".into())
}

async fn body(t: &TestApp, path: &str) -> (u16, String) {
    t.text(path).await
}

on_both_backends!(open_data_validates_and_withholds_small_counts);
async fn open_data_validates_and_withholds_small_counts(db: Db) {
    let t = spawn(db, true).await;
    let citizen = token(&t, "demo-citizen").await;
    let reception = token(&t, "demo-reception").await;
    for _ in 0..2 {
        let (status, created) = post(
            &t,
            "/api/v1/dossiers",
            &citizen,
            pension_application(),
            None,
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let code = created["dossier"]["code"].as_str().unwrap().to_owned();
        act(&t, &reception, &code, "receive", json!({"version": 1})).await;
    }
    let year = app::today().format("%Y").to_string();

    let (status, package) = t.json("/open-data/datapackage.json").await;
    assert_eq!(status, 200);
    assert_eq!(package["licenses"][0]["name"], "CC-BY-4.0");
    let resources = package["resources"].as_array().unwrap();
    let paths: Vec<&str> = resources
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    let agencies_csv = format!("statistics/agencies-{year}.csv");
    let procedures_csv = format!("statistics/procedures-{year}.csv");
    assert!(paths.contains(&"procedures.csv"));
    assert!(paths.contains(&agencies_csv.as_str()) && paths.contains(&procedures_csv.as_str()));

    // Lay the package out as a publisher would and let frictionless check every row against
    // its schema (types, primary keys, header names).
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(folder.path().join("statistics")).unwrap();
    std::fs::write(folder.path().join("datapackage.json"), package.to_string()).unwrap();
    for path in &paths {
        let (status, text) = body(&t, &format!("/open-data/{path}")).await;
        assert_eq!(status, 200, "{path}");
        std::fs::write(folder.path().join(path), text).unwrap();
    }
    let out = std::process::Command::new(frictionless())
        .args(["validate", "--json", "datapackage.json"])
        .current_dir(folder.path())
        .output()
        .unwrap_or_else(|e| panic!("run {} (scripts/test installs it): {e}", frictionless()));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "frictionless said: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(report["valid"], true, "{report:#}");
    assert_eq!(
        report["stats"]["tasks"],
        paths.len(),
        "every resource checked"
    );

    // The ward (a commune) received two: withheld, in the CSV as an empty cell and in the JSON
    // as null; its zero refusals are published, since zero points at no one.
    let (_, agencies) = body(&t, &format!("/open-data/{agencies_csv}")).await;
    let ward_row = agencies
        .lines()
        .find(|l| l.contains("001.00.00.H31"))
        .unwrap_or_else(|| panic!("no ward row in {agencies}"));
    let cells: Vec<&str> = ward_row.split(',').collect();
    assert_eq!(cells[3], "commune");
    assert_eq!(
        (cells[4], cells[5]),
        ("", ""),
        "received and received online: {ward_row}"
    );
    assert_eq!(cells[9], "0", "refused");
    let (_, rows) = t
        .json(&format!("/open-data/statistics/agencies-{year}.json"))
        .await;
    let ward = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agency_code"] == "001.00.00.H31")
        .unwrap();
    assert_eq!(ward["received"], Value::Null);
    assert_eq!(ward["refused"], 0);
    let (_, by_procedure) = t
        .json(&format!("/open-data/statistics/procedures-{year}.json"))
        .await;
    assert_eq!(by_procedure[0]["procedure_code"], "1.014027");
    assert_eq!(by_procedure[0]["received"], Value::Null);

    let (_, procedures) = t.json("/open-data/procedures.json").await;
    let procedures = procedures.as_array().unwrap();
    assert!(procedures.iter().any(|p| p["code"] == "1.014027"));
    assert!(
        procedures
            .windows(2)
            .all(|w| w[0]["code"].as_str() < w[1]["code"].as_str())
    );

    // DCAT: a catalogue whose datasets are the package's resources, each downloadable.
    let (status, catalog) = t.json("/open-data/catalog.jsonld").await;
    assert_eq!(status, 200);
    assert_eq!(catalog["@type"], "dcat:Catalog");
    assert_eq!(
        catalog["dct:license"]["@id"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    let datasets = catalog["dcat:dataset"].as_array().unwrap();
    assert_eq!(datasets.len(), resources.len());
    for dataset in datasets {
        for distribution in dataset["dcat:distribution"].as_array().unwrap() {
            let url = distribution["dcat:downloadURL"]["@id"].as_str().unwrap();
            let path = &url[url.find("/open-data/").unwrap()..];
            assert_eq!(body(&t, path).await.0, 200, "{url}");
        }
    }

    let (status, page) = body(&t, "/open-data/").await;
    assert_eq!(status, 200);
    assert!(page.contains("datapackage.json") && page.contains("Creative Commons"));
    for missing in [
        "/open-data/secrets.csv",
        "/open-data/statistics/agencies-1999.csv",
        "/open-data/statistics/people-2026.csv",
        "/open-data/statistics/agencies-2026.xml",
    ] {
        assert_eq!(body(&t, missing).await.0, 404, "{missing}");
    }
}
