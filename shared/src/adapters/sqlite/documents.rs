//! The keyed-document table under the named stores (SQLite table `config`): documents by kind
//! and id, optionally expiring (`expires_at`, epoch seconds; expired rows read as absent and
//! are purged on each `watch` run).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::{Sql, SqliteStore, from_doc, sql_err};
use crate::adapters::vocabulary::page_of;
use crate::domain::Event;
use crate::error::StoreError;
use crate::ports::{Document, DocumentStore, Page, Position};

impl SqliteStore {
    /// Deletes documents past their expiry; returns how many went.
    pub async fn purge_expired_documents(&self) -> Sql<usize> {
        let purged = self
            .write(&[], |tx, now| {
                let n = tx
                    .execute("DELETE FROM config WHERE expires_at <= ?1", params![now.timestamp()])
                    .map_err(sql_err("PurgeDocuments", "config", None))?;
                Ok(Some(n))
            })
            .await?;
        Ok(purged.unwrap_or(0))
    }
}

#[async_trait]
impl DocumentStore for SqliteStore {
    async fn get_doc(&self, kind: &str, id: &str) -> Sql<Option<Value>> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.read(move |conn, now| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM config WHERE kind = ?1 AND id = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
                    params![kind, id, now.timestamp()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err("GetDocument", "config", Some(&id)))?;
            doc.map(|d| from_doc("config", &id, &d)).transpose()
        })
        .await
    }

    async fn put_doc(&self, kind: &str, id: &str, value: &Value, expires_at: Option<DateTime<Utc>>) -> Sql<()> {
        let (kind, id, doc) = (kind.to_string(), id.to_string(), value.to_string());
        let expires = expires_at.map(|t| t.timestamp());
        self.write(&[], move |tx, _| {
            tx.execute(
                "INSERT INTO config (kind, id, doc, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc, expires_at = excluded.expires_at",
                params![kind, id, doc, expires],
            )
            .map_err(sql_err("PutDocument", "config", Some(&id)))?;
            Ok(Some(()))
        })
        .await
        .map(|_| ())
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
        let (kind, id, doc, old) =
            (kind.to_string(), id.to_string(), value.to_string(), expected.map(Value::to_string));
        let expires = expires_at.map(|t| t.timestamp());
        let display = format!("{kind}/{id}");
        let swapped = self
            .write(events, move |tx, now| {
                let now = now.timestamp();
                let n = match &old {
                    // Absent, or present but expired (which reads as absent).
                    None => tx.execute(
                        "INSERT INTO config (kind, id, doc, expires_at) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc, expires_at = excluded.expires_at
                         WHERE config.expires_at IS NOT NULL AND config.expires_at <= ?5",
                        params![kind, id, doc, expires, now],
                    ),
                    Some(old) => tx.execute(
                        "UPDATE config SET doc = ?3, expires_at = ?4 WHERE kind = ?1 AND id = ?2 AND doc = ?6
                         AND (expires_at IS NULL OR expires_at > ?5)",
                        params![kind, id, doc, expires, now, old],
                    ),
                }
                .map_err(sql_err("SwapDocument", "config", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        swapped
            .ok_or_else(|| StoreError::conflict("SwapDocument", "config", &display, "the document changed meanwhile"))
    }

    async fn delete_doc(&self, kind: &str, id: &str) -> Sql<()> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.write(&[], move |tx, _| {
            tx.execute("DELETE FROM config WHERE kind = ?1 AND id = ?2", params![kind, id]).map_err(sql_err(
                "DeleteDocument",
                "config",
                Some(&id),
            ))?;
            Ok(Some(()))
        })
        .await
        .map(|_| ())
    }

    async fn list_docs(&self, kind: &str, prefix: &str, limit: usize, after: Option<&Position>) -> Sql<Page<Document>> {
        let (kind, prefix) = (kind.to_string(), prefix.to_string());
        // Ids above the cursor (or from the prefix itself) that still start with the prefix.
        let after = after.map(|p| p.0.clone());
        self.read(move |conn, now| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, doc FROM config WHERE kind = ?1 AND id >= ?2 AND substr(id, 1, length(?2)) = ?2
                     AND (?3 IS NULL OR id > ?3) AND (expires_at IS NULL OR expires_at > ?4) ORDER BY id LIMIT ?5",
                )
                .map_err(sql_err("ListDocuments", "config", None))?;
            let rows = stmt
                .query_map(params![kind, prefix, after, now.timestamp(), (limit + 1) as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("ListDocuments", "config", None))?;
            let docs = rows
                .into_iter()
                .map(|(id, doc)| Ok((Document { value: from_doc("config", &id, &doc)?, id: id.clone() }, id)))
                .collect::<Sql<Vec<_>>>()?;
            Ok(page_of(docs, limit))
        })
        .await
    }
}
