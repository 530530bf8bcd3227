//! `pantau demo`: bundled sample traffic in each platform's payload shape, replayed through the
//! suite on a fresh database; everything printed is read back from the store.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, ensure};
use chrono::{DateTime, NaiveDate, Utc};
use pantau::config::{Env, Secrets};
use pantau::domain::{EventKind, Priority, ReportPeriod};
use pantau::handlers::Trigger;
use pantau::handlers::report::count;
use pantau::platforms::{hmac_base64, hmac_sha256};
use pantau::ports::Outbox;
use pantau::time::FixedClock;
use secrecy::SecretString;

use crate::app::{LocalApp, Options};
use crate::server::{dispatch, request};

const META_PAGE: &str = include_str!("../demo/meta_page.json");
const INSTAGRAM: &str = include_str!("../demo/instagram.json");
const WHATSAPP: &str = include_str!("../demo/whatsapp.json");
const X_AAA: &str = include_str!("../demo/x_aaa.json");
const TELEGRAM: &str = include_str!("../demo/telegram.jsonl");

const META_SECRET: &str = "demo-meta-app-secret";
const X_SECRET: &str = "demo-x-consumer-secret";
const TELEGRAM_SECRET: &str = "demo-telegram-secret";
const ADMIN_KEY: &str = "demo-admin-key";

/// The sample traffic happened on Monday 16 November 2026 (WIB); the demo runs that evening.
fn demo_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-16T10:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

struct Delivery {
    label: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn deliveries() -> Vec<Delivery> {
    let meta = |label, body: &str| Delivery {
        label,
        path: "/webhooks/meta",
        headers: vec![(
            "x-hub-signature-256",
            format!("sha256={}", hex::encode(hmac_sha256(META_SECRET.as_bytes(), body.as_bytes()))),
        )],
        body: body.to_string(),
    };
    let mut all = vec![meta("Facebook Page", META_PAGE), meta("Instagram", INSTAGRAM), meta("WhatsApp", WHATSAPP)];
    all.push(Delivery {
        label: "X",
        path: "/webhooks/x",
        headers: vec![(
            "x-twitter-webhooks-signature",
            format!("sha256={}", hmac_base64(X_SECRET.as_bytes(), X_AAA.as_bytes())),
        )],
        body: X_AAA.to_string(),
    });
    for line in TELEGRAM.lines().filter(|l| !l.trim().is_empty()) {
        all.push(Delivery {
            label: "Telegram",
            path: "/webhooks/telegram",
            headers: vec![("x-telegram-bot-api-secret-token", TELEGRAM_SECRET.to_string())],
            body: line.to_string(),
        });
    }
    all
}

/// Marks a folder as a demo's output: only a folder with it is reused.
const MARKER: &str = ".pantau-demo";
/// The files a demo run replaces in its own folder (a fresh database each run).
const DATABASE_FILES: [&str; 3] = ["pantau.db", "pantau.db-wal", "pantau.db-shm"];

/// Makes `out` ready for a run without touching anything Pantau did not create: a missing or
/// empty folder is used, an earlier demo's folder gets a fresh database, any other folder with
/// something in it is refused.
fn prepare(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        ensure!(out.is_dir(), "{} exists and is not a folder; choose another with --out", out.display());
        let mut entries = std::fs::read_dir(out).with_context(|| format!("reading {}", out.display()))?;
        let is_demo = out.join(MARKER).is_file();
        if !is_demo && entries.next().is_some() {
            anyhow::bail!(
                "{} is not empty and was not made by `pantau demo`; nothing in it was touched. \
                 Run the demo into a new folder (`pantau demo --out another-folder`) or empty this one yourself.",
                out.display()
            );
        }
        if is_demo {
            for name in DATABASE_FILES {
                match std::fs::remove_file(out.join(name)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("replacing the demo database in {}", out.display()));
                    }
                }
            }
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(
        out.join(MARKER),
        "This folder holds the output of `pantau demo`; a new run replaces its database.\n",
    )
    .with_context(|| format!("marking {}", out.display()))?;
    Ok(())
}

