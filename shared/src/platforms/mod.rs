//! Platforms: webhook verification and payload parsing at the boundary.

pub mod client;
pub mod meta;
pub mod meta_publish;
pub mod news;
pub mod outbox;
pub mod publishing;
pub mod telegram;
pub mod telegram_publish;
pub mod text;
pub mod x;
pub mod x_publish;
pub mod youtube;

#[cfg(test)]
mod proptests;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use chrono::{DateTime, Utc};

use crate::domain::{MentionKey, NewMention, Platform};

/// One thing a delivery tells us.
#[derive(Debug, Clone)]
pub enum Item {
    /// A message as it now reads; `edit` when the platform says it was changed.
    Message { mention: Box<NewMention>, edit: bool },
    /// The author removed, or the page hid, a message.
    Removed { key: MentionKey, at: DateTime<Utc> },
    /// A message known only by ids; its content is fetched later, off the response path.
    Lookup(Lookup),
    /// The office's own account answered a message: the response is recorded on its case.
    OwnReply(OwnReply),
}

/// A reply of the office's own account to a message, seen on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnReply {
    /// The message answered.
    pub parent: MentionKey,
    /// The reply's own key (so a redelivery is recorded once).
    pub id: String,
    pub at: DateTime<Utc>,
    pub text: String,
    pub url: Option<String>,
}

impl OwnReply {
    /// A reply to `parent_id` on `platform`, if both ids are usable.
    pub(crate) fn to(
        platform: Platform,
        parent_id: Option<&str>,
        id: Option<&str>,
        text: &str,
        at: DateTime<Utc>,
    ) -> Option<Item> {
        let parent = MentionKey::new(platform, parent_id?).ok()?;
        let id = MentionKey::new(platform, id?).ok()?.to_string();
        Some(Item::OwnReply(OwnReply { parent, id, at, text: text.to_string(), url: None }))
    }
}

/// A message known only by ids, to fetch from the Graph API: Instagram mentions, and Page
/// mentions or visitor posts that arrive without their text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lookup {
    /// The office was mentioned in a comment on someone's Instagram media.
    InstagramComment { media_id: String, comment_id: String },
    /// The office was mentioned in the caption of someone's Instagram media.
    InstagramMedia { media_id: String },
    /// A Facebook post on or mentioning the Page.
    FacebookPost { post_id: String },
}

impl Lookup {
    /// Stable id of the lookup: the key the mention will have.
    pub fn id(&self) -> String {
        match self {
            Lookup::InstagramComment { comment_id, .. } => format!("instagram:{comment_id}"),
            Lookup::InstagramMedia { media_id } => format!("instagram:{media_id}"),
            Lookup::FacebookPost { post_id } => format!("facebook:{post_id}"),
        }
    }
}

/// What one webhook delivery contained.
#[derive(Debug, Default)]
pub struct Parsed {
    pub items: Vec<Item>,
    /// Items acknowledged but deliberately not stored (statuses, the office's own posts…).
    pub ignored: usize,
    /// Items of a shape we do not map yet (the body is quarantined, never refused).
    pub unmapped: usize,
}

impl Parsed {
    pub(crate) fn message(&mut self, mention: NewMention, edit: bool) {
        self.items.push(Item::Message { mention: Box::new(mention), edit });
    }

    /// The messages alone (tests and tools).
    pub fn messages(&self) -> Vec<&NewMention> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Message { mention, .. } => Some(mention.as_ref()),
                _ => None,
            })
            .collect()
    }
}

/// A compact JSON string of a payload piece, for the audit copy.
pub(crate) fn raw_of<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("body is not valid JSON: {0}")]
    Malformed(String),
}

/// HMAC-SHA256 of a body.
pub fn hmac_sha256(secret: &[u8], body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key length"));
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Checks `expected` (an HMAC over `body`) in constant time.
pub fn verify_hmac(secret: &[u8], body: &[u8], expected: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("any key length"));
    mac.update(body);
    mac.verify_slice(expected).is_ok()
}

/// Base64 of an HMAC-SHA256 (X's signatures and CRC).
pub fn hmac_base64(secret: &[u8], body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret, body))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))
}

pub(crate) fn from_epoch(seconds: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(seconds, 0).and_then(plausible)
}

/// Times a message can really have: from 2000 to a day ahead (clock skew). Anything else is a
/// malformed or forged payload and is treated as absent.
pub fn plausible(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    plausible_at(at, Utc::now())
}

/// [`plausible`] judged at `now` (the handler's clock).
pub fn plausible_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let earliest = DateTime::from_timestamp(946_684_800, 0)?; // 2000-01-01
    (at >= earliest && at <= now + chrono::Duration::days(1)).then_some(at)
}
