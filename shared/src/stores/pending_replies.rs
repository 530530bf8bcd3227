//! The office's replies seen before the case they answer was opened: kind `pending_replies`, id
//! `{mention key}#{reply id}`, one row per reply (no reply is lost to a concurrent write). The
//! case takes them when it opens; a reply to a message that never opens one expires after 14
//! days.

use async_trait::async_trait;
use chrono::Duration;

use super::{all, encode};
use crate::domain::CaseReply;
use crate::error::StoreError;
use crate::ports::DocumentStore;

const KIND: &str = "pending_replies";
/// How long a reply waits for its case.
pub const WAIT_DAYS: i64 = 14;

fn row(mention: &str, reply: &str) -> String {
    format!("{mention}#{reply}")
}

/// Replies waiting for their case.
#[async_trait]
pub trait PendingReplies: Send + Sync {
    /// Keeps a reply until the case of `mention` opens.
    async fn hold_reply(&self, mention: &str, reply: &CaseReply) -> Result<(), StoreError>;
    /// The replies waiting for the case of `mention`, oldest first.
    async fn replies_for(&self, mention: &str) -> Result<Vec<CaseReply>, StoreError>;
    /// Removes one reply (given to its case) .
    async fn release_reply(&self, mention: &str, reply_id: &str) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> PendingReplies for T {
    async fn hold_reply(&self, mention: &str, reply: &CaseReply) -> Result<(), StoreError> {
        let id = row(mention, &reply.id);
        self.put_doc(KIND, &id, &encode(KIND, &id, reply)?, Some(reply.at + Duration::days(WAIT_DAYS))).await
    }

    async fn replies_for(&self, mention: &str) -> Result<Vec<CaseReply>, StoreError> {
        let mut replies: Vec<CaseReply> =
            all(self, KIND, &row(mention, "")).await?.into_iter().map(|(_, r)| r).collect();
        replies.sort_by_key(|r| r.at);
        Ok(replies)
    }

    async fn release_reply(&self, mention: &str, reply_id: &str) -> Result<(), StoreError> {
        self.delete_doc(KIND, &row(mention, reply_id)).await
    }
}
