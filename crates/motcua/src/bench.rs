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

    let queries = queries();
    for q in &queries {
        index.search(q)?; // warm up
    }
    let mut histogram = Histogram::<u64>::new(3)?;
    let mut matched = 0usize;
    let start = Instant::now();
    for _ in 0..rounds {
        for q in &queries {
            let t = Instant::now();
            matched += index.search(q)?.total;
            histogram.record(t.elapsed().as_micros() as u64)?;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = histogram.len();
    println!(
        "{n} searches over {} procedures, one thread: {:.0} searches/s; latency µs p50 {} p95 {} p99 {} max {} (matches {matched})",
        index.len(),
        n as f64 / elapsed,
        histogram.value_at_quantile(0.50),
        histogram.value_at_quantile(0.95),
        histogram.value_at_quantile(0.99),
        histogram.max(),
    );
    Ok(())
}
