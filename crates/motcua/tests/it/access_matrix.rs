//! The access matrix (docs/PERMISSIONS.md), walked endpoint by endpoint for every role: no
//! role or agency reads or changes what it should not, and guessing a code or an id finds
//! nothing. Every cell is checked; a failure lists every cell that differs.

use serde_json::json;

use crate::dossiers::{PDF, token, upload};
use crate::support::{Db, TestApp, on_both_backends, spawn};

/// The people of the matrix: demo accounts, one per role, and a province official outside
/// the ward's branch of the agency tree.
const PEOPLE: [&str; 11] = [
    "anonymous",
    "demo-citizen",
    "demo-citizen-2",
    "demo-reception",
    "demo-handler",
    "demo-approver",
    "demo-handler-province",
    "demo-leader",
    "demo-admin",
    "demo-auditor",
    "demo-sync",
];

async fn status(t: &TestApp, method: &str, path: &str, token: Option<&str>) -> u16 {
    // Redirects are answers here (to the sign-in page), not to be followed.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = match (method, path.starts_with("/api/")) {
        ("GET", _) => client.get(t.url(path)),
        ("POST", true) => client.post(t.url(path)).json(&json!({ "version": 1 })),
        ("POST", false) => client
            .post(t.url(path))
            .form(&[("username", "demo-citizen")]),
        _ => unreachable!(),
    };
    if let Some(token) = token {
        // Pages read the session cookie, the API the bearer token; a token serves as both.
        // Forms carry the session's anti-forgery token, as the portal's pages put it in them.
        request = request
            .bearer_auth(token)
            .header("cookie", format!("motcua_session={token}"))
            .header("x-csrf-token", t.app.csrf_token(token).await.unwrap());
    }
    request.send().await.unwrap().status().as_u16()
}

