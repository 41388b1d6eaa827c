//! Search behaviour as a citizen meets it, over the real sample catalogue.

use crate::support::{Db, TestApp, on_both_backends, spawn};

async fn codes(t: &TestApp, query: &str) -> Vec<String> {
    let (status, page) = t
        .json(&format!("/api/v1/procedures?limit=100&{query}"))
        .await;
    assert_eq!(status, 200, "{query}: {page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect()
}

fn q(words: &str) -> String {
    format!("q={}", urlencoding(words))
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

on_both_backends!(unaccented_queries_find_accented_names);
async fn unaccented_queries_find_accented_names(db: Db) {
    let t = spawn(db, true).await;
    let plain = codes(&t, &q("dang ky khai sinh")).await;
    let accented = codes(&t, &q("Đăng ký khai sinh")).await;
    assert_eq!(plain.first().map(String::as_str), Some("1.001193"));
    assert_eq!(accented.first().map(String::as_str), Some("1.001193"));
    for code in ["1.001193", "1.000689", "2.000528", "1.004884", "1.004772"] {
        assert!(plain.contains(&code.to_owned()), "{code} in {plain:?}");
    }
    // Upper case, decomposed (NFD) input and đ/Đ fold the same way.
    let nfd = "DA\u{306}NG KY\u{301} KHAI SINH";
    assert_eq!(
        codes(&t, &q(nfd)).await.first().map(String::as_str),
        Some("1.001193")
    );
    assert!(
        codes(&t, &q("dat dai"))
            .await
            .contains(&"1.012812".to_owned())
    );
}

#[tokio::test]
async fn accents_rank_exact_matches_higher() {
    let t = spawn(Db::Sqlite, false).await;
    let file = r#"[
      {"MATTHC":"9.000001","TENTTHC":"Đăng ký cáp treo du lịch","LINHVUCTHUCHIEN":[{"MALINHVUC":null,"TENLINHVUC":"Du lịch"}],"CAPTHUCHIEN":["Cấp Tỉnh"],"MUCDO":"Một phần"},
      {"MATTHC":"9.000002","TENTTHC":"Đăng ký cấp phép du lịch","LINHVUCTHUCHIEN":[{"MALINHVUC":null,"TENLINHVUC":"Du lịch"}],"CAPTHUCHIEN":["Cấp Tỉnh"],"MUCDO":"Một phần"}
    ]"#;
    t.app
        .import_catalogue(file.as_bytes(), None, &|_| {})
        .await
        .unwrap();
    t.app.refresh_index().await.unwrap();
    assert_eq!(codes(&t, &q("cấp")).await, ["9.000002", "9.000001"]);
    assert_eq!(codes(&t, &q("cáp")).await, ["9.000001", "9.000002"]);
    assert_eq!(
        codes(&t, &q("cap")).await.len(),
        2,
        "unaccented matches both"
    );
}

#[tokio::test]
async fn one_typo_is_forgiven_and_codes_are_found() {
    let t = spawn(Db::Sqlite, true).await;
    assert!(
        codes(&t, &q("dang ky ket honn"))
            .await
            .contains(&"1.000894".to_owned())
    );
    assert!(
        codes(&t, &q("chung thuc ban sao"))
            .await
            .contains(&"2.000815".to_owned())
    );
    assert!(
        codes(&t, &q("hoa giai tranh chap dat dia"))
            .await
            .contains(&"1.012812".to_owned())
    );
    assert_eq!(codes(&t, &q("1.001193")).await, ["1.001193"]);
    let prefix = codes(&t, &q("2.0010")).await;
    assert!(!prefix.is_empty());
    assert!(prefix.iter().all(|c| c.starts_with("2.0010")), "{prefix:?}");
    assert!(codes(&t, &q("xyzzy quux")).await.is_empty());
}

#[tokio::test]
async fn filters_narrow_and_facets_count() {
    let t = spawn(Db::Sqlite, true).await;
    let (_, plain) = t.json("/api/v1/procedures?limit=1").await;
    assert!(plain.get("facets").is_none(), "facets only when asked for");
    let (_, all) = t.json("/api/v1/procedures?limit=1&facets=true").await;
    let online: Vec<(String, u64)> = all["facets"]["online"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["value"].as_str().unwrap().to_owned(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        online,
        [("partial".to_owned(), 29), ("full".to_owned(), 22)]
    );

    let full = codes(&t, "online=full").await;
    assert_eq!(full.len(), 22);
    let civil = codes(&t, &format!("sector={}", urlencoding("Hộ tịch"))).await;
    assert_eq!(civil.len(), 16);
    assert_eq!(codes(&t, "level=province").await.len(), 5);
    assert_eq!(codes(&t, "level=commune").await.len(), 51);
    let baby = codes(&t, "event=co-con-nho").await;
    assert_eq!(baby.len(), 5);
    assert!(baby.contains(&"1.001193".to_owned()));
    // A commune's People's Committee carries out the commune-level procedures.
    assert_eq!(codes(&t, "agency=001.00.00.H31").await.len(), 51);
    assert_eq!(
        codes(&t, "agency=000.00.00.G15").await.len(),
        0,
        "no central procedures in the demo"
    );
    let both = codes(
        &t,
        &format!(
            "online=full&sector={}&{}",
            urlencoding("Hộ tịch"),
            q("khai sinh")
        ),
    )
    .await;
    assert!(both.contains(&"1.001193".to_owned()));
    assert!(both.iter().all(|c| full.contains(c) && civil.contains(c)));

    // Paging walks the same ordered list.
    let (_, first) = t.json("/api/v1/procedures?limit=20&offset=0").await;
    let (_, third) = t.json("/api/v1/procedures?limit=20&offset=40").await;
    assert_eq!(first["total"], 51);
    assert_eq!(third["items"].as_array().unwrap().len(), 11);
    let whole = codes(&t, "").await;
    assert_eq!(third["items"][0]["code"], whole[40]);
}

#[tokio::test]
async fn the_index_is_rebuilt_when_missing_or_stale() {
    let t = spawn(Db::Sqlite, true).await;
    let config = crate::support::config(&t.database_url, &t.data_dir);

    // Stale: the catalogue changed behind the server's back (as `motcua import` does).
    let file = r#"[{"MATTHC":"9.000003","TENTTHC":"Thủ tục thử nghiệm cây xanh","LINHVUCTHUCHIEN":[{"MALINHVUC":null,"TENLINHVUC":"Môi trường"}],"CAPTHUCHIEN":["Cấp Xã"],"MUCDO":"Toàn trình"}]"#;
    t.app
        .import_catalogue(file.as_bytes(), None, &|_| {})
        .await
        .unwrap();
    assert!(
        codes(&t, &q("cay xanh")).await.is_empty(),
        "not indexed yet"
    );
    assert!(
        t.app.refresh_index().await.unwrap(),
        "stale index is rebuilt"
    );
    assert_eq!(codes(&t, &q("cay xanh")).await, ["9.000003"]);
    assert!(
        !t.app.refresh_index().await.unwrap(),
        "a fresh index is left alone"
    );

    // Missing: a start with no index folder builds it from the database.
    let fresh_dir = tempfile::tempdir().unwrap();
    let mut moved = config.clone();
    moved.server.data_dir = fresh_dir.path().to_path_buf();
    // The database stays where it was, and so does the key that opens its sealed data.
    moved.security.master_key_file = Some(config.server.data_dir.join("master.key"));
    let restarted = motcua::server::build(&moved, false).await.unwrap();
    let page = restarted
        .search_catalogue(app::CatalogueSearch {
            text: "cay xanh".into(),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.results.total, 1);
    assert!(fresh_dir.path().join("index").join("meta.json").exists());
}

#[tokio::test]
async fn the_assistant_finds_procedures_from_everyday_words() {
    let t = crate::support::spawn(crate::support::Db::Sqlite, true).await;
    let (status, home) = t.text("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("href=\"/assistant\""));
    let (status, html) = t
        .text("/assistant?q=t%C3%B4i+mu%E1%BB%91n+l%C3%A0m+gi%E1%BA%A5y+t%E1%BB%9D+cho+con+m%E1%BB%9Bi+sinh")
        .await;
    assert_eq!(status, 200);
    let list = html
        .split("id=\"suggested-h\"")
        .nth(1)
        .expect("suggestions");
    let first = list
        .split("href=\"/procedures/")
        .nth(1)
        .and_then(|s| s.split('"').next());
    assert_eq!(first, Some("1.001193"), "{list}");
    assert!(
        list.contains("Bạn nói “con mới sinh” → khai sinh"),
        "{list}"
    );
    // The same over the API, for other portals and assistants.
    let (status, json) = t
        .json("/api/v1/assistant?q=con%20t%C3%B4i%20m%E1%BB%9Bi%20sinh&limit=3")
        .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json[0]["code"], "1.001193", "{json}");
    assert_eq!(json[0]["reasons"][0]["kind"], "phrase");
    assert_eq!(t.json("/api/v1/assistant").await.0, 400);
    // Too short to say anything: named beside the box, not a 500.
    let (status, html) = t.text("/assistant?q=a").await;
    assert_eq!(status, 400);
    assert!(html.contains("id=\"assistant-q-error\""));
}
