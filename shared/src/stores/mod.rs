//! Named stores: one small port per kind of record the config table keeps, each under its own
//! key prefix (`kind`), paged where it can grow and expiring where it should. Each is
//! implemented once, over the [`DocumentStore`] both adapters provide, so SQLite and DynamoDB
//! keep every kind alike; the contract suite checks each on both.

pub mod accounts;
pub mod alerts;
pub mod answers;
pub mod budgets;
pub mod channels;
pub mod cursors;
pub mod episodes;
pub mod feedback;
pub mod held;
pub mod lookups;
pub mod markers;
pub mod oauth;
pub mod pending_replies;
pub mod settings;

pub use accounts::{KnownAccounts, KnownAccountsCache};
pub use alerts::AlertLog;
pub use answers::AnswerLibrary;
pub use budgets::Budgets;
pub use channels::{Channel, ChannelHealth};
pub use cursors::{PollCursor, PollCursors};
pub use episodes::{Episode, SpikeEpisodes};
pub use feedback::FeedbackStore;
pub use held::Held;
pub use lookups::{LookupQueue, QueuedLookup};
pub use markers::{Marker, Markers};
pub use oauth::{OAuthTokens, StoredPair, TokenPair};
pub use pending_replies::PendingReplies;
pub use settings::Settings;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::StoreError;
use crate::ports::{DocumentStore, Page, Position};

/// The table the documents live in, as errors name it.
const TABLE: &str = "config";

fn encode<T: Serialize>(kind: &str, id: &str, value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::corrupt(TABLE, &format!("{kind}/{id}"), e))
}

fn decode<T: DeserializeOwned>(kind: &str, id: &str, value: Value) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::corrupt(TABLE, &format!("{kind}/{id}"), e))
}

/// One document, typed.
async fn get<T: DeserializeOwned>(
    docs: &(impl DocumentStore + ?Sized),
    kind: &str,
    id: &str,
) -> Result<Option<T>, StoreError> {
    docs.get_doc(kind, id).await?.map(|v| decode(kind, id, v)).transpose()
}

/// A page of documents, typed. A document that does not read is logged and skipped, so one bad
/// document does not hide the rest.
async fn page<T: DeserializeOwned>(
    docs: &(impl DocumentStore + ?Sized),
    kind: &str,
    prefix: &str,
    limit: usize,
    after: Option<&Position>,
) -> Result<Page<(String, T)>, StoreError> {
    let page = docs.list_docs(kind, prefix, limit, after).await?;
    let items = page
        .items
        .into_iter()
        .filter_map(|d| match decode(kind, &d.id, d.value) {
            Ok(value) => Some((d.id, value)),
            Err(e) => {
                tracing::error!(kind, id = %d.id, error = %e, "stored document unreadable; skipped");
                None
            }
        })
        .collect();
    Ok(Page { items, next: page.next })
}

/// Every document of a kind (with a prefix), typed: for kinds bounded by design.
async fn all<T: DeserializeOwned>(
    docs: &(impl DocumentStore + ?Sized),
    kind: &str,
    prefix: &str,
) -> Result<Vec<(String, T)>, StoreError> {
    const PAGE: usize = 200;
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let p = page(docs, kind, prefix, PAGE, after.as_ref()).await?;
        found.extend(p.items);
        match p.next {
            Some(next) => after = Some(next),
            None => return Ok(found),
        }
    }
}
