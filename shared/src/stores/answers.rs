//! The answer library: kind `answers`, id = the answer id. Bounded by design (at most
//! [`MAX_ANSWERS`]), read whole to suggest answers.

use async_trait::async_trait;

use super::{all, encode, get};
use crate::domain::Answer;
use crate::error::StoreError;
use crate::ports::DocumentStore;

const KIND: &str = "answers";
/// Answers in the library at most.
pub const MAX_ANSWERS: usize = 1000;
/// Longest answer id (ours are 32 hex digits); longer ones cannot exist.
const MAX_ID: usize = 64;

/// Prepared answers.
#[async_trait]
pub trait AnswerLibrary: Send + Sync {
    /// Every answer, sorted by title.
    async fn answers(&self) -> Result<Vec<Answer>, StoreError>;
    async fn answer(&self, id: &str) -> Result<Option<Answer>, StoreError>;
    /// Adds an answer only if its id is new (else `Conflict`).
    async fn add_answer(&self, answer: &Answer) -> Result<(), StoreError>;
    /// Replaces `current` with `next` only if it is still stored as read (else `Conflict`).
    async fn replace_answer(&self, current: &Answer, next: &Answer) -> Result<(), StoreError>;
    async fn delete_answer(&self, id: &str) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> AnswerLibrary for T {
    async fn answers(&self) -> Result<Vec<Answer>, StoreError> {
        let mut answers: Vec<Answer> = all(self, KIND, "").await?.into_iter().map(|(_, a)| a).collect();
        answers.sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
        Ok(answers)
    }

    async fn answer(&self, id: &str) -> Result<Option<Answer>, StoreError> {
        if id.is_empty() || id.len() > MAX_ID {
            return Ok(None);
        }
        get(self, KIND, id).await
    }

    async fn add_answer(&self, answer: &Answer) -> Result<(), StoreError> {
        let value = encode(KIND, &answer.id, answer)?;
        self.swap_doc(KIND, &answer.id, None, &value, None, &[]).await
    }

    async fn replace_answer(&self, current: &Answer, next: &Answer) -> Result<(), StoreError> {
        let (old, new) = (encode(KIND, &current.id, current)?, encode(KIND, &next.id, next)?);
        self.swap_doc(KIND, &next.id, Some(&old), &new, None, &[]).await
    }

    async fn delete_answer(&self, id: &str) -> Result<(), StoreError> {
        self.delete_doc(KIND, id).await
    }
}
