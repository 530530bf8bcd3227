//! Officers' corrections kept as training data: kind `feedback`, id = the mention key.

use async_trait::async_trait;

use super::{encode, get, page};
use crate::domain::Feedback;
use crate::error::StoreError;
use crate::ports::{DocumentStore, Page, Position};

const KIND: &str = "feedback";

/// Corrections by mention.
#[async_trait]
pub trait FeedbackStore: Send + Sync {
    /// Keeps the latest correction of a mention (replacing an earlier one).
    async fn save_feedback(&self, feedback: &Feedback) -> Result<(), StoreError>;
    async fn feedback(&self, key: &str) -> Result<Option<Feedback>, StoreError>;
    /// Corrections by mention key, a page at a time.
    async fn feedback_page(&self, limit: usize, after: Option<&Position>) -> Result<Page<Feedback>, StoreError>;
    async fn delete_feedback(&self, key: &str) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> FeedbackStore for T {
    async fn save_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        self.put_doc(KIND, &feedback.key, &encode(KIND, &feedback.key, feedback)?, None).await
    }

    async fn feedback(&self, key: &str) -> Result<Option<Feedback>, StoreError> {
        get(self, KIND, key).await
    }

    async fn feedback_page(&self, limit: usize, after: Option<&Position>) -> Result<Page<Feedback>, StoreError> {
        let p = page(self, KIND, "", limit, after).await?;
        Ok(Page { items: p.items.into_iter().map(|(_, f)| f).collect(), next: p.next })
    }

    async fn delete_feedback(&self, key: &str) -> Result<(), StoreError> {
        self.delete_doc(KIND, key).await
    }
}
