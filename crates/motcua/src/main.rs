use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use motcua::config::Config;
use motcua::{backup, bench, generate, history, server};

/// motcua — public service portal and electronic one-stop shop ("một cửa").
///
/// Without DATABASE_URL, data lives in SQLite under the data folder (created on first start);
/// with DATABASE_URL=postgres://… it lives in PostgreSQL. Settings come from built-in defaults,
/// then motcua.toml (or --config), then MOTCUA_* environment variables
/// (e.g. MOTCUA_SERVER__ADDR), then flags.
#[derive(Parser)]
#[command(name = "motcua", version, max_term_width = 100)]
struct Cli {
    /// A TOML configuration file (default: ./motcua.toml if present).
    #[arg(long, global = true, env = "MOTCUA_CONFIG")]
    config: Option<PathBuf>,
    /// The data folder (SQLite database, search index); overrides server.data_dir.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web portal and API (http://127.0.0.1:8080 by default).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080; overrides server.addr.
        #[arg(long)]
        addr: Option<String>,
        /// Load the demo province (Hải Phòng's real commune-level procedures, agencies and
        /// life events) if it is not loaded yet.
        #[arg(long)]
        demo: bool,
    },
    /// Import data files into the database; the running server re-indexes by itself.
    #[command(subcommand)]
    Import(Import),
    /// Export data in exchange formats.
    #[command(subcommand)]
    Export(Export),
    /// Generate synthetic data for scale work.
    #[command(subcommand)]
    Generate(Generate),
    /// Measure; figures go to BENCHMARKS.md.
    #[command(subcommand)]
    Bench(Bench),
    /// Create or upgrade the database schema and exit.
    Migrate,
    /// Copy the database and the attachments into a new folder, with a manifest, while the
    /// server runs (SQLite: an online snapshot; PostgreSQL: pg_dump). Not the master key.
    Backup {
        /// The folder to create (it must not exist or be empty).
        #[arg(long, short)]
        output: PathBuf,
        /// The folder of pg_dump, when it is not on PATH (e.g. /usr/lib/postgresql/15/bin).
        #[arg(long)]
        pg_bin: Option<PathBuf>,
    },
    /// Put a backup back into the configured database and attachments folder, after checking
    /// it against its manifest (stop the server first).
    Restore {
        /// The folder `motcua backup` wrote.
        from: PathBuf,
        /// Replace an existing SQLite database.
        #[arg(long)]
        force: bool,
        /// The folder of pg_restore, when it is not on PATH.
        #[arg(long)]
        pg_bin: Option<PathBuf>,
    },
    /// Print a new API bearer token for a user (e.g. demo-citizen), for scripts and clients.
    Token {
        #[arg(long)]
        user: String,
        /// Days until the token expires.
        #[arg(long, default_value_t = app::TOKEN_DAYS)]
        days: i64,
    },
    /// Check the tamper-evident records.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The inter-agency exchange: this member's identity, the registry, the message log.
    #[command(subcommand)]
    Exchange(ExchangeCommand),
    /// The working-day calendar that legal deadlines are counted on (statutory holidays from
    /// the lunar calendar at UTC+7, observed days, and the announced days off for 2024–2026).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// The statistics counters the events keep.
    #[command(subcommand)]
    Stats(StatsCommand),
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Recompute every counter from the event log; exits non-zero listing each difference.
    Verify,
    /// Replace every counter with what the event log gives.
    Rebuild,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every dossier's hash-chained event log against the head the dossier records;
    /// exits non-zero naming the first edited, deleted, reordered or truncated event.
    Verify,
}

