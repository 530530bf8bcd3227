//! Storing what platforms and apps deliver: each message once with its `MentionReceived`
//! event, edits kept as history and reclassified, deletions marked, lookups queued. Used by
//! webhooks, polling, the ingest API and `pantau import` alike.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Event, EventKind, Mention, MentionKey, NewMention};
use crate::error::StoreError;
use crate::platforms::{Item, Lookup};
use crate::ports::{ConfigStore, Inserted, MentionStore};

/// Config kind of queued lookups (messages known only by ids).
pub const LOOKUP_KIND: &str = "lookup";
/// Attempts at an optimistic update before giving up (each re-reads the mention).
const ATTEMPTS: usize = 3;

/// What a batch of items did to the store.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct IngestStats {
    pub stored: usize,
    pub duplicates: usize,
    pub edited: usize,
    pub removed: usize,
    /// Edits and removals that changed nothing (redeliveries, or of unknown messages).
    pub unchanged: usize,
    pub lookups: usize,
}

/// The outcome of a batch: what happened, the committed events to announce, and the error
/// that stopped it, if any (items before it are stored; a retry skips them as duplicates).
#[derive(Debug, Default)]
pub struct IngestOutcome {
    pub stats: IngestStats,
    pub events: Vec<Event>,
    pub error: Option<StoreError>,
}

/// Stores items for one function (`source` names it in events).
pub struct Ingest<'a> {
    pub mentions: &'a dyn MentionStore,
    pub config: &'a dyn ConfigStore,
    pub source: &'static str,
    pub now: DateTime<Utc>,
}

enum Step {
    Stored(Event),
    Duplicate,
    Edited(Event),
    Removed,
    Unchanged,
    Queued,
}

impl Ingest<'_> {
    /// Applies items in order, stopping at the first store failure.
    pub async fn apply(&self, items: Vec<Item>) -> IngestOutcome {
        let mut outcome = IngestOutcome::default();
        for item in items {
            let step = match item {
                Item::Message { mention, edit: false } => self.store_new(*mention).await,
                Item::Message { mention, edit: true } => self.edit(*mention).await,
                Item::Removed { key, at } => self.remove(&key, at).await,
                Item::Lookup(lookup) => self.queue(&lookup).await,
            };
            let stats = &mut outcome.stats;
            match step {
                Ok(Step::Stored(event)) => {
                    stats.stored += 1;
                    outcome.events.push(event);
                }
                Ok(Step::Duplicate) => stats.duplicates += 1,
                Ok(Step::Edited(event)) => {
                    stats.edited += 1;
                    outcome.events.push(event);
                }
                Ok(Step::Removed) => stats.removed += 1,
                Ok(Step::Unchanged) => stats.unchanged += 1,
                Ok(Step::Queued) => stats.lookups += 1,
                Err(error) => {
                    outcome.error = Some(error);
                    break;
                }
            }
        }
        outcome
    }

    fn received(&self, key: &MentionKey) -> Event {
        Event::new(self.source, EventKind::MentionReceived { key: key.clone() }, self.now)
    }

    async fn store_new(&self, new: NewMention) -> Result<Step, StoreError> {
        let mention = Mention::received(new, self.now);
        let event = self.received(&mention.key);
        Ok(match self.mentions.insert_mention(&mention, std::slice::from_ref(&event)).await? {
            Inserted::New => Step::Stored(event),
            Inserted::Duplicate => Step::Duplicate,
        })
    }

    /// An edit replaces the text (keeping the old one) and is announced again for
    /// reclassification; the same edit delivered again changes nothing.
    async fn edit(&self, new: NewMention) -> Result<Step, StoreError> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let Some(current) = self.mentions.get_mention(&new.key).await? else {
                // An edit of a message we never saw: the edit carries the whole message.
                match self.store_new(new.clone()).await? {
                    Step::Duplicate => continue,
                    step => return Ok(step),
                }
            };
            let Some(next) = current.edited(&new.text, self.now) else { return Ok(Step::Unchanged) };
            let event = self.received(&next.key);
            match self.mentions.replace_mention(&next, current.revision, std::slice::from_ref(&event)).await {
                Ok(()) => return Ok(Step::Edited(event)),
                Err(conflict @ StoreError::Conflict { .. }) => last = Some(conflict),
                Err(other) => return Err(other),
            }
        }
        Err(last
            .unwrap_or_else(|| StoreError::conflict("EditMention", "mentions", &new.key.to_string(), "kept changing")))
    }

    async fn remove(&self, key: &MentionKey, at: DateTime<Utc>) -> Result<Step, StoreError> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let Some(current) = self.mentions.get_mention(key).await? else { return Ok(Step::Unchanged) };
            let Some(next) = current.deleted(at) else { return Ok(Step::Unchanged) };
            match self.mentions.replace_mention(&next, current.revision, &[]).await {
                Ok(()) => return Ok(Step::Removed),
                Err(conflict @ StoreError::Conflict { .. }) => last = Some(conflict),
                Err(other) => return Err(other),
            }
        }
        Err(last
            .unwrap_or_else(|| StoreError::conflict("RemoveMention", "mentions", &key.to_string(), "kept changing")))
    }

    async fn queue(&self, lookup: &Lookup) -> Result<Step, StoreError> {
        let value = serde_json::to_value(lookup).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.config.put_config(LOOKUP_KIND, &lookup.id(), &value).await?;
        Ok(Step::Queued)
    }
}
