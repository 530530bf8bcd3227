//! Post occurrences; scheduled ones carry the sparse `due` index.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{ABSENT, DynamoStore, Item, Query, Sql, attribute_is, doc_attr, inserted, names, read_doc, s, schema};
use crate::adapters::vocabulary;
use crate::domain::{Event, Occurrence, OccurrenceState};
use crate::error::StoreError;
use crate::ports::{Inserted, OccurrenceStore};

impl DynamoStore {
    fn occurrence_item(&self, occurrence: &Occurrence) -> Sql<Item> {
        let mut item = HashMap::from([
            ("pk".to_string(), s(format!("POST#{}", occurrence.post_id))),
            ("sk".to_string(), s(format!("OCC#{}", occurrence.id))),
            ("state".to_string(), s(occurrence.state.as_str())),
            ("doc".to_string(), doc_attr(&self.tables.posts, &occurrence.id, occurrence)?),
        ]);
        if occurrence.state == OccurrenceState::Scheduled {
            item.insert("due_shard".into(), s(schema::DUE_SHARD));
            item.insert("due_key".into(), s(vocabulary::occurrence_due_key(occurrence)));
        }
        Ok(item)
    }
}

#[async_trait]
impl OccurrenceStore for DynamoStore {
    async fn put_occurrence(&self, occurrence: &Occurrence) -> Sql<Inserted> {
        let item = self.occurrence_item(occurrence)?;
        let written =
            self.put_with_events("PutOccurrence", &self.tables.posts, &occurrence.id, item, ABSENT, &[], &[]).await?;
        Ok(inserted(written))
    }

    async fn get_occurrence(&self, post_id: &str, id: &str) -> Sql<Option<Occurrence>> {
        let table = &self.tables.posts;
        let key = HashMap::from([("pk".into(), s(format!("POST#{post_id}"))), ("sk".into(), s(format!("OCC#{id}")))]);
        let item = self.get_item("GetOccurrence", table, key, id).await?;
        item.map(|item| read_doc(table, &item)).transpose()
    }

    async fn due_occurrences(&self, now: DateTime<Utc>, limit: usize) -> Sql<Vec<Occurrence>> {
        let table = &self.tables.posts;
        let items = self
            .query_all(
                Query {
                    operation: "DueOccurrences",
                    table,
                    index: Some(schema::POSTS_DUE),
                    key_condition: "#s = :shard AND #k < :upto",
                    filter: None,
                    values: HashMap::from([
                        (":shard".to_string(), s(schema::DUE_SHARD)),
                        (":upto".to_string(), s(vocabulary::up_to(now))),
                    ]),
                    names: names(&[("#s", "due_shard"), ("#k", "due_key")]),
                    forward: true,
                    start: None,
                },
                limit,
                &|_| true,
            )
            .await?;
        items.iter().map(|item| read_doc(table, item)).collect()
    }

    async fn move_occurrence(&self, moved: &Occurrence, from: OccurrenceState, events: &[Event]) -> Sql<()> {
        let item = self.occurrence_item(moved)?;
        let condition = attribute_is("state", from.as_str());
        let table = &self.tables.posts;
        if self.put_with_events("MoveOccurrence", table, &moved.id, item, condition, &[], events).await? {
            Ok(())
        } else {
            Err(StoreError::conflict(
                "MoveOccurrence",
                table,
                &moved.id,
                format!("occurrence is missing or no longer {from}"),
            ))
        }
    }
}
