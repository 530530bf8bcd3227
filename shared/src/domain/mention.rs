//! Mentions: one message from a citizen, a news item or another app, keyed `{platform}:{external_id}`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::labels::{Account, Action, Category, Influence, Language, Platform, Priority, Sentiment};

/// Longest external id we accept (platform ids are far shorter).
const MAX_EXTERNAL_ID: usize = 256;
/// Longest text stored for one mention, in bytes; longer texts are cut at a character boundary.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Why a value could not become a domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid mention key {0:?}: expected `{{platform}}:{{external_id}}`")]
    MentionKey(String),
    #[error("invalid external id {0:?}: must be 1 to 256 printable characters")]
    ExternalId(String),
    #[error(transparent)]
    Label(#[from] super::labels::UnknownLabel),
    #[error("{0}")]
    Invalid(String),
}

/// The identity of a mention: platform plus the id that is unique on that platform.
/// Telegram ids are `{chat_id}.{message_id}` because message ids repeat across chats.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MentionKey {
    platform: Platform,
    external_id: String,
}

impl MentionKey {
    pub fn new(platform: Platform, external_id: impl Into<String>) -> Result<Self, DomainError> {
        let external_id = external_id.into();
        let ok = !external_id.is_empty()
            && external_id.len() <= MAX_EXTERNAL_ID
            && !external_id.chars().any(|c| c.is_control() || c.is_whitespace());
        if !ok {
            return Err(DomainError::ExternalId(external_id));
        }
        Ok(Self { platform, external_id })
    }

    pub fn platform(&self) -> Platform {
        self.platform
    }

    pub fn external_id(&self) -> &str {
        &self.external_id
    }
}

impl fmt::Display for MentionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.external_id)
    }
}

impl FromStr for MentionKey {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (platform, id) = s.split_once(':').ok_or_else(|| DomainError::MentionKey(s.to_string()))?;
        let platform = platform.parse::<Platform>().map_err(|_| DomainError::MentionKey(s.to_string()))?;
        MentionKey::new(platform, id)
    }
}

impl Serialize for MentionKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MentionKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Who wrote a mention, as far as the platform tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// The platform's id of the author; none when the platform gives none (an anonymous
    /// author is never pooled with others under a made-up id).
    pub id: Option<String>,
    pub handle: Option<String>,
    pub name: Option<String>,
    pub followers: Option<u64>,
}

/// Probabilities per label, as the classifier gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Scores {
    pub category: BTreeMap<String, f32>,
    pub sentiment: BTreeMap<String, f32>,
}

/// What the classifier decided, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub category: Category,
    pub sentiment: Sentiment,
    pub language: Language,
    pub topics: Vec<String>,
    pub confidence: f32,
    pub scores: Scores,
    pub reasons: Vec<String>,
    /// Model version that produced this, so a new model can reclassify deliberately.
    pub model: String,
    pub classified_at: DateTime<Utc>,
    /// How many edits the text had when classified; an edit makes the classification stale.
    #[serde(default)]
    pub text_revision: u32,
}

/// How urgently to act on a mention and from which account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    pub influence: Influence,
    pub priority: Priority,
    pub action: Action,
    pub account: Account,
}

/// The case opened for a mention, as shown with the mention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRef {
    pub id: String,
    pub status: super::case::CaseStatus,
    pub due_at: DateTime<Utc>,
}

/// An officer's correction of the model's labels; kept through reclassification of the same
/// text and used as training feedback (`pantau train --feedback`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub category: Category,
    pub sentiment: Sentiment,
    /// What the model had said.
    pub model_category: Option<Category>,
    pub model_sentiment: Option<Sentiment>,
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    /// The text revision corrected; an edit of the text lets the model decide again.
    pub text_revision: u32,
}

/// An earlier text of an edited mention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastText {
    pub text: String,
    /// When the platform told us it was replaced.
    pub replaced_at: DateTime<Utc>,
}

/// Who vouches for a mention's content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The platform itself: a verified webhook delivery or the platform's API, polled.
    #[default]
    Platform,
    /// Sent by another app or an import (`POST /v1/mentions`, `pantau import`): a verified
    /// delivery of the same key replaces it.
    Submitted,
}

