//! The storage contract, run against SQLite and PostgreSQL alike.

use chrono::NaiveDate;
use domain::{Agency, AgencyCode, LifeEvent, ProcedureCode};
use store::{FormTemplate, Store, StoreError};

use crate::support::{Db, database_url, demo_file, on_both_backends};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn open(db: Db) -> (std::sync::Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, dir.path()).await;
    (
        store::open(&url, 4)
            .await
            .expect("the store opens and migrates"),
        dir,
    )
}

async fn sample(store: &dyn Store, effective_from: NaiveDate) -> Vec<domain::Procedure> {
    let levels = store.levels().await.unwrap();
    let bytes = std::fs::read(demo_file()).unwrap();
    domain::catalogue::dvcqg::parse_file(&bytes, &levels, effective_from).unwrap()
}

on_both_backends!(import_is_idempotent_and_versioned);
async fn import_is_idempotent_and_versioned(db: Db) {
    let (store, _dir) = open(db).await;
    let july = day(2025, 7, 1);
    let mut procedures = sample(&*store, july).await;
    let generation = store.catalogue_generation().await.unwrap();

    let first = store.import_procedures(&procedures, &|_| {}).await.unwrap();
    assert_eq!(first.new_procedures, 51);
    assert_eq!(store.procedure_count().await.unwrap(), 51);
    assert_eq!(store.catalogue_generation().await.unwrap(), generation + 1);

    let again = store.import_procedures(&procedures, &|_| {}).await.unwrap();
    assert_eq!((again.unchanged, again.changed()), (51, false));
    assert_eq!(
        store.catalogue_generation().await.unwrap(),
        generation + 1,
        "no change, no bump"
    );

    // Same content on a later date is not a new version either.
    for p in &mut procedures {
        p.effective_from = day(2026, 1, 1);
    }
    let later_same = store.import_procedures(&procedures, &|_| {}).await.unwrap();
    assert_eq!(later_same.unchanged, 51);

    // A change from 2026 is a new version; the old one stays in force before that date.
    let birth = ProcedureCode::parse("1.001193").unwrap();
    let mut changed = procedures.iter().find(|p| p.code == birth).unwrap().clone();
    changed.name = "Thủ tục đăng ký khai sinh (sửa đổi)".into();
    let report = store
        .import_procedures(std::slice::from_ref(&changed), &|_| {})
        .await
        .unwrap();
    assert_eq!(report.new_versions, 1);
    assert_eq!(
        store.procedure_versions(&birth).await.unwrap(),
        vec![july, day(2026, 1, 1)]
    );
    let before = store
        .procedure(&birth, day(2025, 12, 31))
        .await
        .unwrap()
        .unwrap();
    let after = store
        .procedure(&birth, day(2026, 1, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.name, "Thủ tục đăng ký khai sinh");
    assert_eq!(after.name, "Thủ tục đăng ký khai sinh (sửa đổi)");
    // Before any version took effect, the first one is shown.
    let early = store
        .procedure(&birth, day(2020, 1, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(early.effective_from, july);

    // The same effective date again replaces that version instead of adding one.
    changed.name = "Thủ tục đăng ký khai sinh (sửa lần 2)".into();
    let report = store
        .import_procedures(std::slice::from_ref(&changed), &|_| {})
        .await
        .unwrap();
    assert_eq!(report.updated_versions, 1);
    assert_eq!(store.procedure_versions(&birth).await.unwrap().len(), 2);

    let current = store.current_procedures(day(2026, 6, 1)).await.unwrap();
    assert_eq!(current.len(), 51);
    let current_birth = current.iter().find(|p| p.code == birth).unwrap();
    assert_eq!(current_birth.name, "Thủ tục đăng ký khai sinh (sửa lần 2)");
    let past = store.current_procedures(day(2025, 8, 1)).await.unwrap();
    assert_eq!(
        past.iter().find(|p| p.code == birth).unwrap().name,
        "Thủ tục đăng ký khai sinh"
    );
}

fn agency(code: &str, parent: Option<&str>, level: &str) -> Agency {
    Agency {
        code: AgencyCode::parse(code).unwrap(),
        name: format!("Cơ quan {code}"),
        parent: parent.map(|p| AgencyCode::parse(p).unwrap()),
        level: level.into(),
    }
}

on_both_backends!(agencies_form_a_tree_with_levels);
async fn agencies_form_a_tree_with_levels(db: Db) {
    let (store, _dir) = open(db).await;
    let levels = store.levels().await.unwrap();
    let codes: Vec<&str> = levels.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(codes, ["central", "province", "district", "commune"]);
    let district = levels.iter().find(|l| l.code == "district").unwrap();
    assert_eq!(
        district.valid_until,
        Some(day(2025, 6, 30)),
        "district level ended 30 June 2025"
    );

    let tree = vec![
        agency("000.00.00.H31", None, "province"),
        agency("001.00.00.H31", Some("000.00.00.H31"), "commune"),
        agency("002.00.00.H31", Some("000.00.00.H31"), "commune"),
    ];
    store.upsert_agencies(&tree).await.unwrap();
    store.upsert_agencies(&tree).await.unwrap();
    assert_eq!(
        store.agencies().await.unwrap().len(),
        3,
        "upsert does not duplicate"
    );
    let (total, first) = store.agencies_at_level("commune", 1).await.unwrap();
    assert_eq!((total, first.len()), (2, 1));
    assert_eq!(first[0].code.as_str(), "001.00.00.H31");

    let orphan = agency("003.00.00.H31", Some("000.00.00.H99"), "commune");
    let err = store.upsert_agencies(&[orphan]).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let bad_level = agency("004.00.00.H31", None, "hamlet");
    assert!(matches!(
        store.upsert_agencies(&[bad_level]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.agencies().await.unwrap().len(),
        3,
        "a failed upsert writes nothing"
    );
}

on_both_backends!(life_events_forms_and_meta);
async fn life_events_forms_and_meta(db: Db) {
    let (store, _dir) = open(db).await;
    store
        .import_procedures(&sample(&*store, day(2025, 7, 1)).await, &|_| {})
        .await
        .unwrap();
    let generation = store.catalogue_generation().await.unwrap();
    let birth = ProcedureCode::parse("1.001193").unwrap();
    let event = LifeEvent {
        code: "co-con-nho".into(),
        name_vi: "Có con nhỏ".into(),
        name_en: "Having a baby".into(),
        description_vi: "Khai sinh".into(),
        procedures: vec![birth.clone(), ProcedureCode::parse("1.000689").unwrap()],
    };
    store
        .upsert_life_events(std::slice::from_ref(&event))
        .await
        .unwrap();
    store
        .upsert_life_events(std::slice::from_ref(&event))
        .await
        .unwrap();
    let events = store.life_events().await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].procedures.len(), 2);
    assert!(
        store.catalogue_generation().await.unwrap() > generation,
        "events re-index"
    );

    let pension = ProcedureCode::parse("1.014027").unwrap();
    let template = FormTemplate {
        file_name: "Bieu mau 01 1.014027.docx".into(),
        content_type: "application/octet-stream".into(),
        content: vec![0, 159, 146, 150, 255],
    };
    store.put_form_template(&pension, &template).await.unwrap();
    assert_eq!(
        store
            .form_template(&pension, &template.file_name)
            .await
            .unwrap(),
        Some(template.clone())
    );
    assert_eq!(
        store.form_template_names(&pension).await.unwrap(),
        vec![template.file_name.clone()]
    );
    assert_eq!(
        store.form_template(&pension, "other.docx").await.unwrap(),
        None
    );
    let unknown = ProcedureCode::parse("9.999999").unwrap();
    assert!(matches!(
        store.put_form_template(&unknown, &template).await,
        Err(StoreError::Conflict(_))
    ));

    assert_eq!(store.meta("k").await.unwrap(), None);
    store.set_meta("k", "v1").await.unwrap();
    store.set_meta("k", "v2").await.unwrap();
    assert_eq!(store.meta("k").await.unwrap().as_deref(), Some("v2"));
    store.ping().await.unwrap();
}

on_both_backends!(concurrent_submissions_commit_alone_or_together);
async fn concurrent_submissions_commit_alone_or_together(db: Db) {
    use domain::dossier::{CodeTemplate, NewDossier};
    let (store, _dir) = open(db).await;
    let today = chrono::Utc::now();
    let birth = sample(&*store, today.date_naive()).await;
    store.import_procedures(&birth, &|_| {}).await.unwrap();
    store
        .upsert_agencies(&[agency("001.00.00.H31", None, "commune")])
        .await
        .unwrap();
    store
        .upsert_users(&[domain::user::User {
            username: "citizen".into(),
            full_name: "Công dân".into(),
            role: domain::user::Role::Citizen,
            agency: None,
            assurance: Default::default(),
        }])
        .await
        .unwrap();
    let new = |agency: &str| NewDossier {
        procedure: ProcedureCode::parse("1.001193").unwrap(),
        procedure_version: today.date_naive(),
        agency: AgencyCode::parse(agency).unwrap(),
        channel: domain::Channel::Online,
        applicant: "citizen".into(),
        submitted_by: "citizen".into(),
        form: serde_json::json!({}),
        attachments: vec![],
        submitted_at: today,
    };
    let template = CodeTemplate::default();

    // Submissions arriving together (committed as a group): one refers to an agency
    // that does not exist and fails alone; two share an idempotency key and give one dossier.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (store, template) = (store.clone(), template.clone());
        let agency = if i == 5 {
            "009.00.00.H31"
        } else {
            "001.00.00.H31"
        };
        let key = (i >= 10).then_some("same-key");
        let new = new(agency);
        tasks.push(tokio::spawn(async move {
            store.create_dossier(&new, &template, key).await
        }));
    }
    let mut created = Vec::new();
    let mut keyed = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(c) if i >= 10 => keyed.push(c),
            Ok(c) => created.push(c.dossier.code),
            Err(e) => {
                assert_eq!(i, 5, "only the bad one fails: {e}");
                assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
            }
        }
    }
    assert_eq!(created.len(), 9, "ten without a key, one of them bad");
    assert_eq!(keyed.len(), 2);
    assert_eq!(
        keyed[0].dossier.code, keyed[1].dossier.code,
        "one dossier for one key"
    );
    assert_eq!(keyed.iter().filter(|c| c.created).count(), 1);
    created.push(keyed[0].dossier.code.clone());
    created.sort();
    created.dedup();
    assert_eq!(created.len(), 10, "every code distinct");
    for code in &created {
        let stored = store.dossier(code).await.unwrap().expect("committed");
        assert_eq!(store.dossier_events(code).await.unwrap().len(), 1);
        assert_eq!(stored.event_count, 1);
    }
}

