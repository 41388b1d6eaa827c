//! `motcua bench http`: the load harness. It drives a running server over HTTP (reqwest on
//! hyper, one connection per client, each client sending its next request when the last is
//! answered) with named scenarios or a weighted mix, and reports throughput, latency
//! percentiles, errors, the server's CPU and peak memory (read from /proc for `--pid`), and
//! each figure as a share of what the same server build does for a trivial handler
//! (`/healthz`: routing, middleware and HTTP, no work).
//!
//! It reads the configured database only to issue the tokens it signs in with, so it is run
//! with the server's `--data-dir` or `DATABASE_URL`. The scenarios that submit or act use the
//! demo province (`serve --demo`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// `GET /healthz`: the limit of this machine's HTTP stack in this build.
    Trivial,
    /// `GET /api/v1/procedures?q=…`: catalogue search, a mix of what people type.
    Search,
    /// `GET /procedures/{code}`: a procedure's whole page.
    Procedure,
    /// `POST /api/v1/dossiers` without attachments, as the demo citizen.
    Submit,
    /// Official actions: receive, complete the step, apologise and extend, stop.
    Transition,
    /// `GET /api/v1/lookup/{code}?secret=…`: the public status lookup.
    Lookup,
    /// `GET /api/v1/stats` as the demo leader.
    Stats,
    /// `GET /dashboard` as the demo leader.
    Dashboard,
    /// `GET /exchange/v1/dossier-status?code=…`, signed as a member of the exchange (the
    /// harness registers its own key and a grant in the server's database): verification,
    /// the grant, the nonce, the message log and the signed answer.
    Exchange,
    /// All of the above but trivial, weighted like a portal's day (see `MIX`).
    Mix,
}

/// The mix: mostly people reading, some submitting, officials acting, leaders looking.
const MIX: &[(Scenario, u32)] = &[
    (Scenario::Search, 30),
    (Scenario::Procedure, 25),
    (Scenario::Lookup, 20),
    (Scenario::Submit, 10),
    (Scenario::Transition, 7),
    (Scenario::Stats, 5),
    (Scenario::Dashboard, 3),
];

const SEARCHES: &[&str] = &[
    "dang ky khai sinh",
    "Đăng ký khai sinh",
    "giay phep xay dung",
    "cấp lại giấy phép lái xe",
    "chung thuc ban sao",
    "ho kinh doanh",
    "tro cap xa hoi",
    "giấy phép lái xẹ",
    "dang ki ket hon",
    "1.014027",
];

const STEPS: [&str; 4] = ["receive", "complete_step", "apologize_and_extend", "stop"];

pub struct Options {
    pub url: String,
    pub scenarios: Vec<Scenario>,
    pub duration: Duration,
    pub concurrency: usize,
    pub pid: Option<u32>,
    /// Also print each result as a BENCHMARKS.md table row, under this label.
    pub markdown: Option<String>,
    /// Dossiers submitted beforehand for the official actions (four actions each).
    pub dossiers: usize,
}

/// What one scenario's run measured.
pub struct Outcome {
    pub scenario: Scenario,
    /// Answered with success; `errors` were not (a 429 among them is counted in `throttled`).
    pub requests: u64,
    pub errors: u64,
    pub throttled: u64,
    /// The prepared dossiers ran out before the duration ended.
    pub ended_early: bool,
    pub seconds: f64,
    pub latency_us: Histogram<u64>,
    /// Cores the server used on average, and its peak resident memory during the run (since
    /// it started, where /proc/PID/clear_refs cannot be written).
    pub server_cores: Option<f64>,
    pub server_peak_mb: Option<f64>,
}

impl Outcome {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// p50, p95, p99 and max, in ms.
    fn latencies_ms(&self) -> [f64; 4] {
        let h = &self.latency_us;
        let at = |q| h.value_at_quantile(q) as f64 / 1e3;
        [at(0.50), at(0.95), at(0.99), h.max() as f64 / 1e3]
    }
}

