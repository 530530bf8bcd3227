//! Produced reports by period and first day.

use async_trait::async_trait;
use chrono::NaiveDate;
use rusqlite::params;

use super::{Sql, SqliteStore, from_doc, sql_err, to_doc};
use crate::domain::{ReportMeta, ReportPeriod};
use crate::ports::ReportStore;

#[async_trait]
impl ReportStore for SqliteStore {
    async fn put_report(&self, report: &ReportMeta) -> Sql<()> {
        let doc = to_doc("reports", &report.id, report)?;
        let (period, start) = (report.period.as_str(), report.from.to_string());
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

    async fn list_reports(&self, period: ReportPeriod, from: NaiveDate, to: NaiveDate) -> Sql<Vec<ReportMeta>> {
        self.read(move |conn, _| {
            let mut stmt = conn
                .prepare("SELECT start_key, doc FROM reports WHERE period = ?1 AND start_key BETWEEN ?2 AND ?3 ORDER BY start_key")
                .map_err(sql_err("ListReports", "reports", None))?;
            let rows = stmt
                .query_map(params![period.as_str(), from.to_string(), to.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err("ListReports", "reports", None))?;
            rows.iter().map(|(start, doc)| from_doc("reports", start, doc)).collect()
        })
        .await
    }
}