/// One message, normalised. Serialises to the JSON shape of docs/design.md, plus thread context,
/// edit history, deletion and the size-capped raw payload kept for audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub key: MentionKey,
    pub platform: Platform,
    pub external_id: String,
    pub text: String,
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub author: Author,
    pub classification: Option<Classification>,
    pub triage: Option<Triage>,
    pub case: Option<CaseRef>,
    /// The conversation or post the message belongs to, where the platform says.
    #[serde(default)]
    pub thread_id: Option<String>,
    /// The message this one replies to.
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub has_media: bool,
    /// Earlier texts, oldest first (the last [`MAX_EDITS`]).
    #[serde(default)]
    pub edits: Vec<PastText>,
    /// Earlier texts no longer kept.
    #[serde(default)]
    pub dropped_edits: u32,
    /// The platform's time of the current text (its edit time), when it gives one.
    #[serde(default)]
    pub text_at: Option<DateTime<Utc>>,
    /// Set when the author removed or the page hid the message.
    #[serde(default)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The platform's item as received (JSON), cut at [`MAX_RAW_BYTES`].
    #[serde(default)]
    pub raw: Option<String>,
    /// An officer's correction of the labels, if any.
    #[serde(default)]
    pub correction: Option<Correction>,
    /// Incremented by every change; stores update conditionally on it.
    #[serde(default)]
    pub revision: u32,
    /// Who vouches for the content.
    #[serde(default)]
    pub origin: Origin,
}

/// Earlier texts kept per mention (oldest dropped first), so a much-edited post stays within a
/// DynamoDB item.
pub const MAX_EDITS: usize = 5;

/// Largest raw payload kept with a mention.
pub const MAX_RAW_BYTES: usize = 8 * 1024;

/// What a boundary parser knows about a message.
#[derive(Debug, Clone)]
pub struct NewMention {
    pub key: MentionKey,
    pub text: String,
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub author: Author,
    pub thread_id: Option<String>,
    pub parent_id: Option<String>,
    pub has_media: bool,
    /// The platform's item as received.
    pub raw: Option<String>,
    /// For an edit: when the platform says the text was changed (orders redeliveries).
    pub edited_at: Option<DateTime<Utc>>,
    pub origin: Origin,
}

impl NewMention {
    /// A message with no thread context, media or raw payload (set those fields as known).
    pub fn new(key: MentionKey, text: impl Into<String>, created_at: DateTime<Utc>, author: Author) -> Self {
        NewMention {
            key,
            text: text.into(),
            url: None,
            created_at,
            author,
            thread_id: None,
            parent_id: None,
            has_media: false,
            raw: None,
            edited_at: None,
            origin: Origin::Platform,
        }
    }
}

impl Mention {
    /// A freshly received mention. Text is trimmed and capped at [`MAX_TEXT_BYTES`], the raw
    /// payload at [`MAX_RAW_BYTES`].
    pub fn received(new: NewMention, received_at: DateTime<Utc>) -> Self {
        let NewMention { key, text, url, created_at, author, thread_id, parent_id, has_media, raw, edited_at, origin } =
            new;
        Mention {
            platform: key.platform(),
            external_id: key.external_id().to_string(),
            key,
            text: cap_text(text.trim(), MAX_TEXT_BYTES),
            url,
            created_at,
            received_at,
            author,
            classification: None,
            triage: None,
            case: None,
            correction: None,
            thread_id,
            parent_id,
            has_media,
            edits: Vec::new(),
            dropped_edits: 0,
            text_at: edited_at,
            deleted_at: None,
            raw: raw.map(|r| cap_text(&r, MAX_RAW_BYTES)),
            revision: 0,
            origin,
        }
    }

