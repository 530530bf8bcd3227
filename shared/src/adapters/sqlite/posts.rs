//! Posts, series and occurrences: each a document with the keys of its indexes as columns (the
//! publisher's sparse due index, the calendar, a series' slots).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::de::DeserializeOwned;

use super::{Sql, SqliteStore, from_doc, sql_err, to_doc};
use crate::adapters::vocabulary::{self, page_of};
use crate::domain::{Event, Occurrence, Post, Series, SeriesStatus};
use crate::error::StoreError;
use crate::ports::{Inserted, OccurrenceStore, Page, Position, PostStore};

/// Runs a listing of `(id, sort key, doc)` rows and pages it.
fn page_rows<T: DeserializeOwned>(
    conn: &rusqlite::Connection,
    table: &'static str,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
    limit: usize,
) -> Sql<Page<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_err("List", table, None))?;
    let rows = stmt
        .query_map(args, |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(sql_err("List", table, None))?;
    let items =
        rows.into_iter().map(|(id, sort, doc)| Ok((from_doc(table, &id, &doc)?, sort))).collect::<Sql<Vec<_>>>()?;
    Ok(page_of(items, limit))
}

fn get_doc<T: DeserializeOwned>(conn: &rusqlite::Connection, table: &'static str, id: &str) -> Sql<Option<T>> {
    let doc: Option<String> = conn
        .query_row(&format!("SELECT doc FROM {table} WHERE id = ?1"), params![id], |r| r.get(0))
        .optional()
        .map_err(sql_err("Get", table, Some(id)))?;
    doc.map(|d| from_doc(table, id, &d)).transpose()
}

