//! The catalogue editor: an administrator adds a procedure with its e-form and steps in the
//! browser, a citizen submits a dossier for it at once, and a later version leaves that
//! dossier on the version it was submitted under.

use crate::dossiers::PDF;
use crate::journeys::{browser, form_post, multipart, page, sign_in};
use crate::support::{Db, TestApp, on_both_backends, spawn};

const WARD: &str = "001.00.00.H31";
const CODE: &str = "9.000901";

const SCHEMA: &str = r#"{
  "type": "object",
  "x-order": ["ten_cay", "dia_diem"],
  "required": ["ten_cay", "dia_diem"],
  "properties": {
    "ten_cay": {"type": "string", "minLength": 2, "title": "Loại cây xin chặt hạ", "title_en": "Kind of tree"},
    "dia_diem": {"type": "string", "minLength": 5, "title": "Địa điểm cây", "title_en": "Where the tree stands"}
  }
}"#;

async fn post_editor(
    t: &TestApp,
    b: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let response = form_post(t, b, path).await.form(form).send().await.unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

fn procedure_form<'a>(today: &'a str, shares: (&'a str, &'a str)) -> Vec<(&'a str, &'a str)> {
    vec![
        ("code", CODE),
        ("name", "Cấp phép chặt hạ cây xanh đô thị"),
        ("effective_from", today),
        ("sector", "Hạ tầng kỹ thuật đô thị"),
        ("levels", "commune"),
        ("online", "full"),
        ("agency", "Ủy ban nhân dân cấp xã"),
        ("days", "5"),
        ("fee", "0"),
        (
            "documents",
            "Ảnh chụp hiện trạng cây\nVăn bản đồng ý của hộ liền kề (nếu có)",
        ),
        ("results", "Giấy phép chặt hạ cây xanh"),
        ("form", SCHEMA),
        ("step-0-name_vi", "Kiểm tra hiện trường"),
        ("step-0-name_en", "Inspect the site"),
        ("step-0-role", "handler"),
        ("step-0-level", ""),
        ("step-0-share", shares.0),
        ("step-1-name_vi", "Phê duyệt giấy phép"),
        ("step-1-name_en", "Approve the permit"),
        ("step-1-role", "approver"),
        ("step-1-level", ""),
        ("step-1-share", shares.1),
        ("step-2-name_vi", ""),
        ("step-2-share", ""),
    ]
}

