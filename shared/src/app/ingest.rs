//! Storing what platforms and apps deliver: each message once with its `MentionReceived`
//! event, edits kept as history and reclassified, deletions marked, lookups queued. Used by
//! webhooks, polling, the ingest API and `pantau import` alike.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Event, EventKind, Mention, MentionKey, NewMention, Origin};
use crate::error::StoreError;
use crate::platforms::{Item, Lookup};
use crate::ports::{Inserted, MentionStore};
use crate::stores::LookupQueue;
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
    /// Items the store refused for good (too large, unreadable…): logged and skipped, so one
    /// bad item never blocks a delivery that the platform would otherwise retry forever.
    pub failed: usize,
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
    pub lookups: &'a dyn LookupQueue,
    pub source: &'static str,
    pub now: DateTime<Utc>,
}

enum Revised {
    Missing,
    Unchanged,
    /// Written, with the event that went with it.
    Applied(Option<Event>),
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
    /// Applies items in order, setting aside items the store refuses for good (counted as
    /// `failed`) and stopping at the first failure of the store itself (the caller answers 5xx
    /// so the platform retries).
    pub async fn apply(&self, items: Vec<Item>) -> IngestOutcome {
        let mut outcome = IngestOutcome::default();
        // Messages received per platform (new, repeated or edited): `MentionsIngested`, the
        // metric the silence alarms watch (a platform that stops delivering — Meta quietly
        // unsubscribes a failing endpoint — shows as none).
        let mut received: std::collections::BTreeMap<crate::domain::Platform, usize> = Default::default();
        for item in &items {
            if let Item::Message { mention, .. } = item {
                *received.entry(mention.key.platform()).or_default() += 1;
            }
        }
        for (platform, n) in received {
            let platform = platform.to_string();
            crate::telemetry::emit_metric("MentionsIngested", n as f64, &[("Platform", &platform)], self.now);
        }
        for item in items {
            let step = match item {
                Item::Message { mention, edit: false } => self.store_new(*mention).await,
                Item::Message { mention, edit: true } => self.edit(*mention).await,
                Item::Removed { key, at } => self.remove(&key, at).await,
                Item::Lookup(lookup) => self.queue(&lookup).await,
                // Responses of the office are recorded on cases by the webhook handler.
                Item::OwnReply(_) => continue,
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
                Err(error) if error.is_item_specific() => {
                    tracing::error!(error = %error, "item refused by the store; skipped");
                    stats.failed += 1;
                }
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
        let mention = Mention::received(new.clone(), self.now);
        let event = self.received(&mention.key);
        match self.mentions.insert_mention(&mention, std::slice::from_ref(&event)).await? {
            Inserted::New => Ok(Step::Stored(event)),
            Inserted::Duplicate => self.merge(new).await,
        }
    }

    /// A message whose key is stored already: a redelivery (nothing changes), unless it tells
    /// more. The platform's own delivery replaces a submitted copy (an app cannot squat a
    /// platform's key); an original that arrives after its edit joins the edit history.
    async fn merge(&self, new: NewMention) -> Result<Step, StoreError> {
        let now = self.now;
        let outcome = self
            .revise(&new.key, true, |current| match (current.origin, new.origin) {
                (Origin::Submitted, Origin::Platform) => Some(current.verified_by(new.clone(), now)),
                _ => current.original_arrived(&new),
            })
            .await?;
        Ok(match outcome {
            Revised::Applied(Some(event)) => {
                tracing::info!(mention = %new.key, "a stored copy completed by the platform's delivery");
                Step::Edited(event)
            }
            _ => Step::Duplicate,
        })
    }

    /// An edit replaces the text (keeping the old one) and is announced again for
    /// reclassification; the same edit delivered again changes nothing.
    async fn edit(&self, new: NewMention) -> Result<Step, StoreError> {
        let now = self.now;
        for _ in 0..ATTEMPTS {
            match self.revise(&new.key, true, |m| m.edited(&new.text, new.edited_at, now)).await? {
                Revised::Applied(Some(event)) => return Ok(Step::Edited(event)),
                Revised::Applied(None) | Revised::Unchanged => return Ok(Step::Unchanged),
                // An edit of a message we never saw: the edit carries the whole message. If it
                // appeared meanwhile, revise again.
                Revised::Missing => match self.store_new(new.clone()).await? {
                    Step::Duplicate => continue,
                    step => return Ok(step),
                },
            }
        }
        Err(StoreError::conflict("EditMention", "mentions", &new.key.to_string(), "kept changing"))
    }

    async fn remove(&self, key: &MentionKey, at: DateTime<Utc>) -> Result<Step, StoreError> {
        Ok(match self.revise(key, false, |m| m.deleted(at)).await? {
            Revised::Applied(_) => Step::Removed,
            Revised::Missing | Revised::Unchanged => Step::Unchanged,
        })
    }

    /// Applies `change` to the stored mention as an optimistic update on its revision,
    /// re-reading and retrying when another writer came first.
    async fn revise(
        &self,
        key: &MentionKey,
        announce: bool,
        change: impl Fn(&Mention) -> Option<Mention>,
    ) -> Result<Revised, StoreError> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let Some(current) = self.mentions.get_mention(key).await? else { return Ok(Revised::Missing) };
            let Some(next) = change(&current) else { return Ok(Revised::Unchanged) };
            let event = announce.then(|| self.received(key));
            // Counts move only when the day a mention counts on changes (a corrected time).
            let counts = super::counting::count_changes(&current, &next);
            match self.mentions.replace_mention(&next, current.revision, &counts, event.as_slice()).await {
                Ok(()) => return Ok(Revised::Applied(event)),
                Err(conflict @ StoreError::Conflict { .. }) => last = Some(conflict),
                Err(other) => return Err(other),
            }
        }
        Err(last
            .unwrap_or_else(|| StoreError::conflict("ReviseMention", "mentions", &key.to_string(), "kept changing")))
    }

