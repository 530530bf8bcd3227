//! The health of each publishing account (a platform and the office's official or reactive
//! account): kind `channel`, id `{platform}:{account}`. An account whose credentials a platform
//! refused is unhealthy, alerted once, and its posts wait until a later attempt succeeds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{encode, get};
use crate::domain::{Account, Event, Platform};
use crate::error::StoreError;
use crate::ports::DocumentStore;

const KIND: &str = "channel";

/// One account's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub healthy: bool,
    /// Why it is unhealthy.
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
}

fn id(platform: Platform, account: Account) -> String {
    format!("{platform}:{account}")
}

/// Publishing accounts' health.
#[async_trait]
pub trait ChannelHealth: Send + Sync {
    async fn channel(&self, platform: Platform, account: Account) -> Result<Option<Channel>, StoreError>;
    /// Marks the account unhealthy with `events` (its alert), unless it already is; returns
    /// whether this call did.
    async fn mark_unhealthy(
        &self,
        platform: Platform,
        account: Account,
        reason: &str,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool, StoreError>;
    /// Marks the account healthy again (a publication went through).
    async fn mark_healthy(&self, platform: Platform, account: Account, now: DateTime<Utc>) -> Result<(), StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> ChannelHealth for T {
    async fn channel(&self, platform: Platform, account: Account) -> Result<Option<Channel>, StoreError> {
        get(self, KIND, &id(platform, account)).await
    }

    async fn mark_unhealthy(
        &self,
        platform: Platform,
        account: Account,
        reason: &str,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool, StoreError> {
        let id = id(platform, account);
        let current: Option<Channel> = get(self, KIND, &id).await?;
        if current.as_ref().is_some_and(|c| !c.healthy) {
            return Ok(false);
        }
        let expected = current.as_ref().map(|c| encode(KIND, &id, c)).transpose()?;
        let next = Channel { healthy: false, reason: Some(reason.to_string()), since: now };
        match self.swap_doc(KIND, &id, expected.as_ref(), &encode(KIND, &id, &next)?, None, events).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn mark_healthy(&self, platform: Platform, account: Account, now: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id(platform, account);
        let current: Option<Channel> = get(self, KIND, &id).await?;
        if current.as_ref().is_none_or(|c| c.healthy) {
            return Ok(());
        }
        let next = Channel { healthy: true, reason: None, since: now };
        self.put_doc(KIND, &id, &encode(KIND, &id, &next)?, None).await
    }
}
