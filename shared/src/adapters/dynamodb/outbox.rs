//! The transactional outbox. An event is deleted as soon as the bus took it, so the table is
//! nearly always empty: the sweep finds what is left with a (consistent) Scan rather than an
//! index every stored and deleted event would also have to be written to.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{DynamoStore, Sql, read_doc, s, sdk_err, string_attr};
use crate::adapters::vocabulary;
use crate::domain::Event;
use crate::ports::Outbox;

#[async_trait]
impl Outbox for DynamoStore {
    /// Events stored before `created_before`, oldest first among those found: up to `limit` of
    /// them, scanning the table page by page until that many are found or it ends. With more
    /// than `limit` pending, which ones come first is the scan's order, not their age.
    async fn pending_events(&self, created_before: DateTime<Utc>, limit: usize) -> Sql<Vec<Event>> {
        let table = &self.tables.outbox;
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .filter_expression("#k < :upto")
                .expression_attribute_names("#k", "created_key")
                .expression_attribute_values(":upto", s(vocabulary::up_to(created_before)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err("PendingEvents", table, None))?;
            found.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if found.len() >= limit || start.is_none() {
                break;
            }
        }
        found.sort_by_cached_key(|item| string_attr(item, "created_key"));
        found.truncate(limit);
        found.iter().map(|item| read_doc(table, item)).collect()
    }

    async fn mark_published(&self, ids: &[String]) -> Sql<()> {
        let keys = ids.iter().map(|id| HashMap::from([("id".to_string(), s(id))])).collect();
        self.delete_batch("MarkPublished", &self.tables.outbox, keys).await
    }
}