on_both_backends!(an_administrator_adds_a_procedure_and_a_citizen_applies_at_once);
async fn an_administrator_adds_a_procedure_and_a_citizen_applies_at_once(db: Db) {
    let t = spawn(db, true).await;
    let admin = browser();
    assert_eq!(sign_in(&t, &admin, "demo-admin", "demo").await, 303);
    let citizen = browser();
    assert_eq!(sign_in(&t, &citizen, "demo-citizen", "demo").await, 303);
    let second = browser();
    assert_eq!(sign_in(&t, &second, "demo-admin-2", "demo").await, 303);
    let today = app::today().to_string();

    // Only system administrators reach the editor.
    assert_eq!(page(&t, &citizen, "/admin/procedures").await.0, 403);
    let (status, list) = page(&t, &admin, "/admin/procedures?q=khai+sinh").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("href=\"/admin/procedures/1.001193\""),
        "{list}"
    );

    // Mistakes: no name, shares that add up to 90, a schema that is not JSON. Each is named
    // beside its field and in the summary, and what was typed stays.
    let mut form = procedure_form(&today, ("70", "20"));
    form.retain(|(k, _)| *k != "name");
    form.push(("name", " "));
    form.push(("intent", "save"));
    let (status, _, html) = post_editor(&t, &admin, "/admin/procedures/new", &form).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("class=\"error-summary\""));
    assert!(
        html.contains("href=\"#e-name\""),
        "the summary links to the field"
    );
    assert!(html.contains("id=\"e-name-error\""), "{html}");
    assert!(html.contains("cộng lại là 90%"), "{html}");
    assert!(
        html.contains("value=\"Hạ tầng kỹ thuật đô thị\""),
        "the sector stays"
    );
    let mut broken = procedure_form(&today, ("70", "30"));
    broken.retain(|(k, _)| *k != "form");
    broken.push(("form", "{\"type\": \"object\",,}"));
    broken.push(("intent", "save"));
    let (status, _, html) = post_editor(&t, &admin, "/admin/procedures/new", &broken).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("không phải JSON hợp lệ: dòng 1, cột 19"),
        "{html}"
    );
    assert_eq!(
        page(&t, &admin, &format!("/procedures/{CODE}")).await.0,
        404,
        "nothing was stored"
    );

    // The preview draws the e-form as citizens will see it, and stores nothing.
    let mut preview = procedure_form(&today, ("70", "30"));
    preview.push(("intent", "preview"));
    let (status, _, html) = post_editor(&t, &admin, "/admin/procedures/new", &preview).await;
    assert_eq!(status, 200, "{html}");
    let shown = html.split("id=\"preview-h\"").nth(1).expect("a preview");
    assert!(shown.contains("Loại cây xin chặt hạ") && shown.contains("id=\"f-dia_diem\""));
    assert_eq!(
        page(&t, &admin, &format!("/procedures/{CODE}")).await.0,
        404
    );

    // Saving is privileged: refused without an elevation another administrator approved.
    let mut save = procedure_form(&today, ("70", "30"));
    save.push(("intent", "save"));
    assert_eq!(
        post_editor(&t, &admin, "/admin/procedures/new", &save)
            .await
            .0,
        403
    );
    let id = crate::privileged::ask(
        &t,
        &admin,
        "thêm thủ tục cấp phép chặt hạ cây xanh",
        "30",
        false,
    )
    .await;
    let approve = format!("/admin/elevations/{id}/approve");
    assert_eq!(post_editor(&t, &second, &approve, &[]).await.0, 303);

    // Saved: on the portal, found by search without accents, and open for dossiers at once.
    let (status, location, _) = post_editor(&t, &admin, "/admin/procedures/new", &save).await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        format!("/admin/procedures/{CODE}?version={today}&saved=1")
    );
    let (_, saved) = page(&t, &admin, &location).await;
    assert!(saved.contains("Đã lưu") && saved.contains("Kiểm tra hiện trường"));
    let (status, public) = page(&t, &citizen, &format!("/procedures/{CODE}")).await;
    assert_eq!(status, 200);
    assert!(
        public.contains("Cấp phép chặt hạ cây xanh đô thị")
            && public.contains("Ảnh chụp hiện trạng cây")
    );
    let (_, found) = page(&t, &citizen, "/procedures?q=chat+ha+cay+xanh").await;
    assert!(found.contains(&format!("/procedures/{CODE}")), "{found}");
    // The same code again is refused: a version is added from the procedure's own page.
    let (status, _, html) = post_editor(&t, &admin, "/admin/procedures/new", &save).await;
    assert_eq!(status, 422);
    assert!(html.contains("mã này đã có thủ tục"));

    let (status, eform) = page(&t, &citizen, &format!("/procedures/{CODE}/apply")).await;
    assert_eq!(status, 200);
    assert!(eform.contains("Loại cây xin chặt hạ") && eform.contains("Ảnh chụp hiện trạng cây"));
    let fields = [
        ("agency", WARD),
        ("channel", "online"),
        ("ten_cay", "Cây phượng vĩ"),
        ("dia_diem", "Số 12 đường Lạch Tray"),
        ("intent", "submit"),
    ];
    let response = form_post(&t, &citizen, &format!("/procedures/{CODE}/apply"))
        .await
        .multipart(multipart(&fields, vec![("doc-0", "hien-trang.pdf", PDF)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/dossiers/{WARD}-")),
        "{location}"
    );
    let (_, dossier) = page(&t, &citizen, &location).await;
    assert!(
        dossier.contains("Cấp phép chặt hạ cây xanh đô thị") && dossier.contains("hien-trang.pdf")
    );

    // A later version: the editor lists both, and each opens with its own steps.
    let tomorrow = (app::today() + chrono::Duration::days(1)).to_string();
    let mut later = procedure_form(&tomorrow, ("60", "40"));
    later.retain(|(k, _)| *k != "code" && *k != "days");
    later.push(("days", "3"));
    later.push(("intent", "save"));
    let (status, location, html) =
        post_editor(&t, &admin, &format!("/admin/procedures/{CODE}"), &later).await;
    assert_eq!(status, 303, "{html}");
    assert_eq!(
        location,
        format!("/admin/procedures/{CODE}?version={tomorrow}&saved=1")
    );
    let (_, editor) = page(&t, &admin, &location).await;
    assert!(editor.contains(&format!("?version={today}")), "{editor}");
    assert!(editor.contains("value=\"60\"") && editor.contains("value=\"3\""));
    let (_, first) = page(
        &t,
        &admin,
        &format!("/admin/procedures/{CODE}?version={today}"),
    )
    .await;
    assert!(first.contains("value=\"70\"") && first.contains("value=\"5\""));
}
