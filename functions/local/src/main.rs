//! `pantau`: the whole Pantau suite in one process on an embedded SQLite store.

mod app;
mod demo;
mod import;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
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

#[derive(Subcommand)]
enum Command {
    /// Serve every HTTP route (webhooks and /v1), deliver events in-process and fire the
    /// schedules of the template (times in Asia/Jakarta).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[arg(long, default_value = "pantau.db")]
        db: PathBuf,
        /// Folder for files: rendered reports, quarantined deliveries.
        #[arg(long, default_value = "pantau-data")]
        data_dir: PathBuf,
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
        #[arg(long, default_value = "pantau.db")]
        db: PathBuf,
        /// Folder for files: rendered reports, quarantined deliveries.
        #[arg(long, default_value = "pantau-data")]
        data_dir: PathBuf,
    },
    /// Backfill normalised mentions from a CSV (`.csv`) or JSON Lines file; the whole file is
    /// checked first, then each mention is stored once and announced.
    Import {
        file: PathBuf,
        #[arg(long, default_value = "pantau.db")]
        db: PathBuf,
        #[arg(long, default_value = "pantau-data")]
        data_dir: PathBuf,
    },
    /// Replay bundled sample traffic (each platform's payload shape) through the suite on a
    /// fresh database and print what happened, read back from the store.
    Demo {
        /// Folder for the demo's database and reports (emptied first).
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
    },
}

const FUNCTIONS: [&str; 7] = ["ingest-webhook", "ingest-poll", "classify", "publish", "report", "watch", "api"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    pantau::telemetry::init_local(cli.json_logs);
    match cli.command {
        Command::Serve { addr, db, data_dir } => {
            let mut secrets = Secrets::from_source(&Env);
            if secrets.get("PANTAU_API_KEYS").is_none() {
                let key = hex::encode(rand::random::<[u8; 24]>());
                eprintln!("PANTAU_API_KEYS is not set; this run's admin API key (shown once):");
                println!("{key}");
                secrets.set("PANTAU_API_KEYS", SecretString::from(key));
            }
            let app = LocalApp::build(Options { db: &db, data_dir: &data_dir, clock: Arc::new(SystemClock), secrets })
                .await?;
            server::serve(app, addr).await
        }
        Command::Invoke { function, event, now, db, data_dir } => {
            if !FUNCTIONS.contains(&function.as_str()) {
                bail!("unknown function {function}; one of: {}", FUNCTIONS.join(", "));
            }
            let clock: Arc<dyn Clock> = match now {
                Some(now) => Arc::new(FixedClock(now)),
                None => Arc::new(SystemClock),
            };
            let secrets = Secrets::from_source(&Env);
            let app = LocalApp::build(Options { db: &db, data_dir: &data_dir, clock, secrets }).await?;
            let event = event.map(read_event).transpose()?;
            let output = invoke(&app, &function, event).await?;
            let relayed = app.drain().await?;
            println!("{}", serde_json::to_string_pretty(&output)?);
            eprintln!("events delivered in-process: {}, failed: {}", relayed.published, relayed.failed);
            Ok(())
        }
        Command::Import { file, db, data_dir } => {
            let secrets = Secrets::from_source(&Env);
            let app = LocalApp::build(Options { db: &db, data_dir: &data_dir, clock: Arc::new(SystemClock), secrets })
                .await?;
            let stats = import::run(&app, &file).await?;
            println!("{}", serde_json::to_string(&stats)?);
            Ok(())
        }
        Command::Demo { out } => demo::run(&out).await,
    }
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
            let schedule = SCHEDULES
                .iter()
                .find(|s| s.function == function)
                .with_context(|| format!("{function} has no schedule; pass --event"))?;
            Trigger::scheduled_event(schedule.name)
        }
    };
    let trigger = Trigger::from_event(&event)?;
    Ok(app.run_function(function, trigger).await?)
}
