//! Messages known only by ids, waiting to be fetched from the Graph API: kind `lookup`, id = the
//! key the mention will have. A lookup nobody can resolve expires after 30 days.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::{encode, page};
use crate::error::StoreError;
use crate::platforms::Lookup;
use crate::ports::DocumentStore;

const KIND: &str = "lookup";
/// How long a lookup waits (for example for the Instagram account id to be configured).
const WAIT_DAYS: i64 = 30;

/// One queued lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedLookup {
    pub id: String,
    pub lookup: Lookup,
}

/// The queue of lookups.
#[async_trait]
pub trait LookupQueue: Send + Sync {
    /// Queues a lookup once (queuing it again changes nothing but its expiry).
    async fn queue_lookup(&self, lookup: &Lookup, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// The oldest-keyed lookups waiting, at most `limit`.
    async fn queued_lookups(&self, limit: usize) -> Result<Vec<QueuedLookup>, StoreError>;
    /// Takes a lookup off the queue (resolved, or refused by the platform).
    async fn drop_lookup(&self, id: &str) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> LookupQueue for T {
    async fn queue_lookup(&self, lookup: &Lookup, now: DateTime<Utc>) -> Result<(), StoreError> {
        let id = lookup.id();
        self.put_doc(KIND, &id, &encode(KIND, &id, lookup)?, Some(now + Duration::days(WAIT_DAYS))).await
    }

    async fn queued_lookups(&self, limit: usize) -> Result<Vec<QueuedLookup>, StoreError> {
        let p = page::<Lookup>(self, KIND, "", limit, None).await?;
        Ok(p.items.into_iter().map(|(id, lookup)| QueuedLookup { id, lookup }).collect())
    }

    async fn drop_lookup(&self, id: &str) -> Result<(), StoreError> {
        self.delete_doc(KIND, id).await
    }
}