    /// The mention once its original text arrives after an edit of it (platforms redeliver out
    /// of order): the original joins the history before the edits, dated by the edit that
    /// replaced it, and the current text stays. `None` when there is nothing to add (a
    /// redelivery, or a mention not stored from an edit).
    pub fn original_arrived(&self, original: &NewMention) -> Option<Mention> {
        let text = cap_text(original.text.trim(), MAX_TEXT_BYTES);
        let replaced_at = self.edits.first().map(|e| e.replaced_at).or(self.text_at)?;
        if original.edited_at.is_some()
            || text == self.text
            || self.edits.iter().any(|e| e.text == text)
            || self.dropped_edits > 0
        {
            return None;
        }
        let mut next = self.clone();
        next.edits.insert(0, PastText { text, replaced_at });
        if next.edits.len() > MAX_EDITS {
            next.edits.remove(0);
            next.dropped_edits += 1;
        }
        next.revision += 1;
        Some(next)
    }

    /// A submitted mention replaced by the platform's own delivery of the same key: the
    /// platform's content and author; labels stay until reclassification moves them.
    pub fn verified_by(&self, delivered: NewMention, at: DateTime<Utc>) -> Mention {
        let mut next = Mention::received(delivered, at);
        next.received_at = self.received_at;
        next.classification = self.classification.clone();
        next.triage = self.triage.clone();
        next.correction = self.correction.clone();
        next.revision = self.revision + 1;
        next
    }

    /// The mention after an edit, or `None` when the text is unchanged (a redelivered edit).
    /// The earlier text goes to the history; the classification stays until the classifier
    /// replaces it (it is stale: `text_revision` is behind), so counts move rather than double.
    /// An edit the platform dates at or before the current text's time is an old one delivered
    /// again, and changes nothing either.
    pub fn edited(&self, text: &str, edited_at: Option<DateTime<Utc>>, at: DateTime<Utc>) -> Option<Mention> {
        let text = cap_text(text.trim(), MAX_TEXT_BYTES);
        let stale = matches!((edited_at, self.text_at), (Some(incoming), Some(current)) if incoming <= current);
        if text == self.text || self.deleted_at.is_some() || stale {
            return None;
        }
        let mut next = self.clone();
        next.text_at = edited_at.or(self.text_at);
        next.edits.push(PastText { text: std::mem::replace(&mut next.text, text), replaced_at: at });
        if next.edits.len() > MAX_EDITS {
            next.edits.remove(0);
            next.dropped_edits += 1;
        }
        next.revision += 1;
        Some(next)
    }

    /// The mention marked deleted, or `None` when it already is.
    pub fn deleted(&self, at: DateTime<Utc>) -> Option<Mention> {
        if self.deleted_at.is_some() {
            return None;
        }
        let mut next = self.clone();
        next.deleted_at = Some(at);
        next.revision += 1;
        Some(next)
    }

    /// Whether the mention needs (re)classifying by this model: never classified, classified by
    /// another model, or edited since.
    pub fn needs_classifying(&self, model: &str) -> bool {
        match &self.classification {
            None => true,
            Some(c) => c.model != model || c.text_revision != self.text_revision(),
        }
    }

    /// The mention with an officer's labels in place of the model's (the model's scores and
    /// reasons stay for the record). The revision is the caller's to move.
    pub fn corrected(&self, correction: Correction) -> Mention {
        let mut next = self.clone();
        if let Some(class) = &mut next.classification {
            class.category = correction.category;
            class.sentiment = correction.sentiment;
            let reason = format!("dikoreksi oleh petugas: {} / {}", correction.category, correction.sentiment);
            if !class.reasons.contains(&reason) {
                class.reasons.insert(0, reason);
            }
        }
        if let Some(triage) = &next.triage {
            let reactive = triage.account == Account::Reaktif;
            next.triage =
                Some(crate::classify::triage::triage_for_tier(correction.category, triage.influence, reactive));
        }
        next.correction = Some(correction);
        next
    }

    /// The officer's correction, if it was made on the current text.
    pub fn current_correction(&self) -> Option<&Correction> {
        self.correction.as_ref().filter(|c| c.text_revision == self.text_revision())
    }

    /// How many times the text was edited.
    pub fn text_revision(&self) -> u32 {
        self.edits.len() as u32 + self.dropped_edits
    }

    /// The author's identity across platforms: `{platform}#{author_id}`; none without an id.
    pub fn author_key(&self) -> Option<String> {
        self.author.id.as_ref().map(|id| format!("{}#{id}", self.platform))
    }
}

