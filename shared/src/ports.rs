//! Small capability traits. Domain code takes only the one it needs; each store trait has a
//! SQLite and a DynamoDB adapter that pass the same contract suite.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::domain::{
    Case, CaseStatus, Category, Event, Influence, Language, Mention, MentionKey, Occurrence, OccurrenceState, Platform,
    ReportMeta, ReportPeriod, Sentiment,
};
use crate::error::{BlobError, BusError, NotifyError, StoreError};

/// Result of a conditional create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The item already existed; nothing was written (its events neither).
    Duplicate,
}

/// Where a page ended: the sort key of its last item. Adapter-neutral; the API signs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position(pub String);

/// One page of results, newest first for mentions, earliest due first for cases.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Position>,
}

/// Filters for listing mentions in a time range `[from, to)`.
#[derive(Debug, Clone)]
pub struct MentionQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub platform: Option<Platform>,
    pub category: Option<Category>,
    pub sentiment: Option<Sentiment>,
    pub topic: Option<String>,
    pub language: Option<Language>,
    pub influence: Option<Influence>,
    /// Only mentions whose case has this status.
    pub case_status: Option<CaseStatus>,
    pub limit: usize,
    pub after: Option<Position>,
}

impl MentionQuery {
    /// Every mention in `[from, to)`, no filters, pages of `limit`.
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>, limit: usize) -> Self {
        MentionQuery {
            from,
            to,
            platform: None,
            category: None,
            sentiment: None,
            topic: None,
            language: None,
            influence: None,
            case_status: None,
            limit,
            after: None,
        }
    }
}

impl MentionQuery {
    /// Whether a mention passes the label filters (`platform` … `influence`; not time or case).
    pub fn matches(&self, m: &Mention) -> bool {
        let class = m.classification.as_ref();
        self.platform.is_none_or(|p| m.platform == p)
            && self.category.is_none_or(|c| class.is_some_and(|x| x.category == c))
            && self.sentiment.is_none_or(|s| class.is_some_and(|x| x.sentiment == s))
            && self.language.is_none_or(|l| class.is_some_and(|x| x.language == l))
            && self.topic.as_ref().is_none_or(|t| class.is_some_and(|x| x.topics.contains(t)))
            && self.influence.is_none_or(|i| m.triage.as_ref().is_some_and(|x| x.influence == i))
    }
}

/// Mentions by key, by WIB day/time range and by author.
#[async_trait]
pub trait MentionStore: Send + Sync {
    /// Stores a new mention with its events, atomically and only if the key is new.
    async fn insert_mention(&self, mention: &Mention, events: &[Event]) -> Result<Inserted, StoreError>;
    /// Replaces a stored mention (an edit, a deletion, a classification) only if its stored
    /// revision is still `expected_revision` (else `Conflict`), together with its counter
    /// changes and events.
    async fn replace_mention(
        &self,
        mention: &Mention,
        expected_revision: u32,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Result<(), StoreError>;
    /// Removes a mention (a data-subject erasure) only if its stored revision is still
    /// `expected_revision`, together with its counter changes and events.
    async fn delete_mention(
        &self,
        key: &MentionKey,
        expected_revision: u32,
        counts: &[CountDelta],
        events: &[Event],
    ) -> Result<(), StoreError>;
    /// A mention by key; expired mentions (past retention) are absent.
    async fn get_mention(&self, key: &MentionKey) -> Result<Option<Mention>, StoreError>;
    /// Mentions in a time range with optional filters, newest first.
    async fn list_mentions(&self, query: &MentionQuery) -> Result<Page<Mention>, StoreError>;
    /// Mentions by one author (`{platform}#{author_id}`), newest first, a page at a time.
    async fn mentions_by_author(
        &self,
        author_key: &str,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<Mention>, StoreError>;
}

/// Every document of a config kind read as `T`, by id. A document that does not read is logged
/// and skipped, so one bad document does not hide the rest.
pub async fn list_documents<T: serde::de::DeserializeOwned>(
    config: &dyn ConfigStore,
    kind: &str,
) -> Result<Vec<(String, T)>, StoreError> {
    let mut documents = Vec::new();
    for (id, value) in config.list_config(kind).await? {
        match serde_json::from_value(value) {
            Ok(document) => documents.push((id, document)),
            Err(e) => tracing::error!(kind, id = %id, error = %e, "stored document unreadable; skipped"),
        }
    }
    Ok(documents)
}

/// Calls `visit` for every mention a query matches, page by page (memory stays one page).
pub async fn visit_mentions(
    store: &dyn MentionStore,
    mut query: MentionQuery,
    mut visit: impl FnMut(&Mention) + Send,
) -> Result<usize, StoreError> {
    let mut seen = 0;
    loop {
        let page = store.list_mentions(&query).await?;
        seen += page.items.len();
        page.items.iter().for_each(&mut visit);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(seen),
        }
    }
}

/// A change to one daily counter, applied in the same transaction as the change it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountDelta {
    /// The WIB day counted.
    pub day: NaiveDate,
    /// What is counted: `platform#x`, `category#pengaduan`, `sentiment#negatif`, `topic#banjir`…
    pub key: String,
    pub delta: i64,
}

