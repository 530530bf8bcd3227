//! Produced reports by period and first day.

use async_trait::async_trait;
use chrono::NaiveDate;
use rusqlite::params;

use rusqlite::OptionalExtension;

use super::{Sql, SqliteStore, from_doc, sql_err, to_doc};
use crate::adapters::vocabulary::{report_key, report_key_upto};
use crate::domain::{ReportMeta, ReportPeriod};
use crate::ports::ReportStore;

#[async_trait]
impl ReportStore for SqliteStore {
    async fn put_report(&self, report: &ReportMeta) -> Sql<()> {
        let doc = to_doc("reports", &report.id, report)?;
        let (period, start) = (report.period.as_str(), report_key(report.from, report.to));
        self.write(&[], move |tx, _| {
            tx.execute(
                "INSERT INTO reports (period, start_key, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT(period, start_key) DO UPDATE SET doc = excluded.doc",
                params![period, start, doc],
            )
            .map_err(sql_err("PutReport", "reports", Some(&start)))?;
            Ok(Some(()))
        })
        .await
        .map(|_| ())
    }

    async fn get_report(&self, period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> Sql<Option<ReportMeta>> {
        let key = report_key(from, to);
        self.read(move |conn, _| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM reports WHERE period = ?1 AND start_key = ?2",
                    params![period.as_str(), key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql_err("GetReport", "reports", Some(&key)))?;
            doc.map(|d| from_doc("reports", &key, &d)).transpose()
        })
        .await
    }

    async fn list_reports(&self, period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> Sql<Vec<ReportMeta>> {
        self.read(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT start_key, doc FROM reports WHERE period = ?1 AND start_key BETWEEN ?2 AND ?3 ORDER BY start_key")
                .map_err(sql_err("ListReports", "reports", None))?;
            let rows = stmt
                .query_map(params![period.as_str(), from.to_string(), report_key_upto(to)], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("ListReports", "reports", None))?;
            rows.iter().map(|(start, doc)| from_doc("reports", start, doc)).collect()
        })
        .await
    }
}
