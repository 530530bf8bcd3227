//! What both store adapters mean the same way, defined once: sort keys, the indexed projection
//! of a mention, the listing filters, range bounds, page building and DynamoDB's limits (which
//! the embedded store enforces too, so code that runs locally runs on AWS).

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::{Case, Event, Mention, Occurrence};
use crate::error::StoreError;
use crate::ports::{CountDelta, MentionQuery, Page, Position};
use crate::time::{sortable, wib_date};

/// DynamoDB allows at most 100 items in one TransactWriteItems.
pub const MAX_TRANSACTION_ITEMS: usize = 100;
/// Longest time range one mention listing or counter read may cover, in days (DynamoDB reads
/// one WIB day per query).
pub const MAX_RANGE_DAYS: i64 = 366;

/// Mentions sort by creation time, then key: `{created_at}#{key}`.
pub fn mention_ts_key(mention: &Mention) -> String {
    format!("{}#{}", sortable(mention.created_at), mention.key)
}

/// A time as a range bound over `{time}#…` keys: every key at `at` sorts above the bare
/// timestamp, so it is an inclusive lower bound (`>=`) and an exclusive upper bound (`<`).
pub fn bound(at: DateTime<Utc>) -> String {
    sortable(at)
}

/// Upper bound (exclusive) that includes keys at exactly `at`.
pub fn up_to(at: DateTime<Utc>) -> String {
    sortable(at + Duration::milliseconds(1))
}

/// A case sorts with its mention (the case id is the mention key).
pub fn case_ts_key(case: &Case) -> String {
    format!("{}#{}", sortable(case.mention_created_at), case.id)
}

/// Open cases sort by due time, then id.
pub fn case_due_key(case: &Case) -> String {
    format!("{}#{}", sortable(case.due_at), case.id)
}

/// The publisher's index: when it must next look at an occurrence, then its id (none when
/// nothing is left to do: published, failed, held, cancelled).
pub fn occurrence_due_key(occurrence: &Occurrence) -> Option<String> {
    occurrence.next_look().map(|at| format!("{}#{}", sortable(at), occurrence.id))
}

/// The calendar: occurrences by due time, then id.
pub fn occurrence_cal_key(occurrence: &Occurrence) -> String {
    format!("{}#{}", sortable(occurrence.due_at), occurrence.id)
}

/// A series' occurrences by slot, then id.
pub fn occurrence_slot_key(occurrence: &Occurrence) -> String {
    format!("{}#{}", sortable(occurrence.slot), occurrence.id)
}

/// Posts and series by creation, then id.
pub fn created_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", sortable(at))
}

/// Outbox events sort by creation time, then id.
pub fn outbox_created_key(event: &Event) -> String {
    format!("{}#{}", sortable(event.created_at), event.id)
}

/// Retention expiry in epoch seconds (the DynamoDB TTL attribute's format).
pub fn expires_at(received_at: DateTime<Utc>, retention_days: u32) -> i64 {
    (received_at + Duration::days(i64::from(retention_days))).timestamp()
}

/// What a mention is indexed by, in both stores: SQLite columns and DynamoDB attributes carry
/// these names and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionIndex {
    pub key: String,
    pub platform: &'static str,
    /// WIB date of `created_at` (DynamoDB's `by_day` partition).
    pub day: String,
    pub ts_key: String,
    /// `{platform}#{author id}`; none for an author without an id (not indexed by author).
    pub author: Option<String>,
    pub category: Option<&'static str>,
    pub sentiment: Option<&'static str>,
    pub language: Option<&'static str>,
    pub influence: Option<&'static str>,
    pub topics: Vec<String>,
    pub expires_at: i64,
    pub revision: u32,
}

impl MentionIndex {
    pub fn of(mention: &Mention, retention_days: u32) -> Self {
        let class = mention.classification.as_ref();
        MentionIndex {
            key: mention.key.to_string(),
            platform: mention.platform.as_str(),
            day: wib_date(mention.created_at).to_string(),
            ts_key: mention_ts_key(mention),
            author: mention.author_key(),
            category: class.map(|c| c.category.as_str()),
            sentiment: class.map(|c| c.sentiment.as_str()),
            language: class.map(|c| c.language.as_str()),
            influence: mention.triage.as_ref().map(|t| t.influence.as_str()),
            topics: class.map(|c| c.topics.clone()).unwrap_or_default(),
            expires_at: expires_at(mention.received_at, retention_days),
            revision: mention.revision,
        }
    }