pub async fn run(out: &Path, json_logs: bool) -> anyhow::Result<()> {
    prepare(out)?;
    let log = out.join("pantau.log");
    pantau::telemetry::init_local_file(&log, json_logs).with_context(|| format!("opening {}", log.display()))?;
    let secrets = Secrets {
        meta_app_secret: Some(SecretString::from(META_SECRET)),
        x_consumer_secret: Some(SecretString::from(X_SECRET)),
        telegram_secret_token: Some(SecretString::from(TELEGRAM_SECRET)),
        api_keys: Some(SecretString::from(ADMIN_KEY)),
        ..Secrets::from_source(&Env)
    };
    let db = out.join("pantau.db");
    let app = LocalApp::build(Options {
        db: &db,
        data_dir: out,
        clock: Arc::new(FixedClock(demo_now())),
        secrets,
        model: None,
    })
    .await?;

    println!("Pantau demo — sample traffic of Monday 16 November 2026 (WIB), database {}\n", db.display());
    println!("1. Webhook deliveries (signed as each platform signs them), each sent twice as platforms redeliver:");
    let mut statuses: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for round in 0..2 {
        for d in deliveries() {
            let response = dispatch(&app, request("POST", d.path, &d.headers, d.body.clone())?).await;
            *statuses.entry((d.label, response.status().as_u16())).or_default() += 1;
            if round == 0 && d.label == "Facebook Page" {
                // A tampered copy: same signature, one byte changed.
                let tampered = d.body.replacen("rusak", "RUSAK", 1);
                let refused = dispatch(&app, request("POST", d.path, &d.headers, tampered)?).await;
                *statuses.entry(("Facebook Page (tampered)", refused.status().as_u16())).or_default() += 1;
            }
        }
    }
    for ((label, status), n) in &statuses {
        println!("   {label:<26} HTTP {status} × {n}");
    }

    let relayed = app.drain().await?;
    println!(
        "\n2. Events relayed from the outbox to their consumers in-process: {} (failed: {})",
        relayed.published, relayed.failed
    );

    let day = NaiveDate::from_ymd_opt(2026, 11, 16).context("demo day")?;
    let requested = EventKind::ReportRequested { period: ReportPeriod::Daily, from: day, to: day };
    let report = app.run_function("report", Trigger::Event(requested)).await?;

    let volume = count(app.store.as_ref(), ReportPeriod::Daily, day, day).await?;
    println!("\n3. Mentions stored, read back from the store: {}", volume.total);
    for (platform, n) in &volume.by_platform {
        println!("   {platform:<10} {n}");
    }
    let mut all = Vec::new();
    let whole_day = pantau::ports::MentionQuery::between(
        pantau::time::wib_day_start(day),
        pantau::time::wib_day_start(day.succ_opt().unwrap_or(day)),
        200,
    );
    pantau::ports::visit_mentions(app.store.as_ref(), whole_day, |m| all.push(m.clone())).await?;
    for m in all.iter().filter(|m| !m.edits.is_empty()) {
        println!("   edited: {} — “{}” became “{}”", m.key, m.edits[0].text, m.text);
    }

    println!("\n4. Classification, read back from the daily counters:");
    let counts = pantau::ports::CounterStore::counts(app.store.as_ref(), day, day).await?;
    for prefix in ["category#", "sentiment#", "language#", "topic#"] {
        let row: Vec<String> = counts
            .iter()
            .filter_map(|c| c.key.strip_prefix(prefix).filter(|_| c.n > 0).map(|label| format!("{label} {}", c.n)))
            .collect();
        println!("   {:<10} {}", prefix.trim_end_matches('#'), row.join(", "));
    }

    println!("\n5. What to answer first (P1–P2), with the classifier's reasons:");
    let mut urgent: Vec<_> =
        all.iter().filter(|m| m.triage.as_ref().is_some_and(|t| t.priority <= Priority::P2)).collect();
    urgent.sort_by_key(|m| m.triage.as_ref().map(|t| t.priority));
    for m in urgent {
        let (Some(c), Some(t)) = (&m.classification, &m.triage) else { continue };
        let text: String = m.text.chars().take(70).collect();
        let followers =
            m.author.followers.map(|f| format!("{f} followers")).unwrap_or_else(|| "followers unknown".into());
        println!(
            "   {} {:<20} {:<24} from {:<7} {:<40} {followers}\n      “{text}…”\n      {}",
            t.priority,
            c.category,
            t.action,
            t.account,
            m.key.to_string(),
            c.reasons.first().map(String::as_str).unwrap_or("")
        );
    }

    let listing = dispatch(
        &app,
        request(
            "GET",
            "/v1/mentions?from=2026-11-16&to=2026-11-17&category=permintaan_informasi&limit=3",
            &[("authorization", format!("Bearer {ADMIN_KEY}"))],
            "",
        )?,
    )
    .await;
    ensure!(listing.status().is_success(), "GET /v1/mentions answered {}", listing.status());
    let page: serde_json::Value = serde_json::from_slice(listing.body())?;
    println!(
        "\n6. GET /v1/mentions?category=permintaan_informasi&limit=3 (newest first; next_cursor {}):",
        if page["next_cursor"].is_string() { "present" } else { "absent" }
    );
    for m in page["items"].as_array().into_iter().flatten() {
        let text: String = m["text"].as_str().unwrap_or("").chars().take(70).collect();
        let topics = m["classification"]["topics"]
            .as_array()
            .map(|t| t.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        println!("   {:<42} topics: {topics}\n      “{text}…”", m["key"].as_str().unwrap_or(""));
    }

    cases(&app).await?;

    let pending = app.store.pending_events(demo_now() + chrono::Duration::days(3650), 1000).await?;
    println!("\n9. Events still pending in the outbox: {}", pending.len());
    println!("\n10. Daily report for {day}: {}", report["objects"]);
    println!("   files in {}", out.display());
    println!("\nNot built yet (later issues): publishing, HTML reports.");
    Ok(())
}

/// Calls the API as the demo's admin.
async fn call(app: &LocalApp, method: &str, path: &str, body: String) -> anyhow::Result<serde_json::Value> {
    let auth = [("authorization", format!("Bearer {ADMIN_KEY}")), ("content-type", "application/json".into())];
    let response = dispatch(app, request(method, path, &auth, body)?).await;
    ensure!(response.status().is_success(), "{method} {path} answered {}", response.status());
    Ok(serde_json::from_slice(response.body())?)
}

fn wib(t: &serde_json::Value) -> String {
    t.as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&pantau::time::wib()).format("%a %d %b %H:%M WIB").to_string())
        .unwrap_or_default()
}

