//! OAuth tokens that rotate (X's user tokens live two hours; each refresh returns a new refresh
//! token and retires the old one): kind `oauth`, id `{platform}:{account}`. Every function that
//! publishes may refresh, so the current pair is replaced only from the pair it read (a swap):
//! the loser of a race uses the winner's pair instead of a refresh token already spent. The
//! table is encrypted with the stack's key; the tokens never reach a log (`Debug` hides them).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::encode;
use crate::error::StoreError;
use crate::ports::DocumentStore;

const KIND: &str = "oauth";

/// An access token and the refresh token that replaces it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    /// A digest of the refresh token the chain started from (the configured one): a new one
    /// configured (the account authorised again) starts a new chain.
    #[serde(default)]
    pub seed_digest: String,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// The pair as stored, to replace it only from what was read.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPair {
    pub pair: TokenPair,
    raw: Value,
}

/// Rotating token pairs by account.
#[async_trait]
pub trait OAuthTokens: Send + Sync {
    async fn token_pair(&self, id: &str) -> Result<Option<StoredPair>, StoreError>;
    /// Stores `next` if the stored pair is still `read` (none: nothing stored yet); returns
    /// whether it did.
    async fn replace_pair(&self, id: &str, read: Option<&StoredPair>, next: &TokenPair) -> Result<bool, StoreError>;
}

#[async_trait]
impl<T: DocumentStore + ?Sized> OAuthTokens for T {
    async fn token_pair(&self, id: &str) -> Result<Option<StoredPair>, StoreError> {
        let Some(raw) = self.get_doc(KIND, id).await? else { return Ok(None) };
        let pair = serde_json::from_value(raw.clone()).map_err(|e| StoreError::corrupt(super::TABLE, id, e))?;
        Ok(Some(StoredPair { pair, raw }))
    }

    async fn replace_pair(&self, id: &str, read: Option<&StoredPair>, next: &TokenPair) -> Result<bool, StoreError> {
        let value = encode(KIND, id, next)?;
        match self.swap_doc(KIND, id, read.map(|r| &r.raw), &value, None, &[]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
