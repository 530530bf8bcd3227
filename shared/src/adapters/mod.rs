//! Adapters behind the ports: SQLite and DynamoDB stores, EventBridge bus, blob stores, notifiers.

pub mod blob;
pub mod dynamodb;
pub mod eventbridge;
pub mod notifier;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod vocabulary;
