//! One publish tick over many due occurrences against local servers playing X, Graph and
//! Telegram (`pantau_tests::platforms`), on a real SQLite store: how long the tick takes, the
//! process's peak memory, and that every occurrence cost exactly one platform call and appeared
//! exactly once. A second tick right after must find nothing to do.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::ensure;
use chrono::{DurationRound, Utc};
use clap::Parser;
use pantau::adapters::sqlite::SqliteStore;
use pantau::app::publishing::PublishingSettings;
use pantau::app::publishing::publisher::PublishService;
use pantau::config::{PublisherDeps, Secrets};
use pantau::domain::{Account, Occurrence, OccurrenceState, Platform, Post, PostStatus};
use pantau::ports::{Announce, OccurrenceStore, PostStore};
use pantau::time::SettableClock;
use pantau_tests::platforms::FakePlatforms;

#[derive(Parser)]
struct Args {
    /// Due occurrences, spread over X, a Facebook Page and a Telegram channel.
    #[arg(long, default_value_t = 10_000)]
    occurrences: usize,
    /// Publications in flight at once (PANTAU_PUBLISH_CONCURRENCY).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

struct Quiet;

#[async_trait::async_trait]
impl Announce for Quiet {
    async fn announce(&self, _: &[pantau::domain::Event]) {}
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fake = FakePlatforms::start();
    let dir = tempfile::tempdir()?;
    let now = Utc::now().duration_trunc(chrono::Duration::minutes(1))?;
    let clock = SettableClock::new(now);
    fake.set_now(now);
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db"), clock.clone(), 365)?);
    let platforms = [Platform::X, Platform::Facebook, Platform::Telegram];
    for i in 0..args.occurrences {
        let platform = platforms[i % platforms.len()];
        let post = Post {
            id: format!("p{i}"),
            title: format!("Informasi {i}"),
            text: format!("Layanan Samsat keliling hari ini di titik {i}, buka 08.00–14.00 WIB."),
            variants: BTreeMap::new(),
            media: vec![],
            link: None,
            hashtags: vec![],
            topic: None,
            account: Account::Resmi,
            platforms: vec![platform],
            link_instagram: false,
            status: PostStatus::Approved,
            approval: None,
            created_by: "bench".into(),
            created_at: now,
            updated_by: "bench".into(),
            updated_at: now,
            revision: 0,
        };
        store.create_post(&post).await?;
        let occurrence = Occurrence {
            id: format!("o{i}-{platform}"),
            post_id: Some(post.id.clone()),
            series_id: None,
            reply: None,
            platform,
            account: Account::Resmi,
            slot: now,
            ordinal: 0,
            due_at: now,
            moved: false,
            state: OccurrenceState::Scheduled,
            lease_until: None,
            claimed_at: None,
            attempts: 0,
            sent_text: None,
            container_id: None,
            platform_post_id: None,
            permalink: None,
            published_at: None,
            reposted: None,
            note: None,
            engagement: None,
            awaiting_person: false,
            updated_at: now,
            revision: 0,
        };
        store.put_occurrence(&occurrence).await?;
    }
    let env: std::collections::HashMap<String, String> = fake.env().into_iter().collect();
    let deps = PublisherDeps { tokens: store.clone(), outbox: None };
    let publishers = pantau::config::publishers(&env, &Secrets::from_source(&env), deps)?;
    let service = PublishService {
        posts: store.clone(),
        occurrences: store.clone(),
        channels: store.clone(),
        markers: store.clone(),
        cases: store.clone(),
        settings_store: store.clone(),
        pending: store.clone(),
        announce: Arc::new(Quiet),
        publishers,
        settings: PublishingSettings { concurrency: args.concurrency, tick_seconds: 3600, ..Default::default() },
        clock: clock.clone(),
        failpoint: None,
    };
    let before = peak_rss_mb();
    let started = Instant::now();
    let outcome = service.tick().await?;
    let seconds = started.elapsed().as_secs_f64();
    let calls = fake
        .requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && (r.path == "/2/tweets" || r.path.ends_with("/feed") || r.path.ends_with("/sendMessage"))
        })
        .count();
    let posted = fake.posted().len();
    let again = service.tick().await?;
    let report = serde_json::json!({
        "occurrences": args.occurrences,
        "concurrency": args.concurrency,
        "published": outcome.published,
        "platform_calls": calls,
        "appeared_on_platforms": posted,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "per_second": (args.occurrences as f64 / seconds).round(),
        "peak_rss_mb_before_tick": (before * 10.0).round() / 10.0,
        "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
        "second_tick_looked_at": again.looked_at,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    ensure!(outcome.published == args.occurrences, "published {} of {}", outcome.published, args.occurrences);
    ensure!(calls == args.occurrences && posted == args.occurrences, "{calls} calls, {posted} posts");
    ensure!(again.looked_at == 0 && fake.posted().len() == posted, "the second tick did something");
    Ok(())
}
