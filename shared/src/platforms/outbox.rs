//! The local outbox: what `pantau` publishes where a platform has no credentials configured,
//! one JSON file per publication under `{data}/outbox/{platform}/`. It keeps X's rule against
//! identical text, so a series that repeats itself is handled as on X.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::Digest;

use super::publishing::comparable;
use crate::domain::{Engagement, Platform};
use crate::ports::{Publication, PublishError, Published, Publisher};
use crate::time::Clock;

/// How long X remembers a text as a duplicate (not documented; about half a day).
const DUPLICATE_WINDOW_HOURS: i64 = 12;

/// One platform's folder.
pub struct OutboxPublisher {
    pub platform: Platform,
    pub dir: PathBuf,
    pub clock: Arc<dyn Clock>,
}

impl OutboxPublisher {
    fn folder(&self) -> PathBuf {
        self.dir.join("outbox").join(self.platform.as_str())
    }

    fn sent(&self) -> Vec<serde_json::Value> {
        let Ok(entries) = std::fs::read_dir(self.folder()) else { return vec![] };
        entries
            .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect()
    }

    /// Writes one record and answers with its id and file.
    fn write(&self, record: serde_json::Value) -> Result<Published, PublishError> {
        let now = self.clock.now();
        let digest =
            sha2::Sha256::digest(format!("{}{}{record}", self.platform, now.timestamp_nanos_opt().unwrap_or(0)));
        let id = hex::encode(&digest[..8]);
        let mut record = record;
        record["id"] = json!(id);
        record["platform"] = json!(self.platform);
        record["at"] = json!(crate::time::sortable(now));
        std::fs::create_dir_all(self.folder()).map_err(Self::err)?;
        let path = self.folder().join(format!("{id}.json"));
        let bytes = serde_json::to_vec_pretty(&record).map_err(|e| PublishError::Unavailable(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(Self::err)?;
        Ok(Published { permalink: Some(format!("file://{}", path.display())), id })
    }

    fn err(e: std::io::Error) -> PublishError {
        PublishError::Unavailable(format!("the local outbox folder: {e}"))
    }
}

#[async_trait]
impl Publisher for OutboxPublisher {
    fn platform(&self) -> Platform {
        self.platform
    }

    fn can_reconcile(&self) -> bool {
        true
    }

    async fn prepare(&self, _: &Publication) -> Result<Option<String>, PublishError> {
        Ok(None)
    }

    async fn publish(&self, p: &Publication, _: Option<&str>) -> Result<Published, PublishError> {
        let now = self.clock.now();
        if self.platform == Platform::X && p.reply_to.is_none() {
            let wanted = comparable(&p.text);
            let recent = self.sent().into_iter().any(|s| {
                s["reply_to"].is_null()
                    && comparable(s["text"].as_str().unwrap_or("")) == wanted
                    && s["at"]
                        .as_str()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .is_some_and(|t| now - t.with_timezone(&Utc) < Duration::hours(DUPLICATE_WINDOW_HOURS))
            });
            if recent {
                return Err(PublishError::Refused {
                    reason:
                        "X refuses identical text (403: You are not allowed to create a Tweet with duplicate content.)"
                            .into(),
                    duplicate: true,
                });
            }
        }
        self.write(json!({ "text": p.text, "media": p.media, "reply_to": p.reply_to, "to": p.to }))
    }

    async fn find_recent(
        &self,
        p: &Publication,
        _: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Option<Published>, PublishError> {
        let wanted = comparable(&p.text);
        Ok(self.sent().into_iter().find_map(|s| {
            let at = s["at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok())?;
            (comparable(s["text"].as_str()?) == wanted && at.with_timezone(&Utc) >= since).then(|| {
                let id = s["id"].as_str().unwrap_or_default().to_string();
                let permalink = Some(format!("file://{}", self.folder().join(format!("{id}.json")).display()));
                Published { id, permalink }
            })
        }))
    }

    async fn repost(&self, id: &str) -> Result<Published, PublishError> {
        self.write(json!({ "repost_of": id }))
    }

    async fn engagement(&self, _: &[String]) -> Result<Vec<(String, Engagement)>, PublishError> {
        Ok(vec![])
    }

    async fn token_expiry(&self) -> Result<Option<DateTime<Utc>>, PublishError> {
        Ok(None)
    }
}