on_both_backends!(files_join_a_dossier_with_its_event_or_not_at_all);
async fn files_join_a_dossier_with_its_event_or_not_at_all(db: Db) {
    use domain::attachment::{Attachment, AttachmentLink};
    use domain::dossier::{CodeTemplate, NewDossier};
    let (store, _dir) = open(db).await;
    let today = chrono::Utc::now();
    let procedures = sample(&*store, today.date_naive()).await;
    store.import_procedures(&procedures, &|_| {}).await.unwrap();
    store
        .upsert_agencies(&[agency("001.00.00.H31", None, "commune")])
        .await
        .unwrap();
    let person = |username: &str| domain::user::User {
        username: username.into(),
        full_name: username.into(),
        role: domain::user::Role::Citizen,
        agency: None,
        assurance: Default::default(),
    };
    store
        .upsert_users(&[person("citizen"), person("other")])
        .await
        .unwrap();
    let file = |id: &str, owner: &str| Attachment {
        id: id.into(),
        owner: owner.into(),
        dossier_code: None,
        document: String::new(),
        file_name: format!("{id}.pdf"),
        content_type: "application/pdf".into(),
        size: 10,
        sha256: "ab".repeat(32),
        created_at: today,
    };
    store
        .put_attachment(&file("mine", "citizen"))
        .await
        .unwrap();
    store
        .put_attachment(&file("theirs", "other"))
        .await
        .unwrap();
    let link = |id: &str| AttachmentLink {
        id: id.into(),
        document: "Tờ khai".into(),
        sha256: "ab".repeat(32),
        reused_from: None,
    };
    let new = |files: Vec<AttachmentLink>| NewDossier {
        procedure: ProcedureCode::parse("1.001193").unwrap(),
        procedure_version: today.date_naive(),
        agency: AgencyCode::parse("001.00.00.H31").unwrap(),
        channel: domain::Channel::Online,
        applicant: "citizen".into(),
        submitted_by: "citizen".into(),
        form: serde_json::json!({}),
        attachments: files,
        submitted_at: today,
    };
    let template = CodeTemplate::default();

    // Someone else's upload fails the whole submission: no dossier, no event, no link.
    let refused = store
        .create_dossier(&new(vec![link("mine"), link("theirs")]), &template, None)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let scope = store::DossierFilter {
        scope: store::DossierScope::Applicant("citizen".into()),
        status: None,
        limit: 10,
        offset: 0,
    };
    assert!(store.list_dossiers(&scope).await.unwrap().is_empty());
    assert_eq!(
        store
            .attachment("mine")
            .await
            .unwrap()
            .unwrap()
            .dossier_code,
        None
    );

    // The own upload joins the dossier with its first event.
    let created = store
        .create_dossier(&new(vec![link("mine")]), &template, None)
        .await
        .unwrap()
        .dossier;
    let files = store.dossier_attachments(&created.code).await.unwrap();
    assert_eq!((files.len(), files[0].document.as_str()), (1, "Tờ khai"));
    let events = store.dossier_events(&created.code).await.unwrap();
    assert!(
        events[0].payload.contains(&"ab".repeat(32)),
        "the event lists the file's hash"
    );

    // An upload already in a dossier cannot join another, and the action writes nothing.
    let next = domain::dossier::Dossier {
        state: created
            .state
            .apply(domain::dossier::Action::Withdraw)
            .unwrap(),
        ..created.clone()
    };
    let event = domain::dossier::EventRecord {
        dossier_code: created.code.clone(),
        sequence: 0,
        at: today,
        actor: "citizen".into(),
        agency: None,
        action: domain::dossier::Action::Withdraw,
        from_status: created.state.status,
        to_status: next.state.status,
        payload: "{}".into(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    let again = store
        .record_action(
            &next,
            created.version,
            event,
            &[link("mine")],
            &domain::stats::Tally::of(&created),
            Default::default(),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let unchanged = store.dossier(&created.code).await.unwrap().unwrap();
    assert_eq!((unchanged.version, unchanged.event_count), (1, 1));
}