    /// The single-valued label attributes, by name, as [`label_filters`] names them.
    pub fn labels(&self) -> [(&'static str, Option<&'static str>); 5] {
        [
            ("platform", Some(self.platform)),
            ("category", self.category),
            ("sentiment", self.sentiment),
            ("language", self.language),
            ("influence", self.influence),
        ]
    }
}

/// The equality filters of a listing, as (attribute, value) pairs named like the indexed
/// projection; `topic` and `case_status` are served by their own indexes.
pub fn label_filters(query: &MentionQuery) -> Vec<(&'static str, &'static str)> {
    [
        ("platform", query.platform.map(|p| p.as_str())),
        ("category", query.category.map(|c| c.as_str())),
        ("sentiment", query.sentiment.map(|s| s.as_str())),
        ("language", query.language.map(|l| l.as_str())),
        ("influence", query.influence.map(|i| i.as_str())),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect()
}

/// Whether an indexed mention passes a listing's label and topic filters (not time or case),
/// for reads that cannot filter in the query itself.
pub fn matches(query: &MentionQuery, index: &MentionIndex) -> bool {
    let labels = index.labels();
    label_filters(query).iter().all(|(name, value)| labels.iter().any(|(n, v)| n == name && *v == Some(*value)))
        && query.topic.as_ref().is_none_or(|t| index.topics.contains(t))
}

/// The sort-key range `[lower, upper)` a listing page reads: its time range, cut at the cursor
/// when the cursor lies inside it. `None` when nothing is left to read.
pub fn listing_range(query: &MentionQuery) -> Option<(String, String)> {
    let lower = bound(query.from);
    let end = bound(query.to);
    let upper = match &query.after {
        Some(Position(p)) if *p < end => p.clone(),
        _ => end,
    };
    (lower < upper).then_some((lower, upper))
}

/// Refuses a listing longer than [`MAX_RANGE_DAYS`].
pub fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), StoreError> {
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(StoreError::Invalid(format!("a listing may cover at most {MAX_RANGE_DAYS} days")));
    }
    Ok(())
}

/// A report's sort key in its period: its first and last WIB day, so two ranges starting the
/// same day are two reports.
pub fn report_key(from: NaiveDate, to: NaiveDate) -> String {
    format!("{from}#{to}")
}

/// The last report key of reports starting on or before `to`.
pub fn report_key_upto(to: NaiveDate) -> String {
    format!("{to}#9999-12-31")
}

/// Bounds of `ts_key`s (`{sortable time}#{id}`) within `[from, to)`.
pub fn ts_bounds(from: DateTime<Utc>, to: DateTime<Utc>) -> (String, String) {
    (crate::time::sortable(from), crate::time::sortable(to))
}

/// Refuses a counter read of more than [`MAX_RANGE_DAYS`] WIB days.
pub fn check_days(from: NaiveDate, to: NaiveDate) -> Result<(), StoreError> {
    if (to - from).num_days() >= MAX_RANGE_DAYS {
        return Err(StoreError::Invalid(format!("counts may cover at most {MAX_RANGE_DAYS} days")));
    }
    Ok(())
}

/// Refuses a write that would not fit one DynamoDB transaction: the `items` written under
/// their conditions, their counter changes and their events.
pub fn check_transaction(
    operation: &str,
    key: &str,
    items: usize,
    counts: &[CountDelta],
    events: &[Event],
) -> Result<(), StoreError> {
    if items + events.len() + counts.len() > MAX_TRANSACTION_ITEMS {
        return Err(StoreError::Invalid(format!(
            "{operation} of {key}: {items} items, {} events and {} counters exceed the {MAX_TRANSACTION_ITEMS}-item transaction limit",
            events.len(),
            counts.len()
        )));
    }
    Ok(())
}

/// Cuts `limit + 1` sorted items to a page; the extra item only proves there is more.
pub fn page_of<T>(mut items: Vec<(T, String)>, limit: usize) -> Page<T> {
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|(_, sort)| Position(sort.clone()))
    } else {
        None
    };
    Page { items: items.into_iter().map(|(item, _)| item).collect(), next }
}
