//! Typed errors of the ports. Each says what failed (table, key, operation) and whether a
//! retry can help, so handlers can answer 5xx (retry) or 4xx (do not) correctly.

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A store operation that did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed; `retryable` tells whether trying again may succeed.
    #[error("{operation} on {table}{} failed: {source}", key_suffix(.key))]
    Backend {
        operation: &'static str,
        table: String,
        key: Option<String>,
        retryable: bool,
        #[source]
        source: BoxError,
    },
    /// A conditional write lost: the item is not in the state the caller expected.
    #[error("{operation} on {table} key {key} refused: {reason}")]
    Conflict { operation: &'static str, table: String, key: String, reason: String },
    /// Stored data that no longer parses as the domain type.
    #[error("stored item in {table} key {key} is unreadable: {reason}")]
    Corrupt { table: String, key: String, reason: String },
    /// The request itself is wrong (a limit exceeded, a bad argument).
    #[error("invalid store request: {0}")]
    Invalid(String),
}

fn key_suffix(key: &Option<String>) -> String {
    key.as_ref().map(|k| format!(" key {k}")).unwrap_or_default()
}

impl StoreError {
    /// Whether the failure belongs to one item (refused, unreadable, contended) rather than to
    /// the store: the item can be set aside while the rest of a batch goes on.
    pub fn is_item_specific(&self) -> bool {
        matches!(self, StoreError::Invalid(_) | StoreError::Corrupt { .. } | StoreError::Conflict { .. })
    }

    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Backend { retryable: true, .. })
    }

    pub(crate) fn backend(
        operation: &'static str,
        table: &str,
        key: Option<&str>,
        retryable: bool,
        source: impl Into<BoxError>,
    ) -> Self {
        StoreError::Backend {
            operation,
            table: table.to_string(),
            key: key.map(str::to_string),
            retryable,
            source: source.into(),
        }
    }

    pub(crate) fn corrupt(table: &str, key: &str, reason: impl std::fmt::Display) -> Self {
        StoreError::Corrupt { table: table.to_string(), key: key.to_string(), reason: reason.to_string() }
    }

    pub(crate) fn conflict(operation: &'static str, table: &str, key: &str, reason: impl Into<String>) -> Self {
        StoreError::Conflict { operation, table: table.to_string(), key: key.to_string(), reason: reason.into() }
    }

    /// A conditional write found the item gone or at another revision than the one read.
    pub(crate) fn stale(operation: &'static str, table: &str, key: &str, expected_revision: u32) -> Self {
        StoreError::conflict(
            operation,
            table,
            key,
            format!("the item is missing or no longer at revision {expected_revision}"),
        )
    }
}

/// Publishing to the bus failed as a whole (per-event failures are reported, not raised).
#[derive(Debug, thiserror::Error)]
#[error("publishing to bus {bus} failed: {source}")]
pub struct BusError {
    pub bus: String,
    #[source]
    pub source: BoxError,
}

/// A blob could not be stored or read.
#[derive(Debug, thiserror::Error)]
#[error("{operation} of blob {key} in {location} failed: {source}")]
pub struct BlobError {
    pub operation: &'static str,
    pub location: String,
    pub key: String,
    #[source]
    pub source: BoxError,
}

/// A notification could not be delivered. The message never carries a channel's credentials
/// (bot tokens, webhook URLs).
#[derive(Debug, thiserror::Error)]
#[error("notifying through {channel} failed: {source}")]
pub struct NotifyError {
    pub channel: String,
    /// Whether the same notification may go through later (rate limits, 5xx, network), as
    /// opposed to a refusal that needs an operator (bad token, unknown chat, unverified sender).
    pub retryable: bool,
    #[source]
    pub source: BoxError,
}

impl NotifyError {
    pub fn new(channel: impl Into<String>, retryable: bool, source: impl Into<BoxError>) -> Self {
        NotifyError { channel: channel.into(), retryable, source: source.into() }
    }

    /// Whether the same notification may go through later.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_operation_table_and_key() {
        let err = StoreError::backend("PutItem", "mentions", Some("x:1"), true, std::io::Error::other("timeout"));
        assert_eq!(err.to_string(), "PutItem on mentions key x:1 failed: timeout");
        assert!(err.is_retryable());
        let err = StoreError::conflict("TransitionCase", "cases", "c1", "status is selesai");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("c1"));
    }
}