#[async_trait]
impl PostStore for SqliteStore {
    async fn create_post(&self, post: &Post) -> Sql<Inserted> {
        let (id, key, doc, revision) = (
            post.id.clone(),
            vocabulary::created_key(post.created_at, &post.id),
            to_doc("posts", &post.id, post)?,
            post.revision,
        );
        let done = self
            .write(&[], move |tx, _| {
                let n = tx
                    .execute(
                        "INSERT INTO posts (id, created_key, revision, doc) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(id) DO NOTHING",
                        params![id, key, revision, doc],
                    )
                    .map_err(sql_err("CreatePost", "posts", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        Ok(if done.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn get_post(&self, id: &str) -> Sql<Option<Post>> {
        let id = id.to_string();
        self.read(move |conn, _| get_doc(conn, "posts", &id)).await
    }

    async fn update_post(&self, post: &Post, expected_revision: u32) -> Sql<()> {
        let (id, doc, revision) = (post.id.clone(), to_doc("posts", &post.id, post)?, post.revision);
        let done = self
            .write(&[], move |tx, _| {
                let n = tx
                    .execute(
                        "UPDATE posts SET doc = ?2, revision = ?3 WHERE id = ?1 AND revision = ?4",
                        params![id, doc, revision, expected_revision],
                    )
                    .map_err(sql_err("UpdatePost", "posts", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        done.ok_or_else(|| StoreError::stale("UpdatePost", "posts", &post.id, expected_revision))
    }

    async fn list_posts(&self, limit: usize, after: Option<&Position>) -> Sql<Page<Post>> {
        let before = after.map_or_else(|| "~".to_string(), |p| p.0.clone());
        self.read(move |conn, _| {
            page_rows(
                conn,
                "posts",
                "SELECT id, created_key, doc FROM posts WHERE created_key < ?1 ORDER BY created_key DESC LIMIT ?2",
                &[&before, &((limit + 1) as i64)],
                limit,
            )
        })
        .await
    }

    async fn create_series(&self, series: &Series) -> Sql<Inserted> {
        let id = series.id.clone();
        let key = vocabulary::created_key(series.created_at, &series.id);
        let (doc, revision, active) =
            (to_doc("series", &series.id, series)?, series.revision, series.status == SeriesStatus::Active);
        let done = self
            .write(&[], move |tx, _| {
                let n = tx
                    .execute(
                        "INSERT INTO series (id, active, created_key, revision, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT(id) DO NOTHING",
                        params![id, active, key, revision, doc],
                    )
                    .map_err(sql_err("CreateSeries", "series", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        Ok(if done.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn get_series(&self, id: &str) -> Sql<Option<Series>> {
        let id = id.to_string();
        self.read(move |conn, _| get_doc(conn, "series", &id)).await
    }

    async fn update_series(&self, series: &Series, expected_revision: u32) -> Sql<()> {
        let (id, doc, revision, active) = (
            series.id.clone(),
            to_doc("series", &series.id, series)?,
            series.revision,
            series.status == SeriesStatus::Active,
        );
        let done = self
            .write(&[], move |tx, _| {
                let n = tx
                    .execute(
                        "UPDATE series SET doc = ?2, revision = ?3, active = ?4 WHERE id = ?1 AND revision = ?5",
                        params![id, doc, revision, active, expected_revision],
                    )
                    .map_err(sql_err("UpdateSeries", "series", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        done.ok_or_else(|| StoreError::stale("UpdateSeries", "series", &series.id, expected_revision))
    }

    async fn active_series(&self, limit: usize, after: Option<&Position>) -> Sql<Page<Series>> {
        let after = after.map(|p| p.0.clone()).unwrap_or_default();
        self.read(move |conn, _| {
            page_rows(
                conn,
                "series",
                "SELECT id, created_key, doc FROM series WHERE active = 1 AND created_key > ?1 ORDER BY created_key LIMIT ?2",
                &[&after, &((limit + 1) as i64)],
                limit,
            )
        })
        .await
    }
}

/// An occurrence's columns: its document and the keys of its three indexes.
struct OccurrenceRow {
    id: String,
    due_key: Option<String>,
    cal_key: String,
    series_id: Option<String>,
    slot_key: String,
    revision: u32,
    doc: String,
}

impl OccurrenceRow {
    fn of(o: &Occurrence) -> Sql<OccurrenceRow> {
        Ok(OccurrenceRow {
            id: o.id.clone(),
            due_key: vocabulary::occurrence_due_key(o),
            cal_key: vocabulary::occurrence_cal_key(o),
            series_id: o.series_id.clone(),
            slot_key: vocabulary::occurrence_slot_key(o),
            revision: o.revision,
            doc: to_doc("occurrences", &o.id, o)?,
        })
    }
}

#[async_trait]
impl OccurrenceStore for SqliteStore {
    async fn put_occurrence(&self, occurrence: &Occurrence) -> Sql<Inserted> {
        let row = OccurrenceRow::of(occurrence)?;
        vocabulary::check_transaction("PutOccurrence", &row.id, 1, &[], &[])?;
        let done = self
            .write(&[], move |tx, _| {
                let n = tx
                    .execute(
                        "INSERT INTO occurrences (id, due_key, cal_key, series_id, slot_key, revision, doc)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING",
                        params![row.id, row.due_key, row.cal_key, row.series_id, row.slot_key, row.revision, row.doc],
                    )
                    .map_err(sql_err("PutOccurrence", "occurrences", Some(&row.id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        Ok(if done.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn get_occurrence(&self, id: &str) -> Sql<Option<Occurrence>> {
        let id = id.to_string();
        self.read(move |conn, _| get_doc(conn, "occurrences", &id)).await
    }

    async fn update_occurrence(&self, occurrence: &Occurrence, expected_revision: u32, events: &[Event]) -> Sql<()> {
        let row = OccurrenceRow::of(occurrence)?;
        vocabulary::check_transaction("UpdateOccurrence", &row.id, 1, &[], events)?;
        let done = self
            .write(events, move |tx, _| {
                let n = tx
                    .execute(
                        "UPDATE occurrences SET due_key = ?2, cal_key = ?3, series_id = ?4, slot_key = ?5, revision = ?6, doc = ?7
                         WHERE id = ?1 AND revision = ?8",
                        params![
                            row.id,
                            row.due_key,
                            row.cal_key,
                            row.series_id,
                            row.slot_key,
                            row.revision,
                            row.doc,
                            expected_revision
                        ],
                    )
                    .map_err(sql_err("UpdateOccurrence", "occurrences", Some(&row.id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        done.ok_or_else(|| StoreError::stale("UpdateOccurrence", "occurrences", &occurrence.id, expected_revision))
    }

    async fn due_occurrences(&self, now: DateTime<Utc>, limit: usize) -> Sql<Vec<Occurrence>> {
        self.read(move |conn, _| {
            let page: Page<Occurrence> = page_rows(
                conn,
                "occurrences",
                "SELECT id, due_key, doc FROM occurrences WHERE due_key IS NOT NULL AND due_key < ?1 ORDER BY due_key LIMIT ?2",
                &[&vocabulary::up_to(now), &(limit as i64)],
                limit,
            )?;
            Ok(page.items)
        })
        .await
    }

    async fn occurrences_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        after: Option<&Position>,
    ) -> Sql<Page<Occurrence>> {
        vocabulary::check_range(from, to)?;
        let (lower, upper) = (vocabulary::bound(from), vocabulary::bound(to));
        let after = after.map(|p| p.0.clone()).unwrap_or_default();
        self.read(move |conn, _| {
            page_rows(
                conn,
                "occurrences",
                "SELECT id, cal_key, doc FROM occurrences WHERE cal_key >= ?1 AND cal_key > ?2 AND cal_key < ?3
                 ORDER BY cal_key LIMIT ?4",
                &[&lower, &after, &upper, &((limit + 1) as i64)],
                limit,
            )
        })
        .await
    }

    async fn occurrences_of_series(
        &self,
        series_id: &str,
        limit: usize,
        after: Option<&Position>,
    ) -> Sql<Page<Occurrence>> {
        let series_id = series_id.to_string();
        let after = after.map(|p| p.0.clone()).unwrap_or_default();
        self.read(move |conn, _| {
            page_rows(
                conn,
                "occurrences",
                "SELECT id, slot_key, doc FROM occurrences WHERE series_id = ?1 AND slot_key > ?2 ORDER BY slot_key LIMIT ?3",
                &[&series_id, &after, &((limit + 1) as i64)],
                limit,
            )
        })
        .await
    }
}
