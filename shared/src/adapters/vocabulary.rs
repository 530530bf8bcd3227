//! Sort keys shared by both store adapters, so SQLite and DynamoDB order and page alike.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Case, Event, Mention, Occurrence};
use crate::time::sortable;

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

/// Scheduled occurrences sort by due time, then post and id.
pub fn occurrence_due_key(occurrence: &Occurrence) -> String {
    format!("{}#{}#{}", sortable(occurrence.due_at), occurrence.post_id, occurrence.id)
}

/// Outbox events sort by creation time, then id.
pub fn outbox_created_key(event: &Event) -> String {
    format!("{}#{}", sortable(event.created_at), event.id)
}

/// Retention expiry in epoch seconds (the DynamoDB TTL attribute's format).
pub fn expires_at(received_at: DateTime<Utc>, retention_days: u32) -> i64 {
    (received_at + Duration::days(i64::from(retention_days))).timestamp()
}
