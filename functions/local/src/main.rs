//! `pantau`: the whole Pantau suite in one process on an embedded SQLite store.

mod app;
mod classify_cli;
mod connections;
mod demo;
mod import;
mod report_cli;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use pantau::config::{Env, Secrets};
use pantau::handlers::Trigger;
use pantau::schedule::SCHEDULES;
use pantau::time::{Clock, FixedClock, SystemClock};
use secrecy::SecretString;

use crate::app::{LocalApp, Options};

#[derive(Parser)]
#[command(
    name = "pantau",
    version,
    about = "Pantau — social-media intelligence for a government PR office, in one process"
)]
struct Cli {
    /// Log as JSON lines (for log collectors) instead of readable text.
    #[arg(long, global = true)]
    json_logs: bool,
    #[command(subcommand)]
    command: Command,
}

/// Where the suite keeps its data.
#[derive(Args)]
struct Store {
    /// The SQLite database (created if missing).
    #[arg(long, default_value = "pantau.db")]
    db: PathBuf,
    /// Folder for files: rendered reports, quarantined deliveries.
    #[arg(long, default_value = "pantau-data")]
    data_dir: PathBuf,
    /// Classification model file (default: the built-in model).
    #[arg(long)]
    model: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every HTTP route (webhooks and /v1), deliver events in-process and fire the
    /// schedules of the template (times in Asia/Jakarta).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[command(flatten)]
        store: Store,
    },
    /// Run one function's handler once with a given event and clock, then deliver the events it
    /// emitted in-process. HTTP functions take an API Gateway v2 request; the others an
    /// EventBridge event (default: their scheduled event).
    Invoke {
        /// ingest-webhook, ingest-poll, classify, publish, report, watch or api.
        function: String,
        /// JSON file with the event, `-` for stdin.
        #[arg(long)]
        event: Option<PathBuf>,
        /// Run as if it were this time (RFC 3339).
        #[arg(long)]
        now: Option<DateTime<Utc>>,
        #[command(flatten)]
        store: Store,
    },
    /// Backfill normalised mentions from a CSV (`.csv`) or JSON Lines file; the whole file is
    /// checked first, then each mention is stored once, announced and classified.
    Import {
        file: PathBuf,
        #[command(flatten)]
        store: Store,
    },
    /// Classify messages: CSV with a `text` column (and optional `id`) or JSONL with a `text`
    /// field; writes one JSON line per row, in input order. `-` is stdin/stdout.
    Classify {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Score a model on labelled data: CSV with `text` and `category` and/or `sentiment`
    /// (positif/negatif/netral or positive/negative/neutral), EmoT's `text,emotion`,
    /// ibrohim2019's `text,hs,abusive,…`, or SmSA's TSV (`text<TAB>positive|negative|neutral`).
    /// Prints per-label precision, recall, F1, macro-F1, the confusion matrix, the reliability of
    /// the category confidence, and `hater` against hate-speech labels.
    Eval {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        model: Option<PathBuf>,
        /// csv or smsa (default: by extension, `.tsv` is SmSA).
        #[arg(long, value_parser = ["csv", "smsa"])]
        format: Option<String>,
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
    },
    /// Train a model (default inputs: the repository's files listed in
    /// `pantau::classify::data::DEFAULT_INPUTS`, which reproduce the built-in model bit for bit)
    /// and print its held-out scores.
    Train {
        #[arg(long)]
        output: PathBuf,
        /// Training files: category CSVs, SmSA TSVs, NusaX/EmoT sentiment CSVs, ibrohim2019 CSVs.
        inputs: Vec<PathBuf>,
        /// Held-out files to score (default: `pantau::classify::data::DEFAULT_HELD_OUT`).
        #[arg(long = "held-out")]
        held_out: Vec<PathBuf>,
        /// Also learn from officers' corrections stored in the database (`--db`).
        #[arg(long)]
        feedback: bool,
        /// Also learn from corrections saved from `GET /v1/feedback` (an AWS deployment); give
        /// it once per saved page.
        #[arg(long = "feedback-file")]
        feedback_file: Vec<PathBuf>,
        /// The SQLite database whose corrections `--feedback` reads.
        #[arg(long, default_value = "pantau.db")]
        db: PathBuf,
    },
    /// Re-run classification over a period (WIB dates, inclusive): mentions classified by
    /// another model or edited since are classified again and their counts moved.
    Reclassify {
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Also the mentions this model already classified: after a taxonomy change, gives them
        /// the new topics (a mention whose labels come out the same is not written).
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        store: Store,
    },
    /// Manage the API keys of this database (stored as SHA-256 only). Works while `pantau serve`
    /// runs on the same database: new keys work and revoked keys stop at once.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
        /// The SQLite database.
        #[arg(long, default_value = "pantau.db", global = true)]
        db: PathBuf,
    },
    /// Make the report of a period now from the database and write it to `OUT/{id}/`: the
    /// HTML page and CSV tables in one language, and the JSON (label codes). Nothing is
    /// recorded or announced (the `report` function does that on its schedules and requests).
    Report {
        /// daily, weekly, monthly or custom.
        #[arg(long)]
        period: pantau::domain::ReportPeriod,
        /// The day of a daily report.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// The first day (a Monday for weekly, the 1st for monthly).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// The last day (custom reports).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// id (Bahasa Indonesia) or en.
        #[arg(long, default_value = "id")]
        lang: pantau::report::Lang,
        /// Report as if it were this time (RFC 3339).
        #[arg(long)]
        now: Option<DateTime<Utc>>,
        #[command(flatten)]
        store: Store,
    },
    /// Replay bundled sample traffic (each platform's payload shape) through the suite on a
    /// fresh database and print what happened, read back from the store.
    Demo {
        /// Folder for the demo's database, reports and log: created if missing; an earlier
        /// demo's database in it is replaced; any other non-empty folder is refused.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Issue a key; prints the key alone on stdout, once.
    Create {
        /// viewer, operator, admin or ingest.
        #[arg(long)]
        role: pantau::auth::Role,
        #[arg(long)]
        label: Option<String>,
    },
    /// List issued keys (id, role, label, created, revoked) as JSON lines.
    List,
    /// Revoke a key by id.
    Revoke { id: String },
}

