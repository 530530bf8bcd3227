//! The DynamoDB actions each port's implementation here performs, per table: what a function
//! wired with that port must be granted (IAM), and nothing more. TransactWriteItems is
//! authorised per item (PutItem, UpdateItem, DeleteItem), so the transactional writes appear
//! as those actions on every table they touch.

use super::schema::{self, TableDef};

/// Actions on one table (and its indexes).
pub type TableAccess = (&'static TableDef, &'static [&'static str]);

const READ: &[&str] = &["dynamodb:GetItem", "dynamodb:Query"];
/// Events written in the same transaction as a change.
const EVENTS: TableAccess = (&schema::OUTBOX, &["dynamodb:PutItem"]);

/// `MentionReader`: by key, by day, and by author (the keys-only `by_author` index, then the
/// mentions by key).
pub const MENTION_READER: &[TableAccess] =
    &[(&schema::MENTIONS, &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"])];
/// `MentionReader`'s `case_status` listing: the cases' `by_status` index, then the mentions
/// by key.
pub const MENTIONS_BY_CASE: &[TableAccess] =
    &[(&schema::CASES, &["dynamodb:Query"]), (&schema::MENTIONS, &["dynamodb:BatchGetItem"])];
/// `MentionWriter`: conditional puts and deletes with their counters and events.
pub const MENTION_WRITER: &[TableAccess] = &[
    (&schema::MENTIONS, &["dynamodb:PutItem", "dynamodb:DeleteItem"]),
    (&schema::COUNTERS, &["dynamodb:UpdateItem"]),
    EVENTS,
];
/// `CaseStore`.
pub const CASES: &[TableAccess] = &[
    (
        &schema::CASES,
        &["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"],
    ),
    EVENTS,
];
/// `CounterStore`.
pub const COUNTERS: &[TableAccess] = &[(&schema::COUNTERS, &["dynamodb:Query"])];
/// `OccurrenceStore`: conditional puts (with `PostPublished` events), by key, and the due,
/// calendar and series indexes.
pub const OCCURRENCES: &[TableAccess] =
    &[(&schema::POSTS, &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]), EVENTS];
/// `PostStore`.
pub const POSTS: &[TableAccess] = &[(&schema::POSTS, &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"])];
/// `ReportStore`.
pub const REPORTS: &[TableAccess] = &[(&schema::REPORTS, &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"])];
/// `Outbox` (the relay sweep): pending events (a Scan of the nearly empty table), then their
/// removal in batches.
pub const OUTBOX: &[TableAccess] = &[(&schema::OUTBOX, &["dynamodb:Scan", "dynamodb:BatchWriteItem"])];
/// The relay right after a commit: it removes the events it published.
pub const OUTBOX_CLEAR: &[TableAccess] = &[(&schema::OUTBOX, &["dynamodb:BatchWriteItem"])];
/// Named stores that only read documents.
pub const DOCUMENTS_READ: &[TableAccess] = &[(&schema::CONFIG, READ)];
/// Named stores that read, write and remove documents.
pub const DOCUMENTS_WRITE: &[TableAccess] =
    &[(&schema::CONFIG, &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"])];
/// Named stores whose conditional writes carry events (spike episodes, markers).
pub const DOCUMENTS_WITH_EVENTS: &[TableAccess] =
    &[(&schema::CONFIG, &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]), EVENTS];
