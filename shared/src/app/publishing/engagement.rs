//! Engagement of the office's posts of the last two weeks (likes, comments, shares,
//! impressions where given), read from each platform by `ingest-poll`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;

use super::Publishers;
use crate::domain::{Account, Occurrence, OccurrenceState, Platform};
use crate::error::StoreError;
use crate::ports::OccurrenceStore;
use crate::time::Clock;

/// Days after publishing that engagement is still read.
pub const ENGAGEMENT_DAYS: i64 = 14;
/// Posts asked about in one platform call.
const BATCH: usize = 50;

/// What one collection did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EngagementRun {
    pub updated: usize,
    /// Platform failures (the next run tries again).
    pub errors: Vec<String>,
}

/// What collecting engagement needs.
pub struct EngagementCollector {
    pub occurrences: Arc<dyn OccurrenceStore>,
    pub publishers: Publishers,
    pub clock: Arc<dyn Clock>,
}

impl EngagementCollector {
    /// Reads the engagement of recent published posts and keeps it on their occurrences.
    pub async fn collect(&self) -> Result<EngagementRun, StoreError> {
        let now = self.clock.now();
        let mut by_account: BTreeMap<(Platform, Account), Vec<Occurrence>> = BTreeMap::new();
        let mut after = None;
        loop {
            let page = self
                .occurrences
                .occurrences_between(now - Duration::days(ENGAGEMENT_DAYS), now, 500, after.as_ref())
                .await?;
            for o in page.items {
                if o.state == OccurrenceState::Published && o.reply.is_none() && o.platform_post_id.is_some() {
                    by_account.entry((o.platform, o.account)).or_default().push(o);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut run = EngagementRun::default();
        for ((platform, account), occurrences) in by_account {
            let Some(publisher) = self.publishers.get(platform, account) else { continue };
            for chunk in occurrences.chunks(BATCH) {
                let ids: Vec<String> = chunk.iter().filter_map(|o| o.platform_post_id.clone()).collect();
                let read = match publisher.engagement(&ids).await {
                    Ok(read) => read,
                    Err(e) => {
                        run.errors.push(format!("{platform}: {e}"));
                        break;
                    }
                };
                for (id, mut engagement) in read {
                    let Some(o) = chunk.iter().find(|o| o.platform_post_id.as_deref() == Some(id.as_str())) else {
                        continue;
                    };
                    engagement.at = Some(now);
                    let mut next = o.clone();
                    next.engagement = Some(engagement);
                    next.revision += 1;
                    match self.occurrences.update_occurrence(&next, o.revision, &[]).await {
                        Ok(()) => run.updated += 1,
                        Err(StoreError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(run)
    }
}
