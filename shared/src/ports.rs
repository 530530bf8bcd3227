//! Small capability traits. Domain code takes only the one it needs; each store trait has a
//! SQLite and a DynamoDB adapter that pass the same contract suite.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::domain::{
    Case, CaseStatus, Category, Event, Influence, Language, Mention, MentionKey, Occurrence, Platform, Post,
    ReportMeta, ReportPeriod, Sentiment, Series,
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

/// A mention to store in place of the stored one whose revision is `expected_revision`.
#[derive(Debug, Clone, Copy)]
pub struct Replacement<'a> {
    pub mention: &'a Mention,
    pub expected_revision: u32,
}

/// Writes of mentions, each conditional and atomic with its counter changes and events.
#[async_trait]
pub trait MentionWriter: Send + Sync {
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
    ) -> Result<(), StoreError> {
        self.replace_mentions(&[Replacement { mention, expected_revision }], counts, events).await
    }
    /// Replaces several stored mentions at once (a batch classified together), each only if
    /// its stored revision is still the one expected, with the counter changes and events of
    /// them all: everything is written, or nothing (`Conflict` naming a mention that changed).
    async fn replace_mentions(
        &self,
        replacements: &[Replacement<'_>],
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
}

/// Reads of mentions by key, by WIB day/time range and by author.
#[async_trait]
pub trait MentionReader: Send + Sync {
    /// A mention by key; expired mentions (past retention) are absent.
    async fn get_mention(&self, key: &MentionKey) -> Result<Option<Mention>, StoreError>;
    /// Mentions in a time range (at most 366 days) with optional filters, newest first.
    async fn list_mentions(&self, query: &MentionQuery) -> Result<Page<Mention>, StoreError>;
    /// Mentions by one author (`{platform}#{author_id}`), newest first, a page at a time.
    async fn mentions_by_author(
        &self,
        author_key: &str,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<Mention>, StoreError>;
}

/// Mentions read and written: what ingestion, classification and corrections need.
pub trait MentionStore: MentionReader + MentionWriter {}

impl<T: MentionReader + MentionWriter + ?Sized> MentionStore for T {}

/// Calls `visit` for every mention a query matches, page by page (memory stays one page).
pub async fn visit_mentions(
    store: &dyn MentionReader,
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
    /// Cases in `status` whose mention was written in `[from, to)` (at most 366 days), oldest
    /// first, a page at a time (the `by_status` index: reports read cases this way).
    async fn cases_by_status(
        &self,
        status: CaseStatus,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<Case>, StoreError>;
}

/// Posts and the series that repeat them.
#[async_trait]
pub trait PostStore: Send + Sync {
    /// Stores a new post only if its id is new.
    async fn create_post(&self, post: &Post) -> Result<Inserted, StoreError>;
    async fn get_post(&self, id: &str) -> Result<Option<Post>, StoreError>;
    /// Replaces a post only if its stored revision is still `expected_revision` (else `Conflict`).
    async fn update_post(&self, post: &Post, expected_revision: u32) -> Result<(), StoreError>;
    /// Posts, newest first.
    async fn list_posts(&self, limit: usize, after: Option<&Position>) -> Result<Page<Post>, StoreError>;
    /// Stores a new series only if its id is new.
    async fn create_series(&self, series: &Series) -> Result<Inserted, StoreError>;
    async fn get_series(&self, id: &str) -> Result<Option<Series>, StoreError>;
    /// Replaces a series only if its stored revision is still `expected_revision`.
    async fn update_series(&self, series: &Series, expected_revision: u32) -> Result<(), StoreError>;
    /// Series still publishing, oldest first.
    async fn active_series(&self, limit: usize, after: Option<&Position>) -> Result<Page<Series>, StoreError>;
}

/// Occurrences: the calendar, those of a series, and those the publisher must look at now.
#[async_trait]
pub trait OccurrenceStore: Send + Sync {
    /// Stores a new occurrence only if its id is new (materialising a series twice adds none).
    async fn put_occurrence(&self, occurrence: &Occurrence) -> Result<Inserted, StoreError>;
    async fn get_occurrence(&self, id: &str) -> Result<Option<Occurrence>, StoreError>;
    /// Replaces an occurrence only if its stored revision is still `expected_revision` (else
    /// `Conflict`), together with its events.
    async fn update_occurrence(
        &self,
        occurrence: &Occurrence,
        expected_revision: u32,
        events: &[Event],
    ) -> Result<(), StoreError>;
    /// Occurrences whose next look is at or before `now` (scheduled and due, leases run out,
    /// unconfirmed to check), earliest first: a sparse index, never a Scan.
    async fn due_occurrences(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Occurrence>, StoreError>;
    /// Occurrences due in `[from, to)` (at most 366 days), earliest first, a page at a time.
    async fn occurrences_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<Occurrence>, StoreError>;
    /// The occurrences of a series by slot, a page at a time.
    async fn occurrences_of_series(
        &self,
        series_id: &str,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<Occurrence>, StoreError>;
}

/// Produced reports by period.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Records a report; the same period and days replace the earlier record (another range
    /// starting the same day is another report).
    async fn put_report(&self, report: &ReportMeta) -> Result<(), StoreError>;
    async fn get_report(
        &self,
        period: ReportPeriod,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<ReportMeta>, StoreError>;
    /// Reports of a period kind starting within `[from, to]`, oldest first.
    async fn list_reports(
        &self,
        period: ReportPeriod,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReportMeta>, StoreError>;
}

/// One stored document of a [`DocumentStore`].
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: String,
    pub value: Value,
}

/// The keyed-document table under the named stores of `crate::stores` (the config table): each
/// kind of record has its own key prefix (`kind`), documents may expire, lists are paged.
/// Domain code uses the named stores, never this.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// A document; an expired one is absent.
    async fn get_doc(&self, kind: &str, id: &str) -> Result<Option<Value>, StoreError>;
    /// Writes a document (replacing any), expiring at `expires_at` when given.
    async fn put_doc(
        &self,
        kind: &str,
        id: &str,
        value: &Value,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
    /// Writes a document together with events, only if the stored one is still `expected`
    /// (`None`: absent, or expired); else `Conflict` and nothing is written.
    async fn swap_doc(
        &self,
        kind: &str,
        id: &str,
        expected: Option<&Value>,
        value: &Value,
        expires_at: Option<DateTime<Utc>>,
        events: &[Event],
    ) -> Result<(), StoreError>;
    /// Removes a document; removing one that is absent is not an error.
    async fn delete_doc(&self, kind: &str, id: &str) -> Result<(), StoreError>;
    /// Documents of a kind whose id starts with `prefix`, by id, a page at a time (the
    /// position is the last id).
    async fn list_docs(
        &self,
        kind: &str,
        prefix: &str,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<Document>, StoreError>;
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
    /// A link that fetches the blob without credentials until it expires, where the store
    /// gives one (S3: a presigned URL; a folder: none).
    async fn download_url(&self, key: &str, expires: std::time::Duration) -> Result<Option<String>, BlobError>;
}

/// What to put on one platform: a post, or a reply to a citizen's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub text: String,
    /// Image URLs.
    pub media: Vec<String>,
    /// The platform's id of the message answered (a reply).
    pub reply_to: Option<String>,
    /// The recipient, where the platform addresses one (WhatsApp).
    pub to: Option<String>,
}

/// A publication the platform accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: String,
    pub permalink: Option<String>,
}

/// Why a platform did not take a publication. Only [`PublishError::Unknown`] leaves open
/// whether it was posted; every other answer means it was not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The platform's limit: try again after `wait` (measured from its answer, so a
    /// simulated clock keeps the platform's real pause).
    #[error("rate limited for {} s", wait.num_seconds())]
    RateLimited { wait: chrono::Duration },
    /// The token is expired, revoked or lacks a permission: the account needs a person.
    #[error("the account's credentials were refused: {0}")]
    Unauthorized(String),
    /// Refused for good (invalid, duplicate content, a closed messaging window…).
    #[error("refused: {reason}")]
    Refused { reason: String, duplicate: bool },
    /// The request never reached the platform (no connection): not posted, try again soon.
    #[error("platform unreachable: {0}")]
    Unavailable(String),
    /// No answer that says (timeout, connection lost, 5xx): it may or may not be posted.
    #[error("outcome unknown: {0}")]
    Unknown(String),
}

/// One platform account Pantau publishes with (X, a Facebook Page, Instagram, a Telegram
/// channel, WhatsApp): reached through our HTTP clients, or a local outbox folder.
#[async_trait]
pub trait Publisher: Send + Sync {
    fn platform(&self) -> Platform;
    /// Whether [`Publisher::find_recent`] can tell what the account posted (Telegram cannot).
    fn can_reconcile(&self) -> bool;
    /// A step that posts nothing, taken before publishing (Instagram's media container);
    /// its id is kept so an unknown outcome can be checked.
    async fn prepare(&self, publication: &Publication) -> Result<Option<String>, PublishError>;
    async fn publish(&self, publication: &Publication, prepared: Option<&str>) -> Result<Published, PublishError>;
    /// What the account posted with this text since `since` (replies: answering `reply_to`),
    /// to settle an unknown outcome.
    async fn find_recent(
        &self,
        publication: &Publication,
        prepared: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PublishError>;
    /// A native repost of one of the account's posts (X).
    async fn repost(&self, id: &str) -> Result<Published, PublishError>;
    /// The engagement of the account's posts by id (those it can read).
    async fn engagement(&self, ids: &[String]) -> Result<Vec<(String, crate::domain::Engagement)>, PublishError>;
    /// When the account's token expires, if the platform says (checked a week ahead).
    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError>;
}

/// Checks that a post's image can be fetched before the post is stored.
#[async_trait]
pub trait MediaProbe: Send + Sync {
    /// `Err` says why not (the HTTP status, not an image, unreachable).
    async fn probe(&self, url: &str) -> Result<(), String>;
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