const FUNCTIONS: [&str; 7] = ["ingest-webhook", "ingest-poll", "classify", "publish", "report", "watch", "api"];

async fn open(store: &Store, clock: Arc<dyn Clock>, secrets: Secrets) -> anyhow::Result<Arc<LocalApp>> {
    LocalApp::build(Options { db: &store.db, data_dir: &store.data_dir, clock, secrets, model: store.model.as_deref() })
        .await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The demo logs into its folder: what it prints is for people.
    if !matches!(cli.command, Command::Demo { .. }) {
        pantau::telemetry::init_local(cli.json_logs);
    }
    match cli.command {
        Command::Serve { addr, store } => {
            let mut secrets = Secrets::from_source(&Env);
            if secrets.api_keys.is_none() {
                let key = hex::encode(rand::random::<[u8; 24]>());
                eprintln!("PANTAU_API_KEYS is not set; this run's admin API key (shown once):");
                println!("{key}");
                secrets.api_keys = Some(SecretString::from(key));
            }
            let app = open(&store, Arc::new(SystemClock), secrets).await?;
            server::serve(app, addr).await
        }
        Command::Invoke { function, event, now, store } => {
            if !FUNCTIONS.contains(&function.as_str()) {
                bail!("unknown function {function}; one of: {}", FUNCTIONS.join(", "));
            }
            let clock: Arc<dyn Clock> = match now {
                Some(now) => Arc::new(FixedClock(now)),
                None => Arc::new(SystemClock),
            };
            let app = open(&store, clock, Secrets::from_source(&Env)).await?;
            let event = event.map(read_event).transpose()?;
            let output = invoke(&app, &function, event).await?;
            let relayed = app.drain().await?;
            println!("{}", serde_json::to_string_pretty(&output)?);
            eprintln!("events delivered in-process: {}, failed: {}", relayed.published, relayed.failed);
            Ok(())
        }
        Command::Report { period, date, from, to, out, lang, now, store } => {
            let clock: Arc<dyn Clock> = match now {
                Some(now) => Arc::new(FixedClock(now)),
                None => Arc::new(SystemClock),
            };
            let app = open(&store, clock, Secrets::from_source(&Env)).await?;
            let request = report_cli::Request { period, date, from, to, out, lang };
            let (folder, headline) = report_cli::run(&app, request).await?;
            println!("{headline}");
            eprintln!("report written to {}", folder.display());
            Ok(())
        }
        Command::Import { file, store } => {
            let app = open(&store, Arc::new(SystemClock), Secrets::from_source(&Env)).await?;
            let stats = import::run(&app, &file).await?;
            println!("{}", serde_json::to_string(&stats)?);
            Ok(())
        }
        Command::Classify { input, output, model } => {
            let rows = classify_cli::classify(&input, output.as_deref(), model.as_deref())?;
            eprintln!("classified {rows} messages");
            Ok(())
        }
        Command::Eval { input, model, format, json } => {
            let report = classify_cli::evaluate(&input, model.as_deref(), format.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            Ok(())
        }
        Command::Train { output, inputs, held_out, feedback, feedback_file, db } => {
            let mut corrections = Vec::new();
            if feedback {
                corrections.extend(classify_cli::feedback_examples(&db).await?);
                eprintln!("{} corrected messages from {} added to the training set", corrections.len(), db.display());
            }
            for file in &feedback_file {
                let from_file = classify_cli::feedback_file_examples(file)?;
                eprintln!("{} corrected messages from {} added to the training set", from_file.len(), file.display());
                corrections.extend(from_file);
            }
            let (classifier, reports) = classify_cli::train_model(&output, &inputs, &held_out, &corrections)?;
            println!("model {} written to {}", classifier.version(), output.display());
            for (path, report) in reports {
                println!("\nheld out: {}", path.display());
                print_report(&report);
            }
            Ok(())
        }
        Command::Reclassify { from, to, all, store } => {
            let app = open(&store, Arc::new(SystemClock), Secrets::from_source(&Env)).await?;
            let outcome = app::reclassify(&app, from, to, all).await?;
            println!("{}", serde_json::to_string(&outcome)?);
            Ok(())
        }
        Command::Keys { action, db } => {
            let store = pantau::adapters::sqlite::SqliteStore::open(
                &db,
                Arc::new(SystemClock),
                pantau::config::DEFAULT_RETENTION_DAYS,
            )
            .with_context(|| format!("opening database {}", db.display()))?;
            match action {
                KeysAction::Create { role, label } => {
                    let (info, key) = store.create_api_key(role, label).await?;
                    eprintln!("key {} ({}) created; it is shown only now:", info.id, info.role);
                    println!("{key}");
                }
                KeysAction::List => {
                    for info in store.list_api_keys().await? {
                        println!("{}", serde_json::to_string(&info)?);
                    }
                }
                KeysAction::Revoke { id } => {
                    if !store.revoke_api_key(&id).await? {
                        bail!("no active key with id {id}");
                    }
                    eprintln!("key {id} revoked");
                }
            }
            Ok(())
        }
        Command::Demo { out } => demo::run(&out, cli.json_logs).await,
    }
}

fn print_report(report: &classify_cli::Report) {
    classify_cli::print_report(report);
}

fn read_event(path: PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        return std::io::read_to_string(std::io::stdin()).context("reading the event from stdin");
    }
    std::fs::read_to_string(&path).with_context(|| format!("reading event file {}", path.display()))
}

