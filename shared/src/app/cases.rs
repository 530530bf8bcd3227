//! Opening cases and recording the office's responses, shared by `classify`, the API and
//! ingestion (the office's own replies seen on a platform).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Case, CaseReply, Category, Correction, Mention, MentionKey, ReplySource, Sentiment};
use crate::error::StoreError;
use crate::ports::{CaseStore, ConfigStore, Inserted};

/// Config kind of officers' corrections kept as training feedback (id: the mention key).
pub const FEEDBACK_KIND: &str = "feedback";
/// Config kind of the office's replies seen before the case they answer was opened (id:
/// `{mention key}#{reply id}`); the case takes them when it opens.
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
/// Replies of the office seen before it opened are given to it. Returns the case when this
/// call opened it.
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
    let pending = pending_replies(config, &case.id).await?;
    for (_, reply) in &pending {
        case = case.replied(reply.clone(), &policy, &calendar);
    }
    for warning in &case.sla.warnings {
        tracing::warn!(case = %case.id, warning, "SLA clock runs past the holiday calendar");
    }
    match cases.create_case(&case, &[]).await? {
        Inserted::New => {
            for (row, _) in &pending {
                config.delete_config(PENDING_REPLIES_KIND, row).await?;
            }
            tracing::info!(case = %case.id, category = %case.category, due = %case.due_at, "case opened");
            // A reply may have been set aside while the case was being created.
            for (_, reply) in pending_replies(config, &case.id).await? {
                record_platform_reply(cases, config, &mention.key, reply).await?;
            }
            Ok(Some(case))
        }
        Inserted::Duplicate => Ok(None),
    }
}

/// Row id of a reply waiting for its case: `{mention key}#{reply id}`.
fn pending_row(mention: &str, reply: &str) -> String {
    format!("{mention}#{reply}")
}

/// Replies waiting for the case of `mention`, with their row ids, oldest first.
async fn pending_replies(config: &dyn ConfigStore, mention: &str) -> Result<Vec<(String, CaseReply)>, StoreError> {
    let prefix = pending_row(mention, "");
    let mut found: Vec<(String, CaseReply)> = crate::ports::list_documents(config, PENDING_REPLIES_KIND).await?;
    found.retain(|(row, _)| row.starts_with(&prefix));
    found.sort_by_key(|(_, r)| r.at);
    Ok(found)
}

/// Drops the replies waiting for the case of `mention` (a data-subject erasure).
pub async fn drop_pending_replies(config: &dyn ConfigStore, mention: &str) -> Result<(), StoreError> {
    for (row, _) in pending_replies(config, mention).await? {
        config.delete_config(PENDING_REPLIES_KIND, &row).await?;
    }
    Ok(())
}

/// How long a reply waits for a case (a reply to a message that never opens one is dropped).
pub const PENDING_REPLY_DAYS: i64 = 14;

/// Drops replies that waited longer than [`PENDING_REPLY_DAYS`]; returns how many.
pub async fn purge_pending_replies(config: &dyn ConfigStore, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut purged = 0;
    for (row, value) in config.list_config(PENDING_REPLIES_KIND).await? {
        let old = serde_json::from_value::<CaseReply>(value)
            .map_or(true, |r| r.at < now - chrono::Duration::days(PENDING_REPLY_DAYS));
        if old {
            config.delete_config(PENDING_REPLIES_KIND, &row).await?;
            purged += 1;
        }
    }
    Ok(purged)
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
    let row = pending_row(&id, &reply.id);
    for _ in 0..ATTEMPTS {
        let Some(case) = cases.get_case(&id).await? else {
            // No case yet (classification has not run, or the message opens none): one row per
            // reply waits until the case opens (or PENDING_REPLY_DAYS pass).
            let value = serde_json::to_value(&reply).map_err(|e| StoreError::corrupt("config", &row, e))?;
            config.put_config(PENDING_REPLIES_KIND, &row, &value).await?;
            // The case may have opened meanwhile, before seeing this reply: give it to it.
            if cases.get_case(&id).await?.is_some() {
                continue;
            }
            return Ok(true);
        };
        if case.replies.iter().any(|r| r.id == reply.id) {
            config.delete_config(PENDING_REPLIES_KIND, &row).await?;
            return Ok(false);
        }
        let (policy, calendar) = crate::sla::load(config).await?;
        let next = case.replied(reply.clone(), &policy, &calendar);
        match cases.update_case(&next, case.revision, &[]).await {
            Err(StoreError::Conflict { .. }) => continue,
            Err(other) => return Err(other),
            Ok(()) => {
                config.delete_config(PENDING_REPLIES_KIND, &row).await?;
                return Ok(true);
            }
        }
    }
    Err(StoreError::conflict("RecordReply", "cases", &parent.to_string(), "the case kept changing"))
}
