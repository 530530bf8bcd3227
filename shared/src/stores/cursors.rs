//! Where each polled source stopped: kind `cursor`, id = the source (`x-mentions`,
//! `youtube:{video}`, a feed URL…).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{encode, get};
use crate::error::StoreError;
use crate::ports::DocumentStore;

const KIND: &str = "cursor";

/// Where a source stopped, and until when it must wait.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollCursor {
    #[serde(default)]
    pub since_id: Option<String>,
    #[serde(default)]
    pub resume_after: Option<DateTime<Utc>>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    /// Newest comment time seen per YouTube video.
    #[serde(default)]
    pub seen_until: BTreeMap<String, DateTime<Utc>>,
    /// X: where an unfinished walk back to `since_id` resumes (more pages than one run reads),
    /// and the newest id that walk started from (becomes `since_id` when it ends).
    #[serde(default)]
    pub backlog_token: Option<String>,
    #[serde(default)]
    pub backlog_newest: Option<String>,
    /// YouTube: per video, the page an unfinished walk resumes at and the newest time it saw.
    #[serde(default)]
    pub youtube_backlog: BTreeMap<String, (String, Option<DateTime<Utc>>)>,
}

/// Poll cursors by source.
#[async_trait]
pub trait PollCursors: Send + Sync {
    /// The source's cursor; a fresh one for a source never polled.
    async fn cursor(&self, source: &str) -> Result<PollCursor, StoreError>;
    async fn save_cursor(&self, source: &str, cursor: &PollCursor) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> PollCursors for T {
    async fn cursor(&self, source: &str) -> Result<PollCursor, StoreError> {
        // An unreadable cursor starts the source afresh rather than stopping it for good.
        Ok(get(self, KIND, source)
            .await
            .unwrap_or_else(|e| {
                tracing::error!(source, error = %e, "poll cursor unreadable; starting afresh");
                None
            })
            .unwrap_or_default())
    }

    async fn save_cursor(&self, source: &str, cursor: &PollCursor) -> Result<(), StoreError> {
        self.put_doc(KIND, source, &encode(KIND, source, cursor)?, None).await
    }
}
