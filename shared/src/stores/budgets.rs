//! Budgets that bound what outsiders can make Pantau write: kind `budget`, id = the budget and
//! its window (for example `quarantine:x:2026-11-27T10`), a count that expires with the window.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{encode, get};
use crate::error::StoreError;
use crate::ports::DocumentStore;

const KIND: &str = "budget";
/// Attempts when concurrent takers contend for the same budget.
const ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Used {
    n: u32,
}

/// Counted budgets per window.
#[async_trait]
pub trait Budgets: Send + Sync {
    /// Takes one unit of `budget` if fewer than `limit` were taken; the count is forgotten at
    /// `window_end`. Contended beyond retries, it refuses (the safe answer for a budget).
    async fn take(&self, budget: &str, limit: u32, window_end: DateTime<Utc>) -> Result<bool, StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> Budgets for T {
    async fn take(&self, budget: &str, limit: u32, window_end: DateTime<Utc>) -> Result<bool, StoreError> {
        for _ in 0..ATTEMPTS {
            let used: Option<Used> = get(self, KIND, budget).await?;
            let n = used.map_or(0, |u| u.n);
            if n >= limit {
                return Ok(false);
            }
            let expected = used.map(|u| encode(KIND, budget, &u)).transpose()?;
            let next = encode(KIND, budget, &Used { n: n + 1 })?;
            match self.swap_doc(KIND, budget, expected.as_ref(), &next, Some(window_end), &[]).await {
                Ok(()) => return Ok(true),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }
}
