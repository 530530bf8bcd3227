//! The transactional outbox: events written with the changes they announce.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Sql, SqliteStore, from_doc, sql_err};
use crate::adapters::vocabulary;
use crate::domain::Event;
use crate::ports::Outbox;

#[async_trait]
impl Outbox for SqliteStore {
    async fn pending_events(&self, created_before: DateTime<Utc>, limit: usize) -> Sql<Vec<Event>> {
        self.read(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT id, doc FROM outbox WHERE created_key < ?1 ORDER BY created_key LIMIT ?2")
                .map_err(sql_err("PendingEvents", "outbox", None))?;
            let rows = stmt
                .query_map(params![vocabulary::up_to(created_before), limit as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("PendingEvents", "outbox", None))?;
            rows.iter().map(|(id, doc)| from_doc("outbox", id, doc)).collect()
        })
        .await
    }

    async fn mark_published(&self, ids: &[String]) -> Sql<()> {
        let ids = ids.to_vec();
        self.write(&[], move |tx, _| {
            let mut stmt =
                tx.prepare("DELETE FROM outbox WHERE id = ?1").map_err(sql_err("MarkPublished", "outbox", None))?;
            for id in &ids {
                stmt.execute(params![id]).map_err(sql_err("MarkPublished", "outbox", Some(id)))?;
            }
            Ok(Some(()))
        })
        .await
        .map(|_| ())
    }
}
