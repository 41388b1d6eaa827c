//! `motcua bench search`: in-process catalogue search over a generated catalogue, with
//! latency percentiles. A benchmark, not a test: it prints figures for BENCHMARKS.md.

use std::time::Instant;

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
    let levels = ["central", "province", "district", "commune"]
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
        .collect::<Vec<_>>();
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
