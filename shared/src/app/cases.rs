//! Cases and the office's replies, as one flow: classification (and a correction) opens the
//! case a mention calls for, once; a reply of the office — seen on the platform, or logged by
//! an officer — is recorded on its case, or held until the case opens.

use chrono::{DateTime, Utc};

use crate::domain::{Case, CaseReply, Mention, MentionKey, ReplySource};
use crate::error::StoreError;
use crate::ports::{CaseStore, Inserted};
use crate::stores::{PendingReplies, Settings};

/// Attempts when a case changes between read and write.
const ATTEMPTS: usize = 3;

/// What the case flow needs.
#[derive(Clone, Copy)]
pub struct CaseDesk<'a> {
    pub cases: &'a dyn CaseStore,
    /// The SLA policy and calendar the clocks run on.
    pub settings: &'a dyn Settings,
    pub pending: &'a dyn PendingReplies,
}

/// What became of a reply.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyOutcome {
    /// Recorded on its case (the case as stored now).
    Recorded(Case),
    /// The case had it already (a redelivery, a retried request).
    AlreadyRecorded(Case),
    /// No case yet: held until the case opens (replies seen on the platform only).
    Held,
    /// The case is closed; a logged reply is not recorded on it.
    Closed(Case),
    /// No case, and none to wait for (a logged reply needs its case).
    NoCase,
}

impl CaseDesk<'_> {
    /// Opens the case a classified mention calls for, once: the case id is the mention key, so
    /// a repeated call (a redelivered event, a second correction) finds it and changes
    /// nothing. Replies seen before it opened are given to it. Returns the case when this call
    /// opened it.
    pub async fn open_for(&self, mention: &Mention, now: DateTime<Utc>) -> Result<Option<Case>, StoreError> {
        if !crate::domain::opens_case(mention) || mention.deleted_at.is_some() {
            return Ok(None);
        }
        let (policy, calendar) = self.settings.sla().await?;
        let Some(mut case) = Case::open(mention, &policy, &calendar, now) else { return Ok(None) };
        let id = case.id.clone();
        let pending = self.pending.replies_for(&id).await?;
        for reply in &pending {
            case = case.replied(reply.clone(), &policy, &calendar);
        }
        for warning in &case.sla.warnings {
            tracing::warn!(case = %case.id, warning, "SLA clock runs past the holiday calendar");
        }
        match self.cases.create_case(&case, &[]).await? {
            Inserted::New => {
                for reply in &pending {
                    self.pending.release_reply(&id, &reply.id).await?;
                }
                tracing::info!(case = %case.id, category = %case.category, due = %case.due_at, "case opened");
                // A reply may have been held while the case was being created.
                for reply in self.pending.replies_for(&id).await? {
                    self.record_reply(&mention.key, reply).await?;
                }
                Ok(Some(case))
            }
            Inserted::Duplicate => Ok(None),
        }
    }

    /// Records a reply of the office to the mention `parent` on its case. The reply id is the
    /// platform's (or derived from the request), so a redelivered reply is recorded once. A
    /// reply seen on the platform before its case opened is held for it; a logged reply needs
    /// an open case.
    pub async fn record_reply(&self, parent: &MentionKey, reply: CaseReply) -> Result<ReplyOutcome, StoreError> {
        let id = parent.to_string();
        let seen_on_platform = reply.source == ReplySource::Platform;
        for _ in 0..ATTEMPTS {
            let Some(case) = self.cases.get_case(&id).await? else {
                if !seen_on_platform {
                    return Ok(ReplyOutcome::NoCase);
                }
                // No case yet (classification has not run, or the message opens none): the
                // reply waits until the case opens, or expires.
                self.pending.hold_reply(&id, &reply).await?;
                // The case may have opened meanwhile, before seeing this reply: give it to it.
                if self.cases.get_case(&id).await?.is_some() {
                    continue;
                }
                return Ok(ReplyOutcome::Held);
            };
            if case.replies.iter().any(|r| r.id == reply.id) {
                self.pending.release_reply(&id, &reply.id).await?;
                return Ok(ReplyOutcome::AlreadyRecorded(case));
            }
            if !seen_on_platform && !case.status.is_open() {
                return Ok(ReplyOutcome::Closed(case));
            }
            let (policy, calendar) = self.settings.sla().await?;
            let next = case.replied(reply.clone(), &policy, &calendar);
            match self.cases.update_case(&next, case.revision, &[]).await {
                Err(StoreError::Conflict { .. }) => continue,
                Err(other) => return Err(other),
                Ok(()) => {
                    self.pending.release_reply(&id, &reply.id).await?;
                    return Ok(ReplyOutcome::Recorded(next));
                }
            }
        }
        Err(StoreError::conflict("RecordReply", "cases", &id, "the case kept changing"))
    }

    /// Drops the replies held for the case of `mention` (a data-subject erasure).
    pub async fn drop_held_replies(&self, mention: &str) -> Result<(), StoreError> {
        for reply in self.pending.replies_for(mention).await? {
            self.pending.release_reply(mention, &reply.id).await?;
        }
        Ok(())
    }
}