async fn invoke(app: &LocalApp, function: &str, event: Option<String>) -> anyhow::Result<serde_json::Value> {
    if matches!(function, "api" | "ingest-webhook") {
        let json = event.context("HTTP functions need --event with an API Gateway v2 request")?;
        let request =
            pantau::lambda::request_from_apigw_json(&json).context("the event is not an API Gateway v2 request")?;
        let (credential, request) = pantau::lambda::request(request);
        let response = match function {
            "api" => pantau::handlers::api::handle(&app.api, &credential, request).await,
            _ => pantau::handlers::ingest_webhook::handle(&app.webhook, request).await,
        };
        return Ok(pantau::lambda::response_to_apigw_json(&response));
    }
    let event = match event {
        Some(json) => serde_json::from_str(&json).context("the event is not an EventBridge event")?,
        None => {
            // The schedule named after the function (`watch`, not `relay`), else its first one.
            let schedule = SCHEDULES
                .iter()
                .find(|s| s.function == function && s.name.as_str() == function)
                .or_else(|| SCHEDULES.iter().find(|s| s.function == function))
                .with_context(|| format!("{function} has no schedule; pass --event"))?;
            Trigger::scheduled_event(schedule.name)
        }
    };
    let trigger = Trigger::from_event(&event)?;
    Ok(app.run_function(function, trigger).await?)
}