    async fn queue(&self, lookup: &Lookup) -> Result<Step, StoreError> {
        self.lookups.queue_lookup(lookup, self.now).await?;
        Ok(Step::Queued)
    }
}

/// A normalised mention as other apps send it (`POST /v1/mentions`, `pantau import`). Only these
/// fields are accepted: labels, cases and timestamps of our own are never taken from input.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MentionInput {
    pub platform: crate::domain::Platform,
    pub external_id: String,
    pub text: String,
    #[serde(default)]
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub author: AuthorInput,
    #[serde(default)]
    pub thread_id: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub has_media: bool,
}

/// The author of a [`MentionInput`].
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorInput {
    pub id: String,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub followers: Option<u64>,
}

/// Most mentions one API request or import batch may carry.
pub const MAX_BATCH: usize = 500;

impl MentionInput {
    /// Checks the input (times against `now`) and makes it a message; the error names the field.
    pub fn into_new(self, now: DateTime<Utc>) -> Result<NewMention, String> {
        if self.text.trim().is_empty() {
            return Err("text: must not be empty".into());
        }
        if self.author.id.trim().is_empty() {
            return Err("author.id: must not be empty".into());
        }
        if crate::platforms::plausible_at(self.created_at, now).is_none() {
            return Err("created_at: must be between 2000-01-01 and tomorrow".into());
        }
        if let Some(url) = &self.url {
            url::Url::parse(url).map_err(|e| format!("url: {e}"))?;
        }
        let key = MentionKey::new(self.platform, self.external_id).map_err(|e| format!("external_id: {e}"))?;
        let author = crate::domain::Author {
            id: Some(self.author.id),
            handle: self.author.handle,
            name: self.author.name,
            followers: self.author.followers,
        };
        let mut mention = NewMention::new(key, self.text, self.created_at, author);
        mention.origin = crate::domain::Origin::Submitted;
        mention.url = self.url;
        mention.thread_id = self.thread_id;
        mention.parent_id = self.parent_id;
        mention.has_media = self.has_media;
        Ok(mention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_field_by_field() {
        let ok: MentionInput = serde_json::from_value(serde_json::json!({
            "platform": "api", "external_id": "lapor-123", "text": "Jalan rusak", "created_at": "2026-11-16T01:00:00Z",
            "author": {"id": "u1", "followers": 20}
        }))
        .unwrap();
        let new = ok.clone().into_new(Utc::now()).unwrap();
        assert_eq!(new.key.to_string(), "api:lapor-123");
        assert_eq!(new.author.followers, Some(20));
        let mut blank = ok.clone();
        blank.text = "  ".into();
        assert_eq!(blank.into_new(Utc::now()).unwrap_err(), "text: must not be empty");
        let mut spaced = ok.clone();
        spaced.external_id = "a b".into();
        assert!(spaced.into_new(Utc::now()).unwrap_err().starts_with("external_id:"));
        let mut bad_url = ok;
        bad_url.url = Some("not a url".into());
        assert!(bad_url.into_new(Utc::now()).unwrap_err().starts_with("url:"));
        let assigned = serde_json::from_value::<MentionInput>(serde_json::json!({
            "platform": "api", "external_id": "x", "text": "t", "created_at": "2026-11-16T01:00:00Z",
            "author": {"id": "u"}, "classification": {"category": "apresiasi"}
        }));
        assert!(assigned.unwrap_err().to_string().contains("classification"), "server-owned fields are refused");
    }
}