/// What the scenarios need: sign-in tokens and things to ask for.
struct Fixtures {
    base: String,
    citizen: String,
    reception: String,
    handler: String,
    leader: String,
    procedures: Vec<String>,
    lookups: Vec<String>,
    /// The exchange scenario's key, the server's member name and dossier codes.
    exchange_key: Option<Arc<domain::exchange::MemberKey>>,
    provider: Option<domain::exchange::MemberId>,
    exchange_codes: Vec<String>,
    /// Submitted dossiers waiting for the official actions: one pool for the transition
    /// scenario, one for the mix, so that running one does not use up the other's.
    pools: [Pool; 2],
}

#[derive(Default)]
struct Pool {
    codes: Vec<String>,
    next: AtomicUsize,
}

impl Pool {
    fn take(&self) -> Option<&String> {
        self.codes.get(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

pub async fn run(app: &app::App, options: Options) -> anyhow::Result<Vec<Outcome>> {
    let base = options.url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let fixtures = Arc::new(prepare(app, &client, &base, &options).await?);
    let mut outcomes = Vec::new();
    let mut trivial: Option<f64> = None;
    for &scenario in &options.scenarios {
        let outcome = drive(&client, &fixtures, scenario, &options).await?;
        if scenario == Scenario::Trivial {
            trivial = Some(outcome.per_second());
        }
        print_outcome(&outcome, trivial, options.concurrency);
        if let Some(label) = &options.markdown {
            println!(
                "{}",
                markdown_row(label, &outcome, trivial, options.concurrency)
            );
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

async fn prepare(
    app: &app::App,
    client: &reqwest::Client,
    base: &str,
    options: &Options,
) -> anyhow::Result<Fixtures> {
    let token = |user: &'static str| {
        let app = app.clone();
        async move {
            app.issue_token(user, chrono::Duration::hours(2))
                .await
                .with_context(|| format!("cannot sign in as {user}: is the demo data loaded?"))
        }
    };
    let citizen = token("demo-citizen").await?;
    let uses =
        |s: Scenario| options.scenarios.contains(&s) || options.scenarios.contains(&Scenario::Mix);
    let listed: Value = client
        .get(format!("{base}/api/v1/procedures?limit=100"))
        .send()
        .await
        .with_context(|| format!("the server at {base} does not answer"))?
        .error_for_status()?
        .json()
        .await?;
    let procedures = listed["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|p| p["code"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    anyhow::ensure!(!procedures.is_empty(), "the catalogue at {base} is empty");
    let lookups = if uses(Scenario::Lookup) {
        submit_many(client, base, &citizen, 200)
            .await?
            .into_iter()
            .map(|(_, lookup)| lookup)
            .collect()
    } else {
        Vec::new()
    };
    let (exchange_key, provider, exchange_codes) = if uses_only(options, Scenario::Exchange) {
        let identity: Value = client
            .get(format!("{base}{}", app::EXCHANGE_PATH))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let provider = domain::exchange::MemberId::parse(identity["member"].as_str().unwrap_or(""))
            .map_err(|e| anyhow::anyhow!("the server names no exchange member: {}", e.reason))?;
        let key = domain::exchange::MemberKey::from_seed(rand::random());
        app.put_member(BENCH_MEMBER, "motcua bench http", &key.public_base64(), "")
            .await?;
        app.put_grant("dossier-status", BENCH_MEMBER, "motcua bench http")
            .await?;
        let codes = submit_many(client, base, &citizen, 200)
            .await?
            .into_iter()
            .map(|(code, _)| code)
            .collect();
        // The server reads the registry again after at most two seconds.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        (Some(Arc::new(key)), Some(provider), codes)
    } else {
        (None, None, Vec::new())
    };
    let mut pools = [Pool::default(), Pool::default()];
    for (pool, scenario, n) in [
        (0, Scenario::Transition, options.dossiers),
        (1, Scenario::Mix, options.dossiers / 5),
    ] {
        if !options.scenarios.contains(&scenario) {
            continue;
        }
        let started = Instant::now();
        pools[pool].codes = submit_many(client, base, &citizen, n)
            .await?
            .into_iter()
            .map(|(code, _)| code)
            .collect();
        eprintln!(
            "submitted {n} dossiers for the official actions of {scenario:?} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Fixtures {
        base: base.to_owned(),
        citizen,
        reception: token("demo-reception").await?,
        handler: token("demo-handler").await?,
        leader: token("demo-leader").await?,
        procedures,
        lookups,
        exchange_key,
        provider,
        exchange_codes,
        pools,
    })
}

/// The member the exchange scenario calls as.
const BENCH_MEMBER: &str = "000.00.00.A99/motcua-bench";

fn uses_only(options: &Options, scenario: Scenario) -> bool {
    options.scenarios.contains(&scenario)
}

/// A signed exchange call, as another member's motcua makes it.
fn exchange_call(
    client: &reqwest::Client,
    f: &Fixtures,
    (key, provider): (&domain::exchange::MemberKey, &domain::exchange::MemberId),
    code: &str,
    rng: &mut StdRng,
) -> reqwest::RequestBuilder {
    let member = domain::exchange::MemberId::parse(BENCH_MEMBER).expect("a valid member");
    let path = format!("{}/dossier-status?code={code}", app::EXCHANGE_PATH);
    let nonce = domain::text::hex(&rng.random::<[u8; 16]>());
    let at = chrono::Utc::now().timestamp();
    let message = domain::exchange::RequestText {
        method: "GET",
        path: &path,
        body: b"",
        timestamp: at,
        nonce: &nonce,
        client: &member,
        provider,
    }
    .message();
    client
        .get(format!("{}{path}", f.base))
        .header(domain::exchange::CLIENT_HEADER, BENCH_MEMBER)
        .header(domain::exchange::TIMESTAMP_HEADER, at.to_string())
        .header(domain::exchange::NONCE_HEADER, nonce)
        .header(domain::exchange::SIGNATURE_HEADER, key.sign(&message))
}

/// The dossier the scenarios submit: the social pension application, whose e-form is the
/// letter, so nothing is attached.
pub fn submission() -> Value {
    json!({
        "procedure": "1.014027", "agency": "001.00.00.H31", "channel": "online",
        "form": {"ho_ten": "Nguyễn Văn An", "so_dinh_danh": "031201001234",
                 "dien_thoai": "0912345678", "dia_chi": "12 Điện Biên Phủ, phường Hồng Bàng",
                 "noi_dung": "Đề nghị hưởng trợ cấp hưu trí xã hội"}
    })
}

/// Submits `n` dossiers, 16 at a time; returns each one's code and public lookup path.
async fn submit_many(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    n: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, base, token, next) = (
            client.clone(),
            base.to_owned(),
            token.to_owned(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let answer: Value = client
                    .post(format!("{base}/api/v1/dossiers"))
                    .bearer_auth(&token)
                    .json(&submission())
                    .send()
                    .await?
                    .error_for_status()
                    .context("a submission was refused: is the demo data loaded?")?
                    .json()
                    .await?;
                let field = |name: &str| answer.pointer(name).and_then(Value::as_str);
                made.push((
                    field("/dossier/code").unwrap_or_default().to_owned(),
                    field("/lookup_url").unwrap_or_default().to_owned(),
                ));
            }
            anyhow::Ok(made)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

/// A client's place in the official actions: the dossier it works, its next step and the
/// version the next action must name.
#[derive(Default)]
struct Desk {
    dossier: Option<(String, usize, i64)>,
    /// Which pool it takes dossiers from (0: the transition scenario, 1: the mix).
    pool: usize,
}

/// The next request of a scenario, or None when the prepared dossiers have run out.
fn request(
    client: &reqwest::Client,
    f: &Fixtures,
    scenario: Scenario,
    rng: &mut StdRng,
    desk: &mut Desk,
) -> Option<reqwest::RequestBuilder> {
    let base = &f.base;
    let pick = |rng: &mut StdRng, items: &[String]| items[rng.random_range(0..items.len())].clone();
    Some(match scenario {
        Scenario::Trivial => client.get(format!("{base}/healthz")),
        Scenario::Search => client
            .get(format!("{base}/api/v1/procedures"))
            .query(&[("q", SEARCHES[rng.random_range(0..SEARCHES.len())])]),
        Scenario::Procedure => {
            client.get(format!("{base}/procedures/{}", pick(rng, &f.procedures)))
        }
        Scenario::Submit => client
            .post(format!("{base}/api/v1/dossiers"))
            .bearer_auth(&f.citizen)
            .json(&submission()),
        Scenario::Lookup => client.get(format!("{base}{}", pick(rng, &f.lookups))),
        Scenario::Exchange => {
            let code = pick(rng, &f.exchange_codes);
            let signer = (f.exchange_key.as_deref()?, f.provider.as_ref()?);
            exchange_call(client, f, signer, &code, rng)
        }
        Scenario::Stats => client
            .get(format!("{base}/api/v1/stats"))
            .bearer_auth(&f.leader),
        Scenario::Dashboard => client.get(format!("{base}/dashboard")).header(
            reqwest::header::COOKIE,
            format!("motcua_session={}", f.leader),
        ),
        Scenario::Transition => {
            let (code, step, version) = match desk.dossier.take() {
                Some((code, step, version)) if step < STEPS.len() => (code, step, version),
                _ => (f.pools[desk.pool].take()?.clone(), 0, 1),
            };
            let mut body = match STEPS[step] {
                "apologize_and_extend" => {
                    json!({"reason": "Cần xác minh thêm", "extend_working_days": 2})
                }
                "stop" => json!({"reason": "Người nộp đề nghị dừng"}),
                _ => json!({}),
            };
            body["version"] = json!(version);
            let token = if step == 0 { &f.reception } else { &f.handler };
            let url = format!("{base}/api/v1/dossiers/{code}/actions/{}", STEPS[step]);
            desk.dossier = Some((code, step + 1, version + 1));
            client.post(url).bearer_auth(token).json(&body)
        }
        Scenario::Mix => {
            let total: u32 = MIX.iter().map(|(_, w)| w).sum();
            let mut roll = rng.random_range(0..total);
            let chosen = MIX
                .iter()
                .find(|(_, w)| {
                    let hit = roll < *w;
                    roll = roll.saturating_sub(*w);
                    hit
                })
                .map(|(s, _)| *s)
                .unwrap_or(Scenario::Search);
            desk.pool = 1;
            return request(client, f, chosen, rng, desk)
                .or_else(|| request(client, f, Scenario::Search, rng, desk));
        }
    })
}

/// Runs one scenario with `concurrency` clients for the duration (after a one-second warm-up
/// whose requests are not counted). The server's CPU time is read at the start and the end
/// of the measured window.
async fn drive(
    client: &reqwest::Client,
    fixtures: &Arc<Fixtures>,
    scenario: Scenario,
    options: &Options,
) -> anyhow::Result<Outcome> {
    let warm_up = Instant::now() + Duration::from_secs(1);
    let end = warm_up + options.duration;
    let mut tasks = Vec::new();
    for worker in 0..options.concurrency.max(1) {
        let (client, fixtures) = (client.clone(), fixtures.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(worker as u64);
            let mut desk = Desk::default();
            let mut tally = Tally::new()?;
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let Some(request) = request(&client, &fixtures, scenario, &mut rng, &mut desk)
                else {
                    tally.stopped_at = Some(now);
                    break; // the prepared dossiers are used up
                };
                let answer = request.send().await;
                let status = answer.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
                let body = match answer {
                    Ok(r) => r.bytes().await.ok(),
                    Err(_) => None,
                };
                let ok = (200..300).contains(&status) && body.is_some();
                if !ok {
                    desk.dossier = None; // a failed action: the next dossier, not a 409 chain
                }
                if now >= warm_up {
                    tally.record(ok, status, now.elapsed());
                }
            }
            anyhow::Ok(tally)
        }));
    }
    tokio::time::sleep_until(warm_up.into()).await;
    let cpu_before = options.pid.and_then(|pid| {
        reset_peak_memory(pid);
        cpu_seconds(pid)
    });
    tokio::time::sleep_until(end.into()).await;
    let cpu_after = options.pid.and_then(cpu_seconds);
    let mut total = Tally::new()?;
    let mut stops = Vec::new();
    for task in tasks {
        let tally = task.await??;
        stops.push(tally.stopped_at);
        total.add(tally)?;
    }
    // When every client ran out of dossiers, the last one's stop ends the window.
    let all_stopped: Option<Vec<Instant>> = stops.into_iter().collect();
    total.stopped_at = all_stopped.and_then(|s| s.into_iter().max());
    let window_end = total.stopped_at.map_or(end, |t| t.min(end));
    let seconds = window_end.saturating_duration_since(warm_up).as_secs_f64();
    anyhow::ensure!(
        !total.latency_us.is_empty() && seconds > 0.1,
        "{scenario:?}: nothing was answered in the measured window (prepare more with --dossiers)"
    );
    if total.throttled > 0 {
        eprintln!(
            "{scenario:?}: {} answers were 429 Too Many Requests: lift the per-address limits \
             (MOTCUA_LIMITS__LOOKUP_PER_MINUTE) on the server",
            total.throttled
        );
    }
    Ok(Outcome {
        scenario,
        requests: total.latency_us.len(),
        errors: total.errors,
        throttled: total.throttled,
        ended_early: total.stopped_at.is_some(),
        seconds,
        latency_us: total.latency_us,
        // Over the whole duration even when the window ended early: then a lower bound.
        server_cores: cpu_before
            .zip(cpu_after)
            .map(|(before, after)| (after - before) / options.duration.as_secs_f64()),
        server_peak_mb: options.pid.and_then(peak_memory_mb),
    })
}

/// One client's count: latencies of the successful answers, failures, and when it stopped
/// for want of dossiers.
struct Tally {
    latency_us: Histogram<u64>,
    errors: u64,
    throttled: u64,
    stopped_at: Option<Instant>,
}

impl Tally {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3)?,
            errors: 0,
            throttled: 0,
            stopped_at: None,
        })
    }

