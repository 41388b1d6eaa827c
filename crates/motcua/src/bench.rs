//! `motcua bench search`: in-process catalogue search over a generated catalogue, with
//! latency percentiles. A benchmark, not a test: it prints figures for BENCHMARKS.md.

use std::time::Instant;

use anyhow::Context;

use domain::catalogue::dvcqg;
use hdrhistogram::Histogram;
use search::{CatalogueIndex, Indexable, SearchQuery};

use crate::generate;

/// A mix of what people type: unaccented, accented, with a typo, a code, filters, and paging.
fn queries() -> Vec<SearchQuery> {
    let text = |t: &str| SearchQuery {
        text: t.into(),
        limit: 20,
        ..Default::default()
    };
    vec![
        text("dang ky khai sinh"),
        text("Đăng ký khai sinh"),
        text("giay phep xay dung"),
        text("cấp lại giấy phép lái xe"),
        text("chung thuc ban sao"),
        text("ho kinh doanh"),
        text("tro cap xa hoi hang thang"),
        text("giay phep lai xe"),
        text("giấy phép lái xẹ"),
        text("dang ki ket hon"),
        text("9.000123"),
        text("9.0012"),
        SearchQuery {
            text: "giay phep".into(),
            sector: Some("Xây dựng".into()),
            limit: 20,
            ..Default::default()
        },
        SearchQuery {
            levels: vec!["commune".into()],
            limit: 20,
            offset: 40,
            ..Default::default()
        },
        SearchQuery {
            text: "cap".into(),
            online: Some(domain::OnlineService::Full),
            limit: 20,
            ..Default::default()
        },
    ]
}

pub fn search(procedures: usize, rounds: usize) -> anyhow::Result<()> {
    let generated = generate::catalogue(procedures, 0, 42);
    let levels = levels();
    let day = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).expect("a valid date");
    let catalogue = generated
        .procedures
        .into_iter()
        .map(|r| dvcqg::to_procedure(r, &levels, day))
        .collect::<Result<Vec<_>, _>>()?;
    let index = CatalogueIndex::in_memory()?;
    let items: Vec<Indexable<'_>> = catalogue
        .iter()
        .map(|p| Indexable {
            procedure: p,
            life_events: Vec::new(),
        })
        .collect();
    let start = Instant::now();
    index.rebuild(&items, 1)?;
    println!(
        "indexed {} procedures in {:.0} ms",
        index.len(),
        start.elapsed().as_secs_f64() * 1e3
    );

    let mut queries = queries();
    measure(
        &index,
        &queries,
        rounds,
        "without facet counts (API default)",
    )?;
    for q in &mut queries {
        q.facets = true;
    }
    measure(
        &index,
        &queries,
        rounds,
        "with facet counts (portal results page)",
    )
}

