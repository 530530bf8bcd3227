//! Opening cases and recording the office's responses, shared by `classify`, the API and
//! ingestion (the office's own replies seen on a platform).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Case, CaseReply, Category, Correction, Mention, MentionKey, ReplySource, Sentiment};
use crate::error::StoreError;
use crate::ports::{CaseStore, ConfigStore, Inserted};

/// Config kind of officers' corrections kept as training feedback (id: the mention key).
pub const FEEDBACK_KIND: &str = "feedback";
/// Config kind of the office's replies seen before the case they answer was opened (id: the
/// mention key); the case takes them when it opens.
pub const PENDING_REPLIES_KIND: &str = "pending_replies";

/// One corrected message, as `pantau train --feedback` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub key: String,
    pub text: String,
    pub category: Category,
    pub sentiment: Sentiment,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Feedback {
    pub fn of(mention: &Mention, correction: &Correction) -> Feedback {
        Feedback {
            key: mention.key.to_string(),
            text: mention.text.clone(),
            category: correction.category,
            sentiment: correction.sentiment,
            by: correction.by.clone(),
            at: correction.at,
        }
    }
}

/// Opens the case a classified mention calls for, once: the case id is the mention key, so a
/// repeated call (a redelivered event, a second correction) finds it and changes nothing.
/// Returns the case when this call opened it.
pub async fn open_case(
    cases: &dyn CaseStore,
    config: &dyn ConfigStore,
    mention: &Mention,
    now: DateTime<Utc>,
) -> Result<Option<Case>, StoreError> {
    if !crate::domain::opens_case(mention) || mention.deleted_at.is_some() {
        return Ok(None);
    }
    let (policy, calendar) = crate::sla::load(config).await?;
    let Some(mut case) = Case::open(mention, &policy, &calendar, now) else { return Ok(None) };
    // The office may have answered on the platform before classification opened the case.
    let pending = pending_replies(config, &case.id).await?;
    for reply in &pending {
        case = case.replied(reply.clone(), &policy, &calendar);
    }
    case.revision = 0;
    for warning in &case.sla.warnings {
        tracing::warn!(case = %case.id, warning, "SLA clock runs past the holiday calendar");
    }
    match cases.create_case(&case, &[]).await? {
        Inserted::New => {
            if !pending.is_empty() {
                config.delete_config(PENDING_REPLIES_KIND, &case.id).await?;
            }
            tracing::info!(case = %case.id, category = %case.category, due = %case.due_at, "case opened");
            Ok(Some(case))
        }
        Inserted::Duplicate => Ok(None),
    }
}

async fn pending_replies(config: &dyn ConfigStore, id: &str) -> Result<Vec<CaseReply>, StoreError> {
    match config.get_config(PENDING_REPLIES_KIND, id).await? {
        None => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v).map_err(|e| StoreError::corrupt("config", id, e)),
    }
}

/// Attempts when a case changes between read and write.
const ATTEMPTS: usize = 3;

/// Records a reply of the office seen on a platform (its own account answering the mention
/// `parent`), on its case, or until the case opens. The reply id is the platform's, so a
/// redelivered reply is recorded once.
pub async fn record_platform_reply(
    cases: &dyn CaseStore,
    config: &dyn ConfigStore,
    parent: &MentionKey,
    reply: CaseReply,
) -> Result<bool, StoreError> {
    debug_assert_eq!(reply.source, ReplySource::Platform);
    let id = parent.to_string();
    for _ in 0..ATTEMPTS {
        let Some(case) = cases.get_case(&id).await? else {
            // No case yet (classification has not run, or the message opens none): kept until
            // one opens. A reply to a message that never gets a case just waits here.
            let mut pending = pending_replies(config, &id).await?;
            if pending.iter().any(|r| r.id == reply.id) {
                return Ok(false);
            }
            pending.push(reply.clone());
            let value = serde_json::to_value(&pending).map_err(|e| StoreError::corrupt("config", &id, e))?;
            config.put_config(PENDING_REPLIES_KIND, &id, &value).await?;
            // The case may have opened meanwhile, before seeing this reply: give it to it.
            if cases.get_case(&id).await?.is_some() {
                continue;
            }
            return Ok(true);
        };
        if case.replies.iter().any(|r| r.id == reply.id) {
            return Ok(false);
        }
        let (policy, calendar) = crate::sla::load(config).await?;
        let next = case.replied(reply.clone(), &policy, &calendar);
        match cases.update_case(&next, case.revision, &[]).await {
            Err(StoreError::Conflict { .. }) => continue,
            Err(other) => return Err(other),
            Ok(()) => {
                config.delete_config(PENDING_REPLIES_KIND, &id).await?;
                return Ok(true);
            }
        }
    }
    Err(StoreError::conflict("RecordReply", "cases", &parent.to_string(), "the case kept changing"))
}
