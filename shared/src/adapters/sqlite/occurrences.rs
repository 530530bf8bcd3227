//! Post occurrences; the scheduled ones carry the due key of the publishing index.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Sql, SqliteStore, from_doc, sql_err, to_doc};
use crate::adapters::vocabulary;
use crate::domain::{Event, Occurrence, OccurrenceState};
use crate::error::StoreError;
use crate::ports::{Inserted, OccurrenceStore};

fn occurrence_row(o: &Occurrence) -> Sql<(String, String, &'static str, Option<String>, String)> {
    let due = (o.state == OccurrenceState::Scheduled).then(|| vocabulary::occurrence_due_key(o));
    Ok((o.post_id.clone(), o.id.clone(), o.state.as_str(), due, to_doc("occurrences", &o.id, o)?))
}

#[async_trait]
impl OccurrenceStore for SqliteStore {
    async fn put_occurrence(&self, occurrence: &Occurrence) -> Sql<Inserted> {
        let row = occurrence_row(occurrence)?;
        let outcome = self
            .write(&[], move |tx, _| {
                let n = tx
                    .execute(
                        "INSERT INTO occurrences (post_id, id, state, due_key, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT(post_id, id) DO NOTHING",
                        params![row.0, row.1, row.2, row.3, row.4],
                    )
                    .map_err(sql_err("PutOccurrence", "occurrences", Some(&row.1)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        Ok(if outcome.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn get_occurrence(&self, post_id: &str, id: &str) -> Sql<Option<Occurrence>> {
        let (post_id, id) = (post_id.to_string(), id.to_string());
        self.read(move |conn, _| {
            let doc: Option<String> = conn
                .query_row("SELECT doc FROM occurrences WHERE post_id = ?1 AND id = ?2", params![post_id, id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sql_err("GetOccurrence", "occurrences", Some(&id)))?;
            doc.map(|d| from_doc("occurrences", &id, &d)).transpose()
        })
        .await
    }

    async fn due_occurrences(&self, now: DateTime<Utc>, limit: usize) -> Sql<Vec<Occurrence>> {
        self.read(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT id, doc FROM occurrences WHERE due_key IS NOT NULL AND due_key < ?1 ORDER BY due_key LIMIT ?2")
                .map_err(sql_err("DueOccurrences", "occurrences", None))?;
            let rows = stmt
                .query_map(params![vocabulary::up_to(now), limit as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("DueOccurrences", "occurrences", None))?;
            rows.iter().map(|(id, doc)| from_doc("occurrences", id, doc)).collect()
        })
        .await
    }

    async fn move_occurrence(&self, moved: &Occurrence, from: OccurrenceState, events: &[Event]) -> Sql<()> {
        let row = occurrence_row(moved)?;
        let changed = self
            .write(events, move |tx, _| {
                let n = tx
                    .execute(
                        "UPDATE occurrences SET state = ?3, due_key = ?4, doc = ?5 WHERE post_id = ?1 AND id = ?2 AND state = ?6",
                        params![row.0, row.1, row.2, row.3, row.4, from.as_str()],
                    )
                    .map_err(sql_err("MoveOccurrence", "occurrences", Some(&row.1)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        changed.ok_or_else(|| {
            StoreError::conflict(
                "MoveOccurrence",
                "occurrences",
                &moved.id,
                format!("occurrence is missing or no longer {from}"),
            )
        })
    }
}