fn measure(
    index: &CatalogueIndex,
    queries: &[SearchQuery],
    rounds: usize,
    label: &str,
) -> anyhow::Result<()> {
    for q in queries {
        index.search(q)?; // warm up
    }
    let mut overall = Histogram::<u64>::new(3)?;
    let mut per_query = vec![Histogram::<u64>::new(3)?; queries.len()];
    let start = Instant::now();
    for _ in 0..rounds {
        for (q, histogram) in queries.iter().zip(&mut per_query) {
            let t = Instant::now();
            index.search(q)?;
            let micros = t.elapsed().as_micros() as u64;
            overall.record(micros)?;
            histogram.record(micros)?;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = overall.len();
    println!(
        "{label}: {n} searches over {} procedures, one thread: {:.0} searches/s; \
         latency µs p50 {} p95 {} p99 {} max {}",
        index.len(),
        n as f64 / elapsed,
        overall.value_at_quantile(0.50),
        overall.value_at_quantile(0.95),
        overall.value_at_quantile(0.99),
        overall.max(),
    );
    for (q, histogram) in queries.iter().zip(&per_query) {
        println!(
            "  p50 {:>5} µs  p99 {:>5} µs  {:?} sector={:?} levels={:?} online={:?} offset={}",
            histogram.value_at_quantile(0.5),
            histogram.value_at_quantile(0.99),
            q.text,
            q.sector,
            q.levels,
            q.online.map(|o| o.code()),
            q.offset
        );
    }
    Ok(())
}

/// Starts the server in this process on a loopback port; gives its app and address.
async fn serve(config: &crate::config::Config, demo: bool) -> anyhow::Result<(app::App, String)> {
    let app = crate::server::build(config, demo).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    // Every client of a benchmark comes from one address: no rate limits.
    let web = web::Options {
        limits: web::Limits::unlimited(),
        ..config.web_options()
    };
    tokio::spawn(crate::server::run(
        app.clone(),
        web,
        listener,
        std::time::Duration::from_secs(3600),
        std::future::pending(),
    ));
    Ok((app, base))
}

/// `motcua bench transitions`: official actions over HTTP against the configured database.
/// It starts the server in this process on a loopback port, submits `dossiers` dossiers, then
/// `concurrency` clients carry each through four actions (receive, complete a step, apologise
/// with a new date, stop), and prints actions per second and latency percentiles.
pub async fn transitions(
    config: &crate::config::Config,
    dossiers: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let (app, base) = serve(config, true).await?;
    let token = |user: &'static str| {
        let app = app.clone();
        async move { app.issue_token(user, chrono::Duration::hours(1)).await }
    };
    let (citizen, reception, handler) = (
        token("demo-citizen").await?,
        token("demo-reception").await?,
        token("demo-handler").await?,
    );
    let client = reqwest::Client::new();
    let body = crate::load::submission();
    let mut codes = Vec::with_capacity(dossiers);
    for _ in 0..dossiers {
        let response: serde_json::Value = client
            .post(format!("{base}/api/v1/dossiers"))
            .bearer_auth(&citizen)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        codes.push(
            response["dossier"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let steps: [(&str, serde_json::Value, bool); 4] = [
        ("receive", serde_json::json!({}), false),
        ("complete_step", serde_json::json!({}), true),
        (
            "apologize_and_extend",
            serde_json::json!({"reason": "Cần xác minh thêm", "extend_working_days": 2}),
            true,
        ),
        (
            "stop",
            serde_json::json!({"reason": "Người nộp đề nghị dừng"}),
            true,
        ),
    ];
    let codes = Arc::new(codes);
    let steps = Arc::new(steps);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, base, codes, steps, next) = (
            client.clone(),
            base.clone(),
            codes.clone(),
            steps.clone(),
            next.clone(),
        );
        let (reception, handler) = (reception.clone(), handler.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3)?;
            let mut errors = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = codes.get(i) else { break };
                for (version, (action, extra, by_handler)) in steps.iter().enumerate() {
                    let mut input = extra.clone();
                    input["version"] = serde_json::json!(version as i64 + 1);
                    let token = if *by_handler { &handler } else { &reception };
                    let t = Instant::now();
                    let response = client
                        .post(format!("{base}/api/v1/dossiers/{code}/actions/{action}"))
                        .bearer_auth(token)
                        .json(&input)
                        .send()
                        .await?;
                    if !response.status().is_success() {
                        errors += 1;
                    }
                    response.bytes().await?;
                    latencies.record(t.elapsed().as_micros() as u64)?;
                }
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let mut all = Histogram::<u64>::new(3)?;
    let mut errors = 0;
    for worker in workers {
        let (latencies, e) = worker.await??;
        all.add(&latencies)?;
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{} actions on {} dossiers ({:?}), {} clients: {:.0} actions/s; latency ms p50 {:.2} \
         p95 {:.2} p99 {:.2} max {:.2}; {} errors",
        all.len(),
        codes.len(),
        app.backend(),
        concurrency,
        all.len() as f64 / elapsed,
        all.value_at_quantile(0.50) as f64 / 1e3,
        all.value_at_quantile(0.95) as f64 / 1e3,
        all.value_at_quantile(0.99) as f64 / 1e3,
        all.max() as f64 / 1e3,
        errors
    );
    let audit_start = Instant::now();
    let report = app.verify_audit().await?;
    println!(
        "audit verify: {} events in {} dossiers in {:.2} s ({:.0} events/s), {}",
        report.events,
        report.dossiers,
        audit_start.elapsed().as_secs_f64(),
        report.events as f64 / audit_start.elapsed().as_secs_f64(),
        if report.first_error.is_none() {
            "intact"
        } else {
            "BROKEN"
        }
    );
    Ok(())
}

/// `motcua bench stats`: what a province's leader asks, over HTTP against the database as it
/// is: the stats API over this year, the last 30 days (ragged ends of months) and by agency
/// and month, and the whole dashboard page.
pub async fn stats(
    config: &crate::config::Config,
    agency: &str,
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let (app, base) = serve(config, false).await?;
    let leader = format!("gen-leader-{agency}");
    let token = app
        .issue_token(&leader, chrono::Duration::hours(1))
        .await
        .with_context(|| format!("no user {leader}: run `motcua generate dossiers` first"))?;
    let today = app::today();
    let month_ago = today - chrono::Duration::days(30);
    let kinds: Arc<Vec<(&str, String)>> = Arc::new(vec![
        (
            "api: year to date",
            format!("/api/v1/stats?agency={agency}"),
        ),
        (
            "api: last 30 days",
            format!("/api/v1/stats?agency={agency}&from={month_ago}&to={today}"),
        ),
        (
            "api: by agency",
            format!("/api/v1/stats?agency={agency}&group=agency"),
        ),
        (
            "api: by month, 2 years",
            format!(
                "/api/v1/stats?agency={agency}&group=month&from={}",
                today - chrono::Duration::days(730)
            ),
        ),
        ("dashboard page", format!("/dashboard?agency={agency}")),
    ]);
    let client = reqwest::Client::new();
    let cookie = format!("motcua_session={token}");
    for (kind, path) in kinds.iter() {
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        let start = Instant::now();
        for _ in 0..concurrency.max(1) {
            let (client, url, next, token, cookie) = (
                client.clone(),
                format!("{base}{path}"),
                next.clone(),
                token.clone(),
                cookie.clone(),
            );
            workers.push(tokio::spawn(async move {
                let mut latencies = Histogram::<u64>::new(3)?;
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let t = Instant::now();
                    let response = client
                        .get(&url)
                        .bearer_auth(&token)
                        .header(reqwest::header::COOKIE, &cookie)
                        .send()
                        .await?;
                    let status = response.status();
                    response.bytes().await?;
                    anyhow::ensure!(status.is_success(), "{url}: {status}");
                    latencies.record(t.elapsed().as_micros() as u64)?;
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut all = Histogram::<u64>::new(3)?;
        for worker in workers {
            all.add(&worker.await??)?;
        }
        println!(
            "{kind} ({:?}, {} clients): {:.0} requests/s; latency ms p50 {:.1} p95 {:.1} p99 {:.1} max {:.1}",
            app.backend(),
            concurrency,
            all.len() as f64 / start.elapsed().as_secs_f64(),
            all.value_at_quantile(0.50) as f64 / 1e3,
            all.value_at_quantile(0.95) as f64 / 1e3,
            all.value_at_quantile(0.99) as f64 / 1e3,
            all.max() as f64 / 1e3,
        );
    }
    Ok(())
}

/// The catalogue's levels as the migrations seed them, for parsing catalogue files offline.
fn levels() -> Vec<domain::Level> {
    ["central", "province", "district", "commune"]
        .iter()
        .zip(["Cấp Bộ", "Cấp Tỉnh", "Cấp Huyện", "Cấp Xã"])
        .enumerate()
        .map(|(rank, (code, name))| domain::Level {
            code: (*code).into(),
            name_vi: name.into(),
            name_en: (*code).into(),
            catalogue_name: name.into(),
            rank: rank as i32,
            valid_until: None,
        })
        .collect()
}

/// The plain-language assistant on the demo catalogue: its hit rate on the evaluation set (the
/// right procedure in the first 1 and the first 3) and the time a suggestion takes.
pub fn assistant() -> anyhow::Result<()> {
    const PROCEDURES: &[u8] = include_bytes!("../../../demo/procedures.dvcqg.json");
    const LIFE_EVENTS: &[u8] = include_bytes!("../../../demo/life-events.json");
    let day = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).expect("a valid date");
    let catalogue = dvcqg::parse_file(PROCEDURES, &levels(), day)?;
    let events: Vec<domain::LifeEvent> = serde_json::from_slice(LIFE_EVENTS)?;
    let assistant = search::assistant::Assistant::new(&catalogue, &events);
    let (top1, cases, _) = assistant.hit_rate(1);
    let (top3, _, missed) = assistant.hit_rate(3);
    let situations: Vec<&str> = search::assistant::EVALUATION
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(s, _)| s))
        .collect();
    let rounds = 200;
    let start = Instant::now();
    for _ in 0..rounds {
        for s in &situations {
            std::hint::black_box(assistant.suggest(s, 3));
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / (rounds * situations.len()) as f64;
    println!("| situations | procedures | right one first | in the top 3 | µs a suggestion |");
    println!("|---|---|---|---|---|");
    println!(
        "| {cases} | {} | {:.1} % | {:.1} % | {per:.0} |",
        catalogue.len(),
        top1 * 100.0,
        top3 * 100.0
    );
    for m in missed {
        println!("missed in the top 3: {m}");
    }
    Ok(())
}
