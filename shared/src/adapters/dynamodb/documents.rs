//! The keyed-document table under the named stores (the config table: `kind`, `id`), with the
//! TTL attribute `expires_at` (expired items read as absent until DynamoDB deletes them).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Condition, DynamoStore, Item, Query, Sql, is_expired, names, read_doc, s, sdk_err, string_attr};
use crate::adapters::vocabulary::page_of;
use crate::domain::Event;
use crate::error::StoreError;
use crate::ports::{Document, DocumentStore, Page, Position};

fn doc_item(kind: &str, id: &str, value: &Value, expires_at: Option<DateTime<Utc>>) -> Item {
    let mut item = HashMap::from([
        ("kind".to_string(), s(kind)),
        ("id".to_string(), s(id)),
        ("doc".to_string(), s(value.to_string())),
    ]);
    if let Some(at) = expires_at {
        item.insert("expires_at".into(), AttributeValue::N(at.timestamp().to_string()));
    }
    item
}

#[async_trait]
impl DocumentStore for DynamoStore {
    async fn get_doc(&self, kind: &str, id: &str) -> Sql<Option<Value>> {
        let table = &self.tables.config;
        let key = HashMap::from([("kind".into(), s(kind)), ("id".into(), s(id))]);
        match self.get_item("GetDocument", table, key, id).await? {
            Some(item) if !is_expired(&item, self.clock.now()) => read_doc(table, &item).map(Some),
            _ => Ok(None),
        }
    }

    async fn put_doc(&self, kind: &str, id: &str, value: &Value, expires_at: Option<DateTime<Utc>>) -> Sql<()> {
        let table = &self.tables.config;
        let item = doc_item(kind, id, value, expires_at);
        self.client.put_item().table_name(table).set_item(Some(item)).send().await.map_err(sdk_err(
            "PutDocument",
            table,
            Some(id),
        ))?;
        Ok(())
    }

    async fn swap_doc(
        &self,
        kind: &str,
        id: &str,
        expected: Option<&Value>,
        value: &Value,
        expires_at: Option<DateTime<Utc>>,
        events: &[Event],
    ) -> Sql<()> {
        let table = &self.tables.config;
        let item = doc_item(kind, id, value, expires_at);
        let now = self.clock.now().timestamp();
        let condition = match expected {
            None => Condition::AbsentOrExpired("kind", now),
            Some(old) => Condition::EqualsAlive("doc", old.to_string(), now),
        };
        let display = format!("{kind}/{id}");
        if self.put_with_events("SwapDocument", table, &display, item, condition, &[], events).await? {
            Ok(())
        } else {
            Err(StoreError::conflict("SwapDocument", table, &display, "the document changed meanwhile"))
        }
    }

    async fn delete_doc(&self, kind: &str, id: &str) -> Sql<()> {
        let table = &self.tables.config;
        self.client
            .delete_item()
            .table_name(table)
            .key("kind", s(kind))
            .key("id", s(id))
            .send()
            .await
            .map_err(sdk_err("DeleteDocument", table, Some(id)))?;
        Ok(())
    }

    async fn list_docs(&self, kind: &str, prefix: &str, limit: usize, after: Option<&Position>) -> Sql<Page<Document>> {
        let table = &self.tables.config;
        let now = self.clock.now();
        let mut values = HashMap::from([(":k".to_string(), s(kind))]);
        let mut aliases = names(&[("#kind", "kind")]);
        // DynamoDB refuses an empty string in a key condition: no prefix, no begins_with.
        let key_condition = if prefix.is_empty() {
            "#kind = :k"
        } else {
            values.insert(":p".into(), s(prefix));
            aliases.insert("#id".into(), "id".into());
            "#kind = :k AND begins_with(#id, :p)"
        };
        // The cursor is the last id read: the query resumes after that key.
        let start = after.map(|p| HashMap::from([("kind".to_string(), s(kind)), ("id".to_string(), s(&p.0))]));
        let keep = move |item: &Item| !is_expired(item, now);
        let items = self
            .query_all(
                Query {
                    operation: "ListDocuments",
                    table,
                    index: None,
                    key_condition,
                    filter: None,
                    values,
                    names: aliases,
                    forward: true,
                    start,
                },
                limit + 1,
                &keep,
            )
            .await?;
        let docs = items
            .iter()
            .map(|item| {
                let id = string_attr(item, "id");
                Ok((Document { id: id.clone(), value: read_doc(table, item)? }, id))
            })
            .collect::<Sql<Vec<_>>>()?;
        Ok(page_of(docs, limit))
    }
}
