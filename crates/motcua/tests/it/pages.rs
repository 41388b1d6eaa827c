//! The portal's HTML pages, as a browser without JavaScript gets them.

use crate::support::{Db, spawn};

#[tokio::test]
async fn home_search_and_procedure_pages() {
    let t = spawn(Db::Sqlite, true).await;

    let (status, home) = t.text("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("<html lang=\"vi\">"));
    assert!(home.contains("<strong>51</strong>"), "procedure count");
    assert!(
        home.contains("Hộ tịch") && home.contains("/procedures?sector=H%E1%BB%99%20t%E1%BB%8Bch")
    );
    assert!(home.contains("Có con nhỏ") && home.contains("/procedures?event=co-con-nho"));
    assert!(
        home.contains("action=\"/procedures\""),
        "a search form that works without JavaScript"
    );

    let (status, results) = t.text("/procedures?q=dang+ky+khai+sinh").await;
    assert_eq!(status, 200);
    assert!(results.contains("Thủ tục đăng ký khai sinh"));
    assert!(results.contains("href=\"/procedures/1.001193\""));
    assert!(results.contains("Toàn trình"));

    let (status, page) = t.text("/procedures/1.001193").await;
    assert_eq!(status, 200);
    for expected in [
        "Thủ tục đăng ký khai sinh",
        "Trình tự thực hiện",
        "Cách thức thực hiện",
        "Trực tiếp",
        "Trực tuyến",
        "Bưu chính công ích",
        "Thành phần hồ sơ",
        "Căn cứ pháp lý",
        "Cơ quan thực hiện",
        "Ủy ban nhân dân phường Hồng Bàng",
        "Có con nhỏ",
        "Toàn trình",
    ] {
        assert!(page.contains(expected), "procedure page shows {expected}");
    }

    // A procedure whose details the source lacks says so.
    let (status, bare) = t.text("/procedures/2.002481").await;
    assert_eq!(status, 200);
    assert!(bare.contains("chưa công bố chi tiết"));

    // Fees are shown in VND the Vietnamese way.
    let (_, fees) = t.text("/procedures/2.000635").await;
    assert!(fees.contains("8.000 đ"), "fee of 8,000 VND");

    for path in [
        "/sectors",
        "/life-events",
        "/agencies",
        "/procedures?event=ket-hon&page=1",
    ] {
        let (status, _) = t.text(path).await;
        assert_eq!(status, 200, "{path}");
    }
}

#[tokio::test]
async fn english_on_request_and_friendly_errors() {
    let t = spawn(Db::Sqlite, true).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(t.url("/lang/en?next=/procedures"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/procedures");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("lang=en"));
    let english = client
        .get(t.url("/"))
        .header("cookie", "lang=en")
        .send()
        .await
        .unwrap();
    let html = english.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Search administrative procedures"));

    let offsite = client
        .get(t.url("/lang/en?next=//evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(offsite.headers()["location"], "/", "no open redirect");

    let (status, missing) = t.text("/procedures/9.999999").await;
    assert_eq!(status, 404);
    assert!(missing.contains("Không tìm thấy"));
    let (status, bad) = t.text("/procedures?page=0&limit=500").await;
    assert_eq!(status, 400);
    assert!(bad.contains("Một số tham số không hợp lệ"));
    assert!(bad.contains("<strong>page</strong>") && bad.contains("<strong>limit</strong>"));
    let (status, _) = t.text("/no/such/page").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn form_templates_download_when_stored() {
    let t = spawn(Db::Sqlite, true).await;
    let (_, before) = t.text("/procedures/1.014027").await;
    assert!(before.contains("Bieu mau 01 1.014027.docx"));
    assert!(
        !before.contains("/procedures/1.014027/forms/"),
        "no link without a file"
    );

    let content = b"PK\x03\x04 form".to_vec();
    let template = app::FormTemplate {
        file_name: "Bieu mau 01 1.014027.docx".into(),
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            .into(),
        content: content.clone(),
    };
    t.app
        .put_form_template("1.014027", template.clone())
        .await
        .unwrap();
    let (_, after) = t.text("/procedures/1.014027").await;
    let href = "/procedures/1.014027/forms/Bieu%20mau%2001%201.014027.docx";
    assert!(after.contains(href), "a download link");
    let download = t.get(href).await;
    assert_eq!(download.status(), 200);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(download.bytes().await.unwrap().to_vec(), content);

    // One catalogue field can name several files; each is a template of its own.
    let several = app::FormTemplate {
        file_name: "Mus1a.docx".into(),
        ..template.clone()
    };
    t.app.put_form_template("1.001776", several).await.unwrap();
    let (_, listed) = t.text("/procedures/1.001776").await;
    assert!(listed.contains("/procedures/1.001776/forms/Mus1a.docx"));
    assert!(
        listed.contains("Mus1b.docx <span class=\"muted\">"),
        "the others are not stored"
    );

    let not_named = app::FormTemplate {
        file_name: "other.docx".into(),
        ..template
    };
    let err = t
        .app
        .put_form_template("1.014027", not_named)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("other.docx"));
    assert_eq!(
        t.get("/procedures/1.014027/forms/other.docx")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_document_check_lists_what_the_case_needs() {
    let t = spawn(Db::Sqlite, true).await;
    let (_, procedure) = t.text("/procedures/1.001193").await;
    assert!(procedure.contains("href=\"/procedures/1.001193/check\""));
    let (status, html) = t.text("/procedures/1.001193/check").await;
    assert_eq!(status, 200);
    // Conditional documents are asked about; the others are always needed.
    assert!(html.contains("name=\"doc\" value=\"0-0\""), "{html}");
    assert!(html.contains("luôn cần</span> <span class=\"prewrap\">Giấy chứng sinh"));
    assert!(
        !html.contains("id=\"result-h\""),
        "no list before the answers"
    );

    // An abandoned child: the record of abandonment joins the list, surrogacy's paper does not.
    let (status, html) = t
        .text("/procedures/1.001193/check?answered=1&doc=0-0")
        .await;
    assert_eq!(status, 200);
    let list = html
        .split("id=\"result-h\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("the list");
    assert!(list.contains("trẻ em bị bỏ rơi") && list.contains("Giấy chứng sinh"));
    assert!(!list.contains("mang thai hộ"), "{list}");
    assert!(list.contains("href=\"/procedures/1.001193/apply\""));
    assert_eq!(t.text("/procedures/9.999999/check").await.0, 404);
}