/// One daily counter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub day: NaiveDate,
    pub key: String,
    pub n: i64,
}

/// Daily counters for reports and dashboards.
#[async_trait]
pub trait CounterStore: Send + Sync {
    /// Every counter of the WIB days `from..=to`, by day then key.
    async fn counts(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Count>, StoreError>;
}

/// Most ids one `get_cases` call takes (DynamoDB's BatchGetItem limit).
pub const MAX_GET_CASES: usize = 100;

/// Cases, and the open ones ordered by SLA due time.
#[async_trait]
pub trait CaseStore: Send + Sync {
    async fn create_case(&self, case: &Case, events: &[Event]) -> Result<Inserted, StoreError>;
    async fn get_case(&self, id: &str) -> Result<Option<Case>, StoreError>;
    /// Cases by id, absent ones left out (at most [`MAX_GET_CASES`] ids).
    async fn get_cases(&self, ids: &[String]) -> Result<Vec<Case>, StoreError>;
    /// Replaces a case only if its stored revision is still `expected_revision` (else `Conflict`).
    async fn update_case(&self, case: &Case, expected_revision: u32, events: &[Event]) -> Result<(), StoreError>;
    /// Open cases, earliest due first.
    async fn open_cases(&self, limit: usize, after: Option<&Position>) -> Result<Page<Case>, StoreError>;
    /// Removes a case (a data-subject erasure); removing an absent one is not an error.
    async fn delete_case(&self, id: &str) -> Result<(), StoreError>;
}

/// Post occurrences and the scheduled ones that are due.
#[async_trait]
pub trait OccurrenceStore: Send + Sync {
    async fn put_occurrence(&self, occurrence: &Occurrence) -> Result<Inserted, StoreError>;
    async fn get_occurrence(&self, post_id: &str, id: &str) -> Result<Option<Occurrence>, StoreError>;
    /// Scheduled occurrences due at or before `now`, earliest first.
    async fn due_occurrences(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Occurrence>, StoreError>;
    /// Moves an occurrence from `from` to `to` only if it is still in `from` (else `Conflict`).
    async fn move_occurrence(
        &self,
        moved: &Occurrence,
        from: OccurrenceState,
        events: &[Event],
    ) -> Result<(), StoreError>;
}

/// Produced reports by period.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Records a report; the same period and start replaces the earlier record.
    async fn put_report(&self, report: &ReportMeta) -> Result<(), StoreError>;
    /// Reports of a period kind starting within `[from, to]`, oldest first.
    async fn list_reports(
        &self,
        period: ReportPeriod,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReportMeta>, StoreError>;
}

/// Configuration documents (taxonomy, answers, accounts, holidays, SLA) by kind and id.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    async fn get_config(&self, kind: &str, id: &str) -> Result<Option<Value>, StoreError>;
    async fn put_config(&self, kind: &str, id: &str, value: &Value) -> Result<(), StoreError>;
    async fn list_config(&self, kind: &str) -> Result<Vec<(String, Value)>, StoreError>;
    /// Writes a document together with events, only if the stored document is still `expected`
    /// (`None`: absent); else `Conflict` and nothing is written.
    async fn swap_config(
        &self,
        kind: &str,
        id: &str,
        expected: Option<&Value>,
        value: &Value,
        events: &[Event],
    ) -> Result<(), StoreError>;
    /// Removes a document; removing one that is absent is not an error.
    async fn delete_config(&self, kind: &str, id: &str) -> Result<(), StoreError>;
}

/// Events written with state changes and not yet published.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Pending events created at or before `created_before`, oldest first.
    async fn pending_events(&self, created_before: DateTime<Utc>, limit: usize) -> Result<Vec<Event>, StoreError>;
    async fn mark_published(&self, ids: &[String]) -> Result<(), StoreError>;
}

/// What happened to each event of a publish call.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PublishReport {
    pub published: Vec<String>,
    /// Event id and the bus's reason.
    pub failed: Vec<(String, String)>,
}

/// The event bus (EventBridge on AWS, in-process locally).
#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, events: &[Event]) -> Result<PublishReport, BusError>;
}

/// Gets events that were just committed moving: on AWS it publishes them at once; locally it
/// wakes the in-process relay. Either way the outbox still holds them until published.
#[async_trait]
pub trait Announce: Send + Sync {
    async fn announce(&self, events: &[Event]);
}

/// Files such as rendered reports (S3 on AWS, a folder locally).
#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put_blob(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
    async fn list_blobs(&self, prefix: &str) -> Result<Vec<String>, BlobError>;
}

/// A message for people on duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub title: String,
    pub body: String,
}

/// Delivers notifications to a channel.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn notify(&self, notification: &Notification) -> Result<(), NotifyError>;
    /// The channel's name in logs and errors: `log`, `telegram`, `slack`, `email`.
    fn channel(&self) -> &'static str;
}
