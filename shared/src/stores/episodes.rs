//! Spike episodes: kind `spike`, id = `{metric}:{series}`. Swapped conditionally with the alert
//! that starts or ends them, so each episode alerts once; an ended episode expires after 90
//! days.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{all, encode, get};
use crate::domain::Event;
use crate::error::StoreError;
use crate::ports::DocumentStore;

const KIND: &str = "spike";
/// How long an ended episode is remembered.
const ENDED_DAYS: i64 = 90;

/// An episode of one series: active from its first alert until it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    pub active: bool,
    pub since: DateTime<Utc>,
    pub peak: f64,
    pub threshold: f64,
}

/// Spike episodes by series.
#[async_trait]
pub trait SpikeEpisodes: Send + Sync {
    async fn episode(&self, id: &str) -> Result<Option<Episode>, StoreError>;
    /// The episodes still active, with their ids (a handful: one per spiking series).
    async fn active_episodes(&self) -> Result<Vec<(String, Episode)>, StoreError>;
    /// Writes `next` with `events` only if the episode is still `current` (else `Conflict`).
    async fn swap_episode(
        &self,
        id: &str,
        current: Option<&Episode>,
        next: &Episode,
        events: &[Event],
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> SpikeEpisodes for T {
    async fn episode(&self, id: &str) -> Result<Option<Episode>, StoreError> {
        get(self, KIND, id).await
    }

    async fn active_episodes(&self) -> Result<Vec<(String, Episode)>, StoreError> {
        let mut episodes: Vec<(String, Episode)> = all(self, KIND, "").await?;
        episodes.retain(|(_, e)| e.active);
        Ok(episodes)
    }

    async fn swap_episode(
        &self,
        id: &str,
        current: Option<&Episode>,
        next: &Episode,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let expected = current.map(|c| encode(KIND, id, c)).transpose()?;
        let expires = (!next.active).then(|| next.since + Duration::days(ENDED_DAYS));
        self.swap_doc(KIND, id, expected.as_ref(), &encode(KIND, id, next)?, expires, events).await
    }
}
