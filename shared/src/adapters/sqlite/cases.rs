//! Cases: the document with the status, the mention's sort key (the `case_status` listing)
//! and, while open, the due key of the inbox.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::{Sql, SqliteStore, from_doc, sql_err, to_doc};
use crate::adapters::vocabulary::{self, page_of};
use chrono::{DateTime, Utc};

use crate::domain::{Case, CaseStatus, Event};
use crate::error::StoreError;
use crate::ports::{CaseStore, Inserted, Page, Position};

#[async_trait]
impl CaseStore for SqliteStore {
    async fn create_case(&self, case: &Case, events: &[Event]) -> Sql<Inserted> {
        let doc = to_doc("cases", &case.id, case)?;
        let (id, status, due, revision) = (case.id.clone(), case.status.as_str(), open_due_key(case), case.revision);
        let ts_key = vocabulary::case_ts_key(case);
        let outcome = self
            .write(events, move |tx, _| {
                let n = tx
                    .execute(
                        "INSERT INTO cases (id, status, due_key, doc, revision, ts_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO NOTHING",
                        params![id, status, due, doc, revision, ts_key],
                    )
                    .map_err(sql_err("CreateCase", "cases", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        Ok(if outcome.is_some() { Inserted::New } else { Inserted::Duplicate })
    }

    async fn get_case(&self, id: &str) -> Sql<Option<Case>> {
        Ok(self.get_cases(&[id.to_string()]).await?.pop())
    }

    async fn get_cases(&self, ids: &[String]) -> Sql<Vec<Case>> {
        let ids = ids.to_vec();
        self.read(move |conn, _| {
            let mut stmt = conn
                .prepare_cached("SELECT doc FROM cases WHERE id = ?1")
                .map_err(sql_err("GetCases", "cases", None))?;
            let mut found = Vec::new();
            for id in &ids {
                let doc: Option<String> = stmt.query_row(params![id], |r| r.get(0)).optional().map_err(sql_err(
                    "GetCase",
                    "cases",
                    Some(id),
                ))?;
                if let Some(doc) = doc {
                    found.push(from_doc("cases", id, &doc)?);
                }
            }
            Ok(found)
        })
        .await
    }

    async fn update_case(&self, case: &Case, expected_revision: u32, events: &[Event]) -> Sql<()> {
        let doc = to_doc("cases", &case.id, case)?;
        let (id, status, due, revision) = (case.id.clone(), case.status.as_str(), open_due_key(case), case.revision);
        let changed = self
            .write(events, move |tx, _| {
                let n = tx
                    .execute(
                        "UPDATE cases SET status = ?2, due_key = ?3, doc = ?4, revision = ?5 WHERE id = ?1 AND revision = ?6",
                        params![id, status, due, doc, revision, expected_revision],
                    )
                    .map_err(sql_err("UpdateCase", "cases", Some(&id)))?;
                Ok((n == 1).then_some(()))
            })
            .await?;
        changed.ok_or_else(|| StoreError::stale("UpdateCase", "cases", &case.id, expected_revision))
    }

    async fn delete_case(&self, id: &str) -> Sql<()> {
        let id = id.to_string();
        self.write(&[], move |tx, _| {
            tx.execute("DELETE FROM cases WHERE id = ?1", params![id]).map_err(sql_err(
                "DeleteCase",
                "cases",
                Some(&id),
            ))?;
            Ok(Some(()))
        })
        .await?;
        Ok(())
    }

    async fn cases_by_status(
        &self,
        status: CaseStatus,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        after: Option<&Position>,
    ) -> Sql<Page<Case>> {
        self.cases_in_status(status, from, to, limit, after).await
    }

    async fn open_cases(&self, limit: usize, after: Option<&Position>) -> Sql<Page<Case>> {
        let after = after.map(|p| p.0.clone()).unwrap_or_default();
        self.read(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT id, due_key, doc FROM cases WHERE due_key IS NOT NULL AND due_key > ?1 ORDER BY due_key LIMIT ?2")
                .map_err(sql_err("OpenCases", "cases", None))?;
            let rows = stmt
                .query_map(params![after, (limit + 1) as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect::<Result<Vec<(String, String, String)>, _>>())
                .map_err(sql_err("OpenCases", "cases", None))?;
            let items = rows
                .into_iter()
                .map(|(id, due, doc)| Ok((from_doc::<Case>("cases", &id, &doc)?, due)))
                .collect::<Sql<Vec<_>>>()?;
            Ok(page_of(items, limit))
        })
        .await
    }
}

impl SqliteStore {
    pub(super) async fn cases_in_status(
        &self,
        status: CaseStatus,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        after: Option<&Position>,
    ) -> Sql<Page<Case>> {
        vocabulary::check_range(from, to)?;
        let (low, high) = vocabulary::ts_bounds(from, to);
        let low = after.map_or(low, |p| p.0.clone());
        let strict = after.is_some();
        self.read(move |conn, _| {
            let sql = if strict {
                "SELECT id, ts_key, doc FROM cases WHERE status = ?1 AND ts_key > ?2 AND ts_key < ?3 ORDER BY ts_key LIMIT ?4"
            } else {
                "SELECT id, ts_key, doc FROM cases WHERE status = ?1 AND ts_key >= ?2 AND ts_key < ?3 ORDER BY ts_key LIMIT ?4"
            };
            let mut stmt = conn.prepare_cached(sql).map_err(sql_err("CasesByStatus", "cases", None))?;
            let rows = stmt
                .query_map(params![status.as_str(), low, high, (limit + 1) as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<(String, String, String)>, _>>())
                .map_err(sql_err("CasesByStatus", "cases", None))?;
            let items = rows
                .into_iter()
                .map(|(id, key, doc)| Ok((from_doc::<Case>("cases", &id, &doc)?, key)))
                .collect::<Sql<Vec<_>>>()?;
            Ok(page_of(items, limit))
        })
        .await
    }
}

/// The inbox sort key of an open case; closed cases leave the inbox.
fn open_due_key(case: &Case) -> Option<String> {
    case.status.is_open().then(|| vocabulary::case_due_key(case))
}
