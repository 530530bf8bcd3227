//! The office's own content: posts with per-platform variants, series that repeat them, and
//! occurrences — one publication (or one reply to a citizen) on one platform at one time,
//! published at most once.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::labels::{Account, Platform, vocabulary};

/// The platforms Pantau publishes to.
pub const PUBLISH_PLATFORMS: [Platform; 4] = [Platform::X, Platform::Facebook, Platform::Instagram, Platform::Telegram];

/// The text of a post on one platform, where it differs from the base text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// The text on this platform (the post's base text when absent).
    #[serde(default)]
    pub text: Option<String>,
    /// Other wordings, used in turn by repeats (X refuses identical text).
    #[serde(default)]
    pub alternatives: Vec<String>,
}

vocabulary! {
    /// Where a post stands: only an approved post is published.
    PostStatus, "post status" {
        Draft => "draf",
        Approved => "disetujui",
    }
}

/// Who approved a post, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A piece of content the office publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub title: String,
    /// The text every platform uses unless its variant says otherwise.
    pub text: String,
    pub variants: BTreeMap<Platform, Variant>,
    /// Image URLs (https), published with the post where the platform takes images.
    pub media: Vec<String>,
    /// A link appended to the text.
    pub link: Option<String>,
    /// Hashtags without `#`, appended where the text does not carry them.
    pub hashtags: Vec<String>,
    /// A topic of the taxonomy the post is about.
    pub topic: Option<String>,
    /// Which of the office's accounts publishes it.
    pub account: Account,
    /// The platforms it goes to.
    pub platforms: Vec<Platform>,
    /// Whether the X and Facebook texts link the Instagram post of the same occurrence.
    pub link_instagram: bool,
    pub status: PostStatus,
    pub approval: Option<Approval>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    pub revision: u32,
}

impl Post {
    /// The text of a platform's `n`-th publication (0-based): its variant's wordings in turn,
    /// the base text otherwise.
    pub fn text_for(&self, platform: Platform, n: u32) -> &str {
        let variant = self.variants.get(&platform);
        let first = variant.and_then(|v| v.text.as_deref()).unwrap_or(&self.text);
        let alternatives = variant.map_or(&[][..], |v| v.alternatives.as_slice());
        if alternatives.is_empty() {
            return first;
        }
        let i = n as usize % (alternatives.len() + 1);
        if i == 0 { first } else { &alternatives[i - 1] }
    }

    /// Whether repeats on this platform have wordings to rotate.
    pub fn rotates(&self, platform: Platform) -> bool {
        self.variants.get(&platform).is_some_and(|v| !v.alternatives.is_empty())
    }
}

/// When a series publishes: times of day, which days, how long a run lasts and when it
/// comes back, and when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The first WIB day.
    pub start: NaiveDate,
    /// Times of day in WIB (fixed), or …
    pub times_wib: Vec<NaiveTime>,
    /// … this many of the platform's best hours a day (from the engagement model).
    pub best_times: Option<u32>,
    /// Days of the week published on (empty: every day).
    pub weekdays: Vec<Weekday>,
    /// Consecutive days of one run.
    pub run_days: u32,
    /// A run comes again this many days after the previous one ended (none: one run).
    pub again_after_days: Option<u32>,
    /// Publications per platform at most.
    pub max_occurrences: Option<u32>,
    /// The last WIB day.
    pub until: Option<NaiveDate>,
}

vocabulary! {
    /// Whether a series still publishes.
    SeriesStatus, "series status" {
        Active => "aktif",
        Cancelled => "dibatalkan",
    }
}

/// A post repeated on a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub id: String,
    pub post_id: String,
    pub schedule: Schedule,
    pub status: SeriesStatus,
    /// Occurrences exist up to here (a rolling horizon ahead).
    pub materialized_until: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revision: u32,
}

vocabulary! {
    /// Where an occurrence is in its life. It moves only by conditional writes.
    OccurrenceState, "occurrence state" {
        /// Due at `due_at`.
        Scheduled => "terjadwal",
        /// Claimed by a publisher until `lease_until`: the platform may have it.
        Publishing => "sedang_terbit",
        /// On the platform, with its id and link.
        Published => "terbit",
        /// The platform refused it for good (the reason says why).
        Failed => "gagal",
        /// The outcome is not known: reconciled by reading the account, never retried blind.
        Unconfirmed => "belum_pasti",
        /// Its post waits for approval again (it was edited).
        Held => "ditahan",
        Cancelled => "dibatalkan",
    }
}

impl OccurrenceState {
    /// States reachable from this one. `publishing` goes back to `scheduled` only on a
    /// definite refusal (a rate limit, a revoked token): a crash between the platform call and
    /// the record leaves it `publishing`, and then only reconciliation may move it.
    pub fn allowed_next(self) -> &'static [OccurrenceState] {
        use OccurrenceState::*;
        match self {
            Scheduled => &[Publishing, Scheduled, Held, Cancelled],
            Publishing => &[Published, Failed, Unconfirmed, Scheduled],
            Unconfirmed => &[Published, Scheduled, Failed],
            Held => &[Scheduled, Cancelled],
            Failed => &[Scheduled, Cancelled],
            Published | Cancelled => &[],
        }
    }

    /// Whether the publisher looks at it when its time comes.
    pub fn is_due_kind(self) -> bool {
        matches!(self, OccurrenceState::Scheduled | OccurrenceState::Publishing | OccurrenceState::Unconfirmed)
    }
}