/// The case inbox and a prepared answer suggested for a case.
async fn cases(app: &LocalApp) -> anyhow::Result<()> {
    let inbox = call(app, "GET", "/v1/cases?limit=200", String::new()).await?;
    let items = inbox["items"].as_array().cloned().unwrap_or_default();
    println!("\n7. Case inbox (GET /v1/cases, earliest SLA due first): {} open", items.len());
    for c in items.iter().take(5) {
        println!(
            "   {:<44} {:<20} {:<5} due {}  (triage {}, response {})",
            c["id"].as_str().unwrap_or(""),
            c["category"].as_str().unwrap_or(""),
            c["status"].as_str().unwrap_or(""),
            wib(&c["due_at"]),
            wib(&c["sla"]["triage_due"]),
            wib(&c["sla"]["response_due"]),
        );
    }
    let answer = serde_json::json!({
        "title": "Perbaikan jalan provinsi",
        "text": "Terima kasih laporannya. Perbaikan jalan provinsi dijadwalkan Dinas PU Bina Marga; laporkan titik kerusakan lewat kanal resmi agar segera ditindaklanjuti.",
        "link": "https://jatimprov.go.id/berita/perbaikan-jalan-provinsi",
        "topics": ["infrastruktur_jalan"],
        "categories": ["pengaduan"],
        "variants": {"x": "Terima kasih, laporan jalan rusak kami teruskan ke Dinas PU Bina Marga Jatim."}
    });
    call(app, "POST", "/v1/answers", answer.to_string()).await?;
    let road =
        items.iter().find(|c| c["topics"].as_array().is_some_and(|t| t.iter().any(|x| x == "infrastruktur_jalan")));
    if let Some(road) = road {
        let id = road["id"].as_str().unwrap_or("");
        let encoded = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string();
        let case = call(app, "GET", &format!("/v1/cases/{encoded}"), String::new()).await?;
        println!("\n8. Suggested answers for {id} (from the answer library, matched by topic):");
        for s in case["suggested_answers"].as_array().into_iter().flatten() {
            println!("   {} — “{}” {}", s["title"].as_str().unwrap_or(""), s["text"].as_str().unwrap_or(""), s["link"]);
        }
    }
    Ok(())
}
