//! The transactional outbox: pending events by the sparse `pending` index.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{DynamoStore, Query, Sql, names, read_doc, s, schema};
use crate::adapters::vocabulary;
use crate::domain::Event;
use crate::ports::Outbox;

#[async_trait]
impl Outbox for DynamoStore {
    async fn pending_events(&self, created_before: DateTime<Utc>, limit: usize) -> Sql<Vec<Event>> {
        let table = &self.tables.outbox;
        let items = self
            .query_all(
                Query {
                    operation: "PendingEvents",
                    table,
                    index: Some(schema::OUTBOX_PENDING),
                    key_condition: "#s = :shard AND #k < :upto",
                    filter: None,
                    values: HashMap::from([
                        (":shard".to_string(), s(schema::PENDING_SHARD)),
                        (":upto".to_string(), s(vocabulary::up_to(created_before))),
                    ]),
                    names: names(&[("#s", "pending_shard"), ("#k", "created_key")]),
                    forward: true,
                    start: None,
                },
                limit,
                &|_| true,
            )
            .await?;
        items.iter().map(|item| read_doc(table, item)).collect()
    }

    async fn mark_published(&self, ids: &[String]) -> Sql<()> {
        let keys = ids.iter().map(|id| HashMap::from([("id".to_string(), s(id))])).collect();
        self.delete_batch("MarkPublished", &self.tables.outbox, keys).await
    }
}
