//! Media-intelligence reports: what the public said in a period of WIB days and how that
//! changed against the period before, what needed attention, how fast the office answered and
//! how its own posts worked. Built from the daily counters and indexed queries (cases by
//! status, alerts by month, mentions by label, occurrences by day) — never a scan, never every
//! mention of the period — then rendered as self-contained HTML, CSV tables and JSON.
//!
//! The JSON is [`Report`] as it stands (schema `pantau-report/1`, documented in
//! `docs/report-schema.md`): label codes, not words, so other apps read it in any language.

pub mod announce;
pub mod build;
pub mod csv;
pub mod html;
pub mod svg;
pub mod text;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::ReportPeriod;

pub use build::{Sources, build};
pub use text::Lang;

/// The JSON schema name and version.
pub const SCHEMA: &str = "pantau-report/1";

/// One report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// `{period}-{from}-{to}`.
    pub id: String,
    pub period: ReportPeriod,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The period of the same length just before, compared with.
    pub previous_from: NaiveDate,
    pub previous_to: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// Nothing at all happened in the period (no mentions, cases or posts).
    pub empty: bool,
    pub volume: Volume,
    pub categories: Vec<Share>,
    pub sentiments: Vec<Share>,
    pub net_sentiment: Compared<Option<f64>>,
    pub sentiment_by_day: Vec<SentimentDay>,
    pub topics: Vec<TopicRow>,
    pub hashtags: Vec<Share>,
    pub terms: Vec<Share>,
    pub critics: Vec<Person>,
    pub advocates: Vec<Person>,
    pub alerts: Vec<AlertRow>,
    pub cases: Cases,
    pub posts: Posts,
}

/// A figure and the previous period's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Compared<T> {
    pub value: T,
    pub previous: T,
}

/// A labelled count, its share of the whole and the previous period's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// A label code (`pengaduan`, `x`) or a word (hashtags, terms).
    pub key: String,
    pub n: u64,
    pub previous: u64,
    /// `n` over the period's total, 0–1 (none when the total is 0).
    pub share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Volume {
    pub total: Compared<u64>,
    /// Change against the previous period, in percent (none when it had nothing).
    pub change_pct: Option<f64>,
    pub by_platform: Vec<Share>,
    pub by_day: Vec<DayVolume>,
    /// Mentions by WIB hour (0–23) of a one-day report.
    pub by_hour: Option<Vec<u64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayVolume {
    pub day: NaiveDate,
    pub total: u64,
    pub by_platform: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentimentDay {
    pub day: NaiveDate,
    pub positif: u64,
    pub netral: u64,
    pub negatif: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicRow {
    pub id: String,
    /// The taxonomy's name for it.
    pub name: String,
    pub n: u64,
    pub previous: u64,
    pub positif: u64,
    pub netral: u64,
    pub negatif: u64,
    /// (positive − negative) / all × 100.
    pub net_sentiment: Option<f64>,
    pub examples: Vec<Example>,
}

/// A message quoted as an example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub key: String,
    pub platform: String,
    pub created_at: DateTime<Utc>,
    pub author: String,
    pub text: String,
    pub url: Option<String>,
    pub sentiment: Option<String>,
}

/// An influential author (a critic or an advocate) and what was done about them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    /// `{platform}#{id}`.
    pub author: String,
    pub platform: String,
    /// Handle or name as shown.
    pub name: String,
    pub followers: Option<u64>,
    pub influence: String,
    pub messages: u64,
    /// Their messages with an open case, a closed case, and replies the office made.
    pub open_cases: u64,
    pub closed_cases: u64,
    pub replies: u64,
    pub latest: Example,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    pub raised_at: DateTime<Utc>,
    pub kind: String,
    pub title: String,
    /// The alert's own words (its cause: topic, numbers, sample messages).
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cases {
    /// Cases of the period's messages.
    pub opened: u64,
    /// …with a first response, and closed.
    pub answered: u64,
    pub resolved: u64,
    /// …still open now.
    pub open: u64,
    /// Every open case now, whatever its period (the inbox).
    pub backlog_now: u64,
    /// Hours from opening to the first response, over the answered ones.
    pub first_response: Durations,
    pub by_platform: Vec<CaseGroup>,
    pub by_category: Vec<CaseGroup>,
    pub sla: Vec<SlaRow>,
}

/// Median and 90th percentile, in hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Durations {
    pub n: u64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseGroup {
    pub key: String,
    pub opened: u64,
    pub answered: u64,
    pub resolved: u64,
    pub first_response: Durations,
}

/// One SLA clock over the period's cases: met, missed (late, or past due and not done),
/// still running.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaRow {
    /// `triase`, `respons`, `penyelesaian`, `media_sosial`.
    pub clock: String,
    pub met: u64,
    pub missed: u64,
    pub running: u64,
    /// met / (met + missed).
    pub compliance: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Posts {
    pub published: u64,
    pub reposts: u64,
    pub by_platform: Vec<PostPlatform>,
    /// The period's best posts by engagement.
    pub top: Vec<PostRow>,
    /// Mean engagement by `[weekday from Monday][WIB hour]` of the period's posts, and how
    /// many posts each cell rests on.
    pub heatmap: Option<Heatmap>,
    /// First publications against repeats of the same post (rotated wordings, reposts).
    pub repeats: Option<Repeats>,
}

/// Mean engagement score (likes + 2 × comments + 3 × shares) of first publications and of
/// repeats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Repeats {
    pub firsts: u64,
    pub first_score: f64,
    pub repeats: u64,
    pub repeat_score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostPlatform {
    pub platform: String,
    pub posts: u64,
    pub likes: u64,
    pub comments: u64,
    pub shares: u64,
    pub impressions: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostRow {
    pub occurrence: String,
    pub post: Option<String>,
    pub title: String,
    pub platform: String,
    pub published_at: Option<DateTime<Utc>>,
    pub permalink: Option<String>,
    pub likes: u64,
    pub comments: u64,
    pub shares: u64,
    pub impressions: Option<u64>,
    pub repeat: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heatmap {
    pub score: Vec<Vec<Option<f64>>>,
    pub posts: Vec<Vec<u32>>,
}
