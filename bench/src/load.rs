//! Sends signed, unique Meta page-feed deliveries to `pantau serve` at a fixed concurrency,
//! reports throughput and latency percentiles, then checks that the stored count equals the
//! accepted count (read back through `GET /v1/mentions`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use clap::Parser;
use pantau::platforms::hmac_sha256;

#[derive(Parser)]
struct Args {
    /// Base URL of `pantau serve`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// The server's PANTAU_META_APP_SECRET.
    #[arg(long)]
    meta_secret: String,
    /// An API key of the server, to count what was stored.
    #[arg(long)]
    api_key: String,
    /// Makes the ids unique across runs against the same database.
    #[arg(long, default_value = "run1")]
    run: String,
    /// Clients reading `GET /v1/mentions` in a loop while the deliveries run.
    #[arg(long, default_value_t = 0)]
    listing_clients: usize,
    /// Query strings of those listings (clients take them in turn).
    #[arg(long)]
    listing_query: Vec<String>,
}

/// One delivery: a Page feed comment with a unique id, in Meta's documented envelope.
fn delivery(run: &str, i: usize, created: i64) -> String {
    serde_json::json!({
        "object": "page",
        "entry": [{"id": "104857362918475", "time": created, "changes": [{"field": "feed", "value": {
            "from": {"id": format!("{}", 6_000_000 + i % 5000), "name": "Warga Jatim"},
            "post_id": "104857362918475_813002938475610",
            "comment_id": format!("813002938475610_{run}{i:09}"),
            "parent_id": "104857362918475_813002938475610",
            "created_time": created,
            "item": "comment",
            "verb": "add",
            "message": format!("Jalan provinsi km {} rusak parah, lubange gede, tolong segera diperbaiki min 🙏 #{i}", i % 97),
        }}]}]
    })
    .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// Facebook mentions stored for the run's day, paging through the API.
async fn count_stored(client: &reqwest::Client, args: &Args) -> anyhow::Result<usize> {
    let mut stored = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/v1/mentions?from=2026-11-15&to=2026-11-18&platform=facebook&limit=200", args.url);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value = client
            .get(&url)
            .bearer_auth(&args.api_key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .context("listing")?;
        stored += page["items"].as_array().map(Vec::len).unwrap_or(0);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return Ok(stored),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let created = 1_794_789_109; // 2026-11-16 (WIB)
    let bodies: Arc<Vec<(String, String)>> = Arc::new(
        (0..args.requests)
            .map(|i| {
                let body = delivery(&args.run, i, created);
                let signature =
                    format!("sha256={}", hex::encode(hmac_sha256(args.meta_secret.as_bytes(), body.as_bytes())));
                (body, signature)
            })
            .collect(),
    );
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;
    let before = count_stored(&client, &args).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, bodies, next, accepted) = (client.clone(), bodies.clone(), next.clone(), accepted.clone());
        let url = format!("{}/webhooks/meta", args.url);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((body, signature)) = bodies.get(i) else { break };
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .body(body.clone())
                    .send()
                    .await;
                latencies.push(sent.elapsed());
                match response {
                    Ok(r) if r.status().is_success() => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    // Readers beside the deliveries, until the last delivery is answered.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for c in 0..args.listing_clients {
        let Some(query) = args.listing_query.get(c % args.listing_query.len().max(1)).cloned() else { break };
        let (client, done) = (client.clone(), done.clone());
        let (url, key) = (format!("{}/v1/mentions?{query}", args.url), args.api_key.clone());
        readers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut items = 0usize;
            while !done.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let page: Option<serde_json::Value> =
                    match client.get(&url).bearer_auth(&key).send().await.and_then(|r| r.error_for_status()) {
                        Ok(r) => r.json().await.ok(),
                        Err(_) => None,
                    };
                latencies.push(sent.elapsed());
                items += page.and_then(|p| p["items"].as_array().map(Vec::len)).unwrap_or(0);
            }
            (latencies, items)
        }));
    }
    let mut latencies = Vec::with_capacity(args.requests);
    let mut failures = 0;
    for worker in workers {
        let (l, f) = worker.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let mut listing = Vec::new();
    let mut listed_items = 0;
    for reader in readers {
        let (l, n) = reader.await?;
        listing.extend(l);
        listed_items += n;
    }
    listing.sort();
    latencies.sort();
    let accepted = accepted.load(Ordering::Relaxed);

    let stored = count_stored(&client, &args).await? - before;

    let report = serde_json::json!({
        "requests": args.requests,
        "concurrency": args.concurrency,
        "seconds": elapsed.as_secs_f64(),
        "requests_per_second": args.requests as f64 / elapsed.as_secs_f64(),
        "latency_ms": {
            "p50": percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            "p90": percentile(&latencies, 0.90).as_secs_f64() * 1e3,
            "p99": percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            "max": latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        },
        "accepted": accepted,
        "failed": failures,
        "stored": stored,
        "listing": {
            "clients": args.listing_clients,
            "queries": args.listing_query,
            "requests": listing.len(),
            "items": listed_items,
            "latency_ms": {
                "p50": percentile(&listing, 0.50).as_secs_f64() * 1e3,
                "p99": percentile(&listing, 0.99).as_secs_f64() * 1e3,
            },
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    ensure!(stored == accepted, "stored {stored} != accepted {accepted}");
    Ok(())
}