    fn record(&mut self, ok: bool, status: u16, took: Duration) {
        if ok {
            self.latency_us.saturating_record(took.as_micros() as u64);
        } else {
            self.errors += 1;
            self.throttled += u64::from(status == 429);
        }
    }

    fn add(&mut self, other: Tally) -> anyhow::Result<()> {
        self.latency_us.add(&other.latency_us)?;
        self.errors += other.errors;
        self.throttled += other.throttled;
        Ok(())
    }
}

/// Starts the peak-memory count afresh (writing 5 to /proc/PID/clear_refs), so each
/// scenario's peak is its own; where that is not allowed the peak is since the start.
fn reset_peak_memory(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// The process's user and system CPU time, from /proc/PID/stat.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// Peak resident memory since the process started (VmHWM), in MB.
fn peak_memory_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn print_outcome(o: &Outcome, trivial: Option<f64>, concurrency: usize) {
    let share = match trivial {
        Some(t) if o.scenario != Scenario::Trivial => {
            format!(
                ", {:.0} % of the trivial handler",
                100.0 * o.per_second() / t
            )
        }
        _ => String::new(),
    };
    let server = match (o.server_cores, o.server_peak_mb) {
        (Some(c), Some(m)) => format!("; server {c:.2} cores, peak {m:.0} MB"),
        _ => String::new(),
    };
    let early = if o.ended_early {
        " (the prepared dossiers ran out: a shorter window)"
    } else {
        ""
    };
    let [p50, p95, p99, max] = o.latencies_ms();
    println!(
        "{:?}: {} answered in {:.1} s{early}, {concurrency} clients: {:.0}/s{share}; latency ms \
         p50 {p50:.2} p95 {p95:.2} p99 {p99:.2} max {max:.2}; {} errors{server}",
        o.scenario,
        o.requests,
        o.seconds,
        o.per_second(),
        o.errors,
    );
}

/// | label | scenario | clients | requests/s | share of trivial | p50 | p95 | p99 | max | errors | server cores | peak MB |
pub fn markdown_row(label: &str, o: &Outcome, trivial: Option<f64>, concurrency: usize) -> String {
    let share = trivial
        .filter(|_| o.scenario != Scenario::Trivial)
        .map(|t| format!("{:.0} %", 100.0 * o.per_second() / t))
        .unwrap_or_else(|| "—".into());
    let or_dash = |v: Option<f64>, digits: usize| {
        v.map(|v| format!("{v:.digits$}"))
            .unwrap_or_else(|| "—".into())
    };
    let [p50, p95, p99, max] = o.latencies_ms();
    format!(
        "| {label} | {:?} | {concurrency} | {:.0} | {share} | {p50:.2} ms | {p95:.2} ms | {p99:.2} ms | {max:.2} ms | {} | {} | {} |",
        o.scenario,
        o.per_second(),
        o.errors,
        or_dash(o.server_cores, 2),
        or_dash(o.server_peak_mb, 0),
    )
}
