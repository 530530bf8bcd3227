//! `pantau demo`: bundled sample traffic in each platform's payload shape, replayed through the
//! suite on a fresh database; everything printed is read back from the store.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, ensure};
use chrono::{DateTime, NaiveDate, Utc};
use pantau::config::{Env, Secrets};
use pantau::domain::{EventKind, Priority, ReportPeriod};
use pantau::handlers::Trigger;
use pantau::platforms::{hmac_base64, hmac_sha256};
use pantau::ports::Outbox;
use pantau::time::SettableClock;
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
            clear_outbox(out)?;
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

/// An earlier demo's publications (`outbox/<platform>/*.json`) go with its database; anything
/// else in the folder stays.
fn clear_outbox(out: &Path) -> anyhow::Result<()> {
    let Ok(platforms) = std::fs::read_dir(out.join("outbox")) else { return Ok(()) };
    for platform in platforms.flatten().filter(|e| e.path().is_dir()) {
        for file in std::fs::read_dir(platform.path())?.flatten() {
            let path = file.path();
            if path.extension().is_some_and(|x| x == "json") && path.is_file() {
                std::fs::remove_file(&path).with_context(|| format!("replacing {}", path.display()))?;
            }
        }
    }
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
    let clock = SettableClock::new(demo_now());
    let app = LocalApp::build(Options { db: &db, data_dir: out, clock: clock.clone(), secrets, model: None }).await?;

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
    let counts = pantau::ports::CounterStore::counts(app.store.as_ref(), day, day).await?;
    let total: i64 = counts.iter().filter(|c| c.key == "total").map(|c| c.n).sum();
    println!("\n3. Mentions stored, read back from the daily counters: {total}");
    for c in counts.iter().filter(|c| c.n > 0) {
        if let Some(platform) = c.key.strip_prefix("platform#") {
            println!("   {platform:<10} {}", c.n);
        }
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

    publishing(&app, &clock, out).await?;

    // The daily report of the sample day, made after the fact (it includes the reply sent).
    let requested = EventKind::ReportRequested { period: ReportPeriod::Daily, from: day, to: day };
    let report = app.run_function("report", Trigger::Event(requested)).await?;
    app.drain().await?;
    println!("\n11. Daily report for {day} (HTML, CSV and JSON, Bahasa Indonesia and English):");
    let html = out.join("reports/daily").join(format!("{day}_{day}")).join("report.html");
    println!("   open {}", html.display());
    let files = report["objects"].as_array().map_or(0, Vec::len);
    println!("   {files} files; the announcement sent to the alert channels:");
    let alerts =
        call(app.as_ref(), "GET", "/v1/alerts?kind=report_ready&from=2026-11-01&to=2026-12-31", String::new()).await?;
    for a in alerts["items"].as_array().into_iter().flatten().take(1) {
        println!("   {}", a["title"].as_str().unwrap_or(""));
        for line in a["body"].as_str().unwrap_or("").lines() {
            println!("   {line}");
        }
    }
    println!("   files in {}", out.display());
    Ok(())
}

/// The office's own voice: a reply sent from the inbox, then a post approved and repeated by a
/// series, the clock walked through its slots.
async fn publishing(app: &LocalApp, clock: &SettableClock, out: &Path) -> anyhow::Result<()> {
    println!(
        "\n10. Publishing. No platform credentials are configured, so each platform writes to {}/outbox/<platform>/",
        out.display()
    );
    let inbox = call(app, "GET", "/v1/cases?limit=200", String::new()).await?;
    let items = inbox["items"].as_array().cloned().unwrap_or_default();
    let road =
        items.iter().find(|c| c["topics"].as_array().is_some_and(|t| t.iter().any(|x| x == "infrastruktur_jalan")));
    if let Some(case) = road.or(items.first()) {
        let id = case["id"].as_str().unwrap_or("");
        let encoded = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string();
        let answers = call(app, "GET", "/v1/answers", String::new()).await?;
        let answer = answers["items"][0]["id"].as_str().unwrap_or("").to_string();
        let body = serde_json::json!({"answer_id": answer, "send": true}).to_string();
        let path = format!("/v1/cases/{encoded}/replies");
        let sent = call_once(app, "POST", &path, body.clone(), "demo-reply-1").await?;
        // The officer's browser retries the request: nothing is sent twice.
        call_once(app, "POST", &path, body, "demo-reply-1").await?;
        println!(
            "   reply to {id} from the {} account: {} ({}), the case's first response at {}",
            sent["delivery"]["account"].as_str().unwrap_or(""),
            sent["delivery"]["state"].as_str().unwrap_or(""),
            sent["delivery"]["permalink"].as_str().unwrap_or(""),
            wib(&sent["first_response_at"]),
        );
    }

    let post = serde_json::json!({
        "title": "Cek kesehatan gratis",
        "text": "Cek kesehatan gratis (CKG) untuk semua warga Jawa Timur di Puskesmas terdekat. Bawa KTP, tanpa biaya.",
        "hashtags": ["JatimSehat", "CekKesehatanGratis"],
        "platforms": ["x", "facebook", "telegram"]
    });
    let post = call(app, "POST", "/v1/posts", post.to_string()).await?;
    let post_id = post["id"].as_str().unwrap_or("").to_string();
    let warnings: Vec<String> = post["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| format!("{}: {}", w["platform"].as_str().unwrap_or("all"), w["message"].as_str().unwrap_or("")))
        .collect();
    println!(
        "   post {post_id} is {}; the playbook warns: {}",
        post["status"].as_str().unwrap_or(""),
        warnings.join("; ")
    );
    let schedule = serde_json::json!({"post_id": post_id, "schedule": {
        "start": "2026-11-17", "times_wib": ["09:00", "12:00", "19:00"], "run_days": 2, "again_after_days": 3,
        "until": "2026-11-23"}});
    let series = call(app, "POST", "/v1/series", schedule.to_string()).await?;
    let approval = serde_json::json!({"revision": post["revision"]}).to_string();
    let approved = call(app, "POST", &format!("/v1/posts/{post_id}/approval"), approval).await?;
    println!(
        "   series {}: 09:00, 12:00 and 19:00 WIB on 17–18 Nov, again 22–23 Nov; post {} by {}",
        series["id"].as_str().unwrap_or(""),
        approved["status"].as_str().unwrap_or(""),
        approved["approval"]["by"].as_str().unwrap_or(""),
    );

    let mut slots = Vec::new();
    for day in [17, 18, 22, 23] {
        for hour in [2, 5, 12] {
            let slot = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, day, hour, 0, 0).single().context("slot")?;
            slots.push(slot);
        }
    }
    for slot in &slots {
        clock.set(*slot);
        app.run_function("publish", Trigger::Schedule(pantau::schedule::ScheduleName::Publish)).await?;
        // The schedule redelivers a tick now and then: it changes nothing.
        app.run_function("publish", Trigger::Schedule(pantau::schedule::ScheduleName::Publish)).await?;
    }
    let calendar =
        call(app, "GET", "/v1/occurrences?from=2026-11-17T00:00:00Z&to=2026-11-24T00:00:00Z&limit=200", String::new())
            .await?;
    let mut by_slot: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in calendar["items"].as_array().into_iter().flatten() {
        let what = match o["reposted"].as_str() {
            Some(_) => format!("{} repost (X refused the same text)", o["platform"].as_str().unwrap_or("")),
            None => format!("{} {}", o["platform"].as_str().unwrap_or(""), o["state"].as_str().unwrap_or("")),
        };
        by_slot.entry(o["slot"].as_str().unwrap_or("").to_string()).or_default().push(what);
    }
    for (slot, what) in &by_slot {
        println!("   {}  {}", wib(&serde_json::Value::String(slot.clone())), what.join(", "));
    }
    let files = |platform: &str| std::fs::read_dir(out.join("outbox").join(platform)).map_or(0, |d| d.count());
    println!(
        "   outbox files: x {}, facebook {}, telegram {} (each publication once, ticks redelivered)",
        files("x"),
        files("facebook"),
        files("telegram")
    );
    Ok(())
}

/// Calls the API as the demo's admin with an `Idempotency-Key`.
async fn call_once(
    app: &LocalApp,
    method: &str,
    path: &str,
    body: String,
    key: &str,
) -> anyhow::Result<serde_json::Value> {
    let headers = [
        ("authorization", format!("Bearer {ADMIN_KEY}")),
        ("content-type", "application/json".into()),
        ("idempotency-key", key.to_string()),
    ];
    let response = dispatch(app, request(method, path, &headers, body)?).await;
    ensure!(
        response.status().is_success(),
        "{method} {path} answered {}: {}",
        response.status(),
        String::from_utf8_lossy(response.body())
    );
    Ok(serde_json::from_slice(response.body())?)
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