on_both_backends!(every_role_reaches_only_what_the_matrix_allows);
async fn every_role_reaches_only_what_the_matrix_allows(db: Db) {
    let t = spawn(db, true).await;
    let mut tokens = Vec::new();
    for person in PEOPLE {
        tokens.push(match person {
            "anonymous" => None,
            user => Some(token(&t, user).await),
        });
    }
    let owner = tokens[1].clone().unwrap();
    let dossier = crate::stats::submit(&t, &owner).await;
    let file = upload(&t, &owner, "giay-to.pdf", PDF).await;
    let guessed_dossier = format!("{}9", &dossier[..dossier.len() - 1]);

    // Expected status per person, in the order of PEOPLE:
    // anon, citizen, citizen-2, reception, handler, approver, province, leader, admin,
    // auditor, sync.
    let rows: Vec<(&str, String, [u16; 11])> = vec![
        // The applicant, the ward's officials, the city leader and the auditor read it; another
        // citizen, another branch, administrators and the exchange client find nothing.
        (
            "GET",
            format!("/api/v1/dossiers/{dossier}"),
            [401, 200, 404, 200, 200, 200, 404, 200, 404, 200, 404],
        ),
        (
            "GET",
            format!("/dossiers/{dossier}"),
            [303, 200, 404, 200, 200, 200, 404, 200, 404, 200, 404],
        ),
        (
            "GET",
            format!("/dossiers/{dossier}/print/receipt"),
            [303, 200, 404, 200, 200, 200, 404, 200, 404, 200, 404],
        ),
        // A guessed code is not found for anyone.
        (
            "GET",
            format!("/api/v1/dossiers/{guessed_dossier}"),
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        // Lists: each sees their own or their subtree; administrators and the exchange client
        // read no dossiers (the administrator's page sends them to /admin).
        (
            "GET",
            "/api/v1/dossiers".into(),
            [401, 200, 200, 200, 200, 200, 200, 200, 403, 200, 403],
        ),
        (
            "GET",
            "/dossiers".into(),
            [303, 200, 200, 200, 200, 200, 200, 200, 303, 200, 403],
        ),
        // An upload not yet in a dossier is its uploader's alone.
        (
            "GET",
            format!("/api/v1/files/{file}"),
            [401, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        (
            "GET",
            format!("/files/{file}"),
            [303, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        // Acting: only the ward's reception officer receives; the others who see the dossier
        // are refused by role, those who do not see it find nothing.
        (
            "POST",
            format!("/api/v1/dossiers/{dossier}/actions/complete_step"),
            [401, 403, 404, 403, 409, 403, 404, 403, 404, 403, 404],
        ),
        // Statistics: leaders and auditors, administrators (counts, no personal data).
        (
            "GET",
            "/api/v1/stats".into(),
            [401, 403, 403, 403, 403, 403, 403, 200, 200, 200, 403],
        ),
        (
            "GET",
            "/dashboard".into(),
            [303, 403, 403, 403, 403, 403, 403, 200, 200, 200, 403],
        ),
        (
            "GET",
            "/dashboard/export/agencies.csv".into(),
            [303, 403, 403, 403, 403, 403, 403, 200, 200, 200, 403],
        ),
        // The public figures and the catalogue are everyone's.
        (
            "GET",
            "/statistics".into(),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/procedures/1.014027/service".into(),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        // Drafts: each their own (officials have none).
        (
            "GET",
            "/api/v1/drafts".into(),
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        // The national sync feed names applicants everywhere: its exchange client only (an
        // administrator under an elevation; auditors read through their own subtree).
        (
            "GET",
            "/api/v1/sync/dossiers?cursor=0".into(),
            [401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200],
        ),
        // Privileged access: administrators' page, auditors' views.
        (
            "GET",
            "/admin".into(),
            [303, 403, 403, 403, 403, 403, 403, 403, 200, 403, 403],
        ),
        (
            "POST",
            "/admin/accounts/unlock".into(),
            [303, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        ),
        (
            "GET",
            "/audit/privileged".into(),
            [303, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403],
        ),
        (
            "GET",
            "/audit/access?subject=demo-citizen".into(),
            [303, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403],
        ),
        // Everyone signed in has an account page with their own sessions.
        (
            "GET",
            "/account".into(),
            [303, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
        ),
        // Payments: the dossier's messages and orders show on its page; the day's
        // reconciliation is for officials, leaders and auditors of the subtree.
        (
            "GET",
            "/desk/payments".into(),
            [303, 403, 403, 200, 200, 200, 200, 200, 403, 200, 403],
        ),
        (
            "GET",
            "/payments/1/receipt".into(),
            [303, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404],
        ),
        (
            "POST",
            format!("/dossiers/{dossier}/pay"),
            [303, 409, 404, 403, 403, 403, 404, 403, 404, 403, 404],
        ),
        (
            "POST",
            format!("/api/v1/dossiers/{dossier}/payment"),
            [401, 409, 404, 403, 403, 403, 404, 403, 404, 403, 404],
        ),
        // The dead letters of the outbox, for system administrators.
        (
            "GET",
            "/admin/notifications".into(),
            [303, 403, 403, 403, 403, 403, 403, 403, 200, 403, 403],
        ),
    ];

    let mut wrong = Vec::new();
    for (method, path, expected) in &rows {
        for (i, person) in PEOPLE.iter().enumerate() {
            let got = status(&t, method, path, tokens[i].as_deref()).await;
            if got != expected[i] {
                wrong.push(format!(
                    "{method} {path} as {person}: {got}, expected {}",
                    expected[i]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "cells that differ:\n{}", wrong.join("\n"));

    // After all those reads, the applicant's access log names each official who opened her
    // dossier, and nobody who was refused.
    let (_, log) = t.text_with_cookie("/account", &owner).await;
    for name in [
        "Lê Thị Cúc",
        "Phạm Văn Dũng",
        "Hoàng Văn Em",
        "Vũ Thị Giang",
        "Đinh Thị Lan",
    ] {
        assert!(log.contains(name), "{name} is in the access log");
    }
    for name in ["Trần Thị Bình", "Bùi Thị Hoa", "Đỗ Văn Hải"] {
        assert!(!log.contains(name), "{name} read nothing");
    }
}
