//! Feedback and petitions: a citizen writes to an agency about a procedure, its official
//! answers within the deadline and publishes the answer, which becomes one of the procedure's
//! frequently asked questions.

use crate::journeys::{browser, form_post, page, post_form, sign_in};
use crate::support::{Db, on_both_backends, spawn};

const WARD: &str = "001.00.00.H31";

on_both_backends!(a_citizen_sends_feedback_and_the_published_answer_joins_the_procedure);
async fn a_citizen_sends_feedback_and_the_published_answer_joins_the_procedure(db: Db) {
    let t = spawn(db, true).await;
    let citizen = browser();
    assert_eq!(sign_in(&t, &citizen, "demo-citizen", "demo").await, 303);
    let reception = browser();
    assert_eq!(sign_in(&t, &reception, "demo-reception", "demo").await, 303);
    let elsewhere = browser();
    assert_eq!(
        sign_in(&t, &elsewhere, "demo-handler-province", "demo").await,
        303
    );

    // The procedure page links to the form, which knows the procedure.
    let (_, procedure) = page(&t, &citizen, "/procedures/1.001193").await;
    assert!(
        procedure.contains("Câu hỏi thường gặp")
            && procedure.contains("/feedback/new?procedure=1.001193")
    );
    let (status, form) = page(&t, &citizen, "/feedback/new?procedure=1.001193").await;
    assert_eq!(status, 200);
    assert!(form.contains("value=\"1.001193\""));

    // Mistakes are named beside their fields and what was typed stays.
    let (status, html) = post_form(
        &t,
        &citizen,
        "/feedback/new",
        &[
            ("agency", ""),
            ("procedure", "9.999999"),
            ("subject", "Hỏi"),
            ("body", "Tôi muốn hỏi về thời hạn."),
        ],
    )
    .await;
    assert_eq!(status, 422);
    for field in ["agency", "procedure", "subject"] {
        assert!(
            html.contains(&format!("id=\"fb-{field}-error\"")),
            "{field}: {html}"
        );
    }
    assert!(html.contains("Tôi muốn hỏi về thời hạn."));
    // Officials answer feedback; they do not send it.
    let sent = [
        ("agency", WARD),
        ("procedure", "1.001193"),
        ("subject", "Khai sinh cho con sinh ở nước ngoài"),
        (
            "body",
            "Con tôi sinh ở nước ngoài thì đăng ký khai sinh ở đâu, cần giấy tờ gì?",
        ),
    ];
    assert_eq!(
        post_form(&t, &reception, "/feedback/new", &sent).await.0,
        403
    );

    let response = form_post(&t, &citizen, "/feedback/new")
        .await
        .form(&sent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let (_, mine) = page(
        &t,
        &citizen,
        response.headers()["location"].to_str().unwrap(),
    )
    .await;
    let due = domain::calendar::Calendar::vietnam()
        .due_at(
            chrono::Utc::now(),
            domain::feedback::ANSWER_WORKING_DAYS,
            domain::TimeUnit::WorkingDays,
            &Default::default(),
        )
        .with_timezone(&domain::calendar::vietnam_offset())
        .format("%d/%m/%Y")
        .to_string();
    assert!(mine.contains("Đã gửi phản ánh, kiến nghị số") && mine.contains("Đang chờ trả lời"));
    assert!(mine.contains(&due), "due in 10 working days, {due}: {mine}");

    // The ward's officials see it; another agency's do not, and cannot answer it.
    let (status, desk) = page(&t, &reception, "/desk/feedback").await;
    assert_eq!(status, 200);
    assert!(desk.contains("Khai sinh cho con sinh ở nước ngoài"));
    let id = desk
        .split("action=\"/desk/feedback/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("an answer form")
        .to_owned();
    // Auditors read; they do not answer.
    let auditor = browser();
    assert_eq!(sign_in(&t, &auditor, "demo-auditor", "demo").await, 303);
    assert_eq!(page(&t, &auditor, "/desk/feedback").await.0, 403);
    let (_, other) = page(&t, &elsewhere, "/desk/feedback").await;
    assert!(!other.contains("Khai sinh cho con sinh ở nước ngoài"));
    let answer_path = format!("/desk/feedback/{id}/answer");
    let answer = [
        (
            "answer",
            "Đăng ký tại cơ quan đại diện Việt Nam ở nước ngoài, hoặc tại UBND cấp xã nơi cư trú khi về nước, với giấy chứng sinh.",
        ),
        ("publish", "yes"),
    ];
    assert_eq!(
        post_form(&t, &elsewhere, &answer_path, &answer).await.0,
        404
    );

    // Too short an answer is refused beside its box; then answered and published, once.
    let (status, html) = post_form(&t, &reception, &answer_path, &[("answer", "Đã rõ")]).await;
    assert_eq!(status, 422);
    assert!(
        html.contains(&format!("id=\"answer-{id}-error\"")) && html.contains(">Đã rõ</textarea>")
    );
    assert_eq!(
        post_form(&t, &reception, &answer_path, &answer).await.0,
        303
    );
    assert_eq!(
        post_form(&t, &reception, &answer_path, &answer).await.0,
        409
    );

    let (_, mine) = page(&t, &citizen, "/feedback/new").await;
    assert!(mine.contains("Đã trả lời đúng hạn") && mine.contains("cơ quan đại diện Việt Nam"));
    let visitor = browser();
    let (_, public) = page(&t, &visitor, "/feedback").await;
    assert!(
        public.contains("Khai sinh cho con sinh ở nước ngoài") && !public.contains("demo-citizen")
    );
    let (_, procedure) = page(&t, &visitor, "/procedures/1.001193").await;
    let faq = procedure.split("id=\"faq-h\"").nth(1).unwrap();
    assert!(
        faq.contains("Khai sinh cho con sinh ở nước ngoài")
            && faq.contains("cơ quan đại diện Việt Nam")
    );

    // The agency withdraws the answer from the public list, and publishes it again.
    let publish_path = format!("/desk/feedback/{id}/publish");
    assert_eq!(
        post_form(&t, &elsewhere, &publish_path, &[("publish", "no")])
            .await
            .0,
        404
    );
    assert_eq!(
        post_form(&t, &reception, &publish_path, &[("publish", "no")])
            .await
            .0,
        303
    );
    let (_, public) = page(&t, &visitor, "/feedback").await;
    assert!(!public.contains("Khai sinh cho con sinh ở nước ngoài"));
    let (_, procedure) = page(&t, &visitor, "/procedures/1.001193").await;
    assert!(!procedure.contains("Khai sinh cho con sinh ở nước ngoài"));
    assert_eq!(
        post_form(&t, &reception, &publish_path, &[("publish", "yes")])
            .await
            .0,
        303
    );
    let (_, public) = page(&t, &visitor, "/feedback").await;
    assert!(public.contains("Khai sinh cho con sinh ở nước ngoài"));
}