/// What a reply answers, on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTarget {
    /// The case (the mention key) the reply answers.
    pub case_id: String,
    /// The platform's id of the message answered (for Telegram `{chat}.{message}`).
    pub in_reply_to: String,
    /// For WhatsApp: the citizen's number.
    pub to: Option<String>,
    pub text: String,
}

/// Engagement of a published occurrence, as the platform last counted it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    pub likes: u64,
    pub comments: u64,
    pub shares: u64,
    pub impressions: Option<u64>,
    pub at: Option<DateTime<Utc>>,
}

impl Engagement {
    /// One number to compare posts by: interactions, comments and shares weighing more.
    pub fn score(&self) -> f64 {
        self.likes as f64 + 2.0 * self.comments as f64 + 3.0 * self.shares as f64
    }
}

/// One publication of a post (or one reply) on one platform at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub id: String,
    /// The post published (none for a reply).
    pub post_id: Option<String>,
    pub series_id: Option<String>,
    /// A reply to a citizen instead of a post.
    pub reply: Option<ReplyTarget>,
    pub platform: Platform,
    pub account: Account,
    /// The slot of the schedule it fills (kept when it is moved).
    pub slot: DateTime<Utc>,
    /// The `n`-th publication of the series on this platform (rotates wordings).
    pub ordinal: u32,
    pub due_at: DateTime<Utc>,
    /// Moved by an officer: a series edit leaves it alone.
    pub moved: bool,
    pub state: OccurrenceState,
    /// Until when a claim holds (state `publishing`).
    pub lease_until: Option<DateTime<Utc>>,
    /// When the current attempt was claimed.
    pub claimed_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    /// The exact text sent in the current attempt (what reconciliation looks for).
    pub sent_text: Option<String>,
    /// Instagram: the media container of the current attempt.
    pub container_id: Option<String>,
    pub platform_post_id: Option<String>,
    pub permalink: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// Published as a native repost of this post (X refused the same text again).
    pub reposted: Option<String>,
    /// Why it failed, waits or could not be confirmed, in words.
    pub note: Option<String>,
    pub engagement: Option<Engagement>,
    /// An unknown outcome nobody can read back waits for a person to confirm it.
    #[serde(default)]
    pub awaiting_person: bool,
    pub updated_at: DateTime<Utc>,
    pub revision: u32,
}

impl Occurrence {
    /// When the publisher should next look at it (the due index): its time when scheduled,
    /// the end of its lease when publishing, its next check when unconfirmed.
    pub fn next_look(&self) -> Option<DateTime<Utc>> {
        match self.state {
            OccurrenceState::Scheduled => Some(self.due_at),
            OccurrenceState::Unconfirmed => (!self.awaiting_person).then_some(self.due_at),
            OccurrenceState::Publishing => self.lease_until,
            _ => None,
        }
    }

    /// The WIB day it belongs to in the calendar.
    pub fn day(&self) -> NaiveDate {
        crate::time::wib_date(self.due_at)
    }
}

#[cfg(test)]
mod tests {
    use super::OccurrenceState::*;
    use super::*;

    #[test]
    fn publishing_goes_back_only_through_reconciliation_or_a_definite_refusal() {
        assert!(Scheduled.allowed_next().contains(&Publishing));
        assert!(Published.allowed_next().is_empty());
        assert!(Cancelled.allowed_next().is_empty());
        assert!(Unconfirmed.allowed_next().contains(&Published));
        assert!(!Held.allowed_next().contains(&Publishing), "an unapproved post is never claimed");
    }

    #[test]
    fn repeats_rotate_wordings_where_there_are_some() {
        let mut post = Post {
            id: "p".into(),
            title: "t".into(),
            text: "dasar".into(),
            variants: BTreeMap::new(),
            media: vec![],
            link: None,
            hashtags: vec![],
            topic: None,
            account: Account::Resmi,
            platforms: vec![Platform::X],
            link_instagram: false,
            status: PostStatus::Approved,
            approval: None,
            created_by: "o".into(),
            created_at: Utc::now(),
            updated_by: "o".into(),
            updated_at: Utc::now(),
            revision: 0,
        };
        assert_eq!(post.text_for(Platform::X, 3), "dasar");
        post.variants.insert(
            Platform::X,
            Variant { text: Some("satu".into()), alternatives: vec!["dua".into(), "tiga".into()] },
        );
        let texts: Vec<&str> = (0..4).map(|n| post.text_for(Platform::X, n)).collect();
        assert_eq!(texts, ["satu", "dua", "tiga", "satu"]);
        assert_eq!(post.text_for(Platform::Facebook, 1), "dasar");
    }
}