#[derive(Subcommand)]
enum ExchangeCommand {
    /// Print this member's name and Ed25519 public key, for the other members' registries.
    Identity,
    /// Register a member (or change its name, key or address).
    AddMember {
        /// Agency code '/' system name, e.g. 000.00.00.G01/motcua.
        member: String,
        #[arg(long)]
        name: String,
        /// Its Ed25519 public key in base64 (what its `exchange identity` prints).
        #[arg(long)]
        public_key: String,
        /// Where its exchange answers (its public URL); omit for a member that only calls.
        #[arg(long, default_value = "")]
        url: String,
    },
    /// Let a member call one of this instance's services.
    Grant { service: String, client: String },
    /// Call another member's service, signed as this instance; prints the checked answer.
    Call {
        /// Agency code '/' system name of the provider.
        member: String,
        service: String,
        /// Query parameters, e.g. --query code=1.001193.
        #[arg(long, value_parser = parse_pair)]
        query: Vec<(String, String)>,
    },
    /// Check the message log's hash chain; exits non-zero naming the first bad entry.
    VerifyLog,
    /// How far the push to the national instance has come.
    PushStatus,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print when a deadline ends, as an RFC 3339 instant in Vietnamese time.
    #[command(group(clap::ArgGroup::new("amount").required(true).args(
        ["working_days", "days", "working_hours", "hours", "months"])))]
    Due {
        /// When the dossier was received, e.g. 2026-11-20T09:30:00+07:00.
        #[arg(long)]
        from: chrono::DateTime<chrono::FixedOffset>,
        #[arg(long)]
        working_days: Option<u32>,
        #[arg(long)]
        days: Option<u32>,
        #[arg(long)]
        working_hours: Option<u32>,
        #[arg(long)]
        hours: Option<u32>,
        #[arg(long)]
        months: Option<u32>,
        /// Receptions at or after this local time count from the next working day, e.g. 15:00.
        #[arg(long, value_name = "HH:MM")]
        cutoff: Option<chrono::NaiveTime>,
    },
    /// Print each weekday of a year that is not a working day, as `YYYY-MM-DD name`.
    Holidays {
        #[arg(long)]
        year: i32,
    },
    /// Replace the decreed days off and make-up working days of the years in FILE (the shape
    /// of `crates/domain/src/calendar/vn-days-off-2024-2026.json`) in the database.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum Import {
    /// Procedures in the national portal's catalogue format (a JSON array of DVCQG records).
    /// All or nothing: a bad record is reported with its index, code and field, and nothing
    /// is imported. Re-importing updates, never duplicates.
    Procedures {
        file: PathBuf,
        /// Effective date for records without NGAYHIEULUC (default: today in Vietnam).
        #[arg(long, value_name = "YYYY-MM-DD")]
        effective_from: Option<chrono::NaiveDate>,
    },
    /// Agencies: a JSON array of {code, name, parent, level}.
    Agencies { file: PathBuf },
    /// Life events: a JSON array of {code, name_vi, name_en, description_vi, procedures}.
    LifeEvents { file: PathBuf },
    /// How procedures are served online: a JSON array of {procedure, effective_from, design:
    /// {form (a JSON Schema, null for the generic form), documents, steps}}, as in
    /// demo/services.json. All are checked before any is stored.
    Services { file: PathBuf },
    /// The file of a form template named by a procedure's required documents.
    FormTemplate {
        /// Procedure code, e.g. 1.014027.
        procedure: String,
        file: PathBuf,
        /// The name the catalogue gives the template (default: the file's name).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum Export {
    /// The procedures in force today, in the national catalogue format.
    Procedures {
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Dossier changes after a cursor in the national portal's sync shape, one JSON record
    /// per line; the cursor to resume from goes to standard error.
    Dossiers {
        /// Where the last export ended (0 for the start).
        #[arg(long, default_value = "0")]
        since: String,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Generate {
    /// A synthetic national catalogue: procedures.dvcqg.json and agencies.json for the 34
    /// provinces and their communes, importable with `motcua import`.
    Catalogue {
        #[arg(long, default_value_t = 7000)]
        procedures: usize,
        /// Communes per province (3,321 in all in 2025: about 98 each).
        #[arg(long, default_value_t = 98)]
        communes: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Folder to write into.
        #[arg(long, short, default_value = "generated")]
        output: PathBuf,
    },
    /// Dossier histories in bulk in the configured database, over its agencies and
    /// procedures (import a catalogue first), with their counters; and a leader for each
    /// top agency (`gen-leader-CODE`).
    Dossiers {
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Submitted over this many days up to now.
        #[arg(long, default_value_t = 730)]
        days: i64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// The load harness: drives a running server over HTTP with named scenarios (comma
    /// separated, run in turn) and prints throughput, latency, errors and, with --pid, the
    /// server's CPU and peak memory; put `trivial` first to get every figure as a share of it.
    Http {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "trivial,search,procedure,lookup,submit,transition,stats,dashboard,mix"
        )]
        scenario: Vec<motcua::load::Scenario>,
        /// Seconds each scenario runs (after one second of warm-up).
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Clients at once, each with its own connection.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// The server's process id, for its CPU time and peak memory.
        #[arg(long)]
        pid: Option<u32>,
        /// Also print a BENCHMARKS.md table row per scenario, labelled with this text.
        #[arg(long)]
        markdown: Option<String>,
        /// Dossiers submitted beforehand for the official actions (four each).
        #[arg(long, default_value_t = 10_000)]
        dossiers: usize,
    },
    /// The plain-language assistant on the demo catalogue: its hit rate on the evaluation
    /// situations (the right procedure first, and in the top 3) and its time a suggestion.
    Assistant,
    /// In-process catalogue search over a generated catalogue: throughput and latency.
    Search {
        #[arg(long, default_value_t = 7000)]
        procedures: usize,
        /// Times the query mix is run.
        #[arg(long, default_value_t = 2000)]
        rounds: usize,
    },
    /// Official actions over HTTP on the configured database (with the demo data): actions
    /// per second and latency, then an audit of the log.
    Transitions {
        #[arg(long, default_value_t = 5000)]
        dossiers: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// The leader's statistics API and dashboard over HTTP for one agency's subtree, on the
    /// configured database as it is (see `generate dossiers`): latency per request kind.
    Stats {
        /// The agency whose leader asks (a province); its `gen-leader-CODE` user is used.
        #[arg(long)]
        agency: String,
        #[arg(long, default_value_t = 500)]
        requests: usize,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref()).context("invalid configuration")?;
    if let Some(dir) = cli.data_dir {
        config.server.data_dir = dir;
    }
    init_logging(&config);
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Serve { addr, demo } => {
            if let Some(addr) = addr {
                config.server.addr = addr;
            }
            runtime.block_on(serve(config, demo))
        }
        Command::Import(what) => runtime.block_on(import(config, what)),
        Command::Export(Export::Procedures { output }) => runtime.block_on(async {
            let app = server::open_for_command(&config).await?;
            let records = app.export_catalogue().await?;
            let json = serde_json::to_string_pretty(&records)?;
            match output {
                Some(path) => std::fs::write(&path, json)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => println!("{json}"),
            }
            eprintln!("exported {} procedures", records.len());
            Ok(())
        }),
        Command::Export(Export::Dossiers { since, output }) => runtime.block_on(async {
            use std::io::Write;
            let app = server::open_for_command(&config).await?;
            let mut out: Box<dyn Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let (mut cursor, mut written) = (since, 0usize);
            loop {
                let page = app.sync_page(&cursor, app::MAX_SYNC_PAGE).await?;
                for record in &page.records {
                    serde_json::to_writer(&mut out, record)?;
                    out.write_all(b"\n")?;
                }
                written += page.records.len();
                cursor = page.cursor;
                if !page.more {
                    break;
                }
            }
            out.flush()?;
            eprintln!("exported {written} changes; next cursor: {cursor}");
            Ok(())
        }),
        Command::Generate(Generate::Catalogue {
            procedures,
            communes,
            seed,
            output,
        }) => {
            let catalogue = generate::catalogue(procedures, communes, seed);
            std::fs::create_dir_all(&output)?;
            std::fs::write(
                output.join("procedures.dvcqg.json"),
                serde_json::to_vec(&catalogue.procedures)?,
            )?;
            std::fs::write(
                output.join("agencies.json"),
                serde_json::to_vec(&catalogue.agencies)?,
            )?;
            println!(
                "wrote {} procedures and {} agencies to {}",
                catalogue.procedures.len(),
                catalogue.agencies.len(),
                output.display()
            );
            Ok(())
        }
        Command::Bench(Bench::Search { procedures, rounds }) => bench::search(procedures, rounds),
        Command::Bench(Bench::Assistant) => bench::assistant(),
        Command::Bench(Bench::Http {
            url,
            scenario,
            duration,
            concurrency,
            pid,
            markdown,
            dossiers,
        }) => runtime.block_on(async {
            let app = server::open_for_command(&config).await?;
            let options = motcua::load::Options {
                url,
                scenarios: scenario,
                duration: Duration::from_secs(duration.max(1)),
                concurrency,
                pid,
                markdown,
                dossiers,
            };
            motcua::load::run(&app, options).await.map(|_| ())
        }),
        Command::Bench(Bench::Transitions {
            dossiers,
            concurrency,
        }) => runtime.block_on(bench::transitions(&config, dossiers, concurrency)),
        Command::Bench(Bench::Stats {
            agency,
            requests,
            concurrency,
        }) => runtime.block_on(bench::stats(&config, &agency, requests, concurrency)),
        Command::Generate(Generate::Dossiers { count, days, seed }) => runtime.block_on(async {
            let store = server::open_store(&config).await?;
            let bytes_before = store.database_bytes().await?;
            let started = std::time::Instant::now();
            let bar = indicatif::ProgressBar::new(count);
            let made =
                history::dossiers(store.as_ref(), count, days, seed, |n| bar.set_position(n))
                    .await?;
            bar.finish_and_clear();
            eprintln!(
                "wrote {} dossiers with {} events over {} agencies in {:.0} s",
                made.dossiers,
                made.events,
                made.agencies,
                started.elapsed().as_secs_f64()
            );
            // Growth over what was there: events, counters, roll-ups and indexes included.
            let bytes = store.database_bytes().await?;
            eprintln!(
                "database {bytes} bytes on disk, {:.0} bytes per dossier written",
                (bytes - bytes_before) as f64 / made.dossiers.max(1) as f64
            );
            Ok(())
        }),
        Command::Calendar(command) => runtime.block_on(async {
            // The calendar is the database's: statutory rules plus the stored decrees.
            let app = server::open_for_command(&config).await?;
            calendar(&app, command).await
        }),
        Command::Token { user, days } => runtime.block_on(async {
            let app = server::open_for_command(&config).await?;
            println!(
                "{}",
                app.issue_token(&user, chrono::Duration::days(days.max(1)))
                    .await?
            );
            Ok(())
        }),
        Command::Exchange(command) => runtime.block_on(async {
            let app = server::open_for_command(&config)
                .await?
                .with_exchange(config.exchange.clone())
                .await?;
            exchange_command(&app, command).await
        }),
        Command::Audit(AuditCommand::Verify) => runtime.block_on(async {
            let app = server::open_for_command(&config).await?;
            let started = std::time::Instant::now();
            let report = app.verify_audit().await?;
            let seconds = started.elapsed().as_secs_f64();
            match report.first_error {
                None => {
                    println!(
                        "intact: {} dossiers, {} events verified in {:.2} s ({:.0} events/s)",
                        report.dossiers,
                        report.events,
                        seconds,
                        report.events as f64 / seconds.max(1e-9)
                    );
                    Ok(())
                }
                Some(e) => anyhow::bail!("the event log was tampered with: {e}"),
            }
        }),
        Command::Stats(StatsCommand::Verify) => runtime.block_on(async {
            let app = server::open_for_command(&config).await?;
            let differences = app.verify_stats().await?;
            if differences.is_empty() {
                println!("every counter matches the event log");
                return Ok(());
            }
            for d in differences.iter().take(50) {
                eprintln!(
                    "{}: stored {}, events give {}",
                    d.counter, d.stored, d.from_events
                );
            }
            anyhow::bail!(
                "{} counters differ from the event log; `motcua stats rebuild` repairs them",
                differences.len()
            )
        }),
        Command::Stats(StatsCommand::Rebuild) => runtime.block_on(async {
            let app = server::open_for_command(&config).await?;
            let n = app.rebuild_stats().await?;
            println!("{n} counters rebuilt from the event log");
            Ok(())
        }),
        Command::Backup { output, pg_bin } => {
            runtime.block_on(backup::backup(&config, &output, pg_bin.as_deref()))
        }
        Command::Restore {
            from,
            force,
            pg_bin,
        } => runtime.block_on(backup::restore(&config, &from, force, pg_bin.as_deref())),
        Command::Migrate => runtime.block_on(async {
            server::open_store(&config).await?;
            println!(
                "database {} is up to date",
                store::redact(&config.database_url())
            );
            Ok(())
        }),
    }
}

async fn calendar(app: &app::App, command: CalendarCommand) -> anyhow::Result<()> {
    use domain::TimeUnit;
    use domain::calendar::{OfficeHours, vietnam_offset};
    let calendar = app.calendar();
    match command {
        CalendarCommand::Import { file } => {
            let json = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let years = app.import_decrees(&json).await?;
            println!("decrees stored for {years:?}");
        }
        CalendarCommand::Due {
            from,
            working_days,
            days,
            working_hours,
            hours,
            months,
            cutoff,
        } => {
            let (amount, unit) = [
                (working_days, TimeUnit::WorkingDays),
                (days, TimeUnit::Days),
                (working_hours, TimeUnit::WorkingHours),
                (hours, TimeUnit::Hours),
                (months, TimeUnit::Months),
            ]
            .into_iter()
            .find_map(|(amount, unit)| amount.map(|a| (a, unit)))
            .context("give one of --working-days, --days, --working-hours, --hours, --months")?;
            let office = OfficeHours {
                cutoff,
                ..OfficeHours::default()
            };
            let due = calendar.due_at(from.to_utc(), amount, unit, &office);
            println!("{}", due.with_timezone(&vietnam_offset()).to_rfc3339());
        }
        CalendarCommand::Holidays { year } => {
            anyhow::ensure!(
                (1900..=2199).contains(&year),
                "--year must be between 1900 and 2199"
            );
            for day in calendar.non_working_weekdays(year) {
                println!("{} {}", day.date, day.name);
            }
        }
    }
    Ok(())
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let app = server::build(&config, demo).await?;
    let listener = tokio::net::TcpListener::bind(&config.server.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.addr))?;
    web::start_metrics_upkeep();
    tracing::info!(
        addr = %config.server.addr,
        backend = ?app.backend(),
        startup_ms = started.elapsed().as_millis() as u64,
        "motcua is listening on http://{}",
        listener.local_addr()?
    );
    let refresh = Duration::from_secs(config.server.index_refresh_secs.max(1));
    server::run(
        app,
        config.web_options(),
        listener,
        refresh,
        server::shutdown_signal(),
    )
    .await
}

async fn import(config: Config, what: Import) -> anyhow::Result<()> {
    let app = server::open_for_command(&config).await?;
    let read = |path: &PathBuf| {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    match what {
        Import::Procedures {
            file,
            effective_from,
        } => {
            let bytes = read(&file)?;
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records {elapsed}")
                    .expect("a valid template"),
            );
            let progress_bar = bar.clone();
            let progress = move |done: u64| {
                progress_bar.set_position(done);
            };
            bar.set_length(count_records(&bytes));
            let report = app
                .import_catalogue(&bytes, effective_from, &progress)
                .await;
            bar.finish_and_clear();
            let report =
                report.with_context(|| format!("nothing was imported from {}", file.display()))?;
            println!(
                "{}: {} new procedures, {} new versions, {} updated versions, {} unchanged",
                file.display(),
                report.new_procedures,
                report.new_versions,
                report.updated_versions,
                report.unchanged
            );
        }
        Import::Agencies { file } => {
            let n = app
                .import_agencies(&read(&file)?)
                .await
                .context("nothing was imported")?;
            println!("{}: {n} agencies imported or updated", file.display());
        }
        Import::Services { file } => {
            let n = app
                .import_service_designs(&read(&file)?)
                .await
                .context("nothing was imported")?;
            println!("{}: {n} service designs stored", file.display());
        }
        Import::LifeEvents { file } => {
            let n = app
                .import_life_events(&read(&file)?)
                .await
                .context("nothing was imported")?;
            println!("{}: {n} life events imported or updated", file.display());
        }
        Import::FormTemplate {
            procedure,
            file,
            name,
        } => {
            let file_name = match name {
                Some(n) => n,
                None => file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .context("the file has no usable name; pass --name")?
                    .to_owned(),
            };
            let content = read(&file)?;
            let template = app::FormTemplate {
                content_type: content_type(&file_name).into(),
                file_name,
                content,
            };
            app.put_form_template(&procedure, template).await?;
            println!(
                "{}: stored as a form template of {procedure}",
                file.display()
            );
        }
    }
    Ok(())
}

/// How many records a catalogue file holds, for the progress bar; 0 if it cannot be read.
fn count_records(bytes: &[u8]) -> u64 {
    serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(bytes).map_or(0, |v| v.len() as u64)
}

fn content_type(file_name: &str) -> &'static str {
    let lower = file_name.to_lowercase();
    match lower.rsplit('.').next() {
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("doc") => "application/msword",
        Some("pdf") => "application/pdf",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        _ => "application/octet-stream",
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    // Colours only for a person at a terminal, never in log files.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn exchange_command(app: &app::App, command: ExchangeCommand) -> anyhow::Result<()> {
    match command {
        ExchangeCommand::Identity => {
            let (member, public_key) = app.exchange_identity()?;
            println!("{member} {public_key}");
        }
        ExchangeCommand::AddMember {
            member,
            name,
            public_key,
            url,
        } => {
            app.put_member(&member, &name, &public_key, &url).await?;
            println!("registered {member}");
        }
        ExchangeCommand::Grant { service, client } => {
            app.put_grant(&service, &client, "motcua exchange grant")
                .await?;
            println!("{client} may call {service}");
        }
        ExchangeCommand::Call {
            member,
            service,
            query,
        } => {
            let provider = domain::exchange::MemberId::parse(&member)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.reason))?;
            let query: Vec<(&str, &str)> = query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let (status, answer) = app.call_member(&provider, &service, &query, None).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            anyhow::ensure!(status < 400, "{member} answered HTTP {status}");
        }
        ExchangeCommand::VerifyLog => {
            let report = app.verify_exchange_log().await?;
            match report.broken {
                None => println!("intact: {} entries", report.entries),
                Some((seq, why)) => {
                    anyhow::bail!("the message log is broken at entry {seq}: {why}")
                }
            }
        }
        ExchangeCommand::PushStatus => {
            let state = app.push_state().await?;
            println!(
                "cursor {} ({} records pushed){}",
                state.cursor,
                state.pushed,
                state
                    .last_error
                    .map(|e| format!("; last failure: {e}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// `key=value`, as `--query` takes it.
fn parse_pair(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("'{raw}' is not key=value"))
}
