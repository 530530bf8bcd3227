//! `pantau import FILE`: backfills normalised mentions from CSV or JSONL. The whole file is
//! checked first; a bad row stops the import before anything is written, naming the row.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pantau::app::ingest::{AuthorInput, Ingest, IngestStats, MAX_BATCH, MentionInput};
use pantau::platforms::Item;

use crate::app::LocalApp;

/// Columns a CSV file may have (`platform`, `external_id`, `text`, `created_at`, `author_id`
/// are required).
const CSV_COLUMNS: [&str; 12] = [
    "platform",
    "external_id",
    "text",
    "created_at",
    "author_id",
    "author_handle",
    "author_name",
    "author_followers",
    "url",
    "thread_id",
    "parent_id",
    "has_media",
];

fn read_rows(path: &Path, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Vec<Item>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let inputs = if is_csv { csv_inputs(&bytes)? } else { jsonl_inputs(&bytes)? };
    inputs
        .into_iter()
        .map(|(row, input)| {
            let mention = input.into_new(now).map_err(|e| anyhow::anyhow!("row {row}: {e}"))?;
            Ok(Item::Message { mention: Box::new(mention), edit: false })
        })
        .collect()
}

fn jsonl_inputs(bytes: &[u8]) -> anyhow::Result<Vec<(usize, MentionInput)>> {
    let text = std::str::from_utf8(bytes).context("the file is not valid UTF-8")?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| Ok((i + 1, serde_json::from_str(line).with_context(|| format!("row {}", i + 1))?)))
        .collect()
}

fn csv_inputs(bytes: &[u8]) -> anyhow::Result<Vec<(usize, MentionInput)>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().context("reading the CSV header")?.clone();
    if let Some(unknown) = headers.iter().find(|h| !CSV_COLUMNS.contains(h)) {
        bail!("unknown CSV column {unknown:?}; columns: {}", CSV_COLUMNS.join(", "));
    }
    let mut inputs = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Row numbers count the header as row 1, as spreadsheets do.
        let row = i + 2;
        let record = record.with_context(|| format!("row {row}: not valid CSV (or not UTF-8)"))?;
        let get: HashMap<&str, &str> = headers.iter().zip(record.iter()).filter(|(_, v)| !v.is_empty()).collect();
        let need = |c: &str| get.get(c).copied().with_context(|| format!("row {row}: column {c} is empty or missing"));
        let input = MentionInput {
            platform: need("platform")?.parse().with_context(|| format!("row {row}: platform"))?,
            external_id: need("external_id")?.to_string(),
            text: need("text")?.to_string(),
            url: get.get("url").map(|s| s.to_string()),
            created_at: need("created_at")?
                .parse()
                .with_context(|| format!("row {row}: created_at must be RFC 3339"))?,
            author: AuthorInput {
                id: need("author_id")?.to_string(),
                handle: get.get("author_handle").map(|s| s.to_string()),
                name: get.get("author_name").map(|s| s.to_string()),
                followers: get
                    .get("author_followers")
                    .map(|f| f.parse())
                    .transpose()
                    .with_context(|| format!("row {row}: author_followers must be a whole number"))?,
            },
            thread_id: get.get("thread_id").map(|s| s.to_string()),
            parent_id: get.get("parent_id").map(|s| s.to_string()),
            has_media: get.get("has_media").is_some_and(|v| matches!(*v, "true" | "1" | "yes")),
        };
        inputs.push((row, input));
    }
    Ok(inputs)
}

/// Imports a file through the same ingestion as webhooks; events go to their consumers.
pub async fn run(app: &LocalApp, path: &Path) -> anyhow::Result<IngestStats> {
    let items = read_rows(path, app.clock.now())?;
    let bar = ProgressBar::new(items.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} mentions ({per_sec}, {eta} left)")?);
    let mut total = IngestStats::default();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let batch: Vec<Item> = items.by_ref().take(MAX_BATCH).collect();
        let n = batch.len() as u64;
        let ingest = Ingest {
            mentions: app.store.as_ref(),
            lookups: app.store.as_ref(),
            source: "import",
            now: app.clock.now(),
        };
        let outcome = ingest.apply(batch).await;
        total.stored += outcome.stats.stored;
        total.duplicates += outcome.stats.duplicates;
        if let Some(err) = outcome.error {
            bar.abandon();
            return Err(err).context("storing failed; run the import again: stored rows are skipped as duplicates");
        }
        app.drain().await?;
        bar.inc(n);
    }
    bar.finish();
    Ok(total)
}