fn cap_text(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> Mention {
        let key = MentionKey::new(Platform::Telegram, "-1001.42").unwrap();
        Mention::received(
            NewMention::new(
                key,
                "  Jalan ke Gresik rusak parah  ",
                Utc.with_ymd_and_hms(2026, 11, 20, 1, 2, 3).unwrap(),
                Author { id: Some("77".into()), handle: Some("arek_sby".into()), name: None, followers: Some(12) },
            ),
            Utc.with_ymd_and_hms(2026, 11, 20, 1, 2, 4).unwrap(),
        )
    }

    #[test]
    fn keys_parse_and_print_the_documented_form() {
        let key: MentionKey = "telegram:-1001.42".parse().unwrap();
        assert_eq!(key.platform(), Platform::Telegram);
        assert_eq!(key.external_id(), "-1001.42");
        assert_eq!(key.to_string(), "telegram:-1001.42");
        // ids may contain colons (news GUIDs are URLs); only the first colon splits
        let key: MentionKey = "news:https://example.id/a".parse().unwrap();
        assert_eq!(key.external_id(), "https://example.id/a");
        for bad in ["", "x", "x:", "twitter:1", "x:a b", "x:\u{7}"] {
            assert!(bad.parse::<MentionKey>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn mention_serialises_to_the_documented_shape() {
        let json = serde_json::to_value(sample()).unwrap();
        let mut fields: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        fields.sort();
        let documented = [
            "author",
            "case",
            "classification",
            "created_at",
            "external_id",
            "key",
            "platform",
            "received_at",
            "text",
            "triage",
            "url",
        ];
        let extra = [
            "correction",
            "deleted_at",
            "dropped_edits",
            "edits",
            "has_media",
            "origin",
            "parent_id",
            "raw",
            "revision",
            "text_at",
            "thread_id",
        ];
        let mut expected: Vec<&str> = documented.iter().chain(extra.iter()).copied().collect();
        expected.sort();
        assert_eq!(fields, expected, "the documented fields plus thread context, history, origin and audit copy");
        assert_eq!(json["key"], "telegram:-1001.42");
        assert_eq!(json["text"], "Jalan ke Gresik rusak parah");
        assert_eq!(json["author"]["followers"], 12);
        assert_eq!(json["created_at"], "2026-11-20T01:02:03Z");
        let back: Mention = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn edits_keep_history_and_redeliveries_change_nothing() {
        let m = sample();
        let at = m.received_at + chrono::Duration::minutes(5);
        let edited = m.edited("Jalan ke Gresik rusak parah, tolong", None, at).unwrap();
        assert_eq!(edited.text, "Jalan ke Gresik rusak parah, tolong");
        assert_eq!(edited.edits, vec![PastText { text: m.text.clone(), replaced_at: at }]);
        assert_eq!(edited.revision, 1);
        assert!(edited.edited(" Jalan ke Gresik rusak parah, tolong ", None, at).is_none(), "same text again");
        let gone = edited.deleted(at).unwrap();
        assert!(gone.deleted(at).is_none());
        assert!(gone.edited("new", None, at).is_none(), "a deleted mention takes no edits");
    }

    #[test]
    fn an_older_edit_delivered_again_does_not_bring_its_text_back() {
        let m = sample();
        let t = |min| m.received_at + chrono::Duration::minutes(min);
        let first = m.edited("versi 1", Some(t(1)), t(1)).unwrap();
        let second = first.edited("versi 2", Some(t(2)), t(2)).unwrap();
        assert!(second.edited("versi 1", Some(t(1)), t(3)).is_none(), "edit 1 redelivered after edit 2");
        assert_eq!(
            second.edits.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(),
            ["Jalan ke Gresik rusak parah", "versi 1"]
        );
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let text = "é".repeat(MAX_TEXT_BYTES);
        let capped = cap_text(&text, MAX_TEXT_BYTES);
        assert!(capped.len() <= MAX_TEXT_BYTES);
        assert!(capped.chars().all(|c| c == 'é'));
    }
}
