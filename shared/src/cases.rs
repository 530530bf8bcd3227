//! Opening cases and recording the office's responses, shared by `classify`, the API and
//! ingestion (the office's own replies seen on a platform).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Case, CaseReply, Category, Correction, Mention, MentionKey, ReplySource, Sentiment};
use crate::error::StoreError;
use crate::ports::{CaseStore, ConfigStore, Inserted};

/// Config kind of officers' corrections kept as training feedback (id: the mention key).
pub const FEEDBACK_KIND: &str = "feedback";

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
    let Some(case) = Case::open(mention, &policy, &calendar, now) else { return Ok(None) };
    for warning in &case.sla.warnings {
        tracing::warn!(case = %case.id, warning, "SLA clock runs past the holiday calendar");
    }
    match cases.create_case(&case, &[]).await? {
        Inserted::New => {
            tracing::info!(case = %case.id, category = %case.category, due = %case.due_at, "case opened");
            Ok(Some(case))
        }
        Inserted::Duplicate => Ok(None),
    }
}

/// Attempts when a case changes between read and write.
const ATTEMPTS: usize = 3;

/// Records a reply of the office seen on a platform (its own account answering the mention
/// `parent`). The reply id is the platform's, so a redelivered reply is recorded once.
pub async fn record_platform_reply(
    cases: &dyn CaseStore,
    config: &dyn ConfigStore,
    parent: &MentionKey,
    reply: CaseReply,
) -> Result<bool, StoreError> {
    debug_assert_eq!(reply.source, ReplySource::Platform);
    for _ in 0..ATTEMPTS {
        let Some(case) = cases.get_case(&parent.to_string()).await? else { return Ok(false) };
        if case.replies.iter().any(|r| r.id == reply.id) {
            return Ok(false);
        }
        let (policy, calendar) = crate::sla::load(config).await?;
        let next = case.replied(reply.clone(), &policy, &calendar);
        match cases.update_case(&next, case.revision, &[]).await {
            Err(StoreError::Conflict { .. }) => continue,
            Err(other) => return Err(other),
            Ok(()) => return Ok(true),
        }
    }
    Err(StoreError::conflict("RecordReply", "cases", &parent.to_string(), "the case kept changing"))
}
