//! Known accounts the office keeps: kind `known_account`, id `{platform}:{author_id}`. Paged by
//! id (a platform's accounts are a prefix); bounded (at most [`MAX_KNOWN_ACCOUNTS`]) so that
//! classification can hold the whole registry per process ([`KnownAccountsCache`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Held, all, encode, get, page};
use crate::domain::known_account::{account_id, valid_author_id};
use crate::domain::{Author, KnownAccount, Platform};
use crate::error::StoreError;
use crate::ports::{DocumentStore, Page, Position};

const KIND: &str = "known_account";
/// Known accounts at most (the office keeps hundreds).
pub const MAX_KNOWN_ACCOUNTS: usize = 5000;
/// How long classification uses the registry it read before reading it again.
pub const REFRESH: Duration = Duration::from_secs(60);

/// The office's registry of known accounts.
#[async_trait]
pub trait KnownAccounts: Send + Sync {
    async fn known_account(&self, platform: Platform, author_id: &str) -> Result<Option<KnownAccount>, StoreError>;
    /// Accounts by id (platform, then author id), a page at a time; only `platform`'s when given.
    async fn known_accounts_page(
        &self,
        platform: Option<Platform>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<KnownAccount>, StoreError>;
    /// The whole registry.
    async fn all_known_accounts(&self) -> Result<Vec<KnownAccount>, StoreError>;
    /// Adds an account only if none is stored under its id (else `Conflict`).
    async fn add_known_account(&self, account: &KnownAccount) -> Result<(), StoreError>;
    /// Replaces `current` with `next` only if it is still stored as read (else `Conflict`).
    async fn replace_known_account(&self, current: &KnownAccount, next: &KnownAccount) -> Result<(), StoreError>;
    async fn delete_known_account(&self, platform: Platform, author_id: &str) -> Result<(), StoreError>;
}

fn prefix(platform: Option<Platform>) -> String {
    platform.map(|p| account_id(p, "")).unwrap_or_default()
}

#[async_trait]
impl<T: DocumentStore + ?Sized> KnownAccounts for T {
    async fn known_account(&self, platform: Platform, author_id: &str) -> Result<Option<KnownAccount>, StoreError> {
        if !valid_author_id(author_id) {
            return Ok(None);
        }
        get(self, KIND, &account_id(platform, author_id)).await
    }

    async fn known_accounts_page(
        &self,
        platform: Option<Platform>,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<Page<KnownAccount>, StoreError> {
        let p = page(self, KIND, &prefix(platform), limit, after).await?;
        Ok(Page { items: p.items.into_iter().map(|(_, a)| a).collect(), next: p.next })
    }

    async fn all_known_accounts(&self) -> Result<Vec<KnownAccount>, StoreError> {
        Ok(all(self, KIND, "").await?.into_iter().map(|(_, a)| a).collect())
    }

    async fn add_known_account(&self, account: &KnownAccount) -> Result<(), StoreError> {
        let id = account.id();
        self.swap_doc(KIND, &id, None, &encode(KIND, &id, account)?, None, &[]).await
    }

    async fn replace_known_account(&self, current: &KnownAccount, next: &KnownAccount) -> Result<(), StoreError> {
        let id = next.id();
        if current.id() != id {
            return Err(StoreError::Invalid(format!("known account {} cannot become {id}", current.id())));
        }
        let (old, new) = (encode(KIND, &id, current)?, encode(KIND, &id, next)?);
        self.swap_doc(KIND, &id, Some(&old), &new, None, &[]).await
    }

    async fn delete_known_account(&self, platform: Platform, author_id: &str) -> Result<(), StoreError> {
        self.delete_doc(KIND, &account_id(platform, author_id)).await
    }
}

/// The registry as classification reads it: the whole of it (one paged read of a few hundred
/// documents), held by the process and read again when older than `max_age`, so classifying a
/// mention costs no store read of its own and an edit counts within `max_age`.
pub struct KnownAccountsCache {
    store: Arc<dyn KnownAccounts>,
    /// Known accounts by id (`{platform}:{author_id}`).
    held: Held<HashMap<String, KnownAccount>>,
}

impl KnownAccountsCache {
    pub fn new(store: Arc<dyn KnownAccounts>, max_age: Duration) -> Self {
        KnownAccountsCache { store, held: Held::new("the known accounts", max_age) }
    }

    /// The known account a mention's author is, if the office registered it. An author
    /// without a platform id is never one.
    pub async fn find(&self, platform: Platform, author: &Author) -> Result<Option<KnownAccount>, StoreError> {
        let Some(author_id) = author.id.as_deref() else { return Ok(None) };
        let registry = self
            .held
            .get(|_| async {
                Ok(Arc::new(self.store.all_known_accounts().await?.into_iter().map(|a| (a.id(), a)).collect()))
            })
            .await?;
        Ok(registry.get(&account_id(platform, author_id)).cloned())
    }
}
