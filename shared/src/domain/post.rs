//! The office's own content: posts with per-platform variants, series that repeat them, and
//! occurrences — one publication of one variant at one time, published at most once.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::labels::{Platform, vocabulary};

/// The text and media of a post on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub text: String,
    #[serde(default)]
    pub media: Vec<String>,
}

/// A piece of content the office publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub title: String,
    pub variants: BTreeMap<Platform, Variant>,
    pub created_at: DateTime<Utc>,
}

/// How a post repeats: at given WIB times, every N days, until a count or a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub id: String,
    pub post_id: String,
    pub times_wib: Vec<NaiveTime>,
    pub every_days: u32,
    pub max_occurrences: Option<u32>,
    pub until: Option<NaiveDate>,
}

vocabulary! {
    /// Where an occurrence is in its life.
    OccurrenceState, "occurrence state" {
        Draft => "draft",
        Approved => "approved",
        Scheduled => "scheduled",
        Publishing => "publishing",
        Published => "published",
        Failed => "failed",
        Cancelled => "cancelled",
    }
}

impl OccurrenceState {
    /// States reachable from this one. `publishing` never goes back to `scheduled`: a crash
    /// between the platform call and the record must not lead to a second post.
    pub fn allowed_next(self) -> &'static [OccurrenceState] {
        use OccurrenceState::*;
        match self {
            Draft => &[Approved, Cancelled],
            Approved => &[Scheduled, Cancelled],
            Scheduled => &[Publishing, Cancelled],
            Publishing => &[Published, Failed],
            Failed => &[Scheduled, Cancelled],
            Published | Cancelled => &[],
        }
    }
}

/// One publication of a post on one platform at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub id: String,
    pub post_id: String,
    pub platform: Platform,
    pub due_at: DateTime<Utc>,
    pub state: OccurrenceState,
    pub platform_post_id: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::OccurrenceState::*;

    #[test]
    fn publishing_can_never_be_rescheduled() {
        assert!(!Publishing.allowed_next().contains(&Scheduled));
        assert!(Scheduled.allowed_next().contains(&Publishing));
        assert!(Published.allowed_next().is_empty());
    }
}
